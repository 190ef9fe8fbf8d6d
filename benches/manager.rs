//! unitd's performance, measured as ratios against baselines taken in the same run (never as
//! absolute thresholds): run with `cargo bench --bench manager`.
//!
//! 1. Property round trip: `Properties.Get(Manager, Version)` to unitd vs the bus's own
//!    `org.freedesktop.DBus.GetId` (the floor every D-Bus service pays), on one connection.
//! 2. Start 100 `Type=simple` units in one `systemctl --user start` call vs 100 fork/execs of
//!    `/bin/true` (the floor of starting any process).
//! 3. Restart latency: `Restart=always`, `RestartSec=0`; SIGKILL of the main process until the
//!    new main process runs, vs one fork/exec.
//! 4. Resident memory of unitd idle and with the 100 units running.
//! 5. Notify flood: 100 000 datagrams (two valid `STATUS=` updates for each piece of garbage:
//!    bytes 0xff, `READY=1 ` with a trailing space, an embedded NUL, a 5000-byte oversize) from
//!    4 `Type=notify` services' main processes (this binary re-executed as the sender), timed
//!    from "go" until every sender's last `STATUS=` is visible over D-Bus; reported as
//!    messages per second (goal ≥ 100 000/s on 2 cores). The senders' blocking `send` stalls
//!    whenever unitd's receive queue is full, so the rate is unitd's, unless the senders are
//!    slower: then it is a lower bound. The kernel queues at most `net.unix.max_dgram_qlen`
//!    datagrams per receiver (10 by default; systemd's own sysctl defaults raise it to 512):
//!    with 10, every receive wakes a blocked sender, and on a busy machine the wall-clock rate
//!    is set by the scheduler, so unitd's CPU time per message is reported as well.
//!
//! systemd --user is not run side by side here: it needs a booted-systemd namespace and its own
//! bus setup; the reference numbers in shared/reference/architecture.md §10 (systemd 252 on a
//! comparable 2-core VM) are printed next to unitd's for orientation.
//!
//! Needs `dbus-daemon` and `systemctl` (Debian: dbus-daemon, systemd). Everything runs in a
//! temporary directory; every process started here is stopped by PID at the end.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const UNITS: usize = 100;
/// Notify flood: sender processes and datagrams in total.
const FLOOD_SENDERS: usize = 4;
const FLOOD_TOTAL: usize = 100_000;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        // SIGTERM lets unitd stop its services; then reap.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn start_bus(dir: &Path) -> (Proc, String) {
    let conf = dir.join("bus.conf");
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dbus-policy/test/session.conf");
    std::fs::write(
        &conf,
        format!(
            "<busconfig><include>{}</include></busconfig>",
            base.display()
        ),
    )
    .expect("write bus config");
    let mut child = Command::new("dbus-daemon")
        .arg(format!("--config-file={}", conf.display()))
        .arg(format!("--address=unix:path={}", dir.join("bus").display()))
        .args(["--nofork", "--print-address"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon (Debian: apt-get install dbus-daemon)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("bus address");
    (Proc(child), line.trim().to_owned())
}

fn systemctl(dir: &Path, addr: &str, args: &[&str]) -> std::process::ExitStatus {
    Command::new("systemctl")
        .arg("--user")
        .arg("--no-pager")
        .args(args)
        .env("DBUS_SESSION_BUS_ADDRESS", addr)
        .env("XDG_RUNTIME_DIR", dir.join("xdg"))
        .env_remove("SYSTEMD_OFFLINE")
        .stdout(Stdio::null())
        .status()
        .expect("systemctl (Debian: apt-get install systemd)")
}

fn show(dir: &Path, addr: &str, unit: &str, prop: &str) -> String {
    let out = Command::new("systemctl")
        .args(["--user", "show", "-p", prop, "--value", unit])
        .env("DBUS_SESSION_BUS_ADDRESS", addr)
        .env("XDG_RUNTIME_DIR", dir.join("xdg"))
        .output()
        .expect("systemctl show");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn fork_exec_true(n: usize) -> Duration {
    let t = Instant::now();
    for _ in 0..n {
        Command::new("/bin/true").status().expect("/bin/true");
    }
    t.elapsed()
}

async fn round_trips(addr: &str) -> (Duration, Duration) {
    let conn = zbus::connection::Builder::address(addr)
        .build()
        .await
        .expect("connect");
    let (mut floor, mut get) = (Vec::new(), Vec::new());
    for _ in 0..2000 {
        let t = Instant::now();
        conn.call_method(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            Some("org.freedesktop.DBus"),
            "GetId",
            &(),
        )
        .await
        .expect("GetId");
        floor.push(t.elapsed());
        let t = Instant::now();
        conn.call_method(
            Some("org.freedesktop.systemd1"),
            "/org/freedesktop/systemd1",
            Some("org.freedesktop.DBus.Properties"),
            "Get",
            &("org.freedesktop.systemd1.Manager", "Version"),
        )
        .await
        .expect("Get Version");
        get.push(t.elapsed());
    }
    (median(floor), median(get))
}

/// `--flood-sender ID COUNT GO`: the main process of a `flood@ID.service`. Says `READY=1`,
/// waits for the file GO, sends COUNT datagrams (valid and garbage mixed, ending with
/// `STATUS=done-ID`) and sleeps until stopped.
fn flood_sender(args: &[String]) {
    use std::os::unix::net::UnixDatagram;
    let (id, count, go) = (&args[0], args[1].parse::<usize>().unwrap(), &args[2]);
    let path = std::env::var("NOTIFY_SOCKET").expect("NOTIFY_SOCKET");
    let s = UnixDatagram::unbound().unwrap();
    s.connect(&path).unwrap();
    s.send(format!("READY=1\nSTATUS=ready-{id}").as_bytes())
        .unwrap();
    while !Path::new(go).exists() {
        std::thread::sleep(Duration::from_millis(1));
    }
    let junk: [&[u8]; 4] = [b"\xff\xfe\xfd", b"READY=1 ", b"STATUS=x\0y", &[b'X'; 5000]];
    let mut buf = Vec::with_capacity(64);
    for n in 0..count - 1 {
        if n % 3 == 2 {
            s.send(junk[(n / 3) % junk.len()]).unwrap();
        } else {
            use std::io::Write;
            buf.clear();
            write!(buf, "STATUS={id}-{n}").unwrap();
            s.send(&buf).unwrap();
        }
    }
    s.send(format!("STATUS=done-{id}").as_bytes()).unwrap();
    std::thread::sleep(Duration::from_secs(1000));
}

/// CPU time (user + system) a process has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the `(comm)`: state is field 3; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Duration::from_secs_f64(f.iter().sum::<u64>() as f64 / hz)
}

/// What the notify flood measured.
struct Flood {
    msgs: usize,
    wall: Duration,
    /// unitd's CPU time during the flood.
    cpu: Duration,
    /// The senders' CPU time (whole life; idle apart from the flood).
    senders_cpu: Duration,
}

/// Section 5: the notify flood.
fn notify_flood(dir: &Path, addr: &str, unitd: u32) -> Flood {
    let go = dir.join("flood-go");
    let names: Vec<String> = (1..=FLOOD_SENDERS)
        .map(|i| format!("flood@{i}.service"))
        .collect();
    let mut args = vec!["start"];
    args.extend(names.iter().map(String::as_str));
    assert!(systemctl(dir, addr, &args).success(), "start flood senders");
    let cpu0 = cpu_time(unitd);
    let t = Instant::now();
    std::fs::write(&go, b"").unwrap();
    for (i, name) in names.iter().enumerate() {
        let want = format!("done-{}", i + 1);
        while show(dir, addr, name, "StatusText") != want {
            assert!(
                t.elapsed() < Duration::from_secs(120),
                "{name} never reported {want}"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let wall = t.elapsed();
    let cpu = cpu_time(unitd).saturating_sub(cpu0);
    let senders_cpu = names
        .iter()
        .filter_map(|n| show(dir, addr, n, "MainPID").parse::<u32>().ok())
        .map(cpu_time)
        .sum();
    let mut stop = vec!["stop"];
    stop.extend(names.iter().map(String::as_str));
    let _ = systemctl(dir, addr, &stop);
    Flood {
        msgs: FLOOD_SENDERS * (FLOOD_TOTAL / FLOOD_SENDERS),
        wall,
        cpu,
        senders_cpu,
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if let Some(i) = argv.iter().position(|a| a == "--flood-sender") {
        flood_sender(&argv[i + 1..]);
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        // `cargo test --benches` support: nothing to list.
        return;
    }
    let only_flood = std::env::args().any(|a| a == "notify_flood");
    let tmp = tempfile::Builder::new()
        .prefix("unitd-bench-")
        .tempdir()
        .expect("tempdir");
    let dir = tmp.path();
    let units = dir.join("units");
    std::fs::create_dir_all(&units).unwrap();
    std::fs::create_dir_all(dir.join("xdg/systemd")).unwrap();
    std::fs::create_dir_all(dir.join("home")).unwrap();
    std::fs::write(
        units.join("a@.service"),
        "[Service]\nType=simple\nExecStart=/bin/sleep 1000\n",
    )
    .unwrap();
    std::fs::write(
        units.join("respawn.service"),
        "[Service]\nExecStart=/bin/sleep 1000\nRestart=always\nRestartSec=0\n\n[Unit]\nStartLimitIntervalSec=0\n",
    )
    .unwrap();
    std::fs::write(
        units.join("flood@.service"),
        format!(
            "[Service]\nType=notify\nExecStart={} --flood-sender %i {} {}\n",
            std::env::current_exe().unwrap().display(),
            FLOOD_TOTAL / FLOOD_SENDERS,
            dir.join("flood-go").display()
        ),
    )
    .unwrap();

    let (_bus, addr) = start_bus(dir);
    let unitd = PathBuf::from(env!("CARGO_BIN_EXE_unitd"));
    let daemon = Proc(
        Command::new(&unitd)
            .args(["serve", "--user", "--bus", &addr])
            .arg("--unit-path")
            .arg(&units)
            .arg("--state-dir")
            .arg(dir.join("state"))
            .env("HOME", dir.join("home"))
            .env("XDG_RUNTIME_DIR", dir.join("xdg"))
            .env("UNITD_LOG", "warn")
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn unitd"),
    );
    let pid = daemon.0.id();
    let deadline = Instant::now() + Duration::from_secs(20);
    while systemctl(dir, &addr, &["is-system-running"]).code() == Some(1)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let rss_idle = rss_kib(pid);
    if only_flood {
        report_flood(&notify_flood(dir, &addr, pid));
        return;
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (floor, get) = rt.block_on(round_trips(&addr));

    let names: Vec<String> = (1..=UNITS).map(|i| format!("a@{i}.service")).collect();
    let mut args = vec!["start"];
    args.extend(names.iter().map(String::as_str));
    let base_start = fork_exec_true(UNITS);
    let t = Instant::now();
    assert!(
        systemctl(dir, &addr, &args).success(),
        "start {UNITS} units"
    );
    let start_100 = t.elapsed();
    let rss_busy = rss_kib(pid);

    // Restart latency: kill the main process, wait for a different MainPID.
    assert!(systemctl(dir, &addr, &["start", "respawn.service"]).success());
    let mut restarts = Vec::new();
    for _ in 0..10 {
        let old: u32 = show(dir, &addr, "respawn.service", "MainPID")
            .parse()
            .unwrap_or(0);
        let t = Instant::now();
        let _ = Command::new("kill")
            .args(["-KILL", &old.to_string()])
            .status();
        loop {
            let now: u32 = show(dir, &addr, "respawn.service", "MainPID")
                .parse()
                .unwrap_or(0);
            if now != 0 && now != old {
                break;
            }
            if t.elapsed() > Duration::from_secs(10) {
                panic!("respawn.service did not restart");
            }
        }
        restarts.push(t.elapsed());
    }
    let restart = median(restarts);
    let one_exec = fork_exec_true(20) / 20;
    let flood = notify_flood(dir, &addr, pid);
    let mut stop = vec!["stop", "respawn.service"];
    stop.extend(names.iter().map(String::as_str));
    let _ = systemctl(dir, &addr, &stop);

    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("unitd benchmark (ratios against baselines measured in this run)");
    println!(
        "property Get (Manager.Version)   {:>9.1} µs  bus GetId floor {:>9.1} µs  ratio {:.2}  (systemd 252: ~1.7)",
        us(get),
        us(floor),
        get.as_secs_f64() / floor.as_secs_f64()
    );
    println!(
        "start {UNITS} units, one call       {:>9.1} ms  {UNITS}x fork/exec   {:>9.1} ms  ratio {:.2}  (systemd 252: ~210 ms)",
        start_100.as_secs_f64() * 1e3,
        base_start.as_secs_f64() * 1e3,
        start_100.as_secs_f64() / base_start.as_secs_f64()
    );
    println!(
        "restart latency (median of 10)   {:>9.1} ms  one fork/exec    {:>9.3} ms  (systemd 252: ~19 ms; includes systemctl polling)",
        restart.as_secs_f64() * 1e3,
        one_exec.as_secs_f64() * 1e3,
    );
    println!(
        "RSS idle / with {UNITS} units running {:>6} KiB / {} KiB  (systemd --user 252: ~10.5 MB / 11.4 MB)",
        rss_idle, rss_busy
    );
    report_flood(&flood);
}

fn report_flood(f: &Flood) {
    println!(
        "notify flood, {FLOOD_SENDERS} senders      {:>9} msgs in {:.1} ms = {:.0} msgs/s  (goal: >= 100000 msgs/s on 2 cores)",
        f.msgs,
        f.wall.as_secs_f64() * 1e3,
        f.msgs as f64 / f.wall.as_secs_f64()
    );
    // The wall rate includes the senders and whatever else shares the cores; unitd's own CPU
    // time says what one core of unitd sustains.
    println!(
        "  unitd CPU during the flood     {:>9.1} ms = {:.0} msgs per unitd CPU-second; senders' CPU {:.1} ms; load average {}",
        f.cpu.as_secs_f64() * 1e3,
        f.msgs as f64 / f.cpu.as_secs_f64().max(1e-3),
        f.senders_cpu.as_secs_f64() * 1e3,
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .unwrap_or("?")
    );
}
