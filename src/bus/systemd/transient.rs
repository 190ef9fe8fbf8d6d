//! `StartTransientUnit`: a unit built from D-Bus properties instead of a file.
//!
//! The `a(sv)` properties are translated into the unit-file settings they stand for and run
//! through the ordinary parser ([`crate::unit_file::parse_unit`]), so a transient unit gets
//! exactly the defaults, validation and diagnostics of a unit written to disk — the way
//! systemd itself writes transient units as files under `…/systemd/transient/`. Services,
//! sockets (`Listen a(ss)` & co., what `systemd-run --socket-property=` sends), timers
//! (`OnActiveSec a(st)`, `OnCalendar a(ss)` & co., what `systemd-run --on-active=` sends) and scopes
//! (`PIDs`: processes the scope adopts) can be created, in a `Slice=` and with
//! `Delegate=`. A service takes the sandboxing properties of its execution context
//! (`PrivateTmp`, `ProtectSystem`, `ReadOnlyPaths`, `BindPaths`, `CapabilityBoundingSet`,
//! `SystemCallFilter`, `RestrictAddressFamilies`, … with systemd 252's D-Bus types, values and
//! errors), written as the `[Service]` lines the sandbox parser lowers, so a transient unit is
//! sandboxed — and reports what it cannot enforce — exactly like a unit file. Properties unitd
//! cannot honour are refused with systemd's error for an unknown property rather than ignored.

use std::path::Path;

use zbus::{OwnedVariant as OwnedValue, Variant as Value};

use crate::spec::linux;
use crate::spec::sandbox::SYSCALL_ERRNO_KILL;
use crate::spec::{LoadState, LoadedUnit, Severity, UnitName, UnitType};
use crate::unit_file::values::parse_bool;
use crate::unit_file::{self, SpecifierContext};

use super::errors::{CallError, PROPERTY_READ_ONLY};

/// `org.freedesktop.DBus.Error.NotSupported`.
pub const NOT_SUPPORTED: &str = "org.freedesktop.DBus.Error.NotSupported";
/// `org.freedesktop.systemd1.UnitExists`.
pub const UNIT_EXISTS: &str = "org.freedesktop.systemd1.UnitExists";

/// What the façade needs besides the unit: `AddRef=`, a scope's `PIDs`.
#[derive(Debug, Default)]
pub struct TransientOptions {
    /// Pin the unit to the calling client.
    pub add_ref: bool,
    /// Processes a scope adopts (`PIDs au`).
    pub pids: Vec<u32>,
    /// `StandardInputFileDescriptor`, `StandardOutputFileDescriptor`,
    /// `StandardErrorFileDescriptor` (duplicates owned by us).
    pub stdio: [Option<std::os::fd::OwnedFd>; 3],
    /// The unit file text the unit was parsed from (written to the transient directory).
    pub text: String,
}

/// systemd's answer to a property it cannot set (`bus_unit_set_properties`).
pub fn unknown(name: &str) -> CallError {
    CallError::new(
        PROPERTY_READ_ONLY,
        format!("Cannot set property {name}, or unknown property."),
    )
}

/// `System.Error.ENXIO`: what sd-bus answers when a value is read with the wrong type.
pub const SYSTEM_ERROR_ENXIO: &str = "System.Error.ENXIO";

/// A property value of the wrong D-Bus type: systemd reads it with `sd_bus_message_read`,
/// which fails with `ENXIO`, and the method answers with that errno's error.
pub fn wrong_type(name: &str, want: &str) -> CallError {
    tracing::debug!("property {name}: value is not of type {want}");
    CallError::new(SYSTEM_ERROR_ENXIO, "No such device or address")
}

/// Escape a value for a unit file: specifiers (`%` → `%%`); no newlines allowed.
pub fn plain(name: &str, s: &str) -> Result<String, CallError> {
    if s.contains('\n') {
        return Err(CallError::invalid_args(format!(
            "Invalid value for {name}: contains a newline."
        )));
    }
    Ok(s.replace('%', "%%"))
}

/// One word of an `ExecStart=`/`Environment=` line, double-quoted with C escapes; `$` doubled
/// so no variable expansion happens when `dollar` is set.
fn quoted(name: &str, s: &str, dollar: bool) -> Result<String, CallError> {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in plain(name, s)?.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' if dollar => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(out)
}

pub fn get_str(name: &str, v: &Value<'_>) -> Result<String, CallError> {
    match v {
        Value::Str(s) => Ok(s.as_str().to_owned()),
        _ => Err(wrong_type(name, "s")),
    }
}

fn get_bool(name: &str, v: &Value<'_>) -> Result<bool, CallError> {
    match v {
        Value::Bool(b) => Ok(*b),
        _ => Err(wrong_type(name, "b")),
    }
}

fn get_strv(name: &str, v: &Value<'_>) -> Result<Vec<String>, CallError> {
    let arr: Vec<String> = v
        .try_clone()
        .ok()
        .and_then(|v| Vec::<String>::try_from(v).ok())
        .ok_or_else(|| wrong_type(name, "as"))?;
    Ok(arr)
}

