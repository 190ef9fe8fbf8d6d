//! Acceptance: `unitd install --prefix DIR` / `unitd uninstall`. A private dbus-daemon is
//! configured with the prefix's directories (and, after them, a distribution-style stand-in
//! activation file with `Exec=/bin/false`); install asks that bus to `ReloadConfig`, the first
//! stock `systemctl` call activates the installed binary, the installed policy lets `nobody`
//! read but not mutate, a second instance refuses to start, and uninstall leaves nothing.
//!
//! The system-type bus runs in its own mount namespace with private `/run` (holding the
//! `/run/systemd/system` marker) and `/var/lib`, so the system-scope unitd it activates never
//! touches the host. Teardown kills the activated daemon by the PID the bus reports, then the
//! bus.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const SLEEPER: &str =
    "[Unit]\nDescription=Deployed sleeper\n\n[Service]\nExecStart=/bin/sleep infinity\n";

/// Every path under `root`, sorted (empty when `root` does not exist).
fn tree(root: &Path) -> Vec<PathBuf> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        if let Ok(rd) = std::fs::read_dir(p) {
            for e in rd.flatten() {
                out.push(e.path());
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    walk(&e.path(), out);
                }
            }
        }
    }
    let mut v = Vec::new();
    walk(root, &mut v);
    v.sort();
    v
}

fn unitd(args: &[&str], env: &[(String, String)]) -> Output {
    let mut cmd = Command::new(unitd_bin());
    cmd.args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    run_with_timeout(&mut cmd, &format!("unitd {}", args.join(" ")), TIMEOUT)
}

fn owner_pid(address: &str, name: &str) -> Option<u32> {
    let out = bus_driver_call(
        address,
        "GetConnectionUnixProcessID",
        &[&format!("string:{name}")],
    );
    if out.code != 0 {
        return None;
    }
    out.stdout.split_whitespace().nth(1)?.parse().ok()
}

fn activatable(address: &str) -> Vec<String> {
    let out = bus_driver_call(address, "ListActivatableNames", &[]);
    assert_eq!(out.code, 0, "{}", out.dump());
    out.stdout
        .split_whitespace()
        .filter(|w| *w != "array" && *w != "[" && *w != "]")
        .map(str::to_string)
        .collect()
}

/// Kill the activated daemons first, then the bus (teardown order of the harness).
struct Teardown {
    activated: Vec<TrackedPid>,
}

impl Drop for Teardown {
    fn drop(&mut self) {
        for p in &self.activated {
            p.terminate(TIMEOUT);
        }
    }
}

