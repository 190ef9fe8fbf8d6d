//! What sd_notify messages do to services (systemd 252's `service_notify_message`): sender
//! attribution and `NotifyAccess=` authorization, `READY=1`/`RELOADING=1`/`STOPPING=1`
//! transitions, `STATUS=`/`ERRNO=`, `MAINPID=` with its trust rules, `EXTEND_TIMEOUT_USEC=`
//! and the service watchdog (`WATCHDOG=1`, `WATCHDOG=trigger`, `WATCHDOG_USEC=`).

use super::notify::{NotifyMessage, NotifyState, WatchdogPing};
use super::service::TimerKind;
use super::*;
use crate::spec::{NotifyAccess, ServiceType, USEC_INFINITY};

impl Engine {
    /// Offer one notification to every unit it can be attributed to (each at most once).
    pub(super) fn notify_message(
        &mut self,
        pid: u32,
        uid: u32,
        hint: Option<UnitId>,
        msg: &NotifyMessage,
        main_pid_alive: bool,
        main_pid_unit: Option<UnitId>,
    ) {
        let mut candidates: Vec<UnitId> = Vec::new();
        for c in [self.pids.get(&pid).copied(), hint].into_iter().flatten() {
            let c = self.resolve(c);
            if !candidates.contains(&c) {
                candidates.push(c);
            }
        }
        if candidates.is_empty() {
            tracing::debug!("Cannot find unit for notify message of PID {pid}, ignoring.");
            return;
        }
        for id in candidates {
            if !self.u(id).is_service() {
                continue;
            }
            if !self.notify_authorized(id, pid) {
                self.um(id).service.notify_rejected += 1;
                continue;
            }
            self.service_notify(id, pid, uid, msg, main_pid_alive, main_pid_unit);
        }
    }

    /// `service_notify_message_authorized`.
    fn notify_authorized(&self, id: UnitId, pid: u32) -> bool {
        let s = &self.u(id).service;
        let ok = match self.sspec(id).notify_access {
            NotifyAccess::None => false,
            NotifyAccess::Main => s.main_pid == Some(pid),
            NotifyAccess::Exec => s.main_pid == Some(pid) || s.control_pid == Some(pid),
            NotifyAccess::All => true,
        };
        if !ok {
            tracing::warn!(
                unit = self.u(id).name(),
                "Got notification message from PID {pid}, but reception only permitted for {} (NotifyAccess={}).",
                match s.main_pid {
                    Some(m) => format!("main PID {m}"),
                    None => "no process".into(),
                },
                self.sspec(id).notify_access.as_str()
            );
        }
        ok
    }

