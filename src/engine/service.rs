//! The service state machine, after systemd 252's `service.c`: `service_enter_*` transitions,
//! the handling of spawned/exited processes per state, timeouts, kill phases and the restart
//! decision. Every transition goes through [`Engine::service_set_state`], which derives the
//! unit's ActiveState and runs job completion and dependency side effects.

use serde::{Deserialize, Serialize};

use super::job::Outcome;
use super::*;
use crate::spec::{
    ExecDirectoryType, ExitStatusSet, KillMode, RestartPolicy, RuntimeDirectoryPreserve,
    ServiceSpec, ServiceType, USEC_INFINITY,
};

/// What a pending timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TimerKind {
    /// The state's timeout (start, stop, kill phases).
    StateTimeout,
    /// RestartSec elapsed in auto-restart.
    AutoRestart,
    /// RuntimeMaxSec elapsed.
    RuntimeMax,
    /// JobTimeoutSec elapsed.
    JobTimeout,
    /// The service's watchdog was not pinged in time.
    Watchdog,
    /// Read a forking service's missing `PIDFile=` again.
    PidFileRetry,
    /// A timer unit's next elapse (see `timer.rs`).
    TimerElapse,
}

/// How often a missing `PIDFile=` of a forking service is read again while its daemon is
/// still starting (systemd watches the file with inotify; the start timeout still applies).
pub(crate) const PID_FILE_RETRY_USEC: u64 = 100_000;

use crate::spec::linux::{SIGCONT, SIGHUP, SIGINT, SIGKILL, SIGPIPE, SIGTERM};

/// Whether an exit counts as clean (systemd's `is_clean_exit`). `daemon` is true for the main
/// process of non-oneshot services, where SIGHUP/SIGINT/SIGTERM/SIGPIPE are clean too.
pub(crate) fn classify(status: ExitStatus, daemon: bool, success: &ExitStatusSet) -> ServiceResult {
    match status {
        ExitStatus::Exited(c) => {
            if c == 0 || u8::try_from(c).is_ok_and(|c| success.statuses.contains(&c)) {
                ServiceResult::Success
            } else {
                ServiceResult::ExitCode
            }
        }
        ExitStatus::Killed(s) => {
            if (daemon && matches!(s, SIGHUP | SIGINT | SIGTERM | SIGPIPE))
                || success.signals.contains(&s)
            {
                ServiceResult::Success
            } else {
                ServiceResult::Signal
            }
        }
        ExitStatus::Dumped(_) => ServiceResult::CoreDump,
    }
}

fn status_in(set: &ExitStatusSet, status: ExitStatus) -> bool {
    match status {
        ExitStatus::Exited(c) => u8::try_from(c).is_ok_and(|c| set.statuses.contains(&c)),
        ExitStatus::Killed(s) | ExitStatus::Dumped(s) => set.signals.contains(&s),
    }
}

/// The `Restart=` table of systemd.service(5).
fn restart_table(policy: RestartPolicy, result: ServiceResult) -> bool {
    use RestartPolicy as P;
    use ServiceResult as R;
    match policy {
        P::No => false,
        P::Always => !matches!(result, R::SkipCondition | R::StartLimitHit),
        P::OnSuccess => result == R::Success,
        P::OnFailure => !matches!(result, R::Success | R::SkipCondition | R::StartLimitHit),
        P::OnAbnormal => matches!(
            result,
            R::Signal
                | R::CoreDump
                | R::Timeout
                | R::Watchdog
                | R::Protocol
                | R::Resources
                | R::OomKill
        ),
        P::OnAbort => matches!(result, R::Signal | R::CoreDump),
        P::OnWatchdog => result == R::Watchdog,
    }
}

fn is_stop_state(s: ServiceState) -> bool {
    use ServiceState::*;
    matches!(
        s,
        Stop | StopWatchdog
            | StopSigterm
            | StopSigkill
            | StopPost
            | FinalWatchdog
            | FinalSigterm
            | FinalSigkill
            | Cleaning
    )
}

fn is_kill_state(s: ServiceState) -> bool {
    use ServiceState::*;
    matches!(
        s,
        StopWatchdog | StopSigterm | StopSigkill | FinalWatchdog | FinalSigterm | FinalSigkill
    )
}

impl Engine {
    /// The service settings of a service unit.
    pub(super) fn sspec(&self, id: UnitId) -> &ServiceSpec {
        match &self.u(id).loaded.spec.kind {
            crate::spec::KindSpec::Service(s) => s,
            _ => unreachable!("service operation on a non-service unit"),
        }
    }

    pub(super) fn set_result(&mut self, id: UnitId, f: ServiceResult) {
        let s = &mut self.um(id).service;
        if s.result == ServiceResult::Success {
            s.result = f;
        }
    }

    pub(super) fn service_set_state(
        &mut self,
        id: UnitId,
        state: ServiceState,
        will_restart: bool,
    ) {
        let idle = self.sspec(id).service_type == ServiceType::Idle;
        self.um(id).service.state = state;
        if !matches!(
            state,
            ServiceState::StartPost
                | ServiceState::Running
                | ServiceState::Reload
                | ServiceState::ReloadSignal
                | ServiceState::ReloadNotify
        ) {
            self.watchdog_disarm(id);
        }
        let ns = state.active_state(idle);
        self.set_active_state(id, ns, will_restart);
    }

    // ---- entry points from jobs ----

