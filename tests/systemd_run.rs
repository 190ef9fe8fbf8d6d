//! Acceptance: the stock `systemd-run --user` (systemd 252) against `unitd serve --user`:
//! `StartTransientUnit` with Description, ExecStart, Environment, AddRef; `--wait` returns the
//! command's exit status and prints systemd's summary; name clashes give `UnitExists`;
//! transient units survive daemon-reload and are garbage-collected once finished and
//! unreferenced.

mod common;

use common::*;

fn run(m: &UserManager, args: &[&str]) -> Output {
    let mut full = vec!["--user"];
    full.extend_from_slice(args);
    m.systemctl_runner().run_other("systemd-run", &full)
}

#[test]
fn run_wait_reports_success_and_sees_the_environment() {
    let Some(m) = UserManager::start_requiring(&[], &["systemd-run"]) else {
        return;
    };
    let file = m.dir.path().join("greeting");
    let script = format!("echo $GREETING > {}", file.display());
    let out = run(
        &m,
        &[
            "--wait",
            "--unit=hello",
            "-p",
            "Description=Say hello",
            "-E",
            "GREETING=hi there",
            "/bin/sh",
            "-c",
            &script,
        ],
    );
    m.check(out.code == 0, "systemd-run --wait exits 0", &out);
    m.check(
        out.stderr.contains("Running as unit: hello.service")
            && out.stderr.contains("Finished with result: success")
            && out
                .stderr
                .contains("Main processes terminated with: code=exited/status=0"),
        "systemd-run prints systemd's summary",
        &out,
    );
    assert_eq!(read_lossy(&file).trim(), "hi there");
    // The summary above was read after the unit ended: the AddRef reference kept it. Once the
    // client is gone the finished transient unit is garbage-collected (UnitRemoved): asking
    // for it again yields a fresh not-found unit without the old description.
    m.wait_prop(
        "hello.service",
        "LoadState",
        "transient unit collected",
        |v| v == "not-found",
    );
    assert_eq!(m.show("hello.service", "Description"), "hello.service");
}

#[test]
fn run_wait_returns_the_exit_status() {
    let Some(m) = UserManager::start_requiring(&[], &["systemd-run"]) else {
        return;
    };
    let out = run(&m, &["--wait", "/bin/sh", "-c", "exit 7"]);
    m.check(
        out.code == 7,
        "systemd-run --wait exits with the status",
        &out,
    );
    m.check(
        out.stderr.contains("Finished with result: exit-code")
            && out.stderr.contains("code=exited/status=7"),
        "failure summary",
        &out,
    );
}

#[test]
fn run_in_background_name_clash_and_reload() {
    let Some(m) = UserManager::start_requiring(&[], &["systemd-run"]) else {
        return;
    };
    let out = run(&m, &["--unit=bg", "/bin/sleep", "infinity"]);
    m.check(out.code == 0, "systemd-run without --wait", &out);
    m.check(
        out.stderr.contains("Running as unit: bg.service"),
        "names the unit",
        &out,
    );
    assert_eq!(m.show("bg.service", "ActiveState"), "active");
    let pid = m.main_pid("bg.service");
    assert_eq!(proc_cmdline(pid), ["/bin/sleep", "infinity"]);
    assert_eq!(m.show("bg.service", "Description"), "/bin/sleep infinity");

    let out = run(&m, &["--unit=bg", "/bin/true"]);
    m.check(
        out.code == 1
            && out.stderr.contains(
                "Failed to start transient service unit: Unit bg.service was already loaded \
                 or has a fragment file.",
            ),
        "a second unit of the same name: UnitExists",
        &out,
    );
    // A unit file of that name counts as existing too.
    m.write_unit("onfile.service", "[Service]\nExecStart=/bin/true\n");
    m.expect(0, &["daemon-reload"]);
    let out = run(&m, &["--unit=onfile", "/bin/true"]);
    m.check(out.code == 1, "clash with a unit file", &out);

    // daemon-reload keeps the transient unit and its process.
    assert_eq!(m.show("bg.service", "ActiveState"), "active");
    assert_eq!(m.main_pid("bg.service"), pid);
    m.expect(0, &["stop", "bg.service"]);
    m.wait_gone(pid, "stop transient");

    // Unsupported properties are refused, not ignored (cgroup limits cannot be enforced).
    let out = run(&m, &["--unit=limited", "-p", "CPUQuota=20%", "/bin/true"]);
    m.check(
        out.code == 1
            && out
                .stderr
                .contains("Cannot set property CPUQuotaPerSecUSec, or unknown property."),
        "an unsupported property is an error",
        &out,
    );
}
