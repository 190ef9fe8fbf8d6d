//! [`Manager`]: the synchronous core the façades call into — engine + loader + supervisor.
//!
//! Owns the composition of the three: it loads units on demand (resolving every name they
//! reference), turns client requests into engine calls, carries out the engine's effects
//! through the supervisor and feeds the answers back, and reads the clocks. It does no async
//! I/O itself; the daemon loop ([`super::serve`]) drives it.

use std::collections::VecDeque;

use crate::conditions::{self, ConditionContext};
use crate::engine::{
    Change, Effect, Engine, EngineConfig, EnqueueError, Input, JobId, JobMode, JobType, KillWhom,
    Timestamp, UnitId,
};
use crate::loader::Loader;
use crate::loader::unenforced::{UnenforcedNote, enforcer_for_uid, unenforced_keys};
use crate::settings::{Scope, Settings};
use crate::spec::{LoadState, LoadedUnit, UnitName, UnitNameError, UnitSpec};
use crate::supervisor::notify::{NotifySocket, NotifyStats, Received};
use crate::supervisor::{Supervisor, SupervisorConfig};

/// Variables systemd never passes from the manager's own environment to services.
const REMOVED_ENV: &[&str] = &[
    "NOTIFY_SOCKET",
    "MAINPID",
    "MANAGERPID",
    "LISTEN_PID",
    "LISTEN_FDS",
    "LISTEN_FDNAMES",
    "WATCHDOG_PID",
    "WATCHDOG_USEC",
    "INVOCATION_ID",
    "JOURNAL_STREAM",
    "EXIT_CODE",
    "EXIT_STATUS",
    "SERVICE_RESULT",
    "PIDFILE",
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "DBUS_STARTER_ADDRESS",
    "DBUS_STARTER_BUS_TYPE",
];

/// systemd's compile-time default PATH (Debian: split-usr directories included).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Read both clocks.
pub fn now() -> Timestamp {
    use nix::time::{ClockId, clock_gettime};
    let us = |c: ClockId| {
        clock_gettime(c)
            .map(|t| t.tv_sec() as u64 * 1_000_000 + t.tv_nsec() as u64 / 1_000)
            .unwrap_or(0)
    };
    Timestamp {
        realtime: us(ClockId::CLOCK_REALTIME),
        monotonic: us(ClockId::CLOCK_MONOTONIC),
    }
}

/// The manager environment services start from (service-contract §7.1, step 1).
fn manager_environment(scope: Scope) -> Vec<String> {
    let mut env: Vec<String> = Vec::new();
    match scope {
        Scope::User => {
            for (k, v) in std::env::vars_os() {
                let (Some(k), Some(v)) = (k.to_str(), v.to_str()) else {
                    continue;
                };
                if k == "PATH"
                    || REMOVED_ENV.contains(&k)
                    || k.ends_with("_DIRECTORY")
                    || k.starts_with("UNITD_")
                {
                    continue;
                }
                env.push(format!("{k}={v}"));
            }
        }
        Scope::System => {
            if let Ok(text) = std::fs::read_to_string("/etc/locale.conf")
                .or_else(|_| std::fs::read_to_string("/etc/default/locale"))
            {
                for line in text.lines() {
                    let line = line.trim();
                    if (line.starts_with("LANG=") || line.starts_with("LC_")) && line.contains('=')
                    {
                        env.push(line.replace('"', ""));
                    }
                }
            }
        }
    }
    env.push(format!("PATH={DEFAULT_PATH}"));
    env
}

/// The manager. Façades get `&mut Manager` while handling one call.
pub struct Manager {
    settings: Settings,
    engine: Engine,
    loader: Loader,
    supervisor: Supervisor,
    start_time: Timestamp,
    /// When start-up finished: the boot's jobs (or, without a boot target, the jobs queued at
    /// start) were all done (`FinishTimestamp`, `StartupFinished`).
    finish_time: Option<Timestamp>,
    changes: VecDeque<Change>,
    /// Facts `Condition*=` checks read (detected once at start).
    conditions: ConditionContext,
    /// The manager environment at start (Upstart's `ResetEnv` returns to it).
    initial_env: Vec<String>,
    /// Transient units (`StartTransientUnit`) by name: they have no file, so loading and
    /// daemon-reload take them from here.
    transient: std::collections::HashMap<String, LoadedUnit>,
    /// The sd_notify socket (`None` if it could not be bound).
    notify: Option<NotifySocket>,
    /// fds of the notification being processed (`FDSTORE=1`).
    pending_fds: Vec<std::os::fd::OwnedFd>,
    /// Socket units being watched for traffic, with the tasks watching them.
    socket_watches: std::collections::HashMap<UnitId, Vec<tokio::task::JoinHandle<()>>>,
    /// Watch tasks report readable socket units here.
    socket_tx: tokio::sync::mpsc::UnboundedSender<UnitId>,
    socket_rx: Option<tokio::sync::mpsc::UnboundedReceiver<UnitId>>,
    /// `Reexecute` was called: the daemon loop re-executes after this turn.
    reexec_requested: bool,
    /// A shutdown asked for by a client ([`Manager::request_shutdown`]).
    shutdown: Option<ShutdownAction>,
    /// Per unit name: the sandboxing settings this manager cannot enforce, as computed when
    /// the unit was (re)loaded ([`crate::loader::unenforced`]).
    unenforced: std::collections::HashMap<String, UnenforcedNote>,
    /// Time-zone rules for `OnCalendar=`, shared with the engine (reloaded on a time-zone
    /// change).
    zones: std::sync::Arc<super::timers::LocalZone>,
}

/// What a shutdown request asks for. In a container (or any manager that is not the host's
/// init) every action ends the same way: all units are stopped and the manager exits; the
/// action is logged and decides nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownAction {
    /// `PowerOff()`, `poweroff.target`, SIGRTMIN+4.
    PowerOff,
    /// `Halt()`, `halt.target`, SIGRTMIN+3.
    Halt,
    /// `Reboot()`, `reboot.target`, SIGRTMIN+5.
    Reboot,
    /// `KExec()`, `kexec.target`.
    KExec,
    /// `Exit()`, `exit.target` (the user manager's and the container's way out).
    Exit,
    /// SIGTERM or SIGINT to the manager (`docker stop`, Ctrl-C).
    Signal,
}

