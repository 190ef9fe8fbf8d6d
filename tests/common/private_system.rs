//! A root system-scope manager for sandboxing tests, in a private mount namespace where
//! `/run`, `/var/lib`, `/tmp` and `/var/tmp` are private tmpfs (the test directory is bound
//! back at its own path inside the private `/tmp`, and its `report/` at [`REPORT`]); stock
//! clients reach it through `/run/systemd/private` with `nsenter`. Nothing a service does
//! there can write the host: every writable path is the test directory or those tmpfs.
//! unitd runs from a copy in the private `/run`: the checkout (and so the built binary) may
//! itself live under `/tmp`, which the private `/tmp` hides (CI clones under `/tmp`).
//! Shared by tests/sandbox_mounts.rs, tests/transient_sandbox.rs and tests/mount_units.rs.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;

/// Inside the manager's namespace: the report directory (the test directory's `report/`).
pub const REPORT: &str = "/var/lib/unitd-report";

/// The address clients get for the system bus: none (they use `/run/systemd/private`).
const NO_BUS: &str = "unix:path=/nonexistent/system_bus_socket";

/// `unitd serve --system` (with its own system bus) in the private namespace described in the
/// module doc; stopped by PID on drop, before its bus and test directory.
pub struct PrivateSystemManager {
    /// The `unshare` process that execs into unitd (its PID is unitd's).
    pub daemon: NamespacedDaemon,
    bus: TestBus,
    /// The test directory (with `report/`, bound at [`REPORT`] inside the namespace).
    pub dir: TestDir,
}

impl PrivateSystemManager {
    /// The manager with `units` in its unit path, once it owns `org.freedesktop.systemd1` and
    /// `/run/systemd/private` exists (each bounded by [`TIMEOUT`]). `None` (after printing
    /// `skipped: …`) without the real-component environment, in reference mode, without root
    /// or `nsenter`, or when the host lacks one of the directories mounted over.
    pub fn start(units: &[(&str, String)]) -> Option<PrivateSystemManager> {
        if !RealEnv::check() || skip_in_reference_mode("sandboxing runs unitd") {
            return None;
        }
        if !nix::unistd::getuid().is_root() || which("nsenter").is_none() {
            eprintln!("skipped: needs root and nsenter");
            return None;
        }
        for d in ["/var/lib", "/var/tmp", "/tmp", "/run"] {
            if !Path::new(d).is_dir() {
                // The namespace mounts over it; creating it would write the host.
                eprintln!("skipped: {d} missing on the host");
                return None;
            }
        }
        let dir = TestDir::new();
        fs::create_dir(dir.path().join("report")).unwrap();
        for (name, text) in units {
            dir.write_unit(name, text);
        }
        let td = dir.path().display().to_string();
        let script = format!(
            "set -e; \
             mount -t tmpfs -o mode=755 tmpfs /run; mkdir -p /run/systemd/system; \
             mkdir -m 700 /run/unitd-test; cp \"$1\" /run/unitd-test/unitd; shift; \
             mount -t tmpfs -o mode=755 tmpfs /var/lib; \
             mkdir /var/lib/.unitd-test; mount --bind '{td}' /var/lib/.unitd-test; \
             mount -t tmpfs -o mode=1777 tmpfs /tmp; mkdir -p '{td}'; \
             mount --bind /var/lib/.unitd-test '{td}'; \
             mount -t tmpfs -o mode=1777 tmpfs /var/tmp; \
             mkdir {REPORT}; mount --bind '{td}/report' {REPORT}; \
             exec /run/unitd-test/unitd \"$@\""
        );
        let env = daemon_env(&dir);
        let bus = TestBus::start(&dir, BusKind::System, &env);
        let args = system_serve_args(&dir, &bus, &[]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let cmd = unshare_script(&script, unitd_bin().as_os_str(), &args, &env);
        let daemon =
            NamespacedDaemon::spawn(cmd, dir.path().join("unitd.log"), "unitd serve --system");
        daemon.wait_for_name(&bus, SYSTEMD1);
        let m = PrivateSystemManager { daemon, bus, dir };
        wait_for("/run/systemd/private", TIMEOUT, || {
            m.in_ns("test", &["-S", "/run/systemd/private"]).code == 0
        });
        Some(m)
    }

    /// The manager's system bus.
    pub fn bus(&self) -> &TestBus {
        &self.bus
    }

    /// `program args…` as root in the manager's mount namespace ([`in_mount_ns_of`]), with no
    /// session bus and no system bus (`systemctl` uses `/run/systemd/private`); any exit code,
    /// bounded by [`TIMEOUT`].
    pub fn in_ns(&self, program: &str, args: &[&str]) -> Output {
        let env = system_client_env(&self.dir, NO_BUS);
        in_mount_ns_of(self.daemon.pid(), program, args, &env)
    }

    /// The stock `systemctl --no-pager ARGS…` in the manager's namespace.
    pub fn systemctl(&self, args: &[&str]) -> Output {
        let mut full = vec!["--no-pager"];
        full.extend_from_slice(args);
        self.in_ns("systemctl", &full)
    }

    /// `systemctl start UNIT` succeeds (else fails with its output and the daemon log).
    #[track_caller]
    pub fn start_ok(&self, unit: &str) {
        let out = self.systemctl(&["start", unit]);
        assert_eq!(out.code, 0, "{}\n{}", out.dump(), self.log());
    }

    /// `systemctl show -p PROP --value UNIT`, which must succeed; trimmed.
    #[track_caller]
    pub fn show(&self, unit: &str, prop: &str) -> String {
        let out = self.systemctl(&["show", "-p", prop, "--value", unit]);
        assert_eq!(out.code, 0, "{}", out.dump());
        out.stdout.trim().to_owned()
    }

    /// A report a service wrote (`REPORT/name`); a missing one fails with `systemctl status
    /// --all` and the daemon log.
    #[track_caller]
    pub fn report(&self, name: &str) -> String {
        let p = self.dir.path().join("report").join(name);
        fs::read_to_string(&p).unwrap_or_else(|e| {
            panic!(
                "report {name}: {e}\n{}\n{}",
                self.systemctl(&["status", "--all"]).all(),
                self.log()
            )
        })
    }

    /// A path as the manager sees it (through `/proc/PID/root`).
    pub fn manager_view(&self, path: &str) -> PathBuf {
        PathBuf::from(format!(
            "/proc/{}/root{}",
            self.daemon.pid(),
            path.trim_end_matches('/')
        ))
    }

    /// The last 40 lines of the daemon log.
    pub fn log(&self) -> String {
        tail(&read_lossy(&self.daemon.log), 40)
    }

    /// The test directory's path as text (the same path inside the namespace).
    pub fn td(&self) -> String {
        self.dir.path().display().to_string()
    }
}
