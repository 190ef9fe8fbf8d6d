//! Per-unit log store (placeholder until the supervisor lands).
use crate::settings::Settings;
use std::process::ExitCode;
/// `unitd logs UNIT [-f] [-n N]`.
pub fn logs_command(
    settings: &Settings,
    unit: &str,
    follow: bool,
    lines: Option<usize>,
) -> ExitCode {
    let _ = (settings, unit, follow, lines);
    todo!()
}
