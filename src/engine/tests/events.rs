//! Event-engine tests (`events.rs`): jobs lowered from real job-file text into the simulated
//! engine; events from EmitEvent and from unit transitions.

use std::path::Path;

use super::*;

/// Parse `text` as job `name` and insert its unit.
fn add_job(s: &mut Sim, name: &str, text: &str) -> UnitId {
    let parsed =
        crate::job_file::parse_job(name, (Path::new("/etc/init/x.conf"), text.as_bytes()), None);
    assert!(parsed.ok, "{:?}", parsed.diagnostics);
    let unit = crate::job_file::unit_name_for_job(name);
    let spec = crate::job_file::lower(&parsed.job, &UnitName::new(&unit).unwrap());
    s.insert(&unit, spec, LoadState::Loaded)
}

fn emit(s: &mut Sim, name: &str, env: &[&str]) -> events::EventId {
    let t = s.t();
    let id =
        s.e.emit_event(t, name, env.iter().map(|e| e.to_string()).collect());
    s.pump();
    id
}

/// `Some(failed)` once the event finished.
fn finished(s: &Sim, ev: events::EventId) -> Option<bool> {
    s.changes.iter().find_map(|c| match c {
        Change::EventFinished { event, failed, .. } if *event == ev => Some(*failed),
        _ => None,
    })
}

