//! The runtime record of one unit: its loaded spec plus everything that changes while it runs
//! (states, PIDs, results, timestamps, counters). Read by façades through [`Engine::unit`]
//! (`super::Engine::unit`); written only by the engine.

use serde::{Deserialize, Serialize};

use crate::spec::{DepKind, LoadedUnit};

use super::types::{ActiveState, ExecPhase, JobId, ServiceResult, ServiceState, Timestamp, UnitId};

/// Timestamps of the last transitions (`*Timestamp`/`*TimestampMonotonic` properties).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct UnitTimestamps {
    pub state_change: Timestamp,
    pub inactive_exit: Timestamp,
    pub active_enter: Timestamp,
    pub active_exit: Timestamp,
    pub inactive_enter: Timestamp,
    pub condition: Timestamp,
    pub assert: Timestamp,
}

/// Last run of one command (`Exec*` property tuples).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct ExecRun {
    pub pid: u32,
    pub start: Timestamp,
    pub exit: Timestamp,
    /// CLD_EXITED=1, CLD_KILLED=2, CLD_DUMPED=3; 0 while running / never ran.
    pub code: i32,
    pub status: i32,
}

/// Service-specific runtime state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceRuntime {
    pub state: ServiceState,
    pub result: ServiceResult,
    pub reload_result: ServiceResult,
    pub main_pid: Option<u32>,
    pub control_pid: Option<u32>,
    /// `ExecMain*`: the main process's last run.
    pub exec_main: ExecRun,
    pub n_restarts: u32,
    pub status_text: String,
    pub status_errno: i32,
    /// Last run of each command, per phase, parallel to the spec's lists.
    pub exec_runs: [Vec<ExecRun>; 7],
    /// Which phase/command the control process is running.
    pub(crate) control_command: Option<(ExecPhase, usize)>,
    /// Which `ExecStart=` command the main process runs (oneshot runs several in turn).
    pub(crate) main_command: usize,
    /// The spawn we are waiting to hear about: (token, role, phase, command index).
    pub(crate) pending: Option<(u64, super::io::ProcessRole, ExecPhase, usize)>,
    /// Processes of the unit still alive besides main/control (from the supervisor).
    pub(crate) others_remaining: u32,
    /// Start rate limit window: (begin monotonic µs, starts counted in it).
    pub(crate) start_window: (u64, u32),
    /// Reset `n_restarts` at the next start (set when the unit went down for good).
    pub(crate) flush_n_restarts: bool,
    /// The pending state timer, if any: (deadline monotonic µs, kind).
    pub(crate) timer: Option<(u64, super::service::TimerKind)>,
    /// `Spawned` said the exec failed (Type=exec waits for this).
    pub(crate) exec_failed: bool,
    /// A manual stop: never restart after it.
    pub(crate) forbid_restart: bool,
    /// Result of the main process to report in `$EXIT_CODE`/`$EXIT_STATUS`.
    pub(crate) main_exit: Option<super::types::ExitStatus>,
    /// The stop sequence was entered on behalf of a restart job.
    pub(crate) restarting: bool,
    /// The last of READY/RELOADING/STOPPING the service sent this run.
    pub(crate) notify_state: Option<super::notify::NotifyState>,
    /// `WatchdogSec=` captured at start (µs, 0 = off).
    pub(crate) watchdog_original_usec: u64,
    /// `WATCHDOG_USEC=` sent by the service this run.
    pub(crate) watchdog_override_usec: Option<u64>,
    /// The armed watchdog deadline (monotonic µs).
    pub(crate) watchdog_deadline: Option<u64>,
    /// A forking service's `PIDFile=` was missing when the start process exited: when to
    /// read it again (monotonic µs; systemd waits for it with inotify until the start timeout).
    #[serde(default)]
    pub(crate) pid_file_retry: Option<u64>,
    /// Last watchdog ping (`WatchdogTimestamp`).
    pub watchdog_timestamp: super::types::Timestamp,
    /// Notifications dropped for this unit (unauthorized sender, …), for logs and tests.
    pub notify_rejected: u64,
    /// When the last `Type=notify-reload` reload began (monotonic µs): its `RELOADING=1`
    /// must carry a `MONOTONIC_USEC=` at or after this.
    #[serde(default)]
    pub(crate) reload_begin_usec: u64,
    /// The service's `BusName=` has an owner on the bus (`Type=dbus` is ready once it has).
    #[serde(default)]
    pub bus_name_good: bool,
}

