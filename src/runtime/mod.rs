//! The manager loop: owns the [`Engine`], the [`Loader`](crate::loader), the
//! [`Supervisor`](crate::supervisor) and the façades' connections, and moves data between them.
//! One task, one thread of control: incoming D-Bus calls, reaped children, timers and (later)
//! the notify socket are handled one at a time, so replies always precede the signals they cause.

pub mod manager;

pub use manager::Manager;

use std::process::ExitCode;

use crate::settings::Settings;

/// `unitd serve`: run the manager until SIGTERM/SIGINT.
pub fn serve(settings: Settings) -> ExitCode {
    let _ = settings;
    todo!("runtime::serve")
}

/// `unitd run UNIT`: start one unit in the foreground, without D-Bus.
pub fn run_unit(settings: Settings, unit: &str) -> ExitCode {
    let _ = (settings, unit);
    todo!("runtime::run_unit")
}
