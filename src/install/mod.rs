//! The install verbs: what `systemctl enable/disable/mask/unmask/link/preset/is-enabled/
//! list-unit-files` do to the file system, with systemd 252's rules — enablement symlinks in
//! `<target>.wants/` and `<target>.requires/` of the scope's config directory, aliases,
//! `/dev/null` masks, links to files outside the search path, and the `UnitFileState` of a file.
//!
//! Owns only file-system logic (no D-Bus, no engine): the façade turns D-Bus calls into
//! [`Installer`] calls and [`InstallChange`] lists / [`InstallError`]s into replies.

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};

use crate::settings::Settings;
use crate::spec::{InstallSpec, LoadState, UnitName};
use crate::unit_file::{self, SpecifierContext};

/// The name `GetDefaultTarget`/`SetDefaultTarget` work on.
pub const DEFAULT_TARGET: &str = "default.target";

/// One entry of the change list the install methods return: `(type, path, source)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallChange {
    /// `symlink`, `unlink`, …
    pub kind: &'static str,
    /// The path created or removed.
    pub path: String,
    /// What a created symlink points to (empty for removals).
    pub source: String,
}

/// Why an install operation failed (the façade maps these to systemd's bus errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallError {
    /// The name is not a valid unit name or file path.
    InvalidName(String),
    /// No unit file of that name in the search path (`Unit file X does not exist.`).
    NotFound(String),
    /// The unit file is masked (`Unit file X is masked.`).
    Masked(String),
    /// A different file already exists where a symlink must go.
    Exists {
        /// The path in the way.
        path: String,
        /// Where the existing symlink points, if it is one.
        target: Option<String>,
    },
    /// An I/O error on `path`.
    Io {
        /// The path.
        path: String,
        /// The error text (`Permission denied`, …).
        message: String,
    },
}

impl InstallError {
    /// The message systemd puts into the bus error.
    pub fn message(&self) -> String {
        match self {
            InstallError::InvalidName(n) => format!("Invalid unit name or path: {n}"),
            InstallError::NotFound(n) => format!("Unit file {n} does not exist."),
            InstallError::Masked(n) => format!("Unit file {n} is masked."),
            InstallError::Exists {
                path,
                target: Some(t),
            } => format!("File {path} already exists and is a symlink to {t}."),
            InstallError::Exists { path, target: None } => {
                format!("File {path} already exists.")
            }
            InstallError::Io { path, message } => format!("{path}: {message}"),
        }
    }
}

fn io_err(path: &Path, e: &io::Error) -> InstallError {
    InstallError::Io {
        path: path.display().to_string(),
        message: crate::loader::errno_text(e),
    }
}

/// A unit file found in the search path.
#[derive(Debug, Clone)]
pub struct FoundFile {
    /// The unit name asked for (an instance keeps its instance name).
    pub name: String,
    /// Where the name was found (may be a symlink).
    pub path: PathBuf,
    /// The directory of the search path it was found in.
    pub dir: PathBuf,
    /// What kind of entry it is.
    pub kind: FileKind,
    /// The `[Install]` section (raw, specifiers unexpanded), when the file could be parsed.
    pub install: Option<InstallSpec>,
}

/// The kind of a found unit file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file (or a symlink to one with the same name inside the search path).
    Regular,
    /// A symlink to `/dev/null` or an empty file.
    Masked,
    /// A symlink to a file of another name in the search path (the name is an alias).
    Alias(PathBuf),
    /// A symlink to a file outside the search path (`systemctl link`).
    Linked(PathBuf),
}

/// The install logic for one scope.
pub struct Installer<'a> {
    /// Directories searched for unit files, highest priority first (the install directories
    /// included).
    search: Vec<PathBuf>,
    /// Persistent install directory.
    config: PathBuf,
    /// Runtime install directory.
    runtime: PathBuf,
    /// Other runtime roots (files below them are `*-runtime`).
    runtime_root: PathBuf,
    ctx: &'a SpecifierContext,
}

