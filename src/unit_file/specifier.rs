//! `%` specifiers (`systemd.unit(5)` "Specifiers"): expansion of `%n`, `%i`, `%h`, … in setting
//! values at load time.
//!
//! Owns the specifier tables (full, unit-name subset for dependencies, `[Install]` subset) and the
//! rules: `%%` is `%`, `%` followed by an unknown alphanumeric character is an error, `%` followed
//! by anything else (or at the end) is kept literally. Values come from the unit's name and
//! fragment path and from [`SpecifierContext`], plain data the loader fills in once — nothing
//! here reads the file system or the environment.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::spec::UnitName;

/// Manager-wide values behind the specifiers. The loader builds it once (from `Settings`,
/// `/etc/hostname`, `/etc/machine-id`, `/etc/os-release`, …); tests build it by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecifierContext {
    /// `%u`: the manager's user name.
    pub user_name: String,
    /// `%U`: the manager's uid.
    pub uid: u32,
    /// `%g`: the manager's group name.
    pub group_name: String,
    /// `%G`: the manager's gid.
    pub gid: u32,
    /// `%h`: the manager user's home.
    pub home: PathBuf,
    /// `%s`: the manager user's shell.
    pub shell: PathBuf,
    /// `%t`: `/run` (system) or `$XDG_RUNTIME_DIR` (user). Also the prefix of relative
    /// `PIDFile=` paths and of `%d`.
    pub runtime_dir: PathBuf,
    /// `%S`.
    pub state_root: PathBuf,
    /// `%C`.
    pub cache_root: PathBuf,
    /// `%L`.
    pub logs_root: PathBuf,
    /// `%E`.
    pub config_root: PathBuf,
    /// `%T`.
    pub tmp_dir: PathBuf,
    /// `%V`.
    pub var_tmp_dir: PathBuf,
    /// `%H` (and `%l`, its part before the first dot).
    pub hostname: String,
    /// `%q`: `PRETTY_HOSTNAME=` of `/etc/machine-info`; `None` falls back to `%l`.
    pub pretty_hostname: Option<String>,
    /// `%m`: 32 lowercase hex digits; `None` makes `%m` an error (as systemd without a
    /// machine id).
    pub machine_id: Option<String>,
    /// `%b`: 32 lowercase hex digits; `None` makes `%b` an error.
    pub boot_id: Option<String>,
    /// `%v`.
    pub kernel_release: String,
    /// `%a`: systemd's architecture name (`x86-64`, `arm64`, …).
    pub architecture: String,
    /// `/etc/os-release` fields (`%o` ID, `%w` VERSION_ID, `%W` VARIANT_ID, `%B` BUILD_ID,
    /// `%M` IMAGE_ID, `%A` IMAGE_VERSION). `None` (no os-release) makes those an error; a
    /// missing field expands to nothing.
    pub os_release: Option<HashMap<String, String>>,
}

impl SpecifierContext {
    /// systemd's architecture name for the architecture this binary was built for.
    pub fn native_architecture() -> &'static str {
        match std::env::consts::ARCH {
            "x86_64" => "x86-64",
            "x86" => "x86",
            "aarch64" => "arm64",
            "arm" => "arm",
            "riscv64" => "riscv64",
            "powerpc64" if cfg!(target_endian = "little") => "ppc64-le",
            "powerpc64" => "ppc64",
            "powerpc" => "ppc",
            "s390x" => "s390x",
            "loongarch64" => "loongarch64",
            "mips64" => "mips64",
            "mips" => "mips",
            "sparc64" => "sparc64",
            other => other,
        }
    }
}

/// Which specifiers a setting accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecifierSet {
    /// Everything (`unit_full_printf`): most settings.
    Full,
    /// Names only (`unit_name_printf`): dependency lists. `%i %j %n %N %p`, the system ones
    /// (`%a %A %b %B %H %l %m %M %o %v %w %W`) and `%g %G %u %U`.
    UnitName,
    /// `[Install]`: `%a %b %B %g %G %H %i %j %l %m %n %N %o %p %u %U %v %w %W`.
    Install,
}

/// Why a specifier could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecifierError {
    /// `%` followed by an alphanumeric character that is not a specifier (here).
    #[error("unknown specifier '%{0}'")]
    Unknown(char),
    /// A known specifier without a value (no machine id, invalid escape in the name, …).
    #[error("cannot resolve specifier '%{0}': {1}")]
    Unavailable(char, String),
}

