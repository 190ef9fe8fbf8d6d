//! `unitd initctl …` (and the binary invoked as `initctl`, `start`, `stop`, `restart`,
//! `reload`, `status`): Upstart's initctl over the `com.ubuntu.Upstart0_6` API (reference:
//! upstart.md §4), with its output formats and exit codes. Owns argument handling and output;
//! the D-Bus calls are [`crate::bus::upstart::client`]'s.
//!
//! Transport as initctl chooses it: `--session` / `--system`; otherwise `UPSTART_SESSION`
//! (direct); otherwise root uses the private socket `unix:abstract=/com/ubuntu/upstart` and
//! everyone else the system bus (as Upstart's initctl: no fallback from one to the other).
//! `check-config` does initctl's own reachability analysis over what show-config reads.
//! `help` and `--help` print libnih's layouts; `list-sessions` reads the Session Init files
//! without connecting, as initctl does.

use std::os::unix::fs::DirBuilderExt;
use std::process::ExitCode;

use crate::bus::upstart::client::{Client, ClientError, InstanceStatus, Transport, UNKNOWN_METHOD};

const PRIVATE_ADDRESS: &str = "unix:abstract=/com/ubuntu/upstart";
const UNKNOWN_INSTANCE: &str = "com.ubuntu.Upstart0_6.Error.UnknownInstance";

/// Options before/among the command's arguments.
#[derive(Debug, Default)]
pub struct Opts {
    transport: Option<Transport>,
    no_wait: bool,
    global: bool,
    retain: bool,
    enumerate: bool,
    /// check-config `-w/--warn`: every unreachable event counts (`or` as strict as `and`).
    warn: bool,
    /// check-config `-i/--ignore-events=LIST`: events not to report.
    ignore_events: Vec<String>,
}

