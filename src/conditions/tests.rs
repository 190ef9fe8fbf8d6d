//! Tests of condition evaluation: file-system checks against temp directories, parameter
//! parsing against fixed contexts, and identity checks against this process.

use super::*;
use std::fs::File;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::time::{Duration, SystemTime};

fn cond(kind: &str, parameter: &str) -> Condition {
    Condition {
        kind: kind.into(),
        trigger: false,
        negate: false,
        parameter: parameter.into(),
    }
}

fn neg(kind: &str, parameter: &str) -> Condition {
    Condition {
        negate: true,
        ..cond(kind, parameter)
    }
}

/// Both the plain and the negated form: `want` for the plain one, the opposite when negated.
fn assert_check(ctx: &ConditionContext, kind: &str, parameter: &str, want: bool) {
    assert_eq!(
        evaluate(&cond(kind, parameter), ctx),
        want,
        "{kind}={parameter}"
    );
    assert_eq!(
        evaluate(&neg(kind, parameter), ctx),
        !want,
        "{kind}=!{parameter}"
    );
}

/// A check whose answer cannot be determined: false, negated or not.
fn assert_error(ctx: &ConditionContext, kind: &str, parameter: &str) {
    assert!(
        matches!(check(&cond(kind, parameter), ctx), Outcome::Error(_)),
        "{kind}={parameter} should be an error"
    );
    assert!(!evaluate(&cond(kind, parameter), ctx), "{kind}={parameter}");
    assert!(!evaluate(&neg(kind, parameter), ctx), "{kind}=!{parameter}");
}

/// A fixed, made-up system for parameter-parsing tests.
fn fixed() -> ConditionContext {
    ConditionContext {
        user_scope: true,
        uid: 1000,
        euid: 1000,
        gid: 1000,
        egid: 1000,
        groups: vec![1000, 27, 100],
        user_name: Some("alice".into()),
        manager_env: vec![
            "PATH=/usr/bin:/bin".into(),
            "FOO=bar".into(),
            "EMPTY=".into(),
        ],
        hostname: "web-01.example.org".into(),
        machine_id: Some("3d1219c7c4c5404aaa1f6d2a48adfda4".into()),
        architecture: Some("x86-64".into()),
        virtualization: "kvm".into(),
        in_user_namespace: false,
        kernel_release: "5.10.0-13-amd64".into(),
        kernel_cmdline: vec![
            "BOOT_IMAGE=/vmlinuz".into(),
            "root=/dev/sda1".into(),
            "quiet".into(),
            "systemd.unit=rescue.target".into(),
        ],
        first_boot: false,
        in_initrd: false,
        capability_bounding_set: Some((1 << 21) | (1 << 12)),
        cpus: Some(4),
        physical_memory: Some(8 << 30),
        cgroup: CgroupInfo {
            unified: true,
            v2_mount: Some("/nonexistent-cgroup-mount".into()),
            controllers: vec!["cpu".into(), "io".into(), "memory".into(), "pids".into()],
            own_path: Some("/user.slice/user-1000.slice/user@1000.service/init.scope".into()),
        },
        security: vec!["apparmor".into(), "audit".into()],
        device_tree: false,
        device_tree_compatible: vec!["brcm,bcm2711".into()],
        efi_boot: false,
        cpu_features: vec!["sse2".into(), "avx2".into()],
        os_release: vec![
            ("ID".into(), "debian".into()),
            ("VERSION_ID".into(), "12".into()),
            (
                "PRETTY_NAME".into(),
                "Debian GNU/Linux 12 (bookworm)".into(),
            ),
        ],
        credentials_dir: None,
        psi_supported: true,
    }
}

fn at(dir: &Path, rel: &str) -> String {
    format!("{}/{rel}", dir.display())
}

// ---------------------------------------------------------------------------------------------
// Paths.

