//! `org.freedesktop.systemd1.Unit` on `/org/freedesktop/systemd1/unit/<label>`: identity,
//! dependencies, states, file paths, enablement, timestamps, capabilities, the current job and
//! the job methods (`Start`, `Stop`, …), `Kill`, `ResetFailed`, `Ref`/`Unref`.
//!
//! Every property is read from the engine's [`Unit`] view or computed from files the unit was
//! loaded from; properties unitd cannot back (conditions, markers, SELinux context, …) are not
//! declared at all.

use std::cell::OnceCell;

use zbus::{Message, Variant};

use crate::engine::{Engine, Unit, UnitId};
use crate::runtime::Manager;
use crate::settings::Settings;
use crate::spec::{KindSpec, LoadState, ServiceType, UnitName, UnitType};
use crate::supervisor::ProcessTable;

use super::dispatch::Call;
use super::errors::{CallError, CallResult};
use super::introspect::{InterfaceDesc, MethodDesc, infos, method};
use super::manager::{check_signal, enqueue_job, not_referenced, parse_whom};
use super::object_path::job_path;
use super::properties::{PropDesc, Value, opath, prop, vas, vay, vb, vs, vstring, vt, vu};
use super::unit_file_state::{Presets, unit_file_state};
use super::{SystemdFacade, target_object};

/// Interface name.
pub const INTERFACE: &str = "org.freedesktop.systemd1.Unit";

/// Methods unitd implements.
pub static METHODS: &[MethodDesc] = &[
    method!("Start", [("s", "mode")], [("o", "job")]),
    method!("Stop", [("s", "mode")], [("o", "job")]),
    method!("Reload", [("s", "mode")], [("o", "job")]),
    method!("Restart", [("s", "mode")], [("o", "job")]),
    method!("TryRestart", [("s", "mode")], [("o", "job")]),
    method!("ReloadOrRestart", [("s", "mode")], [("o", "job")]),
    method!("ReloadOrTryRestart", [("s", "mode")], [("o", "job")]),
    method!("Kill", [("s", "whom"), ("i", "signal")], []),
    method!("ResetFailed", [], []),
    method!(
        "SetProperties",
        [("b", "runtime"), ("a(sv)", "properties")],
        []
    ),
    method!("Ref", [], []),
    method!("Unref", [], []),
];

/// What unit property getters read.
#[derive(Clone, Copy)]
pub struct UnitCtx<'a> {
    /// The engine (for dependency names and jobs).
    pub engine: &'a Engine,
    /// Daemon settings (search path, scope).
    pub settings: &'a Settings,
    /// Preset rules, parsed on first use.
    pub presets: &'a OnceCell<Presets>,
    /// The unit.
    pub unit: &'a Unit,
    /// The supervisor's process table (where the unit's processes live).
    pub procs: &'a ProcessTable,
    /// Fds in the unit's fd store (`NFileDescriptorStore`; the supervisor holds them).
    pub n_fd_store: u32,
    /// What the manager cannot enforce of the unit's sandboxing (noted at load).
    pub unenforced: Option<&'a crate::loader::unenforced::UnenforcedNote>,
}

impl UnitCtx<'_> {
    /// systemd's `ControlGroup`: the cgroup the unit's main process (else control process,
    /// else any tracked process) actually lives in, `""` while the unit has no process.
    pub fn control_group(&self) -> String {
        let s = &self.unit.service;
        let preferred: Vec<u32> = [s.main_pid, s.control_pid].into_iter().flatten().collect();
        self.procs
            .control_group(self.unit.id, &preferred)
            .unwrap_or_default()
    }

    fn deps(&self, property: &str) -> Option<Value> {
        Some(vas(self
            .unit
            .dependency_names(self.engine, property)
            .into_iter()
            .map(str::to_owned)))
    }
}

/// `Triggers`: the unit a timer starts, or the service an `Accept=no` socket activates.
fn triggers(c: &UnitCtx<'_>) -> Vec<String> {
    let spec = &c.unit.loaded.spec.kind;
    let name = match spec {
        KindSpec::Timer(t) => t.unit.clone(),
        KindSpec::Socket(s) if !s.accept => s.service.clone(),
        _ => None,
    };
    name.into_iter().collect()
}

