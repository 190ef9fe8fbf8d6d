//! Processes adopted by scope units: running processes that are not our children
//! (`systemd-run --scope` passes its own PID), watched through pidfds. A pidfd becomes
//! readable when its process exits; a small tokio task per pidfd then wakes the daemon loop
//! ([`super::Supervisor::adoption_wakeup`]), which calls [`super::Supervisor::reap`] — that
//! reports the gone processes like reaped children (their exit status belongs to their real
//! parent, so they are reported as `Exited(0)`).

use std::collections::{HashMap, HashSet};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;

use tokio::sync::Notify;

use crate::engine::UnitId;

/// `pidfd_open(2)`.
fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with integer arguments; a non-negative result is a new fd we own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Whether the process behind `fd` has exited (pidfd readable).
fn pidfd_exited(fd: &OwnedFd) -> bool {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, zero timeout.
    let r = unsafe { libc::poll(&mut p, 1, 0) };
    r > 0 && p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0
}

/// The watched processes.
pub(crate) struct Adopted {
    watched: HashMap<u32, (UnitId, OwnedFd)>,
    /// Units whose processes are all watched (scopes).
    units: HashSet<UnitId>,
    wake: Arc<Notify>,
    handle: tokio::runtime::Handle,
}

impl Adopted {
    pub(crate) fn new(handle: tokio::runtime::Handle) -> Adopted {
        Adopted {
            watched: HashMap::new(),
            units: HashSet::new(),
            wake: Arc::new(Notify::new()),
            handle,
        }
    }

    pub(crate) fn wakeup(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Whether the processes of `unit` are watched this way.
    pub(crate) fn manages(&self, unit: UnitId) -> bool {
        self.units.contains(&unit)
    }

    /// Watch `pid` for `unit` (no-op if watched already). `false` if it cannot be watched
    /// (gone already).
    pub(crate) fn watch(&mut self, unit: UnitId, pid: u32) -> bool {
        self.units.insert(unit);
        if self.watched.contains_key(&pid) {
            return true;
        }
        let fd = match pidfd_open(pid) {
            Ok(fd) => fd,
            Err(e) => {
                tracing::debug!("pidfd_open({pid}): {e}");
                return false;
            }
        };
        let task_fd = match fd.try_clone() {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!("cannot watch process {pid}: {e}");
                return false;
            }
        };
        let wake = self.wake.clone();
        self.handle.spawn(async move {
            // SAFETY: `task_fd` is an owned pidfd that the AsyncFd owns and closes itself.
            let registered = unsafe {
                tokio::io::unix::AsyncFd::register_with_interest(
                    task_fd,
                    tokio::io::Interest::READABLE,
                )
            };
            match registered {
                Ok(afd) => {
                    let _ = afd.readable().await;
                }
                Err(e) => tracing::warn!("cannot poll a pidfd: {e}"),
            }
            wake.notify_one();
        });
        self.watched.insert(pid, (unit, fd));
        true
    }

    /// Watched processes that have exited, removed from the watch list.
    pub(crate) fn take_exited(&mut self) -> Vec<(u32, UnitId)> {
        let gone: Vec<(u32, UnitId)> = self
            .watched
            .iter()
            .filter(|(_, (_, fd))| pidfd_exited(fd))
            .map(|(pid, (unit, _))| (*pid, *unit))
            .collect();
        for (pid, _) in &gone {
            self.watched.remove(pid);
        }
        gone
    }

    /// Every watched `(pid, unit)` (daemon-reexec: the new process watches them again).
    pub(crate) fn watched(&self) -> Vec<(u32, UnitId)> {
        let mut v: Vec<(u32, UnitId)> = self.watched.iter().map(|(p, (u, _))| (*p, *u)).collect();
        v.sort();
        v
    }

    /// Stop watching every process of `unit`.
    pub(crate) fn forget(&mut self, unit: UnitId) {
        self.watched.retain(|_, (u, _)| *u != unit);
        self.units.remove(&unit);
    }
}
