//! A parsed Upstart job → the unit `<job>.service` run by the one engine.
//!
//! | Upstart | unit | note |
//! |---|---|---|
//! | `exec CMD` | `ExecStart=` | split on whitespace, or `/bin/sh -e -c "exec CMD"` when CMD has shell characters (as Upstart does) |
//! | `script` | `ExecStart=/bin/sh -e -c BODY` | Upstart feeds multi-line bodies through `/proc/self/fd/N`; `-c` runs the same text |
//! | `pre-start` / `post-start` | `ExecStartPre=` / `ExecStartPost=` | |
//! | `pre-stop` | `ExecStop=` | systemd runs it before the kill signal like Upstart, but also after the main process exited on its own (Upstart does not) |
//! | `post-stop` | `ExecStopPost=` | |
//! | `task` | `Type=oneshot` | no main process and no `task`: oneshot with `RemainAfterExit=yes` (Upstart's running-without-process) |
//! | `expect fork`/`daemon` | `Type=forking` | main PID found by the forking rules (guessing) rather than ptrace |
//! | `respawn` | `Restart=always` (or `on-failure` + `RestartForceExitStatus=0` when `normal exit` is given; tasks: `on-failure`), `RestartSec=0` | |
//! | `respawn limit N S` | `StartLimitBurst=N`, `StartLimitIntervalSec=S` | default 10 in 5 s; `unlimited`/0 disables |
//! | `normal exit` | `SuccessExitStatus=` | |
//! | `kill timeout` / `kill signal` | `TimeoutStopSec=` / `KillSignal=` | Upstart signals the process group, unitd the whole unit |
//! | `reload signal` | `ExecReload=/bin/kill -SIG $MAINPID` | |
//! | `console log`/`output`/`owner` | journal (unitd's per-unit log store) | unitd has no console; `console none` → `/dev/null` |
//! | `env K=V` / `env K` | `Environment=` / `PassEnvironment=` | plus `UPSTART_JOB`, `UPSTART_INSTANCE` |
//! | `nice`, `limit`, `umask` (default 022), `chdir` (default `/`), `setuid`, `setgid` | `Nice=`, `Limit*=`, `UMask=`, `WorkingDirectory=`, `User=`, `Group=` | |
//! | `chroot`, `oom score`, `apparmor`, `cgroup`, `expect stop` | — | parsed, warned about, not applied |
//!
//! `DefaultDependencies=no` plus `Conflicts=`/`Before=shutdown.target`: a job has no implicit
//! ordering against `basic.target`/`sysinit.target`, as in Upstart.
//!
//! There is no start timeout (`TimeoutStartSec=infinity`), as in Upstart. Events, instances and
//! the metadata stay in [`UnitSpec::upstart`].

use std::sync::Arc;

use crate::spec::upstart::{Console, Expect};
use crate::spec::{
    DepKind, ExecCommand, ExecContext, ExecFlags, ExitStatusSet, KindSpec, RestartPolicy,
    ServiceSpec, ServiceType, StdOutput, USEC_INFINITY, USEC_PER_SEC, UnitName, UnitSpec,
    WorkingDirectory,
};

use super::{JobSpec, Process};

/// Characters that make Upstart run an `exec` line through `/bin/sh -e -c`.
const SHELL_CHARS: &str = "~`!$^&*()=|\\{}[];\"'<>?";