/// `TriggeredBy`: the timers and `Accept=no` sockets that start this unit.
fn triggered_by(c: &UnitCtx<'_>) -> Vec<String> {
    c.engine
        .triggered_by(c.unit)
        .into_iter()
        .map(|t| c.engine.unit(t).name().to_owned())
        .collect()
}

/// The type of `unit`, from its name.
pub fn unit_type(unit: &Unit) -> Option<UnitType> {
    UnitName::new(unit.name()).ok().map(|n| n.unit_type())
}

/// The type-specific interface of `unit` (`org.freedesktop.systemd1.Service`, …).
pub fn type_interface(unit: &Unit) -> &'static str {
    target_object::interface_for(unit_type(unit).unwrap_or(UnitType::Service))
}

/// The description of `unit`'s type interface.
pub fn type_interface_desc(unit: &Unit) -> InterfaceDesc {
    match unit_type(unit) {
        Some(UnitType::Service) | None => super::service_object::interface(),
        Some(UnitType::Scope) => super::scope_object::interface(),
        Some(UnitType::Slice) => super::slice_object::interface(),
        Some(UnitType::Socket) => super::socket_object::interface(),
        Some(UnitType::Timer) => super::timer_object::interface(),
        Some(UnitType::Mount) => super::mount_object::interface(),
        Some(t) => target_object::type_interface(t),
    }
}

/// Whether unitd can run jobs for this kind of unit (services, targets, timers, mounts, scopes,
/// slices).
fn supported_kind(unit: &Unit) -> bool {
    matches!(
        unit.loaded.spec.kind,
        KindSpec::Service(_) | KindSpec::Target | KindSpec::Timer(_) | KindSpec::Mount(_)
    ) || unit.is_scope()
        || unit.is_slice()
}

/// The `Slice` property: `Slice=` if set, else the slice systemd places the unit in.
pub fn slice_of(c: &UnitCtx<'_>) -> String {
    match &c.unit.loaded.spec.slice {
        Some(s) => s.clone(),
        None => crate::runtime::builtin::default_slice(c.unit.name(), c.settings.scope),
    }
}

/// `CanStart`: loaded, of a kind unitd runs, not `RefuseManualStart=`.
pub fn can_start(unit: &Unit) -> bool {
    unit.loaded.load_state == LoadState::Loaded
        && supported_kind(unit)
        && !unit.loaded.spec.refuse_manual_start
}

/// `CanStop`: of a kind unitd runs, not `RefuseManualStop=` (like systemd, independent of the
/// load state).
pub fn can_stop(unit: &Unit) -> bool {
    supported_kind(unit) && !unit.loaded.spec.refuse_manual_stop
}

/// `CanReload`: a loaded service with `ExecReload=` (or `Type=notify-reload`).
pub fn can_reload(unit: &Unit) -> bool {
    if unit.loaded.load_state != LoadState::Loaded {
        return false;
    }
    match &unit.loaded.spec.kind {
        KindSpec::Service(s) => {
            !s.exec_reload.is_empty() || s.service_type == ServiceType::NotifyReload
        }
        _ => false,
    }
}

/// `CanIsolate`: startable and `AllowIsolate=yes`.
pub fn can_isolate(unit: &Unit) -> bool {
    can_start(unit) && unit.loaded.spec.allow_isolate
}