fn get_u64(name: &str, v: &Value<'_>) -> Result<u64, CallError> {
    match v {
        Value::U64(n) => Ok(*n),
        _ => Err(wrong_type(name, "t")),
    }
}

fn get_i32(name: &str, v: &Value<'_>) -> Result<i32, CallError> {
    match v {
        Value::I32(n) => Ok(*n),
        _ => Err(wrong_type(name, "i")),
    }
}

/// `ExecStart` & co.: `a(sasb)` = (path, argv, ignore_failure) → unit-file command lines.
fn exec_lines(name: &str, v: &Value<'_>) -> Result<Vec<String>, CallError> {
    let cmds: Vec<(String, Vec<String>, bool)> = v
        .try_clone()
        .ok()
        .and_then(|v| Vec::<(String, Vec<String>, bool)>::try_from(v).ok())
        .ok_or_else(|| wrong_type(name, "a(sasb)"))?;
    let mut out = Vec::with_capacity(cmds.len());
    for (path, argv, ignore) in cmds {
        if !Path::new(&path).is_absolute() {
            return Err(CallError::invalid_args(format!(
                "Path {path} is not absolute."
            )));
        }
        if argv.is_empty() {
            return Err(CallError::invalid_args(format!(
                "{name}: argv must not be empty."
            )));
        }
        let mut line = String::new();
        if ignore {
            line.push('-');
        }
        // `@path argv0 args…`: the executable and argv[0] as given.
        line.push('@');
        line.push_str(&quoted(name, &path, true)?);
        for a in &argv {
            line.push(' ');
            line.push_str(&quoted(name, a, true)?);
        }
        out.push(line);
    }
    Ok(out)
}

fn get_u32(name: &str, v: &Value<'_>) -> Result<u32, CallError> {
    match v {
        Value::U32(n) => Ok(*n),
        _ => Err(wrong_type(name, "u")),
    }
}

/// Sandboxing properties of type `b`, each written as `Key=yes|no`.
const SANDBOX_BOOLS: &[&str] = &[
    "PrivateTmp",
    "PrivateDevices",
    "PrivateMounts",
    "PrivateNetwork",
    "PrivateIPC",
    "PrivateUsers",
    "ProtectKernelTunables",
    "ProtectKernelModules",
    "ProtectKernelLogs",
    "ProtectClock",
    "ProtectControlGroups",
    "ProtectHostname",
    "NoNewPrivileges",
    "MemoryDenyWriteExecute",
    "RestrictRealtime",
    "RestrictSUIDSGID",
    "LockPersonality",
    "RemoveIPC",
    "MountAPIVFS",
];

/// Sandboxing properties systemd stores as sent (a later assignment replaces an earlier one)
/// whose unit-file lines would merge instead: earlier lines of the key are dropped.
const REPLACING: &[&str] = &[
    "CapabilityBoundingSet",
    "AmbientCapabilities",
    "RestrictNamespaces",
];

/// Whether `key` is a sandboxing property of a transient service: the sandboxing keys of a
/// unit file (the parser's own list), plus the boolean-typed ones.
fn is_sandbox_property(key: &str) -> bool {
    SANDBOX_BOOLS.contains(&key) || unit_file::is_sandbox_key(key)
}

/// systemd's answer to a value its setter rejects (`Invalid X setting: V`).
fn invalid_setting(name: &str, value: impl std::fmt::Display) -> CallError {
    CallError::invalid_args(format!("Invalid {name} setting: {value}"))
}

/// A setter that fails with `-EINVAL` (an unknown address family, architecture, a bad
/// `SYSCALL:ERRNO`): sd-bus turns the errno into `InvalidArgs` with `strerror`'s text.
fn einval(name: &str, what: &str) -> CallError {
    tracing::debug!("property {name}: invalid entry {what:?}");
    CallError::invalid_args("Invalid argument")
}

/// A `(bas)` value: the allow-list flag and the names.
fn get_bas(name: &str, v: &Value<'_>) -> Result<(bool, Vec<String>), CallError> {
    v.try_clone()
        .ok()
        .and_then(|v| <(bool, Vec<String>)>::try_from(v).ok())
        .ok_or_else(|| wrong_type(name, "(bas)"))
}

/// The canonical value of a string-enum sandboxing property, `None` when systemd's parser
/// rejects `s` (booleans are accepted where systemd's table has a boolean fallback).
fn enum_value(key: &str, s: &str) -> Option<&'static str> {
    let from_bool = |yes: &'static str| parse_bool(s).map(|b| if b { yes } else { "no" });
    match key {
        "ProtectSystem" => match s {
            "full" => Some("full"),
            "strict" => Some("strict"),
            _ => from_bool("yes"),
        },
        "ProtectHome" => match s {
            "read-only" => Some("read-only"),
            "tmpfs" => Some("tmpfs"),
            _ => from_bool("yes"),
        },
        "ProtectProc" => ["default", "noaccess", "invisible", "ptraceable"]
            .into_iter()
            .find(|v| *v == s),
        "ProcSubset" => ["all", "pid"].into_iter().find(|v| *v == s),
        "KeyringMode" => ["inherit", "private", "shared"]
            .into_iter()
            .find(|v| *v == s),
        _ => None,
    }
}

