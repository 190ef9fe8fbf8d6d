//! Read-only probes of the running system behind the condition checks: file-system questions
//! (glob, mount point, read-only, encryption, emptiness), virtualization detection, architecture
//! names, security modules, cgroup controllers, power supplies, pressure stall information and
//! the small text formats these live in. Probes that read well-known files take the root they
//! read under, so tests can point them at a fake tree; none of them writes anything.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::compare::{expand_braces, fnmatch, has_magic, unescape};

/// Reads a small file as text, `None` when it cannot be read.
pub(crate) fn read_text(path: &Path) -> Option<String> {
    fs::read(path)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The first line of a file without its newline and surrounding blanks, `None` when the file
/// cannot be read or that line is empty.
pub(crate) fn read_line(path: &Path) -> Option<String> {
    let text = read_text(path)?;
    let line = text.lines().next().unwrap_or("").trim().to_owned();
    (!line.is_empty()).then_some(line)
}

/// `root` joined with an absolute path written as if `root` were `/`.
pub(crate) fn under(root: &Path, abs: &str) -> PathBuf {
    root.join(abs.trim_start_matches('/'))
}

// ---------------------------------------------------------------------------------------------
// File-system checks.

/// Whether at least one path matches the shell pattern, as systemd's `glob(3)` with
/// `GLOB_BRACE` finds them: `*`, `?` and `[...]` never match `/`, nor a leading `.` unless
/// written, and `.`/`..` are never matched; `{a,b}` alternatives are expanded first.
pub fn glob_exists(pattern: &str) -> bool {
    expand_braces(pattern).iter().any(|p| glob_one(p))
}

fn glob_one(pattern: &str) -> bool {
    let (start, rest) = match pattern.strip_prefix('/') {
        Some(rest) => (PathBuf::from("/"), rest),
        None => (PathBuf::from("."), pattern),
    };
    let components: Vec<&str> = rest.split('/').filter(|c| !c.is_empty()).collect();
    if components.is_empty() {
        return fs::symlink_metadata(&start).is_ok();
    }
    glob_walk(&start, &components)
}

fn glob_walk(dir: &Path, components: &[&str]) -> bool {
    let (first, rest) = (components[0], &components[1..]);
    let last = rest.is_empty();
    if !has_magic(first) {
        let next = dir.join(unescape(first));
        return if last {
            fs::symlink_metadata(&next).is_ok()
        } else {
            next.is_dir() && glob_walk(&next, rest)
        };
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    // `read_dir` omits `.` and `..`, which systemd's glob never matches either.
    entries.flatten().any(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && !first.starts_with('.') {
            return false;
        }
        if !fnmatch(first, &name, false) {
            return false;
        }
        let next = dir.join(&*name);
        if last {
            true
        } else {
            next.is_dir() && glob_walk(&next, rest)
        }
    })
}

/// The ID of the mount `path` (symbolic links followed) is on (`statx`'s `STATX_MNT_ID`,
/// Linux 5.8), if the kernel reports it.
fn mount_id(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: a zeroed statx is a valid output buffer; `c` is NUL-terminated.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::statx(libc::AT_FDCWD, c.as_ptr(), 0, libc::STATX_MNT_ID, &mut stx) };
    (r == 0 && stx.stx_mask & libc::STATX_MNT_ID != 0).then_some(stx.stx_mnt_id)
}

/// Whether `path` (symbolic links followed) is a mount point: the root directory, a path listed
/// in `/proc/self/mountinfo`, or on another mount than its parent — by mount ID where the kernel
/// reports it, else by device. (Device numbers alone mislead on overlayfs, where a file reports
/// the device of the layer it comes from: `/etc/machine-id` in an overlay `/etc` is no mount
/// point, and `systemd-machine-id-commit.service` must skip itself there.)
pub fn is_mount_point(path: &Path) -> bool {
    let Ok(canonical) = fs::canonicalize(path) else {
        return false;
    };
    let Some(parent) = canonical.parent() else {
        return true; // "/"
    };
    if let Some(text) = read_text(Path::new("/proc/self/mountinfo"))
        && mount_points(&text)
            .iter()
            .any(|m| Path::new(m) == canonical)
    {
        return true;
    }
    if let (Some(me), Some(up)) = (mount_id(&canonical), mount_id(parent)) {
        return me != up;
    }
    match (fs::metadata(&canonical), fs::metadata(parent)) {
        (Ok(me), Ok(up)) => me.dev() != up.dev(),
        _ => false,
    }
}

/// The mount points (field 5, octal escapes decoded) of a `/proc/*/mountinfo` text.
pub fn mount_points(mountinfo: &str) -> Vec<String> {
    mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(decode_octal_escapes)
        .collect()
}

