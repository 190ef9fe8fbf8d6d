//! Evaluation of `Condition*=`/`Assert*=` checks with systemd 252 semantics.
//!
//! This module owns the answer to [`crate::engine::Effect::CheckConditions`]: given the checks of
//! a unit ([`Condition`]) and a [`ConditionContext`] describing the running system, it says which
//! checks hold. The engine combines the answers (triggering `|` checks, conditions versus
//! asserts); this module only evaluates single checks.
//!
//! [`ConditionContext::detect`] reads the facts that do not change while the daemon runs (or
//! change rarely): identity, host name, machine ID, architecture, virtualization, kernel release
//! and command line, security modules, cgroup controllers, CPU count, memory, os-release. Checks
//! whose answer is a live property of the file system (`PathExists=`, `DirectoryNotEmpty=`,
//! `NeedsUpdate=`, `Credential=`, …), of the power supply (`ACPower=`) or of the load
//! (`MemoryPressure=` …) look at the system when they are evaluated. Paths are taken relative to
//! the real root of this process.
//!
//! As in systemd, a check whose answer cannot be determined (malformed parameter, unknown
//! capability name, missing system information) counts as *failed*, whether or
//! not it is negated; it is logged as a warning. Unknown check kinds fail the same way (the unit
//! file parser already warned about them).
//!
//! Known limits, each documented at its check: `PathIsEncrypted=` only recognizes dm-crypt below
//! a block device (not btrfs multi-device set-ups or fscrypt); `Firmware=` knows `device-tree`,
//! `device-tree-compatible(…)` and `uefi` (systemd 252 has no `smbios-field(…)`);
//! `Credential=` looks in the `$CREDENTIALS_DIRECTORY` this daemon was started with (unset: no
//! credentials); `ControlGroupController=bpf-…` is taken as available on the unified hierarchy
//! when running as root, without loading a BPF program to prove it.

mod compare;
mod probe;

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

pub use compare::{CompareOp, compare_versions, fnmatch, parse_size};
pub use probe::{
    CgroupInfo, detect_container, detect_virtualization, mount_points, native_architecture,
};

use crate::spec::Condition;
use compare::{Escapes, parse_boolean, split_words};
use probe::{PressureLine, read_line, read_text};

/// Facts about the running system that condition checks compare against. Fields are public so
/// the runtime can refresh one (e.g. [`ConditionContext::manager_env`] after
/// `SetEnvironment`) without detecting everything again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionContext {
    /// Whether this context serves a user manager (`--user`) rather than the system manager.
    pub user_scope: bool,
    /// Real user ID of this process.
    pub uid: u32,
    /// Effective user ID of this process.
    pub euid: u32,
    /// Real group ID of this process.
    pub gid: u32,
    /// Effective group ID of this process.
    pub egid: u32,
    /// Supplementary group IDs of this process.
    pub groups: Vec<u32>,
    /// The user name of [`ConditionContext::uid`], when the user database knows it.
    pub user_name: Option<String>,
    /// The manager's environment (`KEY=VALUE`), as `Environment=` checks see it: what services
    /// inherit, including `SetEnvironment`/`UnsetEnvironment` changes.
    pub manager_env: Vec<String>,
    /// The host name.
    pub hostname: String,
    /// `/etc/machine-id` as 32 lowercase hex digits, when it is set.
    pub machine_id: Option<String>,
    /// The kernel's architecture in systemd's names (`x86-64`, `arm64`, …), when known.
    pub architecture: Option<String>,
    /// The innermost virtualization in `systemd-detect-virt` names: `none`, a container
    /// (`docker`, `podman`, `lxc`, `systemd-nspawn`, …, `container-other`) or a virtual machine
    /// (`kvm`, `qemu`, `vmware`, `microsoft`, …, `vm-other`).
    pub virtualization: String,
    /// Whether this process runs in a user namespace (`Virtualization=private-users`).
    pub in_user_namespace: bool,
    /// The kernel release (`uname -r`).
    pub kernel_release: String,
    /// The kernel command line split into words (quotes removed); inside a container, PID 1's
    /// command line, as systemd does.
    pub kernel_cmdline: Vec<String>,
    /// Whether this is the first boot: `/run/systemd/first-boot` exists (systemd noticed an
    /// unpopulated machine ID at boot), or `/etc/machine-id` is missing, empty or
    /// `uninitialized`.
    pub first_boot: bool,
    /// Whether this runs in an initrd (`/etc/initrd-release` exists).
    pub in_initrd: bool,
    /// The capability bounding set of this process (`CapBnd` in `/proc/self/status`).
    pub capability_bounding_set: Option<u64>,
    /// The number of CPUs this process may run on (its affinity mask).
    pub cpus: Option<u32>,
    /// Installed physical memory in bytes (`MemTotal`).
    pub physical_memory: Option<u64>,
    /// The cgroup set-up.
    pub cgroup: CgroupInfo,
    /// Active security technologies by their `Security=` names (`selinux`, `apparmor`, `smack`,
    /// `tomoyo`, `ima`, `audit`, `uefi-secureboot`, `tpm2`).
    pub security: Vec<String>,
    /// Whether firmware handed over a device tree (`/sys/firmware/devicetree`).
    pub device_tree: bool,
    /// The device tree's root `compatible` strings.
    pub device_tree_compatible: Vec<String>,
    /// Whether the system booted through UEFI (false in containers).
    pub efi_boot: bool,
    /// CPU feature flags `CPUFeature=` can name that this CPU has (x86 only).
    pub cpu_features: Vec<String>,
    /// `/etc/os-release` (or `/usr/lib/os-release`) as key/value pairs.
    pub os_release: Vec<(String, String)>,
    /// `$CREDENTIALS_DIRECTORY` of this daemon, where `Credential=` looks.
    pub credentials_dir: Option<PathBuf>,
    /// Whether the kernel provides pressure stall information (`/proc/pressure/*`).
    pub psi_supported: bool,
}

