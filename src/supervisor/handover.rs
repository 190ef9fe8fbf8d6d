//! What the supervisor hands to its successor across `execve` (daemon-reexec): process
//! tracking, adopted processes, and the descriptors that must survive — socket units' listening
//! fds, fd stores, units' stdio fds, the read ends of log pipes, plus whatever the caller adds
//! (the notify socket). Descriptors are passed by number: [`exec_self`] clears `FD_CLOEXEC` on
//! exactly those for the `execve` (and sets it again if `execve` fails); the successor checks
//! each number against the device/inode recorded here before owning it, so a number that did
//! not survive (a later recovery after a crash, where nothing is inherited) is never mistaken
//! for an unrelated file.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use serde::{Deserialize, Serialize};

use super::Supervisor;
use super::procs::TableExport;
use crate::engine::UnitId;

/// A descriptor handed over by number, with the identity of the file behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandedFd {
    /// The descriptor number (the same in the successor).
    pub fd: RawFd,
    /// `st_dev` of the file.
    pub dev: u64,
    /// `st_ino` of the file.
    pub ino: u64,
}

fn fstat_id(fd: RawFd) -> Option<(u64, u64)> {
    // SAFETY: fstat into a zeroed struct; a bad fd just fails.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    (unsafe { libc::fstat(fd, &mut st) } == 0).then_some((st.st_dev, st.st_ino))
}

impl HandedFd {
    /// Describe an open descriptor (`None` if it is not open).
    pub fn of(fd: RawFd) -> Option<HandedFd> {
        let (dev, ino) = fstat_id(fd)?;
        Some(HandedFd { fd, dev, ino })
    }

    /// Own the descriptor if it is open and still the same file, marking it close-on-exec
    /// again. The caller must claim each number once.
    pub fn claim(self) -> Option<OwnedFd> {
        if fstat_id(self.fd) != Some((self.dev, self.ino)) {
            tracing::warn!("descriptor {} was not handed over; dropping it", self.fd);
            return None;
        }
        set_cloexec(self.fd, true);
        // SAFETY: the descriptor is open, refers to the recorded file, and nothing in this
        // process owns it yet (it was inherited; each number is claimed once).
        Some(unsafe { OwnedFd::from_raw_fd(self.fd) })
    }
}

/// Set or clear `FD_CLOEXEC`.
fn set_cloexec(fd: RawFd, on: bool) -> bool {
    // SAFETY: F_GETFD/F_SETFD on a descriptor number; failure is reported, nothing else.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags < 0 {
            return false;
        }
        let new = if on {
            flags | libc::FD_CLOEXEC
        } else {
            flags & !libc::FD_CLOEXEC
        };
        libc::fcntl(fd, libc::F_SETFD, new) == 0
    }
}

/// The supervisor's state as plain data. See the module docs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SupervisorSnapshot {
    /// Process tracking (pids, sessions, invocation ids).
    pub table: TableExport,
    /// Processes scopes adopted (watched through pidfds).
    pub adopted: Vec<(u32, UnitId)>,
    /// Socket units' listening fds with their `FileDescriptorName=`.
    pub sockets: Vec<(UnitId, Vec<(String, HandedFd)>)>,
    /// Fd stores (`FDSTORE=1`), newest first: (name, fd, polled for hang-ups — not with
    /// `FDPOLL=0`).
    pub fd_store: Vec<(UnitId, Vec<HandedStored>)>,
    /// Units' stdin/stdout/stderr descriptors (`Standard*FileDescriptor`).
    pub stdio_fds: Vec<(UnitId, [Option<HandedFd>; 3])>,
    /// Read ends of log pipes being pumped: (fd, unit name, pid).
    pub log_pipes: Vec<(HandedFd, String, u32)>,
    /// What the processes of active sandboxed units share: `PrivateTmp=` directories, network
    /// and IPC namespaces.
    #[serde(default)]
    pub namespaces: Vec<(UnitId, super::namespace::NamespaceExport)>,
}

