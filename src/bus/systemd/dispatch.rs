//! Routing of one method call: which object the path names (creating unit objects on demand,
//! as systemd loads a unit when its path is touched), which interface and member it targets,
//! signature checks, and the generic interfaces every object has (`Peer`, `Introspectable`,
//! `Properties` with `GetAll("")` meaning "all interfaces").
//!
//! Object-specific methods are delegated to `manager`, `unit_object` and `job_object`.

use serde::Serialize;
use zbus::Message;
use zbus::message::Flags;
use zbus::wire::DynamicType;

use crate::engine::{JobId, UnitId};
use crate::runtime::Manager;
use crate::spec::UnitName;

use super::errors::{CallError, CallResult, FAILED};
use super::introspect::{self, INTROSPECTABLE, InterfaceDesc, PEER, PROPERTIES};
use super::object_path::{bus_label_escape, job_id_from_path, unit_name_from_path};
use super::properties::{PropDict, Value};
use super::{JOB_PATH_PREFIX, MANAGER_PATH, SystemdFacade, UNIT_PATH_PREFIX};
use super::{job_object, manager, unit_object};

pub use crate::bus::CallContext;

/// A decoded method call.
pub(crate) struct Call<'m> {
    /// The message.
    pub msg: &'m Message,
    /// Object path (empty if the header had none).
    pub path: String,
    /// Interface field, if present.
    pub interface: Option<String>,
    /// Member name.
    pub member: String,
    /// Body signature without the outer parentheses (`ss`, `` for none).
    pub signature: String,
    /// Bus unique name of the caller (`None` on peer-to-peer connections).
    pub sender: Option<String>,
    /// Connection and caller facts from the [`crate::bus::Bus`].
    pub ctx: &'m CallContext,
}

impl Call<'_> {
    /// Decode the body.
    pub fn args<T>(&self) -> CallResult<T>
    where
        T: for<'d> zbus::wire::DynamicDeserialize<'d>,
    {
        self.msg
            .body()
            .deserialize::<T>()
            .map_err(|e| CallError::invalid_args(format!("Failed to decode arguments: {e}")))
    }

    /// A method return carrying `body`.
    pub fn reply<B: Serialize + DynamicType>(&self, body: &B) -> CallResult<Message> {
        Message::method_return(&self.msg.header())
            .build(body)
            .map_err(|e| CallError::new(FAILED, format!("Failed to build reply: {e}")))
    }

    /// An empty method return.
    pub fn reply_empty(&self) -> CallResult<Message> {
        self.reply(&())
    }

    /// Who is calling, as a key for per-client state (subscriptions, references).
    pub fn peer(&self) -> super::PeerKey {
        (self.ctx.conn, self.sender.clone())
    }
}

/// What a path names.
pub(crate) enum Object {
    /// A path with no interfaces of its own but children (`/`, `/org`, …, `…/unit`, `…/job`).
    Node(Vec<String>),
    /// `/org/freedesktop/systemd1`.
    Manager,
    /// A unit object.
    Unit(UnitId),
    /// A job object.
    Job(JobId),
}

impl SystemdFacade {
    /// Route and run one call; `Ok` is the reply.
    pub(crate) fn dispatch(&mut self, mgr: &mut Manager, call: &Call<'_>) -> CallResult<Message> {
        // A call without an interface field names the member only; the standard interfaces'
        // members are unambiguous.
        let iface = call
            .interface
            .as_deref()
            .or_else(|| standard_interface_of(&call.member));
        if iface == Some(PEER) {
            return self.peer_method(call);
        }
        // The daemon's own check, independent of any bus policy: state changes only from root
        // or the manager's own user.
        if super::is_privileged(call.msg) {
            let own = mgr.settings().uid;
            match call.ctx.caller_uid {
                Some(uid) if uid == 0 || uid == own => {}
                _ => {
                    return Err(CallError::new(
                        super::errors::ACCESS_DENIED,
                        "Access denied",
                    ));
                }
            }
        }
        let object = self.resolve(mgr, call)?;
        match iface {
            Some(INTROSPECTABLE) => {
                if call.member != "Introspect" {
                    return Err(CallError::unknown_method(&call.member, INTROSPECTABLE));
                }
                if !call.signature.is_empty() {
                    return Err(CallError::invalid_args("Expected no parameters"));
                }
                let xml = self.introspect(mgr, &object);
                call.reply(&xml)
            }
            Some(PROPERTIES) => self.properties_method(mgr, &object, call),
            _ => self.object_method(mgr, &object, call),
        }
    }

