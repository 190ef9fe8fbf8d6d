//! Acceptance: sandboxing settings a manager cannot enforce are reported, never silently
//! ignored and never a start failure — once at load in the daemon log and the unit's own log,
//! in `systemctl status` (`Status: "unitd: not enforced: …"` while the service has not set its
//! own `STATUS=`), and by `unitd check` with file:line. The sandboxing settings themselves are
//! properties of the Service with systemd 252's signatures and encodings, which stock
//! `systemctl show` and `systemd-analyze security` read. Stock `systemctl` against a system
//! manager (root, in a private mount namespace) and a user manager.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

const ISOLATED: &str = "[Unit]\nDescription=Wants its own user namespace\n\n\
    [Service]\nExecStart=/bin/sleep infinity\nPrivateUsers=yes\nNoNewPrivileges=yes\n";
const PLAIN: &str = "[Service]\nExecStart=/bin/sleep infinity\n";

/// `unitd ARGS…` with a bounded wait.
fn unitd(args: &[&str]) -> Output {
    let mut cmd = Command::new(unitd_bin());
    cmd.args(args)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("NOTIFY_SOCKET");
    run_with_timeout(
        &mut cmd,
        &format!("unitd {}", args.join(" ")),
        Duration::from_secs(60),
    )
}

/// Every line of `expected` is a line of `out` (a `systemctl show`).
#[track_caller]
fn assert_lines(out: &Output, expected: &[&str]) {
    let lines: Vec<&str> = out.stdout.lines().collect();
    for expected in expected {
        assert!(
            lines.contains(expected),
            "{expected} missing:\n{}",
            out.stdout
        );
    }
}

/// The `Status:` line of `systemctl status` output, if any.
fn status_line(out: &Output) -> Option<String> {
    out.stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Status: "))
        .map(|l| l.trim().to_owned())
}

#[test]
fn a_system_manager_reports_what_it_cannot_enforce() {
    if !RealEnv::check() || skip_in_reference_mode("system scope runs unitd") {
        return;
    }
    if !nix::unistd::getuid().is_root() {
        eprintln!("skipped: a system manager needs root");
        return;
    }
    let dir = TestDir::new();
    dir.write_unit("isolated.service", ISOLATED);
    dir.write_unit("plain.service", PLAIN);
    let env = daemon_env(&dir);
    let bus = TestBus::start(&dir, BusKind::System, &env);
    let state = dir.state().display().to_string();
    let daemon = spawn_system_daemon(&dir, &bus, &env, &[]);
    let mut cenv = system_client_env(&dir, bus.address());
    cenv.push(("SYSTEMCTL_FORCE_BUS".into(), "1".into()));
    let systemctl = |args: &[&str]| {
        let mut full = vec!["--no-pager"];
        full.extend_from_slice(args);
        let mut cmd = in_namespace("systemctl", &full, &cenv);
        run_with_timeout(&mut cmd, &format!("systemctl {}", full.join(" ")), TIMEOUT)
    };
    let daemon_log = || read_lossy(&daemon.log);

    // Not a start failure: the service runs.
    let out = systemctl(&["start", "isolated.service", "plain.service"]);
    assert_eq!(out.code, 0, "{}\n{}", out.dump(), daemon_log());
    let out = systemctl(&["status", "isolated.service"]);
    assert_eq!(out.code, 0, "{}", out.dump());
    assert!(
        out.stdout.contains("Active: active (running)"),
        "{}",
        out.dump()
    );
    assert_eq!(
        status_line(&out).as_deref(),
        Some("Status: \"unitd: not enforced: PrivateUsers=yes\""),
        "{}",
        out.dump()
    );
    let out = systemctl(&["show", "-p", "StatusText", "isolated.service"]);
    assert_eq!(
        out.stdout.trim(),
        "StatusText=unitd: not enforced: PrivateUsers=yes"
    );
    // A unit asking for nothing unenforceable has no note.
    let out = systemctl(&["status", "plain.service"]);
    assert_eq!(status_line(&out), None, "{}", out.dump());

    // Once in the daemon log, naming the unit and the keys; once in the unit's own log.
    let log = daemon_log();
    let line = "isolated.service: not enforced by this manager: PrivateUsers=yes";
    assert_eq!(log.matches(line).count(), 1, "{log}");
    assert!(!log.contains("plain.service: not enforced"), "{log}");
    let logs = unitd(&[
        "logs",
        "--system",
        "--state-dir",
        &state,
        "isolated.service",
    ]);
    assert_eq!(logs.code, 0, "{}", logs.dump());
    assert_eq!(
        logs.stdout
            .matches("not enforced by this manager: PrivateUsers=yes")
            .count(),
        1,
        "{}",
        logs.dump()
    );

    // A daemon-reload that changes nothing reports nothing again; one that changes the
    // settings reports the new list.
    let out = systemctl(&["daemon-reload"]);
    assert_eq!(out.code, 0, "{}", out.dump());
    assert_eq!(daemon_log().matches(line).count(), 1, "{}", daemon_log());
    dir.write_unit(
        "isolated.service",
        &format!("{ISOLATED}RestrictFileSystems=ext4\n"),
    );
    let out = systemctl(&["daemon-reload"]);
    assert_eq!(out.code, 0, "{}", out.dump());
    let log = daemon_log();
    assert!(
        log.contains(
            "isolated.service: not enforced by this manager: PrivateUsers=yes, RestrictFileSystems=ext4"
        ),
        "{log}"
    );
    let out = systemctl(&["status", "isolated.service"]);
    assert_eq!(
        status_line(&out).as_deref(),
        Some("Status: \"unitd: not enforced: PrivateUsers=yes, RestrictFileSystems=ext4\""),
        "{}",
        out.dump()
    );
    let out = systemctl(&["stop", "isolated.service", "plain.service"]);
    assert_eq!(out.code, 0, "{}", out.dump());
}

