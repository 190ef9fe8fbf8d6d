//! The runtime side of timer units: the real time zone rules for `OnCalendar=` (local time
//! through the C library's `localtime_r`, which reads `/etc/localtime` or `$TZ`; named zones
//! such as `Europe/Berlin` from the TZif files under `/usr/share/zoneinfo`, RFC 8536, with
//! their POSIX-TZ footer for times past the last transition), the `Persistent=` stamp files
//! (`<state dir>/timers/stamp-<unit>`, whose modification time is the last trigger, as
//! systemd keeps them under `/var/lib/systemd/timers`) and the clock-change watch.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::spec::calendar::{ZoneOffsets, civil_from_days, days_from_civil};

/// Where named zones' TZif files live.
const ZONEINFO: &str = "/usr/share/zoneinfo";

/// Local time and named zones from the zoneinfo database. Local time is what the C library
/// would use: `$TZ` (a zone name, `:path` or a POSIX rule) or else `/etc/localtime` (missing:
/// UTC), read here with the TZif reader so a change of `/etc/localtime` can be picked up
/// ([`LocalZone::reload_local`]); should that file be unreadable, `localtime_r` answers. Named
/// zones are read once each; an unknown zone has no offsets (`None`: such an expression never
/// elapses).
pub struct LocalZone {
    local: Mutex<LocalTime>,
    named: Mutex<HashMap<String, Option<TzData>>>,
}

/// Where local time comes from, and the file content it was read from.
struct LocalTime {
    rules: Option<TzData>,
    file: Option<(PathBuf, Vec<u8>)>,
}

impl LocalTime {
    fn load() -> LocalTime {
        let tz = std::env::var("TZ").ok();
        let file = match tz.as_deref() {
            None => Some(PathBuf::from("/etc/localtime")),
            // An empty TZ is UTC.
            Some("") => {
                return LocalTime {
                    rules: PosixTz::parse("UTC0").map(TzData::from_rule),
                    file: None,
                };
            }
            Some(t) => {
                let t = t.strip_prefix(':').unwrap_or(t);
                if t.starts_with('/') {
                    Some(PathBuf::from(t))
                } else if !t.contains("..") && Path::new(ZONEINFO).join(t).is_file() {
                    Some(Path::new(ZONEINFO).join(t))
                } else {
                    return LocalTime {
                        rules: PosixTz::parse(t).map(TzData::from_rule),
                        file: None,
                    };
                }
            }
        };
        let Some(path) = file else {
            return LocalTime {
                rules: None,
                file: None,
            };
        };
        match std::fs::read(&path) {
            Ok(bytes) => LocalTime {
                rules: TzData::parse(&bytes),
                file: Some((path, bytes)),
            },
            // No /etc/localtime: UTC, as the C library has it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => LocalTime {
                rules: PosixTz::parse("UTC0").map(TzData::from_rule),
                file: Some((path, Vec::new())),
            },
            Err(_) => LocalTime {
                rules: None,
                file: None,
            },
        }
    }
}

impl Default for LocalZone {
    fn default() -> Self {
        LocalZone {
            local: Mutex::new(LocalTime::load()),
            named: Mutex::new(HashMap::new()),
        }
    }
}

impl LocalZone {
    /// A provider for the manager's local time and the system's zoneinfo database.
    pub fn new() -> LocalZone {
        LocalZone::default()
    }

    /// A provider whose local time comes from the TZif file `path` (tests; the manager uses
    /// [`LocalZone::new`]).
    pub fn with_local_file(path: &Path) -> LocalZone {
        let bytes = std::fs::read(path).unwrap_or_default();
        LocalZone {
            local: Mutex::new(LocalTime {
                rules: TzData::parse(&bytes),
                file: Some((path.to_owned(), bytes)),
            }),
            named: Mutex::new(HashMap::new()),
        }
    }

    /// Read the local time zone's file again; `true` when its content changed (the time zone
    /// changed: timers recompute, `OnTimezoneChange=` ones trigger).
    pub fn reload_local(&self) -> bool {
        let Ok(mut local) = self.local.lock() else {
            return false;
        };
        let Some((path, old)) = &local.file else {
            return false;
        };
        let now = std::fs::read(path).unwrap_or_default();
        if now == *old {
            return false;
        }
        let path = path.clone();
        *local = if path == Path::new("/etc/localtime") || std::env::var_os("TZ").is_some() {
            LocalTime::load()
        } else {
            LocalTime {
                rules: TzData::parse(&now),
                file: Some((path, now)),
            }
        };
        true
    }
}

