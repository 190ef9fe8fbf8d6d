//! Acceptance: `unitd serve --system` on a private system-type bus, driven by the stock
//! system-scope `systemctl` (`SYSTEMCTL_FORCE_BUS=1`, inside `unshare -m` with a tmpfs
//! `/run/systemd` and the `/run/systemd/system` marker). A non-root caller (`setpriv` to
//! nobody) may list and read but every mutation is refused with AccessDenied (exit 4) — by the
//! shipped bus policy, and by the daemon itself when the bus policy lets everything through.

mod common;

use std::process::Command;

use std::time::{Duration, Instant};

use common::*;

const SLEEPER: &str =
    "[Unit]\nDescription=System sleeper\n\n[Service]\nExecStart=/bin/sleep infinity\n";

/// A permissive system-type bus: anyone may send anything (only the daemon's check is left).
const PERMISSIVE: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
</busconfig>
"#;

struct SystemManager {
    daemon: NamespacedDaemon,
    bus: TestBus,
    dir: TestDir,
}

impl SystemManager {
    fn start(permissive: bool) -> Option<SystemManager> {
        if !RealEnv::check() || skip_in_reference_mode("system scope runs unitd") {
            return None;
        }
        if which("setpriv").is_none() {
            eprintln!("skipped: setpriv missing");
            return None;
        }
        let dir = TestDir::new();
        dir.write_unit("sleeper.service", SLEEPER);
        let env = daemon_env(&dir);
        let bus = if permissive {
            let base = dir.path().join("permissive.conf");
            std::fs::write(&base, PERMISSIVE).unwrap();
            TestBus::start_with_base(&dir, BusKind::System, &base, &env)
        } else {
            TestBus::start(&dir, BusKind::System, &env)
        };
        // In its own mount namespace with tmpfs on /run and /etc/systemd/system: the daemon's
        // /run/systemd/private, marker and notify socket never touch the host (nor another
        // test's daemon).
        let units = dir.units().display().to_string();
        let state = dir.state().display().to_string();
        let cmd = in_system_namespace(
            &unitd_bin(),
            &[
                "serve",
                "--system",
                "--mark-booted",
                // Abstract sockets are per network namespace: never claim the host's
                // @/com/ubuntu/upstart from a test.
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
        let daemon =
            NamespacedDaemon::spawn(cmd, dir.path().join("unitd.log"), "unitd serve --system");
        daemon.wait_for_name(&bus, SYSTEMD1);
        let m = SystemManager { daemon, bus, dir };
        Some(m)
    }

    fn env(&self) -> Vec<(String, String)> {
        let mut env = client_env("unix:path=/nonexistent", &self.dir.xdg());
        env.retain(|(k, _)| k != "DBUS_SESSION_BUS_ADDRESS" && k != "XDG_RUNTIME_DIR");
        env.push(("DBUS_SYSTEM_BUS_ADDRESS".into(), self.bus.address().into()));
        env.push(("SYSTEMCTL_FORCE_BUS".into(), "1".into()));
        env
    }

    /// `systemctl ARGS…` as root (system scope).
    fn systemctl(&self, args: &[&str]) -> Output {
        let mut full = vec!["--no-pager"];
        full.extend_from_slice(args);
        let mut cmd = in_namespace("systemctl", &full, &self.env());
        run_with_timeout(&mut cmd, &format!("systemctl {}", full.join(" ")), TIMEOUT)
    }

    /// `systemctl ARGS…` as nobody.
    fn systemctl_nobody(&self, args: &[&str]) -> Output {
        let mut full = vec![
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "systemctl",
            "--no-pager",
        ];
        full.extend_from_slice(args);
        let mut cmd = in_namespace("setpriv", &full, &self.env());
        run_with_timeout(
            &mut cmd,
            &format!("nobody: systemctl {}", args.join(" ")),
            TIMEOUT,
        )
    }

    /// `ARGS…` as root inside the daemon's mount namespace, with no bus address at all.
    fn in_daemon_ns(&self, program: &str, args: &[&str]) -> Output {
        let ns = format!("--mount=/proc/{}/ns/mnt", self.daemon.pid());
        let mut env = self.env();
        env.retain(|(k, _)| k != "DBUS_SYSTEM_BUS_ADDRESS" && k != "SYSTEMCTL_FORCE_BUS");
        let mut cmd = Command::new("nsenter");
        cmd.arg(&ns)
            .arg(program)
            .args(args)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        run_with_timeout(
            &mut cmd,
            &format!("nsenter {program} {}", args.join(" ")),
            TIMEOUT,
        )
    }

    #[track_caller]
    fn expect(&self, out: Output, code: i32) -> Output {
        assert_eq!(
            out.code,
            code,
            "{}\n--- unitd log ---\n{}",
            out.dump(),
            tail(&read_lossy(&self.daemon.log), 40)
        );
        out
    }
}

fn denied_and_unchanged(m: &SystemManager) {
    // Reads are open to everyone.
    let out = m.expect(m.systemctl_nobody(&["list-units", "--all"]), 0);
    assert!(out.stdout.contains("sleeper.service"), "{}", out.dump());
    let out = m.expect(m.systemctl_nobody(&["is-active", "sleeper.service"]), 3);
    assert_eq!(out.stdout.trim(), "inactive");
    // Mutations are not.
    let out = m.expect(m.systemctl_nobody(&["start", "sleeper.service"]), 4);
    assert!(
        out.stderr.contains("Failed to start sleeper.service")
            && out.stderr.contains("ccess denied"),
        "{}",
        out.dump()
    );
    m.expect(m.systemctl_nobody(&["set-environment", "A=B"]), 1);
    let out = m.expect(m.systemctl(&["is-active", "sleeper.service"]), 3);
    assert_eq!(out.stdout.trim(), "inactive", "nothing started");
    let out = m.expect(m.systemctl(&["show-environment"]), 0);
    assert!(!out.stdout.contains("A=B"), "{}", out.dump());
}

#[test]
fn root_drives_system_scope_over_the_bus() {
    let Some(m) = SystemManager::start(false) else {
        return;
    };
    m.expect(m.systemctl(&["start", "sleeper.service"]), 0);
    let out = m.expect(m.systemctl(&["status", "sleeper.service"]), 0);
    assert!(
        out.stdout.contains("Active: active (running)"),
        "{}",
        out.dump()
    );
    let pid: u32 = m
        .expect(
            m.systemctl(&["show", "-p", "MainPID", "--value", "sleeper.service"]),
            0,
        )
        .stdout
        .trim()
        .parse()
        .unwrap();
    assert!(pid_alive(pid));
    let out = m.expect(m.systemctl(&["is-system-running"]), 0);
    assert_eq!(out.stdout.trim(), "running");
    m.expect(m.systemctl(&["stop", "sleeper.service"]), 0);
    let deadline = Instant::now() + TIMEOUT;
    while pid_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!pid_alive(pid), "stopped");
    m.expect(m.systemctl(&["status", "nosuch.service"]), 4);
}

#[test]
fn nobody_is_denied_by_the_shipped_policy() {
    let Some(m) = SystemManager::start(false) else {
        return;
    };
    denied_and_unchanged(&m);
}

#[test]
fn nobody_is_denied_by_the_daemon_on_a_permissive_bus() {
    let Some(m) = SystemManager::start(true) else {
        return;
    };
    denied_and_unchanged(&m);
    // The refusal came from unitd, not from the bus.
    let out = m.expect(m.systemctl_nobody(&["stop", "sleeper.service"]), 4);
    assert!(out.stderr.contains("Access denied"), "{}", out.dump());
}

#[test]
fn root_uses_the_private_socket_in_the_daemons_namespace() {
    let Some(m) = SystemManager::start(false) else {
        return;
    };
    if which("nsenter").is_none() {
        return;
    }
    // The marker was created by --mark-booted; the socket is root-only.
    let out = m.expect(
        m.in_daemon_ns(
            "stat",
            &["-c", "%a %F", "/run/systemd/private", "/run/systemd/system"],
        ),
        0,
    );
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        ["600 socket", "755 directory"],
        "{}",
        out.dump()
    );
    m.expect(
        m.in_daemon_ns("systemctl", &["--no-pager", "start", "sleeper.service"]),
        0,
    );
    let out = m.expect(
        m.in_daemon_ns("systemctl", &["--no-pager", "is-active", "sleeper.service"]),
        0,
    );
    assert_eq!(out.stdout.trim(), "active");
    // The same daemon over the bus sees it too.
    let out = m.expect(m.systemctl(&["is-active", "sleeper.service"]), 0);
    assert_eq!(out.stdout.trim(), "active");
    m.expect(
        m.in_daemon_ns("systemctl", &["--no-pager", "stop", "sleeper.service"]),
        0,
    );
}