/// The unit-specific inputs of expansion.
#[derive(Debug, Clone, Copy)]
pub struct UnitInfo<'a> {
    /// The unit's (primary) name.
    pub name: &'a UnitName,
    /// The fragment path (`%y`, `%Y`).
    pub fragment: Option<&'a Path>,
}

/// Undo systemd's name escaping (`unit_name_unescape`): `-` → `/`, `\xHH` → byte; any other
/// backslash is an error.
pub fn name_unescape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'-' => out.push(b'/'),
            b'\\' => {
                if b.get(i + 1) != Some(&b'x') {
                    return None;
                }
                let hi = (*b.get(i + 2)? as char).to_digit(16)?;
                let lo = (*b.get(i + 3)? as char).to_digit(16)?;
                out.push(((hi << 4) | lo) as u8);
                i += 3;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// `unit_name_path_unescape`: `-` alone is `/`; otherwise unescape, refuse leading/trailing `/`
/// and non-normalized results, and prefix `/`.
pub fn path_unescape(s: &str) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    if s == "-" {
        return Some("/".into());
    }
    let w = name_unescape(s)?;
    if w.starts_with('/') || w.ends_with('/') {
        return None;
    }
    let p = format!("/{w}");
    if p.split('/').any(|c| c == "." || c == "..") || p.contains("//") {
        return None;
    }
    Some(p)
}

