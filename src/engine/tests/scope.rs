//! Scope units: adopting processes, ending with them, stopping with SIGTERM/SIGKILL.

use super::*;

fn add_scope(s: &mut Sim, name: &str, pids: Vec<u32>) -> UnitId {
    let spec = UnitSpec::default_for(&UnitName::new(name).unwrap());
    let id = s.insert(name, spec, LoadState::Loaded);
    s.e.set_scope_pids(id, pids);
    id
}

#[test]
fn scope_runs_while_its_processes_live() {
    let mut s = Sim::new();
    let id = add_scope(&mut s, "run-u1.scope", vec![5000, 5001]);
    let job = s.start("run-u1.scope").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("run-u1.scope"), ("active", "running"));
    assert_ne!(s.e.unit(id).invocation_id, [0; 16]);
    s.exit(5000, ExitStatus::Exited(0));
    assert_eq!(s.state("run-u1.scope"), ("active", "running"));
    s.exit(5001, ExitStatus::Exited(3));
    assert_eq!(s.state("run-u1.scope"), ("inactive", "dead"));
    assert_eq!(s.e.unit(id).scope.result, ServiceResult::Success);
    // A scope runs once.
    let again = s.start("run-u1.scope").unwrap();
    assert_eq!(s.job_result(again), Some(JobResult::Failed));
}

#[test]
fn scope_without_live_processes_fails_with_resources() {
    let mut s = Sim::new();
    let id = add_scope(&mut s, "empty.scope", vec![0]);
    let job = s.start("empty.scope").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Failed));
    assert_eq!(s.state("empty.scope"), ("failed", "failed"));
    assert_eq!(s.e.unit(id).scope.result, ServiceResult::Resources);
}

#[test]
fn stopping_a_scope_escalates_to_sigkill_then_gives_up() {
    let mut s = Sim::new();
    let id = add_scope(&mut s, "stubborn.scope", vec![6000]);
    s.start("stubborn.scope").unwrap();
    let stop = s.stop("stubborn.scope").unwrap();
    assert_eq!(s.state("stubborn.scope"), ("deactivating", "stop-sigterm"));
    assert!(
        s.kills.is_empty(),
        "the supervisor signals scope processes itself"
    );
    s.advance(90 * USEC_PER_SEC);
    assert_eq!(s.state("stubborn.scope"), ("deactivating", "stop-sigkill"));
    s.advance(90 * USEC_PER_SEC);
    assert_eq!(s.state("stubborn.scope"), ("failed", "failed"));
    assert_eq!(s.e.unit(id).scope.result, ServiceResult::Timeout);
    assert_eq!(s.job_result(stop), Some(JobResult::Done));

    // A process that ends on SIGTERM ends the scope cleanly.
    add_scope(&mut s, "polite.scope", vec![6001]);
    s.start("polite.scope").unwrap();
    let stop = s.stop("polite.scope").unwrap();
    s.exit(6001, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.state("polite.scope"), ("inactive", "dead"));
    assert_eq!(s.job_result(stop), Some(JobResult::Done));
}

#[test]
fn an_abandoned_scope_lives_until_its_processes_are_gone() {
    let mut s = Sim::new();
    let id = add_scope(&mut s, "left.scope", vec![7000, 7001]);
    // Not running yet: nothing to abandon.
    assert!(!s.e.abandon_scope(id));
    s.start("left.scope").unwrap();
    assert!(s.e.abandon_scope(id));
    assert_eq!(s.state("left.scope"), ("active", "abandoned"));
    assert!(s.kills.is_empty(), "abandoning signals nothing");
    // Again is fine.
    assert!(s.e.abandon_scope(id));
    s.exit(7000, ExitStatus::Exited(0));
    assert_eq!(s.state("left.scope"), ("active", "abandoned"));
    s.exit(7001, ExitStatus::Exited(0));
    assert_eq!(s.state("left.scope"), ("inactive", "dead"));
    assert!(!s.e.abandon_scope(id));

    // An abandoned scope can still be stopped.
    let id = add_scope(&mut s, "drop.scope", vec![7002]);
    s.start("drop.scope").unwrap();
    assert!(s.e.abandon_scope(id));
    s.stop("drop.scope").unwrap();
    assert_eq!(s.state("drop.scope"), ("deactivating", "stop-sigterm"));
    s.exit(7002, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.state("drop.scope"), ("inactive", "dead"));
}

#[test]
fn a_slice_is_active_without_processes() {
    let mut s = Sim::new();
    let spec = UnitSpec::default_for(&UnitName::new("work.slice").unwrap());
    s.insert("work.slice", spec, LoadState::Loaded);
    let job = s.start("work.slice").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("work.slice"), ("active", "active"));
    s.stop("work.slice").unwrap();
    assert_eq!(s.state("work.slice"), ("inactive", "dead"));
}
