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
             RuntimeDirectory=kv:kv-compat\nRuntimeDirectoryMode=0700\n\
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
    assert_eq!(
        std::fs::read_link(m.dir.xdg().join("kv-compat")).unwrap(),
        std::path::PathBuf::from("kv"),
        "RuntimeDirectory=kv:kv-compat links kv-compat to kv"
    );
    std::fs::write(config.join("kv/data"), "kept").unwrap();
    assert_eq!(m.show("kv.service", "RuntimeDirectory"), "kv");
    assert_eq!(m.show("kv.service", "RuntimeDirectoryMode"), "0700");
    assert_eq!(m.show("kv.service", "StateDirectoryMode"), "0755");
    assert_eq!(m.show("kv.service", "RuntimeDirectoryPreserve"), "no");

    m.expect(0, &["stop", "kv.service"]);
    m.wait_gone(pid, "kv.service's daemon after stop");
    assert_eq!(m.show("kv.service", "ActiveState"), "inactive");
    assert!(!run.exists(), "RuntimeDirectory= removed on stop");
    assert!(
        std::fs::symlink_metadata(m.dir.xdg().join("kv-compat")).is_err(),
        "its symlink too"
    );
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

/// Lines of a file a service appends to (empty if it does not exist yet).
fn lines_of(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn aliases_by_symlink_and_alias_setting_with_also() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    m.write_unit(
        "redis-server.service",
        "[Unit]\nDescription=Packaged store\n\n[Service]\nExecStart=/bin/sleep infinity\n\n\
         [Install]\nWantedBy=default.target\nAlias=redis.service\nAlso=redis-helper.service\n",
    );
    m.write_unit(
        "redis-helper.service",
        "[Service]\nExecStart=/bin/sleep infinity\n\n[Install]\nWantedBy=default.target\n",
    );
    // A packaged alias symlink next to the unit.
    std::os::unix::fs::symlink("redis-server.service", m.dir.units().join("kv.service")).unwrap();
    m.expect(0, &["daemon-reload"]);

    m.expect(0, &["start", "kv.service"]);
    let pid = m.main_pid("redis-server.service");
    assert_ne!(pid, 0);
    assert_eq!(m.main_pid("kv.service"), pid, "one unit under both names");
    let out = m.expect(0, &["status", "kv.service"]);
    m.check(
        out.stdout.contains("redis-server.service - Packaged store")
            && out.stdout.contains(&format!("Main PID: {pid}")),
        "status through the alias shows the packaged unit and its Main PID",
        &out,
    );
    m.expect(0, &["stop", "kv.service"]);
    m.wait_gone(pid, "the store after stop through the alias");

    // enable creates the Alias= symlink and enables Also= units too.
    let out = m.expect(0, &["enable", "redis-server.service"]);
    let config = m.dir.home().join(".config/systemd/user");
    for link in [
        config.join("redis.service"),
        config.join("default.target.wants/redis-server.service"),
        config.join("default.target.wants/redis-helper.service"),
    ] {
        m.check(
            std::fs::symlink_metadata(&link).is_ok(),
            &format!("enable created {}", link.display()),
            &out,
        );
    }
    m.expect(0, &["daemon-reload"]);
    m.expect(0, &["start", "redis.service"]);
    let pid = m.main_pid("redis-server.service");
    assert_ne!(pid, 0, "started through the Alias= name");
    assert_eq!(m.show("redis.service", "Id"), "redis-server.service");
    assert_eq!(m.show("redis-helper.service", "UnitFileState"), "enabled");
    m.expect(0, &["stop", "redis.service"]);
    m.wait_gone(pid, "the store after stop through Alias=");
}

