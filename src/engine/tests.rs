//! Engine tests: the engine driven with simulated inputs at explicit times, like dinit's
//! proctests — no processes, no clock. Seeds refer to service-contract.md §10.

use std::collections::HashMap;
use std::sync::Arc;

use super::*;
use crate::spec::{
    DepKind, ExecCommand, ExecContext, ExecFlags, ExitStatusSet, KindSpec, LoadState, LoadedUnit,
    RestartPolicy, ServiceSpec, ServiceType, USEC_INFINITY, USEC_PER_SEC, UnitName, UnitSpec,
};

mod events;
mod snapshot;

const SIGTERM: i32 = 15;
const SIGKILL: i32 = 9;

/// One spawned simulated process.
#[derive(Debug, Clone)]
struct Proc {
    unit: UnitId,
    phase: ExecPhase,
    argv: Vec<String>,
    env: Vec<(String, String)>,
    alive: bool,
    /// The spawn asked for `NOTIFY_SOCKET`.
    notify_socket: bool,
    /// Socket units whose fds the spawn receives.
    sockets: Vec<UnitId>,
}

/// A simulated world around the engine.
struct Sim {
    e: Engine,
    now: u64,
    next_pid: u32,
    procs: HashMap<u32, Proc>,
    /// (pid, signal) in delivery order.
    kills: Vec<(u32, i32)>,
    changes: Vec<Change>,
    /// Answer to GuessMainPid.
    guess: Option<u32>,
    /// Spawns that should fail in the manager (`Result=resources`), by argv[0].
    fail_spawn: Vec<String>,
    /// Spawns whose exec fails in the child, by argv[0].
    fail_exec: Vec<String>,
    /// Fd-store effects, in order.
    fd_ops: Vec<(UnitId, FdStoreOp)>,
    /// Socket effects in order: ("open"/"close"/"watch"/"unwatch", unit).
    socket_ops: Vec<(&'static str, UnitId)>,
    /// (pid, signal) delivered to processes other than main and control (`others`).
    others_kills: Vec<(u32, i32)>,
    /// `RemoveRuntimeDirectories` effects, in order.
    removed_dirs: Vec<(UnitId, Vec<std::path::PathBuf>)>,
    /// Simulated `Persistent=` timer stamps (realtime µs), by timer name.
    stamps: HashMap<String, u64>,
    /// Simulated mount table: paths that are mount points.
    mounted: Vec<std::path::PathBuf>,
    /// Mount points created on request: (path, mode).
    mkdirs: Vec<(std::path::PathBuf, u32)>,
}

fn cmd(line: &str) -> ExecCommand {
    let argv: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    ExecCommand {
        path: argv[0].clone(),
        argv,
        flags: ExecFlags::default(),
    }
}

impl Sim {
    fn new() -> Sim {
        Sim::with_scope(true)
    }

    fn with_scope(user: bool) -> Sim {
        let e = Engine::new(EngineConfig {
            user_scope: user,
            manager_env: vec!["PATH=/usr/bin:/bin".into(), "LANG=C.UTF-8".into()],
            manager_pid: 4242,
            id_seed: [7; 16],
        });
        let mut s = Sim {
            e,
            now: 1_000_000,
            next_pid: 100,
            procs: HashMap::new(),
            kills: Vec::new(),
            changes: Vec::new(),
            guess: None,
            fail_spawn: Vec::new(),
            fail_exec: Vec::new(),
            fd_ops: Vec::new(),
            socket_ops: Vec::new(),
            removed_dirs: Vec::new(),
            others_kills: Vec::new(),
            stamps: HashMap::new(),
            mounted: Vec::new(),
            mkdirs: Vec::new(),
        };
        // The targets every unit's default dependencies refer to.
        for t in ["basic.target", "shutdown.target", "sysinit.target"] {
            s.add_target(t, &[]);
        }
        s
    }

    fn t(&self) -> Timestamp {
        Timestamp {
            realtime: 1_700_000_000_000_000 + self.now,
            monotonic: self.now,
        }
    }

    fn insert(&mut self, name: &str, spec: UnitSpec, state: LoadState) -> UnitId {
        let loaded = LoadedUnit {
            name: name.into(),
            aliases: vec![],
            load_state: state,
            load_error: None,
            fragment_path: None,
            dropin_paths: vec![],
            diagnostics: vec![],
            spec,
        };
        let t = self.t();
        let id = self.e.insert(t, name, loaded);
        for stub in self.e.take_stubs() {
            let n = UnitName::new(&stub).unwrap();
            let spec = UnitSpec::default_for(&n);
            self.insert(&stub, spec, LoadState::NotFound);
        }
        self.pump();
        id
    }

    fn add_target(&mut self, name: &str, deps: &[(DepKind, &str)]) -> UnitId {
        let mut spec = UnitSpec::default_for(&UnitName::new(name).unwrap());
        spec.deps = deps.iter().map(|(k, n)| (*k, n.to_string())).collect();
        self.insert(name, spec, LoadState::Loaded)
    }

    fn add_service(
        &mut self,
        name: &str,
        deps: &[(DepKind, &str)],
        f: impl FnOnce(&mut ServiceSpec),
    ) -> UnitId {
        let mut spec = UnitSpec::default_for(&UnitName::new(name).unwrap());
        spec.deps = deps.iter().map(|(k, n)| (*k, n.to_string())).collect();
        let mut s = ServiceSpec {
            exec_start: vec![cmd("/bin/daemon")],
            exec: Arc::new(ExecContext::default()),
            ..ServiceSpec::default()
        };
        f(&mut s);
        spec.kind = KindSpec::Service(Box::new(s));
        self.insert(name, spec, LoadState::Loaded)
    }

    fn id(&self, name: &str) -> UnitId {
        self.e.lookup(name).unwrap()
    }

