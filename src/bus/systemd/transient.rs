//! `StartTransientUnit`: a unit built from D-Bus properties instead of a file.
//!
//! The `a(sv)` properties are translated into the unit-file settings they stand for and run
//! through the ordinary parser ([`crate::unit_file::parse_unit`]), so a transient unit gets
//! exactly the defaults, validation and diagnostics of a unit written to disk — the way
//! systemd itself writes transient units as files under `…/systemd/transient/`. Services,
//! sockets (`Listen a(ss)` & co., what `systemd-run --socket-property=` sends), timers
//! (`OnActiveSec a(st)`, `OnCalendar a(ss)` & co., what `systemd-run --on-active=` sends) and scopes
//! (`PIDs`: processes the scope adopts) can be created, in a `Slice=` and with
//! `Delegate=`. Properties unitd cannot honour are refused with systemd's error for an unknown
//! property rather than ignored.

use std::path::Path;

use zbus::{OwnedVariant as OwnedValue, Variant as Value};

use crate::spec::{LoadState, LoadedUnit, Severity, UnitName, UnitType};
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
