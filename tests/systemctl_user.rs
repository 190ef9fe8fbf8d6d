//! Acceptance: the stock `systemctl --user` (systemd 252) against `unitd serve --user` on a
//! private session bus. Real bus, real daemon, real processes; each test has its own bus,
//! daemon and directories. Expected texts and exit codes are those of systemd 252
//! (reference: systemd-clients.md §5, §7; service-contract.md §4.1).

mod common;

use common::verbs;
use common::*;

const SLEEPER: &str = "\
[Unit]
Description=Sleeper for tests

[Service]
Type=simple
ExecStart=/bin/sleep infinity
";

fn argv0_is(pid: u32, prog: &str) -> bool {
    proc_cmdline(pid)
        .first()
        .is_some_and(|a| a == prog || a.ends_with(&format!("/{prog}")))
}

/// Start `unit` and return its MainPID, checking the process really runs.
#[track_caller]
fn start_and_main_pid(m: &UserManager, unit: &str, prog: &str) -> u32 {
    m.expect(0, &["start", unit]);
    let pid = m.main_pid(unit);
    assert_ne!(pid, 0, "{unit} has a MainPID after start");
    assert!(pid_alive(pid), "MainPID {pid} of {unit} is a live process");
    assert!(
        argv0_is(pid, prog),
        "MainPID {pid} of {unit} runs {prog}, found {:?}",
        proc_cmdline(pid)
    );
    pid
}

#[test]
fn start_simple_runs_the_process() {
    let Some(m) = UserManager::start(&[("sleeper.service", SLEEPER)]) else {
        return;
    };
    let out = m.expect(0, &["start", "sleeper.service"]);
    m.check(
        out.stdout.is_empty(),
        "start prints nothing on success",
        &out,
    );
    let pid = m.main_pid("sleeper.service");
    assert_ne!(pid, 0);
    assert!(argv0_is(pid, "sleep"), "{:?}", proc_cmdline(pid));
    assert_eq!(proc_cmdline(pid), ["/bin/sleep", "infinity"]);
    assert_eq!(m.show("sleeper.service", "ActiveState"), "active");
    assert_eq!(m.show("sleeper.service", "SubState"), "running");
}

#[test]
fn status_shows_loaded_active_running_and_main_pid() {
    let Some(m) = UserManager::start(&[("sleeper.service", SLEEPER)]) else {
        return;
    };
    let pid = start_and_main_pid(&m, "sleeper.service", "sleep");
    let out = verbs::status_shows_running(&m, "sleeper.service", pid);
    let first = out.stdout.lines().next().unwrap_or_default();
    m.check(
        first.contains("sleeper.service - Sleeper for tests"),
        "header is `● sleeper.service - Sleeper for tests`",
        &out,
    );
}

#[test]
fn is_active_reports_inactive_then_active() {
    let Some(m) = UserManager::start(&[("sleeper.service", SLEEPER)]) else {
        return;
    };
    let out = m.expect(3, &["is-active", "sleeper.service"]);
    assert_eq!(out.stdout.trim(), "inactive", "{}", out.dump());
    start_and_main_pid(&m, "sleeper.service", "sleep");
    let out = m.expect(0, &["is-active", "sleeper.service"]);
    assert_eq!(out.stdout.trim(), "active", "{}", out.dump());
}

#[test]
fn list_units_lists_the_running_unit() {
    let Some(m) = UserManager::start(&[("sleeper.service", SLEEPER)]) else {
        return;
    };
    start_and_main_pid(&m, "sleeper.service", "sleep");
    let out = m.expect(0, &["list-units"]);
    let row = list_units_row(&out.stdout, "sleeper.service");
    m.check(row.is_some(), "list-units has a sleeper.service row", &out);
    let row = row.unwrap_or_default();
    assert_eq!(
        row[1..5],
        ["loaded", "active", "running", "Sleeper"],
        "{}",
        out.dump()
    );
    m.check(
        out.stdout.contains("loaded units listed"),
        "footer `N loaded units listed.`",
        &out,
    );
    // Filtering by pattern is server-side (ListUnitsByPatterns).
    let out = m.expect(0, &["list-units", "--all", "nomatch*"]);
    m.check(
        list_units_row(&out.stdout, "sleeper.service").is_none(),
        "a pattern that does not match hides the unit",
        &out,
    );
}

#[test]
fn stop_kills_the_process() {
    let Some(m) = UserManager::start(&[("sleeper.service", SLEEPER)]) else {
        return;
    };
    let pid = start_and_main_pid(&m, "sleeper.service", "sleep");
    m.expect(0, &["stop", "sleeper.service"]);
    m.wait_gone(pid, "stop");
    let out = m.expect(3, &["is-active", "sleeper.service"]);
    assert_eq!(out.stdout.trim(), "inactive", "{}", out.dump());
    assert_eq!(m.main_pid("sleeper.service"), 0);
    // Stopping an inactive unit is fine too.
    m.expect(0, &["stop", "sleeper.service"]);
}

