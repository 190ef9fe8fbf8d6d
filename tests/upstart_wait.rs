//! Acceptance: Upstart's "a newer command releases earlier waiters" (upstart.md §1.8), with the
//! stock `dbus-send` on a private session bus. A `Job.Start([], true)` still waiting (the
//! job's post-start never finishes) is answered with success — the instance path — as soon
//! as a `Job.Stop` arrives; an `EmitEvent(…, true)` waiting for the job it started is
//! answered with success when a newer command (Stop) targets that job.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::*;

/// Run a call in the background; its output arrives on the channel.
fn send_in_background(m: &UserManager, args: &[&str]) -> mpsc::Receiver<Output> {
    let mut cmd = m.upstart_send_cmd(args);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let out = run_with_timeout(&mut cmd, "dbus-send", Duration::from_secs(60));
        let _ = tx.send(out);
    });
    rx
}

/// A job whose post-start never ends (it touches `entered` and sleeps).
fn stuck_job(m: &UserManager, name: &str, start_on: &str) -> std::path::PathBuf {
    let entered = m.dir.path().join(format!("{name}-entered"));
    m.write_job(name,
        &format!(
            "{start_on}exec /bin/sleep infinity\npost-start exec /bin/sh -c 'touch {}; exec sleep infinity'\n",
            entered.display()
        ),
    );
    entered
}

/// The job has no instance left over the Upstart API (stop/waiting). Over systemd's API the
/// unit is `failed`: the post-start killed by the stop counts as a failure there.
fn wait_for_down(m: &UserManager, job: &str) {
    wait_for(&format!("{job} down"), Duration::from_secs(20), || {
        let out = m.upstart_send(&[
            &format!("/com/ubuntu/Upstart/jobs/{job}"),
            "com.ubuntu.Upstart0_6.Job.GetAllInstances",
        ]);
        out.code == 0 && !out.stdout.contains("object path")
    });
}

#[test]
fn a_newer_command_releases_earlier_waiters() {
    let Some(m) = upstart_session(&[], &["dbus-send"]) else {
        return;
    };
    let entered = stuck_job(&m, "slow", "");
    let entered2 = stuck_job(&m, "slow2", "start on go\n");
    m.expect(0, &["daemon-reload"]);
    let job = "/com/ubuntu/Upstart/jobs/slow";

    // Start(wait) blocks in post-start …
    let waiting = send_in_background(
        &m,
        &[
            job,
            "com.ubuntu.Upstart0_6.Job.Start",
            "array:string:",
            "boolean:true",
        ],
    );
    wait_for("slow's post-start", Duration::from_secs(10), || {
        entered.exists()
    });
    assert!(waiting.try_recv().is_err(), "Start returned before running");
    // … until Stop (no wait) supersedes it: the first caller gets the instance path.
    let out = m.upstart_send(&[
        job,
        "com.ubuntu.Upstart0_6.Job.Stop",
        "array:string:",
        "boolean:false",
    ]);
    assert_eq!(out.code, 0, "{}", out.all());
    let first = waiting
        .recv_timeout(Duration::from_secs(30))
        .expect("the waiting Start was answered");
    assert_eq!(first.code, 0, "{}", first.all());
    assert!(
        first
            .stdout
            .contains("object path \"/com/ubuntu/Upstart/jobs/slow/_\""),
        "{}",
        first.all()
    );
    wait_for_down(&m, "slow");

    // EmitEvent(wait) is held by the job it started (stuck in post-start) …
    let emitting = send_in_background(
        &m,
        &[
            "/com/ubuntu/Upstart",
            "com.ubuntu.Upstart0_6.EmitEvent",
            "string:go",
            "array:string:",
            "boolean:true",
        ],
    );
    wait_for("slow2's post-start", Duration::from_secs(10), || {
        entered2.exists()
    });
    assert!(emitting.try_recv().is_err(), "EmitEvent returned early");
    // … and released, with success, by a newer command on that job.
    let out = m.upstart_send(&[
        "/com/ubuntu/Upstart/jobs/slow2",
        "com.ubuntu.Upstart0_6.Job.Stop",
        "array:string:",
        "boolean:false",
    ]);
    assert_eq!(out.code, 0, "{}", out.all());
    let emitted = emitting
        .recv_timeout(Duration::from_secs(30))
        .expect("the waiting EmitEvent was answered");
    assert_eq!(emitted.code, 0, "{}", emitted.all());
    assert!(!emitted.all().contains("Error"), "{}", emitted.all());
    wait_for_down(&m, "slow2");
}