#[test]
fn a_user_manager_reports_what_it_cannot_enforce() {
    let Some(m) =
        UserManager::start(&[("isolated.service", &format!("{ISOLATED}PrivateTmp=yes\n"))])
    else {
        return;
    };
    // A manager running as root can set up a mount namespace; one that does not, cannot.
    let expected = if nix::unistd::getuid().is_root() {
        "PrivateUsers=yes"
    } else {
        "PrivateTmp=, PrivateUsers=yes"
    };
    let out = m.systemctl(&["start", "isolated.service"]);
    assert_eq!(out.code, 0, "{}\n{}", out.dump(), m.daemon_log());
    let out = m.systemctl(&["status", "isolated.service"]);
    assert_eq!(out.code, 0, "{}", out.dump());
    assert_eq!(
        status_line(&out),
        Some(format!("Status: \"unitd: not enforced: {expected}\"")),
        "{}",
        out.dump()
    );
    assert!(
        m.daemon_log().contains(&format!(
            "isolated.service: not enforced by this manager: {expected}"
        )),
        "{}",
        m.daemon_log()
    );
    let out = m.systemctl(&["stop", "isolated.service"]);
    assert_eq!(out.code, 0, "{}", out.dump());
}

#[test]
fn check_lists_what_is_not_enforced_with_file_and_line() {
    let dir = TestDir::new();
    let unit = dir.write_unit(
        "isolated.service",
        "[Service]\nExecStart=/bin/true\nPrivateUsers=yes\nPrivateTmp=yes\n\
         ReadOnlyDirectories=/etc\n",
    );
    let dropins = dir.units().join("isolated.service.d");
    std::fs::create_dir_all(&dropins).unwrap();
    std::fs::write(dropins.join("x.conf"), "[Service]\nPrivateUsers=true\n").unwrap();
    let file = unit.display().to_string();
    let dropin = dropins.join("x.conf").display().to_string();

    let root = nix::unistd::getuid().is_root();
    let out = unitd(&["check", &file]);
    assert_eq!(out.code, 0, "warnings do not fail: {}", out.dump());
    let who = if root {
        "a manager running as root"
    } else {
        "a manager running without root"
    };
    // The drop-in's later assignment is the one reported.
    assert!(
        out.stderr.contains(&format!(
            "{dropin}:2: isolated.service: not enforced by {who}: PrivateUsers=true"
        )),
        "{}",
        out.dump()
    );
    assert_eq!(
        out.stderr.contains(&format!(
            "{file}:4: isolated.service: not enforced by a manager running without root: PrivateTmp="
        )),
        !root,
        "{}",
        out.dump()
    );

    // As an unprivileged user: the mount-namespace settings are listed too.
    if root && which("setpriv").is_some() {
        let mut cmd = as_nobody(unitd_bin());
        cmd.args(["check", &file])
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HOME", "/");
        let out = run_with_timeout(&mut cmd, "nobody: unitd check", Duration::from_secs(60));
        assert_eq!(out.code, 0, "{}", out.dump());
        for expected in [
            format!(
                "{dropin}:2: isolated.service: not enforced by a manager running without root: PrivateUsers=true"
            ),
            format!(
                "{file}:4: isolated.service: not enforced by a manager running without root: PrivateTmp="
            ),
            format!(
                "{file}:5: isolated.service: not enforced by a manager running without root: ReadOnlyPaths="
            ),
        ] {
            assert!(out.stderr.contains(&expected), "{expected}\n{}", out.dump());
        }
    }
}