    fn peer_method(&self, call: &Call<'_>) -> CallResult<Message> {
        match call.member.as_str() {
            "Ping" => call.reply_empty(),
            "GetMachineId" => match &self.host.machine_id {
                Some(id) => call.reply(&id.as_str()),
                None => Err(CallError::new(
                    "org.freedesktop.DBus.Error.FileNotFound",
                    "No such file or directory",
                )),
            },
            other => Err(CallError::unknown_peer_method(other)),
        }
    }

    /// Map the path to an object, loading units on demand.
    fn resolve(&mut self, mgr: &mut Manager, call: &Call<'_>) -> CallResult<Object> {
        let path = call.path.as_str();
        match path {
            "/" => return Ok(Object::Node(vec!["org".into()])),
            "/org" => return Ok(Object::Node(vec!["freedesktop".into()])),
            "/org/freedesktop" => return Ok(Object::Node(vec!["systemd1".into()])),
            MANAGER_PATH => return Ok(Object::Manager),
            _ => {}
        }
        if path == UNIT_PATH_PREFIX.trim_end_matches('/') {
            let mut children: Vec<String> = mgr
                .engine()
                .units()
                .map(|u| bus_label_escape(u.name()))
                .collect();
            children.sort();
            return Ok(Object::Node(children));
        }
        if path == JOB_PATH_PREFIX.trim_end_matches('/') {
            let children = mgr.engine().jobs().map(|j| j.id.to_string()).collect();
            return Ok(Object::Node(children));
        }
        if let Some(id) = job_id_from_path(path) {
            return match mgr.engine().job(id) {
                Some(_) => Ok(Object::Job(id)),
                None => Err(CallError::unknown_object(path)),
            };
        }
        if let Some(name) = unit_name_from_path(path) {
            return self
                .unit_for_name(mgr, &name, call.ctx)
                .ok_or_else(|| CallError::unknown_object(path))
                .map(Object::Unit);
        }
        Err(CallError::unknown_object(path))
    }

    /// The unit a unit-path label names: `self` (the caller's unit), an invocation id, or a
    /// valid non-template unit name (loaded on demand).
    fn unit_for_name(
        &mut self,
        mgr: &mut Manager,
        name: &str,
        ctx: &CallContext,
    ) -> Option<UnitId> {
        if name == "self" {
            let pid = ctx.caller_pid?;
            return mgr.unit_by_pid(pid);
        }
        if let Some(id) = parse_id128(name) {
            return unit_by_invocation_id(mgr, &id);
        }
        let valid = UnitName::new(name).ok()?;
        if valid.is_template() {
            return None;
        }
        mgr.load_unit(name).ok()
    }

    fn interfaces_of(&self, mgr: &Manager, object: &Object) -> Vec<InterfaceDesc> {
        match object {
            Object::Node(_) => Vec::new(),
            Object::Manager => vec![manager::interface()],
            Object::Unit(id) => {
                let unit = mgr.engine().unit(*id);
                vec![
                    unit_object::interface(),
                    unit_object::type_interface_desc(unit),
                ]
            }
            Object::Job(_) => vec![job_object::interface()],
        }
    }

