//! Calendar event expressions of systemd.time(7) (`OnCalendar=`, `systemd-analyze calendar`).
//!
//! Owns the grammar (weekday lists and ranges, `year-month-day` / `month-day` with `~` for
//! "days from the end of the month", `*`, `a..b` ranges, `/n` repetitions, comma lists, seconds
//! with fractions, the shorthands `minutely` … `semiannually`, `@epoch`, and a trailing `UTC`
//! or time-zone name), the normalized form systemd prints, and [`CalendarSpec::next_elapse`],
//! the next time the expression matches after a given instant.
//!
//! Everything here is pure: no clock, no environment, no time-zone database. Local time (and
//! named zones) come from a caller-supplied [`ZoneOffsets`], so the engine stays
//! deterministic; the runtime supplies the real zone rules.

use serde::{Deserialize, Serialize};

const USEC_PER_SEC: i64 = 1_000_000;
/// The earliest and latest years an expression may name (systemd's `MIN_YEAR`/`MAX_YEAR`).
const MIN_YEAR: i64 = 1970;
const MAX_YEAR: i64 = 2199;
/// Longest comma list per component (systemd's `CALENDARSPEC_COMPONENTS_MAX`).
const COMPONENTS_MAX: usize = 240;

/// One element of a component's comma list: `start`, `start..stop`, `start/repeat` or
/// `start..stop/repeat`. Seconds are kept in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Component {
    /// First value.
    pub start: i32,
    /// Last value of a range; `-1` for none.
    pub stop: i32,
    /// Step; `0` for a single value.
    pub repeat: i32,
}

impl Component {
    fn single(v: i32) -> Component {
        Component {
            start: v,
            stop: -1,
            repeat: 0,
        }
    }
}

/// Which clock an expression is evaluated in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Zone {
    /// The manager's local time zone.
    Local,
    /// Coordinated Universal Time (`UTC` suffix).
    Utc,
    /// A named zone (`Europe/Berlin` suffix).
    Named(String),
}

/// UTC offsets of the local and named time zones, supplied by the caller.
pub trait ZoneOffsets {
    /// Seconds east of UTC in force at `utc_secs` (seconds since the epoch) in `zone`
    /// (`None` = local time). `None` when the zone is unknown.
    fn utc_offset(&self, zone: Option<&str>, utc_secs: i64) -> Option<i64>;
}

/// Every zone has the same fixed offset (seconds east of UTC); `FixedOffset(0)` treats local
/// time as UTC.
#[derive(Debug, Clone, Copy)]
pub struct FixedOffset(pub i64);

impl ZoneOffsets for FixedOffset {
    fn utc_offset(&self, _zone: Option<&str>, _utc_secs: i64) -> Option<i64> {
        Some(self.0)
    }
}

/// A parsed calendar event expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarSpec {
    /// Bit 0 = Monday … bit 6 = Sunday; `None` = any day.
    pub weekdays: Option<u8>,
    /// Year, month, day, hour, minute lists; empty = `*`.
    pub year: Vec<Component>,
    pub month: Vec<Component>,
    pub day: Vec<Component>,
    pub hour: Vec<Component>,
    pub minute: Vec<Component>,
    /// Seconds in µs; empty = `*` (stored as `0/1` in normal form).
    pub second: Vec<Component>,
    /// `~`: days count from the end of the month.
    pub end_of_month: bool,
    /// The zone the expression is evaluated in.
    pub zone: Zone,
}

/// Why an expression did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Failed to parse calendar specification '{0}'")]
pub struct CalendarError(pub String);

impl std::str::FromStr for CalendarSpec {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<CalendarSpec, CalendarError> {
        CalendarSpec::parse(s)
    }
}

