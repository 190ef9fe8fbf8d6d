//! The corpus acceptance test (issue 7): Debian 12's own service packages, installed with apt
//! and run from their packaged unit files — written for systemd, unmodified — under
//! `unitd init` as PID 1, driven by the stock `systemctl`.
//!
//! **Installing without touching the host.** `tools/corpus-root.sh` runs `apt-get install`
//! in private mount and PID namespaces where `/usr`, `/etc` and `/var` are overlays whose
//! upper layers live in `target/corpus-root/` (kept as a cache between runs, rebuilt when the
//! package list, the script or the host's dpkg database changes); a `policy-rc.d` that exits
//! 101 and the absence of `/run/systemd/system` keep every maintainer script from starting
//! anything. The test checks that the host's `/var/lib/dpkg/status` is byte-for-byte
//! unchanged afterwards.
//!
//! **Booting.** Each service gets a fresh `unitd init` as PID 1 of its own PID, mount,
//! network, IPC and UTS namespaces (`unshare --pid --fork --mount-proc --mount --net --ipc
//! --uts`) over that root:
//! `/usr` is the read-only stack cache-over-host, `/etc` and `/var` are overlays with a tmpfs
//! upper layer (every run starts from the freshly installed state; nothing is written back),
//! `/run` and `/tmp` are fresh tmpfs. The namespace is what a container runtime gives its
//! init (see [`NAMESPACE_SETUP`]): its own `/dev`, `/sys` and `/proc/sys` read-only, a
//! container's capability bounding set, `$container` set. Debian's boot graph is booted as
//! installed — every `.wants/` directory of `/usr/lib/systemd/system`, `default.target` →
//! `graphical.target`, nothing masked; only the enablement links in `/etc/systemd/system`
//! are removed (the image enables nothing; each test starts its service).
//!
//! **Boot** (`debian_boots_its_own_graph`): every unit the boot targets pull in runs for real
//! (`systemd-tmpfiles-setup`, `systemd-journald`, `systemd-logind`, the bus, …) or skips
//! itself through its own conditions in the container (`systemd-sysctl`, `modprobe@*`,
//! `systemd-random-seed`, …); mount units whose conditions hold are mounted by the stock
//! `mount` (`dev-hugepages.mount`, `dev-mqueue.mount`, `sys-fs-fuse-connections.mount`);
//! automount and path units, which unitd does not run, have their conditions checked and are
//! otherwise reported unsupported, never active. The system
//! is `running`, `systemctl --failed` is empty, no job is left; the test prints the boot table.
//!
//! **Per service:** `systemctl start` → a probe over the service's real protocol →
//! `systemctl reload` where the unit has `ExecReload=` (the probe again; the main PID kept,
//! as systemd keeps it) → `systemctl stop` → `inactive` (not `failed`), and no process the
//! service started is left in the namespace. `systemctl status` shows the main PID that
//! `MainPID` reports; it is the daemon (its command line, a child of PID 1 — not a worker),
//! and for units with `PIDFile=` the PID in the file.
//!
//! | service (unit) | unit features exercised | result |
//! | --- | --- | --- |
//! | nginx (`nginx.service`) | `Type=forking`, `PIDFile=`, `ExecStartPre=`, `ExecReload=`, `ExecStop=-` (start-stop-daemon), `KillMode=mixed`, `TimeoutStopSec=`, `Wants=network-online.target` | pass: HTTP 200 before and after reload, main PID = `/run/nginx.pid`, kept by reload |
//! | apache2 (`apache2.service`) | `Type=forking` without `PIDFile=` (main PID guessed), `Environment=`, `ExecStop=apachectl graceful-stop`, `ExecReload=apachectl graceful`, `KillMode=mixed`, `PrivateTmp=`, `Restart=on-abort`, `OOMPolicy=` | pass: HTTP 200 before and after reload, main PID the `apache2 -k start` parent, kept by reload |
//! | memcached (`memcached.service`) | a Perl wrapper that `exec`s the daemon, `PIDFile=` in a `tmpfiles.d` directory, `Restart=always` (no restart on stop), sandboxing directives loaded unmodified | pass: `stats` over TCP, main PID = its PID file |
//! | cron (`cron.service`) | `EnvironmentFile=-` (missing, `$EXTRA_OPTS` vanishes from argv), `KillMode=process`, `Restart=on-failure`, `IgnoreSIGPIPE=false` | pass: an `@reboot` job from `/etc/cron.d` ran, main PID = `/run/crond.pid` |
//! | haproxy (`haproxy.service`) | `Type=notify` (master-worker `-Ws`), `Environment=` with several assignments, two `EnvironmentFile=-`, `$VAR` expansion, multi-line `ExecReload=` (config check, then `kill -USR2 $MAINPID`), `KillMode=mixed`, `SuccessExitStatus=143` | pass: runtime API `show info` and master CLI `show proc` before and after reload, main PID = `/run/haproxy.pid` (the master), kept by reload |
//! | PostgreSQL 15 (`postgresql@15-main.service`) | template unit (`%i`, `%I`), `AssertPathExists=`, `RequiresMountsFor=`, `PartOf=`/`ReloadPropagatedFrom=`, `Type=forking` via `pg_ctlcluster`, `ExecStart=-`, `PIDFile=` in a `tmpfiles.d` directory, `ExecReload=` | pass: `SELECT 1` through `psql` as `postgres` before and after reload, main PID = the postmaster's PID file; `systemctl reload postgresql.service` reaches the cluster (its log shows the SIGHUP) and `systemctl stop postgresql.service` stops it |
//! | rsyslog (`syslog.socket` → `rsyslog.service`) | systemd's `syslog.socket` (`ListenDatagram=/run/systemd/journal/syslog`), socket activation of `syslog.service`, the package's `Alias=` symlink to `rsyslog.service`, `Requires=syslog.socket`, `Type=notify`, `StandardOutput=null`, `LimitNOFILE=` | pass: a message sent to the socket activates rsyslogd and lands in `/var/log/syslog` |
//! | D-Bus (`dbus.socket`, `dbus.service`) | the system bus unitd boots on, `ExecReload=` (`dbus-send … ReloadConfig`), stop through unitd's private socket | pass: `org.freedesktop.systemd1` owned by PID 1 before and after reload, main PID kept, both units inactive after stop, dbus-daemon gone |
//! | redis (`redis.service` → `redis-server.service`) | `Alias=`, `Type=notify`, `User=`/`Group=`, `RuntimeDirectory=` + `RuntimeDirectoryMode=`, `PIDFile=` in it, `UMask=`, `LimitNOFILE=65535` (above a container's hard limit: capped, as systemd does), `PrivateTmp=` and the other sandboxing directives | pass: `PING` → `+PONG`, main PID = `/run/redis/redis-server.pid` |
//! | OpenSSH (`ssh.service`) | `ConditionPathExists=!`, `ExecStartPre=sshd -t`, `Type=notify`, `RuntimeDirectory=sshd`, `EnvironmentFile=-` with `$SSHD_OPTS`, `ExecReload=` list (`sshd -t`, `kill -HUP $MAINPID`), `KillMode=process`, `RestartPreventExitStatus=`, `Alias=sshd.service` | pass: host key present and an `SSH-2.0-` banner on port 22 before and after reload, main PID kept (sshd re-executes itself); with `/etc/ssh/sshd_not_to_be_run` its `ConditionPathExists=!` skips it (`systemctl status` says so, nothing runs) |
//!
//! `ip link set lo up` in the namespace is the container runtime's job (Docker does it before
//! starting the init), so the harness does it.
//!
//! apt may be unreachable: locally the test then prints `skipped: …`; under `CI=true` it
//! fails. The first run downloads and installs (about a minute); later runs reuse the cache
//! and take seconds. `UNITD_CORPUS_CACHE=DIR` puts the cache elsewhere (needed when `target/`
//! is on overlayfs, e.g. inside a container, as an upper layer cannot live there).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// The Debian 12 packages the corpus installs (into the overlay, never on the host).
const PACKAGES: &[&str] = &[
    "nginx",
    "memcached",
    "redis-server",
    "openssh-server",
    "cron",
    "rsyslog",
    "apache2",
    "haproxy",
    "postgresql",
    "dbus",
];

