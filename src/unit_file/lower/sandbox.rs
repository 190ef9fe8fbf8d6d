//! Lowering of the sandboxing keys of an execution context (systemd.exec(5): the mount
//! namespace keys, capabilities, secure bits, `NoNewPrivileges=`, system call filtering,
//! address families, namespaces, …) into [`Sandbox`].
//!
//! Owns each key's syntax as systemd 252 parses it: list merging and empty-assignment resets,
//! `-`/`+`/`~` prefixes, name tables ([`crate::spec::linux`]). A bad value is a warning with
//! file:line and the assignment is ignored, as systemd does; nothing here fails a load.
//! Recognised sandboxing keys unitd has no field for (`PrivateUsers=`, …) land in
//! [`Sandbox::not_implemented`] so they are reported, never silently dropped.

use std::path::PathBuf;

use super::{Lower, Setter};
use crate::spec::linux;
use crate::spec::sandbox::{
    AddressFamilies, BindPath, MountPropagation, PathEntry, ProcSubset, ProtectHome, ProtectProc,
    ProtectSystem, SYSCALL_ERRNO_KILL, Sandbox, SyscallAction, SyscallFilterLine, TmpFs,
};
use crate::unit_file::lexer::Entry;
use crate::unit_file::values::{check_absolute_path, parse_bool};
use crate::unit_file::words::{WordFlags, extract_word, split_words};

/// Parser state that is not part of the spec (systemd's "the set is NULL" distinctions).
#[derive(Debug, Default)]
pub(super) struct State {
    /// `RestrictAddressFamilies=` has a set (an allow/deny decision was made by a list line;
    /// false after an empty assignment or `none`).
    af_open: bool,
}

/// Boolean keys and their fields.
const BOOLS: &[&str] = &[
    "PrivateTmp",
    "PrivateDevices",
    "PrivateNetwork",
    "PrivateIPC",
    "ProtectKernelTunables",
    "ProtectKernelModules",
    "ProtectKernelLogs",
    "ProtectControlGroups",
    "ProtectClock",
    "ProtectHostname",
    "NoNewPrivileges",
    "MemoryDenyWriteExecute",
    "RestrictRealtime",
    "RestrictSUIDSGID",
    "LockPersonality",
];

fn bool_field<'s>(s: &'s mut Sandbox, key: &str) -> Option<&'s mut bool> {
    Some(match key {
        "PrivateTmp" => &mut s.private_tmp,
        "PrivateDevices" => &mut s.private_devices,
        "PrivateNetwork" => &mut s.private_network,
        "PrivateIPC" => &mut s.private_ipc,
        "ProtectKernelTunables" => &mut s.protect_kernel_tunables,
        "ProtectKernelModules" => &mut s.protect_kernel_modules,
        "ProtectKernelLogs" => &mut s.protect_kernel_logs,
        "ProtectControlGroups" => &mut s.protect_control_groups,
        "ProtectClock" => &mut s.protect_clock,
        "ProtectHostname" => &mut s.protect_hostname,
        "NoNewPrivileges" => &mut s.no_new_privileges,
        "MemoryDenyWriteExecute" => &mut s.memory_deny_write_execute,
        "RestrictRealtime" => &mut s.restrict_realtime,
        "RestrictSUIDSGID" => &mut s.restrict_suid_sgid,
        "LockPersonality" => &mut s.lock_personality,
        _ => return None,
    })
}

/// Path-list keys (with the old `*Directories=` names).
const PATH_LISTS: &[&str] = &[
    "ReadWritePaths",
    "ReadOnlyPaths",
    "InaccessiblePaths",
    "ExecPaths",
    "NoExecPaths",
    "ReadWriteDirectories",
    "ReadOnlyDirectories",
    "InaccessibleDirectories",
];