    pub(crate) fn service_start(&mut self, id: UnitId) -> Outcome {
        use ServiceState::*;
        let state = self.u(id).service.state;
        if is_stop_state(state) || state == AutoRestart {
            return Outcome::Again;
        }
        if matches!(state, Condition | StartPre | Start | StartPost) {
            return Outcome::Pending;
        }
        if matches!(
            state,
            Running | Exited | Reload | ReloadSignal | ReloadNotify
        ) {
            return Outcome::Already;
        }
        // Start rate limit: every start that gets this far counts.
        let (interval, burst) = {
            let spec = &self.u(id).loaded.spec;
            (spec.start_limit_interval_usec, spec.start_limit_burst)
        };
        if interval > 0 && burst > 0 {
            let now = self.now.monotonic;
            let w = &mut self.um(id).service.start_window;
            if w.1 == 0 || now.saturating_sub(w.0) > interval {
                *w = (now, 0);
            }
            if w.1 >= burst {
                tracing::warn!(
                    unit = self.u(id).name(),
                    "Start request repeated too quickly."
                );
                self.service_enter_dead(id, ServiceResult::StartLimitHit, false);
                return Outcome::Finish(JobResult::Failed);
            }
            w.1 += 1;
        }
        let invocation = self.new_invocation_id();
        let now = self.now;
        let watchdog_usec = self.sspec(id).watchdog_usec;
        {
            let u = self.um(id);
            u.invocation_id = invocation;
            if u.loaded.spec.conditions.is_empty() {
                u.condition_result = true;
                u.timestamps.condition = now;
            }
            if u.loaded.spec.asserts.is_empty() {
                u.assert_result = true;
                u.timestamps.assert = now;
            }
            let s = &mut u.service;
            s.result = ServiceResult::Success;
            s.reload_result = ServiceResult::Success;
            s.main_pid = None;
            s.control_pid = None;
            s.forbid_restart = false;
            s.status_text.clear();
            s.status_errno = 0;
            s.notify_state = None;
            s.watchdog_override_usec = None;
            s.watchdog_original_usec = watchdog_usec;
            s.main_exit = None;
            s.exec_failed = false;
            s.main_command = 0;
            s.exec_main = ExecRun::default();
            if s.flush_n_restarts {
                s.n_restarts = 0;
                s.flush_n_restarts = false;
            }
        }
        if self.gate_on_starting(id) {
            // An Upstart job waits in `starting` until its `starting` event finished.
            return Outcome::Pending;
        }
        self.service_enter_condition(id);
        Outcome::Pending
    }

    pub(crate) fn service_stop(&mut self, id: UnitId) -> Outcome {
        use ServiceState::*;
        self.um(id).service.forbid_restart = true;
        let state = self.u(id).service.state;
        if is_stop_state(state) {
            return Outcome::Pending;
        }
        match state {
            AutoRestart => {
                self.disarm_timer(id);
                self.service_set_state(id, Dead, false);
                Outcome::Pending
            }
            Condition | StartPre | Start | StartPost | Reload | ReloadSignal | ReloadNotify => {
                self.service_enter_signal(id, StopSigterm, ServiceResult::Success);
                Outcome::Pending
            }
            Running | Exited => {
                self.service_enter_stop(id, ServiceResult::Success);
                Outcome::Pending
            }
            _ => Outcome::Already,
        }
    }

    /// systemd 253's `service_enter_reload`: a `Type=notify-reload` service's main process
    /// gets `ReloadSignal=` first; then `ExecReload=` runs if there is one (`reload` until it
    /// exits), else the unit waits in `reload-signal` for `RELOADING=1` with a
    /// `MONOTONIC_USEC=` no older than the signal, then in `reload-notify` for `READY=1`
    /// (TimeoutStartSec= bounds both).
    pub(crate) fn service_reload(&mut self, id: UnitId) -> Outcome {
        let (notify_reload, signal, has_exec, timeout) = {
            let s = self.sspec(id);
            (
                s.service_type == ServiceType::NotifyReload,
                s.reload_signal,
                !s.exec_reload.is_empty(),
                s.timeout_start_usec,
            )
        };
        let main = self.u(id).service.main_pid;
        let signalled = notify_reload && main.is_some();
        if !signalled && !has_exec {
            return Outcome::Already;
        }
        let now = self.now.monotonic;
        {
            let s = &mut self.um(id).service;
            s.reload_result = ServiceResult::Success;
            s.reload_begin_usec = now;
        }
        if signalled {
            self.effects.push_back(Effect::Kill(KillRequest {
                unit: id,
                main,
                control: None,
                others: false,
                signal,
                sigcont: signal != SIGKILL && signal != SIGCONT,
                sighup: false,
            }));
        }
        if has_exec {
            self.service_set_state(id, ServiceState::Reload, false);
            self.service_spawn(id, ExecPhase::Reload, 0, ProcessRole::Control);
        } else {
            self.service_set_state(id, ServiceState::ReloadSignal, false);
            self.arm_timer(id, timeout, TimerKind::StateTimeout);
        }
        Outcome::Pending
    }

    // ---- transitions ----

    pub(super) fn service_enter_condition(&mut self, id: UnitId) {
        if self.sspec(id).exec_condition.is_empty() {
            return self.service_enter_start_pre(id);
        }
        self.service_set_state(id, ServiceState::Condition, false);
        self.service_spawn(id, ExecPhase::Condition, 0, ProcessRole::Control);
    }

    fn service_enter_start_pre(&mut self, id: UnitId) {
        if self.sspec(id).exec_start_pre.is_empty() {
            return self.service_enter_start(id);
        }
        self.service_set_state(id, ServiceState::StartPre, false);
        self.service_spawn(id, ExecPhase::StartPre, 0, ProcessRole::Control);
    }

