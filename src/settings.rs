//! Daemon settings: scope, search paths and directories, resolved once from the command line and
//! the environment. Owns the rules for default paths (systemd's search-path order for `--user`
//! and `--system`); everything else receives a `Settings` and never reads the environment itself.

use std::path::PathBuf;

/// The abstract socket name Upstart's private server listens on
/// (`unix:abstract=/com/ubuntu/upstart`).
pub const UPSTART_P2P_NAME: &str = "/com/ubuntu/upstart";

/// User or system manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Scope {
    User,
    System,
}

/// Resolved daemon settings (serializable: daemon-reexec carries them to the new process).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    pub scope: Scope,
    /// Unit search path, highest priority first.
    pub unit_paths: Vec<PathBuf>,
    /// Where unitd keeps state (per-unit logs, later serialized engine state).
    pub state_dir: PathBuf,
    /// The runtime directory: `$XDG_RUNTIME_DIR` (user) or `/run` (system). `%t`.
    pub runtime_dir: PathBuf,
    /// The manager user's home (`%h`, `WorkingDirectory=~` default).
    pub home: PathBuf,
    /// The manager user's name and ids (`%u %U %g %G`).
    pub user_name: String,
    pub uid: u32,
    pub gid: u32,
    /// `%S %C %L %E` roots, and where `StateDirectory=`, `CacheDirectory=`, `LogsDirectory=`
    /// and `ConfigurationDirectory=` are created (`runtime_dir` is `RuntimeDirectory=`'s).
    pub state_root: PathBuf,
    pub cache_root: PathBuf,
    pub logs_root: PathBuf,
    pub config_root: PathBuf,
    /// Bus address to connect to; `None` = the default bus of the scope.
    pub bus_address: Option<String>,
    /// Where the install verbs (`enable`, `mask`, `link`, …) write persistent symlinks:
    /// `~/.config/systemd/user` (user) or `/etc/systemd/system` (system).
    pub install_dir: PathBuf,
    /// Where they write `--runtime` symlinks: `$XDG_RUNTIME_DIR/systemd/user` (user) or
    /// `/run/systemd/system` (system).
    pub install_runtime_dir: PathBuf,
    /// Upstart job directories, highest priority first: `/etc/init` (system) or
    /// `$XDG_CONFIG_HOME/upstart` (user); `--job-path` replaces them.
    pub job_paths: Vec<PathBuf>,
    /// The abstract socket name of Upstart's private peer-to-peer server (root clients only):
    /// `/com/ubuntu/upstart` for the system manager, none for a user manager;
    /// `--upstart-p2p` replaces it.
    pub upstart_p2p: Option<String>,
    /// Create the `/run/systemd/system` marker (`sd_booted()`) at start, so stock clients treat
    /// the host as booted with systemd. Default: only for the system manager running as PID 1.
    pub mark_booted: bool,
}

impl Settings {
    /// Resolve settings for `scope` from the process environment and identity.
    ///
    /// `unit_paths`, when non-empty, replaces the search path (`--unit-path`); otherwise
    /// `$SYSTEMD_UNIT_PATH` (a trailing `:` appends the defaults) or systemd's default order.
    pub fn resolve(
        scope: Scope,
        unit_paths: Vec<PathBuf>,
        state_dir: Option<PathBuf>,
        bus_address: Option<String>,
    ) -> Settings {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let uid = current_uid();
        let gid = current_gid();
        let user_name = user_name_for(uid);
        let home = env("HOME").unwrap_or_else(|| {
            if uid == 0 {
                PathBuf::from("/root")
            } else {
                PathBuf::from("/")
            }
        });
        let runtime_dir = match scope {
            Scope::System => PathBuf::from("/run"),
            Scope::User => env("XDG_RUNTIME_DIR")
                .unwrap_or_else(|| std::env::temp_dir().join(format!("unitd-runtime-{uid}"))),
        };
        let config_home = env("XDG_CONFIG_HOME").unwrap_or_else(|| home.join(".config"));
        let data_home = env("XDG_DATA_HOME").unwrap_or_else(|| home.join(".local/share"));
        let state_home = env("XDG_STATE_HOME").unwrap_or_else(|| home.join(".local/state"));
        let cache_home = env("XDG_CACHE_HOME").unwrap_or_else(|| home.join(".cache"));
        let (state_root, cache_root, logs_root, config_root) = match scope {
            Scope::System => (
                PathBuf::from("/var/lib"),
                PathBuf::from("/var/cache"),
                PathBuf::from("/var/log"),
                PathBuf::from("/etc"),
            ),
            // systemd 252 (Debian 12): user-scope state and logs live below the config home
            // (`$XDG_CONFIG_HOME`, `$XDG_CONFIG_HOME/log`); `$XDG_STATE_HOME` came with 254.
            Scope::User => (
                config_home.clone(),
                cache_home,
                config_home.join("log"),
                config_home.clone(),
            ),
        };
        let (install_dir, install_runtime_dir) = match scope {
            Scope::System => (
                PathBuf::from("/etc/systemd/system"),
                PathBuf::from("/run/systemd/system"),
            ),
            Scope::User => (
                config_home.join("systemd/user"),
                runtime_dir.join("systemd/user"),
            ),
        };
        let unit_paths = if !unit_paths.is_empty() {
            // In user scope the per-user install directories stay in front of an explicit
            // search path, so what `systemctl --user enable/mask` writes takes effect (both
            // are private to the user; the system directories are not added).
            let mut v = Vec::new();
            if scope == Scope::User {
                // `systemctl --user set-property` writes here (highest priority).
                v.push(control_dir(&install_dir));
                v.push(control_dir(&install_runtime_dir));
                v.push(transient_dir(&install_runtime_dir));
                v.push(install_dir.clone());
                v.push(install_runtime_dir.clone());
            }
            v.extend(unit_paths);
            v
        } else {
            let defaults = default_unit_paths(scope, &runtime_dir, &config_home, &data_home);
            match std::env::var("SYSTEMD_UNIT_PATH") {
                Ok(p) if !p.is_empty() => {
                    let mut v: Vec<PathBuf> = p
                        .split(':')
                        .filter(|s| !s.is_empty())
                        .map(PathBuf::from)
                        .collect();
                    if p.ends_with(':') {
                        v.extend(defaults);
                    }
                    v
                }
                _ => defaults,
            }
        };
        let state_dir = state_dir.unwrap_or_else(|| match scope {
            Scope::System => PathBuf::from("/var/lib/unitd"),
            Scope::User => state_home.join("unitd"),
        });
        let job_paths = match scope {
            Scope::System => vec![PathBuf::from("/etc/init")],
            Scope::User => vec![config_home.join("upstart")],
        };
        let upstart_p2p = match scope {
            Scope::System => Some(UPSTART_P2P_NAME.to_owned()),
            Scope::User => None,
        };
        Settings {
            upstart_p2p,
            job_paths,
            scope,
            unit_paths,
            state_dir,
            runtime_dir,
            home,
            user_name,
            uid,
            gid,
            state_root,
            cache_root,
            logs_root,
            config_root,
            bus_address,
            install_dir,
            install_runtime_dir,
            mark_booted: scope == Scope::System && std::process::id() == 1,
        }
    }
}

