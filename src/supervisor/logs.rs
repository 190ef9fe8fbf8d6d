//! The per-unit log store (unitd's stand-in for the journal) and `unitd logs`.
//!
//! Output of services whose stdout/stderr go to `journal` (the default) arrives through a pipe;
//! one tokio task per open pipe ([`LogPump`]) reads it and appends one record per line to
//! `<state_dir>/logs/<unit>.log`. Pipes exist only while some process of the unit holds the
//! write end, so idle units cost nothing. Nothing is dropped when a service floods: the pump only
//! reads as fast as it writes, and a full pipe blocks the writer (backpressure).
//!
//! # On-disk format
//! One record per line: `<realtime µs> <pid> <identifier> <raw line bytes>\n`; the identifier is
//! the unit name for service output and `unitd` for the manager's own messages about the unit.
//! Lines longer than [`LINE_MAX`] are split; a partial last line is flushed at EOF. When a file
//! grows beyond [`DEFAULT_MAX_FILE`] it is renamed to `<unit>.log.1` (replacing the previous
//! one) and a new file is started.
//!
//! # `unitd logs` output
//! `YYYY-MM-DD HH:MM:SS UNIT[PID]: line` in local time (ISO-like and sortable, instead of
//! journalctl's `Mon DD HH:MM:SS host ident[pid]:`).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::settings::Settings;

/// Longest line stored as one record (journald's default `LineMax=`); longer lines are split.
pub const LINE_MAX: usize = 48 * 1024;
/// Read buffer of one log pump.
const PUMP_BUFFER: usize = 8 * 1024;
/// Size at which a unit's log file is rotated to `.1`.
pub const DEFAULT_MAX_FILE: u64 = 4 * 1024 * 1024;

/// Directory of the per-unit logs under a state directory.
pub fn logs_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("logs")
}

/// File name of a unit's log: the unit name with every byte outside `[A-Za-z0-9:_.@-]`
/// (and a leading `.`) written as `%XX`, plus `.log`.
pub fn log_file_name(unit: &str) -> String {
    let mut s = String::with_capacity(unit.len() + 4);
    for (i, b) in unit.bytes().enumerate() {
        let plain = b.is_ascii_alphanumeric() || b":_@-".contains(&b) || (b == b'.' && i > 0);
        if plain {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s.push_str(".log");
    s
}

/// Path of a unit's current log file.
pub fn log_path(state_dir: &Path, unit: &str) -> PathBuf {
    logs_dir(state_dir).join(log_file_name(unit))
}

/// Path of a unit's rotated log file.
fn rotated_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".1");
    PathBuf::from(s)
}

/// Append one record for `line` (no newline inside) to `out`.
pub fn format_record(out: &mut Vec<u8>, usec: u64, pid: u32, ident: &str, line: &[u8]) {
    out.extend_from_slice(format!("{usec} {pid} {ident} ").as_bytes());
    out.extend_from_slice(line);
    out.push(b'\n');
}

/// One stored line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// CLOCK_REALTIME µs when the line was read.
    pub usec: u64,
    /// The process that wrote it (the spawned process for service output).
    pub pid: u32,
    /// Unit name, or `unitd` for manager messages.
    pub ident: String,
    /// The line, without its newline.
    pub line: Vec<u8>,
}

/// Parse one stored record (without its newline).
pub fn parse_record(rec: &[u8]) -> Option<Record> {
    let mut parts = rec.splitn(4, |b| *b == b' ');
    let usec = std::str::from_utf8(parts.next()?).ok()?.parse().ok()?;
    let pid = std::str::from_utf8(parts.next()?).ok()?.parse().ok()?;
    let ident = String::from_utf8(parts.next()?.to_vec()).ok()?;
    let line = parts.next().unwrap_or_default().to_vec();
    Some(Record {
        usec,
        pid,
        ident,
        line,
    })
}

/// Format a record for display: `YYYY-MM-DD HH:MM:SS IDENT[PID]: line\n` (local time).
pub fn display_record(out: &mut Vec<u8>, rec: &Record) {
    let secs = (rec.usec / 1_000_000) as libc::time_t;
    // SAFETY: localtime_r writes into the zeroed tm we pass and reads only `secs`.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    if ok {
        out.extend_from_slice(
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02} ",
                tm.tm_year + 1900,
                tm.tm_mon + 1,
                tm.tm_mday,
                tm.tm_hour,
                tm.tm_min,
                tm.tm_sec
            )
            .as_bytes(),
        );
    } else {
        out.extend_from_slice(format!("@{secs} ").as_bytes());
    }
    out.extend_from_slice(format!("{}[{}]: ", rec.ident, rec.pid).as_bytes());
    out.extend_from_slice(&rec.line);
    out.push(b'\n');
}

