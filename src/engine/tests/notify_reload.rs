//! Engine tests for `Type=notify-reload` (systemd 253's semantics): a reload job sends
//! `ReloadSignal=` to the main process and the unit stays `reloading` (`reload-signal`, then
//! `reload-notify`) until `RELOADING=1` with a current `MONOTONIC_USEC=` and then `READY=1`
//! arrive, or TimeoutStartSec= passes.

use super::*;
use crate::spec::NotifyAccess;

const SIGUSR1: i32 = 10;
const SIGHUP: i32 = 1;

impl Sim {
    /// A started, ready `Type=notify-reload` service; returns its main PID.
    fn running_notify_reload(&mut self, name: &str, f: impl FnOnce(&mut ServiceSpec)) -> u32 {
        self.add_service(name, &[], |sv| {
            sv.service_type = ServiceType::NotifyReload;
            sv.notify_access = NotifyAccess::Main;
            sv.timeout_start_usec = 5 * USEC_PER_SEC;
            sv.timeout_stop_usec = 5 * USEC_PER_SEC;
            f(sv);
        });
        let job = self.start(name).unwrap();
        assert_eq!(
            self.state(name),
            ("activating", "start"),
            "waits for READY=1"
        );
        let main = self.main_pid(name);
        self.notify(main, "READY=1");
        assert_eq!(self.job_result(job), Some(JobResult::Done));
        assert_eq!(self.state(name), ("active", "running"));
        // Let time pass so that "before the reload" is a representable instant.
        self.advance(1000);
        main
    }

    fn reload(&mut self, name: &str) -> JobId {
        self.enqueue(name, JobType::Reload, JobMode::Replace)
            .unwrap()
    }
}

#[test]
fn reload_signals_main_and_waits_for_reloading_then_ready() {
    let mut s = Sim::new();
    let main = s.running_notify_reload("r.service", |_| {});
    assert!(
        s.e.can_reload(s.id("r.service")),
        "CanReload without ExecReload="
    );
    let job = s.reload("r.service");
    assert_eq!(
        s.kills.last(),
        Some(&(main, SIGHUP)),
        "ReloadSignal= defaults to SIGHUP"
    );
    assert_eq!(s.state("r.service"), ("reloading", "reload-signal"));
    assert_eq!(s.job_result(job), None);

    s.advance(10);
    let t = s.now;
    s.notify(
        main,
        &format!("RELOADING=1\nMONOTONIC_USEC={t}\nSTATUS=reloading"),
    );
    assert_eq!(s.state("r.service"), ("reloading", "reload-notify"));
    assert_eq!(s.svc("r.service").status_text, "reloading");
    assert_eq!(s.job_result(job), None);

    s.notify(main, "READY=1\nSTATUS=ok");
    assert_eq!(s.state("r.service"), ("active", "running"));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.svc("r.service").reload_result, ServiceResult::Success);
    assert_eq!(s.main_pid("r.service"), main, "the main process lives on");
}

#[test]
fn reload_signal_is_configurable_and_one_combined_message_completes() {
    let mut s = Sim::new();
    let main = s.running_notify_reload("r.service", |sv| sv.reload_signal = SIGUSR1);
    let job = s.reload("r.service");
    assert_eq!(s.kills.last(), Some(&(main, SIGUSR1)));
    let t = s.now;
    s.notify(main, &format!("RELOADING=1\nMONOTONIC_USEC={t}\nREADY=1"));
    assert_eq!(s.state("r.service"), ("active", "running"));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
}

