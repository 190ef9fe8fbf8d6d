//! Acceptance: `systemctl --user daemon-reexec` (stock systemctl 252, private dbus-daemon, real
//! processes). unitd serializes its state, re-executes itself in the same process and re-adopts
//! every running service: same unitd PID, same MainPIDs, states, NRestarts, InvocationID,
//! timestamps, StatusText and manager environment; nothing is started twice; stop, reaping
//! (Restart=always), socket activation and logging keep working afterwards. Bus clients keep
//! their `Subscribe()` and their `Ref()` unit references (a python3-dbus client).

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use common::*;

const WAIT: Duration = Duration::from_secs(20);

/// Accepts connections on fd 3 and answers `hello <pid>`.
const ECHO_PY: &str = r#"
import os, socket
s = socket.socket(fileno=3)
while True:
    c, _ = s.accept()
    c.recv(100)
    c.sendall(b"hello %d\n" % os.getpid())
    c.close()
"#;

fn talk(sock: &Path) -> String {
    let mut c = UnixStream::connect(sock).expect("connect (never refused)");
    c.set_read_timeout(Some(WAIT)).unwrap();
    c.write_all(b"hi").unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    out
}

/// Wait until the re-executed manager owns the bus name again (from the same PID), serves its
/// private socket and answers calls (it owns the name and the socket before it has restored
/// its state; calls wait in the queue until then).
#[track_caller]
/// The manager's connection on the bus before a reexec: [`wait_back`] waits for another one.
fn owner(m: &UserManager) -> String {
    m.bus.name_owner(SYSTEMD1).expect("unitd owns its name")
}

/// Wait until the re-executed manager — same `pid`, but a bus connection other than `before`
/// (the old one may still own the name for a moment after `systemctl daemon-reexec`
/// returns, exactly as with systemd) — owns its name and answers.
fn wait_back(m: &UserManager, pid: u32, before: &str) {
    let private = m.dir.xdg().join("systemd/private");
    wait_for("unitd back on the bus and the private socket", WAIT, || {
        m.bus.name_owner(SYSTEMD1).is_some_and(|o| o != before)
            && m.bus.connection_pid(SYSTEMD1) == Some(pid)
            && UnixStream::connect(&private).is_ok()
    });
    let out = m.systemctl(&["show", "-p", "Version", "--value"]);
    m.check(out.code == 0, "the re-executed manager answers", &out);
}

/// The properties that must survive a reexec unchanged.
const KEPT: &[&str] = &[
    "ActiveState",
    "SubState",
    "MainPID",
    "NRestarts",
    "InvocationID",
    "ActiveEnterTimestampMonotonic",
    "InactiveExitTimestampMonotonic",
    "ExecMainStartTimestampMonotonic",
    "StatusText",
    "Result",
];

fn kept(m: &UserManager, unit: &str) -> Vec<(String, String)> {
    KEPT.iter()
        .map(|p| (p.to_string(), m.show(unit, p)))
        .collect()
}

