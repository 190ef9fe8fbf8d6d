//! Acceptance: sandboxing properties of transient services (issue 7), as the stock
//! `systemd-run -p Key=value` sends them (systemd 252's D-Bus types), enforced like the same
//! settings in a unit file and read back by `systemctl show`, with systemd's errors for bad
//! values and wrong types.
//!
//! The user-manager tests check what any manager enforces (`NoNewPrivileges=`, system call
//! filters, address families) from inside the service (`/proc/self/status`, a refused call)
//! and compare every property with an identical unit file. The system-manager test runs a root
//! manager in its own mount namespace (as tests/sandbox_mounts.rs does) for the mount
//! settings. Nothing here can write the host even with a broken sandbox: services write only
//! into the test directory, and system paths are probed with `test -w`, which writes nothing.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::private_system::{PrivateSystemManager, REPORT};
use common::*;

fn tools_present() -> bool {
    for tool in ["systemd-run", "gdbus"] {
        if which(tool).is_none() {
            eprintln!("skipped: {tool} not installed");
            return false;
        }
    }
    true
}

/// The user manager, when the clients these tests drive are installed too.
fn manager() -> Option<UserManager> {
    let m = UserManager::start(&[])?;
    tools_present().then_some(m)
}

/// `out/` in the test directory with `subdirs` in it, and its path as text.
fn out_dir(m: &UserManager, subdirs: &[&str]) -> (PathBuf, String) {
    let out_dir = m.dir.path().join("out");
    for d in [""].iter().chain(subdirs) {
        fs::create_dir_all(out_dir.join(d)).unwrap();
    }
    let o = out_dir.display().to_string();
    (out_dir, o)
}

/// `systemd-run --user ARGS…` against the user manager.
fn run(m: &UserManager, args: &[&str]) -> Output {
    let mut full = vec!["--user"];
    full.extend_from_slice(args);
    m.systemctl_runner().run_other("systemd-run", &full)
}

/// `gdbus call … StartTransientUnit NAME fail PROPS []` (GVariant text for the `a(sv)`).
fn start_transient(m: &UserManager, name: &str, props: &str) -> Output {
    run_with_timeout(
        Command::new("gdbus")
            .args(["call", "--address", m.bus.address()])
            .args(["--dest", "org.freedesktop.systemd1"])
            .args(["--object-path", "/org/freedesktop/systemd1"])
            .args([
                "--method",
                "org.freedesktop.systemd1.Manager.StartTransientUnit",
                name,
                "fail",
                props,
                "[]",
            ]),
        "gdbus call StartTransientUnit",
        Duration::from_secs(20),
    )
}

/// `systemd-run --user --unit=UNIT -p Type=oneshot -p RemainAfterExit=yes -p SETTING…
/// COMMAND…`.
fn run_oneshot(m: &UserManager, unit: &str, settings: &[String], command: &[&str]) -> Output {
    let unit = format!("--unit={unit}");
    let mut args = vec![
        unit.as_str(),
        "-p",
        "Type=oneshot",
        "-p",
        "RemainAfterExit=yes",
    ];
    for s in settings {
        args.extend(["-p", s.as_str()]);
    }
    args.extend_from_slice(command);
    run(m, &args)
}

/// The same `settings` as a unit file `file` (a oneshot running `/bin/true`), started: the
/// `props` of `transient` read back identically to the file unit's; returns them.
#[track_caller]
fn same_as_file(
    m: &UserManager,
    transient: &str,
    file: &str,
    settings: &[String],
    props: &[&str],
) -> Vec<String> {
    let mut text =
        String::from("[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n");
    for s in settings {
        text.push_str(s);
        text.push('\n');
    }
    m.write_unit(file, &text);
    m.expect(0, &["daemon-reload"]);
    m.expect(0, &["start", file]);
    let lines = show_all(m, transient, props);
    assert_eq!(lines, show_all(m, file, props));
    lines
}