/// Whether `s` looks like an IANA time-zone name (`Europe/Berlin`, `EST5EDT`, `Etc/GMT+2`).
/// The parser is pure, so the zone's existence is not checked here.
fn looks_like_zone(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('/')
        && !s.ends_with('/')
        && !s.contains("//")
        && s.split('/').all(|part| {
            part.starts_with(|c: char| c.is_ascii_alphabetic())
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        })
        && s.len() < 256
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> u8 {
        self.s.get(self.pos).copied().unwrap_or(0)
    }
    fn peek_at(&self, n: usize) -> u8 {
        self.s.get(self.pos + n).copied().unwrap_or(0)
    }
    fn rest(&self) -> &[u8] {
        &self.s[self.pos.min(self.s.len())..]
    }
    fn skip_spaces(&mut self) {
        while self.peek() == b' ' {
            self.pos += 1;
        }
    }
}

type Chain = Vec<Component>;

impl CalendarSpec {
    /// Parse an expression as `OnCalendar=` and `systemd-analyze calendar` do.
    pub fn parse(text: &str) -> Result<CalendarSpec, CalendarError> {
        let err = || CalendarError(text.to_owned());
        let mut zone = Zone::Local;
        let mut body = text;
        let lower = text.to_ascii_lowercase();
        if lower.ends_with(" utc") {
            zone = Zone::Utc;
            body = &text[..text.len() - 4];
        } else if let Some((head, last)) = text.rsplit_once(' ')
            && looks_like_zone(last)
        {
            zone = if last == "UTC" {
                Zone::Utc
            } else {
                Zone::Named(last.to_owned())
            };
            body = head;
        }
        if body.is_empty() {
            return Err(err());
        }
        let mut c = CalendarSpec {
            weekdays: None,
            year: Vec::new(),
            month: Vec::new(),
            day: Vec::new(),
            hour: Vec::new(),
            minute: Vec::new(),
            second: Vec::new(),
            end_of_month: false,
            zone,
        };
        let zero = || vec![Component::single(0)];
        let one = || vec![Component::single(1)];
        let midnight = |c: &mut CalendarSpec| {
            c.hour = zero();
            c.minute = zero();
            c.second = zero();
        };
        match body.to_ascii_lowercase().as_str() {
            "minutely" => c.second = zero(),
            "hourly" => {
                c.minute = zero();
                c.second = zero();
            }
            "daily" => midnight(&mut c),
            "monthly" => {
                c.day = one();
                midnight(&mut c);
            }
            "annually" | "yearly" | "anually" => {
                c.month = one();
                c.day = one();
                midnight(&mut c);
            }
            "weekly" => {
                c.weekdays = Some(1);
                midnight(&mut c);
            }
            "quarterly" => {
                c.month = [1, 4, 7, 10].map(Component::single).to_vec();
                c.day = one();
                midnight(&mut c);
            }
            "biannually" | "bi-annually" | "semiannually" | "semi-annually" => {
                c.month = [1, 7].map(Component::single).to_vec();
                c.day = one();
                midnight(&mut c);
            }
            _ => {
                let mut cur = Cursor {
                    s: body.as_bytes(),
                    pos: 0,
                };
                c.parse_weekdays(&mut cur).ok_or_else(err)?;
                let done = c.parse_date(&mut cur).ok_or_else(err)?;
                if !done {
                    c.parse_time(&mut cur).ok_or_else(err)?;
                }
                if cur.peek() != 0 {
                    return Err(err());
                }
            }
        }
        c.normalize();
        if !c.valid() {
            return Err(err());
        }
        Ok(c)
    }