fn now_usec() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// One unit's open log file.
struct UnitLog {
    path: PathBuf,
    file: Option<File>,
    size: u64,
    max: u64,
    /// A write error was already reported (avoid flooding the daemon's own log).
    warned: bool,
}

impl UnitLog {
    fn open(&mut self) -> io::Result<&mut File> {
        if self.file.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
            self.size = f.metadata()?.len();
            self.file = Some(f);
        }
        Ok(self.file.as_mut().expect("just opened"))
    }

    fn write(&mut self, records: &[u8]) -> io::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.open()?;
        if self.size > 0 && self.size + records.len() as u64 > self.max {
            self.file = None;
            std::fs::rename(&self.path, rotated_path(&self.path))?;
            self.open()?;
        }
        let f = self.open()?;
        f.write_all(records)?;
        self.size += records.len() as u64;
        Ok(())
    }
}

/// The set of per-unit log files of one manager; shared by the supervisor and its pumps.
pub struct LogStore {
    dir: PathBuf,
    max_file: u64,
    open: Mutex<HashMap<String, Weak<Mutex<UnitLog>>>>,
}

impl LogStore {
    /// A store under `<state_dir>/logs/` rotating files at `max_file` bytes.
    pub fn new(state_dir: &Path, max_file: u64) -> LogStore {
        LogStore {
            dir: logs_dir(state_dir),
            max_file: max_file.max(1),
            open: Mutex::new(HashMap::new()),
        }
    }

    /// The directory holding the log files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn unit_log(&self, unit: &str) -> Arc<Mutex<UnitLog>> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = open.get(unit).and_then(Weak::upgrade) {
            return l;
        }
        open.retain(|_, w| w.strong_count() > 0);
        let l = Arc::new(Mutex::new(UnitLog {
            path: self.dir.join(log_file_name(unit)),
            file: None,
            size: 0,
            max: self.max_file,
            warned: false,
        }));
        open.insert(unit.to_string(), Arc::downgrade(&l));
        l
    }

    /// Append already formatted records to `unit`'s log.
    fn write_records(log: &Mutex<UnitLog>, records: &[u8]) {
        let mut l = log.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = l.write(records) {
            if !l.warned {
                tracing::warn!("cannot write log {}: {e}", l.path.display());
                l.warned = true;
            }
        } else {
            l.warned = false;
        }
    }

    /// Append one line to `unit`'s log under `ident` (the unit name for service output,
    /// `unitd` for the manager's own messages) and `pid`.
    pub fn append(&self, unit: &str, ident: &str, pid: u32, line: &str) {
        let mut buf = Vec::new();
        for l in line.split('\n') {
            format_record(&mut buf, now_usec(), pid, ident, l.as_bytes());
        }
        let log = self.unit_log(unit);
        Self::write_records(&log, &buf);
    }
}

/// A pipe being pumped: (read end, unit, pid).
type PumpedPipe = (std::os::fd::RawFd, String, u32);

/// Drives log pipes on a tokio runtime: one task per open pipe, ending at EOF.
#[derive(Clone)]
pub struct LogPump {
    store: Arc<LogStore>,
    handle: tokio::runtime::Handle,
    active: Arc<AtomicUsize>,
    /// The pipes being pumped, by pump number: (read end, unit, pid). The fds are owned by
    /// the pump tasks; this registry only names them for a hand-over across `execve`.
    pipes: Arc<Mutex<HashMap<u64, PumpedPipe>>>,
    next: Arc<std::sync::atomic::AtomicU64>,
}

impl LogPump {
    /// Pumps that run on `handle` and write into `store`.
    pub fn new(store: Arc<LogStore>, handle: tokio::runtime::Handle) -> LogPump {
        LogPump {
            store,
            handle,
            active: Arc::new(AtomicUsize::new(0)),
            pipes: Arc::new(Mutex::new(HashMap::new())),
            next: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        }
    }

