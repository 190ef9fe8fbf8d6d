//! Cross-module tests of the systemd façade's property tables against hand-built engine units:
//! every declared property reports the declared type, `GetAll` keeps table order (Unit before
//! the type interface), values mirror the unit, and the `ListUnits*` filter follows systemd.

use std::cell::OnceCell;
use std::path::PathBuf;
use std::sync::Arc;

use crate::engine::{
    ActiveState, Engine, EngineConfig, ExecRun, Job, JobState, JobType, ServiceRuntime,
    ServiceState, Timestamp, Unit, UnitId,
};
use crate::settings::{Scope, Settings};
use crate::spec::{
    ExecCommand, ExecContext, ExecFlags, ExitStatusSet, KindSpec, LoadState, LoadedUnit,
    ResourceLimit, ServiceSpec, UnitName, UnitSpec, WorkingDirectory,
};

use super::dispatch::PropGroup;
use super::host::HostInfo;
use super::properties::{PropDict, PropInfo, value_signature};
use super::service_object::ServiceCtx;
use super::unit_file_state::Presets;
use super::unit_object::UnitCtx;
use super::{JobStats, job_object, manager, service_object, unit_object};

pub(crate) fn engine() -> Engine {
    Engine::new(EngineConfig {
        user_scope: true,
        manager_env: vec!["PATH=/usr/bin:/bin".into(), "HOME=/root".into()],
        manager_pid: 1,
        id_seed: [7; 16],
    })
}

pub(crate) fn settings(scope: Scope) -> Settings {
    let mut s = Settings::resolve(
        scope,
        vec![PathBuf::from("/nonexistent/unitd-test/units")],
        Some(PathBuf::from("/nonexistent/unitd-test/state")),
        None,
    );
    s.runtime_dir = PathBuf::from("/nonexistent/unitd-test/run");
    s
}

pub(crate) fn unit(name: &str, loaded: bool, kind: Option<KindSpec>) -> Unit {
    let n = UnitName::new(name).unwrap();
    let mut spec = UnitSpec::default_for(&n);
    if let Some(k) = kind {
        spec.kind = k;
    }
    Unit::new(
        UnitId(0),
        LoadedUnit {
            name: name.into(),
            aliases: vec![],
            load_state: if loaded {
                LoadState::Loaded
            } else {
                LoadState::NotFound
            },
            load_error: (!loaded).then(|| {
                (
                    "org.freedesktop.systemd1.NoSuchUnit".to_string(),
                    format!("Unit {name} not found."),
                )
            }),
            fragment_path: loaded
                .then(|| PathBuf::from(format!("/nonexistent/unitd-test/units/{name}"))),
            dropin_paths: vec![],
            diagnostics: vec![],
            spec,
        },
    )
}