    fn service_notify(
        &mut self,
        id: UnitId,
        pid: u32,
        uid: u32,
        msg: &NotifyMessage,
        main_pid_alive: bool,
        main_pid_unit: Option<UnitId>,
    ) {
        use ServiceState::*;
        for bad in &msg.invalid {
            tracing::debug!(
                unit = self.u(id).name(),
                "Failed to parse notification field {bad:?}, ignoring."
            );
        }
        // MAINPID=
        if let Some(n) = msg.main_pid
            && matches!(
                self.u(id).service.state,
                Start | StartPost | Running | Reload | ReloadSignal | ReloadNotify
            )
        {
            self.notify_main_pid(id, pid, uid, n, main_pid_alive, main_pid_unit);
        }
        // READY=1 / RELOADING=1 / STOPPING=1 (the last one in the message).
        if let Some(st) = msg.state {
            self.um(id).service.notify_state = Some(st);
            let state = self.u(id).service.state;
            let notify_type = matches!(
                self.sspec(id).service_type,
                ServiceType::Notify | ServiceType::NotifyReload
            );
            match st {
                NotifyState::Ready => {
                    if notify_type && state == Start {
                        self.service_enter_start_post(id);
                    } else if state == Reload && self.u(id).service.control_pid.is_none() {
                        self.service_enter_running(id, ServiceResult::Success);
                    }
                }
                NotifyState::Reloading if state == Running => {
                    self.service_enter_reload_by_notify(id)
                }
                NotifyState::Stopping if state == Running => self.service_enter_stop_by_notify(id),
                _ => {}
            }
        }
        self.notify_reload_protocol(id, msg);
        if let Some(text) = &msg.status {
            self.um(id).service.status_text = text.clone();
        }
        if let Some(e) = msg.errno {
            self.um(id).service.status_errno = e;
        }
        match msg.watchdog {
            Some(WatchdogPing::Ping) => self.watchdog_reset(id),
            Some(WatchdogPing::Trigger) => self.service_watchdog_expired(id),
            None => {}
        }
        if let Some(usec) = msg.watchdog_usec {
            // Arms a watchdog even without WatchdogSec=; 0 disables it.
            self.um(id).service.watchdog_override_usec = Some(usec);
            self.watchdog_reset(id);
        }
        if let Some(usec) = msg.extend_timeout_usec {
            self.extend_timeout(id, usec);
        }
        if msg.fdstore {
            let max = self.sspec(id).fd_store_max;
            self.effects.push_back(Effect::FdStore {
                unit: id,
                op: FdStoreOp::Add {
                    name: msg.fdname.clone().unwrap_or_else(|| "stored".into()),
                    max,
                    poll: !msg.fdpoll_off,
                },
            });
        }
        if msg.fdstore_remove {
            match &msg.fdname {
                Some(name) => self.effects.push_back(Effect::FdStore {
                    unit: id,
                    op: FdStoreOp::Remove { name: name.clone() },
                }),
                None => tracing::warn!(
                    unit = self.u(id).name(),
                    "FDSTOREREMOVE=1 requested, but no valid FDNAME= given, ignoring."
                ),
            }
        }
        self.mark_dirty(id);
    }

    /// `MAINPID=n`: refused for the manager, PID 1, the control process and dead processes; a
    /// PID outside the unit only from root.
    fn notify_main_pid(
        &mut self,
        id: UnitId,
        sender: u32,
        uid: u32,
        n: u32,
        alive: bool,
        owner: Option<UnitId>,
    ) {
        let s = &self.u(id).service;
        if s.main_pid == Some(n) {
            return;
        }
        let refuse = if n == self.cfg.manager_pid || n == 1 {
            Some("is the manager or PID 1")
        } else if s.control_pid == Some(n) {
            Some("is the control process")
        } else if !alive {
            Some("does not exist or is a zombie")
        } else if owner.map(|o| self.resolve(o)) != Some(id) && uid != 0 {
            Some("does not belong to the service and the sender is not privileged")
        } else {
            None
        };
        if let Some(why) = refuse {
            tracing::warn!(
                unit = self.u(id).name(),
                "New main PID {n} (from PID {sender}) {why}, refusing."
            );
            return;
        }
        let now = self.now;
        if let Some(old) = self.u(id).service.main_pid
            && self.pids.get(&old) == Some(&id)
        {
            self.pids.remove(&old);
        }
        let s = &mut self.um(id).service;
        s.main_pid = Some(n);
        s.exec_main = ExecRun {
            pid: n,
            start: now,
            exit: Timestamp::NEVER,
            code: 0,
            status: 0,
        };
        self.pids.insert(n, id);
    }

    /// systemd 253's `Type=notify-reload` protocol, after the v252 handling above: in
    /// `reload-signal`, `RELOADING=1` with a `MONOTONIC_USEC=` not older than the reload
    /// request moves on to `reload-notify` (an older one belongs to a reload cycle that was
    /// already under way and is ignored); `READY=1` in `reload-notify` completes the reload.
    fn notify_reload_protocol(&mut self, id: UnitId, msg: &NotifyMessage) {
        use ServiceState::*;
        if msg.reloading && self.u(id).service.state == ReloadSignal {
            let begin = self.u(id).service.reload_begin_usec;
            match msg.monotonic_usec {
                Some(t) if t >= begin => {
                    self.um(id).service.notify_state = Some(NotifyState::Reloading);
                    self.service_set_state(id, ReloadNotify, false);
                }
                Some(_) => tracing::debug!(
                    unit = self.u(id).name(),
                    "RELOADING=1 predates the reload request, ignoring."
                ),
                None => tracing::warn!(
                    unit = self.u(id).name(),
                    "RELOADING=1 without MONOTONIC_USEC= during a notify-reload reload, ignoring."
                ),
            }
        }
        if msg.ready && self.u(id).service.state == ReloadNotify {
            self.um(id).service.notify_state = Some(NotifyState::Ready);
            self.service_enter_running(id, ServiceResult::Success);
        }
    }

