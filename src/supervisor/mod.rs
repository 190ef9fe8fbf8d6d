//! The supervisor: the only code that forks, execs, reaps and kills, plus the per-unit log store.
//!
//! It carries out the engine's process [`Effect`]s synchronously and turns OS events into
//! engine [`Input`]s. Modules: [`env`] (pure environment rules), [`notify`] (the sd_notify
//! socket), `spawn` (fork/exec with the set-up contract of §7.3), `procs` (per-unit process tracking through `/proc`), `adopt` (processes scopes adopt,
//! watched through pidfds), [`logs`] (log
//! store, pumps, `unitd logs`), [`handover`] (state and descriptors passed across `execve` on
//! daemon-reexec), `lockdown` (capability sets, `NoNewPrivileges=` and the order of the
//! child's confinement steps) and [`seccomp`] (system-call groups, filter resolution, BPF
//! programs).
//!
//! # How the runtime drives it
//! 1. Create one [`Supervisor`] at start-up, inside (or with a handle to) the tokio runtime: log
//!    pumps are tokio tasks spawned on it ([`SupervisorConfig::runtime`], else the current
//!    runtime). The constructor makes the daemon a child subreaper.
//! 2. Install a `SIGCHLD` listener (`tokio::signal::unix::signal(SignalKind::child())`) **before
//!    the first spawn**, and on every notification call [`Supervisor::reap`] (or
//!    [`Supervisor::reap_inputs`]); it loops until no exited child is left, so coalesced
//!    signals lose nothing. Never use `tokio::process`, `std::process::Child::wait` or any
//!    other `wait*` caller in the daemon: this reaper collects every child.
//! 3. Feed each effect through [`Supervisor::execute`] and give its answer (if any) to the
//!    engine immediately, as `engine::io` requires.
//!
//! Log pumps need nothing else: each spawn whose stdout/stderr goes to the journal starts one
//! task per pipe, which ends by itself when the last writer closes the pipe. Every call here is
//! synchronous; `spawn` blocks only until the child has exec'd (or failed its set-up).

mod adopt;
pub mod env;
pub mod fdstore;
pub mod handover;
mod lockdown;
pub mod logs;
pub mod namespace;
pub mod notify;
mod procs;
pub mod seccomp;
pub mod socket;
mod spawn;

use std::collections::BTreeSet;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::{
    Effect, ExecPhase, ExitStatus, FdStoreOp, Input, KillRequest, SpawnRequest, UnitId,
};
use crate::settings::{Scope, Settings};
use crate::spec::ExecDirectoryType;

pub use logs::{LogPump, LogStore};
pub use procs::{ProcStat, ProcessTable, TableExport, parse_cgroup, parse_stat};
pub use spawn::{DEFAULT_EXEC_PATH, exit_status_name, load_environment_files, resolve_executable};

/// Construction parameters of a [`Supervisor`].
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// User or system manager (default working directory, umask).
    pub scope: Scope,
    /// unitd's state directory; logs live in `<state_dir>/logs/`.
    pub state_dir: PathBuf,
    /// The manager's uid and gid (decide whether `User=`/`Group=` can be honoured).
    pub uid: u32,
    /// The manager's primary gid.
    pub gid: u32,
    /// The manager's home (`WorkingDirectory=~` without `User=`; user-scope default).
    pub home: PathBuf,
    /// The notify socket path, once there is one; `NOTIFY_SOCKET` is set only when a spawn
    /// asks for it and this is `Some`.
    pub notify_socket: Option<PathBuf>,
    /// Runtime the log pumps run on; `None` = the runtime current at [`Supervisor::new`].
    pub runtime: Option<tokio::runtime::Handle>,
    /// Size at which a unit's log file is rotated.
    pub max_log_file: u64,
    /// Roots of `RuntimeDirectory=`, `StateDirectory=`, `CacheDirectory=`, `LogsDirectory=`
    /// and `ConfigurationDirectory=`, indexed by [`ExecDirectoryType::index`]: `/run`,
    /// `/var/lib`, `/var/cache`, `/var/log`, `/etc` (system) or the XDG directories (user).
    pub directory_roots: [PathBuf; 5],
}

impl SupervisorConfig {
    /// The configuration for a manager with these settings (no notify socket yet, current
    /// runtime).
    pub fn from_settings(s: &Settings) -> SupervisorConfig {
        SupervisorConfig {
            scope: s.scope,
            state_dir: s.state_dir.clone(),
            uid: s.uid,
            gid: s.gid,
            home: s.home.clone(),
            notify_socket: None,
            runtime: None,
            max_log_file: logs::DEFAULT_MAX_FILE,
            directory_roots: [
                s.runtime_dir.clone(),
                s.state_root.clone(),
                s.cache_root.clone(),
                s.logs_root.clone(),
                s.config_root.clone(),
            ],
        }
    }
}

/// A successful fork.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spawned {
    /// The child's pid.
    pub pid: u32,
    /// `false` when set-up or `execve` failed in the child; it then exits with a 200–245 code
    /// that [`Supervisor::reap`] reports like any other exit. A `-` command whose executable
    /// is missing counts as ok (it exits 0).
    pub exec_ok: bool,
}

