//! Sandboxing settings of an execution context: what a unit file asked for with
//! `PrivateTmp=`, `ProtectSystem=`, `ReadOnlyPaths=`, capability sets, `NoNewPrivileges=`,
//! `SystemCallFilter=`, `RestrictAddressFamilies=` and their kin.
//!
//! The parser lowers the keys into a [`Sandbox`] (values validated, syntax resolved, nothing
//! looked up on the running system). The supervisor turns it into a mount namespace, `prctl`
//! calls and a seccomp program in the child before `execve`. [`Sandbox::unenforced`] names the
//! settings a manager cannot enforce, so they are reported once per unit instead of being
//! silently ignored — and never turned into a start failure systemd would not have.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `ProtectSystem=`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProtectSystem {
    /// `no` (the default).
    #[default]
    No,
    /// `yes`: `/usr`, `/boot`, `/efi` read-only.
    Yes,
    /// `full`: `yes` plus `/etc`.
    Full,
    /// `strict`: the whole hierarchy read-only except the API file systems.
    Strict,
}

/// `ProtectHome=`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProtectHome {
    /// `no` (the default).
    #[default]
    No,
    /// `yes`: `/home`, `/root`, `/run/user` inaccessible (empty).
    Yes,
    /// `read-only`.
    ReadOnly,
    /// `tmpfs`: empty read-only tmpfs instances.
    Tmpfs,
}

/// `ProtectProc=`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProtectProc {
    /// `default`.
    #[default]
    Default,
    /// `noaccess` (`hidepid=noaccess`).
    NoAccess,
    /// `invisible` (`hidepid=invisible`).
    Invisible,
    /// `ptraceable` (`hidepid=ptraceable`).
    Ptraceable,
}

/// `ProcSubset=`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProcSubset {
    /// `all` (the default).
    #[default]
    All,
    /// `pid`: only the process directories (`subset=pid`).
    Pid,
}

/// `MountFlags=`: the propagation of the service's mount namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MountPropagation {
    /// `shared`.
    Shared,
    /// `slave` (the default when a namespace is set up).
    Slave,
    /// `private`.
    Private,
}

/// One entry of `ReadWritePaths=`, `ReadOnlyPaths=`, `InaccessiblePaths=`, `ExecPaths=`,
/// `NoExecPaths=`: an absolute path, `-` (missing is fine) already stripped. A `+` prefix
/// (relative to `RootDirectory=`, which unitd does not support) is stripped too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathEntry {
    /// The absolute path.
    pub path: PathBuf,
    /// `-` prefix: a missing path is skipped instead of failing the spawn.
    pub optional: bool,
}

/// One entry of `BindPaths=` / `BindReadOnlyPaths=` (`[-]SOURCE[:DEST[:OPTIONS]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindPath {
    /// Absolute source path.
    pub source: PathBuf,
    /// Absolute destination (= source when not given).
    pub target: PathBuf,
    /// `-` prefix: a missing source is skipped.
    pub optional: bool,
    /// `rbind` (the default) vs `norbind`.
    pub recursive: bool,
    /// From `BindReadOnlyPaths=`.
    pub read_only: bool,
}

/// One `TemporaryFileSystem=` entry (`PATH[:OPTIONS]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmpFs {
    /// Absolute mount point.
    pub path: PathBuf,
    /// The mount options as written (`ro`, `mode=0755`, …); empty when none.
    pub options: String,
}

/// One `SystemCallFilter=` line, in file order. An empty assignment resets the list.
/// Resolution (allow- vs deny-list from the first line, `@group` expansion) happens where the
/// seccomp program is built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyscallFilterLine {
    /// `~` prefix: the names are denied rather than allowed.
    pub invert: bool,
    /// Names as written (`write`, `@system-service`), each with its `:ERRNO` (errno number) if
    /// given ([`SYSCALL_ERRNO_KILL`] for `:kill`).
    pub entries: Vec<(String, Option<i32>)>,
}

/// The errno value of a `SystemCallFilter=` entry written `NAME:kill` (systemd's
/// `SECCOMP_ERROR_NUMBER_KILL`): the process is killed instead of the call failing. Also the
/// value systemd reports as `SystemCallErrorNumber` when the action is [`SyscallAction::Kill`].
pub const SYSCALL_ERRNO_KILL: i32 = i32::MAX - 1;

/// What a filtered system call does (`SystemCallErrorNumber=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyscallAction {
    /// Not set: the process is killed with `SIGSYS`.
    #[default]
    Kill,
    /// `SystemCallErrorNumber=EPERM` & co: the call fails with this errno.
    Errno(i32),
    /// `SystemCallErrorNumber=log`: allowed but logged.
    Log,
}

/// `RestrictAddressFamilies=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressFamilies {
    /// Allow-list (true) or deny-list (`~`, false). `none` is an empty allow-list.
    pub allow: bool,
    /// `AF_*` numbers ([`crate::spec::linux`]).
    pub families: Vec<i32>,
}

