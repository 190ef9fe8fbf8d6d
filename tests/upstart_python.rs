//! Acceptance: the upstart-dev 0.3.4 Python library from PyPI (pip-installed once into a
//! cache under `target/`), on Debian's `/usr/bin/python3` with `python3-dbus`, against
//! `unitd serve --system` on a private system-type bus with the shipped
//! `com.ubuntu.Upstart` policy: version, log priority get/set, the escaped job names,
//! `UpstartJob(name).start()` → running with the real PID, the post-order `start_on`
//! encoding, and `stop()` → the instance is gone (waiting) and the process too. Then the
//! same over Upstart's private socket (`DirectUpstartBus`, `unix:abstract=/com/ubuntu/upstart`,
//! in the daemon's own network namespace), and `unitd initctl status` as root over it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// The job under test; its name needs libnih escaping (`-` → `_2d`).
const JOB_NAME: &str = "py-sleeper";
const JOB_ESCAPED: &str = "py_2dsleeper";
const JOB: &str = "\
description \"upstart-dev sleeper\"
start on started nginx and (deploy ENV=prod or manual-go)
exec /bin/sleep 7777
";

/// The upstart-dev client run by the test: prints one `KEY VALUE` line per observation.
const SCRIPT: &str = r#"
import sys
import dbus
import upstart
from upstart.system import UpstartSystem
from upstart.job import UpstartJob

name = sys.argv[1]
s = UpstartSystem()
print("version", s.get_version())
print("priority", s.get_log_priority())
s.set_log_priority("debug")
print("priority-after", s.get_log_priority())
s.set_log_priority("message")
print("jobs", " ".join(sorted(s.get_all_jobs())))
j = UpstartJob(name)
cond = j.get_start_on_condition()
print("start_on", "|".join(",".join(str(w) for w in e) for e in cond))
j.start()
st = j.get_status()
print("state", st["state"], st["goal"], "name=" + st["name"])
print("processes", " ".join("%s:%d" % (p[0], p[1]) for p in st["processes"]))
sys.stdout.flush()
# The test checks the PID, then lets us go on.
sys.stdin.readline()
j.stop()
try:
    j.get_status()
    print("after-stop", "still-there")
except dbus.exceptions.DBusException as e:
    print("after-stop", e.get_dbus_name())
sys.stdout.flush()

# The same through Upstart's private socket (no bus daemon in between).
d = upstart.system.DirectUpstartBus()
print("direct-version", UpstartSystem(bus=d).get_version())
jd = UpstartJob(name, bus=d)
jd.start()
st = jd.get_status()
print("direct-state", st["state"], st["goal"])
print("direct-processes", " ".join("%s:%d" % (p[0], p[1]) for p in st["processes"]))
sys.stdout.flush()
sys.stdin.readline()
jd.stop()
try:
    jd.get_status()
    print("direct-after-stop", "still-there")
except dbus.exceptions.DBusException as e:
    print("direct-after-stop", e.get_dbus_name())
sys.stdout.flush()
"#;

/// upstart-dev 0.3.4 in `target/upstart-dev-0.3.4` (installed once, then reused). `None`
/// (after printing `skipped: …`) when pip cannot get it outside CI; a panic under CI.
fn upstart_dev() -> Option<PathBuf> {
    let cache = repo_root().join("target/upstart-dev-0.3.4");
    if cache.join("upstart/job.py").is_file() {
        return Some(cache);
    }
    // Install into a private staging directory, then rename: concurrent runs never see a
    // half-written cache.
    let staging = repo_root().join(format!(
        "target/upstart-dev-0.3.4.staging.{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&staging);
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--target",
    ])
    .arg(&staging)
    .arg("upstart-dev==0.3.4");
    let out = run_with_timeout(&mut cmd, "pip install upstart-dev==0.3.4", TIMEOUT * 4);
    if out.code != 0 || !staging.join("upstart/job.py").is_file() {
        let _ = std::fs::remove_dir_all(&staging);
        assert!(
            !in_ci(),
            "pip could not install upstart-dev==0.3.4 in CI:\n{}",
            out.dump()
        );
        eprintln!("skipped: pip cannot install upstart-dev==0.3.4 (no index?)");
        return None;
    }
    if std::fs::rename(&staging, &cache).is_err() {
        // Another run won the race; its cache is as good as ours.
        let _ = std::fs::remove_dir_all(&staging);
    }
    Some(cache)
}

/// `unitd serve --system` (in its own mount namespace) on a private system-type bus.
struct SystemUpstart {
    daemon: NamespacedDaemon,
    bus: TestBus,
    dir: TestDir,
}

