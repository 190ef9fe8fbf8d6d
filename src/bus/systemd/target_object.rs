//! Type interfaces of units other than services, sockets, timers, scopes and slices
//! (`service_object`, `socket_object`, `timer_object`, `scope_object`, `slice_object`).
//! `org.freedesktop.systemd1.Target` has no members in systemd either. The other types
//! (`.path`, `.mount`, …) are loaded and listed by
//! unitd but their behaviour is not implemented yet, so their interfaces are served empty:
//! `GetAll` on them returns no properties rather than values unitd cannot back.

use crate::spec::UnitType;

use super::introspect::InterfaceDesc;

/// The type interface name of units of type `t`.
pub fn interface_for(t: UnitType) -> &'static str {
    match t {
        UnitType::Service => "org.freedesktop.systemd1.Service",
        UnitType::Socket => "org.freedesktop.systemd1.Socket",
        UnitType::Target => "org.freedesktop.systemd1.Target",
        UnitType::Device => "org.freedesktop.systemd1.Device",
        UnitType::Mount => "org.freedesktop.systemd1.Mount",
        UnitType::Automount => "org.freedesktop.systemd1.Automount",
        UnitType::Swap => "org.freedesktop.systemd1.Swap",
        UnitType::Timer => "org.freedesktop.systemd1.Timer",
        UnitType::Path => "org.freedesktop.systemd1.Path",
        UnitType::Slice => "org.freedesktop.systemd1.Slice",
        UnitType::Scope => "org.freedesktop.systemd1.Scope",
    }
}

/// The (member-less) interface description of a non-service type.
pub fn type_interface(t: UnitType) -> InterfaceDesc {
    InterfaceDesc {
        name: interface_for(t),
        methods: &[],
        signals: &[],
        properties: Vec::new(),
    }
}

/// Every type interface without members (all but `Service`, `Socket`, `Timer`, `Mount`,
/// `Scope` and `Slice`).
pub fn type_interfaces() -> Vec<InterfaceDesc> {
    UnitType::ALL
        .into_iter()
        .filter(|t| {
            !matches!(
                t,
                UnitType::Service
                    | UnitType::Socket
                    | UnitType::Timer
                    | UnitType::Mount
                    | UnitType::Scope
                    | UnitType::Slice
            )
        })
        .map(type_interface)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_interface_per_suffix() {
        for t in UnitType::ALL {
            let name = interface_for(t);
            let suffix = t.suffix();
            assert!(
                name.to_ascii_lowercase().ends_with(suffix),
                "{name} vs {suffix}"
            );
        }
        assert_eq!(type_interfaces().len(), 5);
    }
}