/// Every sandboxing setting of an execution context. `Default` is "no sandboxing".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sandbox {
    /// `PrivateTmp=`.
    pub private_tmp: bool,
    /// `PrivateDevices=`.
    pub private_devices: bool,
    /// `PrivateNetwork=`.
    pub private_network: bool,
    /// `PrivateIPC=`.
    pub private_ipc: bool,
    /// `PrivateMounts=`.
    pub private_mounts: bool,
    /// `ProtectSystem=`.
    pub protect_system: ProtectSystem,
    /// `ProtectHome=`.
    pub protect_home: ProtectHome,
    /// `ProtectKernelTunables=`.
    pub protect_kernel_tunables: bool,
    /// `ProtectKernelModules=`.
    pub protect_kernel_modules: bool,
    /// `ProtectKernelLogs=`.
    pub protect_kernel_logs: bool,
    /// `ProtectControlGroups=`.
    pub protect_control_groups: bool,
    /// `ProtectClock=`.
    pub protect_clock: bool,
    /// `ProtectHostname=`.
    pub protect_hostname: bool,
    /// `ProtectProc=`.
    pub protect_proc: ProtectProc,
    /// `ProcSubset=`.
    pub proc_subset: ProcSubset,
    /// `ReadWritePaths=` (and the old `ReadWriteDirectories=`).
    pub read_write_paths: Vec<PathEntry>,
    /// `ReadOnlyPaths=` (and `ReadOnlyDirectories=`).
    pub read_only_paths: Vec<PathEntry>,
    /// `InaccessiblePaths=` (and `InaccessibleDirectories=`).
    pub inaccessible_paths: Vec<PathEntry>,
    /// `ExecPaths=`.
    pub exec_paths: Vec<PathEntry>,
    /// `NoExecPaths=`.
    pub no_exec_paths: Vec<PathEntry>,
    /// `BindPaths=` and `BindReadOnlyPaths=`, in file order.
    pub bind_paths: Vec<BindPath>,
    /// `TemporaryFileSystem=`.
    pub temporary_filesystems: Vec<TmpFs>,
    /// `MountFlags=`; `None` = the default.
    pub mount_flags: Option<MountPropagation>,
    /// `MountAPIVFS=`; `None` = the default (on when a root directory is set, else off).
    pub mount_api_vfs: Option<bool>,
    /// `NoNewPrivileges=`.
    pub no_new_privileges: bool,
    /// `CapabilityBoundingSet=` as a mask of capability numbers; `None` = unchanged (all).
    pub capability_bounding_set: Option<u64>,
    /// `AmbientCapabilities=` as a mask; 0 = none.
    pub ambient_capabilities: u64,
    /// `SecureBits=` as the `SECBIT_*` mask; 0 = unchanged.
    pub secure_bits: u32,
    /// `SystemCallFilter=` lines in order; empty = no filter.
    pub system_call_filter: Vec<SyscallFilterLine>,
    /// `SystemCallErrorNumber=`.
    pub system_call_error: SyscallAction,
    /// `SystemCallArchitectures=` as written (`native`, `x86-64`, …); empty = no restriction.
    pub system_call_architectures: Vec<String>,
    /// `SystemCallLog=` lines in order (same syntax as the filter).
    pub system_call_log: Vec<SyscallFilterLine>,
    /// `RestrictAddressFamilies=`; `None` = unrestricted.
    pub restrict_address_families: Option<AddressFamilies>,
    /// `RestrictNamespaces=` as the mask of allowed `CLONE_NEW*` flags; `None` = unrestricted.
    pub restrict_namespaces: Option<u64>,
    /// `MemoryDenyWriteExecute=`.
    pub memory_deny_write_execute: bool,
    /// `RestrictRealtime=`.
    pub restrict_realtime: bool,
    /// `RestrictSUIDSGID=`.
    pub restrict_suid_sgid: bool,
    /// `LockPersonality=`.
    pub lock_personality: bool,
    /// Keys the parser accepted that unitd recognises but does not implement at all
    /// (`PrivateUsers=`, `RestrictFileSystems=`, …), as `Key=value`, in file order.
    pub not_implemented: Vec<String>,
}

/// What kind of manager is asked to enforce a [`Sandbox`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enforcer {
    /// The manager runs as root (uid 0): it may create mount namespaces, drop bounding
    /// capabilities and install seccomp filters without `NoNewPrivileges=`.
    pub privileged: bool,
}

impl Sandbox {
    /// Whether the settings need a private mount namespace for the spawned processes.
    pub fn needs_mount_namespace(&self) -> bool {
        self.private_tmp
            || self.private_devices
            || self.private_mounts
            || self.protect_system != ProtectSystem::No
            || self.protect_home != ProtectHome::No
            || self.protect_kernel_tunables
            || self.protect_kernel_modules
            || self.protect_kernel_logs
            || self.protect_control_groups
            || self.protect_proc != ProtectProc::Default
            || self.proc_subset != ProcSubset::All
            || !self.read_write_paths.is_empty()
            || !self.read_only_paths.is_empty()
            || !self.inaccessible_paths.is_empty()
            || !self.exec_paths.is_empty()
            || !self.no_exec_paths.is_empty()
            || !self.bind_paths.is_empty()
            || !self.temporary_filesystems.is_empty()
            || self.mount_flags.is_some()
    }