impl SystemUpstart {
    fn start() -> Option<SystemUpstart> {
        if !RealEnv::check() || skip_in_reference_mode("upstart-dev talks to unitd") {
            return None;
        }
        if which("nsenter").is_none() {
            assert!(!in_ci(), "nsenter (util-linux) is required in CI");
            eprintln!("skipped: nsenter missing");
            return None;
        }
        let python_dbus = Command::new("/usr/bin/python3")
            .args(["-c", "import dbus"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !python_dbus {
            assert!(
                !in_ci(),
                "/usr/bin/python3 with python3-dbus is required in CI"
            );
            eprintln!("skipped: /usr/bin/python3 with python3-dbus not installed");
            return None;
        }
        let dir = TestDir::new();
        let jobs = dir.path().join("init");
        std::fs::create_dir_all(&jobs).unwrap();
        std::fs::write(jobs.join(format!("{JOB_NAME}.conf")), JOB).unwrap();
        let env = daemon_env(&dir);
        let bus = TestBus::start(&dir, BusKind::System, &env);
        let units = dir.units().display().to_string();
        let state = dir.state().display().to_string();
        let jobs = jobs.display().to_string();
        let bin = unitd_bin().display().to_string();
        // In its own network namespace too: the private server binds the real abstract name
        // `/com/ubuntu/upstart` (DirectUpstartBus cannot be pointed elsewhere) without
        // touching the host's.
        let cmd = in_system_namespace(
            Path::new("unshare"),
            &[
                "-n",
                &bin,
                "serve",
                "--system",
                "--bus",
                bus.address(),
                "--unit-path",
                &units,
                "--job-path",
                &jobs,
                "--state-dir",
                &state,
            ],
            &env,
        );
        let daemon =
            NamespacedDaemon::spawn(cmd, dir.path().join("unitd.log"), "unitd serve --system");
        daemon.wait_for_name(&bus, "com.ubuntu.Upstart");
        let m = SystemUpstart { daemon, bus, dir };
        Some(m)
    }
}

impl SystemUpstart {
    /// `nsenter` option entering the daemon's network namespace (its abstract sockets).
    fn net_ns(&self) -> String {
        format!("--net=/proc/{}/ns/net", self.daemon.pid())
    }

    /// `unitd initctl ARGS…` as root with no bus address: over the private socket.
    fn initctl(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("nsenter");
        cmd.arg(self.net_ns())
            .arg(unitd_bin())
            .arg("initctl")
            .args(args)
            .env_clear()
            .env("PATH", STD_PATH)
            .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent");
        run_with_timeout(&mut cmd, &format!("initctl {}", args.join(" ")), TIMEOUT)
    }
}

/// Read `KEY VALUE…` lines from the client until `key` arrives (bounded by `TIMEOUT`).
fn read_until(
    rx: &std::sync::mpsc::Receiver<String>,
    seen: &mut Vec<(String, String)>,
    key: &str,
    log: &Path,
) -> String {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let (k, v) = line.split_once(' ').unwrap_or((line.as_str(), ""));
                seen.push((k.to_string(), v.to_string()));
                if k == key {
                    return v.to_string();
                }
            }
            Err(_) => panic!(
                "upstart-dev client gave no `{key}` line; saw {seen:?}\n--- unitd log ---\n{}",
                tail(&read_lossy(log), 40)
            ),
        }
    }
}

/// The Python client, killed and reaped if the test ends early.
struct Client(std::process::Child);