impl<'a> Installer<'a> {
    /// The installer for `settings`' scope; `ctx` expands `[Install]` specifiers.
    pub fn new(settings: &Settings, ctx: &'a SpecifierContext) -> Installer<'a> {
        let mut search = Vec::new();
        for d in [&settings.install_dir, &settings.install_runtime_dir]
            .into_iter()
            .chain(settings.unit_paths.iter())
        {
            if !search.contains(d) {
                search.push(d.clone());
            }
        }
        // The install directories rank where systemd ranks them when they are in the search
        // path; when an explicit path left them out, they come first.
        if let Some(pos) = settings
            .unit_paths
            .iter()
            .position(|d| *d == settings.install_dir)
        {
            search = settings.unit_paths.clone();
            for d in [&settings.install_runtime_dir] {
                if !search.contains(d) {
                    search.insert(pos + 1, d.clone());
                }
            }
        }
        Installer {
            search,
            config: settings.install_dir.clone(),
            runtime: settings.install_runtime_dir.clone(),
            runtime_root: settings.runtime_dir.clone(),
            ctx,
        }
    }

    /// An installer over explicit directories (tests and tools).
    pub fn with_dirs(
        search: Vec<PathBuf>,
        config: PathBuf,
        runtime: PathBuf,
        ctx: &'a SpecifierContext,
    ) -> Installer<'a> {
        let runtime_root = runtime.clone();
        Installer {
            search,
            config,
            runtime,
            runtime_root,
            ctx,
        }
    }

    fn install_dir(&self, runtime: bool) -> &Path {
        if runtime { &self.runtime } else { &self.config }
    }

    fn is_runtime(&self, p: &Path) -> bool {
        p.starts_with(&self.runtime) || p.starts_with(&self.runtime_root) || p.starts_with("/run")
    }

    fn in_search_path(&self, p: &Path) -> bool {
        p.parent()
            .is_some_and(|d| self.search.iter().any(|s| s == d))
    }

    /// Find `name` (a unit name; an instance falls back to its template) in the search path.
    pub fn find(&self, name: &str) -> Result<Option<FoundFile>, InstallError> {
        let un = UnitName::new(name).map_err(|_| InstallError::InvalidName(name.into()))?;
        let mut candidates = vec![name.to_owned()];
        if un.is_instance()
            && let Some(t) = un.template()
        {
            candidates.push(t.as_str().to_owned());
        }
        for cand in &candidates {
            for dir in &self.search {
                let path = dir.join(cand);
                let Ok(meta) = std::fs::symlink_metadata(&path) else {
                    continue;
                };
                let kind = self.classify(&path, &meta, cand);
                let install = match &kind {
                    FileKind::Masked => None,
                    _ => Some(self.read_install(&path, name)),
                };
                return Ok(Some(FoundFile {
                    name: name.to_owned(),
                    path,
                    dir: dir.clone(),
                    kind,
                    install: install.flatten(),
                }));
            }
        }
        Ok(None)
    }

    fn classify(&self, path: &Path, meta: &std::fs::Metadata, name: &str) -> FileKind {
        let target_meta = std::fs::metadata(path);
        if let Ok(m) = &target_meta
            && crate::loader::null_or_empty(m)
        {
            return FileKind::Masked;
        }
        if !meta.file_type().is_symlink() {
            return FileKind::Regular;
        }
        let Ok(dest) = std::fs::read_link(path) else {
            return FileKind::Regular;
        };
        let dest = if dest.is_absolute() {
            dest
        } else {
            path.parent().unwrap_or(Path::new("/")).join(dest)
        };
        if dest == Path::new("/dev/null") {
            return FileKind::Masked;
        }
        let dest_name = dest.file_name().map(|n| n.to_string_lossy().into_owned());
        if !self.in_search_path(&dest) {
            return FileKind::Linked(dest);
        }
        if dest_name.as_deref() != Some(name) {
            return FileKind::Alias(dest);
        }
        FileKind::Regular
    }

