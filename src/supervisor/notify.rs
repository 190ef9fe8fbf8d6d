//! The manager's one sd_notify socket (service-contract §1.1, §9): an `AF_UNIX` `SOCK_DGRAM`
//! socket with `SO_PASSCRED`, bound at a path unitd controls, alive for the manager's whole
//! lifetime. [`NotifySocket::recv`] reads one datagram with `recvmsg` (`MSG_TRUNC`,
//! `MSG_CMSG_CLOEXEC`), takes the sender's pid/uid/gid from `SCM_CREDENTIALS`, and applies the
//! transport rules: oversized, truncated-control, credential-less and NUL-carrying datagrams
//! are dropped; `BARRIER=1` closes its fd at once (what `sd_notify_barrier` waits for); fds
//! on any message that is not `FDSTORE=1` are closed. Everything dropped is counted in
//! [`NotifyStats`]; nothing here blocks.

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use crate::engine::notify::{self, NOTIFY_BUFFER_MAX, NotifyMessage};

/// Most fds one message may carry (`NOTIFY_FD_MAX`).
pub const NOTIFY_FD_MAX: usize = 768;
/// Receive buffer asked for (`NOTIFY_RCVBUF_SIZE`).
const RCVBUF: libc::c_int = 8 * 1024 * 1024;

/// Counters for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotifyStats {
    /// Datagrams read.
    pub received: u64,
    /// Datagrams handed on as messages.
    pub accepted: u64,
    /// Datagrams dropped (too large, NUL, no credentials, nothing to act on, bad BARRIER).
    pub dropped: u64,
    /// `BARRIER=1` requests answered (fd closed).
    pub barriers: u64,
    /// Received fds closed because the message did not store them.
    pub fds_closed: u64,
}

/// One accepted notification.
#[derive(Debug)]
pub struct Datagram {
    /// Sender pid, uid and gid from `SCM_CREDENTIALS`.
    pub pid: u32,
    /// Sender uid.
    pub uid: u32,
    /// Sender gid.
    pub gid: u32,
    /// The parsed message.
    pub msg: NotifyMessage,
    /// fds that came with an `FDSTORE=1` message (closed when dropped).
    pub fds: Vec<OwnedFd>,
}

/// What one [`NotifySocket::recv`] call found.
#[derive(Debug)]
pub enum Received {
    /// A message for the engine.
    Message(Datagram),
    /// A datagram that was dropped or fully handled here (barrier).
    Handled,
    /// Nothing queued (`EAGAIN`).
    Empty,
}