impl Drop for Client {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn upstart_dev_drives_unitd_on_a_system_bus() {
    let Some(m) = SystemUpstart::start() else {
        return;
    };
    let Some(lib) = upstart_dev() else {
        return;
    };
    let script = m.dir.path().join("client.py");
    std::fs::write(&script, SCRIPT).unwrap();
    let stderr = m.dir.path().join("client.err");
    let mut child = Command::new("nsenter")
        .arg(m.net_ns())
        .arg("/usr/bin/python3")
        .arg(&script)
        .arg(JOB_ESCAPED)
        .env_clear()
        .env("PATH", STD_PATH)
        .env("PYTHONPATH", &lib)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("DBUS_SYSTEM_BUS_ADDRESS", m.bus.address())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&stderr).unwrap()))
        .spawn()
        .expect("spawn python3");
    let stdout = child.stdout.take().unwrap();
    let mut stdin = child.stdin.take();
    let mut client = Client(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let fail = |what: &str, seen: &Vec<(String, String)>| -> String {
        format!(
            "{what}; saw {seen:?}\n--- client stderr ---\n{}\n--- unitd log ---\n{}",
            read_lossy(&stderr),
            tail(&read_lossy(&m.daemon.log), 40)
        )
    };

    let v = read_until(&rx, &mut seen, "version", &m.daemon.log);
    assert_eq!(v, "init (upstart 1.13.2)", "{}", fail("version", &seen));
    let before = read_until(&rx, &mut seen, "priority", &m.daemon.log);
    assert!(!before.is_empty(), "{}", fail("log_priority", &seen));
    let after = read_until(&rx, &mut seen, "priority-after", &m.daemon.log);
    assert_eq!(after, "debug", "{}", fail("set_log_priority", &seen));
    let jobs = read_until(&rx, &mut seen, "jobs", &m.daemon.log);
    assert!(
        jobs.split(' ').any(|j| j == JOB_ESCAPED),
        "{}",
        fail("get_all_jobs lists the escaped name", &seen)
    );
    let start_on = read_until(&rx, &mut seen, "start_on", &m.daemon.log);
    assert_eq!(
        start_on,
        "started,nginx|deploy,ENV=prod|manual-go|/OR|/AND",
        "{}",
        fail("start_on in post-order", &seen)
    );
    let state = read_until(&rx, &mut seen, "state", &m.daemon.log);
    assert_eq!(
        state,
        "running start name=",
        "{}",
        fail("state after start()", &seen)
    );
    let procs = read_until(&rx, &mut seen, "processes", &m.daemon.log);
    let pid: u32 = procs
        .strip_prefix("main:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{}", fail("one main process", &seen)));
    // The PID is the job's from the fork on; the exec may still be under way.
    wait_for("the main process to exec /bin/sleep", TIMEOUT, || {
        proc_cmdline(pid) == ["/bin/sleep", "7777"]
    });

    {
        use std::io::Write;
        let stdin = stdin.as_mut().unwrap();
        stdin.write_all(b"go\n").unwrap();
        stdin.flush().unwrap();
    }
    let gone = read_until(&rx, &mut seen, "after-stop", &m.daemon.log);
    assert_eq!(
        gone,
        "org.freedesktop.DBus.Error.UnknownMethod",
        "{}",
        fail("the instance is gone once stopped", &seen)
    );
    assert!(
        !pid_alive(pid),
        "{}",
        fail("stop() waited for the exit", &seen)
    );

    // Upstart's private socket: upstart-dev's DirectUpstartBus, and initctl as root.
    let v = read_until(&rx, &mut seen, "direct-version", &m.daemon.log);
    assert_eq!(
        v,
        "init (upstart 1.13.2)",
        "{}",
        fail("direct version", &seen)
    );
    let state = read_until(&rx, &mut seen, "direct-state", &m.daemon.log);
    assert_eq!(state, "running start", "{}", fail("direct start()", &seen));
    let procs = read_until(&rx, &mut seen, "direct-processes", &m.daemon.log);
    let pid: u32 = procs
        .strip_prefix("main:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{}", fail("one main process (direct)", &seen)));
    wait_for("the main process to exec /bin/sleep", TIMEOUT, || {
        proc_cmdline(pid) == ["/bin/sleep", "7777"]
    });
    let out = m.initctl(&["status", JOB_NAME]);
    assert_eq!(
        (out.code, out.stdout.trim()),
        (
            0,
            format!("{JOB_NAME} start/running, process {pid}").as_str()
        ),
        "{}",
        out.dump()
    );
    {
        use std::io::Write;
        let mut stdin = stdin.take().unwrap();
        stdin.write_all(b"go\n").unwrap();
    }
    let gone = read_until(&rx, &mut seen, "direct-after-stop", &m.daemon.log);
    assert_eq!(
        gone,
        "org.freedesktop.DBus.Error.UnknownMethod",
        "{}",
        fail("direct stop()", &seen)
    );
    assert!(!pid_alive(pid));
    let out = m.initctl(&["status", JOB_NAME]);
    assert_eq!(
        (out.code, out.stdout.trim()),
        (0, format!("{JOB_NAME} stop/waiting").as_str()),
        "{}",
        out.dump()
    );
    // Root only: nobody's connection is refused by the daemon (SO_PEERCRED).
    if which("setpriv").is_some() {
        let mut cmd = Command::new("nsenter");
        cmd.arg(m.net_ns())
            .args([
                "setpriv",
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
            ])
            .arg(unitd_bin())
            .args([
                "initctl",
                "--address=unix:abstract=/com/ubuntu/upstart",
                "version",
            ])
            .env_clear()
            .env("PATH", STD_PATH);
        let out = run_with_timeout(&mut cmd, "nobody: initctl version", TIMEOUT);
        assert!(
            out.code == 1 && out.stderr.contains("Unable to connect to Upstart"),
            "{}",
            out.dump()
        );
    }

    let deadline = Instant::now() + TIMEOUT;
    while client.0.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = client.0.try_wait().ok().flatten();
    assert!(
        status.is_some_and(|s| s.success()),
        "{}",
        fail("client exits 0", &seen)
    );
}
