//! Socket units' fds: creating, binding and listening on `Listen*=` addresses (AF_UNIX paths
//! and abstract names, IPv4/IPv6 ports, FIFOs) and keeping them in a table keyed by socket unit
//! until the unit stops. The fds are blocking and close-on-exec here; spawns hand them to
//! services as `LISTEN_FDS` from fd 3 (see `Supervisor::spawn`). `Symlinks=` are made once the
//! fds are open.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::engine::UnitId;
use crate::spec::{ListenAddress, ListenKind, ListenSpec, SocketSpec};

/// `Symlinks=` (systemd's `socket_symlink`): links to the socket's one file-system path, parent
/// directories created; one that already points there is kept, anything else in the way is
/// replaced only with `RemoveOnStop=`. Failures are logged, the socket stays up.
fn make_symlinks(spec: &SocketSpec) {
    if spec.symlinks.is_empty() {
        return;
    }
    let Some(target) = spec.symlink_target() else {
        tracing::warn!(
            "Symlinks= needs exactly one AF_UNIX path or FIFO among the Listen*= lines; \
             not creating {:?}",
            spec.symlinks
        );
        return;
    };
    for link in &spec.symlinks {
        mkdir_parents(link, spec.directory_mode);
        if std::fs::read_link(link).is_ok_and(|t| t == target) {
            continue;
        }
        let mut r = std::os::unix::fs::symlink(target, link);
        if r.as_ref()
            .is_err_and(|e| e.kind() == io::ErrorKind::AlreadyExists)
            && spec.remove_on_stop
            && std::fs::remove_file(link).is_ok()
        {
            r = std::os::unix::fs::symlink(target, link);
        }
        if let Err(e) = r {
            tracing::warn!(
                "Failed to create symlink {} -> {}, ignoring: {e}",
                link.display(),
                target.display()
            );
        }
    }
}

/// Open socket fds per socket unit, in configuration order, each with its `LISTEN_FDNAMES`
/// entry.
#[derive(Default)]
pub struct SocketTable {
    units: HashMap<UnitId, Vec<(String, OwnedFd)>>,
}

impl SocketTable {
    /// Open every `Listen*=` of `spec` for `unit` (replacing what the unit had). On error,
    /// nothing is kept and the message names the failing address.
    pub fn open(&mut self, unit: UnitId, spec: &SocketSpec, fd_name: &str) -> Result<(), String> {
        self.units.remove(&unit);
        let mut fds = Vec::with_capacity(spec.listen.len());
        for l in &spec.listen {
            let fd = open_one(l, spec)
                .map_err(|e| format!("Failed to create listening socket ({}): {e}", l.text))?;
            fds.push((fd_name.to_string(), fd));
        }
        self.units.insert(unit, fds);
        make_symlinks(spec);
        Ok(())
    }

    /// Close a unit's fds and remove `remove` (socket files/FIFOs, `RemoveOnStop=`).
    pub fn close(&mut self, unit: UnitId, remove: &[PathBuf]) {
        self.units.remove(&unit);
        for p in remove {
            let _ = std::fs::remove_file(p);
        }
    }

    /// The unit's fds with their names (empty if none are open).
    pub fn fds(&self, unit: UnitId) -> impl Iterator<Item = (&str, RawFd)> {
        self.units
            .get(&unit)
            .into_iter()
            .flatten()
            .map(|(n, fd)| (n.as_str(), fd.as_raw_fd()))
    }

    /// Every unit's fds with their names (daemon-reexec hands them over).
    pub fn all(&self) -> impl Iterator<Item = (UnitId, &[(String, OwnedFd)])> {
        self.units.iter().map(|(u, v)| (*u, v.as_slice()))
    }

    /// Give `unit` fds taken over from a previous manager process.
    pub fn insert_restored(&mut self, unit: UnitId, fds: Vec<(String, OwnedFd)>) {
        self.units.insert(unit, fds);
    }

