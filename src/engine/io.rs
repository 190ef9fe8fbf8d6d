//! What crosses the engine boundary: [`Input`]s the runtime feeds in (process events, replies to
//! effects), [`Effect`]s the engine asks the runtime to carry out (spawn, kill, read a PID file),
//! and [`Change`]s observers (the D-Bus façades) turn into signals.
//!
//! Effects that need an answer (`Spawn`, `Kill`, `GuessMainPid`, `ReadPidFile`, …) are answered by
//! the runtime with the matching `Input` right after it carries the effect out, before any
//! other input is fed.

use std::path::PathBuf;
use std::sync::Arc;

use crate::spec::{ExecCommand, ExecContext};

use super::types::{ExecPhase, ExitStatus, JobId, JobResult, UnitId};

/// Identifies one spawn request, so replies can be matched even after state changed.
pub type SpawnToken = u64;

/// Main or control process of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ProcessRole {
    Main,
    Control,
}

/// Everything the supervisor needs to start one command.
#[derive(Debug, Clone)]
pub struct SpawnRequest {
    pub unit: UnitId,
    /// The unit's id, for logs and the per-unit log store.
    pub unit_name: String,
    pub token: SpawnToken,
    pub role: ProcessRole,
    pub phase: ExecPhase,
    pub command: ExecCommand,
    pub exec: Arc<ExecContext>,
    /// The environment the engine decided on, in order: the manager environment (built-in
    /// defaults plus `set-environment`), then per-spawn variables (`INVOCATION_ID`, `MAINPID`,
    /// `SERVICE_RESULT`, `EXIT_CODE`, `EXIT_STATUS`, `PIDFILE`, `MANAGERPID`, …). The supervisor
    /// then applies `SYSTEMD_EXEC_PID`, `PassEnvironment=`, `Environment=`, `EnvironmentFile=`
    /// (read now), `UnsetEnvironment=` and finally `$VAR` expansion of argv.
    pub env: Vec<(String, String)>,
    /// Whether to set `NOTIFY_SOCKET` (NotifyAccess rules already applied).
    pub notify_socket: bool,
    /// Report whether `execve` succeeded before answering (`Type=exec` start). Otherwise the
    /// answer comes right after fork, and a failed exec shows up as the process's exit status
    /// (200–245), which is all other types need.
    pub wait_exec: bool,
    /// Socket units (`Accept=no`) whose listening fds this command receives, in order, as
    /// `LISTEN_FDS` from fd 3 (before the fd store's fds). Empty for most spawns.
    pub sockets: Vec<UnitId>,
}

/// Which processes of a unit to signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillRequest {
    pub unit: UnitId,
    /// Main process, if alive.
    pub main: Option<u32>,
    /// Control process, if alive.
    pub control: Option<u32>,
    /// Also every other process the supervisor attributes to the unit (its "cgroup").
    pub others: bool,
    pub signal: i32,
    /// Follow with SIGCONT (every signal except SIGKILL/SIGCONT).
    pub sigcont: bool,
    /// Follow with SIGHUP (`SendSIGHUP=`).
    pub sighup: bool,
}

