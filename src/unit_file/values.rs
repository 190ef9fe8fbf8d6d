//! Value grammars shared by many settings: booleans, time spans, IEC sizes, signals, exit-status
//! names, resource limits, and the validity checks systemd applies to paths, user and group
//! names, environment names and bus names. Pure functions; each returns `None`/`Err` for input
//! systemd 252 would refuse.

use crate::spec::{USEC_INFINITY, USEC_PER_SEC};

/// `parse_boolean`: `1 yes y true t on` / `0 no n false f off`, case-insensitive.
pub fn parse_bool(s: &str) -> Option<bool> {
    const YES: [&str; 6] = ["1", "yes", "y", "true", "t", "on"];
    const NO: [&str; 6] = ["0", "no", "n", "false", "f", "off"];
    if YES.iter().any(|y| y.eq_ignore_ascii_case(s)) {
        Some(true)
    } else if NO.iter().any(|n| n.eq_ignore_ascii_case(s)) {
        Some(false)
    } else {
        None
    }
}

const USEC_PER_MSEC: u64 = 1_000;
const USEC_PER_MINUTE: u64 = 60 * USEC_PER_SEC;
const USEC_PER_HOUR: u64 = 60 * USEC_PER_MINUTE;
const USEC_PER_DAY: u64 = 24 * USEC_PER_HOUR;
const USEC_PER_WEEK: u64 = 7 * USEC_PER_DAY;
const USEC_PER_MONTH: u64 = 2_629_800 * USEC_PER_SEC;
const USEC_PER_YEAR: u64 = 31_557_600 * USEC_PER_SEC;

/// Time units in systemd's matching order (first prefix match wins).
const TIME_UNITS: &[(&str, u64)] = &[
    ("seconds", USEC_PER_SEC),
    ("second", USEC_PER_SEC),
    ("sec", USEC_PER_SEC),
    ("s", USEC_PER_SEC),
    ("minutes", USEC_PER_MINUTE),
    ("minute", USEC_PER_MINUTE),
    ("min", USEC_PER_MINUTE),
    ("months", USEC_PER_MONTH),
    ("month", USEC_PER_MONTH),
    ("M", USEC_PER_MONTH),
    ("msec", USEC_PER_MSEC),
    ("ms", USEC_PER_MSEC),
    ("m", USEC_PER_MINUTE),
    ("hours", USEC_PER_HOUR),
    ("hour", USEC_PER_HOUR),
    ("hr", USEC_PER_HOUR),
    ("h", USEC_PER_HOUR),
    ("days", USEC_PER_DAY),
    ("day", USEC_PER_DAY),
    ("d", USEC_PER_DAY),
    ("weeks", USEC_PER_WEEK),
    ("week", USEC_PER_WEEK),
    ("w", USEC_PER_WEEK),
    ("years", USEC_PER_YEAR),
    ("year", USEC_PER_YEAR),
    ("y", USEC_PER_YEAR),
    ("usec", 1),
    ("us", 1),
    ("\u{b5}s", 1),
    ("\u{3bc}s", 1),
];

const IEC_UNITS: &[(&str, u64)] = &[
    ("E", 1 << 60),
    ("P", 1 << 50),
    ("T", 1 << 40),
    ("G", 1 << 30),
    ("M", 1 << 20),
    ("K", 1 << 10),
    ("B", 1),
    ("", 1),
];