fn rich_service() -> Unit {
    let cmd = |path: &str, args: &[&str], ignore: bool| ExecCommand {
        path: path.into(),
        argv: args.iter().map(|s| s.to_string()).collect(),
        flags: ExecFlags {
            ignore_failure: ignore,
            no_env_expand: ignore,
            ..Default::default()
        },
    };
    let spec = ServiceSpec {
        exec_start_pre: vec![cmd("/bin/true", &["true"], true)],
        exec_start: vec![cmd("/bin/sleep", &["sleep", "100"], false)],
        exec_reload: vec![cmd("/bin/kill", &["kill", "-HUP", "$MAINPID"], false)],
        success_exit_status: ExitStatusSet {
            statuses: vec![42, 3],
            signals: vec![15, 1],
        },
        pid_file: Some(PathBuf::from("/run/x.pid")),
        exec: Arc::new(ExecContext {
            working_directory: Some(WorkingDirectory::Home),
            working_directory_missing_ok: true,
            user: Some("nobody".into()),
            umask: Some(0o027),
            nice: Some(5),
            limits: vec![ResourceLimit {
                resource: 7,
                soft: 1024,
                hard: 4096,
            }],
            environment: vec![("A".into(), "1".into()), ("B".into(), "x y".into())],
            environment_files: vec![("/etc/default/x".into(), true)],
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut u = unit(
        "rich.service",
        true,
        Some(KindSpec::Service(Box::new(spec))),
    );
    u.active_state = ActiveState::Active;
    u.invocation_id = [0xab; 16];
    u.condition_result = true;
    u.assert_result = true;
    u.timestamps.active_enter = Timestamp {
        realtime: 1_700_000_000_000_000,
        monotonic: 5_000_000,
    };
    u.service = ServiceRuntime {
        state: ServiceState::Running,
        main_pid: Some(1234),
        exec_main: ExecRun {
            pid: 1234,
            start: Timestamp {
                realtime: 1_700_000_000_000_001,
                monotonic: 5_000_001,
            },
            ..Default::default()
        },
        n_restarts: 2,
        status_text: "Serving".into(),
        ..Default::default()
    };
    u.service.exec_runs[crate::engine::ExecPhase::StartPre.index()] = vec![ExecRun {
        pid: 1200,
        code: 1,
        status: 0,
        ..Default::default()
    }];
    u
}

fn check_group(dict: &PropDict, infos: &[PropInfo]) {
    // Every value has its declared type, and entries follow table order.
    let mut last = 0;
    for (name, value) in &dict.0 {
        let pos = infos
            .iter()
            .position(|p| p.name == *name)
            .unwrap_or_else(|| panic!("{name} not declared"));
        assert!(pos >= last, "{name} out of order");
        last = pos;
        assert_eq!(value_signature(value), infos[pos].sig, "type of {name}");
    }
}

/// An empty process table: the units of these tests have no processes.
fn no_processes() -> &'static crate::supervisor::ProcessTable {
    static T: std::sync::OnceLock<crate::supervisor::ProcessTable> = std::sync::OnceLock::new();
    T.get_or_init(|| crate::supervisor::ProcessTable::new(std::process::id()))
}

fn groups_for<'a>(
    engine: &'a Engine,
    settings: &'a Settings,
    presets: &'a OnceCell<Presets>,
    u: &'a Unit,
) -> Vec<PropGroup<'a>> {
    let ctx = UnitCtx {
        engine,
        settings,
        presets,
        unit: u,
        procs: no_processes(),
        n_fd_store: 0,
        unenforced: None,
    };
    let ty = match ServiceCtx::new(ctx) {
        Some(s) => PropGroup::Service(s),
        None => match super::scope_object::ScopeCtx::new(ctx) {
            Some(s) => PropGroup::Scope(s),
            None => match super::socket_object::SocketCtx::new(ctx) {
                Some(s) => PropGroup::Socket(s),
                None => PropGroup::Empty(unit_object::type_interface(u)),
            },
        },
    };
    vec![PropGroup::Unit(ctx), ty]
}

#[test]
fn unit_and_service_properties_have_declared_types() {
    let e = engine();
    let presets = OnceCell::from(Presets::default());
    for scope in [Scope::User, Scope::System] {
        let s = settings(scope);
        for u in [
            rich_service(),
            unit("nothere.service", false, None),
            unit("t.target", true, None),
            unit("s.socket", true, None),
            unit("run-u1.scope", true, None),
        ] {
            for g in groups_for(&e, &s, &presets, &u) {
                let mut d = PropDict::default();
                g.get_all(&mut d);
                let infos: Vec<PropInfo> = match &g {
                    PropGroup::Unit(_) => super::introspect::infos(unit_object::PROPS),
                    PropGroup::Service(_) => super::introspect::infos(service_object::PROPS),
                    PropGroup::Scope(_) => super::introspect::infos(super::scope_object::PROPS),
                    PropGroup::Socket(_) => super::introspect::infos(super::socket_object::PROPS),
                    _ => vec![],
                };
                check_group(&d, &infos);
                // Get agrees with GetAll.
                for (name, v) in &d.0 {
                    assert_eq!(g.get(name).as_ref(), Some(v), "{name}");
                }
            }
        }
    }
}

