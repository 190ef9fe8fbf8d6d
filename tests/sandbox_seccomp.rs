//! Acceptance: the credential and system-call part of sandboxing, from real unit files, on
//! real services driven by the stock `systemctl`:
//! - a user-scope manager: `NoNewPrivileges=` and seccomp state in `/proc/self/status`, a
//!   denied system call failing with the configured errno, the default action killing the
//!   service by `SIGSYS` (reported as systemd reports it: status=31/SYS),
//!   `RestrictAddressFamilies=AF_UNIX` (AF_INET → EAFNOSUPPORT, AF_UNIX works),
//!   `MemoryDenyWriteExecute=`;
//! - a manager that is not root (`unitd run` as nobody): seccomp settings imply
//!   `NO_NEW_PRIVS`, as in systemd;
//! - `unitd init` as a root system manager: `CapabilityBoundingSet=`,
//!   `AmbientCapabilities=` for `User=nobody`, the capabilities `ProtectClock=`,
//!   `PrivateDevices=`, `ProtectKernelModules=` and `ProtectKernelLogs=` drop,
//!   `SecureBits=`, and `NO_NEW_PRIVS` implied for a non-root `User=` with a seccomp setting.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::init_ns::{InitNs, prerequisites};
use common::*;

/// `Field:\tvalue` of a `/proc/PID/status` dump.
fn field<'a>(status: &'a str, name: &str) -> Option<&'a str> {
    status.lines().find_map(|l| {
        l.strip_prefix(name)
            .and_then(|r| r.strip_prefix(':'))
            .map(str::trim)
    })
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const PY: &str = "/usr/bin/python3";

/// A user manager, when [`PY`] is there too (missing, it fails in CI).
fn python_manager() -> Option<UserManager> {
    let m = UserManager::start(&[])?;
    if !Path::new(PY).exists() {
        assert!(!in_ci(), "{PY} missing");
        eprintln!("skipped: {PY} missing");
        return None;
    }
    Some(m)
}

