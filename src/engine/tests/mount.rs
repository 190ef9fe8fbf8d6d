//! Mount units: `mount`/`umount` as control processes, states and results as systemd 252
//! reports them, a mount point that is mounted already, timeouts and default dependencies.

use super::*;
use crate::spec::MountSpec;

fn add_mount(s: &mut Sim, name: &str, f: impl FnOnce(&mut MountSpec)) -> UnitId {
    let n = UnitName::new(name).unwrap();
    let mut spec = UnitSpec::default_for(&n);
    let mut m = MountSpec {
        what: "tmpfs".into(),
        where_: crate::unit_file::specifier::path_unescape(n.stem()).unwrap(),
        fstype: "tmpfs".into(),
        ..MountSpec::default()
    };
    f(&mut m);
    spec.kind = KindSpec::Mount(Box::new(m));
    s.insert(name, spec, LoadState::Loaded)
}

fn control(s: &Sim, name: &str) -> Option<(u32, Vec<String>)> {
    let pid = s.e.unit(s.id(name)).mount.control_pid?;
    Some((pid, s.procs[&pid].argv.clone()))
}

#[test]
fn start_runs_mount_and_stop_runs_umount() {
    let mut s = Sim::with_scope(false);
    add_mount(&mut s, "srv-a\\x2db.mount", |m| {
        m.options = "size=1m,nofail,mode=0700".into();
        m.directory_mode = 0o700;
        m.lazy_unmount = true;
    });
    let job = s.start("srv-a\\x2db.mount").unwrap();
    assert_eq!(s.state("srv-a\\x2db.mount"), ("activating", "mounting"));
    assert_eq!(s.mkdirs, vec![("/srv/a-b".into(), 0o700)]);
    let (pid, argv) = control(&s, "srv-a\\x2db.mount").unwrap();
    assert_eq!(
        argv,
        [
            "/bin/mount",
            "tmpfs",
            "/srv/a-b",
            "-t",
            "tmpfs",
            "-o",
            "size=1m,mode=0700"
        ]
    );
    assert_eq!(s.job_result(job), None);
    s.mounted.push("/srv/a-b".into());
    s.exit(pid, ExitStatus::Exited(0));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("srv-a\\x2db.mount"), ("active", "mounted"));
    let u = s.e.unit(s.id("srv-a\\x2db.mount"));
    assert_eq!(u.mount.control_pid, None);
    assert_eq!(u.mount.exec_mount.as_ref().unwrap().1.pid, pid);
    assert_eq!(u.mount.exec_mount.as_ref().unwrap().1.code, 1);

    let job = s.stop("srv-a\\x2db.mount").unwrap();
    assert_eq!(s.state("srv-a\\x2db.mount"), ("deactivating", "unmounting"));
    let (pid, argv) = control(&s, "srv-a\\x2db.mount").unwrap();
    assert_eq!(argv, ["/bin/umount", "/srv/a-b", "-c", "-l"]);
    s.mounted.clear();
    s.exit(pid, ExitStatus::Exited(0));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("srv-a\\x2db.mount"), ("inactive", "dead"));
    assert_eq!(s.e.n_failed_units(), 0);
}

#[test]
fn a_mount_point_in_place_is_mounted_without_running_mount() {
    let mut s = Sim::with_scope(false);
    add_mount(&mut s, "dev-mqueue.mount", |m| {
        m.what = "mqueue".into();
        m.fstype = "mqueue".into();
    });
    s.mounted.push("/dev/mqueue".into());
    let job = s.start("dev-mqueue.mount").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("dev-mqueue.mount"), ("active", "mounted"));
    assert!(s.procs.is_empty(), "{:?}", s.procs);
    assert!(s.mkdirs.is_empty());
    // Unmounted behind the manager's back: a stop finds nothing to unmount.
    s.mounted.clear();
    let job = s.stop("dev-mqueue.mount").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("dev-mqueue.mount"), ("inactive", "dead"));
    assert!(s.procs.is_empty());
}

