//! Per-unit process tracking without cgroups: every spawned pid is recorded with its unit, and
//! descendants are discovered on demand by scanning `/proc` — parent chain to a known pid,
//! session id equal to a known session leader (every spawn calls `setsid`), and as a last resort
//! `INVOCATION_ID` in the environment of processes re-parented to us (we are a subreaper).
//! Entries carry the process start time so a recycled pid is never mistaken for a tracked one.

use std::collections::{BTreeSet, HashMap};

use crate::engine::UnitId;

/// What `/proc/<pid>/stat` tells about one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// Parent pid.
    pub ppid: u32,
    /// Session id.
    pub sid: u32,
    /// Start time in clock ticks since boot (field 22), identifies the incarnation of a pid.
    pub start_time: u64,
    /// State letter (`R`, `S`, `Z`, …).
    pub state: u8,
}

/// Parse the contents of `/proc/<pid>/stat`. The command name may contain spaces and
/// parentheses, so fields are counted from the last `)`.
pub fn parse_stat(text: &str) -> Option<ProcStat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    // rest starts at field 3 (state): index 0 = state, 1 = ppid, 2 = pgrp, 3 = session,
    // 19 = starttime (field 22).
    Some(ProcStat {
        state: *fields.first()?.as_bytes().first()?,
        ppid: fields.get(1)?.parse().ok()?,
        sid: fields.get(3)?.parse().ok()?,
        start_time: fields.get(19)?.parse().ok()?,
    })
}

/// Read `/proc/<pid>/stat`.
pub fn read_stat(pid: u32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// The cgroup a process lives in, from the contents of `/proc/<pid>/cgroup`, as systemd names
/// it: the path on the unified (v2) hierarchy's `0::` line, else (a cgroup-v1-only host) the
/// path in the `name=systemd` hierarchy; `None` when the text has neither.
pub fn parse_cgroup(text: &str) -> Option<String> {
    let mut v1 = None;
    for line in text.lines() {
        // `hierarchy-id:controller-list:path`; the path may itself contain `:`.
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if !path.starts_with('/') {
            continue;
        }
        if id == "0" && controllers.is_empty() {
            return Some(path.to_owned());
        }
        if v1.is_none() && controllers.split(',').any(|c| c == "name=systemd") {
            v1 = Some(path.to_owned());
        }
    }
    v1
}

/// The cgroup `pid` lives in (see [`parse_cgroup`]); `None` when the process is gone or the
/// host has no cgroup that systemd would name.
pub fn read_cgroup(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    parse_cgroup(&text)
}

/// A process's command line as systemd shows it: arguments joined by spaces, or `[comm]` for
/// a process without one (kernel thread, zombie); `None` when the process is gone.
pub fn command_line(pid: u32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    if !args.is_empty() {
        return Some(args.join(" "));
    }
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(format!("[{}]", comm.trim_end()))
}

/// The value of `name` in `/proc/<pid>/environ` (NUL-separated `NAME=VALUE`).
fn read_environ_var(pid: u32, name: &str) -> Option<String> {
    let data = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let prefix = format!("{name}=");
    data.split(|b| *b == 0)
        .find(|e| e.starts_with(prefix.as_bytes()))
        .and_then(|e| String::from_utf8(e[prefix.len()..].to_vec()).ok())
}

/// [`ProcessTable::export`]: the tracking state as plain data.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct TableExport {
    /// `(pid, unit, start time in ticks)`.
    pub procs: Vec<(u32, UnitId, u64)>,
    /// `(unit, session leader pids, INVOCATION_ID)`.
    pub units: Vec<(UnitId, Vec<u32>, Option<String>)>,
}

/// One tracked process.
#[derive(Debug, Clone, Copy)]
struct Tracked {
    unit: UnitId,
    /// 0 when unknown (recorded at spawn before /proc was read).
    start_time: u64,
}

/// Per-unit bookkeeping.
#[derive(Debug, Default)]
struct UnitProcs {
    /// Session ids of processes spawned for the unit (each spawn is a session leader).
    sessions: BTreeSet<u32>,
    /// The unit's current `INVOCATION_ID`, matched against re-parented strangers.
    invocation_id: Option<String>,
}

