//! The socket unit state machine (systemd's `socket.c`): a socket unit
//! is `listening` while its fds are open and watched, `running` while the service it activates
//! is up (the fds stay open, nobody watches them), `dead` when stopped and `failed` when its fds
//! could not be set up. The fds themselves live in the runtime: the engine only asks for them to
//! be opened, watched and closed ([`Effect::OpenSockets`], [`Effect::WatchSockets`],
//! [`Effect::CloseSockets`]) and hears about traffic ([`super::Input::SocketReady`]).
//! `Accept=yes` sockets stay `listening`: the runtime accepts each connection, loads the
//! `foo@<n>-<local>-<remote>.service` instance and starts it; the engine counts the
//! connections ([`Engine::socket_accepted`]).

use serde::{Deserialize, Serialize};

use crate::spec::{KindSpec, ListenAddress, ListenKind, SocketSpec};

use super::Engine;
use super::io::Effect;
use super::job::Outcome;
use super::types::{ActiveState, JobMode, JobType, UnitId};

/// Socket sub-states (the subset of systemd 252's `socket_state_table` unitd enters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SocketState {
    #[default]
    Dead,
    Listening,
    Running,
    Failed,
}

impl SocketState {
    /// The systemd SubState string.
    pub fn as_str(self) -> &'static str {
        match self {
            SocketState::Dead => "dead",
            SocketState::Listening => "listening",
            SocketState::Running => "running",
            SocketState::Failed => "failed",
        }
    }
}

/// Socket `Result`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SocketResult {
    #[default]
    Success,
    Resources,
}

impl SocketResult {
    /// The systemd string.
    pub fn as_str(self) -> &'static str {
        match self {
            SocketResult::Success => "success",
            SocketResult::Resources => "resources",
        }
    }
}

/// Socket-specific runtime state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SocketRuntime {
    pub state: SocketState,
    pub result: SocketResult,
    /// Times the socket triggered its service (`NAccepted` counts connections for
    /// `Accept=yes`; for `Accept=no` systemd leaves it 0).
    pub n_triggered: u32,
    /// `NAccepted` (`Accept=yes`): connections accepted so far; the next instance's number.
    #[serde(default)]
    pub n_accepted: u32,
    /// `NConnections` (`Accept=yes`): instances spawned for connections and not yet down.
    #[serde(default)]
    pub n_connections: u32,
    /// The service instances counted in `n_connections`.
    #[serde(default)]
    pub connections: Vec<UnitId>,
    /// `NRefused` (`Accept=yes`): connections closed at once because `MaxConnections=` or
    /// `MaxConnectionsPerSource=` was reached.
    #[serde(default)]
    pub n_refused: u32,
    /// The remote IP address of each instance in `connections` that has one (for
    /// `MaxConnectionsPerSource=`; AF_UNIX peers have none and are not limited per source).
    #[serde(default)]
    pub sources: Vec<(UnitId, core::net::IpAddr)>,
}

impl Engine {
    fn socket_spec(&self, id: UnitId) -> Option<&SocketSpec> {
        match &self.u(id).loaded.spec.kind {
            KindSpec::Socket(s) => Some(s),
            _ => None,
        }
    }

    /// The service a socket activates (`Service=` or the socket's own name).
    pub fn socket_service(&self, id: UnitId) -> Option<UnitId> {
        let name = self.socket_spec(id)?.service.clone()?;
        self.lookup(&name)
    }

    fn set_socket_state(&mut self, id: UnitId, st: SocketState) {
        self.um(id).socket.state = st;
        self.mark_dirty(id);
    }

    /// Start job: ask for the fds; the job finishes when they are open.
    pub(crate) fn socket_start(&mut self, id: UnitId) -> Outcome {
        let st = self.u(id).socket.state;
        if matches!(st, SocketState::Listening | SocketState::Running) {
            return Outcome::Already;
        }
        let Some(spec) = self.socket_spec(id).cloned() else {
            return Outcome::Finish(super::JobResult::Unsupported);
        };
        if spec.listen.is_empty() && !spec.unsupported_listen.is_empty() {
            // Only Listen*= kinds unitd does not open (ListenNetlink=, ListenSpecial=, …).
            tracing::info!(
                unit = self.u(id).name(),
                "Starting of {} unsupported: unitd does not open {}.",
                self.u(id).name(),
                spec.unsupported_listen.join(", ")
            );
            return Outcome::Finish(super::JobResult::Unsupported);
        }
        let fd_name = spec
            .fd_name
            .clone()
            .unwrap_or_else(|| self.u(id).name().to_owned());
        let inv = self.new_invocation_id();
        {
            let u = self.um(id);
            u.invocation_id = inv;
            u.socket.result = SocketResult::Success;
        }
        self.effects.push_back(Effect::OpenSockets {
            unit: id,
            spec,
            fd_name,
        });
        Outcome::Pending
    }