    /// Carry out effects like the runtime would, answering the ones that need answers.
    fn pump(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(eff) = self.e.poll_effect() {
                progressed = true;
                let t = self.t();
                match eff {
                    Effect::Spawn(req) => {
                        if self.fail_spawn.contains(&req.command.argv[0]) {
                            self.e.handle_input(
                                t,
                                Input::SpawnFailed {
                                    unit: req.unit,
                                    token: req.token,
                                    reason: "simulated".into(),
                                },
                            );
                            continue;
                        }
                        let pid = self.next_pid;
                        self.next_pid += 1;
                        let exec_ok = !self.fail_exec.contains(&req.command.argv[0]);
                        self.procs.insert(
                            pid,
                            Proc {
                                unit: req.unit,
                                phase: req.phase,
                                argv: req.command.argv.clone(),
                                env: req.env.clone(),
                                alive: true,
                                notify_socket: req.notify_socket,
                                sockets: req.sockets.clone(),
                            },
                        );
                        self.e.handle_input(
                            t,
                            Input::Spawned {
                                unit: req.unit,
                                token: req.token,
                                pid,
                                exec_ok,
                            },
                        );
                        if !exec_ok {
                            self.exit(pid, ExitStatus::Exited(203));
                        }
                    }
                    Effect::Kill(k) => {
                        for pid in [k.main, k.control].into_iter().flatten() {
                            self.kills.push((pid, k.signal));
                        }
                        if k.others {
                            let mut others: Vec<u32> = self
                                .procs
                                .iter()
                                .filter(|(pid, p)| {
                                    p.unit == k.unit
                                        && p.alive
                                        && Some(**pid) != k.main
                                        && Some(**pid) != k.control
                                })
                                .map(|(pid, _)| *pid)
                                .collect();
                            others.sort_unstable();
                            self.others_kills
                                .extend(others.into_iter().map(|p| (p, k.signal)));
                        }
                        let remaining = self.others_alive(k.unit, &[k.main, k.control]);
                        self.e.handle_input(
                            t,
                            Input::KillDelivered {
                                unit: k.unit,
                                remaining,
                            },
                        );
                    }
                    Effect::GuessMainPid { unit } => {
                        let pid = self.guess.take();
                        if let Some(p) = pid {
                            self.procs.insert(
                                p,
                                Proc {
                                    unit,
                                    phase: ExecPhase::Start,
                                    argv: vec!["daemonized".into()],
                                    env: vec![],
                                    alive: true,
                                    notify_socket: false,
                                    sockets: Vec::new(),
                                },
                            );
                        }
                        self.e.handle_input(t, Input::MainPidGuessed { unit, pid });
                    }
                    Effect::ReadPidFile { unit, .. } => {
                        let pid = self.guess.take();
                        self.e.handle_input(t, Input::PidFileRead { unit, pid });
                    }
                    Effect::CheckConditions {
                        unit,
                        conditions,
                        asserts,
                    } => {
                        // Simulated file system: only paths named "/exists" exist.
                        let eval =
                            |c: &crate::spec::Condition| (c.parameter == "/exists") != c.negate;
                        let conditions = conditions.iter().map(eval).collect();
                        let asserts = asserts.iter().map(eval).collect();
                        self.e.handle_input(
                            t,
                            Input::ConditionsChecked {
                                unit,
                                conditions,
                                asserts,
                            },
                        );
                    }
                    Effect::AdoptProcesses { unit, pids } => {
                        // Foreign processes: every non-zero PID exists.
                        for pid in pids.iter().copied().filter(|p| *p != 0) {
                            self.procs.insert(
                                pid,
                                Proc {
                                    unit,
                                    phase: ExecPhase::Start,
                                    argv: vec!["adopted".into()],
                                    env: vec![],
                                    alive: true,
                                    notify_socket: false,
                                    sockets: vec![],
                                },
                            );
                        }
                        let alive = self.others_alive(unit, &[]);
                        self.e
                            .handle_input(t, Input::ProcessesAdopted { unit, alive });
                    }
                    Effect::FdStore { unit, op } => self.fd_ops.push((unit, op)),
                    Effect::OpenSockets { unit, .. } => {
                        self.socket_ops.push(("open", unit));
                        self.e
                            .handle_input(t, Input::SocketsOpened { unit, error: None });
                    }
                    Effect::CloseSockets { unit, .. } => self.socket_ops.push(("close", unit)),
                    Effect::WatchSockets { unit, watch } => self
                        .socket_ops
                        .push((if watch { "watch" } else { "unwatch" }, unit)),
                    Effect::RemoveRuntimeDirectories { unit, paths } => {
                        self.removed_dirs.push((unit, paths))
                    }
                    Effect::ReadTimerStamp { unit, name } => {
                        let realtime = self.stamps.get(&name).copied();
                        if realtime.is_none() {
                            self.stamps.insert(name, t.realtime);
                        }
                        self.e
                            .handle_input(t, Input::TimerStampRead { unit, realtime });
                    }
                    Effect::TouchTimerStamp { name, realtime } => {
                        self.stamps.insert(name, realtime);
                    }
                    Effect::CheckMountPoint {
                        unit,
                        path,
                        directory_mode,
                    } => {
                        let mounted = self.mounted.contains(&path);
                        if let (false, Some(mode)) = (mounted, directory_mode) {
                            self.mkdirs.push((path, mode));
                        }
                        self.e
                            .handle_input(t, Input::MountPointChecked { unit, mounted });
                    }
                    Effect::RemovePidFile { .. } | Effect::ForgetProcesses { .. } => {}
                }
            }
            while let Some(c) = self.e.poll_change() {
                self.changes.push(c);
            }
            if !progressed {
                break;
            }
        }
    }

    fn others_alive(&self, unit: UnitId, except: &[Option<u32>]) -> u32 {
        self.procs
            .iter()
            .filter(|(pid, p)| p.unit == unit && p.alive && !except.contains(&Some(**pid)))
            .count() as u32
    }

    fn exit(&mut self, pid: u32, status: ExitStatus) {
        let unit = {
            let p = self.procs.get_mut(&pid).expect("known pid");
            assert!(p.alive, "pid {pid} already dead");
            p.alive = false;
            p.unit
        };
        let remaining = self.others_alive(unit, &[]);
        let t = self.t();
        self.e.handle_input(
            t,
            Input::Exited {
                pid,
                status,
                unit: Some(unit),
                remaining,
            },
        );
        self.pump();
    }

    fn advance(&mut self, usec: u64) {
        self.now += usec;
        let t = self.t();
        self.e.handle_timeout(t);
        self.pump();
    }

    fn enqueue(&mut self, name: &str, t: JobType, mode: JobMode) -> Result<JobId, EnqueueError> {
        let id = self.id(name);
        let now = self.t();
        let r = self.e.enqueue(now, id, t, mode, true);
        self.pump();
        r
    }

    fn start(&mut self, name: &str) -> Result<JobId, EnqueueError> {
        self.enqueue(name, JobType::Start, JobMode::Replace)
    }

    fn stop(&mut self, name: &str) -> Result<JobId, EnqueueError> {
        self.enqueue(name, JobType::Stop, JobMode::Replace)
    }

    fn state(&self, name: &str) -> (&'static str, &'static str) {
        let u = self.e.unit(self.id(name));
        (u.active_state.as_str(), u.sub_state())
    }

    fn svc(&self, name: &str) -> &ServiceRuntime {
        &self.e.unit(self.id(name)).service
    }

    fn main_pid(&self, name: &str) -> u32 {
        self.svc(name).main_pid.expect("main pid")
    }

    fn control_pid(&self, name: &str) -> u32 {
        self.svc(name).control_pid.expect("control pid")
    }

    fn job_result(&self, job: JobId) -> Option<JobResult> {
        self.changes.iter().find_map(|c| match c {
            Change::JobRemoved { job: j, result, .. } if *j == job => Some(*result),
            _ => None,
        })
    }

    /// The most recent process spawned for `name` in `phase`.
    fn last_spawn(&self, name: &str, phase: ExecPhase) -> Option<(u32, Proc)> {
        let id = self.id(name);
        self.procs
            .iter()
            .filter(|(_, p)| p.unit == id && p.phase == phase)
            .max_by_key(|(pid, _)| **pid)
            .map(|(pid, p)| (*pid, p.clone()))
    }

    fn env_of(p: &Proc, key: &str) -> Option<String> {
        p.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }
}

#[test]
fn simple_service_start_stop() {
    let mut s = Sim::new();
    s.add_service("web.service", &[], |_| {});
    let job = s.start("web.service").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("web.service"), ("active", "running"));
    assert_eq!(
        s.state("basic.target"),
        ("active", "active"),
        "Requires=basic.target"
    );
    let pid = s.main_pid("web.service");
    let (_, p) = s.last_spawn("web.service", ExecPhase::Start).unwrap();
    assert_eq!(p.argv, vec!["/bin/daemon"]);
    assert_eq!(Sim::env_of(&p, "MANAGERPID").as_deref(), Some("4242"));
    assert_eq!(Sim::env_of(&p, "INVOCATION_ID").map(|v| v.len()), Some(32));
    assert_eq!(Sim::env_of(&p, "MAINPID"), None);

    let job = s.stop("web.service").unwrap();
    assert_eq!(s.state("web.service"), ("deactivating", "stop-sigterm"));
    assert_eq!(s.kills, vec![(pid, SIGTERM)]);
    assert_eq!(s.job_result(job), None);
    s.exit(pid, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.state("web.service"), ("inactive", "dead"));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.svc("web.service").result, ServiceResult::Success);
}

