//! Self-tests of the integration harness (tests/common): the parts that need no `unitd serve`.
//! Private buses start and stop cleanly, the checked-in bus configs and policy load and bite,
//! the namespace wrapper fakes `/run/systemd/system` without touching the host, stock
//! `systemctl --user` reaches only the private bus, and the activation-file template is what
//! the bus runs (with the environment the harness promises to the activated daemon).

mod common;

use std::fs;
use std::path::Path;

use common::*;

fn host_marker() -> bool {
    Path::new("/run/systemd/system").exists()
}

#[test]
fn session_bus_starts_answers_and_is_gone_after_drop() {
    if !RealEnv::check() {
        return;
    }
    let dir = TestDir::new();
    let bus = TestBus::start(&dir, BusKind::Session, &daemon_env(&dir));
    let expected = format!("unix:path={},", dir.path().join("bus").display());
    assert!(
        bus.address().starts_with(&expected),
        "address {:?} should start with {expected:?}",
        bus.address()
    );
    assert!(
        bus.socket().exists(),
        "socket file exists while the bus runs"
    );
    let pid = bus.pid();
    assert!(pid_alive(pid));
    // The driver answers, and reports itself as PID `pid`.
    assert!(bus.name_has_owner("org.freedesktop.DBus"));
    assert_eq!(bus.connection_pid("org.freedesktop.DBus"), Some(pid));
    // Nothing owns or could activate systemd1: the standard service dirs are not used.
    assert!(!bus.name_has_owner(SYSTEMD1));
    assert!(
        !bus.activatable_names().iter().any(|n| n == SYSTEMD1),
        "{SYSTEMD1} must not be activatable without our activation file: {:?}",
        bus.activatable_names()
    );
    let socket = bus.socket().to_path_buf();
    drop(bus);
    assert!(!pid_alive(pid), "dbus-daemon {pid} still alive after drop");
    assert!(
        !socket.exists(),
        "dbus-daemon removes its socket when it exits"
    );
}

#[test]
fn system_bus_policy_lets_root_own_systemd1_but_not_nobody() {
    if !RealEnv::check() {
        return;
    }
    if which("setpriv").is_none() {
        panic!("setpriv (util-linux) is missing");
    }
    let dir = TestDir::new();
    let bus = TestBus::start(&dir, BusKind::System, &daemon_env(&dir));
    let request = |prefix: &[&str]| {
        let mut args: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
        args.extend(
            [
                "dbus-send",
                &format!("--bus={}", bus.address()),
                "--print-reply=literal",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.RequestName",
                &format!("string:{SYSTEMD1}"),
                "uint32:4",
            ]
            .map(String::from),
        );
        let mut cmd = std::process::Command::new(&args[0]);
        cmd.args(&args[1..]).env_clear().env("PATH", STD_PATH);
        run_with_timeout(&mut cmd, &args.join(" "), TIMEOUT)
    };
    let root = request(&[]);
    assert_eq!(root.code, 0, "{}", root.dump());
    assert!(
        root.stdout.contains("uint32 1"),
        "root becomes primary owner: {}",
        root.dump()
    );
    let nobody = request(&[
        "setpriv",
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
    ]);
    assert_ne!(nobody.code, 0, "{}", nobody.dump());
    assert!(
        nobody.stderr.contains(&format!(
            "is not allowed to own the service \"{SYSTEMD1}\" due to security policies"
        )),
        "nobody is refused by dbus-policy/org.freedesktop.systemd1.conf: {}",
        nobody.dump()
    );
}

#[test]
fn namespace_fakes_run_systemd_system_without_touching_the_host() {
    if !RealEnv::check() {
        return;
    }
    let before = host_marker();
    let dir = TestDir::new();
    let env = client_env("unix:path=/nonexistent", &dir.xdg());
    let mut cmd = in_namespace(
        "sh",
        &[
            "-c",
            "test -d /run/systemd/system && test -z \"$(ls -A /run/systemd/system)\" \
             && ! test -e /run/systemd/private && echo inside-ok",
        ],
        &env,
    );
    let out = run_with_timeout(&mut cmd, "namespace probe", TIMEOUT);
    assert_eq!(out.code, 0, "{}", out.dump());
    assert_eq!(out.stdout.trim(), "inside-ok");
    assert_eq!(
        host_marker(),
        before,
        "the host's /run/systemd/system must be unchanged"
    );
    // The client environment carries no SYSTEMD_OFFLINE and a per-test XDG_RUNTIME_DIR.
    let mut cmd = in_namespace("env", &[], &env);
    let out = run_with_timeout(&mut cmd, "env", TIMEOUT);
    assert!(!out.stdout.contains("SYSTEMD_OFFLINE"), "{}", out.dump());
    assert!(
        out.stdout
            .contains(&format!("XDG_RUNTIME_DIR={}", dir.xdg().display())),
        "{}",
        out.dump()
    );
}

