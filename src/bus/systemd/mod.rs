//! The `org.freedesktop.systemd1` façade: systemd 252's manager API served from the engine.
//!
//! A raw message dispatcher rather than zbus `#[interface]` objects, because unit objects must
//! exist on demand for any valid unit name (clients compute paths themselves and expect
//! `LoadState=not-found` for unknown units), `Properties.GetAll("")` must return the union of
//! interfaces in systemd's order, unknown members must get exactly
//! `org.freedesktop.DBus.Error.UnknownMethod`, idle units must cost nothing, and a reply must
//! always precede the signals its call causes.
//!
//! The daemon loop owns one [`SystemdFacade`] and calls, for each incoming call,
//! [`SystemdFacade::handle_call`] (the reply is sent right away), and after letting the engine
//! run, [`SystemdFacade::signals`] with the engine's [`Change`]s (the messages go to every
//! connection). [`SystemdFacade::peer_gone`] drops a vanished client's subscriptions and unit
//! references; [`SystemdFacade::export_clients`]/[`SystemdFacade::import_clients`] carry the bus
//! clients' ones across `daemon-reexec`.
//!
//! Layout: [`object_path`] (escaping), [`errors`] (error names and wording), [`properties`]
//! (ordered `a{sv}`, property descriptors), [`introspect`] (XML from the member tables),
//! `dispatch` (routing, generic interfaces), [`manager`], [`unit_object`],
//! [`service_object`], [`socket_object`], [`timer_object`], [`mount_object`], [`scope_object`], [`slice_object`], [`target_object`], [`job_object`] (one module per D-Bus object kind),
//! `signals` (Changes → messages), [`install_verbs`] (install methods), [`transient`] (`StartTransientUnit`), [`unit_file_state`], [`host`], [`glob`].

pub mod errors;
pub mod glob;
pub mod host;
pub mod install_verbs;
pub mod introspect;
pub mod job_object;
pub mod manager;
pub mod mount_object;
pub mod object_path;
pub mod properties;
pub mod sandbox_props;
pub mod scope_object;
pub mod service_object;
pub mod set_properties;
pub mod slice_object;
pub mod socket_object;
pub mod target_object;
pub mod timer_object;
pub mod transient;
pub mod unit_file_state;
pub mod unit_object;

mod dispatch;
mod signals;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod privilege_tests {
    use super::*;

    fn call(iface: Option<&str>, member: &str) -> Message {
        let mut b = Message::method_call(MANAGER_PATH, member);
        if let Some(i) = iface {
            b = b.interface(i);
        }
        b.build(&()).unwrap()
    }

    #[test]
    fn mutations_are_privileged_reads_are_not() {
        let m = Some(manager::INTERFACE);
        assert!(is_privileged(&call(m, "StartUnit")));
        assert!(is_privileged(&call(m, "SetEnvironment")));
        assert!(is_privileged(&call(m, "EnableUnitFiles")));
        assert!(is_privileged(&call(
            Some("org.freedesktop.systemd1.Unit"),
            "Start"
        )));
        assert!(is_privileged(&call(Some(introspect::PROPERTIES), "Set")));
        assert!(is_privileged(&call(None, "StopUnit")));
        assert!(!is_privileged(&call(m, "ListUnitsByPatterns")));
        assert!(!is_privileged(&call(m, "GetUnitFileState")));
        assert!(!is_privileged(&call(
            Some(introspect::PROPERTIES),
            "GetAll"
        )));
        assert!(!is_privileged(&call(
            Some(introspect::INTROSPECTABLE),
            "Introspect"
        )));
        assert!(!is_privileged(&call(None, "Get")));
    }
}

use std::cell::OnceCell;
use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use zbus::Message;

use crate::bus::ConnId;
use crate::engine::{Change, Unit, UnitId};
use crate::runtime::Manager;

pub use dispatch::CallContext;
use errors::CallError;
use host::HostInfo;
use unit_file_state::Presets;

/// The well-known name the façade owns.
pub const BUS_NAME: &str = "org.freedesktop.systemd1";
/// The manager object.
pub const MANAGER_PATH: &str = "/org/freedesktop/systemd1";
/// Unit objects live below this prefix.
pub const UNIT_PATH_PREFIX: &str = "/org/freedesktop/systemd1/unit/";
/// Job objects live below this prefix.
pub const JOB_PATH_PREFIX: &str = "/org/freedesktop/systemd1/job/";

