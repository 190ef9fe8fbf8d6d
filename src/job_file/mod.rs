//! Upstart job files (`init(5)`, Upstart 1.13) → [`JobSpec`] → [`UnitSpec`]. Pure: bytes in,
//! spec and `file:line` diagnostics out; no file system, clock or environment.
//!
//! [`parse_job`] reads `<job>.conf` and its optional `.override` (parsed after it into the same
//! job; an override with errors is ignored entirely, as Upstart does). Any error in the `.conf`
//! means the job does not load; every error is reported, not only the first. [`lower`] turns a
//! job into the unit `<job>.service` for the one engine (see `lower.rs` for each mapping and
//! where Upstart and systemd semantics differ). The file-system side (job directories, which
//! job wins) is [`crate::loader`]'s.

pub mod lexer;
mod lower;

use std::path::{Path, PathBuf};

use crate::spec::event_expr::{EventArg, EventExpr};
use crate::spec::linux::{self, SIGNALS};
use crate::spec::upstart::{Console, Expect, UpstartJob};
use crate::spec::{Diagnostic, ResourceLimit, Severity};

use lexer::{Lexer, Token};

pub use lower::{lower, unit_name_for_job};

/// How a process of the job is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Process {
    /// `exec COMMAND…` (the text as written, quotes kept).
    Exec(String),
    /// `script … end script` (the body, common indentation removed).
    Script(String),
}

/// Everything a job file says (after `.override`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobSpec {
    /// Name, events and metadata (what the Upstart API shows).
    pub meta: UpstartJob,
    /// `exec`/`script`.
    pub main: Option<Process>,
    /// `pre-start exec|script`.
    pub pre_start: Option<Process>,
    /// `post-start exec|script`.
    pub post_start: Option<Process>,
    /// `pre-stop exec|script`.
    pub pre_stop: Option<Process>,
    /// `post-stop exec|script`.
    pub post_stop: Option<Process>,
    /// `nice`.
    pub nice: Option<i32>,
    /// `umask` (default 022).
    pub umask: Option<u32>,
    /// `limit` stanzas (the last per resource wins).
    pub limits: Vec<ResourceLimit>,
    /// `chdir`.
    pub chdir: Option<String>,
    /// `chroot` (parsed, not applied).
    pub chroot: Option<String>,
    /// `setuid`.
    pub setuid: Option<String>,
    /// `setgid`.
    pub setgid: Option<String>,
    /// `oom score` (-1000..=1000; parsed, not applied).
    pub oom_score: Option<i32>,
}

/// The result of parsing a job.
#[derive(Debug, Clone)]
pub struct ParsedJob {
    /// The job (complete when `ok`).
    pub job: JobSpec,
    /// Every finding, in file order (`.conf` first, then the override).
    pub diagnostics: Vec<Diagnostic>,
    /// False if the `.conf` had an error: the job does not load.
    pub ok: bool,
}

impl JobSpec {
    fn new(name: &str, conf_path: &Path) -> JobSpec {
        JobSpec {
            meta: UpstartJob {
                name: name.to_owned(),
                conf_path: conf_path.to_path_buf(),
                reload_signal: linux::SIGHUP,
                kill_signal: linux::SIGTERM,
                kill_timeout_secs: 5,
                respawn_limit: Some((10, 5)),
                ..UpstartJob::default()
            },
            ..JobSpec::default()
        }
    }
}

/// Parse job `name` from its `.conf` (`(path, contents)`) and optional `.override`.
pub fn parse_job(
    name: &str,
    conf: (&Path, &[u8]),
    override_file: Option<(&Path, &[u8])>,
) -> ParsedJob {
    let mut job = JobSpec::new(name, conf.0);
    let mut diagnostics = Vec::new();
    let ok = parse_into(&mut job, conf.0, conf.1, &mut diagnostics);
    if let Some((path, text)) = override_file {
        let mut with_override = job.clone();
        let mut odiags = Vec::new();
        if parse_into(&mut with_override, path, text, &mut odiags) {
            with_override.meta.override_path = Some(path.to_path_buf());
            job = with_override;
            diagnostics.extend(odiags);
        } else {
            diagnostics.extend(odiags.into_iter().map(|mut d| {
                d.severity = Severity::Warning;
                d
            }));
            diagnostics.push(Diagnostic {
                file: path.to_path_buf(),
                line: 0,
                severity: Severity::Warning,
                message: "Override file has errors, ignoring it".into(),
            });
        }
    }
    job.meta.has_main = job.main.is_some();
    ParsedJob {
        job,
        diagnostics,
        ok,
    }
}