#[test]
fn failed_mount_reports_systemd_results_and_resets() {
    let mut s = Sim::with_scope(false);
    add_mount(&mut s, "mnt-x.mount", |m| m.sloppy_options = true);
    add_target_with_requires(&mut s);
    let job = s.start("needs.target").unwrap();
    let (pid, argv) = control(&s, "mnt-x.mount").unwrap();
    assert_eq!(argv, ["/bin/mount", "tmpfs", "/mnt/x", "-s", "-t", "tmpfs"]);
    s.exit(pid, ExitStatus::Exited(32));
    assert_eq!(s.state("mnt-x.mount"), ("failed", "failed"));
    assert_eq!(
        s.e.unit(s.id("mnt-x.mount")).mount.result.as_str(),
        "exit-code"
    );
    assert_eq!(s.job_result(job), Some(JobResult::Dependency));
    assert_eq!(s.e.n_failed_units(), 1);

    // A killed mount is `signal`; a spawn failure `resources`.
    let t = s.t();
    s.e.reset_failed(t, None);
    assert_eq!(s.state("mnt-x.mount"), ("inactive", "dead"));
    s.start("mnt-x.mount").unwrap();
    let (pid, _) = control(&s, "mnt-x.mount").unwrap();
    s.exit(pid, ExitStatus::Killed(9));
    assert_eq!(
        s.e.unit(s.id("mnt-x.mount")).mount.result.as_str(),
        "signal"
    );
    let t = s.t();
    s.e.reset_failed(t, None);
    s.fail_spawn.push("/bin/mount".into());
    let job = s.start("mnt-x.mount").unwrap();
    assert_eq!(s.job_result(job), Some(JobResult::Failed));
    assert_eq!(
        s.e.unit(s.id("mnt-x.mount")).mount.result.as_str(),
        "resources"
    );
}

fn add_target_with_requires(s: &mut Sim) {
    let mut spec = UnitSpec::default_for(&UnitName::new("needs.target").unwrap());
    spec.deps = vec![
        (DepKind::Requires, "mnt-x.mount".into()),
        (DepKind::After, "mnt-x.mount".into()),
    ];
    s.insert("needs.target", spec, LoadState::Loaded);
}

#[test]
fn a_failed_umount_leaves_the_unit_mounted_and_fails_the_stop() {
    let mut s = Sim::with_scope(false);
    add_mount(&mut s, "mnt-busy.mount", |_| {});
    s.mounted.push("/mnt/busy".into());
    s.start("mnt-busy.mount").unwrap();
    let job = s.stop("mnt-busy.mount").unwrap();
    let (pid, _) = control(&s, "mnt-busy.mount").unwrap();
    s.exit(pid, ExitStatus::Exited(32));
    assert_eq!(s.job_result(job), Some(JobResult::Failed));
    assert_eq!(s.state("mnt-busy.mount"), ("active", "mounted"));
}

#[test]
fn a_hanging_mount_times_out_with_sigterm_then_sigkill() {
    let mut s = Sim::with_scope(false);
    add_mount(&mut s, "mnt-slow.mount", |m| {
        m.timeout_usec = 5 * USEC_PER_SEC
    });
    let job = s.start("mnt-slow.mount").unwrap();
    let (pid, _) = control(&s, "mnt-slow.mount").unwrap();
    s.advance(5 * USEC_PER_SEC);
    assert_eq!(
        s.state("mnt-slow.mount"),
        ("activating", "mounting-sigterm")
    );
    assert_eq!(s.kills, vec![(pid, SIGTERM)]);
    s.advance(5 * USEC_PER_SEC);
    assert_eq!(
        s.state("mnt-slow.mount"),
        ("activating", "mounting-sigkill")
    );
    assert_eq!(s.kills, vec![(pid, SIGTERM), (pid, SIGKILL)]);
    s.exit(pid, ExitStatus::Killed(SIGKILL));
    assert_eq!(s.state("mnt-slow.mount"), ("failed", "failed"));
    assert_eq!(
        s.e.unit(s.id("mnt-slow.mount")).mount.result.as_str(),
        "timeout"
    );
    assert_eq!(s.job_result(job), Some(JobResult::Failed));
}

