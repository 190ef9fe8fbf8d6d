//! Whole-parser tests: text in, `ParsedUnit` out.

use std::path::{Path, PathBuf};

use super::specifier::test_context;
use super::*;
use crate::spec::{
    DepKind, ExecCommand, KindSpec, NotifyAccess, RestartPolicy, ServiceSpec, ServiceType,
    StdInput, StdOutput, USEC_INFINITY, USEC_PER_SEC, WorkingDirectory,
};

fn parse_with(name: &str, text: &str, dropins: &[(&str, &str)]) -> ParsedUnit {
    let n = UnitName::new(name).unwrap();
    let path = PathBuf::from(format!("/units/{name}"));
    let dropins: Vec<(PathBuf, Vec<u8>)> = dropins
        .iter()
        .map(|(p, t)| (PathBuf::from(p), t.as_bytes().to_vec()))
        .collect();
    parse_unit(
        &n,
        Some((path.as_path(), text.as_bytes())),
        &dropins,
        &test_context(),
    )
}

fn parse(name: &str, text: &str) -> ParsedUnit {
    parse_with(name, text, &[])
}

fn service(p: &ParsedUnit) -> &ServiceSpec {
    match &p.spec.kind {
        KindSpec::Service(s) => s,
        other => panic!("not a service: {other:?}"),
    }
}

fn loaded_service(name: &str, text: &str) -> (ParsedUnit, ServiceSpec) {
    let p = parse(name, text);
    assert_eq!(p.load_state, LoadState::Loaded, "{:#?}", p.diagnostics);
    let s = service(&p).clone();
    (p, s)
}

fn messages(p: &ParsedUnit) -> Vec<String> {
    p.diagnostics.iter().map(|d| d.to_string()).collect()
}

fn env(s: &ServiceSpec) -> Vec<(String, String)> {
    s.exec.environment.clone()
}

fn argv(c: &ExecCommand) -> Vec<&str> {
    c.argv.iter().map(String::as_str).collect()
}

#[test]
fn minimal_simple_service_defaults() {
    let (p, s) = loaded_service("a.service", "[Service]\nExecStart=/bin/true\n");
    assert!(p.diagnostics.is_empty());
    assert_eq!(s.service_type, ServiceType::Simple);
    assert_eq!(s.timeout_start_usec, 90 * USEC_PER_SEC);
    assert_eq!(s.timeout_stop_usec, 90 * USEC_PER_SEC);
    assert_eq!(s.restart_usec, 100_000);
    assert_eq!(s.notify_access, NotifyAccess::None);
    assert!(s.exec.ignore_sigpipe);
    // service_fix_stdio: inherit → journal.
    assert_eq!(s.exec.stdout, StdOutput::Journal);
    assert_eq!(s.exec.stderr, StdOutput::Journal);
    assert_eq!(s.exec.stdin, StdInput::Null);
    assert_eq!(p.spec.start_limit_burst, 5);
    assert!(p.spec.default_dependencies);
}

#[test]
fn oneshot_defaults_and_explicit_timeout() {
    let (_, s) = loaded_service(
        "a.service",
        "[Service]\nRemainAfterExit=yes\nExecStop=/bin/true\n",
    );
    assert_eq!(s.service_type, ServiceType::Oneshot);
    assert_eq!(s.timeout_start_usec, USEC_INFINITY);
    let (_, s) = loaded_service(
        "a.service",
        "[Service]\nType=oneshot\nTimeoutStartSec=5\nExecStart=/bin/a\nExecStart=/bin/b\n",
    );
    assert_eq!(s.timeout_start_usec, 5 * USEC_PER_SEC);
    assert_eq!(s.exec_start.len(), 2);
}

#[test]
fn timeouts_zero_and_infinity() {
    let (_, s) = loaded_service(
        "a.service",
        "[Service]\nExecStart=/bin/true\nTimeoutSec=0\nTimeoutAbortSec=3s\nRuntimeMaxSec=1min\n",
    );
    assert_eq!(s.timeout_start_usec, USEC_INFINITY);
    assert_eq!(s.timeout_stop_usec, USEC_INFINITY);
    assert_eq!(s.timeout_abort_usec, Some(3 * USEC_PER_SEC));
    assert_eq!(s.runtime_max_usec, 60 * USEC_PER_SEC);
    let (_, s) = loaded_service(
        "a.service",
        "[Service]\nExecStart=/bin/true\nTimeoutStopSec=infinity\nTimeoutStartSec=2min 3s\n",
    );
    assert_eq!(s.timeout_stop_usec, USEC_INFINITY);
    assert_eq!(s.timeout_start_usec, 123 * USEC_PER_SEC);
}

#[test]
fn seed_17_two_exec_start_on_simple_is_bad_setting() {
    let p = parse(
        "a.service",
        "[Service]\nExecStart=/bin/a\nExecStart=/bin/b\n",
    );
    assert_eq!(p.load_state, LoadState::BadSetting);
    assert!(messages(&p)[0].contains("more than one ExecStart="));
}

#[test]
fn seed_17_invalid_section_header_is_load_error() {
    let p = parse("a.service", "[Service] # c\nExecStart=/bin/true\n");
    assert_eq!(p.load_state, LoadState::Error);
    assert_eq!(p.error.as_deref(), Some("Bad message"));
    assert_eq!(
        messages(&p),
        ["/units/a.service:1: Invalid section header '[Service] # c'"]
    );
}

#[test]
fn service_verify_rules() {
    let cases: &[(&str, &str)] = &[
        ("[Service]\nType=simple\n", "no ExecStart=, ExecStop="),
        (
            "[Service]\nExecStop=/bin/x\n",
            "does not have RemainAfterExit=yes",
        ),
        (
            "[Service]\nType=simple\nExecStop=/bin/x\nRemainAfterExit=yes\n",
            "only allowed for Type=oneshot",
        ),
        (
            "[Service]\nType=oneshot\nExecStart=/bin/x\nRestart=always\n",
            "Restart= set to either always or on-success",
        ),
        (
            "[Service]\nType=oneshot\nExecStart=/bin/x\nRestartForceExitStatus=3\n",
            "RestartForceExitStatus=",
        ),
        (
            "[Service]\nType=dbus\nExecStart=/bin/x\n",
            "no D-Bus service name",
        ),
    ];
    for (text, msg) in cases {
        let p = parse("a.service", text);
        assert_eq!(p.load_state, LoadState::BadSetting, "{text}");
        assert!(
            messages(&p).iter().any(|m| m.contains(msg)),
            "{text}: {:?}",
            messages(&p)
        );
    }
    // Allowed combinations.
    loaded_service(
        "a.service",
        "[Service]\nType=oneshot\nExecStart=/bin/x\nRestart=on-failure\n",
    );
    let (_, s) = loaded_service(
        "a.service",
        "[Service]\nBusName=org.example.A\nExecStart=/bin/x\n",
    );
    assert_eq!(s.service_type, ServiceType::Dbus);
}