#[test]
fn stale_or_unstamped_reloading_is_ignored_and_the_reload_times_out() {
    let mut s = Sim::new();
    let main = s.running_notify_reload("r.service", |_| {});
    let job = s.reload("r.service");
    let begin = s.now;
    // A reload cycle that began before our request, and one without a timestamp.
    s.notify(main, &format!("RELOADING=1\nMONOTONIC_USEC={}", begin - 1));
    assert_eq!(s.state("r.service"), ("reloading", "reload-signal"));
    s.notify(main, "RELOADING=1");
    assert_eq!(s.state("r.service"), ("reloading", "reload-signal"));
    // READY=1 alone does not complete a reload that was never acknowledged.
    s.notify(main, "READY=1");
    assert_eq!(s.state("r.service"), ("reloading", "reload-signal"));

    s.advance(5 * USEC_PER_SEC - 1);
    assert_eq!(s.job_result(job), None);
    s.advance(1);
    assert_eq!(
        s.job_result(job),
        Some(JobResult::Failed),
        "TimeoutStartSec="
    );
    assert_eq!(s.state("r.service"), ("active", "running"));
    assert_eq!(s.svc("r.service").reload_result, ServiceResult::Timeout);
    assert_eq!(
        s.main_pid("r.service"),
        main,
        "the main process is not killed"
    );

    // The next reload starts afresh and can succeed.
    let job = s.reload("r.service");
    assert_eq!(s.svc("r.service").reload_result, ServiceResult::Success);
    let t = s.now;
    s.notify(main, &format!("RELOADING=1\nMONOTONIC_USEC={t}"));
    s.notify(main, "READY=1");
    assert_eq!(s.job_result(job), Some(JobResult::Done));
}

#[test]
fn a_timeout_in_reload_notify_fails_the_job_too() {
    let mut s = Sim::new();
    let main = s.running_notify_reload("r.service", |_| {});
    let job = s.reload("r.service");
    let t = s.now;
    s.notify(main, &format!("RELOADING=1\nMONOTONIC_USEC={t}"));
    assert_eq!(s.state("r.service"), ("reloading", "reload-notify"));
    s.advance(5 * USEC_PER_SEC);
    assert_eq!(s.job_result(job), Some(JobResult::Failed));
    assert_eq!(s.state("r.service"), ("active", "running"));
}

#[test]
fn with_exec_reload_the_signal_goes_first_and_the_command_decides() {
    let mut s = Sim::new();
    let main = s.running_notify_reload("r.service", |sv| {
        sv.exec_reload = vec![cmd("/bin/reload")];
    });
    let job = s.reload("r.service");
    assert_eq!(s.kills.last(), Some(&(main, SIGHUP)));
    assert_eq!(s.state("r.service"), ("reloading", "reload"));
    let (rl, _) = s.last_spawn("r.service", ExecPhase::Reload).unwrap();
    s.exit(rl, ExitStatus::Exited(0));
    assert_eq!(s.state("r.service"), ("active", "running"));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
}

#[test]
fn main_exit_during_reload_stops_the_unit() {
    let mut s = Sim::new();
    let main = s.running_notify_reload("r.service", |_| {});
    let job = s.reload("r.service");
    // No SIGHUP handler: the default action ends the process.
    s.exit(main, ExitStatus::Killed(SIGHUP));
    assert_eq!(s.state("r.service"), ("inactive", "dead"));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
}

#[test]
fn stop_during_reload_and_plain_notify_is_unchanged() {
    let mut s = Sim::new();
    let main = s.running_notify_reload("r.service", |_| {});
    s.reload("r.service");
    let stop = s.stop("r.service").unwrap();
    assert_eq!(s.kills.last(), Some(&(main, SIGTERM)));
    s.exit(main, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.job_result(stop), Some(JobResult::Done));
    assert_eq!(s.state("r.service"), ("inactive", "dead"));

    // Type=notify without ExecReload= still cannot be reloaded.
    s.add_service("n.service", &[], |sv| {
        sv.service_type = ServiceType::Notify;
        sv.notify_access = NotifyAccess::Main;
    });
    s.start("n.service").unwrap();
    let m = s.main_pid("n.service");
    s.notify(m, "READY=1");
    assert!(matches!(
        s.enqueue("n.service", JobType::Reload, JobMode::Replace),
        Err(EnqueueError::JobTypeNotApplicable(_))
    ));
}