#[test]
fn user_scope_seccomp_settings_hold_in_real_services() {
    let Some(m) = python_manager() else {
        return;
    };
    let out = m.dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let o = out.display();
    let status = "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status";
    m.write_unit(
        "nnp.service",
        &format!(
            "[Service]\nType=oneshot\nNoNewPrivileges=yes\n\
             ExecStart=/bin/sh -c \"{status} > {o}/nnp\"\n"
        ),
    );
    // A root manager's service keeps CAP_SYS_ADMIN: the filter goes in without NNP.
    m.write_unit(
        "filtered.service",
        &format!(
            "[Service]\nType=oneshot\nSystemCallFilter=~@swap @reboot\n\
             ExecStartPre=+/bin/sh -c \"{status} > {o}/privileged\"\n\
             ExecStart=/bin/sh -c \"{status} > {o}/filtered\"\n"
        ),
    );
    m.write_unit(
        "errno.service",
        &format!(
            "[Service]\nType=oneshot\nSystemCallFilter=~uname:EROFS\n\
             ExecStart=/bin/sh -c \"uname 2> {o}/errno; echo rc=$$? >> {o}/errno\"\n"
        ),
    );
    m.write_unit(
        "errno-default.service",
        &format!(
            "[Service]\nType=oneshot\nSystemCallFilter=@system-service\n\
             SystemCallFilter=~uname\nSystemCallErrorNumber=EUCLEAN\n\
             ExecStart=/bin/sh -c \"uname 2> {o}/errno-default; echo rc=$$? >> {o}/errno-default\"\n"
        ),
    );
    m.write_unit(
        "sigsys.service",
        "[Service]\nType=oneshot\nSystemCallFilter=~uname\nExecStart=/bin/uname\n",
    );
    let probe = "import socket, mmap, sys\n\
        def try_(f):\n    try:\n        f()\n        return 'ok'\n    except OSError as e:\n        return str(e.errno)\n\
        res = []\n\
        res.append('unix=' + try_(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()))\n\
        res.append('inet=' + try_(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()))\n\
        res.append('rw=' + try_(lambda: mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE).close()))\n\
        res.append('wx=' + try_(lambda: mmap.mmap(-1, 4096, prot=mmap.PROT_WRITE | mmap.PROT_EXEC).close()))\n\
        open(sys.argv[1], 'w').write(' '.join(res) + '\\n')\n";
    let script = m.dir.path().join("probe.py");
    std::fs::write(&script, probe).unwrap();
    let s = script.display();
    m.write_unit(
        "af.service",
        &format!(
            "[Service]\nType=oneshot\nRestrictAddressFamilies=AF_UNIX\n\
             ExecStart={PY} {s} {o}/af\n"
        ),
    );
    m.write_unit(
        "mdwe.service",
        &format!(
            "[Service]\nType=oneshot\nMemoryDenyWriteExecute=yes\n\
             ExecStart={PY} {s} {o}/mdwe\n"
        ),
    );
    m.write_unit(
        "plain.service",
        &format!("[Service]\nType=oneshot\nExecStart={PY} {s} {o}/plain\n"),
    );
    m.expect(0, &["daemon-reload"]);

    m.expect(0, &["start", "nnp.service"]);
    let st = read(&out.join("nnp"));
    assert_eq!(field(&st, "NoNewPrivs"), Some("1"), "{st}");
    assert_eq!(field(&st, "Seccomp"), Some("0"), "{st}");

    m.expect(0, &["start", "filtered.service"]);
    let st = read(&out.join("filtered"));
    assert_eq!(field(&st, "Seccomp"), Some("2"), "{st}");
    let nnp = if nix::unistd::getuid().is_root() {
        "0"
    } else {
        "1"
    };
    assert_eq!(field(&st, "NoNewPrivs"), Some(nnp), "{st}");
    // `+` commands run without any sandboxing.
    let st = read(&out.join("privileged"));
    assert_eq!(field(&st, "Seccomp"), Some("0"), "{st}");

    m.expect(0, &["start", "errno.service"]);
    let st = read(&out.join("errno"));
    assert!(
        st.contains("Read-only file system") && st.contains("rc=1"),
        "uname must fail with EROFS: {st}"
    );
    m.expect(0, &["start", "errno-default.service"]);
    let st = read(&out.join("errno-default"));
    assert!(
        st.contains("Structure needs cleaning") && st.contains("rc=1"),
        "uname must fail with SystemCallErrorNumber=EUCLEAN: {st}"
    );

    // The default action: killed by SIGSYS, a failed start like systemd's.
    let started = m.systemctl(&["start", "sigsys.service"]);
    m.check(started.code != 0, "the start job fails", &started);
    m.wait_prop("sigsys.service", "ActiveState", "sigsys fails", |v| {
        v == "failed"
    });
    assert_eq!(m.show("sigsys.service", "ExecMainStatus"), "31");
    let result = m.show("sigsys.service", "Result");
    assert!(
        result == "signal" || result == "core-dump",
        "Result={result}"
    );
    let st = m.systemctl(&["status", "sigsys.service"]);
    m.check(
        st.stdout.contains("Main PID: ")
            && (st.stdout.contains("(code=killed, signal=SYS)")
                || st.stdout.contains("(code=dumped, signal=SYS)"))
            && (st.stdout.contains("failed (Result: signal)")
                || st.stdout.contains("failed (Result: core-dump)")),
        "systemctl status shows the SIGSYS death as systemd does",
        &st,
    );

    m.expect(0, &["start", "af.service"]);
    let got = read(&out.join("af"));
    let eafnosupport = libc::EAFNOSUPPORT.to_string();
    assert!(
        got.contains("unix=ok") && got.contains(&format!("inet={eafnosupport}")),
        "{got}"
    );
    m.expect(0, &["start", "mdwe.service"]);
    let got = read(&out.join("mdwe"));
    assert!(
        got.contains("rw=ok") && got.contains(&format!("wx={}", libc::EPERM)),
        "{got}"
    );
    // Without the settings the same probe gets everything.
    m.expect(0, &["start", "plain.service"]);
    let got = read(&out.join("plain"));
    assert!(
        got.contains("unix=ok") && got.contains("inet=ok") && got.contains("wx=ok"),
        "{got}"
    );
}