/// A [`LocalZone`] shared between the engine and the runtime (which reloads it).
pub struct SharedZone(pub std::sync::Arc<LocalZone>);

impl ZoneOffsets for SharedZone {
    fn utc_offset(&self, zone: Option<&str>, utc_secs: i64) -> Option<i64> {
        self.0.utc_offset(zone, utc_secs)
    }
}

impl ZoneOffsets for LocalZone {
    fn utc_offset(&self, zone: Option<&str>, utc_secs: i64) -> Option<i64> {
        match zone {
            None => {
                if let Ok(local) = self.local.lock()
                    && let Some(rules) = &local.rules
                {
                    return Some(rules.offset_at(utc_secs));
                }
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
            Some(name) => {
                let mut named = self.named.lock().ok()?;
                let data = named.entry(name.to_owned()).or_insert_with(|| {
                    let path = Path::new(ZONEINFO).join(name);
                    let data = std::fs::read(&path).ok().and_then(|b| TzData::parse(&b));
                    if data.is_none() {
                        tracing::warn!(
                            "time zone {name}: no valid zone file {}; calendar expressions in it never elapse",
                            path.display()
                        );
                    }
                    data
                });
                data.as_ref().map(|d| d.offset_at(utc_secs))
            }
        }
    }
}

/// The rules of one zone: TZif transitions plus the POSIX-TZ footer for later times.
#[derive(Debug, Clone)]
pub struct TzData {
    /// (transition time, UTC offset from then on), ascending.
    transitions: Vec<(i64, i64)>,
    /// UTC offset before the first transition (local time type 0).
    initial: i64,
    /// The footer rule, if any.
    footer: Option<PosixTz>,
}

impl TzData {
    /// Parse a TZif file (version 1 data only when there is no 64-bit block).
    pub fn parse(b: &[u8]) -> Option<TzData> {
        if b.len() < 44 || &b[..4] != b"TZif" {
            return None;
        }
        let version = b[4];
        let counts = |h: &[u8]| -> Option<[usize; 6]> {
            let mut c = [0usize; 6];
            for (i, v) in c.iter_mut().enumerate() {
                let o = 20 + i * 4;
                *v = u32::from_be_bytes(h.get(o..o + 4)?.try_into().ok()?) as usize;
            }
            Some(c)
        };
        // [isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt]
        let c1 = counts(b)?;
        let v1_len = c1[3] * 5 + c1[4] * 6 + c1[5] + c1[2] * 8 + c1[1] + c1[0];
        let (data, c, tsize) = if version >= b'2' {
            let h2 = b.get(44 + v1_len..)?;
            if h2.len() < 44 || &h2[..4] != b"TZif" {
                return None;
            }
            (&h2[44..], counts(h2)?, 8)
        } else {
            (&b[44..], c1, 4)
        };
        let (timecnt, typecnt, charcnt, leapcnt) = (c[3], c[4], c[5], c[2]);
        if typecnt == 0 {
            return None;
        }
        let times = data.get(..timecnt * tsize)?;
        let idx = data.get(timecnt * tsize..timecnt * (tsize + 1))?;
        let types_at = timecnt * (tsize + 1);
        let types = data.get(types_at..types_at + typecnt * 6)?;
        let utoff = |i: usize| -> Option<i64> {
            let t = types.get(i * 6..i * 6 + 4)?;
            Some(i64::from(i32::from_be_bytes(t.try_into().ok()?)))
        };
        let mut transitions = Vec::with_capacity(timecnt);
        for i in 0..timecnt {
            let t = &times[i * tsize..(i + 1) * tsize];
            let at = if tsize == 8 {
                i64::from_be_bytes(t.try_into().ok()?)
            } else {
                i64::from(i32::from_be_bytes(t.try_into().ok()?))
            };
            transitions.push((at, utoff(usize::from(idx[i]))?));
        }
        let footer = if version >= b'2' {
            let rest_at = types_at + typecnt * 6 + charcnt + leapcnt * (tsize + 4) + c[1] + c[0];
            data.get(rest_at..)
                .and_then(|r| std::str::from_utf8(r).ok())
                .and_then(|r| r.strip_prefix('\n'))
                .and_then(|r| r.split('\n').next())
                .filter(|r| !r.is_empty())
                .and_then(PosixTz::parse)
        } else {
            None
        };
        Some(TzData {
            transitions,
            initial: utoff(0)?,
            footer,
        })
    }

