//! Acceptance: bus activation. No daemon is started by the test: the private bus's only
//! service directory holds `org.freedesktop.systemd1.service`, generated from
//! `dbus-policy/test/org.freedesktop.systemd1.service.in` with `Exec=` = the built `unitd serve
//! --user --unit-path … --state-dir …`. The first stock `systemctl --user` call makes
//! dbus-daemon start unitd, which connects to `$DBUS_STARTER_ADDRESS`. Teardown kills the
//! activated daemon by the PID the bus reports (GetConnectionUnixProcessID).

mod common;

use common::verbs;
use common::*;

const SLEEPER: &str = "\
[Unit]
Description=Activated sleeper

[Service]
ExecStart=/bin/sleep infinity
";

#[track_caller]
fn activated(units: &[(&str, &str)]) -> Option<UserManager> {
    let m = UserManager::start_with(Start::Activated, units)?;
    assert!(
        m.bus.activatable_names().iter().any(|n| n == SYSTEMD1),
        "{SYSTEMD1} is activatable from the test's servicedir"
    );
    assert!(
        !m.bus.name_has_owner(SYSTEMD1),
        "nothing owns {SYSTEMD1} before the first call"
    );
    Some(m)
}

#[track_caller]
fn assert_is_our_unitd(m: &UserManager) -> u32 {
    let pid = m
        .daemon_pid()
        .expect("after the first call the bus reports the owner's PID");
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).expect("readlink /proc/PID/exe");
    assert_eq!(exe, unitd_bin(), "the activated owner is the built unitd");
    let argv = proc_cmdline(pid);
    assert_eq!(
        argv.get(1..3),
        Some(&["serve".to_string(), "--user".to_string()][..]),
        "{argv:?}"
    );
    pid
}

#[test]
fn first_systemctl_call_activates_unitd_and_start_status_stop_work() {
    let Some(m) = activated(&[("sleeper.service", SLEEPER)]) else {
        return;
    };
    m.expect(0, &["start", "sleeper.service"]);
    let daemon = assert_is_our_unitd(&m);
    let pid = m.main_pid("sleeper.service");
    assert_ne!(pid, 0);
    assert_eq!(proc_cmdline(pid), ["/bin/sleep", "infinity"]);

    verbs::status_shows_running(&m, "sleeper.service", pid);

    m.expect(0, &["stop", "sleeper.service"]);
    m.wait_gone(pid, "stop");
    let out = m.expect(3, &["is-active", "sleeper.service"]);
    assert_eq!(out.stdout.trim(), "inactive");
    // Still the same daemon: activation happened exactly once.
    assert_eq!(m.bus.connection_pid(SYSTEMD1), Some(daemon));
}

#[test]
fn list_units_as_first_call_activates_unitd() {
    let Some(m) = activated(&[("sleeper.service", SLEEPER)]) else {
        return;
    };
    let out = m.expect(0, &["list-units", "--all"]);
    assert_is_our_unitd(&m);
    m.check(
        out.stdout.contains("loaded units listed"),
        "list-units footer",
        &out,
    );
}

#[test]
fn activated_daemon_exits_when_the_bus_goes_away() {
    let Some(m) = activated(&[("sleeper.service", SLEEPER)]) else {
        return;
    };
    m.expect(0, &["start", "sleeper.service"]);
    let daemon = TrackedPid::new(assert_is_our_unitd(&m));
    let service = m.main_pid("sleeper.service");
    // Tear down in the order a real session ends: the bus first. unitd must notice the lost
    // connection and exit (stopping its services) instead of running on a dead socket.
    let bus_pid = TrackedPid::new(m.bus.pid());
    bus_pid.terminate(TIMEOUT);
    wait_for("unitd exits after losing its bus", TIMEOUT, || {
        !daemon.alive()
    });
    m.wait_gone(service, "services stop when unitd exits on bus loss");
}

const ONESHOT_ENV: &str = "\
[Unit]
Description=Writes the manager environment it got

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo \"$UNITD_IDLE_TEST\" > \"$OUT\"'
";