/// One fd-store entry in a snapshot: (name, fd, polled for hang-ups).
pub type HandedStored = (String, HandedFd, bool);

impl SupervisorSnapshot {
    /// Every descriptor number this snapshot hands over.
    pub fn fds(&self) -> Vec<RawFd> {
        let mut v = Vec::new();
        for (_, fds) in &self.sockets {
            v.extend(fds.iter().map(|(_, h)| h.fd));
        }
        for (_, fds) in &self.fd_store {
            v.extend(fds.iter().map(|(_, h, _)| h.fd));
        }
        for (_, fds) in &self.stdio_fds {
            v.extend(fds.iter().flatten().map(|h| h.fd));
        }
        v.extend(self.log_pipes.iter().map(|(h, _, _)| h.fd));
        for (_, ns) in &self.namespaces {
            v.extend(ns.net.iter().chain(ns.ipc.iter()).map(|h| h.fd));
        }
        v
    }
}

fn hand(fd: &OwnedFd) -> Option<HandedFd> {
    HandedFd::of(fd.as_raw_fd())
}

fn hand_named(fds: &[(String, OwnedFd)]) -> Vec<(String, HandedFd)> {
    fds.iter()
        .filter_map(|(n, fd)| Some((n.clone(), hand(fd)?)))
        .collect()
}

impl Supervisor {
    /// Export the state a successor needs. The descriptors stay owned here (and close-on-exec)
    /// until [`exec_self`] hands them over.
    pub fn export(&self) -> SupervisorSnapshot {
        let mut sockets: Vec<_> = self
            .sockets
            .all()
            .map(|(u, fds)| (u, hand_named(fds)))
            .collect();
        sockets.sort_by_key(|s| s.0);
        let fd_store: Vec<_> = self
            .fd_store
            .entries()
            .into_iter()
            .map(|(u, fds)| {
                let fds = fds
                    .into_iter()
                    .filter_map(|(n, fd, watched)| Some((n, HandedFd::of(fd)?, watched)))
                    .collect();
                (u, fds)
            })
            .collect();
        let mut stdio_fds: Vec<_> = self
            .stdio_fds
            .iter()
            .map(|(u, fds)| {
                let h = |i: usize| fds[i].as_ref().and_then(hand);
                (*u, [h(0), h(1), h(2)])
            })
            .collect();
        stdio_fds.sort_by_key(|s| s.0);
        let log_pipes = self
            .pump
            .pipes()
            .into_iter()
            .filter_map(|(fd, unit, pid)| Some((HandedFd::of(fd)?, unit, pid)))
            .collect();
        SupervisorSnapshot {
            table: self.table.export(),
            adopted: self.adopted.watched(),
            sockets,
            fd_store,
            stdio_fds,
            log_pipes,
            namespaces: self.namespaces.export(),
        }
    }

    /// Take over a predecessor's state: claim its descriptors, pump its log pipes again and
    /// watch its adopted processes. Descriptors that did not survive are skipped (and logged).
    pub fn import(&mut self, snap: SupervisorSnapshot) {
        let mut claimed = std::collections::HashSet::new();
        let mut claim = |h: HandedFd| {
            if !claimed.insert(h.fd) {
                return None;
            }
            h.claim()
        };
        self.table.import(snap.table);
        for (unit, fds) in snap.sockets {
            let fds: Vec<(String, OwnedFd)> = fds
                .into_iter()
                .filter_map(|(n, h)| Some((n, claim(h)?)))
                .collect();
            self.sockets.insert_restored(unit, fds);
        }
        for (unit, fds) in snap.fd_store {
            let fds: Vec<(String, OwnedFd, bool)> = fds
                .into_iter()
                .filter_map(|(n, h, watched)| Some((n, claim(h)?, watched)))
                .collect();
            self.fd_store.restore(unit, fds);
        }
        for (unit, fds) in snap.stdio_fds {
            let [a, b, c] = fds;
            let mut take = |h: Option<HandedFd>| h.and_then(&mut claim);
            let fds = [take(a), take(b), take(c)];
            if fds.iter().any(Option::is_some) {
                self.stdio_fds.insert(unit, fds);
            }
        }
        for (h, unit, pid) in snap.log_pipes {
            if let Some(fd) = claim(h) {
                self.pump.start(fd, &unit, pid);
            }
        }
        self.namespaces.import(snap.namespaces, &mut claim);
        for (pid, unit) in snap.adopted {
            if self.signallable(pid) && self.alive(pid) {
                self.table.add_pid(unit, pid);
                self.adopted.watch(unit, pid);
            }
        }
    }
}

