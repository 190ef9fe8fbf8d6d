//! Tests of [`super::connection`] against a real private `dbus-daemon` and real clients (zbus
//! client connections, libdbus through `dbus-send`, sd-bus through `systemctl`). Each test
//! starts its own bus in its own temporary directory and kills only that daemon, by PID.
//! Every wait has a timeout.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tokio::time::timeout;
use zbus::{Message, MessageStream, connection::Builder};

use super::connection::{Bus, BusError, BusEvent};
use super::test_support::TestBus;
use crate::settings::Scope;

const T: Duration = Duration::from_secs(10);
const NAME: &str = "org.freedesktop.systemd1";

/// The next event other than a well-known name changing hands (see
/// [`well_known_names_changing_hands_are_reported`]).
async fn next(bus: &mut Bus) -> Option<BusEvent> {
    loop {
        match timeout(T, bus.next_event())
            .await
            .expect("an event within the timeout")
        {
            Some(BusEvent::NameOwner { .. }) => continue,
            other => return other,
        }
    }
}

/// The next `NameOwner` event for `name`: whether it is owned.
async fn next_owner_change(bus: &mut Bus, name: &str) -> bool {
    loop {
        match timeout(T, bus.next_event())
            .await
            .expect("an event within the timeout")
        {
            Some(BusEvent::NameOwner { name: n, owned }) if n == name => return owned,
            Some(_) => continue,
            None => panic!("bus connection lost"),
        }
    }
}

/// Names owned when the manager connects are reported once, later changes as they happen —
/// what `BusName=`/`Type=dbus` services are tracked by.
#[tokio::test]
async fn well_known_names_changing_hands_are_reported() {
    let tb = TestBus::start();
    let early = tb.client().await;
    early.request_name("org.example.Early").await.unwrap();
    let mut bus = owner(&tb).await;
    assert!(next_owner_change(&mut bus, "org.example.Early").await);
    let late = tb.client().await;
    late.request_name("org.example.Late").await.unwrap();
    assert!(next_owner_change(&mut bus, "org.example.Late").await);
    late.release_name("org.example.Late").await.unwrap();
    assert!(!next_owner_change(&mut bus, "org.example.Late").await);
    drop(early);
    assert!(!next_owner_change(&mut bus, "org.example.Early").await);
}

async fn owner(bus: &TestBus) -> Bus {
    let mut b = Bus::new();
    timeout(T, b.connect_bus(Scope::User, Some(&bus.address), NAME))
        .await
        .unwrap()
        .unwrap();
    b
}

fn signal(member: &str) -> Message {
    Message::signal(
        "/org/freedesktop/systemd1",
        "org.freedesktop.systemd1.Manager",
        member,
    )
    .build(&(7u32,))
    .unwrap()
}

#[tokio::test]
async fn calls_arrive_replies_return_and_signals_broadcast() {
    let tb = TestBus::start();
    let mut bus = owner(&tb).await;
    let client = tb.client().await;
    // Subscribe to our signals before the call, as systemctl does.
    let rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .sender(NAME)
        .member("JobRemoved")
        .build()
        .unwrap();
    let mut signals = timeout(T, MessageStream::for_match_rule(rule, &client, None))
        .await
        .unwrap()
        .unwrap();

    let call = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .call_method(
                    Some(NAME),
                    "/org/freedesktop/systemd1",
                    Some("org.freedesktop.systemd1.Manager"),
                    "StartUnit",
                    &("a.service", "replace"),
                )
                .await
        })
    };
    let Some(BusEvent::Call(msg, ctx)) = next(&mut bus).await else {
        panic!("expected a call")
    };
    assert_eq!(Some(ctx.conn), bus.bus_conn());
    assert_eq!(ctx.caller_pid, None);
    assert_eq!(msg.header().member().unwrap().as_str(), "StartUnit");
    let reply = Message::method_return(&msg.header())
        .build(&(zbus::ObjectPath::try_from("/org/freedesktop/systemd1/job/1").unwrap(),))
        .unwrap();
    // The reply is queued before the signal it causes, so it arrives first.
    bus.send(ctx.conn, reply);
    bus.emit(&[signal("JobRemoved")]);
    let r = timeout(T, call).await.unwrap().unwrap().unwrap();
    let path: zbus::OwnedObjectPath = r.body().deserialize().unwrap();
    assert_eq!(path.as_str(), "/org/freedesktop/systemd1/job/1");
    let sig = timeout(T, async {
        use futures_core::Stream;
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut signals).poll_next(cx)).await
    })
    .await
    .unwrap()
    .unwrap()
    .unwrap();
    assert_eq!(sig.header().member().unwrap().as_str(), "JobRemoved");
    assert!(timeout(T, bus.flush(T)).await.unwrap());
}