fn path_list<'s>(s: &'s mut Sandbox, key: &str) -> &'s mut Vec<PathEntry> {
    match key {
        "ReadWritePaths" | "ReadWriteDirectories" => &mut s.read_write_paths,
        "ReadOnlyPaths" | "ReadOnlyDirectories" => &mut s.read_only_paths,
        "InaccessiblePaths" | "InaccessibleDirectories" => &mut s.inaccessible_paths,
        "ExecPaths" => &mut s.exec_paths,
        _ => &mut s.no_exec_paths,
    }
}

/// Sandboxing keys systemd 252 knows that unitd has no field for: recorded in
/// [`Sandbox::not_implemented`] when they ask for something.
pub(super) const NOT_IMPLEMENTED: &[&str] = &[
    "PrivateUsers",
    "RemoveIPC",
    "KeyringMode",
    "NetworkNamespacePath",
    "IPCNamespacePath",
    "RestrictFileSystems",
];

/// Register every sandboxing setter for an exec-context section.
pub(super) fn register(
    section: &'static str,
    add: &mut dyn FnMut(&'static str, &'static str, Setter),
) {
    for key in BOOLS {
        add(section, key, set_bool);
    }
    add(section, "PrivateMounts", set_tristate);
    add(section, "MountAPIVFS", set_tristate);
    add(section, "ProtectSystem", set_protect_system);
    add(section, "ProtectHome", set_protect_home);
    add(section, "ProtectProc", set_protect_proc);
    add(section, "ProcSubset", set_proc_subset);
    add(section, "MountFlags", set_mount_flags);
    for key in PATH_LISTS {
        add(section, key, set_path_list);
    }
    add(section, "BindPaths", set_bind_paths);
    add(section, "BindReadOnlyPaths", set_bind_paths);
    add(section, "TemporaryFileSystem", set_temporary_filesystem);
    add(section, "CapabilityBoundingSet", set_capabilities);
    add(section, "AmbientCapabilities", set_capabilities);
    add(section, "SecureBits", set_secure_bits);
    add(section, "SystemCallFilter", set_syscall_lines);
    add(section, "SystemCallLog", set_syscall_lines);
    add(section, "SystemCallErrorNumber", set_syscall_error);
    add(
        section,
        "SystemCallArchitectures",
        set_syscall_architectures,
    );
    add(section, "RestrictAddressFamilies", set_address_families);
    add(section, "RestrictNamespaces", set_restrict_namespaces);
    for key in NOT_IMPLEMENTED {
        add(section, key, set_not_implemented);
    }
}

/// Whether `key` is one of the sandboxing keys this module lowers (the exec-context keys of
/// [`crate::spec::sandbox::Sandbox`]).
pub fn is_sandbox_key(key: &str) -> bool {
    BOOLS.contains(&key)
        || PATH_LISTS.contains(&key)
        || NOT_IMPLEMENTED.contains(&key)
        || [
            "PrivateMounts",
            "MountAPIVFS",
            "ProtectSystem",
            "ProtectHome",
            "ProtectProc",
            "ProcSubset",
            "MountFlags",
            "BindPaths",
            "BindReadOnlyPaths",
            "TemporaryFileSystem",
            "CapabilityBoundingSet",
            "AmbientCapabilities",
            "SecureBits",
            "SystemCallFilter",
            "SystemCallLog",
            "SystemCallErrorNumber",
            "SystemCallArchitectures",
            "RestrictAddressFamilies",
            "RestrictNamespaces",
        ]
        .contains(&key)
}

fn sb<'l>(l: &'l mut Lower<'_>) -> &'l mut Sandbox {
    &mut l.service.exec.sandbox
}

fn set_bool(l: &mut Lower<'_>, e: &Entry) {
    if let Some(v) = l.bool_or_warn(e)
        && let Some(slot) = bool_field(sb(l), &e.key)
    {
        *slot = v;
    }
}

