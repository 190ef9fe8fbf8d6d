//! `org.freedesktop.systemd1.Socket` on socket unit objects: the `[Socket]` settings unitd
//! implements (`Listen`, `Accept`, modes, `Backlog`, connection limits, `FileDescriptorName`,
//! `RemoveOnStop`) and the runtime counters the engine keeps (`Result`, `NAccepted`,
//! `NConnections`, `NRefused`). `systemctl status foo.socket` reads `Listen`, `Accept` and the
//! counters to print its `Listen:` and `Accepted:`/`Connected:` lines.
//!
//! Settings unitd does not implement (socket options, `ExecStartPre=` & co., `SocketUser=`,
//! trigger limits, cgroup and exec settings) are not declared. `ControlPID` is declared: unitd
//! runs no control processes for sockets, so it is honestly 0.

use zbus::Variant;

use crate::engine::SocketRuntime;
use crate::spec::{KindSpec, ListenAddress, ListenSpec, SocketSpec};

use super::introspect::{InterfaceDesc, infos};
use super::properties::{PropDesc, Value, prop, vas, vb, vs, vu};
use super::unit_object::UnitCtx;

/// Interface name.
pub const INTERFACE: &str = "org.freedesktop.systemd1.Socket";

/// What socket property getters read.
#[derive(Clone, Copy)]
pub struct SocketCtx<'a> {
    /// The unit part.
    pub unit: UnitCtx<'a>,
    /// The `[Socket]` settings.
    pub spec: &'a SocketSpec,
}

impl<'a> SocketCtx<'a> {
    /// The socket view of a unit, if it is a loaded socket.
    pub fn new(unit: UnitCtx<'a>) -> Option<SocketCtx<'a>> {
        match &unit.unit.loaded.spec.kind {
            KindSpec::Socket(spec) => Some(SocketCtx { unit, spec }),
            _ => None,
        }
    }

    fn rt(&self) -> &'a SocketRuntime {
        &self.unit.unit.socket
    }
}

/// One `Listen` entry as systemd prints it (`socket_port_type_to_string`,
/// `socket_address_print`): the type word and the normalized address — a path, `@name`,
/// `a.b.c.d:port`, `[v6]:port`, or `[::]:port` for a bare port.
pub fn listen_entry(l: &ListenSpec) -> (String, String) {
    let addr = match &l.address {
        ListenAddress::Path(p) => p.display().to_string(),
        ListenAddress::Abstract(n) => format!("@{n}"),
        ListenAddress::Inet { addr: None, port } => format!("[::]:{port}"),
        ListenAddress::Inet {
            addr: Some(ip),
            port,
        } => std::net::SocketAddr::new(*ip, *port).to_string(),
    };
    (l.kind.as_str().to_owned(), addr)
}

type Getter = fn(&SocketCtx<'_>) -> Option<Value>;

/// The properties, in systemd's order.
pub static PROPS: &[PropDesc<Getter>] = &[
    prop!("Backlog", "u", Const, |c| Some(vu(c.spec.backlog))),
    prop!("SocketMode", "u", Const, |c| Some(vu(c.spec.socket_mode))),
    prop!("DirectoryMode", "u", Const, |c| Some(vu(c
        .spec
        .directory_mode))),
    prop!("Accept", "b", Const, |c| Some(vb(c.spec.accept))),
    prop!("RemoveOnStop", "b", Const, |c| Some(vb(c
        .spec
        .remove_on_stop))),
    prop!("Listen", "a(ss)", Const, |c| {
        let v: Vec<(String, String)> = c.spec.listen.iter().map(listen_entry).collect();
        Some(Variant::from(v))
    }),
    prop!("Symlinks", "as", Const, |c| Some(vas(c
        .spec
        .symlinks
        .iter()
        .map(|p| p.to_string_lossy().into_owned())))),
    prop!("MaxConnections", "u", Const, |c| Some(vu(c
        .spec
        .max_connections))),
    prop!("MaxConnectionsPerSource", "u", Const, |c| Some(vu(c
        .spec
        .max_connections_per_source))),
    prop!("ControlPID", "u", True, |_| Some(vu(0))),
    prop!("Result", "s", True, |c| Some(vs(c.rt().result.as_str()))),
    prop!("NConnections", "u", False, |c| Some(vu(c
        .rt()
        .n_connections))),
    prop!("NAccepted", "u", False, |c| Some(vu(c.rt().n_accepted))),
    prop!("NRefused", "u", False, |c| Some(vu(c.rt().n_refused))),
    prop!("FileDescriptorName", "s", False, |c| Some(vs(c
        .spec
        .fd_name
        .as_deref()
        .unwrap_or(c.unit.unit.name())))),
];

/// The interface description.
pub fn interface() -> InterfaceDesc {
    InterfaceDesc {
        name: INTERFACE,
        methods: &[],
        signals: &[],
        properties: infos(PROPS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ListenKind;

    #[test]
    fn listen_entries_are_printed_like_systemd() {
        let e = |kind, text: &str| {
            let address = crate::unit_file::parse_listen(kind, text).unwrap();
            listen_entry(&ListenSpec {
                kind,
                address,
                text: text.to_owned(),
            })
        };
        let p = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(
            e(ListenKind::Stream, "/run/x.sock"),
            p("Stream", "/run/x.sock")
        );
        assert_eq!(e(ListenKind::Datagram, "@abs"), p("Datagram", "@abs"));
        assert_eq!(e(ListenKind::Stream, "8080"), p("Stream", "[::]:8080"));
        assert_eq!(
            e(ListenKind::Stream, "127.0.0.1:81"),
            p("Stream", "127.0.0.1:81")
        );
        assert_eq!(e(ListenKind::Stream, "[::1]:82"), p("Stream", "[::1]:82"));
        assert_eq!(e(ListenKind::Fifo, "/run/f"), p("FIFO", "/run/f"));
        assert_eq!(
            e(ListenKind::SequentialPacket, "/run/s"),
            p("SequentialPacket", "/run/s")
        );
    }
}