#[test]
fn an_unprivileged_manager_implies_no_new_privileges() {
    if !nobody_prerequisites() {
        return;
    }
    let dir = TestDir::new();
    dir.write_unit(
        "restricted.service",
        "[Service]\nType=oneshot\nRestrictRealtime=yes\nSystemCallFilter=~uname:EPERM\n\
         ExecStart=/bin/sh -c \"grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; uname || echo uname-refused\"\n",
    );
    let out = unitd_run_as_nobody(&dir, "restricted.service");
    assert_eq!(out.code, 0, "{}", out.dump());
    // `unitd run` prefixes each line of the service's output.
    assert!(out.stdout.contains("NoNewPrivs:\t1"), "{}", out.dump());
    assert!(out.stdout.contains("Seccomp:\t2"), "{}", out.dump());
    assert!(out.stdout.contains("uname-refused"), "{}", out.dump());
}

/// Capability masks of a `/proc/self/status` dump.
fn caps(status: &str, name: &str) -> u64 {
    let v = field(status, name).unwrap_or_else(|| panic!("no {name} in {status}"));
    u64::from_str_radix(v, 16).unwrap()
}

const CAP_CHOWN: u64 = 1 << 0;
const CAP_NET_BIND_SERVICE: u64 = 1 << 10;
const CAP_NET_RAW: u64 = 1 << 13;
const CAP_SYS_MODULE: u64 = 1 << 16;
const CAP_SYS_RAWIO: u64 = 1 << 17;
const CAP_SYS_ADMIN: u64 = 1 << 21;
const CAP_MKNOD: u64 = 1 << 27;
const CAP_SYSLOG: u64 = 1 << 34;
const CAP_SYS_TIME: u64 = 1 << 25;
const CAP_WAKE_ALARM: u64 = 1 << 35;