    /// Answer to [`Effect::OpenSockets`].
    pub(crate) fn sockets_opened(&mut self, id: UnitId, error: Option<String>) {
        if let Some(e) = error {
            tracing::warn!(unit = self.u(id).name(), "failed to listen: {e}");
            self.um(id).socket.result = SocketResult::Resources;
            self.set_socket_state(id, SocketState::Failed);
            self.set_active_state(id, ActiveState::Failed, false);
            return;
        }
        let service_up = self
            .socket_service(id)
            .is_some_and(|s| !self.u(s).active_state.is_inactive_or_failed());
        if service_up {
            self.set_socket_state(id, SocketState::Running);
        } else {
            self.set_socket_state(id, SocketState::Listening);
            self.effects.push_back(Effect::WatchSockets {
                unit: id,
                watch: true,
            });
        }
        self.set_active_state(id, ActiveState::Active, false);
    }

    /// Stop job: close the fds (and remove files with `RemoveOnStop=`).
    pub(crate) fn socket_stop(&mut self, id: UnitId) -> Outcome {
        if matches!(
            self.u(id).socket.state,
            SocketState::Dead | SocketState::Failed
        ) {
            return Outcome::Already;
        }
        let remove = match self.socket_spec(id) {
            Some(s) if s.remove_on_stop => s
                .listen
                .iter()
                .filter_map(|l| match (&l.address, l.kind) {
                    (ListenAddress::Path(p), _) => Some(p.clone()),
                    (_, ListenKind::Fifo) => None,
                    _ => None,
                })
                .chain(s.symlinks.iter().cloned())
                .collect(),
            _ => Vec::new(),
        };
        self.effects
            .push_back(Effect::CloseSockets { unit: id, remove });
        self.set_socket_state(id, SocketState::Dead);
        self.set_active_state(id, ActiveState::Inactive, false);
        Outcome::Pending
    }

    /// Traffic on a watched socket: start the service (systemd's `socket_enter_running`).
    pub(crate) fn socket_ready(&mut self, id: UnitId) {
        if self.u(id).socket.state != SocketState::Listening {
            return;
        }
        let Some(svc) = self.socket_service(id) else {
            tracing::warn!(unit = self.u(id).name(), "service to activate not found");
            return;
        };
        self.um(id).socket.n_triggered += 1;
        self.set_socket_state(id, SocketState::Running);
        let svc_unit = self.u(svc);
        if svc_unit.active_state.is_inactive_or_failed()
            && svc_unit.job.is_none()
            && let Err(e) = self.enqueue_internal(svc, JobType::Start, JobMode::Replace, false)
        {
            {
                tracing::warn!(
                    unit = self.u(id).name(),
                    "failed to queue service startup job: {e}"
                );
                // systemd: socket_enter_stop_pre(SOCKET_FAILURE_RESOURCES).
                self.um(id).socket.result = SocketResult::Resources;
                self.effects.push_back(Effect::CloseSockets {
                    unit: id,
                    remove: Vec::new(),
                });
                self.set_socket_state(id, SocketState::Failed);
                self.set_active_state(id, ActiveState::Failed, false);
            }
        }
    }

    /// Listening sockets (`Accept=no`) that activate `svc`, in unit order: their fds go to the
    /// service's main process.
    pub(crate) fn sockets_of_service(&self, svc: UnitId) -> Vec<UnitId> {
        self.triggered_by(self.u(svc))
            .into_iter()
            .filter(|&s| {
                matches!(
                    self.u(s).socket.state,
                    SocketState::Listening | SocketState::Running
                ) && self.socket_spec(s).is_some()
            })
            .collect()
    }

