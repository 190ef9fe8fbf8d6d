//! The directory index: every search directory read once into hash maps, so that resolving a
//! unit name, its drop-ins and its `.wants/` entries costs hash lookups, not `stat` calls.
//!
//! Owns systemd's name map (`unit_file_build_name_map`): the first entry for a name in
//! search-path order wins; a symlink whose target stays inside the search path is an alias (by
//! target *name*), a symlink leading outside is a linked unit (followed, the link's own name
//! counts), a self-alias is skipped. It also owns the drop-in directory lookup
//! (`unit_file_find_dirs`: name, template, dash-truncated prefixes, then the type directory)
//! and `conf_files_list`'s merge by basename.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use crate::spec::{UnitName, UnitType};

/// What a name in the search path points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A file to read: a regular file, a linked unit (symlink out of the search path) or a mask
    /// (symlink to `/dev/null`). The path is the directory entry itself.
    Path(PathBuf),
    /// An alias symlink: the unit with this name.
    Alias(String),
}

/// One search directory.
#[derive(Debug, Default)]
struct DirIndex {
    path: PathBuf,
    /// `foo.service.d`, `foo.service.wants`, … → the names of the files/symlinks inside,
    /// sorted, hidden and backup files excluded.
    subdirs: HashMap<String, Vec<String>>,
}

/// A problem found while indexing (reported with the unit that trips over it).
#[derive(Debug, Clone)]
pub(crate) struct IndexWarning {
    pub path: PathBuf,
    pub message: String,
}

/// All search directories, indexed.
#[derive(Debug, Default)]
pub(crate) struct Index {
    search_path: Vec<PathBuf>,
    stamps: Vec<Option<SystemTime>>,
    dirs: Vec<DirIndex>,
    ids: HashMap<String, Target>,
    names_by_path: HashMap<PathBuf, Vec<String>>,
    pub warnings: Vec<IndexWarning>,
}

const SUBDIR_SUFFIXES: [&str; 4] = [".d", ".wants", ".requires", ".upholds"];

/// systemd's `hidden_or_backup_file`.
fn hidden_or_backup(name: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        "~",
        ".rpmnew",
        ".rpmsave",
        ".rpmorig",
        ".dpkg-old",
        ".dpkg-new",
        ".dpkg-tmp",
        ".dpkg-dist",
        ".dpkg-bak",
        ".dpkg-backup",
        ".dpkg-remove",
        ".ucf-new",
        ".ucf-old",
        ".ucf-dist",
        ".swp",
        ".bak",
        ".old",
        ".new",
    ];
    name.starts_with('.') || SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Lexical normalization (`.`/`..`/`//`), as `chase_symlinks(CHASE_NOFOLLOW|CHASE_NONEXISTENT)`
/// does for an alias target.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// systemd's alias rules (`unit_validate_alias_symlink_or_warn`): same type, a type that may
/// have aliases, template ↔ template, instance → same instance or the template.
fn alias_is_valid(alias: &UnitName, target: &UnitName) -> Result<(), &'static str> {
    if alias.unit_type() != target.unit_type() {
        return Err("alias and target have different unit types");
    }
    if !matches!(
        alias.unit_type(),
        UnitType::Service
            | UnitType::Socket
            | UnitType::Target
            | UnitType::Device
            | UnitType::Timer
            | UnitType::Path
    ) {
        return Err("units of this type cannot have aliases");
    }
    let kind = |n: &UnitName| {
        if n.is_template() {
            1
        } else if n.is_instance() {
            2
        } else {
            0
        }
    };
    match (kind(alias), kind(target)) {
        (0, 0) | (1, 1) => Ok(()),
        (2, 1) => Ok(()),
        (2, 2) if alias.instance() == target.instance() => Ok(()),
        (2, 2) => Err("alias and target have different instances"),
        _ => Err("alias and target are of different name kinds (plain/template/instance)"),
    }
}

impl Index {
    /// Read every directory of `search_path` (missing ones are empty).
    pub fn build(search_path: &[PathBuf]) -> Index {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let search_path: Vec<PathBuf> = search_path
            .iter()
            .map(|p| normalize(&cwd.join(p)))
            .collect();
        let mut idx = Index {
            stamps: search_path.iter().map(|p| mtime(p)).collect(),
            search_path,
            ..Index::default()
        };
        let mut seen_dirs: HashSet<(u64, u64)> = HashSet::new();
        for i in 0..idx.search_path.len() {
            let dir = idx.search_path[i].clone();
            let mut di = DirIndex {
                path: dir.clone(),
                subdirs: HashMap::new(),
            };
            let same_as_earlier = match std::fs::metadata(&dir) {
                Ok(m) => {
                    use std::os::unix::fs::MetadataExt;
                    !seen_dirs.insert((m.dev(), m.ino()))
                }
                Err(_) => true,
            };
            if !same_as_earlier {
                idx.scan_dir(&mut di);
            }
            idx.dirs.push(di);
        }
        idx.build_reverse_map();
        idx
    }

