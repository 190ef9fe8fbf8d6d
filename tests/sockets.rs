//! Acceptance: socket activation (`Accept=no`) through the stock `systemctl --user` and a real
//! Python service (service-contract §3): the socket listens before its service runs, a client
//! connecting first is served, the service sees `LISTEN_FDS`/`LISTEN_PID`/`LISTEN_FDNAMES`,
//! and the socket survives service restarts.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use common::*;

const WAIT: Duration = Duration::from_secs(20);

/// Accepts one connection on fd 3, answers `hello <pid>` and records its environment; then
/// keeps serving until told to exit by a client sending `exit`.
const ECHO_PY: &str = r#"
import os, socket, sys
home = os.environ["HOME"]
with open(os.path.join(home, "env.%d" % os.getpid()), "w") as f:
    for k in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
        f.write("%s=%s\n" % (k, os.environ.get(k, "")))
    f.write("PID=%d\n" % os.getpid())
s = socket.socket(fileno=3)
while True:
    c, _ = s.accept()
    data = c.recv(100)
    c.sendall(b"hello %d\n" % os.getpid())
    c.close()
    if data.startswith(b"exit"):
        sys.exit(0)
"#;

fn units(sock: &Path) -> Vec<(&'static str, String)> {
    vec![
        (
            "echo.socket",
            format!(
                "[Unit]\nDescription=Echo socket\n[Socket]\nListenStream={}\nFileDescriptorName=named\n",
                sock.display()
            ),
        ),
        (
            "echo.service",
            "[Service]\nExecStart=/usr/bin/python3 %h/echo.py\n".to_string(),
        ),
    ]
}

fn talk(sock: &Path, msg: &str) -> String {
    let mut c = UnixStream::connect(sock).expect("connect (never refused)");
    c.set_read_timeout(Some(WAIT)).unwrap();
    c.write_all(msg.as_bytes()).unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    out
}

fn wait_prop(m: &UserManager, unit: &str, prop: &str, want: &str) {
    let mut last = String::new();
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        last = m.show(unit, prop);
        if last == want {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{unit}: {prop} stayed {last:?}, wanted {want:?}\n--- daemon log ---\n{}",
        tail(&m.daemon_log(), 60)
    );
}