    fn service_enter_start(&mut self, id: UnitId) {
        let (empty, forking) = {
            let s = self.sspec(id);
            (
                s.exec_start.is_empty(),
                s.service_type == ServiceType::Forking,
            )
        };
        self.service_set_state(id, ServiceState::Start, false);
        if empty {
            return self.service_enter_start_post(id);
        }
        let role = if forking {
            ProcessRole::Control
        } else {
            ProcessRole::Main
        };
        self.service_spawn(id, ExecPhase::Start, 0, role);
    }

    pub(super) fn service_enter_start_post(&mut self, id: UnitId) {
        self.watchdog_reset(id);
        if self.sspec(id).exec_start_post.is_empty() {
            return self.service_enter_running(id, ServiceResult::Success);
        }
        self.service_set_state(id, ServiceState::StartPost, false);
        self.service_spawn(id, ExecPhase::StartPost, 0, ProcessRole::Control);
    }

    pub(super) fn service_enter_running(&mut self, id: UnitId, f: ServiceResult) {
        self.set_result(id, f);
        let s = &self.u(id).service;
        if s.result != ServiceResult::Success {
            return self.service_enter_signal(id, ServiceState::StopSigterm, f);
        }
        let main_alive = s.main_pid.is_some();
        let unknown_main_alive = s.main_pid.is_none()
            && s.others_remaining > 0
            && self.sspec(id).service_type == ServiceType::Forking;
        // A Type=dbus service runs while it holds its bus name.
        let bus_ok = s.bus_name_good || self.sspec(id).service_type != ServiceType::Dbus;
        if (main_alive || unknown_main_alive) && bus_ok {
            use super::notify::NotifyState;
            match self.u(id).service.notify_state {
                Some(NotifyState::Reloading) => return self.service_enter_reload_by_notify(id),
                Some(NotifyState::Stopping) => return self.service_enter_stop_by_notify(id),
                _ => {}
            }
            self.disarm_timer(id);
            self.service_set_state(id, ServiceState::Running, false);
            let max = self.sspec(id).runtime_max_usec;
            self.arm_timer(id, max, TimerKind::RuntimeMax);
        } else if self.sspec(id).remain_after_exit {
            self.disarm_timer(id);
            self.service_set_state(id, ServiceState::Exited, false);
        } else {
            self.service_enter_stop(id, ServiceResult::Success);
        }
    }

    /// `NameOwnerChanged` for a well-known name (systemd's `service_bus_name_owner_change`):
    /// every service with that `BusName=` records it; a `Type=dbus` service still starting is
    /// ready once the name is owned, a running one whose name is released stops.
    pub(crate) fn bus_name_owner(&mut self, name: &str, owned: bool) {
        let ids: Vec<UnitId> = self
            .units()
            .filter(|u| match &u.loaded.spec.kind {
                crate::spec::KindSpec::Service(s) => s.bus_name.as_deref() == Some(name),
                _ => false,
            })
            .map(|u| u.id)
            .collect();
        for id in ids {
            if self.u(id).service.bus_name_good == owned {
                continue;
            }
            self.um(id).service.bus_name_good = owned;
            self.mark_dirty(id);
            if self.sspec(id).service_type != ServiceType::Dbus {
                continue;
            }
            match self.u(id).service.state {
                ServiceState::Running => self.service_enter_running(id, ServiceResult::Success),
                ServiceState::Start if owned && self.u(id).service.main_pid.is_some() => {
                    self.service_enter_start_post(id)
                }
                _ => {}
            }
        }
    }

    fn service_enter_stop(&mut self, id: UnitId, f: ServiceResult) {
        self.set_result(id, f);
        if self.sspec(id).exec_stop.is_empty() {
            return self.service_enter_signal(
                id,
                ServiceState::StopSigterm,
                ServiceResult::Success,
            );
        }
        self.service_set_state(id, ServiceState::Stop, false);
        self.service_spawn(id, ExecPhase::Stop, 0, ProcessRole::Control);
    }

    pub(super) fn service_enter_signal(
        &mut self,
        id: UnitId,
        state: ServiceState,
        f: ServiceResult,
    ) {
        use ServiceState::*;
        self.set_result(id, f);
        let (kill, stop_usec, abort_usec) = {
            let s = self.sspec(id);
            (
                s.kill.clone(),
                s.timeout_stop_usec,
                s.timeout_abort_usec.unwrap_or(s.timeout_stop_usec),
            )
        };
        let restarting = self
            .u(id)
            .job
            .and_then(|j| self.jobs.get(&j))
            .is_some_and(|j| j.job_type == JobType::Restart);
        let signal = match state {
            StopSigkill | FinalSigkill => kill.final_kill_signal,
            StopWatchdog | FinalWatchdog => kill.watchdog_signal,
            _ if restarting => kill.restart_kill_signal.unwrap_or(kill.kill_signal),
            _ => kill.kill_signal,
        };
        let sigkill_phase = matches!(state, StopSigkill | FinalSigkill);
        let (main, control) = (self.u(id).service.main_pid, self.u(id).service.control_pid);
        let (main, control, others) = match kill.mode {
            KillMode::ControlGroup => (main, control, true),
            KillMode::Mixed => (main, control, sigkill_phase),
            KillMode::Process => (main, control, false),
            KillMode::None => (None, None, false),
        };
        self.service_set_state(id, state, false);
        // An Upstart job waits in `stopping` (before the kill) until its `stopping` event
        // finished.
        if state == StopSigterm && self.gate_on_stopping(id, super::events::StopResume::Signal(f)) {
            return;
        }
        if main.is_none() && control.is_none() && !others {
            return self.service_kill_nothing_signalled(id, ServiceResult::Success);
        }
        let timeout = if matches!(state, StopWatchdog | FinalWatchdog) {
            abort_usec
        } else {
            stop_usec
        };
        self.arm_timer(id, timeout, TimerKind::StateTimeout);
        self.effects.push_back(Effect::Kill(KillRequest {
            unit: id,
            main,
            control,
            others,
            signal,
            sigcont: signal != SIGKILL && signal != SIGCONT,
            sighup: kill.send_sighup && matches!(state, StopSigterm | FinalSigterm),
        }));
    }