/// Where systemd's private peer-to-peer socket lives for this scope:
/// `$XDG_RUNTIME_DIR/systemd/private` (user) or `/run/systemd/private` (system).
pub fn private_socket_path(settings: &crate::settings::Settings) -> std::path::PathBuf {
    settings.runtime_dir.join("systemd/private")
}

/// Whether handling `msg` needs the caller's PID, which on a message bus must be asked from
/// the bus driver before the call is handed to the daemon loop: calls on
/// `/org/freedesktop/systemd1/unit/self`, and `GetUnit("")`, `LoadUnit("")`,
/// `GetUnitByPID(0)`, `GetUnitByInvocationID([])` (all meaning "the caller's unit").
pub fn wants_caller_pid(msg: &Message) -> bool {
    let hdr = msg.header();
    let Some(path) = hdr.path() else {
        return false;
    };
    let path = path.as_str();
    if path.strip_prefix(UNIT_PATH_PREFIX) == Some("self") {
        return true;
    }
    if path != MANAGER_PATH {
        return false;
    }
    let body = msg.body();
    match hdr.member().map(|m| m.as_str()) {
        Some("GetUnit" | "LoadUnit") => body.deserialize::<String>().is_ok_and(|n| n.is_empty()),
        Some("GetUnitByPID") => body.deserialize::<u32>().is_ok_and(|p| p == 0),
        Some("GetUnitByInvocationID") => body.deserialize::<Vec<u8>>().is_ok_and(|v| v.is_empty()),
        _ => false,
    }
}

/// Manager methods anyone may call (systemd's unprivileged set, as in the shipped bus
/// policy): lookups, listings, subscriptions, install-state queries.
const UNPRIVILEGED_MANAGER_METHODS: &[&str] = &[
    "GetUnit",
    "GetUnitByPID",
    "GetUnitByInvocationID",
    "GetUnitByControlGroup",
    "LoadUnit",
    "GetUnitProcesses",
    "GetJob",
    "GetJobAfter",
    "GetJobBefore",
    "ListUnits",
    "ListUnitsFiltered",
    "ListUnitsByPatterns",
    "ListUnitsByNames",
    "ListJobs",
    "Subscribe",
    "Unsubscribe",
    "Dump",
    "ListUnitFiles",
    "ListUnitFilesByPatterns",
    "GetUnitFileState",
    "GetUnitFileLinks",
    "GetDefaultTarget",
];

/// Whether `msg` is a call that changes state (starting units, editing unit files, the
/// environment, `Properties.Set`, …) and so is reserved to root and the manager's own user.
/// Reads (`Get`, `GetAll`, `Introspect`, `Ping`) and the lookup/listing methods are not.
pub fn is_privileged(msg: &Message) -> bool {
    let hdr = msg.header();
    if hdr.message_type() != zbus::message::Type::MethodCall {
        return false;
    }
    let member = hdr.member().map(|m| m.as_str()).unwrap_or("");
    match hdr.interface().map(|i| i.as_str()) {
        Some("org.freedesktop.DBus.Peer" | "org.freedesktop.DBus.Introspectable") => false,
        Some("org.freedesktop.DBus.Properties") => member == "Set",
        Some(manager::INTERFACE) => !UNPRIVILEGED_MANAGER_METHODS.contains(&member),
        Some(_) => !matches!(member, "GetProcesses"),
        // Without an interface the member decides.
        None => {
            !matches!(
                member,
                "Ping" | "GetMachineId" | "Introspect" | "Get" | "GetAll" | "GetProcesses"
            ) && !UNPRIVILEGED_MANAGER_METHODS.contains(&member)
        }
    }
}

/// A client for per-client state: its connection and, on a bus, its unique name.
pub type PeerKey = (ConnId, Option<String>);

/// Counters systemd keeps about jobs, maintained from the engine's changes.
#[derive(Debug, Clone, Copy, Default)]
pub struct JobStats {
    /// Jobs installed since start (`NInstalledJobs`).
    pub installed: u32,
    /// Jobs that finished `failed` or `invalid` (`NFailedJobs`).
    pub failed: u32,
}

/// The façade's per-client state that survives `daemon-reexec` (systemd serializes its
/// subscribers and unit references too): bus clients only, by unique name — their bus
/// connection outlives the manager's, while peer-to-peer connections close with the old image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientState {
    /// Unique names of bus clients that called `Subscribe()`, sorted.
    pub subscribers: Vec<String>,
    /// Unit references of bus clients: (unique name, unit id), one entry per reference.
    pub refs: Vec<(String, String)>,
}

