//! Pure mapping of engine states onto Upstart's goal × state vocabulary (`init/job.c`), so a
//! systemd service is also an Upstart job instance and the other way round.

use crate::engine::{ActiveState, JobType};

/// Upstart goal for a unit: a pending job decides; otherwise the active state does.
pub fn goal(active: ActiveState, pending: Option<JobType>) -> &'static str {
    match pending {
        Some(JobType::Stop) => "stop",
        Some(JobType::Start | JobType::Restart | JobType::TryRestart | JobType::ReloadOrStart) => {
            "start"
        }
        _ => match active {
            ActiveState::Active | ActiveState::Reloading | ActiveState::Activating => "start",
            _ => "stop",
        },
    }
}

/// Upstart state for a service `SubState` (systemd's `ServiceState` string) and goal.
pub fn state(sub_state: &str, goal: &str) -> &'static str {
    let s = match sub_state {
        "condition" => "starting",
        "start-pre" => "pre-start",
        "start" => "spawned",
        "start-post" => "post-start",
        "running" | "exited" | "reload" | "reload-signal" | "reload-notify" => "running",
        "stop" => "pre-stop",
        "stop-sigterm" | "stop-sigkill" | "stop-watchdog" | "final-sigterm" | "final-sigkill"
        | "final-watchdog" => "killed",
        "stop-post" | "auto-restart" => "post-stop",
        _ => "waiting",
    };
    if s == "waiting" && goal == "start" {
        "starting"
    } else {
        s
    }
}

/// The Upstart name of the process a service's control PID runs in `sub_state`.
pub fn control_process_name(sub_state: &str) -> &'static str {
    match sub_state {
        "start-pre" | "condition" => "pre-start",
        "start" => "main",
        "start-post" => "post-start",
        "stop" => "pre-stop",
        _ => "post-stop",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert_eq!(goal(ActiveState::Inactive, None), "stop");
        assert_eq!(goal(ActiveState::Inactive, Some(JobType::Start)), "start");
        assert_eq!(goal(ActiveState::Active, Some(JobType::Stop)), "stop");
        assert_eq!(goal(ActiveState::Active, None), "start");
        assert_eq!(state("dead", "stop"), "waiting");
        assert_eq!(state("dead", "start"), "starting");
        assert_eq!(state("failed", "stop"), "waiting");
        assert_eq!(state("running", "start"), "running");
        assert_eq!(state("exited", "start"), "running");
        assert_eq!(state("start-pre", "start"), "pre-start");
        assert_eq!(state("stop-sigterm", "stop"), "killed");
        assert_eq!(state("stop-post", "stop"), "post-stop");
        assert_eq!(control_process_name("stop-post"), "post-stop");
    }
}
