//! Default dependencies as systemd 252 adds them (per unit type, and a target's ordering after
//! the units it pulls in, which needs both sides loaded), and start jobs of unit types unitd
//! does not run: their conditions are evaluated first, then the job ends `unsupported`.

use super::*;
use crate::spec::{Condition, RawSection};

/// A unit of a type the engine has no runtime for (`KindSpec::Other`), with raw settings and
/// `conditions`.
fn add_other(
    s: &mut Sim,
    name: &str,
    deps: &[(DepKind, &str)],
    settings: &[(&str, &str)],
    default_deps: bool,
    conditions: Vec<Condition>,
) -> UnitId {
    let mut spec = UnitSpec::default_for(&UnitName::new(name).unwrap());
    spec.deps = deps.iter().map(|(k, n)| (*k, n.to_string())).collect();
    spec.kind = KindSpec::Other(RawSection {
        entries: settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    });
    spec.default_dependencies = default_deps;
    spec.conditions = conditions;
    s.insert(name, spec, LoadState::Loaded)
}

fn path_exists(path: &str) -> Condition {
    Condition {
        kind: "PathExists".into(),
        trigger: false,
        negate: false,
        parameter: path.into(),
    }
}

fn deps_of(s: &Sim, name: &str, property: &str) -> Vec<String> {
    s.e.unit(s.id(name))
        .dependency_names(&s.e, property)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

fn has(list: &[String], name: &str) -> bool {
    list.iter().any(|n| n == name)
}

fn add_target_with(s: &mut Sim, name: &str, deps: &[(DepKind, &str)], default_deps: bool) {
    let mut spec = UnitSpec::default_for(&UnitName::new(name).unwrap());
    spec.deps = deps.iter().map(|(k, n)| (*k, n.to_string())).collect();
    spec.default_dependencies = default_deps;
    s.insert(name, spec, LoadState::Loaded);
}

fn add_service_with(s: &mut Sim, name: &str, deps: &[(DepKind, &str)], default_deps: bool) {
    let mut spec = UnitSpec::default_for(&UnitName::new(name).unwrap());
    spec.deps = deps.iter().map(|(k, n)| (*k, n.to_string())).collect();
    spec.default_dependencies = default_deps;
    spec.kind = KindSpec::Service(Box::new(ServiceSpec {
        exec_start: vec![cmd("/bin/daemon")],
        exec: Arc::new(ExecContext::default()),
        ..ServiceSpec::default()
    }));
    s.insert(name, spec, LoadState::Loaded);
}

/// A target is ordered after a unit it wants only when both have default dependencies — also
/// when the unit is loaded after the target (the target saw only a stub then) — and never
/// against an ordering the unit states itself (Debian's `sysinit.target.wants/` holds
/// `systemd-pcrphase-sysinit.service`, `DefaultDependencies=no`, `After=sysinit.target`;
/// `rescue.target.wants/` holds `systemd-update-utmp-runlevel.service`,
/// `DefaultDependencies=no`, which `graphical.target` follows through `rescue.target`).
#[test]
fn targets_are_ordered_after_wanted_units_with_default_dependencies_only() {
    let mut s = Sim::with_scope(false);
    add_target_with(
        &mut s,
        "early.target",
        &[
            (DepKind::Wants, "nodefault.service"),
            (DepKind::Wants, "plain.service"),
            (DepKind::Wants, "after-target.service"),
            (DepKind::Requires, "late-default.service"),
        ],
        true,
    );
    // Loaded after the target, which saw stubs.
    add_service_with(
        &mut s,
        "nodefault.service",
        &[(DepKind::After, "early.target")],
        false,
    );
    add_service_with(&mut s, "plain.service", &[], true);
    add_service_with(
        &mut s,
        "after-target.service",
        &[(DepKind::After, "early.target")],
        true,
    );
    add_service_with(&mut s, "late-default.service", &[], true);
    let after = deps_of(&s, "early.target", "After");
    assert!(!has(&after, "nodefault.service"), "{after:?}");
    assert!(has(&after, "plain.service"), "{after:?}");
    assert!(!has(&after, "after-target.service"), "{after:?}");
    assert!(has(&after, "late-default.service"), "{after:?}");

    // Loaded before the target: the target's own load adds the ordering.
    add_service_with(&mut s, "first.service", &[], true);
    add_service_with(&mut s, "first-nodefault.service", &[], false);
    add_target_with(
        &mut s,
        "second.target",
        &[
            (DepKind::Wants, "first.service"),
            (DepKind::Wants, "first-nodefault.service"),
        ],
        true,
    );
    let after = deps_of(&s, "second.target", "After");
    assert!(has(&after, "first.service"), "{after:?}");
    assert!(!has(&after, "first-nodefault.service"), "{after:?}");

    // A target without default dependencies gets no implicit ordering.
    add_target_with(
        &mut s,
        "bare.target",
        &[(DepKind::Wants, "plain.service")],
        false,
    );
    assert!(!has(&deps_of(&s, "bare.target", "After"), "plain.service"));

    // Starting the target with the self-ordered unit is no ordering cycle: both run.
    let job = s.start("early.target").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("nodefault.service").0, "active");
    assert_eq!(s.state("after-target.service").0, "active");
}

