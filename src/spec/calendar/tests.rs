//! Pure calendar tests; the comparison with the stock `systemd-analyze calendar` lives in
//! tests/calendar.rs (it runs a process).

use super::*;

#[test]
fn zones_and_suffixes() {
    let s = CalendarSpec::parse("daily Europe/Berlin").unwrap();
    assert_eq!(s.zone, Zone::Named("Europe/Berlin".into()));
    assert_eq!(s.to_normalized(), "*-*-* 00:00:00 Europe/Berlin");
    let s = CalendarSpec::parse("Mon 10:00 utc").unwrap();
    assert_eq!(s.zone, Zone::Utc);
    assert_eq!(s.to_normalized(), "Mon *-*-* 10:00:00 UTC");
    // An unknown zone never elapses rather than elapsing at the wrong time.
    struct NoNamed;
    impl ZoneOffsets for NoNamed {
        fn utc_offset(&self, zone: Option<&str>, _t: i64) -> Option<i64> {
            zone.is_none().then_some(0)
        }
    }
    let s = CalendarSpec::parse("daily Mars/Olympus_Mons").unwrap();
    assert_eq!(s.next_elapse(0, &NoNamed), None);
    let s = CalendarSpec::parse("daily").unwrap();
    assert_eq!(s.next_elapse(0, &NoNamed), Some(86_400_000_000));
}

#[test]
fn never_again() {
    let s = CalendarSpec::parse("2003-03-05").unwrap();
    assert_eq!(s.next_elapse(1_700_000_000_000_000, &FixedOffset(0)), None);
}