    /// Duplicates of the unit's fds (close-on-exec), for watching them for readability.
    pub fn dup_fds(&self, unit: UnitId) -> Vec<OwnedFd> {
        self.units
            .get(&unit)
            .into_iter()
            .flatten()
            .filter_map(|(_, fd)| fd.try_clone().ok())
            .collect()
    }
}

/// One connection accepted on an `Accept=yes` socket, on its way to the service instance that
/// owns it.
pub struct Accepted {
    /// The connection (blocking, close-on-exec).
    pub fd: OwnedFd,
    /// The instance part of the service name without the counter: `<local>-<remote>` for IP
    /// peers (`127.0.0.1:8080-127.0.0.1:54321`), `<pid>-<uid>` for AF_UNIX peers.
    pub instance_suffix: String,
    /// The IP peer (`REMOTE_ADDR`/`REMOTE_PORT`), `None` for AF_UNIX.
    pub remote: Option<std::net::SocketAddr>,
}

impl SocketTable {
    /// Accept one pending connection on the first readable stream/seqpacket fd of `unit`
    /// (`Ok(None)` when nothing is pending any more).
    pub fn accept(&self, unit: UnitId) -> io::Result<Option<Accepted>> {
        for (_, fd) in self.units.get(&unit).into_iter().flatten() {
            let mut pfd = libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: poll on one valid pollfd without waiting.
            if unsafe { libc::poll(&mut pfd, 1, 0) } <= 0 || pfd.revents & libc::POLLIN == 0 {
                continue;
            }
            // SAFETY: accept4 without an address buffer; the new fd is ours.
            let c = unsafe {
                libc::accept4(
                    fd.as_raw_fd(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    libc::SOCK_CLOEXEC,
                )
            };
            if c < 0 {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EAGAIN) | Some(libc::ECONNABORTED) | Some(libc::EINTR) => continue,
                    _ => return Err(e),
                }
            }
            // SAFETY: `c` was just returned by accept4.
            let conn = unsafe { OwnedFd::from_raw_fd(c) };
            let local = sock_name(&conn, false)?;
            let (instance_suffix, remote) = match local {
                Some(local) => {
                    let remote = sock_name(&conn, true)?
                        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))?;
                    (
                        format!(
                            "{}:{}-{}:{}",
                            local.ip(),
                            local.port(),
                            remote.ip(),
                            remote.port()
                        ),
                        Some(remote),
                    )
                }
                None => {
                    let (pid, uid) = peer_cred(&conn)?;
                    (format!("{pid}-{uid}"), None)
                }
            };
            return Ok(Some(Accepted {
                fd: conn,
                instance_suffix,
                remote,
            }));
        }
        Ok(None)
    }
}

/// The local (`peer == false`) or remote address of an IP socket; `None` for other families.
/// IPv4-mapped IPv6 addresses are shown as IPv4, as systemd does.
fn sock_name(fd: &OwnedFd, peer: bool) -> io::Result<Option<std::net::SocketAddr>> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
    // SAFETY: an all-zero sockaddr_storage is valid; the calls fill at most `len` bytes.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let p = (&mut ss as *mut libc::sockaddr_storage).cast();
    cvt(unsafe {
        if peer {
            libc::getpeername(fd.as_raw_fd(), p, &mut len)
        } else {
            libc::getsockname(fd.as_raw_fd(), p, &mut len)
        }
    })?;
    Ok(match ss.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says this is a sockaddr_in.
            let sa =
                unsafe { &*(&ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr));
            Some(SocketAddr::new(IpAddr::V4(ip), u16::from_be(sa.sin_port)))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this is a sockaddr_in6.
            let sa =
                unsafe { &*(&ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            let ip6 = Ipv6Addr::from(sa.sin6_addr.s6_addr);
            let ip = ip6.to_ipv4_mapped().map_or(IpAddr::V6(ip6), IpAddr::V4);
            Some(SocketAddr::new(ip, u16::from_be(sa.sin6_port)))
        }
        _ => None,
    })
}

