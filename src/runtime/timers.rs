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
