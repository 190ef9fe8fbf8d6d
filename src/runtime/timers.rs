//! The runtime side of timer units: the real time zone rules for `OnCalendar=` (local time
//! through the C library's `localtime_r`, which reads `/etc/localtime` or `$TZ`) and the
//! `Persistent=` stamp files (`<state dir>/timers/stamp-<unit>`, whose modification time is the
//! last trigger, as systemd keeps them under `/var/lib/systemd/timers`).

use std::path::{Path, PathBuf};

use crate::spec::calendar::ZoneOffsets;

/// Local time as the C library knows it. Named zones other than UTC are not evaluated
/// (`None`: such an expression does not elapse; the unit-file parser warns about it).
pub struct LocalZone;

impl ZoneOffsets for LocalZone {
    fn utc_offset(&self, zone: Option<&str>, utc_secs: i64) -> Option<i64> {
        match zone {
            None => {
                #[allow(clippy::useless_conversion)] // time_t is not i64 everywhere
                let t: libc::time_t = utc_secs.try_into().ok()?;
                // SAFETY: localtime_r only writes the `tm` we pass; both pointers are valid.
                let mut tm: libc::tm = unsafe { std::mem::zeroed() };
                let r = unsafe { libc::localtime_r(&t, &mut tm) };
                if r.is_null() {
                    return None;
                }
                #[allow(clippy::useless_conversion)]
                Some(i64::from(tm.tm_gmtoff))
            }
            Some("UTC") | Some("Etc/UTC") => Some(0),
            Some(_) => None,
        }
    }
}

/// Where the `Persistent=` stamp of timer `name` lives.
pub fn stamp_path(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join("timers").join(format!("stamp-{name}"))
}

/// The stamp's modification time (µs since the epoch), creating an empty stamp (modification
/// time now) when the timer never ran, as systemd does.
pub fn read_stamp(state_dir: &Path, name: &str) -> Option<u64> {
    let path = stamp_path(state_dir, name);
    match std::fs::metadata(&path) {
        Ok(md) => {
            let mtime = md.modified().ok()?;
            let d = mtime.duration_since(std::time::UNIX_EPOCH).ok()?;
            u64::try_from(d.as_micros()).ok()
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Err(e) = create(&path) {
                tracing::warn!("cannot create timer stamp {}: {e}", path.display());
            }
            None
        }
        Err(e) => {
            tracing::warn!("cannot read timer stamp {}: {e}", path.display());
            None
        }
    }
}

fn create(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

/// Set the stamp's modification time to `realtime` (µs since the epoch).
pub fn touch_stamp(state_dir: &Path, name: &str, realtime: u64) {
    let path = stamp_path(state_dir, name);
    let r = create(&path).and_then(|f| {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_micros(realtime);
        f.set_times(std::fs::FileTimes::new().set_modified(t).set_accessed(t))
    });
    if let Err(e) = r {
        tracing::warn!("cannot update timer stamp {}: {e}", path.display());
    }
}

/// Notices when the wall clock is set (a `CLOCK_REALTIME` timerfd armed with
/// `TFD_TIMER_CANCEL_ON_SET`, as systemd watches it): calendar timers then recompute and
/// `OnClockChange=` timers trigger.
pub struct ClockWatch {
    // Declared first: deregistered from the reactor before the timerfd closes.
    async_fd: tokio::io::unix::AsyncFd<std::os::fd::RawFd>,
    timer: nix::sys::timerfd::TimerFd,
}

impl ClockWatch {
    /// A watch, or `None` (with a warning) when the kernel offers none.
    pub fn new() -> Option<ClockWatch> {
        use nix::sys::timerfd::{ClockId, TimerFd, TimerFlags};
        use std::os::fd::{AsFd, AsRawFd};
        let timer = TimerFd::new(
            ClockId::CLOCK_REALTIME,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )
        .inspect_err(|e| tracing::warn!("cannot watch for clock changes: {e}"))
        .ok()?;
        Self::arm(&timer)?;
        let fd = timer.as_fd().as_raw_fd();
        // SAFETY: the timerfd lives in the same struct and is dropped after the AsyncFd.
        let async_fd = unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE)
        }
        .inspect_err(|e| tracing::warn!("cannot poll the clock-change timerfd: {e}"))
        .ok()?;
        Some(ClockWatch { async_fd, timer })
    }

    /// Arm the timer for the far future, cancelled when the clock is set.
    fn arm(timer: &nix::sys::timerfd::TimerFd) -> Option<()> {
        use nix::sys::time::TimeSpec;
        use nix::sys::timerfd::{Expiration, TimerSetTimeFlags};
        timer
            .set(
                Expiration::OneShot(TimeSpec::new(i64::from(i32::MAX), 0)),
                TimerSetTimeFlags::TFD_TIMER_ABSTIME | TimerSetTimeFlags::TFD_TIMER_CANCEL_ON_SET,
            )
            .inspect_err(|e| tracing::warn!("cannot arm the clock-change timerfd: {e}"))
            .ok()
    }

    /// Resolve once the wall clock has been set (then watch again).
    pub async fn changed(&self) {
        loop {
            let Ok(mut guard) = self.async_fd.readable().await else {
                return std::future::pending().await;
            };
            let mut buf = [0u8; 8];
            // SAFETY: reading 8 bytes into a local buffer from our own timerfd.
            let n = unsafe { libc::read(*self.async_fd.get_ref(), buf.as_mut_ptr().cast(), 8) };
            let err = std::io::Error::last_os_error();
            if n < 0 && err.raw_os_error() == Some(libc::EAGAIN) {
                guard.clear_ready();
                continue;
            }
            guard.clear_ready();
            // ECANCELED: the clock was set; (an expiry in 2038 counts as a change too).
            if Self::arm(&self.timer).is_none() {
                return std::future::pending().await;
            }
            return;
        }
    }
}

/// Wait for a clock change; never resolves without a watch.
pub async fn clock_changed(watch: Option<&ClockWatch>) {
    match watch {
        Some(w) => w.changed().await,
        None => std::future::pending().await,
    }
}