#[test]
fn path_exists_and_kinds() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    fs::write(d.join("file"), "x").unwrap();
    fs::create_dir(d.join("dir")).unwrap();
    symlink(d.join("dir"), d.join("link-to-dir")).unwrap();
    symlink(d.join("missing"), d.join("dangling")).unwrap();
    let ctx = fixed();

    assert_check(&ctx, "PathExists", &at(d, "file"), true);
    assert_check(&ctx, "PathExists", &at(d, "dir"), true);
    assert_check(&ctx, "PathExists", &at(d, "missing"), false);
    // access(2) follows symbolic links: a dangling one does not exist.
    assert_check(&ctx, "PathExists", &at(d, "dangling"), false);

    assert_check(&ctx, "PathIsDirectory", &at(d, "dir"), true);
    assert_check(&ctx, "PathIsDirectory", &at(d, "link-to-dir"), true);
    assert_check(&ctx, "PathIsDirectory", &at(d, "file"), false);
    assert_check(&ctx, "PathIsDirectory", &at(d, "missing"), false);

    assert_check(&ctx, "PathIsSymbolicLink", &at(d, "link-to-dir"), true);
    assert_check(&ctx, "PathIsSymbolicLink", &at(d, "dangling"), true);
    assert_check(&ctx, "PathIsSymbolicLink", &at(d, "dir"), false);
    assert_check(&ctx, "PathIsSymbolicLink", &at(d, "missing"), false);
}

#[test]
fn relative_paths_never_hold() {
    let ctx = fixed();
    for kind in [
        "PathExists",
        "PathExistsGlob",
        "PathIsDirectory",
        "PathIsSymbolicLink",
        "PathIsMountPoint",
        "PathIsReadWrite",
        "PathIsEncrypted",
        "DirectoryNotEmpty",
        "FileNotEmpty",
        "FileIsExecutable",
    ] {
        assert_error(&ctx, kind, "etc");
    }
}

#[test]
fn path_exists_glob() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    fs::create_dir(d.join("conf.d")).unwrap();
    fs::write(d.join("conf.d/10-x.conf"), "").unwrap();
    let ctx = fixed();
    assert_check(&ctx, "PathExistsGlob", &at(d, "conf.d/*.conf"), true);
    assert_check(&ctx, "PathExistsGlob", &at(d, "*/1?-x.conf"), true);
    assert_check(&ctx, "PathExistsGlob", &at(d, "{a,conf}.d/*"), true);
    assert_check(&ctx, "PathExistsGlob", &at(d, "conf.d/*.service"), false);
    assert_check(&ctx, "PathExistsGlob", &at(d, "conf.d/[!1]*"), false);
}

#[test]
fn mount_points() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir(t.path().join("sub")).unwrap();
    let ctx = fixed();
    assert_check(&ctx, "PathIsMountPoint", "/", true);
    assert_check(&ctx, "PathIsMountPoint", "/proc", true);
    assert_check(&ctx, "PathIsMountPoint", &at(t.path(), "sub"), false);
    assert_check(&ctx, "PathIsMountPoint", &at(t.path(), "missing"), false);
}

#[test]
fn read_write_and_encrypted() {
    let t = tempfile::tempdir().unwrap();
    let ctx = fixed();
    assert_check(
        &ctx,
        "PathIsReadWrite",
        &t.path().display().to_string(),
        true,
    );
    assert_check(&ctx, "PathIsReadWrite", &at(t.path(), "missing"), false);
    // A temp directory is not on a dm-crypt device in any test environment we run in; the
    // sysfs walk itself is covered with a fake tree in probe.rs.
    assert_check(&ctx, "PathIsEncrypted", &at(t.path(), "missing"), false);
}

#[test]
fn directory_not_empty() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    fs::create_dir(d.join("empty")).unwrap();
    fs::create_dir(d.join("hidden-only")).unwrap();
    fs::write(d.join("hidden-only/.keep"), "").unwrap();
    fs::write(d.join("hidden-only/x.dpkg-old"), "").unwrap();
    fs::create_dir(d.join("full")).unwrap();
    fs::write(d.join("full/x.conf"), "").unwrap();
    fs::write(d.join("file"), "x").unwrap();
    let ctx = fixed();
    assert_check(&ctx, "DirectoryNotEmpty", &at(d, "full"), true);
    assert_check(&ctx, "DirectoryNotEmpty", &at(d, "empty"), false);
    assert_check(&ctx, "DirectoryNotEmpty", &at(d, "hidden-only"), false);
    assert_check(&ctx, "DirectoryNotEmpty", &at(d, "missing"), false);
    assert_check(&ctx, "DirectoryNotEmpty", &at(d, "file"), false);
}

