//! Loader tests over real directory trees (search path, drop-ins, aliases, masks, templates,
//! `.wants/` directories) and `unitd check`'s per-file lint.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use tempfile::TempDir;
use unitd::loader::Loader;
use unitd::loader::check::check_file;
use unitd::spec::{DepKind, KindSpec, LoadState, LoadedUnit, ServiceSpec, UnitNameError};
use unitd::unit_file::SpecifierContext;

fn ctx() -> SpecifierContext {
    SpecifierContext {
        user_name: "tester".into(),
        uid: 4242,
        group_name: "testers".into(),
        gid: 4242,
        home: "/home/tester".into(),
        shell: "/bin/sh".into(),
        runtime_dir: "/run/user/4242".into(),
        state_root: "/home/tester/.local/state".into(),
        cache_root: "/home/tester/.cache".into(),
        logs_root: "/home/tester/.local/state/log".into(),
        config_root: "/home/tester/.config".into(),
        tmp_dir: "/tmp".into(),
        var_tmp_dir: "/var/tmp".into(),
        hostname: "host".into(),
        pretty_hostname: None,
        machine_id: None,
        boot_id: None,
        kernel_release: "6.1".into(),
        architecture: "x86-64".into(),
        os_release: Some(HashMap::new()),
    }
}

/// A temp tree with search dirs `hi` (first) and `lo`, plus `outside` (not in the path).
struct Tree {
    tmp: TempDir,
}