fn decode_octal_escapes(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut k = 0;
    while k < bytes.len() {
        if bytes[k] == b'\\'
            && k + 3 < bytes.len()
            && bytes[k + 1..k + 4]
                .iter()
                .all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (bytes[k + 1] - b'0') * 64 + (bytes[k + 2] - b'0') * 8 + (bytes[k + 3] - b'0');
            out.push(v);
            k += 4;
        } else {
            out.push(bytes[k]);
            k += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether the file system holding `path` is read-only: mounted read-only, or refusing writes
/// with `EROFS`. Errors (missing path, no permission to look) are returned as such.
pub fn is_read_only_fs(path: &Path) -> nix::Result<bool> {
    use nix::sys::statvfs::{FsFlags, statvfs};
    use nix::unistd::{AccessFlags, access};
    let st = statvfs(path)?;
    if st.flags().contains(FsFlags::ST_RDONLY) {
        return Ok(true);
    }
    Ok(access(path, AccessFlags::W_OK) == Err(nix::errno::Errno::EROFS))
}

/// Whether `path` lives on an encrypted block device: the device behind its file system, or one
/// it is stacked on, is a dm-crypt mapping (`dm/uuid` starting with `CRYPT-` in sysfs). File
/// systems without a backing block device (tmpfs, overlay, btrfs subvolume devices, fscrypt
/// directories) are reported as not encrypted.
pub fn is_encrypted(path: &Path, sys_root: &Path) -> bool {
    let Ok(md) = fs::metadata(path) else {
        return false;
    };
    let dev = md.dev();
    let (major, minor) = (nix::sys::stat::major(dev), nix::sys::stat::minor(dev));
    if major == 0 {
        return false;
    }
    let node = under(sys_root, &format!("/sys/dev/block/{major}:{minor}"));
    block_device_is_encrypted(&node, 20)
}

fn block_device_is_encrypted(node: &Path, depth: u32) -> bool {
    if depth == 0 {
        return false;
    }
    if read_line(&node.join("dm/uuid")).is_some_and(|u| u.starts_with("CRYPT-")) {
        return true;
    }
    let Ok(slaves) = fs::read_dir(node.join("slaves")) else {
        return false;
    };
    slaves
        .flatten()
        .any(|s| block_device_is_encrypted(&s.path(), depth - 1))
}

/// Names `DirectoryNotEmpty=` does not count: hidden files and the backup/package-manager
/// leftovers systemd ignores when it lists directories.
pub fn hidden_or_backup(name: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        "rpmnew",
        "rpmsave",
        "rpmorig",
        "dpkg-old",
        "dpkg-new",
        "dpkg-tmp",
        "dpkg-dist",
        "dpkg-bak",
        "dpkg-backup",
        "dpkg-remove",
        "ucf-new",
        "ucf-old",
        "ucf-dist",
        "swp",
        "bak",
        "old",
        "new",
    ];
    if name.starts_with('.')
        || matches!(name, "lost+found" | "aquota.user" | "aquota.group")
        || name.ends_with('~')
    {
        return true;
    }
    name.rsplit_once('.')
        .is_some_and(|(_, suffix)| SUFFIXES.contains(&suffix))
}

/// `DirectoryNotEmpty=`: true when the directory has an entry that is not hidden or a backup.
/// A missing path or a non-directory is false; a directory that cannot be listed (no
/// permission) counts as not empty, as in systemd.
pub fn directory_not_empty(path: &Path) -> bool {
    match fs::read_dir(path) {
        Ok(entries) => entries
            .flatten()
            .any(|e| !hidden_or_backup(&e.file_name().to_string_lossy())),
        Err(e) => !matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)),
    }
}

/// `FileIsExecutable=`: a regular file (symbolic links followed) with any execute bit.
pub fn file_is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

// ---------------------------------------------------------------------------------------------
// Power.

/// Whether the machine runs on AC power, judged from `power_supply_dir`
/// (`/sys/class/power_supply`): true when a `Mains` supply is online or when none reports being
/// offline (desktops, servers, containers without the directory); false only when every mains
/// supply that reports a state is offline.
pub fn on_ac_power(power_supply_dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(power_supply_dir) else {
        return true;
    };
    let mut found_offline = false;
    for entry in entries.flatten() {
        let dev = entry.path();
        if read_line(&dev.join("type")).as_deref() != Some("Mains") {
            continue;
        }
        match read_line(&dev.join("online")).as_deref() {
            Some("1") => return true,
            Some("0") => found_offline = true,
            _ => {}
        }
    }
    !found_offline
}

// ---------------------------------------------------------------------------------------------
// Virtualization.

/// Container technologies by their `systemd-detect-virt` names.
pub const CONTAINERS: &[&str] = &[
    "openvz",
    "lxc",
    "lxc-libvirt",
    "systemd-nspawn",
    "docker",
    "podman",
    "rkt",
    "wsl",
    "proot",
    "pouch",
    "container-other",
];

/// Virtual machines by their `systemd-detect-virt` names.
pub const VMS: &[&str] = &[
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
    "vm-other",
];

/// Detects the innermost virtualization like `systemd-detect-virt`: a container if there is one,
/// else a virtual machine, else `"none"`.
pub fn detect_virtualization() -> String {
    let root = Path::new("/");
    if let Some(c) = detect_container(root, std::process::id() == 1) {
        return c;
    }
    detect_vm(root)
}

fn container_files(root: &Path) -> Option<String> {
    if under(root, "/run/.containerenv").exists() {
        return Some("podman".into());
    }
    if under(root, "/.dockerenv").exists() {
        return Some("docker".into());
    }
    None
}

fn translate_container_name(root: &Path, name: &str) -> String {
    if name == "oci" {
        // Not a container manager; look for one by its marker files.
        return container_files(root).unwrap_or_else(|| "container-other".into());
    }
    if CONTAINERS.contains(&name) {
        name.to_owned()
    } else {
        "container-other".into()
    }
}

/// The container this process runs in, if any, from the files under `root`: OpenVZ's
/// `/proc/vz`, WSL's kernel release, a `proot` tracer, `/run/host/container-manager`,
/// `/run/systemd/container` or PID 1's `$container` (the process's own when it is PID 1),
/// podman's and docker's marker files, and finally a private cgroup namespace.
pub fn detect_container(root: &Path, is_pid1: bool) -> Option<String> {
    if under(root, "/proc/vz").exists() && !under(root, "/proc/bc").exists() {
        return Some("openvz".into());
    }
    if let Some(release) = read_line(&under(root, "/proc/sys/kernel/osrelease"))
        && (release.contains("Microsoft") || release.contains("WSL"))
    {
        return Some("wsl".into());
    }
    if let Some(tracer) = read_text(&under(root, "/proc/self/status"))
        .as_deref()
        .and_then(|s| status_field(s, "TracerPid"))
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|&pid| pid > 0)
        && read_line(&under(root, &format!("/proc/{tracer}/comm"))).as_deref() == Some("proot")
    {
        return Some("proot".into());
    }
    if let Some(m) = read_line(&under(root, "/run/host/container-manager")) {
        return Some(translate_container_name(root, &m));
    }
    let announced = if is_pid1 {
        std::env::var("container").ok().filter(|v| !v.is_empty())
    } else {
        read_line(&under(root, "/run/systemd/container")).or_else(|| {
            fs::read(under(root, "/proc/1/environ"))
                .ok()
                .and_then(|env| environ_value(&env, "container"))
        })
    };
    if let Some(name) = announced {
        return Some(translate_container_name(root, &name));
    }
    if let Some(c) = container_files(root) {
        return Some(c);
    }
    if running_in_cgroupns(root) {
        return Some("container-other".into());
    }
    None
}

