//! Upstart's event engine inside the one engine (reference: upstart.md §2.3, §2.4, §2.6, §2.7).
//!
//! Owns the event queue, the per-job latches of `start on`/`stop on` expressions, which events
//! are held by whom, and the job environment an event hands to the job it starts. Events come
//! from [`Engine::emit_event`] (EmitEvent, `startup`) and from the engine's own unit
//! transitions: every unit emits `starting`/`started`/`stopping`/`stopped` with `JOB` (the
//! Upstart job name, or for other units the unit name without `.service`), `INSTANCE` (the
//! instance name; empty for single-instance jobs and systemd units), `RESULT`, `PROCESS`,
//! `EXIT_STATUS`/`EXIT_SIGNAL` and the job's `export`ed variables.
//!
//! Instance jobs (`instance $TTY`): the class unit `<job>.service` evaluates `start on`; when
//! it fires, the `instance` template is expanded against the global env + `env` stanzas + the
//! events' env ([`Engine::start_target`]) and the instance unit `<job>@<inst>.service` is
//! created from the class's settings if it does not exist ([`upstart::instantiate`]); the
//! class unit itself is the unnamed instance. Each instance unit has its own `stop on`
//! latches, start/stop env and holds.
//!
//! Semantics kept from Upstart: each leaf latches on its first match and holds that event until
//! its expression fires (half-satisfied `and` blocks the event, as upstream's known bug does);
//! `and`/`or` are evaluated over the latches; `stop on` is evaluated before `start on` and only
//! for jobs whose goal is start; a job started or stopped by an event holds every event that
//! made its condition true until it reaches its rest state (service: active; task: done;
//! stopped: inactive), and a job failure marks those events failed (`<name>/failed` follows).
//! An event finishes when nothing holds it: [`Change::EventFinished`].
//!
//! `starting` and `stopping` block as in Upstart. A job's start parks in `starting` (the
//! service's `condition` sub-state, no process; systemd clients see `activating`) until its
//! `starting` event finished, so `start on starting foo` handlers are running (tasks: done)
//! before foo's pre-start (`Engine::gate_on_starting`). A job's stop parks before the kill
//! signal (in `stop-sigterm`, shown as Upstart's `stopping`) and before post-stop until its
//! `stopping` event finished (`Engine::gate_on_stopping`). Systemd units are not held.
//! Difference: unitd emits `stopping` when the stop begins, i.e. before pre-stop
//! (`ExecStop=`) runs; Upstart emits it after pre-stop. Both hold the kill.
//!
//! `stop on` values are `$`-expanded against the instance's environment (its job env: global
//! env, `env` stanzas, start env) when an event is matched, so `stop on stopping-thing
//! JOB=$JOB` or `stop on runlevel [!$RUNLEVEL]` follow each instance; a value naming an unknown
//! variable never matches. `start on` values are matched as written (Upstart 1.13 expands them
//! against no environment at all).
//!
//! A newer command on an instance (D-Bus Start/Stop/Restart, or an event changing its goal)
//! releases the events it held with success, as Upstart's `job_finished(job, FALSE)` does
//! ([`Engine::release_event_holds`]).

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::types::ServiceState;
use super::*;
use crate::spec::event_expr::{EventExpr, leaf_matches_expanded};
use crate::spec::{KindSpec, LoadState, ServiceType, upstart};

/// Identifies one emitted event.
pub type EventId = u64;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Event {
    name: String,
    env: Vec<String>,
    /// How many latches and jobs hold it.
    holders: u32,
    failed: bool,
    /// Matched against the job conditions already (only then can it finish).
    matched: bool,
}

/// Which kind of rest state a hold waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Hold {
    Start,
    Stop,
}

/// The last job event a unit emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
enum Phase {
    #[default]
    Down,
    Starting,
    Up,
    Stopping,
}

