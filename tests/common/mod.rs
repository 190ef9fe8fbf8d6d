//! Integration-test harness: real components only.
//!
//! Owns everything a test needs to run the built `unitd` against unmodified clients:
//! - [`TestDir`]: a per-test temporary directory (mode 0755) with `units/`, `state/`,
//!   `home/`, `xdg/systemd/` (an empty dir, so `dbus-update-activation-environment --systemd`
//!   would act) and `services/` (the bus's activation directory).
//! - [`TestBus`]: a private `dbus-daemon` (session or system type) built from the checked-in
//!   configs in `dbus-policy/test/` plus a per-test wrapper that adds `services/` as the only
//!   `<servicedir>` (never the standard service dirs, so the host's `Exec=/bin/false` activation
//!   file for `org.freedesktop.systemd1` can never be picked).
//! - [`Daemon`]: `unitd serve --user --bus ADDR --unit-path DIR --state-dir DIR`, started by the
//!   test; ready once `org.freedesktop.systemd1` has an owner on the bus.
//! - [`UserManager`]: bus + daemon (or bus + activation file) + a stock `systemctl --user` runner.
//! - [`in_namespace`]: runs a command inside `unshare -m` with a tmpfs on `/run/systemd` and an
//!   empty `/run/systemd/system`, so `sd_booted()` is true for the client (install verbs go over
//!   D-Bus) and nothing from the host's `/run/systemd` is visible.
//!
//! Teardown stops only processes the harness started or recorded, by PID (with the process
//! start time recorded alongside, so a recycled PID is never hit): first the daemon (SIGTERM,
//! then SIGKILL), then an activated daemon (its PID is asked from the bus before the bus goes
//! away), then recorded service processes that are still alive, then the bus.
//!
//! Every wait has a timeout and fails loudly, printing the daemon's log. Timeouts are failure
//! backstops only; no test asserts how long something took.
//!
//! Requirements: root (for `unshare -m` and `mount`), `dbus-daemon`, `dbus-send`, `systemctl`,
//! `unshare`. When something is missing, [`RealEnv::check`] makes a test print `skipped: …`
//! and return — unless `CI` is set to `true`/`1`, where it fails instead.
//!
//! Reference mode: with `UNITD_TEST_REFERENCE=systemd`, [`Daemon`] runs the real
//! `systemd --user` (252) instead of unitd — in its own mount namespace, with
//! `SYSTEMD_UNIT_PATH` = the test's unit directory plus a stub `default.target` and copies of
//! the special targets from `/usr/lib/systemd/user` — and the stock
//! `systemctl --user` reaches it through `$XDG_RUNTIME_DIR/systemd/private`. It checks the
//! tests' expectations against the behaviour unitd must reproduce. Tests that need unitd
//! itself (bus activation, the demo) skip in this mode. Run it with `--test-threads=1`:
//! parallel `systemd --user` instances share the host's cgroup tree, so equally named units of
//! two tests would kill each other's processes.

#![allow(dead_code)]

use std::cell::RefCell;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

pub mod init_ns;
pub mod private_system;
pub mod upstart;
pub mod verbs;

#[allow(unused_imports)]
pub use upstart::upstart_session;

/// Upper bound for any single wait (a client call, a daemon becoming ready, a process going
/// away). Generous on purpose: it only turns a hang into a failure.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The well-known name the daemon owns.
pub const SYSTEMD1: &str = "org.freedesktop.systemd1";

/// Root of the checkout (where `dbus-policy/` and `units/` live).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `unitd` binary built by cargo for this test run.
pub fn unitd_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_unitd"))
}

/// True when the daemon tests run against the real `systemd --user` (see the module doc).
pub fn reference_mode() -> bool {
    std::env::var("UNITD_TEST_REFERENCE").as_deref() == Ok("systemd")
}

/// In reference mode, print `skipped: <test>: <why>` and return true.
pub fn skip_in_reference_mode(why: &str) -> bool {
    if reference_mode() {
        let test = thread::current().name().unwrap_or("?").to_string();
        eprintln!("skipped: {test}: {why} (UNITD_TEST_REFERENCE=systemd)");
        return true;
    }
    false
}

/// True when running under CI (`CI=true` or `CI=1`): missing tools are then failures.
pub fn in_ci() -> bool {
    matches!(
        std::env::var("CI")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Ok("true" | "1" | "yes")
    )
}

// ---------------------------------------------------------------------------------------------
// Environment check
// ---------------------------------------------------------------------------------------------

/// The real-component environment: root, Debian's D-Bus and systemd client tools, and a
/// working `unshare -m`.
pub struct RealEnv;

impl RealEnv {
    /// Check once per test binary. Returns `true` when the test can run; otherwise prints
    /// `skipped: <test>: <reason>` and returns `false` — or panics under CI.
    pub fn check() -> bool {
        static PROBLEM: OnceLock<Option<String>> = OnceLock::new();
        let problem = PROBLEM.get_or_init(probe_real_env);
        match problem {
            None => true,
            Some(why) => {
                let test = thread::current().name().unwrap_or("?").to_string();
                if in_ci() {
                    panic!(
                        "{test}: {why}\n(CI is set, so a missing tool is a failure, not a skip; \
                         tools/test.sh installs the prerequisites on Debian)"
                    );
                }
                eprintln!("skipped: {test}: {why}");
                false
            }
        }
    }
}

