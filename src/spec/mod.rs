//! Engine-neutral, format-neutral description of what to run.
//!
//! Owns the typed records that the parsers (`unit_file`, later `job_file`) lower *into* and the
//! engine consumes: [`UnitSpec`] and its parts, plus [`LoadedUnit`], the result of loading one
//! unit name (fragment + drop-ins, or not-found / masked / bad-setting). Nothing here parses text,
//! touches the file system or knows about D-Bus; values are already validated and defaulted.
//!
//! Times are microseconds (`u64`); [`USEC_INFINITY`] means "no limit", as in systemd.

pub mod calendar;
pub mod event_expr;
pub mod glob;
pub mod linux;
pub mod sandbox;
pub mod unit_name;
pub mod upstart;

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use unit_name::{UnitName, UnitNameError, UnitType, path_escape};

/// "No limit" for every `*USec` value, systemd's `USEC_INFINITY`.
pub const USEC_INFINITY: u64 = u64::MAX;
/// One second in microseconds.
pub const USEC_PER_SEC: u64 = 1_000_000;

/// How far loading a unit got: systemd's `LoadState` vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoadState {
    /// Referenced but not loaded yet (internal; never shown to clients once loading ran).
    Stub,
    /// Fragment (and drop-ins) parsed successfully.
    Loaded,
    /// No fragment found in the search path.
    NotFound,
    /// A setting was invalid in a way that makes the unit unusable.
    BadSetting,
    /// The file could not be read or had a fatal syntax error (e.g. a bad section header).
    Error,
    /// The unit file is empty or a symlink to /dev/null.
    Masked,
}

impl LoadState {
    /// The systemd string (`loaded`, `not-found`, `bad-setting`, `error`, `masked`, `stub`).
    pub fn as_str(self) -> &'static str {
        match self {
            LoadState::Stub => "stub",
            LoadState::Loaded => "loaded",
            LoadState::NotFound => "not-found",
            LoadState::BadSetting => "bad-setting",
            LoadState::Error => "error",
            LoadState::Masked => "masked",
        }
    }
}

/// A problem found while reading a unit file, with its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// File the problem is in (a fragment or a drop-in).
    pub file: PathBuf,
    /// 1-based line number; 0 when the problem concerns the file as a whole.
    pub line: u32,
    /// Errors make the unit `bad-setting`/`error`; warnings leave it loaded.
    pub severity: Severity,
    /// Human-readable message, without the `file:line: ` prefix.
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file.display(), self.message)
        }
    }
}

/// Whether a [`Diagnostic`] stops the unit from loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Severity {
    /// Reported, unit still loads (unknown key, ignored invalid value).
    Warning,
    /// Unit gets `bad-setting` (or `error` for syntax errors).
    Error,
}

/// The outcome of loading one unit name: what the engine inserts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadedUnit {
    /// Primary id, e.g. `foo@bar.service`.
    pub name: String,
    /// Other names of this unit (aliases by symlink or `Alias=`), without `name` itself.
    pub aliases: Vec<String>,
    /// Result of loading.
    pub load_state: LoadState,
    /// `(error name, message)` for not-found/bad-setting/error/masked, as the `LoadError`
    /// property shows it, e.g. `("org.freedesktop.systemd1.NoSuchUnit", "Unit x.service not found.")`.
    pub load_error: Option<(String, String)>,
    /// The fragment file, if one was found (symlink-resolved path as systemd reports it).
    pub fragment_path: Option<PathBuf>,
    /// Drop-in files applied, in application order.
    pub dropin_paths: Vec<PathBuf>,
    /// Everything the parser reported, warnings included.
    pub diagnostics: Vec<Diagnostic>,
    /// The unit's settings. For units that did not load this is `UnitSpec::default_for(name)`.
    pub spec: UnitSpec,
}

/// A dependency edge kind as written in `[Unit]` (forward direction only; the engine derives
/// the reverse edges).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DepKind {
    Requires,
    Requisite,
    Wants,
    BindsTo,
    PartOf,
    Upholds,
    Conflicts,
    Before,
    After,
    OnFailure,
    OnSuccess,
    PropagatesReloadTo,
    ReloadPropagatedFrom,
    PropagatesStopTo,
    StopPropagatedFrom,
    JoinsNamespaceOf,
}

impl DepKind {
    /// Every kind, in the order `[Unit]` keys are usually listed.
    pub const ALL: [DepKind; 16] = [
        DepKind::Requires,
        DepKind::Requisite,
        DepKind::Wants,
        DepKind::BindsTo,
        DepKind::PartOf,
        DepKind::Upholds,
        DepKind::Conflicts,
        DepKind::Before,
        DepKind::After,
        DepKind::OnFailure,
        DepKind::OnSuccess,
        DepKind::PropagatesReloadTo,
        DepKind::ReloadPropagatedFrom,
        DepKind::PropagatesStopTo,
        DepKind::StopPropagatedFrom,
        DepKind::JoinsNamespaceOf,
    ];