#[test]
fn job_removed_follows_unit_change_and_start_of_active_unit_is_done() {
    let mut s = Sim::new();
    let id = s.add_service("a.service", &[], |_| {});
    s.changes.clear();
    let job = s.start("a.service").unwrap();
    let pos_unit = s
        .changes
        .iter()
        .position(|c| *c == Change::UnitChanged { unit: id })
        .unwrap();
    let pos_job = s
        .changes
        .iter()
        .position(|c| matches!(c, Change::JobRemoved { job: j, .. } if *j == job))
        .unwrap();
    assert!(
        pos_unit < pos_job,
        "unit change must precede JobRemoved: {:?}",
        s.changes
    );
    let again = s.start("a.service").unwrap();
    assert_ne!(again, job);
    assert_eq!(s.job_result(again), Some(JobResult::Done));
}

#[test]
fn seed8_unclean_exit_skips_exec_stop_clean_exit_runs_it() {
    let mut s = Sim::new();
    s.add_service("x.service", &[], |sv| {
        sv.exec_stop = vec![cmd("/bin/stop")];
        sv.exec_stop_post = vec![cmd("/bin/stoppost")];
    });
    s.start("x.service").unwrap();
    let pid = s.main_pid("x.service");
    s.exit(pid, ExitStatus::Exited(3));
    assert!(
        s.last_spawn("x.service", ExecPhase::Stop).is_none(),
        "ExecStop must not run"
    );
    let (post, p) = s.last_spawn("x.service", ExecPhase::StopPost).unwrap();
    assert_eq!(Sim::env_of(&p, "EXIT_STATUS").as_deref(), Some("3"));
    assert_eq!(Sim::env_of(&p, "EXIT_CODE").as_deref(), Some("exited"));
    assert_eq!(
        Sim::env_of(&p, "SERVICE_RESULT").as_deref(),
        Some("exit-code")
    );
    s.exit(post, ExitStatus::Exited(0));
    assert_eq!(s.state("x.service"), ("failed", "failed"));

    // Clean exit: ExecStop runs, without MAINPID.
    s.start("x.service").unwrap();
    let pid = s.main_pid("x.service");
    s.exit(pid, ExitStatus::Exited(0));
    let (stop, p) = s.last_spawn("x.service", ExecPhase::Stop).unwrap();
    assert_eq!(Sim::env_of(&p, "MAINPID"), None);
    assert_eq!(
        Sim::env_of(&p, "SERVICE_RESULT").as_deref(),
        Some("success")
    );
    s.exit(stop, ExitStatus::Exited(0));
    let (post, _) = s.last_spawn("x.service", ExecPhase::StopPost).unwrap();
    s.exit(post, ExitStatus::Exited(0));
    assert_eq!(s.state("x.service"), ("inactive", "dead"));
}

#[test]
fn exec_stop_gets_mainpid_while_main_alive() {
    let mut s = Sim::new();
    s.add_service("x.service", &[], |sv| sv.exec_stop = vec![cmd("/bin/stop")]);
    s.start("x.service").unwrap();
    let main = s.main_pid("x.service");
    s.stop("x.service").unwrap();
    let (stop, p) = s.last_spawn("x.service", ExecPhase::Stop).unwrap();
    assert_eq!(Sim::env_of(&p, "MAINPID"), Some(main.to_string()));
    assert_eq!(s.state("x.service"), ("deactivating", "stop"));
    s.exit(stop, ExitStatus::Exited(0));
    assert_eq!(s.kills, vec![(main, SIGTERM)]);
    s.exit(main, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.state("x.service"), ("inactive", "dead"));
}

#[test]
fn seed9_restart_on_failure_until_start_limit() {
    let mut s = Sim::new();
    s.add_service("r.service", &[], |sv| sv.restart = RestartPolicy::OnFailure);
    s.start("r.service").unwrap();
    // Starts 2..=5 are automatic restarts; the fifth restart is the sixth start in 10 s.
    for round in 0..4 {
        let pid = s.main_pid("r.service");
        s.exit(pid, ExitStatus::Exited(1));
        assert_eq!(
            s.state("r.service"),
            ("activating", "auto-restart"),
            "round {round}"
        );
        s.advance(100_000);
        assert_eq!(s.state("r.service"), ("active", "running"), "round {round}");
        assert_eq!(s.svc("r.service").n_restarts, round + 1);
    }
    let pid = s.main_pid("r.service");
    s.exit(pid, ExitStatus::Exited(1));
    s.advance(100_000);
    assert_eq!(s.state("r.service"), ("failed", "failed"));
    assert_eq!(s.svc("r.service").n_restarts, 5);
    assert_eq!(
        s.svc("r.service").result,
        ServiceResult::ExitCode,
        "v252 keeps exit-code"
    );
}

#[test]
fn seed9_restart_always_burst3_hits_start_limit_and_refuses_manual_start() {
    let mut s = Sim::new();
    let id = s.add_service("r.service", &[], |sv| sv.restart = RestartPolicy::Always);
    // StartLimitBurst=3 lives in [Unit].
    let mut loaded = s.e.unit(id).loaded.clone();
    loaded.spec.start_limit_burst = 3;
    let t = s.t();
    s.e.insert(t, "r.service", loaded);
    s.start("r.service").unwrap();
    for _ in 0..3 {
        let pid = s.main_pid("r.service");
        s.exit(pid, ExitStatus::Exited(0));
        s.advance(100_000);
    }
    assert_eq!(s.state("r.service"), ("failed", "failed"));
    assert_eq!(s.svc("r.service").n_restarts, 3);
    assert_eq!(s.svc("r.service").result, ServiceResult::StartLimitHit);
    let job = s.start("r.service").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Failed));
    // reset-failed clears the limit.
    let t = s.t();
    s.e.reset_failed(t, Some(id));
    s.pump();
    assert_eq!(s.state("r.service"), ("inactive", "dead"));
    let job = s.start("r.service").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Done));
}

#[test]
fn seed10_restart_prevent_exit_status() {
    let mut s = Sim::new();
    s.add_service("p.service", &[], |sv| {
        sv.restart = RestartPolicy::Always;
        sv.restart_prevent_exit_status = ExitStatusSet {
            statuses: vec![7],
            signals: vec![],
        };
    });
    s.start("p.service").unwrap();
    let pid = s.main_pid("p.service");
    s.exit(pid, ExitStatus::Exited(7));
    assert_eq!(s.state("p.service"), ("failed", "failed"));
}

#[test]
fn manual_stop_never_restarts() {
    let mut s = Sim::new();
    s.add_service("a.service", &[], |sv| sv.restart = RestartPolicy::Always);
    s.start("a.service").unwrap();
    let pid = s.main_pid("a.service");
    s.stop("a.service").unwrap();
    s.exit(pid, ExitStatus::Killed(SIGTERM));
    s.advance(USEC_PER_SEC);
    assert_eq!(s.state("a.service"), ("inactive", "dead"));
}