/// One reaped process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reaped {
    /// The collected pid.
    pub pid: u32,
    /// How it ended.
    pub status: ExitStatus,
    /// The unit the process belonged to, if any.
    pub unit: Option<UnitId>,
    /// Processes of that unit still alive after this reap (0 when `unit` is `None`).
    pub remaining: u32,
}

/// The supervisor. See the module docs for how the runtime drives it.
pub struct Supervisor {
    cfg: SupervisorConfig,
    own_pid: u32,
    table: procs::ProcessTable,
    logs: Arc<LogStore>,
    pump: LogPump,
    /// Runtime for the short-lived tasks that report failed execs of spawns nobody waits for.
    handle: tokio::runtime::Handle,
    /// Per-unit fd stores (`FDSTORE=1`), newest first as in systemd 252.
    fd_store: fdstore::FdStore,
    /// Socket units' listening fds.
    sockets: socket::SocketTable,
    adopted: adopt::Adopted,
    /// Descriptors units use as stdin/stdout/stderr (`StdInput::Fd`/`StdOutput::Fd`), from
    /// `StartTransientUnit`'s `Standard*FileDescriptor`.
    stdio_fds: std::collections::HashMap<UnitId, [Option<std::os::fd::OwnedFd>; 3]>,
    /// Connections accepted by `Accept=yes` sockets, keyed by the service instance that gets
    /// them; held until its main process is spawned.
    connections: std::collections::HashMap<UnitId, socket::Accepted>,
    /// What the processes of sandboxed units share (`PrivateTmp=` directories, network and
    /// IPC namespaces) while the unit is active.
    namespaces: namespace::Namespaces,
}

/// One process of a unit as `GetUnitProcesses` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitProcess {
    /// The cgroup the process lives in (`""` when unknown).
    pub cgroup: String,
    /// Its pid.
    pub pid: u32,
    /// Its command line (`[comm]` without one).
    pub command: String,
}

fn errno_desc(e: i32) -> &'static str {
    nix::errno::Errno::from_raw(e).desc()
}

