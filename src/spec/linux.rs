//! Linux ABI numbers the unit-file language names: signals, resource limits, capabilities,
//! secure bits, namespace flags, mount propagation, address families and errno values.
//!
//! Plain constants (the generic Linux numbering used by x86-64, arm64, riscv64, …), so the
//! parser and the engine can name `SIGTERM` or `RLIMIT_NOFILE` without linking against libc.
//! The supervisor, which hands these numbers to the kernel, checks them against libc in its
//! tests. `SIGRTMIN` is glibc's user-visible value (the kernel's 32 plus the two glibc reserves).

#![allow(missing_docs)]

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGQUIT: i32 = 3;
pub const SIGILL: i32 = 4;
pub const SIGTRAP: i32 = 5;
pub const SIGABRT: i32 = 6;
pub const SIGIOT: i32 = 6;
pub const SIGBUS: i32 = 7;
pub const SIGFPE: i32 = 8;
pub const SIGKILL: i32 = 9;
pub const SIGUSR1: i32 = 10;
pub const SIGSEGV: i32 = 11;
pub const SIGUSR2: i32 = 12;
pub const SIGPIPE: i32 = 13;
pub const SIGALRM: i32 = 14;
pub const SIGTERM: i32 = 15;
pub const SIGSTKFLT: i32 = 16;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGTSTP: i32 = 20;
pub const SIGTTIN: i32 = 21;
pub const SIGTTOU: i32 = 22;
pub const SIGURG: i32 = 23;
pub const SIGXCPU: i32 = 24;
pub const SIGXFSZ: i32 = 25;
pub const SIGVTALRM: i32 = 26;
pub const SIGPROF: i32 = 27;
pub const SIGWINCH: i32 = 28;
pub const SIGIO: i32 = 29;
pub const SIGPOLL: i32 = 29;
pub const SIGPWR: i32 = 30;
pub const SIGSYS: i32 = 31;
pub const SIGRTMIN: i32 = 34;
pub const SIGRTMAX: i32 = 64;

pub const RLIMIT_CPU: i32 = 0;
pub const RLIMIT_FSIZE: i32 = 1;
pub const RLIMIT_DATA: i32 = 2;
pub const RLIMIT_STACK: i32 = 3;
pub const RLIMIT_CORE: i32 = 4;
pub const RLIMIT_RSS: i32 = 5;
pub const RLIMIT_NPROC: i32 = 6;
pub const RLIMIT_NOFILE: i32 = 7;
pub const RLIMIT_MEMLOCK: i32 = 8;
pub const RLIMIT_AS: i32 = 9;
pub const RLIMIT_LOCKS: i32 = 10;
pub const RLIMIT_SIGPENDING: i32 = 11;
pub const RLIMIT_MSGQUEUE: i32 = 12;
pub const RLIMIT_NICE: i32 = 13;
pub const RLIMIT_RTPRIO: i32 = 14;
pub const RLIMIT_RTTIME: i32 = 15;

/// Signal names without `SIG`, in number order (aliases `IOT` and `POLL` after their twins).
pub const SIGNALS: &[(&str, i32)] = &[
    ("HUP", SIGHUP),
    ("INT", SIGINT),
    ("QUIT", SIGQUIT),
    ("ILL", SIGILL),
    ("TRAP", SIGTRAP),
    ("ABRT", SIGABRT),
    ("IOT", SIGIOT),
    ("BUS", SIGBUS),
    ("FPE", SIGFPE),
    ("KILL", SIGKILL),
    ("USR1", SIGUSR1),
    ("SEGV", SIGSEGV),
    ("USR2", SIGUSR2),
    ("PIPE", SIGPIPE),
    ("ALRM", SIGALRM),
    ("TERM", SIGTERM),
    ("STKFLT", SIGSTKFLT),
    ("CHLD", SIGCHLD),
    ("CONT", SIGCONT),
    ("STOP", SIGSTOP),
    ("TSTP", SIGTSTP),
    ("TTIN", SIGTTIN),
    ("TTOU", SIGTTOU),
    ("URG", SIGURG),
    ("XCPU", SIGXCPU),
    ("XFSZ", SIGXFSZ),
    ("VTALRM", SIGVTALRM),
    ("PROF", SIGPROF),
    ("WINCH", SIGWINCH),
    ("IO", SIGIO),
    ("POLL", SIGPOLL),
    ("PWR", SIGPWR),
    ("SYS", SIGSYS),
];

/// The name of signal `sig` without `SIG` (`TERM`); `None` for real-time and unknown signals.
pub fn signal_name(sig: i32) -> Option<&'static str> {
    SIGNALS
        .iter()
        .find(|(n, s)| *s == sig && *n != "IOT" && *n != "POLL")
        .map(|(n, _)| *n)
}