/// One file's stanzas applied to `job`; false if any error was found.
fn parse_into(job: &mut JobSpec, path: &Path, text: &[u8], diags: &mut Vec<Diagnostic>) -> bool {
    let mut lx = Lexer::new(text);
    let mut ok = true;
    loop {
        lx.skip_empty_lines();
        if lx.at_end() {
            break;
        }
        let line = lx.line();
        let mut p = StanzaParser {
            lx: &mut lx,
            job,
            warnings: Vec::new(),
        };
        let res = p.stanza();
        let warnings = std::mem::take(&mut p.warnings);
        for (l, m) in warnings {
            diags.push(Diagnostic {
                file: path.to_path_buf(),
                line: l,
                severity: Severity::Warning,
                message: m,
            });
        }
        if let Err((l, m)) = res {
            ok = false;
            diags.push(Diagnostic {
                file: path.to_path_buf(),
                line: if l == 0 { line } else { l },
                severity: Severity::Error,
                message: m,
            });
            lx.skip_stanza();
        }
    }
    ok
}

/// An error at a line (0 = the stanza's first line).
type PErr = (u32, String);

struct StanzaParser<'a> {
    lx: &'a mut Lexer,
    job: &'a mut JobSpec,
    warnings: Vec<(u32, String)>,
}

fn err<T>(line: u32, m: &str) -> Result<T, PErr> {
    Err((line, m.to_owned()))
}