impl ConditionContext {
    /// Reads the system once and returns the facts condition checks need. `manager_env` is the
    /// manager's environment block (`KEY=VALUE`). Cheap enough (a few dozen small reads of
    /// `/proc`, `/sys` and `/etc`) to call for each batch of checks; the runtime may also keep
    /// one and refresh [`ConditionContext::manager_env`].
    pub fn detect(user_scope: bool, manager_env: Vec<String>) -> ConditionContext {
        use nix::unistd::{User, getegid, geteuid, getgid, getgroups, gethostname, getuid};
        let virtualization = probe::detect_virtualization();
        let in_container = probe::CONTAINERS.contains(&virtualization.as_str());
        let status = read_text(Path::new("/proc/self/status")).unwrap_or_default();
        let uid = getuid().as_raw();

        let cmdline = if in_container {
            fs::read("/proc/1/cmdline")
                .ok()
                .map(|b| {
                    b.split(|&c| c == 0)
                        .map(String::from_utf8_lossy)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default()
        } else {
            read_text(Path::new("/proc/cmdline")).unwrap_or_default()
        };

        let machine_id_line = read_line(Path::new("/etc/machine-id"));
        let machine_id = machine_id_line.as_deref().and_then(parse_id128);
        let first_boot = Path::new("/run/systemd/first-boot").exists()
            || machine_id_line
                .as_deref()
                .is_none_or(|l| l == "uninitialized");

        let architecture = read_line(Path::new("/proc/sys/kernel/arch"))
            .and_then(|m| probe::architecture_from_machine(&m))
            .or_else(probe::native_architecture)
            .map(str::to_owned);

        let cpus = probe::status_field(&status, "Cpus_allowed_list")
            .and_then(probe::count_cpu_list)
            .or_else(|| {
                read_line(Path::new("/sys/devices/system/cpu/online"))
                    .and_then(|l| probe::count_cpu_list(&l))
            });

        let efi_boot = probe::efi_boot(Path::new("/"), in_container);
        let os_release = read_text(Path::new("/etc/os-release"))
            .or_else(|| read_text(Path::new("/usr/lib/os-release")))
            .map(|t| probe::parse_os_release(&t))
            .unwrap_or_default();

        ConditionContext {
            user_scope,
            uid,
            euid: geteuid().as_raw(),
            gid: getgid().as_raw(),
            egid: getegid().as_raw(),
            groups: getgroups()
                .map(|g| g.into_iter().map(|g| g.as_raw()).collect())
                .unwrap_or_default(),
            user_name: User::from_uid(getuid()).ok().flatten().map(|u| u.name),
            manager_env,
            hostname: gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default(),
            machine_id,
            architecture,
            in_user_namespace: probe::running_in_userns(Path::new("/")),
            virtualization,
            kernel_release: read_line(Path::new("/proc/sys/kernel/osrelease")).unwrap_or_default(),
            kernel_cmdline: split_words(&cmdline, Escapes::Keep),
            first_boot,
            in_initrd: Path::new("/etc/initrd-release").exists(),
            capability_bounding_set: probe::status_field(&status, "CapBnd")
                .and_then(|v| u64::from_str_radix(v, 16).ok()),
            cpus,
            physical_memory: read_text(Path::new("/proc/meminfo"))
                .and_then(|m| probe::mem_total(&m)),
            cgroup: probe::cgroup_info(),
            security: probe::security_features(Path::new("/"), efi_boot),
            device_tree: Path::new("/sys/firmware/devicetree").is_dir(),
            device_tree_compatible: probe::device_tree_compatible(Path::new("/")),
            efi_boot,
            cpu_features: probe::cpu_features()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            os_release,
            credentials_dir: std::env::var_os("CREDENTIALS_DIRECTORY")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute()),
            // The files exist even with PSI disabled (`psi=0`); only reading them tells.
            psi_supported: ["cpu", "io", "memory"]
                .iter()
                .all(|k| fs::read(Path::new("/proc/pressure").join(k)).is_ok()),
        }
    }
}

/// The result of one check, negation applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The check holds.
    Succeeded,
    /// The check does not hold.
    Failed,
    /// The answer could not be determined; counts as failed, negated or not.
    Error(String),
}