    /// The `[Unit]` key naming this kind.
    pub fn key(self) -> &'static str {
        match self {
            DepKind::Requires => "Requires",
            DepKind::Requisite => "Requisite",
            DepKind::Wants => "Wants",
            DepKind::BindsTo => "BindsTo",
            DepKind::PartOf => "PartOf",
            DepKind::Upholds => "Upholds",
            DepKind::Conflicts => "Conflicts",
            DepKind::Before => "Before",
            DepKind::After => "After",
            DepKind::OnFailure => "OnFailure",
            DepKind::OnSuccess => "OnSuccess",
            DepKind::PropagatesReloadTo => "PropagatesReloadTo",
            DepKind::ReloadPropagatedFrom => "ReloadPropagatedFrom",
            DepKind::PropagatesStopTo => "PropagatesStopTo",
            DepKind::StopPropagatedFrom => "StopPropagatedFrom",
            DepKind::JoinsNamespaceOf => "JoinsNamespaceOf",
        }
    }

    /// Parse a `[Unit]` key.
    pub fn from_key(key: &str) -> Option<DepKind> {
        DepKind::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// Job mode used by `OnFailureJobMode=`/`OnSuccessJobMode=` (full set lives in the engine; the
/// spec only stores the validated string form).
pub type JobModeName = String;

/// Settings of the `[Unit]` section plus the type-specific section.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnitSpec {
    /// `Description=`; empty means "use the name".
    pub description: String,
    /// `Documentation=` URIs.
    pub documentation: Vec<String>,
    /// Forward dependency edges in file order, duplicates removed (kind, unit name).
    pub deps: Vec<(DepKind, String)>,
    /// `DefaultDependencies=` (default yes).
    pub default_dependencies: bool,
    /// `RefuseManualStart=`.
    pub refuse_manual_start: bool,
    /// `RefuseManualStop=`.
    pub refuse_manual_stop: bool,
    /// `AllowIsolate=`.
    pub allow_isolate: bool,
    /// `IgnoreOnIsolate=` (default no; targets and a few types default differently in systemd,
    /// the lowering applies that).
    pub ignore_on_isolate: bool,
    /// `StopWhenUnneeded=`.
    pub stop_when_unneeded: bool,
    /// `StartLimitIntervalSec=` (default 10 s; 0 disables).
    pub start_limit_interval_usec: u64,
    /// `StartLimitBurst=` (default 5).
    pub start_limit_burst: u32,
    /// `OnFailureJobMode=` (default `replace`).
    pub on_failure_job_mode: JobModeName,
    /// `OnSuccessJobMode=` (default `fail`).
    pub on_success_job_mode: JobModeName,
    /// `JobTimeoutSec=` (default infinity).
    pub job_timeout_usec: u64,
    /// `CollectMode=` (`inactive` or `inactive-or-failed`).
    pub collect_inactive_or_failed: bool,
    /// `Condition*=` checks in file order (evaluated when a start job runs; a failing one skips
    /// the start without failing the unit).
    pub conditions: Vec<Condition>,
    /// `Assert*=` checks in file order (like conditions, but a failing one fails the job).
    pub asserts: Vec<Condition>,
    /// Type-specific settings.
    pub kind: KindSpec,
    /// `[Install]`; never read at runtime, kept for the install verbs and `UnitFileState`.
    pub install: InstallSpec,
    /// For a unit lowered from an Upstart job file: the job's own settings (name, events,
    /// metadata). `None` for systemd unit files.
    #[serde(default)]
    pub upstart: Option<Box<upstart::UpstartJob>>,
    /// `Delegate=` of services, scopes and sockets (a controller list counts as yes): whether
    /// processes may be attached to the unit (`AttachProcessesToUnit`).
    #[serde(default)]
    pub delegate: bool,
    /// `Slice=` of services, scopes and sockets: the slice unit the unit runs in (`None`: the
    /// manager's default).
    #[serde(default)]
    pub slice: Option<String>,
}

impl UnitSpec {
    /// The settings of a unit that has no (valid) file: all defaults, type from the name.
    pub fn default_for(name: &UnitName) -> UnitSpec {
        UnitSpec {
            description: String::new(),
            documentation: Vec::new(),
            deps: Vec::new(),
            default_dependencies: true,
            refuse_manual_start: false,
            refuse_manual_stop: false,
            allow_isolate: false,
            ignore_on_isolate: false,
            stop_when_unneeded: false,
            start_limit_interval_usec: 10 * USEC_PER_SEC,
            start_limit_burst: 5,
            on_failure_job_mode: "replace".into(),
            on_success_job_mode: "fail".into(),
            job_timeout_usec: USEC_INFINITY,
            collect_inactive_or_failed: false,
            conditions: Vec::new(),
            asserts: Vec::new(),
            kind: KindSpec::default_for(name.unit_type()),
            install: InstallSpec::default(),
            upstart: None,
            delegate: false,
            slice: None,
        }
    }
}

