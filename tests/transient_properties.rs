//! Acceptance: scopes that outlive their manager and take more processes, slices, and
//! runtime properties — `Scope.Abandon()`, `AttachProcessesToUnit`, `Slice=`/`Delegate=` on
//! transient units, the built-in slices, and `SetUnitProperties` (`systemctl --user
//! set-property [--runtime]`), all with stock clients (systemd-run, systemctl, dbus-send)
//! against a private bus, with systemd 252's error names for bad input.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

const M: &str = "org.freedesktop.systemd1.Manager";

/// `dbus-send --print-reply` to `path`; returns (exit code, stdout + stderr).
fn dbus_send(m: &UserManager, path: &str, method: &str, args: &[&str]) -> (i32, String) {
    let out = run_with_timeout(
        Command::new("dbus-send")
            .arg(format!("--bus={}", m.bus.address()))
            .args([
                "--print-reply",
                "--dest=org.freedesktop.systemd1",
                path,
                method,
            ])
            .args(args),
        &format!("dbus-send {method}"),
        Duration::from_secs(20),
    );
    (out.code, out.all())
}

fn manager_call(m: &UserManager, member: &str, args: &[&str]) -> (i32, String) {
    dbus_send(
        m,
        "/org/freedesktop/systemd1",
        &format!("{M}.{member}"),
        args,
    )
}

/// `gdbus call` on the manager (GVariant text arguments, for `a(sv)`); (exit code, output).
fn gdbus_call(m: &UserManager, member: &str, args: &[&str]) -> (i32, String) {
    let out = run_with_timeout(
        Command::new("gdbus")
            .args(["call", "--address", m.bus.address()])
            .args(["--dest", "org.freedesktop.systemd1"])
            .args(["--object-path", "/org/freedesktop/systemd1"])
            .args(["--method", &format!("{M}.{member}")])
            .args(args),
        &format!("gdbus call {member}"),
        Duration::from_secs(20),
    );
    (out.code, out.all())
}

fn tools_present() -> bool {
    for tool in ["systemd-run", "dbus-send", "gdbus"] {
        if which(tool).is_none() {
            eprintln!("skipped: {tool} not installed");
            return false;
        }
    }
    true
}

/// A `sleep` started by the test itself (not by unitd), killed and reaped on drop.
struct Sleeper(std::process::Child);

