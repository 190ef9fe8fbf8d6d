//! Stage 2 of the unit-file parser: lexed entries → [`UnitSpec`] through a `(section, key) →
//! setter` table, then systemd's load-time fix-ups and `service_verify`.
//!
//! Owns the meaning of every `[Unit]`, `[Service]` and `[Install]` key unitd implements, the
//! list of systemd keys it knows but does not implement yet (warned about, never silently
//! dropped), the defaults applied after all files are read (service type, oneshot start
//! timeout, NotifyAccess upgrade, stdio fix-up) and the validity rules that make a service
//! `bad-setting`. Entries of other unit types' own sections are kept raw.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::spec::{
    Condition, DepKind, Diagnostic, ExecCommand, ExecContext, ExecDirectoryType, ExitStatusSet,
    KillMode, KindSpec, ListenAddress, ListenKind, ListenSpec, NotifyAccess, RawSection,
    ResourceLimit, RestartPolicy, RuntimeDirectoryPreserve, ServiceSpec, ServiceType, Severity,
    SocketSpec, StdInput, StdOutput, USEC_INFINITY, UnitName, UnitSpec, UnitType, WorkingDirectory,
};

use super::exec::parse_exec_line;
use super::lexer::Entry;
use super::specifier::{SpecifierContext, SpecifierError, SpecifierSet, UnitInfo, expand};
use super::values::{
    JOB_MODES, RlimitError, bus_name_is_valid, check_absolute_path, documentation_url_is_valid,
    env_assignment_is_valid, env_name_is_valid, parse_bool, parse_exit_status, parse_mode,
    parse_rlimit, parse_sec, parse_sec_fix_0, parse_signal, parse_u64, user_group_name_is_valid,
};
use super::words::{WordFlags, extract_word, split_words};

mod sandbox;
pub use sandbox::is_sandbox_key;

/// A setter applies one entry.
type Setter = fn(&mut Lower<'_>, &Entry);

/// Service settings being collected, plus what `service_add_extras` needs to know.
struct ServiceBuilder {
    spec: ServiceSpec,
    exec: ExecContext,
    type_set: bool,
    start_timeout_defined: bool,
}

/// Lowering state for one unit (fragment and drop-ins share it, so resets work across files).
pub(crate) struct Lower<'a> {
    name: &'a UnitName,
    ctx: &'a SpecifierContext,
    fragment: Option<&'a Path>,
    file: PathBuf,
    diagnostics: Vec<Diagnostic>,
    bad_setting: bool,
    unit: UnitSpec,
    service: ServiceBuilder,
    raw: RawSection,
    success_action: bool,
    /// `[Socket]` settings (socket units only).
    socket: SocketSpec,
    /// Parser-only state of the sandboxing keys.
    sandbox_state: sandbox::State,
    /// `[Timer]` settings (timer units only).
    timer: crate::spec::TimerSpec,
    /// `[Mount]` settings (mount units only).
    mount: crate::spec::MountSpec,
}

impl<'a> Lower<'a> {
    pub(crate) fn new(
        name: &'a UnitName,
        fragment: Option<&'a Path>,
        ctx: &'a SpecifierContext,
    ) -> Lower<'a> {
        let mut unit = UnitSpec::default_for(name);
        // systemd's `scope_init`, `device_init`, `mount_init`: isolating leaves them alone.
        if matches!(
            name.unit_type(),
            UnitType::Scope | UnitType::Device | UnitType::Mount
        ) {
            unit.ignore_on_isolate = true;
        }
        Lower {
            name,
            ctx,
            fragment,
            file: fragment.map(Path::to_path_buf).unwrap_or_default(),
            diagnostics: Vec::new(),
            bad_setting: false,
            unit,
            service: ServiceBuilder {
                spec: ServiceSpec::default(),
                exec: ExecContext {
                    ignore_sigpipe: true,
                    ..ExecContext::default()
                },
                type_set: false,
                start_timeout_defined: false,
            },
            raw: RawSection::default(),
            success_action: false,
            socket: SocketSpec::default(),
            sandbox_state: sandbox::State::default(),
            timer: crate::spec::TimerSpec::default(),
            mount: crate::spec::MountSpec::default(),
        }
    }

    /// Diagnostics are attributed to `file` from now on.
    pub(crate) fn set_file(&mut self, file: &Path) {
        self.file = file.to_path_buf();
    }

    /// Record a diagnostic for the current file.
    pub(crate) fn push(&mut self, line: u32, severity: Severity, message: String) {
        self.diagnostics.push(Diagnostic {
            file: self.file.clone(),
            line,
            severity,
            message,
        });
    }

    fn warn(&mut self, line: u32, message: String) {
        self.push(line, Severity::Warning, message);
    }

    /// An invalid setting that makes the unit `bad-setting`.
    fn error(&mut self, line: u32, message: String) {
        self.bad_setting = true;
        self.push(line, Severity::Error, message);
    }

    fn expand(&self, text: &str, set: SpecifierSet) -> Result<String, SpecifierError> {
        expand(
            text,
            set,
            UnitInfo {
                name: self.name,
                fragment: self.fragment,
            },
            self.ctx,
        )
    }

    /// Expand with the full table; warn and return `None` on failure.
    fn expand_or_warn(&mut self, e: &Entry, text: &str) -> Option<String> {
        match self.expand(text, SpecifierSet::Full) {
            Ok(v) => Some(v),
            Err(err) => {
                self.warn(
                    e.line,
                    format!("Failed to resolve unit specifiers in '{text}', ignoring: {err}"),
                );
                None
            }
        }
    }

    fn bool_or_warn(&mut self, e: &Entry) -> Option<bool> {
        let v = parse_bool(&e.value);
        if v.is_none() {
            self.warn(
                e.line,
                format!("Failed to parse boolean value, ignoring: {}", e.value),
            );
        }
        v
    }

    fn time_or_warn(&mut self, e: &Entry, parse: fn(&str) -> Option<u64>) -> Option<u64> {
        let v = parse(&e.value);
        if v.is_none() {
            self.warn(
                e.line,
                format!(
                    "Failed to parse {}= parameter, ignoring: {}",
                    e.key, e.value
                ),
            );
        }
        v
    }

    fn invalid(&mut self, e: &Entry, what: &str) {
        self.warn(
            e.line,
            format!("Failed to parse {what}, ignoring: {}", e.value),
        );
    }

    /// The section of a unit type that has a control group (`Delegate=`, `Slice=`).
    fn cgroup_section(&self) -> Option<&'static str> {
        match self.name.unit_type() {
            UnitType::Service => Some("Service"),
            UnitType::Scope => Some("Scope"),
            UnitType::Socket => Some("Socket"),
            _ => None,
        }
    }

    /// `Delegate=`: a boolean or a list of controllers (delegation on); empty means yes.
    fn set_delegate(&mut self, e: &Entry) {
        if e.value.is_empty() {
            self.unit.delegate = true;
            return;
        }
        // Not a boolean: a list of controllers to delegate.
        self.unit.delegate = parse_bool(&e.value).unwrap_or(true);
    }

    /// `Slice=`: a plain `.slice` unit name (specifiers expanded); the unit requires and is
    /// ordered after it.
    fn set_slice(&mut self, e: &Entry) {
        let Ok(v) = self.expand(&e.value, SpecifierSet::UnitName) else {
            self.invalid(e, "slice name");
            return;
        };
        match UnitName::new(&v) {
            Ok(n) if n.unit_type() == UnitType::Slice && !n.is_template() => {
                self.unit.slice = Some(v);
            }
            _ => self.warn(
                e.line,
                format!(
                    "Failed to assign slice {v} to unit {}, ignoring.",
                    self.name.as_str()
                ),
            ),
        }
    }

    fn is_service(&self) -> bool {
        self.name.unit_type() == UnitType::Service
    }

    /// Apply one entry of a known section.
    pub(crate) fn apply(&mut self, e: &Entry) {
        let section = e.section.as_str();
        if self.cgroup_section() == Some(section) {
            match e.key.as_str() {
                "Delegate" => return self.set_delegate(e),
                "Slice" => return self.set_slice(e),
                _ => {}
            }
        }
        if section == "Unit" || section == "Install" || (section == "Service" && self.is_service())
        {
            if let Some(setter) = table().get(&(section, e.key.as_str())) {
                setter(self, e);
                return;
            }
            if section == "Unit" && is_condition_key(&e.key) {
                set_condition(self, e);
                return;
            }
            if e.key.starts_with("X-") {
                return;
            }
            if unsupported(section, &e.key) {
                self.warn(
                    e.line,
                    format!(
                        "Setting '{}=' in section '[{section}]' is not supported by unitd yet, ignoring.",
                        e.key
                    ),
                );
                return;
            }
            self.warn(
                e.line,
                format!(
                    "Unknown key name '{}' in section '{section}', ignoring.",
                    e.key
                ),
            );
            return;
        }
        if section == "Socket" && self.name.unit_type() == UnitType::Socket {
            self.apply_socket(e);
            return;
        }
        if section == "Timer" && self.name.unit_type() == UnitType::Timer {
            self.apply_timer(e);
            return;
        }
        if section == "Mount" && self.name.unit_type() == UnitType::Mount {
            self.apply_mount(e);
            return;
        }
        // The own section of a type whose behaviour is not implemented yet: keep it raw.
        self.raw.entries.push((e.key.clone(), e.value.clone()));
    }

    /// Apply systemd's load-time defaults and validity checks; returns the spec, the
    /// diagnostics and whether a setting was bad. `verify` is false when the unit already
    /// failed to load (no point in checking it further).
    pub(crate) fn finish(mut self, verify: bool) -> (UnitSpec, Vec<Diagnostic>, bool) {
        let kind = match self.name.unit_type() {
            UnitType::Service => {
                let svc = self.finish_service(verify && !self.bad_setting);
                KindSpec::Service(Box::new(svc))
            }
            UnitType::Target => KindSpec::Target,
            UnitType::Socket => KindSpec::Socket(Box::new(self.finish_socket())),
            UnitType::Timer => KindSpec::Timer(Box::new(self.finish_timer())),
            UnitType::Mount => KindSpec::Mount(Box::new(self.finish_mount(verify))),
            _ => KindSpec::Other(std::mem::take(&mut self.raw)),
        };
        self.unit.kind = kind;
        // A slice lives in its parent slice (`a-b.slice` in `a.slice`, `a.slice` in `-.slice`).
        if self.name.unit_type() == UnitType::Slice && self.name.as_str() != "-.slice" {
            let stem = self.name.stem();
            self.unit.slice = Some(match stem.rsplit_once('-') {
                Some((parent, _)) => format!("{parent}.slice"),
                None => "-.slice".to_owned(),
            });
        }
        // unit_add_slice_dependencies: the unit requires its slice and starts after it.
        if let Some(slice) = self.unit.slice.clone() {
            for k in [DepKind::Requires, DepKind::After] {
                if !self.unit.deps.iter().any(|(k2, n)| *k2 == k && *n == slice) {
                    self.unit.deps.push((k, slice.clone()));
                }
            }
        }
        if verify && !self.bad_setting {
            // unit_load: isolating needs exactly one target to isolate to.
            for (kind, mode) in [
                (DepKind::OnFailure, &self.unit.on_failure_job_mode),
                (DepKind::OnSuccess, &self.unit.on_success_job_mode),
            ] {
                let n = self.unit.deps.iter().filter(|(k, _)| *k == kind).count();
                if mode == "isolate" && n > 1 {
                    let msg = format!(
                        "More than one {}= dependencies specified but {}JobMode=isolate set. Refusing.",
                        kind.key(),
                        kind.key()
                    );
                    let file = self.fragment.map(Path::to_path_buf).unwrap_or_default();
                    self.bad_setting = true;
                    self.diagnostics.push(Diagnostic {
                        file,
                        line: 0,
                        severity: Severity::Error,
                        message: msg,
                    });
                }
            }
        }
        (self.unit, self.diagnostics, self.bad_setting)
    }

    fn finish_service(&mut self, verify: bool) -> ServiceSpec {
        let b = &mut self.service;
        let s = &mut b.spec;
        // service_add_extras
        if !b.type_set {
            s.service_type = if s.bus_name.is_some() {
                ServiceType::Dbus
            } else if !s.exec_start.is_empty() {
                ServiceType::Simple
            } else {
                ServiceType::Oneshot
            };
        }
        if s.service_type == ServiceType::Oneshot && !b.start_timeout_defined {
            s.timeout_start_usec = USEC_INFINITY;
        }
        // service_fix_stdio: inherit → the manager default (journal) unless stdin is a socket.
        let ex = &mut b.exec;
        if ex.stdin != StdInput::Socket {
            if ex.stderr == StdOutput::Inherit && ex.stdout == StdOutput::Inherit {
                ex.stderr = StdOutput::Journal;
            }
            if ex.stdout == StdOutput::Inherit {
                ex.stdout = StdOutput::Journal;
            }
        }
        sandbox::patch_capabilities(&mut ex.sandbox);
        if s.notify_access == NotifyAccess::None
            && (matches!(
                s.service_type,
                ServiceType::Notify | ServiceType::NotifyReload
            ) || s.watchdog_usec > 0
                || s.fd_store_max > 0)
        {
            s.notify_access = NotifyAccess::Main;
        }
        s.exec = Arc::new(std::mem::take(ex));
        let spec = std::mem::take(s);
        if verify && let Some(msg) = service_verify(&spec, self.success_action) {
            let file = self.fragment.map(Path::to_path_buf).unwrap_or_default();
            self.bad_setting = true;
            self.diagnostics.push(Diagnostic {
                file,
                line: 0,
                severity: Severity::Error,
                message: msg,
            });
        }
        spec
    }
}

