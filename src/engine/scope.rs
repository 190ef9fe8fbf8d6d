//! Scope units (systemd's `scope.c`): a unit for processes somebody else started
//! (`systemd-run --scope`, `StartTransientUnit` with `PIDs`). Starting one adopts the given
//! processes ([`Effect::AdoptProcesses`]); it is `active (running)` while any process of it
//! lives and goes `inactive (dead)` when the last one is gone. Stopping sends SIGTERM to every
//! process (`stop-sigterm`), then SIGKILL after the stop timeout (`stop-sigkill`), and gives up
//! with `Result=timeout` after a second timeout. A scope runs once: it cannot be started again.
//! `Abandon()` (the scope's manager gives up on it) moves a running scope to `abandoned`: its
//! processes keep running and the scope stays until the last one is gone.

use serde::{Deserialize, Serialize};

use super::job::Outcome;
use super::service::TimerKind;
use super::*;

/// systemd's `DefaultTimeoutStopSec=` (scopes have no setting of their own here).
pub const SCOPE_STOP_TIMEOUT_USEC: u64 = 90 * crate::spec::USEC_PER_SEC;
const SIGTERM: i32 = 15;
const SIGKILL: i32 = 9;

/// `SubState` of a scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScopeState {
    #[default]
    Dead,
    Running,
    /// `Abandon()` was called: still active until the processes are gone.
    Abandoned,
    StopSigterm,
    StopSigkill,
    Failed,
}

impl ScopeState {
    /// The systemd string.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeState::Dead => "dead",
            ScopeState::Running => "running",
            ScopeState::Abandoned => "abandoned",
            ScopeState::StopSigterm => "stop-sigterm",
            ScopeState::StopSigkill => "stop-sigkill",
            ScopeState::Failed => "failed",
        }
    }
}

/// Scope-specific runtime state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScopeRuntime {
    pub state: ScopeState,
    /// `Result` (`success`, `resources`, `timeout`).
    pub result: ServiceResult,
    /// The processes to adopt at start (`PIDs` of `StartTransientUnit`).
    pub(crate) pids: Vec<u32>,
    /// Started once already (a scope cannot be started again).
    pub(crate) started: bool,
}

impl Default for ScopeRuntime {
    fn default() -> Self {
        ScopeRuntime {
            state: ScopeState::Dead,
            result: ServiceResult::Success,
            pids: Vec::new(),
            started: false,
        }
    }
}

impl Engine {
    /// Give the scope `unit` the processes it adopts when started (`PIDs`).
    pub fn set_scope_pids(&mut self, unit: UnitId, pids: Vec<u32>) {
        let unit = self.resolve(unit);
        self.um(unit).scope.pids = pids;
    }

    /// `Scope.Abandon()`: a running scope goes `abandoned` (processes untouched). `false` if
    /// `unit` is not a running or abandoned scope (systemd's `ScopeNotRunning`).
    pub fn abandon_scope(&mut self, unit: UnitId) -> bool {
        let id = self.resolve(unit);
        if !self.u(id).is_scope()
            || !matches!(
                self.u(id).scope.state,
                ScopeState::Running | ScopeState::Abandoned
            )
        {
            return false;
        }
        self.um(id).scope.state = ScopeState::Abandoned;
        self.mark_dirty(id);
        self.finish_step();
        true
    }

    pub(crate) fn scope_start(&mut self, id: UnitId) -> Outcome {
        match self.u(id).scope.state {
            ScopeState::Running | ScopeState::Abandoned => return Outcome::Already,
            ScopeState::StopSigterm | ScopeState::StopSigkill => return Outcome::Again,
            ScopeState::Failed => return Outcome::Finish(JobResult::Failed),
            ScopeState::Dead => {}
        }
        if self.u(id).scope.started {
            // systemd: "Refusing to start scope a second time".
            return Outcome::Finish(JobResult::Failed);
        }
        let inv = self.new_invocation_id();
        let now = self.now;
        let u = self.um(id);
        u.scope.started = true;
        u.scope.result = ServiceResult::Success;
        u.invocation_id = inv;
        u.timestamps.condition = now;
        u.condition_result = true;
        u.timestamps.assert = now;
        u.assert_result = true;
        let pids = u.scope.pids.clone();
        self.effects
            .push_back(Effect::AdoptProcesses { unit: id, pids });
        Outcome::Pending
    }