#[test]
fn daemon_reexec_keeps_services_and_their_state() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    let sock = m.dir.path().join("echo.sock");
    std::fs::write(m.dir.home().join("echo.py"), ECHO_PY).unwrap();
    let pid_file = m.dir.path().join("forker.pid");
    let forker = m.write_script(
        "forker.sh",
        &format!(
            "/bin/sleep 4243 </dev/null >/dev/null 2>&1 &\necho $! > {}\nexit 0\n",
            pid_file.display()
        ),
    );
    m.write_unit(
        "chatty.service",
        // Writes to its log pipe all the time: it would die of SIGPIPE if the pipe's read end
        // were lost across the reexec.
        "[Service]\nExecStart=/bin/sh -c 'while :; do echo tick; sleep 0.1; done'\n",
    );
    m.write_unit(
        "notifier.service",
        "[Service]\nType=notify\nNotifyAccess=all\n\
         ExecStart=/bin/sh -c 'systemd-notify --ready --status=serving; exec /bin/sleep 4244'\n",
    );
    m.write_unit(
        "forker.service",
        &format!("[Service]\nType=forking\nExecStart={}\n", forker.display()),
    );
    m.write_unit(
        "always.service",
        "[Service]\nRestart=always\nRestartSec=100ms\nExecStart=/bin/sleep 4245\n",
    );
    m.write_unit(
        "echo.socket",
        &format!("[Socket]\nListenStream={}\n", sock.display()),
    );
    m.write_unit(
        "echo.service",
        "[Service]\nExecStart=/usr/bin/python3 %h/echo.py\n",
    );
    m.expect(0, &["daemon-reload"]);
    m.expect(
        0,
        &[
            "start",
            "chatty.service",
            "notifier.service",
            "forker.service",
            "always.service",
            "echo.socket",
        ],
    );
    m.expect(0, &["set-environment", "REEXEC_FOO=bar"]);
    // One automatic restart before the reexec: NRestarts=1 must be kept.
    let first = m.main_pid("always.service");
    assert!(send_signal(first, "KILL"));
    m.wait_prop("always.service", "NRestarts", "first restart", |v| v == "1");
    m.wait_prop("always.service", "SubState", "running again", |v| {
        v == "running"
    });
    let services = [
        "chatty.service",
        "notifier.service",
        "forker.service",
        "always.service",
    ];
    let mut before = Vec::new();
    for s in services {
        let pid = m.main_pid(s);
        assert_ne!(pid, 0, "{s} runs");
        before.push((s, pid, kept(&m, s)));
    }
    assert_eq!(m.show("notifier.service", "StatusText"), "serving");
    let worker: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    m.track(worker);
    assert_eq!(
        before[2].1, worker,
        "the forking service's MainPID is its worker"
    );
    let unitd = m.daemon_pid().expect("spawned daemon");
    let owner_before = owner(&m);
    let echo_before = kept(&m, "echo.socket");

    let out = m.systemctl(&["daemon-reexec"]);
    m.check(out.code == 0, "daemon-reexec exits 0", &out);
    wait_back(&m, unitd, &owner_before);
    let mut m = m;
    assert!(m.daemon_running(), "unitd is still running");
    assert_eq!(m.daemon_pid(), Some(unitd), "same unitd PID");
    let log = m.daemon_log();
    assert!(
        log.contains("restored the manager state") && !log.contains("was not handed over"),
        "every descriptor is handed over:\n{}",
        tail(&log, 40)
    );

    for (s, pid, props) in &before {
        assert!(pid_alive(*pid), "{s}: MainPID {pid} still runs");
        assert_eq!(
            proc_ppid(*pid),
            Some(unitd),
            "{s}: MainPID {pid} is still unitd's child"
        );
        assert_eq!(&kept(&m, s), props, "{s} keeps its state over the reexec");
    }
    assert_eq!(kept(&m, "echo.socket"), echo_before);
    let env = m.expect(0, &["show-environment"]);
    m.check(
        env.stdout.lines().any(|l| l == "REEXEC_FOO=bar"),
        "set-environment survives the reexec",
        &env,
    );
    // Nothing was started twice: no second instance of any command runs under unitd.
    let ours = |arg: &str| -> Vec<u32> {
        pids_with_cmdline(&["/bin/sleep", arg])
            .into_iter()
            .filter(|p| proc_ppid(*p) == Some(unitd))
            .collect()
    };
    assert_eq!(ours("4243"), vec![worker]);
    assert_eq!(ours("4244"), vec![before[1].1]);
    assert_eq!(ours("4245"), vec![before[3].1]);

    // Reaping still works: a Restart=always service whose process exits is restarted.
    let apid = before[3].1;
    assert!(send_signal(apid, "KILL"));
    m.wait_gone(apid, "always.service's old process");
    m.wait_prop("always.service", "NRestarts", "restart after reexec", |v| {
        v == "2"
    });
    let new_pid = m.wait_prop("always.service", "MainPID", "new MainPID", |v| {
        v != "0" && v != apid.to_string()
    });
    let new_pid: u32 = new_pid.parse().unwrap();
    m.track(new_pid);
    assert!(pid_alive(new_pid));
    assert_eq!(m.show("always.service", "ActiveState"), "active");

    // The socket unit still accepts connections and activates its service.
    let reply = talk(&sock);
    let echo_pid = m.main_pid("echo.service");
    assert_eq!(reply, format!("hello {echo_pid}\n"));

    // Stop works and kills the right processes.
    m.expect(
        0,
        &[
            "stop",
            "chatty.service",
            "notifier.service",
            "forker.service",
        ],
    );
    for (s, pid, _) in &before[..3] {
        m.wait_gone(*pid, s);
        assert_eq!(m.show(s, "ActiveState"), "inactive", "{s} stopped");
    }
    m.expect(
        0,
        &["stop", "always.service", "echo.socket", "echo.service"],
    );
}

