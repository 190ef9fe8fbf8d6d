//! Real-process tests of the supervisor: spawn set-up (exit codes 200–217), environment
//! assembly and `$VAR` expansion end to end, the single reaper, per-unit process attribution of
//! double-forking daemons, kill semantics and log capture.
//!
//! The supervisor reaps *every* child of this test process, so all tests that spawn live in
//! this one binary and serialize on [`LOCK`]; nothing here uses `std::process::Child::wait`.
//! Every wait has a timeout; only PIDs these tests started are signalled.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use unitd::engine::{ExecPhase, ExitStatus, KillRequest, ProcessRole, SpawnRequest, UnitId};
use unitd::settings::Scope;
use unitd::spec::{ExecCommand, ExecContext, ExecFlags, StdOutput, WorkingDirectory};
use unitd::supervisor::logs::read_records;
use unitd::supervisor::{Reaped, Supervisor, SupervisorConfig};

static LOCK: Mutex<()> = Mutex::new(());
const TIMEOUT: Duration = Duration::from_secs(60);

fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A current-thread tokio runtime driven by a background thread, for the log pumps.
fn runtime() -> tokio::runtime::Handle {
    static RT: OnceLock<tokio::runtime::Handle> = OnceLock::new();
    RT.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            tx.send(rt.handle().clone()).unwrap();
            rt.block_on(std::future::pending::<()>());
        });
        rx.recv().unwrap()
    })
    .clone()
}

