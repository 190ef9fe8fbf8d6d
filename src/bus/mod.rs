//! D-Bus façades: the only modules that use zbus.
//!
//! - [`connection`]: [`Bus`], the connections (message bus with the well-known name, private
//!   peer-to-peer socket), one event stream of incoming calls, per-connection outgoing queues.
//! - [`systemd`]: the `org.freedesktop.systemd1` manager API ([`systemd::SystemdFacade`]).
//! - [`driver`]: one-shot calls to the bus driver (`ReloadConfig` for `unitd install`).
//! - [`upstart`]: the `com.ubuntu.Upstart0_6` API over the same engine ([`upstart::UpstartFacade`]).
//!
//! The daemon loop drives both, one event at a time:
//!
//! ```ignore
//! let mut bus = Bus::new();
//! bus.listen_private(&systemd::private_socket_path(&settings))?;    // optional p2p socket
//! bus.connect_bus(settings.scope, address, systemd::BUS_NAME).await?;   // owns the name
//! let mut facade = SystemdFacade::new();
//! loop {
//!     tokio::select! {
//!         ev = bus.next_event() => match ev {        // cancel-safe
//!             None => break,                         // bus lost: exit, do not spin
//!             Some(BusEvent::Call(msg, ctx)) => {
//!                 if let Some(reply) = facade.handle_call(&mut mgr, &msg, &ctx) {
//!                     bus.send(ctx.conn, reply);     // queued before any signal below
//!                 }
//!             }
//!             Some(BusEvent::PeerGone { conn, name }) => {
//!                 facade.peer_gone(&mut mgr, conn, name.as_deref())
//!             }
//!         },
//!         // … reaped children, timers …
//!     }
//!     let changes: Vec<Change> = /* drain mgr.engine's changes */;
//!     bus.emit(&facade.signals(&mgr, &changes));
//! }
//! bus.flush(Duration::from_secs(1)).await;
//! ```

pub mod connection;
pub mod driver;
pub mod systemd;
pub mod upstart;

pub use connection::{Bus, BusError, BusEvent, CallContext, ConnId};

#[cfg(test)]
mod connection_tests;
#[cfg(test)]
pub(crate) mod test_support;
