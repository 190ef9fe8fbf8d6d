//! `org.freedesktop.systemd1.Mount` on mount unit objects, with systemd 252's members for the
//! `[Mount]` settings (`Where`, `What`, `Options`, `Type`, `TimeoutUSec`, `DirectoryMode`,
//! `SloppyOptions`, `LazyUnmount`, `ForceUnmount`, `ReadWriteOnly`) and the engine's runtime
//! values (`ControlPID`, `Result`, `ExecMount`/`ExecUnmount` with the last `mount`/`umount`
//! run). `systemctl status foo.mount` reads `Where`/`What` for its `Where:`/`What:` lines.
//!
//! Settings unitd does not implement for mounts (execution, kill and resource-control
//! settings, `GetProcesses`/`AttachProcesses`) are not declared. `ExecRemount` is declared and
//! always empty: unitd never remounts. `UID`/`GID` are those of a dynamic user, which mount
//! units never have here (`4294967295`, as systemd shows "none").

use zbus::Variant;

use crate::engine::{ExecRun, MountRuntime};
use crate::spec::{KindSpec, MountSpec};

use super::introspect::{InterfaceDesc, infos};
use super::properties::{PropDesc, Value, prop, vb, vs, vt, vu};
use super::service_object::{ExecTuple, exec_tuple};
use super::unit_object::UnitCtx;

/// Interface name.
pub const INTERFACE: &str = "org.freedesktop.systemd1.Mount";

/// What mount property getters read.
#[derive(Clone, Copy)]
pub struct MountCtx<'a> {
    /// The unit part.
    pub unit: UnitCtx<'a>,
    /// The `[Mount]` settings.
    pub spec: &'a MountSpec,
}

impl<'a> MountCtx<'a> {
    /// The mount view of a unit, if it is a loaded mount.
    pub fn new(unit: UnitCtx<'a>) -> Option<MountCtx<'a>> {
        match &unit.unit.loaded.spec.kind {
            KindSpec::Mount(spec) => Some(MountCtx { unit, spec }),
            _ => None,
        }
    }

    fn rt(&self) -> &'a MountRuntime {
        &self.unit.unit.mount
    }

    /// `a(sasbttttuii)` of one command run (empty before the first run).
    fn exec(run: Option<&(Vec<String>, ExecRun)>) -> Option<Value> {
        let v: Vec<ExecTuple> = run
            .map(|(argv, r)| exec_tuple(&argv[0], argv, false, r))
            .into_iter()
            .collect();
        Some(Variant::from(v))
    }
}

type Getter = fn(&MountCtx<'_>) -> Option<Value>;

/// The properties, in systemd's order.
pub static PROPS: &[PropDesc<Getter>] = &[
    prop!("Where", "s", Const, |c| Some(vs(&c.spec.where_))),
    prop!("What", "s", True, |c| Some(vs(&c.spec.what))),
    prop!("Options", "s", True, |c| Some(vs(&c.spec.options))),
    prop!("Type", "s", True, |c| Some(vs(&c.spec.fstype))),
    prop!("TimeoutUSec", "t", Const, |c| Some(vt(c.spec.timeout_usec))),
    prop!("ControlPID", "u", True, |c| Some(vu(c
        .rt()
        .control_pid
        .unwrap_or(0)))),
    prop!("DirectoryMode", "u", Const, |c| Some(vu(c
        .spec
        .directory_mode))),
    prop!("SloppyOptions", "b", Const, |c| Some(vb(c
        .spec
        .sloppy_options))),
    prop!("LazyUnmount", "b", Const, |c| Some(vb(c.spec.lazy_unmount))),
    prop!("ForceUnmount", "b", Const, |c| Some(vb(c
        .spec
        .force_unmount))),
    prop!("ReadWriteOnly", "b", Const, |c| Some(vb(c
        .spec
        .read_write_only))),
    prop!("Result", "s", True, |c| Some(vs(c.rt().result.as_str()))),
    prop!("UID", "u", True, |_| Some(vu(u32::MAX))),
    prop!("GID", "u", True, |_| Some(vu(u32::MAX))),
    prop!("ExecMount", "a(sasbttttuii)", Invalidates, |c| {
        MountCtx::exec(c.rt().exec_mount.as_ref())
    }),
    prop!("ExecUnmount", "a(sasbttttuii)", Invalidates, |c| {
        MountCtx::exec(c.rt().exec_unmount.as_ref())
    }),
    prop!("ExecRemount", "a(sasbttttuii)", Invalidates, |_| {
        MountCtx::exec(None)
    }),
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