/// `config_parse_tristate`: a boolean, or empty for the default.
fn set_tristate(l: &mut Lower<'_>, e: &Entry) {
    let v = if e.value.is_empty() {
        None
    } else {
        match l.bool_or_warn(e) {
            Some(v) => Some(v),
            None => return,
        }
    };
    let s = sb(l);
    if e.key == "MountAPIVFS" {
        s.mount_api_vfs = v;
    } else {
        s.private_mounts = v.unwrap_or(false);
    }
}

fn set_protect_system(l: &mut Lower<'_>, e: &Entry) {
    let v = match e.value.as_str() {
        "full" => ProtectSystem::Full,
        "strict" => ProtectSystem::Strict,
        v => match parse_bool(v) {
            Some(true) => ProtectSystem::Yes,
            Some(false) => ProtectSystem::No,
            None => return l.invalid(e, "protect system value"),
        },
    };
    sb(l).protect_system = v;
}

fn set_protect_home(l: &mut Lower<'_>, e: &Entry) {
    let v = match e.value.as_str() {
        "read-only" => ProtectHome::ReadOnly,
        "tmpfs" => ProtectHome::Tmpfs,
        v => match parse_bool(v) {
            Some(true) => ProtectHome::Yes,
            Some(false) => ProtectHome::No,
            None => return l.invalid(e, "protect home value"),
        },
    };
    sb(l).protect_home = v;
}

fn set_protect_proc(l: &mut Lower<'_>, e: &Entry) {
    let v = match e.value.as_str() {
        "default" => ProtectProc::Default,
        "noaccess" => ProtectProc::NoAccess,
        "invisible" => ProtectProc::Invisible,
        "ptraceable" => ProtectProc::Ptraceable,
        _ => return l.invalid(e, "/proc/ protection mode"),
    };
    sb(l).protect_proc = v;
}

fn set_proc_subset(l: &mut Lower<'_>, e: &Entry) {
    let v = match e.value.as_str() {
        "all" => ProcSubset::All,
        "pid" => ProcSubset::Pid,
        _ => return l.invalid(e, "/proc/ subset mode"),
    };
    sb(l).proc_subset = v;
}

fn set_mount_flags(l: &mut Lower<'_>, e: &Entry) {
    let v = match e.value.as_str() {
        "" => None,
        "shared" => Some(MountPropagation::Shared),
        "slave" => Some(MountPropagation::Slave),
        "private" => Some(MountPropagation::Private),
        _ => return l.invalid(e, "mount propagation flag"),
    };
    sb(l).mount_flags = v;
}

/// Expand specifiers in a path and check it is absolute and normalized; warn and return
/// `None` otherwise.
fn absolute_path(l: &mut Lower<'_>, e: &Entry, raw: &str) -> Option<PathBuf> {
    let p = l.expand_or_warn(e, raw)?;
    match check_absolute_path(&p) {
        Ok(p) => Some(PathBuf::from(p)),
        Err(why) => {
            l.warn(e.line, format!("{}= {why}, ignoring: {p}", e.key));
            None
        }
    }
}

/// `ReadWritePaths=` & co (`config_parse_namespace_path_strv`): space-separated, each with
/// optional `-` (missing is fine) then `+` (relative to the root directory, which is `/`
/// here) prefixes; an empty assignment resets the list.
fn set_path_list(l: &mut Lower<'_>, e: &Entry) {
    if e.value.is_empty() {
        path_list(sb(l), &e.key).clear();
        return;
    }
    let mut pos = 0;
    loop {
        let word = match extract_word(&e.value, &mut pos, WordFlags::UNQUOTE_CUNESCAPE) {
            Ok(Some(w)) => w.text,
            Ok(None) => return,
            Err(_) => return l.warn(e.line, format!("Invalid syntax, ignoring: {}", e.value)),
        };
        let mut w = word.as_str();
        let optional = match w.strip_prefix('-') {
            Some(rest) => {
                w = rest;
                true
            }
            None => false,
        };
        w = w.strip_prefix('+').unwrap_or(w);
        let Some(path) = absolute_path(l, e, w) else {
            continue;
        };
        let entry = PathEntry { path, optional };
        let list = path_list(sb(l), &e.key);
        if !list.contains(&entry) {
            list.push(entry);
        }
    }
}