/// systemd's `service_verify`: why the service cannot be used, if it cannot.
fn service_verify(s: &ServiceSpec, success_action: bool) -> Option<String> {
    let oneshot = s.service_type == ServiceType::Oneshot;
    if s.exec_start.is_empty() && s.exec_stop.is_empty() && !success_action {
        return Some("Service has no ExecStart=, ExecStop=, or SuccessAction=. Refusing.".into());
    }
    if !oneshot && s.exec_start.is_empty() {
        return Some(
            "Service has no ExecStart= setting, which is only allowed for Type=oneshot services. Refusing."
                .into(),
        );
    }
    if !s.remain_after_exit && s.exec_start.is_empty() && !success_action {
        return Some(
            "Service has no ExecStart= and no SuccessAction= settings and does not have RemainAfterExit=yes set. Refusing."
                .into(),
        );
    }
    if !oneshot && s.exec_start.len() > 1 {
        return Some(
            "Service has more than one ExecStart= setting, which is only allowed for Type=oneshot services. Refusing."
                .into(),
        );
    }
    if oneshot && matches!(s.restart, RestartPolicy::Always | RestartPolicy::OnSuccess) {
        return Some(
            "Service has Restart= set to either always or on-success, which isn't allowed for Type=oneshot services. Refusing."
                .into(),
        );
    }
    if oneshot && !s.restart_force_exit_status.is_empty() {
        return Some(
            "Service has RestartForceExitStatus= set, which isn't allowed for Type=oneshot services. Refusing."
                .into(),
        );
    }
    if s.service_type == ServiceType::Dbus && s.bus_name.is_none() {
        return Some(
            "Service is of type D-Bus but no D-Bus service name has been specified. Refusing."
                .into(),
        );
    }
    None
}

// ---------------------------------------------------------------------------------------------
// The table.

