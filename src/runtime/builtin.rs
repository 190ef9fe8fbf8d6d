//! Built-in units: the standard targets systemd ships (basic.target, default.target,
//! shutdown.target, …), used only when the search path has no file of that name — e.g. under
//! `--unit-path` or in a container without Debian's systemd package. Without them every
//! service's default dependencies (`Requires=basic.target`, `Conflicts=shutdown.target`) would
//! point at missing units. Their settings mirror systemd 252's own unit files.

use crate::settings::Scope;
use crate::spec::{DepKind, KindSpec, LoadState, LoadedUnit, UnitName, UnitSpec};

/// (name, description, dependencies, DefaultDependencies=, RefuseManualStart=, AllowIsolate=)
type Builtin = (
    &'static str,
    &'static str,
    &'static [(DepKind, &'static str)],
    bool,
    bool,
    bool,
);

const USER: &[Builtin] = &[
    (
        "basic.target",
        "Basic System",
        &[
            (DepKind::Wants, "sockets.target"),
            (DepKind::Wants, "timers.target"),
            (DepKind::Wants, "paths.target"),
            (DepKind::After, "sockets.target"),
            (DepKind::After, "timers.target"),
            (DepKind::After, "paths.target"),
        ],
        true,
        true,
        false,
    ),
    (
        "default.target",
        "Main User Target",
        &[
            (DepKind::Requires, "basic.target"),
            (DepKind::After, "basic.target"),
        ],
        true,
        false,
        true,
    ),
    ("shutdown.target", "Shutdown", &[], false, true, false),
    (
        "exit.target",
        "Exit the Session",
        &[
            (DepKind::Requires, "shutdown.target"),
            (DepKind::After, "shutdown.target"),
        ],
        false,
        false,
        true,
    ),
    ("sockets.target", "Sockets", &[], true, false, false),
    ("timers.target", "Timers", &[], true, false, false),
    ("paths.target", "Paths", &[], true, false, false),
];

/// What the system's shutdown targets pull in: starting one stops every unit with default
/// dependencies (they conflict with `shutdown.target`), in reverse order; the manager then
/// exits (see `Manager::shutdown_requested`).
const SHUTDOWN_DEPS: &[(DepKind, &str)] = &[
    (DepKind::Requires, "shutdown.target"),
    (DepKind::After, "shutdown.target"),
];

const SYSTEM: &[Builtin] = &[
    (
        "sysinit.target",
        "System Initialization",
        &[
            (DepKind::Wants, "local-fs.target"),
            (DepKind::After, "local-fs.target"),
        ],
        false,
        false,
        false,
    ),
    (
        "basic.target",
        "Basic System",
        &[
            (DepKind::Requires, "sysinit.target"),
            (DepKind::Wants, "sockets.target"),
            (DepKind::Wants, "timers.target"),
            (DepKind::Wants, "paths.target"),
            (DepKind::After, "sysinit.target"),
            (DepKind::After, "sockets.target"),
            (DepKind::After, "timers.target"),
            (DepKind::After, "paths.target"),
        ],
        true,
        false,
        false,
    ),
    (
        "multi-user.target",
        "Multi-User System",
        &[
            (DepKind::Requires, "basic.target"),
            (DepKind::After, "basic.target"),
        ],
        true,
        false,
        true,
    ),
    (
        "default.target",
        "Multi-User System",
        &[
            (DepKind::Requires, "multi-user.target"),
            (DepKind::After, "multi-user.target"),
        ],
        true,
        false,
        true,
    ),
    (
        "shutdown.target",
        "System Shutdown",
        &[],
        false,
        true,
        false,
    ),
    (
        "poweroff.target",
        "System Power Off",
        SHUTDOWN_DEPS,
        false,
        false,
        true,
    ),
    (
        "halt.target",
        "System Halt",
        SHUTDOWN_DEPS,
        false,
        false,
        true,
    ),
    (
        "reboot.target",
        "System Reboot",
        SHUTDOWN_DEPS,
        false,
        false,
        true,
    ),
    (
        "kexec.target",
        "Reboot via kexec",
        SHUTDOWN_DEPS,
        false,
        false,
        true,
    ),
    (
        "exit.target",
        "Exit the container",
        SHUTDOWN_DEPS,
        false,
        false,
        true,
    ),
    (
        "local-fs.target",
        "Local File Systems",
        &[],
        false,
        false,
        false,
    ),
    ("sockets.target", "Sockets", &[], true, false, false),
    ("timers.target", "Timers", &[], true, false, false),
    ("paths.target", "Path Units", &[], true, false, false),
    ("network.target", "Network", &[], true, false, false),
    (
        "network-online.target",
        "Network is Online",
        &[],
        true,
        false,
        false,
    ),
    (
        "nss-lookup.target",
        "Host and Network Name Lookups",
        &[],
        true,
        false,
        false,
    ),
    (
        "time-sync.target",
        "System Time Synchronized",
        &[],
        true,
        false,
        false,
    ),
    (
        "remote-fs.target",
        "Remote File Systems",
        &[],
        true,
        false,
        false,
    ),
];