impl Sleeper {
    fn start() -> Sleeper {
        Sleeper(
            Command::new("/bin/sleep")
                .arg("1000")
                .stdin(Stdio::null())
                .spawn()
                .expect("spawn sleep"),
        )
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Start `systemd-run --user --scope ARGS… /bin/sleep 1000` in the background and wait until
/// the scope `unit` is active; the client process (exec'd into sleep) is returned.
fn background_scope(m: &UserManager, unit: &str, extra: &[&str]) -> std::process::Child {
    let mut args = vec!["--user", "--scope"];
    let unit_arg = format!("--unit={unit}");
    args.push(&unit_arg);
    args.extend_from_slice(extra);
    args.extend_from_slice(&["/bin/sleep", "1000"]);
    let mut cmd = in_namespace(
        "systemd-run",
        &args,
        &client_env(m.bus.address(), &m.dir.xdg()),
    );
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let child = cmd.spawn().expect("spawn systemd-run");
    m.track(child.id());
    m.wait_prop(unit, "ActiveState", "scope running", |v| v == "active");
    child
}

#[test]
fn abandon_and_attach_processes() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    if !tools_present() {
        return;
    }
    let mut client = background_scope(&m, "keep.scope", &["-p", "Delegate=yes"]);
    assert_eq!(m.show("keep.scope", "Delegate"), "yes");
    // No Slice=: systemd's user manager puts the scope in app.slice.
    assert_eq!(m.show("keep.scope", "Slice"), "app.slice");

    // A process the test started joins the delegated scope.
    let mut extra = Sleeper::start();
    let pid = extra.pid().to_string();
    let (code, out) = manager_call(
        &m,
        "AttachProcessesToUnit",
        &[
            "string:keep.scope",
            "string:",
            &format!("array:uint32:{pid}"),
        ],
    );
    assert_eq!(code, 0, "{out}");
    let st = m.expect(0, &["status", &pid]);
    m.check(
        st.stdout.starts_with("● keep.scope"),
        "the attached process belongs to the scope",
        &st,
    );

    // Bad input gets systemd's errors.
    let (code, out) = manager_call(
        &m,
        "AttachProcessesToUnit",
        &["string:keep.scope", "string:", "array:uint32:2147483000"],
    );
    assert!(
        code != 0
            && out.contains("org.freedesktop.DBus.Error.UnixProcessIdUnknown")
            && out.contains("Process with ID 2147483000 does not exist."),
        "{out}"
    );
    let (code, out) = manager_call(
        &m,
        "AttachProcessesToUnit",
        &[
            "string:keep.scope",
            "string:x/y",
            &format!("array:uint32:{pid}"),
        ],
    );
    assert!(
        code != 0
            && out.contains("org.freedesktop.DBus.Error.InvalidArgs")
            && out.contains("Control group path is not absolute: x/y"),
        "{out}"
    );
    let (code, out) = manager_call(
        &m,
        "AttachProcessesToUnit",
        &[
            "string:nosuch.scope",
            "string:",
            &format!("array:uint32:{pid}"),
        ],
    );
    assert!(
        code != 0 && out.contains("org.freedesktop.systemd1.NoSuchUnit"),
        "{out}"
    );
    // A scope without Delegate= takes no processes.
    let mut plain = background_scope(&m, "plain.scope", &[]);
    let (code, out) = manager_call(
        &m,
        "AttachProcessesToUnit",
        &[
            "string:plain.scope",
            "string:",
            &format!("array:uint32:{pid}"),
        ],
    );
    assert!(
        code != 0
            && out.contains("org.freedesktop.DBus.Error.InvalidArgs")
            && out.contains("Process migration not available on non-delegated units."),
        "{out}"
    );
    m.expect(0, &["stop", "plain.scope"]);
    let _ = plain.wait();

    // Abandon: the scope stays active with its processes until they are gone.
    let path = "/org/freedesktop/systemd1/unit/keep_2escope";
    let (code, out) = dbus_send(&m, path, "org.freedesktop.systemd1.Scope.Abandon", &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(m.show("keep.scope", "SubState"), "abandoned");
    assert_eq!(m.show("keep.scope", "ActiveState"), "active");
    assert!(pid_alive(client.id()) && pid_alive(extra.pid()));
    // Abandoning again is fine (systemd allows it).
    let (code, out) = dbus_send(&m, path, "org.freedesktop.systemd1.Scope.Abandon", &[]);
    assert_eq!(code, 0, "{out}");
    // The scope ends when the last of its processes is gone.
    let _ = client.kill();
    let _ = client.wait();
    assert_eq!(m.show("keep.scope", "SubState"), "abandoned");
    extra.stop();
    m.wait_prop("keep.scope", "LoadState", "abandoned scope ended", |v| {
        v == "not-found"
    });
    // A scope that is not running cannot be abandoned.
    let (code, out) = dbus_send(&m, path, "org.freedesktop.systemd1.Scope.Abandon", &[]);
    assert!(
        code != 0
            && out.contains("org.freedesktop.systemd1.ScopeNotRunning")
            && out.contains("Scope keep.scope is not running, cannot abandon."),
        "{out}"
    );
}

#[test]
fn slices_and_transient_slice_property() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    if !tools_present() {
        return;
    }
    // The user manager's built-in slices load without files.
    assert_eq!(m.show("app.slice", "LoadState"), "loaded");
    assert_eq!(m.show("app.slice", "Description"), "User Application Slice");
    let root = m.expect(
        0,
        &["show", "-p", "Description", "--value", "--", "-.slice"],
    );
    assert_eq!(root.stdout.trim(), "Root Slice");
    assert!(m.show("app.slice", "Requires").contains("-.slice"));
    assert_eq!(m.show("app.slice", "Slice"), "-.slice");

    // A transient service in a slice of its own: the slice is pulled in and started.
    let out = m.systemctl_runner().run_other(
        "systemd-run",
        &[
            "--user",
            "--unit=inslice",
            "--slice=work-batch.slice",
            "/bin/sleep",
            "1000",
        ],
    );
    m.check(out.code == 0, "systemd-run --slice", &out);
    m.wait_prop("inslice.service", "ActiveState", "service running", |v| {
        v == "active"
    });
    assert_eq!(m.show("inslice.service", "Slice"), "work-batch.slice");
    let requires = m.show("inslice.service", "Requires");
    assert!(requires.contains("work-batch.slice"), "{requires}");
    assert_eq!(m.show("work-batch.slice", "ActiveState"), "active");
    assert_eq!(m.show("work-batch.slice", "SubState"), "active");
    // A dash nests: work-batch.slice lives in work.slice.
    assert!(
        m.show("work-batch.slice", "Requires")
            .contains("work.slice")
    );
    assert_eq!(m.show("work.slice", "ActiveState"), "active");
    m.expect(0, &["stop", "inslice.service"]);

    // Slice= must name a slice.
    let (code, out) = gdbus_call(
        &m,
        "StartTransientUnit",
        &["bad.service", "fail", "[('Slice', <'foo.service'>)]", "[]"],
    );
    assert!(
        code != 0
            && out.contains("org.freedesktop.DBus.Error.InvalidArgs")
            && out.contains("Unit name 'foo.service' is not a slice"),
        "{out}"
    );
}

#[test]
fn set_property_runtime_and_persistent() {
    let unit = "[Unit]\nDescription=Original\n[Service]\nExecStart=/bin/sleep 1000\n";
    let Some(m) = UserManager::start(&[("desc.service", unit)]) else {
        return;
    };
    if !tools_present() {
        return;
    }
    m.expect(0, &["start", "desc.service"]);
    let pid = m.main_pid("desc.service");

    // --runtime: a drop-in under $XDG_RUNTIME_DIR/systemd/user.control, applied at once.
    m.expect(
        0,
        &[
            "set-property",
            "--runtime",
            "desc.service",
            "Description=Runtime text",
        ],
    );
    assert_eq!(m.show("desc.service", "Description"), "Runtime text");
    let runtime_dropin = m
        .dir
        .xdg()
        .join("systemd/user.control/desc.service.d/50-Description.conf");
    let text = read_lossy(&runtime_dropin);
    assert!(
        text.starts_with(
            "# This is a drop-in unit file extension, created via \"systemctl set-property\"\n"
        ) && text.ends_with("[Unit]\nDescription=Runtime text\n"),
        "{text}"
    );
    let dropins = m.show("desc.service", "DropInPaths");
    assert!(
        dropins.contains(&runtime_dropin.display().to_string()),
        "{dropins}"
    );
    // The running process is untouched, and daemon-reload keeps the setting.
    assert_eq!(m.main_pid("desc.service"), pid);
    m.expect(0, &["daemon-reload"]);
    assert_eq!(m.show("desc.service", "Description"), "Runtime text");

    // Persistent: ~/.config/systemd/user.control, which takes precedence over the runtime one.
    m.expect(
        0,
        &[
            "set-property",
            "desc.service",
            "Description=Persistent text",
        ],
    );
    let persistent = m
        .dir
        .home()
        .join(".config/systemd/user.control/desc.service.d/50-Description.conf");
    assert!(read_lossy(&persistent).ends_with("Description=Persistent text\n"));
    assert_eq!(m.show("desc.service", "Description"), "Persistent text");
    m.expect(0, &["daemon-reload"]);
    assert_eq!(m.show("desc.service", "Description"), "Persistent text");
    assert_eq!(m.main_pid("desc.service"), pid);

    // What unitd cannot enforce is refused like an unknown property, and nothing is applied.
    let out = m.systemctl(&[
        "set-property",
        "desc.service",
        "Description=Not applied",
        "CPUQuota=20%",
    ]);
    m.check(
        out.code == 1
            && out.stderr.contains(
                "Failed to set unit properties on desc.service: Cannot set property \
                 CPUQuotaPerSecUSec, or unknown property.",
            ),
        "set-property CPUQuota is refused",
        &out,
    );
    assert_eq!(m.show("desc.service", "Description"), "Persistent text");
    let out = m.systemctl(&["set-property", "nope.service", "Description=x"]);
    m.check(
        out.code == 1 && out.stderr.contains("Unit nope.service not found."),
        "set-property on a unit that does not exist",
        &out,
    );
    // Error names over raw D-Bus.
    let (code, out) = gdbus_call(
        &m,
        "SetUnitProperties",
        &["desc.service", "true", "[('Bogus', <'x'>)]"],
    );
    assert!(
        code != 0
            && out.contains("org.freedesktop.DBus.Error.PropertyReadOnly")
            && out.contains("Cannot set property Bogus, or unknown property."),
        "{out}"
    );
    let (code, out) = gdbus_call(
        &m,
        "SetUnitProperties",
        &["desc.service", "true", "[('Description', <uint32 5>)]"],
    );
    assert!(code != 0 && out.contains("System.Error.ENXIO"), "{out}");
    assert_eq!(m.show("desc.service", "Description"), "Persistent text");
    // The unit object's own SetProperties does the same.
    let out = run_with_timeout(
        Command::new("gdbus")
            .args(["call", "--address", m.bus.address()])
            .args(["--dest", "org.freedesktop.systemd1"])
            .args([
                "--object-path",
                "/org/freedesktop/systemd1/unit/desc_2eservice",
            ])
            .args(["--method", "org.freedesktop.systemd1.Unit.SetProperties"])
            .args(["true", "[('Description', <'Via the unit'>)]"]),
        "gdbus Unit.SetProperties",
        Duration::from_secs(20),
    );
    assert_eq!(out.code, 0, "{}", out.all());
    // Live at once; on reload the persistent drop-in (same name, higher priority) wins
    // over the runtime one again, as in systemd.
    assert_eq!(m.show("desc.service", "Description"), "Via the unit");
    assert!(read_lossy(&runtime_dropin).ends_with("Description=Via the unit\n"));
    m.expect(0, &["daemon-reload"]);
    assert_eq!(m.show("desc.service", "Description"), "Persistent text");
    m.expect(0, &["stop", "desc.service"]);
}

#[test]
fn set_property_on_a_transient_unit() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    if !tools_present() {
        return;
    }
    let out = m.systemctl_runner().run_other(
        "systemd-run",
        &["--user", "--unit=tr", "/bin/sleep", "1000"],
    );
    m.check(out.code == 0, "systemd-run", &out);
    m.wait_prop("tr.service", "ActiveState", "running", |v| v == "active");
    // Like systemd, the unit has a file in the transient directory.
    let file = m.dir.xdg().join("systemd/transient/tr.service");
    assert_eq!(
        m.show("tr.service", "FragmentPath"),
        file.display().to_string()
    );
    assert_eq!(m.show("tr.service", "UnitFileState"), "transient");
    // (systemctl counts only enabled/static/indirect/generated units as enabled: exit 1.)
    let out = m.expect(1, &["is-enabled", "tr.service"]);
    assert_eq!(out.stdout.trim(), "transient");
    let out = m.expect(0, &["cat", "tr.service"]);
    m.check(
        out.stdout.contains("ExecStart=") && out.stdout.contains("/bin/sleep"),
        "systemctl cat shows the transient unit file",
        &out,
    );
    // Without --runtime too, a transient unit's drop-in goes to the runtime directory.
    m.expect(0, &["set-property", "tr.service", "Description=Renamed"]);
    assert_eq!(m.show("tr.service", "Description"), "Renamed");
    let dropin = m
        .dir
        .xdg()
        .join("systemd/user.control/tr.service.d/50-Description.conf");
    assert!(dropin.exists());
    m.expect(0, &["daemon-reload"]);
    assert_eq!(m.show("tr.service", "Description"), "Renamed");
    // The drop-in goes with the unit.
    m.expect(0, &["stop", "tr.service"]);
    m.wait_prop("tr.service", "LoadState", "transient unit collected", |v| {
        v == "not-found"
    });
    assert!(!dropin.exists());
    assert!(!file.exists(), "the transient unit file goes with the unit");
}

