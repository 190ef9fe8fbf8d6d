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

/// The hard limit of `resource` ("Max open files" …) in `/proc/self/limits`.
fn own_hard_limit(resource: &str) -> String {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with(resource))
        .unwrap_or_else(|| panic!("{resource} in /proc/self/limits"));
    line[resource.len()..]
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string()
}

#[test]
fn a_limit_the_kernel_refuses_is_capped_at_the_hard_limit_not_a_start_failure() {
    // LimitNOFILE= above fs.nr_open is refused with EPERM even with CAP_SYS_RESOURCE (and so
    // is any raise of a hard limit without it, e.g. redis-server's LimitNOFILE=65535 in a
    // container): systemd then sets the closest it can, the current hard limit.
    let dir = TestDir::new();
    dir.write_unit(
        "limits.service",
        "[Service]\nType=oneshot\nLimitNOFILE=infinity\n\
         ExecStart=/bin/sh -c 'echo nofile $(ulimit -Sn) $(ulimit -Hn)'\n",
    );
    let out = run(&dir, "limits.service");
    assert_eq!(out.code, 0, "{}", out.dump());
    let hard = own_hard_limit("Max open files");
    assert!(
        out.stdout.contains(&format!("]: nofile {hard} {hard}")),
        "{}",
        out.dump()
    );
}