#[test]
fn exec_errors_are_bad_setting_with_line() {
    for text in [
        "[Service]\nExecStart=bin/relative\n",
        "[Service]\nExecStart=/bin/x \"unbalanced\n",
        "[Service]\nExecStart=/bin/x %z\n",
    ] {
        let p = parse("a.service", text);
        assert_eq!(p.load_state, LoadState::BadSetting, "{text}");
        let m = messages(&p);
        assert!(m[0].starts_with("/units/a.service:2: ExecStart=:"), "{m:?}");
    }
    // With `-` the broken line is dropped with a warning; the unit still needs an ExecStart.
    let p = parse(
        "a.service",
        "[Service]\nExecStartPre=-/bin/x %z\nExecStart=/bin/true\n",
    );
    assert_eq!(p.load_state, LoadState::Loaded);
    assert!(service(&p).exec_start_pre.is_empty());
    assert_eq!(p.diagnostics.len(), 1);
}

#[test]
fn exec_lines_end_to_end() {
    let (_, s) = loaded_service(
        "x@inst.service",
        "[Service]\nType=oneshot\nExecStart=-@/bin/sh sh -c 'echo %i $X' ; /bin/echo \\; %%\nExecStart=:/bin/echo ${A}\n",
    );
    assert_eq!(s.exec_start.len(), 3);
    assert_eq!(s.exec_start[0].path, "/bin/sh");
    assert_eq!(argv(&s.exec_start[0]), ["sh", "-c", "echo inst $X"]);
    assert!(s.exec_start[0].flags.ignore_failure);
    assert_eq!(argv(&s.exec_start[1]), ["/bin/echo", ";", "%"]);
    assert!(s.exec_start[2].flags.no_env_expand);
    assert_eq!(argv(&s.exec_start[2]), ["/bin/echo", "${A}"]);
}

#[test]
fn empty_exec_resets_across_dropins() {
    let p = parse_with(
        "a.service",
        "[Service]\nExecStart=/bin/old\nExecStartPre=/bin/pre\n",
        &[(
            "/units/a.service.d/override.conf",
            "[Service]\nExecStart=\nExecStart=/bin/new\n",
        )],
    );
    assert_eq!(p.load_state, LoadState::Loaded, "{:?}", messages(&p));
    let s = service(&p);
    assert_eq!(argv(&s.exec_start[0]), ["/bin/new"]);
    assert_eq!(s.exec_start_pre.len(), 1);
}