impl Outcome {
    /// Whether the check counts as holding.
    pub fn holds(&self) -> bool {
        matches!(self, Outcome::Succeeded)
    }
}

/// Evaluates one check (negation applied), with the reason when it could not be determined.
pub fn check(c: &Condition, ctx: &ConditionContext) -> Outcome {
    match test(&c.kind, &c.parameter, ctx) {
        Ok(raw) if raw != c.negate => Outcome::Succeeded,
        Ok(_) => Outcome::Failed,
        Err(e) => Outcome::Error(e),
    }
}

/// Whether one check holds (negation applied). Checks whose answer cannot be determined, and
/// unknown kinds, do not hold (logged as warnings).
pub fn evaluate(c: &Condition, ctx: &ConditionContext) -> bool {
    match check(c, ctx) {
        Outcome::Succeeded => true,
        Outcome::Failed => false,
        Outcome::Error(e) => {
            tracing::warn!(
                "Couldn't determine result for {}={}{}{}, assuming failed: {e}",
                c.kind,
                if c.trigger { "|" } else { "" },
                if c.negate { "!" } else { "" },
                c.parameter
            );
            false
        }
    }
}

/// [`evaluate`] for each check, in order (the shape of
/// [`crate::engine::Input::ConditionsChecked`]).
pub fn evaluate_all(list: &[Condition], ctx: &ConditionContext) -> Vec<bool> {
    list.iter().map(|c| evaluate(c, ctx)).collect()
}

type Answer = Result<bool, String>;