#[test]
fn accept_no_activation_serves_the_first_client_and_survives_restarts() {
    if !std::path::Path::new("/usr/bin/python3").exists() {
        eprintln!("skipping: no /usr/bin/python3");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let sock = tmp.path().join("run/echo.sock");
    let units = units(&sock);
    let refs: Vec<(&str, &str)> = units.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let Some(m) = UserManager::start(&refs) else {
        return;
    };
    std::fs::write(m.dir.home().join("echo.py"), ECHO_PY).unwrap();

    m.expect(0, &["start", "echo.socket"]);
    assert_eq!(m.show("echo.socket", "ActiveState"), "active");
    assert_eq!(m.show("echo.socket", "SubState"), "listening");
    assert_eq!(m.show("echo.service", "ActiveState"), "inactive");
    let status = m.systemctl(&["status", "echo.socket"]);
    assert!(
        status.stdout.contains("active (listening)"),
        "{}",
        status.dump()
    );

    // The client connects while nothing runs: the connection is queued, not refused, and
    // the service started for it answers.
    let reply = talk(&sock, "hi");
    let pid: u32 = reply
        .trim()
        .strip_prefix("hello ")
        .unwrap_or_else(|| panic!("reply {reply:?}"))
        .parse()
        .unwrap();
    wait_prop(&m, "echo.service", "ActiveState", "active");
    assert_eq!(m.main_pid("echo.service"), pid);
    assert_eq!(m.show("echo.socket", "SubState"), "running");
    let env = read_lossy(&m.dir.home().join(format!("env.{pid}")));
    assert!(env.contains("LISTEN_FDS=1\n"), "{env}");
    assert!(env.contains(&format!("LISTEN_PID={pid}\n")), "{env}");
    assert!(env.contains("LISTEN_FDNAMES=named\n"), "{env}");

    // Restart: the socket stays open (connections made meanwhile are queued) and the new
    // process gets the same listening socket.
    m.expect(0, &["restart", "echo.service"]);
    let reply = talk(&sock, "hi");
    let pid2 = m.main_pid("echo.service");
    assert_ne!(pid2, pid);
    assert_eq!(reply.trim(), format!("hello {pid2}"));
    assert_eq!(m.show("echo.socket", "SubState"), "running");

    // The service exits on its own; the next client starts it again.
    assert_eq!(talk(&sock, "exit").trim(), format!("hello {pid2}"));
    wait_prop(&m, "echo.service", "ActiveState", "inactive");
    wait_prop(&m, "echo.socket", "SubState", "listening");
    let reply = talk(&sock, "hi");
    let pid3 = m.main_pid("echo.service");
    assert_eq!(reply.trim(), format!("hello {pid3}"));
    assert_ne!(pid3, pid2);

    // Stopping the socket closes it.
    m.expect(0, &["stop", "echo.service", "echo.socket"]);
    assert_eq!(m.show("echo.socket", "ActiveState"), "inactive");
    assert!(UnixStream::connect(&sock).is_err());
}

/// Records what it was handed: the LISTEN_* variables, its PID and the file type of every
/// passed fd (`sock` or `fifo`), then serves nothing and sleeps.
const RECORD_PY: &str = r#"
import os, stat, time
n = int(os.environ.get("LISTEN_FDS", "0"))
kinds = []
for fd in range(3, 3 + n):
    m = os.fstat(fd).st_mode
    kinds.append("fifo" if stat.S_ISFIFO(m) else "sock" if stat.S_ISSOCK(m) else "other")
with open(os.path.join(os.environ["HOME"], "rec.tmp"), "w") as f:
    f.write("%s %s %s %d %s\n" % (os.environ.get("LISTEN_FDS"), os.environ.get("LISTEN_FDNAMES"),
                                  os.environ.get("LISTEN_PID"), os.getpid(), ",".join(kinds)))
os.rename(os.path.join(os.environ["HOME"], "rec.tmp"), os.path.join(os.environ["HOME"], "rec"))
time.sleep(3600)
"#;

/// Seed 15 (service-contract §10): two socket units activate one service; it gets
/// `LISTEN_FDS=4`, `LISTEN_FDNAMES` with `sb.socket` (the default name) once and `named` three
/// times (the socket's own fds in configuration order: stream, datagram, FIFO — the FIFO is
/// passed as a FIFO), and `LISTEN_PID` equal to its own PID. The order between the two socket
/// units is undefined (systemd 252 showed `sb.socket:named:named:named`). The Accept=yes and
/// `StandardInput=socket` parts of seed 15 are in tests/sockets_accept.rs.
#[test]
fn seed15_fd_names_order_fifo_and_listen_pid() {
    if !std::path::Path::new("/usr/bin/python3").exists() {
        eprintln!("skipping: no /usr/bin/python3");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n).display().to_string();
    let units = [
        (
            "sa.socket",
            format!(
                "[Socket]\nListenStream={}\nListenDatagram={}\nListenFIFO={}\nFileDescriptorName=named\nService=s.service\n",
                p("sa.stream"),
                p("sa.dgram"),
                p("sa.fifo")
            ),
        ),
        (
            "sb.socket",
            format!(
                "[Socket]\nListenStream={}\nService=s.service\n",
                p("sb.stream")
            ),
        ),
        (
            "s.service",
            "[Service]\nExecStart=/usr/bin/python3 %h/rec.py\n".to_string(),
        ),
    ];
    let refs: Vec<(&str, &str)> = units.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let Some(m) = UserManager::start(&refs) else {
        return;
    };
    std::fs::write(m.dir.home().join("rec.py"), RECORD_PY).unwrap();
    m.expect(0, &["start", "sa.socket", "sb.socket"]);
    // Traffic on the FIFO activates the service like a connection would.
    std::fs::OpenOptions::new()
        .write(true)
        .open(p("sa.fifo"))
        .and_then(|mut f| f.write_all(b"wake\n"))
        .expect("write the FIFO");
    let rec = m.dir.home().join("rec");
    wait_for("the service's record", WAIT, || rec.exists());
    let line = read_lossy(&rec);
    let f: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(f.len(), 5, "{line}");
    assert_eq!(f[0], "4", "{line}");
    assert_eq!(f[2], f[3], "LISTEN_PID is the process itself: {line}");
    let names: Vec<&str> = f[1].split(':').collect();
    let kinds: Vec<&str> = f[4].split(',').collect();
    let want = match names[0] {
        "sb.socket" => (
            vec!["sb.socket", "named", "named", "named"],
            vec!["sock", "sock", "sock", "fifo"],
        ),
        _ => (
            vec!["named", "named", "named", "sb.socket"],
            vec!["sock", "sock", "fifo", "sock"],
        ),
    };
    assert_eq!((names, kinds), want, "{line}");
    assert_eq!(m.show("s.service", "ActiveState"), "active");
    m.main_pid("s.service");
    m.expect(0, &["stop", "s.service", "sa.socket", "sb.socket"]);
}
