//! The namespace part of a [`Sandbox`]: the private mount namespace (`PrivateTmp=`,
//! `ProtectSystem=`, `ProtectHome=`, `ReadWritePaths=` & co, `BindPaths=`,
//! `TemporaryFileSystem=`, `PrivateDevices=`, `ProtectKernel*=`, `ProtectControlGroups=`,
//! `ProtectProc=`, `ProcSubset=`, `PrivateMounts=`, `MountFlags=`), and the network, IPC and
//! UTS namespaces (`PrivateNetwork=`, `PrivateIPC=`, `ProtectHostname=`), enforced the way
//! systemd 252 does it (systemd.exec(5)).
//!
//! Split like the rest of `spawn`:
//! - In the manager, [`Namespaces::plan`] turns the settings into a flat [`Plan`]: a sorted,
//!   de-duplicated list of mount entries (systemd's priority rules: a more restrictive entry
//!   for the same path wins, entries below an inaccessible one are dropped, read-only/writable
//!   entries that repeat their closest parent are dropped), compiled into operations whose
//!   C strings and buffers are all allocated up front. It also owns the per-unit state that
//!   every process of a unit shares while the unit is active: the `PrivateTmp=` directories
//!   (`/tmp/systemd-private-<boot-id>-<unit>-XXXXXX/tmp`, same under `/var/tmp`) and the
//!   network and IPC namespaces (created once, in a short-lived thread, and joined with
//!   `setns` by every process of the unit). [`Namespaces::release`] drops them when the
//!   unit goes inactive; the state survives daemon-reexec through the supervisor's handover.
//! - In the child after `fork`, [`enter`] executes the plan with raw system calls only (no
//!   allocation): join/unshare the namespaces, `unshare(CLONE_NEWNS)`, make `/` a slave, then
//!   three rounds as systemd — establish every mount; make read-only entries read-only
//!   recursively, skipping subtrees of other entries; apply `noexec`/`exec` the same way —
//!   and finally set the `MountFlags=` propagation (default `shared`). Per-mount flags are
//!   changed with `mount_setattr(2)` (which leaves the other flags alone), falling back to a
//!   `MS_REMOUNT|MS_BIND` with the flags read from `/proc/self/mountinfo` on kernels without
//!   it. A missing path without `-` fails the spawn with 226/NAMESPACE (225/NETWORK for the
//!   network namespace).
//!
//! Only a privileged manager (root) does any of this ([`crate::spec::sandbox::Enforcer`]); an
//! unprivileged one reports the settings as not enforced. Commands with the `+` prefix get no
//! sandbox at all. Capability drops systemd couples to some settings (`PrivateDevices=` →
//! `CAP_MKNOD`, `ProtectKernelModules=` → `CAP_SYS_MODULE`, …) belong to the capability code.

use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::{SpawnRequest, UnitId};
use crate::spec::ExecDirectoryType;
use crate::spec::sandbox::{
    BindPath, MountPropagation, PathEntry, ProcSubset, ProtectHome, ProtectProc, ProtectSystem,
    Sandbox,
};

use super::handover::HandedFd;
use super::spawn::high_fd;

/// Exit code of a failed mount/IPC/UTS namespace set-up (`226/NAMESPACE`).
pub const EXIT_NAMESPACE: i32 = 226;
/// Exit code of a failed network namespace set-up (`225/NETWORK`).
pub const EXIT_NETWORK: i32 = 225;

// ---------------------------------------------------------------------------------------------
// Mount entries (pure)
// ---------------------------------------------------------------------------------------------

/// What one mount entry does. The order is the priority when two entries name the same path
/// (the first wins), as systemd's `MountMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Mode {
    /// Overmounted with an empty mode-000 node of the same type.
    Inaccessible,
    /// `BindPaths=`/`BindReadOnlyPaths=`.
    Bind,
    /// `PrivateTmp=`: the unit's private directory bound over `/tmp` or `/var/tmp`.
    PrivateTmp,
    /// `PrivateDevices=`: a fresh `/dev` with the pseudo devices only.
    PrivateDev,
    /// `ProtectProc=`/`ProcSubset=`: a fresh procfs instance.
    Procfs,
    /// Read-only (recursively).
    ReadOnly,
    /// Writable (exempt from a read-only parent).
    ReadWrite,
    /// `NoExecPaths=`.
    NoExec,
    /// `ExecPaths=`.
    Exec,
    /// `TemporaryFileSystem=`, `ProtectHome=tmpfs`.
    Tmpfs,
    /// `PrivateIPC=`: a fresh mqueue file system on `/dev/mqueue`.
    Mqueue,
    /// Writable because a setting exempts it (`ProtectSystem=strict`'s API file systems).
    ReadWriteImplicit,
}

/// One mount entry before compilation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Absolute mount point.
    pub path: PathBuf,
    pub mode: Mode,
    /// `-`: a missing path is skipped.
    pub optional: bool,
    /// Made read-only in the second round.
    pub read_only: bool,
    /// `Some(false)`: made `noexec`, `Some(true)`: `noexec` cleared, in the third round.
    pub exec: Option<bool>,
    /// Bind source (`Bind`, `PrivateTmp`).
    pub source: Option<PathBuf>,
    /// `rbind` rather than `bind`.
    pub recursive: bool,
    /// `mount(2)` flags (`Tmpfs`).
    pub flags: libc::c_ulong,
    /// `mount(2)` data (`Tmpfs`, `Procfs`).
    pub data: String,
}

impl Entry {
    fn new(path: impl Into<PathBuf>, mode: Mode, optional: bool) -> Entry {
        Entry {
            path: path.into(),
            mode,
            optional,
            read_only: mode == Mode::ReadOnly || mode == Mode::Inaccessible,
            exec: match mode {
                Mode::NoExec => Some(false),
                Mode::Exec => Some(true),
                _ => None,
            },
            source: None,
            recursive: true,
            flags: 0,
            data: String::new(),
        }
    }

    fn tmpfs(path: impl Into<PathBuf>, optional: bool, options: &str, base: libc::c_ulong) -> Self {
        let (flags, data) = mount_options(options, base);
        let mut e = Entry::new(path, Mode::Tmpfs, optional);
        e.read_only = flags & libc::MS_RDONLY != 0;
        e.flags = flags & !libc::MS_RDONLY;
        e.data = data;
        e
    }
}

/// Split a mount option string into `mount(2)` flags (starting from `base`) and the data
/// string of the options the file system interprets (`mode=`, `size=`, …).
pub(crate) fn mount_options(options: &str, base: libc::c_ulong) -> (libc::c_ulong, String) {
    let mut flags = base;
    let mut data: Vec<&str> = Vec::new();
    for o in options.split(',').filter(|o| !o.is_empty()) {
        let (set, clear): (libc::c_ulong, libc::c_ulong) = match o {
            "ro" => (libc::MS_RDONLY, 0),
            "rw" => (0, libc::MS_RDONLY),
            "nosuid" => (libc::MS_NOSUID, 0),
            "suid" => (0, libc::MS_NOSUID),
            "nodev" => (libc::MS_NODEV, 0),
            "dev" => (0, libc::MS_NODEV),
            "noexec" => (libc::MS_NOEXEC, 0),
            "exec" => (0, libc::MS_NOEXEC),
            "sync" => (libc::MS_SYNCHRONOUS, 0),
            "async" => (0, libc::MS_SYNCHRONOUS),
            "dirsync" => (libc::MS_DIRSYNC, 0),
            "noatime" => (libc::MS_NOATIME, 0),
            "atime" => (0, libc::MS_NOATIME),
            "nodiratime" => (libc::MS_NODIRATIME, 0),
            "diratime" => (0, libc::MS_NODIRATIME),
            "relatime" => (libc::MS_RELATIME, libc::MS_STRICTATIME),
            "norelatime" => (0, libc::MS_RELATIME),
            "strictatime" => (libc::MS_STRICTATIME, libc::MS_RELATIME),
            "nostrictatime" => (0, libc::MS_STRICTATIME),
            "lazytime" => (libc::MS_LAZYTIME, 0),
            "nolazytime" => (0, libc::MS_LAZYTIME),
            "mand" => (libc::MS_MANDLOCK, 0),
            "nomand" => (0, libc::MS_MANDLOCK),
            "silent" => (libc::MS_SILENT, 0),
            "loud" => (0, libc::MS_SILENT),
            "defaults" => (0, 0),
            other => {
                data.push(other);
                (0, 0)
            }
        };
        flags = (flags & !clear) | set;
    }
    (flags, data.join(","))
}

/// `ProtectSystem=` tables (split-usr entries are optional; on merged-usr systems they resolve
/// into `/usr` and are dropped as redundant).
fn protect_system_entries(p: ProtectSystem, out: &mut Vec<Entry>) {
    let yes: &[(&str, bool)] = &[
        ("/usr", false),
        ("/boot", true),
        ("/efi", true),
        ("/lib", true),
        ("/lib64", true),
        ("/bin", true),
        ("/sbin", true),
    ];
    match p {
        ProtectSystem::No => {}
        ProtectSystem::Yes | ProtectSystem::Full => {
            for (path, opt) in yes {
                out.push(Entry::new(*path, Mode::ReadOnly, *opt));
            }
            if p == ProtectSystem::Full {
                out.push(Entry::new("/etc", Mode::ReadOnly, false));
            }
        }
        ProtectSystem::Strict => {
            out.push(Entry::new("/", Mode::ReadOnly, false));
            for (path, opt) in [
                ("/proc", false),
                ("/sys", false),
                ("/dev", false),
                // ProtectHome= decides about these.
                ("/home", true),
                ("/run/user", true),
                ("/root", true),
            ] {
                out.push(Entry::new(path, Mode::ReadWriteImplicit, opt));
            }
        }
    }
}