/// State of the systemd façade (see the module docs).
pub struct SystemdFacade {
    host: HostInfo,
    presets: OnceCell<Presets>,
    /// Bus clients that called `Subscribe()`.
    subscribers: HashSet<(ConnId, String)>,
    /// Unit references taken with `Ref()`/`RefUnit()`, one entry per reference.
    refs: Vec<(PeerKey, UnitId)>,
    job_stats: JobStats,
    /// `NFailedUnits` as last announced.
    last_n_failed: Option<u32>,
    /// An install method changed unit files: `UnitFilesChanged` is due.
    unit_files_changed: bool,
}

impl Default for SystemdFacade {
    fn default() -> Self {
        SystemdFacade::new()
    }
}

impl SystemdFacade {
    /// A façade for this host (probes machine id, architecture, virtualization once).
    pub fn new() -> SystemdFacade {
        SystemdFacade::with_host(HostInfo::probe())
    }

    /// A façade with the given host facts.
    pub fn with_host(host: HostInfo) -> SystemdFacade {
        SystemdFacade {
            host,
            presets: OnceCell::new(),
            subscribers: HashSet::new(),
            refs: Vec::new(),
            job_stats: JobStats::default(),
            last_n_failed: None,
            unit_files_changed: false,
        }
    }

    /// Handle one incoming message. Returns the reply to send on the same connection (method
    /// return or error), or `None` for messages that are not method calls and for calls flagged
    /// `NO_REPLY_EXPECTED`. Never fails: every problem becomes an error reply.
    pub fn handle_call(
        &mut self,
        mgr: &mut Manager,
        msg: &Message,
        ctx: &CallContext,
    ) -> Option<Message> {
        let call = dispatch::decode(msg, ctx)?;
        let result = self.dispatch(mgr, &call);
        if dispatch::no_reply_expected(msg) || (result.is_ok() && mgr.reexec_pending(false)) {
            // A successful `Reexecute` is answered by the disconnection only.
            return None;
        }
        let hdr = msg.header();
        let reply = match result {
            Ok(reply) => Ok(reply),
            Err(e) => e.reply_to(&hdr),
        };
        match reply {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::warn!("cannot build reply to {}: {e}", call.member);
                CallError::new(errors::FAILED, format!("Failed to build reply: {e}"))
                    .reply_to(&hdr)
                    .ok()
            }
        }
    }

    /// Signals for a batch of engine changes, in order: per change the unit/job signals
    /// (`UnitNew`, `PropertiesChanged` with values for the Unit and type interfaces, `JobNew`,
    /// job `PropertiesChanged`, `JobRemoved`, `UnitRemoved`, `Reloading`), then the manager's
    /// `PropertiesChanged` for `NFailedUnits` if it changed.
    pub fn signals(&mut self, mgr: &Manager, changes: &[Change]) -> Vec<Message> {
        signals::signals(self, mgr, changes)
    }

    /// `StartupFinished(firmware, loader, kernel, initrd, userspace, total)` (µs), to send once
    /// start-up finished ([`Manager::check_startup_finished`]). unitd sees no firmware, loader
    /// or initrd and, like systemd in a container or as a user manager, no kernel time:
    /// userspace is from the manager's start to the finish, and the total is that.
    pub fn startup_finished(&self, mgr: &Manager) -> Option<Message> {
        let finish = mgr.finish_time()?;
        let userspace = finish.monotonic.saturating_sub(mgr.start_time().monotonic);
        signals::startup_finished(userspace)
    }

    /// Whether signals are due that no engine change caused (`UnitFilesChanged`): the daemon
    /// loop then calls [`Self::signals`] even with an empty change list.
    pub fn has_pending_signals(&self) -> bool {
        self.unit_files_changed
    }

    /// Whether any client holds a unit reference (`Ref()`/`RefUnit()`): the manager is then
    /// not idle.
    pub fn has_refs(&self) -> bool {
        !self.refs.is_empty()
    }

    /// A client went away (p2p connection closed: `name` is `None`; bus client disconnected:
    /// its unique name). Drops its subscriptions and releases its unit references.
    pub fn peer_gone(&mut self, mgr: &mut Manager, conn: ConnId, name: Option<&str>) {
        match name {
            Some(n) => {
                self.subscribers.remove(&(conn, n.to_owned()));
            }
            None => self.subscribers.retain(|(c, _)| *c != conn),
        }
        let mut released = Vec::new();
        self.refs.retain(|((c, n), unit)| {
            let gone = *c == conn && (name.is_none() || n.as_deref() == name);
            if gone {
                released.push(*unit);
            }
            !gone
        });
        for unit in released {
            mgr.unit_ref(unit, -1);
        }
    }

    /// The bus clients' subscriptions and unit references, for a `daemon-reexec`
    /// ([`ClientState`]). `bus` is the message-bus connection; state of other connections
    /// (peer-to-peer) is left out, since those cannot survive the re-execution.
    pub fn export_clients(&self, mgr: &Manager, bus: Option<ConnId>) -> ClientState {
        let Some(bus) = bus else {
            return ClientState::default();
        };
        let mut subscribers: Vec<String> = self
            .subscribers
            .iter()
            .filter(|(c, _)| *c == bus)
            .map(|(_, n)| n.clone())
            .collect();
        subscribers.sort();
        let refs = self
            .refs
            .iter()
            .filter_map(|((c, n), unit)| {
                let n = n.as_ref().filter(|_| *c == bus)?;
                Some((n.clone(), mgr.engine().unit(*unit).name().to_owned()))
            })
            .collect();
        ClientState { subscribers, refs }
    }

    /// Take over the subscriptions and unit references a previous image exported
    /// ([`Self::export_clients`]) for clients on the message-bus connection `bus`. `alive`
    /// says whether a unique name still exists on the bus (a client that left while no manager
    /// listened sent its `NameOwnerChanged` to nobody); state of vanished clients and
    /// references to units that no longer exist are dropped. Call before the first garbage
    /// collection, so referenced units survive the hand-over.
    pub fn import_clients(
        &mut self,
        mgr: &mut Manager,
        bus: ConnId,
        state: ClientState,
        alive: impl Fn(&str) -> bool,
    ) {
        for name in state.subscribers {
            if alive(&name) {
                self.subscribers.insert((bus, name));
            }
        }
        for (name, unit) in state.refs {
            let Some(id) = mgr.engine().lookup(&unit) else {
                tracing::debug!("dropping {name}'s reference on {unit}: the unit is gone");
                continue;
            };
            if alive(&name) {
                self.add_ref(mgr, (bus, Some(name)), id);
            }
        }
    }

    /// Number of bus clients subscribed (for logs and tests).
    pub fn n_subscribers(&self) -> usize {
        self.subscribers.len()
    }

    /// daemon-reload outside a D-Bus call (SIGHUP): what `Reload()` does.
    pub fn daemon_reload(&mut self, mgr: &mut Manager) {
        mgr.reload();
        self.invalidate_caches();
    }

    /// Forget cached file-system facts (presets); called on daemon-reload.
    fn invalidate_caches(&mut self) {
        self.presets = OnceCell::new();
    }

    fn manager_ctx<'a>(&'a self, mgr: &'a Manager) -> manager::ManagerCtx<'a> {
        manager::ManagerCtx {
            engine: mgr.engine(),
            settings: mgr.settings(),
            host: &self.host,
            start_time: mgr.start_time(),
            finish_time: mgr.finish_time(),
            job_stats: self.job_stats,
        }
    }

    fn unit_ctx<'a>(&'a self, mgr: &'a Manager, unit: &'a Unit) -> unit_object::UnitCtx<'a> {
        unit_object::UnitCtx {
            engine: mgr.engine(),
            settings: mgr.settings(),
            presets: &self.presets,
            unit,
            procs: mgr.process_table(),
            n_fd_store: mgr.fd_store_len(unit.id) as u32,
            unenforced: mgr.unenforced(unit.name()),
        }
    }

    /// Take a reference on `unit` for `peer`.
    fn add_ref(&mut self, mgr: &mut Manager, peer: PeerKey, unit: UnitId) {
        self.refs.push((peer, unit));
        mgr.unit_ref(unit, 1);
    }

    /// Drop one reference of `peer` on `unit`; `false` if it held none.
    fn drop_ref(&mut self, mgr: &mut Manager, peer: &PeerKey, unit: UnitId) -> bool {
        match self.refs.iter().position(|(p, u)| p == peer && *u == unit) {
            Some(i) => {
                self.refs.swap_remove(i);
                mgr.unit_ref(unit, -1);
                true
            }
            None => false,
        }
    }
}
