//! Acceptance: the manager's `NotifyDiskWriteable`, `NotifyDBusAddress`,
//! `NotifyCGroupManagerAddress` and `EndSession` over the stock `dbus-send` on a private session
//! bus (unitd as a user manager = Upstart's Session Init): signatures as Upstart's, the
//! cgroup-manager address shown by GetState, a connected manager ignoring NotifyDBusAddress,
//! strict signatures, and EndSession emitting `session-end TYPE=logout` and ending the manager
//! with its jobs.

mod common;

use std::time::Duration;

use common::*;

fn state(m: &UserManager) -> serde_json::Value {
    let out = m.upstart_send(&["/com/ubuntu/Upstart", "com.ubuntu.Upstart0_6.GetState"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let start = out.stdout.find("string \"").expect("a string reply") + "string \"".len();
    let end = out.stdout.rfind('"').unwrap();
    serde_json::from_str(&out.stdout[start..end]).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

#[test]
fn notify_methods_and_end_session() {
    let Some(mut m) = upstart_session(&[], &["dbus-send"]) else {
        return;
    };
    let jobs = m.jobs_dir();
    std::fs::write(jobs.join("sleeper.conf"), "exec /bin/sleep infinity\n").unwrap();
    let marker = m.dir.path().join("session-end.env");
    std::fs::write(
        jobs.join("bye.conf"),
        format!(
            "start on session-end\ntask\nexec /bin/sh -c 'echo \"TYPE=$TYPE\" > {}'\n",
            marker.display()
        ),
    )
    .unwrap();
    m.expect(0, &["daemon-reload"]);
    let mgr = "/com/ubuntu/Upstart";

    let out = m.upstart_send(&[mgr, "com.ubuntu.Upstart0_6.NotifyDiskWriteable"]);
    assert_eq!(out.code, 0, "{}", out.all());

    let s = state(&m);
    assert!(s["cgroup_manager_address"].is_null(), "{s}");
    let out = m.upstart_send(&[
        mgr,
        "com.ubuntu.Upstart0_6.NotifyCGroupManagerAddress",
        "string:unix:path=/nonexistent/cgmanager",
    ]);
    assert_eq!(out.code, 0, "{}", out.all());
    let s = state(&m);
    assert_eq!(
        s["cgroup_manager_address"], "unix:path=/nonexistent/cgmanager",
        "{s}"
    );

    // Connected to its bus already: accepted and ignored, as Upstart does.
    let out = m.upstart_send(&[
        mgr,
        "com.ubuntu.Upstart0_6.NotifyDBusAddress",
        "string:unix:path=/nonexistent/bus",
    ]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(state(&m)["control_bus_address"].is_null());

    // Strict signatures.
    let out = m.upstart_send(&[mgr, "com.ubuntu.Upstart0_6.NotifyDBusAddress", "int32:1"]);
    assert!(
        out.all()
            .contains("org.freedesktop.DBus.Error.UnknownMethod"),
        "{}",
        out.all()
    );

    let out = m.upstart_send(&[
        "/com/ubuntu/Upstart/jobs/sleeper",
        "com.ubuntu.Upstart0_6.Job.Start",
        "array:string:",
        "boolean:true",
    ]);
    assert_eq!(out.code, 0, "{}", out.all());
    let pid = m.main_pid("sleeper.service");
    assert_ne!(pid, 0);

    // A Session Init ends: session-end runs its jobs, everything stops, the manager exits.
    let out = m.upstart_send(&[mgr, "com.ubuntu.Upstart0_6.EndSession"]);
    assert_eq!(out.code, 0, "{}", out.all());
    wait_for("the sleeper to stop", Duration::from_secs(20), || {
        !pid_alive(pid)
    });
    wait_for("the manager to exit", Duration::from_secs(20), || {
        !m.daemon_running()
    });
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap_or_default(),
        "TYPE=logout\n",
        "the session-end job did not run: {}",
        m.daemon_log()
    );
}