/// Names and env of finished events, in order.
fn finished_events(s: &Sim) -> Vec<(String, Vec<String>)> {
    s.changes
        .iter()
        .filter_map(|c| match c {
            Change::EventFinished { name, env, .. } => Some((name.clone(), env.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn emitted_event_with_matching_env_starts_the_job_with_the_event_env() {
    let mut s = Sim::new();
    add_job(&mut s, "web", "start on deploy ENV=prod\nexec /bin/web\n");
    let dev = emit(&mut s, "deploy", &["ENV=dev"]);
    assert_eq!(finished(&s, dev), Some(false));
    assert_eq!(s.state("web.service").0, "inactive");

    let prod = emit(&mut s, "deploy", &["ENV=prod"]);
    assert_eq!(s.state("web.service"), ("active", "running"));
    assert_eq!(finished(&s, prod), Some(false));
    let (_, p) = s.last_spawn("web.service", ExecPhase::Start).unwrap();
    assert_eq!(Sim::env_of(&p, "ENV").as_deref(), Some("prod"));
    assert_eq!(Sim::env_of(&p, "UPSTART_EVENTS").as_deref(), Some("deploy"));
    // The job's own starting/started events followed, with JOB and INSTANCE.
    let names: Vec<(String, Vec<String>)> = finished_events(&s);
    assert!(names.contains(&("started".into(), vec!["JOB=web".into(), "INSTANCE=".into()])));
}

#[test]
fn a_systemd_unit_emits_job_events_that_start_and_stop_jobs() {
    let mut s = Sim::new();
    s.add_service("nginx.service", &[], |_| {});
    add_job(
        &mut s,
        "watch",
        "start on started nginx\nstop on stopping nginx\nexec /bin/watch\n",
    );
    s.start("nginx.service").unwrap();
    assert_eq!(s.state("watch.service"), ("active", "running"));
    let (_, p) = s.last_spawn("watch.service", ExecPhase::Start).unwrap();
    assert_eq!(Sim::env_of(&p, "JOB").as_deref(), Some("nginx"));
    assert_eq!(
        Sim::env_of(&p, "UPSTART_EVENTS").as_deref(),
        Some("started")
    );

    s.stop("nginx.service").unwrap();
    assert_eq!(s.state("watch.service").0, "deactivating");
    let watch = s.main_pid("watch.service");
    s.exit(watch, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.state("watch.service").0, "inactive");
    let nginx = s.main_pid("nginx.service");
    s.exit(nginx, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.state("nginx.service").0, "inactive");
    let ev = finished_events(&s);
    let stopped = ev
        .iter()
        .find(|(n, e)| n == "stopped" && e[0] == "JOB=nginx")
        .expect("stopped nginx");
    assert_eq!(stopped.1, vec!["JOB=nginx", "INSTANCE=", "RESULT=ok"]);
}

#[test]
fn half_satisfied_and_holds_the_event_until_the_rest_arrives() {
    let mut s = Sim::new();
    add_job(&mut s, "both", "start on a and b\nexec /bin/both\n");
    let a = emit(&mut s, "a", &["X=1"]);
    assert_eq!(finished(&s, a), None, "a is held by the half-satisfied and");
    assert_eq!(s.state("both.service").0, "inactive");
    let b = emit(&mut s, "b", &["Y=2"]);
    assert_eq!(s.state("both.service").0, "active");
    assert_eq!(finished(&s, a), Some(false));
    assert_eq!(finished(&s, b), Some(false));
    let (_, p) = s.last_spawn("both.service", ExecPhase::Start).unwrap();
    assert_eq!(Sim::env_of(&p, "UPSTART_EVENTS").as_deref(), Some("a b"));
    assert_eq!(Sim::env_of(&p, "X").as_deref(), Some("1"));
    assert_eq!(Sim::env_of(&p, "Y").as_deref(), Some("2"));
}

#[test]
fn or_and_equal_precedence_left_to_right() {
    // `a or b and c` is `(a or b) and c`.
    let mut s = Sim::new();
    add_job(&mut s, "j", "start on a or b and c\nexec /bin/j\n");
    emit(&mut s, "a", &[]);
    assert_eq!(s.state("j.service").0, "inactive");
    emit(&mut s, "c", &[]);
    assert_eq!(s.state("j.service").0, "active");
}

#[test]
fn a_task_holds_the_event_until_it_finished_and_failure_fails_the_event() {
    let mut s = Sim::new();
    add_job(&mut s, "t", "start on go\ntask\nexec /bin/t\n");
    let ok = emit(&mut s, "go", &[]);
    assert_eq!(finished(&s, ok), None, "the task is still running");
    let pid = s.main_pid("t.service");
    s.exit(pid, ExitStatus::Exited(0));
    assert_eq!(finished(&s, ok), Some(false));

    let bad = emit(&mut s, "go", &[]);
    assert_eq!(finished(&s, bad), None);
    let pid = s.main_pid("t.service");
    s.exit(pid, ExitStatus::Exited(3));
    assert_eq!(finished(&s, bad), Some(true));
    let ev = finished_events(&s);
    assert!(ev.iter().any(|(n, _)| n == "go/failed"));
    let stopped = ev
        .iter()
        .rev()
        .find(|(n, e)| n == "stopped" && e[0] == "JOB=t")
        .unwrap();
    assert_eq!(
        stopped.1,
        vec![
            "JOB=t",
            "INSTANCE=",
            "RESULT=failed",
            "PROCESS=main",
            "EXIT_STATUS=3"
        ]
    );
}

#[test]
fn a_job_already_running_is_not_started_again_and_the_event_finishes() {
    let mut s = Sim::new();
    add_job(&mut s, "r", "start on poke\nexec /bin/r\n");
    s.start("r.service").unwrap();
    let n = s.procs.len();
    let ev = emit(&mut s, "poke", &[]);
    assert_eq!(finished(&s, ev), Some(false));
    assert_eq!(s.procs.len(), n);
}

#[test]
fn stop_on_with_stop_env_for_post_stop() {
    let mut s = Sim::new();
    add_job(
        &mut s,
        "p",
        "start on up\nstop on down\nexec /bin/p\npost-stop exec /bin/cleanup\n",
    );
    emit(&mut s, "up", &[]);
    let down = emit(&mut s, "down", &["WHY=bye"]);
    let pid = s.main_pid("p.service");
    s.exit(pid, ExitStatus::Killed(SIGTERM));
    let (cpid, post) = s.last_spawn("p.service", ExecPhase::StopPost).unwrap();
    assert_eq!(Sim::env_of(&post, "WHY").as_deref(), Some("bye"));
    assert_eq!(
        Sim::env_of(&post, "UPSTART_STOP_EVENTS").as_deref(),
        Some("down")
    );
    assert_eq!(finished(&s, down), None, "held until the job stopped");
    s.exit(cpid, ExitStatus::Exited(0));
    assert_eq!(s.state("p.service").0, "inactive");
    assert_eq!(finished(&s, down), Some(false));
}

#[test]
fn instance_jobs_start_one_unit_per_expanded_name() {
    let mut s = Sim::new();
    add_job(
        &mut s,
        "getty",
        "instance $TTY\nstart on spawn\nenv SPEED=9600\nexport TTY\nexec /bin/getty\n",
    );
    let e1 = emit(&mut s, "spawn", &["TTY=tty1"]);
    emit(&mut s, "spawn", &["TTY=tty2", "SPEED=115200"]);
    assert_eq!(s.state("getty@tty1.service"), ("active", "running"));
    assert_eq!(s.state("getty@tty2.service"), ("active", "running"));
    assert_eq!(s.state("getty.service").0, "inactive");
    assert_eq!(finished(&s, e1), Some(false));
    let tty2 = s.id("getty@tty2.service");
    let meta = s.e.unit(tty2).loaded.spec.upstart.as_deref().unwrap();
    assert_eq!(
        (meta.name.as_str(), meta.instance_name.as_str()),
        ("getty", "tty2")
    );
    let (_, p) = s
        .last_spawn("getty@tty2.service", ExecPhase::Start)
        .unwrap();
    // The start env (the event's) reaches the process, over the `env` stanza.
    assert_eq!(Sim::env_of(&p, "SPEED").as_deref(), Some("115200"));
    assert_eq!(Sim::env_of(&p, "TTY").as_deref(), Some("tty2"));
    // The instance's events carry INSTANCE and the exported TTY.
    assert!(finished_events(&s).contains(&(
        "started".into(),
        vec![
            "JOB=getty".into(),
            "INSTANCE=tty1".into(),
            "TTY=tty1".into()
        ]
    )));
    // The same name again targets the running instance; a missing variable starts nothing.
    emit(&mut s, "spawn", &["TTY=tty1"]);
    let bad = emit(&mut s, "spawn", &[]);
    assert_eq!(finished(&s, bad), Some(false));
    let units: Vec<String> =
        s.e.units()
            .filter(|u| u.name().starts_with("getty@"))
            .map(|u| u.name().to_owned())
            .collect();
    assert_eq!(units.len(), 2, "{units:?}");
}

#[test]
fn starting_holds_the_job_until_its_handlers_are_done() {
    let mut s = Sim::new();
    add_job(&mut s, "foo", "pre-start exec /bin/pre\nexec /bin/foo\n");
    add_job(
        &mut s,
        "before",
        "start on starting foo\ntask\nexec /bin/before\n",
    );
    s.start("foo.service").unwrap();
    // foo waits in `starting`: no process; the handler runs.
    assert_eq!(s.state("foo.service"), ("activating", "condition"));
    assert!(s.last_spawn("foo.service", ExecPhase::StartPre).is_none());
    let before = s.main_pid("before.service");
    assert_ne!(before, 0);
    s.exit(before, ExitStatus::Exited(0));
    assert_eq!(s.state("before.service").0, "inactive");
    let (pre, _) = s.last_spawn("foo.service", ExecPhase::StartPre).unwrap();
    s.exit(pre, ExitStatus::Exited(0));
    assert_eq!(s.state("foo.service"), ("active", "running"));
}

#[test]
fn stopping_holds_the_kill_until_its_handlers_are_done() {
    let mut s = Sim::new();
    add_job(&mut s, "bar", "exec /bin/bar\npost-stop exec /bin/post\n");
    add_job(
        &mut s,
        "cleanup",
        "start on stopping bar\ntask\nexec /bin/cleanup\n",
    );
    s.start("bar.service").unwrap();
    let bar = s.main_pid("bar.service");
    s.stop("bar.service").unwrap();
    assert_eq!(s.state("bar.service"), ("deactivating", "stop-sigterm"));
    assert!(s.e.held_in_stopping(s.id("bar.service")));
    assert!(s.kills.iter().all(|(p, _)| *p != bar), "{:?}", s.kills);
    let cleanup = s.main_pid("cleanup.service");
    s.exit(cleanup, ExitStatus::Exited(0));
    assert_eq!(s.kills.last(), Some(&(bar, SIGTERM)));
    s.exit(bar, ExitStatus::Killed(SIGTERM));
    let (post, _) = s.last_spawn("bar.service", ExecPhase::StopPost).unwrap();
    s.exit(post, ExitStatus::Exited(0));
    assert_eq!(s.state("bar.service").0, "inactive");
}

#[test]
fn stop_on_values_expand_against_each_instance_env() {
    // Upstart's idiom: each instance stops on the removal of its own device, and a job stops
    // when the runlevel leaves the one it was started in.
    let mut s = Sim::new();
    add_job(
        &mut s,
        "getty",
        "instance $TTY\nstart on spawn\nstop on unplug DEV=$TTY or gone ${TTY}x\nexec /bin/getty\n",
    );
    add_job(
        &mut s,
        "rl",
        "start on runlevel [2345]\nstop on runlevel [!$RUNLEVEL]\nexec /bin/rl\n",
    );
    emit(&mut s, "spawn", &["TTY=tty1"]);
    emit(&mut s, "spawn", &["TTY=tty2"]);
    assert_eq!(s.state("getty@tty1.service"), ("active", "running"));
    assert_eq!(s.state("getty@tty2.service"), ("active", "running"));

    // `DEV=$TTY` matches only the instance whose TTY is tty2; a literal `$TTY` matches none.
    let literal = emit(&mut s, "unplug", &["DEV=$TTY"]);
    assert_eq!(finished(&s, literal), Some(false));
    assert_eq!(s.state("getty@tty1.service").0, "active");
    assert_eq!(s.state("getty@tty2.service").0, "active");
    let unplug = emit(&mut s, "unplug", &["DEV=tty2"]);
    assert_eq!(s.state("getty@tty1.service").0, "active");
    assert_eq!(s.state("getty@tty2.service").0, "deactivating");
    let pid = s.main_pid("getty@tty2.service");
    s.exit(pid, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.state("getty@tty2.service").0, "inactive");
    assert_eq!(finished(&s, unplug), Some(false));
    // `${TTY}` inside a positional value.
    emit(&mut s, "spawn", &["TTY=tty3"]);
    emit(&mut s, "gone", &["WHAT=tty1x"]);
    assert_eq!(s.state("getty@tty1.service").0, "deactivating");
    assert_eq!(s.state("getty@tty3.service").0, "active");

    emit(&mut s, "runlevel", &["RUNLEVEL=2", "PREVLEVEL=N"]);
    assert_eq!(s.state("rl.service"), ("active", "running"));
    // Same runlevel again: `[!2]` does not match 2.
    emit(&mut s, "runlevel", &["RUNLEVEL=2", "PREVLEVEL=2"]);
    assert_eq!(s.state("rl.service").0, "active");
    emit(&mut s, "runlevel", &["RUNLEVEL=6", "PREVLEVEL=2"]);
    assert_eq!(s.state("rl.service").0, "deactivating");
}

#[test]
fn stop_on_with_an_unknown_variable_never_matches() {
    let mut s = Sim::new();
    add_job(
        &mut s,
        "u",
        "start on up\nstop on down WHO=$NOBODY_SET\nexec /bin/u\n",
    );
    emit(&mut s, "up", &[]);
    let ev = emit(&mut s, "down", &["WHO="]);
    assert_eq!(finished(&s, ev), Some(false));
    assert_eq!(s.state("u.service").0, "active");
}

#[test]
fn a_newer_command_releases_the_events_a_job_holds() {
    // Upstart's job_finished(job, FALSE): the event that started `slow` (still in post-start)
    // finishes with success as soon as a newer command or a stop event changes its goal.
    let mut s = Sim::new();
    add_job(
        &mut s,
        "slow",
        "start on go\nstop on halt\nexec /bin/slow\npost-start exec /bin/settle\n",
    );
    let go = emit(&mut s, "go", &[]);
    assert_eq!(s.state("slow.service").0, "activating");
    assert_eq!(finished(&s, go), None, "held while post-start runs");
    // A stop event: `go` is released (success) before the job is down.
    let halt = emit(&mut s, "halt", &[]);
    assert_eq!(finished(&s, go), Some(false));
    assert_eq!(finished(&s, halt), None, "held until slow is down");

    // A D-Bus command (Start) on the instance releases `halt` the same way.
    let slow = s.id("slow.service");
    s.e.release_event_holds(slow);
    s.pump();
    assert_eq!(finished(&s, halt), Some(false));
}
