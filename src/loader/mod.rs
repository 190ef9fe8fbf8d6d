//! The file-system side of loading units: search path, fragments, aliases, linked and masked
//! units, templates and instances, drop-ins and `.wants/`/`.requires/`/`.upholds/` directories
//! (service contract §5.6–5.8). Parsing itself is [`crate::unit_file`]'s.
//!
//! [`Loader::load`] turns a unit name into a [`LoadedUnit`]: it never fails for a valid name —
//! not-found, masked, bad-setting and error are load states with systemd's `LoadError`. Every
//! search directory is indexed once ([`index`]), so loading costs hash lookups plus reading the
//! unit's own files, whatever the number of units. The index is rebuilt by [`Loader::rescan`]
//! (daemon-reload) and, like systemd's unit cache, when a name is not found and a search
//! directory changed since the index was built.

pub mod check;
pub mod context;
mod index;
pub mod jobs;
pub mod unenforced;

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::settings::Settings;
use crate::spec::{
    DepKind, Diagnostic, LoadState, LoadedUnit, Severity, UnitName, UnitNameError, UnitSpec,
    UnitType,
};
use crate::unit_file::{self, SpecifierContext};

use index::Index;

/// Loads units from a search path.
#[derive(Debug)]
pub struct Loader {
    search_path: Vec<PathBuf>,
    ctx: SpecifierContext,
    index: Mutex<Arc<Index>>,
    /// Upstart job directories, highest priority first (empty: no jobs).
    job_paths: Vec<PathBuf>,
    jobs: jobs::JobIndex,
}

/// A file that is empty or a character/block device (`/dev/null`): systemd's `null_or_empty`.
pub(crate) fn null_or_empty(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    (t.is_file() && meta.len() == 0) || t.is_char_device() || t.is_block_device()
}

/// The errno text systemd would show for an I/O error (`Permission denied`, …).
pub(crate) fn errno_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_owned(),
        None => e.to_string(),
    }
}

fn load_error(state: LoadState, name: &str, reason: Option<&str>) -> Option<(String, String)> {
    let (err, msg) = match state {
        LoadState::NotFound => (
            "org.freedesktop.systemd1.NoSuchUnit",
            format!("Unit {name} not found."),
        ),
        LoadState::Masked => (
            "org.freedesktop.systemd1.UnitMasked",
            format!("Unit {name} is masked."),
        ),
        LoadState::BadSetting => (
            "org.freedesktop.systemd1.BadUnitSetting",
            format!("Unit {name} has a bad unit file setting."),
        ),
        LoadState::Error => (
            "org.freedesktop.systemd1.LoadFailed",
            format!(
                "Unit {name} failed to load properly, please adjust/correct and reload service manager: {}",
                reason.unwrap_or("Input/output error")
            ),
        ),
        LoadState::Loaded | LoadState::Stub => return None,
    };
    Some((err.to_owned(), msg))
}

impl Loader {
    /// A loader for the search path and identity in `settings` (host facts for specifiers are
    /// read now, once).
    pub fn new(settings: &Settings) -> Loader {
        Loader::with_context(
            settings.unit_paths.clone(),
            context::specifier_context(settings),
        )
        .with_job_paths(settings.job_paths.clone())
    }

    /// Also load Upstart jobs from `paths` (highest priority first) as `<job>.service`.
    pub fn with_job_paths(mut self, paths: Vec<PathBuf>) -> Loader {
        self.jobs = jobs::JobIndex::build(&paths);
        self.job_paths = paths;
        self
    }

    /// The Upstart job directories, highest priority first.
    pub fn job_paths(&self) -> &[PathBuf] {
        &self.job_paths
    }

    /// A loader for `search_path` (highest priority first) with explicit specifier values.
    pub fn with_context(search_path: Vec<PathBuf>, ctx: SpecifierContext) -> Loader {
        let index = Index::build(&search_path);
        Loader {
            search_path,
            ctx,
            index: Mutex::new(Arc::new(index)),
            job_paths: Vec::new(),
            jobs: jobs::JobIndex::default(),
        }
    }

    /// The search path, highest priority first.
    pub fn search_path(&self) -> &[PathBuf] {
        &self.search_path
    }

    /// The specifier values used for every unit (the install verbs need them too).
    pub fn specifier_context(&self) -> &SpecifierContext {
        &self.ctx
    }

