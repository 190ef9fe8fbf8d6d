//! The engine's runtime state as plain data: [`EngineSnapshot`], what `daemon-reexec` carries
//! across `execve` (and what a later recovery after a crash of the manager can start from).
//!
//! [`Engine::snapshot`] exports every unit record (load data, states, PIDs, results,
//! timestamps, counters, invocation ids, status text), the installed jobs, the manager
//! environment (`SetEnvironment`), armed timers (monotonic deadlines, valid across `execve`
//! because the clock is), the PID watch table, id counters and Upstart's event state.
//! [`Engine::restore`] rebuilds an engine from it and queues the effects a fresh process needs
//! to take over (watching listening sockets again). No I/O happens here: the runtime writes and
//! reads the snapshot and hands over file descriptors itself.

use std::collections::{BTreeSet, HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::service::TimerKind;
use super::*;

/// Bumped whenever the snapshot's shape changes incompatibly; a snapshot of another version
/// is refused.
pub const SNAPSHOT_VERSION: u32 = 1;

/// Serialize maps as lists of `(key, value)` pairs (keys need not be strings).
pub(crate) mod pairs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Write `map` as a sequence of pairs.
    pub fn serialize<'a, M, K, V, S>(map: &'a M, s: S) -> Result<S::Ok, S::Error>
    where
        &'a M: IntoIterator<Item = (&'a K, &'a V)>,
        K: Serialize + 'a,
        V: Serialize + 'a,
        S: Serializer,
    {
        s.collect_seq(map)
    }

    /// Read a sequence of pairs into a map.
    pub fn deserialize<'de, M, K, V, D>(d: D) -> Result<M, D::Error>
    where
        M: FromIterator<(K, V)>,
        K: Deserialize<'de>,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

/// Everything the engine knows at one instant that is not derivable from unit files.
/// See the module docs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EngineSnapshot {
    /// [`SNAPSHOT_VERSION`] of the writer.
    pub version: u32,
    /// The invocation-id seed (kept so ids stay unique across the hand-over).
    id_seed: [u8; 16],
    units: Vec<Unit>,
    #[serde(with = "pairs")]
    names: HashMap<String, UnitId>,
    jobs: Vec<Job>,
    next_job_id: JobId,
    next_token: SpawnToken,
    invocation_counter: u64,
    env: Vec<String>,
    timers: Vec<(u64, UnitId, TimerKind)>,
    #[serde(with = "pairs")]
    pids: HashMap<u32, UnitId>,
    run_queue: Vec<JobId>,
    gc_pending: bool,
    events: events::EventState,
    /// When the snapshot was taken.
    pub taken_at: Timestamp,
}

/// Why a snapshot cannot be restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    /// Written by an incompatible unitd.
    #[error("snapshot version {found} is not supported (expected {SNAPSHOT_VERSION})")]
    Version { found: u32 },
    /// Internally inconsistent (an id out of range).
    #[error("inconsistent snapshot: {0}")]
    Inconsistent(String),
}

impl Engine {
    /// Export the runtime state. Call between operations, after every effect was carried out
    /// and answered (the runtime's `process()`): effects still queued are not part of the
    /// snapshot, and changes not yet taken are not either.
    pub fn snapshot(&self, now: Timestamp) -> EngineSnapshot {
        EngineSnapshot {
            version: SNAPSHOT_VERSION,
            id_seed: self.cfg.id_seed,
            units: self.units.clone(),
            names: self.names.clone(),
            jobs: self.jobs.values().cloned().collect(),
            next_job_id: self.next_job_id,
            next_token: self.next_token,
            invocation_counter: self.invocation_counter,
            env: self.env.clone(),
            timers: self.timers.iter().copied().collect(),
            pids: self.pids.clone(),
            run_queue: self.run_queue.iter().copied().collect(),
            gc_pending: self.gc_pending,
            events: self.events.clone(),
            taken_at: now,
        }
    }

    /// Rebuild an engine from `snap`. `cfg` describes the new process (its PID, scope); the
    /// invocation-id seed of the snapshot wins over `cfg.id_seed` so ids never repeat.
    /// Client references (`Ref()`) are dropped: the clients that held them are gone.
    /// Queued afterwards: `WatchSockets` for every listening socket unit (poll
    /// [`Engine::poll_effect`] as usual).
    pub fn restore(
        mut cfg: EngineConfig,
        now: Timestamp,
        snap: EngineSnapshot,
    ) -> Result<Engine, RestoreError> {
        if snap.version != SNAPSHOT_VERSION {
            return Err(RestoreError::Version {
                found: snap.version,
            });
        }
        let n = snap.units.len();
        let bad = |what: &str| RestoreError::Inconsistent(what.to_owned());
        for (i, u) in snap.units.iter().enumerate() {
            if u.id.0 as usize != i {
                return Err(bad("unit ids out of order"));
            }
            if u.merged_into.is_some_and(|m| m.0 as usize >= n)
                || u.edges.iter().any(|(_, o)| o.0 as usize >= n)
            {
                return Err(bad("unit reference out of range"));
            }
        }
        if snap.names.values().any(|id| id.0 as usize >= n)
            || snap.pids.values().any(|id| id.0 as usize >= n)
            || snap.jobs.iter().any(|j| j.unit.0 as usize >= n)
            || snap.timers.iter().any(|t| t.1.0 as usize >= n)
        {
            return Err(bad("unit reference out of range"));
        }
        cfg.id_seed = snap.id_seed;
        let mut e = Engine::new(cfg);
        e.units = snap.units;
        for u in &mut e.units {
            u.refs = 0;
            u.dirty = false;
        }
        e.names = snap.names;
        e.jobs = snap.jobs.into_iter().map(|j| (j.id, j)).collect();
        e.next_job_id = snap.next_job_id;
        e.next_token = snap.next_token;
        e.invocation_counter = snap.invocation_counter;
        e.env = snap.env;
        e.timers = snap.timers.into_iter().collect::<BTreeSet<_>>();
        e.pids = snap.pids;
        e.run_queue = snap.run_queue.into_iter().collect::<VecDeque<_>>();
        e.gc_pending = true;
        e.events = snap.events;
        e.now = now;
        let listening: Vec<UnitId> = e
            .units
            .iter()
            .filter(|u| {
                !u.removed
                    && u.merged_into.is_none()
                    && matches!(u.loaded.spec.kind, crate::spec::KindSpec::Socket(_))
                    && u.socket.state == SocketState::Listening
            })
            .map(|u| u.id)
            .collect();
        for unit in listening {
            e.effects
                .push_back(Effect::WatchSockets { unit, watch: true });
        }
        Ok(e)
    }
}