#[test]
fn system_install_into_a_prefix_is_activated_guarded_and_fully_uninstalled() {
    if !RealEnv::check() || skip_in_reference_mode("installs and activates unitd") {
        return;
    }
    for tool in ["setpriv", "unshare", "dbus-send"] {
        if which(tool).is_none() {
            eprintln!("skipped: {tool} missing");
            return;
        }
    }
    let dir = TestDir::new();
    dir.write_unit("sleeper.service", SLEEPER);
    let prefix = dir.path().join("prefix");
    let p = prefix.display().to_string();
    // A distribution's stand-in, searched after the prefix's directory.
    let standin = dir.path().join("standin");
    std::fs::create_dir(&standin).unwrap();
    std::fs::write(
        standin.join("org.freedesktop.systemd1.service"),
        "[D-BUS Service]\nName=org.freedesktop.systemd1\nExec=/bin/false\n",
    )
    .unwrap();
    // Debian's default-deny system bus, reading activation files and policy only from the
    // prefix (not the repository's copies).
    let base = std::fs::read_to_string(repo_root().join("dbus-policy/test/system.conf")).unwrap();
    let base: String = base
        .lines()
        .filter(|l| !l.contains("<include>../"))
        .map(|l| format!("{l}\n"))
        .collect();
    let conf = base.replace(
        "</busconfig>",
        &format!(
            "  <servicedir>{p}/share/dbus-1/system-services</servicedir>\n  \
             <servicedir>{}</servicedir>\n  <includedir>{p}/share/dbus-1/system.d</includedir>\n</busconfig>",
            standin.display()
        ),
    );
    let mut env = daemon_env(&dir);
    env.push((
        "SYSTEMD_UNIT_PATH".into(),
        dir.units().display().to_string(),
    ));
    let (bus, address) = spawn_private_run_bus(&dir, &conf, &env);
    let mut teardown = Teardown {
        activated: Vec::new(),
    };

    let mut client_env = system_client_env(&dir, &address);
    client_env.push(("SYSTEMCTL_FORCE_BUS".into(), "1".into()));
    let systemctl = |args: &[&str]| {
        let mut full = vec!["--no-pager"];
        full.extend_from_slice(args);
        let mut cmd = in_namespace("systemctl", &full, &client_env);
        run_with_timeout(&mut cmd, &format!("systemctl {}", full.join(" ")), TIMEOUT)
    };
    let as_nobody = |program: &str, args: &[&str]| {
        let mut full = vec![
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            program,
        ];
        full.extend_from_slice(args);
        let mut cmd = in_namespace("setpriv", &full, &client_env);
        run_with_timeout(&mut cmd, &format!("nobody: {program}"), TIMEOUT)
    };
    let log = || read_lossy(&bus.log);

    // Before install only the stand-in answers (and no policy lets calls through).
    let out = bus_driver_call(
        &address,
        "StartServiceByName",
        &[&format!("string:{SYSTEMD1}"), "uint32:0"],
    );
    assert_ne!(out.code, 0, "{}", out.dump());
    assert!(
        out.stderr.contains("exited with status 1"),
        "{}",
        out.dump()
    );
    let out = systemctl(&["list-units"]);
    assert_ne!(out.code, 0, "{}", out.dump());

    // Install, reloading the running bus.
    let installer_env = vec![("PATH".to_string(), STD_PATH.to_string())];
    let args = ["install", "--prefix", &p, "--bus", &address];
    let out = unitd(&args, &installer_env);
    assert_eq!(out.code, 0, "{}", out.dump());
    assert!(
        out.stdout.contains("reloaded the configuration"),
        "{}",
        out.dump()
    );
    let installed = tree(&prefix);
    let manifest = std::fs::read_to_string(prefix.join("share/unitd/install-manifest")).unwrap();
    for f in [
        "bin/unitd",
        "share/dbus-1/system-services/org.freedesktop.systemd1.service",
        "share/dbus-1/system-services/com.ubuntu.Upstart.service",
        "share/dbus-1/system.d/org.freedesktop.systemd1.conf",
        "share/dbus-1/system.d/com.ubuntu.Upstart.conf",
    ] {
        let path = prefix.join(f);
        assert!(installed.contains(&path), "{f} installed: {installed:?}");
        assert!(
            manifest.contains(&format!("file {}\n", path.display())),
            "{f} in the manifest:\n{manifest}"
        );
    }
    let activation = std::fs::read_to_string(
        prefix.join("share/dbus-1/system-services/org.freedesktop.systemd1.service"),
    )
    .unwrap();
    assert!(
        activation.contains(&format!("\nExec={p}/bin/unitd serve --system\n")),
        "{activation}"
    );
    // Idempotent: the same files, the same manifest.
    let out = unitd(&args, &installer_env);
    assert_eq!(out.code, 0, "{}", out.dump());
    assert_eq!(tree(&prefix), installed);
    assert_eq!(
        std::fs::read_to_string(prefix.join("share/unitd/install-manifest")).unwrap(),
        manifest
    );
    let names = activatable(&address);
    assert!(names.iter().any(|n| n == "com.ubuntu.Upstart"), "{names:?}");

    // The first call activates the installed binary, not the stand-in.
    let out = systemctl(&["list-units", "--all"]);
    let pid = owner_pid(&address, SYSTEMD1).expect("an owner after the first call");
    teardown.activated.push(TrackedPid::new(pid));
    assert_eq!(out.code, 0, "{}\n--- bus log ---\n{}", out.dump(), log());
    assert!(out.stdout.contains("sleeper.service"), "{}", out.dump());
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/exe")).unwrap(),
        prefix.join("bin/unitd")
    );
    assert_eq!(proc_cmdline(pid)[1..], ["serve", "--system"]);
    assert_eq!(owner_pid(&address, "com.ubuntu.Upstart"), Some(pid));

    // The installed policy: nobody may read, not mutate; the refusal is the bus's.
    let out = as_nobody("systemctl", &["--no-pager", "list-units", "--all"]);
    assert_eq!(out.code, 0, "{}", out.dump());
    assert!(out.stdout.contains("sleeper.service"), "{}", out.dump());
    let out = as_nobody("systemctl", &["--no-pager", "start", "sleeper.service"]);
    assert_eq!(out.code, 4, "{}", out.dump());
    assert!(out.stderr.contains("Access denied"), "{}", out.dump());
    let out = as_nobody(
        "dbus-send",
        &[
            "--system",
            "--print-reply",
            "--dest=org.freedesktop.systemd1",
            "/org/freedesktop/systemd1",
            "org.freedesktop.systemd1.Manager.StartUnit",
            "string:sleeper.service",
            "string:replace",
        ],
    );
    assert_ne!(out.code, 0, "{}", out.dump());
    assert!(
        out.stderr.contains("Rejected send message") && out.stderr.contains("StartUnit"),
        "{}",
        out.dump()
    );
    let out = systemctl(&["is-active", "sleeper.service"]);
    assert_eq!(out.stdout.trim(), "inactive", "{}", out.dump());

    // A second instance refuses: the name is owned.
    let second_state = dir.path().join("state2");
    let mut cmd = in_private_run(
        &prefix.join("bin/unitd").display().to_string(),
        &[
            "serve",
            "--system",
            "--bus",
            &address,
            "--upstart-p2p",
            "none",
            "--state-dir",
            &second_state.display().to_string(),
        ],
        &env,
    );
    let out = run_with_timeout(&mut cmd, "second unitd serve --system", TIMEOUT);
    assert_ne!(out.code, 0, "{}", out.dump());
    assert!(
        out.stderr
            .contains("org.freedesktop.systemd1 is already owned"),
        "{}",
        out.dump()
    );
    assert_eq!(
        owner_pid(&address, SYSTEMD1),
        Some(pid),
        "the first one keeps it"
    );
    let out = systemctl(&["list-units", "--all"]);
    assert_eq!(out.code, 0, "{}", out.dump());

    // Uninstall: nothing is left, and the bus forgets the names the prefix provided.
    teardown.activated.pop().unwrap().terminate(TIMEOUT);
    let out = unitd(
        &["uninstall", "--prefix", &p, "--bus", &address],
        &installer_env,
    );
    assert_eq!(out.code, 0, "{}", out.dump());
    assert!(!prefix.exists(), "left behind: {:?}", tree(&prefix));
    let names = activatable(&address);
    assert!(
        !names.iter().any(|n| n == "com.ubuntu.Upstart"),
        "{names:?}"
    );
    // Uninstalling again is a no-op.
    let out = unitd(
        &["uninstall", "--prefix", &p, "--no-reload"],
        &installer_env,
    );
    assert_eq!(out.code, 0, "{}", out.dump());
    assert!(
        out.stdout.contains("nothing to uninstall"),
        "{}",
        out.dump()
    );
    drop(teardown);
    drop(bus);
}

