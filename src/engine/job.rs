//! Jobs: the request to bring a unit to a state. Running a job (systemd's
//! `job_run_and_invalidate`), deciding when it is done from the unit's state changes
//! (`unit_process_job`), and finishing it with failure propagation (`job_finish_and_invalidate`).

use serde::{Deserialize, Serialize};

use super::*;
use crate::spec::{DepKind, KindSpec};

/// An installed job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub unit: UnitId,
    pub job_type: JobType,
    pub state: JobState,
    pub(crate) mode: JobMode,
    /// Requested by a client (not pulled in as a dependency).
    pub(crate) anchor: bool,
    /// `replace-irreversibly`.
    pub(crate) irreversible: bool,
    /// `ignore-dependencies`: ordering is not honoured either.
    pub(crate) ignore_order: bool,
    /// `JobTimeoutSec=` deadline (monotonic µs), if any.
    pub(crate) timeout_at: Option<u64>,
}

/// What starting or stopping a unit did right away.
pub(crate) enum Outcome {
    /// Already in the target state: the job is done.
    Already,
    /// Work started; the job finishes on a later state change.
    Pending,
    /// Cannot run now; the job goes back to waiting.
    Again,
    /// The job ends at once with this result.
    Finish(JobResult),
}

impl Engine {
    /// Whether ordering allows `job` to run now (systemd's `job_is_runnable`).
    fn job_runnable(&self, job: &Job) -> bool {
        if job.job_type == JobType::Nop || job.ignore_order {
            return true;
        }
        let stopping = matches!(job.job_type, JobType::Stop | JobType::Restart);
        for (e, other) in &self.u(job.unit).edges {
            let Some(oj) = self.u(*other).job.and_then(|j| self.jobs.get(&j)) else {
                continue;
            };
            if oj.job_type == JobType::Nop || oj.ignore_order || oj.id == job.id {
                continue;
            }
            let other_stopping = matches!(oj.job_type, JobType::Stop | JobType::Restart);
            match e {
                // This unit is ordered after `other`: a start waits for any job there.
                DepEdge::Forward(DepKind::After) | DepEdge::Reverse(DepKind::Before)
                    if !stopping =>
                {
                    return false;
                }
                // This unit is ordered before `other`: wait if `other` is stopping.
                DepEdge::Forward(DepKind::Before) | DepEdge::Reverse(DepKind::After)
                    if other_stopping =>
                {
                    return false;
                }
                _ => {}
            }
        }
        true
    }

    /// Run every runnable job on the run queue.
    pub(crate) fn dispatch_run_queue(&mut self) {
        while let Some(jid) = self.run_queue.pop_front() {
            let Some(job) = self.jobs.get(&jid) else {
                continue;
            };
            if job.state != JobState::Waiting || !self.job_runnable(job) {
                continue;
            }
            self.run_job(jid);
        }
    }

    fn run_job(&mut self, jid: JobId) {
        let (unit, t) = {
            let j = self.jobs.get_mut(&jid).expect("job exists");
            j.state = JobState::Running;
            (j.unit, j.job_type)
        };
        self.changes.push_back(Change::JobChanged { job: jid });
        let outcome = match t {
            JobType::Nop => Outcome::Already,
            JobType::Start | JobType::ReloadOrStart => self.unit_start(unit),
            JobType::VerifyActive => {
                let st = self.u(unit).active_state;
                if st.is_active_or_reloading() {
                    Outcome::Already
                } else if st == ActiveState::Activating {
                    Outcome::Again
                } else {
                    Outcome::Finish(JobResult::Skipped)
                }
            }
            JobType::Stop | JobType::Restart => self.unit_stop(unit),
            JobType::Reload | JobType::TryReload => self.unit_reload(unit),
            JobType::TryRestart => self.unit_stop(unit),
        };
        // The job may have been finished by a synchronous state change already.
        if !self.jobs.contains_key(&jid) {
            return;
        }
        match outcome {
            Outcome::Already => self.finish_job(jid, JobResult::Done),
            Outcome::Pending => {}
            Outcome::Again => {
                if let Some(j) = self.jobs.get_mut(&jid) {
                    j.state = JobState::Waiting;
                }
            }
            Outcome::Finish(r) => self.finish_job(jid, r),
        }
    }