/// The process table.
#[derive(Debug)]
pub struct ProcessTable {
    own_pid: u32,
    procs: HashMap<u32, Tracked>,
    units: HashMap<UnitId, UnitProcs>,
    /// Session leader pid → unit.
    sessions: HashMap<u32, UnitId>,
    /// Processes found not to descend from us. Ancestry is fixed at fork and an orphan is only
    /// ever re-parented to a subreaper among its ancestors, so a stranger stays a stranger for
    /// its lifetime: scans skip reading its `/proc/<pid>/stat` until the pid disappears.
    /// (Without this every kill or reap re-read the stat file of every process on the host.)
    /// Each is kept with its start time, so a recycled pid is not mistaken for the stranger.
    strangers: HashMap<u32, u64>,
}

/// A snapshot of every process in `/proc`.
type Snapshot = HashMap<u32, ProcStat>;

impl ProcessTable {
    /// An empty table for a manager whose pid is `own_pid`.
    pub fn new(own_pid: u32) -> ProcessTable {
        ProcessTable {
            own_pid,
            procs: HashMap::new(),
            units: HashMap::new(),
            sessions: HashMap::new(),
            strangers: HashMap::new(),
        }
    }

    /// Record a freshly spawned process (a session leader) of `unit`.
    pub fn add_spawned(&mut self, unit: UnitId, pid: u32, invocation_id: Option<&str>) {
        let start_time = read_stat(pid).map(|s| s.start_time).unwrap_or(0);
        self.procs.insert(pid, Tracked { unit, start_time });
        self.sessions.insert(pid, unit);
        let u = self.units.entry(unit).or_default();
        u.sessions.insert(pid);
        if let Some(id) = invocation_id.filter(|s| !s.is_empty()) {
            u.invocation_id = Some(id.to_string());
        }
    }

    /// Attribute an arbitrary pid (e.g. a main pid read from a PID file) to `unit`.
    pub fn add_pid(&mut self, unit: UnitId, pid: u32) {
        if let Some(st) = read_stat(pid) {
            self.procs.insert(
                pid,
                Tracked {
                    unit,
                    start_time: st.start_time,
                },
            );
        }
    }

    /// The unit a tracked pid belongs to, without scanning.
    pub fn unit_of(&self, pid: u32) -> Option<UnitId> {
        self.procs.get(&pid).map(|t| t.unit)
    }

    /// Attribute a pid that just exited but is still a zombie (`/proc/<pid>/stat` readable):
    /// known pid, else its session, else nothing. Records it so [`Self::remove`] can drop it.
    pub fn attribute_exiting(&mut self, pid: u32) -> Option<UnitId> {
        if let Some(t) = self.procs.get(&pid) {
            return Some(t.unit);
        }
        let st = read_stat(pid)?;
        let unit = *self.sessions.get(&st.sid)?;
        Some(unit)
    }

    /// The table as plain data (daemon-reexec): `(pid, unit, start time)` of every tracked
    /// process and `(unit, session leaders, invocation id)` of every unit.
    pub fn export(&self) -> TableExport {
        let mut procs: Vec<(u32, UnitId, u64)> = self
            .procs
            .iter()
            .map(|(pid, t)| (*pid, t.unit, t.start_time))
            .collect();
        procs.sort();
        let mut units: Vec<(UnitId, Vec<u32>, Option<String>)> = self
            .units
            .iter()
            .map(|(u, p)| {
                (
                    *u,
                    p.sessions.iter().copied().collect(),
                    p.invocation_id.clone(),
                )
            })
            .collect();
        units.sort_by_key(|u| u.0);
        TableExport { procs, units }
    }

    /// Take over an exported table. A tracked pid whose process is gone or is another
    /// incarnation now (start time differs) is dropped.
    pub fn import(&mut self, t: TableExport) {
        for (pid, unit, start_time) in t.procs {
            let now = read_stat(pid).map(|s| s.start_time);
            if now.is_some_and(|st| start_time == 0 || st == start_time) {
                self.procs.insert(pid, Tracked { unit, start_time });
            }
        }
        for (unit, sessions, invocation_id) in t.units {
            let u = self.units.entry(unit).or_default();
            for sid in sessions {
                u.sessions.insert(sid);
                self.sessions.insert(sid, unit);
            }
            u.invocation_id = invocation_id;
        }
    }

    /// Drop a reaped pid.
    pub fn remove(&mut self, pid: u32) {
        self.procs.remove(&pid);
    }

    /// Forget everything about `unit`.
    pub fn forget(&mut self, unit: UnitId) {
        self.procs.retain(|_, t| t.unit != unit);
        self.sessions.retain(|_, u| *u != unit);
        self.units.remove(&unit);
    }

