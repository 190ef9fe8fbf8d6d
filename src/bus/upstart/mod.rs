//! The `com.ubuntu.Upstart0_6` façade over the one engine (reference: upstart.md §1): the
//! manager at `/com/ubuntu/Upstart`, a job object per service unit at
//! `/com/ubuntu/Upstart/jobs/<esc(job)>` (Upstart jobs by their job name, other services by
//! their unit name without `.service`), and an instance object `…/<job>/<esc(inst)>` (`_`
//! for the unnamed one) per instance unit that is not `waiting`. Raw message dispatch like [`crate::bus::systemd`]; missing objects and
//! members answer `org.freedesktop.DBus.Error.UnknownMethod` as libnih does (initctl relies on
//! it). Deferred `wait=true` replies are kept here and answered from engine changes
//! ([`UpstartFacade::signals`] → [`UpstartFacade::take_replies`]).
//!
//! `EmitEvent(name, env, wait)` goes to the engine's event engine (`engine/events.rs`); a
//! waiting caller is answered, and `EventEmitted` sent, when the engine reports the event
//! finished (every job it started is running/done, every job it stopped is down).
//!
//! The global job environment (`GetEnv`/`ListEnv`/`SetEnv[List]`/`UnsetEnv[List]` with empty
//! job_details) is the manager environment; `ResetEnv` returns it to its value at start.
//! With `[job, instance]` they read and change that live instance's table (engine
//! `job_env`/`change_job_env`). `GetState` answers JSON with Upstart 1.13's top-level keys.
//!
//! Instance jobs: instance `<inst>` of job `foo` is the unit `foo@<systemd-escaped inst>.service`
//! (the unnamed instance is `foo.service` itself) at `…/jobs/foo/<esc(inst)>`; Job methods
//! expand the `instance` template against their env to pick it, `Job.Start` creates it through
//! the engine. Systemd template instances (`getty@tty1.service` from `getty@.service`) are not
//! shown as jobs.
//!
//! `NotifyDiskWriteable` has nothing to flush (job output is always written to the log store);
//! `NotifyDBusAddress` is refused as PID 1, ignored while connected to a bus and otherwise asks
//! the daemon loop to connect there ([`UpstartFacade::take_bus_request`]);
//! `NotifyCGroupManagerAddress` is recorded (as Upstart without cgroup support, nothing else);
//! `EndSession` is a no-op for a system manager (Upstart's PID 1) and, for a user manager (a
//! Session Init), emits `session-end TYPE=logout` and, once that event finished (the jobs it
//! started ran), asks the daemon loop to stop everything and exit
//! ([`UpstartFacade::take_end_session`]).

pub mod client;
pub mod path;
pub mod state_names;

use std::collections::{HashMap, HashSet};

use zbus::Message;
use zbus::Variant as Value;

use crate::bus::CallContext;
use crate::bus::ConnId;
use crate::bus::systemd::errors::{CallError, FAILED, INVALID_ARGS, UNKNOWN_METHOD};
use crate::engine::{ActiveState, Change, EventId, JobId, JobResult, JobType, UnitId};
use crate::runtime::Manager;
use crate::spec::{KindSpec, LoadState, ServiceType};

use path::{JOBS_PATH, MANAGER_PATH};

/// The well-known bus name.
pub const BUS_NAME: &str = "com.ubuntu.Upstart";
/// Manager interface.
pub const IFACE: &str = "com.ubuntu.Upstart0_6";
/// Job interface.
pub const JOB_IFACE: &str = "com.ubuntu.Upstart0_6.Job";
/// Instance interface.
pub const INSTANCE_IFACE: &str = "com.ubuntu.Upstart0_6.Instance";
/// What the `version` property says.
pub const VERSION: &str = "init (upstart 1.13.2)";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";
const INTROSPECTABLE: &str = "org.freedesktop.DBus.Introspectable";
const ERR: &str = "com.ubuntu.Upstart0_6.Error.";
const LOG_PRIORITIES: [&str; 6] = ["debug", "info", "message", "warn", "error", "fatal"];

/// Whether `msg` is addressed to an Upstart object (route it to this façade).
pub fn owns_message(msg: &Message) -> bool {
    let hdr = msg.header();
    if hdr.destination().is_some_and(|d| d.as_str() == BUS_NAME) {
        return true;
    }
    hdr.path()
        .is_some_and(|p| p.as_str() == "/com/ubuntu" || p.as_str().starts_with(MANAGER_PATH))
}

/// Calls anyone may make: introspection, Peer, property reads and the walk of jobs and
/// instances (what Upstart's policy opens to everyone). Everything else — EmitEvent, job and
/// instance Start/Stop/Restart, ReloadConfiguration, environment changes, Properties.Set —
/// needs root or the manager's own user.
pub fn is_read_only(msg: &Message) -> bool {
    const WALK: [&str; 5] = [
        "GetJobByName",
        "GetAllJobs",
        "GetInstance",
        "GetInstanceByName",
        "GetAllInstances",
    ];
    let hdr = msg.header();
    let member = hdr.member().map(|m| m.as_str()).unwrap_or("");
    match hdr.interface().map(|i| i.as_str()) {
        Some(INTROSPECTABLE | "org.freedesktop.DBus.Peer") => true,
        Some(PROPERTIES) => matches!(member, "Get" | "GetAll"),
        Some(IFACE) => matches!(member, "GetJobByName" | "GetAllJobs"),
        Some(JOB_IFACE) => matches!(
            member,
            "GetInstance" | "GetInstanceByName" | "GetAllInstances"
        ),
        Some(_) => false,
        None => {
            matches!(
                member,
                "Introspect" | "Ping" | "GetMachineId" | "Get" | "GetAll"
            ) || WALK.contains(&member)
        }
    }
}

