//! `org.freedesktop.systemd1.Manager` on `/org/freedesktop/systemd1`: job methods
//! (`StartUnit` & co.), unit and job lookup and listing, `Subscribe`, `Reload`, the manager
//! environment, `Reexecute`, and the manager's properties.
//!
//! Only members unitd actually implements are declared; everything else gets
//! `UnknownMethod`, which clients such as systemctl handle (e.g. the `ListUnitsByPatterns` →
//! `ListUnitsFiltered` fallback).

use zbus::{Message, ObjectPath};

use crate::engine::{Engine, JobType, KillWhom, Timestamp, Unit};
use crate::runtime::Manager;
use crate::runtime::manager::ShutdownAction;
use crate::settings::Settings;
use crate::spec::{ServiceSpec, UnitName, UnitSpec};

use super::dispatch::{Call, unit_by_invocation_id};
use super::errors::{
    ALREADY_SUBSCRIBED, CallError, CallResult, NO_SUCH_UNIT, NO_UNIT_FOR_INVOCATION_ID,
    NOT_REFERENCED, NOT_SUBSCRIBED,
};
use super::glob::fnmatch_any;
use super::host::HostInfo;
use super::introspect::{InterfaceDesc, MethodDesc, SignalDesc, infos, method};
use super::job_object::{self, JobInfo};
use super::object_path::{job_path, unit_path};
use super::properties::{PropDesc, Value, opath, prop, vas, vb, vd, vs, vstring, vt, vu};
use super::{JobStats, SystemdFacade, unit_object};

/// Interface name.
pub const INTERFACE: &str = "org.freedesktop.systemd1.Manager";

/// Methods unitd implements, with systemd's signatures and argument names.
pub static METHODS: &[MethodDesc] = &[
    method!("GetUnit", [("s", "name")], [("o", "unit")]),
    method!("GetUnitByPID", [("u", "pid")], [("o", "unit")]),
    method!(
        "GetUnitByInvocationID",
        [("ay", "invocation_id")],
        [("o", "unit")]
    ),
    method!("LoadUnit", [("s", "name")], [("o", "unit")]),
    method!(
        "GetUnitProcesses",
        [("s", "name")],
        [("a(sus)", "processes")]
    ),
    method!("StartUnit", [("s", "name"), ("s", "mode")], [("o", "job")]),
    method!(
        "StartTransientUnit",
        [
            ("s", "name"),
            ("s", "mode"),
            ("a(sv)", "properties"),
            ("a(sa(sv))", "aux")
        ],
        [("o", "job")]
    ),
    method!("StopUnit", [("s", "name"), ("s", "mode")], [("o", "job")]),
    method!(
        "SetUnitProperties",
        [("s", "name"), ("b", "runtime"), ("a(sv)", "properties")],
        []
    ),
    method!(
        "AttachProcessesToUnit",
        [("s", "unit_name"), ("s", "subcgroup"), ("au", "pids")],
        []
    ),
    method!(
        "EnqueueUnitJob",
        [("s", "name"), ("s", "job_type"), ("s", "job_mode")],
        [
            ("u", "job_id"),
            ("o", "job_path"),
            ("s", "unit_id"),
            ("o", "unit_path"),
            ("s", "job_type"),
            ("a(uosos)", "affected_jobs")
        ]
    ),
    method!("ReloadUnit", [("s", "name"), ("s", "mode")], [("o", "job")]),
    method!(
        "RestartUnit",
        [("s", "name"), ("s", "mode")],
        [("o", "job")]
    ),
    method!(
        "TryRestartUnit",
        [("s", "name"), ("s", "mode")],
        [("o", "job")]
    ),
    method!(
        "ReloadOrRestartUnit",
        [("s", "name"), ("s", "mode")],
        [("o", "job")]
    ),
    method!(
        "ReloadOrTryRestartUnit",
        [("s", "name"), ("s", "mode")],
        [("o", "job")]
    ),
    method!(
        "KillUnit",
        [("s", "name"), ("s", "whom"), ("i", "signal")],
        []
    ),
    method!("ResetFailedUnit", [("s", "name")], []),
    method!("RefUnit", [("s", "name")], []),
    method!("UnrefUnit", [("s", "name")], []),
    method!("GetJob", [("u", "id")], [("o", "job")]),
    method!("GetJobAfter", [("u", "id")], [("a(usssoo)", "jobs")]),
    method!("GetJobBefore", [("u", "id")], [("a(usssoo)", "jobs")]),
    method!("CancelJob", [("u", "id")], []),
    method!("ClearJobs", [], []),
    method!("ResetFailed", [], []),
    method!("ListUnits", [], [("a(ssssssouso)", "units")]),
    method!(
        "ListUnitsFiltered",
        [("as", "states")],
        [("a(ssssssouso)", "units")]
    ),
    method!(
        "ListUnitsByPatterns",
        [("as", "states"), ("as", "patterns")],
        [("a(ssssssouso)", "units")]
    ),
    method!(
        "ListUnitsByNames",
        [("as", "names")],
        [("a(ssssssouso)", "units")]
    ),
    method!("ListJobs", [], [("a(usssoo)", "jobs")]),
    method!("Subscribe", [], []),
    method!("Unsubscribe", [], []),
    method!("Reload", [], []),
    method!("Reexecute", [], []),
    method!("Exit", [], []),
    method!("Reboot", [], []),
    method!("PowerOff", [], []),
    method!("Halt", [], []),
    method!("KExec", [], []),
    method!("SetEnvironment", [("as", "assignments")], []),
    method!("UnsetEnvironment", [("as", "names")], []),
    method!(
        "UnsetAndSetEnvironment",
        [("as", "names"), ("as", "assignments")],
        []
    ),
    method!("ListUnitFiles", [], [("a(ss)", "unit_files")]),
    method!(
        "ListUnitFilesByPatterns",
        [("as", "states"), ("as", "patterns")],
        [("a(ss)", "unit_files")]
    ),
    method!("GetUnitFileState", [("s", "file")], [("s", "state")]),
    method!(
        "EnableUnitFiles",
        [("as", "files"), ("b", "runtime"), ("b", "force")],
        [("b", "carries_install_info"), ("a(sss)", "changes")]
    ),
    method!(
        "DisableUnitFiles",
        [("as", "files"), ("b", "runtime")],
        [("a(sss)", "changes")]
    ),
    method!(
        "ReenableUnitFiles",
        [("as", "files"), ("b", "runtime"), ("b", "force")],
        [("b", "carries_install_info"), ("a(sss)", "changes")]
    ),
    method!(
        "LinkUnitFiles",
        [("as", "files"), ("b", "runtime"), ("b", "force")],
        [("a(sss)", "changes")]
    ),
    method!(
        "PresetUnitFiles",
        [("as", "files"), ("b", "runtime"), ("b", "force")],
        [("b", "carries_install_info"), ("a(sss)", "changes")]
    ),
    method!(
        "PresetUnitFilesWithMode",
        [
            ("as", "files"),
            ("s", "mode"),
            ("b", "runtime"),
            ("b", "force")
        ],
        [("b", "carries_install_info"), ("a(sss)", "changes")]
    ),
    method!(
        "MaskUnitFiles",
        [("as", "files"), ("b", "runtime"), ("b", "force")],
        [("a(sss)", "changes")]
    ),
    method!(
        "UnmaskUnitFiles",
        [("as", "files"), ("b", "runtime")],
        [("a(sss)", "changes")]
    ),
    method!("GetDefaultTarget", [], [("s", "name")]),
    method!(
        "SetDefaultTarget",
        [("s", "name"), ("b", "force")],
        [("a(sss)", "changes")]
    ),
    method!(
        "GetUnitFileLinks",
        [("s", "name"), ("b", "runtime")],
        [("as", "links")]
    ),
];