fn trim_ws(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

fn trim_ws_start(s: &str) -> &str {
    s.trim_start_matches([' ', '\t', '\n', '\r'])
}

/// A number with an optional fraction, as systemd reads it before a unit: returns
/// `(integer, fraction digits, rest)`.
fn split_number(s: &str) -> Option<(u64, &str, &str)> {
    let s = s.strip_prefix('+').unwrap_or(s);
    let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
    let (int_s, rest) = s.split_at(int_len);
    let (frac, rest) = match rest.strip_prefix('.') {
        Some(r) => {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            r.split_at(n)
        }
        None if int_len == 0 => return None,
        None => ("", rest),
    };
    let int = if int_s.is_empty() {
        0
    } else {
        int_s.parse::<u64>().ok()?
    };
    Some((int, frac, rest))
}

/// `integer.fraction * mult`, rounded down.
fn scale(int: u64, frac: &str, mult: u64) -> Option<u64> {
    let v = int.checked_mul(mult)?;
    if frac.is_empty() {
        return Some(v);
    }
    let digits = &frac[..frac.len().min(18)];
    let num: u128 = digits.parse().ok()?;
    let den: u128 = 10u128.pow(digits.len() as u32);
    let f = u64::try_from(num * u128::from(mult) / den).ok()?;
    v.checked_add(f)
}

/// `parse_time`: a time span (`2min 200ms`, `1.5h`, `infinity`) in microseconds; a number
/// without a unit is multiplied by `default_unit`.
pub fn parse_time(s: &str, default_unit: u64) -> Option<u64> {
    let mut p = trim_ws_start(s);
    if let Some(rest) = p.strip_prefix("infinity") {
        return trim_ws(rest).is_empty().then_some(USEC_INFINITY);
    }
    let mut total: u64 = 0;
    let mut something = false;
    loop {
        p = trim_ws_start(p);
        if p.is_empty() {
            return something.then_some(total);
        }
        if p.starts_with('-') {
            return None;
        }
        let (int, frac, rest) = split_number(p)?;
        let rest = trim_ws_start(rest);
        let (mult, rest) = TIME_UNITS
            .iter()
            .find_map(|(u, m)| rest.strip_prefix(u).map(|r| (*m, r)))
            .unwrap_or((default_unit, rest));
        total = total.checked_add(scale(int, frac, mult)?)?;
        something = true;
        p = rest;
    }
}

/// `parse_sec`: [`parse_time`] with seconds as the default unit.
pub fn parse_sec(s: &str) -> Option<u64> {
    parse_time(s, USEC_PER_SEC)
}

/// `parse_sec_fix_0`: like [`parse_sec`], but `0` means infinity (timeouts).
pub fn parse_sec_fix_0(s: &str) -> Option<u64> {
    parse_sec(s).map(|v| if v == 0 { USEC_INFINITY } else { v })
}

/// `parse_size` with base 1024: `512`, `4K`, `1.5G`, `1G 512M` (terms add up).
pub fn parse_size_iec(s: &str) -> Option<u64> {
    let mut p = trim_ws_start(s);
    if p.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    loop {
        if p.starts_with('-') {
            return None;
        }
        let (int, frac, rest) = split_number(p)?;
        let rest = trim_ws_start(rest);
        let (mult, rest) = IEC_UNITS
            .iter()
            .find_map(|(u, m)| rest.strip_prefix(u).map(|r| (*m, r)))
            .unwrap_or((1, rest));
        total = total.checked_add(scale(int, frac, mult)?)?;
        p = trim_ws_start(rest);
        if p.is_empty() {
            return Some(total);
        }
    }
}

/// An unsigned decimal (`safe_atou64`-like: surrounding whitespace allowed, no sign).
pub fn parse_u64(s: &str) -> Option<u64> {
    let t = trim_ws(s);
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

use crate::spec::linux::SIGNALS;

/// Highest valid signal number (`_NSIG - 1`).
const SIGNAL_MAX: i32 = 64;

pub use crate::spec::linux::signal_name;

/// `signal_from_string`: `15`, `TERM`, `SIGTERM`, `RTMIN`, `RTMIN+3`, `SIGRTMAX-1`.
pub fn parse_signal(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (1..=SIGNAL_MAX).contains(&n).then_some(n);
    }
    let s = s.strip_prefix("SIG").unwrap_or(s);
    if let Some((_, n)) = SIGNALS.iter().find(|(name, _)| *name == s) {
        return Some(*n);
    }
    let (rtmin, rtmax) = (crate::spec::linux::SIGRTMIN, crate::spec::linux::SIGRTMAX);
    if let Some(rest) = s.strip_prefix("RTMIN") {
        if rest.is_empty() {
            return Some(rtmin);
        }
        let n: i32 = rest.strip_prefix('+')?.parse().ok()?;
        return (0..=rtmax - rtmin).contains(&n).then_some(rtmin + n);
    }
    if let Some(rest) = s.strip_prefix("RTMAX") {
        if rest.is_empty() {
            return Some(rtmax);
        }
        rest.strip_prefix('-')?;
        let n: i32 = rest.parse().ok()?;
        return (rtmin - rtmax..=0).contains(&n).then_some(rtmax + n);
    }
    None
}

/// Exit-status names (`exit_status_mappings`: libc, LSB, BSD `sysexits.h`, systemd's own).
const EXIT_STATUS_NAMES: &[(&str, u8)] = &[
    ("SUCCESS", 0),
    ("FAILURE", 1),
    ("INVALIDARGUMENT", 2),
    ("NOTIMPLEMENTED", 3),
    ("NOPERMISSION", 4),
    ("NOTINSTALLED", 5),
    ("NOTCONFIGURED", 6),
    ("NOTRUNNING", 7),
    ("USAGE", 64),
    ("DATAERR", 65),
    ("NOINPUT", 66),
    ("NOUSER", 67),
    ("NOHOST", 68),
    ("UNAVAILABLE", 69),
    ("SOFTWARE", 70),
    ("OSERR", 71),
    ("OSFILE", 72),
    ("CANTCREAT", 73),
    ("IOERR", 74),
    ("TEMPFAIL", 75),
    ("PROTOCOL", 76),
    ("NOPERM", 77),
    ("CONFIG", 78),
    ("CHDIR", 200),
    ("NICE", 201),
    ("FDS", 202),
    ("EXEC", 203),
    ("MEMORY", 204),
    ("LIMITS", 205),
    ("OOM_ADJUST", 206),
    ("SIGNAL_MASK", 207),
    ("STDIN", 208),
    ("STDOUT", 209),
    ("CHROOT", 210),
    ("IOPRIO", 211),
    ("TIMERSLACK", 212),
    ("SECUREBITS", 213),
    ("SETSCHEDULER", 214),
    ("CPUAFFINITY", 215),
    ("GROUP", 216),
    ("USER", 217),
    ("CAPABILITIES", 218),
    ("CGROUP", 219),
    ("SETSID", 220),
    ("CONFIRM", 221),
    ("STDERR", 222),
    ("PAM", 224),
    ("NETWORK", 225),
    ("NAMESPACE", 226),
    ("NO_NEW_PRIVILEGES", 227),
    ("SECCOMP", 228),
    ("SELINUX_CONTEXT", 229),
    ("PERSONALITY", 230),
    ("APPARMOR", 231),
    ("ADDRESS_FAMILIES", 232),
    ("RUNTIME_DIRECTORY", 233),
    ("CHOWN", 235),
    ("SMACK_PROCESS_LABEL", 236),
    ("KEYRING", 237),
    ("STATE_DIRECTORY", 238),
    ("CACHE_DIRECTORY", 239),
    ("LOGS_DIRECTORY", 240),
    ("CONFIGURATION_DIRECTORY", 241),
    ("NUMA_POLICY", 242),
    ("CREDENTIALS", 243),
    ("BPF", 245),
    ("EXCEPTION", 255),
];

/// `exit_status_from_string`: a name from systemd's table or a number 0–255.
pub fn parse_exit_status(s: &str) -> Option<u8> {
    if let Some((_, v)) = EXIT_STATUS_NAMES.iter().find(|(n, _)| *n == s) {
        return Some(*v);
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// How a `Limit*=` value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LimitKind {
    /// A plain number.
    Count,
    /// Bytes with K/M/G/… suffixes (base 1024).
    Size,
    /// Seconds (time units allowed, rounded up).
    Seconds,
    /// Microseconds (time units allowed; a bare number is µs).
    Micros,
    /// Nice levels (`-20..19` with sign, or raw `0..40`).
    Nice,
}

/// The Linux `RLIMIT_*` number of a `Limit*=` key.
pub fn rlimit_for_key(key: &str) -> Option<i32> {
    RLIMITS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, r, _)| *r)
}