impl StanzaParser<'_> {
    fn token(&mut self) -> Result<Option<Token>, PErr> {
        let line = self.lx.line();
        self.lx.next_token(false).map_err(|m| (line, m))
    }

    /// A required token.
    fn arg(&mut self) -> Result<Token, PErr> {
        let line = self.lx.line();
        self.token()?
            .ok_or_else(|| (line, "Expected token".to_owned()))
    }

    /// Every remaining token of the stanza (at least one).
    fn args(&mut self) -> Result<Vec<Token>, PErr> {
        let mut v = vec![self.arg()?];
        while let Some(t) = self.token()? {
            v.push(t);
        }
        Ok(v)
    }

    fn end(&mut self) -> Result<(), PErr> {
        let line = self.lx.line();
        if !self.lx.at_stanza_end() {
            return err(line, "Unexpected token");
        }
        self.lx.consume_newline();
        Ok(())
    }

    fn one_arg(&mut self) -> Result<Token, PErr> {
        let t = self.arg()?;
        self.end()?;
        Ok(t)
    }

    fn warn(&mut self, line: u32, m: String) {
        self.warnings.push((line, m));
    }

    fn process(&mut self) -> Result<Process, PErr> {
        let kw = self.arg()?;
        match kw.text.as_str() {
            "exec" => self.exec(),
            "script" => self.script(),
            _ => err(kw.line, "Unknown stanza"),
        }
    }

    fn exec(&mut self) -> Result<Process, PErr> {
        let line = self.lx.line();
        let cmd = self.lx.rest_of_line().map_err(|m| (line, m))?;
        if cmd.is_empty() {
            return err(line, "Expected token");
        }
        self.lx.consume_newline();
        Ok(Process::Exec(cmd))
    }

    fn script(&mut self) -> Result<Process, PErr> {
        self.end()?;
        match self.lx.script_block() {
            Ok(body) => Ok(Process::Script(body)),
            Err(start) => err(start.saturating_sub(1).max(1), "Unterminated block"),
        }
    }

    fn stanza(&mut self) -> Result<(), PErr> {
        let first = self.arg()?;
        let line = first.line;
        match first.text.as_str() {
            "exec" => self.job.main = Some(self.exec()?),
            "script" => self.job.main = Some(self.script()?),
            "pre-start" => self.job.pre_start = Some(self.process()?),
            "post-start" => self.job.post_start = Some(self.process()?),
            "pre-stop" => self.job.pre_stop = Some(self.process()?),
            "post-stop" => self.job.post_stop = Some(self.process()?),
            "start" | "stop" => {
                let on = self.arg()?;
                if on.text != "on" {
                    return err(on.line, "Unknown stanza");
                }
                let expr = self.event_expr()?;
                if first.text == "start" {
                    self.job.meta.start_on = Some(expr);
                } else {
                    self.job.meta.stop_on = Some(expr);
                }
            }
            "manual" => {
                self.end()?;
                self.job.meta.manual = true;
                self.job.meta.start_on = None;
            }
            "instance" => self.job.meta.instance = self.one_arg()?.text,
            "description" => self.job.meta.description = self.one_arg()?.text,
            "author" => self.job.meta.author = self.one_arg()?.text,
            "version" => self.job.meta.version = self.one_arg()?.text,
            "usage" => self.job.meta.usage = self.one_arg()?.text,
            "emits" => {
                let words = self.args()?;
                self.lx.consume_newline();
                self.job
                    .meta
                    .emits
                    .extend(words.into_iter().map(|t| t.text));
            }
            "export" => {
                let words = self.args()?;
                self.lx.consume_newline();
                self.job
                    .meta
                    .export
                    .extend(words.into_iter().map(|t| t.text));
            }
            "env" => {
                let t = self.one_arg()?;
                let key = t.text.split('=').next().unwrap_or_default();
                if key.is_empty() {
                    return err(t.line, "Expected variable name before value");
                }
                self.job.meta.env.push(t.text);
            }
            "task" => {
                self.end()?;
                self.job.meta.task = true;
            }
            "debug" => self.end()?,
            "respawn" => {
                if self.lx.at_stanza_end() {
                    self.end()?;
                    self.job.meta.respawn = true;
                } else {
                    let kw = self.arg()?;
                    if kw.text != "limit" {
                        return err(kw.line, "Unexpected token");
                    }
                    let count = self.arg()?;
                    if count.text == "unlimited" {
                        self.end()?;
                        self.job.meta.respawn_limit = None;
                    } else {
                        let c = parse_num::<u32>(&count)?;
                        let interval = self.arg()?;
                        let i = parse_num::<u64>(&interval)?;
                        self.end()?;
                        self.job.meta.respawn_limit = (c > 0 && i > 0).then_some((c, i));
                    }
                }
            }
            "normal" => {
                let kw = self.arg()?;
                if kw.text != "exit" {
                    return err(kw.line, "Unknown stanza");
                }
                for t in self.args()? {
                    if let Ok(n) = t.text.parse::<u8>() {
                        self.job.meta.normal_exit_statuses.push(n);
                    } else if let Some(sig) = signal_by_name(&t.text) {
                        self.job.meta.normal_exit_signals.push(sig);
                    } else {
                        return err(t.line, "Illegal exit status, expected integer");
                    }
                }
                self.lx.consume_newline();
            }
            "expect" => {
                let t = self.one_arg()?;
                self.job.meta.expect = match t.text.as_str() {
                    "stop" => Expect::Stop,
                    "daemon" => Expect::Daemon,
                    "fork" => Expect::Fork,
                    "none" => Expect::None,
                    _ => return err(t.line, "Unknown stanza"),
                };
                if self.job.meta.expect == Expect::Stop {
                    self.unsupported(line, "expect stop");
                }
            }
            "kill" => {
                let kw = self.arg()?;
                match kw.text.as_str() {
                    "timeout" => {
                        let t = self.one_arg()?;
                        self.job.meta.kill_timeout_secs = parse_num::<u64>(&t)?;
                    }
                    "signal" => {
                        let t = self.one_arg()?;
                        self.job.meta.kill_signal = parse_signal(&t)?;
                    }
                    _ => return err(kw.line, "Unknown stanza"),
                }
            }
            "reload" => {
                let kw = self.arg()?;
                if kw.text != "signal" {
                    return err(kw.line, "Unknown stanza");
                }
                let t = self.one_arg()?;
                self.job.meta.reload_signal = parse_signal(&t)?;
            }
            "console" => {
                let t = self.one_arg()?;
                self.job.meta.console = match t.text.as_str() {
                    "none" => Console::None,
                    "log" => Console::Log,
                    "output" => Console::Output,
                    "owner" => Console::Owner,
                    _ => return err(t.line, "Unknown stanza"),
                };
            }
            "umask" => {
                let t = self.one_arg()?;
                match u32::from_str_radix(&t.text, 8) {
                    Ok(m) if m <= 0o777 => self.job.umask = Some(m),
                    _ => return err(t.line, "Illegal file creation mask, expected octal integer"),
                }
            }
            "nice" => {
                let t = self.one_arg()?;
                match t.text.parse::<i32>() {
                    Ok(n) if (-20..=19).contains(&n) => self.job.nice = Some(n),
                    _ => return err(t.line, "Illegal nice value, expected -20 to 19"),
                }
            }
            "oom" => {
                let t = self.arg()?;
                let score = if t.text == "score" {
                    let v = self.one_arg()?;
                    match v.text.as_str() {
                        "never" => -1000,
                        s => match s.parse::<i32>() {
                            Ok(n) if (-1000..=1000).contains(&n) => n,
                            _ => {
                                return err(v.line, "Illegal oom score, expected -1000 to 1000");
                            }
                        },
                    }
                } else {
                    self.end()?;
                    match t.text.as_str() {
                        "never" => -1000,
                        s => match s.parse::<i32>() {
                            Ok(n) if (-17..=15).contains(&n) => {
                                if n < 0 {
                                    n * 1000 / 17
                                } else {
                                    n * 1000 / 15
                                }
                            }
                            _ => return err(t.line, "Illegal oom adjustment, expected -16 to 15"),
                        },
                    }
                };
                self.job.oom_score = Some(score);
                self.unsupported(line, "oom score");
            }
            "limit" => {
                let res = self.arg()?;
                let Some(resource) = rlimit_by_name(&res.text) else {
                    return err(res.line, "Unknown resource");
                };
                let soft = self.arg()?;
                let hard = self.arg()?;
                self.end()?;
                let soft = parse_limit(&soft)?;
                let hard = parse_limit(&hard)?;
                self.job.limits.retain(|l| l.resource != resource);
                self.job.limits.push(ResourceLimit {
                    resource,
                    soft,
                    hard,
                });
            }
            "chroot" => {
                self.job.chroot = Some(self.one_arg()?.text);
                self.unsupported(line, "chroot");
            }
            "chdir" => self.job.chdir = Some(self.one_arg()?.text),
            "setuid" => self.job.setuid = Some(self.one_arg()?.text),
            "setgid" => self.job.setgid = Some(self.one_arg()?.text),
            "apparmor" => {
                let kw = self.arg()?;
                if kw.text != "load" && kw.text != "switch" {
                    return err(kw.line, "Unknown stanza");
                }
                self.one_arg()?;
                self.unsupported(line, "apparmor");
            }
            "cgroup" => {
                self.args()?;
                self.lx.consume_newline();
                self.unsupported(line, "cgroup");
            }
            _ => return err(line, "Unknown stanza"),
        }
        Ok(())
    }

    fn unsupported(&mut self, line: u32, what: &str) {
        if !self.job.meta.unsupported.iter().any(|w| w == what) {
            self.job.meta.unsupported.push(what.to_owned());
        }
        self.warn(
            line,
            format!("'{what}' is parsed but not applied by unitd; ignoring it"),
        );
    }

    /// The tokens of a `start on`/`stop on` expression (newlines allowed inside parentheses),
    /// parsed into a tree.
    fn event_expr(&mut self) -> Result<EventExpr, PErr> {
        let start_line = self.lx.line();
        let mut toks: Vec<Token> = Vec::new();
        let mut depth = 0i32;
        loop {
            let line = self.lx.line();
            match self.lx.next_token(true).map_err(|m| (line, m))? {
                Some(t) => {
                    if !t.quoted && t.text == "(" {
                        depth += 1;
                    } else if !t.quoted && t.text == ")" {
                        depth -= 1;
                        if depth < 0 {
                            return err(t.line, "Mismatched parentheses");
                        }
                    }
                    toks.push(t);
                }
                None => {
                    if depth > 0 && self.lx.consume_newline() {
                        continue;
                    }
                    if depth > 0 {
                        return err(start_line, "Mismatched parentheses");
                    }
                    self.lx.consume_newline();
                    break;
                }
            }
        }
        parse_expr_tokens(&toks, start_line)
    }
}

