//! [`Manager`]: the synchronous core the façades call into — engine + loader + supervisor.
#![allow(unused_variables)]

use crate::engine::{Engine, EnqueueError, JobId, JobType, KillWhom, Timestamp, UnitId};
use crate::settings::Settings;
use crate::spec::UnitNameError;

/// The manager. Façades get `&mut Manager` while handling one call.
pub struct Manager {
    settings: Settings,
    engine: Engine,
}

impl Manager {
    /// Read-only view of the engine (units, jobs, environment).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
    /// Daemon settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
    /// The current time (both clocks).
    pub fn now(&self) -> Timestamp {
        todo!()
    }
    /// When the manager started (`UserspaceTimestamp`…).
    pub fn start_time(&self) -> Timestamp {
        todo!()
    }
    /// Load `name` (and what it references) if not loaded yet: systemd's on-demand loading when
    /// a client touches a unit. A name without a file yields a `not-found` unit.
    pub fn load_unit(&mut self, name: &str) -> Result<UnitId, UnitNameError> {
        todo!()
    }
    /// `StartUnit` & co.: load `name`, then enqueue. `mode` is the client's string.
    pub fn enqueue(
        &mut self,
        name: &str,
        job_type: JobType,
        mode: &str,
    ) -> Result<JobId, EnqueueError> {
        todo!()
    }
    /// `CancelJob`.
    pub fn cancel_job(&mut self, job: JobId) -> Result<(), EnqueueError> {
        todo!()
    }
    /// `KillUnit`.
    pub fn kill_unit(
        &mut self,
        name: &str,
        whom: KillWhom,
        signal: i32,
    ) -> Result<(), EnqueueError> {
        todo!()
    }
    /// `ResetFailedUnit` / `ResetFailed`.
    pub fn reset_failed(&mut self, name: Option<&str>) -> Result<(), EnqueueError> {
        todo!()
    }
    /// `SetEnvironment` & co.
    pub fn set_environment(&mut self, unset: &[String], set: &[String]) {
        todo!()
    }
    /// `Reload` (daemon-reload): re-read every unit file, keep runtime state.
    pub fn reload(&mut self) {
        todo!()
    }
    /// Adjust the count of client references on `unit` by `delta` (`Ref()`/`Unref()`/`RefUnit`,
    /// released when the client disconnects); a referenced unit is not garbage-collected.
    pub fn unit_ref(&mut self, unit: UnitId, delta: i32) {
        todo!()
    }
}
