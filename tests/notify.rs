//! Acceptance: the sd_notify protocol through real clients — the stock `systemd-notify` (with
//! its BARRIER) inside services started by the stock `systemctl --user`, raw datagrams from a
//! junk sender, and the watchdog (service-contract §1, §2; seeds 1, 3, 5, 7, 16; the rest of
//! seeds 2–7 are in tests/notify_seeds.rs).

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

const WAIT: Duration = Duration::from_secs(20);

/// A service whose script (written after start-up into `$HOME`) drives the protocol.
fn notify_unit(script: &str, extra: &str) -> String {
    format!("[Service]\nType=notify\nExecStart=/bin/sh %h/{script}\nTimeoutStopSec=30\n{extra}\n")
}

fn write_home_script(m: &UserManager, name: &str, body: &str) -> PathBuf {
    let p = m.dir.home().join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn touch(p: &Path) {
    std::fs::write(p, b"").unwrap();
}

fn wait_prop(m: &UserManager, unit: &str, prop: &str, want: &str) {
    let mut last = String::new();
    let ok = (|| {
        let deadline = std::time::Instant::now() + WAIT;
        while std::time::Instant::now() < deadline {
            last = m.show(unit, prop);
            if last == want {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    })();
    assert!(
        ok,
        "{unit}: {prop} stayed {last:?}, wanted {want:?}\n--- daemon log ---\n{}",
        tail(&m.daemon_log(), 60)
    );
}

/// `wait_for_file NAME` in the scripts: poll for a flag file the test creates.
const PRELUDE: &str = "wait_for_file() { while [ ! -e \"$HOME/$1\" ]; do sleep 0.05; done; }\n";

/// Seed 5 (first half): `STOPPING=1` gives `deactivating/stop-sigterm` with no signal (the stop
/// timeout half is in tests/notify_seeds.rs).
#[test]
fn systemd_notify_ready_status_stopping() {
    let Some(m) = UserManager::start(&[("n.service", &notify_unit("n.sh", ""))]) else {
        return;
    };
    write_home_script(
        &m,
        "n.sh",
        &format!(
            "{PRELUDE}\
             env > \"$HOME/n.env\"\n\
             wait_for_file go-ready\n\
             systemd-notify --ready --status='Serving requests'\n\
             wait_for_file go-status\n\
             systemd-notify --status='later status'\n\
             wait_for_file go-stop\n\
             systemd-notify STOPPING=1\n\
             wait_for_file go-exit\n\
             exit 0\n"
        ),
    );
    m.expect(0, &["start", "--no-block", "n.service"]);
    wait_prop(&m, "n.service", "SubState", "start");
    let pid = m.main_pid("n.service");
    assert_ne!(pid, 0);
    // Not active before READY=1.
    assert_eq!(m.show("n.service", "ActiveState"), "activating");
    let env = m.dir.home().join("n.env");
    wait_for("the script's env dump", WAIT, || {
        read_lossy(&env).contains("INVOCATION_ID=")
    });
    let env = read_lossy(&env);
    let want = format!(
        "NOTIFY_SOCKET={}",
        m.dir.xdg().join("unitd/notify").display()
    );
    assert!(env.lines().any(|l| l == want), "{want} in\n{env}");

    touch(&m.dir.home().join("go-ready"));
    wait_prop(&m, "n.service", "ActiveState", "active");
    assert_eq!(m.show("n.service", "SubState"), "running");
    assert_eq!(m.show("n.service", "StatusText"), "Serving requests");
    let out = m.expect(0, &["status", "n.service"]);
    m.check(
        out.stdout.contains("Status: \"Serving requests\""),
        "systemctl status shows Status: \"…\"",
        &out,
    );

    touch(&m.dir.home().join("go-status"));
    wait_prop(&m, "n.service", "StatusText", "later status");

    touch(&m.dir.home().join("go-stop"));
    wait_prop(&m, "n.service", "SubState", "stop-sigterm");
    assert_eq!(m.show("n.service", "ActiveState"), "deactivating");
    assert!(pid_alive(pid), "STOPPING=1 sends no signal");

    touch(&m.dir.home().join("go-exit"));
    wait_prop(&m, "n.service", "ActiveState", "inactive");
    assert_eq!(m.show("n.service", "Result"), "success");
}

/// Seed 1: Type=simple with the default NotifyAccess gets no `NOTIFY_SOCKET`; Type=notify's
/// main process has it, its ExecStartPost does not.
#[test]
fn start_job_waits_for_ready_and_plain_services_get_no_socket() {
    let units = [
        (
            "r.service",
            notify_unit("r.sh", "ExecStartPost=/bin/sh -c 'env > %h/post.env'").to_string(),
        ),
        (
            "s.service",
            "[Service]\nExecStart=/bin/sh -c 'env > %h/s.env; exec sleep infinity'\n".to_string(),
        ),
    ];
    let units: Vec<(&str, &str)> = units.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let Some(m) = UserManager::start(&units) else {
        return;
    };
    write_home_script(
        &m,
        "r.sh",
        "sleep 0.2\nsystemd-notify --ready --status=up\nexec sleep infinity\n",
    );
    // A blocking start returns only after READY=1 (and ExecStartPost).
    m.expect(0, &["start", "r.service"]);
    assert_eq!(m.show("r.service", "ActiveState"), "active");
    assert_eq!(m.show("r.service", "StatusText"), "up");
    m.main_pid("r.service");
    let post = read_lossy(&m.dir.home().join("post.env"));
    assert!(post.contains("INVOCATION_ID="), "{post}");
    assert!(
        !post.contains("NOTIFY_SOCKET="),
        "ExecStartPost under NotifyAccess=main: {post}"
    );

    m.expect(0, &["start", "s.service"]);
    m.main_pid("s.service");
    let p = m.dir.home().join("s.env");
    wait_for("s.env", WAIT, || read_lossy(&p).contains("INVOCATION_ID="));
    assert!(!read_lossy(&p).contains("NOTIFY_SOCKET="), "Type=simple");
    m.expect(0, &["stop", "r.service", "s.service"]);
}

/// Seed 3 (first half): the main process exits 0 before READY: `Result=protocol` (the timeout
/// half is in tests/notify_seeds.rs).
#[test]
fn exit_before_ready_is_protocol() {
    let Some(m) =
        UserManager::start(&[("p.service", "[Service]\nType=notify\nExecStart=/bin/true\n")])
    else {
        return;
    };
    let out = m.systemctl(&["start", "p.service"]);
    m.check(out.code != 0, "start fails", &out);
    assert_eq!(m.show("p.service", "Result"), "protocol");
    assert_eq!(m.show("p.service", "ActiveState"), "failed");
}

#[test]
fn ready_then_immediate_exit_counts() {
    // READY=1 then exit at once: notifications are processed before the reap.
    let Some(m) = UserManager::start(&[(
        "q.service",
        "[Service]\nType=notify\nRemainAfterExit=yes\n\
         ExecStart=/bin/sh -c 'systemd-notify --ready --status=done'\n",
    )]) else {
        return;
    };
    m.expect(0, &["start", "q.service"]);
    assert_eq!(m.show("q.service", "Result"), "success");
    assert_eq!(m.show("q.service", "StatusText"), "done");
}

/// Send raw datagrams to `socket` from this test process (as root, which may not matter).
fn send_raw(socket: &Path, payloads: &[Vec<u8>]) {
    let c = std::os::unix::net::UnixDatagram::unbound().unwrap();
    for p in payloads {
        // Oversized datagrams may fail to send locally; that is fine.
        let _ = c.send_to(p, socket);
    }
}

#[test]
fn garbage_and_floods_do_not_hurt() {
    let Some(m) = UserManager::start(&[(
        "g.service",
        "[Service]\nType=notify\nNotifyAccess=all\nExecStart=/bin/sh %h/g.sh\n",
    )]) else {
        return;
    };
    // The service floods the socket with junk from a child (NotifyAccess=all), then says
    // READY with a status; the junk must not block or crash anything.
    write_home_script(
        &m,
        "g.sh",
        r#"python3 - <<'EOF'
import os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(os.environ['NOTIFY_SOCKET'])
junk = [bytes(range(256)), b'READY=1 ', b'X' * 5000, b'READY=1\0x', b'', b'\n\n',
        b'MAINPID=abc', b'STATUS=' + b'\xff' * 10, b'BARRIER=1\nREADY=1', b'FOO=bar']
for i in range(20000):
    try:
        s.send(junk[i % len(junk)])
    except OSError:
        pass
s.send(b'READY=1\nSTATUS=survived')
# sd_notify_barrier(): wait until the manager has processed everything sent so far, so the
# READY above is attributed while this process still exists.
r, w = os.pipe()
socket.send_fds(s, [b'BARRIER=1'], [w])
os.close(w)
import select
p = select.poll()
p.register(r, select.POLLHUP)
assert p.poll(10000), 'barrier timed out'
EOF
exec sleep infinity
"#,
    );
    if which("python3").is_none() {
        eprintln!("skipped: python3 missing");
        return;
    }
    // Junk from an unrelated process too, while the unit starts.
    let sock = m.dir.xdg().join("unitd/notify");
    send_raw(
        &sock,
        &[
            b"READY=1".to_vec(),
            vec![0u8; 100],
            b"STATUS=stranger".to_vec(),
        ],
    );
    m.expect(0, &["start", "g.service"]);
    assert_eq!(m.show("g.service", "StatusText"), "survived");
    m.main_pid("g.service");
    // Still responsive.
    m.expect(0, &["is-active", "g.service"]);
    m.expect(0, &["stop", "g.service"]);
}

/// Seed 7 (first half): WatchdogSec=1 with pings that stop: SIGABRT, `Result=watchdog`,
/// ExecStopPost sees `watchdog killed ABRT`; Restart=on-watchdog restarts it (`WATCHDOG=trigger`
/// and `WATCHDOG_USEC=` are in tests/notify_seeds.rs).
#[test]
fn watchdog_abort_and_restart() {
    let Some(m) = UserManager::start(&[(
        "w.service",
        "[Service]\nType=notify\nExecStart=/bin/sh %h/w.sh\nWatchdogSec=1\n\
         Restart=on-watchdog\nRestartSec=0\n\
         ExecStopPost=/bin/sh -c 'echo \"$SERVICE_RESULT $EXIT_CODE $EXIT_STATUS\" >> %h/post.log'\n",
    )]) else {
        return;
    };
    // First run: ping a few times, then stop pinging. Later runs: stay healthy.
    write_home_script(
        &m,
        "w.sh",
        "echo \"$WATCHDOG_USEC $WATCHDOG_PID $$\" >> \"$HOME/wd.env\"\n\
         systemd-notify --ready\n\
         if [ -e \"$HOME/ran-once\" ]; then\n\
           while true; do systemd-notify WATCHDOG=1; sleep 0.2; done\n\
         fi\n\
         touch \"$HOME/ran-once\"\n\
         for i in 1 2 3; do systemd-notify WATCHDOG=1; sleep 0.2; done\n\
         exec sleep infinity\n",
    );
    m.expect(0, &["start", "w.service"]);
    let post = m.dir.home().join("post.log");
    wait_for("ExecStopPost after the watchdog", WAIT, || {
        read_lossy(&post).contains("watchdog")
    });
    assert_eq!(read_lossy(&post).trim(), "watchdog killed ABRT");
    wait_prop(&m, "w.service", "NRestarts", "1");
    wait_prop(&m, "w.service", "ActiveState", "active");
    let env = read_lossy(&m.dir.home().join("wd.env"));
    let first = env.lines().next().unwrap_or_default();
    let f: Vec<&str> = first.split(' ').collect();
    assert_eq!(f.len(), 3, "{env}");
    assert_eq!(f[0], "1000000");
    assert_eq!(f[1], f[2], "WATCHDOG_PID is the main process itself");
    m.main_pid("w.service");
    m.expect(0, &["stop", "w.service"]);
}

/// Seed 16: the fd store survives an automatic restart and comes back newest first as
/// `LISTEN_FDNAMES=stored:myfile`; `NFileDescriptorStore` counts the stored fds.
#[test]
fn seed16_fd_store_survives_an_automatic_restart() {
    if which("python3").is_none() {
        eprintln!("skipped: python3 missing");
        return;
    }
    let Some(m) = UserManager::start(&[(
        "fds.service",
        "[Service]\nType=notify\nExecStart=/usr/bin/python3 %h/fds.py\n\
         FileDescriptorStoreMax=4\nRestart=on-failure\nRestartSec=0\n",
    )]) else {
        return;
    };
    write_home_script(
        &m,
        "fds.py",
        r#"import os, socket, sys
home = os.environ['HOME']
with open(os.path.join(home, 'runs'), 'a') as f:
    f.write('%s %s %s %s\n' % (os.environ.get('LISTEN_FDS', '-'), os.environ.get('LISTEN_FDNAMES', '-'),
                               os.environ.get('LISTEN_PID', '-'), os.getpid()))
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(os.environ['NOTIFY_SOCKET'])
def barrier():
    r, w = os.pipe()
    socket.send_fds(s, [b'BARRIER=1'], [w])
    os.close(w)
    import select
    p = select.poll()
    p.register(r, select.POLLHUP)
    p.poll(10000)
if 'LISTEN_FDS' not in os.environ:
    a = os.open(os.path.join(home, 'myfile'), os.O_CREAT | os.O_RDWR)
    os.write(a, b'kept')
    socket.send_fds(s, [b'FDSTORE=1\nFDNAME=myfile'], [a])
    b = os.open('/dev/null', os.O_RDONLY)
    socket.send_fds(s, [b'FDSTORE=1'], [b])
    s.send(b'READY=1')
    barrier()
    sys.exit(1)
# Second run: read the stored file back through fd 4 (myfile is the older entry).
os.lseek(4, 0, 0)
with open(os.path.join(home, 'content'), 'wb') as f:
    f.write(os.read(4, 10))
s.send(b'READY=1\nSTATUS=restored')
barrier()
import time
time.sleep(3600)
"#,
    );
    m.expect(0, &["start", "fds.service"]);
    wait_prop(&m, "fds.service", "StatusText", "restored");
    let runs = read_lossy(&m.dir.home().join("runs"));
    let lines: Vec<&str> = runs.lines().collect();
    assert_eq!(lines.len(), 2, "{runs}");
    assert!(lines[0].starts_with("- - - "), "{runs}");
    let f: Vec<&str> = lines[1].split(' ').collect();
    assert_eq!(f[0], "2", "{runs}");
    assert_eq!(f[1], "stored:myfile", "{runs}");
    assert_eq!(f[2], f[3], "LISTEN_PID is the process itself: {runs}");
    assert_eq!(read_lossy(&m.dir.home().join("content")), "kept");
    assert_eq!(m.show("fds.service", "NRestarts"), "1");
    assert_eq!(m.show("fds.service", "NFileDescriptorStore"), "2");
    m.main_pid("fds.service");
    m.expect(0, &["stop", "fds.service"]);
}

/// §1.7: stored fds are polled; one whose peer hangs up is dropped from the store, unless it
/// was stored with `FDPOLL=0`. What is left comes back on the next start.
#[test]
fn fd_store_drops_hung_up_fds_unless_fdpoll_0() {
    if which("python3").is_none() {
        eprintln!("skipped: python3 missing");
        return;
    }
    let Some(m) = UserManager::start(&[(
        "poll.service",
        "[Service]\nType=notify\nExecStart=/usr/bin/python3 %h/poll.py\n\
         FileDescriptorStoreMax=4\nRestart=on-failure\nRestartSec=0\n",
    )]) else {
        return;
    };
    write_home_script(
        &m,
        "poll.py",
        r#"import os, socket, sys, time
home = os.environ['HOME']
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(os.environ['NOTIFY_SOCKET'])
if 'LISTEN_FDNAMES' in os.environ:
    s.send(('READY=1\nSTATUS=back with ' + os.environ['LISTEN_FDNAMES']).encode())
    time.sleep(3600)
a, a_peer = socket.socketpair()
c, c_peer = socket.socketpair()
socket.send_fds(s, [b'FDSTORE=1\nFDNAME=polled'], [a.fileno()])
socket.send_fds(s, [b'FDSTORE=1\nFDNAME=kept\nFDPOLL=0'], [c.fileno()])
s.send(b'READY=1\nSTATUS=stored')
while not os.path.exists(os.path.join(home, 'go-hangup')):
    time.sleep(0.02)
a_peer.close()
c_peer.close()
s.send(b'STATUS=hung up')
while not os.path.exists(os.path.join(home, 'go-exit')):
    time.sleep(0.02)
sys.exit(1)
"#,
    );
    m.expect(0, &["start", "poll.service"]);
    assert_eq!(m.show("poll.service", "StatusText"), "stored");
    assert_eq!(m.show("poll.service", "NFileDescriptorStore"), "2");
    touch(&m.dir.home().join("go-hangup"));
    wait_prop(&m, "poll.service", "StatusText", "hung up");
    wait_prop(&m, "poll.service", "NFileDescriptorStore", "1");
    touch(&m.dir.home().join("go-exit"));
    wait_prop(&m, "poll.service", "StatusText", "back with kept");
    assert_eq!(m.show("poll.service", "NRestarts"), "1");
    m.main_pid("poll.service");
    m.expect(0, &["stop", "poll.service"]);
}
