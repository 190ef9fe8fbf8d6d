//! Container init mode: `unitd init` as PID 1 of a fresh PID namespace
//! (`unshare --pid --fork --mount-proc --mount --net`, a tmpfs over `/run`), the way a container
//! runtime starts it.
//!
//! What runs is real, in the file-system layout of `contrib/Dockerfile` (see
//! `common::init_ns::NAMESPACE_SETUP`): unitd's default system search path, so every unit
//! file Debian's `systemd` package ships in `/lib/systemd/system` is loaded; Debian's own `dbus.socket` and
//! `dbus.service` from there, unmodified; the real `dbus-daemon --system --address=systemd:
//! --systemd-activation` with Debian's `/usr/share/dbus-1/system.conf` and the project's policy
//! in `/etc/dbus-1/system.d/`; the stock `systemctl`, `busctl` and `dbus-send` run inside the
//! namespace through `nsenter` against the system bus unitd brought up. The test's own units
//! live in a temporary directory bind-mounted on `/etc/systemd/system`, `/run` is the
//! namespace's own tmpfs: nothing on the host is written.
//!
//! Covered: boot (bus socket activation, names claimed, default.target with its enabled
//! units), stock systemctl over the bus (list-units, start, stop), bus activation through
//! `ActivationRequest` (a unit started for `StartServiceByName`) and `ActivationFailure` (an
//! error instead of a timeout), reaping of orphans that are not unitd's children, and the three
//! ways out — SIGTERM (`docker stop`), SIGRTMIN+4, `systemctl poweroff` and `systemctl
//! reboot` (poweroff.target / reboot.target when no logind answers), `systemctl --force
//! poweroff|halt|exit` (`Manager.PowerOff`/`Halt`/`Exit`) — each stopping every unit in
//! reverse order (`After=`), SIGKILLing a service that ignores SIGTERM after its
//! `TimeoutStopSec=`, and exiting 0. SIGHUP reloads unit files; when dbus-daemon is stopped,
//! the next client socket-activates it again and unitd reconnects and reclaims its names.

mod common;

use std::fs;

use common::init_ns::*;
use common::*;

/// Two services ordered `b After=a` that log their stop, and one that ignores SIGTERM.
fn ordered_units() -> Vec<(&'static str, &'static str, bool)> {
    vec![
        (
            "first.service",
            "[Service]\nExecStart=/bin/sleep 1000\n\
             ExecStop=/bin/sh -c 'echo stop first >> @T@/order'\n",
            true,
        ),
        (
            "second.service",
            "[Unit]\nAfter=first.service\n[Service]\nExecStart=/bin/sleep 1000\n\
             ExecStop=/bin/sh -c 'echo stop second >> @T@/order'\n",
            true,
        ),
        (
            "stubborn.service",
            "[Service]\nExecStart=/bin/sh -c \"trap '' TERM; while :; do sleep 0.1; done\"\n\
             TimeoutStopSec=1\n\
             ExecStopPost=/bin/sh -c 'echo $SERVICE_RESULT $EXIT_CODE $EXIT_STATUS >> @T@/stubborn'\n",
            true,
        ),
    ]
}

/// After a shutdown: every unit stopped in reverse order and the stubborn one was killed.
fn assert_clean_shutdown(ns: &mut InitNs, what: &str) {
    let code = ns.wait_exit();
    let log = ns.log_text();
    assert_eq!(code, 0, "{what}: unitd init exit status\n{log}");
    assert_eq!(
        ns.lines("order"),
        ["stop second", "stop first"],
        "{what}: stop order (second is After=first)\n{log}"
    );
    assert_eq!(
        ns.lines("stubborn"),
        ["timeout killed KILL"],
        "{what}: the service ignoring SIGTERM is SIGKILLed after TimeoutStopSec=\n{log}"
    );
    assert!(log.contains("all units stopped"), "{what}\n{log}");
}