// ---------------------------------------------------------------------------------------------
// Capabilities (`linux/capability.h`), 0 ..= CAP_LAST_CAP.

/// Capability names (`CAP_*`, as `capabilities(7)` spells them), indexed by number.
pub const CAPABILITIES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The highest capability number this table knows (`CAP_CHECKPOINT_RESTORE`).
pub const CAP_LAST_CAP: u32 = 40;

/// A capability by name (`CAP_SYS_ADMIN`, case-insensitive as systemd accepts it) or by
/// number (`21`, 0..=63).
pub fn capability_from_name(name: &str) -> Option<u32> {
    if let Ok(n) = name.parse::<u32>() {
        return (n < 64).then_some(n);
    }
    CAPABILITIES
        .iter()
        .position(|c| c.eq_ignore_ascii_case(name))
        .map(|i| i as u32)
}

/// The name of capability `cap` (`cap_sys_admin`, lower case as systemd prints it).
pub fn capability_name(cap: u32) -> Option<String> {
    CAPABILITIES
        .get(cap as usize)
        .map(|n| n.to_ascii_lowercase())
}

// ---------------------------------------------------------------------------------------------
// Secure bits (`linux/securebits.h`): bit numbers of the `SECURE_*` flags.

pub const SECURE_NOROOT: u32 = 0;
pub const SECURE_NOROOT_LOCKED: u32 = 1;
pub const SECURE_NO_SETUID_FIXUP: u32 = 2;
pub const SECURE_NO_SETUID_FIXUP_LOCKED: u32 = 3;
pub const SECURE_KEEP_CAPS: u32 = 4;
pub const SECURE_KEEP_CAPS_LOCKED: u32 = 5;

/// `SecureBits=` names with their `SECBIT_*` masks (`1 << SECURE_*`).
pub const SECURE_BITS: &[(&str, u32)] = &[
    ("noroot", 1 << SECURE_NOROOT),
    ("noroot-locked", 1 << SECURE_NOROOT_LOCKED),
    ("no-setuid-fixup", 1 << SECURE_NO_SETUID_FIXUP),
    ("no-setuid-fixup-locked", 1 << SECURE_NO_SETUID_FIXUP_LOCKED),
    ("keep-caps", 1 << SECURE_KEEP_CAPS),
    ("keep-caps-locked", 1 << SECURE_KEEP_CAPS_LOCKED),
];

// ---------------------------------------------------------------------------------------------
// Namespaces (`CLONE_NEW*` of `linux/sched.h`).

pub const CLONE_NEWNS: u64 = 0x0002_0000;
pub const CLONE_NEWCGROUP: u64 = 0x0200_0000;
pub const CLONE_NEWUTS: u64 = 0x0400_0000;
pub const CLONE_NEWIPC: u64 = 0x0800_0000;
pub const CLONE_NEWUSER: u64 = 0x1000_0000;
pub const CLONE_NEWPID: u64 = 0x2000_0000;
pub const CLONE_NEWNET: u64 = 0x4000_0000;

/// `RestrictNamespaces=` names with their flags, in systemd's order.
pub const NAMESPACES: &[(&str, u64)] = &[
    ("cgroup", CLONE_NEWCGROUP),
    ("ipc", CLONE_NEWIPC),
    ("net", CLONE_NEWNET),
    ("mnt", CLONE_NEWNS),
    ("pid", CLONE_NEWPID),
    ("user", CLONE_NEWUSER),
    ("uts", CLONE_NEWUTS),
];

/// Every namespace flag `RestrictNamespaces=` knows (systemd's `NAMESPACE_FLAGS_ALL`).
pub const NAMESPACE_FLAGS_ALL: u64 = CLONE_NEWCGROUP
    | CLONE_NEWIPC
    | CLONE_NEWNET
    | CLONE_NEWNS
    | CLONE_NEWPID
    | CLONE_NEWUSER
    | CLONE_NEWUTS;

// ---------------------------------------------------------------------------------------------
// Mount propagation (`MS_*` of `linux/mount.h`), as `MountFlags=` reports them.

pub const MS_PRIVATE: u64 = 1 << 18;
pub const MS_SLAVE: u64 = 1 << 19;
pub const MS_SHARED: u64 = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Address families (`AF_*` of `linux/socket.h`).