struct Fixture {
    sup: Supervisor,
    dir: tempfile::TempDir,
    /// Reaped but not yet asked for.
    backlog: Vec<Reaped>,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::with(|_| {})
    }

    fn with(tweak: impl FnOnce(&mut SupervisorConfig)) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SupervisorConfig {
            scope: Scope::System,
            state_dir: dir.path().join("state"),
            uid: nix::unistd::getuid().as_raw(),
            gid: nix::unistd::getgid().as_raw(),
            home: PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/".into())),
            notify_socket: None,
            runtime: Some(runtime()),
            max_log_file: unitd::supervisor::logs::DEFAULT_MAX_FILE,
            directory_roots: ["run", "lib", "cache", "log", "etc"].map(|d| dir.path().join(d)),
        };
        let mut cfg = cfg;
        tweak(&mut cfg);
        Fixture {
            sup: Supervisor::new(cfg).unwrap(),
            dir,
            backlog: Vec::new(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Reap until `pid` exits.
    fn wait_exit(&mut self, pid: u32) -> Reaped {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(i) = self.backlog.iter().position(|r| r.pid == pid) {
                return self.backlog.remove(i);
            }
            self.backlog.extend(self.sup.reap());
            if self.backlog.iter().any(|r| r.pid == pid) {
                continue;
            }
            assert!(Instant::now() < deadline, "pid {pid} did not exit in time");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Spawn and wait for the exit.
    fn run(&mut self, req: &SpawnRequest) -> (unitd::supervisor::Spawned, Reaped) {
        let s = self.sup.spawn(req).expect("spawn");
        let r = self.wait_exit(s.pid);
        (s, r)
    }

    /// Kill (SIGKILL) whatever is left of `unit` and reap it.
    fn cleanup(&mut self, unit: UnitId) {
        let pids = self.sup.processes_of(unit);
        self.sup.kill(&KillRequest {
            unit,
            main: None,
            control: None,
            others: true,
            signal: libc::SIGKILL,
            sigcont: false,
            sighup: false,
        });
        for pid in pids {
            self.wait_exit(pid);
        }
        self.sup.forget(unit);
    }
}

impl Drop for Fixture {
    /// Kill whatever a (possibly failed) test left behind: only processes attributed to the
    /// unit ids these tests use, i.e. processes they started.
    fn drop(&mut self) {
        for u in 0..32 {
            self.sup.kill(&KillRequest {
                unit: UnitId(u),
                main: None,
                control: None,
                others: true,
                signal: libc::SIGKILL,
                sigcont: false,
                sighup: false,
            });
        }
        self.sup.reap();
    }
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn exec_ctx() -> ExecContext {
    ExecContext {
        ignore_sigpipe: true,
        ..ExecContext::default()
    }
}

fn request(unit: u32, argv: &[&str], exec: ExecContext) -> SpawnRequest {
    SpawnRequest {
        unit: UnitId(unit),
        unit_name: format!("t{unit}.service"),
        token: 1,
        role: ProcessRole::Main,
        phase: ExecPhase::Start,
        command: ExecCommand {
            path: argv[0].to_string(),
            argv: argv.iter().map(|s| s.to_string()).collect(),
            flags: ExecFlags::default(),
        },
        exec: Arc::new(exec),
        env: vec![
            (
                "PATH".into(),
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin".into(),
            ),
            (
                "INVOCATION_ID".into(),
                format!("{:032x}", 0xfeed_0000u64 + unit as u64),
            ),
        ],
        notify_socket: false,
        wait_exec: true,
        sockets: Vec::new(),
    }
}

fn file_output(path: &Path) -> ExecContext {
    ExecContext {
        stdout: StdOutput::Truncate(path.to_path_buf()),
        ..exec_ctx()
    }
}

fn read_env_file(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn env_get<'a>(env: &'a [(String, String)], k: &str) -> Option<&'a str> {
    env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

fn log_lines(f: &Fixture, unit: &str) -> Vec<(u32, String)> {
    read_records(&f.state_dir(), unit)
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.pid, String::from_utf8_lossy(&r.line).into_owned()))
        .collect()
}

#[test]
fn exit_code_and_signal() {
    let _g = lock();
    let mut f = Fixture::new();
    let (s, r) = f.run(&request(1, &["/bin/sh", "-c", "exit 7"], exec_ctx()));
    assert!(s.exec_ok);
    assert_eq!(r.status, ExitStatus::Exited(7));
    assert_eq!(r.unit, Some(UnitId(1)));
    assert_eq!(r.remaining, 0);

    // `$$` is systemd's escape for `$`, so the shell sees `kill -TERM $$`.
    let (_, r) = f.run(&request(1, &["sh", "-c", "kill -TERM $$$$"], exec_ctx()));
    assert_eq!(r.status, ExitStatus::Killed(libc::SIGTERM));
}

#[test]
fn setup_failure_exit_codes() {
    let _g = lock();
    let mut f = Fixture::new();

    // 200: missing WorkingDirectory.
    let mut ctx = exec_ctx();
    ctx.working_directory = Some(WorkingDirectory::Path(f.path("no-such-dir")));
    let (s, r) = f.run(&request(2, &["/bin/true"], ctx.clone()));
    assert!(!s.exec_ok);
    assert_eq!(r.status, ExitStatus::Exited(200));
    // `-WorkingDirectory=`: missing is fine.
    ctx.working_directory_missing_ok = true;
    let (s, r) = f.run(&request(2, &["/bin/true"], ctx));
    assert!(s.exec_ok);
    assert_eq!(r.status, ExitStatus::Exited(0));

    // 203: missing executable, absolute and bare.
    let (s, r) = f.run(&request(2, &["/nonexistent/unitd-test-binary"], exec_ctx()));
    assert!(!s.exec_ok);
    assert_eq!(r.status, ExitStatus::Exited(203));
    let (s, r) = f.run(&request(2, &["unitd-no-such-command-xyz"], exec_ctx()));
    assert!(!s.exec_ok);
    assert_eq!(r.status, ExitStatus::Exited(203));

    // `-` prefix: missing executable is skipped, exit 0.
    let mut req = request(2, &["/nonexistent/unitd-test-binary"], exec_ctx());
    req.command.flags.ignore_failure = true;
    let (s, r) = f.run(&req);
    assert!(s.exec_ok);
    assert_eq!(r.status, ExitStatus::Exited(0));

    // 217: unknown user.
    let mut ctx = exec_ctx();
    ctx.user = Some("nonexistent-user-xyz".into());
    let (s, r) = f.run(&request(2, &["/bin/true"], ctx));
    assert!(!s.exec_ok);
    assert_eq!(r.status, ExitStatus::Exited(217));

    // 216: unknown group.
    let mut ctx = exec_ctx();
    ctx.group = Some("nonexistent-group-xyz".into());
    let (_, r) = f.run(&request(2, &["/bin/true"], ctx));
    assert_eq!(r.status, ExitStatus::Exited(216));

    // 209: stdout file that cannot be opened.
    let ctx = ExecContext {
        stdout: StdOutput::File(f.path("no-such-dir/out")),
        ..exec_ctx()
    };
    let (_, r) = f.run(&request(2, &["/bin/true"], ctx));
    assert_eq!(r.status, ExitStatus::Exited(209));

    // An unprivileged manager cannot run commands as another user (217) or group (216);
    // `+` skips the credential change.
    let mut g = Fixture::with(|c| {
        c.uid = 65534;
        c.gid = 65534;
    });
    let mut ctx = exec_ctx();
    ctx.user = Some("root".into());
    let (_, r) = g.run(&request(2, &["/bin/true"], ctx.clone()));
    assert_eq!(r.status, ExitStatus::Exited(217));
    let mut req = request(2, &["/bin/true"], ctx);
    req.command.flags.full_privileges = true;
    let (_, r) = g.run(&req);
    assert_eq!(r.status, ExitStatus::Exited(0));
    let mut ctx = exec_ctx();
    ctx.group = Some("root".into());
    let (_, r) = g.run(&request(2, &["/bin/true"], ctx));
    assert_eq!(r.status, ExitStatus::Exited(216));
    drop(g);

    let lines: Vec<String> = log_lines(&f, "t2.service")
        .into_iter()
        .map(|l| l.1)
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l == "Failed at step CHDIR spawning /bin/true: No such file or directory"),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Failed at step EXEC spawning /nonexistent/unitd-test-binary"))
    );
    assert!(lines.iter().any(|l| l
        == "Executable /nonexistent/unitd-test-binary missing, skipping: No such file or directory"));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Failed at step USER spawning"))
    );
}

