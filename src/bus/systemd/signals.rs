//! Engine [`Change`]s → D-Bus signals, in the order the changes happened: `UnitNew`,
//! `PropertiesChanged` (with values, for the Unit and the type interface), `JobNew`, the job's
//! `PropertiesChanged`, `JobRemoved`, `UnitRemoved`, `Reloading`, and finally the manager's
//! `NFailedUnits` when it changed. The engine queues a unit's change before the `JobRemoved`
//! it caused, so `systemctl --wait` sees the final state before the job ends.

use zbus::Message;

use crate::engine::{Change, JobResult};
use crate::runtime::Manager;

use super::dispatch::PropGroup;
use super::introspect::PROPERTIES;
use super::manager::{self, n_failed_units};
use super::object_path::{job_path, unit_path};
use super::properties::{PropDict, opath, vu};
use super::{MANAGER_PATH, SystemdFacade, job_object};

fn build(
    path: String,
    iface: &str,
    member: &str,
    body: &(impl serde::Serialize + zbus::wire::DynamicType),
) -> Option<Message> {
    match Message::signal(opath(path), iface, member).build(body) {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::warn!("cannot build signal {iface}.{member}: {e}");
            None
        }
    }
}

/// `PropertiesChanged(s, a{sv}, as)` on `path`.
pub fn properties_changed(
    path: String,
    iface: &str,
    changed: PropDict,
    invalidated: Vec<&'static str>,
) -> Option<Message> {
    build(
        path,
        PROPERTIES,
        "PropertiesChanged",
        &(iface, changed, invalidated),
    )
}

pub(super) fn signals(f: &mut SystemdFacade, mgr: &Manager, changes: &[Change]) -> Vec<Message> {
    let engine = mgr.engine();
    let mut out = Vec::with_capacity(changes.len() * 2);
    let mut units_touched = false;
    for change in changes {
        match change {
            Change::UnitNew { name, .. } => {
                units_touched = true;
                out.extend(build(
                    MANAGER_PATH.into(),
                    manager::INTERFACE,
                    "UnitNew",
                    &(name.as_str(), opath(unit_path(name))),
                ));
            }
            Change::UnitChanged { unit } => {
                units_touched = true;
                let Some(u) = engine.try_unit(*unit) else {
                    continue;
                };
                let path = unit_path(u.name());
                for group in f.unit_groups(mgr, *unit) {
                    if matches!(group, PropGroup::Empty(_)) {
                        continue;
                    }
                    let (changed, invalidated) = group.changed();
                    out.extend(properties_changed(
                        path.clone(),
                        group.interface(),
                        changed,
                        invalidated,
                    ));
                }
            }
            Change::UnitRemoved { name, .. } => {
                units_touched = true;
                out.extend(build(
                    MANAGER_PATH.into(),
                    manager::INTERFACE,
                    "UnitRemoved",
                    &(name.as_str(), opath(unit_path(name))),
                ));
            }
            Change::JobNew { job, unit_name, .. } => {
                f.job_stats.installed = f.job_stats.installed.saturating_add(1);
                out.extend(build(
                    MANAGER_PATH.into(),
                    manager::INTERFACE,
                    "JobNew",
                    &(*job, opath(job_path(*job)), unit_name.as_str()),
                ));
            }
            Change::JobChanged { job } => {
                let Some(j) = engine.job(*job) else { continue };
                let group = PropGroup::Job(job_object::JobCtx { engine, job: j });
                let (changed, invalidated) = group.changed();
                out.extend(properties_changed(
                    job_path(*job),
                    job_object::INTERFACE,
                    changed,
                    invalidated,
                ));
            }
            Change::JobRemoved {
                job,
                unit_name,
                result,
                ..
            } => {
                if matches!(result, JobResult::Failed | JobResult::Invalid) {
                    f.job_stats.failed = f.job_stats.failed.saturating_add(1);
                }
                out.extend(build(
                    MANAGER_PATH.into(),
                    manager::INTERFACE,
                    "JobRemoved",
                    &(
                        *job,
                        opath(job_path(*job)),
                        unit_name.as_str(),
                        result.as_str(),
                    ),
                ));
            }
            Change::EventFinished { .. } => {}
            Change::Reloading { active } => {
                out.extend(build(
                    MANAGER_PATH.into(),
                    manager::INTERFACE,
                    "Reloading",
                    &(*active,),
                ));
            }
        }
    }
    if std::mem::take(&mut f.unit_files_changed) {
        out.extend(build(
            MANAGER_PATH.into(),
            manager::INTERFACE,
            "UnitFilesChanged",
            &(),
        ));
    }
    if units_touched {
        let n = n_failed_units(engine);
        match f.last_n_failed {
            Some(last) if last == n => {}
            None if n == 0 => f.last_n_failed = Some(0),
            _ => {
                f.last_n_failed = Some(n);
                let mut d = PropDict::default();
                d.push("NFailedUnits", vu(n));
                out.extend(properties_changed(
                    MANAGER_PATH.into(),
                    manager::INTERFACE,
                    d,
                    Vec::new(),
                ));
            }
        }
    }
    out
}