#[test]
fn daemon_reexec_twice_and_logs_keep_flowing() {
    let Some(m) = UserManager::start(&[(
        "chatty.service",
        "[Service]\nExecStart=/bin/sh -c 'i=0; while :; do i=$((i+1)); echo line-$i; sleep 0.05; done'\n",
    )]) else {
        return;
    };
    m.expect(0, &["start", "chatty.service"]);
    let pid = m.main_pid("chatty.service");
    let unitd = m.daemon_pid().unwrap();
    let log = m.dir.state().join("logs").join("chatty.service.log");
    for round in 0..2 {
        let before = owner(&m);
        // Round 0 over the private socket (systemctl --user's default: the connection is
        // reset), round 1 over the bus (dbus-daemon answers NoReply); both count as success.
        let out = if round == 0 {
            m.systemctl(&["daemon-reexec"])
        } else {
            m.systemctl_runner().run_other(
                "env",
                &[
                    "SYSTEMCTL_FORCE_BUS=1",
                    "systemctl",
                    "--user",
                    "daemon-reexec",
                ],
            )
        };
        m.check(out.code == 0, "daemon-reexec exits 0", &out);
        wait_back(&m, unitd, &before);
        assert!(pid_alive(pid), "round {round}: the service survives");
        assert_eq!(m.main_pid("chatty.service"), pid);
    }
    // Lines written after the second reexec still reach the log file.
    let len = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    wait_for("log grows after reexec", WAIT, || {
        std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0) > len
    });
    m.expect(0, &["stop", "chatty.service"]);
    m.wait_gone(pid, "chatty.service");
}

#[test]
fn bus_activated_manager_reconnects_to_its_starter_bus() {
    // Started by dbus-daemon (DBUS_STARTER_ADDRESS, no --bus): the re-executed image must find
    // the same bus again.
    let Some(m) = UserManager::start_with(
        Start::Activated,
        &[("sleeper.service", "[Service]\nExecStart=/bin/sleep 4246\n")],
    ) else {
        return;
    };
    m.expect(0, &["start", "sleeper.service"]);
    let pid = m.main_pid("sleeper.service");
    let unitd = m.daemon_pid().expect("activated unitd");
    let before = owner(&m);
    let out = m.systemctl(&["daemon-reexec"]);
    m.check(out.code == 0, "daemon-reexec exits 0", &out);
    wait_back(&m, unitd, &before);
    assert_eq!(m.main_pid("sleeper.service"), pid);
    assert_eq!(m.show("sleeper.service", "SubState"), "running");
    m.expect(0, &["stop", "sleeper.service"]);
    m.wait_gone(pid, "sleeper.service");
}

