//! Job-file parser and lowering tests (pure: text in, spec and diagnostics out).

use std::path::Path;

use super::*;
use crate::spec::event_expr::{EventArg, EventExpr};
use crate::spec::{KindSpec, RestartPolicy, ServiceType, StdOutput, UnitName};

fn parse(text: &str) -> ParsedJob {
    parse_job(
        "foo",
        (Path::new("/etc/init/foo.conf"), text.as_bytes()),
        None,
    )
}

fn ok(text: &str) -> JobSpec {
    let p = parse(text);
    assert!(p.ok, "unexpected errors: {:?}", p.diagnostics);
    p.job
}

fn errors(text: &str) -> Vec<String> {
    let p = parse(text);
    assert!(!p.ok);
    p.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect()
}

fn rpn(e: &Option<EventExpr>) -> Vec<Vec<String>> {
    e.as_ref().map(|e| e.to_rpn()).unwrap_or_default()
}

fn svc(spec: &crate::spec::UnitSpec) -> &crate::spec::ServiceSpec {
    match &spec.kind {
        KindSpec::Service(s) => s,
        _ => panic!("not a service"),
    }
}

fn lowered(text: &str) -> crate::spec::UnitSpec {
    lower(&ok(text), &UnitName::new("foo.service").unwrap())
}

#[test]
fn metadata_stanzas() {
    let j = ok(r#"# a job
description "My job"
author 'Me <me@example.org>'
version 1.2
usage "foo TTY=<tty>"
emits deploy-done  other-*
emits third
instance $TTY
"#);
    assert_eq!(j.meta.description, "My job");
    assert_eq!(j.meta.author, "Me <me@example.org>");
    assert_eq!(j.meta.version, "1.2");
    assert_eq!(j.meta.usage, "foo TTY=<tty>");
    assert_eq!(j.meta.emits, ["deploy-done", "other-*", "third"]);
    assert_eq!(j.meta.instance, "$TTY");
}

#[test]
fn event_expressions_equal_precedence_left_to_right() {
    let j = ok("start on A or B and C\nstop on A and (B or C x=1)\n");
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        rpn(&j.meta.start_on),
        vec![s(&["A"]), s(&["B"]), s(&["/OR"]), s(&["C"]), s(&["/AND"])]
    );
    assert_eq!(
        rpn(&j.meta.stop_on),
        vec![
            s(&["A"]),
            s(&["B"]),
            s(&["C", "x=1"]),
            s(&["/OR"]),
            s(&["/AND"])
        ]
    );
}

#[test]
fn event_expression_args_and_multiline_parens() {
    let j = ok(
        "start on (runlevel [2345] # comment\n   and started nginx\n  and deploy ENV=prod X!=y)\nexec /bin/true\n",
    );
    let e = j.meta.start_on.unwrap();
    let leaves = e.leaves();
    assert_eq!(leaves.len(), 3);
    assert_eq!(
        leaves[0],
        &EventExpr::Event {
            name: "runlevel".into(),
            args: vec![EventArg::Positional("[2345]".into())]
        }
    );
    assert_eq!(
        leaves[2],
        &EventExpr::Event {
            name: "deploy".into(),
            args: vec![
                EventArg::Equals("ENV".into(), "prod".into()),
                EventArg::NotEquals("X".into(), "y".into())
            ]
        }
    );
    assert!(j.main.is_some());
    // a quoted "and" is an operand (an argument)
    let j = ok("start on foo 'and'\n");
    assert_eq!(
        rpn(&j.meta.start_on),
        vec![vec!["foo".to_owned(), "and".to_owned()]]
    );
}

#[test]
fn event_expression_errors_have_lines() {
    assert_eq!(
        errors("exec /bin/true\nstart on and foo\n"),
        ["/etc/init/foo.conf:2: Expected event"]
    );
    assert_eq!(
        errors("start on (a or b\n"),
        ["/etc/init/foo.conf:1: Mismatched parentheses"]
    );
    assert_eq!(
        errors("start on a or b)\n"),
        ["/etc/init/foo.conf:1: Mismatched parentheses"]
    );
    assert_eq!(
        errors("start on a (b)\n"),
        ["/etc/init/foo.conf:1: Expected operator"]
    );
    assert_eq!(
        errors("start on a =x\n"),
        ["/etc/init/foo.conf:1: Expected variable name before value"]
    );
    assert_eq!(
        errors("start on\n"),
        ["/etc/init/foo.conf:1: Expected event"]
    );
}

