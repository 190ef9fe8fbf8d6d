//! Acceptance: the rest of `systemctl --user`'s verbs (reload, try-restart, reload-or-restart,
//! kill, reset-failed, show, cat, list-units filters, list-jobs, environment verbs,
//! is-system-running, `start --wait`) and `dbus-update-activation-environment --systemd`,
//! stock binaries against `unitd serve --user` on a private session bus. Exit codes and texts
//! are systemd 252's (systemd-clients.md §5, §7).

mod common;

use common::*;

const SLEEPER: &str = "\
[Unit]
Description=Sleeper for tests

[Service]
ExecStart=/bin/sleep infinity
";

/// A service whose reload command appends a line to `log`.
fn reloadable(log: &std::path::Path) -> String {
    format!(
        "[Unit]\nDescription=Reloadable\n\n[Service]\nExecStart=/bin/sleep infinity\n\
         ExecReload=/bin/sh -c 'echo reloaded >> {}'\n",
        log.display()
    )
}

#[track_caller]
fn running_pid(m: &UserManager, unit: &str) -> u32 {
    let pid = m.main_pid(unit);
    assert_ne!(pid, 0, "{unit} has a MainPID");
    assert!(pid_alive(pid), "MainPID {pid} of {unit} is alive");
    pid
}

#[test]
fn reload_try_restart_and_reload_or_restart() {
    let Some(m) = UserManager::start(&[("sleeper.service", SLEEPER)]) else {
        return;
    };
    let log = m.dir.path().join("reload.log");
    m.write_unit("reloadable.service", &reloadable(&log));

    // try-restart of an inactive unit: nothing to do, success, still inactive.
    m.expect(0, &["try-restart", "sleeper.service"]);
    assert_eq!(m.show("sleeper.service", "ActiveState"), "inactive");

    // reload of a unit without ExecReload=: the job type does not apply.
    m.expect(0, &["start", "sleeper.service"]);
    let pid1 = running_pid(&m, "sleeper.service");
    // JobTypeNotApplicable is systemctl's EXIT_NOTIMPLEMENTED (3).
    let out = m.expect(3, &["reload", "sleeper.service"]);
    m.check(
        out.stderr.contains("Failed to reload sleeper.service")
            && out.stderr.contains("Job type reload is not applicable"),
        "reload without ExecReload= fails like systemd",
        &out,
    );
    // try-restart of an active unit restarts it.
    m.expect(0, &["try-restart", "sleeper.service"]);
    m.wait_gone(pid1, "try-restart");
    let pid2 = running_pid(&m, "sleeper.service");
    assert_ne!(pid1, pid2);
    // reload-or-restart of a unit that cannot reload restarts it.
    m.expect(0, &["reload-or-restart", "sleeper.service"]);
    m.wait_gone(pid2, "reload-or-restart");
    running_pid(&m, "sleeper.service");

    // A unit with ExecReload=: reload runs it and keeps the main process.
    m.expect(0, &["start", "reloadable.service"]);
    let rpid = running_pid(&m, "reloadable.service");
    m.expect(0, &["reload", "reloadable.service"]);
    assert_eq!(read_lossy(&log).lines().count(), 1, "ExecReload ran once");
    m.expect(0, &["reload-or-restart", "reloadable.service"]);
    assert_eq!(
        read_lossy(&log).lines().count(),
        2,
        "reload-or-restart reloaded"
    );
    assert_eq!(running_pid(&m, "reloadable.service"), rpid, "no restart");

    // Unknown units: 5 like start.
    let out = m.expect(5, &["reload", "nosuch.service"]);
    m.check(
        out.stderr
            .contains("Failed to reload nosuch.service: Unit nosuch.service not found."),
        "reload of an unknown unit",
        &out,
    );
}