/// The unit name of job `job`: `foo` → `foo.service`, `net/apache` → `net-apache.service`;
/// bytes not allowed in unit names (and `@`) become `\xNN`.
pub fn unit_name_for_job(job: &str) -> String {
    let mut out = String::new();
    for b in job.bytes() {
        match b {
            b'/' => out.push('-'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b':' | b'_' | b'.' | b'-' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push_str(".service");
    out
}

fn command(p: &Process) -> ExecCommand {
    let flags = ExecFlags {
        no_env_expand: true,
        ..ExecFlags::default()
    };
    let argv: Vec<String> = match p {
        Process::Exec(cmd) if cmd.contains(|c| SHELL_CHARS.contains(c)) => vec![
            "/bin/sh".into(),
            "-e".into(),
            "-c".into(),
            format!("exec {cmd}"),
        ],
        Process::Exec(cmd) => cmd.split_whitespace().map(str::to_owned).collect(),
        Process::Script(body) => vec!["/bin/sh".into(), "-e".into(), "-c".into(), body.clone()],
    };
    ExecCommand {
        path: argv[0].clone(),
        argv,
        flags,
    }
}

/// Lower `job` into the settings of unit `name` (from [`unit_name_for_job`]).
pub fn lower(job: &JobSpec, name: &UnitName) -> UnitSpec {
    let meta = &job.meta;
    let mut spec = UnitSpec::default_for(name);
    spec.description = meta.description.clone();
    // Upstart jobs have no implicit dependencies: only the shutdown conflict, not systemd's
    // `Requires=`/`After=basic.target` (which would order a job held in `stopping` before the
    // start of a handler that needs basic.target — a deadlock Upstart cannot have).
    spec.default_dependencies = false;
    spec.deps
        .push((DepKind::Conflicts, "shutdown.target".into()));
    spec.deps.push((DepKind::Before, "shutdown.target".into()));
    match meta.respawn_limit {
        Some((count, secs)) => {
            spec.start_limit_burst = count;
            spec.start_limit_interval_usec = secs.saturating_mul(USEC_PER_SEC);
        }
        None => spec.start_limit_interval_usec = 0,
    }

    let mut environment = vec![
        ("UPSTART_JOB".to_owned(), meta.name.clone()),
        ("UPSTART_INSTANCE".to_owned(), String::new()),
    ];
    let mut pass_environment = Vec::new();
    for e in &meta.env {
        match e.split_once('=') {
            Some((k, v)) => {
                environment.retain(|(ek, _)| ek != k);
                environment.push((k.to_owned(), v.to_owned()));
            }
            None => pass_environment.push(e.clone()),
        }
    }
    let out = match meta.console {
        Console::None => StdOutput::Null,
        Console::Log | Console::Output | Console::Owner => StdOutput::Journal,
    };
    let exec = ExecContext {
        working_directory: Some(WorkingDirectory::Path(
            job.chdir.clone().unwrap_or_else(|| "/".into()).into(),
        )),
        user: job.setuid.clone(),
        group: job.setgid.clone(),
        umask: Some(job.umask.unwrap_or(0o022)),
        nice: job.nice,
        limits: job.limits.clone(),
        environment,
        pass_environment,
        stdout: out.clone(),
        stderr: out,
        ignore_sigpipe: true,
        ..ExecContext::default()
    };

    let mut s = ServiceSpec {
        exec: Arc::new(exec),
        ..ServiceSpec::default()
    };
    s.service_type = if meta.task || job.main.is_none() {
        ServiceType::Oneshot
    } else if matches!(meta.expect, Expect::Fork | Expect::Daemon) {
        ServiceType::Forking
    } else {
        ServiceType::Simple
    };
    s.remain_after_exit = job.main.is_none() && !meta.task;
    s.exec_start_pre = job.pre_start.iter().map(command).collect();
    s.exec_start = job.main.iter().map(command).collect();
    s.exec_start_post = job.post_start.iter().map(command).collect();
    s.exec_stop = job.pre_stop.iter().map(command).collect();
    s.exec_stop_post = job.post_stop.iter().map(command).collect();
    if job.main.is_some() && !meta.task {
        let sig = crate::spec::linux::signal_name(meta.reload_signal)
            .map(str::to_owned)
            .unwrap_or_else(|| meta.reload_signal.to_string());
        let argv = vec!["/bin/kill".to_owned(), format!("-{sig}"), "$MAINPID".into()];
        s.exec_reload = vec![ExecCommand {
            path: argv[0].clone(),
            argv,
            flags: ExecFlags::default(),
        }];
    }
    s.success_exit_status = ExitStatusSet {
        statuses: meta.normal_exit_statuses.clone(),
        signals: meta.normal_exit_signals.clone(),
    };
    if meta.respawn {
        s.restart_usec = 0;
        if meta.task {
            s.restart = RestartPolicy::OnFailure;
        } else if s.success_exit_status.is_empty() {
            s.restart = RestartPolicy::Always;
        } else {
            s.restart = RestartPolicy::OnFailure;
            if !meta.normal_exit_statuses.contains(&0) {
                s.restart_force_exit_status.statuses.push(0);
            }
        }
    }
    s.timeout_start_usec = USEC_INFINITY;
    s.timeout_stop_usec = meta.kill_timeout_secs.saturating_mul(USEC_PER_SEC);
    s.kill.kill_signal = meta.kill_signal;
    spec.kind = KindSpec::Service(Box::new(s));
    spec.upstart = Some(Box::new(meta.clone()));
    spec
}
