//! Acceptance: issue 3's whole verb matrix in SYSTEM scope with the stock `systemctl` (no
//! `--user`), against one `unitd serve --system` per transport:
//! - over a private system-type bus with `SYSTEMCTL_FORCE_BUS=1` (the client in its own
//!   `unshare -m` namespace with a fake `/run/systemd/system`);
//! - through the peer-to-peer socket `/run/systemd/private`, which stock `systemctl` prefers as
//!   root: the client runs in the daemon's mount namespace (`nsenter`) with no usable bus address,
//!   so a silent fallback to a bus would fail instead of passing.
//!
//! The daemon runs in its own mount namespace with a tmpfs on `/run` AND on
//! `/etc/systemd/system`: the install verbs write exactly where systemd writes them
//! (`/etc/systemd/system/multi-user.target.wants/…`), the daemon's `--unit-path` lists that
//! directory first (so enablement takes effect, as on a real system), and nothing on the host is
//! written — not even unitd's notify socket `/run/unitd/notify`.
//! Expectations (texts, exit codes) are the ones the user-scope suites check against real
//! systemd 252 (`systemctl_verbs.rs`, `systemctl_user.rs`, `systemctl_install.rs`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::verbs::{self, VerbDriver};
use common::*;

const SLEEPER_DESCRIPTION: &str = "System sleeper";

/// How the stock `systemctl` reaches the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    /// The system bus, `SYSTEMCTL_FORCE_BUS=1`.
    Bus,
    /// `/run/systemd/private` (root, no FORCE_BUS).
    Private,
}

impl Transport {
    /// What `leftover.service` sleeps for: distinct per transport, since both tests find the
    /// process by its command line and may run at the same time.
    fn leftover_arg(self) -> &'static str {
        match self {
            Transport::Bus => "1000005",
            Transport::Private => "1000006",
        }
    }
}

struct System {
    transport: Transport,
    daemon: NamespacedDaemon,
    bus: TestBus,
    dir: TestDir,
    /// Processes the test saw as main PIDs, stopped on drop if still alive.
    seen: std::cell::RefCell<Vec<TrackedPid>>,
}

impl System {
    fn start(transport: Transport) -> Option<System> {
        if !RealEnv::check() || skip_in_reference_mode("system scope runs unitd") {
            return None;
        }
        if transport == Transport::Private && which("nsenter").is_none() {
            eprintln!("skipped: nsenter missing");
            return None;
        }
        if !Path::new("/etc/systemd/system").is_dir() {
            // The namespace mounts over it; creating it would write the host.
            eprintln!("skipped: /etc/systemd/system missing on the host");
            return None;
        }
        let dir = TestDir::new();
        let scratch = dir.path();
        for (name, text) in [
            ("sleeper.service", verbs::sleeper(SLEEPER_DESCRIPTION)),
            ("other.service", verbs::sleeper(SLEEPER_DESCRIPTION)),
            ("inst.service", verbs::installable("multi-user.target")),
            ("static.service", verbs::STATIC.to_string()),
            ("reloadable.service", verbs::reloadable(scratch)),
            (
                "notifier.service",
                "[Unit]\nDescription=Notifier\n\n[Service]\nType=notify\nNotifyAccess=all\n\
                 ExecStart=/bin/sh -c \"systemd-notify --ready --status='Serving requests'; \
                 exec sleep infinity\"\n"
                    .to_string(),
            ),
            (
                "leftover.service",
                format!(
                    "[Service]\nType=oneshot\nRemainAfterExit=yes\n\
                     ExecStart=/bin/sh -c '/bin/sleep {} </dev/null >/dev/null 2>&1 &'\n",
                    transport.leftover_arg()
                ),
            ),
            ("slow.service", verbs::SLOW.to_string()),
            ("brief.service", verbs::brief(scratch)),
            ("fails.service", verbs::FAILS.to_string()),
            ("envdump.service", verbs::envdump(scratch)),
        ] {
            dir.write_unit(name, &text);
        }
        let env = daemon_env(&dir);
        let bus = TestBus::start(&dir, BusKind::System, &env);
        // systemd's persistent install directory first (a tmpfs in this namespace), so what
        // `enable`/`mask` write there takes effect like on a real system; then the test's units.
        let daemon = spawn_system_daemon(&dir, &bus, &env, &["/etc/systemd/system"]);
        let m = System {
            transport,
            daemon,
            bus,
            dir,
            seen: Default::default(),
        };
        if transport == Transport::Private {
            // The private socket may come up after the bus name: wait for it (bounded).
            wait_for("/run/systemd/private", TIMEOUT, || {
                m.in_daemon_ns("test", &["-S", "/run/systemd/private"]).code == 0
            });
        }
        Some(m)
    }