    fn parse_weekdays(&mut self, p: &mut Cursor<'_>) -> Option<()> {
        const DAYS: [(&str, u8); 14] = [
            ("monday", 0),
            ("mon", 0),
            ("tuesday", 1),
            ("tue", 1),
            ("wednesday", 2),
            ("wed", 2),
            ("thursday", 3),
            ("thu", 3),
            ("friday", 4),
            ("fri", 4),
            ("saturday", 5),
            ("sat", 5),
            ("sunday", 6),
            ("sun", 6),
        ];
        let mut bits: u8 = 0;
        let mut range_from: Option<u8> = None;
        let mut first = true;
        loop {
            let rest = p.rest();
            let found = DAYS.iter().find(|(name, _)| {
                rest.len() >= name.len() && rest[..name.len()].eq_ignore_ascii_case(name.as_bytes())
            });
            let Some(&(name, nr)) = found else {
                if first {
                    return Some(());
                }
                return None;
            };
            if !matches!(p.peek_at(name.len()), 0 | b'-' | b'.' | b',' | b' ') {
                return None;
            }
            bits |= 1 << nr;
            if let Some(l) = range_from {
                if l > nr {
                    return None;
                }
                for j in l + 1..nr {
                    bits |= 1 << j;
                }
            }
            p.pos += name.len();
            self.weekdays = Some(bits);
            match p.peek() {
                0 => return Some(()),
                b' ' => {
                    p.skip_spaces();
                    return Some(());
                }
                b'.' => {
                    if range_from.is_some() || p.peek_at(1) != b'.' {
                        return None;
                    }
                    range_from = Some(nr);
                    p.pos += 2;
                }
                b'-' => {
                    if range_from.is_some() {
                        return None;
                    }
                    range_from = Some(nr);
                    p.pos += 1;
                }
                b',' => {
                    range_from = None;
                    p.pos += 1;
                }
                _ => {}
            }
            if matches!(p.peek(), 0 | b' ') {
                p.skip_spaces();
                return range_from.is_none().then_some(());
            }
            first = false;
        }
    }

    /// Returns `Some(true)` when the whole expression was a `@epoch` timestamp.
    fn parse_date(&mut self, p: &mut Cursor<'_>) -> Option<bool> {
        if p.peek() == 0 {
            return Some(false);
        }
        if p.peek() == b'@' {
            let text = std::str::from_utf8(&p.rest()[1..]).ok()?;
            let secs = parse_epoch(text)?;
            self.set_from_epoch(secs)?;
            p.pos = p.s.len();
            return Some(true);
        }
        let start = p.pos;
        let first = parse_chain(p, false)?;
        if matches!(p.peek(), 0 | b':') {
            // A time, not a date.
            p.pos = start;
            return Some(false);
        }
        match p.peek() {
            b'~' => self.end_of_month = true,
            b'-' => {}
            _ => return None,
        }
        p.pos += 1;
        let second = parse_chain(p, false)?;
        if matches!(p.peek(), 0 | b' ') {
            p.skip_spaces();
            self.month = first;
            self.day = second;
            return Some(false);
        }
        if self.end_of_month {
            return None;
        }
        match p.peek() {
            b'~' => self.end_of_month = true,
            b'-' => {}
            _ => return None,
        }
        p.pos += 1;
        let third = parse_chain(p, false)?;
        if !matches!(p.peek(), 0 | b' ') {
            return None;
        }
        p.skip_spaces();
        self.year = first;
        self.month = second;
        self.day = third;
        Some(false)
    }

    fn parse_time(&mut self, p: &mut Cursor<'_>) -> Option<()> {
        if p.peek() == 0 {
            self.hour = vec![Component::single(0)];
            self.minute = vec![Component::single(0)];
            self.second = vec![Component::single(0)];
            return Some(());
        }
        let h = parse_chain(p, false)?;
        if p.peek() != b':' {
            return None;
        }
        p.pos += 1;
        let m = parse_chain(p, false)?;
        let s = if p.peek() == 0 {
            vec![Component::single(0)]
        } else {
            if p.peek() != b':' {
                return None;
            }
            p.pos += 1;
            let s = parse_chain(p, true)?;
            if p.peek() != 0 {
                return None;
            }
            s
        };
        self.hour = h;
        self.minute = m;
        self.second = s;
        Some(())
    }

    fn set_from_epoch(&mut self, secs: i64) -> Option<()> {
        let (y, mo, d, h, mi, s) = civil_from_secs(secs);
        let c = |v: i64| i32::try_from(v).ok().map(|v| vec![Component::single(v)]);
        self.year = c(y)?;
        self.month = c(mo)?;
        self.day = c(d)?;
        self.hour = c(h)?;
        self.minute = c(mi)?;
        self.second = c(s * USEC_PER_SEC)?;
        self.zone = Zone::Utc;
        Some(())
    }