enum Object {
    Node(Vec<String>),
    Manager,
    Job(UnitId),
    Instance(UnitId),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum WaitKind {
    Start,
    Stop,
    Restart,
}

struct Pending {
    conn: ConnId,
    call: Message,
    job: JobId,
    /// The instance's unit: a newer command on it releases this caller.
    unit: UnitId,
    kind: WaitKind,
    reply_path: Option<String>,
}

/// The Upstart façade's state.
pub struct UpstartFacade {
    log_priority: String,
    pending: Vec<Pending>,
    /// EmitEvent calls with wait=true, answered when their event finishes.
    pending_events: Vec<(EventId, ConnId, Message)>,
    replies: Vec<(ConnId, Message)>,
    /// Last (goal, state) per unit, to emit GoalChanged/StateChanged/InstanceAdded/Removed.
    last: HashMap<UnitId, (&'static str, &'static str)>,
    /// Units whose current failure was already signalled (`Failed`, once per attempt).
    failed: HashSet<UnitId>,
    /// (job, instance) of every unit seen as a job instance, to signal its removal after the
    /// unit is gone.
    names: HashMap<UnitId, (String, String)>,
    /// The jobs last announced (unit → job name), for JobAdded/JobRemoved; `None` before
    /// the first batch of changes.
    jobs: Option<HashMap<UnitId, String>>,
    /// Whether the manager is connected to a message bus (set by the daemon loop).
    bus_connected: bool,
    /// The address `NotifyDBusAddress` gave while no bus was connected (GetState's
    /// `control_bus_address`).
    control_bus_address: Option<String>,
    /// A bus the daemon loop should connect to (`NotifyDBusAddress` while unconnected).
    bus_request: Option<String>,
    /// The address `NotifyCGroupManagerAddress` gave (GetState's `cgroup_manager_address`).
    cgroup_manager_address: Option<String>,
    /// The `session-end` event an `EndSession` emitted, until it finishes.
    session_end: Option<EventId>,
    /// `session-end` finished: the daemon loop should shut the manager down.
    end_session: bool,
}

impl Default for UpstartFacade {
    fn default() -> Self {
        Self::new()
    }
}

type R = Result<Message, CallError>;

fn err(name: &'static str, msg: impl Into<String>) -> CallError {
    CallError::new(name, msg)
}

fn upstart_err(name: &'static str, msg: impl Into<String>) -> CallError {
    // Error names are static strings; build from the known suffixes.
    let full: &'static str = match name {
        "UnknownJob" => "com.ubuntu.Upstart0_6.Error.UnknownJob",
        "UnknownInstance" => "com.ubuntu.Upstart0_6.Error.UnknownInstance",
        "AlreadyStarted" => "com.ubuntu.Upstart0_6.Error.AlreadyStarted",
        "AlreadyStopped" => "com.ubuntu.Upstart0_6.Error.AlreadyStopped",
        "JobFailed" => "com.ubuntu.Upstart0_6.Error.JobFailed",
        "EventFailed" => "com.ubuntu.Upstart0_6.Error.EventFailed",
        "NotRunning" => "com.ubuntu.Upstart0_6.Error.NotRunning",
        _ => FAILED,
    };
    debug_assert!(full.starts_with(ERR) || full == FAILED);
    CallError::new(full, msg)
}

fn unknown_method(member: &str, sig: &str, iface: &str) -> CallError {
    err(
        UNKNOWN_METHOD,
        format!(
            "Method \"{member}\" with signature \"{sig}\" on interface \"{iface}\" doesn't exist"
        ),
    )
}

fn reply<B: serde::Serialize + zbus::wire::DynamicType>(msg: &Message, body: &B) -> R {
    Message::method_return(&msg.header())
        .build(body)
        .map_err(|e| err(FAILED, format!("Failed to build reply: {e}")))
}

/// The job name of a service unit: its Upstart job name, or the unit name without `.service`.
pub fn job_name(mgr: &Manager, unit: UnitId) -> String {
    let u = mgr.engine().unit(unit);
    match &u.loaded.spec.upstart {
        Some(j) => j.name.clone(),
        None => u
            .name()
            .strip_suffix(".service")
            .unwrap_or(u.name())
            .to_owned(),
    }
}

fn is_job(mgr: &Manager, unit: UnitId) -> bool {
    let u = mgr.engine().unit(unit);
    u.is_service()
        && u.loaded.load_state == LoadState::Loaded
        && !u.name().contains('@')
        && u.merged_into.is_none()
}

fn find_job(mgr: &mut Manager, name: &str) -> Option<UnitId> {
    let by_meta = mgr.engine().units().find(|u| {
        u.loaded
            .spec
            .upstart
            .as_ref()
            .is_some_and(|j| j.name == name)
    });
    if let Some(u) = by_meta {
        return Some(u.id);
    }
    let unit = crate::job_file::unit_name_for_job(name);
    let id = mgr.load_unit(&unit).ok()?;
    is_job(mgr, id).then_some(id)
}

/// The instance name a unit runs as (`""` for a job's class unit).
fn instance_name(mgr: &Manager, unit: UnitId) -> String {
    let u = mgr.engine().unit(unit);
    u.loaded
        .spec
        .upstart
        .as_deref()
        .map(|m| m.instance_name.clone())
        .unwrap_or_default()
}

/// Whether `unit` is a named instance of an Upstart instance job (`<job>@<inst>.service`).
fn is_instance_unit(mgr: &Manager, unit: UnitId) -> bool {
    let u = mgr.engine().unit(unit);
    u.is_service()
        && u.loaded.load_state == LoadState::Loaded
        && u.merged_into.is_none()
        && u.loaded
            .spec
            .upstart
            .as_deref()
            .is_some_and(|m| !m.instance_name.is_empty())
}

/// The job instance a unit is over the Upstart API: (job, instance), for a job's class unit
/// (instance `""`) and for instance units.
fn job_instance(mgr: &Manager, unit: UnitId) -> Option<(String, String)> {
    if is_job(mgr, unit) || is_instance_unit(mgr, unit) {
        Some((job_name(mgr, unit), instance_name(mgr, unit)))
    } else {
        None
    }
}

/// The unit running instance `inst` of the job whose class unit is `class`, if loaded.
fn instance_unit(mgr: &Manager, class: UnitId, inst: &str) -> Option<UnitId> {
    if inst.is_empty() {
        return Some(class);
    }
    let e = mgr.engine();
    let name = crate::spec::upstart::instance_unit_name(e.unit(class).name(), inst);
    let id = e.lookup(&name)?;
    is_instance_unit(mgr, id).then_some(id)
}

/// Every live (not `waiting`) instance unit of the job whose class unit is `class`, the
/// unnamed one first, then by instance name.
fn live_instances(mgr: &Manager, class: UnitId) -> Vec<UnitId> {
    let job = job_name(mgr, class);
    let mut v: Vec<(String, UnitId)> = mgr
        .engine()
        .units()
        .map(|u| u.id)
        .filter(|id| *id == class || (is_instance_unit(mgr, *id) && job_name(mgr, *id) == job))
        .filter(|id| goal_state(mgr, *id).1 != "waiting")
        .map(|id| (instance_name(mgr, id), id))
        .collect();
    v.sort();
    v.into_iter().map(|(_, id)| id).collect()
}

/// The instance name a Job method's `env` selects: the `instance` template expanded against
/// the global env + the job's `env` stanzas + `env`; errors as Upstart words them (with the
/// job's usage appended when it has one).
fn select_instance(mgr: &Manager, class: UnitId, env: &[String]) -> Result<String, CallError> {
    let e = mgr.engine();
    let Some(meta) = e.unit(class).loaded.spec.upstart.as_deref() else {
        return Ok(String::new());
    };
    if meta.instance.is_empty() {
        return Ok(String::new());
    }
    crate::spec::upstart::expand(&meta.instance, &e.instance_env(class, env)).map_err(|m| {
        let m = if meta.usage.is_empty() {
            m
        } else {
            format!("{m}\nUsage: {}", meta.usage)
        };
        err(INVALID_ARGS, m)
    })
}

/// `job` or `job (inst)`, as Upstart's messages name an instance.
fn display_name(job: &str, inst: &str) -> String {
    if inst.is_empty() {
        job.to_owned()
    } else {
        format!("{job} ({inst})")
    }
}

