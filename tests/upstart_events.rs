//! Acceptance: `EmitEvent` over the Upstart API drives the engine's event engine, with stock
//! `dbus-send` and `dbus-monitor` on a private session bus. `EmitEvent("deploy", ["ENV=prod"],
//! true)` starts the job `start on deploy ENV=prod` and replies only once it is running (its
//! post-start gate holds it in `post-start` until the test opens it); a failing task makes a
//! waiting EmitEvent fail with `EventFailed`; `EventEmitted` is signalled after completion;
//! env without `=` is refused with InvalidArgs; a systemd unit started with systemctl fires
//! `start on started <unit>`.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;

fn emit(m: &UserManager, name: &str, env: &str, wait: bool) -> Output {
    m.upstart_send(&[
        "/com/ubuntu/Upstart",
        "com.ubuntu.Upstart0_6.EmitEvent",
        &format!("string:{name}"),
        &format!("array:string:{env}"),
        &format!("boolean:{wait}"),
    ])
}

#[test]
fn emit_event_waits_for_the_jobs_it_started() {
    let Some(m) = upstart_session(
        &[(
            "nginx.service",
            "[Service]\nExecStart=/bin/sleep infinity\n",
        )],
        &["dbus-send", "dbus-monitor"],
    ) else {
        return;
    };
    let gate = m.dir.path().join("gate");
    let entered = m.dir.path().join("post-start-entered");
    let env_out = m.dir.path().join("env-out");
    m.write_job("web",
        &format!(
            "start on deploy ENV=prod\n\
             exec /bin/sh -c 'echo \"$ENV $UPSTART_EVENTS\" > {env}; exec sleep infinity'\n\
             post-start script\n  touch {entered}\n  while [ ! -e {gate} ]; do sleep 0.05; done\nend script\n",
            env = env_out.display(),
            entered = entered.display(),
            gate = gate.display(),
        ),
    );
    m.write_job("boom", "start on boom\ntask\nexec /bin/false\n");
    m.write_job(
        "follower",
        "start on started nginx\nstop on stopping nginx\nexec /bin/sleep infinity\n",
    );
    m.expect(0, &["daemon-reload"]);

    // Every EventEmitted signal, as dbus-monitor prints it.
    let monitor_log = m.dir.path().join("monitor.log");
    let monitor_child = dbus_monitor(
        m.bus.address(),
        &["type='signal',interface='com.ubuntu.Upstart0_6',member='EventEmitted'"],
        &monitor_log,
    );
    let monitor = TrackedPid::new(monitor_child.0.id());
    wait_for("dbus-monitor to listen", Duration::from_secs(10), || {
        read_lossy(&monitor_log).contains("NameAcquired") || {
            // dbus-monitor prints nothing until a match; give it a harmless event.
            let _ = emit(&m, "warmup", "", false);
            read_lossy(&monitor_log).contains("warmup")
        }
    });

    // Bad env.
    let out = emit(&m, "deploy", "ENV", true);
    assert!(
        out.all().contains("org.freedesktop.DBus.Error.InvalidArgs")
            && out.all().contains("Env must be KEY=VALUE pairs"),
        "{}",
        out.all()
    );

    // A non-matching env starts nothing and returns at once.
    let out = emit(&m, "deploy", "ENV=dev", true);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(m.show("web.service", "ActiveState"), "inactive");

    // The matching one replies only once web is running.
    let mut waiter = m
        .upstart_send_cmd(&[
            "/com/ubuntu/Upstart",
            "com.ubuntu.Upstart0_6.EmitEvent",
            "string:deploy",
            "array:string:ENV=prod",
            "boolean:true",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("web's post-start to run", Duration::from_secs(30), || {
        entered.exists()
    });
    assert!(
        waiter.try_wait().unwrap().is_none(),
        "EmitEvent replied while web was still in post-start"
    );
    assert_eq!(m.show("web.service", "ActiveState"), "activating");
    assert!(
        !read_lossy(&monitor_log).contains("\"deploy\"\n   array [\n      string \"ENV=prod\""),
        "EventEmitted before the event finished"
    );
    std::fs::write(&gate, "").unwrap();
    let status = wait_for_value("EmitEvent to reply", Duration::from_secs(30), || {
        waiter.try_wait().unwrap()
    });
    assert!(status.success());
    assert_eq!(m.show("web.service", "ActiveState"), "active");
    let pid = m.main_pid("web.service");
    m.track(pid);
    assert_eq!(read_lossy(&env_out).trim(), "prod deploy");
    wait_for("EventEmitted deploy", Duration::from_secs(10), || {
        let log = read_lossy(&monitor_log);
        let flat: String = log.split_whitespace().collect::<Vec<_>>().join(" ");
        flat.contains("string \"deploy\" array [ string \"ENV=prod\" ]")
    });
    // The job's own started event went out too.
    wait_for("EventEmitted started web", Duration::from_secs(10), || {
        let flat: String = read_lossy(&monitor_log)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        flat.contains("string \"started\" array [ string \"JOB=web\" string \"INSTANCE=\" ]")
    });

    // A failing task fails the waiting EmitEvent.
    let out = emit(&m, "boom", "", true);
    assert!(
        out.all()
            .contains("com.ubuntu.Upstart0_6.Error.EventFailed")
            && out.all().contains("Event failed"),
        "{}",
        out.all()
    );
    wait_for("EventEmitted boom/failed", Duration::from_secs(10), || {
        read_lossy(&monitor_log).contains("\"boom/failed\"")
    });

    // A systemd unit's transitions are job events.
    m.expect(0, &["start", "nginx.service"]);
    let n = m.main_pid("nginx.service");
    m.track(n);
    wait_for("follower to start", Duration::from_secs(30), || {
        m.show("follower.service", "ActiveState") == "active"
    });
    let f = m.main_pid("follower.service");
    m.track(f);
    m.expect(0, &["stop", "nginx.service"]);
    wait_for("follower to stop", Duration::from_secs(30), || {
        m.show("follower.service", "ActiveState") == "inactive"
    });

    m.expect(0, &["stop", "web.service"]);
    m.wait_gone(pid, "web main process");
    monitor.terminate(Duration::from_secs(5));
    drop(monitor_child);
}

/// `stop on` values expand against each instance's environment: `stop on unplug DEV=$TTY`
/// stops only the instance whose TTY was unplugged; a waiting EmitEvent returns once it is
/// down.
#[test]
fn stop_on_expands_variables_per_instance() {
    let Some(m) = upstart_session(&[], &["dbus-send"]) else {
        return;
    };
    m.write_job(
        "tty",
        "instance $TTY\nstart on plug\nstop on unplug DEV=$TTY\nexec /bin/sleep infinity\n",
    );
    m.expect(0, &["daemon-reload"]);
    for t in ["ttyA", "ttyB"] {
        let out = emit(&m, "plug", &format!("TTY={t}"), true);
        assert_eq!(out.code, 0, "{}", out.all());
    }
    let a = m.main_pid("tty@ttyA.service");
    let b = m.main_pid("tty@ttyB.service");
    assert!(a != 0 && b != 0, "{}", m.daemon_log());

    // A literal `$TTY` is no instance's value.
    let out = emit(&m, "unplug", "DEV=$TTY", true);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(m.show("tty@ttyA.service", "ActiveState"), "active");
    assert_eq!(m.show("tty@ttyB.service", "ActiveState"), "active");

    // The waiting emit returns once ttyB is down; ttyA runs on.
    let out = emit(&m, "unplug", "DEV=ttyB", true);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        !pid_alive(b),
        "ttyB's process is gone once the event finished"
    );
    assert!(pid_alive(a));
    assert_eq!(m.show("tty@ttyA.service", "ActiveState"), "active");
    let out = m.upstart_send(&[
        "/com/ubuntu/Upstart/jobs/tty",
        "com.ubuntu.Upstart0_6.Job.GetAllInstances",
    ]);
    assert!(
        out.stdout.contains("/com/ubuntu/Upstart/jobs/tty/ttyA"),
        "{}",
        out.all()
    );
    assert!(!out.stdout.contains("ttyB"), "{}", out.all());
}