impl ServiceRuntime {
    /// The watchdog timeout in force (µs, 0 = off): `WATCHDOG_USEC=` override, else
    /// `WatchdogSec=` as captured at start.
    pub fn effective_watchdog_usec(&self) -> u64 {
        self.watchdog_override_usec
            .unwrap_or(self.watchdog_original_usec)
    }
}

impl Default for ServiceRuntime {
    fn default() -> Self {
        ServiceRuntime {
            state: ServiceState::Dead,
            result: ServiceResult::Success,
            reload_result: ServiceResult::Success,
            main_pid: None,
            control_pid: None,
            exec_main: ExecRun::default(),
            n_restarts: 0,
            status_text: String::new(),
            status_errno: 0,
            exec_runs: Default::default(),
            control_command: None,
            main_command: 0,
            pending: None,
            others_remaining: 0,
            start_window: (0, 0),
            flush_n_restarts: false,
            timer: None,
            exec_failed: false,
            forbid_restart: false,
            main_exit: None,
            restarting: false,
            notify_state: None,
            watchdog_original_usec: 0,
            watchdog_override_usec: None,
            watchdog_deadline: None,
            pid_file_retry: None,
            watchdog_timestamp: super::types::Timestamp::default(),
            notify_rejected: 0,
            reload_begin_usec: 0,
            bus_name_good: false,
        }
    }
}

/// One unit as the engine keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unit {
    pub id: UnitId,
    /// Name, aliases, load state, file paths, diagnostics and the spec.
    pub loaded: LoadedUnit,
    pub active_state: ActiveState,
    pub timestamps: UnitTimestamps,
    /// The installed job, if any.
    pub job: Option<JobId>,
    /// `InvocationID`: new per activation cycle; all zero before the first start.
    pub invocation_id: [u8; 16],
    /// `ConditionResult` of the last start attempt.
    pub condition_result: bool,
    /// `AssertResult` of the last start attempt.
    pub assert_result: bool,
    /// Per `Condition*=`: 1 held, -1 failed, 0 not evaluated (the `Conditions` property).
    pub condition_states: Vec<i32>,
    /// Per `Assert*=`, like `condition_states`.
    pub assert_states: Vec<i32>,
    /// Conditions were checked for the start job now running.
    pub(crate) conditions_checked: bool,
    /// Service state (default for other types).
    pub service: ServiceRuntime,
    /// Scope state (default for other types).
    #[serde(default)]
    pub scope: super::scope::ScopeRuntime,
    /// Socket state (default for other types).
    #[serde(default)]
    pub socket: super::socket::SocketRuntime,
    /// Timer state (default for other types).
    #[serde(default)]
    pub timer: super::timer::TimerRuntime,
    /// Mount state (default for other types).
    #[serde(default)]
    pub mount: super::mount::MountRuntime,
    /// Target and other non-service units: whether active.
    pub(crate) simple_active: bool,
    /// Resolved dependency edges (forward and reverse), by kind.
    pub(crate) edges: Vec<(DepEdge, UnitId)>,
    /// Clients holding a reference (`Ref()`/`AddRef`), maintained by the runtime.
    pub refs: u32,
    /// Set when this unit was found to be an alias of another and merged into it.
    pub(crate) merged_into: Option<UnitId>,
    /// Pending `UnitChanged` (coalescing).
    pub(crate) dirty: bool,
    /// Garbage-collected: a tombstone that keeps the id from being reused.
    #[serde(default)]
    pub(crate) removed: bool,
}

/// A resolved dependency edge: forward kinds from the spec plus derived reverse kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DepEdge {
    Forward(DepKind),
    /// `RequiredBy`, `WantedBy`, … : the reverse of a forward kind.
    Reverse(DepKind),
}