/// The event engine's state (a field of [`Engine`]).
/// Serializable as part of [`super::EngineSnapshot`] (maps as lists of pairs).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct EventState {
    next_id: EventId,
    queue: VecDeque<EventId>,
    #[serde(with = "super::snapshot::pairs")]
    events: BTreeMap<EventId, Event>,
    /// Per (unit, is_stop_on): the event latched by each leaf, in tree order.
    #[serde(with = "super::snapshot::pairs")]
    latches: HashMap<(UnitId, bool), Vec<Option<EventId>>>,
    #[serde(with = "super::snapshot::pairs")]
    holds: HashMap<UnitId, Vec<(EventId, Hold)>>,
    #[serde(with = "super::snapshot::pairs")]
    phase: HashMap<UnitId, Phase>,
    /// The environment an event (or a Job.Start call) gave the current/next start.
    #[serde(with = "super::snapshot::pairs")]
    start_env: HashMap<UnitId, Vec<String>>,
    /// The environment a stop event (or a Job.Stop call) gave the current stop.
    #[serde(with = "super::snapshot::pairs")]
    stop_env: HashMap<UnitId, Vec<String>>,
    /// Variables removed from a job instance's environment (`UnsetEnvList` with job details).
    #[serde(with = "super::snapshot::pairs")]
    unset_env: HashMap<UnitId, Vec<String>>,
    /// Upstart jobs held in `starting` until their `starting` event finished (the event id
    /// once it is queued).
    #[serde(with = "super::snapshot::pairs")]
    start_gates: HashMap<UnitId, Option<EventId>>,
    /// The last `stopping` event each Upstart job emitted.
    #[serde(with = "super::snapshot::pairs")]
    stopping_events: HashMap<UnitId, EventId>,
    /// Upstart jobs held in `stopping` until that event finished, with what comes next.
    #[serde(with = "super::snapshot::pairs")]
    stop_gates: HashMap<UnitId, (EventId, StopResume)>,
}

/// Where a job held in `stopping` goes on once its `stopping` event finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum StopResume {
    /// Send the kill signal (`killed`).
    Signal(ServiceResult),
    /// Run post-stop.
    StopPost(ServiceResult),
}

/// A change to one job instance's environment table (Upstart's env methods with job details).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnvChange {
    /// `SetEnvList(vars, replace)`: `NAME[=VALUE]` entries (no `=` → empty value); with
    /// `replace == false` an existing variable keeps its value.
    Set(Vec<String>, bool),
    /// `UnsetEnvList(names)`.
    Unset(Vec<String>),
    /// `ResetEnv`: back to the global env + the job's `env` stanzas.
    Reset,
}

/// A task: a job whose start completes when its process has run (oneshot, no RemainAfterExit).
fn is_task(u: &Unit) -> bool {
    match &u.loaded.spec.kind {
        KindSpec::Service(s) => s.service_type == ServiceType::Oneshot && !s.remain_after_exit,
        _ => false,
    }
}

/// The name a unit has as an Upstart job (`JOB=` of its events).
pub fn job_name_of(u: &Unit) -> String {
    match &u.loaded.spec.upstart {
        Some(j) => j.name.clone(),
        None => u
            .name()
            .strip_suffix(".service")
            .unwrap_or(u.name())
            .to_owned(),
    }
}

/// Evaluate `expr` over latches (leaves in tree order, consumed from `next`).
fn eval(expr: &EventExpr, latches: &[Option<EventId>], next: &mut usize) -> bool {
    match expr {
        EventExpr::Event { .. } => {
            let v = latches.get(*next).is_some_and(Option::is_some);
            *next += 1;
            v
        }
        EventExpr::And(a, b) => {
            let x = eval(a, latches, next);
            let y = eval(b, latches, next);
            x && y
        }
        EventExpr::Or(a, b) => {
            let x = eval(a, latches, next);
            let y = eval(b, latches, next);
            x || y
        }
    }
}

/// The latched events of the true parts of `expr`, in tree order.
fn true_events(
    expr: &EventExpr,
    latches: &[Option<EventId>],
    next: &mut usize,
    out: &mut Vec<EventId>,
) -> bool {
    match expr {
        EventExpr::Event { .. } => {
            let v = latches.get(*next).copied().flatten();
            *next += 1;
            if let Some(e) = v {
                out.push(e);
            }
            v.is_some()
        }
        EventExpr::And(a, b) | EventExpr::Or(a, b) => {
            let mut mine = Vec::new();
            let x = true_events(a, latches, next, &mut mine);
            let y = true_events(b, latches, next, &mut mine);
            let v = if matches!(expr, EventExpr::And(..)) {
                x && y
            } else {
                x || y
            };
            if v {
                out.extend(mine);
            }
            v
        }
    }
}