/// The raw answer of a check (before negation).
fn test(kind: &str, p: &str, ctx: &ConditionContext) -> Answer {
    match kind {
        "PathExists" | "PathExistsGlob" | "PathIsDirectory" | "PathIsSymbolicLink"
        | "PathIsMountPoint" | "PathIsReadWrite" | "PathIsEncrypted" | "DirectoryNotEmpty"
        | "FileNotEmpty" | "FileIsExecutable" => test_path(kind, p),
        // `ConditionNull=yes` always holds, `=no` never (deprecated, still accepted by 252).
        "Null" => boolean(p),
        "NeedsUpdate" => Ok(test_needs_update(p, ctx)),
        "FirstBoot" => Ok(ctx.first_boot == boolean(p)?),
        "Architecture" => test_architecture(p, ctx),
        "Firmware" => Ok(test_firmware(p, ctx)),
        "Virtualization" => Ok(test_virtualization(p, ctx)),
        "Host" => test_host(p, ctx),
        "KernelCommandLine" => Ok(contains_assignment(&ctx.kernel_cmdline, p)),
        "KernelVersion" => test_kernel_version(p, &ctx.kernel_release),
        "Credential" => test_credential(p, ctx),
        "Security" => Ok(ctx.security.iter().any(|s| s == p)),
        "Capability" => test_capability(p, ctx),
        "ACPower" => Ok(probe::on_ac_power(Path::new("/sys/class/power_supply")) == boolean(p)?),
        "Memory" => test_memory(p, ctx),
        "CPUs" => test_cpus(p, ctx),
        "CPUFeature" => {
            let want = p.to_ascii_lowercase();
            Ok(ctx.cpu_features.contains(&want))
        }
        "Environment" => Ok(contains_assignment(&ctx.manager_env, p)),
        "User" => Ok(test_user(p, ctx)),
        "Group" => Ok(test_group(p, ctx)),
        "ControlGroupController" => Ok(test_cgroup_controller(p, ctx)),
        "OSRelease" => test_os_release(p, &ctx.os_release),
        "MemoryPressure" => test_pressure("memory", p, ctx),
        "CPUPressure" => test_pressure("cpu", p, ctx),
        "IOPressure" => test_pressure("io", p, ctx),
        other => Err(format!("unknown condition type {other}")),
    }
}

fn boolean(p: &str) -> Result<bool, String> {
    parse_boolean(p).ok_or_else(|| format!("not a boolean: {p}"))
}

// ---------------------------------------------------------------------------------------------
// Paths.

fn test_path(kind: &str, p: &str) -> Answer {
    // The unit-file parser refuses relative paths; one that gets here has no defined answer.
    if !p.starts_with('/') {
        return Err(format!("path is not absolute: {p}"));
    }
    let path = Path::new(p);
    Ok(match kind {
        "PathExists" => nix::unistd::access(path, nix::unistd::AccessFlags::F_OK).is_ok(),
        "PathExistsGlob" => probe::glob_exists(p),
        "PathIsDirectory" => path.is_dir(),
        "PathIsSymbolicLink" => path.is_symlink(),
        "PathIsMountPoint" => probe::is_mount_point(path),
        // Read-only is false for a missing path; other failures to find out count as writable.
        "PathIsReadWrite" => match probe::is_read_only_fs(path) {
            Ok(ro) => !ro,
            Err(e) => e != nix::errno::Errno::ENOENT,
        },
        "PathIsEncrypted" => probe::is_encrypted(path, Path::new("/")),
        "DirectoryNotEmpty" => probe::directory_not_empty(path),
        "FileNotEmpty" => fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() > 0),
        "FileIsExecutable" => probe::file_is_executable(path),
        _ => unreachable!("dispatched by test()"),
    })
}

/// `NeedsUpdate=DIR`: true when `/usr` was modified after `DIR/.updated` (or that stamp is
/// missing), so that update tools run after an offline `/usr` update. Never true on a
/// read-only `DIR` or in an initrd; `systemd.condition-needs-update=BOOL` on the kernel command
/// line overrides everything.
fn test_needs_update(p: &str, ctx: &ConditionContext) -> bool {
    if let Some(forced) = cmdline_bool(&ctx.kernel_cmdline, "systemd.condition-needs-update") {
        return forced;
    }
    if ctx.in_initrd {
        return false;
    }
    if !p.starts_with('/') {
        return true; // systemd rather runs update tools too often than too rarely
    }
    if probe::is_read_only_fs(Path::new(p)) == Ok(true) {
        return false;
    }
    usr_newer_than_stamp(Path::new("/usr/"), &Path::new(p).join(".updated"))
}