impl DepEdge {
    /// The D-Bus property name of this edge list (`Requires`, `RequiredBy`, `TriggeredBy`…);
    /// `None` for edges systemd does not expose.
    pub fn property(self) -> Option<&'static str> {
        use DepKind::*;
        Some(match self {
            DepEdge::Forward(k) => k.key(),
            DepEdge::Reverse(k) => match k {
                Requires => "RequiredBy",
                Requisite => "RequisiteOf",
                Wants => "WantedBy",
                BindsTo => "BoundBy",
                PartOf => "ConsistsOf",
                Upholds => "UpheldBy",
                Conflicts => "ConflictedBy",
                Before => "After",
                After => "Before",
                OnFailure => "OnFailureOf",
                OnSuccess => "OnSuccessOf",
                PropagatesReloadTo => "ReloadPropagatedFrom",
                ReloadPropagatedFrom => "PropagatesReloadTo",
                PropagatesStopTo => "StopPropagatedFrom",
                StopPropagatedFrom => "PropagatesStopTo",
                JoinsNamespaceOf => "JoinsNamespaceOf",
            },
        })
    }

    /// The equivalent forward kind as seen from the other unit (reverse `Before` is `After`…),
    /// for symmetric kinds; otherwise `None`.
    pub fn as_forward(self) -> Option<DepKind> {
        use DepKind::*;
        match self {
            DepEdge::Forward(k) => Some(k),
            DepEdge::Reverse(Before) => Some(After),
            DepEdge::Reverse(After) => Some(Before),
            DepEdge::Reverse(Conflicts) => Some(Conflicts),
            DepEdge::Reverse(PropagatesReloadTo) => Some(ReloadPropagatedFrom),
            DepEdge::Reverse(ReloadPropagatedFrom) => Some(PropagatesReloadTo),
            DepEdge::Reverse(PropagatesStopTo) => Some(StopPropagatedFrom),
            DepEdge::Reverse(StopPropagatedFrom) => Some(PropagatesStopTo),
            _ => None,
        }
    }
}

impl Unit {
    /// A fresh record for `loaded`: inactive, never started, no edges.
    pub(crate) fn new(id: UnitId, loaded: LoadedUnit) -> Unit {
        Unit {
            id,
            loaded,
            active_state: ActiveState::Inactive,
            timestamps: UnitTimestamps::default(),
            job: None,
            invocation_id: [0; 16],
            condition_result: false,
            assert_result: false,
            condition_states: Vec::new(),
            assert_states: Vec::new(),
            conditions_checked: false,
            service: ServiceRuntime::default(),
            scope: Default::default(),
            socket: Default::default(),
            timer: Default::default(),
            mount: Default::default(),
            simple_active: false,
            edges: Vec::new(),
            refs: 0,
            merged_into: None,
            dirty: false,
            removed: false,
        }
    }

    /// Primary name.
    pub fn name(&self) -> &str {
        &self.loaded.name
    }

    /// `SubState` string.
    pub fn sub_state(&self) -> &'static str {
        match self.loaded.spec.kind {
            crate::spec::KindSpec::Service(_) => self.service.state.as_str(),
            crate::spec::KindSpec::Socket(_) => self.socket.state.as_str(),
            crate::spec::KindSpec::Timer(_) => self.timer.state.as_str(),
            crate::spec::KindSpec::Mount(_) => self.mount.state.as_str(),
            _ if self.is_scope() => self.scope.state.as_str(),
            _ => {
                if self.simple_active {
                    "active"
                } else if self.active_state == ActiveState::Failed {
                    "failed"
                } else {
                    "dead"
                }
            }
        }
    }

    /// `Description`, falling back to the name like systemd.
    pub fn description(&self) -> &str {
        if self.loaded.spec.description.is_empty() {
            &self.loaded.name
        } else {
            &self.loaded.spec.description
        }
    }

    /// Names of units on the other side of edges with this D-Bus property name, deduplicated
    /// in first-seen order.
    pub fn dependency_names<'a>(
        &'a self,
        engine: &'a super::Engine,
        property: &str,
    ) -> Vec<&'a str> {
        let mut out: Vec<&str> = Vec::new();
        for (edge, other) in &self.edges {
            if edge.property() == Some(property) {
                let n = engine.unit(*other).name();
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        out
    }

    /// Whether this is a scope unit (`.scope`; no unit-file settings of its own).
    pub fn is_scope(&self) -> bool {
        matches!(self.loaded.spec.kind, crate::spec::KindSpec::Other(_))
            && self.loaded.name.ends_with(".scope")
    }

    /// Whether this is a slice unit.
    pub fn is_slice(&self) -> bool {
        matches!(self.loaded.spec.kind, crate::spec::KindSpec::Other(_))
            && self.loaded.name.ends_with(".slice")
    }

    /// Whether this is a timer unit.
    pub fn is_timer(&self) -> bool {
        matches!(self.loaded.spec.kind, crate::spec::KindSpec::Timer(_))
    }

    /// Whether this is a mount unit.
    pub fn is_mount(&self) -> bool {
        matches!(self.loaded.spec.kind, crate::spec::KindSpec::Mount(_))
    }

    /// Whether this is a service unit.
    pub fn is_service(&self) -> bool {
        matches!(self.loaded.spec.kind, crate::spec::KindSpec::Service(_))
    }
}
