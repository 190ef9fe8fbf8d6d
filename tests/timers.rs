//! Acceptance: timer units through the stock `systemctl --user` — `OnActiveSec=` starts the
//! service, `list-timers` shows NEXT/LEFT/UNIT/ACTIVATES, `status` shows the `Trigger:` and
//! `Triggers:` lines, `OnCalendar=` with a near time fires, and stopping a timer disarms it.
//! Every wait has a timeout; no test asserts on how long something took.

mod common;

use std::time::Duration;

use common::verbs::user_manager;
use common::*;

/// Every wait's bound: the harness's (30 s).
const WAIT: Duration = TIMEOUT;

/// A oneshot service appending a line to `%h/<name>.fired` each time it runs.
fn marker_service(name: &str) -> String {
    format!("[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo run >> %h/{name}.fired'\n")
}

fn fired(m: &UserManager, name: &str) -> usize {
    read_lossy(&m.dir.home().join(format!("{name}.fired")))
        .lines()
        .count()
}

/// Wait (bounded by [`WAIT`], the harness timeout `wait_prop` uses) until `show -p PROP UNIT` is
/// `want`.
#[track_caller]
fn wait_show(m: &UserManager, unit: &str, prop: &str, want: &str) {
    m.wait_prop(unit, prop, &format!("{unit}: {prop} to be {want:?}"), |v| {
        v == want
    });
}

#[test]
fn on_active_sec_fires_and_list_timers_shows_the_timer() {
    let units = [
        (
            "tick.timer",
            "[Unit]\nDescription=Tick soon\n[Timer]\nOnActiveSec=1s\nAccuracySec=1us\n".to_owned(),
        ),
        ("tick.service", marker_service("tick")),
        (
            "later.timer",
            "[Unit]\nDescription=Tick later\n[Timer]\nOnActiveSec=1h\n".to_owned(),
        ),
        ("later.service", marker_service("later")),
    ];
    let Some(m) = user_manager(&units) else {
        return;
    };

    // An armed timer: list-timers and status show when it elapses and what it starts.
    m.expect(0, &["start", "later.timer"]);
    assert_eq!(m.show("later.timer", "ActiveState"), "active");
    assert_eq!(m.show("later.timer", "SubState"), "waiting");
    assert_eq!(m.show("later.timer", "Triggers"), "later.service");
    assert_eq!(m.show("later.service", "TriggeredBy"), "later.timer");
    assert_ne!(m.show("later.timer", "NextElapseUSecMonotonic"), "infinity");
    let list = m.expect(0, &["list-timers", "--all"]);
    let header = list.stdout.lines().next().unwrap_or_default();
    for col in ["NEXT", "LEFT", "LAST", "PASSED", "UNIT", "ACTIVATES"] {
        m.check(header.contains(col), &format!("no {col} column"), &list);
    }
    let row = list
        .stdout
        .lines()
        .find(|l| l.contains("later.timer"))
        .unwrap_or_else(|| panic!("later.timer not listed\n{}", list.dump()));
    m.check(row.contains("later.service"), "ACTIVATES column", &list);
    m.check(row.contains("left"), "LEFT column", &list);
    let cols: Vec<&str> = row.split_whitespace().collect();
    // NEXT is `Day YYYY-MM-DD HH:MM:SS TZ`, LEFT `59min left`; LAST and PASSED are `-`.
    m.check(
        cols.ends_with(&["-", "-", "later.timer", "later.service"]),
        "never triggered: LAST and PASSED are -",
        &list,
    );
    let status = m.systemctl(&["status", "later.timer"]);
    m.check(
        status.stdout.contains("active (waiting)"),
        "status line",
        &status,
    );
    m.check(
        status.stdout.contains("Trigger: "),
        "Trigger: line",
        &status,
    );
    m.check(
        status.stdout.contains("Triggers: ") && status.stdout.contains("later.service"),
        "Triggers: line",
        &status,
    );

    // OnActiveSec= elapses: the service runs once, the timer is then elapsed.
    m.expect(0, &["start", "tick.timer"]);
    wait_for("tick.service to run", WAIT, || fired(&m, "tick") >= 1);
    wait_show(&m, "tick.timer", "SubState", "elapsed");
    assert_eq!(m.show("tick.timer", "ActiveState"), "active");
    assert_eq!(m.show("tick.service", "ActiveState"), "inactive");
    assert_eq!(m.show("tick.service", "Result"), "success");
    assert_ne!(m.show("tick.timer", "LastTriggerUSecMonotonic"), "0");
    assert_eq!(m.show("tick.timer", "Result"), "success");
    assert_eq!(fired(&m, "tick"), 1);
    let list = m.expect(0, &["list-timers", "--all"]);
    let row = list
        .stdout
        .lines()
        .find(|l| l.contains("tick.timer"))
        .unwrap_or_else(|| panic!("tick.timer not listed\n{}", list.dump()));
    m.check(row.contains("ago"), "PASSED column after a trigger", &list);

    m.expect(0, &["stop", "tick.timer", "later.timer"]);
    assert_eq!(m.show("later.timer", "ActiveState"), "inactive");
    assert_eq!(m.show("later.timer", "NextElapseUSecMonotonic"), "infinity");
}

