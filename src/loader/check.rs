//! `unitd check` (placeholder until the loader lands).
use std::path::PathBuf;
use std::process::ExitCode;
/// `unitd check FILE...`.
pub fn check_command(files: &[PathBuf]) -> ExitCode { let _ = files; todo!() }