/// The value of `key` in a NUL-separated environment block (`/proc/PID/environ`).
pub fn environ_value(environ: &[u8], key: &str) -> Option<String> {
    environ
        .split(|&b| b == 0)
        .filter_map(|kv| std::str::from_utf8(kv).ok())
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=').map(str::to_owned))
        .filter(|v| !v.is_empty())
}

/// A `Key:\tvalue` field of a `/proc/PID/status` text.
pub fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
}

/// Whether the cgroup tree visible under `root` is a namespaced subtree: on a unified hierarchy
/// its top has `cgroup.events` (only non-root cgroups do); on a legacy one the systemd
/// hierarchy's top lacks `release_agent` (only the real root has it).
fn running_in_cgroupns(root: &Path) -> bool {
    if !under(root, "/proc/self/ns/cgroup").exists() {
        return false;
    }
    let top = under(root, "/sys/fs/cgroup");
    if top.join("cgroup.controllers").exists() {
        return top.join("cgroup.events").exists();
    }
    let systemd = top.join("systemd");
    systemd.is_dir() && !systemd.join("release_agent").exists()
}

/// DMI vendor strings (prefixes) and the virtual machine they announce.
const DMI_VENDORS: &[(&str, &str)] = &[
    ("KVM", "kvm"),
    ("OpenStack", "kvm"),
    ("KubeVirt", "kvm"),
    ("Amazon EC2", "amazon"),
    ("QEMU", "qemu"),
    ("VMware", "vmware"),
    ("VMW", "vmware"),
    ("innotek GmbH", "oracle"),
    ("VirtualBox", "oracle"),
    ("Xen", "xen"),
    ("Bochs", "bochs"),
    ("Parallels", "parallels"),
    ("BHYVE", "bhyve"),
    ("Hyper-V", "microsoft"),
    ("Apple Virtualization", "apple"),
];

/// The virtual machine named by the DMI identification under `root`
/// (`/sys/class/dmi/id/{product_name,sys_vendor,board_vendor,bios_vendor,product_version}`).
pub fn vm_from_dmi(root: &Path) -> Option<&'static str> {
    const FIELDS: [&str; 5] = [
        "product_name",
        "sys_vendor",
        "board_vendor",
        "bios_vendor",
        "product_version",
    ];
    FIELDS.iter().find_map(|f| {
        let value = read_line(&under(root, &format!("/sys/class/dmi/id/{f}")))?;
        DMI_VENDORS
            .iter()
            .find(|(prefix, _)| value.starts_with(prefix))
            .map(|(_, id)| *id)
    })
}

/// The virtual machine named by a CPUID hypervisor vendor signature (leaf `0x40000000`);
/// `vm-other` for an unknown signature.
pub fn vm_from_cpuid_vendor(vendor: &str) -> &'static str {
    const VENDORS: &[(&str, &str)] = &[
        ("XenVMMXenVMM", "xen"),
        ("KVMKVMKVM", "kvm"),
        ("Linux KVM Hv", "kvm"),
        ("TCGTCGTCGTCG", "qemu"),
        ("VMwareVMware", "vmware"),
        ("Microsoft Hv", "microsoft"),
        ("bhyve bhyve ", "bhyve"),
        ("QNXQVMBSQG", "qnx"),
        ("ACRNACRNACRN", "acrn"),
        ("SRESRESRESRE", "sre"),
    ];
    let vendor = vendor.trim_end_matches('\0');
    VENDORS
        .iter()
        .find(|(sig, _)| *sig == vendor)
        .map_or("vm-other", |(_, id)| *id)
}

/// The hypervisor CPUID reports: `None` without the hypervisor bit, else its vendor's name.
#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
fn vm_from_cpuid() -> Option<&'static str> {
    #[cfg(target_arch = "x86")]
    use std::arch::x86::__cpuid;
    #[cfg(target_arch = "x86_64")]
    use std::arch::x86_64::__cpuid;
    if __cpuid(1).ecx & (1 << 31) == 0 {
        return None;
    }
    let leaf = __cpuid(0x4000_0000);
    let mut sig = Vec::with_capacity(12);
    for reg in [leaf.ebx, leaf.ecx, leaf.edx] {
        sig.extend_from_slice(&reg.to_le_bytes());
    }
    Some(vm_from_cpuid_vendor(&String::from_utf8_lossy(&sig)))
}

/// Elsewhere the kernel's `hypervisor` CPU flag is all there is to go on.
#[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
fn vm_from_cpuid() -> Option<&'static str> {
    let cpuinfo = read_text(Path::new("/proc/cpuinfo"))?;
    cpuinfo
        .lines()
        .filter(|l| l.starts_with("flags") || l.starts_with("Features"))
        .any(|l| l.split_whitespace().any(|w| w == "hypervisor"))
        .then_some("vm-other")
}

/// Detects a virtual machine (used when no container was found). DMI names that are reliable
/// even under a KVM-compatible hypervisor come first, then User-Mode Linux, Xen guests, CPUID,
/// the remaining DMI names, `/sys/hypervisor/type`, the device tree and z/VM's `/proc/sysinfo`.
fn detect_vm(root: &Path) -> String {
    let dmi = vm_from_dmi(root);
    if let Some(id @ ("oracle" | "xen" | "amazon" | "parallels")) = dmi {
        return id.into();
    }
    if read_text(&under(root, "/proc/cpuinfo")).is_some_and(|c| {
        c.lines()
            .any(|l| l.starts_with("vendor_id") && l.contains("User Mode Linux"))
    }) {
        return "uml".into();
    }
    if under(root, "/proc/xen").exists() {
        let dom0 = read_text(&under(root, "/proc/xen/capabilities"))
            .is_some_and(|c| c.contains("control_d"));
        if !dom0 {
            return "xen".into();
        }
    }
    let mut other = false;
    match vm_from_cpuid() {
        Some("vm-other") => other = true,
        Some(id) => return id.into(),
        None => {}
    }
    match dmi {
        Some("vm-other") => other = true,
        Some(id) => return id.into(),
        None => {}
    }
    if let Some(t) = read_line(&under(root, "/sys/hypervisor/type")) {
        return if t == "xen" { "xen" } else { "vm-other" }.into();
    }
    if let Some(compat) = read_text(&under(root, "/proc/device-tree/hypervisor/compatible")) {
        return if compat.contains("linux,kvm") {
            "kvm"
        } else if compat.contains("xen") {
            "xen"
        } else if compat.contains("vmware") {
            "vmware"
        } else {
            "vm-other"
        }
        .into();
    }
    if read_text(&under(root, "/proc/device-tree/compatible"))
        .is_some_and(|c| c.contains("qemu,pseries"))
    {
        return "qemu".into();
    }
    if let Some(sysinfo) = read_text(&under(root, "/proc/sysinfo"))
        && let Some(cp) = sysinfo
            .lines()
            .find_map(|l| l.strip_prefix("VM00 Control Program:"))
    {
        return if cp.contains("z/VM") { "zvm" } else { "kvm" }.into();
    }
    if other { "vm-other" } else { "none" }.into()
}