fn protect_home_entries(p: ProtectHome, out: &mut Vec<Entry>) {
    for path in ["/home", "/run/user", "/root"] {
        match p {
            ProtectHome::No => {}
            ProtectHome::Yes => out.push(Entry::new(path, Mode::Inaccessible, true)),
            ProtectHome::ReadOnly => out.push(Entry::new(path, Mode::ReadOnly, true)),
            ProtectHome::Tmpfs => out.push(Entry::tmpfs(
                path,
                true,
                "ro,mode=0755,size=4m,nr_inodes=1k",
                libc::MS_NODEV | libc::MS_STRICTATIME,
            )),
        }
    }
}

/// Every mount entry `s` asks for, unsorted. `writable` are the unit's `*Directory=` paths
/// (always exempt from read-only parents, as systemd adds them to `ReadWritePaths=`);
/// `private_tmp` the unit's private `/tmp` and `/var/tmp` sources.
pub(crate) fn entries(
    s: &Sandbox,
    writable: &[PathBuf],
    private_tmp: Option<(&Path, &Path)>,
) -> Vec<Entry> {
    let mut out = Vec::new();
    let paths = |v: &[PathEntry], mode: Mode, out: &mut Vec<Entry>| {
        for p in v {
            out.push(Entry::new(&p.path, mode, p.optional));
        }
    };
    paths(&s.read_write_paths, Mode::ReadWrite, &mut out);
    paths(&s.read_only_paths, Mode::ReadOnly, &mut out);
    paths(&s.inaccessible_paths, Mode::Inaccessible, &mut out);
    paths(&s.exec_paths, Mode::Exec, &mut out);
    paths(&s.no_exec_paths, Mode::NoExec, &mut out);
    for w in writable {
        out.push(Entry::new(w, Mode::ReadWrite, true));
    }
    for BindPath {
        source,
        target,
        optional,
        recursive,
        read_only,
    } in &s.bind_paths
    {
        let mut e = Entry::new(target, Mode::Bind, *optional);
        e.source = Some(source.clone());
        e.recursive = *recursive;
        e.read_only = *read_only;
        out.push(e);
    }
    for t in &s.temporary_filesystems {
        out.push(Entry::tmpfs(
            &t.path,
            false,
            &t.options,
            libc::MS_NODEV | libc::MS_STRICTATIME,
        ));
    }
    if let Some((tmp, var_tmp)) = private_tmp {
        for (path, source) in [("/tmp", tmp), ("/var/tmp", var_tmp)] {
            let mut e = Entry::new(path, Mode::PrivateTmp, false);
            e.source = Some(source.to_path_buf());
            out.push(e);
        }
    }
    if s.private_devices {
        out.push(Entry::new("/dev", Mode::PrivateDev, false));
    }
    if s.private_ipc {
        let mut e = Entry::new("/dev/mqueue", Mode::Mqueue, true);
        e.flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC | libc::MS_RELATIME;
        out.push(e);
    }
    if s.protect_kernel_tunables {
        for (path, mode, opt) in [
            ("/proc/acpi", Mode::ReadOnly, true),
            ("/proc/apm", Mode::ReadOnly, true),
            ("/proc/asound", Mode::ReadOnly, true),
            ("/proc/bus", Mode::ReadOnly, true),
            ("/proc/fs", Mode::ReadOnly, true),
            ("/proc/irq", Mode::ReadOnly, true),
            ("/proc/kallsyms", Mode::Inaccessible, true),
            ("/proc/kcore", Mode::Inaccessible, true),
            ("/proc/latency_stats", Mode::ReadOnly, true),
            ("/proc/mtrr", Mode::ReadOnly, true),
            ("/proc/scsi", Mode::ReadOnly, true),
            ("/proc/sys", Mode::ReadOnly, true),
            ("/proc/sysrq-trigger", Mode::ReadOnly, true),
            ("/proc/timer_stats", Mode::ReadOnly, true),
            ("/sys", Mode::ReadOnly, false),
            ("/sys/fs/bpf", Mode::ReadOnly, true),
            // ProtectControlGroups= decides about it.
            ("/sys/fs/cgroup", Mode::ReadWriteImplicit, true),
            ("/sys/fs/selinux", Mode::ReadWriteImplicit, true),
            ("/sys/kernel/debug", Mode::ReadOnly, true),
            ("/sys/kernel/tracing", Mode::ReadOnly, true),
        ] {
            out.push(Entry::new(path, mode, opt));
        }
    }
    if s.protect_kernel_modules {
        for path in ["/lib/modules", "/usr/lib/modules"] {
            out.push(Entry::new(path, Mode::Inaccessible, true));
        }
    }
    if s.protect_kernel_logs {
        for path in ["/proc/kmsg", "/dev/kmsg"] {
            out.push(Entry::new(path, Mode::Inaccessible, true));
        }
    }
    if s.protect_control_groups {
        out.push(Entry::new("/sys/fs/cgroup", Mode::ReadOnly, false));
    }
    if s.protect_hostname {
        for path in ["/proc/sys/kernel/hostname", "/proc/sys/kernel/domainname"] {
            out.push(Entry::new(path, Mode::ReadOnly, true));
        }
    }
    if s.protect_proc != ProtectProc::Default || s.proc_subset != ProcSubset::All {
        let mut e = Entry::new("/proc", Mode::Procfs, false);
        let hidepid = match s.protect_proc {
            ProtectProc::Default => "off",
            ProtectProc::NoAccess => "noaccess",
            ProtectProc::Invisible => "invisible",
            ProtectProc::Ptraceable => "ptraceable",
        };
        e.data = format!("hidepid={hidepid}");
        if s.proc_subset == ProcSubset::Pid {
            e.data.push_str(",subset=pid");
        }
        out.push(e);
    }
    protect_system_entries(s.protect_system, &mut out);
    protect_home_entries(s.protect_home, &mut out);
    out
}

/// Whether `path` is `prefix` or below it.
fn is_under(path: &Path, prefix: &Path) -> bool {
    path.starts_with(prefix)
}

/// Sort by path (parents first; for the same path the higher-priority mode first), merge
/// entries for the same path (the first wins and inherits the others' read-only and exec
/// flags), drop entries hidden below an inaccessible one, and drop read-only/writable entries
/// that change nothing: the same kind as their closest parent entry, or writable with no
/// parent entry at all.
pub(crate) fn normalize(mut v: Vec<Entry>) -> Vec<Entry> {
    v.sort_by(|a, b| a.path.cmp(&b.path).then(a.mode.cmp(&b.mode)));
    let mut merged: Vec<Entry> = Vec::with_capacity(v.len());
    for e in v {
        if let Some(prev) = merged.last_mut()
            && prev.path == e.path
        {
            prev.read_only |= e.read_only;
            if prev.exec.is_none() {
                prev.exec = e.exec;
            }
            // A path is optional only if every entry naming it is.
            prev.optional &= e.optional;
            continue;
        }
        merged.push(e);
    }
    let mut out: Vec<Entry> = Vec::with_capacity(merged.len());
    for e in merged {
        if out
            .iter()
            .any(|p| p.mode == Mode::Inaccessible && is_under(&e.path, &p.path))
        {
            continue;
        }
        let plain_ro = e.mode == Mode::ReadOnly;
        let plain_rw = matches!(e.mode, Mode::ReadWrite | Mode::ReadWriteImplicit);
        if (plain_ro || plain_rw) && e.exec.is_none() {
            let parent = out.iter().rev().find(|p| is_under(&e.path, &p.path));
            let redundant = match parent {
                None => plain_rw,
                Some(p) => {
                    (plain_ro && p.mode == Mode::ReadOnly)
                        || (plain_rw && matches!(p.mode, Mode::ReadWrite | Mode::ReadWriteImplicit))
                }
            };
            if redundant {
                continue;
            }
        }
        out.push(e);
    }
    out
}

/// `path` with symlinks resolved as far as it exists (a missing tail is kept as written), so
/// entries compare and sort by what they really name.
fn resolve(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let mut tail = Vec::new();
    let mut cur = path;
    while let Some(parent) = cur.parent() {
        if let Some(name) = cur.file_name() {
            tail.push(name.to_os_string());
        }
        if let Ok(mut p) = std::fs::canonicalize(parent) {
            for t in tail.iter().rev() {
                p.push(t);
            }
            return p;
        }
        cur = parent;
    }
    path.to_path_buf()
}

/// Whether a path is absolute and free of `.`/`..` (what systemd accepts as a mount point).
fn is_normal_absolute(p: &Path) -> bool {
    p.is_absolute()
        && p.components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
}

// ---------------------------------------------------------------------------------------------
// Compiled plan
// ---------------------------------------------------------------------------------------------

/// Which errors of an operation are tolerated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tolerate {
    Nothing,
    /// `ENOENT` (the `-` prefix).
    Missing,
    /// Anything (best-effort steps, as systemd's).
    Any,
}

