//! `unitd install` / `unitd uninstall`: put the binary, the D-Bus activation files and the
//! system-bus policy where dbus-daemon looks first, record every file and directory written in
//! a manifest, and ask a reachable bus to `ReloadConfig`. Uninstall removes exactly what the
//! manifest lists. (The systemd install *verbs* — enable/disable symlinks — live in
//! [`crate::install`]; this module deploys unitd itself.)
//!
//! Layout (`P` = `--prefix`):
//!
//! | what | system (default `P` = `/usr/local`) | `--user` (default `P` = `~/.local`) |
//! | --- | --- | --- |
//! | binary | `P/bin/unitd` | `P/bin/unitd` |
//! | activation files | `P/share/dbus-1/system-services/` | `$XDG_DATA_HOME/dbus-1/services/` (with `--prefix`: `P/share/dbus-1/services/`) |
//! | policy | `/etc/dbus-1/system.d/` for `/usr/local`, else `P/share/dbus-1/system.d/` | — (a session bus admits only its user) |
//! | manifest | `P/share/unitd/install-manifest` | `<data dir>/unitd/install-manifest` |
//!
//! Why there: dbus-daemon's standard system service directories are searched in the order
//! `/usr/local/share`, `/usr/share`, `/lib` (`…/dbus-1/system-services`) and the first file
//! for a name wins, so ours beats a distribution's `Exec=/bin/false` stand-in in
//! `/usr/share`. Debian 12's `/usr/share/dbus-1/system.conf` reads policy only from
//! `/usr/share/dbus-1/system.d` and `/etc/dbus-1/system.d` — not from `/usr/local/share` —
//! hence `/etc` for the default prefix. The session bus searches `$XDG_DATA_HOME` first.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::bus::driver::{BusType, reload_config};

/// The activation and policy files, as shipped in `dbus-policy/` (the `Exec=` lines name
/// [`TEMPLATE_BIN`] and are rewritten to the installed binary).
const SYSTEM_SERVICES: [(&str, &str); 2] = [
    (
        "org.freedesktop.systemd1.service",
        include_str!("../dbus-policy/system-services/org.freedesktop.systemd1.service"),
    ),
    (
        "com.ubuntu.Upstart.service",
        include_str!("../dbus-policy/system-services/com.ubuntu.Upstart.service"),
    ),
];
const SESSION_SERVICES: [(&str, &str); 2] = [
    (
        "org.freedesktop.systemd1.service",
        include_str!("../dbus-policy/session-services/org.freedesktop.systemd1.service"),
    ),
    (
        "com.ubuntu.Upstart.service",
        include_str!("../dbus-policy/session-services/com.ubuntu.Upstart.service"),
    ),
];
const POLICIES: [(&str, &str); 2] = [
    (
        "org.freedesktop.systemd1.conf",
        include_str!("../dbus-policy/org.freedesktop.systemd1.conf"),
    ),
    (
        "com.ubuntu.Upstart.conf",
        include_str!("../dbus-policy/com.ubuntu.Upstart.conf"),
    ),
];
/// The binary path the shipped activation files name.
const TEMPLATE_BIN: &str = "/usr/local/bin/unitd";
/// First line of a manifest.
const MANIFEST_HEADER: &str =
    "# unitd install manifest: what `unitd install` wrote; `unitd uninstall` removes it";

/// What `unitd install`/`uninstall` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    /// `--prefix DIR` (absolute or relative to the working directory).
    pub prefix: Option<PathBuf>,
    /// `--user`: session-bus activation for the calling user instead of the system bus.
    pub user: bool,
    /// `--bus ADDR`: the bus to ask for `ReloadConfig` instead of the default one.
    pub bus: Option<String>,
    /// `--no-reload`: do not contact any bus.
    pub no_reload: bool,
    /// `--exit-idle SECS` for the session activation files (`--user` only).
    pub exit_idle: Option<u64>,
}

/// Where each installed file goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The installed binary.
    pub bin: PathBuf,
    /// The directory of the activation files.
    pub service_dir: PathBuf,
    /// The system-bus policy directory (`None` for `--user`).
    pub policy_dir: Option<PathBuf>,
    /// The manifest.
    pub manifest: PathBuf,
    /// `--user`.
    pub user: bool,
    /// Appended to the session activation files' `serve --user` (`--exit-idle SECS`).
    pub exit_idle: Option<u64>,
}