/// One `Condition*=` or `Assert*=` setting, kept as written (specifiers already expanded) for
/// the engine to evaluate when a start job runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// The check without its `Condition`/`Assert` prefix, e.g. `PathExists`, `User`,
    /// `Environment` (systemd's D-Bus `Conditions` property shows it with the prefix).
    pub kind: String,
    /// `|` prefix: a triggering condition (at least one triggering condition must hold).
    pub trigger: bool,
    /// `!` prefix: the check is negated.
    pub negate: bool,
    /// The parameter after the prefixes.
    pub parameter: String,
}

/// `[Install]` section. Values are kept as written (unquoted words); `%` specifiers in them are
/// resolved by the install verbs (`unit_file::expand_install_specifiers`), because `%i` depends
/// on the instance being enabled.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InstallSpec {
    pub wanted_by: Vec<String>,
    pub required_by: Vec<String>,
    pub alias: Vec<String>,
    pub also: Vec<String>,
    pub default_instance: Option<String>,
}

impl InstallSpec {
    /// Whether the section carries anything `enable` acts on (else the unit is `static`).
    pub fn is_empty(&self) -> bool {
        self.wanted_by.is_empty()
            && self.required_by.is_empty()
            && self.alias.is_empty()
            && self.also.is_empty()
    }
}

/// Type-specific settings. Types whose behaviour is not implemented yet still load and are
/// listed; their raw section is kept so later work can lower it without reparsing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum KindSpec {
    Service(Box<ServiceSpec>),
    Target,
    /// `.socket` (`[Socket]`, systemd.socket(5)).
    Socket(Box<SocketSpec>),
    /// `.timer` (`[Timer]`, systemd.timer(5)).
    Timer(Box<TimerSpec>),
    /// `.mount` (`[Mount]`, systemd.mount(5)).
    Mount(Box<MountSpec>),
    /// `.path`, `.slice`, `.scope`, `.device`, `.swap`, `.automount`: loaded and
    /// listed; behaviour arrives with later issues.
    Other(RawSection),
}

impl KindSpec {
    /// Default settings for a unit of type `t` without a file.
    pub fn default_for(t: UnitType) -> KindSpec {
        match t {
            UnitType::Service => KindSpec::Service(Box::default()),
            UnitType::Target => KindSpec::Target,
            UnitType::Socket => KindSpec::Socket(Box::default()),
            UnitType::Timer => KindSpec::Timer(Box::default()),
            UnitType::Mount => KindSpec::Mount(Box::default()),
            _ => KindSpec::Other(RawSection::default()),
        }
    }
}

/// `[Mount]` settings (systemd.mount(5)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountSpec {
    /// `What=`: the device, file or pseudo file system to mount (empty when unset).
    pub what: String,
    /// `Where=`, normalized; the lowering derives it from the unit name when unset.
    pub where_: String,
    /// `Type=` (empty: `mount` detects it).
    pub fstype: String,
    /// `Options=` as written (comma-separated).
    pub options: String,
    /// `SloppyOptions=` (`mount -s`).
    pub sloppy_options: bool,
    /// `LazyUnmount=` (`umount -l`).
    pub lazy_unmount: bool,
    /// `ForceUnmount=` (`umount -f`).
    pub force_unmount: bool,
    /// `ReadWriteOnly=` (`mount -w`).
    pub read_write_only: bool,
    /// `DirectoryMode=` of mount points created at start (default 0755).
    pub directory_mode: u32,
    /// `TimeoutSec=` for `mount`/`umount` (default 90 s; 0 means infinity).
    pub timeout_usec: u64,
}

impl Default for MountSpec {
    fn default() -> Self {
        MountSpec {
            what: String::new(),
            where_: String::new(),
            fstype: String::new(),
            options: String::new(),
            sloppy_options: false,
            lazy_unmount: false,
            force_unmount: false,
            read_write_only: false,
            directory_mode: 0o755,
            timeout_usec: 90 * USEC_PER_SEC,
        }
    }
}