/// Requests from the engine to the outside world.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Fork and exec a command. Answer: [`Input::Spawned`] or [`Input::SpawnFailed`].
    Spawn(SpawnRequest),
    /// Deliver a signal. Answer: [`Input::KillDelivered`].
    Kill(KillRequest),
    /// Attribute running processes (not our children) to a scope and watch them until they
    /// are gone (their end is reported as [`Input::Exited`]). Answer: [`Input::ProcessesAdopted`].
    AdoptProcesses { unit: UnitId, pids: Vec<u32> },
    /// Find the main PID of a forking service whose start process exited (the only remaining
    /// process of the unit). Answer: [`Input::MainPidGuessed`].
    GuessMainPid { unit: UnitId },
    /// Read a `PIDFile=`. Answer: [`Input::PidFileRead`].
    ReadPidFile { unit: UnitId, path: PathBuf },
    /// Remove a `PIDFile=` (unit went dead/failed). No answer.
    RemovePidFile { path: PathBuf },
    /// Remove the unit's `RuntimeDirectory=` entries (paths relative to the runtime root; the
    /// unit went dead/failed and `RuntimeDirectoryPreserve=` does not keep them). No answer.
    RemoveRuntimeDirectories { unit: UnitId, paths: Vec<PathBuf> },
    /// Forget everything about a unit's processes (unit went dead/failed). No answer.
    ForgetProcesses { unit: UnitId },
    /// File-descriptor store work for a service (`FileDescriptorStoreMax=`). No answer.
    FdStore { unit: UnitId, op: FdStoreOp },
    /// Create, bind and (for stream/seqpacket) listen on a socket unit's fds and keep them.
    /// Answer: [`Input::SocketsOpened`].
    OpenSockets {
        unit: UnitId,
        spec: crate::spec::SocketSpec,
        /// The `LISTEN_FDNAMES` entry of every fd (`FileDescriptorName=` or the unit name).
        fd_name: String,
    },
    /// Close a socket unit's fds (stop watching them first), removing `remove` (socket files
    /// and FIFOs, `RemoveOnStop=`). No answer.
    CloseSockets { unit: UnitId, remove: Vec<PathBuf> },
    /// Start (`true`) or stop watching a socket unit's fds for incoming traffic; the first
    /// readable fd is reported once as [`Input::SocketReady`], after which watching stops until
    /// asked again. No answer.
    WatchSockets { unit: UnitId, watch: bool },
    /// Evaluate the unit's `Condition*=`/`Assert*=` checks (they read the file system, the
    /// environment, …). Answer: [`Input::ConditionsChecked`].
    CheckConditions {
        unit: UnitId,
        conditions: Vec<crate::spec::Condition>,
        asserts: Vec<crate::spec::Condition>,
    },
    /// Read the `Persistent=` stamp of timer `name` (its modification time), creating it
    /// when missing. Answer: [`Input::TimerStampRead`].
    ReadTimerStamp { unit: UnitId, name: String },
    /// Whether `path` is a mount point now (the runtime reads `/proc/self/mountinfo`); when
    /// it is not and `directory_mode` is given, create it (and its parents) with that mode
    /// first, as systemd does before mounting. Answer: [`Input::MountPointChecked`].
    CheckMountPoint {
        unit: UnitId,
        path: PathBuf,
        directory_mode: Option<u32>,
    },
    /// Set the `Persistent=` stamp of timer `name` to `realtime` (µs since the epoch),
    /// creating it when missing. No answer.
    TouchTimerStamp { name: String, realtime: u64 },
}

/// What to do with a unit's fd store. The fds themselves never enter the engine: the runtime
/// holds the fds of the notification being processed and the store itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FdStoreOp {
    /// Keep the fds that came with the current `FDSTORE=1` message under `name`, up to `max`
    /// fds in the store (duplicates dropped, the rest closed). `poll`: drop them from the store
    /// on EPOLLHUP/EPOLLERR (`false` after `FDPOLL=0`).
    Add { name: String, max: u32, poll: bool },
    /// `FDSTOREREMOVE=1`: close every stored fd named `name`.
    Remove { name: String },
    /// The unit went down for good: close everything.
    Release,
}