impl Supervisor {
    /// Create the supervisor and make this process a child subreaper, so orphans of services
    /// (double-forking daemons) are re-parented to us and stay reapable.
    pub fn new(cfg: SupervisorConfig) -> io::Result<Supervisor> {
        let handle = match cfg.runtime.clone() {
            Some(h) => h,
            None => tokio::runtime::Handle::try_current().map_err(|_| {
                io::Error::other("the supervisor needs a tokio runtime for its log pumps")
            })?,
        };
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } < 0 {
            return Err(io::Error::last_os_error());
        }
        let logs = Arc::new(LogStore::new(&cfg.state_dir, cfg.max_log_file));
        let adopted = adopt::Adopted::new(handle.clone());
        let pump = LogPump::new(logs.clone(), handle.clone());
        let own_pid = std::process::id();
        Ok(Supervisor {
            own_pid,
            table: procs::ProcessTable::new(own_pid),
            logs,
            pump,
            handle,
            fd_store: fdstore::FdStore::new(),
            sockets: socket::SocketTable::default(),
            adopted,
            stdio_fds: std::collections::HashMap::new(),
            connections: std::collections::HashMap::new(),
            namespaces: namespace::Namespaces::new(
                &cfg.directory_roots[ExecDirectoryType::Runtime.index()],
            ),
            cfg,
        })
    }

    /// Set or clear the notify socket path used for spawns that ask for `NOTIFY_SOCKET`.
    pub fn set_notify_socket(&mut self, path: Option<PathBuf>) {
        self.cfg.notify_socket = path;
    }

    /// The per-unit log store (e.g. for the manager's own messages about a unit).
    pub fn log_store(&self) -> &Arc<LogStore> {
        &self.logs
    }

    /// Number of log pipes still being pumped.
    pub fn active_log_pumps(&self) -> usize {
        self.pump.active()
    }

    /// Append a manager message about `unit_name` to its log (shown as `unitd[PID]: text`).
    pub fn log_manager_message(&self, unit_name: &str, text: &str) {
        self.logs.append(unit_name, "unitd", self.own_pid, text);
    }

    /// Carry out one engine effect, returning the answer the engine expects (if any).
    pub fn execute(&mut self, effect: &Effect) -> Option<Input> {
        match effect {
            Effect::Spawn(req) => Some(match self.spawn(req) {
                Ok(s) => Input::Spawned {
                    unit: req.unit,
                    token: req.token,
                    pid: s.pid,
                    exec_ok: s.exec_ok,
                },
                Err(reason) => Input::SpawnFailed {
                    unit: req.unit,
                    token: req.token,
                    reason,
                },
            }),
            Effect::Kill(req) => Some(Input::KillDelivered {
                unit: req.unit,
                remaining: self.kill(req),
            }),
            Effect::GuessMainPid { unit } => Some(Input::MainPidGuessed {
                unit: *unit,
                pid: self.guess_main_pid(*unit, None),
            }),
            Effect::ReadPidFile { unit, path } => {
                let pid = self.read_pid_file(path);
                if let Some(pid) = pid
                    && self.table.unit_of(pid).is_none()
                {
                    self.table.add_pid(*unit, pid);
                }
                Some(Input::PidFileRead { unit: *unit, pid })
            }
            Effect::RemovePidFile { path } => {
                self.remove_pid_file(path);
                None
            }
            Effect::RemoveRuntimeDirectories { unit: _, paths } => {
                let root = &self.cfg.directory_roots[ExecDirectoryType::Runtime.index()];
                for p in paths {
                    let full = root.join(p);
                    if let Err(e) = std::fs::remove_dir_all(&full)
                        && e.kind() != io::ErrorKind::NotFound
                    {
                        tracing::warn!("Failed to remove {}: {e}", full.display());
                    }
                }
                None
            }
            Effect::ForgetProcesses { unit } => {
                self.forget(*unit);
                self.namespaces.release(*unit);
                None
            }
            Effect::AdoptProcesses { unit, pids } => Some(Input::ProcessesAdopted {
                unit: *unit,
                alive: self.adopt(*unit, pids),
            }),
            Effect::FdStore { unit, op } => {
                self.fd_store_op(*unit, op, Vec::new());
                None
            }
            Effect::OpenSockets {
                unit,
                spec,
                fd_name,
            } => Some(Input::SocketsOpened {
                unit: *unit,
                error: self.sockets.open(*unit, spec, fd_name).err(),
            }),
            Effect::CloseSockets { unit, remove } => {
                self.sockets.close(*unit, remove);
                None
            }
            // Not process work: the runtime evaluates conditions and watches sockets itself.
            Effect::CheckConditions { .. }
            | Effect::WatchSockets { .. }
            | Effect::ReadTimerStamp { .. }
            | Effect::TouchTimerStamp { .. }
            | Effect::CheckMountPoint { .. } => None,
        }
    }

    /// Carry out a fd-store operation; `fds` are those of the `FDSTORE=1` message being
    /// processed (closed unless kept).
    pub fn fd_store_op(&mut self, unit: UnitId, op: &FdStoreOp, fds: Vec<std::os::fd::OwnedFd>) {
        match op {
            FdStoreOp::Add { name, max, poll } => self.fd_store.add(unit, name, *max, *poll, fds),
            FdStoreOp::Remove { name } => self.fd_store.remove(unit, name),
            FdStoreOp::Release => {
                self.fd_store.release(unit);
                // A connection instance that ended before its main process ran.
                self.connections.remove(&unit);
            }
        }
    }

    /// Duplicates of a socket unit's listening fds, for the runtime to watch.
    pub fn socket_watch_fds(&self, unit: UnitId) -> Vec<std::os::fd::OwnedFd> {
        self.sockets.dup_fds(unit)
    }

    /// Accept one pending connection on an `Accept=yes` socket unit (`Ok(None)`: none pending).
    pub fn accept_connection(&mut self, unit: UnitId) -> io::Result<Option<socket::Accepted>> {
        self.sockets.accept(unit)
    }

    /// Hand an accepted connection to service instance `svc`: its main process gets it (as
    /// `LISTEN_FDS=1` or, with `StandardInput=socket`, as stdin/stdout), then the manager's
    /// copy is closed.
    pub fn set_connection(&mut self, svc: UnitId, conn: socket::Accepted) {
        self.connections.insert(svc, conn);
    }

    /// Drop the connection held for `svc` (its start failed).
    pub fn drop_connection(&mut self, svc: UnitId) {
        self.connections.remove(&svc);
    }

    /// Number of fds in `unit`'s store (`NFileDescriptorStore`).
    pub fn fd_store_len(&self, unit: UnitId) -> usize {
        self.fd_store.len(unit)
    }

    /// The fd that becomes readable when a polled stored fd hung up (see [`fdstore`]).
    pub fn fd_store_poll_fd(&self) -> Option<std::os::fd::RawFd> {
        self.fd_store.epoll_fd()
    }

    /// Drop stored fds that hung up or failed (unless stored with `FDPOLL=0`); returns how
    /// many went.
    pub fn fd_store_drop_hung_up(&mut self) -> usize {
        self.fd_store.drop_hung_up()
    }

    /// Fork and exec one command (see `spawn` module docs for the set-up order). `Err` is a
    /// failure in the manager (fork failed, `EnvironmentFile=` missing, …): `Result=resources`.
    /// `ExecStart=` processes receive the unit's stored fds as `LISTEN_FDS`.
    pub fn spawn(&mut self, req: &SpawnRequest) -> Result<Spawned, String> {
        if self.connections.contains_key(&req.unit) {
            let r = self.spawn_with_connection(req);
            if req.phase == ExecPhase::Start && req.role == crate::engine::ProcessRole::Main {
                // The instance's main process owns the connection now.
                self.connections.remove(&req.unit);
            }
            return r;
        }
        let mut pass: Vec<(String, std::os::fd::RawFd)> = Vec::new();
        for sock in &req.sockets {
            pass.extend(self.sockets.fds(*sock).map(|(n, fd)| (n.to_string(), fd)));
        }
        if req.phase == ExecPhase::Start {
            pass.extend(
                self.fd_store
                    .fds(req.unit)
                    .map(|(n, fd)| (n.to_string(), fd)),
            );
        }
        if pass.is_empty() {
            return self.spawn_with_fds(req, &[]);
        }
        let mut with_env = req.clone();
        with_env.env.push(("LISTEN_PID".into(), String::new()));
        with_env
            .env
            .push(("LISTEN_FDS".into(), pass.len().to_string()));
        let names: Vec<&str> = pass.iter().map(|(n, _)| n.as_str()).collect();
        with_env
            .env
            .push(("LISTEN_FDNAMES".into(), names.join(":")));
        let fds: Vec<std::os::fd::RawFd> = pass.iter().map(|(_, fd)| *fd).collect();
        self.spawn_with_fds(&with_env, &fds)
    }

    /// Spawn for a service instance of an `Accept=yes` socket: the connection goes on
    /// stdin/stdout with `StandardInput=socket`, else as the one `LISTEN_FDS` fd named
    /// `connection`; IP peers are named in `REMOTE_ADDR`/`REMOTE_PORT`.
    fn spawn_with_connection(&mut self, req: &SpawnRequest) -> Result<Spawned, String> {
        let Some(conn) = self.connections.get(&req.unit) else {
            return self.spawn_with_fds(req, &[]);
        };
        let fd = conn.fd.as_raw_fd();
        let mut with_env = req.clone();
        if let Some(remote) = conn.remote {
            with_env
                .env
                .push(("REMOTE_ADDR".into(), remote.ip().to_string()));
            with_env
                .env
                .push(("REMOTE_PORT".into(), remote.port().to_string()));
        }
        if req.exec.stdin == crate::spec::StdInput::Socket {
            return self.spawn_with_fds(&with_env, &[]);
        }
        with_env.env.push(("LISTEN_PID".into(), String::new()));
        with_env.env.push(("LISTEN_FDS".into(), "1".into()));
        with_env
            .env
            .push(("LISTEN_FDNAMES".into(), "connection".into()));
        self.spawn_with_fds(&with_env, &[fd])
    }

    /// With `StandardInput=socket`, the unit's connection on stdin, on stdout when it is
    /// `inherit` or `socket`, and on stderr when it is `socket` (`inherit` follows stdout).
    fn put_connection_stdio(&self, req: &SpawnRequest, prepared: &mut spawn::Prepared) {
        use crate::spec::{StdInput, StdOutput};
        let Some(conn) = self.connections.get(&req.unit) else {
            return;
        };
        let stdin_socket = req.exec.stdin == StdInput::Socket;
        let wants = [
            stdin_socket,
            req.exec.stdout == StdOutput::Socket
                || (stdin_socket && req.exec.stdout == StdOutput::Inherit),
            req.exec.stderr == StdOutput::Socket,
        ];
        let slots = [
            &mut prepared.stdin,
            &mut prepared.stdout,
            &mut prepared.stderr,
        ];
        for (slot, want) in slots.into_iter().zip(wants) {
            if !want {
                continue;
            }
            // SAFETY: fcntl(F_DUPFD_CLOEXEC) on a descriptor we own; the result is new.
            let d = unsafe { libc::fcntl(conn.fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
            *slot = if d < 0 {
                spawn::Stdio::Error(
                    io::Error::last_os_error()
                        .raw_os_error()
                        .unwrap_or(libc::EBADF),
                )
            } else {
                // SAFETY: `d` was just returned by fcntl and is owned by nobody else.
                spawn::Stdio::Fd(unsafe {
                    <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(d)
                })
            };
        }
    }

    fn spawn_with_fds(
        &mut self,
        req: &SpawnRequest,
        pass_fds: &[std::os::fd::RawFd],
    ) -> Result<Spawned, String> {
        let senv = spawn::SpawnEnv {
            scope: self.cfg.scope,
            manager_uid: self.cfg.uid,
            manager_gid: self.cfg.gid,
            manager_home: &self.cfg.home,
            notify_socket: self.cfg.notify_socket.as_deref(),
            directory_roots: &self.cfg.directory_roots,
        };
        let mut prepared = spawn::prepare(req, &senv, spawn::pipe_cloexec).map_err(|e| {
            let msg = format!("Failed to spawn '{}' task: {e}", req.phase.key());
            self.log_manager_message(&req.unit_name, &msg);
            msg
        })?;
        prepared.pass_fds = pass_fds.iter().take(spawn::MAX_PASS_FDS).copied().collect();
        prepared.namespace =
            self.namespaces
                .plan(req, self.cfg.uid == 0, &self.cfg.directory_roots);
        self.put_stdio_fds(req, &mut prepared);
        self.put_connection_stdio(req, &mut prepared);
        let (status_r, status_w) =
            spawn::pipe_cloexec().map_err(|e| format!("Failed to create pipe: {e}"))?;

        // Block every signal across fork so no handler of ours runs in the child before it
        // resets dispositions; the child clears its mask itself.
        // SAFETY: plain sigset manipulation and fork; the child only runs spawn::child.
        let pid = unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
            let pid = libc::fork();
            if pid == 0 {
                spawn::child(&prepared, status_w.as_raw_fd());
            }
            let fork_errno = io::Error::last_os_error();
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            if pid < 0 {
                return Err(format!("Failed to fork: {fork_errno}"));
            }
            pid as u32
        };
        drop(status_w);
        let log_pipes = std::mem::take(&mut prepared.log_pipes);
        let exec_path = prepared.exec_path.clone();
        let skip = prepared.skip;
        // Close the child's ends of stdio now.
        drop(prepared);

        let invocation = req
            .env
            .iter()
            .rev()
            .find(|(k, _)| k == "INVOCATION_ID")
            .map(|(_, v)| v.as_str());
        self.table.add_spawned(req.unit, pid, invocation);
        for fd in log_pipes {
            self.pump.start(fd, &req.unit_name, pid);
        }

        if skip {
            let msg = format!(
                "Executable {} missing, skipping: No such file or directory",
                req.command.path
            );
            tracing::info!("{}: {msg}", req.unit_name);
            self.log_manager_message(&req.unit_name, &msg);
        }
        let exec_ok = if req.wait_exec {
            let failure = read_status(&status_r);
            if let Some((code, e)) = failure {
                log_exec_failure(&self.logs, &req.unit_name, pid, &exec_path, code, e);
            }
            failure.is_none()
        } else {
            // Don't hold the manager up until the child has exec'd: a task reports a failed
            // set-up later (the exit status carries it to the engine anyway).
            let logs = self.logs.clone();
            let unit = req.unit_name.clone();
            let exec_path = exec_path.clone();
            self.handle.spawn(async move {
                if let Some((code, e)) = read_status_async(status_r).await {
                    log_exec_failure(&logs, &unit, pid, &exec_path, code, e);
                }
            });
            true
        };
        tracing::debug!(
            "{}: spawned {} as pid {pid} ({:?})",
            req.unit_name,
            exec_path,
            req.phase
        );
        Ok(Spawned { pid, exec_ok })
    }

    /// Reap every exited child (loops until none is left; call on each SIGCHLD). Children are
    /// attributed to units before they are collected, so orphans re-parented to us count too.
    pub fn reap(&mut self) -> Vec<Reaped> {
        let mut out = Vec::new();
        loop {
            // Peek first (WNOWAIT): the zombie's /proc entry still tells its session.
            // SAFETY: waitid fills the zeroed siginfo_t.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            let r = unsafe {
                libc::waitid(
                    libc::P_ALL,
                    0,
                    &mut info,
                    libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
                )
            };
            if r < 0 {
                if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                break; // ECHILD: no children at all.
            }
            let pid = unsafe { info.si_pid() };
            if pid <= 0 {
                break;
            }
            let unit = self.table.attribute_exiting(pid as u32);
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            let r = loop {
                let r = unsafe {
                    libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED)
                };
                if r < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                break r;
            };
            if r < 0 {
                tracing::warn!("waitid({pid}): {}", io::Error::last_os_error());
                break;
            }
            let st = unsafe { info.si_status() };
            let status = match info.si_code {
                libc::CLD_EXITED => ExitStatus::Exited(st),
                libc::CLD_DUMPED => ExitStatus::Dumped(st),
                _ => ExitStatus::Killed(st),
            };
            self.table.remove(pid as u32);
            out.push(Reaped {
                pid: pid as u32,
                status,
                unit,
                remaining: 0,
            });
        }
        // Adopted processes (not our children) that are gone.
        for (pid, unit) in self.adopted.take_exited() {
            self.table.remove(pid);
            out.push(Reaped {
                pid,
                status: ExitStatus::Exited(0),
                unit: Some(unit),
                remaining: 0,
            });
        }
        if out.iter().any(|r| r.unit.is_some()) {
            self.table.scan();
            for r in out.iter_mut() {
                if let Some(u) = r.unit {
                    r.remaining = self.table.live_of(u).len() as u32;
                    // Descendants of adopted processes are watched too.
                    if self.adopted.manages(u) {
                        for pid in self.table.live_of(u) {
                            self.adopted.watch(u, pid);
                        }
                    }
                }
            }
        }
        out
    }

    /// Attribute running processes to `unit` (a scope) and watch them and their descendants
    /// until they exit. Returns how many live processes the unit has now. PIDs that do not
    /// exist, are zombies, or are 1 or ourselves are skipped.
    pub fn adopt(&mut self, unit: UnitId, pids: &[u32]) -> u32 {
        for &pid in pids {
            if self.signallable(pid) && self.alive(pid) {
                self.table.add_pid(unit, pid);
                self.adopted.watch(unit, pid);
            }
        }
        let live = self.table.processes_of(unit);
        for &pid in &live {
            self.adopted.watch(unit, pid);
        }
        live.len() as u32
    }

    /// Whether `pid` is a kernel thread (kthreadd or one of its children).
    pub fn is_kernel_thread(&self, pid: u32) -> bool {
        pid == 2 || procs::read_stat(pid).is_some_and(|st| st.ppid == 2)
    }

    /// Attribute the running process `pid` (and, as it forks, its descendants) to `unit` and
    /// watch it until it exits (`AttachProcessesToUnit`); its exit is reported by
    /// [`Self::reap`] like any process of the unit. `false` if it is gone or not signallable.
    pub fn attach(&mut self, unit: UnitId, pid: u32) -> bool {
        if !(self.signallable(pid) && self.alive(pid)) {
            return false;
        }
        self.table.add_pid(unit, pid);
        // Our own children (processes of another unit) are reaped by waitid already.
        if procs::read_stat(pid).is_some_and(|st| st.ppid == self.own_pid) {
            return true;
        }
        self.adopted.watch(unit, pid)
    }

    /// Hold `fds` (stdin, stdout, stderr) for `unit`: spawns whose exec context says
    /// `StdInput::Fd`/`StdOutput::Fd` get a duplicate of the matching one.
    pub fn set_stdio_fds(&mut self, unit: UnitId, fds: [Option<std::os::fd::OwnedFd>; 3]) {
        if fds.iter().any(Option::is_some) {
            self.stdio_fds.insert(unit, fds);
        }
    }

    /// Units holding stdio descriptors.
    pub fn stdio_fd_units(&self) -> Vec<UnitId> {
        self.stdio_fds.keys().copied().collect()
    }

    /// Close the stdio descriptors held for `unit` (it is done with them), so whoever reads
    /// the other end sees EOF.
    pub fn release_stdio_fds(&mut self, unit: UnitId) {
        self.stdio_fds.remove(&unit);
    }

    /// Replace the placeholders `prepare` left for `Fd` stdio with duplicates (≥ 3,
    /// close-on-exec) of the descriptors held for the unit.
    fn put_stdio_fds(&self, req: &SpawnRequest, prepared: &mut spawn::Prepared) {
        use crate::spec::{StdInput, StdOutput};
        let Some(fds) = self.stdio_fds.get(&req.unit) else {
            return;
        };
        let wants = [
            req.exec.stdin == StdInput::Fd,
            req.exec.stdout == StdOutput::Fd,
            req.exec.stderr == StdOutput::Fd,
        ];
        let slots = [
            &mut prepared.stdin,
            &mut prepared.stdout,
            &mut prepared.stderr,
        ];
        for ((slot, want), held) in slots.into_iter().zip(wants).zip(fds) {
            if !want {
                continue;
            }
            let Some(fd) = held else { continue };
            // SAFETY: fcntl(F_DUPFD_CLOEXEC) on a descriptor we own; the result is new.
            let d = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
            *slot = if d < 0 {
                spawn::Stdio::Error(
                    io::Error::last_os_error()
                        .raw_os_error()
                        .unwrap_or(libc::EBADF),
                )
            } else {
                // SAFETY: `d` was just returned by fcntl and is owned by nobody else.
                spawn::Stdio::Fd(unsafe {
                    <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(d)
                })
            };
        }
    }

    /// Notified when an adopted process exits: the daemon loop then calls [`Self::reap`].
    pub fn adoption_wakeup(&self) -> Arc<tokio::sync::Notify> {
        self.adopted.wakeup()
    }

    /// [`Self::reap`] as engine inputs.
    pub fn reap_inputs(&mut self) -> Vec<Input> {
        self.reap()
            .into_iter()
            .map(|r| Input::Exited {
                pid: r.pid,
                status: r.status,
                unit: r.unit,
                remaining: r.remaining,
            })
            .collect()
    }

    /// Whether `pid` may be signalled at all (never 0, 1, negative or ourselves).
    fn signallable(&self, pid: u32) -> bool {
        pid > 1 && pid != self.own_pid && pid <= i32::MAX as u32
    }

    fn send(&self, pid: u32, sig: i32) -> bool {
        if !self.signallable(pid) {
            return false;
        }
        // SAFETY: kill(2) on one positive pid.
        let r = unsafe { libc::kill(pid as libc::pid_t, sig) };
        if r < 0 {
            tracing::debug!("kill({pid}, {sig}): {}", io::Error::last_os_error());
        }
        r == 0
    }

    /// Deliver a signal as the engine asks: main and control, and with `others` every process
    /// attributed to the unit; each followed by SIGCONT (`sigcont`, except after
    /// SIGKILL/SIGCONT) and SIGHUP (`sighup`). Returns how many processes of the unit (plus
    /// the given main/control, if alive) are still alive.
    pub fn kill(&mut self, req: &KillRequest) -> u32 {
        let mut targets: Vec<u32> = Vec::new();
        for pid in [req.main, req.control].into_iter().flatten() {
            if self.signallable(pid) && !targets.contains(&pid) {
                targets.push(pid);
            }
        }
        if req.others {
            for pid in self.table.processes_of(req.unit) {
                if !targets.contains(&pid) {
                    targets.push(pid);
                }
            }
        }
        for &pid in &targets {
            self.send(pid, req.signal);
            if req.sigcont && req.signal != libc::SIGKILL && req.signal != libc::SIGCONT {
                self.send(pid, libc::SIGCONT);
            }
            if req.sighup {
                self.send(pid, libc::SIGHUP);
            }
        }
        let mut alive: BTreeSet<u32> = self.table.processes_of(req.unit).into_iter().collect();
        for pid in [req.main, req.control].into_iter().flatten() {
            if self.signallable(pid) && self.alive(pid) {
                alive.insert(pid);
            }
        }
        alive.len() as u32
    }

    /// Alive = exists and is not a zombie someone else will reap.
    fn alive(&self, pid: u32) -> bool {
        match procs::read_stat(pid) {
            Some(st) => st.state != b'Z' || st.ppid == self.own_pid,
            None => false,
        }
    }

    /// Whether `pid` exists and is not a zombie someone else will reap (`MAINPID=` checks).
    pub fn process_alive(&self, pid: u32) -> bool {
        self.signallable(pid) && self.alive(pid)
    }

    /// The unit a pid is known to belong to, without scanning `/proc`.
    pub fn known_unit_of_pid(&self, pid: u32) -> Option<UnitId> {
        self.table.unit_of(pid)
    }

    /// Every live process attributed to `unit` (scans `/proc`).
    pub fn processes_of(&mut self, unit: UnitId) -> Vec<u32> {
        self.table.processes_of(unit)
    }

    /// The process table (read-only), e.g. for a unit's `ControlGroup`.
    pub fn process_table(&self) -> &ProcessTable {
        &self.table
    }

    /// `GetUnitProcesses`: every live process attributed to `unit` (scans `/proc`), then those
    /// of `extra` (main and control pid) not among them, each with the cgroup it lives in and
    /// its command line, sorted by pid within each part (as systemd appends the main and control
    /// pid last). Processes that vanish while being read are left out.
    pub fn unit_processes(&mut self, unit: UnitId, extra: &[u32]) -> Vec<UnitProcess> {
        let mut pids = self.table.processes_of(unit);
        for &pid in extra {
            if pid > 0 && !pids.contains(&pid) && self.alive(pid) {
                pids.push(pid);
            }
        }
        pids.into_iter()
            .filter_map(|pid| {
                Some(UnitProcess {
                    command: procs::command_line(pid)?,
                    cgroup: procs::read_cgroup(pid).unwrap_or_default(),
                    pid,
                })
            })
            .collect()
    }

    /// The unit a pid belongs to (scans `/proc` when the pid is not known yet).
    pub fn unit_of_pid(&mut self, pid: u32) -> Option<UnitId> {
        if let Some(u) = self.table.unit_of(pid) {
            return Some(u);
        }
        if self.table.is_known_stranger(pid) {
            return None;
        }
        self.table.scan();
        self.table.unit_of(pid)
    }

    /// systemd's GuessMainPID: the unit's only process that is our (possibly adopted) child,
    /// not counting `exclude_control`; `None` when there is none or more than one.
    pub fn guess_main_pid(&mut self, unit: UnitId, exclude_control: Option<u32>) -> Option<u32> {
        let candidates: Vec<u32> = self
            .table
            .children_of(unit)
            .into_iter()
            .filter(|p| Some(*p) != exclude_control)
            .collect();
        match candidates.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// Forget every process of `unit` (it went dead or failed); survivors become unattributed.
    pub fn forget(&mut self, unit: UnitId) {
        self.adopted.forget(unit);
        self.table.forget(unit);
    }

    /// Read a `PIDFile=`: a positive pid of an existing process other than 1 and ourselves.
    pub fn read_pid_file(&self, path: &Path) -> Option<u32> {
        let text = std::fs::read_to_string(path).ok()?;
        let pid: u32 = text.trim().parse().ok()?;
        if !self.signallable(pid) {
            return None;
        }
        // SAFETY: signal 0 only checks existence.
        let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
        if r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) {
            Some(pid)
        } else {
            None
        }
    }

    /// Remove a `PIDFile=` (missing is fine).
    pub fn remove_pid_file(&self, path: &Path) {
        if let Err(e) = std::fs::remove_file(path)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!("cannot remove PID file {}: {e}", path.display());
        }
    }
}