#[test]
fn seed11_oneshot_semantics() {
    let mut s = Sim::new();
    s.add_service("o.service", &[], |sv| {
        sv.service_type = ServiceType::Oneshot;
        sv.timeout_start_usec = USEC_INFINITY;
        sv.exec_start = vec![cmd("/bin/one"), cmd("/bin/two")];
        sv.exec_stop = vec![cmd("/bin/stop")];
    });
    let job = s.start("o.service").unwrap();
    assert_eq!(s.state("o.service"), ("activating", "start"));
    let one = s.main_pid("o.service");
    s.exit(one, ExitStatus::Exited(0));
    let two = s.main_pid("o.service");
    assert_ne!(one, two);
    s.exit(two, ExitStatus::Exited(0));
    // Without RemainAfterExit, ExecStop runs right after ExecStart.
    let stop = s.control_pid("o.service");
    assert_eq!(s.state("o.service"), ("deactivating", "stop"));
    s.exit(stop, ExitStatus::Exited(0));
    assert_eq!(s.state("o.service"), ("inactive", "dead"));
    assert_eq!(s.job_result(job), Some(JobResult::Done));

    // Stopping a running oneshot: Result=signal, failed.
    let job = s.start("o.service").unwrap();
    let one = s.main_pid("o.service");
    s.stop("o.service").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Canceled));
    s.exit(one, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.state("o.service"), ("failed", "failed"));
    assert_eq!(s.svc("o.service").result, ServiceResult::Signal);
}

#[test]
fn oneshot_remain_after_exit_and_failure() {
    let mut s = Sim::new();
    s.add_service("o.service", &[], |sv| {
        sv.service_type = ServiceType::Oneshot;
        sv.remain_after_exit = true;
    });
    let job = s.start("o.service").unwrap();
    let pid = s.main_pid("o.service");
    s.exit(pid, ExitStatus::Exited(0));
    assert_eq!(s.state("o.service"), ("active", "exited"));
    assert_eq!(s.job_result(job), Some(JobResult::Done));

    s.add_service("f.service", &[], |sv| {
        sv.service_type = ServiceType::Oneshot
    });
    let job = s.start("f.service").unwrap();
    let pid = s.main_pid("f.service");
    s.exit(pid, ExitStatus::Exited(1));
    assert_eq!(s.state("f.service"), ("failed", "failed"));
    assert_eq!(s.job_result(job), Some(JobResult::Failed));
}

#[test]
fn seed14_missing_binary_simple_vs_exec() {
    let mut s = Sim::new();
    s.fail_exec.push("/nonexistent".into());
    s.add_service("simple.service", &[], |sv| {
        sv.exec_start = vec![cmd("/nonexistent")]
    });
    let job = s.start("simple.service").unwrap();
    assert_eq!(
        s.job_result(job),
        Some(JobResult::Done),
        "simple: job done, unit fails later"
    );
    assert_eq!(s.state("simple.service"), ("failed", "failed"));
    assert_eq!(s.svc("simple.service").exec_main.status, 203);

    s.add_service("exec.service", &[], |sv| {
        sv.service_type = ServiceType::Exec;
        sv.exec_start = vec![cmd("/nonexistent")];
    });
    let job = s.start("exec.service").unwrap();
    assert_eq!(
        s.job_result(job),
        Some(JobResult::Failed),
        "exec: the job fails"
    );
    assert_eq!(s.svc("exec.service").result, ServiceResult::ExitCode);
}

#[test]
fn spawn_failure_is_result_resources() {
    let mut s = Sim::new();
    s.fail_spawn.push("/bin/pre".into());
    s.add_service("e.service", &[], |sv| {
        sv.exec_start_pre = vec![cmd("/bin/pre")]
    });
    let job = s.start("e.service").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Failed));
    assert_eq!(s.svc("e.service").result, ServiceResult::Resources);
}

#[test]
fn seed18_requires_after_failing_dependency() {
    let mut s = Sim::new();
    s.add_service("b.service", &[], |sv| {
        sv.service_type = ServiceType::Oneshot;
    });
    s.add_service(
        "a.service",
        &[
            (DepKind::Requires, "b.service"),
            (DepKind::After, "b.service"),
        ],
        |_| {},
    );
    let job = s.start("a.service").unwrap();
    assert_eq!(s.state("a.service"), ("inactive", "dead"), "waits for b");
    let b = s.main_pid("b.service");
    s.exit(b, ExitStatus::Exited(1));
    assert_eq!(s.job_result(job), Some(JobResult::Dependency));
    assert_eq!(s.state("a.service"), ("inactive", "dead"));
}

#[test]
fn seed18_requires_without_after_starts_both() {
    let mut s = Sim::new();
    s.add_service("b.service", &[], |_| {});
    s.add_service("a.service", &[(DepKind::Requires, "b.service")], |_| {});
    let job = s.start("a.service").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("a.service").0, "active");
    assert_eq!(s.state("b.service").0, "active");
    // Requires target dies on its own: the requiring unit stays.
    let b = s.main_pid("b.service");
    s.exit(b, ExitStatus::Exited(1));
    assert_eq!(s.state("b.service").0, "failed");
    assert_eq!(s.state("a.service").0, "active");
    // Stopping b explicitly stops a too.
    s.start("b.service").unwrap();
    s.stop("b.service").unwrap();
    assert_eq!(s.state("a.service").0, "deactivating");
}

#[test]
fn seed18_bindsto_target_dies_bound_unit_stops() {
    let mut s = Sim::new();
    s.add_service("b.service", &[], |_| {});
    s.add_service(
        "a.service",
        &[
            (DepKind::BindsTo, "b.service"),
            (DepKind::After, "b.service"),
        ],
        |_| {},
    );
    s.start("a.service").unwrap();
    assert_eq!(s.state("a.service").0, "active");
    let a = s.main_pid("a.service");
    let b = s.main_pid("b.service");
    s.exit(b, ExitStatus::Exited(0));
    assert_eq!(s.state("a.service"), ("deactivating", "stop-sigterm"));
    s.exit(a, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.state("a.service").0, "inactive");
}

#[test]
fn seed18_conflicts_stops_the_other() {
    let mut s = Sim::new();
    s.add_service("b.service", &[], |_| {});
    s.add_service("a.service", &[(DepKind::Conflicts, "b.service")], |_| {});
    s.start("b.service").unwrap();
    let b = s.main_pid("b.service");
    s.start("a.service").unwrap();
    assert_eq!(s.state("b.service").0, "deactivating");
    s.exit(b, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.state("b.service").0, "inactive");
    assert_eq!(s.state("a.service").0, "active");
    // And the other way round (ConflictedBy).
    let a = s.main_pid("a.service");
    s.start("b.service").unwrap();
    assert_eq!(s.state("a.service").0, "deactivating");
    s.exit(a, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.state("b.service").0, "active");
}

#[test]
fn wants_missing_unit_is_fine_requires_missing_unit_fails() {
    let mut s = Sim::new();
    s.add_service("w.service", &[(DepKind::Wants, "missing.service")], |_| {});
    assert!(s.start("w.service").is_ok());
    s.add_service(
        "r.service",
        &[(DepKind::Requires, "missing2.service")],
        |_| {},
    );
    assert_eq!(
        s.start("r.service"),
        Err(EnqueueError::NoSuchUnit(
            "Unit missing2.service not found.".into()
        ))
    );
    assert_eq!(
        s.start("missing.service"),
        Err(EnqueueError::NoSuchUnit(
            "Unit missing.service not found.".into()
        ))
    );
    assert_eq!(
        s.stop("missing.service"),
        Err(EnqueueError::NoSuchUnit(
            "Unit missing.service not loaded.".into()
        ))
    );
    // The load state is checked before try-restart collapses to a no-op (systemd 252).
    assert_eq!(
        s.enqueue("missing.service", JobType::TryRestart, JobMode::Replace),
        Err(EnqueueError::NoSuchUnit(
            "Unit missing.service not found.".into()
        ))
    );
}