#[test]
fn environment_table() {
    // (value, expected variables) — §7.2 of the service contract.
    let table: &[(&str, &[(&str, &str)])] = &[
        (
            r#""VAR1=word1 word2" VAR2=word3 "VAR3=$word 5 6""#,
            &[
                ("VAR1", "word1 word2"),
                ("VAR2", "word3"),
                ("VAR3", "$word 5 6"),
            ],
        ),
        ("'TWO=two two'", &[("TWO", "two two")]),
        ("EMPTY=", &[("EMPTY", "")]),
        ("D=%%", &[("D", "%")]),
        ("E=%h", &[("E", "/home/alice")]),
        ("N=%n", &[("N", "a.service")]),
        // No inline comments: `#` and `x` are invalid assignments, skipped.
        ("A=1 # x", &[("A", "1")]),
        // An invalid escape stops the line at that word; earlier words are kept.
        (r"X=1 Y=a\qb Z=3", &[("X", "1")]),
        (r#"X=1 "Y=unbalanced"#, &[("X", "1")]),
        ("1BAD=x GOOD=y", &[("GOOD", "y")]),
        // Later assignments of a name override earlier ones in place.
        ("A=1 B=2 A=3", &[("A", "3"), ("B", "2")]),
        (r#"ESC="a\tb\x41""#, &[("ESC", "a\tbA")]),
        ("U=%z V=ok", &[("V", "ok")]),
    ];
    for (value, want) in table {
        let (_, s) = loaded_service(
            "a.service",
            &format!("[Service]\nExecStart=/bin/true\nEnvironment={value}\n"),
        );
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(env(&s), want, "Environment={value}");
    }
    // Warnings name the line.
    let p = parse(
        "a.service",
        "[Service]\nExecStart=/bin/true\nEnvironment=A=1 # x\n",
    );
    assert_eq!(
        messages(&p),
        [
            "/units/a.service:3: Invalid environment assignment, ignoring: #",
            "/units/a.service:3: Invalid environment assignment, ignoring: x"
        ]
    );
}

#[test]
fn environment_accumulates_and_resets() {
    let p = parse_with(
        "a.service",
        "[Service]\nExecStart=/bin/true\nEnvironment=A=1\nEnvironment=B=2\n",
        &[("/d/10.conf", "[Service]\nEnvironment=\nEnvironment=C=3\n")],
    );
    assert_eq!(env(service(&p)), [("C".into(), "3".into())]);
}

#[test]
fn exec_context_settings() {
    let (_, s) = loaded_service(
        "a.service",
        "[Service]\nExecStart=/bin/true\n\
         WorkingDirectory=-~\nUser=nobody\nGroup=1234\nSupplementaryGroups=a b\nSupplementaryGroups=c\n\
         UMask=0027\nNice=-5\nLimitNOFILE=1024:4096\nLimitCORE=infinity\nLimitNOFILE=2048\n\
         EnvironmentFile=-/etc/default/a\nEnvironmentFile=/etc/a.env\nPassEnvironment=HOME USER\n\
         UnsetEnvironment=X Y=1\nStandardInput=file:/dev/zero\nStandardOutput=append:/tmp/out\n\
         StandardError=null\nIgnoreSIGPIPE=no\n",
    );
    let x = &s.exec;
    assert_eq!(x.working_directory, Some(WorkingDirectory::Home));
    assert!(x.working_directory_missing_ok);
    assert_eq!(x.user.as_deref(), Some("nobody"));
    assert_eq!(x.group.as_deref(), Some("1234"));
    assert_eq!(x.supplementary_groups, ["a", "b", "c"]);
    assert_eq!(x.umask, Some(0o027));
    assert_eq!(x.nice, Some(-5));
    let nofile = crate::spec::linux::RLIMIT_NOFILE;
    let core = crate::spec::linux::RLIMIT_CORE;
    assert_eq!(x.limits.len(), 2);
    assert!(
        x.limits
            .iter()
            .any(|l| l.resource == nofile && l.soft == 2048 && l.hard == 2048)
    );
    assert!(
        x.limits
            .iter()
            .any(|l| l.resource == core && l.soft == u64::MAX && l.hard == u64::MAX)
    );
    assert_eq!(
        x.environment_files,
        [
            ("/etc/default/a".to_owned(), true),
            ("/etc/a.env".to_owned(), false)
        ]
    );
    assert_eq!(x.pass_environment, ["HOME", "USER"]);
    assert_eq!(x.unset_environment, ["X", "Y=1"]);
    assert_eq!(x.stdin, StdInput::File("/dev/zero".into()));
    assert_eq!(x.stdout, StdOutput::Append("/tmp/out".into()));
    assert_eq!(x.stderr, StdOutput::Null);
    assert!(!x.ignore_sigpipe);
}

#[test]
fn working_directory_errors() {
    let p = parse(
        "a.service",
        "[Service]\nExecStart=/bin/true\nWorkingDirectory=relative\n",
    );
    assert_eq!(p.load_state, LoadState::BadSetting);
    let p = parse(
        "a.service",
        "[Service]\nExecStart=/bin/true\nWorkingDirectory=-relative\n",
    );
    assert_eq!(p.load_state, LoadState::Loaded);
    let (_, s) = loaded_service(
        "a@x.service",
        "[Service]\nExecStart=/bin/true\nWorkingDirectory=/srv/%i\n",
    );
    assert_eq!(
        s.exec.working_directory,
        Some(WorkingDirectory::Path("/srv/x".into()))
    );
    let p = parse("a.service", "[Service]\nExecStart=/bin/true\nUser=a:b\n");
    assert_eq!(p.load_state, LoadState::BadSetting);
}

#[test]
fn stdio_inherit_rules() {
    // stdout null, stderr inherit: stderr stays inherit (follows stdout).
    let (_, s) = loaded_service(
        "a.service",
        "[Service]\nExecStart=/bin/true\nStandardOutput=null\n",
    );
    assert_eq!(s.exec.stdout, StdOutput::Null);
    assert_eq!(s.exec.stderr, StdOutput::Inherit);
    // stdin socket: nothing is rewritten.
    let (_, s) = loaded_service(
        "a.service",
        "[Service]\nExecStart=/bin/true\nStandardInput=socket\n",
    );
    assert_eq!(s.exec.stdin, StdInput::Socket);
    assert_eq!(s.exec.stdout, StdOutput::Inherit);
    // Unsupported inputs warn and fall back to null.
    let p = parse(
        "a.service",
        "[Service]\nExecStart=/bin/true\nStandardInput=tty\nStandardOutput=kmsg+console\n",
    );
    assert_eq!(service(&p).exec.stdin, StdInput::Null);
    assert_eq!(service(&p).exec.stdout, StdOutput::Journal);
    assert_eq!(p.diagnostics.len(), 1);
    // A relative file: path is a bad setting.
    let p = parse(
        "a.service",
        "[Service]\nExecStart=/bin/true\nStandardOutput=file:rel\n",
    );
    assert_eq!(p.load_state, LoadState::BadSetting);
}

#[test]
fn notify_access_upgrade() {
    let (_, s) = loaded_service("a.service", "[Service]\nType=notify\nExecStart=/bin/x\n");
    assert_eq!(s.notify_access, NotifyAccess::Main);
    let (_, s) = loaded_service(
        "a.service",
        "[Service]\nType=notify-reload\nExecStart=/bin/x\n",
    );
    assert_eq!(s.notify_access, NotifyAccess::Main);
    let (_, s) = loaded_service("a.service", "[Service]\nWatchdogSec=5\nExecStart=/bin/x\n");
    assert_eq!(s.notify_access, NotifyAccess::Main);
    assert_eq!(s.watchdog_usec, 5 * USEC_PER_SEC);
    let (_, s) = loaded_service(
        "a.service",
        "[Service]\nFileDescriptorStoreMax=4\nExecStart=/bin/x\n",
    );
    assert_eq!(s.notify_access, NotifyAccess::Main);
    assert_eq!(s.fd_store_max, 4);
    let (_, s) = loaded_service(
        "a.service",
        "[Service]\nType=notify\nNotifyAccess=all\nExecStart=/bin/x\n",
    );
    assert_eq!(s.notify_access, NotifyAccess::All);
}

#[test]
fn restart_and_exit_status_sets() {
    let (p, s) = loaded_service(
        "a.service",
        "[Service]\nExecStart=/bin/x\nRestart=on-failure\nRestartSec=2s\n\
         SuccessExitStatus=TEMPFAIL 3 SIGUSR1 NOTINSTALLED\nSuccessExitStatus=HUP bogus\n\
         RestartPreventExitStatus=7\nRestartPreventExitStatus=\nRestartPreventExitStatus=9\n\
         RestartForceExitStatus=SIGTERM\n",
    );
    assert_eq!(s.restart, RestartPolicy::OnFailure);
    assert_eq!(s.restart_usec, 2 * USEC_PER_SEC);
    assert_eq!(s.success_exit_status.statuses, [75, 3, 5]);
    assert_eq!(
        s.success_exit_status.signals,
        [crate::spec::linux::SIGUSR1, crate::spec::linux::SIGHUP]
    );
    assert_eq!(s.restart_prevent_exit_status.statuses, [9]);
    assert_eq!(
        s.restart_force_exit_status.signals,
        [crate::spec::linux::SIGTERM]
    );
    assert_eq!(
        messages(&p),
        ["/units/a.service:6: Failed to parse SuccessExitStatus=bogus, ignoring"]
    );
}

#[test]
fn kill_settings() {
    let (_, s) = loaded_service(
        "a.service",
        "[Service]\nExecStart=/bin/x\nKillMode=mixed\nKillSignal=SIGINT\nRestartKillSignal=HUP\n\
         SendSIGHUP=yes\nSendSIGKILL=no\nFinalKillSignal=SIGQUIT\nWatchdogSignal=10\n",
    );
    let k = &s.kill;
    assert_eq!(k.mode.as_str(), "mixed");
    assert_eq!(k.kill_signal, crate::spec::linux::SIGINT);
    assert_eq!(k.restart_kill_signal, Some(crate::spec::linux::SIGHUP));
    assert!(k.send_sighup && !k.send_sigkill);
    assert_eq!(k.final_kill_signal, crate::spec::linux::SIGQUIT);
    assert_eq!(k.watchdog_signal, 10);
}

#[test]
fn pid_file_rules() {
    let (_, s) = loaded_service(
        "a.service",
        "[Service]\nType=forking\nExecStart=/bin/x\nPIDFile=a.pid\n",
    );
    assert_eq!(
        s.pid_file.as_deref(),
        Some(Path::new("/run/user/1000/a.pid"))
    );
    let (p, s) = loaded_service(
        "a.service",
        "[Service]\nType=forking\nExecStart=/bin/x\nPIDFile=/var/run/%N.pid\n",
    );
    assert_eq!(s.pid_file.as_deref(), Some(Path::new("/run/a.pid")));
    assert!(messages(&p)[0].contains("legacy directory /var/run/"));
}

#[test]
fn invalid_values_warn_and_keep_defaults() {
    let (p, s) = loaded_service(
        "a.service",
        "[Service]\nExecStart=/bin/x\nRestart=sometimes\nTimeoutStopSec=soon\nRemainAfterExit=maybe\n\
         KillSignal=SIGNOPE\nNice=40\nUMask=999\nLimitNOFILE=4:2\nType=weird\n",
    );
    assert_eq!(s.restart, RestartPolicy::No);
    assert_eq!(s.timeout_stop_usec, 90 * USEC_PER_SEC);
    assert!(!s.remain_after_exit);
    assert_eq!(s.kill.kill_signal, crate::spec::linux::SIGTERM);
    assert_eq!(s.exec.nice, None);
    assert_eq!(s.exec.umask, None);
    assert!(s.exec.limits.is_empty());
    assert_eq!(s.service_type, ServiceType::Simple);
    let lines: Vec<u32> = p.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7, 8, 9, 10]);
}

