//! `unitd demo`: a self-contained playground for the stock `systemctl --user`.
//!
//! Owns: a private temporary directory holding a session-bus config (the checked-in
//! `dbus-policy/test/session.conf`: no standard service directories), the example units from
//! `units/` (embedded in the binary, so the demo works from any directory), a unit directory,
//! a state directory and an `XDG_RUNTIME_DIR`; and exactly two helper processes:
//! a private `dbus-daemon` and `<this binary> serve --user --bus ADDR --unit-path DIR
//! --state-dir DIR`. It prints the `export` lines after which `systemctl --user status
//! demo.service` works in another shell, waits for Ctrl-C/SIGTERM (or for a helper to die),
//! then stops the helpers by PID (unitd first, which stops its units; then the bus) and removes
//! the directory (kept, with its logs, when something failed). The units are loaded but not
//! started: the user starts them with systemctl.
//!
//! This is process *orchestration* of the demo's own two helpers, not service supervision:
//! services are forked, supervised and reaped by the `unitd serve` child, never here. The
//! architecture test (`tests/architecture.rs`, `ORCHESTRATION`) allows exactly `Command::new`
//! and `kill` in this file.

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;
use tokio::signal::unix::{SignalKind, signal as watch_signal};

/// The example units, embedded from `units/`.
pub const EXAMPLE_UNITS: &[(&str, &str)] = &[
    ("demo.service", include_str!("../units/demo.service")),
    (
        "demo-setup.service",
        include_str!("../units/demo-setup.service"),
    ),
    (
        "demo-forking.service",
        include_str!("../units/demo-forking.service"),
    ),
    ("demo.target", include_str!("../units/demo.target")),
];

/// The private session bus's configuration.
const SESSION_CONF: &str = include_str!("../dbus-policy/test/session.conf");

/// How long unitd may take to own its name, and to exit after SIGTERM, before we give up.
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// `unitd demo`.
pub fn demo_command() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("unitd demo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The demo's directory and helpers; dropping it stops the helpers and removes the directory.
struct Demo {
    dir: PathBuf,
    bus: Option<Child>,
    /// Held open so dbus-daemon never sees a closed stdout.
    _bus_stdout: Option<ChildStdout>,
    daemon: Option<Child>,
    /// Remove the directory on drop (only after a clean run; otherwise keep the logs).
    remove_dir: bool,
}

impl Demo {
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            stop_helper(&mut d, "unitd serve", HELPER_TIMEOUT);
        }
        if let Some(mut b) = self.bus.take() {
            stop_helper(&mut b, "dbus-daemon", Duration::from_secs(5));
        }
        if !self.remove_dir {
            eprintln!(
                "unitd demo: kept {} (logs) for inspection",
                self.dir.display()
            );
        } else if let Err(e) = fs::remove_dir_all(&self.dir) {
            eprintln!("unitd demo: could not remove {}: {e}", self.dir.display());
        }
    }
}