/// Services, sockets, targets, slices and scopes: systemd 252's default dependencies in the
/// system manager.
#[test]
fn default_dependencies_of_services_sockets_targets_slices_scopes() {
    let mut s = Sim::with_scope(false);
    add_service_with(&mut s, "d.service", &[], true);
    let req = deps_of(&s, "d.service", "Requires");
    let after = deps_of(&s, "d.service", "After");
    let before = deps_of(&s, "d.service", "Before");
    let conflicts = deps_of(&s, "d.service", "Conflicts");
    assert_eq!(req, ["sysinit.target"]);
    assert!(has(&after, "sysinit.target") && has(&after, "basic.target"));
    assert!(
        !has(&req, "basic.target"),
        "basic.target is ordered, not required"
    );
    assert_eq!(before, ["shutdown.target"]);
    assert_eq!(conflicts, ["shutdown.target"]);

    add_target_with(&mut s, "t.target", &[], true);
    assert_eq!(deps_of(&s, "t.target", "Conflicts"), ["shutdown.target"]);
    assert_eq!(deps_of(&s, "t.target", "Before"), ["shutdown.target"]);
    assert!(deps_of(&s, "shutdown.target", "Conflicts").is_empty());

    let slice = UnitSpec::default_for(&UnitName::new("x.slice").unwrap());
    s.insert("x.slice", slice, LoadState::Loaded);
    assert_eq!(deps_of(&s, "x.slice", "Conflicts"), ["shutdown.target"]);
    let scope = UnitSpec::default_for(&UnitName::new("run-1.scope").unwrap());
    s.insert("run-1.scope", scope, LoadState::Loaded);
    assert_eq!(deps_of(&s, "run-1.scope", "Conflicts"), ["shutdown.target"]);
    assert_eq!(deps_of(&s, "run-1.scope", "Before"), ["shutdown.target"]);

    // The user manager has no sysinit.target: services require basic.target instead.
    let mut u = Sim::with_scope(true);
    add_service_with(&mut u, "d.service", &[], true);
    assert_eq!(deps_of(&u, "d.service", "Requires"), ["basic.target"]);
    assert!(!has(&deps_of(&u, "d.service", "After"), "sysinit.target"));
}

/// Path and automount units (which unitd loads but does not run) get systemd's default
/// dependencies, so the boot graph is ordered as under systemd (mounts: `tests/mount.rs`).
#[test]
fn default_dependencies_of_paths_automounts() {
    let mut s = Sim::with_scope(false);
    add_other(&mut s, "p.path", &[], &[], true, vec![]);
    assert_eq!(deps_of(&s, "p.path", "Requires"), ["sysinit.target"]);
    let before = deps_of(&s, "p.path", "Before");
    assert!(has(&before, "paths.target") && has(&before, "shutdown.target"));
    assert!(has(&deps_of(&s, "p.path", "After"), "sysinit.target"));

    add_other(&mut s, "proc-x.automount", &[], &[], true, vec![]);
    let before = deps_of(&s, "proc-x.automount", "Before");
    assert!(has(&before, "local-fs.target") && has(&before, "umount.target"));
}

/// A unit of a type unitd does not run: an unmet condition skips it (job `done`, as for any
/// unit); with its conditions met the job ends `unsupported` and the unit stays inactive —
/// not failed, so it never counts as a failed unit. A target that only wants it is reached;
/// one that requires it fails with `dependency`, as under systemd.
#[test]
fn unsupported_types_check_conditions_first_and_never_pretend_to_run() {
    let mut s = Sim::with_scope(false);
    add_other(
        &mut s,
        "skipped.path",
        &[],
        &[],
        false,
        vec![path_exists("/nonexistent")],
    );
    add_other(
        &mut s,
        "runnable.path",
        &[],
        &[],
        false,
        vec![path_exists("/exists")],
    );
    let job = s.start("skipped.path").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    let u = s.e.unit(s.id("skipped.path"));
    assert!(!u.condition_result);
    assert_eq!(u.condition_states, vec![-1]);
    assert_eq!(s.state("skipped.path"), ("inactive", "dead"));

    let job = s.start("runnable.path").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Unsupported));
    assert!(s.e.unit(s.id("runnable.path")).condition_result);
    assert_eq!(s.state("runnable.path"), ("inactive", "dead"));
    assert_eq!(s.e.n_failed_units(), 0);

    add_target_with(
        &mut s,
        "wants.target",
        &[
            (DepKind::Wants, "runnable.path"),
            (DepKind::Wants, "skipped.path"),
        ],
        true,
    );
    let job = s.start("wants.target").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("wants.target"), ("active", "active"));

    add_target_with(
        &mut s,
        "requires.target",
        &[
            (DepKind::Requires, "runnable.path"),
            (DepKind::After, "runnable.path"),
        ],
        true,
    );
    let job = s.start("requires.target").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Dependency));
    assert_eq!(s.state("requires.target"), ("inactive", "dead"));
    assert_eq!(s.e.n_failed_units(), 0);
}