/// `ReadWritePaths` & co (`as`): each `[-][+]/path`, as one line of double-quoted words; an
/// empty list resets.
fn path_list_line(k: &str, v: &Value<'_>) -> Result<String, CallError> {
    let mut words = Vec::new();
    for p in get_strv(k, v)? {
        let (optional, rest) = match p.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, p.as_str()),
        };
        // `+` (relative to RootDirectory=, which is `/` here) is dropped as the parser would.
        let rest = rest.strip_prefix('+').unwrap_or(rest);
        if !rest.starts_with('/') {
            return Err(CallError::invalid_args(format!("Invalid {k}")));
        }
        let word = format!("{}{rest}", if optional { "-" } else { "" });
        words.push(quoted(k, &word, false)?);
    }
    Ok(format!("{k}={}", words.join(" ")))
}

/// One field of a `BindPaths=` entry: `:`, blanks, quotes and backslashes escaped with a
/// backslash, `%` doubled.
fn bind_field(k: &str, s: &str) -> Result<String, CallError> {
    let mut out = String::with_capacity(s.len());
    for c in plain(k, s)?.chars() {
        if matches!(c, ':' | ' ' | '\t' | '\\' | '"' | '\'') {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(out)
}

/// `BindPaths` / `BindReadOnlyPaths` (`a(ssbt)`): source, destination, ignore-missing, `MS_REC`
/// or 0; one line per entry, an empty array resets (both lists, as in systemd).
fn bind_lines(k: &str, v: &Value<'_>) -> Result<Vec<String>, CallError> {
    let entries: Vec<(String, String, bool, u64)> = v
        .try_clone()
        .ok()
        .and_then(|v| Vec::<(String, String, bool, u64)>::try_from(v).ok())
        .ok_or_else(|| wrong_type(k, "a(ssbt)"))?;
    if entries.is_empty() {
        return Ok(vec![format!("{k}=")]);
    }
    const MS_REC: u64 = 1 << 14;
    let mut out = Vec::with_capacity(entries.len());
    for (source, dest, ignore, flags) in entries {
        if !source.starts_with('/') {
            return Err(CallError::invalid_args(format!(
                "Source path {source} is not absolute."
            )));
        }
        if !dest.starts_with('/') {
            return Err(CallError::invalid_args(format!(
                "Destination path {dest} is not absolute."
            )));
        }
        if flags != 0 && flags != MS_REC {
            return Err(CallError::invalid_args("Unknown mount flags."));
        }
        out.push(format!(
            "{k}={}{}:{}:{}",
            if ignore { "-" } else { "" },
            bind_field(k, &source)?,
            bind_field(k, &dest)?,
            if flags == MS_REC { "rbind" } else { "norbind" }
        ));
    }
    Ok(out)
}

/// `TemporaryFileSystem` (`a(ss)`): mount point and options, one line per entry; an empty
/// array resets.
fn tmpfs_lines(k: &str, v: &Value<'_>) -> Result<Vec<String>, CallError> {
    let entries: Vec<(String, String)> = v
        .try_clone()
        .ok()
        .and_then(|v| Vec::<(String, String)>::try_from(v).ok())
        .ok_or_else(|| wrong_type(k, "a(ss)"))?;
    if entries.is_empty() {
        return Ok(vec![format!("{k}=")]);
    }
    let mut out = Vec::with_capacity(entries.len());
    for (path, options) in entries {
        if !path.starts_with('/') {
            return Err(CallError::invalid_args(format!(
                "Mount point {path} is not absolute."
            )));
        }
        // The unit-file syntax splits at the first `:` and has no escape for it.
        if path.contains(':') || format!("{path}{options}").contains(['"', '\'', '\\']) {
            return Err(CallError::invalid_args(format!(
                "Mount point {path} or its options cannot be written as a TemporaryFileSystem= \
                 setting."
            )));
        }
        let mut word = plain(k, &path)?;
        if !options.is_empty() {
            word.push(':');
            word.push_str(&options.replace('\n', " "));
        }
        if word.contains([' ', '\t']) {
            word = format!("\"{word}\"");
        }
        out.push(format!("{k}={word}"));
    }
    Ok(out)
}

/// `CapabilityBoundingSet` / `AmbientCapabilities` (`t`): the mask as one line that lowers to
/// exactly this mask (a bounding set with every bit above the known capabilities on is written
/// as `~` the ones it lacks).
fn capability_line(k: &str, mask: u64) -> Option<String> {
    let names = |m: u64| -> Vec<String> {
        (0..64u32)
            .filter(|c| m & (1 << c) != 0)
            .map(|c| linux::capability_name(c).unwrap_or_else(|| c.to_string()))
            .collect()
    };
    if k == "CapabilityBoundingSet" {
        if mask == u64::MAX {
            // "Not restricted": no line at all.
            return None;
        }
        let known = (1u64 << (linux::CAP_LAST_CAP + 1)) - 1;
        if mask | known == u64::MAX {
            return Some(format!("{k}=~{}", names(!mask).join(" ")));
        }
    }
    Some(format!("{k}={}", names(mask).join(" ")))
}

/// `SystemCallFilter` / `SystemCallLog` (`(bas)`): one line, `~` for a deny-list; an empty
/// list resets. `NAME:ERRNO` entries are checked as systemd does (`-EINVAL` for a bad errno
/// or an errno on an allow-list); names no system call can have are dropped, as systemd's
/// permissive parsing ignores unknown names.
fn syscall_line(k: &str, v: &Value<'_>) -> Result<String, CallError> {
    let (allow, names) = get_bas(k, v)?;
    if names.is_empty() {
        return Ok(format!("{k}="));
    }
    let mut kept = Vec::with_capacity(names.len());
    for entry in names {
        if k == "SystemCallFilter"
            && let Some((name, errno)) = entry.split_once(':')
        {
            let n = if errno == "kill" {
                Some(SYSCALL_ERRNO_KILL)
            } else {
                linux::errno_from_name(errno).or_else(|| {
                    errno
                        .parse::<i32>()
                        .ok()
                        .filter(|n| (0..=linux::ERRNO_MAX).contains(n))
                })
            };
            if n.is_none() || name.is_empty() || allow {
                return Err(einval(k, &entry));
            }
        }
        let plausible = !entry.is_empty()
            && entry
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '@' | '-' | ':'));
        if plausible {
            kept.push(entry);
        } else {
            tracing::debug!("property {k}: ignoring unknown system call {entry:?}");
        }
    }
    if kept.is_empty() && allow {
        // Every name was unknown: systemd's allow-list is then just the implied @default.
        kept.push("@default".to_owned());
    }
    Ok(format!(
        "{k}={}{}",
        if allow { "" } else { "~" },
        kept.join(" ")
    ))
}