#[test]
fn a_root_system_manager_sets_capabilities_as_systemd() {
    if !prerequisites() {
        return;
    }
    let status = "grep -E '^(Cap[A-Za-z]+|NoNewPrivs|Seccomp):' /proc/self/status";
    let units = [
        (
            "ambient.service",
            format!(
                "[Service]\nType=oneshot\nUser=nobody\n\
                 CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_CHOWN\n\
                 AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW\n\
                 ExecStart=/bin/sh -c \"{status} > @T@/out/ambient\"\n"
            ),
        ),
        (
            "bounded.service",
            format!(
                "[Service]\nType=oneshot\nCapabilityBoundingSet=~CAP_SYS_ADMIN\nProtectClock=yes\n\
                 PrivateDevices=yes\nProtectKernelModules=yes\nProtectKernelLogs=yes\n\
                 ExecStart=/bin/sh -c \"{status} > @T@/out/bounded\"\n"
            ),
        ),
        (
            "nobody-filtered.service",
            format!(
                "[Service]\nType=oneshot\nUser=nobody\nLockPersonality=yes\n\
                 ExecStart=/bin/sh -c \"{status} > @T@/out/nobody-filtered\"\n"
            ),
        ),
        (
            "nobody-securebits.service",
            "[Service]\nType=oneshot\nUser=nobody\nSecureBits=noroot\n\
             AmbientCapabilities=CAP_NET_BIND_SERVICE\n\
             ExecStart=/bin/sh -c \"setpriv --dump > @T@/out/nobody-securebits\"\n"
                .to_string(),
        ),
        (
            "securebits.service",
            "[Service]\nType=oneshot\nSecureBits=noroot\n\
             ExecStart=/bin/sh -c \"setpriv --dump > @T@/out/securebits\"\n"
                .to_string(),
        ),
    ];
    let units: Vec<(&str, &str, bool)> =
        units.iter().map(|(n, t)| (*n, t.as_str(), false)).collect();
    let ns = InitNs::start(&units);
    // Services running as nobody write here too.
    let out = ns.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o777)).unwrap();
    for u in [
        "ambient.service",
        "bounded.service",
        "nobody-filtered.service",
        "securebits.service",
        "nobody-securebits.service",
    ] {
        ns.expect_ok(&["start", u]);
    }
    // The manager starts from the bounding set it was given (a container's may lack some).
    let all = caps(&read(Path::new("/proc/self/status")), "CapBnd");

    let st = read(&out.join("ambient"));
    let asked = CAP_NET_BIND_SERVICE | CAP_NET_RAW;
    assert_eq!(caps(&st, "CapBnd"), asked | CAP_CHOWN, "bounding set\n{st}");
    assert_eq!(caps(&st, "CapAmb"), asked, "ambient\n{st}");
    assert_eq!(caps(&st, "CapPrm"), asked, "permitted\n{st}");
    assert_eq!(caps(&st, "CapEff"), asked, "effective\n{st}");
    assert_eq!(field(&st, "NoNewPrivs"), Some("0"), "{st}");

    let st = read(&out.join("bounded"));
    let dropped = CAP_SYS_ADMIN
        | CAP_SYS_TIME
        | CAP_WAKE_ALARM
        | CAP_MKNOD
        | CAP_SYS_RAWIO
        | CAP_SYS_MODULE
        | CAP_SYSLOG;
    assert_eq!(caps(&st, "CapBnd"), all & !dropped, "{st}");
    assert_eq!(
        caps(&st, "CapEff"),
        all & !dropped,
        "root keeps the rest\n{st}"
    );
    assert_eq!(
        field(&st, "Seccomp"),
        Some("2"),
        "ProtectClock= filters @clock\n{st}"
    );
    assert_eq!(
        field(&st, "NoNewPrivs"),
        Some("0"),
        "root has CAP_SYS_ADMIN\n{st}"
    );

    // A seccomp setting for a non-root User=: NO_NEW_PRIVS is implied.
    let st = read(&out.join("nobody-filtered"));
    assert_eq!(field(&st, "NoNewPrivs"), Some("1"), "{st}");
    assert_eq!(field(&st, "Seccomp"), Some("2"), "{st}");
    assert_eq!(caps(&st, "CapEff"), 0, "{st}");

    let st = read(&out.join("securebits"));
    assert!(
        st.lines()
            .any(|l| l.starts_with("Securebits:") && l.contains("noroot")),
        "{st}"
    );
    // As nobody: keep-caps around the uid change, then exactly the asked secure bits.
    let st = read(&out.join("nobody-securebits"));
    assert!(
        st.lines().any(|l| l.starts_with("Securebits:")
            && l.contains("noroot")
            && !l.contains("keep_caps")),
        "{st}"
    );
    assert!(
        st.lines()
            .any(|l| l.starts_with("Ambient capabilities:") && l.contains("net_bind_service")),
        "{st}"
    );
}

/// Probe for the narrower seccomp settings: each argument after the output file names one
/// operation; the file gets `op=ok` or `op=ERRNO` for each.
const PROBE_OPS: &str = r#"import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def call(f):
    ctypes.set_errno(0)
    r = f()
    return 'ok' if r != -1 else str(ctypes.get_errno())
def py(f):
    try:
        f()
        return 'ok'
    except OSError as e:
        return str(e.errno)
out = os.path.dirname(sys.argv[1])
ops = {
    'unshare-net': lambda: call(lambda: libc.unshare(0x40000000)),
    'unshare-uts': lambda: call(lambda: libc.unshare(0x04000000)),
    'clone3': lambda: call(lambda: libc.syscall(435, None, 0)),
    # Priority 0 is invalid for SCHED_FIFO: the kernel says EINVAL, a filter EPERM first.
    'fifo': lambda: py(lambda: os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(0))),
    'batch': lambda: py(lambda: os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))),
    'suid': lambda: py(lambda: (open(out + '/f', 'w').close(), os.chmod(out + '/f', 0o4755))),
    'mode': lambda: py(lambda: (open(out + '/g', 'w').close(), os.chmod(out + '/g', 0o755))),
    'personality': lambda: call(lambda: libc.personality(0x0008)),
    'sethostname': lambda: call(lambda: libc.sethostname(b'unitd-probe', 11)),
    'adjtimex': lambda: call(lambda: libc.adjtimex(ctypes.create_string_buffer(512))),
}
res = [op + '=' + ops[op]() for op in sys.argv[2:]]
open(sys.argv[1], 'w').write(' '.join(res) + '\n')
"#;