#[test]
fn stock_systemctl_reaches_only_the_private_bus() {
    if !RealEnv::check() {
        return;
    }
    let before = host_marker();
    let dir = TestDir::new();
    let bus = TestBus::start(&dir, BusKind::Session, &daemon_env(&dir));
    let systemctl = Systemctl::new(bus.address(), &dir.xdg());
    // With sd_booted() true, even an install verb goes over D-Bus — to a bus on which nothing
    // provides systemd1 (no standard service dirs).
    for args in [&["list-units"][..], &["is-enabled", "x.service"][..]] {
        let out = systemctl.run(args);
        assert_eq!(out.code, 1, "{}", out.dump());
        assert!(
            out.stderr.contains(&format!(
                "The name {SYSTEMD1} was not provided by any .service files"
            )),
            "systemctl talked to the private bus: {}",
            out.dump()
        );
    }
    assert_eq!(host_marker(), before);
}

#[test]
fn activation_template_runs_with_the_promised_environment() {
    if !RealEnv::check() {
        return;
    }
    let dir = TestDir::new();
    let env_file = dir.path().join("activated-env.txt");
    // A stand-in for the daemon: records its environment, writes to stderr, fails.
    let stand_in = dir.write_script(
        "stand-in.sh",
        &format!(
            "env > {}\necho stand-in-was-here >&2\nexit 1\n",
            env_file.display()
        ),
    );
    write_activation_file(&dir, &format!("{} serve --user", stand_in.display()));
    let bus = TestBus::start(&dir, BusKind::Session, &daemon_env(&dir));
    assert!(
        bus.activatable_names().iter().any(|n| n == SYSTEMD1),
        "{SYSTEMD1} is activatable from the test's servicedir"
    );
    let out = Systemctl::new(bus.address(), &dir.xdg()).run(&["list-units"]);
    assert_eq!(out.code, 1, "{}", out.dump());
    assert!(
        out.stderr
            .contains(&format!("Process {SYSTEMD1} exited with status 1")),
        "{}",
        out.dump()
    );
    let env = fs::read_to_string(&env_file).expect("stand-in ran and wrote its environment");
    let has = |kv: &str| env.lines().any(|l| l == kv);
    assert!(
        has(&format!("DBUS_STARTER_ADDRESS={}", bus.address())),
        "{env}"
    );
    assert!(has("DBUS_STARTER_BUS_TYPE=session"), "{env}");
    assert!(
        has(&format!("XDG_RUNTIME_DIR={}", dir.xdg().display())),
        "{env}"
    );
    assert!(has(&format!("HOME={}", dir.home().display())), "{env}");
    assert!(
        bus.log_text().contains("stand-in-was-here"),
        "activated services' stderr lands in the bus log:\n{}",
        bus.log_text()
    );
}

#[test]
fn tracked_pid_is_terminated_by_pid_and_recognised_by_start_time() {
    // No real-env requirement: plain processes.
    let mut child = std::process::Command::new("sleep")
        .arg("1000")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn sleep");
    let t = TrackedPid::new(child.id());
    assert!(t.alive());
    wait_for("sleep's cmdline", TIMEOUT, || {
        proc_cmdline(child.id()) == ["sleep", "1000"]
    });
    let killed = t.terminate(std::time::Duration::from_secs(5));
    let status = child.wait().expect("reap");
    assert!(killed);
    assert!(!status.success());
    assert!(!t.alive());
    assert!(!pid_alive(child.id()), "reaped child is gone");
}

#[test]
fn run_with_timeout_kills_a_hanging_command() {
    let result = std::panic::catch_unwind(|| {
        let mut cmd = std::process::Command::new("sleep");
        cmd.arg("1001");
        cmd.stderr(std::process::Stdio::null());
        run_with_timeout(
            &mut cmd,
            "sleep 1001",
            std::time::Duration::from_millis(200),
        )
    });
    let msg = match result {
        Ok(out) => panic!("expected a timeout panic, got {}", out.dump()),
        Err(e) => e.downcast_ref::<String>().cloned().unwrap_or_default(),
    };
    assert!(msg.contains("did not finish within"), "{msg}");
    assert!(
        pids_with_cmdline(&["sleep", "1001"])
            .iter()
            .all(|p| proc_ppid(*p) != Some(std::process::id())),
        "the timed-out child was killed and reaped"
    );
}