impl Engine {
    /// Queue an event (EmitEvent, `startup`) and match it against every job's conditions.
    /// Returns its id; [`Change::EventFinished`] with that id follows once nothing holds it
    /// (possibly within this call).
    pub fn emit_event(&mut self, now: Timestamp, name: &str, env: Vec<String>) -> EventId {
        self.now = now;
        let id = self.queue_event(name, env);
        self.finish_step();
        id
    }

    /// Set the environment the next start of `unit` passes to its processes (Job.Start's
    /// `env`), replacing what an earlier event or call gave it.
    pub fn set_start_env(&mut self, unit: UnitId, env: Vec<String>) {
        let unit = self.resolve(unit);
        self.events.start_env.insert(unit, env);
    }

    /// Set the environment the next stop of `unit` passes to its stop processes (Job.Stop).
    pub fn set_stop_env(&mut self, unit: UnitId, env: Vec<String>) {
        let unit = self.resolve(unit);
        self.events.stop_env.insert(unit, env);
    }

    /// The start environment of `unit` (from an event or a Job.Start call), `KEY=VALUE`.
    pub fn start_env(&self, unit: UnitId) -> &[String] {
        self.events
            .start_env
            .get(&self.resolve(unit))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// A job instance's environment table as Upstart keeps it (`ListEnv` with job details):
    /// the global job env, the job's `env` stanzas, then the start env (Job.Start's env, or
    /// the matched events' env + `UPSTART_EVENTS`), minus what `UnsetEnvList` removed.
    pub fn job_env(&self, unit: UnitId) -> Vec<String> {
        let unit = self.resolve(unit);
        let mut env = self.instance_env(unit, self.start_env(unit));
        if let Some(unset) = self.events.unset_env.get(&unit) {
            env.retain(|e| {
                !unset
                    .iter()
                    .any(|n| e.split_once('=').map(|p| p.0) == Some(n.as_str()))
            });
        }
        env
    }

    /// Change a job instance's environment table; what later spawns of the unit get.
    pub fn change_job_env(&mut self, unit: UnitId, change: JobEnvChange) {
        let unit = self.resolve(unit);
        match change {
            JobEnvChange::Set(vars, replace) => {
                let current = self.job_env(unit);
                let start = self.events.start_env.entry(unit).or_default();
                let unset = self.events.unset_env.entry(unit).or_default();
                for v in vars {
                    let (k, val) = v.split_once('=').unwrap_or((v.as_str(), ""));
                    if !replace && upstart::env_get(&current, k).is_some() {
                        continue;
                    }
                    upstart::env_set(start, &format!("{k}={val}"));
                    unset.retain(|n| n != k);
                }
            }
            JobEnvChange::Unset(names) => {
                let start = self.events.start_env.entry(unit).or_default();
                let unset = self.events.unset_env.entry(unit).or_default();
                for n in names {
                    start.retain(|e| e.split_once('=').map_or(e.as_str(), |p| p.0) != n);
                    if !unset.contains(&n) {
                        unset.push(n);
                    }
                }
            }
            JobEnvChange::Reset => {
                self.events.start_env.remove(&unit);
                self.events.unset_env.remove(&unit);
            }
        }
    }

    /// The execution settings a spawn of `unit` uses: the unit's own, except that variables
    /// the start/stop env sets override the job's `env` stanzas (Upstart's order: class env,
    /// then start env) and variables unset from the job's table stay unset.
    pub(crate) fn event_exec_context(
        &self,
        unit: UnitId,
        phase: ExecPhase,
        exec: std::sync::Arc<crate::spec::ExecContext>,
    ) -> std::sync::Arc<crate::spec::ExecContext> {
        let overrides: Vec<String> = self
            .event_spawn_env(unit, phase)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let unset = self
            .events
            .unset_env
            .get(&unit)
            .cloned()
            .unwrap_or_default();
        let clash = exec
            .environment
            .iter()
            .any(|(k, _)| overrides.contains(k) || unset.contains(k));
        if !clash && unset.is_empty() {
            return exec;
        }
        let mut e = (*exec).clone();
        e.environment
            .retain(|(k, _)| !overrides.contains(k) && !unset.contains(k));
        e.pass_environment.retain(|k| !overrides.contains(k));
        e.unset_environment.extend(unset);
        std::sync::Arc::new(e)
    }

    /// Events emitted but not finished yet, as (id, name, env, holders, failed).
    pub fn pending_event_details(&self) -> Vec<(EventId, String, Vec<String>, u32, bool)> {
        self.events
            .events
            .iter()
            .map(|(id, e)| (*id, e.name.clone(), e.env.clone(), e.holders, e.failed))
            .collect()
    }

    /// The stop env of `unit` (from a stop event or a Job.Stop call), `KEY=VALUE`.
    pub fn stop_env(&self, unit: UnitId) -> &[String] {
        self.events
            .stop_env
            .get(&self.resolve(unit))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Events emitted but not finished yet, as (id, name).
    pub fn pending_events(&self) -> Vec<(EventId, String)> {
        self.events
            .events
            .iter()
            .map(|(id, e)| (*id, e.name.clone()))
            .collect()
    }

    fn queue_event(&mut self, name: &str, env: Vec<String>) -> EventId {
        self.events.next_id += 1;
        let id = self.events.next_id;
        self.events.events.insert(
            id,
            Event {
                name: name.to_owned(),
                env,
                holders: 0,
                failed: false,
                matched: false,
            },
        );
        self.events.queue.push_back(id);
        id
    }

    /// Extra environment for a spawn of `unit`: the start env, plus the stop env for the stop
    /// phases. Called by the service spawner.
    pub(crate) fn event_spawn_env(&self, unit: UnitId, phase: ExecPhase) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut add = |list: Option<&Vec<String>>| {
            for e in list.into_iter().flatten() {
                if let Some((k, v)) = e.split_once('=') {
                    out.retain(|(ok, _): &(String, String)| ok != k);
                    out.push((k.to_owned(), v.to_owned()));
                }
            }
        };
        add(self.events.start_env.get(&unit));
        if matches!(phase, ExecPhase::Stop | ExecPhase::StopPost) {
            add(self.events.stop_env.get(&unit));
        }
        out
    }

    /// Match queued events; returns whether any was processed (jobs may have been enqueued).
    pub(crate) fn process_events(&mut self) -> bool {
        let mut any = false;
        while let Some(ev) = self.events.queue.pop_front() {
            any = true;
            self.match_event(ev);
            if let Some(e) = self.events.events.get_mut(&ev) {
                e.matched = true;
            }
            self.maybe_finish_event(ev);
        }
        any
    }

    fn match_event(&mut self, ev: EventId) {
        let Some(event) = self.events.events.get(&ev).cloned() else {
            return;
        };
        let jobs: Vec<UnitId> = self
            .units
            .iter()
            .filter(|u| u.merged_into.is_none() && u.loaded.spec.upstart.is_some())
            .map(|u| u.id)
            .collect();
        // stop on first, for every job, then start on (an event in both restarts the job).
        for stop in [true, false] {
            for &id in &jobs {
                let meta = self.u(id).loaded.spec.upstart.as_deref();
                let Some(expr) = meta.and_then(|m| {
                    if stop {
                        m.stop_on.clone()
                    } else {
                        m.start_on.clone()
                    }
                }) else {
                    continue;
                };
                // An instance unit's start is driven by its class unit's `start on`.
                let instance_unit = meta.is_some_and(|m| !m.instance_name.is_empty());
                if !stop && instance_unit {
                    continue;
                }
                let goal_start = self.goal_is_start(id);
                if stop && !goal_start {
                    continue;
                }
                // `stop on` values expand against the instance's environment (Upstart's
                // job->env, fixed at `starting`); `start on` ones are matched as written.
                let vars = stop.then(|| self.job_env(id));
                let leaves = expr.leaves();
                let latches = self
                    .events
                    .latches
                    .entry((id, stop))
                    .or_insert_with(|| vec![None; leaves.len()]);
                latches.resize(leaves.len(), None);
                let mut newly = 0;
                for (i, leaf) in leaves.iter().enumerate() {
                    let EventExpr::Event { name, args } = leaf else {
                        continue;
                    };
                    if latches[i].is_none()
                        && leaf_matches_expanded(
                            name,
                            args,
                            &event.name,
                            &event.env,
                            vars.as_deref(),
                        )
                    {
                        latches[i] = Some(ev);
                        newly += 1;
                    }
                }
                if newly == 0 {
                    continue;
                }
                if let Some(e) = self.events.events.get_mut(&ev) {
                    e.holders += newly;
                }
                let latches = self.events.latches[&(id, stop)].clone();
                if !eval(&expr, &latches, &mut 0) {
                    continue;
                }
                let mut fired = Vec::new();
                true_events(&expr, &latches, &mut 0, &mut fired);
                fired.dedup();
                self.fire(id, stop, goal_start, &fired);
                // Reset the tree: every latch lets go of its event.
                let reset = std::mem::take(
                    self.events
                        .latches
                        .get_mut(&(id, stop))
                        .expect("latches exist"),
                );
                for e in reset.into_iter().flatten() {
                    self.release(e, false);
                }
            }
        }
    }

    /// A job's condition became true by `fired` events: start or stop it.
    fn fire(&mut self, id: UnitId, stop: bool, goal_start: bool, fired: &[EventId]) {
        let mut env = Vec::new();
        let mut names = Vec::new();
        for e in fired {
            if let Some(ev) = self.events.events.get(e) {
                for kv in &ev.env {
                    let key = kv.split_once('=').map(|(k, _)| k).unwrap_or(kv);
                    env.retain(|o: &String| o.split_once('=').map(|(k, _)| k) != Some(key));
                    env.push(kv.clone());
                }
                names.push(ev.name.clone());
            }
        }
        let mut id = id;
        let (job_type, hold, var) = if stop {
            (JobType::Stop, Hold::Stop, "UPSTART_STOP_EVENTS")
        } else {
            match self.start_target(id, &env) {
                Ok(target) if target != id => {
                    id = target;
                    if self.goal_is_start(id) {
                        return;
                    }
                }
                Ok(_) if goal_start => return,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(
                        unit = self.u(id).name(),
                        "Failed to obtain {} instance: {e}",
                        job_name_of(self.u(id))
                    );
                    return;
                }
            }
            (JobType::Start, Hold::Start, "UPSTART_EVENTS")
        };
        env.push(format!("{var}={}", names.join(" ")));
        // The goal changes: what the instance held for an earlier start or stop is released.
        self.release_event_holds(id);
        if stop {
            self.events.stop_env.insert(id, env);
        } else {
            self.events.start_env.insert(id, env);
        }
        match self.enqueue_internal(id, job_type, JobMode::Replace, false) {
            Ok(_) => {
                for e in fired {
                    if let Some(ev) = self.events.events.get_mut(e) {
                        ev.holders += 1;
                        self.events.holds.entry(id).or_default().push((*e, hold));
                    }
                }
            }
            Err(err) => {
                tracing::warn!(
                    unit = self.u(id).name(),
                    "event could not {} the job: {err}",
                    if stop { "stop" } else { "start" }
                );
                for e in fired {
                    if let Some(ev) = self.events.events.get_mut(e) {
                        ev.failed = true;
                    }
                }
            }
        }
    }

