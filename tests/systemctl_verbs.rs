//! Acceptance: the rest of `systemctl --user`'s verbs (reload, try-restart, reload-or-restart,
//! kill, reset-failed, show, cat, list-units filters, list-jobs, environment verbs,
//! is-system-running, `start --wait`) and `dbus-update-activation-environment --systemd`,
//! stock binaries against `unitd serve --user` on a private session bus. Exit codes and texts
//! are systemd 252's (systemd-clients.md §5, §7); the steps are shared with the system scope
//! (tests/common/verbs.rs).

mod common;

use common::verbs::{self, VerbDriver};
use common::*;

const SLEEPER_DESCRIPTION: &str = "Sleeper for tests";

/// A manager with sleeper.service (and `more` units).
fn start(more: &[(&str, String)]) -> Option<UserManager> {
    let mut units = vec![("sleeper.service", verbs::sleeper(SLEEPER_DESCRIPTION))];
    units.extend(more.iter().cloned());
    verbs::user_manager(&units)
}

#[test]
fn reload_try_restart_and_reload_or_restart() {
    let Some(m) = start(&[]) else {
        return;
    };
    m.write_unit("reloadable.service", &verbs::reloadable(m.dir.path()));
    verbs::try_restart_inactive(&m, "sleeper.service");
    m.expect(0, &["start", "sleeper.service"]);
    verbs::reload_family(&m, "sleeper.service");
}

#[test]
fn kill_with_signal_then_reset_failed() {
    let Some(m) = start(&[]) else {
        return;
    };
    m.expect(0, &["start", "sleeper.service"]);
    verbs::kill_with_signal_fails(&m, "sleeper.service");
    verbs::failed_degrades_until_reset(&m, "sleeper.service");
    verbs::kill_default_signal_and_unknown(&m, "sleeper.service");
}

#[test]
fn show_value_and_cat_with_drop_ins() {
    let Some(m) = start(&[]) else {
        return;
    };
    verbs::show_and_cat_with_drop_in(&m, SLEEPER_DESCRIPTION);
}

#[test]
fn list_units_filters_and_list_jobs() {
    let Some(m) = start(&[("other.service", verbs::sleeper(SLEEPER_DESCRIPTION))]) else {
        return;
    };
    m.expect(0, &["start", "sleeper.service"]);
    m.running_pid("sleeper.service");
    verbs::list_units_filters(&m);
    // A job that waits: a slow oneshot start, seen by list-jobs.
    m.write_unit("slow.service", verbs::SLOW);
    m.expect(0, &["daemon-reload"]);
    verbs::list_jobs(&m);
}

#[test]
fn environment_verbs_and_activation_environment() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    m.write_unit("envdump.service", &verbs::envdump(m.dir.path()));
    verbs::environment_verbs(&m, &[]);
    if which("dbus-update-activation-environment").is_some() {
        let out = m.systemctl_runner().run_other(
            "dbus-update-activation-environment",
            &["--systemd", "FOO=bar"],
        );
        m.check(out.code == 0, "dbus-update-activation-environment", &out);
        let out = m.expect(0, &["show-environment"]);
        m.check(
            out.stdout.lines().any(|l| l == "FOO=bar"),
            "FOO=bar reached the manager",
            &out,
        );
    } else {
        m.expect(0, &["set-environment", "FOO=bar"]);
    }
    verbs::unit_sees_manager_environment(&m);
}

#[test]
fn start_wait_returns_when_the_unit_ends() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    m.write_unit("brief.service", &verbs::brief(m.dir.path()));
    m.write_unit("fails.service", verbs::FAILS);
    verbs::start_wait(&m);
}