#[test]
fn boots_the_system_bus_from_debians_units_and_serves_stock_systemctl() {
    if !prerequisites() {
        return;
    }
    let units = vec![
        (
            "enabled.service",
            "[Service]\nExecStart=/bin/sleep 1000\n",
            true,
        ),
        (
            "manual.service",
            "[Service]\nExecStart=/bin/sleep 1000\n",
            false,
        ),
        (
            // What dbus-daemon asks for when a client activates org.freedesktop.hostname1
            // (Debian's activation file says SystemdService=dbus-org.freedesktop.hostname1.service).
            "dbus-org.freedesktop.hostname1.service",
            "[Service]\nExecStart=/usr/bin/python3 -c \"import dbus, time; \
             b = dbus.SystemBus(); b.request_name('org.freedesktop.hostname1'); time.sleep(1000)\"\n",
            false,
        ),
        (
            "dbus-org.freedesktop.locale1.service",
            "[Service]\nType=oneshot\nExecStart=/bin/false\n",
            false,
        ),
    ];
    let ns = InitNs::start(&units);
    assert!(ns.log_text().contains("PID 1"), "{}", ns.log_text());

    // The marker stock clients check, inside the namespace only.
    let marker = ns.run("test", &["-d", "/run/systemd/system"]);
    assert_eq!(marker.code, 0, "/run/systemd/system in the namespace");

    // Debian's units, unmodified, are what runs the bus.
    let out = ns.expect_ok(&["list-units", "--all"]);
    for (unit, state) in [
        ("dbus.socket", "active"),
        ("dbus.service", "active"),
        ("enabled.service", "active"),
        ("multi-user.target", "active"),
    ] {
        let row = list_units_row(&out.stdout, unit)
            .unwrap_or_else(|| panic!("{unit} not listed\n{}", out.dump()));
        assert_eq!(row[2], state, "{unit}: {row:?}");
    }
    let fragment = ns.expect_ok(&["show", "-p", "FragmentPath", "--value", "dbus.service"]);
    assert!(
        [
            "/lib/systemd/system/dbus.service",
            "/usr/lib/systemd/system/dbus.service"
        ]
        .contains(&fragment.stdout.trim()),
        "{}",
        fragment.dump()
    );
    let exec = ns.expect_ok(&["show", "-p", "ExecStart", "dbus.service"]);
    assert!(
        exec.stdout.contains(
            "argv[]=/usr/bin/dbus-daemon --system --address=systemd: --nofork --nopidfile \
             --systemd-activation --syslog-only"
        ),
        "{}",
        exec.dump()
    );
    let dbus_pid: u32 = ns
        .expect_ok(&["show", "-p", "MainPID", "--value", "dbus.service"])
        .stdout
        .trim()
        .parse()
        .unwrap();
    assert!(dbus_pid > 1, "dbus-daemon's PID inside the namespace");
    let bus_owner = ns.run(
        "busctl",
        &[
            "--system",
            "status",
            "--no-pager",
            "org.freedesktop.systemd1",
        ],
    );
    assert!(
        bus_owner.stdout.contains("PID=1\n"),
        "org.freedesktop.systemd1 is owned by PID 1\n{}",
        bus_owner.dump()
    );

    let upstart = ns.run(
        "busctl",
        &["--system", "status", "--no-pager", "com.ubuntu.Upstart"],
    );
    assert!(
        upstart.stdout.contains("PID=1\n"),
        "com.ubuntu.Upstart is owned by PID 1\n{}\n{}",
        upstart.dump(),
        ns.log_text()
    );

    // SIGHUP is daemon-reload: a changed unit file takes effect.
    let enabled = ns.path().join("units/enabled.service");
    fs::write(
        &enabled,
        "[Unit]\nDescription=changed before SIGHUP\n[Service]\nExecStart=/bin/sleep 1000\n",
    )
    .unwrap();
    assert!(send_signal(ns.pid, "HUP"));
    wait_for("SIGHUP to reload enabled.service", TIMEOUT, || {
        ns.systemctl(&["show", "-p", "Description", "--value", "enabled.service"])
            .stdout
            .trim()
            == "changed before SIGHUP"
    });
    assert_eq!(
        ns.systemctl(&["is-active", "enabled.service"])
            .stdout
            .trim(),
        "active"
    );

    // Start and stop over the bus it brought up.
    assert_eq!(
        ns.systemctl(&["is-active", "manual.service"]).stdout.trim(),
        "inactive"
    );
    ns.expect_ok(&["start", "manual.service"]);
    assert_eq!(
        ns.systemctl(&["is-active", "manual.service"]).stdout.trim(),
        "active"
    );
    ns.expect_ok(&["stop", "manual.service"]);
    assert_eq!(
        ns.systemctl(&["is-active", "manual.service"]).stdout.trim(),
        "inactive"
    );

    // Bus activation: dbus-daemon sends ActivationRequest, unitd starts the unit.
    let started = ns.run(
        "busctl",
        &[
            "--system",
            "call",
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "StartServiceByName",
            "su",
            "org.freedesktop.hostname1",
            "0",
        ],
    );
    assert_eq!(
        started.stdout.trim(),
        "u 1",
        "{}\n{}",
        started.dump(),
        ns.log_text()
    );
    assert_eq!(
        ns.systemctl(&["is-active", "dbus-org.freedesktop.hostname1.service"])
            .stdout
            .trim(),
        "active"
    );
    // ActivationFailure makes dbus-daemon answer with unitd's error at once (instead of the
    // client waiting for the activation timeout): for a unit that does not exist
    // (org.freedesktop.network1 → dbus-org.freedesktop.network1.service, an alias only
    // `systemctl enable systemd-networkd` would create) ...
    let failed = ns.run(
        "busctl",
        &[
            "--system",
            "call",
            "org.freedesktop.network1",
            "/org/freedesktop/network1",
            "org.freedesktop.DBus.Peer",
            "Ping",
        ],
    );
    assert_ne!(failed.code, 0, "{}", failed.dump());
    assert!(
        failed
            .stderr
            .contains("Unit dbus-org.freedesktop.network1.service not found."),
        "{}",
        failed.dump()
    );
    // ... and for one whose start job fails.
    let failed = ns.run(
        "busctl",
        &[
            "--system",
            "call",
            "org.freedesktop.locale1",
            "/org/freedesktop/locale1",
            "org.freedesktop.DBus.Peer",
            "Ping",
        ],
    );
    assert_ne!(failed.code, 0, "{}", failed.dump());
    assert!(
        failed.stderr.contains(
            "Unit dbus-org.freedesktop.locale1.service failed to start (job result: failed)."
        ),
        "{}",
        failed.dump()
    );

    // Orphans that are not unitd's children: the subshell exits at once, its `sleep` is
    // re-parented to PID 1, and must be reaped when it ends.
    let orphan = ns.run(
        "sh",
        &[
            "-c",
            "(sleep 0.5 & echo $! > \"$1\") ; exit 0",
            "sh",
            &ns.path().join("orphan").display().to_string(),
        ],
    );
    assert_eq!(orphan.code, 0, "{}", orphan.dump());
    let orphan_pid: u32 = wait_for_value("the orphan's PID", TIMEOUT, || {
        fs::read_to_string(ns.path().join("orphan"))
            .ok()?
            .trim()
            .parse()
            .ok()
    });
    wait_for("the orphan to be reaped", TIMEOUT, || {
        !ns_processes(ns.pid)
            .iter()
            .any(|&(_, _, p)| p == orphan_pid)
    });
    let zombies: Vec<_> = ns_processes(ns.pid)
        .into_iter()
        .filter(|&(_, st, _)| st == 'Z')
        .collect();
    assert!(zombies.is_empty(), "zombies in the namespace: {zombies:?}");
}