#[test]
fn unknown_and_unsupported_keys_warn() {
    let (p, _) = loaded_service(
        "a.service",
        "[Unit]\nFoo=1\nX-Custom=1\nSourcePath=/x\nRequiresMountsFor=/x\n\
         [Service]\nExecStart=/bin/x\nenvironment=A=1\nDynamicUser=yes\nCPUWeight=10\nX-Mine=2\n\
         [Install]\nBogus=1\n",
    );
    assert_eq!(
        messages(&p),
        [
            "/units/a.service:2: Unknown key name 'Foo' in section 'Unit', ignoring.",
            "/units/a.service:5: Setting 'RequiresMountsFor=' in section '[Unit]' is not supported by unitd yet, ignoring.",
            "/units/a.service:8: Unknown key name 'environment' in section 'Service', ignoring.",
            "/units/a.service:9: Setting 'DynamicUser=' in section '[Service]' is not supported by unitd yet, ignoring.",
            "/units/a.service:10: Setting 'CPUWeight=' in section '[Service]' is not supported by unitd yet, ignoring.",
            "/units/a.service:13: Unknown key name 'Bogus' in section 'Install', ignoring.",
        ]
    );
}

#[test]
fn unit_section() {
    let p = parse(
        "web@8080.service",
        "[Unit]\nDescription=Web on %i (%N)\nDocumentation=man:web(8) https://x.org bogus\n\
         Documentation=\nDocumentation=man:w(1)\n\
         Wants=a.service b.service\nAfter=a.service network.target\nRequires=%p-db@.service\n\
         BindTo=c.service\nConflicts=web@8080.service\nWants=a.service\n\
         RefuseManualStop=yes\nStopWhenUnneeded=true\nAllowIsolate=1\nDefaultDependencies=no\n\
         IgnoreOnIsolate=yes\nStartLimitIntervalSec=30\nStartLimitBurst=3\nOnFailureJobMode=isolate\n\
         OnSuccessJobMode=fail\nJobTimeoutSec=0\nCollectMode=inactive-or-failed\nOnFailure=fail@%n.service\n\
         [Service]\nExecStart=/bin/web\nStartLimitBurst=7\n",
    );
    assert_eq!(p.load_state, LoadState::Loaded, "{:?}", messages(&p));
    let u = &p.spec;
    assert_eq!(u.description, "Web on 8080 (web@8080)");
    assert_eq!(u.documentation, ["man:w(1)"]);
    assert_eq!(
        u.deps,
        [
            (DepKind::Wants, "a.service".to_owned()),
            (DepKind::Wants, "b.service".to_owned()),
            (DepKind::After, "a.service".to_owned()),
            (DepKind::After, "network.target".to_owned()),
            (DepKind::Requires, "web-db@8080.service".to_owned()),
            (DepKind::BindsTo, "c.service".to_owned()),
        ]
    );
    assert!(u.refuse_manual_stop && u.stop_when_unneeded && u.allow_isolate);
    assert!(!u.default_dependencies && u.ignore_on_isolate);
    assert_eq!(u.start_limit_interval_usec, 30 * USEC_PER_SEC);
    assert_eq!(u.start_limit_burst, 7);
    assert_eq!(u.on_failure_job_mode, "isolate");
    assert_eq!(u.on_success_job_mode, "fail");
    assert_eq!(u.job_timeout_usec, USEC_INFINITY);
    assert!(u.collect_inactive_or_failed);
    let m = messages(&p);
    assert!(m.iter().any(|m| m.contains("Invalid URL, ignoring: bogus")));
    assert!(
        m.iter()
            .any(|m| m.contains("Dependency Conflicts=web@8080.service is dropped"))
    );
    assert!(
        m.iter()
            .any(|m| m.contains("Failed to add dependency on fail@web@8080.service.service"))
    );
}

#[test]
fn isolate_job_mode_needs_a_single_target() {
    let p = parse(
        "a.target",
        "[Unit]\nOnFailure=x.target y.target\nOnFailureJobMode=isolate\n",
    );
    assert_eq!(p.load_state, LoadState::BadSetting);
    assert!(messages(&p)[0].contains("More than one OnFailure= dependencies"));
    let p = parse(
        "a.target",
        "[Unit]\nOnFailure=x.target\nOnFailureJobMode=isolate\n",
    );
    assert_eq!(p.load_state, LoadState::Loaded);
}

