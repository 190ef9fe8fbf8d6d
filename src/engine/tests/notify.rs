//! Engine tests for sd_notify messages and the watchdog (service-contract §1, §2; seeds 1–7).

use super::*;
use crate::engine::notify::{self, NotifyMessage};
use crate::spec::NotifyAccess;

const SIGABRT: i32 = 6;

impl Sim {
    /// Deliver `text` as a datagram from `pid` (uid 1000), like the runtime does: parse, drop
    /// rejected datagrams, attribute by process tracking.
    pub(super) fn notify_as(&mut self, pid: u32, uid: u32, text: &[u8]) {
        let Ok(msg) = notify::parse(text, false) else {
            return;
        };
        self.deliver(pid, uid, msg);
    }

    pub(super) fn notify(&mut self, pid: u32, text: &str) {
        self.notify_as(pid, 1000, text.as_bytes());
    }

    fn deliver(&mut self, pid: u32, uid: u32, msg: NotifyMessage) {
        let unit = self.procs.get(&pid).map(|p| p.unit);
        let (alive, owner) = match msg.main_pid.and_then(|m| self.procs.get(&m)) {
            Some(p) => (p.alive, Some(p.unit)),
            None => (false, None),
        };
        let t = self.t();
        self.e.handle_input(
            t,
            Input::Notify {
                pid,
                uid,
                unit,
                msg,
                main_pid_alive: alive,
                main_pid_unit: owner,
            },
        );
        self.pump();
    }

    /// A process of `unit` that the engine does not watch (a forked helper).
    fn fork_child(&mut self, name: &str) -> u32 {
        let unit = self.id(name);
        let pid = self.next_pid;
        self.next_pid += 1;
        self.procs.insert(
            pid,
            Proc {
                unit,
                phase: ExecPhase::Start,
                argv: vec!["helper".into()],
                env: vec![],
                alive: true,
                notify_socket: false,
                sockets: Vec::new(),
            },
        );
        pid
    }

    fn add_notify(&mut self, name: &str, f: impl FnOnce(&mut ServiceSpec)) -> UnitId {
        self.add_service(name, &[], |sv| {
            sv.service_type = ServiceType::Notify;
            // What lowering does for Type=notify (the automatic upgrade).
            sv.notify_access = NotifyAccess::Main;
            sv.timeout_start_usec = 5 * USEC_PER_SEC;
            sv.timeout_stop_usec = 5 * USEC_PER_SEC;
            f(sv);
        })
    }
}

#[test]
fn seed1_notify_socket_only_where_systemd_sets_it() {
    let mut s = Sim::new();
    s.add_service("plain.service", &[], |_| {});
    s.start("plain.service").unwrap();
    let (_, p) = s.last_spawn("plain.service", ExecPhase::Start).unwrap();
    assert!(!p.notify_socket, "Type=simple, NotifyAccess=none");

    s.add_notify("n.service", |sv| {
        sv.exec_start_post = vec![cmd("/bin/post")];
    });
    s.start("n.service").unwrap();
    let main = s.main_pid("n.service");
    assert!(s.procs[&main].notify_socket, "main gets NOTIFY_SOCKET");
    s.notify(main, "READY=1");
    let (_, post) = s.last_spawn("n.service", ExecPhase::StartPost).unwrap();
    assert!(
        !post.notify_socket,
        "control process under NotifyAccess=main"
    );

    s.add_notify("e.service", |sv| {
        sv.notify_access = NotifyAccess::Exec;
        sv.exec_start_pre = vec![cmd("/bin/pre")];
    });
    s.start("e.service").unwrap();
    let (_, pre) = s.last_spawn("e.service", ExecPhase::StartPre).unwrap();
    assert!(pre.notify_socket, "control process under NotifyAccess=exec");
}

#[test]
fn ready_moves_start_to_running_and_finishes_the_job() {
    let mut s = Sim::new();
    s.add_notify("n.service", |_| {});
    let job = s.start("n.service").unwrap();
    assert_eq!(s.state("n.service"), ("activating", "start"));
    assert_eq!(s.job_result(job), None);
    let main = s.main_pid("n.service");
    s.notify(main, "STATUS=starting");
    assert_eq!(s.state("n.service"), ("activating", "start"));
    assert_eq!(s.svc("n.service").status_text, "starting");
    s.notify(main, "READY=1\nSTATUS=up");
    assert_eq!(s.state("n.service"), ("active", "running"));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.svc("n.service").status_text, "up");
}

