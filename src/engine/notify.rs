//! The sd_notify message: a pure parser from one datagram's bytes to a [`NotifyMessage`], with
//! systemd 252's rules (service-contract §1.4/§1.5). No sockets here: the supervisor receives
//! the datagram and its credentials; the engine decides what the fields do.
//!
//! Rules: datagrams larger than [`NOTIFY_BUFFER_MAX`] and datagrams with a NUL before the last
//! byte are dropped whole; lines are split on `\n`, empty lines dropped; `KEY=` fields take
//! their first occurrence; `READY=1`, `RELOADING=1` and `STOPPING=1` match exactly, and among
//! them the last one in the message wins (v252); a field that fails to parse (`MAINPID=abc`) is
//! ignored alone; unknown keys are ignored.

use serde::{Deserialize, Serialize};

/// Largest datagram the manager accepts (`PIPE_BUF`).
pub const NOTIFY_BUFFER_MAX: usize = 4096;
/// `STATUS=` values longer than this are ignored (`STATUS_TEXT_MAX`).
pub const STATUS_TEXT_MAX: usize = 16 * 1024;

/// Which of `READY=1` / `RELOADING=1` / `STOPPING=1` a message announces (the last one wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotifyState {
    Ready,
    Reloading,
    Stopping,
}

/// What `WATCHDOG=` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WatchdogPing {
    /// `WATCHDOG=1`: a keep-alive ping.
    Ping,
    /// `WATCHDOG=trigger`: fail the watchdog now.
    Trigger,
}

/// One parsed notification. Fields that were absent or did not parse are `None`/`false`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyMessage {
    /// The last of `READY=1`, `RELOADING=1`, `STOPPING=1` in the message.
    pub state: Option<NotifyState>,
    /// `RELOADING=1` appears anywhere in the message (253's notify-reload protocol looks at
    /// it and at `READY=1` independently of which came last).
    #[serde(default)]
    pub reloading: bool,
    /// `READY=1` appears anywhere in the message.
    #[serde(default)]
    pub ready: bool,
    /// `MONOTONIC_USEC=`: the sender's CLOCK_MONOTONIC in µs (253, with `RELOADING=1`).
    #[serde(default)]
    pub monotonic_usec: Option<u64>,
    /// `STATUS=` (valid UTF-8, at most [`STATUS_TEXT_MAX`] bytes; empty clears the status).
    pub status: Option<String>,
    /// `ERRNO=` as a non-negative number.
    pub errno: Option<i32>,
    /// `MAINPID=` (positive).
    pub main_pid: Option<u32>,
    /// `WATCHDOG=1` or `WATCHDOG=trigger`.
    pub watchdog: Option<WatchdogPing>,
    /// `WATCHDOG_USEC=` (0 disables).
    pub watchdog_usec: Option<u64>,
    /// `EXTEND_TIMEOUT_USEC=`.
    pub extend_timeout_usec: Option<u64>,
    /// `FDSTORE=1`.
    pub fdstore: bool,
    /// `FDSTOREREMOVE=1`.
    pub fdstore_remove: bool,
    /// `FDNAME=` if valid (ASCII printable, no `:`, at most 255 bytes).
    pub fdname: Option<String>,
    /// `FDPOLL=0` was given.
    pub fdpoll_off: bool,
    /// The message is exactly `BARRIER=1`.
    pub barrier: bool,
    /// `BARRIER=1` appeared together with other lines (systemd ignores such a message).
    pub barrier_with_extra: bool,
    /// Fields that were present but invalid (for logs).
    pub invalid: Vec<String>,
}

/// Why a datagram was dropped whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyReject {
    /// More than [`NOTIFY_BUFFER_MAX`] bytes (or truncated by the kernel).
    TooLarge,
    /// A NUL byte before the last byte.
    EmbeddedNul,
    /// No line carries anything the manager could act on and nothing parsed (still counted as
    /// garbage, not an error).
    Empty,
}

/// A `KEY=` value: the first line starting with `KEY=`.
fn first<'a>(lines: &[&'a [u8]], key: &[u8]) -> Option<&'a [u8]> {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(key).and_then(|rest| rest.strip_prefix(b"=")))
}