#[test]
fn load_state_errors() {
    let mut s = Sim::new();
    let n = UnitName::new("m.service").unwrap();
    s.insert("m.service", UnitSpec::default_for(&n), LoadState::Masked);
    assert_eq!(
        s.start("m.service"),
        Err(EnqueueError::UnitMasked("Unit m.service is masked.".into()))
    );
    let n = UnitName::new("bad.service").unwrap();
    s.insert(
        "bad.service",
        UnitSpec::default_for(&n),
        LoadState::BadSetting,
    );
    assert_eq!(
        s.start("bad.service"),
        Err(EnqueueError::BadUnitSetting(
            "Unit bad.service has a bad unit file setting.".into()
        ))
    );
}

#[test]
fn ordering_cycles_are_broken_or_refused() {
    let mut s = Sim::new();
    s.add_service(
        "a.service",
        &[
            (DepKind::Requires, "b.service"),
            (DepKind::After, "b.service"),
        ],
        |_| {},
    );
    s.add_service(
        "b.service",
        &[
            (DepKind::Requires, "a.service"),
            (DepKind::After, "a.service"),
        ],
        |_| {},
    );
    assert!(matches!(
        s.start("a.service"),
        Err(EnqueueError::TransactionOrderIsCyclic(_))
    ));
    // A cycle through a merely wanted unit is broken by dropping that job.
    s.add_service(
        "c.service",
        &[(DepKind::Wants, "d.service"), (DepKind::After, "d.service")],
        |_| {},
    );
    s.add_service("d.service", &[(DepKind::After, "c.service")], |_| {});
    let job = s.start("c.service").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("d.service").0, "inactive");
}

#[test]
fn job_merging_and_replacing() {
    let mut s = Sim::new();
    s.add_service("slow.service", &[], |sv| {
        sv.service_type = ServiceType::Oneshot;
        sv.remain_after_exit = true;
    });
    let j1 = s.start("slow.service").unwrap();
    let j2 = s.start("slow.service").unwrap();
    assert_eq!(j1, j2, "a second start merges into the installed job");
    assert_eq!(
        s.enqueue("slow.service", JobType::Stop, JobMode::Fail)
            .map_err(|e| e.dbus_name()),
        Err("org.freedesktop.systemd1.TransactionIsDestructive")
    );
    let stop = s.stop("slow.service").unwrap();
    assert_eq!(s.job_result(j1), Some(JobResult::Canceled));
    let pid = s.main_pid("slow.service");
    s.exit(pid, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.job_result(stop), Some(JobResult::Done));
}

#[test]
fn restart_try_restart_reload() {
    let mut s = Sim::new();
    s.add_service("a.service", &[], |sv| {
        sv.exec_reload = vec![cmd("/bin/reload")]
    });
    let job = s
        .enqueue("a.service", JobType::TryRestart, JobMode::Replace)
        .unwrap();
    assert_eq!(
        s.job_result(job),
        Some(JobResult::Done),
        "try-restart of inactive is a nop"
    );
    assert_eq!(s.state("a.service").0, "inactive");
    let job = s
        .enqueue("a.service", JobType::Reload, JobMode::Replace)
        .unwrap();
    assert_eq!(
        s.job_result(job),
        Some(JobResult::Invalid),
        "reload of inactive unit"
    );

    let job = s
        .enqueue("a.service", JobType::Restart, JobMode::Replace)
        .unwrap();
    assert_eq!(
        s.job_result(job),
        Some(JobResult::Done),
        "restart of inactive starts it"
    );
    let old = s.main_pid("a.service");
    let job = s
        .enqueue("a.service", JobType::Restart, JobMode::Replace)
        .unwrap();
    s.exit(old, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    let new = s.main_pid("a.service");
    assert_ne!(old, new);

    let job = s
        .enqueue("a.service", JobType::Reload, JobMode::Replace)
        .unwrap();
    assert_eq!(s.state("a.service"), ("reloading", "reload"));
    let (rl, p) = s.last_spawn("a.service", ExecPhase::Reload).unwrap();
    assert_eq!(Sim::env_of(&p, "MAINPID"), Some(new.to_string()));
    s.exit(rl, ExitStatus::Exited(0));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("a.service"), ("active", "running"));

    s.add_service("nr.service", &[], |_| {});
    assert!(matches!(
        s.enqueue("nr.service", JobType::Reload, JobMode::Replace),
        Err(EnqueueError::JobTypeNotApplicable(_))
    ));
}

#[test]
fn forking_daemon_main_pid_guessed() {
    let mut s = Sim::new();
    s.add_service("f.service", &[], |sv| {
        sv.service_type = ServiceType::Forking
    });
    let job = s.start("f.service").unwrap();
    assert_eq!(s.state("f.service"), ("activating", "start"));
    let starter = s.control_pid("f.service");
    s.guess = Some(5000);
    s.exit(starter, ExitStatus::Exited(0));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("f.service"), ("active", "running"));
    assert_eq!(s.main_pid("f.service"), 5000);
    s.stop("f.service").unwrap();
    assert_eq!(s.kills, vec![(5000, SIGTERM)]);
    s.exit(5000, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.state("f.service"), ("inactive", "dead"));
}

#[test]
fn seed19_start_timeout_is_per_command() {
    let mut s = Sim::new();
    s.add_service("t.service", &[], |sv| {
        sv.service_type = ServiceType::Exec;
        sv.timeout_start_usec = 2 * USEC_PER_SEC;
        sv.exec_start_pre = vec![cmd("/bin/p1"), cmd("/bin/p2")];
        sv.exec_start_post = vec![cmd("/bin/post")];
    });
    let job = s.start("t.service").unwrap();
    for _ in 0..2 {
        s.advance(1_500_000);
        let pid = s.control_pid("t.service");
        s.exit(pid, ExitStatus::Exited(0));
    }
    s.advance(1_500_000);
    let post = s.control_pid("t.service");
    s.exit(post, ExitStatus::Exited(0));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("t.service"), ("active", "running"));
}

#[test]
fn seed19_stop_timeout_escalates_to_sigkill() {
    let mut s = Sim::new();
    s.add_service("k.service", &[], |sv| sv.timeout_stop_usec = USEC_PER_SEC);
    s.start("k.service").unwrap();
    let pid = s.main_pid("k.service");
    let job = s.stop("k.service").unwrap();
    s.advance(USEC_PER_SEC);
    assert_eq!(s.state("k.service"), ("deactivating", "stop-sigkill"));
    assert_eq!(s.kills, vec![(pid, SIGTERM), (pid, SIGKILL)]);
    s.exit(pid, ExitStatus::Killed(SIGKILL));
    assert_eq!(s.state("k.service"), ("failed", "failed"));
    assert_eq!(s.svc("k.service").result, ServiceResult::Timeout);
    assert_eq!(s.job_result(job), Some(JobResult::Done));
}

#[test]
fn start_timeout_fails_the_job() {
    let mut s = Sim::new();
    s.add_service("n.service", &[], |sv| {
        sv.service_type = ServiceType::Notify;
        sv.timeout_start_usec = 3 * USEC_PER_SEC;
    });
    let job = s.start("n.service").unwrap();
    s.advance(3 * USEC_PER_SEC);
    assert_eq!(s.state("n.service"), ("deactivating", "stop-sigterm"));
    let pid = s.main_pid("n.service");
    s.exit(pid, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.job_result(job), Some(JobResult::Failed));
    assert_eq!(s.svc("n.service").result, ServiceResult::Timeout);
}

