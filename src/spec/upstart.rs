//! What an Upstart job file says beyond the systemd-shaped [`UnitSpec`](super::UnitSpec) it is
//! lowered into: the job's own name, its event conditions, instance template and the
//! metadata the `com.ubuntu.Upstart0_6.Job` properties expose. Attached to a unit as
//! [`UnitSpec::upstart`](super::UnitSpec::upstart); systemd units have none.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::event_expr::EventExpr;

/// `console` stanza.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Console {
    /// `console log` (Upstart's default): output goes to unitd's per-unit log store.
    #[default]
    Log,
    /// `console output`: the manager's console (stdout/stderr inherited).
    Output,
    /// `console owner`: like output, plus the console's owner (treated as output).
    Owner,
    /// `console none`: `/dev/null`.
    None,
}

/// `expect` stanza.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Expect {
    /// No `expect` (or `expect none`): the spawned process is the main process.
    #[default]
    None,
    /// `expect fork`: the main process is the child of the first fork.
    Fork,
    /// `expect daemon`: the main process is the grandchild (two forks).
    Daemon,
    /// `expect stop`: the job raises SIGSTOP when ready.
    Stop,
}

/// The Upstart side of a job loaded from `<name>.conf` (+ `.override`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstartJob {
    /// The job name: the path relative to its job directory without `.conf` (`net/apache`).
    pub name: String,
    /// The `.conf` file.
    pub conf_path: PathBuf,
    /// The `.override` file applied after it, if any.
    pub override_path: Option<PathBuf>,
    /// `description`.
    pub description: String,
    /// `author`.
    pub author: String,
    /// `version`.
    pub version: String,
    /// `usage`.
    pub usage: String,
    /// `start on` (none after `manual`).
    pub start_on: Option<EventExpr>,
    /// `stop on`.
    pub stop_on: Option<EventExpr>,
    /// `emits` words (globs allowed), accumulated.
    pub emits: Vec<String>,
    /// `instance` template (empty = single instance).
    pub instance: String,
    /// `task`.
    pub task: bool,
    /// `respawn`.
    pub respawn: bool,
    /// `manual` was given (it only cancels a `start on` seen before it).
    pub manual: bool,
    /// `export` variable names, accumulated.
    pub export: Vec<String>,
    /// `env` entries in order: `KEY=VALUE`, or a bare `KEY` meaning "init's own value".
    pub env: Vec<String>,
    /// `expect`.
    pub expect: Expect,
    /// `console`.
    pub console: Console,
    /// `reload signal` (default SIGHUP).
    pub reload_signal: i32,
    /// `kill signal` (default SIGTERM).
    pub kill_signal: i32,
    /// `kill timeout` in seconds (default 5).
    pub kill_timeout_secs: u64,
    /// `respawn limit` as (count, interval seconds); `None` = unlimited. Default (10, 5).
    pub respawn_limit: Option<(u32, u64)>,
    /// `normal exit` statuses (0..=255) and signal numbers.
    pub normal_exit_statuses: Vec<u8>,
    /// `normal exit` signals.
    pub normal_exit_signals: Vec<i32>,
    /// Stanzas parsed but not emulated (chroot, oom score, apparmor, cgroup), as written.
    pub unsupported: Vec<String>,
    /// Whether the job has a main process (`exec` or `script`).
    pub has_main: bool,
}