/// `SO_PEERCRED` of an AF_UNIX connection: the peer's pid and uid.
fn peer_cred(fd: &OwnedFd) -> io::Result<(i32, u32)> {
    // SAFETY: an all-zero ucred is valid; getsockopt fills at most `len` bytes.
    let mut cred: libc::ucred = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    cvt(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    })?;
    Ok((cred.pid, cred.uid))
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn new_socket(family: libc::c_int, ty: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2); the returned fd is ours.
    let fd = cvt(unsafe { libc::socket(family, ty | libc::SOCK_CLOEXEC, 0) })?;
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn set_int_opt(fd: &OwnedFd, level: libc::c_int, opt: libc::c_int, v: libc::c_int) {
    // SAFETY: setsockopt with a pointer to a live c_int of the stated size.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            opt,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

fn mkdir_parents(path: &Path, mode: u32) {
    if let Some(parent) = path.parent() {
        use std::os::unix::fs::DirBuilderExt;
        let _ = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(mode)
            .create(parent);
    }
}

fn open_one(l: &ListenSpec, spec: &SocketSpec) -> io::Result<OwnedFd> {
    let ty = match l.kind {
        ListenKind::Stream => libc::SOCK_STREAM,
        ListenKind::Datagram => libc::SOCK_DGRAM,
        ListenKind::SequentialPacket => libc::SOCK_SEQPACKET,
        ListenKind::Fifo => return open_fifo(l, spec),
    };
    let fd = match &l.address {
        ListenAddress::Path(p) => {
            let fd = new_socket(libc::AF_UNIX, ty)?;
            mkdir_parents(p, spec.directory_mode);
            // A stale socket file from an earlier run would make bind fail.
            if std::fs::symlink_metadata(p).is_ok_and(|m| {
                use std::os::unix::fs::FileTypeExt;
                m.file_type().is_socket()
            }) {
                let _ = std::fs::remove_file(p);
            }
            bind_unix(&fd, p.as_os_str().as_bytes(), false)?;
            let c = std::ffi::CString::new(p.as_os_str().as_bytes())
                .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
            // SAFETY: chmod on a NUL-terminated path.
            cvt(unsafe { libc::chmod(c.as_ptr(), spec.socket_mode as libc::mode_t) })?;
            fd
        }
        ListenAddress::Abstract(name) => {
            let fd = new_socket(libc::AF_UNIX, ty)?;
            bind_unix(&fd, name.as_bytes(), true)?;
            fd
        }
        ListenAddress::Inet { addr, port } => bind_inet(*addr, *port, ty)?,
    };
    if matches!(l.kind, ListenKind::Stream | ListenKind::SequentialPacket) {
        let backlog = spec.backlog.min(i32::MAX as u32) as libc::c_int;
        // SAFETY: listen(2) on our socket.
        cvt(unsafe { libc::listen(fd.as_raw_fd(), backlog) })?;
    }
    Ok(fd)
}

fn bind_unix(fd: &OwnedFd, name: &[u8], abstract_ns: bool) -> io::Result<()> {
    // SAFETY: an all-zero sockaddr_un is valid.
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let off = usize::from(abstract_ns);
    if name.len() + off >= sa.sun_path.len() {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    for (i, b) in name.iter().enumerate() {
        sa.sun_path[i + off] = *b as libc::c_char;
    }
    let base = std::mem::size_of::<libc::sa_family_t>();
    let len = if abstract_ns {
        base + 1 + name.len()
    } else {
        base + name.len() + 1
    };
    // SAFETY: bind with a sockaddr_un of `len` valid bytes.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_un).cast(),
            len as libc::socklen_t,
        )
    })?;
    Ok(())
}