#[test]
fn exec_condition_skips_without_failing() {
    let mut s = Sim::new();
    s.add_service("c.service", &[], |sv| {
        sv.exec_condition = vec![cmd("/bin/check")]
    });
    let job = s.start("c.service").unwrap();
    let pid = s.control_pid("c.service");
    s.exit(pid, ExitStatus::Exited(1));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("c.service"), ("inactive", "dead"));
    assert_eq!(s.svc("c.service").result, ServiceResult::SkipCondition);
}

#[test]
fn on_failure_triggers_unless_restarting() {
    let mut s = Sim::new();
    s.add_service("alert.service", &[], |sv| {
        sv.service_type = ServiceType::Oneshot
    });
    s.add_service(
        "x.service",
        &[(DepKind::OnFailure, "alert.service")],
        |_| {},
    );
    s.start("x.service").unwrap();
    let pid = s.main_pid("x.service");
    s.exit(pid, ExitStatus::Exited(2));
    assert_eq!(s.state("alert.service"), ("activating", "start"));
}

#[test]
fn kill_mode_control_group_waits_for_other_processes() {
    let mut s = Sim::new();
    s.add_service("cg.service", &[], |_| {});
    s.start("cg.service").unwrap();
    let main = s.main_pid("cg.service");
    let id = s.id("cg.service");
    // A child of the daemon the supervisor attributes to the unit.
    s.procs.insert(
        9000,
        Proc {
            unit: id,
            phase: ExecPhase::Start,
            argv: vec!["child".into()],
            env: vec![],
            alive: true,
            notify_socket: false,
            sockets: Vec::new(),
        },
    );
    s.stop("cg.service").unwrap();
    s.exit(main, ExitStatus::Killed(SIGTERM));
    assert_eq!(
        s.state("cg.service"),
        ("deactivating", "stop-sigterm"),
        "child still alive"
    );
    s.exit(9000, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.state("cg.service"), ("inactive", "dead"));
}

#[test]
fn targets_pull_in_wanted_units_in_order() {
    let mut s = Sim::new();
    s.add_service("a.service", &[], |_| {});
    s.add_target("demo.target", &[(DepKind::Wants, "a.service")]);
    let job = s.start("demo.target").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("demo.target"), ("active", "active"));
    assert_eq!(s.state("a.service").0, "active");
    let props =
        s.e.unit(s.id("demo.target"))
            .dependency_names(&s.e, "After");
    assert!(props.contains(&"a.service"), "{props:?}");
}

#[test]
fn environment_set_and_unset() {
    let mut s = Sim::new();
    s.e.set_environment(&[], &["FOO=bar".into(), "LANG=de_DE.UTF-8".into()]);
    assert!(s.e.environment().contains(&"FOO=bar".to_string()));
    assert!(s.e.environment().contains(&"LANG=de_DE.UTF-8".to_string()));
    s.e.set_environment(&["FOO".into(), "LANG=nope".into()], &[]);
    assert!(!s.e.environment().iter().any(|e| e.starts_with("FOO=")));
    assert!(s.e.environment().contains(&"LANG=de_DE.UTF-8".to_string()));
    s.add_service("e.service", &[], |_| {});
    s.e.set_environment(&[], &["X=1".into()]);
    s.start("e.service").unwrap();
    let (_, p) = s.last_spawn("e.service", ExecPhase::Start).unwrap();
    assert_eq!(Sim::env_of(&p, "X").as_deref(), Some("1"));
}

#[test]
fn aliases_merge_into_one_unit() {
    let mut s = Sim::new();
    s.add_service("user.service", &[(DepKind::Wants, "alias.service")], |_| {});
    // Later the loader finds alias.service is a symlink to real.service.
    let mut spec = UnitSpec::default_for(&UnitName::new("real.service").unwrap());
    spec.kind = KindSpec::Service(Box::new(ServiceSpec {
        exec_start: vec![cmd("/bin/real")],
        ..ServiceSpec::default()
    }));
    let loaded = LoadedUnit {
        name: "real.service".into(),
        aliases: vec!["alias.service".into()],
        load_state: LoadState::Loaded,
        load_error: None,
        fragment_path: None,
        dropin_paths: vec![],
        diagnostics: vec![],
        spec,
    };
    let t = s.t();
    let id = s.e.insert(t, "alias.service", loaded);
    assert_eq!(s.e.lookup("alias.service"), Some(id));
    assert_eq!(s.e.lookup("real.service"), Some(id));
    s.start("user.service").unwrap();
    assert_eq!(s.state("real.service").0, "active");
    assert_eq!(
        s.e.units().filter(|u| u.name() == "alias.service").count(),
        0
    );
}

#[test]
fn invocation_ids_are_fresh_per_activation() {
    let mut s = Sim::new();
    s.add_service("i.service", &[], |_| {});
    s.start("i.service").unwrap();
    let first = s.e.unit(s.id("i.service")).invocation_id;
    assert_ne!(first, [0; 16]);
    let pid = s.main_pid("i.service");
    s.stop("i.service").unwrap();
    s.exit(pid, ExitStatus::Killed(SIGTERM));
    s.start("i.service").unwrap();
    assert_ne!(s.e.unit(s.id("i.service")).invocation_id, first);
}

#[test]
fn conditions_are_checked_when_the_job_runs() {
    use crate::spec::Condition;
    let mut s = Sim::new();
    let id = s.add_service("c.service", &[], |_| {});
    let mut loaded = s.e.unit(id).loaded.clone();
    loaded.spec.conditions = vec![Condition {
        kind: "PathExists".into(),
        trigger: false,
        negate: false,
        parameter: "/nonexistent".into(),
    }];
    let t = s.t();
    s.e.insert(t, "c.service", loaded);
    // The simulated runtime answers CheckConditions from this list.
    let job = s.start("c.service").unwrap();
    assert_eq!(
        s.job_result(job),
        Some(JobResult::Done),
        "a failed condition is not a failure"
    );
    assert_eq!(s.state("c.service"), ("inactive", "dead"));
    let u = s.e.unit(id);
    assert!(!u.condition_result);
    assert_eq!(u.condition_states, vec![-1]);

    // An assert that fails gives job result `assert`, the unit does not fail.
    let mut loaded = s.e.unit(id).loaded.clone();
    loaded.spec.conditions.clear();
    loaded.spec.asserts = vec![Condition {
        kind: "PathExists".into(),
        trigger: false,
        negate: false,
        parameter: "/nonexistent".into(),
    }];
    s.e.insert(t, "c.service", loaded);
    let job = s.start("c.service").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Assert));
    assert_eq!(s.state("c.service"), ("inactive", "dead"));
}

#[test]
fn triggering_conditions_need_one_to_hold() {
    use crate::spec::Condition;
    let mut s = Sim::new();
    let id = s.add_service("t.service", &[], |_| {});
    let mut loaded = s.e.unit(id).loaded.clone();
    let c = |p: &str| Condition {
        kind: "PathExists".into(),
        trigger: true,
        negate: false,
        parameter: p.into(),
    };
    loaded.spec.conditions = vec![c("/nonexistent"), c("/exists")];
    let t = s.t();
    s.e.insert(t, "t.service", loaded);
    s.start("t.service").unwrap();
    assert_eq!(s.state("t.service"), ("active", "running"));
    assert_eq!(s.e.unit(id).condition_states, vec![-1, 1]);
}

#[test]
fn job_timeout_cancels_only_the_job() {
    let mut s = Sim::new();
    let id = s.add_service("slow.service", &[], |sv| {
        sv.service_type = ServiceType::Oneshot;
    });
    let mut loaded = s.e.unit(id).loaded.clone();
    loaded.spec.job_timeout_usec = 5 * USEC_PER_SEC;
    let t = s.t();
    s.e.insert(t, "slow.service", loaded);
    let job = s.start("slow.service").unwrap();
    s.advance(4 * USEC_PER_SEC);
    assert_eq!(s.job_result(job), None);
    s.advance(USEC_PER_SEC);
    assert_eq!(s.job_result(job), Some(JobResult::Timeout));
    // The unit's state is not changed by a job timeout.
    assert_eq!(s.state("slow.service"), ("activating", "start"));
}