impl MountSpec {
    /// `Options=` without the entries `mount` must not see (`nofail`, `noauto`, `auto`, as
    /// systemd filters them), comma-joined.
    pub fn mount_options(&self) -> String {
        self.options
            .split(',')
            .filter(|o| !o.is_empty() && !matches!(*o, "nofail" | "noauto" | "auto"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The `mount` command line systemd runs: `What Where [-s] [-w] [-t Type] [-o Options]`.
    pub fn mount_argv(&self, mount: &str) -> Vec<String> {
        let mut argv = vec![mount.to_owned(), self.what.clone(), self.where_.clone()];
        if self.sloppy_options {
            argv.push("-s".into());
        }
        if self.read_write_only {
            argv.push("-w".into());
        }
        if !self.fstype.is_empty() {
            argv.extend(["-t".into(), self.fstype.clone()]);
        }
        let opts = self.mount_options();
        if !opts.is_empty() {
            argv.extend(["-o".into(), opts]);
        }
        argv
    }

    /// The `umount` command line systemd runs: `Where -c [-f] [-l]`.
    pub fn umount_argv(&self, umount: &str) -> Vec<String> {
        let mut argv = vec![umount.to_owned(), self.where_.clone(), "-c".into()];
        if self.force_unmount {
            argv.push("-f".into());
        }
        if self.lazy_unmount {
            argv.push("-l".into());
        }
        argv
    }
}

/// What a monotonic timer value counts from (`On*Sec=` of systemd.timer(5)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimerBase {
    /// `OnActiveSec=`: the timer unit's activation.
    Active,
    /// `OnBootSec=`: boot (in a container: the manager's start).
    Boot,
    /// `OnStartupSec=`: the manager's start.
    Startup,
    /// `OnUnitActiveSec=`: the triggered unit's last activation.
    UnitActive,
    /// `OnUnitInactiveSec=`: the triggered unit's last deactivation.
    UnitInactive,
}

impl TimerBase {
    /// Every base, in key order.
    pub const ALL: [TimerBase; 5] = [
        TimerBase::Active,
        TimerBase::Boot,
        TimerBase::Startup,
        TimerBase::UnitActive,
        TimerBase::UnitInactive,
    ];

    /// The unit-file key (`OnActiveSec`).
    pub fn key(self) -> &'static str {
        match self {
            TimerBase::Active => "OnActiveSec",
            TimerBase::Boot => "OnBootSec",
            TimerBase::Startup => "OnStartupSec",
            TimerBase::UnitActive => "OnUnitActiveSec",
            TimerBase::UnitInactive => "OnUnitInactiveSec",
        }
    }

    /// The name in the `TimersMonotonic` property (`OnActiveUSec`).
    pub fn usec_name(self) -> &'static str {
        match self {
            TimerBase::Active => "OnActiveUSec",
            TimerBase::Boot => "OnBootUSec",
            TimerBase::Startup => "OnStartupUSec",
            TimerBase::UnitActive => "OnUnitActiveUSec",
            TimerBase::UnitInactive => "OnUnitInactiveUSec",
        }
    }
}

/// `[Timer]` settings (systemd.timer(5)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerSpec {
    /// `On*Sec=` values in file order: (base, µs).
    pub monotonic: Vec<(TimerBase, u64)>,
    /// `OnCalendar=` expressions in file order.
    pub calendar: Vec<calendar::CalendarSpec>,
    /// `AccuracySec=` (default 1 min).
    pub accuracy_usec: u64,
    /// `RandomizedDelaySec=` (default 0).
    pub randomized_delay_usec: u64,
    /// `FixedRandomDelay=`.
    pub fixed_random_delay: bool,
    /// `Persistent=`: remember the last trigger across restarts of the manager (a stamp file).
    pub persistent: bool,
    /// `WakeSystem=` (accepted, not enforced: unitd arms no wake-up alarms).
    pub wake_system: bool,
    /// `RemainAfterElapse=` (default yes).
    pub remain_after_elapse: bool,
    /// `OnClockChange=`.
    pub on_clock_change: bool,
    /// `OnTimezoneChange=`.
    pub on_timezone_change: bool,
    /// `Unit=`; the lowering fills in the default (the timer's name with `.service`).
    pub unit: Option<String>,
}

impl Default for TimerSpec {
    fn default() -> Self {
        TimerSpec {
            monotonic: Vec::new(),
            calendar: Vec::new(),
            accuracy_usec: 60 * USEC_PER_SEC,
            randomized_delay_usec: 0,
            fixed_random_delay: false,
            persistent: false,
            wake_system: false,
            remain_after_elapse: true,
            on_clock_change: false,
            on_timezone_change: false,
            unit: None,
        }
    }
}

/// What kind of socket a `Listen*=` line asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ListenKind {
    /// `ListenStream=` (SOCK_STREAM).
    Stream,
    /// `ListenDatagram=` (SOCK_DGRAM).
    Datagram,
    /// `ListenSequentialPacket=` (SOCK_SEQPACKET, AF_UNIX only).
    SequentialPacket,
    /// `ListenFIFO=` (a named pipe).
    Fifo,
}

impl ListenKind {
    /// The type word systemd shows in the `Listen` property (`Stream`, `Datagram`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ListenKind::Stream => "Stream",
            ListenKind::Datagram => "Datagram",
            ListenKind::SequentialPacket => "SequentialPacket",
            ListenKind::Fifo => "FIFO",
        }
    }
}

/// A parsed socket address of a `Listen*=` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ListenAddress {
    /// A file-system AF_UNIX path (or the FIFO path).
    Path(PathBuf),
    /// An abstract AF_UNIX name (without the leading `@`).
    Abstract(String),
    /// An IP socket: `None` address = every address (`[::]`, falling back to `0.0.0.0`).
    Inet {
        addr: Option<core::net::IpAddr>,
        port: u16,
    },
}

