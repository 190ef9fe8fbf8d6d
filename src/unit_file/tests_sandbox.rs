//! Parser tests of the sandboxing keys: text in, [`Sandbox`] and diagnostics out.

use std::path::PathBuf;

use super::specifier::test_context;
use super::*;
use crate::spec::linux::{
    CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWUSER, NAMESPACE_FLAGS_ALL,
};
use crate::spec::sandbox::{
    AddressFamilies, BindPath, MountPropagation, PathEntry, ProcSubset, ProtectHome, ProtectProc,
    ProtectSystem, SYSCALL_ERRNO_KILL, Sandbox, SyscallAction, SyscallFilterLine, TmpFs,
};
use crate::spec::{KindSpec, Severity};

/// Parse a service whose `[Service]` section holds `body` (after `ExecStart=`); drop-ins are
/// `[Service]` bodies too.
fn parse_svc(body: &str, dropins: &[&str]) -> ParsedUnit {
    let n = UnitName::new("s.service").unwrap();
    let text = format!("[Service]\nExecStart=/bin/true\n{body}");
    let dropins: Vec<(PathBuf, Vec<u8>)> = dropins
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                PathBuf::from(format!("/units/s.service.d/{i}.conf")),
                format!("[Service]\n{t}").into_bytes(),
            )
        })
        .collect();
    parse_unit(
        &n,
        Some((PathBuf::from("/units/s.service").as_path(), text.as_bytes())),
        &dropins,
        &test_context(),
    )
}

fn sandbox_of(p: &ParsedUnit) -> Sandbox {
    assert_eq!(p.load_state, LoadState::Loaded, "{:#?}", p.diagnostics);
    match &p.spec.kind {
        KindSpec::Service(s) => s.exec.sandbox.clone(),
        other => panic!("not a service: {other:?}"),
    }
}

/// The sandbox and the diagnostic messages (`file:line: text`).
fn lower(body: &str) -> (Sandbox, Vec<String>) {
    let p = parse_svc(body, &[]);
    let s = sandbox_of(&p);
    (s, p.diagnostics.iter().map(|d| d.to_string()).collect())
}

fn clean(body: &str) -> Sandbox {
    let (s, msgs) = lower(body);
    assert!(msgs.is_empty(), "{msgs:#?}");
    s
}

fn path(p: &str, optional: bool) -> PathEntry {
    PathEntry {
        path: PathBuf::from(p),
        optional,
    }
}

#[test]
fn booleans_lower_and_bad_values_warn_with_line() {
    let s = clean(
        "PrivateTmp=yes\nPrivateDevices=true\nPrivateNetwork=1\nPrivateIPC=on\n\
         PrivateMounts=yes\nProtectKernelTunables=yes\nProtectKernelModules=yes\n\
         ProtectKernelLogs=yes\nProtectControlGroups=yes\nProtectClock=yes\n\
         ProtectHostname=yes\nNoNewPrivileges=yes\nMemoryDenyWriteExecute=yes\n\
         RestrictRealtime=yes\nRestrictSUIDSGID=yes\nLockPersonality=yes\nMountAPIVFS=yes\n",
    );
    assert!(s.private_tmp && s.private_devices && s.private_network && s.private_ipc);
    assert!(s.private_mounts && s.protect_kernel_tunables && s.protect_kernel_modules);
    assert!(s.protect_kernel_logs && s.protect_control_groups && s.protect_clock);
    assert!(s.protect_hostname && s.no_new_privileges && s.memory_deny_write_execute);
    assert!(s.restrict_realtime && s.restrict_suid_sgid && s.lock_personality);
    assert_eq!(s.mount_api_vfs, Some(true));

    let (s, msgs) = lower("PrivateTmp=yes\nPrivateTmp=maybe\nMountAPIVFS=yes\nMountAPIVFS=\n");
    assert!(s.private_tmp, "a bad value leaves the earlier one");
    assert_eq!(s.mount_api_vfs, None, "the tristate resets to the default");
    assert_eq!(
        msgs,
        ["/units/s.service:4: Failed to parse boolean value, ignoring: maybe"]
    );
}