/// A stop while `mount` runs kills it; the mount table decides the outcome (systemd's
/// `mount_enter_dead_or_mounted`): nothing mounted — failed with `signal`.
#[test]
fn a_stop_while_mounting_kills_mount() {
    let mut s = Sim::with_scope(false);
    add_mount(&mut s, "mnt-y.mount", |_| {});
    s.start("mnt-y.mount").unwrap();
    let (pid, _) = control(&s, "mnt-y.mount").unwrap();
    let job = s.stop("mnt-y.mount").unwrap();
    assert_eq!(
        s.state("mnt-y.mount"),
        ("deactivating", "unmounting-sigterm")
    );
    assert_eq!(s.kills, vec![(pid, SIGTERM)]);
    s.exit(pid, ExitStatus::Killed(SIGTERM));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("mnt-y.mount"), ("failed", "failed"));
    assert_eq!(
        s.e.unit(s.id("mnt-y.mount")).mount.result.as_str(),
        "signal"
    );
}

/// `mount` exiting 0 without a mount showing up is `protocol`; `umount` exiting 0 with the
/// mount point still there (stacked mounts) runs again.
#[test]
fn the_mount_table_decides_after_mount_and_umount() {
    let mut s = Sim::with_scope(false);
    add_mount(&mut s, "mnt-z.mount", |_| {});
    let job = s.start("mnt-z.mount").unwrap();
    let (pid, _) = control(&s, "mnt-z.mount").unwrap();
    s.exit(pid, ExitStatus::Exited(0));
    assert_eq!(s.job_result(job), Some(JobResult::Failed));
    assert_eq!(s.state("mnt-z.mount"), ("failed", "failed"));
    assert_eq!(
        s.e.unit(s.id("mnt-z.mount")).mount.result.as_str(),
        "protocol"
    );

    let t = s.t();
    s.e.reset_failed(t, None);
    s.start("mnt-z.mount").unwrap();
    let (pid, _) = control(&s, "mnt-z.mount").unwrap();
    s.mounted.push("/mnt/z".into());
    s.exit(pid, ExitStatus::Exited(0));
    assert_eq!(s.state("mnt-z.mount"), ("active", "mounted"));
    let job = s.stop("mnt-z.mount").unwrap();
    let (first, _) = control(&s, "mnt-z.mount").unwrap();
    s.exit(first, ExitStatus::Exited(0));
    // Still mounted: umount again.
    let (second, argv) = control(&s, "mnt-z.mount").unwrap();
    assert_ne!(first, second);
    assert_eq!(argv[0], "/bin/umount");
    assert_eq!(s.state("mnt-z.mount"), ("deactivating", "unmounting"));
    s.mounted.clear();
    s.exit(second, ExitStatus::Exited(0));
    assert_eq!(s.job_result(job), Some(JobResult::Done));
    assert_eq!(s.state("mnt-z.mount"), ("inactive", "dead"));
}

