//! The timer unit state machine (systemd's `timer.c`): a timer is `waiting` while armed,
//! `running` from the moment it queued a start job for the unit it triggers until that unit
//! goes down again, `elapsed` once none of its values can elapse any more
//! (`RemainAfterElapse=yes`), `dead` when stopped and `failed` when triggering failed.
//!
//! Time comes in from outside like everything else: monotonic values (`OnActiveSec=` & co.)
//! are deadlines on the engine's one timer queue; calendar values (`OnCalendar=`) are wall-clock
//! deadlines evaluated with the caller-supplied [`ZoneOffsets`] and mapped to a monotonic
//! wake-up, re-checked against the wall clock when it fires. `Persistent=` stamps live in the
//! runtime ([`Effect::ReadTimerStamp`], [`Effect::TouchTimerStamp`]).

use serde::{Deserialize, Serialize};

use crate::spec::calendar::ZoneOffsets;
use crate::spec::{KindSpec, TimerBase, TimerSpec, USEC_INFINITY};

use super::Engine;
use super::io::Effect;
use super::job::Outcome;
use super::service::TimerKind;
use super::types::{ActiveState, JobMode, JobResult, JobType, Timestamp, UnitId};

/// Timer sub-states (systemd 252's `timer_state_table`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimerState {
    #[default]
    Dead,
    Waiting,
    Running,
    Elapsed,
    Failed,
}

impl TimerState {
    /// The systemd SubState string.
    pub fn as_str(self) -> &'static str {
        match self {
            TimerState::Dead => "dead",
            TimerState::Waiting => "waiting",
            TimerState::Running => "running",
            TimerState::Elapsed => "elapsed",
            TimerState::Failed => "failed",
        }
    }
}

/// Timer `Result`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimerResult {
    #[default]
    Success,
    Resources,
}

impl TimerResult {
    /// The systemd string.
    pub fn as_str(self) -> &'static str {
        match self {
            TimerResult::Success => "success",
            TimerResult::Resources => "resources",
        }
    }
}

/// Timer-specific runtime state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TimerRuntime {
    pub state: TimerState,
    pub result: TimerResult,
    /// `NextElapseUSecRealtime`: the next calendar elapse (µs since the epoch; 0 = none).
    pub next_elapse_realtime: u64,
    /// `NextElapseUSecMonotonic`: the next monotonic elapse (µs; 0 = none).
    pub next_elapse_monotonic: u64,
    /// `LastTriggerUSec` / `LastTriggerUSecMonotonic` (zero = never).
    pub last_trigger: Timestamp,
    /// Per `On*Sec=` value (parallel to the spec's list): next elapse (monotonic µs,
    /// `USEC_INFINITY` = not armed) — the `TimersMonotonic` property.
    pub monotonic_next: Vec<u64>,
    /// Per `OnCalendar=` value: next elapse (realtime µs, `USEC_INFINITY` = never) — the
    /// `TimersCalendar` property.
    pub calendar_next: Vec<u64>,
    /// Per `On*Sec=` value: one-shot values that already elapsed.
    pub(crate) disabled: Vec<bool>,
    /// The armed wake-up on the engine's timer queue (monotonic µs).
    pub(crate) armed: Option<u64>,
    /// A `Persistent=` start waits for its stamp.
    pub(crate) awaiting_stamp: bool,
}

impl Engine {
    fn timer_spec(&self, id: UnitId) -> Option<&TimerSpec> {
        match &self.u(id).loaded.spec.kind {
            KindSpec::Timer(t) => Some(t),
            _ => None,
        }
    }

    /// The unit a timer triggers (`Unit=` or the service of the timer's name), if known.
    pub fn timer_target(&self, id: UnitId) -> Option<UnitId> {
        let name = self.timer_spec(id)?.unit.clone()?;
        self.lookup(&name)
    }

    /// Supply the UTC offsets of local time (and named zones) for `OnCalendar=`; the engine
    /// uses UTC until this is called.
    pub fn set_zone_offsets(&mut self, zones: Box<dyn ZoneOffsets + Send>) {
        self.zones = zones;
    }

