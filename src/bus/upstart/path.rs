//! Upstart object paths: libnih's `nih_dbus_path()` escaping (every byte outside
//! `[A-Za-z0-9]` becomes `_` + two lowercase hex digits; an empty element is `_`).
//! Divergence: Upstart on signed-char platforms prints bytes ≥ 0x80 as `_ff`; we escape the
//! unsigned byte.

/// The manager object.
pub const MANAGER_PATH: &str = "/com/ubuntu/Upstart";
/// Parent of the job objects.
pub const JOBS_PATH: &str = "/com/ubuntu/Upstart/jobs";

/// Escape one path element.
pub fn escape(element: &str) -> String {
    if element.is_empty() {
        return "_".into();
    }
    let mut out = String::new();
    for b in element.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            out.push_str(&format!("_{b:02x}"));
        }
    }
    out
}

/// Undo [`escape`]; `None` if `s` is not a valid escaped element.
pub fn unescape(s: &str) -> Option<String> {
    if s == "_" {
        return Some(String::new());
    }
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'_' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else if b[i].is_ascii_alphanumeric() {
            out.push(b[i]);
            i += 1;
        } else {
            return None;
        }
    }
    String::from_utf8(out).ok()
}

/// `/com/ubuntu/Upstart/jobs/<esc(job)>`.
pub fn job_path(job: &str) -> String {
    format!("{JOBS_PATH}/{}", escape(job))
}

/// `/com/ubuntu/Upstart/jobs/<esc(job)>/<esc(instance)>`.
pub fn instance_path(job: &str, instance: &str) -> String {
    format!("{JOBS_PATH}/{}/{}", escape(job), escape(instance))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libnih_escaping() {
        assert_eq!(escape("avahi-daemon"), "avahi_2ddaemon");
        assert_eq!(escape("my_job"), "my_5fjob");
        assert_eq!(escape("net/apache"), "net_2fapache");
        assert_eq!(escape("tty1"), "tty1");
        assert_eq!(escape(""), "_");
        assert_eq!(unescape("avahi_2ddaemon").as_deref(), Some("avahi-daemon"));
        assert_eq!(unescape("_").as_deref(), Some(""));
        assert_eq!(unescape("bad-"), None);
        assert_eq!(instance_path("foo", ""), "/com/ubuntu/Upstart/jobs/foo/_");
    }
}