#[test]
fn exit_idle_leaves_when_idle_and_the_next_call_reactivates_with_state() {
    let Some(m) = UserManager::start_with_args(
        Start::Activated,
        &[
            ("sleeper.service", SLEEPER),
            ("show-env.service", ONESHOT_ENV),
        ],
        &["--exit-idle", "1"],
    ) else {
        return;
    };
    let out_file = m.dir.path().join("env-out");
    m.expect(
        0,
        &[
            "set-environment",
            "UNITD_IDLE_TEST=kept",
            &format!("OUT={}", out_file.display()),
        ],
    );
    let first = TrackedPid::new(assert_is_our_unitd(&m));

    // A running service keeps the manager: several idle periods pass and it stays.
    m.expect(0, &["start", "sleeper.service"]);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(first.alive(), "unitd left while sleeper.service ran");
    m.expect(0, &["stop", "sleeper.service"]);

    // Idle: it leaves by itself and gives up the name.
    wait_for("unitd exits when idle", TIMEOUT, || !first.alive());
    assert!(!m.bus.name_has_owner(SYSTEMD1), "the name is free again");
    m.forget_activated();

    // The next call activates a new instance with the units and the environment intact.
    let out = m.expect(0, &["show-environment"]);
    m.check(
        out.stdout.lines().any(|l| l == "UNITD_IDLE_TEST=kept"),
        "environment survives the idle exit",
        &out,
    );
    let second = m.daemon_pid().expect("re-activated after the idle exit");
    assert_ne!(second, first.pid, "a new instance");
    let out = m.expect(0, &["list-units", "--all"]);
    m.check(
        out.stdout.contains("sleeper.service"),
        "units still known",
        &out,
    );
    m.expect(0, &["start", "show-env.service"]);
    assert_eq!(
        std::fs::read_to_string(&out_file)
            .unwrap_or_default()
            .trim(),
        "kept",
        "services get the restored environment"
    );
    m.expect(0, &["start", "sleeper.service"]);
    let pid = m.main_pid("sleeper.service");
    assert_ne!(pid, 0);
    m.expect(0, &["stop", "sleeper.service"]);
    m.wait_gone(pid, "stop after re-activation");
}

#[test]
fn exit_idle_is_refused_in_system_scope() {
    if skip_in_reference_mode("runs unitd") {
        return;
    }
    let mut cmd = std::process::Command::new(unitd_bin());
    cmd.args([
        "serve",
        "--system",
        "--exit-idle",
        "5",
        "--bus",
        "unix:path=/nonexistent",
    ]);
    let out = run_with_timeout(&mut cmd, "unitd serve --system --exit-idle", TIMEOUT);
    assert_eq!(out.code, 2, "{}", out.dump());
    assert!(
        out.stderr.contains("--exit-idle is for the user manager"),
        "{}",
        out.dump()
    );
}

#[test]
fn system_bus_with_the_shipped_policy_activates_unitd_on_the_first_list_units() {
    if !RealEnv::check() || skip_in_reference_mode("bus activation starts unitd") {
        return;
    }
    let dir = TestDir::new();
    dir.write_unit("sleeper.service", SLEEPER);
    // dbus-policy/test/system.conf: Debian's default-deny system bus plus the shipped
    // org.freedesktop.systemd1.conf and com.ubuntu.Upstart.conf.
    let exec = format!(
        "{} serve --system --upstart-p2p none --unit-path {} --state-dir {}",
        unitd_bin().display(),
        dir.units().display(),
        dir.state().display()
    );
    write_activation_file(&dir, &exec);
    let conf = std::fs::read_to_string(repo_root().join("dbus-policy/test/bus.conf.in"))
        .unwrap()
        .replace(
            "@BASECONF@",
            &repo_root()
                .join("dbus-policy/test/system.conf")
                .display()
                .to_string(),
        )
        .replace("@SERVICEDIR@", &dir.services().display().to_string());
    // The bus (and so the unitd it activates) gets a private /run and /var/lib.
    let (bus, address) = spawn_private_run_bus(&dir, &conf, &daemon_env(&dir));
    let owner = || {
        let mut cmd = std::process::Command::new("busctl");
        cmd.arg(format!("--address={address}"))
            .args([
                "call",
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "GetConnectionUnixProcessID",
                "s",
                SYSTEMD1,
            ])
            .env_clear()
            .env("PATH", STD_PATH);
        let out = run_with_timeout(&mut cmd, "busctl GetConnectionUnixProcessID", TIMEOUT);
        (out.code == 0)
            .then(|| out.stdout.split_whitespace().nth(1)?.parse::<u32>().ok())
            .flatten()
    };
    assert_eq!(
        owner(),
        None,
        "nothing owns {SYSTEMD1} before the first call"
    );

    let mut env = system_client_env(&dir, &address);
    env.push(("SYSTEMCTL_FORCE_BUS".into(), "1".into()));
    let mut cmd = in_namespace("systemctl", &["--no-pager", "list-units", "--all"], &env);
    let out = run_with_timeout(&mut cmd, "systemctl list-units --all", TIMEOUT);
    let daemon = owner().map(TrackedPid::new);
    // Stopped (before the bus) even when an assertion below fails.
    let _stop = StopOnDrop(daemon);
    assert_eq!(
        out.code,
        0,
        "{}\n--- bus log ---\n{}",
        out.dump(),
        read_lossy(&bus.log)
    );
    assert!(out.stdout.contains("sleeper.service"), "{}", out.dump());
    let daemon = daemon.expect("the first call activated an owner");
    assert_eq!(
        std::fs::read_link(format!("/proc/{}/exe", daemon.pid)).unwrap(),
        unitd_bin()
    );
    assert_eq!(
        proc_cmdline(daemon.pid).get(1..3),
        Some(&["serve".to_string(), "--system".to_string()][..])
    );
    drop(_stop);
    drop(bus);
}

/// Terminates a bus-activated daemon when dropped.
struct StopOnDrop(Option<TrackedPid>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(p) = self.0 {
            p.terminate(TIMEOUT);
        }
    }
}