fn probe_real_env() -> Option<String> {
    if !nix_is_root() {
        return Some("needs root (unshare -m and mount for the systemctl namespace)".into());
    }
    let mut missing = Vec::new();
    for (tool, package) in [
        ("dbus-daemon", "dbus-daemon"),
        ("dbus-send", "dbus-bin"),
        ("systemctl", "systemd"),
        ("unshare", "util-linux"),
    ] {
        if which(tool).is_none() {
            missing.push(format!("{tool} (apt-get install {package})"));
        }
    }
    if !missing.is_empty() {
        return Some(format!("missing tools: {}", missing.join(", ")));
    }
    let probe = Command::new("unshare")
        .args(["-m", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match probe {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!(
            "`unshare -m true` failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Some(format!("cannot run unshare: {e}")),
    }
}

fn nix_is_root() -> bool {
    // No libc/nix dependency in the tests: /proc/self/status has the effective uid.
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// Find `tool` in `$PATH` (or the standard Debian dirs when `$PATH` is unset).
pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_else(|_| STD_PATH.to_string());
    path.split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(tool))
        .find(|p| {
            p.metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// `$PATH` handed to every spawned tool and daemon.
pub const STD_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

/// Result of running a client command.
#[derive(Debug, Clone)]
pub struct Output {
    /// What was run (for messages).
    pub what: String,
    /// Exit code; a signal death is `128 + signo`.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// stdout and stderr together, for `contains` checks that do not care which stream.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Human-readable dump for failure messages.
    pub fn dump(&self) -> String {
        format!(
            "$ {}\n-> exit {}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.what, self.code, self.stdout, self.stderr
        )
    }
}

fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Run `cmd` to completion with `timeout`; on expiry kill it and panic with what it printed.
pub fn run_with_timeout(cmd: &mut Command, what: &str, timeout: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `{what}`: {e}"));
    let out_reader = spawn_reader(child.stdout.take().expect("stdout piped"));
    let err_reader = spawn_reader(child.stderr.take().expect("stderr piped"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => break None,
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("waiting for `{what}`: {e}"),
        }
    };
    let timed_out = status.is_none();
    let status = match status {
        Some(s) => s,
        None => {
            // Our own direct child: kill exactly it.
            let _ = child.kill();
            child.wait().expect("reap timed-out child")
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let out = Output {
        what: what.to_string(),
        code: exit_code(status),
        stdout,
        stderr,
    };
    if timed_out {
        panic!(
            "`{what}` did not finish within {timeout:?}; killed it.\n{}",
            out.dump()
        );
    }
    out
}

fn spawn_reader(mut r: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Poll `pred` until it is true; panic with `what` after `timeout`.
pub fn wait_for(what: &str, timeout: Duration, mut pred: impl FnMut() -> bool) {
    wait_for_value(what, timeout, || pred().then_some(()))
}

/// Poll `f` until it returns `Some`; panic with `what` after `timeout`.
pub fn wait_for_value<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for: {what}");
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Fields of `/proc/PID/stat` after the `(comm)` field: index 0 is the state.
fn proc_stat_tail(pid: u32) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    Some(after.split_whitespace().map(str::to_string).collect())
}

/// True if `pid` exists and is not a zombie.
pub fn pid_alive(pid: u32) -> bool {
    match proc_stat_tail(pid) {
        Some(f) => !matches!(f.first().map(String::as_str), Some("Z" | "X" | "x")),
        None => false,
    }
}

/// Process start time (clock ticks since boot), used to recognise a PID later.
pub fn proc_start_time(pid: u32) -> Option<u64> {
    // Field 22 of stat; the tail starts at field 3 (state).
    proc_stat_tail(pid)?.get(19)?.parse().ok()
}

/// argv of `pid`, from `/proc/PID/cmdline`.
pub fn proc_cmdline(pid: u32) -> Vec<String> {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            b.split(|&c| c == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Parent PID of `pid`.
pub fn proc_ppid(pid: u32) -> Option<u32> {
    proc_stat_tail(pid)?.get(1)?.parse().ok()
}

/// PIDs of all live processes whose argv equals `argv`.
pub fn pids_with_cmdline(argv: &[&str]) -> Vec<u32> {
    let mut pids = Vec::new();
    if let Ok(rd) = fs::read_dir("/proc") {
        for e in rd.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok())
                && proc_cmdline(pid) == argv
                && pid_alive(pid)
            {
                pids.push(pid);
            }
        }
    }
    pids
}

/// Send `sig` to exactly `pid` (via `kill(1)`: the tests stay free of libc).
pub fn send_signal(pid: u32, sig: &str) -> bool {
    Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A PID recorded together with its start time: signalled only while it is still the same
/// process.
#[derive(Debug, Clone, Copy)]
pub struct TrackedPid {
    pub pid: u32,
    start: Option<u64>,
}

impl TrackedPid {
    /// Record `pid` now.
    pub fn new(pid: u32) -> Self {
        TrackedPid {
            pid,
            start: proc_start_time(pid),
        }
    }

    /// Still the same, still running process?
    pub fn alive(&self) -> bool {
        pid_alive(self.pid) && proc_start_time(self.pid) == self.start && self.start.is_some()
    }

    /// SIGTERM, wait up to `grace`, then SIGKILL; wait until gone (bounded by [`TIMEOUT`]).
    /// Returns true if the process had to be killed at all.
    pub fn terminate(&self, grace: Duration) -> bool {
        if !self.alive() {
            return false;
        }
        send_signal(self.pid, "TERM");
        let deadline = Instant::now() + grace;
        while self.alive() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        if self.alive() {
            send_signal(self.pid, "KILL");
            let deadline = Instant::now() + TIMEOUT;
            while self.alive() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(10));
            }
        }
        true
    }
}

/// SIGTERM our own child, wait up to `grace`, then SIGKILL; always reaps it.
fn stop_child(child: &mut Child, grace: Duration) -> ExitStatus {
    if let Ok(Some(status)) = child.try_wait() {
        return status;
    }
    send_signal(child.id(), "TERM");
    let deadline = Instant::now() + grace;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            _ => break,
        }
    }
    let _ = child.kill();
    child.wait().expect("reap child")
}

// ---------------------------------------------------------------------------------------------
// TestDir
// ---------------------------------------------------------------------------------------------

/// A per-test temporary directory, mode 0755 (so non-root clients could reach the sockets).
/// Removed on drop unless `UNITD_KEEP_TEST_DIRS=1`.
pub struct TestDir {
    tmp: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl TestDir {
    /// Create the directory and its standard subdirectories.
    pub fn new() -> TestDir {
        let tmp = tempfile::Builder::new()
            .prefix("unitd-test-")
            .tempdir()
            .expect("create temporary test directory");
        let path = tmp.path().to_path_buf();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod 755");
        for sub in ["units", "state", "home", "xdg/systemd", "services"] {
            fs::create_dir_all(path.join(sub)).expect("create test subdirectory");
        }
        fs::set_permissions(path.join("xdg"), fs::Permissions::from_mode(0o700))
            .expect("chmod xdg");
        TestDir {
            tmp: Some(tmp),
            path,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The daemon's `--unit-path`.
    pub fn units(&self) -> PathBuf {
        self.path.join("units")
    }
    /// The daemon's `--state-dir`.
    pub fn state(&self) -> PathBuf {
        self.path.join("state")
    }
    /// `$HOME` for the daemon and its services.
    pub fn home(&self) -> PathBuf {
        self.path.join("home")
    }
    /// `$XDG_RUNTIME_DIR` for the daemon and for clients (contains an empty `systemd/`).
    pub fn xdg(&self) -> PathBuf {
        self.path.join("xdg")
    }
    /// The bus's only `<servicedir>`.
    pub fn services(&self) -> PathBuf {
        self.path.join("services")
    }

    /// Write (or overwrite) a unit file in `units/`.
    pub fn write_unit(&self, name: &str, text: &str) -> PathBuf {
        let p = self.units().join(name);
        fs::write(&p, text).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        p
    }

    /// Write an executable `/bin/sh` script at `name` (relative to the test dir).
    pub fn write_script(&self, name: &str, body: &str) -> PathBuf {
        let p = self.path.join(name);
        fs::write(&p, format!("#!/bin/sh\n{body}"))
            .unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod script");
        p
    }
}

impl Default for TestDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::env::var("UNITD_KEEP_TEST_DIRS").as_deref() == Ok("1")
            && let Some(tmp) = self.tmp.take()
        {
            eprintln!("keeping test directory {}", tmp.keep().display());
        }
    }
}

/// Read a file for a failure message (empty if unreadable).
pub fn read_lossy(p: &Path) -> String {
    fs::read(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    let mut s = String::new();
    for l in &lines[start..] {
        let _ = writeln!(s, "{l}");
    }
    s
}

// ---------------------------------------------------------------------------------------------
// TestBus
// ---------------------------------------------------------------------------------------------

/// Which kind of bus to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusKind {
    /// Session type: allows everything to its own user (root).
    Session,
    /// System type: Debian's default-deny policy plus `dbus-policy/org.freedesktop.systemd1.conf`.
    System,
}

/// A private `dbus-daemon` owned by one test.
pub struct TestBus {
    child: Child,
    address: String,
    socket: PathBuf,
    log: PathBuf,
    kind: BusKind,
}

/// The environment for daemons and buses: a clean slate pointing at the test's directories.
pub fn daemon_env(dir: &TestDir) -> Vec<(String, String)> {
    vec![
        ("PATH".into(), STD_PATH.into()),
        ("HOME".into(), dir.home().display().to_string()),
        ("XDG_RUNTIME_DIR".into(), dir.xdg().display().to_string()),
        ("LANG".into(), "C.UTF-8".into()),
        ("RUST_BACKTRACE".into(), "1".into()),
        (
            "RUST_LOG".into(),
            std::env::var("RUST_LOG").unwrap_or_else(|_| "unitd=debug,info".into()),
        ),
    ]
}

impl TestBus {
    /// Start a bus of `kind` whose only service directory is `dir/services`. `env` becomes
    /// dbus-daemon's whole environment — and therefore that of every service it activates.
    pub fn start(dir: &TestDir, kind: BusKind, env: &[(String, String)]) -> TestBus {
        let base = repo_root().join("dbus-policy/test").join(match kind {
            BusKind::Session => "session.conf",
            BusKind::System => "system.conf",
        });
        Self::start_with_base(dir, kind, &base, env)
    }

    /// As [`Self::start`] with another base configuration (e.g. a permissive system bus).
    pub fn start_with_base(
        dir: &TestDir,
        kind: BusKind,
        base: &Path,
        env: &[(String, String)],
    ) -> TestBus {
        let template = fs::read_to_string(repo_root().join("dbus-policy/test/bus.conf.in"))
            .expect("read dbus-policy/test/bus.conf.in");
        let conf = template
            .replace("@BASECONF@", &base.display().to_string())
            .replace("@SERVICEDIR@", &dir.services().display().to_string());
        let (conf_name, sock_name, log_name) = match kind {
            BusKind::Session => ("session-bus.conf", "bus", "session-bus.log"),
            BusKind::System => ("system-bus.conf", "system_bus_socket", "system-bus.log"),
        };
        let conf_path = dir.path().join(conf_name);
        fs::write(&conf_path, conf).expect("write bus config");
        let socket = dir.path().join(sock_name);
        let log = dir.path().join(log_name);
        let log_file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("open bus log");
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", conf_path.display()))
            .arg(format!("--address=unix:path={}", socket.display()))
            .args(["--nofork", "--print-address"])
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("spawn dbus-daemon");
        // Line 1 of stdout is the address. Activated services inherit this stdout, so keep
        // draining it (into the log) for as long as anyone holds it open.
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, rx) = mpsc::channel();
        let drain_log = log.clone();
        thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut first = String::new();
            let _ = r.read_line(&mut first);
            let _ = tx.send(first);
            let mut rest = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n) = r.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                rest.extend_from_slice(&chunk[..n]);
                if let Ok(mut f) = fs::OpenOptions::new().append(true).open(&drain_log) {
                    let _ = f.write_all(&rest);
                    rest.clear();
                }
            }
        });
        let address = match rx.recv_timeout(TIMEOUT) {
            Ok(line) if !line.trim().is_empty() => line.trim().to_string(),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "dbus-daemon printed no address within {TIMEOUT:?}.\n--- bus log ---\n{}",
                    read_lossy(&log)
                );
            }
        };
        TestBus {
            child,
            address,
            socket,
            log,
            kind,
        }
    }

    /// The bus address (`unix:path=…,guid=…`).
    pub fn address(&self) -> &str {
        &self.address
    }
    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }
    /// dbus-daemon's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
    pub fn kind(&self) -> BusKind {
        self.kind
    }
    /// dbus-daemon's stderr plus everything activated services wrote to stdout/stderr.
    pub fn log_text(&self) -> String {
        read_lossy(&self.log)
    }
    /// Path of [`Self::log_text`]'s file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Call a method of the bus driver with `dbus-send`; `Ok(literal reply)` or `Err(output)`.
    pub fn driver_call(&self, member: &str, args: &[&str]) -> Result<String, Output> {
        let out = bus_driver_call(&self.address, member, args);
        if out.code == 0 {
            Ok(out.stdout)
        } else {
            Err(out)
        }
    }

    /// Does `name` currently have an owner?
    pub fn name_has_owner(&self, name: &str) -> bool {
        match self.driver_call("NameHasOwner", &[&format!("string:{name}")]) {
            Ok(reply) => reply.contains("true"),
            Err(out) => panic!("NameHasOwner failed:\n{}", out.dump()),
        }
    }

    /// The unique name of the connection owning `name`, if any.
    pub fn name_owner(&self, name: &str) -> Option<String> {
        let reply = self
            .driver_call("GetNameOwner", &[&format!("string:{name}")])
            .ok()?;
        Some(reply.trim().to_string()).filter(|o| o.starts_with(':'))
    }

    /// PID of the connection owning `name`, if any.
    pub fn connection_pid(&self, name: &str) -> Option<u32> {
        let reply = self
            .driver_call("GetConnectionUnixProcessID", &[&format!("string:{name}")])
            .ok()?;
        reply.split_whitespace().nth(1)?.parse().ok()
    }

    /// Names the bus could activate.
    pub fn activatable_names(&self) -> Vec<String> {
        match self.driver_call("ListActivatableNames", &[]) {
            Ok(reply) => reply
                .split_whitespace()
                .filter(|w| *w != "array" && *w != "[" && *w != "]")
                .map(str::to_string)
                .collect(),
            Err(out) => panic!("ListActivatableNames failed:\n{}", out.dump()),
        }
    }
}