#[test]
fn user_switch_when_root() {
    let _g = lock();
    if !nix::unistd::getuid().is_root() {
        eprintln!("not root: skipping the credential switch test");
        return;
    }
    let Ok(Some(nobody)) = nix::unistd::User::from_name("nobody") else {
        eprintln!("no user nobody: skipping");
        return;
    };
    let mut f = Fixture::new();
    let out = f.path("id.txt");
    let mut ctx = file_output(&out);
    ctx.user = Some("nobody".into());
    ctx.working_directory = Some(WorkingDirectory::Path(PathBuf::from("/tmp")));
    let (s, r) = f.run(&request(
        3,
        &[
            "/bin/sh",
            "-c",
            "id -u; id -g; pwd; echo USER=$USER LOGNAME=$LOGNAME",
        ],
        ctx,
    ));
    assert!(s.exec_ok);
    assert_eq!(r.status, ExitStatus::Exited(0));
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], nobody.uid.as_raw().to_string());
    assert_eq!(lines[1], nobody.gid.as_raw().to_string());
    assert_eq!(lines[2], "/tmp");
    assert_eq!(lines[3], "USER=nobody LOGNAME=nobody");
    // The output file was created by the manager (root) before the switch, mode 0644.
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(&out).unwrap();
    assert_eq!(meta.uid(), 0);
    // 0666 & ~UMask (0022 for the system manager), and the daemon's own umask on top.
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let own_umask = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .map(|v| u32::from_str_radix(v.trim(), 8).unwrap())
        .unwrap_or(0o022);
    assert_eq!(meta.mode() & 0o777, 0o644 & !own_umask);
}