#[test]
fn dependency_specifier_errors_skip_the_word() {
    let p = parse(
        "a.service",
        "[Unit]\nWants=%h.service b.service\n[Service]\nExecStart=/bin/x\n",
    );
    assert_eq!(p.spec.deps, [(DepKind::Wants, "b.service".to_owned())]);
    assert!(messages(&p)[0].contains("unknown specifier '%h'"));
    // A template target from a plain unit is instantiated with the unit's prefix.
    let p = parse(
        "a.service",
        "[Unit]\nWants=getty@.service\n[Service]\nExecStart=/bin/x\n",
    );
    assert_eq!(
        p.spec.deps,
        [(DepKind::Wants, "getty@a.service".to_owned())]
    );
}

#[test]
fn conditions_and_asserts() {
    let p = parse(
        "a.service",
        "[Unit]\nConditionPathExists=/etc/x\nConditionPathExists=|!/run/%n\n\
         ConditionUser=!root\nAssertPathIsDirectory=/srv\nConditionPathExists=relative\n\
         [Service]\nExecStart=/bin/x\n",
    );
    let c = &p.spec.conditions;
    assert_eq!(c.len(), 3);
    assert_eq!(c[0].kind, "PathExists");
    assert_eq!(c[0].parameter, "/etc/x");
    assert!(!c[0].trigger && !c[0].negate);
    assert!(c[1].trigger && c[1].negate);
    assert_eq!(c[1].parameter, "/run/a.service");
    assert_eq!(c[2].kind, "User");
    assert!(c[2].negate);
    assert_eq!(p.spec.asserts.len(), 1);
    assert_eq!(p.spec.asserts[0].kind, "PathIsDirectory");
    assert_eq!(p.diagnostics.len(), 1, "relative path warned");
    // An empty Condition*= resets every condition (not the asserts).
    let p = parse_with(
        "a.service",
        "[Unit]\nConditionPathExists=/etc/x\nConditionUser=root\nAssertUser=root\n[Service]\nExecStart=/bin/x\n",
        &[("/d/x.conf", "[Unit]\nConditionHost=\n")],
    );
    assert!(p.spec.conditions.is_empty());
    assert_eq!(p.spec.asserts.len(), 1);
}

#[test]
fn install_section() {
    let p = parse(
        "a@.service",
        "[Service]\nExecStart=/bin/x\n[Install]\nWantedBy=multi-user.target default.target\n\
         RequiredBy=b@%i.target\nAlias=c@.service\nAlso=d.service\nDefaultInstance=tty1\n\
         WantedBy=x.target\n",
    );
    let i = &p.spec.install;
    assert_eq!(
        i.wanted_by,
        ["multi-user.target", "default.target", "x.target"]
    );
    assert_eq!(i.required_by, ["b@%i.target"]);
    assert_eq!(i.alias, ["c@.service"]);
    assert_eq!(i.also, ["d.service"]);
    assert_eq!(i.default_instance.as_deref(), Some("tty1"));
    let n = UnitName::new("a@tty2.service").unwrap();
    assert_eq!(
        expand_install_specifiers("b@%i.target", &n, &test_context()).unwrap(),
        "b@tty2.target"
    );
}

#[test]
fn targets_have_no_service_section() {
    let p = parse(
        "x.target",
        "[Unit]\nDescription=X\nWants=a.service\n[Service]\nExecStart=/bin/x\n[Install]\nWantedBy=default.target\n",
    );
    assert_eq!(p.load_state, LoadState::Loaded);
    assert!(matches!(p.spec.kind, KindSpec::Target));
    assert_eq!(
        messages(&p),
        ["/units/x.target:4: Unknown section 'Service'. Ignoring."]
    );
    assert_eq!(p.spec.install.wanted_by, ["default.target"]);
}

#[test]
fn socket_section_is_lowered() {
    use crate::spec::{ListenAddress, ListenKind};
    let p = parse(
        "x.socket",
        "[Unit]\nDescription=S\n[Socket]\nListenStream=/run/x.sock\nListenStream=\n\
         ListenStream=%t/x.sock\nListenStream=@abs\nListenStream=8080\n\
         ListenStream=127.0.0.1:99\nListenDatagram=[::1]:53\nListenFIFO=/run/x.fifo\n\
         ListenSequentialPacket=/run/x.seq\nListenStream=nonsense:x\nSocketMode=0600\n\
         Backlog=12\nFileDescriptorName=named\nRemoveOnStop=yes\nFreeBind=yes\n\
         Symlinks=/dev/old\nSymlinks=\nSymlinks=/dev/log /run/log relative\n\
         [Install]\nWantedBy=sockets.target\n",
    );
    assert_eq!(p.load_state, LoadState::Loaded);
    let KindSpec::Socket(s) = &p.spec.kind else {
        panic!("expected a socket spec")
    };
    assert_eq!(
        s.symlinks,
        [
            std::path::PathBuf::from("/dev/log"),
            std::path::PathBuf::from("/run/log")
        ]
    );
    let kinds: Vec<ListenKind> = s.listen.iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        [
            ListenKind::Stream,
            ListenKind::Stream,
            ListenKind::Stream,
            ListenKind::Stream,
            ListenKind::Datagram,
            ListenKind::Fifo,
            ListenKind::SequentialPacket
        ]
    );
    assert!(matches!(&s.listen[0].address, ListenAddress::Path(p) if p.ends_with("x.sock")));
    assert_eq!(s.listen[1].address, ListenAddress::Abstract("abs".into()));
    assert_eq!(
        s.listen[2].address,
        ListenAddress::Inet {
            addr: None,
            port: 8080
        }
    );
    assert_eq!(s.listen[3].text, "127.0.0.1:99");
    assert_eq!(s.socket_mode, 0o600);
    assert_eq!(s.backlog, 12);
    assert_eq!(s.fd_name.as_deref(), Some("named"));
    assert!(s.remove_on_stop && !s.accept);
    assert_eq!(s.service.as_deref(), Some("x.service"));
    assert!(
        p.spec
            .deps
            .contains(&(DepKind::Before, "x.service".to_owned()))
    );
    let m = messages(&p);
    assert!(
        m.iter()
            .any(|m| m.contains(":13: Failed to parse address value in ListenStream=")),
        "{m:?}"
    );
    assert!(
        m.iter().any(|m| m.contains(":18: Setting 'FreeBind='")),
        "{m:?}"
    );
    // Defaults of the connection limits.
    assert_eq!((s.max_connections, s.max_connections_per_source), (64, 0));
    let p = parse(
        "y.socket",
        "[Socket]\nListenStream=/run/y\nAccept=yes\nMaxConnections=5\n\
         MaxConnectionsPerSource=2\nMaxConnections=lots\n",
    );
    let KindSpec::Socket(s) = &p.spec.kind else {
        panic!("expected a socket spec")
    };
    assert_eq!((s.max_connections, s.max_connections_per_source), (5, 2));
    let m = messages(&p);
    assert!(
        m.iter()
            .any(|m| m.contains(":6: Failed to parse connection limit, ignoring: lots")),
        "{m:?}"
    );

    let p = parse("y.socket", "[Socket]\nAccept=yes\n");
    assert_eq!(p.load_state, LoadState::BadSetting);
}