fn table() -> &'static HashMap<(&'static str, &'static str), Setter> {
    static TABLE: OnceLock<HashMap<(&'static str, &'static str), Setter>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t: HashMap<(&'static str, &'static str), Setter> = HashMap::new();
        let mut add = |section: &'static str, key: &'static str, f: Setter| {
            t.insert((section, key), f);
        };
        // [Unit]
        add("Unit", "Description", set_description);
        add("Unit", "Documentation", set_documentation);
        add("Unit", "SourcePath", |_, _| {});
        for kind in DepKind::ALL {
            add("Unit", kind.key(), set_deps);
        }
        add("Unit", "BindTo", set_deps);
        add("Unit", "PropagateReloadTo", set_deps);
        add("Unit", "PropagateReloadFrom", set_deps);
        add("Unit", "RequiresOverridable", set_deps);
        add("Unit", "RequisiteOverridable", set_deps);
        add("Unit", "StopWhenUnneeded", |l, e| {
            if let Some(v) = l.bool_or_warn(e) {
                l.unit.stop_when_unneeded = v;
            }
        });
        add("Unit", "RefuseManualStart", |l, e| {
            if let Some(v) = l.bool_or_warn(e) {
                l.unit.refuse_manual_start = v;
            }
        });
        add("Unit", "RefuseManualStop", |l, e| {
            if let Some(v) = l.bool_or_warn(e) {
                l.unit.refuse_manual_stop = v;
            }
        });
        add("Unit", "AllowIsolate", |l, e| {
            if let Some(v) = l.bool_or_warn(e) {
                l.unit.allow_isolate = v;
            }
        });
        add("Unit", "DefaultDependencies", |l, e| {
            if let Some(v) = l.bool_or_warn(e) {
                l.unit.default_dependencies = v;
            }
        });
        add("Unit", "IgnoreOnIsolate", |l, e| {
            if let Some(v) = l.bool_or_warn(e) {
                l.unit.ignore_on_isolate = v;
            }
        });
        add("Unit", "OnFailureJobMode", set_job_mode);
        add("Unit", "OnSuccessJobMode", set_job_mode);
        add("Unit", "OnFailureIsolate", |l, e| {
            if let Some(v) = l.bool_or_warn(e) {
                l.unit.on_failure_job_mode = if v { "isolate" } else { "replace" }.into();
            }
        });
        add("Unit", "JobTimeoutSec", |l, e| {
            if let Some(v) = l.time_or_warn(e, parse_sec_fix_0) {
                l.unit.job_timeout_usec = v;
            }
        });
        add("Unit", "StartLimitIntervalSec", set_start_limit_interval);
        add("Unit", "StartLimitInterval", set_start_limit_interval);
        add("Unit", "StartLimitBurst", set_start_limit_burst);
        add("Unit", "CollectMode", |l, e| match e.value.as_str() {
            "inactive" => l.unit.collect_inactive_or_failed = false,
            "inactive-or-failed" => l.unit.collect_inactive_or_failed = true,
            _ => l.invalid(e, "collect mode"),
        });
        add("Unit", "SuccessAction", |l, e| {
            l.success_action = !e.value.is_empty() && e.value != "none";
            l.warn(
                e.line,
                "Setting 'SuccessAction=' in section '[Unit]' is not supported by unitd yet, ignoring."
                    .into(),
            );
        });

        // [Service]
        add("Service", "Type", |l, e| {
            let t = match e.value.as_str() {
                "simple" => ServiceType::Simple,
                "exec" => ServiceType::Exec,
                "forking" => ServiceType::Forking,
                "oneshot" => ServiceType::Oneshot,
                "dbus" => ServiceType::Dbus,
                "notify" => ServiceType::Notify,
                "notify-reload" => ServiceType::NotifyReload,
                "idle" => ServiceType::Idle,
                _ => return l.invalid(e, "service type"),
            };
            l.service.spec.service_type = t;
            l.service.type_set = true;
        });
        add("Service", "RemainAfterExit", |l, e| {
            if let Some(v) = l.bool_or_warn(e) {
                l.service.spec.remain_after_exit = v;
            }
        });
        add("Service", "GuessMainPID", |l, e| {
            if let Some(v) = l.bool_or_warn(e) {
                l.service.spec.guess_main_pid = v;
            }
        });
        add("Service", "PIDFile", set_pid_file);
        add("Service", "BusName", set_bus_name);
        for key in [
            "ExecCondition",
            "ExecStartPre",
            "ExecStart",
            "ExecStartPost",
            "ExecReload",
            "ExecStop",
            "ExecStopPost",
        ] {
            add("Service", key, set_exec);
        }
        add("Service", "Restart", |l, e| {
            let r = match e.value.as_str() {
                "no" => RestartPolicy::No,
                "always" => RestartPolicy::Always,
                "on-success" => RestartPolicy::OnSuccess,
                "on-failure" => RestartPolicy::OnFailure,
                "on-abnormal" => RestartPolicy::OnAbnormal,
                "on-abort" => RestartPolicy::OnAbort,
                "on-watchdog" => RestartPolicy::OnWatchdog,
                _ => return l.invalid(e, "service restart specifier"),
            };
            l.service.spec.restart = r;
        });
        add("Service", "RestartSec", |l, e| {
            if let Some(v) = l.time_or_warn(e, parse_sec) {
                l.service.spec.restart_usec = v;
            }
        });
        add("Service", "SuccessExitStatus", set_exit_status_set);
        add("Service", "RestartPreventExitStatus", set_exit_status_set);
        add("Service", "RestartForceExitStatus", set_exit_status_set);
        add("Service", "TimeoutStartSec", set_service_timeout);
        add("Service", "TimeoutSec", set_service_timeout);
        add("Service", "TimeoutStopSec", |l, e| {
            if let Some(v) = l.time_or_warn(e, parse_sec_fix_0) {
                l.service.spec.timeout_stop_usec = v;
            }
        });
        add("Service", "TimeoutAbortSec", |l, e| {
            if e.value.is_empty() {
                l.service.spec.timeout_abort_usec = None;
            } else if let Some(v) = l.time_or_warn(e, parse_sec) {
                l.service.spec.timeout_abort_usec = Some(v);
            }
        });
        add("Service", "RuntimeMaxSec", |l, e| {
            if let Some(v) = l.time_or_warn(e, parse_sec) {
                l.service.spec.runtime_max_usec = v;
            }
        });
        add("Service", "WatchdogSec", |l, e| {
            if let Some(v) = l.time_or_warn(e, parse_sec) {
                l.service.spec.watchdog_usec = v;
            }
        });
        add("Service", "NotifyAccess", |l, e| {
            let v = match e.value.as_str() {
                "none" => NotifyAccess::None,
                "main" => NotifyAccess::Main,
                "exec" => NotifyAccess::Exec,
                "all" => NotifyAccess::All,
                _ => return l.invalid(e, "notify access specifier"),
            };
            l.service.spec.notify_access = v;
        });
        add("Service", "FileDescriptorStoreMax", |l, e| {
            match parse_u64(&e.value).and_then(|v| u32::try_from(v).ok()) {
                Some(v) => l.service.spec.fd_store_max = v,
                None => l.invalid(e, "FileDescriptorStoreMax= value"),
            }
        });
        add("Service", "StartLimitInterval", set_start_limit_interval);
        add("Service", "StartLimitBurst", set_start_limit_burst);
        // Kill settings.
        add("Service", "KillMode", |l, e| {
            let m = match e.value.as_str() {
                "control-group" => KillMode::ControlGroup,
                "mixed" => KillMode::Mixed,
                "process" => KillMode::Process,
                "none" => KillMode::None,
                _ => return l.invalid(e, "kill mode"),
            };
            l.service.spec.kill.mode = m;
        });
        for key in [
            "KillSignal",
            "RestartKillSignal",
            "FinalKillSignal",
            "WatchdogSignal",
        ] {
            add("Service", key, set_signal);
        }
        // systemd 253: the signal a Type=notify-reload reload sends (empty = SIGHUP).
        add("Service", "ReloadSignal", |l, e| {
            if e.value.is_empty() {
                l.service.spec.reload_signal = crate::spec::linux::SIGHUP;
                return;
            }
            match parse_signal(&e.value) {
                Some(sig) => l.service.spec.reload_signal = sig,
                None => l.invalid(e, "signal name"),
            }
        });
        add("Service", "SendSIGHUP", |l, e| {
            if let Some(v) = l.bool_or_warn(e) {
                l.service.spec.kill.send_sighup = v;
            }
        });
        add("Service", "SendSIGKILL", |l, e| {
            if let Some(v) = l.bool_or_warn(e) {
                l.service.spec.kill.send_sigkill = v;
            }
        });
        // Exec context.
        add("Service", "WorkingDirectory", set_working_directory);
        add("Service", "User", set_user_group);
        add("Service", "Group", set_user_group);
        add("Service", "SupplementaryGroups", set_supplementary_groups);
        add("Service", "UMask", |l, e| match parse_mode(&e.value) {
            Some(m) => l.service.exec.umask = Some(m),
            None => l.invalid(e, "mode"),
        });
        add("Service", "Nice", |l, e| {
            if e.value.is_empty() {
                l.service.exec.nice = None;
                return;
            }
            match e.value.parse::<i32>() {
                Ok(n) if (-20..=19).contains(&n) => l.service.exec.nice = Some(n),
                _ => l.invalid(e, "nice priority"),
            }
        });
        for key in [
            "LimitCPU",
            "LimitFSIZE",
            "LimitDATA",
            "LimitSTACK",
            "LimitCORE",
            "LimitRSS",
            "LimitNOFILE",
            "LimitAS",
            "LimitNPROC",
            "LimitMEMLOCK",
            "LimitLOCKS",
            "LimitSIGPENDING",
            "LimitMSGQUEUE",
            "LimitNICE",
            "LimitRTPRIO",
            "LimitRTTIME",
        ] {
            add("Service", key, set_rlimit);
        }
        add("Service", "Environment", set_environment);
        add("Service", "EnvironmentFile", set_environment_file);
        add("Service", "PassEnvironment", set_env_names);
        add("Service", "UnsetEnvironment", set_env_names);
        add("Service", "StandardInput", set_stdin);
        add("Service", "StandardOutput", set_stdout);
        add("Service", "StandardError", set_stdout);
        for t in ExecDirectoryType::ALL {
            add("Service", t.key(), set_exec_directory);
        }
        for key in [
            "RuntimeDirectoryMode",
            "StateDirectoryMode",
            "CacheDirectoryMode",
            "LogsDirectoryMode",
            "ConfigurationDirectoryMode",
        ] {
            add("Service", key, set_exec_directory_mode);
        }
        add("Service", "RuntimeDirectoryPreserve", |l, e| {
            let v = match e.value.as_str() {
                "restart" => RuntimeDirectoryPreserve::Restart,
                v => match parse_bool(v) {
                    Some(true) => RuntimeDirectoryPreserve::Yes,
                    Some(false) => RuntimeDirectoryPreserve::No,
                    None => return l.invalid(e, "RuntimeDirectoryPreserve"),
                },
            };
            l.service.exec.runtime_directory_preserve = v;
        });
        add("Service", "IgnoreSIGPIPE", |l, e| {
            if let Some(v) = l.bool_or_warn(e) {
                l.service.exec.ignore_sigpipe = v;
            }
        });
        sandbox::register("Service", &mut add);

        // [Install]
        for key in ["WantedBy", "RequiredBy", "Alias", "Also"] {
            add("Install", key, set_install_list);
        }
        add("Install", "DefaultInstance", |l, e| {
            if e.value.is_empty() {
                l.unit.install.default_instance = None;
                return;
            }
            match l.expand(&e.value, SpecifierSet::Install) {
                Ok(v) if instance_is_valid(&v) => {
                    l.unit.install.default_instance = Some(e.value.clone())
                }
                Ok(_) => l.invalid(e, "DefaultInstance= value"),
                Err(err) => l.warn(
                    e.line,
                    format!(
                        "Failed to resolve unit specifiers in '{}', ignoring: {err}",
                        e.value
                    ),
                ),
            }
        });
        t
    })
}

fn instance_is_valid(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":-_.\\@".contains(&b))
}

// ---------------------------------------------------------------------------------------------
// [Unit] setters.

fn set_description(l: &mut Lower<'_>, e: &Entry) {
    if let Some(v) = l.expand_or_warn(e, &e.value) {
        l.unit.description = v;
    }
}

fn set_documentation(l: &mut Lower<'_>, e: &Entry) {
    if e.value.is_empty() {
        l.unit.documentation.clear();
        return;
    }
    let mut pos = 0;
    loop {
        let word = match extract_word(&e.value, &mut pos, WordFlags::UNQUOTE) {
            Ok(Some(w)) => w.text,
            Ok(None) => return,
            Err(_) => {
                l.warn(e.line, format!("Invalid syntax, ignoring: {}", e.value));
                return;
            }
        };
        let Some(url) = l.expand_or_warn(e, &word) else {
            return;
        };
        if !documentation_url_is_valid(&url) {
            l.warn(e.line, format!("Invalid URL, ignoring: {url}"));
            continue;
        }
        if !l.unit.documentation.contains(&url) {
            l.unit.documentation.push(url);
        }
    }
}