#[test]
fn file_not_empty_and_executable() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    fs::write(d.join("empty"), "").unwrap();
    fs::write(d.join("data"), "x").unwrap();
    fs::write(d.join("script"), "#!/bin/sh\n").unwrap();
    fs::set_permissions(d.join("script"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(d.join("data"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::create_dir(d.join("dir")).unwrap();
    symlink(d.join("script"), d.join("link")).unwrap();
    let ctx = fixed();

    assert_check(&ctx, "FileNotEmpty", &at(d, "data"), true);
    assert_check(&ctx, "FileNotEmpty", &at(d, "link"), true);
    assert_check(&ctx, "FileNotEmpty", &at(d, "empty"), false);
    assert_check(&ctx, "FileNotEmpty", &at(d, "dir"), false);
    assert_check(&ctx, "FileNotEmpty", &at(d, "missing"), false);

    assert_check(&ctx, "FileIsExecutable", &at(d, "script"), true);
    assert_check(&ctx, "FileIsExecutable", &at(d, "link"), true);
    assert_check(&ctx, "FileIsExecutable", &at(d, "data"), false);
    assert_check(&ctx, "FileIsExecutable", &at(d, "dir"), false);
    assert_check(&ctx, "FileIsExecutable", &at(d, "missing"), false);
}

/// Sets the modification time of a temp file (created if missing) or directory.
fn touch(path: &Path, when: SystemTime) {
    let f = if path.is_dir() {
        File::open(path)
    } else {
        File::options().create(true).append(true).open(path)
    };
    f.unwrap().set_modified(when).unwrap();
}

#[test]
fn needs_update_compares_with_usr() {
    let t = tempfile::tempdir().unwrap();
    let usr = t.path().join("usr");
    fs::create_dir(&usr).unwrap();
    let stamp = t.path().join(".updated");
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    touch(&usr, base);

    assert!(usr_newer_than_stamp(&usr, &stamp), "missing stamp");
    touch(&stamp, base - Duration::from_secs(10));
    assert!(usr_newer_than_stamp(&usr, &stamp), "older stamp");
    touch(&stamp, base + Duration::from_secs(10));
    assert!(!usr_newer_than_stamp(&usr, &stamp), "newer stamp");
    touch(&stamp, base);
    assert!(!usr_newer_than_stamp(&usr, &stamp), "same time");
    // Same second, /usr has nanoseconds, the stamp has none: TIMESTAMP_NSEC decides.
    touch(&usr, base + Duration::from_nanos(500));
    fs::write(&stamp, "TIMESTAMP_NSEC=1700000000000000100\n").unwrap();
    touch(&stamp, base);
    assert!(
        usr_newer_than_stamp(&usr, &stamp),
        "usr 500ns after stamp's 100ns"
    );
    fs::write(&stamp, "TIMESTAMP_NSEC=1700000000000000900\n").unwrap();
    touch(&stamp, base);
    assert!(
        !usr_newer_than_stamp(&usr, &stamp),
        "usr 500ns before stamp's 900ns"
    );
}

#[test]
fn needs_update_against_real_usr() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().display().to_string();
    let mut ctx = fixed();
    // No stamp: update needed.
    assert_check(&ctx, "NeedsUpdate", &dir, true);
    // A stamp from the far future: /usr is older.
    touch(
        &t.path().join(".updated"),
        SystemTime::now() + Duration::from_secs(10 * 365 * 86400),
    );
    assert_check(&ctx, "NeedsUpdate", &dir, false);
    // A stamp from 1970: /usr is newer.
    touch(&t.path().join(".updated"), SystemTime::UNIX_EPOCH);
    assert_check(&ctx, "NeedsUpdate", &dir, true);
    // Never in an initrd.
    ctx.in_initrd = true;
    assert_check(&ctx, "NeedsUpdate", &dir, false);
    // The kernel command line overrides everything.
    ctx.kernel_cmdline
        .push("systemd.condition_needs_update=yes".into());
    assert_check(&ctx, "NeedsUpdate", &dir, true);
    ctx.kernel_cmdline
        .push("systemd.condition-needs-update=0".into());
    assert_check(&ctx, "NeedsUpdate", &dir, false);
}

// ---------------------------------------------------------------------------------------------
// Versions, sizes and other parameters.

#[test]
fn kernel_version() {
    let ctx = fixed(); // 5.10.0-13-amd64
    let table = [
        (">=5.10", true),
        (">= 5.10", true),
        (">5.10", true),
        ("<5.10", false),
        ("<6", true),
        ("<= 5.9", false),
        ("=5.10.0-13-amd64", true),
        ("!=5.10.0-13-amd64", false),
        ("5.10.*", true),
        ("5.10.0-13-amd64", true),
        ("6.*", false),
        ("*-amd64", true),
        (">=5.4 <6", true),
        (">=5.4 <5.10", false),
        ("\">=5.4\" 5.*", true),
        (">=5.10.0-13-amd64", true),
        (">5.10.0-13-amd64", false),
        (">5.10.0", true),
        // `=`/`!=` compare strings, the orderings compare versions.
        ("=05.10.0-13-amd64", false),
        ("!=05.10.0-13-amd64", true),
        ("<=05.10.0-13-amd64", true),
        (">=05.10.0-13-amd64", true),
        ("=5.10.*", false),
    ];
    for (p, want) in table {
        assert_check(&ctx, "KernelVersion", p, want);
    }
    assert_error(&ctx, "KernelVersion", ">=");
    assert_error(&ctx, "KernelVersion", ">=5 <");
}

#[test]
fn memory_and_cpus() {
    let ctx = fixed(); // 8 GiB, 4 CPUs
    for (p, want) in [
        ("4G", true),
        ("8G", true),
        ("8193M", false),
        (">=8G", true),
        (">8G", false),
        ("<16G", true),
        ("<4G", false),
        ("=8192M", true),
        ("!=8192M", false),
        ("<=8388608K", true),
        ("1.5G", true),
        ("> 1G", true),
    ] {
        assert_check(&ctx, "Memory", p, want);
    }
    assert_error(&ctx, "Memory", "lots");
    assert_error(&ctx, "Memory", ">=");

    for (p, want) in [
        ("4", true),
        ("5", false),
        (">4", false),
        ("<=8", true),
        ("<4", false),
        ("=4", true),
        ("!=4", false),
        (">= 2", true),
    ] {
        assert_check(&ctx, "CPUs", p, want);
    }
    assert_error(&ctx, "CPUs", "four");
    assert_error(&ctx, "CPUs", "-1");

    let mut unknown = fixed();
    unknown.physical_memory = None;
    unknown.cpus = None;
    assert_error(&unknown, "Memory", "1G");
    assert_error(&unknown, "CPUs", "1");
}

#[test]
fn environment() {
    let ctx = fixed();
    assert_check(&ctx, "Environment", "FOO", true);
    assert_check(&ctx, "Environment", "FOO=bar", true);
    assert_check(&ctx, "Environment", "FOO=baz", false);
    assert_check(&ctx, "Environment", "FO", false);
    assert_check(&ctx, "Environment", "EMPTY", true);
    assert_check(&ctx, "Environment", "EMPTY=", true);
    assert_check(&ctx, "Environment", "BAR", false);
    assert_check(&ctx, "Environment", "PATH=/usr/bin:/bin", true);
}

#[test]
fn kernel_command_line() {
    let ctx = fixed();
    assert_check(&ctx, "KernelCommandLine", "quiet", true);
    assert_check(&ctx, "KernelCommandLine", "root", true);
    assert_check(&ctx, "KernelCommandLine", "root=/dev/sda1", true);
    assert_check(&ctx, "KernelCommandLine", "root=/dev/sda2", false);
    assert_check(&ctx, "KernelCommandLine", "roo", false);
    assert_check(
        &ctx,
        "KernelCommandLine",
        "systemd.unit=rescue.target",
        true,
    );
    assert_check(&ctx, "KernelCommandLine", "debug", false);
}

#[test]
fn os_release() {
    let ctx = fixed(); // ID=debian VERSION_ID=12
    for (p, want) in [
        ("ID=debian", true),
        ("ID=fedora", false),
        ("ID!=fedora", true),
        ("VERSION_ID>=11", true),
        ("VERSION_ID>11", true),
        ("VERSION_ID<12", false),
        ("VERSION_ID<=12", true),
        ("VERSION_ID=12.0", false),
        ("VERSION_ID=012", false),
        ("VERSION_ID<=012", true),
        ("ID=debian VERSION_ID>=12", true),
        ("ID=debian VERSION_ID>12", false),
        ("\"PRETTY_NAME=Debian GNU/Linux 12 (bookworm)\"", true),
        ("MISSING!=x", true),
        ("MISSING<1", true),
    ] {
        assert_check(&ctx, "OSRelease", p, want);
    }
    assert_error(&ctx, "OSRelease", "ID");
    assert_error(&ctx, "OSRelease", "ID=");
    assert_error(&ctx, "OSRelease", "=debian");
    assert_error(&ctx, "OSRelease", "1D=debian");
}

#[test]
fn capability() {
    let ctx = fixed(); // CAP_SYS_ADMIN (21) and CAP_NET_ADMIN (12)
    assert_check(&ctx, "Capability", "CAP_SYS_ADMIN", true);
    assert_check(&ctx, "Capability", "cap_sys_admin", true);
    assert_check(&ctx, "Capability", "CAP_NET_ADMIN", true);
    assert_check(&ctx, "Capability", "CAP_NET_RAW", false);
    assert_check(&ctx, "Capability", "CAP_CHECKPOINT_RESTORE", false);
    assert_check(&ctx, "Capability", "21", true);
    assert_error(&ctx, "Capability", "CAP_BOGUS");
    assert_error(&ctx, "Capability", "64");
}

#[test]
fn capability_matches_this_process() {
    let ctx = ConditionContext::detect(false, Vec::new());
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let bnd = u64::from_str_radix(probe::status_field(&status, "CapBnd").unwrap(), 16).unwrap();
    assert_eq!(ctx.capability_bounding_set, Some(bnd));
    for (bit, name) in CAPABILITIES.iter().enumerate() {
        assert_check(
            &ctx,
            "Capability",
            &name.to_ascii_uppercase(),
            bnd & (1 << bit) != 0,
        );
    }
}

#[test]
fn security_firmware_cpu_features() {
    let ctx = fixed();
    assert_check(&ctx, "Security", "apparmor", true);
    assert_check(&ctx, "Security", "audit", true);
    assert_check(&ctx, "Security", "selinux", false);
    assert_check(&ctx, "Security", "tpm2", false);
    assert_check(&ctx, "Security", "bogus", false);

    assert_check(&ctx, "Firmware", "device-tree", false);
    assert_check(
        &ctx,
        "Firmware",
        "device-tree-compatible(brcm,bcm2711)",
        true,
    );
    assert_check(&ctx, "Firmware", "device-tree-compatible(foo,bar)", false);
    assert_check(
        &ctx,
        "Firmware",
        "device-tree-compatible(brcm,bcm2711",
        false,
    );
    assert_check(&ctx, "Firmware", "uefi", false);
    assert_check(&ctx, "Firmware", "smbios-field(board_vendor = x)", false);

    assert_check(&ctx, "CPUFeature", "sse2", true);
    assert_check(&ctx, "CPUFeature", "AVX2", true);
    assert_check(&ctx, "CPUFeature", "avx512f", false);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn cpu_features_of_this_machine() {
    // Every x86-64 CPU has these.
    let ctx = ConditionContext::detect(false, Vec::new());
    for f in ["sse", "sse2", "lm", "fpu"] {
        assert_check(&ctx, "CPUFeature", f, true);
    }
}

#[test]
fn first_boot_and_ac_power_parameters() {
    let mut ctx = fixed();
    assert_check(&ctx, "FirstBoot", "no", true);
    assert_check(&ctx, "FirstBoot", "yes", false);
    ctx.first_boot = true;
    assert_check(&ctx, "FirstBoot", "true", true);
    assert_error(&ctx, "FirstBoot", "sometimes");

    // Whatever the power supply, exactly one of the two holds.
    let on = evaluate(&cond("ACPower", "true"), &ctx);
    let off = evaluate(&cond("ACPower", "false"), &ctx);
    assert_ne!(on, off);
    assert_error(&ctx, "ACPower", "maybe");
}

#[test]
fn credential() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("db-password"), "secret").unwrap();
    let mut ctx = fixed();
    assert_check(&ctx, "Credential", "db-password", false);
    ctx.credentials_dir = Some(t.path().to_path_buf());
    assert_check(&ctx, "Credential", "db-password", true);
    assert_check(&ctx, "Credential", "other", false);
    assert_check(&ctx, "Credential", "../db-password", false);
    assert_check(&ctx, "Credential", "..", false);
}

#[test]
fn cgroup_controllers() {
    let mut ctx = fixed(); // unified, cpu io memory pids
    assert_check(&ctx, "ControlGroupController", "v2", true);
    assert_check(&ctx, "ControlGroupController", "v1", false);
    assert_check(&ctx, "ControlGroupController", "cpu", true);
    assert_check(&ctx, "ControlGroupController", "cpu memory io", true);
    assert_check(&ctx, "ControlGroupController", "cpu blkio", false);
    assert_check(&ctx, "ControlGroupController", "cpuset", false);
    assert_check(&ctx, "ControlGroupController", "bpf-firewall", false);
    ctx.euid = 0;
    assert_check(&ctx, "ControlGroupController", "bpf-firewall", true);
    assert_check(&ctx, "ControlGroupController", "frobnicator", true);
    assert_check(&ctx, "ControlGroupController", "frobnicator cpuset", false);

    ctx.cgroup = CgroupInfo {
        unified: false,
        v2_mount: None,
        controllers: vec![
            "cpu".into(),
            "cpuacct".into(),
            "blkio".into(),
            "memory".into(),
        ],
        own_path: None,
    };
    assert_check(&ctx, "ControlGroupController", "v2", false);
    assert_check(&ctx, "ControlGroupController", "v1", true);
    assert_check(&ctx, "ControlGroupController", "blkio cpuacct", true);
    assert_check(&ctx, "ControlGroupController", "io", false);
    assert_check(&ctx, "ControlGroupController", "bpf-devices", false);
}

#[test]
fn pressure_parameters() {
    let mut ctx = fixed();
    // Averages never exceed 100%, and a missing /proc/pressure or slice file holds too.
    for kind in ["MemoryPressure", "CPUPressure", "IOPressure"] {
        assert_check(&ctx, kind, "100%", true);
        assert_check(&ctx, kind, "100%/10sec", true);
        assert_check(&ctx, kind, "100%/1min", true);
        assert_check(&ctx, kind, " 100% / 5min", true);
        assert_check(&ctx, kind, "no-such-thing.slice:100%", true);
        assert_error(&ctx, kind, "50");
        assert_error(&ctx, kind, "101%");
        assert_error(&ctx, kind, "50%/2min");
        assert_error(&ctx, kind, "foo.service:50%");
        assert_error(&ctx, kind, "abc");
    }
    // Per-slice checks are skipped off the unified hierarchy.
    ctx.cgroup.unified = false;
    assert_check(&ctx, "MemoryPressure", "foo.service:50%", true);
    // Without PSI the checks hold without looking at the parameter.
    ctx.psi_supported = false;
    assert_check(&ctx, "MemoryPressure", "abc", true);
}

#[test]
fn permyriad_values() {
    assert_eq!(parse_permyriad("0%"), Some(0));
    assert_eq!(parse_permyriad("12%"), Some(1200));
    assert_eq!(parse_permyriad("12.5%"), Some(1250));
    assert_eq!(parse_permyriad("12.34%"), Some(1234));
    assert_eq!(parse_permyriad("100%"), Some(10000));
    assert_eq!(parse_permyriad("125‰"), Some(1250));
    assert_eq!(parse_permyriad("12.5‰"), Some(125));
    assert_eq!(parse_permyriad("1250‱"), Some(1250));
    assert_eq!(parse_permyriad("12.345%"), None);
    assert_eq!(parse_permyriad("12.%"), None);
    assert_eq!(parse_permyriad("101%"), None);
    assert_eq!(parse_permyriad("12"), None);
    assert_eq!(parse_permyriad("%"), None);
}

#[test]
fn pressure_file_thresholds() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("memory.pressure");
    fs::write(
        &f,
        "some avg10=0.33 avg60=25.63 avg300=26.46 total=319806346\n\
         full avg10=0.00 avg60=12.00 avg300=20.00 total=0\n",
    )
    .unwrap();
    let full = PressureLine::Full;
    let some = PressureLine::Some;
    assert_eq!(pressure_within(&f, full, 2, 2000), Ok(true));
    assert_eq!(pressure_within(&f, full, 2, 1999), Ok(false));
    assert_eq!(pressure_within(&f, full, 1, 1200), Ok(true));
    assert_eq!(pressure_within(&f, some, 2, 2646), Ok(true));
    assert_eq!(pressure_within(&f, some, 2, 2645), Ok(false));
    assert_eq!(pressure_within(&f, some, 0, 0), Ok(false));
    assert_eq!(
        pressure_within(&t.path().join("missing"), full, 2, 0),
        Ok(true)
    );
    // A file with only the "some" line is read as such for "full".
    let cpu = t.path().join("cpu.pressure");
    fs::write(&cpu, "some avg10=1.00 avg60=2.00 avg300=3.00 total=5\n").unwrap();
    assert_eq!(pressure_within(&cpu, full, 2, 300), Ok(true));
    assert_eq!(pressure_within(&cpu, full, 2, 299), Ok(false));
    fs::write(&cpu, "garbage\n").unwrap();
    assert!(pressure_within(&cpu, full, 2, 0).is_err());
}

