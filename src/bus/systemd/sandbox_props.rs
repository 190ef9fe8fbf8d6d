//! The sandboxing properties of an execution context (`PrivateTmp`, `ProtectSystem`,
//! `CapabilityBoundingSet`, `SystemCallFilter`, `RestrictAddressFamilies`, …) as systemd 252
//! reports them on `org.freedesktop.systemd1.Service`: the values a [`Sandbox`] holds, in
//! systemd's encodings (enum names, `MS_*` propagation flags, `(allow-list, names)` pairs with
//! system-call groups resolved by the supervisor's seccomp tables, "unset" markers such as an
//! all-ones bounding set).
//!
//! Settings unitd records but does not implement (`PrivateUsers=`, …) are reported as the unit
//! file asked; that they are not enforced is said by the `StatusText` note and the logs.

use zbus::Variant;

use crate::spec::linux;
use crate::spec::sandbox::{
    AddressFamilies, BindPath, MountPropagation, PathEntry, ProcSubset, ProtectHome, ProtectProc,
    ProtectSystem, SYSCALL_ERRNO_KILL, Sandbox, SyscallAction, SyscallFilterLine,
};

use super::properties::{Value, vas, vi, vs, vt};
use crate::supervisor::seccomp::{SyscallSet, syscall_number};

/// `MS_REC`, the `t` of a recursive `BindPaths=` entry.
const MS_REC: u64 = 1 << 14;

/// `ProtectSystem` (`s`).
pub fn protect_system(s: &Sandbox) -> Value {
    vs(match s.protect_system {
        ProtectSystem::No => "no",
        ProtectSystem::Yes => "yes",
        ProtectSystem::Full => "full",
        ProtectSystem::Strict => "strict",
    })
}

/// `ProtectHome` (`s`).
pub fn protect_home(s: &Sandbox) -> Value {
    vs(match s.protect_home {
        ProtectHome::No => "no",
        ProtectHome::Yes => "yes",
        ProtectHome::ReadOnly => "read-only",
        ProtectHome::Tmpfs => "tmpfs",
    })
}

/// `ProtectProc` (`s`).
pub fn protect_proc(s: &Sandbox) -> Value {
    vs(match s.protect_proc {
        ProtectProc::Default => "default",
        ProtectProc::NoAccess => "noaccess",
        ProtectProc::Invisible => "invisible",
        ProtectProc::Ptraceable => "ptraceable",
    })
}

/// `ProcSubset` (`s`).
pub fn proc_subset(s: &Sandbox) -> Value {
    vs(match s.proc_subset {
        ProcSubset::All => "all",
        ProcSubset::Pid => "pid",
    })
}

/// `MountFlags` (`t`): the `MS_*` propagation flag, 0 when not set.
pub fn mount_flags(s: &Sandbox) -> Value {
    vt(match s.mount_flags {
        None => 0,
        Some(MountPropagation::Shared) => linux::MS_SHARED,
        Some(MountPropagation::Slave) => linux::MS_SLAVE,
        Some(MountPropagation::Private) => linux::MS_PRIVATE,
    })
}

/// `ReadWritePaths` & co (`as`): each path, `-` first when a missing path is fine.
pub fn paths(list: &[PathEntry]) -> Value {
    vas(list
        .iter()
        .map(|p| format!("{}{}", if p.optional { "-" } else { "" }, p.path.display())))
}

/// `BindPaths` / `BindReadOnlyPaths` (`a(ssbt)`): source, destination, ignore-missing,
/// mount flags (`MS_REC` unless `norbind`).
pub fn bind_paths(list: &[BindPath], read_only: bool) -> Value {
    let v: Vec<(String, String, bool, u64)> = list
        .iter()
        .filter(|b| b.read_only == read_only)
        .map(|b| {
            (
                b.source.display().to_string(),
                b.target.display().to_string(),
                b.optional,
                if b.recursive { MS_REC } else { 0 },
            )
        })
        .collect();
    Variant::from(v)
}