#[allow(clippy::unnecessary_cast)]
const RLIMITS: &[(&str, i32, LimitKind)] = &[
    (
        "LimitCPU",
        crate::spec::linux::RLIMIT_CPU,
        LimitKind::Seconds,
    ),
    (
        "LimitFSIZE",
        crate::spec::linux::RLIMIT_FSIZE,
        LimitKind::Size,
    ),
    (
        "LimitDATA",
        crate::spec::linux::RLIMIT_DATA,
        LimitKind::Size,
    ),
    (
        "LimitSTACK",
        crate::spec::linux::RLIMIT_STACK,
        LimitKind::Size,
    ),
    (
        "LimitCORE",
        crate::spec::linux::RLIMIT_CORE,
        LimitKind::Size,
    ),
    ("LimitRSS", crate::spec::linux::RLIMIT_RSS, LimitKind::Size),
    (
        "LimitNOFILE",
        crate::spec::linux::RLIMIT_NOFILE,
        LimitKind::Count,
    ),
    ("LimitAS", crate::spec::linux::RLIMIT_AS, LimitKind::Size),
    (
        "LimitNPROC",
        crate::spec::linux::RLIMIT_NPROC,
        LimitKind::Count,
    ),
    (
        "LimitMEMLOCK",
        crate::spec::linux::RLIMIT_MEMLOCK,
        LimitKind::Size,
    ),
    (
        "LimitLOCKS",
        crate::spec::linux::RLIMIT_LOCKS,
        LimitKind::Count,
    ),
    (
        "LimitSIGPENDING",
        crate::spec::linux::RLIMIT_SIGPENDING,
        LimitKind::Count,
    ),
    (
        "LimitMSGQUEUE",
        crate::spec::linux::RLIMIT_MSGQUEUE,
        LimitKind::Size,
    ),
    (
        "LimitNICE",
        crate::spec::linux::RLIMIT_NICE,
        LimitKind::Nice,
    ),
    (
        "LimitRTPRIO",
        crate::spec::linux::RLIMIT_RTPRIO,
        LimitKind::Count,
    ),
    (
        "LimitRTTIME",
        crate::spec::linux::RLIMIT_RTTIME,
        LimitKind::Micros,
    ),
];