/// Whether this process runs in a user namespace: its uid or gid map is not the identity map
/// of the initial namespace, or `setgroups` is denied.
pub fn running_in_userns(root: &Path) -> bool {
    let identity = |file: &str| {
        read_text(&under(root, file)).is_none_or(|t| {
            let lines: Vec<Vec<&str>> = t
                .lines()
                .map(|l| l.split_whitespace().collect())
                .filter(|w: &Vec<&str>| !w.is_empty())
                .collect();
            lines.len() == 1 && lines[0] == ["0", "0", "4294967295"]
        })
    };
    if !identity("/proc/self/uid_map") || !identity("/proc/self/gid_map") {
        return true;
    }
    read_line(&under(root, "/proc/self/setgroups")).is_some_and(|s| s == "deny")
}

// ---------------------------------------------------------------------------------------------
// Architecture.

/// Every architecture name systemd knows.
pub const ARCHITECTURES: &[&str] = &[
    "x86",
    "x86-64",
    "ppc",
    "ppc-le",
    "ppc64",
    "ppc64-le",
    "ia64",
    "parisc",
    "parisc64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "mips",
    "mips-le",
    "mips64",
    "mips64-le",
    "alpha",
    "arm",
    "arm-be",
    "arm64",
    "arm64-be",
    "sh",
    "sh64",
    "m68k",
    "tilegx",
    "cris",
    "nios2",
    "riscv32",
    "riscv64",
    "arc",
    "arc-be",
    "loongarch64",
];

/// systemd's name for a kernel machine string (`uname -m`).
pub fn architecture_from_machine(machine: &str) -> Option<&'static str> {
    let little = cfg!(target_endian = "little");
    Some(match machine {
        "x86_64" | "amd64" => "x86-64",
        "i386" | "i486" | "i586" | "i686" | "x86" => "x86",
        "aarch64" => "arm64",
        "aarch64_be" => "arm64-be",
        m if m.starts_with("arm") && m.ends_with('b') => "arm-be",
        m if m.starts_with("arm") => "arm",
        "ppc64le" => "ppc64-le",
        "ppc64" => "ppc64",
        "ppcle" => "ppc-le",
        "ppc" => "ppc",
        "s390x" => "s390x",
        "s390" => "s390",
        "sparc64" => "sparc64",
        "sparc" => "sparc",
        "mips64" if little => "mips64-le",
        "mips64" => "mips64",
        "mips" if little => "mips-le",
        "mips" => "mips",
        "alpha" => "alpha",
        "ia64" => "ia64",
        "parisc64" => "parisc64",
        "parisc" => "parisc",
        "sh5" => "sh64",
        m if m.starts_with("sh") => "sh",
        "m68k" => "m68k",
        "tilegx" => "tilegx",
        "cris" | "crisv32" => "cris",
        "nios2" => "nios2",
        "riscv64" => "riscv64",
        "riscv32" => "riscv32",
        "arc" => "arc",
        "arceb" => "arc-be",
        "loongarch64" => "loongarch64",
        _ => return None,
    })
}

/// The architecture this program was built for, in systemd's names.
pub fn native_architecture() -> Option<&'static str> {
    let little = cfg!(target_endian = "little");
    Some(match std::env::consts::ARCH {
        "x86_64" => "x86-64",
        "x86" => "x86",
        "aarch64" if little => "arm64",
        "aarch64" => "arm64-be",
        "arm" if little => "arm",
        "arm" => "arm-be",
        "powerpc64" if little => "ppc64-le",
        "powerpc64" => "ppc64",
        "powerpc" if little => "ppc-le",
        "powerpc" => "ppc",
        "s390x" => "s390x",
        "sparc64" => "sparc64",
        "sparc" => "sparc",
        "mips64" if little => "mips64-le",
        "mips64" => "mips64",
        "mips" if little => "mips-le",
        "mips" => "mips",
        "riscv64" => "riscv64",
        "riscv32" => "riscv32",
        "loongarch64" => "loongarch64",
        "m68k" => "m68k",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Security, firmware, CPU features.

const EFI_GLOBAL_GUID: &str = "8be4df61-93ca-11d2-aa0d-00e098032b8c";

/// The one-byte value of an EFI global variable (after its four attribute bytes).
fn efi_global_byte(root: &Path, name: &str) -> Option<u8> {
    let data = fs::read(under(
        root,
        &format!("/sys/firmware/efi/efivars/{name}-{EFI_GLOBAL_GUID}"),
    ))
    .ok()?;
    data.get(4).copied()
}

/// Whether the system booted through UEFI (never inside a container, like systemd).
pub fn efi_boot(root: &Path, in_container: bool) -> bool {
    !in_container && under(root, "/sys/firmware/efi").is_dir()
}

/// The security technologies `Security=` can name that are active, detected from the files
/// under `root`: `selinux` (selinuxfs mounted), `apparmor` (module enabled), `smack`
/// (smackfs), `tomoyo`, `ima` (securityfs entries), any of these listed in
/// `/sys/kernel/security/lsm`, `audit` (the kernel accepts an audit netlink socket; only probed
/// when `root` is `/`), `uefi-secureboot` (SecureBoot on and not in setup mode) and `tpm2` (a
/// TPM resource manager device, or firmware announcing a TPM2 under UEFI).
pub fn security_features(root: &Path, efi: bool) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        if !found.iter().any(|f| f == name) {
            found.push(name.to_owned());
        }
    };
    if under(root, "/sys/fs/selinux/enforce").exists() {
        add("selinux");
    }
    if read_line(&under(root, "/sys/module/apparmor/parameters/enabled"))
        .is_some_and(|v| v.starts_with('Y') || v == "1")
    {
        add("apparmor");
    }
    if under(root, "/sys/fs/smackfs").is_dir() {
        add("smack");
    }
    if under(root, "/sys/kernel/security/tomoyo/version").exists() {
        add("tomoyo");
    }
    if under(root, "/sys/kernel/security/ima").is_dir() {
        add("ima");
    }
    if let Some(lsm) = read_line(&under(root, "/sys/kernel/security/lsm")) {
        for name in lsm.split(',') {
            if matches!(name, "selinux" | "apparmor" | "smack" | "tomoyo") {
                add(name);
            }
        }
    }
    if root == Path::new("/") && audit_available() {
        add("audit");
    }
    if efi
        && efi_global_byte(root, "SecureBoot") == Some(1)
        && efi_global_byte(root, "SetupMode") != Some(1)
    {
        add("uefi-secureboot");
    }
    let tpmrm = fs::read_dir(under(root, "/sys/class/tpmrm")).is_ok_and(|mut d| d.next().is_some());
    if tpmrm || (efi && under(root, "/sys/firmware/acpi/tables/TPM2").exists()) {
        add("tpm2");
    }
    found
}

