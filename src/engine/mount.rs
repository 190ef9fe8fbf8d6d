//! The mount unit state machine (systemd's `mount.c`, the part a manager that does not follow
//! `/proc/self/mountinfo` on its own can run): a start asks the runtime whether `Where=` is a
//! mount point already ([`Effect::CheckMountPoint`], which also creates the directory), and
//! either is `mounted` at once or runs the stock `mount` as the unit's control process; a stop
//! runs `umount` the same way. When the control process is gone, the mount table decides
//! again, as in systemd: `mount` exiting 0 without a mount is `protocol`, a failed one that
//! mounted anyway leaves the unit `mounted`, `umount` is repeated while stacked mounts remain.
//! The engine never looks at the file system: the runtime answers with
//! [`super::Input::MountPointChecked`] and reports the control process like any other.

use serde::{Deserialize, Serialize};

use crate::spec::linux::{SIGKILL, SIGTERM};
use crate::spec::{ExecCommand, ExecContext, ExecFlags, KindSpec, MountSpec, USEC_INFINITY};

use super::Engine;
use super::io::{Effect, KillRequest, ProcessRole, SpawnRequest, SpawnToken};
use super::job::Outcome;
use super::service::TimerKind;
use super::types::{ActiveState, ExecPhase, ExitStatus, Timestamp, UnitId};
use super::unit::ExecRun;

/// The `mount` binary systemd runs (util-linux).
pub const MOUNT_PATH: &str = "/bin/mount";
/// The `umount` binary systemd runs (util-linux).
pub const UMOUNT_PATH: &str = "/bin/umount";
/// How often a stop runs `umount` while `Where=` stays a mount point (systemd's
/// `RETRY_UMOUNT_MAX`).
const RETRY_UMOUNT_MAX: u32 = 32;

/// Mount sub-states (the subset of systemd 252's `mount_state_table` unitd enters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum MountState {
    #[default]
    Dead,
    Mounting,
    Mounted,
    Unmounting,
    /// The control process did not finish in time and was sent SIGTERM.
    MountingSigterm,
    /// … and then SIGKILL.
    MountingSigkill,
    UnmountingSigterm,
    UnmountingSigkill,
    Failed,
}

impl MountState {
    /// The systemd SubState string.
    pub fn as_str(self) -> &'static str {
        match self {
            MountState::Dead => "dead",
            MountState::Mounting => "mounting",
            MountState::Mounted => "mounted",
            MountState::Unmounting => "unmounting",
            MountState::MountingSigterm => "mounting-sigterm",
            MountState::MountingSigkill => "mounting-sigkill",
            MountState::UnmountingSigterm => "unmounting-sigterm",
            MountState::UnmountingSigkill => "unmounting-sigkill",
            MountState::Failed => "failed",
        }
    }

    /// The ActiveState it maps to (systemd's `state_translation_table`).
    pub fn active_state(self) -> ActiveState {
        match self {
            MountState::Dead => ActiveState::Inactive,
            MountState::Mounting | MountState::MountingSigterm | MountState::MountingSigkill => {
                ActiveState::Activating
            }
            MountState::Mounted => ActiveState::Active,
            MountState::Unmounting
            | MountState::UnmountingSigterm
            | MountState::UnmountingSigkill => ActiveState::Deactivating,
            MountState::Failed => ActiveState::Failed,
        }
    }

    fn mounting(self) -> bool {
        matches!(
            self,
            MountState::Mounting | MountState::MountingSigterm | MountState::MountingSigkill
        )
    }

    fn unmounting(self) -> bool {
        matches!(
            self,
            MountState::Unmounting | MountState::UnmountingSigterm | MountState::UnmountingSigkill
        )
    }
}

/// Mount `Result` (systemd's `mount_result_to_string` names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum MountResult {
    #[default]
    Success,
    Resources,
    Timeout,
    ExitCode,
    Signal,
    CoreDump,
    /// `mount` succeeded but nothing is mounted at `Where=`.
    Protocol,
}

impl MountResult {
    /// The systemd string.
    pub fn as_str(self) -> &'static str {
        match self {
            MountResult::Success => "success",
            MountResult::Resources => "resources",
            MountResult::Timeout => "timeout",
            MountResult::ExitCode => "exit-code",
            MountResult::Signal => "signal",
            MountResult::CoreDump => "core-dump",
            MountResult::Protocol => "protocol",
        }
    }

    fn of(status: ExitStatus) -> MountResult {
        match status {
            ExitStatus::Exited(0) => MountResult::Success,
            ExitStatus::Exited(_) => MountResult::ExitCode,
            ExitStatus::Killed(_) => MountResult::Signal,
            ExitStatus::Dumped(_) => MountResult::CoreDump,
        }
    }
}