/// Signals unitd emits on the manager object.
pub static SIGNALS: &[SignalDesc] = &[
    SignalDesc {
        name: "UnitNew",
        args: &[("s", "id"), ("o", "unit")],
    },
    SignalDesc {
        name: "UnitRemoved",
        args: &[("s", "id"), ("o", "unit")],
    },
    SignalDesc {
        name: "JobNew",
        args: &[("u", "id"), ("o", "job"), ("s", "unit")],
    },
    SignalDesc {
        name: "JobRemoved",
        args: &[("u", "id"), ("o", "job"), ("s", "unit"), ("s", "result")],
    },
    SignalDesc {
        name: "StartupFinished",
        args: &[
            ("t", "firmware"),
            ("t", "loader"),
            ("t", "kernel"),
            ("t", "initrd"),
            ("t", "userspace"),
            ("t", "total"),
        ],
    },
    SignalDesc {
        name: "UnitFilesChanged",
        args: &[],
    },
    SignalDesc {
        name: "Reloading",
        args: &[("b", "active")],
    },
];

/// What the manager's property getters read.
pub struct ManagerCtx<'a> {
    /// The engine.
    pub engine: &'a Engine,
    /// Daemon settings.
    pub settings: &'a Settings,
    /// Host facts.
    pub host: &'a HostInfo,
    /// When the manager started.
    pub start_time: Timestamp,
    /// When its start-up finished, if it has.
    pub finish_time: Option<Timestamp>,
    /// Job counters.
    pub job_stats: JobStats,
}

impl ManagerCtx<'_> {
    fn n_failed_units(&self) -> u32 {
        n_failed_units(self.engine)
    }

    fn n_jobs(&self) -> u32 {
        self.engine.jobs().count() as u32
    }
}

/// Number of units in `failed` state.
pub fn n_failed_units(engine: &Engine) -> u32 {
    engine
        .units()
        .filter(|u| u.active_state == crate::engine::ActiveState::Failed)
        .count() as u32
}

/// `SystemState` (systemd's `manager_state`): `stopping` once `shutdown.target` is active or
/// queued; before start-up finished `initializing` until `basic.target` is active, then
/// `starting`; in the system manager `maintenance` while `rescue.target` or
/// `emergency.target` is active or queued; `degraded` while any unit is failed; else
/// `running`.
pub fn system_state(engine: &Engine, finished: bool, user_scope: bool) -> &'static str {
    let active_or_pending = |name: &str| {
        engine.lookup(name).is_some_and(|id| {
            let u = engine.unit(id);
            u.active_state.is_active_or_reloading()
                || u.job
                    .and_then(|j| engine.job(j))
                    .is_some_and(|j| j.job_type != crate::engine::JobType::Stop)
        })
    };
    let active = |name: &str| {
        engine
            .lookup(name)
            .is_some_and(|id| engine.unit(id).active_state.is_active_or_reloading())
    };
    if active_or_pending("shutdown.target") {
        return "stopping";
    }
    if !finished {
        return if active("basic.target") {
            "starting"
        } else {
            "initializing"
        };
    }
    if !user_scope && (active_or_pending("rescue.target") || active_or_pending("emergency.target"))
    {
        return "maintenance";
    }
    if n_failed_units(engine) > 0 {
        "degraded"
    } else {
        "running"
    }
}