#[test]
fn scripts_and_processes() {
    let j = ok(
        "pre-start script\n    echo one\n      echo two\n    echo end script\n  end   script # done\nexec /usr/bin/daemon --flag \"a b\"\npost-stop exec rm -f /tmp/x\n",
    );
    assert_eq!(
        j.pre_start,
        Some(Process::Script(
            "echo one\n  echo two\necho end script\n".into()
        ))
    );
    assert_eq!(
        j.main,
        Some(Process::Exec("/usr/bin/daemon --flag \"a b\"".into()))
    );
    assert_eq!(j.post_stop, Some(Process::Exec("rm -f /tmp/x".into())));
}

#[test]
fn unterminated_script_is_an_error_other_stanzas_still_read() {
    let p = parse("description x\nscript\n  echo hi\n");
    assert!(!p.ok);
    assert_eq!(
        p.diagnostics[0].to_string(),
        "/etc/init/foo.conf:2: Unterminated block"
    );
    assert_eq!(p.job.meta.description, "x");
}

#[test]
fn unknown_stanza_and_bad_values() {
    let errs = errors("frobnicate yes\nnice 40\nexec /bin/true\numask 999\nkill signal NOPE\n");
    assert_eq!(
        errs,
        [
            "/etc/init/foo.conf:1: Unknown stanza",
            "/etc/init/foo.conf:2: Illegal nice value, expected -20 to 19",
            "/etc/init/foo.conf:4: Illegal file creation mask, expected octal integer",
            "/etc/init/foo.conf:5: Illegal signal",
        ]
    );
    assert_eq!(
        errors("task extra\n"),
        ["/etc/init/foo.conf:1: Unexpected token"]
    );
}

#[test]
fn manual_cancels_only_earlier_start_on() {
    assert!(ok("start on a\nmanual\n").meta.start_on.is_none());
    assert!(ok("manual\nstart on a\n").meta.start_on.is_some());
}

#[test]
fn override_applies_after_conf_and_bad_override_is_ignored() {
    let conf = b"start on startup\nexec /bin/true\n".as_slice();
    let p = parse_job(
        "foo",
        (Path::new("/etc/init/foo.conf"), conf),
        Some((Path::new("/etc/init/foo.override"), b"manual\n")),
    );
    assert!(p.ok);
    assert!(p.job.meta.start_on.is_none());
    assert_eq!(
        p.job.meta.override_path.as_deref(),
        Some(Path::new("/etc/init/foo.override"))
    );
    let p = parse_job(
        "foo",
        (Path::new("/etc/init/foo.conf"), conf),
        Some((Path::new("/etc/init/foo.override"), b"manual\nbogus\n")),
    );
    assert!(p.ok);
    assert!(p.job.meta.start_on.is_some());
    assert!(
        p.diagnostics
            .iter()
            .all(|d| d.severity == Severity::Warning)
    );
    assert!(
        p.diagnostics
            .iter()
            .any(|d| d.to_string() == "/etc/init/foo.override:2: Unknown stanza")
    );
}

#[test]
fn respawn_normal_exit_expect_kill() {
    let j = ok(
        "respawn\nrespawn limit 3 60\nnormal exit 0 2 TERM SIGHUP\nexpect daemon\nkill timeout 9\nkill signal INT\nreload signal USR1\n",
    );
    assert!(j.meta.respawn);
    assert_eq!(j.meta.respawn_limit, Some((3, 60)));
    assert_eq!(j.meta.normal_exit_statuses, [0, 2]);
    assert_eq!(j.meta.normal_exit_signals, [15, 1]);
    assert_eq!(j.meta.kill_timeout_secs, 9);
    assert_eq!(j.meta.kill_signal, 2);
    assert_eq!(j.meta.reload_signal, 10);
    // respawn limit alone does not enable respawn
    let j = ok("respawn limit unlimited\n");
    assert!(!j.meta.respawn);
    assert_eq!(j.meta.respawn_limit, None);
}