    /// A kill phase may end: nothing we wait for is alive any more.
    fn service_kill_progress(&mut self, id: UnitId, f: ServiceResult) {
        let s = &self.u(id).service;
        if !is_kill_state(s.state) || s.main_pid.is_some() || s.control_pid.is_some() {
            return;
        }
        let mode = self.sspec(id).kill.mode;
        let sigkill_phase = matches!(
            s.state,
            ServiceState::StopSigkill | ServiceState::FinalSigkill
        );
        if s.others_remaining > 0 {
            match mode {
                KillMode::ControlGroup => return,
                KillMode::Mixed if sigkill_phase => return,
                // KillMode=mixed: the rest of the unit never got the terminate signal; once
                // main and control are gone it gets SIGKILL right away.
                KillMode::Mixed => return self.service_kill_nothing_signalled(id, f),
                _ => {}
            }
        }
        self.service_kill_phase_done(id, f);
    }

    /// Nothing this kill phase waits for is left (or nothing was signalled): like systemd's
    /// `service_enter_signal` with nothing to wait for, a terminate phase moves on to the
    /// SIGKILL phase when processes remain that only that phase signals (`KillMode=mixed`),
    /// otherwise the phase is over.
    fn service_kill_nothing_signalled(&mut self, id: UnitId, f: ServiceResult) {
        use ServiceState::*;
        let kill = &self.sspec(id).kill;
        if kill.mode == KillMode::Mixed
            && kill.send_sigkill
            && self.u(id).service.others_remaining > 0
        {
            match self.u(id).service.state {
                StopSigterm | StopWatchdog => return self.service_enter_signal(id, StopSigkill, f),
                FinalSigterm | FinalWatchdog => {
                    return self.service_enter_signal(id, FinalSigkill, f);
                }
                _ => {}
            }
        }
        self.service_kill_phase_done(id, f);
    }

    fn service_kill_phase_done(&mut self, id: UnitId, f: ServiceResult) {
        use ServiceState::*;
        match self.u(id).service.state {
            StopWatchdog | StopSigterm | StopSigkill => self.service_enter_stop_post(id, f),
            _ => self.service_enter_dead(id, f, true),
        }
    }

    pub(super) fn service_enter_stop_post(&mut self, id: UnitId, f: ServiceResult) {
        self.set_result(id, f);
        if self.gate_on_stopping(id, super::events::StopResume::StopPost(f)) {
            return;
        }
        if self.sspec(id).exec_stop_post.is_empty() {
            return self.service_enter_signal(
                id,
                ServiceState::FinalSigterm,
                ServiceResult::Success,
            );
        }
        self.service_set_state(id, ServiceState::StopPost, false);
        self.service_spawn(id, ExecPhase::StopPost, 0, ProcessRole::Control);
    }

    /// systemd's `unit_destroy_runtime_data`: `RuntimeDirectoryPreserve=no` removes the runtime
    /// directories whenever the service goes down, `restart` only when no restart follows (an
    /// automatic restart, or a restart/start job waiting on this stop), `yes` never.
    fn service_destroy_runtime_directories(&mut self, id: UnitId, will_auto_restart: bool) {
        let exec = self.sspec(id).exec.clone();
        let dir = &exec.directories[ExecDirectoryType::Runtime.index()];
        if dir.paths.is_empty() {
            return;
        }
        let remove = match exec.runtime_directory_preserve {
            RuntimeDirectoryPreserve::No => true,
            RuntimeDirectoryPreserve::Yes => false,
            RuntimeDirectoryPreserve::Restart => {
                let restart_job = self
                    .u(id)
                    .job
                    .and_then(|j| self.jobs.get(&j))
                    .is_some_and(|j| matches!(j.job_type, JobType::Restart | JobType::Start));
                !will_auto_restart && !restart_job
            }
        };
        if remove {
            // The symlinks (`path:symlink`) go with their directories.
            let paths = dir
                .paths
                .iter()
                .chain(dir.symlinks.iter().map(|(_, link)| link))
                .cloned()
                .collect();
            self.effects
                .push_back(Effect::RemoveRuntimeDirectories { unit: id, paths });
        }
    }

    /// The `PIDFile=` retry timer fired: read the file again if the service still waits.
    pub(crate) fn service_pid_file_retry(&mut self, id: UnitId) {
        if self.u(id).service.state != ServiceState::Start
            || self.u(id).service.control_pid.is_some()
        {
            return;
        }
        if let Some(path) = self.sspec(id).pid_file.clone() {
            self.effects
                .push_back(Effect::ReadPidFile { unit: id, path });
        }
    }