/// One sandboxing property of a transient service as `[Service]` lines; `None` when `k` is
/// not one. Values are checked the way systemd 252's setters check them, with their errors.
fn sandbox_setting(k: &str, v: &Value<'_>) -> Result<Option<Vec<String>>, CallError> {
    if SANDBOX_BOOLS.contains(&k) {
        let b = if get_bool(k, v)? { "yes" } else { "no" };
        return Ok(Some(vec![format!("{k}={b}")]));
    }
    let line = match k {
        "ProtectSystem" | "ProtectHome" | "ProtectProc" | "ProcSubset" | "KeyringMode" => {
            let s = get_str(k, v)?;
            let value = enum_value(k, &s).ok_or_else(|| invalid_setting(k, &s))?;
            format!("{k}={value}")
        }
        "ReadWritePaths"
        | "ReadOnlyPaths"
        | "InaccessiblePaths"
        | "ExecPaths"
        | "NoExecPaths"
        | "ReadWriteDirectories"
        | "ReadOnlyDirectories"
        | "InaccessibleDirectories" => path_list_line(k, v)?,
        "BindPaths" | "BindReadOnlyPaths" => return bind_lines(k, v).map(Some),
        "TemporaryFileSystem" => return tmpfs_lines(k, v).map(Some),
        "MountFlags" => {
            let n = get_u64(k, v)?;
            let value = match n {
                0 => "",
                linux::MS_SHARED => "shared",
                linux::MS_SLAVE => "slave",
                linux::MS_PRIVATE => "private",
                _ => return Err(invalid_setting(k, n)),
            };
            format!("{k}={value}")
        }
        "CapabilityBoundingSet" | "AmbientCapabilities" => {
            return Ok(Some(
                capability_line(k, get_u64(k, v)?).into_iter().collect(),
            ));
        }
        "SecureBits" => {
            let n = get_i32(k, v)?;
            let all = linux::SECURE_BITS.iter().fold(0, |a, (_, b)| a | b);
            if n < 0 || (n as u32) & !all != 0 {
                return Err(invalid_setting(k, n));
            }
            let names: Vec<&str> = linux::SECURE_BITS
                .iter()
                .filter(|(_, b)| n as u32 & b != 0)
                .map(|(name, _)| *name)
                .collect();
            format!("{k}={}", names.join(" "))
        }
        "SystemCallFilter" | "SystemCallLog" => syscall_line(k, v)?,
        "SystemCallErrorNumber" => {
            let n = get_i32(k, v)?;
            if n == SYSCALL_ERRNO_KILL {
                format!("{k}=kill")
            } else if (1..=linux::ERRNO_MAX).contains(&n) {
                format!("{k}={n}")
            } else {
                return Err(invalid_setting(k, n));
            }
        }
        "SystemCallArchitectures" => {
            let archs = get_strv(k, v)?;
            if let Some(bad) = archs
                .iter()
                .find(|a| !linux::SYSCALL_ARCHITECTURES.contains(&a.as_str()))
            {
                return Err(einval(k, bad));
            }
            format!("{k}={}", archs.join(" "))
        }
        "RestrictAddressFamilies" => {
            let (allow, names) = get_bas(k, v)?;
            if names.is_empty() {
                format!("{k}={}", if allow { "none" } else { "" })
            } else {
                if let Some(bad) = names
                    .iter()
                    .find(|n| linux::address_family_from_name(n).is_none())
                {
                    return Err(einval(k, bad));
                }
                format!("{k}={}{}", if allow { "" } else { "~" }, names.join(" "))
            }
        }
        "RestrictNamespaces" => {
            let n = get_u64(k, v)?;
            let flags = n & linux::NAMESPACE_FLAGS_ALL;
            if n == u64::MAX {
                // "Not restricted": the reset.
                format!("{k}=")
            } else if flags == 0 {
                format!("{k}=yes")
            } else if flags == linux::NAMESPACE_FLAGS_ALL {
                format!("{k}=no")
            } else {
                let names: Vec<&str> = linux::NAMESPACES
                    .iter()
                    .filter(|(_, f)| flags & f != 0)
                    .map(|(name, _)| *name)
                    .collect();
                format!("{k}={}", names.join(" "))
            }
        }
        "RestrictFileSystems" => {
            let (allow, names) = get_bas(k, v)?;
            let names: Vec<String> = names
                .into_iter()
                .filter(|n| {
                    !n.is_empty()
                        && n.chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '@' | '-'))
                })
                .collect();
            if names.is_empty() {
                format!("{k}=")
            } else {
                format!("{k}={}{}", if allow { "" } else { "~" }, names.join(" "))
            }
        }
        "NetworkNamespacePath" | "IPCNamespacePath" => {
            let s = get_str(k, v)?;
            if !s.is_empty() && !s.starts_with('/') {
                return Err(invalid_setting(k, &s));
            }
            format!("{k}={}", plain(k, &s)?)
        }
        _ => return Ok(None),
    };
    Ok(Some(vec![line]))
}