/// Why a `Limit*=` value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RlimitError {
    /// The value does not parse.
    Invalid,
    /// `soft:hard` with soft above hard.
    SoftAboveHard,
}

fn parse_limit_one(kind: LimitKind, s: &str) -> Option<u64> {
    if s == "infinity" {
        return Some(u64::MAX);
    }
    match kind {
        LimitKind::Count => parse_u64(s),
        LimitKind::Size => parse_size_iec(s),
        LimitKind::Seconds => {
            let t = parse_sec(s)?;
            Some(if t == USEC_INFINITY {
                u64::MAX
            } else {
                t.div_ceil(USEC_PER_SEC)
            })
        }
        LimitKind::Micros => {
            let t = parse_time(s, 1)?;
            Some(if t == USEC_INFINITY { u64::MAX } else { t })
        }
        LimitKind::Nice => {
            if let Some(r) = s.strip_prefix('+') {
                let v = parse_u64(r)?;
                (v < 20).then(|| 20 - v)
            } else if let Some(r) = s.strip_prefix('-') {
                let v = parse_u64(r)?;
                (v <= 20).then(|| 20 + v)
            } else {
                let v = parse_u64(s)?;
                (v <= 40).then_some(v)
            }
        }
    }
}

/// Parse the value of `Limit*=` key `key`: `(resource, soft, hard)`; `u64::MAX` = infinity.
pub fn parse_rlimit(key: &str, value: &str) -> Result<(i32, u64, u64), RlimitError> {
    let (_, res, kind) = RLIMITS
        .iter()
        .find(|(k, _, _)| *k == key)
        .ok_or(RlimitError::Invalid)?;
    let (soft, hard) = match value.split_once(':') {
        Some((s, h)) => (
            parse_limit_one(*kind, s).ok_or(RlimitError::Invalid)?,
            parse_limit_one(*kind, h).ok_or(RlimitError::Invalid)?,
        ),
        None => {
            let v = parse_limit_one(*kind, value).ok_or(RlimitError::Invalid)?;
            (v, v)
        }
    };
    if soft > hard {
        return Err(RlimitError::SoftAboveHard);
    }
    Ok((*res, soft, hard))
}