    /// The `[Install]` section of the file at `path` for unit `name`; `None` when unreadable
    /// or unparsable (`bad`).
    fn read_install(&self, path: &Path, name: &str) -> Option<InstallSpec> {
        let text = std::fs::read(path).ok()?;
        let un = UnitName::new(name).ok()?;
        let parsed = unit_file::parse_unit(&un, Some((path, &text)), &[], self.ctx);
        if parsed.load_state == LoadState::Error {
            return None;
        }
        Some(parsed.spec.install)
    }

    fn require(&self, name: &str) -> Result<FoundFile, InstallError> {
        self.find(name)?
            .ok_or_else(|| InstallError::NotFound(name.to_owned()))
    }

    /// `GetUnitFileState`: `enabled`, `enabled-runtime`, `linked`, `linked-runtime`, `alias`,
    /// `masked`, `masked-runtime`, `static`, `disabled`, `indirect`, `generated`, `transient`,
    /// `bad`. `Ok(None)` when there is no such file.
    pub fn state(&self, name: &str) -> Result<Option<&'static str>, InstallError> {
        let Some(f) = self.find(name)? else {
            return Ok(None);
        };
        Ok(Some(self.state_of(&f)))
    }

    fn state_of(&self, f: &FoundFile) -> &'static str {
        let dir = f.dir.to_string_lossy();
        match &f.kind {
            FileKind::Masked => {
                return if self.is_runtime(&f.path) {
                    "masked-runtime"
                } else {
                    "masked"
                };
            }
            FileKind::Alias(_) => return "alias",
            _ => {}
        }
        if dir.contains("/systemd/generator") || dir.contains("/systemd/user-generator") {
            return "generated";
        }
        if dir.ends_with("/systemd/transient") {
            return "transient";
        }
        let Some(install) = &f.install else {
            return "bad";
        };
        match self.enablement_dir(f, install) {
            Some(d) if self.is_runtime(&d) => return "enabled-runtime",
            Some(_) => return "enabled",
            None => {}
        }
        if let FileKind::Linked(_) = f.kind {
            return if self.is_runtime(&f.path) {
                "linked-runtime"
            } else {
                "linked"
            };
        }
        let un = UnitName::new(&f.name).ok();
        if !install.wanted_by.is_empty()
            || !install.required_by.is_empty()
            || !install.alias.is_empty()
        {
            // A template without a default instance cannot be enabled by its own name.
            if un.as_ref().is_some_and(|u| u.is_template()) && install.default_instance.is_none() {
                return "indirect";
            }
            "disabled"
        } else if !install.also.is_empty() {
            "indirect"
        } else {
            "static"
        }
    }

    /// The search-path directory holding an enablement symlink for `f` (in a `.wants/`,
    /// `.requires/`, `.upholds/` directory, or an `Alias=` symlink), if any.
    fn enablement_dir(&self, f: &FoundFile, install: &InstallSpec) -> Option<PathBuf> {
        let aliases = self.expanded(&f.name, &install.alias);
        for dir in &self.search {
            for a in &aliases {
                if std::fs::symlink_metadata(dir.join(a)).is_ok() && *a != f.name {
                    return Some(dir.clone());
                }
            }
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
                if std::fs::symlink_metadata(e.path().join(&f.name)).is_ok() {
                    return Some(dir.clone());
                }
            }
        }
        None
    }

    /// Expand specifiers in `values` for unit `name`; values that fail to expand are dropped.
    fn expanded(&self, name: &str, values: &[String]) -> Vec<String> {
        let Ok(un) = UnitName::new(name) else {
            return Vec::new();
        };
        values
            .iter()
            .filter_map(|v| unit_file::expand_install_specifiers(v, &un, self.ctx).ok())
            .collect()
    }

    /// Accept a name or an absolute path (linking it first, as `systemctl enable /path/x`
    /// does); returns the unit name.
    fn name_or_link(
        &self,
        file: &str,
        runtime: bool,
        force: bool,
        changes: &mut Vec<InstallChange>,
    ) -> Result<String, InstallError> {
        if file.starts_with('/') {
            let path = Path::new(file);
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| InstallError::InvalidName(file.into()))?;
            if !self.in_search_path(path) {
                self.link_one(path, runtime, force, changes)?;
            }
            return Ok(name);
        }
        UnitName::new(file).map_err(|_| InstallError::InvalidName(file.into()))?;
        Ok(file.to_owned())
    }

    /// `EnableUnitFiles`: create the `[Install]` symlinks (also for `Also=` units). Returns
    /// whether any unit carried install information, and the changes.
    pub fn enable(
        &self,
        files: &[String],
        runtime: bool,
        force: bool,
    ) -> Result<(bool, Vec<InstallChange>), InstallError> {
        let mut changes = Vec::new();
        let mut carries = false;
        let mut seen = HashSet::new();
        let mut queue: Vec<String> = Vec::new();
        for file in files {
            queue.push(self.name_or_link(file, runtime, force, &mut changes)?);
        }
        while let Some(name) = queue.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            let f = self.require(&name)?;
            if f.kind == FileKind::Masked {
                return Err(InstallError::Masked(name));
            }
            let Some(install) = f.install.clone() else {
                continue;
            };
            let un = UnitName::new(&name).map_err(|_| InstallError::InvalidName(name.clone()))?;
            // `systemctl enable foo@.service` enables the default instance.
            let instance_name = if un.is_template() {
                install
                    .default_instance
                    .as_ref()
                    .map(|i| name.replacen("@.", &format!("@{i}."), 1))
            } else {
                Some(name.clone())
            };
            if !install.is_empty() {
                carries = true;
            }
            let source = self.symlink_source(&f);
            let dir = self.install_dir(runtime);
            if let Some(inst) = &instance_name {
                for t in self.expanded(inst, &install.wanted_by) {
                    let link = dir.join(format!("{t}.wants")).join(inst);
                    self.make_symlink(&link, &source, force, &mut changes)?;
                }
                for t in self.expanded(inst, &install.required_by) {
                    let link = dir.join(format!("{t}.requires")).join(inst);
                    self.make_symlink(&link, &source, force, &mut changes)?;
                }
            }
            for a in self.expanded(&name, &install.alias) {
                if a == name {
                    continue;
                }
                let link = dir.join(&a);
                self.make_symlink(&link, &source, force, &mut changes)?;
            }
            for also in self.expanded(&name, &install.also) {
                queue.push(also);
            }
        }
        Ok((carries, changes))
    }

    /// What enablement symlinks point to: the unit file as found in the search path (a link
    /// made by `systemctl link` is pointed to itself, like systemd does).
    fn symlink_source(&self, f: &FoundFile) -> PathBuf {
        match &f.kind {
            FileKind::Alias(dest) => dest.clone(),
            _ => f.path.clone(),
        }
    }

    fn make_symlink(
        &self,
        link: &Path,
        source: &Path,
        force: bool,
        changes: &mut Vec<InstallChange>,
    ) -> Result<(), InstallError> {
        if let Ok(meta) = std::fs::symlink_metadata(link) {
            let existing = std::fs::read_link(link).ok();
            if existing.as_deref() == Some(source) {
                return Ok(());
            }
            if !force || !meta.file_type().is_symlink() {
                return Err(InstallError::Exists {
                    path: link.display().to_string(),
                    target: existing.map(|t| t.display().to_string()),
                });
            }
            std::fs::remove_file(link).map_err(|e| io_err(link, &e))?;
            changes.push(InstallChange {
                kind: "unlink",
                path: link.display().to_string(),
                source: String::new(),
            });
        }
        if let Some(parent) = link.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_err(parent, &e))?;
        }
        std::os::unix::fs::symlink(source, link).map_err(|e| io_err(link, &e))?;
        changes.push(InstallChange {
            kind: "symlink",
            path: link.display().to_string(),
            source: source.display().to_string(),
        });
        Ok(())
    }

    /// The symlinks `disable` would remove for `name` in one install directory: entries named
    /// `name` (or one of its `Alias=` names) in `*.wants/`, `*.requires/`, `*.upholds/`, and
    /// top-level alias symlinks pointing at the unit file. Never a mask, never a real file.
    fn links_of(&self, name: &str, dir: &Path) -> Vec<PathBuf> {
        let found = self.find(name).ok().flatten();
        let mut names: Vec<String> = vec![name.to_owned()];
        let mut targets: Vec<PathBuf> = Vec::new();
        if let Some(f) = &found {
            if let Some(i) = &f.install {
                names.extend(self.expanded(name, &i.alias));
            }
            targets.push(self.symlink_source(f));
            if let FileKind::Linked(dest) = &f.kind {
                targets.push(dest.clone());
            }
        }
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return out;
        };
        for e in entries.flatten() {
            let fname = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            let is_dep_dir = fname.ends_with(".wants")
                || fname.ends_with(".requires")
                || fname.ends_with(".upholds");
            if is_dep_dir {
                for n in &names {
                    let p = path.join(n);
                    if is_removable_link(&p) {
                        out.push(p);
                    }
                }
            } else if names.contains(&fname) && is_removable_link(&path) {
                // An alias or link named like the unit: only when it points at the unit file
                // (its own name's file would be a linked unit: removed too, as systemd does).
                let dest = std::fs::read_link(&path).ok();
                let points_to_unit = dest.as_ref().is_some_and(|d| {
                    targets.contains(d)
                        || (fname != name
                            && d.file_name().map(|x| x.to_string_lossy()) == Some(name.into()))
                        || (fname == name && !self.in_search_path(d))
                });
                if points_to_unit {
                    out.push(path);
                }
            }
        }
        out.sort();
        out
    }

    /// `GetUnitFileLinks`: the symlinks `disable` would remove.
    pub fn links(&self, name: &str, runtime: bool) -> Result<Vec<String>, InstallError> {
        UnitName::new(name).map_err(|_| InstallError::InvalidName(name.into()))?;
        Ok(self
            .links_of(name, self.install_dir(runtime))
            .into_iter()
            .map(|p| p.display().to_string())
            .collect())
    }

    /// `DisableUnitFiles`: remove the unit's symlinks from the install directory (and those of
    /// its `Also=` units). Like systemd, a name with no unit file is an error
    /// ([`InstallError::NotFound`]) only when nothing else was removed.
    pub fn disable(
        &self,
        files: &[String],
        runtime: bool,
    ) -> Result<Vec<InstallChange>, InstallError> {
        let (changes, missing) = self.remove_links(files, runtime)?;
        match missing {
            Some(name) if changes.is_empty() => Err(InstallError::NotFound(name)),
            _ => Ok(changes),
        }
    }

    /// The work of [`Self::disable`]: the removals, and the first name given (not reached
    /// through `Also=`) that has no unit file.
    fn remove_links(
        &self,
        files: &[String],
        runtime: bool,
    ) -> Result<(Vec<InstallChange>, Option<String>), InstallError> {
        let mut missing = None;
        let mut changes = Vec::new();
        let mut seen = HashSet::new();
        let mut queue: Vec<String> = Vec::new();
        for file in files {
            let name = if file.starts_with('/') {
                Path::new(file)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .ok_or_else(|| InstallError::InvalidName(file.clone()))?
            } else {
                file.clone()
            };
            UnitName::new(&name).map_err(|_| InstallError::InvalidName(name.clone()))?;
            queue.push(name);
        }
        let given: HashSet<String> = queue.iter().cloned().collect();
        while let Some(name) = queue.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            match self.find(&name)? {
                Some(f) => {
                    if let Some(i) = &f.install {
                        queue.extend(self.expanded(&name, &i.also));
                    }
                }
                None if missing.is_none() && given.contains(&name) => missing = Some(name.clone()),
                None => {}
            }
            for p in self.links_of(&name, self.install_dir(runtime)) {
                std::fs::remove_file(&p).map_err(|e| io_err(&p, &e))?;
                changes.push(InstallChange {
                    kind: "unlink",
                    path: p.display().to_string(),
                    source: String::new(),
                });
                // Drop a `.wants/` directory that became empty, as systemd does.
                if let Some(parent) = p.parent()
                    && parent != self.install_dir(runtime)
                {
                    let _ = std::fs::remove_dir(parent);
                }
            }
        }
        Ok((changes, missing))
    }

    /// `ReenableUnitFiles`: disable, then enable (a missing file is for `enable` to report).
    pub fn reenable(
        &self,
        files: &[String],
        runtime: bool,
        force: bool,
    ) -> Result<(bool, Vec<InstallChange>), InstallError> {
        let (mut changes, _) = self.remove_links(files, runtime)?;
        let (carries, more) = self.enable(files, runtime, force)?;
        changes.extend(more);
        Ok((carries, changes))
    }

    /// `GetDefaultTarget`: the unit `default.target` stands for — the name at the end of its
    /// alias symlinks, or `default.target` itself when it is a regular file. `Ok(None)` when
    /// there is no `default.target` in the search path.
    pub fn default_target(&self) -> Result<Option<String>, InstallError> {
        let Some(f) = self.find(DEFAULT_TARGET)? else {
            return Ok(None);
        };
        let dest = match &f.kind {
            FileKind::Masked => return Err(InstallError::Masked(DEFAULT_TARGET.to_owned())),
            FileKind::Regular => return Ok(Some(f.name)),
            FileKind::Alias(dest) | FileKind::Linked(dest) => dest.clone(),
        };
        // Follow a chain of aliases to its end (bounded, like the kernel's symlink limit).
        let mut path = dest;
        for _ in 0..40 {
            let Ok(next) = std::fs::read_link(&path) else {
                break;
            };
            path = if next.is_absolute() {
                next
            } else {
                path.parent().unwrap_or(Path::new("/")).join(next)
            };
        }
        if path == Path::new("/dev/null") {
            return Err(InstallError::Masked(DEFAULT_TARGET.to_owned()));
        }
        Ok(path.file_name().map(|n| n.to_string_lossy().into_owned()))
    }

    /// `SetDefaultTarget`: `config_dir/default.target → <the target's file>`; `force` replaces
    /// an existing symlink. Only `.target` units that have a (non-masked) file qualify.
    pub fn set_default(&self, name: &str, force: bool) -> Result<Vec<InstallChange>, InstallError> {
        let name = base_name(name)?;
        if !name.ends_with(".target") {
            return Err(InstallError::InvalidName(name));
        }
        let f = self.require(&name)?;
        if matches!(f.kind, FileKind::Masked) {
            return Err(InstallError::Masked(name));
        }
        let mut changes = Vec::new();
        let link = self.config.join(DEFAULT_TARGET);
        self.make_symlink(&link, &self.symlink_source(&f), force, &mut changes)?;
        Ok(changes)
    }

    /// `MaskUnitFiles`: `install_dir/NAME → /dev/null`.
    pub fn mask(
        &self,
        files: &[String],
        runtime: bool,
        force: bool,
    ) -> Result<Vec<InstallChange>, InstallError> {
        let mut changes = Vec::new();
        for file in files {
            let name = base_name(file)?;
            let link = self.install_dir(runtime).join(&name);
            self.make_symlink(&link, Path::new("/dev/null"), force, &mut changes)?;
        }
        Ok(changes)
    }

    /// `UnmaskUnitFiles`: remove `install_dir/NAME` when it is a mask.
    pub fn unmask(
        &self,
        files: &[String],
        runtime: bool,
    ) -> Result<Vec<InstallChange>, InstallError> {
        let mut changes = Vec::new();
        for file in files {
            let name = base_name(file)?;
            let link = self.install_dir(runtime).join(&name);
            let is_mask = std::fs::read_link(&link).is_ok_and(|d| d == Path::new("/dev/null"))
                || std::fs::symlink_metadata(&link)
                    .is_ok_and(|m| m.file_type().is_file() && m.len() == 0);
            if is_mask {
                std::fs::remove_file(&link).map_err(|e| io_err(&link, &e))?;
                changes.push(InstallChange {
                    kind: "unlink",
                    path: link.display().to_string(),
                    source: String::new(),
                });
            }
        }
        Ok(changes)
    }

    /// `LinkUnitFiles`: `install_dir/NAME → PATH` for absolute paths outside the search path.
    pub fn link(
        &self,
        files: &[String],
        runtime: bool,
        force: bool,
    ) -> Result<Vec<InstallChange>, InstallError> {
        let mut changes = Vec::new();
        for file in files {
            let path = Path::new(file);
            if !path.is_absolute() {
                return Err(InstallError::InvalidName(file.clone()));
            }
            self.link_one(path, runtime, force, &mut changes)?;
        }
        Ok(changes)
    }

    fn link_one(
        &self,
        path: &Path,
        runtime: bool,
        force: bool,
        changes: &mut Vec<InstallChange>,
    ) -> Result<(), InstallError> {
        let name = base_name(&path.to_string_lossy())?;
        let meta = std::fs::metadata(path).map_err(|e| io_err(path, &e))?;
        if !meta.is_file() {
            return Err(InstallError::InvalidName(path.display().to_string()));
        }
        let link = self.install_dir(runtime).join(&name);
        self.make_symlink(&link, path, force, changes)
    }

    /// `PresetUnitFilesWithMode`: enable what `preset_enabled(name)` says is enabled, disable
    /// the rest; `mode` is `full`, `enable-only` or `disable-only`.
    pub fn preset(
        &self,
        files: &[String],
        mode: &str,
        runtime: bool,
        force: bool,
        preset_enabled: impl Fn(&str) -> bool,
    ) -> Result<(bool, Vec<InstallChange>), InstallError> {
        let mut changes = Vec::new();
        let mut carries = false;
        for file in files {
            let name = base_name(file)?;
            self.require(&name)?;
            let one = std::slice::from_ref(file);
            if preset_enabled(&name) {
                if mode != "disable-only" {
                    let (c, ch) = self.enable(one, runtime, force)?;
                    carries |= c;
                    changes.extend(ch);
                }
            } else if mode != "enable-only" {
                changes.extend(self.remove_links(one, runtime)?.0);
            }
        }
        Ok((carries, changes))
    }

    /// `ListUnitFiles`: every unit file name in the search path (first directory wins) with its
    /// state, as `(path, state)`, filtered by `states` and glob `patterns` (empty = all).
    pub fn list(&self, states: &[String], patterns: &[String]) -> Vec<(String, String)> {
        let mut seen: HashSet<String> = HashSet::new();
        let mut out = Vec::new();
        for dir in &self.search {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for name in names {
                if UnitName::new(&name).is_err() || !seen.insert(name.clone()) {
                    continue;
                }
                let path = dir.join(&name);
                if std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
                    continue;
                }
                if !patterns.is_empty() && !patterns.iter().any(|p| glob_match(p, &name)) {
                    continue;
                }
                let state = match self.find(&name) {
                    Ok(Some(f)) => self.state_of(&f),
                    _ => "bad",
                };
                if !states.is_empty() && !states.iter().any(|s| s == state) {
                    continue;
                }
                out.push((path.display().to_string(), state.to_owned()));
            }
        }
        out
    }
}

/// A symlink (never a regular file) that is not a mask.
fn is_removable_link(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink())
        && std::fs::read_link(p).is_ok_and(|d| d != Path::new("/dev/null"))
}

/// The unit name of a name or path argument.
fn base_name(file: &str) -> Result<String, InstallError> {
    let name = if file.starts_with('/') {
        Path::new(file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        file.to_owned()
    };
    UnitName::new(&name).map_err(|_| InstallError::InvalidName(file.into()))?;
    Ok(name)
}

/// Shell-style glob match (`*`, `?`, `[…]`) of a whole unit name.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    crate::bus::systemd::glob::fnmatch(pattern, name)
}