/// `(unit name, setting line, probe operations, expected op=result pairs)`.
type Case<'a> = (&'a str, &'a str, &'a str, &'a [(&'a str, String)]);

#[test]
fn user_scope_namespace_realtime_suid_personality_hostname_clock_filters() {
    let Some(m) = python_manager() else {
        return;
    };
    let script = m.dir.path().join("ops.py");
    std::fs::write(&script, PROBE_OPS).unwrap();
    let s = script.display();
    let cases: &[Case] = &[
        (
            "ns",
            "RestrictNamespaces=uts ipc",
            "unshare-net unshare-uts clone3",
            &[
                ("unshare-net", libc::EPERM.to_string()),
                ("unshare-uts", "ok".into()),
                ("clone3", libc::ENOSYS.to_string()),
            ],
        ),
        (
            "rt",
            "RestrictRealtime=yes",
            "fifo batch",
            &[("fifo", libc::EPERM.to_string()), ("batch", "ok".into())],
        ),
        (
            "suid",
            "RestrictSUIDSGID=yes",
            "suid mode",
            &[("suid", libc::EPERM.to_string()), ("mode", "ok".into())],
        ),
        (
            "persona",
            "LockPersonality=yes",
            "personality",
            &[("personality", libc::EPERM.to_string())],
        ),
        (
            "host",
            "ProtectHostname=yes",
            "sethostname",
            &[("sethostname", libc::EPERM.to_string())],
        ),
        (
            "clock",
            "ProtectClock=yes",
            "adjtimex",
            &[("adjtimex", libc::EPERM.to_string())],
        ),
        (
            "arch",
            "SystemCallArchitectures=native",
            "mode batch",
            &[("mode", "ok".into()), ("batch", "ok".into())],
        ),
        // A hardening profile as Debian's packaged units write it: a normal program runs.
        (
            "hardened",
            "NoNewPrivileges=yes\nCapabilityBoundingSet=\nSystemCallFilter=@system-service\n\
             SystemCallFilter=~@privileged @resources\nSystemCallErrorNumber=EPERM\n\
             SystemCallArchitectures=native\nRestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n\
             RestrictNamespaces=yes\nMemoryDenyWriteExecute=yes\nLockPersonality=yes\n\
             RestrictRealtime=yes\nRestrictSUIDSGID=yes\nProtectClock=yes\nProtectHostname=yes",
            "mode batch unshare-uts suid adjtimex",
            &[
                ("mode", "ok".into()),
                // ~@resources took sched_setscheduler out of the allow-list.
                ("batch", libc::EPERM.to_string()),
                ("unshare-uts", libc::EPERM.to_string()),
                ("suid", libc::EPERM.to_string()),
                ("adjtimex", libc::EPERM.to_string()),
            ],
        ),
        // The same harmless operations without any setting all succeed.
        (
            "plain",
            "",
            "unshare-net fifo suid personality adjtimex",
            &[
                ("unshare-net", "ok".into()),
                ("fifo", libc::EINVAL.to_string()),
                ("suid", "ok".into()),
                ("personality", "ok".into()),
                ("adjtimex", "ok".into()),
            ],
        ),
    ];
    let root = nix::unistd::getuid().is_root();
    for (name, setting, ops, _) in cases {
        let out = m.dir.path().join(format!("out-{name}"));
        std::fs::create_dir(&out).unwrap();
        m.write_unit(
            &format!("{name}.service"),
            &format!(
                "[Service]\nType=oneshot\n{setting}\nExecStart={PY} {s} {}/result {ops}\n",
                out.display()
            ),
        );
    }
    m.expect(0, &["daemon-reload"]);
    for (name, setting, _, expected) in cases {
        if !root && (*name == "plain" || *name == "ns") {
            // Namespaces and real-time scheduling need root to succeed at all.
            continue;
        }
        m.expect(0, &["start", &format!("{name}.service")]);
        let got = read(&m.dir.path().join(format!("out-{name}/result")));
        for (op, want) in *expected {
            assert!(
                got.split_whitespace().any(|w| w == format!("{op}={want}")),
                "{setting}: expected {op}={want}, got {got}"
            );
        }
    }
}
