//! Daemon settings: scope, search paths and directories, resolved once from the command line and
//! the environment. Owns the rules for default paths (systemd's search-path order for `--user`
//! and `--system`); everything else receives a `Settings` and never reads the environment itself.

use std::path::PathBuf;

/// User or system manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    User,
    System,
}

/// Resolved daemon settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub scope: Scope,
    /// Unit search path, highest priority first.
    pub unit_paths: Vec<PathBuf>,
    /// Where unitd keeps state (per-unit logs, later serialized engine state).
    pub state_dir: PathBuf,
    /// The runtime directory: `$XDG_RUNTIME_DIR` (user) or `/run` (system). `%t`.
    pub runtime_dir: PathBuf,
    /// The manager user's home (`%h`, `WorkingDirectory=~` default).
    pub home: PathBuf,
    /// The manager user's name and ids (`%u %U %g %G`).
    pub user_name: String,
    pub uid: u32,
    pub gid: u32,
    /// `%S %C %L %E` roots.
    pub state_root: PathBuf,
    pub cache_root: PathBuf,
    pub logs_root: PathBuf,
    pub config_root: PathBuf,
    /// Bus address to connect to; `None` = the default bus of the scope.
    pub bus_address: Option<String>,
}