#[test]
fn templates_part_of_and_reload_propagation() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    let log = m.dir.path().join("log");
    let l = log.display();
    m.write_unit(
        "pg@.service",
        &format!(
            "[Unit]\nDescription=Cluster %i\nPropagatesReloadTo=pg-worker@%i.service\n\
             ReloadPropagatedFrom=pg.service\n\n\
             [Service]\nExecStart=/bin/sh -c 'echo start %i %I >> {l}; exec sleep infinity'\n\
             ExecReload=/bin/sh -c 'echo reload %i $MAINPID >> {l}'\n\
             ExecReload=/bin/sh -c 'echo reload-two %p >> {l}'\n"
        ),
    );
    m.write_unit(
        "pg-worker@.service",
        &format!(
            "[Unit]\nPartOf=pg@%i.service\nAfter=pg@%i.service\n\n\
             [Service]\nExecStart=/bin/sleep infinity\n\
             ExecReload=/bin/sh -c 'echo worker-reload %i >> {l}'\n"
        ),
    );
    m.write_unit(
        "pg.service",
        "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\nExecReload=/bin/true\n",
    );
    m.expect(0, &["daemon-reload"]);
    m.expect(
        0,
        &["start", "pg@15-main.service", "pg-worker@15-main.service"],
    );
    let main = m.main_pid("pg@15-main.service");
    let worker = m.main_pid("pg-worker@15-main.service");
    assert_ne!(main, 0);
    assert_ne!(worker, 0);
    assert_eq!(
        m.show("pg@15-main.service", "Description"),
        "Cluster 15-main"
    );
    m.wait_prop("pg@15-main.service", "ActiveState", "started", |v| {
        v == "active"
    });
    wait_for("the start line", TIMEOUT_LOG, || !lines_of(&log).is_empty());
    assert_eq!(lines_of(&log), ["start 15-main 15/main"], "%i and %I");

    // Reload: the ExecReload= list in order with $MAINPID, then the propagated reload.
    m.expect(0, &["reload", "pg@15-main.service"]);
    wait_for("the propagated reload", TIMEOUT_LOG, || {
        lines_of(&log).len() >= 4
    });
    assert_eq!(
        lines_of(&log),
        [
            "start 15-main 15/main".to_string(),
            format!("reload 15-main {main}"),
            "reload-two pg".to_string(),
            "worker-reload 15-main".to_string(),
        ]
    );
    assert_eq!(
        m.main_pid("pg@15-main.service"),
        main,
        "reload keeps the main PID"
    );

    // ReloadPropagatedFrom=: reloading the umbrella unit reloads the cluster (and on).
    m.expect(0, &["start", "pg.service"]);
    m.expect(0, &["reload", "pg.service"]);
    wait_for("the reload from pg.service", TIMEOUT_LOG, || {
        lines_of(&log).len() >= 7
    });
    assert_eq!(
        lines_of(&log)[4..],
        [
            format!("reload 15-main {main}"),
            "reload-two pg".to_string(),
            "worker-reload 15-main".to_string(),
        ]
    );

    // PartOf=: restarting and stopping the cluster takes the worker along.
    m.expect(0, &["restart", "pg@15-main.service"]);
    m.wait_gone(worker, "the worker after restarting what it is part of");
    let worker2 = m.main_pid("pg-worker@15-main.service");
    assert_ne!(worker2, 0, "the worker was restarted too");
    let main2 = m.main_pid("pg@15-main.service");
    m.expect(0, &["stop", "pg@15-main.service"]);
    m.wait_gone(worker2, "the worker after stopping what it is part of");
    m.wait_gone(main2, "the cluster after stop");
    assert_eq!(
        m.show("pg-worker@15-main.service", "ActiveState"),
        "inactive"
    );
}

const TIMEOUT_LOG: std::time::Duration = std::time::Duration::from_secs(30);

#[test]
fn kill_mode_mixed_and_success_exit_status_signals() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    let marks = m.dir.path().join("marks");
    let child_pid = m.dir.path().join("child.pid");
    // The main shell exits on SIGTERM with 143; its child would note a SIGTERM, but under
    // KillMode=mixed only the main process gets SIGTERM and the child gets SIGKILL.
    m.write_unit(
        "mixed.service",
        &format!(
            "[Service]\nKillMode=mixed\nSuccessExitStatus=143 SIGUSR1\n\
             ExecStart=/bin/sh -c '/bin/sh -c \"trap \\\\\"echo child-term >> {marks}; exit 0\\\\\" TERM; \
             echo \\\\$\\\\$ > {pidf}; while :; do sleep 0.2; done\" & \
             trap \"echo main-term >> {marks}; exit 143\" TERM; while :; do sleep 0.2; done'\n",
            marks = marks.display(),
            pidf = child_pid.display()
        ),
    );
    m.write_unit(
        "usr1.service",
        "[Service]\nSuccessExitStatus=143 SIGUSR1\nExecStart=/bin/sleep infinity\n",
    );
    m.expect(0, &["daemon-reload"]);
    m.expect(0, &["start", "mixed.service"]);
    let main = m.main_pid("mixed.service");
    let child: u32 = wait_for_value("the child's pid file", TIMEOUT_LOG, || {
        std::fs::read_to_string(&child_pid)
            .ok()?
            .trim()
            .parse()
            .ok()
    });
    m.track(child);
    m.expect(0, &["stop", "mixed.service"]);
    m.wait_gone(main, "main after stop");
    m.wait_gone(child, "child after stop");
    assert_eq!(
        lines_of(&marks),
        ["main-term"],
        "SIGTERM reached the main process only"
    );
    assert_eq!(m.show("mixed.service", "ActiveState"), "inactive");
    assert_eq!(
        m.show("mixed.service", "Result"),
        "success",
        "143 is a success status"
    );

    // A signal name in SuccessExitStatus=: dying of SIGUSR1 is clean.
    m.expect(0, &["start", "usr1.service"]);
    let pid = m.main_pid("usr1.service");
    assert!(send_signal(pid, "USR1"));
    m.wait_gone(pid, "usr1.service's main process");
    m.wait_prop("usr1.service", "ActiveState", "dead after SIGUSR1", |v| {
        v == "inactive" || v == "failed"
    });
    assert_eq!(m.show("usr1.service", "ActiveState"), "inactive");
    assert_eq!(m.show("usr1.service", "Result"), "success");
}