#[test]
fn sigterm_stops_every_unit_in_reverse_order_and_exits_zero() {
    if !prerequisites() {
        return;
    }
    let mut ns = InitNs::start(&ordered_units());
    ns.expect_ok(&[
        "is-active",
        "first.service",
        "second.service",
        "stubborn.service",
    ]);
    // What `docker stop` does.
    assert!(send_signal(ns.pid, "TERM"));
    assert_clean_shutdown(&mut ns, "SIGTERM");
}

#[test]
fn systemctl_poweroff_stops_every_unit_and_exits_zero() {
    if !prerequisites() {
        return;
    }
    let mut ns = InitNs::start(&ordered_units());
    // No logind: systemctl's login1 call fails (unitd answers the activation with
    // ActivationFailure) and it falls back to starting poweroff.target.
    let out = ns.systemctl(&["poweroff"]);
    assert_eq!(out.code, 0, "{}\n{}", out.dump(), ns.log_text());
    assert_clean_shutdown(&mut ns, "systemctl poweroff");
}

#[test]
fn manager_exit_stops_every_unit_and_exits_zero() {
    if !prerequisites() {
        return;
    }
    let mut ns = InitNs::start(&ordered_units());
    // `--force exit` calls Manager.Exit() directly.
    let out = ns.systemctl(&["--force", "exit"]);
    assert_eq!(out.code, 0, "{}\n{}", out.dump(), ns.log_text());
    assert_clean_shutdown(&mut ns, "Manager.Exit");
}