/// The slices systemd 252 ships for each scope (name, description). Any slice name loads (a
/// slice needs no file); these get systemd's descriptions and, like its unit files,
/// `DefaultDependencies=no`.
const SLICES: &[(Scope, &str, &str)] = &[
    (Scope::System, "-.slice", "Root Slice"),
    (Scope::System, "system.slice", "System Slice"),
    (Scope::System, "user.slice", "User and Session Slice"),
    (
        Scope::System,
        "machine.slice",
        "Virtual Machine and Container Slice",
    ),
    (Scope::User, "-.slice", "Root Slice"),
    (Scope::User, "app.slice", "User Application Slice"),
    (
        Scope::User,
        "background.slice",
        "User Background Tasks Slice",
    ),
    (Scope::User, "session.slice", "User Core Session Slice"),
];

/// Give a file-less slice unit systemd's description of its built-in slice `loaded.name`.
pub fn apply_slice_defaults(loaded: &mut LoadedUnit, scope: Scope) {
    if loaded.fragment_path.is_some() || loaded.load_state != LoadState::Loaded {
        return;
    }
    if let Some(&(_, _, description)) = SLICES
        .iter()
        .find(|(s, n, _)| *s == scope && *n == loaded.name)
    {
        if loaded.spec.description.is_empty() {
            loaded.spec.description = description.to_owned();
        }
        loaded.spec.default_dependencies = false;
    }
}

/// The slice systemd places a unit in when it has no `Slice=` (`unit_set_default_slice`):
/// template instances in a per-template slice (`system-<prefix>.slice`, `app-<prefix>.slice`
/// in user scope), everything else in `system.slice` (`app.slice` in user scope). Slices
/// themselves are in their parent slice (empty for `-.slice`).
pub fn default_slice(name: &str, scope: Scope) -> String {
    let Ok(n) = UnitName::new(name) else {
        return String::new();
    };
    if n.unit_type() == crate::spec::UnitType::Slice {
        if name == "-.slice" {
            return String::new();
        }
        return match n.stem().rsplit_once('-') {
            Some((parent, _)) => format!("{parent}.slice"),
            None => "-.slice".to_owned(),
        };
    }
    let base = match scope {
        Scope::System => "system",
        Scope::User => "app",
    };
    match n.instance() {
        Some(_) => {
            let prefix = n.prefix().replace('-', "\\x2d");
            format!("{base}-{prefix}.slice")
        }
        None => format!("{base}.slice"),
    }
}

/// The built-in unit `name` for `scope`, if there is one.
pub fn load(name: &str, scope: Scope) -> Option<LoadedUnit> {
    let table = match scope {
        Scope::User => USER,
        Scope::System => SYSTEM,
    };
    let &(n, description, deps, default_deps, refuse_start, isolate) =
        table.iter().find(|b| b.0 == name)?;
    let unit_name = UnitName::new(n).ok()?;
    let mut spec = UnitSpec::default_for(&unit_name);
    spec.description = description.to_owned();
    spec.deps = deps.iter().map(|(k, d)| (*k, (*d).to_owned())).collect();
    spec.default_dependencies = default_deps;
    spec.refuse_manual_start = refuse_start;
    spec.allow_isolate = isolate;
    spec.kind = KindSpec::Target;
    Some(LoadedUnit {
        name: n.to_owned(),
        aliases: Vec::new(),
        load_state: LoadState::Loaded,
        load_error: None,
        fragment_path: None,
        dropin_paths: Vec::new(),
        diagnostics: Vec::new(),
        spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_valid_targets() {
        for scope in [Scope::User, Scope::System] {
            let table = if scope == Scope::User { USER } else { SYSTEM };
            for b in table {
                let u = load(b.0, scope).expect("loads");
                assert!(matches!(u.spec.kind, KindSpec::Target), "{}", b.0);
                for (_, d) in &u.spec.deps {
                    assert!(load(d, scope).is_some(), "{} references unknown {d}", b.0);
                }
            }
        }
        assert!(load("nope.target", Scope::User).is_none());
    }
}
