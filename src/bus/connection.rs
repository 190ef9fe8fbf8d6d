//! Connections of the D-Bus façades: the message-bus connection that owns the well-known
//! name, and peer-to-peer connections accepted on a private socket
//! (`$XDG_RUNTIME_DIR/systemd/private`, `/run/systemd/private`) or on an abstract socket
//! (Upstart's `unix:abstract=/com/ubuntu/upstart`, root only).
//!
//! [`Bus`] hands the daemon loop one event at a time ([`Bus::next_event`]): method calls from
//! any connection, in arrival order per connection, and notices that a client went away.
//! Replies and signals are queued per connection ([`Bus::send`], [`Bus::emit`]) and written by
//! one writer task per connection, so the daemon loop never blocks on a slow client and a reply
//! queued before a signal is written before it. Reader and writer tasks only move messages;
//! they never touch the manager.

use std::collections::HashMap;
use std::future::poll_fn;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use futures_core::Stream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use zbus::connection::Builder;
use zbus::fdo::RequestNameFlags;
use zbus::message::Type as MessageType;
use zbus::{Connection, Message, MessageStream};

use crate::settings::{Scope, Settings};

/// Identifies one connection of the [`Bus`] (the message bus or one peer-to-peer client).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl std::fmt::Display for ConnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "conn{}", self.0)
    }
}

/// Who sent a call and over which connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallContext {
    /// The connection the call arrived on; replies go back on it.
    pub conn: ConnId,
    /// The caller's PID when known: always on peer-to-peer connections (`SO_PEERCRED`); on the
    /// bus only for calls that need it (asked from the bus driver before the call is handed
    /// out, see [`crate::bus::systemd::wants_caller_pid`]).
    pub caller_pid: Option<u32>,
    /// The caller's UID, when known: peer-to-peer connections (`SO_PEERCRED`), and on the bus
    /// for privileged calls (asked from the bus driver, see
    /// [`crate::bus::systemd::is_privileged`]).
    pub caller_uid: Option<u32>,
}

/// What [`Bus::next_event`] yields.
#[derive(Debug, Clone)]
pub enum BusEvent {
    /// A method call. Handle it and send the reply with [`Bus::send`] on `ctx.conn`.
    Call(Message, CallContext),
    /// A client went away: a peer-to-peer connection closed (`name` is `None`), or a client of
    /// the message bus disconnected (`name` is its unique name, `conn` the bus connection).
    PeerGone {
        /// The connection.
        conn: ConnId,
        /// The bus client's unique name.
        name: Option<String>,
    },
    /// dbus-daemon (`--systemd-activation`) asks the manager to start `unit`, the
    /// `SystemdService=` of a bus-activatable name
    /// (`org.freedesktop.systemd1.Activator.ActivationRequest`). If it cannot be started,
    /// answer with [`Bus::activation_failure`].
    ActivationRequest {
        /// The unit to start.
        unit: String,
    },
    /// The well-known name `name` got an owner (`owned`) or lost it: from `NameOwnerChanged`,
    /// and once for every name already owned when the connection was made. Services with that
    /// `BusName=` track it (`Type=dbus`).
    NameOwner {
        /// The well-known name.
        name: String,
        /// Whether it has an owner now.
        owned: bool,
    },
}

/// The interface of dbus-daemon's systemd-activation signals.
pub const ACTIVATOR_INTERFACE: &str = "org.freedesktop.systemd1.Activator";