#[test]
fn ready_then_immediate_exit_is_processed_first() {
    // The runtime drains the socket before reaping: READY arrives before the exit.
    let mut s = Sim::new();
    s.add_notify("n.service", |_| {});
    let job = s.start("n.service").unwrap();
    let main = s.main_pid("n.service");
    s.notify(main, "READY=1");
    s.exit(main, ExitStatus::Exited(0));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("n.service"), ("inactive", "dead"));
    assert_eq!(s.svc("n.service").result, ServiceResult::Success);
}

#[test]
fn seed2_size_limits_and_exact_ready() {
    let mut s = Sim::new();
    s.add_notify("n.service", |_| {});
    let job = s.start("n.service").unwrap();
    let main = s.main_pid("n.service");
    let mut big = b"READY=1\n".to_vec();
    big.resize(4097, b'\n');
    s.notify_as(main, 1000, &big);
    s.notify(main, "READY=1 ");
    assert_eq!(s.state("n.service"), ("activating", "start"));
    big.truncate(4096);
    s.notify_as(main, 1000, &big);
    assert_eq!(s.state("n.service"), ("active", "running"));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
}

#[test]
fn seed2_oversized_ready_ends_in_timeout() {
    let mut s = Sim::new();
    s.add_notify("n.service", |_| {});
    let job = s.start("n.service").unwrap();
    let main = s.main_pid("n.service");
    let mut big = b"READY=1\n".to_vec();
    big.resize(4097, b'x');
    s.notify_as(main, 1000, &big);
    s.advance(5 * USEC_PER_SEC);
    assert_eq!(s.state("n.service"), ("deactivating", "stop-sigterm"));
    s.exit(main, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.svc("n.service").result, ServiceResult::Timeout);
    assert_eq!(s.job_result(job), Some(JobResult::Failed));
}

#[test]
fn seed3_exit_before_ready_is_protocol_and_no_ready_is_timeout() {
    let mut s = Sim::new();
    s.add_notify("p.service", |_| {});
    let job = s.start("p.service").unwrap();
    let main = s.main_pid("p.service");
    s.exit(main, ExitStatus::Exited(0));
    assert_eq!(s.state("p.service"), ("failed", "failed"));
    assert_eq!(s.svc("p.service").result, ServiceResult::Protocol);
    assert_eq!(s.job_result(job), Some(JobResult::Failed));

    s.add_notify("t.service", |_| {});
    let job = s.start("t.service").unwrap();
    let main = s.main_pid("t.service");
    s.advance(5 * USEC_PER_SEC);
    assert_eq!(s.kills, vec![(main, SIGTERM)]);
    s.exit(main, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.svc("t.service").result, ServiceResult::Timeout);
    assert_eq!(s.job_result(job), Some(JobResult::Failed));
}

#[test]
fn seed4_status_errno_first_wins_and_reset_on_start() {
    let mut s = Sim::new();
    s.add_notify("n.service", |_| {});
    s.start("n.service").unwrap();
    let main = s.main_pid("n.service");
    s.notify(
        main,
        "READY=1\nSTATUS=a\nSTATUS=b\nERRNO=2\nBUSERROR=org.x.Y",
    );
    assert_eq!(s.svc("n.service").status_text, "a");
    assert_eq!(s.svc("n.service").status_errno, 2);
    s.notify(main, "MAINPID=abc\nSTATUS=c");
    assert_eq!(
        s.svc("n.service").status_text,
        "c",
        "bad field ignored alone"
    );
    s.notify(main, "STATUS=");
    assert_eq!(s.svc("n.service").status_text, "");
    s.notify(main, "STATUS=again");
    s.stop("n.service").unwrap();
    s.exit(main, ExitStatus::Killed(SIGTERM));
    s.start("n.service").unwrap();
    assert_eq!(s.svc("n.service").status_text, "");
    assert_eq!(s.svc("n.service").status_errno, 0);
}