impl Layout {
    /// Resolve the layout for `prefix` (see the module docs). `home` and `xdg_data_home` are
    /// the caller's `$HOME` and `$XDG_DATA_HOME` (only used with `user`).
    pub fn resolve(
        prefix: Option<&Path>,
        user: bool,
        home: Option<&Path>,
        xdg_data_home: Option<&Path>,
    ) -> Result<Layout, String> {
        let prefix = match prefix {
            Some(p) => Some(
                std::path::absolute(p).map_err(|e| format!("bad prefix {}: {e}", p.display()))?,
            ),
            None => None,
        };
        if let Some(p) = &prefix
            && p.to_str().is_none_or(|s| s.contains('\n'))
        {
            return Err(format!("unusable prefix {}", p.display()));
        }
        if user {
            let home = home
                .filter(|h| h.is_absolute())
                .ok_or("--user needs $HOME (an absolute path)")?;
            let (bin_dir, data) = match &prefix {
                Some(p) => (p.join("bin"), p.join("share")),
                None => (
                    home.join(".local/bin"),
                    xdg_data_home
                        .filter(|d| d.is_absolute())
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| home.join(".local/share")),
                ),
            };
            Ok(Layout {
                bin: bin_dir.join("unitd"),
                service_dir: data.join("dbus-1/services"),
                policy_dir: None,
                manifest: data.join("unitd/install-manifest"),
                user,
                exit_idle: None,
            })
        } else {
            let p = prefix.unwrap_or_else(|| PathBuf::from("/usr/local"));
            let policy_dir = if p == Path::new("/usr/local") {
                PathBuf::from("/etc/dbus-1/system.d")
            } else {
                p.join("share/dbus-1/system.d")
            };
            Ok(Layout {
                bin: p.join("bin/unitd"),
                service_dir: p.join("share/dbus-1/system-services"),
                policy_dir: Some(policy_dir),
                manifest: p.join("share/unitd/install-manifest"),
                user,
                exit_idle: None,
            })
        }
    }

    /// Every file install writes except the binary and the manifest: (path, content).
    pub fn data_files(&self) -> Result<Vec<(PathBuf, String)>, String> {
        let exec = exec_word(&self.bin)?;
        let services = if self.user {
            SESSION_SERVICES
        } else {
            SYSTEM_SERVICES
        };
        let serve = match self.exit_idle {
            Some(secs) if self.user => format!("serve --user --exit-idle {secs}"),
            _ => String::new(),
        };
        let mut files: Vec<(PathBuf, String)> = services
            .iter()
            .map(|(name, text)| {
                let mut text = text.replace(TEMPLATE_BIN, &exec);
                if !serve.is_empty() {
                    text = text.replace("serve --user", &serve);
                }
                (self.service_dir.join(name), text)
            })
            .collect();
        if let Some(dir) = &self.policy_dir {
            files.extend(
                POLICIES
                    .iter()
                    .map(|(name, text)| (dir.join(name), (*text).to_owned())),
            );
        }
        Ok(files)
    }
}

/// The binary path as one word of an activation file's `Exec=` line (dbus-daemon splits it
/// like a shell: quote what needs it).
fn exec_word(bin: &Path) -> Result<String, String> {
    let s = bin
        .to_str()
        .ok_or_else(|| format!("{} is not UTF-8", bin.display()))?;
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._+-@:,".contains(c))
    {
        Ok(s.to_owned())
    } else if s.contains('\'') || s.contains('\n') {
        Err(format!("cannot name {s:?} on an Exec= line"))
    } else {
        Ok(format!("'{s}'"))
    }
}

/// A manifest: the files install wrote and the directories it created.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Files written (the manifest itself excluded).
    pub files: Vec<PathBuf>,
    /// Directories that did not exist before an install.
    pub dirs: Vec<PathBuf>,
}

impl Manifest {
    /// Parse manifest text; unknown lines are an error (never remove what we cannot read).
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        for (i, line) in text.lines().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || format!("line {}: unexpected {line:?}", i + 1);
            let (kind, path) = line.split_once(' ').ok_or_else(bad)?;
            let path = PathBuf::from(path);
            if !path.is_absolute() {
                return Err(bad());
            }
            match kind {
                "file" => m.files.push(path),
                "dir" => m.dirs.push(path),
                _ => return Err(bad()),
            }
        }
        Ok(m)
    }

    /// The manifest's text.
    pub fn render(&self) -> String {
        let mut s = format!("{MANIFEST_HEADER}\n");
        for f in &self.files {
            s.push_str(&format!("file {}\n", f.display()));
        }
        for d in &self.dirs {
            s.push_str(&format!("dir {}\n", d.display()));
        }
        s
    }
}

