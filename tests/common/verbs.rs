//! The stock `systemctl` verb matrix written once for both scopes: the user-scope suites
//! (tests/systemctl_install.rs, tests/systemctl_verbs.rs, against [`UserManager`]) and the
//! system-scope suite (tests/system_scope_verbs.rs, its own `System` driver) run the same
//! steps through [`VerbDriver`], so an expectation (text, exit code — systemd 252's) is stated
//! in one place. Each step names the units it needs and the state it leaves; the unit texts
//! are here too ([`sleeper`], [`installable`], …). Every wait is bounded by the driver's
//! timeout ([`TIMEOUT`](super::TIMEOUT)).

use std::path::{Path, PathBuf};

use super::{Output, UserManager, list_units_row, pid_alive, read_lossy};

/// What a scope's test harness offers the shared steps: the stock `systemctl` of that scope
/// and where its files live.
pub trait VerbDriver {
    /// Run `systemctl ARGS…` and insist on exit `code` (the failure shows the manager's log).
    fn expect(&self, code: i32, args: &[&str]) -> Output;
    /// Fail with `what` and the output unless `cond`.
    fn check(&self, cond: bool, what: &str, out: &Output);
    /// `systemctl show -p PROP --value UNIT`, without the trailing newline.
    fn show(&self, unit: &str, prop: &str) -> String;
    /// The unit's MainPID (0 when none); a non-zero PID is stopped at teardown if left alive.
    fn main_pid(&self, unit: &str) -> u32;
    /// Wait (bounded by [`TIMEOUT`](super::TIMEOUT)) until `pid` is gone.
    fn wait_gone(&self, pid: u32, what: &str);
    /// Wait (bounded by [`TIMEOUT`](super::TIMEOUT)) until the unit's ActiveState is `want`.
    fn wait_state(&self, unit: &str, want: &str, what: &str);
    /// The directory the test's unit files are in (their FragmentPath's directory).
    fn units_dir(&self) -> PathBuf;
    /// The test's scratch directory (files the units write: see [`reloadable`], …).
    fn scratch(&self) -> PathBuf;
    /// Where `enable`/`mask` write symlinks (`~/.config/systemd/user`, `/etc/systemd/system`).
    fn install_dir(&self) -> PathBuf;
    /// The target [`installable`] units are wanted by in this scope.
    fn default_target(&self) -> &'static str;
    /// The target of the symlink `path` as the manager sees it; `None` when there is none.
    fn link_target(&self, path: &Path) -> Option<PathBuf>;

    /// The unit's MainPID, which must be a live process.
    #[track_caller]
    fn running_pid(&self, unit: &str) -> u32 {
        let pid = self.main_pid(unit);
        assert_ne!(pid, 0, "{unit} has a MainPID");
        assert!(pid_alive(pid), "MainPID {pid} of {unit} is alive");
        pid
    }
}

impl VerbDriver for UserManager {
    fn expect(&self, code: i32, args: &[&str]) -> Output {
        UserManager::expect(self, code, args)
    }
    fn check(&self, cond: bool, what: &str, out: &Output) {
        UserManager::check(self, cond, what, out)
    }
    fn show(&self, unit: &str, prop: &str) -> String {
        UserManager::show(self, unit, prop)
    }
    fn main_pid(&self, unit: &str) -> u32 {
        UserManager::main_pid(self, unit)
    }
    fn wait_gone(&self, pid: u32, what: &str) {
        UserManager::wait_gone(self, pid, what)
    }
    fn wait_state(&self, unit: &str, want: &str, what: &str) {
        self.wait_prop(unit, "ActiveState", what, |v| v == want);
    }
    fn units_dir(&self) -> PathBuf {
        self.dir.units()
    }
    fn scratch(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
    fn install_dir(&self) -> PathBuf {
        self.dir.home().join(".config/systemd/user")
    }
    fn default_target(&self) -> &'static str {
        "default.target"
    }
    fn link_target(&self, path: &Path) -> Option<PathBuf> {
        std::fs::read_link(path).ok()
    }
}

/// [`UserManager::start`] with unit texts built at run time (the functions below).
pub fn user_manager(units: &[(&str, String)]) -> Option<UserManager> {
    let units: Vec<(&str, &str)> = units.iter().map(|(n, t)| (*n, t.as_str())).collect();
    UserManager::start(&units)
}