/// Why the bus could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// Connecting or authenticating to the bus failed.
    #[error("failed to connect to the D-Bus bus{}: {source}", address.as_ref().map(|a| format!(" at {a}")).unwrap_or_default())]
    Connect {
        /// The address tried (`None`: the scope's default bus).
        address: Option<String>,
        /// The underlying error.
        source: zbus::Error,
    },
    /// Someone else owns the well-known name.
    #[error("{0} is already owned by another process")]
    NameTaken(String),
    /// `RequestName` itself failed.
    #[error("failed to request {name}: {source}")]
    RequestName {
        /// The name.
        name: String,
        /// The underlying error.
        source: zbus::Error,
    },
    /// The private socket could not be created.
    #[error("failed to listen on {path}: {source}")]
    Listen {
        /// The socket path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Messages queued on a peer-to-peer connection that does not read them before it is dropped
/// (a stuck client must not make the manager's memory grow without bound).
const P2P_QUEUE_LIMIT: usize = 1 << 18;

/// Capacity of zbus's incoming queue per connection; large, so bursts of calls never stall the
/// socket reader while the daemon loop is busy.
const MAX_QUEUED: usize = 1 << 20;

enum Event {
    NewConn(ConnId, Outbox),
    Call(Message, CallContext),
    Closed(ConnId),
    NameGone(String),
    Activation(String),
    NameOwner(String, bool),
}

struct Outbox {
    tx: mpsc::UnboundedSender<Message>,
    pending: Arc<AtomicUsize>,
    limit: Option<usize>,
    conn: Connection,
}

impl Outbox {
    fn new(conn: Connection, limit: Option<usize>) -> Outbox {
        let (tx, rx) = mpsc::unbounded_channel();
        let pending = Arc::new(AtomicUsize::new(0));
        tokio::spawn(writer(conn.clone(), rx, pending.clone()));
        Outbox {
            tx,
            pending,
            limit,
            conn,
        }
    }

    /// Queue `msg`; `false` if the connection is gone or over its limit.
    fn push(&self, msg: Message) -> bool {
        let n = self.pending.fetch_add(1, Ordering::Relaxed) + 1;
        if self.limit.is_some_and(|l| n > l) {
            return false;
        }
        self.tx.send(msg).is_ok()
    }
}

async fn writer(
    conn: Connection,
    mut rx: mpsc::UnboundedReceiver<Message>,
    pending: Arc<AtomicUsize>,
) {
    let mut batch = Vec::with_capacity(64);
    while let Some(m) = rx.recv().await {
        batch.push(m);
        while batch.len() < 256 {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        let n = batch.len();
        if let Err(e) = conn.send_all(&batch).await {
            tracing::debug!("dropping connection after write error: {e}");
            pending.store(0, Ordering::Relaxed);
            return;
        }
        pending.fetch_sub(n, Ordering::Relaxed);
        batch.clear();
    }
}

async fn next_message(stream: &mut MessageStream) -> Option<zbus::Result<Message>> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

/// The façades' D-Bus endpoints. See the module docs.
pub struct Bus {
    rx: mpsc::UnboundedReceiver<Event>,
    tx: mpsc::UnboundedSender<Event>,
    outboxes: HashMap<ConnId, Outbox>,
    bus_id: Option<ConnId>,
    next_id: Arc<AtomicU64>,
    listeners: Vec<PrivateListener>,
    /// Readers of connections, aborted when the `Bus` is dropped.
    tasks: Vec<JoinHandle<()>>,
}

struct PrivateListener {
    /// The socket file to remove at the end (`None` for an abstract socket), with its
    /// (device, inode): removed only while it is still ours (a successor manager may have
    /// bound a new socket there).
    path: Option<(PathBuf, Option<(u64, u64)>)>,
    task: JoinHandle<()>,
}

impl Drop for PrivateListener {
    fn drop(&mut self) {
        self.task.abort();
        if let Some((path, id)) = &self.path {
            use std::os::unix::fs::MetadataExt;
            let still_ours =
                std::fs::symlink_metadata(path).is_ok_and(|m| Some((m.dev(), m.ino())) == *id);
            if still_ours {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        // Close peer-to-peer connections so their reader tasks end.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            for (id, o) in self.outboxes.drain() {
                if Some(id) != self.bus_id {
                    let conn = o.conn;
                    rt.spawn(async move {
                        let _ = conn.close().await;
                    });
                }
            }
        }
    }
}

/// The address to connect to: `--bus ADDR`, else the activating bus (`$DBUS_STARTER_ADDRESS`,
/// set by dbus-daemon for bus-activated services), else `None` (the scope's default bus).
pub fn bus_address(settings: &Settings, starter_address: Option<String>) -> Option<String> {
    settings
        .bus_address
        .clone()
        .or(starter_address.filter(|a| !a.is_empty()))
}

impl Bus {
    /// A `Bus` with no connections yet (add them with [`Bus::connect_bus`] and
    /// [`Bus::listen_private`]).
    pub fn new() -> Bus {
        let (tx, rx) = mpsc::unbounded_channel();
        Bus {
            rx,
            tx,
            outboxes: HashMap::new(),
            bus_id: None,
            next_id: Arc::new(AtomicU64::new(1)),
            listeners: Vec::new(),
            tasks: Vec::new(),
        }
    }

    /// Connect to the bus at `address` (or the default bus of `scope`), start reading, then
    /// request `name` with `DO_NOT_QUEUE`. Calls that arrive as soon as the name is owned are
    /// already being collected.
    pub async fn connect_bus(
        &mut self,
        scope: Scope,
        address: Option<&str>,
        name: &str,
    ) -> Result<ConnId, BusError> {
        let connect_err = |source| BusError::Connect {
            address: address.map(str::to_owned),
            source,
        };
        let builder = match address {
            Some(a) => Builder::address(a),
            None => match scope {
                Scope::User => Builder::session(),
                Scope::System => Builder::system(),
            },
        };
        let stream = builder
            .max_queued(NonZeroUsize::new(MAX_QUEUED).expect("non-zero"))
            .build_message_stream()
            .await
            .map_err(connect_err)?;
        let conn = Connection::from(&stream);
        // Learn when clients disconnect (to drop their subscriptions and references) and
        // when well-known names change hands (`BusName=`, `Type=dbus`).
        conn.call_method(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            Some("org.freedesktop.DBus"),
            "AddMatch",
            &("type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged'",),
        )
        .await
        .map_err(connect_err)?;
        // The names owned already (after the match, so no change falls in between; a name
        // reported twice is harmless).
        if let Ok(reply) = conn
            .call_method(
                Some("org.freedesktop.DBus"),
                "/org/freedesktop/DBus",
                Some("org.freedesktop.DBus"),
                "ListNames",
                &(),
            )
            .await
            && let Ok(names) = reply.body().deserialize::<Vec<String>>()
        {
            for n in names {
                if !n.starts_with(':') && n != "org.freedesktop.DBus" {
                    let _ = self.tx.send(Event::NameOwner(n, true));
                }
            }
        }

        let id = self.alloc_id();
        self.outboxes.insert(id, Outbox::new(conn.clone(), None));
        self.bus_id = Some(id);
        let tx = self.tx.clone();
        self.tasks
            .push(tokio::spawn(read_bus(conn.clone(), stream, id, tx)));

        match conn
            .request_name_with_flags(name, RequestNameFlags::DO_NOT_QUEUE)
            .await
        {
            Ok(_) => Ok(id),
            Err(zbus::Error::NameTaken) => Err(BusError::NameTaken(name.to_owned())),
            Err(source) => Err(BusError::RequestName {
                name: name.to_owned(),
                source,
            }),
        }
    }

    /// Also own `name` on the message bus connection (`DO_NOT_QUEUE`), e.g. the Upstart name
    /// next to systemd's.
    pub async fn request_name(&self, name: &str) -> Result<(), BusError> {
        let Some(conn) = self.bus_connection() else {
            return Ok(());
        };
        match conn
            .request_name_with_flags(name, RequestNameFlags::DO_NOT_QUEUE)
            .await
        {
            Ok(_) => Ok(()),
            Err(zbus::Error::NameTaken) => Err(BusError::NameTaken(name.to_owned())),
            Err(source) => Err(BusError::RequestName {
                name: name.to_owned(),
                source,
            }),
        }
    }

    /// Whether `name` has an owner on the message bus (`NameHasOwner`); `None` when not
    /// connected or the bus driver gave no usable answer.
    pub async fn name_has_owner(&self, name: &str) -> Option<bool> {
        let conn = self.bus_connection()?;
        let reply = conn
            .call_method(
                Some("org.freedesktop.DBus"),
                "/org/freedesktop/DBus",
                Some("org.freedesktop.DBus"),
                "NameHasOwner",
                &(name,),
            )
            .await
            .ok()?;
        reply.body().deserialize::<bool>().ok()
    }

    /// Give up `name` on the message bus (idle exit: new calls then activate a fresh
    /// instance instead of reaching this one).
    pub async fn release_name(&self, name: &str) -> Result<(), BusError> {
        let Some(conn) = self.bus_connection() else {
            return Ok(());
        };
        match conn.release_name(name).await {
            Ok(_) => Ok(()),
            Err(source) => Err(BusError::RequestName {
                name: name.to_owned(),
                source,
            }),
        }
    }

    /// Serve peer-to-peer clients on a Unix socket at `path` (parent directories are created
    /// with mode 0755, the socket gets mode 0600; a stale socket file is replaced, a socket
    /// someone still serves is an error). Only clients
    /// running as root or as this process's user are accepted. Call this after owning the bus
    /// name, so a second manager never steals a live manager's socket.
    pub fn listen_private(&mut self, path: &Path) -> Result<(), BusError> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        let listen_err = |source| BusError::Listen {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(parent)
                .map_err(listen_err)?;
        }
        // Replace a stale socket, never a live one (another manager, e.g. a real
        // `systemd --user`, may be serving it).
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(listen_err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                "another process is serving this socket",
            )));
        }
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(listen_err(e)),
        }
        let listener = tokio::net::UnixListener::bind(path).map_err(listen_err)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(listen_err)?;
        let my_uid = nix::unistd::geteuid().as_raw();
        let task = tokio::spawn(accept_loop(
            listener,
            self.tx.clone(),
            self.next_id.clone(),
            Some(my_uid),
        ));
        let id = std::fs::symlink_metadata(path).ok().map(|m| {
            use std::os::unix::fs::MetadataExt;
            (m.dev(), m.ino())
        });
        self.listeners.push(PrivateListener {
            path: Some((path.to_owned(), id)),
            task,
        });
        Ok(())
    }

    /// Serve peer-to-peer clients on the Linux abstract Unix socket `name` (without the
    /// leading NUL; e.g. `/com/ubuntu/upstart`, Upstart's private socket). Only root clients
    /// (SO_PEERCRED uid 0) are accepted. A name someone already holds is an error (abstract
    /// names cannot be taken over).
    pub fn listen_abstract(&mut self, name: &str) -> Result<(), BusError> {
        use std::os::linux::net::SocketAddrExt;
        let listen_err = |source| BusError::Listen {
            path: PathBuf::from(format!("@{name}")),
            source,
        };
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
            .map_err(listen_err)?;
        let std_listener =
            std::os::unix::net::UnixListener::bind_addr(&addr).map_err(listen_err)?;
        std_listener.set_nonblocking(true).map_err(listen_err)?;
        let listener = tokio::net::UnixListener::from_std(std_listener).map_err(listen_err)?;
        let task = tokio::spawn(accept_loop(
            listener,
            self.tx.clone(),
            self.next_id.clone(),
            None,
        ));
        self.listeners.push(PrivateListener { path: None, task });
        Ok(())
    }

    /// Stop serving the peer-to-peer sockets (their files are removed): an idle exit hands
    /// them to the next instance.
    pub fn close_listeners(&mut self) {
        self.listeners.clear();
    }

    fn alloc_id(&self) -> ConnId {
        ConnId(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// The message-bus connection's id, if connected.
    pub fn bus_conn(&self) -> Option<ConnId> {
        self.bus_id
    }

    /// The message-bus connection, if connected (e.g. to ask the bus driver something).
    pub fn bus_connection(&self) -> Option<&Connection> {
        self.bus_id
            .and_then(|id| self.outboxes.get(&id))
            .map(|o| &o.conn)
    }

    /// Number of open peer-to-peer connections.
    pub fn p2p_connections(&self) -> usize {
        self.outboxes.len() - usize::from(self.bus_id.is_some())
    }

    /// The next method call or client departure. `None` when the message-bus connection is
    /// lost: the daemon should exit then (an activated service must not outlive its bus).
    pub async fn next_event(&mut self) -> Option<BusEvent> {
        loop {
            let ev = self.rx.recv().await?;
            match ev {
                Event::NewConn(id, outbox) => {
                    self.outboxes.insert(id, outbox);
                }
                Event::Call(msg, ctx) => return Some(BusEvent::Call(msg, ctx)),
                Event::Closed(id) => {
                    self.outboxes.remove(&id);
                    if Some(id) == self.bus_id {
                        return None;
                    }
                    return Some(BusEvent::PeerGone {
                        conn: id,
                        name: None,
                    });
                }
                Event::NameGone(name) => {
                    if let Some(conn) = self.bus_id {
                        return Some(BusEvent::PeerGone {
                            conn,
                            name: Some(name),
                        });
                    }
                }
                Event::Activation(unit) => return Some(BusEvent::ActivationRequest { unit }),
                Event::NameOwner(name, owned) => {
                    return Some(BusEvent::NameOwner { name, owned });
                }
            }
        }
    }

    /// Queue `msg` (a reply) on connection `conn`. A peer-to-peer client that stopped reading
    /// and has too much queued is disconnected.
    pub fn send(&mut self, conn: ConnId, msg: Message) {
        let ok = match self.outboxes.get(&conn) {
            Some(o) => o.push(msg),
            None => return,
        };
        if !ok {
            self.drop_connection(conn);
        }
    }

    /// Queue signals on every connection (broadcast on the bus, each peer-to-peer client).
    pub fn emit(&mut self, msgs: &[Message]) {
        if msgs.is_empty() {
            return;
        }
        let mut dead = Vec::new();
        for (id, o) in &self.outboxes {
            if !msgs.iter().all(|m| o.push(m.clone())) {
                dead.push(*id);
            }
        }
        for id in dead {
            self.drop_connection(id);
        }
    }

    fn drop_connection(&mut self, id: ConnId) {
        if Some(id) == self.bus_id {
            // The bus connection's writer is gone: the connection is lost (dbus-daemon stopped,
            // e.g. during a shutdown), which `next_event` reports once its reader ends.
            tracing::debug!("cannot queue a message on the bus connection");
            return;
        }
        if let Some(o) = self.outboxes.remove(&id) {
            tracing::warn!("dropping peer-to-peer client {id}: it does not read its messages");
            let conn = o.conn;
            tokio::spawn(async move {
                let _ = conn.close().await;
            });
        }
    }

    /// Tell dbus-daemon that the unit an `ActivationRequest` named cannot be started: the
    /// directed signal `org.freedesktop.systemd1.Activator.ActivationFailure(s unit, s error,
    /// s message)` to the bus driver, which fails every pending activation waiting for `unit`
    /// with that error (instead of letting the callers wait for the activation timeout). Only
    /// the owner of `org.freedesktop.systemd1` may send it, and the bus policy must allow it
    /// (Debian's `system.conf` does, for root).
    pub fn activation_failure(&mut self, unit: &str, error: &str, message: &str) {
        let Some(id) = self.bus_id else {
            return;
        };
        let msg = Message::signal(
            "/org/freedesktop/DBus",
            ACTIVATOR_INTERFACE,
            "ActivationFailure",
        )
        .destination("org.freedesktop.DBus")
        .build(&(unit, error, message));
        match msg {
            Ok(m) => self.send(id, m),
            Err(e) => tracing::warn!("cannot build ActivationFailure for {unit}: {e}"),
        }
    }

    /// Wait until every queued message has been written, or `timeout` passed; `true` if all
    /// were written. For a clean exit.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // A connection whose writer is gone (lost) has nothing more to write.
            if self
                .outboxes
                .values()
                .all(|o| o.tx.is_closed() || o.pending.load(Ordering::Relaxed) == 0)
            {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

impl Default for Bus {
    fn default() -> Self {
        Bus::new()
    }
}

/// Read the bus connection: method calls (with the caller's PID when the façade needs it) and
/// `NameOwnerChanged` for vanished unique names.
async fn read_bus(
    conn: Connection,
    mut stream: MessageStream,
    id: ConnId,
    tx: mpsc::UnboundedSender<Event>,
) {
    while let Some(item) = next_message(&mut stream).await {
        let msg = match item {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!("ignoring unreadable message on the bus: {e}");
                continue;
            }
        };
        match msg.message_type() {
            MessageType::MethodCall => {
                let caller_pid = if crate::bus::systemd::wants_caller_pid(&msg) {
                    sender_pid(&conn, &msg).await
                } else {
                    None
                };
                let caller_uid = if crate::bus::systemd::is_privileged(&msg) {
                    sender_uid(&conn, &msg).await
                } else {
                    None
                };
                let ctx = CallContext {
                    conn: id,
                    caller_pid,
                    caller_uid,
                };
                if tx.send(Event::Call(msg, ctx)).is_err() {
                    return;
                }
            }
            MessageType::Signal => {
                if let Some(name) = vanished_name(&msg)
                    && tx.send(Event::NameGone(name)).is_err()
                {
                    return;
                }
                if let Some((name, owned)) = well_known_owner_change(&msg)
                    && tx.send(Event::NameOwner(name, owned)).is_err()
                {
                    return;
                }
                if let Some(unit) = activation_request(&msg)
                    && tx.send(Event::Activation(unit)).is_err()
                {
                    return;
                }
            }
            _ => {}
        }
    }
    let _ = tx.send(Event::Closed(id));
}

/// The unique name in a `NameOwnerChanged(name, old, "")` from the bus driver.
fn vanished_name(msg: &Message) -> Option<String> {
    let hdr = msg.header();
    if hdr.member()?.as_str() != "NameOwnerChanged"
        || hdr.interface()?.as_str() != "org.freedesktop.DBus"
    {
        return None;
    }
    let (name, _old, new): (String, String, String) = msg.body().deserialize().ok()?;
    (name.starts_with(':') && new.is_empty()).then_some(name)
}

/// A well-known name's `NameOwnerChanged(name, old, new)` from the bus driver: the name and
/// whether it has an owner now.
fn well_known_owner_change(msg: &Message) -> Option<(String, bool)> {
    let hdr = msg.header();
    if hdr.member()?.as_str() != "NameOwnerChanged"
        || hdr.interface()?.as_str() != "org.freedesktop.DBus"
        || hdr.sender()?.as_str() != "org.freedesktop.DBus"
    {
        return None;
    }
    let (name, _old, new): (String, String, String) = msg.body().deserialize().ok()?;
    (!name.starts_with(':')).then_some((name, !new.is_empty()))
}

/// The unit of an `ActivationRequest(s unit)` signal from the bus driver (directed to us).
fn activation_request(msg: &Message) -> Option<String> {
    let hdr = msg.header();
    if hdr.member()?.as_str() != "ActivationRequest"
        || hdr.interface()?.as_str() != ACTIVATOR_INTERFACE
        || hdr.sender()?.as_str() != "org.freedesktop.DBus"
    {
        return None;
    }
    msg.body().deserialize::<String>().ok()
}

/// Ask the bus driver for the PID of the call's sender.
async fn sender_pid(conn: &Connection, msg: &Message) -> Option<u32> {
    let sender = msg.header().sender()?.as_str().to_owned();
    let reply = conn
        .call_method(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            Some("org.freedesktop.DBus"),
            "GetConnectionUnixProcessID",
            &(sender.as_str(),),
        )
        .await
        .ok()?;
    reply.body().deserialize::<u32>().ok()
}

/// The bus driver's answer to `GetConnectionUnixUser` for the sender of `msg`.
async fn sender_uid(conn: &Connection, msg: &Message) -> Option<u32> {
    let sender = msg.header().sender()?.as_str().to_owned();
    let reply = conn
        .call_method(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            Some("org.freedesktop.DBus"),
            "GetConnectionUnixUser",
            &(sender.as_str(),),
        )
        .await
        .ok()?;
    reply.body().deserialize::<u32>().ok()
}

async fn accept_loop(
    listener: tokio::net::UnixListener,
    tx: mpsc::UnboundedSender<Event>,
    next_id: Arc<AtomicU64>,
    also_uid: Option<u32>,
) {
    let guid = zbus::Guid::generate();
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::warn!("accept on the private socket failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let tx = tx.clone();
        let guid = guid.clone();
        let next_id = next_id.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_peer(stream, guid, also_uid, next_id, tx).await {
                tracing::debug!("peer-to-peer client rejected: {e}");
            }
        });
    }
}

