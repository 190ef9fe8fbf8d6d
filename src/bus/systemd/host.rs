//! Facts about the host that the manager object reports: machine id (`Peer.GetMachineId`),
//! `Architecture` and `Virtualization`, determined once at start-up the way systemd does
//! (container checks first — `/proc/vz`, WSL, `/run/host/container-manager`,
//! `/run/systemd/container`, PID 1's `$container`, `/run/.containerenv`, `/.dockerenv` — then
//! hypervisor checks from DMI vendor strings and CPUID).

use std::path::Path;

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
        HostInfo {
            machine_id: read_machine_id(),
            virtualization: detect_virtualization(),
            architecture: architecture(),
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

/// systemd's name for the architecture this binary runs on.
pub fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x86-64",
        "x86" => "x86",
        "aarch64" => {
            if cfg!(target_endian = "big") {
                "arm64-be"
            } else {
                "arm64"
            }
        }
        "arm" => "arm",
        "riscv64" => "riscv64",
        "riscv32" => "riscv32",
        "powerpc64" => {
            if cfg!(target_endian = "little") {
                "ppc64-le"
            } else {
                "ppc64"
            }
        }
        "powerpc" => "ppc",
        "s390x" => "s390x",
        "mips64" => "mips64",
        "loongarch64" => "loongarch64",
        "sparc64" => "sparc64",
        other => other,
    }
}

fn first_line(path: impl AsRef<Path>) -> Option<String> {
    let s = std::fs::read_to_string(path).ok()?;
    Some(s.lines().next().unwrap_or("").trim().to_owned())
}

/// `detect_virtualization()`: a container if there is one, else a hypervisor, else `""`.
pub fn detect_virtualization() -> String {
    let c = detect_container();
    if !c.is_empty() {
        return c;
    }
    detect_vm()
}

fn container_from_name(e: &str) -> String {
    match e {
        "oci" => {
            let f = container_files();
            if f.is_empty() {
                "container-other".into()
            } else {
                f.into()
            }
        }
        "lxc" | "lxc-libvirt" | "systemd-nspawn" | "docker" | "podman" | "rkt" | "wsl"
        | "proot" | "pouch" | "openvz" => e.into(),
        _ => "container-other".into(),
    }
}

fn container_files() -> &'static str {
    if Path::new("/run/.containerenv").exists() {
        "podman"
    } else if Path::new("/.dockerenv").exists() {
        "docker"
    } else {
        ""
    }
}

fn detect_container() -> String {
    if Path::new("/proc/vz").exists() && !Path::new("/proc/bc").exists() {
        return "openvz".into();
    }
    if let Some(o) = first_line("/proc/sys/kernel/osrelease")
        && (o.contains("Microsoft") || o.contains("WSL"))
    {
        return "wsl".into();
    }
    if let Some(m) = first_line("/run/host/container-manager").filter(|m| !m.is_empty()) {
        return container_from_name(&m);
    }
    if let Some(m) = first_line("/run/systemd/container").filter(|m| !m.is_empty()) {
        return container_from_name(&m);
    }
    if let Ok(env) = std::fs::read("/proc/1/environ") {
        for var in env.split(|b| *b == 0) {
            if let Some(v) = var.strip_prefix(b"container=") {
                let v = String::from_utf8_lossy(v);
                if !v.is_empty() {
                    return container_from_name(&v);
                }
            }
        }
    }
    container_files().into()
}

