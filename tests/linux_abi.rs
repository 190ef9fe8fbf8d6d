//! The Linux ABI tables of `unitd::spec::linux` (errno, address families, namespace flags,
//! mount propagation, secure bits) agree with libc, which the supervisor hands them to.
//! Capability numbers are not in libc; they are pinned by `capabilities(7)` order in the
//! module's own tests.

use unitd::spec::linux;

macro_rules! same {
    ($lookup:path, $($name:ident),+ $(,)?) => {
        $(
            assert_eq!(
                $lookup(stringify!($name)),
                Some(libc::$name as _),
                "{}",
                stringify!($name)
            );
        )+
    };
}

#[test]
fn errno_names_match_libc() {
    same!(
        linux::errno_from_name,
        EPERM,
        ENOENT,
        ESRCH,
        EINTR,
        EIO,
        ENXIO,
        E2BIG,
        ENOEXEC,
        EBADF,
        ECHILD,
        EAGAIN,
        EWOULDBLOCK,
        ENOMEM,
        EACCES,
        EFAULT,
        ENOTBLK,
        EBUSY,
        EEXIST,
        EXDEV,
        ENODEV,
        ENOTDIR,
        EISDIR,
        EINVAL,
        ENFILE,
        EMFILE,
        ENOTTY,
        ETXTBSY,
        EFBIG,
        ENOSPC,
        ESPIPE,
        EROFS,
        EMLINK,
        EPIPE,
        EDOM,
        ERANGE,
        EDEADLK,
        EDEADLOCK,
        ENAMETOOLONG,
        ENOLCK,
        ENOSYS,
        ENOTEMPTY,
        ELOOP,
        ENOMSG,
        EIDRM,
        ECHRNG,
        EL2NSYNC,
        EL3HLT,
        EL3RST,
        ELNRNG,
        EUNATCH,
        ENOCSI,
        EL2HLT,
        EBADE,
        EBADR,
        EXFULL,
        ENOANO,
        EBADRQC,
        EBADSLT,
        EBFONT,
        ENOSTR,
        ENODATA,
        ETIME,
        ENOSR,
        ENONET,
        ENOPKG,
        EREMOTE,
        ENOLINK,
        EADV,
        ESRMNT,
        ECOMM,
        EPROTO,
        EMULTIHOP,
        EDOTDOT,
        EBADMSG,
        EOVERFLOW,
        ENOTUNIQ,
        EBADFD,
        EREMCHG,
        ELIBACC,
        ELIBBAD,
        ELIBSCN,
        ELIBMAX,
        ELIBEXEC,
        EILSEQ,
        ERESTART,
        ESTRPIPE,
        EUSERS,
        ENOTSOCK,
        EDESTADDRREQ,
        EMSGSIZE,
        EPROTOTYPE,
        ENOPROTOOPT,
        EPROTONOSUPPORT,
        ESOCKTNOSUPPORT,
        EOPNOTSUPP,
        ENOTSUP,
        EPFNOSUPPORT,
        EAFNOSUPPORT,
        EADDRINUSE,
        EADDRNOTAVAIL,
        ENETDOWN,
        ENETUNREACH,
        ENETRESET,
        ECONNABORTED,
        ECONNRESET,
        ENOBUFS,
        EISCONN,
        ENOTCONN,
        ESHUTDOWN,
        ETOOMANYREFS,
        ETIMEDOUT,
        ECONNREFUSED,
        EHOSTDOWN,
        EHOSTUNREACH,
        EALREADY,
        EINPROGRESS,
        ESTALE,
        EUCLEAN,
        ENOTNAM,
        ENAVAIL,
        EISNAM,
        EREMOTEIO,
        EDQUOT,
        ENOMEDIUM,
        EMEDIUMTYPE,
        ECANCELED,
        ENOKEY,
        EKEYEXPIRED,
        EKEYREVOKED,
        EKEYREJECTED,
        EOWNERDEAD,
        ENOTRECOVERABLE,
        ERFKILL,
        EHWPOISON,
    );
    assert_eq!(
        linux::ERRNOS.len(),
        133 - 2 + 3,
        "every errno 1..=133 but 41 and 58, plus 3 aliases"
    );
}

#[test]
fn address_families_match_libc() {
    same!(
        linux::address_family_from_name,
        AF_UNIX,
        AF_LOCAL,
        AF_INET,
        AF_AX25,
        AF_IPX,
        AF_APPLETALK,
        AF_NETROM,
        AF_BRIDGE,
        AF_ATMPVC,
        AF_X25,
        AF_INET6,
        AF_ROSE,
        AF_DECnet,
        AF_NETBEUI,
        AF_SECURITY,
        AF_KEY,
        AF_NETLINK,
        AF_ROUTE,
        AF_PACKET,
        AF_ASH,
        AF_ECONET,
        AF_ATMSVC,
        AF_RDS,
        AF_SNA,
        AF_IRDA,
        AF_PPPOX,
        AF_WANPIPE,
        AF_LLC,
        AF_IB,
        AF_MPLS,
        AF_CAN,
        AF_TIPC,
        AF_BLUETOOTH,
        AF_IUCV,
        AF_RXRPC,
        AF_ISDN,
        AF_PHONET,
        AF_IEEE802154,
        AF_CAIF,
        AF_ALG,
        AF_NFC,
        AF_VSOCK,
        AF_XDP,
    );
}

#[test]
#[allow(clippy::unnecessary_cast)] // `c_ulong` is `u64` here, `u32` on 32-bit targets
fn namespace_mount_and_securebit_flags_match_libc() {
    let ns = |name: &str| {
        linux::NAMESPACES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
    };
    for (name, flag) in [
        ("cgroup", libc::CLONE_NEWCGROUP),
        ("ipc", libc::CLONE_NEWIPC),
        ("net", libc::CLONE_NEWNET),
        ("mnt", libc::CLONE_NEWNS),
        ("pid", libc::CLONE_NEWPID),
        ("user", libc::CLONE_NEWUSER),
        ("uts", libc::CLONE_NEWUTS),
    ] {
        assert_eq!(ns(name), Some(flag as u64), "{name}");
    }
    assert_eq!(linux::MS_SHARED, libc::MS_SHARED as u64);
    assert_eq!(linux::MS_SLAVE, libc::MS_SLAVE as u64);
    assert_eq!(linux::MS_PRIVATE, libc::MS_PRIVATE as u64);
    let bit = |name: &str| {
        linux::SECURE_BITS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
    };
    for (name, mask) in [
        ("noroot", libc::SECBIT_NOROOT),
        ("noroot-locked", libc::SECBIT_NOROOT_LOCKED),
        ("no-setuid-fixup", libc::SECBIT_NO_SETUID_FIXUP),
        (
            "no-setuid-fixup-locked",
            libc::SECBIT_NO_SETUID_FIXUP_LOCKED,
        ),
        ("keep-caps", libc::SECBIT_KEEP_CAPS),
        ("keep-caps-locked", libc::SECBIT_KEEP_CAPS_LOCKED),
    ] {
        assert_eq!(bit(name), Some(mask as u32), "{name}");
    }
}
