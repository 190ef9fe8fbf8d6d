//! Engine [`Change`]s → D-Bus signals, in the order the changes happened: `UnitNew`,
//! `PropertiesChanged` (with values, for the Unit and the type interface), `JobNew`, the job's
//! `PropertiesChanged`, `JobRemoved`, `UnitRemoved`, `Reloading`, and finally the manager's
//! `NFailedUnits` when it changed. The engine queues a unit's change before the `JobRemoved`
//! it caused, so `systemctl --wait` sees the final state before the job ends.
//!
//! `PropertiesChanged` carries the values at signal time, so of several `UnitChanged` for one
//! unit within a run of consecutive `UnitChanged` changes only the last is sent: the earlier
//! ones would repeat the same values (a flood of `STATUS=` updates costs one signal per batch).

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
    let redundant = redundant_unit_changes(changes);
    for (i, change) in changes.iter().enumerate() {
        if redundant[i] {
            units_touched = true;
            continue;
        }
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

/// The manager's `StartupFinished` with only userspace time (see
/// [`SystemdFacade::startup_finished`]).
pub(super) fn startup_finished(userspace: u64) -> Option<Message> {
    build(
        MANAGER_PATH.into(),
        manager::INTERFACE,
        "StartupFinished",
        &(0u64, 0u64, 0u64, 0u64, userspace, userspace),
    )
}

/// Marks the `UnitChanged` entries followed, within the same run of consecutive
/// `UnitChanged`, by another one for the same unit.
fn redundant_unit_changes(changes: &[Change]) -> Vec<bool> {
    let mut out = vec![false; changes.len()];
    let mut seen = std::collections::HashSet::new();
    for (i, c) in changes.iter().enumerate().rev() {
        match c {
            Change::UnitChanged { unit } => out[i] = !seen.insert(*unit),
            _ => seen.clear(),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::UnitId;

    #[test]
    fn repeated_unit_changes_in_a_run_collapse_to_the_last() {
        let (a, b) = (UnitId(1), UnitId(2));
        let uc = |unit| Change::UnitChanged { unit };
        let changes = [
            uc(a),
            uc(b),
            uc(a),
            Change::Reloading { active: true },
            uc(a),
            uc(b),
            uc(b),
        ];
        assert_eq!(
            redundant_unit_changes(&changes),
            vec![true, false, false, false, false, true, false]
        );
    }
}