    /// The pipes being pumped now: (read end, unit, pid). The fds stay owned by their pump
    /// tasks; valid until the runtime next runs those tasks (daemon-reexec reads this right
    /// before `execve`).
    pub fn pipes(&self) -> Vec<(std::os::fd::RawFd, String, u32)> {
        let mut v: Vec<_> = self
            .pipes
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// The store written to.
    pub fn store(&self) -> &Arc<LogStore> {
        &self.store
    }

    /// Number of pipes still being pumped (each ends when every writer closed it).
    pub fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// Start pumping the read end `fd` of a pipe into `unit`'s log, attributing lines to `pid`.
    pub fn start(&self, fd: OwnedFd, unit: &str, pid: u32) {
        let log = self.store.unit_log(unit);
        let ident = unit.to_string();
        let active = self.active.clone();
        active.fetch_add(1, Ordering::SeqCst);
        let key = self.next.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut m) = self.pipes.lock() {
            m.insert(key, (fd.as_raw_fd(), ident.clone(), pid));
        }
        let pipes = self.pipes.clone();
        self.handle.spawn(async move {
            let r = pump(fd, &log, &ident, pid).await;
            if let Ok(mut m) = pipes.lock() {
                m.remove(&key);
            }
            if let Err(e) = r {
                tracing::warn!("log pipe of {ident} (pid {pid}): {e}");
            }
            active.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// Read `fd` until EOF, appending one record per line.
async fn pump(fd: OwnedFd, log: &Mutex<UnitLog>, ident: &str, pid: u32) -> io::Result<()> {
    set_nonblocking(&fd)?;
    // SAFETY: the OwnedFd is moved into the AsyncFd and stays open as long as it lives.
    let afd = unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE)?
    };
    // Small on purpose: one buffer lives per running service. A pipe holds 64 KiB, so a
    // flooding writer just costs more wake-ups, never lost data.
    let mut buf = vec![0u8; PUMP_BUFFER];
    let mut splitter = LineSplitter::default();
    loop {
        let mut guard = afd.readable().await?;
        let res = guard.try_io(|inner| {
            let n = unsafe {
                libc::read(
                    inner.get_ref().as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                )
            };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        });
        match res {
            Err(_would_block) => continue,
            Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
            Ok(Err(e)) => {
                flush(log, splitter.finish(now_usec(), pid, ident));
                return Err(e);
            }
            Ok(Ok(0)) => {
                flush(log, splitter.finish(now_usec(), pid, ident));
                return Ok(());
            }
            Ok(Ok(n)) => {
                let records = splitter.feed(&buf[..n], now_usec(), pid, ident);
                flush(log, records);
            }
        }
    }
}

fn flush(log: &Mutex<UnitLog>, records: Vec<u8>) {
    LogStore::write_records(log, &records);
}

fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: plain fcntl on an fd we own.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Splits a byte stream into records: complete lines, lines longer than [`LINE_MAX`] in pieces,
/// and the partial rest at [`LineSplitter::finish`].
#[derive(Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    /// Consume `data`, returning the formatted records of every complete line.
    pub fn feed(&mut self, data: &[u8], usec: u64, pid: u32, ident: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + data.len() / 8);
        let mut rest = data;
        while !rest.is_empty() {
            match memchr(b'\n', rest) {
                Some(i) => {
                    let (line, tail) = rest.split_at(i);
                    if self.partial.is_empty() {
                        self.emit_long(&mut out, line, usec, pid, ident);
                    } else {
                        self.partial.extend_from_slice(line);
                        let p = std::mem::take(&mut self.partial);
                        self.emit_long(&mut out, &p, usec, pid, ident);
                    }
                    rest = &tail[1..];
                }
                None => {
                    self.partial.extend_from_slice(rest);
                    while self.partial.len() >= LINE_MAX {
                        let chunk: Vec<u8> = self.partial.drain(..LINE_MAX).collect();
                        format_record(&mut out, usec, pid, ident, &chunk);
                    }
                    rest = &[];
                }
            }
        }
        out
    }

    fn emit_long(&self, out: &mut Vec<u8>, line: &[u8], usec: u64, pid: u32, ident: &str) {
        if line.is_empty() {
            format_record(out, usec, pid, ident, line);
        }
        for chunk in line.chunks(LINE_MAX) {
            format_record(out, usec, pid, ident, chunk);
        }
    }

    /// The records of a partial last line, if any.
    pub fn finish(&mut self, usec: u64, pid: u32, ident: &str) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.partial.is_empty() {
            let p = std::mem::take(&mut self.partial);
            self.emit_long(&mut out, &p, usec, pid, ident);
        }
        out
    }
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|b| *b == needle)
}

