//! `org.freedesktop.systemd1.Scope` on scope unit objects: the scope's result and the fixed
//! stop behaviour the engine applies (SIGTERM to every process, SIGKILL after the stop
//! timeout). Resource accounting is not implemented: the counters report systemd's "unset"
//! value (`UINT64_MAX`). `ControlGroup` is the cgroup the scope's processes actually live in
//! (empty without processes) and `GetProcesses()` lists them. `Abandon()` leaves the processes
//! running and the scope `abandoned` until they are gone. Settings unitd does not implement
//! (cgroup limits, `AttachProcesses()` on the scope object) are not declared.

use super::errors::{CallError, CallResult};
use super::introspect::{InterfaceDesc, MethodDesc, infos, method};
use super::properties::{PropDesc, Value, prop, vb, vi, vs, vstring, vt};
use super::unit_object::UnitCtx;

/// Interface name.
pub const INTERFACE: &str = "org.freedesktop.systemd1.Scope";

const UNSET: u64 = u64::MAX;

/// What scope property getters read.
#[derive(Clone, Copy)]
pub struct ScopeCtx<'a> {
    /// The unit part.
    pub unit: UnitCtx<'a>,
}

impl<'a> ScopeCtx<'a> {
    /// The scope view of a unit, if it is a scope.
    pub fn new(unit: UnitCtx<'a>) -> Option<ScopeCtx<'a>> {
        unit.unit.is_scope().then_some(ScopeCtx { unit })
    }
}

/// Methods unitd implements: `Abandon()` and `GetProcesses()` (the unit's processes, like
/// `GetUnitProcesses`).
pub static METHODS: &[MethodDesc] = &[
    method!("Abandon", [], []),
    method!("GetProcesses", [], [("a(sus)", "processes")]),
];

/// `org.freedesktop.systemd1.ScopeNotRunning`.
pub const SCOPE_NOT_RUNNING: &str = "org.freedesktop.systemd1.ScopeNotRunning";

/// Run a Scope method (signature already checked).
pub(crate) fn handle(
    mgr: &mut crate::runtime::Manager,
    unit: crate::engine::UnitId,
    call: &super::dispatch::Call<'_>,
) -> CallResult<zbus::Message> {
    match call.member.as_str() {
        "Abandon" => {
            if !mgr.abandon_scope(unit) {
                let name = mgr.engine().unit(unit).name().to_owned();
                return Err(CallError::new(
                    SCOPE_NOT_RUNNING,
                    format!("Scope {name} is not running, cannot abandon."),
                ));
            }
            call.reply_empty()
        }
        "GetProcesses" => call.reply(&(super::manager::unit_processes(mgr, unit),)),
        other => Err(CallError::unknown_method(other, INTERFACE)),
    }
}

type Getter = fn(&ScopeCtx<'_>) -> Option<Value>;

/// The properties, in systemd's order.
pub static PROPS: &[PropDesc<Getter>] = &[
    prop!("Controller", "s", True, |_| Some(vs(""))),
    prop!("TimeoutStopUSec", "t", Const, |_| Some(vt(
        crate::engine::SCOPE_STOP_TIMEOUT_USEC
    ))),
    prop!("Result", "s", True, |c| Some(vs(c
        .unit
        .unit
        .scope
        .result
        .as_str()))),
    prop!("RuntimeMaxUSec", "t", Const, |_| Some(vt(UNSET))),
    prop!("RuntimeRandomizedExtraUSec", "t", Const, |_| Some(vt(0))),
    prop!("Slice", "s", False, |c| Some(vs(
        &super::unit_object::slice_of(&c.unit)
    ))),
    prop!("ControlGroup", "s", False, |c| Some(vstring(
        c.unit.control_group()
    ))),
    prop!("MemoryCurrent", "t", False, |_| Some(vt(UNSET))),
    prop!("CPUUsageNSec", "t", False, |_| Some(vt(UNSET))),
    prop!("TasksCurrent", "t", False, |_| Some(vt(UNSET))),
    prop!("IPIngressBytes", "t", False, |_| Some(vt(UNSET))),
    prop!("IPIngressPackets", "t", False, |_| Some(vt(UNSET))),
    prop!("IPEgressBytes", "t", False, |_| Some(vt(UNSET))),
    prop!("IPEgressPackets", "t", False, |_| Some(vt(UNSET))),
    prop!("IOReadBytes", "t", False, |_| Some(vt(UNSET))),
    prop!("IOReadOperations", "t", False, |_| Some(vt(UNSET))),
    prop!("IOWriteBytes", "t", False, |_| Some(vt(UNSET))),
    prop!("IOWriteOperations", "t", False, |_| Some(vt(UNSET))),
    prop!("Delegate", "b", False, |c| Some(vb(c
        .unit
        .unit
        .loaded
        .spec
        .delegate))),
    prop!("KillMode", "s", Const, |_| Some(vs("control-group"))),
    prop!("KillSignal", "i", Const, |_| Some(vi(15))),
    prop!("RestartKillSignal", "i", Const, |_| Some(vi(15))),
    prop!("FinalKillSignal", "i", Const, |_| Some(vi(9))),
    prop!("SendSIGKILL", "b", Const, |_| Some(vb(true))),
    prop!("SendSIGHUP", "b", Const, |_| Some(vb(false))),
    prop!("WatchdogSignal", "i", Const, |_| Some(vi(6))),
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
