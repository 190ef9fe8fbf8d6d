//! What a manager reports about the sandboxing settings of a loaded unit it cannot enforce
//! ([`crate::spec::sandbox::Sandbox::unenforced`]): the enforcer a manager is, and the texts
//! of the daemon-log line, the unit-log line and the `StatusText` note.
//!
//! Computed once per load by the manager and stored; the bus façade only reads the stored
//! note.

use crate::spec::sandbox::Enforcer;
use crate::spec::{KindSpec, LoadState, LoadedUnit, UnitSpec};

/// The enforcer a manager running as `uid` is: privileged iff root.
pub fn enforcer_for_uid(uid: u32) -> Enforcer {
    Enforcer {
        privileged: uid == 0,
    }
}

/// The sandboxing settings of `loaded` that `enforcer` cannot enforce (`Key=` names or
/// `Key=value` of unimplemented keys), in [`crate::spec::sandbox::Sandbox::unenforced`]'s
/// order. Empty for units that did not load or have no execution context.
pub fn unenforced_keys(loaded: &LoadedUnit, enforcer: Enforcer) -> Vec<String> {
    if loaded.load_state != LoadState::Loaded {
        return Vec::new();
    }
    spec_unenforced_keys(&loaded.spec, enforcer)
}

/// [`unenforced_keys`] of a unit's settings.
pub fn spec_unenforced_keys(spec: &UnitSpec, enforcer: Enforcer) -> Vec<String> {
    match &spec.kind {
        KindSpec::Service(s) => {
            let mut keys = s.exec.sandbox.unenforced(enforcer);
            // A [Unit] dependency, but a sandboxing promise: sharing /tmp and the network
            // and IPC namespaces with another unit is not implemented.
            if spec
                .deps
                .iter()
                .any(|(k, _)| *k == crate::spec::DepKind::JoinsNamespaceOf)
            {
                keys.push("JoinsNamespaceOf=".to_owned());
            }
            keys
        }
        _ => Vec::new(),
    }
}

/// The unit-file keys that feed the reported `item` (`ReadOnlyPaths=` ← `ReadOnlyPaths`,
/// `ReadOnlyDirectories`; `PrivateUsers=yes` ← `PrivateUsers`), for finding their lines.
pub fn source_keys(item: &str) -> Vec<&str> {
    let key = item.split_once('=').map_or(item, |(k, _)| k);
    match key {
        "ReadWritePaths" => vec![key, "ReadWriteDirectories"],
        "ReadOnlyPaths" => vec![key, "ReadOnlyDirectories"],
        "InaccessiblePaths" => vec![key, "InaccessibleDirectories"],
        "BindPaths" => vec![key, "BindReadOnlyPaths"],
        _ => vec![key],
    }
}

/// What is not enforced, stored per unit: the texts derived from one list of keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnenforcedNote {
    /// The keys, comma-separated (`PrivateUsers=yes, ProtectSystem=`).
    pub list: String,
    /// The service's `StatusText` while it has not set its own `STATUS=`
    /// (`unitd: not enforced: …`), which `systemctl status` shows as `Status: "…"`.
    pub status_text: String,
}

impl UnenforcedNote {
    /// The note for `keys`; `None` when everything is enforced.
    pub fn new(keys: &[String]) -> Option<UnenforcedNote> {
        (!keys.is_empty()).then(|| {
            let list = keys.join(", ");
            UnenforcedNote {
                status_text: format!("unitd: not enforced: {list}"),
                list,
            }
        })
    }

    /// The daemon-log warning (`foo.service: not enforced by this manager: …`).
    pub fn log_line(&self, unit: &str) -> String {
        format!("{unit}: {}", self.unit_log_line())
    }

    /// The line in the unit's own log (`not enforced by this manager: …`).
    pub fn unit_log_line(&self) -> String {
        format!("not enforced by this manager: {}", self.list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::sandbox::Sandbox;
    use crate::spec::{ExecContext, ServiceSpec, UnitName};
    use std::sync::Arc;

    fn service(sandbox: Sandbox, state: LoadState) -> LoadedUnit {
        let name = UnitName::new("foo.service").unwrap();
        let mut spec = UnitSpec::default_for(&name);
        spec.kind = KindSpec::Service(Box::new(ServiceSpec {
            exec: Arc::new(ExecContext {
                sandbox,
                ..ExecContext::default()
            }),
            ..ServiceSpec::default()
        }));
        LoadedUnit {
            name: "foo.service".into(),
            aliases: Vec::new(),
            load_state: state,
            load_error: None,
            fragment_path: None,
            dropin_paths: Vec::new(),
            diagnostics: Vec::new(),
            spec,
        }
    }

    #[test]
    fn joins_namespace_of_is_reported() {
        let mut loaded = service(Sandbox::default(), LoadState::Loaded);
        assert!(unenforced_keys(&loaded, enforcer_for_uid(0)).is_empty());
        loaded
            .spec
            .deps
            .push((crate::spec::DepKind::JoinsNamespaceOf, "bar.service".into()));
        assert_eq!(
            unenforced_keys(&loaded, enforcer_for_uid(0)),
            ["JoinsNamespaceOf="]
        );
    }

    #[test]
    fn notes_name_the_unit_and_every_key() {
        let sb = Sandbox {
            private_tmp: true,
            not_implemented: vec!["PrivateUsers=yes".into()],
            ..Sandbox::default()
        };
        let root = enforcer_for_uid(0);
        let user = enforcer_for_uid(1000);
        let loaded = service(sb.clone(), LoadState::Loaded);
        assert_eq!(unenforced_keys(&loaded, root), ["PrivateUsers=yes"]);
        let keys = unenforced_keys(&loaded, user);
        assert_eq!(keys, ["PrivateTmp=", "PrivateUsers=yes"]);
        let note = UnenforcedNote::new(&keys).unwrap();
        assert_eq!(
            note.log_line("foo.service"),
            "foo.service: not enforced by this manager: PrivateTmp=, PrivateUsers=yes"
        );
        assert_eq!(
            note.status_text,
            "unitd: not enforced: PrivateTmp=, PrivateUsers=yes"
        );
        assert!(UnenforcedNote::new(&[]).is_none());
        assert_eq!(
            source_keys("BindPaths="),
            ["BindPaths", "BindReadOnlyPaths"]
        );
        assert_eq!(source_keys("PrivateUsers=yes"), ["PrivateUsers"]);
        assert!(unenforced_keys(&service(sb, LoadState::BadSetting), user).is_empty());
    }
}
