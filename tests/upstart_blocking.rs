//! Acceptance: Upstart's blocking `starting` and `stopping` events. A job started by
//! `starting foo` runs to its rest state (a task: done) before foo leaves `starting` for
//! pre-start; meanwhile foo is `start/starting` over the Upstart API (and `activating` over
//! systemd's). A job started by `stopping bar` is done before bar's main process is killed
//! and its post-stop runs; meanwhile bar is `stop/stopping` with its process alive. Driven
//! with `unitd initctl` and `systemctl --user` on a private session bus.

mod common;

use std::time::Duration;

use common::*;

#[test]
fn starting_blocks_the_job_until_its_handlers_finished() {
    let Some(m) = upstart_session(&[], &[]) else {
        return;
    };
    let dir = m.dir.path().to_path_buf();
    let log = dir.join("log");
    let gate = dir.join("gate");
    let entered = dir.join("entered");
    let jobs = m.jobs_dir();
    std::fs::write(
        jobs.join("foo.conf"),
        format!(
            "pre-start exec /bin/sh -c 'echo foo-pre-start >> {log}'\nexec /bin/sleep infinity\n",
            log = log.display()
        ),
    )
    .unwrap();
    // The handler waits for the test's gate, so foo's progress is observable meanwhile.
    std::fs::write(
        jobs.join("before.conf"),
        format!(
            "start on starting foo\ntask\n\
             exec /bin/sh -c 'touch {entered}; while [ ! -e {gate} ]; do sleep 0.05; done; echo \"before $JOB\" >> {log}'\n",
            entered = entered.display(),
            gate = gate.display(),
            log = log.display()
        ),
    )
    .unwrap();
    m.expect(0, &["daemon-reload"]);

    let out = m.initctl(&["start", "--no-wait", "foo"]);
    assert_eq!(out.code, 0, "{}", out.all());
    wait_for(
        "the starting handler to run",
        Duration::from_secs(10),
        || entered.exists(),
    );
    // foo waits in starting: no pre-start yet.
    let out = m.initctl(&["status", "foo"]);
    assert_eq!(out.stdout, "foo start/starting\n", "{}", out.all());
    assert_eq!(m.show("foo.service", "ActiveState"), "activating");
    assert!(!log.exists(), "{}", read_lossy(&log));

    std::fs::write(&gate, "").unwrap();
    let pid = wait_for_value("foo running", Duration::from_secs(10), || {
        let pid = m.main_pid("foo.service");
        (pid != 0 && m.show("foo.service", "ActiveState") == "active").then_some(pid)
    });
    assert_eq!(read_lossy(&log), "before foo\nfoo-pre-start\n");
    let out = m.initctl(&["status", "foo"]);
    assert_eq!(
        out.stdout,
        format!("foo start/running, process {pid}\n"),
        "{}",
        out.all()
    );

    // A job nobody waits for starts at once (the event finishes in the same step).
    let out = m.initctl(&["stop", "foo"]);
    assert_eq!(out.code, 0, "{}", out.all());
    m.wait_gone(pid, "foo");
    std::fs::remove_file(jobs.join("before.conf")).unwrap();
    m.expect(0, &["daemon-reload"]);
    let out = m.initctl(&["start", "foo"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let pid = m.main_pid("foo.service");
    assert_eq!(out.stdout, format!("foo start/running, process {pid}\n"));
    m.initctl(&["stop", "foo"]);
    m.wait_gone(pid, "foo");
}

#[test]
fn stopping_blocks_the_kill_until_its_handlers_finished() {
    let Some(m) = upstart_session(&[], &[]) else {
        return;
    };
    let dir = m.dir.path().to_path_buf();
    let log = dir.join("log");
    let gate = dir.join("gate");
    let entered = dir.join("entered");
    let jobs = m.jobs_dir();
    std::fs::write(
        jobs.join("bar.conf"),
        format!(
            "exec /bin/sleep infinity\npost-stop exec /bin/sh -c 'echo bar-post-stop >> {log}'\n",
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::write(
        jobs.join("cleanup.conf"),
        format!(
            "start on stopping bar\ntask\n\
             exec /bin/sh -c 'touch {entered}; while [ ! -e {gate} ]; do sleep 0.05; done; echo \"cleanup $JOB $RESULT\" >> {log}'\n",
            entered = entered.display(),
            gate = gate.display(),
            log = log.display()
        ),
    )
    .unwrap();
    m.expect(0, &["daemon-reload"]);
    let out = m.initctl(&["start", "bar"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let pid = m.main_pid("bar.service");

    let out = m.initctl(&["stop", "--no-wait", "bar"]);
    assert_eq!(out.code, 0, "{}", out.all());
    wait_for(
        "the stopping handler to run",
        Duration::from_secs(10),
        || entered.exists(),
    );
    let out = m.initctl(&["status", "bar"]);
    assert_eq!(
        out.stdout,
        format!("bar stop/stopping, process {pid}\n"),
        "{}",
        out.all()
    );
    assert!(
        pid_alive(pid),
        "bar was killed before its stopping handler finished"
    );
    assert!(!log.exists(), "{}", read_lossy(&log));

    std::fs::write(&gate, "").unwrap();
    m.wait_gone(pid, "bar");
    wait_for("bar down", Duration::from_secs(10), || {
        m.show("bar.service", "ActiveState") == "inactive"
    });
    assert_eq!(read_lossy(&log), "cleanup bar ok\nbar-post-stop\n");
}