impl Tree {
    fn new() -> Tree {
        let tmp = tempfile::tempdir().unwrap();
        for d in ["hi", "lo", "outside"] {
            fs::create_dir(tmp.path().join(d)).unwrap();
        }
        Tree { tmp }
    }
    fn p(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.p(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, text).unwrap();
        p
    }
    fn link(&self, rel: &str, target: &str) {
        let p = self.p(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        symlink(target, p).unwrap();
    }
    fn loader(&self) -> Loader {
        Loader::with_context(vec![self.p("hi"), self.p("lo")], ctx())
    }
}

fn service(u: &LoadedUnit) -> &ServiceSpec {
    match &u.spec.kind {
        KindSpec::Service(s) => s,
        other => panic!("{}: not a service: {other:?}", u.name),
    }
}

fn env_value(u: &LoadedUnit, key: &str) -> Option<String> {
    service(u)
        .exec
        .environment
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

fn file_names(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| {
            let dir = p.parent().unwrap().file_name().unwrap().to_str().unwrap();
            format!("{dir}/{}", p.file_name().unwrap().to_str().unwrap())
        })
        .collect()
}

const SIMPLE: &str = "[Service]\nExecStart=/bin/true\n";

#[test]
fn seed_17_dropin_merge_order() {
    let t = Tree::new();
    t.write("lo/foo-bar-baz.service", SIMPLE);
    let d = |order: &str| {
        format!("[Service]\nEnvironment=ORDER={order}\nExecStartPre=/bin/echo {order}\n")
    };
    t.write("lo/foo-.service.d/10-x.conf", &d("10"));
    t.write("lo/foo-.service.d/20-x.conf", &d("20-generic"));
    t.write("lo/foo-bar-.service.d/15-x.conf", &d("15"));
    t.write("lo/foo-bar-baz.service.d/20-x.conf", &d("20"));
    t.write("lo/service.d/30-all.conf", &d("30"));
    // A higher-priority directory wins for the same basename, even from a less specific dir.
    t.write("hi/foo-.service.d/15-x.conf", &d("15-hi"));
    // Files without .conf and hidden files are not drop-ins.
    t.write("lo/foo-bar-baz.service.d/99-x.txt", &d("txt"));
    t.write("lo/foo-bar-baz.service.d/.99-hidden.conf", &d("hidden"));

    let u = t.loader().load("foo-bar-baz.service").unwrap();
    assert_eq!(u.load_state, LoadState::Loaded, "{:?}", u.diagnostics);
    assert_eq!(
        file_names(&u.dropin_paths),
        [
            "foo-.service.d/10-x.conf",
            "foo-.service.d/15-x.conf",
            "foo-bar-baz.service.d/20-x.conf",
            "service.d/30-all.conf"
        ]
    );
    assert!(u.dropin_paths[1].starts_with(t.p("hi")));
    assert_eq!(env_value(&u, "ORDER").as_deref(), Some("30"));
    let pre: Vec<&str> = service(&u)
        .exec_start_pre
        .iter()
        .map(|c| c.argv[1].as_str())
        .collect();
    assert_eq!(pre, ["10", "15-hi", "20", "30"]);
}

#[test]
fn seed_17_error_bad_setting_and_masks() {
    let t = Tree::new();
    t.write("lo/hdr.service", "[Service] # c\nExecStart=/bin/true\n");
    t.write(
        "lo/two.service",
        "[Service]\nExecStart=/bin/a\nExecStart=/bin/b\n",
    );
    t.write("lo/empty.service", "");
    t.link("lo/devnull.service", "/dev/null");
    t.write("lo/hidden.service", SIMPLE);
    t.link("hi/hidden.service", "/dev/null");
    let l = t.loader();

    let u = l.load("hdr.service").unwrap();
    assert_eq!(u.load_state, LoadState::Error);
    let (err, msg) = u.load_error.clone().unwrap();
    assert_eq!(err, "org.freedesktop.systemd1.LoadFailed");
    assert_eq!(
        msg,
        "Unit hdr.service failed to load properly, please adjust/correct and reload service manager: Bad message"
    );
    assert_eq!(u.diagnostics[0].line, 1);
    assert!(u.diagnostics[0].message.contains("Invalid section header"));

    let u = l.load("two.service").unwrap();
    assert_eq!(u.load_state, LoadState::BadSetting);
    assert_eq!(
        u.load_error.clone().unwrap(),
        (
            "org.freedesktop.systemd1.BadUnitSetting".to_owned(),
            "Unit two.service has a bad unit file setting.".to_owned()
        )
    );
    // Units that did not load carry default settings.
    assert!(service(&u).exec_start.is_empty());

    for name in ["empty.service", "devnull.service", "hidden.service"] {
        let u = l.load(name).unwrap();
        assert_eq!(u.load_state, LoadState::Masked, "{name}");
        assert_eq!(
            u.load_error.unwrap(),
            (
                "org.freedesktop.systemd1.UnitMasked".to_owned(),
                format!("Unit {name} is masked.")
            )
        );
    }
    let u = l.load("hidden.service").unwrap();
    assert_eq!(u.fragment_path.unwrap(), t.p("hi/hidden.service"));
}

#[test]
fn not_found_and_invalid_names() {
    let t = Tree::new();
    let l = t.loader();
    let u = l.load("nope.service").unwrap();
    assert_eq!(u.load_state, LoadState::NotFound);
    assert_eq!(u.name, "nope.service");
    assert_eq!(
        u.load_error.unwrap(),
        (
            "org.freedesktop.systemd1.NoSuchUnit".to_owned(),
            "Unit nope.service not found.".to_owned()
        )
    );
    assert_eq!(
        l.load("bad name.service").unwrap_err(),
        UnitNameError::InvalidChar
    );
    assert_eq!(l.load("x").unwrap_err(), UnitNameError::NoSuffix);
    assert_eq!(
        l.load("tpl@.service").unwrap_err(),
        UnitNameError::Malformed
    );
    // Slices exist without a file.
    let u = l.load("app.slice").unwrap();
    assert_eq!(u.load_state, LoadState::Loaded);
    assert_eq!(u.fragment_path, None);
}

#[test]
fn first_match_in_search_path_wins() {
    let t = Tree::new();
    t.write(
        "hi/a.service",
        "[Unit]\nDescription=high\n[Service]\nExecStart=/bin/true\n",
    );
    t.write(
        "lo/a.service",
        "[Unit]\nDescription=low\n[Service]\nExecStart=/bin/true\n",
    );
    // A symlink in a high dir pointing at the same name in a low dir is a self-alias: ignored,
    // the low file is used.
    t.write(
        "lo/b.service",
        "[Unit]\nDescription=b-low\n[Service]\nExecStart=/bin/true\n",
    );
    t.link("hi/b.service", &t.p("lo/b.service").to_string_lossy());
    let l = t.loader();
    let a = l.load("a.service").unwrap();
    assert_eq!(a.spec.description, "high");
    assert_eq!(a.fragment_path.unwrap(), t.p("hi/a.service"));
    let b = l.load("b.service").unwrap();
    assert_eq!(b.spec.description, "b-low");
    assert_eq!(b.fragment_path.unwrap(), t.p("lo/b.service"));
    assert!(b.aliases.is_empty());
}

#[test]
fn templates_and_instances() {
    let t = Tree::new();
    t.write(
        "lo/getty@.service",
        "[Unit]\nDescription=Getty on %I\n[Service]\nExecStart=/sbin/agetty %i\n",
    );
    t.write(
        "lo/getty@special.service",
        "[Unit]\nDescription=special\n[Service]\nExecStart=/bin/true\n",
    );
    t.write(
        "lo/getty@.service.d/10-t.conf",
        "[Service]\nEnvironment=T=template\n",
    );
    t.write(
        "lo/getty@tty2.service.d/20-i.conf",
        "[Service]\nEnvironment=I=instance\n",
    );
    let l = t.loader();
    let u = l.load("getty@tty2.service").unwrap();
    assert_eq!(u.load_state, LoadState::Loaded);
    assert_eq!(u.name, "getty@tty2.service");
    assert_eq!(
        u.fragment_path.as_deref(),
        Some(t.p("lo/getty@.service").as_path())
    );
    assert_eq!(u.spec.description, "Getty on tty2");
    assert_eq!(service(&u).exec_start[0].argv, ["/sbin/agetty", "tty2"]);
    assert_eq!(env_value(&u, "T").as_deref(), Some("template"));
    assert_eq!(env_value(&u, "I").as_deref(), Some("instance"));
    // An instance with its own file uses it.
    let s = l.load("getty@special.service").unwrap();
    assert_eq!(s.spec.description, "special");
    // Masking the template masks its instances.
    t.link("hi/getty@.service", "/dev/null");
    let mut l = l;
    l.rescan();
    assert_eq!(
        l.load("getty@tty3.service").unwrap().load_state,
        LoadState::Masked
    );
}

#[test]
fn aliases_resolve_to_one_primary_name() {
    let t = Tree::new();
    t.write(
        "lo/real.service",
        "[Unit]\nDescription=real\n[Service]\nExecStart=/bin/true\n",
    );
    t.link("lo/alias.service", "real.service");
    t.link(
        "hi/other.service",
        &t.p("lo/real.service").to_string_lossy(),
    );
    t.write(
        "lo/alias.service.d/50-a.conf",
        "[Service]\nEnvironment=VIA=alias\n",
    );
    // Invalid alias: different type.
    t.link("lo/wrong.socket", "real.service");
    let l = t.loader();
    for name in ["real.service", "alias.service", "other.service"] {
        let u = l.load(name).unwrap();
        assert_eq!(u.load_state, LoadState::Loaded, "{name}");
        assert_eq!(u.name, "real.service", "{name}");
        assert_eq!(u.aliases, ["alias.service", "other.service"], "{name}");
        assert_eq!(
            u.fragment_path.as_deref(),
            Some(t.p("lo/real.service").as_path())
        );
        assert_eq!(env_value(&u, "VIA").as_deref(), Some("alias"), "{name}");
    }
    let w = l.load("wrong.socket").unwrap();
    assert_eq!(w.load_state, LoadState::NotFound);
    assert!(w.diagnostics[0].message.contains("different unit types"));
    assert_eq!(l.unit_names(), ["real.service"]);
}

#[test]
fn template_aliases_follow_the_instance() {
    let t = Tree::new();
    t.write("lo/foo@.service", "[Service]\nExecStart=/bin/echo %n\n");
    t.link("lo/bar@.service", "foo@.service");
    let l = t.loader();
    let u = l.load("bar@x.service").unwrap();
    assert_eq!(u.name, "foo@x.service");
    assert_eq!(u.aliases, ["bar@x.service"]);
    assert_eq!(
        service(&u).exec_start[0].argv,
        ["/bin/echo", "foo@x.service"]
    );
}

#[test]
fn linked_units_are_followed() {
    let t = Tree::new();
    t.write(
        "outside/whatever-name.service",
        "[Unit]\nDescription=linked %n\n[Service]\nExecStart=/bin/true\n",
    );
    t.link(
        "hi/linked.service",
        &t.p("outside/whatever-name.service").to_string_lossy(),
    );
    let l = t.loader();
    let u = l.load("linked.service").unwrap();
    assert_eq!(u.load_state, LoadState::Loaded);
    assert_eq!(u.name, "linked.service");
    assert!(u.aliases.is_empty());
    assert_eq!(u.spec.description, "linked linked.service");
    assert_eq!(u.fragment_path.unwrap(), t.p("hi/linked.service"));
    assert_eq!(
        l.load("whatever-name.service").unwrap().load_state,
        LoadState::NotFound
    );
    assert_eq!(l.unit_names(), ["linked.service"]);
}

#[test]
fn wants_requires_upholds_directories() {
    let t = Tree::new();
    t.write(
        "lo/multi.target",
        "[Unit]\nDescription=multi\nWants=explicit.service\n",
    );
    t.write("lo/a.service", SIMPLE);
    t.link("hi/multi.target.wants/a.service", "../../lo/a.service");
    t.link("lo/multi.target.wants/b.service", "/nonexistent/b.service");
    t.link("lo/multi.target.requires/c.service", "/x/c.service");
    t.link("lo/multi.target.upholds/d.service", "/x/d.service");
    t.link(
        "lo/multi.target.wants/getty@tty1.service",
        "/x/getty@.service",
    );
    // Masked in a higher dir: hides the lower link.
    t.link("lo/multi.target.wants/masked.service", "/x/masked.service");
    t.link("hi/multi.target.wants/masked.service", "/dev/null");
    // Not a symlink / not a unit name: warned, ignored.
    t.write("lo/multi.target.wants/plain.service", "not a link");
    t.link("lo/multi.target.wants/not-a-unit", "/x/y");
    // Template entries in an instance's wants directory take its instance.
    t.write("lo/t@.target", "[Unit]\n");
    t.link("lo/t@.target.wants/w@.service", "/x/w@.service");

    let l = t.loader();
    let u = l.load("multi.target").unwrap();
    assert_eq!(u.load_state, LoadState::Loaded);
    assert!(matches!(u.spec.kind, KindSpec::Target));
    let deps: Vec<(DepKind, &str)> = u.spec.deps.iter().map(|(k, n)| (*k, n.as_str())).collect();
    assert_eq!(
        deps,
        [
            (DepKind::Wants, "explicit.service"),
            (DepKind::Wants, "a.service"),
            (DepKind::Wants, "b.service"),
            (DepKind::Wants, "getty@tty1.service"),
            (DepKind::Requires, "c.service"),
            (DepKind::Upholds, "d.service"),
        ]
    );
    let warned: Vec<&str> = u.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(warned.len(), 2, "{warned:?}");
    assert!(warned.iter().any(|m| m.contains("is not a symlink")));
    assert!(warned.iter().any(|m| m.contains("not a valid unit name")));

    let u = l.load("t@one.target").unwrap();
    assert_eq!(u.spec.deps, [(DepKind::Wants, "w@one.service".to_owned())]);
}

#[test]
fn unit_names_rescan_and_stale_index() {
    let t = Tree::new();
    t.write("lo/a.service", SIMPLE);
    t.write("lo/tpl@.service", SIMPLE);
    t.write("lo/tpl@x.service", SIMPLE);
    t.write("hi/m.service", "");
    t.write("lo/x.socket", "[Socket]\nListenStream=/run/x\n");
    t.write("lo/README", "not a unit");
    let mut l = t.loader();
    assert_eq!(
        l.unit_names(),
        ["a.service", "m.service", "tpl@x.service", "x.socket"]
    );
    // Every listed unit loads (other types included).
    for n in l.unit_names() {
        let u = l.load(&n).unwrap();
        assert_ne!(u.load_state, LoadState::NotFound, "{n}");
    }
    // A new file is found without rescan (the directory changed; systemd does the same for
    // units that were not found before) …
    t.write("hi/new.service", SIMPLE);
    assert_eq!(l.load("new.service").unwrap().load_state, LoadState::Loaded);
    // … and rescan sees removals.
    fs::remove_file(t.p("lo/a.service")).unwrap();
    l.rescan();
    assert_eq!(l.load("a.service").unwrap().load_state, LoadState::NotFound);
    assert!(!l.unit_names().contains(&"a.service".to_owned()));
}

#[test]
fn many_units_load() {
    // Flat cost per unit: 2000 units with drop-ins and wants links load through one index.
    let t = Tree::new();
    for i in 0..2000 {
        t.write(&format!("lo/u{i}.service"), SIMPLE);
        if i % 10 == 0 {
            t.write(
                &format!("lo/u{i}.service.d/x.conf"),
                "[Unit]\nDescription=d\n",
            );
            t.link(&format!("lo/u{i}.service.wants/u{}.service", i + 1), "/x");
        }
    }
    let l = t.loader();
    let names = l.unit_names();
    assert_eq!(names.len(), 2000);
    let mut with_dropins = 0;
    for n in &names {
        let u = l.load(n).unwrap();
        assert_eq!(u.load_state, LoadState::Loaded);
        if !u.dropin_paths.is_empty() {
            with_dropins += 1;
            assert_eq!(u.spec.deps.len(), 1);
        }
    }
    assert_eq!(with_dropins, 200);
}

fn executable(path: &Path) {
    fs::write(path, "#!/bin/sh\nexit 0\n").unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn check_reports_file_line_diagnostics() {
    let t = Tree::new();
    let bin = t.p("outside/prog");
    executable(&bin);
    let bin = bin.to_string_lossy().into_owned();

    let good = t.write(
        "outside/good.service",
        &format!("[Service]\nExecStart={bin} %i\n"),
    );
    let r = check_file(&good, &ctx());
    assert!(!r.failed, "{:?}", r.diagnostics);
    assert!(r.diagnostics.is_empty());

    let warn = t.write(
        "outside/warn.service",
        &format!("[Service]\nExecStart={bin}\nBogus=1\nDynamicUser=yes\n"),
    );
    let r = check_file(&warn, &ctx());
    assert!(!r.failed);
    let lines: Vec<String> = r.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        lines,
        [
            format!(
                "{}:3: Unknown key name 'Bogus' in section 'Service', ignoring.",
                warn.display()
            ),
            format!(
                "{}:4: Setting 'DynamicUser=' in section '[Service]' is not supported by unitd yet, ignoring.",
                warn.display()
            ),
        ]
    );

    // Drop-ins next to the file are applied (and can break it).
    t.write(
        "outside/warn.service.d/x.conf",
        "[Service]\nExecStart=/bin/second\n",
    );
    assert!(check_file(&warn, &ctx()).failed);

    let bad = t.write("outside/bad.service", "[Service] # c\n");
    let r = check_file(&bad, &ctx());
    assert!(r.failed);
    assert_eq!(
        r.diagnostics[0].to_string(),
        format!(
            "{}:1: Invalid section header '[Service] # c'",
            bad.display()
        )
    );

    let missing = t.write(
        "outside/missing.service",
        "[Service]\nExecStart=/nonexistent/prog\nExecStartPre=-/nonexistent/ok\n",
    );
    let r = check_file(&missing, &ctx());
    assert!(r.failed);
    assert_eq!(r.diagnostics.len(), 1);
    assert!(
        r.diagnostics[0]
            .message
            .contains("Command /nonexistent/prog is not executable")
    );

    // Templates are checked as an instance.
    let tpl = t.write(
        "outside/t@.service",
        &format!("[Service]\nExecStart={bin} %i\n"),
    );
    assert!(!check_file(&tpl, &ctx()).failed);

    let invalid = t.write("outside/no-suffix", SIMPLE);
    assert!(check_file(&invalid, &ctx()).failed);
    let empty = t.write("outside/empty.service", "");
    assert!(check_file(&empty, &ctx()).failed);
    assert!(check_file(&t.p("outside/absent.service"), &ctx()).failed);
}