// ---------------------------------------------------------------------------------------------
// Unit texts the steps expect (by name).

/// `sleeper.service` / `other.service`: a simple service sleeping forever.
pub fn sleeper(description: &str) -> String {
    format!("[Unit]\nDescription={description}\n\n[Service]\nExecStart=/bin/sleep infinity\n")
}

/// `inst.service`: a sleeper wanted by `wanted_by`, with the alias `napper.service`.
pub fn installable(wanted_by: &str) -> String {
    format!(
        "[Unit]\nDescription=Installable sleeper\n\n[Service]\nExecStart=/bin/sleep infinity\n\n\
         [Install]\nWantedBy={wanted_by}\nAlias=napper.service\n"
    )
}

/// `static.service`: no `[Install]` section.
pub const STATIC: &str = "[Service]\nExecStart=/bin/true\n";

/// `slow.service`: a oneshot whose start job stays queued for a while.
pub const SLOW: &str = "[Service]\nType=oneshot\nExecStart=/bin/sleep 30\n";

/// `fails.service`: a simple service that exits 3 after a second.
pub const FAILS: &str = "[Service]\nExecStart=/bin/sh -c 'sleep 1; exit 3'\n";

/// `reloadable.service`: its reload command appends a line to `SCRATCH/reload.log`.
pub fn reloadable(scratch: &Path) -> String {
    format!(
        "[Unit]\nDescription=Reloadable\n\n[Service]\nExecStart=/bin/sleep infinity\n\
         ExecReload=/bin/sh -c 'echo reloaded >> {}'\n",
        scratch.join("reload.log").display()
    )
}

/// `brief.service`: a simple service that touches `SCRATCH/brief.done` after a second.
pub fn brief(scratch: &Path) -> String {
    format!(
        "[Service]\nExecStart=/bin/sh -c 'sleep 1; touch {}'\n",
        scratch.join("brief.done").display()
    )
}

/// `envdump.service`: a oneshot writing its environment to `SCRATCH/env.out`.
pub fn envdump(scratch: &Path) -> String {
    format!(
        "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'env > {}'\n",
        scratch.join("env.out").display()
    )
}

// ---------------------------------------------------------------------------------------------
// Install verbs. Units: inst.service (installable), static.service; nothing enabled or masked.

/// `is-enabled` of a disabled, a static and a missing unit.
pub fn is_enabled_before_install(m: &impl VerbDriver) {
    let out = m.expect(1, &["is-enabled", "inst.service"]);
    assert_eq!(out.stdout.trim(), "disabled", "{}", out.dump());
    let out = m.expect(0, &["is-enabled", "static.service"]);
    assert_eq!(out.stdout.trim(), "static", "{}", out.dump());
    let out = m.expect(1, &["is-enabled", "nosuch.service"]);
    m.check(
        out.stderr.contains(
            "Failed to get unit file state for nosuch.service: No such file or directory",
        ),
        "is-enabled of a missing file",
        &out,
    );
}

/// `enable inst.service`: both symlinks printed and made, `enabled`/`alias`, and the manager
/// (reloaded by systemctl) has the default target want the unit. Leaves it enabled.
pub fn enable_installable(m: &impl VerbDriver) {
    let unit_file = m.units_dir().join("inst.service");
    let wants = m
        .install_dir()
        .join(format!("{}.wants/inst.service", m.default_target()));
    let alias = m.install_dir().join("napper.service");
    let out = m.expect(0, &["enable", "inst.service"]);
    for link in [&wants, &alias] {
        m.check(
            out.all().contains(&format!(
                "Created symlink {} → {}.",
                link.display(),
                unit_file.display()
            )),
            "enable prints the symlinks it created",
            &out,
        );
        assert_eq!(m.link_target(link).as_ref(), Some(&unit_file), "{link:?}");
    }
    let out = m.expect(0, &["is-enabled", "inst.service"]);
    assert_eq!(out.stdout.trim(), "enabled", "{}", out.dump());
    let out = m.expect(0, &["is-enabled", "napper.service"]);
    assert_eq!(out.stdout.trim(), "alias", "{}", out.dump());
    assert_eq!(m.show("inst.service", "UnitFileState"), "enabled");
    let target = m.default_target();
    let wants_list = m.show(target, "Wants");
    assert!(
        wants_list.split_whitespace().any(|w| w == "inst.service"),
        "{target} Wants={wants_list:?}"
    );
}