    fn normalize(&mut self) {
        if self.weekdays.is_some_and(|b| b == 0 || b >= 0x7f) {
            self.weekdays = None;
        }
        if self.end_of_month && self.day.is_empty() {
            self.end_of_month = false;
        }
        for c in &mut self.year {
            for v in [&mut c.start, &mut c.stop] {
                if (0..70).contains(v) {
                    *v += 2000;
                } else if (70..100).contains(v) {
                    *v += 1900;
                }
            }
        }
        for chain in [
            &mut self.year,
            &mut self.month,
            &mut self.day,
            &mut self.hour,
            &mut self.minute,
            &mut self.second,
        ] {
            normalize_chain(chain);
        }
    }

    fn valid(&self) -> bool {
        chain_valid(&self.year, MIN_YEAR, MAX_YEAR, false)
            && chain_valid(&self.month, 1, 12, false)
            && chain_valid(&self.day, 1, 31, self.end_of_month)
            && chain_valid(&self.hour, 0, 23, false)
            && chain_valid(&self.minute, 0, 59, false)
            && chain_valid(&self.second, 0, 60 * USEC_PER_SEC - 1, false)
    }

    /// The normalized form (`systemd-analyze calendar`'s "Normalized form", the
    /// `TimersCalendar` property), e.g. `Mon..Fri *-*-* 10:00:00`.
    pub fn to_normalized(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        if let Some(bits) = self.weekdays {
            format_weekdays(&mut out, bits);
            out.push(' ');
        }
        format_chain(&mut out, 4, &self.year, false);
        out.push('-');
        format_chain(&mut out, 2, &self.month, false);
        out.push(if self.end_of_month { '~' } else { '-' });
        format_chain(&mut out, 2, &self.day, false);
        out.push(' ');
        format_chain(&mut out, 2, &self.hour, false);
        out.push(':');
        format_chain(&mut out, 2, &self.minute, false);
        out.push(':');
        format_chain(&mut out, 2, &self.second, true);
        match &self.zone {
            Zone::Local => {}
            Zone::Utc => out.push_str(" UTC"),
            Zone::Named(z) => {
                let _ = write!(out, " {z}");
            }
        }
        out
    }

    /// The first time (µs since the epoch) strictly after `after` that matches, or `None`
    /// when the expression never matches again (or its zone is unknown to `zones`).
    pub fn next_elapse(&self, after: u64, zones: &dyn ZoneOffsets) -> Option<u64> {
        let z = match &self.zone {
            Zone::Utc => Clock::Utc,
            Zone::Local => Clock::Zone(zones, None),
            Zone::Named(n) => {
                // Probe once so an unknown zone fails early.
                zones.utc_offset(Some(n), 0)?;
                Clock::Zone(zones, Some(n.as_str()))
            }
        };
        let usec = i64::try_from(after).ok()?.checked_add(1)?;
        let t = usec.div_euclid(USEC_PER_SEC);
        let tm_usec = usec.rem_euclid(USEC_PER_SEC);
        let mut tm = z.local(t)?;
        let mut us = tm_usec;
        self.find_next(&z, &mut tm, &mut us)?;
        let (t, _) = z.mktime(&tm)?;
        let mut r = t.checked_mul(USEC_PER_SEC)?.checked_add(us)?;
        if r < usec {
            // A repeated local hour (end of daylight saving time) mapped to its earlier
            // instance, before `after`: use the later one.
            let (t2, _) = z.mktime_latest(&tm)?;
            r = t2.checked_mul(USEC_PER_SEC)?.checked_add(us)?;
            if r < usec {
                return None;
            }
        }
        u64::try_from(r).ok()
    }