/// sd_notify, watchdog and fd-store rules (seeds 1–7, 16).
mod notify;
/// `Type=notify-reload` (systemd 253): reload signal, RELOADING=1/READY=1, timeout.
mod notify_reload;

mod gc;
mod mount;
mod scope;
mod timer;

/// Socket activation (Accept=no): listening before the service, traffic starts the service with
/// the socket's fds, the socket stops being watched while the service runs and is watched again
/// (fds still open) after it exits; stopping the socket closes the fds.
#[test]
fn socket_activation_accept_no() {
    let mut sim = Sim::new();
    let svc = sim.add_service("echo.service", &[], |_| {});
    let mut spec = UnitSpec::default_for(&UnitName::new("echo.socket").unwrap());
    spec.deps = vec![(DepKind::Before, "echo.service".into())];
    spec.kind = KindSpec::Socket(Box::new(crate::spec::SocketSpec {
        service: Some("echo.service".into()),
        ..Default::default()
    }));
    let sock = sim.insert("echo.socket", spec, LoadState::Loaded);
    sim.start("echo.socket").unwrap();
    assert_eq!(sim.state("echo.socket"), ("active", "listening"));
    assert_eq!(sim.socket_ops, vec![("open", sock), ("watch", sock)]);
    assert_eq!(sim.state("echo.service"), ("inactive", "dead"));

    let t = sim.t();
    sim.e.handle_input(t, Input::SocketReady { unit: sock });
    sim.pump();
    assert_eq!(sim.state("echo.service"), ("active", "running"));
    assert_eq!(sim.state("echo.socket"), ("active", "running"));
    let pid = sim.main_pid("echo.service");
    assert_eq!(sim.procs[&pid].sockets, vec![sock]);
    assert_eq!(sim.procs[&pid].unit, svc);

    // A stale readiness report while running changes nothing.
    let t = sim.t();
    sim.e.handle_input(t, Input::SocketReady { unit: sock });
    sim.pump();
    assert_eq!(sim.svc("echo.service").main_pid, Some(pid));

    sim.exit(pid, ExitStatus::Exited(0));
    assert_eq!(sim.state("echo.service"), ("inactive", "dead"));
    assert_eq!(sim.state("echo.socket"), ("active", "listening"));
    assert_eq!(sim.socket_ops.last(), Some(&("watch", sock)));
    assert!(!sim.socket_ops.contains(&("close", sock)));

    // A manual start of the service also stops the watching.
    sim.start("echo.service").unwrap();
    assert_eq!(sim.state("echo.socket"), ("active", "running"));
    assert_eq!(sim.socket_ops.last(), Some(&("unwatch", sock)));

    sim.stop("echo.socket").unwrap();
    assert_eq!(sim.state("echo.socket"), ("inactive", "dead"));
    assert_eq!(sim.socket_ops.last(), Some(&("close", sock)));
}

/// Socket activation (Accept=yes): the socket keeps listening (and watched) while the runtime
/// starts one instance per connection; NAccepted numbers them, NConnections counts the live ones.
#[test]
fn socket_activation_accept_yes_counts_connections() {
    let mut sim = Sim::new();
    let mut spec = UnitSpec::default_for(&UnitName::new("echo.socket").unwrap());
    spec.kind = KindSpec::Socket(Box::new(crate::spec::SocketSpec {
        accept: true,
        ..Default::default()
    }));
    let sock = sim.insert("echo.socket", spec, LoadState::Loaded);
    sim.start("echo.socket").unwrap();
    assert_eq!(sim.state("echo.socket"), ("active", "listening"));
    assert!(sim.e.socket_accepts(sock));
    assert_eq!(sim.e.socket_accept_prefix(sock), ("echo".to_string(), 0));

    // What the runtime does per connection: load the instance, count it, start it.
    let a = sim.add_service("echo@0-1-2.service", &[], |_| {});
    sim.e.socket_accepted(sock, a, None);
    sim.start("echo@0-1-2.service").unwrap();
    let b = sim.add_service("echo@1-1-2.service", &[], |_| {});
    assert_eq!(sim.e.socket_accept_prefix(sock).1, 1);
    sim.e.socket_accepted(sock, b, None);
    sim.start("echo@1-1-2.service").unwrap();
    let r = &sim.e.unit(sock).socket;
    assert_eq!((r.n_accepted, r.n_connections), (2, 2));
    // Instances never take the socket out of `listening` (it is not their trigger).
    assert_eq!(sim.state("echo.socket"), ("active", "listening"));
    assert!(sim.e.socket_accepts(sock));
    assert!(
        sim.procs[&sim.main_pid("echo@0-1-2.service")]
            .sockets
            .is_empty()
    );

    let pa = sim.main_pid("echo@0-1-2.service");
    sim.exit(pa, ExitStatus::Exited(0));
    let r = &sim.e.unit(sock).socket;
    assert_eq!((r.n_accepted, r.n_connections), (2, 1));
    assert_eq!(r.connections, vec![b]);

    sim.stop("echo.socket").unwrap();
    assert!(!sim.e.socket_accepts(sock));
}

/// `MaxConnections=`/`MaxConnectionsPerSource=`: connections beyond the limits are refused and
/// counted in `NRefused`; an instance going down frees its slot (and its source's).
#[test]
fn socket_accept_limits_refuse_and_count() {
    let mut sim = Sim::new();
    let mut spec = UnitSpec::default_for(&UnitName::new("lim.socket").unwrap());
    spec.kind = KindSpec::Socket(Box::new(crate::spec::SocketSpec {
        accept: true,
        max_connections: 2,
        max_connections_per_source: 1,
        ..Default::default()
    }));
    let sock = sim.insert("lim.socket", spec, LoadState::Loaded);
    sim.start("lim.socket").unwrap();
    let ip = |s: &str| Some(s.parse::<core::net::IpAddr>().unwrap());

    assert!(sim.e.socket_admit(sock, ip("10.0.0.1")));
    let a = sim.add_service("lim@0-a.service", &[], |_| {});
    sim.e.socket_accepted(sock, a, ip("10.0.0.1"));
    sim.start("lim@0-a.service").unwrap();
    // The same source again: over MaxConnectionsPerSource=1.
    assert!(!sim.e.socket_admit(sock, ip("10.0.0.1")));
    // AF_UNIX peers have no source and only count against MaxConnections=.
    assert!(sim.e.socket_admit(sock, None));
    let b = sim.add_service("lim@1-b.service", &[], |_| {});
    sim.e.socket_accepted(sock, b, None);
    sim.start("lim@1-b.service").unwrap();
    // Two up: MaxConnections=2 refuses everyone.
    assert!(!sim.e.socket_admit(sock, ip("10.0.0.2")));
    assert!(!sim.e.socket_admit(sock, None));
    let r = &sim.e.unit(sock).socket;
    assert_eq!((r.n_accepted, r.n_connections, r.n_refused), (2, 2, 3));

    let pa = sim.main_pid("lim@0-a.service");
    sim.exit(pa, ExitStatus::Exited(0));
    assert!(sim.e.unit(sock).socket.sources.is_empty());
    assert!(sim.e.socket_admit(sock, ip("10.0.0.1")));
    assert_eq!(sim.e.unit(sock).socket.n_refused, 3);
}