    /// Read every process from `/proc` except known strangers; forget strangers that are gone.
    fn snapshot(&mut self) -> Snapshot {
        let mut snap = HashMap::new();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return snap;
        };
        let mut listed = std::collections::HashSet::with_capacity(self.strangers.len() + 64);
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            listed.insert(pid);
            if self.strangers.contains_key(&pid) {
                continue;
            }
            if let Some(st) = read_stat(pid) {
                snap.insert(pid, st);
            }
        }
        self.strangers.retain(|pid, _| listed.contains(pid));
        snap
    }

    /// Whether `pid` is a process already found to be a stranger (same pid, same start time):
    /// one stat read instead of a scan, which keeps a flood of notifications from a process
    /// outside every unit cheap.
    pub fn is_known_stranger(&self, pid: u32) -> bool {
        self.strangers
            .get(&pid)
            .is_some_and(|t| read_stat(pid).is_some_and(|st| st.start_time == *t))
    }

    /// Scan `/proc`: drop tracked pids that are gone (or recycled), attribute new descendants.
    pub fn scan(&mut self) {
        let snap = self.snapshot();
        let own = self.own_pid;
        // Forget vanished or recycled processes.
        self.procs.retain(|pid, t| match snap.get(pid) {
            None => false,
            Some(st) => t.start_time == 0 || t.start_time == st.start_time,
        });
        for (pid, t) in self.procs.iter_mut() {
            if t.start_time == 0
                && let Some(st) = snap.get(pid)
            {
                t.start_time = st.start_time;
            }
        }
        // A session nobody is in any more is over; its id may be recycled by a stranger.
        let live_sids: std::collections::HashSet<u32> = snap.values().map(|st| st.sid).collect();
        self.sessions.retain(|sid, _| live_sids.contains(sid));
        for u in self.units.values_mut() {
            u.sessions.retain(|sid| live_sids.contains(sid));
        }
        // Attribute the rest. Memoized walk up the parent chain.
        let mut memo: HashMap<u32, Option<UnitId>> = HashMap::new();
        let mut found: Vec<(u32, UnitId)> = Vec::new();
        let pids: Vec<u32> = snap.keys().copied().collect();
        let mut strangers = Vec::new();
        for pid in pids {
            if self.procs.contains_key(&pid) || pid == own {
                continue;
            }
            match self.attribute(pid, &snap, &mut memo) {
                Some(unit) => found.push((pid, unit)),
                // A zombie of ours may still be attributed once its exit is reported; only
                // settle on processes that are not our direct children.
                None if snap[&pid].ppid != own => strangers.push(pid),
                None => {}
            }
        }
        self.strangers
            .extend(strangers.into_iter().map(|p| (p, snap[&p].start_time)));
        for (pid, unit) in found {
            let start_time = snap[&pid].start_time;
            self.procs.insert(pid, Tracked { unit, start_time });
        }
    }

    /// Which unit `pid` belongs to, by session, parent chain, or (for processes re-parented to
    /// us) `INVOCATION_ID`.
    fn attribute(
        &self,
        pid: u32,
        snap: &Snapshot,
        memo: &mut HashMap<u32, Option<UnitId>>,
    ) -> Option<UnitId> {
        // Iterative walk: collect the chain until something decides it.
        let mut chain: Vec<u32> = Vec::new();
        let mut cur = pid;
        let result = loop {
            if let Some(r) = memo.get(&cur) {
                break *r;
            }
            if let Some(t) = self.procs.get(&cur) {
                break Some(t.unit);
            }
            let Some(st) = snap.get(&cur) else {
                break None;
            };
            if let Some(u) = self.sessions.get(&st.sid) {
                break Some(*u);
            }
            if cur == self.own_pid || cur <= 1 || chain.len() > 4096 {
                break None;
            }
            chain.push(cur);
            if st.ppid == self.own_pid {
                // Re-parented to us, origin lost: match the invocation id.
                break self.match_invocation(cur);
            }
            cur = st.ppid;
        };
        for p in chain {
            memo.insert(p, result);
        }
        result
    }

    fn match_invocation(&self, pid: u32) -> Option<UnitId> {
        if self.units.values().all(|u| u.invocation_id.is_none()) {
            return None;
        }
        let id = read_environ_var(pid, "INVOCATION_ID")?;
        self.units
            .iter()
            .find(|(_, u)| u.invocation_id.as_deref() == Some(id.as_str()))
            .map(|(unit, _)| *unit)
    }

    /// Whether a tracked pid counts as alive: running, or a zombie that is our child (its exit
    /// will still be reported by the reaper).
    fn is_alive(&self, st: Option<ProcStat>) -> bool {
        match st {
            None => false,
            Some(st) => st.state != b'Z' || st.ppid == self.own_pid,
        }
    }

    /// Every live process of `unit` (sorted), after a scan.
    pub fn processes_of(&mut self, unit: UnitId) -> Vec<u32> {
        self.scan();
        self.live_of(unit)
    }

    /// Every live process of `unit` (sorted) according to the table, without scanning.
    pub fn live_of(&self, unit: UnitId) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .procs
            .iter()
            .filter(|(_, t)| t.unit == unit)
            .map(|(pid, _)| *pid)
            .filter(|pid| self.is_alive(read_stat(*pid)))
            .collect();
        v.sort_unstable();
        v
    }

    /// The cgroup `unit`'s processes live in (systemd's `ControlGroup`): that of the first of
    /// `preferred` (its main and control pid) that is alive, else of its first live tracked
    /// process; `None` while the unit has no live process. Reads `/proc`, never scans it.
    pub fn control_group(&self, unit: UnitId, preferred: &[u32]) -> Option<String> {
        preferred
            .iter()
            .copied()
            .filter(|&pid| pid > 0 && self.is_alive(read_stat(pid)))
            .chain(self.live_of(unit))
            .find_map(read_cgroup)
    }

    /// Live processes of `unit` that are our direct children, after a scan.
    pub fn children_of(&mut self, unit: UnitId) -> Vec<u32> {
        self.processes_of(unit)
            .into_iter()
            .filter(|pid| {
                read_stat(*pid).is_some_and(|st| st.ppid == self.own_pid && st.state != b'Z')
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_prefers_the_unified_hierarchy() {
        let hybrid = "9:name=systemd:/init.scope\n4:memory:/m/x\n1:cpu:/init.scope\n\
                      0::/system.slice/a:b.service\n";
        assert_eq!(
            parse_cgroup(hybrid).as_deref(),
            Some("/system.slice/a:b.service")
        );
        assert_eq!(parse_cgroup("0::/\n").as_deref(), Some("/"));
        let v1 = "3:cpu,cpuacct:/x\n1:name=systemd:/user.slice/u.scope\n";
        assert_eq!(parse_cgroup(v1).as_deref(), Some("/user.slice/u.scope"));
        assert_eq!(parse_cgroup("2:cpu:/x\n"), None);
        assert_eq!(parse_cgroup(""), None);
    }

    #[test]
    fn own_cgroup_and_command_line_are_readable() {
        let me = std::process::id();
        let text = std::fs::read_to_string("/proc/self/cgroup").unwrap();
        assert_eq!(read_cgroup(me), parse_cgroup(&text));
        let line = command_line(me).expect("our own command line");
        let exe = std::env::args().next().unwrap();
        assert!(line.starts_with(&exe), "{line:?} starts with {exe:?}");
        // An empty table: the unit has no process, hence no cgroup.
        let t = ProcessTable::new(me);
        assert_eq!(t.control_group(UnitId(0), &[]), None);
        // A live preferred pid gives its cgroup.
        assert_eq!(t.control_group(UnitId(0), &[me]), read_cgroup(me));
    }

    #[test]
    fn stat_with_odd_comm() {
        let line =
            "4242 (a) b (c)) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1 2 3";
        let st = parse_stat(line).unwrap();
        assert_eq!(st.state, b'S');
        assert_eq!(st.ppid, 17);
        assert_eq!(st.sid, 4242);
        assert_eq!(st.start_time, 987654);
    }

    #[test]
    fn stat_of_self() {
        let st = read_stat(std::process::id()).unwrap();
        assert!(st.start_time > 0);
        assert_ne!(st.state, b'Z');
    }

    #[test]
    fn stat_garbage() {
        assert_eq!(parse_stat("no paren here"), None);
        assert_eq!(parse_stat("1 (x) S"), None);
    }

    #[test]
    fn strangers_are_remembered_by_pid_and_start_time() {
        let me = std::process::id();
        let parent = read_stat(me).unwrap().ppid;
        let mut t = ProcessTable::new(me);
        assert!(!t.is_known_stranger(parent), "not scanned yet");
        t.scan();
        // Our parent does not descend from us: a stranger, known without another scan.
        assert!(t.is_known_stranger(parent));
        // A recorded stranger whose pid now names another process is not trusted.
        t.strangers.insert(parent, 1);
        assert!(!t.is_known_stranger(parent));
    }
}