/// One `Listen*=` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenSpec {
    pub kind: ListenKind,
    pub address: ListenAddress,
    /// The value as written (specifiers expanded), shown in the `Listen` property.
    pub text: String,
}

/// `[Socket]` settings (systemd.socket(5)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketSpec {
    /// `Listen*=` lines in configuration order (the order fds are passed in).
    pub listen: Vec<ListenSpec>,
    /// `SocketMode=` (default 0666).
    pub socket_mode: u32,
    /// `DirectoryMode=` (default 0755), for parent directories created for paths.
    pub directory_mode: u32,
    /// `Backlog=` (default SOMAXCONN = 4096).
    pub backlog: u32,
    /// `FileDescriptorName=`; `None` = the socket unit's name.
    pub fd_name: Option<String>,
    /// `Service=`; `None` = the unit with the socket's name and `.service` suffix.
    pub service: Option<String>,
    /// `Accept=`.
    pub accept: bool,
    /// `RemoveOnStop=`.
    pub remove_on_stop: bool,
    /// `MaxConnections=` (default 64): `Accept=yes` connections beyond this many running
    /// instances are refused.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// `MaxConnectionsPerSource=` (default 0 = off): the same limit per remote IP address.
    #[serde(default)]
    pub max_connections_per_source: u32,
    /// `Symlinks=`: links to the socket's one file-system path, made when it is opened
    /// (e.g. `/dev/log` → `/run/systemd/journal/dev-log`).
    #[serde(default)]
    pub symlinks: Vec<PathBuf>,
    /// `Listen*=` lines of kinds unitd does not open (`ListenNetlink=audit 1`, …), as
    /// written. A socket with only these loads; starting it is unsupported (after its
    /// conditions).
    #[serde(default)]
    pub unsupported_listen: Vec<String>,
}

impl SocketSpec {
    /// What `Symlinks=` point to: the file-system path (AF_UNIX path or FIFO) of the socket's
    /// `Listen*=` lines when there is exactly one, as systemd requires; else `None`.
    pub fn symlink_target(&self) -> Option<&std::path::Path> {
        let mut paths = self.listen.iter().filter_map(|l| match &l.address {
            ListenAddress::Path(p) => Some(p.as_path()),
            _ => None,
        });
        let first = paths.next()?;
        paths.next().is_none().then_some(first)
    }
}

fn default_max_connections() -> u32 {
    64
}

impl Default for SocketSpec {
    fn default() -> Self {
        SocketSpec {
            listen: Vec::new(),
            socket_mode: 0o666,
            directory_mode: 0o755,
            backlog: 4096,
            fd_name: None,
            service: None,
            accept: false,
            remove_on_stop: false,
            max_connections: default_max_connections(),
            max_connections_per_source: 0,
            symlinks: Vec::new(),
            unsupported_listen: Vec::new(),
        }
    }
}

/// Key/value pairs of a section the lowering does not interpret yet (in file order).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RawSection {
    pub entries: Vec<(String, String)>,
}

/// `Type=` of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ServiceType {
    #[default]
    Simple,
    Exec,
    Forking,
    Oneshot,
    Dbus,
    Notify,
    NotifyReload,
    Idle,
}

impl ServiceType {
    /// The systemd string.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::Simple => "simple",
            ServiceType::Exec => "exec",
            ServiceType::Forking => "forking",
            ServiceType::Oneshot => "oneshot",
            ServiceType::Dbus => "dbus",
            ServiceType::Notify => "notify",
            ServiceType::NotifyReload => "notify-reload",
            ServiceType::Idle => "idle",
        }
    }
}

/// `Restart=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RestartPolicy {
    #[default]
    No,
    Always,
    OnSuccess,
    OnFailure,
    OnAbnormal,
    OnAbort,
    OnWatchdog,
}

impl RestartPolicy {
    /// The systemd string.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::No => "no",
            RestartPolicy::Always => "always",
            RestartPolicy::OnSuccess => "on-success",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::OnAbnormal => "on-abnormal",
            RestartPolicy::OnAbort => "on-abort",
            RestartPolicy::OnWatchdog => "on-watchdog",
        }
    }
}

/// `KillMode=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum KillMode {
    #[default]
    ControlGroup,
    Mixed,
    Process,
    None,
}

impl KillMode {
    /// The systemd string.
    pub fn as_str(self) -> &'static str {
        match self {
            KillMode::ControlGroup => "control-group",
            KillMode::Mixed => "mixed",
            KillMode::Process => "process",
            KillMode::None => "none",
        }
    }
}

/// `NotifyAccess=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum NotifyAccess {
    #[default]
    None,
    Main,
    Exec,
    All,
}

impl NotifyAccess {
    /// The systemd string.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyAccess::None => "none",
            NotifyAccess::Main => "main",
            NotifyAccess::Exec => "exec",
            NotifyAccess::All => "all",
        }
    }
}