/// Parse an event expression from its tokens (`(`/`)` separate): `and`/`or` with equal
/// precedence, left-associative.
pub fn parse_expr_tokens(toks: &[Token], line: u32) -> Result<EventExpr, PErr> {
    let mut pos = 0;
    let e = expr(toks, &mut pos, line)?;
    if pos < toks.len() {
        let t = &toks[pos];
        return if is_op(t, ")") {
            err(t.line, "Mismatched parentheses")
        } else {
            err(t.line, "Expected operator")
        };
    }
    Ok(e)
}

fn is_op(t: &Token, s: &str) -> bool {
    !t.quoted && t.text == s
}

fn expr(toks: &[Token], pos: &mut usize, line: u32) -> Result<EventExpr, PErr> {
    let mut left = operand(toks, pos, line)?;
    while let Some(t) = toks.get(*pos) {
        let and = is_op(t, "and");
        if !and && !is_op(t, "or") {
            break;
        }
        *pos += 1;
        let right = operand(toks, pos, t.line)?;
        left = if and {
            EventExpr::And(Box::new(left), Box::new(right))
        } else {
            EventExpr::Or(Box::new(left), Box::new(right))
        };
    }
    Ok(left)
}

fn operand(toks: &[Token], pos: &mut usize, line: u32) -> Result<EventExpr, PErr> {
    let Some(t) = toks.get(*pos) else {
        return err(line, "Expected event");
    };
    if is_op(t, "(") {
        *pos += 1;
        let e = expr(toks, pos, t.line)?;
        match toks.get(*pos) {
            Some(c) if is_op(c, ")") => {
                *pos += 1;
                Ok(e)
            }
            Some(c) => err(c.line, "Expected operator"),
            None => err(t.line, "Mismatched parentheses"),
        }
    } else if is_op(t, ")") || is_op(t, "and") || is_op(t, "or") {
        err(t.line, "Expected event")
    } else {
        *pos += 1;
        let name = t.text.clone();
        let mut args = Vec::new();
        while let Some(a) = toks.get(*pos) {
            if is_op(a, "and") || is_op(a, "or") || is_op(a, ")") || is_op(a, "(") {
                break;
            }
            *pos += 1;
            args.push(event_arg(a)?);
        }
        Ok(EventExpr::Event { name, args })
    }
}

