//! Per-service fd stores (`FileDescriptorStoreMax=`, `FDSTORE=1`; service-contract §1.7): the
//! fds services hand to the manager, kept newest first (systemd 252 prepends), duplicates
//! dropped, at most `max` per unit, released when the unit is down for good.
//!
//! Pollable stored fds are watched for `EPOLLHUP`/`EPOLLERR` — registered with no requested
//! events in one epoll instance, which reports exactly those two conditions — and dropped from
//! the store when either occurs, as systemd does, unless the message that stored them said
//! `FDPOLL=0`. Fds epoll cannot watch (regular files: `EPERM`) are simply kept. The runtime
//! polls [`FdStore::epoll_fd`] and calls [`FdStore::drop_hung_up`] when it is readable.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::engine::UnitId;

/// One stored fd as handed over: (name, fd, watched for hang-ups).
pub type HandOver = (String, RawFd, bool);

/// One stored fd.
struct Stored {
    name: String,
    fd: OwnedFd,
    /// The epoll token while the fd is watched for hang-ups.
    token: Option<u64>,
}

/// The stores of every unit. See the module docs.
pub struct FdStore {
    units: HashMap<UnitId, Vec<Stored>>,
    /// Watches pollable stored fds; `None` if epoll could not be created (nothing is polled).
    epoll: Option<OwnedFd>,
    next_token: u64,
}

impl Default for FdStore {
    fn default() -> Self {
        FdStore::new()
    }
}

impl FdStore {
    /// Empty stores with their epoll instance.
    pub fn new() -> FdStore {
        // SAFETY: epoll_create1 returns a new fd or -1.
        let raw = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        let epoll = if raw >= 0 {
            // SAFETY: `raw` was just created and is owned here.
            Some(unsafe { OwnedFd::from_raw_fd(raw) })
        } else {
            tracing::warn!(
                "cannot create an epoll instance for the fd store: {}",
                io::Error::last_os_error()
            );
            None
        };
        FdStore {
            units: HashMap::new(),
            epoll,
            next_token: 1,
        }
    }

    /// The fd that becomes readable when a watched stored fd hung up or failed.
    pub fn epoll_fd(&self) -> Option<RawFd> {
        self.epoll.as_ref().map(|e| e.as_raw_fd())
    }

    /// Add `fds` to `unit`'s store under `name`, newest first, up to `max` entries; duplicates
    /// of stored files and fds beyond the limit are closed. `poll`: watch them for hang-ups
    /// (`FDPOLL=0` turns that off).
    pub fn add(&mut self, unit: UnitId, name: &str, max: u32, poll: bool, fds: Vec<OwnedFd>) {
        for fd in fds {
            let store = self.units.entry(unit).or_default();
            if store.iter().any(|s| super::same_file(&s.fd, &fd)) {
                continue;
            }
            if store.len() >= max as usize {
                tracing::warn!(
                    "fd store of unit {unit:?} full (FileDescriptorStoreMax={max}); closing fd"
                );
                continue;
            }
            let token = if poll { self.watch(&fd) } else { None };
            self.units.entry(unit).or_default().insert(
                0,
                Stored {
                    name: name.to_owned(),
                    fd,
                    token,
                },
            );
        }
    }

    /// `FDSTOREREMOVE=1`: close every fd of `unit` named `name`.
    pub fn remove(&mut self, unit: UnitId, name: &str) {
        let Some(store) = self.units.get_mut(&unit) else {
            return;
        };
        let (gone, kept): (Vec<Stored>, Vec<Stored>) = std::mem::take(store)
            .into_iter()
            .partition(|s| s.name == name);
        *store = kept;
        for s in gone {
            self.unwatch(&s);
        }
    }

    /// Close everything `unit` stored.
    pub fn release(&mut self, unit: UnitId) {
        for s in self.units.remove(&unit).into_iter().flatten() {
            self.unwatch(&s);
        }
    }

    /// Number of fds in `unit`'s store.
    pub fn len(&self, unit: UnitId) -> usize {
        self.units.get(&unit).map_or(0, Vec::len)
    }

    /// Whether `unit` stores nothing.
    pub fn is_empty(&self, unit: UnitId) -> bool {
        self.len(unit) == 0
    }

    /// `unit`'s stored fds with their names, newest first (the order they are passed in).
    pub fn fds(&self, unit: UnitId) -> impl Iterator<Item = (&str, RawFd)> {
        self.units
            .get(&unit)
            .into_iter()
            .flatten()
            .map(|s| (s.name.as_str(), s.fd.as_raw_fd()))
    }

    /// Every unit's store for a hand-over (daemon-reexec): `(name, fd, watched)` newest first,
    /// where `watched` says whether the fd is polled for hang-ups.
    pub fn entries(&self) -> Vec<(UnitId, Vec<HandOver>)> {
        let mut v: Vec<_> = self
            .units
            .iter()
            .map(|(u, fds)| {
                let fds = fds
                    .iter()
                    .map(|s| (s.name.clone(), s.fd.as_raw_fd(), s.token.is_some()))
                    .collect();
                (*u, fds)
            })
            .collect();
        v.sort_by_key(|e| e.0);
        v
    }