/// How long the first install may take (downloads included).
const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);

/// The capabilities a container keeps: systemd-nspawn's default set (plus `CAP_NET_ADMIN`, which
/// it adds for a private network). Dropped, as by every container runtime: `CAP_SYS_MODULE`
/// (so `modprobe@*.service`, `systemd-modules-load.service` and `kmod-static-nodes.service` skip
/// themselves through `ConditionCapability=` instead of loading modules into the host's kernel),
/// `CAP_SYS_RAWIO` (the `sys-kernel-*.mount` units), `CAP_SYS_TIME` (`systemd-timesyncd`),
/// `CAP_AUDIT_READ` (`systemd-journald-audit.socket`) and the rest nspawn drops.
const CONTAINER_CAPS: &str = "-all,+audit_control,+audit_write,+chown,+dac_override,\
    +dac_read_search,+fowner,+fsetid,+ipc_owner,+kill,+lease,+linux_immutable,+mknod,\
    +net_bind_service,+net_broadcast,+net_raw,+setfcap,+setgid,+setpcap,+setuid,+sys_admin,\
    +sys_boot,+sys_chroot,+sys_nice,+sys_ptrace,+sys_resource,+sys_tty_config,+net_admin";

/// The `$container` the namespace's PID 1 gets from its "container runtime" (the harness).
const CONTAINER: &str = "unitd-test";