fn parse_u64(v: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(v).ok()?;
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn valid_fdname(v: &[u8]) -> bool {
    !v.is_empty() && v.len() <= 255 && v.iter().all(|b| (0x20..0x7f).contains(b) && *b != b':')
}

/// Parse one datagram (`truncated` is the kernel's `MSG_TRUNC`).
pub fn parse(data: &[u8], truncated: bool) -> Result<NotifyMessage, NotifyReject> {
    if truncated || data.len() > NOTIFY_BUFFER_MAX {
        return Err(NotifyReject::TooLarge);
    }
    let body = data.strip_suffix(b"\0").unwrap_or(data);
    if body.contains(&0) {
        return Err(NotifyReject::EmbeddedNul);
    }
    let lines: Vec<&[u8]> = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return Err(NotifyReject::Empty);
    }
    let mut m = NotifyMessage::default();
    if lines.contains(&&b"BARRIER=1"[..]) {
        if lines.len() == 1 {
            m.barrier = true;
        } else {
            m.barrier_with_extra = true;
        }
        return Ok(m);
    }
    // v252 walks the lines backwards: the last state line wins.
    for l in lines.iter().rev() {
        let st = match *l {
            b"READY=1" => NotifyState::Ready,
            b"RELOADING=1" => NotifyState::Reloading,
            b"STOPPING=1" => NotifyState::Stopping,
            _ => continue,
        };
        m.state = Some(st);
        break;
    }
    m.reloading = lines.contains(&&b"RELOADING=1"[..]);
    m.ready = lines.contains(&&b"READY=1"[..]);
    let bad = invalid_field;
    let mut invalid = Vec::new();
    if let Some(v) = first(&lines, b"STATUS") {
        match std::str::from_utf8(v) {
            Ok(s) if s.len() <= STATUS_TEXT_MAX => m.status = Some(s.to_owned()),
            _ => invalid.push(bad("STATUS", v)),
        }
    }
    if let Some(v) = first(&lines, b"ERRNO") {
        match parse_u64(v).and_then(|n| i32::try_from(n).ok()) {
            Some(n) => m.errno = Some(n),
            None => invalid.push(bad("ERRNO", v)),
        }
    }
    if let Some(v) = first(&lines, b"MAINPID") {
        match parse_u64(v)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
        {
            Some(n) => m.main_pid = Some(n),
            None => invalid.push(bad("MAINPID", v)),
        }
    }
    if let Some(v) = first(&lines, b"WATCHDOG") {
        match v {
            b"1" => m.watchdog = Some(WatchdogPing::Ping),
            b"trigger" => m.watchdog = Some(WatchdogPing::Trigger),
            _ => invalid.push(bad("WATCHDOG", v)),
        }
    }
    if let Some(v) = first(&lines, b"WATCHDOG_USEC") {
        match parse_u64(v) {
            Some(n) => m.watchdog_usec = Some(n),
            None => invalid.push(bad("WATCHDOG_USEC", v)),
        }
    }
    if let Some(v) = first(&lines, b"MONOTONIC_USEC") {
        match parse_u64(v) {
            Some(n) => m.monotonic_usec = Some(n),
            None => invalid.push(bad("MONOTONIC_USEC", v)),
        }
    }
    if let Some(v) = first(&lines, b"EXTEND_TIMEOUT_USEC") {
        match parse_u64(v) {
            Some(n) => m.extend_timeout_usec = Some(n),
            None => invalid.push(bad("EXTEND_TIMEOUT_USEC", v)),
        }
    }
    m.fdstore = lines.contains(&&b"FDSTORE=1"[..]);
    m.fdstore_remove = lines.contains(&&b"FDSTOREREMOVE=1"[..]);
    m.fdpoll_off = first(&lines, b"FDPOLL") == Some(b"0");
    if let Some(v) = first(&lines, b"FDNAME") {
        if valid_fdname(v) {
            m.fdname = Some(String::from_utf8_lossy(v).into_owned());
        } else {
            invalid.push(bad("FDNAME", v));
        }
    }
    m.invalid = invalid;
    Ok(m)
}

fn invalid_field(key: &str, v: &[u8]) -> String {
    let shown: String = String::from_utf8_lossy(&v[..v.len().min(64)]).into_owned();
    format!("{key}={shown}")
}