#[test]
fn socket_with_auxiliary_service() {
    let Some(m) = UserManager::start(&[("clash.service", "[Service]\nExecStart=/bin/true\n")])
    else {
        return;
    };
    if !tools_present() {
        return;
    }
    let sock = m.dir.path().join("listener.sock");
    let marker = m.dir.path().join("started");
    // systemd-run makes the socket the main unit and the service an auxiliary unit of the
    // same StartTransientUnit call.
    let script = format!("echo started > {}; exec /bin/sleep 1000", marker.display());
    let listen = format!("--socket-property=ListenStream={}", sock.display());
    let out = m.systemctl_runner().run_other(
        "systemd-run",
        &[
            "--user",
            "--unit=listener",
            &listen,
            "/bin/sh",
            "-c",
            &script,
        ],
    );
    m.check(
        out.code == 0
            && out
                .stderr
                .contains("Running socket as unit: listener.socket"),
        "systemd-run --socket-property",
        &out,
    );
    assert_eq!(m.show("listener.socket", "ActiveState"), "active");
    assert_eq!(m.show("listener.service", "LoadState"), "loaded");
    assert_eq!(m.show("listener.service", "ActiveState"), "inactive");
    // Traffic starts the auxiliary service.
    let _conn = std::os::unix::net::UnixStream::connect(&sock).expect("connect");
    m.wait_prop(
        "listener.service",
        "ActiveState",
        "activated by traffic",
        |v| v == "active",
    );
    wait_for("service ran", TIMEOUT, || {
        read_lossy(&marker).contains("started")
    });
    m.expect(0, &["stop", "listener.service", "listener.socket"]);

    // An auxiliary unit that exists already refuses the whole call: nothing is created.
    let listen = format!(
        "--socket-property=ListenStream={}",
        m.dir.path().join("clash.sock").display()
    );
    let out = m.systemctl_runner().run_other(
        "systemd-run",
        &["--user", "--unit=clash", &listen, "/bin/true"],
    );
    m.check(
        out.code != 0
            && out
                .stderr
                .contains("Unit clash.service was already loaded or has a fragment file."),
        "aux unit clash: UnitExists",
        &out,
    );
    assert_eq!(m.show("clash.socket", "LoadState"), "not-found");
    // Same for the error name over raw D-Bus.
    let (code, out) = gdbus_call(
        &m,
        "StartTransientUnit",
        &[
            "fresh.service",
            "fail",
            "[('ExecStart', <[('/bin/true', ['/bin/true'], false)]>)]",
            "[('clash.service', [('Description', <'x'>)])]",
        ],
    );
    assert!(
        code != 0 && out.contains("org.freedesktop.systemd1.UnitExists"),
        "{out}"
    );
    assert_eq!(m.show("fresh.service", "LoadState"), "not-found");
}