#[test]
fn enum_keys() {
    let s = clean(
        "ProtectSystem=strict\nProtectHome=read-only\nProtectProc=invisible\nProcSubset=pid\nMountFlags=shared\n",
    );
    assert_eq!(s.protect_system, ProtectSystem::Strict);
    assert_eq!(s.protect_home, ProtectHome::ReadOnly);
    assert_eq!(s.protect_proc, ProtectProc::Invisible);
    assert_eq!(s.proc_subset, ProcSubset::Pid);
    assert_eq!(s.mount_flags, Some(MountPropagation::Shared));

    for (v, want) in [
        ("yes", ProtectSystem::Yes),
        ("full", ProtectSystem::Full),
        ("no", ProtectSystem::No),
    ] {
        assert_eq!(clean(&format!("ProtectSystem={v}\n")).protect_system, want);
    }
    for (v, want) in [
        ("true", ProtectHome::Yes),
        ("tmpfs", ProtectHome::Tmpfs),
        ("off", ProtectHome::No),
    ] {
        assert_eq!(clean(&format!("ProtectHome={v}\n")).protect_home, want);
    }
    assert_eq!(clean("MountFlags=slave\nMountFlags=\n").mount_flags, None);

    let (s, msgs) = lower(
        "ProtectSystem=full\nProtectSystem=everything\nProtectHome=ro\nProtectProc=hidden\n\
         ProcSubset=some\nMountFlags=rshared\n",
    );
    assert_eq!(s.protect_system, ProtectSystem::Full);
    assert_eq!(s.protect_home, ProtectHome::No);
    assert_eq!(
        msgs,
        [
            "/units/s.service:4: Failed to parse protect system value, ignoring: everything",
            "/units/s.service:5: Failed to parse protect home value, ignoring: ro",
            "/units/s.service:6: Failed to parse /proc/ protection mode, ignoring: hidden",
            "/units/s.service:7: Failed to parse /proc/ subset mode, ignoring: some",
            "/units/s.service:8: Failed to parse mount propagation flag, ignoring: rshared",
        ]
    );
}

#[test]
fn path_lists_prefixes_specifiers_merge_and_reset() {
    let (s, msgs) = lower(
        "ReadWritePaths=/var/lib/a -/var/lib/b +/srv \"/with space\"\n\
         ReadWritePaths=-+/opt/%n relative /var/lib/a\n\
         ReadOnlyDirectories=/etc\n\
         InaccessibleDirectories=/root\nInaccessiblePaths=-/home\n\
         ExecPaths=/usr/bin\nNoExecPaths=/\n",
    );
    assert_eq!(
        s.read_write_paths,
        [
            path("/var/lib/a", false),
            path("/var/lib/b", true),
            path("/srv", false),
            path("/with space", false),
            path("/opt/s.service", true),
        ]
    );
    assert_eq!(s.read_only_paths, [path("/etc", false)]);
    assert_eq!(
        s.inaccessible_paths,
        [path("/root", false), path("/home", true)]
    );
    assert_eq!(s.exec_paths, [path("/usr/bin", false)]);
    assert_eq!(s.no_exec_paths, [path("/", false)]);
    assert_eq!(
        msgs,
        ["/units/s.service:4: ReadWritePaths= path is not absolute, ignoring: relative"]
    );

    // An empty assignment (here in a drop-in) resets what the fragment said.
    let p = parse_svc(
        "ReadOnlyPaths=/a /b\n",
        &["ReadOnlyPaths=\nReadOnlyPaths=/c\n"],
    );
    assert_eq!(sandbox_of(&p).read_only_paths, [path("/c", false)]);
}