fn dmi_vendor() -> &'static str {
    const FILES: [&str; 5] = [
        "/sys/class/dmi/id/product_name",
        "/sys/class/dmi/id/sys_vendor",
        "/sys/class/dmi/id/board_vendor",
        "/sys/class/dmi/id/bios_vendor",
        "/sys/class/dmi/id/product_version",
    ];
    const TABLE: [(&str, &str); 17] = [
        ("KVM", "kvm"),
        ("OpenStack", "kvm"),
        ("KubeVirt", "kvm"),
        ("Amazon EC2", "amazon"),
        ("QEMU", "qemu"),
        ("VMware", "vmware"),
        ("VMW", "vmware"),
        ("innotek GmbH", "oracle"),
        ("VirtualBox", "oracle"),
        ("Oracle Corporation", "oracle"),
        ("Xen", "xen"),
        ("Bochs", "bochs"),
        ("Parallels", "parallels"),
        ("BHYVE", "bhyve"),
        ("Hyper-V", "microsoft"),
        ("Apple Virtualization", "apple"),
        ("Google Compute Engine", "google"),
    ];
    for f in FILES {
        let Some(s) = first_line(f) else { continue };
        for (vendor, id) in TABLE {
            if s.starts_with(vendor) {
                return id;
            }
        }
    }
    ""
}

/// `Some(id)` for a known hypervisor, `Some("vm-other")` for an unknown one, `None` on bare
/// metal (or where CPUID cannot tell).
#[cfg(target_arch = "x86_64")]
fn cpuid_vm() -> Option<&'static str> {
    use std::arch::x86_64::__cpuid;
    let leaf1 = __cpuid(1);
    if leaf1.ecx & (1 << 31) == 0 {
        return None;
    }
    let v = __cpuid(0x4000_0000);
    let mut sig = Vec::with_capacity(12);
    for r in [v.ebx, v.ecx, v.edx] {
        sig.extend_from_slice(&r.to_le_bytes());
    }
    const TABLE: [(&[u8], &str); 11] = [
        (b"XenVMMXenVMM", "xen"),
        (b"KVMKVMKVM", "kvm"),
        (b"Linux KVM Hv", "kvm"),
        (b"TCGTCGTCGTCG", "qemu"),
        (b"VMwareVMware", "vmware"),
        (b"Microsoft Hv", "microsoft"),
        (b"bhyve bhyve ", "bhyve"),
        (b"QNXQVMBSQG", "qnx"),
        (b"ACRNACRNACRN", "acrn"),
        (b"SRESRESRESRE", "sre"),
        (b"Apple VZ", "apple"),
    ];
    for (prefix, id) in TABLE {
        if sig.starts_with(prefix) {
            return Some(id);
        }
    }
    Some("vm-other")
}

#[cfg(not(target_arch = "x86_64"))]
fn cpuid_vm() -> Option<&'static str> {
    None
}

fn detect_vm() -> String {
    let dmi = dmi_vendor();
    if matches!(dmi, "oracle" | "xen" | "amazon" | "parallels") {
        return dmi.into();
    }
    let mut other = false;
    match cpuid_vm() {
        Some("vm-other") => other = true,
        Some(id) => return id.into(),
        None => {}
    }
    if !dmi.is_empty() {
        return dmi.into();
    }
    if first_line("/sys/hypervisor/type").as_deref() == Some("xen") {
        return "xen".into();
    }
    if other {
        "vm-other".into()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_systemd_vocabulary() {
        let a = architecture();
        assert!(!a.contains('_'), "{a}");
        let v = detect_virtualization();
        let known = [
            "",
            "kvm",
            "amazon",
            "qemu",
            "bochs",
            "xen",
            "uml",
            "vmware",
            "oracle",
            "microsoft",
            "zvm",
            "parallels",
            "bhyve",
            "qnx",
            "acrn",
            "powervm",
            "apple",
            "sre",
            "google",
            "vm-other",
            "systemd-nspawn",
            "lxc-libvirt",
            "lxc",
            "openvz",
            "docker",
            "podman",
            "rkt",
            "wsl",
            "proot",
            "pouch",
            "container-other",
        ];
        assert!(known.contains(&v.as_str()), "{v}");
        if let Some(id) = HostInfo::probe().machine_id {
            assert_eq!(id.len(), 32);
        }
    }

    #[test]
    fn container_names_map_like_systemd() {
        assert_eq!(container_from_name("docker"), "docker");
        assert_eq!(container_from_name("systemd-nspawn"), "systemd-nspawn");
        assert_eq!(container_from_name("something"), "container-other");
    }
}