/// Whether the kernel supports audit: an audit netlink socket can be opened (unsupported or
/// refused means no audit).
fn audit_available() -> bool {
    use nix::errno::Errno;
    use nix::sys::socket::{AddressFamily, SockFlag, SockProtocol, SockType, socket};
    match socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        SockProtocol::NetlinkAudit,
    ) {
        Ok(_fd) => true,
        Err(e) => !matches!(
            e,
            Errno::EAFNOSUPPORT | Errno::EPROTONOSUPPORT | Errno::EPERM
        ),
    }
}

/// The strings of the device tree's root `compatible` property.
pub fn device_tree_compatible(root: &Path) -> Vec<String> {
    let Ok(data) = fs::read(under(root, "/proc/device-tree/compatible")) else {
        return Vec::new();
    };
    if data.last() != Some(&0) {
        return Vec::new();
    }
    data[..data.len() - 1]
        .split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// The x86 CPU feature names `CPUFeature=` knows that this CPU has (CPUID), empty elsewhere.
#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
pub fn cpu_features() -> Vec<&'static str> {
    #[cfg(target_arch = "x86")]
    use std::arch::x86::__cpuid;
    #[cfg(target_arch = "x86_64")]
    use std::arch::x86_64::__cpuid;
    // (leaf, register: 0=ebx 1=ecx 2=edx, bit, name)
    #[rustfmt::skip]
    const TABLE: &[(u32, u8, u32, &str)] = &[
        (1, 2, 0, "fpu"), (1, 2, 1, "vme"), (1, 2, 2, "de"), (1, 2, 3, "pse"),
        (1, 2, 4, "tsc"), (1, 2, 5, "msr"), (1, 2, 6, "pae"), (1, 2, 7, "mce"),
        (1, 2, 8, "cx8"), (1, 2, 9, "apic"), (1, 2, 11, "sep"), (1, 2, 12, "mtrr"),
        (1, 2, 13, "pge"), (1, 2, 14, "mca"), (1, 2, 15, "cmov"), (1, 2, 16, "pat"),
        (1, 2, 17, "pse36"), (1, 2, 19, "clflush"), (1, 2, 23, "mmx"), (1, 2, 24, "fxsr"),
        (1, 2, 25, "sse"), (1, 2, 26, "sse2"), (1, 2, 28, "ht"), (1, 1, 0, "pni"),
        (1, 1, 1, "pclmul"), (1, 1, 3, "monitor"), (1, 1, 9, "ssse3"), (1, 1, 12, "fma3"),
        (1, 1, 13, "cx16"), (1, 1, 19, "sse4_1"), (1, 1, 20, "sse4_2"), (1, 1, 22, "movbe"),
        (1, 1, 23, "popcnt"), (1, 1, 25, "aes"), (1, 1, 26, "xsave"), (1, 1, 27, "osxsave"),
        (1, 1, 28, "avx"), (1, 1, 29, "f16c"), (1, 1, 30, "rdrand"), (7, 0, 3, "bmi1"),
        (7, 0, 5, "avx2"), (7, 0, 8, "bmi2"), (7, 0, 18, "rdseed"), (7, 0, 19, "adx"),
        (7, 0, 29, "sha_ni"),
        (0x8000_0001, 2, 11, "syscall"), (0x8000_0001, 2, 27, "rdtscp"), (0x8000_0001, 2, 29, "lm"),
        (0x8000_0001, 1, 0, "lahf_lm"), (0x8000_0001, 1, 5, "abm"),
        (0x8000_0007, 2, 8, "constant_tsc"),
    ];
    let max_basic = __cpuid(0).eax;
    let max_ext = __cpuid(0x8000_0000).eax;
    TABLE
        .iter()
        .filter(|(leaf, reg, bit, _)| {
            let available = if *leaf >= 0x8000_0000 {
                *leaf <= max_ext
            } else {
                *leaf <= max_basic
            };
            if !available {
                return false;
            }
            let r = __cpuid(*leaf);
            let value = match reg {
                0 => r.ebx,
                1 => r.ecx,
                _ => r.edx,
            };
            value & (1 << bit) != 0
        })
        .map(|(_, _, _, name)| *name)
        .collect()
}

/// The x86 CPU feature names `CPUFeature=` knows; other architectures have none.
#[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
pub fn cpu_features() -> Vec<&'static str> {
    Vec::new()
}

// ---------------------------------------------------------------------------------------------
// cgroups.

/// What the cgroup file system offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupInfo {
    /// Everything is on the unified (v2) hierarchy (`/sys/fs/cgroup` is cgroup2).
    pub unified: bool,
    /// Where a cgroup2 hierarchy is mounted (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` in
    /// hybrid mode), if any.
    pub v2_mount: Option<PathBuf>,
    /// Controllers available: those of the unified root's `cgroup.controllers`, or on a
    /// legacy/hybrid system the v1 controllers that have a mounted hierarchy.
    pub controllers: Vec<String>,
    /// This process's cgroup on the v2 hierarchy (`0::` line of `/proc/self/cgroup`).
    pub own_path: Option<String>,
}