    /// The bases of `OnBootSec=` and `OnStartupSec=` (monotonic µs): when the system booted
    /// (0 outside a container; the manager's start inside one, as systemd counts) and when
    /// the manager started.
    pub fn set_timer_bases(&mut self, boot: u64, startup: Timestamp) {
        self.timer_boot_base = boot;
        self.startup = startup;
    }

    fn set_timer_state(&mut self, id: UnitId, st: TimerState) {
        self.um(id).timer.state = st;
        self.mark_dirty(id);
    }

    fn timer_disarm(&mut self, id: UnitId) {
        if let Some(at) = self.um(id).timer.armed.take() {
            self.timers.remove(&(at, id, TimerKind::TimerElapse));
        }
    }

    fn timer_arm(&mut self, id: UnitId, at: u64) {
        self.timer_disarm(id);
        self.timers.insert((at, id, TimerKind::TimerElapse));
        self.um(id).timer.armed = Some(at);
    }

    /// Start job (systemd's `timer_start`).
    pub(crate) fn timer_start(&mut self, id: UnitId) -> Outcome {
        if matches!(
            self.u(id).timer.state,
            TimerState::Waiting | TimerState::Running | TimerState::Elapsed
        ) {
            return Outcome::Already;
        }
        let Some(spec) = self.timer_spec(id).cloned() else {
            return Outcome::Finish(JobResult::Unsupported);
        };
        let target = self.timer_target(id);
        let target_loaded =
            target.is_some_and(|t| self.u(t).loaded.load_state == crate::spec::LoadState::Loaded);
        if !target_loaded {
            tracing::warn!(
                unit = self.u(id).name(),
                "Refusing to start, unit {} to trigger not loaded.",
                spec.unit.as_deref().unwrap_or("")
            );
            return Outcome::Finish(JobResult::Failed);
        }
        let inv = self.new_invocation_id();
        let n_mono = spec.monotonic.len();
        {
            let u = self.um(id);
            u.invocation_id = inv;
            let t = &mut u.timer;
            t.result = TimerResult::Success;
            t.last_trigger = Timestamp::NEVER;
            t.disabled.resize(n_mono, false);
            for (d, (base, _)) in t.disabled.iter_mut().zip(&spec.monotonic) {
                if *base == TimerBase::Active {
                    *d = false;
                }
            }
        }
        if spec.persistent {
            self.um(id).timer.awaiting_stamp = true;
            let name = self.u(id).name().to_owned();
            self.effects
                .push_back(Effect::ReadTimerStamp { unit: id, name });
            return Outcome::Pending;
        }
        self.timer_enter_waiting(id, false);
        Outcome::Pending
    }

    /// The timer's settings were replaced (daemon-reload) while it is waiting or elapsed.
    pub(crate) fn timer_reloaded(&mut self, id: UnitId) {
        let n = self.timer_spec(id).map_or(0, |s| s.monotonic.len());
        self.um(id).timer.disabled = vec![false; n];
        self.timer_enter_waiting(id, false);
    }

    /// Answer to [`Effect::ReadTimerStamp`]: the stamp's time (realtime µs), if it exists.
    pub(crate) fn timer_stamp_read(&mut self, id: UnitId, stamp: Option<u64>) {
        if !std::mem::take(&mut self.um(id).timer.awaiting_stamp) {
            return;
        }
        if let Some(ft) = stamp {
            if ft < self.now.realtime {
                self.um(id).timer.last_trigger.realtime = ft;
            } else {
                tracing::warn!(
                    unit = self.u(id).name(),
                    "Not using persistent file timestamp as it is in the future."
                );
            }
        }
        self.timer_enter_waiting(id, false);
    }

    /// The wall clock was set (systemd's `timer_time_change` for every timer): waiting timers
    /// recompute their calendar elapses, or trigger with `OnClockChange=`.
    pub fn clock_changed(&mut self, now: Timestamp) {
        self.now = now;
        for id in self.waiting_timers() {
            let t = &mut self.um(id).timer;
            if t.last_trigger.realtime > now.realtime {
                // Triggered "in the future": the clock went backwards since.
                t.last_trigger.realtime = now.realtime;
            }
            if self.timer_spec(id).is_some_and(|s| s.on_clock_change) {
                tracing::info!(
                    unit = self.u(id).name(),
                    "Time change, triggering activation."
                );
                self.timer_enter_running(id);
            } else {
                self.timer_enter_waiting(id, true);
            }
        }
        self.finish_step();
    }