    fn unit_start(&mut self, unit: UnitId) -> Outcome {
        let u = self.u(unit);
        let has_checks = !u.loaded.spec.conditions.is_empty() || !u.loaded.spec.asserts.is_empty();
        if has_checks && !u.conditions_checked && u.active_state.is_inactive_or_failed() {
            // Conditions are evaluated when the job runs (after ordering), not when enqueued —
            // for every unit type, those unitd cannot start included: as in systemd's
            // `unit_start`, an unmet condition skips the unit (a success) before the type is
            // found unsupported (a failure of the job).
            let conditions = u.loaded.spec.conditions.clone();
            let asserts = u.loaded.spec.asserts.clone();
            self.effects.push_back(Effect::CheckConditions {
                unit,
                conditions,
                asserts,
            });
            return Outcome::Pending;
        }
        self.um(unit).conditions_checked = false;
        if self.u(unit).active_state.is_inactive_or_failed() {
            // No conditions (or asserts) hold trivially, and the check is recorded, for every
            // unit type (systemd's `unit_test_condition`).
            let now = self.now;
            let u = self.um(unit);
            if u.loaded.spec.conditions.is_empty() {
                u.condition_result = true;
                u.timestamps.condition = now;
            }
            if u.loaded.spec.asserts.is_empty() {
                u.assert_result = true;
                u.timestamps.assert = now;
            }
        }
        match self.u(unit).loaded.spec.kind {
            KindSpec::Service(_) => self.service_start(unit),
            KindSpec::Target => self.simple_start(unit),
            KindSpec::Socket(_) => self.socket_start(unit),
            KindSpec::Other(_) if self.u(unit).is_scope() => self.scope_start(unit),
            // A slice has no processes of its own: active once started, like a target.
            KindSpec::Other(_) if self.u(unit).is_slice() => self.simple_start(unit),
            KindSpec::Timer(_) => self.timer_start(unit),
            KindSpec::Mount(_) => self.mount_start(unit),
            KindSpec::Other(_) => {
                // The unit stays inactive (not failed), the job ends `unsupported`, which fails
                // jobs that require it — systemd's result for a type it cannot run here (a swap
                // in a container, an automount without autofs).
                tracing::info!(
                    unit = self.u(unit).name(),
                    "Starting of {} unsupported.",
                    self.u(unit).name()
                );
                Outcome::Finish(JobResult::Unsupported)
            }
        }
    }

    /// Start a unit without processes (targets, slices).
    fn simple_start(&mut self, unit: UnitId) -> Outcome {
        if self.u(unit).active_state.is_active_or_reloading() {
            return Outcome::Already;
        }
        self.um(unit).simple_active = true;
        let id = self.new_invocation_id();
        self.um(unit).invocation_id = id;
        self.set_active_state(unit, ActiveState::Active, false);
        Outcome::Pending
    }

    fn unit_stop(&mut self, unit: UnitId) -> Outcome {
        match self.u(unit).loaded.spec.kind {
            KindSpec::Service(_) => self.service_stop(unit),
            KindSpec::Socket(_) => self.socket_stop(unit),
            KindSpec::Timer(_) => self.timer_stop(unit),
            KindSpec::Mount(_) => self.mount_stop(unit),
            _ if self.u(unit).is_scope() => self.scope_stop(unit),
            _ => {
                if self.u(unit).active_state.is_inactive_or_failed() {
                    return Outcome::Already;
                }
                self.um(unit).simple_active = false;
                self.set_active_state(unit, ActiveState::Inactive, false);
                Outcome::Pending
            }
        }
    }

    fn unit_reload(&mut self, unit: UnitId) -> Outcome {
        let st = self.u(unit).active_state;
        if st == ActiveState::Reloading {
            return Outcome::Again;
        }
        if st != ActiveState::Active {
            return Outcome::Finish(JobResult::Invalid);
        }
        match self.u(unit).loaded.spec.kind {
            KindSpec::Service(_) => self.service_reload(unit),
            _ => Outcome::Already,
        }
    }

    /// Results of `Condition*=`/`Assert*=` for the start job that is running.
    pub(crate) fn conditions_checked(
        &mut self,
        unit: UnitId,
        conditions: Vec<bool>,
        asserts: Vec<bool>,
    ) {
        let Some(jid) = self.u(unit).job else {
            return;
        };
        let now = self.now;
        let spec = &self.u(unit).loaded.spec;
        let overall = |checks: &[crate::spec::Condition], results: &[bool]| {
            let mut any_trigger = false;
            let mut trigger_ok = false;
            for (c, ok) in checks.iter().zip(results) {
                if c.trigger {
                    any_trigger = true;
                    trigger_ok |= *ok;
                } else if !ok {
                    return false;
                }
            }
            !any_trigger || trigger_ok
        };
        let cond_ok = overall(&spec.conditions, &conditions);
        let assert_ok = overall(&spec.asserts, &asserts);
        {
            let u = self.um(unit);
            u.condition_result = cond_ok;
            u.assert_result = assert_ok;
            u.timestamps.condition = now;
            u.timestamps.assert = now;
            u.condition_states = conditions
                .iter()
                .map(|ok| if *ok { 1 } else { -1 })
                .collect();
            u.assert_states = asserts.iter().map(|ok| if *ok { 1 } else { -1 }).collect();
        }
        self.mark_dirty(unit);
        if !assert_ok {
            tracing::info!(
                unit = self.u(unit).name(),
                "Assertion failed, not starting."
            );
            return self.finish_job(jid, JobResult::Assert);
        }
        if !cond_ok {
            tracing::info!(
                unit = self.u(unit).name(),
                "Condition check resulted in the unit being skipped."
            );
            return self.finish_job(jid, JobResult::Done);
        }
        self.um(unit).conditions_checked = true;
        match self.unit_start(unit) {
            Outcome::Already => self.finish_job(jid, JobResult::Done),
            Outcome::Pending => {}
            Outcome::Again => {
                if let Some(j) = self.jobs.get_mut(&jid) {
                    j.state = JobState::Waiting;
                }
            }
            Outcome::Finish(r) => self.finish_job(jid, r),
        }
    }

