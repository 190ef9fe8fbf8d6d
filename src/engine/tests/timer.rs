//! Timer units: monotonic and calendar elapses with time advanced by hand, the triggered
//! unit's start job, `running`/`waiting`/`elapsed`, stop disarming, `Persistent=` stamps.

use super::*;
use crate::spec::calendar::CalendarSpec;
use crate::spec::{TimerBase, TimerSpec};

fn add_timer(s: &mut Sim, name: &str, f: impl FnOnce(&mut TimerSpec)) -> UnitId {
    let n = UnitName::new(name).unwrap();
    let mut spec = UnitSpec::default_for(&n);
    let mut t = TimerSpec {
        unit: Some(format!("{}.service", n.stem())),
        ..TimerSpec::default()
    };
    f(&mut t);
    spec.deps
        .push((DepKind::Before, t.unit.clone().expect("unit")));
    spec.kind = KindSpec::Timer(Box::new(t));
    s.insert(name, spec, LoadState::Loaded)
}

fn add_job(s: &mut Sim, name: &str) -> UnitId {
    s.add_service(name, &[], |sv| {
        sv.service_type = ServiceType::Oneshot;
        sv.exec_start = vec![cmd("/bin/job")];
    })
}

fn timer(s: &Sim, name: &str) -> TimerRuntime {
    s.e.unit(s.id(name)).timer.clone()
}

/// Let the job's oneshot process finish successfully.
fn finish_job_process(s: &mut Sim, name: &str) {
    let (pid, _) = s.last_spawn(name, ExecPhase::Start).expect("spawned");
    s.exit(pid, ExitStatus::Exited(0));
}

fn spawns(s: &Sim, name: &str) -> usize {
    let id = s.id(name);
    s.procs.values().filter(|p| p.unit == id).count()
}

#[test]
fn on_active_sec_fires_once_then_elapsed() {
    let mut s = Sim::new();
    add_job(&mut s, "backup.service");
    add_timer(&mut s, "backup.timer", |t| {
        t.monotonic = vec![(TimerBase::Active, 10 * USEC_PER_SEC)];
    });
    let started = s.now;
    let job = s.start("backup.timer").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("backup.timer"), ("active", "waiting"));
    let t = timer(&s, "backup.timer");
    assert_eq!(t.next_elapse_monotonic, started + 10 * USEC_PER_SEC);
    assert_eq!(t.monotonic_next, [started + 10 * USEC_PER_SEC]);
    assert_eq!(s.e.next_deadline(), Some(started + 10 * USEC_PER_SEC));

    s.advance(9 * USEC_PER_SEC);
    assert_eq!(spawns(&s, "backup.service"), 0);
    s.advance(USEC_PER_SEC);
    assert_eq!(spawns(&s, "backup.service"), 1);
    assert_eq!(s.state("backup.timer"), ("active", "running"));
    assert_eq!(s.state("backup.service"), ("activating", "start"));
    let t = timer(&s, "backup.timer");
    assert_eq!(t.last_trigger.monotonic, started + 10 * USEC_PER_SEC);

    // The job ends: OnActiveSec= was one-time, nothing is left; RemainAfterElapse=yes.
    finish_job_process(&mut s, "backup.service");
    assert_eq!(s.state("backup.service"), ("inactive", "dead"));
    assert_eq!(s.state("backup.timer"), ("active", "elapsed"));
    assert_eq!(timer(&s, "backup.timer").next_elapse_monotonic, 0);
    s.advance(3600 * USEC_PER_SEC);
    assert_eq!(spawns(&s, "backup.service"), 1);
}

#[test]
fn on_unit_active_sec_repeats() {
    let mut s = Sim::new();
    add_job(&mut s, "poll.service");
    add_timer(&mut s, "poll.timer", |t| {
        t.monotonic = vec![
            (TimerBase::Active, USEC_PER_SEC),
            (TimerBase::UnitActive, 5 * USEC_PER_SEC),
        ];
        t.remain_after_elapse = false;
    });
    s.start("poll.timer").unwrap();
    for round in 1..=3 {
        let before = s.now;
        while spawns(&s, "poll.service") < round {
            s.advance(USEC_PER_SEC);
            assert!(
                s.now - before <= 6 * USEC_PER_SEC,
                "round {round} never fired"
            );
        }
        assert_eq!(s.state("poll.timer"), ("active", "running"));
        finish_job_process(&mut s, "poll.service");
        assert_eq!(s.state("poll.timer"), ("active", "waiting"));
    }
    // Service activations were 5 s apart after the first.
    let t = timer(&s, "poll.timer");
    assert_eq!(
        t.monotonic_next[0], USEC_INFINITY,
        "OnActiveSec= elapsed once"
    );
    assert!(t.monotonic_next[1] > s.now);
}