/// Split `value` into whitespace-separated entries, each split at unquoted `:` into fields.
/// Quotes are removed; a backslash makes the next character literal. `None` on an
/// unterminated quote or a trailing backslash.
fn colon_entries(value: &str) -> Option<Vec<Vec<String>>> {
    let mut entries = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut in_entry = false;
    let mut quote: Option<char> = None;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                cur.push(chars.next()?);
                in_entry = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_entry = true;
            }
            (None, ':') => {
                fields.push(std::mem::take(&mut cur));
                in_entry = true;
            }
            (None, ' ' | '\t' | '\n' | '\r') => {
                if in_entry {
                    fields.push(std::mem::take(&mut cur));
                    entries.push(std::mem::take(&mut fields));
                    in_entry = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_entry = true;
            }
        }
    }
    if quote.is_some() {
        return None;
    }
    if in_entry {
        fields.push(cur);
        entries.push(fields);
    }
    Some(entries)
}

/// `BindPaths=` / `BindReadOnlyPaths=` (`[-]SOURCE[:DEST[:rbind|norbind]]`); an empty
/// assignment resets both lists (systemd keeps them in one).
fn set_bind_paths(l: &mut Lower<'_>, e: &Entry) {
    if e.value.is_empty() {
        sb(l).bind_paths.clear();
        return;
    }
    let Some(entries) = colon_entries(&e.value) else {
        return l.warn(e.line, format!("Invalid syntax, ignoring: {}", e.value));
    };
    let read_only = e.key == "BindReadOnlyPaths";
    for fields in entries {
        let Some(source) = l.expand_or_warn(e, &fields[0]) else {
            continue;
        };
        let (optional, source) = match source.strip_prefix('-') {
            Some(rest) => (true, rest.to_owned()),
            None => (false, source),
        };
        let source = match check_absolute_path(&source) {
            Ok(p) => PathBuf::from(p),
            Err(why) => {
                l.warn(e.line, format!("{}= {why}, ignoring: {source}", e.key));
                continue;
            }
        };
        let mut recursive = true;
        let target = match fields.get(1) {
            None => source.clone(),
            Some(d) if d.is_empty() && fields.len() == 2 => {
                return l.warn(
                    e.line,
                    format!("Missing argument after ':', ignoring: {}", e.value),
                );
            }
            Some(d) => {
                let Some(target) = absolute_path(l, e, d) else {
                    continue;
                };
                if fields.len() > 2 {
                    match fields[2..].join(":").as_str() {
                        "" | "rbind" => recursive = true,
                        "norbind" => recursive = false,
                        other => {
                            l.warn(
                                e.line,
                                format!("Invalid option string, ignoring setting: {other}"),
                            );
                            continue;
                        }
                    }
                }
                target
            }
        };
        sb(l).bind_paths.push(BindPath {
            source,
            target,
            optional,
            recursive,
            read_only,
        });
    }
}

/// `TemporaryFileSystem=` (`PATH[:OPTIONS]`, space-separated); an empty assignment resets.
fn set_temporary_filesystem(l: &mut Lower<'_>, e: &Entry) {
    if e.value.is_empty() {
        sb(l).temporary_filesystems.clear();
        return;
    }
    let mut pos = 0;
    loop {
        let word = match extract_word(&e.value, &mut pos, WordFlags::UNQUOTE) {
            Ok(Some(w)) => w.text,
            Ok(None) => return,
            Err(_) => return l.warn(e.line, format!("Invalid syntax, ignoring: {}", e.value)),
        };
        let (path, options) = match word.split_once(':') {
            Some((p, o)) => (p.to_owned(), o.to_owned()),
            None => (word.clone(), String::new()),
        };
        let Some(path) = absolute_path(l, e, &path) else {
            continue;
        };
        sb(l).temporary_filesystems.push(TmpFs { path, options });
    }
}