/// `env_name_is_valid`: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn env_name_is_valid(s: &str) -> bool {
    let mut b = s.bytes();
    match b.next() {
        Some(c) if c.is_ascii_alphabetic() || c == b'_' => {}
        _ => return false,
    }
    b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// `env_assignment_is_valid`: `NAME=VALUE` with a valid name (values may hold anything).
pub fn env_assignment_is_valid(s: &str) -> bool {
    match s.split_once('=') {
        Some((name, _)) => env_name_is_valid(name),
        None => false,
    }
}

/// `string_is_safe`: no control characters, quotes or backslashes.
pub fn string_is_safe(s: &str) -> bool {
    !s.chars()
        .any(|c| (c as u32) < 0x20 || c == '\x7f' || c == '"' || c == '\'' || c == '\\')
}

/// `filename_is_valid`: non-empty, no `/`, not `.`/`..`, at most 255 bytes.
pub fn filename_is_valid(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains('/') && s.len() <= 255
}

/// `path_is_valid`: non-empty, shorter than `PATH_MAX`, every component at most 255 bytes.
pub fn path_is_valid(s: &str) -> bool {
    !s.is_empty() && s.len() < 4096 && s.split('/').all(|c| c.len() <= 255)
}

/// `path_simplify`: collapse repeated `/`, drop `.` components and a trailing `/` (keeps `..`).
pub fn path_simplify(s: &str) -> String {
    let absolute = s.starts_with('/');
    let parts: Vec<&str> = s
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Why [`check_absolute_path`] refused a path (`path_simplify_and_warn`).
pub fn check_absolute_path(s: &str) -> Result<String, &'static str> {
    if !s.starts_with('/') {
        return Err("path is not absolute");
    }
    if !path_is_valid(s) || s.contains('\0') {
        return Err("path is not valid");
    }
    let simplified = path_simplify(s);
    if simplified.split('/').any(|c| c == "..") {
        return Err("path is not normalized");
    }
    Ok(simplified)
}

/// `valid_user_group_name` in relaxed mode with numeric ids allowed (`User=`, `Group=`).
pub fn user_group_name_is_valid(s: &str) -> bool {
    if s.is_empty() || s.len() > 255 {
        return false;
    }
    if s.starts_with(' ') || s.ends_with(' ') {
        return false;
    }
    if s.chars()
        .any(|c| (c as u32) < 0x20 || c == '\x7f' || c == ':' || c == '/')
    {
        return false;
    }
    if s == "." || s == ".." {
        return false;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        // A numeric uid: 0..=4294967294, and not the 16-bit "nobody" overflow 65535.
        return matches!(s.parse::<u64>(), Ok(v) if v < u64::from(u32::MAX) && v != 65535);
    }
    if let Some(rest) = s.strip_prefix('-')
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_digit())
    {
        return false;
    }
    true
}

/// `sd_bus_service_name_is_valid`: a well-known name (`a.b`, elements of `[A-Za-z0-9_-]`, not
/// starting with a digit) or a unique name (`:1.42`).
pub fn bus_name_is_valid(s: &str) -> bool {
    if s.is_empty() || s.len() > 255 {
        return false;
    }
    let (unique, body) = match s.strip_prefix(':') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let elements: Vec<&str> = body.split('.').collect();
    if elements.len() < 2 {
        return false;
    }
    elements.iter().all(|e| {
        !e.is_empty()
            && e.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            && (unique || !e.as_bytes()[0].is_ascii_digit())
    })
}

/// Job modes accepted by `OnFailureJobMode=`/`OnSuccessJobMode=` (systemd 252).
pub const JOB_MODES: &[&str] = &[
    "fail",
    "replace",
    "replace-irreversibly",
    "isolate",
    "flush",
    "ignore-dependencies",
    "ignore-requirements",
];

/// `parse_mode`: an octal file mode up to `07777`.
pub fn parse_mode(s: &str) -> Option<u32> {
    let t = trim_ws(s);
    if t.is_empty() || !t.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    let v = u32::from_str_radix(t, 8).ok()?;
    (v <= 0o7777).then_some(v)
}