#[test]
fn on_calendar_with_a_near_time_fires() {
    let units = [
        (
            "cal.timer",
            // Every two seconds of every minute.
            "[Timer]\nOnCalendar=*:*:0/2\nAccuracySec=1us\n".to_owned(),
        ),
        ("cal.service", marker_service("cal")),
    ];
    let Some(m) = user_manager(&units) else {
        return;
    };
    m.expect(0, &["start", "cal.timer"]);
    let timers = m.expect(0, &["show", "-p", "TimersCalendar", "cal.timer"]);
    m.check(
        timers.stdout.contains("OnCalendar=*-*-* *:*:00/2"),
        "normalized calendar expression",
        &timers,
    );
    let next = m.show("cal.timer", "NextElapseUSecRealtime");
    assert!(
        !next.is_empty() && next != "infinity" && next != "n/a",
        "NextElapseUSecRealtime={next}"
    );
    wait_for("cal.service to run twice", WAIT, || fired(&m, "cal") >= 2);
    m.expect(0, &["stop", "cal.timer"]);
    assert_eq!(m.show("cal.timer", "SubState"), "dead");
}

#[test]
fn stopping_a_timer_disarms_it() {
    // `stopped.timer` would elapse before `witness.timer`; unitd fires deadlines in order, so
    // once the witness has fired, an armed `stopped.timer` would have started its service.
    let units = [
        (
            "stopped.timer",
            "[Timer]\nOnActiveSec=1s\nAccuracySec=1us\n".to_owned(),
        ),
        ("stopped.service", marker_service("stopped")),
        (
            "witness.timer",
            "[Timer]\nOnActiveSec=3s\nAccuracySec=1us\n".to_owned(),
        ),
        ("witness.service", marker_service("witness")),
    ];
    let Some(m) = user_manager(&units) else {
        return;
    };
    m.expect(0, &["start", "stopped.timer", "witness.timer"]);
    m.expect(0, &["stop", "stopped.timer"]);
    assert_eq!(m.show("stopped.timer", "ActiveState"), "inactive");
    assert_eq!(
        m.show("stopped.timer", "NextElapseUSecMonotonic"),
        "infinity"
    );
    wait_show(&m, "witness.timer", "SubState", "elapsed");
    assert_eq!(fired(&m, "witness"), 1);
    assert_eq!(
        m.show("stopped.service", "InactiveExitTimestampMonotonic"),
        "0",
        "the stopped timer started its service"
    );
    assert_eq!(fired(&m, "stopped"), 0);
}

#[test]
fn systemd_run_on_active_creates_a_transient_timer_and_service() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    if which("systemd-run").is_none() {
        eprintln!("skipped: systemd-run not installed");
        return;
    }
    let marker = m.dir.home().join("run.fired");
    let script = format!("echo run >> {}", marker.display());
    let out = m.systemctl_runner().run_other(
        "systemd-run",
        &[
            "--user",
            "--on-active=1s",
            "--timer-property=AccuracySec=1us",
            "--unit=later-run",
            "/bin/sh",
            "-c",
            &script,
        ],
    );
    m.check(out.code == 0, "systemd-run --on-active", &out);
    m.check(
        out.all().contains("Running timer as unit: later-run.timer"),
        "timer unit named",
        &out,
    );
    m.check(
        out.all()
            .contains("Will run service as unit: later-run.service"),
        "service unit named",
        &out,
    );
    wait_for("the transient service to run", WAIT, || {
        read_lossy(&marker).lines().count() >= 1
    });
    // systemd-run asks for RemainAfterElapse=no: the timer goes away once its job is done.
    wait_for("the transient timer to go", WAIT, || {
        let s = m.systemctl(&["show", "-p", "ActiveState", "--value", "later-run.timer"]);
        s.stdout.trim() == "inactive"
    });

    // --on-calendar= sends OnCalendar a(ss); the timer repeats until stopped.
    let marker = m.dir.home().join("cal-run.fired");
    let script = format!("echo run >> {}", marker.display());
    let out = m.systemctl_runner().run_other(
        "systemd-run",
        &[
            "--user",
            "--on-calendar=*:*:0/2",
            "--unit=cal-run",
            "/bin/sh",
            "-c",
            &script,
        ],
    );
    m.check(out.code == 0, "systemd-run --on-calendar", &out);
    let timers = m.expect(0, &["show", "-p", "TimersCalendar", "cal-run.timer"]);
    m.check(
        timers.stdout.contains("OnCalendar=*-*-* *:*:00/2"),
        "transient calendar value",
        &timers,
    );
    wait_for("the calendar service to run twice", WAIT, || {
        read_lossy(&marker).lines().count() >= 2
    });
    m.expect(0, &["stop", "cal-run.timer"]);
}