type Getter = fn(&ManagerCtx<'_>) -> Option<Value>;

/// The current limits of this process for Linux resource number `res` (what spawned
/// processes inherit when a unit does not set the limit): `(soft, hard)`.
pub fn manager_rlimit(res: i32) -> Option<(u64, u64)> {
    use nix::sys::resource::{Resource, getrlimit};
    let r = match res {
        0 => Resource::RLIMIT_CPU,
        1 => Resource::RLIMIT_FSIZE,
        2 => Resource::RLIMIT_DATA,
        3 => Resource::RLIMIT_STACK,
        4 => Resource::RLIMIT_CORE,
        5 => Resource::RLIMIT_RSS,
        6 => Resource::RLIMIT_NPROC,
        7 => Resource::RLIMIT_NOFILE,
        8 => Resource::RLIMIT_MEMLOCK,
        9 => Resource::RLIMIT_AS,
        10 => Resource::RLIMIT_LOCKS,
        11 => Resource::RLIMIT_SIGPENDING,
        12 => Resource::RLIMIT_MSGQUEUE,
        13 => Resource::RLIMIT_NICE,
        14 => Resource::RLIMIT_RTPRIO,
        15 => Resource::RLIMIT_RTTIME,
        _ => return None,
    };
    getrlimit(r).ok()
}

fn limit(res: i32, soft: bool) -> Option<Value> {
    manager_rlimit(res).map(|(s, h)| vt(if soft { s } else { h }))
}

/// The manager's properties, in man-page order.
pub static PROPS: &[PropDesc<Getter>] = &[
    prop!("Version", "s", Const, |_| Some(vstring(version()))),
    prop!("Features", "s", Const, |_| Some(vs(""))),
    prop!("Virtualization", "s", Const, |c| Some(vs(&c
        .host
        .virtualization))),
    prop!("Architecture", "s", Const, |c| Some(vs(c
        .host
        .architecture))),
    prop!("Tainted", "s", Const, |_| Some(vs(""))),
    prop!("UserspaceTimestamp", "t", Const, |c| Some(vt(c
        .start_time
        .realtime))),
    prop!("UserspaceTimestampMonotonic", "t", Const, |c| Some(vt(c
        .start_time
        .monotonic))),
    prop!("FinishTimestamp", "t", Const, |c| Some(vt(c
        .finish_time
        .map_or(0, |t| t.realtime)))),
    prop!("FinishTimestampMonotonic", "t", Const, |c| Some(vt(c
        .finish_time
        .map_or(0, |t| t.monotonic)))),
    prop!("NNames", "u", False, |c| {
        Some(vu(c
            .engine
            .units()
            .map(|u| 1 + u.loaded.aliases.len() as u32)
            .sum()))
    }),
    prop!("NFailedUnits", "u", True, |c| Some(vu(c.n_failed_units()))),
    prop!("NJobs", "u", False, |c| Some(vu(c.n_jobs()))),
    prop!("NInstalledJobs", "u", False, |c| Some(vu(c
        .job_stats
        .installed))),
    prop!("NFailedJobs", "u", False, |c| Some(vu(c.job_stats.failed))),
    prop!("Progress", "d", False, |c| {
        let installed = c.job_stats.installed;
        let n = c.n_jobs();
        Some(vd(if n == 0 || installed == 0 {
            1.0
        } else {
            1.0 - f64::from(n) / f64::from(installed.max(n))
        }))
    }),
    prop!("Environment", "as", False, |c| Some(vas(c
        .engine
        .environment()
        .iter()
        .cloned()))),
    prop!("ConfirmSpawn", "b", Const, |_| Some(vb(false))),
    prop!("ShowStatus", "b", False, |_| Some(vb(false))),
    prop!("UnitPath", "as", Const, |c| {
        Some(vas(c
            .settings
            .unit_paths
            .iter()
            .map(|p| p.to_string_lossy().into_owned())))
    }),
    prop!("DefaultStandardOutput", "s", Const, |_| Some(vs("journal"))),
    prop!("DefaultStandardError", "s", Const, |_| Some(vs("inherit"))),
    // No `ControlGroup`: unitd has no cgroup of its own, and with an empty value `systemctl
    // status` walks the host's root cgroup and lists every process on the machine.
    prop!("SystemState", "s", False, |c| Some(vs(system_state(
        c.engine,
        c.finish_time.is_some(),
        c.engine.user_scope()
    )))),
    prop!("DefaultTimeoutStartUSec", "t", Const, |_| {
        Some(vt(ServiceSpec::default().timeout_start_usec))
    }),
    prop!("DefaultTimeoutStopUSec", "t", Const, |_| {
        Some(vt(ServiceSpec::default().timeout_stop_usec))
    }),
    prop!("DefaultTimeoutAbortUSec", "t", False, |_| {
        let d = ServiceSpec::default();
        Some(vt(d.timeout_abort_usec.unwrap_or(d.timeout_stop_usec)))
    }),
    prop!("DefaultRestartUSec", "t", Const, |_| Some(vt(
        ServiceSpec::default().restart_usec
    ))),
    prop!("DefaultStartLimitIntervalUSec", "t", Const, |_| {
        Some(vt(default_unit_spec().start_limit_interval_usec))
    }),
    prop!("DefaultStartLimitBurst", "u", Const, |_| {
        Some(vu(default_unit_spec().start_limit_burst))
    }),
    prop!("DefaultLimitCPU", "t", Const, |_| limit(0, false)),
    prop!("DefaultLimitCPUSoft", "t", Const, |_| limit(0, true)),
    prop!("DefaultLimitFSIZE", "t", Const, |_| limit(1, false)),
    prop!("DefaultLimitFSIZESoft", "t", Const, |_| limit(1, true)),
    prop!("DefaultLimitDATA", "t", Const, |_| limit(2, false)),
    prop!("DefaultLimitDATASoft", "t", Const, |_| limit(2, true)),
    prop!("DefaultLimitSTACK", "t", Const, |_| limit(3, false)),
    prop!("DefaultLimitSTACKSoft", "t", Const, |_| limit(3, true)),
    prop!("DefaultLimitCORE", "t", Const, |_| limit(4, false)),
    prop!("DefaultLimitCORESoft", "t", Const, |_| limit(4, true)),
    prop!("DefaultLimitRSS", "t", Const, |_| limit(5, false)),
    prop!("DefaultLimitRSSSoft", "t", Const, |_| limit(5, true)),
    prop!("DefaultLimitNOFILE", "t", Const, |_| limit(7, false)),
    prop!("DefaultLimitNOFILESoft", "t", Const, |_| limit(7, true)),
    prop!("DefaultLimitAS", "t", Const, |_| limit(9, false)),
    prop!("DefaultLimitASSoft", "t", Const, |_| limit(9, true)),
    prop!("DefaultLimitNPROC", "t", Const, |_| limit(6, false)),
    prop!("DefaultLimitNPROCSoft", "t", Const, |_| limit(6, true)),
    prop!("DefaultLimitMEMLOCK", "t", Const, |_| limit(8, false)),
    prop!("DefaultLimitMEMLOCKSoft", "t", Const, |_| limit(8, true)),
    prop!("DefaultLimitLOCKS", "t", Const, |_| limit(10, false)),
    prop!("DefaultLimitLOCKSSoft", "t", Const, |_| limit(10, true)),
    prop!("DefaultLimitSIGPENDING", "t", Const, |_| limit(11, false)),
    prop!("DefaultLimitSIGPENDINGSoft", "t", Const, |_| limit(
        11, true
    )),
    prop!("DefaultLimitMSGQUEUE", "t", Const, |_| limit(12, false)),
    prop!("DefaultLimitMSGQUEUESoft", "t", Const, |_| limit(12, true)),
    prop!("DefaultLimitNICE", "t", Const, |_| limit(13, false)),
    prop!("DefaultLimitNICESoft", "t", Const, |_| limit(13, true)),
    prop!("DefaultLimitRTPRIO", "t", Const, |_| limit(14, false)),
    prop!("DefaultLimitRTPRIOSoft", "t", Const, |_| limit(14, true)),
    prop!("DefaultLimitRTTIME", "t", Const, |_| limit(15, false)),
    prop!("DefaultLimitRTTIMESoft", "t", Const, |_| limit(15, true)),
];

/// `Version`: the systemd API level served, and unitd's own version.
pub fn version() -> String {
    format!("252 (unitd {})", env!("CARGO_PKG_VERSION"))
}

fn default_unit_spec() -> UnitSpec {
    UnitSpec::default_for(&UnitName::new("default.service").expect("valid"))
}

/// The interface description.
pub fn interface() -> InterfaceDesc {
    InterfaceDesc {
        name: INTERFACE,
        methods: METHODS,
        signals: SIGNALS,
        properties: infos(PROPS),
    }
}

/// One `ListUnits` entry: id, description, load, active and sub state, following, unit path,
/// job id, job type, job path.
pub type UnitInfo = (
    String,
    String,
    String,
    String,
    String,
    String,
    ObjectPath<'static>,
    u32,
    String,
    ObjectPath<'static>,
);

/// The `ListUnits` entry of `unit`.
pub fn unit_info(engine: &Engine, unit: &Unit) -> UnitInfo {
    let (job_id, job_type, jpath) = match unit.job.and_then(|j| engine.job(j)) {
        Some(j) => (j.id, j.job_type.as_str().to_owned(), job_path(j.id)),
        None => (0, String::new(), "/".to_owned()),
    };
    (
        unit.name().to_owned(),
        unit.description().to_owned(),
        unit.loaded.load_state.as_str().to_owned(),
        unit.active_state.as_str().to_owned(),
        unit.sub_state().to_owned(),
        String::new(),
        opath(unit_path(unit.name())),
        job_id,
        job_type,
        opath(jpath),
    )
}

/// systemd's server-side `ListUnits*` filter: a state matches the load, active or sub state;
/// patterns are globs on the primary id; empty lists match everything.
pub fn unit_matches(unit: &Unit, states: &[String], patterns: &[String]) -> bool {
    let state_ok = states.is_empty()
        || states.iter().any(|s| {
            s == unit.loaded.load_state.as_str()
                || s == unit.active_state.as_str()
                || s == unit.sub_state()
        });
    state_ok && fnmatch_any(patterns, unit.name())
}

fn list_units(engine: &Engine, states: &[String], patterns: &[String]) -> Vec<UnitInfo> {
    engine
        .units()
        .filter(|u| unit_matches(u, states, patterns))
        .map(|u| unit_info(engine, u))
        .collect()
}

/// Bash's rule for environment variable names: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn env_name_is_valid(name: &str) -> bool {
    !name.is_empty()
        && !name.as_bytes()[0].is_ascii_digit()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `NAME=VALUE` with a valid name.
pub fn env_assignment_is_valid(a: &str) -> bool {
    match a.split_once('=') {
        Some((name, _)) => env_name_is_valid(name),
        None => false,
    }
}

/// systemd's check for `SetEnvironment`: valid assignments, no name assigned twice.
pub fn env_assignments_are_valid(list: &[String]) -> bool {
    list.iter().enumerate().all(|(i, a)| {
        env_assignment_is_valid(a) && {
            let name = &a[..a.find('=').unwrap_or(a.len())];
            !list[i + 1..]
                .iter()
                .any(|b| b.split_once('=').is_some_and(|(n, _)| n == name))
        }
    })
}

/// systemd's check for `UnsetEnvironment`: names or assignments, no duplicates.
pub fn env_names_or_assignments_are_valid(list: &[String]) -> bool {
    list.iter().enumerate().all(|(i, a)| {
        (env_assignment_is_valid(a) || env_name_is_valid(a)) && !list[i + 1..].contains(a)
    })
}

/// The job type a `*Unit`/unit method asks for, and whether it becomes a reload when the unit
/// can reload (`ReloadOrRestart*`).
pub fn job_request(member: &str) -> Option<(JobType, bool)> {
    let base = member.strip_suffix("Unit").unwrap_or(member);
    Some(match base {
        "Start" => (JobType::Start, false),
        "Stop" => (JobType::Stop, false),
        "Reload" => (JobType::Reload, false),
        "Restart" => (JobType::Restart, false),
        "TryRestart" => (JobType::TryRestart, false),
        "ReloadOrRestart" => (JobType::Restart, true),
        "ReloadOrTryRestart" => (JobType::TryRestart, true),
        _ => return None,
    })
}

/// Enqueue the job `member` asks for on unit `name`; reply with the job path.
pub(crate) fn enqueue_job(
    mgr: &mut Manager,
    call: &Call<'_>,
    member: &str,
    name: &str,
    mode: &str,
) -> CallResult<Message> {
    let (job_type, reload_if_possible) =
        job_request(member).ok_or_else(|| CallError::unknown_method(member, INTERFACE))?;
    let job_type = reload_if_able(mgr, name, job_type, reload_if_possible);
    let job = mgr.enqueue(name, job_type, mode)?;
    call.reply(&opath(job_path(job)))
}

/// `ReloadOrRestart*`: a restart becomes `reload-or-start` and a try-restart `try-reload` when
/// unit `name` can reload.
fn reload_if_able(
    mgr: &mut Manager,
    name: &str,
    job_type: JobType,
    reload_if_possible: bool,
) -> JobType {
    if reload_if_possible
        && let Ok(id) = mgr.load_unit(name)
        && unit_object::can_reload(mgr.engine().unit(id))
    {
        match job_type {
            JobType::Restart => JobType::ReloadOrStart,
            _ => JobType::TryReload,
        }
    } else {
        job_type
    }
}

/// One `EnqueueUnitJob` affected job: id, job path, unit id, unit path, job type.
pub type AffectedJob = (
    u32,
    ObjectPath<'static>,
    String,
    ObjectPath<'static>,
    String,
);

/// `EnqueueUnitJob(s name, s job_type, s job_mode)`: enqueue like `StartUnit` & co. and
/// describe the transaction — the anchor job and the other jobs it installed (what
/// `systemctl --show-transaction` prints).
fn enqueue_unit_job(mgr: &mut Manager, call: &Call<'_>) -> CallResult<Message> {
    let (name, type_str, mode): (String, String, String) = call.args()?;
    let (job_type, reload_if_possible) = match type_str.as_str() {
        "reload-or-restart" => (JobType::Restart, true),
        "reload-or-try-restart" => (JobType::TryRestart, true),
        t => (
            JobType::from_str_opt(t)
                .ok_or_else(|| CallError::invalid_args(format!("Job type {t} invalid.")))?,
            false,
        ),
    };
    if crate::engine::JobMode::from_str_opt(&mode).is_none() {
        return Err(CallError::invalid_args(format!("Job mode {mode} invalid.")));
    }
    let job_type = reload_if_able(mgr, &name, job_type, reload_if_possible);
    let before: std::collections::HashSet<u32> = mgr.engine().jobs().map(|j| j.id).collect();
    let job = mgr.enqueue(&name, job_type, &mode)?;
    let engine = mgr.engine();
    let unit = engine
        .lookup(&name)
        .map(|id| engine.unit(id).name().to_owned())
        .unwrap_or_else(|| name.clone());
    // The job may already have finished inside the transaction; its type is then the one asked.
    let anchor_type = engine.job(job).map_or(job_type, |j| j.job_type);
    let mut affected: Vec<AffectedJob> = engine
        .jobs()
        .filter(|j| j.id != job && !before.contains(&j.id))
        .map(|j| {
            let u = engine.unit(j.unit).name().to_owned();
            (
                j.id,
                opath(job_path(j.id)),
                u.clone(),
                opath(unit_path(&u)),
                j.job_type.as_str().to_owned(),
            )
        })
        .collect();
    affected.sort_by_key(|a| a.0);
    call.reply(&(
        job,
        opath(job_path(job)),
        unit.clone(),
        opath(unit_path(&unit)),
        anchor_type.as_str().to_owned(),
        affected,
    ))
}

/// One `GetUnitProcesses` entry: cgroup path, pid, command line.
pub type ProcessInfo = (String, u32, String);

/// `GetUnitProcesses` of `unit` (and `GetProcesses` on its object): every live process the
/// supervisor attributes to it, then its main and control pid if they were not among them (as
/// systemd appends them), each with the cgroup it actually lives in — so `systemctl status`
/// draws the unit's processes under its `ControlGroup`.
pub fn unit_processes(mgr: &mut Manager, unit: crate::engine::UnitId) -> Vec<ProcessInfo> {
    let u = mgr.engine().unit(unit);
    let extra: Vec<u32> = [u.service.main_pid, u.service.control_pid]
        .into_iter()
        .flatten()
        .collect();
    mgr.supervisor()
        .unit_processes(unit, &extra)
        .into_iter()
        .map(|p| (p.cgroup, p.pid, p.command))
        .collect()
}

/// `KillUnit`'s `whom` argument.
pub fn parse_whom(whom: &str) -> CallResult<KillWhom> {
    match whom {
        "" | "all" | "all-fail" => Ok(KillWhom::All),
        "main" | "main-fail" => Ok(KillWhom::Main),
        "control" | "control-fail" => Ok(KillWhom::Control),
        other => Err(CallError::invalid_args(format!(
            "Invalid who argument {other}"
        ))),
    }
}

/// Check a signal number like systemd (`1 ≤ n < 65`).
pub fn check_signal(signal: i32) -> CallResult<()> {
    if (1..65).contains(&signal) {
        Ok(())
    } else {
        Err(CallError::invalid_args("Signal number out of range."))
    }
}

fn caller_unit(mgr: &mut Manager, call: &Call<'_>) -> CallResult<crate::engine::UnitId> {
    call.ctx
        .caller_pid
        .and_then(|pid| mgr.unit_by_pid(pid))
        .ok_or_else(|| CallError::new(NO_SUCH_UNIT, "Client not member of any unit."))
}

/// Run a Manager method (signature already checked).
pub(crate) fn handle(
    f: &mut SystemdFacade,
    mgr: &mut Manager,
    call: &Call<'_>,
) -> CallResult<Message> {
    let member = call.member.as_str();
    if super::install_verbs::is_install_method(member) {
        return super::install_verbs::handle(f, mgr, call);
    }
    match member {
        "GetUnit" => {
            let name: String = call.args()?;
            let id = if name.is_empty() {
                caller_unit(mgr, call)?
            } else {
                mgr.engine()
                    .lookup(&name)
                    .ok_or_else(|| CallError::unit_not_loaded(&name))?
            };
            call.reply(&opath(unit_path(mgr.engine().unit(id).name())))
        }
        "LoadUnit" => {
            let name: String = call.args()?;
            let id = if name.is_empty() {
                caller_unit(mgr, call)?
            } else {
                mgr.load_unit(&name)
                    .map_err(|_| CallError::invalid_unit_name(&name))?
            };
            call.reply(&opath(unit_path(mgr.engine().unit(id).name())))
        }
        "GetUnitByPID" => {
            let pid: u32 = call.args()?;
            let pid = if pid == 0 {
                call.ctx.caller_pid.unwrap_or(0)
            } else {
                pid
            };
            let id = mgr
                .unit_by_pid(pid)
                .ok_or_else(|| CallError::no_unit_for_pid(pid))?;
            call.reply(&opath(unit_path(mgr.engine().unit(id).name())))
        }
        "GetUnitByInvocationID" => {
            let bytes: Vec<u8> = call.args()?;
            let id = if bytes.is_empty() {
                caller_unit(mgr, call)?
            } else {
                let arr: [u8; 16] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| CallError::invalid_args("Invalid invocation ID"))?;
                unit_by_invocation_id(mgr, &arr).ok_or_else(|| {
                    let hex: String = arr.iter().map(|b| format!("{b:02x}")).collect();
                    CallError::new(
                        NO_UNIT_FOR_INVOCATION_ID,
                        format!("No unit with the specified invocation ID {hex} known."),
                    )
                })?
            };
            call.reply(&opath(unit_path(mgr.engine().unit(id).name())))
        }
        "GetUnitProcesses" => {
            let name: String = call.args()?;
            let id = mgr
                .engine()
                .lookup(&name)
                .ok_or_else(|| CallError::unit_not_loaded(&name))?;
            call.reply(&(unit_processes(mgr, id),))
        }
        "StartUnit"
        | "StopUnit"
        | "ReloadUnit"
        | "RestartUnit"
        | "TryRestartUnit"
        | "ReloadOrRestartUnit"
        | "ReloadOrTryRestartUnit" => {
            let (name, mode): (String, String) = call.args()?;
            enqueue_job(mgr, call, member, &name, &mode)
        }
        "StartTransientUnit" => start_transient(f, mgr, call),
        "AttachProcessesToUnit" => attach_processes(mgr, call),
        "SetUnitProperties" => {
            let (name, runtime, props): (String, bool, PropList) = call.args()?;
            let id = if name.is_empty() {
                caller_unit(mgr, call)?
            } else {
                mgr.load_unit(&name)
                    .map_err(|_| CallError::invalid_unit_name(&name))?
            };
            super::set_properties::set_properties(mgr, id, runtime, &props, call)
        }
        "EnqueueUnitJob" => enqueue_unit_job(mgr, call),
        "KillUnit" => {
            let (name, whom, signal): (String, String, i32) = call.args()?;
            let whom = parse_whom(&whom)?;
            check_signal(signal)?;
            mgr.kill_unit(&name, whom, signal)?;
            call.reply_empty()
        }
        "ResetFailedUnit" => {
            let name: String = call.args()?;
            mgr.reset_failed(Some(&name))?;
            call.reply_empty()
        }
        "ResetFailed" => {
            mgr.reset_failed(None)?;
            call.reply_empty()
        }
        "RefUnit" | "UnrefUnit" => {
            let name: String = call.args()?;
            let id = mgr
                .load_unit(&name)
                .map_err(|_| CallError::invalid_unit_name(&name))?;
            unit_object::ref_or_unref(f, mgr, call, id, member == "RefUnit")
        }
        "GetJob" => {
            let id: u32 = call.args()?;
            mgr.engine()
                .job(id)
                .ok_or_else(|| CallError::no_such_job(id))?;
            call.reply(&opath(job_path(id)))
        }
        "GetJobAfter" | "GetJobBefore" => {
            let id: u32 = call.args()?;
            let engine = mgr.engine();
            let job = engine.job(id).ok_or_else(|| CallError::no_such_job(id))?;
            let list: Vec<JobInfo> =
                job_object::related_jobs(engine, job, member == "GetJobBefore");
            call.reply(&(list,))
        }
        "CancelJob" => {
            let id: u32 = call.args()?;
            if mgr.engine().job(id).is_none() {
                return Err(CallError::no_such_job(id));
            }
            mgr.cancel_job(id)?;
            call.reply_empty()
        }
        "ClearJobs" => {
            let ids: Vec<u32> = mgr.engine().jobs().map(|j| j.id).collect();
            for id in ids {
                // A job may already be gone because cancelling another one finished it.
                if mgr.engine().job(id).is_some() {
                    let _ = mgr.cancel_job(id);
                }
            }
            call.reply_empty()
        }
        "ListUnits" => call.reply(&(list_units(mgr.engine(), &[], &[]),)),
        "ListUnitsFiltered" => {
            let states: Vec<String> = call.args()?;
            call.reply(&(list_units(mgr.engine(), &states, &[]),))
        }
        "ListUnitsByPatterns" => {
            let (states, patterns): (Vec<String>, Vec<String>) = call.args()?;
            call.reply(&(list_units(mgr.engine(), &states, &patterns),))
        }
        "ListUnitsByNames" => {
            let names: Vec<String> = call.args()?;
            let mut out = Vec::with_capacity(names.len());
            for n in names {
                match UnitName::new(&n) {
                    Ok(v) if !v.is_template() => {}
                    _ => continue,
                }
                let id = mgr
                    .load_unit(&n)
                    .map_err(|_| CallError::invalid_unit_name(&n))?;
                out.push(unit_info(mgr.engine(), mgr.engine().unit(id)));
            }
            call.reply(&(out,))
        }
        "ListJobs" => {
            let engine = mgr.engine();
            let jobs: Vec<JobInfo> = engine
                .jobs()
                .map(|j| job_object::job_info(engine, j))
                .collect();
            call.reply(&(jobs,))
        }
        "Subscribe" => {
            // Peer-to-peer connections are subscribed implicitly, as in systemd.
            if let Some(sender) = &call.sender
                && !f.subscribers.insert((call.ctx.conn, sender.clone()))
            {
                return Err(CallError::new(
                    ALREADY_SUBSCRIBED,
                    "Client is already subscribed.",
                ));
            }
            call.reply_empty()
        }
        "Unsubscribe" => {
            if let Some(sender) = &call.sender
                && !f.subscribers.remove(&(call.ctx.conn, sender.clone()))
            {
                return Err(CallError::new(NOT_SUBSCRIBED, "Client is not subscribed."));
            }
            call.reply_empty()
        }
        "Reload" => {
            mgr.reload();
            f.invalidate_caches();
            call.reply_empty()
        }
        "Reexecute" => {
            // No reply: the daemon loop re-executes after this turn and the client sees the
            // disconnection (systemctl treats NoReply/ECONNRESET as success), like systemd.
            mgr.request_reexec();
            call.reply_empty()
        }
        "Exit" => {
            mgr.request_shutdown(ShutdownAction::Exit);
            call.reply_empty()
        }
        "Reboot" | "PowerOff" | "Halt" | "KExec" => {
            let (action, what) = match member {
                "Reboot" => (ShutdownAction::Reboot, "Reboot is"),
                "PowerOff" => (ShutdownAction::PowerOff, "Powering off is"),
                "Halt" => (ShutdownAction::Halt, "Halt is"),
                _ => (ShutdownAction::KExec, "KExec is"),
            };
            if mgr.settings().scope != crate::settings::Scope::System {
                return Err(CallError::new(
                    "org.freedesktop.DBus.Error.NotSupported",
                    format!("{what} only supported for system managers."),
                ));
            }
            mgr.request_shutdown(action);
            call.reply_empty()
        }
        "SetEnvironment" => {
            let set: Vec<String> = call.args()?;
            if !env_assignments_are_valid(&set) {
                return Err(CallError::invalid_args("Invalid environment assignments"));
            }
            mgr.set_environment(&[], &set);
            call.reply_empty()
        }
        "UnsetEnvironment" => {
            let unset: Vec<String> = call.args()?;
            if !env_names_or_assignments_are_valid(&unset) {
                return Err(CallError::invalid_args(
                    "Invalid environment variable names or assignments",
                ));
            }
            mgr.set_environment(&unset, &[]);
            call.reply_empty()
        }
        "UnsetAndSetEnvironment" => {
            let (unset, set): (Vec<String>, Vec<String>) = call.args()?;
            if !env_names_or_assignments_are_valid(&unset) {
                return Err(CallError::invalid_args(
                    "Invalid environment variable names or assignments",
                ));
            }
            if !env_assignments_are_valid(&set) {
                return Err(CallError::invalid_args("Invalid environment assignments"));
            }
            mgr.set_environment(&unset, &set);
            call.reply_empty()
        }
        other => Err(CallError::unknown_method(other, INTERFACE)),
    }
}