/// Read every record of a unit's log (rotated file first), oldest first.
pub fn read_records(state_dir: &Path, unit: &str) -> io::Result<Vec<Record>> {
    let path = log_path(state_dir, unit);
    let mut data = Vec::new();
    let mut any = false;
    for p in [rotated_path(&path), path] {
        match std::fs::read(&p) {
            Ok(d) => {
                any = true;
                data.extend_from_slice(&d);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    if !any {
        return Err(io::Error::new(io::ErrorKind::NotFound, "no log"));
    }
    Ok(parse_records(&data).0)
}

/// Parse complete records from `data`; returns them and how many bytes were consumed (a
/// trailing record without newline is left for later).
fn parse_records(data: &[u8]) -> (Vec<Record>, usize) {
    let mut out = Vec::new();
    let mut used = 0;
    while let Some(i) = memchr(b'\n', &data[used..]) {
        if let Some(r) = parse_record(&data[used..used + i]) {
            out.push(r);
        }
        used += i + 1;
    }
    (out, used)
}

/// The unit name `unitd logs` looks up: names without a type suffix get `.service`, as
/// systemctl does.
pub fn normalize_unit_arg(unit: &str) -> String {
    const SUFFIXES: [&str; 11] = [
        ".service",
        ".socket",
        ".target",
        ".timer",
        ".path",
        ".mount",
        ".automount",
        ".swap",
        ".slice",
        ".scope",
        ".device",
    ];
    if SUFFIXES.iter().any(|s| unit.ends_with(s)) {
        unit.to_string()
    } else {
        format!("{unit}.service")
    }
}

/// `unitd logs UNIT [-f] [-n N]`: print the unit's stored output (`YYYY-MM-DD HH:MM:SS
/// UNIT[PID]: line`), only the last `lines` lines when given (10 with `-f` and no `-n`, like
/// journalctl), then with `follow` keep printing new lines (surviving rotation) until killed.
/// Exit status 1 when the unit has no log.
pub fn logs_command(
    settings: &Settings,
    unit: &str,
    follow: bool,
    lines: Option<usize>,
) -> ExitCode {
    let unit = normalize_unit_arg(unit);
    let path = log_path(&settings.state_dir, &unit);
    // Open the current file first and keep the handle, so following continues exactly where
    // the initial read stopped.
    let mut file = File::open(&path).ok();
    let current_ino = file
        .as_ref()
        .and_then(|f| f.metadata().ok())
        .map(|m| m.ino());
    let mut data = Vec::new();
    let mut found = file.is_some();
    if let Ok(mut r) = File::open(rotated_path(&path)) {
        found = true;
        let same = r.metadata().ok().map(|m| m.ino()) == current_ino;
        if !same && let Err(e) = r.read_to_end(&mut data) {
            eprintln!("Failed to read log of {unit}: {e}");
            return ExitCode::from(1);
        }
    }
    if !found {
        eprintln!(
            "No log for unit {unit} (looked in {}).",
            logs_dir(&settings.state_dir).display()
        );
        return ExitCode::from(1);
    }
    if let Some(f) = file.as_mut()
        && let Err(e) = f.read_to_end(&mut data)
    {
        eprintln!("Failed to read log of {unit}: {e}");
        return ExitCode::from(1);
    }
    let (records, used) = parse_records(&data);
    let pending = data[used..].to_vec();
    let limit = lines.or(if follow { Some(10) } else { None });
    let skip = limit.map_or(0, |n| records.len().saturating_sub(n));
    let mut out = Vec::new();
    for r in &records[skip..] {
        display_record(&mut out, r);
    }
    let mut stdout = io::stdout().lock();
    if write_out(&mut stdout, &out).is_err() || !follow {
        return ExitCode::SUCCESS;
    }
    match follow_log(&path, file, pending, &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Failed to follow log of {unit}: {e}");
            ExitCode::from(1)
        }
    }
}

fn write_out(w: &mut impl Write, data: &[u8]) -> io::Result<()> {
    w.write_all(data)?;
    w.flush()
}

/// Print records appended to `path` after what `file` (already read to its end) held, forever. After a rotation the old file is
/// drained first; if the file rotated twice since the last poll, the intermediate `.1` is read
/// too before switching to the new file.
fn follow_log(
    path: &Path,
    mut file: Option<File>,
    mut pending: Vec<u8>,
    out: &mut impl Write,
) -> io::Result<()> {
    loop {
        let progressed = match file.as_mut() {
            Some(f) => drain(f, &mut pending, out)?,
            None => false,
        };
        if progressed {
            continue;
        }
        let current_ino = file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map(|m| m.ino());
        match std::fs::metadata(path) {
            Ok(m) if Some(m.ino()) != current_ino => {
                pending.clear();
                if current_ino.is_some() {
                    let rotated = rotated_path(path);
                    if let Ok(mut r) = File::open(&rotated)
                        && Some(r.metadata()?.ino()) != current_ino
                    {
                        drain(&mut r, &mut pending, out)?;
                        pending.clear();
                    }
                }
                file = File::open(path).ok();
                continue;
            }
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// Print every complete record readable from `f`; returns whether anything was read.
fn drain(f: &mut File, pending: &mut Vec<u8>, out: &mut impl Write) -> io::Result<bool> {
    let mut chunk = Vec::new();
    f.read_to_end(&mut chunk)?;
    if chunk.is_empty() {
        return Ok(false);
    }
    pending.extend_from_slice(&chunk);
    let (recs, used) = parse_records(pending);
    pending.drain(..used);
    let mut buf = Vec::new();
    for r in &recs {
        display_record(&mut buf, r);
    }
    write_out(out, &buf)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe() {
        assert_eq!(log_file_name("foo.service"), "foo.service.log");
        assert_eq!(log_file_name("a@b\\x2dc.service"), "a@b%5Cx2dc.service.log");
        assert_eq!(log_file_name("../x"), "%2E.%2Fx.log");
        assert_eq!(log_file_name(".."), "%2E..log");
    }

    #[test]
    fn record_round_trip() {
        let mut buf = Vec::new();
        format_record(&mut buf, 1_700_000_000_123_456, 42, "x.service", b"a b  c");
        format_record(&mut buf, 5, 7, "unitd", b"");
        let (recs, used) = parse_records(&buf);
        assert_eq!(used, buf.len());
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].usec, 1_700_000_000_123_456);
        assert_eq!(recs[0].pid, 42);
        assert_eq!(recs[0].ident, "x.service");
        assert_eq!(recs[0].line, b"a b  c");
        assert_eq!(recs[1].line, b"");
        let mut shown = Vec::new();
        display_record(&mut shown, &recs[0]);
        let shown = String::from_utf8(shown).unwrap();
        assert!(shown.ends_with(" x.service[42]: a b  c\n"), "{shown}");
        assert_eq!(shown.as_bytes()[4], b'-');
        assert_eq!(shown.as_bytes()[13], b':');
    }

    #[test]
    fn splitter_lines_partial_and_long() {
        let mut s = LineSplitter::default();
        let mut all = s.feed(b"one\ntw", 1, 9, "u");
        all.extend(s.feed(b"o\n\nthree", 1, 9, "u"));
        all.extend(s.finish(1, 9, "u"));
        let lines: Vec<Vec<u8>> = parse_records(&all).0.into_iter().map(|r| r.line).collect();
        assert_eq!(
            lines,
            vec![
                b"one".to_vec(),
                b"two".to_vec(),
                b"".to_vec(),
                b"three".to_vec()
            ]
        );
        let long = vec![b'x'; LINE_MAX * 2 + 5];
        let mut s = LineSplitter::default();
        let mut recs = s.feed(&long, 1, 1, "u");
        recs.extend(s.feed(b"\n", 1, 1, "u"));
        let lens: Vec<usize> = parse_records(&recs)
            .0
            .iter()
            .map(|r| r.line.len())
            .collect();
        assert_eq!(lens, vec![LINE_MAX, LINE_MAX, 5]);
    }

    #[test]
    fn store_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::new(dir.path(), 200);
        for i in 0..20 {
            store.append("r.service", "r.service", 1, &format!("line number {i}"));
        }
        let path = log_path(dir.path(), "r.service");
        assert!(rotated_path(&path).exists());
        assert!(std::fs::metadata(&path).unwrap().len() <= 200);
        let recs = read_records(dir.path(), "r.service").unwrap();
        assert_eq!(recs.last().unwrap().line, b"line number 19");
        let nums: Vec<String> = recs
            .iter()
            .map(|r| String::from_utf8(r.line.clone()).unwrap())
            .collect();
        let mut sorted = nums.clone();
        sorted.sort_by_key(|s| s[12..].parse::<u32>().unwrap());
        assert_eq!(nums, sorted, "records stay in order across rotation");
    }

    #[test]
    fn unit_arg() {
        assert_eq!(normalize_unit_arg("foo"), "foo.service");
        assert_eq!(normalize_unit_arg("foo.socket"), "foo.socket");
    }
}