    /// Decide whether the unit's installed job is finished by a state change from `os` to `ns`
    /// (systemd's `unit_process_job`). Returns whether the change was unexpected.
    pub(crate) fn process_job_for_state(
        &mut self,
        unit: UnitId,
        os: ActiveState,
        ns: ActiveState,
    ) -> bool {
        let Some(jid) = self.u(unit).job else {
            return os != ns;
        };
        let Some(job) = self.jobs.get(&jid) else {
            return false;
        };
        let running = job.state == JobState::Running;
        match job.job_type {
            JobType::Start | JobType::VerifyActive | JobType::ReloadOrStart
                if job.job_type != JobType::ReloadOrStart || !os.is_active_or_reloading() =>
            {
                if ns.is_active_or_reloading() {
                    self.finish_job(jid, JobResult::Done);
                } else if running && ns != ActiveState::Activating && ns.is_inactive_or_failed() {
                    let r = if ns == ActiveState::Failed {
                        JobResult::Failed
                    } else {
                        JobResult::Done
                    };
                    self.finish_job(jid, r);
                    return true;
                }
                false
            }
            JobType::Reload | JobType::TryReload | JobType::ReloadOrStart => {
                if running {
                    if ns == ActiveState::Active {
                        let ok = self.u(unit).service.reload_result == ServiceResult::Success;
                        self.finish_job(
                            jid,
                            if ok {
                                JobResult::Done
                            } else {
                                JobResult::Failed
                            },
                        );
                    } else if !matches!(ns, ActiveState::Activating | ActiveState::Reloading) {
                        let r = if ns == ActiveState::Failed {
                            JobResult::Failed
                        } else {
                            JobResult::Done
                        };
                        self.finish_job(jid, r);
                        return true;
                    }
                }
                false
            }
            JobType::Stop | JobType::Restart | JobType::TryRestart => {
                if ns.is_inactive_or_failed() {
                    self.finish_job(jid, JobResult::Done);
                } else if running && ns != ActiveState::Deactivating {
                    self.finish_job(jid, JobResult::Failed);
                    return true;
                }
                false
            }
            JobType::Nop => false,
            _ => false,
        }
    }

    /// Finish a job: restart jobs turn into start jobs; failures propagate to jobs that
    /// require this unit; observers get `JobRemoved` after the unit's own change.
    pub(crate) fn finish_job(&mut self, jid: JobId, result: JobResult) {
        let Some(job) = self.jobs.get(&jid).cloned() else {
            return;
        };
        let unit = job.unit;
        if result == JobResult::Done
            && matches!(job.job_type, JobType::Restart | JobType::TryRestart)
        {
            let j = self.jobs.get_mut(&jid).expect("job exists");
            j.job_type = JobType::Start;
            j.state = JobState::Waiting;
            self.changes.push_back(Change::JobChanged { job: jid });
            self.run_queue.push_back(jid);
            // Jobs that waited for this one to stop may go now.
            self.requeue_ordered_neighbours(unit);
            return;
        }
        self.jobs.remove(&jid);
        if let Some(at) = job.timeout_at {
            self.timers
                .remove(&(at, unit, super::service::TimerKind::JobTimeout));
        }
        if self.u(unit).job == Some(jid) {
            self.um(unit).job = None;
        }
        self.mark_dirty(unit);
        self.flush_dirty();
        self.changes.push_back(Change::JobRemoved {
            job: jid,
            unit,
            unit_name: self.u(unit).name().to_owned(),
            result,
        });
        self.settle_event_holds(unit);
        if result != JobResult::Done {
            let t = job.job_type;
            if matches!(t, JobType::Start | JobType::VerifyActive) {
                for k in [DepKind::Requires, DepKind::BindsTo, DepKind::Requisite] {
                    for other in self.edge_targets(unit, DepEdge::Reverse(k)) {
                        if let Some(oj) = self.u(other).job
                            && let Some(o) = self.jobs.get(&oj)
                            && matches!(o.job_type, JobType::Start | JobType::VerifyActive)
                        {
                            self.finish_job(oj, JobResult::Dependency);
                        }
                    }
                }
            }
            if matches!(result, JobResult::Timeout | JobResult::Dependency) {
                self.trigger_on(unit, DepKind::OnFailure);
            }
        }
        self.requeue_ordered_neighbours(unit);
        self.timer_trigger_notify(unit);
    }
}
