//! Public operations of the engine: loading units, requests, inputs, timers, queries.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use super::service::TimerKind;
use super::*;
use crate::spec::{DepKind, KindSpec, LoadState, LoadedUnit, UnitName};

impl Engine {
    /// A new, empty engine.
    pub fn new(cfg: EngineConfig) -> Engine {
        let mut env = cfg.manager_env.clone();
        env.sort();
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
            timers: BTreeSet::new(),
            pids: HashMap::new(),
            run_queue: VecDeque::new(),
            now: Timestamp::NEVER,
            gc_pending: false,
            events: Default::default(),
            zones: Box::new(crate::spec::calendar::FixedOffset(0)),
            timer_boot_base: 0,
            startup: Timestamp::NEVER,
        }
    }

    /// Whether this engine is a user manager.
    pub fn user_scope(&self) -> bool {
        self.cfg.user_scope
    }

    /// Add a loaded unit, or replace the load data of an existing one (daemon-reload, stub
    /// resolution) keeping its runtime state. `requested` is the name the caller asked the
    /// loader for (it may be an alias of `loaded.name`). Registers aliases and dependency edges
    /// (including default dependencies); names it references that are not known yet become
    /// stubs (see [`Engine::take_stubs`]).
    pub fn insert(&mut self, now: Timestamp, requested: &str, loaded: LoadedUnit) -> UnitId {
        self.now = now;
        let primary = loaded.name.clone();
        let id = match self.names.get(&primary) {
            Some(&id) => self.resolve(id),
            None => self.create_unit(&primary),
        };
        // Every other name of this unit that already has its own record is merged into it.
        let mut other_names: Vec<String> = loaded.aliases.clone();
        if requested != primary {
            other_names.push(requested.to_owned());
        }
        for name in &other_names {
            match self.names.get(name).copied() {
                Some(other) => {
                    let other = self.resolve(other);
                    if other != id {
                        self.merge_into(other, id);
                    }
                }
                None => {
                    self.names.insert(name.clone(), id);
                }
            }
        }
        self.names.insert(primary.clone(), id);

        // Replace forward edges.
        self.drop_forward_edges(id);
        let was_stub = self.u(id).loaded.load_state == LoadState::Stub;
        {
            let u = self.um(id);
            u.loaded = loaded;
            let kind = &u.loaded.spec.kind;
            if let KindSpec::Service(s) = kind {
                let lens = [
                    s.exec_condition.len(),
                    s.exec_start_pre.len(),
                    s.exec_start.len(),
                    s.exec_start_post.len(),
                    s.exec_reload.len(),
                    s.exec_stop.len(),
                    s.exec_stop_post.len(),
                ];
                for (runs, len) in u.service.exec_runs.iter_mut().zip(lens) {
                    runs.resize(len, ExecRun::default());
                }
            }
        }
        let mut deps = self.u(id).loaded.spec.deps.clone();
        deps.extend(self.default_dependencies(id));
        deps.extend(self.exec_dependencies(id));
        for (kind, name) in deps {
            let other = self.lookup_or_stub(&name);
            if other == id && kind != DepKind::JoinsNamespaceOf {
                continue;
            }
            self.add_edge(id, kind, other);
        }
        self.add_default_target_orderings(id);
        self.add_mount_hierarchy_dependencies(id);
        if was_stub {
            self.changes.push_back(Change::UnitNew {
                unit: id,
                name: primary,
            });
        }
        // A timer reloaded while armed recomputes its next elapse from the new values (systemd
        // re-enters `waiting` when it deserializes a waiting or elapsed timer).
        if self.u(id).is_timer()
            && matches!(
                self.u(id).timer.state,
                super::TimerState::Waiting | super::TimerState::Elapsed
            )
        {
            self.timer_reloaded(id);
        }
        self.mark_dirty(id);
        self.flush_dirty();
        id
    }

    /// Names referenced by dependencies that have not been loaded yet; the caller loads each
    /// and calls [`Engine::insert`]. Drains the list.
    pub fn take_stubs(&mut self) -> Vec<String> {
        std::mem::take(&mut self.stubs)
            .into_iter()
            .filter(|id| {
                self.u(*id).merged_into.is_none()
                    && !self.u(*id).removed
                    && self.u(*id).loaded.load_state == LoadState::Stub
            })
            .map(|id| self.u(id).name().to_owned())
            .collect()
    }

    /// Find a unit by name or alias.
    pub fn lookup(&self, name: &str) -> Option<UnitId> {
        self.names.get(name).map(|id| self.resolve(*id))
    }

    /// A unit by id. Panics on an id this engine never handed out.
    pub fn unit(&self, id: UnitId) -> &Unit {
        &self.units[self.resolve(id).0 as usize]
    }

    /// A unit by id, or `None` for an id that was never handed out or whose unit was merged
    /// into another (an alias) or removed.
    pub fn try_unit(&self, id: UnitId) -> Option<&Unit> {
        let u = self.units.get(id.0 as usize)?;
        if u.merged_into.is_some() || u.loaded.load_state == LoadState::Stub {
            return None;
        }
        Some(u)
    }

    /// All units (including not-found ones that were referenced or queried), in load order.
    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units
            .iter()
            .filter(|u| u.merged_into.is_none() && u.loaded.load_state != LoadState::Stub)
    }

    /// Number of names (ids and aliases) the engine knows.
    pub fn n_names(&self) -> usize {
        self.names.len()
    }

    /// A job by id.
    pub fn job(&self, id: JobId) -> Option<&Job> {
        self.jobs.get(&id)
    }

    /// All installed jobs, by id.
    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.jobs.values()
    }

    /// Enqueue a job for `unit` (a client request when `manual`), building the transaction.
    /// Returns the anchor job id; the job may already be finished (its `JobRemoved` change is
    /// then queued).
    pub fn enqueue(
        &mut self,
        now: Timestamp,
        unit: UnitId,
        job_type: JobType,
        mode: JobMode,
        manual: bool,
    ) -> Result<JobId, EnqueueError> {
        self.now = now;
        let unit = self.resolve(unit);
        let r = self.enqueue_internal(unit, job_type, mode, manual);
        self.finish_step();
        r
    }

    /// Cancel a job (`CancelJob`, `Job.Cancel`).
    pub fn cancel_job(&mut self, now: Timestamp, job: JobId) -> Result<(), EnqueueError> {
        self.now = now;
        if !self.jobs.contains_key(&job) {
            return Err(EnqueueError::NoSuchJob(format!(
                "Job {job} does not exist."
            )));
        }
        self.finish_job(job, JobResult::Canceled);
        self.finish_step();
        Ok(())
    }

    /// Feed an event.
    pub fn handle_input(&mut self, now: Timestamp, input: Input) {
        self.now = now;
        match input {
            Input::Spawned {
                unit,
                token,
                pid,
                exec_ok: _,
            } if self.u(self.resolve(unit)).is_mount() => {
                self.mount_spawned(self.resolve(unit), token, pid)
            }
            Input::Spawned {
                unit,
                token,
                pid,
                exec_ok,
            } => self.service_spawned(unit, token, pid, exec_ok),
            Input::SpawnFailed {
                unit,
                token,
                reason,
            } if self.u(self.resolve(unit)).is_mount() => {
                self.mount_spawn_failed(self.resolve(unit), token, &reason)
            }
            Input::SpawnFailed {
                unit,
                token,
                reason,
            } => self.service_spawn_failed(unit, token, &reason),
            Input::Exited {
                pid,
                status,
                unit,
                remaining,
            } => match self
                .pids
                .get(&pid)
                .copied()
                .or(unit)
                .map(|u| self.resolve(u))
            {
                Some(u) if self.u(u).is_scope() => self.scope_exited(u, remaining),
                Some(u) if self.u(u).is_mount() => self.mount_exited(u, pid, status),
                _ => self.service_exited(pid, status, unit, remaining),
            },
            Input::KillDelivered { unit, remaining } if self.u(self.resolve(unit)).is_scope() => {
                self.scope_kill_delivered(self.resolve(unit), remaining)
            }
            Input::KillDelivered { unit, .. } if self.u(self.resolve(unit)).is_mount() => {}
            Input::KillDelivered { unit, remaining } => {
                self.service_kill_delivered(unit, remaining)
            }
            Input::ProcessesAdopted { unit, alive } => {
                self.scope_adopted(self.resolve(unit), alive)
            }
            Input::MainPidGuessed { unit, pid } | Input::PidFileRead { unit, pid } => {
                self.service_main_pid_found(unit, pid)
            }
            Input::ConditionsChecked {
                unit,
                conditions,
                asserts,
            } => self.conditions_checked(unit, conditions, asserts),
            Input::MountPointChecked { unit, mounted } => {
                self.mount_point_checked(self.resolve(unit), mounted)
            }
            Input::SocketsOpened { unit, error } => self.sockets_opened(unit, error),
            Input::SocketReady { unit } => self.socket_ready(unit),
            Input::BusNameOwner { name, owned } => self.bus_name_owner(&name, owned),
            Input::TimerStampRead { unit, realtime } => self.timer_stamp_read(unit, realtime),
            Input::Notify {
                pid,
                uid,
                unit,
                msg,
                main_pid_alive,
                main_pid_unit,
            } => self.notify_message(pid, uid, unit, &msg, main_pid_alive, main_pid_unit),
        }
        self.finish_step();
    }

    /// Fire every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.now = now;
        while let Some(&(deadline, id, kind)) = self.timers.iter().next() {
            if deadline > now.monotonic {
                break;
            }
            self.timers.remove(&(deadline, id, kind));
            match kind {
                TimerKind::JobTimeout => {
                    if let Some(j) = self.u(id).job
                        && self
                            .jobs
                            .get(&j)
                            .is_some_and(|j| j.timeout_at == Some(deadline))
                    {
                        tracing::warn!(unit = self.u(id).name(), "Job timed out.");
                        self.finish_job(j, JobResult::Timeout);
                    }
                }
                TimerKind::PidFileRetry => {
                    if self.u(id).service.pid_file_retry == Some(deadline) {
                        self.um(id).service.pid_file_retry = None;
                        self.service_pid_file_retry(id);
                    }
                }
                TimerKind::TimerElapse => {
                    if self.u(id).timer.armed == Some(deadline) {
                        self.timer_wakeup(id);
                    }
                }
                TimerKind::Watchdog => {
                    if self.u(id).service.watchdog_deadline == Some(deadline) {
                        self.um(id).service.watchdog_deadline = None;
                        self.service_watchdog_expired(id);
                    }
                }
                _ => {
                    if self.u(id).service.timer == Some((deadline, kind)) {
                        self.um(id).service.timer = None;
                        if self.u(id).is_scope() {
                            self.scope_timer_fired(id);
                        } else if self.u(id).is_mount() {
                            self.mount_timer_fired(id);
                        } else {
                            self.service_timer_fired(id, kind);
                        }
                    }
                }
            }
        }
        self.finish_step();
    }

    /// Earliest pending timer deadline (monotonic µs).
    pub fn next_deadline(&self) -> Option<u64> {
        self.timers.iter().next().map(|k| k.0)
    }

    /// Next effect to carry out.
    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    /// Next change to publish.
    pub fn poll_change(&mut self) -> Option<Change> {
        self.changes.pop_front()
    }

    /// `ResetFailedUnit` (`Some`) / `ResetFailed` (`None`): failed units become inactive, their
    /// result, restart counter and start rate limit are reset.
    pub fn reset_failed(&mut self, now: Timestamp, unit: Option<UnitId>) {
        self.now = now;
        let ids: Vec<UnitId> = match unit {
            Some(u) => vec![self.resolve(u)],
            None => self.units().map(|u| u.id).collect(),
        };
        for id in ids {
            let u = self.um(id);
            u.service.n_restarts = 0;
            u.service.start_window = (0, 0);
            if u.active_state == ActiveState::Failed {
                u.service.result = ServiceResult::Success;
                if u.service.state == ServiceState::Failed {
                    u.service.state = ServiceState::Dead;
                }
                self.timer_reset_failed(id);
                if self.u(id).mount.state == super::MountState::Failed {
                    self.um(id).mount.state = super::MountState::Dead;
                    self.um(id).mount.result = super::MountResult::Success;
                }
                self.set_active_state(id, ActiveState::Inactive, false);
            }
        }
        self.finish_step();
    }

    /// systemd's `bus_unit_check_load_state`: `NoSuchUnit`, `LoadFailed`, `BadUnitSetting`
    /// or `UnitMasked` unless `unit` is loaded (`SetUnitProperties` and friends).
    pub fn check_load_state(&self, unit: UnitId) -> Result<(), EnqueueError> {
        self.validate_load_state(self.resolve(unit))
    }

    /// `KillUnit`: signal processes of a unit without changing its state directly.
    pub fn kill_unit(
        &mut self,
        unit: UnitId,
        whom: KillWhom,
        signal: i32,
    ) -> Result<(), EnqueueError> {
        let unit = self.resolve(unit);
        let s = &self.u(unit).service;
        let (main, control) = (s.main_pid, s.control_pid);
        let req = match whom {
            KillWhom::Main => {
                let Some(pid) = main else {
                    return Err(EnqueueError::NoSuchProcess(
                        "No main process to kill".into(),
                    ));
                };
                KillRequest {
                    unit,
                    main: Some(pid),
                    control: None,
                    others: false,
                    signal,
                    sigcont: false,
                    sighup: false,
                }
            }
            KillWhom::Control => {
                let Some(pid) = control else {
                    return Err(EnqueueError::NoSuchProcess(
                        "No control process to kill".into(),
                    ));
                };
                KillRequest {
                    unit,
                    main: None,
                    control: Some(pid),
                    others: false,
                    signal,
                    sigcont: false,
                    sighup: false,
                }
            }
            KillWhom::All => KillRequest {
                unit,
                main,
                control,
                others: true,
                signal,
                sigcont: false,
                sighup: false,
            },
        };
        self.effects.push_back(Effect::Kill(req));
        Ok(())
    }

    /// Adjust the count of client references held on `unit` (never below zero).
    pub fn add_refs(&mut self, unit: UnitId, delta: i32) {
        let unit = self.resolve(unit);
        self.gc_pending = true;
        let u = self.um(unit);
        u.refs = u.refs.saturating_add_signed(delta);
    }

    /// The manager environment (`Environment` property), `KEY=VALUE` strings, sorted.
    pub fn environment(&self) -> &[String] {
        &self.env
    }

    /// `SetEnvironment`/`UnsetEnvironment`/`UnsetAndSetEnvironment`: unset first, then set.
    /// Entries in `unset` may be `NAME` or `NAME=VALUE` (the latter removes only that exact
    /// assignment). Entries in `set` must be `NAME=VALUE` (validated by the caller).
    pub fn set_environment(&mut self, unset: &[String], set: &[String]) {
        for entry in unset {
            if entry.contains('=') {
                self.env.retain(|e| e != entry);
            } else {
                self.env
                    .retain(|e| e.split_once('=').map(|(k, _)| k) != Some(entry.as_str()));
            }
        }
        for entry in set {
            let key = entry.split_once('=').map(|(k, _)| k).unwrap_or(entry);
            self.env
                .retain(|e| e.split_once('=').map(|(k, _)| k) != Some(key));
            self.env.push(entry.clone());
        }
        self.env.sort();
    }

    /// Number of units in `failed` state.
    pub fn n_failed_units(&self) -> u32 {
        self.units()
            .filter(|u| u.active_state == ActiveState::Failed)
            .count() as u32
    }

    /// The unit watching `pid` as main or control process.
    pub fn unit_by_pid(&self, pid: u32) -> Option<UnitId> {
        self.pids.get(&pid).map(|id| self.resolve(*id))
    }

    /// Mark a daemon-reload as started/finished (emits `Reloading`).
    pub fn set_reloading(&mut self, active: bool) {
        self.changes.push_back(Change::Reloading { active });
    }

    /// Whether `unit` may currently be reloaded (`CanReload`).
    pub fn can_reload(&self, unit: UnitId) -> bool {
        match &self.unit(unit).loaded.spec.kind {
            KindSpec::Service(s) => {
                !s.exec_reload.is_empty()
                    || s.service_type == crate::spec::ServiceType::NotifyReload
            }
            _ => false,
        }
    }

    // ---- internals used by insert ----

    fn create_unit(&mut self, name: &str) -> UnitId {
        let id = UnitId(self.units.len() as u32);
        let spec_name = UnitName::new(name).ok();
        let spec = match &spec_name {
            Some(n) => crate::spec::UnitSpec::default_for(n),
            None => crate::spec::UnitSpec::default_for(
                &UnitName::new("invalid.service").expect("valid literal"),
            ),
        };
        self.units.push(Unit::new(
            id,
            LoadedUnit {
                name: name.to_owned(),
                aliases: Vec::new(),
                load_state: LoadState::Stub,
                load_error: None,
                fragment_path: None,
                dropin_paths: Vec::new(),
                diagnostics: Vec::new(),
                spec,
            },
        ));
        self.names.insert(name.to_owned(), id);
        id
    }

    fn lookup_or_stub(&mut self, name: &str) -> UnitId {
        if let Some(id) = self.lookup(name) {
            return id;
        }
        let id = self.create_unit(name);
        self.stubs.push(id);
        id
    }

    fn add_edge(&mut self, from: UnitId, kind: DepKind, to: UnitId) {
        let fwd = (DepEdge::Forward(kind), to);
        if !self.u(from).edges.contains(&fwd) {
            self.um(from).edges.push(fwd);
            self.um(to).edges.push((DepEdge::Reverse(kind), from));
        }
    }

    fn drop_forward_edges(&mut self, id: UnitId) {
        let edges = std::mem::take(&mut self.um(id).edges);
        let mut keep = Vec::with_capacity(edges.len());
        for (e, other) in edges {
            match e {
                DepEdge::Forward(k) => {
                    let back = (DepEdge::Reverse(k), id);
                    let o = self.um(other);
                    if let Some(pos) = o.edges.iter().position(|x| *x == back) {
                        o.edges.swap_remove(pos);
                    }
                }
                DepEdge::Reverse(_) => keep.push((e, other)),
            }
        }
        self.um(id).edges = keep;
    }

    /// Merge the record `from` (an alias that got its own record earlier) into `into`.
    fn merge_into(&mut self, from: UnitId, into: UnitId) {
        self.drop_forward_edges(from);
        let reverse = std::mem::take(&mut self.um(from).edges);
        for (e, other) in reverse {
            if let DepEdge::Reverse(k) = e {
                // `other` has a forward edge to `from`; point it at `into`.
                let o = self.um(other);
                for edge in o.edges.iter_mut() {
                    if *edge == (DepEdge::Forward(k), from) {
                        edge.1 = into;
                    }
                }
                if !self.u(into).edges.contains(&(DepEdge::Reverse(k), other)) {
                    self.um(into).edges.push((DepEdge::Reverse(k), other));
                }
            }
        }
        let name = self.u(from).name().to_owned();
        self.um(from).merged_into = Some(into);
        self.names.insert(name, into);
    }

    /// systemd's default dependencies for the unit's type and scope.
    fn default_dependencies(&self, id: UnitId) -> Vec<(DepKind, String)> {
        let u = self.u(id);
        if !u.loaded.spec.default_dependencies || u.loaded.load_state != LoadState::Loaded {
            return Vec::new();
        }
        let mut deps = Vec::new();
        let shutdown = "shutdown.target".to_string();
        match &u.loaded.spec.kind {
            KindSpec::Service(_) => {
                if self.cfg.user_scope {
                    deps.push((DepKind::Requires, "basic.target".to_string()));
                    deps.push((DepKind::After, "basic.target".to_string()));
                } else {
                    deps.push((DepKind::Requires, "sysinit.target".to_string()));
                    deps.push((DepKind::After, "sysinit.target".to_string()));
                    deps.push((DepKind::After, "basic.target".to_string()));
                }
                deps.push((DepKind::Conflicts, shutdown.clone()));
                deps.push((DepKind::Before, shutdown));
            }
            KindSpec::Target => {
                // target_add_default_dependencies; the ordering after the units a target pulls
                // in is added by `add_default_target_orderings`, once both sides are loaded.
                if u.name() != "shutdown.target" {
                    deps.push((DepKind::Conflicts, shutdown.clone()));
                    deps.push((DepKind::Before, shutdown));
                }
            }
            KindSpec::Socket(_) => {
                // socket_add_default_dependencies.
                deps.push((DepKind::Before, "sockets.target".to_string()));
                if !self.cfg.user_scope {
                    deps.push((DepKind::Requires, "sysinit.target".to_string()));
                    deps.push((DepKind::After, "sysinit.target".to_string()));
                }
                deps.push((DepKind::Conflicts, shutdown.clone()));
                deps.push((DepKind::Before, shutdown));
            }
            KindSpec::Timer(t) => {
                // timer_add_default_dependencies.
                deps.push((DepKind::Before, "timers.target".to_string()));
                if !self.cfg.user_scope {
                    deps.push((DepKind::Requires, "sysinit.target".to_string()));
                    deps.push((DepKind::After, "sysinit.target".to_string()));
                    if !t.calendar.is_empty() {
                        deps.push((DepKind::After, "time-sync.target".to_string()));
                        deps.push((DepKind::After, "time-set.target".to_string()));
                    }
                }
                deps.push((DepKind::Conflicts, shutdown.clone()));
                deps.push((DepKind::Before, shutdown));
            }
            // mount_add_default_dependencies.
            KindSpec::Mount(m) if !self.cfg.user_scope => {
                deps.extend(mount_default_dependencies(m))
            }
            KindSpec::Mount(_) => {}
            // slice_add_default_dependencies, scope_add_default_dependencies.
            KindSpec::Other(_) if u.is_slice() || u.is_scope() => {
                deps.push((DepKind::Conflicts, shutdown.clone()));
                deps.push((DepKind::Before, shutdown));
            }
            KindSpec::Other(_) => {
                let system = !self.cfg.user_scope;
                match u.name().rsplit_once('.').map(|(_, t)| t) {
                    // path_add_default_dependencies.
                    Some("path") => {
                        deps.push((DepKind::Before, "paths.target".to_string()));
                        if system {
                            deps.push((DepKind::Requires, "sysinit.target".to_string()));
                            deps.push((DepKind::After, "sysinit.target".to_string()));
                        }
                        deps.push((DepKind::Conflicts, shutdown.clone()));
                        deps.push((DepKind::Before, shutdown));
                    }
                    // automount_add_default_dependencies.
                    Some("automount") if system => {
                        deps.push((DepKind::Before, "local-fs.target".to_string()));
                        deps.push((DepKind::After, "local-fs-pre.target".to_string()));
                        deps.push((DepKind::Conflicts, "umount.target".to_string()));
                        deps.push((DepKind::Before, "umount.target".to_string()));
                    }
                    _ => {}
                }
            }
        }
        deps
    }

    /// The part of systemd's `unit_add_exec_dependencies` that orders a unit (whatever its
    /// `DefaultDependencies=`): in the system manager, a service that logs to the journal —
    /// `StandardOutput=journal`, the default, or `StandardError=journal` — starts after
    /// `systemd-journald.socket`, so its first lines reach journald when both start in one
    /// transaction (Debian's `sysinit.target`).
    fn exec_dependencies(&self, id: UnitId) -> Vec<(DepKind, String)> {
        use crate::spec::{StdInput, StdOutput};
        let u = self.u(id);
        if self.cfg.user_scope || u.loaded.load_state != LoadState::Loaded {
            return Vec::new();
        }
        let KindSpec::Service(s) = &u.loaded.spec.kind else {
            return Vec::new();
        };
        let c = &s.exec;
        // `inherit` on stdout follows stdin (a socket stays a socket), else the default
        // (journal); on stderr it follows stdout.
        let stdout_journal = match c.stdout {
            StdOutput::Journal => true,
            StdOutput::Inherit => c.stdin != StdInput::Socket,
            _ => false,
        };
        let stderr_journal = match c.stderr {
            StdOutput::Journal => true,
            StdOutput::Inherit => stdout_journal,
            _ => false,
        };
        if stdout_journal || stderr_journal {
            vec![(DepKind::After, "systemd-journald.socket".to_string())]
        } else {
            Vec::new()
        }
    }

    /// systemd's `unit_add_default_target_dependency`, from both sides of `id`: a target with
    /// default dependencies is ordered after each unit it pulls in (`Requires=`, `Requisite=`,
    /// `Wants=`, `BindsTo=`, `Upholds=`, `.wants/` included) that has default dependencies too —
    /// unless the target is already ordered before it. systemd adds it when the later of the two
    /// is loaded (both must be loaded for the check to be reliable), so this runs for the target
    /// and for the pulled-in unit alike.
    fn add_default_target_orderings(&mut self, id: UnitId) {
        const PULLS: [DepKind; 5] = [
            DepKind::Requires,
            DepKind::Requisite,
            DepKind::Wants,
            DepKind::BindsTo,
            DepKind::Upholds,
        ];
        let mut pairs = Vec::new();
        for (e, other) in &self.u(id).edges {
            match e {
                DepEdge::Forward(k) if PULLS.contains(k) => pairs.push((id, *other)),
                DepEdge::Reverse(k) if PULLS.contains(k) => pairs.push((*other, id)),
                _ => {}
            }
        }
        for (target, unit) in pairs {
            let (t, u) = (self.u(target), self.u(unit));
            if target == unit
                || !matches!(t.loaded.spec.kind, KindSpec::Target)
                || t.loaded.load_state != LoadState::Loaded
                || u.loaded.load_state != LoadState::Loaded
                || !t.loaded.spec.default_dependencies
                || !u.loaded.spec.default_dependencies
                || t.edges.contains(&(DepEdge::Forward(DepKind::Before), unit))
                || t.edges.contains(&(DepEdge::Reverse(DepKind::After), unit))
            {
                continue;
            }
            self.add_edge(target, DepKind::After, unit);
        }
    }
}