#[test]
fn restart_gives_a_new_main_pid() {
    let Some(m) = UserManager::start(&[("sleeper.service", SLEEPER)]) else {
        return;
    };
    let old = start_and_main_pid(&m, "sleeper.service", "sleep");
    m.expect(0, &["restart", "sleeper.service"]);
    let new = m.main_pid("sleeper.service");
    assert_ne!(new, 0);
    assert_ne!(new, old, "restart runs a new process");
    assert!(pid_alive(new) && argv0_is(new, "sleep"));
    m.wait_gone(old, "restart stops the old process");
    assert_eq!(m.show("sleeper.service", "ActiveState"), "active");
}

#[test]
fn status_of_unknown_unit_exits_4() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    let out = m.expect(4, &["status", "nosuch.service"]);
    m.check(
        out.all()
            .contains("Unit nosuch.service could not be found."),
        "not-found message",
        &out,
    );
    // Unit objects exist on demand: the properties are readable.
    assert_eq!(m.show("nosuch.service", "LoadState"), "not-found");
    assert_eq!(m.show("nosuch.service", "ActiveState"), "inactive");
    let out = m.expect(3, &["is-active", "nosuch.service"]);
    assert_eq!(out.stdout.trim(), "inactive", "{}", out.dump());
}

#[test]
fn start_of_unknown_unit_exits_5() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    let out = m.expect(5, &["start", "nosuch.service"]);
    m.check(
        out.stderr
            .contains("Failed to start nosuch.service: Unit nosuch.service not found."),
        "NoSuchUnit message",
        &out,
    );
}

#[test]
fn failing_oneshot_fails_the_job_and_the_unit() {
    let unit = "[Service]\nType=oneshot\nExecStart=/bin/false\n";
    let Some(m) = UserManager::start(&[("fail.service", unit)]) else {
        return;
    };
    let out = m.expect(1, &["start", "fail.service"]);
    m.check(
        out.stderr.contains("Job for fail.service failed"),
        "job failure message",
        &out,
    );
    let out = m.expect(0, &["is-failed", "fail.service"]);
    assert_eq!(out.stdout.trim(), "failed", "{}", out.dump());
    assert_eq!(m.show("fail.service", "Result"), "exit-code");
    assert_eq!(m.show("fail.service", "ExecMainStatus"), "1");
    let out = m.expect(3, &["status", "fail.service"]);
    m.check(
        out.stdout.contains("Active: failed (Result: exit-code)"),
        "status shows failed (Result: exit-code)",
        &out,
    );
}

#[test]
fn exec_type_with_missing_binary_fails_the_job() {
    let unit = "[Service]\nType=exec\nExecStart=/nonexistent/unitd-test-binary\n";
    let Some(m) = UserManager::start(&[("missing.service", unit)]) else {
        return;
    };
    let out = m.expect(1, &["start", "missing.service"]);
    m.check(
        out.stderr.contains("Job for missing.service failed"),
        "job failure message",
        &out,
    );
    let out = m.expect(0, &["is-failed", "missing.service"]);
    assert_eq!(out.stdout.trim(), "failed", "{}", out.dump());
    assert_eq!(m.show("missing.service", "Result"), "exit-code");
    // systemd's EXIT_EXEC.
    assert_eq!(m.show("missing.service", "ExecMainStatus"), "203");
}

#[test]
fn oneshot_with_remain_after_exit_is_active_exited() {
    let marker_unit = |marker: &str| {
        format!(
            "[Unit]\nDescription=Setup step\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\n\
             ExecStart=/bin/touch {marker}\n"
        )
    };
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    let marker = m.dir.path().join("setup-ran");
    m.write_unit("setup.service", &marker_unit(&marker.display().to_string()));
    m.expect(0, &["start", "setup.service"]);
    assert!(
        marker.exists(),
        "ExecStart ran before the start job finished"
    );
    let out = m.expect(0, &["status", "setup.service"]);
    m.check(
        out.stdout.contains("Active: active (exited)"),
        "Active: active (exited)",
        &out,
    );
    let out = m.expect(0, &["is-active", "setup.service"]);
    assert_eq!(out.stdout.trim(), "active");
    assert_eq!(m.show("setup.service", "SubState"), "exited");
    assert_eq!(m.main_pid("setup.service"), 0);
}

#[test]
fn forking_daemon_without_pidfile_is_tracked_by_its_real_pid() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    let pid_file = m.dir.path().join("daemon.pid");
    // A classic daemon: the start process backgrounds the real worker and exits.
    let script = m.write_script(
        "forker.sh",
        &format!(
            "/bin/sleep 4242 </dev/null >/dev/null 2>&1 &\necho $! > {}\nexit 0\n",
            pid_file.display()
        ),
    );
    m.write_unit(
        "forker.service",
        &format!(
            "[Unit]\nDescription=Forking daemon\n\n[Service]\nType=forking\nExecStart={}\n",
            script.display()
        ),
    );
    m.expect(0, &["start", "forker.service"]);
    let worker: u32 = std::fs::read_to_string(&pid_file)
        .expect("the start script wrote the worker's PID")
        .trim()
        .parse()
        .expect("PID");
    m.track(worker);
    assert!(pid_alive(worker));
    assert_eq!(
        proc_cmdline(worker),
        ["/bin/sleep", "4242"],
        "found via /proc"
    );
    assert_eq!(
        m.main_pid("forker.service"),
        worker,
        "MainPID is the backgrounded worker, guessed without PIDFile"
    );
    let out = m.expect(0, &["status", "forker.service"]);
    m.check(
        out.stdout.contains("Active: active (running)"),
        "Active: active (running)",
        &out,
    );
    m.expect(0, &["stop", "forker.service"]);
    m.wait_gone(worker, "stop of a forking service kills its main process");
}