#[test]
fn mandatory_status_properties_are_present_and_right() {
    let e = engine();
    let s = settings(Scope::User);
    let presets = OnceCell::from(Presets::default());
    let u = unit("nothere.service", false, None);
    let groups = groups_for(&e, &s, &presets, &u);
    let mut d = PropDict::default();
    for g in &groups {
        g.get_all(&mut d);
    }
    let st = |n: &str| match d.get(n) {
        Some(zbus::Variant::Str(s)) => s.as_str().to_owned(),
        other => panic!("{n}: {other:?}"),
    };
    assert_eq!(st("Id"), "nothere.service");
    assert_eq!(st("LoadState"), "not-found");
    assert_eq!(st("ActiveState"), "inactive");
    assert_eq!(st("SubState"), "dead");
    assert_eq!(st("Description"), "nothere.service");
    assert_eq!(st("UnitFileState"), "");
    assert_eq!(st("Result"), "success");
    assert_eq!(value_signature(d.get("LoadError").unwrap()), "(ss)");
    assert_eq!(
        d.get("InvocationID"),
        Some(&zbus::Variant::from(Vec::<u8>::new()))
    );
    // Unit properties come first, then the Service ones; MainPID precedes ExecMainPID.
    let names: Vec<&str> = d.names().collect();
    let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(pos("Id") < pos("Type"));
    assert!(pos("MainPID") < pos("ExecMainPID"));
    assert!(pos("ActivationDetails") < pos("Type"));
}

#[test]
fn service_values_mirror_the_unit() {
    let e = engine();
    let s = settings(Scope::User);
    let presets = OnceCell::from(Presets::default());
    let u = rich_service();
    let mut d = PropDict::default();
    for g in groups_for(&e, &s, &presets, &u) {
        g.get_all(&mut d);
    }
    assert_eq!(d.get("MainPID"), Some(&zbus::Variant::from(1234u32)));
    assert_eq!(d.get("ExecMainPID"), Some(&zbus::Variant::from(1234u32)));
    assert_eq!(d.get("NRestarts"), Some(&zbus::Variant::from(2u32)));
    assert_eq!(d.get("UMask"), Some(&zbus::Variant::from(0o027u32)));
    assert_eq!(d.get("Nice"), Some(&zbus::Variant::from(5i32)));
    assert_eq!(d.get("LimitNOFILE"), Some(&zbus::Variant::from(4096u64)));
    assert_eq!(
        d.get("LimitNOFILESoft"),
        Some(&zbus::Variant::from(1024u64))
    );
    assert_eq!(
        d.get("WorkingDirectory"),
        Some(&zbus::Variant::from("!~".to_string()))
    );
    assert_eq!(d.get("CanReload"), Some(&zbus::Variant::from(true)));
    assert_eq!(
        d.get("InvocationID"),
        Some(&zbus::Variant::from(vec![0xabu8; 16]))
    );
    assert_eq!(d.get("MemoryCurrent"), Some(&zbus::Variant::from(u64::MAX)));
    assert_eq!(
        d.get("Environment"),
        Some(&zbus::Variant::from(vec![
            "A=1".to_string(),
            "B=x y".to_string()
        ]))
    );
    assert_eq!(
        d.get("SuccessExitStatus"),
        Some(&zbus::Variant::from((vec![3i32, 42], vec![1i32, 15])))
    );
    assert_eq!(
        d.get("StandardOutput"),
        Some(&zbus::Variant::from("journal".to_string()))
    );
    assert_eq!(
        d.get("StandardError"),
        Some(&zbus::Variant::from("inherit".to_string()))
    );
    // ExecStartPre: the run recorded by the engine; ExecStart never ran.
    let pre = d.get("ExecStartPre").unwrap().to_string();
    assert!(pre.contains("1200"), "{pre}");
    let ex = d.get("ExecStartPreEx").unwrap().to_string();
    assert!(
        ex.contains("ignore-failure") && ex.contains("no-env-expand"),
        "{ex}"
    );
}