/// Record why a child failed before exec: "Failed at step X spawning PATH: error".
fn log_exec_failure(logs: &LogStore, unit: &str, pid: u32, exec_path: &str, code: i32, e: i32) {
    let step = exit_status_name(code).unwrap_or("?");
    let msg = format!(
        "Failed at step {step} spawning {exec_path}: {}",
        errno_desc(e)
    );
    tracing::warn!("{unit}: {msg}");
    logs.append(unit, unit, pid, &msg);
}

/// [`read_status`] without blocking the loop: waits for EOF (exec succeeded) or the report.
async fn read_status_async(fd: std::os::fd::OwnedFd) -> Option<(i32, i32)> {
    // SAFETY: F_SETFL on an fd we own.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    // SAFETY: the OwnedFd moves into the AsyncFd and stays open as long as it lives.
    let afd = unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE)
    }
    .ok()?;
    let mut buf = [0u8; 8];
    let mut got = 0;
    while got < buf.len() {
        let mut guard = afd.readable().await.ok()?;
        // SAFETY: read into our buffer from an fd we own.
        let n = unsafe {
            libc::read(
                afd.get_ref().as_raw_fd(),
                buf[got..].as_mut_ptr().cast(),
                buf.len() - got,
            )
        };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::WouldBlock {
                guard.clear_ready();
                continue;
            }
            if err.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return None;
        }
        if n == 0 {
            return None;
        }
        got += n as usize;
    }
    let code = i32::from_ne_bytes(buf[..4].try_into().expect("4 bytes"));
    let errno = i32::from_ne_bytes(buf[4..].try_into().expect("4 bytes"));
    Some((code, errno))
}