fn last_component(prefix: &str) -> &str {
    match prefix.rfind('-') {
        Some(d) => &prefix[d + 1..],
        None => prefix,
    }
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn short_hostname(h: &str) -> &str {
    h.split('.').next().unwrap_or(h)
}

fn allowed(set: SpecifierSet, c: char) -> bool {
    const NAME: &str = "ijnNp";
    const SYSTEM: &str = "aAbBHlmMovwW";
    const CREDS: &str = "gGuU";
    match set {
        SpecifierSet::Full => true,
        SpecifierSet::UnitName => NAME.contains(c) || SYSTEM.contains(c) || CREDS.contains(c),
        SpecifierSet::Install => "abBgGHijlmnNopuUvwW".contains(c),
    }
}

fn os_field(ctx: &SpecifierContext, c: char, key: &str) -> Result<String, SpecifierError> {
    match &ctx.os_release {
        Some(m) => Ok(m.get(key).cloned().unwrap_or_default()),
        None => Err(SpecifierError::Unavailable(c, "no os-release file".into())),
    }
}

/// The value of specifier `c`, or `Ok(None)` if `c` is not a specifier at all.
fn lookup(
    c: char,
    unit: UnitInfo<'_>,
    ctx: &SpecifierContext,
) -> Result<Option<String>, SpecifierError> {
    let name = unit.name;
    let bad_escape = || SpecifierError::Unavailable(c, "invalid escape in unit name".into());
    let v = match c {
        'n' => name.as_str().to_owned(),
        'N' => name.stem().to_owned(),
        'p' => name.prefix().to_owned(),
        'P' => name_unescape(name.prefix()).ok_or_else(bad_escape)?,
        'i' => name.instance().unwrap_or("").to_owned(),
        'I' => name_unescape(name.instance().unwrap_or("")).ok_or_else(bad_escape)?,
        'j' => last_component(name.prefix()).to_owned(),
        'J' => name_unescape(last_component(name.prefix())).ok_or_else(bad_escape)?,
        'f' => {
            let src = match name.instance() {
                Some(i) if !i.is_empty() => i,
                _ => name.prefix(),
            };
            path_unescape(src).ok_or_else(|| {
                SpecifierError::Unavailable(c, "name does not unescape to a valid path".into())
            })?
        }
        'y' | 'Y' => {
            let f = unit
                .fragment
                .ok_or_else(|| SpecifierError::Unavailable(c, "no fragment file".into()))?;
            if c == 'y' {
                path_str(f)
            } else {
                f.parent().map(path_str).unwrap_or_else(|| "/".into())
            }
        }
        'c' | 'r' | 'R' => {
            return Err(SpecifierError::Unavailable(
                c,
                "control-group specifiers are not supported".into(),
            ));
        }
        'C' => path_str(&ctx.cache_root),
        'd' => path_str(&ctx.runtime_dir.join("credentials").join(name.as_str())),
        'E' => path_str(&ctx.config_root),
        'L' => path_str(&ctx.logs_root),
        'S' => path_str(&ctx.state_root),
        't' => path_str(&ctx.runtime_dir),
        'h' => path_str(&ctx.home),
        's' => path_str(&ctx.shell),
        'q' => ctx
            .pretty_hostname
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| short_hostname(&ctx.hostname).to_owned()),
        'a' => ctx.architecture.clone(),
        'A' => os_field(ctx, c, "IMAGE_VERSION")?,
        'b' => ctx
            .boot_id
            .clone()
            .ok_or_else(|| SpecifierError::Unavailable(c, "no boot id".into()))?,
        'B' => os_field(ctx, c, "BUILD_ID")?,
        'H' => ctx.hostname.clone(),
        'l' => short_hostname(&ctx.hostname).to_owned(),
        'm' => ctx
            .machine_id
            .clone()
            .ok_or_else(|| SpecifierError::Unavailable(c, "no machine id".into()))?,
        'M' => os_field(ctx, c, "IMAGE_ID")?,
        'o' => os_field(ctx, c, "ID")?,
        'v' => ctx.kernel_release.clone(),
        'w' => os_field(ctx, c, "VERSION_ID")?,
        'W' => os_field(ctx, c, "VARIANT_ID")?,
        'g' => ctx.group_name.clone(),
        'G' => ctx.gid.to_string(),
        'u' => ctx.user_name.clone(),
        'U' => ctx.uid.to_string(),
        'T' => path_str(&ctx.tmp_dir),
        'V' => path_str(&ctx.var_tmp_dir),
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// Expand every specifier in `text`.
pub fn expand(
    text: &str,
    set: SpecifierSet,
    unit: UnitInfo<'_>,
    ctx: &SpecifierContext,
) -> Result<String, SpecifierError> {
    if !text.contains('%') {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            None => out.push('%'),
            Some('%') => out.push('%'),
            Some(s) => {
                let value = if allowed(set, s) {
                    lookup(s, unit, ctx)?
                } else {
                    None
                };
                match value {
                    Some(v) => out.push_str(&v),
                    None if s.is_ascii_alphanumeric() => return Err(SpecifierError::Unknown(s)),
                    None => {
                        out.push('%');
                        out.push(s);
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) fn test_context() -> SpecifierContext {
    SpecifierContext {
        user_name: "alice".into(),
        uid: 1000,
        group_name: "users".into(),
        gid: 100,
        home: "/home/alice".into(),
        shell: "/bin/bash".into(),
        runtime_dir: "/run/user/1000".into(),
        state_root: "/home/alice/.local/state".into(),
        cache_root: "/home/alice/.cache".into(),
        logs_root: "/home/alice/.local/state/log".into(),
        config_root: "/home/alice/.config".into(),
        tmp_dir: "/tmp".into(),
        var_tmp_dir: "/var/tmp".into(),
        hostname: "box.example.org".into(),
        pretty_hostname: None,
        machine_id: Some("0123456789abcdef0123456789abcdef".into()),
        boot_id: Some("fedcba9876543210fedcba9876543210".into()),
        kernel_release: "6.1.0-test".into(),
        architecture: "x86-64".into(),
        os_release: Some(
            [
                ("ID", "debian"),
                ("VERSION_ID", "12"),
                ("BUILD_ID", "b1"),
                ("IMAGE_ID", "img"),
                ("IMAGE_VERSION", "7"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x(text: &str, name: &str, set: SpecifierSet) -> Result<String, SpecifierError> {
        let n = UnitName::new(name).unwrap();
        let frag = Path::new("/etc/systemd/user/q@.service");
        expand(
            text,
            set,
            UnitInfo {
                name: &n,
                fragment: Some(frag),
            },
            &test_context(),
        )
    }

    #[test]
    fn seed_12_specifier_table() {
        // systemd 252 with q@a-b\x2dc.service (service contract §5.4).
        let name = r"q@a-b\x2dc.service";
        let table: &[(&str, &str)] = &[
            ("%n", r"q@a-b\x2dc.service"),
            ("%N", r"q@a-b\x2dc"),
            ("%p", "q"),
            ("%P", "q"),
            ("%i", r"a-b\x2dc"),
            ("%I", "a/b-c"),
            ("%j", "q"),
            ("%J", "q"),
            ("%f", "/a/b-c"),
            ("%u", "alice"),
            ("%U", "1000"),
            ("%g", "users"),
            ("%G", "100"),
            ("%h", "/home/alice"),
            ("%s", "/bin/bash"),
            ("%t", "/run/user/1000"),
            ("%S", "/home/alice/.local/state"),
            ("%C", "/home/alice/.cache"),
            ("%L", "/home/alice/.local/state/log"),
            ("%E", "/home/alice/.config"),
            ("%T", "/tmp"),
            ("%V", "/var/tmp"),
            ("%d", r"/run/user/1000/credentials/q@a-b\x2dc.service"),
            ("%y", "/etc/systemd/user/q@.service"),
            ("%Y", "/etc/systemd/user"),
            ("%H", "box.example.org"),
            ("%l", "box"),
            ("%q", "box"),
            ("%m", "0123456789abcdef0123456789abcdef"),
            ("%b", "fedcba9876543210fedcba9876543210"),
            ("%v", "6.1.0-test"),
            ("%a", "x86-64"),
            ("%o", "debian"),
            ("%w", "12"),
            ("%W", ""),
            ("%B", "b1"),
            ("%M", "img"),
            ("%A", "7"),
            ("%%", "%"),
            ("100%", "100%"),
            ("%-x", "%-x"),
            ("a%/b", "a%/b"),
            ("[%i]", r"[a-b\x2dc]"),
        ];
        for (input, want) in table {
            assert_eq!(
                x(input, name, SpecifierSet::Full).unwrap(),
                *want,
                "{input}"
            );
        }
    }

    #[test]
    fn prefix_specifiers_of_dashed_names() {
        let name = r"foo-bar\x2dbaz@inst.service";
        assert_eq!(
            x("%p", name, SpecifierSet::Full).unwrap(),
            r"foo-bar\x2dbaz"
        );
        assert_eq!(x("%P", name, SpecifierSet::Full).unwrap(), "foo/bar-baz");
        assert_eq!(x("%j", name, SpecifierSet::Full).unwrap(), r"bar\x2dbaz");
        assert_eq!(x("%J", name, SpecifierSet::Full).unwrap(), "bar-baz");
        // Without an instance %f unescapes the prefix.
        assert_eq!(
            x("%f", "dev-sda1.service", SpecifierSet::Full).unwrap(),
            "/dev/sda1"
        );
        assert_eq!(x("%i", "plain.service", SpecifierSet::Full).unwrap(), "");
    }

    #[test]
    fn unknown_and_restricted() {
        assert_eq!(
            x("%z", "a.service", SpecifierSet::Full),
            Err(SpecifierError::Unknown('z'))
        );
        // %I and %h are not available in dependency lists.
        assert_eq!(
            x("%I", "a@b.service", SpecifierSet::UnitName),
            Err(SpecifierError::Unknown('I'))
        );
        assert_eq!(
            x("%h", "a.service", SpecifierSet::Install),
            Err(SpecifierError::Unknown('h'))
        );
        assert_eq!(
            x("%i-%u", "a@b.service", SpecifierSet::Install).unwrap(),
            "b-alice"
        );
        let mut ctx = test_context();
        ctx.machine_id = None;
        let n = UnitName::new("a.service").unwrap();
        let r = expand(
            "%m",
            SpecifierSet::Full,
            UnitInfo {
                name: &n,
                fragment: None,
            },
            &ctx,
        );
        assert!(matches!(r, Err(SpecifierError::Unavailable('m', _))));
        let r = expand(
            "%y",
            SpecifierSet::Full,
            UnitInfo {
                name: &n,
                fragment: None,
            },
            &ctx,
        );
        assert!(matches!(r, Err(SpecifierError::Unavailable('y', _))));
    }

    #[test]
    fn path_unescape_rules() {
        assert_eq!(path_unescape("-").as_deref(), Some("/"));
        assert_eq!(path_unescape("a-b").as_deref(), Some("/a/b"));
        assert_eq!(path_unescape("-a"), None);
        assert_eq!(path_unescape("a-"), None);
        assert_eq!(path_unescape("a--b"), None);
        assert_eq!(name_unescape(r"a\qb"), None);
        assert_eq!(name_unescape(r"a\x2"), None);
    }
}
