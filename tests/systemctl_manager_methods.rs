//! Acceptance: Manager methods that are reached through less common verbs or only through
//! raw D-Bus calls — `GetDefaultTarget`/`SetDefaultTarget` (`systemctl --user get-default` /
//! `set-default`), `ClearJobs` (dbus-send), `Job.Cancel` (`systemctl --user cancel`),
//! `GetUnitProcesses` (dbus-send) and `EnqueueUnitJob` (`systemctl --user start
//! --show-transaction`), all with stock clients against a private bus.

mod common;

use std::time::Duration;

use common::*;

const TARGET: &str = "[Unit]\nDescription=Some target\n";

#[test]
fn get_and_set_default_target() {
    let Some(m) = UserManager::start(&[
        ("default.target", "[Unit]\nDescription=Main user target\n"),
        ("work.target", TARGET),
        ("play.target", TARGET),
        ("svc.service", "[Service]\nExecStart=/bin/true\n"),
    ]) else {
        return;
    };
    let link = m.dir.home().join(".config/systemd/user/default.target");

    let out = m.expect(0, &["get-default"]);
    assert_eq!(out.stdout.trim(), "default.target", "{}", out.dump());

    let out = m.expect(0, &["set-default", "work.target"]);
    let work = m.dir.units().join("work.target");
    m.check(
        out.all().contains(&format!(
            "Created symlink {} → {}.",
            link.display(),
            work.display()
        )),
        "set-default prints the symlink it created",
        &out,
    );
    assert_eq!(std::fs::read_link(&link).unwrap(), work);
    let out = m.expect(0, &["get-default"]);
    assert_eq!(out.stdout.trim(), "work.target", "{}", out.dump());

    // systemctl passes force=true: an existing link is replaced.
    let out = m.expect(0, &["set-default", "play"]);
    m.check(
        out.all()
            .contains(&format!("Removed \"{}\".", link.display()))
            || out.all().contains(&format!("Removed {}.", link.display())),
        "set-default reports the link it replaced",
        &out,
    );
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        m.dir.units().join("play.target")
    );
    let (code, text) = m.manager_call("GetDefaultTarget", &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("string \"play.target\""), "{text}");

    // Without force the existing link stays.
    let (code, text) = m.manager_call("SetDefaultTarget", &["string:work.target", "boolean:false"]);
    assert_ne!(code, 0, "{text}");
    assert!(
        text.contains("Error org.freedesktop.DBus.Error.FileExists"),
        "{text}"
    );
    // Not a target, or no such file: refused, nothing changes.
    let (code, text) = m.manager_call("SetDefaultTarget", &["string:svc.service", "boolean:true"]);
    assert_ne!(code, 0, "{text}");
    assert!(
        text.contains("Error org.freedesktop.DBus.Error.InvalidArgs"),
        "{text}"
    );
    let out = m.expect(1, &["set-default", "nosuch.target"]);
    m.check(
        out.stderr.contains("nosuch.target does not exist"),
        "set-default of a missing target",
        &out,
    );
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        m.dir.units().join("play.target")
    );
}

const BLOCKER: &str = "\
[Service]
Type=oneshot
ExecStart=/bin/sleep infinity
";

fn job_ids(m: &UserManager) -> Vec<(u32, String)> {
    let out = m.expect(0, &["list-jobs", "--no-legend"]);
    out.stdout
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.parse().ok()?, w.next()?.to_owned()))
        })
        .collect()
}

#[test]
fn clear_jobs_and_cancel() {
    let Some(m) = UserManager::start(&[("a.service", BLOCKER), ("b.service", BLOCKER)]) else {
        return;
    };
    m.expect(0, &["start", "--no-block", "a.service"]);
    m.expect(0, &["start", "--no-block", "b.service"]);
    let jobs = job_ids(&m);
    assert_eq!(jobs.len(), 2, "{jobs:?}");

    // `systemctl cancel ID` cancels exactly that job.
    let (a_job, _) = jobs.iter().find(|(_, u)| u == "a.service").unwrap().clone();
    m.expect(0, &["cancel", &a_job.to_string()]);
    let left = job_ids(&m);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].1, "b.service");
    let out = m.expect(1, &["cancel", &a_job.to_string()]);
    m.check(
        out.stderr.contains(&format!("Job {a_job} does not exist.")),
        "cancelling a finished job fails",
        &out,
    );

    // ClearJobs cancels everything that is left.
    let (code, text) = m.manager_call("ClearJobs", &[]);
    assert_eq!(code, 0, "{text}");
    assert!(job_ids(&m).is_empty());
    assert_eq!(m.show_manager("NJobs"), "0");
    m.expect(0, &["stop", "a.service", "b.service"]);
}