#[test]
fn daemon_reload_picks_up_an_edited_unit_file() {
    let unit =
        |d: &str| format!("[Unit]\nDescription={d}\n\n[Service]\nExecStart=/bin/sleep infinity\n");
    let Some(m) = UserManager::start(&[("edit.service", &unit("First description"))]) else {
        return;
    };
    assert_eq!(m.show("edit.service", "Description"), "First description");
    m.write_unit("edit.service", &unit("Second description"));
    m.expect(0, &["daemon-reload"]);
    assert_eq!(m.show("edit.service", "Description"), "Second description");
    assert_eq!(m.show("edit.service", "NeedDaemonReload"), "no");
    // A unit added after start-up is found after daemon-reload as well.
    m.write_unit("added.service", &unit("Added later"));
    m.expect(0, &["daemon-reload"]);
    assert_eq!(m.show("added.service", "LoadState"), "loaded");
    assert_eq!(m.show("added.service", "Description"), "Added later");
}

#[test]
fn stop_escalates_to_sigkill_when_sigterm_is_ignored() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    // sh ignores SIGTERM, and the ignored disposition survives exec: sleep ignores it too.
    let script = m.write_script("stubborn.sh", "trap '' TERM\nexec /bin/sleep 4343\n");
    m.write_unit(
        "stubborn.service",
        &format!(
            "[Service]\nType=simple\nExecStart={}\nTimeoutStopSec=1\n",
            script.display()
        ),
    );
    m.expect(0, &["start", "stubborn.service"]);
    let pid = m.wait_prop(
        "stubborn.service",
        "MainPID",
        "main process has exec'd sleep",
        |v| {
            v.parse::<u32>()
                .is_ok_and(|p| p != 0 && proc_cmdline(p) == ["/bin/sleep", "4343"])
        },
    );
    let pid: u32 = pid.parse().expect("PID");
    m.track(pid);
    m.expect(0, &["stop", "stubborn.service"]);
    m.wait_gone(pid, "SIGKILL after TimeoutStopSec");
    assert_eq!(m.show("stubborn.service", "Result"), "timeout");
    let out = m.expect(0, &["is-failed", "stubborn.service"]);
    assert_eq!(out.stdout.trim(), "failed");
}

#[test]
fn restart_on_failure_restarts_with_a_new_main_pid() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    let dir = m.dir.path().display().to_string();
    // First run: wait for the test's go-ahead, then fail. Later runs: keep running.
    let script = m.write_script(
        "flaky.sh",
        &format!(
            "cd {dir}\n\
             if [ ! -e first-run-done ]; then\n\
               touch first-run-done\n\
               while [ ! -e go ]; do /bin/sleep 0.05; done\n\
               exit 1\n\
             fi\n\
             exec /bin/sleep 4444\n"
        ),
    );
    m.write_unit(
        "flaky.service",
        &format!(
            "[Service]\nType=simple\nExecStart={}\nRestart=on-failure\nRestartSec=100ms\n",
            script.display()
        ),
    );
    m.expect(0, &["start", "flaky.service"]);
    let first = m.main_pid("flaky.service");
    assert_ne!(first, 0);
    assert_eq!(m.show("flaky.service", "NRestarts"), "0");
    std::fs::write(m.dir.path().join("go"), "").expect("touch go");
    m.wait_prop("flaky.service", "NRestarts", "one automatic restart", |v| {
        v == "1"
    });
    let second = m
        .wait_prop(
            "flaky.service",
            "MainPID",
            "restarted main process runs",
            |v| {
                v.parse::<u32>().is_ok_and(|p| {
                    p != 0 && p != first && proc_cmdline(p) == ["/bin/sleep", "4444"]
                })
            },
        )
        .parse()
        .expect("PID");
    m.track(second);
    m.wait_gone(first, "the failed first run is gone");
    assert_eq!(m.show("flaky.service", "ActiveState"), "active");
}

#[test]
fn daemon_stops_its_services_on_sigterm() {
    let Some(mut m) = UserManager::start(&[("sleeper.service", SLEEPER)]) else {
        return;
    };
    let pid = start_and_main_pid(&m, "sleeper.service", "sleep");
    let status = m.daemon_mut().expect("spawned daemon").terminate();
    assert!(
        status.success(),
        "unitd exits 0 on SIGTERM, got {status}\n{}",
        tail(&m.daemon_log(), 40)
    );
    m.wait_gone(pid, "services are stopped when unitd exits on SIGTERM");
}
