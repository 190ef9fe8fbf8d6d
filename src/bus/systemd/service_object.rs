//! `org.freedesktop.systemd1.Service` on service unit objects: the `[Service]` settings from
//! the spec, the runtime state the engine tracks (main/control PID, results, restarts,
//! `ExecMain*`, per-command `Exec*` runs) and the execution settings unitd applies.
//!
//! Resource accounting is not implemented, so the accounting counters report systemd's "unset"
//! value (`UINT64_MAX`); clients then hide them instead of showing invented numbers.
//! `ControlGroup` is the cgroup the unit's processes actually live in (unitd creates none; empty
//! while the unit has no process) and `GetProcesses()` lists them, so `systemctl status` draws
//! the process tree. The sandboxing settings ([`super::sandbox_props`]) are reported as the
//! unit file asked, the ones unitd records without implementing (`PrivateUsers=`, …) included:
//! what is not enforced is said by `StatusText` and the logs. Other settings unitd does not
//! implement are not declared.

use zbus::Variant;

use crate::engine::{ExecPhase, ExecRun};
use crate::settings::Scope;
use crate::spec::{
    ExecCommand, ExecDirectoryType, ExitStatusSet, KindSpec, RuntimeDirectoryPreserve, ServiceSpec,
    StdInput, StdOutput, WorkingDirectory,
};

use super::introspect::{InterfaceDesc, MethodDesc, infos, method};
use super::manager::manager_rlimit;
use super::properties::{PropDesc, Value, prop, vas, vb, vi, vs, vstring, vt, vu};
use super::sandbox_props as sp;
use super::unit_object::UnitCtx;

/// Interface name.
pub const INTERFACE: &str = "org.freedesktop.systemd1.Service";

/// What service property getters read.
#[derive(Clone, Copy)]
pub struct ServiceCtx<'a> {
    /// The unit part.
    pub unit: UnitCtx<'a>,
    /// The `[Service]` settings.
    pub spec: &'a ServiceSpec,
}

impl<'a> ServiceCtx<'a> {
    /// The service view of a unit, if it is a service.
    pub fn new(unit: UnitCtx<'a>) -> Option<ServiceCtx<'a>> {
        match &unit.unit.loaded.spec.kind {
            KindSpec::Service(spec) => Some(ServiceCtx { unit, spec }),
            _ => None,
        }
    }

    /// The sandboxing settings of the service's execution context.
    fn sandbox(&self) -> &'a crate::spec::sandbox::Sandbox {
        &self.spec.exec.sandbox
    }

    fn rt(&self) -> &'a crate::engine::ServiceRuntime {
        &self.unit.unit.service
    }

    /// `StatusText`: the service's own `STATUS=`, else what the manager noted at load about
    /// sandboxing it cannot enforce, else empty.
    fn status_text(&self) -> &'a str {
        match (self.rt().status_text.as_str(), self.unit.unenforced) {
            ("", Some(note)) => &note.status_text,
            (own, _) => own,
        }
    }

    fn commands(&self, phase: ExecPhase) -> &'a [ExecCommand] {
        self.spec.commands(phase)
    }

    fn run(&self, phase: ExecPhase, i: usize) -> ExecRun {
        self.rt().exec_runs[phase.index()]
            .get(i)
            .copied()
            .unwrap_or_default()
    }

    /// `a(sasbttttuii)`: path, argv, ignore-failure, start/exit timestamps, pid, code, status.
    fn exec(&self, phase: ExecPhase) -> Option<Value> {
        let v: Vec<ExecTuple> = self
            .commands(phase)
            .iter()
            .enumerate()
            .map(|(i, c)| {
                exec_tuple(
                    &c.path,
                    &c.argv,
                    c.flags.ignore_failure,
                    &self.run(phase, i),
                )
            })
            .collect();
        Some(Variant::from(v))
    }

    /// `a(sasasttttuii)`: as [`Self::exec`] with the flags as words.
    fn exec_ex(&self, phase: ExecPhase) -> Option<Value> {
        let v: Vec<ExecExTuple> = self
            .commands(phase)
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let r = self.run(phase, i);
                (
                    c.path.clone(),
                    c.argv.clone(),
                    exec_flag_words(c),
                    r.start.realtime,
                    r.start.monotonic,
                    r.exit.realtime,
                    r.exit.monotonic,
                    r.pid,
                    r.code,
                    r.status,
                )
            })
            .collect();
        Some(Variant::from(v))
    }

    /// `Limit*` (hard) / `Limit*Soft`: the unit's setting, else the manager's own limit, which
    /// spawned processes inherit.
    fn limit(&self, res: i32, soft: bool) -> Option<Value> {
        let (s, h) = match self.spec.exec.limits.iter().find(|l| l.resource == res) {
            Some(l) => (l.soft, l.hard),
            None => manager_rlimit(res)?,
        };
        Some(vt(if soft { s } else { h }))
    }
}