    /// The unit that runs the instance a start of job `class` with start env `env` selects:
    /// the class unit itself for single-instance jobs (and the empty instance name), else the
    /// instance unit `<job>@<inst>.service`, created from the class if it does not exist yet.
    /// `Err` with Upstart's message when the `instance` template does not expand.
    pub fn start_target(&mut self, class: UnitId, env: &[String]) -> Result<UnitId, String> {
        let class = self.resolve(class);
        let Some(meta) = self.u(class).loaded.spec.upstart.as_deref() else {
            return Ok(class);
        };
        if meta.instance.is_empty() {
            return Ok(class);
        }
        let inst = upstart::expand(&meta.instance, &self.instance_env(class, env))?;
        let name = upstart::instance_unit_name(self.u(class).name(), &inst);
        if let Some(id) = self.lookup(&name)
            && self.u(id).loaded.load_state != LoadState::Stub
        {
            return Ok(id);
        }
        if crate::spec::UnitName::new(&name).is_err() {
            return Err(format!("Invalid instance name: {inst}"));
        }
        let loaded = upstart::instantiate(&self.u(class).loaded, &name, &inst)
            .ok_or_else(|| format!("Invalid instance name: {inst}"))?;
        let now = self.now;
        Ok(self.insert(now, &name, loaded))
    }

