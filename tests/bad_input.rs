//! Bad input over D-Bus and generic introspection clients (issue: systemd API fidelity):
//! invalid unit names, wrong signatures and unknown job ids get systemd's error names; nothing
//! crashes and nothing leaks (unit names and jobs counted before and after); `busctl tree`,
//! `busctl introspect` and `gdbus introspect` walk the object tree.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

fn expect_error(m: &UserManager, member: &str, args: &[&str], name: &str) {
    let (code, text) = m.manager_call(member, args);
    assert_ne!(code, 0, "{member} {args:?} must fail:\n{text}");
    assert!(
        text.contains(&format!("Error {name}")),
        "{member} {args:?}: expected {name}, got:\n{text}"
    );
}

fn counters(m: &UserManager) -> (String, String) {
    (m.show_manager("NNames"), m.show_manager("NJobs"))
}

#[test]
fn bad_input_gets_systemds_errors_and_leaks_nothing() {
    if skip_in_reference_mode("exact counters differ on a real systemd with its own units") {
        return;
    }
    let Some(m) =
        UserManager::start(&[("good.service", "[Service]\nExecStart=/bin/sleep infinity\n")])
    else {
        return;
    };
    let before = counters(&m);
    assert!(
        before.0.parse::<u32>().is_ok_and(|n| n > 0) && before.1.parse::<u32>().is_ok(),
        "NNames/NJobs are numbers: {before:?}"
    );
    let long = format!("string:{}.service", "a".repeat(300));
    for (name, _why) in [
        ("string:../x.service", "path characters"),
        ("string:", "empty"),
        (long.as_str(), "longer than 255"),
        ("string:nosuffix", "no type suffix"),
    ] {
        expect_error(
            &m,
            "StartUnit",
            &[name, "string:replace"],
            "org.freedesktop.DBus.Error.InvalidArgs",
        );
    }
    expect_error(
        &m,
        "StartUnit",
        &["string:good.service", "string:sideways"],
        "org.freedesktop.DBus.Error.InvalidArgs",
    );
    // Wrong signatures: a missing argument, a wrong type.
    expect_error(
        &m,
        "StartUnit",
        &["string:good.service"],
        "org.freedesktop.DBus.Error.InvalidArgs",
    );
    expect_error(
        &m,
        "GetJob",
        &["string:1"],
        "org.freedesktop.DBus.Error.InvalidArgs",
    );
    expect_error(
        &m,
        "GetUnit",
        &["string:nosuch.service"],
        "org.freedesktop.systemd1.NoSuchUnit",
    );
    expect_error(
        &m,
        "GetJob",
        &["uint32:4242"],
        "org.freedesktop.systemd1.NoSuchJob",
    );
    expect_error(
        &m,
        "CancelJob",
        &["uint32:4242"],
        "org.freedesktop.systemd1.NoSuchJob",
    );
    expect_error(
        &m,
        "NoSuchMethod",
        &[],
        "org.freedesktop.DBus.Error.UnknownMethod",
    );
    // Nothing leaked: the same names and jobs as before, and the daemon still works.
    assert_eq!(
        counters(&m),
        before,
        "NNames/NJobs before and after bad calls"
    );
    m.expect(0, &["start", "good.service"]);
    assert_eq!(m.show("good.service", "ActiveState"), "active");
    m.expect(0, &["stop", "good.service"]);
}

#[test]
fn busctl_and_gdbus_walk_the_tree() {
    let Some(m) =
        UserManager::start(&[("good.service", "[Service]\nExecStart=/bin/sleep infinity\n")])
    else {
        return;
    };
    m.expect(0, &["start", "good.service"]);
    let busctl = |args: &[&str]| {
        run_with_timeout(
            Command::new("busctl")
                .arg(format!("--address={}", m.bus.address()))
                .arg("--no-pager")
                .args(args),
            "busctl",
            Duration::from_secs(20),
        )
    };
    let tree = busctl(&["tree", "org.freedesktop.systemd1"]);
    assert_eq!(tree.code, 0, "{}", tree.dump());
    assert!(
        tree.stdout
            .contains("/org/freedesktop/systemd1/unit/good_2eservice"),
        "{}",
        tree.dump()
    );
    for path in [
        "/org/freedesktop/systemd1",
        "/org/freedesktop/systemd1/unit/good_2eservice",
    ] {
        let out = busctl(&["introspect", "org.freedesktop.systemd1", path]);
        assert_eq!(out.code, 0, "{}", out.dump());
        assert!(
            out.stdout.contains("org.freedesktop.DBus.Properties"),
            "{}",
            out.dump()
        );
    }
    if which("gdbus").is_some() {
        let out = run_with_timeout(
            Command::new("gdbus").args([
                "introspect",
                "--address",
                m.bus.address(),
                "--dest",
                "org.freedesktop.systemd1",
                "--object-path",
                "/org/freedesktop/systemd1",
            ]),
            "gdbus introspect",
            Duration::from_secs(20),
        );
        assert_eq!(out.code, 0, "{}", out.dump());
        assert!(out.stdout.contains("StartUnit("), "{}", out.dump());
    }
    m.expect(0, &["stop", "good.service"]);
}