/// The namespace's file system, set up before unitd starts. `$0`: the cache (its `upper/`
/// holds the installed packages' layers), `$1`: the project's `dbus-policy/`, `$2`: an empty
/// directory for the per-run tmpfs, `$3`: the capability bounding set, `$4`: `$container`; then
/// unitd's path and arguments (a copy of unitd runs, see the script).
///
/// What a container runtime does before it starts the init, and nothing else: loopback up,
/// its own `/dev` (a tmpfs with the usual device nodes bound in, a private `devpts`, `/dev/shm`
/// — never the host's devtmpfs, which `systemd-tmpfiles-setup-dev.service` would otherwise
/// write), `/sys` and `/proc/sys` read-only (so `systemd-sysctl.service` and the binfmt units
/// skip themselves through `ConditionPathIsReadWrite=`, and nothing in the namespace can write
/// the host's kernel settings or trigger udev), the bounding set of [`CONTAINER_CAPS`] and
/// `$container` in PID 1's environment. Debian's own boot graph stays as installed: every
/// `.wants/` directory under `/usr/lib/systemd/system` and `default.target` →
/// `graphical.target`; nothing is masked. Only the enablement links in `/etc/systemd/system`
/// (the host's and those the packages' postinst scripts created) are removed: the image enables
/// nothing, each test starts the service it exercises.
const NAMESPACE_SETUP: &str = r#"set -e
    cache=$0 policy=$1 scratch=$2 caps=$3 container=$4
    shift 4
    mount -t tmpfs -o mode=755 tmpfs "$scratch"
    mkdir "$scratch/etc" "$scratch/etc.work" "$scratch/var" "$scratch/var.work"
    mount -t overlay overlay -o "lowerdir=$cache/upper/usr:/usr" /usr
    for d in etc var; do
        mount -t overlay overlay \
            -o "lowerdir=$cache/upper/$d:/$d,upperdir=$scratch/$d,workdir=$scratch/$d.work" "/$d"
    done
    ip link set lo up
    mount -t tmpfs -o mode=755 tmpfs /run
    mkdir -m 1777 /run/lock
    cp "$policy"/*.conf /etc/dbus-1/system.d/
    # The checkout (unitd, the policy) may live under /tmp, which the fresh /tmp below hides:
    # run a copy of unitd from the namespace's own /run.
    bin=$1
    shift
    mkdir -m 700 /run/unitd-test
    cp "$bin" /run/unitd-test/unitd
    # The container's own /dev.
    mkdir "$scratch/hostdev"
    mount --bind /dev "$scratch/hostdev"
    mount -t tmpfs -o mode=755,nosuid tmpfs /dev
    for n in null zero full random urandom tty; do
        touch "/dev/$n"
        mount --bind "$scratch/hostdev/$n" "/dev/$n"
    done
    umount "$scratch/hostdev"
    mkdir /dev/pts /dev/shm
    mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts /dev/pts
    ln -s pts/ptmx /dev/ptmx
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
    ln -s /proc/self/fd /dev/fd
    ln -s /proc/self/fd/0 /dev/stdin
    ln -s /proc/self/fd/1 /dev/stdout
    ln -s /proc/self/fd/2 /dev/stderr
    mount -t tmpfs -o mode=1777 tmpfs /tmp
    # /sys (every mount below it) and /proc/sys read-only, in this mount namespace only.
    for m in $(awk '$5 ~ "^/sys(/|$)" {print $5}' /proc/self/mountinfo); do
        mount -o remount,bind,ro "$m"
    done
    mount --bind /proc/sys /proc/sys
    mount -o remount,bind,ro /proc/sys
    find /etc/systemd/system -mindepth 2 -path '*.wants/*' -delete
    export container
    exec setpriv --bounding-set "$caps" /run/unitd-test/unitd "$@""#;

/// The cache directory: `$UNITD_CORPUS_CACHE`, else `target/corpus-root` next to the test
/// binary's profile directory.
fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("UNITD_CORPUS_CACHE") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/corpus-<hash>
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the test binary lives under target/")
        .to_path_buf();
    target.join("corpus-root")
}

/// The file-system type of the directory `dir` is in (`stat -f`), e.g. `ext2/ext3`, `tmpfs`.
fn fs_type(dir: &Path) -> String {
    let out = Command::new("stat")
        .args(["-f", "-c", "%T"])
        .arg(dir)
        .output()
        .expect("run stat");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn sha_of(path: &str) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("run sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}

/// Install the corpus into the cache (once per test binary); `None` (after printing why)
/// when the test cannot run here. Panics on a real failure, and under CI when apt is
/// unreachable.
fn corpus_root() -> Option<&'static Path> {
    static ROOT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let root = ROOT.get_or_init(install_corpus);
    match root {
        Ok(p) => Some(p.as_path()),
        Err(why) => {
            assert!(!in_ci(), "{why}");
            eprintln!("skipped: {why}");
            None
        }
    }
}

fn install_corpus() -> Result<PathBuf, String> {
    let mut missing = Vec::new();
    for tool in [
        "apt-get",
        "dpkg",
        "nsenter",
        "sha256sum",
        "python3",
        "setpriv",
    ] {
        if which(tool).is_none() {
            missing.push(tool);
        }
    }
    if !missing.is_empty() {
        return Err(format!("missing tools: {}", missing.join(", ")));
    }
    if !fs::read_to_string("/proc/filesystems")
        .unwrap_or_default()
        .contains("overlay")
    {
        return Err("the kernel has no overlayfs".into());
    }
    let cache = cache_dir();
    fs::create_dir_all(&cache).unwrap_or_else(|e| panic!("create {}: {e}", cache.display()));
    // An overlay's upper layer cannot live on overlayfs (a container's root file system).
    let kind = fs_type(&cache);
    if kind == "overlayfs" {
        return Err(format!(
            "the corpus cache {} is on overlayfs, which cannot hold an overlay's upper layer: \
             set UNITD_CORPUS_CACHE to a directory on ext4, xfs, btrfs or tmpfs",
            cache.display()
        ));
    }
    let status_before = sha_of("/var/lib/dpkg/status");
    // The cache is valid for this package list, installed by this script over this host's
    // installed packages.
    let script = repo_root().join("tools/corpus-root.sh");
    let stamp_text = format!(
        "{status_before}\n{}\n{}\n",
        sha_of(&script.display().to_string()),
        PACKAGES.join(" ")
    );
    let stamp = cache.join("stamp");
    if read_lossy(&stamp) == stamp_text {
        return Ok(cache);
    }
    clear_cache(&cache);
    let mut cmd = Command::new(&script);
    cmd.arg(&cache)
        .args(PACKAGES)
        .env_clear()
        .env("PATH", STD_PATH)
        .env("LANG", "C.UTF-8");
    let out = run_with_timeout(&mut cmd, "tools/corpus-root.sh", INSTALL_TIMEOUT);
    let status_after = sha_of("/var/lib/dpkg/status");
    assert_eq!(
        status_before,
        status_after,
        "the install changed the host's /var/lib/dpkg/status\n{}",
        out.dump()
    );
    match out.code {
        0 => {}
        2 => {
            clear_cache(&cache);
            return Err(format!(
                "apt could not fetch the corpus packages (no network or mirror?)\n{}",
                tail(&out.all(), 20)
            ));
        }
        _ => panic!("installing the corpus failed\n{}", out.dump()),
    }
    fs::write(&stamp, stamp_text).unwrap();
    Ok(cache)
}

/// Remove what the install left in `cache` (only what it creates there).
fn clear_cache(cache: &Path) {
    let _ = fs::remove_file(cache.join("stamp"));
    for sub in ["upper", "work"] {
        let p = cache.join(sub);
        if p.exists() {
            fs::remove_dir_all(&p).unwrap_or_else(|e| panic!("remove {}: {e}", p.display()));
        }
    }
}

/// Whether the test can run: the harness's tools and the installed corpus.
fn prerequisites() -> Option<&'static Path> {
    if !RealEnv::check() || skip_in_reference_mode("needs unitd as PID 1") {
        return None;
    }
    corpus_root()
}

/// `unitd init` as PID 1 of its own namespaces over the corpus root.
struct Box_ {
    _dir: TestDir,
    unshare: Child,
    /// unitd's PID as the host sees it.
    pid: u32,
    log: PathBuf,
}

impl Box_ {
    fn boot(cache: &Path) -> Box_ {
        let dir = TestDir::new();
        let scratch = dir.path().join("scratch");
        fs::create_dir_all(&scratch).unwrap();
        let log = dir.path().join("unitd.log");
        let mut cmd = common::init_ns::unshare_container(NAMESPACE_SETUP);
        cmd.arg(cache)
            .arg(repo_root().join("dbus-policy"))
            .arg(&scratch)
            .arg(CONTAINER_CAPS)
            .arg(CONTAINER)
            .arg(unitd_bin())
            .args(["init", "--state-dir", "/var/lib/unitd"]);
        let (unshare, pid) = common::init_ns::spawn_init(cmd, &log);
        let b = Box_ {
            _dir: dir,
            unshare,
            pid,
            log,
        };
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let out = b.systemctl(&["is-active", "default.target"]);
            if out.stdout.trim() == "active" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "unitd init did not come up:\n{}\n{}",
                out.dump(),
                b.log_text()
            );
            thread::sleep(Duration::from_millis(50));
        }
        b
    }

    fn log_text(&self) -> String {
        read_lossy(&self.log)
    }

    /// Run `program args…` inside the namespaces with a plain client environment.
    fn run(&self, program: &str, args: &[&str]) -> Output {
        common::init_ns::nsenter_client(self.pid, program, args, true, &[], TIMEOUT)
    }

    /// Stock `systemctl --no-pager ARGS…` in the namespace, over the system bus.
    fn systemctl(&self, args: &[&str]) -> Output {
        let mut full = vec!["--no-pager"];
        full.extend_from_slice(args);
        self.run("systemctl", &full)
    }

    /// `systemctl ARGS…`, which must succeed.
    fn expect_ok(&self, args: &[&str]) -> Output {
        let out = self.systemctl(args);
        assert_eq!(out.code, 0, "{}\n{}", out.dump(), self.log_text());
        out
    }

    /// One property of a unit (`systemctl show -p NAME --value`).
    fn prop(&self, unit: &str, name: &str) -> String {
        self.systemctl(&["show", "-p", name, "--value", unit])
            .stdout
            .trim()
            .to_string()
    }

    /// The parent of `ns_pid` (both as PIDs inside the namespace).
    fn ppid_in_ns(&self, ns_pid: u32) -> Option<u32> {
        let out = self.run("cat", &[&format!("/proc/{ns_pid}/status")]);
        out.stdout
            .lines()
            .find_map(|l| l.strip_prefix("PPid:"))
            .and_then(|p| p.trim().parse().ok())
    }

    /// The processes of the namespace: (PID inside, argv).
    fn processes(&self) -> Vec<(u32, String)> {
        let mut out: Vec<(u32, String)> = common::init_ns::ns_processes(self.pid)
            .into_iter()
            .map(|(pid, _, ns_pid)| (ns_pid, proc_cmdline(pid).join(" ")))
            .collect();
        out.sort();
        out
    }
}

impl Drop for Box_ {
    fn drop(&mut self) {
        common::init_ns::stop_init(&mut self.unshare, self.pid);
    }
}

/// A functional probe: `Ok(())` when the service answers over its protocol, else why not.
type Probe = fn(&Box_) -> Result<(), String>;

/// One corpus entry.
struct Service {
    /// The unit `systemctl start` is given.
    unit: &'static str,
    probe: Probe,
    /// Whether the unit has `ExecReload=` (then `systemctl reload` is exercised).
    reload: bool,
    /// How the main process's command line starts (which process systemd would pick).
    main: &'static str,
    /// Where the unit's `PIDFile=` is, if it has one.
    pid_file: Option<&'static str>,
    /// A shell snippet run in the namespace before the start (test input for the probe).
    prepare: &'static str,
}

/// Run a Python snippet inside the namespace; `Ok` when it exits 0.
fn python(b: &Box_, code: &str) -> Result<String, String> {
    let out = b.run("python3", &["-c", code]);
    if out.code == 0 {
        Ok(out.stdout)
    } else {
        Err(out.dump())
    }
}

/// Wait (up to [`TIMEOUT`]) for `probe` to pass; panic with its last error.
fn probe_until_ok(b: &Box_, what: &str, probe: Probe) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match probe(b) {
            Ok(()) => return,
            Err(e) if Instant::now() >= deadline => {
                panic!("{what}: the probe failed: {e}\n{}", b.log_text())
            }
            Err(_) => thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// The corpus cycle for one service (see the module doc).
fn exercise(svc: &Service) {
    let Some(cache) = prerequisites() else {
        return;
    };
    let b = Box_::boot(cache);
    let unit = svc.unit;
    let before: Vec<u32> = b.processes().into_iter().map(|(p, _)| p).collect();
    if !svc.prepare.is_empty() {
        let out = b.run("sh", &["-c", svc.prepare]);
        assert_eq!(out.code, 0, "{unit}: preparing\n{}", out.dump());
    }

    let start = b.systemctl(&["start", unit]);
    assert_eq!(
        start.code,
        0,
        "{}\n{}\n{}",
        start.dump(),
        b.systemctl(&["status", unit]).dump(),
        b.log_text()
    );
    assert_eq!(b.prop(unit, "ActiveState"), "active", "{}", b.log_text());
    probe_until_ok(&b, &format!("{unit} after start"), svc.probe);

    let main_pid = check_main_pid(&b, unit, svc.main, svc.pid_file);

    if svc.reload {
        b.expect_ok(&["reload", unit]);
        // A notify service may announce its own reload (RELOADING=1 … READY=1) after the
        // ExecReload= commands that triggered it ended (haproxy's master on SIGUSR2): then the
        // unit is `reloading` for a moment, under systemd too.
        wait_for(&format!("{unit} active after reload"), TIMEOUT, || {
            b.prop(unit, "ActiveState") == "active"
        });
        probe_until_ok(&b, &format!("{unit} after reload"), svc.probe);
        let after: u32 = b.prop(unit, "MainPID").parse().unwrap_or(0);
        assert_eq!(after, main_pid, "{unit}: reload keeps the main PID");
    }

    b.expect_ok(&["stop", unit]);
    check_stopped(&b, unit, &before);
}

/// The unit's `MainPID`: a live process of the namespace, the PID in `pid_file` if given, and
/// what `systemctl status` shows as `Main PID:`.
fn check_main_pid(b: &Box_, unit: &str, main: &str, pid_file: Option<&str>) -> u32 {
    let main_pid: u32 = b.prop(unit, "MainPID").parse().unwrap_or(0);
    assert!(main_pid > 1, "{unit}: MainPID {main_pid}\n{}", b.log_text());
    let procs = b.processes();
    let argv = procs
        .iter()
        .find(|(p, _)| *p == main_pid)
        .map(|(_, argv)| argv.as_str())
        .unwrap_or_else(|| panic!("{unit}: main PID {main_pid} is not running: {procs:?}"));
    assert!(
        argv.starts_with(main),
        "{unit}: the main PID {main_pid} is `{argv}`, not the daemon `{main}…`: {procs:?}"
    );
    // The daemon itself, not one of its workers: a child of PID 1 (spawned by unitd or, for
    // a forking daemon, re-parented to it).
    let ppid = b.ppid_in_ns(main_pid);
    assert_eq!(
        ppid,
        Some(1),
        "{unit}: the main PID {main_pid} is a child of PID 1: {procs:?}"
    );
    if let Some(file) = pid_file {
        let cat = b.run("cat", &[file]);
        assert_eq!(
            cat.stdout.trim(),
            main_pid.to_string(),
            "{unit}: MainPID is the PID in {file}\n{}",
            cat.dump()
        );
    }
    let status = b.systemctl(&["status", unit]);
    assert!(
        status.stdout.contains(&format!("Main PID: {main_pid} ")),
        "{unit}: systemctl status shows the main PID {main_pid}\n{}",
        status.dump()
    );
    main_pid
}

/// After `systemctl stop`: `inactive` (not `failed`), no main PID, and none of the processes
/// the unit started (those not in `before`) left in the namespace.
fn check_stopped(b: &Box_, unit: &str, before: &[u32]) {
    assert_eq!(
        b.systemctl(&["is-active", unit]).stdout.trim(),
        "inactive",
        "{unit}: inactive, not failed, after stop\n{}",
        b.log_text()
    );
    assert_eq!(b.prop(unit, "Result"), "success", "{}", b.log_text());
    assert_eq!(b.prop(unit, "MainPID"), "0");
    let left: Vec<_> = b
        .processes()
        .into_iter()
        .filter(|(p, _)| !before.contains(p))
        .collect();
    assert!(
        left.is_empty(),
        "{unit}: processes left after stop: {left:?}\n{}",
        b.log_text()
    );
}

fn http_probe(b: &Box_) -> Result<(), String> {
    python(
        b,
        "import urllib.request as u; r = u.urlopen('http://127.0.0.1/', timeout=5); \
         assert r.status == 200, r.status",
    )
    .map(drop)
}

#[test]
fn nginx_forking_with_pidfile() {
    exercise(&Service {
        unit: "nginx.service",
        main: "nginx: master process",
        probe: http_probe,
        reload: true,
        pid_file: Some("/run/nginx.pid"),
        prepare: "",
    });
}

#[test]
fn apache2_forking_without_pidfile() {
    exercise(&Service {
        unit: "apache2.service",
        main: "/usr/sbin/apache2 -k start",
        probe: http_probe,
        reload: true,
        pid_file: None,
        prepare: "",
    });
}

fn memcached_probe(b: &Box_) -> Result<(), String> {
    let out = python(
        b,
        "import socket; s = socket.create_connection(('127.0.0.1', 11211), timeout=5); \
         s.sendall(b'stats\\r\\n'); d = b''\n\
         while not d.endswith(b'END\\r\\n'): d += s.recv(4096)\n\
         print(d.decode())",
    )?;
    if out.contains("STAT pid ") {
        Ok(())
    } else {
        Err(out)
    }
}

#[test]
fn memcached_cache_daemon() {
    exercise(&Service {
        unit: "memcached.service",
        main: "/usr/bin/memcached",
        probe: memcached_probe,
        reload: false,
        pid_file: Some("/run/memcached/memcached.pid"),
        prepare: "",
    });
}

fn redis_probe(b: &Box_) -> Result<(), String> {
    let out = python(
        b,
        "import socket; s = socket.create_connection(('127.0.0.1', 6379), timeout=5); \
         s.sendall(b'PING\\r\\n'); print(s.recv(64).decode())",
    )?;
    if out.trim() == "+PONG" {
        Ok(())
    } else {
        Err(out)
    }
}

#[test]
fn redis_notify_user_runtime_directory() {
    exercise(&Service {
        unit: "redis.service",
        main: "/usr/bin/redis-server",
        probe: redis_probe,
        reload: false,
        pid_file: Some("/run/redis/redis-server.pid"),
        prepare: "",
    });
}

fn ssh_probe(b: &Box_) -> Result<(), String> {
    let out = python(
        b,
        "import os, socket; assert os.path.getsize('/etc/ssh/ssh_host_ed25519_key.pub') > 0; \
         s = socket.create_connection(('127.0.0.1', 22), timeout=5); print(s.recv(256).decode())",
    )?;
    if out.starts_with("SSH-2.0-") {
        Ok(())
    } else {
        Err(out)
    }
}

#[test]
fn openssh_server() {
    exercise(&Service {
        unit: "ssh.service",
        main: "sshd: /usr/sbin/sshd",
        probe: ssh_probe,
        reload: true,
        pid_file: None,
        prepare: "",
    });
}

fn cron_probe(b: &Box_) -> Result<(), String> {
    let out = b.run("cat", &["/run/corpus-cron"]);
    if out.stdout.trim() != "ran by cron" {
        return Err(out.dump());
    }
    // `ExecStart=/usr/sbin/cron -f $EXTRA_OPTS` with EXTRA_OPTS unset (/etc/default/cron
    // only sets READ_ENV): the variable vanishes from argv, no empty argument.
    python(
        b,
        r#"
pid = open('/run/crond.pid').read().split()[0]
argv = open('/proc/%s/cmdline' % pid, 'rb').read()
assert argv == b'/usr/sbin/cron\0-f\0', argv
"#,
    )
    .map(drop)
}

#[test]
fn cron_runs_its_reboot_jobs() {
    exercise(&Service {
        unit: "cron.service",
        main: "/usr/sbin/cron -f",
        probe: cron_probe,
        reload: false,
        pid_file: Some("/run/crond.pid"),
        prepare: "echo '@reboot root echo ran by cron > /run/corpus-cron' > /etc/cron.d/corpus",
    });
}

fn haproxy_probe(b: &Box_) -> Result<(), String> {
    // The runtime API on the stats socket of haproxy.cfg (served by the worker) and the
    // master CLI (served by the master, whose PID is the unit's main PID).
    let out = python(
        b,
        r#"
import socket
def ask(path, cmd):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    s.sendall(cmd + b'\n')
    s.shutdown(socket.SHUT_WR)
    d = b''
    while True:
        c = s.recv(4096)
        if not c:
            return d.decode()
        d += c
print(ask('/run/haproxy/admin.sock', b'show info'))
print(ask('/run/haproxy-master.sock', b'show proc'))
"#,
    )?;
    if out.contains("Name: HAProxy") && out.contains("master") {
        Ok(())
    } else {
        Err(out)
    }
}

#[test]
fn haproxy_multi_line_reload() {
    exercise(&Service {
        unit: "haproxy.service",
        main: "/usr/sbin/haproxy -Ws",
        probe: haproxy_probe,
        reload: true,
        pid_file: Some("/run/haproxy.pid"),
        prepare: "",
    });
}

fn postgres_probe(b: &Box_) -> Result<(), String> {
    let out = b.run(
        "runuser",
        &["-u", "postgres", "--", "psql", "-tAc", "SELECT 1"],
    );
    if out.code == 0 && out.stdout.trim() == "1" {
        Ok(())
    } else {
        Err(out.dump())
    }
}

#[test]
fn postgresql_template_unit() {
    exercise(&Service {
        unit: "postgresql@15-main.service",
        main: "/usr/lib/postgresql/15/bin/postgres",
        probe: postgres_probe,
        reload: true,
        pid_file: Some("/run/postgresql/15-main.pid"),
        prepare: "",
    });
}

#[test]
fn rsyslog_fed_through_socket_activation() {
    let Some(cache) = prerequisites() else {
        return;
    };
    let b = Box_::boot(cache);
    let before: Vec<u32> = b.processes().into_iter().map(|(p, _)| p).collect();
    // Only the socket: systemd's syslog.socket (ListenDatagram=/run/systemd/journal/syslog).
    b.expect_ok(&["start", "syslog.socket"]);
    assert_eq!(b.prop("syslog.socket", "ActiveState"), "active");
    assert_eq!(b.prop("rsyslog.service", "ActiveState"), "inactive");
    // A datagram on the socket activates syslog.service, the alias the rsyslog package
    // links to rsyslog.service, which gets the socket and writes the message out.
    let probe: Probe = |b| {
        let out = b.run(
            "logger",
            &[
                "--socket",
                "/run/systemd/journal/syslog",
                "-t",
                "corpus",
                "fed through socket activation",
            ],
        );
        if out.code != 0 {
            return Err(out.dump());
        }
        let log = b.run("cat", &["/var/log/syslog"]);
        if log.stdout.contains("corpus: fed through socket activation") {
            Ok(())
        } else {
            Err(log.dump())
        }
    };
    probe_until_ok(&b, "rsyslog via syslog.socket", probe);
    assert_eq!(
        b.prop("rsyslog.service", "ActiveState"),
        "active",
        "{}",
        b.log_text()
    );
    check_main_pid(&b, "rsyslog.service", "/usr/sbin/rsyslogd", None);
    b.expect_ok(&["stop", "rsyslog.service", "syslog.socket"]);
    assert_eq!(b.prop("syslog.socket", "ActiveState"), "inactive");
    check_stopped(&b, "rsyslog.service", &before);
}

#[test]
fn the_system_bus_itself() {
    let Some(cache) = prerequisites() else {
        return;
    };
    let b = Box_::boot(cache);
    // Booted from Debian's dbus.socket and dbus.service; reload is its ExecReload=
    // (dbus-send … ReloadConfig) and keeps the daemon.
    let probe: Probe = |b| {
        let out = b.run(
            "busctl",
            &[
                "--system",
                "status",
                "--no-pager",
                "org.freedesktop.systemd1",
            ],
        );
        if out.stdout.contains("PID=1\n") {
            Ok(())
        } else {
            Err(out.dump())
        }
    };
    probe_until_ok(&b, "dbus after boot", probe);
    let main_pid = check_main_pid(&b, "dbus.service", "/usr/bin/dbus-daemon", None);
    b.expect_ok(&["reload", "dbus.service"]);
    probe_until_ok(&b, "dbus after reload", probe);
    assert_eq!(b.prop("dbus.service", "MainPID"), main_pid.to_string());
    // Stopping the bus over the bus would socket-activate it again at the next call: stop it
    // through unitd's private socket, as systemctl does when no bus is forced.
    let private = |args: &[&str]| {
        let pid = b.pid.to_string();
        let mut cmd = Command::new("nsenter");
        cmd.args([
            "-t",
            &pid,
            "-p",
            "-m",
            "-n",
            "--",
            "systemctl",
            "--no-pager",
        ])
        .args(args)
        .env_clear()
        .env("PATH", STD_PATH)
        .env("SYSTEMD_COLORS", "0");
        run_with_timeout(&mut cmd, &format!("systemctl {}", args.join(" ")), TIMEOUT)
    };
    let out = private(&["stop", "dbus.socket", "dbus.service"]);
    assert_eq!(out.code, 0, "{}\n{}", out.dump(), b.log_text());
    let out = private(&["is-active", "dbus.socket", "dbus.service"]);
    assert_eq!(
        out.stdout.split_whitespace().collect::<Vec<_>>(),
        ["inactive", "inactive"],
        "{}\n{}",
        out.dump(),
        b.log_text()
    );
    assert!(
        !b.processes().iter().any(|(p, _)| *p == main_pid),
        "dbus-daemon {main_pid} is gone: {:?}",
        b.processes()
    );
}

#[test]
fn postgresql_umbrella_unit_propagates_reload_and_stop() {
    let Some(cache) = prerequisites() else {
        return;
    };
    let b = Box_::boot(cache);
    let before: Vec<u32> = b.processes().into_iter().map(|(p, _)| p).collect();
    let cluster = "postgresql@15-main.service";
    // What `systemctl enable postgresql` gives at boot: the umbrella and the cluster.
    b.expect_ok(&["start", "postgresql.service", cluster]);
    probe_until_ok(&b, "postgresql@15-main", postgres_probe);
    let main_pid = check_main_pid(
        &b,
        cluster,
        "/usr/lib/postgresql/15/bin/postgres",
        Some("/run/postgresql/15-main.pid"),
    );
    // ReloadPropagatedFrom=postgresql.service: reloading the umbrella reloads the cluster
    // (pg_ctlcluster reload: the postmaster logs the SIGHUP).
    let sighups = |b: &Box_| {
        b.run("cat", &["/var/log/postgresql/postgresql-15-main.log"])
            .stdout
            .matches("received SIGHUP, reloading configuration files")
            .count()
    };
    let before_reload = sighups(&b);
    b.expect_ok(&["reload", "postgresql.service"]);
    wait_for("the reload to reach the cluster", TIMEOUT, || {
        sighups(&b) > before_reload
    });
    assert_eq!(b.prop(cluster, "MainPID"), main_pid.to_string());
    probe_until_ok(&b, "postgresql@15-main after reload", postgres_probe);
    // PartOf=postgresql.service: stopping the umbrella stops the cluster — after it, as the
    // cluster is Before= the umbrella, so systemctl (waiting for its own job only) may return
    // while the cluster is still deactivating, as with systemd.
    b.expect_ok(&["stop", "postgresql.service"]);
    assert_eq!(b.prop("postgresql.service", "ActiveState"), "inactive");
    wait_for("the cluster to stop with the umbrella", TIMEOUT, || {
        b.prop(cluster, "ActiveState") != "deactivating"
    });
    check_stopped(&b, cluster, &before);
}

#[test]
fn openssh_server_skips_itself_through_its_own_condition() {
    let Some(cache) = prerequisites() else {
        return;
    };
    let b = Box_::boot(cache);
    // ssh.service: ConditionPathExists=!/etc/ssh/sshd_not_to_be_run — the package's own
    // off switch. The start job succeeds, the unit is skipped, nothing runs.
    let before: Vec<u32> = b.processes().into_iter().map(|(p, _)| p).collect();
    let out = b.run("touch", &["/etc/ssh/sshd_not_to_be_run"]);
    assert_eq!(out.code, 0, "{}", out.dump());
    b.expect_ok(&["start", "ssh.service"]);
    assert_eq!(b.prop("ssh.service", "ActiveState"), "inactive");
    assert_eq!(b.prop("ssh.service", "ConditionResult"), "no");
    let status = b.systemctl(&["status", "ssh.service"]);
    assert!(
        status
            .stdout
            .contains("ConditionPathExists=!/etc/ssh/sshd_not_to_be_run was not met"),
        "{}",
        status.dump()
    );
    let new: Vec<_> = b
        .processes()
        .into_iter()
        .filter(|(p, _)| !before.contains(p))
        .collect();
    assert!(new.is_empty(), "nothing started: {new:?}");
}

/// The targets of Debian's boot (`default.target` is `graphical.target`) whose requirements
/// must each run or skip themselves.
const BOOT_TARGETS: &[&str] = &[
    "sysinit.target",
    "sockets.target",
    "basic.target",
    "timers.target",
    "paths.target",
    "multi-user.target",
    "graphical.target",
];

/// Unit types unitd loads but does not run (yet): their start jobs end `unsupported` once
/// their conditions hold.
const UNRUN_TYPES: &[&str] = &["automount", "swap", "path", "device"];

/// How a unit the boot pulled in ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fate {
    /// It ran: active, or a oneshot that ran and exited successfully.
    Ran,
    /// Skipped by its own conditions (the first unmet one).
    Skipped(String),
    /// A type unitd does not run, whose conditions held: its job ended `unsupported`.
    Unsupported,
    /// Not loaded (`not-found`, `masked`, `bad-setting`): nothing to start, a `Wants=` is
    /// dropped as under systemd.
    NotLoaded(String),
    /// Anything else (failed, never started): a defect.
    Wrong(String),
}

/// One unit of the boot table.
struct BootRow {
    unit: String,
    wanted_by: String,
    props: std::collections::HashMap<String, String>,
    fate: Fate,
}

/// Every unit the [`BOOT_TARGETS`] pull in (`Wants=`, `Requires=`, `Requisite=`,
/// `BindsTo=`, `.wants/` included), with how it ended up.
fn boot_table(b: &Box_) -> Vec<BootRow> {
    let mut units: Vec<(String, String)> = Vec::new();
    for target in BOOT_TARGETS {
        let out = b.systemctl(&[
            "show",
            "-p",
            "Wants",
            "-p",
            "Requires",
            "-p",
            "Requisite",
            "-p",
            "BindsTo",
            target,
        ]);
        for line in out.stdout.lines() {
            let Some((_, list)) = line.split_once('=') else {
                continue;
            };
            for u in list.split_whitespace() {
                if !units.iter().any(|(n, _)| n == u) {
                    units.push((u.to_string(), target.to_string()));
                }
            }
        }
    }
    let mut args = vec![
        "show",
        "-p",
        "Id,LoadState,ActiveState,SubState,Result,ConditionResult,ConditionTimestampMonotonic,\
         ExecMainStartTimestampMonotonic,ExecMainStatus",
    ];
    args.extend(units.iter().map(|(u, _)| u.as_str()));
    let out = b.systemctl(&args);
    let blocks: Vec<&str> = out.stdout.split("\n\n").collect();
    assert_eq!(blocks.len(), units.len(), "{}", out.dump());
    let mut rows = Vec::new();
    for ((unit, wanted_by), block) in units.into_iter().zip(blocks) {
        let props: std::collections::HashMap<String, String> = block
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let p = |k: &str| props.get(k).map(String::as_str).unwrap_or("");
        let kind = unit.rsplit_once('.').map(|(_, t)| t).unwrap_or("");
        let checked = p("ConditionTimestampMonotonic") != "0";
        let fate = if p("LoadState") != "loaded" {
            Fate::NotLoaded(p("LoadState").to_string())
        } else if p("ActiveState") == "failed" {
            Fate::Wrong(format!("failed ({})", p("Result")))
        } else if checked && p("ConditionResult") == "no" {
            let status = b.systemctl(&["status", &unit]).stdout;
            let unmet = status
                .lines()
                .find(|l| l.contains("was not met"))
                .map(|l| {
                    l.trim_start_matches([' ', '└', '├', '─'])
                        .trim()
                        .to_string()
                })
                .unwrap_or_default();
            Fate::Skipped(unmet)
        } else if matches!(p("ActiveState"), "active" | "reloading")
            || (p("ActiveState") == "inactive"
                && p("Result") == "success"
                && !matches!(p("ExecMainStartTimestampMonotonic"), "" | "0")
                && p("ExecMainStatus") == "0")
        {
            // Active, or a oneshot that ran and exited successfully.
            Fate::Ran
        } else if checked
            && p("ConditionResult") == "yes"
            && UNRUN_TYPES.contains(&kind)
            && p("ActiveState") == "inactive"
        {
            Fate::Unsupported
        } else {
            Fate::Wrong(format!("{}/{}", p("ActiveState"), p("SubState")))
        };
        rows.push(BootRow {
            unit,
            wanted_by,
            props,
            fate,
        });
    }
    rows
}

fn format_boot_table(rows: &[BootRow]) -> String {
    let mut out = String::from("unit | pulled in by | state | fate\n");
    for r in rows {
        let p = |k: &str| r.props.get(k).cloned().unwrap_or_default();
        out += &format!(
            "{} | {} | {}/{} | {:?}\n",
            r.unit,
            r.wanted_by,
            p("ActiveState"),
            p("SubState"),
            r.fate
        );
    }
    out
}

/// Debian's own boot graph, unmodified, in a container-like namespace: every unit
/// `sysinit.target`, `sockets.target`, `basic.target`, `timers.target`, `paths.target`,
/// `multi-user.target` and `graphical.target` pull in runs for real or skips itself through its
/// own conditions (or, for a type unitd does not run, is reported unsupported — never active);
/// the system is `running`, nothing failed, no job is left.
#[test]
fn debian_boots_its_own_graph() {
    let Some(cache) = prerequisites() else {
        return;
    };
    let b = Box_::boot(cache);
    // `--wait`: until start-up finished (`StartupFinished`), as container health checks use it.
    let state = b.systemctl(&["is-system-running", "--wait"]);
    let rows = boot_table(&b);
    let table = format_boot_table(&rows);
    eprintln!("{table}");
    let ctx = || format!("{table}\n{}", b.log_text());
    assert_eq!(
        state.stdout.trim(),
        "running",
        "{}\n{}",
        state.dump(),
        ctx()
    );
    let jobs = b.systemctl(&["list-jobs"]);
    assert!(
        jobs.stdout.contains("No jobs running."),
        "{}\n{}",
        jobs.dump(),
        ctx()
    );
    let failed = b.systemctl(&["--failed", "--plain", "--no-legend"]);
    assert_eq!(failed.stdout.trim(), "", "{}\n{}", failed.dump(), ctx());
    let finish = b.systemctl(&["show", "-p", "FinishTimestampMonotonic", "--value"]);
    assert_ne!(finish.stdout.trim(), "0", "{}", finish.dump());
    let wrong: Vec<_> = rows
        .iter()
        .filter(|r| matches!(r.fate, Fate::Wrong(_)))
        .map(|r| &r.unit)
        .collect();
    assert!(
        wrong.is_empty(),
        "units neither ran nor skipped: {wrong:?}\n{}",
        ctx()
    );
    assert_eq!(
        b.systemctl(&["get-default"]).stdout.trim(),
        "graphical.target"
    );
    assert_eq!(b.prop("graphical.target", "ActiveState"), "active");

    let fate = |unit: &str| {
        rows.iter()
            .find(|r| r.unit == unit)
            .map(|r| r.fate.clone())
            .unwrap_or_else(|| panic!("{unit} is not pulled in by the boot\n{table}"))
    };
    // What runs in a container, for real.
    for unit in [
        "systemd-tmpfiles-setup.service",
        "systemd-tmpfiles-setup-dev.service",
        "systemd-journald.service",
        "systemd-journald.socket",
        "systemd-journal-flush.service",
        "dbus.socket",
        "dbus.service",
        "systemd-logind.service",
        "systemd-user-sessions.service",
        "systemd-update-utmp.service",
        "systemd-tmpfiles-clean.timer",
        // Mounted by the stock mount inside the container's mount namespace.
        "dev-hugepages.mount",
        "dev-mqueue.mount",
        "sys-fs-fuse-connections.mount",
    ] {
        assert_eq!(fate(unit), Fate::Ran, "{unit}\n{table}");
    }
    // What skips itself in a container, through its own conditions.
    for (unit, condition) in [
        (
            "systemd-sysctl.service",
            "ConditionPathIsReadWrite=/proc/sys/net ",
        ),
        (
            "systemd-modules-load.service",
            "ConditionCapability=CAP_SYS_MODULE ",
        ),
        (
            "kmod-static-nodes.service",
            "ConditionCapability=CAP_SYS_MODULE ",
        ),
        (
            "systemd-random-seed.service",
            "ConditionVirtualization=!container ",
        ),
        (
            "systemd-repart.service",
            "ConditionVirtualization=!container ",
        ),
        (
            "systemd-machine-id-commit.service",
            "ConditionPathIsMountPoint=/etc/machine-id ",
        ),
        (
            "sys-kernel-debug.mount",
            "ConditionCapability=CAP_SYS_RAWIO ",
        ),
        // A socket of a kind unitd does not open (ListenNetlink=): its conditions still decide.
        (
            "systemd-journald-audit.socket",
            "ConditionCapability=CAP_AUDIT_READ ",
        ),
        (
            "proc-sys-fs-binfmt_misc.automount",
            "ConditionPathIsReadWrite=/proc/sys ",
        ),
    ] {
        match fate(unit) {
            Fate::Skipped(why) => assert!(why.starts_with(condition), "{unit}: {why}\n{table}"),
            other => panic!("{unit}: {other:?}, not skipped by {condition}\n{table}"),
        }
    }
    // systemd-journald-dev-log.socket's Symlinks=/dev/log (haproxy binds /dev/log into its
    // chroot).
    assert_eq!(
        b.run("readlink", &["/dev/log"]).stdout.trim(),
        "/run/systemd/journal/dev-log"
    );
    // The container is announced as systemd's PID 1 announces it.
    assert_eq!(
        b.run("cat", &["/run/systemd/container"]).stdout.trim(),
        CONTAINER
    );
    assert_eq!(
        b.run("systemd-detect-virt", &["--container"]).stdout.trim(),
        "container-other"
    );
}