type PropList = Vec<(String, zbus::OwnedVariant)>;

/// `StartTransientUnit(s name, s mode, a(sv) properties, a(sa(sv)) aux)`: the unit and its
/// auxiliary units (e.g. the service a transient socket activates, `systemd-run
/// --socket-property=`) are all built and checked first — any invalid property or a name
/// that exists already (`UnitExists`) refuses the whole call — then added together; only the
/// main unit is started.
fn start_transient(
    f: &mut SystemdFacade,
    mgr: &mut Manager,
    call: &Call<'_>,
) -> CallResult<Message> {
    use super::transient;
    let (name, mode, props, aux): (String, String, PropList, Vec<(String, PropList)>) =
        call.args()?;
    if crate::engine::JobMode::from_str_opt(&mode).is_none() {
        return Err(CallError::invalid_args(format!("Job mode {mode} invalid.")));
    }
    // systemd's order: each unit's name is checked (UnitExists) before its properties.
    let mut units = Vec::with_capacity(1 + aux.len());
    let all = std::iter::once((&name, &props)).chain(aux.iter().map(|(n, p)| (n, p)));
    let mut seen: Vec<&str> = Vec::new();
    for (unit_name, unit_props) in all {
        if seen.contains(&unit_name.as_str()) {
            return Err(unit_exists(unit_name));
        }
        seen.push(unit_name);
        UnitName::new(unit_name).map_err(|_| CallError::invalid_unit_name(unit_name))?;
        // A unit that is loaded (or has a file) already: systemd's UnitExists.
        let existing = mgr
            .load_unit(unit_name)
            .map_err(|_| CallError::invalid_unit_name(unit_name))?;
        let state = mgr.engine().unit(existing).loaded.load_state;
        if state != crate::spec::LoadState::NotFound || mgr.is_transient(unit_name) {
            return Err(unit_exists(unit_name));
        }
        units.push(transient::build(
            unit_name,
            unit_props,
            mgr.specifier_context(),
        )?);
    }
    for (loaded, opts) in units {
        let id = mgr.add_transient(loaded, &opts.text).map_err(|e| {
            CallError::new(
                super::errors::FAILED,
                format!("Failed to write transient unit file: {e}"),
            )
        })?;
        if !opts.pids.is_empty() {
            mgr.set_scope_pids(id, opts.pids);
        }
        // Before the start job: it may spawn right away.
        mgr.set_unit_stdio_fds(id, opts.stdio);
        if opts.add_ref {
            f.add_ref(mgr, call.peer(), id);
        }
    }
    let job = mgr.enqueue(&name, JobType::Start, &mode)?;
    call.reply(&opath(job_path(job)))
}