/// Whether `usr` was modified after `stamp`. A missing stamp (or unreadable `usr`) means an
/// update is needed. When only the stamp lacks sub-second precision (e.g. copied from a file
/// system without it), its `TIMESTAMP_NSEC=` line, if any, gives the exact time.
fn usr_newer_than_stamp(usr: &Path, stamp: &Path) -> bool {
    let (Ok(other), Ok(usr)) = (fs::symlink_metadata(stamp), fs::symlink_metadata(usr)) else {
        return true;
    };
    if usr.mtime() != other.mtime() {
        return usr.mtime() > other.mtime();
    }
    if usr.mtime_nsec() == 0 || other.mtime_nsec() > 0 {
        return usr.mtime_nsec() > other.mtime_nsec();
    }
    let exact = read_text(stamp).and_then(|t| {
        probe::parse_os_release(&t)
            .into_iter()
            .find(|(k, _)| k == "TIMESTAMP_NSEC")
            .and_then(|(_, v)| v.parse::<i128>().ok())
    });
    match exact {
        Some(ns) => {
            let usr_ns = i128::from(usr.mtime()) * 1_000_000_000 + i128::from(usr.mtime_nsec());
            usr_ns > ns
        }
        None => true,
    }
}

/// The boolean value of `key` on the kernel command line (`-` and `_` alike in keys; a bare key
/// means true), the last occurrence winning.
fn cmdline_bool(words: &[String], key: &str) -> Option<bool> {
    let norm = |s: &str| s.replace('_', "-");
    let key = norm(key);
    words.iter().rev().find_map(|w| {
        let (k, v) = match w.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (w.as_str(), None),
        };
        if norm(k) != key {
            return None;
        }
        match v {
            None => Some(true),
            Some(v) => parse_boolean(v),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// System identity.

/// A 128-bit ID written as 32 hex digits or as a UUID, normalized to 32 lowercase hex digits.
fn parse_id128(s: &str) -> Option<String> {
    let hex: String = if s.len() == 36 {
        let b = s.as_bytes();
        if [8, 13, 18, 23].iter().any(|&k| b[k] != b'-') {
            return None;
        }
        s.chars().filter(|&c| c != '-').collect()
    } else {
        s.to_owned()
    };
    (hex.len() == 32 && hex.bytes().all(|c| c.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

fn test_host(p: &str, ctx: &ConditionContext) -> Answer {
    if let Some(id) = parse_id128(p) {
        return match &ctx.machine_id {
            Some(mine) => Ok(*mine == id),
            None => Err("the machine ID is not set".into()),
        };
    }
    Ok(fnmatch(p, &ctx.hostname, true))
}

fn test_architecture(p: &str, ctx: &ConditionContext) -> Answer {
    let wanted = if p == "native" {
        probe::native_architecture().ok_or("the native architecture is unknown")?
    } else {
        match probe::ARCHITECTURES.iter().find(|a| **a == p) {
            Some(a) => *a,
            None => return Ok(false), // an unknown architecture is certainly not ours
        }
    };
    let actual = ctx
        .architecture
        .as_deref()
        .ok_or("the architecture of this system is unknown")?;
    Ok(actual == wanted)
}

/// `Firmware=`: `device-tree`, `device-tree-compatible(VALUE)` or `uefi`; anything else
/// (including the later `smbios-field(…)`) is unsupported and false.
fn test_firmware(p: &str, ctx: &ConditionContext) -> bool {
    if p == "device-tree" {
        return ctx.device_tree;
    }
    if p == "uefi" {
        return ctx.efi_boot;
    }
    if let Some(arg) = p.strip_prefix("device-tree-compatible(") {
        return match arg.strip_suffix(')') {
            Some(value) => ctx.device_tree_compatible.iter().any(|c| c == value),
            None => false,
        };
    }
    tracing::debug!("unsupported Firmware= condition {p}");
    false
}

/// `Virtualization=`: a boolean (any virtualization at all), `vm`, `container`,
/// `private-users` (a user namespace) or a technology name.
fn test_virtualization(p: &str, ctx: &ConditionContext) -> bool {
    if p == "private-users" {
        return ctx.in_user_namespace;
    }
    let v = ctx.virtualization.as_str();
    let virtualized = v != "none";
    if let Some(b) = parse_boolean(p) {
        return b == virtualized;
    }
    match p {
        "vm" => probe::VMS.contains(&v),
        "container" => probe::CONTAINERS.contains(&v),
        _ => virtualized && p == v,
    }
}

/// `KernelCommandLine=`/`Environment=`: with `=`, an exact `KEY=VALUE` word; without, a word
/// that is `KEY` or starts with `KEY=`.
fn contains_assignment(words: &[String], p: &str) -> bool {
    if p.contains('=') {
        words.iter().any(|w| w == p)
    } else {
        words.iter().any(|w| {
            w.strip_prefix(p)
                .is_some_and(|r| r.is_empty() || r.starts_with('='))
        })
    }
}

/// `actual <op> expected` for `KernelVersion=` and `OSRelease=`: `=` and `!=` compare strings
/// (values need not be versions), the others order with [`compare_versions`].
fn version_holds(op: CompareOp, actual: &str, expected: &str) -> bool {
    match op {
        CompareOp::Eq => actual == expected,
        CompareOp::Ne => actual != expected,
        op => op.holds(compare_versions(actual, expected)),
    }
}

/// `KernelVersion=`: whitespace-separated expressions that must all hold; each is an operator
/// and a version (see [`version_holds`]) or a shell pattern. In the first
/// expression the version may follow the operator after a space (`>= 5.10`).
fn test_kernel_version(p: &str, release: &str) -> Answer {
    let words = split_words(p, Escapes::Remove);
    let mut words = words.iter();
    let mut first = true;
    while let Some(word) = words.next() {
        let word = word.trim();
        let holds = match CompareOp::split_prefix(word) {
            Some((op, rest)) => {
                let rest = rest.trim_start();
                let version = if !rest.is_empty() {
                    rest
                } else if first {
                    words
                        .next()
                        .map(String::as_str)
                        .ok_or_else(|| format!("missing version after operator: {p}"))?
                } else {
                    return Err(format!("missing version after operator: {p}"));
                };
                version_holds(op, release, version)
            }
            None => fnmatch(word, release, false),
        };
        if !holds {
            return Ok(false);
        }
        first = false;
    }
    Ok(true)
}

/// `OSRelease=`: whitespace-separated `KEY<op>VALUE` expressions that must all hold. `=` and
/// `!=` compare strings; `<`, `<=`, `>=`, `>` compare versions. A missing key reads as empty.
fn test_os_release(p: &str, os_release: &[(String, String)]) -> Answer {
    for expr in split_words(p, Escapes::Remove) {
        let at = expr
            .find(['!', '<', '=', '>'])
            .ok_or_else(|| format!("expected KEY=VALUE: {expr}"))?;
        let (key, rest) = expr.split_at(at);
        let key_ok = key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let (op, value) = CompareOp::split_prefix(rest)
            .filter(|(_, v)| !v.is_empty() && !v.starts_with(char::is_whitespace))
            .filter(|_| key_ok)
            .ok_or_else(|| format!("expected KEY=VALUE: {expr}"))?;
        let actual = os_release
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str());
        if !version_holds(op, actual, value) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `Credential=NAME`: a credential of that name exists in `$CREDENTIALS_DIRECTORY`.
fn test_credential(p: &str, ctx: &ConditionContext) -> Answer {
    if p.is_empty() || p == "." || p == ".." || p.contains('/') || p.len() > 255 {
        return Ok(false); // not a valid credential name, so no such credential
    }
    let Some(dir) = &ctx.credentials_dir else {
        return Ok(false);
    };
    match fs::symlink_metadata(dir.join(p)) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(format!("cannot look up credential {p}: {e}")),
    }
}

/// Capability names in kernel order (bit numbers).
const CAPABILITIES: &[&str] = &[
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

/// A capability's bit number from its name (any case) or number.
fn capability_from_name(name: &str) -> Option<u32> {
    let lower = name.to_ascii_lowercase();
    if let Some(k) = CAPABILITIES.iter().position(|c| *c == lower) {
        return u32::try_from(k).ok();
    }
    name.parse::<u32>().ok().filter(|&n| n < 64)
}

fn test_capability(p: &str, ctx: &ConditionContext) -> Answer {
    let bit = capability_from_name(p).ok_or_else(|| format!("unknown capability {p}"))?;
    let set = ctx
        .capability_bounding_set
        .ok_or("the capability bounding set is unknown")?;
    Ok(set & (1u64 << bit) != 0)
}

/// An operator (default `>=`) and the rest of a `Memory=`/`CPUs=` parameter.
fn split_operator(p: &str) -> (CompareOp, &str) {
    CompareOp::split_prefix(p).unwrap_or((CompareOp::Ge, p))
}

fn test_memory(p: &str, ctx: &ConditionContext) -> Answer {
    let (op, rest) = split_operator(p);
    let wanted = parse_size(rest).ok_or_else(|| format!("not a size: {rest}"))?;
    let have = ctx
        .physical_memory
        .ok_or("the amount of memory is unknown")?;
    Ok(op.holds(have.cmp(&wanted)))
}

fn test_cpus(p: &str, ctx: &ConditionContext) -> Answer {
    let (op, rest) = split_operator(p);
    let wanted: u32 = rest
        .trim_start()
        .parse()
        .map_err(|_| format!("not a number of CPUs: {rest}"))?;
    let have = ctx.cpus.ok_or("the number of CPUs is unknown")?;
    Ok(op.holds(have.cmp(&wanted)))
}

// ---------------------------------------------------------------------------------------------
// Users and groups.

/// Highest UID/GID of system users and groups (systemd's default `SYSTEM_UID_MAX`).
const SYSTEM_ID_MAX: u32 = 999;

/// A numeric user or group ID as systemd accepts it (decimal; not the reserved 65535 and
/// 4294967295).
fn parse_id(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>()
        .ok()
        .filter(|&n| n != 65535 && n != u32::MAX)
}

/// `User=`: `root`, `nobody`, `@system` (a system user), a numeric UID or a user name; matched
/// against the real and the effective UID.
fn test_user(p: &str, ctx: &ConditionContext) -> bool {
    let is = |id: u32| ctx.uid == id || ctx.euid == id;
    match p {
        "root" => return is(0),
        "nobody" => return is(65534),
        "@system" => return ctx.uid <= SYSTEM_ID_MAX || ctx.euid <= SYSTEM_ID_MAX,
        _ => {}
    }
    if let Some(id) = parse_id(p) {
        return is(id);
    }
    if ctx.user_name.as_deref() == Some(p) {
        return true;
    }
    match nix::unistd::User::from_name(p) {
        Ok(Some(user)) => is(user.uid.as_raw()),
        _ => false,
    }
}

/// `Group=`: a numeric GID or a group name; matched against the real, effective and
/// supplementary groups.
fn test_group(p: &str, ctx: &ConditionContext) -> bool {
    let member = |id: u32| ctx.gid == id || ctx.egid == id || ctx.groups.contains(&id);
    if let Some(id) = parse_id(p) {
        return member(id);
    }
    match nix::unistd::Group::from_name(p) {
        Ok(Some(group)) => member(group.gid.as_raw()),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// cgroups and pressure.

/// Controller names systemd knows for `ControlGroupController=`.
const CGROUP_CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "io",
    "blkio",
    "memory",
    "devices",
    "pids",
    "bpf-firewall",
    "bpf-devices",
    "bpf-foreign",
    "bpf-socket-bind",
    "bpf-restrict-network-interfaces",
];

/// `ControlGroupController=`: `v2` (everything on the unified hierarchy), `v1` (not), or
/// controller names that must all be available. Unknown names are ignored; a list of only
/// unknown names holds.
fn test_cgroup_controller(p: &str, ctx: &ConditionContext) -> bool {
    match p {
        "v2" => return ctx.cgroup.unified,
        "v1" => return !ctx.cgroup.unified,
        _ => {}
    }
    p.split_whitespace()
        .filter(|w| CGROUP_CONTROLLERS.contains(w))
        .all(|w| {
            if w.starts_with("bpf-") {
                // Attaching BPF programs needs the unified hierarchy and privileges.
                ctx.cgroup.unified && ctx.euid == 0
            } else {
                ctx.cgroup.controllers.iter().any(|c| c == w)
            }
        })
}

/// A percentage (`12.5%`), per-mille (`125‰`) or per-ten-thousand (`1250‱`) value, in
/// per-ten-thousand.
fn parse_permyriad(s: &str) -> Option<u32> {
    let (number, scale, decimals) = if let Some(n) = s.strip_suffix('%') {
        (n, 100, 2)
    } else if let Some(n) = s.strip_suffix('‰') {
        (n, 10, 1)
    } else {
        (s.strip_suffix('‱')?, 1, 0)
    };
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty()
        || !whole.bytes().all(|c| c.is_ascii_digit())
        || frac.len() > decimals
        || !frac.bytes().all(|c| c.is_ascii_digit())
        || (number.contains('.') && frac.is_empty())
    {
        return None;
    }
    let mut value: u32 = whole.parse::<u32>().ok()?.checked_mul(scale)?;
    if !frac.is_empty() {
        let padded = format!("{frac:0<decimals$}");
        value = value.checked_add(padded.parse::<u32>().ok()?)?;
    }
    (value <= 10_000).then_some(value)
}

/// `MemoryPressure=`/`CPUPressure=`/`IOPressure=`: `[SLICE:]PERCENT[/10sec|/1min|/5min]`; true
/// when the pressure average (5 minutes by default) of the whole system, or of the slice, is
/// at most the threshold. True when the kernel lacks pressure information, for a slice when
/// the system is not on the unified cgroup hierarchy, the controller is not available or the
/// slice does not exist.
fn test_pressure(resource: &str, p: &str, ctx: &ConditionContext) -> Answer {
    if !ctx.psi_supported {
        return Ok(true);
    }
    let bad = || format!("expected [SLICE:]PERCENT[/10sec|/1min|/5min]: {p}");
    let (slice, value) = match p.split_once(':') {
        Some((slice, value)) => (Some(slice.trim()), value),
        None => (None, p),
    };
    let (threshold, span) = match value.split_once('/') {
        Some((t, span)) => (t.trim(), Some(span.trim())),
        None => (value.trim(), None),
    };
    let slot = match span {
        None => 2,
        Some(s) if s.starts_with("10sec") => 0,
        Some(s) if s.starts_with("1min") => 1,
        Some(s) if s.starts_with("5min") => 2,
        Some(_) => return Err(bad()),
    };
    let limit = parse_permyriad(threshold).ok_or_else(bad)?;
    let (file, line) = match slice {
        None => {
            // System-wide CPU "full" pressure is undefined; the kernel reports zeros.
            let line = if resource == "cpu" {
                PressureLine::Some
            } else {
                PressureLine::Full
            };
            (Path::new("/proc/pressure").join(resource), line)
        }
        Some(slice) => {
            // Per-slice pressure is only read on the unified hierarchy.
            let (true, Some(mount)) = (ctx.cgroup.unified, &ctx.cgroup.v2_mount) else {
                return Ok(true);
            };
            let slice_path = probe::slice_to_path(slice).ok_or_else(bad)?;
            if !ctx.cgroup.controllers.iter().any(|c| c == resource) {
                return Ok(true);
            }
            // Slices live below the manager's own cgroup (minus its init.scope).
            let own = ctx.cgroup.own_path.as_deref().unwrap_or("/");
            let base = own.strip_suffix("/init.scope").unwrap_or(own);
            let dir = mount
                .join(base.trim_start_matches('/'))
                .join(slice_path.trim_start_matches('/'));
            (dir.join(format!("{resource}.pressure")), PressureLine::Full)
        }
    };
    pressure_within(&file, line, slot, limit)
}

/// Whether average `slot` (0: 10 s, 1: 1 min, 2: 5 min) of a pressure file is at most `limit`
/// (per-ten-thousand). A missing file holds; a file without the `full` line falls back to
/// `some`.
fn pressure_within(file: &Path, line: PressureLine, slot: usize, limit: u32) -> Answer {
    let text = match fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
    };
    let averages = probe::parse_pressure(&text, line)
        .or_else(|| {
            (line == PressureLine::Full)
                .then(|| probe::parse_pressure(&text, PressureLine::Some))
                .flatten()
        })
        .ok_or_else(|| format!("cannot parse {}", file.display()))?;
    Ok(averages[slot] <= limit)
}

#[cfg(test)]
mod tests;
