//! Acceptance: `unitd demo` does what the README says. It prints `export` lines; with them the
//! stock `systemctl --user` sees the example units (loaded, not started) and can start the
//! oneshot and the forking example; SIGTERM to the demo stops everything it started and removes
//! its directory. (demo.service itself is not started here: it binds a fixed port.)

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;

use common::*;

/// The running demo: on drop (also when an assertion failed) SIGTERM it, and kill by PID the
/// helpers it reported if they outlive it.
struct DemoRun {
    child: std::process::Child,
    helpers: Vec<TrackedPid>,
}

impl Drop for DemoRun {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            send_signal(self.child.id(), "TERM");
            let exited = std::time::Instant::now() + TIMEOUT;
            while std::time::Instant::now() < exited {
                if let Ok(Some(_)) = self.child.try_wait() {
                    break;
                }
                thread::sleep(std::time::Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        for h in &self.helpers {
            h.terminate(std::time::Duration::from_secs(5));
        }
    }
}

/// `PID n` following `marker` on one of the printed lines.
fn printed_pid(printed: &[String], marker: &str) -> Option<u32> {
    let line = printed.iter().find(|l| l.contains(marker))?;
    let rest = &line[line.find(marker)? + marker.len()..];
    let rest = &rest[rest.find("PID ")? + 4..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn unquote(v: &str) -> String {
    v.trim()
        .trim_start_matches('\'')
        .trim_end_matches('\'')
        .replace(r"'\''", "'")
}

#[test]
fn demo_prints_working_exports_and_cleans_up_on_sigterm() {
    if !RealEnv::check() || skip_in_reference_mode("the demo runs unitd") {
        return;
    }
    let stderr_dir = TestDir::new();
    let stderr_path = stderr_dir.path().join("demo.stderr");
    let child = Command::new(unitd_bin())
        .arg("demo")
        .env("TMPDIR", stderr_dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("spawn unitd demo");
    let mut demo = DemoRun {
        child,
        helpers: Vec::new(),
    };

    // Read stdout until the "Press Ctrl-C" line, collecting the exports.
    let stdout = demo.child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let done = line.starts_with("Press Ctrl-C");
            if tx.send(line).is_err() || done {
                break;
            }
        }
    });
    let mut printed = Vec::new();
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let done = line.starts_with("Press Ctrl-C");
                printed.push(line);
                if done {
                    break;
                }
            }
            Err(e) => {
                let why = match e {
                    mpsc::RecvTimeoutError::Timeout => {
                        format!("did not get ready within {TIMEOUT:?}")
                    }
                    mpsc::RecvTimeoutError::Disconnected => {
                        "closed its stdout before getting ready".into()
                    }
                };
                panic!(
                    "unitd demo {why}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                    printed.join("\n"),
                    read_lossy(&stderr_path)
                );
            }
        }
    }
    for marker in ["private bus:", "unitd:"] {
        let pid = printed_pid(&printed, marker)
            .unwrap_or_else(|| panic!("demo printed `{marker} … PID n`:\n{}", printed.join("\n")));
        demo.helpers.push(TrackedPid::new(pid));
    }
    let export = |var: &str| {
        printed
            .iter()
            .find_map(|l| l.strip_prefix(&format!("export {var}=")))
            .map(unquote)
            .unwrap_or_else(|| panic!("demo printed `export {var}=…`:\n{}", printed.join("\n")))
    };
    let address = export("DBUS_SESSION_BUS_ADDRESS");
    let xdg = PathBuf::from(export("XDG_RUNTIME_DIR"));
    let demo_dir = xdg
        .parent()
        .expect("xdg dir inside the demo dir")
        .to_path_buf();
    assert!(
        demo_dir.starts_with(stderr_dir.path()),
        "the demo directory lives under $TMPDIR"
    );

    let systemctl = Systemctl::new(&address, &xdg);
    let run = |args: &[&str], code: i32| {
        let out = systemctl.run(args);
        assert_eq!(
            out.code,
            code,
            "{}\n--- demo stderr ---\n{}\n--- unitd log ---\n{}",
            out.dump(),
            read_lossy(&stderr_path),
            tail(&read_lossy(&demo_dir.join("unitd.log")), 60)
        );
        out
    };
    // The example units are loaded and inactive.
    let out = run(&["list-units", "--all", "demo*"], 0);
    for unit in [
        "demo.service",
        "demo-setup.service",
        "demo-forking.service",
        "demo.target",
    ] {
        let row = list_units_row(&out.stdout, unit)
            .unwrap_or_else(|| panic!("{unit} listed:\n{}", out.dump()));
        assert_eq!(row[1..3], ["loaded", "inactive"], "{}", out.dump());
    }
    // The oneshot prepares the web root under the demo's XDG_RUNTIME_DIR (%t).
    run(&["start", "demo-setup.service"], 0);
    let index = xdg.join("unitd-demo/www/index.html");
    assert!(
        read_lossy(&index).contains("Served by demo.service"),
        "{} written",
        index.display()
    );
    let out = run(&["status", "demo-setup.service"], 0);
    assert!(
        out.stdout.contains("Active: active (exited)"),
        "{}",
        out.dump()
    );
    // The forking example runs with a guessed main PID.
    run(&["start", "demo-forking.service"], 0);
    let out = run(
        &["show", "-p", "MainPID", "--value", "demo-forking.service"],
        0,
    );
    let worker: u32 = out.stdout.trim().parse().expect("MainPID");
    assert_ne!(worker, 0);
    let worker = TrackedPid::new(worker);
    assert_eq!(proc_cmdline(worker.pid), ["/bin/sleep", "infinity"]);

    // SIGTERM: the demo stops unitd (which stops its units) and the bus, removes its directory.
    assert!(send_signal(demo.child.id(), "TERM"));
    let status = wait_for_value("unitd demo exits after SIGTERM", TIMEOUT, || {
        demo.child.try_wait().ok().flatten()
    });
    let helpers_left: Vec<u32> = demo
        .helpers
        .iter()
        .filter(|h| h.alive())
        .map(|h| h.pid)
        .collect();
    assert!(
        helpers_left.is_empty(),
        "demo stopped its helpers: {helpers_left:?} still alive"
    );
    let leftover = worker.alive();
    if leftover {
        worker.terminate(TIMEOUT);
    }
    assert!(
        status.success(),
        "demo exits 0 after SIGTERM: {status}\n{}",
        read_lossy(&stderr_path)
    );
    assert!(!leftover, "the forking example's worker was stopped");
    assert!(!demo_dir.exists(), "{} removed", demo_dir.display());
}
