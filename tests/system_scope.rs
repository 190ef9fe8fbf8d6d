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
        let mut env = daemon_env(&dir);
        // Something only the daemon has: it must never reach a system service.
        env.push(("LEAKY_DAEMON_VAR".into(), "secret".into()));
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
        let daemon = spawn_system_daemon(&dir, &bus, &env, &[]);
        let m = SystemManager { daemon, bus, dir };
        Some(m)
    }

    fn env(&self) -> Vec<(String, String)> {
        let mut env = system_client_env(&self.dir, self.bus.address());
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
        systemctl_as_nobody(&self.env(), args)
    }

    /// `ARGS…` as root inside the daemon's mount namespace, with no bus address at all.
    fn in_daemon_ns(&self, program: &str, args: &[&str]) -> Output {
        let mut env = self.env();
        env.retain(|(k, _)| k != "DBUS_SYSTEM_BUS_ADDRESS" && k != "SYSTEMCTL_FORCE_BUS");
        in_mount_ns_of(self.daemon.pid(), program, args, &env)
    }

    /// `dbus-send --system --print-reply DEST PATH METHOD ARGS…` as nobody.
    fn dbus_send_nobody(&self, dest: &str, path: &str, method: &str, args: &[&str]) -> Output {
        let dest = format!("--dest={dest}");
        let mut full = vec![
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "dbus-send",
            "--system",
            "--print-reply",
            &dest,
            path,
            method,
        ];
        full.extend_from_slice(args);
        let mut cmd = in_namespace("setpriv", &full, &self.env());
        run_with_timeout(&mut cmd, &format!("nobody: dbus-send {method}"), TIMEOUT)
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

    // Upstart's EndSession is not supported at the system level: success, nothing ends.
    let mut cmd = in_namespace(
        "dbus-send",
        &[
            "--system",
            "--print-reply",
            "--dest=com.ubuntu.Upstart",
            "/com/ubuntu/Upstart",
            "com.ubuntu.Upstart0_6.EndSession",
        ],
        &m.env(),
    );
    m.expect(
        run_with_timeout(&mut cmd, "dbus-send EndSession", TIMEOUT),
        0,
    );
    let out = m.expect(m.systemctl(&["is-system-running"]), 0);
    assert_eq!(out.stdout.trim(), "running", "the system manager runs on");
}

/// Install verbs and the Upstart API: reads allowed, mutations refused — by the bus
/// (`Rejected send message`) or, on a permissive bus, by unitd (`Access denied`).
fn install_and_upstart_denied(m: &SystemManager, by_policy: bool) {
    let refusal = |out: &Output, what: &str| {
        assert_ne!(out.code, 0, "{what}: {}", out.dump());
        let text = if by_policy {
            "Rejected send message"
        } else {
            "org.freedesktop.DBus.Error.AccessDenied: Access denied"
        };
        assert!(out.stderr.contains(text), "{what}: {}", out.dump());
    };
    let out = m.systemctl_nobody(&["enable", "sleeper.service"]);
    assert_ne!(out.code, 0, "{}", out.dump());
    assert!(out.stderr.contains("ccess denied"), "{}", out.dump());
    assert!(
        !m.dir.path().join("etc").exists(),
        "nothing written by the refused enable"
    );
    let out = m.dbus_send_nobody(
        SYSTEMD1,
        "/org/freedesktop/systemd1",
        "org.freedesktop.systemd1.Manager.EnableUnitFiles",
        &[
            "array:string:sleeper.service",
            "boolean:false",
            "boolean:false",
        ],
    );
    refusal(&out, "EnableUnitFiles");
    let out = m.dbus_send_nobody(
        SYSTEMD1,
        "/org/freedesktop/systemd1",
        "org.freedesktop.systemd1.Manager.SetEnvironment",
        &["array:string:A=B"],
    );
    refusal(&out, "SetEnvironment");

    // Upstart: the job walk is open, EmitEvent and job Start are not.
    let upstart = "com.ubuntu.Upstart";
    let out = m.expect(
        m.dbus_send_nobody(
            upstart,
            "/com/ubuntu/Upstart",
            "com.ubuntu.Upstart0_6.GetAllJobs",
            &[],
        ),
        0,
    );
    assert!(
        out.stdout.contains("/com/ubuntu/Upstart/jobs/sleeper"),
        "{}",
        out.dump()
    );
    let out = m.dbus_send_nobody(
        upstart,
        "/com/ubuntu/Upstart",
        "com.ubuntu.Upstart0_6.EmitEvent",
        &["string:unitd-test-event", "array:string:", "boolean:false"],
    );
    refusal(&out, "EmitEvent");
    let out = m.dbus_send_nobody(
        upstart,
        "/com/ubuntu/Upstart/jobs/sleeper",
        "com.ubuntu.Upstart0_6.Job.Start",
        &["array:string:", "boolean:true"],
    );
    refusal(&out, "Job.Start");
    let out = m.expect(m.systemctl(&["is-active", "sleeper.service"]), 3);
    assert_eq!(out.stdout.trim(), "inactive", "nothing started");
}

#[test]
fn nobody_is_denied_by_the_shipped_policy() {
    let Some(m) = SystemManager::start(false) else {
        return;
    };
    denied_and_unchanged(&m);
    install_and_upstart_denied(&m, true);
}