    /// Put back a store a predecessor handed over ([`FdStore::entries`]), keeping its order
    /// and watching the fds it watched.
    pub fn restore(&mut self, unit: UnitId, fds: Vec<(String, OwnedFd, bool)>) {
        for (name, fd, watched) in fds {
            let token = if watched { self.watch(&fd) } else { None };
            self.units
                .entry(unit)
                .or_default()
                .push(Stored { name, fd, token });
        }
    }

    /// Drop every watched fd that reported `EPOLLHUP` or `EPOLLERR`; returns how many went.
    /// Never blocks.
    pub fn drop_hung_up(&mut self) -> usize {
        let Some(ep) = self.epoll.as_ref().map(|e| e.as_raw_fd()) else {
            return 0;
        };
        let mut dropped = 0;
        loop {
            // SAFETY: an all-zero epoll_event array is valid; epoll_wait fills at most 32.
            let mut evs: [libc::epoll_event; 32] = unsafe { std::mem::zeroed() };
            let n = unsafe { libc::epoll_wait(ep, evs.as_mut_ptr(), evs.len() as i32, 0) };
            if n < 0 {
                if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                return dropped;
            }
            if n == 0 {
                return dropped;
            }
            for ev in &evs[..n as usize] {
                let token = ev.u64;
                let mut found = None;
                for (unit, store) in &mut self.units {
                    if let Some(i) = store.iter().position(|s| s.token == Some(token)) {
                        found = Some((*unit, store.remove(i)));
                        break;
                    }
                }
                if let Some((unit, s)) = found {
                    tracing::debug!(
                        "stored fd {:?} of unit {unit:?} hung up or failed, dropping it",
                        s.name
                    );
                    self.unwatch(&s);
                    dropped += 1;
                }
            }
        }
    }

    /// Register `fd` for hang-up/error reports; `None` when it cannot be polled.
    fn watch(&mut self, fd: &OwnedFd) -> Option<u64> {
        let ep = self.epoll.as_ref()?.as_raw_fd();
        let token = self.next_token;
        // No requested events: epoll still reports EPOLLHUP and EPOLLERR.
        let mut ev = libc::epoll_event {
            events: 0,
            u64: token,
        };
        // SAFETY: registering an fd we own with our epoll instance.
        if unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd.as_raw_fd(), &mut ev) } < 0 {
            // EPERM: not pollable (regular files); keep it unwatched.
            return None;
        }
        self.next_token += 1;
        Some(token)
    }

    /// Deregister before closing: the sender may hold the same open file, which would keep a
    /// registration alive after our fd is closed.
    fn unwatch(&self, s: &Stored) {
        if s.token.is_none() {
            return;
        }
        if let Some(ep) = &self.epoll {
            // SAFETY: removing our own registration; a stale one just fails.
            unsafe {
                libc::epoll_ctl(
                    ep.as_raw_fd(),
                    libc::EPOLL_CTL_DEL,
                    s.fd.as_raw_fd(),
                    std::ptr::null_mut(),
                )
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (OwnedFd, OwnedFd) {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        (a.into(), b.into())
    }

    #[test]
    fn hung_up_fds_are_dropped_unless_fdpoll_0() {
        let mut st = FdStore::new();
        let u = UnitId(3);
        let (a, a_peer) = pair();
        let (c, c_peer) = pair();
        let file: OwnedFd = std::fs::File::open("/dev/null").unwrap().into();
        st.add(u, "polled", 8, true, vec![a]);
        st.add(u, "kept", 8, false, vec![c]);
        st.add(u, "file", 8, true, vec![file]);
        assert_eq!(st.len(u), 3);
        assert_eq!(st.drop_hung_up(), 0, "nothing hung up yet");
        drop(a_peer);
        drop(c_peer);
        assert_eq!(st.drop_hung_up(), 1);
        let names: Vec<&str> = st.fds(u).map(|(n, _)| n).collect();
        assert_eq!(names, vec!["file", "kept"]);
        assert_eq!(
            st.drop_hung_up(),
            0,
            "level-triggered, but the entry is gone"
        );
    }

    #[test]
    fn limit_duplicates_remove_and_release() {
        let mut st = FdStore::new();
        let u = UnitId(1);
        let (a, _ap) = pair();
        let dup = a.try_clone().unwrap();
        let (b, _bp) = pair();
        let (c, _cp) = pair();
        st.add(u, "x", 2, true, vec![a, dup]);
        assert_eq!(st.len(u), 1, "duplicate dropped");
        st.add(u, "y", 2, true, vec![b, c]);
        assert_eq!(st.len(u), 2, "limit");
        st.remove(u, "x");
        let names: Vec<&str> = st.fds(u).map(|(n, _)| n).collect();
        assert_eq!(names, vec!["y"]);
        st.release(u);
        assert!(st.is_empty(u));
        assert_eq!(st.drop_hung_up(), 0);
    }
}
