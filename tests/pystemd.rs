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
