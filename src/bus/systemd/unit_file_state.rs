//! `UnitFileState` and `UnitFilePreset` of a unit, computed the way systemd's install logic
//! does from what is on disk: enablement symlinks in the search path's `.wants/`,
//! `.requires/` and `.upholds/` directories, the `[Install]` section, and `*.preset` files.
//!
//! These reads are small (a few `readdir`/`stat` calls per query) and happen only when a client
//! asks for the property; presets are parsed once and cached by the caller until the next
//! daemon-reload.

use std::path::{Path, PathBuf};

use crate::settings::{Scope, Settings};
use crate::spec::{LoadState, LoadedUnit};

use super::glob::fnmatch;

/// `UnitFileState` of `unit` (`""` when there is no unit file to judge).
pub fn unit_file_state(settings: &Settings, unit: &LoadedUnit) -> &'static str {
    if unit.load_state == LoadState::Masked {
        return if unit
            .fragment_path
            .as_deref()
            .is_some_and(|p| is_runtime_path(settings, p))
        {
            "masked-runtime"
        } else {
            "masked"
        };
    }
    let Some(fragment) = unit.fragment_path.as_deref() else {
        return "";
    };
    let frag = fragment.to_string_lossy();
    if frag.contains("/systemd/generator") || frag.contains("/systemd/user-generator") {
        return "generated";
    }
    if frag.contains("/systemd/transient/") {
        return "transient";
    }
    match find_enablement_symlink(&settings.unit_paths, &unit.name) {
        Some(dir) if is_runtime_path(settings, &dir) => return "enabled-runtime",
        Some(_) => return "enabled",
        None => {}
    }
    let install = &unit.spec.install;
    if !install.wanted_by.is_empty() || !install.required_by.is_empty() || !install.alias.is_empty()
    {
        "disabled"
    } else if !install.also.is_empty() || install.default_instance.is_some() {
        "indirect"
    } else {
        "static"
    }
}

/// The search-path directory holding a `.wants/`, `.requires/` or `.upholds/` entry named
/// `name`, if any.
fn find_enablement_symlink(unit_paths: &[PathBuf], name: &str) -> Option<PathBuf> {
    for dir in unit_paths {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let fname = e.file_name();
            let fname = fname.to_string_lossy();
            if !(fname.ends_with(".wants")
                || fname.ends_with(".requires")
                || fname.ends_with(".upholds"))
            {
                continue;
            }
            if std::fs::symlink_metadata(e.path().join(name)).is_ok() {
                return Some(dir.clone());
            }
        }
    }
    None
}

fn is_runtime_path(settings: &Settings, p: &Path) -> bool {
    p.starts_with("/run") || p.starts_with(&settings.runtime_dir)
}

/// Parsed preset rules, in priority order.
#[derive(Debug, Clone, Default)]
pub struct Presets {
    rules: Vec<(bool, String)>,
}

impl Presets {
    /// Read the preset files of `settings.scope` from the standard directories.
    pub fn load(settings: &Settings) -> Presets {
        let dirs: Vec<PathBuf> = match settings.scope {
            Scope::System => [
                "/etc/systemd/system-preset",
                "/run/systemd/system-preset",
                "/usr/local/lib/systemd/system-preset",
                "/usr/lib/systemd/system-preset",
                "/lib/systemd/system-preset",
            ]
            .iter()
            .map(PathBuf::from)
            .collect(),
            Scope::User => [
                "/etc/systemd/user-preset",
                "/run/systemd/user-preset",
                "/usr/local/lib/systemd/user-preset",
                "/usr/lib/systemd/user-preset",
                "/lib/systemd/user-preset",
            ]
            .iter()
            .map(PathBuf::from)
            .collect(),
        };
        Presets::load_from(&dirs)
    }

    /// Read `*.preset` files from `dirs` (earlier directories mask files of the same name in
    /// later ones; all files are then applied in file-name order).
    pub fn load_from(dirs: &[PathBuf]) -> Presets {
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !name.ends_with(".preset") || files.iter().any(|(n, _)| *n == name) {
                    continue;
                }
                files.push((name, e.path()));
            }
        }
        files.sort();
        let mut rules = Vec::new();
        for (_, path) in files {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            rules.extend(parse_preset(&text));
        }
        Presets { rules }
    }

    /// `UnitFilePreset`: the first matching rule decides; no match means `enabled`.
    pub fn query(&self, name: &str) -> &'static str {
        for (enable, pattern) in &self.rules {
            if fnmatch(pattern, name) {
                return if *enable { "enabled" } else { "disabled" };
            }
        }
        "enabled"
    }
}