#[test]
fn the_other_ways_out_stop_every_unit_and_exit_zero() {
    if !prerequisites() {
        return;
    }
    // Manager.PowerOff() and Manager.Halt() (what `--force` calls), reboot.target (what plain
    // `systemctl reboot` starts without logind), and SIGRTMIN+4 (a container runtime's
    // power-off signal for a systemd PID 1).
    let ways: [(&str, &[&str]); 4] = [
        ("systemctl --force poweroff", &["--force", "poweroff"]),
        ("systemctl --force halt", &["--force", "halt"]),
        ("systemctl reboot", &["reboot"]),
        ("SIGRTMIN+4", &[]),
    ];
    for (what, args) in ways {
        let mut ns = InitNs::start(&ordered_units());
        if args.is_empty() {
            assert!(send_signal(ns.pid, "RTMIN+4"), "{what}");
        } else {
            let out = ns.systemctl(args);
            assert_eq!(out.code, 0, "{what}\n{}\n{}", out.dump(), ns.log_text());
        }
        assert_clean_shutdown(&mut ns, what);
    }
}

#[test]
fn the_bus_comes_back_when_dbus_is_restarted() {
    if !prerequisites() {
        return;
    }
    let ns = InitNs::start(&ordered_units());
    let main_pid = |ns: &InitNs| {
        ns.run_via(
            "systemctl",
            &["show", "-p", "MainPID", "--value", "dbus.service"],
            false,
        )
        .stdout
        .trim()
        .to_string()
    };
    let before = main_pid(&ns);
    // Stop the bus itself (over the private socket: the bus goes away under the call).
    let out = ns.run_via("systemctl", &["stop", "dbus.service"], false);
    assert_eq!(out.code, 0, "{}\n{}", out.dump(), ns.log_text());
    wait_for("unitd to notice the bus is gone", TIMEOUT, || {
        ns.log_text().contains("lost the system bus")
    });
    // The next client's connection socket-activates dbus.service (dbus.socket kept
    // listening); dbus-daemon holds the call for org.freedesktop.systemd1 until unitd has
    // connected again and claimed the name.
    let out = ns.systemctl(&[
        "is-active",
        "dbus.service",
        "multi-user.target",
        "first.service",
    ]);
    assert_eq!(
        out.stdout.split_whitespace().collect::<Vec<_>>(),
        ["active", "active", "active"],
        "{}\n{}",
        out.dump(),
        ns.log_text()
    );
    assert_ne!(main_pid(&ns), before, "a new dbus-daemon");
    assert!(
        ns.log_text().contains("connected to the system bus again"),
        "{}",
        ns.log_text()
    );
    let owner = ns.run(
        "busctl",
        &[
            "--system",
            "status",
            "--no-pager",
            "org.freedesktop.systemd1",
        ],
    );
    assert!(owner.stdout.contains("PID=1\n"), "{}", owner.dump());
}

#[test]
fn what_outlives_the_shutdown_budget_is_killed_and_the_exit_status_says_so() {
    if !prerequisites() {
        return;
    }
    // Its own stop timeout is far beyond unitd's shutdown budget of 1 s.
    let units = [(
        "stubborn.service",
        "[Service]\nExecStart=/bin/sh -c \"trap '' TERM; echo $$$$ > @T@/pid; \
         while :; do sleep 0.1; done\"\nTimeoutStopSec=300\n",
        true,
    )];
    let mut ns = InitNs::start_with_budget(&units, "1");
    let pid: u32 = wait_for_value("stubborn's PID", TIMEOUT, || {
        fs::read_to_string(ns.path().join("pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    });
    assert!(send_signal(ns.pid, "TERM"));
    let code = ns.wait_exit();
    let log = ns.log_text();
    assert_eq!(code, 1, "budget exhausted: exit status 1\n{log}");
    assert!(log.contains("shutdown budget exhausted"), "{log}");
    assert!(
        log.contains("stubborn.service: killing"),
        "unitd SIGKILLs what is left (PID {pid} in the namespace)\n{log}"
    );
}