/// Signal settings of `systemd.kill(5)`. Signals are plain numbers (Linux values).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KillSpec {
    pub mode: KillMode,
    /// `KillSignal=` (default SIGTERM = 15).
    pub kill_signal: i32,
    /// `RestartKillSignal=` (default: same as kill_signal).
    pub restart_kill_signal: Option<i32>,
    /// `SendSIGHUP=`.
    pub send_sighup: bool,
    /// `SendSIGKILL=` (default yes).
    pub send_sigkill: bool,
    /// `FinalKillSignal=` (default SIGKILL = 9).
    pub final_kill_signal: i32,
    /// `WatchdogSignal=` (default SIGABRT = 6).
    pub watchdog_signal: i32,
}

impl Default for KillSpec {
    fn default() -> Self {
        KillSpec {
            mode: KillMode::ControlGroup,
            kill_signal: 15,
            restart_kill_signal: None,
            send_sighup: false,
            send_sigkill: true,
            final_kill_signal: 9,
            watchdog_signal: 6,
        }
    }
}

/// A set of exit statuses and signals (`SuccessExitStatus=`, `RestartPreventExitStatus=`,
/// `RestartForceExitStatus=`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitStatusSet {
    /// Exit codes 0..=255.
    pub statuses: Vec<u8>,
    /// Signal numbers.
    pub signals: Vec<i32>,
}

impl ExitStatusSet {
    /// True if neither codes nor signals are listed.
    pub fn is_empty(&self) -> bool {
        self.statuses.is_empty() && self.signals.is_empty()
    }
}

/// `[Service]` settings, validated (`service_verify` rules applied by the lowering).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceSpec {
    pub service_type: ServiceType,
    pub remain_after_exit: bool,
    pub guess_main_pid: bool,
    /// `PIDFile=`, already made absolute (`/run/` prefixed when relative).
    pub pid_file: Option<PathBuf>,
    /// `BusName=`.
    pub bus_name: Option<String>,
    pub exec_condition: Vec<ExecCommand>,
    pub exec_start_pre: Vec<ExecCommand>,
    pub exec_start: Vec<ExecCommand>,
    pub exec_start_post: Vec<ExecCommand>,
    pub exec_reload: Vec<ExecCommand>,
    pub exec_stop: Vec<ExecCommand>,
    pub exec_stop_post: Vec<ExecCommand>,
    pub restart: RestartPolicy,
    /// `RestartSec=` (default 100 ms).
    pub restart_usec: u64,
    pub success_exit_status: ExitStatusSet,
    pub restart_prevent_exit_status: ExitStatusSet,
    pub restart_force_exit_status: ExitStatusSet,
    /// `TimeoutStartSec=`; `USEC_INFINITY` for none. The lowering applies defaults (90 s, or
    /// infinity for oneshot unless set explicitly).
    pub timeout_start_usec: u64,
    /// `TimeoutStopSec=`.
    pub timeout_stop_usec: u64,
    /// `TimeoutAbortSec=`; `None` = use timeout_stop_usec.
    pub timeout_abort_usec: Option<u64>,
    /// `RuntimeMaxSec=`.
    pub runtime_max_usec: u64,
    /// `WatchdogSec=` (0 = off).
    pub watchdog_usec: u64,
    /// Effective `NotifyAccess=` (automatic upgrade to `main` already applied).
    pub notify_access: NotifyAccess,
    /// `FileDescriptorStoreMax=`.
    pub fd_store_max: u32,
    pub kill: KillSpec,
    /// How processes are set up; shared by every command of the unit.
    pub exec: Arc<ExecContext>,
    /// `ReloadSignal=` (systemd 253): what a reload of a `Type=notify-reload` service sends to
    /// its main process (default SIGHUP).
    #[serde(default = "default_reload_signal")]
    pub reload_signal: i32,
}

fn default_reload_signal() -> i32 {
    linux::SIGHUP
}

impl Default for ServiceSpec {
    fn default() -> Self {
        ServiceSpec {
            service_type: ServiceType::Simple,
            remain_after_exit: false,
            guess_main_pid: true,
            pid_file: None,
            bus_name: None,
            exec_condition: Vec::new(),
            exec_start_pre: Vec::new(),
            exec_start: Vec::new(),
            exec_start_post: Vec::new(),
            exec_reload: Vec::new(),
            exec_stop: Vec::new(),
            exec_stop_post: Vec::new(),
            restart: RestartPolicy::No,
            restart_usec: 100_000,
            success_exit_status: ExitStatusSet::default(),
            restart_prevent_exit_status: ExitStatusSet::default(),
            restart_force_exit_status: ExitStatusSet::default(),
            timeout_start_usec: 90 * USEC_PER_SEC,
            timeout_stop_usec: 90 * USEC_PER_SEC,
            timeout_abort_usec: None,
            runtime_max_usec: USEC_INFINITY,
            watchdog_usec: 0,
            notify_access: NotifyAccess::None,
            fd_store_max: 0,
            kill: KillSpec::default(),
            exec: Arc::new(ExecContext::default()),
            reload_signal: linux::SIGHUP,
        }
    }
}

