//! The deterministic unit/job engine.
//!
//! Owns every unit's runtime state, the job queue, transactions and the service state machine.
//! It is a pure state machine in the style of quinn-proto and dinit's proctests: callers pass
//! the current time in, feed [`Input`]s, make requests ([`Engine::enqueue`]), and drain
//! [`Effect`]s (spawn, kill, …) and [`Change`]s (for observers). No D-Bus, no async runtime, no
//! syscalls and no clock reads happen here; an architecture test enforces that.
//!
//! Layout: `api.rs` public operations; `transaction.rs` job expansion, merging and ordering;
//! `job.rs` running and finishing jobs; `service.rs` the service state machine (systemd's
//! `service_enter_*` naming); `scope.rs` scope units; `socket.rs` socket units; `timer.rs` timer units; `mount.rs` mount units; `unit.rs` the per-unit record; `gc.rs` garbage collection; `snapshot.rs` the serializable runtime state (daemon-reexec);
//! `types.rs` the vocabulary.

mod api;
pub mod error;
pub mod events;
mod gc;
pub mod io;
mod job;
pub mod mount;
pub mod notify;
mod scope;
mod service;
mod service_notify;
pub mod snapshot;
pub mod socket;
pub mod timer;
mod transaction;
pub mod types;
pub mod unit;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

pub use error::EnqueueError;
pub use events::{EventId, JobEnvChange};
pub use io::{
    Change, Effect, FdStoreOp, Input, KillRequest, ProcessRole, SpawnRequest, SpawnToken,
};
pub use job::Job;
pub use mount::{MountResult, MountRuntime, MountState};
pub use scope::{SCOPE_STOP_TIMEOUT_USEC, ScopeRuntime, ScopeState};
pub use snapshot::{EngineSnapshot, RestoreError, SNAPSHOT_VERSION};
pub use socket::{SocketResult, SocketRuntime, SocketState};
pub use timer::{TimerResult, TimerRuntime, TimerState};
pub use types::*;
pub use unit::{DepEdge, ExecRun, ServiceRuntime, Unit, UnitTimestamps};

/// Construction parameters.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// User manager (`--user`) rather than system manager.
    pub user_scope: bool,
    /// The manager environment every spawn starts from, `KEY=VALUE` strings (built-in
    /// defaults; `set-environment` changes go through [`Engine::set_environment`]).
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
    /// Units with a pending `UnitChanged` (coalescing; see [`Unit::dirty`]).
    dirty: Vec<UnitId>,
    /// Pending timers, ordered by deadline (monotonic µs).
    timers: BTreeSet<(u64, UnitId, service::TimerKind)>,
    /// Which unit watches which PID (main and control processes).
    pids: HashMap<u32, UnitId>,
    /// Jobs that may have become runnable.
    run_queue: VecDeque<JobId>,
    /// The time of the operation in progress (set by every public entry point).
    now: Timestamp,
    /// Something changed that may let a unit be garbage-collected.
    gc_pending: bool,
    /// Upstart events: queue, latches, holds (see `events.rs`).
    events: events::EventState,
    /// UTC offsets for `OnCalendar=` (see [`Engine::set_zone_offsets`]).
    zones: Box<dyn crate::spec::calendar::ZoneOffsets + Send>,
    /// `OnBootSec=` base (monotonic µs).
    timer_boot_base: u64,
    /// When the manager started (`OnStartupSec=` base).
    startup: Timestamp,
}

impl Engine {
    fn u(&self, id: UnitId) -> &Unit {
        &self.units[id.0 as usize]
    }

    fn um(&mut self, id: UnitId) -> &mut Unit {
        &mut self.units[id.0 as usize]
    }

    /// Follow alias merges to the unit that owns the name now.
    fn resolve(&self, mut id: UnitId) -> UnitId {
        while let Some(next) = self.u(id).merged_into {
            id = next;
        }
        id
    }

    /// Note that a unit's properties changed; one `UnitChanged` per unit until flushed.
    fn mark_dirty(&mut self, id: UnitId) {
        self.gc_pending = true;
        let u = self.um(id);
        if !u.dirty {
            u.dirty = true;
            self.dirty.push(id);
        }
    }

    /// Emit `UnitChanged` for every dirty unit (before a `JobRemoved`, and at the end of each
    /// public operation).
    fn flush_dirty(&mut self) {
        for id in std::mem::take(&mut self.dirty) {
            self.um(id).dirty = false;
            self.changes.push_back(Change::UnitChanged { unit: id });
        }
    }

    fn new_token(&mut self) -> SpawnToken {
        let t = self.next_token;
        self.next_token += 1;
        t
    }

    /// A fresh invocation id (splitmix64 over the seed and a counter; deterministic per seed).
    fn new_invocation_id(&mut self) -> [u8; 16] {
        self.invocation_counter += 1;
        let seed_a = u64::from_le_bytes(self.cfg.id_seed[..8].try_into().expect("8 bytes"));
        let seed_b = u64::from_le_bytes(self.cfg.id_seed[8..].try_into().expect("8 bytes"));
        let mix = |mut z: u64| {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let a = mix(seed_a ^ self.invocation_counter);
        let b = mix(seed_b.wrapping_add(a));
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&a.to_le_bytes());
        id[8..].copy_from_slice(&b.to_le_bytes());
        // RFC 4122 version 4 / variant bits, as sd_id128_randomize does.
        id[6] = (id[6] & 0x0F) | 0x40;
        id[8] = (id[8] & 0x3F) | 0x80;
        id
    }