fn goal_state(mgr: &Manager, unit: UnitId) -> (&'static str, &'static str) {
    let e = mgr.engine();
    let u = e.unit(unit);
    let pending = u.job.and_then(|j| e.job(j)).map(|j| j.job_type);
    let goal = state_names::goal(u.active_state, pending);
    if e.held_in_stopping(unit) {
        return (goal, "stopping");
    }
    (goal, state_names::state(u.sub_state(), goal))
}

/// The `Failed` signal's status, as Upstart reports it: the main process's exit code, or its
/// signal `<< 8` if it was killed; `-1` when no main process exit is known (e.g. it could not
/// be spawned).
fn failed_status(mgr: &Manager, unit: UnitId) -> i32 {
    use crate::engine::ExitStatus;
    match mgr.engine().unit(unit).service.main_exit {
        Some(ExitStatus::Exited(c)) => c,
        Some(ExitStatus::Killed(s) | ExitStatus::Dumped(s)) => s << 8,
        None => -1,
    }
}

fn is_task(mgr: &Manager, unit: UnitId) -> bool {
    match &mgr.engine().unit(unit).loaded.spec.kind {
        KindSpec::Service(s) => s.service_type == ServiceType::Oneshot && !s.remain_after_exit,
        _ => false,
    }
}

fn processes(mgr: &Manager, unit: UnitId) -> Vec<(String, i32)> {
    let u = mgr.engine().unit(unit);
    let mut v = Vec::new();
    if let Some(p) = u.service.main_pid {
        v.push(("main".to_owned(), p as i32));
    }
    if let Some(p) = u.service.control_pid {
        let name = state_names::control_process_name(u.sub_state());
        if name != "main" || v.is_empty() {
            v.push((name.to_owned(), p as i32));
        }
    }
    let order = ["main", "pre-start", "post-start", "pre-stop", "post-stop"];
    v.sort_by_key(|(n, _)| order.iter().position(|o| o == n));
    v
}

fn event_rpn(e: Option<&crate::spec::event_expr::EventExpr>) -> Vec<Vec<String>> {
    e.map(|e| e.to_rpn()).unwrap_or_default()
}