/// Which other entries a recursive flag change skips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deny {
    /// Every entry's path.
    All,
    /// The exec/noexec entries' paths.
    Exec,
}

/// One step the child carries out.
#[derive(Debug)]
enum Op {
    /// Fail the spawn with this errno (a problem found in the manager).
    Fail(i32),
    Mkdir {
        path: CString,
        mode: libc::mode_t,
        tolerate: Tolerate,
    },
    Touch {
        path: CString,
        tolerate: Tolerate,
    },
    Symlink {
        target: CString,
        link: CString,
    },
    Mknod {
        path: CString,
        mode: libc::mode_t,
        dev: libc::dev_t,
        /// Bound instead when `mknod` is refused (no `CAP_MKNOD`, device policy).
        host: CString,
    },
    Bind {
        source: CString,
        target: CString,
        recursive: bool,
        tolerate: Tolerate,
    },
    /// Bind a path onto itself unless it is a mount point already.
    SelfBind {
        path: CString,
        tolerate: Tolerate,
    },
    Mount {
        source: CString,
        target: CString,
        fstype: CString,
        flags: libc::c_ulong,
        data: Option<CString>,
        tolerate: Tolerate,
    },
    /// A fresh procfs (`hidepid=`/`subset=`); without those options when the kernel does not
    /// know them, and the existing `/proc` kept when mounting is refused.
    Proc {
        target: CString,
        data: CString,
    },
    Move {
        source: CString,
        target: CString,
    },
    /// Detach every mount stacked on this path (and everything below them).
    UmountAll {
        path: CString,
    },
    /// Open `path` (`O_PATH`) in the new mount namespace onto descriptor `fd`: a bind source
    /// opened in the manager's namespace is refused (`EINVAL`) once the child has its own.
    Reopen {
        path: CString,
        fd: RawFd,
    },
    /// Set/clear `MOUNT_ATTR_*` on the mount at `path` (and, `recursive`, every mount below
    /// it except the subtrees of other entries).
    SetAttr {
        path: CString,
        set: u64,
        clr: u64,
        recursive: bool,
        deny: Deny,
    },
}

/// The mount namespace part of a [`Plan`].
struct MountPlan {
    ops: Vec<Op>,
    deny_all: Vec<CString>,
    deny_exec: Vec<CString>,
    /// `MS_SHARED`/`MS_SLAVE`/`MS_PRIVATE` for `/` at the end.
    propagation: libc::c_ulong,
    /// Room for `/proc/self/mountinfo` and for one unescaped mount point, written by the
    /// child (its own copy after fork).
    info: *mut u8,
    info_len: usize,
    scratch: *mut u8,
    scratch_len: usize,
    _bufs: (Vec<u8>, Vec<u8>),
}

impl std::fmt::Debug for MountPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MountPlan")
            .field("ops", &self.ops)
            .field("propagation", &self.propagation)
            .finish()
    }
}

/// Everything the child does to enter a unit's namespaces, prepared in the manager.
#[derive(Debug)]
pub(crate) struct Plan {
    /// `(code, errno)` of a failure found in the manager (e.g. no `PrivateTmp=` directory).
    error: Option<(i32, i32)>,
    /// `(fd, CLONE_NEW*, exit code)`: namespaces of the unit to join. The descriptors belong
    /// to [`Namespaces`] and stay open across the fork.
    join: Vec<(RawFd, libc::c_int, i32)>,
    /// `ProtectHostname=`: a new UTS namespace (per process, as systemd).
    new_uts: bool,
    mounts: Option<MountPlan>,
}

/// Paths and descriptors the compiler needs from the host.
struct Host<'a> {
    /// Inaccessible nodes, as `/proc/self/fd/N` paths of `O_PATH` descriptors.
    nodes: &'a Nodes,
    /// An empty directory the child mounts a private tmpfs on while building a new `/dev`.
    scratch: &'a Path,
}

fn cstr(p: impl AsRef<Path>) -> CString {
    // Paths from the spec and the file system never contain NUL in practice; one that does
    // cannot be mounted and is replaced by one that fails with ENOENT.
    CString::new(p.as_ref().as_os_str().as_bytes())
        .unwrap_or_else(|_| CString::new("/nonexistent/\u{1}").expect("no NUL"))
}

fn cs(s: &str) -> CString {
    CString::new(s).expect("no NUL in constant")
}

/// Mkdir ops for the missing ancestors of `path` and (with `last`) `path` itself, top-down.
fn mkdir_p(path: &Path, last: bool, ops: &mut Vec<Op>) {
    let mut missing = Vec::new();
    let mut cur = if last { Some(path) } else { path.parent() };
    while let Some(p) = cur {
        if p.symlink_metadata().is_ok() {
            break;
        }
        missing.push(p.to_path_buf());
        cur = p.parent();
    }
    for p in missing.into_iter().rev() {
        ops.push(Op::Mkdir {
            path: cstr(&p),
            mode: 0o755,
            tolerate: Tolerate::Nothing,
        });
    }
}

fn tolerate_missing(optional: bool) -> Tolerate {
    if optional {
        Tolerate::Missing
    } else {
        Tolerate::Nothing
    }
}

const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOEXEC: u64 = 0x8;

/// The ops building systemd's private `/dev` in `scratch`, then moved over `/dev`.
fn private_dev_ops(scratch: &Path, ops: &mut Vec<Op>) {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let dev = scratch.join("dev");
    ops.push(Op::Mount {
        source: cs("tmpfs"),
        target: cstr(scratch),
        fstype: cs("tmpfs"),
        flags: libc::MS_NOSUID | libc::MS_NODEV,
        data: Some(cs("mode=0700")),
        tolerate: Tolerate::Nothing,
    });
    ops.push(Op::Mkdir {
        path: cstr(&dev),
        mode: 0o755,
        tolerate: Tolerate::Nothing,
    });
    ops.push(Op::Mount {
        source: cs("tmpfs"),
        target: cstr(&dev),
        fstype: cs("tmpfs"),
        flags: libc::MS_NOSUID | libc::MS_STRICTATIME | libc::MS_NOEXEC,
        data: Some(cs("mode=0755,size=4m,nr_inodes=64k")),
        tolerate: Tolerate::Nothing,
    });
    // The host's devpts, shm, mqueue and hugepages stay reachable.
    for sub in ["pts", "shm", "mqueue", "hugepages"] {
        let host = Path::new("/dev").join(sub);
        let at = dev.join(sub);
        // `mqueue` always: `PrivateIPC=` mounts its own there.
        if host.is_dir() || sub == "mqueue" {
            ops.push(Op::Mkdir {
                path: cstr(&at),
                mode: 0o755,
                tolerate: Tolerate::Nothing,
            });
        }
        if !host.is_dir() {
            continue;
        }
        ops.push(Op::Bind {
            source: cstr(&host),
            target: cstr(&at),
            recursive: false,
            tolerate: if sub == "pts" || sub == "shm" {
                Tolerate::Nothing
            } else {
                Tolerate::Any
            },
        });
    }
    let clone_node = |name: &str, ops: &mut Vec<Op>| {
        let host = Path::new("/dev").join(name);
        if let Ok(md) = std::fs::metadata(&host)
            && (md.file_type().is_char_device() || md.file_type().is_block_device())
        {
            ops.push(Op::Mknod {
                path: cstr(dev.join(name)),
                mode: md.mode() as libc::mode_t,
                dev: md.rdev() as libc::dev_t,
                host: cstr(&host),
            });
        }
    };
    // /dev/ptmx: a symlink into devpts in containers, else a node.
    match std::fs::symlink_metadata("/dev/ptmx") {
        Ok(md) if md.file_type().is_symlink() => ops.push(Op::Symlink {
            target: cs("pts/ptmx"),
            link: cstr(dev.join("ptmx")),
        }),
        Ok(_) => clone_node("ptmx", ops),
        Err(_) => {}
    }
    for name in ["null", "zero", "full", "random", "urandom", "tty"] {
        clone_node(name, ops);
    }
    // /dev/log: systemd's symlink to the journal's socket; a host that has its own syslog
    // socket (or symlink) there keeps it, so services' syslog(3) still reaches it.
    let log = dev.join("log");
    match std::fs::symlink_metadata("/dev/log") {
        Ok(md) if md.file_type().is_symlink() => {
            if let Ok(t) = std::fs::read_link("/dev/log") {
                ops.push(Op::Symlink {
                    target: cstr(&t),
                    link: cstr(&log),
                });
            }
        }
        Ok(md) if md.file_type().is_socket() => {
            ops.push(Op::Touch {
                path: cstr(&log),
                tolerate: Tolerate::Any,
            });
            ops.push(Op::Bind {
                source: cs("/dev/log"),
                target: cstr(&log),
                recursive: false,
                tolerate: Tolerate::Any,
            });
        }
        _ => ops.push(Op::Symlink {
            target: cs("/run/systemd/journal/dev-log"),
            link: cstr(&log),
        }),
    }
    let mut links = vec![
        ("/proc/self/fd", "fd"),
        ("/proc/self/fd/0", "stdin"),
        ("/proc/self/fd/1", "stdout"),
        ("/proc/self/fd/2", "stderr"),
    ];
    if Path::new("/proc/kcore").exists() {
        links.push(("/proc/kcore", "core"));
    }
    for (target, name) in links {
        ops.push(Op::Symlink {
            target: cs(target),
            link: cstr(dev.join(name)),
        });
    }
    ops.push(Op::UmountAll { path: cs("/dev") });
    ops.push(Op::Move {
        source: cstr(&dev),
        target: cs("/dev"),
    });
    ops.push(Op::UmountAll {
        path: cstr(scratch),
    });
}