fn set_deps(l: &mut Lower<'_>, e: &Entry) {
    let kind = match e.key.as_str() {
        "BindTo" => DepKind::BindsTo,
        "PropagateReloadTo" => DepKind::PropagatesReloadTo,
        "PropagateReloadFrom" => DepKind::ReloadPropagatedFrom,
        "RequiresOverridable" | "RequisiteOverridable" => {
            let kind = if e.key == "RequiresOverridable" {
                DepKind::Requires
            } else {
                DepKind::Requisite
            };
            l.warn(
                e.line,
                format!(
                    "Unit dependency type {}= is obsolete, replacing by {}=, please update your unit file",
                    e.key,
                    kind.key()
                ),
            );
            kind
        }
        k => match DepKind::from_key(k) {
            Some(kind) => kind,
            None => return,
        },
    };
    let words = split_words(&e.value, WordFlags::RETAIN).unwrap_or_default();
    for word in words {
        let name = match l.expand(&word, SpecifierSet::UnitName) {
            Ok(n) => n,
            Err(err) => {
                l.warn(
                    e.line,
                    format!("Failed to resolve unit specifiers in '{word}', ignoring: {err}"),
                );
                continue;
            }
        };
        let Some(target) = resolve_dependency_name(l.name, &name) else {
            l.warn(
                e.line,
                format!("Failed to add dependency on {name}, ignoring: Invalid argument"),
            );
            continue;
        };
        if target == l.name.as_str() {
            l.warn(
                e.line,
                format!("Dependency {}={target} is dropped.", kind.key()),
            );
            continue;
        }
        if !l.unit.deps.iter().any(|(k, n)| *k == kind && *n == target) {
            l.unit.deps.push((kind, target));
        }
    }
}

/// Validate a dependency target; a template is instantiated with this unit's instance (or,
/// for a non-instance unit, its prefix), as systemd's `resolve_template` does.
pub(crate) fn resolve_dependency_name(unit: &UnitName, target: &str) -> Option<String> {
    let t = UnitName::new(target).ok()?;
    if t.is_template() {
        let inst = match unit.instance() {
            Some(i) if !i.is_empty() => i,
            _ => unit.prefix(),
        };
        return t.with_instance(inst).ok().map(|n| n.as_str().to_owned());
    }
    Some(t.as_str().to_owned())
}

fn set_job_mode(l: &mut Lower<'_>, e: &Entry) {
    if !JOB_MODES.contains(&e.value.as_str()) {
        return l.invalid(e, "job mode");
    }
    if e.key == "OnSuccessJobMode" {
        l.unit.on_success_job_mode = e.value.clone();
    } else {
        l.unit.on_failure_job_mode = e.value.clone();
    }
}

fn set_start_limit_interval(l: &mut Lower<'_>, e: &Entry) {
    if let Some(v) = l.time_or_warn(e, parse_sec) {
        l.unit.start_limit_interval_usec = v;
    }
}

fn set_start_limit_burst(l: &mut Lower<'_>, e: &Entry) {
    match parse_u64(&e.value).and_then(|v| u32::try_from(v).ok()) {
        Some(v) => l.unit.start_limit_burst = v,
        None => l.invalid(e, "StartLimitBurst= value"),
    }
}

/// Condition kinds of systemd 252 whose parameter is an absolute path.
const PATH_CONDITIONS: &[&str] = &[
    "PathExists",
    "PathExistsGlob",
    "PathIsDirectory",
    "PathIsSymbolicLink",
    "PathIsMountPoint",
    "PathIsReadWrite",
    "PathIsEncrypted",
    "DirectoryNotEmpty",
    "FileNotEmpty",
    "FileIsExecutable",
    "NeedsUpdate",
];

/// Condition kinds of systemd 252 whose parameter is a string.
const STRING_CONDITIONS: &[&str] = &[
    "Null",
    "FirstBoot",
    "Architecture",
    "Firmware",
    "Virtualization",
    "Host",
    "KernelCommandLine",
    "KernelVersion",
    "Credential",
    "Security",
    "Capability",
    "ACPower",
    "Memory",
    "CPUFeature",
    "CPUs",
    "Environment",
    "User",
    "Group",
    "ControlGroupController",
    "OSRelease",
    "MemoryPressure",
    "CPUPressure",
    "IOPressure",
];

fn condition_kind(key: &str) -> Option<(bool, &str)> {
    let (assert, kind) = if let Some(k) = key.strip_prefix("Condition") {
        (false, k)
    } else {
        (true, key.strip_prefix("Assert")?)
    };
    (PATH_CONDITIONS.contains(&kind) || STRING_CONDITIONS.contains(&kind)).then_some((assert, kind))
}

fn is_condition_key(key: &str) -> bool {
    condition_kind(key).is_some()
}

fn set_condition(l: &mut Lower<'_>, e: &Entry) {
    let Some((assert, kind)) = condition_kind(&e.key) else {
        return;
    };
    if e.value.is_empty() {
        if assert {
            l.unit.asserts.clear();
        } else {
            l.unit.conditions.clear();
        }
        return;
    }
    let ws = |s: &str| s.trim_start_matches([' ', '\t', '\n', '\r']).to_owned();
    let mut rest = e.value.clone();
    let trigger = rest.starts_with('|');
    if trigger {
        rest = ws(&rest[1..]);
    }
    let negate = rest.starts_with('!');
    if negate {
        rest = ws(&rest[1..]);
    }
    let Some(mut parameter) = l.expand_or_warn(e, &rest) else {
        return;
    };
    if PATH_CONDITIONS.contains(&kind) {
        match check_absolute_path(&parameter) {
            Ok(p) => parameter = p,
            Err(why) => {
                l.warn(e.line, format!("{}= {why}, ignoring: {parameter}", e.key));
                return;
            }
        }
    }
    let c = Condition {
        kind: kind.to_owned(),
        trigger,
        negate,
        parameter,
    };
    if assert {
        l.unit.asserts.push(c);
    } else {
        l.unit.conditions.push(c);
    }
}

// ---------------------------------------------------------------------------------------------
// [Service] setters.

fn set_pid_file(l: &mut Lower<'_>, e: &Entry) {
    if e.value.is_empty() {
        l.service.spec.pid_file = None;
        return;
    }
    let Some(p) = l.expand_or_warn(e, &e.value) else {
        return;
    };
    let abs = if p.starts_with('/') {
        p
    } else {
        format!("{}/{p}", l.ctx.runtime_dir.to_string_lossy())
    };
    match check_absolute_path(&abs) {
        Ok(mut p) => {
            if let Some(rest) = p.strip_prefix("/var/run/") {
                let fixed = format!("/run/{rest}");
                l.warn(
                    e.line,
                    format!(
                        "PIDFile= references a path below legacy directory /var/run/, updating {p} \u{2192} {fixed}; please update the unit file accordingly."
                    ),
                );
                p = fixed;
            }
            l.service.spec.pid_file = Some(PathBuf::from(p));
        }
        Err(why) => l.warn(e.line, format!("PIDFile= {why}, ignoring: {abs}")),
    }
}

fn set_bus_name(l: &mut Lower<'_>, e: &Entry) {
    if e.value.is_empty() {
        l.service.spec.bus_name = None;
        return;
    }
    let Some(n) = l.expand_or_warn(e, &e.value) else {
        return;
    };
    if bus_name_is_valid(&n) {
        l.service.spec.bus_name = Some(n);
    } else {
        l.warn(e.line, format!("Invalid bus name, ignoring: {n}"));
    }
}

fn exec_list<'b>(s: &'b mut ServiceSpec, key: &str) -> &'b mut Vec<ExecCommand> {
    match key {
        "ExecCondition" => &mut s.exec_condition,
        "ExecStartPre" => &mut s.exec_start_pre,
        "ExecStart" => &mut s.exec_start,
        "ExecStartPost" => &mut s.exec_start_post,
        "ExecReload" => &mut s.exec_reload,
        "ExecStop" => &mut s.exec_stop,
        _ => &mut s.exec_stop_post,
    }
}

fn set_exec(l: &mut Lower<'_>, e: &Entry) {
    if e.value.is_empty() {
        exec_list(&mut l.service.spec, &e.key).clear();
        return;
    }
    let (name, fragment, ctx) = (l.name, l.fragment, l.ctx);
    let expand_word = |w: &str| expand(w, SpecifierSet::Full, UnitInfo { name, fragment }, ctx);
    let line = parse_exec_line(&e.value, &expand_word);
    for w in line.warnings {
        l.warn(e.line, w);
    }
    if let Some(err) = line.error {
        l.error(e.line, format!("{}=: {err}", e.key));
    }
    exec_list(&mut l.service.spec, &e.key).extend(line.commands);
}