    fn service_enter_dead(&mut self, id: UnitId, f: ServiceResult, allow_restart: bool) {
        self.set_result(id, f);
        self.disarm_timer(id);
        if let Some(d) = self.um(id).service.pid_file_retry.take() {
            self.timers.remove(&(d, id, TimerKind::PidFileRetry));
        }
        let result = self.u(id).service.result;
        self.unwatch_main_and_control(id);
        self.um(id).service.pending = None;
        if let Some(path) = self.sspec(id).pid_file.clone() {
            self.effects.push_back(Effect::RemovePidFile { path });
        }
        self.effects.push_back(Effect::ForgetProcesses { unit: id });
        let will_restart = allow_restart && self.service_shall_restart(id);
        self.service_destroy_runtime_directories(id, will_restart);
        let end = if matches!(
            result,
            ServiceResult::Success | ServiceResult::SkipCondition
        ) {
            ServiceState::Dead
        } else {
            ServiceState::Failed
        };
        self.service_set_state(id, end, will_restart);
        self.um(id).service.forbid_restart = false;
        if will_restart {
            self.service_set_state(id, ServiceState::AutoRestart, true);
            let usec = self.sspec(id).restart_usec;
            self.arm_timer(id, usec, TimerKind::AutoRestart);
        } else {
            self.um(id).service.flush_n_restarts = true;
            // The fd store survives automatic restarts and restart jobs, nothing else.
            let restarting = self
                .u(id)
                .job
                .and_then(|j| self.jobs.get(&j))
                .is_some_and(|j| j.job_type == JobType::Restart);
            if !restarting {
                self.effects.push_back(Effect::FdStore {
                    unit: id,
                    op: FdStoreOp::Release,
                });
            }
        }
    }

    fn service_shall_restart(&self, id: UnitId) -> bool {
        let u = self.u(id);
        let s = &u.service;
        if s.forbid_restart {
            return false;
        }
        if u.job
            .and_then(|j| self.jobs.get(&j))
            .is_some_and(|j| j.job_type == JobType::Stop)
        {
            return false;
        }
        if matches!(
            s.result,
            ServiceResult::SkipCondition | ServiceResult::StartLimitHit
        ) {
            return false;
        }
        let spec = self.sspec(id);
        if let Some(st) = s.main_exit {
            if status_in(&spec.restart_prevent_exit_status, st) {
                return false;
            }
            if status_in(&spec.restart_force_exit_status, st) {
                return true;
            }
        }
        restart_table(spec.restart, s.result)
    }

    // ---- spawning ----

    /// Ask the supervisor to run command `idx` of `phase`.
    fn service_spawn(&mut self, id: UnitId, phase: ExecPhase, idx: usize, role: ProcessRole) {
        let (command, exec, notify, timeout) = {
            let s = self.sspec(id);
            let list = s.commands(phase);
            let notify = match s.notify_access {
                crate::spec::NotifyAccess::None => false,
                crate::spec::NotifyAccess::Main => role == ProcessRole::Main,
                crate::spec::NotifyAccess::Exec | crate::spec::NotifyAccess::All => true,
            };
            let timeout = match phase {
                ExecPhase::Stop | ExecPhase::StopPost => s.timeout_stop_usec,
                ExecPhase::Start
                    if matches!(s.service_type, ServiceType::Simple | ServiceType::Idle) =>
                {
                    USEC_INFINITY
                }
                _ => s.timeout_start_usec,
            };
            (list[idx].clone(), s.exec.clone(), notify, timeout)
        };
        let env = self.spawn_environment(id, phase, role);
        let exec = self.event_exec_context(id, phase, exec);
        let wait_exec = role == ProcessRole::Main
            && phase == ExecPhase::Start
            && self.sspec(id).service_type == ServiceType::Exec;
        let token = self.new_token();
        {
            let now = self.now;
            let s = &mut self.um(id).service;
            s.pending = Some((token, role, phase, idx));
            match role {
                ProcessRole::Main => s.main_command = idx,
                ProcessRole::Control => s.control_command = Some((phase, idx)),
            }
            if let Some(run) = s.exec_runs[phase.index()].get_mut(idx) {
                *run = ExecRun {
                    pid: 0,
                    start: now,
                    exit: Timestamp::NEVER,
                    code: 0,
                    status: 0,
                };
            }
        }
        self.arm_timer(id, timeout, TimerKind::StateTimeout);
        let unit_name = self.u(id).name().to_owned();
        let sockets = if phase == ExecPhase::Start && role == ProcessRole::Main {
            self.sockets_of_service(id)
        } else {
            Vec::new()
        };
        self.effects.push_back(Effect::Spawn(SpawnRequest {
            unit: id,
            unit_name,
            token,
            role,
            phase,
            command,
            exec,
            env,
            notify_socket: notify,
            wait_exec,
            sockets,
        }));
    }