/// `disable inst.service` after [`enable_installable`]: what it removed, no link left,
/// `disabled` again.
pub fn disable_installable(m: &impl VerbDriver) {
    let wants = m
        .install_dir()
        .join(format!("{}.wants/inst.service", m.default_target()));
    let alias = m.install_dir().join("napper.service");
    let out = m.expect(0, &["disable", "inst.service"]);
    m.check(
        out.all()
            .contains(&format!("Removed \"{}\".", wants.display()))
            && out
                .all()
                .contains(&format!("Removed \"{}\".", alias.display())),
        "disable prints what it removed",
        &out,
    );
    assert_eq!(m.link_target(&wants), None, "{wants:?} removed");
    let out = m.expect(1, &["is-enabled", "inst.service"]);
    assert_eq!(out.stdout.trim(), "disabled", "{}", out.dump());
}

/// `enable --now` starts inst.service, `disable --now` stops it.
pub fn enable_disable_now(m: &impl VerbDriver) {
    m.expect(0, &["enable", "--now", "inst.service"]);
    assert_eq!(m.show("inst.service", "ActiveState"), "active");
    let pid = m.running_pid("inst.service");
    m.expect(0, &["disable", "--now", "inst.service"]);
    m.wait_gone(pid, "disable --now");
    assert_eq!(m.show("inst.service", "ActiveState"), "inactive");
}

/// `enable` of a unit without `[Install]` (the long notice, exit 0) and of a missing file.
pub fn enable_static_and_missing(m: &impl VerbDriver) {
    let out = m.expect(0, &["enable", "static.service"]);
    m.check(
        out.all().contains("no installation config"),
        "static enable explains itself",
        &out,
    );
    let out = m.expect(1, &["enable", "nosuch.service"]);
    m.check(
        out.stderr
            .contains("Failed to enable unit: Unit file nosuch.service does not exist."),
        "enable of a missing file",
        &out,
    );
}

/// `mask static.service` (masked: is-enabled, LoadState, start refused), `list-unit-files`
/// (states, footer, filters, no match = 1), `unmask` (static and loaded again).
pub fn mask_unmask_and_list_unit_files(m: &impl VerbDriver) {
    let mask = m.install_dir().join("static.service");
    let out = m.expect(0, &["mask", "static.service"]);
    m.check(
        out.all()
            .contains(&format!("Created symlink {} → /dev/null.", mask.display())),
        "mask prints the /dev/null symlink",
        &out,
    );
    let out = m.expect(1, &["is-enabled", "static.service"]);
    assert_eq!(out.stdout.trim(), "masked", "{}", out.dump());
    assert_eq!(m.show("static.service", "LoadState"), "masked");
    let out = m.expect(1, &["start", "static.service"]);
    m.check(
        out.stderr.contains("Unit static.service is masked."),
        "a masked unit cannot start",
        &out,
    );

    let out = m.expect(0, &["list-unit-files"]);
    let row = |name: &str| {
        out.stdout
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|c| c.first() == Some(&name))
            .map(|c| c[1].to_string())
    };
    assert_eq!(
        row("static.service").as_deref(),
        Some("masked"),
        "{}",
        out.dump()
    );
    assert_eq!(
        row("inst.service").as_deref(),
        Some("disabled"),
        "{}",
        out.dump()
    );
    m.check(
        out.stdout.contains("unit files listed."),
        "list-unit-files footer",
        &out,
    );
    let out = m.expect(0, &["list-unit-files", "--state=disabled", "inst*"]);
    m.check(
        out.stdout.contains("inst.service") && !out.stdout.contains("static.service"),
        "list-unit-files filters by state and pattern",
        &out,
    );
    // No match: exit 1 like systemd.
    m.expect(1, &["list-unit-files", "nomatch*"]);

    let out = m.expect(0, &["unmask", "static.service"]);
    m.check(
        out.all()
            .contains(&format!("Removed \"{}\".", mask.display())),
        "unmask prints the removed mask",
        &out,
    );
    assert_eq!(m.show("static.service", "LoadState"), "loaded");
    let out = m.expect(0, &["is-enabled", "static.service"]);
    assert_eq!(out.stdout.trim(), "static", "{}", out.dump());
}

