//! `SetUnitProperties` (Manager) and `SetProperties` (Unit): change settings of a loaded unit
//! at runtime. Only what unitd honours is accepted — `Description`, which systemd 252 also
//! sets live on any unit; every other name (cgroup limits unitd cannot enforce, settings
//! systemd itself only takes for transient units being created) gets systemd's answer,
//! `PropertyReadOnly` "Cannot set property X, or unknown property.". Like systemd, every
//! property is checked before any is applied, and each applied one is written as a drop-in
//! (`50-<Property>.conf` under `system.control`/`user.control`, the runtime one for
//! `runtime` or transient units), so daemon-reload keeps it.

use zbus::{Message, OwnedVariant, Variant};

use crate::engine::UnitId;
use crate::runtime::Manager;

use super::dispatch::Call;
use super::errors::{CallError, CallResult, FAILED};
use super::transient::{get_str, plain, unknown};

/// One validated setting.
enum Setting {
    Description(String),
}

fn check(key: &str, value: &OwnedVariant) -> CallResult<Setting> {
    let v: &Variant<'_> = value;
    let v = match v {
        Variant::Variant(inner) => inner.as_ref(),
        other => other,
    };
    match key {
        "Description" => {
            let d = get_str(key, v)?;
            plain(key, &d)?;
            Ok(Setting::Description(d))
        }
        other => Err(unknown(other)),
    }
}

/// Check every property of `props`, then apply them all to `unit`.
pub(crate) fn set_properties(
    mgr: &mut Manager,
    unit: UnitId,
    runtime: bool,
    props: &[(String, OwnedVariant)],
    call: &Call<'_>,
) -> CallResult<Message> {
    mgr.engine().check_load_state(unit)?;
    let settings = props
        .iter()
        .map(|(k, v)| check(k, v))
        .collect::<CallResult<Vec<Setting>>>()?;
    for s in settings {
        let r = match s {
            Setting::Description(d) => {
                let line = format!("Description={}", plain("Description", &d)?);
                mgr.write_unit_setting(unit, runtime, "Description", "Unit", &line, |spec| {
                    spec.description = d
                })
            }
        };
        r.map_err(|e| CallError::new(FAILED, format!("Failed to write unit settings: {e}")))?;
    }
    call.reply_empty()
}