fn bind_inet(addr: Option<std::net::IpAddr>, port: u16, ty: libc::c_int) -> io::Result<OwnedFd> {
    use std::net::IpAddr;
    let v6 = match addr {
        Some(IpAddr::V6(a)) => Some(a),
        Some(IpAddr::V4(_)) => None,
        // Every address: IPv6 dual-stack when the kernel has IPv6, else IPv4.
        None => Some(std::net::Ipv6Addr::UNSPECIFIED),
    };
    if let Some(a) = v6 {
        match new_socket(libc::AF_INET6, ty) {
            Ok(fd) => {
                set_int_opt(&fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
                if addr.is_none() {
                    set_int_opt(&fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 0);
                }
                // SAFETY: an all-zero sockaddr_in6 is valid.
                let mut sa: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
                sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sa.sin6_port = port.to_be();
                sa.sin6_addr.s6_addr = a.octets();
                // SAFETY: bind with a full sockaddr_in6.
                cvt(unsafe {
                    libc::bind(
                        fd.as_raw_fd(),
                        (&sa as *const libc::sockaddr_in6).cast(),
                        std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                    )
                })?;
                return Ok(fd);
            }
            Err(e) if addr.is_some() => return Err(e),
            Err(_) => {}
        }
    }
    let a = match addr {
        Some(IpAddr::V4(a)) => a,
        _ => std::net::Ipv4Addr::UNSPECIFIED,
    };
    let fd = new_socket(libc::AF_INET, ty)?;
    set_int_opt(&fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
    // SAFETY: an all-zero sockaddr_in is valid.
    let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = port.to_be();
    sa.sin_addr.s_addr = u32::from_ne_bytes(a.octets());
    // SAFETY: bind with a full sockaddr_in.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    })?;
    Ok(fd)
}

fn open_fifo(l: &ListenSpec, spec: &SocketSpec) -> io::Result<OwnedFd> {
    let ListenAddress::Path(p) = &l.address else {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    };
    mkdir_parents(p, spec.directory_mode);
    let c = std::ffi::CString::new(p.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: mkfifo/open/fstat on a NUL-terminated path; the fd is ours.
    unsafe {
        if libc::mkfifo(c.as_ptr(), spec.socket_mode as libc::mode_t) < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EEXIST) {
                return Err(e);
            }
        }
        let fd = cvt(libc::open(
            c.as_ptr(),
            libc::O_RDWR | libc::O_CLOEXEC | libc::O_NONBLOCK,
        ))?;
        let fd = OwnedFd::from_raw_fd(fd);
        let mut st: libc::stat = std::mem::zeroed();
        cvt(libc::fstat(fd.as_raw_fd(), &mut st))?;
        if st.st_mode & libc::S_IFMT != libc::S_IFIFO {
            return Err(io::Error::from_raw_os_error(libc::EEXIST));
        }
        Ok(fd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit_file::parse_listen as parse;

    fn spec(listen: Vec<ListenSpec>) -> SocketSpec {
        SocketSpec {
            listen,
            ..SocketSpec::default()
        }
    }

    #[test]
    fn accepts_tcp_and_unix_connections_with_instance_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.sock");
        let sp = spec(vec![
            ListenSpec {
                kind: ListenKind::Stream,
                // Port 0 (an ephemeral port) is not valid in a unit file, only here.
                address: ListenAddress::Inet {
                    addr: Some(std::net::Ipv4Addr::LOCALHOST.into()),
                    port: 0,
                },
                text: "127.0.0.1:0".into(),
            },
            ListenSpec {
                kind: ListenKind::Stream,
                address: parse(ListenKind::Stream, path.to_str().unwrap()).unwrap(),
                text: path.display().to_string(),
            },
        ]);
        let mut t = SocketTable::default();
        t.open(UnitId(1), &sp, "x").unwrap();
        // Nothing pending: nothing accepted, nothing blocks.
        assert!(t.accept(UnitId(1)).unwrap().is_none());

        let (_, tcp) = t.fds(UnitId(1)).next().unwrap();
        // SAFETY: borrowed only for the duration of this call; the table keeps owning it.
        let bound = unsafe { std::os::fd::BorrowedFd::borrow_raw(tcp) };
        let local = sock_name(&bound.try_clone_to_owned().unwrap(), false)
            .unwrap()
            .unwrap();
        let client = std::net::TcpStream::connect(local).unwrap();
        let me = client.local_addr().unwrap();
        let acc = t
            .accept(UnitId(1))
            .unwrap()
            .expect("a pending TCP connection");
        assert_eq!(
            acc.instance_suffix,
            format!("127.0.0.1:{}-127.0.0.1:{}", local.port(), me.port())
        );
        assert_eq!(acc.remote, Some(me));

        let _u = std::os::unix::net::UnixStream::connect(&path).unwrap();
        let acc = t
            .accept(UnitId(1))
            .unwrap()
            .expect("a pending AF_UNIX connection");
        // SAFETY: getuid cannot fail.
        let uid = unsafe { libc::getuid() };
        assert_eq!(acc.instance_suffix, format!("{}-{uid}", std::process::id()));
        assert_eq!(acc.remote, None);
        assert!(t.accept(UnitId(1)).unwrap().is_none());
    }

    #[test]
    fn opens_unix_stream_datagram_and_fifo_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let s = dir.path().join("sub/s.sock");
        let d = dir.path().join("d.sock");
        let f = dir.path().join("f.fifo");
        let l = |k, p: &Path| ListenSpec {
            kind: k,
            address: parse(k, p.to_str().unwrap()).unwrap(),
            text: p.display().to_string(),
        };
        let sp = spec(vec![
            l(ListenKind::Stream, &s),
            l(ListenKind::Datagram, &d),
            l(ListenKind::Fifo, &f),
        ]);
        let mut t = SocketTable::default();
        t.open(UnitId(1), &sp, "x").unwrap();
        assert_eq!(t.fds(UnitId(1)).count(), 3);
        // The stream socket accepts connections before anyone accepts them.
        std::os::unix::net::UnixStream::connect(&s).unwrap();
        std::os::unix::net::UnixDatagram::unbound()
            .unwrap()
            .send_to(b"hi", &d)
            .unwrap();
        // Re-opening over the stale socket file works.
        t.close(UnitId(1), &[]);
        t.open(UnitId(1), &sp, "x").unwrap();
        t.close(UnitId(1), &[s.clone(), f.clone()]);
        assert!(!s.exists() && !f.exists() && d.exists());
    }

    /// `Symlinks=` (Debian's `systemd-journald-dev-log.socket`: `/dev/log`): made next to the
    /// socket's one path, parents created, an existing link to it kept; without exactly one
    /// path there is nothing to point to and the socket still opens.
    #[test]
    fn symlinks_point_to_the_one_socket_path() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("dev-log");
        let link = dir.path().join("dev/log");
        let mut sp = spec(vec![ListenSpec {
            kind: ListenKind::Datagram,
            address: parse(ListenKind::Datagram, d.to_str().unwrap()).unwrap(),
            text: d.display().to_string(),
        }]);
        sp.symlinks = vec![link.clone()];
        let mut t = SocketTable::default();
        t.open(UnitId(1), &sp, "x").unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), d);
        std::os::unix::net::UnixDatagram::unbound()
            .unwrap()
            .send_to(b"via the link", &link)
            .unwrap();
        t.close(UnitId(1), &[]);
        t.open(UnitId(1), &sp, "x").unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), d);
        t.close(UnitId(1), &[d.clone(), link.clone()]);
        assert!(std::fs::symlink_metadata(&link).is_err());

        let other = dir.path().join("other");
        sp.listen.push(ListenSpec {
            kind: ListenKind::Datagram,
            address: parse(ListenKind::Datagram, other.to_str().unwrap()).unwrap(),
            text: other.display().to_string(),
        });
        assert_eq!(sp.symlink_target(), None);
        t.open(UnitId(1), &sp, "x").unwrap();
        assert!(std::fs::symlink_metadata(&link).is_err());
    }
}
