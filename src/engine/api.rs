//! Public operations of the engine (temporary stub bodies while the engine is written).
#![allow(unused_variables)]
use super::*;

impl Engine {
    /// A new, empty engine.
    pub fn new(cfg: EngineConfig) -> Engine {
        let env = cfg.manager_env.clone();
        Engine {
            cfg,
            units: Vec::new(),
            names: HashMap::new(),
            stubs: Vec::new(),
            jobs: BTreeMap::new(),
            next_job_id: 1,
            next_token: 1,
            invocation_counter: 0,
            env,
            effects: VecDeque::new(),
            changes: VecDeque::new(),
            dirty: Vec::new(),
            timers: BTreeMap::new(),
            pids: HashMap::new(),
            run_queue: VecDeque::new(),
        }
    }
    /// Add a loaded unit, or replace the load data of an existing one (daemon-reload, stub
    /// resolution) keeping its runtime state. Registers aliases and dependency edges; names it
    /// references that are not known yet become stubs (see [`Engine::take_stubs`]).
    pub fn insert(&mut self, now: Timestamp, loaded: LoadedUnit) -> UnitId { todo!() }
    /// Names referenced by dependencies that have not been loaded yet; the caller loads each and
    /// calls [`Engine::insert`]. Drains the list.
    pub fn take_stubs(&mut self) -> Vec<String> { todo!() }
    /// Find a unit by name or alias.
    pub fn lookup(&self, name: &str) -> Option<UnitId> { self.names.get(name).copied() }
    /// A unit by id. Panics on an id this engine never handed out.
    pub fn unit(&self, id: UnitId) -> &Unit { &self.units[id.0 as usize] }
    /// A unit by id, or `None` for an id never handed out or of a unit already removed.
    pub fn try_unit(&self, id: UnitId) -> Option<&Unit> { todo!() }
    /// All units (including not-found ones that were referenced or queried).
    pub fn units(&self) -> impl Iterator<Item = &Unit> { self.units.iter() }
    /// A job by id.
    pub fn job(&self, id: JobId) -> Option<&Job> { self.jobs.get(&id) }
    /// All installed jobs, by id.
    pub fn jobs(&self) -> impl Iterator<Item = &Job> { self.jobs.values() }
    /// Enqueue a job for `unit` (a client request when `manual`), building the transaction.
    /// Returns the anchor job id; the job may already be finished (its `JobRemoved` change is
    /// then queued).
    pub fn enqueue(&mut self, now: Timestamp, unit: UnitId, job_type: JobType, mode: JobMode, manual: bool) -> Result<JobId, EnqueueError> { todo!() }
    /// Cancel a job (`CancelJob`, `Job.Cancel`).
    pub fn cancel_job(&mut self, now: Timestamp, job: JobId) -> Result<(), EnqueueError> { todo!() }
    /// Feed an event.
    pub fn handle_input(&mut self, now: Timestamp, input: Input) { todo!() }
    /// Fire every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Timestamp) { todo!() }
    /// Earliest pending timer deadline (monotonic µs).
    pub fn next_deadline(&self) -> Option<u64> { self.timers.keys().next().map(|k| k.0) }
    /// Next effect to carry out.
    pub fn poll_effect(&mut self) -> Option<Effect> { self.effects.pop_front() }
    /// Next change to publish.
    pub fn poll_change(&mut self) -> Option<Change> { todo!() }
    /// `ResetFailedUnit` (`Some`) / `ResetFailed` (`None`).
    pub fn reset_failed(&mut self, now: Timestamp, unit: Option<UnitId>) { todo!() }
    /// `KillUnit`: signal processes of a unit without changing its state directly.
    pub fn kill_unit(&mut self, unit: UnitId, whom: KillWhom, signal: i32) -> Result<(), EnqueueError> { todo!() }
    /// The manager environment (`Environment` property), `KEY=VALUE` strings, sorted.
    pub fn environment(&self) -> &[String] { &self.env }
    /// `SetEnvironment`/`UnsetEnvironment`/`UnsetAndSetEnvironment`: unset first, then set.
    /// Entries in `unset` may be `NAME` or `NAME=VALUE`.
    pub fn set_environment(&mut self, unset: &[String], set: &[String]) { todo!() }
    /// Number of units in `failed` state.
    pub fn n_failed_units(&self) -> u32 { todo!() }
    /// The unit watching `pid` as main or control process.
    pub fn unit_by_pid(&self, pid: u32) -> Option<UnitId> { self.pids.get(&pid).copied() }
    /// Mark a daemon-reload as started/finished (emits `Reloading`).
    pub fn set_reloading(&mut self, active: bool) { todo!() }
}