#[test]
fn unsupported_stanzas_warn_with_lines() {
    let p = parse(
        "chroot /srv\noom score never\napparmor load /etc/aa/x\ncgroup memory\nexec /bin/true\n",
    );
    assert!(p.ok);
    let w: Vec<String> = p.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(w.len(), 4);
    assert!(w[0].starts_with("/etc/init/foo.conf:1: 'chroot'"));
    assert!(w[3].starts_with("/etc/init/foo.conf:4: 'cgroup'"));
    assert_eq!(p.job.oom_score, Some(-1000));
}

#[test]
fn lowering_exec_and_script() {
    let spec = lowered("exec /bin/sleep 100\npre-start script\n  test -d /tmp\nend script\n");
    let s = svc(&spec);
    assert_eq!(s.service_type, ServiceType::Simple);
    assert_eq!(s.exec_start[0].argv, ["/bin/sleep", "100"]);
    assert!(s.exec_start[0].flags.no_env_expand);
    assert_eq!(
        s.exec_start_pre[0].argv,
        ["/bin/sh", "-e", "-c", "test -d /tmp\n"]
    );
    assert_eq!(s.exec_reload[0].argv, ["/bin/kill", "-HUP", "$MAINPID"]);
    assert_eq!(s.exec.stdout, StdOutput::Journal);
    assert_eq!(s.exec.umask, Some(0o022));
    assert!(
        s.exec
            .environment
            .contains(&("UPSTART_JOB".into(), "foo".into()))
    );
    let spec = lowered("exec echo $HOME > /tmp/x\n");
    assert_eq!(
        svc(&spec).exec_start[0].argv,
        ["/bin/sh", "-e", "-c", "exec echo $HOME > /tmp/x"]
    );
}

#[test]
fn lowering_types_and_restart() {
    let spec = lowered("task\nexec /bin/true\n");
    assert_eq!(svc(&spec).service_type, ServiceType::Oneshot);
    assert!(!svc(&spec).remain_after_exit);
    let spec = lowered("pre-start exec /bin/true\n");
    assert_eq!(svc(&spec).service_type, ServiceType::Oneshot);
    assert!(svc(&spec).remain_after_exit);
    let spec = lowered("expect fork\nexec /usr/sbin/d\n");
    assert_eq!(svc(&spec).service_type, ServiceType::Forking);
    let spec = lowered("respawn\nrespawn limit 3 60\nexec /bin/x\n");
    assert_eq!(svc(&spec).restart, RestartPolicy::Always);
    assert_eq!(spec.start_limit_burst, 3);
    assert_eq!(spec.start_limit_interval_usec, 60_000_000);
    let spec = lowered("respawn\nnormal exit 2\nexec /bin/x\n");
    let s = svc(&spec);
    assert_eq!(s.restart, RestartPolicy::OnFailure);
    assert_eq!(s.success_exit_status.statuses, [2]);
    assert_eq!(s.restart_force_exit_status.statuses, [0]);
    let spec = lowered(
        "console none\nenv A=1\nenv B\nsetuid nobody\nchdir /srv\nnice 5\nlimit nofile 10 unlimited\nkill timeout 3\nexec /bin/x\n",
    );
    let s = svc(&spec);
    assert_eq!(s.exec.stdout, StdOutput::Null);
    assert!(s.exec.environment.contains(&("A".into(), "1".into())));
    assert_eq!(s.exec.pass_environment, ["B"]);
    assert_eq!(s.exec.user.as_deref(), Some("nobody"));
    assert_eq!(s.exec.nice, Some(5));
    assert_eq!(s.exec.limits[0].hard, u64::MAX);
    assert_eq!(s.timeout_stop_usec, 3_000_000);
    assert!(spec.upstart.is_some());
}

#[test]
fn unit_names_for_jobs() {
    assert_eq!(unit_name_for_job("foo"), "foo.service");
    assert_eq!(unit_name_for_job("net/apache"), "net-apache.service");
    assert_eq!(unit_name_for_job("a@b"), "a\\x40b.service");
    assert!(UnitName::new(&unit_name_for_job("a@b c")).is_ok());
    assert_eq!(
        job_name_from_relative(Path::new("net/apache.conf")).as_deref(),
        Some("net/apache")
    );
    assert_eq!(job_name_from_relative(Path::new("x.override")), None);
}
