//! `org.freedesktop.systemd1.Timer` on timer unit objects, with systemd 252's members: the
//! `[Timer]` settings (`Unit`, `TimersMonotonic`, `TimersCalendar`, accuracy, random delay,
//! `Persistent`, `WakeSystem`, `RemainAfterElapse`, `OnClockChange`, `OnTimezoneChange`) and
//! the engine's runtime values (`NextElapseUSecRealtime`, `NextElapseUSecMonotonic`,
//! `LastTriggerUSec*`, `Result`). `systemctl list-timers` and the `Trigger:` line of
//! `systemctl status x.timer` read the next elapses from here.

use zbus::Variant;

use crate::engine::TimerRuntime;
use crate::spec::{KindSpec, TimerSpec, USEC_INFINITY};

use super::introspect::{InterfaceDesc, infos};
use super::properties::{PropDesc, Value, prop, vb, vs, vt};
use super::unit_object::UnitCtx;

/// Interface name.
pub const INTERFACE: &str = "org.freedesktop.systemd1.Timer";

/// What timer property getters read.
#[derive(Clone, Copy)]
pub struct TimerCtx<'a> {
    /// The unit part.
    pub unit: UnitCtx<'a>,
    /// The `[Timer]` settings.
    pub spec: &'a TimerSpec,
}

impl<'a> TimerCtx<'a> {
    /// The timer view of a unit, if it is a loaded timer.
    pub fn new(unit: UnitCtx<'a>) -> Option<TimerCtx<'a>> {
        match &unit.unit.loaded.spec.kind {
            KindSpec::Timer(spec) => Some(TimerCtx { unit, spec }),
            _ => None,
        }
    }

    fn rt(&self) -> &'a TimerRuntime {
        &self.unit.unit.timer
    }

    /// A next elapse as systemd shows it: the value while waiting (0 for a clock without a
    /// value), infinity in every other state.
    fn next_elapse(&self, v: u64) -> u64 {
        if self.rt().state == crate::engine::TimerState::Waiting {
            v
        } else {
            USEC_INFINITY
        }
    }

    /// A per-value next elapse as systemd shows it (0 when not armed).
    fn shown(v: Option<&u64>) -> u64 {
        match v {
            Some(&v) if v != USEC_INFINITY => v,
            _ => 0,
        }
    }
}

type Getter = fn(&TimerCtx<'_>) -> Option<Value>;

/// The properties, in systemd's order.
pub static PROPS: &[PropDesc<Getter>] = &[
    prop!("Unit", "s", Const, |c| Some(vs(c
        .spec
        .unit
        .as_deref()
        .unwrap_or("")))),
    prop!("TimersMonotonic", "a(stt)", Invalidates, |c| {
        let v: Vec<(String, u64, u64)> = c
            .spec
            .monotonic
            .iter()
            .enumerate()
            .map(|(i, (base, usec))| {
                (
                    base.usec_name().to_owned(),
                    *usec,
                    TimerCtx::shown(c.rt().monotonic_next.get(i)),
                )
            })
            .collect();
        Some(Variant::from(v))
    }),
    prop!("TimersCalendar", "a(sst)", Invalidates, |c| {
        let v: Vec<(String, String, u64)> = c
            .spec
            .calendar
            .iter()
            .enumerate()
            .map(|(i, cal)| {
                (
                    "OnCalendar".to_owned(),
                    cal.to_normalized(),
                    TimerCtx::shown(c.rt().calendar_next.get(i)),
                )
            })
            .collect();
        Some(Variant::from(v))
    }),
    prop!("OnClockChange", "b", Const, |c| Some(vb(c
        .spec
        .on_clock_change))),
    prop!("OnTimezoneChange", "b", Const, |c| Some(vb(c
        .spec
        .on_timezone_change))),
    prop!("NextElapseUSecRealtime", "t", True, |c| Some(vt(
        c.next_elapse(c.rt().next_elapse_realtime)
    ))),
    prop!("NextElapseUSecMonotonic", "t", True, |c| Some(vt(
        c.next_elapse(c.rt().next_elapse_monotonic)
    ))),
    prop!("LastTriggerUSec", "t", True, |c| Some(vt(c
        .rt()
        .last_trigger
        .realtime))),
    prop!("LastTriggerUSecMonotonic", "t", True, |c| Some(vt(c
        .rt()
        .last_trigger
        .monotonic))),
    prop!("Result", "s", True, |c| Some(vs(c.rt().result.as_str()))),
    prop!("AccuracyUSec", "t", Const, |c| Some(vt(c
        .spec
        .accuracy_usec))),
    prop!("RandomizedDelayUSec", "t", Const, |c| Some(vt(c
        .spec
        .randomized_delay_usec))),
    prop!("FixedRandomDelay", "b", Const, |c| Some(vb(c
        .spec
        .fixed_random_delay))),
    prop!("Persistent", "b", Const, |c| Some(vb(c.spec.persistent))),
    prop!("WakeSystem", "b", Const, |c| Some(vb(c.spec.wake_system))),
    prop!("RemainAfterElapse", "b", Const, |c| Some(vb(c
        .spec
        .remain_after_elapse))),
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