    /// A zone that is just a POSIX rule (`$TZ=CET-1CEST,M3.5.0,M10.5.0/3`).
    pub fn from_rule(rule: PosixTz) -> TzData {
        TzData {
            transitions: Vec::new(),
            initial: rule.std,
            footer: Some(rule),
        }
    }

    /// Seconds east of UTC at `t` (seconds since the epoch).
    pub fn offset_at(&self, t: i64) -> i64 {
        match self.transitions.last() {
            Some(&(last, off)) if t >= last => self.footer.as_ref().map_or(off, |f| f.offset_at(t)),
            Some(_) => {
                let i = self.transitions.partition_point(|(at, _)| *at <= t);
                if i == 0 {
                    self.initial
                } else {
                    self.transitions[i - 1].1
                }
            }
            None => self
                .footer
                .as_ref()
                .map_or(self.initial, |f| f.offset_at(t)),
        }
    }
}

/// A POSIX `TZ` rule (`CET-1CEST,M3.5.0,M10.5.0/3`): standard offset, and optionally a
/// daylight-saving offset with the dates it starts and ends.
#[derive(Debug, Clone)]
pub struct PosixTz {
    std: i64,
    dst: Option<(i64, DateRule, i64, DateRule, i64)>,
}

/// When in the year a rule switches (POSIX `Jn`, `n`, `Mm.w.d`).
#[derive(Debug, Clone, Copy)]
enum DateRule {
    /// `Jn`: day 1–365, February 29 never counted.
    Julian1(i64),
    /// `n`: day 0–365, February 29 counted.
    Julian0(i64),
    /// `Mm.w.d`: day `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
    Month(i64, i64, i64),
}

impl PosixTz {
    /// Parse a POSIX TZ string (as found in TZif footers).
    pub fn parse(s: &str) -> Option<PosixTz> {
        let mut p = s.as_bytes();
        let name = |p: &mut &[u8]| -> Option<()> {
            if p.first() == Some(&b'<') {
                let end = p.iter().position(|&c| c == b'>')?;
                *p = &p[end + 1..];
            } else {
                let n = p.iter().take_while(|c| c.is_ascii_alphabetic()).count();
                if n < 3 {
                    return None;
                }
                *p = &p[n..];
            }
            Some(())
        };
        // [+-]hh[:mm[:ss]] in seconds.
        let hms = |p: &mut &[u8]| -> Option<i64> {
            let mut sign = 1;
            if let Some(&c) = p.first()
                && (c == b'+' || c == b'-')
            {
                if c == b'-' {
                    sign = -1;
                }
                *p = &p[1..];
            }
            let mut total = 0;
            for (i, mult) in [3600, 60, 1].into_iter().enumerate() {
                if i > 0 {
                    if p.first() != Some(&b':') {
                        break;
                    }
                    *p = &p[1..];
                }
                let n = p.iter().take_while(|c| c.is_ascii_digit()).count();
                if n == 0 {
                    return None;
                }
                let v: i64 = std::str::from_utf8(&p[..n]).ok()?.parse().ok()?;
                *p = &p[n..];
                total += v * mult;
            }
            Some(sign * total)
        };
        let num = |p: &mut &[u8]| -> Option<i64> {
            let n = p.iter().take_while(|c| c.is_ascii_digit()).count();
            let v = std::str::from_utf8(&p[..n]).ok()?.parse().ok()?;
            *p = &p[n..];
            Some(v)
        };
        let rule = |p: &mut &[u8]| -> Option<(DateRule, i64)> {
            let r = match p.first()? {
                b'J' => {
                    *p = &p[1..];
                    DateRule::Julian1(num(p)?)
                }
                b'M' => {
                    *p = &p[1..];
                    let m = num(p)?;
                    (p.first() == Some(&b'.')).then_some(())?;
                    *p = &p[1..];
                    let w = num(p)?;
                    (p.first() == Some(&b'.')).then_some(())?;
                    *p = &p[1..];
                    DateRule::Month(m, w, num(p)?)
                }
                _ => DateRule::Julian0(num(p)?),
            };
            let time = if p.first() == Some(&b'/') {
                *p = &p[1..];
                hms(p)?
            } else {
                7200
            };
            Some((r, time))
        };
        name(&mut p)?;
        let std = -hms(&mut p)?;
        if p.is_empty() {
            return Some(PosixTz { std, dst: None });
        }
        name(&mut p)?;
        let dst_off = if p.first().is_some_and(|&c| c != b',') {
            -hms(&mut p)?
        } else {
            std + 3600
        };
        if p.first() != Some(&b',') {
            // No rule: US rules are the POSIX default, but TZif footers always carry one.
            return None;
        }
        p = &p[1..];
        let (start, start_time) = rule(&mut p)?;
        (p.first() == Some(&b',')).then_some(())?;
        p = &p[1..];
        let (end, end_time) = rule(&mut p)?;
        if !p.is_empty() {
            return None;
        }
        Some(PosixTz {
            std,
            dst: Some((dst_off, start, start_time, end, end_time)),
        })
    }