/// `<interface …>…</interface>` of an interface file, without comments and annotations (live
/// Upstart sends no annotations).
fn interface_xml(file: &str) -> String {
    let mut out = String::new();
    let mut rest = file;
    while let Some(i) = rest.find("<!--") {
        out.push_str(&rest[..i]);
        match rest[i..].find("-->") {
            Some(j) => rest = &rest[i + j + 3..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    let start = out.find("<interface").unwrap_or(0);
    let end = out
        .rfind("</interface>")
        .map(|e| e + "</interface>".len())
        .unwrap_or(out.len());
    out[start..end]
        .lines()
        .filter(|l| !l.contains("<annotation") && !l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect()
}

const STANDARD_XML: &str = r#"  <interface name="org.freedesktop.DBus.Introspectable">
    <method name="Introspect">
      <arg name="data" type="s" direction="out"/>
    </method>
  </interface>
  <interface name="org.freedesktop.DBus.Properties">
    <method name="Get">
      <arg name="interface_name" type="s" direction="in"/>
      <arg name="property_name" type="s" direction="in"/>
      <arg name="value" type="v" direction="out"/>
    </method>
    <method name="Set">
      <arg name="interface_name" type="s" direction="in"/>
      <arg name="property_name" type="s" direction="in"/>
      <arg name="value" type="v" direction="in"/>
    </method>
    <method name="GetAll">
      <arg name="interface_name" type="s" direction="in"/>
      <arg name="props" type="a{sv}" direction="out"/>
    </method>
  </interface>
"#;

impl UpstartFacade {
    /// A façade with log priority `message`.
    pub fn new() -> UpstartFacade {
        UpstartFacade {
            log_priority: "message".into(),
            pending: Vec::new(),
            pending_events: Vec::new(),
            replies: Vec::new(),
            last: HashMap::new(),
            failed: HashSet::new(),
            names: HashMap::new(),
            jobs: None,
            bus_connected: true,
            control_bus_address: None,
            bus_request: None,
            cgroup_manager_address: None,
            session_end: None,
            end_session: false,
        }
    }

    /// Tell the façade whether the manager is connected to a message bus now (the daemon
    /// loop calls it before each call): `NotifyDBusAddress` is ignored while connected, as
    /// Upstart ignores it once it has its bus.
    pub fn set_bus_connected(&mut self, connected: bool) {
        self.bus_connected = connected;
    }

    /// Whether an `EndSession` call's `session-end` event finished: the daemon loop then
    /// stops every unit and exits (Upstart's quiesce). True once.
    pub fn take_end_session(&mut self) -> bool {
        std::mem::take(&mut self.end_session)
    }

    /// The bus address a `NotifyDBusAddress` call asked the manager to connect to (it was
    /// not connected to any bus); the daemon loop connects to it and claims the names.
    pub fn take_bus_request(&mut self) -> Option<String> {
        self.bus_request.take()
    }

    /// Handle one method call; `None` for non-calls and no-reply calls, and for calls whose
    /// reply is deferred (`wait=true`).
    pub fn handle_call(
        &mut self,
        mgr: &mut Manager,
        msg: &Message,
        ctx: &CallContext,
    ) -> Option<Message> {
        let hdr = msg.header();
        if hdr.message_type() != zbus::message::Type::MethodCall {
            return None;
        }
        let no_reply = msg
            .primary_header()
            .flags()
            .contains(zbus::message::Flags::NO_REPLY_EXPECTED);
        // The daemon's own check, independent of any bus policy (the same rule as Upstart's
        // policy file): anyone may read; everything else only root or the manager's user.
        let own = mgr.settings().uid;
        let allowed = is_read_only(msg) || ctx.caller_uid.is_some_and(|uid| uid == 0 || uid == own);
        let result = if allowed {
            self.dispatch(mgr, msg, ctx.conn)
        } else {
            Err(err(
                "org.freedesktop.DBus.Error.AccessDenied",
                "Access denied",
            ))
        };
        if no_reply {
            return None;
        }
        match result {
            Ok(Some(m)) => Some(m),
            Ok(None) => None,
            Err(e) => e.reply_to(&hdr).ok(),
        }
    }

    /// Whether a `wait=true` call or an `EmitEvent` still waits for its reply: the manager
    /// is then not idle.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty() || !self.pending_events.is_empty() || !self.replies.is_empty()
    }

    /// Replies that became ready (deferred `wait=true` calls), with their connection.
    pub fn take_replies(&mut self) -> Vec<(ConnId, Message)> {
        std::mem::take(&mut self.replies)
    }

    fn resolve(&self, mgr: &mut Manager, path: &str) -> Option<Object> {
        match path {
            "/" => return Some(Object::Node(vec!["com".into()])),
            "/com" => return Some(Object::Node(vec!["ubuntu".into()])),
            "/com/ubuntu" => return Some(Object::Node(vec!["Upstart".into()])),
            MANAGER_PATH => return Some(Object::Manager),
            JOBS_PATH => {
                let kids = self
                    .job_ids(mgr)
                    .iter()
                    .map(|u| path::escape(&job_name(mgr, *u)))
                    .collect();
                return Some(Object::Node(kids));
            }
            _ => {}
        }
        let rest = path.strip_prefix(JOBS_PATH)?.strip_prefix('/')?;
        let (job, inst) = match rest.split_once('/') {
            Some((j, i)) => (j, Some(i)),
            None => (rest, None),
        };
        let unit = find_job(mgr, &path::unescape(job)?)?;
        match inst {
            None => Some(Object::Job(unit)),
            Some(i) => {
                let unit = instance_unit(mgr, unit, &path::unescape(i)?)?;
                (goal_state(mgr, unit).1 != "waiting").then_some(Object::Instance(unit))
            }
        }
    }

    fn job_ids(&self, mgr: &Manager) -> Vec<UnitId> {
        let mut v: Vec<UnitId> = mgr
            .engine()
            .units()
            .map(|u| u.id)
            .filter(|id| is_job(mgr, *id))
            .collect();
        v.sort_by_key(|id| mgr.engine().unit(*id).name().to_owned());
        v
    }

    fn dispatch(
        &mut self,
        mgr: &mut Manager,
        msg: &Message,
        conn: ConnId,
    ) -> Result<Option<Message>, CallError> {
        let hdr = msg.header();
        let path = hdr
            .path()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let iface = hdr
            .interface()
            .map(|i| i.as_str().to_owned())
            .unwrap_or_default();
        let member = hdr
            .member()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default();
        let sig = msg.body().signature().to_string_no_parens();
        let Some(object) = self.resolve(mgr, &path) else {
            return Err(unknown_method(&member, &sig, &iface));
        };
        let bad = || unknown_method(&member, &sig, &iface);
        let args_err = |_| {
            err(
                INVALID_ARGS,
                format!("Invalid arguments to {member} method"),
            )
        };
        match (iface.as_str(), member.as_str()) {
            (INTROSPECTABLE | "", "Introspect") => {
                let xml = self.introspect(mgr, &path, &object);
                return reply(msg, &xml).map(Some);
            }
            (PROPERTIES | "", "Get") => {
                let (i, p): (String, String) = msg.body().deserialize().map_err(args_err)?;
                let all = self.properties(mgr, &object, &i);
                return match all.into_iter().find(|(k, _)| *k == p) {
                    Some((_, v)) => reply(msg, &v).map(Some),
                    None => Err(unknown_method("Get", "ss", PROPERTIES)),
                };
            }
            (PROPERTIES | "", "GetAll") => {
                let (i,): (String,) = msg.body().deserialize().map_err(args_err)?;
                let all: HashMap<&str, Value> =
                    self.properties(mgr, &object, &i).into_iter().collect();
                return reply(msg, &all).map(Some);
            }
            (PROPERTIES | "", "Set") => {
                let body = msg.body();
                let (i, p, v): (String, String, Value) = body.deserialize().map_err(args_err)?;
                if !matches!(object, Object::Manager) || (i != IFACE && !i.is_empty()) {
                    return Err(unknown_method("Set", "ssv", PROPERTIES));
                }
                return match (p.as_str(), v) {
                    ("log_priority", Value::Str(s)) if LOG_PRIORITIES.contains(&s.as_str()) => {
                        self.log_priority = s.to_string();
                        reply(msg, &()).map(Some)
                    }
                    ("log_priority", _) => Err(err(
                        INVALID_ARGS,
                        "The log priority given was not recognised",
                    )),
                    ("version", _) => Err(err(
                        "org.freedesktop.DBus.Error.AccessDenied",
                        "The version property is read-only",
                    )),
                    _ => Err(unknown_method("Set", "ssv", PROPERTIES)),
                };
            }
            _ => {}
        }
        match object {
            Object::Node(_) => Err(bad()),
            Object::Manager => {
                if !iface.is_empty() && iface != IFACE {
                    return Err(bad());
                }
                match (member.as_str(), sig.as_str()) {
                    ("GetJobByName", "s") => {
                        let (name,): (String,) = msg.body().deserialize().map_err(args_err)?;
                        if name.is_empty() {
                            return Err(err(INVALID_ARGS, "Name may not be empty string"));
                        }
                        match find_job(mgr, &name) {
                            Some(_) => reply(
                                msg,
                                &zbus::ObjectPath::try_from(path::job_path(&name))
                                    .map_err(|e| err(FAILED, e.to_string()))?,
                            )
                            .map(Some),
                            None => Err(upstart_err("UnknownJob", format!("Unknown job: {name}"))),
                        }
                    }
                    ("GetAllJobs", "") => {
                        let paths: Vec<zbus::ObjectPath<'static>> = self
                            .job_ids(mgr)
                            .into_iter()
                            .filter_map(|u| {
                                zbus::ObjectPath::try_from(path::job_path(&job_name(mgr, u))).ok()
                            })
                            .collect();
                        reply(msg, &paths).map(Some)
                    }
                    ("ListEnv", "as") => {
                        let (details,): (Vec<String>,) =
                            msg.body().deserialize().map_err(args_err)?;
                        let env: Vec<String> = match env_target(mgr, &details)? {
                            Some(unit) => mgr.engine().job_env(unit),
                            None => mgr.engine().environment().to_vec(),
                        };
                        reply(msg, &env).map(Some)
                    }
                    ("GetEnv", "ass") => {
                        let (details, name): (Vec<String>, String) =
                            msg.body().deserialize().map_err(args_err)?;
                        let target = env_target(mgr, &details)?;
                        if name.is_empty() {
                            return Err(err(INVALID_ARGS, "Variable may not be empty string"));
                        }
                        let env = match target {
                            Some(unit) => mgr.engine().job_env(unit),
                            None => mgr.engine().environment().to_vec(),
                        };
                        match crate::spec::upstart::env_get(&env, &name) {
                            Some(v) => reply(msg, &v.to_owned()).map(Some),
                            None => Err(err(INVALID_ARGS, format!("No such variable: {name}"))),
                        }
                    }
                    ("EmitEvent", "sasb") => {
                        let (name, env, wait): (String, Vec<String>, bool) =
                            msg.body().deserialize().map_err(args_err)?;
                        if name.is_empty() {
                            return Err(err(INVALID_ARGS, "Name may not be empty string"));
                        }
                        check_env(&env)?;
                        let ev = mgr.emit_event(&name, env);
                        if wait {
                            self.pending_events.push((ev, conn, msg.clone()));
                            Ok(None)
                        } else {
                            reply(msg, &()).map(Some)
                        }
                    }
                    ("SetEnv" | "SetEnvList" | "UnsetEnv" | "UnsetEnvList", _) => {
                        self.env_change(mgr, msg, &member, &sig).map(Some)
                    }
                    ("ResetEnv", "as") => {
                        let (details,): (Vec<String>,) =
                            msg.body().deserialize().map_err(|_| {
                                err(INVALID_ARGS, "Invalid arguments to ResetEnv method")
                            })?;
                        if let Some(unit) = env_target(mgr, &details)? {
                            mgr.change_job_env(unit, crate::engine::JobEnvChange::Reset);
                            return reply(msg, &()).map(Some);
                        }
                        mgr.reset_environment();
                        reply(msg, &()).map(Some)
                    }
                    ("GetState", "") => reply(msg, &self.state_json(mgr)).map(Some),
                    ("NotifyDiskWriteable", "") => {
                        // Upstart buffers `console log` output until the log disk is
                        // writable and flushes it on this call. unitd writes every job's
                        // output to its log store under the state directory as it comes, so
                        // nothing is ever held back: there is nothing to flush.
                        reply(msg, &()).map(Some)
                    }
                    ("NotifyDBusAddress", "s") => {
                        let (address,): (String,) = msg.body().deserialize().map_err(args_err)?;
                        if is_pid1() {
                            return Err(permission_denied(
                                "Not permissible to notify D-Bus address for PID 1",
                            ));
                        }
                        // As Upstart: ignored once connected to a bus; otherwise connect to
                        // it (the daemon loop does, claiming the bus names).
                        if !self.bus_connected && self.control_bus_address.is_none() {
                            self.control_bus_address = Some(address.clone());
                            self.bus_request = Some(address);
                        }
                        reply(msg, &()).map(Some)
                    }
                    ("NotifyCGroupManagerAddress", "s") => {
                        // Upstart built without cgroup support (and unitd, whose `cgroup`
                        // stanza is parsed and warned about) accepts and does nothing else;
                        // the address is recorded for GetState.
                        let (address,): (String,) = msg.body().deserialize().map_err(args_err)?;
                        self.cgroup_manager_address.get_or_insert(address);
                        reply(msg, &()).map(Some)
                    }
                    ("EndSession", "") => {
                        // Upstart: "Not supported at the system level" — PID 1 answers
                        // success and does nothing; so does a system manager here. A
                        // session init (a user manager) quiesces: `session-end TYPE=logout`,
                        // then every job stops and the manager exits.
                        if mgr.settings().scope == crate::settings::Scope::System || is_pid1() {
                            return reply(msg, &()).map(Some);
                        }
                        // The jobs `session-end` starts run first (Upstart's wait phase);
                        // when the event finished, the daemon loop stops everything and exits
                        // (the kill phase). A second EndSession changes nothing.
                        if self.session_end.is_none() {
                            let ev = mgr.emit_event("session-end", vec!["TYPE=logout".to_owned()]);
                            self.session_end = Some(ev);
                        }
                        reply(msg, &()).map(Some)
                    }
                    ("ReloadConfiguration", "") => {
                        mgr.reload();
                        reply(msg, &()).map(Some)
                    }
                    _ => Err(bad()),
                }
            }
            Object::Job(unit) => {
                if !iface.is_empty() && iface != JOB_IFACE {
                    return Err(bad());
                }
                let name = job_name(mgr, unit);
                let path_of = |mgr: &Manager, u: UnitId| {
                    zbus::ObjectPath::try_from(path::instance_path(&name, &instance_name(mgr, u)))
                        .map_err(|e| err(FAILED, e.to_string()))
                };
                match (member.as_str(), sig.as_str()) {
                    ("GetAllInstances", "") => {
                        let v = live_instances(mgr, unit)
                            .into_iter()
                            .map(|u| path_of(mgr, u))
                            .collect::<Result<Vec<_>, _>>()?;
                        reply(msg, &v).map(Some)
                    }
                    ("GetInstance", "as") | ("GetInstanceByName", "s") => {
                        let inst = if member == "GetInstance" {
                            let (env,): (Vec<String>,) =
                                msg.body().deserialize().map_err(args_err)?;
                            check_env(&env)?;
                            select_instance(mgr, unit, &env)?
                        } else {
                            let (n,): (String,) = msg.body().deserialize().map_err(args_err)?;
                            n
                        };
                        let live = instance_unit(mgr, unit, &inst)
                            .filter(|u| goal_state(mgr, *u).1 != "waiting");
                        match live {
                            Some(u) => reply(msg, &path_of(mgr, u)?).map(Some),
                            None => Err(upstart_err(
                                "UnknownInstance",
                                format!("Unknown instance: {inst}"),
                            )),
                        }
                    }
                    ("Start" | "Stop" | "Restart", "asb") => {
                        let (env, wait): (Vec<String>, bool) =
                            msg.body().deserialize().map_err(args_err)?;
                        check_env(&env)?;
                        let inst = select_instance(mgr, unit, &env)?;
                        let target = if member == "Start" {
                            mgr.job_start_target(unit, &env)
                                .map_err(|m| err(INVALID_ARGS, m))?
                        } else {
                            match instance_unit(mgr, unit, &inst)
                                .filter(|u| goal_state(mgr, *u).1 != "waiting")
                            {
                                Some(u) => u,
                                None => {
                                    return Err(upstart_err(
                                        "UnknownInstance",
                                        format!("Unknown instance: {inst}"),
                                    ));
                                }
                            }
                        };
                        self.control(mgr, msg, conn, target, &member, wait, Some(env))
                    }
                    _ => Err(bad()),
                }
            }
            Object::Instance(unit) => {
                if !iface.is_empty() && iface != INSTANCE_IFACE {
                    return Err(bad());
                }
                match (member.as_str(), sig.as_str()) {
                    ("Start" | "Stop" | "Restart", "b") => {
                        let (wait,): (bool,) = msg.body().deserialize().map_err(args_err)?;
                        self.control(mgr, msg, conn, unit, &member, wait, None)
                    }
                    ("Reload", "") => {
                        let name = job_name(mgr, unit);
                        let u = mgr.engine().unit(unit);
                        let Some(_pid) = u.service.main_pid else {
                            return Err(upstart_err(
                                "NotRunning",
                                format!("Job is not running: {name}"),
                            ));
                        };
                        let sig = u
                            .loaded
                            .spec
                            .upstart
                            .as_ref()
                            .map(|j| j.reload_signal)
                            .unwrap_or(crate::spec::linux::SIGHUP);
                        let uname = u.name().to_owned();
                        mgr.kill_unit(&uname, crate::engine::KillWhom::Main, sig)
                            .map_err(|e| err(FAILED, e.to_string()))?;
                        reply(msg, &()).map(Some)
                    }
                    _ => Err(bad()),
                }
            }
        }
    }

    /// Job/Instance Start, Stop, Restart. `env` is the Job methods' env (the Instance
    /// methods keep the env the instance has).
    #[allow(clippy::too_many_arguments)]
    fn control(
        &mut self,
        mgr: &mut Manager,
        msg: &Message,
        conn: ConnId,
        unit: UnitId,
        member: &str,
        wait: bool,
        env: Option<Vec<String>>,
    ) -> Result<Option<Message>, CallError> {
        let name = job_name(mgr, unit);
        let inst = instance_name(mgr, unit);
        let shown = display_name(&name, &inst);
        let (goal, state) = goal_state(mgr, unit);
        let (kind, job_type) = match member {
            "Start" => {
                if goal == "start" {
                    return Err(upstart_err(
                        "AlreadyStarted",
                        format!("Job is already running: {shown}"),
                    ));
                }
                (WaitKind::Start, JobType::Start)
            }
            "Stop" => {
                if state == "waiting" {
                    return Err(upstart_err(
                        "UnknownInstance",
                        format!("Unknown instance: {inst}"),
                    ));
                }
                if goal == "stop" {
                    return Err(upstart_err(
                        "AlreadyStopped",
                        format!("Job has already been stopped: {shown}"),
                    ));
                }
                (WaitKind::Stop, JobType::Stop)
            }
            _ => {
                if state == "waiting" {
                    return Err(upstart_err(
                        "UnknownInstance",
                        format!("Unknown instance: {inst}"),
                    ));
                }
                if goal == "stop" {
                    // Upstart names only the bare instance here.
                    return Err(upstart_err(
                        "AlreadyStopped",
                        format!("Job has already been stopped: {inst}"),
                    ));
                }
                (WaitKind::Restart, JobType::Restart)
            }
        };
        let uname = mgr.engine().unit(unit).name().to_owned();
        if let Some(env) = env {
            mgr.set_job_env(unit, kind == WaitKind::Stop, env);
        }
        // As Upstart: a newer command releases the instance's earlier blocked callers, with
        // success.
        self.release_waiters(unit);
        // …and the events it holds (an EmitEvent waiting on the job's start returns).
        mgr.release_event_holds(unit);
        let job = mgr
            .enqueue(&uname, job_type, "replace")
            .map_err(|e| err(FAILED, e.to_string()))?;
        let is_job_iface = msg
            .header()
            .interface()
            .is_none_or(|i| i.as_str() == JOB_IFACE)
            && msg.body().signature().to_string_no_parens() == "asb";
        let reply_path =
            (is_job_iface && kind != WaitKind::Stop).then(|| path::instance_path(&name, &inst));
        if !wait {
            return match &reply_path {
                Some(p) => reply(
                    msg,
                    &zbus::ObjectPath::try_from(p.as_str())
                        .map_err(|e| err(FAILED, e.to_string()))?,
                )
                .map(Some),
                None => reply(msg, &()).map(Some),
            };
        }
        self.pending.push(Pending {
            conn,
            call: msg.clone(),
            job,
            unit,
            kind,
            reply_path,
        });
        Ok(None)
    }

    fn properties(
        &self,
        mgr: &Manager,
        object: &Object,
        iface: &str,
    ) -> Vec<(&'static str, Value<'static>)> {
        match object {
            Object::Manager if iface.is_empty() || iface == IFACE => vec![
                ("version", Value::from(VERSION.to_owned())),
                ("log_priority", Value::from(self.log_priority.clone())),
            ],
            Object::Job(unit) if iface.is_empty() || iface == JOB_IFACE => {
                let u = mgr.engine().unit(*unit);
                let meta = u.loaded.spec.upstart.as_deref();
                let s = |f: fn(&crate::spec::upstart::UpstartJob) -> &String| {
                    meta.map(|m| f(m).clone()).unwrap_or_default()
                };
                let description = match meta {
                    Some(m) => m.description.clone(),
                    None => u.loaded.spec.description.clone(),
                };
                vec![
                    ("name", Value::from(job_name(mgr, *unit))),
                    ("description", Value::from(description)),
                    ("author", Value::from(s(|m| &m.author))),
                    ("version", Value::from(s(|m| &m.version))),
                    ("usage", Value::from(s(|m| &m.usage))),
                    (
                        "start_on",
                        Value::from(event_rpn(meta.and_then(|m| m.start_on.as_ref()))),
                    ),
                    (
                        "stop_on",
                        Value::from(event_rpn(meta.and_then(|m| m.stop_on.as_ref()))),
                    ),
                    (
                        "emits",
                        Value::from(meta.map(|m| m.emits.clone()).unwrap_or_default()),
                    ),
                ]
            }
            Object::Instance(unit) if iface.is_empty() || iface == INSTANCE_IFACE => {
                let (goal, state) = goal_state(mgr, *unit);
                vec![
                    ("name", Value::from(instance_name(mgr, *unit))),
                    ("goal", Value::from(goal.to_owned())),
                    ("state", Value::from(state.to_owned())),
                    ("processes", Value::from(processes(mgr, *unit))),
                ]
            }
            _ => Vec::new(),
        }
    }

    fn introspect(&self, mgr: &Manager, path: &str, object: &Object) -> String {
        let mut x = String::from(
            "<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n\"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n",
        );
        x.push_str(&format!("<node name=\"{path}\">\n"));
        let mut children: Vec<String> = Vec::new();
        match object {
            Object::Node(kids) => children = kids.clone(),
            Object::Manager => {
                x.push_str(&interface_xml(include_str!(
                    "../../../interfaces/com.ubuntu.Upstart0_6.xml"
                )));
                x.push_str(STANDARD_XML);
                children.push("jobs".into());
            }
            Object::Job(unit) => {
                x.push_str(&interface_xml(include_str!(
                    "../../../interfaces/com.ubuntu.Upstart0_6.Job.xml"
                )));
                x.push_str(STANDARD_XML);
                for u in live_instances(mgr, *unit) {
                    children.push(path::escape(&instance_name(mgr, u)));
                }
            }
            Object::Instance(_) => {
                x.push_str(&interface_xml(include_str!(
                    "../../../interfaces/com.ubuntu.Upstart0_6.Instance.xml"
                )));
                x.push_str(STANDARD_XML);
            }
        }
        for c in children {
            x.push_str(&format!("  <node name=\"{c}\"/>\n"));
        }
        x.push_str("</node>\n");
        x
    }

    /// Signals for a batch of engine changes (JobAdded, InstanceAdded/Removed, GoalChanged,
    /// StateChanged) and, as a side effect, the deferred replies that became ready (collect
    /// them with [`Self::take_replies`]).
    pub fn signals(&mut self, mgr: &Manager, changes: &[Change]) -> Vec<Message> {
        let mut out = self.job_registry_signals(mgr, changes);
        for ch in changes {
            match ch {
                Change::JobRemoved {
                    job, unit, result, ..
                } => {
                    self.finish_pending(mgr, *job, *unit, *result);
                }
                Change::EventFinished {
                    event,
                    name,
                    env,
                    failed,
                } => {
                    self.finish_event(*event, *failed);
                    if self.session_end == Some(*event) {
                        self.end_session = true;
                    }
                    out.extend(signal(MANAGER_PATH, IFACE, "EventEmitted", &(name, env)).ok());
                }
                _ => {}
            }
            let unit = match ch {
                Change::UnitChanged { unit }
                | Change::UnitRemoved { unit, .. }
                | Change::JobNew { unit, .. }
                | Change::JobRemoved { unit, .. } => *unit,
                _ => continue,
            };
            let present = mgr
                .engine()
                .try_unit(unit)
                .filter(|u| !u.removed)
                .and_then(|_| job_instance(mgr, unit));
            // A unit that stopped being a job instance (an instance unit collected after it
            // stopped) is seen as waiting one last time, under the names it had.
            let is_present = present.is_some();
            let (name, inst, now) = match present {
                Some((name, inst)) => {
                    self.names.insert(unit, (name.clone(), inst.clone()));
                    (name, inst, goal_state(mgr, unit))
                }
                None => match self.names.remove(&unit) {
                    Some((name, inst)) => (name, inst, ("stop", "waiting")),
                    None => continue,
                },
            };
            let failed = is_present && mgr.engine().unit(unit).active_state == ActiveState::Failed;
            if !failed {
                self.failed.remove(&unit);
            } else if self.failed.insert(unit) {
                let ip = path::instance_path(&name, &inst);
                let status = failed_status(mgr, unit);
                out.extend(signal(&ip, INSTANCE_IFACE, "Failed", &(status,)).ok());
            }
            let before = self.last.insert(unit, now).unwrap_or(("stop", "waiting"));
            if !is_present {
                self.last.remove(&unit);
            }
            if before == now {
                continue;
            }
            let jp = path::job_path(&name);
            let ip = path::instance_path(&name, &inst);
            let Ok(ipath) = zbus::ObjectPath::try_from(ip.as_str()) else {
                continue;
            };
            if before.1 == "waiting" && now.1 != "waiting" {
                out.extend(signal(&jp, JOB_IFACE, "InstanceAdded", &(ipath.clone(),)).ok());
            }
            if before.0 != now.0 {
                out.extend(signal(&ip, INSTANCE_IFACE, "GoalChanged", &(now.0,)).ok());
            }
            if before.1 != now.1 {
                out.extend(signal(&ip, INSTANCE_IFACE, "StateChanged", &(now.1,)).ok());
            }
            if before.1 != "waiting" && now.1 == "waiting" {
                out.extend(signal(&jp, JOB_IFACE, "InstanceRemoved", &(ipath,)).ok());
            }
        }
        out
    }

    /// `GetState`: Upstart serialises its internal state as JSON with the top-level keys
    /// `sessions`, `events`, `control_bus_address`, `cgroup_manager_address`,
    /// `job_environment`, `job_classes`, `conf_sources`. Ours has the same keys, filled from
    /// the engine: pending events (with env and how many hold them), the global job env, and
    /// per job class its file, conditions (post-order, as the Job properties) and live
    /// instances (goal, state, env tables, processes). Not Upstart's exact per-object field
    /// set: it is for inspection, not for a stateful re-exec.
    fn state_json(&self, mgr: &Manager) -> String {
        use serde_json::json;
        let e = mgr.engine();
        let events: Vec<_> = e
            .pending_event_details()
            .into_iter()
            .map(|(id, name, env, holders, failed)| {
                json!({"id": id, "name": name, "env": env, "blockers": holders, "failed": failed})
            })
            .collect();
        let mut conf_sources: Vec<String> = Vec::new();
        let classes: Vec<_> = self
            .job_ids(mgr)
            .into_iter()
            .map(|class| {
                let u = e.unit(class);
                let meta = u.loaded.spec.upstart.as_deref();
                if let Some(dir) = meta.and_then(|m| m.conf_path.parent()) {
                    let d = dir.display().to_string();
                    if !conf_sources.contains(&d) {
                        conf_sources.push(d);
                    }
                }
                let instances: Vec<_> = live_instances(mgr, class)
                    .into_iter()
                    .map(|i| {
                        let (goal, state) = goal_state(mgr, i);
                        json!({
                            "name": instance_name(mgr, i),
                            "unit": e.unit(i).name(),
                            "goal": goal,
                            "state": state,
                            "env": e.job_env(i),
                            "start_env": e.start_env(i),
                            "stop_env": e.stop_env(i),
                            "processes": processes(mgr, i),
                        })
                    })
                    .collect();
                json!({
                    "name": job_name(mgr, class),
                    "unit": u.name(),
                    "path": u.loaded.fragment_path.as_ref().map(|p| p.display().to_string()),
                    "instance": meta.map(|m| m.instance.clone()).unwrap_or_default(),
                    "task": is_task(mgr, class),
                    "respawn": meta.is_some_and(|m| m.respawn),
                    "start_on": event_rpn(meta.and_then(|m| m.start_on.as_ref())),
                    "stop_on": event_rpn(meta.and_then(|m| m.stop_on.as_ref())),
                    "emits": meta.map(|m| m.emits.clone()).unwrap_or_default(),
                    "export": meta.map(|m| m.export.clone()).unwrap_or_default(),
                    "env": meta.map(|m| m.env.clone()).unwrap_or_default(),
                    "jobs": instances,
                })
            })
            .collect();
        json!({
            "sessions": [],
            "events": events,
            "control_bus_address": self.control_bus_address,
            "cgroup_manager_address": self.cgroup_manager_address,
            "job_environment": e.environment(),
            "job_classes": classes,
            "conf_sources": conf_sources,
        })
        .to_string()
    }

    /// `JobAdded` for units that became jobs (a new `.conf`, a unit loaded on demand) and
    /// `JobRemoved` for jobs that went away (a deleted `.conf` after ReloadConfiguration),
    /// by comparing the job list with the one last seen. Difference: Upstart keeps a deleted
    /// job's class (and sends `JobRemoved`) until its last instance stopped; here the job
    /// leaves the Upstart view at the reload that no longer finds its file.
    fn job_registry_signals(&mut self, mgr: &Manager, changes: &[Change]) -> Vec<Message> {
        let relevant = changes.iter().any(|c| {
            matches!(
                c,
                Change::UnitNew { .. }
                    | Change::UnitChanged { .. }
                    | Change::UnitRemoved { .. }
                    | Change::Reloading { .. }
            )
        });
        if !relevant && self.jobs.is_some() {
            return Vec::new();
        }
        let current: HashMap<UnitId, String> = self
            .job_ids(mgr)
            .into_iter()
            .map(|u| (u, job_name(mgr, u)))
            .collect();
        let known = self.jobs.get_or_insert_with(|| {
            // First look: what exists now was there before, except what this batch adds.
            let mut k = current.clone();
            for c in changes {
                if let Change::UnitNew { unit, .. } = c {
                    k.remove(unit);
                }
            }
            k
        });
        let mut out = Vec::new();
        let mut emit = |member: &str, name: &str| {
            if let Ok(o) = zbus::ObjectPath::try_from(path::job_path(name)) {
                out.extend(signal(MANAGER_PATH, IFACE, member, &(o,)).ok());
            }
        };
        let mut gone: Vec<&String> = known
            .iter()
            .filter(|(u, n)| current.get(u) != Some(*n))
            .map(|(_, n)| n)
            .collect();
        gone.sort();
        for name in gone {
            emit("JobRemoved", name);
        }
        let mut added: Vec<&String> = current
            .iter()
            .filter(|(u, n)| known.get(u) != Some(*n))
            .map(|(_, n)| n)
            .collect();
        added.sort();
        for name in added {
            emit("JobAdded", name);
        }
        self.jobs = Some(current);
        out
    }

    /// `SetEnv`/`SetEnvList`/`UnsetEnv`/`UnsetEnvList`: with job_details `[]` the manager
    /// environment every job (and unit) gets; with `[job, instance]` that instance's table
    /// (what its later processes get).
    fn env_change(&mut self, mgr: &mut Manager, msg: &Message, member: &str, sig: &str) -> R {
        let args_err = |_| {
            err(
                INVALID_ARGS,
                format!("Invalid arguments to {member} method"),
            )
        };
        let body = msg.body();
        let (details, names, replace): (Vec<String>, Vec<String>, bool) = match (member, sig) {
            ("SetEnv", "assb") => {
                let (d, v, r): (Vec<String>, String, bool) =
                    body.deserialize().map_err(args_err)?;
                (d, vec![v], r)
            }
            ("SetEnvList", "asasb") => body.deserialize().map_err(args_err)?,
            ("UnsetEnv", "ass") => {
                let (d, n): (Vec<String>, String) = body.deserialize().map_err(args_err)?;
                (d, vec![n], false)
            }
            ("UnsetEnvList", "asas") => {
                let (d, n): (Vec<String>, Vec<String>) = body.deserialize().map_err(args_err)?;
                (d, n, false)
            }
            _ => return Err(unknown_method(member, sig, IFACE)),
        };
        if let Some(unit) = env_target(mgr, &details)? {
            use crate::engine::JobEnvChange;
            if member.starts_with("Set") {
                mgr.change_job_env(unit, JobEnvChange::Set(names, replace));
            } else {
                if mgr.engine().job_env(unit).is_empty() {
                    let n = names.first().cloned().unwrap_or_default();
                    return Err(err(INVALID_ARGS, format!("No such variable: {n}")));
                }
                mgr.change_job_env(unit, JobEnvChange::Unset(names));
            }
            return reply(msg, &());
        }
        if member.starts_with("Set") {
            let current = mgr.engine().environment().to_vec();
            let mut set = Vec::new();
            for v in names {
                let (k, val) = v.split_once('=').unwrap_or((v.as_str(), ""));
                let exists = current
                    .iter()
                    .any(|e| e.split_once('=').map(|p| p.0) == Some(k));
                if exists && !replace {
                    continue;
                }
                set.push(format!("{k}={val}"));
            }
            mgr.set_environment(&[], &set);
        } else {
            let current = mgr.engine().environment().to_vec();
            if current.is_empty() {
                let n = names.first().cloned().unwrap_or_default();
                return Err(err(INVALID_ARGS, format!("No such variable: {n}")));
            }
            mgr.set_environment(&names, &[]);
        }
        reply(msg, &())
    }

    /// Answer the EmitEvent callers waiting for `event`.
    fn finish_event(&mut self, event: EventId, failed: bool) {
        let mut i = 0;
        while i < self.pending_events.len() {
            if self.pending_events[i].0 != event {
                i += 1;
                continue;
            }
            let (_, conn, call) = self.pending_events.remove(i);
            let hdr = call.header();
            let msg = if failed {
                upstart_err("EventFailed", "Event failed")
                    .reply_to(&hdr)
                    .ok()
            } else {
                Message::method_return(&hdr).build(&()).ok()
            };
            if let Some(m) = msg {
                self.replies.push((conn, m));
            }
        }
    }

    /// Answer every pending `wait=true` call on `unit` with success (its command was
    /// superseded).
    fn release_waiters(&mut self, unit: UnitId) {
        let mut i = 0;
        while i < self.pending.len() {
            if self.pending[i].unit != unit {
                i += 1;
                continue;
            }
            let p = self.pending.remove(i);
            if let Some(m) = success_reply(&p) {
                self.replies.push((p.conn, m));
            }
        }
    }

    fn finish_pending(&mut self, mgr: &Manager, job: JobId, unit: UnitId, result: JobResult) {
        let mut i = 0;
        while i < self.pending.len() {
            if self.pending[i].job != job {
                i += 1;
                continue;
            }
            let p = self.pending.swap_remove(i);
            let hdr = p.call.header();
            let failed = result != JobResult::Done
                || (p.kind != WaitKind::Stop
                    && !is_task(mgr, unit)
                    && goal_state(mgr, unit).1 != "running");
            let msg = if failed {
                let text = match p.kind {
                    WaitKind::Start => "Job failed to start",
                    WaitKind::Stop => "Job failed while stopping",
                    WaitKind::Restart => "Job failed to restart",
                };
                upstart_err("JobFailed", text).reply_to(&hdr).ok()
            } else {
                success_reply(&p)
            };
            if let Some(m) = msg {
                self.replies.push((p.conn, m));
            }
        }
    }
}

/// The successful answer to a pending call: the instance path (Job.Start/Restart) or nothing.
fn success_reply(p: &Pending) -> Option<Message> {
    let hdr = p.call.header();
    match &p.reply_path {
        Some(path) => zbus::ObjectPath::try_from(path.as_str())
            .ok()
            .and_then(|o| Message::method_return(&hdr).build(&(o,)).ok()),
        None => Message::method_return(&hdr).build(&()).ok(),
    }
}

/// The job instance the env methods' `job_details` name: `[]` → the global table (`None`);
/// `[job, instance]` → that live instance, with Upstart's errors (`UnknownJob`,
/// `UnknownJobInstance`; a one-element array names instance `(null)`).
fn env_target(mgr: &mut Manager, details: &[String]) -> Result<Option<UnitId>, CallError> {
    let Some(job) = details.first() else {
        return Ok(None);
    };
    if job.is_empty() {
        return Err(err(INVALID_ARGS, "Job may not be empty string"));
    }
    let Some(class) = find_job(mgr, job) else {
        return Err(upstart_err("UnknownJob", format!("Unknown job: {job}")));
    };
    let unknown = |inst: &str| {
        CallError::new(
            "com.ubuntu.Upstart0_6.Error.UnknownJobInstance",
            format!("Unknown instance: {inst} of job {job}"),
        )
    };
    let Some(inst) = details.get(1) else {
        return Err(unknown("(null)"));
    };
    instance_unit(mgr, class, inst)
        .filter(|u| goal_state(mgr, *u).1 != "waiting")
        .map(Some)
        .ok_or_else(|| unknown(inst))
}

/// Whether this process is PID 1 (Upstart refuses or ignores some calls as PID 1).
fn is_pid1() -> bool {
    std::process::id() == 1
}

fn permission_denied(msg: &str) -> CallError {
    CallError::new("com.ubuntu.Upstart0_6.Error.PermissionDenied", msg)
}

fn check_env(env: &[String]) -> Result<(), CallError> {
    if env.iter().any(|e| !e.contains('=')) {
        return Err(err(INVALID_ARGS, "Env must be KEY=VALUE pairs"));
    }
    Ok(())
}

fn signal<B: serde::Serialize + zbus::wire::DynamicType>(
    path: &str,
    iface: &str,
    member: &str,
    body: &B,
) -> zbus::Result<Message> {
    let p = zbus::ObjectPath::try_from(path)?;
    Message::signal(p, iface, member).build(body)
}