/// `CapabilityBoundingSet=` / `AmbientCapabilities=` (`config_parse_capability_set`): names
/// or numbers, `~` inverts. An empty list (or a first assignment) replaces the set; later
/// lines add to it (or, with `~`, remove from it).
fn set_capabilities(l: &mut Lower<'_>, e: &Entry) {
    let (invert, list) = match e.value.strip_prefix('~') {
        Some(rest) => (true, rest),
        None => (false, e.value.as_str()),
    };
    let words = match split_words(list, WordFlags::UNQUOTE) {
        Ok(w) => w,
        Err(_) => {
            return l.warn(
                e.line,
                format!(
                    "Failed to parse {}= specifier '{}', ignoring",
                    e.key, e.value
                ),
            );
        }
    };
    let mut sum: u64 = 0;
    for w in &words {
        match linux::capability_from_name(w) {
            Some(c) => sum |= 1 << c,
            None => l.warn(
                e.line,
                format!("Unknown capability '{w}' in {}=, ignoring", e.key),
            ),
        }
    }
    let bounding = e.key == "CapabilityBoundingSet";
    let s = sb(l);
    // The bounding set's "unset" is all bits on; the ambient set's is 0.
    let current = if bounding {
        s.capability_bounding_set.unwrap_or(u64::MAX)
    } else {
        s.ambient_capabilities
    };
    let unset = if bounding { u64::MAX } else { 0 };
    let new = if sum == 0 || current == unset {
        if invert { !sum } else { sum }
    } else if invert {
        current & !sum
    } else {
        current | sum
    };
    if bounding {
        s.capability_bounding_set = (new != u64::MAX).then_some(new);
    } else {
        s.ambient_capabilities = new;
    }
}

/// `SecureBits=`: space-separated flag names replacing the set; empty resets.
fn set_secure_bits(l: &mut Lower<'_>, e: &Entry) {
    let words = match split_words(&e.value, WordFlags::UNQUOTE) {
        Ok(w) => w,
        Err(_) => return l.invalid(e, "secure bits"),
    };
    let mut bits = 0;
    for w in &words {
        match linux::SECURE_BITS.iter().find(|(n, _)| n == w) {
            Some((_, b)) => bits |= b,
            None => l.warn(e.line, format!("Invalid SecureBits= value, ignoring: {w}")),
        }
    }
    sb(l).secure_bits = bits;
}

/// `parse_errno`: an errno name or number (1..=4095; 0 is returned as 0).
fn parse_errno(s: &str) -> Option<i32> {
    if let Some(e) = linux::errno_from_name(s) {
        return Some(e);
    }
    let n: i32 = s.parse().ok()?;
    (0..=linux::ERRNO_MAX).contains(&n).then_some(n)
}

/// `SystemCallFilter=` / `SystemCallLog=`: one line kept as written (`~` and the names with
/// their `:ERRNO`); an empty assignment resets the list.
fn set_syscall_lines(l: &mut Lower<'_>, e: &Entry) {
    let filter = e.key == "SystemCallFilter";
    if e.value.is_empty() {
        let s = sb(l);
        if filter {
            s.system_call_filter.clear();
        } else {
            s.system_call_log.clear();
        }
        return;
    }
    let (invert, list) = match e.value.strip_prefix('~') {
        Some(rest) => (true, rest),
        None => (false, e.value.as_str()),
    };
    let mut line = SyscallFilterLine {
        invert,
        entries: Vec::new(),
    };
    let mut pos = 0;
    loop {
        let word = match extract_word(list, &mut pos, WordFlags::PLAIN) {
            Ok(Some(w)) => w.text,
            Ok(None) => break,
            Err(_) => {
                l.warn(e.line, format!("Invalid syntax, ignoring: {}", e.value));
                break;
            }
        };
        if !filter {
            line.entries.push((word, None));
            continue;
        }
        let (name, errno) = match word.split_once(':') {
            Some((name, num)) => {
                let errno = if num == "kill" {
                    Some(SYSCALL_ERRNO_KILL)
                } else {
                    parse_errno(num)
                };
                match errno {
                    Some(n) if !name.is_empty() => (name.to_owned(), Some(n)),
                    _ => {
                        l.warn(
                            e.line,
                            format!("Failed to parse syscall:errno, ignoring: {word}"),
                        );
                        continue;
                    }
                }
            }
            None => (word.clone(), None),
        };
        if !invert && errno.is_some() {
            l.warn(
                e.line,
                format!("Allow-listed system calls cannot take error number, ignoring: {word}"),
            );
            continue;
        }
        line.entries.push((name, errno));
    }
    let s = sb(l);
    if filter {
        s.system_call_filter.push(line);
    } else {
        s.system_call_log.push(line);
    }
}