    /// The environment an instance name is expanded against: the global job environment, the
    /// job's `env` stanzas, then `env` (the start env), later entries winning.
    pub fn instance_env(&self, class: UnitId, env: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in self.environment() {
            upstart::env_set(&mut out, e);
        }
        if let Some(meta) = self.u(class).loaded.spec.upstart.as_deref() {
            for e in &meta.env {
                if e.contains('=') {
                    upstart::env_set(&mut out, e);
                }
            }
        }
        for e in env {
            upstart::env_set(&mut out, e);
        }
        out
    }

    /// Hold Upstart job `id` in `starting` (the service's `condition` sub-state, no process)
    /// until the `starting` event this transition emits has finished: every job that event
    /// started is running (tasks: done) and every job it stopped is down — Upstart's blocking
    /// `starting`. Returns false for units that are not Upstart jobs (they start at once).
    pub(crate) fn gate_on_starting(&mut self, id: UnitId) -> bool {
        if self.u(id).loaded.spec.upstart.is_none() {
            return false;
        }
        self.events.start_gates.insert(id, None);
        self.service_set_state(id, ServiceState::Condition, false);
        match self.events.start_gates.get(&id) {
            // The transition queued the event: wait for it.
            Some(Some(_)) => true,
            // No `starting` was emitted (e.g. the unit was already activating): go on.
            _ => {
                self.events.start_gates.remove(&id);
                false
            }
        }
    }