    fn introspect(&self, mgr: &Manager, object: &Object) -> String {
        let children = match object {
            Object::Node(c) => c.clone(),
            Object::Manager => vec!["unit".into(), "job".into()],
            _ => Vec::new(),
        };
        introspect::node_xml(&self.interfaces_of(mgr, object), &children)
    }

    fn properties_method(
        &mut self,
        mgr: &mut Manager,
        object: &Object,
        call: &Call<'_>,
    ) -> CallResult<Message> {
        if matches!(object, Object::Node(_)) {
            return Err(CallError::unknown_method(&call.member, PROPERTIES));
        }
        match call.member.as_str() {
            "Get" => {
                if call.signature != "ss" {
                    return Err(CallError::invalid_args(
                        "Expected interface and member parameters",
                    ));
                }
                let (iface, name): (String, String) = call.args()?;
                let groups = self.property_groups(mgr, object);
                let value = groups
                    .iter()
                    .find(|g| g.interface() == iface)
                    .and_then(|g| g.get(&name))
                    .ok_or_else(|| CallError::unknown_property(&iface, &name))?;
                call.reply(&value)
            }
            "GetAll" => {
                if call.signature != "s" {
                    return Err(CallError::invalid_args("Expected interface parameter"));
                }
                let iface: String = call.args()?;
                let groups = self.property_groups(mgr, object);
                let mut dict = PropDict::with_capacity(64);
                let mut found = iface.is_empty()
                    || [PEER, INTROSPECTABLE, PROPERTIES].contains(&iface.as_str());
                for g in &groups {
                    if iface.is_empty() || g.interface() == iface {
                        found = true;
                        g.get_all(&mut dict);
                    }
                }
                if !found {
                    return Err(CallError::unknown_interface(&iface));
                }
                call.reply(&dict)
            }
            "Set" => {
                if call.signature != "ssv" {
                    return Err(CallError::invalid_args(
                        "Expected interface and member parameters",
                    ));
                }
                let (iface, name, _v): (String, String, zbus::OwnedVariant) = call.args()?;
                let groups = self.property_groups(mgr, object);
                match groups.iter().find(|g| g.interface() == iface) {
                    Some(g) if g.declares(&name) => Err(CallError::property_read_only(&name)),
                    _ => Err(CallError::unknown_property(&iface, &name)),
                }
            }
            other => Err(CallError::unknown_method(other, PROPERTIES)),
        }
    }

    fn object_method(
        &mut self,
        mgr: &mut Manager,
        object: &Object,
        call: &Call<'_>,
    ) -> CallResult<Message> {
        let interfaces = self.interfaces_of(mgr, object);
        // Without an interface field, D-Bus lets the member pick the interface.
        let target = match call.interface.as_deref() {
            Some(i) => interfaces.iter().find(|d| d.name == i),
            None => interfaces.iter().find(|d| d.method(&call.member).is_some()),
        };
        let iface_name = call.interface.as_deref().unwrap_or("(null)");
        let Some(iface) = target else {
            return Err(CallError::unknown_method(&call.member, iface_name));
        };
        let Some(method) = iface.method(&call.member) else {
            return Err(CallError::unknown_method(&call.member, iface_name));
        };
        let expected = method.in_signature();
        if call.signature != expected {
            return Err(CallError::wrong_signature(
                &call.signature,
                iface.name,
                method.name,
                &expected,
            ));
        }
        match object {
            Object::Manager => manager::handle(self, mgr, call),
            Object::Unit(id) if iface.name == super::scope_object::INTERFACE => {
                super::scope_object::handle(mgr, *id, call)
            }
            Object::Unit(id) => unit_object::handle(self, mgr, *id, call),
            Object::Job(id) => job_object::handle(self, mgr, *id, call),
            Object::Node(_) => Err(CallError::unknown_method(&call.member, iface_name)),
        }
    }
}

