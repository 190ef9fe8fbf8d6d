//! The engine's vocabulary: ids, time, unit and job states, results — systemd's words, with the
//! exact strings clients see (`as_str`). Pure tables; façades map these to wire strings by
//! calling `as_str`, never by re-spelling them.

use serde::{Deserialize, Serialize};

/// Index of a unit inside the engine (stable for the unit's lifetime).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnitId(pub u32);

/// A job id as clients see it (`/org/freedesktop/systemd1/job/<id>`); increases over the
/// manager's lifetime, first is 1.
pub type JobId = u32;

/// A point in time, both clocks, microseconds. `Timestamp::NEVER` (both 0) means "not yet".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Timestamp {
    /// CLOCK_REALTIME in µs since the epoch.
    pub realtime: u64,
    /// CLOCK_MONOTONIC in µs.
    pub monotonic: u64,
}

impl Timestamp {
    /// "Never happened".
    pub const NEVER: Timestamp = Timestamp {
        realtime: 0,
        monotonic: 0,
    };

    /// This time plus `usec` (saturating; `USEC_INFINITY` stays infinite).
    pub fn plus(self, usec: u64) -> Timestamp {
        Timestamp {
            realtime: self.realtime.saturating_add(usec),
            monotonic: self.monotonic.saturating_add(usec),
        }
    }
}

/// `ActiveState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActiveState {
    Active,
    Reloading,
    Inactive,
    Failed,
    Activating,
    Deactivating,
    Maintenance,
}

impl ActiveState {
    /// The systemd string.
    pub fn as_str(self) -> &'static str {
        match self {
            ActiveState::Active => "active",
            ActiveState::Reloading => "reloading",
            ActiveState::Inactive => "inactive",
            ActiveState::Failed => "failed",
            ActiveState::Activating => "activating",
            ActiveState::Deactivating => "deactivating",
            ActiveState::Maintenance => "maintenance",
        }
    }

    /// active or reloading.
    pub fn is_active_or_reloading(self) -> bool {
        matches!(self, ActiveState::Active | ActiveState::Reloading)
    }

    /// inactive or failed.
    pub fn is_inactive_or_failed(self) -> bool {
        matches!(self, ActiveState::Inactive | ActiveState::Failed)
    }
}

/// Service sub-states of systemd 252 (`service_state_table`), plus systemd 253's
/// `reload-signal`/`reload-notify` of `Type=notify-reload`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceState {
    Dead,
    Condition,
    StartPre,
    Start,
    StartPost,
    Running,
    Exited,
    Reload,
    /// `Type=notify-reload`: the reload signal was sent; waiting for `RELOADING=1` (253).
    ReloadSignal,
    /// `Type=notify-reload`: `RELOADING=1` arrived; waiting for `READY=1` (253).
    ReloadNotify,
    Stop,
    StopWatchdog,
    StopSigterm,
    StopSigkill,
    StopPost,
    FinalWatchdog,
    FinalSigterm,
    FinalSigkill,
    Failed,
    AutoRestart,
    Cleaning,
}

impl ServiceState {
    /// The systemd SubState string.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceState::Dead => "dead",
            ServiceState::Condition => "condition",
            ServiceState::StartPre => "start-pre",
            ServiceState::Start => "start",
            ServiceState::StartPost => "start-post",
            ServiceState::Running => "running",
            ServiceState::Exited => "exited",
            ServiceState::Reload => "reload",
            ServiceState::ReloadSignal => "reload-signal",
            ServiceState::ReloadNotify => "reload-notify",
            ServiceState::Stop => "stop",
            ServiceState::StopWatchdog => "stop-watchdog",
            ServiceState::StopSigterm => "stop-sigterm",
            ServiceState::StopSigkill => "stop-sigkill",
            ServiceState::StopPost => "stop-post",
            ServiceState::FinalWatchdog => "final-watchdog",
            ServiceState::FinalSigterm => "final-sigterm",
            ServiceState::FinalSigkill => "final-sigkill",
            ServiceState::Failed => "failed",
            ServiceState::AutoRestart => "auto-restart",
            ServiceState::Cleaning => "cleaning",
        }
    }

    /// `state_translation_table` (idle services map condition…start-post to active).
    pub fn active_state(self, idle: bool) -> ActiveState {
        use ServiceState::*;
        match self {
            Dead => ActiveState::Inactive,
            Condition | StartPre | Start | StartPost => {
                if idle {
                    ActiveState::Active
                } else {
                    ActiveState::Activating
                }
            }
            Running | Exited => ActiveState::Active,
            Reload | ReloadSignal | ReloadNotify => ActiveState::Reloading,
            Stop | StopWatchdog | StopSigterm | StopSigkill | StopPost | FinalWatchdog
            | FinalSigterm | FinalSigkill => ActiveState::Deactivating,
            Failed => ActiveState::Failed,
            AutoRestart => ActiveState::Activating,
            Cleaning => ActiveState::Maintenance,
        }
    }
}

