//! Calendar expressions (`unitd::spec::calendar`) against the stock `systemd-analyze calendar`
//! of systemd 252: the same normalized form, the same elapses (UTC and a zone with daylight
//! saving time), the same verdict on invalid input. The tool needs no running systemd.

use std::process::Command;

use unitd::spec::calendar::{CalendarSpec, FixedOffset, ZoneOffsets};

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1–12).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The year of a time in seconds since the epoch (UTC).
fn year_of(t: i64) -> i64 {
    let mut y = 1970 + t.div_euclid(31_556_952);
    while days_from_civil(y, 1, 1) * 86_400 > t {
        y -= 1;
    }
    while days_from_civil(y + 1, 1, 1) * 86_400 <= t {
        y += 1;
    }
    y
}

/// Monday = 0 … Sunday = 6 of a day count since 1970-01-01 (a Thursday).
fn weekday_monday0(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

/// Central European time as the POSIX rule `CET-1CEST,M3.5.0,M10.5.0/3` describes it (the
/// same rule is handed to the stock tool in `TZ`): +1 h, +2 h from the last Sunday of March
/// 01:00 UTC to the last Sunday of October 01:00 UTC.
struct CentralEurope;

impl ZoneOffsets for CentralEurope {
    fn utc_offset(&self, _zone: Option<&str>, t: i64) -> Option<i64> {
        let y = year_of(t);
        let last_sunday = |m: i64| {
            let last = days_from_civil(y, m + 1, 1) - 1;
            last - (weekday_monday0(last) + 1) % 7
        };
        let start = last_sunday(3) * 86_400 + 3600;
        let end = last_sunday(10) * 86_400 + 3600;
        Some(if (start..end).contains(&t) {
            7200
        } else {
            3600
        })
    }
}

const CET_RULE: &str = "CET-1CEST,M3.5.0,M10.5.0/3";

/// Expressions from systemd.time(7) and systemd's own test suite, plus edge cases.
const EXPRESSIONS: &[&str] = &[
    "Sat,Thu,Mon-Wed,Sat-Sun",
    "Mon,Sun 12-*-* 2,1:23",
    "Wed *-1",
    "Wed..Wed,Wed *-1",
    "Wed, 17:48",
    "Wednesday,Thu 12-10-15 1:2:3",
    "*-*-7 0:0:0",
    "10-15",
    "monday *-12-* 17:00",
    "Mon,Fri *-*-3,1,2 *:30:45",
    "12,14,13,12:20,10,30",
    "mon,fri *-1/2-1,3 *:30:45",
    "03-05 08:05:40",
    "08:05:40",
    "05:40",
    "Sat,Sun 12-05 08:05:40",
    "Sat,Sun 08:05:40",
    "2003-03-05 05:40",
    "2003-02..04-05 05:40",
    "2003-03-05 05:40 UTC",
    "2003-03-05",
    "03-05",
    "hourly",
    "daily",
    "daily UTC",
    "monthly",
    "weekly",
    "minutely",
    "quarterly",
    "semiannually",
    "bi-annually",
    "yearly",
    "annually",
    "*:2/3",
    "2015-10-25 01:00:00 UTC",
    "2016-03-31 01:00:00 UTC",
    "Mon..Fri *-*-* 10:00",
    "*-*-* 00:00:00",
    "*-*-* *:*:*",
    "*:*:*",
    "*-*-~1",
    "*-*~1",
    "*-*~05,3 ",
    "*-*~5,3",
    "*-02~03",
    "Mon 2017-05~01..07",
    "2017-05~07/1",
    "Mon *-05~07/1",
    "*-*-1/2 *:*:*",
    "Mon,",
    "*-*~10/9",
    "*-*~2..7/2",
    "*-*-28/3",
    "*-*-* *:*:1.5/10.25",
    "*:*:1.000001",
    "*:*:59.999999",
    "*:05..10",
    "*:05..10/3",
    "*:05..10/2",
    "1..5:0",
    "*-*-* 6..8:10..20/5",
    "2..6/3:00",
    "Mon..Fri 3/2:00",
    "Sat..Sun *-*-* 10:00",
    "*-1..3-1..5 0:0",
    "2024-02-29",
    "*-02-29",
    "*-02-30",
    "*-*-31",
    "*-*-29..31 12:00",
    "2199-12-31 23:59:59",
    "@1395716396",
    "@0",
    "*:0/15",
    "9,10,11-*-* 0:00",
    "Fri *-*-13",
    "Sun *-*-1..7 4:00",
    "*-*-* 02:30",
    "*-*-* 02:*",
    "*-*-* *:30",
    "2026-03-29 02:30",
    "2026-10-25 02:30",
    "Thu *-11-22..28",
    "1970-*-*",
    "2040..2050/5-1-1",
    "70-01-01",
    "69-01-01",
];

/// Expressions systemd 252 refuses.
const INVALID: &[&str] = &[
    "test",
    " utc",
    "    ",
    "",
    "7",
    "121212:1:2",
    "2000-03-05.23 00:00:00",
    "2000-03-05 00:00.1:00",
    "00:00:00/0.00000001",
    "00:00:00.0..00.9",
    "2016~11-22",
    "*-*~5/5",
    "Monday.. 12:00",
    "Monday..",
    "-00:+00/-5",
    "00:+00/-5",
    "2016- 11- 24 12: 30: 00",
    "*~29",
    "*~16..31",
    "12..1/2-*",
    "Wed..Mon",
    "*-*-32",
    "*-13-1",
    "25:00",
    "*:60",
    "*:*:60",
    "2200-01-01",
    "1969-01-01",
    "*-*~10/10",
    "*-*-28/5",
    "*:59/1",
    "*-*-5..1",
    "*-*-* 1:2:3:4",
    "*-*-1 1",
];

struct Tool {
    normalized: String,
    /// Elapses, seconds since the epoch.
    elapses: Vec<i64>,
}

/// Run the stock tool; `None` when it refuses the expression.
fn analyze(expr: &str, tz: &str, base: i64, iterations: usize) -> Option<Tool> {
    let out = Command::new("systemd-analyze")
        .env("TZ", tz)
        .env("LC_ALL", "C")
        .arg("calendar")
        .arg(format!("--base-time=@{base}"))
        .arg(format!("--iterations={iterations}"))
        .arg("--")
        .arg(expr)
        .output()
        .expect("systemd-analyze (package systemd) must be installed for this test");
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).unwrap();
    let mut normalized = None;
    let mut elapses = Vec::new();
    let utc_lines = text.contains("(in UTC):");
    for line in text.lines() {
        let line = line.trim();
        if let Some(n) = line.strip_prefix("Normalized form: ") {
            normalized = Some(n.to_owned());
        }
        let stamp = if utc_lines {
            line.strip_prefix("(in UTC): ")
        } else {
            line.strip_prefix("Next elapse: ").or_else(|| {
                line.split_once(": ")
                    .filter(|(k, _)| k.starts_with("Iter. #"))
                    .map(|(_, v)| v)
            })
        };
        if let Some(s) = stamp.filter(|s| *s != "never") {
            elapses.push(parse_utc_stamp(s));
        }
    }
    Some(Tool {
        normalized: normalized.expect("normalized form"),
        elapses,
    })
}