    /// `program args…` as root inside the daemon's mount namespace, with no usable bus.
    fn in_daemon_ns(&self, program: &str, args: &[&str]) -> Output {
        self.in_daemon_ns_with_bus(program, args, "unix:path=/nonexistent/system_bus_socket")
    }

    /// `program args…` as root inside the daemon's mount namespace with the system bus at
    /// `bus`.
    fn in_daemon_ns_with_bus(&self, program: &str, args: &[&str], bus: &str) -> Output {
        let env = system_client_env(&self.dir, bus);
        in_mount_ns_of(self.daemon.pid(), program, args, &env)
    }

    /// The stock system-scope `systemctl --no-pager ARGS…` over this test's transport.
    fn systemctl(&self, args: &[&str]) -> Output {
        let mut full = vec!["--no-pager"];
        full.extend_from_slice(args);
        match self.transport {
            // `start --wait` watches the unit over the full bus even as root (systemctl 252
            // asks for BUS_FULL there), like on a real system: give it the bus.
            Transport::Private if args.contains(&"--wait") => {
                self.in_daemon_ns_with_bus("systemctl", &full, self.bus.address())
            }
            Transport::Private => self.in_daemon_ns("systemctl", &full),
            Transport::Bus => {
                let mut env = system_client_env(&self.dir, self.bus.address());
                env.push(("SYSTEMCTL_FORCE_BUS".into(), "1".into()));
                let mut cmd = in_namespace("systemctl", &full, &env);
                run_with_timeout(&mut cmd, &format!("systemctl {}", full.join(" ")), TIMEOUT)
            }
        }
    }

    /// The stock `busctl --system ARGS…` on the test's bus (exit 0 required).
    #[track_caller]
    fn busctl(&self, args: &[&str]) -> Output {
        let env = system_client_env(&self.dir, self.bus.address());
        let mut full = vec!["--system", "--no-pager"];
        full.extend_from_slice(args);
        let mut cmd = in_namespace("busctl", &full, &env);
        let out = run_with_timeout(&mut cmd, &format!("busctl {}", full.join(" ")), TIMEOUT);
        assert_eq!(out.code, 0, "{}", out.dump());
        out
    }

    /// The stock `systemctl --no-pager ARGS…` as nobody, over the bus.
    fn systemctl_nobody(&self, args: &[&str]) -> Output {
        systemctl_as_nobody(&system_client_env(&self.dir, self.bus.address()), args)
    }
}

impl VerbDriver for System {
    /// Run `systemctl ARGS…` and insist on exit `code`; the failure shows the daemon's log.
    #[track_caller]
    fn expect(&self, code: i32, args: &[&str]) -> Output {
        let out = self.systemctl(args);
        assert_eq!(
            out.code,
            code,
            "[{:?}] {}\n--- unitd log ---\n{}",
            self.transport,
            out.dump(),
            tail(&read_lossy(&self.daemon.log), 40)
        );
        out
    }

    #[track_caller]
    fn check(&self, cond: bool, what: &str, out: &Output) {
        assert!(cond, "[{:?}] {what}\n{}", self.transport, out.dump());
    }

    #[track_caller]
    fn show(&self, unit: &str, prop: &str) -> String {
        let out = self.expect(0, &["show", "-p", prop, "--value", unit]);
        out.stdout.trim_end_matches('\n').to_string()
    }