fn unit_exists(name: &str) -> CallError {
    CallError::new(
        super::transient::UNIT_EXISTS,
        format!("Unit {name} was already loaded or has a fragment file."),
    )
}

/// `AttachProcessesToUnit(s unit_name, s subcgroup, au pids)`: systemd's checks in its order
/// (sub-cgroup path, delegation, active state, each PID), then the PIDs join the unit.
fn attach_processes(mgr: &mut Manager, call: &Call<'_>) -> CallResult<Message> {
    let (name, subcgroup, pids): (String, String, Vec<u32>) = call.args()?;
    let id = if name.is_empty() {
        caller_unit(mgr, call)?
    } else {
        mgr.engine()
            .lookup(&name)
            .ok_or_else(|| CallError::unit_not_loaded(&name))?
    };
    if !subcgroup.is_empty() {
        if !subcgroup.starts_with('/') {
            return Err(CallError::invalid_args(format!(
                "Control group path is not absolute: {subcgroup}"
            )));
        }
        if !path_is_normalized(&subcgroup) {
            return Err(CallError::invalid_args(format!(
                "Control group path is not normalized: {subcgroup}"
            )));
        }
    }
    let unit = mgr.engine().unit(id);
    let takes_processes = unit.is_service() || unit.is_scope();
    if !takes_processes || !unit.loaded.spec.delegate {
        return Err(CallError::invalid_args(
            "Process migration not available on non-delegated units.",
        ));
    }
    if unit.active_state.is_inactive_or_failed() {
        return Err(CallError::invalid_args("Unit is not active, refusing."));
    }
    let mut wanted: Vec<u32> = Vec::with_capacity(pids.len());
    for pid in pids {
        let pid = if pid == 0 {
            call.ctx.caller_pid.ok_or_else(|| {
                CallError::invalid_args("Cannot determine the caller's process identifier.")
            })?
        } else {
            pid
        };
        if wanted.contains(&pid) {
            continue;
        }
        if pid > i32::MAX as u32 {
            return Err(CallError::invalid_args(format!(
                "Process identifier {pid} is not valid."
            )));
        }
        if pid == 1 || pid == std::process::id() {
            return Err(CallError::invalid_args(format!(
                "Process {pid} is a manager process, refusing."
            )));
        }
        if !mgr.process_exists(pid) {
            return Err(CallError::new(
                UNIX_PROCESS_ID_UNKNOWN,
                format!("Process with ID {pid} does not exist."),
            ));
        }
        if mgr.supervisor().is_kernel_thread(pid) {
            return Err(CallError::invalid_args(format!(
                "Process {pid} is a kernel thread, refusing."
            )));
        }
        wanted.push(pid);
    }
    if !mgr.attach_processes(id, &wanted).is_empty() {
        return Err(CallError::new(
            UNIX_PROCESS_ID_UNKNOWN,
            "Failed to attach processes to control group: No such process",
        ));
    }
    call.reply_empty()
}