    fn find_next(&self, z: &Clock<'_>, tm: &mut Tm, usec: &mut i64) -> Option<()> {
        let mut c = *tm;
        let mut tm_usec = *usec;
        // Each pass moves forward; bound the work for pathological expressions.
        for _ in 0..1_000_000 {
            c = z.mktime(&c)?.1;

            let mut y = c.year;
            let r = find_matching(&self.year, &c, &mut y, false)?;
            c.year = y;
            if r {
                c.mon = 0;
                c.mday = 1;
                c.hour = 0;
                c.min = 0;
                c.sec = 0;
                tm_usec = 0;
            }
            if within_bounds(z, &mut c) <= 0 {
                return None;
            }

            let mut m = c.mon + 1;
            let r = find_matching(&self.month, &c, &mut m, false);
            c.mon = m - 1;
            if r == Some(true) {
                c.mday = 1;
                c.hour = 0;
                c.min = 0;
                c.sec = 0;
                tm_usec = 0;
            }
            let b = if r.is_none() {
                -1
            } else {
                within_bounds(z, &mut c)
            };
            if b < 0 {
                c.year += 1;
                c.mon = 0;
                c.mday = 1;
                c.hour = 0;
                c.min = 0;
                c.sec = 0;
                tm_usec = 0;
                continue;
            }
            if b == 0 {
                continue;
            }

            let mut d = c.mday;
            let r = find_matching(&self.day, &c, &mut d, self.end_of_month);
            c.mday = d;
            if r == Some(true) {
                c.hour = 0;
                c.min = 0;
                c.sec = 0;
                tm_usec = 0;
            }
            let b = if r.is_none() {
                -1
            } else {
                within_bounds(z, &mut c)
            };
            if b < 0 {
                c.mon += 1;
                c.mday = 1;
                c.hour = 0;
                c.min = 0;
                c.sec = 0;
                tm_usec = 0;
                continue;
            }
            if b == 0 {
                continue;
            }

            if let Some(bits) = self.weekdays {
                let n = normalize_civil(&c);
                let wd = weekday_monday0(days_from_civil(n.year, n.mon + 1, n.mday));
                if bits & (1 << wd) == 0 {
                    c.mday += 1;
                    c.hour = 0;
                    c.min = 0;
                    c.sec = 0;
                    tm_usec = 0;
                    continue;
                }
            }

            let mut h = c.hour;
            let r = find_matching(&self.hour, &c, &mut h, false);
            c.hour = h;
            if r == Some(true) {
                c.min = 0;
                c.sec = 0;
                tm_usec = 0;
            }
            let b = if r.is_none() {
                -1
            } else {
                within_bounds(z, &mut c)
            };
            if b < 0 {
                c.mday += 1;
                c.hour = 0;
                c.min = 0;
                c.sec = 0;
                tm_usec = 0;
                continue;
            }
            if b == 0 {
                continue;
            }

            let mut mi = c.min;
            let r = find_matching(&self.minute, &c, &mut mi, false);
            c.min = mi;
            if r == Some(true) {
                c.sec = 0;
                tm_usec = 0;
            }
            let b = if r.is_none() {
                -1
            } else {
                within_bounds(z, &mut c)
            };
            if b < 0 {
                c.hour += 1;
                c.min = 0;
                c.sec = 0;
                tm_usec = 0;
                continue;
            }
            if b == 0 {
                continue;
            }

            let mut s = c.sec * USEC_PER_SEC + tm_usec;
            let r = find_matching(&self.second, &c, &mut s, false);
            tm_usec = s % USEC_PER_SEC;
            c.sec = s / USEC_PER_SEC;
            let b = if r.is_none() {
                -1
            } else {
                within_bounds(z, &mut c)
            };
            if b < 0 {
                c.min += 1;
                c.sec = 0;
                tm_usec = 0;
                continue;
            }
            if b == 0 {
                continue;
            }
            *tm = c;
            *usec = tm_usec;
            return Some(());
        }
        None
    }
}

/// `@SECONDS` (a decimal, optionally with a fraction, which is dropped).
fn parse_epoch(text: &str) -> Option<i64> {
    let int = text.split_once('.').map_or(text, |(i, f)| {
        if f.bytes().all(|b| b.is_ascii_digit()) {
            i
        } else {
            ""
        }
    });
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    int.parse().ok()
}

