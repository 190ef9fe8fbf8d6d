//! `unitd initctl …` (and the binary invoked as `initctl`, `start`, `stop`, `restart`,
//! `reload`, `status`): Upstart's initctl over the `com.ubuntu.Upstart0_6` API (reference:
//! upstart.md §4), with its output formats and exit codes. Owns argument handling and output;
//! the D-Bus calls are [`crate::bus::upstart::client`]'s.
//!
//! Transport as initctl chooses it: `--session` / `--system`; otherwise `UPSTART_SESSION`
//! (direct); otherwise root uses the private socket `unix:abstract=/com/ubuntu/upstart` and
//! everyone else the system bus (as Upstart's initctl: no fallback from one to the other).
//! Not implemented: `check-config`, `usage`, `list-sessions`,
//! `notify-*`.

use std::process::ExitCode;

use crate::bus::upstart::client::{Client, ClientError, InstanceStatus, Transport, UNKNOWN_METHOD};

const PRIVATE_ADDRESS: &str = "unix:abstract=/com/ubuntu/upstart";
const UNKNOWN_INSTANCE: &str = "com.ubuntu.Upstart0_6.Error.UnknownInstance";

/// Options before/among the command's arguments.
#[derive(Debug, Default)]
struct Opts {
    transport: Option<Transport>,
    no_wait: bool,
    global: bool,
    retain: bool,
    enumerate: bool,
}

/// Entry point: `program` is the name errors are prefixed with (`initctl`, or `start` & co.
/// for the symlink forms, which pass their command first in `args`).
pub fn main(program: &str, args: Vec<String>) -> ExitCode {
    let mut opts = Opts::default();
    let mut rest = Vec::new();
    for a in args {
        match a.as_str() {
            "--session" => opts.transport = Some(Transport::Session),
            "--system" => opts.transport = Some(Transport::System),
            "-n" | "--no-wait" => opts.no_wait = true,
            "-g" | "--global" => opts.global = true,
            "-r" | "--retain" => opts.retain = true,
            "-e" | "--enumerate" => opts.enumerate = true,
            "-q" | "--quiet" => {}
            _ if a.starts_with("--address=") => {
                opts.transport = Some(Transport::Direct(a["--address=".len()..].to_owned()))
            }
            _ => rest.push(a),
        }
    }
    let Some((cmd, cargs)) = rest.split_first() else {
        eprintln!("{program}: missing command\nTry `{program} --help' for more information.");
        return ExitCode::from(1);
    };
    let client = match connect(&opts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{program}: Unable to connect to Upstart: {}", e.message);
            return ExitCode::from(1);
        }
    };
    let mut out = String::new();
    let r = run(&client, &opts, cmd, cargs, &mut out);
    print!("{out}");
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(m)) => {
            eprintln!("{program}: {m}\nTry `{program} --help' for more information.");
            ExitCode::from(1)
        }
        Err(Failure::Call(e)) => {
            eprintln!("{program}: {}", e.message);
            ExitCode::from(1)
        }
    }
}

fn connect(opts: &Opts) -> Result<Client, ClientError> {
    if let Some(t) = &opts.transport {
        return Client::connect(t);
    }
    if let Ok(addr) = std::env::var("UPSTART_SESSION")
        && !addr.is_empty()
    {
        return Client::connect(&Transport::Direct(addr));
    }
    if nix::unistd::getuid().is_root() {
        // Like Upstart's initctl: root talks to the private socket, with no fallback.
        return Client::connect(&Transport::Direct(PRIVATE_ADDRESS.into()));
    }
    Client::connect(&Transport::System)
}

enum Failure {
    Usage(String),
    Call(ClientError),
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Failure {
        Failure::Call(e)
    }
}