impl Engine {
    /// The loaded mount unit's `Where=`, if `id` is one.
    fn loaded_mount_where(&self, id: UnitId) -> Option<&str> {
        let u = self.u(id);
        match &u.loaded.spec.kind {
            KindSpec::Mount(m) if u.loaded.load_state == LoadState::Loaded => Some(&m.where_),
            _ => None,
        }
    }

    /// systemd's `mount_add_mount_dependencies` for mount units loaded from files, from both
    /// sides of `id`: a mount requires and is ordered after the mount units of the paths above
    /// its `Where=` (`/srv/data` after `/srv`), whichever of them was loaded first.
    fn add_mount_hierarchy_dependencies(&mut self, id: UnitId) {
        let Some(me) = self.loaded_mount_where(id).map(str::to_owned) else {
            return;
        };
        let is_below = |child: &str, parent: &str| {
            parent == "/" && child != "/"
                || child
                    .strip_prefix(parent)
                    .is_some_and(|rest| rest.starts_with('/'))
        };
        let mut pairs = Vec::new();
        for u in self.units() {
            if u.id == id {
                continue;
            }
            let Some(other) = self.loaded_mount_where(u.id) else {
                continue;
            };
            if is_below(&me, other) {
                pairs.push((id, u.id));
            } else if is_below(other, &me) {
                pairs.push((u.id, id));
            }
        }
        for (child, parent) in pairs {
            self.add_edge(child, DepKind::Requires, parent);
            self.add_edge(child, DepKind::After, parent);
        }
    }
}

