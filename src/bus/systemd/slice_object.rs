//! `org.freedesktop.systemd1.Slice` on slice unit objects: the parent slice. A slice has no
//! processes of its own in unitd and there are no control groups, so `ControlGroup` is empty
//! and the resource counters report systemd's "unset" value (`UINT64_MAX`); cgroup limits and
//! `GetProcesses()`/`AttachProcesses()` are not declared.

use super::introspect::{InterfaceDesc, infos};
use super::properties::{PropDesc, Value, prop, vs, vt};
use super::unit_object::UnitCtx;

/// Interface name.
pub const INTERFACE: &str = "org.freedesktop.systemd1.Slice";

const UNSET: u64 = u64::MAX;

/// What slice property getters read.
#[derive(Clone, Copy)]
pub struct SliceCtx<'a> {
    /// The unit part.
    pub unit: UnitCtx<'a>,
}

impl<'a> SliceCtx<'a> {
    /// The slice view of a unit, if it is a slice.
    pub fn new(unit: UnitCtx<'a>) -> Option<SliceCtx<'a>> {
        unit.unit.is_slice().then_some(SliceCtx { unit })
    }
}

type Getter = fn(&SliceCtx<'_>) -> Option<Value>;

/// The properties, in systemd's order.
pub static PROPS: &[PropDesc<Getter>] = &[
    prop!("Slice", "s", False, |c| Some(vs(
        &super::unit_object::slice_of(&c.unit)
    ))),
    prop!("ControlGroup", "s", False, |_| Some(vs(""))),
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
];

/// The interface description.
pub fn interface() -> InterfaceDesc {
    InterfaceDesc {
        name: INTERFACE,
        methods: &[],
        signals: &[],
        properties: infos(PROPS),
    }
}