/// Mount-specific runtime state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MountRuntime {
    pub state: MountState,
    pub result: MountResult,
    /// The running `mount`/`umount` process.
    pub control_pid: Option<u32>,
    /// `ExecMount`: the last `mount` run (argv and times).
    pub exec_mount: Option<(Vec<String>, ExecRun)>,
    /// `ExecUnmount`: the last `umount` run.
    pub exec_unmount: Option<(Vec<String>, ExecRun)>,
    /// The spawn we wait to hear about.
    pub(crate) pending: Option<SpawnToken>,
    /// Waiting for [`super::Input::MountPointChecked`].
    pub(crate) checking: bool,
    /// The control process ended with this result; the check decides what it means.
    #[serde(default)]
    pub(crate) settle: Option<MountResult>,
    /// `umount` runs of this stop so far (stacked mounts are unmounted one by one).
    #[serde(default)]
    pub(crate) n_retry_umount: u32,
}

impl Engine {
    fn mount_spec(&self, id: UnitId) -> Option<&MountSpec> {
        match &self.u(id).loaded.spec.kind {
            KindSpec::Mount(m) => Some(m),
            _ => None,
        }
    }

    fn mount_set_state(&mut self, id: UnitId, st: MountState) {
        self.um(id).mount.state = st;
        if !matches!(
            st,
            MountState::Mounting
                | MountState::MountingSigterm
                | MountState::MountingSigkill
                | MountState::Unmounting
                | MountState::UnmountingSigterm
                | MountState::UnmountingSigkill
        ) {
            self.disarm_timer(id);
        }
        self.set_active_state(id, st.active_state(), false);
    }

    /// Start job: find out whether `Where=` is mounted already (answer: `mount_point_checked`).
    pub(crate) fn mount_start(&mut self, id: UnitId) -> Outcome {
        let st = self.u(id).mount.state;
        if st == MountState::Mounted {
            return Outcome::Already;
        }
        if st.unmounting() {
            return Outcome::Again;
        }
        if st.mounting() {
            return Outcome::Pending;
        }
        let Some(spec) = self.mount_spec(id).cloned() else {
            return Outcome::Finish(super::JobResult::Unsupported);
        };
        let inv = self.new_invocation_id();
        let u = self.um(id);
        u.invocation_id = inv;
        u.mount.result = MountResult::Success;
        u.mount.checking = true;
        self.effects.push_back(Effect::CheckMountPoint {
            unit: id,
            path: spec.where_.clone().into(),
            directory_mode: Some(spec.directory_mode),
        });
        self.mount_set_state(id, MountState::Mounting);
        Outcome::Pending
    }

    /// Stop job: find out whether `Where=` is still mounted, then run `umount`.
    pub(crate) fn mount_stop(&mut self, id: UnitId) -> Outcome {
        let st = self.u(id).mount.state;
        match st {
            MountState::Dead | MountState::Failed => Outcome::Already,
            s if s.unmounting() => Outcome::Pending,
            MountState::Mounting if self.u(id).mount.checking => {
                // Nothing runs yet: the answer to the check is ignored.
                self.um(id).mount.checking = false;
                self.um(id).mount.settle = None;
                self.mount_set_state(id, MountState::Dead);
                Outcome::Pending
            }
            s if s.mounting() => {
                // systemd kills a running `mount` and then unmounts.
                self.mount_enter_signal(id, MountState::UnmountingSigterm, MountResult::Success);
                Outcome::Pending
            }
            _ => {
                let Some(spec) = self.mount_spec(id).cloned() else {
                    return Outcome::Already;
                };
                let m = &mut self.um(id).mount;
                m.checking = true;
                m.n_retry_umount = 0;
                self.effects.push_back(Effect::CheckMountPoint {
                    unit: id,
                    path: spec.where_.into(),
                    directory_mode: None,
                });
                self.mount_set_state(id, MountState::Unmounting);
                Outcome::Pending
            }
        }
    }

    /// Reply to [`Effect::CheckMountPoint`].
    pub(crate) fn mount_point_checked(&mut self, id: UnitId, mounted: bool) {
        if !self.u(id).mount.checking {
            return;
        }
        self.um(id).mount.checking = false;
        if let Some(f) = self.um(id).mount.settle.take() {
            return self.mount_settle(id, f, mounted);
        }
        let Some(spec) = self.mount_spec(id).cloned() else {
            return;
        };
        match self.u(id).mount.state {
            MountState::Mounting if mounted => {
                tracing::info!(
                    unit = self.u(id).name(),
                    "{} is mounted already.",
                    spec.where_
                );
                self.mount_set_state(id, MountState::Mounted);
            }
            MountState::Mounting => {
                tracing::info!(unit = self.u(id).name(), "Mounting {}...", spec.where_);
                self.mount_spawn(id, spec.mount_argv(MOUNT_PATH), spec.timeout_usec, true);
            }
            MountState::Unmounting if !mounted => self.mount_set_state(id, MountState::Dead),
            MountState::Unmounting => {
                tracing::info!(unit = self.u(id).name(), "Unmounting {}...", spec.where_);
                self.mount_spawn(id, spec.umount_argv(UMOUNT_PATH), spec.timeout_usec, false);
            }
            _ => {}
        }
    }