    /// The settings `enforcer` cannot enforce, as `Key=` names (or the `Key=value` strings of
    /// [`Sandbox::not_implemented`]), each once, in a stable order. Empty = everything asked
    /// for is enforced. This is the single source of truth for what unitd reports as not
    /// enforced: the supervisor must enforce everything this does not list.
    pub fn unenforced(&self, enforcer: Enforcer) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if !enforcer.privileged {
            // An unprivileged manager can create no mount namespace and drop no bounding
            // capability. Seccomp settings are always enforced: the filters go in after
            // NO_NEW_PRIVS, which systemd implies for a process without CAP_SYS_ADMIN.
            if self.needs_mount_namespace() {
                for (on, key) in self.mount_keys() {
                    if on {
                        out.push(key.to_owned());
                    }
                }
            }
            for (on, key) in [
                (self.private_network, "PrivateNetwork="),
                (self.private_ipc, "PrivateIPC="),
                (self.protect_hostname, "ProtectHostname="),
                (
                    self.capability_bounding_set.is_some(),
                    "CapabilityBoundingSet=",
                ),
                (self.ambient_capabilities != 0, "AmbientCapabilities="),
                (self.secure_bits != 0, "SecureBits="),
            ] {
                if on {
                    out.push(key.to_owned());
                }
            }
        }
        out.extend(self.not_implemented.iter().cloned());
        out
    }

    /// The mount-namespace settings with whether each is set, in unit-file order.
    fn mount_keys(&self) -> [(bool, &'static str); 19] {
        [
            (self.private_tmp, "PrivateTmp="),
            (self.private_devices, "PrivateDevices="),
            (self.private_mounts, "PrivateMounts="),
            (self.protect_system != ProtectSystem::No, "ProtectSystem="),
            (self.protect_home != ProtectHome::No, "ProtectHome="),
            (self.protect_kernel_tunables, "ProtectKernelTunables="),
            (self.protect_kernel_modules, "ProtectKernelModules="),
            (self.protect_kernel_logs, "ProtectKernelLogs="),
            (self.protect_control_groups, "ProtectControlGroups="),
            (self.protect_proc != ProtectProc::Default, "ProtectProc="),
            (self.proc_subset != ProcSubset::All, "ProcSubset="),
            (!self.read_write_paths.is_empty(), "ReadWritePaths="),
            (!self.read_only_paths.is_empty(), "ReadOnlyPaths="),
            (!self.inaccessible_paths.is_empty(), "InaccessiblePaths="),
            (!self.exec_paths.is_empty(), "ExecPaths="),
            (!self.no_exec_paths.is_empty(), "NoExecPaths="),
            (!self.bind_paths.is_empty(), "BindPaths="),
            (
                !self.temporary_filesystems.is_empty(),
                "TemporaryFileSystem=",
            ),
            (self.mount_flags.is_some(), "MountFlags="),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_asked_nothing_unenforced() {
        let s = Sandbox::default();
        assert!(!s.needs_mount_namespace());
        assert!(s.unenforced(Enforcer { privileged: false }).is_empty());
        assert!(s.unenforced(Enforcer { privileged: true }).is_empty());
    }

    #[test]
    fn unprivileged_managers_report_mount_and_capability_keys() {
        let s = Sandbox {
            private_tmp: true,
            protect_system: ProtectSystem::Strict,
            capability_bounding_set: Some(1 << 10),
            no_new_privileges: true,
            not_implemented: vec!["PrivateUsers=yes".into()],
            ..Sandbox::default()
        };
        assert!(s.needs_mount_namespace());
        assert_eq!(
            s.unenforced(Enforcer { privileged: false }),
            [
                "PrivateTmp=",
                "ProtectSystem=",
                "CapabilityBoundingSet=",
                "PrivateUsers=yes"
            ]
        );
        assert_eq!(
            s.unenforced(Enforcer { privileged: true }),
            ["PrivateUsers=yes"]
        );
    }

    #[test]
    fn seccomp_and_no_new_privileges_are_enforced_by_any_manager() {
        let s = Sandbox {
            no_new_privileges: true,
            system_call_filter: vec![SyscallFilterLine {
                invert: false,
                entries: vec![("@system-service".into(), None)],
            }],
            system_call_error: SyscallAction::Errno(1),
            system_call_architectures: vec!["native".into()],
            restrict_address_families: Some(AddressFamilies {
                allow: true,
                families: vec![1],
            }),
            restrict_namespaces: Some(0),
            memory_deny_write_execute: true,
            restrict_realtime: true,
            restrict_suid_sgid: true,
            lock_personality: true,
            protect_clock: true,
            ..Sandbox::default()
        };
        assert!(s.unenforced(Enforcer { privileged: false }).is_empty());
        assert!(s.unenforced(Enforcer { privileged: true }).is_empty());
    }
}