#[test]
fn umask_is_left_out_where_unitd_cannot_know_it() {
    let e = engine();
    let presets = OnceCell::from(Presets::default());
    let u = unit("plain.service", true, None);
    let user = settings(Scope::User);
    let system = settings(Scope::System);
    let get = |s: &Settings| {
        groups_for(&e, s, &presets, &u)
            .iter()
            .find_map(|g| g.get("UMask"))
    };
    assert_eq!(get(&user), None);
    assert_eq!(get(&system), Some(zbus::Variant::from(0o022u32)));
}

#[test]
fn changed_properties_carry_values_and_invalidations() {
    let e = engine();
    let s = settings(Scope::User);
    let presets = OnceCell::from(Presets::default());
    let u = rich_service();
    let groups = groups_for(&e, &s, &presets, &u);
    let (unit_changed, unit_inv) = groups[0].changed();
    let names: Vec<&str> = unit_changed.names().collect();
    for n in [
        "ActiveState",
        "SubState",
        "Job",
        "InvocationID",
        "ActiveEnterTimestamp",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    assert!(!names.contains(&"Id"));
    // The condition and assert lists change with every evaluation; systemd announces them by
    // name only.
    assert_eq!(unit_inv, ["Conditions", "Asserts"]);
    let (svc_changed, svc_inv) = groups[1].changed();
    let names: Vec<&str> = svc_changed.names().collect();
    for n in [
        "MainPID",
        "Result",
        "ExecMainStatus",
        "NRestarts",
        "StatusText",
    ] {
        assert!(names.contains(&n), "{n} missing");
    }
    assert!(svc_inv.contains(&"ExecStart"));
    assert!(!svc_inv.contains(&"Type"));
}

#[test]
fn manager_properties_have_declared_types() {
    let e = engine();
    let s = settings(Scope::User);
    let host = HostInfo {
        machine_id: None,
        virtualization: "docker".into(),
        architecture: "x86-64",
    };
    let ctx = manager::ManagerCtx {
        engine: &e,
        settings: &s,
        host: &host,
        start_time: Timestamp {
            realtime: 10,
            monotonic: 20,
        },
        finish_time: Some(Timestamp {
            realtime: 30,
            monotonic: 40,
        }),
        job_stats: JobStats::default(),
    };
    let g = PropGroup::Manager(ctx);
    let mut d = PropDict::default();
    g.get_all(&mut d);
    check_group(&d, &super::introspect::infos(manager::PROPS));
    assert_eq!(d.len(), manager::PROPS.len());
    assert_eq!(
        d.get("SystemState"),
        Some(&zbus::Variant::from("running".to_string()))
    );
    assert_eq!(d.get("NFailedUnits"), Some(&zbus::Variant::from(0u32)));
    assert_eq!(
        d.get("UserspaceTimestampMonotonic"),
        Some(&zbus::Variant::from(20u64))
    );
    assert_eq!(
        d.get("FinishTimestampMonotonic"),
        Some(&zbus::Variant::from(40u64))
    );
    assert_eq!(
        d.get("Environment"),
        // The engine keeps the manager environment sorted, as systemd does.
        Some(&zbus::Variant::from(vec![
            "HOME=/root".to_string(),
            "PATH=/usr/bin:/bin".to_string()
        ]))
    );
    assert_eq!(d.get("Progress"), Some(&zbus::Variant::from(1.0f64)));
}

#[test]
fn job_properties_have_declared_types() {
    let e = engine();
    let job = Job {
        id: 5,
        unit: UnitId(0),
        job_type: JobType::Start,
        state: JobState::Running,
        mode: crate::engine::JobMode::Replace,
        anchor: true,
        irreversible: false,
        ignore_order: false,
        timeout_at: None,
    };
    let ctx = job_object::JobCtx {
        engine: &e,
        job: &job,
    };
    // `Unit` needs the unit in the engine; the others are checked here.
    for name in ["Id", "JobType", "State", "ActivationDetails"] {
        let v = PropGroup::Job(job_object::JobCtx { ..ctx })
            .get(name)
            .unwrap();
        let decl = job_object::PROPS.iter().find(|p| p.name == name).unwrap();
        assert_eq!(value_signature(&v), decl.sig, "{name}");
    }
    let v = PropGroup::Job(ctx).get("State").unwrap();
    assert_eq!(v, zbus::Variant::from("running".to_string()));
}

#[test]
fn list_units_filter_matches_load_active_or_sub_state_and_globs() {
    let mut failed = unit("f.service", true, None);
    failed.active_state = ActiveState::Failed;
    failed.service.state = ServiceState::Failed;
    let missing = unit("m.service", false, None);
    let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(manager::unit_matches(&failed, &[], &[]));
    assert!(manager::unit_matches(&failed, &v(&["failed"]), &[]));
    assert!(manager::unit_matches(&missing, &v(&["not-found"]), &[]));
    assert!(manager::unit_matches(&missing, &v(&["dead"]), &[]));
    assert!(!manager::unit_matches(
        &missing,
        &v(&["active", "loaded"]),
        &[]
    ));
    assert!(manager::unit_matches(&failed, &[], &v(&["f*"])));
    assert!(!manager::unit_matches(&failed, &[], &v(&["m*"])));
    assert!(!manager::unit_matches(
        &failed,
        &v(&["failed"]),
        &v(&["m*"])
    ));
    let e = engine();
    let info = manager::unit_info(&e, &missing);
    assert_eq!(info.0, "m.service");
    assert_eq!(info.2, "not-found");
    assert_eq!(
        info.6.as_str(),
        "/org/freedesktop/systemd1/unit/m_2eservice"
    );
    assert_eq!((info.7, info.8.as_str(), info.9.as_str()), (0, "", "/"));
}

/// The real `busctl introspect` parses the served XML and decodes the manager's `GetAll`
/// reply (its type column comes from the XML, its values from the `a{sv}`), served over a
/// private dbus-daemon by the façade's own XML generator and property table.
#[tokio::test]
async fn busctl_reads_served_introspection_and_properties() {
    use crate::bus::test_support::TestBus;
    use crate::bus::{Bus, BusEvent};
    use std::time::Duration;
    use tokio::time::timeout;
    use zbus::Message;

    const T: Duration = Duration::from_secs(10);
    let tb = TestBus::start();
    let mut bus = Bus::new();
    timeout(
        T,
        bus.connect_bus(Scope::User, Some(&tb.address), super::BUS_NAME),
    )
    .await
    .unwrap()
    .unwrap();
    let address = tb.address.clone();
    let child = tokio::task::spawn_blocking(move || {
        std::process::Command::new("busctl")
            .arg(format!("--address={address}"))
            .args([
                "introspect",
                "--no-pager",
                "org.freedesktop.systemd1",
                "/org/freedesktop/systemd1",
            ])
            .output()
            .unwrap()
    });
    let e = engine();
    let s = settings(Scope::User);
    let host = HostInfo {
        machine_id: None,
        virtualization: String::new(),
        architecture: "x86-64",
    };
    let out = loop {
        let ev = timeout(T, bus.next_event()).await.unwrap();
        let Some(BusEvent::Call(msg, ctx)) = ev else {
            continue;
        };
        let hdr = msg.header();
        let member = hdr.member().unwrap().as_str().to_owned();
        let reply = match member.as_str() {
            "Introspect" => Message::method_return(&hdr)
                .build(&super::introspect::node_xml(
                    &[manager::interface()],
                    &["unit".into(), "job".into()],
                ))
                .unwrap(),
            "GetAll" => {
                let iface: String = msg.body().deserialize().unwrap();
                let mut d = PropDict::default();
                if iface == manager::INTERFACE {
                    let ctx = manager::ManagerCtx {
                        engine: &e,
                        settings: &s,
                        host: &host,
                        start_time: Timestamp {
                            realtime: 1,
                            monotonic: 2,
                        },
                        finish_time: None,
                        job_stats: JobStats::default(),
                    };
                    PropGroup::Manager(ctx).get_all(&mut d);
                }
                Message::method_return(&hdr).build(&d).unwrap()
            }
            _ => Message::error(&hdr, "org.freedesktop.DBus.Error.UnknownMethod")
                .build(&("not in this test",))
                .unwrap(),
        };
        bus.send(ctx.conn, reply);
        if member == "GetAll" {
            // busctl asks once per interface with properties; the Manager is the last one.
            let iface: String = msg.body().deserialize().unwrap();
            if iface == manager::INTERFACE {
                break timeout(T, child).await.unwrap().unwrap();
            }
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing:\n{stdout}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(line(".StartUnit ").starts_with(".StartUnit method ss o"));
    assert!(line(".JobRemoved ").starts_with(".JobRemoved signal uoss"));
    assert!(line(".Version ").starts_with(".Version property s \"252 (unitd"));
    assert_eq!(
        line(".NFailedUnits "),
        ".NFailedUnits property u 0 emits-change"
    );
    assert!(line(".Environment ").contains("\"PATH=/usr/bin:/bin\""));
    assert!(line(".DefaultTimeoutStartUSec ").contains("90000000 const"));
}

/// `SystemState` as systemd's `manager_state` computes it: start-up first (`initializing`
/// until basic.target is active, then `starting`), then `maintenance` for rescue/emergency
/// (system manager), `degraded`/`running`, and `stopping` once shutdown.target is queued.
#[test]
fn system_state_follows_startup_and_special_targets() {
    use crate::engine::{JobMode, JobType};
    let mut e = Engine::new(EngineConfig {
        user_scope: false,
        manager_env: vec![],
        manager_pid: 1,
        id_seed: [7; 16],
    });
    let now = Timestamp {
        realtime: 1,
        monotonic: 1,
    };
    let load = |e: &mut Engine, name: &str| {
        let unit = crate::runtime::builtin::load(name, Scope::System).unwrap_or_else(|| {
            let mut u = crate::runtime::builtin::load("basic.target", Scope::System).unwrap();
            u.name = name.to_owned();
            u.spec.deps.clear();
            u
        });
        e.insert(now, name, unit)
    };
    for t in [
        "sysinit.target",
        "local-fs.target",
        "sockets.target",
        "timers.target",
        "paths.target",
        "basic.target",
        "shutdown.target",
        "poweroff.target",
        "rescue.target",
    ] {
        load(&mut e, t);
    }
    assert_eq!(manager::system_state(&e, false, false), "initializing");
    let basic = e.lookup("basic.target").unwrap();
    e.enqueue(now, basic, JobType::Start, JobMode::Replace, true)
        .unwrap();
    assert_eq!(manager::system_state(&e, false, false), "starting");
    assert_eq!(manager::system_state(&e, true, false), "running");
    let rescue = e.lookup("rescue.target").unwrap();
    e.enqueue(now, rescue, JobType::Start, JobMode::Replace, true)
        .unwrap();
    assert_eq!(manager::system_state(&e, true, false), "maintenance");
    assert_eq!(manager::system_state(&e, true, true), "running");
    // poweroff.target pulls in shutdown.target.
    let poweroff = e.lookup("poweroff.target").unwrap();
    e.enqueue(now, poweroff, JobType::Start, JobMode::Replace, true)
        .unwrap();
    assert_eq!(manager::system_state(&e, true, false), "stopping");
}

#[test]
fn status_text_falls_back_to_the_unenforced_note() {
    use crate::loader::unenforced::UnenforcedNote;
    let e = engine();
    let s = settings(Scope::System);
    let presets = OnceCell::from(Presets::default());
    let note = UnenforcedNote::new(&["PrivateUsers=yes".to_owned()]).unwrap();
    let mut u = rich_service();
    let status = |u: &Unit| {
        let ctx = UnitCtx {
            engine: &e,
            settings: &s,
            presets: &presets,
            unit: u,
            procs: no_processes(),
            n_fd_store: 0,
            unenforced: Some(&note),
        };
        let svc = PropGroup::Service(ServiceCtx::new(ctx).unwrap());
        svc.get("StatusText")
    };
    // The service's own STATUS= wins; without one, the note is the status.
    assert_eq!(status(&u), Some(super::properties::vs("Serving")));
    u.service.status_text.clear();
    assert_eq!(
        status(&u),
        Some(super::properties::vs(
            "unitd: not enforced: PrivateUsers=yes"
        ))
    );
}