/// One element of systemd's `a(sasbttttuii)` command-status arrays (`ExecStart`, `ExecMount`…).
pub(super) type ExecTuple = (String, Vec<String>, bool, u64, u64, u64, u64, u32, i32, i32);

/// The [`ExecTuple`] of a command (`path`, `argv`, ignore-failure) and its last run `r`.
pub(super) fn exec_tuple(
    path: &str,
    argv: &[String],
    ignore_failure: bool,
    r: &ExecRun,
) -> ExecTuple {
    (
        path.to_owned(),
        argv.to_vec(),
        ignore_failure,
        r.start.realtime,
        r.start.monotonic,
        r.exit.realtime,
        r.exit.monotonic,
        r.pid,
        r.code,
        r.status,
    )
}
type ExecExTuple = (
    String,
    Vec<String>,
    Vec<String>,
    u64,
    u64,
    u64,
    u64,
    u32,
    i32,
    i32,
);

/// The `…Ex` flag words of a command, in systemd's bit order.
pub fn exec_flag_words(c: &ExecCommand) -> Vec<String> {
    let f = c.flags;
    [
        (f.ignore_failure, "ignore-failure"),
        (f.full_privileges, "privileged"),
        (f.no_setuid, "no-setuid"),
        (f.ambient_fallback, "ambient"),
        (f.no_env_expand, "no-env-expand"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, w)| w.to_owned())
    .collect()
}

/// `(aiai)`: exit statuses and signals, each sorted ascending.
/// `*DirectoryMode` (default 0755).
fn dir_mode(c: &ServiceCtx<'_>, t: ExecDirectoryType) -> Value {
    vu(c.spec.exec.directories[t.index()].mode())
}

/// `*DirectorySymlink`: `(path, symlink, flags)` of each `path:symlink` entry.
fn dir_symlinks(c: &ServiceCtx<'_>, t: ExecDirectoryType) -> Value {
    let items: Vec<(String, String, u64)> = c.spec.exec.directories[t.index()]
        .symlinks
        .iter()
        .map(|(p, l)| {
            (
                p.to_string_lossy().into_owned(),
                l.to_string_lossy().into_owned(),
                0,
            )
        })
        .collect();
    zbus::Variant::from(items)
}

/// `*Directory`: the configured paths, relative to the type's root as written.
fn dir_paths(c: &ServiceCtx<'_>, t: ExecDirectoryType) -> Value {
    vas(c.spec.exec.directories[t.index()]
        .paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned()))
}

fn exit_status_set(s: &ExitStatusSet) -> Option<Value> {
    let mut statuses: Vec<i32> = s.statuses.iter().map(|v| i32::from(*v)).collect();
    statuses.sort_unstable();
    statuses.dedup();
    let mut signals = s.signals.clone();
    signals.sort_unstable();
    signals.dedup();
    Some(Variant::from((statuses, signals)))
}

/// The effective `StandardOutput=` (systemd replaces `inherit` by the default, `journal`,
/// unless standard input is a socket).
fn stdout_name(spec: &ServiceSpec) -> &'static str {
    match &spec.exec.stdout {
        StdOutput::Inherit if spec.exec.stdin == StdInput::Socket => "inherit",
        StdOutput::Inherit => "journal",
        other => output_name(other),
    }
}

