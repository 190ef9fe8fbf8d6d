//! `unitd demo` (placeholder until the harness lands).
use std::process::ExitCode;
/// `unitd demo`.
pub fn demo_command() -> ExitCode { todo!() }
