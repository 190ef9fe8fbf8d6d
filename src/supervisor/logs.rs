//! Per-unit log store (placeholder until the supervisor lands).
use std::process::ExitCode;
use crate::settings::Settings;
/// `unitd logs UNIT [-f] [-n N]`.
pub fn logs_command(settings: &Settings, unit: &str, follow: bool, lines: Option<usize>) -> ExitCode { let _ = (settings, unit, follow, lines); todo!() }