/// Whether two fds refer to the same file (device and inode; systemd's `same_fd`).
pub(crate) fn same_file(a: &std::os::fd::OwnedFd, b: &std::os::fd::OwnedFd) -> bool {
    let stat = |fd: &std::os::fd::OwnedFd| {
        // SAFETY: fstat into a zeroed struct on an fd we own.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        (unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } == 0).then_some((st.st_dev, st.st_ino))
    };
    matches!((stat(a), stat(b)), (Some(x), Some(y)) if x == y)
}

/// Read the child's set-up report: `None` on EOF (exec succeeded or the command was skipped),
/// else `(exit code, errno)`.
fn read_status(fd: &std::os::fd::OwnedFd) -> Option<(i32, i32)> {
    let mut buf = [0u8; 8];
    let mut got = 0;
    while got < buf.len() {
        // SAFETY: read into our buffer from an fd we own.
        let n = unsafe {
            libc::read(
                fd.as_raw_fd(),
                buf[got..].as_mut_ptr().cast(),
                buf.len() - got,
            )
        };
        if n < 0 {
            if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return None;
        }
        if n == 0 {
            break;
        }
        got += n as usize;
    }
    if got < buf.len() {
        return None;
    }
    let code = i32::from_ne_bytes(buf[..4].try_into().expect("4 bytes"));
    let errno = i32::from_ne_bytes(buf[4..].try_into().expect("4 bytes"));
    Some((code, errno))
}