/// SIGTERM `child`, wait up to `grace`, then SIGKILL; always reaps it.
fn stop_helper(child: &mut Child, what: &str, grace: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let pid = Pid::from_raw(child.id() as i32);
    let _ = signal::kill(pid, Signal::SIGTERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!(
        "unitd demo: {what} (PID {}) ignored SIGTERM for {grace:?}; sending SIGKILL",
        child.id()
    );
    let _ = signal::kill(pid, Signal::SIGKILL);
    let _ = child.wait();
}

fn find_in_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

fn make_dir(p: &Path, mode: u32) -> Result<(), String> {
    fs::create_dir_all(p).map_err(|e| format!("create {}: {e}", p.display()))?;
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", p.display()))
}

/// A fresh, unique directory under `$TMPDIR`.
fn create_demo_dir() -> Result<PathBuf, String> {
    let base = std::env::temp_dir();
    for n in 0..100 {
        let p = base.join(format!("unitd-demo-{}-{n}", std::process::id()));
        match fs::create_dir(&p) {
            Ok(()) => {
                make_dir(&p, 0o755)?;
                return Ok(p);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("create {}: {e}", p.display())),
        }
    }
    Err(format!("no free unitd-demo-* name in {}", base.display()))
}

fn log_file(p: &Path) -> Result<fs::File, String> {
    fs::File::create(p).map_err(|e| format!("create {}: {e}", p.display()))
}

/// Does `name` have an owner on `address`? (Asked with dbus-send: the demo stays a plain
/// client of the bus; D-Bus code lives in `bus`.)
fn name_has_owner(address: &str, name: &str) -> bool {
    Command::new("dbus-send")
        .arg(format!("--bus={address}"))
        .args([
            "--print-reply=literal",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
        ])
        .arg(format!("string:{name}"))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("true"))
        .unwrap_or(false)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn run() -> Result<ExitCode, String> {
    for (tool, package) in [("dbus-daemon", "dbus-daemon"), ("dbus-send", "dbus-bin")] {
        if find_in_path(tool).is_none() {
            return Err(format!(
                "{tool} not found; install it with: apt-get install {package}"
            ));
        }
    }
    if find_in_path("systemctl").is_none() {
        eprintln!(
            "unitd demo: note: systemctl not found (apt-get install systemd) — needed to talk to the demo"
        );
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find own binary: {e}"))?;

    // Watch the signals we wait for before starting anything, so none is lost. These are
    // handlers, not a blocked mask: the helpers we spawn start with default dispositions.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("start the signal watcher: {e}"))?;
    let _rt_guard = rt.enter();
    let watch = |kind: SignalKind| watch_signal(kind).map_err(|e| format!("watch signal: {e}"));
    let mut sigint = watch(SignalKind::interrupt())?;
    let mut sigterm = watch(SignalKind::terminate())?;
    let mut sighup = watch(SignalKind::hangup())?;
    let mut sigchld = watch(SignalKind::child())?;

    let mut demo = Demo {
        dir: create_demo_dir()?,
        bus: None,
        _bus_stdout: None,
        daemon: None,
        remove_dir: false,
    };
    let units = demo.path("units");
    let state = demo.path("state");
    let xdg = demo.path("xdg");
    make_dir(&units, 0o755)?;
    make_dir(&state, 0o755)?;
    make_dir(&xdg, 0o700)?;
    // An empty $XDG_RUNTIME_DIR/systemd: dbus-update-activation-environment --systemd acts.
    make_dir(&xdg.join("systemd"), 0o755)?;
    for (name, text) in EXAMPLE_UNITS {
        let p = units.join(name);
        fs::write(&p, text).map_err(|e| format!("write {}: {e}", p.display()))?;
    }
    let conf = demo.path("session.conf");
    fs::write(&conf, SESSION_CONF).map_err(|e| format!("write {}: {e}", conf.display()))?;

    // 1. The private session bus. Its own process group: Ctrl-C reaches only us.
    let socket = demo.path("bus");
    let mut bus = Command::new("dbus-daemon")
        .arg(format!("--config-file={}", conf.display()))
        .arg(format!("--address=unix:path={}", socket.display()))
        .args(["--nofork", "--print-address"])
        .current_dir(&demo.dir)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file(&demo.path("bus.log"))?)
        .spawn()
        .map_err(|e| format!("start dbus-daemon: {e}"))?;
    let stdout = bus.stdout.take();
    demo.bus = Some(bus);
    let mut first = String::new();
    let mut reader = BufReader::new(stdout.ok_or("dbus-daemon has no stdout")?);
    reader
        .read_line(&mut first)
        .map_err(|e| format!("read the bus address: {e}"))?;
    demo._bus_stdout = Some(reader.into_inner());
    let address = first.trim().to_string();
    if address.is_empty() {
        return Err(format!(
            "dbus-daemon printed no address; see {}",
            demo.path("bus.log").display()
        ));
    }

    // 2. unitd serve --user on that bus.
    let daemon_log = demo.path("unitd.log");
    let log = log_file(&daemon_log)?;
    let log2 = log
        .try_clone()
        .map_err(|e| format!("dup {}: {e}", daemon_log.display()))?;
    let daemon = Command::new(&exe)
        .args(["serve", "--user", "--bus", &address, "--unit-path"])
        .arg(&units)
        .arg("--state-dir")
        .arg(&state)
        .env("XDG_RUNTIME_DIR", &xdg)
        .env("DBUS_SESSION_BUS_ADDRESS", &address)
        .env_remove("DBUS_STARTER_ADDRESS")
        .env_remove("DBUS_STARTER_BUS_TYPE")
        .current_dir(&demo.dir)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|e| format!("start {} serve: {e}", exe.display()))?;
    let daemon_pid = daemon.id();
    demo.daemon = Some(daemon);

    let deadline = Instant::now() + HELPER_TIMEOUT;
    while !name_has_owner(&address, "org.freedesktop.systemd1") {
        if let Some(Ok(Some(status))) = demo.daemon.as_mut().map(Child::try_wait) {
            return Err(format!(
                "unitd serve exited ({status}) before owning org.freedesktop.systemd1; see {}",
                daemon_log.display()
            ));
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "unitd serve did not own org.freedesktop.systemd1 within {HELPER_TIMEOUT:?}; see {}",
                daemon_log.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }

    let bus_pid = demo.bus.as_ref().map(Child::id).unwrap_or_default();
    println!("unitd demo is running.");
    println!("  directory:   {}", demo.dir.display());
    println!("  private bus: {address} (dbus-daemon PID {bus_pid})");
    println!(
        "  unitd:       PID {daemon_pid}, log {}",
        daemon_log.display()
    );
    println!(
        "  units:       {} (loaded, not started)",
        EXAMPLE_UNITS
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!();
    println!("In another shell, as the same user:");
    println!();
    println!("export DBUS_SESSION_BUS_ADDRESS={}", shell_quote(&address));
    println!(
        "export XDG_RUNTIME_DIR={}",
        shell_quote(&xdg.to_string_lossy())
    );
    println!("systemctl --user start demo.target");
    println!("systemctl --user status demo.service");
    println!("systemctl --user list-units 'demo*'");
    println!("curl http://127.0.0.1:8765/");
    println!(
        "{} logs --user --state-dir {} demo.service",
        shell_quote(&exe.to_string_lossy()),
        shell_quote(&state.to_string_lossy())
    );
    println!();
    println!("Press Ctrl-C here to stop the demo (stops all units, removes the directory).");

    // 3. Wait for Ctrl-C/SIGTERM/SIGHUP, or for a helper to die.
    let code = rt.block_on(async {
        loop {
            // A helper may have died before we started waiting: check first, then sleep.
            let daemon_exit = demo
                .daemon
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            let bus_exit = demo.bus.as_mut().and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = daemon_exit {
                eprintln!(
                    "unitd demo: unitd serve exited unexpectedly ({status}); last lines of {}:",
                    daemon_log.display()
                );
                let text = fs::read_to_string(&daemon_log).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                for l in &lines[lines.len().saturating_sub(20)..] {
                    eprintln!("{l}");
                }
                break ExitCode::FAILURE;
            }
            if let Some(status) = bus_exit {
                eprintln!("unitd demo: dbus-daemon exited unexpectedly ({status})");
                break ExitCode::FAILURE;
            }
            let stop = tokio::select! {
                _ = sigint.recv() => Some("SIGINT"),
                _ = sigterm.recv() => Some("SIGTERM"),
                _ = sighup.recv() => Some("SIGHUP"),
                _ = sigchld.recv() => None,
            };
            if let Some(name) = stop {
                eprintln!("unitd demo: {name}, stopping");
                demo.remove_dir = true;
                break ExitCode::SUCCESS;
            }
        }
    });
    drop(demo);
    Ok(code)
}