    /// Manager environment plus the per-spawn variables systemd sets (service-contract §7.1).
    fn spawn_environment(
        &self,
        id: UnitId,
        phase: ExecPhase,
        role: ProcessRole,
    ) -> Vec<(String, String)> {
        let u = self.u(id);
        let s = &u.service;
        let mut env: Vec<(String, String)> = self
            .env
            .iter()
            .filter_map(|e| e.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let hex: String = u.invocation_id.iter().map(|b| format!("{b:02x}")).collect();
        env.push(("INVOCATION_ID".into(), hex));
        if self.cfg.user_scope {
            env.push(("MANAGERPID".into(), self.cfg.manager_pid.to_string()));
        }
        if role == ProcessRole::Control
            && let Some(main) = s.main_pid
        {
            env.push(("MAINPID".into(), main.to_string()));
        }
        if let Some(p) = &self.sspec(id).pid_file {
            env.push(("PIDFILE".into(), p.display().to_string()));
        }
        // The watchdog variables go to the main process only; the supervisor writes the
        // child's own pid into WATCHDOG_PID.
        let watchdog = s.effective_watchdog_usec();
        if role == ProcessRole::Main && phase == ExecPhase::Start && watchdog > 0 {
            env.push(("WATCHDOG_PID".into(), String::new()));
            env.push(("WATCHDOG_USEC".into(), watchdog.to_string()));
        }
        if matches!(phase, ExecPhase::Stop | ExecPhase::StopPost) {
            env.push(("SERVICE_RESULT".into(), s.result.as_str().into()));
            if let Some(st) = s.main_exit {
                let (code, status) = match st {
                    ExitStatus::Exited(c) => ("exited", c.to_string()),
                    ExitStatus::Killed(sig) => (
                        "killed",
                        signal_name(sig)
                            .map(str::to_owned)
                            .unwrap_or(sig.to_string()),
                    ),
                    ExitStatus::Dumped(sig) => (
                        "dumped",
                        signal_name(sig)
                            .map(str::to_owned)
                            .unwrap_or(sig.to_string()),
                    ),
                };
                env.push(("EXIT_CODE".into(), code.into()));
                env.push(("EXIT_STATUS".into(), status));
            }
        }
        env.extend(self.event_spawn_env(id, phase));
        env
    }

    pub(crate) fn service_spawned(
        &mut self,
        id: UnitId,
        token: SpawnToken,
        pid: u32,
        exec_ok: bool,
    ) {
        let Some((t, role, phase, idx)) = self.u(id).service.pending else {
            return;
        };
        if t != token {
            return;
        }
        let now = self.now;
        {
            let s = &mut self.um(id).service;
            s.pending = None;
            if let Some(run) = s.exec_runs[phase.index()].get_mut(idx) {
                run.pid = pid;
            }
            match role {
                ProcessRole::Main => {
                    s.main_pid = Some(pid);
                    s.exec_main = ExecRun {
                        pid,
                        start: now,
                        exit: Timestamp::NEVER,
                        code: 0,
                        status: 0,
                    };
                }
                ProcessRole::Control => s.control_pid = Some(pid),
            }
            if !exec_ok {
                s.exec_failed = true;
            }
        }
        self.pids.insert(pid, id);
        self.mark_dirty(id);
        if role == ProcessRole::Main && self.u(id).service.state == ServiceState::Start {
            match self.sspec(id).service_type {
                ServiceType::Simple | ServiceType::Idle => self.service_enter_start_post(id),
                ServiceType::Exec if exec_ok => self.service_enter_start_post(id),
                // The name was taken before the process was known (a daemon re-executed).
                ServiceType::Dbus if self.u(id).service.bus_name_good => {
                    self.service_enter_start_post(id)
                }
                // Oneshot, notify, dbus and a failed exec wait for the process (or READY).
                _ => {}
            }
        }
    }

    pub(crate) fn service_spawn_failed(&mut self, id: UnitId, token: SpawnToken, reason: &str) {
        use ServiceState::*;
        let Some((t, _, phase, _)) = self.u(id).service.pending else {
            return;
        };
        if t != token {
            return;
        }
        self.um(id).service.pending = None;
        tracing::warn!(
            unit = self.u(id).name(),
            "Failed to spawn {}: {reason}",
            phase.key()
        );
        let f = ServiceResult::Resources;
        match self.u(id).service.state {
            Condition | StartPre => self.service_enter_dead(id, f, true),
            Start => self.service_enter_signal(id, StopSigterm, f),
            StartPost => self.service_enter_stop(id, f),
            Reload => {
                self.um(id).service.reload_result = f;
                self.service_enter_running(id, ServiceResult::Success);
            }
            Stop => self.service_enter_signal(id, StopSigterm, f),
            StopPost => self.service_enter_signal(id, FinalSigterm, f),
            _ => {}
        }
    }

    pub(crate) fn service_kill_delivered(&mut self, id: UnitId, remaining: u32) {
        self.um(id).service.others_remaining = remaining;
        self.service_kill_progress(id, ServiceResult::Success);
    }

    pub(crate) fn service_exited(
        &mut self,
        pid: u32,
        status: ExitStatus,
        hint: Option<UnitId>,
        remaining: u32,
    ) {
        let Some(id) = self.pids.remove(&pid).or(hint) else {
            return;
        };
        let id = self.resolve(id);
        if !self.u(id).is_service() {
            return;
        }
        self.um(id).service.others_remaining = remaining;
        let (is_main, is_control) = {
            let s = &self.u(id).service;
            (s.main_pid == Some(pid), s.control_pid == Some(pid))
        };
        if is_main {
            self.service_main_exited(id, status);
        } else if is_control {
            self.service_control_exited(id, status);
        } else {
            // Another process of the unit (e.g. a daemon whose main PID is unknown).
            use ServiceState::*;
            match self.u(id).service.state {
                Running if self.u(id).service.main_pid.is_none() && remaining == 0 => {
                    self.service_enter_running(id, ServiceResult::Success)
                }
                _ => self.service_kill_progress(id, ServiceResult::Success),
            }
        }
        self.mark_dirty(id);
    }

    fn service_main_exited(&mut self, id: UnitId, status: ExitStatus) {
        use ServiceState::*;
        let now = self.now;
        let (oneshot, ignore, more) = {
            let s = self.sspec(id);
            let idx = self.u(id).service.main_command;
            let cmd = s.exec_start.get(idx);
            (
                s.service_type == ServiceType::Oneshot,
                cmd.is_some_and(|c| c.flags.ignore_failure),
                idx + 1 < s.exec_start.len(),
            )
        };
        let mut f = classify(status, !oneshot, &self.sspec(id).success_exit_status);
        if ignore {
            f = ServiceResult::Success;
        }
        {
            let s = &mut self.um(id).service;
            s.main_pid = None;
            s.main_exit = Some(status);
            s.exec_main.exit = now;
            s.exec_main.code = status.code();
            s.exec_main.status = status.status();
            let idx = s.main_command;
            if let Some(run) = s.exec_runs[ExecPhase::Start.index()].get_mut(idx) {
                run.exit = now;
                run.code = status.code();
                run.status = status.status();
            }
        }
        let state = self.u(id).service.state;
        if oneshot && more && f == ServiceResult::Success && state == Start {
            let next = self.u(id).service.main_command + 1;
            self.service_spawn(id, ExecPhase::Start, next, ProcessRole::Main);
            return;
        }
        match state {
            StartPost | Reload | Stop => {
                // The operation in progress decides; remember the outcome.
                self.set_result(id, f);
            }
            Start => match self.sspec(id).service_type {
                ServiceType::Oneshot => {
                    if f == ServiceResult::Success {
                        self.service_enter_start_post(id)
                    } else {
                        self.service_enter_signal(id, StopSigterm, f)
                    }
                }
                ServiceType::Notify | ServiceType::NotifyReload => {
                    if f != ServiceResult::Success {
                        self.service_enter_signal(id, StopSigterm, f)
                    } else {
                        self.service_enter_signal(id, StopSigterm, ServiceResult::Protocol)
                    }
                }
                _ => self.service_enter_running(id, f),
            },
            Running => self.service_enter_running(id, f),
            // Nothing is left that could finish the reload (253): stop.
            ReloadSignal | ReloadNotify => self.service_enter_stop(id, f),
            StopWatchdog | StopSigterm | StopSigkill | FinalWatchdog | FinalSigterm
            | FinalSigkill => self.service_kill_progress(id, f),
            StopPost => self.set_result(id, f),
            _ => {}
        }
    }

    fn service_control_exited(&mut self, id: UnitId, status: ExitStatus) {
        use ServiceState::*;
        let now = self.now;
        let Some((phase, idx)) = self.u(id).service.control_command else {
            return;
        };
        let (ignore, more) = {
            let s = self.sspec(id);
            let list = s.commands(phase);
            (
                list.get(idx).is_some_and(|c| c.flags.ignore_failure),
                idx + 1 < list.len(),
            )
        };
        let mut f = classify(status, false, &self.sspec(id).success_exit_status);
        if ignore {
            f = ServiceResult::Success;
        }
        {
            let s = &mut self.um(id).service;
            s.control_pid = None;
            s.control_command = None;
            if let Some(run) = s.exec_runs[phase.index()].get_mut(idx) {
                run.exit = now;
                run.code = status.code();
                run.status = status.status();
            }
        }
        let state = self.u(id).service.state;
        if f == ServiceResult::Success && more && !is_kill_state(state) {
            self.service_spawn(id, phase, idx + 1, ProcessRole::Control);
            return;
        }
        match state {
            Condition => {
                if f == ServiceResult::Success {
                    self.service_enter_start_pre(id)
                } else if matches!(status, ExitStatus::Exited(c) if (1..255).contains(&c)) {
                    self.um(id).condition_result = false;
                    self.service_enter_dead(id, ServiceResult::SkipCondition, false)
                } else {
                    self.service_enter_signal(id, StopSigterm, f)
                }
            }
            StartPre => {
                if f == ServiceResult::Success {
                    self.service_enter_start(id)
                } else {
                    self.service_enter_signal(id, StopSigterm, f)
                }
            }
            Start => {
                // Forking: the start process exited.
                if f != ServiceResult::Success {
                    return self.service_enter_signal(id, StopSigterm, f);
                }
                let spec = self.sspec(id);
                if let Some(path) = spec.pid_file.clone() {
                    self.effects
                        .push_back(Effect::ReadPidFile { unit: id, path });
                } else if spec.guess_main_pid {
                    self.effects.push_back(Effect::GuessMainPid { unit: id });
                } else {
                    self.service_enter_start_post(id);
                }
            }
            StartPost => {
                if f == ServiceResult::Success {
                    self.service_enter_running(id, ServiceResult::Success)
                } else {
                    self.service_enter_signal(id, StopSigterm, f)
                }
            }
            Reload => {
                self.um(id).service.reload_result = f;
                self.service_enter_running(id, ServiceResult::Success);
            }
            Stop => self.service_enter_signal(id, StopSigterm, f),
            StopWatchdog | StopSigterm | StopSigkill | FinalWatchdog | FinalSigterm
            | FinalSigkill => self.service_kill_progress(id, f),
            StopPost => self.service_enter_signal(id, FinalSigterm, f),
            _ => {}
        }
    }

    pub(crate) fn service_main_pid_found(&mut self, id: UnitId, pid: Option<u32>) {
        if self.u(id).service.state != ServiceState::Start {
            return;
        }
        let now = self.now;
        match pid {
            Some(pid) => {
                let s = &mut self.um(id).service;
                s.main_pid = Some(pid);
                s.exec_main = ExecRun {
                    pid,
                    start: now,
                    exit: Timestamp::NEVER,
                    code: 0,
                    status: 0,
                };
                self.pids.insert(pid, id);
                self.service_enter_start_post(id);
            }
            None => {
                let spec = self.sspec(id);
                if let Some(path) = spec.pid_file.clone()
                    && spec.exec_start_post.is_empty()
                    && self.u(id).service.others_remaining > 0
                {
                    // The daemon may write its PID file after the start process exited:
                    // keep waiting (the start timeout still runs) while it is alive.
                    tracing::debug!(
                        unit = self.u(id).name(),
                        "PID file {} not there yet, waiting for it.",
                        path.display()
                    );
                    let deadline = self.now.monotonic.saturating_add(PID_FILE_RETRY_USEC);
                    self.timers.insert((deadline, id, TimerKind::PidFileRetry));
                    self.um(id).service.pid_file_retry = Some(deadline);
                } else if self.sspec(id).pid_file.is_some()
                    && self.u(id).service.others_remaining == 0
                {
                    tracing::warn!(unit = self.u(id).name(), "Daemon never wrote its PID file.");
                    self.service_enter_signal(
                        id,
                        ServiceState::StopSigterm,
                        ServiceResult::Protocol,
                    );
                } else {
                    self.service_enter_start_post(id);
                }
            }
        }
    }

    pub(crate) fn service_timer_fired(&mut self, id: UnitId, kind: TimerKind) {
        use ServiceState::*;
        let state = self.u(id).service.state;
        let send_sigkill = self.sspec(id).kill.send_sigkill;
        let t = ServiceResult::Timeout;
        match (kind, state) {
            (TimerKind::AutoRestart, AutoRestart) => self.service_enter_restart(id),
            (TimerKind::RuntimeMax, Running) => self.service_enter_stop(id, t),
            (TimerKind::StateTimeout, Condition | StartPre | Start) => {
                tracing::warn!(
                    unit = self.u(id).name(),
                    "Start operation timed out. Terminating."
                );
                self.service_enter_signal(id, StopSigterm, t)
            }
            (TimerKind::StateTimeout, StartPost) => self.service_enter_stop(id, t),
            (TimerKind::StateTimeout, Reload | ReloadSignal | ReloadNotify) => {
                tracing::warn!(
                    unit = self.u(id).name(),
                    "Reload operation timed out. Killing reload process."
                );
                if let Some(pid) = self.u(id).service.control_pid {
                    self.effects.push_back(Effect::Kill(KillRequest {
                        unit: id,
                        main: None,
                        control: Some(pid),
                        others: false,
                        signal: SIGKILL,
                        sigcont: false,
                        sighup: false,
                    }));
                }
                self.um(id).service.reload_result = t;
                // A notify-initiated reload that never sent READY=1 ends here too.
                self.um(id).service.notify_state = None;
                self.service_enter_running(id, ServiceResult::Success);
            }
            (TimerKind::StateTimeout, Stop) => self.service_enter_signal(id, StopSigterm, t),
            (TimerKind::StateTimeout, StopWatchdog | StopSigterm) => {
                if send_sigkill {
                    self.service_enter_signal(id, StopSigkill, t)
                } else {
                    self.unwatch_main_and_control(id);
                    self.service_enter_stop_post(id, t)
                }
            }
            (TimerKind::StateTimeout, StopSigkill) => {
                tracing::warn!(
                    unit = self.u(id).name(),
                    "Processes still around after SIGKILL. Ignoring."
                );
                self.unwatch_main_and_control(id);
                self.service_enter_stop_post(id, t)
            }
            (TimerKind::StateTimeout, StopPost) => self.service_enter_signal(id, FinalSigterm, t),
            (TimerKind::StateTimeout, FinalWatchdog | FinalSigterm) => {
                if send_sigkill {
                    self.service_enter_signal(id, FinalSigkill, t)
                } else {
                    self.unwatch_main_and_control(id);
                    self.service_enter_dead(id, t, true)
                }
            }
            (TimerKind::StateTimeout, FinalSigkill) => {
                tracing::warn!(
                    unit = self.u(id).name(),
                    "Processes still around after final SIGKILL. Entering failed mode."
                );
                self.unwatch_main_and_control(id);
                self.service_enter_dead(id, t, true)
            }
            _ => {}
        }
    }

    /// Stop watching the unit's main and control processes (they exited, or did not die in
    /// time).
    fn unwatch_main_and_control(&mut self, id: UnitId) {
        for pid in [self.u(id).service.main_pid, self.u(id).service.control_pid]
            .into_iter()
            .flatten()
        {
            self.pids.remove(&pid);
        }
        let s = &mut self.um(id).service;
        s.main_pid = None;
        s.control_pid = None;
        s.control_command = None;
        s.others_remaining = 0;
    }

    /// RestartSec elapsed: enqueue the automatic restart (systemd's `service_enter_restart`).
    fn service_enter_restart(&mut self, id: UnitId) {
        if self
            .u(id)
            .job
            .and_then(|j| self.jobs.get(&j))
            .is_some_and(|j| j.job_type == JobType::Stop)
        {
            return;
        }
        match self.enqueue_internal(id, JobType::Restart, JobMode::Replace, false) {
            Ok(_) => {
                let s = &mut self.um(id).service;
                s.n_restarts += 1;
                s.flush_n_restarts = false;
                self.mark_dirty(id);
            }
            Err(e) => {
                tracing::warn!(
                    unit = self.u(id).name(),
                    "Failed to schedule restart job: {e}"
                );
                self.service_enter_dead(id, ServiceResult::Resources, false);
            }
        }
    }
}