fn set_exit_status_set(l: &mut Lower<'_>, e: &Entry) {
    let s = &mut l.service.spec;
    let target: &mut ExitStatusSet = match e.key.as_str() {
        "SuccessExitStatus" => &mut s.success_exit_status,
        "RestartPreventExitStatus" => &mut s.restart_prevent_exit_status,
        _ => &mut s.restart_force_exit_status,
    };
    if e.value.is_empty() {
        *target = ExitStatusSet::default();
        return;
    }
    let mut pos = 0;
    let mut bad = Vec::new();
    loop {
        match extract_word(&e.value, &mut pos, WordFlags::PLAIN) {
            Ok(Some(w)) => {
                if let Some(code) = parse_exit_status(&w.text) {
                    if !target.statuses.contains(&code) {
                        target.statuses.push(code);
                    }
                } else if let Some(sig) = parse_signal(&w.text) {
                    if !target.signals.contains(&sig) {
                        target.signals.push(sig);
                    }
                } else {
                    bad.push(w.text);
                }
            }
            Ok(None) => break,
            Err(_) => {
                bad.push(e.value.clone());
                break;
            }
        }
    }
    for b in bad {
        l.warn(e.line, format!("Failed to parse {}={b}, ignoring", e.key));
    }
}

fn set_service_timeout(l: &mut Lower<'_>, e: &Entry) {
    let Some(v) = l.time_or_warn(e, parse_sec_fix_0) else {
        return;
    };
    l.service.start_timeout_defined = true;
    l.service.spec.timeout_start_usec = v;
    if e.key == "TimeoutSec" {
        l.service.spec.timeout_stop_usec = v;
    }
}

fn set_signal(l: &mut Lower<'_>, e: &Entry) {
    let k = &mut l.service.spec.kill;
    if e.value.is_empty() {
        match e.key.as_str() {
            "KillSignal" => k.kill_signal = crate::spec::linux::SIGTERM,
            "RestartKillSignal" => k.restart_kill_signal = None,
            "FinalKillSignal" => k.final_kill_signal = crate::spec::linux::SIGKILL,
            _ => k.watchdog_signal = crate::spec::linux::SIGABRT,
        }
        return;
    }
    let Some(sig) = parse_signal(&e.value) else {
        return l.invalid(e, "signal name");
    };
    match e.key.as_str() {
        "KillSignal" => k.kill_signal = sig,
        "RestartKillSignal" => k.restart_kill_signal = Some(sig),
        "FinalKillSignal" => k.final_kill_signal = sig,
        _ => k.watchdog_signal = sig,
    }
}

fn set_working_directory(l: &mut Lower<'_>, e: &Entry) {
    let ex = &mut l.service.exec;
    if e.value.is_empty() {
        ex.working_directory = None;
        ex.working_directory_missing_ok = false;
        return;
    }
    let (missing_ok, v) = match e.value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, e.value.as_str()),
    };
    if v == "~" {
        l.service.exec.working_directory = Some(WorkingDirectory::Home);
        l.service.exec.working_directory_missing_ok = missing_ok;
        return;
    }
    let report = |l: &mut Lower<'_>, msg: String| {
        if missing_ok {
            l.warn(e.line, format!("{msg}, ignoring"));
        } else {
            l.error(e.line, msg);
        }
    };
    let p = match l.expand(v, SpecifierSet::Full) {
        Ok(p) => p,
        Err(err) => {
            return report(
                l,
                format!("Failed to resolve unit specifiers in working directory path '{v}': {err}"),
            );
        }
    };
    match check_absolute_path(&p) {
        Ok(p) => {
            l.service.exec.working_directory = Some(WorkingDirectory::Path(PathBuf::from(p)));
            l.service.exec.working_directory_missing_ok = missing_ok;
        }
        Err(why) => report(l, format!("WorkingDirectory= {why}: {p}")),
    }
}

fn set_user_group(l: &mut Lower<'_>, e: &Entry) {
    let slot_is_user = e.key == "User";
    if e.value.is_empty() {
        if slot_is_user {
            l.service.exec.user = None;
        } else {
            l.service.exec.group = None;
        }
        return;
    }
    let v = match l.expand(&e.value, SpecifierSet::Full) {
        Ok(v) => v,
        Err(err) => {
            return l.error(
                e.line,
                format!("Failed to resolve unit specifiers in {}: {err}", e.value),
            );
        }
    };
    if !user_group_name_is_valid(&v) {
        return l.error(
            e.line,
            format!("Invalid user/group name or numeric ID: {v}"),
        );
    }
    if slot_is_user {
        l.service.exec.user = Some(v);
    } else {
        l.service.exec.group = Some(v);
    }
}

fn directory_type_of(key: &str) -> Option<ExecDirectoryType> {
    ExecDirectoryType::ALL
        .into_iter()
        .find(|t| key.strip_suffix("Mode").unwrap_or(key) == t.key())
}

/// `RuntimeDirectory=` and friends (systemd's `config_parse_exec_directories`): a list of
/// relative, normalized paths; specifiers expanded; an empty value resets the list.
fn set_exec_directory(l: &mut Lower<'_>, e: &Entry) {
    let Some(t) = directory_type_of(&e.key) else {
        return;
    };
    if e.value.is_empty() {
        let dir = &mut l.service.exec.directories[t.index()];
        dir.paths.clear();
        dir.symlinks.clear();
        return;
    }
    let words = match split_words(&e.value, WordFlags::PLAIN) {
        Ok(w) => w,
        Err(_) => return l.warn(e.line, format!("Invalid syntax, ignoring: {}", e.value)),
    };
    for w in words {
        let Some(v) = l.expand_or_warn(e, &w) else {
            continue;
        };
        let normalized = |p: &str| {
            !p.is_empty()
                && !p.starts_with('/')
                && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
        };
        // `path:symlink` (systemd 250+): also a symlink below the root pointing at the path.
        let (path, link) = match v.split_once(':') {
            Some((p, link)) => (p.to_string(), Some(link.to_string())),
            None => (v.clone(), None),
        };
        if !normalized(&path) {
            l.warn(
                e.line,
                format!("{}= path is not valid, ignoring assignment: {v}", e.key),
            );
            continue;
        }
        let link = match link {
            Some(_) if t == ExecDirectoryType::Configuration => {
                l.warn(
                    e.line,
                    format!("{}= does not support symlinks, ignoring: {v}", e.key),
                );
                None
            }
            Some(link) if !normalized(&link) => {
                l.warn(
                    e.line,
                    format!(
                        "{}= symlink path is not valid, ignoring assignment: {v}",
                        e.key
                    ),
                );
                continue;
            }
            other => other,
        };
        let dir = &mut l.service.exec.directories[t.index()];
        let path = PathBuf::from(path);
        if !dir.paths.contains(&path) {
            dir.paths.push(path.clone());
        }
        if let Some(link) = link {
            let entry = (path, PathBuf::from(link));
            if !dir.symlinks.contains(&entry) {
                dir.symlinks.push(entry);
            }
        }
    }
}

fn set_exec_directory_mode(l: &mut Lower<'_>, e: &Entry) {
    let Some(t) = directory_type_of(&e.key) else {
        return;
    };
    match parse_mode(&e.value) {
        Some(m) => l.service.exec.directories[t.index()].mode = Some(m),
        None => l.invalid(e, "mode"),
    }
}

fn set_supplementary_groups(l: &mut Lower<'_>, e: &Entry) {
    if e.value.is_empty() {
        l.service.exec.supplementary_groups.clear();
        return;
    }
    let words = match split_words(&e.value, WordFlags::PLAIN) {
        Ok(w) => w,
        Err(_) => return l.warn(e.line, format!("Invalid syntax, ignoring: {}", e.value)),
    };
    for w in words {
        let v = match l.expand(&w, SpecifierSet::Full) {
            Ok(v) => v,
            Err(err) => {
                return l.error(
                    e.line,
                    format!("Failed to resolve unit specifiers in {w}: {err}"),
                );
            }
        };
        if !user_group_name_is_valid(&v) {
            return l.error(
                e.line,
                format!("Invalid user/group name or numeric ID: {v}"),
            );
        }
        if !l.service.exec.supplementary_groups.contains(&v) {
            l.service.exec.supplementary_groups.push(v);
        }
    }
}

fn set_rlimit(l: &mut Lower<'_>, e: &Entry) {
    match parse_rlimit(&e.key, &e.value) {
        Ok((resource, soft, hard)) => {
            let limits = &mut l.service.exec.limits;
            let lim = ResourceLimit {
                resource,
                soft,
                hard,
            };
            match limits.iter_mut().find(|r| r.resource == resource) {
                Some(slot) => *slot = lim,
                None => limits.push(lim),
            }
        }
        Err(RlimitError::SoftAboveHard) => l.warn(
            e.line,
            format!(
                "Soft resource limit chosen higher than hard limit, ignoring: {}",
                e.value
            ),
        ),
        Err(RlimitError::Invalid) => l.invalid(e, "resource value"),
    }
}

fn set_environment(l: &mut Lower<'_>, e: &Entry) {
    if e.value.is_empty() {
        l.service.exec.environment.clear();
        return;
    }
    let mut pos = 0;
    loop {
        let word = match extract_word(&e.value, &mut pos, WordFlags::UNQUOTE_CUNESCAPE) {
            Ok(Some(w)) => w.text,
            Ok(None) => return,
            Err(_) => {
                l.warn(e.line, format!("Invalid syntax, ignoring: {}", e.value));
                return;
            }
        };
        let resolved = match l.expand(&word, SpecifierSet::Full) {
            Ok(v) => v,
            Err(err) => {
                l.warn(
                    e.line,
                    format!("Failed to resolve specifiers in {word}, ignoring: {err}"),
                );
                continue;
            }
        };
        if !env_assignment_is_valid(&resolved) {
            l.warn(
                e.line,
                format!("Invalid environment assignment, ignoring: {resolved}"),
            );
            continue;
        }
        let (name, value) = resolved.split_once('=').expect("validated assignment");
        let env = &mut l.service.exec.environment;
        match env.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.to_owned(),
            None => env.push((name.to_owned(), value.to_owned())),
        }
    }
}