/// One `[Socket]` property of a transient socket unit, as unit-file lines.
fn socket_setting(k: &str, v: &Value<'_>) -> Result<Vec<String>, CallError> {
    Ok(match k {
        // `Listen a(ss)`: (type, address) pairs, as `systemd-run --socket-property=ListenX=`
        // sends them.
        "Listen" => {
            let pairs: Vec<(String, String)> = v
                .try_clone()
                .ok()
                .and_then(|v| Vec::<(String, String)>::try_from(v).ok())
                .ok_or_else(|| wrong_type(k, "a(ss)"))?;
            let mut out = Vec::with_capacity(pairs.len());
            for (t, addr) in pairs {
                match t.as_str() {
                    "Stream" | "Datagram" | "SequentialPacket" | "FIFO" => {
                        out.push(format!("Listen{t}={}", plain(k, &addr)?));
                    }
                    "Special" | "Netlink" | "MessageQueue" | "USBFunction" => {
                        return Err(CallError::new(
                            NOT_SUPPORTED,
                            format!("Listen{t}= sockets are not supported by unitd."),
                        ));
                    }
                    _ => {
                        return Err(CallError::invalid_args(format!("Unknown Socket type: {t}")));
                    }
                }
            }
            out
        }
        "Accept" | "RemoveOnStop" => {
            let b = if get_bool(k, v)? { "yes" } else { "no" };
            vec![format!("{k}={b}")]
        }
        "Backlog" => vec![format!("Backlog={}", get_u32(k, v)?)],
        "SocketMode" | "DirectoryMode" => vec![format!("{k}={:04o}", get_u32(k, v)?)],
        "FileDescriptorName" | "Service" => {
            vec![format!("{k}={}", plain(k, &get_str(k, v)?)?)]
        }
        _ => return Err(unknown(k)),
    })
}

/// One `[Timer]` property of a transient timer unit (what `systemd-run --on-active=` &
/// `--timer-property=` send), as unit-file lines.
fn timer_setting(k: &str, v: &Value<'_>) -> Result<Vec<String>, CallError> {
    const BASES: [&str; 5] = [
        "OnActiveSec",
        "OnBootSec",
        "OnStartupSec",
        "OnUnitActiveSec",
        "OnUnitInactiveSec",
    ];
    let base_key = |name: &str| -> Result<String, CallError> {
        let key = name.replace("USec", "Sec");
        if BASES.contains(&key.as_str()) {
            Ok(key)
        } else {
            Err(CallError::invalid_args(format!(
                "Invalid timer base: {name}"
            )))
        }
    };
    Ok(match k {
        _ if BASES.contains(&k) || k == "TimersMonotonic" => {
            let values: Vec<(String, u64)> = v
                .try_clone()
                .ok()
                .and_then(|v| Vec::<(String, u64)>::try_from(v).ok())
                .ok_or_else(|| wrong_type(k, "a(st)"))?;
            if values.is_empty() {
                // An empty list resets the timer values, as an empty assignment does.
                return Ok(vec!["OnActiveSec=".to_owned()]);
            }
            let mut out = Vec::with_capacity(values.len());
            for (base, usec) in values {
                out.push(format!("{}={usec}us", base_key(&base)?));
            }
            out
        }
        "OnCalendar" | "TimersCalendar" => {
            let values: Vec<(String, String)> = v
                .try_clone()
                .ok()
                .and_then(|v| Vec::<(String, String)>::try_from(v).ok())
                .ok_or_else(|| wrong_type(k, "a(ss)"))?;
            if values.is_empty() {
                return Ok(vec!["OnCalendar=".to_owned()]);
            }
            let mut out = Vec::with_capacity(values.len());
            for (_, expr) in values {
                if crate::spec::calendar::CalendarSpec::parse(&expr).is_err() {
                    return Err(CallError::invalid_args(format!(
                        "Failed to parse calendar specification: {expr}"
                    )));
                }
                out.push(format!("OnCalendar={}", plain(k, &expr)?));
            }
            out
        }
        "AccuracyUSec" | "RandomizedDelayUSec" => {
            let usec = get_u64(k, v)?;
            let key = k.replace("USec", "Sec");
            if usec == u64::MAX {
                vec![format!("{key}=infinity")]
            } else {
                vec![format!("{key}={usec}us")]
            }
        }
        "WakeSystem" | "RemainAfterElapse" | "Persistent" | "OnTimezoneChange"
        | "OnClockChange" | "FixedRandomDelay" => {
            let b = if get_bool(k, v)? { "yes" } else { "no" };
            vec![format!("{k}={b}")]
        }
        "Unit" => vec![format!("Unit={}", plain(k, &get_str(k, v)?)?)],
        _ => return Err(unknown(k)),
    })
}