impl ShutdownAction {
    /// Every action with a special target.
    pub const ALL: [ShutdownAction; 5] = [
        ShutdownAction::PowerOff,
        ShutdownAction::Halt,
        ShutdownAction::Reboot,
        ShutdownAction::KExec,
        ShutdownAction::Exit,
    ];

    /// The special target that requests this action (`Signal`: `shutdown.target`).
    pub fn target(self) -> &'static str {
        match self {
            ShutdownAction::PowerOff => "poweroff.target",
            ShutdownAction::Halt => "halt.target",
            ShutdownAction::Reboot => "reboot.target",
            ShutdownAction::KExec => "kexec.target",
            ShutdownAction::Exit => "exit.target",
            ShutdownAction::Signal => "shutdown.target",
        }
    }

    /// The action a special target requests.
    pub fn from_target(name: &str) -> Option<ShutdownAction> {
        ShutdownAction::ALL.into_iter().find(|a| a.target() == name)
    }

    /// For log messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ShutdownAction::PowerOff => "power-off",
            ShutdownAction::Halt => "halt",
            ShutdownAction::Reboot => "reboot",
            ShutdownAction::KExec => "kexec",
            ShutdownAction::Exit => "exit",
            ShutdownAction::Signal => "signal",
        }
    }
}

/// Where the manager's notify socket lives: `<runtime dir>/unitd/notify` (never a path a host
/// systemd owns).
pub fn notify_socket_path(settings: &Settings) -> std::path::PathBuf {
    settings.runtime_dir.join("unitd").join("notify")
}

/// What [`Manager::new`] and [`Manager::restore`] build differently; the rest of a manager
/// starts the same ([`Manager::assemble`]).
struct Parts {
    settings: Settings,
    engine: Engine,
    supervisor: Supervisor,
    start_time: Timestamp,
    finish_time: Option<Timestamp>,
    conditions: ConditionContext,
    initial_env: Vec<String>,
    transient: std::collections::HashMap<String, LoadedUnit>,
    notify: Option<NotifySocket>,
}

impl Manager {
    /// A manager from its parts, with a loader for its settings and nothing pending.
    fn assemble(mut p: Parts) -> Manager {
        let (socket_tx, socket_rx) = tokio::sync::mpsc::unbounded_channel();
        let zones = std::sync::Arc::new(super::timers::LocalZone::new());
        p.engine
            .set_zone_offsets(Box::new(super::timers::SharedZone(zones.clone())));
        // OnBootSec= counts from boot, or in a container (we are its init) from our start.
        let boot = if std::process::id() == 1 {
            p.start_time.monotonic
        } else {
            0
        };
        p.engine.set_timer_bases(boot, p.start_time);
        Manager {
            loader: Loader::new(&p.settings),
            settings: p.settings,
            engine: p.engine,
            supervisor: p.supervisor,
            start_time: p.start_time,
            finish_time: p.finish_time,
            changes: VecDeque::new(),
            conditions: p.conditions,
            initial_env: p.initial_env,
            transient: p.transient,
            notify: p.notify,
            pending_fds: Vec::new(),
            socket_watches: std::collections::HashMap::new(),
            socket_tx,
            socket_rx: Some(socket_rx),
            reexec_requested: false,
            shutdown: None,
            unenforced: std::collections::HashMap::new(),
            zones,
        }
    }

    /// Insert a freshly loaded unit into the engine, first noting which of its sandboxing
    /// settings this manager cannot enforce.
    fn insert_loaded(&mut self, requested: &str, loaded: LoadedUnit) -> UnitId {
        self.note_unenforced(&loaded, true);
        self.engine.insert(now(), requested, loaded)
    }

    /// Record what of `loaded`'s sandboxing this manager cannot enforce. When that is new or
    /// changed (first load, or a reload that changed it) and `report` is set, say so once: a
    /// warning in the daemon log and a line in the unit's own log.
    fn note_unenforced(&mut self, loaded: &LoadedUnit, report: bool) {
        let keys = unenforced_keys(loaded, enforcer_for_uid(self.settings.uid));
        let Some(note) = UnenforcedNote::new(&keys) else {
            self.unenforced.remove(&loaded.name);
            return;
        };
        if self.unenforced.get(&loaded.name) == Some(&note) {
            return;
        }
        if report {
            tracing::warn!("{}", note.log_line(&loaded.name));
            self.supervisor
                .log_manager_message(&loaded.name, &note.unit_log_line());
        }
        self.unenforced.insert(loaded.name.clone(), note);
    }

    /// What this manager cannot enforce of `unit`'s sandboxing settings (`None`: everything
    /// asked for is enforced), as noted when it was loaded.
    pub fn unenforced(&self, unit: &str) -> Option<&UnenforcedNote> {
        self.unenforced.get(unit)
    }

    /// Build a manager and load every unit found in the search path.
    pub fn new(settings: Settings) -> std::io::Result<Manager> {
        let start_time = now();
        let mut seed = [0u8; 16];
        if let Ok(bytes) = std::fs::read("/proc/sys/kernel/random/uuid") {
            for (i, b) in bytes.iter().enumerate() {
                seed[i % 16] ^= b.rotate_left(i as u32 % 8);
            }
        }
        seed[..8]
            .copy_from_slice(&(start_time.realtime ^ u64::from(std::process::id())).to_le_bytes());
        let manager_env = manager_environment(settings.scope);
        let initial_env = manager_env.clone();
        let conditions =
            ConditionContext::detect(settings.scope == Scope::User, manager_env.clone());
        let engine = Engine::new(EngineConfig {
            user_scope: settings.scope == Scope::User,
            manager_env,
            manager_pid: std::process::id(),
            id_seed: seed,
        });
        let mut supervisor = Supervisor::new(SupervisorConfig::from_settings(&settings))?;
        let notify = match NotifySocket::bind(&notify_socket_path(&settings)) {
            Ok(sock) => {
                supervisor.set_notify_socket(Some(sock.path().to_owned()));
                Some(sock)
            }
            Err(e) => {
                tracing::warn!(
                    "cannot bind the notify socket {}: {e}; Type=notify services will time out",
                    notify_socket_path(&settings).display()
                );
                None
            }
        };
        let mut m = Manager::assemble(Parts {
            settings,
            engine,
            supervisor,
            start_time,
            finish_time: None,
            conditions,
            initial_env,
            transient: std::collections::HashMap::new(),
            notify,
        });
        m.load_all();
        // Upstart's `startup` event, once per manager start (jobs `start on startup`).
        m.engine.emit_event(now(), "startup", Vec::new());
        m.process();
        Ok(m)
    }