/// Replace this process by `program` with `argv` and `env`, handing over exactly the
/// descriptors `keep` (their close-on-exec flag is cleared for the `execve`). Returns only on
/// failure, with every descriptor close-on-exec again. The PID stays the same, so every
/// process we started stays our child.
pub fn exec_self(
    program: &std::path::Path,
    argv: &[OsString],
    env: &[(OsString, OsString)],
    keep: &[RawFd],
) -> io::Error {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let cstr = |b: &[u8]| CString::new(b).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput));
    let prepared = (|| -> io::Result<(CString, Vec<CString>, Vec<CString>)> {
        let prog = cstr(program.as_os_str().as_bytes())?;
        let args = argv
            .iter()
            .map(|a| cstr(a.as_bytes()))
            .collect::<io::Result<Vec<_>>>()?;
        let envs = env
            .iter()
            .map(|(k, v)| {
                let mut b = k.as_bytes().to_vec();
                b.push(b'=');
                b.extend_from_slice(v.as_bytes());
                cstr(&b)
            })
            .collect::<io::Result<Vec<_>>>()?;
        Ok((prog, args, envs))
    })();
    let (prog, args, envs) = match prepared {
        Ok(p) => p,
        Err(e) => return e,
    };
    let mut argp: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argp.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = envs.iter().map(|a| a.as_ptr()).collect();
    envp.push(std::ptr::null());
    for &fd in keep {
        set_cloexec(fd, false);
    }
    // SAFETY: NUL-terminated strings and NULL-terminated arrays that outlive the call.
    unsafe { libc::execve(prog.as_ptr(), argp.as_ptr(), envp.as_ptr()) };
    let err = io::Error::last_os_error();
    for &fd in keep {
        set_cloexec(fd, true);
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handed_fds_are_claimed_only_when_they_are_the_same_file() {
        let (r, w) = super::super::spawn::pipe_cloexec().unwrap();
        let h = HandedFd::of(r.as_raw_fd()).unwrap();
        let other = HandedFd::of(w.as_raw_fd()).unwrap();
        // A record naming r's number with w's identity is refused.
        let wrong = HandedFd {
            fd: r.as_raw_fd(),
            dev: other.dev,
            ino: other.ino + 1,
        };
        assert!(wrong.claim().is_none());
        // The right record is claimed (ownership moves: forget the original).
        let raw = r.as_raw_fd();
        std::mem::forget(r);
        let owned = h.claim().expect("same file");
        assert_eq!(owned.as_raw_fd(), raw);
        // SAFETY: F_GETFD on our descriptor.
        let flags = unsafe { libc::fcntl(raw, libc::F_GETFD) };
        assert_ne!(flags & libc::FD_CLOEXEC, 0, "claimed fds are close-on-exec");
        drop(w);
    }

    #[test]
    fn exec_failure_leaves_descriptors_close_on_exec() {
        let (r, _w) = super::super::spawn::pipe_cloexec().unwrap();
        let e = exec_self(
            std::path::Path::new("/nonexistent/unitd"),
            &[OsString::from("unitd")],
            &[],
            &[r.as_raw_fd()],
        );
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        // SAFETY: F_GETFD on our descriptor.
        let flags = unsafe { libc::fcntl(r.as_raw_fd(), libc::F_GETFD) };
        assert_ne!(flags & libc::FD_CLOEXEC, 0);
    }
}
