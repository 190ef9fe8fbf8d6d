//! Acceptance: pystemd 0.15.3 from PyPI (libsystemd's sd-bus underneath) drives unitd on a
//! private session bus: `Manager.load()`, `ListUnits`, `Unit.load()`, `Unit.ActiveState`,
//! `Unit.Start`/`Stop`, `Service.MainPID`, `StartTransientUnit`.

mod common;

use common::*;

const SLEEPER: &str = "[Unit]\nDescription=Sleeps\n[Service]\nExecStart=/bin/sleep 1000\n";

const SCRIPT: &str = r#"
import sys, time
from pystemd.dbuslib import DBus
from pystemd.systemd1 import Manager, Unit

def wait_state(unit, want):
    deadline = time.monotonic() + 30
    while unit.Unit.ActiveState != want:
        if time.monotonic() > deadline:
            sys.exit("timeout waiting for %r, have %r" % (want, unit.Unit.ActiveState))
        time.sleep(0.05)

with DBus(user_mode=True) as bus:
    m = Manager(bus=bus)
    m.load()
    print("version", m.Manager.Version.decode())
    names = [u[0].decode() for u in m.Manager.ListUnits()]
    print("listed", "sleeper.service" in names)
    u = Unit(b"sleeper.service", bus=bus)
    u.load()
    print("before", u.Unit.ActiveState.decode(), u.Unit.Description.decode())
    job = u.Unit.Start(b"replace")
    print("job", job.decode().startswith("/org/freedesktop/systemd1/job/"))
    wait_state(u, b"active")
    print("after", u.Unit.ActiveState.decode(), u.Unit.SubState.decode(), "mainpid", u.Service.MainPID)
    u.Unit.Stop(b"replace")
    wait_state(u, b"inactive")
    print("stopped", u.Unit.ActiveState.decode())
    m.Manager.StartTransientUnit(
        b"py-run.service", b"fail",
        {b"Description": b"from pystemd",
         b"ExecStart": [(b"/bin/sleep", [b"/bin/sleep", b"1000"], False)]})
    t = Unit(b"py-run.service", bus=bus)
    t.load()
    wait_state(t, b"active")
    print("transient", t.Unit.Description.decode(), t.Service.MainPID > 0)
    t.Unit.Stop(b"replace")
    wait_state(t, b"inactive")
    print("done")
"#;

#[test]
fn pystemd_manager_and_unit() {
    let Some(m) = UserManager::start(&[("sleeper.service", SLEEPER)]) else {
        return;
    };
    let Some(bin) = python_env("pystemd_manager_and_unit") else {
        return;
    };
    let python = bin.join("python");
    let out = m
        .systemctl_runner()
        .run_other(python.to_str().expect("utf-8 path"), &["-c", SCRIPT]);
    m.check(out.code == 0, "the pystemd script succeeds", &out);
    let lines: Vec<&str> = out.stdout.lines().collect();
    m.check(
        lines.first().is_some_and(|l| l.starts_with("version "))
            && lines.contains(&"listed True")
            && lines.contains(&"before inactive Sleeps")
            && lines.contains(&"job True")
            && lines
                .iter()
                .any(|l| l.starts_with("after active running mainpid ") && !l.ends_with(" 0"))
            && lines.contains(&"stopped inactive")
            && lines.contains(&"transient from pystemd True")
            && lines.last() == Some(&"done"),
        "pystemd saw what systemd would report",
        &out,
    );
}

/// The service side: `pystemd.daemon` (libsystemd's `sd_listen_fds`, `sd_watchdog_enabled`,
/// `sd_notify` underneath) in a socket-activated `Type=notify` service with a watchdog.
const DAEMON_PY: &str = r#"
import os, socket
from pystemd import daemon
n = daemon.listen_fds(0)
wd = daemon.watchdog_enabled(0)
info = "fds=%d start=%d wd=%d names=%s pid_ok=%s" % (
    n, daemon.LISTEN_FDS_START, wd, os.environ.get("LISTEN_FDNAMES"),
    os.environ.get("LISTEN_PID") == str(os.getpid()))
s = socket.socket(fileno=daemon.LISTEN_FDS_START)
daemon.notify(False, ready=1, status="ready " + info)
while True:
    c, _ = s.accept()
    daemon.notify(False, "WATCHDOG=1", status="served " + info)
    c.sendall(("hello " + info + "\n").encode())
    c.close()
"#;

/// Issue 4 acceptance: `pystemd.daemon.notify(False, ready=1, status=…)`, `watchdog_enabled`
/// and `listen_fds` from a real service under unitd, activated by a connection to its socket.
#[test]
fn pystemd_daemon_notify_watchdog_and_listen_fds() {
    use std::io::{BufRead, BufReader};
    let Some(bin) = python_env("pystemd_daemon_notify_watchdog_and_listen_fds") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let sock = tmp.path().join("pyd.sock");
    let socket_unit = format!(
        "[Socket]\nListenStream={}\nFileDescriptorName=web\n",
        sock.display()
    );
    let service_unit = format!(
        "[Service]\nType=notify\nWatchdogSec=30\nExecStart={} %h/pyd.py\nTimeoutStartSec=30\n",
        bin.join("python").display()
    );
    let Some(m) =
        UserManager::start(&[("pyd.socket", &socket_unit), ("pyd.service", &service_unit)])
    else {
        return;
    };
    std::fs::write(m.dir.home().join("pyd.py"), DAEMON_PY).unwrap();
    m.expect(0, &["start", "pyd.socket"]);
    assert_eq!(m.show("pyd.service", "ActiveState"), "inactive");

    // The first connection starts the service; it answers once it is READY.
    let c = std::os::unix::net::UnixStream::connect(&sock).expect("connect");
    c.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut line = String::new();
    BufReader::new(&c).read_line(&mut line).unwrap();
    let info = "fds=1 start=3 wd=30000000 names=web pid_ok=True";
    assert_eq!(line, format!("hello {info}\n"));
    m.wait_prop(
        "pyd.service",
        "StatusText",
        "the STATUS after serving",
        |v| v == format!("served {info}"),
    );
    assert_eq!(m.show("pyd.service", "ActiveState"), "active");
    assert_eq!(m.show("pyd.socket", "SubState"), "running");
    let status = m.expect(0, &["status", "--no-pager", "pyd.service"]);
    m.check(
        status
            .stdout
            .contains(&format!("Status: \"served {info}\"")),
        "systemctl status shows pystemd's STATUS",
        &status,
    );
    let pid = m.main_pid("pyd.service");
    m.expect(0, &["stop", "pyd.service", "pyd.socket"]);
    m.wait_gone(pid, "pyd.service main process");
}