/// `AF_*` names with their numbers; aliases (`AF_LOCAL`, `AF_FILE`, `AF_ROUTE`) after their
/// twins. `AF_UNSPEC` and `AF_MAX` are not families one can restrict.
pub const ADDRESS_FAMILIES: &[(&str, i32)] = &[
    ("AF_UNIX", 1),
    ("AF_LOCAL", 1),
    ("AF_FILE", 1),
    ("AF_INET", 2),
    ("AF_AX25", 3),
    ("AF_IPX", 4),
    ("AF_APPLETALK", 5),
    ("AF_NETROM", 6),
    ("AF_BRIDGE", 7),
    ("AF_ATMPVC", 8),
    ("AF_X25", 9),
    ("AF_INET6", 10),
    ("AF_ROSE", 11),
    ("AF_DECnet", 12),
    ("AF_NETBEUI", 13),
    ("AF_SECURITY", 14),
    ("AF_KEY", 15),
    ("AF_NETLINK", 16),
    ("AF_ROUTE", 16),
    ("AF_PACKET", 17),
    ("AF_ASH", 18),
    ("AF_ECONET", 19),
    ("AF_ATMSVC", 20),
    ("AF_RDS", 21),
    ("AF_SNA", 22),
    ("AF_IRDA", 23),
    ("AF_PPPOX", 24),
    ("AF_WANPIPE", 25),
    ("AF_LLC", 26),
    ("AF_IB", 27),
    ("AF_MPLS", 28),
    ("AF_CAN", 29),
    ("AF_TIPC", 30),
    ("AF_BLUETOOTH", 31),
    ("AF_IUCV", 32),
    ("AF_RXRPC", 33),
    ("AF_ISDN", 34),
    ("AF_PHONET", 35),
    ("AF_IEEE802154", 36),
    ("AF_CAIF", 37),
    ("AF_ALG", 38),
    ("AF_NFC", 39),
    ("AF_VSOCK", 40),
    ("AF_KCM", 41),
    ("AF_QIPCRTR", 42),
    ("AF_SMC", 43),
    ("AF_XDP", 44),
    ("AF_MCTP", 45),
];

/// An address family by its `AF_*` name.
pub fn address_family_from_name(name: &str) -> Option<i32> {
    ADDRESS_FAMILIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
}

/// The canonical `AF_*` name of family `af`.
pub fn address_family_name(af: i32) -> Option<&'static str> {
    ADDRESS_FAMILIES
        .iter()
        .find(|(_, v)| *v == af)
        .map(|(n, _)| *n)
}

// ---------------------------------------------------------------------------------------------
// errno (`asm-generic/errno-base.h`, `asm-generic/errno.h`).

/// errno names with their numbers; aliases (`EWOULDBLOCK`, `EDEADLOCK`, `ENOTSUP`) after their
/// twins.
pub const ERRNOS: &[(&str, i32)] = &[
    ("EPERM", 1),
    ("ENOENT", 2),
    ("ESRCH", 3),
    ("EINTR", 4),
    ("EIO", 5),
    ("ENXIO", 6),
    ("E2BIG", 7),
    ("ENOEXEC", 8),
    ("EBADF", 9),
    ("ECHILD", 10),
    ("EAGAIN", 11),
    ("EWOULDBLOCK", 11),
    ("ENOMEM", 12),
    ("EACCES", 13),
    ("EFAULT", 14),
    ("ENOTBLK", 15),
    ("EBUSY", 16),
    ("EEXIST", 17),
    ("EXDEV", 18),
    ("ENODEV", 19),
    ("ENOTDIR", 20),
    ("EISDIR", 21),
    ("EINVAL", 22),
    ("ENFILE", 23),
    ("EMFILE", 24),
    ("ENOTTY", 25),
    ("ETXTBSY", 26),
    ("EFBIG", 27),
    ("ENOSPC", 28),
    ("ESPIPE", 29),
    ("EROFS", 30),
    ("EMLINK", 31),
    ("EPIPE", 32),
    ("EDOM", 33),
    ("ERANGE", 34),
    ("EDEADLK", 35),
    ("EDEADLOCK", 35),
    ("ENAMETOOLONG", 36),
    ("ENOLCK", 37),
    ("ENOSYS", 38),
    ("ENOTEMPTY", 39),
    ("ELOOP", 40),
    ("ENOMSG", 42),
    ("EIDRM", 43),
    ("ECHRNG", 44),
    ("EL2NSYNC", 45),
    ("EL3HLT", 46),
    ("EL3RST", 47),
    ("ELNRNG", 48),
    ("EUNATCH", 49),
    ("ENOCSI", 50),
    ("EL2HLT", 51),
    ("EBADE", 52),
    ("EBADR", 53),
    ("EXFULL", 54),
    ("ENOANO", 55),
    ("EBADRQC", 56),
    ("EBADSLT", 57),
    ("EBFONT", 59),
    ("ENOSTR", 60),
    ("ENODATA", 61),
    ("ETIME", 62),
    ("ENOSR", 63),
    ("ENONET", 64),
    ("ENOPKG", 65),
    ("EREMOTE", 66),
    ("ENOLINK", 67),
    ("EADV", 68),
    ("ESRMNT", 69),
    ("ECOMM", 70),
    ("EPROTO", 71),
    ("EMULTIHOP", 72),
    ("EDOTDOT", 73),
    ("EBADMSG", 74),
    ("EOVERFLOW", 75),
    ("ENOTUNIQ", 76),
    ("EBADFD", 77),
    ("EREMCHG", 78),
    ("ELIBACC", 79),
    ("ELIBBAD", 80),
    ("ELIBSCN", 81),
    ("ELIBMAX", 82),
    ("ELIBEXEC", 83),
    ("EILSEQ", 84),
    ("ERESTART", 85),
    ("ESTRPIPE", 86),
    ("EUSERS", 87),
    ("ENOTSOCK", 88),
    ("EDESTADDRREQ", 89),
    ("EMSGSIZE", 90),
    ("EPROTOTYPE", 91),
    ("ENOPROTOOPT", 92),
    ("EPROTONOSUPPORT", 93),
    ("ESOCKTNOSUPPORT", 94),
    ("EOPNOTSUPP", 95),
    ("ENOTSUP", 95),
    ("EPFNOSUPPORT", 96),
    ("EAFNOSUPPORT", 97),
    ("EADDRINUSE", 98),
    ("EADDRNOTAVAIL", 99),
    ("ENETDOWN", 100),
    ("ENETUNREACH", 101),
    ("ENETRESET", 102),
    ("ECONNABORTED", 103),
    ("ECONNRESET", 104),
    ("ENOBUFS", 105),
    ("EISCONN", 106),
    ("ENOTCONN", 107),
    ("ESHUTDOWN", 108),
    ("ETOOMANYREFS", 109),
    ("ETIMEDOUT", 110),
    ("ECONNREFUSED", 111),
    ("EHOSTDOWN", 112),
    ("EHOSTUNREACH", 113),
    ("EALREADY", 114),
    ("EINPROGRESS", 115),
    ("ESTALE", 116),
    ("EUCLEAN", 117),
    ("ENOTNAM", 118),
    ("ENAVAIL", 119),
    ("EISNAM", 120),
    ("EREMOTEIO", 121),
    ("EDQUOT", 122),
    ("ENOMEDIUM", 123),
    ("EMEDIUMTYPE", 124),
    ("ECANCELED", 125),
    ("ENOKEY", 126),
    ("EKEYEXPIRED", 127),
    ("EKEYREVOKED", 128),
    ("EKEYREJECTED", 129),
    ("EOWNERDEAD", 130),
    ("ENOTRECOVERABLE", 131),
    ("ERFKILL", 132),
    ("EHWPOISON", 133),
];