async fn serve_peer(
    stream: tokio::net::UnixStream,
    guid: zbus::Guid<'static>,
    also_uid: Option<u32>,
    next_id: Arc<AtomicU64>,
    tx: mpsc::UnboundedSender<Event>,
) -> Result<(), String> {
    let cred = stream.peer_cred().map_err(|e| e.to_string())?;
    let uid = cred.uid();
    if uid != 0 && Some(uid) != also_uid {
        return Err(format!("uid {uid} may not use the private socket"));
    }
    let pid = cred.pid().and_then(|p| u32::try_from(p).ok());
    let std_stream = stream.into_std().map_err(|e| e.to_string())?;
    let mut stream = Builder::unix_stream(std_stream)
        .server(guid)
        .p2p()
        .max_queued(NonZeroUsize::new(MAX_QUEUED).expect("non-zero"))
        .build_message_stream()
        .await
        .map_err(|e| e.to_string())?;
    let conn = Connection::from(&stream);
    let id = ConnId(next_id.fetch_add(1, Ordering::Relaxed));
    if tx
        .send(Event::NewConn(id, Outbox::new(conn, Some(P2P_QUEUE_LIMIT))))
        .is_err()
    {
        return Ok(());
    }
    let ctx = CallContext {
        conn: id,
        caller_pid: pid,
        caller_uid: Some(uid),
    };
    while let Some(item) = next_message(&mut stream).await {
        match item {
            Ok(msg) if msg.message_type() == MessageType::MethodCall => {
                if tx.send(Event::Call(msg, ctx.clone())).is_err() {
                    return Ok(());
                }
            }
            Ok(_) => {}
            Err(e) => tracing::debug!("ignoring unreadable message from {id}: {e}"),
        }
    }
    let _ = tx.send(Event::Closed(id));
    Ok(())
}