#[test]
fn runtime_directory_preserve_decides_removal() {
    use crate::spec::{ExecDirectoryType, RuntimeDirectoryPreserve};
    let with = |preserve: RuntimeDirectoryPreserve| {
        move |sv: &mut ServiceSpec| {
            let mut exec = ExecContext::default();
            exec.directories[ExecDirectoryType::Runtime.index()].paths = vec!["app".into()];
            exec.runtime_directory_preserve = preserve;
            sv.exec = Arc::new(exec);
            sv.restart = RestartPolicy::OnFailure;
        }
    };
    let mut s = Sim::new();
    let no = s.add_service("no.service", &[], with(RuntimeDirectoryPreserve::No));
    let keep = s.add_service("keep.service", &[], with(RuntimeDirectoryPreserve::Restart));
    let yes = s.add_service("yes.service", &[], with(RuntimeDirectoryPreserve::Yes));
    let removals = |s: &Sim, u: UnitId| s.removed_dirs.iter().filter(|(x, _)| *x == u).count();

    for name in ["no.service", "keep.service", "yes.service"] {
        s.start(name).unwrap();
        // A restart job: stop, then start again.
        let pid = s.main_pid(name);
        s.enqueue(name, JobType::Restart, JobMode::Replace).unwrap();
        s.exit(pid, ExitStatus::Killed(SIGTERM));
        assert_eq!(s.state(name), ("active", "running"), "{name}");
        // An automatic restart after a failure.
        let pid = s.main_pid(name);
        s.exit(pid, ExitStatus::Exited(1));
        s.advance(100_000);
        assert_eq!(s.state(name), ("active", "running"), "{name}");
    }
    assert_eq!(removals(&s, no), 2, "no: removed at every stop");
    assert_eq!(removals(&s, keep), 0, "restart: kept across restarts");
    assert_eq!(removals(&s, yes), 0);

    for name in ["no.service", "keep.service", "yes.service"] {
        let pid = s.main_pid(name);
        s.stop(name).unwrap();
        s.exit(pid, ExitStatus::Killed(SIGTERM));
        assert_eq!(s.state(name), ("inactive", "dead"), "{name}");
    }
    assert_eq!(removals(&s, no), 3);
    assert_eq!(removals(&s, keep), 1, "restart: removed on a real stop");
    assert_eq!(removals(&s, yes), 0, "yes: never removed");
    assert!(
        s.removed_dirs
            .iter()
            .all(|(_, p)| p == &[std::path::PathBuf::from("app")])
    );
}

#[test]
fn kill_mode_mixed_sigterm_to_main_then_sigkill_to_the_rest() {
    let mut s = Sim::new();
    s.add_service("mx.service", &[], |sv| {
        sv.kill.mode = crate::spec::KillMode::Mixed
    });
    s.start("mx.service").unwrap();
    let main = s.main_pid("mx.service");
    let id = s.id("mx.service");
    s.procs.insert(
        9001,
        Proc {
            unit: id,
            phase: ExecPhase::Start,
            argv: vec!["child".into()],
            env: vec![],
            alive: true,
            notify_socket: false,
            sockets: Vec::new(),
        },
    );
    s.stop("mx.service").unwrap();
    assert_eq!(
        s.kills,
        [(main, SIGTERM)],
        "SIGTERM to the main process only"
    );
    assert!(s.others_kills.is_empty());
    s.exit(main, ExitStatus::Killed(SIGTERM));
    // Main is gone: the rest gets SIGKILL at once, no stop timeout.
    assert_eq!(s.others_kills, [(9001, SIGKILL)]);
    assert_eq!(s.state("mx.service"), ("deactivating", "stop-sigkill"));
    s.exit(9001, ExitStatus::Killed(SIGKILL));
    assert_eq!(s.state("mx.service"), ("inactive", "dead"));
    assert_eq!(s.svc("mx.service").result, ServiceResult::Success);
}

#[test]
fn reload_and_stop_propagate_from_the_other_side_too() {
    let mut s = Sim::new();
    s.add_service("umbrella.service", &[], |sv| {
        sv.exec_reload = vec![cmd("/bin/reload-umbrella")]
    });
    s.add_service(
        "inst.service",
        &[
            (DepKind::ReloadPropagatedFrom, "umbrella.service"),
            (DepKind::StopPropagatedFrom, "umbrella.service"),
        ],
        |sv| sv.exec_reload = vec![cmd("/bin/reload-inst")],
    );
    s.start("umbrella.service").unwrap();
    s.start("inst.service").unwrap();
    s.enqueue("umbrella.service", JobType::Reload, JobMode::Replace)
        .unwrap();
    let (pid, _) = s
        .last_spawn("inst.service", ExecPhase::Reload)
        .expect("ReloadPropagatedFrom= reloads the instance");
    s.exit(pid, ExitStatus::Exited(0));
    let (pid, _) = s.last_spawn("umbrella.service", ExecPhase::Reload).unwrap();
    s.exit(pid, ExitStatus::Exited(0));
    assert_eq!(s.state("inst.service"), ("active", "running"));

    let inst = s.main_pid("inst.service");
    s.stop("umbrella.service").unwrap();
    assert_eq!(
        s.state("inst.service").0,
        "deactivating",
        "StopPropagatedFrom= stops the instance"
    );
    s.exit(inst, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.state("inst.service"), ("inactive", "dead"));
}

#[test]
fn forking_waits_for_a_late_pid_file_while_the_daemon_lives() {
    let mut s = Sim::new();
    let id = s.add_service("late.service", &[], |sv| {
        sv.service_type = ServiceType::Forking;
        sv.pid_file = Some("/run/late.pid".into());
    });
    let daemon = |s: &mut Sim, pid: u32| {
        s.procs.insert(
            pid,
            Proc {
                unit: id,
                phase: ExecPhase::Start,
                argv: vec!["daemon".into()],
                env: vec![],
                alive: true,
                notify_socket: false,
                sockets: Vec::new(),
            },
        );
    };
    let job = s.start("late.service").unwrap();
    let starter = s.control_pid("late.service");
    daemon(&mut s, 7000);
    // The start process exits before the daemon wrote its PID file: keep waiting.
    s.exit(starter, ExitStatus::Exited(0));
    assert_eq!(s.state("late.service"), ("activating", "start"));
    assert_eq!(s.job_result(job), None);
    s.advance(super::service::PID_FILE_RETRY_USEC);
    assert_eq!(s.state("late.service"), ("activating", "start"));
    s.guess = Some(7000); // the file now names the daemon
    s.advance(super::service::PID_FILE_RETRY_USEC);
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("late.service"), ("active", "running"));
    assert_eq!(s.main_pid("late.service"), 7000);
    s.stop("late.service").unwrap();
    s.exit(7000, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.state("late.service"), ("inactive", "dead"));

    // The daemon dies without ever writing it: protocol failure at the next look.
    let job = s.start("late.service").unwrap();
    let starter = s.control_pid("late.service");
    daemon(&mut s, 7001);
    s.exit(starter, ExitStatus::Exited(0));
    assert_eq!(s.state("late.service"), ("activating", "start"));
    s.exit(7001, ExitStatus::Exited(1));
    s.advance(super::service::PID_FILE_RETRY_USEC);
    assert_eq!(s.job_result(job), Some(JobResult::Failed));
    assert_eq!(s.state("late.service"), ("failed", "failed"));
    assert_eq!(s.svc("late.service").result, ServiceResult::Protocol);
}

/// Default dependencies per unit type and the boot targets' orderings, as systemd 252 builds
/// them; units of types unitd does not run.
mod boot;