/// Compile normalized entries into the child's operations (three rounds, see module docs).
fn compile(entries: &[Entry], host: &Host<'_>) -> Vec<Op> {
    use std::os::unix::fs::FileTypeExt;
    let mut ops = Vec::new();
    if entries.iter().any(|e| e.mode == Mode::Inaccessible) {
        for n in host.nodes.all() {
            ops.push(Op::Reopen {
                path: n.path.clone(),
                fd: n.fd.as_raw_fd(),
            });
        }
    }
    // Entries skipped in round 1 (optional and missing) get no flags either.
    let mut skipped = vec![false; entries.len()];
    // Round 1: establish every mount.
    for (i, e) in entries.iter().enumerate() {
        let path = cstr(&e.path);
        match e.mode {
            Mode::Inaccessible => {
                let node = match std::fs::symlink_metadata(&e.path) {
                    Ok(md) => {
                        let t = md.file_type();
                        if t.is_dir() {
                            &host.nodes.dir
                        } else if t.is_char_device() {
                            &host.nodes.chr
                        } else if t.is_block_device() {
                            &host.nodes.blk
                        } else if t.is_fifo() {
                            &host.nodes.fifo
                        } else if t.is_socket() {
                            &host.nodes.sock
                        } else {
                            &host.nodes.reg
                        }
                    }
                    Err(_) if e.optional => {
                        skipped[i] = true;
                        continue;
                    }
                    Err(err) => {
                        ops.push(Op::Fail(err.raw_os_error().unwrap_or(libc::ENOENT)));
                        continue;
                    }
                };
                ops.push(Op::Bind {
                    source: node.proc_path.clone(),
                    target: path,
                    recursive: false,
                    tolerate: tolerate_missing(e.optional),
                });
            }
            Mode::Bind | Mode::PrivateTmp => {
                let source = e.source.as_deref().unwrap_or(Path::new("/nonexistent"));
                let md = match std::fs::metadata(source) {
                    Ok(md) => md,
                    Err(_) if e.optional => {
                        skipped[i] = true;
                        continue;
                    }
                    Err(err) => {
                        ops.push(Op::Fail(err.raw_os_error().unwrap_or(libc::ENOENT)));
                        continue;
                    }
                };
                if e.path.symlink_metadata().is_err() {
                    mkdir_p(&e.path, md.is_dir(), &mut ops);
                    if !md.is_dir() {
                        ops.push(Op::Touch {
                            path: path.clone(),
                            tolerate: Tolerate::Nothing,
                        });
                    }
                }
                ops.push(Op::Bind {
                    source: cstr(source),
                    target: path,
                    recursive: e.recursive,
                    tolerate: tolerate_missing(e.optional),
                });
            }
            Mode::PrivateDev => private_dev_ops(host.scratch, &mut ops),
            Mode::Procfs => ops.push(Op::Proc {
                target: path,
                data: CString::new(e.data.clone()).unwrap_or_default(),
            }),
            Mode::ReadOnly
            | Mode::ReadWrite
            | Mode::ReadWriteImplicit
            | Mode::NoExec
            | Mode::Exec => {
                // `/` is always a mount point (and binding it onto itself would stack a root
                // the process never walks through).
                if e.path != Path::new("/") {
                    ops.push(Op::SelfBind {
                        path,
                        tolerate: tolerate_missing(e.optional),
                    });
                }
            }
            Mode::Tmpfs => {
                if e.path.symlink_metadata().is_err() {
                    if e.optional {
                        skipped[i] = true;
                        continue;
                    }
                    mkdir_p(&e.path, true, &mut ops);
                }
                ops.push(Op::Mount {
                    source: cs("tmpfs"),
                    target: path,
                    fstype: cs("tmpfs"),
                    flags: e.flags,
                    data: (!e.data.is_empty())
                        .then(|| CString::new(e.data.clone()).unwrap_or_default()),
                    tolerate: tolerate_missing(e.optional),
                });
            }
            Mode::Mqueue => ops.push(Op::Mount {
                source: cs("mqueue"),
                target: path,
                fstype: cs("mqueue"),
                flags: e.flags,
                data: None,
                tolerate: tolerate_missing(e.optional),
            }),
        }
    }
    // Round 2: read-only, recursively, except the subtrees of other entries.
    for e in entries
        .iter()
        .zip(&skipped)
        .filter(|(_, s)| !**s)
        .map(|(e, _)| e)
    {
        if e.read_only || e.mode == Mode::PrivateDev {
            ops.push(Op::SetAttr {
                path: cstr(&e.path),
                set: MOUNT_ATTR_RDONLY,
                clr: 0,
                recursive: e.mode != Mode::PrivateDev,
                deny: Deny::All,
            });
        }
    }
    // Round 3: noexec / exec.
    for e in entries
        .iter()
        .zip(&skipped)
        .filter(|(_, s)| !**s)
        .map(|(e, _)| e)
    {
        if let Some(exec) = e.exec {
            let (set, clr) = if exec {
                (0, MOUNT_ATTR_NOEXEC)
            } else {
                (MOUNT_ATTR_NOEXEC, 0)
            };
            ops.push(Op::SetAttr {
                path: cstr(&e.path),
                set,
                clr,
                recursive: true,
                deny: Deny::Exec,
            });
        }
    }
    ops
}

// ---------------------------------------------------------------------------------------------
// Per-unit runtime state (manager side)
// ---------------------------------------------------------------------------------------------

/// The inaccessible nodes (systemd's `/run/systemd/inaccessible/*`), each as an `O_PATH`
/// descriptor and the `/proc/self/fd/N` path the child binds from — a path that keeps
/// working when the plan has already hidden the runtime directory they live in.
#[derive(Debug)]
struct Nodes {
    reg: Node,
    dir: Node,
    fifo: Node,
    sock: Node,
    chr: Node,
    blk: Node,
}

/// One inaccessible node.
#[derive(Debug)]
struct Node {
    fd: OwnedFd,
    /// Its path below the runtime directory.
    path: CString,
    /// `/proc/self/fd/N`.
    proc_path: CString,
}

impl Nodes {
    fn all(&self) -> [&Node; 6] {
        [
            &self.reg, &self.dir, &self.fifo, &self.sock, &self.chr, &self.blk,
        ]
    }
}

impl Nodes {
    /// Create (if needed) and open the nodes below `dir`.
    fn open(dir: &Path) -> std::io::Result<Nodes> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        match std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(dir)
        {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let mknod = |name: &str, kind: libc::mode_t| -> std::io::Result<()> {
            let p = cstr(dir.join(name));
            // SAFETY: mknod with a valid C string.
            if unsafe { libc::mknod(p.as_ptr(), kind, libc::makedev(0, 0)) } < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::AlreadyExists {
                    return Err(e);
                }
            }
            Ok(())
        };
        match std::fs::DirBuilder::new()
            .mode(0o000)
            .create(dir.join("dir"))
        {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        mknod("reg", libc::S_IFREG)?;
        mknod("fifo", libc::S_IFIFO)?;
        mknod("sock", libc::S_IFSOCK)?;
        // Without CAP_MKNOD (or under a device policy) the socket node stands in for the
        // device nodes: the kernel binds it over any non-directory.
        let chr = if mknod("chr", libc::S_IFCHR).is_ok() {
            "chr"
        } else {
            "sock"
        };
        let blk = if mknod("blk", libc::S_IFBLK).is_ok() {
            "blk"
        } else {
            "sock"
        };
        for name in ["dir", "reg", "fifo", "sock", chr, blk] {
            std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o000))?;
        }
        let open = |name: &str| -> std::io::Result<Node> {
            let p = cstr(dir.join(name));
            // SAFETY: open with a valid C string; the fd is owned by us.
            let fd = unsafe {
                libc::open(
                    p.as_ptr(),
                    libc::O_PATH | libc::O_CLOEXEC | libc::O_NOFOLLOW,
                )
            };
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            let fd = high_fd(fd)?;
            let proc_path = cs(&format!("/proc/self/fd/{}", fd.as_raw_fd()));
            Ok(Node {
                fd,
                path: p,
                proc_path,
            })
        };
        Ok(Nodes {
            reg: open("reg")?,
            dir: open("dir")?,
            fifo: open("fifo")?,
            sock: open("sock")?,
            chr: open(chr)?,
            blk: open(blk)?,
        })
    }
}

/// What a unit's processes share while it is active.
#[derive(Debug, Default)]
struct UnitNs {
    /// The two `systemd-private-*` directories (their `tmp` subdirectories are bound).
    private_tmp: Option<(PathBuf, PathBuf)>,
    net: Option<OwnedFd>,
    ipc: Option<OwnedFd>,
}

/// A unit's shared namespace state in a handover snapshot.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NamespaceExport {
    /// The unit's `/tmp/systemd-private-*` and `/var/tmp/systemd-private-*` directories.
    pub private_tmp: Option<(PathBuf, PathBuf)>,
    /// Its network namespace.
    pub net: Option<HandedFd>,
    /// Its IPC namespace.
    pub ipc: Option<HandedFd>,
}