#[test]
fn kill_with_signal_then_reset_failed() {
    let Some(m) = UserManager::start(&[("sleeper.service", SLEEPER)]) else {
        return;
    };
    m.expect(0, &["start", "sleeper.service"]);
    let pid = running_pid(&m, "sleeper.service");
    m.expect(0, &["kill", "-s", "KILL", "sleeper.service"]);
    m.wait_gone(pid, "kill -s KILL");
    m.wait_prop(
        "sleeper.service",
        "ActiveState",
        "failed after SIGKILL",
        |v| v == "failed",
    );
    assert_eq!(m.show("sleeper.service", "Result"), "signal");
    let out = m.expect(0, &["is-failed", "sleeper.service"]);
    assert_eq!(out.stdout.trim(), "failed");
    // A failed unit degrades the system.
    let out = m.expect(1, &["is-system-running"]);
    assert_eq!(out.stdout.trim(), "degraded", "{}", out.dump());
    let out = m.expect(0, &["list-units", "--failed"]);
    m.check(
        list_units_row(&out.stdout, "sleeper.service").is_some(),
        "list-units --failed lists the failed unit",
        &out,
    );

    m.expect(0, &["reset-failed", "sleeper.service"]);
    let out = m.expect(1, &["is-failed", "sleeper.service"]);
    assert_eq!(out.stdout.trim(), "inactive");
    let out = m.expect(0, &["is-system-running"]);
    assert_eq!(out.stdout.trim(), "running", "{}", out.dump());

    // kill with the default signal (SIGTERM): a clean stop, not a failure.
    m.expect(0, &["start", "sleeper.service"]);
    let pid = running_pid(&m, "sleeper.service");
    m.expect(0, &["kill", "sleeper.service"]);
    m.wait_gone(pid, "kill");
    m.wait_prop(
        "sleeper.service",
        "ActiveState",
        "inactive after SIGTERM",
        |v| v == "inactive",
    );
    // kill of a unit that is not loaded.
    let out = m.expect(1, &["kill", "nosuch.service"]);
    m.check(
        out.stderr.contains("nosuch.service"),
        "kill of an unknown unit names it",
        &out,
    );
    // reset-failed without arguments.
    m.expect(0, &["reset-failed"]);
}

#[test]
fn show_value_and_cat_with_drop_ins() {
    let Some(m) = UserManager::start(&[("sleeper.service", SLEEPER)]) else {
        return;
    };
    let dropin_dir = m.dir.units().join("sleeper.service.d");
    std::fs::create_dir_all(&dropin_dir).unwrap();
    std::fs::write(
        dropin_dir.join("10-desc.conf"),
        "[Unit]\nDescription=Overridden sleeper\n",
    )
    .unwrap();
    m.expect(0, &["daemon-reload"]);
    let frag = m.dir.units().join("sleeper.service");
    assert_eq!(
        m.show("sleeper.service", "FragmentPath"),
        frag.display().to_string()
    );
    assert_eq!(
        m.show("sleeper.service", "DropInPaths"),
        dropin_dir.join("10-desc.conf").display().to_string()
    );
    assert_eq!(
        m.show("sleeper.service", "Description"),
        "Overridden sleeper"
    );
    let out = m.expect(0, &["show", "-p", "Id,LoadState", "sleeper.service"]);
    assert_eq!(
        out.stdout.trim(),
        "Id=sleeper.service\nLoadState=loaded",
        "{}",
        out.dump()
    );
    let out = m.expect(0, &["cat", "sleeper.service"]);
    m.check(
        out.stdout.contains(&format!(
            "# {}\n[Unit]\nDescription=Sleeper",
            frag.display()
        )) && out.stdout.contains(&format!(
            "# {}\n[Unit]\nDescription=Overridden",
            dropin_dir.join("10-desc.conf").display()
        )),
        "cat prints the fragment and the drop-in with path headers",
        &out,
    );
    let out = m.expect(1, &["cat", "nosuch.service"]);
    m.check(
        out.stderr.contains("No files found for nosuch.service."),
        "cat of an unknown unit",
        &out,
    );
}