const SANDBOXED: &str = "[Service]\nExecStart=/bin/sleep infinity\n\
    PrivateTmp=yes\nProtectSystem=strict\nProtectHome=read-only\nPrivateDevices=yes\n\
    ProtectKernelTunables=yes\nProtectControlGroups=yes\nNoNewPrivileges=yes\n\
    ReadWritePaths=/var/lib/sandboxed -/var/cache/sandboxed\nInaccessiblePaths=/boot\n\
    BindReadOnlyPaths=/etc/hostname:/run/hostname\nBindPaths=-/srv:/mnt:norbind\n\
    TemporaryFileSystem=/var/tmp:ro\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_CHOWN\n\
    AmbientCapabilities=CAP_NET_BIND_SERVICE\nSystemCallFilter=~@mount reboot:EPERM\n\
    SystemCallErrorNumber=EACCES\nSystemCallArchitectures=native\n\
    RestrictAddressFamilies=AF_UNIX AF_INET\nRestrictNamespaces=~user\nMountFlags=private\n\
    ProtectProc=invisible\nProcSubset=pid\nLockPersonality=yes\nRestrictRealtime=yes\n\
    PrivateUsers=yes\n";

#[test]
fn systemctl_show_reports_the_sandbox_properties() {
    let Some(m) = UserManager::start(&[("sandboxed.service", SANDBOXED), ("plain.service", PLAIN)])
    else {
        return;
    };
    let out = m.systemctl(&[
        "show",
        "-p",
        "PrivateTmp,ProtectSystem,ProtectHome,PrivateDevices,ProtectKernelTunables,\
         ProtectControlGroups,NoNewPrivileges,ReadWritePaths,InaccessiblePaths,BindPaths,\
         BindReadOnlyPaths,TemporaryFileSystem,CapabilityBoundingSet,AmbientCapabilities,\
         SystemCallFilter,SystemCallErrorNumber,SystemCallArchitectures,RestrictAddressFamilies,\
         RestrictNamespaces,MountFlags,ProtectProc,ProcSubset,LockPersonality,RestrictRealtime,\
         PrivateUsers,PrivateNetwork,ProtectClock,SecureBits",
        "sandboxed.service",
    ]);
    assert_eq!(out.code, 0, "{}", out.dump());
    assert_lines(
        &out,
        &[
            "SecureBits=0",
            "CapabilityBoundingSet=cap_chown cap_net_bind_service",
            "AmbientCapabilities=cap_net_bind_service",
            "ReadWritePaths=/var/lib/sandboxed -/var/cache/sandboxed",
            "InaccessiblePaths=/boot",
            "MountFlags=private",
            "PrivateTmp=yes",
            "PrivateDevices=yes",
            "ProtectClock=no",
            "ProtectKernelTunables=yes",
            "ProtectControlGroups=yes",
            "PrivateNetwork=no",
            "PrivateUsers=yes",
            "ProtectHome=read-only",
            "ProtectSystem=strict",
            "NoNewPrivileges=yes",
            "SystemCallArchitectures=native",
            "SystemCallErrorNumber=13",
            "LockPersonality=yes",
            "RestrictAddressFamilies=AF_INET AF_UNIX",
            "RestrictRealtime=yes",
            "RestrictNamespaces=cgroup ipc net mnt pid uts",
            // systemctl prints the option only for recursive bind mounts.
            "BindPaths=-/srv:/mnt",
            "BindReadOnlyPaths=/etc/hostname:/run/hostname:rbind",
            "TemporaryFileSystem=/var/tmp:ro",
            "ProtectProc=invisible",
            "ProcSubset=pid",
        ],
    );
    let lines: Vec<&str> = out.stdout.lines().collect();
    // The filter as systemd reports it: groups resolved to native system-call names.
    let filter = lines
        .iter()
        .find_map(|l| l.strip_prefix("SystemCallFilter=~"))
        .unwrap_or_default();
    let names: Vec<&str> = filter.split(' ').collect();
    for expected in ["mount", "umount2", "pivot_root", "reboot:EPERM"] {
        assert!(names.contains(&expected), "{expected}: {filter}");
    }
    assert!(!names.contains(&"write"), "{filter}");
    // Defaults as systemd reports them for a unit that sets nothing.
    let out = m.systemctl(&[
        "show",
        "-p",
        "CapabilityBoundingSet,SystemCallErrorNumber,RestrictNamespaces,SystemCallFilter,\
         RestrictAddressFamilies,ProtectSystem,KeyringMode,MountFlags",
        "plain.service",
    ]);
    assert_eq!(out.code, 0, "{}", out.dump());
    assert_lines(
        &out,
        &[
            "MountFlags=",
            "ProtectSystem=no",
            "SystemCallFilter=~",
            // systemd's "kill the process" marker (SECCOMP_ERROR_NUMBER_KILL).
            "SystemCallErrorNumber=2147483646",
            "RestrictAddressFamilies=~",
            "RestrictNamespaces=no",
            "KeyringMode=inherit",
        ],
    );
    let lines: Vec<&str> = out.stdout.lines().collect();
    let caps = lines
        .iter()
        .find_map(|l| l.strip_prefix("CapabilityBoundingSet="))
        .unwrap_or_default();
    assert!(
        caps.starts_with("cap_chown ") && caps.ends_with(" cap_checkpoint_restore"),
        "the unrestricted bounding set is every capability: {caps}"
    );
    // The stock security assessment reads them too.
    if which("systemd-analyze").is_some() {
        let out = m.systemctl_runner().run_other(
            "systemd-analyze",
            &["--user", "security", "--no-pager", "sandboxed.service"],
        );
        assert_eq!(out.code, 0, "{}", out.dump());
        for expected in [
            "Overall exposure level for sandboxed.service",
            "\u{2713} PrivateTmp=",
            "\u{2713} ProtectSystem=",
            "\u{2713} RestrictNamespaces=~user",
            "\u{2713} SystemCallFilter=~@mount",
            "\u{2713} CapabilityBoundingSet=~CAP_SYS_ADMIN",
            "\u{2717} PrivateNetwork=",
        ] {
            assert!(out.stdout.contains(expected), "{expected}: {}", out.dump());
        }
    }
}