#[test]
fn get_unit_processes_lists_tracked_processes() {
    let Some(m) = UserManager::start(&[(
        "tree.service",
        "[Service]\nExecStart=/bin/sh -c '/bin/sleep 1000001 & exec /bin/sleep 1000002'\n",
    )]) else {
        return;
    };
    let (code, text) = m.manager_call("GetUnitProcesses", &["string:nosuch.service"]);
    assert_ne!(code, 0, "{text}");
    assert!(
        text.contains("Error org.freedesktop.systemd1.NoSuchUnit"),
        "{text}"
    );

    m.expect(0, &["start", "tree.service"]);
    let main = m.main_pid("tree.service");
    let text = wait_for_value("both processes listed", Duration::from_secs(20), || {
        let (code, text) = m.manager_call("GetUnitProcesses", &["string:tree.service"]);
        (code == 0 && text.contains("\"/bin/sleep 1000001\"")).then_some(text)
    });
    assert!(
        text.contains(&format!("uint32 {main}\n")) || text.contains(&format!("uint32 {main} ")),
        "main pid {main} listed:\n{text}"
    );
    assert!(text.contains("string \"/bin/sleep 1000002\""), "{text}");
    // The cgroup column is the unit's ControlGroup as served.
    let cgroup = m.show("tree.service", "ControlGroup");
    assert!(
        text.contains(&format!("string \"{cgroup}\"")),
        "cgroup column {cgroup:?}:\n{text}"
    );

    m.expect(0, &["stop", "tree.service"]);
    let (code, text) = m.manager_call("GetUnitProcesses", &["string:tree.service"]);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("sleep"), "no processes after stop:\n{text}");
}

#[test]
fn enqueue_unit_job_shows_the_transaction() {
    let Some(m) = UserManager::start(&[
        (
            "group.target",
            "[Unit]\nWants=member.service\nAfter=member.service\n",
        ),
        ("member.service", BLOCKER),
    ]) else {
        return;
    };
    // The member never finishes starting, so both jobs are still installed when the reply
    // is built.
    let out = m.expect(
        0,
        &["start", "--no-block", "--show-transaction", "group.target"],
    );
    let jobs = job_ids(&m);
    let id_of = |unit: &str| jobs.iter().find(|(_, u)| u == unit).map(|(id, _)| *id);
    let (Some(anchor), Some(aux)) = (id_of("group.target"), id_of("member.service")) else {
        panic!("both jobs installed: {jobs:?}\n{}", out.dump());
    };
    m.check(
        out.all()
            .contains(&format!("Enqueued anchor job {anchor} group.target/start.")),
        "anchor job printed",
        &out,
    );
    m.check(
        out.all().contains(&format!(
            "Enqueued auxiliary job {aux} member.service/start."
        )),
        "auxiliary job printed",
        &out,
    );

    // Bad job types and modes are refused.
    let (code, text) = m.manager_call(
        "EnqueueUnitJob",
        &["string:member.service", "string:frob", "string:replace"],
    );
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("Job type frob invalid."), "{text}");
    let (code, text) = m.manager_call(
        "EnqueueUnitJob",
        &["string:member.service", "string:stop", "string:frob"],
    );
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("Job mode frob invalid."), "{text}");

    // A stop through EnqueueUnitJob replaces the start jobs.
    let (code, text) = m.manager_call(
        "EnqueueUnitJob",
        &["string:member.service", "string:stop", "string:replace"],
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("string \"member.service\""), "{text}");
    assert!(text.contains("string \"stop\""), "{text}");
    m.expect(0, &["stop", "group.target", "member.service"]);
}

#[test]
fn set_default_target_signals_unit_files_changed() {
    let Some(m) = UserManager::start_requiring(
        &[("one.target", TARGET), ("two.target", TARGET)],
        &["dbus-monitor"],
    ) else {
        return;
    };
    let log = m.dir.path().join("monitor.log");
    let _monitor = dbus_monitor(
        m.bus.address(),
        &["type='signal',member='UnitFilesChanged'"],
        &log,
    );
    // dbus-monitor shows nothing before its match is in place: switch the default target back
    // and forth (each switch changes a symlink) until the signal shows up.
    let mut flip = false;
    wait_for(
        "UnitFilesChanged after SetDefaultTarget",
        Duration::from_secs(20),
        || {
            flip = !flip;
            let target = if flip { "one.target" } else { "two.target" };
            let (code, text) = m.manager_call(
                "SetDefaultTarget",
                &[&format!("string:{target}"), "boolean:true"],
            );
            assert_eq!(code, 0, "{text}");
            read_lossy(&log).contains("member=UnitFilesChanged")
        },
    );
}