/// The notify socket. See the module docs.
#[derive(Debug)]
pub struct NotifySocket {
    fd: OwnedFd,
    path: PathBuf,
    /// (device, inode) of the socket file we bound: on drop the path is removed only while it
    /// is still ours (a successor manager may have bound a new socket there).
    file_id: Option<(u64, u64)>,
    stats: NotifyStats,
    buf: Vec<u8>,
    cmsg: Vec<u64>,
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

impl NotifySocket {
    /// Bind a fresh socket at `path` (parent directories are created; a stale socket file is
    /// replaced). The path must fit `sun_path` (107 bytes).
    pub fn bind(path: &Path) -> io::Result<NotifySocket> {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        // SAFETY: zeroed sockaddr_un is a valid value.
        let mut addr: libc::sockaddr_un = unsafe { zeroed() };
        if bytes.len() >= addr.sun_path.len() || bytes.contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("notify socket path too long: {}", path.display()),
            ));
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        // SAFETY: plain socket(2); the fd is owned right away.
        let fd = unsafe {
            OwnedFd::from_raw_fd(cvt(libc::socket(
                libc::AF_UNIX,
                libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            ))?)
        };
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (d, s) in addr.sun_path.iter_mut().zip(bytes) {
            *d = *s as libc::c_char;
        }
        let len = (size_of::<libc::sa_family_t>() + bytes.len() + 1) as libc::socklen_t;
        // SAFETY: addr is a valid sockaddr_un of `len` bytes.
        cvt(unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_un).cast(),
                len,
            )
        })?;
        // Services that drop privileges (User=, or dbus-daemon becoming `messagebus`) must be
        // able to send: anyone may write, as with systemd's own notify socket; the sender's
        // credentials decide what is accepted (NotifyAccess=).
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777))?;
        }
        let one: libc::c_int = 1;
        let setopt = |opt: libc::c_int, v: &libc::c_int| {
            // SAFETY: an int option on our socket.
            unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::SOL_SOCKET,
                    opt,
                    (v as *const libc::c_int).cast(),
                    size_of::<libc::c_int>() as libc::socklen_t,
                )
            }
        };
        cvt(setopt(libc::SO_PASSCRED, &one))?;
        // A big receive buffer absorbs bursts; FORCE needs CAP_NET_ADMIN, else the capped one.
        if setopt(libc::SO_RCVBUFFORCE, &RCVBUF) < 0 {
            let _ = setopt(libc::SO_RCVBUF, &RCVBUF);
        }
        Ok(NotifySocket::from_bound(fd, path))
    }

    /// Take over a socket a previous manager process bound at `path` (daemon-reexec hands
    /// it over, with datagrams still queued in it). The caller vouches that `fd` is that
    /// socket.
    pub fn from_bound(fd: OwnedFd, path: &Path) -> NotifySocket {
        let cmsg_bytes = cmsg_space(size_of::<libc::ucred>())
            + cmsg_space(size_of::<libc::c_int>() * NOTIFY_FD_MAX);
        let file_id = std::fs::symlink_metadata(path).ok().map(|m| {
            use std::os::unix::fs::MetadataExt;
            (m.dev(), m.ino())
        });
        NotifySocket {
            fd,
            path: path.to_owned(),
            file_id,
            stats: NotifyStats::default(),
            buf: vec![0; NOTIFY_BUFFER_MAX + 1],
            cmsg: vec![0; cmsg_bytes.div_ceil(8)],
        }
    }

    /// The bound path (what `NOTIFY_SOCKET` says).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Counters so far.
    pub fn stats(&self) -> NotifyStats {
        self.stats
    }

    /// Read at most one datagram without blocking.
    pub fn recv(&mut self) -> io::Result<Received> {
        // SAFETY: msghdr/iovec point into our own buffers, sized as declared.
        let mut iov = libc::iovec {
            iov_base: self.buf.as_mut_ptr().cast(),
            iov_len: self.buf.len(),
        };
        let mut mh: libc::msghdr = unsafe { zeroed() };
        mh.msg_iov = &mut iov;
        mh.msg_iovlen = 1;
        mh.msg_control = self.cmsg.as_mut_ptr().cast();
        mh.msg_controllen = self.cmsg.len() * 8;
        let n = loop {
            let n = unsafe {
                libc::recvmsg(
                    self.fd.as_raw_fd(),
                    &mut mh,
                    libc::MSG_DONTWAIT | libc::MSG_TRUNC | libc::MSG_CMSG_CLOEXEC,
                )
            };
            if n >= 0 {
                break n as usize;
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => return Ok(Received::Empty),
                _ => return Err(e),
            }
        };
        self.stats.received += 1;
        // Take ownership of every passed fd first, so each is closed unless stored.
        let mut fds: Vec<OwnedFd> = Vec::new();
        let mut cred: Option<libc::ucred> = None;
        // SAFETY: walking the control buffer the kernel filled, with the libc CMSG macros.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&mh);
            while !c.is_null() {
                let h = &*c;
                let data = libc::CMSG_DATA(c);
                let payload = h.cmsg_len as usize - (data as usize - c as usize);
                if h.cmsg_level == libc::SOL_SOCKET && h.cmsg_type == libc::SCM_RIGHTS {
                    for i in 0..payload / size_of::<libc::c_int>() {
                        let raw: libc::c_int =
                            std::ptr::read_unaligned(data.cast::<libc::c_int>().add(i));
                        if raw >= 0 {
                            fds.push(OwnedFd::from_raw_fd(raw));
                        }
                    }
                } else if h.cmsg_level == libc::SOL_SOCKET
                    && h.cmsg_type == libc::SCM_CREDENTIALS
                    && payload >= size_of::<libc::ucred>()
                {
                    cred = Some(std::ptr::read_unaligned(data.cast::<libc::ucred>()));
                }
                c = libc::CMSG_NXTHDR(&mh, c);
            }
        }
        let n_fds = fds.len() as u64;
        if mh.msg_flags & libc::MSG_CTRUNC != 0 {
            tracing::debug!("notify message with truncated control data, ignoring");
            return Ok(self.drop_datagram(n_fds));
        }
        let Some(cred) = cred.filter(|c| c.pid > 0) else {
            tracing::debug!("notify message without valid credentials, ignoring");
            return Ok(self.drop_datagram(n_fds));
        };
        let truncated = mh.msg_flags & libc::MSG_TRUNC != 0 || n > NOTIFY_BUFFER_MAX;
        let data = &self.buf[..n.min(self.buf.len())];
        let msg = match notify::parse(data, truncated) {
            Ok(m) => m,
            Err(why) => {
                tracing::debug!("notify message from PID {} dropped: {why:?}", cred.pid);
                return Ok(self.drop_datagram(n_fds));
            }
        };
        if msg.barrier_with_extra {
            tracing::debug!(
                "extra notification messages sent with BARRIER=1 (PID {}), ignoring everything",
                cred.pid
            );
            return Ok(self.drop_datagram(n_fds));
        }
        if msg.barrier {
            if fds.len() != 1 {
                tracing::debug!(
                    "BARRIER=1 from PID {} with {} fds, ignoring",
                    cred.pid,
                    fds.len()
                );
                return Ok(self.drop_datagram(n_fds));
            }
            // Closing the fd is the answer the client polls for.
            drop(fds);
            self.stats.barriers += 1;
            return Ok(Received::Handled);
        }
        if msg.is_empty() {
            return Ok(self.drop_datagram(n_fds));
        }
        if !msg.fdstore && !fds.is_empty() {
            tracing::debug!(
                "got {} extra fds with notify message from PID {}, closing them",
                fds.len(),
                cred.pid
            );
            self.stats.fds_closed += n_fds;
            fds.clear();
        }
        self.stats.accepted += 1;
        Ok(Received::Message(Datagram {
            pid: cred.pid as u32,
            uid: cred.uid,
            gid: cred.gid,
            msg,
            fds,
        }))
    }

    fn drop_datagram(&mut self, n_fds: u64) -> Received {
        self.stats.dropped += 1;
        self.stats.fds_closed += n_fds;
        Received::Handled
    }
}

