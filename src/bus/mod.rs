//! D-Bus façades: the only modules that use zbus.
//!
//! - [`connection`]: [`Bus`], the connections (message bus with the well-known name, private
//!   peer-to-peer socket), one event stream of incoming calls, per-connection outgoing queues.
//! - [`systemd`]: the `org.freedesktop.systemd1` manager API ([`systemd::SystemdFacade`]).
//!
//! The daemon loop drives both: `Bus::next_event` → `SystemdFacade::handle_call` →
//! `Bus::send`; after the engine ran, `SystemdFacade::signals` → `Bus::emit`.

pub mod connection;
pub mod systemd;

pub use connection::{Bus, BusError, BusEvent, CallContext, ConnId};

#[cfg(test)]
mod connection_tests;
#[cfg(test)]
pub(crate) mod test_support;