#[test]
fn list_units_filters_and_list_jobs() {
    let Some(m) = UserManager::start(&[("sleeper.service", SLEEPER), ("other.service", SLEEPER)])
    else {
        return;
    };
    m.expect(0, &["start", "sleeper.service"]);
    running_pid(&m, "sleeper.service");
    // Without --all inactive units are hidden; with --all they show.
    let out = m.expect(0, &["list-units"]);
    m.check(
        list_units_row(&out.stdout, "other.service").is_none(),
        "inactive unit hidden without --all",
        &out,
    );
    let out = m.expect(0, &["list-units", "--all"]);
    m.check(
        list_units_row(&out.stdout, "other.service")
            .is_some_and(|r| r[1..4] == ["loaded", "inactive", "dead"]),
        "--all lists the inactive unit",
        &out,
    );
    let out = m.expect(0, &["list-units", "--all", "--state=inactive", "*.service"]);
    m.check(
        list_units_row(&out.stdout, "other.service").is_some()
            && list_units_row(&out.stdout, "sleeper.service").is_none(),
        "--state=inactive keeps only inactive units",
        &out,
    );
    let out = m.expect(0, &["list-units", "--state=running", "sleep*"]);
    m.check(
        list_units_row(&out.stdout, "sleeper.service").is_some()
            && list_units_row(&out.stdout, "other.service").is_none(),
        "--state=running with a pattern",
        &out,
    );
    let out = m.expect(0, &["list-jobs"]);
    assert_eq!(out.stdout.trim(), "No jobs running.", "{}", out.dump());

    // A job that waits: a oneshot ordered after a slow oneshot start, seen by list-jobs.
    m.write_unit(
        "slow.service",
        "[Service]\nType=oneshot\nExecStart=/bin/sleep 30\n",
    );
    m.expect(0, &["daemon-reload"]);
    m.expect(0, &["start", "--no-block", "slow.service"]);
    let out = m.expect(0, &["list-jobs"]);
    m.check(
        out.stdout.contains("slow.service") && out.stdout.contains("start"),
        "list-jobs shows the running start job",
        &out,
    );
    m.check(
        out.stdout.contains("1 jobs listed."),
        "list-jobs footer",
        &out,
    );
    m.expect(0, &["stop", "slow.service"]);
    let out = m.expect(0, &["list-jobs"]);
    assert_eq!(out.stdout.trim(), "No jobs running.", "{}", out.dump());
}

#[test]
fn environment_verbs_and_activation_environment() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    let out_file = m.dir.path().join("env.out");
    m.write_unit(
        "envdump.service",
        &format!(
            "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'env > {}'\n",
            out_file.display()
        ),
    );
    m.expect(0, &["set-environment", "ALPHA=one", "BETA=two words"]);
    let out = m.expect(0, &["show-environment"]);
    m.check(
        out.stdout.lines().any(|l| l == "ALPHA=one")
            && out.stdout.lines().any(|l| l == "BETA=$'two words'"),
        "show-environment lists the assignments, shell-quoted",
        &out,
    );
    m.expect(0, &["unset-environment", "ALPHA"]);
    let out = m.expect(0, &["show-environment"]);
    m.check(
        !out.stdout.contains("ALPHA="),
        "unset-environment removed ALPHA",
        &out,
    );
    let out = m.expect(1, &["set-environment", "1BAD=x"]);
    m.check(
        out.stderr.contains("Failed to set environment"),
        "invalid assignment rejected",
        &out,
    );

    if which("dbus-update-activation-environment").is_some() {
        let out = m.systemctl_runner().run_other(
            "dbus-update-activation-environment",
            &["--systemd", "FOO=bar"],
        );
        m.check(out.code == 0, "dbus-update-activation-environment", &out);
        let out = m.expect(0, &["show-environment"]);
        m.check(
            out.stdout.lines().any(|l| l == "FOO=bar"),
            "FOO=bar reached the manager",
            &out,
        );
    } else {
        m.expect(0, &["set-environment", "FOO=bar"]);
    }
    m.expect(0, &["start", "envdump.service"]);
    let env = read_lossy(&out_file);
    assert!(
        env.lines().any(|l| l == "FOO=bar") && env.lines().any(|l| l == "BETA=two words"),
        "a unit started afterwards sees the manager environment:\n{env}"
    );
    assert!(!env.contains("ALPHA="), "{env}");
}

#[test]
fn start_wait_returns_when_the_unit_ends() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    let marker = m.dir.path().join("done");
    m.write_unit(
        "brief.service",
        &format!(
            "[Service]\nExecStart=/bin/sh -c 'sleep 1; touch {}'\n",
            marker.display()
        ),
    );
    m.write_unit(
        "fails.service",
        "[Service]\nExecStart=/bin/sh -c 'sleep 1; exit 3'\n",
    );
    // A simple service: the start job finishes at once; --wait returns only when it ended.
    m.expect(0, &["start", "--wait", "brief.service"]);
    assert!(
        marker.exists(),
        "start --wait returned before the unit ended"
    );
    assert_eq!(m.show("brief.service", "ActiveState"), "inactive");
    let out = m.expect(1, &["start", "--wait", "fails.service"]);
    assert_eq!(
        m.show("fails.service", "ActiveState"),
        "failed",
        "{}",
        out.dump()
    );
}