/// Service `Result` (also `$SERVICE_RESULT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceResult {
    Success,
    Resources,
    Protocol,
    Timeout,
    ExitCode,
    Signal,
    CoreDump,
    Watchdog,
    StartLimitHit,
    OomKill,
    SkipCondition,
}

impl ServiceResult {
    /// The systemd string.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceResult::Success => "success",
            ServiceResult::Resources => "resources",
            ServiceResult::Protocol => "protocol",
            ServiceResult::Timeout => "timeout",
            ServiceResult::ExitCode => "exit-code",
            ServiceResult::Signal => "signal",
            ServiceResult::CoreDump => "core-dump",
            ServiceResult::Watchdog => "watchdog",
            ServiceResult::StartLimitHit => "start-limit-hit",
            ServiceResult::OomKill => "oom-kill",
            ServiceResult::SkipCondition => "exec-condition",
        }
    }
}

/// Job types (`JobType`), including the collapsing ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JobType {
    Start,
    VerifyActive,
    Stop,
    Reload,
    Restart,
    TryRestart,
    TryReload,
    ReloadOrStart,
    Nop,
}

impl JobType {
    /// The systemd string.
    pub fn as_str(self) -> &'static str {
        match self {
            JobType::Start => "start",
            JobType::VerifyActive => "verify-active",
            JobType::Stop => "stop",
            JobType::Reload => "reload",
            JobType::Restart => "restart",
            JobType::TryRestart => "try-restart",
            JobType::TryReload => "try-reload",
            JobType::ReloadOrStart => "reload-or-start",
            JobType::Nop => "nop",
        }
    }

    /// Parse a systemd job type string.
    pub fn from_str_opt(s: &str) -> Option<JobType> {
        Some(match s {
            "start" => JobType::Start,
            "verify-active" => JobType::VerifyActive,
            "stop" => JobType::Stop,
            "reload" => JobType::Reload,
            "restart" => JobType::Restart,
            "try-restart" => JobType::TryRestart,
            "try-reload" => JobType::TryReload,
            "reload-or-start" => JobType::ReloadOrStart,
            "nop" => JobType::Nop,
            _ => return None,
        })
    }
}

/// Job modes (the second argument of `StartUnit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobMode {
    Replace,
    Fail,
    ReplaceIrreversibly,
    Isolate,
    Flush,
    IgnoreDependencies,
    IgnoreRequirements,
    Triggering,
}

impl JobMode {
    /// Parse the mode string; `None` for anything systemd rejects.
    pub fn from_str_opt(s: &str) -> Option<JobMode> {
        Some(match s {
            "replace" => JobMode::Replace,
            "fail" => JobMode::Fail,
            "replace-irreversibly" => JobMode::ReplaceIrreversibly,
            "isolate" => JobMode::Isolate,
            "flush" => JobMode::Flush,
            "ignore-dependencies" => JobMode::IgnoreDependencies,
            "ignore-requirements" => JobMode::IgnoreRequirements,
            "triggering" => JobMode::Triggering,
            _ => return None,
        })
    }
}

/// Job state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobState {
    Waiting,
    Running,
}

impl JobState {
    /// The systemd string.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Waiting => "waiting",
            JobState::Running => "running",
        }
    }
}

/// How a job ended (`JobRemoved`'s last argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobResult {
    Done,
    Canceled,
    Timeout,
    Failed,
    Dependency,
    Skipped,
    Invalid,
    Assert,
    Unsupported,
    Collected,
    Once,
}

impl JobResult {
    /// The systemd string.
    pub fn as_str(self) -> &'static str {
        match self {
            JobResult::Done => "done",
            JobResult::Canceled => "canceled",
            JobResult::Timeout => "timeout",
            JobResult::Failed => "failed",
            JobResult::Dependency => "dependency",
            JobResult::Skipped => "skipped",
            JobResult::Invalid => "invalid",
            JobResult::Assert => "assert",
            JobResult::Unsupported => "unsupported",
            JobResult::Collected => "collected",
            JobResult::Once => "once",
        }
    }
}

pub use crate::spec::ExecPhase;

/// How a process ended (`si_code` + status), as the reaper reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExitStatus {
    /// Normal exit with this code (CLD_EXITED).
    Exited(i32),
    /// Killed by this signal (CLD_KILLED).
    Killed(i32),
    /// Killed by this signal and dumped core (CLD_DUMPED).
    Dumped(i32),
}

impl ExitStatus {
    /// `ExecMainCode` value: CLD_EXITED=1, CLD_KILLED=2, CLD_DUMPED=3.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(_) => 1,
            ExitStatus::Killed(_) => 2,
            ExitStatus::Dumped(_) => 3,
        }
    }

    /// `ExecMainStatus` value: exit code or signal number.
    pub fn status(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => c,
            ExitStatus::Killed(s) | ExitStatus::Dumped(s) => s,
        }
    }
}

pub use crate::spec::linux::signal_name;