    fn scan_dir(&mut self, di: &mut DirIndex) {
        let Ok(rd) = std::fs::read_dir(&di.path) else {
            return;
        };
        let mut entries: Vec<(String, std::fs::FileType)> = rd
            .filter_map(Result::ok)
            .filter_map(|e| Some((e.file_name().into_string().ok()?, e.file_type().ok()?)))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, ft) in entries {
            let full = di.path.join(&name);
            if SUBDIR_SUFFIXES.iter().any(|s| name.ends_with(s)) {
                let is_dir = ft.is_dir() || (ft.is_symlink() && full.is_dir());
                if is_dir {
                    di.subdirs.insert(name, list_subdir(&full));
                    continue;
                }
            }
            let Ok(unit) = UnitName::new(&name) else {
                continue;
            };
            if self.ids.contains_key(&name) {
                continue;
            }
            if ft.is_file() {
                self.ids.insert(name, Target::Path(full));
            } else if ft.is_symlink() {
                let Ok(target) = std::fs::read_link(&full) else {
                    continue;
                };
                let abs = if target.is_absolute() {
                    target
                } else {
                    di.path.join(target)
                };
                let simplified = normalize(&abs);
                let inside = self
                    .search_path
                    .iter()
                    .any(|sp| simplified.starts_with(sp) && simplified != *sp);
                if !inside {
                    // Linked unit file or mask: the link's own name counts.
                    self.ids.insert(name, Target::Path(full));
                    continue;
                }
                let dst = simplified
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_owned();
                if dst == name {
                    // Self-alias (e.g. /etc/… → /usr/lib/…/same.service): no effect.
                    continue;
                }
                let verdict = match UnitName::new(&dst) {
                    Ok(t) => alias_is_valid(&unit, &t),
                    Err(_) => Err("target is not a valid unit name"),
                };
                match verdict {
                    Ok(()) => {
                        self.ids.insert(name, Target::Alias(dst));
                    }
                    Err(why) => self.warnings.push(IndexWarning {
                        path: full,
                        message: format!(
                            "Invalid unit alias {name} \u{2192} {}: {why}, ignoring.",
                            simplified.display()
                        ),
                    }),
                }
            }
        }
    }

    fn build_reverse_map(&mut self) {
        let mut map: HashMap<PathBuf, Vec<String>> = HashMap::new();
        for name in self.ids.keys() {
            if let Some(p) = self.resolve(name) {
                map.entry(p).or_default().push(name.clone());
            }
        }
        for v in map.values_mut() {
            v.sort();
        }
        self.names_by_path = map;
    }

    /// Follow aliases from `name` to a file path (at most 32 hops, like systemd).
    pub fn resolve(&self, name: &str) -> Option<PathBuf> {
        let mut cur = name;
        for _ in 0..32 {
            match self.ids.get(cur)? {
                Target::Path(p) => return Some(p.clone()),
                Target::Alias(next) => cur = next,
            }
        }
        None
    }

    /// Every name that resolves to `path`.
    pub fn names_of(&self, path: &Path) -> &[String] {
        self.names_by_path
            .get(path)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Names that are unit files of their own (not aliases), templates excluded.
    pub fn primary_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .ids
            .iter()
            .filter(|(n, t)| matches!(t, Target::Path(_)) && !n.contains("@."))
            .map(|(n, _)| n.clone())
            .collect();
        v.sort();
        v
    }

    /// True if a search directory appeared, vanished or changed since the index was built.
    pub fn is_stale(&self) -> bool {
        self.search_path
            .iter()
            .zip(&self.stamps)
            .any(|(p, s)| mtime(p) != *s)
    }

    /// The subdirectories (`<name><suffix>` in each search dir) that can hold drop-ins or
    /// dependency links for a unit with `names` (primary first), most specific and highest
    /// priority first: per name and search dir the name, its template and its dash-truncated
    /// prefixes; then the type-wide directory (`service.d`).
    pub fn find_dirs(&self, names: &[&str], suffix: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for name in names {
            for di in &self.dirs {
                find_dirs_in(di, name, suffix, &mut out);
            }
        }
        if let Some(t) = names.first().and_then(|n| UnitName::new(n).ok()) {
            for di in &self.dirs {
                find_dirs_in(di, t.unit_type().suffix(), suffix, &mut out);
            }
        }
        out
    }

    /// `conf_files_list`: entries of `dirs` merged by basename (first directory wins), sorted by
    /// basename. With `file_suffix`, only names ending in it.
    pub fn merged_entries(&self, dirs: &[PathBuf], file_suffix: Option<&str>) -> Vec<PathBuf> {
        let mut chosen: HashMap<&str, PathBuf> = HashMap::new();
        for d in dirs {
            let (Some(parent), Some(sub)) = (d.parent(), d.file_name().and_then(|s| s.to_str()))
            else {
                continue;
            };
            let Some(di) = self.dirs.iter().find(|di| di.path == parent) else {
                continue;
            };
            let Some(entries) = di.subdirs.get(sub) else {
                continue;
            };
            for e in entries {
                if file_suffix.is_some_and(|s| !e.ends_with(s)) {
                    continue;
                }
                chosen.entry(e.as_str()).or_insert_with(|| d.join(e));
            }
        }
        let mut v: Vec<(&str, PathBuf)> = chosen.into_iter().collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v.into_iter().map(|(_, p)| p).collect()
    }
}