    /// Rebuild the manager a previous process of ours exported before `execve`
    /// ([`Manager::export_state`]): same settings, start time, transient units and engine
    /// state; the supervisor claims the handed-over descriptors (the notify socket keeps its
    /// queued datagrams) and pumps the log pipes again; listening sockets are watched again.
    /// Unit files are then re-read like `daemon-reload` (systemd re-loads them on reexec);
    /// the `Reloading(true)` that causes is dropped, `Reloading(false)` is announced as systemd
    /// does once it is back. Nothing is started or stopped: every running service is re-adopted
    /// as it was. The caller reaps children that exited meanwhile ([`Manager::reap_children`]).
    pub fn restore(state: super::reexec::ManagerState) -> Result<Manager, String> {
        let super::reexec::ManagerState {
            settings,
            start_time,
            finish_time,
            initial_env,
            transient,
            notify,
            engine,
            supervisor: sup_state,
            ..
        } = state;
        let cfg = EngineConfig {
            user_scope: settings.scope == Scope::User,
            manager_env: initial_env.clone(),
            manager_pid: std::process::id(),
            id_seed: [0; 16],
        };
        let engine = Engine::restore(cfg, now(), engine).map_err(|e| e.to_string())?;
        let conditions =
            ConditionContext::detect(settings.scope == Scope::User, engine.environment().to_vec());
        let mut supervisor = Supervisor::new(SupervisorConfig::from_settings(&settings))
            .map_err(|e| format!("cannot start the supervisor: {e}"))?;
        let path = notify_socket_path(&settings);
        let notify = match notify.and_then(|h| h.claim()) {
            Some(fd) => Some(NotifySocket::from_bound(fd, &path)),
            None => match NotifySocket::bind(&path) {
                Ok(sock) => Some(sock),
                Err(e) => {
                    tracing::warn!("cannot bind the notify socket {}: {e}", path.display());
                    None
                }
            },
        };
        if let Some(sock) = &notify {
            supervisor.set_notify_socket(Some(sock.path().to_owned()));
        }
        supervisor.import(sup_state);
        let mut m = Manager::assemble(Parts {
            settings,
            engine,
            supervisor,
            start_time,
            finish_time,
            conditions,
            initial_env,
            transient: transient.into_iter().map(|l| (l.name.clone(), l)).collect(),
            notify,
        });
        m.process();
        // The previous process already reported what it cannot enforce; only changes that
        // the reload below brings are reported again.
        let loaded: Vec<LoadedUnit> = m.engine.units().map(|u| u.loaded.clone()).collect();
        for l in &loaded {
            m.note_unenforced(l, false);
        }
        m.reload();
        m.changes
            .retain(|c| !matches!(c, Change::Reloading { active: true }));
        Ok(m)
    }

    /// Everything a successor process needs to carry on ([`Manager::restore`]): settings,
    /// engine and supervisor state, transient units, the notify socket's descriptor. Pending
    /// effects are carried out first.
    pub fn export_state(&mut self) -> super::reexec::ManagerState {
        use std::os::fd::AsRawFd;
        self.process();
        super::reexec::ManagerState {
            version: super::reexec::STATE_VERSION,
            pid: std::process::id(),
            argv: std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            settings: self.settings.clone(),
            start_time: self.start_time,
            finish_time: self.finish_time,
            initial_env: self.initial_env.clone(),
            transient: {
                let mut t: Vec<LoadedUnit> = self.transient.values().cloned().collect();
                t.sort_by(|a, b| a.name.cmp(&b.name));
                t
            },
            notify: self
                .notify
                .as_ref()
                .and_then(|s| crate::supervisor::handover::HandedFd::of(s.as_raw_fd())),
            engine: self.engine.snapshot(now()),
            supervisor: self.supervisor.export(),
            // The daemon loop adds the façade's clients (`reexec::reexecute`).
            bus_clients: Default::default(),
        }
    }

    /// Announce that a re-execution starts (`Reloading(true)`, as systemd sends before it
    /// serializes); the new image announces `Reloading(false)`.
    pub fn announce_reexec(&mut self) {
        self.engine.set_reloading(true);
        self.collect_changes();
    }

    /// `Reexecute`: ask the daemon loop to re-execute after the current turn.
    pub fn request_reexec(&mut self) {
        self.reexec_requested = true;
    }

    /// Whether a re-execution is pending; `take` clears the request.
    pub fn reexec_pending(&mut self, take: bool) -> bool {
        let r = self.reexec_requested;
        if take {
            self.reexec_requested = false;
        }
        r
    }

    /// Read-only view of the engine (units, jobs, environment).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Daemon settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The supervisor's process table, read-only (unit `ControlGroup`s for the bus façade).
    pub fn process_table(&self) -> &crate::supervisor::ProcessTable {
        self.supervisor.process_table()
    }

    /// The supervisor (log store, process queries).
    pub fn supervisor(&mut self) -> &mut Supervisor {
        &mut self.supervisor
    }

    /// Fds in `unit`'s fd store (`NFileDescriptorStore`).
    pub fn fd_store_len(&self, unit: UnitId) -> usize {
        self.supervisor.fd_store_len(unit)
    }

    /// The fd the daemon loop polls for hung-up stored fds (then calls
    /// [`Manager::drop_hung_up_stored_fds`]).
    pub fn fd_store_poll_fd(&self) -> Option<std::os::fd::RawFd> {
        self.supervisor.fd_store_poll_fd()
    }