#[test]
fn seed5_stopping_enters_stop_sigterm_without_a_signal_then_times_out() {
    let mut s = Sim::new();
    s.add_notify("n.service", |sv| sv.exec_stop = vec![cmd("/bin/stop")]);
    s.start("n.service").unwrap();
    let main = s.main_pid("n.service");
    s.notify(main, "READY=1");
    s.notify(main, "STOPPING=1");
    assert_eq!(s.state("n.service"), ("deactivating", "stop-sigterm"));
    assert!(s.kills.is_empty(), "no signal: {:?}", s.kills);
    assert!(s.last_spawn("n.service", ExecPhase::Stop).is_none());
    s.advance(5 * USEC_PER_SEC);
    assert_eq!(s.kills, vec![(main, SIGKILL)]);
    s.exit(main, ExitStatus::Killed(SIGKILL));
    assert_eq!(s.state("n.service"), ("failed", "failed"));
    assert_eq!(s.svc("n.service").result, ServiceResult::Timeout);
}

#[test]
fn stopping_then_clean_exit_is_success() {
    let mut s = Sim::new();
    s.add_notify("n.service", |_| {});
    s.start("n.service").unwrap();
    let main = s.main_pid("n.service");
    s.notify(main, "READY=1");
    s.notify(main, "STOPPING=1");
    s.exit(main, ExitStatus::Exited(0));
    assert_eq!(s.state("n.service"), ("inactive", "dead"));
}

#[test]
fn seed6_reloading_then_ready() {
    let mut s = Sim::new();
    s.add_notify("n.service", |_| {});
    s.start("n.service").unwrap();
    let main = s.main_pid("n.service");
    s.notify(main, "READY=1");
    s.notify(main, "RELOADING=1");
    assert_eq!(s.state("n.service"), ("reloading", "reload"));
    s.notify(main, "READY=1");
    assert_eq!(s.state("n.service"), ("active", "running"));
    // A reload that never finishes: ReloadResult=timeout, the unit stays up.
    s.notify(main, "RELOADING=1");
    s.advance(5 * USEC_PER_SEC);
    assert_eq!(s.state("n.service"), ("active", "running"));
    assert_eq!(s.svc("n.service").reload_result, ServiceResult::Timeout);
}

#[test]
fn last_state_line_wins_v252() {
    let mut s = Sim::new();
    s.add_notify("n.service", |_| {});
    s.start("n.service").unwrap();
    let main = s.main_pid("n.service");
    s.notify(main, "READY=1");
    s.notify(main, "STOPPING=1\nRELOADING=1");
    assert_eq!(s.state("n.service"), ("reloading", "reload"));
}

#[test]
fn stopping_during_start_post_is_deferred() {
    let mut s = Sim::new();
    s.add_notify("n.service", |sv| {
        sv.exec_start_post = vec![cmd("/bin/post")]
    });
    s.start("n.service").unwrap();
    let main = s.main_pid("n.service");
    s.notify(main, "READY=1");
    assert_eq!(s.state("n.service"), ("activating", "start-post"));
    s.notify(main, "STOPPING=1");
    let post = s.control_pid("n.service");
    s.exit(post, ExitStatus::Exited(0));
    assert_eq!(s.state("n.service"), ("deactivating", "stop-sigterm"));
    assert!(s.kills.is_empty());
}

#[test]
fn notify_access_rules() {
    // main: a forked helper's READY is ignored (start then times out).
    let mut s = Sim::new();
    s.add_notify("m.service", |_| {});
    s.start("m.service").unwrap();
    let helper = s.fork_child("m.service");
    s.notify(helper, "READY=1");
    assert_eq!(s.state("m.service"), ("activating", "start"));
    assert_eq!(s.svc("m.service").notify_rejected, 1);

    // all: the same helper is accepted.
    s.add_notify("a.service", |sv| sv.notify_access = NotifyAccess::All);
    s.start("a.service").unwrap();
    let helper = s.fork_child("a.service");
    s.notify(helper, "READY=1");
    assert_eq!(s.state("a.service"), ("active", "running"));

    // none: even the main process is refused.
    s.add_service("z.service", &[], |sv| {
        sv.service_type = ServiceType::Simple;
        sv.notify_access = NotifyAccess::None;
    });
    s.start("z.service").unwrap();
    let main = s.main_pid("z.service");
    s.notify(main, "STATUS=nope");
    assert_eq!(s.svc("z.service").status_text, "");

    // exec: a control process may talk, a helper may not.
    s.add_notify("e.service", |sv| {
        sv.notify_access = NotifyAccess::Exec;
        sv.exec_start_post = vec![cmd("/bin/post")];
    });
    s.start("e.service").unwrap();
    let main = s.main_pid("e.service");
    s.notify(main, "READY=1");
    let post = s.control_pid("e.service");
    s.notify(post, "STATUS=from-post");
    assert_eq!(s.svc("e.service").status_text, "from-post");
    let helper = s.fork_child("e.service");
    s.notify(helper, "STATUS=from-helper");
    assert_eq!(s.svc("e.service").status_text, "from-post");

    // Unknown senders are dropped.
    s.notify(99_999, "READY=1");
}