// ---------------------------------------------------------------------------------------------
// Lifecycle verbs.

/// `status UNIT` of a running simple service (exit 0): `Loaded: loaded`, `Active: active
/// (running)` and `Main PID: PID`. Returns the output for further checks.
pub fn status_shows_running(m: &impl VerbDriver, unit: &str, pid: u32) -> Output {
    let out = m.expect(0, &["status", unit]);
    m.check(
        out.stdout.contains("Loaded: loaded"),
        "Loaded: loaded",
        &out,
    );
    m.check(
        out.stdout.contains("Active: active (running)"),
        "Active: active (running)",
        &out,
    );
    m.check(
        out.stdout.contains(&format!("Main PID: {pid}")),
        "Main PID: <pid>",
        &out,
    );
    out
}

/// `try-restart` of the inactive `unit`: nothing to do, success, still inactive.
pub fn try_restart_inactive(m: &impl VerbDriver, unit: &str) {
    m.expect(0, &["try-restart", unit]);
    assert_eq!(m.show(unit, "ActiveState"), "inactive");
}

/// The reload family on the running `unit` (no ExecReload=) and on reloadable.service
/// ([`reloadable`], inactive): `reload` is not applicable (3); `try-restart` and
/// `reload-or-restart` each replace the main process; reloadable.service's reload command runs
/// for `reload` and `reload-or-restart`, its main process stays; `reload` of an unknown unit
/// is 5. Leaves both running; returns reloadable.service's main PID.
pub fn reload_family(m: &impl VerbDriver, unit: &str) -> u32 {
    // JobTypeNotApplicable is systemctl's EXIT_NOTIMPLEMENTED (3).
    let out = m.expect(3, &["reload", unit]);
    m.check(
        out.stderr.contains(&format!("Failed to reload {unit}"))
            && out.stderr.contains("Job type reload is not applicable"),
        "reload without ExecReload= fails like systemd",
        &out,
    );
    let pid1 = m.running_pid(unit);
    m.expect(0, &["try-restart", unit]);
    m.wait_gone(pid1, "try-restart");
    let pid2 = m.running_pid(unit);
    assert_ne!(pid1, pid2);
    // reload-or-restart of a unit that cannot reload restarts it.
    m.expect(0, &["reload-or-restart", unit]);
    m.wait_gone(pid2, "reload-or-restart");
    m.running_pid(unit);

    let log = m.scratch().join("reload.log");
    m.expect(0, &["start", "reloadable.service"]);
    let rpid = m.running_pid("reloadable.service");
    m.expect(0, &["reload", "reloadable.service"]);
    assert_eq!(read_lossy(&log).lines().count(), 1, "ExecReload ran once");
    m.expect(0, &["reload-or-restart", "reloadable.service"]);
    assert_eq!(
        read_lossy(&log).lines().count(),
        2,
        "reload-or-restart reloaded"
    );
    assert_eq!(m.running_pid("reloadable.service"), rpid, "no restart");

    let out = m.expect(5, &["reload", "nosuch.service"]);
    m.check(
        out.stderr
            .contains("Failed to reload nosuch.service: Unit nosuch.service not found."),
        "reload of an unknown unit",
        &out,
    );
    rpid
}

/// `kill -s KILL` of the running `unit`: the process dies, the unit is failed (Result=signal),
/// `is-failed` says so. Leaves it failed.
pub fn kill_with_signal_fails(m: &impl VerbDriver, unit: &str) {
    let pid = m.running_pid(unit);
    m.expect(0, &["kill", "-s", "KILL", unit]);
    m.wait_gone(pid, "kill -s KILL");
    m.wait_state(unit, "failed", "failed after SIGKILL");
    assert_eq!(m.show(unit, "Result"), "signal");
    let out = m.expect(0, &["is-failed", unit]);
    assert_eq!(out.stdout.trim(), "failed");
}

