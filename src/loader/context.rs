//! Builds the [`SpecifierContext`] the parser expands `%` specifiers from: the manager's identity
//! and directories from [`Settings`], plus host facts read once from the file system
//! (`/proc/sys/kernel/hostname`, `/etc/machine-info`, `/etc/machine-id`,
//! `/proc/sys/kernel/random/boot_id`, `/proc/sys/kernel/osrelease`, `/etc/os-release`).
//!
//! Mapping decisions (service contract §7.3): `%u %U %g %G %h` are the manager's (from
//! `Settings`), `%s` is the manager user's login shell from the user database, and `%T`/`%V`
//! are `/tmp` and `/var/tmp` — unitd does not read `$SHELL`/`$TMPDIR` outside `Settings`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::settings::Settings;
use crate::unit_file::SpecifierContext;

fn read_trimmed(path: &str) -> Option<String> {
    let s = std::fs::read_to_string(path).ok()?;
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn is_id128(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Parse an os-release/machine-info style file: `KEY=value`, `KEY="quoted"`, `KEY='quoted'`,
/// `#` comments. Values in double quotes honour `\"`, `\\`, `\$` and `` \` ``.
pub fn parse_env_style(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let k = k.trim();
        let v = v.trim();
        let value = if let Some(inner) = v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            let mut s = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    match chars.next() {
                        Some(n @ ('"' | '\\' | '$' | '`')) => s.push(n),
                        Some(n) => {
                            s.push('\\');
                            s.push(n);
                        }
                        None => s.push('\\'),
                    }
                } else {
                    s.push(c);
                }
            }
            s
        } else if let Some(inner) = v.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
            inner.to_owned()
        } else {
            v.to_owned()
        };
        out.insert(k.to_owned(), value);
    }
    out
}

fn group_name(gid: u32) -> String {
    match nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(gid)) {
        Ok(Some(g)) => g.name,
        _ if gid == 0 => "root".into(),
        _ => gid.to_string(),
    }
}

fn login_shell(uid: u32) -> PathBuf {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(u)) if !u.shell.as_os_str().is_empty() => u.shell,
        _ => PathBuf::from("/bin/sh"),
    }
}

fn hostname() -> String {
    if let Ok(h) = nix::unistd::gethostname()
        && let Some(s) = h.to_str().filter(|s| !s.is_empty())
    {
        return s.to_owned();
    }
    read_trimmed("/proc/sys/kernel/hostname")
        .or_else(|| read_trimmed("/etc/hostname"))
        .unwrap_or_else(|| "localhost".into())
}

fn os_release() -> Option<HashMap<String, String>> {
    ["/etc/os-release", "/usr/lib/os-release"]
        .iter()
        .find_map(|p| std::fs::read_to_string(Path::new(p)).ok())
        .map(|t| parse_env_style(&t))
}

/// Gather the specifier values for a manager with `settings`.
pub fn specifier_context(settings: &Settings) -> SpecifierContext {
    let machine_id = read_trimmed("/etc/machine-id").filter(|s| is_id128(s));
    let boot_id = read_trimmed("/proc/sys/kernel/random/boot_id")
        .map(|s| s.replace('-', ""))
        .filter(|s| is_id128(s));
    let pretty_hostname = std::fs::read_to_string("/etc/machine-info")
        .ok()
        .and_then(|t| parse_env_style(&t).remove("PRETTY_HOSTNAME"))
        .filter(|s| !s.is_empty());
    SpecifierContext {
        user_name: settings.user_name.clone(),
        uid: settings.uid,
        group_name: group_name(settings.gid),
        gid: settings.gid,
        home: settings.home.clone(),
        shell: login_shell(settings.uid),
        runtime_dir: settings.runtime_dir.clone(),
        state_root: settings.state_root.clone(),
        cache_root: settings.cache_root.clone(),
        logs_root: settings.logs_root.clone(),
        config_root: settings.config_root.clone(),
        tmp_dir: PathBuf::from("/tmp"),
        var_tmp_dir: PathBuf::from("/var/tmp"),
        hostname: hostname(),
        pretty_hostname,
        machine_id,
        boot_id,
        kernel_release: read_trimmed("/proc/sys/kernel/osrelease").unwrap_or_default(),
        architecture: SpecifierContext::native_architecture().to_owned(),
        os_release: os_release(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_style_files() {
        let m = parse_env_style(
            "# c\nID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian \\\"x\\\" \\n\"\nX='a b'\nbad line\n",
        );
        assert_eq!(m["ID"], "debian");
        assert_eq!(m["VERSION_ID"], "12");
        assert_eq!(m["PRETTY_NAME"], "Debian \"x\" \\n");
        assert_eq!(m["X"], "a b");
        assert_eq!(m.len(), 4);
    }
}
