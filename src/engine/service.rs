//! Service state machine (systemd `service.c` naming: enter_start_pre, enter_running, …).

use serde::{Deserialize, Serialize};

/// What a pending timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimerKind {
    /// The state's timeout (start, stop, kill phases).
    StateTimeout,
    /// RestartSec elapsed in auto-restart.
    AutoRestart,
    /// RuntimeMaxSec elapsed.
    RuntimeMax,
    /// JobTimeoutSec elapsed.
    JobTimeout,
}