fn output_name(o: &StdOutput) -> &'static str {
    match o {
        StdOutput::Inherit => "inherit",
        StdOutput::Null => "null",
        StdOutput::Journal => "journal",
        StdOutput::File(_) => "file",
        StdOutput::Append(_) => "append",
        StdOutput::Truncate(_) => "truncate",
        StdOutput::Socket => "socket",
        StdOutput::Fd => "fd",
    }
}

fn input_name(i: &StdInput) -> &'static str {
    match i {
        StdInput::Null => "null",
        StdInput::File(_) => "file",
        StdInput::Socket => "socket",
        StdInput::Fd => "fd",
    }
}

/// The manager's own nice value (what children inherit when `Nice=` is unset), from
/// `/proc/self/stat` (field 19); 0 if unreadable.
fn manager_nice() -> i32 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 1..];
            // Fields after the command start at field 3 (state); nice is field 19.
            rest.split_whitespace().nth(16)?.parse().ok()
        })
        .unwrap_or(0)
}

/// `UINT64_MAX`: systemd's "not available" for accounting counters.
const UNSET: u64 = u64::MAX;

type Getter = fn(&ServiceCtx<'_>) -> Option<Value>;

/// The Service interface's properties, in man-page order.
pub static PROPS: &[PropDesc<Getter>] = &[
    prop!("Type", "s", Const, |c| Some(vs(c
        .spec
        .service_type
        .as_str()))),
    prop!("Restart", "s", Const, |c| Some(vs(c.spec.restart.as_str()))),
    prop!("PIDFile", "s", Const, |c| {
        Some(vstring(
            c.spec
                .pid_file
                .as_ref()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ))
    }),
    prop!("NotifyAccess", "s", Const, |c| Some(vs(c
        .spec
        .notify_access
        .as_str()))),
    prop!("RestartUSec", "t", Const, |c| Some(vt(c.spec.restart_usec))),
    prop!("TimeoutStartUSec", "t", Const, |c| Some(vt(c
        .spec
        .timeout_start_usec))),
    prop!("TimeoutStopUSec", "t", Const, |c| Some(vt(c
        .spec
        .timeout_stop_usec))),
    prop!("TimeoutAbortUSec", "t", False, |c| {
        Some(vt(c
            .spec
            .timeout_abort_usec
            .unwrap_or(c.spec.timeout_stop_usec)))
    }),
    prop!("RuntimeMaxUSec", "t", Const, |c| Some(vt(c
        .spec
        .runtime_max_usec))),
    prop!("WatchdogUSec", "t", False, |c| Some(vt(c
        .spec
        .watchdog_usec))),
    prop!("RootDirectoryStartOnly", "b", Const, |_| Some(vb(false))),
    prop!("RemainAfterExit", "b", Const, |c| Some(vb(c
        .spec
        .remain_after_exit))),
    prop!("GuessMainPID", "b", Const, |c| Some(vb(c
        .spec
        .guess_main_pid))),
    prop!("RestartPreventExitStatus", "(aiai)", Const, |c| {
        exit_status_set(&c.spec.restart_prevent_exit_status)
    }),
    prop!("RestartForceExitStatus", "(aiai)", Const, |c| {
        exit_status_set(&c.spec.restart_force_exit_status)
    }),
    prop!("SuccessExitStatus", "(aiai)", Const, |c| exit_status_set(
        &c.spec.success_exit_status
    )),
    prop!("MainPID", "u", True, |c| Some(vu(c
        .rt()
        .main_pid
        .unwrap_or(0)))),
    prop!("ControlPID", "u", True, |c| Some(vu(c
        .rt()
        .control_pid
        .unwrap_or(0)))),
    prop!("BusName", "s", Const, |c| Some(vs(c
        .spec
        .bus_name
        .as_deref()
        .unwrap_or("")))),
    prop!("FileDescriptorStoreMax", "u", Const, |c| Some(vu(c
        .spec
        .fd_store_max))),
    prop!("NFileDescriptorStore", "u", False, |c| Some(vu(c
        .unit
        .n_fd_store))),
    prop!("StatusText", "s", True, |c| Some(vs(c.status_text()))),
    prop!("StatusErrno", "i", True, |c| Some(vi(c.rt().status_errno))),
    prop!("Result", "s", True, |c| Some(vs(c.rt().result.as_str()))),
    prop!("ReloadResult", "s", True, |c| Some(vs(c
        .rt()
        .reload_result
        .as_str()))),
    prop!("CleanResult", "s", True, |_| Some(vs("success"))),
    prop!("NRestarts", "u", True, |c| Some(vu(c.rt().n_restarts))),
    prop!("ExecMainStartTimestamp", "t", True, |c| Some(vt(c
        .rt()
        .exec_main
        .start
        .realtime))),
    prop!("ExecMainStartTimestampMonotonic", "t", True, |c| {
        Some(vt(c.rt().exec_main.start.monotonic))
    }),
    prop!("ExecMainExitTimestamp", "t", True, |c| Some(vt(c
        .rt()
        .exec_main
        .exit
        .realtime))),
    prop!("ExecMainExitTimestampMonotonic", "t", True, |c| {
        Some(vt(c.rt().exec_main.exit.monotonic))
    }),
    prop!("ExecMainPID", "u", True, |c| Some(vu(c.rt().exec_main.pid))),
    prop!("ExecMainCode", "i", True, |c| Some(vi(c
        .rt()
        .exec_main
        .code))),
    prop!("ExecMainStatus", "i", True, |c| Some(vi(c
        .rt()
        .exec_main
        .status))),
    prop!("ExecCondition", "a(sasbttttuii)", Invalidates, |c| c
        .exec(ExecPhase::Condition)),
    prop!("ExecConditionEx", "a(sasasttttuii)", Invalidates, |c| c
        .exec_ex(ExecPhase::Condition)),
    prop!("ExecStartPre", "a(sasbttttuii)", Invalidates, |c| c
        .exec(ExecPhase::StartPre)),
    prop!("ExecStartPreEx", "a(sasasttttuii)", Invalidates, |c| c
        .exec_ex(ExecPhase::StartPre)),
    prop!("ExecStart", "a(sasbttttuii)", Invalidates, |c| c
        .exec(ExecPhase::Start)),
    prop!("ExecStartEx", "a(sasasttttuii)", Invalidates, |c| c
        .exec_ex(ExecPhase::Start)),
    prop!("ExecStartPost", "a(sasbttttuii)", Invalidates, |c| c
        .exec(ExecPhase::StartPost)),
    prop!("ExecStartPostEx", "a(sasasttttuii)", Invalidates, |c| c
        .exec_ex(ExecPhase::StartPost)),
    prop!("ExecReload", "a(sasbttttuii)", Invalidates, |c| c
        .exec(ExecPhase::Reload)),
    prop!("ExecReloadEx", "a(sasasttttuii)", Invalidates, |c| c
        .exec_ex(ExecPhase::Reload)),
    prop!("ExecStop", "a(sasbttttuii)", Invalidates, |c| c
        .exec(ExecPhase::Stop)),
    prop!("ExecStopEx", "a(sasasttttuii)", Invalidates, |c| c
        .exec_ex(ExecPhase::Stop)),
    prop!("ExecStopPost", "a(sasbttttuii)", Invalidates, |c| c
        .exec(ExecPhase::StopPost)),
    prop!("ExecStopPostEx", "a(sasasttttuii)", Invalidates, |c| c
        .exec_ex(ExecPhase::StopPost)),
    prop!("Slice", "s", False, |c| Some(vs(
        &super::unit_object::slice_of(&c.unit)
    ))),
    prop!("ControlGroup", "s", False, |c| Some(vstring(
        c.unit.control_group()
    ))),
    prop!("MemoryCurrent", "t", False, |_| Some(vt(UNSET))),
    prop!("CPUUsageNSec", "t", False, |_| Some(vt(UNSET))),
    prop!("TasksCurrent", "t", False, |_| Some(vt(UNSET))),
    prop!("IPIngressBytes", "t", False, |_| Some(vt(UNSET))),
    prop!("IPIngressPackets", "t", False, |_| Some(vt(UNSET))),
    prop!("IPEgressBytes", "t", False, |_| Some(vt(UNSET))),
    prop!("IPEgressPackets", "t", False, |_| Some(vt(UNSET))),
    prop!("IOReadBytes", "t", False, |_| Some(vt(UNSET))),
    prop!("IOReadOperations", "t", False, |_| Some(vt(UNSET))),
    prop!("IOWriteBytes", "t", False, |_| Some(vt(UNSET))),
    prop!("IOWriteOperations", "t", False, |_| Some(vt(UNSET))),
    prop!("Delegate", "b", False, |c| Some(vb(c
        .unit
        .unit
        .loaded
        .spec
        .delegate))),
    prop!("Environment", "as", Const, |c| {
        Some(vas(c
            .spec
            .exec
            .environment
            .iter()
            .map(|(k, v)| format!("{k}={v}"))))
    }),
    prop!("EnvironmentFiles", "a(sb)", Const, |c| {
        Some(Variant::from(c.spec.exec.environment_files.clone()))
    }),
    prop!("PassEnvironment", "as", Const, |c| Some(vas(c
        .spec
        .exec
        .pass_environment
        .iter()
        .cloned()))),
    prop!("UnsetEnvironment", "as", Const, |c| {
        Some(vas(c.spec.exec.unset_environment.iter().cloned()))
    }),
    prop!(
        "UMask",
        "u",
        Const,
        |c| match (c.spec.exec.umask, c.unit.settings.scope) {
            (Some(m), _) => Some(vu(m)),
            // System units get 0022; user units inherit the manager's umask, which unitd does not
            // read (reading it means changing it), so the property is left out there.
            (None, Scope::System) => Some(vu(0o022)),
            (None, Scope::User) => None,
        }
    ),
    prop!("LimitCPU", "t", Const, |c| c.limit(0, false)),
    prop!("LimitCPUSoft", "t", Const, |c| c.limit(0, true)),
    prop!("LimitFSIZE", "t", Const, |c| c.limit(1, false)),
    prop!("LimitFSIZESoft", "t", Const, |c| c.limit(1, true)),
    prop!("LimitDATA", "t", Const, |c| c.limit(2, false)),
    prop!("LimitDATASoft", "t", Const, |c| c.limit(2, true)),
    prop!("LimitSTACK", "t", Const, |c| c.limit(3, false)),
    prop!("LimitSTACKSoft", "t", Const, |c| c.limit(3, true)),
    prop!("LimitCORE", "t", Const, |c| c.limit(4, false)),
    prop!("LimitCORESoft", "t", Const, |c| c.limit(4, true)),
    prop!("LimitRSS", "t", Const, |c| c.limit(5, false)),
    prop!("LimitRSSSoft", "t", Const, |c| c.limit(5, true)),
    prop!("LimitNOFILE", "t", Const, |c| c.limit(7, false)),
    prop!("LimitNOFILESoft", "t", Const, |c| c.limit(7, true)),
    prop!("LimitAS", "t", Const, |c| c.limit(9, false)),
    prop!("LimitASSoft", "t", Const, |c| c.limit(9, true)),
    prop!("LimitNPROC", "t", Const, |c| c.limit(6, false)),
    prop!("LimitNPROCSoft", "t", Const, |c| c.limit(6, true)),
    prop!("LimitMEMLOCK", "t", Const, |c| c.limit(8, false)),
    prop!("LimitMEMLOCKSoft", "t", Const, |c| c.limit(8, true)),
    prop!("LimitLOCKS", "t", Const, |c| c.limit(10, false)),
    prop!("LimitLOCKSSoft", "t", Const, |c| c.limit(10, true)),
    prop!("LimitSIGPENDING", "t", Const, |c| c.limit(11, false)),
    prop!("LimitSIGPENDINGSoft", "t", Const, |c| c.limit(11, true)),
    prop!("LimitMSGQUEUE", "t", Const, |c| c.limit(12, false)),
    prop!("LimitMSGQUEUESoft", "t", Const, |c| c.limit(12, true)),
    prop!("LimitNICE", "t", Const, |c| c.limit(13, false)),
    prop!("LimitNICESoft", "t", Const, |c| c.limit(13, true)),
    prop!("LimitRTPRIO", "t", Const, |c| c.limit(14, false)),
    prop!("LimitRTPRIOSoft", "t", Const, |c| c.limit(14, true)),
    prop!("LimitRTTIME", "t", Const, |c| c.limit(15, false)),
    prop!("LimitRTTIMESoft", "t", Const, |c| c.limit(15, true)),
    prop!("WorkingDirectory", "s", Const, |c| {
        let e = &c.spec.exec;
        let wd = match &e.working_directory {
            None => String::new(),
            Some(WorkingDirectory::Home) => "~".into(),
            Some(WorkingDirectory::Path(p)) => p.to_string_lossy().into_owned(),
        };
        Some(vstring(if e.working_directory_missing_ok {
            format!("!{wd}")
        } else {
            wd
        }))
    }),
    prop!("Nice", "i", Const, |c| Some(vi(c
        .spec
        .exec
        .nice
        .unwrap_or_else(manager_nice)))),
    prop!("StandardInput", "s", Const, |c| Some(vs(input_name(
        &c.spec.exec.stdin
    )))),
    prop!("StandardOutput", "s", Const, |c| Some(vs(stdout_name(
        c.spec
    )))),
    prop!("StandardError", "s", Const, |c| Some(vs(output_name(
        &c.spec.exec.stderr
    )))),
    prop!("SecureBits", "i", Const, |c| Some(sp::secure_bits(
        c.sandbox()
    ))),
    prop!("CapabilityBoundingSet", "t", Const, |c| Some(
        sp::capability_bounding_set(c.sandbox())
    )),
    prop!("AmbientCapabilities", "t", Const, |c| Some(vt(c
        .sandbox()
        .ambient_capabilities))),
    prop!("User", "s", Const, |c| Some(vs(c
        .spec
        .exec
        .user
        .as_deref()
        .unwrap_or("")))),
    prop!("Group", "s", Const, |c| Some(vs(c
        .spec
        .exec
        .group
        .as_deref()
        .unwrap_or("")))),
    prop!("RemoveIPC", "b", Const, |c| Some(vb(sp::not_implemented(
        c.sandbox(),
        "RemoveIPC"
    )
    .is_some()))),
    prop!("SupplementaryGroups", "as", Const, |c| {
        Some(vas(c.spec.exec.supplementary_groups.iter().cloned()))
    }),
    prop!("ReadWritePaths", "as", Const, |c| Some(sp::paths(
        &c.sandbox().read_write_paths
    ))),
    prop!("ReadOnlyPaths", "as", Const, |c| Some(sp::paths(
        &c.sandbox().read_only_paths
    ))),
    prop!("InaccessiblePaths", "as", Const, |c| Some(sp::paths(
        &c.sandbox().inaccessible_paths
    ))),
    prop!("ExecPaths", "as", Const, |c| Some(sp::paths(
        &c.sandbox().exec_paths
    ))),
    prop!("NoExecPaths", "as", Const, |c| Some(sp::paths(
        &c.sandbox().no_exec_paths
    ))),
    prop!("MountFlags", "t", Const, |c| Some(sp::mount_flags(
        c.sandbox()
    ))),
    prop!("PrivateTmp", "b", Const, |c| Some(vb(c
        .sandbox()
        .private_tmp))),
    prop!("PrivateDevices", "b", Const, |c| Some(vb(c
        .sandbox()
        .private_devices))),
    prop!("ProtectClock", "b", Const, |c| Some(vb(c
        .sandbox()
        .protect_clock))),
    prop!("ProtectKernelTunables", "b", Const, |c| Some(vb(c
        .sandbox()
        .protect_kernel_tunables))),
    prop!("ProtectKernelModules", "b", Const, |c| Some(vb(c
        .sandbox()
        .protect_kernel_modules))),
    prop!("ProtectKernelLogs", "b", Const, |c| Some(vb(c
        .sandbox()
        .protect_kernel_logs))),
    prop!("ProtectControlGroups", "b", Const, |c| Some(vb(c
        .sandbox()
        .protect_control_groups))),
    prop!("PrivateNetwork", "b", Const, |c| Some(vb(c
        .sandbox()
        .private_network))),
    prop!("PrivateUsers", "b", Const, |c| Some(vb(
        sp::not_implemented(c.sandbox(), "PrivateUsers").is_some()
    ))),
    prop!("PrivateMounts", "b", Const, |c| Some(vb(c
        .sandbox()
        .private_mounts))),
    prop!("PrivateIPC", "b", Const, |c| Some(vb(c
        .sandbox()
        .private_ipc))),
    prop!("ProtectHome", "s", Const, |c| Some(sp::protect_home(
        c.sandbox()
    ))),
    prop!("ProtectSystem", "s", Const, |c| Some(sp::protect_system(
        c.sandbox()
    ))),
    prop!("IgnoreSIGPIPE", "b", Const, |c| Some(vb(c
        .spec
        .exec
        .ignore_sigpipe))),
    prop!("NoNewPrivileges", "b", Const, |c| Some(vb(c
        .sandbox()
        .no_new_privileges))),
    prop!("SystemCallFilter", "(bas)", Const, |c| Some(
        sp::syscall_lines(&c.sandbox().system_call_filter, true)
    )),
    prop!("SystemCallArchitectures", "as", Const, |c| Some(
        sp::syscall_architectures(c.sandbox())
    )),
    prop!("SystemCallErrorNumber", "i", Const, |c| Some(
        sp::system_call_error(c.sandbox())
    )),
    prop!("SystemCallLog", "(bas)", Const, |c| Some(
        sp::syscall_lines(&c.sandbox().system_call_log, false)
    )),
    prop!("LockPersonality", "b", Const, |c| Some(vb(c
        .sandbox()
        .lock_personality))),
    prop!("RestrictAddressFamilies", "(bas)", Const, |c| Some(
        sp::address_families(c.sandbox())
    )),
    prop!("RuntimeDirectorySymlink", "a(sst)", Const, |c| Some(
        dir_symlinks(c, ExecDirectoryType::Runtime)
    )),
    prop!("RuntimeDirectoryPreserve", "s", Const, |c| {
        Some(vs(match c.spec.exec.runtime_directory_preserve {
            RuntimeDirectoryPreserve::No => "no",
            RuntimeDirectoryPreserve::Yes => "yes",
            RuntimeDirectoryPreserve::Restart => "restart",
        }))
    }),
    prop!("RuntimeDirectoryMode", "u", Const, |c| Some(dir_mode(
        c,
        ExecDirectoryType::Runtime
    ))),
    prop!("RuntimeDirectory", "as", Const, |c| Some(dir_paths(
        c,
        ExecDirectoryType::Runtime
    ))),
    prop!("StateDirectorySymlink", "a(sst)", Const, |c| Some(
        dir_symlinks(c, ExecDirectoryType::State)
    )),
    prop!("StateDirectoryMode", "u", Const, |c| Some(dir_mode(
        c,
        ExecDirectoryType::State
    ))),
    prop!("StateDirectory", "as", Const, |c| Some(dir_paths(
        c,
        ExecDirectoryType::State
    ))),
    prop!("CacheDirectorySymlink", "a(sst)", Const, |c| Some(
        dir_symlinks(c, ExecDirectoryType::Cache)
    )),
    prop!("CacheDirectoryMode", "u", Const, |c| Some(dir_mode(
        c,
        ExecDirectoryType::Cache
    ))),
    prop!("CacheDirectory", "as", Const, |c| Some(dir_paths(
        c,
        ExecDirectoryType::Cache
    ))),
    prop!("LogsDirectorySymlink", "a(sst)", Const, |c| Some(
        dir_symlinks(c, ExecDirectoryType::Logs)
    )),
    prop!("LogsDirectoryMode", "u", Const, |c| Some(dir_mode(
        c,
        ExecDirectoryType::Logs
    ))),
    prop!("LogsDirectory", "as", Const, |c| Some(dir_paths(
        c,
        ExecDirectoryType::Logs
    ))),
    prop!("ConfigurationDirectoryMode", "u", Const, |c| Some(
        dir_mode(c, ExecDirectoryType::Configuration)
    )),
    prop!("ConfigurationDirectory", "as", Const, |c| Some(dir_paths(
        c,
        ExecDirectoryType::Configuration
    ))),
    prop!("MemoryDenyWriteExecute", "b", Const, |c| Some(vb(c
        .sandbox()
        .memory_deny_write_execute))),
    prop!("RestrictRealtime", "b", Const, |c| Some(vb(c
        .sandbox()
        .restrict_realtime))),
    prop!("RestrictSUIDSGID", "b", Const, |c| Some(vb(c
        .sandbox()
        .restrict_suid_sgid))),
    prop!("RestrictNamespaces", "t", Const, |c| Some(
        sp::restrict_namespaces(c.sandbox())
    )),
    prop!("RestrictFileSystems", "(bas)", Const, |c| Some(
        sp::restrict_filesystems(c.sandbox())
    )),
    prop!("BindPaths", "a(ssbt)", Const, |c| Some(sp::bind_paths(
        &c.sandbox().bind_paths,
        false
    ))),
    prop!("BindReadOnlyPaths", "a(ssbt)", Const, |c| Some(
        sp::bind_paths(&c.sandbox().bind_paths, true)
    )),
    prop!("TemporaryFileSystem", "a(ss)", Const, |c| Some(
        sp::temporary_filesystems(c.sandbox())
    )),
    prop!("MountAPIVFS", "b", Const, |c| Some(vb(c
        .sandbox()
        .mount_api_vfs
        .unwrap_or(false)))),
    prop!("KeyringMode", "s", Const, |c| Some(sp::keyring_mode(
        c.sandbox()
    ))),
    prop!("ProtectProc", "s", Const, |c| Some(sp::protect_proc(
        c.sandbox()
    ))),
    prop!("ProcSubset", "s", Const, |c| Some(sp::proc_subset(
        c.sandbox()
    ))),
    prop!("ProtectHostname", "b", Const, |c| Some(vb(c
        .sandbox()
        .protect_hostname))),
    prop!("NetworkNamespacePath", "s", Const, |c| Some(vs(
        sp::not_implemented(c.sandbox(), "NetworkNamespacePath").unwrap_or("")
    ))),
    prop!("IPCNamespacePath", "s", Const, |c| Some(vs(
        sp::not_implemented(c.sandbox(), "IPCNamespacePath").unwrap_or("")
    ))),
    prop!("KillMode", "s", Const, |c| Some(vs(c
        .spec
        .kill
        .mode
        .as_str()))),
    prop!("KillSignal", "i", Const, |c| Some(vi(c
        .spec
        .kill
        .kill_signal))),
    prop!("RestartKillSignal", "i", Const, |c| {
        Some(vi(c
            .spec
            .kill
            .restart_kill_signal
            .unwrap_or(c.spec.kill.kill_signal)))
    }),
    prop!("FinalKillSignal", "i", Const, |c| Some(vi(c
        .spec
        .kill
        .final_kill_signal))),
    prop!("SendSIGKILL", "b", Const, |c| Some(vb(c
        .spec
        .kill
        .send_sigkill))),
    prop!("SendSIGHUP", "b", Const, |c| Some(vb(c
        .spec
        .kill
        .send_sighup))),
    prop!("WatchdogSignal", "i", Const, |c| Some(vi(c
        .spec
        .kill
        .watchdog_signal))),
];

/// The methods: `GetProcesses()` (the unit's processes, like `GetUnitProcesses`).
pub static METHODS: &[MethodDesc] = &[method!("GetProcesses", [], [("a(sus)", "processes")])];

/// The interface description.
pub fn interface() -> InterfaceDesc {
    InterfaceDesc {
        name: INTERFACE,
        methods: METHODS,
        signals: &[],
        properties: infos(PROPS),
    }
}
