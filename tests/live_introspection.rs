//! interfaces/*.xml against the running daemon: what a stock client gets from `Introspect` on
//! the manager, a unit and a job path equals the checked-in contract, interface by interface.
//! (`tests/introspection_contract.rs` checks the same files against the member tables and
//! systemd 252's signatures; this test closes the loop through a real bus and a real client.)

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

/// The `<interface name="…">…</interface>` blocks of an introspection document, keyed by
/// name, with whitespace between tags removed.
fn interfaces(xml: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<interface name=\"") {
        let name_start = start + "<interface name=\"".len();
        let name_end = name_start + rest[name_start..].find('"').expect("closing quote");
        let end = start + rest[start..].find("</interface>").expect("closing tag") + 12;
        let block: String = rest[start..end]
            .lines()
            .map(str::trim)
            .collect::<Vec<_>>()
            .join("");
        out.push((rest[name_start..name_end].to_owned(), block));
        rest = &rest[end..];
    }
    out
}

fn introspect(m: &UserManager, path: &str) -> String {
    let out = run_with_timeout(
        Command::new("dbus-send")
            .arg(format!("--bus={}", m.bus.address()))
            .args([
                "--print-reply=literal",
                "--dest=org.freedesktop.systemd1",
                path,
                "org.freedesktop.DBus.Introspectable.Introspect",
            ]),
        "dbus-send Introspect",
        Duration::from_secs(20),
    );
    assert_eq!(out.code, 0, "Introspect {path}:\n{}", out.dump());
    out.stdout
}

fn contract(name: &str) -> String {
    let path = repo_root().join("interfaces").join(format!("{name}.xml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut blocks = interfaces(&text);
    assert_eq!(blocks.len(), 1, "{} holds one interface", path.display());
    blocks.remove(0).1
}

#[test]
fn live_introspection_equals_interface_files() {
    if skip_in_reference_mode("compares unitd's own contract files") {
        return;
    }
    let Some(m) = UserManager::start(&[(
        "slow.service",
        "[Service]\nType=oneshot\nExecStart=/bin/sleep 30\n",
    )]) else {
        return;
    };
    // A job object exists while the oneshot runs (`--no-block` returns at once).
    m.expect(0, &["start", "--no-block", "slow.service"]);
    let job_id = m.show("slow.service", "Job");
    assert!(
        !job_id.is_empty() && job_id != "0",
        "slow.service has a job: {job_id:?}"
    );

    let cases = [
        (
            "/org/freedesktop/systemd1".to_string(),
            vec!["org.freedesktop.systemd1.Manager"],
        ),
        (
            "/org/freedesktop/systemd1/unit/slow_2eservice".to_string(),
            vec![
                "org.freedesktop.systemd1.Unit",
                "org.freedesktop.systemd1.Service",
            ],
        ),
        (
            "/org/freedesktop/systemd1/unit/basic_2etarget".to_string(),
            vec![
                "org.freedesktop.systemd1.Unit",
                "org.freedesktop.systemd1.Target",
            ],
        ),
        (
            format!("/org/freedesktop/systemd1/job/{job_id}"),
            vec!["org.freedesktop.systemd1.Job"],
        ),
    ];
    for (path, expected) in cases {
        let live = interfaces(&introspect(&m, &path));
        let names: Vec<&str> = live.iter().map(|(n, _)| n.as_str()).collect();
        for standard in [
            "org.freedesktop.DBus.Peer",
            "org.freedesktop.DBus.Introspectable",
            "org.freedesktop.DBus.Properties",
        ] {
            assert!(
                names.contains(&standard),
                "{path} lacks {standard}: {names:?}"
            );
        }
        for name in expected {
            let (_, block) = live
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("{path} does not serve {name}: {names:?}"));
            assert_eq!(
                *block,
                contract(name),
                "live {name} on {path} differs from interfaces/{name}.xml"
            );
        }
    }
    m.expect(0, &["stop", "slow.service"]);
}