#[test]
fn environment_assembly() {
    let _g = lock();
    let mut f = Fixture::new();
    let out = f.path("env.txt");
    let envfile = f.path("vars.env");
    std::fs::write(&envfile, "B=from-file\nC='file c'\nKEEP=1\n").unwrap();
    let mut ctx = file_output(&out);
    ctx.environment = vec![
        ("A".into(), "from-env".into()),
        ("B".into(), "from-env".into()),
        ("D".into(), "drop-me".into()),
        ("E".into(), "keep-me".into()),
    ];
    ctx.environment_files = vec![
        (envfile.display().to_string(), false),
        (f.path("optional-missing.env").display().to_string(), true),
    ];
    ctx.unset_environment = vec!["C".into(), "D=drop-me".into(), "E=other".into()];
    ctx.pass_environment = vec!["PATH".into(), "UNITD_SURELY_UNSET_VAR".into()];
    let mut req = request(4, &["/usr/bin/env"], ctx);
    req.env.push(("MANAGERPID".into(), "4242".into()));
    req.env.push(("PATH".into(), "/engine/path".into()));
    let invocation = env_get(&req.env, "INVOCATION_ID").unwrap().to_string();
    let (s, r) = f.run(&req);
    assert!(s.exec_ok);
    assert_eq!(r.status, ExitStatus::Exited(0));
    let env = read_env_file(&out);
    assert_eq!(env_get(&env, "INVOCATION_ID"), Some(invocation.as_str()));
    assert_eq!(env_get(&env, "MANAGERPID"), Some("4242"));
    assert_eq!(
        env_get(&env, "SYSTEMD_EXEC_PID"),
        Some(s.pid.to_string().as_str())
    );
    assert_eq!(env_get(&env, "A"), Some("from-env"));
    assert_eq!(
        env_get(&env, "B"),
        Some("from-file"),
        "EnvironmentFile wins"
    );
    assert_eq!(env_get(&env, "C"), None, "UnsetEnvironment=C");
    assert_eq!(env_get(&env, "D"), None, "UnsetEnvironment=D=drop-me");
    assert_eq!(
        env_get(&env, "E"),
        Some("keep-me"),
        "E=other does not match"
    );
    assert_eq!(env_get(&env, "KEEP"), Some("1"));
    assert_eq!(
        env_get(&env, "PATH").map(str::to_string),
        std::env::var("PATH").ok(),
        "PassEnvironment=PATH copies the daemon's own value"
    );
    assert_eq!(env_get(&env, "UNITD_SURELY_UNSET_VAR"), None);
    assert_eq!(env_get(&env, "NOTIFY_SOCKET"), None);
    assert_eq!(env_get(&env, "USER"), None, "no User=: no USER");

    // NOTIFY_SOCKET only when asked for and configured.
    f.sup
        .set_notify_socket(Some(PathBuf::from("/run/unitd-test/notify")));
    let mut req = request(4, &["/usr/bin/env"], file_output(&out));
    let (_, r) = f.run(&req);
    assert_eq!(r.status, ExitStatus::Exited(0));
    assert_eq!(env_get(&read_env_file(&out), "NOTIFY_SOCKET"), None);
    req.notify_socket = true;
    let (_, r) = f.run(&req);
    assert_eq!(r.status, ExitStatus::Exited(0));
    assert_eq!(
        env_get(&read_env_file(&out), "NOTIFY_SOCKET"),
        Some("/run/unitd-test/notify")
    );
    // UnsetEnvironment= can remove it.
    let mut ctx = file_output(&out);
    ctx.unset_environment = vec!["NOTIFY_SOCKET".into(), "SYSTEMD_EXEC_PID".into()];
    req.exec = Arc::new(ctx);
    let (_, r) = f.run(&req);
    assert_eq!(r.status, ExitStatus::Exited(0));
    let env = read_env_file(&out);
    assert_eq!(env_get(&env, "NOTIFY_SOCKET"), None);
    assert_eq!(env_get(&env, "SYSTEMD_EXEC_PID"), None);
}

#[test]
fn environment_file_missing_fails_spawn() {
    let _g = lock();
    let mut f = Fixture::new();
    let mut ctx = exec_ctx();
    ctx.environment_files = vec![(f.path("missing.env").display().to_string(), false)];
    let err = f.sup.spawn(&request(5, &["/bin/true"], ctx)).unwrap_err();
    assert!(err.contains("missing.env"), "{err}");
    // Read at every spawn: once it exists, the same request works.
    std::fs::write(f.path("missing.env"), "X=1\n").unwrap();
    let mut ctx = exec_ctx();
    ctx.environment_files = vec![(f.path("missing.env").display().to_string(), false)];
    let (s, r) = f.run(&request(5, &["/bin/true"], ctx));
    assert!(s.exec_ok);
    assert_eq!(r.status, ExitStatus::Exited(0));
}

#[test]
fn argv_dollar_expansion() {
    let _g = lock();
    let mut f = Fixture::new();
    let out = f.path("argv.txt");
    let mut ctx = file_output(&out);
    ctx.environment = vec![
        ("ONE".into(), "one".into()),
        ("TWO".into(), "two two".into()),
    ];
    let script = r#"for a in "$@"; do printf '[%s]' "$a"; done"#;
    let argv = [
        "/bin/sh",
        "-c",
        script,
        "sh",
        "$ONE",
        "$TWO",
        "${TWO}",
        "x${ONE}y",
        "$$ONE",
        "$ONE/bar",
        "$UNSET",
        "${UNSET}",
        "--x=$ONE",
        "${ONE:-d}",
        "$SYSTEMD_EXEC_PID",
        "p${SYSTEMD_EXEC_PID}q",
    ];
    let (s, r) = f.run(&request(6, &argv, ctx.clone()));
    assert_eq!(r.status, ExitStatus::Exited(0));
    let got = std::fs::read_to_string(&out).unwrap();
    let pid = s.pid;
    assert_eq!(
        got,
        format!("[one][two][two][two two][xoney][$ONE][][--x=$ONE][${{ONE:-d}}][{pid}][p{pid}q]")
    );

    // `:` prefix: no expansion.
    let mut req = request(6, &["/bin/sh", "-c", script, "sh", "$ONE", "${TWO}"], ctx);
    req.command.flags.no_env_expand = true;
    let (_, r) = f.run(&req);
    assert_eq!(r.status, ExitStatus::Exited(0));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "[$ONE][${TWO}]");
}