/// Per-unit namespace state of the supervisor. See the module docs.
#[derive(Debug)]
pub(crate) struct Namespaces {
    /// unitd's own runtime directory (`/run/unitd`): inaccessible nodes and the scratch
    /// mount point live below it.
    own_dir: PathBuf,
    nodes: Option<Nodes>,
    units: HashMap<UnitId, UnitNs>,
}

/// The 32 hex digits of the boot id (`/proc/sys/kernel/random/boot_id` without dashes).
fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().replace('-', ""))
        .unwrap_or_else(|_| "0".repeat(32))
}

/// `mkdtemp(prefix + "XXXXXX")` with mode 0700, then `tmp` inside it with mode 01777.
fn private_tmp_dir(prefix: &Path) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let mut template = prefix.as_os_str().as_bytes().to_vec();
    template.extend_from_slice(b"XXXXXX\0");
    // SAFETY: mkdtemp rewrites the NUL-terminated template in place.
    let r = unsafe { libc::mkdtemp(template.as_mut_ptr().cast()) };
    if r.is_null() {
        return Err(std::io::Error::last_os_error());
    }
    template.pop();
    let dir = PathBuf::from(std::ffi::OsStr::from_bytes(&template));
    let tmp = dir.join("tmp");
    std::fs::DirBuilder::new().mode(0o1777).create(&tmp)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777))?;
    Ok(dir)
}