/// v1 controller hierarchies systemd knows.
const V1_CONTROLLERS: &[&str] = &[
    "cpu", "cpuacct", "cpuset", "blkio", "memory", "devices", "pids",
];

/// Detects the cgroup setup of this system.
pub fn cgroup_info() -> CgroupInfo {
    use nix::sys::statfs::{CGROUP2_SUPER_MAGIC, statfs};
    let is_v2 = |p: &str| statfs(p).is_ok_and(|s| s.filesystem_type() == CGROUP2_SUPER_MAGIC);
    let own_path = read_text(Path::new("/proc/self/cgroup")).and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("0::").map(str::to_owned))
    });
    if is_v2("/sys/fs/cgroup") {
        let controllers = read_line(Path::new("/sys/fs/cgroup/cgroup.controllers"))
            .map(|l| l.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        return CgroupInfo {
            unified: true,
            v2_mount: Some("/sys/fs/cgroup".into()),
            controllers,
            own_path,
        };
    }
    let controllers = V1_CONTROLLERS
        .iter()
        .filter(|c| Path::new("/sys/fs/cgroup").join(c).is_dir())
        .map(|c| (*c).to_owned())
        .collect();
    let v2_mount = is_v2("/sys/fs/cgroup/unified").then(|| "/sys/fs/cgroup/unified".into());
    CgroupInfo {
        unified: false,
        v2_mount,
        controllers,
        own_path,
    }
}

/// The cgroup path of a slice unit: `a-b.slice` → `/a.slice/a-b.slice`, `-.slice` → `/`.
pub fn slice_to_path(slice: &str) -> Option<String> {
    if slice == "-.slice" {
        return Some("/".into());
    }
    let stem = slice.strip_suffix(".slice")?;
    if stem.is_empty()
        || stem.starts_with('-')
        || stem.ends_with('-')
        || stem.contains("--")
        || stem.contains('/')
    {
        return None;
    }
    let mut path = String::new();
    for (k, _) in stem.match_indices('-').chain([(stem.len(), "")]) {
        path.push('/');
        path.push_str(&stem[..k]);
        path.push_str(".slice");
    }
    Some(path)
}

// ---------------------------------------------------------------------------------------------
// Small text formats.

/// The `KEY=VALUE` pairs of an os-release file (quotes and backslash escapes removed, comments
/// and malformed lines skipped).
pub fn parse_os_release(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let raw = raw.trim();
        let mut value = String::new();
        let mut chars = raw.chars();
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            match (quote, c) {
                (Some('\''), '\'') => quote = None,
                (Some('\''), c) => value.push(c),
                (Some('"'), '"') => quote = None,
                (_, '\\') => {
                    if let Some(n) = chars.next() {
                        value.push(n);
                    }
                }
                (None, '"' | '\'') => quote = Some(c),
                (_, c) => value.push(c),
            }
        }
        out.push((key.to_owned(), value));
    }
    out
}

/// Counts the CPUs of a list such as `0-3,8,10-11` (`Cpus_allowed_list`, `cpu/online`).
pub fn count_cpu_list(list: &str) -> Option<u32> {
    let mut n = 0u32;
    for part in list.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi): (u32, u32) = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
                n += hi.checked_sub(lo)? + 1;
            }
            None => {
                part.trim().parse::<u32>().ok()?;
                n += 1;
            }
        }
    }
    Some(n)
}

/// `MemTotal` of a `/proc/meminfo` text, in bytes.
pub fn mem_total(meminfo: &str) -> Option<u64> {
    let v = status_field(meminfo, "MemTotal")?;
    let kib: u64 = v.strip_suffix("kB").unwrap_or(v).trim().parse().ok()?;
    kib.checked_mul(1024)
}

/// Which line of a pressure file to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PressureLine {
    /// Some tasks stalled.
    Some,
    /// All non-idle tasks stalled.
    Full,
}

