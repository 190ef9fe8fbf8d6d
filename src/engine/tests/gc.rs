//! Garbage collection (service-contract.md §6.5): what is removed, what is kept, and that ids
//! stay stable.

use super::*;

/// Pin the three base targets (as the runtime pins units with files / built-ins).
fn pinned(u: &Unit) -> bool {
    u.name().ends_with(".target")
}

fn gc(s: &mut Sim) -> Vec<String> {
    let t = s.t();
    let removed = s.e.collect_garbage(t, pinned);
    s.pump();
    removed
}

fn removed_signals(s: &Sim) -> Vec<String> {
    s.changes
        .iter()
        .filter_map(|c| match c {
            Change::UnitRemoved { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect()
}

fn oneshot(s: &mut Sim, name: &str) -> UnitId {
    s.add_service(name, &[], |sv| sv.service_type = ServiceType::Oneshot)
}

#[test]
fn inactive_unreferenced_units_are_removed_with_unit_removed() {
    let mut s = Sim::new();
    let id = oneshot(&mut s, "run-u1.service");
    let nf = s.insert(
        "nosuch.service",
        UnitSpec::default_for(&UnitName::new("nosuch.service").unwrap()),
        LoadState::NotFound,
    );
    let n_names = s.e.n_names();
    let removed = gc(&mut s);
    assert_eq!(removed, ["run-u1.service", "nosuch.service"]);
    assert_eq!(removed_signals(&s), removed);
    assert!(s.e.lookup("run-u1.service").is_none());
    assert!(s.e.try_unit(id).is_none() && s.e.try_unit(nf).is_none());
    assert_eq!(s.e.n_names(), n_names - 2);
    assert!(s.e.units().all(|u| u.name().ends_with(".target")));
    // The targets no longer list the removed unit as a dependent.
    let basic = s.e.unit(s.id("basic.target"));
    assert!(basic.dependency_names(&s.e, "RequiredBy").is_empty());
    // Nothing left to collect; a second pass removes nothing.
    assert!(gc(&mut s).is_empty());

    // The name comes back as a fresh record with a new id.
    let again = oneshot(&mut s, "run-u1.service");
    assert_ne!(again, id);
    assert!(s.changes.iter().any(|c| matches!(c,
        Change::UnitNew { unit, name } if *unit == again && name == "run-u1.service")));
    assert_eq!(s.state("run-u1.service"), ("inactive", "dead"));
    // The old id still answers (a tombstone), never the new unit.
    assert_eq!(s.e.unit(id).name(), "run-u1.service");
    assert_eq!(s.e.unit(id).loaded.load_state, LoadState::Stub);
}

#[test]
fn jobs_activity_and_references_keep_units() {
    let mut s = Sim::new();
    s.add_service("daemon.service", &[], |_| {});
    oneshot(&mut s, "task.service");
    s.start("daemon.service").unwrap();
    assert_eq!(s.state("daemon.service"), ("active", "running"));
    // A oneshot's start job waits for its process.
    s.start("task.service").unwrap();
    assert_eq!(s.state("task.service"), ("activating", "start"));
    s.e.add_refs(s.id("task.service"), 1);
    assert!(gc(&mut s).is_empty());

    let pid = s.last_spawn("task.service", ExecPhase::Start).unwrap().0;
    s.exit(pid, ExitStatus::Exited(0));
    assert_eq!(s.state("task.service"), ("inactive", "dead"));
    assert_eq!(s.svc("task.service").exec_main.code, 1);
    // The reference keeps the finished unit (and its results) readable.
    assert!(gc(&mut s).is_empty());
    assert_eq!(s.svc("task.service").exec_main.code, 1);
    s.e.add_refs(s.id("task.service"), -1);
    assert!(s.e.gc_pending());
    assert_eq!(gc(&mut s), ["task.service"]);

    // Stopping the daemon makes it collectable once it is dead.
    s.stop("daemon.service").unwrap();
    let main = s.main_pid("daemon.service");
    assert!(gc(&mut s).is_empty(), "deactivating units stay");
    s.exit(main, ExitStatus::Killed(SIGTERM));
    assert_eq!(gc(&mut s), ["daemon.service"]);
}

#[test]
fn failed_units_stay_unless_collect_mode_inactive_or_failed() {
    let mut s = Sim::new();
    oneshot(&mut s, "bad.service");
    let mut spec = UnitSpec::default_for(&UnitName::new("bad2.service").unwrap());
    spec.collect_inactive_or_failed = true;
    spec.kind = KindSpec::Service(Box::new(ServiceSpec {
        service_type: ServiceType::Oneshot,
        exec_start: vec![cmd("/bin/false")],
        exec: Arc::new(ExecContext::default()),
        ..ServiceSpec::default()
    }));
    s.insert("bad2.service", spec, LoadState::Loaded);
    for name in ["bad.service", "bad2.service"] {
        s.start(name).unwrap();
        let pid = s.last_spawn(name, ExecPhase::Start).unwrap().0;
        s.exit(pid, ExitStatus::Exited(1));
        assert_eq!(s.state(name).0, "failed");
    }
    assert_eq!(gc(&mut s), ["bad2.service"]);
    assert_eq!(s.state("bad.service").0, "failed");
    // reset-failed makes it inactive, and then collectable.
    let t = s.t();
    s.e.reset_failed(t, Some(s.id("bad.service")));
    s.pump();
    assert_eq!(gc(&mut s), ["bad.service"]);
}

#[test]
fn units_named_by_a_kept_unit_stay_loaded() {
    let mut s = Sim::new();
    // A pinned target names a missing unit and orders itself after a service: both stay, as
    // every dependency (ordering included) references the named unit.
    s.add_target(
        "app.target",
        &[
            (DepKind::Wants, "missing.service"),
            (DepKind::After, "ordered.service"),
        ],
    );
    s.add_service("ordered.service", &[], |_| {});
    // An unpinned unit only pointing *at* kept units is not kept by them.
    s.add_service("leaf.service", &[(DepKind::Wants, "app.target")], |_| {});
    // A chain hanging off a kept unit is kept transitively.
    s.add_service(
        "mid.service",
        &[(DepKind::Requires, "deep.service")],
        |_| {},
    );
    s.e.add_refs(s.id("mid.service"), 1);
    assert_eq!(gc(&mut s), ["leaf.service"]);
    for name in [
        "missing.service",
        "ordered.service",
        "mid.service",
        "deep.service",
    ] {
        assert!(s.e.lookup(name).is_some(), "{name} kept");
    }
    let app = s.e.unit(s.id("app.target"));
    assert!(app.dependency_names(&s.e, "WantedBy").is_empty());
    // Dropping the reference releases the whole chain.
    s.e.add_refs(s.id("mid.service"), -1);
    let mut removed = gc(&mut s);
    removed.sort();
    assert_eq!(removed, ["deep.service", "mid.service"]);
}