/// Call a method of the bus driver of the bus at `address` with the stock `dbus-send`
/// (`--print-reply=literal`, only `PATH` in the environment); any exit code, bounded by
/// [`TIMEOUT`].
pub fn bus_driver_call(address: &str, member: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new("dbus-send");
    cmd.arg(format!("--bus={address}"))
        .args([
            "--print-reply=literal",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
        ])
        .arg(format!("org.freedesktop.DBus.{member}"))
        .args(args)
        .env_clear()
        .env("PATH", STD_PATH);
    run_with_timeout(&mut cmd, &format!("dbus-send {member}"), TIMEOUT)
}

impl Drop for TestBus {
    fn drop(&mut self) {
        stop_child(&mut self.child, Duration::from_secs(5));
    }
}

/// Write the activation file for `org.freedesktop.systemd1` into `dir/services`, from
/// `dbus-policy/test/org.freedesktop.systemd1.service.in` with `@DAEMON@` = `exec_line`.
pub fn write_activation_file(dir: &TestDir, exec_line: &str) -> PathBuf {
    let template = fs::read_to_string(
        repo_root().join("dbus-policy/test/org.freedesktop.systemd1.service.in"),
    )
    .expect("read activation template");
    let p = dir.services().join("org.freedesktop.systemd1.service");
    fs::write(&p, template.replace("@DAEMON@", exec_line)).expect("write activation file");
    p
}

// ---------------------------------------------------------------------------------------------
// Namespace wrapper and clients
// ---------------------------------------------------------------------------------------------

