//! `org.freedesktop.systemd1.Job` on `/org/freedesktop/systemd1/job/<id>`: the job's id, unit,
//! type and state, `Cancel()`, and `GetAfter()`/`GetBefore()` computed from the units'
//! ordering dependencies with systemd's rules (stop jobs run in reverse order).

use zbus::{Message, ObjectPath, Variant};

use crate::engine::{Engine, Job, JobId, JobType, UnitId};
use crate::runtime::Manager;

use super::SystemdFacade;
use super::dispatch::Call;
use super::errors::{CallError, CallResult};
use super::introspect::{InterfaceDesc, MethodDesc, infos, method};
use super::object_path::{job_path, unit_path};
use super::properties::{PropDesc, Value, opath, prop, vs, vu};

/// Interface name.
pub const INTERFACE: &str = "org.freedesktop.systemd1.Job";

/// Methods.
pub static METHODS: &[MethodDesc] = &[
    method!("Cancel", [], []),
    method!("GetAfter", [], [("a(usssoo)", "jobs")]),
    method!("GetBefore", [], [("a(usssoo)", "jobs")]),
];

/// What job property getters read.
pub struct JobCtx<'a> {
    /// The engine.
    pub engine: &'a Engine,
    /// The job.
    pub job: &'a Job,
}

type Getter = fn(&JobCtx<'_>) -> Option<Value>;

/// The Job interface's properties.
pub static PROPS: &[PropDesc<Getter>] = &[
    prop!("Id", "u", Const, |c| Some(vu(c.job.id))),
    prop!("Unit", "(so)", Const, |c| {
        let name = c.engine.unit(c.job.unit).name().to_owned();
        let path = opath(unit_path(&name));
        Some(Variant::from((name, path)))
    }),
    prop!("JobType", "s", Const, |c| Some(vs(c.job.job_type.as_str()))),
    prop!("State", "s", True, |c| Some(vs(c.job.state.as_str()))),
    prop!("ActivationDetails", "a(ss)", Const, |_| {
        Some(Variant::from(Vec::<(String, String)>::new()))
    }),
];

/// The interface description.
pub fn interface() -> InterfaceDesc {
    InterfaceDesc {
        name: INTERFACE,
        methods: METHODS,
        signals: &[],
        properties: infos(PROPS),
    }
}

/// One `ListJobs` entry: id, unit, type, state, job path, unit path.
pub type JobInfo = (
    u32,
    String,
    String,
    String,
    ObjectPath<'static>,
    ObjectPath<'static>,
);

/// The `ListJobs` entry of `job`.
pub fn job_info(engine: &Engine, job: &Job) -> JobInfo {
    let unit = engine.unit(job.unit).name().to_owned();
    let upath = opath(unit_path(&unit));
    (
        job.id,
        unit,
        job.job_type.as_str().to_owned(),
        job.state.as_str().to_owned(),
        opath(job_path(job.id)),
        upath,
    )
}

fn is_stop_like(t: JobType) -> bool {
    matches!(t, JobType::Stop | JobType::Restart)
}

/// `GetBefore` (`before == true`: jobs that must finish before `job` may run) or `GetAfter`
/// (jobs waiting for `job`), sorted by id. Follows systemd's `job_compare`: with `a` ordered
/// before `b`, `b`'s job waits for `a`'s unless `b`'s job is a stop (or restart), in which case
/// the order is reversed; no-op jobs are never ordered.
pub fn related_jobs(engine: &Engine, job: &Job, before: bool) -> Vec<JobInfo> {
    if job.job_type == JobType::Nop {
        return Vec::new();
    }
    let unit = engine.unit(job.unit);
    let mut ids: Vec<JobId> = Vec::new();
    let mut consider = |other_unit: Option<UnitId>, other_is_before_us: bool| {
        let Some(other) = other_unit.map(|u| engine.unit(u)) else {
            return;
        };
        let Some(other_job) = other.job.and_then(|j| engine.job(j)) else {
            return;
        };
        if other_job.job_type == JobType::Nop || other_job.id == job.id {
            return;
        }
        // Who runs first? If the other unit is ordered before ours, our job waits for it
        // unless our job is a stop; if ours is ordered before it, its job waits for ours
        // unless its job is a stop.
        let other_first = if other_is_before_us {
            !is_stop_like(job.job_type)
        } else {
            is_stop_like(other_job.job_type)
        };
        if other_first == before && !ids.contains(&other_job.id) {
            ids.push(other_job.id);
        }
    };
    for name in unit.dependency_names(engine, "After") {
        consider(engine.lookup(name), true);
    }
    for name in unit.dependency_names(engine, "Before") {
        consider(engine.lookup(name), false);
    }
    ids.sort_unstable();
    ids.iter()
        .filter_map(|id| engine.job(*id))
        .map(|j| job_info(engine, j))
        .collect()
}

/// Run a Job method (signature already checked).
pub(crate) fn handle(
    _f: &mut SystemdFacade,
    mgr: &mut Manager,
    job: JobId,
    call: &Call<'_>,
) -> CallResult<Message> {
    match call.member.as_str() {
        "Cancel" => {
            mgr.cancel_job(job)?;
            call.reply_empty()
        }
        "GetAfter" | "GetBefore" => {
            let engine = mgr.engine();
            let j = engine.job(job).ok_or_else(|| CallError::no_such_job(job))?;
            let list = related_jobs(engine, j, call.member == "GetBefore");
            call.reply(&(list,))
        }
        other => Err(CallError::unknown_method(other, INTERFACE)),
    }
}
