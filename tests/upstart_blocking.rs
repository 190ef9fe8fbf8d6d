//! Acceptance: Upstart's blocking `starting` and `stopping` events. A job started by
//! `starting foo` runs to its rest state (a task: done) before foo leaves `starting` for
//! pre-start; meanwhile foo is `start/starting` over the Upstart API (and `activating` over
//! systemd's). A job started by `stopping bar` is done before bar's main process is killed
//! and its post-stop runs; meanwhile bar is `stop/stopping` with its process alive. Driven
//! with `unitd initctl` and `systemctl --user` on a private session bus.

mod common;

use std::time::Duration;

use common::*;

/// The files of a blocking handler job: it touches `entered` when it runs, waits for the test
/// to create `gate`, then appends a line to `log` (which the blocked job also writes).
struct Handler {
    log: std::path::PathBuf,
    gate: std::path::PathBuf,
    entered: std::path::PathBuf,
}

/// Write the handler task `NAME.conf` (`start on START_ON`, appending `echo ECHO` to the log).
fn gated_handler(m: &UserManager, name: &str, start_on: &str, echo: &str) -> Handler {
    let dir = m.dir.path();
    let h = Handler {
        log: dir.join("log"),
        gate: dir.join("gate"),
        entered: dir.join("entered"),
    };
    m.write_job(
        name,
        &format!(
            "start on {start_on}\ntask\n\
             exec /bin/sh -c 'touch {entered}; while [ ! -e {gate} ]; do sleep 0.05; done; echo \"{echo}\" >> {log}'\n",
            entered = h.entered.display(),
            gate = h.gate.display(),
            log = h.log.display()
        ),
    );
    h
}

#[test]
fn starting_blocks_the_job_until_its_handlers_finished() {
    let Some(m) = upstart_session(&[], &[]) else {
        return;
    };
    // The handler waits for the test's gate, so foo's progress is observable meanwhile.
    let Handler { log, gate, entered } = gated_handler(&m, "before", "starting foo", "before $JOB");
    m.write_job(
        "foo",
        &format!(
            "pre-start exec /bin/sh -c 'echo foo-pre-start >> {log}'\nexec /bin/sleep infinity\n",
            log = log.display()
        ),
    );
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
    std::fs::remove_file(m.jobs_dir().join("before.conf")).unwrap();
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
    let Handler { log, gate, entered } =
        gated_handler(&m, "cleanup", "stopping bar", "cleanup $JOB $RESULT");
    m.write_job(
        "bar",
        &format!(
            "exec /bin/sleep infinity\npost-stop exec /bin/sh -c 'echo bar-post-stop >> {log}'\n",
            log = log.display()
        ),
    );
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