impl AsRawFd for NotifySocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        use std::os::unix::fs::MetadataExt;
        let still_ours = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|m| Some((m.dev(), m.ino())) == self.file_id);
        if still_ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn cmsg_space(len: usize) -> usize {
    // SAFETY: pure arithmetic macro.
    unsafe { libc::CMSG_SPACE(len as u32) as usize }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;

    fn sock() -> (tempfile::TempDir, NotifySocket, UnixDatagram) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("unitd/notify");
        let s = NotifySocket::bind(&path).unwrap();
        let c = UnixDatagram::unbound().unwrap();
        c.connect(&path).unwrap();
        (dir, s, c)
    }

    fn next(s: &mut NotifySocket) -> Received {
        s.recv().unwrap()
    }

    #[test]
    fn credentials_and_message() {
        let (_d, mut s, c) = sock();
        c.send(b"READY=1\nSTATUS=hi").unwrap();
        match next(&mut s) {
            Received::Message(d) => {
                assert_eq!(d.pid, std::process::id());
                assert_eq!(d.uid, unsafe { libc::getuid() });
                assert_eq!(d.msg.status.as_deref(), Some("hi"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(next(&mut s), Received::Empty));
    }

    #[test]
    fn garbage_is_counted_and_oversize_dropped() {
        let (_d, mut s, c) = sock();
        c.send(&[0xff; 10]).unwrap();
        c.send(&vec![b'x'; 5000]).unwrap();
        c.send(b"READY=1\0junk").unwrap();
        c.send(b"STATUS=ok").unwrap();
        let mut got = Vec::new();
        loop {
            match next(&mut s) {
                Received::Empty => break,
                Received::Message(d) => got.push(d.msg.status.unwrap()),
                Received::Handled => {}
            }
        }
        assert_eq!(got, vec!["ok".to_string()]);
        let st = s.stats();
        assert_eq!((st.received, st.accepted, st.dropped), (4, 1, 3));
    }

    fn send_with_fd(c: &UnixDatagram, data: &[u8], fd: RawFd) {
        let mut space = vec![0u64; cmsg_space(size_of::<libc::c_int>()).div_ceil(8)];
        let mut iov = libc::iovec {
            iov_base: data.as_ptr() as *mut _,
            iov_len: data.len(),
        };
        // SAFETY: test-only sendmsg with one SCM_RIGHTS fd.
        unsafe {
            let mut mh: libc::msghdr = zeroed();
            mh.msg_iov = &mut iov;
            mh.msg_iovlen = 1;
            mh.msg_control = space.as_mut_ptr().cast();
            mh.msg_controllen = cmsg_space(size_of::<libc::c_int>());
            let h = libc::CMSG_FIRSTHDR(&mh);
            (*h).cmsg_level = libc::SOL_SOCKET;
            (*h).cmsg_type = libc::SCM_RIGHTS;
            (*h).cmsg_len = libc::CMSG_LEN(size_of::<libc::c_int>() as u32) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(h).cast::<libc::c_int>(), fd);
            assert!(libc::sendmsg(c.as_raw_fd(), &mh, 0) >= 0);
        }
    }

    fn pipe() -> (OwnedFd, OwnedFd) {
        let mut p = [0; 2];
        assert_eq!(unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        unsafe { (OwnedFd::from_raw_fd(p[0]), OwnedFd::from_raw_fd(p[1])) }
    }

    /// The read end sees EOF/HUP once every copy of the write end is closed.
    fn write_end_closed(r: &OwnedFd) -> bool {
        let mut pfd = libc::pollfd {
            fd: r.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        unsafe { libc::poll(&mut pfd, 1, 0) };
        pfd.revents & libc::POLLHUP != 0
    }

    #[test]
    fn barrier_closes_the_fd_and_stray_fds_are_closed() {
        let (_d, mut s, c) = sock();
        let (r, w) = pipe();
        send_with_fd(&c, b"BARRIER=1", w.as_raw_fd());
        drop(w);
        assert!(!write_end_closed(&r), "our copy is in flight");
        assert!(matches!(next(&mut s), Received::Handled));
        assert!(write_end_closed(&r), "barrier fd closed at once");
        assert_eq!(s.stats().barriers, 1);

        let (r, w) = pipe();
        send_with_fd(&c, b"STATUS=x", w.as_raw_fd());
        drop(w);
        assert!(matches!(next(&mut s), Received::Message(d) if d.fds.is_empty()));
        assert!(write_end_closed(&r));

        let (_r, w) = pipe();
        send_with_fd(&c, b"FDSTORE=1\nFDNAME=keep", w.as_raw_fd());
        match next(&mut s) {
            Received::Message(d) => assert_eq!(d.fds.len(), 1),
            other => panic!("{other:?}"),
        }
    }
}
