//! Acceptance: the `com.ubuntu.Upstart0_6` API over the same engine, driven by the stock
//! `dbus-send` on a private session bus: version, GetJobByName, start_on in post-order,
//! Job.Start(wait) replying once running with the real PID in `processes`, the unit active
//! over the systemd API at the same time, Stop(wait), and UnknownMethod for the gone instance.

mod common;

use common::*;

const JOB: &str = "\
description \"Upstart sleeper\"
start on started nginx and (deploy ENV=prod or manual-go)
exec /bin/sleep infinity
";

/// The job object `job` has no `_` instance object: its GetAll is an UnknownMethod error.
#[track_caller]
fn assert_no_instance(m: &UserManager, job: &str) {
    let out = m.upstart_send(&[
        &format!("{job}/_"),
        "org.freedesktop.DBus.Properties.GetAll",
        "string:",
    ]);
    assert!(
        out.all()
            .contains("org.freedesktop.DBus.Error.UnknownMethod"),
        "{}",
        out.all()
    );
}

#[test]
fn upstart_api_drives_the_engine() {
    let Some(m) = upstart_session(&[], &["dbus-send"]) else {
        return;
    };
    m.load_jobs(&[("sleeper", JOB)]);

    let out = m.upstart_send(&[
        "/com/ubuntu/Upstart",
        "org.freedesktop.DBus.Properties.Get",
        "string:com.ubuntu.Upstart0_6",
        "string:version",
    ]);
    assert!(
        out.stdout.contains("\"init (upstart 1.13.2)\""),
        "{}",
        out.all()
    );

    let out = m.upstart_send(&[
        "/com/ubuntu/Upstart",
        "com.ubuntu.Upstart0_6.GetJobByName",
        "string:sleeper",
    ]);
    assert!(
        out.stdout
            .contains("object path \"/com/ubuntu/Upstart/jobs/sleeper\""),
        "{}",
        out.all()
    );
    let out = m.upstart_send(&[
        "/com/ubuntu/Upstart",
        "com.ubuntu.Upstart0_6.GetJobByName",
        "string:nope",
    ]);
    assert!(
        out.all().contains("com.ubuntu.Upstart0_6.Error.UnknownJob"),
        "{}",
        out.all()
    );

    let job = "/com/ubuntu/Upstart/jobs/sleeper";
    let out = m.upstart_send(&[
        job,
        "org.freedesktop.DBus.Properties.Get",
        "string:com.ubuntu.Upstart0_6.Job",
        "string:start_on",
    ]);
    let flat: String = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for word in [
        "\"started\" string \"nginx\"",
        "\"deploy\" string \"ENV=prod\"",
        "\"/OR\"",
        "\"/AND\"",
    ] {
        assert!(flat.contains(word), "{word} in {flat}");
    }
    assert!(flat.find("/OR").unwrap() < flat.find("/AND").unwrap());

    // no instance while stopped
    assert_no_instance(&m, job);

    let out = m.upstart_send(&[
        job,
        "com.ubuntu.Upstart0_6.Job.Start",
        "array:string:",
        "boolean:true",
    ]);
    assert!(
        out.stdout
            .contains("object path \"/com/ubuntu/Upstart/jobs/sleeper/_\""),
        "{}",
        out.all()
    );
    let pid = m.main_pid("sleeper.service");
    assert_ne!(pid, 0);
    m.track(pid);
    assert_eq!(m.show("sleeper.service", "ActiveState"), "active");
    let out = m.upstart_send(&[
        &format!("{job}/_"),
        "org.freedesktop.DBus.Properties.GetAll",
        "string:",
    ]);
    let flat: String = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("string \"state\" variant string \"running\""),
        "{flat}"
    );
    assert!(
        flat.contains("string \"goal\" variant string \"start\""),
        "{flat}"
    );
    assert!(
        flat.contains(&format!("string \"main\" int32 {pid}")),
        "{flat}"
    );

    let out = m.upstart_send(&[
        job,
        "com.ubuntu.Upstart0_6.Job.Start",
        "array:string:",
        "boolean:false",
    ]);
    assert!(
        out.all()
            .contains("com.ubuntu.Upstart0_6.Error.AlreadyStarted"),
        "{}",
        out.all()
    );
    let out = m.upstart_send(&[
        job,
        "com.ubuntu.Upstart0_6.Job.Start",
        "array:string:X",
        "boolean:false",
    ]);
    assert!(
        out.all().contains("Env must be KEY=VALUE pairs"),
        "{}",
        out.all()
    );

    let out = m.upstart_send(&[
        job,
        "com.ubuntu.Upstart0_6.Job.Stop",
        "array:string:",
        "boolean:true",
    ]);
    assert_eq!(out.code, 0, "{}", out.all());
    m.wait_gone(pid, "sleeper main process");
    assert_eq!(m.show("sleeper.service", "ActiveState"), "inactive");
    assert_no_instance(&m, job);
}
