//! `daemon-reexec`: the manager serializes its state, re-executes its own binary in the same
//! process (same PID, so every service stays its child) and the new image restores the state
//! and re-adopts every running service.
//!
//! The state ([`ManagerState`]) is plain serde data — settings (including the bus address the
//! manager was given), the original argv, start time, transient units, the engine's
//! [`EngineSnapshot`] and the supervisor's [`SupervisorSnapshot`] — written atomically as JSON
//! to `<state dir>/manager-state.json`, together with the systemd façade's bus clients
//! (subscribers and unit references by unique name, [`ClientState`]; the new image keeps
//! those whose names still exist on the bus). Descriptors that must survive `execve` (notify socket,
//! socket units' listening fds, fd stores, stdio fds, log pipes) are inherited by number, as
//! recorded in the state; see [`crate::supervisor::handover`]. The new process finds the state
//! through `$UNITD_DESERIALIZE` (never passed on to services: the manager environment drops
//! `UNITD_*`), reads it and deletes the file.
//!
//! The same file format is meant to serve recovery after the manager was killed: then nothing
//! is inherited (descriptor identities are checked) and the processes are no longer our
//! children.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Manager;
use crate::bus::systemd::ClientState;
use crate::engine::{EngineSnapshot, Timestamp};
use crate::settings::Settings;
use crate::spec::LoadedUnit;
use crate::supervisor::handover::{self, HandedFd, SupervisorSnapshot};

/// The environment variable naming the state file a re-executed manager restores.
pub const DESERIALIZE_ENV: &str = "UNITD_DESERIALIZE";

/// Version of [`ManagerState`]'s shape.
pub const STATE_VERSION: u32 = 1;

/// Everything a re-executed manager restores. See the module docs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagerState {
    /// [`STATE_VERSION`] of the writer.
    pub version: u32,
    /// PID of the manager that wrote it.
    pub pid: u32,
    /// The manager's original command line.
    pub argv: Vec<String>,
    /// Resolved settings (bus address included), used instead of re-resolving them.
    pub settings: Settings,
    /// When the manager first started (`UserspaceTimestamp`…; kept across reexec).
    pub start_time: Timestamp,
    /// When its start-up finished (`FinishTimestamp`), if it has.
    #[serde(default)]
    pub finish_time: Option<Timestamp>,
    /// The manager environment at first start (Upstart's `ResetEnv`).
    pub initial_env: Vec<String>,
    /// Transient units (they have no file to re-read).
    pub transient: Vec<LoadedUnit>,
    /// The sd_notify socket.
    pub notify: Option<HandedFd>,
    /// Units, jobs, environment, timers.
    pub engine: EngineSnapshot,
    /// Process tracking and handed-over descriptors.
    pub supervisor: SupervisorSnapshot,
    /// The systemd façade's bus clients: `Subscribe()`rs and `Ref()` holders.
    #[serde(default)]
    pub bus_clients: ClientState,
}

impl ManagerState {
    /// Every descriptor number the state hands over.
    pub fn fds(&self) -> Vec<std::os::fd::RawFd> {
        let mut v = self.supervisor.fds();
        v.extend(self.notify.map(|h| h.fd));
        v
    }
}

/// Where the state file lives.
pub fn state_path(settings: &Settings) -> PathBuf {
    settings.state_dir.join("manager-state.json")
}

/// Write `state` to `path` atomically (temporary file in the same directory, fsync, rename),
/// readable by the manager's user only.
pub fn write_state(path: &Path, state: &ManagerState) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    let json = serde_json::to_vec(state).map_err(std::io::Error::other)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(&json)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

/// Read and delete the state file named by `$UNITD_DESERIALIZE`, if set. `Err` when it is
/// set but unusable (the caller starts afresh).
pub fn take_state_from_env() -> Option<Result<ManagerState, String>> {
    let path = PathBuf::from(std::env::var_os(DESERIALIZE_ENV).filter(|v| !v.is_empty())?);
    Some(take_state(&path))
}