/// Create `dir` and its missing ancestors (mode 0755); returns those that were created,
/// outermost first.
fn create_dirs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        cur = d.parent();
    }
    missing.reverse();
    for d in &missing {
        match std::fs::create_dir(d) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create {}: {e}", d.display())),
        }
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("cannot chmod {}: {e}", d.display()))?;
    }
    Ok(missing)
}

/// Replace `path` atomically with `content` (mode `mode`): a temporary file in the same
/// directory, then rename — also safe for a binary that is running.
fn write_atomic(path: &Path, content: &[u8], mode: u32) -> Result<(), String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("bad file name {}", path.display()))?;
    let tmp = path.with_file_name(format!(".{name}.unitd-install"));
    let err = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(content)?;
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

fn read_manifest(path: &Path) -> Result<Option<Manifest>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Manifest::parse(&text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Install into `layout`, the binary copied from `source`. Returns the manifest written.
/// Idempotent: a second run rewrites the same files and keeps the directories the first one
/// created in the manifest.
pub fn install_files(layout: &Layout, source: &Path) -> Result<Manifest, String> {
    let previous = read_manifest(&layout.manifest)?.unwrap_or_default();
    let binary = std::fs::read(source)
        .map_err(|e| format!("cannot read the unitd binary {}: {e}", source.display()))?;
    let mut files: Vec<(PathBuf, Vec<u8>, u32)> = vec![(layout.bin.clone(), binary, 0o755)];
    files.extend(
        layout
            .data_files()?
            .into_iter()
            .map(|(p, t)| (p, t.into_bytes(), 0o644)),
    );
    let mut manifest = Manifest {
        files: Vec::new(),
        dirs: previous.dirs.clone(),
    };
    fn note_dirs(created: Vec<PathBuf>, m: &mut Manifest) {
        for d in created {
            if !m.dirs.contains(&d) {
                m.dirs.push(d);
            }
        }
    }
    // The manifest first, so that a failure half-way leaves a record of what exists.
    let manifest_dir = layout.manifest.parent().expect("manifest has a parent");
    note_dirs(create_dirs(manifest_dir)?, &mut manifest);
    for (path, _, _) in &files {
        let dir = path.parent().expect("installed files have a parent");
        note_dirs(create_dirs(dir)?, &mut manifest);
        manifest.files.push(path.clone());
    }
    write_atomic(&layout.manifest, manifest.render().as_bytes(), 0o644)?;
    for (path, content, mode) in &files {
        if path.as_path() == source && std::fs::read(path).ok().as_deref() == Some(content) {
            continue; // installing the installed binary onto itself
        }
        write_atomic(path, content, *mode)?;
    }
    Ok(manifest)
}

/// Remove what the manifest at `layout.manifest` lists: its files, then the directories
/// install created (deepest first, only when empty), then the manifest. `Ok(None)` when
/// nothing is installed there.
pub fn uninstall_files(layout: &Layout) -> Result<Option<Manifest>, String> {
    let Some(manifest) = read_manifest(&layout.manifest)? else {
        return Ok(None);
    };
    let remove = |p: &Path| match std::fs::remove_file(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot remove {}: {e}", p.display())),
    };
    for f in &manifest.files {
        remove(f)?;
    }
    remove(&layout.manifest)?;
    let mut dirs = manifest.dirs.clone();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for d in &dirs {
        match std::fs::remove_dir(d) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            // Someone else put files there since: leave it.
            Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => {
                eprintln!("unitd: keeping {}: not empty", d.display());
            }
            Err(e) => return Err(format!("cannot remove {}: {e}", d.display())),
        }
    }
    Ok(Some(manifest))
}

fn layout_from(opts: &DeployOptions) -> Result<Layout, String> {
    if opts.exit_idle.is_some() && !opts.user {
        return Err("--exit-idle is for the user manager (--user)".into());
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let data = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from);
    let mut layout = Layout::resolve(
        opts.prefix.as_deref(),
        opts.user,
        home.as_deref(),
        data.as_deref(),
    )?;
    layout.exit_idle = opts.exit_idle;
    Ok(layout)
}

/// Ask the bus to re-read its configuration. Without `--bus` an unreachable bus is only a
/// note (`true`); a bus named with `--bus` that cannot be reloaded is a failure (`false`).
fn reload(opts: &DeployOptions) -> bool {
    if opts.no_reload {
        return true;
    }
    let bus = if opts.user {
        BusType::Session
    } else {
        BusType::System
    };
    let what = opts.bus.clone().unwrap_or_else(|| {
        if opts.user {
            "the session bus".into()
        } else {
            "the system bus".into()
        }
    });
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("unitd: not reloading {what}: {e}");
            return opts.bus.is_none();
        }
    };
    let result = rt.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(10),
            reload_config(opts.bus.as_deref(), bus),
        )
        .await
        .unwrap_or_else(|_| Err("no answer within 10 s".into()))
    });
    match result {
        Ok(()) => {
            println!("reloaded the configuration of {what}");
            true
        }
        Err(e) => {
            eprintln!(
                "unitd: could not ask {what} to reload its configuration ({e}); \
                 the files take effect when the bus starts or reloads"
            );
            opts.bus.is_none()
        }
    }
}

