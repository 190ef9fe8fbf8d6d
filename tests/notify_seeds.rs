//! Acceptance: service-contract §10 seeds 2–7 with real processes under the stock
//! `systemctl --user` — the parts the other notify tests do not cover end to end. Each service
//! is a small Python sd_notify client (its own main process, so `NotifyAccess=main` accepts
//! it) that sends exactly the datagrams a seed names. The timeouts here are functional
//! (`TimeoutStartSec=1` makes "no READY" fail quickly); nothing asserts how long anything took.

mod common;

use common::*;

/// Shared by every script: the notify socket, `send`, and `wait(name)` for a flag file.
const PRELUDE: &str = r#"import os, signal, socket, sys, time
home = os.environ['HOME']
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(os.environ['NOTIFY_SOCKET'])
def send(b):
    s.send(b)
def wait(name):
    while not os.path.exists(os.path.join(home, name)):
        time.sleep(0.02)
def note(name):
    open(os.path.join(home, name), 'w').close()
"#;

fn unit(script: &str, extra: &str) -> String {
    format!("[Service]\nType=notify\nExecStart=/usr/bin/python3 %h/{script}\n{extra}\n")
}

fn script(m: &UserManager, name: &str, body: &str) {
    std::fs::write(m.dir.home().join(name), format!("{PRELUDE}{body}")).unwrap();
}

fn python_missing() -> bool {
    if which("python3").is_none() {
        eprintln!("skipped: python3 missing");
        return true;
    }
    false
}

/// Seed 2: a 4096-byte datagram with `READY=1` is accepted; 4097 bytes are dropped (the start
/// times out); `READY=1 ` with a trailing space is not `READY=1`.
#[test]
fn seed2_size_limit_and_exact_ready() {
    if python_missing() {
        return;
    }
    let units = [
        ("fits.service", unit("fits.py", "")),
        ("toobig.service", unit("toobig.py", "TimeoutStartSec=1")),
        ("space.service", unit("space.py", "TimeoutStartSec=1")),
    ];
    let refs: Vec<(&str, &str)> = units.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let Some(m) = UserManager::start(&refs) else {
        return;
    };
    // READY=1\n + X_PAD=… padded to the exact size.
    let padded = |size: usize| {
        format!(
            "msg = b'READY=1\\nX_PAD=' + b'a' * ({size} - 14)\nassert len(msg) == {size}\nsend(msg)\ntime.sleep(3600)\n"
        )
    };
    script(&m, "fits.py", &padded(4096));
    script(&m, "toobig.py", &padded(4097));
    script(&m, "space.py", "send(b'READY=1 ')\ntime.sleep(3600)\n");

    m.expect(0, &["start", "fits.service"]);
    assert_eq!(m.show("fits.service", "ActiveState"), "active");
    m.main_pid("fits.service");
    for u in ["toobig.service", "space.service"] {
        let out = m.systemctl(&["start", u]);
        m.check(out.code != 0, "start fails: READY was not accepted", &out);
        assert_eq!(m.show(u, "Result"), "timeout", "{u}");
        assert_eq!(m.show(u, "ActiveState"), "failed", "{u}");
    }
    m.expect(0, &["stop", "fits.service"]);
}

/// Seed 3 (second half): no READY within TimeoutStartSec gives `Result=timeout`, after a
/// SIGTERM to the main process.
#[test]
fn seed3_no_ready_is_timeout_after_sigterm() {
    if python_missing() {
        return;
    }
    let Some(m) = UserManager::start(&[("slow.service", &unit("slow.py", "TimeoutStartSec=1"))])
    else {
        return;
    };
    script(
        &m,
        "slow.py",
        "def term(*_):\n    note('got-sigterm')\n    sys.exit(0)\n\
         signal.signal(signal.SIGTERM, term)\nsend(b'STATUS=waiting forever')\n\
         while True:\n    time.sleep(1)\n",
    );
    let out = m.systemctl(&["start", "slow.service"]);
    m.check(out.code != 0, "start fails", &out);
    assert_eq!(m.show("slow.service", "Result"), "timeout");
    assert_eq!(m.show("slow.service", "ActiveState"), "failed");
    assert!(m.dir.home().join("got-sigterm").exists(), "SIGTERM first");
}

/// Seed 4: `STATUS=a\nSTATUS=b` gives `StatusText=a` (first wins), `ERRNO=2` gives
/// `StatusErrno=2`, `BUSERROR=` is ignored by a 252 manager.
#[test]
fn seed4_first_status_wins_errno_and_buserror_ignored() {
    if python_missing() {
        return;
    }
    let Some(m) = UserManager::start(&[("st.service", &unit("st.py", ""))]) else {
        return;
    };
    script(
        &m,
        "st.py",
        "send(b'READY=1\\nSTATUS=a\\nSTATUS=b\\nERRNO=2\\nBUSERROR=org.freedesktop.DBus.Error.Failed')\n\
         time.sleep(3600)\n",
    );
    m.expect(0, &["start", "st.service"]);
    assert_eq!(m.show("st.service", "StatusText"), "a");
    assert_eq!(m.show("st.service", "StatusErrno"), "2");
    // 252 has no StatusBusError property: `show` prints nothing for it.
    assert_eq!(m.show("st.service", "StatusBusError"), "");
    let out = m.expect(0, &["status", "--no-pager", "st.service"]);
    m.check(out.stdout.contains("Status: \"a\""), "Status: \"a\"", &out);
    m.main_pid("st.service");
    m.expect(0, &["stop", "st.service"]);
}