#[test]
fn bind_paths_and_temporary_filesystems() {
    let (s, msgs) = lower(
        "BindPaths=/src -/opt:/dst /a:/b:norbind /c:/d:rbind\n\
         BindReadOnlyPaths=/etc/%p.conf:/etc/app.conf \"/x y\":/z\n\
         BindPaths=/bad:/e:sometimes rel:/f /g:\n\
         TemporaryFileSystem=/run/x /var:ro,mode=0755\nTemporaryFileSystem=nope:ro\n",
    );
    let bp = |src: &str, dst: &str, optional, recursive, read_only| BindPath {
        source: src.into(),
        target: dst.into(),
        optional,
        recursive,
        read_only,
    };
    assert_eq!(
        s.bind_paths,
        [
            bp("/src", "/src", false, true, false),
            bp("/opt", "/dst", true, true, false),
            bp("/a", "/b", false, false, false),
            bp("/c", "/d", false, true, false),
            bp("/etc/s.conf", "/etc/app.conf", false, true, true),
            bp("/x y", "/z", false, true, true),
        ]
    );
    assert_eq!(
        s.temporary_filesystems,
        [
            TmpFs {
                path: "/run/x".into(),
                options: String::new()
            },
            TmpFs {
                path: "/var".into(),
                options: "ro,mode=0755".into()
            },
        ]
    );
    assert_eq!(
        msgs,
        [
            "/units/s.service:5: Invalid option string, ignoring setting: sometimes",
            "/units/s.service:5: BindPaths= path is not absolute, ignoring: rel",
            "/units/s.service:5: Missing argument after ':', ignoring: /bad:/e:sometimes rel:/f /g:",
            "/units/s.service:7: TemporaryFileSystem= path is not absolute, ignoring: nope",
        ]
    );
    // One list behind both keys: an empty BindReadOnlyPaths= resets BindPaths= too.
    let s = clean(
        "BindPaths=/a\nBindReadOnlyPaths=/b\nBindReadOnlyPaths=\nTemporaryFileSystem=/t\nTemporaryFileSystem=\n",
    );
    assert!(s.bind_paths.is_empty());
    assert!(s.temporary_filesystems.is_empty());
}

#[test]
fn capability_sets_merge_invert_and_reset() {
    const CHOWN: u64 = 1 << 0;
    const NET_BIND: u64 = 1 << 10;
    const NET_ADMIN: u64 = 1 << 12;
    const SYS_ADMIN: u64 = 1 << 21;
    // Not set at all: unchanged.
    assert_eq!(clean("").capability_bounding_set, None);
    assert_eq!(clean("").ambient_capabilities, 0);
    // First assignment replaces, later ones add.
    let s = clean(
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE cap_chown\nCapabilityBoundingSet=CAP_NET_ADMIN\n\
         AmbientCapabilities=CAP_NET_BIND_SERVICE\nAmbientCapabilities=12\n",
    );
    assert_eq!(
        s.capability_bounding_set,
        Some(NET_BIND | CHOWN | NET_ADMIN)
    );
    assert_eq!(s.ambient_capabilities, NET_BIND | NET_ADMIN);
    // `~` first: everything but; `~` later: removes.
    let s = clean("CapabilityBoundingSet=~CAP_SYS_ADMIN\nCapabilityBoundingSet=~CAP_NET_ADMIN\n");
    assert_eq!(s.capability_bounding_set, Some(!(SYS_ADMIN | NET_ADMIN)));
    let s = clean(
        "CapabilityBoundingSet=CAP_SYS_ADMIN CAP_NET_ADMIN\nCapabilityBoundingSet=~CAP_NET_ADMIN\n",
    );
    assert_eq!(s.capability_bounding_set, Some(SYS_ADMIN));
    // Empty: the empty set (all capabilities dropped); `~` alone: all = unset.
    let s = clean(
        "CapabilityBoundingSet=CAP_CHOWN\nCapabilityBoundingSet=\nAmbientCapabilities=CAP_CHOWN\nAmbientCapabilities=\n",
    );
    assert_eq!(s.capability_bounding_set, Some(0));
    assert_eq!(s.ambient_capabilities, 0);
    assert_eq!(
        clean("CapabilityBoundingSet=CAP_CHOWN\nCapabilityBoundingSet=~\n").capability_bounding_set,
        None
    );
    // Unknown names are skipped with a warning; the rest applies.
    let (s, msgs) = lower("CapabilityBoundingSet=CAP_CHOWN CAP_FLY\n");
    assert_eq!(s.capability_bounding_set, Some(CHOWN));
    assert_eq!(
        msgs,
        ["/units/s.service:3: Unknown capability 'CAP_FLY' in CapabilityBoundingSet=, ignoring"]
    );
}