#[test]
fn nobody_is_denied_by_the_daemon_on_a_permissive_bus() {
    let Some(m) = SystemManager::start(true) else {
        return;
    };
    denied_and_unchanged(&m);
    install_and_upstart_denied(&m, false);
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

#[test]
fn nobody_cannot_use_the_private_socket() {
    let Some(m) = SystemManager::start(false) else {
        return;
    };
    if which("nsenter").is_none() {
        return;
    }
    let ping = [
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "dbus-send",
        "--peer=unix:path=/run/systemd/private",
        "--print-reply",
        "--dest=org.freedesktop.systemd1",
        "/org/freedesktop/systemd1",
        "org.freedesktop.DBus.Peer.Ping",
    ];
    // 0600 root: the kernel refuses the connect.
    let out = m.in_daemon_ns("setpriv", &ping);
    assert_ne!(out.code, 0, "{}", out.dump());
    assert!(out.stderr.contains("Permission denied"), "{}", out.dump());
    // Even with the file mode opened up, unitd refuses the peer (SO_PEERCRED uid 65534).
    m.expect(
        m.in_daemon_ns("chmod", &["0666", "/run/systemd/private"]),
        0,
    );
    let out = m.in_daemon_ns("setpriv", &ping);
    assert_ne!(out.code, 0, "{}", out.dump());
    assert!(!out.stderr.contains("Permission denied"), "{}", out.dump());
    assert!(!out.stdout.contains("method return"), "{}", out.dump());
    // Root still gets in (the same call, without setpriv).
    let out = m.expect(m.in_daemon_ns("dbus-send", &ping[4..]), 0);
    assert!(out.stdout.contains("method return"), "{}", out.dump());
    let out = m.expect(
        m.in_daemon_ns("systemctl", &["--no-pager", "is-active", "sleeper.service"]),
        3,
    );
    assert_eq!(out.stdout.trim(), "inactive");
}

#[test]
fn system_services_get_their_credentials_and_only_the_documented_environment() {
    let Some(m) = SystemManager::start(false) else {
        return;
    };
    use std::os::unix::fs::PermissionsExt;
    let out_dir = m.dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    std::fs::set_permissions(&out_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let o = out_dir.display();
    m.dir.write_unit(
        "as-nobody.service",
        &format!(
            "[Service]\nType=oneshot\nUser=nobody\nGroup=nogroup\nSupplementaryGroups=adm\n\
             ExecStart=/bin/sh -c 'env > {o}/nobody.env; id -u > {o}/nobody.id; id -g >> {o}/nobody.id; id -G >> {o}/nobody.id'\n"
        ),
    );
    m.dir.write_unit(
        "as-root.service",
        &format!("[Service]\nType=oneshot\nExecStart=/bin/sh -c 'env > {o}/root.env'\n"),
    );
    m.expect(m.systemctl(&["daemon-reload"]), 0);
    m.expect(m.systemctl(&["start", "as-nobody.service"]), 0);
    m.expect(m.systemctl(&["start", "as-root.service"]), 0);

    let env_of = |f: &str| -> Vec<(String, String)> {
        std::fs::read_to_string(out_dir.join(f))
            .unwrap_or_else(|e| panic!("{f}: {e}"))
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    };
    let get = |env: &[(String, String)], k: &str| {
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    };
    // The documented exec environment (PWD and SHLVL come from the shell itself).
    let documented = [
        "PATH",
        "LANG",
        "LANGUAGE",
        "USER",
        "LOGNAME",
        "HOME",
        "SHELL",
        "INVOCATION_ID",
        "SYSTEMD_EXEC_PID",
        "MANAGERPID",
        "PWD",
        "SHLVL",
        "_",
    ];
    for f in ["nobody.env", "root.env"] {
        let env = env_of(f);
        let extra: Vec<&String> = env
            .iter()
            .map(|(k, _)| k)
            .filter(|k| !documented.contains(&k.as_str()) && !k.starts_with("LC_"))
            .collect();
        assert!(
            extra.is_empty(),
            "{f}: undocumented variables {extra:?} in {env:?}"
        );
        assert_eq!(get(&env, "LEAKY_DAEMON_VAR"), None);
        assert_eq!(
            get(&env, "PATH").as_deref(),
            Some("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
            "{f}"
        );
        assert_eq!(get(&env, "INVOCATION_ID").map(|v| v.len()), Some(32), "{f}");
    }
    let env = env_of("nobody.env");
    assert_eq!(get(&env, "USER").as_deref(), Some("nobody"));
    assert_eq!(get(&env, "LOGNAME").as_deref(), Some("nobody"));
    assert_eq!(get(&env, "HOME").as_deref(), Some("/nonexistent"));
    // systemd drops a nologin shell (USER_CREDS_CLEAN): no SHELL for nobody.
    assert_eq!(get(&env, "SHELL"), None);
    assert_eq!(get(&env_of("root.env"), "USER"), None, "no User=: no USER");

    // Credentials: uid/gid switched; the groups are nobody's own (initgroups) plus
    // SupplementaryGroups=, nothing of root's.
    let ids = std::fs::read_to_string(out_dir.join("nobody.id")).unwrap();
    let lines: Vec<&str> = ids.lines().collect();
    assert_eq!(lines[..2], ["65534", "65534"], "{ids}");
    let groups: std::collections::BTreeSet<u32> = lines[2]
        .split_whitespace()
        .map(|g| g.parse().unwrap())
        .collect();
    let mut id_cmd = Command::new("id");
    id_cmd.args(["-G", "nobody"]);
    let own = run_with_timeout(&mut id_cmd, "id -G nobody", TIMEOUT);
    let mut expected: std::collections::BTreeSet<u32> = own
        .stdout
        .split_whitespace()
        .map(|g| g.parse().unwrap())
        .collect();
    expected.insert(4); // adm
    assert_eq!(groups, expected, "{ids}");
    assert!(!groups.contains(&0));
}
