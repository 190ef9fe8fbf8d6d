//! What an Upstart job file says beyond the systemd-shaped [`UnitSpec`](super::UnitSpec) it is
//! lowered into: the job's own name, its event conditions, instance template and the
//! metadata the `com.ubuntu.Upstart0_6.Job` properties expose. Attached to a unit as
//! [`UnitSpec::upstart`](super::UnitSpec::upstart); systemd units have none.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::event_expr::EventExpr;
use super::{KindSpec, LoadedUnit};

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
    /// The expanded instance name this unit runs (empty: the class unit `<job>.service`, which
    /// is also the unnamed instance). Set by [`instantiate`] for `<job>@<inst>.service`.
    #[serde(default)]
    pub instance_name: String,
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

/// Look `key` up in a `KEY=VALUE` list (the last entry wins, as later tables override).
pub fn env_get<'a>(env: &'a [String], key: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find_map(|e| e.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v))
}

/// Set `KEY=VALUE` in a list, replacing an earlier entry of the same key.
pub fn env_set(env: &mut Vec<String>, kv: &str) {
    let key = kv.split_once('=').map_or(kv, |(k, _)| k);
    env.retain(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) != key);
    env.push(kv.to_owned());
}

/// Upstart's expansion of `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`,
/// `${VAR+word}` against `env` (used for `instance` templates). An unknown variable without a
/// default is an error `Unknown parameter: VAR`, as Upstart says it.
pub fn expand(template: &str, env: &[String]) -> Result<String, String> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                return Err("Expected } in parameter expansion".into());
            };
            let body = &inner[..end];
            rest = &inner[end + 1..];
            let name_len = body.find(|c: char| !is_name(c)).unwrap_or(body.len());
            let (name, op) = body.split_at(name_len);
            if name.is_empty() {
                return Err("Expected parameter name".into());
            }
            let value = env_get(env, name);
            let (colon, op) = match op.strip_prefix(':') {
                Some(o) => (true, o),
                None => (false, op),
            };
            let set = value.is_some_and(|v| !colon || !v.is_empty());
            match op.chars().next() {
                None if !colon => match value {
                    Some(v) => out.push_str(v),
                    None => return Err(format!("Unknown parameter: {name}")),
                },
                Some('-') => out.push_str(if set { value.unwrap_or("") } else { &op[1..] }),
                Some('+') => out.push_str(if set { &op[1..] } else { "" }),
                _ => return Err(format!("Unknown parameter expansion: ${{{body}}}")),
            }
        } else {
            let name_len = after.find(|c: char| !is_name(c)).unwrap_or(after.len());
            if name_len == 0 {
                out.push('$');
                rest = after;
                continue;
            }
            let name = &after[..name_len];
            rest = &after[name_len..];
            match env_get(env, name) {
                Some(v) => out.push_str(v),
                None => return Err(format!("Unknown parameter: {name}")),
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The unit-name form of an instance name: `systemd-escape` rules (`/` → `-`, bytes outside
/// `[A-Za-z0-9:_.]` and a leading `.` → `\xNN`), undone by
/// [`unescape(s, true)`](super::unit_name::unescape).
pub fn escape_instance(inst: &str) -> String {
    let mut out = String::new();
    for (i, b) in inst.bytes().enumerate() {
        match b {
            b'/' => out.push('-'),
            b'.' if i == 0 => out.push_str("\\x2e"),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b':' | b'_' | b'.' => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// The unit that runs instance `inst` of the job whose class unit is `class_unit`
/// (`foo.service`): the class unit itself for `""`, else `foo@<escaped inst>.service`.
pub fn instance_unit_name(class_unit: &str, inst: &str) -> String {
    if inst.is_empty() {
        return class_unit.to_owned();
    }
    let stem = class_unit.strip_suffix(".service").unwrap_or(class_unit);
    format!("{stem}@{}.service", escape_instance(inst))
}

/// The unit of instance `inst` derived from the loaded class unit `class` of an instance job:
/// the same settings under `unit_name`, with `UPSTART_INSTANCE=inst` and
/// [`UpstartJob::instance_name`] set. `None` when `class` is not an instance job.
pub fn instantiate(class: &LoadedUnit, unit_name: &str, inst: &str) -> Option<LoadedUnit> {
    let meta = class.spec.upstart.as_deref()?;
    if meta.instance.is_empty() {
        return None;
    }
    let mut unit = class.clone();
    unit.name = unit_name.to_owned();
    unit.aliases.clear();
    if let Some(m) = unit.spec.upstart.as_deref_mut() {
        m.instance_name = inst.to_owned();
    }
    if let KindSpec::Service(s) = &mut unit.spec.kind {
        let exec = std::sync::Arc::make_mut(&mut s.exec);
        for (k, v) in exec.environment.iter_mut() {
            if k == "UPSTART_INSTANCE" {
                *v = inst.to_owned();
            }
        }
    }
    Some(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn expands_like_upstart() {
        let e = env(&["TTY=tty1", "FOO=a", "BAR=b", "EMPTY="]);
        assert_eq!(expand("$TTY", &e).unwrap(), "tty1");
        assert_eq!(expand("$FOO-$BAR", &e).unwrap(), "a-b");
        assert_eq!(expand("${FOO}x", &e).unwrap(), "ax");
        assert_eq!(expand("${NOPE:-d}", &e).unwrap(), "d");
        assert_eq!(expand("${EMPTY:-d}", &e).unwrap(), "d");
        assert_eq!(expand("${EMPTY-d}", &e).unwrap(), "");
        assert_eq!(expand("${FOO:+set}", &e).unwrap(), "set");
        assert_eq!(expand("${NOPE+set}", &e).unwrap(), "");
        assert_eq!(expand("plain $ sign", &e).unwrap(), "plain $ sign");
        assert_eq!(
            expand("$TTY", &env(&[])).unwrap_err(),
            "Unknown parameter: TTY"
        );
        assert_eq!(expand("", &e).unwrap(), "");
    }

    #[test]
    fn instance_units_round_trip() {
        assert_eq!(instance_unit_name("foo.service", ""), "foo.service");
        assert_eq!(
            instance_unit_name("foo.service", "tty1"),
            "foo@tty1.service"
        );
        let n = instance_unit_name("net-apache.service", "a-b/c");
        assert_eq!(n, "net-apache@a\\x2db-c.service");
        let u = super::super::UnitName::new(&n).unwrap();
        assert_eq!(
            super::super::unit_name::unescape(u.instance().unwrap(), true),
            "a-b/c"
        );
    }
}