/// `org.freedesktop.DBus.Error.UnixProcessIdUnknown` (systemd's name for `ESRCH`).
pub const UNIX_PROCESS_ID_UNKNOWN: &str = "org.freedesktop.DBus.Error.UnixProcessIdUnknown";

/// systemd's `path_is_normalized`: no `.`/`..` components, no `//`.
fn path_is_normalized(p: &str) -> bool {
    !p.contains("//") && !p.split('/').any(|c| c == "." || c == "..")
}

/// `Unref` without a reference: systemd's `NotReferenced`.
pub(crate) fn not_referenced() -> CallError {
    CallError::new(NOT_REFERENCED, "Unit has not been referenced yet.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_validation_follows_systemd() {
        let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(env_assignments_are_valid(&v(&["A=1", "B_2=", "_x=y=z"])));
        assert!(!env_assignments_are_valid(&v(&["A"])));
        assert!(!env_assignments_are_valid(&v(&["1A=x"])));
        assert!(!env_assignments_are_valid(&v(&["A-B=x"])));
        assert!(!env_assignments_are_valid(&v(&["=x"])));
        assert!(!env_assignments_are_valid(&v(&["A=1", "A=2"])));
        assert!(env_assignments_are_valid(&v(&[])));
        assert!(env_names_or_assignments_are_valid(&v(&["A", "B=1"])));
        assert!(!env_names_or_assignments_are_valid(&v(&["A", "A"])));
        assert!(!env_names_or_assignments_are_valid(&v(&["A B"])));
    }

    #[test]
    fn job_requests() {
        assert_eq!(job_request("StartUnit"), Some((JobType::Start, false)));
        assert_eq!(job_request("Start"), Some((JobType::Start, false)));
        assert_eq!(
            job_request("ReloadOrRestartUnit"),
            Some((JobType::Restart, true))
        );
        assert_eq!(
            job_request("ReloadOrTryRestart"),
            Some((JobType::TryRestart, true))
        );
        assert_eq!(
            job_request("TryRestartUnit"),
            Some((JobType::TryRestart, false))
        );
        assert_eq!(job_request("Frob"), None);
    }

    #[test]
    fn kill_arguments() {
        assert_eq!(parse_whom("").unwrap(), KillWhom::All);
        assert_eq!(parse_whom("main-fail").unwrap(), KillWhom::Main);
        assert_eq!(parse_whom("control").unwrap(), KillWhom::Control);
        assert_eq!(
            parse_whom("bogus").unwrap_err().message,
            "Invalid who argument bogus"
        );
        assert!(check_signal(15).is_ok());
        assert!(check_signal(64).is_ok());
        assert!(check_signal(0).is_err());
        assert!(check_signal(65).is_err());
    }

    #[test]
    fn version_names_both() {
        assert!(version().starts_with("252 (unitd "));
    }
}