/// The `.control` directory next to an install directory (`/etc/systemd/system.control`,
/// `~/.config/systemd/user.control`, …): where `SetUnitProperties` writes its drop-ins.
pub fn control_dir(install_dir: &std::path::Path) -> PathBuf {
    let mut name = install_dir
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".control");
    install_dir.with_file_name(name)
}

/// The directory transient units' files live in, next to the runtime install directory
/// (`/run/systemd/transient`, `$XDG_RUNTIME_DIR/systemd/transient`).
pub fn transient_dir(install_runtime_dir: &std::path::Path) -> PathBuf {
    install_runtime_dir.with_file_name("transient")
}

/// systemd 252's unit search path (Debian layout), highest priority first
/// (`systemd-analyze unit-paths`).
pub fn default_unit_paths(
    scope: Scope,
    runtime_dir: &std::path::Path,
    config_home: &std::path::Path,
    data_home: &std::path::Path,
) -> Vec<PathBuf> {
    match scope {
        Scope::System => [
            "/etc/systemd/system.control",
            "/run/systemd/system.control",
            "/run/systemd/transient",
            "/run/systemd/generator.early",
            "/etc/systemd/system",
            "/etc/systemd/system.attached",
            "/run/systemd/system",
            "/run/systemd/system.attached",
            "/run/systemd/generator",
            "/usr/local/lib/systemd/system",
            "/lib/systemd/system",
            "/usr/lib/systemd/system",
            "/run/systemd/generator.late",
        ]
        .iter()
        .map(PathBuf::from)
        .collect(),
        Scope::User => {
            let rt = runtime_dir.join("systemd");
            let config_dirs = std::env::var("XDG_CONFIG_DIRS")
                .ok()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "/etc/xdg".into());
            let data_dirs = std::env::var("XDG_DATA_DIRS")
                .ok()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "/usr/local/share:/usr/share".into());
            let mut v = vec![
                config_home.join("systemd/user.control"),
                rt.join("user.control"),
                rt.join("transient"),
                rt.join("generator.early"),
                config_home.join("systemd/user"),
            ];
            v.extend(
                config_dirs
                    .split(':')
                    .filter(|s| !s.is_empty())
                    .map(|d| PathBuf::from(d).join("systemd/user")),
            );
            v.push(PathBuf::from("/etc/systemd/user"));
            v.push(rt.join("user"));
            v.push(PathBuf::from("/run/systemd/user"));
            v.push(rt.join("generator"));
            v.push(data_home.join("systemd/user"));
            v.extend(
                data_dirs
                    .split(':')
                    .filter(|s| !s.is_empty())
                    .map(|d| PathBuf::from(d).join("systemd/user")),
            );
            v.push(PathBuf::from("/usr/local/lib/systemd/user"));
            v.push(PathBuf::from("/usr/lib/systemd/user"));
            v.push(rt.join("generator.late"));
            v
        }
    }
}

fn current_uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

fn current_gid() -> u32 {
    nix::unistd::getgid().as_raw()
}

fn user_name_for(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(u)) => u.name,
        _ => {
            if uid == 0 {
                "root".into()
            } else {
                uid.to_string()
            }
        }
    }
}