    /// The timers and `Accept=no` sockets that start `unit` (systemd's `TriggeredBy=`), in
    /// unit order. Both kinds are ordered before the unit they trigger (the unit-file
    /// lowering adds that `Before=`), so only `unit`'s reverse `Before` edges are looked at —
    /// no scan over every unit on each state change or property read.
    pub fn triggered_by(&self, u: &super::Unit) -> Vec<UnitId> {
        let is_me = |n: Option<&str>| {
            n.is_some_and(|n| n == u.name() || u.loaded.aliases.iter().any(|a| a == n))
        };
        let before = super::DepEdge::Reverse(crate::spec::DepKind::Before);
        let mut out: Vec<UnitId> = u
            .edges
            .iter()
            .filter(|(e, _)| *e == before)
            .map(|(_, t)| *t)
            .filter(|t| {
                let t = self.u(*t);
                t.merged_into.is_none()
                    && !t.removed
                    && match &t.loaded.spec.kind {
                        KindSpec::Timer(s) => is_me(s.unit.as_deref()),
                        KindSpec::Socket(s) => !s.accept && is_me(s.service.as_deref()),
                        _ => false,
                    }
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The `Accept=yes` socket `sock` if it is listening (the runtime then accepts one
    /// connection per readiness and names the instance with [`Engine::socket_accept_prefix`]).
    pub fn socket_accepts(&self, sock: UnitId) -> bool {
        self.u(sock).socket.state == SocketState::Listening
            && self.socket_spec(sock).is_some_and(|s| s.accept)
    }

    /// The template prefix of an `Accept=yes` socket's instances (`foo` for `foo.socket`,
    /// instances are `foo@<n>-<local>-<remote>.service`) and its `NAccepted`.
    pub fn socket_accept_prefix(&self, sock: UnitId) -> (String, u32) {
        let name = self.u(sock).name();
        let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
        (stem.to_owned(), self.u(sock).socket.n_accepted)
    }

    /// Whether a connection just accepted on `sock` from `source` (its remote IP address, if
    /// any) may get an instance: `false` once `MaxConnections=` instances are up, or
    /// `MaxConnectionsPerSource=` of them from the same address (systemd's
    /// `socket_enter_running` checks). A refused connection is counted in `NRefused`; the
    /// runtime then closes it.
    pub fn socket_admit(&mut self, sock: UnitId, source: Option<core::net::IpAddr>) -> bool {
        let (max, per_source) = match self.socket_spec(sock) {
            Some(s) => (s.max_connections, s.max_connections_per_source),
            None => return false,
        };
        let r = &self.u(sock).socket;
        let too_many = r.n_connections >= max;
        let from_source = source.map_or(0, |ip| r.sources.iter().filter(|(_, a)| *a == ip).count());
        let too_many_from_source =
            per_source > 0 && source.is_some() && from_source >= per_source as usize;
        if too_many || too_many_from_source {
            let name = self.u(sock).name().to_owned();
            if too_many {
                tracing::warn!(
                    unit = name,
                    "Too many incoming connections ({}), dropping connection.",
                    r.n_connections
                );
            } else {
                tracing::warn!(
                    unit = name,
                    "Too many incoming connections ({from_source}) from source, dropping connection."
                );
            }
            self.um(sock).socket.n_refused += 1;
            self.mark_dirty(sock);
            return false;
        }
        true
    }

    /// The runtime accepted a connection on `sock` for instance `svc` (start queued): count it
    /// (systemd's `n_accepted`/`n_connections`); `source` is the peer's IP address, if any.
    pub fn socket_accepted(
        &mut self,
        sock: UnitId,
        svc: UnitId,
        source: Option<core::net::IpAddr>,
    ) {
        let r = &mut self.um(sock).socket;
        r.n_accepted += 1;
        r.n_connections += 1;
        r.connections.push(svc);
        if let Some(ip) = source {
            r.sources.push((svc, ip));
        }
        self.mark_dirty(sock);
    }

    /// A service changed state: its sockets stop watching while it runs and watch again once
    /// it is down (pending connections then start it again — nothing is lost).
    pub(crate) fn socket_service_changed(&mut self, svc: UnitId, ns: ActiveState) {
        if !self.u(svc).is_service() {
            return;
        }
        if ns.is_inactive_or_failed() {
            let owners: Vec<UnitId> = self
                .units
                .iter()
                .filter(|u| u.socket.connections.contains(&svc))
                .map(|u| u.id)
                .collect();
            for sock in owners {
                let r = &mut self.um(sock).socket;
                r.connections.retain(|c| *c != svc);
                r.sources.retain(|(c, _)| *c != svc);
                r.n_connections = r.n_connections.saturating_sub(1);
                self.mark_dirty(sock);
            }
        }
        for sock in self.sockets_of_service(svc) {
            let st = self.u(sock).socket.state;
            if ns.is_inactive_or_failed() && st == SocketState::Running {
                self.set_socket_state(sock, SocketState::Listening);
                self.effects.push_back(Effect::WatchSockets {
                    unit: sock,
                    watch: true,
                });
            } else if !ns.is_inactive_or_failed() && st == SocketState::Listening {
                self.set_socket_state(sock, SocketState::Running);
                self.effects.push_back(Effect::WatchSockets {
                    unit: sock,
                    watch: false,
                });
            }
        }
    }
}
