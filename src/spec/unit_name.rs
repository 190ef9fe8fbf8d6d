//! Unit names: validation, type suffix, template/instance split and systemd's string escaping.
//!
//! Owns the rules of `systemd.unit(5)` for names (`prefix[@instance].type`, at most 255
//! characters of `[A-Za-z0-9:_.\-\\]`) and `systemd-escape`'s unescaping used by `%I`/`%P`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest valid unit name (systemd's `UNIT_NAME_MAX`).
pub const UNIT_NAME_MAX: usize = 255;

/// Unit type, from the name's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UnitType {
    Service,
    Socket,
    Target,
    Device,
    Mount,
    Automount,
    Swap,
    Timer,
    Path,
    Slice,
    Scope,
}

impl UnitType {
    /// Every type.
    pub const ALL: [UnitType; 11] = [
        UnitType::Service,
        UnitType::Socket,
        UnitType::Target,
        UnitType::Device,
        UnitType::Mount,
        UnitType::Automount,
        UnitType::Swap,
        UnitType::Timer,
        UnitType::Path,
        UnitType::Slice,
        UnitType::Scope,
    ];

    /// The suffix without the dot (`service`).
    pub fn suffix(self) -> &'static str {
        match self {
            UnitType::Service => "service",
            UnitType::Socket => "socket",
            UnitType::Target => "target",
            UnitType::Device => "device",
            UnitType::Mount => "mount",
            UnitType::Automount => "automount",
            UnitType::Swap => "swap",
            UnitType::Timer => "timer",
            UnitType::Path => "path",
            UnitType::Slice => "slice",
            UnitType::Scope => "scope",
        }
    }

    /// The type for a suffix without the dot.
    pub fn from_suffix(s: &str) -> Option<UnitType> {
        UnitType::ALL.into_iter().find(|t| t.suffix() == s)
    }

    /// The name of the type-specific section in unit files (`Service`, `Socket`, …); `None` for
    /// types without one (target, device, scope).
    pub fn section(self) -> Option<&'static str> {
        match self {
            UnitType::Service => Some("Service"),
            UnitType::Socket => Some("Socket"),
            UnitType::Mount => Some("Mount"),
            UnitType::Automount => Some("Automount"),
            UnitType::Swap => Some("Swap"),
            UnitType::Timer => Some("Timer"),
            UnitType::Path => Some("Path"),
            UnitType::Slice => Some("Slice"),
            UnitType::Scope => Some("Scope"),
            UnitType::Target | UnitType::Device => None,
        }
    }
}

/// Why a string is not a valid unit name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitNameError {
    #[error("unit name is empty")]
    Empty,
    #[error("unit name is longer than {UNIT_NAME_MAX} characters")]
    TooLong,
    #[error("unit name has no valid type suffix")]
    NoSuffix,
    #[error("unit name contains invalid characters")]
    InvalidChar,
    #[error("unit name has an invalid prefix or instance")]
    Malformed,
}

/// A validated unit name such as `foo.service`, `foo@.service` (template) or `foo@bar.service`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnitName(String);

impl UnitName {
    /// Validate `s` as a unit name (plain, template or instance).
    pub fn new(s: &str) -> Result<UnitName, UnitNameError> {
        if s.is_empty() {
            return Err(UnitNameError::Empty);
        }
        if s.len() > UNIT_NAME_MAX {
            return Err(UnitNameError::TooLong);
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":-_.\\@".contains(&b))
        {
            return Err(UnitNameError::InvalidChar);
        }
        let dot = s.rfind('.').ok_or(UnitNameError::NoSuffix)?;
        if UnitType::from_suffix(&s[dot + 1..]).is_none() {
            return Err(UnitNameError::NoSuffix);
        }
        let stem = &s[..dot];
        if stem.is_empty() {
            return Err(UnitNameError::Malformed);
        }
        // Exactly one '@', non-empty prefix; the instance may be empty (template).
        if let Some(at) = stem.find('@')
            && (at == 0 || stem[at + 1..].contains('@'))
        {
            return Err(UnitNameError::Malformed);
        }
        Ok(UnitName(s.to_owned()))
    }

    /// The full name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The type from the suffix.
    pub fn unit_type(&self) -> UnitType {
        let dot = self.0.rfind('.').expect("validated");
        UnitType::from_suffix(&self.0[dot + 1..]).expect("validated")
    }

    /// Name without the type suffix (`%N`).
    pub fn stem(&self) -> &str {
        &self.0[..self.0.rfind('.').expect("validated")]
    }