/// `Type=dbus` (systemd-logind.service, in Debian's `multi-user.target`): the start job waits
/// for the `BusName=` to get an owner; the service stops when the name is released.
#[test]
fn type_dbus_is_ready_when_its_bus_name_is_owned() {
    let mut s = Sim::with_scope(false);
    s.add_service("login.service", &[], |svc| {
        svc.service_type = ServiceType::Dbus;
        svc.bus_name = Some("org.example.Login".into());
    });
    let job = s.start("login.service").unwrap();
    assert_eq!(s.state("login.service"), ("activating", "start"));
    assert_eq!(s.job_result(job), None);
    // Another name changing hands means nothing to it.
    let t = s.t();
    s.e.handle_input(
        t,
        Input::BusNameOwner {
            name: "org.example.Other".into(),
            owned: true,
        },
    );
    s.pump();
    assert_eq!(s.state("login.service"), ("activating", "start"));
    s.e.handle_input(
        t,
        Input::BusNameOwner {
            name: "org.example.Login".into(),
            owned: true,
        },
    );
    s.pump();
    assert_eq!(s.state("login.service"), ("active", "running"));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    // Releasing the name stops it (SIGTERM to the main process), not as a failure.
    let pid = s.main_pid("login.service");
    s.e.handle_input(
        t,
        Input::BusNameOwner {
            name: "org.example.Login".into(),
            owned: false,
        },
    );
    s.pump();
    assert_eq!(s.state("login.service"), ("deactivating", "stop-sigterm"));
    assert!(s.kills.contains(&(pid, SIGTERM)), "{:?}", s.kills);
    s.exit(pid, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.state("login.service"), ("inactive", "dead"));
}

/// A socket with no `Listen*=` unitd can open: its conditions decide first (skipped, as
/// `systemd-journald-audit.socket` is in a container without `CAP_AUDIT_READ`), else the start
/// is `unsupported` and the socket stays inactive, not failed.
#[test]
fn socket_without_openable_listeners_is_unsupported_after_its_conditions() {
    let mut s = Sim::with_scope(false);
    for (name, parameter) in [("skip.socket", "/nonexistent"), ("run.socket", "/exists")] {
        let mut spec = UnitSpec::default_for(&UnitName::new(name).unwrap());
        spec.default_dependencies = false;
        spec.conditions = vec![path_exists(parameter)];
        spec.kind = KindSpec::Socket(Box::new(crate::spec::SocketSpec {
            unsupported_listen: vec!["ListenNetlink=audit 1".into()],
            ..Default::default()
        }));
        s.insert(name, spec, LoadState::Loaded);
    }
    let job = s.start("skip.socket").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert!(!s.e.unit(s.id("skip.socket")).condition_result);
    let job = s.start("run.socket").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Unsupported));
    assert_eq!(s.state("run.socket").0, "inactive");
    assert!(s.socket_ops.is_empty(), "{:?}", s.socket_ops);
    assert_eq!(s.e.n_failed_units(), 0);
}

/// System services that log to the journal (the default) start after
/// `systemd-journald.socket`, `DefaultDependencies=no` or not; `StandardOutput=null` ones and
/// user services do not.
#[test]
fn journal_logging_services_start_after_the_journal_socket() {
    let mut s = Sim::with_scope(false);
    add_service_with(&mut s, "early.service", &[], false);
    assert!(has(
        &deps_of(&s, "early.service", "After"),
        "systemd-journald.socket"
    ));
    s.add_service("quiet.service", &[], |svc| {
        let mut c = (*svc.exec).clone();
        c.stdout = crate::spec::StdOutput::Null;
        c.stderr = crate::spec::StdOutput::Null;
        svc.exec = Arc::new(c);
    });
    assert!(!has(
        &deps_of(&s, "quiet.service", "After"),
        "systemd-journald.socket"
    ));
    let mut u = Sim::with_scope(true);
    add_service_with(&mut u, "user.service", &[], true);
    assert!(!has(
        &deps_of(&u, "user.service", "After"),
        "systemd-journald.socket"
    ));
}