/// `documentation_url_is_valid`: `http(s)://`, `file:/`, `info:`, `man:` URIs.
pub fn documentation_url_is_valid(s: &str) -> bool {
    if !s.is_ascii() || s.chars().any(|c| c.is_ascii_control()) {
        return false;
    }
    for prefix in ["http://", "https://", "file:/", "info:", "man:"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            return !rest.is_empty();
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        for y in ["1", "yes", "Y", "TRUE", "t", "On"] {
            assert_eq!(parse_bool(y), Some(true), "{y}");
        }
        for n in ["0", "No", "n", "false", "F", "off"] {
            assert_eq!(parse_bool(n), Some(false), "{n}");
        }
        assert_eq!(parse_bool(""), None);
        assert_eq!(parse_bool("yess"), None);
    }

    #[test]
    fn time_spans() {
        let s = USEC_PER_SEC;
        let table: &[(&str, Option<u64>)] = &[
            ("5", Some(5 * s)),
            ("5s", Some(5 * s)),
            ("5 s", Some(5 * s)),
            ("2min 200ms", Some(120 * s + 200_000)),
            ("1.5h", Some(5400 * s)),
            ("500ms", Some(500_000)),
            ("10us", Some(10)),
            ("10\u{b5}s", Some(10)),
            ("1d", Some(86_400 * s)),
            ("1w", Some(604_800 * s)),
            ("1M", Some(2_629_800 * s)),
            ("1y", Some(31_557_600 * s)),
            ("1m", Some(60 * s)),
            ("3 minutes 4 seconds", Some(184 * s)),
            ("1h30m", Some(5400 * s)),
            ("0", Some(0)),
            ("infinity", Some(USEC_INFINITY)),
            (" infinity ", Some(USEC_INFINITY)),
            ("", None),
            ("-5", None),
            ("5x", None),
            ("abc", None),
            ("infinityx", None),
            ("5secs", None),
        ];
        for (input, want) in table {
            assert_eq!(parse_sec(input), *want, "{input:?}");
        }
        assert_eq!(parse_sec_fix_0("0"), Some(USEC_INFINITY));
        assert_eq!(parse_time("7", 1), Some(7));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size_iec("512"), Some(512));
        assert_eq!(parse_size_iec("4K"), Some(4096));
        assert_eq!(parse_size_iec("1G"), Some(1 << 30));
        assert_eq!(parse_size_iec("1.5M"), Some(1_572_864));
        assert_eq!(parse_size_iec("1G 512M"), Some((1 << 30) + (512 << 20)));
        assert_eq!(parse_size_iec("-1"), None);
        assert_eq!(parse_size_iec("1Q"), None);
        assert_eq!(parse_size_iec(""), None);
    }

    #[test]
    fn signals() {
        assert_eq!(parse_signal("SIGTERM"), Some(15));
        assert_eq!(parse_signal("TERM"), Some(15));
        assert_eq!(parse_signal("9"), Some(9));
        assert_eq!(parse_signal("SIGKILL"), Some(9));
        assert_eq!(parse_signal("HUP"), Some(1));
        assert_eq!(parse_signal("RTMIN"), Some(crate::spec::linux::SIGRTMIN));
        assert_eq!(
            parse_signal("SIGRTMIN+2"),
            Some(crate::spec::linux::SIGRTMIN + 2)
        );
        assert_eq!(
            parse_signal("RTMAX-1"),
            Some(crate::spec::linux::SIGRTMAX - 1)
        );
        assert_eq!(parse_signal("0"), None);
        assert_eq!(parse_signal("65"), None);
        assert_eq!(parse_signal("SIGFOO"), None);
        assert_eq!(parse_signal("sigterm"), None);
        assert_eq!(signal_name(6), Some("ABRT"));
        assert_eq!(signal_name(29), Some("IO"));
    }

    #[test]
    fn exit_statuses() {
        assert_eq!(parse_exit_status("TEMPFAIL"), Some(75));
        assert_eq!(parse_exit_status("NOTINSTALLED"), Some(5));
        assert_eq!(parse_exit_status("EXEC"), Some(203));
        assert_eq!(parse_exit_status("42"), Some(42));
        assert_eq!(parse_exit_status("256"), None);
        assert_eq!(parse_exit_status("SIGTERM"), None);
        assert_eq!(parse_exit_status("-1"), None);
    }

    #[test]
    fn rlimits() {
        let nofile = crate::spec::linux::RLIMIT_NOFILE;
        assert_eq!(
            parse_rlimit("LimitNOFILE", "1024:4096"),
            Ok((nofile, 1024, 4096))
        );
        assert_eq!(
            parse_rlimit("LimitNOFILE", "infinity"),
            Ok((nofile, u64::MAX, u64::MAX))
        );
        assert_eq!(
            parse_rlimit("LimitNOFILE", "4096:1024"),
            Err(RlimitError::SoftAboveHard)
        );
        assert_eq!(
            parse_rlimit("LimitNOFILE", "lots"),
            Err(RlimitError::Invalid)
        );
        let core = crate::spec::linux::RLIMIT_CORE;
        assert_eq!(
            parse_rlimit("LimitCORE", "8M:infinity"),
            Ok((core, 8 << 20, u64::MAX))
        );
        let cpu = crate::spec::linux::RLIMIT_CPU;
        assert_eq!(parse_rlimit("LimitCPU", "90"), Ok((cpu, 90, 90)));
        assert_eq!(parse_rlimit("LimitCPU", "1min"), Ok((cpu, 60, 60)));
        assert_eq!(parse_rlimit("LimitCPU", "1500ms"), Ok((cpu, 2, 2)));
        let rt = crate::spec::linux::RLIMIT_RTTIME;
        assert_eq!(parse_rlimit("LimitRTTIME", "500"), Ok((rt, 500, 500)));
        assert_eq!(
            parse_rlimit("LimitRTTIME", "1s"),
            Ok((rt, 1_000_000, 1_000_000))
        );
        let nice = crate::spec::linux::RLIMIT_NICE;
        assert_eq!(parse_rlimit("LimitNICE", "-5"), Ok((nice, 25, 25)));
        assert_eq!(parse_rlimit("LimitNICE", "+5"), Ok((nice, 15, 15)));
        assert_eq!(parse_rlimit("LimitNICE", "30"), Ok((nice, 30, 30)));
        assert_eq!(parse_rlimit("LimitNICE", "41"), Err(RlimitError::Invalid));
        assert_eq!(
            rlimit_for_key("LimitAS"),
            Some(crate::spec::linux::RLIMIT_AS)
        );
    }

    #[test]
    fn names_and_paths() {
        assert!(env_name_is_valid("_A1"));
        assert!(!env_name_is_valid("1A"));
        assert!(!env_name_is_valid("A-B"));
        assert!(!env_name_is_valid(""));
        assert!(env_assignment_is_valid("A="));
        assert!(!env_assignment_is_valid("A"));
        assert!(!env_assignment_is_valid("=x"));
        assert!(user_group_name_is_valid("www-data"));
        assert!(user_group_name_is_valid("1000"));
        assert!(!user_group_name_is_valid("-1"));
        assert!(!user_group_name_is_valid("a:b"));
        assert!(!user_group_name_is_valid(""));
        assert!(!user_group_name_is_valid("65535"));
        assert!(bus_name_is_valid("org.example.Foo"));
        assert!(bus_name_is_valid(":1.42"));
        assert!(!bus_name_is_valid("org"));
        assert!(!bus_name_is_valid("org.1example"));
        assert_eq!(path_simplify("//usr/./bin//x/"), "/usr/bin/x");
        assert_eq!(
            check_absolute_path("/a/../b"),
            Err("path is not normalized")
        );
        assert_eq!(check_absolute_path("rel"), Err("path is not absolute"));
        assert_eq!(check_absolute_path("/a//b").as_deref(), Ok("/a/b"));
        assert_eq!(parse_mode("0027"), Some(0o27));
        assert_eq!(parse_mode("8"), None);
        assert_eq!(parse_mode("17777"), None);
        assert!(documentation_url_is_valid("man:systemd(1)"));
        assert!(documentation_url_is_valid("https://example.org"));
        assert!(!documentation_url_is_valid("ftp://x"));
        assert!(!documentation_url_is_valid("man:"));
    }
}