fn parse_preset(text: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let mut words = line.split_whitespace();
        let verb = words.next();
        let Some(pattern) = words.next() else {
            continue;
        };
        match verb {
            Some("enable") => out.push((true, pattern.to_owned())),
            Some("disable") => out.push((false, pattern.to_owned())),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{InstallSpec, UnitName, UnitSpec};

    fn settings(unit_paths: Vec<PathBuf>, runtime: &Path) -> Settings {
        let mut s = Settings::resolve(Scope::User, unit_paths, Some(runtime.join("state")), None);
        s.runtime_dir = runtime.to_path_buf();
        s
    }

    fn loaded(name: &str, fragment: Option<PathBuf>, install: InstallSpec) -> LoadedUnit {
        let mut spec = UnitSpec::default_for(&UnitName::new(name).unwrap());
        spec.install = install;
        LoadedUnit {
            name: name.into(),
            aliases: vec![],
            load_state: if fragment.is_some() {
                LoadState::Loaded
            } else {
                LoadState::NotFound
            },
            load_error: None,
            fragment_path: fragment,
            dropin_paths: vec![],
            diagnostics: vec![],
            spec,
        }
    }

    #[test]
    fn states_from_disk_and_install_section() {
        let t = tempfile::tempdir().unwrap();
        let etc = t.path().join("etc");
        let run = t.path().join("run");
        std::fs::create_dir_all(etc.join("default.target.wants")).unwrap();
        std::fs::create_dir_all(run.join("x.target.wants")).unwrap();
        let s = settings(vec![etc.clone(), run.clone()], &run);
        let frag = |n: &str| Some(etc.join(n));
        let wanted = InstallSpec {
            wanted_by: vec!["default.target".into()],
            ..Default::default()
        };

        // No file: nothing to judge.
        assert_eq!(
            unit_file_state(&s, &loaded("a.service", None, wanted.clone())),
            ""
        );
        // [Install] but no symlink.
        assert_eq!(
            unit_file_state(&s, &loaded("a.service", frag("a.service"), wanted.clone())),
            "disabled"
        );
        // Symlink in a .wants directory.
        std::os::unix::fs::symlink(
            etc.join("a.service"),
            etc.join("default.target.wants/a.service"),
        )
        .unwrap();
        assert_eq!(
            unit_file_state(&s, &loaded("a.service", frag("a.service"), wanted.clone())),
            "enabled"
        );
        std::os::unix::fs::symlink(etc.join("r.service"), run.join("x.target.wants/r.service"))
            .unwrap();
        assert_eq!(
            unit_file_state(&s, &loaded("r.service", frag("r.service"), wanted)),
            "enabled-runtime"
        );
        // No [Install] rules.
        assert_eq!(
            unit_file_state(
                &s,
                &loaded("b.service", frag("b.service"), InstallSpec::default())
            ),
            "static"
        );
        let also = InstallSpec {
            also: vec!["c.socket".into()],
            ..Default::default()
        };
        assert_eq!(
            unit_file_state(&s, &loaded("c.service", frag("c.service"), also)),
            "indirect"
        );
        let mut masked = loaded(
            "m.service",
            Some(PathBuf::from("/dev/null")),
            InstallSpec::default(),
        );
        masked.load_state = LoadState::Masked;
        assert_eq!(unit_file_state(&s, &masked), "masked");
    }

    #[test]
    fn presets_first_match_wins_and_default_is_enabled() {
        let t = tempfile::tempdir().unwrap();
        let a = t.path().join("a");
        let b = t.path().join("b");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(a.join("50-x.preset"), "# c\nenable foo*.service\n").unwrap();
        // Same file name in a later directory is masked by the earlier one.
        std::fs::write(b.join("50-x.preset"), "disable foo*.service\n").unwrap();
        std::fs::write(b.join("90-last.preset"), "disable bar.service\nenable *\n").unwrap();
        let p = Presets::load_from(&[a, b]);
        assert_eq!(p.query("foo1.service"), "enabled");
        assert_eq!(p.query("bar.service"), "disabled");
        assert_eq!(p.query("other.service"), "enabled");
        assert_eq!(Presets::default().query("x.service"), "enabled");
    }
}