type Getter = fn(&UnitCtx<'_>) -> Option<Value>;

/// The Unit interface's properties, in man-page order.
pub static PROPS: &[PropDesc<Getter>] = &[
    prop!("Id", "s", Const, |c| Some(vs(c.unit.name()))),
    prop!("Names", "as", Const, |c| {
        let l = &c.unit.loaded;
        Some(vas(
            std::iter::once(l.name.clone()).chain(l.aliases.iter().cloned())
        ))
    }),
    prop!("Following", "s", False, |_| Some(vs(""))),
    prop!("Requires", "as", Const, |c| c.deps("Requires")),
    prop!("Requisite", "as", Const, |c| c.deps("Requisite")),
    prop!("Wants", "as", Const, |c| c.deps("Wants")),
    prop!("BindsTo", "as", Const, |c| c.deps("BindsTo")),
    prop!("PartOf", "as", Const, |c| c.deps("PartOf")),
    prop!("Upholds", "as", Const, |c| c.deps("Upholds")),
    prop!("RequiredBy", "as", Const, |c| c.deps("RequiredBy")),
    prop!("RequisiteOf", "as", Const, |c| c.deps("RequisiteOf")),
    prop!("WantedBy", "as", Const, |c| c.deps("WantedBy")),
    prop!("BoundBy", "as", Const, |c| c.deps("BoundBy")),
    prop!("UpheldBy", "as", Const, |c| c.deps("UpheldBy")),
    prop!("ConsistsOf", "as", Const, |c| c.deps("ConsistsOf")),
    prop!("Conflicts", "as", Const, |c| c.deps("Conflicts")),
    prop!("ConflictedBy", "as", Const, |c| c.deps("ConflictedBy")),
    prop!("Before", "as", Const, |c| c.deps("Before")),
    prop!("After", "as", Const, |c| c.deps("After")),
    prop!("OnSuccess", "as", Const, |c| c.deps("OnSuccess")),
    prop!("OnSuccessOf", "as", Const, |c| c.deps("OnSuccessOf")),
    prop!("OnFailure", "as", Const, |c| c.deps("OnFailure")),
    prop!("OnFailureOf", "as", Const, |c| c.deps("OnFailureOf")),
    prop!("Triggers", "as", Const, |c| Some(vas(triggers(c)))),
    prop!("TriggeredBy", "as", Const, |c| Some(vas(triggered_by(c)))),
    prop!("PropagatesReloadTo", "as", Const, |c| c
        .deps("PropagatesReloadTo")),
    prop!("ReloadPropagatedFrom", "as", Const, |c| c
        .deps("ReloadPropagatedFrom")),
    prop!("PropagatesStopTo", "as", Const, |c| c
        .deps("PropagatesStopTo")),
    prop!("StopPropagatedFrom", "as", Const, |c| c
        .deps("StopPropagatedFrom")),
    prop!("JoinsNamespaceOf", "as", Const, |c| c
        .deps("JoinsNamespaceOf")),
    prop!("Documentation", "as", Const, |c| {
        Some(vas(c.unit.loaded.spec.documentation.iter().cloned()))
    }),
    prop!("Description", "s", Const, |c| Some(vs(c
        .unit
        .description()))),
    prop!("LoadState", "s", Const, |c| Some(vs(c
        .unit
        .loaded
        .load_state
        .as_str()))),
    prop!("ActiveState", "s", True, |c| Some(vs(c
        .unit
        .active_state
        .as_str()))),
    prop!("FreezerState", "s", True, |_| Some(vs("running"))),
    prop!("SubState", "s", True, |c| Some(vs(c.unit.sub_state()))),
    prop!("FragmentPath", "s", Const, |c| {
        Some(vstring(
            c.unit
                .loaded
                .fragment_path
                .as_ref()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ))
    }),
    prop!("SourcePath", "s", Const, |_| Some(vs(""))),
    prop!("DropInPaths", "as", Const, |c| {
        Some(vas(c
            .unit
            .loaded
            .dropin_paths
            .iter()
            .map(|p| p.to_string_lossy().into_owned())))
    }),
    prop!("UnitFileState", "s", False, |c| {
        Some(vs(unit_file_state(c.settings, &c.unit.loaded)))
    }),
    prop!("UnitFilePreset", "s", False, |c| {
        Some(vs(if c.unit.loaded.fragment_path.is_some() {
            c.presets
                .get_or_init(|| Presets::load(c.settings))
                .query(c.unit.name())
        } else {
            ""
        }))
    }),
    prop!("StateChangeTimestamp", "t", True, |c| Some(vt(c
        .unit
        .timestamps
        .state_change
        .realtime))),
    prop!("StateChangeTimestampMonotonic", "t", True, |c| {
        Some(vt(c.unit.timestamps.state_change.monotonic))
    }),
    prop!("InactiveExitTimestamp", "t", True, |c| Some(vt(c
        .unit
        .timestamps
        .inactive_exit
        .realtime))),
    prop!("InactiveExitTimestampMonotonic", "t", True, |c| {
        Some(vt(c.unit.timestamps.inactive_exit.monotonic))
    }),
    prop!("ActiveEnterTimestamp", "t", True, |c| Some(vt(c
        .unit
        .timestamps
        .active_enter
        .realtime))),
    prop!("ActiveEnterTimestampMonotonic", "t", True, |c| {
        Some(vt(c.unit.timestamps.active_enter.monotonic))
    }),
    prop!("ActiveExitTimestamp", "t", True, |c| Some(vt(c
        .unit
        .timestamps
        .active_exit
        .realtime))),
    prop!("ActiveExitTimestampMonotonic", "t", True, |c| {
        Some(vt(c.unit.timestamps.active_exit.monotonic))
    }),
    prop!("InactiveEnterTimestamp", "t", True, |c| Some(vt(c
        .unit
        .timestamps
        .inactive_enter
        .realtime))),
    prop!("InactiveEnterTimestampMonotonic", "t", True, |c| {
        Some(vt(c.unit.timestamps.inactive_enter.monotonic))
    }),
    prop!("CanStart", "b", Const, |c| Some(vb(can_start(c.unit)))),
    prop!("CanStop", "b", Const, |c| Some(vb(can_stop(c.unit)))),
    prop!("CanReload", "b", Const, |c| Some(vb(can_reload(c.unit)))),
    prop!("CanIsolate", "b", Const, |c| Some(vb(can_isolate(c.unit)))),
    prop!("CanClean", "as", Const, |_| Some(vas(Vec::<String>::new()))),
    prop!("CanFreeze", "b", Const, |_| Some(vb(false))),
    prop!("Job", "(uo)", True, |c| Some(job_value(c.engine, c.unit))),
    prop!("StopWhenUnneeded", "b", Const, |c| Some(vb(c
        .unit
        .loaded
        .spec
        .stop_when_unneeded))),
    prop!("RefuseManualStart", "b", Const, |c| Some(vb(c
        .unit
        .loaded
        .spec
        .refuse_manual_start))),
    prop!("RefuseManualStop", "b", Const, |c| Some(vb(c
        .unit
        .loaded
        .spec
        .refuse_manual_stop))),
    prop!("AllowIsolate", "b", Const, |c| Some(vb(c
        .unit
        .loaded
        .spec
        .allow_isolate))),
    prop!("DefaultDependencies", "b", Const, |c| {
        Some(vb(c.unit.loaded.spec.default_dependencies))
    }),
    prop!("OnFailureJobMode", "s", Const, |c| Some(vs(&c
        .unit
        .loaded
        .spec
        .on_failure_job_mode))),
    prop!("IgnoreOnIsolate", "b", Const, |c| Some(vb(c
        .unit
        .loaded
        .spec
        .ignore_on_isolate))),
    prop!("NeedDaemonReload", "b", False, |_| Some(vb(false))),
    prop!("JobTimeoutUSec", "t", Const, |c| Some(vt(c
        .unit
        .loaded
        .spec
        .job_timeout_usec))),
    prop!("ConditionResult", "b", True, |c| Some(vb(c
        .unit
        .condition_result))),
    prop!("AssertResult", "b", True, |c| Some(vb(c
        .unit
        .assert_result))),
    prop!("ConditionTimestamp", "t", True, |c| Some(vt(c
        .unit
        .timestamps
        .condition
        .realtime))),
    prop!("ConditionTimestampMonotonic", "t", True, |c| {
        Some(vt(c.unit.timestamps.condition.monotonic))
    }),
    prop!("AssertTimestamp", "t", True, |c| Some(vt(c
        .unit
        .timestamps
        .assert
        .realtime))),
    prop!("AssertTimestampMonotonic", "t", True, |c| Some(vt(c
        .unit
        .timestamps
        .assert
        .monotonic))),
    prop!("Conditions", "a(sbbsi)", Invalidates, |c| Some(
        checks_value(
            "Condition",
            &c.unit.loaded.spec.conditions,
            &c.unit.condition_states
        )
    )),
    prop!("Asserts", "a(sbbsi)", Invalidates, |c| Some(checks_value(
        "Assert",
        &c.unit.loaded.spec.asserts,
        &c.unit.assert_states
    ))),
    prop!("LoadError", "(ss)", Const, |c| {
        let (n, m) = c.unit.loaded.load_error.clone().unwrap_or_default();
        Some(Variant::from((n, m)))
    }),
    prop!("Transient", "b", Const, |_| Some(vb(false))),
    prop!("StartLimitIntervalUSec", "t", Const, |c| {
        Some(vt(c.unit.loaded.spec.start_limit_interval_usec))
    }),
    prop!("StartLimitBurst", "u", Const, |c| Some(vu(c
        .unit
        .loaded
        .spec
        .start_limit_burst))),
    prop!("InvocationID", "ay", True, |c| {
        let id = c.unit.invocation_id;
        Some(vay(if id.iter().all(|b| *b == 0) {
            Vec::new()
        } else {
            id.to_vec()
        }))
    }),
    prop!("CollectMode", "s", Const, |c| {
        Some(vs(if c.unit.loaded.spec.collect_inactive_or_failed {
            "inactive-or-failed"
        } else {
            "inactive"
        }))
    }),
    prop!("ActivationDetails", "a(ss)", True, |_| {
        Some(Variant::from(Vec::<(String, String)>::new()))
    }),
];

/// `Job (uo)`: the installed job, or `(0, "/")`.
/// The `Conditions`/`Asserts` value: per check `(name, trigger, negate, parameter, state)`,
/// where state is 0 before the first evaluation, 1 if the check held and -1 if it did not
/// (what `systemctl status` prints the "start condition failed" lines from). systemd keeps
/// its condition list newest first (each setting is prepended) and `systemctl` prepends again
/// while reading, so the list goes out in reverse file order and status prints file order.
fn checks_value(prefix: &str, checks: &[crate::spec::Condition], states: &[i32]) -> Value {
    let items: Vec<(String, bool, bool, String, i32)> = checks
        .iter()
        .enumerate()
        .rev()
        .map(|(i, c)| {
            (
                format!("{prefix}{}", c.kind),
                c.trigger,
                c.negate,
                c.parameter.clone(),
                states.get(i).copied().unwrap_or(0),
            )
        })
        .collect();
    Variant::from(items)
}

pub fn job_value(engine: &Engine, unit: &Unit) -> Value {
    match unit.job.filter(|j| engine.job(*j).is_some()) {
        Some(j) => Variant::from((j, opath(job_path(j)))),
        None => Variant::from((0u32, opath("/".into()))),
    }
}

/// The interface description.
pub fn interface() -> InterfaceDesc {
    InterfaceDesc {
        name: INTERFACE,
        methods: METHODS,
        signals: &[],
        properties: infos(PROPS),
    }
}

/// `Ref()`/`RefUnit()` and `Unref()`/`UnrefUnit()`.
pub(crate) fn ref_or_unref(
    f: &mut SystemdFacade,
    mgr: &mut Manager,
    call: &Call<'_>,
    unit: UnitId,
    add: bool,
) -> CallResult<Message> {
    let peer = call.peer();
    if add {
        f.add_ref(mgr, peer, unit);
    } else if !f.drop_ref(mgr, &peer, unit) {
        return Err(not_referenced());
    }
    call.reply_empty()
}

/// Run a Unit method (signature already checked).
pub(crate) fn handle(
    f: &mut SystemdFacade,
    mgr: &mut Manager,
    unit: UnitId,
    call: &Call<'_>,
) -> CallResult<Message> {
    let name = mgr.engine().unit(unit).name().to_owned();
    let member = call.member.as_str();
    match member {
        "Start" | "Stop" | "Reload" | "Restart" | "TryRestart" | "ReloadOrRestart"
        | "ReloadOrTryRestart" => {
            let mode: String = call.args()?;
            enqueue_job(mgr, call, member, &name, &mode)
        }
        "Kill" => {
            let (whom, signal): (String, i32) = call.args()?;
            let whom = parse_whom(&whom)?;
            check_signal(signal)?;
            mgr.kill_unit(&name, whom, signal)?;
            call.reply_empty()
        }
        "ResetFailed" => {
            mgr.reset_failed(Some(&name))?;
            call.reply_empty()
        }
        "SetProperties" => {
            let (runtime, props): (bool, Vec<(String, zbus::OwnedVariant)>) = call.args()?;
            super::set_properties::set_properties(mgr, unit, runtime, &props, call)
        }
        "Ref" | "Unref" => ref_or_unref(f, mgr, call, unit, member == "Ref"),
        // Declared on the Service and Scope interfaces only; dispatch checked that.
        "GetProcesses" => call.reply(&(super::manager::unit_processes(mgr, unit),)),
        other => Err(CallError::unknown_method(other, INTERFACE)),
    }
}