/// The failed `unit` (the only one) degrades the system and is listed by `--failed`;
/// `reset-failed` makes it inactive and the system running again.
pub fn failed_degrades_until_reset(m: &impl VerbDriver, unit: &str) {
    let out = m.expect(1, &["is-system-running"]);
    assert_eq!(out.stdout.trim(), "degraded", "{}", out.dump());
    let out = m.expect(0, &["list-units", "--failed"]);
    m.check(
        list_units_row(&out.stdout, unit).is_some(),
        "list-units --failed lists the failed unit",
        &out,
    );
    m.expect(0, &["reset-failed", unit]);
    let out = m.expect(1, &["is-failed", unit]);
    assert_eq!(out.stdout.trim(), "inactive");
    let out = m.expect(0, &["is-system-running"]);
    assert_eq!(out.stdout.trim(), "running", "{}", out.dump());
}

/// `kill` (SIGTERM) of the inactive `unit` once started: a clean stop, not a failure; `kill`
/// of an unknown unit is 1 and names it; `reset-failed` without arguments.
pub fn kill_default_signal_and_unknown(m: &impl VerbDriver, unit: &str) {
    m.expect(0, &["start", unit]);
    let pid = m.running_pid(unit);
    m.expect(0, &["kill", unit]);
    m.wait_gone(pid, "kill");
    m.wait_state(unit, "inactive", "inactive after SIGTERM");
    let out = m.expect(1, &["kill", "nosuch.service"]);
    m.check(
        out.stderr.contains("nosuch.service"),
        "kill of an unknown unit names it",
        &out,
    );
    m.expect(0, &["reset-failed"]);
}

/// `start --wait` returns only when brief.service ([`brief`]) ended, and with 1 when
/// fails.service ([`FAILS`]) failed. Leaves fails.service failed.
pub fn start_wait(m: &impl VerbDriver) {
    // A simple service: the start job finishes at once; --wait returns only when it ended.
    m.expect(0, &["start", "--wait", "brief.service"]);
    assert!(
        m.scratch().join("brief.done").exists(),
        "start --wait returned before the unit ended"
    );
    assert_eq!(m.show("brief.service", "ActiveState"), "inactive");
    let out = m.expect(1, &["start", "--wait", "fails.service"]);
    assert_eq!(
        m.show("fails.service", "ActiveState"),
        "failed",
        "{}",
        out.dump()
    );
}

// ---------------------------------------------------------------------------------------------
// Introspection verbs.

/// A drop-in on sleeper.service (written here, then `daemon-reload`): FragmentPath,
/// DropInPaths, the overridden Description, `show -p`, `cat` with path headers (the fragment's
/// Description starts with `fragment_description`), `cat` of an unknown unit (1).
pub fn show_and_cat_with_drop_in(m: &impl VerbDriver, fragment_description: &str) {
    let frag = m.units_dir().join("sleeper.service");
    let dropin_dir = m.units_dir().join("sleeper.service.d");
    std::fs::create_dir_all(&dropin_dir).unwrap();
    let dropin = dropin_dir.join("10-desc.conf");
    std::fs::write(&dropin, "[Unit]\nDescription=Overridden sleeper\n").unwrap();
    m.expect(0, &["daemon-reload"]);
    assert_eq!(
        m.show("sleeper.service", "FragmentPath"),
        frag.display().to_string()
    );
    assert_eq!(
        m.show("sleeper.service", "DropInPaths"),
        dropin.display().to_string()
    );
    assert_eq!(
        m.show("sleeper.service", "Description"),
        "Overridden sleeper"
    );
    let out = m.expect(0, &["show", "-p", "Id,LoadState", "sleeper.service"]);
    assert_eq!(
        out.stdout.trim(),
        "Id=sleeper.service\nLoadState=loaded",
        "{}",
        out.dump()
    );
    let out = m.expect(0, &["cat", "sleeper.service"]);
    m.check(
        out.stdout.contains(&format!(
            "# {}\n[Unit]\nDescription={fragment_description}",
            frag.display()
        )) && out.stdout.contains(&format!(
            "# {}\n[Unit]\nDescription=Overridden",
            dropin.display()
        )),
        "cat prints the fragment and the drop-in with path headers",
        &out,
    );
    let out = m.expect(1, &["cat", "nosuch.service"]);
    m.check(
        out.stderr.contains("No files found for nosuch.service."),
        "cat of an unknown unit",
        &out,
    );
}