impl NotifyMessage {
    /// Whether the message asks for anything at all (used to count pure garbage).
    pub fn is_empty(&self) -> bool {
        self.state.is_none()
            && self.status.is_none()
            && self.errno.is_none()
            && self.main_pid.is_none()
            && self.watchdog.is_none()
            && self.watchdog_usec.is_none()
            && self.extend_timeout_usec.is_none()
            && !self.fdstore
            && !self.fdstore_remove
            && !self.barrier
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> NotifyMessage {
        parse(s.as_bytes(), false).expect("accepted")
    }

    #[test]
    fn ready_exact_only() {
        assert_eq!(p("READY=1").state, Some(NotifyState::Ready));
        assert_eq!(p("READY=1\n").state, Some(NotifyState::Ready));
        assert_eq!(p("READY=1 ").state, None);
        assert_eq!(p(" READY=1").state, None);
        assert_eq!(p("READY=0").state, None);
        assert_eq!(p("READY=1 \nX=1").state, None);
    }

    #[test]
    fn last_state_wins_v252() {
        assert_eq!(p("READY=1\nSTOPPING=1").state, Some(NotifyState::Stopping));
        assert_eq!(p("STOPPING=1\nREADY=1").state, Some(NotifyState::Ready));
        assert_eq!(
            p("READY=1\nRELOADING=1").state,
            Some(NotifyState::Reloading)
        );
    }

    #[test]
    fn first_key_wins() {
        let m = p("STATUS=a\nSTATUS=b\nERRNO=2\nERRNO=3");
        assert_eq!(m.status.as_deref(), Some("a"));
        assert_eq!(m.errno, Some(2));
        assert_eq!(p("STATUS=").status.as_deref(), Some(""));
    }

    #[test]
    fn size_limit() {
        let mut ok = b"READY=1\n".to_vec();
        ok.resize(4096, b'\n');
        assert_eq!(parse(&ok, false).unwrap().state, Some(NotifyState::Ready));
        let mut big = ok.clone();
        big.push(b'\n');
        assert_eq!(parse(&big, false), Err(NotifyReject::TooLarge));
        assert_eq!(parse(b"READY=1", true), Err(NotifyReject::TooLarge));
    }

    #[test]
    fn nul_rules() {
        assert_eq!(
            parse(b"READY=1\0", false).unwrap().state,
            Some(NotifyState::Ready)
        );
        assert_eq!(parse(b"READY=1\0X", false), Err(NotifyReject::EmbeddedNul));
        assert_eq!(parse(b"\0\0", false), Err(NotifyReject::EmbeddedNul));
    }

    #[test]
    fn per_field_errors_ignore_only_that_field() {
        let m = p("MAINPID=abc\nREADY=1\nSTATUS=ok\nERRNO=-1\nWATCHDOG=2\nFDNAME=a:b");
        assert_eq!(m.main_pid, None);
        assert_eq!(m.errno, None);
        assert_eq!(m.watchdog, None);
        assert_eq!(m.fdname, None);
        assert_eq!(m.state, Some(NotifyState::Ready));
        assert_eq!(m.status.as_deref(), Some("ok"));
        assert_eq!(m.invalid.len(), 4);
        assert_eq!(p("MAINPID=0").main_pid, None);
        assert_eq!(p("MAINPID=42").main_pid, Some(42));
    }

    #[test]
    fn unknown_and_junk_are_ignored() {
        let m = p("X_FOO=1\nno equals sign\nBUSERROR=org.x.Y");
        assert!(m.is_empty());
        assert_eq!(parse(b"\n\n", false), Err(NotifyReject::Empty));
        let junk: Vec<u8> = (1..=255u8).collect();
        let m = parse(&junk, false).unwrap();
        assert!(m.is_empty());
        assert!(p("STATUS=\u{fffd}ok").status.is_some());
        assert_eq!(parse(b"STATUS=\xff\xfe", false).unwrap().status, None);
    }

    #[test]
    fn reload_protocol_fields() {
        let m = p("RELOADING=1\nMONOTONIC_USEC=123456\nREADY=1");
        assert!(m.reloading && m.ready);
        assert_eq!(m.state, Some(NotifyState::Ready), "v252: the last one wins");
        assert_eq!(m.monotonic_usec, Some(123456));
        let m = p("RELOADING=1\nMONOTONIC_USEC=x");
        assert!(m.reloading && !m.ready);
        assert_eq!(m.monotonic_usec, None);
        assert_eq!(m.invalid.len(), 1);
    }

    #[test]
    fn barrier() {
        assert!(p("BARRIER=1").barrier);
        let m = p("BARRIER=1\nREADY=1");
        assert!(!m.barrier && m.barrier_with_extra && m.state.is_none());
    }

    #[test]
    fn watchdog_and_fdstore_fields() {
        let m = p("WATCHDOG=trigger\nWATCHDOG_USEC=5000\nEXTEND_TIMEOUT_USEC=7");
        assert_eq!(m.watchdog, Some(WatchdogPing::Trigger));
        assert_eq!(m.watchdog_usec, Some(5000));
        assert_eq!(m.extend_timeout_usec, Some(7));
        let m = p("FDSTORE=1\nFDNAME=myfile\nFDPOLL=0");
        assert!(m.fdstore && m.fdpoll_off);
        assert_eq!(m.fdname.as_deref(), Some("myfile"));
        assert!(p("FDSTOREREMOVE=1\nFDNAME=x").fdstore_remove);
    }
}