#[test]
fn secure_bits() {
    assert_eq!(
        clean("SecureBits=keep-caps noroot-locked\n").secure_bits,
        0b10010
    );
    assert_eq!(
        clean("SecureBits=keep-caps\nSecureBits=noroot\n").secure_bits,
        1
    );
    assert_eq!(clean("SecureBits=keep-caps\nSecureBits=\n").secure_bits, 0);
    let (s, msgs) = lower("SecureBits=keep-caps bogus\n");
    assert_eq!(s.secure_bits, 1 << 4);
    assert_eq!(
        msgs,
        ["/units/s.service:3: Invalid SecureBits= value, ignoring: bogus"]
    );
}

#[test]
fn system_call_filter_and_log_lines_are_kept_as_written() {
    let (s, msgs) = lower(
        "SystemCallFilter=@system-service\nSystemCallFilter=~@privileged @resources:EPERM mount:kill reboot:12\n\
         SystemCallFilter=write:EPERM\nSystemCallFilter=~chown:ENOPE :EPERM\n\
         SystemCallLog=~@basic-io\nSystemCallErrorNumber=EPERM\n",
    );
    let line = |invert, entries: &[(&str, Option<i32>)]| SyscallFilterLine {
        invert,
        entries: entries.iter().map(|(n, e)| (n.to_string(), *e)).collect(),
    };
    assert_eq!(
        s.system_call_filter,
        [
            line(false, &[("@system-service", None)]),
            line(
                true,
                &[
                    ("@privileged", None),
                    ("@resources", Some(1)),
                    ("mount", Some(SYSCALL_ERRNO_KILL)),
                    ("reboot", Some(12)),
                ]
            ),
            line(false, &[]),
            line(true, &[]),
        ]
    );
    assert_eq!(s.system_call_log, [line(true, &[("@basic-io", None)])]);
    assert_eq!(s.system_call_error, SyscallAction::Errno(1));
    assert_eq!(
        msgs,
        [
            "/units/s.service:5: Allow-listed system calls cannot take error number, ignoring: write:EPERM",
            "/units/s.service:6: Failed to parse syscall:errno, ignoring: chown:ENOPE",
            "/units/s.service:6: Failed to parse syscall:errno, ignoring: :EPERM",
        ]
    );
    let s = clean("SystemCallFilter=read\nSystemCallFilter=\nSystemCallLog=x\nSystemCallLog=\n");
    assert!(s.system_call_filter.is_empty() && s.system_call_log.is_empty());
}

#[test]
fn system_call_error_number_and_architectures() {
    assert_eq!(
        clean("SystemCallErrorNumber=EACCES\n").system_call_error,
        SyscallAction::Errno(13)
    );
    assert_eq!(
        clean("SystemCallErrorNumber=4095\n").system_call_error,
        SyscallAction::Errno(4095)
    );
    assert_eq!(
        clean("SystemCallErrorNumber=EPERM\nSystemCallErrorNumber=kill\n").system_call_error,
        SyscallAction::Kill
    );
    assert_eq!(
        clean("SystemCallErrorNumber=EPERM\nSystemCallErrorNumber=\n").system_call_error,
        SyscallAction::Kill
    );
    let (s, msgs) = lower(
        "SystemCallErrorNumber=EPERM\nSystemCallErrorNumber=0\nSystemCallErrorNumber=ENOPE\nSystemCallErrorNumber=4096\n",
    );
    assert_eq!(s.system_call_error, SyscallAction::Errno(1));
    assert_eq!(
        msgs,
        [
            "/units/s.service:4: Invalid error number, ignoring: 0",
            "/units/s.service:5: Failed to parse error number, ignoring: ENOPE",
            "/units/s.service:6: Failed to parse error number, ignoring: 4096",
        ]
    );

    let (s, msgs) =
        lower("SystemCallArchitectures=native x86-64\nSystemCallArchitectures=native vax\n");
    assert_eq!(s.system_call_architectures, ["native", "x86-64"]);
    assert_eq!(
        msgs,
        ["/units/s.service:4: Failed to parse system call architecture \"vax\", ignoring"]
    );
    assert!(
        clean("SystemCallArchitectures=native\nSystemCallArchitectures=\n")
            .system_call_architectures
            .is_empty()
    );
}

