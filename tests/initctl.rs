//! Acceptance: `unitd initctl` (and the binary invoked as `initctl`) against the Upstart API of a
//! live unitd on a private session bus: initctl's output formats (`job goal/state, process N`,
//! `stop/waiting`, show-config's bracketed conditions, version) and exit codes.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

#[test]
fn initctl_output_formats_and_exit_codes() {
    let Some(m) = upstart_session(&[], &[]) else {
        return;
    };
    m.load_jobs(&[("sleeper", "start on started nginx and (deploy ENV=prod or manual-go)\nstop on runlevel [!2345]\nemits ready\nexec /bin/sleep infinity\n"), ("boom", "start on boom\ntask\nexec /bin/false\n")]);
    let unitd = unitd_bin();
    let ic = |args: &[&str]| m.initctl(args);

    let out = ic(&["version"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "init (upstart 1.13.2)\n");

    let out = ic(&["status", "sleeper"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "sleeper stop/waiting\n")
    );

    let out = ic(&["show-config", "sleeper"]);
    assert_eq!(
        out.stdout,
        "sleeper\n  emits ready\n  start on (started nginx and (deploy ENV=prod or manual-go))\n  stop on runlevel [!2345]\n",
        "{}",
        out.all()
    );

    let out = ic(&["start", "sleeper"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let pid = m.main_pid("sleeper.service");
    m.track(pid);
    assert_eq!(
        out.stdout,
        format!("sleeper start/running, process {pid}\n")
    );
    assert_eq!(m.show("sleeper.service", "ActiveState"), "active");

    let out = ic(&["start", "sleeper"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("initctl: Job is already running: sleeper"),
        "{}",
        out.all()
    );

    let out = ic(&["list"]);
    assert!(
        out.stdout
            .lines()
            .any(|l| l == format!("sleeper start/running, process {pid}")),
        "{}",
        out.all()
    );
    assert!(
        out.stdout.lines().any(|l| l == "boom stop/waiting"),
        "{}",
        out.all()
    );

    // The binary invoked as `initctl` (multicall).
    let link = m.dir.path().join("initctl");
    std::os::unix::fs::symlink(&unitd, &link).unwrap();
    let out = m.initctl_as(&link, &[], &["status", "sleeper"]);
    assert_eq!(
        out.stdout,
        format!("sleeper start/running, process {pid}\n")
    );

    let out = ic(&["stop", "sleeper"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "sleeper stop/waiting\n"),
        "{}",
        out.all()
    );
    m.wait_gone(pid, "sleeper");

    let out = ic(&["stop", "sleeper"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("initctl: Unknown instance: "),
        "{}",
        out.all()
    );

    let out = ic(&["status", "nope"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("initctl: Unknown job: nope"),
        "{}",
        out.all()
    );

    let out = ic(&["emit", "boom"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("initctl: Event failed"),
        "{}",
        out.all()
    );
    let out = ic(&["emit", "nothing-listens", "A=1"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{}", out.all());

    let out = ic(&["log-priority"]);
    assert_eq!(out.stdout, "message\n");
    assert_eq!(ic(&["log-priority", "info"]).code, 0);
    assert_eq!(ic(&["log-priority"]).stdout, "info\n");

    let out = ic(&["list-env"]);
    assert!(
        out.stdout.lines().any(|l| l.starts_with("PATH=")),
        "{}",
        out.all()
    );
    let mut sorted: Vec<&str> = out.stdout.lines().collect();
    sorted.sort();
    assert_eq!(sorted, out.stdout.lines().collect::<Vec<_>>());

    assert_eq!(ic(&["set-env", "FOO=bar"]).code, 0);
    assert_eq!(ic(&["get-env", "FOO"]).stdout, "bar\n");
    assert_eq!(ic(&["set-env", "--retain", "FOO=baz"]).code, 0);
    assert_eq!(ic(&["get-env", "FOO"]).stdout, "bar\n");
    assert_eq!(ic(&["unset-env", "FOO"]).code, 0);
    let out = ic(&["get-env", "FOO"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("initctl: No such variable: FOO"),
        "{}",
        out.all()
    );

    // reset-env: back to the environment at start (FOO set again first).
    let before = ic(&["list-env"]).stdout;
    assert_eq!(ic(&["set-env", "FOO=again"]).code, 0);
    assert_eq!(ic(&["unset-env", "PATH"]).code, 0);
    assert_ne!(ic(&["list-env"]).stdout, before);
    let out = ic(&["reset-env"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(ic(&["list-env"]).stdout, before);

    let out = ic(&["frobnicate"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("invalid command: frobnicate"),
        "{}",
        out.all()
    );
}

#[test]
fn initctl_usage_notify_help_and_sessions() {
    let Some(m) = upstart_session(&[], &[]) else {
        return;
    };
    m.load_jobs(&[
        (
            "tty",
            "instance $TTY\nusage \"tty TTY=<device>\"\nexec /bin/sleep infinity\n",
        ),
        ("plain", "start on poke\nexec /bin/sleep infinity\n"),
    ]);
    let unitd = unitd_bin();
    let ic = |args: &[&str]| m.initctl(args);

    let out = ic(&["usage", "tty"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "Usage: tty TTY=<device>\n")
    );
    let out = ic(&["usage", "plain"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "Usage: \n"));
    let out = ic(&["usage", "nope"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "initctl: Unknown job: nope\n");
    let out = ic(&["usage"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.starts_with("initctl: missing job name\n"),
        "{}",
        out.all()
    );
    // The instance expansion error carries the usage (Job.Start).
    let out = ic(&["start", "tty"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "initctl: Unknown parameter: TTY\nUsage: tty TTY=<device>\n"
    );

    for args in [
        &["notify-disk-writeable"][..],
        &["notify-dbus-address", "unix:path=/nonexistent"],
        &[
            "notify-cgroup-manager-address",
            "unix:path=/nonexistent/cgm",
        ],
    ] {
        let out = ic(args);
        assert_eq!((out.code, out.all().as_str()), (0, ""), "{args:?}");
    }
    let out = ic(&["notify-dbus-address"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.starts_with("initctl: missing D-Bus address\n"),
        "{}",
        out.all()
    );
    let out = ic(&["notify-cgroup-manager-address"]);
    assert!(
        out.stderr.starts_with("initctl: missing address\n"),
        "{}",
        out.all()
    );

    // emit --no-wait returns at once; the job still starts.
    let out = ic(&["emit", "--no-wait", "poke"]);
    assert_eq!((out.code, out.all().as_str()), (0, ""));
    wait_for("plain running", Duration::from_secs(10), || {
        ic(&["status", "plain"])
            .stdout
            .starts_with("plain start/running")
    });

    let out = ic(&["help"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout
            .starts_with("Job commands:\n  start                       Start job.\n")
    );
    assert!(out.stdout.contains(
        "  notify-cgroup-manager-address\n                              Inform Upstart of D-Bus address cgroup manager is\n                                available on.\n"
    ));
    assert!(out.stdout.ends_with(
        "  help                        display list of commands\n\nFor more information on a command, try `initctl COMMAND --help'.\n"
    ));
    let out = ic(&["--help"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.starts_with(
        "Usage: initctl [OPTION]... COMMAND [OPTION]... [ARG]...\n\nOptions:\n      --session               use existing D-Bus session bus to connect to init\n                                daemon (for testing)\n"
    ), "{}", out.stdout);

    let out = ic(&["--version"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            0,
            "initctl (upstart 1.13.2)\nCopyright \u{a9} 2006-2014 Canonical Ltd., 2011 Scott James Remnant\n\n\
             This is free software; see the source for copying conditions.  There is NO\n\
             warranty; not even for MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.\n"
        )
    );

    // list-sessions reads the Session Init files without connecting: none here.
    let rt = m.dir.path().join("rt");
    std::fs::create_dir_all(&rt).unwrap();
    let mut cmd = Command::new(&unitd);
    cmd.args(["initctl", "list-sessions"])
        .env("XDG_RUNTIME_DIR", &rt)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
    let out = run_with_timeout(&mut cmd, "initctl", Duration::from_secs(30));
    assert_eq!((out.code, out.all().as_str()), (0, ""));
    assert!(rt.join("upstart/sessions").is_dir());
    let mut cmd = Command::new(&unitd);
    cmd.args(["initctl", "list-sessions"])
        .env_remove("XDG_RUNTIME_DIR");
    let out = run_with_timeout(&mut cmd, "initctl", Duration::from_secs(30));
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (1, "initctl: Unable to query session directory\n")
    );
}