#[test]
fn mainpid_trust_rules() {
    let mut s = Sim::new();
    s.add_notify("n.service", |sv| sv.notify_access = NotifyAccess::All);
    s.start("n.service").unwrap();
    let main = s.main_pid("n.service");
    let child = s.fork_child("n.service");
    s.notify(main, &format!("MAINPID={child}\nREADY=1"));
    assert_eq!(s.main_pid("n.service"), child);
    assert_eq!(s.state("n.service"), ("active", "running"));
    // Refused: the manager, PID 1, dead processes, other units' processes from non-root.
    for bad in ["4242", "1", "77777"] {
        s.notify(child, &format!("MAINPID={bad}"));
        assert_eq!(s.main_pid("n.service"), child, "MAINPID={bad}");
    }
    s.add_service("other.service", &[], |_| {});
    s.start("other.service").unwrap();
    let stranger = s.main_pid("other.service");
    s.notify(child, &format!("MAINPID={stranger}"));
    assert_eq!(s.main_pid("n.service"), child);
    s.notify_as(child, 0, format!("MAINPID={stranger}").as_bytes());
    assert_eq!(s.main_pid("n.service"), stranger, "root may name any pid");
}

#[test]
fn extend_timeout_moves_the_start_deadline() {
    let mut s = Sim::new();
    s.add_notify("n.service", |_| {});
    let job = s.start("n.service").unwrap();
    let main = s.main_pid("n.service");
    s.advance(4 * USEC_PER_SEC);
    s.notify(main, "EXTEND_TIMEOUT_USEC=3000000");
    s.advance(2 * USEC_PER_SEC);
    assert_eq!(s.state("n.service"), ("activating", "start"));
    s.notify(main, "EXTEND_TIMEOUT_USEC=0");
    s.notify(main, "READY=1");
    assert_eq!(s.job_result(job), Some(JobResult::Done));
}

#[test]
fn seed7_watchdog_expiry_aborts_and_restarts() {
    let mut s = Sim::new();
    s.add_notify("w.service", |sv| {
        sv.watchdog_usec = USEC_PER_SEC;
        sv.restart = RestartPolicy::OnWatchdog;
        sv.exec_stop_post = vec![cmd("/bin/post")];
        sv.exec_stop = vec![cmd("/bin/stop")];
    });
    s.start("w.service").unwrap();
    let main = s.main_pid("w.service");
    let (_, p) = s.last_spawn("w.service", ExecPhase::Start).unwrap();
    assert_eq!(Sim::env_of(&p, "WATCHDOG_USEC").as_deref(), Some("1000000"));
    assert!(Sim::env_of(&p, "WATCHDOG_PID").is_some());
    s.notify(main, "READY=1");
    // Pings keep it alive.
    for _ in 0..3 {
        s.advance(USEC_PER_SEC / 2);
        s.notify(main, "WATCHDOG=1");
    }
    assert_eq!(s.state("w.service"), ("active", "running"));
    // Then they stop.
    s.advance(USEC_PER_SEC);
    assert_eq!(s.state("w.service"), ("deactivating", "stop-watchdog"));
    assert_eq!(s.kills, vec![(main, SIGABRT)]);
    assert!(s.last_spawn("w.service", ExecPhase::Stop).is_none());
    s.exit(main, ExitStatus::Killed(SIGABRT));
    let (post, p) = s.last_spawn("w.service", ExecPhase::StopPost).unwrap();
    assert_eq!(
        Sim::env_of(&p, "SERVICE_RESULT").as_deref(),
        Some("watchdog")
    );
    assert_eq!(Sim::env_of(&p, "EXIT_CODE").as_deref(), Some("killed"));
    assert_eq!(Sim::env_of(&p, "EXIT_STATUS").as_deref(), Some("ABRT"));
    s.exit(post, ExitStatus::Exited(0));
    assert_eq!(s.state("w.service"), ("activating", "auto-restart"));
    assert_eq!(s.svc("w.service").result, ServiceResult::Watchdog);
    s.advance(200_000);
    assert_eq!(s.svc("w.service").n_restarts, 1);
    assert_eq!(s.state("w.service"), ("activating", "start"));
}

