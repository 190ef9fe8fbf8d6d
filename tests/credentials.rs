//! Acceptance: a non-root manager cannot run anything as another user or group. `unitd run`
//! (full supervision, no D-Bus) as `nobody` (setpriv) with units asking for `User=root` /
//! `Group=root` fails them at step USER (exit status 217) / GROUP (216), as systemd does;
//! `User=` naming the manager's own user is fine.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;

#[test]
fn an_unprivileged_manager_refuses_other_users_and_groups() {
    if !nobody_prerequisites() {
        return;
    }
    let dir = TestDir::new();
    dir.write_unit(
        "as-root.service",
        "[Service]\nType=oneshot\nUser=root\nExecStart=/bin/true\n",
    );
    dir.write_unit(
        "group-root.service",
        "[Service]\nType=oneshot\nGroup=root\nExecStart=/bin/true\n",
    );
    dir.write_unit(
        "as-self.service",
        "[Service]\nType=oneshot\nUser=nobody\nExecStart=/bin/sh -c 'echo uid=$(id -u)'\n",
    );
    let run = |unit: &str| unitd_run_as_nobody(&dir, unit);
    let out = run("as-root.service");
    assert_eq!(out.code, 1, "{}", out.dump());
    assert!(
        out.all()
            .contains("Failed at step USER spawning /bin/true: Operation not permitted")
            && out.stderr.contains("result exit-code"),
        "{}",
        out.dump()
    );
    let out = run("group-root.service");
    assert_eq!(out.code, 1, "{}", out.dump());
    assert!(
        out.all()
            .contains("Failed at step GROUP spawning /bin/true: Operation not permitted"),
        "{}",
        out.dump()
    );
    let out = run("as-self.service");
    assert_eq!(out.code, 0, "{}", out.dump());
    assert!(out.stdout.contains("uid=65534"), "{}", out.dump());
}

#[test]
fn the_user_manager_refuses_a_runtime_directory_it_does_not_own() {
    if !nobody_prerequisites() {
        return;
    }
    let dir = TestDir::new();
    // Planted by root, world-writable: nobody's manager must not put its sockets there.
    let planted = dir.path().join("planted");
    std::fs::create_dir(&planted).unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut cmd = as_nobody(unitd_bin());
    cmd.args(["serve", "--user", "--bus", "unix:path=/nonexistent"])
        .env_clear()
        .env("PATH", STD_PATH)
        .env("HOME", dir.home())
        .env("XDG_RUNTIME_DIR", &planted);
    let out = run_with_timeout(&mut cmd, "nobody: unitd serve --user", TIMEOUT);
    assert_eq!(out.code, 1, "{}", out.dump());
    assert!(
        out.stderr.contains("refusing runtime directory")
            && out.stderr.contains("owned by uid 0, not by us (uid 65534)"),
        "{}",
        out.dump()
    );
    assert_eq!(
        std::fs::read_dir(&planted).unwrap().count(),
        0,
        "nothing created in it"
    );
}
