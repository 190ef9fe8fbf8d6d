//! Acceptance: socket activation with `Accept=yes` through the stock `systemctl --user` and
//! real clients (service-contract §3): every connection spawns its own `foo@<n>-…` instance
//! that owns the connection — on stdin/stdout with `StandardInput=socket` (with
//! `REMOTE_ADDR`/`REMOTE_PORT` for TCP peers), else as `LISTEN_FDS=1`/`LISTEN_FDNAMES=connection`.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use common::*;

const WAIT: Duration = Duration::from_secs(20);

/// A test port below the ephemeral range, fixed per test process (and per test via `offset`).
fn test_port(offset: u32) -> u16 {
    (20000 + (std::process::id() * 2 + offset) % 10000) as u16
}

/// Write `line` and read one line back (with a timeout).
fn ask<S: std::io::Read + Write>(conn: &mut S, line: &str) -> String {
    conn.write_all(line.as_bytes()).unwrap();
    let mut r = BufReader::new(conn);
    let mut out = String::new();
    r.read_line(&mut out).unwrap();
    out
}

/// Seed 15 (Accept=yes over TCP): `REMOTE_ADDR`/`REMOTE_PORT`, and with
/// `StandardInput=socket` no `LISTEN_*` variables.
#[test]
fn accept_yes_tcp_stdin_socket_spawns_one_instance_per_connection() {
    let port = test_port(0);
    let units = [
        (
            "answer.socket",
            format!("[Socket]\nListenStream=127.0.0.1:{port}\nAccept=yes\n"),
        ),
        (
            "answer@.service",
            "[Service]\nExecStart=/bin/sh %h/answer.sh\nStandardInput=socket\n".to_string(),
        ),
    ];
    let refs: Vec<(&str, &str)> = units.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let Some(m) = UserManager::start(&refs) else {
        return;
    };
    // Answers the first line, then waits for the client to hang up (so it stays listed).
    std::fs::write(
        m.dir.home().join("answer.sh"),
        "read l\necho \"got $l from $REMOTE_ADDR:$REMOTE_PORT fds=${LISTEN_FDS:-none}\"\nread rest\n",
    )
    .unwrap();

    m.expect(0, &["start", "answer.socket"]);
    assert_eq!(m.show("answer.socket", "SubState"), "listening");

    let mut a = TcpStream::connect(("127.0.0.1", port)).expect("connect a");
    a.set_read_timeout(Some(WAIT)).unwrap();
    let mut b = TcpStream::connect(("127.0.0.1", port)).expect("connect b");
    b.set_read_timeout(Some(WAIT)).unwrap();
    let (pa, pb) = (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    );

    // Each instance answers its own client, with the peer's address in its environment and
    // no LISTEN_* variables (the connection is its stdin/stdout).
    assert_eq!(
        ask(&mut b, "bee\n"),
        format!("got bee from 127.0.0.1:{pb} fds=none\n")
    );
    assert_eq!(
        ask(&mut a, "ay\n"),
        format!("got ay from 127.0.0.1:{pa} fds=none\n")
    );

    // Instances are named `<n>-<local>-<remote>` in accept order, and listed while running.
    let ia = format!("answer@0-127.0.0.1:{port}-127.0.0.1:{pa}.service");
    let ib = format!("answer@1-127.0.0.1:{port}-127.0.0.1:{pb}.service");
    let list = m.expect(0, &["list-units", "--no-pager", "--no-legend"]);
    assert!(
        list.stdout.contains(&ia) && list.stdout.contains(&ib),
        "{}",
        list.dump()
    );
    assert_eq!(m.show(&ia, "ActiveState"), "active");
    assert_eq!(m.show(&ib, "ActiveState"), "active");
    // The socket keeps listening for the next connection.
    assert_eq!(m.show("answer.socket", "SubState"), "listening");

    // Hanging up ends each instance.
    drop(a);
    drop(b);
    m.wait_prop(&ia, "ActiveState", "instance a ends", |v| v != "active");
    m.wait_prop(&ib, "ActiveState", "instance b ends", |v| v != "active");

    // A third connection gets instance number 2.
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect c");
    c.set_read_timeout(Some(WAIT)).unwrap();
    let pc = c.local_addr().unwrap().port();
    assert_eq!(
        ask(&mut c, "sea\n"),
        format!("got sea from 127.0.0.1:{pc} fds=none\n")
    );
    let ic = format!("answer@2-127.0.0.1:{port}-127.0.0.1:{pc}.service");
    assert_eq!(m.show(&ic, "ActiveState"), "active");
    drop(c);

    m.expect(0, &["stop", "answer.socket"]);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

/// Reads one line from the connection on fd 3 and answers with what it was handed.
const CONN_PY: &str = r#"
import os, socket
s = socket.socket(fileno=3)
line = s.makefile().readline().strip()
s.sendall(("%s fds=%s names=%s pid_ok=%s remote=%s\n" % (
    line, os.environ.get("LISTEN_FDS"), os.environ.get("LISTEN_FDNAMES"),
    os.environ.get("LISTEN_PID") == str(os.getpid()),
    os.environ.get("REMOTE_ADDR", "none"))).encode())
s.recv(10)
"#;

/// Seed 15 (Accept=yes): the connection is the one fd, `LISTEN_FDNAMES=connection`,
/// `LISTEN_PID` is the instance's own PID.
#[test]
fn accept_yes_unix_passes_the_connection_as_listen_fds() {
    if !std::path::Path::new("/usr/bin/python3").exists() {
        eprintln!("skipping: no /usr/bin/python3");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let sock = tmp.path().join("conn.sock");
    let units = [
        (
            "conn.socket",
            format!("[Socket]\nListenStream={}\nAccept=yes\n", sock.display()),
        ),
        (
            "conn@.service",
            "[Service]\nExecStart=/usr/bin/python3 %h/conn.py\n".to_string(),
        ),
    ];
    let refs: Vec<(&str, &str)> = units.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let Some(m) = UserManager::start(&refs) else {
        return;
    };
    std::fs::write(m.dir.home().join("conn.py"), CONN_PY).unwrap();
    m.expect(0, &["start", "conn.socket"]);

    let mut a = UnixStream::connect(&sock).expect("connect a");
    a.set_read_timeout(Some(WAIT)).unwrap();
    let mut b = UnixStream::connect(&sock).expect("connect b");
    b.set_read_timeout(Some(WAIT)).unwrap();
    let want = |l: &str| format!("{l} fds=1 names=connection pid_ok=True remote=none\n");
    assert_eq!(ask(&mut a, "one\n"), want("one"));
    assert_eq!(ask(&mut b, "two\n"), want("two"));

    // AF_UNIX instances are `<n>-<peer pid>-<peer uid>` (SO_PEERCRED: this test process).
    let me = std::process::id();
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let list = m.expect(0, &["list-units", "--no-pager", "--no-legend"]);
    for n in 0..2 {
        let name = format!("conn@{n}-{me}-{uid}.service");
        assert!(list.stdout.contains(&name), "{name}\n{}", list.dump());
    }
    drop(a);
    drop(b);
    m.expect(0, &["stop", "conn.socket"]);
}

/// `MaxConnections=`: with one instance up, the next connection is accepted and closed at once
/// (the client reads EOF) and counted in `NRefused`; `systemctl status` renders the socket's
/// `Listen:` lines and `Accepted:`/`Connected:`/`Refused:` counters from the
/// `org.freedesktop.systemd1.Socket` interface, as it does for systemd.
#[test]
fn max_connections_refuses_and_status_shows_listen_and_counters() {
    use std::io::Read;
    let tmp = tempfile::tempdir().unwrap();
    let sock = tmp.path().join("lim.sock");
    let dgram = tmp.path().join("lim.dgram");
    let units = [
        (
            "lim.socket",
            format!(
                "[Socket]\nListenStream={}\nListenSequentialPacket=@unitd-lim-{}\nAccept=yes\nMaxConnections=1\nMaxConnectionsPerSource=7\nBacklog=12\nSocketMode=0600\n",
                sock.display(),
                std::process::id()
            ),
        ),
        (
            // Greets, then holds the connection until the client hangs up.
            "lim@.service",
            "[Service]\nExecStart=/bin/sh -c 'echo hello; read l'\nStandardInput=socket\n"
                .to_string(),
        ),
        (
            "plain.socket",
            format!(
                "[Socket]\nListenDatagram={}\nFileDescriptorName=dg\n",
                dgram.display()
            ),
        ),
        (
            "plain.service",
            "[Service]\nExecStart=/bin/sleep 60\n".to_string(),
        ),
    ];
    let refs: Vec<(&str, &str)> = units.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let Some(m) = UserManager::start(&refs) else {
        return;
    };
    m.expect(0, &["start", "lim.socket", "plain.socket"]);

    let mut a = UnixStream::connect(&sock).expect("connect a");
    a.set_read_timeout(Some(WAIT)).unwrap();
    let mut line = String::new();
    BufReader::new(&mut a).read_line(&mut line).unwrap();
    assert_eq!(line, "hello\n");
    assert_eq!(m.show("lim.socket", "NConnections"), "1");

    // Over the limit: accepted, then closed without an instance.
    let mut b = UnixStream::connect(&sock).expect("connect b");
    b.set_read_timeout(Some(WAIT)).unwrap();
    let mut rest = Vec::new();
    let n = b
        .read_to_end(&mut rest)
        .expect("refused connection reads EOF");
    assert_eq!(n, 0, "refused connection got data: {rest:?}");
    m.wait_prop("lim.socket", "NRefused", "refusal counted", |v| v == "1");
    assert_eq!(m.show("lim.socket", "NAccepted"), "1");
    assert_eq!(m.show("lim.socket", "MaxConnections"), "1");
    assert_eq!(m.show("lim.socket", "MaxConnectionsPerSource"), "7");
    assert_eq!(m.show("lim.socket", "Backlog"), "12");
    assert_eq!(m.show("lim.socket", "SocketMode"), "0600");
    assert_eq!(m.show("lim.socket", "Result"), "success");
    assert_eq!(m.show("lim.socket", "FileDescriptorName"), "lim.socket");
    let listen = m.show("lim.socket", "Listen");
    assert!(
        listen.contains(&format!("{} (Stream)", sock.display())),
        "{listen}"
    );

    let status = m.systemctl(&["status", "--no-pager", "lim.socket"]);
    let text = status.stdout.clone();
    let want_listen = format!("Listen: {} (Stream)", sock.display());
    m.check(text.contains(&want_listen), &want_listen, &status);
    let want_seq = format!("@unitd-lim-{} (SequentialPacket)", std::process::id());
    m.check(text.contains(&want_seq), &want_seq, &status);
    // (systemctl pads before `Refused:`.)
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    m.check(
        words.contains("Accepted: 1; Connected: 1; Refused: 1"),
        "counters",
        &status,
    );

    // Accept=no sockets show their Listen: lines but no counters.
    let status = m.systemctl(&["status", "--no-pager", "plain.socket"]);
    let want = format!("Listen: {} (Datagram)", dgram.display());
    m.check(status.stdout.contains(&want), &want, &status);
    m.check(!status.stdout.contains("Accepted:"), "no counters", &status);
    assert_eq!(m.show("plain.socket", "FileDescriptorName"), "dg");
    assert_eq!(m.show("plain.socket", "Accept"), "no");

    // The instance ends when its client hangs up; the slot is free again.
    drop(a);
    m.wait_prop("lim.socket", "NConnections", "instance ended", |v| v == "0");
    let mut c = UnixStream::connect(&sock).expect("connect c");
    c.set_read_timeout(Some(WAIT)).unwrap();
    let mut line = String::new();
    BufReader::new(&mut c).read_line(&mut line).unwrap();
    assert_eq!(line, "hello\n");
    assert_eq!(m.show("lim.socket", "NAccepted"), "2");
    drop(c);
    m.expect(0, &["stop", "lim.socket", "plain.socket"]);
}

/// `MaxConnectionsPerSource=`: a second connection from the same IP address is refused while
/// the first one's instance runs (NRefused counts it); the slot frees when it ends.
#[test]
fn max_connections_per_source_refuses_the_same_address() {
    use std::io::Read;
    let port = test_port(1);
    let units = [
        (
            "per.socket",
            format!(
                "[Socket]\nListenStream=127.0.0.1:{port}\nAccept=yes\nMaxConnectionsPerSource=1\n"
            ),
        ),
        (
            "per@.service",
            "[Service]\nExecStart=/bin/sh -c 'echo hi; read l'\nStandardInput=socket\n".to_string(),
        ),
    ];
    let refs: Vec<(&str, &str)> = units.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let Some(m) = UserManager::start(&refs) else {
        return;
    };
    m.expect(0, &["start", "per.socket"]);
    let mut a = TcpStream::connect(("127.0.0.1", port)).expect("connect a");
    a.set_read_timeout(Some(WAIT)).unwrap();
    let mut line = String::new();
    BufReader::new(&mut a).read_line(&mut line).unwrap();
    assert_eq!(line, "hi\n");
    let mut b = TcpStream::connect(("127.0.0.1", port)).expect("connect b");
    b.set_read_timeout(Some(WAIT)).unwrap();
    let mut rest = Vec::new();
    assert_eq!(b.read_to_end(&mut rest).expect("EOF"), 0, "{rest:?}");
    m.wait_prop("per.socket", "NRefused", "refusal counted", |v| v == "1");
    assert_eq!(m.show("per.socket", "NConnections"), "1");
    drop(a);
    m.wait_prop("per.socket", "NConnections", "instance ended", |v| v == "0");
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect c");
    c.set_read_timeout(Some(WAIT)).unwrap();
    let mut line = String::new();
    BufReader::new(&mut c).read_line(&mut line).unwrap();
    assert_eq!(line, "hi\n");
    drop(c);
    m.expect(0, &["stop", "per.socket"]);
}
