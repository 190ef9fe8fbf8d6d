//! Acceptance: Upstart instance jobs (`instance $TTY`) over the one engine, driven by stock
//! `dbus-send`, `dbus-monitor`, `systemctl --user` and `unitd initctl` on a private session bus.
//! Each expanded instance name is its own unit `<job>@<inst>.service` (created on demand from
//! the job file) and its own instance object `/com/ubuntu/Upstart/jobs/<job>/<inst>`;
//! `InstanceAdded`/`InstanceRemoved` announce them; `GetInstance(env)`/`GetInstanceByName`
//! find them; the env a start got (Start env or event env, `env` stanzas, `UPSTART_JOB`,
//! `UPSTART_INSTANCE`, `UPSTART_EVENTS`) reaches pre-start, main and post-stop; `export`ed
//! variables and `INSTANCE` appear in the job's events.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

#[test]
fn instance_jobs_are_instance_units() {
    let Some(m) = upstart_session(
        &[(
            "native.service",
            "[Service]\nExecStart=/bin/sleep infinity\n",
        )],
        &["dbus-send", "dbus-monitor"],
    ) else {
        return;
    };
    let out_dir = m.dir.path().join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let o = out_dir.display();
    m.write_job("getty",
        &format!(
            "usage \"getty TTY=ttyN\"\n\
             instance $TTY\n\
             start on spawn-getty\n\
             env GREETING=hi\n\
             export TTY\n\
             pre-start exec /bin/sh -c 'echo \"$UPSTART_JOB|$UPSTART_INSTANCE|$TTY|$GREETING\" > {o}/pre-$UPSTART_INSTANCE'\n\
             exec /bin/sh -c 'echo \"$UPSTART_INSTANCE|$TTY|$UPSTART_EVENTS|$SPEED\" > {o}/main-$UPSTART_INSTANCE; exec sleep infinity'\n\
             post-stop exec /bin/sh -c 'echo \"$UPSTART_INSTANCE|$TTY\" > {o}/post-$UPSTART_INSTANCE'\n"
        ),
    );
    m.write_job(
        "watch",
        &format!(
            "start on started getty TTY=tty1\ntask\n\
             exec /bin/sh -c 'echo \"$JOB|$INSTANCE|$TTY\" > {o}/watch'\n"
        ),
    );
    // A native unit wins over a job of the same name, for its instances too.
    m.write_job("native", "instance $X\nexec /bin/sleep infinity\n");
    m.expect(0, &["daemon-reload"]);
    assert_eq!(m.show("native@a.service", "LoadState"), "not-found");
    assert_eq!(m.show("getty@tty7.service", "LoadState"), "loaded");

    let monitor_log = m.dir.path().join("monitor.log");
    let monitor_child = dbus_monitor(
        m.bus.address(),
        &["type='signal',interface='com.ubuntu.Upstart0_6.Job'"],
        &monitor_log,
    );
    wait_for("dbus-monitor to listen", Duration::from_secs(10), || {
        read_lossy(&monitor_log).contains("NameAcquired")
    });

    // Without TTY the instance name does not expand: Upstart's message plus the usage.
    let out = m.initctl(&["start", "getty"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("initctl: Unknown parameter: TTY\nUsage: getty TTY=ttyN"),
        "{}",
        out.all()
    );

    // start with TTY=tty1: the instance unit getty@tty1.service runs.
    let out = m.initctl(&["start", "getty", "TTY=tty1", "SPEED=9600"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let pid1 = m.main_pid("getty@tty1.service");
    assert_ne!(pid1, 0);
    assert_eq!(
        out.stdout,
        format!("getty (tty1) start/running, process {pid1}\n")
    );
    assert_eq!(m.show("getty@tty1.service", "ActiveState"), "active");
    assert_eq!(m.show("getty.service", "ActiveState"), "inactive");
    let out = m.initctl(&["start", "getty", "TTY=tty1"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("initctl: Job is already running: getty (tty1)"),
        "{}",
        out.all()
    );

    // An event starts another instance; its env reaches the processes.
    let out = m.upstart_send(&[
        "/com/ubuntu/Upstart",
        "com.ubuntu.Upstart0_6.EmitEvent",
        "string:spawn-getty",
        "array:string:TTY=tty2,SPEED=115200",
        "boolean:true",
    ]);
    assert_eq!(out.code, 0, "{}", out.all());
    let pid2 = m.main_pid("getty@tty2.service");
    assert_ne!(pid2, 0);
    assert_ne!(pid1, pid2);

    let read = |f: &str| {
        let p = out_dir.join(f);
        wait_for_value(&format!("{f} written"), Duration::from_secs(10), || {
            let s = read_lossy(&p);
            s.ends_with('\n').then(|| s.trim_end().to_owned())
        })
    };
    assert_eq!(read("pre-tty1"), "getty|tty1|tty1|hi");
    assert_eq!(read("main-tty1"), "tty1|tty1||9600");
    assert_eq!(read("pre-tty2"), "getty|tty2|tty2|hi");
    assert_eq!(read("main-tty2"), "tty2|tty2|spawn-getty|115200");
    // `started getty TTY=tty1` carried INSTANCE and the exported TTY.
    assert_eq!(read("watch"), "getty|tty1|tty1");

    // initctl list / status show one line per instance.
    let out = m.initctl(&["list"]);
    for (inst, pid) in [("tty1", pid1), ("tty2", pid2)] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l == format!("getty ({inst}) start/running, process {pid}")),
            "{}",
            out.all()
        );
    }
    let out = m.initctl(&["status", "getty", "TTY=tty2"]);
    assert_eq!(
        out.stdout,
        format!("getty (tty2) start/running, process {pid2}\n"),
        "{}",
        out.all()
    );
    let out = m.initctl(&["status", "getty", "TTY=tty9"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("initctl: Unknown instance: tty9"),
        "{}",
        out.all()
    );

    // The instance objects over D-Bus.
    let out = m.upstart_send(&[
        "/com/ubuntu/Upstart/jobs/getty",
        "com.ubuntu.Upstart0_6.Job.GetInstanceByName",
        "string:tty2",
    ]);
    assert!(
        out.stdout
            .contains("object path \"/com/ubuntu/Upstart/jobs/getty/tty2\""),
        "{}",
        out.all()
    );
    let out = m.upstart_send(&[
        "/com/ubuntu/Upstart/jobs/getty",
        "com.ubuntu.Upstart0_6.Job.GetAllInstances",
    ]);
    assert!(
        out.stdout.contains("/com/ubuntu/Upstart/jobs/getty/tty1")
            && out.stdout.contains("/com/ubuntu/Upstart/jobs/getty/tty2")
            && !out.stdout.contains("/com/ubuntu/Upstart/jobs/getty/_"),
        "{}",
        out.all()
    );
    let out = m.upstart_send(&[
        "/com/ubuntu/Upstart/jobs/getty/tty1",
        "org.freedesktop.DBus.Properties.Get",
        "string:com.ubuntu.Upstart0_6.Instance",
        "string:name",
    ]);
    assert!(out.stdout.contains("string \"tty1\""), "{}", out.all());

    // Cross-view: an instance started with systemctl is an instance over the Upstart API.
    m.expect(0, &["start", "getty@tty3.service"]);
    let pid3 = m.main_pid("getty@tty3.service");
    let out = m.initctl(&["status", "getty", "TTY=tty3"]);
    assert_eq!(
        out.stdout,
        format!("getty (tty3) start/running, process {pid3}\n"),
        "{}",
        out.all()
    );
    assert_eq!(read("pre-tty3"), "getty|tty3||hi");

    // stop with TTY targets that instance only (the instance is gone afterwards, so initctl
    // prints the class's `stop/waiting`, as Upstart's initctl does).
    let out = m.initctl(&["stop", "getty", "TTY=tty1"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "getty stop/waiting\n"),
        "{}",
        out.all()
    );
    m.wait_gone(pid1, "getty tty1");
    assert_eq!(read("post-tty1"), "tty1|tty1");
    assert_eq!(m.show("getty@tty2.service", "ActiveState"), "active");
    let out = m.upstart_send(&[
        "/com/ubuntu/Upstart/jobs/getty",
        "com.ubuntu.Upstart0_6.Job.GetInstance",
        "array:string:TTY=tty1",
    ]);
    assert!(
        out.all()
            .contains("com.ubuntu.Upstart0_6.Error.UnknownInstance"),
        "{}",
        out.all()
    );
    for (tty, pid) in [("tty2", pid2), ("tty3", pid3)] {
        let out = m.upstart_send(&[
            "/com/ubuntu/Upstart/jobs/getty",
            "com.ubuntu.Upstart0_6.Job.Stop",
            &format!("array:string:TTY={tty}"),
            "boolean:true",
        ]);
        assert_eq!(out.code, 0, "{}", out.all());
        m.wait_gone(pid, tty);
    }

    // InstanceAdded and InstanceRemoved carried the instance paths.
    wait_for("InstanceRemoved for tty3", Duration::from_secs(10), || {
        let log = read_lossy(&monitor_log);
        log.lines()
            .filter(|l| l.contains("member=InstanceRemoved"))
            .count()
            >= 3
    });
    let log = read_lossy(&monitor_log);
    for tty in ["tty1", "tty2", "tty3"] {
        let path = format!("object path \"/com/ubuntu/Upstart/jobs/getty/{tty}\"");
        for member in ["InstanceAdded", "InstanceRemoved"] {
            let found = log
                .split("signal ")
                .any(|blk| blk.contains(&format!("member={member}")) && blk.contains(&path));
            assert!(found, "{member} {tty} missing:\n{log}");
        }
    }
    drop(monitor_child);
}

fn initctl_in_job(m: &UserManager, job: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(unitd_bin());
    cmd.arg("initctl")
        .arg("--session")
        .args(args)
        .env("DBUS_SESSION_BUS_ADDRESS", m.bus.address())
        .env_remove("UPSTART_SESSION")
        .env("UPSTART_JOB", job)
        .env("UPSTART_INSTANCE", "");
    run_with_timeout(&mut cmd, "initctl", Duration::from_secs(30))
}

/// Per-instance environment tables: Start env overrides `env` stanzas, `export` passes it into
/// the job's events, the env methods with job details read and change one instance's table
/// (what its later processes get), Stop env reaches post-stop.
#[test]
fn job_environment_tables() {
    let Some(m) = upstart_session(&[], &["dbus-send"]) else {
        return;
    };
    let out_dir = m.dir.path().join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let o = out_dir.display();
    m.write_job("envjob",
        &format!(
            "env MODE=default\nenv KEEP=stanza\nexport MODE\n\
             pre-start exec /bin/sh -c 'echo \"$MODE|$KEEP\" > {o}/pre'\n\
             exec /bin/sleep infinity\n\
             post-stop exec /bin/sh -c 'echo \"$MODE|${{KEEP-unset}}|${{FOO-none}}|$WHY\" > {o}/post'\n"
        ),
    );
    m.write_job(
        "onstop",
        &format!(
            "start on stopping envjob MODE=custom\ntask\n\
             exec /bin/sh -c 'echo \"$JOB|$MODE|$RESULT\" > {o}/onstop'\n"
        ),
    );
    m.expect(0, &["daemon-reload"]);
    let read = |f: &str| {
        let p = out_dir.join(f);
        wait_for_value(&format!("{f} written"), Duration::from_secs(10), || {
            let s = read_lossy(&p);
            s.ends_with('\n').then(|| s.trim_end().to_owned())
        })
    };

    let out = m.initctl(&["start", "envjob", "MODE=custom"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let pid = m.main_pid("envjob.service");
    assert_eq!(read("pre"), "custom|stanza");

    // The instance's table: global env + env stanzas + start env.
    let out = initctl_in_job(&m, "envjob", &["list-env"]);
    assert_eq!(out.code, 0, "{}", out.all());
    for want in ["MODE=custom", "KEEP=stanza"] {
        assert!(out.stdout.lines().any(|l| l == want), "{}", out.all());
    }
    assert!(
        out.stdout.lines().any(|l| l.starts_with("PATH=")),
        "{}",
        out.all()
    );
    assert_eq!(
        initctl_in_job(&m, "envjob", &["set-env", "FOO=bar"]).code,
        0
    );
    assert_eq!(
        initctl_in_job(&m, "envjob", &["get-env", "FOO"]).stdout,
        "bar\n"
    );
    assert_eq!(
        initctl_in_job(&m, "envjob", &["set-env", "--retain", "FOO=baz"]).code,
        0
    );
    assert_eq!(
        initctl_in_job(&m, "envjob", &["get-env", "FOO"]).stdout,
        "bar\n"
    );
    let out = initctl_in_job(&m, "envjob", &["get-env", "--global", "FOO"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("No such variable: FOO"),
        "{}",
        out.all()
    );
    assert_eq!(initctl_in_job(&m, "envjob", &["unset-env", "KEEP"]).code, 0);
    let out = initctl_in_job(&m, "envjob", &["get-env", "KEEP"]);
    assert_eq!(out.code, 1, "{}", out.all());

    // Upstart's errors for bad job details.
    let list_env = |details: &str| {
        m.upstart_send(&[
            "/com/ubuntu/Upstart",
            "com.ubuntu.Upstart0_6.ListEnv",
            &format!("array:string:{details}"),
        ])
    };
    let out = list_env("nope,");
    assert!(
        out.all().contains("com.ubuntu.Upstart0_6.Error.UnknownJob")
            && out.all().contains("Unknown job: nope"),
        "{}",
        out.all()
    );
    let out = list_env("envjob,x");
    assert!(
        out.all()
            .contains("com.ubuntu.Upstart0_6.Error.UnknownJobInstance")
            && out.all().contains("Unknown instance: x of job envjob"),
        "{}",
        out.all()
    );

    // Stop env reaches post-stop, with the changed table; `stopping` carried the export.
    let out = m.initctl(&["stop", "envjob", "WHY=test"]);
    assert_eq!(out.code, 0, "{}", out.all());
    m.wait_gone(pid, "envjob");
    assert_eq!(read("post"), "custom|unset|bar|test");
    assert_eq!(read("onstop"), "envjob|custom|ok");
}