/// Events from the outside world.
#[derive(Debug, Clone)]
pub enum Input {
    /// The process for `token` was forked. `exec_ok` is false when set-up or `execve` failed in
    /// the child (it then exits with a 200–245 code, reported later as `Exited`).
    Spawned {
        unit: UnitId,
        token: SpawnToken,
        pid: u32,
        exec_ok: bool,
    },
    /// The spawn failed in the manager (fork failed, EnvironmentFile missing, …): `Result=resources`.
    SpawnFailed {
        unit: UnitId,
        token: SpawnToken,
        reason: String,
    },
    /// A process was reaped. `unit` is the unit the supervisor attributes it to (if any) and
    /// `remaining` how many other processes of that unit are still alive.
    Exited {
        pid: u32,
        status: ExitStatus,
        unit: Option<UnitId>,
        remaining: u32,
    },
    /// Reply to [`Effect::Kill`]: how many processes of the unit are still alive.
    KillDelivered { unit: UnitId, remaining: u32 },
    /// Reply to [`Effect::AdoptProcesses`]: how many processes the unit has now.
    ProcessesAdopted { unit: UnitId, alive: u32 },
    /// Reply to [`Effect::GuessMainPid`].
    MainPidGuessed { unit: UnitId, pid: Option<u32> },
    /// Reply to [`Effect::ReadPidFile`].
    PidFileRead { unit: UnitId, pid: Option<u32> },
    /// An sd_notify datagram (already parsed) from `pid`, with the sender's credentials.
    /// Attribution: the engine looks `pid` up among the main/control processes it watches and
    /// also offers the message to `unit`, the unit the supervisor's process tracking attributes
    /// `pid` to. Authorization (`NotifyAccess=`) is decided by the engine.
    Notify {
        pid: u32,
        uid: u32,
        unit: Option<UnitId>,
        msg: super::notify::NotifyMessage,
        /// For `MAINPID=n`: whether n is alive (not a zombie) and which unit tracks it.
        main_pid_alive: bool,
        main_pid_unit: Option<UnitId>,
    },
    /// Reply to [`Effect::OpenSockets`]: `error` says why the fds could not be set up.
    SocketsOpened { unit: UnitId, error: Option<String> },
    /// A watched socket unit has a connection or datagram waiting.
    SocketReady { unit: UnitId },
    /// The well-known bus name `name` got an owner (`owned`) or lost it
    /// (`NameOwnerChanged`, or the names owned when the manager connected). Services with
    /// that `BusName=` track it; a `Type=dbus` service is started once it is owned and stops
    /// when it is released.
    BusNameOwner { name: String, owned: bool },
    /// Reply to [`Effect::ReadTimerStamp`]: the stamp's time (realtime µs), `None` when the
    /// timer never ran.
    TimerStampRead { unit: UnitId, realtime: Option<u64> },
    /// Reply to [`Effect::CheckMountPoint`]: whether the path is a mount point.
    MountPointChecked { unit: UnitId, mounted: bool },
    /// Reply to [`Effect::CheckConditions`]: per check, whether it holds (negation applied),
    /// in the order they were given.
    ConditionsChecked {
        unit: UnitId,
        conditions: Vec<bool>,
        asserts: Vec<bool>,
    },
}

/// What observers learn, in the order things happened. Unit changes are coalesced per call
/// (one `UnitChanged` per unit per engine step) and always precede the `JobRemoved` they caused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A unit was added to the engine (loaded or referenced).
    UnitNew { unit: UnitId, name: String },
    /// Some property of the unit changed (state, PIDs, result, timestamps, job).
    UnitChanged { unit: UnitId },
    /// A unit was removed (garbage-collected).
    UnitRemoved { unit: UnitId, name: String },
    /// A job was installed.
    JobNew {
        job: JobId,
        unit: UnitId,
        unit_name: String,
    },
    /// A job's state changed (waiting → running).
    JobChanged { job: JobId },
    /// A job finished.
    JobRemoved {
        job: JobId,
        unit: UnitId,
        unit_name: String,
        result: JobResult,
    },
    /// daemon-reload started (`true`) or finished (`false`).
    Reloading { active: bool },
    /// An Upstart event finished: nothing holds it any more (`failed` when a job it started
    /// or stopped failed). See `events.rs`.
    EventFinished {
        event: super::events::EventId,
        name: String,
        env: Vec<String>,
        failed: bool,
    },
}
