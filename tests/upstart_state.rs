//! Acceptance: the manager's `GetState` (JSON with Upstart's top-level keys, read with stock
//! `busctl`), `JobAdded`/`JobRemoved` when `ReloadConfiguration` finds a new or deleted
//! `.conf` (seen by `dbus-monitor`), and `unitd initctl check-config` / `show-config -e`
//! output and exit codes — on a private session bus.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

#[test]
fn get_state_and_job_registry_signals() {
    let Some(m) = upstart_session(&[], &["busctl", "dbus-monitor"]) else {
        return;
    };
    m.load_jobs(&[
        (
            "tty",
            "instance $TTY\nstart on spawn\nemits tty-up\nexec /bin/sleep infinity\n",
        ),
        ("old", "exec /bin/sleep infinity\n"),
    ]);
    let out = m.initctl(&["start", "tty", "TTY=tty5"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let pid = m.main_pid("tty@tty5.service");

    let out = run_with_timeout(
        Command::new("busctl")
            .arg(format!("--address={}", m.bus.address()))
            .args([
                "--json=short",
                "call",
                "com.ubuntu.Upstart",
                "/com/ubuntu/Upstart",
                "com.ubuntu.Upstart0_6",
                "GetState",
            ]),
        "busctl",
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let reply: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(reply["type"], "s", "{}", out.stdout);
    let state: serde_json::Value =
        serde_json::from_str(reply["data"][0].as_str().unwrap()).unwrap();
    for key in [
        "sessions",
        "events",
        "control_bus_address",
        "cgroup_manager_address",
        "job_environment",
        "job_classes",
        "conf_sources",
    ] {
        assert!(state.get(key).is_some(), "{key} missing: {state}");
    }
    let classes = state["job_classes"].as_array().unwrap();
    let tty = classes
        .iter()
        .find(|c| c["name"] == "tty")
        .unwrap_or_else(|| panic!("no tty class: {state}"));
    assert_eq!(tty["instance"], "$TTY");
    assert_eq!(tty["emits"], serde_json::json!(["tty-up"]));
    assert_eq!(tty["start_on"], serde_json::json!([["spawn"]]));
    let inst = &tty["jobs"][0];
    assert_eq!(inst["name"], "tty5", "{state}");
    assert_eq!(inst["unit"], "tty@tty5.service");
    assert_eq!(inst["goal"], "start");
    assert_eq!(inst["state"], "running");
    assert_eq!(
        inst["processes"],
        serde_json::json!([["main", pid]]),
        "{state}"
    );
    assert!(
        inst["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "TTY=tty5"),
        "{state}"
    );
    assert!(
        state["job_environment"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().starts_with("PATH=")),
        "{state}"
    );

    // ReloadConfiguration: a deleted .conf gives JobRemoved, a new one JobAdded.
    let monitor_log = m.dir.path().join("monitor.log");
    let monitor_child = dbus_monitor(
        m.bus.address(),
        &["type='signal',interface='com.ubuntu.Upstart0_6'"],
        &monitor_log,
    );
    wait_for("dbus-monitor to listen", Duration::from_secs(10), || {
        read_lossy(&monitor_log).contains("NameAcquired")
    });
    let jobs = m.jobs_dir();
    std::fs::remove_file(jobs.join("old.conf")).unwrap();
    std::fs::write(jobs.join("new-job.conf"), "exec /bin/sleep infinity\n").unwrap();
    let out = m.initctl(&["reload-configuration"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let signalled = |member: &str, path: &str| {
        read_lossy(&monitor_log).split("signal ").any(|blk| {
            blk.contains(&format!("member={member}"))
                && blk.contains(&format!("object path \"{path}\""))
        })
    };
    wait_for("JobRemoved old", Duration::from_secs(10), || {
        signalled("JobRemoved", "/com/ubuntu/Upstart/jobs/old")
    });
    wait_for("JobAdded new-job", Duration::from_secs(10), || {
        signalled("JobAdded", "/com/ubuntu/Upstart/jobs/new_2djob")
    });
    assert!(!signalled("JobRemoved", "/com/ubuntu/Upstart/jobs/tty"));
    let out = m.initctl(&["status", "old"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("Unknown job: old"), "{}", out.all());
    drop(monitor_child);

    m.initctl(&["stop", "tty", "TTY=tty5"]);
    m.wait_gone(pid, "tty5");
}

#[test]
fn check_config_and_enumerated_show_config() {
    let Some(m) = upstart_session(&[], &[]) else {
        return;
    };
    m.load_jobs(&[
        (
            "a",
            "start on started nosuchjob and frobnicate\nemits foo\nexec /bin/true\n",
        ),
        (
            "b",
            "start on foo or bar\nstop on stopped a RESULT=ok\nexec /bin/true\n",
        ),
    ]);

    let out = m.initctl(&["check-config", "b"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{}", out.all());
    let out = m.initctl(&["check-config", "a"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            1,
            "a\n  start on: unknown event frobnicate\n  start on: unknown job nosuchjob\n"
        ),
        "{}",
        out.all()
    );
    let out = m.initctl(&["check-config", "--ignore-events=frobnicate", "a"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (1, "a\n  start on: unknown job nosuchjob\n"),
        "{}",
        out.all()
    );
    let out = m.initctl(&["check-config", "--warn", "b"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (1, "b\n  start on: unknown event bar\n"),
        "{}",
        out.all()
    );
    let out = m.initctl(&["check-config", "nope"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("initctl: Invalid job class: nope"),
        "{}",
        out.all()
    );

    let out = m.initctl(&["show-config", "-e", "b"]);
    assert_eq!(
        out.stdout,
        "b\n  start on foo (job:, env:)\n  start on bar (job:, env:)\n  stop on stopped (job: a, env: RESULT=ok)\n",
        "{}",
        out.all()
    );
}
