//! Acceptance: which unit a process belongs to. `GetUnitByPID` (what `systemctl --user status
//! PID` calls) finds a unit from any of its processes, not only the main one, and
//! `/org/freedesktop/systemd1/unit/self` resolves to the calling process's unit (the bus asks
//! the driver for the caller's PID).

mod common;

use common::*;

#[test]
fn status_by_pid_and_unit_self() {
    let dir_probe = TestDir::new();
    let child_pid_file = dir_probe.path().join("child.pid");
    let self_file = dir_probe.path().join("self.txt");
    let unit = format!(
        "[Service]\nExecStart=/bin/sh -c 'sleep 1000 & echo $! > {child}; \
         busctl --user get-property org.freedesktop.systemd1 \
         /org/freedesktop/systemd1/unit/self org.freedesktop.systemd1.Unit Id > {me}.tmp \
         && mv {me}.tmp {me}; wait'\n",
        child = child_pid_file.display(),
        me = self_file.display()
    );
    let Some(m) = UserManager::start_requiring(&[("forky.service", unit.as_str())], &["busctl"])
    else {
        return;
    };
    m.expect(0, &["start", "forky.service"]);
    let main = m.main_pid("forky.service");
    let child: u32 = wait_for_value("child pid written", TIMEOUT, || {
        read_lossy(&child_pid_file).trim().parse().ok()
    });
    m.track(child);
    assert_ne!(child, main);
    // A process that is neither main nor control PID still belongs to the unit.
    let out = m.expect(0, &["status", &child.to_string()]);
    m.check(
        out.stdout.starts_with("● forky.service"),
        "status PID shows the unit of a child process",
        &out,
    );
    // The unit's own process asked for /unit/self.
    let text = wait_for_value("unit/self answered", TIMEOUT, || {
        let t = read_lossy(&self_file);
        (!t.is_empty()).then_some(t)
    });
    assert_eq!(text.trim(), "s \"forky.service\"");
    // A PID of no unit: systemd's error and exit code.
    let out = m.systemctl(&["status", &std::process::id().to_string()]);
    m.check(
        out.code != 0 && out.stderr.contains("PID") && out.stderr.contains("does not belong"),
        "status of a foreign PID",
        &out,
    );
    m.expect(0, &["stop", "forky.service"]);
    m.wait_gone(child, "child stopped with the unit");
}

fn systemd_run(m: &UserManager, args: &[&str]) -> Output {
    let mut full = vec!["--user"];
    full.extend_from_slice(args);
    m.systemctl_runner().run_other("systemd-run", &full)
}

#[test]
fn systemd_run_scope_runs_the_command_in_a_scope() {
    let Some(m) = UserManager::start_requiring(&[], &["systemd-run"]) else {
        return;
    };
    // The client creates the scope with its own PID, reads InvocationID from unit/self, then
    // execs the command itself.
    let out = systemd_run(
        &m,
        &[
            "--scope",
            "--unit=hello",
            "/bin/sh",
            "-c",
            "echo pid=$$ inv=$INVOCATION_ID",
        ],
    );
    m.check(out.code == 0, "systemd-run --scope exits 0", &out);
    m.check(
        out.stderr.contains("Running scope as unit: hello.scope"),
        "names the scope",
        &out,
    );
    let inv = out
        .stdout
        .split_whitespace()
        .find_map(|w| w.strip_prefix("inv="))
        .unwrap_or_default()
        .to_string();
    m.check(inv.len() == 32, "INVOCATION_ID set from unit/self", &out);
    // The scope ended with its process and, unreferenced, was collected.
    m.wait_prop(
        "hello.scope",
        "LoadState",
        "finished scope collected",
        |v| v == "not-found",
    );

    // The command's exit status is the client's.
    let out = systemd_run(&m, &["--scope", "/bin/sh", "-c", "exit 3"]);
    m.check(out.code == 3, "exit status passed through", &out);
}

#[test]
fn a_running_scope_is_a_unit_like_any_other() {
    let Some(m) = UserManager::start_requiring(&[], &["systemd-run"]) else {
        return;
    };
    // Run the client in the background: it stays the scope's process (sleep).
    let mut cmd = in_namespace(
        "systemd-run",
        &["--user", "--scope", "--unit=nap", "/bin/sleep", "1000"],
        &client_env(m.bus.address(), &m.dir.xdg()),
    );
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let child = cmd.spawn().expect("spawn systemd-run");
    let pid = child.id();
    m.track(pid);
    m.wait_prop("nap.scope", "ActiveState", "scope running", |v| {
        v == "active"
    });
    assert_eq!(m.show("nap.scope", "SubState"), "running");
    // The Scope interface: the result so far and the stop behaviour.
    assert_eq!(m.show("nap.scope", "Result"), "success");
    assert_eq!(m.show("nap.scope", "KillMode"), "control-group");
    assert_eq!(m.show("nap.scope", "CanStop"), "yes");
    let out = m.expect(0, &["status", "nap.scope"]);
    m.check(
        out.stdout.starts_with("● nap.scope"),
        "status of the scope",
        &out,
    );
    // The sleeping process (systemd-run exec'd into it) belongs to the scope.
    let sleeper = wait_for_value("sleep running", TIMEOUT, || {
        // Only ours: other tests on the machine may run the same command.
        pids_with_cmdline(&["/bin/sleep", "1000"])
            .into_iter()
            .find(|&p| p == pid || proc_ppid(p) == Some(pid))
    });
    let out = m.expect(0, &["status", &sleeper.to_string()]);
    m.check(
        out.stdout.starts_with("● nap.scope"),
        "status PID names the scope",
        &out,
    );
    // Stopping the scope kills its processes.
    m.expect(0, &["stop", "nap.scope"]);
    m.wait_gone(sleeper, "scope process killed on stop");
    let mut child = child;
    let _ = child.wait();
}
