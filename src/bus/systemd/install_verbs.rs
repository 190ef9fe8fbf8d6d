//! The Manager's install methods (`GetUnitFileState`, `ListUnitFiles*`, `EnableUnitFiles`,
//! `DisableUnitFiles`, `ReenableUnitFiles`, `MaskUnitFiles`, `UnmaskUnitFiles`,
//! `LinkUnitFiles`, `PresetUnitFiles*`, `GetUnitFileLinks`, `GetDefaultTarget`,
//! `SetDefaultTarget`): argument decoding and error
//! mapping only; the file-system work is [`crate::install`]'s.

use zbus::Message;

use crate::install::{InstallChange, InstallError};
use crate::runtime::Manager;

use super::SystemdFacade;
use super::dispatch::Call;
use super::errors::{CallError, CallResult, FAILED, INVALID_ARGS, NO_SUCH_UNIT};
use super::unit_file_state::Presets;

/// `org.freedesktop.systemd1.UnitMasked`.
const UNIT_MASKED: &str = "org.freedesktop.systemd1.UnitMasked";
/// `org.freedesktop.DBus.Error.FileExists`.
const FILE_EXISTS: &str = "org.freedesktop.DBus.Error.FileExists";
/// `org.freedesktop.DBus.Error.FileNotFound`.
const FILE_NOT_FOUND: &str = "org.freedesktop.DBus.Error.FileNotFound";

/// Whether `member` is one of the install methods.
pub fn is_install_method(member: &str) -> bool {
    matches!(
        member,
        "ListUnitFiles"
            | "ListUnitFilesByPatterns"
            | "GetUnitFileState"
            | "EnableUnitFiles"
            | "DisableUnitFiles"
            | "ReenableUnitFiles"
            | "LinkUnitFiles"
            | "PresetUnitFiles"
            | "PresetUnitFilesWithMode"
            | "MaskUnitFiles"
            | "UnmaskUnitFiles"
            | "GetUnitFileLinks"
            | "GetDefaultTarget"
            | "SetDefaultTarget"
    )
}

fn error(e: InstallError) -> CallError {
    let name = match &e {
        InstallError::InvalidName(_) => INVALID_ARGS,
        InstallError::NotFound(_) => NO_SUCH_UNIT,
        InstallError::Masked(_) => UNIT_MASKED,
        InstallError::Exists { .. } => FILE_EXISTS,
        InstallError::Io { .. } => FAILED,
    };
    CallError::new(name, e.message())
}

type ChangeTuple = (String, String, String);

fn tuples(changes: Vec<InstallChange>) -> Vec<ChangeTuple> {
    changes
        .into_iter()
        .map(|c| (c.kind.to_owned(), c.path, c.source))
        .collect()
}

/// Run an install method (signature already checked).
pub(crate) fn handle(
    f: &mut SystemdFacade,
    mgr: &mut Manager,
    call: &Call<'_>,
) -> CallResult<Message> {
    let inst = mgr.installer();
    let member = call.member.as_str();
    let (reply, changed) = match member {
        "ListUnitFiles" => (call.reply(&(inst.list(&[], &[]),))?, false),
        "ListUnitFilesByPatterns" => {
            let (states, patterns): (Vec<String>, Vec<String>) = call.args()?;
            (call.reply(&(inst.list(&states, &patterns),))?, false)
        }
        "GetUnitFileState" => {
            let name: String = call.args()?;
            let state = inst
                .state(&name)
                .map_err(error)?
                .ok_or_else(|| CallError::new(FILE_NOT_FOUND, "No such file or directory"))?;
            (call.reply(&state)?, false)
        }
        "GetUnitFileLinks" => {
            let (name, runtime): (String, bool) = call.args()?;
            (
                call.reply(&(inst.links(&name, runtime).map_err(error)?,))?,
                false,
            )
        }
        "GetDefaultTarget" => {
            // systemd answers from errno here: ENOENT and ERFKILL, not the install errors.
            let name = inst
                .default_target()
                .map_err(|e| match e {
                    InstallError::Masked(_) => CallError::new(UNIT_MASKED, "Unit file is masked."),
                    other => error(other),
                })?
                .ok_or_else(|| CallError::new(FILE_NOT_FOUND, "No such file or directory"))?;
            (call.reply(&name)?, false)
        }
        "SetDefaultTarget" => {
            let (name, force): (String, bool) = call.args()?;
            let changes = inst.set_default(&name, force).map_err(error)?;
            let any = !changes.is_empty();
            (call.reply(&(tuples(changes),))?, any)
        }
        "EnableUnitFiles" | "ReenableUnitFiles" => {
            let (files, runtime, force): (Vec<String>, bool, bool) = call.args()?;
            let (carries, changes) = if member == "EnableUnitFiles" {
                inst.enable(&files, runtime, force)
            } else {
                inst.reenable(&files, runtime, force)
            }
            .map_err(error)?;
            let any = !changes.is_empty();
            (call.reply(&(carries, tuples(changes)))?, any)
        }
        "PresetUnitFiles" | "PresetUnitFilesWithMode" => {
            let (files, mode, runtime, force) = if member == "PresetUnitFiles" {
                let (files, runtime, force): (Vec<String>, bool, bool) = call.args()?;
                (files, "full".to_owned(), runtime, force)
            } else {
                call.args::<(Vec<String>, String, bool, bool)>()?
            };
            if !matches!(mode.as_str(), "full" | "enable-only" | "disable-only" | "") {
                return Err(CallError::invalid_args(format!(
                    "Unknown preset mode: {mode}"
                )));
            }
            let presets = f.presets.get_or_init(|| Presets::load(mgr.settings()));
            let (carries, changes) = inst
                .preset(&files, &mode, runtime, force, |n| {
                    presets.query(n) == "enabled"
                })
                .map_err(error)?;
            let any = !changes.is_empty();
            (call.reply(&(carries, tuples(changes)))?, any)
        }
        "DisableUnitFiles" | "UnmaskUnitFiles" => {
            let (files, runtime): (Vec<String>, bool) = call.args()?;
            let changes = if member == "DisableUnitFiles" {
                inst.disable(&files, runtime)
            } else {
                inst.unmask(&files, runtime)
            }
            .map_err(error)?;
            let any = !changes.is_empty();
            (call.reply(&(tuples(changes),))?, any)
        }
        "MaskUnitFiles" | "LinkUnitFiles" => {
            let (files, runtime, force): (Vec<String>, bool, bool) = call.args()?;
            let changes = if member == "MaskUnitFiles" {
                inst.mask(&files, runtime, force)
            } else {
                inst.link(&files, runtime, force)
            }
            .map_err(error)?;
            let any = !changes.is_empty();
            (call.reply(&(tuples(changes),))?, any)
        }
        other => {
            return Err(CallError::unknown_method(other, super::manager::INTERFACE));
        }
    };
    if changed {
        f.unit_files_changed = true;
    }
    Ok(reply)
}