    /// `RELOADING=1` while running: `reload` until `READY=1` or TimeoutStartSec.
    pub(super) fn service_enter_reload_by_notify(&mut self, id: UnitId) {
        let usec = self.sspec(id).timeout_start_usec;
        self.um(id).service.reload_result = ServiceResult::Success;
        self.service_set_state(id, ServiceState::Reload, false);
        self.arm_timer(id, usec, TimerKind::StateTimeout);
    }

    /// `STOPPING=1` while running: as if SIGTERM had been sent (no signal, no ExecStop=).
    pub(super) fn service_enter_stop_by_notify(&mut self, id: UnitId) {
        let usec = self.sspec(id).timeout_stop_usec;
        self.service_set_state(id, ServiceState::StopSigterm, false);
        self.arm_timer(id, usec, TimerKind::StateTimeout);
    }

    /// `EXTEND_TIMEOUT_USEC=n`: move the state timer and the watchdog to at least now+n.
    fn extend_timeout(&mut self, id: UnitId, usec: u64) {
        if usec == 0 {
            return;
        }
        let want = self.now.monotonic.saturating_add(usec);
        if let Some((deadline, kind)) = self.u(id).service.timer
            && deadline < want
            && matches!(kind, TimerKind::StateTimeout | TimerKind::RuntimeMax)
        {
            self.timers.remove(&(deadline, id, kind));
            self.timers.insert((want, id, kind));
            self.um(id).service.timer = Some((want, kind));
        }
        if let Some(deadline) = self.u(id).service.watchdog_deadline
            && deadline < want
        {
            self.timers.remove(&(deadline, id, TimerKind::Watchdog));
            self.timers.insert((want, id, TimerKind::Watchdog));
            self.um(id).service.watchdog_deadline = Some(want);
        }
    }

    /// (Re-)arm the watchdog at now + the effective timeout; record the ping time. Only in
    /// the states where the watchdog lives (start-post, running, reload) or, as systemd does,
    /// when a ping arrives early during start.
    pub(super) fn watchdog_reset(&mut self, id: UnitId) {
        self.watchdog_disarm(id);
        let now = self.now;
        let usec = {
            let s = &mut self.um(id).service;
            s.watchdog_timestamp = now;
            s.effective_watchdog_usec()
        };
        use ServiceState::*;
        let state = self.u(id).service.state;
        if usec == 0
            || usec == USEC_INFINITY
            || !matches!(
                state,
                Start | StartPost | Running | Reload | ReloadSignal | ReloadNotify
            )
        {
            return;
        }
        let deadline = now.monotonic.saturating_add(usec);
        self.timers.insert((deadline, id, TimerKind::Watchdog));
        self.um(id).service.watchdog_deadline = Some(deadline);
    }

    pub(super) fn watchdog_disarm(&mut self, id: UnitId) {
        if let Some(d) = self.um(id).service.watchdog_deadline.take() {
            self.timers.remove(&(d, id, TimerKind::Watchdog));
        }
    }

    /// The watchdog fired (or `WATCHDOG=trigger`): `stop-watchdog` with `Result=watchdog`.
    pub(super) fn service_watchdog_expired(&mut self, id: UnitId) {
        use ServiceState::*;
        if !matches!(
            self.u(id).service.state,
            Start | StartPost | Running | Reload | ReloadSignal | ReloadNotify
        ) {
            return;
        }
        let usec = self.u(id).service.effective_watchdog_usec();
        tracing::error!(
            unit = self.u(id).name(),
            "Watchdog timeout (limit {}s)!",
            usec / 1_000_000
        );
        self.service_enter_signal(id, StopWatchdog, ServiceResult::Watchdog);
    }
}