    /// Forget the directory index and read the search path again (daemon-reload).
    pub fn rescan(&mut self) {
        let fresh = Arc::new(Index::build(&self.search_path));
        *self.index.get_mut().unwrap_or_else(|p| p.into_inner()) = fresh;
        self.jobs = jobs::JobIndex::build(&self.job_paths);
    }

    fn index(&self) -> Arc<Index> {
        self.index.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Rebuild the index if a search directory changed; true if it did.
    fn refresh_if_stale(&self) -> bool {
        let mut guard = self.index.lock().unwrap_or_else(|p| p.into_inner());
        if !guard.is_stale() {
            return false;
        }
        *guard = Arc::new(Index::build(&self.search_path));
        true
    }

    /// Every unit file name in the search path that can be loaded by name: plain units,
    /// instances with their own file, linked and masked units. Aliases and templates are left
    /// out (loading the real name covers an alias; a template is not a unit). Sorted.
    /// Units lowered from Upstart jobs are included.
    pub fn unit_names(&self) -> Vec<String> {
        let mut names = self.index().primary_names();
        names.extend(self.jobs.unit_names().cloned());
        names.sort();
        names.dedup();
        names
    }

    /// Load `name`. Fails only for an invalid name (templates included: `foo@.service` cannot
    /// be loaded, only its instances — [`UnitNameError::Malformed`]).
    pub fn load(&self, name: &str) -> Result<LoadedUnit, UnitNameError> {
        let requested = UnitName::new(name)?;
        if requested.is_template() {
            return Err(UnitNameError::Malformed);
        }
        let mut idx = self.index();
        let mut found = find_fragment(&idx, &requested);
        if found.is_none() && self.refresh_if_stale() {
            idx = self.index();
            found = find_fragment(&idx, &requested);
        }
        Ok(match found {
            Some(f) => self.load_fragment(&idx, f),
            None => match self.jobs.get(requested.as_str()) {
                Some(job) => jobs::load_job(&requested, job),
                // An instance of an Upstart instance job, unless a native unit file owns
                // the job's name (then the job is not loaded at all).
                None => match jobs::load_job_instance(&self.jobs, &requested)
                    .filter(|_| !class_has_fragment(&idx, &requested))
                {
                    Some(unit) => unit,
                    None => self.load_without_fragment(&idx, requested),
                },
            },
        })
    }

    /// The dependencies the `.wants/`, `.requires/` and `.upholds/` directories of the search
    /// path add to `name` — for units without a file of their own (the manager's built-in
    /// targets), so `systemctl enable` works on them too. Empty for an invalid name.
    pub fn directory_deps(&self, name: &str) -> Vec<(DepKind, String)> {
        let Ok(unit) = UnitName::new(name) else {
            return Vec::new();
        };
        self.refresh_if_stale();
        let idx = self.index();
        let mut spec = UnitSpec::default_for(&unit);
        let before = spec.deps.len();
        let mut diagnostics = Vec::new();
        for (suffix, kind) in [
            (".wants", DepKind::Wants),
            (".requires", DepKind::Requires),
            (".upholds", DepKind::Upholds),
        ] {
            add_directory_deps(
                &idx,
                &[name],
                suffix,
                kind,
                &unit,
                &mut spec,
                &mut diagnostics,
            );
        }
        spec.deps.split_off(before)
    }

    fn load_without_fragment(&self, idx: &Index, name: UnitName) -> LoadedUnit {
        // Slices and devices exist without a file (drop-ins still apply); everything else is
        // not found.
        if matches!(name.unit_type(), UnitType::Slice | UnitType::Device) {
            return self.finish_load(idx, name, Vec::new(), None, Vec::new());
        }
        LoadedUnit {
            name: name.as_str().to_owned(),
            aliases: Vec::new(),
            load_state: LoadState::NotFound,
            load_error: load_error(LoadState::NotFound, name.as_str(), None),
            fragment_path: None,
            dropin_paths: Vec::new(),
            diagnostics: index_warnings(idx, &[name.as_str()]),
            spec: UnitSpec::default_for(&name),
        }
    }

    fn load_fragment(&self, idx: &Index, f: Fragment) -> LoadedUnit {
        let unreadable = |e: &io::Error, diagnostics: Vec<Diagnostic>| LoadedUnit {
            name: f.primary.as_str().to_owned(),
            aliases: f.aliases.clone(),
            load_state: LoadState::NotFound,
            load_error: load_error(LoadState::NotFound, f.primary.as_str(), None),
            fragment_path: Some(f.path.clone()),
            dropin_paths: Vec::new(),
            diagnostics: {
                let mut d = diagnostics;
                d.push(Diagnostic {
                    file: f.path.clone(),
                    line: 0,
                    severity: Severity::Error,
                    message: format!("Failed to open {}: {}", f.path.display(), errno_text(e)),
                });
                d
            },
            spec: UnitSpec::default_for(&f.primary),
        };
        let meta = match std::fs::metadata(&f.path) {
            Ok(m) => m,
            Err(e) => return unreadable(&e, Vec::new()),
        };
        if null_or_empty(&meta) {
            return LoadedUnit {
                name: f.primary.as_str().to_owned(),
                aliases: f.aliases.clone(),
                load_state: LoadState::Masked,
                load_error: load_error(LoadState::Masked, f.primary.as_str(), None),
                fragment_path: Some(f.path.clone()),
                dropin_paths: Vec::new(),
                diagnostics: Vec::new(),
                spec: UnitSpec::default_for(&f.primary),
            };
        }
        let text = match std::fs::read(&f.path) {
            Ok(t) => t,
            Err(e) => return unreadable(&e, Vec::new()),
        };
        self.finish_load(idx, f.primary, f.aliases, Some((f.path, text)), Vec::new())
    }

    /// Read drop-ins, parse, add `.wants/`-style dependencies, build the result.
    fn finish_load(
        &self,
        idx: &Index,
        primary: UnitName,
        aliases: Vec<String>,
        fragment: Option<(PathBuf, Vec<u8>)>,
        mut diagnostics: Vec<Diagnostic>,
    ) -> LoadedUnit {
        let mut names: Vec<&str> = vec![primary.as_str()];
        names.extend(aliases.iter().map(String::as_str));
        let mut dropins: Vec<(PathBuf, Vec<u8>)> = Vec::new();
        let mut read_error: Option<String> = None;
        let dirs = idx.find_dirs(&names, ".d");
        for path in idx.merged_entries(&dirs, Some(".conf")) {
            let res = std::fs::metadata(&path).and_then(|m| {
                if null_or_empty(&m) {
                    Ok(None)
                } else {
                    std::fs::read(&path).map(Some)
                }
            });
            match res {
                Ok(Some(text)) => dropins.push((path, text)),
                Ok(None) => {}
                Err(e) => {
                    let reason = errno_text(&e);
                    diagnostics.push(Diagnostic {
                        file: path.clone(),
                        line: 0,
                        severity: Severity::Error,
                        message: format!("Failed to open drop-in {}: {reason}", path.display()),
                    });
                    read_error.get_or_insert(reason);
                }
            }
        }
        let fragment_path = fragment.as_ref().map(|(p, _)| p.clone());
        let parsed = unit_file::parse_unit(
            &primary,
            fragment.as_ref().map(|(p, t)| (p.as_path(), t.as_slice())),
            &dropins,
            &self.ctx,
        );
        diagnostics.extend(parsed.diagnostics);
        let (state, reason) = match (read_error, parsed.load_state) {
            (Some(r), _) => (LoadState::Error, Some(r)),
            (None, s) => (s, parsed.error),
        };
        let mut spec = parsed.spec;
        if state == LoadState::Loaded {
            for (suffix, kind) in [
                (".wants", DepKind::Wants),
                (".requires", DepKind::Requires),
                (".upholds", DepKind::Upholds),
            ] {
                add_directory_deps(
                    idx,
                    &names,
                    suffix,
                    kind,
                    &primary,
                    &mut spec,
                    &mut diagnostics,
                );
            }
        } else {
            spec = UnitSpec::default_for(&primary);
        }
        diagnostics.extend(index_warnings(idx, &names));
        LoadedUnit {
            name: primary.as_str().to_owned(),
            aliases,
            load_state: state,
            load_error: load_error(state, primary.as_str(), reason.as_deref()),
            fragment_path,
            dropin_paths: dropins.into_iter().map(|(p, _)| p).collect(),
            diagnostics,
            spec,
        }
    }
}

/// Index warnings about directory entries named like one of `names` (e.g. an invalid alias).
fn index_warnings(idx: &Index, names: &[&str]) -> Vec<Diagnostic> {
    idx.warnings
        .iter()
        .filter(|w| {
            let f = w.path.file_name().and_then(|f| f.to_str());
            names.iter().any(|n| f == Some(n))
        })
        .map(|w| Diagnostic {
            file: w.path.clone(),
            line: 0,
            severity: Severity::Warning,
            message: w.message.clone(),
        })
        .collect()
}

/// Where a unit's file is and what it is called.
struct Fragment {
    path: PathBuf,
    primary: UnitName,
    aliases: Vec<String>,
}

/// `unit_file_find_fragment`: the file for `name` (or its template), the primary name (the
/// file's own name, instantiated) and every other name of the unit.
/// Whether the plain unit `<prefix>.service` of instance name `name` has a unit file.
fn class_has_fragment(idx: &Index, name: &UnitName) -> bool {
    UnitName::new(&format!("{}.service", name.prefix()))
        .ok()
        .is_some_and(|class| find_fragment(idx, &class).is_some())
}

fn find_fragment(idx: &Index, name: &UnitName) -> Option<Fragment> {
    let path = idx
        .resolve(name.as_str())
        .or_else(|| name.template().and_then(|t| idx.resolve(t.as_str())))?;
    let base = UnitName::new(path.file_name()?.to_str()?).ok()?;
    let instance = name.instance().filter(|i| !i.is_empty());
    let instantiate = |n: &UnitName| -> Option<UnitName> {
        match instance {
            Some(i) if n.is_template() => n.with_instance(i).ok(),
            Some(i) if n.is_instance() => (n.instance() == Some(i)).then(|| n.clone()),
            Some(_) => None,
            None if n.is_template() || n.is_instance() => None,
            None => Some(n.clone()),
        }
    };
    let primary = instantiate(&base).unwrap_or_else(|| name.clone());
    let mut names: Vec<String> = idx
        .names_of(&path)
        .iter()
        .filter_map(|n| UnitName::new(n).ok())
        .filter_map(|n| instantiate(&n))
        .map(|n| n.as_str().to_owned())
        .collect();
    names.push(name.as_str().to_owned());
    names.sort();
    names.dedup();
    names.retain(|n| n != primary.as_str());
    Some(Fragment {
        path,
        primary,
        aliases: names,
    })
}

/// Add `kind` dependencies for every link in the unit's `<name><suffix>/` directories.
fn add_directory_deps(
    idx: &Index,
    names: &[&str],
    suffix: &str,
    kind: DepKind,
    unit: &UnitName,
    spec: &mut UnitSpec,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let dirs = idx.find_dirs(names, suffix);
    for path in idx.merged_entries(&dirs, None) {
        let mut warn = |message: String| {
            diagnostics.push(Diagnostic {
                file: path.clone(),
                line: 0,
                severity: Severity::Warning,
                message,
            })
        };
        let entry = path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default()
            .to_owned();
        if std::fs::metadata(&path).is_ok_and(|m| null_or_empty(&m)) {
            continue; // masked link
        }
        if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            warn(format!(
                "{} dependency dropin {} is not a symlink, ignoring.",
                kind.key(),
                path.display()
            ));
            continue;
        }
        let Some(target) = unit_file_dependency(unit, &entry) else {
            warn(format!(
                "{} dependency dropin {} is not a valid unit name, ignoring.",
                kind.key(),
                path.display()
            ));
            continue;
        };
        if target == unit.as_str() || names.contains(&target.as_str()) {
            continue;
        }
        if !spec.deps.iter().any(|(k, n)| *k == kind && *n == target) {
            spec.deps.push((kind, target));
        }
    }
}

fn unit_file_dependency(unit: &UnitName, entry: &str) -> Option<String> {
    let n = UnitName::new(entry).ok()?;
    if n.is_template() {
        let inst = match unit.instance() {
            Some(i) if !i.is_empty() => i,
            _ => unit.prefix(),
        };
        return n.with_instance(inst).ok().map(|n| n.as_str().to_owned());
    }
    Some(n.as_str().to_owned())
}