fn set_environment_file(l: &mut Lower<'_>, e: &Entry) {
    if e.value.is_empty() {
        l.service.exec.environment_files.clear();
        return;
    }
    let Some(v) = l.expand_or_warn(e, &e.value) else {
        return;
    };
    let (optional, path) = match v.strip_prefix('-') {
        Some(p) => (true, p),
        None => (false, v.as_str()),
    };
    match check_absolute_path(path) {
        Ok(p) => l.service.exec.environment_files.push((p, optional)),
        Err(why) => l.warn(e.line, format!("EnvironmentFile= {why}, ignoring: {path}")),
    }
}

fn set_env_names(l: &mut Lower<'_>, e: &Entry) {
    let unset = e.key == "UnsetEnvironment";
    if e.value.is_empty() {
        if unset {
            l.service.exec.unset_environment.clear();
        } else {
            l.service.exec.pass_environment.clear();
        }
        return;
    }
    let mut pos = 0;
    loop {
        let word = match extract_word(&e.value, &mut pos, WordFlags::UNQUOTE_CUNESCAPE) {
            Ok(Some(w)) => w.text,
            Ok(None) => return,
            Err(_) => {
                l.warn(
                    e.line,
                    format!("Trailing garbage in {}, ignoring: {}", e.key, e.value),
                );
                return;
            }
        };
        let Some(k) = l.expand_or_warn(e, &word) else {
            continue;
        };
        let ok = env_name_is_valid(&k) || (unset && env_assignment_is_valid(&k));
        if !ok {
            l.warn(
                e.line,
                format!("Invalid environment name for {}, ignoring: {k}", e.key),
            );
            continue;
        }
        let list = if unset {
            &mut l.service.exec.unset_environment
        } else {
            &mut l.service.exec.pass_environment
        };
        if !list.contains(&k) {
            list.push(k);
        }
    }
}

/// The path of a `file:`/`append:`/`truncate:` stdio value; `None` after reporting an error.
fn stdio_path(l: &mut Lower<'_>, e: &Entry, raw: &str) -> Option<PathBuf> {
    let p = l.expand_or_warn(e, raw)?;
    match check_absolute_path(&p) {
        Ok(p) => Some(PathBuf::from(p)),
        Err(why) => {
            l.error(e.line, format!("{}= {why}: {p}", e.key));
            None
        }
    }
}

fn set_stdin(l: &mut Lower<'_>, e: &Entry) {
    let v = e.value.as_str();
    if let Some(path) = v.strip_prefix("file:") {
        if let Some(p) = stdio_path(l, e, path) {
            l.service.exec.stdin = StdInput::File(p);
        }
        return;
    }
    match v {
        "null" => l.service.exec.stdin = StdInput::Null,
        "socket" => l.service.exec.stdin = StdInput::Socket,
        "tty" | "tty-force" | "tty-fail" | "data" => {
            l.service.exec.stdin = StdInput::Null;
            l.warn(
                e.line,
                format!("StandardInput={v} is not supported by unitd yet, using null."),
            );
        }
        _ if v.starts_with("fd:") || v == "fd" => {
            l.service.exec.stdin = StdInput::Null;
            l.warn(
                e.line,
                format!("StandardInput={v} is not supported by unitd yet, using null."),
            );
        }
        _ => l.invalid(e, "input specifier"),
    }
}