/// Entry point: `program` is the name errors are prefixed with (`initctl`, or `start` & co.
/// for the symlink forms, which pass their command first in `args`).
pub fn main(program: &str, args: Vec<String>) -> ExitCode {
    let mut opts = Opts::default();
    let mut rest = Vec::new();
    let mut help = false;
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--help" => help = true,
            "--version" => {
                print!("{}", version_text(program));
                return ExitCode::SUCCESS;
            }
            "-w" | "--warn" => opts.warn = true,
            "-i" | "--ignore-events" => {
                let list = args.next().unwrap_or_default();
                opts.ignore_events
                    .extend(list.split(',').filter(|e| !e.is_empty()).map(str::to_owned));
            }
            _ if a.starts_with("--ignore-events=") => opts.ignore_events.extend(
                a["--ignore-events=".len()..]
                    .split(',')
                    .filter(|e| !e.is_empty())
                    .map(str::to_owned),
            ),
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
    if help {
        print!("{}", option_help(program));
        return ExitCode::SUCCESS;
    }
    let Some((cmd, cargs)) = rest.split_first() else {
        eprintln!("{program}: missing command\nTry `{program} --help' for more information.");
        return ExitCode::from(1);
    };
    // Commands that do not talk to init.
    match cmd.as_str() {
        "help" => {
            print!("{}", command_help(program));
            return ExitCode::SUCCESS;
        }
        "list-sessions" => return list_sessions(program),
        _ => {}
    }
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
        Err(Failure::Silent) => ExitCode::from(1),
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
    /// Exit 1 with nothing more to say (check-config found problems).
    Silent,
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

fn is_operator(item: &[String]) -> bool {
    matches!(item.first().map(String::as_str), Some("/AND" | "/OR"))
}

/// The job a `starting`/`started`/`stopping`/`stopped` condition names (its first argument
/// when that is `JOB=name` or a plain positional word) and the other arguments.
fn split_job_arg(leaf: &[String]) -> (Option<&str>, Vec<&str>) {
    let is_job_event = matches!(
        leaf[0].as_str(),
        "starting" | "started" | "stopping" | "stopped"
    );
    let mut job = None;
    let mut rest = Vec::new();
    for (i, a) in leaf[1..].iter().enumerate() {
        if is_job_event && job.is_none() {
            if let Some(j) = a.strip_prefix("JOB=") {
                job = Some(j);
                continue;
            }
            if i == 0 && !a.contains('=') {
                job = Some(a.as_str());
                continue;
            }
        }
        rest.push(a.as_str());
    }
    (job, rest)
}

/// One job as check-config sees it (the show-config properties).
pub struct JobConditions {
    /// Job name.
    pub name: String,
    /// `emits` words (globs).
    pub emits: Vec<String>,
    /// `start on`, post-order.
    pub start_on: Vec<Vec<String>>,
    /// `stop on`, post-order.
    pub stop_on: Vec<Vec<String>>,
}

/// Events init emits itself (never unknown to check-config), job events included.
const INIT_EVENTS: [&str; 9] = [
    "startup",
    "debug",
    "control-alt-delete",
    "keyboard-request",
    "power-status-changed",
    "starting",
    "started",
    "stopping",
    "stopped",
];

enum Node {
    Leaf {
        ok: bool,
        unknown_event: Option<String>,
        unknown_job: Option<String>,
    },
    Op {
        ok: bool,
        children: [Box<Node>; 2],
    },
}

impl Node {
    fn ok(&self) -> bool {
        match self {
            Node::Leaf { ok, .. } | Node::Op { ok, .. } => *ok,
        }
    }

    /// The unknown events/jobs under this node, in initctl's order (an operator's later
    /// operand first).
    fn report(&self, condition: &str, out: &mut String) {
        match self {
            Node::Leaf {
                unknown_event,
                unknown_job,
                ..
            } => {
                if let Some(e) = unknown_event {
                    out.push_str(&format!("  {condition}: unknown event {e}\n"));
                }
                if let Some(j) = unknown_job {
                    out.push_str(&format!("  {condition}: unknown job {j}\n"));
                }
            }
            Node::Op { children, .. } => {
                for c in children {
                    c.report(condition, out);
                }
            }
        }
    }

    /// The first node in pre-order (operators and the root only) that cannot be reached.
    fn first_unreachable(&self, root: bool) -> Option<&Node> {
        match self {
            Node::Op { ok, children } => {
                if !ok {
                    return Some(self);
                }
                children.iter().find_map(|c| c.first_unreachable(false))
            }
            Node::Leaf { ok, .. } if root && !ok => Some(self),
            Node::Leaf { .. } => None,
        }
    }
}

/// initctl's `check-config`: for every job (or only `only`), whether each of its conditions
/// can be satisfied by the events some job `emits` (globs allowed), the events init emits
/// itself and `-i` ignored ones, and whether the jobs named by job events exist. Returns the
/// report (`job` then `  start on: unknown event E` / `  stop on: unknown job J` lines) and
/// the number of problems (exit status 1 when non-zero).
pub fn check_config(jobs: &[JobConditions], only: Option<&str>, opts: &Opts) -> (String, usize) {
    let emitted: Vec<&str> = jobs
        .iter()
        .flat_map(|j| j.emits.iter().map(String::as_str))
        .collect();
    let event_ok = |e: &str| {
        emitted
            .iter()
            .any(|g| crate::spec::event_expr::fnmatch(g, e))
            || INIT_EVENTS.contains(&e)
            || opts.ignore_events.iter().any(|i| i == e)
    };
    let job_ok = |j: &str| j.starts_with('$') || jobs.iter().any(|x| x.name == j);
    let build = |rpn: &[Vec<String>]| -> Option<Node> {
        let mut stack: Vec<Node> = Vec::new();
        for item in rpn {
            if is_operator(item) {
                let first = stack.pop()?;
                let second = stack.pop()?;
                let ok = if item[0] == "/AND" || opts.warn {
                    first.ok() && second.ok()
                } else {
                    first.ok() || second.ok()
                };
                stack.push(Node::Op {
                    ok,
                    children: [Box::new(first), Box::new(second)],
                });
            } else {
                let (job, _) = split_job_arg(item);
                let unknown_job = job.filter(|j| !job_ok(j)).map(str::to_owned);
                let unknown_event = (!event_ok(&item[0])).then(|| item[0].clone());
                stack.push(Node::Leaf {
                    ok: unknown_job.is_none() && unknown_event.is_none(),
                    unknown_event,
                    unknown_job,
                });
            }
        }
        stack.pop()
    };
    let mut out = String::new();
    let mut problems = 0;
    for job in jobs.iter().filter(|j| only.is_none_or(|o| o == j.name)) {
        let mut shown = false;
        for (condition, rpn) in [("start on", &job.start_on), ("stop on", &job.stop_on)] {
            let Some(tree) = build(rpn) else {
                continue;
            };
            if let Some(bad) = tree.first_unreachable(true) {
                problems += 1;
                if !shown {
                    out.push_str(&format!("{}\n", job.name));
                    shown = true;
                }
                bad.report(condition, &mut out);
            }
        }
    }
    (out, problems)
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
                        for leaf in rpn.iter().filter(|l| !is_operator(l)) {
                            let (job, env) = split_job_arg(leaf);
                            let env: String = env.iter().map(|a| format!(" {a}")).collect();
                            let job = job.map(|j| format!(" {j}")).unwrap_or_default();
                            out.push_str(&format!("  {word} {} (job:{job}, env:{env})\n", leaf[0]));
                        }
                    } else {
                        out.push_str(&format!("  {word} {}\n", condition_text(&rpn)));
                    }
                }
            }
        }
        "check-config" => {
            let mut jobs = Vec::new();
            for path in c.all_jobs()? {
                jobs.push(JobConditions {
                    name: c.job_string(&path, "name")?,
                    emits: c.job_emits(&path)?,
                    start_on: c.job_condition(&path, "start_on")?,
                    stop_on: c.job_condition(&path, "stop_on")?,
                });
            }
            if let Some(only) = args.first()
                && !jobs.iter().any(|j| &j.name == only)
            {
                return Err(Failure::Call(ClientError {
                    name: String::new(),
                    message: format!("Invalid job class: {only}"),
                }));
            }
            let (text, problems) = check_config(&jobs, args.first().map(String::as_str), opts);
            out.push_str(&text);
            if problems > 0 {
                return Err(Failure::Silent);
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
        "usage" => {
            let job = match args.first() {
                Some(j) => j.clone(),
                None => match (
                    std::env::var("UPSTART_JOB"),
                    std::env::var("UPSTART_INSTANCE"),
                ) {
                    (Ok(j), Ok(_)) => j,
                    _ => return Err(Failure::Usage("missing job name".into())),
                },
            };
            let path = c.job_by_name(&job)?;
            c.job_string(&path, "name")?;
            out.push_str(&format!("Usage: {}\n", c.job_string(&path, "usage")?));
        }
        "notify-disk-writeable" => c.notify(NOTIFY_DISK_WRITEABLE, None)?,
        "notify-dbus-address" | "notify-cgroup-manager-address" => {
            let Some(address) = args.first() else {
                return Err(Failure::Usage(if cmd == "notify-dbus-address" {
                    "missing D-Bus address".into()
                } else {
                    "missing address".into()
                }));
            };
            let member = if cmd == "notify-dbus-address" {
                NOTIFY_DBUS_ADDRESS
            } else {
                NOTIFY_CGROUP_MANAGER_ADDRESS
            };
            c.notify(member, Some(address))?;
        }
        other => return Err(Failure::Usage(format!("invalid command: {other}"))),
    }
    Ok(())
}