/// Shell snippet run by `unshare -m`: a private tmpfs on `/run/systemd` (or on `/run` when the
/// host has no `/run/systemd`, so nothing is created on the host), an empty
/// `/run/systemd/system` (sd_booted() = true), then exec the real command.
const NAMESPACE_SCRIPT: &str = "set -e; \
    if [ -d /run/systemd ]; then mount -t tmpfs -o mode=755 tmpfs /run/systemd; \
    else mount -t tmpfs -o mode=755 tmpfs /run; mkdir /run/systemd; fi; \
    mkdir /run/systemd/system; exec \"$@\"";

/// Build a command that runs `program args…` inside a private mount namespace with the fake
/// `/run/systemd/system`, with exactly the environment `env`.
pub fn in_namespace(program: &str, args: &[&str], env: &[(String, String)]) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args([
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        NAMESPACE_SCRIPT,
        "sh",
    ])
    .arg(program)
    .args(args)
    .env_clear()
    .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cmd
}

/// Shell snippet for a system-scope daemon's namespace: a private tmpfs on all of `/run` (the
/// marker, `/run/systemd/private` and unitd's notify socket `/run/unitd/notify`, so parallel
/// system daemons never share or replace each other's sockets) and on `/etc/systemd/system`
/// (where the install verbs write), then exec the real command. The host has to have
/// `/etc/systemd/system` (mounting over it creates nothing).
const SYSTEM_NAMESPACE_SCRIPT: &str = "set -e; \
    mount -t tmpfs -o mode=755 tmpfs /run; \
    mkdir -p /run/systemd/system; \
    mount -t tmpfs -o mode=755 tmpfs /etc/systemd/system; \
    exec \"$@\"";

/// Build a command that runs `program args…` (a system-scope daemon) inside a private mount
/// namespace where `/run` and `/etc/systemd/system` are empty tmpfs (see
/// [`SYSTEM_NAMESPACE_SCRIPT`]), with exactly the environment `env`. Clients reach what it
/// creates there through `nsenter --mount=/proc/PID/ns/mnt`.
pub fn in_system_namespace(program: &Path, args: &[&str], env: &[(String, String)]) -> Command {
    unshare_script(SYSTEM_NAMESPACE_SCRIPT, program.as_os_str(), args, env)
}

/// Run by [`in_private_run`]: private `/run` (with the `/run/systemd/system` marker) and a
/// private `/var/lib`, then exec.
const PRIVATE_RUN_SCRIPT: &str = "set -e; mount -t tmpfs -o mode=755 tmpfs /run; \
    mkdir -p /run/systemd/system; mount -t tmpfs -o mode=755 tmpfs /var/lib; exec \"$@\"";

/// Like [`in_namespace`], but the whole `/run` and `/var/lib` are private tmpfs: for a
/// dbus-daemon whose bus-activated system-scope unitd (which uses `/run/unitd`,
/// `/run/systemd/private` and `/var/lib/unitd`) must not touch the host. Processes it starts
/// inherit the namespace.
pub fn in_private_run(program: &str, args: &[&str], env: &[(String, String)]) -> Command {
    unshare_script(PRIVATE_RUN_SCRIPT, program.as_ref(), args, env)
}

/// `unshare -m` running the mount `script`, which then execs `program args…` with exactly `env`.
pub fn unshare_script(
    script: &str,
    program: &std::ffi::OsStr,
    args: &[&str],
    env: &[(String, String)],
) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "--propagation", "private", "sh", "-c", script, "sh"])
        .arg(program)
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cmd
}

/// A system-type `dbus-daemon` with the config text `conf` (written to `system-bus.conf` in
/// the test directory) listening on `system_bus_socket` there, in [`in_private_run`] (so a
/// unitd it activates gets a private `/run` and `/var/lib`), with environment `env` and its
/// log in `system-bus.log`. Returns the bus process and its address once the socket exists
/// (bounded by [`TIMEOUT`]).
pub fn spawn_private_run_bus(
    dir: &TestDir,
    conf: &str,
    env: &[(String, String)],
) -> (NamespacedDaemon, String) {
    let conf_path = dir.path().join("system-bus.conf");
    fs::write(&conf_path, conf).unwrap();
    let socket = dir.path().join("system_bus_socket");
    let address = format!("unix:path={}", socket.display());
    let bus = NamespacedDaemon::spawn(
        in_private_run(
            "dbus-daemon",
            &[
                &format!("--config-file={}", conf_path.display()),
                &format!("--address={address}"),
                "--nofork",
            ],
            env,
        ),
        dir.path().join("system-bus.log"),
        "dbus-daemon (system)",
    );
    wait_for("the system bus socket", TIMEOUT, || socket.exists());
    (bus, address)
}

/// A daemon a test started through [`in_namespace`] (or any command), its stdout and stderr in
/// `log`; stopped by PID on drop (SIGTERM, then SIGKILL after the timeout).
pub struct NamespacedDaemon {
    pub child: Child,
    pub log: PathBuf,
}

impl NamespacedDaemon {
    /// Spawn `cmd` with stdin from /dev/null and both output streams appended to `log`.
    pub fn spawn(mut cmd: Command, log: PathBuf, what: &str) -> NamespacedDaemon {
        let f = fs::File::create(&log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(f.try_clone().unwrap()))
            .stderr(Stdio::from(f))
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        NamespacedDaemon { child, log }
    }