/// A decimal number (seconds may carry a fraction of up to six digits).
fn parse_decimal(p: &mut Cursor<'_>, usec: bool) -> Option<i32> {
    if !p.peek().is_ascii_digit() {
        return None;
    }
    let mut v: i64 = 0;
    while p.peek().is_ascii_digit() {
        v = v.checked_mul(10)?.checked_add(i64::from(p.peek() - b'0'))?;
        if v > i64::from(i32::MAX) {
            return None;
        }
        p.pos += 1;
    }
    if usec {
        v = v.checked_mul(USEC_PER_SEC)?;
        if p.peek() == b'.' && p.peek_at(1) != b'.' {
            p.pos += 1;
            let mut frac: i64 = 0;
            let mut digits = 0;
            while p.peek().is_ascii_digit() {
                if digits < 6 {
                    frac = frac * 10 + i64::from(p.peek() - b'0');
                    digits += 1;
                }
                p.pos += 1;
            }
            while digits < 6 {
                frac *= 10;
                digits += 1;
            }
            v += frac;
        }
    }
    i32::try_from(v).ok()
}

fn parse_chain(p: &mut Cursor<'_>, usec: bool) -> Option<Chain> {
    if p.peek() == b'*' {
        p.pos += 1;
        return Some(if usec {
            vec![Component {
                start: 0,
                stop: -1,
                repeat: USEC_PER_SEC as i32,
            }]
        } else {
            Vec::new()
        });
    }
    let mut chain = Vec::new();
    loop {
        if chain.len() > COMPONENTS_MAX {
            return None;
        }
        let start = parse_decimal(p, usec)?;
        let mut stop = -1;
        let mut repeat = 0;
        if p.peek() == b'.' && p.peek_at(1) == b'.' {
            p.pos += 2;
            stop = parse_decimal(p, usec)?;
            repeat = if usec { USEC_PER_SEC as i32 } else { 1 };
        }
        if p.peek() == b'/' {
            p.pos += 1;
            repeat = parse_decimal(p, usec)?;
            if repeat == 0 {
                return None;
            }
        } else {
            if start > i32::MAX - repeat {
                return None;
            }
            if usec && stop >= 0 && start + repeat > stop {
                return None;
            }
        }
        if !matches!(p.peek(), 0 | b' ' | b',' | b'-' | b'~' | b':') {
            return None;
        }
        chain.push(Component {
            start,
            stop,
            repeat,
        });
        if p.peek() == b',' {
            p.pos += 1;
            continue;
        }
        return Some(chain);
    }
}

fn normalize_chain(chain: &mut Chain) {
    for c in chain.iter_mut() {
        if c.stop > c.start && c.repeat > 0 {
            c.stop -= (c.stop - c.start) % c.repeat;
        }
        if (c.stop > c.start && c.start + c.repeat > c.stop) || c.start == c.stop {
            c.repeat = 0;
            c.stop = -1;
        }
    }
    chain.sort();
    chain.dedup();
}

fn chain_valid(chain: &Chain, from: i64, to: i64, end_of_month: bool) -> bool {
    let to = if end_of_month { to - 3 } else { to };
    chain.iter().all(|c| {
        let (start, stop, repeat) = (i64::from(c.start), i64::from(c.stop), i64::from(c.repeat));
        // At least one repetition must fit: forwards, or backwards from the end of the month.
        let repeat_fits = repeat == 0
            || if end_of_month {
                stop >= 0 || start - repeat >= from
            } else {
                start + repeat <= to
            };
        (from..=to).contains(&start)
            && repeat <= to - from
            && repeat_fits
            && (stop < 0 || ((from..=to).contains(&stop) && stop >= start))
    })
}

fn format_weekdays(out: &mut String, bits: u8) {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let mut need_comma = false;
    let mut l: Option<usize> = None;
    let close = |out: &mut String, l: usize, x: usize| {
        if x > l + 1 {
            out.push_str(if x > l + 2 { ".." } else { "," });
            out.push_str(DAYS[x - 1]);
        }
    };
    for (x, day) in DAYS.iter().enumerate() {
        if bits & (1 << x) != 0 {
            if l.is_none() {
                if need_comma {
                    out.push(',');
                }
                need_comma = true;
                out.push_str(day);
                l = Some(x);
            }
        } else if let Some(start) = l.take() {
            close(out, start, x);
        }
    }
    if let Some(start) = l {
        close(out, start, DAYS.len());
    }
}