#[test]
fn on_calendar_elapses_on_the_wall_clock() {
    let mut s = Sim::new();
    add_job(&mut s, "tick.service");
    add_timer(&mut s, "tick.timer", |t| {
        t.calendar = vec![CalendarSpec::parse("*:*:00").unwrap()];
    });
    // Sim time: realtime = 1_700_000_000 s + monotonic; 2023-11-14 22:13:21 UTC at start.
    s.start("tick.timer").unwrap();
    let t = timer(&s, "tick.timer");
    assert_eq!(t.next_elapse_realtime, 1_700_000_040 * USEC_PER_SEC);
    assert_eq!(t.calendar_next, [1_700_000_040 * USEC_PER_SEC]);
    assert_eq!(t.next_elapse_monotonic, 0);
    assert_eq!(s.e.next_deadline(), Some(s.now + 39 * USEC_PER_SEC));
    s.advance(38 * USEC_PER_SEC);
    assert_eq!(spawns(&s, "tick.service"), 0);
    s.advance(USEC_PER_SEC);
    assert_eq!(spawns(&s, "tick.service"), 1);
    finish_job_process(&mut s, "tick.service");
    // Next minute, computed from the last trigger.
    assert_eq!(s.state("tick.timer"), ("active", "waiting"));
    assert_eq!(
        timer(&s, "tick.timer").next_elapse_realtime,
        1_700_000_100 * USEC_PER_SEC
    );
}

#[test]
fn stop_disarms() {
    let mut s = Sim::new();
    add_job(&mut s, "x.service");
    add_timer(&mut s, "x.timer", |t| {
        t.monotonic = vec![(TimerBase::Active, 2 * USEC_PER_SEC)];
    });
    s.start("x.timer").unwrap();
    assert!(s.e.next_deadline().is_some());
    let job = s.stop("x.timer").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("x.timer"), ("inactive", "dead"));
    assert_eq!(s.e.next_deadline(), None);
    s.advance(10 * USEC_PER_SEC);
    assert_eq!(spawns(&s, "x.service"), 0);
    // Starting again arms from the new activation.
    s.start("x.timer").unwrap();
    assert_eq!(s.e.next_deadline(), Some(s.now + 2 * USEC_PER_SEC));
}

#[test]
fn persistent_catches_up_a_missed_elapse() {
    let mut s = Sim::new();
    add_job(&mut s, "rotate.service");
    add_timer(&mut s, "rotate.timer", |t| {
        t.calendar = vec![CalendarSpec::parse("daily").unwrap()];
        t.persistent = true;
    });
    // Last run two days ago: the daily elapse since then was missed.
    let two_days_ago = s.t().realtime - 2 * 86_400 * USEC_PER_SEC;
    s.stamps.insert("rotate.timer".into(), two_days_ago);
    s.start("rotate.timer").unwrap();
    assert_eq!(s.state("rotate.timer"), ("active", "waiting"));
    s.advance(1);
    assert_eq!(spawns(&s, "rotate.service"), 1);
    assert_eq!(s.stamps["rotate.timer"], s.t().realtime);
    finish_job_process(&mut s, "rotate.service");
    // Then the next midnight.
    let next = timer(&s, "rotate.timer").next_elapse_realtime;
    assert_eq!(next % (86_400 * USEC_PER_SEC), 0);
    assert!(next > s.t().realtime);

    // A timer that never ran gets a stamp and waits for the next elapse.
    add_job(&mut s, "fresh.service");
    add_timer(&mut s, "fresh.timer", |t| {
        t.calendar = vec![CalendarSpec::parse("daily").unwrap()];
        t.persistent = true;
    });
    s.start("fresh.timer").unwrap();
    assert!(s.stamps.contains_key("fresh.timer"));
    s.advance(1);
    assert_eq!(spawns(&s, "fresh.service"), 0);
}

#[test]
fn remain_after_elapse_no_goes_dead() {
    let mut s = Sim::new();
    add_job(&mut s, "once.service");
    add_timer(&mut s, "once.timer", |t| {
        t.monotonic = vec![(TimerBase::Active, USEC_PER_SEC)];
        t.remain_after_elapse = false;
    });
    s.start("once.timer").unwrap();
    s.advance(USEC_PER_SEC);
    finish_job_process(&mut s, "once.service");
    assert_eq!(s.state("once.timer"), ("inactive", "dead"));
}

#[test]
fn trigger_unit_must_be_loaded() {
    let mut s = Sim::new();
    add_timer(&mut s, "orphan.timer", |t| {
        t.monotonic = vec![(TimerBase::Active, USEC_PER_SEC)];
    });
    let job = s.start("orphan.timer").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Failed));
    assert_eq!(s.state("orphan.timer"), ("inactive", "dead"));
}