#[test]
fn double_forking_daemons_stay_attributed() {
    let _g = lock();
    let mut f = Fixture::new();
    let unit = UnitId(7);

    // Plain background child: re-parented to us, same session.
    let (s, r) = f.run(&request(
        7,
        &["/bin/sh", "-c", "sleep 300 & exit 0"],
        exec_ctx(),
    ));
    assert!(s.exec_ok);
    assert_eq!(r.status, ExitStatus::Exited(0));
    assert_eq!(r.unit, Some(unit));
    assert_eq!(r.remaining, 1, "the sleep is still alive");
    let procs = f.sup.processes_of(unit);
    assert_eq!(procs.len(), 1, "{procs:?}");
    let sleep = procs[0];
    assert_eq!(f.sup.guess_main_pid(unit, None), Some(sleep));
    assert_eq!(f.sup.guess_main_pid(unit, Some(sleep)), None);
    assert_eq!(f.sup.unit_of_pid(sleep), Some(unit));
    f.cleanup(unit);
    assert!(f.sup.processes_of(unit).is_empty());

    // setsid double fork: the daemon leaves the session and its parents die, so only the
    // invocation id ties it to the unit.
    let unit = UnitId(8);
    let req = request(
        8,
        &[
            "/bin/sh",
            "-c",
            "setsid /bin/sh -c 'sleep 301 & exit 0'; exit 0",
        ],
        exec_ctx(),
    );
    let (s, r) = f.run(&req);
    assert_eq!(r.status, ExitStatus::Exited(0));
    let mut procs = Vec::new();
    wait_until("the daemonized sleep", || {
        procs = f.sup.processes_of(unit);
        !procs.is_empty()
    });
    assert_eq!(procs.len(), 1, "{procs:?}");
    let daemon = procs[0];
    let stat = std::fs::read_to_string(format!("/proc/{daemon}/stat")).unwrap();
    let st = unitd::supervisor::parse_stat(&stat).unwrap();
    assert_ne!(st.sid, s.pid, "left the spawned session");
    assert_eq!(st.ppid, std::process::id(), "adopted by the subreaper");
    assert_eq!(f.sup.guess_main_pid(unit, None), Some(daemon));
    // Other units do not see it.
    assert!(f.sup.processes_of(UnitId(7)).is_empty());
    f.cleanup(unit);
    assert!(f.sup.processes_of(unit).is_empty());
}

#[test]
fn kill_semantics() {
    let _g = lock();
    let mut f = Fixture::new();
    let unit = UnitId(9);

    // SIGTERM ignored by the process: it survives; SIGKILL ends it.
    let ready = f.path("ready");
    let script = format!("trap '' TERM; echo > {}; exec sleep 300", ready.display());
    let s = f
        .sup
        .spawn(&request(9, &["/bin/sh", "-c", &script], exec_ctx()))
        .unwrap();
    wait_until("trap installed", || ready.exists());
    let kill = |signal, others| KillRequest {
        unit,
        main: Some(s.pid),
        control: None,
        others,
        signal,
        sigcont: true,
        sighup: false,
    };
    assert_eq!(f.sup.kill(&kill(libc::SIGTERM, false)), 1);
    f.sup.kill(&kill(libc::SIGKILL, false));
    let r = f.wait_exit(s.pid);
    assert_eq!(
        r.status,
        ExitStatus::Killed(libc::SIGKILL),
        "SIGTERM was ignored"
    );
    assert_eq!(r.remaining, 0);

    // others=false reaches only the main process; others=true every process of the unit.
    std::fs::remove_file(&ready).unwrap();
    let script = format!("sleep 300 & sleep 301 & echo > {}; wait", ready.display());
    let s = f
        .sup
        .spawn(&request(9, &["/bin/sh", "-c", &script], exec_ctx()))
        .unwrap();
    wait_until("children started", || ready.exists());
    let mut procs = Vec::new();
    wait_until("three processes", || {
        procs = f.sup.processes_of(unit);
        procs.len() == 3
    });
    let remaining = f.sup.kill(&KillRequest {
        unit,
        main: Some(s.pid),
        control: None,
        others: true,
        signal: libc::SIGTERM,
        sigcont: true,
        sighup: false,
    });
    assert!(remaining <= 3);
    for pid in &procs {
        let r = f.wait_exit(*pid);
        assert_eq!(r.status, ExitStatus::Killed(libc::SIGTERM), "pid {pid}");
        assert_eq!(r.unit, Some(unit));
    }
    assert!(f.sup.processes_of(unit).is_empty());

    // Never signals pid 1 or ourselves.
    let remaining = f.sup.kill(&KillRequest {
        unit: UnitId(99),
        main: Some(1),
        control: Some(std::process::id()),
        others: true,
        signal: 0,
        sigcont: false,
        sighup: false,
    });
    assert_eq!(remaining, 0);
}