fn exit_code(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `unitd install`.
pub fn install_command(opts: &DeployOptions) -> ExitCode {
    let result = layout_from(opts).and_then(|layout| {
        let source =
            std::env::current_exe().map_err(|e| format!("cannot find the running binary: {e}"))?;
        install_files(&layout, &source)
    });
    match result {
        Ok(manifest) => {
            for f in &manifest.files {
                println!("installed {}", f.display());
            }
            exit_code(reload(opts))
        }
        Err(e) => {
            eprintln!("unitd: install failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `unitd uninstall`.
pub fn uninstall_command(opts: &DeployOptions) -> ExitCode {
    let layout = match layout_from(opts) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("unitd: uninstall failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    match uninstall_files(&layout) {
        Ok(Some(manifest)) => {
            for f in &manifest.files {
                println!("removed {}", f.display());
            }
            exit_code(reload(opts))
        }
        Ok(None) => {
            println!(
                "nothing to uninstall: no manifest at {}",
                layout.manifest.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("unitd: uninstall failed: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_layout_defaults_and_prefix() {
        let l = Layout::resolve(None, false, None, None).unwrap();
        assert_eq!(l.bin, Path::new("/usr/local/bin/unitd"));
        assert_eq!(
            l.service_dir,
            Path::new("/usr/local/share/dbus-1/system-services")
        );
        assert_eq!(
            l.policy_dir.as_deref(),
            Some(Path::new("/etc/dbus-1/system.d"))
        );
        let l = Layout::resolve(Some(Path::new("/opt/u")), false, None, None).unwrap();
        assert_eq!(l.bin, Path::new("/opt/u/bin/unitd"));
        assert_eq!(
            l.policy_dir.as_deref(),
            Some(Path::new("/opt/u/share/dbus-1/system.d"))
        );
        assert_eq!(l.manifest, Path::new("/opt/u/share/unitd/install-manifest"));
    }

    #[test]
    fn user_layout_follows_xdg_data_home() {
        let home = Path::new("/home/u");
        let l = Layout::resolve(None, true, Some(home), None).unwrap();
        assert_eq!(l.bin, Path::new("/home/u/.local/bin/unitd"));
        assert_eq!(
            l.service_dir,
            Path::new("/home/u/.local/share/dbus-1/services")
        );
        assert_eq!(l.policy_dir, None);
        let l = Layout::resolve(None, true, Some(home), Some(Path::new("/d"))).unwrap();
        assert_eq!(l.service_dir, Path::new("/d/dbus-1/services"));
        assert!(Layout::resolve(None, true, None, None).is_err());
    }

    #[test]
    fn activation_files_name_the_installed_binary() {
        for user in [false, true] {
            let l = Layout::resolve(
                Some(Path::new("/opt/my prefix")),
                user,
                Some(Path::new("/h")),
                None,
            )
            .unwrap();
            let files = l.data_files().unwrap();
            let services: Vec<_> = files
                .iter()
                .filter(|(p, _)| p.extension().is_some_and(|e| e == "service"))
                .collect();
            assert_eq!(services.len(), 2);
            for (_, text) in services {
                let exec = text.lines().find(|l| l.starts_with("Exec=")).unwrap();
                let scope = if user { "--user" } else { "--system" };
                assert_eq!(
                    exec,
                    format!("Exec='/opt/my prefix/bin/unitd' serve {scope}")
                );
            }
        }
        assert!(exec_word(Path::new("/a'b/unitd")).is_err());
        let mut l = Layout::resolve(None, true, Some(Path::new("/h")), None).unwrap();
        l.exit_idle = Some(300);
        let (_, text) = &l.data_files().unwrap()[0];
        assert!(
            text.contains("\nExec=/h/.local/bin/unitd serve --user --exit-idle 300\n"),
            "{text}"
        );
    }

    #[test]
    fn manifest_round_trip_and_rejects_garbage() {
        let m = Manifest {
            files: vec!["/a/b".into()],
            dirs: vec!["/a".into()],
        };
        assert_eq!(Manifest::parse(&m.render()).unwrap(), m);
        assert!(Manifest::parse("file relative\n").is_err());
        assert!(Manifest::parse("rm -rf /\n").is_err());
    }
}