#[test]
fn forking_without_pidfile_guesses_and_environment_file_optional() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    let args = m.dir.path().join("args");
    m.write_unit(
        "fork.service",
        &format!(
            "[Service]\nType=forking\nEnvironmentFile=-{missing}\nEnvironmentFile=-{envf}\n\
             ExecStart=/bin/sh -c 'printf \"[%%s]\" \"$@\" > {args}; sleep infinity </dev/null >/dev/null 2>&1 &' sh \
             $SET $UNSET ${{UNSET}} ${{SET}}\n",
            missing = m.dir.path().join("no-such.env").display(),
            envf = m.dir.path().join("set.env").display(),
            args = args.display()
        ),
    );
    std::fs::write(m.dir.path().join("set.env"), "SET=value\n").unwrap();
    m.expect(0, &["daemon-reload"]);
    m.expect(0, &["start", "fork.service"]);
    let pid = m.main_pid("fork.service");
    assert_ne!(pid, 0, "GuessMainPID found the daemon");
    assert_eq!(proc_cmdline(pid), ["sleep", "infinity"]);
    assert_eq!(
        std::fs::read_to_string(&args).unwrap(),
        "[value][][value]",
        "$UNSET vanishes, ${{UNSET}} is an empty argument"
    );
    m.expect(0, &["stop", "fork.service"]);
    m.wait_gone(pid, "the forked daemon after stop");
}

/// Terminates a service process this test started if the test ends before it is stopped.
struct KillOnDrop(TrackedPid);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.0.terminate(std::time::Duration::from_secs(1));
    }
}

/// A system-scope daemon's namespace for the directory tests: empty tmpfs on `/run` (with the
/// sd_booted marker) and on the system roots of `StateDirectory=`, `CacheDirectory=` and
/// `LogsDirectory=`, so nothing on the host is written.
const SYSTEM_DIRS_SCRIPT: &str = "set -e; \
    mount -t tmpfs -o mode=755 tmpfs /run; mkdir -p /run/systemd/system; \
    for d in /var/lib /var/cache /var/log; do mount -t tmpfs -o mode=755 tmpfs $d; done; \
    exec \"$@\"";