    /// Hold Upstart job `id` in `stopping` while the `stopping` event it emitted is not
    /// finished (every job that event started is running, every job it stopped is down);
    /// `resume` is carried out when it is. Upstart's blocking `stopping`: `stop on stopping
    /// foo` jobs are down before foo's main process is killed or its post-stop runs.
    pub(crate) fn gate_on_stopping(&mut self, id: UnitId, resume: StopResume) -> bool {
        if self.u(id).loaded.spec.upstart.is_none() {
            return false;
        }
        let Some(&ev) = self.events.stopping_events.get(&id) else {
            return false;
        };
        if !self.events.events.contains_key(&ev) {
            return false;
        }
        self.events.stop_gates.insert(id, (ev, resume));
        true
    }

    /// Whether Upstart job `unit` is held in `stopping` (its kill or post-stop waits for its
    /// `stopping` event).
    pub fn held_in_stopping(&self, unit: UnitId) -> bool {
        self.events.stop_gates.contains_key(&self.resolve(unit))
    }

    /// The jobs held in `stopping` by `ev` go on.
    fn open_stop_gates(&mut self, ev: EventId) {
        let ready: Vec<(UnitId, StopResume)> = self
            .events
            .stop_gates
            .iter()
            .filter(|(_, (e, _))| *e == ev)
            .map(|(u, (_, r))| (*u, *r))
            .collect();
        for (id, resume) in ready {
            self.events.stop_gates.remove(&id);
            let state = self.u(id).service.state;
            match resume {
                StopResume::Signal(f) if state == ServiceState::StopSigterm => {
                    self.service_enter_signal(id, ServiceState::StopSigterm, f)
                }
                StopResume::StopPost(f)
                    if !matches!(
                        state,
                        ServiceState::StopPost
                            | ServiceState::Dead
                            | ServiceState::Failed
                            | ServiceState::FinalSigterm
                            | ServiceState::FinalSigkill
                            | ServiceState::FinalWatchdog
                    ) =>
                {
                    self.service_enter_stop_post(id, f)
                }
                _ => {}
            }
        }
    }

    /// The gated jobs waiting for `ev` go on to pre-start.
    fn open_start_gates(&mut self, ev: EventId) {
        let ready: Vec<UnitId> = self
            .events
            .start_gates
            .iter()
            .filter(|(_, g)| **g == Some(ev))
            .map(|(u, _)| *u)
            .collect();
        for id in ready {
            self.events.start_gates.remove(&id);
            let s = &self.u(id).service;
            if s.state == ServiceState::Condition && s.control_pid.is_none() {
                self.service_enter_condition(id);
            }
        }
    }