    /// Arm (or replace) a unit's state timer. `usec == USEC_INFINITY` disarms it.
    fn arm_timer(&mut self, id: UnitId, usec: u64, kind: service::TimerKind) {
        self.disarm_timer(id);
        if usec == crate::spec::USEC_INFINITY {
            return;
        }
        let deadline = self.now.monotonic.saturating_add(usec);
        self.timers.insert((deadline, id, kind));
        self.um(id).service.timer = Some((deadline, kind));
    }

    fn disarm_timer(&mut self, id: UnitId) {
        if let Some((deadline, kind)) = self.um(id).service.timer.take() {
            self.timers.remove(&(deadline, id, kind));
        }
    }

    /// Set a unit's ActiveState and run the consequences (systemd's `unit_notify`): timestamps,
    /// job completion, BindsTo propagation, OnFailure/OnSuccess.
    fn set_active_state(&mut self, id: UnitId, ns: ActiveState, will_restart: bool) {
        let os = self.u(id).active_state;
        self.mark_dirty(id);
        if os == ns {
            return;
        }
        let now = self.now;
        {
            let u = self.um(id);
            u.active_state = ns;
            u.timestamps.state_change = now;
            if os.is_inactive_or_failed() && !ns.is_inactive_or_failed() {
                u.timestamps.inactive_exit = now;
            } else if !os.is_inactive_or_failed() && ns.is_inactive_or_failed() {
                u.timestamps.inactive_enter = now;
            }
            if !os.is_active_or_reloading() && ns.is_active_or_reloading() {
                u.timestamps.active_enter = now;
            } else if os.is_active_or_reloading() && !ns.is_active_or_reloading() {
                u.timestamps.active_exit = now;
            }
        }
        let unexpected = self.process_job_for_state(id, os, ns);

        // A unit that went down on its own takes units bound to it along.
        if ns.is_inactive_or_failed() && !os.is_inactive_or_failed() && !will_restart {
            let bound: Vec<UnitId> =
                self.edge_targets(id, DepEdge::Reverse(crate::spec::DepKind::BindsTo));
            for other in bound {
                let o = self.u(other);
                if o.active_state.is_inactive_or_failed()
                    || o.job.is_some_and(|j| {
                        self.jobs
                            .get(&j)
                            .is_some_and(|j| j.job_type == JobType::Stop)
                    })
                {
                    continue;
                }
                let _ = self.enqueue_internal(other, JobType::Stop, JobMode::Replace, false);
            }
        }
        let _ = unexpected;

        // OnFailure= / OnSuccess=, suppressed while a restart is scheduled.
        if !will_restart {
            if ns == ActiveState::Failed && os != ActiveState::Failed {
                self.trigger_on(id, crate::spec::DepKind::OnFailure);
            } else if ns == ActiveState::Inactive
                && !os.is_inactive_or_failed()
                && os != ActiveState::Activating
            {
                self.trigger_on(id, crate::spec::DepKind::OnSuccess);
            }
        }

        // Anything ordered against this unit may be able to run now.
        self.requeue_ordered_neighbours(id);
        self.socket_service_changed(id, ns);
        self.timer_trigger_notify(id);
        self.job_events_for_transition(id, ns, will_restart);
    }

    fn trigger_on(&mut self, id: UnitId, kind: crate::spec::DepKind) {
        let spec = &self.u(id).loaded.spec;
        let mode_name = if kind == crate::spec::DepKind::OnSuccess {
            &spec.on_success_job_mode
        } else {
            &spec.on_failure_job_mode
        };
        let mode = JobMode::from_str_opt(mode_name).unwrap_or(JobMode::Replace);
        for other in self.edge_targets(id, DepEdge::Forward(kind)) {
            if let Err(e) = self.enqueue_internal(other, JobType::Start, mode, false) {
                tracing::warn!(
                    unit = self.u(id).name(),
                    target = self.u(other).name(),
                    "failed to enqueue {:?} job: {e}",
                    kind
                );
            }
        }
    }

    /// Units on the other end of edges of one kind (deduplicated).
    fn edge_targets(&self, id: UnitId, edge: DepEdge) -> Vec<UnitId> {
        let mut out = Vec::new();
        for (e, other) in &self.u(id).edges {
            if *e == edge && !out.contains(other) {
                out.push(*other);
            }
        }
        out
    }

    /// Put waiting jobs of units ordered before/after `id` back on the run queue.
    fn requeue_ordered_neighbours(&mut self, id: UnitId) {
        use crate::spec::DepKind::{After, Before};
        let mut wake = Vec::new();
        for (e, other) in &self.u(id).edges {
            if matches!(
                e,
                DepEdge::Forward(After | Before) | DepEdge::Reverse(After | Before)
            ) && let Some(j) = self.u(*other).job
            {
                wake.push(j);
            }
        }
        if let Some(j) = self.u(id).job {
            wake.push(j);
        }
        for j in wake {
            if self
                .jobs
                .get(&j)
                .is_some_and(|j| j.state == JobState::Waiting)
            {
                self.run_queue.push_back(j);
            }
        }
    }

    /// Common tail of every public operation: run runnable jobs, then publish unit changes.
    fn finish_step(&mut self) {
        self.dispatch_run_queue();
        // Events may start/stop jobs, whose transitions emit more events.
        while self.process_events() {
            self.dispatch_run_queue();
        }
        self.flush_dirty();
    }
}