/// `TemporaryFileSystem` (`a(ss)`): mount point and options.
pub fn temporary_filesystems(s: &Sandbox) -> Value {
    let v: Vec<(String, String)> = s
        .temporary_filesystems
        .iter()
        .map(|t| (t.path.display().to_string(), t.options.clone()))
        .collect();
    Variant::from(v)
}

/// `CapabilityBoundingSet` (`t`): all ones when not restricted.
pub fn capability_bounding_set(s: &Sandbox) -> Value {
    vt(s.capability_bounding_set.unwrap_or(u64::MAX))
}

/// `SecureBits` (`i`).
pub fn secure_bits(s: &Sandbox) -> Value {
    vi(s.secure_bits as i32)
}

/// `SystemCallErrorNumber` (`i`): the errno, or systemd's kill marker (2147483646).
pub fn system_call_error(s: &Sandbox) -> Value {
    vi(match s.system_call_error {
        SyscallAction::Kill => SYSCALL_ERRNO_KILL,
        SyscallAction::Errno(e) => e,
        // Not a systemd 252 value (the parser never produces it); reported as "no errno".
        SyscallAction::Log => -1,
    })
}

/// The resulting set of list lines where the first line decides allow- vs deny-list and each
/// later line adds (same sense) or removes (opposite sense) names: `(allow-list, names)`.
fn merged<'a>(
    lines: impl IntoIterator<Item = (bool, Vec<(&'a str, Option<i32>)>)>,
) -> (bool, Vec<String>) {
    let mut allow = None;
    let mut set: Vec<(&str, Option<i32>)> = Vec::new();
    for (invert, entries) in lines {
        let allow = *allow.get_or_insert(!invert);
        for (name, errno) in entries {
            set.retain(|(n, _)| *n != name);
            if invert != allow {
                set.push((name, errno));
            }
        }
    }
    let mut names: Vec<String> = set
        .into_iter()
        .map(|(name, errno)| with_errno(name, errno))
        .collect();
    names.sort();
    (allow.unwrap_or(false), names)
}

/// `SystemCallFilter` / `SystemCallLog` (`(bas)`): the allow-list flag and the resolved set
/// (systemd's merge rules, `@group`s expanded, `@default` implied for a filter allow-list),
/// as native system-call names, sorted, each with its `:ERRNO` (`:kill`).
pub fn syscall_lines(lines: &[SyscallFilterLine], filter: bool) -> Value {
    let Some(set) = SyscallSet::resolve(lines, filter) else {
        return Variant::from((false, Vec::<String>::new()));
    };
    let names: Vec<String> = set
        .entries
        .iter()
        .filter(|(name, _)| syscall_number(name).is_some())
        .map(|(name, errno)| with_errno(name, *errno))
        .collect();
    Variant::from((set.allow_list, names))
}

/// `NAME` or `NAME:ERRNO` as systemd prints a filter entry.
fn with_errno(name: &str, errno: Option<i32>) -> String {
    match errno {
        None => name.to_owned(),
        Some(SYSCALL_ERRNO_KILL) => format!("{name}:kill"),
        Some(e) => match linux::errno_name(e) {
            Some(n) => format!("{name}:{n}"),
            None => format!("{name}:{e}"),
        },
    }
}

/// `SystemCallArchitectures` (`as`), sorted.
pub fn syscall_architectures(s: &Sandbox) -> Value {
    let mut v = s.system_call_architectures.clone();
    v.sort();
    vas(v)
}

/// `RestrictAddressFamilies` (`(bas)`): `(false, [])` when unrestricted.
pub fn address_families(s: &Sandbox) -> Value {
    let (allow, mut names) = match &s.restrict_address_families {
        None => (false, Vec::new()),
        Some(AddressFamilies { allow, families }) => (
            *allow,
            families
                .iter()
                .map(|f| {
                    linux::address_family_name(*f).map_or_else(|| f.to_string(), str::to_owned)
                })
                .collect::<Vec<String>>(),
        ),
    };
    names.sort();
    Variant::from((allow, names))
}

/// `RestrictNamespaces` (`t`): the allowed `CLONE_NEW*` flags; all ones when not set.
pub fn restrict_namespaces(s: &Sandbox) -> Value {
    vt(s.restrict_namespaces.unwrap_or(u64::MAX))
}

/// The value of the last `Key=value` recorded in [`Sandbox::not_implemented`] for `key`.
pub fn not_implemented<'a>(s: &'a Sandbox, key: &str) -> Option<&'a str> {
    s.not_implemented
        .iter()
        .rev()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