/// Debian 12's packaged timers (apt, man-db, systemd, e2fsprogs, util-linux, dpkg), verbatim
/// apart from comments.
const DEBIAN_TIMERS: &[(&str, &str)] = &[
    (
        "apt-daily.timer",
        "[Unit]\nDescription=Daily apt download activities\n\n[Timer]\nOnCalendar=*-*-* 6,18:00\n\
         RandomizedDelaySec=12h\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n",
    ),
    (
        "apt-daily-upgrade.timer",
        "[Unit]\nDescription=Daily apt upgrade and clean activities\nAfter=apt-daily.timer\n\n\
         [Timer]\nOnCalendar=*-*-* 6:00\nRandomizedDelaySec=60m\nPersistent=true\n\n\
         [Install]\nWantedBy=timers.target\n",
    ),
    (
        "man-db.timer",
        "[Unit]\nDescription=Daily man-db regeneration\nDocumentation=man:mandb(8)\n\n[Timer]\n\
         OnCalendar=daily\nRandomizedDelaySec=12h\nPersistent=true\n\n[Install]\n\
         WantedBy=timers.target\n",
    ),
    (
        "systemd-tmpfiles-clean.timer",
        "[Unit]\nDescription=Daily Cleanup of Temporary Directories\n\
         Documentation=man:tmpfiles.d(5) man:systemd-tmpfiles(8)\n\
         ConditionPathExists=!/etc/initrd-release\n\n[Timer]\nOnBootSec=15min\n\
         OnUnitActiveSec=1d\n",
    ),
    (
        "e2scrub_all.timer",
        "[Unit]\nDescription=Periodic ext4 Online Metadata Check for All Filesystems\n\n\
         [Timer]\nOnCalendar=Sun *-*-* 03:10:00\nRandomizedDelaySec=60\nPersistent=true\n\n\
         [Install]\nWantedBy=timers.target\n",
    ),
    (
        "dpkg-db-backup.timer",
        "[Unit]\nDescription=Daily dpkg database backup timer\nDocumentation=man:dpkg(1)\n\n\
         [Timer]\nOnCalendar=daily\n\n[Install]\nWantedBy=timers.target\n",
    ),
];

#[test]
fn debian_packaged_timers_arm_under_timers_target() {
    let mut units: Vec<(String, String)> = Vec::new();
    for (name, text) in DEBIAN_TIMERS {
        units.push((name.to_string(), text.to_string()));
        let stem = name.trim_end_matches(".timer");
        units.push((format!("{stem}.service"), marker_service(stem)));
    }
    let refs: Vec<(&str, &str)> = units
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let Some(m) = UserManager::start(&refs) else {
        return;
    };
    let wanted: Vec<&str> = DEBIAN_TIMERS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| *n != "systemd-tmpfiles-clean.timer")
        .collect();
    let mut enable = vec!["enable"];
    enable.extend(&wanted);
    m.expect(0, &enable);
    m.expect(
        0,
        &["start", "timers.target", "systemd-tmpfiles-clean.timer"],
    );
    for (name, _) in DEBIAN_TIMERS {
        // OnBootSec=15min of tmpfiles-clean elapsed already if the machine has been up that
        // long: it then runs once at start (as under systemd) and waits for OnUnitActiveSec=.
        wait_show(&m, name, "SubState", "waiting");
    }
    let list = m.expect(0, &["list-timers", "--all"]);
    for (name, _) in DEBIAN_TIMERS {
        assert_eq!(m.show(name, "LoadError"), "", "{name}");
        let stem = name.trim_end_matches(".timer");
        let row = list
            .stdout
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} not listed\n{}", list.dump()));
        m.check(
            row.contains(&format!("{stem}.service")) && row.contains("left"),
            &format!("{name}: ACTIVATES and LEFT"),
            &list,
        );
        // unitd keeps Persistent= stamps under its state directory (systemd --user under
        // ~/.local/share/systemd/timers).
        if !reference_mode() {
            let persistent = m.show(name, "Persistent") == "yes";
            let stamp = m.dir.state().join("timers").join(format!("stamp-{name}"));
            assert_eq!(stamp.exists(), persistent, "{}", stamp.display());
        }
    }
    // No calendar timer elapsed at start: the stamps were new, so no missed run is caught up.
    for (name, _) in DEBIAN_TIMERS
        .iter()
        .filter(|(n, _)| !n.starts_with("systemd-tmpfiles"))
    {
        let stem = name.trim_end_matches(".timer");
        assert_eq!(fired(&m, stem), 0, "{stem}.service ran");
    }
    let show = m.expect(0, &["show", "-p", "TimersCalendar", "apt-daily.timer"]);
    m.check(
        show.stdout.contains("OnCalendar=*-*-* 06,18:00:00"),
        "normalized apt-daily calendar",
        &show,
    );
    let show = m.expect(
        0,
        &[
            "show",
            "-p",
            "TimersMonotonic",
            "systemd-tmpfiles-clean.timer",
        ],
    );
    m.check(
        show.stdout.contains("OnBootUSec=15min") && show.stdout.contains("OnUnitActiveUSec=1d"),
        "tmpfiles-clean monotonic values",
        &show,
    );
}