/// A new namespace of `kind` (`CLONE_NEWNET`/`CLONE_NEWIPC`), created in a short-lived thread
/// (namespaces are per thread) so the manager itself never enters it. A network namespace
/// gets its loopback interface up, as systemd's.
fn new_namespace(kind: libc::c_int) -> std::io::Result<OwnedFd> {
    std::thread::spawn(move || -> std::io::Result<OwnedFd> {
        // SAFETY: unshare in this thread only; it ends right after.
        if unsafe { libc::unshare(kind) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if kind == libc::CLONE_NEWNET {
            loopback_up()?;
        }
        let name = if kind == libc::CLONE_NEWNET {
            "/proc/thread-self/ns/net"
        } else {
            "/proc/thread-self/ns/ipc"
        };
        let p = cs(name);
        // SAFETY: open with a valid C string; the fd is owned by us.
        let fd = unsafe { libc::open(p.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        high_fd(unsafe { OwnedFd::from_raw_fd(fd) })
    })
    .join()
    .unwrap_or_else(|_| Err(std::io::Error::other("namespace thread panicked")))
}

/// Bring `lo` up in the calling thread's network namespace (`SIOCSIFFLAGS`).
fn loopback_up() -> std::io::Result<()> {
    // SAFETY: a datagram socket and two ioctls on a zeroed ifreq naming "lo".
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if s < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let s = OwnedFd::from_raw_fd(s);
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (i, b) in b"lo".iter().enumerate() {
            ifr.ifr_name[i] = *b as libc::c_char;
        }
        if libc::ioctl(s.as_raw_fd(), libc::SIOCGIFFLAGS, &mut ifr) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        ifr.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(s.as_raw_fd(), libc::SIOCSIFFLAGS, &ifr) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

fn io_errno(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

impl Namespaces {
    /// State for a manager whose runtime root (`%t`: `/run` or `$XDG_RUNTIME_DIR`) is
    /// `runtime_root`.
    pub fn new(runtime_root: &Path) -> Namespaces {
        Namespaces {
            own_dir: runtime_root.join("unitd"),
            nodes: None,
            units: HashMap::new(),
        }
    }

    /// The plan for one spawn, or `None` when it gets no namespaces (nothing asked, `+`
    /// command, or an unprivileged manager). `directory_roots` are the `*Directory=` roots.
    pub fn plan(
        &mut self,
        req: &SpawnRequest,
        privileged: bool,
        directory_roots: &[PathBuf; 5],
    ) -> Option<Plan> {
        let s = &req.exec.sandbox;
        if !privileged || req.command.flags.full_privileges {
            return None;
        }
        // PrivateIPC= mounts its own mqueue, ProtectHostname= freezes the hostname files.
        let mount_ns = s.needs_mount_namespace() || s.private_ipc || s.protect_hostname;
        if !mount_ns && !s.private_network && !s.private_ipc && !s.protect_hostname {
            return None;
        }
        let mut plan = Plan {
            error: None,
            join: Vec::new(),
            new_uts: s.protect_hostname,
            mounts: None,
        };
        let unit = self.units.entry(req.unit).or_default();
        for (on, kind, code) in [
            (s.private_network, libc::CLONE_NEWNET, EXIT_NETWORK),
            (s.private_ipc, libc::CLONE_NEWIPC, EXIT_NAMESPACE),
        ] {
            if !on {
                continue;
            }
            let slot = if kind == libc::CLONE_NEWNET {
                &mut unit.net
            } else {
                &mut unit.ipc
            };
            if slot.is_none() {
                match new_namespace(kind) {
                    Ok(fd) => *slot = Some(fd),
                    Err(e) => {
                        tracing::warn!("{}: cannot create a namespace: {e}", req.unit_name);
                        plan.error.get_or_insert((code, io_errno(&e)));
                        continue;
                    }
                }
            }
            if let Some(fd) = slot {
                plan.join.push((fd.as_raw_fd(), kind, code));
            }
        }
        if s.private_tmp && unit.private_tmp.is_none() {
            let prefix = format!("systemd-private-{}-{}-", boot_id(), req.unit_name);
            let made = private_tmp_dir(&Path::new("/tmp").join(&prefix)).and_then(|tmp| {
                match private_tmp_dir(&Path::new("/var/tmp").join(&prefix)) {
                    Ok(var_tmp) => Ok((tmp, var_tmp)),
                    Err(e) => {
                        let _ = std::fs::remove_dir_all(&tmp);
                        Err(e)
                    }
                }
            });
            match made {
                Ok(dirs) => unit.private_tmp = Some(dirs),
                Err(e) => {
                    tracing::warn!("{}: cannot set up PrivateTmp=: {e}", req.unit_name);
                    plan.error.get_or_insert((EXIT_NAMESPACE, io_errno(&e)));
                }
            }
        }
        if !mount_ns {
            return Some(plan);
        }
        let private_tmp = unit
            .private_tmp
            .as_ref()
            .map(|(a, b)| (a.join("tmp"), b.join("tmp")));
        if s.private_tmp && private_tmp.is_none() {
            return Some(plan);
        }
        if self.nodes.is_none() {
            match Nodes::open(&self.own_dir.join("inaccessible")) {
                Ok(n) => self.nodes = Some(n),
                Err(e) => {
                    tracing::warn!("cannot create the inaccessible nodes: {e}");
                    plan.error.get_or_insert((EXIT_NAMESPACE, io_errno(&e)));
                    return Some(plan);
                }
            }
        }
        let scratch = self.own_dir.join("namespace-scratch");
        if let Err(e) = std::fs::create_dir_all(&scratch) {
            plan.error.get_or_insert((EXIT_NAMESPACE, io_errno(&e)));
            return Some(plan);
        }
        let mut writable = Vec::new();
        for t in ExecDirectoryType::ALL {
            let dir = &req.exec.directories[t.index()];
            let root = &directory_roots[t.index()];
            writable.extend(dir.paths.iter().map(|p| root.join(p)));
            writable.extend(dir.symlinks.iter().map(|(_, l)| root.join(l)));
        }
        let mut raw = entries(
            s,
            &writable,
            private_tmp
                .as_ref()
                .map(|(a, b)| (a.as_path(), b.as_path())),
        );
        for e in &mut raw {
            if !is_normal_absolute(&e.path) {
                plan.error.get_or_insert((EXIT_NAMESPACE, libc::EINVAL));
                return Some(plan);
            }
            e.path = resolve(&e.path);
            if let Some(src) = &e.source {
                e.source = Some(resolve(src));
            }
        }
        let list = normalize(raw);
        let host = Host {
            nodes: self.nodes.as_ref().expect("opened above"),
            scratch: &scratch,
        };
        let ops = compile(&list, &host);
        let deny_all = list.iter().map(|e| cstr(&e.path)).collect();
        let deny_exec = list
            .iter()
            .filter(|e| e.exec.is_some())
            .map(|e| cstr(&e.path))
            .collect();
        let info_len = std::fs::read("/proc/self/mountinfo")
            .map(|v| v.len())
            .unwrap_or(0)
            * 2
            + (256 << 10);
        let mut info = vec![0u8; info_len];
        let mut scratch_buf = vec![0u8; libc::PATH_MAX as usize + 1];
        plan.mounts = Some(MountPlan {
            ops,
            deny_all,
            deny_exec,
            propagation: match s.mount_flags {
                None | Some(MountPropagation::Shared) => libc::MS_SHARED,
                Some(MountPropagation::Slave) => libc::MS_SLAVE,
                Some(MountPropagation::Private) => libc::MS_PRIVATE,
            },
            info: info.as_mut_ptr(),
            info_len,
            scratch: scratch_buf.as_mut_ptr(),
            scratch_len: scratch_buf.len(),
            _bufs: (info, scratch_buf),
        });
        Some(plan)
    }

    /// The unit went inactive: remove its private `/tmp` directories and close its network
    /// and IPC namespaces (systemd's "exec runtime" ends with the unit's active phase).
    pub fn release(&mut self, unit: UnitId) {
        let Some(state) = self.units.remove(&unit) else {
            return;
        };
        if let Some((tmp, var_tmp)) = state.private_tmp {
            for d in [tmp, var_tmp] {
                if let Err(e) = std::fs::remove_dir_all(&d)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::warn!("Failed to remove {}: {e}", d.display());
                }
            }
        }
    }

    /// The shared state, for a daemon-reexec handover (descriptors stay owned here).
    pub fn export(&self) -> Vec<(UnitId, NamespaceExport)> {
        let mut v: Vec<_> = self
            .units
            .iter()
            .map(|(u, s)| {
                (
                    *u,
                    NamespaceExport {
                        private_tmp: s.private_tmp.clone(),
                        net: s.net.as_ref().and_then(|f| HandedFd::of(f.as_raw_fd())),
                        ipc: s.ipc.as_ref().and_then(|f| HandedFd::of(f.as_raw_fd())),
                    },
                )
            })
            .collect();
        v.sort_by_key(|(u, _)| *u);
        v
    }

    /// Take over a predecessor's state; `claim` owns a handed-over descriptor.
    pub fn import(
        &mut self,
        state: Vec<(UnitId, NamespaceExport)>,
        mut claim: impl FnMut(HandedFd) -> Option<OwnedFd>,
    ) {
        for (unit, e) in state {
            let s = UnitNs {
                private_tmp: e.private_tmp,
                net: e.net.and_then(&mut claim),
                ipc: e.ipc.and_then(&mut claim),
            };
            self.units.insert(unit, s);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The child (async-signal-safe, no allocation)
// ---------------------------------------------------------------------------------------------

fn errno() -> i32 {
    // SAFETY: reading the thread's errno is async-signal-safe.
    unsafe { *libc::__errno_location() }
}

fn tolerated(t: Tolerate, e: i32) -> bool {
    match t {
        Tolerate::Nothing => false,
        Tolerate::Missing => e == libc::ENOENT,
        Tolerate::Any => true,
    }
}

/// `Ok` when the call succeeded or its error is tolerated.
fn check(r: libc::c_int, t: Tolerate) -> Result<(), i32> {
    if r >= 0 {
        return Ok(());
    }
    let e = errno();
    if tolerated(t, e) { Ok(()) } else { Err(e) }
}

/// Whether `path` is the root of a mount (`None`: the kernel cannot tell).
unsafe fn is_mount_root(path: &CString) -> Result<Option<bool>, i32> {
    const STATX_ATTR_MOUNT_ROOT: u64 = 0x2000;
    unsafe {
        let mut stx: libc::statx = std::mem::zeroed();
        if libc::statx(
            libc::AT_FDCWD,
            path.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW | libc::AT_NO_AUTOMOUNT,
            0,
            &mut stx,
        ) < 0
        {
            return Err(errno());
        }
        if stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT == 0 {
            return Ok(None);
        }
        Ok(Some(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT != 0))
    }
}

/// `mount_setattr(2)`'s argument.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// `MS_*` flags named in a mountinfo per-mount option field (`rw,nosuid,relatime`).
fn option_flags(opts: &[u8]) -> libc::c_ulong {
    let mut f = 0;
    for o in opts.split(|b| *b == b',') {
        f |= match o {
            b"ro" => libc::MS_RDONLY,
            b"nosuid" => libc::MS_NOSUID,
            b"nodev" => libc::MS_NODEV,
            b"noexec" => libc::MS_NOEXEC,
            b"noatime" => libc::MS_NOATIME,
            b"nodiratime" => libc::MS_NODIRATIME,
            b"relatime" => libc::MS_RELATIME,
            _ => 0,
        };
    }
    f
}

/// Change the flags of the mount at `mp` (NUL-terminated), keeping the others.
unsafe fn set_attr_one(mp: &[u8], opts: &[u8], set: u64, clr: u64) -> Result<(), i32> {
    let attr = MountAttr {
        attr_set: set,
        attr_clr: clr,
        propagation: 0,
        userns_fd: 0,
    };
    unsafe {
        let r = libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            mp.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW | libc::AT_NO_AUTOMOUNT,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        );
        if r == 0 {
            return Ok(());
        }
        if errno() != libc::ENOSYS {
            return Err(errno());
        }
        // Old kernel: a bind remount must repeat every flag it keeps.
        let mut flags = option_flags(opts);
        let map = |a: u64| -> libc::c_ulong {
            (if a & MOUNT_ATTR_RDONLY != 0 {
                libc::MS_RDONLY
            } else {
                0
            }) | (if a & MOUNT_ATTR_NOEXEC != 0 {
                libc::MS_NOEXEC
            } else {
                0
            })
        };
        flags = (flags & !map(clr)) | map(set);
        if libc::mount(
            std::ptr::null(),
            mp.as_ptr().cast(),
            std::ptr::null(),
            libc::MS_BIND | libc::MS_REMOUNT | flags,
            std::ptr::null(),
        ) < 0
        {
            return Err(errno());
        }
        Ok(())
    }
}

/// `path` (no NUL) is `prefix` or below it.
fn bytes_under(path: &[u8], prefix: &[u8]) -> bool {
    if prefix == b"/" {
        return path.first() == Some(&b'/');
    }
    path.starts_with(prefix) && (path.len() == prefix.len() || path[prefix.len()] == b'/')
}

/// Unescape a mountinfo path field (`\040` & co) into `out`, NUL-terminated; returns the
/// length without the NUL, or `None` when it does not fit.
fn unescape(field: &[u8], out: &mut [u8]) -> Option<usize> {
    let mut i = 0;
    let mut n = 0;
    while i < field.len() {
        let b = if field[i] == b'\\'
            && i + 4 <= field.len()
            && field[i + 1..i + 4]
                .iter()
                .all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (field[i + 1] - b'0') as u32 * 64
                + (field[i + 2] - b'0') as u32 * 8
                + (field[i + 3] - b'0') as u32;
            i += 4;
            v as u8
        } else {
            i += 1;
            field[i - 1]
        };
        if n + 1 >= out.len() {
            return None;
        }
        out[n] = b;
        n += 1;
    }
    out[n] = 0;
    Some(n)
}

/// Read `/proc/self/mountinfo` into the plan's buffer; returns its length.
unsafe fn read_mountinfo(m: &MountPlan) -> Result<usize, i32> {
    unsafe {
        let fd = libc::open(
            c"/proc/self/mountinfo".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return Err(errno());
        }
        let mut total = 0usize;
        loop {
            if total == m.info_len {
                libc::close(fd);
                return Err(libc::ENOBUFS);
            }
            let r = libc::read(fd, m.info.add(total).cast(), m.info_len - total);
            if r < 0 {
                let e = errno();
                if e == libc::EINTR {
                    continue;
                }
                libc::close(fd);
                return Err(e);
            }
            if r == 0 {
                break;
            }
            total += r as usize;
        }
        libc::close(fd);
        Ok(total)
    }
}

/// Apply `set`/`clr` to the mount at `prefix` and (recursively) every mount below it, except
/// the subtrees of the other entries in `deny`.
unsafe fn set_attr(
    m: &MountPlan,
    prefix: &CString,
    set: u64,
    clr: u64,
    recursive: bool,
    deny: Deny,
) -> Result<(), i32> {
    let prefix_b = prefix.as_bytes();
    let deny_list = match deny {
        Deny::All => &m.deny_all,
        Deny::Exec => &m.deny_exec,
    };
    unsafe {
        let len = read_mountinfo(m)?;
        let info = std::slice::from_raw_parts(m.info, len);
        let scratch = std::slice::from_raw_parts_mut(m.scratch, m.scratch_len);
        for line in info.split(|b| *b == b'\n') {
            let mut fields = line.split(|b| *b == b' ');
            let (Some(mp_field), Some(opts)) = (fields.nth(4), fields.next()) else {
                continue;
            };
            let Some(n) = unescape(mp_field, scratch) else {
                continue;
            };
            let mp = &scratch[..n];
            let top = mp == prefix_b;
            if !(if recursive {
                bytes_under(mp, prefix_b)
            } else {
                top
            }) {
                continue;
            }
            if deny_list.iter().any(|d| {
                let d = d.as_bytes();
                d != prefix_b && bytes_under(d, prefix_b) && bytes_under(mp, d)
            }) {
                continue;
            }
            if let Err(e) = set_attr_one(&scratch[..n + 1], opts, set, clr)
                && top
            {
                return Err(e);
            }
            // Below the top, mounts hidden under others may not be reachable: skip them.
        }
        Ok(())
    }
}

unsafe fn run_op(m: &MountPlan, op: &Op) -> Result<(), i32> {
    let null = std::ptr::null::<libc::c_char>();
    unsafe {
        match op {
            Op::Fail(e) => Err(*e),
            Op::Mkdir {
                path,
                mode,
                tolerate,
            } => {
                if libc::mkdir(path.as_ptr(), *mode) < 0 && errno() != libc::EEXIST {
                    return check(-1, *tolerate);
                }
                Ok(())
            }
            Op::Touch { path, tolerate } => {
                let fd = libc::open(
                    path.as_ptr(),
                    libc::O_WRONLY | libc::O_CREAT | libc::O_CLOEXEC | libc::O_NOCTTY,
                    0o644,
                );
                if fd >= 0 {
                    libc::close(fd);
                }
                check(fd, *tolerate)
            }
            Op::Symlink { target, link } => {
                if libc::symlink(target.as_ptr(), link.as_ptr()) < 0 && errno() != libc::EEXIST {
                    return Err(errno());
                }
                Ok(())
            }
            Op::Mknod {
                path,
                mode,
                dev,
                host,
            } => {
                if libc::mknod(path.as_ptr(), *mode, *dev) == 0 {
                    return Ok(());
                }
                let e = errno();
                if e != libc::EPERM && e != libc::EACCES {
                    return Err(e);
                }
                // No CAP_MKNOD: bind the host's node instead.
                let fd = libc::open(
                    path.as_ptr(),
                    libc::O_WRONLY | libc::O_CREAT | libc::O_CLOEXEC | libc::O_NOCTTY,
                    0o644,
                );
                if fd < 0 {
                    return Err(errno());
                }
                libc::close(fd);
                check(
                    libc::mount(
                        host.as_ptr(),
                        path.as_ptr(),
                        null,
                        libc::MS_BIND,
                        null.cast(),
                    ),
                    Tolerate::Nothing,
                )
            }
            Op::Bind {
                source,
                target,
                recursive,
                tolerate,
            } => {
                let flags = libc::MS_BIND | if *recursive { libc::MS_REC } else { 0 };
                check(
                    libc::mount(source.as_ptr(), target.as_ptr(), null, flags, null.cast()),
                    *tolerate,
                )
            }
            Op::SelfBind { path, tolerate } => match is_mount_root(path) {
                Ok(Some(true)) => Ok(()),
                Ok(_) => check(
                    libc::mount(
                        path.as_ptr(),
                        path.as_ptr(),
                        null,
                        libc::MS_BIND | libc::MS_REC,
                        null.cast(),
                    ),
                    *tolerate,
                ),
                Err(e) if tolerated(*tolerate, e) => Ok(()),
                Err(e) => Err(e),
            },
            Op::Mount {
                source,
                target,
                fstype,
                flags,
                data,
                tolerate,
            } => check(
                libc::mount(
                    source.as_ptr(),
                    target.as_ptr(),
                    fstype.as_ptr(),
                    *flags,
                    data.as_ref().map_or(null, |d| d.as_ptr()).cast(),
                ),
                *tolerate,
            ),
            Op::Proc { target, data } => {
                let flags = libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_NODEV;
                let proc_ = c"proc".as_ptr();
                if libc::mount(proc_, target.as_ptr(), proc_, flags, data.as_ptr().cast()) == 0 {
                    return Ok(());
                }
                match errno() {
                    // The kernel does not know hidepid=/subset= per instance: a plain one
                    // rather than changing the host's.
                    libc::EINVAL => check(
                        libc::mount(proc_, target.as_ptr(), proc_, flags, null.cast()),
                        Tolerate::Nothing,
                    ),
                    // Not allowed to mount procfs here: keep the existing /proc.
                    libc::EPERM => Ok(()),
                    e => Err(e),
                }
            }
            Op::Move { source, target } => check(
                libc::mount(
                    source.as_ptr(),
                    target.as_ptr(),
                    null,
                    libc::MS_MOVE,
                    null.cast(),
                ),
                Tolerate::Nothing,
            ),
            Op::Reopen { path, fd } => {
                let n = libc::open(
                    path.as_ptr(),
                    libc::O_PATH | libc::O_CLOEXEC | libc::O_NOFOLLOW,
                );
                if n < 0 {
                    return Err(errno());
                }
                let r = libc::dup3(n, *fd, libc::O_CLOEXEC);
                libc::close(n);
                check(r, Tolerate::Nothing)
            }
            Op::UmountAll { path } => {
                for _ in 0..64 {
                    if libc::umount2(path.as_ptr(), libc::MNT_DETACH) < 0 {
                        break;
                    }
                }
                Ok(())
            }
            Op::SetAttr {
                path,
                set,
                clr,
                recursive,
                deny,
            } => set_attr(m, path, *set, *clr, *recursive, *deny),
        }
    }
}

/// Enter the namespaces of `plan` in the child after fork. Async-signal-safe, no allocation.
/// `Err((exit code, errno))` = fail the spawn with it.
///
/// # Safety
/// Only in a freshly forked child, with the plan prepared in the parent.
pub(crate) unsafe fn enter(plan: &Plan) -> Result<(), (i32, i32)> {
    if let Some(e) = plan.error {
        return Err(e);
    }
    unsafe {
        for &(fd, kind, code) in &plan.join {
            if libc::setns(fd, kind) < 0 {
                return Err((code, errno()));
            }
        }
        if let Some(m) = &plan.mounts {
            // Node and directory modes as planned, whatever UMask= says.
            let old = libc::umask(0);
            let r = enter_mounts(m);
            libc::umask(old);
            r.map_err(|e| (EXIT_NAMESPACE, e))?;
        }
        if plan.new_uts && libc::unshare(libc::CLONE_NEWUTS) < 0 {
            return Err((EXIT_NAMESPACE, errno()));
        }
    }
    Ok(())
}

unsafe fn enter_mounts(m: &MountPlan) -> Result<(), i32> {
    let null = std::ptr::null::<libc::c_char>();
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) < 0 {
            return Err(errno());
        }
        // Nothing done here may propagate back to the host.
        if libc::mount(
            null,
            c"/".as_ptr(),
            null,
            libc::MS_SLAVE | libc::MS_REC,
            null.cast(),
        ) < 0
        {
            return Err(errno());
        }
        for op in &m.ops {
            run_op(m, op)?;
        }
        if libc::mount(
            null,
            c"/".as_ptr(),
            null,
            m.propagation | libc::MS_REC,
            null.cast(),
        ) < 0
        {
            return Err(errno());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::sandbox::TmpFs;

    fn pe(p: &str, optional: bool) -> PathEntry {
        PathEntry {
            path: p.into(),
            optional,
        }
    }

    fn summary(v: &[Entry]) -> Vec<(String, Mode)> {
        v.iter()
            .map(|e| (e.path.display().to_string(), e.mode))
            .collect()
    }

    fn s(v: &[(&str, Mode)]) -> Vec<(String, Mode)> {
        v.iter().map(|(p, m)| (p.to_string(), *m)).collect()
    }

    #[test]
    fn strict_with_state_directory_and_private_tmp() {
        let sb = Sandbox {
            protect_system: ProtectSystem::Strict,
            private_tmp: true,
            ..Sandbox::default()
        };
        let tmp = Path::new("/tmp/systemd-private-x-a.service-1/tmp");
        let vtmp = Path::new("/var/tmp/systemd-private-x-a.service-1/tmp");
        let list = normalize(entries(
            &sb,
            &[PathBuf::from("/var/lib/a")],
            Some((tmp, vtmp)),
        ));
        assert_eq!(
            summary(&list),
            s(&[
                ("/", Mode::ReadOnly),
                ("/dev", Mode::ReadWriteImplicit),
                ("/home", Mode::ReadWriteImplicit),
                ("/proc", Mode::ReadWriteImplicit),
                ("/root", Mode::ReadWriteImplicit),
                ("/run/user", Mode::ReadWriteImplicit),
                ("/sys", Mode::ReadWriteImplicit),
                ("/tmp", Mode::PrivateTmp),
                ("/var/lib/a", Mode::ReadWrite),
                ("/var/tmp", Mode::PrivateTmp),
            ])
        );
        assert_eq!(list[7].source.as_deref(), Some(tmp));
        assert!(list[0].read_only && !list[1].read_only);
    }

    #[test]
    fn the_more_restrictive_entry_for_a_path_wins_and_hides_what_is_below() {
        let sb = Sandbox {
            read_write_paths: vec![pe("/srv/a", false), pe("/srv/b/c", true)],
            read_only_paths: vec![pe("/srv/a", false), pe("/srv", false)],
            inaccessible_paths: vec![pe("/srv/b", false)],
            no_exec_paths: vec![pe("/srv", false)],
            ..Sandbox::default()
        };
        let list = normalize(entries(&sb, &[], None));
        assert_eq!(
            summary(&list),
            s(&[("/srv", Mode::ReadOnly), ("/srv/b", Mode::Inaccessible)])
        );
        // /srv is read-only and noexec (merged); for /srv/a read-only beats ReadWritePaths=,
        // which makes it redundant below the read-only /srv; /srv/b/c is hidden.
        assert!(list[0].read_only);
        assert_eq!(list[0].exec, Some(false));
        assert!(!list[1].optional);
        let alone = Sandbox {
            protect_control_groups: true,
            ..Sandbox::default()
        };
        assert_eq!(
            summary(&normalize(entries(&alone, &[], None))),
            s(&[("/sys/fs/cgroup", Mode::ReadOnly)])
        );
    }

    #[test]
    fn redundant_entries_are_dropped() {
        let sb = Sandbox {
            protect_system: ProtectSystem::Full,
            read_only_paths: vec![pe("/usr/share", false)],
            read_write_paths: vec![pe("/opt/w", false), pe("/etc/app", false)],
            ..Sandbox::default()
        };
        let list = normalize(entries(&sb, &[], None));
        let paths: Vec<_> = summary(&list).into_iter().map(|(p, _)| p).collect();
        // /usr/share repeats /usr; /opt/w is writable anyway; /etc/app is exempt from /etc.
        assert!(!paths.contains(&"/usr/share".to_string()), "{paths:?}");
        assert!(!paths.contains(&"/opt/w".to_string()), "{paths:?}");
        assert!(paths.contains(&"/etc/app".to_string()), "{paths:?}");
        assert!(paths.contains(&"/etc".to_string()) && paths.contains(&"/usr".to_string()));
    }

    #[test]
    fn kernel_and_control_group_protection() {
        let sb = Sandbox {
            protect_kernel_tunables: true,
            protect_control_groups: true,
            protect_kernel_modules: true,
            protect_kernel_logs: true,
            ..Sandbox::default()
        };
        let list = normalize(entries(&sb, &[], None));
        let find = |p: &str| list.iter().find(|e| e.path == Path::new(p)).map(|e| e.mode);
        assert_eq!(find("/sys"), Some(Mode::ReadOnly));
        // ProtectControlGroups= beats the tunables' writable exemption; read-only below a
        // read-only /sys, the entry is redundant (so /sys's recursive pass covers it).
        assert_eq!(find("/sys/fs/cgroup"), None);
        assert_eq!(find("/proc/sys"), Some(Mode::ReadOnly));
        assert_eq!(find("/proc/kcore"), Some(Mode::Inaccessible));
        assert_eq!(find("/proc/kmsg"), Some(Mode::Inaccessible));
        assert_eq!(find("/dev/kmsg"), Some(Mode::Inaccessible));
        assert_eq!(find("/usr/lib/modules"), Some(Mode::Inaccessible));
        assert_eq!(find("/sys/fs/selinux"), Some(Mode::ReadWriteImplicit));
    }

    #[test]
    fn home_tmpfs_proc_and_bind_entries() {
        let sb = Sandbox {
            protect_home: ProtectHome::Tmpfs,
            protect_proc: ProtectProc::Invisible,
            proc_subset: ProcSubset::Pid,
            bind_paths: vec![BindPath {
                source: "/srv/data".into(),
                target: "/data".into(),
                optional: true,
                recursive: false,
                read_only: true,
            }],
            temporary_filesystems: vec![TmpFs {
                path: "/var/empty".into(),
                options: "ro,mode=0700".into(),
            }],
            ..Sandbox::default()
        };
        let list = normalize(entries(&sb, &[], None));
        let get = |p: &str| list.iter().find(|e| e.path == Path::new(p)).unwrap();
        let home = get("/home");
        assert_eq!(home.mode, Mode::Tmpfs);
        assert!(home.read_only && home.optional);
        assert_eq!(home.data, "mode=0755,size=4m,nr_inodes=1k");
        assert_eq!(home.flags, libc::MS_NODEV | libc::MS_STRICTATIME);
        let proc_ = get("/proc");
        assert_eq!(proc_.data, "hidepid=invisible,subset=pid");
        let data = get("/data");
        assert_eq!(data.mode, Mode::Bind);
        assert!(data.read_only && !data.recursive && data.optional);
        let empty = get("/var/empty");
        assert!(empty.read_only && !empty.optional);
        assert_eq!(empty.data, "mode=0700");
    }

    #[test]
    fn mount_option_strings() {
        let (f, d) = mount_options("ro,nosuid,size=10m,mode=0755,exec", libc::MS_NOEXEC);
        assert_eq!(f, libc::MS_RDONLY | libc::MS_NOSUID);
        assert_eq!(d, "size=10m,mode=0755");
        let (f, d) = mount_options("", libc::MS_NODEV);
        assert_eq!((f, d.as_str()), (libc::MS_NODEV, ""));
    }

    #[test]
    fn mountinfo_helpers() {
        let mut out = [0u8; 64];
        let n = unescape(br"/mnt/a\040b\134c", &mut out).unwrap();
        assert_eq!(&out[..n], b"/mnt/a b\\c");
        assert_eq!(out[n], 0);
        assert!(unescape(b"/a/very/long/path", &mut [0u8; 4]).is_none());
        assert!(bytes_under(b"/usr/lib", b"/usr"));
        assert!(bytes_under(b"/usr", b"/usr"));
        assert!(!bytes_under(b"/usrx", b"/usr"));
        assert!(bytes_under(b"/anything", b"/"));
        assert_eq!(
            option_flags(b"ro,nosuid,nodev,relatime"),
            libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_RELATIME
        );
    }

    #[test]
    fn unit_state_is_released_and_handed_over() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = private_tmp_dir(&dir.path().join("systemd-private-x-a.service-")).unwrap();
        let var_tmp = private_tmp_dir(&dir.path().join("var-")).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            let md = std::fs::metadata(&tmp).unwrap();
            assert_eq!(md.permissions().mode() & 0o7777, 0o700);
            let md = std::fs::metadata(tmp.join("tmp")).unwrap();
            assert_eq!(md.permissions().mode() & 0o7777, 0o1777);
        }
        let (r, _w) = super::super::spawn::pipe_cloexec().unwrap();
        let mut ns = Namespaces::new(dir.path());
        ns.units.insert(
            UnitId(7),
            UnitNs {
                private_tmp: Some((tmp.clone(), var_tmp.clone())),
                net: Some(r),
                ipc: None,
            },
        );
        let export = ns.export();
        assert_eq!(export.len(), 1);
        assert_eq!(
            export[0].1.private_tmp,
            Some((tmp.clone(), var_tmp.clone()))
        );
        let handed = export[0].1.net.unwrap();
        // The successor claims the descriptor (here: the same process takes it back).
        let mut next = Namespaces::new(dir.path());
        let owned = ns.units.remove(&UnitId(7)).unwrap().net.unwrap();
        let raw = owned.as_raw_fd();
        std::mem::forget(owned);
        next.import(export, |h| h.claim());
        assert_eq!(
            next.units[&UnitId(7)].net.as_ref().map(|f| f.as_raw_fd()),
            Some(raw)
        );
        assert_eq!(handed.fd, raw);
        // The unit went inactive: its directories go.
        next.release(UnitId(7));
        assert!(!tmp.exists() && !var_tmp.exists());
        assert!(next.units.is_empty());
    }

    #[test]
    fn compiled_rounds_establish_mounts_before_changing_flags() {
        if !nix::unistd::getuid().is_root() {
            eprintln!("skipped: the inaccessible nodes need root (mknod)");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let nodes = Nodes::open(&dir.path().join("inaccessible")).unwrap();
        let scratch = dir.path().join("scratch");
        let sb = Sandbox {
            protect_system: ProtectSystem::Strict,
            private_devices: true,
            inaccessible_paths: vec![pe("/proc", false), pe("/nonexistent/x", true)],
            read_write_paths: vec![pe("/nonexistent/y", false)],
            no_exec_paths: vec![pe("/var", false)],
            ..Sandbox::default()
        };
        let list = normalize(entries(&sb, &[], None));
        let ops = compile(
            &list,
            &Host {
                nodes: &nodes,
                scratch: &scratch,
            },
        );
        let s = |c: &CString| c.to_str().unwrap().to_string();
        // The nodes are re-opened first, in the child's namespace.
        assert!(ops[..6].iter().all(|o| matches!(o, Op::Reopen { .. })));
        // The private /dev is built in the scratch mount, then moved over /dev.
        assert!(ops.iter().any(
            |o| matches!(o, Op::Move { source, target } if s(target) == "/dev"
                && s(source) == scratch.join("dev").display().to_string())
        ));
        // /proc is overmounted with the directory node; the missing optional path is
        // skipped; the missing mandatory one is attempted (and fails with ENOENT there).
        assert!(
            ops.iter()
                .any(|o| matches!(o, Op::Bind { source, target, .. }
            if s(target) == "/proc" && s(source) == s(&nodes.dir.proc_path)))
        );
        assert!(!ops.iter().any(|o| matches!(o, Op::Bind { target, .. }
            if s(target) == "/nonexistent/x")));
        assert!(ops.iter().any(
            |o| matches!(o, Op::SelfBind { path, tolerate: Tolerate::Nothing }
            if s(path) == "/nonexistent/y")
        ));
        // Every flag change comes after every mount.
        let first_attr = ops
            .iter()
            .position(|o| matches!(o, Op::SetAttr { .. }))
            .unwrap();
        assert!(
            ops[first_attr..]
                .iter()
                .all(|o| matches!(o, Op::SetAttr { .. }))
        );
        let attrs: Vec<_> = ops[first_attr..]
            .iter()
            .map(|o| match o {
                Op::SetAttr {
                    path,
                    set,
                    clr,
                    recursive,
                    deny,
                } => (s(path), *set, *clr, *recursive, *deny),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            attrs,
            vec![
                ("/".into(), MOUNT_ATTR_RDONLY, 0, true, Deny::All),
                ("/dev".into(), MOUNT_ATTR_RDONLY, 0, false, Deny::All),
                ("/proc".into(), MOUNT_ATTR_RDONLY, 0, true, Deny::All),
                ("/var".into(), MOUNT_ATTR_NOEXEC, 0, true, Deny::Exec),
            ]
        );
    }

    #[test]
    fn paths_resolve_through_existing_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink(&real, dir.path().join("link")).unwrap();
        let canon = std::fs::canonicalize(&real).unwrap();
        assert_eq!(resolve(&dir.path().join("link")), canon);
        assert_eq!(
            resolve(&dir.path().join("link/missing/x")),
            canon.join("missing/x")
        );
        assert!(is_normal_absolute(Path::new("/a/b")));
        assert!(!is_normal_absolute(Path::new("/a/../b")));
        assert!(!is_normal_absolute(Path::new("a/b")));
    }
}