#[test]
fn a_skipped_start_returns_to_waiting() {
    let mut s = Sim::new();
    let id = add_job(&mut s, "cond.service");
    let mut loaded = s.e.unit(id).loaded.clone();
    loaded.spec.conditions = vec![crate::spec::Condition {
        kind: "PathExists".into(),
        trigger: false,
        negate: false,
        parameter: "/missing".into(),
    }];
    let t = s.t();
    s.e.insert(t, "cond.service", loaded);
    add_timer(&mut s, "cond.timer", |t| {
        t.monotonic = vec![
            (TimerBase::Active, USEC_PER_SEC),
            (TimerBase::UnitInactive, 3 * USEC_PER_SEC),
        ];
    });
    s.start("cond.timer").unwrap();
    s.advance(USEC_PER_SEC);
    assert_eq!(spawns(&s, "cond.service"), 0);
    assert_eq!(s.state("cond.timer"), ("active", "waiting"));
}

#[test]
fn default_dependencies() {
    let mut s = Sim::with_scope(false);
    add_job(&mut s, "d.service");
    add_timer(&mut s, "d.timer", |t| {
        t.calendar = vec![CalendarSpec::parse("daily").unwrap()];
    });
    let u = s.e.unit(s.id("d.timer"));
    let names = |prop: &str| u.dependency_names(&s.e, prop);
    let before = names("Before");
    for n in ["d.service", "timers.target", "shutdown.target"] {
        assert!(before.contains(&n), "Before={before:?}");
    }
    let after = names("After");
    for n in ["sysinit.target", "time-sync.target", "time-set.target"] {
        assert!(after.contains(&n), "After={after:?}");
    }
    assert!(names("Requires").contains(&"sysinit.target"));
    assert!(names("Conflicts").contains(&"shutdown.target"));
    assert_eq!(s.e.timers_triggering(s.id("d.service")), [s.id("d.timer")]);
}

#[test]
fn reload_recomputes_an_armed_timer() {
    let mut s = Sim::new();
    add_job(&mut s, "r.service");
    let id = add_timer(&mut s, "r.timer", |t| {
        t.monotonic = vec![(TimerBase::Active, 100 * USEC_PER_SEC)];
    });
    let started = s.now;
    s.start("r.timer").unwrap();
    assert_eq!(s.e.next_deadline(), Some(started + 100 * USEC_PER_SEC));
    s.advance(USEC_PER_SEC);
    // daemon-reload with a shorter value: counted from the timer's activation, as before.
    let mut loaded = s.e.unit(id).loaded.clone();
    if let KindSpec::Timer(t) = &mut loaded.spec.kind {
        t.monotonic = vec![(TimerBase::Active, 5 * USEC_PER_SEC)];
    }
    let t = s.t();
    s.e.insert(t, "r.timer", loaded);
    s.pump();
    assert_eq!(s.state("r.timer"), ("active", "waiting"));
    assert_eq!(s.e.next_deadline(), Some(started + 5 * USEC_PER_SEC));
    s.advance(4 * USEC_PER_SEC);
    assert_eq!(spawns(&s, "r.service"), 1);
}

#[test]
fn an_armed_timer_survives_reexec() {
    let mut s = Sim::new();
    add_job(&mut s, "keep.service");
    add_timer(&mut s, "keep.timer", |t| {
        t.monotonic = vec![(TimerBase::Active, 10 * USEC_PER_SEC)];
    });
    s.start("keep.timer").unwrap();
    s.advance(5 * USEC_PER_SEC);
    s.reexec();
    assert_eq!(s.state("keep.timer"), ("active", "waiting"));
    s.advance(4 * USEC_PER_SEC);
    assert_eq!(spawns(&s, "keep.service"), 0);
    s.advance(USEC_PER_SEC);
    assert_eq!(spawns(&s, "keep.service"), 1);
    assert_eq!(s.state("keep.timer"), ("active", "running"));
}

#[test]
fn clock_changes_recompute_or_trigger() {
    let mut s = Sim::new();
    add_job(&mut s, "tick.service");
    add_timer(&mut s, "tick.timer", |t| {
        t.calendar = vec![CalendarSpec::parse("*:*:00").unwrap()];
    });
    add_job(&mut s, "clock.service");
    add_timer(&mut s, "clock.timer", |t| t.on_clock_change = true);
    s.start("tick.timer").unwrap();
    s.start("clock.timer").unwrap();
    // OnClockChange= alone arms nothing but keeps the timer waiting.
    assert_eq!(s.state("clock.timer"), ("active", "waiting"));
    assert_eq!(s.e.next_deadline(), Some(s.now + 39 * USEC_PER_SEC));
    // The wall clock jumps 30 s ahead: the same elapse is 9 s away now.
    let jumped = Timestamp {
        realtime: s.t().realtime + 30 * USEC_PER_SEC,
        monotonic: s.now,
    };
    s.e.clock_changed(jumped);
    s.pump();
    assert_eq!(s.e.next_deadline(), Some(s.now + 9 * USEC_PER_SEC));
    assert_eq!(spawns(&s, "clock.service"), 1);
    assert_eq!(s.state("clock.timer"), ("active", "running"));
    assert_eq!(spawns(&s, "tick.service"), 0);
}
