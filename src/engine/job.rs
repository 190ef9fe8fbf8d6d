//! Jobs: the request to bring a unit to a state, with systemd's type collapsing and merge rules.

use serde::{Deserialize, Serialize};

use super::types::{JobId, JobMode, JobState, JobType, UnitId};

/// An installed job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub unit: UnitId,
    pub job_type: JobType,
    pub state: JobState,
    pub(crate) mode: JobMode,
    /// Requested by a client (not pulled in as a dependency).
    pub(crate) anchor: bool,
    /// `replace-irreversibly`.
    pub(crate) irreversible: bool,
    /// Jobs that fail this one with `dependency` when they fail (required-by relation).
    pub(crate) required_by: Vec<JobId>,
}