#[test]
fn restrict_address_families() {
    let fam = |allow, families: &[i32]| {
        Some(AddressFamilies {
            allow,
            families: families.to_vec(),
        })
    };
    assert_eq!(clean("").restrict_address_families, None);
    assert_eq!(
        clean("RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n").restrict_address_families,
        fam(true, &[1, 2, 10])
    );
    // The first line decides; a later `~` removes from an allow-list.
    assert_eq!(
        clean("RestrictAddressFamilies=AF_UNIX AF_INET\nRestrictAddressFamilies=~AF_INET\n")
            .restrict_address_families,
        fam(true, &[1])
    );
    assert_eq!(
        clean("RestrictAddressFamilies=~AF_PACKET\nRestrictAddressFamilies=~AF_NETLINK\n")
            .restrict_address_families,
        fam(false, &[16, 17])
    );
    assert_eq!(
        clean(
            "RestrictAddressFamilies=~AF_PACKET AF_NETLINK\nRestrictAddressFamilies=AF_NETLINK\n"
        )
        .restrict_address_families,
        fam(false, &[17])
    );
    // `none`: an empty allow-list; a list line after it decides afresh.
    assert_eq!(
        clean("RestrictAddressFamilies=AF_UNIX\nRestrictAddressFamilies=none\n")
            .restrict_address_families,
        fam(true, &[])
    );
    assert_eq!(
        clean("RestrictAddressFamilies=none\nRestrictAddressFamilies=~AF_INET\n")
            .restrict_address_families,
        fam(false, &[2])
    );
    assert_eq!(
        clean("RestrictAddressFamilies=AF_UNIX\nRestrictAddressFamilies=\n")
            .restrict_address_families,
        None
    );
    let (s, msgs) = lower("RestrictAddressFamilies=AF_UNIX AF_NOPE\n");
    assert_eq!(s.restrict_address_families, fam(true, &[1]));
    assert_eq!(
        msgs,
        ["/units/s.service:3: Failed to parse address family, ignoring: AF_NOPE"]
    );
}

#[test]
fn restrict_namespaces() {
    assert_eq!(clean("").restrict_namespaces, None);
    assert_eq!(
        clean("RestrictNamespaces=yes\n").restrict_namespaces,
        Some(0)
    );
    assert_eq!(
        clean("RestrictNamespaces=no\n").restrict_namespaces,
        Some(NAMESPACE_FLAGS_ALL)
    );
    assert_eq!(
        clean("RestrictNamespaces=net ipc\n").restrict_namespaces,
        Some(CLONE_NEWNET | CLONE_NEWIPC)
    );
    assert_eq!(
        clean("RestrictNamespaces=~user mnt\n").restrict_namespaces,
        Some(NAMESPACE_FLAGS_ALL & !(CLONE_NEWUSER | CLONE_NEWNS))
    );
    // Later lists merge; a boolean replaces; empty resets.
    assert_eq!(
        clean("RestrictNamespaces=net\nRestrictNamespaces=ipc\nRestrictNamespaces=~net\n")
            .restrict_namespaces,
        Some(CLONE_NEWIPC)
    );
    assert_eq!(
        clean("RestrictNamespaces=net\nRestrictNamespaces=yes\n").restrict_namespaces,
        Some(0)
    );
    assert_eq!(
        clean("RestrictNamespaces=net\nRestrictNamespaces=\n").restrict_namespaces,
        None
    );
    let (s, msgs) = lower("RestrictNamespaces=net\nRestrictNamespaces=ipc time\n");
    assert_eq!(s.restrict_namespaces, Some(CLONE_NEWNET));
    assert_eq!(
        msgs,
        ["/units/s.service:4: Failed to parse namespace type string, ignoring: ipc time"]
    );
}