    /// Run `mount`/`umount` as the control process.
    fn mount_spawn(&mut self, id: UnitId, argv: Vec<String>, timeout: u64, mounting: bool) {
        let token = self.new_token();
        let now = self.now;
        let run = ExecRun {
            pid: 0,
            start: now,
            exit: Timestamp::NEVER,
            code: 0,
            status: 0,
        };
        {
            let m = &mut self.um(id).mount;
            m.pending = Some(token);
            if mounting {
                m.exec_mount = Some((argv.clone(), run));
            } else {
                m.exec_unmount = Some((argv.clone(), run));
            }
        }
        self.arm_timer(id, timeout, TimerKind::StateTimeout);
        let env: Vec<(String, String)> = self
            .env
            .iter()
            .filter_map(|e| e.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let unit_name = self.u(id).name().to_owned();
        self.effects.push_back(Effect::Spawn(SpawnRequest {
            unit: id,
            unit_name,
            token,
            role: ProcessRole::Control,
            phase: if mounting {
                ExecPhase::StartPre
            } else {
                ExecPhase::Stop
            },
            command: ExecCommand {
                path: argv[0].clone(),
                argv,
                flags: ExecFlags::default(),
            },
            exec: std::sync::Arc::new(ExecContext::default()),
            env,
            notify_socket: false,
            wait_exec: false,
            sockets: Vec::new(),
        }));
    }

    /// Reply to a spawn request of a mount unit.
    pub(crate) fn mount_spawned(&mut self, id: UnitId, token: SpawnToken, pid: u32) {
        if self.u(id).mount.pending != Some(token) {
            return;
        }
        let m = &mut self.um(id).mount;
        m.pending = None;
        m.control_pid = Some(pid);
        let st = m.state;
        let run = if st.mounting() {
            m.exec_mount.as_mut()
        } else {
            m.exec_unmount.as_mut()
        };
        if let Some((_, run)) = run {
            run.pid = pid;
        }
        self.pids.insert(pid, id);
        self.mark_dirty(id);
    }

    /// The spawn of `mount`/`umount` failed in the manager: `Result=resources`.
    pub(crate) fn mount_spawn_failed(&mut self, id: UnitId, token: SpawnToken, reason: &str) {
        if self.u(id).mount.pending != Some(token) {
            return;
        }
        self.um(id).mount.pending = None;
        tracing::warn!(unit = self.u(id).name(), "Failed to spawn: {reason}");
        self.mount_control_done(id, MountResult::Resources);
    }

    /// A process of a mount unit was reaped.
    pub(crate) fn mount_exited(&mut self, id: UnitId, pid: u32, status: ExitStatus) {
        if self.u(id).mount.control_pid != Some(pid) {
            return;
        }
        self.pids.remove(&pid);
        let now = self.now;
        let m = &mut self.um(id).mount;
        m.control_pid = None;
        let run = if m.state.mounting() {
            m.exec_mount.as_mut()
        } else {
            m.exec_unmount.as_mut()
        };
        if let Some((_, run)) = run {
            run.exit = now;
            run.code = status.code();
            run.status = status.status();
        }
        let f = MountResult::of(status);
        if f != MountResult::Success {
            tracing::warn!(
                unit = self.u(id).name(),
                "{} process exited, code={}, status={}",
                if self.u(id).mount.state.mounting() {
                    "Mount"
                } else {
                    "Unmount"
                },
                match status {
                    ExitStatus::Exited(_) => "exited",
                    ExitStatus::Killed(_) => "killed",
                    ExitStatus::Dumped(_) => "dumped",
                },
                status.status()
            );
        }
        self.mount_control_done(id, f);
    }

    /// The control process is gone with result `f`: look at the mount table before deciding
    /// (systemd decides from `/proc/self/mountinfo` too).
    fn mount_control_done(&mut self, id: UnitId, f: MountResult) {
        let Some(path) = self.mount_spec(id).map(|m| m.where_.clone()) else {
            return;
        };
        let m = &mut self.um(id).mount;
        m.settle = Some(f);
        m.checking = true;
        self.effects.push_back(Effect::CheckMountPoint {
            unit: id,
            path: path.into(),
            directory_mode: None,
        });
    }

    /// Decide the state after `mount`/`umount` ended with `f`, `mounted` telling whether
    /// `Where=` is a mount point now (systemd's `mount_sigchld_event`).
    fn mount_settle(&mut self, id: UnitId, f: MountResult, mounted: bool) {
        match self.u(id).mount.state {
            MountState::Mounting if f == MountResult::Success && mounted => {
                self.mount_enter_mounted(id, f)
            }
            MountState::Mounting if f == MountResult::Success => {
                tracing::warn!(
                    unit = self.u(id).name(),
                    "Mount process finished, but there is no mount."
                );
                self.mount_enter_dead(id, MountResult::Protocol)
            }
            MountState::Unmounting if f == MountResult::Success && mounted => {
                // Still a mount point: most likely several were stacked; unmount again.
                if self.u(id).mount.n_retry_umount < RETRY_UMOUNT_MAX {
                    self.um(id).mount.n_retry_umount += 1;
                    let Some(spec) = self.mount_spec(id).cloned() else {
                        return;
                    };
                    self.mount_spawn(id, spec.umount_argv(UMOUNT_PATH), spec.timeout_usec, false);
                } else {
                    tracing::warn!(
                        unit = self.u(id).name(),
                        "Mount still present after {RETRY_UMOUNT_MAX} attempts to unmount, \
                         giving up."
                    );
                    self.mount_enter_mounted(id, f)
                }
            }
            _ if mounted => self.mount_enter_mounted(id, f),
            _ => self.mount_enter_dead(id, f),
        }
    }

    fn mount_enter_mounted(&mut self, id: UnitId, f: MountResult) {
        if self.u(id).mount.result == MountResult::Success {
            self.um(id).mount.result = f;
        }
        self.mount_set_state(id, MountState::Mounted);
    }

    fn mount_enter_dead(&mut self, id: UnitId, f: MountResult) {
        if self.u(id).mount.result == MountResult::Success {
            self.um(id).mount.result = f;
        }
        let result = self.u(id).mount.result;
        if result == MountResult::Success {
            self.mount_set_state(id, MountState::Dead);
        } else {
            tracing::warn!(
                unit = self.u(id).name(),
                "Failed with result '{}'.",
                result.as_str()
            );
            self.mount_set_state(id, MountState::Failed);
        }
    }

    /// Signal the control process (timeouts, a stop while mounting).
    fn mount_enter_signal(&mut self, id: UnitId, st: MountState, f: MountResult) {
        if self.u(id).mount.result == MountResult::Success {
            self.um(id).mount.result = f;
        }
        let Some(pid) = self.u(id).mount.control_pid else {
            // Nothing to signal (the spawn reply has not come yet): settle now.
            self.um(id).mount.state = st;
            return self.mount_control_done(id, f);
        };
        let signal = if matches!(
            st,
            MountState::MountingSigkill | MountState::UnmountingSigkill
        ) {
            SIGKILL
        } else {
            SIGTERM
        };
        self.effects.push_back(Effect::Kill(KillRequest {
            unit: id,
            main: None,
            control: Some(pid),
            others: false,
            signal,
            sigcont: signal != SIGKILL,
            sighup: false,
        }));
        let timeout = self
            .mount_spec(id)
            .map_or(USEC_INFINITY, |m| m.timeout_usec);
        self.um(id).mount.state = st;
        self.arm_timer(id, timeout, TimerKind::StateTimeout);
        self.set_active_state(id, st.active_state(), false);
    }

    /// The state timer of a mount unit fired.
    pub(crate) fn mount_timer_fired(&mut self, id: UnitId) {
        let t = MountResult::Timeout;
        match self.u(id).mount.state {
            MountState::Mounting => {
                tracing::warn!(unit = self.u(id).name(), "Mounting timed out. Terminating.");
                self.mount_enter_signal(id, MountState::MountingSigterm, t)
            }
            MountState::Unmounting => {
                tracing::warn!(
                    unit = self.u(id).name(),
                    "Unmounting timed out. Terminating."
                );
                self.mount_enter_signal(id, MountState::UnmountingSigterm, t)
            }
            MountState::MountingSigterm => {
                self.mount_enter_signal(id, MountState::MountingSigkill, t)
            }
            MountState::UnmountingSigterm => {
                self.mount_enter_signal(id, MountState::UnmountingSigkill, t)
            }
            MountState::MountingSigkill | MountState::UnmountingSigkill => {
                tracing::warn!(
                    unit = self.u(id).name(),
                    "Mount process still around after SIGKILL. Ignoring."
                );
                if let Some(pid) = self.um(id).mount.control_pid.take() {
                    self.pids.remove(&pid);
                }
                self.mount_control_done(id, t);
            }
            _ => {}
        }
    }
}