#[test]
fn user_install_goes_to_xdg_data_home_and_is_activated_by_the_session_bus() {
    if !RealEnv::check() || skip_in_reference_mode("installs and activates unitd") {
        return;
    }
    let dir = TestDir::new();
    let home = dir.home();
    let units = home.join(".config/systemd/user");
    std::fs::create_dir_all(&units).unwrap();
    std::fs::write(units.join("sleeper.service"), SLEEPER).unwrap();
    let before = tree(&home);
    let data_home = home.join(".local/share");
    // A session bus that searches where the session bus searches first: $XDG_DATA_HOME.
    let base_text =
        std::fs::read_to_string(repo_root().join("dbus-policy/test/session.conf")).unwrap();
    let base_text = base_text.replace(
        "</busconfig>",
        &format!(
            "  <servicedir>{}/dbus-1/services</servicedir>\n</busconfig>",
            data_home.display()
        ),
    );
    let base = dir.path().join("session-base.conf");
    std::fs::write(&base, base_text).unwrap();
    let env = daemon_env(&dir);
    let bus = TestBus::start_with_base(&dir, BusKind::Session, &base, &env);
    let mut teardown = Teardown {
        activated: Vec::new(),
    };

    let installer_env = vec![
        ("PATH".to_string(), STD_PATH.to_string()),
        ("HOME".to_string(), home.display().to_string()),
    ];
    let out = unitd(
        &[
            "install",
            "--user",
            "--exit-idle",
            "600",
            "--bus",
            bus.address(),
        ],
        &installer_env,
    );
    assert_eq!(out.code, 0, "{}", out.dump());
    let bin = home.join(".local/bin/unitd");
    let activation =
        std::fs::read_to_string(data_home.join("dbus-1/services/org.freedesktop.systemd1.service"))
            .unwrap();
    assert!(
        activation.contains(&format!(
            "\nExec={} serve --user --exit-idle 600\n",
            bin.display()
        )),
        "{activation}"
    );
    assert!(
        !tree(&home).iter().any(|p| p.ends_with("system.d")),
        "no policy for a session bus"
    );

    let systemctl = Systemctl::new(bus.address(), &dir.xdg());
    let out = systemctl.run(&["list-units", "--all"]);
    let pid = bus
        .connection_pid(SYSTEMD1)
        .expect("an owner after the first call");
    teardown.activated.push(TrackedPid::new(pid));
    assert_eq!(out.code, 0, "{}\n{}", out.dump(), bus.log_text());
    assert!(out.stdout.contains("sleeper.service"), "{}", out.dump());
    assert_eq!(std::fs::read_link(format!("/proc/{pid}/exe")).unwrap(), bin);

    teardown.activated.pop().unwrap().terminate(TIMEOUT);
    let out = unitd(
        &["uninstall", "--user", "--bus", bus.address()],
        &installer_env,
    );
    assert_eq!(out.code, 0, "{}", out.dump());
    // The daemon's own state (logs) is not install's business; everything install wrote is
    // gone, nothing else was touched.
    let after: Vec<PathBuf> = tree(&home)
        .into_iter()
        .filter(|p| !p.starts_with(home.join(".local/state")))
        .collect();
    let before: Vec<PathBuf> = before
        .into_iter()
        .filter(|p| !p.starts_with(home.join(".local/state")))
        .collect();
    assert_eq!(after, before);
    assert!(!bin.exists());
}