const NOTIFY_DISK_WRITEABLE: &str = "NotifyDiskWriteable";
const NOTIFY_DBUS_ADDRESS: &str = "NotifyDBusAddress";
const NOTIFY_CGROUP_MANAGER_ADDRESS: &str = "NotifyCGroupManagerAddress";

/// initctl's commands: (name, synopsis, group) in its table's order (`help` is libnih's).
const COMMANDS: &[(&str, &str, Option<&str>)] = &[
    ("start", "Start job.", Some("Job")),
    ("stop", "Stop job.", Some("Job")),
    ("restart", "Restart job.", Some("Job")),
    ("reload", "Send HUP signal to job.", Some("Job")),
    ("status", "Query status of job.", Some("Job")),
    ("list", "List known jobs.", Some("Job")),
    ("emit", "Emit an event.", Some("Event")),
    (
        "reload-configuration",
        "Reload the configuration of the init daemon.",
        None,
    ),
    ("version", "Request the version of the init daemon.", None),
    (
        "log-priority",
        "Change the minimum priority of log messages from the init daemon.",
        None,
    ),
    (
        "show-config",
        "Show emits, start on and stop on details for job configurations.",
        None,
    ),
    (
        "check-config",
        "Check for unreachable jobs/event conditions.",
        None,
    ),
    (
        "get-env",
        "Retrieve value of a job environment variable.",
        Some("Environment"),
    ),
    (
        "list-env",
        "Show all job environment variables.",
        Some("Environment"),
    ),
    (
        "reset-env",
        "Revert all job environment variable changes.",
        Some("Environment"),
    ),
    (
        "set-env",
        "Set one or more job environment variables.",
        Some("Environment"),
    ),
    (
        "unset-env",
        "Remove one or more job environment variables.",
        Some("Environment"),
    ),
    ("usage", "Show job usage message if available.", None),
    (
        "notify-cgroup-manager-address",
        "Inform Upstart of D-Bus address cgroup manager is available on.",
        None,
    ),
    (
        "notify-dbus-address",
        "Inform Upstart of D-Bus address to connect to.",
        None,
    ),
    (
        "notify-disk-writeable",
        "Inform Upstart that disk is now writeable.",
        None,
    ),
    ("list-sessions", "List all sessions.", None),
    ("help", "display list of commands", None),
];

