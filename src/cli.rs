//! The `unitd` command line: parses arguments (clap) and dispatches to the owning module.
//! Owns nothing else: every subcommand's behaviour lives with the module it belongs to.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::settings::{Scope, Settings};

/// unitd: the init manager as far as D-Bus clients can tell.
#[derive(Debug, Parser)]
#[command(name = "unitd", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options shared by every subcommand that runs a manager.
#[derive(Debug, Args, Clone)]
pub struct ManagerArgs {
    /// Be the user manager (session bus, user search path).
    #[arg(long, conflicts_with = "system")]
    pub user: bool,
    /// Be the system manager (system bus, system search path).
    #[arg(long)]
    pub system: bool,
    /// D-Bus address to connect to instead of the scope's default bus.
    #[arg(long, value_name = "ADDR")]
    pub bus: Option<String>,
    /// Create the /run/systemd/system marker so stock clients see a systemd-booted host
    /// (system scope; default: only when running as PID 1).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub mark_booted: Option<bool>,
    /// Unit directory; repeat for several. Replaces the default search path.
    #[arg(long = "unit-path", value_name = "DIR")]
    pub unit_path: Vec<PathBuf>,
    /// Directory for unitd's own state (logs).
    #[arg(long = "state-dir", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Upstart job directory (`*.conf`); repeat for several. Replaces the default
    /// (`/etc/init`, or `~/.config/upstart` for --user).
    #[arg(long = "job-path", value_name = "DIR")]
    pub job_path: Vec<PathBuf>,
    /// Upstart's private peer-to-peer server (root clients only): `unix:abstract=NAME`, or
    /// `none`. Default: `unix:abstract=/com/ubuntu/upstart` for --system, none for --user.
    #[arg(long = "upstart-p2p", value_name = "ADDR", value_parser = parse_upstart_p2p)]
    pub upstart_p2p: Option<UpstartP2p>,
    /// Shutdown budget: how long stopping every unit may take before what is left is killed
    /// (like systemd's DefaultTimeoutStopSec=).
    #[arg(long = "shutdown-timeout", value_name = "SECS", default_value_t = 90)]
    pub shutdown_timeout: u64,
}

/// `--upstart-p2p`: an abstract socket name, or no server at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstartP2p {
    /// `unix:abstract=NAME`.
    Abstract(String),
    /// `none`.
    Off,
}

fn parse_upstart_p2p(s: &str) -> Result<UpstartP2p, String> {
    if s == "none" {
        return Ok(UpstartP2p::Off);
    }
    match s.strip_prefix("unix:abstract=") {
        Some(name) if !name.is_empty() && !name.contains(',') => {
            Ok(UpstartP2p::Abstract(name.to_owned()))
        }
        _ => Err(format!("expected unix:abstract=NAME or none, got {s:?}")),
    }
}

impl ManagerArgs {
    /// Scope chosen on the command line; default: system when root, else user.
    pub fn scope(&self) -> Scope {
        if self.user {
            Scope::User
        } else if self.system || nix::unistd::getuid().is_root() {
            Scope::System
        } else {
            Scope::User
        }
    }