    /// Seconds east of UTC at `t`.
    pub fn offset_at(&self, t: i64) -> i64 {
        let Some((dst, start, start_time, end, end_time)) = self.dst else {
            return self.std;
        };
        let year = civil_year(t + self.std);
        // Switch instants in UTC: the start in standard time, the end in daylight time.
        let begin = rule_day(start, year) * 86_400 + start_time - self.std;
        let finish = rule_day(end, year) * 86_400 + end_time - dst;
        let in_dst = if begin < finish {
            (begin..finish).contains(&t)
        } else {
            !(finish..begin).contains(&t)
        };
        if in_dst { dst } else { self.std }
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// The (UTC) year of `t` seconds since the epoch.
fn civil_year(t: i64) -> i64 {
    civil_from_days(t.div_euclid(86_400)).0
}

/// The day (days since the epoch) a rule names in `year`.
fn rule_day(r: DateRule, year: i64) -> i64 {
    let jan1 = days_from_civil(year, 1, 1);
    match r {
        DateRule::Julian1(n) => jan1 + n - 1 + i64::from(is_leap(year) && n >= 60),
        DateRule::Julian0(n) => jan1 + n,
        DateRule::Month(m, w, d) => {
            let first = days_from_civil(year, m, 1);
            let wd_first = (first + 4).rem_euclid(7); // 0 = Sunday
            let mut day = first + (d - wd_first).rem_euclid(7) + (w - 1) * 7;
            let next_month = if m == 12 {
                days_from_civil(year + 1, 1, 1)
            } else {
                days_from_civil(year, m + 1, 1)
            };
            while day >= next_month {
                day -= 7;
            }
            day
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

/// Notices changes of `/etc/localtime` (inotify on `/etc`, as systemd watches it): the caller
/// then asks [`LocalZone::reload_local`] whether the local time zone really changed.
pub struct TimezoneWatch {
    // Declared first: deregistered from the reactor before the inotify fd closes.
    async_fd: tokio::io::unix::AsyncFd<std::os::fd::RawFd>,
    _fd: std::os::fd::OwnedFd,
}

impl TimezoneWatch {
    /// A watch on `/etc`, or `None` when inotify or `/etc` is not available.
    pub fn new() -> Option<TimezoneWatch> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        // SAFETY: plain syscalls; the returned fd is owned from here on.
        let raw = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if raw < 0 {
            return None;
        }
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mask = libc::IN_CLOSE_WRITE
            | libc::IN_MOVED_TO
            | libc::IN_CREATE
            | libc::IN_DELETE
            | libc::IN_ATTRIB
            | libc::IN_ONLYDIR;
        let wd = unsafe { libc::inotify_add_watch(raw, c"/etc".as_ptr(), mask) };
        if wd < 0 {
            return None;
        }
        // SAFETY: `_fd` lives in the same struct and is dropped after the AsyncFd.
        let async_fd = unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(
                fd.as_raw_fd(),
                tokio::io::Interest::READABLE,
            )
        }
        .ok()?;
        Some(TimezoneWatch { async_fd, _fd: fd })
    }

    /// Resolve once something named `localtime` in `/etc` changed.
    pub async fn changed(&self) {
        loop {
            let Ok(mut guard) = self.async_fd.readable().await else {
                return std::future::pending().await;
            };
            let mut hit = false;
            let mut buf = [0u8; 4096];
            loop {
                // SAFETY: reading into a local buffer from our own inotify fd.
                let n = unsafe {
                    libc::read(*self.async_fd.get_ref(), buf.as_mut_ptr().cast(), buf.len())
                };
                if n <= 0 {
                    break;
                }
                let mut off = 0usize;
                let n = n as usize;
                let header = std::mem::size_of::<libc::inotify_event>();
                while off + header <= n {
                    // The name follows the fixed header, NUL-padded to `len` bytes.
                    let len =
                        u32::from_ne_bytes(buf[off + 12..off + 16].try_into().unwrap_or_default())
                            as usize;
                    let name = &buf[off + header..(off + header + len).min(n)];
                    let name = name.split(|&b| b == 0).next().unwrap_or_default();
                    hit |= name == b"localtime";
                    off += header + len;
                }
            }
            guard.clear_ready();
            if hit {
                return;
            }
        }
    }
}

/// Wait for a change of `/etc/localtime`; never resolves without a watch.
pub async fn timezone_changed(watch: Option<&TimezoneWatch>) {
    match watch {
        Some(w) => w.changed().await,
        None => std::future::pending().await,
    }
}

/// Wait for a clock change; never resolves without a watch.
pub async fn clock_changed(watch: Option<&ClockWatch>) {
    match watch {
        Some(w) => w.changed().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posix_rules() {
        let cet = PosixTz::parse("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        // 2026-03-29 00:59:59 UTC / 01:00:00 UTC: the spring switch.
        assert_eq!(cet.offset_at(1_774_745_999), 3600);
        assert_eq!(cet.offset_at(1_774_746_000), 7200);
        // 2026-10-25 00:59:59 / 01:00:00 UTC: the autumn switch.
        assert_eq!(cet.offset_at(1_792_889_999), 7200);
        assert_eq!(cet.offset_at(1_792_890_000), 3600);
        let nz = PosixTz::parse("NZST-12NZDT,M9.5.0,M4.1.0/3").unwrap();
        assert_eq!(nz.offset_at(1_767_225_600), 13 * 3600); // 2026-01-01: summer
        assert_eq!(nz.offset_at(1_782_864_000), 12 * 3600); // 2026-07-01: winter
        let fixed = PosixTz::parse("<+0530>-5:30").unwrap();
        assert_eq!(fixed.offset_at(0), 19_800);
        assert!(PosixTz::parse("X").is_none());
    }

    #[test]
    fn zoneinfo_files_when_installed() {
        let zones = LocalZone::new();
        assert_eq!(zones.utc_offset(Some("UTC"), 0), Some(0));
        assert_eq!(zones.utc_offset(Some("No/Such_Zone"), 0), None);
        if !Path::new("/usr/share/zoneinfo/Europe/Berlin").exists() {
            eprintln!("skipped: tzdata not installed");
            return;
        }
        let berlin = Some("Europe/Berlin");
        assert_eq!(zones.utc_offset(berlin, 1_774_745_999), Some(3600));
        assert_eq!(zones.utc_offset(berlin, 1_774_746_000), Some(7200));
        // 2100-07-01, past the table: the footer rule.
        assert_eq!(zones.utc_offset(berlin, 4_118_083_200), Some(7200));
        assert_eq!(
            zones.utc_offset(Some("America/New_York"), 1_782_864_000),
            Some(-4 * 3600)
        );
        // 1890: before the first transition (1893), local mean time.
        assert_eq!(zones.utc_offset(berlin, -2_524_521_600), Some(3208));
    }

    #[test]
    fn local_zone_follows_its_file() {
        let berlin = Path::new("/usr/share/zoneinfo/Europe/Berlin");
        let new_york = Path::new("/usr/share/zoneinfo/America/New_York");
        if !berlin.exists() || !new_york.exists() {
            eprintln!("skipped: tzdata not installed");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("localtime");
        std::fs::copy(berlin, &local).unwrap();
        let zones = LocalZone::with_local_file(&local);
        assert_eq!(zones.utc_offset(None, 1_782_864_000), Some(7200));
        assert!(!zones.reload_local(), "unchanged file");
        std::fs::copy(new_york, &local).unwrap();
        assert!(zones.reload_local());
        assert_eq!(zones.utc_offset(None, 1_782_864_000), Some(-4 * 3600));
        assert!(!zones.reload_local());
    }
}