#[test]
fn recognised_keys_without_a_field_are_recorded_never_dropped() {
    let (s, msgs) = lower(
        "PrivateUsers=yes\nRemoveIPC=no\nKeyringMode=shared\nNetworkNamespacePath=/run/netns/x\n\
         IPCNamespacePath=relative\nRestrictFileSystems=ext4\nRestrictFileSystems=~tmpfs\n",
    );
    assert_eq!(
        s.not_implemented,
        [
            "PrivateUsers=yes",
            "KeyringMode=shared",
            "NetworkNamespacePath=/run/netns/x",
            "RestrictFileSystems=ext4",
            "RestrictFileSystems=~tmpfs",
        ]
    );
    assert_eq!(
        msgs,
        ["/units/s.service:7: IPCNamespacePath= path is not absolute, ignoring: relative"]
    );
    // A later assignment replaces (or, asking for nothing, removes) the earlier one.
    let p = parse_svc(
        "PrivateUsers=yes\nKeyringMode=private\nRestrictFileSystems=ext4\n",
        &["PrivateUsers=no\nKeyringMode=inherit\nRestrictFileSystems=\nRemoveIPC=yes\n"],
    );
    assert_eq!(sandbox_of(&p).not_implemented, ["RemoveIPC=yes"]);
    // The keys are no longer "not supported": no such warning for any sandboxing key.
    let (_, msgs) = lower("PrivateTmp=yes\nProtectSystem=strict\nPrivateUsers=yes\n");
    assert!(msgs.is_empty(), "{msgs:?}");
    // Keys outside sandboxing keep their warning.
    let (_, msgs) = lower("DynamicUser=yes\n");
    assert_eq!(
        msgs,
        [
            "/units/s.service:3: Setting 'DynamicUser=' in section '[Service]' is not supported by unitd yet, ignoring."
        ]
    );
}

#[test]
fn bad_sandbox_values_never_fail_the_load() {
    let p = parse_svc(
        "PrivateTmp=perhaps\nProtectSystem=???\nReadWritePaths=\"unterminated\n\
         BindPaths=\"/x\nCapabilityBoundingSet=\"CAP\nSystemCallErrorNumber=nope\n\
         RestrictNamespaces=bogus\nRestrictAddressFamilies=AF_BOGUS\n",
        &[],
    );
    assert_eq!(p.load_state, LoadState::Loaded);
    assert!(
        p.diagnostics
            .iter()
            .all(|d| d.severity == Severity::Warning && d.line > 0),
        "{:#?}",
        p.diagnostics
    );
    assert!(p.diagnostics.len() >= 7, "{:#?}", p.diagnostics);
}

#[test]
fn socket_sections_warn_about_exec_sandboxing_keys() {
    let n = UnitName::new("s.socket").unwrap();
    let text = "[Socket]\nListenStream=/run/s.sock\nPrivateTmp=yes\n";
    let p = parse_unit(
        &n,
        Some((PathBuf::from("/units/s.socket").as_path(), text.as_bytes())),
        &[],
        &test_context(),
    );
    assert_eq!(p.load_state, LoadState::Loaded);
    let msgs: Vec<String> = p.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        msgs,
        [
            "/units/s.socket:3: Setting 'PrivateTmp=' in section '[Socket]' is not supported by unitd yet, ignoring."
        ]
    );
}

#[test]
fn protect_settings_shrink_the_bounding_set_as_systemd_does() {
    const MKNOD: u64 = 1 << 27;
    const SYS_RAWIO: u64 = 1 << 17;
    const SYS_MODULE: u64 = 1 << 16;
    const SYSLOG: u64 = 1 << 34;
    const SYS_TIME: u64 = 1 << 25;
    const WAKE_ALARM: u64 = 1 << 35;
    const NET_ADMIN: u64 = 1 << 12;
    let s = clean(
        "PrivateDevices=yes\nProtectKernelModules=yes\nProtectKernelLogs=yes\nProtectClock=yes\n",
    );
    assert_eq!(
        s.capability_bounding_set,
        Some(!(MKNOD | SYS_RAWIO | SYS_MODULE | SYSLOG | SYS_TIME | WAKE_ALARM))
    );
    let s = clean("CapabilityBoundingSet=CAP_NET_ADMIN CAP_MKNOD\nPrivateDevices=yes\n");
    assert_eq!(s.capability_bounding_set, Some(NET_ADMIN));
    assert_eq!(clean("PrivateTmp=yes\n").capability_bounding_set, None);
}