#[test]
fn log_capture_flood_loses_nothing() {
    let _g = lock();
    // Large enough that the flood is not rotated away (rotation has its own test).
    let mut f = Fixture::with(|c| c.max_log_file = 256 << 20);
    const N: usize = 200_000;
    let (s, r) = f.run(&request(10, &["seq", "1", &N.to_string()], exec_ctx()));
    assert_eq!(r.status, ExitStatus::Exited(0));
    wait_until("log pumps to drain", || f.sup.active_log_pumps() == 0);
    let lines = log_lines(&f, "t10.service");
    assert_eq!(lines.len(), N);
    for (i, (pid, line)) in lines.iter().enumerate() {
        assert_eq!(*pid, s.pid);
        assert_eq!(line, &(i + 1).to_string());
    }

    // stderr follows stdout (inherit), a partial last line is flushed at EOF.
    let (s, r) = f.run(&request(
        11,
        &["/bin/sh", "-c", "echo out; echo err >&2; printf partial"],
        exec_ctx(),
    ));
    assert_eq!(r.status, ExitStatus::Exited(0));
    wait_until("log pumps to drain", || f.sup.active_log_pumps() == 0);
    assert_eq!(
        log_lines(&f, "t11.service"),
        vec![
            (s.pid, "out".to_string()),
            (s.pid, "err".to_string()),
            (s.pid, "partial".to_string())
        ]
    );

    // A daemon's grandchild holding the pipe keeps the pump alive until it exits.
    let (_, r) = f.run(&request(
        12,
        &["/bin/sh", "-c", "(sleep 0.2; echo late) & echo early"],
        exec_ctx(),
    ));
    assert_eq!(r.status, ExitStatus::Exited(0));
    wait_until("late line", || {
        log_lines(&f, "t12.service").iter().any(|l| l.1 == "late")
    });
    f.cleanup(UnitId(12));
    wait_until("log pumps to drain", || f.sup.active_log_pumps() == 0);
}

#[test]
fn pid_files() {
    let _g = lock();
    let mut f = Fixture::new();
    let pidfile = f.path("x.pid");
    let s = f
        .sup
        .spawn(&request(13, &["sleep", "300"], exec_ctx()))
        .unwrap();
    std::fs::write(&pidfile, format!("{}\n", s.pid)).unwrap();
    assert_eq!(f.sup.read_pid_file(&pidfile), Some(s.pid));
    std::fs::write(&pidfile, "garbage\n").unwrap();
    assert_eq!(f.sup.read_pid_file(&pidfile), None);
    std::fs::write(&pidfile, format!("{}\n", std::process::id())).unwrap();
    assert_eq!(f.sup.read_pid_file(&pidfile), None, "never our own pid");
    std::fs::write(&pidfile, "1\n").unwrap();
    assert_eq!(f.sup.read_pid_file(&pidfile), None);
    f.sup.remove_pid_file(&pidfile);
    assert!(!pidfile.exists());
    f.sup.remove_pid_file(&pidfile);
    assert_eq!(f.sup.read_pid_file(&pidfile), None);
    f.cleanup(UnitId(13));
}

#[test]
fn stdio_files() {
    let _g = lock();
    let mut f = Fixture::new();
    let input = f.path("in.txt");
    std::fs::write(&input, "from stdin\n").unwrap();

    // StandardInput=file: + StandardOutput=append: (twice).
    let out = f.path("append.txt");
    let ctx = ExecContext {
        stdin: unitd::spec::StdInput::File(input.clone()),
        stdout: StdOutput::Append(out.clone()),
        ..exec_ctx()
    };
    for _ in 0..2 {
        let (_, r) = f.run(&request(14, &["cat"], ctx.clone()));
        assert_eq!(r.status, ExitStatus::Exited(0));
    }
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "from stdin\nfrom stdin\n"
    );

    // file: overwrites from offset 0 without truncating; stderr to the same file shares it.
    let out = f.path("file.txt");
    std::fs::write(&out, "XXXXXXXXXX").unwrap();
    let ctx = ExecContext {
        stdout: StdOutput::File(out.clone()),
        stderr: StdOutput::File(out.clone()),
        ..exec_ctx()
    };
    let (_, r) = f.run(&request(
        14,
        &["/bin/sh", "-c", "printf ab; printf cd >&2"],
        ctx,
    ));
    assert_eq!(r.status, ExitStatus::Exited(0));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "abcdXXXXXX");

    // StandardOutput=null: nothing reaches the log.
    let ctx = ExecContext {
        stdout: StdOutput::Null,
        ..exec_ctx()
    };
    let (_, r) = f.run(&request(
        14,
        &["/bin/sh", "-c", "echo hidden; echo hidden2 >&2"],
        ctx,
    ));
    assert_eq!(r.status, ExitStatus::Exited(0));
    assert!(log_lines(&f, "t14.service").is_empty());

    // 208: missing input file.
    let ctx = ExecContext {
        stdin: unitd::spec::StdInput::File(f.path("missing-input")),
        ..exec_ctx()
    };
    let (s, r) = f.run(&request(14, &["cat"], ctx));
    assert!(!s.exec_ok);
    assert_eq!(r.status, ExitStatus::Exited(208));
}