    /// Drop stored fds that reported EPOLLHUP/EPOLLERR (systemd's fd-store polling; fds
    /// stored with `FDPOLL=0` are never polled).
    pub fn drop_hung_up_stored_fds(&mut self) {
        let n = self.supervisor.fd_store_drop_hung_up();
        if n > 0 {
            tracing::debug!("dropped {n} hung-up fd(s) from fd stores");
        }
    }

    /// The current time (both clocks).
    pub fn now(&self) -> Timestamp {
        now()
    }

    /// When the manager started (`UserspaceTimestamp`…).
    pub fn start_time(&self) -> Timestamp {
        self.start_time
    }

    /// When start-up finished (`FinishTimestamp`), if it has.
    pub fn finish_time(&self) -> Option<Timestamp> {
        self.finish_time
    }

    /// Start-up is over once no job is left (systemd's `manager_check_finished`); the caller
    /// asks only after it queued the boot target, if any. Returns whether it finished now.
    pub fn check_startup_finished(&mut self) -> bool {
        if self.finish_time.is_some() || self.engine.jobs().next().is_some() {
            return false;
        }
        self.finish_time = Some(now());
        true
    }

    /// The install verbs' file-system logic for this scope (`enable`, `mask`, …), with the
    /// loader's specifier values.
    pub fn installer(&self) -> crate::install::Installer<'_> {
        crate::install::Installer::new(&self.settings, self.loader.specifier_context())
    }

    /// The specifier values units are loaded with (transient units are parsed with them too).
    pub fn specifier_context(&self) -> &crate::unit_file::SpecifierContext {
        self.loader.specifier_context()
    }

    /// Add the transient unit `loaded` (built by `StartTransientUnit` from the unit file
    /// `text`); it stays across daemon-reload. Like systemd, the file is written to the
    /// transient directory (`/run/systemd/transient`, `$XDG_RUNTIME_DIR/systemd/transient`),
    /// which is its `FragmentPath` (`UnitFileState` `transient`, `systemctl cat`), and removed
    /// with the unit. The caller checked that no unit of that name exists.
    pub fn add_transient(&mut self, mut loaded: LoadedUnit, text: &str) -> std::io::Result<UnitId> {
        let name = loaded.name.clone();
        let dir = crate::settings::transient_dir(&self.settings.install_runtime_dir);
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(&name);
        let tmp = dir.join(format!(".#{name}"));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)?;
        loaded.fragment_path = Some(path);
        self.transient.insert(name.clone(), loaded.clone());
        let id = self.insert_loaded(&name, loaded);
        self.resolve_stubs();
        self.process();
        Ok(id)
    }

    /// Give the transient scope `unit` the processes it adopts when it starts (`PIDs`).
    pub fn set_scope_pids(&mut self, unit: UnitId, pids: Vec<u32>) {
        self.engine.set_scope_pids(unit, pids);
    }

    /// `SetUnitProperties`: record the setting `line` (e.g. `Description=…`, in `[section]`)
    /// for `unit` as systemd does — a drop-in `50-<property>.conf` in the control directory
    /// (`…/system.control` or `…/user.control`; the runtime one under `/run` or
    /// `$XDG_RUNTIME_DIR` when `runtime` is set or the unit is transient) — and load the unit
    /// again (drop-ins and all) with the setting applied live on top, so it takes effect now
    /// and survives daemon-reload. `patch` applies the setting to the unit's settings.
    pub fn write_unit_setting(
        &mut self,
        unit: UnitId,
        runtime: bool,
        property: &str,
        section: &str,
        line: &str,
        patch: impl FnOnce(&mut UnitSpec),
    ) -> std::io::Result<()> {
        let name = self.engine.unit(unit).name().to_owned();
        let transient = self.transient.contains_key(&name);
        let base = if runtime || transient {
            &self.settings.install_runtime_dir
        } else {
            &self.settings.install_dir
        };
        let dir = crate::settings::control_dir(base).join(format!("{name}.d"));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("50-{property}.conf"));
        let text = format!(
            "# This is a drop-in unit file extension, created via \"systemctl set-property\"\n\
             # or an equivalent operation. Do not edit.\n[{section}]\n{line}\n"
        );
        let tmp = dir.join(format!(".#50-{property}.conf"));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)?;
        let loaded = if let Some(t) = self.transient.get_mut(&name) {
            patch(&mut t.spec);
            if !t.dropin_paths.contains(&path) {
                t.dropin_paths.push(path);
            }
            t.clone()
        } else {
            self.loader.rescan();
            let mut loaded = self
                .load_from_disk(&name)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            // The value set is live until the next reload, even where a drop-in of higher
            // priority says otherwise (as in systemd).
            patch(&mut loaded.spec);
            loaded
        };
        self.insert_loaded(&name, loaded);
        self.resolve_stubs();
        self.process();
        Ok(())
    }

    /// `Scope.Abandon()`: `false` if `unit` is not a running (or abandoned) scope.
    pub fn abandon_scope(&mut self, unit: UnitId) -> bool {
        let ok = self.engine.abandon_scope(unit);
        self.collect_changes();
        ok
    }

    /// `AttachProcessesToUnit`: make the running processes `pids` part of `unit` (watched
    /// until they exit, killed when the unit stops). The caller checked that the unit is
    /// active and takes processes, and that every pid exists. Returns the pids that could
    /// not be attached (gone meanwhile).
    pub fn attach_processes(&mut self, unit: UnitId, pids: &[u32]) -> Vec<u32> {
        let unit = self.engine.unit(unit).id;
        let mut failed = Vec::new();
        for &pid in pids {
            if !self.supervisor.attach(unit, pid) {
                failed.push(pid);
            }
        }
        failed
    }

    /// Whether `pid` names a live process (not a zombie of someone else).
    pub fn process_exists(&self, pid: u32) -> bool {
        self.supervisor.process_alive(pid)
    }

    /// Hand the transient `unit` the descriptors its processes use as stdin/stdout/stderr
    /// (`Standard*FileDescriptor`); they are closed once the unit is inactive without a job.
    pub fn set_unit_stdio_fds(&mut self, unit: UnitId, fds: [Option<std::os::fd::OwnedFd>; 3]) {
        self.supervisor.set_stdio_fds(unit, fds);
    }

    /// Whether `name` is a transient unit.
    pub fn is_transient(&self, name: &str) -> bool {
        self.transient.contains_key(name)
    }

    /// Load every unit file of the search path.
    fn load_all(&mut self) {
        for name in self.loader.unit_names() {
            if let Err(e) = self.load_unit(&name) {
                tracing::warn!("skipping unit file {name}: {e}");
            }
        }
    }

    /// Run the loader for `name`, falling back to unitd's built-in units.
    fn load_from_disk(&self, name: &str) -> Result<LoadedUnit, UnitNameError> {
        if let Some(t) = self.transient.get(name) {
            return Ok(t.clone());
        }
        let mut loaded = self.loader.load(name)?;
        super::builtin::apply_slice_defaults(&mut loaded, self.settings.scope);
        if loaded.load_state == LoadState::NotFound
            && let Some(mut builtin) = super::builtin::load(name, self.settings.scope)
        {
            // `systemctl enable` links units into the built-in targets' `.wants/`.
            builtin.spec.deps.extend(self.loader.directory_deps(name));
            return Ok(builtin);
        }
        Ok(loaded)
    }

    /// Load `name` (and what it references) if not loaded yet: systemd's on-demand loading when
    /// a client touches a unit. A name without a file yields a `not-found` unit.
    pub fn load_unit(&mut self, name: &str) -> Result<UnitId, UnitNameError> {
        UnitName::new(name)?;
        if let Some(id) = self.engine.lookup(name)
            && self.engine.unit(id).loaded.load_state != LoadState::Stub
        {
            return Ok(id);
        }
        let loaded = self.load_from_disk(name)?;
        let id = self.insert_loaded(name, loaded);
        self.resolve_stubs();
        self.process();
        Ok(id)
    }

    /// Load every name the engine saw referenced but does not know yet.
    fn resolve_stubs(&mut self) {
        loop {
            let stubs = self.engine.take_stubs();
            if stubs.is_empty() {
                break;
            }
            for name in stubs {
                let loaded = match self.load_from_disk(&name) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::warn!("invalid unit name {name:?} referenced: {e}");
                        not_found_unit(&name)
                    }
                };
                self.insert_loaded(&name, loaded);
            }
        }
    }

    /// `StartUnit` & co.: load `name`, then enqueue. `mode` is the client's string.
    pub fn enqueue(
        &mut self,
        name: &str,
        job_type: JobType,
        mode: &str,
    ) -> Result<JobId, EnqueueError> {
        let Some(mode) = JobMode::from_str_opt(mode) else {
            return Err(EnqueueError::InvalidArgs(format!(
                "Job mode {mode} invalid."
            )));
        };
        let id = self
            .load_unit(name)
            .map_err(|_| EnqueueError::InvalidArgs(format!("Unit name {name} is not valid.")))?;
        let r = self.engine.enqueue(now(), id, job_type, mode, true);
        self.collect_changes();
        r
    }

    /// Upstart `EmitEvent`: emit event `name` with `KEY=VALUE` env into the engine; its
    /// `Change::EventFinished` follows once every job it started/stopped got there.
    pub fn emit_event(&mut self, name: &str, env: Vec<String>) -> crate::engine::EventId {
        let r = self.engine.emit_event(now(), name, env);
        self.collect_changes();
        r
    }

    /// Upstart `Job.Start`/`Job.Stop` env: what the next start (`stop == false`) or stop of
    /// `unit` passes to its processes.
    pub fn set_job_env(&mut self, unit: UnitId, stop: bool, env: Vec<String>) {
        if stop {
            self.engine.set_stop_env(unit, env);
        } else {
            self.engine.set_start_env(unit, env);
        }
    }

    /// Upstart `Job.Start(env)` on an instance job: the unit of the instance `env` selects,
    /// created from the job's class unit when new (see [`crate::engine::Engine::start_target`]).
    pub fn job_start_target(&mut self, class: UnitId, env: &[String]) -> Result<UnitId, String> {
        let r = self.engine.start_target(class, env);
        self.resolve_stubs();
        self.collect_changes();
        r
    }

    /// Upstart: a newer command on a job instance releases the events it holds (with
    /// success); see [`crate::engine::Engine::release_event_holds`].
    pub fn release_event_holds(&mut self, unit: UnitId) {
        self.engine.release_event_holds(unit);
        self.collect_changes();
    }

    /// Upstart's env methods with job details: change one job instance's environment table.
    pub fn change_job_env(&mut self, unit: UnitId, change: crate::engine::JobEnvChange) {
        self.engine.change_job_env(unit, change);
    }

    /// `CancelJob`.
    pub fn cancel_job(&mut self, job: JobId) -> Result<(), EnqueueError> {
        let r = self.engine.cancel_job(now(), job);
        self.collect_changes();
        r
    }

    /// `KillUnit`.
    pub fn kill_unit(
        &mut self,
        name: &str,
        whom: KillWhom,
        signal: i32,
    ) -> Result<(), EnqueueError> {
        let Some(id) = self.engine.lookup(name) else {
            return Err(EnqueueError::NoSuchUnit(format!("Unit {name} not loaded.")));
        };
        self.engine.kill_unit(id, whom, signal)
    }

    /// `ResetFailedUnit` / `ResetFailed`.
    pub fn reset_failed(&mut self, name: Option<&str>) -> Result<(), EnqueueError> {
        let id = match name {
            Some(n) => Some(
                self.engine
                    .lookup(n)
                    .ok_or_else(|| EnqueueError::NoSuchUnit(format!("Unit {n} not loaded.")))?,
            ),
            None => None,
        };
        self.engine.reset_failed(now(), id);
        self.collect_changes();
        Ok(())
    }

    /// `SetEnvironment` & co.
    pub fn set_environment(&mut self, unset: &[String], set: &[String]) {
        self.engine.set_environment(unset, set);
        // `ConditionEnvironment=` checks the manager environment as it is now.
        self.conditions.manager_env = self.engine.environment().to_vec();
    }

    /// The manager environment as it was at start (before any `SetEnvironment`).
    pub fn initial_environment(&self) -> &[String] {
        &self.initial_env
    }

    /// Upstart's global `ResetEnv`: the manager environment back to what it was at start.
    pub fn reset_environment(&mut self) {
        let unset: Vec<String> = self
            .engine
            .environment()
            .iter()
            .map(|e| e.split_once('=').map_or(e.as_str(), |p| p.0).to_owned())
            .collect();
        let initial = self.initial_env.clone();
        self.set_environment(&unset, &initial);
    }

    /// `Reload` (daemon-reload): re-read every unit file, keep runtime state.
    pub fn reload(&mut self) {
        self.engine.set_reloading(true);
        self.loader.rescan();
        let mut names: Vec<String> = self.engine.units().map(|u| u.name().to_owned()).collect();
        names.extend(self.loader.unit_names());
        names.sort();
        names.dedup();
        for name in names {
            match self.load_from_disk(&name) {
                Ok(loaded) => {
                    self.insert_loaded(&name, loaded);
                }
                Err(e) => tracing::warn!("skipping {name}: {e}"),
            }
        }
        self.resolve_stubs();
        self.engine.set_reloading(false);
        self.collect_changes();
    }

    /// Carry out every pending effect, feeding the answers back, until the engine is quiet.
    pub fn process(&mut self) {
        while let Some(effect) = self.engine.poll_effect() {
            let answer = match &effect {
                Effect::GuessMainPid { unit } => {
                    let control = self.engine.unit(*unit).service.control_pid;
                    Some(Input::MainPidGuessed {
                        unit: *unit,
                        pid: self.supervisor.guess_main_pid(*unit, control),
                    })
                }
                Effect::CheckConditions {
                    unit,
                    conditions,
                    asserts,
                } => Some(Input::ConditionsChecked {
                    unit: *unit,
                    conditions: conditions::evaluate_all(conditions, &self.conditions),
                    asserts: conditions::evaluate_all(asserts, &self.conditions),
                }),
                Effect::WatchSockets { unit, watch } => {
                    if *watch {
                        self.watch_socket(*unit);
                    } else {
                        self.unwatch_socket(*unit);
                    }
                    None
                }
                Effect::CloseSockets { unit, .. } => {
                    self.unwatch_socket(*unit);
                    self.supervisor.execute(&effect)
                }
                Effect::CheckMountPoint {
                    unit,
                    path,
                    directory_mode,
                } => {
                    let mounted = super::mounts::is_mount_point(path);
                    if let (false, Some(mode)) = (mounted, directory_mode) {
                        super::mounts::create_mount_point(path, *mode);
                    }
                    Some(Input::MountPointChecked {
                        unit: *unit,
                        mounted,
                    })
                }
                Effect::ReadTimerStamp { unit, name } => Some(Input::TimerStampRead {
                    unit: *unit,
                    realtime: super::timers::read_stamp(&self.settings.state_dir, name),
                }),
                Effect::TouchTimerStamp { name, realtime } => {
                    super::timers::touch_stamp(&self.settings.state_dir, name, *realtime);
                    None
                }
                Effect::FdStore { unit, op } => {
                    let fds = std::mem::take(&mut self.pending_fds);
                    self.supervisor.fd_store_op(*unit, op, fds);
                    None
                }
                other => self.supervisor.execute(other),
            };
            if let Some(input) = answer {
                self.engine.handle_input(now(), input);
            }
        }
        self.collect_changes();
    }

    /// The channel on which readable socket units arrive (once; the daemon loop polls it and
    /// hands each unit to [`Manager::socket_ready`]).
    pub fn take_socket_events(&mut self) -> Option<tokio::sync::mpsc::UnboundedReceiver<UnitId>> {
        self.socket_rx.take()
    }

    /// A watched socket unit has traffic: stop watching it and tell the engine (which starts
    /// the service). Reports about units no longer watched are stale and ignored.
    pub fn socket_ready(&mut self, unit: UnitId) {
        if self.socket_watches.contains_key(&unit) && self.engine.socket_accepts(unit) {
            // Accept=yes: one instance per connection; the socket keeps listening.
            self.unwatch_socket(unit);
            self.accept_connection(unit);
            if self.engine.socket_accepts(unit) {
                self.watch_socket(unit);
            }
            return;
        }
        if self.socket_watches.contains_key(&unit) {
            self.unwatch_socket(unit);
            self.engine.handle_input(now(), Input::SocketReady { unit });
        }
    }

    /// A well-known bus name got or lost its owner (see [`Input::BusNameOwner`]).
    pub fn bus_name_owner(&mut self, name: String, owned: bool) {
        self.engine
            .handle_input(now(), Input::BusNameOwner { name, owned });
    }

    /// Accept one connection on an `Accept=yes` socket, load its service instance
    /// `<prefix>@<n>-<local>-<remote>.service` and queue its start; the instance's main process
    /// gets the connection.
    fn accept_connection(&mut self, sock: UnitId) {
        let conn = match self.supervisor.accept_connection(sock) {
            Ok(Some(c)) => c,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(
                    unit = self.engine.unit(sock).name(),
                    "failed to accept connection: {e}"
                );
                return;
            }
        };
        let source = conn.remote.map(|a| a.ip());
        if !self.engine.socket_admit(sock, source) {
            // Refused: dropping `conn` closes it; the client sees EOF.
            self.collect_changes();
            return;
        }
        let (prefix, n) = self.engine.socket_accept_prefix(sock);
        let name = format!("{prefix}@{n}-{}.service", conn.instance_suffix);
        let svc = match self.load_unit(&name) {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!("failed to load connection service {name}: {e}");
                return;
            }
        };
        self.supervisor.set_connection(svc, conn);
        self.engine.socket_accepted(sock, svc, source);
        if let Err(e) = self
            .engine
            .enqueue(now(), svc, JobType::Start, JobMode::Replace, false)
        {
            tracing::warn!("failed to queue connection service {name}: {e}");
            self.supervisor.drop_connection(svc);
        }
        self.process();
    }

    /// Watch duplicates of a socket unit's fds (the duplicates keep the registrations valid
    /// whatever happens to the originals) until one is readable.
    fn watch_socket(&mut self, unit: UnitId) {
        self.unwatch_socket(unit);
        if tokio::runtime::Handle::try_current().is_err() {
            tracing::warn!("cannot watch sockets outside the event loop");
            return;
        }
        let mut tasks = Vec::new();
        for fd in self.supervisor.socket_watch_fds(unit) {
            let tx = self.socket_tx.clone();
            tasks.push(tokio::spawn(async move {
                // SAFETY: the AsyncFd owns `fd` (a duplicate), so the registration can never
                // outlive or refer to another file.
                let registered = unsafe {
                    tokio::io::unix::AsyncFd::register_with_interest(
                        fd,
                        tokio::io::Interest::READABLE,
                    )
                };
                let Ok(afd) = registered else {
                    return;
                };
                if afd.readable().await.is_ok() {
                    let _ = tx.send(unit);
                }
            }));
        }
        self.socket_watches.insert(unit, tasks);
    }

    fn unwatch_socket(&mut self, unit: UnitId) {
        for t in self.socket_watches.remove(&unit).into_iter().flatten() {
            t.abort();
        }
    }

    /// The notify socket's fd, for the daemon loop to poll.
    pub fn notify_fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        self.notify.as_ref().map(|s| s.as_raw_fd())
    }

    /// Notify socket counters (received, accepted, dropped, …).
    pub fn notify_stats(&self) -> NotifyStats {
        self.notify.as_ref().map(|s| s.stats()).unwrap_or_default()
    }

    /// Read up to `budget` queued notify datagrams and feed them to the engine. Returns `true`
    /// when the socket is drained (would block), `false` when the budget ran out first.
    pub fn drain_notify(&mut self, budget: usize) -> bool {
        for _ in 0..budget {
            let Some(sock) = self.notify.as_mut() else {
                return true;
            };
            let d = match sock.recv() {
                Ok(Received::Message(d)) => d,
                Ok(Received::Handled) => continue,
                Ok(Received::Empty) => return true,
                Err(e) => {
                    tracing::warn!("notify socket: {e}");
                    return true;
                }
            };
            // Attribution: processes the engine watches first (cheap), then the supervisor's
            // process tracking (descendants, for NotifyAccess=all).
            let unit = match self.supervisor.known_unit_of_pid(d.pid) {
                Some(u) => Some(u),
                None if self.engine.unit_by_pid(d.pid).is_some() => None,
                None => self.supervisor.unit_of_pid(d.pid),
            };
            let (main_pid_alive, main_pid_unit) = match d.msg.main_pid {
                Some(n) => (
                    self.supervisor.process_alive(n),
                    self.supervisor.unit_of_pid(n),
                ),
                None => (false, None),
            };
            // FDSTORE=1 fds wait here for the engine's verdict (Effect::FdStore); whatever is
            // not stored is closed after processing.
            self.pending_fds = d.fds;
            self.engine.handle_input(
                now(),
                Input::Notify {
                    pid: d.pid,
                    uid: d.uid,
                    unit,
                    msg: d.msg,
                    main_pid_alive,
                    main_pid_unit,
                },
            );
            self.process();
            self.pending_fds.clear();
        }
        false
    }

    /// Reap exited children and tell the engine. Queued notifications are processed first,
    /// so "READY=1, then exit" is seen in that order.
    pub fn reap_children(&mut self) {
        self.drain_notify(1 << 16);
        for r in self.supervisor.reap() {
            self.engine.handle_input(
                now(),
                Input::Exited {
                    pid: r.pid,
                    status: r.status,
                    unit: r.unit,
                    remaining: r.remaining,
                },
            );
            self.process();
        }
        self.process();
    }

    /// The next engine timer deadline (monotonic µs).
    pub fn next_deadline(&self) -> Option<u64> {
        self.engine.next_deadline()
    }

    /// Fire due timers.
    pub fn fire_timers(&mut self) {
        self.engine.handle_timeout(now());
        self.process();
    }

    /// Something named `localtime` changed in `/etc`: if the local time zone really changed,
    /// timer units recompute (or trigger, `OnTimezoneChange=`).
    pub fn timezone_maybe_changed(&mut self) {
        if self.zones.reload_local() {
            tracing::info!("the local time zone changed");
            self.engine.timezone_changed(now());
            self.process();
        }
    }

    /// The wall clock was set: timer units recompute (or trigger, `OnClockChange=`).
    pub fn clock_changed(&mut self) {
        tracing::info!("the system clock was changed");
        self.engine.clock_changed(now());
        self.process();
    }

    fn collect_changes(&mut self) {
        while let Some(c) = self.engine.poll_change() {
            self.changes.push_back(c);
        }
    }

    /// Changes since the last call, in order.
    pub fn take_changes(&mut self) -> Vec<Change> {
        self.collect_changes();
        self.changes.drain(..).collect()
    }

    /// Whether any unit is not inactive/failed or any job is pending.
    pub fn busy(&self) -> bool {
        self.engine.jobs().next().is_some()
            || self
                .engine
                .units()
                .any(|u| !u.active_state.is_inactive_or_failed())
    }

    /// Adjust the count of client references on `unit` by `delta` (`Ref()`/`Unref()`/`RefUnit`,
    /// released when the client disconnects); a referenced unit is not garbage-collected.
    pub fn unit_ref(&mut self, unit: UnitId, delta: i32) {
        self.engine.add_refs(unit, delta);
    }

    /// The unit `pid` belongs to: a unit's main or control process, or any other process the
    /// supervisor attributes to a unit (descendants of its processes, adopted processes).
    /// `GetUnitByPID`, `systemctl status PID` and `/org/freedesktop/systemd1/unit/self` use it.
    pub fn unit_by_pid(&mut self, pid: u32) -> Option<UnitId> {
        if pid == 0 {
            return None;
        }
        let id = self
            .engine
            .unit_by_pid(pid)
            .or_else(|| self.supervisor.unit_of_pid(pid))?;
        let id = self.engine.unit(id).id;
        self.engine.try_unit(id).map(|u| u.id)
    }

    /// Garbage-collect units nothing keeps (the engine's rule, see `Engine::collect_garbage`):
    /// units with a file in the search path (unit files and Upstart jobs) and built-in units
    /// stay loaded, like after systemd loaded them because something referenced them, so
    /// `list-units --all` keeps listing them; not-found units, template instances and transient
    /// units go once they are inactive, jobless and unreferenced, each with `UnitRemoved`.
    /// Called by the daemon loop between events, never inside a call (a unit a call just loaded
    /// must survive until the reply is built). A removed transient unit is forgotten for good.
    pub fn collect_garbage(&mut self) {
        if !self.engine.gc_pending() {
            return;
        }
        // A unit that is done no longer needs the descriptors it was handed (`systemd-run -P`
        // and the reader of the client's pipe see EOF).
        for unit in self.supervisor.stdio_fd_units() {
            let u = self.engine.unit(unit);
            if u.job.is_none() && u.active_state.is_inactive_or_failed() {
                self.supervisor.release_stdio_fds(unit);
            }
        }
        let on_disk: std::collections::HashSet<String> =
            self.loader.unit_names().into_iter().collect();
        let scope = self.settings.scope;
        let transient = &self.transient;
        let removed = self.engine.collect_garbage(now(), |u| {
            let name = u.name();
            !transient.contains_key(name)
                && (on_disk.contains(name) || super::builtin::load(name, scope).is_some())
        });
        let runtime_control = crate::settings::control_dir(&self.settings.install_runtime_dir);
        for name in removed {
            // Like systemd's unit_remove_transient: the runtime drop-ins go with the unit.
            let Some(t) = self.transient.remove(&name) else {
                continue;
            };
            if let Some(p) = &t.fragment_path {
                let _ = std::fs::remove_file(p);
            }
            for p in t.dropin_paths {
                if p.starts_with(&runtime_control) {
                    let _ = std::fs::remove_file(&p);
                    if let Some(dir) = p.parent() {
                        let _ = std::fs::remove_dir(dir);
                    }
                }
            }
        }
        self.collect_changes();
    }

    /// Ask the daemon loop to shut the manager down (`PowerOff()`, `Exit()`, …): it stops
    /// every unit and exits. The first request wins.
    pub fn request_shutdown(&mut self, action: ShutdownAction) {
        self.shutdown.get_or_insert(action);
    }

    /// The shutdown asked for, if any: by [`Manager::request_shutdown`], or by a start job on
    /// (or the activation of) one of the special targets `poweroff.target`, `halt.target`,
    /// `reboot.target`, `kexec.target` and `exit.target` — what `systemctl poweroff` & co.
    /// request when no logind answers.
    pub fn shutdown_requested(&self) -> Option<ShutdownAction> {
        if self.shutdown.is_some() {
            return self.shutdown;
        }
        ShutdownAction::ALL.into_iter().find(|a| {
            self.engine.lookup(a.target()).is_some_and(|id| {
                let u = self.engine.unit(id);
                !u.active_state.is_inactive_or_failed()
                    || u.job
                        .and_then(|j| self.engine.job(j))
                        .is_some_and(|j| j.job_type == JobType::Start)
            })
        })
    }

    /// Whether a shutdown still waits for something: a pending job, or a unit that is not
    /// inactive/failed — targets aside: they run nothing, and the shutdown targets
    /// (`shutdown.target`, `final.target`, …) are active at this point by design.
    pub fn busy_for_shutdown(&self) -> bool {
        self.engine.jobs().next().is_some()
            || self.engine.units().any(|u| {
                !u.active_state.is_inactive_or_failed()
                    && !matches!(u.loaded.spec.kind, crate::spec::KindSpec::Target)
            })
    }

    /// The end of the shutdown budget: SIGKILL every process of every unit that is still not
    /// inactive (main, control and every other process attributed to it). Returns how many
    /// processes were still alive.
    pub fn kill_remaining(&mut self) -> u32 {
        let units: Vec<(UnitId, String, Option<u32>, Option<u32>)> = self
            .engine
            .units()
            .filter(|u| !u.active_state.is_inactive_or_failed())
            .map(|u| {
                (
                    u.id,
                    u.name().to_owned(),
                    u.service.main_pid,
                    u.service.control_pid,
                )
            })
            .collect();
        let mut alive = 0;
        for (unit, name, main, control) in units {
            let n = self.supervisor.kill(&crate::engine::KillRequest {
                unit,
                main,
                control,
                others: true,
                signal: libc::SIGKILL,
                sigcont: false,
                sighup: false,
            });
            if n > 0 {
                tracing::warn!(
                    "{name}: killing {n} remaining process(es) at the end of the shutdown budget"
                );
            }
            alive += n;
        }
        alive
    }

    /// Shutdown: cancel every job that is not a stop job. What is left to do is stopping; the
    /// start jobs a shutdown target pulled in (`poweroff.target` → `systemd-poweroff.service`
    /// → `final.target` …, systemd's last stage on a real machine) would only keep the manager
    /// waiting.
    pub fn cancel_non_stop_jobs(&mut self) {
        let jobs: Vec<JobId> = self
            .engine
            .jobs()
            .filter(|j| j.job_type != JobType::Stop)
            .map(|j| j.id)
            .collect();
        for job in jobs {
            let _ = self.engine.cancel_job(now(), job);
        }
        self.collect_changes();
        self.process();
    }

    /// Enqueue a stop job for every unit that is not inactive (shutdown).
    pub fn stop_all(&mut self) {
        let active: Vec<UnitId> = self
            .engine
            .units()
            .filter(|u| !u.active_state.is_inactive_or_failed())
            .map(|u| u.id)
            .collect();
        for id in active {
            let _ = self
                .engine
                .enqueue(now(), id, JobType::Stop, JobMode::Replace, false);
        }
        self.process();
    }
}

/// The record of a name that could not even be validated.
fn not_found_unit(name: &str) -> LoadedUnit {
    let n = UnitName::new("invalid.service").expect("valid literal");
    LoadedUnit {
        name: name.to_owned(),
        aliases: Vec::new(),
        load_state: LoadState::NotFound,
        load_error: Some((
            "org.freedesktop.systemd1.NoSuchUnit".into(),
            format!("Unit {name} not found."),
        )),
        fragment_path: None,
        dropin_paths: Vec::new(),
        diagnostics: Vec::new(),
        spec: UnitSpec::default_for(&n),
    }
}