/// `Tue 2023-11-14 22:13:22 UTC` → seconds since the epoch.
fn parse_utc_stamp(s: &str) -> i64 {
    let w: Vec<&str> = s.split_whitespace().collect();
    assert_eq!(w.len(), 4, "unexpected timestamp {s:?}");
    assert_eq!(w[3], "UTC", "unexpected timestamp {s:?}");
    let d: Vec<i64> = w[1].split('-').map(|x| x.parse().unwrap()).collect();
    let t: Vec<i64> = w[2].split(':').map(|x| x.parse().unwrap()).collect();
    days_from_civil(d[0], d[1], d[2]) * 86_400 + t[0] * 3600 + t[1] * 60 + t[2]
}

fn ours(spec: &CalendarSpec, zones: &dyn ZoneOffsets, base: i64, n: usize) -> Vec<i64> {
    let mut out = Vec::new();
    let mut t = u64::try_from(base).unwrap() * 1_000_000;
    for _ in 0..n {
        match spec.next_elapse(t, zones) {
            Some(next) => {
                assert!(next > t, "{spec:?}: {next} not after {t}");
                out.push(i64::try_from(next / 1_000_000).unwrap());
                t = next;
            }
            None => break,
        }
    }
    out
}

fn compare(tz: &str, zones: &dyn ZoneOffsets, bases: &[i64]) {
    let mut failures = Vec::new();
    for expr in EXPRESSIONS {
        for &base in bases {
            let tool = analyze(expr, tz, base, 8);
            let spec = CalendarSpec::parse(expr);
            match (tool, spec) {
                (None, Err(_)) => {}
                (None, Ok(s)) => {
                    failures.push(format!("{expr:?}: we accept ({s:?}), systemd refuses"))
                }
                (Some(_), Err(e)) => {
                    failures.push(format!("{expr:?}: systemd accepts, we refuse: {e}"))
                }
                (Some(t), Ok(s)) => {
                    if t.normalized != s.to_normalized() {
                        failures.push(format!(
                            "{expr:?}: normalized {:?}, systemd {:?}",
                            s.to_normalized(),
                            t.normalized
                        ));
                    }
                    let mine = ours(&s, zones, base, 8);
                    if mine != t.elapses {
                        failures.push(format!(
                            "{expr:?} TZ={tz} base {base}: elapses {mine:?}, systemd {:?}",
                            t.elapses
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn utc_matches_systemd_analyze() {
    // 2023-11-14 22:13:20 UTC, 2024-02-28 23:59:59 UTC (leap day), 2026-03-29 00:59:59 UTC.
    compare(
        "UTC",
        &FixedOffset(0),
        &[1_700_000_000, 1_709_164_799, 1_774_745_999],
    );
}

#[test]
fn daylight_saving_zone_matches_systemd_analyze() {
    // Around the spring-forward and fall-back days of 2026, and a plain day.
    compare(
        CET_RULE,
        &CentralEurope,
        &[1_774_699_200, 1_792_843_200, 1_700_000_000],
    );
}

#[test]
fn invalid_expressions_are_refused_like_systemd() {
    let mut failures = Vec::new();
    for expr in INVALID {
        if analyze(expr, "UTC", 1_700_000_000, 1).is_some() {
            failures.push(format!("{expr:?}: systemd accepts it (fix the test list)"));
        }
        if let Ok(s) = CalendarSpec::parse(expr) {
            failures.push(format!("{expr:?}: we accept it as {}", s.to_normalized()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn named_zones_match_systemd_analyze() {
    if !std::path::Path::new("/usr/share/zoneinfo/Europe/Berlin").exists() {
        eprintln!("skipped: tzdata not installed");
        return;
    }
    let zones = unitd::runtime::timers::LocalZone::new();
    let mut failures = Vec::new();
    for expr in [
        "daily Europe/Berlin",
        "*-*-* 02:30 Europe/Berlin",
        "*-*-* *:30 Europe/Berlin",
        "Mon 10:00 America/New_York",
        "*-*-* 01:30 America/New_York",
        "*:0/30 Asia/Kolkata",
        "daily Australia/Lord_Howe",
        "*-*-* 02:15 Australia/Lord_Howe",
        "monthly Pacific/Auckland",
    ] {
        for base in [1_774_699_200, 1_792_843_200, 1_700_000_000, 1_775_250_000] {
            let spec = CalendarSpec::parse(expr).expect(expr);
            let tool = analyze(expr, "UTC", base, 6).expect(expr);
            assert_eq!(tool.normalized, spec.to_normalized(), "{expr}");
            let mine = ours(&spec, &zones, base, 6);
            if mine != tool.elapses {
                failures.push(format!(
                    "{expr:?} base {base}: elapses {mine:?}, systemd {:?}",
                    tool.elapses
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
