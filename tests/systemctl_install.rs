//! Acceptance: the install verbs of the stock `systemctl --user` over D-Bus (the harness's
//! namespace has `/run/systemd/system`, so systemctl asks the manager): enable [--now],
//! disable, mask, unmask, is-enabled, list-unit-files, link, reenable. Symlinks land in
//! `~/.config/systemd/user` (HOME is per test); texts and exit codes are systemd 252's.

mod common;

use std::path::PathBuf;

use common::*;

const WANTED: &str = "\
[Unit]
Description=Installable sleeper

[Service]
ExecStart=/bin/sleep infinity

[Install]
WantedBy=default.target
Alias=napper.service
";

const STATIC: &str = "\
[Service]
ExecStart=/bin/true
";

fn config_dir(m: &UserManager) -> PathBuf {
    m.dir.home().join(".config/systemd/user")
}

#[test]
fn enable_disable_and_is_enabled() {
    let Some(m) = UserManager::start(&[("inst.service", WANTED), ("static.service", STATIC)])
    else {
        return;
    };
    let unit_file = m.dir.units().join("inst.service");
    let wants = config_dir(&m).join("default.target.wants/inst.service");
    let alias = config_dir(&m).join("napper.service");

    let out = m.expect(1, &["is-enabled", "inst.service"]);
    assert_eq!(out.stdout.trim(), "disabled", "{}", out.dump());
    let out = m.expect(0, &["is-enabled", "static.service"]);
    assert_eq!(out.stdout.trim(), "static", "{}", out.dump());
    let out = m.expect(1, &["is-enabled", "nosuch.service"]);
    m.check(
        out.stderr.contains(
            "Failed to get unit file state for nosuch.service: No such file or directory",
        ),
        "is-enabled of a missing file",
        &out,
    );

    let out = m.expect(0, &["enable", "inst.service"]);
    let created = format!(
        "Created symlink {} → {}.",
        wants.display(),
        unit_file.display()
    );
    m.check(
        out.all().contains(&created),
        "enable prints the symlink it created",
        &out,
    );
    assert_eq!(std::fs::read_link(&wants).unwrap(), unit_file);
    assert_eq!(std::fs::read_link(&alias).unwrap(), unit_file);
    let out = m.expect(0, &["is-enabled", "inst.service"]);
    assert_eq!(out.stdout.trim(), "enabled", "{}", out.dump());
    let out = m.expect(0, &["is-enabled", "napper.service"]);
    assert_eq!(out.stdout.trim(), "alias", "{}", out.dump());
    assert_eq!(m.show("inst.service", "UnitFileState"), "enabled");
    // The manager was reloaded by systemctl: default.target now wants the unit.
    let wants_list = m.show("default.target", "Wants");
    assert!(
        wants_list.split_whitespace().any(|w| w == "inst.service"),
        "default.target Wants={wants_list:?}"
    );

    let out = m.expect(0, &["disable", "inst.service"]);
    m.check(
        out.all()
            .contains(&format!("Removed \"{}\".", wants.display()))
            && out
                .all()
                .contains(&format!("Removed \"{}\".", alias.display())),
        "disable prints what it removed",
        &out,
    );
    assert!(std::fs::symlink_metadata(&wants).is_err());
    let out = m.expect(1, &["is-enabled", "inst.service"]);
    assert_eq!(out.stdout.trim(), "disabled", "{}", out.dump());

    // enable --now: symlinks and a running unit.
    m.expect(0, &["enable", "--now", "inst.service"]);
    assert_eq!(m.show("inst.service", "ActiveState"), "active");
    let pid = m.main_pid("inst.service");
    assert_ne!(pid, 0);
    m.expect(0, &["disable", "--now", "inst.service"]);
    m.wait_gone(pid, "disable --now");
    assert_eq!(m.show("inst.service", "ActiveState"), "inactive");

    // enable of a unit without [Install]: the long notice, exit 0.
    let out = m.expect(0, &["enable", "static.service"]);
    m.check(
        out.all().contains("no installation config"),
        "static enable explains itself",
        &out,
    );
    let out = m.expect(1, &["enable", "nosuch.service"]);
    m.check(
        out.stderr
            .contains("Failed to enable unit: Unit file nosuch.service does not exist."),
        "enable of a missing file",
        &out,
    );
}