    /// Resolve [`Settings`] from these options and the environment.
    pub fn settings(&self) -> Settings {
        let mut s = Settings::resolve(
            self.scope(),
            self.unit_path.clone(),
            self.state_dir.clone(),
            self.bus.clone(),
        );
        if !self.job_path.is_empty() {
            s.job_paths = self.job_path.clone();
        }
        match &self.upstart_p2p {
            Some(UpstartP2p::Abstract(name)) => s.upstart_p2p = Some(name.clone()),
            Some(UpstartP2p::Off) => s.upstart_p2p = None,
            None => {}
        }
        if let Some(b) = self.mark_booted {
            s.mark_booted = b && s.scope == Scope::System;
        }
        s
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Own org.freedesktop.systemd1 on the bus and manage units.
    Serve {
        #[command(flatten)]
        manager: ManagerArgs,
        /// Exit after SECS without work (no active or failed unit, no job, no unit reference,
        /// no waiting call, no private-socket client); the next call bus-activates a new
        /// instance, which takes over the manager environment. User scope only.
        #[arg(long = "exit-idle", value_name = "SECS")]
        exit_idle: Option<u64>,
    },
    /// Be a container's init (PID 1): start the system bus from dbus.service, claim the
    /// names, start default.target; reap every process; stop everything on SIGTERM,
    /// `systemctl poweroff` or `Manager.Exit()` and exit.
    Init {
        #[command(flatten)]
        manager: ManagerArgs,
        /// The unit to start once the bus is up (like systemd's --unit=).
        #[arg(long = "unit", value_name = "UNIT", default_value = "default.target")]
        unit: String,
    },
    /// Check unit files like `systemd-analyze verify`: print `file:line: message` diagnostics.
    Check {
        /// Unit files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run one unit in the foreground with full supervision, without D-Bus; stop it on
    /// SIGINT/SIGTERM.
    Run {
        #[command(flatten)]
        manager: ManagerArgs,
        /// The unit to start.
        unit: String,
    },
    /// Print a unit's captured stdout/stderr.
    Logs {
        #[command(flatten)]
        manager: ManagerArgs,
        /// The unit whose output to show.
        unit: String,
        /// Keep printing new output as it arrives.
        #[arg(short = 'f', long)]
        follow: bool,
        /// Show only the last N lines.
        #[arg(short = 'n', long = "lines", value_name = "N")]
        lines: Option<usize>,
    },
    /// Start a private session bus and serve the example units on it; prints the `export`
    /// lines after which `systemctl --user status demo.service` works.
    Demo,
    /// Install unitd for bus activation: the binary, the D-Bus activation files (they win over
    /// distributions' `Exec=/bin/false` stand-ins) and the system-bus policy; then ask the bus
    /// to reload its configuration. Idempotent.
    Install(DeployArgs),
    /// Remove exactly what `unitd install` wrote (its manifest lists it).
    Uninstall(DeployArgs),
    /// Upstart's initctl over the com.ubuntu.Upstart0_6 API (also: the binary named
    /// `initctl`, `start`, `stop`, `restart`, `reload` or `status`).
    #[command(disable_help_flag = true)]
    Initctl {
        /// initctl's options, command and arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// Options of `unitd install` and `unitd uninstall`.
#[derive(Debug, Args, Clone)]
pub struct DeployArgs {
    /// Install under DIR (default: /usr/local, or ~/.local with --user).
    #[arg(long, value_name = "DIR")]
    pub prefix: Option<PathBuf>,
    /// Session-bus activation for the calling user ($XDG_DATA_HOME/dbus-1/services).
    #[arg(long)]
    pub user: bool,
    /// The bus to ask for ReloadConfig (default: the system bus, or the session bus with --user).
    #[arg(long, value_name = "ADDR")]
    pub bus: Option<String>,
    /// Do not ask any bus to reload its configuration.
    #[arg(long)]
    pub no_reload: bool,
    /// With --user: activated managers exit after SECS idle (`serve --exit-idle SECS`).
    #[arg(long = "exit-idle", value_name = "SECS", requires = "user")]
    pub exit_idle: Option<u64>,
}

impl DeployArgs {
    fn options(&self) -> crate::deploy::DeployOptions {
        crate::deploy::DeployOptions {
            prefix: self.prefix.clone(),
            user: self.user,
            bus: self.bus.clone(),
            no_reload: self.no_reload,
            exit_idle: self.exit_idle,
        }
    }
}

/// The commands the binary answers under their own name (multicall), as initctl does via
/// `/sbin/start` & co.
const INITCTL_NAMES: [&str; 5] = ["start", "stop", "restart", "reload", "status"];

/// Parse the command line and run the subcommand.
pub fn main() -> ExitCode {
    let mut argv: Vec<String> = std::env::args().collect();
    let base = argv
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    if base == "initctl" {
        return crate::initctl::main("initctl", argv.split_off(1));
    }
    if INITCTL_NAMES.contains(&base.as_str()) {
        let mut args = vec![base.clone()];
        args.extend(argv.split_off(1));
        return crate::initctl::main(&base, args);
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { manager, exit_idle } => {
            let settings = manager.settings();
            if exit_idle.is_some() && settings.scope == Scope::System {
                eprintln!(
                    "unitd: --exit-idle is for the user manager: a system manager owns the \
                     host's processes and boot state and must not come and go"
                );
                return ExitCode::from(2);
            }
            crate::runtime::serve_with(
                settings,
                crate::runtime::ServeOptions {
                    boot_target: None,
                    shutdown_timeout: std::time::Duration::from_secs(manager.shutdown_timeout),
                    exit_idle: exit_idle.map(std::time::Duration::from_secs),
                },
            )
        }
        Command::Init { mut manager, unit } => {
            if manager.user {
                eprintln!("unitd init: --user is not supported: init mode is the system manager");
                return ExitCode::from(2);
            }
            manager.system = true;
            let mut settings = manager.settings();
            settings.mark_booted = manager.mark_booted.unwrap_or(true);
            crate::runtime::serve_with(
                settings,
                crate::runtime::ServeOptions {
                    boot_target: Some(unit),
                    shutdown_timeout: std::time::Duration::from_secs(manager.shutdown_timeout),
                    exit_idle: None,
                },
            )
        }
        Command::Check { files } => crate::loader::check::check_command(&files),
        Command::Run { manager, unit } => crate::runtime::run_unit(manager.settings(), &unit),
        Command::Logs {
            manager,
            unit,
            follow,
            lines,
        } => crate::supervisor::logs::logs_command(&manager.settings(), &unit, follow, lines),
        Command::Demo => crate::demo::demo_command(),
        Command::Install(args) => crate::deploy::install_command(&args.options()),
        Command::Uninstall(args) => crate::deploy::uninstall_command(&args.options()),
        Command::Initctl { args } => crate::initctl::main("initctl", args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstart_p2p_addresses() {
        assert_eq!(
            parse_upstart_p2p("unix:abstract=/test/upstart"),
            Ok(UpstartP2p::Abstract("/test/upstart".into()))
        );
        assert_eq!(parse_upstart_p2p("none"), Ok(UpstartP2p::Off));
        for bad in [
            "",
            "unix:abstract=",
            "unix:path=/x",
            "/com/ubuntu/upstart",
            "unix:abstract=a,guid=1",
        ] {
            assert!(parse_upstart_p2p(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn init_defaults_and_options() {
        match Cli::try_parse_from(["unitd", "init"]).unwrap().command {
            Command::Init { manager, unit } => {
                assert_eq!(unit, "default.target");
                assert_eq!(manager.shutdown_timeout, 90);
            }
            _ => unreachable!(),
        }
        let argv = [
            "unitd",
            "init",
            "--unit",
            "rescue.target",
            "--shutdown-timeout",
            "5",
        ];
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Init { manager, unit } => {
                assert_eq!(unit, "rescue.target");
                assert_eq!(manager.shutdown_timeout, 5);
            }
            _ => unreachable!(),
        }
    }

    #[test]
    fn upstart_p2p_defaults_by_scope() {
        let args = |v: &[&str]| {
            let mut argv = vec!["unitd", "serve"];
            argv.extend_from_slice(v);
            match Cli::try_parse_from(argv).unwrap().command {
                Command::Serve { manager, .. } => manager.settings().upstart_p2p,
                _ => unreachable!(),
            }
        };
        assert_eq!(args(&["--system"]).as_deref(), Some("/com/ubuntu/upstart"));
        assert_eq!(args(&["--user"]), None);
        assert_eq!(
            args(&["--system", "--upstart-p2p", "unix:abstract=/t/u"]).as_deref(),
            Some("/t/u")
        );
        assert_eq!(args(&["--system", "--upstart-p2p", "none"]), None);
        assert_eq!(
            args(&["--user", "--upstart-p2p", "unix:abstract=/t/u"]).as_deref(),
            Some("/t/u")
        );
    }
}