/// Seed 5 (second half): after `STOPPING=1` no signal is sent; when TimeoutStopSec expires the
/// process is killed with SIGKILL and `Result=timeout`.
#[test]
fn seed5_stopping_then_stop_timeout_kills() {
    if python_missing() {
        return;
    }
    let Some(m) = UserManager::start(&[("stp.service", &unit("stp.py", "TimeoutStopSec=1"))])
    else {
        return;
    };
    script(
        &m,
        "stp.py",
        "signal.signal(signal.SIGTERM, lambda *_: note('got-sigterm'))\n\
         send(b'READY=1')\nwait('go-stop')\nsend(b'STOPPING=1')\n\
         while True:\n    time.sleep(1)\n",
    );
    m.expect(0, &["start", "stp.service"]);
    let pid = m.main_pid("stp.service");
    std::fs::write(m.dir.home().join("go-stop"), b"").unwrap();
    m.wait_prop("stp.service", "SubState", "STOPPING=1", |v| {
        v == "stop-sigterm" || v == "failed"
    });
    m.wait_prop("stp.service", "ActiveState", "stop timeout", |v| {
        v == "failed"
    });
    assert_eq!(m.show("stp.service", "Result"), "timeout");
    m.wait_gone(pid, "stp.service main process");
    assert!(
        !m.dir.home().join("got-sigterm").exists(),
        "STOPPING=1 and the stop timeout send no SIGTERM"
    );
}

/// Seed 6: `RELOADING=1` gives `reloading/reload`; `READY=1` returns to `active/running`.
#[test]
fn seed6_reloading_then_ready() {
    if python_missing() {
        return;
    }
    let Some(m) = UserManager::start(&[("rl.service", &unit("rl.py", ""))]) else {
        return;
    };
    script(
        &m,
        "rl.py",
        "send(b'READY=1')\nwait('go-reload')\nsend(b'RELOADING=1\\nSTATUS=reloading')\n\
         wait('go-ready')\nsend(b'READY=1\\nSTATUS=reloaded')\ntime.sleep(3600)\n",
    );
    m.expect(0, &["start", "rl.service"]);
    std::fs::write(m.dir.home().join("go-reload"), b"").unwrap();
    m.wait_prop("rl.service", "StatusText", "RELOADING=1", |v| {
        v == "reloading"
    });
    assert_eq!(m.show("rl.service", "ActiveState"), "reloading");
    assert_eq!(m.show("rl.service", "SubState"), "reload");
    std::fs::write(m.dir.home().join("go-ready"), b"").unwrap();
    m.wait_prop("rl.service", "StatusText", "READY=1", |v| v == "reloaded");
    assert_eq!(m.show("rl.service", "ActiveState"), "active");
    assert_eq!(m.show("rl.service", "SubState"), "running");
    assert_eq!(m.show("rl.service", "ReloadResult"), "success");
    m.main_pid("rl.service");
    m.expect(0, &["stop", "rl.service"]);
}

/// Seed 7 (second half): `WATCHDOG=trigger` and `WATCHDOG_USEC=` work without `WatchdogSec=`.
#[test]
fn seed7_trigger_and_watchdog_usec_without_watchdogsec() {
    if python_missing() {
        return;
    }
    let post = "ExecStopPost=/bin/sh -c 'echo \"$SERVICE_RESULT\" > %h/%N.post'";
    let units = [
        ("trig.service", unit("trig.py", post)),
        ("usec.service", unit("usec.py", post)),
    ];
    let refs: Vec<(&str, &str)> = units.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let Some(m) = UserManager::start(&refs) else {
        return;
    };
    script(
        &m,
        "trig.py",
        "send(b'READY=1')\nwait('go-trigger')\nsend(b'WATCHDOG=trigger')\ntime.sleep(3600)\n",
    );
    // Arms a watchdog of 0.3 s by itself, then never pings.
    script(
        &m,
        "usec.py",
        "send(b'READY=1')\nwait('go-usec')\nsend(b'WATCHDOG_USEC=300000')\ntime.sleep(3600)\n",
    );
    m.expect(0, &["start", "trig.service", "usec.service"]);
    assert_eq!(m.show("trig.service", "WatchdogUSec"), "0");
    for (u, flag) in [("trig", "go-trigger"), ("usec", "go-usec")] {
        let name = format!("{u}.service");
        let pid = m.main_pid(&name);
        std::fs::write(m.dir.home().join(flag), b"").unwrap();
        m.wait_prop(&name, "ActiveState", "watchdog failure", |v| v == "failed");
        assert_eq!(m.show(&name, "Result"), "watchdog", "{name}");
        m.wait_gone(pid, "main process");
        let post = m.dir.home().join(format!("{u}.post"));
        wait_for("ExecStopPost", std::time::Duration::from_secs(20), || {
            read_lossy(&post).contains("watchdog")
        });
    }
}
