//! Snapshots (daemon-reexec): an engine exported mid-flight, written as JSON, read back and
//! restored carries on exactly where the old one stopped — same PIDs, states, counters,
//! invocation ids, environment, timers and jobs — and never starts anything twice.

use super::*;

/// What must be equal before and after: name, states, main PID, NRestarts, InvocationID,
/// timestamps.
type Summary = (
    String,
    String,
    String,
    Option<u32>,
    u32,
    [u8; 16],
    UnitTimestamps,
);

impl Sim {
    /// Replace the engine by one restored from a JSON round trip of its snapshot, like a
    /// re-executed manager (new PID, other seed in the config: the snapshot's seed wins).
    pub(super) fn reexec(&mut self) {
        let t = self.t();
        let snap = self.e.snapshot(t);
        let json = serde_json::to_string(&snap).expect("serialize");
        let back: EngineSnapshot = serde_json::from_str(&json).expect("deserialize");
        let cfg = EngineConfig {
            user_scope: true,
            manager_env: vec!["PATH=/other".into()],
            manager_pid: 4242,
            id_seed: [9; 16],
        };
        self.e = Engine::restore(cfg, t, back).expect("restore");
        self.pump();
    }
}

#[test]
fn running_services_survive_a_snapshot_round_trip() {
    let mut s = Sim::new();
    s.add_service("always.service", &[], |sv| {
        sv.restart = RestartPolicy::Always;
    });
    s.add_service("notify.service", &[], |sv| {
        sv.service_type = ServiceType::Notify;
        sv.notify_access = crate::spec::NotifyAccess::Main;
    });
    s.start("always.service").unwrap();
    // One automatic restart before the hand-over: NRestarts=1.
    let first = s.main_pid("always.service");
    s.exit(first, ExitStatus::Exited(0));
    s.advance(100_000);
    assert_eq!(s.state("always.service"), ("active", "running"));
    s.start("notify.service").unwrap();
    let npid = s.main_pid("notify.service");
    s.notify(npid, "READY=1\nSTATUS=serving");
    assert_eq!(s.state("notify.service"), ("active", "running"));
    s.e.set_environment(&[], &["FOO=bar".to_owned()]);

    let before: Vec<Summary> =
        s.e.units()
            .map(|u| {
                (
                    u.name().to_owned(),
                    u.active_state.as_str().to_owned(),
                    u.sub_state().to_owned(),
                    u.service.main_pid,
                    u.service.n_restarts,
                    u.invocation_id,
                    u.timestamps,
                )
            })
            .collect();
    let spawned = s.procs.len();
    let apid = s.main_pid("always.service");

    s.reexec();
    assert_eq!(s.procs.len(), spawned, "nothing is spawned by a restore");
    assert!(s.e.jobs().next().is_none());
    let after: Vec<_> =
        s.e.units()
            .map(|u| {
                (
                    u.name().to_owned(),
                    u.active_state.as_str().to_owned(),
                    u.sub_state().to_owned(),
                    u.service.main_pid,
                    u.service.n_restarts,
                    u.invocation_id,
                    u.timestamps,
                )
            })
            .collect();
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(
            (&b.0, &b.1, &b.2, b.3, b.4, b.5),
            (&a.0, &a.1, &a.2, a.3, a.4, a.5)
        );
        assert_eq!(
            b.6.active_enter, a.6.active_enter,
            "{} keeps its timestamps",
            b.0
        );
    }
    assert_eq!(s.svc("notify.service").status_text, "serving");
    assert!(s.e.environment().contains(&"FOO=bar".to_owned()));
    assert_eq!(s.e.unit_by_pid(apid), Some(s.id("always.service")));

    // Reaping still works: the Restart=always service comes back, with a fresh invocation id.
    let old_ids: Vec<[u8; 16]> = after.iter().map(|a| a.5).collect();
    s.exit(apid, ExitStatus::Exited(0));
    assert_eq!(s.state("always.service"), ("activating", "auto-restart"));
    s.advance(100_000);
    assert_eq!(s.state("always.service"), ("active", "running"));
    assert_eq!(s.svc("always.service").n_restarts, 2);
    let id = s.e.unit(s.id("always.service")).invocation_id;
    assert!(!old_ids.contains(&id), "invocation ids never repeat");

    // Stop kills the right process.
    s.kills.clear();
    let job = s.stop("notify.service").unwrap();
    assert_eq!(s.kills.first(), Some(&(npid, SIGTERM)));
    s.exit(npid, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("notify.service"), ("inactive", "dead"));
}

#[test]
fn pending_timers_and_jobs_carry_over() {
    let mut s = Sim::new();
    s.add_service("r.service", &[], |sv| {
        sv.restart = RestartPolicy::Always;
        sv.restart_usec = 5 * USEC_PER_SEC;
    });
    s.start("r.service").unwrap();
    let pid = s.main_pid("r.service");
    s.exit(pid, ExitStatus::Exited(0));
    assert_eq!(s.state("r.service"), ("activating", "auto-restart"));
    let deadline = s.e.next_deadline();
    assert!(deadline.is_some());
    s.reexec();
    assert_eq!(
        s.e.next_deadline(),
        deadline,
        "the RestartSec timer is kept"
    );
    s.advance(5 * USEC_PER_SEC);
    assert_eq!(s.state("r.service"), ("active", "running"));
}

#[test]
fn listening_sockets_are_watched_again_after_restore() {
    let mut sim = Sim::new();
    sim.add_service("echo.service", &[], |_| {});
    let mut spec = UnitSpec::default_for(&UnitName::new("echo.socket").unwrap());
    spec.kind = KindSpec::Socket(Box::new(crate::spec::SocketSpec {
        service: Some("echo.service".into()),
        ..Default::default()
    }));
    let sock = sim.insert("echo.socket", spec, LoadState::Loaded);
    sim.start("echo.socket").unwrap();
    sim.socket_ops.clear();
    sim.reexec();
    assert_eq!(sim.socket_ops, vec![("watch", sock)]);
    assert_eq!(sim.state("echo.socket"), ("active", "listening"));
    let t = sim.t();
    sim.e.handle_input(t, Input::SocketReady { unit: sock });
    sim.pump();
    assert_eq!(sim.state("echo.service"), ("active", "running"));
}

#[test]
fn snapshots_of_another_version_are_refused() {
    let mut s = Sim::new();
    let t = s.t();
    let mut snap = s.e.snapshot(t);
    snap.version += 1;
    let cfg = EngineConfig {
        user_scope: true,
        manager_env: vec![],
        manager_pid: 1,
        id_seed: [0; 16],
    };
    assert!(matches!(
        Engine::restore(cfg, t, snap),
        Err(RestoreError::Version { .. })
    ));
    s.pump();
}
