//! Acceptance (issue 4): a flood of at least 100 000 notify datagrams, valid and garbage mixed,
//! from several processes — four `Type=notify` services' main processes plus a stranger that
//! belongs to no unit. Throughout the flood unitd keeps answering D-Bus calls from the stock
//! `systemctl --user` (each call must complete; no timing thresholds), every service's
//! `StatusText` only ever shows values its sender really sent, in order, and each sender's last
//! `STATUS=` lands. The rate itself is measured by `cargo bench --bench manager`.

mod common;

use common::*;

const SENDERS: usize = 4;
/// Datagrams each service sends at least (4 × 25 000 = 100 000), plus the stranger's.
const PER_SENDER: usize = 25_000;
/// How long the senders may take to finish once told to stop.
const FLOOD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// The sender: READY, then (once `go` exists) bursts of one valid `STATUS=<id>-<n>` and two
/// pieces of garbage until at least PER_SENDER datagrams went out *and* `stop` exists; then
/// `STATUS=done-<id>-<total>`.
const FLOOD_PY: &str = r#"
import os, socket, sys, time
me, home, per = sys.argv[1], os.environ['HOME'], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(os.environ['NOTIFY_SOCKET'])
s.send(b'READY=1\nSTATUS=ready-' + me.encode())
while not os.path.exists(home + '/go'):
    time.sleep(0.01)
junk = [bytes(range(256)), b'READY=1 ', b'X' * 5000, b'STATUS=a\0b', b'', b'\n\n',
        b'MAINPID=abc', b'STATUS=' + b'\xff' * 10, b'BARRIER=1\nSTATUS=no', b'FOO=bar']
n = 0
k = 0
while True:
    for _ in range(500):
        s.send(b'STATUS=%s-%d' % (me.encode(), k))
        k += 1
        s.send(junk[n % len(junk)])
        s.send(junk[(n + 3) % len(junk)])
        n += 3
    if n >= per and os.path.exists(home + '/stop'):
        break
s.send(b'STATUS=done-%s-%d' % (me.encode(), n + 1))
time.sleep(3600)
"#;

/// `<id>-<k>` → k, for a status of sender `id`.
fn progress(id: usize, status: &str) -> Option<u64> {
    status.strip_prefix(&format!("{id}-"))?.parse().ok()
}

#[test]
fn flood_of_100k_datagrams_keeps_dbus_responsive_and_lands_every_sender() {
    if which("python3").is_none() {
        eprintln!("skipped: python3 missing");
        return;
    }
    let Some(m) = UserManager::start(&[(
        "flood@.service",
        &format!(
            "[Service]\nType=notify\nExecStart=/usr/bin/python3 %h/flood.py %i {PER_SENDER}\n"
        ),
    )]) else {
        return;
    };
    std::fs::write(m.dir.home().join("flood.py"), FLOOD_PY).unwrap();
    let names: Vec<String> = (1..=SENDERS)
        .map(|i| format!("flood@{i}.service"))
        .collect();
    let mut args = vec!["start"];
    args.extend(names.iter().map(String::as_str));
    m.expect(0, &args);
    for (i, n) in names.iter().enumerate() {
        assert_eq!(m.show(n, "StatusText"), format!("ready-{}", i + 1));
        m.main_pid(n);
    }

    // A stranger (this test process, in no unit) floods too: dropped as unattributable.
    let sock = m.dir.xdg().join("unitd/notify");
    let stop_stranger = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stranger = {
        let stop = stop_stranger.clone();
        std::thread::spawn(move || {
            let c = std::os::unix::net::UnixDatagram::unbound().unwrap();
            let mut sent = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || sent < 1000 {
                let _ = c.send_to(b"READY=1\nSTATUS=stranger", &sock);
                let _ = c.send_to(&[0xffu8; 64], &sock);
                sent += 2;
            }
            sent
        })
    };

    std::fs::write(m.dir.home().join("go"), b"").unwrap();
    // Every service shows flood progress: its datagrams are being processed …
    let mut last = [0u64; SENDERS];
    for (i, n) in names.iter().enumerate() {
        let v = m.wait_prop(n, "StatusText", "flood progress", |v| {
            progress(i + 1, v).is_some()
        });
        last[i] = progress(i + 1, &v).unwrap();
    }
    // … while D-Bus calls keep being answered, with only values the senders sent, in order.
    let mut answered = 0;
    for _ in 0..10 {
        for (i, n) in names.iter().enumerate() {
            let v = m.show(n, "StatusText");
            let k = progress(i + 1, &v).unwrap_or_else(|| panic!("{n}: unexpected status {v:?}"));
            assert!(
                k >= last[i],
                "{n}: status went back from {} to {k}",
                last[i]
            );
            last[i] = k;
            answered += 1;
        }
        m.expect(0, &["is-active", "--quiet", &names[0]]);
        m.expect(0, &["list-units", "--no-pager", "flood@*"]);
        answered += 2;
    }
    assert_eq!(answered, 10 * (SENDERS + 2));

    std::fs::write(m.dir.home().join("stop"), b"").unwrap();
    let mut total = 0u64;
    for (i, n) in names.iter().enumerate() {
        let want = format!("done-{}-", i + 1);
        // The senders may still have most of their datagrams to send: a generous timeout
        // (a debug build on a loaded machine), never a threshold.
        let v = wait_for_value("last status lands", FLOOD_TIMEOUT, || {
            Some(m.show(n, "StatusText")).filter(|v| v.starts_with(&want))
        });
        let sent: u64 = v[want.len()..].parse().unwrap();
        assert!(sent > PER_SENDER as u64, "{n} sent only {sent}");
        total += sent;
        // Garbage never changed the state: still active, still the same main process.
        assert_eq!(m.show(n, "ActiveState"), "active");
        assert_eq!(m.show(n, "Result"), "success");
    }
    stop_stranger.store(true, std::sync::atomic::Ordering::Relaxed);
    total += stranger.join().unwrap();
    assert!(total >= 100_000, "only {total} datagrams");

    let mut args = vec!["stop"];
    args.extend(names.iter().map(String::as_str));
    m.expect(0, &args);
}