/// Which `Exec*=` list a command belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExecPhase {
    Condition,
    StartPre,
    Start,
    StartPost,
    Reload,
    Stop,
    StopPost,
}

impl ExecPhase {
    /// All phases in property order.
    pub const ALL: [ExecPhase; 7] = [
        ExecPhase::Condition,
        ExecPhase::StartPre,
        ExecPhase::Start,
        ExecPhase::StartPost,
        ExecPhase::Reload,
        ExecPhase::Stop,
        ExecPhase::StopPost,
    ];

    /// The unit-file key / D-Bus property name (`ExecStartPre`).
    pub fn key(self) -> &'static str {
        match self {
            ExecPhase::Condition => "ExecCondition",
            ExecPhase::StartPre => "ExecStartPre",
            ExecPhase::Start => "ExecStart",
            ExecPhase::StartPost => "ExecStartPost",
            ExecPhase::Reload => "ExecReload",
            ExecPhase::Stop => "ExecStop",
            ExecPhase::StopPost => "ExecStopPost",
        }
    }

    /// Index into per-phase arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl ServiceSpec {
    /// The commands of one `Exec*=` setting.
    pub fn commands(&self, phase: ExecPhase) -> &[ExecCommand] {
        match phase {
            ExecPhase::Condition => &self.exec_condition,
            ExecPhase::StartPre => &self.exec_start_pre,
            ExecPhase::Start => &self.exec_start,
            ExecPhase::StartPost => &self.exec_start_post,
            ExecPhase::Reload => &self.exec_reload,
            ExecPhase::Stop => &self.exec_stop,
            ExecPhase::StopPost => &self.exec_stop_post,
        }
    }
}

/// Prefix flags of an `Exec*=` line (`systemd.service(5)` table).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecFlags {
    /// `-`: failure is recorded but treated as success; a missing binary is skipped.
    pub ignore_failure: bool,
    /// `:`: no `$VAR` expansion.
    pub no_env_expand: bool,
    /// `+`: run with full privileges (no User=/Group=/sandboxing).
    pub full_privileges: bool,
    /// `!` / `!!`: skip only the credential change.
    pub no_setuid: bool,
    /// `!!`: only on systems without ambient capabilities.
    pub ambient_fallback: bool,
}

/// One command of an `Exec*=` setting, after unquoting and specifier expansion (load time).
/// `$VAR` expansion happens at spawn time in the supervisor, unless `flags.no_env_expand`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecCommand {
    /// Executable: absolute path or bare file name (resolved against the default PATH at spawn).
    pub path: String,
    /// Full argv including argv[0] (with `@`, argv[0] is the second word of the line).
    pub argv: Vec<String>,
    pub flags: ExecFlags,
}

/// `WorkingDirectory=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkingDirectory {
    /// An absolute path.
    Path(PathBuf),
    /// `~`: the home directory of `User=` (or of the manager's user).
    Home,
}

/// `StandardInput=` (the subset implemented; others are rejected with a warning by the parser
/// and fall back to `Null`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StdInput {
    #[default]
    Null,
    /// `file:PATH`.
    File(PathBuf),
    /// Socket activation (later issue).
    Socket,
    /// A file descriptor the manager holds for the unit (`StandardInputFileDescriptor` of
    /// `StartTransientUnit`, e.g. `systemd-run -P`); the descriptor itself lives in the
    /// supervisor, keyed by unit, never in the spec.
    Fd,
}

/// `StandardOutput=` / `StandardError=`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StdOutput {
    /// `inherit`: stdout = stdin's target (→ default when stdin is null); stderr = stdout.
    #[default]
    Inherit,
    Null,
    /// `journal`, `kmsg`, `journal+console`, `kmsg+console`: unitd's per-unit log store.
    Journal,
    /// `file:PATH` (no truncation, write from offset 0).
    File(PathBuf),
    /// `append:PATH`.
    Append(PathBuf),
    /// `truncate:PATH`.
    Truncate(PathBuf),
    /// `socket` (later issue).
    Socket,
    /// A file descriptor the manager holds for the unit (`StandardOutputFileDescriptor` /
    /// `StandardErrorFileDescriptor`); kept by the supervisor, keyed by unit.
    Fd,
}

/// One `Limit*=` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceLimit {
    /// Linux `RLIMIT_*` number.
    pub resource: i32,
    /// Soft limit; `u64::MAX` = infinity.
    pub soft: u64,
    /// Hard limit; `u64::MAX` = infinity.
    pub hard: u64,
}

