//! One-shot calls to the message bus driver (`org.freedesktop.DBus`) from outside the daemon
//! loop: `unitd install`/`uninstall` ask a running bus to re-read its configuration.

use zbus::connection::Builder;

/// Which bus [`reload_config`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusType {
    /// `$DBUS_SYSTEM_BUS_ADDRESS`, else `/run/dbus/system_bus_socket`.
    System,
    /// `$DBUS_SESSION_BUS_ADDRESS`.
    Session,
}

/// Connect to the bus at `address` (or the default bus of `bus`) and call
/// `org.freedesktop.DBus.ReloadConfig`, so new activation and policy files take effect
/// without restarting the bus. `Err` carries a message for the user (no bus reachable, or the
/// bus refused).
pub async fn reload_config(address: Option<&str>, bus: BusType) -> Result<(), String> {
    let builder = match address {
        Some(a) => Builder::address(a),
        None => match bus {
            BusType::System => Builder::system(),
            BusType::Session => Builder::session(),
        },
    };
    let conn = builder.build().await.map_err(|e| e.to_string())?;
    conn.call_method(
        Some("org.freedesktop.DBus"),
        "/org/freedesktop/DBus",
        Some("org.freedesktop.DBus"),
        "ReloadConfig",
        &(),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}