/// The standard interface that declares `member`, for calls without an interface field.
fn standard_interface_of(member: &str) -> Option<&'static str> {
    match member {
        "Ping" | "GetMachineId" => Some(PEER),
        "Introspect" => Some(INTROSPECTABLE),
        "Get" | "GetAll" | "Set" => Some(PROPERTIES),
        _ => None,
    }
}

/// Parse a 128-bit id written as 32 hex digits (the form systemd accepts in unit paths).
pub(crate) fn parse_id128(s: &str) -> Option<[u8; 16]> {
    if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// The unit whose current `InvocationID` is `id`.
pub(crate) fn unit_by_invocation_id(mgr: &Manager, id: &[u8; 16]) -> Option<UnitId> {
    if id.iter().all(|b| *b == 0) {
        return None;
    }
    mgr.engine()
        .units()
        .find(|u| u.invocation_id == *id)
        .map(|u| u.id)
}

/// Decode `msg` into a [`Call`] (method calls only).
pub(crate) fn decode<'m>(msg: &'m Message, ctx: &'m CallContext) -> Option<Call<'m>> {
    let hdr = msg.header();
    if hdr.message_type() != zbus::message::Type::MethodCall {
        return None;
    }
    Some(Call {
        msg,
        path: hdr
            .path()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        interface: hdr.interface().map(|i| i.as_str().to_owned()),
        member: hdr
            .member()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default(),
        signature: msg.body().signature().to_string_no_parens(),
        sender: hdr.sender().map(|s| s.as_str().to_owned()),
        ctx,
    })
}

/// Whether the caller asked for no reply.
pub(crate) fn no_reply_expected(msg: &Message) -> bool {
    msg.primary_header()
        .flags()
        .contains(Flags::NO_REPLY_EXPECTED)
}

/// One interface's properties on one object, ready to read.
pub(crate) enum PropGroup<'a> {
    Manager(manager::ManagerCtx<'a>),
    Unit(unit_object::UnitCtx<'a>),
    Service(super::service_object::ServiceCtx<'a>),
    Socket(super::socket_object::SocketCtx<'a>),
    Timer(super::timer_object::TimerCtx<'a>),
    Mount(super::mount_object::MountCtx<'a>),
    Scope(super::scope_object::ScopeCtx<'a>),
    Slice(super::slice_object::SliceCtx<'a>),
    Job(job_object::JobCtx<'a>),
    /// A type interface without properties (`Target`, and types whose behaviour unitd does
    /// not implement yet).
    Empty(&'static str),
}

impl PropGroup<'_> {
    /// The interface these properties belong to.
    pub fn interface(&self) -> &'static str {
        match self {
            PropGroup::Manager(_) => manager::INTERFACE,
            PropGroup::Unit(_) => unit_object::INTERFACE,
            PropGroup::Service(_) => super::service_object::INTERFACE,
            PropGroup::Socket(_) => super::socket_object::INTERFACE,
            PropGroup::Timer(_) => super::timer_object::INTERFACE,
            PropGroup::Mount(_) => super::mount_object::INTERFACE,
            PropGroup::Scope(_) => super::scope_object::INTERFACE,
            PropGroup::Slice(_) => super::slice_object::INTERFACE,
            PropGroup::Job(_) => job_object::INTERFACE,
            PropGroup::Empty(name) => name,
        }
    }

    /// Append every property with a value, in table order.
    pub fn get_all(&self, dict: &mut PropDict) {
        match self {
            PropGroup::Manager(c) => dict.extend_from(manager::PROPS, |g| g(c)),
            PropGroup::Unit(c) => dict.extend_from(unit_object::PROPS, |g| g(c)),
            PropGroup::Service(c) => dict.extend_from(super::service_object::PROPS, |g| g(c)),
            PropGroup::Socket(c) => dict.extend_from(super::socket_object::PROPS, |g| g(c)),
            PropGroup::Timer(c) => dict.extend_from(super::timer_object::PROPS, |g| g(c)),
            PropGroup::Mount(c) => dict.extend_from(super::mount_object::PROPS, |g| g(c)),
            PropGroup::Scope(c) => dict.extend_from(super::scope_object::PROPS, |g| g(c)),
            PropGroup::Slice(c) => dict.extend_from(super::slice_object::PROPS, |g| g(c)),
            PropGroup::Job(c) => dict.extend_from(job_object::PROPS, |g| g(c)),
            PropGroup::Empty(_) => {}
        }
    }

    /// One property's value; `None` if undeclared or absent for this object.
    pub fn get(&self, name: &str) -> Option<Value> {
        use super::properties::get_one;
        let r = match self {
            PropGroup::Manager(c) => get_one(manager::PROPS, name, |g| g(c)),
            PropGroup::Unit(c) => get_one(unit_object::PROPS, name, |g| g(c)),
            PropGroup::Service(c) => get_one(super::service_object::PROPS, name, |g| g(c)),
            PropGroup::Socket(c) => get_one(super::socket_object::PROPS, name, |g| g(c)),
            PropGroup::Timer(c) => get_one(super::timer_object::PROPS, name, |g| g(c)),
            PropGroup::Mount(c) => get_one(super::mount_object::PROPS, name, |g| g(c)),
            PropGroup::Scope(c) => get_one(super::scope_object::PROPS, name, |g| g(c)),
            PropGroup::Slice(c) => get_one(super::slice_object::PROPS, name, |g| g(c)),
            PropGroup::Job(c) => get_one(job_object::PROPS, name, |g| g(c)),
            PropGroup::Empty(_) => Err(()),
        };
        r.ok().flatten()
    }

    /// What a `PropertiesChanged` for this interface carries: every property announced with
    /// its value (current values), and the names of those announced by invalidation.
    pub fn changed(&self) -> (PropDict, Vec<&'static str>) {
        match self {
            PropGroup::Manager(c) => changed_of(manager::PROPS, |g| g(c)),
            PropGroup::Unit(c) => changed_of(unit_object::PROPS, |g| g(c)),
            PropGroup::Service(c) => changed_of(super::service_object::PROPS, |g| g(c)),
            PropGroup::Socket(c) => changed_of(super::socket_object::PROPS, |g| g(c)),
            PropGroup::Timer(c) => changed_of(super::timer_object::PROPS, |g| g(c)),
            PropGroup::Mount(c) => changed_of(super::mount_object::PROPS, |g| g(c)),
            PropGroup::Scope(c) => changed_of(super::scope_object::PROPS, |g| g(c)),
            PropGroup::Slice(c) => changed_of(super::slice_object::PROPS, |g| g(c)),
            PropGroup::Job(c) => changed_of(job_object::PROPS, |g| g(c)),
            PropGroup::Empty(_) => (PropDict::default(), Vec::new()),
        }
    }

    /// Whether the interface declares property `name`.
    pub fn declares(&self, name: &str) -> bool {
        match self {
            PropGroup::Manager(_) => manager::PROPS.iter().any(|p| p.name == name),
            PropGroup::Unit(_) => unit_object::PROPS.iter().any(|p| p.name == name),
            PropGroup::Service(_) => super::service_object::PROPS.iter().any(|p| p.name == name),
            PropGroup::Socket(_) => super::socket_object::PROPS.iter().any(|p| p.name == name),
            PropGroup::Timer(_) => super::timer_object::PROPS.iter().any(|p| p.name == name),
            PropGroup::Mount(_) => super::mount_object::PROPS.iter().any(|p| p.name == name),
            PropGroup::Scope(_) => super::scope_object::PROPS.iter().any(|p| p.name == name),
            PropGroup::Slice(_) => super::slice_object::PROPS.iter().any(|p| p.name == name),
            PropGroup::Job(_) => job_object::PROPS.iter().any(|p| p.name == name),
            PropGroup::Empty(_) => false,
        }
    }
}

fn changed_of<G: Copy>(
    table: &[super::properties::PropDesc<G>],
    call: impl Fn(G) -> Option<Value>,
) -> (PropDict, Vec<&'static str>) {
    use super::properties::Emits;
    let mut dict = PropDict::default();
    let mut invalidated = Vec::new();
    for p in table {
        match p.emits {
            Emits::True => {
                if let Some(v) = call(p.get) {
                    dict.push(p.name, v);
                }
            }
            Emits::Invalidates => invalidated.push(p.name),
            Emits::Const | Emits::False => {}
        }
    }
    (dict, invalidated)
}

impl SystemdFacade {
    /// The property groups of `object`, in `GetAll("")` order.
    pub(crate) fn property_groups<'a>(
        &'a self,
        mgr: &'a Manager,
        object: &Object,
    ) -> Vec<PropGroup<'a>> {
        match object {
            Object::Node(_) => Vec::new(),
            Object::Manager => vec![PropGroup::Manager(self.manager_ctx(mgr))],
            Object::Unit(id) => self.unit_groups(mgr, *id),
            Object::Job(id) => match mgr.engine().job(*id) {
                Some(job) => vec![PropGroup::Job(job_object::JobCtx {
                    engine: mgr.engine(),
                    job,
                })],
                None => Vec::new(),
            },
        }
    }

    /// Unit interface first, then the type interface.
    pub(crate) fn unit_groups<'a>(&'a self, mgr: &'a Manager, id: UnitId) -> Vec<PropGroup<'a>> {
        let ctx = self.unit_ctx(mgr, mgr.engine().unit(id));
        let type_group = match super::service_object::ServiceCtx::new(ctx) {
            Some(s) => PropGroup::Service(s),
            None => match super::scope_object::ScopeCtx::new(ctx) {
                Some(s) => PropGroup::Scope(s),
                None => match super::slice_object::SliceCtx::new(ctx) {
                    Some(s) => PropGroup::Slice(s),
                    None => match super::socket_object::SocketCtx::new(ctx) {
                        Some(s) => PropGroup::Socket(s),
                        None => match super::timer_object::TimerCtx::new(ctx) {
                            Some(t) => PropGroup::Timer(t),
                            None => match super::mount_object::MountCtx::new(ctx) {
                                Some(m) => PropGroup::Mount(m),
                                None => PropGroup::Empty(unit_object::type_interface(ctx.unit)),
                            },
                        },
                    },
                },
            },
        };
        vec![PropGroup::Unit(ctx), type_group]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id128_parsing() {
        let id = parse_id128("00112233445566778899aabbccddeeff").unwrap();
        assert_eq!(id[0], 0x00);
        assert_eq!(id[15], 0xff);
        assert!(parse_id128("foo.service").is_none());
        assert!(parse_id128("00112233445566778899aabbccddeefg").is_none());
    }

    #[test]
    fn decodes_calls_and_flags() {
        let ctx = CallContext::default();
        let msg = Message::method_call("/org/freedesktop/systemd1", "StartUnit")
            .interface("org.freedesktop.systemd1.Manager")
            .with_flags(Flags::NO_REPLY_EXPECTED)
            .build(&("a.service", "replace"))
            .unwrap();
        let call = decode(&msg, &ctx).unwrap();
        assert_eq!(call.path, "/org/freedesktop/systemd1");
        assert_eq!(
            call.interface.as_deref(),
            Some("org.freedesktop.systemd1.Manager")
        );
        assert_eq!(call.member, "StartUnit");
        assert_eq!(call.signature, "ss");
        assert!(no_reply_expected(&msg));
        let (a, b): (String, String) = call.args().unwrap();
        assert_eq!((a.as_str(), b.as_str()), ("a.service", "replace"));
        let reply = call
            .reply(&super::super::properties::opath("/x".into()))
            .unwrap();
        assert_eq!(reply.body().signature().to_string(), "o");
    }
}