/// The status line of one instance (`None` = no instance: `stop/waiting`).
pub fn status_text(job: &str, st: Option<&InstanceStatus>) -> String {
    let Some(st) = st else {
        return format!("{job} stop/waiting\n");
    };
    let mut s = job.to_owned();
    if !st.name.is_empty() {
        s.push_str(&format!(" ({})", st.name));
    }
    s.push_str(&format!(" {}/{}", st.goal, st.state));
    for (i, (name, pid)) in st.processes.iter().enumerate() {
        if i == 0 {
            if matches!(name.as_str(), "main" | "pre-start" | "post-stop") {
                s.push_str(&format!(", process {pid}"));
            } else {
                s.push_str(&format!(", ({name}) process {pid}"));
            }
        } else {
            s.push_str(&format!("\n\t{name} process {pid}"));
        }
    }
    s.push('\n');
    s
}

/// Rebuild the fully bracketed condition text from its post-order encoding.
pub fn condition_text(rpn: &[Vec<String>]) -> String {
    let mut stack: Vec<String> = Vec::new();
    for item in rpn {
        match item.first().map(String::as_str) {
            Some(op @ ("/AND" | "/OR")) => {
                let b = stack.pop().unwrap_or_default();
                let a = stack.pop().unwrap_or_default();
                let word = if op == "/AND" { "and" } else { "or" };
                stack.push(format!("({a} {word} {b})"));
            }
            _ => stack.push(item.join(" ")),
        }
    }
    stack.pop().unwrap_or_default()
}

/// Status of `instance` of `job`; a vanished instance (UnknownMethod) is `stop/waiting`.
fn status_of(c: &Client, job: &str, instance: Option<&str>) -> Result<String, Failure> {
    let Some(inst) = instance else {
        return Ok(status_text(job, None));
    };
    match c.instance_status(inst) {
        Ok(st) => Ok(status_text(job, Some(&st))),
        Err(e) if e.name == UNKNOWN_METHOD => Ok(status_text(job, None)),
        Err(e) => Err(e.into()),
    }
}

fn env_args(args: &[String]) -> Vec<String> {
    args.to_vec()
}

fn details(opts: &Opts) -> Vec<String> {
    match std::env::var("UPSTART_JOB") {
        Ok(job) if !opts.global && !job.is_empty() => {
            vec![job, std::env::var("UPSTART_INSTANCE").unwrap_or_default()]
        }
        _ => Vec::new(),
    }
}

fn job_arg<'a>(cmd: &str, args: &'a [String]) -> Result<(&'a str, &'a [String]), Failure> {
    match args.split_first() {
        Some((j, rest)) => Ok((j.as_str(), rest)),
        None => Err(Failure::Usage(format!("missing job name ({cmd})"))),
    }
}

