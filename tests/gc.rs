//! Acceptance: units are garbage-collected like systemd 252 (service-contract.md §6.5), seen
//! through stock `systemctl --user` and `systemd-run --user`: queried not-found units and
//! finished template instances and transient units go away (nothing leaks), failed units stay
//! until `reset-failed` unless `CollectMode=inactive-or-failed`, units with a file stay listed.

mod common;

use common::*;

const ONESHOT: &str = "[Service]\nType=oneshot\nExecStart=/bin/true\n";

fn n_names(m: &UserManager) -> u32 {
    let out = m.expect(0, &["show", "-p", "NNames", "--value"]);
    out.stdout.trim().parse().unwrap_or_else(|_| {
        panic!("NNames is a number\n{}", out.dump());
    })
}

fn listed(m: &UserManager, unit: &str) -> bool {
    let out = m.expect(0, &["list-units", "--all"]);
    list_units_row(&out.stdout, unit).is_some()
}

#[test]
fn queried_unknown_units_do_not_leak() {
    let Some(m) = UserManager::start(&[("plain.service", ONESHOT)]) else {
        return;
    };
    let before = n_names(&m);
    m.expect(4, &["status", "nosuch-1.service"]);
    m.expect(0, &["show", "nosuch-2.service"]);
    m.expect(3, &["is-active", "nosuch-3.service"]);
    wait_for("not-found units collected", TIMEOUT, || {
        n_names(&m) == before
    });
    for n in ["nosuch-1.service", "nosuch-2.service", "nosuch-3.service"] {
        assert!(!listed(&m, n), "{n} no longer loaded");
    }
    // A unit with a file stays loaded (and listed) while inactive.
    assert!(listed(&m, "plain.service"));
}

#[test]
fn finished_instances_go_unit_files_stay() {
    let Some(m) = UserManager::start(&[("plain.service", ONESHOT), ("tmpl@.service", ONESHOT)])
    else {
        return;
    };
    m.expect(0, &["start", "plain.service", "tmpl@a.service"]);
    wait_for("finished instance collected", TIMEOUT, || {
        !listed(&m, "tmpl@a.service")
    });
    assert!(listed(&m, "plain.service"));
    // The instance is loaded again on demand, fresh.
    assert_eq!(m.show("tmpl@a.service", "LoadState"), "loaded");
    assert_eq!(m.show("tmpl@a.service", "ExecMainCode"), "0");
    assert_eq!(m.show("plain.service", "ExecMainCode"), "1");
}

#[test]
fn failed_transient_units_stay_until_reset_failed() {
    let Some(m) = UserManager::start_requiring(&[], &["systemd-run"]) else {
        return;
    };
    let run = |args: &[&str]| {
        let mut full = vec!["--user"];
        full.extend_from_slice(args);
        m.systemctl_runner().run_other("systemd-run", &full)
    };
    let out = run(&["--unit=boom", "/bin/false"]);
    m.check(out.code == 0, "systemd-run boom", &out);
    m.wait_prop("boom.service", "ActiveState", "boom fails", |v| {
        v == "failed"
    });
    // A later transient unit that succeeds is collected once its client is gone; by then the
    // first client's disconnect was handled too, and the failed unit is still there.
    let out = run(&["--unit=fine", "/bin/true"]);
    m.check(out.code == 0, "systemd-run fine", &out);
    m.wait_prop(
        "fine.service",
        "LoadState",
        "successful unit collected",
        |v| v == "not-found",
    );
    assert_eq!(m.show("boom.service", "LoadState"), "loaded");
    assert_eq!(m.show("boom.service", "Result"), "exit-code");
    let out = m.expect(0, &["list-units", "--failed"]);
    m.check(
        list_units_row(&out.stdout, "boom.service").is_some(),
        "failed unit listed",
        &out,
    );
    m.expect(0, &["reset-failed", "boom.service"]);
    m.wait_prop("boom.service", "LoadState", "reset unit collected", |v| {
        v == "not-found"
    });

    // CollectMode=inactive-or-failed (-G) collects a failed unit too.
    let out = run(&["-G", "--unit=boom2", "/bin/false"]);
    m.check(out.code == 0, "systemd-run -G", &out);
    m.wait_prop(
        "boom2.service",
        "LoadState",
        "failed -G unit collected",
        |v| v == "not-found",
    );
}