    /// Answer to [`Effect::AdoptProcesses`].
    pub(crate) fn scope_adopted(&mut self, id: UnitId, alive: u32) {
        if !self.u(id).is_scope() || self.u(id).scope.state != ScopeState::Dead {
            return;
        }
        if alive == 0 {
            tracing::warn!(unit = self.u(id).name(), "no process to adopt");
            self.scope_enter_dead(id, ServiceResult::Resources);
            return;
        }
        self.um(id).scope.state = ScopeState::Running;
        self.set_active_state(id, ActiveState::Active, false);
    }

    /// A process of the scope is gone; `remaining` are still alive.
    pub(crate) fn scope_exited(&mut self, id: UnitId, remaining: u32) {
        self.mark_dirty(id);
        if remaining > 0 {
            return;
        }
        match self.u(id).scope.state {
            ScopeState::Running
            | ScopeState::Abandoned
            | ScopeState::StopSigterm
            | ScopeState::StopSigkill => self.scope_enter_dead(id, ServiceResult::Success),
            ScopeState::Dead | ScopeState::Failed => {}
        }
    }

    /// Answer to the stop signal: `remaining` processes are still alive.
    pub(crate) fn scope_kill_delivered(&mut self, id: UnitId, remaining: u32) {
        if matches!(
            self.u(id).scope.state,
            ScopeState::StopSigterm | ScopeState::StopSigkill
        ) {
            self.scope_exited(id, remaining);
        }
    }

    pub(crate) fn scope_stop(&mut self, id: UnitId) -> Outcome {
        match self.u(id).scope.state {
            ScopeState::Dead | ScopeState::Failed => Outcome::Already,
            ScopeState::StopSigterm | ScopeState::StopSigkill => Outcome::Pending,
            ScopeState::Running | ScopeState::Abandoned => {
                self.scope_enter_signal(id, ScopeState::StopSigterm, SIGTERM);
                Outcome::Pending
            }
        }
    }

    fn scope_enter_signal(&mut self, id: UnitId, state: ScopeState, signal: i32) {
        self.um(id).scope.state = state;
        self.set_active_state(id, ActiveState::Deactivating, false);
        self.arm_timer(id, SCOPE_STOP_TIMEOUT_USEC, TimerKind::StateTimeout);
        self.effects.push_back(Effect::Kill(KillRequest {
            unit: id,
            main: None,
            control: None,
            others: true,
            signal,
            sigcont: true,
            sighup: false,
        }));
    }

    pub(crate) fn scope_timer_fired(&mut self, id: UnitId) {
        match self.u(id).scope.state {
            ScopeState::StopSigterm => {
                tracing::warn!(unit = self.u(id).name(), "Stopping timed out. Killing.");
                self.scope_enter_signal(id, ScopeState::StopSigkill, SIGKILL);
            }
            ScopeState::StopSigkill => {
                tracing::warn!(
                    unit = self.u(id).name(),
                    "Still around after SIGKILL. Ignoring."
                );
                self.scope_enter_dead(id, ServiceResult::Timeout);
            }
            _ => {}
        }
    }

    fn scope_enter_dead(&mut self, id: UnitId, result: ServiceResult) {
        self.disarm_timer(id);
        let u = self.um(id);
        if u.scope.result == ServiceResult::Success {
            u.scope.result = result;
        }
        let failed = u.scope.result != ServiceResult::Success;
        u.scope.state = if failed {
            ScopeState::Failed
        } else {
            ScopeState::Dead
        };
        self.effects.push_back(Effect::ForgetProcesses { unit: id });
        let ns = if failed {
            ActiveState::Failed
        } else {
            ActiveState::Inactive
        };
        self.set_active_state(id, ns, false);
    }
}