#[cfg(test)]
mod abi_tests {
    use crate::spec::linux;

    /// The parser's and engine's plain numbers are the ones the kernel gets from us.
    #[test]
    fn spec_linux_numbers_match_libc() {
        for (name, n) in linux::SIGNALS {
            assert!(*n > 0 && *n < libc::SIGRTMIN(), "{name}");
        }
        let pairs = [
            (linux::SIGHUP, libc::SIGHUP),
            (linux::SIGINT, libc::SIGINT),
            (linux::SIGQUIT, libc::SIGQUIT),
            (linux::SIGABRT, libc::SIGABRT),
            (linux::SIGKILL, libc::SIGKILL),
            (linux::SIGUSR1, libc::SIGUSR1),
            (linux::SIGSEGV, libc::SIGSEGV),
            (linux::SIGUSR2, libc::SIGUSR2),
            (linux::SIGPIPE, libc::SIGPIPE),
            (linux::SIGTERM, libc::SIGTERM),
            (linux::SIGCHLD, libc::SIGCHLD),
            (linux::SIGCONT, libc::SIGCONT),
            (linux::SIGSTOP, libc::SIGSTOP),
            (linux::SIGWINCH, libc::SIGWINCH),
            (linux::SIGPWR, libc::SIGPWR),
            (linux::SIGSYS, libc::SIGSYS),
            (linux::SIGRTMIN, libc::SIGRTMIN()),
            (linux::SIGRTMAX, libc::SIGRTMAX()),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(ours, theirs);
        }
        let limits = [
            (linux::RLIMIT_CPU, libc::RLIMIT_CPU),
            (linux::RLIMIT_FSIZE, libc::RLIMIT_FSIZE),
            (linux::RLIMIT_DATA, libc::RLIMIT_DATA),
            (linux::RLIMIT_STACK, libc::RLIMIT_STACK),
            (linux::RLIMIT_CORE, libc::RLIMIT_CORE),
            (linux::RLIMIT_RSS, libc::RLIMIT_RSS),
            (linux::RLIMIT_NPROC, libc::RLIMIT_NPROC),
            (linux::RLIMIT_NOFILE, libc::RLIMIT_NOFILE),
            (linux::RLIMIT_MEMLOCK, libc::RLIMIT_MEMLOCK),
            (linux::RLIMIT_AS, libc::RLIMIT_AS),
            (linux::RLIMIT_LOCKS, libc::RLIMIT_LOCKS),
            (linux::RLIMIT_SIGPENDING, libc::RLIMIT_SIGPENDING),
            (linux::RLIMIT_MSGQUEUE, libc::RLIMIT_MSGQUEUE),
            (linux::RLIMIT_NICE, libc::RLIMIT_NICE),
            (linux::RLIMIT_RTPRIO, libc::RLIMIT_RTPRIO),
            (linux::RLIMIT_RTTIME, libc::RLIMIT_RTTIME),
        ];
        for (ours, theirs) in limits {
            assert_eq!(ours, theirs as i32);
        }
    }
}