#[test]
fn system_scope_directories_owned_by_user_with_pidfile_under_run() {
    if !RealEnv::check() || skip_in_reference_mode("a unitd system daemon") {
        return;
    }
    if !nix::unistd::getuid().is_root() {
        eprintln!("skipped: system scope needs root");
        return;
    }
    let Ok(Some(nobody)) = nix::unistd::User::from_name("nobody") else {
        eprintln!("skipped: no user nobody");
        return;
    };
    let dir = TestDir::new();
    let pre = dir.path().join("pre");
    // `+`: the report is written with full privileges into the (root-owned) test directory.
    dir.write_unit(
        "kv.service",
        &format!(
            "[Unit]\nDescription=Key-value store\n\n[Service]\nType=forking\nUser=nobody\n\
             PIDFile=/run/kv/kv.pid\nRuntimeDirectory=kv\nRuntimeDirectoryMode=2750\n\
             StateDirectory=kv\nLogsDirectory=kv\nCacheDirectory=kv\n\
             ExecStartPre=+/bin/sh -c 'stat -c \"%%n %%u %%a\" /run/kv /var/lib/kv /var/log/kv \
             /var/cache/kv > {pre}; echo $RUNTIME_DIRECTORY $STATE_DIRECTORY >> {pre}'\n\
             ExecStart=/bin/sh -c 'sleep infinity </dev/null >/dev/null 2>&1 & echo $! > /run/kv/kv.pid'\n",
            pre = pre.display()
        ),
    );
    let env = daemon_env(&dir);
    let bus = TestBus::start(&dir, BusKind::System, &env);
    let units = dir.units().display().to_string();
    let state = dir.state().display().to_string();
    let cmd = unshare_script(
        SYSTEM_DIRS_SCRIPT,
        unitd_bin().as_os_str(),
        &[
            "serve",
            "--system",
            "--upstart-p2p",
            "none",
            "--bus",
            bus.address(),
            "--unit-path",
            &units,
            "--state-dir",
            &state,
        ],
        &env,
    );
    let daemon = NamespacedDaemon::spawn(cmd, dir.path().join("unitd.log"), "unitd serve --system");
    daemon.wait_for_name(&bus, SYSTEMD1);
    // Root's stock systemctl in the daemon's namespace, over /run/systemd/private.
    let ns_env: Vec<(String, String)> = [
        ("PATH", STD_PATH),
        ("LANG", "C.UTF-8"),
        ("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec();
    let in_ns = |program: &str, args: &[&str]| in_mount_ns_of(daemon.pid(), program, args, &ns_env);
    wait_for("/run/systemd/private", TIMEOUT, || {
        in_ns("test", &["-S", "/run/systemd/private"]).code == 0
    });
    let systemctl = |args: &[&str]| {
        let mut full = vec!["--no-pager"];
        full.extend_from_slice(args);
        let out = in_ns("systemctl", &full);
        assert_eq!(
            out.code,
            0,
            "{}\n--- daemon log ---\n{}",
            out.dump(),
            tail(&read_lossy(&daemon.log), 60)
        );
        out
    };
    systemctl(&["start", "kv.service"]);
    let pid: u32 = systemctl(&["show", "-p", "MainPID", "--value", "kv.service"])
        .stdout
        .trim()
        .parse()
        .unwrap();
    assert_ne!(pid, 0, "MainPID from /run/kv/kv.pid");
    let guard = KillOnDrop(TrackedPid::new(pid));
    assert_eq!(proc_cmdline(pid), ["sleep", "infinity"]);
    let uid = nobody.uid.as_raw();
    let report = std::fs::read_to_string(&pre).expect("ExecStartPre wrote its report");
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(
        lines,
        [
            format!("/run/kv {uid} 2750").as_str(),
            &format!("/var/lib/kv {uid} 755"),
            &format!("/var/log/kv {uid} 755"),
            &format!("/var/cache/kv {uid} 755"),
            "/run/kv /var/lib/kv",
        ],
        "created before ExecStartPre, owned by User=, with their modes"
    );
    let status = systemctl(&["status", "kv.service"]);
    assert!(
        status.stdout.contains(&format!("Main PID: {pid}")),
        "{}",
        status.dump()
    );
    systemctl(&["stop", "kv.service"]);
    wait_for("the store to exit", TIMEOUT, || !pid_alive(pid));
    drop(guard);
    assert_eq!(
        systemctl(&["show", "-p", "ActiveState", "--value", "kv.service"])
            .stdout
            .trim(),
        "inactive"
    );
    assert_ne!(
        in_ns("test", &["-e", "/run/kv"]).code,
        0,
        "/run/kv removed on stop"
    );
    assert_eq!(
        in_ns("test", &["-d", "/var/lib/kv"]).code,
        0,
        "/var/lib/kv stays"
    );
}

#[test]
fn forking_daemon_writing_its_pid_file_late() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    // The start process exits at once; the daemon writes its PID file a little later.
    let script = m.write_script(
        "late.sh",
        "sh -c 'sleep 0.5; echo $$ > \"$1\"; exec sleep infinity' late \"$1\" \
         </dev/null >/dev/null 2>&1 &\n",
    );
    m.write_unit(
        "late.service",
        &format!(
            "[Service]\nType=forking\nPIDFile=%t/late.pid\nExecStart={} %t/late.pid\n",
            script.display()
        ),
    );
    m.expect(0, &["daemon-reload"]);
    m.expect(0, &["start", "late.service"]);
    let pid = m.main_pid("late.service");
    assert_ne!(pid, 0, "the late PID file was waited for");
    assert_eq!(proc_cmdline(pid), ["sleep", "infinity"]);
    assert_eq!(m.show("late.service", "ActiveState"), "active");
    m.expect(0, &["stop", "late.service"]);
    m.wait_gone(pid, "the daemon after stop");
    assert!(
        !m.dir.xdg().join("late.pid").exists(),
        "the PID file is removed when the unit goes down"
    );
}