    /// Goal `start`: a start job is pending, or no stop job is and the unit is up or coming up.
    fn goal_is_start(&self, id: UnitId) -> bool {
        let u = self.u(id);
        match u.job.and_then(|j| self.jobs.get(&j)).map(|j| j.job_type) {
            Some(JobType::Stop) => false,
            Some(
                JobType::Start | JobType::Restart | JobType::TryRestart | JobType::ReloadOrStart,
            ) => true,
            _ => matches!(
                u.active_state,
                ActiveState::Active | ActiveState::Reloading | ActiveState::Activating
            ),
        }
    }

    fn release(&mut self, ev: EventId, failed: bool) {
        if let Some(e) = self.events.events.get_mut(&ev) {
            e.holders = e.holders.saturating_sub(1);
            e.failed |= failed;
        }
        self.maybe_finish_event(ev);
    }

    fn maybe_finish_event(&mut self, ev: EventId) {
        let done = self
            .events
            .events
            .get(&ev)
            .is_some_and(|e| e.matched && e.holders == 0);
        if !done {
            return;
        }
        let e = self.events.events.remove(&ev).expect("event exists");
        if e.failed && !e.name.ends_with("/failed") {
            self.queue_event(&format!("{}/failed", e.name), e.env.clone());
        }
        self.changes.push_back(Change::EventFinished {
            event: ev,
            name: e.name,
            env: e.env,
            failed: e.failed,
        });
        self.open_start_gates(ev);
        self.open_stop_gates(ev);
    }

    /// A newer command on a job instance (Upstart's `job_finished(job, FALSE)` before a goal
    /// change): every event the instance holds is released with success, so an emitter waiting
    /// on it is answered. Called for D-Bus Start/Stop/Restart and when an event changes the
    /// instance's goal.
    pub fn release_event_holds(&mut self, unit: UnitId) {
        let unit = self.resolve(unit);
        let Some(holds) = self.events.holds.remove(&unit) else {
            return;
        };
        for (ev, _) in holds {
            self.release(ev, false);
        }
    }

    /// Release the events a unit holds once it reached the rest state they wait for.
    pub(crate) fn settle_event_holds(&mut self, id: UnitId) {
        let Some(holds) = self.events.holds.get(&id) else {
            return;
        };
        if holds.is_empty() {
            return;
        }
        let u = self.u(id);
        let task = is_task(u);
        let idle = u.job.is_none();
        let st = u.active_state;
        let mut keep = Vec::new();
        let mut done = Vec::new();
        for &(ev, hold) in holds {
            let outcome = match hold {
                Hold::Start if !task && st.is_active_or_reloading() => Some(false),
                Hold::Start if idle && st == ActiveState::Inactive => Some(!task),
                Hold::Start | Hold::Stop if idle && st == ActiveState::Failed => Some(true),
                Hold::Stop if idle && st == ActiveState::Inactive => Some(false),
                _ => None,
            };
            match outcome {
                Some(failed) => done.push((ev, failed)),
                None => keep.push((ev, hold)),
            }
        }
        self.events.holds.insert(id, keep);
        for (ev, failed) in done {
            self.release(ev, failed);
        }
    }

    /// Emit the job events of a unit's ActiveState transition (called by `set_active_state`).
    pub(crate) fn job_events_for_transition(
        &mut self,
        id: UnitId,
        ns: ActiveState,
        will_restart: bool,
    ) {
        let phase = self.events.phase.get(&id).copied().unwrap_or_default();
        let mut emit: Vec<&'static str> = Vec::new();
        let next = match ns {
            ActiveState::Activating => match phase {
                Phase::Down => {
                    emit.push("starting");
                    Phase::Starting
                }
                Phase::Up | Phase::Stopping => {
                    // Respawn: stopping (if not yet), no stopped, then starting.
                    if phase == Phase::Up {
                        emit.push("stopping");
                    }
                    emit.push("starting");
                    Phase::Starting
                }
                p => p,
            },
            ActiveState::Active | ActiveState::Reloading => {
                if phase == Phase::Down || phase == Phase::Stopping {
                    emit.push("starting");
                }
                if phase != Phase::Up {
                    emit.push("started");
                }
                Phase::Up
            }
            ActiveState::Deactivating => match phase {
                Phase::Up | Phase::Starting => {
                    emit.push("stopping");
                    Phase::Stopping
                }
                p => p,
            },
            ActiveState::Inactive | ActiveState::Failed => {
                if matches!(phase, Phase::Up | Phase::Starting) {
                    emit.push("stopping");
                }
                if phase != Phase::Down && !will_restart {
                    emit.push("stopped");
                }
                Phase::Down
            }
            ActiveState::Maintenance => phase,
        };
        self.events.phase.insert(id, next);
        for name in emit {
            let env = self.job_event_env(id, name);
            let ev = self.queue_event(name, env);
            if name == "starting"
                && let Some(gate) = self.events.start_gates.get_mut(&id)
            {
                *gate = Some(ev);
            }
            if name == "stopping" && self.u(id).loaded.spec.upstart.is_some() {
                self.events.stopping_events.insert(id, ev);
            }
        }
        if matches!(ns, ActiveState::Inactive | ActiveState::Failed) && !will_restart {
            self.events.start_env.remove(&id);
            self.events.stop_env.remove(&id);
            self.events.unset_env.remove(&id);
            self.events.start_gates.remove(&id);
            self.events.stop_gates.remove(&id);
            self.events.latches.remove(&(id, true));
        }
        self.settle_event_holds(id);
    }