#[test]
fn seed7_trigger_and_watchdog_usec_work_without_watchdogsec() {
    let mut s = Sim::new();
    s.add_notify("t.service", |_| {});
    s.start("t.service").unwrap();
    let main = s.main_pid("t.service");
    let (_, p) = s.last_spawn("t.service", ExecPhase::Start).unwrap();
    assert_eq!(Sim::env_of(&p, "WATCHDOG_USEC"), None);
    s.notify(main, "READY=1");
    s.notify(main, "WATCHDOG=trigger");
    assert_eq!(s.state("t.service"), ("deactivating", "stop-watchdog"));
    assert_eq!(s.svc("t.service").result, ServiceResult::Watchdog);
    s.exit(main, ExitStatus::Dumped(SIGABRT));
    assert_eq!(s.state("t.service"), ("failed", "failed"));

    s.add_notify("u.service", |_| {});
    s.start("u.service").unwrap();
    let main = s.main_pid("u.service");
    s.notify(main, "READY=1\nWATCHDOG_USEC=2000000");
    s.advance(USEC_PER_SEC);
    assert_eq!(s.state("u.service"), ("active", "running"));
    s.advance(USEC_PER_SEC);
    assert_eq!(s.state("u.service"), ("deactivating", "stop-watchdog"));
    s.exit(main, ExitStatus::Killed(SIGABRT));
    assert_eq!(s.svc("u.service").result, ServiceResult::Watchdog);
    // The override is cleared at the next start.
    s.start("u.service").unwrap();
    assert_eq!(s.svc("u.service").effective_watchdog_usec(), 0);
}

#[test]
fn watchdog_usec_zero_disables() {
    let mut s = Sim::new();
    s.add_notify("w.service", |sv| sv.watchdog_usec = USEC_PER_SEC);
    s.start("w.service").unwrap();
    let main = s.main_pid("w.service");
    s.notify(main, "READY=1\nWATCHDOG_USEC=0");
    s.advance(10 * USEC_PER_SEC);
    assert_eq!(s.state("w.service"), ("active", "running"));
}

#[test]
fn fd_store_requests_and_release() {
    let mut s = Sim::new();
    let id = s.add_notify("f.service", |sv| {
        sv.fd_store_max = 4;
        sv.restart = RestartPolicy::OnFailure;
    });
    s.start("f.service").unwrap();
    let main = s.main_pid("f.service");
    s.notify(main, "READY=1\nFDSTORE=1\nFDNAME=myfile");
    s.notify(main, "FDSTORE=1");
    s.notify(main, "FDSTOREREMOVE=1");
    s.notify(main, "FDSTOREREMOVE=1\nFDNAME=old");
    assert_eq!(
        s.fd_ops,
        vec![
            (
                id,
                FdStoreOp::Add {
                    name: "myfile".into(),
                    max: 4,
                    poll: true
                }
            ),
            (
                id,
                FdStoreOp::Add {
                    name: "stored".into(),
                    max: 4,
                    poll: true
                }
            ),
            (id, FdStoreOp::Remove { name: "old".into() }),
        ]
    );
    s.fd_ops.clear();
    // An automatic restart keeps the store.
    s.exit(main, ExitStatus::Exited(1));
    assert_eq!(s.state("f.service"), ("activating", "auto-restart"));
    assert!(s.fd_ops.is_empty(), "{:?}", s.fd_ops);
    s.advance(200_000);
    let main = s.main_pid("f.service");
    s.notify(main, "READY=1");
    // A manual stop releases it.
    s.stop("f.service").unwrap();
    s.exit(main, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.fd_ops, vec![(id, FdStoreOp::Release)]);
}
