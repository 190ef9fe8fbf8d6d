//! Acceptance: the sd_notify protocol from a real third-party client library — PyPI's
//! `sdnotify` (pure Python) — inside a `Type=notify` service started by the stock
//! `systemctl --user`.
//!
//! The package is installed once per run with pip into `target/pypkgs/` (`pip install
//! --target`); the service runs Debian's `/usr/bin/python3` with that directory on
//! `PYTHONPATH`. Without network access the test prints `skipped: …` (outside CI) and fails
//! under `CI=true`, like every test whose real components are missing.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use common::*;

/// Install `spec` (e.g. `sdnotify==0.3.2`) into `target/pypkgs/<name>`, once per test run.
fn pip_target(name: &str, spec: &str) -> Option<PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = repo_root().join("target/pypkgs").join(name);
        if dir.join(name).is_dir() {
            return Some(dir);
        }
        let pip = ["pip3", "pip"].into_iter().find_map(which)?;
        let out = run_with_timeout(
            Command::new(pip)
                .args(["install", "--quiet", "--no-deps", "--target"])
                .arg(&dir)
                .arg(spec),
            &format!("pip install {spec}"),
            Duration::from_secs(180),
        );
        (out.code == 0 && dir.join(name).is_dir()).then_some(dir)
    })
    .clone()
}

fn skip(why: &str) -> bool {
    if in_ci() {
        panic!("{why}");
    }
    eprintln!("skipped: {why}");
    true
}

#[test]
fn sdnotify_ready_and_status_from_python() {
    if !std::path::Path::new("/usr/bin/python3").exists()
        && skip("sdnotify_ready_and_status_from_python: /usr/bin/python3 is missing")
    {
        return;
    }
    let Some(pkgs) = pip_target("sdnotify", "sdnotify==0.3.2") else {
        skip("sdnotify_ready_and_status_from_python: pip could not install sdnotify");
        return;
    };
    let unit = format!(
        "[Unit]\nDescription=sdnotify client\n\n[Service]\nType=notify\n\
         Environment=PYTHONPATH={}\nExecStart=/usr/bin/python3 %h/svc.py\nTimeoutStartSec=30\n",
        pkgs.display()
    );
    let Some(m) = UserManager::start(&[("py.service", &unit)]) else {
        return;
    };
    std::fs::write(
        m.dir.home().join("svc.py"),
        "import os, time, sdnotify\n\
         n = sdnotify.SystemdNotifier(debug=True)\n\
         n.notify('STATUS=warming up')\n\
         while not os.path.exists(os.path.expanduser('~/go')):\n    time.sleep(0.05)\n\
         n.notify('READY=1\\nSTATUS=serving from sdnotify')\n\
         while True:\n    time.sleep(60)\n",
    )
    .unwrap();

    // `start --no-block`: the job stays queued until READY=1 arrives.
    m.expect(0, &["start", "--no-block", "py.service"]);
    m.wait_prop("py.service", "StatusText", "the first STATUS", |v| {
        v == "warming up"
    });
    assert_eq!(m.show("py.service", "ActiveState"), "activating");
    std::fs::write(m.dir.home().join("go"), b"").unwrap();
    m.wait_prop("py.service", "ActiveState", "READY=1", |v| v == "active");
    let status = m.expect(0, &["status", "py.service"]);
    m.check(
        status.stdout.contains("Status: \"serving from sdnotify\""),
        "status shows the sdnotify STATUS",
        &status,
    );
    let pid = m.main_pid("py.service");
    m.track(pid);
    m.expect(0, &["stop", "py.service"]);
    m.wait_gone(pid, "py.service main process");
}