fn list_subdir(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<String> = rd
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_type()
                .map(|t| t.is_file() || t.is_symlink())
                .unwrap_or(false)
        })
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !hidden_or_backup(n))
        .collect();
    v.sort();
    v
}

/// systemd's `unit_file_find_dirs` for one search directory.
fn find_dirs_in(di: &DirIndex, name: &str, suffix: &str, out: &mut Vec<PathBuf>) {
    let key = format!("{name}{suffix}");
    if di.subdirs.contains_key(&key) {
        let p = di.path.join(&key);
        if !out.contains(&p) {
            out.push(p);
        }
    }
    // Top-level type directory (`service`): no template or prefixes.
    if UnitType::from_suffix(name).is_some() {
        return;
    }
    let Ok(unit) = UnitName::new(name) else {
        return;
    };
    if let Some(t) = unit.template() {
        find_dirs_in(di, t.as_str(), suffix, out);
    }
    let mut prefix = unit.prefix().to_owned();
    let mut chopped = false;
    loop {
        let Some(dash) = prefix.rfind('-') else {
            return;
        };
        if dash == 0 {
            return;
        }
        if dash + 1 < prefix.len() || chopped {
            prefix.truncate(dash + 1);
            break;
        }
        // Trailing dash: chop it off and look again, once.
        prefix.truncate(dash);
        chopped = true;
    }
    let built = match unit.instance() {
        Some(i) if !i.is_empty() => format!("{prefix}@{i}.{}", unit.unit_type().suffix()),
        _ => format!("{prefix}.{}", unit.unit_type().suffix()),
    };
    if UnitName::new(&built).is_ok() {
        find_dirs_in(di, &built, suffix, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(subdirs: &[&str]) -> DirIndex {
        DirIndex {
            path: PathBuf::from("/u"),
            subdirs: subdirs
                .iter()
                .map(|s| (s.to_string(), Vec::new()))
                .collect(),
        }
    }

    fn found(di: &DirIndex, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        find_dirs_in(di, name, ".d", &mut out);
        out.iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn dash_prefix_dirs() {
        let all = [
            "foo-bar-baz.service.d",
            "foo-bar-.service.d",
            "foo-.service.d",
            "foo.service.d",
        ];
        let di = dir_with(&all);
        assert_eq!(
            found(&di, "foo-bar-baz.service"),
            [
                "foo-bar-baz.service.d",
                "foo-bar-.service.d",
                "foo-.service.d"
            ]
        );
        assert_eq!(found(&di, "foo.service"), ["foo.service.d"]);
    }

    #[test]
    fn instance_dirs() {
        let di = dir_with(&[
            "a-b@x.service.d",
            "a-b@.service.d",
            "a-.service.d",
            "a-@x.service.d",
            "a-@.service.d",
        ]);
        assert_eq!(
            found(&di, "a-b@x.service"),
            [
                "a-b@x.service.d",
                "a-b@.service.d",
                "a-.service.d",
                "a-@x.service.d",
                "a-@.service.d"
            ]
        );
    }

    #[test]
    fn alias_rules() {
        let n = |s: &str| UnitName::new(s).unwrap();
        assert!(alias_is_valid(&n("a.service"), &n("b.service")).is_ok());
        assert!(alias_is_valid(&n("a.service"), &n("b.socket")).is_err());
        assert!(alias_is_valid(&n("a@.service"), &n("b@.service")).is_ok());
        assert!(alias_is_valid(&n("a@x.service"), &n("b@.service")).is_ok());
        assert!(alias_is_valid(&n("a@x.service"), &n("b@x.service")).is_ok());
        assert!(alias_is_valid(&n("a@x.service"), &n("b@y.service")).is_err());
        assert!(alias_is_valid(&n("a.service"), &n("b@.service")).is_err());
        assert!(alias_is_valid(&n("a.mount"), &n("b.mount")).is_err());
    }

    #[test]
    fn normalization() {
        assert_eq!(normalize(Path::new("/a/./b/../c//d")), Path::new("/a/c/d"));
        assert_eq!(normalize(Path::new("/../x")), Path::new("/x"));
    }
}