/// `unitd serve --system` in its own mount namespace on a private system bus; stock
/// system-scope systemctl over the bus and over `/run/systemd/private`.
#[test]
fn system_scope_daemon_reexec() {
    if !RealEnv::check() || skip_in_reference_mode("system scope runs unitd") {
        return;
    }
    if which("nsenter").is_none() || which("setpriv").is_none() {
        eprintln!("skipped: nsenter/setpriv missing");
        return;
    }
    let dir = TestDir::new();
    dir.write_unit("sleeper.service", "[Service]\nExecStart=/bin/sleep 4247\n");
    let env = daemon_env(&dir);
    let bus = TestBus::start(&dir, BusKind::System, &env);
    let bin = unitd_bin().display().to_string();
    let args = system_serve_args(&dir, &bus, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let cmd = in_namespace(&bin, &args, &env);
    let daemon = NamespacedDaemon::spawn(cmd, dir.path().join("unitd.log"), "unitd serve --system");
    daemon.wait_for_name(&bus, SYSTEMD1);
    let unitd = daemon.pid();
    let cenv = system_client_env(&dir, bus.address());
    let expect = |out: Output, code: i32| -> Output {
        assert_eq!(
            out.code,
            code,
            "{}\n--- unitd log ---\n{}",
            out.dump(),
            tail(&read_lossy(&daemon.log), 40)
        );
        out
    };
    // Over the bus (SYSTEMCTL_FORCE_BUS=1).
    let systemctl = |args: &[&str]| {
        let mut full = vec!["SYSTEMCTL_FORCE_BUS=1", "systemctl", "--no-pager"];
        full.extend_from_slice(args);
        let mut cmd = in_namespace("env", &full, &cenv);
        run_with_timeout(&mut cmd, &format!("systemctl {}", args.join(" ")), TIMEOUT)
    };
    // Over /run/systemd/private, inside the daemon's mount namespace.
    let mut private_env = cenv.clone();
    private_env.retain(|(k, _)| k != "DBUS_SYSTEM_BUS_ADDRESS");
    let private_systemctl = |args: &[&str]| {
        let mut full = vec!["--no-pager"];
        full.extend_from_slice(args);
        in_mount_ns_of(unitd, "systemctl", &full, &private_env)
    };
    let main_pid = || -> u32 {
        expect(
            systemctl(&["show", "-p", "MainPID", "--value", "sleeper.service"]),
            0,
        )
        .stdout
        .trim()
        .parse()
        .unwrap()
    };
    expect(systemctl(&["start", "sleeper.service"]), 0);
    let pid = main_pid();
    assert!(pid_alive(pid));

    // A non-root caller may not re-execute the manager (systemctl exits 1).
    let mut nobody = in_namespace(
        "setpriv",
        &[
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "env",
            "SYSTEMCTL_FORCE_BUS=1",
            "systemctl",
            "daemon-reexec",
        ],
        &cenv,
    );
    let out = expect(
        run_with_timeout(&mut nobody, "nobody: daemon-reexec", TIMEOUT),
        1,
    );
    assert!(out.stderr.contains("ccess denied"), "{}", out.dump());

    // The old image may own the name for a moment after daemon-reexec returns: wait for
    // another connection (same PID) to own it.
    let wait_back = |before: &str| {
        wait_for("system unitd back on the bus", WAIT, || {
            bus.name_owner(SYSTEMD1).is_some_and(|o| o != before)
                && bus.connection_pid(SYSTEMD1) == Some(unitd)
                && private_systemctl(&["is-system-running"]).code == 0
        });
    };
    let before = bus.name_owner(SYSTEMD1).expect("unitd owns its name");
    expect(systemctl(&["daemon-reexec"]), 0);
    wait_back(&before);
    assert!(pid_alive(unitd), "same unitd process");
    assert_eq!(main_pid(), pid);
    let before = bus.name_owner(SYSTEMD1).expect("unitd owns its name");
    expect(private_systemctl(&["daemon-reexec"]), 0);
    wait_back(&before);
    assert_eq!(main_pid(), pid);
    let out = expect(private_systemctl(&["is-active", "sleeper.service"]), 0);
    assert_eq!(out.stdout.trim(), "active");
    expect(systemctl(&["stop", "sleeper.service"]), 0);
    wait_for("sleeper stopped", WAIT, || !pid_alive(pid));
}

#[test]
fn start_job_in_flight_survives_and_completes_after_reexec() {
    // A Type=notify service still activating (its start job waiting for READY=1) when the
    // manager re-executes: the job is kept, READY=1 sent afterwards reaches the handed-over
    // notify socket, and the job finishes.
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    let go = m.dir.path().join("go");
    m.write_unit(
        "slow.service",
        &format!(
            "[Service]\nType=notify\nNotifyAccess=all\nTimeoutStartSec=infinity\n\
             ExecStart=/bin/sh -c 'while [ ! -e {} ]; do sleep 0.05; done; \
             systemd-notify --ready --status=up; exec /bin/sleep 4248'\n",
            go.display()
        ),
    );
    m.expect(0, &["daemon-reload"]);
    m.expect(0, &["start", "--no-block", "slow.service"]);
    m.wait_prop("slow.service", "SubState", "starting", |v| v == "start");
    let pid = m.main_pid("slow.service");
    let jobs = m.expect(0, &["list-jobs"]);
    m.check(
        jobs.stdout.contains("slow.service"),
        "a start job is queued",
        &jobs,
    );
    let unitd = m.daemon_pid().unwrap();
    let before = owner(&m);
    let out = m.systemctl(&["daemon-reexec"]);
    m.check(out.code == 0, "daemon-reexec exits 0", &out);
    wait_back(&m, unitd, &before);
    assert_eq!(m.show("slow.service", "SubState"), "start");
    let jobs = m.expect(0, &["list-jobs"]);
    m.check(
        jobs.stdout.contains("slow.service"),
        "the job survives",
        &jobs,
    );
    std::fs::write(&go, "").unwrap();
    m.wait_prop("slow.service", "ActiveState", "READY=1 after reexec", |v| {
        v == "active"
    });
    assert_eq!(m.main_pid("slow.service"), pid);
    assert_eq!(m.show("slow.service", "StatusText"), "up");
    let jobs = m.expect(0, &["list-jobs"]);
    m.check(
        !jobs.stdout.contains("slow.service"),
        "the job finished",
        &jobs,
    );
    m.expect(0, &["stop", "slow.service"]);
    m.wait_gone(pid, "slow.service");
}

#[test]
fn bus_sees_the_name_change_hands_and_reloading_false() {
    let Some(m) = UserManager::start_requiring(&[], &["dbus-monitor"]) else {
        return;
    };
    let log = m.dir.path().join("monitor.log");
    let _monitor = dbus_monitor(
        m.bus.address(),
        &[
            "type='signal',member='Reloading'",
            "type='signal',member='NameOwnerChanged',arg0='org.freedesktop.systemd1'",
        ],
        &log,
    );
    // The monitor sees nothing before its matches are in place: daemon-reload until a
    // Reloading signal shows up.
    wait_for("dbus-monitor ready", WAIT, || {
        m.expect(0, &["daemon-reload"]);
        read_lossy(&log).contains("member=Reloading")
    });
    let unitd = m.daemon_pid().unwrap();
    let before = owner(&m);
    let seen = read_lossy(&log).len();
    let out = m.systemctl(&["daemon-reexec"]);
    m.check(out.code == 0, "daemon-reexec exits 0", &out);
    wait_back(&m, unitd, &before);
    let after = || read_lossy(&log)[seen..].to_string();
    // Leftovers of the priming reloads may come first; what matters is the sequence around
    // the hand-over of the name.
    let reloading_after_handover = |t: &str| {
        let h = t.find("member=NameOwnerChanged")?;
        let d = h + t[h..].find("member=Reloading")?;
        Some((h, d))
    };
    wait_for("Reloading after the name changed hands", WAIT, || {
        reloading_after_handover(&after()).is_some()
    });
    let text = after();
    // Like systemd: the old image announces Reloading(true), the name changes hands (released
    // by the old image, taken by the new one), and the new image announces Reloading(false).
    let (handover, done) = reloading_after_handover(&text).unwrap();
    let prior = &text[..handover];
    let starting = prior
        .rfind("member=Reloading")
        .expect("Reloading(true) before the exec");
    assert!(
        prior[starting..]
            .lines()
            .nth(1)
            .is_some_and(|l| l.trim() == "boolean true"),
        "{text}"
    );
    assert!(
        text[done..]
            .lines()
            .nth(1)
            .is_some_and(|l| l.trim() == "boolean false"),
        "{text}"
    );
}

/// A long-lived python3-dbus client on the message bus, driven line by line over stdin: it
/// prints its unique name first, then one answer per command (`ok` or the D-Bus error name).
/// Proxies are made per call, since the manager's unique name changes with a reexec.
const BUS_CLIENT_PY: &str = r#"
import sys, dbus
bus = dbus.bus.BusConnection(sys.argv[1])
print(bus.get_unique_name(), flush=True)
def manager():
    o = bus.get_object("org.freedesktop.systemd1", "/org/freedesktop/systemd1", introspect=False)
    return dbus.Interface(o, "org.freedesktop.systemd1.Manager")
def unit(name):
    o = bus.get_object("org.freedesktop.systemd1", manager().LoadUnit(name), introspect=False)
    return dbus.Interface(o, "org.freedesktop.systemd1.Unit")
for line in sys.stdin:
    cmd, *args = line.split()
    try:
        if cmd == "subscribe":
            manager().Subscribe()
        elif cmd == "unsubscribe":
            manager().Unsubscribe()
        elif cmd == "ref":
            unit(args[0]).Ref()
        elif cmd == "unref":
            unit(args[0]).Unref()
        print("ok", flush=True)
    except dbus.exceptions.DBusException as e:
        print(e.get_dbus_name(), flush=True)
"#;

struct BusClient {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    lines: std::sync::mpsc::Receiver<String>,
}

impl BusClient {
    fn spawn(address: &str) -> BusClient {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let mut child = Command::new("/usr/bin/python3")
            .args(["-c", BUS_CLIENT_PY, address])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let stdin = child.stdin.take().unwrap();
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in stdout.lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        BusClient {
            child,
            stdin,
            lines,
        }
    }

    fn line(&self, what: &str) -> String {
        self.lines
            .recv_timeout(WAIT)
            .unwrap_or_else(|e| panic!("bus client: no answer to {what}: {e}"))
    }

    fn call(&mut self, cmd: &str) -> String {
        writeln!(self.stdin, "{cmd}").unwrap();
        self.line(cmd)
    }
}

impl Drop for BusClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn loaded(m: &UserManager, unit: &str) -> bool {
    let out = m.expect(0, &["list-units", "--all"]);
    list_units_row(&out.stdout, unit).is_some()
}

/// systemd serializes its bus clients across a reexec: the subscription and the `Ref()` of a
/// client that stays connected carry over — the referenced unit, otherwise garbage, is not
/// collected by the new image; the client is still subscribed (a second `Subscribe` is
/// refused) and its `Unref` finds the reference, after which the unit goes.
#[test]
fn subscriptions_and_unit_references_survive_reexec() {
    if !Path::new("/usr/bin/python3").exists()
        || std::process::Command::new("/usr/bin/python3")
            .args(["-c", "import dbus"])
            .status()
            .map_or(true, |s| !s.success())
    {
        assert!(!in_ci(), "python3-dbus is required in CI");
        eprintln!("skipped: python3-dbus not installed");
        return;
    }
    let oneshot = "[Service]\nType=oneshot\nExecStart=/bin/true\n";
    let Some(m) = UserManager::start(&[("tmpl@.service", oneshot)]) else {
        return;
    };
    let mut client = BusClient::spawn(m.bus.address());
    let unique = client.line("the unique name");
    assert!(unique.starts_with(':'), "{unique}");
    assert_eq!(client.call("subscribe"), "ok");
    assert_eq!(client.call("ref tmpl@held.service"), "ok");
    // Without the reference such an instance is collected (it has no file of its own).
    assert_eq!(m.show("tmpl@free.service", "LoadState"), "loaded");
    wait_for("an unreferenced instance collected", WAIT, || {
        !loaded(&m, "tmpl@free.service")
    });
    assert!(loaded(&m, "tmpl@held.service"), "the reference keeps it");

    let unitd = m.daemon_pid().unwrap();

    let before = owner(&m);
    m.expect(0, &["daemon-reexec"]);
    wait_back(&m, unitd, &before);
    // The new image collects garbage: another unreferenced instance goes…
    assert_eq!(m.show("tmpl@probe.service", "LoadState"), "loaded");
    wait_for("garbage collected after the reexec", WAIT, || {
        !loaded(&m, "tmpl@probe.service")
    });
    // …but the referenced one stays.
    assert!(
        loaded(&m, "tmpl@held.service"),
        "the reference survived the reexec\n{}",
        tail(&m.daemon_log(), 30)
    );
    assert_eq!(
        client.call("subscribe"),
        "org.freedesktop.systemd1.AlreadySubscribed",
        "the subscription survived the reexec"
    );
    assert_eq!(client.call("unsubscribe"), "ok");
    assert_eq!(
        client.call("unsubscribe"),
        "org.freedesktop.systemd1.NotSubscribed"
    );
    assert_eq!(client.call("unref tmpl@held.service"), "ok");
    assert_eq!(
        client.call("unref tmpl@held.service"),
        "org.freedesktop.systemd1.NotReferenced"
    );
    wait_for("the unit collected once unreferenced", WAIT, || {
        !loaded(&m, "tmpl@held.service")
    });

    // A client that disconnects after a reexec still releases its references.
    assert_eq!(client.call("ref tmpl@again.service"), "ok");
    let before = owner(&m);
    m.expect(0, &["daemon-reexec"]);
    wait_back(&m, unitd, &before);
    assert!(loaded(&m, "tmpl@again.service"));
    drop(client);
    wait_for("references released when the client left", WAIT, || {
        !loaded(&m, "tmpl@again.service")
    });
}
