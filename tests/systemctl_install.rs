//! Acceptance: the install verbs of the stock `systemctl --user` over D-Bus (the harness's
//! namespace has `/run/systemd/system`, so systemctl asks the manager): enable [--now],
//! disable, mask, unmask, is-enabled, list-unit-files, link, reenable. Symlinks land in
//! `~/.config/systemd/user` (HOME is per test); texts and exit codes are systemd 252's.

mod common;

use common::verbs::{self, VerbDriver};
use common::*;

/// A manager with inst.service (wanted by default.target) and static.service.
fn start() -> Option<UserManager> {
    verbs::user_manager(&[
        ("inst.service", verbs::installable("default.target")),
        ("static.service", verbs::STATIC.to_string()),
    ])
}

#[test]
fn enable_disable_and_is_enabled() {
    let Some(m) = start() else {
        return;
    };
    verbs::is_enabled_before_install(&m);
    verbs::enable_installable(&m);
    verbs::disable_installable(&m);
    let wants = m.install_dir().join("default.target.wants/inst.service");
    assert!(
        std::fs::symlink_metadata(&wants).is_err(),
        "{wants:?} is gone"
    );
    verbs::enable_disable_now(&m);
    verbs::enable_static_and_missing(&m);
}

#[test]
fn mask_unmask_and_list_unit_files() {
    let Some(m) = start() else {
        return;
    };
    verbs::mask_unmask_and_list_unit_files(&m);
}

#[test]
fn link_and_reenable() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    let outside = m.dir.path().join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    let file = outside.join("linked.service");
    std::fs::write(&file, verbs::installable("default.target")).unwrap();
    let link = m.install_dir().join("linked.service");
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