/// Read the state file at `path` and delete it (a state is restored at most once).
pub fn take_state(path: &Path) -> Result<ManagerState, String> {
    let r = std::fs::read(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
        .and_then(|bytes| {
            serde_json::from_slice::<ManagerState>(&bytes)
                .map_err(|e| format!("cannot parse {}: {e}", path.display()))
        })
        .and_then(|s| {
            if s.version == STATE_VERSION {
                Ok(s)
            } else {
                Err(format!(
                    "{}: state version {} is not supported",
                    path.display(),
                    s.version
                ))
            }
        });
    let _ = std::fs::remove_file(path);
    r
}

/// The binary to execute: the file we were started from, or its replacement at the same path
/// (an upgrade), else `/proc/self/exe`.
fn own_binary() -> PathBuf {
    if let Ok(p) = std::env::current_exe() {
        let s = p.to_string_lossy();
        let p = match s.strip_suffix(" (deleted)") {
            Some(stripped) => PathBuf::from(stripped),
            None => p.clone(),
        };
        if p.is_file() {
            return p;
        }
    }
    PathBuf::from("/proc/self/exe")
}

/// Serialize `mgr` (and the façade's `bus_clients`), then re-execute. Returns only on failure
/// (the state file is removed again and the manager carries on).
pub fn reexecute(mgr: &mut Manager, bus_clients: ClientState) -> std::io::Error {
    let mut state = mgr.export_state();
    state.bus_clients = bus_clients;
    let path = state_path(mgr.settings());
    if let Err(e) = write_state(&path, &state) {
        return e;
    }
    let argv: Vec<OsString> = std::env::args_os().collect();
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(k, _)| k != DESERIALIZE_ENV)
        .collect();
    env.push((DESERIALIZE_ENV.into(), path.clone().into_os_string()));
    let program = own_binary();
    tracing::info!("reexecuting {}", program.display());
    let err = handover::exec_self(&program, &argv, &env, &state.fds());
    let _ = std::fs::remove_file(&path);
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, EngineConfig};
    use crate::settings::Scope;

    fn state(dir: &Path) -> ManagerState {
        let mut settings = Settings::resolve(
            Scope::User,
            vec![dir.join("units")],
            Some(dir.join("state")),
            Some("unix:path=/tmp/some-bus".into()),
        );
        settings.upstart_p2p = None;
        let engine = Engine::new(EngineConfig {
            user_scope: true,
            manager_env: vec!["PATH=/bin".into()],
            manager_pid: 1,
            id_seed: [3; 16],
        });
        ManagerState {
            version: STATE_VERSION,
            pid: 4242,
            argv: vec!["unitd".into(), "serve".into(), "--user".into()],
            settings,
            start_time: Timestamp {
                realtime: 1,
                monotonic: 2,
            },
            finish_time: Some(Timestamp {
                realtime: 3,
                monotonic: 4,
            }),
            initial_env: vec!["PATH=/bin".into()],
            transient: Vec::new(),
            notify: Some(HandedFd {
                fd: 7,
                dev: 1,
                ino: 2,
            }),
            engine: engine.snapshot(Timestamp::NEVER),
            supervisor: SupervisorSnapshot::default(),
            bus_clients: ClientState {
                subscribers: vec![":1.7".into()],
                refs: vec![(":1.7".into(), "run-u1.service".into())],
            },
        }
    }

    #[test]
    fn state_file_round_trips_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = state(dir.path());
        let path = state_path(&s.settings);
        write_state(&path, &s).unwrap();
        assert!(
            !path.with_extension("json.tmp").exists(),
            "renamed into place"
        );
        let back = take_state(&path).expect("readable");
        assert_eq!(back.pid, 4242);
        assert_eq!(back.argv, s.argv);
        assert_eq!(
            back.settings.bus_address.as_deref(),
            Some("unix:path=/tmp/some-bus"),
            "the bus address is kept"
        );
        assert_eq!(back.settings.state_dir, s.settings.state_dir);
        assert_eq!(back.start_time, s.start_time);
        assert_eq!(back.fds(), vec![7]);
        assert_eq!(back.bus_clients, s.bus_clients, "bus clients are kept");
        assert!(!path.exists(), "a state is consumed by reading it");
        assert!(take_state(&path).is_err());
    }

    #[test]
    fn other_versions_and_garbage_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = state(dir.path());
        s.version = STATE_VERSION + 1;
        let path = state_path(&s.settings);
        write_state(&path, &s).unwrap();
        assert!(take_state(&path).unwrap_err().contains("not supported"));
        std::fs::write(&path, b"{not json").unwrap();
        assert!(take_state(&path).unwrap_err().contains("cannot parse"));
    }
}