fn set_stdout(l: &mut Lower<'_>, e: &Entry) {
    let v = e.value.as_str();
    let out = if let Some(p) = v.strip_prefix("file:") {
        stdio_path(l, e, p).map(StdOutput::File)
    } else if let Some(p) = v.strip_prefix("append:") {
        stdio_path(l, e, p).map(StdOutput::Append)
    } else if let Some(p) = v.strip_prefix("truncate:") {
        stdio_path(l, e, p).map(StdOutput::Truncate)
    } else {
        match v {
            "inherit" => Some(StdOutput::Inherit),
            "null" => Some(StdOutput::Null),
            "journal" | "kmsg" | "journal+console" | "kmsg+console" => Some(StdOutput::Journal),
            "syslog" | "syslog+console" => {
                l.warn(
                    e.line,
                    format!(
                        "Standard output type {v} is obsolete, automatically updating to journal. Please update your unit file, and consider removing the setting altogether."
                    ),
                );
                Some(StdOutput::Journal)
            }
            "socket" => Some(StdOutput::Socket),
            "tty" => {
                l.warn(
                    e.line,
                    format!("{}=tty is not supported by unitd yet, ignoring.", e.key),
                );
                None
            }
            _ if v.starts_with("fd:") || v == "fd" => {
                l.warn(
                    e.line,
                    format!("{}={v} is not supported by unitd yet, ignoring.", e.key),
                );
                None
            }
            _ => {
                l.invalid(e, "output specifier");
                None
            }
        }
    };
    if let Some(o) = out {
        if e.key == "StandardOutput" {
            l.service.exec.stdout = o;
        } else {
            l.service.exec.stderr = o;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// [Install] setters.

fn set_install_list(l: &mut Lower<'_>, e: &Entry) {
    let inst = &mut l.unit.install;
    let list = match e.key.as_str() {
        "WantedBy" => &mut inst.wanted_by,
        "RequiredBy" => &mut inst.required_by,
        "Alias" => &mut inst.alias,
        _ => &mut inst.also,
    };
    if e.value.is_empty() {
        list.clear();
        return;
    }
    match split_words(&e.value, WordFlags::UNQUOTE_RETAIN) {
        Ok(words) => {
            for w in words {
                if !list.contains(&w) {
                    list.push(w);
                }
            }
        }
        Err(_) => l.warn(e.line, format!("Invalid syntax, ignoring: {}", e.value)),
    }
}

// ---------------------------------------------------------------------------------------------
// [Socket] (systemd.socket(5)).

impl Lower<'_> {
    /// Apply one `[Socket]` entry.
    fn apply_socket(&mut self, e: &Entry) {
        let kind = match e.key.as_str() {
            "ListenStream" => Some(ListenKind::Stream),
            "ListenDatagram" => Some(ListenKind::Datagram),
            "ListenSequentialPacket" => Some(ListenKind::SequentialPacket),
            "ListenFIFO" => Some(ListenKind::Fifo),
            _ => None,
        };
        if let Some(kind) = kind {
            if e.value.is_empty() {
                // An empty assignment resets the list.
                self.socket.listen.clear();
                return;
            }
            let Some(text) = self.expand_or_warn(e, &e.value.clone()) else {
                return;
            };
            match parse_listen(kind, &text) {
                Ok(address) => self.socket.listen.push(ListenSpec {
                    kind,
                    address,
                    text,
                }),
                Err(why) => self.warn(
                    e.line,
                    format!(
                        "Failed to parse address value in {}=, ignoring: {text} ({why})",
                        e.key
                    ),
                ),
            }
            return;
        }
        match e.key.as_str() {
            "SocketMode" | "DirectoryMode" => match parse_mode(&e.value) {
                Some(m) if e.key == "SocketMode" => self.socket.socket_mode = m,
                Some(m) => self.socket.directory_mode = m,
                None => self.invalid(e, "mode"),
            },
            "Backlog" => match e.value.parse::<u32>() {
                Ok(v) => self.socket.backlog = v,
                Err(_) => self.invalid(e, "backlog"),
            },
            "FileDescriptorName" => {
                let v = e.value.clone();
                let valid =
                    v.len() <= 255 && v.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b':');
                if v.is_empty() {
                    self.socket.fd_name = None;
                } else if valid {
                    self.socket.fd_name = Some(v);
                } else {
                    self.warn(
                        e.line,
                        format!("Invalid file descriptor name, ignoring: {v}"),
                    );
                }
            }
            "Service" => {
                let Ok(v) = self.expand(&e.value, SpecifierSet::UnitName) else {
                    self.invalid(e, "service name");
                    return;
                };
                match UnitName::new(&v) {
                    Ok(n) if n.unit_type() == UnitType::Service && !n.is_template() => {
                        self.socket.service = Some(v);
                    }
                    _ => self.error(
                        e.line,
                        format!("Unit must be of type service, ignoring: {v}"),
                    ),
                }
            }
            "Accept" => {
                if let Some(v) = self.bool_or_warn(e) {
                    self.socket.accept = v;
                }
            }
            "RemoveOnStop" => {
                if let Some(v) = self.bool_or_warn(e) {
                    self.socket.remove_on_stop = v;
                }
            }
            // A list of absolute paths; empty resets it.
            "Symlinks" => {
                if e.value.trim().is_empty() {
                    self.socket.symlinks.clear();
                }
                for word in e.value.split_whitespace() {
                    if word.starts_with('/') {
                        self.socket.symlinks.push(PathBuf::from(word));
                    } else {
                        self.invalid(e, "symlink path");
                    }
                }
            }
            // systemd's config_parse_unsigned: a plain decimal.
            "MaxConnections" | "MaxConnectionsPerSource" => match e.value.trim().parse::<u32>() {
                Ok(v) if e.key == "MaxConnections" => self.socket.max_connections = v,
                Ok(v) => self.socket.max_connections_per_source = v,
                Err(_) => self.invalid(e, "connection limit"),
            },
            k if k.starts_with("X-") => {}
            // The socket's own exec context (its Exec*= commands are not run by unitd).
            k if SOCKET_UNSUPPORTED.contains(&k)
                || sandbox::is_sandbox_key(k)
                || UNSUPPORTED_EXEC.contains(&k) =>
            {
                if k.starts_with("Listen") {
                    if e.value.trim().is_empty() {
                        self.socket.unsupported_listen.clear();
                    } else {
                        self.socket
                            .unsupported_listen
                            .push(format!("{k}={}", e.value.trim()));
                    }
                }
                self.warn(
                e.line,
                format!(
                    "Setting '{k}=' in section '[Socket]' is not supported by unitd yet, ignoring."
                ),
            )
            }
            k => self.warn(
                e.line,
                format!("Unknown key name '{k}' in section 'Socket', ignoring."),
            ),
        }
    }

    /// systemd's `socket_add_extras`/`socket_verify` at load time: the socket is ordered before
    /// the service it activates.
    fn finish_socket(&mut self) -> SocketSpec {
        let mut spec = std::mem::take(&mut self.socket);
        // A socket that listens only on kinds unitd does not open loads (each line was warned
        // about); its conditions still decide at start, then the start is unsupported.
        if spec.listen.is_empty() && spec.unsupported_listen.is_empty() {
            self.error(
                0,
                "Unit has no Listen setting (ListenStream=, ListenDatagram=, ListenFIFO=, ...). Refusing."
                    .into(),
            );
        }
        if spec.accept
            && spec
                .listen
                .iter()
                .any(|l| l.kind != ListenKind::Stream && l.kind != ListenKind::SequentialPacket)
        {
            self.error(
                0,
                "Explicit service configuration for accepting socket units not supported. Refusing."
                    .into(),
            );
        }
        if !spec.accept && spec.service.is_none() {
            spec.service = Some(format!("{}.service", self.name.stem()));
        }
        if !spec.accept
            && let Some(svc) = &spec.service
            && !self
                .unit
                .deps
                .iter()
                .any(|(k, n)| *k == DepKind::Before && n == svc)
        {
            self.unit.deps.push((DepKind::Before, svc.clone()));
        }
        spec
    }
}

// ---------------------------------------------------------------------------------------------
// [Timer] (systemd.timer(5)).

impl Lower<'_> {
    /// Apply one `[Timer]` entry.
    fn apply_timer(&mut self, e: &Entry) {
        use crate::spec::TimerBase;
        use crate::spec::calendar::CalendarSpec;
        let base = TimerBase::ALL.into_iter().find(|b| b.key() == e.key);
        if base.is_some() || e.key == "OnCalendar" {
            if e.value.is_empty() {
                // An empty assignment resets every timer value, monotonic and calendar.
                self.timer.monotonic.clear();
                self.timer.calendar.clear();
                return;
            }
            let Some(text) = self.expand_or_warn(e, &e.value.clone()) else {
                return;
            };
            if let Some(base) = base {
                match parse_sec(&text) {
                    Some(v) => self.timer.monotonic.push((base, v)),
                    None => self.warn(
                        e.line,
                        format!("Failed to parse timer value, ignoring: {text}"),
                    ),
                }
                return;
            }
            match CalendarSpec::parse(&text) {
                // A named zone's existence is the runtime's to check (it reads the zoneinfo
                // database); an unknown zone never elapses and is logged there.
                Ok(c) => self.timer.calendar.push(c),
                Err(_) => self.warn(
                    e.line,
                    format!("Failed to parse calendar specification, ignoring: {text}"),
                ),
            }
            return;
        }
        match e.key.as_str() {
            "AccuracySec" | "RandomizedDelaySec" => {
                let Some(v) = self.time_or_warn(e, parse_sec) else {
                    return;
                };
                if e.key == "AccuracySec" {
                    self.timer.accuracy_usec = v;
                } else {
                    self.timer.randomized_delay_usec = v;
                }
            }
            "FixedRandomDelay" | "Persistent" | "WakeSystem" | "RemainAfterElapse"
            | "OnClockChange" | "OnTimezoneChange" => {
                let Some(v) = self.bool_or_warn(e) else {
                    return;
                };
                let t = &mut self.timer;
                match e.key.as_str() {
                    "FixedRandomDelay" => t.fixed_random_delay = v,
                    "Persistent" => t.persistent = v,
                    "WakeSystem" => {
                        t.wake_system = v;
                        if v {
                            self.warn(
                                e.line,
                                "WakeSystem= is not enforced by unitd: the timer elapses when \
                                 the system is awake, it does not resume a suspended system."
                                    .into(),
                            );
                        }
                    }
                    "RemainAfterElapse" => t.remain_after_elapse = v,
                    "OnClockChange" => t.on_clock_change = v,
                    _ => t.on_timezone_change = v,
                }
            }
            "Unit" => {
                if self.timer.unit.is_some() {
                    self.warn(
                        e.line,
                        format!("Multiple units to trigger specified, ignoring: {}", e.value),
                    );
                    return;
                }
                let Ok(v) = self.expand(&e.value, SpecifierSet::UnitName) else {
                    self.invalid(e, "unit name");
                    return;
                };
                match UnitName::new(&v) {
                    Ok(n) if n.as_str() == self.name.as_str() => self.warn(
                        e.line,
                        format!("Units cannot trigger themselves, ignoring: {v}"),
                    ),
                    Ok(n) if !n.is_template() => self.timer.unit = Some(v),
                    _ => self.warn(e.line, format!("Unit type not valid, ignoring: {v}")),
                }
            }
            k if k.starts_with("X-") => {}
            k => self.warn(
                e.line,
                format!("Unknown key name '{k}' in section 'Timer', ignoring."),
            ),
        }
    }

    /// systemd's `timer_verify` and `timer_add_trigger_dependencies`: a timer needs a value;
    /// it triggers (and is ordered before) `Unit=` or the service of its own name.
    fn finish_timer(&mut self) -> crate::spec::TimerSpec {
        let mut spec = std::mem::take(&mut self.timer);
        if spec.monotonic.is_empty()
            && spec.calendar.is_empty()
            && !spec.on_clock_change
            && !spec.on_timezone_change
        {
            self.error(0, "Timer unit lacks value setting. Refusing.".into());
        }
        let unit = spec
            .unit
            .get_or_insert_with(|| format!("{}.service", self.name.stem()))
            .clone();
        if !self
            .unit
            .deps
            .iter()
            .any(|(k, n)| *k == DepKind::Before && *n == unit)
        {
            self.unit.deps.push((DepKind::Before, unit));
        }
        spec
    }
}

// [Mount] (systemd.mount(5)).

/// systemd's API file systems (`mount_point_is_api`): the manager sets them up itself, a mount
/// unit for them is refused.
const API_MOUNT_POINTS: &[&str] = &[
    "/proc",
    "/sys",
    "/dev",
    "/dev/shm",
    "/dev/pts",
    "/run",
    "/sys/kernel/security",
    "/sys/fs/smackfs",
    "/sys/fs/cgroup",
    "/sys/fs/cgroup/unified",
    "/sys/fs/cgroup/systemd",
    "/sys/fs/pstore",
    "/sys/firmware/efi/efivars",
    "/sys/fs/bpf",
    "/proc/sys/fs/binfmt_misc",
];

impl Lower<'_> {
    /// Apply one `[Mount]` entry.
    fn apply_mount(&mut self, e: &Entry) {
        match e.key.as_str() {
            "What" | "Type" | "Options" => {
                let Some(v) = self.expand_or_warn(e, &e.value.clone()) else {
                    return;
                };
                let m = &mut self.mount;
                match e.key.as_str() {
                    "What" => m.what = v,
                    "Type" => m.fstype = v,
                    _ => m.options = v,
                }
            }
            "Where" => {
                let Some(v) = self.expand_or_warn(e, &e.value.clone()) else {
                    return;
                };
                if v.is_empty() {
                    self.mount.where_.clear();
                } else if !v.starts_with('/') {
                    self.warn(
                        e.line,
                        format!("Path '{v}' is not absolute, ignoring: {}", e.value),
                    );
                } else {
                    self.mount.where_ = normalize_path(&v);
                }
            }
            "DirectoryMode" => match parse_mode(&e.value) {
                Some(m) => self.mount.directory_mode = m,
                None => self.invalid(e, "mode"),
            },
            "TimeoutSec" => {
                if let Some(v) = self.time_or_warn(e, parse_sec_fix_0) {
                    self.mount.timeout_usec = v;
                }
            }
            "SloppyOptions" | "LazyUnmount" | "ForceUnmount" | "ReadWriteOnly" => {
                let Some(v) = self.bool_or_warn(e) else {
                    return;
                };
                let m = &mut self.mount;
                match e.key.as_str() {
                    "SloppyOptions" => m.sloppy_options = v,
                    "LazyUnmount" => m.lazy_unmount = v,
                    "ForceUnmount" => m.force_unmount = v,
                    _ => m.read_write_only = v,
                }
            }
            k if k.starts_with("X-") => {}
            // Execution, kill and resource-control settings (shared with services): valid for
            // systemd, not applied to mount/umount by unitd.
            k if !k.starts_with("Exec")
                && (table().contains_key(&("Service", k)) || unsupported("Service", k)) =>
            {
                self.warn(
                    e.line,
                    format!(
                        "Setting '{k}=' in section '[Mount]' is not supported by unitd for mount \
                         units, ignoring."
                    ),
                )
            }
            k => self.warn(
                e.line,
                format!("Unknown key name '{k}' in section 'Mount', ignoring."),
            ),
        }
    }

    /// systemd's `mount_add_extras` and `mount_verify`: `Where=` defaults to the path the
    /// name stands for and must match it; API file systems are refused; `What=` is required.
    fn finish_mount(&mut self, verify: bool) -> crate::spec::MountSpec {
        let mut spec = std::mem::take(&mut self.mount);
        if spec.where_.is_empty() {
            match crate::unit_file::specifier::path_unescape(self.name.stem()) {
                Some(p) => spec.where_ = p,
                None => {
                    self.error(0, "Failed to derive Where= from the unit name.".into());
                    return spec;
                }
            }
        }
        if !verify {
            return spec;
        }
        if crate::spec::path_escape(&spec.where_) != self.name.stem() {
            self.error(
                0,
                "Where= setting doesn't match unit name. Refusing.".into(),
            );
        } else if API_MOUNT_POINTS.contains(&spec.where_.as_str()) {
            self.error(
                0,
                format!(
                    "Cannot create mount unit for API file system {}. Refusing.",
                    spec.where_
                ),
            );
        } else if spec.what.is_empty() && self.fragment.is_some() {
            self.error(0, "What= setting is missing. Refusing.".into());
        }
        spec
    }
}