/// Process set-up shared by every command of a unit (`systemd.exec(5)`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecContext {
    /// `WorkingDirectory=`; `None` = `/` (system) or home (user) decided by the supervisor.
    pub working_directory: Option<WorkingDirectory>,
    /// `-` prefix on WorkingDirectory=: a missing directory is not fatal.
    pub working_directory_missing_ok: bool,
    /// `User=` (name or numeric uid, as written).
    pub user: Option<String>,
    /// `Group=`.
    pub group: Option<String>,
    /// `SupplementaryGroups=`.
    pub supplementary_groups: Vec<String>,
    /// `UMask=`; `None` = inherit (user) / 0022 (system).
    pub umask: Option<u32>,
    /// `Nice=`.
    pub nice: Option<i32>,
    /// `Limit*=`.
    pub limits: Vec<ResourceLimit>,
    /// `Environment=`, in order (later entries override earlier ones when applied).
    pub environment: Vec<(String, String)>,
    /// `EnvironmentFile=`: (path or glob, `-` optional flag), read at every spawn.
    pub environment_files: Vec<(String, bool)>,
    /// `PassEnvironment=`.
    pub pass_environment: Vec<String>,
    /// `UnsetEnvironment=` entries: `NAME` or `NAME=VALUE`.
    pub unset_environment: Vec<String>,
    pub stdin: StdInput,
    pub stdout: StdOutput,
    pub stderr: StdOutput,
    /// `IgnoreSIGPIPE=` (default yes — but `Default` derives false; the lowering sets it).
    pub ignore_sigpipe: bool,
    /// `RuntimeDirectory=`, `StateDirectory=`, `CacheDirectory=`, `LogsDirectory=`,
    /// `ConfigurationDirectory=` with their `*Mode=`, indexed by [`ExecDirectoryType::index`].
    #[serde(default)]
    pub directories: [ExecDirectory; 5],
    /// `RuntimeDirectoryPreserve=`.
    #[serde(default)]
    pub runtime_directory_preserve: RuntimeDirectoryPreserve,
    /// `PrivateTmp=`, `ProtectSystem=`, capabilities, system call filters, … (see
    /// [`sandbox`]).
    #[serde(default)]
    pub sandbox: sandbox::Sandbox,
}

/// The five kinds of per-unit directories the manager creates (systemd's `ExecDirectoryType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExecDirectoryType {
    Runtime,
    State,
    Cache,
    Logs,
    Configuration,
}

impl ExecDirectoryType {
    /// All types, in index order.
    pub const ALL: [ExecDirectoryType; 5] = [
        ExecDirectoryType::Runtime,
        ExecDirectoryType::State,
        ExecDirectoryType::Cache,
        ExecDirectoryType::Logs,
        ExecDirectoryType::Configuration,
    ];

    /// Index into [`ExecContext::directories`] and per-type root arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The unit-file key (`RuntimeDirectory`); its mode key is this plus `Mode`.
    pub fn key(self) -> &'static str {
        match self {
            ExecDirectoryType::Runtime => "RuntimeDirectory",
            ExecDirectoryType::State => "StateDirectory",
            ExecDirectoryType::Cache => "CacheDirectory",
            ExecDirectoryType::Logs => "LogsDirectory",
            ExecDirectoryType::Configuration => "ConfigurationDirectory",
        }
    }

    /// The environment variable listing the directories (`RUNTIME_DIRECTORY`).
    pub fn env_name(self) -> &'static str {
        match self {
            ExecDirectoryType::Runtime => "RUNTIME_DIRECTORY",
            ExecDirectoryType::State => "STATE_DIRECTORY",
            ExecDirectoryType::Cache => "CACHE_DIRECTORY",
            ExecDirectoryType::Logs => "LOGS_DIRECTORY",
            ExecDirectoryType::Configuration => "CONFIGURATION_DIRECTORY",
        }
    }

    /// The exit code of a child whose directory could not be set up (233, 238–241).
    pub fn exit_code(self) -> i32 {
        match self {
            ExecDirectoryType::Runtime => 233,
            ExecDirectoryType::State => 238,
            ExecDirectoryType::Cache => 239,
            ExecDirectoryType::Logs => 240,
            ExecDirectoryType::Configuration => 241,
        }
    }
}

/// One `*Directory=` setting: relative paths below the type's root, and the mode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecDirectory {
    /// Paths relative to the root (validated: no `..`, not absolute), in order, no duplicates.
    pub paths: Vec<PathBuf>,
    /// `*DirectoryMode=`; `None` = 0755.
    pub mode: Option<u32>,
    /// `path:symlink` entries (systemd 250+): `(path, symlink)`, both relative to the root; the
    /// manager creates `root/symlink` pointing at `root/path`.
    #[serde(default)]
    pub symlinks: Vec<(PathBuf, PathBuf)>,
}

impl ExecDirectory {
    /// The effective access mode (default 0755).
    pub fn mode(&self) -> u32 {
        self.mode.unwrap_or(0o755)
    }
}

/// `RuntimeDirectoryPreserve=`: when the runtime directories are removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuntimeDirectoryPreserve {
    /// Removed whenever the unit stops (default).
    #[default]
    No,
    /// Never removed by the manager.
    Yes,
    /// Kept across restarts (automatic or a restart job), removed on a real stop.
    Restart,
}