#[test]
fn default_system_layout_is_usr_local_and_etc_dbus() {
    if !RealEnv::check() || skip_in_reference_mode("installs unitd") {
        return;
    }
    if !Path::new("/etc/dbus-1/system.d").is_dir() {
        eprintln!("skipped: no /etc/dbus-1/system.d");
        return;
    }
    // Private, empty /usr/local and /etc/dbus-1/system.d: the host's stay untouched.
    let bin = unitd_bin().display().to_string();
    let script = format!(
        "set -e; mount -t tmpfs tmpfs /usr/local; mount -t tmpfs tmpfs /etc/dbus-1/system.d; \
         {bin} install --no-reload >/dev/null; echo INSTALLED; \
         find /usr/local /etc/dbus-1/system.d -type f | sort; \
         grep '^Exec=' /usr/local/share/dbus-1/system-services/org.freedesktop.systemd1.service; \
         {bin} uninstall --no-reload >/dev/null; echo UNINSTALLED; \
         find /usr/local /etc/dbus-1/system.d | sort"
    );
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "--propagation", "private", "sh", "-c", &script])
        .env_clear()
        .env("PATH", STD_PATH);
    let out = run_with_timeout(&mut cmd, "unitd install (default prefix)", TIMEOUT);
    assert_eq!(out.code, 0, "{}", out.dump());
    let text = out.stdout;
    let (installed, after) = text
        .split_once("UNINSTALLED\n")
        .unwrap_or_else(|| panic!("{text}"));
    let installed: Vec<&str> = installed
        .lines()
        .skip_while(|l| *l != "INSTALLED")
        .skip(1)
        .collect();
    assert_eq!(
        installed,
        [
            "/etc/dbus-1/system.d/com.ubuntu.Upstart.conf",
            "/etc/dbus-1/system.d/org.freedesktop.systemd1.conf",
            "/usr/local/bin/unitd",
            "/usr/local/share/dbus-1/system-services/com.ubuntu.Upstart.service",
            "/usr/local/share/dbus-1/system-services/org.freedesktop.systemd1.service",
            "/usr/local/share/unitd/install-manifest",
            "Exec=/usr/local/bin/unitd serve --system",
        ]
    );
    assert_eq!(
        after.lines().collect::<Vec<_>>(),
        ["/etc/dbus-1/system.d", "/usr/local"],
        "uninstall leaves nothing"
    );
}
