//! The deterministic unit/job engine.
//!
//! Owns every unit's runtime state, the job queue, transactions and the service state machine.
//! It is a pure state machine in the style of quinn-proto and dinit's proctests: callers pass
//! the current time in, feed [`Input`]s, make requests ([`Engine::enqueue`]), and drain
//! [`Effect`]s (spawn, kill, …) and [`Change`]s (for observers). No D-Bus, no async runtime, no
//! syscalls and no clock reads happen here; an architecture test enforces that.

pub mod error;
pub mod io;
mod api;
mod job;
mod service;
mod transaction;
pub mod types;
pub mod unit;

#[cfg(test)]
mod tests;

pub use error::EnqueueError;
pub use io::{Change, Effect, Input, KillRequest, ProcessRole, SpawnRequest, SpawnToken};
pub use job::Job;
pub use types::*;
pub use unit::{DepEdge, ExecRun, ServiceRuntime, Unit, UnitTimestamps};

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::spec::LoadedUnit;

/// Construction parameters.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// User manager (`--user`) rather than system manager.
    pub user_scope: bool,
    /// The manager environment every spawn starts from (built-in defaults; `set-environment`
    /// changes are applied on top by [`Engine::set_environment`]). `KEY=VALUE` strings.
    pub manager_env: Vec<String>,
    /// PID of the manager, exported as `MANAGERPID` in user scope.
    pub manager_pid: u32,
    /// Random seed for invocation ids (the engine derives ids deterministically from it).
    pub id_seed: [u8; 16],
}

/// Which processes `KillUnit` targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillWhom {
    Main,
    Control,
    All,
}

/// The engine. See the module docs.
pub struct Engine {
    cfg: EngineConfig,
    units: Vec<Unit>,
    names: HashMap<String, UnitId>,
    stubs: Vec<UnitId>,
    jobs: BTreeMap<JobId, Job>,
    next_job_id: JobId,
    next_token: SpawnToken,
    invocation_counter: u64,
    env: Vec<String>,
    effects: VecDeque<Effect>,
    changes: VecDeque<Change>,
    /// Units whose properties changed in the current step (coalescing `UnitChanged`).
    dirty: Vec<UnitId>,
    /// Pending timers: (deadline monotonic µs, unit) → what fires.
    timers: BTreeMap<(u64, UnitId), service::TimerKind>,
    /// Which unit watches which PID (main and control processes).
    pids: HashMap<u32, UnitId>,
    /// Work to run: units whose jobs may be runnable.
    run_queue: VecDeque<JobId>,
}
