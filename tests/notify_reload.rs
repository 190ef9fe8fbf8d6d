//! Acceptance: `Type=notify-reload` (systemd 253's semantics) driven by the stock
//! `systemctl --user reload`. A real Python service (Debian's `/usr/bin/python3`, standard
//! library only) answers its `ReloadSignal=` with `RELOADING=1` + `MONOTONIC_USEC=` and, once
//! its reload is done, `READY=1`; the unit stays `reloading` in between and `systemctl reload`
//! returns only then. A service that ignores the signal makes the reload time out after
//! TimeoutStartSec= (ReloadResult=timeout, exit 1) while the service keeps running.

mod common;

use std::path::Path;

use common::*;

/// The service: announces READY=1; on `argv[2]` (a signal number) runs one reload cycle per
/// signal, holding it open until the file `<home>/go-N` exists (N = the cycle number).
const SVC: &str = r#"
import os, signal, socket, sys, time

home, sig = sys.argv[1], int(sys.argv[2])

def notify(text):
    addr = os.environ["NOTIFY_SOCKET"]
    if addr.startswith("@"):
        addr = "\0" + addr[1:]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.connect(addr)
    s.sendall(text.encode())
    s.close()

pending = 0
def on_signal(signum, frame):
    global pending
    pending += 1

if sig == 0:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
else:
    signal.signal(sig, on_signal)
notify("READY=1\nSTATUS=serving")
done = 0
while True:
    if pending > done:
        done += 1
        now = time.monotonic_ns() // 1000
        notify("RELOADING=1\nMONOTONIC_USEC=%d\nSTATUS=reloading %d" % (now, done))
        while not os.path.exists(os.path.join(home, "go-%d" % done)):
            time.sleep(0.05)
        notify("READY=1\nSTATUS=reloaded %d" % done)
    time.sleep(0.05)
"#;

fn unit(signal: &str, number: i32, extra: &str) -> String {
    format!(
        "[Unit]\nDescription=notify-reload test\n\n[Service]\nType=notify-reload\n\
         ReloadSignal={signal}\nExecStart=/usr/bin/python3 %h/svc.py %h {number}\n{extra}"
    )
}

fn have_python() -> bool {
    if Path::new("/usr/bin/python3").exists() {
        return true;
    }
    if in_ci() {
        panic!("/usr/bin/python3 is missing");
    }
    eprintln!("skipped: /usr/bin/python3 is missing");
    false
}

#[test]
fn reload_waits_for_reloading_and_ready_from_the_service() {
    if !have_python() {
        return;
    }
    let units = [
        ("hup.service", unit("SIGHUP", 1, "TimeoutStartSec=60\n")),
        ("usr1.service", unit("SIGUSR1", 10, "TimeoutStartSec=60\n")),
    ];
    let units: Vec<(&str, &str)> = units.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let Some(m) = UserManager::start(&units) else {
        return;
    };
    let home = m.dir.home();
    std::fs::write(home.join("svc.py"), SVC).unwrap();

    m.expect(0, &["start", "hup.service"]);
    assert_eq!(m.show("hup.service", "ActiveState"), "active");
    assert_eq!(m.show("hup.service", "Type"), "notify-reload");
    assert_eq!(m.show("hup.service", "CanReload"), "yes");
    let pid = m.main_pid("hup.service");

    // An asynchronous reload: the unit waits in reload-notify until the service is done.
    m.expect(0, &["reload", "--no-block", "hup.service"]);
    m.wait_prop("hup.service", "StatusText", "RELOADING=1", |v| {
        v == "reloading 1"
    });
    assert_eq!(m.show("hup.service", "ActiveState"), "reloading");
    assert_eq!(m.show("hup.service", "SubState"), "reload-notify");
    let jobs = m.expect(0, &["list-jobs"]);
    m.check(
        jobs.stdout.contains("hup.service") && jobs.stdout.contains("reload"),
        "the reload job is still running",
        &jobs,
    );
    std::fs::write(home.join("go-1"), b"").unwrap();
    m.wait_prop(
        "hup.service",
        "ActiveState",
        "READY=1 after the reload",
        |v| v == "active",
    );
    assert_eq!(m.show("hup.service", "StatusText"), "reloaded 1");
    assert_eq!(m.show("hup.service", "ReloadResult"), "success");

    // A blocking reload returns once READY=1 arrived.
    std::fs::write(home.join("go-2"), b"").unwrap();
    m.expect(0, &["reload", "hup.service"]);
    assert_eq!(m.show("hup.service", "StatusText"), "reloaded 2");
    assert_eq!(m.show("hup.service", "SubState"), "running");
    assert_eq!(m.main_pid("hup.service"), pid, "reloaded in place");

    // ReloadSignal=SIGUSR1.
    m.expect(0, &["start", "usr1.service"]);
    std::fs::write(home.join("go-1"), b"").unwrap();
    m.expect(0, &["reload", "usr1.service"]);
    assert_eq!(m.show("usr1.service", "StatusText"), "reloaded 1");

    m.expect(0, &["stop", "hup.service", "usr1.service"]);
    m.wait_gone(pid, "hup.service main process");
}

#[test]
fn a_reload_the_service_never_acknowledges_times_out() {
    if !have_python() {
        return;
    }
    let text = unit("SIGHUP", 0, "TimeoutStartSec=4\n");
    let Some(m) = UserManager::start(&[("deaf.service", &text)]) else {
        return;
    };
    std::fs::write(m.dir.home().join("svc.py"), SVC).unwrap();
    m.expect(0, &["start", "deaf.service"]);
    let pid = m.main_pid("deaf.service");
    let out = m.expect(1, &["reload", "deaf.service"]);
    m.check(
        out.stderr.contains("deaf.service"),
        "systemctl reports the failed reload job",
        &out,
    );
    assert_eq!(m.show("deaf.service", "ReloadResult"), "timeout");
    assert_eq!(m.show("deaf.service", "ActiveState"), "active");
    assert_eq!(m.show("deaf.service", "SubState"), "running");
    assert_eq!(m.main_pid("deaf.service"), pid, "the service keeps running");
    m.expect(0, &["stop", "deaf.service"]);
    m.wait_gone(pid, "deaf.service main process");
}