/// `SystemCallErrorNumber=`: an errno name or number, `kill` or empty for the default.
fn set_syscall_error(l: &mut Lower<'_>, e: &Entry) {
    if e.value.is_empty() || e.value == "kill" {
        sb(l).system_call_error = SyscallAction::Kill;
        return;
    }
    match parse_errno(&e.value) {
        Some(0) => l.warn(
            e.line,
            format!("Invalid error number, ignoring: {}", e.value),
        ),
        Some(n) => sb(l).system_call_error = SyscallAction::Errno(n),
        None => l.invalid(e, "error number"),
    }
}

/// `SystemCallArchitectures=`: a set of architecture names; empty resets.
fn set_syscall_architectures(l: &mut Lower<'_>, e: &Entry) {
    if e.value.is_empty() {
        sb(l).system_call_architectures.clear();
        return;
    }
    let words = match split_words(&e.value, WordFlags::UNQUOTE) {
        Ok(w) => w,
        Err(_) => return l.warn(e.line, format!("Invalid syntax, ignoring: {}", e.value)),
    };
    for w in words {
        if !linux::SYSCALL_ARCHITECTURES.contains(&w.as_str()) {
            l.warn(
                e.line,
                format!("Failed to parse system call architecture \"{w}\", ignoring"),
            );
            continue;
        }
        let archs = &mut sb(l).system_call_architectures;
        if !archs.contains(&w) {
            archs.push(w);
        }
    }
}

/// `RestrictAddressFamilies=`: `none`, or a list of `AF_*` names (`~` for a deny-list). The
/// first list line decides allow vs deny; later lines add to or remove from the set.
fn set_address_families(l: &mut Lower<'_>, e: &Entry) {
    if e.value.is_empty() {
        sb(l).restrict_address_families = None;
        l.sandbox_state.af_open = false;
        return;
    }
    if e.value == "none" {
        sb(l).restrict_address_families = Some(AddressFamilies {
            allow: true,
            families: Vec::new(),
        });
        l.sandbox_state.af_open = false;
        return;
    }
    let (invert, list) = match e.value.strip_prefix('~') {
        Some(rest) => (true, rest),
        None => (false, e.value.as_str()),
    };
    if !l.sandbox_state.af_open {
        l.sandbox_state.af_open = true;
        sb(l).restrict_address_families = Some(AddressFamilies {
            allow: !invert,
            families: Vec::new(),
        });
    }
    let words = match split_words(list, WordFlags::UNQUOTE) {
        Ok(w) => w,
        Err(_) => return l.warn(e.line, format!("Invalid syntax, ignoring: {}", e.value)),
    };
    for w in words {
        let Some(af) = linux::address_family_from_name(&w) else {
            l.warn(
                e.line,
                format!("Failed to parse address family, ignoring: {w}"),
            );
            continue;
        };
        let Some(set) = sb(l).restrict_address_families.as_mut() else {
            continue;
        };
        if set.allow != invert {
            if let Err(at) = set.families.binary_search(&af) {
                set.families.insert(at, af);
            }
        } else {
            set.families.retain(|f| *f != af);
        }
    }
}