/// `list-units` with sleeper.service running and other.service inactive: active units only
/// by default, `--all`, `--state=inactive`, `--state=running` with a pattern.
pub fn list_units_filters(m: &impl VerbDriver) {
    let out = m.expect(0, &["list-units"]);
    m.check(
        list_units_row(&out.stdout, "sleeper.service")
            .is_some_and(|r| r[1..4] == ["loaded", "active", "running"])
            && list_units_row(&out.stdout, "other.service").is_none(),
        "list-units shows active units only",
        &out,
    );
    let out = m.expect(0, &["list-units", "--all"]);
    m.check(
        list_units_row(&out.stdout, "other.service")
            .is_some_and(|r| r[1..4] == ["loaded", "inactive", "dead"]),
        "--all lists the inactive unit",
        &out,
    );
    let out = m.expect(0, &["list-units", "--all", "--state=inactive", "*.service"]);
    m.check(
        list_units_row(&out.stdout, "other.service").is_some()
            && list_units_row(&out.stdout, "sleeper.service").is_none(),
        "--state=inactive keeps only inactive units",
        &out,
    );
    let out = m.expect(0, &["list-units", "--state=running", "sleep*"]);
    m.check(
        list_units_row(&out.stdout, "sleeper.service").is_some()
            && list_units_row(&out.stdout, "other.service").is_none(),
        "--state=running with a pattern",
        &out,
    );
}

/// `list-jobs` with no job, with slow.service's ([`SLOW`]) start job running, and after it
/// was stopped.
pub fn list_jobs(m: &impl VerbDriver) {
    let out = m.expect(0, &["list-jobs"]);
    assert_eq!(out.stdout.trim(), "No jobs running.", "{}", out.dump());
    m.expect(0, &["start", "--no-block", "slow.service"]);
    let out = m.expect(0, &["list-jobs"]);
    m.check(
        out.stdout.contains("slow.service") && out.stdout.contains("start"),
        "list-jobs shows the running start job",
        &out,
    );
    m.check(
        out.stdout.contains("1 jobs listed."),
        "list-jobs footer",
        &out,
    );
    m.expect(0, &["stop", "slow.service"]);
    let out = m.expect(0, &["list-jobs"]);
    assert_eq!(out.stdout.trim(), "No jobs running.", "{}", out.dump());
}

// ---------------------------------------------------------------------------------------------
// Environment verbs.

/// `set-environment ALPHA=one "BETA=two words" EXTRA…`, `show-environment` (shell-quoted),
/// `unset-environment ALPHA`, an invalid assignment refused (1).
pub fn environment_verbs(m: &impl VerbDriver, extra: &[&str]) {
    let mut set = vec!["set-environment", "ALPHA=one", "BETA=two words"];
    set.extend_from_slice(extra);
    m.expect(0, &set);
    let out = m.expect(0, &["show-environment"]);
    m.check(
        out.stdout.lines().any(|l| l == "ALPHA=one")
            && out.stdout.lines().any(|l| l == "BETA=$'two words'"),
        "show-environment lists the assignments, shell-quoted",
        &out,
    );
    m.expect(0, &["unset-environment", "ALPHA"]);
    let out = m.expect(0, &["show-environment"]);
    m.check(
        !out.stdout.contains("ALPHA="),
        "unset-environment removed ALPHA",
        &out,
    );
    let out = m.expect(1, &["set-environment", "1BAD=x"]);
    m.check(
        out.stderr.contains("Failed to set environment"),
        "invalid assignment rejected",
        &out,
    );
}

/// After [`environment_verbs`] and `FOO=bar` reached the manager: envdump.service
/// ([`envdump`]) sees FOO and BETA, not ALPHA.
pub fn unit_sees_manager_environment(m: &impl VerbDriver) {
    m.expect(0, &["start", "envdump.service"]);
    let env = read_lossy(&m.scratch().join("env.out"));
    assert!(
        env.lines().any(|l| l == "FOO=bar") && env.lines().any(|l| l == "BETA=two words"),
        "a unit started afterwards sees the manager environment:\n{env}"
    );
    assert!(!env.contains("ALPHA="), "{env}");
}