#[test]
fn unknown_kind_fails_either_way() {
    let ctx = fixed();
    assert_error(&ctx, "Frobnicate", "yes");
    assert_error(&ctx, "KernelModuleLoaded", "ext4");
}

#[test]
fn evaluate_all_keeps_order() {
    let ctx = fixed();
    let list = [
        cond("Environment", "FOO"),
        neg("Environment", "FOO"),
        cond("Bogus", "x"),
        cond("CPUs", "4"),
    ];
    assert_eq!(evaluate_all(&list, &ctx), [true, false, false, true]);
    assert!(evaluate_all(&[], &ctx).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Identity, host and virtualization, against this process and machine.

#[test]
fn user_and_group_of_this_process() {
    use nix::unistd::{Group, User, getgid, getuid};
    let ctx = ConditionContext::detect(false, Vec::new());
    let uid = getuid().as_raw();
    let gid = getgid().as_raw();
    assert_eq!(ctx.uid, uid);
    assert_eq!(ctx.gid, gid);

    assert_check(&ctx, "User", &uid.to_string(), true);
    assert_check(&ctx, "User", &(uid + 1).to_string(), ctx.euid == uid + 1);
    assert_check(&ctx, "User", "root", uid == 0 || ctx.euid == 0);
    assert_check(&ctx, "User", "@system", uid <= 999 || ctx.euid <= 999);
    if let Ok(Some(me)) = User::from_uid(getuid()) {
        assert_eq!(ctx.user_name.as_deref(), Some(me.name.as_str()));
        assert_check(&ctx, "User", &me.name, true);
    }
    assert_check(&ctx, "User", "no-such-user-unitd-test", false);
    assert_check(&ctx, "User", "65535", false);

    assert_check(&ctx, "Group", &gid.to_string(), true);
    if let Ok(Some(g)) = Group::from_gid(getgid()) {
        assert_check(&ctx, "Group", &g.name, true);
    }
    for extra in &ctx.groups {
        assert_check(&ctx, "Group", &extra.to_string(), true);
    }
    assert_check(&ctx, "Group", "no-such-group-unitd-test", false);
}

#[test]
fn user_parameters_on_fixed_context() {
    let ctx = fixed(); // uid 1000 "alice", groups 1000, 27, 100
    assert_check(&ctx, "User", "1000", true);
    assert_check(&ctx, "User", "alice", true);
    assert_check(&ctx, "User", "root", false);
    assert_check(&ctx, "User", "@system", false);
    assert_check(&ctx, "User", "+1000", false);
    assert_check(&ctx, "Group", "27", true);
    assert_check(&ctx, "Group", "1000", true);
    assert_check(&ctx, "Group", "4242", false);
}

#[test]
fn host_name_and_machine_id() {
    let ctx = ConditionContext::detect(false, Vec::new());
    let host = nix::unistd::gethostname()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_eq!(ctx.hostname, host);
    assert_check(&ctx, "Host", &host, true);
    assert_check(&ctx, "Host", &host.to_ascii_uppercase(), true);
    assert_check(&ctx, "Host", "*", true);
    assert_check(&ctx, "Host", &format!("{host}-not"), false);
    if let Some(id) = &ctx.machine_id {
        assert_check(&ctx, "Host", id, true);
        assert_check(&ctx, "Host", &id.to_ascii_uppercase(), true);
        let uuid = format!(
            "{}-{}-{}-{}-{}",
            &id[0..8],
            &id[8..12],
            &id[12..16],
            &id[16..20],
            &id[20..32]
        );
        assert_check(&ctx, "Host", &uuid, true);
        assert_check(&ctx, "Host", "00000000000000000000000000000001", false);
    }

    let fixed = fixed();
    assert_check(&fixed, "Host", "web-??.example.org", true);
    assert_check(&fixed, "Host", "WEB-*", true);
    assert_check(&fixed, "Host", "db-*", false);
    assert_check(&fixed, "Host", "3D1219C7-C4C5-404A-AA1F-6D2A48ADFDA4", true);
    let mut unset = fixed.clone();
    unset.machine_id = None;
    assert_error(&unset, "Host", "3d1219c7c4c5404aaa1f6d2a48adfda4");
}

#[test]
fn virtualization_consistent_with_detect() {
    let ctx = ConditionContext::detect(false, Vec::new());
    let v = ctx.virtualization.clone();
    let none = v == "none";
    let container = probe::CONTAINERS.contains(&v.as_str());
    let vm = probe::VMS.contains(&v.as_str());
    assert!(none || container || vm, "unknown virtualization {v}");
    assert_check(&ctx, "Virtualization", "no", none);
    assert_check(&ctx, "Virtualization", "false", none);
    assert_check(&ctx, "Virtualization", "yes", !none);
    assert_check(&ctx, "Virtualization", "container", container);
    assert_check(&ctx, "Virtualization", "vm", vm);
    assert_check(&ctx, "Virtualization", &v, !none);
    assert_check(
        &ctx,
        "Virtualization",
        "private-users",
        ctx.in_user_namespace,
    );
    // The container marker files systemd-detect-virt trusts.
    if Path::new("/run/.containerenv").exists() || Path::new("/.dockerenv").exists() {
        assert!(container, "marker file present, got {v}");
    }
}

#[test]
fn virtualization_parameters() {
    let mut ctx = fixed(); // kvm
    assert_check(&ctx, "Virtualization", "yes", true);
    assert_check(&ctx, "Virtualization", "vm", true);
    assert_check(&ctx, "Virtualization", "container", false);
    assert_check(&ctx, "Virtualization", "kvm", true);
    assert_check(&ctx, "Virtualization", "qemu", false);
    ctx.virtualization = "podman".into();
    assert_check(&ctx, "Virtualization", "container", true);
    assert_check(&ctx, "Virtualization", "vm", false);
    assert_check(&ctx, "Virtualization", "podman", true);
    ctx.virtualization = "none".into();
    assert_check(&ctx, "Virtualization", "no", true);
    assert_check(&ctx, "Virtualization", "yes", false);
    assert_check(&ctx, "Virtualization", "none", false);
    assert_check(&ctx, "Virtualization", "container", false);
    ctx.in_user_namespace = true;
    assert_check(&ctx, "Virtualization", "private-users", true);
}

#[test]
fn architecture() {
    let ctx = ConditionContext::detect(false, Vec::new());
    let arch = ctx.architecture.clone().expect("known architecture");
    assert_check(&ctx, "Architecture", &arch, true);
    if probe::native_architecture() == Some(arch.as_str()) {
        assert_check(&ctx, "Architecture", "native", true);
    }
    let other = if arch == "s390x" { "x86" } else { "s390x" };
    assert_check(&ctx, "Architecture", other, false);
    // An unknown name is certainly not this architecture.
    assert_check(&ctx, "Architecture", "vax", false);
    let mut unknown = ctx.clone();
    unknown.architecture = None;
    assert_error(&unknown, "Architecture", &arch);
}

#[test]
fn kernel_release_and_cmdline_of_this_machine() {
    let ctx = ConditionContext::detect(false, Vec::new());
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let release = release.trim();
    assert_eq!(ctx.kernel_release, release);
    assert_check(&ctx, "KernelVersion", &format!("={release}"), true);
    assert_check(&ctx, "KernelVersion", &format!(">={release}"), true);
    assert_check(&ctx, "KernelVersion", &format!(">{release}"), false);
    assert_check(&ctx, "KernelVersion", release, true);
    if let Some(first) = ctx.kernel_cmdline.first().cloned() {
        assert_check(&ctx, "KernelCommandLine", &first, true);
    }
    assert_check(
        &ctx,
        "KernelCommandLine",
        "unitd.test.no-such-option=1",
        false,
    );
}

#[test]
fn detect_reads_consistent_facts() {
    let env = vec!["A=1".to_owned()];
    let ctx = ConditionContext::detect(true, env.clone());
    assert!(ctx.user_scope);
    assert_eq!(ctx.manager_env, env);
    assert!(ctx.cpus.is_some_and(|n| n >= 1));
    assert!(ctx.physical_memory.is_some_and(|m| m > 0));
    assert_check(&ctx, "CPUs", ">=1", true);
    assert_check(&ctx, "Memory", ">=1M", true);
    assert_check(&ctx, "Environment", "A=1", true);
    // Whatever the cgroup set-up, v1 and v2 are exclusive.
    let v2 = evaluate(&cond("ControlGroupController", "v2"), &ctx);
    let v1 = evaluate(&cond("ControlGroupController", "v1"), &ctx);
    assert_ne!(v1, v2);
    if let Some(id) = &ctx.machine_id {
        assert_eq!(id.len(), 32);
        assert!(!ctx.first_boot || Path::new("/run/systemd/first-boot").exists());
    }
}

#[test]
fn null_condition() {
    let ctx = fixed();
    assert_check(&ctx, "Null", "yes", true);
    assert_check(&ctx, "Null", "true", true);
    assert_check(&ctx, "Null", "no", false);
    assert_error(&ctx, "Null", "maybe");
}
