//! Upstart job directories (`/etc/init`, `~/.config/upstart`, or `--job-path`): which `.conf`
//! files exist, the job and unit names they give, and loading one into a [`LoadedUnit`] via
//! [`crate::job_file`]. The first directory holding a job name owns it (Upstart's session
//! search order); a native unit file of the same name wins over the job (the loader asks the
//! unit search path first, as systemd's generators lose to real units).
//!
//! Instances of a job with an `instance` stanza are the units `<job unit stem>@<inst>.service`
//! (instance name `systemd-escape`d; [`crate::spec::upstart::instance_unit_name`]), loaded from
//! the job's file on demand; the class unit `<job>.service` is the unnamed instance.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::job_file;
use crate::spec::{Diagnostic, LoadState, LoadedUnit, Severity, UnitName, UnitSpec};

use super::{errno_text, load_error};

/// One job found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEntry {
    /// The Upstart job name (`net/apache`).
    pub job: String,
    /// Its `.conf` file.
    pub conf: PathBuf,
    /// The `.override` next to it, if present.
    pub override_file: Option<PathBuf>,
}

/// Unit name → job, for every `.conf` under the job directories.
#[derive(Debug, Default)]
pub struct JobIndex {
    by_unit: BTreeMap<String, JobEntry>,
}

impl JobIndex {
    /// Scan `dirs` (highest priority first) recursively for `*.conf`.
    pub fn build(dirs: &[PathBuf]) -> JobIndex {
        let mut idx = JobIndex::default();
        for dir in dirs {
            let mut found = Vec::new();
            walk(dir, dir, &mut found, 0);
            found.sort();
            for (job, conf) in found {
                let unit = job_file::unit_name_for_job(&job);
                if UnitName::new(&unit).is_err() || idx.by_unit.contains_key(&unit) {
                    continue;
                }
                let ovr = job_file::override_path(&conf);
                idx.by_unit.insert(
                    unit,
                    JobEntry {
                        job,
                        conf,
                        override_file: ovr.is_file().then_some(ovr),
                    },
                );
            }
        }
        idx
    }

    /// The job lowered into unit `unit`, if any.
    pub fn get(&self, unit: &str) -> Option<&JobEntry> {
        self.by_unit.get(unit)
    }

    /// Every unit name a job provides, sorted.
    pub fn unit_names(&self) -> impl Iterator<Item = &String> {
        self.by_unit.keys()
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>, depth: u32) {
    if depth > 16 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(Result::ok) {
        let path = e.path();
        let hidden = e.file_name().to_str().is_none_or(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, out, depth + 1);
        } else if let Ok(rel) = path.strip_prefix(root)
            && let Some(job) = job_file::job_name_from_relative(rel)
        {
            out.push((job, path));
        }
    }
}

/// Load `entry` as unit `name`: parse the `.conf` (+ `.override`) and lower it. A job with
/// errors is `bad-setting` (unreadable: `error`), with every diagnostic kept.
pub fn load_job(name: &UnitName, entry: &JobEntry) -> LoadedUnit {
    let mut diagnostics = Vec::new();
    let fail =
        |state: LoadState, reason: Option<String>, diagnostics: Vec<Diagnostic>| LoadedUnit {
            name: name.as_str().to_owned(),
            aliases: Vec::new(),
            load_state: state,
            load_error: load_error(state, name.as_str(), reason.as_deref()),
            fragment_path: Some(entry.conf.clone()),
            dropin_paths: Vec::new(),
            diagnostics,
            spec: UnitSpec::default_for(name),
        };
    let text = match std::fs::read(&entry.conf) {
        Ok(t) => t,
        Err(e) => {
            let reason = errno_text(&e);
            diagnostics.push(Diagnostic {
                file: entry.conf.clone(),
                line: 0,
                severity: Severity::Error,
                message: format!("Failed to open {}: {reason}", entry.conf.display()),
            });
            return fail(LoadState::Error, Some(reason), diagnostics);
        }
    };
    let override_text = entry
        .override_file
        .as_ref()
        .and_then(|p| std::fs::read(p).ok().map(|t| (p.clone(), t)));
    let parsed = job_file::parse_job(
        &entry.job,
        (&entry.conf, &text),
        override_text
            .as_ref()
            .map(|(p, t)| (p.as_path(), t.as_slice())),
    );
    diagnostics.extend(parsed.diagnostics);
    if !parsed.ok {
        return fail(LoadState::BadSetting, None, diagnostics);
    }
    let dropin_paths = parsed.job.meta.override_path.iter().cloned().collect();
    LoadedUnit {
        name: name.as_str().to_owned(),
        aliases: Vec::new(),
        load_state: LoadState::Loaded,
        load_error: None,
        fragment_path: Some(entry.conf.clone()),
        dropin_paths,
        diagnostics,
        spec: job_file::lower(&parsed.job, name),
    }
}

/// Load `<stem>@<inst>.service` as instance `inst` of the instance job whose class unit is
/// `<stem>.service`. `None` when the name is not an instance or no instance job owns it.
pub fn load_job_instance(index: &JobIndex, name: &UnitName) -> Option<LoadedUnit> {
    let inst = name.instance().filter(|i| !i.is_empty())?;
    let class = format!("{}.service", name.prefix());
    let entry = index.get(&class)?;
    let class_name = UnitName::new(&class).ok()?;
    let loaded = load_job(&class_name, entry);
    if loaded.load_state != LoadState::Loaded {
        return None;
    }
    let inst = crate::spec::unit_name::unescape(inst, true);
    crate::spec::upstart::instantiate(&loaded, name.as_str(), &inst)
}