/// The three averages (`avg10`, `avg60`, `avg300`) of one line of a PSI file, in hundredths of
/// a percent.
pub fn parse_pressure(text: &str, which: PressureLine) -> Option<[u32; 3]> {
    let prefix = match which {
        PressureLine::Some => "some ",
        PressureLine::Full => "full ",
    };
    let line = text.lines().find(|l| l.starts_with(prefix))?;
    let mut avgs = [None; 3];
    for field in line.split_whitespace().skip(1) {
        let (key, value) = field.split_once('=')?;
        let slot = match key {
            "avg10" => 0,
            "avg60" => 1,
            "avg300" => 2,
            _ => continue,
        };
        let (whole, frac) = value.split_once('.').unwrap_or((value, "0"));
        let frac2: String = frac.chars().chain("00".chars()).take(2).collect();
        avgs[slot] = Some(whole.parse::<u32>().ok()? * 100 + frac2.parse::<u32>().ok()?);
    }
    Some([avgs[0]?, avgs[1]?, avgs[2]?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn write(root: &Path, abs: &str, content: &[u8]) {
        let p = under(root, abs);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    #[test]
    fn glob_walks_directories() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        fs::create_dir_all(d.join("etc/foo.d")).unwrap();
        fs::write(d.join("etc/foo.d/10-a.conf"), "").unwrap();
        fs::write(d.join("etc/.hidden"), "").unwrap();
        fs::write(d.join("etc/star*name"), "").unwrap();
        let p = |s: &str| format!("{}/{s}", d.display());
        assert!(glob_exists(&p("etc/foo.d/*.conf")));
        assert!(glob_exists(&p("etc/*/10-?.conf")));
        assert!(glob_exists(&p("etc/foo.d/[0-9]*")));
        assert!(glob_exists(&p("etc/{bar,foo}.d/*")));
        assert!(glob_exists(&p("etc/.hid*")));
        assert!(glob_exists(&p("etc/star\\*name")));
        assert!(glob_exists(&p("etc/foo.d")));
        assert!(!glob_exists(&p("etc/*.conf")));
        assert!(
            !glob_exists(&p("etc/*hidden")),
            "* must not match a leading dot"
        );
        assert!(!glob_exists(&p("*/10-a.conf")), "* must not match a slash");
        assert!(!glob_exists(&p("etc/{bar,baz}.d/*")));
        assert!(!glob_exists(&p("etc/star\\*nam")));
        assert!(!glob_exists(&p("nonexistent/*")));
        assert!(glob_exists("/"));
        let empty = tempfile::tempdir().unwrap();
        assert!(
            !glob_exists(&format!("{}/.*", empty.path().display())),
            "`.` and `..` never match"
        );
    }

    #[test]
    fn glob_sees_dangling_symlinks() {
        let t = tempfile::tempdir().unwrap();
        symlink("/nonexistent-target", t.path().join("dangling")).unwrap();
        assert!(glob_exists(&format!("{}/dang*", t.path().display())));
        assert!(glob_exists(&format!("{}/dangling", t.path().display())));
    }

    #[test]
    fn mountinfo_fields() {
        let text = "22 27 0:21 / /proc rw,relatime - proc proc rw\n\
                    40 31 0:37 / /mnt/with\\040space rw - tmpfs tmpfs rw\n";
        assert_eq!(mount_points(text), ["/proc", "/mnt/with space"]);
    }

    #[test]
    fn mount_points_on_this_system() {
        assert!(is_mount_point(Path::new("/")));
        assert!(is_mount_point(Path::new("/proc")));
        let t = tempfile::tempdir().unwrap();
        fs::create_dir(t.path().join("sub")).unwrap();
        assert!(!is_mount_point(&t.path().join("sub")));
        assert!(!is_mount_point(&t.path().join("missing")));
        fs::write(t.path().join("file"), "x").unwrap();
        assert!(!is_mount_point(&t.path().join("file")));
        // A symbolic link to a mount point is followed.
        symlink("/proc", t.path().join("to-proc")).unwrap();
        assert!(is_mount_point(&t.path().join("to-proc")));
    }

    #[test]
    fn read_only_fs() {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(is_read_only_fs(t.path()), Ok(false));
        assert!(is_read_only_fs(&t.path().join("missing")).is_err());
        // /proc/sys is read-only for most of its entries only by permission, but sysfs-like
        // read-only mounts are host-specific; only the temp dir's answer is asserted.
    }

    #[test]
    fn encryption_follows_slaves() {
        let t = tempfile::tempdir().unwrap();
        let sys = t.path();
        write(sys, "/sys/dev/block/254:1/dm/uuid", b"LVM-abc\n");
        write(sys, "/sys/block/dm-0/dm/uuid", b"CRYPT-LUKS2-0123-luks\n");
        fs::create_dir_all(under(sys, "/sys/dev/block/254:1/slaves")).unwrap();
        symlink(
            under(sys, "/sys/block/dm-0"),
            under(sys, "/sys/dev/block/254:1/slaves/dm-0"),
        )
        .unwrap();
        assert!(block_device_is_encrypted(
            &under(sys, "/sys/dev/block/254:1"),
            20
        ));
        write(sys, "/sys/dev/block/8:1/partition", b"1\n");
        assert!(!block_device_is_encrypted(
            &under(sys, "/sys/dev/block/8:1"),
            20
        ));
        // A temp file on this system's file system: only the fake sysfs is consulted.
        let f = t.path().join("file");
        fs::write(&f, "x").unwrap();
        assert!(!is_encrypted(&f, sys));
        assert!(!is_encrypted(&t.path().join("missing"), sys));
    }

    #[test]
    fn hidden_and_backup_names() {
        for n in [
            ".x",
            "x~",
            "a.rpmnew",
            "a.dpkg-old",
            "a.swp",
            "a.bak",
            "lost+found",
        ] {
            assert!(hidden_or_backup(n), "{n}");
        }
        for n in ["x", "a.conf", "bak", "a.rpm"] {
            assert!(!hidden_or_backup(n), "{n}");
        }
    }

    #[test]
    fn ac_power_from_power_supplies() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        assert!(on_ac_power(&d.join("missing")), "no power_supply dir: AC");
        assert!(on_ac_power(d), "no supplies: AC");
        write(d, "/BAT0/type", b"Battery\n");
        write(d, "/BAT0/status", b"Discharging\n");
        assert!(on_ac_power(d), "battery only, no mains reporting: AC");
        write(d, "/AC/type", b"Mains\n");
        write(d, "/AC/online", b"0\n");
        assert!(!on_ac_power(d), "mains offline: battery");
        write(d, "/AC2/type", b"Mains\n");
        write(d, "/AC2/online", b"1\n");
        assert!(on_ac_power(d), "one mains online: AC");
    }

    #[test]
    fn containers_from_marker_files() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        assert_eq!(detect_container(r, false), None);
        write(r, "/.dockerenv", b"");
        assert_eq!(detect_container(r, false).as_deref(), Some("docker"));
        write(r, "/run/.containerenv", b"");
        assert_eq!(detect_container(r, false).as_deref(), Some("podman"));
        write(r, "/proc/1/environ", b"PATH=/bin\0container=lxc\0");
        assert_eq!(detect_container(r, false).as_deref(), Some("lxc"));
        write(r, "/run/systemd/container", b"systemd-nspawn\n");
        assert_eq!(
            detect_container(r, false).as_deref(),
            Some("systemd-nspawn")
        );
        write(r, "/run/systemd/container", b"oci\n");
        assert_eq!(detect_container(r, false).as_deref(), Some("podman"));
        write(r, "/run/host/container-manager", b"something-new\n");
        assert_eq!(
            detect_container(r, false).as_deref(),
            Some("container-other")
        );
        write(
            r,
            "/proc/sys/kernel/osrelease",
            b"5.15.90.1-microsoft-standard-WSL2\n",
        );
        assert_eq!(detect_container(r, false).as_deref(), Some("wsl"));
        fs::create_dir_all(under(r, "/proc/vz")).unwrap();
        assert_eq!(detect_container(r, false).as_deref(), Some("openvz"));
    }

    #[test]
    fn containers_from_cgroup_namespace() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(r, "/proc/self/ns/cgroup", b"");
        write(r, "/sys/fs/cgroup/cgroup.controllers", b"cpu io memory\n");
        assert_eq!(detect_container(r, false), None);
        write(r, "/sys/fs/cgroup/cgroup.events", b"populated 1\n");
        assert_eq!(
            detect_container(r, false).as_deref(),
            Some("container-other")
        );
    }

    #[test]
    fn vms_from_dmi_and_cpuid() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        assert_eq!(vm_from_dmi(r), None);
        write(r, "/sys/class/dmi/id/sys_vendor", b"QEMU\n");
        assert_eq!(vm_from_dmi(r), Some("qemu"));
        write(r, "/sys/class/dmi/id/product_name", b"VirtualBox\n");
        assert_eq!(vm_from_dmi(r), Some("oracle"));
        assert_eq!(detect_vm(r), "oracle", "VirtualBox DMI wins over CPUID");
        assert_eq!(vm_from_cpuid_vendor("KVMKVMKVM\0\0\0"), "kvm");
        assert_eq!(vm_from_cpuid_vendor("Microsoft Hv"), "microsoft");
        assert_eq!(vm_from_cpuid_vendor("NewHypervisr"), "vm-other");
    }

    #[test]
    fn user_namespace_maps() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(
            r,
            "/proc/self/uid_map",
            b"         0          0 4294967295\n",
        );
        write(
            r,
            "/proc/self/gid_map",
            b"         0          0 4294967295\n",
        );
        write(r, "/proc/self/setgroups", b"allow\n");
        assert!(!running_in_userns(r));
        write(r, "/proc/self/uid_map", b"0 1000 1\n");
        assert!(running_in_userns(r));
    }

    #[test]
    fn architecture_names() {
        assert_eq!(architecture_from_machine("x86_64"), Some("x86-64"));
        assert_eq!(architecture_from_machine("i686"), Some("x86"));
        assert_eq!(architecture_from_machine("aarch64"), Some("arm64"));
        assert_eq!(architecture_from_machine("armv7l"), Some("arm"));
        assert_eq!(architecture_from_machine("ppc64le"), Some("ppc64-le"));
        assert_eq!(architecture_from_machine("riscv64"), Some("riscv64"));
        assert_eq!(architecture_from_machine("pdp11"), None);
        let native = native_architecture().expect("a known build architecture");
        assert!(ARCHITECTURES.contains(&native));
    }

    #[test]
    fn security_from_fake_tree() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        assert!(security_features(r, false).is_empty());
        write(r, "/sys/module/apparmor/parameters/enabled", b"Y\n");
        write(
            r,
            "/sys/kernel/security/lsm",
            b"lockdown,capability,landlock,yama,selinux\n",
        );
        write(
            r,
            &format!("/sys/firmware/efi/efivars/SecureBoot-{EFI_GLOBAL_GUID}"),
            &[6, 0, 0, 0, 1],
        );
        assert_eq!(security_features(r, false), ["apparmor", "selinux"]);
        assert_eq!(
            security_features(r, true),
            ["apparmor", "selinux", "uefi-secureboot"]
        );
        write(
            r,
            &format!("/sys/firmware/efi/efivars/SetupMode-{EFI_GLOBAL_GUID}"),
            &[6, 0, 0, 0, 1],
        );
        assert_eq!(security_features(r, true), ["apparmor", "selinux"]);
        fs::create_dir_all(under(r, "/sys/class/tpmrm/tpmrm0")).unwrap();
        assert_eq!(security_features(r, false), ["apparmor", "selinux", "tpm2"]);
    }

    #[test]
    fn device_tree_strings() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        assert!(device_tree_compatible(r).is_empty());
        write(
            r,
            "/proc/device-tree/compatible",
            b"raspberrypi,4-model-b\0brcm,bcm2711\0",
        );
        assert_eq!(
            device_tree_compatible(r),
            ["raspberrypi,4-model-b", "brcm,bcm2711"]
        );
    }

    #[test]
    fn slices_to_cgroup_paths() {
        assert_eq!(slice_to_path("-.slice").as_deref(), Some("/"));
        assert_eq!(
            slice_to_path("system.slice").as_deref(),
            Some("/system.slice")
        );
        assert_eq!(
            slice_to_path("a-b-c.slice").as_deref(),
            Some("/a.slice/a-b.slice/a-b-c.slice")
        );
        assert_eq!(slice_to_path("a--b.slice"), None);
        assert_eq!(slice_to_path("-a.slice"), None);
        assert_eq!(slice_to_path("foo.service"), None);
    }

    #[test]
    fn os_release_format() {
        let text = "# comment\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n\
                    PRETTY='A \"quoted\" name'\nESC=\"a\\\"b\"\nbad line\n";
        assert_eq!(
            parse_os_release(text),
            [
                ("NAME".to_owned(), "Debian GNU/Linux".to_owned()),
                ("VERSION_ID".to_owned(), "12".to_owned()),
                ("ID".to_owned(), "debian".to_owned()),
                ("PRETTY".to_owned(), "A \"quoted\" name".to_owned()),
                ("ESC".to_owned(), "a\"b".to_owned()),
            ]
        );
    }

    #[test]
    fn cpu_lists_and_meminfo() {
        assert_eq!(count_cpu_list("0-1"), Some(2));
        assert_eq!(count_cpu_list("0-3,8,10-11\n"), Some(7));
        assert_eq!(count_cpu_list("5"), Some(1));
        assert_eq!(count_cpu_list("3-1"), None);
        assert_eq!(count_cpu_list("x"), None);
        assert_eq!(
            mem_total("MemTotal:       24668984 kB\nMemFree: 1 kB\n"),
            Some(24668984 * 1024)
        );
        assert_eq!(mem_total("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn pressure_lines() {
        let text = "some avg10=0.33 avg60=25.63 avg300=26.46 total=319806346\n\
                    full avg10=0.00 avg60=0.00 avg300=1.5 total=0\n";
        assert_eq!(
            parse_pressure(text, PressureLine::Some),
            Some([33, 2563, 2646])
        );
        assert_eq!(parse_pressure(text, PressureLine::Full), Some([0, 0, 150]));
        assert_eq!(parse_pressure("some avg10=1\n", PressureLine::Full), None);
    }

    #[test]
    fn environ_and_status_fields() {
        assert_eq!(
            environ_value(b"A=1\0container=docker\0", "container").as_deref(),
            Some("docker")
        );
        assert_eq!(environ_value(b"containerx=1\0", "container"), None);
        assert_eq!(
            status_field("Name:\tx\nTracerPid:\t0\n", "TracerPid"),
            Some("0")
        );
    }
}
