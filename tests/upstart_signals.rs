//! Acceptance: the instance `Failed(i status)` signal — a job whose main process exits 3
//! after `Job.Start(wait=true)` returned gets `Failed(3)` signalled once on its instance — and
//! "a newer command releases earlier waiters": a `Start(wait)` blocked in pre-start returns
//! success when a `Stop` supersedes it. Stock `dbus-send` and `dbus-monitor` on a private
//! session bus.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

const FAILER: &str = "exec /bin/sh -c 'exit 3'\n";
const SLEEPER: &str = "exec /bin/sleep 5151\n";

#[test]
fn failed_is_signalled_with_the_exit_status() {
    let Some(m) = upstart_session(&[], &["dbus-send", "dbus-monitor"]) else {
        return;
    };
    m.load_jobs(&[("failer", FAILER), ("sleeper", SLEEPER)]);

    let log = m.dir.path().join("monitor.log");
    let _monitor = dbus_monitor(
        m.bus.address(),
        &["type='signal',interface='com.ubuntu.Upstart0_6.Instance'"],
        &log,
    );
    // dbus-monitor prints nothing before its match is in place: start and stop a good job
    // until its GoalChanged shows up.
    wait_for("dbus-monitor to listen", Duration::from_secs(20), || {
        let out = m.job_control("sleeper", "Start", true);
        assert_eq!(out.code, 0, "{}", out.all());
        let out = m.job_control("sleeper", "Stop", true);
        assert_eq!(out.code, 0, "{}", out.all());
        read_lossy(&log).contains("member=GoalChanged")
    });
    assert!(!read_lossy(&log).contains("member=Failed"));

    // The main process is running once spawned (no `expect`), so Start(wait) succeeds, as
    // in Upstart; its exit 3 afterwards fails the job.
    let out = m.job_control("failer", "Start", true);
    assert!(
        out.code == 0 && out.stdout.contains("/com/ubuntu/Upstart/jobs/failer/_"),
        "{}\n--- unitd log ---\n{}",
        out.all(),
        tail(&m.daemon_log(), 30)
    );
    wait_for("the Failed signal", TIMEOUT, || {
        read_lossy(&log).contains("member=Failed")
    });
    let text = read_lossy(&log);
    let failed: Vec<&str> = text
        .split("signal time=")
        .filter(|s| s.contains("member=Failed"))
        .collect();
    assert_eq!(failed.len(), 1, "once per attempt:\n{text}");
    assert!(
        failed[0].contains("path=/com/ubuntu/Upstart/jobs/failer/_")
            && failed[0].contains("int32 3"),
        "{text}"
    );
}

const SLOW: &str = "pre-start exec /bin/sleep infinity\nexec /bin/sleep 5252\n";

#[test]
fn a_newer_command_releases_earlier_waiters() {
    let Some(m) = upstart_session(&[], &["dbus-send"]) else {
        return;
    };
    m.load_jobs(&[("slow", SLOW)]);

    // Start(wait) blocks in pre-start (which never ends by itself)...
    let start_out = m.dir.path().join("start.out");
    let mut waiter = KillOnDrop(
        Command::new("dbus-send")
            .arg(format!("--bus={}", m.bus.address()))
            .args([
                "--print-reply",
                "--reply-timeout=60000",
                "--dest=com.ubuntu.Upstart",
                "/com/ubuntu/Upstart/jobs/slow",
                "com.ubuntu.Upstart0_6.Job.Start",
                "array:string:",
                "boolean:true",
            ])
            .stdout(Stdio::from(std::fs::File::create(&start_out).unwrap()))
            .stderr(Stdio::from(
                std::fs::File::create(m.dir.path().join("start.err")).unwrap(),
            ))
            .spawn()
            .unwrap(),
    );
    wait_for("the instance in pre-start", TIMEOUT, || {
        let out = m.upstart_send(&[
            "/com/ubuntu/Upstart/jobs/slow/_",
            "org.freedesktop.DBus.Properties.Get",
            "string:com.ubuntu.Upstart0_6.Instance",
            "string:state",
        ]);
        out.stdout.contains("\"pre-start\"")
    });
    assert!(waiter.0.try_wait().unwrap().is_none(), "Start(wait) blocks");
    // ...until a newer command (Stop, no wait) releases it with success.
    let out = m.job_control("slow", "Stop", false);
    assert_eq!(out.code, 0, "{}", out.all());
    let status = wait_for_value("the released Start to return", TIMEOUT, || {
        waiter.0.try_wait().unwrap()
    });
    assert!(
        status.success() && read_lossy(&start_out).contains("/com/ubuntu/Upstart/jobs/slow/_"),
        "{status:?}\n{}\n{}",
        read_lossy(&start_out),
        read_lossy(&m.dir.path().join("start.err"))
    );
}