fn run(
    c: &Client,
    opts: &Opts,
    cmd: &str,
    args: &[String],
    out: &mut String,
) -> Result<(), Failure> {
    let wait = !opts.no_wait;
    match cmd {
        "start" | "restart" => {
            let (job, env) = job_arg("job", args)?;
            let path = c.job_by_name(job)?;
            let member = if cmd == "start" { "Start" } else { "Restart" };
            let inst = c.job_control(&path, member, &env_args(env), wait)?;
            out.push_str(&status_of(c, job, inst.as_deref())?);
        }
        "stop" => {
            let (job, env) = job_arg("job", args)?;
            let path = c.job_by_name(job)?;
            let inst = c.instance(&path, &env_args(env))?;
            c.job_control(&path, "Stop", &env_args(env), wait)?;
            out.push_str(&status_of(c, job, Some(&inst))?);
        }
        "reload" => {
            let (job, env) = job_arg("job", args)?;
            let path = c.job_by_name(job)?;
            let inst = c.instance(&path, &env_args(env))?;
            c.instance_reload(&inst)?;
        }
        "status" => {
            let (job, env) = job_arg("job", args)?;
            let path = c.job_by_name(job)?;
            match c.instance(&path, &env_args(env)) {
                Ok(inst) => out.push_str(&status_of(c, job, Some(&inst))?),
                Err(e) if e.name == UNKNOWN_INSTANCE && env.is_empty() => {
                    out.push_str(&status_text(job, None))
                }
                Err(e) => return Err(e.into()),
            }
        }
        "list" => {
            for path in c.all_jobs()? {
                let insts = match c.all_instances(&path) {
                    Ok(v) => v,
                    Err(e) if e.name == UNKNOWN_METHOD => continue,
                    Err(e) => return Err(e.into()),
                };
                let name = match c.job_string(&path, "name") {
                    Ok(n) => n,
                    Err(e) if e.name == UNKNOWN_METHOD => continue,
                    Err(e) => return Err(e.into()),
                };
                if insts.is_empty() {
                    out.push_str(&status_text(&name, None));
                }
                for inst in insts {
                    out.push_str(&status_of(c, &name, Some(&inst))?);
                }
            }
        }
        "emit" => {
            let (event, env) = match args.split_first() {
                Some((e, rest)) => (e.as_str(), rest),
                None => return Err(Failure::Usage("missing event name".into())),
            };
            c.emit(event, &env_args(env), wait)?;
        }
        "version" => out.push_str(&format!("{}\n", c.version()?)),
        "log-priority" => match args.first() {
            Some(p) => c.set_log_priority(p)?,
            None => out.push_str(&format!("{}\n", c.log_priority()?)),
        },
        "reload-configuration" => c.reload_configuration()?,
        "show-config" => {
            let jobs = match args.first() {
                Some(name) => vec![c.job_by_name(name)?],
                None => c.all_jobs()?,
            };
            for path in jobs {
                let name = c.job_string(&path, "name")?;
                out.push_str(&format!("{name}\n"));
                for e in c.job_emits(&path)? {
                    out.push_str(&format!("  emits {e}\n"));
                }
                for (prop, word) in [("start_on", "start on"), ("stop_on", "stop on")] {
                    let rpn = c.job_condition(&path, prop)?;
                    if rpn.is_empty() {
                        continue;
                    }
                    if opts.enumerate {
                        for leaf in rpn.iter().filter(|l| !l[0].starts_with('/')) {
                            let kind = if prop == "start_on" { "start" } else { "stop" };
                            out.push_str(&format!("  {kind} on {}\n", leaf.join(" ")));
                        }
                    } else {
                        out.push_str(&format!("  {word} {}\n", condition_text(&rpn)));
                    }
                }
            }
        }
        "get-env" => {
            let Some(name) = args.first() else {
                return Err(Failure::Usage("missing variable name".into()));
            };
            out.push_str(&format!("{}\n", c.get_env(&details(opts), name)?));
        }
        "list-env" => {
            let mut env = c.list_env(&details(opts))?;
            env.sort();
            for e in env {
                out.push_str(&format!("{e}\n"));
            }
        }
        "set-env" => {
            if args.is_empty() {
                return Err(Failure::Usage("missing variable value".into()));
            }
            c.set_env(&details(opts), args, !opts.retain)?;
        }
        "unset-env" => {
            if args.is_empty() {
                return Err(Failure::Usage("missing variable name".into()));
            }
            c.unset_env(&details(opts), args)?;
        }
        "reset-env" => c.reset_env(&details(opts))?,
        other => return Err(Failure::Usage(format!("invalid command: {other}"))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_like_initctl() {
        assert_eq!(status_text("foo", None), "foo stop/waiting\n");
        let st = InstanceStatus {
            name: String::new(),
            goal: "start".into(),
            state: "running".into(),
            processes: vec![("main".into(), 123)],
        };
        assert_eq!(
            status_text("foo", Some(&st)),
            "foo start/running, process 123\n"
        );
        let st = InstanceStatus {
            name: "tty1".into(),
            goal: "stop".into(),
            state: "pre-stop".into(),
            processes: vec![("pre-stop".into(), 7), ("main".into(), 5)],
        };
        assert_eq!(
            status_text("getty", Some(&st)),
            "getty (tty1) stop/pre-stop, (pre-stop) process 7\n\tmain process 5\n"
        );
    }

    #[test]
    fn conditions_fully_bracketed() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let rpn = vec![
            v(&["A"]),
            v(&["B"]),
            v(&["C", "x=1"]),
            v(&["/OR"]),
            v(&["/AND"]),
        ];
        assert_eq!(condition_text(&rpn), "(A and (B or C x=1))");
        assert_eq!(condition_text(&[v(&["startup"])]), "startup");
    }
}