/// The largest errno value systemd accepts (`ERRNO_MAX`).
pub const ERRNO_MAX: i32 = 4095;

/// An errno by name (`EPERM`).
pub fn errno_from_name(name: &str) -> Option<i32> {
    ERRNOS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// The canonical name of errno `e` (`EPERM`).
pub fn errno_name(e: i32) -> Option<&'static str> {
    ERRNOS.iter().find(|(_, v)| *v == e).map(|(n, _)| *n)
}

/// `SystemCallArchitectures=` names systemd knows (`native` is the manager's own).
pub const SYSCALL_ARCHITECTURES: &[&str] = &[
    "native",
    "x86",
    "x86-64",
    "x32",
    "arm",
    "arm64",
    "loongarch64",
    "mips",
    "mips64",
    "mips64-n32",
    "mips-le",
    "mips64-le",
    "mips64-le-n32",
    "parisc",
    "parisc64",
    "ppc",
    "ppc64",
    "ppc64-le",
    "riscv64",
    "s390",
    "s390x",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_names_round_trip() {
        assert_eq!(CAPABILITIES.len() as u32, CAP_LAST_CAP + 1);
        assert_eq!(capability_from_name("CAP_SYS_ADMIN"), Some(21));
        assert_eq!(capability_from_name("cap_net_bind_service"), Some(10));
        assert_eq!(capability_from_name("40"), Some(40));
        assert_eq!(capability_from_name("64"), None);
        assert_eq!(capability_from_name("CAP_NOPE"), None);
        assert_eq!(capability_name(0).as_deref(), Some("cap_chown"));
        assert_eq!(capability_name(41), None);
    }

    #[test]
    fn names_are_unique_per_table() {
        for table in [ADDRESS_FAMILIES, ERRNOS] {
            let mut names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), table.len());
        }
        assert_eq!(errno_from_name("ENOTSUP"), Some(95));
        assert_eq!(errno_name(95), Some("EOPNOTSUPP"));
        assert_eq!(address_family_name(1), Some("AF_UNIX"));
        assert_eq!(address_family_from_name("AF_NETLINK"), Some(16));
        assert_eq!(
            NAMESPACES.iter().fold(0, |m, (_, f)| m | f),
            NAMESPACE_FLAGS_ALL
        );
    }
}
