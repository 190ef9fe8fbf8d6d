//! `unitd init` as PID 1 of its own PID, mount and network namespaces
//! (`unshare --pid --fork --mount-proc --mount --net`, a tmpfs over `/run`), in the
//! file-system layout of `contrib/Dockerfile` (see [`NAMESPACE_SETUP`]); clients run inside
//! through `nsenter`. Shared by tests/init_mode.rs and tests/ansible_init.rs.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::*;

/// Debian's unit files for the system bus (package `dbus`).
pub const DBUS_SOCKET: &str = "/lib/systemd/system/dbus.socket";
pub const DBUS_SERVICE: &str = "/lib/systemd/system/dbus.service";

/// The shutdown budget given to unitd: far above every `TimeoutStopSec=` of the tests'
/// units, so exit status 0 means every unit stopped within it (running out makes unitd exit 1).
pub const BUDGET_SECS: &str = "60";

/// The namespace's file system, set up before unitd starts (`$0`: the project's
/// `dbus-policy/`, `$1`: the test's stand-in for `/etc/systemd/system`; then unitd's argv) —
/// the layout of `contrib/Dockerfile`: its own `/run`, the project's bus policy in
/// `/etc/dbus-1/system.d/`, every `.wants/` directory Debian ships in `/lib/systemd/system`
/// emptied except for `dbus.socket` and `dbus.service`, and the test's units in
/// `/etc/systemd/system`. Only tmpfs and bind mounts of the namespace: nothing on the host
/// changes.
pub const NAMESPACE_SETUP: &str = "set -e
    mount -t tmpfs -o mode=755 tmpfs /run
    mount -t tmpfs -o mode=755 tmpfs /etc/dbus-1/system.d
    cp \"$0\"/*.conf /etc/dbus-1/system.d/
    for d in /lib/systemd/system/*.wants /usr/lib/systemd/system/*.wants; do
        if [ -d \"$d\" ]; then mount -t tmpfs -o mode=755 tmpfs \"$d\"; fi
    done
    ln -sf ../dbus.socket /lib/systemd/system/sockets.target.wants/dbus.socket
    ln -sf ../dbus.service /lib/systemd/system/multi-user.target.wants/dbus.service
    mount --bind \"$1\" /etc/systemd/system
    shift
    exec \"$@\"";

/// Stop a namespace whose PID 1 is unitd (`pid` as the host sees it; `unshare` its parent,
/// our child), unless it already ended: SIGTERM, then SIGKILL after the timeout. Once unitd is
/// gone, the kernel kills the rest of the namespace.
pub fn stop_init(unshare: &mut Child, pid: u32) {
    if unshare.try_wait().ok().flatten().is_some() {
        return;
    }
    send_signal(pid, "TERM");
    let deadline = Instant::now() + TIMEOUT;
    while unshare.try_wait().ok().flatten().is_none() {
        if Instant::now() >= deadline {
            send_signal(pid, "KILL");
            let _ = unshare.wait();
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// `unshare` into new PID, mount and network namespaces (private propagation, a fresh
/// `/proc`), running `sh -c script`; the caller appends the script's arguments.
pub fn unshare_init(script: &str) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--pid",
        "--fork",
        "--mount-proc",
        "--mount",
        "--net",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
    ]);
    cmd
}

/// Like [`unshare_init`], with the IPC and UTS namespaces of a container too (SysV IPC,
/// POSIX message queues and the host name are the namespace's own).
pub fn unshare_container(script: &str) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--pid",
        "--fork",
        "--mount-proc",
        "--mount",
        "--net",
        "--ipc",
        "--uts",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
    ]);
    cmd
}

/// Spawn `cmd` (from [`unshare_init`], ending in `unitd init …`) with only `PATH` and
/// `UNITD_LOG` set and both output streams in `log`, and wait until unitd runs as PID 1 of the
/// new namespace. Returns the `unshare` child and unitd's PID as the host sees it.
pub fn spawn_init(mut cmd: Command, log: &Path) -> (Child, u32) {
    let f = fs::File::create(log).unwrap();
    cmd.env_clear()
        .env("PATH", STD_PATH)
        .env("UNITD_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::from(f.try_clone().unwrap()))
        .stderr(Stdio::from(f));
    let unshare = cmd.spawn().expect("spawn unshare");
    let upid = unshare.id();
    let pid = wait_for_value("unitd to run as PID 1 of the namespace", TIMEOUT, || {
        let children = fs::read_to_string(format!("/proc/{upid}/task/{upid}/children")).ok()?;
        let pid: u32 = children.split_whitespace().next()?.parse().ok()?;
        let argv = proc_cmdline(pid);
        (argv.get(1).map(String::as_str) == Some("init")).then_some(pid)
    });
    (unshare, pid)
}

/// `unitd init` as PID 1 of its own PID, mount and network namespaces.
pub struct InitNs {
    /// The test directory; `units/` is the namespace's `/etc/systemd/system`.
    pub dir: TestDir,
    /// `unshare`, our child; it exits with unitd's status.
    pub unshare: Child,
    /// unitd's PID as the host sees it.
    pub pid: u32,
    /// unitd's stdout and stderr.
    pub log: PathBuf,
}

/// Whether the test can run: the harness's tools plus `nsenter` and Debian's dbus units.
pub fn prerequisites() -> bool {
    if !RealEnv::check() || skip_in_reference_mode("needs unitd as PID 1") {
        return false;
    }
    let mut missing = Vec::new();
    if which("nsenter").is_none() {
        missing.push("nsenter (apt-get install util-linux)".to_string());
    }
    for f in [
        DBUS_SOCKET,
        DBUS_SERVICE,
        "/etc/dbus-1/system.d",
        "/etc/systemd/system",
        "/lib/systemd/system/sockets.target.wants",
        "/lib/systemd/system/multi-user.target.wants",
    ] {
        if !Path::new(f).exists() {
            missing.push(format!("{f} (apt-get install dbus)"));
        }
    }
    if missing.is_empty() {
        return true;
    }
    let why = format!("missing: {}", missing.join(", "));
    assert!(!in_ci(), "{why}");
    eprintln!("skipped: {why}");
    false
}

/// The host PIDs of the processes in the PID namespace whose init is `init`, with their
/// state letter and PID inside the namespace.
pub fn ns_processes(init: u32) -> Vec<(u32, char, u32)> {
    let Ok(ns) = fs::read_link(format!("/proc/{init}/ns/pid")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if fs::read_link(format!("/proc/{pid}/ns/pid")).ok().as_ref() != Some(&ns) {
            continue;
        }
        let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
                .unwrap_or("")
                .to_string()
        };
        let state = field("State:").chars().next().unwrap_or('?');
        let ns_pid = field("NSpid:")
            .split_whitespace()
            .last()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        out.push((pid, state, ns_pid));
    }
    out
}

/// `program args…` entered into the PID, mount and network namespaces of `pid` with a plain
/// client environment (`C.UTF-8`, no colours or pager, wide columns), over the bus
/// (`SYSTEMCTL_FORCE_BUS=1`) when `force_bus`, plus `env`; any exit code, bounded by `timeout`.
pub fn nsenter_client(
    pid: u32,
    program: &str,
    args: &[&str],
    force_bus: bool,
    env: &[(String, String)],
    timeout: Duration,
) -> Output {
    let pid = pid.to_string();
    let mut cmd = Command::new("nsenter");
    cmd.args(["-t", &pid, "-p", "-m", "-n", "--"])
        .arg(program)
        .args(args)
        .env_clear()
        .env("PATH", STD_PATH)
        .env("LANG", "C.UTF-8")
        .env("SYSTEMD_COLORS", "0")
        .env("SYSTEMD_PAGER", "")
        .env("TERM", "dumb")
        .env("COLUMNS", "500")
        // Over the bus, not the private socket /run/systemd/private.
        .env("SYSTEMCTL_FORCE_BUS", if force_bus { "1" } else { "0" })
        .envs(env.iter().map(|(k, v)| (k, v)));
    run_with_timeout(&mut cmd, &format!("{program} {}", args.join(" ")), timeout)
}

impl InitNs {
    /// Write the units (`(name, text)`; `enable` ones are linked into
    /// `multi-user.target.wants/`), link Debian's dbus units, start `unitd init` and wait
    /// until it owns `org.freedesktop.systemd1` and `default.target` is active.
    pub fn start(units: &[(&str, &str, bool)]) -> InitNs {
        InitNs::start_with_budget(units, BUDGET_SECS)
    }

    /// [`InitNs::start`] with `--shutdown-timeout budget`.
    pub fn start_with_budget(units: &[(&str, &str, bool)], budget: &str) -> InitNs {
        let dir = TestDir::new();
        // Stands in for /etc/systemd/system (bind-mounted there inside the namespace).
        let etc = dir.units();
        fs::create_dir_all(etc.join("multi-user.target.wants")).unwrap();
        std::os::unix::fs::symlink(
            "/lib/systemd/system/multi-user.target",
            etc.join("default.target"),
        )
        .unwrap();
        // As contrib/Dockerfile does: no logind in a container (systemctl poweroff's login1
        // call then fails at once, answered by ActivationFailure, and it falls back to
        // poweroff.target).
        std::os::unix::fs::symlink("/dev/null", etc.join("systemd-logind.service")).unwrap();
        for (name, text, enable) in units {
            let text = text.replace("@T@", &dir.path().display().to_string());
            dir.write_unit(name, &text);
            if *enable {
                // What `systemctl enable` writes (the path as unitd sees it).
                let link = Path::new("/etc/systemd/system").join(name);
                std::os::unix::fs::symlink(&link, etc.join("multi-user.target.wants").join(name))
                    .unwrap();
            }
        }
        let log = dir.path().join("unitd.log");
        let mut cmd = unshare_init(NAMESPACE_SETUP);
        cmd.arg(repo_root().join("dbus-policy"))
            .arg(&etc)
            .arg(unitd_bin())
            .arg("init")
            .arg("--state-dir")
            .arg(dir.state())
            .args(["--shutdown-timeout", budget]);
        let (unshare, pid) = spawn_init(cmd, &log);
        let ns = InitNs {
            dir,
            unshare,
            pid,
            log,
        };
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let out = ns.run(
                "dbus-send",
                &[
                    "--system",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.systemd1",
                ],
            );
            if out.stdout.contains("boolean true")
                && ns.systemctl(&["is-active", "default.target"]).stdout.trim() == "active"
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "unitd init did not come up:\n{}\n{}",
                out.dump(),
                ns.log_text()
            );
            thread::sleep(Duration::from_millis(50));
        }
        ns
    }

    pub fn log_text(&self) -> String {
        read_lossy(&self.log)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Run `program args…` inside the namespaces (PID, mount, network) with a plain client
    /// environment: `/run/dbus/system_bus_socket` is the namespace's bus.
    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        self.run_via(program, args, true)
    }

    /// [`InitNs::run`]; `force_bus == false` lets root's systemctl use unitd's private socket
    /// (`/run/systemd/private`) instead of the bus.
    pub fn run_via(&self, program: &str, args: &[&str], force_bus: bool) -> Output {
        self.run_in(program, args, force_bus, &[], TIMEOUT)
    }

    /// [`InitNs::run_via`] with `env` added to the client environment and a `timeout` of
    /// its own (for long-running clients such as `ansible-playbook`).
    pub fn run_in(
        &self,
        program: &str,
        args: &[&str],
        force_bus: bool,
        env: &[(String, String)],
        timeout: Duration,
    ) -> Output {
        nsenter_client(self.pid, program, args, force_bus, env, timeout)
    }

    /// Stock `systemctl --no-pager ARGS…` (system scope) in the namespace.
    pub fn systemctl(&self, args: &[&str]) -> Output {
        let mut full = vec!["--no-pager"];
        full.extend_from_slice(args);
        self.run("systemctl", &full)
    }

    pub fn expect_ok(&self, args: &[&str]) -> Output {
        let out = self.systemctl(args);
        assert_eq!(out.code, 0, "{}\n{}", out.dump(), self.log_text());
        out
    }

    /// Wait until unitd (and with it `unshare`) exited; its exit code.
    pub fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(st) = self.unshare.try_wait().expect("wait for unshare") {
                return st.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "unitd init did not exit:\n{}",
                self.log_text()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The lines `file` (under the test directory) collected.
    pub fn lines(&self, file: &str) -> Vec<String> {
        fs::read_to_string(self.path().join(file))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for InitNs {
    fn drop(&mut self) {
        stop_init(&mut self.unshare, self.pid);
    }
}