/// Build the unit `name` from `props` (`a(sv)`): returns the loaded unit and the options the
/// façade acts on. Errors are systemd's (`InvalidArgs` for unknown or mistyped properties,
/// `NotSupported` for what unitd cannot do).
pub fn build(
    name: &str,
    props: &[(String, OwnedValue)],
    ctx: &SpecifierContext,
) -> Result<(LoadedUnit, TransientOptions), CallError> {
    let un = UnitName::new(name).map_err(|_| CallError::invalid_unit_name(name))?;
    if un.is_template() {
        return Err(CallError::invalid_args(format!(
            "Unit name {name} is a template."
        )));
    }
    let is_scope = un.unit_type() == UnitType::Scope;
    let is_socket = un.unit_type() == UnitType::Socket;
    let is_timer = un.unit_type() == UnitType::Timer;
    if un.unit_type() != UnitType::Service && !is_scope && !is_socket && !is_timer {
        return Err(CallError::new(
            NOT_SUPPORTED,
            format!(
                "Transient units of type .{} are not supported by unitd.",
                un.unit_type().suffix()
            ),
        ));
    }
    let mut opts = TransientOptions::default();
    let mut unit_lines: Vec<String> = vec![format!("Description={}", plain("Description", name)?)];
    let mut service_lines: Vec<String> = Vec::new();
    // Settings of the type's own section every unit with a control group has.
    let mut cgroup_lines: Vec<String> = Vec::new();
    let mut socket_lines: Vec<String> = Vec::new();
    let mut timer_lines: Vec<String> = Vec::new();
    for (key, value) in props {
        let v: &Value<'_> = value;
        // A variant inside the variant (some clients nest them).
        let v = match v {
            Value::Variant(inner) => inner.as_ref(),
            other => other,
        };
        let k = key.as_str();
        if is_scope {
            match k {
                "Description" | "AddRef" | "CollectMode" => {}
                "PIDs" => {
                    let pids = v
                        .try_clone()
                        .ok()
                        .and_then(|v| Vec::<u32>::try_from(v).ok())
                        .ok_or_else(|| wrong_type(k, "au"))?;
                    opts.pids.extend(pids);
                    continue;
                }
                "Slice" | "Delegate" => {}
                _ => return Err(unknown(k)),
            }
        }
        if is_timer {
            match k {
                "Description" | "AddRef" | "CollectMode" => {}
                _ => {
                    timer_lines.extend(timer_setting(k, v)?);
                    continue;
                }
            }
        }
        if is_socket {
            match k {
                "Description" | "AddRef" | "CollectMode" | "Slice" | "Delegate" => {}
                _ => {
                    socket_lines.extend(socket_setting(k, v)?);
                    continue;
                }
            }
        }
        match k {
            "Description" => unit_lines.push(format!("Description={}", plain(k, &get_str(k, v)?)?)),
            "AddRef" => opts.add_ref = get_bool(k, v)?,
            "CollectMode" => unit_lines.push(format!("CollectMode={}", plain(k, &get_str(k, v)?)?)),
            "ExecStart" | "ExecStartPre" | "ExecStartPost" | "ExecReload" | "ExecStop"
            | "ExecStopPost" | "ExecCondition" => {
                for line in exec_lines(k, v)? {
                    service_lines.push(format!("{k}={line}"));
                }
            }
            "Environment" => {
                for a in get_strv(k, v)? {
                    if !super::manager::env_assignment_is_valid(&a) {
                        return Err(CallError::invalid_args(format!(
                            "Invalid environment assignment: {a}"
                        )));
                    }
                    service_lines.push(format!("Environment={}", quoted(k, &a, false)?));
                }
            }
            "WorkingDirectory" | "User" | "Group" | "Type" | "Restart" | "KillMode" | "PIDFile"
            | "NotifyAccess" => {
                service_lines.push(format!("{k}={}", plain(k, &get_str(k, v)?)?));
            }
            "RemainAfterExit" | "SendSIGHUP" | "SendSIGKILL" | "GuessMainPID" => {
                let b = if get_bool(k, v)? { "yes" } else { "no" };
                service_lines.push(format!("{k}={b}"));
            }
            "Nice" | "KillSignal" => {
                service_lines.push(format!("{k}={}", get_i32(k, v)?));
            }
            "TimeoutStartUSec" | "TimeoutStopUSec" | "RuntimeMaxUSec" | "RestartUSec" => {
                let usec = get_u64(k, v)?;
                let key = k.replace("USec", "Sec");
                let val = if usec == u64::MAX {
                    "infinity".to_owned()
                } else {
                    format!("{usec}us")
                };
                service_lines.push(format!("{key}={val}"));
            }
            "StandardInputFileDescriptor"
            | "StandardOutputFileDescriptor"
            | "StandardErrorFileDescriptor" => {
                let Value::Fd(fd) = v else {
                    return Err(wrong_type(k, "h"));
                };
                let owned = std::os::fd::AsFd::as_fd(fd)
                    .try_clone_to_owned()
                    .map_err(|e| CallError::invalid_args(format!("{k}: {e}")))?;
                let slot = match k {
                    "StandardInputFileDescriptor" => 0,
                    "StandardOutputFileDescriptor" => 1,
                    _ => 2,
                };
                opts.stdio[slot] = Some(owned);
            }
            // The terminal the descriptors above belong to (`systemd-run -t`). systemd uses it
            // only for TTYReset=/TTYVHangup=/TTYVTDisallocate=, which are not set here.
            "TTYPath" => {
                get_str(k, v)?;
            }
            "Slice" => {
                let slice = get_str(k, v)?;
                match UnitName::new(&slice) {
                    Ok(n) if !n.is_template() && n.instance().is_none() => {
                        if n.unit_type() != UnitType::Slice {
                            return Err(CallError::invalid_args(format!(
                                "Unit name '{slice}' is not a slice"
                            )));
                        }
                    }
                    _ => {
                        return Err(CallError::invalid_args(format!(
                            "Invalid unit name '{slice}'"
                        )));
                    }
                }
                cgroup_lines.push(format!("Slice={slice}"));
            }
            "Delegate" => {
                let b = if get_bool(k, v)? { "yes" } else { "no" };
                cgroup_lines.push(format!("Delegate={b}"));
            }
            "PIDs" => return Err(unknown(k)),
            _ if !is_scope && !is_socket && !is_timer && is_sandbox_property(k) => {
                let lines = sandbox_setting(k, v)?.unwrap_or_default();
                if REPLACING.contains(&k) {
                    let prefix = format!("{k}=");
                    service_lines.retain(|l| !l.starts_with(&prefix));
                }
                service_lines.extend(lines);
            }
            _ => return Err(unknown(k)),
        }
    }
    if is_scope && opts.pids.is_empty() {
        return Err(CallError::invalid_args("Scope has no PIDs. Refusing."));
    }
    if !is_scope
        && !is_socket
        && !is_timer
        && !service_lines.iter().any(|l| l.starts_with("ExecStart="))
        && !service_lines.iter().any(|l| l == "RemainAfterExit=yes")
    {
        return Err(CallError::invalid_args(
            "Service has no ExecStart= setting, which is only allowed for RemainAfterExit=yes \
             services.",
        ));
    }
    let text = if is_timer {
        format!(
            "[Unit]\n{}\n\n[Timer]\n{}\n",
            unit_lines.join("\n"),
            timer_lines.join("\n")
        )
    } else if is_socket {
        socket_lines.extend(cgroup_lines);
        format!(
            "[Unit]\n{}\n\n[Socket]\n{}\n",
            unit_lines.join("\n"),
            socket_lines.join("\n")
        )
    } else if is_scope {
        format!(
            "[Unit]\n{}\n\n[Scope]\n{}\n",
            unit_lines.join("\n"),
            cgroup_lines.join("\n")
        )
    } else {
        service_lines.extend(cgroup_lines);
        format!(
            "[Unit]\n{}\n\n[Service]\n{}\n",
            unit_lines.join("\n"),
            service_lines.join("\n")
        )
    };
    let fragment = Path::new("/transient").join(name);
    let parsed = unit_file::parse_unit(&un, Some((&fragment, text.as_bytes())), &[], ctx);
    if let Some(d) = parsed
        .diagnostics
        .iter()
        .find(|d| d.severity == Severity::Error)
    {
        return Err(CallError::invalid_args(d.message.clone()));
    }
    // A sandboxing line the parser had to ignore (a path it cannot normalize, …) would leave
    // the service less sandboxed than asked: refuse instead. `[Service]` line i is at
    // unit_lines + 4 + i (after "[Unit]", the unit lines, a blank line and "[Service]").
    if !is_scope && !is_socket && !is_timer {
        let first = unit_lines.len() as u32 + 4;
        if let Some(d) = parsed.diagnostics.iter().find(|d| {
            d.line >= first
                && service_lines
                    .get((d.line - first) as usize)
                    .and_then(|l| l.split_once('='))
                    .is_some_and(|(key, _)| is_sandbox_property(key))
        }) {
            return Err(CallError::invalid_args(d.message.clone()));
        }
    }
    let mut parsed = parsed;
    if let crate::spec::KindSpec::Service(s) = &mut parsed.spec.kind {
        let exec = std::sync::Arc::make_mut(&mut s.exec);
        if opts.stdio[0].is_some() {
            exec.stdin = crate::spec::StdInput::Fd;
        }
        // Each descriptor given replaces its stream; the others keep their settings.
        if opts.stdio[1].is_some() {
            exec.stdout = crate::spec::StdOutput::Fd;
        }
        if opts.stdio[2].is_some() {
            exec.stderr = crate::spec::StdOutput::Fd;
        }
    }
    if parsed.load_state != LoadState::Loaded {
        let msg = parsed
            .diagnostics
            .first()
            .map(|d| d.message.clone())
            .unwrap_or_else(|| format!("Unit {name} has a bad unit file setting."));
        return Err(CallError::invalid_args(msg));
    }
    opts.text = format!(
        "# This is a transient unit file, created programmatically via the systemd API. Do not edit.\n{text}"
    );
    Ok((
        LoadedUnit {
            name: name.to_owned(),
            aliases: Vec::new(),
            load_state: LoadState::Loaded,
            load_error: None,
            fragment_path: None,
            dropin_paths: Vec::new(),
            diagnostics: parsed.diagnostics,
            spec: parsed.spec,
        },
        opts,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::KindSpec;
    use crate::spec::sandbox::{BindPath, PathEntry, Sandbox};
    use crate::unit_file::specifier::test_context;

    /// The sandbox of a transient service built from `props` (plus an `ExecStart`).
    fn sandbox(props: Vec<(&str, Value<'static>)>) -> Result<Sandbox, CallError> {
        let exec = vec![("/bin/true".to_owned(), vec!["/bin/true".to_owned()], false)];
        let mut all = vec![(
            "ExecStart".to_owned(),
            OwnedValue::try_from(Value::from(exec)).unwrap(),
        )];
        for (k, v) in props {
            all.push((k.to_owned(), OwnedValue::try_from(v).unwrap()));
        }
        let (unit, _) = build("t.service", &all, &test_context())?;
        match &unit.spec.kind {
            KindSpec::Service(s) => Ok(s.exec.sandbox.clone()),
            other => panic!("not a service: {other:?}"),
        }
    }

    #[test]
    fn capability_masks_arrive_exactly() {
        let known = (1u64 << (linux::CAP_LAST_CAP + 1)) - 1;
        for mask in [0, 1 << 21, !(1u64 << 21), known & !(1 << 21), 1 << 63] {
            let s = sandbox(vec![("CapabilityBoundingSet", Value::from(mask))]).unwrap();
            assert_eq!(s.capability_bounding_set, Some(mask), "{mask:#x}");
        }
        let s = sandbox(vec![("CapabilityBoundingSet", Value::from(u64::MAX))]).unwrap();
        assert_eq!(s.capability_bounding_set, None);
        for mask in [0, 1, (1 << 40) | 1] {
            let s = sandbox(vec![("AmbientCapabilities", Value::from(mask))]).unwrap();
            assert_eq!(s.ambient_capabilities, mask);
        }
        // The last assignment wins, as systemd stores the mask as sent.
        let s = sandbox(vec![
            ("CapabilityBoundingSet", Value::from(1u64)),
            ("CapabilityBoundingSet", Value::from(2u64)),
        ])
        .unwrap();
        assert_eq!(s.capability_bounding_set, Some(2));
    }

    #[test]
    fn namespace_masks_arrive_exactly() {
        for (mask, want) in [
            (0, Some(0)),
            (linux::NAMESPACE_FLAGS_ALL, Some(linux::NAMESPACE_FLAGS_ALL)),
            (linux::CLONE_NEWNET, Some(linux::CLONE_NEWNET)),
            (u64::MAX, None),
        ] {
            let s = sandbox(vec![
                ("RestrictNamespaces", Value::from(linux::CLONE_NEWUSER)),
                ("RestrictNamespaces", Value::from(mask)),
            ])
            .unwrap();
            assert_eq!(s.restrict_namespaces, want, "{mask:#x}");
        }
    }

    #[test]
    fn odd_paths_survive_the_unit_file_syntax() {
        let s = sandbox(vec![
            (
                "ReadOnlyPaths",
                Value::from(vec!["-/a b/%c".to_owned(), "/x\"y\\z".to_owned()]),
            ),
            (
                "BindReadOnlyPaths",
                Value::from(vec![("/s:1 '2'".to_owned(), "/d%e".to_owned(), true, 0u64)]),
            ),
        ])
        .unwrap();
        assert_eq!(
            s.read_only_paths,
            [
                PathEntry {
                    path: "/a b/%c".into(),
                    optional: true
                },
                PathEntry {
                    path: "/x\"y\\z".into(),
                    optional: false
                }
            ]
        );
        assert_eq!(
            s.bind_paths,
            [BindPath {
                source: "/s:1 '2'".into(),
                target: "/d%e".into(),
                optional: true,
                recursive: false,
                read_only: true,
            }]
        );
    }

    #[test]
    fn what_the_parser_would_drop_is_refused() {
        let err = sandbox(vec![(
            "InaccessiblePaths",
            Value::from(vec!["/a/../b".to_owned()]),
        )])
        .unwrap_err();
        assert_eq!(err.name, super::super::errors::INVALID_ARGS);
        assert!(err.message.contains("not normalized"), "{}", err.message);
    }
}