/// `RestrictNamespaces=`: a boolean (yes = none allowed), or a list of namespace names (`~`:
/// all but these) giving the allowed `CLONE_NEW*` flags; later lists merge; empty resets.
fn set_restrict_namespaces(l: &mut Lower<'_>, e: &Entry) {
    if e.value.is_empty() {
        sb(l).restrict_namespaces = None;
        return;
    }
    match parse_bool(&e.value) {
        Some(true) => {
            sb(l).restrict_namespaces = Some(0);
            return;
        }
        Some(false) => {
            sb(l).restrict_namespaces = Some(linux::NAMESPACE_FLAGS_ALL);
            return;
        }
        None => {}
    }
    let (invert, list) = match e.value.strip_prefix('~') {
        Some(rest) => (true, rest),
        None => (false, e.value.as_str()),
    };
    let Ok(words) = split_words(list, WordFlags::UNQUOTE) else {
        return l.invalid(e, "namespace type string");
    };
    let mut flags = 0;
    for w in &words {
        match linux::NAMESPACES.iter().find(|(n, _)| n == w) {
            Some((_, f)) => flags |= f,
            None => return l.invalid(e, "namespace type string"),
        }
    }
    let s = sb(l);
    s.restrict_namespaces = Some(match s.restrict_namespaces {
        None if invert => !flags & linux::NAMESPACE_FLAGS_ALL,
        None => flags,
        Some(cur) if invert => cur & !flags,
        Some(cur) => cur | flags,
    });
}

/// Keys with no field: validate what is cheap to validate, then record `Key=value` when it
/// asks for something (replacing an earlier assignment of a single-valued key).
fn set_not_implemented(l: &mut Lower<'_>, e: &Entry) {
    let prefix = format!("{}=", e.key);
    let active = match e.key.as_str() {
        _ if e.value.is_empty() => false,
        "PrivateUsers" | "RemoveIPC" => match l.bool_or_warn(e) {
            Some(v) => v,
            None => return,
        },
        "KeyringMode" => match e.value.as_str() {
            // `inherit` is what unitd does anyway.
            "inherit" => false,
            "private" | "shared" => true,
            _ => return l.invalid(e, "keyring mode"),
        },
        "NetworkNamespacePath" | "IPCNamespacePath" => {
            if absolute_path(l, e, &e.value).is_none() {
                return;
            }
            true
        }
        // RestrictFileSystems=: lines accumulate.
        _ => {
            sb(l).not_implemented.push(format!("{prefix}{}", e.value));
            return;
        }
    };
    let list = &mut sb(l).not_implemented;
    list.retain(|k| !k.starts_with(&prefix));
    if active {
        list.push(format!("{prefix}{}", e.value));
    }
}

/// systemd's `unit_patch_contexts`: `PrivateDevices=` drops `CAP_MKNOD` and `CAP_SYS_RAWIO`,
/// `ProtectKernelModules=` `CAP_SYS_MODULE`, `ProtectKernelLogs=` `CAP_SYSLOG` and
/// `ProtectClock=` `CAP_SYS_TIME` and `CAP_WAKE_ALARM` from the bounding set.
pub(super) fn patch_capabilities(s: &mut Sandbox) {
    let cap = |name: &str| linux::capability_from_name(name).map_or(0, |c| 1u64 << c);
    let mut drop = 0;
    if s.private_devices {
        drop |= cap("CAP_MKNOD") | cap("CAP_SYS_RAWIO");
    }
    if s.protect_kernel_modules {
        drop |= cap("CAP_SYS_MODULE");
    }
    if s.protect_kernel_logs {
        drop |= cap("CAP_SYSLOG");
    }
    if s.protect_clock {
        drop |= cap("CAP_SYS_TIME") | cap("CAP_WAKE_ALARM");
    }
    if drop != 0 {
        s.capability_bounding_set = Some(s.capability_bounding_set.unwrap_or(u64::MAX) & !drop);
    }
}
