//! Object paths of the systemd façade: unit names ⇄ `/org/freedesktop/systemd1/unit/<label>`
//! (systemd's bus-label escaping) and job ids ⇄ `/org/freedesktop/systemd1/job/<id>`.
//!
//! Pure string functions; clients such as pystemd compute these paths themselves, so the
//! escaping must match systemd byte for byte: every byte outside `[A-Za-z]` becomes `_` plus two
//! lowercase hex digits, digits stay literal except as the first byte, and the empty string is
//! `_`. Unescaping turns `_XX` back into the byte and keeps a `_` that is not followed by two hex
//! digits.

use super::{JOB_PATH_PREFIX, UNIT_PATH_PREFIX};

/// systemd's `bus_label_escape`.
pub fn bus_label_escape(s: &str) -> String {
    if s.is_empty() {
        return "_".to_owned();
    }
    let mut out = String::with_capacity(s.len() * 3);
    for (i, b) in s.bytes().enumerate() {
        if b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit()) {
            out.push(b as char);
        } else {
            out.push('_');
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0xf));
        }
    }
    out
}

/// systemd's `bus_label_unescape`: `_XX` → byte; `_` alone means the empty string. Returns
/// `None` if the result is not UTF-8 (no valid unit name is).
pub fn bus_label_unescape(s: &str) -> Option<String> {
    if s == "_" {
        return Some(String::new());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'_'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2]))
        {
            out.push((h << 4) | l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The object path of the unit with primary name `name`.
pub fn unit_path(name: &str) -> String {
    let mut p = String::with_capacity(UNIT_PATH_PREFIX.len() + name.len() * 2);
    p.push_str(UNIT_PATH_PREFIX);
    p.push_str(&bus_label_escape(name));
    p
}

/// The unit name encoded in a unit object path, or `None` if `path` is not directly below
/// `/org/freedesktop/systemd1/unit/`. The name is not validated.
pub fn unit_name_from_path(path: &str) -> Option<String> {
    let label = path.strip_prefix(UNIT_PATH_PREFIX)?;
    if label.is_empty() || label.contains('/') {
        return None;
    }
    bus_label_unescape(label)
}

/// The object path of job `id`.
pub fn job_path(id: u32) -> String {
    format!("{JOB_PATH_PREFIX}{id}")
}

/// The job id in a job object path (decimal digits only), or `None`.
pub fn job_id_from_path(path: &str) -> Option<u32> {
    let id = path.strip_prefix(JOB_PATH_PREFIX)?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

fn hex_digit(n: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(n)])
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples observed on the wire (systemd-clients.md §2).
    const OBSERVED: &[(&str, &str)] = &[
        ("foo.service", "foo_2eservice"),
        ("foo-bar@1.service", "foo_2dbar_401_2eservice"),
        ("a@1.service", "a_401_2eservice"),
        ("-.mount", "_2d_2emount"),
        ("a_b.service", "a_5fb_2eservice"),
        ("1x.service", "_31x_2eservice"),
        ("\\xc3\\xbc.service", "_5cxc3_5cxbc_2eservice"),
    ];

    #[test]
    fn escapes_like_systemd() {
        for (name, label) in OBSERVED {
            assert_eq!(bus_label_escape(name), *label, "escaping {name}");
        }
        assert_eq!(bus_label_escape(""), "_");
        assert_eq!(bus_label_escape("9"), "_39");
        assert_eq!(bus_label_escape("a9"), "a9");
        assert_eq!(bus_label_escape("ü"), "_c3_bc");
    }

    #[test]
    fn unescapes_like_systemd() {
        for (name, label) in OBSERVED {
            assert_eq!(bus_label_unescape(label).as_deref(), Some(*name));
        }
        assert_eq!(bus_label_unescape("_").as_deref(), Some(""));
        // Upper-case hex is accepted, invalid escapes stay literal.
        assert_eq!(bus_label_unescape("a_2Eb").as_deref(), Some("a.b"));
        assert_eq!(bus_label_unescape("a_zz").as_deref(), Some("a_zz"));
        assert_eq!(bus_label_unescape("a_2").as_deref(), Some("a_2"));
        assert_eq!(bus_label_unescape("a_").as_deref(), Some("a_"));
        assert_eq!(bus_label_unescape("_ff"), None);
    }

    #[test]
    fn round_trips_every_ascii_and_utf8_name() {
        let mut names: Vec<String> = (0u8..128)
            .filter(|b| *b != 0)
            .map(|b| format!("{}x.service", b as char))
            .collect();
        names.push("ünïcödé@ä b.service".into());
        names.push("_".into());
        names.push("__2e".into());
        names.push(String::new());
        for n in names {
            let label = bus_label_escape(&n);
            assert!(
                label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_'),
                "label {label:?} is not a valid path element"
            );
            assert_eq!(bus_label_unescape(&label).as_deref(), Some(n.as_str()));
        }
    }

    #[test]
    fn unit_and_job_paths() {
        assert_eq!(
            unit_path("foo.service"),
            "/org/freedesktop/systemd1/unit/foo_2eservice"
        );
        assert_eq!(
            unit_name_from_path("/org/freedesktop/systemd1/unit/foo_2eservice").as_deref(),
            Some("foo.service")
        );
        assert_eq!(unit_name_from_path("/org/freedesktop/systemd1/unit/"), None);
        assert_eq!(
            unit_name_from_path("/org/freedesktop/systemd1/unit/a/b"),
            None
        );
        assert_eq!(unit_name_from_path("/org/freedesktop/systemd1/job/1"), None);
        assert_eq!(job_path(42), "/org/freedesktop/systemd1/job/42");
        assert_eq!(
            job_id_from_path("/org/freedesktop/systemd1/job/42"),
            Some(42)
        );
        assert_eq!(job_id_from_path("/org/freedesktop/systemd1/job/"), None);
        assert_eq!(job_id_from_path("/org/freedesktop/systemd1/job/+1"), None);
        assert_eq!(
            job_id_from_path("/org/freedesktop/systemd1/job/99999999999"),
            None
        );
    }
}