    /// `JOB`, `INSTANCE`, for stopping/stopped `RESULT` (+ `PROCESS`, `EXIT_STATUS` or
    /// `EXIT_SIGNAL` when failed), then the job's exported variables.
    fn job_event_env(&self, id: UnitId, name: &str) -> Vec<String> {
        let u = self.u(id);
        let inst = u
            .loaded
            .spec
            .upstart
            .as_deref()
            .map(|m| m.instance_name.as_str())
            .unwrap_or_default();
        let mut env = vec![
            format!("JOB={}", job_name_of(u)),
            format!("INSTANCE={inst}"),
        ];
        if matches!(name, "stopping" | "stopped") {
            let s = &u.service;
            let failed = u.active_state == ActiveState::Failed
                || (s.result != ServiceResult::Success && u.is_service());
            if !failed {
                env.push("RESULT=ok".into());
            } else {
                env.push("RESULT=failed".into());
                env.extend(self.failure_details(id));
            }
        }
        if let Some(meta) = u.loaded.spec.upstart.as_deref() {
            let start_env = self.events.start_env.get(&id);
            for var in &meta.export {
                let found = start_env
                    .into_iter()
                    .flatten()
                    .chain(meta.env.iter())
                    .find(|e| e.split_once('=').is_some_and(|(k, _)| k == var));
                if let Some(kv) = found {
                    env.push(kv.clone());
                }
            }
        }
        env
    }

    /// `PROCESS=…` and `EXIT_STATUS=`/`EXIT_SIGNAL=` of a failed unit.
    fn failure_details(&self, id: UnitId) -> Vec<String> {
        let s = &self.u(id).service;
        let status = |code: i32, status: i32| -> String {
            if code == 1 {
                format!("EXIT_STATUS={status}")
            } else {
                let sig = crate::spec::linux::signal_name(status)
                    .map(|n| n.trim_start_matches("SIG").to_owned())
                    .unwrap_or_else(|| status.to_string());
                format!("EXIT_SIGNAL={sig}")
            }
        };
        if s.result == ServiceResult::StartLimitHit {
            return vec!["PROCESS=respawn".into()];
        }
        if let Some(st) = s.main_exit {
            let (code, v) = match st {
                ExitStatus::Exited(c) => (1, c),
                ExitStatus::Killed(sig) => (2, sig),
                ExitStatus::Dumped(sig) => (3, sig),
            };
            if !(code == 1 && v == 0) {
                return vec!["PROCESS=main".into(), status(code, v)];
            }
        }
        let phases = [
            (ExecPhase::StartPre, "pre-start"),
            (ExecPhase::StartPost, "post-start"),
            (ExecPhase::Stop, "pre-stop"),
            (ExecPhase::StopPost, "post-stop"),
        ];
        for (phase, pname) in phases {
            if let Some(run) = s.exec_runs[phase.index()]
                .iter()
                .find(|r| r.code > 1 || (r.code == 1 && r.status != 0))
            {
                return vec![format!("PROCESS={pname}"), status(run.code, run.status)];
            }
        }
        vec!["PROCESS=main".into()]
    }
}