/// libnih's word wrap (`nih_str_wrap`): lines of at most `width` columns, continuation lines
/// indented by `indent` spaces.
fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
            line = " ".repeat(indent);
            line.push_str(word);
        } else {
            if len > 0 {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.push(line);
    lines
}

/// One help row as libnih lays it out: `left` (already indented), the text wrapped to
/// `width` from column 30 (on the next line when `left` is wider than 28 columns).
fn help_row(left: &str, text: &str, width: usize) -> String {
    let mut out = left.to_owned();
    let mut len = left.chars().count();
    for l in wrap(text, width, 2) {
        if len > 28 {
            out.push('\n');
            len = 0;
        }
        out.push_str(&" ".repeat(30 - len));
        out.push_str(&l);
        out.push('\n');
        len = 0;
    }
    out
}

/// `initctl help`: the commands by group (Job, Event, Environment, then the others), as
/// libnih's command parser prints them on an 80-column (or non-terminal) output.
pub fn command_help(program: &str) -> String {
    let mut out = String::new();
    for group in [Some("Job"), Some("Event"), Some("Environment"), None] {
        match group {
            Some(g) => out.push_str(&format!("{g} commands:\n")),
            None => out.push_str("Other commands:\n"),
        }
        for (name, synopsis, _) in COMMANDS.iter().filter(|c| c.2 == group) {
            out.push_str(&help_row(&format!("  {name}"), synopsis, 50));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "For more information on a command, try `{program} COMMAND --help'.\n"
    ));
    out
}

/// `initctl --help`: libnih's option help with initctl's options and the command parser's
/// usage line and footer.
pub fn option_help(program: &str) -> String {
    let options = [
        (
            "      --session",
            "use existing D-Bus session bus to connect to init daemon (for testing)",
        ),
        (
            "      --system",
            "use D-Bus system bus to connect to init daemon",
        ),
        (
            "      --dest=NAME",
            "destination well-known name on D-Bus bus",
        ),
        (
            "      --user",
            "run in user mode (as used for user sessions)",
        ),
        ("  -q, --quiet", "reduce output to errors only"),
        (
            "  -v, --verbose",
            "increase output to include informational messages",
        ),
        ("      --help", "display this help and exit"),
        ("      --version", "output version information and exit"),
    ];
    let mut out = format!("Usage: {program} [OPTION]... COMMAND [OPTION]... [ARG]...\n\n");
    out.push_str("Options:\n");
    for (left, text) in options {
        out.push_str(&help_row(left, text, 49));
    }
    out.push('\n');
    out.push_str(&format!(
        "For a list of commands, try `{program} help'.\n\nReport bugs to <upstart-devel@lists.ubuntu.com>\n"
    ));
    out
}

/// `initctl --version` (libnih's `nih_main_version`, 80 columns).
pub fn version_text(program: &str) -> String {
    let notice = "This is free software; see the source for copying conditions.  There is NO \
                  warranty; not even for MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.";
    format!(
        "{program} (upstart 1.13.2)\nCopyright \u{a9} 2006-2014 Canonical Ltd., 2011 Scott James Remnant\n\n{}\n",
        wrap(notice, 79, 0).join("\n")
    )
}

/// What initctl's `kill(pid, 0)` answers, without sending anything (only the supervisor
/// signals processes): the process exists and we are root or its owner.
fn may_signal(pid: i32) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(format!("/proc/{pid}")) else {
        return false;
    };
    let me = nix::unistd::geteuid();
    me.is_root() || meta.uid() == me.as_raw()
}