/// systemd's default dependencies of mount units (system manager only).
#[test]
fn default_dependencies_of_mounts() {
    let deps = |s: &Sim, n: &str, p: &str| -> Vec<String> {
        s.e.unit(s.id(n))
            .dependency_names(&s.e, p)
            .into_iter()
            .map(str::to_owned)
            .collect()
    };
    let mut s = Sim::with_scope(false);
    add_mount(&mut s, "srv-data.mount", |m| {
        m.what = "/dev/sdb1".into();
        m.fstype = "ext4".into();
    });
    let before = deps(&s, "srv-data.mount", "Before");
    assert!(before.contains(&"local-fs.target".into()), "{before:?}");
    assert!(before.contains(&"umount.target".into()), "{before:?}");
    assert_eq!(deps(&s, "srv-data.mount", "After"), ["local-fs-pre.target"]);
    assert_eq!(deps(&s, "srv-data.mount", "Conflicts"), ["umount.target"]);

    add_mount(&mut s, "mnt-nfs.mount", |m| {
        m.fstype = "nfs4".into();
        m.options = "ro,nofail".into();
    });
    assert_eq!(
        deps(&s, "mnt-nfs.mount", "Wants"),
        ["network-online.target"]
    );
    assert_eq!(deps(&s, "mnt-nfs.mount", "Before"), ["umount.target"]);

    add_mount(&mut s, "tmp.mount", |m| m.options = "_netdev".into());
    let after = deps(&s, "tmp.mount", "After");
    assert!(
        after.contains(&"swap.target".into()) && after.contains(&"remote-fs-pre.target".into())
    );

    // `/` gets none (the mounts above are ordered after it: they lie below it).
    add_mount(&mut s, "-.mount", |m| m.fstype = "ext4".into());
    assert!(deps(&s, "-.mount", "Conflicts").is_empty());
    assert!(deps(&s, "-.mount", "After").is_empty());
    assert!(!deps(&s, "-.mount", "Before").contains(&"local-fs.target".into()));
    assert!(deps(&s, "srv-data.mount", "Requires").contains(&"-.mount".into()));
    // Below the API file systems, or x-initrd.mount: none either.
    add_mount(&mut s, "dev-foo.mount", |_| {});
    assert!(deps(&s, "dev-foo.mount", "Conflicts").is_empty());
    add_mount(&mut s, "srv-initrd.mount", |m| {
        m.options = "x-initrd.mount".into()
    });
    assert!(deps(&s, "srv-initrd.mount", "Conflicts").is_empty());
    // x-systemd.automount: not ordered before local-fs.target.
    add_mount(&mut s, "srv-auto.mount", |m| {
        m.options = "x-systemd.automount".into()
    });
    assert_eq!(deps(&s, "srv-auto.mount", "Before"), ["umount.target"]);
    // devel (not below /dev) is not extrinsic.
    add_mount(&mut s, "devel.mount", |_| {});
    assert_eq!(deps(&s, "devel.mount", "Conflicts"), ["umount.target"]);

    // The user manager adds none.
    let mut u = Sim::with_scope(true);
    add_mount(&mut u, "home-u-m.mount", |_| {});
    assert!(deps(&u, "home-u-m.mount", "Before").is_empty());
}

/// A mount below another mount's `Where=` requires it and starts after it, in either load
/// order; unrelated prefixes (`/srv` vs `/srvx`) do not count.
#[test]
fn nested_mounts_require_the_mounts_above_them() {
    let deps = |s: &Sim, n: &str, p: &str| -> Vec<String> {
        s.e.unit(s.id(n))
            .dependency_names(&s.e, p)
            .into_iter()
            .map(str::to_owned)
            .collect()
    };
    let mut s = Sim::with_scope(false);
    add_mount(&mut s, "srv-a-b.mount", |_| {});
    add_mount(&mut s, "srv.mount", |_| {});
    add_mount(&mut s, "srv-a.mount", |_| {});
    add_mount(&mut s, "srvx.mount", |_| {});
    let req = deps(&s, "srv-a-b.mount", "Requires");
    assert!(
        req.contains(&"srv.mount".into()) && req.contains(&"srv-a.mount".into()),
        "{req:?}"
    );
    assert!(deps(&s, "srv-a-b.mount", "After").contains(&"srv-a.mount".into()));
    assert_eq!(deps(&s, "srv-a.mount", "Requires"), ["srv.mount"]);
    assert!(deps(&s, "srvx.mount", "Requires").is_empty());
    assert!(deps(&s, "srv.mount", "Requires").is_empty());

    // Starting the innermost mounts the outer ones first.
    s.start("srv-a-b.mount").unwrap();
    let first = control(&s, "srv.mount");
    assert!(first.is_some(), "srv.mount is mounted first");
    assert!(control(&s, "srv-a-b.mount").is_none());
}
