//! Why a job request was refused. The systemd façade maps each variant to systemd's D-Bus error
//! name (`org.freedesktop.systemd1.<Variant>`); messages follow systemd's wording.

use thiserror::Error;

/// Refusal of [`super::Engine::enqueue`] and friends.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EnqueueError {
    /// `org.freedesktop.systemd1.NoSuchUnit`, e.g. "Unit x.service not found."
    #[error("{0}")]
    NoSuchUnit(String),
    /// `org.freedesktop.systemd1.LoadFailed` (LoadState=error).
    #[error("{0}")]
    LoadFailed(String),
    /// `org.freedesktop.systemd1.BadUnitSetting` (LoadState=bad-setting).
    #[error("{0}")]
    BadUnitSetting(String),
    /// `org.freedesktop.systemd1.UnitMasked`, "Unit x.service is masked."
    #[error("{0}")]
    UnitMasked(String),
    /// `org.freedesktop.systemd1.JobTypeNotApplicable`.
    #[error("{0}")]
    JobTypeNotApplicable(String),
    /// `org.freedesktop.systemd1.OnlyByDependency` (RefuseManualStart/Stop).
    #[error("{0}")]
    OnlyByDependency(String),
    /// `org.freedesktop.systemd1.NoIsolation`.
    #[error("{0}")]
    NoIsolation(String),
    /// `org.freedesktop.systemd1.TransactionIsDestructive` (mode fail vs. a pending job).
    #[error("{0}")]
    TransactionIsDestructive(String),
    /// `org.freedesktop.systemd1.TransactionOrderIsCyclic`.
    #[error("{0}")]
    TransactionOrderIsCyclic(String),
    /// `org.freedesktop.DBus.Error.InvalidArgs` (unknown mode, invalid name).
    #[error("{0}")]
    InvalidArgs(String),
    /// `org.freedesktop.systemd1.NoSuchJob`.
    #[error("{0}")]
    NoSuchJob(String),
    /// `org.freedesktop.systemd1.NoSuchProcess` (KillUnit with no such process).
    #[error("{0}")]
    NoSuchProcess(String),
}

impl EnqueueError {
    /// The D-Bus error name systemd uses for this refusal.
    pub fn dbus_name(&self) -> &'static str {
        match self {
            EnqueueError::NoSuchUnit(_) => "org.freedesktop.systemd1.NoSuchUnit",
            EnqueueError::LoadFailed(_) => "org.freedesktop.systemd1.LoadFailed",
            EnqueueError::BadUnitSetting(_) => "org.freedesktop.systemd1.BadUnitSetting",
            EnqueueError::UnitMasked(_) => "org.freedesktop.systemd1.UnitMasked",
            EnqueueError::JobTypeNotApplicable(_) => {
                "org.freedesktop.systemd1.JobTypeNotApplicable"
            }
            EnqueueError::OnlyByDependency(_) => "org.freedesktop.systemd1.OnlyByDependency",
            EnqueueError::NoIsolation(_) => "org.freedesktop.systemd1.NoIsolation",
            EnqueueError::TransactionIsDestructive(_) => {
                "org.freedesktop.systemd1.TransactionIsDestructive"
            }
            EnqueueError::TransactionOrderIsCyclic(_) => {
                "org.freedesktop.systemd1.TransactionOrderIsCyclic"
            }
            EnqueueError::InvalidArgs(_) => "org.freedesktop.DBus.Error.InvalidArgs",
            EnqueueError::NoSuchJob(_) => "org.freedesktop.systemd1.NoSuchJob",
            EnqueueError::NoSuchProcess(_) => "org.freedesktop.systemd1.NoSuchProcess",
        }
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        match self {
            EnqueueError::NoSuchUnit(m)
            | EnqueueError::LoadFailed(m)
            | EnqueueError::BadUnitSetting(m)
            | EnqueueError::UnitMasked(m)
            | EnqueueError::JobTypeNotApplicable(m)
            | EnqueueError::OnlyByDependency(m)
            | EnqueueError::NoIsolation(m)
            | EnqueueError::TransactionIsDestructive(m)
            | EnqueueError::TransactionOrderIsCyclic(m)
            | EnqueueError::InvalidArgs(m)
            | EnqueueError::NoSuchJob(m)
            | EnqueueError::NoSuchProcess(m) => m,
        }
    }
}