fn format_chain(out: &mut String, width: usize, chain: &Chain, usec: bool) {
    use std::fmt::Write;
    let star = chain.is_empty()
        || (usec
            && chain
                .iter()
                .any(|c| c.start == 0 && c.stop < 0 && i64::from(c.repeat) == USEC_PER_SEC));
    if star {
        out.push('*');
        return;
    }
    let d = if usec { USEC_PER_SEC as i32 } else { 1 };
    for (i, c) in chain.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{:0width$}", c.start / d);
        if c.start % d > 0 {
            let _ = write!(out, ".{:06}", c.start % d);
        }
        if c.stop > 0 {
            let _ = write!(out, "..{:0width$}", c.stop / d);
        }
        if c.stop % d > 0 {
            let _ = write!(out, ".{:06}", c.stop % d);
        }
        if c.repeat > 0 && !(c.stop > 0 && c.repeat == d) {
            let _ = write!(out, "/{}", c.repeat / d);
        }
        if c.repeat % d > 0 {
            let _ = write!(out, ".{:06}", c.repeat % d);
        }
    }
}

/// Broken-down time like `struct tm`, but with a 1-based-free month (0–11), a full year and
/// fields that may be out of range until normalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tm {
    year: i64,
    mon: i64,
    mday: i64,
    hour: i64,
    min: i64,
    sec: i64,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1–12).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month 1–12, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Monday = 0 … Sunday = 6 of a day count since 1970-01-01 (a Thursday).
fn weekday_monday0(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

/// (year, month, day, hour, minute, second) of seconds since the epoch, in UTC.
fn civil_from_secs(t: i64) -> (i64, i64, i64, i64, i64, i64) {
    let days = t.div_euclid(86_400);
    let rem = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    (y, m, d, rem / 3600, rem / 60 % 60, rem % 60)
}

/// Seconds since the epoch of broken-down time read as UTC (`timegm`; fields may overflow).
fn tm_to_secs(tm: &Tm) -> i64 {
    let year = tm.year + tm.mon.div_euclid(12);
    let mon = tm.mon.rem_euclid(12);
    let days = days_from_civil(year, mon + 1, 1) + tm.mday - 1;
    days * 86_400 + tm.hour * 3600 + tm.min * 60 + tm.sec
}

fn secs_to_tm(t: i64) -> Tm {
    let (year, m, mday, hour, min, sec) = civil_from_secs(t);
    Tm {
        year,
        mon: m - 1,
        mday,
        hour,
        min,
        sec,
    }
}

fn normalize_civil(tm: &Tm) -> Tm {
    secs_to_tm(tm_to_secs(tm))
}

/// The clock an expression runs in: UTC, or a zone whose offsets the caller knows.
enum Clock<'a> {
    Utc,
    Zone(&'a dyn ZoneOffsets, Option<&'a str>),
}

impl Clock<'_> {
    fn offset(&self, t: i64) -> Option<i64> {
        match self {
            Clock::Utc => Some(0),
            Clock::Zone(z, name) => z.utc_offset(*name, t),
        }
    }

    /// Broken-down local time of `t` (`localtime_r`).
    fn local(&self, t: i64) -> Option<Tm> {
        Some(secs_to_tm(t + self.offset(t)?))
    }

    /// The instants whose local time is `tm` (0, 1 or 2 of them), earliest first, plus the
    /// offset in force just before `tm` (for times skipped by a forward jump).
    fn candidates(&self, tm: &Tm) -> Option<(Vec<i64>, i64)> {
        let l = tm_to_secs(tm);
        let before = self.offset(l - 86_400)?;
        let after = self.offset(l + 86_400)?;
        let mut out = Vec::new();
        for o in [before, after] {
            let u = l - o;
            if self.offset(u)? == o && !out.contains(&u) {
                out.push(u);
            }
        }
        out.sort_unstable();
        Some((out, before))
    }

    /// `mktime` with `tm_isdst = -1`: the instant of `tm` (the earlier one of a repeated
    /// hour; a skipped time moves forward by the jump) and the normalized local time.
    fn mktime(&self, tm: &Tm) -> Option<(i64, Tm)> {
        let (c, before) = self.candidates(tm)?;
        let u = c.first().copied().unwrap_or(tm_to_secs(tm) - before);
        Some((u, self.local(u)?))
    }

    /// Like [`Clock::mktime`] but the later instance of a repeated hour.
    fn mktime_latest(&self, tm: &Tm) -> Option<(i64, Tm)> {
        let (c, before) = self.candidates(tm)?;
        let u = c.last().copied().unwrap_or(tm_to_secs(tm) - before);
        Some((u, self.local(u)?))
    }
}

