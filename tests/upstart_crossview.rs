//! Acceptance: one engine behind both APIs. A job started over `com.ubuntu.Upstart0_6`
//! (stock `dbus-send`) is active in the stock `systemctl --user status foo`; a native systemd
//! unit started with `systemctl --user start` is a running instance over the Upstart API (its
//! `_` instance, `processes` with the real main PID, and `unitd initctl status`), and gone
//! from it once `systemctl --user stop` returns.

mod common;

use std::process::Command;

use common::*;

const JOB: &str = "\
description \"cross-view job\"
exec /bin/sleep 4242
";

const UNIT: &str = "\
[Unit]
Description=cross-view unit

[Service]
ExecStart=/bin/sleep 4343
";

/// `GetAll("")` of an instance object, whitespace-flattened.
fn instance_props(m: &UserManager, path: &str) -> String {
    let out = m.upstart_send(&[path, "org.freedesktop.DBus.Properties.GetAll", "string:"]);
    out.all().split_whitespace().collect::<Vec<_>>().join(" ")
}

fn initctl_status(m: &UserManager, job: &str) -> Output {
    let mut cmd = Command::new(unitd_bin());
    cmd.args(["initctl", "--session", "status", job])
        .env_clear()
        .env("PATH", STD_PATH)
        .env("DBUS_SESSION_BUS_ADDRESS", m.bus.address());
    run_with_timeout(&mut cmd, "initctl status", TIMEOUT)
}

#[test]
fn upstart_job_is_a_unit_and_a_unit_is_a_job() {
    let Some(m) = upstart_session(&[("crossunit.service", UNIT)], &["dbus-send"]) else {
        return;
    };
    m.load_jobs(&[("crossjob", JOB)]);

    // Upstart → systemd: Job.Start(wait) over the Upstart API, seen by systemctl.
    let out = m.upstart_send(&[
        "/com/ubuntu/Upstart/jobs/crossjob",
        "com.ubuntu.Upstart0_6.Job.Start",
        "array:string:",
        "boolean:true",
    ]);
    assert!(
        out.stdout
            .contains("object path \"/com/ubuntu/Upstart/jobs/crossjob/_\""),
        "{}\n--- unitd log ---\n{}",
        out.all(),
        tail(&m.daemon_log(), 30)
    );
    let pid = m.main_pid("crossjob.service");
    assert_ne!(pid, 0);
    m.track(pid);
    wait_for("the main process to exec /bin/sleep", TIMEOUT, || {
        proc_cmdline(pid) == ["/bin/sleep", "4242"]
    });
    let out = m.expect(0, &["status", "crossjob"]);
    assert!(
        out.stdout.contains("Active: active (running)")
            && out.stdout.contains(&format!("Main PID: {pid}")),
        "{}",
        out.dump()
    );
    let out = m.expect(0, &["is-active", "crossjob"]);
    assert_eq!(out.stdout.trim(), "active");
    // ...and stopped with systemctl, the Upstart instance is gone.
    m.expect(0, &["stop", "crossjob"]);
    m.wait_gone(pid, "crossjob main process");
    let flat = instance_props(&m, "/com/ubuntu/Upstart/jobs/crossjob/_");
    assert!(
        flat.contains("org.freedesktop.DBus.Error.UnknownMethod"),
        "{flat}"
    );

    // systemd → Upstart: systemctl start, seen as a running job instance.
    let out = m.upstart_send(&[
        "/com/ubuntu/Upstart",
        "com.ubuntu.Upstart0_6.GetJobByName",
        "string:crossunit",
    ]);
    assert!(
        out.stdout
            .contains("object path \"/com/ubuntu/Upstart/jobs/crossunit\""),
        "{}",
        out.all()
    );
    let flat = instance_props(&m, "/com/ubuntu/Upstart/jobs/crossunit/_");
    assert!(
        flat.contains("org.freedesktop.DBus.Error.UnknownMethod"),
        "no instance while the unit is inactive: {flat}"
    );
    m.expect(0, &["start", "crossunit.service"]);
    let pid = m.main_pid("crossunit.service");
    assert_ne!(pid, 0);
    m.track(pid);
    let flat = instance_props(&m, "/com/ubuntu/Upstart/jobs/crossunit/_");
    for want in [
        "string \"state\" variant string \"running\"".to_string(),
        "string \"goal\" variant string \"start\"".to_string(),
        format!("string \"main\" int32 {pid}"),
    ] {
        assert!(flat.contains(&want), "{want} in {flat}");
    }
    let out = m.upstart_send(&[
        "/com/ubuntu/Upstart/jobs/crossunit",
        "com.ubuntu.Upstart0_6.Job.GetAllInstances",
    ]);
    assert!(
        out.stdout
            .contains("object path \"/com/ubuntu/Upstart/jobs/crossunit/_\""),
        "{}",
        out.all()
    );
    let out = initctl_status(&m, "crossunit");
    assert_eq!(
        (out.code, out.stdout.trim()),
        (
            0,
            format!("crossunit start/running, process {pid}").as_str()
        ),
        "{}",
        out.dump()
    );
    m.expect(0, &["stop", "crossunit.service"]);
    m.wait_gone(pid, "crossunit main process");
    let flat = instance_props(&m, "/com/ubuntu/Upstart/jobs/crossunit/_");
    assert!(
        flat.contains("org.freedesktop.DBus.Error.UnknownMethod"),
        "{flat}"
    );
    let out = initctl_status(&m, "crossunit");
    assert_eq!(
        (out.code, out.stdout.trim()),
        (0, "crossunit stop/waiting"),
        "{}",
        out.dump()
    );
}