    #[track_caller]
    fn main_pid(&self, unit: &str) -> u32 {
        let pid: u32 = self
            .show(unit, "MainPID")
            .parse()
            .expect("MainPID is a number");
        if pid != 0 {
            self.seen.borrow_mut().push(TrackedPid::new(pid));
        }
        pid
    }

    #[track_caller]
    fn wait_gone(&self, pid: u32, what: &str) {
        let deadline = Instant::now() + TIMEOUT;
        while pid_alive(pid) {
            assert!(Instant::now() < deadline, "{what}: PID {pid} still alive");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[track_caller]
    fn wait_state(&self, unit: &str, want: &str, what: &str) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let got = self.show(unit, "ActiveState");
            if got == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "[{:?}] {what}: {unit}: ActiveState={got}, want {want}",
                self.transport
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn units_dir(&self) -> PathBuf {
        self.dir.units()
    }

    fn scratch(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    fn install_dir(&self) -> PathBuf {
        PathBuf::from("/etc/systemd/system")
    }

    fn default_target(&self) -> &'static str {
        "multi-user.target"
    }

    /// `readlink PATH` in the daemon's mount namespace.
    fn link_target(&self, path: &Path) -> Option<PathBuf> {
        let out = self.in_daemon_ns("readlink", &[path.to_str().unwrap()]);
        (out.code == 0).then(|| PathBuf::from(out.stdout.trim()))
    }
}

impl Drop for System {
    fn drop(&mut self) {
        // The daemon stops its units when it gets SIGTERM (NamespacedDaemon's drop); anything a
        // broken run left behind is stopped by PID afterwards.
        for p in self.seen.borrow().iter() {
            if p.alive() {
                p.terminate(Duration::from_secs(5));
            }
        }
    }
}

fn lifecycle_verbs(m: &System) {
    // start / is-active / status of a running service.
    m.expect(0, &["start", "sleeper.service"]);
    let out = m.expect(0, &["is-active", "sleeper.service"]);
    assert_eq!(out.stdout.trim(), "active");
    let pid1 = m.running_pid("sleeper.service");
    let out = m.expect(0, &["status", "sleeper.service"]);
    let frag = m.dir.units().join("sleeper.service");
    m.check(
        out.stdout.contains("● sleeper.service - System sleeper")
            && out
                .stdout
                .contains(&format!("Loaded: loaded ({}; ", frag.display()))
            && out.stdout.contains("Active: active (running) since ")
            && out.stdout.contains(&format!("Main PID: {pid1} (sleep)")),
        "status renders Loaded/Active/Main PID like systemd",
        &out,
    );
    // The process tree: the cgroup the main process lives in, and the process under it.
    let cgroup = m.show("sleeper.service", "ControlGroup");
    m.check(
        !cgroup.is_empty(),
        "a running service has a ControlGroup",
        &out,
    );
    m.check(
        out.stdout.contains(&format!("CGroup: {cgroup}\n"))
            && out
                .stdout
                .contains(&format!("└─{pid1} /bin/sleep infinity")),
        "status prints the CGroup line and the main process under it",
        &out,
    );
    // Reads are open to everyone: nobody sees the same tree, and is denied a mutation (4).
    if m.transport == Transport::Bus && which("setpriv").is_some() {
        let out = m.systemctl_nobody(&["status", "sleeper.service"]);
        m.check(
            out.code == 0
                && out.stdout.contains(&format!("CGroup: {cgroup}\n"))
                && out
                    .stdout
                    .contains(&format!("└─{pid1} /bin/sleep infinity")),
            "nobody's status shows the process tree",
            &out,
        );
        let out = m.systemctl_nobody(&["stop", "sleeper.service"]);
        m.check(
            out.code == 4 && out.stderr.contains("ccess denied"),
            "nobody may not stop a unit",
            &out,
        );
    }
    // The same list from the unit object's GetProcesses() (Service interface).
    if m.transport == Transport::Bus && which("busctl").is_some() {
        let out = m.busctl(&[
            "call",
            SYSTEMD1,
            "/org/freedesktop/systemd1/unit/sleeper_2eservice",
            "org.freedesktop.systemd1.Service",
            "GetProcesses",
        ]);
        assert_eq!(
            out.stdout.trim(),
            format!("a(sus) 1 \"{cgroup}\" {pid1} \"/bin/sleep infinity\""),
            "{}",
            out.dump()
        );
    }

    // The Status: line (sd_notify STATUS=) and the tree of a unit whose main process
    // exec'ed.
    if which("systemd-notify").is_some() {
        m.expect(0, &["start", "notifier.service"]);
        let npid = m.running_pid("notifier.service");
        let out = m.expect(0, &["status", "notifier.service"]);
        let cgroup = m.show("notifier.service", "ControlGroup");
        m.check(
            out.stdout.contains("Active: active (running) since ")
                && out.stdout.contains(&format!("Main PID: {npid} (sleep)"))
                && out.stdout.contains("Status: \"Serving requests\"")
                && out.stdout.contains(&format!("CGroup: {cgroup}\n"))
                && out.stdout.contains(&format!("└─{npid} sleep infinity")),
            "status shows the Status: line and the process tree",
            &out,
        );
        m.expect(0, &["stop", "notifier.service"]);
        m.wait_gone(npid, "stop notifier");
    }

    if m.transport == Transport::Bus && which("busctl").is_some() {
        scope_process_tree(m);
    }

    // No main process, but a process left behind: still drawn under the unit's cgroup.
    m.expect(0, &["start", "leftover.service"]);
    let out = m.expect(0, &["status", "leftover.service"]);
    let cgroup = m.show("leftover.service", "ControlGroup");
    let arg = m.transport.leftover_arg();
    let left = pids_with_cmdline(&["/bin/sleep", arg]);
    for &p in &left {
        m.seen.borrow_mut().push(TrackedPid::new(p));
    }
    m.check(
        left.len() == 1
            && !cgroup.is_empty()
            && out.stdout.contains("Active: active (exited) since ")
            && out.stdout.contains(&format!("CGroup: {cgroup}\n"))
            && out
                .stdout
                .contains(&format!("└─{} /bin/sleep {arg}", left[0])),
        "status of an exited oneshot with a leftover process",
        &out,
    );
    m.expect(0, &["stop", "leftover.service"]);
    m.wait_gone(left[0], "stop kills the leftover process");
    assert_eq!(m.show("leftover.service", "ControlGroup"), "");

    // Unknown units: status 4, start/reload 5, is-active 3 ("inactive").
    let out = m.expect(4, &["status", "nosuch.service"]);
    m.check(
        out.stderr
            .contains("Unit nosuch.service could not be found."),
        "status of an unknown unit",
        &out,
    );
    let out = m.expect(5, &["start", "nosuch.service"]);
    m.check(
        out.stderr
            .contains("Failed to start nosuch.service: Unit nosuch.service not found."),
        "start of an unknown unit",
        &out,
    );
    let out = m.expect(3, &["is-active", "nosuch.service"]);
    assert_eq!(out.stdout.trim(), "inactive");
    let out = m.expect(1, &["is-failed", "nosuch.service"]);
    assert_eq!(out.stdout.trim(), "inactive");
    let out = m.expect(5, &["stop", "nosuch.service"]);
    m.check(
        out.stderr
            .contains("Failed to stop nosuch.service: Unit nosuch.service not loaded."),
        "stop of an unknown unit",
        &out,
    );
    for verb in ["try-restart", "reload-or-restart"] {
        let out = m.expect(5, &[verb, "nosuch.service"]);
        m.check(
            out.stderr.contains("Unit nosuch.service not found."),
            "try-restart/reload-or-restart of an unknown unit",
            &out,
        );
    }
    // show of an unknown unit: its (not-found) properties, exit 0.
    let out = m.expect(
        0,
        &["show", "-p", "LoadState,ActiveState", "nosuch.service"],
    );
    assert_eq!(
        out.stdout.trim(),
        "LoadState=not-found\nActiveState=inactive",
        "{}",
        out.dump()
    );
    let out = m.expect(5, &["restart", "nosuch.service"]);
    m.check(
        out.stderr
            .contains("Failed to restart nosuch.service: Unit nosuch.service not found."),
        "restart of an unknown unit",
        &out,
    );

    // restart gives a new main process.
    m.expect(0, &["restart", "sleeper.service"]);
    m.wait_gone(pid1, "restart");
    let pid2 = m.running_pid("sleeper.service");
    assert_ne!(pid1, pid2);

    let rpid = verbs::reload_family(m, "sleeper.service");
    verbs::try_restart_inactive(m, "other.service");
    m.expect(0, &["stop", "reloadable.service"]);
    m.wait_gone(rpid, "stop");

    // kill -s KILL: failed (signal); is-failed, degraded, list-units --failed, reset-failed.
    verbs::kill_with_signal_fails(m, "sleeper.service");
    let out = m.expect(3, &["is-active", "sleeper.service"]);
    assert_eq!(out.stdout.trim(), "failed");
    let out = m.expect(3, &["status", "sleeper.service"]);
    m.check(
        out.stdout.contains("Active: failed (Result: signal)"),
        "status of a failed unit",
        &out,
    );
    m.check(
        !out.stdout.contains("CGroup:"),
        "no CGroup line without processes",
        &out,
    );
    assert_eq!(m.show("sleeper.service", "ControlGroup"), "");
    verbs::failed_degrades_until_reset(m, "sleeper.service");
    let out = m.expect(3, &["status", "sleeper.service"]);
    m.check(
        out.stdout.contains("Active: inactive (dead)"),
        "status of an inactive unit",
        &out,
    );

    // kill with the default signal: a clean stop. kill of an unknown unit: 1.
    verbs::kill_default_signal_and_unknown(m, "sleeper.service");

    // stop.
    m.expect(0, &["start", "sleeper.service"]);
    let pid = m.running_pid("sleeper.service");
    m.expect(0, &["stop", "sleeper.service"]);
    m.wait_gone(pid, "stop");
    let out = m.expect(3, &["is-active", "sleeper.service"]);
    assert_eq!(out.stdout.trim(), "inactive");

    // start --wait: returns when the unit ended, with its result.
    verbs::start_wait(m);
    m.expect(0, &["reset-failed", "fails.service"]);
}

/// A scope adopting a process the test started: `status` draws it under the scope's
/// ControlGroup; stopping the scope ends it and empties ControlGroup.
fn scope_process_tree(m: &System) {
    let mut child = Command::new("/bin/sleep")
        .arg("1000004")
        .spawn()
        .expect("spawn sleep");
    let pid = child.id();
    m.seen.borrow_mut().push(TrackedPid::new(pid));
    let pid_text = pid.to_string();
    m.busctl(&[
        "call",
        SYSTEMD1,
        "/org/freedesktop/systemd1",
        "org.freedesktop.systemd1.Manager",
        "StartTransientUnit",
        "ssa(sv)a(sa(sv))",
        "adopted.scope",
        "fail",
        "1",
        "PIDs",
        "au",
        "1",
        &pid_text,
        "0",
    ]);
    m.wait_state("adopted.scope", "active", "the adopting scope");
    let cgroup = m.show("adopted.scope", "ControlGroup");
    let out = m.expect(0, &["status", "adopted.scope"]);
    m.check(
        !cgroup.is_empty()
            && out.stdout.contains("Active: active (running) since ")
            && out.stdout.contains(&format!("CGroup: {cgroup}\n"))
            && out.stdout.contains(&format!("└─{pid} /bin/sleep 1000004")),
        "status of a scope shows its adopted process",
        &out,
    );
    m.expect(0, &["stop", "adopted.scope"]);
    let deadline = Instant::now() + TIMEOUT;
    while child.try_wait().expect("wait for sleep").is_none() {
        assert!(Instant::now() < deadline, "stopping the scope ended {pid}");
        std::thread::sleep(Duration::from_millis(10));
    }
    // A stopped transient scope is garbage-collected, as in systemd: status says so (4).
    let out = m.expect(4, &["status", "adopted.scope"]);
    m.check(
        out.stderr
            .contains("Unit adopted.scope could not be found."),
        "the stopped scope is gone",
        &out,
    );
}

fn show_cat_and_lists(m: &System) {
    verbs::show_and_cat_with_drop_in(m, SLEEPER_DESCRIPTION);
    let out = m.expect(0, &["show", "sleeper.service"]);
    m.check(
        out.stdout.lines().any(|l| l == "Id=sleeper.service")
            && out.stdout.lines().any(|l| l == "ActiveState=inactive")
            && out.stdout.lines().any(|l| l == "Type=simple"),
        "show prints Unit and Service properties",
        &out,
    );
    let out = m.expect(0, &["show", "-p", "Version", "--value"]);
    m.check(!out.stdout.trim().is_empty(), "show of the manager", &out);

    // list-units: --all, --state=, patterns; list-jobs: none, then a running start job.
    m.expect(0, &["start", "sleeper.service"]);
    m.running_pid("sleeper.service");
    verbs::list_units_filters(m);
    verbs::list_jobs(m);
    m.expect(0, &["stop", "sleeper.service"]);
}

fn install_verbs(m: &System) {
    verbs::is_enabled_before_install(m);
    verbs::enable_installable(m);
    // No preset rule names the unit: systemd's default preset is "enabled".
    let unit_file = m.units_dir().join("inst.service");
    let out = m.expect(3, &["status", "inst.service"]);
    m.check(
        out.stdout.contains(&format!(
            "Loaded: loaded ({}; enabled; preset: enabled)",
            unit_file.display()
        )),
        "status shows the enablement and the preset",
        &out,
    );
    verbs::disable_installable(m);
    verbs::enable_disable_now(m);
    verbs::enable_static_and_missing(m);

    let out = m.expect(1, &["disable", "nosuch.service"]);
    m.check(
        out.stderr
            .contains("Failed to disable unit: Unit file nosuch.service does not exist."),
        "disable of a missing file",
        &out,
    );
    // Any name can be masked, even one without a file.
    let nomask = m.install_dir().join("nosuch.service");
    let out = m.expect(0, &["mask", "nosuch.service"]);
    m.check(
        out.all().contains(&format!(
            "Created symlink {} → /dev/null.",
            nomask.display()
        )),
        "mask of a missing file",
        &out,
    );
    let out = m.expect(0, &["unmask", "nosuch.service"]);
    m.check(
        out.all()
            .contains(&format!("Removed \"{}\".", nomask.display())),
        "unmask of a missing file",
        &out,
    );

    verbs::mask_unmask_and_list_unit_files(m);
}

fn environment_verbs(m: &System) {
    verbs::environment_verbs(m, &["FOO=bar"]);
    verbs::unit_sees_manager_environment(m);
    m.expect(0, &["unset-environment", "BETA", "FOO"]);
}

fn whole_matrix(transport: Transport) {
    let Some(m) = System::start(transport) else {
        return;
    };
    let out = m.expect(0, &["is-system-running"]);
    assert_eq!(out.stdout.trim(), "running", "{}", out.dump());
    // The machine's status (no unit): systemd's header. (unitd has no -.slice, so the host's
    // process tree is not drawn; systemctl says so on stderr and goes on.)
    let out = m.expect(0, &["status"]);
    m.check(
        out.stdout.contains("State: running")
            && out.stdout.contains("Failed: 0 units")
            && out.stdout.contains("systemd: 252 (unitd "),
        "status of the machine",
        &out,
    );
    lifecycle_verbs(&m);
    show_cat_and_lists(&m);
    install_verbs(&m);
    environment_verbs(&m);
}

#[test]
fn system_scope_verbs_over_the_bus() {
    whole_matrix(Transport::Bus);
}

#[test]
fn system_scope_verbs_over_the_private_socket() {
    whole_matrix(Transport::Private);
}
