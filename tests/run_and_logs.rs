//! `unitd run UNIT` (one unit in the foreground, full supervision, no D-Bus) and `unitd logs`
//! over the output it captured. Real binary, real processes; no bus needed.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

fn unitd(dir: &TestDir, args: &[&str]) -> Output {
    let mut cmd = Command::new(unitd_bin());
    cmd.args(args)
        .env("HOME", dir.home())
        .env("XDG_RUNTIME_DIR", dir.xdg())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("NOTIFY_SOCKET");
    run_with_timeout(
        &mut cmd,
        &format!("unitd {}", args.join(" ")),
        Duration::from_secs(60),
    )
}

fn run(dir: &TestDir, unit: &str) -> Output {
    let units = dir.units();
    let state = dir.state();
    unitd(
        dir,
        &[
            "run",
            "--user",
            "--unit-path",
            units.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            unit,
        ],
    )
}

#[test]
fn run_streams_output_and_reports_success() {
    let dir = TestDir::new();
    dir.write_unit(
        "hello.service",
        "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo hello from $$0; echo second line >&2' unitd-test\nExecStartPost=/bin/echo post\n",
    );
    let out = run(&dir, "hello.service");
    assert_eq!(out.code, 0, "{}", out.dump());
    assert!(out.stdout.contains("hello.service["), "{}", out.dump());
    assert!(
        out.stdout.contains("]: hello from unitd-test"),
        "{}",
        out.dump()
    );
    assert!(out.stdout.contains("]: second line"), "{}", out.dump());
    assert!(out.stdout.contains("]: post"), "{}", out.dump());
    assert!(
        out.stderr.contains("hello.service: inactive (dead)"),
        "{}",
        out.dump()
    );

    // The same output stays readable afterwards.
    let state = dir.state();
    let logs = unitd(
        &dir,
        &[
            "logs",
            "--user",
            "--state-dir",
            state.to_str().unwrap(),
            "hello.service",
            "-n",
            "1",
        ],
    );
    assert_eq!(logs.code, 0, "{}", logs.dump());
    let lines: Vec<&str> = logs.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", logs.dump());
    assert!(lines[0].ends_with("]: post"), "{}", logs.dump());
}

#[test]
fn run_exits_1_when_the_unit_fails() {
    let dir = TestDir::new();
    dir.write_unit(
        "bad.service",
        "[Service]\nExecStart=/bin/sh -c 'echo dying; exit 3'\n",
    );
    let out = run(&dir, "bad.service");
    assert_eq!(out.code, 1, "{}", out.dump());
    assert!(out.stdout.contains("]: dying"), "{}", out.dump());
    assert!(out.stderr.contains("result exit-code"), "{}", out.dump());
}

#[test]
fn run_refuses_unknown_units_like_systemctl() {
    let dir = TestDir::new();
    let out = run(&dir, "nosuch.service");
    assert_eq!(out.code, 1, "{}", out.dump());
    assert!(
        out.stderr
            .contains("Failed to start nosuch.service: Unit nosuch.service not found."),
        "{}",
        out.dump()
    );
}