#[test]
fn mask_unmask_and_list_unit_files() {
    let Some(m) = UserManager::start(&[("inst.service", WANTED), ("static.service", STATIC)])
    else {
        return;
    };
    let mask = config_dir(&m).join("static.service");
    let out = m.expect(0, &["mask", "static.service"]);
    m.check(
        out.all()
            .contains(&format!("Created symlink {} → /dev/null.", mask.display())),
        "mask prints the /dev/null symlink",
        &out,
    );
    let out = m.expect(1, &["is-enabled", "static.service"]);
    assert_eq!(out.stdout.trim(), "masked", "{}", out.dump());
    assert_eq!(m.show("static.service", "LoadState"), "masked");
    let out = m.expect(1, &["start", "static.service"]);
    m.check(
        out.stderr.contains("Unit static.service is masked."),
        "a masked unit cannot start",
        &out,
    );

    let out = m.expect(0, &["list-unit-files"]);
    let row = |name: &str| {
        out.stdout
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|c| c.first() == Some(&name))
            .map(|c| c[1].to_string())
    };
    assert_eq!(
        row("static.service").as_deref(),
        Some("masked"),
        "{}",
        out.dump()
    );
    assert_eq!(
        row("inst.service").as_deref(),
        Some("disabled"),
        "{}",
        out.dump()
    );
    m.check(
        out.stdout.contains("unit files listed."),
        "list-unit-files footer",
        &out,
    );
    let out = m.expect(0, &["list-unit-files", "--state=disabled", "inst*"]);
    m.check(
        out.stdout.contains("inst.service") && !out.stdout.contains("static.service"),
        "list-unit-files filters by state and pattern",
        &out,
    );
    // No match: exit 1 like systemd.
    m.expect(1, &["list-unit-files", "nomatch*"]);

    let out = m.expect(0, &["unmask", "static.service"]);
    m.check(
        out.all()
            .contains(&format!("Removed \"{}\".", mask.display())),
        "unmask prints the removed mask",
        &out,
    );
    assert_eq!(m.show("static.service", "LoadState"), "loaded");
    let out = m.expect(0, &["is-enabled", "static.service"]);
    assert_eq!(out.stdout.trim(), "static", "{}", out.dump());
}

#[test]
fn link_and_reenable() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    let outside = m.dir.path().join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    let file = outside.join("linked.service");
    std::fs::write(&file, WANTED).unwrap();
    let link = config_dir(&m).join("linked.service");
    let out = m.expect(0, &["link", file.to_str().unwrap()]);
    m.check(
        out.all().contains(&format!(
            "Created symlink {} → {}.",
            link.display(),
            file.display()
        )),
        "link creates the symlink",
        &out,
    );
    let out = m.expect(1, &["is-enabled", "linked.service"]);
    assert_eq!(out.stdout.trim(), "linked", "{}", out.dump());
    m.expect(0, &["enable", "linked.service"]);
    let out = m.expect(0, &["is-enabled", "linked.service"]);
    assert_eq!(out.stdout.trim(), "enabled", "{}", out.dump());
    // reenable by path: disable drops the link, enable links and enables again.
    let out = m.expect(0, &["reenable", file.to_str().unwrap()]);
    m.check(
        out.all().contains("Removed") && out.all().contains("Created symlink"),
        "reenable removes and recreates",
        &out,
    );
    m.expect(0, &["start", "linked.service"]);
    assert_eq!(m.show("linked.service", "ActiveState"), "active");
    m.main_pid("linked.service");
}