#[test]
fn other_types_keep_their_section_raw() {
    for (name, section) in [
        ("x.path", "Path"),
        ("x.automount", "Automount"),
        ("x.slice", "Slice"),
    ] {
        let p = parse(name, &format!("[Unit]\nDescription=d\n[{section}]\nK=v\n"));
        assert_eq!(p.load_state, LoadState::Loaded, "{name}");
        assert!(p.diagnostics.is_empty(), "{name}");
        assert!(matches!(&p.spec.kind, KindSpec::Other(r) if r.entries.len() == 1));
    }
}

#[test]
fn dropin_without_fragment_and_file_attribution() {
    let n = UnitName::new("x.slice").unwrap();
    let dropins = vec![(
        PathBuf::from("/d/10.conf"),
        b"[Unit]\nDescription=from drop-in\nBogus=1\n".to_vec(),
    )];
    let p = parse_unit(&n, None, &dropins, &test_context());
    assert_eq!(p.load_state, LoadState::Loaded);
    assert_eq!(p.spec.description, "from drop-in");
    assert_eq!(
        messages(&p),
        ["/d/10.conf:3: Unknown key name 'Bogus' in section 'Unit', ignoring."]
    );
}

#[test]
fn fatal_error_in_dropin() {
    let p = parse_with(
        "a.service",
        "[Service]\nExecStart=/bin/x\n",
        &[("/d/bad.conf", "[Service\n")],
    );
    assert_eq!(p.load_state, LoadState::Error);
    assert_eq!(
        messages(&p),
        ["/d/bad.conf:1: Invalid section header '[Service'"]
    );
}

/// Fixed-seed xorshift: deterministic pseudo-random input without extra dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn parser_never_panics() {
    const PIECES: &[&str] = &[
        "[Unit]",
        "[Service]",
        "[Install]",
        "[Socket]",
        "[X-a]",
        "[",
        "]",
        "\n",
        "\r\n",
        "\r",
        "\0",
        "\\",
        "\\\n",
        "#",
        ";",
        " ; ",
        "=",
        " ",
        "\t",
        "\"",
        "'",
        "%",
        "%i",
        "%n",
        "%z",
        "%%",
        "$",
        "${A}",
        "-",
        "@",
        ":",
        "+",
        "!",
        "!!",
        "/bin/x",
        "ExecStart=",
        "ExecStop=",
        "Environment=",
        "Type=",
        "oneshot",
        "notify",
        "dbus",
        "Restart=always",
        "Wants=",
        "After=",
        "a.service",
        "x@.service",
        "\\x41",
        "\\x",
        "\\u12",
        "\\U0010ffff",
        "\\777",
        "\u{feff}",
        "\u{e9}",
        "LimitNOFILE=",
        "1:2",
        "infinity",
        "TimeoutSec=",
        "5min",
        "Condition",
        "PathExists=",
        "|",
        "WorkingDirectory=",
        "~",
        "PIDFile=",
        "User=",
        "StandardOutput=",
        "file:",
        "append:",
        "SuccessExitStatus=",
        "SIGTERM",
        "TEMPFAIL",
        "Description=",
        "Documentation=",
        "man:x",
        "RemainAfterExit=yes",
        "BusName=",
        "a.b",
        "Nice=",
        "-20",
        "UMask=",
        "0777",
        "KillSignal=",
        "RTMIN+1",
        "\u{ff}",
    ];
    let ctx = test_context();
    let names = ["a.service", "a@b-c.service", "t.target", "s.socket"];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..3000 {
        let n = (rng.next() % 60) as usize;
        let mut text = String::new();
        for _ in 0..n {
            text.push_str(rng.pick(PIECES));
        }
        let mut bytes = text.into_bytes();
        if round % 7 == 0 && !bytes.is_empty() {
            // Sprinkle invalid UTF-8.
            let at = (rng.next() % bytes.len() as u64) as usize;
            bytes[at] = 0xff;
        }
        let name = UnitName::new(names[round % names.len()]).unwrap();
        let dropin = vec![(PathBuf::from("/d/x.conf"), bytes.clone())];
        let p = parse_unit(&name, Some((Path::new("/f"), &bytes)), &dropin, &ctx);
        // The state is always one a parser may produce, and errors are explained.
        match p.load_state {
            LoadState::Loaded => assert!(!p.has_errors()),
            LoadState::BadSetting => assert!(p.has_errors()),
            LoadState::Error => assert!(p.error.is_some()),
            other => panic!("unexpected state {other:?}"),
        }
    }
}

#[test]
fn exec_directories_parse() {
    use crate::spec::{ExecDirectoryType as T, RuntimeDirectoryPreserve};
    let (p, s) = loaded_service(
        "db@main.service",
        "[Service]\nExecStart=/bin/true\n\
         RuntimeDirectory=db db/%i\nRuntimeDirectory=db\nRuntimeDirectoryMode=0750\n\
         RuntimeDirectoryPreserve=restart\n\
         StateDirectory=db:x\nStateDirectory=\nStateDirectory=db2:old/db2 db3:../x\n\
         CacheDirectory=/abs ../up ok a/./b\nLogsDirectory=db\nLogsDirectoryMode=bogus\n\
         ConfigurationDirectory=db:cfg\nConfigurationDirectoryMode=0755\n",
    );
    let d = &s.exec.directories;
    let paths = |t: T| -> Vec<String> {
        d[t.index()]
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect()
    };
    assert_eq!(paths(T::Runtime), ["db", "db/main"]);
    assert_eq!(d[T::Runtime.index()].mode(), 0o750);
    assert_eq!(
        s.exec.runtime_directory_preserve,
        RuntimeDirectoryPreserve::Restart
    );
    assert_eq!(paths(T::State), ["db2"], "an empty assignment resets");
    assert_eq!(
        d[T::State.index()].symlinks,
        [("db2".into(), "old/db2".into())],
        "path:symlink; an invalid symlink drops the entry"
    );
    assert!(d[T::Configuration.index()].symlinks.is_empty());
    assert_eq!(d[T::State.index()].mode(), 0o755, "default mode");
    assert_eq!(
        paths(T::Cache),
        ["ok"],
        "absolute and unnormalized paths dropped"
    );
    assert_eq!(paths(T::Logs), ["db"]);
    assert_eq!(d[T::Logs.index()].mode, None, "an invalid mode is ignored");
    assert_eq!(paths(T::Configuration), ["db"]);
    let msgs = messages(&p);
    for bad in ["/abs", "../up", "a/./b"] {
        assert!(
            msgs.iter()
                .any(|m| m.contains("CacheDirectory= path is not valid") && m.contains(bad)),
            "{msgs:#?}"
        );
    }
    assert!(msgs.iter().any(|m| m.contains("bogus")), "{msgs:#?}");
    assert!(
        msgs.iter()
            .any(|m| m.contains("ConfigurationDirectory= does not support symlinks")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("symlink path is not valid") && m.contains("db3:../x")),
        "{msgs:#?}"
    );
    assert!(
        !msgs.iter().any(|m| m.contains("not supported")),
        "the directory settings are implemented: {msgs:#?}"
    );
    for (v, want) in [
        ("yes", RuntimeDirectoryPreserve::Yes),
        ("no", RuntimeDirectoryPreserve::No),
    ] {
        let (_, s) = loaded_service(
            "a.service",
            &format!("[Service]\nExecStart=/bin/true\nRuntimeDirectoryPreserve={v}\n"),
        );
        assert_eq!(s.exec.runtime_directory_preserve, want);
    }
}

