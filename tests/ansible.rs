//! Acceptance: Ansible (ansible-core from PyPI, connection local) manages unitd's units with
//! `ansible.builtin.systemd_service` (`scope: user`, through the stock `systemctl --user`):
//! started/stopped/restarted, enabled yes/no and daemon_reload, each reporting `changed`
//! exactly when something changed. Ansible runs inside the harness's mount namespace, where
//! `/run/systemd/system` exists (its check that systemd is the init system).

mod common;

use common::*;

const SLEEPER: &str = "[Unit]\nDescription=Sleeps\n[Service]\nExecStart=/bin/sleep 1000\n\
                       [Install]\nWantedBy=default.target\n";

/// Run the module with `args`; returns (changed, output).
fn module(m: &UserManager, bin: &std::path::Path, args: &str) -> (bool, Output) {
    let tmp = m.dir.path().join("ansible");
    let ansible = bin.join("ansible");
    let python = bin.join("python");
    let out = m.systemctl_runner().run_other(
        "env",
        &[
            &format!("ANSIBLE_HOME={}", tmp.display()),
            &format!("ANSIBLE_LOCAL_TEMP={}/local", tmp.display()),
            &format!("ANSIBLE_REMOTE_TEMP={}/remote", tmp.display()),
            "ANSIBLE_NOCOLOR=1",
            "ANSIBLE_FORCE_COLOR=0",
            "ANSIBLE_LOAD_CALLBACK_PLUGINS=0",
            ansible.to_str().expect("utf-8 path"),
            "localhost",
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            &format!("ansible_python_interpreter={}", python.display()),
            "-m",
            "ansible.builtin.systemd_service",
            "-a",
            &format!("{args} scope=user"),
        ],
    );
    if out.code != 0 || !out.stdout.starts_with("localhost | ") {
        panic!(
            "ansible -a '{args}' failed\n{}\n--- daemon log (tail) ---\n{}",
            out.dump(),
            tail(&m.daemon_log(), 60)
        );
    }
    (out.stdout.starts_with("localhost | CHANGED"), out)
}

#[test]
fn ansible_systemd_service_module() {
    let Some(m) = UserManager::start(&[("sleeper.service", SLEEPER)]) else {
        return;
    };
    let Some(bin) = python_env("ansible_systemd_service_module") else {
        return;
    };
    let run = |args: &str, want_changed: bool, what: &str| {
        let (changed, out) = module(&m, &bin, args);
        m.check(changed == want_changed, what, &out);
    };

    run("name=sleeper.service state=started", true, "start: changed");
    assert_eq!(m.show("sleeper.service", "ActiveState"), "active");
    let pid = m.main_pid("sleeper.service");
    run(
        "name=sleeper.service state=started",
        false,
        "start again: unchanged",
    );
    assert_eq!(m.main_pid("sleeper.service"), pid);

    run(
        "name=sleeper.service state=restarted",
        true,
        "restart: changed",
    );
    let pid2 = m.main_pid("sleeper.service");
    assert!(pid2 != 0 && pid2 != pid, "restart gave a new main process");
    m.wait_gone(pid, "old main process gone after restart");

    run("name=sleeper.service state=stopped", true, "stop: changed");
    assert_eq!(m.show("sleeper.service", "ActiveState"), "inactive");
    m.wait_gone(pid2, "stopped");
    run(
        "name=sleeper.service state=stopped",
        false,
        "stop again: unchanged",
    );

    run("name=sleeper.service enabled=yes", true, "enable: changed");
    assert_eq!(
        m.expect(0, &["is-enabled", "sleeper.service"])
            .stdout
            .trim(),
        "enabled"
    );
    run(
        "name=sleeper.service enabled=yes",
        false,
        "enable again: unchanged",
    );
    run("name=sleeper.service enabled=no", true, "disable: changed");
    assert_eq!(
        m.expect(1, &["is-enabled", "sleeper.service"])
            .stdout
            .trim(),
        "disabled"
    );
    run(
        "name=sleeper.service enabled=no",
        false,
        "disable again: unchanged",
    );

    // daemon_reload picks up an edited unit file; on its own it changes no unit state.
    m.write_unit(
        "sleeper.service",
        &SLEEPER.replace("Description=Sleeps", "Description=Sleeps more"),
    );
    run("daemon_reload=yes", false, "daemon_reload alone: unchanged");
    assert_eq!(m.show("sleeper.service", "Description"), "Sleeps more");
    // Together with a state, the state decides.
    m.write_unit("late.service", "[Service]\nExecStart=/bin/sleep 1000\n");
    run(
        "name=late.service daemon_reload=yes state=started",
        true,
        "reload and start a new unit",
    );
    let late = m.main_pid("late.service");
    assert_ne!(late, 0);
    m.expect(0, &["stop", "late.service"]);
    m.wait_gone(late, "late stopped");
}