/// `path_simplify`: drop empty and `.` components and a trailing `/`.
fn normalize_path(p: &str) -> String {
    let parts: Vec<&str> = p
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

/// Parse the address of a `Listen*=` line (systemd's `socket_address_parse`, the forms unitd
/// supports: `/path`, `@abstract`, `PORT`, `IPv4:PORT`, `[IPv6]:PORT`).
pub fn parse_listen(kind: ListenKind, text: &str) -> Result<ListenAddress, &'static str> {
    if kind == ListenKind::Fifo {
        return if text.starts_with('/') {
            Ok(ListenAddress::Path(PathBuf::from(text)))
        } else {
            Err("FIFO path must be absolute")
        };
    }
    if text.starts_with('/') {
        if text.len() >= 108 {
            return Err("path too long");
        }
        return Ok(ListenAddress::Path(PathBuf::from(text)));
    }
    if let Some(name) = text.strip_prefix('@') {
        if name.is_empty() || name.len() >= 107 {
            return Err("bad abstract name");
        }
        return Ok(ListenAddress::Abstract(name.to_string()));
    }
    if kind == ListenKind::SequentialPacket {
        return Err("sequential packet sockets must be AF_UNIX");
    }
    let port = |p: &str| -> Result<u16, &'static str> {
        match p.parse::<u16>() {
            Ok(0) | Err(_) => Err("bad port"),
            Ok(n) => Ok(n),
        }
    };
    if let Some(rest) = text.strip_prefix('[') {
        let (addr, p) = rest.split_once("]:").ok_or("bad IPv6 address")?;
        let addr: core::net::Ipv6Addr = addr.parse().map_err(|_| "bad IPv6 address")?;
        return Ok(ListenAddress::Inet {
            addr: Some(addr.into()),
            port: port(p)?,
        });
    }
    if let Some((addr, p)) = text.rsplit_once(':') {
        let addr: core::net::Ipv4Addr = addr.parse().map_err(|_| "bad IPv4 address")?;
        return Ok(ListenAddress::Inet {
            addr: Some(addr.into()),
            port: port(p)?,
        });
    }
    Ok(ListenAddress::Inet {
        addr: None,
        port: port(text)?,
    })
}

const SOCKET_UNSUPPORTED: &[&str] = &[
    "ListenSpecial",
    "ListenNetlink",
    "ListenMessageQueue",
    "ListenUSBFunction",
    "SocketProtocol",
    "BindIPv6Only",
    "BindToDevice",
    "SocketUser",
    "SocketGroup",
    "KeepAlive",
    "KeepAliveTimeSec",
    "KeepAliveIntervalSec",
    "KeepAliveProbes",
    "NoDelay",
    "Priority",
    "DeferAcceptSec",
    "ReceiveBuffer",
    "SendBuffer",
    "IPTOS",
    "IPTTL",
    "Mark",
    "ReusePort",
    "SmackLabel",
    "SmackLabelIPIn",
    "SmackLabelIPOut",
    "SELinuxContextFromNet",
    "PipeSize",
    "MessageQueueMaxMessages",
    "MessageQueueMessageSize",
    "FreeBind",
    "Transparent",
    "Broadcast",
    "PassCredentials",
    "PassSecurity",
    "PassPacketInfo",
    "Timestamping",
    "TCPCongestion",
    "ExecStartPre",
    "ExecStartPost",
    "ExecStopPre",
    "ExecStopPost",
    "TimeoutSec",
    "FlushPending",
    "TriggerLimitIntervalSec",
    "TriggerLimitBurst",
    "Writable",
];

// ---------------------------------------------------------------------------------------------
// Keys systemd 252 knows that unitd does not implement yet: warned about, never silently lost.

fn unsupported(section: &str, key: &str) -> bool {
    static SET: OnceLock<HashSet<(&'static str, &'static str)>> = OnceLock::new();
    SET.get_or_init(|| {
        let mut s = HashSet::new();
        for k in UNSUPPORTED_UNIT {
            s.insert(("Unit", *k));
        }
        for k in UNSUPPORTED_SERVICE
            .iter()
            .chain(UNSUPPORTED_EXEC)
            .chain(UNSUPPORTED_CGROUP)
        {
            s.insert(("Service", *k));
        }
        s
    })
    .contains(&(section, key))
}

const UNSUPPORTED_UNIT: &[&str] = &[
    "RequiresMountsFor",
    "JobRunningTimeoutSec",
    "JobTimeoutAction",
    "JobTimeoutRebootArgument",
    "StartLimitAction",
    "FailureAction",
    "FailureActionExitStatus",
    "SuccessActionExitStatus",
    "RebootArgument",
    "IgnoreOnSnapshot",
];

const UNSUPPORTED_SERVICE: &[&str] = &[
    "TimeoutStartFailureMode",
    "TimeoutStopFailureMode",
    "RuntimeRandomizedExtraSec",
    "StartLimitAction",
    "FailureAction",
    "RebootArgument",
    "ExitType",
    "PermissionsStartOnly",
    "RootDirectoryStartOnly",
    "SysVStartPriority",
    "NonBlocking",
    "Sockets",
    "BusPolicy",
    "USBFunctionDescriptors",
    "USBFunctionStrings",
    "OOMPolicy",
];

const UNSUPPORTED_EXEC: &[&str] = &[
    "RootDirectory",
    "RootImage",
    "RootImageOptions",
    "RootHash",
    "RootHashSignature",
    "RootVerity",
    "ExtensionDirectories",
    "ExtensionImages",
    "MountImages",
    "OOMScoreAdjust",
    "CoredumpFilter",
    "IOSchedulingClass",
    "IOSchedulingPriority",
    "CPUSchedulingPolicy",
    "CPUSchedulingPriority",
    "CPUSchedulingResetOnFork",
    "CPUAffinity",
    "NUMAPolicy",
    "NUMAMask",
    "DynamicUser",
    "StandardInputText",
    "StandardInputData",
    "TTYPath",
    "TTYReset",
    "TTYVHangup",
    "TTYVTDisallocate",
    "TTYRows",
    "TTYColumns",
    "SyslogIdentifier",
    "SyslogFacility",
    "SyslogLevel",
    "SyslogLevelPrefix",
    "LogLevelMax",
    "LogRateLimitIntervalSec",
    "LogRateLimitBurst",
    "LogExtraFields",
    "LogNamespace",
    "Capabilities",
    "TimerSlackNSec",
    "ExecSearchPath",
    "Personality",
    "SetCredential",
    "SetCredentialEncrypted",
    "LoadCredential",
    "LoadCredentialEncrypted",
    "TimeoutCleanSec",
    "PAMName",
    "UtmpIdentifier",
    "UtmpMode",
    "SELinuxContext",
    "AppArmorProfile",
    "SmackProcessLabel",
];

const UNSUPPORTED_CGROUP: &[&str] = &[
    "AllowedCPUs",
    "StartupAllowedCPUs",
    "AllowedMemoryNodes",
    "StartupAllowedMemoryNodes",
    "CPUAccounting",
    "CPUWeight",
    "StartupCPUWeight",
    "CPUShares",
    "StartupCPUShares",
    "CPUQuota",
    "CPUQuotaPeriodSec",
    "MemoryAccounting",
    "MemoryMin",
    "DefaultMemoryMin",
    "DefaultMemoryLow",
    "MemoryLow",
    "MemoryHigh",
    "MemoryMax",
    "MemorySwapMax",
    "MemoryLimit",
    "DeviceAllow",
    "DevicePolicy",
    "IOAccounting",
    "IOWeight",
    "StartupIOWeight",
    "IODeviceWeight",
    "IOReadBandwidthMax",
    "IOWriteBandwidthMax",
    "IOReadIOPSMax",
    "IOWriteIOPSMax",
    "IODeviceLatencyTargetSec",
    "BlockIOAccounting",
    "BlockIOWeight",
    "StartupBlockIOWeight",
    "BlockIODeviceWeight",
    "BlockIOReadBandwidth",
    "BlockIOWriteBandwidth",
    "TasksAccounting",
    "TasksMax",
    "DisableControllers",
    "IPAccounting",
    "IPAddressAllow",
    "IPAddressDeny",
    "IPIngressFilterPath",
    "IPEgressFilterPath",
    "ManagedOOMSwap",
    "ManagedOOMMemoryPressure",
    "ManagedOOMMemoryPressureLimit",
    "ManagedOOMPreference",
    "NetClass",
    "BPFProgram",
    "SocketBindAllow",
    "SocketBindDeny",
    "RestrictNetworkInterfaces",
];