#[tokio::test]
async fn a_taken_name_is_a_clear_error() {
    let tb = TestBus::start();
    let _first = owner(&tb).await;
    let mut second = Bus::new();
    let err = timeout(T, second.connect_bus(Scope::User, Some(&tb.address), NAME))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, BusError::NameTaken(_)));
    assert_eq!(
        err.to_string(),
        "org.freedesktop.systemd1 is already owned by another process"
    );
}

#[tokio::test]
async fn departing_bus_clients_are_reported() {
    let tb = TestBus::start();
    let mut bus = owner(&tb).await;
    let client = tb.client().await;
    let unique = client.unique_name().unwrap().to_string();
    drop(client);
    loop {
        match next(&mut bus).await {
            Some(BusEvent::PeerGone { conn, name }) if name.as_deref() == Some(&unique) => {
                assert_eq!(Some(conn), bus.bus_conn());
                break;
            }
            Some(_) => continue,
            None => panic!("bus connection lost"),
        }
    }
}

#[tokio::test]
async fn losing_the_bus_ends_the_event_stream() {
    let mut tb = TestBus::start();
    let mut bus = owner(&tb).await;
    tb.kill();
    loop {
        match next(&mut bus).await {
            None => break,
            Some(BusEvent::PeerGone { .. }) => continue,
            Some(other) => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn libdbus_clients_get_error_replies() {
    let tb = TestBus::start();
    let mut bus = owner(&tb).await;
    let address = tb.address.clone();
    let sender = tokio::task::spawn_blocking(move || {
        Command::new("dbus-send")
            .arg(format!("--bus={address}"))
            .args([
                "--print-reply",
                "--reply-timeout=10000",
                "--dest=org.freedesktop.systemd1",
                "/org/freedesktop/systemd1",
                "org.freedesktop.systemd1.Manager.GetUnit",
                "string:x.service",
            ])
            .output()
            .unwrap()
    });
    let Some(BusEvent::Call(msg, ctx)) = next(&mut bus).await else {
        panic!("expected a call")
    };
    let reply = Message::error(&msg.header(), "org.freedesktop.systemd1.NoSuchUnit")
        .build(&("Unit x.service not loaded.",))
        .unwrap();
    bus.send(ctx.conn, reply);
    let out = timeout(T, sender).await.unwrap().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("org.freedesktop.systemd1.NoSuchUnit")
            && stderr.contains("Unit x.service not loaded."),
        "{stderr}"
    );
}

fn private_socket(dir: &Path) -> PathBuf {
    dir.join("xdg/systemd/private")
}

#[tokio::test]
async fn private_socket_serves_peer_to_peer_clients() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = private_socket(dir.path());
    let mut bus = Bus::new();
    bus.listen_private(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let stream = std::os::unix::net::UnixStream::connect(&path).unwrap();
    let client = timeout(T, Builder::unix_stream(stream).p2p().build())
        .await
        .unwrap()
        .unwrap();
    let mut incoming = MessageStream::from(&client);
    let call = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .call_method(
                    Some(NAME),
                    "/org/freedesktop/systemd1",
                    Some("org.freedesktop.DBus.Peer"),
                    "Ping",
                    &(),
                )
                .await
        })
    };
    let Some(BusEvent::Call(msg, ctx)) = next(&mut bus).await else {
        panic!("expected a call")
    };
    assert_eq!(ctx.caller_pid, Some(std::process::id()));
    assert_eq!(ctx.caller_uid, Some(nix::unistd::geteuid().as_raw()));
    assert_eq!(bus.p2p_connections(), 1);
    bus.send(
        ctx.conn,
        Message::method_return(&msg.header()).build(&()).unwrap(),
    );
    bus.emit(&[signal("JobNew")]);
    timeout(T, call).await.unwrap().unwrap().unwrap();
    // The signal arrives on the peer-to-peer connection too.
    let got_signal = timeout(T, async {
        use futures_core::Stream;
        loop {
            let m = std::future::poll_fn(|cx| std::pin::Pin::new(&mut incoming).poll_next(cx))
                .await
                .unwrap()
                .unwrap();
            if m.message_type() == zbus::message::Type::Signal {
                return m;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(got_signal.header().member().unwrap().as_str(), "JobNew");

    drop(incoming);
    drop(client);
    match next(&mut bus).await {
        Some(BusEvent::PeerGone { conn, name: None }) => assert_eq!(conn, ctx.conn),
        other => panic!("expected PeerGone, got {other:?}"),
    }
    assert_eq!(bus.p2p_connections(), 0);
    drop(bus);
    assert!(!path.exists(), "socket removed with the listener");
}

/// The real `systemctl --user` (sd-bus) finds and speaks to the private socket with no bus at
/// all; the reply here is a canned `ListUnitsByPatterns` answer, as this test is about the
/// transport, not the manager.
#[tokio::test]
async fn systemctl_talks_to_the_private_socket() {
    if Command::new("systemctl").arg("--version").output().is_err() {
        eprintln!("systemctl not installed; skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = private_socket(dir.path());
    let mut bus = Bus::new();
    bus.listen_private(&path).unwrap();
    let xdg = dir.path().join("xdg");
    let child = tokio::task::spawn_blocking(move || {
        Command::new("systemctl")
            .args(["--user", "list-units", "--all", "--no-pager", "--plain"])
            .env_clear()
            .env("XDG_RUNTIME_DIR", &xdg)
            .env("PATH", "/usr/bin:/bin")
            .env("SYSTEMD_IGNORE_CHROOT", "1")
            .env("SYSTEMD_COLORS", "0")
            .output()
            .unwrap()
    });
    let Some(BusEvent::Call(msg, ctx)) = next(&mut bus).await else {
        panic!("expected a call")
    };
    let hdr = msg.header();
    assert_eq!(hdr.member().unwrap().as_str(), "ListUnitsByPatterns");
    assert_eq!(
        hdr.destination().map(|d| d.to_string()).as_deref(),
        Some(NAME)
    );
    assert!(
        hdr.sender().is_none(),
        "peer-to-peer messages carry no sender"
    );
    let unit = (
        "p2p-check.service",
        "Transport check",
        "loaded",
        "active",
        "running",
        "",
        zbus::ObjectPath::try_from("/org/freedesktop/systemd1/unit/p2p_2dcheck_2eservice").unwrap(),
        0u32,
        "",
        zbus::ObjectPath::try_from("/").unwrap(),
    );
    bus.send(
        ctx.conn,
        Message::method_return(&hdr).build(&(vec![unit],)).unwrap(),
    );
    let out = timeout(T, child).await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("p2p-check.service") && stdout.contains("Transport check"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_stale_socket_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = private_socket(dir.path());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"stale").unwrap();
    let mut bus = Bus::new();
    bus.listen_private(&path).unwrap();
    assert!(std::os::unix::net::UnixStream::connect(&path).is_ok());
    // A live socket is never taken over.
    let mut second = Bus::new();
    let err = second.listen_private(&path).unwrap_err();
    assert!(
        err.to_string().contains("another process is serving"),
        "{err}"
    );
    assert!(std::os::unix::net::UnixStream::connect(&path).is_ok());
    drop(bus);
}

#[test]
fn bus_address_prefers_flag_then_starter() {
    use super::connection::bus_address;
    let mut s = crate::settings::Settings::resolve(
        Scope::User,
        vec![PathBuf::from("/x")],
        Some(PathBuf::from("/y")),
        None,
    );
    assert_eq!(bus_address(&s, None), None);
    assert_eq!(
        bus_address(&s, Some("unix:path=/a".into())).as_deref(),
        Some("unix:path=/a")
    );
    assert_eq!(bus_address(&s, Some(String::new())), None);
    s.bus_address = Some("unix:path=/b".into());
    assert_eq!(
        bus_address(&s, Some("unix:path=/a".into())).as_deref(),
        Some("unix:path=/b")
    );
}

#[test]
fn bus_and_facade_can_live_in_a_spawned_task() {
    fn assert_send<T: Send>() {}
    assert_send::<Bus>();
    assert_send::<BusEvent>();
    assert_send::<crate::bus::systemd::SystemdFacade>();
}