/// systemd's `mount_add_default_dependencies` for a mount unit: nothing for an "extrinsic"
/// mount (`/`, `/usr`, anything below `/run/initramfs`, `/proc`, `/sys` or `/dev`, and
/// `x-initrd.mount` ones outside an initrd — they stay mounted while the system runs); a network file
/// system (`Type=` one of systemd's network types, `fuse.` ones included, or the `_netdev`
/// option) is ordered after `remote-fs-pre.target`, `network.target` and
/// `network-online.target` (which it pulls in) and, unless `nofail`, before
/// `remote-fs.target`; any other after `local-fs-pre.target` and, unless `nofail`, before
/// `local-fs.target` (`x-systemd.automount` ones neither); every one stops before
/// `umount.target`, and a tmpfs after `swap.target`.
fn mount_default_dependencies(m: &crate::spec::MountSpec) -> Vec<(DepKind, String)> {
    const NETWORK_FS: &[&str] = &[
        "afs",
        "ceph",
        "cifs",
        "smb3",
        "smbfs",
        "sshfs",
        "ncpfs",
        "ncp",
        "nfs",
        "nfs4",
        "gfs",
        "gfs2",
        "glusterfs",
        "gpfs",
        "pvfs2",
        "ocfs2",
        "lustre",
        "davfs",
    ];
    let below = |dir: &str| {
        m.where_ == dir
            || m.where_
                .strip_prefix(dir)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    let options: Vec<&str> = m.options.split(',').collect();
    if m.where_ == "/"
        || m.where_ == "/usr"
        || ["/run/initramfs", "/proc", "/sys", "/dev"]
            .into_iter()
            .any(below)
        || options.contains(&"x-initrd.mount")
    {
        return Vec::new();
    }
    let fstype = m.fstype.as_str();
    let network = NETWORK_FS.contains(&fstype.strip_prefix("fuse.").unwrap_or(fstype))
        || options.contains(&"_netdev");
    let nofail = options
        .iter()
        .rev()
        .find(|o| matches!(**o, "nofail" | "fail"))
        .is_some_and(|o| *o == "nofail");
    let (after, before) = if network {
        ("remote-fs-pre.target", "remote-fs.target")
    } else {
        ("local-fs-pre.target", "local-fs.target")
    };
    let mut deps = Vec::new();
    if !nofail && !options.contains(&"x-systemd.automount") {
        deps.push((DepKind::Before, before.to_string()));
    }
    deps.push((DepKind::After, after.to_string()));
    deps.push((DepKind::Conflicts, "umount.target".to_string()));
    deps.push((DepKind::Before, "umount.target".to_string()));
    if network {
        deps.push((DepKind::After, "network.target".to_string()));
        deps.push((DepKind::Wants, "network-online.target".to_string()));
        deps.push((DepKind::After, "network-online.target".to_string()));
    }
    if fstype == "tmpfs" {
        deps.push((DepKind::After, "swap.target".to_string()));
    }
    deps
}