    /// The local time zone changed (systemd's `timer_timezone_change`): waiting timers
    /// recompute, or trigger with `OnTimezoneChange=`.
    pub fn timezone_changed(&mut self, now: Timestamp) {
        self.now = now;
        for id in self.waiting_timers() {
            if self.timer_spec(id).is_some_and(|s| s.on_timezone_change) {
                tracing::info!(
                    unit = self.u(id).name(),
                    "Timezone change, triggering activation."
                );
                self.timer_enter_running(id);
            } else {
                self.timer_enter_waiting(id, false);
            }
        }
        self.finish_step();
    }

    fn waiting_timers(&self) -> Vec<UnitId> {
        self.units
            .iter()
            .filter(|u| u.merged_into.is_none() && u.timer.state == TimerState::Waiting)
            .map(|u| u.id)
            .collect()
    }

    /// A pseudo-random delay below `RandomizedDelaySec=` (fixed per unit name with
    /// `FixedRandomDelay=`).
    fn timer_random_delay(&mut self, id: UnitId, spec: &TimerSpec) -> u64 {
        if spec.randomized_delay_usec == 0 || spec.randomized_delay_usec == USEC_INFINITY {
            return 0;
        }
        let r = if spec.fixed_random_delay {
            // FNV-1a of the unit name: stable across restarts of the manager.
            self.u(id)
                .name()
                .bytes()
                .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
                })
        } else {
            let id_bytes = self.new_invocation_id();
            u64::from_le_bytes(id_bytes[..8].try_into().expect("8 bytes"))
        };
        r % spec.randomized_delay_usec
    }

    /// systemd's `timer_enter_waiting`: compute the next elapse of every value and arm the
    /// earliest, or go `elapsed` when nothing can elapse any more.
    fn timer_enter_waiting(&mut self, id: UnitId, time_change: bool) {
        let Some(spec) = self.timer_spec(id).cloned() else {
            return;
        };
        let now = self.now;
        let active = matches!(
            self.u(id).timer.state,
            TimerState::Waiting | TimerState::Running | TimerState::Elapsed
        );
        let inactive_exit = self.u(id).timestamps.inactive_exit;
        let last_trigger = self.u(id).timer.last_trigger;
        let target = self.timer_target(id);
        // OnUnitActiveSec= counts from when the unit left inactive (systemd uses its
        // inactive-exit timestamp, which a oneshot also has), OnUnitInactiveSec= from when it
        // went inactive.
        let (target_inactive_exit, target_inactive_enter) = target
            .map(|t| {
                let ts = &self.u(t).timestamps;
                (ts.inactive_exit.monotonic, ts.inactive_enter.monotonic)
            })
            .unwrap_or((0, 0));
        let startup = self.startup;
        // The manager's start on the wall clock (as systemd maps its userspace timestamp).
        let rebased = now
            .realtime
            .saturating_sub(now.monotonic.saturating_sub(startup.monotonic));

        let mut next_rt: Option<u64> = None;
        let mut calendar_next = Vec::with_capacity(spec.calendar.len());
        for cal in &spec.calendar {
            let b = if last_trigger.realtime > 0 {
                last_trigger.realtime
            } else if active {
                inactive_exit.realtime
            } else {
                now.realtime
            };
            let Some(mut v) = cal.next_elapse(b, &*self.zones) else {
                calendar_next.push(USEC_INFINITY);
                continue;
            };
            v = v.max(rebased);
            calendar_next.push(v);
            next_rt = Some(next_rt.map_or(v, |n| n.min(v)));
        }

        let mut leave_around = false;
        let mut next_mono: Option<u64> = None;
        let mut disabled = self.u(id).timer.disabled.clone();
        disabled.resize(spec.monotonic.len(), false);
        let mut monotonic_next = vec![USEC_INFINITY; spec.monotonic.len()];
        for (i, (base, value)) in spec.monotonic.iter().enumerate() {
            if disabled[i] {
                continue;
            }
            let b = match base {
                TimerBase::Active => {
                    if active {
                        inactive_exit.monotonic
                    } else {
                        now.monotonic
                    }
                }
                TimerBase::Boot => self.timer_boot_base,
                TimerBase::Startup => startup.monotonic,
                TimerBase::UnitActive | TimerBase::UnitInactive => {
                    leave_around = true;
                    let t = if *base == TimerBase::UnitActive {
                        target_inactive_exit
                    } else {
                        target_inactive_enter
                    };
                    let b = t.max(last_trigger.monotonic);
                    if b == 0 {
                        continue;
                    }
                    b
                }
            };
            let v = b.saturating_add(*value);
            if last_trigger != Timestamp::NEVER
                && !time_change
                && v <= now.monotonic
                && matches!(
                    base,
                    TimerBase::Active | TimerBase::Boot | TimerBase::Startup
                )
            {
                // A one-time value that already elapsed.
                disabled[i] = true;
                continue;
            }
            monotonic_next[i] = v;
            next_mono = Some(next_mono.map_or(v, |n| n.min(v)));
        }
        {
            let t = &mut self.um(id).timer;
            t.disabled = disabled;
            t.monotonic_next = monotonic_next;
            t.calendar_next = calendar_next;
        }

        if next_mono.is_none()
            && next_rt.is_none()
            && !spec.on_clock_change
            && !spec.on_timezone_change
        {
            self.timer_enter_elapsed(id, leave_around);
            return;
        }
        let mono = next_mono.map(|v| {
            let d = self.timer_random_delay(id, &spec);
            v.saturating_add(d)
        });
        let rt = next_rt.map(|v| {
            let d = self.timer_random_delay(id, &spec);
            v.saturating_add(d)
        });
        {
            let t = &mut self.um(id).timer;
            t.next_elapse_monotonic = mono.unwrap_or(0);
            t.next_elapse_realtime = rt.unwrap_or(0);
        }
        self.timer_rearm(id);
        self.set_timer_state(id, TimerState::Waiting);
        self.set_active_state(id, ActiveState::Active, false);
    }

    /// Put the earliest of the two next elapses on the timer queue (a calendar elapse as the
    /// monotonic time it is expected at now).
    fn timer_rearm(&mut self, id: UnitId) {
        let now = self.now;
        let t = &self.u(id).timer;
        let mono = (t.next_elapse_monotonic > 0).then_some(t.next_elapse_monotonic);
        let rt = (t.next_elapse_realtime > 0).then(|| {
            now.monotonic
                .saturating_add(t.next_elapse_realtime.saturating_sub(now.realtime))
        });
        match (mono, rt) {
            (None, None) => self.timer_disarm(id),
            (a, b) => {
                let at = a.unwrap_or(u64::MAX).min(b.unwrap_or(u64::MAX));
                self.timer_arm(id, at);
            }
        }
    }

    /// The timer's wake-up fired: trigger if a value is due (the wall clock may have been
    /// slower than expected; then wait some more).
    pub(crate) fn timer_wakeup(&mut self, id: UnitId) {
        self.um(id).timer.armed = None;
        if self.u(id).timer.state != TimerState::Waiting {
            return;
        }
        let now = self.now;
        let t = &self.u(id).timer;
        let due = (t.next_elapse_monotonic > 0 && now.monotonic >= t.next_elapse_monotonic)
            || (t.next_elapse_realtime > 0 && now.realtime >= t.next_elapse_realtime);
        if due {
            tracing::debug!(unit = self.u(id).name(), "Timer elapsed.");
            self.timer_enter_running(id);
        } else {
            self.timer_rearm(id);
        }
    }

    /// systemd's `timer_enter_running`: queue a start job for the triggered unit.
    fn timer_enter_running(&mut self, id: UnitId) {
        // Don't start anything if the timer itself is going down.
        if let Some(j) = self.u(id).job
            && self
                .jobs
                .get(&j)
                .is_some_and(|j| j.job_type == JobType::Stop)
        {
            return;
        }
        let Some(target) = self.timer_target(id) else {
            tracing::error!(unit = self.u(id).name(), "Unit to trigger vanished.");
            self.timer_enter_dead(id, TimerResult::Resources);
            return;
        };
        // The state goes `running` first, so a start that completes (or fails) at once is
        // noticed by `timer_trigger_notify`.
        self.timer_disarm(id);
        let now = self.now;
        self.um(id).timer.last_trigger = now;
        self.set_timer_state(id, TimerState::Running);
        if self.timer_spec(id).is_some_and(|s| s.persistent) {
            let name = self.u(id).name().to_owned();
            self.effects.push_back(Effect::TouchTimerStamp {
                name,
                realtime: now.realtime,
            });
        }
        if let Err(e) = self.enqueue_internal(target, JobType::Start, JobMode::Replace, false) {
            tracing::warn!(
                unit = self.u(id).name(),
                "Failed to queue unit startup job: {e}"
            );
            self.timer_enter_dead(id, TimerResult::Resources);
        }
    }

    /// systemd's `timer_enter_elapsed`.
    fn timer_enter_elapsed(&mut self, id: UnitId, leave_around: bool) {
        let remain = self.timer_spec(id).is_some_and(|s| s.remain_after_elapse);
        if remain || leave_around {
            self.timer_disarm(id);
            let t = &mut self.um(id).timer;
            t.next_elapse_monotonic = 0;
            t.next_elapse_realtime = 0;
            self.set_timer_state(id, TimerState::Elapsed);
            self.set_active_state(id, ActiveState::Active, false);
        } else {
            self.timer_enter_dead(id, TimerResult::Success);
        }
    }

    /// systemd's `timer_enter_dead`.
    fn timer_enter_dead(&mut self, id: UnitId, result: TimerResult) {
        self.timer_disarm(id);
        let t = &mut self.um(id).timer;
        if t.result == TimerResult::Success {
            t.result = result;
        }
        t.next_elapse_monotonic = 0;
        t.next_elapse_realtime = 0;
        t.awaiting_stamp = false;
        let failed = t.result != TimerResult::Success;
        self.set_timer_state(
            id,
            if failed {
                TimerState::Failed
            } else {
                TimerState::Dead
            },
        );
        self.set_active_state(
            id,
            if failed {
                ActiveState::Failed
            } else {
                ActiveState::Inactive
            },
            false,
        );
    }

    /// Stop job.
    pub(crate) fn timer_stop(&mut self, id: UnitId) -> Outcome {
        if matches!(
            self.u(id).timer.state,
            TimerState::Dead | TimerState::Failed
        ) && !self.u(id).timer.awaiting_stamp
        {
            return Outcome::Already;
        }
        self.timer_enter_dead(id, TimerResult::Success);
        Outcome::Pending
    }

    /// `reset-failed` of a timer.
    pub(crate) fn timer_reset_failed(&mut self, id: UnitId) {
        let t = &mut self.um(id).timer;
        if t.state == TimerState::Failed {
            t.state = TimerState::Dead;
        }
        t.result = TimerResult::Success;
    }

    /// Timers that trigger `unit` (see [`Engine::triggered_by`]).
    pub fn timers_triggering(&self, unit: UnitId) -> Vec<UnitId> {
        self.triggered_by(self.u(unit))
            .into_iter()
            .filter(|t| self.u(*t).is_timer())
            .collect()
    }

    /// systemd's `timer_trigger_notify`: the triggered unit changed state (or a job of it
    /// finished); recompute what depends on it.
    pub(crate) fn timer_trigger_notify(&mut self, unit: UnitId) {
        if self.u(unit).is_timer()
            || self.u(unit).loaded.load_state != crate::spec::LoadState::Loaded
        {
            return;
        }
        for t in self.timers_triggering(unit) {
            let spec_bases: Vec<TimerBase> = self
                .timer_spec(t)
                .map(|s| s.monotonic.iter().map(|(b, _)| *b).collect())
                .unwrap_or_default();
            {
                let rt = &mut self.um(t).timer;
                for (d, b) in rt.disabled.iter_mut().zip(&spec_bases) {
                    if matches!(b, TimerBase::UnitActive | TimerBase::UnitInactive) {
                        *d = false;
                    }
                }
            }
            match self.u(t).timer.state {
                TimerState::Waiting | TimerState::Elapsed => self.timer_enter_waiting(t, false),
                TimerState::Running => {
                    // Unlike systemd, a start job still pending for the unit (the timer's own,
                    // queued after a stop job it replaced) keeps the timer running.
                    let other = self.u(unit);
                    if other.active_state.is_inactive_or_failed() && other.job.is_none() {
                        self.timer_enter_waiting(t, false);
                    }
                }
                TimerState::Dead | TimerState::Failed => {}
            }
        }
    }
}