#[test]
fn condition_null_is_a_condition() {
    let p = parse(
        "a.service",
        "[Unit]\nConditionNull=no\nAssertNull=|yes\n[Service]\nExecStart=/bin/true\n",
    );
    assert!(p.diagnostics.is_empty(), "{:?}", messages(&p));
    assert_eq!(p.spec.conditions[0].kind, "Null");
    assert_eq!(p.spec.conditions[0].parameter, "no");
    assert!(p.spec.asserts[0].trigger);
}

#[test]
fn notify_reload_type_and_reload_signal() {
    let (p, s) = loaded_service(
        "a.service",
        "[Service]\nType=notify-reload\nExecStart=/bin/x\n",
    );
    assert!(p.diagnostics.is_empty(), "{:?}", messages(&p));
    assert_eq!(s.service_type, ServiceType::NotifyReload);
    assert_eq!(s.reload_signal, crate::spec::linux::SIGHUP, "default");
    let (_, s) = loaded_service(
        "a.service",
        "[Service]\nType=notify-reload\nReloadSignal=SIGUSR1\nExecStart=/bin/x\n",
    );
    assert_eq!(s.reload_signal, 10);
    let (_, s) = loaded_service(
        "a.service",
        "[Service]\nReloadSignal=USR2\nReloadSignal=\nExecStart=/bin/x\n",
    );
    assert_eq!(s.reload_signal, crate::spec::linux::SIGHUP, "empty resets");
    let (p, s) = loaded_service(
        "a.service",
        "[Service]\nReloadSignal=SIGNOPE\nExecStart=/bin/x\n",
    );
    assert_eq!(s.reload_signal, crate::spec::linux::SIGHUP);
    let m = messages(&p);
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].contains(":2:") && m[0].contains("SIGNOPE"), "{m:?}");
}

/// A socket that listens only on kinds unitd does not open (Debian's
/// `systemd-journald-audit.socket`: `ListenNetlink=audit 1`) loads, with a warning per line,
/// so its own conditions decide at start; one without any `Listen*=` is refused as by systemd.
#[test]
fn socket_with_only_unsupported_listen_kinds_loads() {
    use crate::spec::{KindSpec, LoadState};
    let p = parse(
        "audit.socket",
        "[Unit]\nConditionCapability=CAP_AUDIT_READ\n[Socket]\nListenNetlink=audit 1\n",
    );
    assert_eq!(p.load_state, LoadState::Loaded);
    let KindSpec::Socket(s) = &p.spec.kind else {
        panic!("expected a socket spec")
    };
    assert!(s.listen.is_empty());
    assert_eq!(s.unsupported_listen, ["ListenNetlink=audit 1"]);
    assert!(
        p.diagnostics.iter().any(|d| d
            .to_string()
            .contains("'ListenNetlink=' in section '[Socket]'")),
        "{:?}",
        p.diagnostics
    );
    let p = parse("none.socket", "[Socket]\nListenNetlink=\nBacklog=4\n");
    assert_eq!(p.load_state, LoadState::BadSetting);
}

fn timer(p: &ParsedUnit) -> &crate::spec::TimerSpec {
    match &p.spec.kind {
        KindSpec::Timer(t) => t,
        other => panic!("not a timer: {other:?}"),
    }
}

#[test]
fn timer_section_as_debian_ships_it() {
    use crate::spec::TimerBase;
    // Debian 12's logrotate.timer and apt-daily.timer, plus the monotonic keys.
    let p = parse(
        "logrotate.timer",
        "[Unit]\nDescription=Daily rotation of log files\n\
         [Timer]\nOnCalendar=daily\nAccuracySec=1h\nPersistent=true\n\
         OnCalendar=*-*-* 6,18:00\nRandomizedDelaySec=12h\n\
         OnBootSec=15min\nOnUnitActiveSec=1d\nOnActiveSec=2s\nOnStartupSec=0\n\
         OnUnitInactiveSec=1h 30min\nRemainAfterElapse=no\nFixedRandomDelay=yes\n\
         [Install]\nWantedBy=timers.target\n",
    );
    assert_eq!(p.load_state, LoadState::Loaded, "{:#?}", p.diagnostics);
    assert!(p.diagnostics.is_empty(), "{:#?}", p.diagnostics);
    let t = timer(&p);
    let cal: Vec<String> = t.calendar.iter().map(|c| c.to_normalized()).collect();
    assert_eq!(cal, ["*-*-* 00:00:00", "*-*-* 06,18:00:00"]);
    assert_eq!(
        t.monotonic,
        [
            (TimerBase::Boot, 15 * 60 * USEC_PER_SEC),
            (TimerBase::UnitActive, 86_400 * USEC_PER_SEC),
            (TimerBase::Active, 2 * USEC_PER_SEC),
            (TimerBase::Startup, 0),
            (TimerBase::UnitInactive, 5_400 * USEC_PER_SEC),
        ]
    );
    assert_eq!(t.accuracy_usec, 3600 * USEC_PER_SEC);
    assert_eq!(t.randomized_delay_usec, 12 * 3600 * USEC_PER_SEC);
    assert!(t.persistent && t.fixed_random_delay && !t.remain_after_elapse);
    // Unit= defaults to the service of the same name, which the timer is ordered before.
    assert_eq!(t.unit.as_deref(), Some("logrotate.service"));
    assert!(
        p.spec
            .deps
            .contains(&(DepKind::Before, "logrotate.service".into()))
    );
}

