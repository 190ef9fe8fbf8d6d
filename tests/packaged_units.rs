//! Acceptance for what packaged (Debian) unit files rely on, driven by the stock
//! `systemctl --user` (systemd 252) against `unitd serve --user` with real processes:
//! `RuntimeDirectory=` & co. (created before ExecStartPre, `$RUNTIME_DIRECTORY`, a PIDFile
//! inside, removed on stop per `RuntimeDirectoryPreserve=`), and the condition/assert status
//! lines `systemctl status` prints from the `Conditions`/`Asserts` properties.
//! Reference: service-contract.md §7.1, systemd.exec(5) "Automatic directory creation".

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;

#[test]
fn runtime_and_state_directories_in_user_scope() {
    // Written after the manager starts: the unit needs the test directory's path.
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    let seen = m.dir.path().join("seen");
    m.dir.write_unit(
        "kv.service",
        &format!(
            "[Service]\nType=forking\nPIDFile=%t/kv/kv.pid\n\
             RuntimeDirectory=kv\nRuntimeDirectoryMode=0700\n\
             StateDirectory=kv\nCacheDirectory=kv\nLogsDirectory=kv\nConfigurationDirectory=kv\n\
             ExecStartPre=/bin/sh -c 'test -d \"$RUNTIME_DIRECTORY\" && env > {seen}'\n\
             ExecStart=/bin/sh -c 'sleep infinity </dev/null >/dev/null 2>&1 & \
             echo $! > \"$RUNTIME_DIRECTORY/kv.pid\"'\n",
            seen = seen.display()
        ),
    );
    m.expect(0, &["daemon-reload"]);
    m.expect(0, &["start", "kv.service"]);
    let pid = m.main_pid("kv.service");
    assert_ne!(pid, 0, "MainPID from the PIDFile under RuntimeDirectory=");
    assert_eq!(proc_cmdline(pid), ["sleep", "infinity"]);

    let run = m.dir.xdg().join("kv");
    let config = m.dir.home().join(".config");
    let env = std::fs::read_to_string(&seen).expect("ExecStartPre ran and saw its directory");
    let want = [
        ("RUNTIME_DIRECTORY", run.clone()),
        // systemd 252: user-scope state and logs live below $XDG_CONFIG_HOME.
        ("STATE_DIRECTORY", config.join("kv")),
        ("CACHE_DIRECTORY", m.dir.home().join(".cache/kv")),
        ("LOGS_DIRECTORY", config.join("log/kv")),
        ("CONFIGURATION_DIRECTORY", config.join("kv")),
    ];
    for (k, v) in &want {
        let line = format!("{k}={}", v.display());
        assert!(
            env.lines().any(|l| l == line),
            "{line} in the environment:\n{env}"
        );
        assert!(v.is_dir(), "{} exists", v.display());
    }
    let mode = std::fs::metadata(&run).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o700, "RuntimeDirectoryMode=");
    std::fs::write(config.join("kv/data"), "kept").unwrap();

    m.expect(0, &["stop", "kv.service"]);
    m.wait_gone(pid, "kv.service's daemon after stop");
    assert_eq!(m.show("kv.service", "ActiveState"), "inactive");
    assert!(!run.exists(), "RuntimeDirectory= removed on stop");
    assert!(
        config.join("kv/data").exists(),
        "StateDirectory= contents survive a stop"
    );
}

#[test]
fn runtime_directory_preserve_restart_keeps_it_across_restart() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    m.dir.write_unit(
        "keep.service",
        "[Service]\nRuntimeDirectory=keep\nRuntimeDirectoryPreserve=restart\n\
         ExecStart=/bin/sleep infinity\n",
    );
    m.expect(0, &["daemon-reload"]);
    m.expect(0, &["start", "keep.service"]);
    let first = m.main_pid("keep.service");
    let marker = m.dir.xdg().join("keep/marker");
    std::fs::write(&marker, "x").unwrap();
    m.expect(0, &["restart", "keep.service"]);
    m.wait_gone(first, "the first main process after restart");
    let second = m.main_pid("keep.service");
    assert_ne!(first, second);
    assert!(marker.exists(), "kept across a restart job");
    m.expect(0, &["stop", "keep.service"]);
    m.wait_gone(second, "the main process after stop");
    assert!(!m.dir.xdg().join("keep").exists(), "removed on a real stop");
}

#[test]
fn condition_failed_status_lines_and_assert_failure() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    let missing = m.dir.path().join("missing");
    let present = m.dir.path().join("units");
    m.dir.write_unit(
        "cond.service",
        &format!(
            "[Unit]\nDescription=Conditional\nConditionPathExists={}\n\
             ConditionPathIsDirectory=!{}\nConditionPathExists={}\n\n\
             [Service]\nExecStart=/bin/sleep infinity\n",
            missing.display(),
            present.display(),
            present.display()
        ),
    );
    m.dir.write_unit(
        "asserted.service",
        &format!(
            "[Unit]\nAssertPathExists={}\n\n[Service]\nExecStart=/bin/sleep infinity\n",
            missing.display()
        ),
    );
    m.expect(0, &["daemon-reload"]);
    // A failed condition is not an error: the job is done, the unit stays inactive.
    m.expect(0, &["start", "cond.service"]);
    assert_eq!(m.show("cond.service", "ActiveState"), "inactive");
    assert_eq!(m.show("cond.service", "ConditionResult"), "no");
    assert_eq!(m.show("cond.service", "MainPID"), "0");
    let out = m.expect(3, &["status", "cond.service"]);
    m.check(
        out.stdout.contains("Condition: start condition failed at"),
        "status shows the failed start condition",
        &out,
    );
    let not_met: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains("was not met"))
        .collect();
    m.check(
        not_met.len() == 2
            && not_met[0].contains(&format!(
                "ConditionPathExists={} was not met",
                missing.display()
            ))
            && not_met[1].contains(&format!(
                "ConditionPathIsDirectory=!{} was not met",
                present.display()
            )),
        "one `was not met` line per failed check, in file order",
        &out,
    );

    // A failed assertion fails the job (exit 1) but not the unit.
    let out = m.expect(1, &["start", "asserted.service"]);
    m.check(
        out.stderr.contains("Assertion failed"),
        "systemctl names the failed assertion",
        &out,
    );
    assert_eq!(m.show("asserted.service", "AssertResult"), "no");
    assert_eq!(m.show("asserted.service", "ActiveState"), "inactive");
    let out = m.expect(3, &["status", "asserted.service"]);
    m.check(
        out.stdout.contains("Assert: start assertion failed at")
            && out.stdout.contains(&format!(
                "AssertPathExists={} was not met",
                missing.display()
            )),
        "status shows the failed assertion",
        &out,
    );
}