    /// Prefix before `@`, or the stem for non-instances (`%p`).
    pub fn prefix(&self) -> &str {
        let stem = self.stem();
        match stem.find('@') {
            Some(at) => &stem[..at],
            None => stem,
        }
    }

    /// The instance string of `foo@bar.service` (`bar`); `Some("")` for a template; `None` for a
    /// plain name.
    pub fn instance(&self) -> Option<&str> {
        let stem = self.stem();
        stem.find('@').map(|at| &stem[at + 1..])
    }

    /// True for `foo@.service`.
    pub fn is_template(&self) -> bool {
        self.instance() == Some("")
    }

    /// True for `foo@bar.service`.
    pub fn is_instance(&self) -> bool {
        matches!(self.instance(), Some(i) if !i.is_empty())
    }

    /// The template name of an instance (`foo@bar.service` → `foo@.service`).
    pub fn template(&self) -> Option<UnitName> {
        if !self.is_instance() {
            return None;
        }
        Some(UnitName(format!(
            "{}@.{}",
            self.prefix(),
            self.unit_type().suffix()
        )))
    }

    /// Instantiate a template with `instance` (`foo@.service` + `x` → `foo@x.service`).
    pub fn with_instance(&self, instance: &str) -> Result<UnitName, UnitNameError> {
        UnitName::new(&format!(
            "{}@{}.{}",
            self.prefix(),
            instance,
            self.unit_type().suffix()
        ))
    }
}

impl fmt::Display for UnitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for UnitName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Undo `systemd-escape` (`\xHH` → byte); `-` becomes `/` when `path` is true (`%I`, `%f`).
pub fn unescape(s: &str, path: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' && i + 3 < bytes.len() && bytes.get(i + 1) == Some(&b'x') {
            let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        if path && b == b'-' {
            out.push(b'/');
        } else {
            out.push(b);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// systemd's `unit_name_from_path` without the suffix: the path normalized (`//` and a
/// trailing `/` dropped), its leading `/` removed, `/` written as `-` and every byte that is
/// not ASCII alphanumeric, `:`, `_` or a non-leading `.` as `\xHH`; `/` itself is `-`.
pub fn path_escape(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    if parts.is_empty() {
        return "-".into();
    }
    let joined = parts.join("/");
    let mut out = String::with_capacity(joined.len());
    for (i, b) in joined.bytes().enumerate() {
        match b {
            b'/' => out.push('-'),
            b'.' if i > 0 => out.push('.'),
            b if b.is_ascii_alphanumeric() || b == b':' || b == b'_' => out.push(b as char),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_names() {
        assert!(UnitName::new("foo.service").is_ok());
        assert!(UnitName::new("foo@.service").unwrap().is_template());
        assert!(UnitName::new("foo@bar.service").unwrap().is_instance());
        assert!(UnitName::new("-.mount").is_ok());
        assert_eq!(UnitName::new(""), Err(UnitNameError::Empty));
        assert_eq!(UnitName::new("foo"), Err(UnitNameError::NoSuffix));
        assert_eq!(UnitName::new("foo.bogus"), Err(UnitNameError::NoSuffix));
        assert_eq!(
            UnitName::new("../x.service"),
            Err(UnitNameError::InvalidChar)
        );
        assert_eq!(
            UnitName::new(&format!("{}.service", "a".repeat(300))),
            Err(UnitNameError::TooLong)
        );
        assert_eq!(UnitName::new("@x.service"), Err(UnitNameError::Malformed));
    }

    #[test]
    fn escapes_paths() {
        assert_eq!(path_escape("/"), "-");
        assert_eq!(path_escape("/dev/hugepages"), "dev-hugepages");
        assert_eq!(path_escape("//tmp/a-b/.x y/"), "tmp-a\\x2db-.x\\x20y");
        assert_eq!(
            path_escape("/sys/fs/fuse/connections"),
            "sys-fs-fuse-connections"
        );
    }

    #[test]
    fn splits_names() {
        let n = UnitName::new("q@a-b\\x2dc.service").unwrap();
        assert_eq!(n.stem(), "q@a-b\\x2dc");
        assert_eq!(n.prefix(), "q");
        assert_eq!(n.instance(), Some("a-b\\x2dc"));
        assert_eq!(n.template().unwrap().as_str(), "q@.service");
        assert_eq!(unescape(n.instance().unwrap(), true), "a/b-c");
    }
}