/// `initctl list-sessions`: no connection to init; every live Session Init's
/// `$XDG_RUNTIME_DIR/upstart/sessions/<pid>.session` (`UPSTART_SESSION=<address>`) as
/// `<pid> <address>`. Stale files (no such process, or another user's) are skipped, as initctl does.
fn list_sessions(program: &str) -> ExitCode {
    let runtime = std::env::var("XDG_RUNTIME_DIR").unwrap_or_default();
    if !runtime.starts_with('/') {
        eprintln!("{program}: Unable to query session directory");
        return ExitCode::from(1);
    }
    let dir = std::path::Path::new(&runtime).join("upstart/sessions");
    // initctl creates the directory (as the Session Init would).
    let _ = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("{program}: unable to determine sessions");
        return ExitCode::from(1);
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some((name, ext)) = file.split_once('.') else {
            continue;
        };
        if ext != "session" || name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(pid) = name.parse::<i32>() else {
            continue;
        };
        if !may_signal(pid) {
            continue;
        }
        let Ok(contents) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        let contents = contents.strip_suffix('\n').unwrap_or(&contents);
        if let Some(session) = contents.strip_prefix("UPSTART_SESSION=")
            && !session.is_empty()
        {
            println!("{pid} {session}");
        }
    }
    ExitCode::SUCCESS
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

    fn job(name: &str, emits: &[&str], start_on: &[&[&str]]) -> JobConditions {
        JobConditions {
            name: name.into(),
            emits: emits.iter().map(|e| e.to_string()).collect(),
            start_on: start_on
                .iter()
                .map(|l| l.iter().map(|x| x.to_string()).collect())
                .collect(),
            stop_on: Vec::new(),
        }
    }

    #[test]
    fn check_config_reports_unreachable_conditions() {
        let jobs = vec![
            // (started nosuchjob and frobnicate)
            job(
                "a",
                &["foo", "net-*"],
                &[&["started", "nosuchjob"], &["frobnicate"], &["/AND"]],
            ),
            // (foo or bar): reachable through foo
            job("b", &[], &[&["foo"], &["bar"], &["/OR"]]),
            // globs in emits, init events, `$` jobs, JOB= form
            job(
                "c",
                &[],
                &[
                    &["net-up", "IFACE=eth0"],
                    &["startup"],
                    &["/AND"],
                    &["stopped", "JOB=a"],
                    &["/AND"],
                    &["starting", "$X"],
                    &["/AND"],
                ],
            ),
            // (x and y) or foo: the and-branch is reported although foo can start it
            job("d", &[], &[&["x"], &["y"], &["/AND"], &["foo"], &["/OR"]]),
        ];
        let opts = Opts::default();
        let (text, n) = check_config(&jobs, None, &opts);
        assert_eq!(
            text,
            "a\n  start on: unknown event frobnicate\n  start on: unknown job nosuchjob\n\
             d\n  start on: unknown event y\n  start on: unknown event x\n"
        );
        assert_eq!(n, 2);
        let (text, n) = check_config(&jobs, Some("c"), &opts);
        assert_eq!((text.as_str(), n), ("", 0));
        // -w: an `or` needs both sides; -i ignores events.
        let opts = Opts {
            warn: true,
            ignore_events: vec!["y".into(), "x".into()],
            ..Opts::default()
        };
        let (text, n) = check_config(&jobs, Some("b"), &opts);
        assert_eq!(text, "b\n  start on: unknown event bar\n");
        assert_eq!(n, 1);
    }

    #[test]
    fn enumerated_conditions_name_the_job() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            split_job_arg(&v(&["started", "nginx", "X=1"])),
            (Some("nginx"), vec!["X=1"])
        );
        assert_eq!(
            split_job_arg(&v(&["stopped", "RESULT=ok", "JOB=web"])),
            (Some("web"), vec!["RESULT=ok"])
        );
        assert_eq!(split_job_arg(&v(&["deploy", "prod"])), (None, vec!["prod"]));
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