/// `KeyringMode` (`s`): as the unit asked, else `inherit` (what unitd does).
pub fn keyring_mode(s: &Sandbox) -> Value {
    vs(not_implemented(s, "KeyringMode").unwrap_or("inherit"))
}

/// `RestrictFileSystems` (`(bas)`), from the recorded lines.
pub fn restrict_filesystems(s: &Sandbox) -> Value {
    let lines = s.not_implemented.iter().filter_map(|kv| {
        let v = kv.strip_prefix("RestrictFileSystems=")?;
        let (invert, list) = match v.strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, v),
        };
        Some((
            invert,
            list.split_whitespace()
                .map(|n| (n, None))
                .collect::<Vec<_>>(),
        ))
    });
    Variant::from(merged(lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(invert: bool, names: &[(&str, Option<i32>)]) -> SyscallFilterLine {
        SyscallFilterLine {
            invert,
            entries: names.iter().map(|(n, e)| (n.to_string(), *e)).collect(),
        }
    }

    #[test]
    fn syscall_lines_resolve_like_systemd() {
        assert_eq!(
            syscall_lines(&[], true),
            Variant::from((false, Vec::<String>::new()))
        );
        // Deny-list with errnos, groups expanded; a later plain line removes.
        let v = syscall_lines(
            &[
                line(
                    true,
                    &[
                        ("@reboot", Some(1)),
                        ("mount", Some(SYSCALL_ERRNO_KILL)),
                        ("no_such_call", None),
                    ],
                ),
                line(false, &[("kexec_load", None)]),
            ],
            true,
        );
        assert_eq!(
            v,
            Variant::from((
                false,
                vec![
                    "kexec_file_load:EPERM".to_owned(),
                    "mount:kill".to_owned(),
                    "reboot:EPERM".to_owned(),
                ]
            ))
        );
        // An allow-list implies @default for the filter, not for the log.
        let Variant::Structure(filter) = syscall_lines(&[line(false, &[("write", None)])], true)
        else {
            panic!("(bas)")
        };
        let (allow, names): (bool, Vec<String>) = filter.try_into().unwrap();
        assert!(allow && names.contains(&"write".to_owned()) && names.contains(&"exit".to_owned()));
        assert_eq!(
            syscall_lines(&[line(false, &[("write", None)])], false),
            Variant::from((true, vec!["write".to_owned()]))
        );
    }

    #[test]
    fn unset_markers_and_names() {
        let s = Sandbox::default();
        assert_eq!(capability_bounding_set(&s), vt(u64::MAX));
        assert_eq!(restrict_namespaces(&s), vt(u64::MAX));
        assert_eq!(system_call_error(&s), vi(2_147_483_646));
        assert_eq!(
            address_families(&s),
            Variant::from((false, Vec::<String>::new()))
        );
        assert_eq!(keyring_mode(&s), vs("inherit"));
        let s = Sandbox {
            restrict_address_families: Some(AddressFamilies {
                allow: true,
                families: vec![1, 2, 10],
            }),
            not_implemented: vec![
                "RestrictFileSystems=ext4 tmpfs".into(),
                "RestrictFileSystems=~tmpfs".into(),
                "KeyringMode=shared".into(),
            ],
            ..Sandbox::default()
        };
        assert_eq!(
            address_families(&s),
            Variant::from((
                true,
                vec![
                    "AF_INET".to_owned(),
                    "AF_INET6".to_owned(),
                    "AF_UNIX".to_owned()
                ]
            ))
        );
        assert_eq!(
            restrict_filesystems(&s),
            Variant::from((true, vec!["ext4".to_owned()]))
        );
        assert_eq!(keyring_mode(&s), vs("shared"));
        assert_eq!(not_implemented(&s, "KeyringMod"), None);
    }
}