#[test]
fn timer_unit_reset_and_bad_values() {
    let p = parse(
        "a@x.timer",
        "[Timer]\nOnCalendar=daily\nOnCalendar=\nOnActiveSec=5\nOnCalendar=bogus\n\
         OnBootSec=never\nUnit=%i-job.service\nUnit=other.service\nWakeSystem=yes\nFoo=1\n",
    );
    assert_eq!(p.load_state, LoadState::Loaded);
    let t = timer(&p);
    assert!(t.calendar.is_empty());
    assert_eq!(t.monotonic.len(), 1);
    assert_eq!(t.unit.as_deref(), Some("x-job.service"));
    let msgs: Vec<(u32, &str)> = p
        .diagnostics
        .iter()
        .map(|d| (d.line, d.message.as_str()))
        .collect();
    assert_eq!(
        msgs,
        [
            (5, "Failed to parse calendar specification, ignoring: bogus"),
            (6, "Failed to parse timer value, ignoring: never"),
            (
                8,
                "Multiple units to trigger specified, ignoring: other.service"
            ),
            (
                9,
                "WakeSystem= is not enforced by unitd: the timer elapses when the system is \
                 awake, it does not resume a suspended system."
            ),
            (10, "Unknown key name 'Foo' in section 'Timer', ignoring."),
        ]
    );
    // A template timer triggers the matching instance.
    let p = parse("b@y.timer", "[Timer]\nOnActiveSec=1\n");
    assert_eq!(timer(&p).unit.as_deref(), Some("b@y.service"));
}

#[test]
fn timer_without_values_is_refused() {
    let p = parse("a.timer", "[Timer]\nPersistent=yes\n");
    assert_eq!(p.load_state, LoadState::BadSetting);
    assert!(
        p.diagnostics
            .iter()
            .any(|d| d.message == "Timer unit lacks value setting. Refusing.")
    );
    let p = parse("a.timer", "[Timer]\nOnClockChange=yes\n");
    assert_eq!(p.load_state, LoadState::Loaded);
    let p = parse("a.timer", "[Timer]\nOnCalendar=daily Europe/Berlin\n");
    assert_eq!(p.load_state, LoadState::Loaded);
    assert!(p.diagnostics.is_empty());
    assert_eq!(
        timer(&p).calendar[0].to_normalized(),
        "*-*-* 00:00:00 Europe/Berlin"
    );
}

#[test]
fn mount_settings_and_defaults() {
    let p = parse(
        "srv-a\\x2db.mount",
        "[Mount]\nWhat=tmpfs\nWhere=//srv//a-b/\nType=tmpfs\nOptions=size=%u\n\
         DirectoryMode=0700\nTimeoutSec=0\nSloppyOptions=yes\nLazyUnmount=yes\n\
         ForceUnmount=true\nReadWriteOnly=1\nDirectoryMode=bogus\nUser=nobody\nBogus=1\n",
    );
    assert_eq!(p.load_state, LoadState::Loaded, "{:#?}", p.diagnostics);
    let KindSpec::Mount(m) = &p.spec.kind else {
        panic!("not a mount: {:?}", p.spec.kind)
    };
    assert_eq!(m.what, "tmpfs");
    assert_eq!(m.where_, "/srv/a-b");
    assert_eq!(m.fstype, "tmpfs");
    assert!(m.options.starts_with("size="), "{}", m.options);
    assert_eq!(m.directory_mode, 0o700);
    assert_eq!(m.timeout_usec, USEC_INFINITY);
    assert!(m.sloppy_options && m.lazy_unmount && m.force_unmount && m.read_write_only);
    let msgs = messages(&p);
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(
        msgs[0].contains(":12:") && msgs[0].contains("bogus"),
        "{msgs:?}"
    );
    assert!(
        msgs[1].contains(":13:")
            && msgs[1].contains("'User=' in section '[Mount]' is not supported"),
        "{msgs:?}"
    );
    assert!(
        msgs[2].contains(":14:") && msgs[2].contains("Unknown key name 'Bogus'"),
        "{msgs:?}"
    );

    // Where= defaults to the path of the name; the default timeout is 90 s.
    let p = parse(
        "dev-hugepages.mount",
        "[Mount]\nWhat=hugetlbfs\nType=hugetlbfs\n",
    );
    assert_eq!(p.load_state, LoadState::Loaded, "{:#?}", p.diagnostics);
    let KindSpec::Mount(m) = &p.spec.kind else {
        panic!()
    };
    assert_eq!(m.where_, "/dev/hugepages");
    assert_eq!(m.timeout_usec, 90 * USEC_PER_SEC);
    // Mount units are left alone by isolate unless they say otherwise.
    assert!(p.spec.ignore_on_isolate);
    let p = parse(
        "mnt-x.mount",
        "[Unit]\nIgnoreOnIsolate=no\n[Mount]\nWhat=tmpfs\n",
    );
    assert!(!p.spec.ignore_on_isolate);
    assert_eq!(m.directory_mode, 0o755);
}

#[test]
fn bad_mount_settings_refuse_the_unit() {
    for (name, text, msg) in [
        (
            "mnt-a.mount",
            "[Mount]\nWhat=tmpfs\nWhere=/mnt/b\n",
            "Where= setting doesn't match unit name. Refusing.",
        ),
        (
            "mnt-a.mount",
            "[Mount]\nWhere=/mnt/a\n",
            "What= setting is missing. Refusing.",
        ),
        (
            "proc.mount",
            "[Mount]\nWhat=proc\nType=proc\n",
            "Cannot create mount unit for API file system /proc. Refusing.",
        ),
    ] {
        let p = parse(name, text);
        assert_eq!(p.load_state, LoadState::BadSetting, "{text}");
        assert!(
            messages(&p).iter().any(|m| m.contains(msg)),
            "{text}: {:?}",
            messages(&p)
        );
    }
    // A relative Where= is ignored with a warning (the name's path is used).
    let p = parse("mnt-a.mount", "[Mount]\nWhat=tmpfs\nWhere=mnt/a\n");
    assert_eq!(p.load_state, LoadState::Loaded);
    assert!(
        messages(&p)[0].contains("is not absolute"),
        "{:?}",
        messages(&p)
    );
}