#[test]
fn effects_answered_as_engine_inputs() {
    use unitd::engine::{Effect, Input};
    let _g = lock();
    let mut f = Fixture::new();
    let unit = UnitId(15);
    let pidfile = f.path("daemon.pid");
    // A forking daemon writing its PID file.
    let script = format!("sleep 300 & echo $! > {}; exit 0", pidfile.display());
    let mut req = request(15, &["/bin/sh", "-c", &script], exec_ctx());
    req.token = 77;
    let Some(Input::Spawned {
        unit: u,
        token: 77,
        pid,
        exec_ok: true,
    }) = f.sup.execute(&Effect::Spawn(req))
    else {
        panic!("expected Spawned");
    };
    assert_eq!(u, unit);
    let deadline = Instant::now() + TIMEOUT;
    let exited = loop {
        let inputs = f.sup.reap_inputs();
        if let Some(i) = inputs
            .into_iter()
            .find(|i| matches!(i, Input::Exited { pid: p, .. } if *p == pid))
        {
            break i;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    };
    let Input::Exited {
        status,
        unit: Some(u),
        remaining,
        ..
    } = exited
    else {
        panic!("{exited:?}");
    };
    assert_eq!((status, u, remaining), (ExitStatus::Exited(0), unit, 1));

    let Some(Input::PidFileRead {
        pid: Some(main), ..
    }) = f.sup.execute(&Effect::ReadPidFile {
        unit,
        path: pidfile.clone(),
    })
    else {
        panic!("PID file not read");
    };
    let Some(Input::MainPidGuessed { pid: guessed, .. }) =
        f.sup.execute(&Effect::GuessMainPid { unit })
    else {
        panic!();
    };
    assert_eq!(guessed, Some(main));

    let Some(Input::KillDelivered { remaining, .. }) = f.sup.execute(&Effect::Kill(KillRequest {
        unit,
        main: Some(main),
        control: None,
        others: false,
        signal: libc::SIGTERM,
        sigcont: true,
        sighup: false,
    })) else {
        panic!();
    };
    assert!(remaining <= 1);
    let r = f.wait_exit(main);
    assert_eq!(r.status, ExitStatus::Killed(libc::SIGTERM));
    assert_eq!(r.remaining, 0);

    assert!(
        f.sup
            .execute(&Effect::RemovePidFile {
                path: pidfile.clone()
            })
            .is_none()
    );
    assert!(!pidfile.exists());
    assert!(f.sup.execute(&Effect::ForgetProcesses { unit }).is_none());
}

#[test]
fn exec_directories_created_before_spawn_with_mode_owner_and_env() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use unitd::spec::ExecDirectoryType;
    let _g = lock();
    let mut f = Fixture::new();
    let out = f.path("dirs.env");
    let mut ctx = file_output(&out);
    let dirs = [
        (
            ExecDirectoryType::Runtime,
            vec!["app", "app-extra/sub"],
            Some(0o750),
        ),
        (ExecDirectoryType::State, vec!["app"], None),
        (ExecDirectoryType::Cache, vec!["app"], Some(0o700)),
        (ExecDirectoryType::Logs, vec!["app"], None),
        (ExecDirectoryType::Configuration, vec!["app"], Some(0o755)),
    ];
    for (t, paths, mode) in &dirs {
        let d = &mut ctx.directories[t.index()];
        d.paths = paths.iter().map(PathBuf::from).collect();
        d.mode = *mode;
    }
    // `app:compat/app-old`: a relative symlink below the root.
    ctx.directories[ExecDirectoryType::Runtime.index()].symlinks =
        vec![(PathBuf::from("app"), PathBuf::from("compat/app-old"))];
    let root_user = nix::unistd::getuid().is_root();
    let nobody = nix::unistd::User::from_name("nobody").ok().flatten();
    if root_user && let Some(n) = &nobody {
        ctx.user = Some(n.name.clone());
    }
    // A state file left by an earlier run (owned by root) is handed to User= with its dir.
    std::fs::create_dir_all(f.path("lib/app")).unwrap();
    std::fs::write(f.path("lib/app/old.db"), "x").unwrap();
    // An existing configuration directory keeps its mode and owner.
    std::fs::create_dir_all(f.path("etc/app")).unwrap();
    std::fs::set_permissions(f.path("etc/app"), std::fs::Permissions::from_mode(0o700)).unwrap();
    // The command writes its environment and checks it can write to its state directory
    // (as User= when running as root: the test directory must be reachable for it).
    std::fs::set_permissions(f.path(""), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (s, r) = f.run(&request(
        9,
        &[
            "/bin/sh",
            "-c",
            "test -w \"$STATE_DIRECTORY\" || exit 9; env",
        ],
        ctx,
    ));
    assert!(s.exec_ok);
    assert_eq!(r.status, ExitStatus::Exited(0));
    let env = read_env_file(&out);
    let p = |rel: &str| f.path(rel).display().to_string();
    assert_eq!(
        env_get(&env, "RUNTIME_DIRECTORY"),
        Some(format!("{}:{}", p("run/app"), p("run/app-extra/sub")).as_str())
    );
    assert_eq!(
        env_get(&env, "STATE_DIRECTORY"),
        Some(p("lib/app").as_str())
    );
    assert_eq!(
        env_get(&env, "CACHE_DIRECTORY"),
        Some(p("cache/app").as_str())
    );
    assert_eq!(env_get(&env, "LOGS_DIRECTORY"), Some(p("log/app").as_str()));
    assert_eq!(
        env_get(&env, "CONFIGURATION_DIRECTORY"),
        Some(p("etc/app").as_str())
    );
    let md = |rel: &str| std::fs::metadata(f.path(rel)).unwrap();
    assert_eq!(md("run/app").mode() & 0o7777, 0o750);
    assert_eq!(md("run/app-extra/sub").mode() & 0o7777, 0o750);
    assert_eq!(
        md("run/app-extra").mode() & 0o7777,
        0o755,
        "parents are 0755"
    );
    assert_eq!(md("lib/app").mode() & 0o7777, 0o755, "default mode");
    assert_eq!(md("cache/app").mode() & 0o7777, 0o700);
    assert_eq!(
        md("etc/app").mode() & 0o7777,
        0o700,
        "existing config dir untouched"
    );
    assert_eq!(
        std::fs::read_link(f.path("run/compat/app-old")).unwrap(),
        PathBuf::from("../app")
    );
    assert!(
        f.path("run/compat/app-old").is_dir(),
        "the symlink resolves"
    );
    if root_user && let Some(n) = &nobody {
        let uid = n.uid.as_raw();
        for rel in [
            "run/app",
            "lib/app",
            "lib/app/old.db",
            "cache/app",
            "log/app",
        ] {
            assert_eq!(md(rel).uid(), uid, "{rel} owned by User=");
            assert_eq!(md(rel).gid(), n.gid.as_raw(), "{rel} group of User=");
        }
        assert_eq!(
            md("etc/app").uid(),
            0,
            "existing config dir keeps its owner"
        );
    }

    // A directory that cannot be created fails the child with the type's exit code.
    let mut ctx = exec_ctx();
    std::fs::write(f.path("cache/blocked"), "a file, not a directory").unwrap();
    ctx.directories[ExecDirectoryType::Cache.index()].paths = vec![PathBuf::from("blocked")];
    let (_, r) = f.run(&request(9, &["/bin/true"], ctx));
    assert_eq!(
        r.status,
        ExitStatus::Exited(239),
        "CACHE_DIRECTORY exit code"
    );

    // RemoveRuntimeDirectories removes only the runtime entries, recursively.
    std::fs::write(f.path("run/app/pidfile"), "1").unwrap();
    f.sup
        .execute(&unitd::engine::Effect::RemoveRuntimeDirectories {
            unit: UnitId(9),
            paths: vec![
                PathBuf::from("app"),
                PathBuf::from("app-extra/sub"),
                PathBuf::from("compat/app-old"),
            ],
        });
    assert!(std::fs::symlink_metadata(f.path("run/compat/app-old")).is_err());
    assert!(!f.path("run/app").exists());
    assert!(!f.path("run/app-extra/sub").exists());
    assert!(f.path("run/app-extra").is_dir(), "parents stay");
    assert!(f.path("lib/app/old.db").exists(), "state stays");
}