fn event_arg(t: &Token) -> Result<EventArg, PErr> {
    let s = &t.text;
    if let Some(i) = s.find('=') {
        let (key, value) = (&s[..i], &s[i + 1..]);
        let (key, neg) = match key.strip_suffix('!') {
            Some(k) => (k, true),
            None => (key, false),
        };
        if key.is_empty() {
            return err(t.line, "Expected variable name before value");
        }
        Ok(if neg {
            EventArg::NotEquals(key.into(), value.into())
        } else {
            EventArg::Equals(key.into(), value.into())
        })
    } else {
        Ok(EventArg::Positional(s.clone()))
    }
}

fn parse_num<T: std::str::FromStr>(t: &Token) -> Result<T, PErr> {
    t.text
        .parse::<T>()
        .map_err(|_| (t.line, "Illegal value".to_owned()))
}

/// A signal by name (`TERM`, `SIGTERM`).
fn signal_by_name(s: &str) -> Option<i32> {
    let n = s.strip_prefix("SIG").unwrap_or(s);
    SIGNALS.iter().find(|(name, _)| *name == n).map(|(_, v)| *v)
}

fn parse_signal(t: &Token) -> Result<i32, PErr> {
    if let Some(s) = signal_by_name(&t.text) {
        return Ok(s);
    }
    match t.text.parse::<i32>() {
        Ok(n) if (1..=64).contains(&n) => Ok(n),
        _ => err(t.line, "Illegal signal"),
    }
}

fn rlimit_by_name(s: &str) -> Option<i32> {
    Some(match s {
        "as" => linux::RLIMIT_AS,
        "core" => linux::RLIMIT_CORE,
        "cpu" => linux::RLIMIT_CPU,
        "data" => linux::RLIMIT_DATA,
        "fsize" => linux::RLIMIT_FSIZE,
        "memlock" => linux::RLIMIT_MEMLOCK,
        "msgqueue" => linux::RLIMIT_MSGQUEUE,
        "nice" => linux::RLIMIT_NICE,
        "nofile" => linux::RLIMIT_NOFILE,
        "nproc" => linux::RLIMIT_NPROC,
        "rss" => linux::RLIMIT_RSS,
        "rtprio" => linux::RLIMIT_RTPRIO,
        "sigpending" => linux::RLIMIT_SIGPENDING,
        "stack" => linux::RLIMIT_STACK,
        _ => return None,
    })
}

fn parse_limit(t: &Token) -> Result<u64, PErr> {
    if t.text == "unlimited" {
        return Ok(u64::MAX);
    }
    t.text.parse::<u64>().map_err(|_| {
        (
            t.line,
            "Illegal limit, expected 'unlimited' or integer".to_owned(),
        )
    })
}

/// The job name for a `.conf` file at `rel` (path relative to its job directory):
/// `net/apache.conf` → `net/apache`. `None` if it does not end in `.conf`.
pub fn job_name_from_relative(rel: &Path) -> Option<String> {
    let s = rel.to_str()?;
    let name = s.strip_suffix(".conf")?;
    (!name.is_empty() && !name.ends_with('/')).then(|| name.to_owned())
}

/// The `.override` path next to a `.conf` path.
pub fn override_path(conf: &Path) -> PathBuf {
    conf.with_extension("override")
}

#[cfg(test)]
mod tests;