    /// The daemon's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait (bounded by the harness timeout) until `name` has an owner on `bus`.
    pub fn wait_for_name(&self, bus: &TestBus, name: &str) {
        let deadline = Instant::now() + TIMEOUT;
        while !bus.name_has_owner(name) {
            assert!(
                Instant::now() < deadline,
                "the daemon did not own {name}:\n{}\n--- bus log ---\n{}",
                read_lossy(&self.log),
                bus.log_text()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NamespacedDaemon {
    fn drop(&mut self) {
        send_signal(self.child.id(), "TERM");
        let deadline = Instant::now() + TIMEOUT;
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A client process the test started (a `dbus-monitor`, a call left blocking): killed and
/// reaped when the guard drops, also when an assertion fails first.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The stock `dbus-monitor --address ADDRESS RULES…`, its stdout in `log` (stderr discarded).
/// It prints nothing before its matches are in place: the caller waits (bounded) for a first
/// signal it provokes or for `NameAcquired`.
pub fn dbus_monitor(address: &str, rules: &[&str], log: &Path) -> KillOnDrop {
    let child = Command::new("dbus-monitor")
        .arg("--address")
        .arg(address)
        .args(rules)
        .stdout(Stdio::from(fs::File::create(log).unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn dbus-monitor: {e}"));
    KillOnDrop(child)
}

/// The arguments of a test's `unitd serve --system` on `bus`: `--mark-booted`, no Upstart
/// private socket (abstract sockets are per network namespace: never claim the host's
/// `@/com/ubuntu/upstart` from a test), a `--unit-path` for each of `first_unit_paths` and then
/// the test's `units/`, and the test's state directory.
pub fn system_serve_args(dir: &TestDir, bus: &TestBus, first_unit_paths: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "serve",
        "--system",
        "--mark-booted",
        "--upstart-p2p",
        "none",
        "--bus",
        bus.address(),
    ]
    .map(String::from)
    .to_vec();
    for path in first_unit_paths
        .iter()
        .map(|p| p.to_string())
        .chain([dir.units().display().to_string()])
    {
        args.push("--unit-path".into());
        args.push(path);
    }
    args.push("--state-dir".into());
    args.push(dir.state().display().to_string());
    args
}

/// `unitd serve --system` ([`system_serve_args`]) in its own [`in_system_namespace`] with
/// environment `env`, logging to `unitd.log` in the test directory; returned once it owns
/// `org.freedesktop.systemd1` on `bus` (bounded by [`TIMEOUT`]).
pub fn spawn_system_daemon(
    dir: &TestDir,
    bus: &TestBus,
    env: &[(String, String)],
    first_unit_paths: &[&str],
) -> NamespacedDaemon {
    let args = system_serve_args(dir, bus, first_unit_paths);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let cmd = in_system_namespace(&unitd_bin(), &args, env);
    let daemon = NamespacedDaemon::spawn(cmd, dir.path().join("unitd.log"), "unitd serve --system");
    daemon.wait_for_name(bus, SYSTEMD1);
    daemon
}

/// Environment for stock clients talking to the private system bus at `bus_address`:
/// [`client_env`] without a session bus or `XDG_RUNTIME_DIR`.
pub fn system_client_env(dir: &TestDir, bus_address: &str) -> Vec<(String, String)> {
    let mut env = client_env("unix:path=/nonexistent", &dir.xdg());
    env.retain(|(k, _)| k != "DBUS_SESSION_BUS_ADDRESS" && k != "XDG_RUNTIME_DIR");
    env.push(("DBUS_SYSTEM_BUS_ADDRESS".into(), bus_address.into()));
    env
}

/// Whether a test that runs unitd as `nobody` can run here: the real-component environment
/// ([`RealEnv::check`]), not reference mode, root and `setpriv`. Otherwise prints `skipped: …`
/// (`RealEnv::check` fails in CI instead) and returns false.
pub fn nobody_prerequisites() -> bool {
    if !RealEnv::check() || skip_in_reference_mode("runs unitd") {
        return false;
    }
    if !nix::unistd::getuid().is_root() || which("setpriv").is_none() {
        eprintln!("skipped: needs root and setpriv to become nobody");
        return false;
    }
    true
}

/// `setpriv --reuid=nobody --regid=nogroup --clear-groups PROGRAM` (arguments and environment
/// still to add).
pub fn as_nobody(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(program);
    cmd
}

/// `unitd run --user UNIT` as `nobody` ([`as_nobody`]) with the test's `units/`, and a state
/// directory, `HOME` and `XDG_RUNTIME_DIR` it can write (`nobody-state`, `nobody-home`,
/// `nobody-xdg` in the test directory, mode 0777, created if missing); `PATH` is
/// [`STD_PATH`], `RUST_LOG=warn`, nothing else. Any exit code, bounded by [`TIMEOUT`].
pub fn unitd_run_as_nobody(dir: &TestDir, unit: &str) -> Output {
    let own = |sub: &str| {
        let p = dir.path().join(sub);
        fs::create_dir_all(&p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o777)).unwrap();
        p
    };
    let (state, xdg, home) = (own("nobody-state"), own("nobody-xdg"), own("nobody-home"));
    let mut cmd = as_nobody(unitd_bin());
    cmd.args(["run", "--user", "--unit-path"])
        .arg(dir.units())
        .arg("--state-dir")
        .arg(&state)
        .arg(unit)
        .env_clear()
        .env("PATH", STD_PATH)
        .env("HOME", &home)
        .env("XDG_RUNTIME_DIR", &xdg)
        .env("RUST_LOG", "warn");
    run_with_timeout(&mut cmd, &format!("nobody: unitd run {unit}"), TIMEOUT)
}

/// `PROGRAM ARGS…` as root in the mount namespace of process `pid` (`nsenter --mount`), e.g.
/// a namespaced daemon's, with exactly the environment `env`; any exit code, bounded by
/// [`TIMEOUT`].
pub fn in_mount_ns_of(pid: u32, program: &str, args: &[&str], env: &[(String, String)]) -> Output {
    let mut cmd = Command::new("nsenter");
    cmd.arg(format!("--mount=/proc/{pid}/ns/mnt"))
        .arg(program)
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    run_with_timeout(
        &mut cmd,
        &format!("nsenter {program} {}", args.join(" ")),
        TIMEOUT,
    )
}

/// The stock `systemctl --no-pager ARGS…` as `nobody:nogroup` without supplementary groups
/// (`setpriv`), in [`in_namespace`] with exactly `env`; any exit code, bounded by [`TIMEOUT`].
pub fn systemctl_as_nobody(env: &[(String, String)], args: &[&str]) -> Output {
    let mut full = vec![
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "systemctl",
        "--no-pager",
    ];
    full.extend_from_slice(args);
    let mut cmd = in_namespace("setpriv", &full, env);
    run_with_timeout(
        &mut cmd,
        &format!("nobody: systemctl {}", args.join(" ")),
        TIMEOUT,
    )
}

/// Environment for stock clients talking to a private session bus.
pub fn client_env(bus_address: &str, xdg_runtime_dir: &Path) -> Vec<(String, String)> {
    vec![
        ("PATH".into(), STD_PATH.into()),
        // Never the real home: nothing under ~/.config may influence the client.
        (
            "HOME".into(),
            xdg_runtime_dir
                .parent()
                .unwrap_or(xdg_runtime_dir)
                .join("home")
                .display()
                .to_string(),
        ),
        ("LANG".into(), "C.UTF-8".into()),
        ("DBUS_SESSION_BUS_ADDRESS".into(), bus_address.into()),
        (
            "XDG_RUNTIME_DIR".into(),
            xdg_runtime_dir.display().to_string(),
        ),
        ("SYSTEMD_IGNORE_CHROOT".into(), "1".into()),
        ("SYSTEMD_COLORS".into(), "0".into()),
        ("SYSTEMD_PAGER".into(), "".into()),
        ("SYSTEMD_LESS".into(), "".into()),
        ("TERM".into(), "dumb".into()),
        ("COLUMNS".into(), "500".into()),
    ]
}

/// The stock `systemctl --user`, run inside [`in_namespace`] against a private session bus.
#[derive(Debug, Clone)]
pub struct Systemctl {
    env: Vec<(String, String)>,
    /// Per-call timeout.
    pub timeout: Duration,
}

impl Systemctl {
    /// A runner for the bus at `bus_address`, with `$XDG_RUNTIME_DIR` = `xdg_runtime_dir`.
    pub fn new(bus_address: &str, xdg_runtime_dir: &Path) -> Systemctl {
        Systemctl {
            env: client_env(bus_address, xdg_runtime_dir),
            timeout: TIMEOUT,
        }
    }

    /// `systemctl --user --no-pager ARGS…`.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut full = vec!["--user", "--no-pager"];
        full.extend_from_slice(args);
        let mut cmd = in_namespace("systemctl", &full, &self.env);
        run_with_timeout(
            &mut cmd,
            &format!("systemctl {}", full.join(" ")),
            self.timeout,
        )
    }

    /// Run any program in the same namespace and environment (e.g. busctl, dbus-send).
    pub fn run_other(&self, program: &str, args: &[&str]) -> Output {
        let mut cmd = in_namespace(program, args, &self.env);
        run_with_timeout(
            &mut cmd,
            &format!("{program} {}", args.join(" ")),
            self.timeout,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Daemon
// ---------------------------------------------------------------------------------------------

/// `unitd serve --user` started by the test (not bus-activated).
pub struct Daemon {
    child: Child,
    log: PathBuf,
    exit: Option<ExitStatus>,
}

impl Daemon {
    /// Spawn `unitd serve --user --bus ADDR --unit-path DIR/units --state-dir DIR/state` and
    /// wait until it owns `org.freedesktop.systemd1`. (Reference mode: the real systemd.)
    pub fn spawn(dir: &TestDir, bus: &TestBus) -> Daemon {
        if reference_mode() {
            return Self::spawn_reference(dir, bus);
        }
        let log = dir.path().join("unitd.log");
        let log_file = fs::File::create(&log).expect("create daemon log");
        let log_file2 = log_file.try_clone().expect("dup daemon log");
        let mut env = daemon_env(dir);
        env.push(("DBUS_SESSION_BUS_ADDRESS".into(), bus.address().into()));
        let child = Command::new(unitd_bin())
            .args(["serve", "--user", "--bus", bus.address(), "--unit-path"])
            .arg(dir.units())
            .arg("--state-dir")
            .arg(dir.state())
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_file))
            .stderr(Stdio::from(log_file2))
            .spawn()
            .expect("spawn unitd serve");
        let mut d = Daemon {
            child,
            log,
            exit: None,
        };
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if bus.name_has_owner(SYSTEMD1) {
                break;
            }
            if let Ok(Some(status)) = d.child.try_wait() {
                d.exit = Some(status);
                panic!(
                    "unitd serve exited ({status}) before owning {SYSTEMD1}.\n--- unitd log ---\n{}",
                    d.log_text()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "unitd serve did not own {SYSTEMD1} within {TIMEOUT:?}.\n--- unitd log ---\n{}",
                    d.log_text()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
        // The owner must be the process we started.
        if let Some(owner) = bus.connection_pid(SYSTEMD1) {
            assert_eq!(
                owner,
                d.pid(),
                "{SYSTEMD1} is owned by PID {owner}, not by the unitd we started"
            );
        }
        d
    }

    /// Reference mode: the real `systemd --user` on the test's unit directory, ready once
    /// `systemctl --user` gets an answer through `$XDG_RUNTIME_DIR/systemd/private`.
    fn spawn_reference(dir: &TestDir, bus: &TestBus) -> Daemon {
        let reference_units = dir.path().join("reference-units");
        fs::create_dir_all(&reference_units).expect("create reference unit dir");
        fs::write(
            reference_units.join("default.target"),
            "[Unit]\nDescription=Reference default target\n",
        )
        .expect("write default.target");
        // The special units services depend on by default, and exit.target (SIGTERM) — but
        // not the host's other user units.
        for special in [
            "basic.target",
            "sockets.target",
            "timers.target",
            "paths.target",
            "shutdown.target",
            "exit.target",
            "systemd-exit.service",
            "app.slice",
        ] {
            let from = Path::new("/usr/lib/systemd/user").join(special);
            if from.exists() {
                fs::copy(&from, reference_units.join(special)).expect("copy special unit");
            }
        }
        let log = dir.path().join("systemd.log");
        let log_file = fs::File::create(&log).expect("create reference log");
        let log_file2 = log_file.try_clone().expect("dup reference log");
        let mut env = daemon_env(dir);
        env.push(("DBUS_SESSION_BUS_ADDRESS".into(), bus.address().into()));
        env.push((
            "SYSTEMD_UNIT_PATH".into(),
            format!("{}:{}", dir.units().display(), reference_units.display()),
        ));
        let mut cmd = in_namespace(
            "/lib/systemd/systemd",
            &["--user", "--log-target=console", "--log-level=debug"],
            &env,
        );
        let child = cmd
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_file))
            .stderr(Stdio::from(log_file2))
            .spawn()
            .expect("spawn systemd --user");
        let mut d = Daemon {
            child,
            log,
            exit: None,
        };
        let systemctl = Systemctl::new(bus.address(), &dir.xdg());
        let deadline = Instant::now() + TIMEOUT;
        while !(dir.xdg().join("systemd/private").exists()
            && systemctl.run(&["show", "-p", "Version"]).code == 0)
        {
            if !d.running() || Instant::now() >= deadline {
                panic!(
                    "systemd --user did not come up.\n--- log ---\n{}",
                    tail(&d.log_text(), 60)
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
        d
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
    pub fn log_text(&self) -> String {
        read_lossy(&self.log)
    }
    /// True while the process has not exited.
    pub fn running(&mut self) -> bool {
        if self.exit.is_some() {
            return false;
        }
        match self.child.try_wait() {
            Ok(Some(s)) => {
                self.exit = Some(s);
                false
            }
            _ => true,
        }
    }
    /// SIGTERM, wait (bounded by [`TIMEOUT`]) for exit; returns the status. SIGKILL only if
    /// the daemon ignores SIGTERM that long.
    pub fn terminate(&mut self) -> ExitStatus {
        if let Some(s) = self.exit {
            return s;
        }
        let s = stop_child(&mut self.child, TIMEOUT);
        self.exit = Some(s);
        s
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.terminate();
    }
}

// ---------------------------------------------------------------------------------------------
// UserManager: the fixture the acceptance tests use
// ---------------------------------------------------------------------------------------------

/// How the daemon gets started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The test spawns `unitd serve --user --bus ADDR …` itself.
    Spawned,
    /// The bus activates it on the first call (activation file in the bus's servicedir).
    Activated,
}

/// A private session bus, a `unitd serve --user` on it, and the stock `systemctl --user`.
pub struct UserManager {
    daemon: Option<Daemon>,
    activated: RefCell<Option<TrackedPid>>,
    tracked: RefCell<Vec<TrackedPid>>,
    systemctl: Systemctl,
    pub bus: TestBus,
    pub dir: TestDir,
}

impl UserManager {
    /// Write `units` and start bus + daemon. `None` (after printing `skipped: …`) when the
    /// real-component environment is missing outside CI.
    pub fn start(units: &[(&str, &str)]) -> Option<UserManager> {
        Self::start_with(Start::Spawned, units)
    }

    /// As [`Self::start`], choosing how the daemon starts.
    pub fn start_with(how: Start, units: &[(&str, &str)]) -> Option<UserManager> {
        Self::start_with_args(how, units, &[])
    }

    /// As [`Self::start_with`]; with [`Start::Activated`], `extra` is appended to the
    /// activation file's `unitd serve --user …` line (e.g. `--exit-idle 1`).
    pub fn start_with_args(
        how: Start,
        units: &[(&str, &str)],
        extra: &[&str],
    ) -> Option<UserManager> {
        if !RealEnv::check() {
            return None;
        }
        if how == Start::Activated && skip_in_reference_mode("bus activation starts unitd") {
            return None;
        }
        let dir = TestDir::new();
        for (name, text) in units {
            dir.write_unit(name, text);
        }
        let env = daemon_env(&dir);
        if how == Start::Activated {
            let mut exec = format!(
                "{} serve --user --unit-path {} --state-dir {}",
                unitd_bin().display(),
                dir.units().display(),
                dir.state().display()
            );
            for arg in extra {
                exec.push(' ');
                exec.push_str(arg);
            }
            write_activation_file(&dir, &exec);
        }
        let bus = TestBus::start(&dir, BusKind::Session, &env);
        let daemon = match how {
            Start::Spawned => Some(Daemon::spawn(&dir, &bus)),
            Start::Activated => None,
        };
        let systemctl = Systemctl::new(bus.address(), &dir.xdg());
        Some(UserManager {
            daemon,
            activated: RefCell::new(None),
            tracked: RefCell::new(Vec::new()),
            systemctl,
            bus,
            dir,
        })
    }

    /// The daemon's log (spawned: its own file; activated: the bus log, which it inherits).
    pub fn daemon_log(&self) -> String {
        match &self.daemon {
            Some(d) => d.log_text(),
            None => self.bus.log_text(),
        }
    }

    /// PID of the daemon (spawned, or the activated owner of the name once known).
    pub fn daemon_pid(&self) -> Option<u32> {
        match &self.daemon {
            Some(d) => Some(d.pid()),
            None => self.record_activated(),
        }
    }

    /// Is the daemon still running?
    pub fn daemon_running(&mut self) -> bool {
        match &mut self.daemon {
            Some(d) => d.running(),
            None => self.activated.borrow().is_some_and(|t| t.alive()),
        }
    }

    /// Access the spawned daemon (None when bus-activated).
    pub fn daemon_mut(&mut self) -> Option<&mut Daemon> {
        self.daemon.as_mut()
    }

    /// Forget the recorded PID of a bus-activated daemon that has exited by itself (e.g.
    /// `--exit-idle`), so the next call's re-activated instance is recorded (and stopped at
    /// teardown) instead.
    pub fn forget_activated(&self) {
        *self.activated.borrow_mut() = None;
    }

    /// Once the bus has activated the daemon, remember its PID (asked from the bus).
    fn record_activated(&self) -> Option<u32> {
        if let Some(t) = *self.activated.borrow() {
            return Some(t.pid);
        }
        let pid = self.bus.connection_pid(SYSTEMD1)?;
        *self.activated.borrow_mut() = Some(TrackedPid::new(pid));
        Some(pid)
    }

    /// `systemctl --user ARGS…` (in the namespace, against the private bus).
    pub fn systemctl(&self, args: &[&str]) -> Output {
        let out = self.systemctl.run(args);
        if self.daemon.is_none() {
            self.record_activated();
        }
        out
    }

    /// The stock-client runner (namespace + environment), e.g. for `run_other`.
    pub fn systemctl_runner(&self) -> &Systemctl {
        &self.systemctl
    }

    /// Run `systemctl --user ARGS…` and require exit code `code`; returns the output.
    #[track_caller]
    pub fn expect(&self, code: i32, args: &[&str]) -> Output {
        let out = self.systemctl(args);
        if out.code != code {
            panic!(
                "expected exit {code}\n{}\n--- daemon log (tail) ---\n{}",
                out.dump(),
                tail(&self.daemon_log(), 80)
            );
        }
        out
    }

    /// Panic with `msg`, the output and the daemon log unless `cond`.
    #[track_caller]
    pub fn check(&self, cond: bool, msg: &str, out: &Output) {
        if !cond {
            panic!(
                "{msg}\n{}\n--- daemon log (tail) ---\n{}",
                out.dump(),
                tail(&self.daemon_log(), 80)
            );
        }
    }

    /// `systemctl --user show -p PROP --value UNIT`, trimmed.
    #[track_caller]
    pub fn show(&self, unit: &str, prop: &str) -> String {
        self.expect(0, &["show", "-p", prop, "--value", unit])
            .stdout
            .trim()
            .to_string()
    }

    /// `systemctl --user show -p PROP --value` of the manager itself, trimmed.
    #[track_caller]
    pub fn show_manager(&self, prop: &str) -> String {
        self.expect(0, &["show", "-p", prop, "--value"])
            .stdout
            .trim()
            .to_string()
    }

    /// `MainPID` of `unit` (0 if none); a non-zero PID is recorded for teardown.
    #[track_caller]
    pub fn main_pid(&self, unit: &str) -> u32 {
        let v = self.show(unit, "MainPID");
        let pid: u32 = v
            .parse()
            .unwrap_or_else(|_| panic!("MainPID of {unit} is not a number: {v:?}"));
        if pid != 0 {
            self.track(pid);
        }
        pid
    }

    /// Remember a service process so teardown can kill it if the daemon leaves it behind.
    pub fn track(&self, pid: u32) {
        let mut t = self.tracked.borrow_mut();
        if !t.iter().any(|x| x.pid == pid) {
            t.push(TrackedPid::new(pid));
        }
    }

    /// Wait until `pid` is gone.
    #[track_caller]
    pub fn wait_gone(&self, pid: u32, what: &str) {
        let deadline = Instant::now() + TIMEOUT;
        while pid_alive(pid) {
            if Instant::now() >= deadline {
                panic!(
                    "{what}: PID {pid} ({:?}) still alive after {TIMEOUT:?}\n--- daemon log (tail) ---\n{}",
                    proc_cmdline(pid),
                    tail(&self.daemon_log(), 80)
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Wait until `show -p PROP --value UNIT` satisfies `pred`; returns that value.
    #[track_caller]
    pub fn wait_prop(
        &self,
        unit: &str,
        prop: &str,
        what: &str,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let v = self.show(unit, prop);
            if pred(&v) {
                return v;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{what}: {unit} {prop}={v:?} after {TIMEOUT:?}\n--- daemon log (tail) ---\n{}",
                    tail(&self.daemon_log(), 80)
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Write a unit file into the daemon's unit directory.
    pub fn write_unit(&self, name: &str, text: &str) -> PathBuf {
        self.dir.write_unit(name, text)
    }

    /// Write an executable script into the test directory.
    pub fn write_script(&self, name: &str, body: &str) -> PathBuf {
        self.dir.write_script(name, body)
    }
}

impl UserManager {
    /// [`UserManager::start`] for a test that also needs the stock clients `tools` (such as
    /// `dbus-monitor`, `busctl`): `None` after printing `skipped: …` when one is missing
    /// outside CI; in CI a missing tool fails the test.
    pub fn start_requiring(units: &[(&str, &str)], tools: &[&str]) -> Option<UserManager> {
        let m = UserManager::start(units)?;
        let missing: Vec<&str> = tools
            .iter()
            .copied()
            .filter(|t| which(t).is_none())
            .collect();
        if !missing.is_empty() {
            assert!(!in_ci(), "{} required in CI", missing.join(", "));
            eprintln!("skipped: {} not installed", missing.join("/"));
            return None;
        }
        Some(m)
    }

    /// The stock `dbus-send --print-reply` calling `org.freedesktop.systemd1.Manager.MEMBER ARGS…`
    /// on the manager object; (exit code, stdout + stderr). Bounded (20 s).
    pub fn manager_call(&self, member: &str, args: &[&str]) -> (i32, String) {
        let out = run_with_timeout(
            Command::new("dbus-send")
                .arg(format!("--bus={}", self.bus.address()))
                .args([
                    "--print-reply",
                    &format!("--dest={SYSTEMD1}"),
                    "/org/freedesktop/systemd1",
                    &format!("{SYSTEMD1}.Manager.{member}"),
                ])
                .args(args),
            &format!("dbus-send {member}"),
            Duration::from_secs(20),
        );
        (out.code, out.all())
    }
}

impl Drop for UserManager {
    fn drop(&mut self) {
        // 1. The spawned daemon: SIGTERM (it should stop its services), SIGKILL after TIMEOUT.
        if let Some(mut d) = self.daemon.take() {
            d.terminate();
        }
        // 2. An activated daemon: its PID was asked from the bus (before the bus goes away).
        let activated = *self.activated.borrow();
        let activated = activated.or_else(|| {
            if self.daemon.is_none() {
                self.bus.connection_pid(SYSTEMD1).map(TrackedPid::new)
            } else {
                None
            }
        });
        if let Some(t) = activated {
            t.terminate(TIMEOUT);
        }
        // 3. Service processes the test saw and the daemon left behind.
        let leftovers: Vec<TrackedPid> = self
            .tracked
            .borrow()
            .iter()
            .copied()
            .filter(TrackedPid::alive)
            .collect();
        for t in &leftovers {
            t.terminate(Duration::from_secs(1));
        }
        if !leftovers.is_empty() && !thread::panicking() {
            let pids: Vec<u32> = leftovers.iter().map(|t| t.pid).collect();
            panic!(
                "service processes {pids:?} were still running after unitd exited on SIGTERM \
                 (killed them now)"
            );
        }
        // 4. The bus and the directory drop next (field order).
    }
}

/// Split `list-units` output into rows of whitespace-separated columns, dropping the `●`
/// marker systemctl puts in front of failed units.
pub fn list_units_rows(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .map(|l| {
            l.split_whitespace()
                .filter(|w| *w != "●" && *w != "*")
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|cols| !cols.is_empty())
        .collect()
}

/// The `list-units` row for `unit`, if listed.
pub fn list_units_row(stdout: &str, unit: &str) -> Option<Vec<String>> {
    list_units_rows(stdout)
        .into_iter()
        .find(|cols| cols.first().map(String::as_str) == Some(unit))
}

// ---------------------------------------------------------------------------------------------
// Python clients (pystemd, Ansible)
// ---------------------------------------------------------------------------------------------

/// Python packages the client tests install, all at once (one install per checkout).
const PYTHON_PACKAGES: &[&str] = &["pystemd==0.15.3", "ansible-core"];

/// A Python virtual environment under `target/pyenv/venv` with pystemd and ansible-core
/// installed from PyPI, built once and reused by every test process (a lock file serializes
/// the first install). pystemd is a source distribution that needs libsystemd's headers: when
/// they are not installed, `libsystemd-dev` is fetched with `apt-get download` and unpacked
/// into `target/pyenv/sysroot` (nothing on the host changes). Returns the venv's `bin`
/// directory, or `None` after printing `skipped: …` when that is impossible outside CI (not
/// root, no network); under CI a failure panics.
pub fn python_env(test: &str) -> Option<PathBuf> {
    static RESULT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match RESULT.get_or_init(build_python_env) {
        Ok(bin) => Some(bin.clone()),
        Err(why) if in_ci() => panic!("{test}: cannot set up the Python clients: {why}"),
        Err(why) => {
            eprintln!("skipped: {test}: {why}");
            None
        }
    }
}

fn build_python_env() -> Result<PathBuf, String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("needs root (real-component tests)".into());
    }
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
        .join("pyenv");
    fs::create_dir_all(&base).map_err(|e| format!("{}: {e}", base.display()))?;
    let lock = fs::File::create(base.join(".lock")).map_err(|e| e.to_string())?;
    lock.lock()
        .map_err(|e| format!("locking {}: {e}", base.display()))?;
    let venv = base.join("venv");
    let bin = venv.join("bin");
    let marker = venv.join(format!(".unitd-ready-{}", PYTHON_PACKAGES.join("+")));
    if marker.exists() {
        return Ok(bin);
    }
    let limit = Duration::from_secs(600);
    let step = |cmd: &mut Command, what: &str| -> Result<(), String> {
        let out = run_with_timeout(cmd, what, limit);
        if out.code == 0 {
            Ok(())
        } else {
            Err(format!("`{what}` failed:\n{}", out.dump()))
        }
    };
    if !bin.join("python").exists() {
        step(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        )?;
    }
    let mut pip = Command::new(bin.join("pip"));
    pip.args(["install", "--disable-pip-version-check", "-q"])
        .args(PYTHON_PACKAGES);
    let have_headers = Path::new("/usr/include/systemd/sd-bus.h").exists()
        && Command::new("pkg-config")
            .args(["--exists", "libsystemd"])
            .status()
            .is_ok_and(|s| s.success());
    if !have_headers {
        let sysroot = base.join("sysroot");
        let pc_dir = sysroot.join("usr/lib/x86_64-linux-gnu/pkgconfig");
        if !pc_dir.join("libsystemd.pc").exists() {
            let debs = base.join("deb");
            let _ = fs::remove_dir_all(&debs);
            fs::create_dir_all(&debs).map_err(|e| e.to_string())?;
            let download = || {
                step(
                    Command::new("apt-get")
                        .args(["download", "libsystemd-dev"])
                        .current_dir(&debs),
                    "apt-get download libsystemd-dev",
                )
            };
            // A fresh image has no package lists yet.
            if download().is_err() {
                step(Command::new("apt-get").arg("update"), "apt-get update")?;
                download()?;
            }
            let deb = fs::read_dir(&debs)
                .map_err(|e| e.to_string())?
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "deb"))
                .ok_or("apt-get download left no .deb")?;
            step(
                Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&sysroot),
                "dpkg-deb -x libsystemd-dev",
            )?;
            // Link against the installed runtime library; point the .pc file at the sysroot.
            let so = sysroot.join("usr/lib/x86_64-linux-gnu/libsystemd.so");
            let _ = fs::remove_file(&so);
            std::os::unix::fs::symlink("/usr/lib/x86_64-linux-gnu/libsystemd.so.0", &so)
                .map_err(|e| e.to_string())?;
            let pc = pc_dir.join("libsystemd.pc");
            let text = fs::read_to_string(&pc).map_err(|e| e.to_string())?;
            let root = sysroot.display().to_string();
            let text: String = text
                .lines()
                .map(|l| {
                    if let Some(v) = l.strip_prefix("prefix=") {
                        format!("prefix={root}{v}\n")
                    } else if let Some(v) = l.strip_prefix("libdir=") {
                        format!("libdir={root}{v}\n")
                    } else if let Some(v) = l.strip_prefix("includedir=") {
                        format!("includedir={root}{v}\n")
                    } else {
                        format!("{l}\n")
                    }
                })
                .collect();
            fs::write(&pc, text).map_err(|e| e.to_string())?;
        }
        pip.env("PKG_CONFIG_PATH", &pc_dir)
            .env("CFLAGS", format!("-I{}/usr/include", sysroot.display()))
            .env(
                "LDFLAGS",
                format!("-L{}/usr/lib/x86_64-linux-gnu", sysroot.display()),
            );
    }
    step(&mut pip, "pip install pystemd ansible-core")?;
    fs::write(&marker, b"").map_err(|e| e.to_string())?;
    Ok(bin)
}