/// systemd's `tm_within_bounds`: 1 when `tm` is a valid local time, 0 when normalizing it
/// moved it forward (`tm` is then updated, lower fields reset), negative when it is past the
/// last supported year or normalizing would go backwards.
fn within_bounds(z: &Clock<'_>, tm: &mut Tm) -> i32 {
    if tm.year > MAX_YEAR {
        return -1;
    }
    let Some((_, mut t)) = z.mktime(tm) else {
        return -1;
    };
    use std::cmp::Ordering;
    let mut cmp = t.year.cmp(&tm.year);
    if cmp != Ordering::Equal {
        t.mon = 0;
    } else {
        cmp = t.mon.cmp(&tm.mon);
        if cmp != Ordering::Equal {
            t.mday = 1;
        } else {
            cmp = t.mday.cmp(&tm.mday);
            if cmp != Ordering::Equal {
                t.hour = 0;
            } else {
                cmp = t.hour.cmp(&tm.hour);
                if cmp != Ordering::Equal {
                    t.min = 0;
                } else {
                    cmp = t.min.cmp(&tm.min);
                    if cmp != Ordering::Equal {
                        t.sec = 0;
                    } else {
                        cmp = t.sec.cmp(&tm.sec);
                    }
                }
            }
        }
    }
    match cmp {
        Ordering::Less => -1,
        Ordering::Greater => {
            *tm = t;
            0
        }
        Ordering::Equal => 1,
    }
}

/// The day of the month that is `day` days before the first of the next month (`~`), or -1.
fn end_of_month(tm: &Tm, day: i64) -> i64 {
    let t = Tm {
        mon: tm.mon + 1,
        mday: 1 - day,
        ..*tm
    };
    let n = normalize_civil(&t);
    let cur = normalize_civil(&Tm { mday: 1, ..*tm });
    if n.mon != cur.mon || n.year != cur.year {
        return -1;
    }
    n.mday
}

/// systemd's `find_matching_component`: the earliest value of `chain` at or after `*val`.
/// `Some(true)` when `*val` changed, `Some(false)` when it already matched, `None` when
/// nothing matches.
fn find_matching(chain: &Chain, tm: &Tm, val: &mut i64, eom: bool) -> Option<bool> {
    if chain.is_empty() {
        return Some(false);
    }
    let mut best: Option<i64> = None;
    for c in chain {
        let (mut start, mut stop) = (i64::from(c.start), i64::from(c.stop));
        if eom {
            start = end_of_month(tm, start);
            stop = end_of_month(tm, stop);
            if stop > 0 {
                std::mem::swap(&mut start, &mut stop);
            }
        }
        let repeat = i64::from(c.repeat);
        if start >= *val {
            if best.is_none_or(|b| start < b) {
                best = Some(start);
            }
        } else if repeat > 0 {
            let k = start
                + repeat * (*val - start).div_euclid(repeat)
                + if (*val - start) % repeat != 0 {
                    repeat
                } else {
                    0
                };
            if best.is_none_or(|b| k < b) && (stop < 0 || k <= stop) {
                best = Some(k);
            }
        }
    }
    let d = best?;
    let changed = *val != d;
    *val = d;
    Some(changed)
}

#[cfg(test)]
mod tests;