/// `systemctl show -p P…` of `unit`: the `P=value` lines, sorted.
fn show_all(m: &UserManager, unit: &str, props: &[&str]) -> Vec<String> {
    let mut args = vec!["show", unit];
    for p in props {
        args.push("-p");
        args.push(p);
    }
    let mut lines: Vec<String> = m
        .expect(0, &args)
        .stdout
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

/// Every sandboxing property the tests set, for comparing a transient unit with a file unit.
const PROPS: &[&str] = &[
    "NoNewPrivileges",
    "SystemCallFilter",
    "SystemCallErrorNumber",
    "SystemCallArchitectures",
    "RestrictAddressFamilies",
    "RestrictNamespaces",
    "CapabilityBoundingSet",
    "AmbientCapabilities",
    "LockPersonality",
    "RestrictRealtime",
    "RestrictSUIDSGID",
    "MemoryDenyWriteExecute",
    "ProtectClock",
    "PrivateTmp",
    "ProtectSystem",
    "ProtectHome",
    "ProtectProc",
    "ProcSubset",
    "ReadWritePaths",
    "ReadOnlyPaths",
    "InaccessiblePaths",
    "BindPaths",
    "BindReadOnlyPaths",
    "TemporaryFileSystem",
    "MountFlags",
    "SecureBits",
    "KeyringMode",
    "PrivateUsers",
];

#[test]
fn seccomp_and_no_new_privileges_from_systemd_run_are_enforced_and_read_back() {
    let Some(m) = manager() else {
        return;
    };
    let (out_dir, o) = out_dir(&m, &[]);
    // From inside: the flags the kernel reports, a call of a denied group (chroot to `/`,
    // harmless if it were allowed) and an AF_INET socket (bash's /dev/tcp).
    let script = format!(
        "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status > {o}/status; \
         if chroot / /bin/true 2> {o}/chroot.err; then echo allowed; else echo refused; fi \
           > {o}/chroot; \
         if [ -x /bin/bash ]; then \
           /bin/bash -c 'exec 3<>/dev/tcp/127.0.0.1/9' 2> {o}/inet.err; echo $? > {o}/inet; \
         fi"
    );
    let settings = [
        "NoNewPrivileges=yes",
        "SystemCallFilter=~@mount @reboot",
        "SystemCallFilter=~@swap",
        "SystemCallErrorNumber=EPERM",
        "SystemCallArchitectures=native",
        "RestrictAddressFamilies=AF_UNIX",
        "RestrictNamespaces=~user net",
        "CapabilityBoundingSet=~CAP_SYS_ADMIN CAP_NET_RAW",
        "AmbientCapabilities=CAP_CHOWN",
        "LockPersonality=yes",
        "RestrictRealtime=yes",
        "RestrictSUIDSGID=yes",
        "ProtectClock=yes",
        "SecureBits=keep-caps",
        "KeyringMode=private",
        "ProtectProc=invisible",
    ]
    .map(String::from);
    let out = run_oneshot(&m, "sec", &settings, &["/bin/sh", "-c", &script]);
    m.check(out.code == 0, "systemd-run with seccomp settings", &out);
    assert_eq!(m.show("sec.service", "ActiveState"), "active");

    let status = fs::read_to_string(out_dir.join("status")).unwrap();
    assert!(status.contains("NoNewPrivs:\t1"), "{status}");
    assert!(status.contains("Seccomp:\t2"), "{status}");
    let chroot = fs::read_to_string(out_dir.join("chroot")).unwrap();
    let err = fs::read_to_string(out_dir.join("chroot.err")).unwrap();
    assert_eq!(chroot.trim(), "refused", "{err}");
    assert!(err.contains("Operation not permitted"), "{err}");
    if out_dir.join("inet").exists() {
        let err = fs::read_to_string(out_dir.join("inet.err")).unwrap();
        assert!(
            err.contains("Address family not supported"),
            "AF_INET must be refused: {err}"
        );
    }

    // The same settings in a unit file read back identically.
    let transient = same_as_file(&m, "sec.service", "file.service", &settings, PROPS);
    for want in [
        "NoNewPrivileges=yes",
        "RestrictAddressFamilies=AF_UNIX",
        "SystemCallErrorNumber=1",
        "RestrictNamespaces=cgroup ipc mnt pid uts",
        "AmbientCapabilities=cap_chown",
        // systemctl prints the mask as a number.
        "SecureBits=16",
        "KeyringMode=private",
        "ProtectProc=invisible",
    ] {
        assert!(
            transient.iter().any(|l| l == want),
            "{want} not in {transient:#?}"
        );
    }
    let filter = transient
        .iter()
        .find(|l| l.starts_with("SystemCallFilter="))
        .unwrap();
    assert!(
        filter.starts_with("SystemCallFilter=~")
            && filter.contains("chroot")
            && filter.contains("reboot")
            && filter.contains("swapon"),
        "{filter}"
    );
    let bounding = transient
        .iter()
        .find(|l| l.starts_with("CapabilityBoundingSet="))
        .unwrap();
    assert!(
        !bounding.contains("cap_sys_admin")
            && !bounding.contains("cap_net_raw")
            && bounding.contains("cap_chown")
            // ProtectClock= drops these, as for the file unit.
            && !bounding.contains("cap_sys_time"),
        "{bounding}"
    );
    // Like systemd, sandboxing is fixed once the unit exists: set-property refuses it.
    let out = m.systemctl(&["set-property", "sec.service", "PrivateTmp=yes"]);
    assert_ne!(out.code, 0, "{}", out.dump());
    assert!(
        out.stderr
            .contains("Cannot set property PrivateTmp, or unknown property."),
        "{}",
        out.dump()
    );
    m.expect(0, &["stop", "sec.service", "file.service"]);
}

/// Every sandboxing property compared by [`every_property_systemd_run_sends_matches_a_unit_file`].
const ALL_PROPS: &[&str] = &[
    "PrivateDevices",
    "PrivateMounts",
    "PrivateNetwork",
    "PrivateIPC",
    "PrivateUsers",
    "ProtectSystem",
    "ProtectHome",
    "ProtectProc",
    "ProcSubset",
    "ProtectKernelTunables",
    "ProtectKernelModules",
    "ProtectKernelLogs",
    "ProtectControlGroups",
    "ProtectHostname",
    "ReadWritePaths",
    "ReadOnlyPaths",
    "InaccessiblePaths",
    "ExecPaths",
    "NoExecPaths",
    "BindPaths",
    "BindReadOnlyPaths",
    "TemporaryFileSystem",
    "MountFlags",
    "MountAPIVFS",
    "SystemCallLog",
    "RestrictFileSystems",
    "RemoveIPC",
    "MemoryDenyWriteExecute",
    "CapabilityBoundingSet",
    "NetworkNamespacePath",
    "IPCNamespacePath",
    "KeyringMode",
    "StatusText",
];

#[test]
fn every_property_systemd_run_sends_matches_a_unit_file() {
    let Some(m) = manager() else {
        return;
    };
    let (_, o) = out_dir(&m, &["ro", "c", "t"]);
    // Each value as stock systemd-run converts it (the D-Bus types must match what unitd
    // reads); paths that may not exist carry `-`. A manager running as root enforces the
    // mount settings in the service's own namespace; one that does not reports them.
    let settings = [
        "PrivateDevices=yes".to_owned(),
        "PrivateMounts=yes".into(),
        "PrivateNetwork=yes".into(),
        "PrivateIPC=yes".into(),
        "PrivateUsers=yes".into(),
        "ProtectSystem=full".into(),
        "ProtectHome=read-only".into(),
        "ProtectProc=noaccess".into(),
        "ProcSubset=pid".into(),
        "ProtectKernelTunables=yes".into(),
        "ProtectKernelModules=yes".into(),
        "ProtectKernelLogs=yes".into(),
        "ProtectControlGroups=yes".into(),
        "ProtectHostname=yes".into(),
        format!("ReadWritePaths={o} -{o}/missing"),
        format!("ReadOnlyPaths={o}/ro"),
        format!("InaccessiblePaths=-{o}/hidden"),
        format!("ExecPaths=-{o}/exec"),
        format!("NoExecPaths={o}/ro"),
        format!("BindPaths=-{o}/missing-src:{o}/b:norbind"),
        format!("BindReadOnlyPaths={o}/c"),
        format!("TemporaryFileSystem={o}/t:ro"),
        "MountFlags=slave".into(),
        "MountAPIVFS=yes".into(),
        "SystemCallLog=@clock".into(),
        "RestrictFileSystems=ext4 tmpfs".into(),
        "RemoveIPC=no".into(),
        "MemoryDenyWriteExecute=yes".into(),
        // The old name of ReadOnlyPaths=, and settings unitd records but does not implement.
        format!("ReadOnlyDirectories=-{o}/old"),
        "NetworkNamespacePath=/proc/self/ns/net".into(),
        "IPCNamespacePath=/proc/self/ns/ipc".into(),
        "KeyringMode=shared".into(),
    ];
    let out = run_oneshot(&m, "all", &settings, &["/bin/true"]);
    m.check(out.code == 0, "systemd-run with every setting", &out);

    let transient = same_as_file(&m, "all.service", "all-file.service", &settings, ALL_PROPS);
    for want in [
        "ProtectHome=read-only".to_owned(),
        "MountFlags=slave".into(),
        // systemctl prints a recursive bind with `:rbind`, a non-recursive one without.
        format!("BindPaths=-{o}/missing-src:{o}/b"),
        format!("BindReadOnlyPaths={o}/c:{o}/c:rbind"),
        format!("TemporaryFileSystem={o}/t:ro"),
        format!("ReadWritePaths={o} -{o}/missing"),
        format!("ReadOnlyPaths={o}/ro -{o}/old"),
        "RestrictFileSystems=ext4 tmpfs".into(),
        "NetworkNamespacePath=/proc/self/ns/net".into(),
    ] {
        assert!(transient.contains(&want), "{want} not in {transient:#?}");
    }
    // PrivateUsers= is not implemented by unitd: reported, not refused.
    let status = transient
        .iter()
        .find(|l| l.starts_with("StatusText="))
        .unwrap();
    for key in [
        "PrivateUsers=yes",
        "NetworkNamespacePath=",
        "IPCNamespacePath=",
    ] {
        assert!(status.contains(key), "{key} not in {status}");
    }
    m.expect(0, &["stop", "all.service", "all-file.service"]);
}

#[test]
fn later_assignments_replace_like_systemd() {
    let Some(m) = manager() else {
        return;
    };
    // systemd stores a capability mask or namespace mask as sent: the last -p wins.
    let out = run(
        &m,
        &[
            "--unit=repl",
            "-p",
            "CapabilityBoundingSet=CAP_CHOWN",
            "-p",
            "CapabilityBoundingSet=CAP_KILL",
            "-p",
            "RestrictNamespaces=yes",
            "-p",
            "RestrictNamespaces=net",
            "-p",
            "RestrictAddressFamilies=AF_INET",
            "-p",
            "RestrictAddressFamilies=~AF_INET",
            "/bin/sleep",
            "1000",
        ],
    );
    m.check(out.code == 0, "systemd-run", &out);
    assert_eq!(m.show("repl.service", "CapabilityBoundingSet"), "cap_kill");
    assert_eq!(m.show("repl.service", "RestrictNamespaces"), "net");
    // Address-family lists merge in systemd too: the second removes what the first allowed,
    // leaving an empty allow-list, as the same lines in a unit file do.
    m.write_unit(
        "repl-file.service",
        "[Service]\nExecStart=/bin/sleep 1000\n\
         RestrictAddressFamilies=AF_INET\nRestrictAddressFamilies=~AF_INET\n",
    );
    m.expect(0, &["daemon-reload"]);
    assert_eq!(
        show_all(&m, "repl.service", &["RestrictAddressFamilies"]),
        show_all(&m, "repl-file.service", &["RestrictAddressFamilies"])
    );
    // The transient unit file says so too.
    let out = m.expect(0, &["cat", "repl.service"]);
    m.check(
        out.stdout.contains("CapabilityBoundingSet=cap_kill") && !out.stdout.contains("cap_chown"),
        "the unit file holds the last assignment only",
        &out,
    );
    m.expect(0, &["stop", "repl.service"]);
}

#[test]
fn bad_values_and_types_get_systemds_errors() {
    let Some(m) = manager() else {
        return;
    };
    for (setting, message) in [
        (
            "ProtectSystem=bogus",
            "Invalid ProtectSystem setting: bogus",
        ),
        ("ProtectHome=maybe", "Invalid ProtectHome setting: maybe"),
        ("ProtectProc=all", "Invalid ProtectProc setting: all"),
        ("KeyringMode=none", "Invalid KeyringMode setting: none"),
        ("ReadOnlyPaths=relative/dir", "Invalid ReadOnlyPaths"),
        ("InaccessiblePaths=/a/../b", "not normalized"),
        // systemd-run 252 sends `none` as a family name, which systemd 252's setter refuses.
        ("RestrictAddressFamilies=none", "Invalid argument"),
    ] {
        let out = run(&m, &["--unit=bad", "-p", setting, "/bin/true"]);
        assert_ne!(out.code, 0, "{setting}: {}", out.dump());
        assert!(
            out.stderr.contains(message),
            "{setting}: want {message:?}\n{}",
            out.dump()
        );
    }
    let exec = "('ExecStart', <[('/bin/true', ['/bin/true'], false)]>)";
    for (prop, error, message) in [
        // Wrong D-Bus types: sd-bus fails the read with ENXIO.
        (
            "('PrivateTmp', <'yes'>)",
            "System.Error.ENXIO",
            "No such device or address",
        ),
        (
            "('ReadWritePaths', <'/tmp'>)",
            "System.Error.ENXIO",
            "No such device or address",
        ),
        (
            "('SystemCallFilter', <['write']>)",
            "System.Error.ENXIO",
            "No such device or address",
        ),
        (
            "('BindPaths', <[('rel', '/x', false, uint64 0)]>)",
            "InvalidArgs",
            "Source path rel is not absolute.",
        ),
        (
            "('BindPaths', <[('/x', 'rel', false, uint64 0)]>)",
            "InvalidArgs",
            "Destination path rel is not absolute.",
        ),
        (
            "('BindReadOnlyPaths', <[('/x', '/y', false, uint64 1)]>)",
            "InvalidArgs",
            "Unknown mount flags.",
        ),
        (
            "('TemporaryFileSystem', <[('rel', 'ro')]>)",
            "InvalidArgs",
            "Mount point rel is not absolute.",
        ),
        (
            "('SystemCallFilter', <(true, ['write:EPERM'])>)",
            "InvalidArgs",
            "Invalid argument",
        ),
        (
            "('SystemCallFilter', <(false, ['write:ENOSUCH'])>)",
            "InvalidArgs",
            "Invalid argument",
        ),
        (
            "('RestrictAddressFamilies', <(true, ['AF_NOPE'])>)",
            "InvalidArgs",
            "Invalid argument",
        ),
        (
            "('SystemCallArchitectures', <['pdp11']>)",
            "InvalidArgs",
            "Invalid argument",
        ),
        (
            "('SystemCallErrorNumber', <0>)",
            "InvalidArgs",
            "Invalid SystemCallErrorNumber setting: 0",
        ),
        (
            "('MountFlags', <uint64 7>)",
            "InvalidArgs",
            "Invalid MountFlags setting: 7",
        ),
        (
            "('SecureBits', <4096>)",
            "InvalidArgs",
            "Invalid SecureBits setting: 4096",
        ),
        (
            "('NetworkNamespacePath', <'netns'>)",
            "InvalidArgs",
            "Invalid NetworkNamespacePath setting: netns",
        ),
    ] {
        let out = start_transient(&m, "bad.service", &format!("[{exec}, {prop}]"));
        assert_ne!(out.code, 0, "{prop}: {}", out.dump());
        assert!(
            out.stderr.contains(error) && out.stderr.contains(message),
            "{prop}: want {error} {message:?}\n{}",
            out.dump()
        );
    }
    // Nothing was left behind by the refusals.
    assert_eq!(m.show("bad.service", "LoadState"), "not-found");
    // Scopes and timers have no execution context: systemd refuses sandboxing properties
    // for them (systemd-run already refuses `--scope -p PrivateTmp=`).
    for (unit, props) in [
        (
            "bad.scope",
            format!(
                "[('PIDs', <[uint32 {}]>), ('PrivateTmp', <true>)]",
                std::process::id()
            ),
        ),
        ("bad.timer", "[('PrivateTmp', <true>)]".to_owned()),
    ] {
        let out = start_transient(&m, unit, &props);
        assert_ne!(out.code, 0, "{}", out.dump());
        assert!(
            out.stderr.contains("PropertyReadOnly")
                && out
                    .stderr
                    .contains("Cannot set property PrivateTmp, or unknown property."),
            "{unit}: {}",
            out.dump()
        );
    }
}

#[test]
fn protect_system_in_a_user_manager_starts_and_is_reported() {
    let Some(m) = manager() else {
        return;
    };
    let (out_dir, o) = out_dir(&m, &[]);
    let settings = [
        "ProtectSystem=strict".to_owned(),
        format!("ReadWritePaths={o}"),
    ];
    let script = format!("if test -w /usr; then echo writable; else echo read-only; fi > {o}/usr");
    let out = run_oneshot(&m, "strict", &settings, &["/bin/sh", "-c", &script]);
    m.check(out.code == 0, "systemd-run -p ProtectSystem=strict", &out);
    assert_eq!(m.show("strict.service", "ActiveState"), "active");
    assert_eq!(m.show("strict.service", "ProtectSystem"), "strict");
    assert_eq!(m.show("strict.service", "ReadWritePaths"), o);
    let status = m.expect(0, &["status", "strict.service"]);
    let status_line = status
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Status: "))
        .map(|l| l.trim().to_owned());
    let usr = fs::read_to_string(out_dir.join("usr")).unwrap();
    if nix::unistd::getuid().is_root() {
        // A manager running as root enforces it, as systemd's would.
        assert_eq!(usr.trim(), "read-only");
        assert_eq!(status_line, None, "{}", status.dump());
    } else {
        assert_eq!(
            status_line.as_deref(),
            Some("Status: \"unitd: not enforced: ProtectSystem=, ReadWritePaths=\""),
            "{}",
            status.dump()
        );
    }
    m.expect(0, &["stop", "strict.service"]);
}

#[test]
fn mount_settings_from_systemd_run_are_enforced_by_a_system_manager() {
    if which("systemd-run").is_none() {
        eprintln!("skipped: systemd-run not installed");
        return;
    }
    let Some(m) = PrivateSystemManager::start(&[]) else {
        return;
    };
    let td = m.td();
    // The test directory is under /tmp, which PrivateTmp= hides: the service's paths are in
    // the report directory (`REPORT` inside the namespace).
    let report = m.dir.path().join("report");
    for d in ["ro", "src", "dst", "out"] {
        fs::create_dir(report.join(d)).unwrap();
    }
    fs::write(report.join("src/marker"), "bound\n").unwrap();
    // From inside: the private /tmp is empty and writable, /usr, /etc and the ReadOnlyPaths=
    // directory refuse writes (probed with `test -w`), the ReadWritePaths= directory takes
    // them, the test directory is hidden, and the bind mount shows the source.
    let o = format!("{REPORT}/out");
    let script = format!(
        "ls -A /tmp > {o}/tmp; echo private > /tmp/mine; cat /tmp/mine >> {o}/tmp; \
         for p in /usr /etc {REPORT}/ro {o}; do \
           if test -w $p; then echo \"$p rw\"; else echo \"$p ro\"; fi; done > {o}/rw; \
         if test -e {td}; then echo visible; else echo hidden; fi > {o}/td; \
         cat {REPORT}/dst/marker > {o}/bind; \
         readlink /proc/self/ns/mnt > {o}/ns"
    );
    let ro = format!("ReadOnlyPaths={REPORT}/ro");
    let rw = format!("ReadWritePaths={o}");
    let bind = format!("BindPaths={REPORT}/src:{REPORT}/dst");
    let out = m.in_ns(
        "systemd-run",
        &[
            "--unit=mounts",
            "-p",
            "Type=oneshot",
            "-p",
            "RemainAfterExit=yes",
            "-p",
            "PrivateTmp=yes",
            "-p",
            "ProtectSystem=strict",
            "-p",
            &ro,
            "-p",
            &rw,
            "-p",
            &bind,
            "/bin/sh",
            "-c",
            &script,
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.dump(), m.log());
    assert_eq!(m.report("out/tmp"), "private\n", "a fresh, private /tmp");
    assert_eq!(
        m.report("out/rw"),
        format!("/usr ro\n/etc ro\n{REPORT}/ro ro\n{o} rw\n")
    );
    assert_eq!(m.report("out/td"), "hidden\n");
    assert_eq!(m.report("out/bind"), "bound\n");
    let manager_ns = fs::read_link(format!("/proc/{}/ns/mnt", m.daemon.pid())).unwrap();
    assert_ne!(
        m.report("out/ns").trim(),
        manager_ns.display().to_string(),
        "the service has its own mount namespace"
    );
    // The bind mount was the service's own.
    assert!(!report.join("dst/marker").exists());

    assert_eq!(m.show("mounts.service", "PrivateTmp"), "yes");
    assert_eq!(m.show("mounts.service", "ProtectSystem"), "strict");
    assert_eq!(
        m.show("mounts.service", "ReadOnlyPaths"),
        format!("{REPORT}/ro")
    );
    assert_eq!(m.show("mounts.service", "ReadWritePaths"), o);
    assert_eq!(
        m.show("mounts.service", "BindPaths"),
        format!("{REPORT}/src:{REPORT}/dst:rbind")
    );
    assert_eq!(m.show("mounts.service", "StatusText"), "");
    let out = m.systemctl(&["stop", "mounts.service"]);
    assert_eq!(out.code, 0, "{}", out.dump());
}
