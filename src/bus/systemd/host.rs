//! Facts about the host that the manager object reports: machine id (`Peer.GetMachineId`),
//! `Architecture` and `Virtualization`, determined once at start-up. Detection itself lives in
//! [`crate::conditions`] (`ConditionVirtualization=` and `ConditionArchitecture=` need the same
//! facts); this only shapes them the way the D-Bus properties want them.

/// Host facts, read once.
#[derive(Debug, Clone, Default)]
pub struct HostInfo {
    /// `/etc/machine-id` (32 hex digits), if readable.
    pub machine_id: Option<String>,
    /// systemd's virtualization id (`docker`, `kvm`, …) or `""` for none.
    pub virtualization: String,
    /// systemd's architecture id (`x86-64`, `arm64`, …).
    pub architecture: &'static str,
}

impl HostInfo {
    /// Probe the running system.
    pub fn probe() -> HostInfo {
        let virtualization = crate::conditions::detect_virtualization();
        HostInfo {
            machine_id: read_machine_id(),
            // The property is empty when there is none; the condition vocabulary says "none".
            virtualization: if virtualization == "none" {
                String::new()
            } else {
                virtualization
            },
            architecture: crate::conditions::native_architecture().unwrap_or("unknown"),
        }
    }
}

fn read_machine_id() -> Option<String> {
    for p in ["/etc/machine-id", "/var/lib/dbus/machine-id"] {
        if let Ok(s) = std::fs::read_to_string(p) {
            let id = s.trim();
            if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Some(id.to_ascii_lowercase());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_use_systemd_vocabulary() {
        let h = HostInfo::probe();
        assert!(!h.architecture.contains('_'), "{}", h.architecture);
        assert_ne!(h.virtualization, "none");
        if let Some(id) = &h.machine_id {
            assert_eq!(id.len(), 32);
        }
    }
}
