//! Tests of the install logic on temporary directories.

use std::path::{Path, PathBuf};

use super::*;
use crate::settings::{Scope, Settings};

struct Fixture {
    _t: tempfile::TempDir,
    units: PathBuf,
    config: PathBuf,
    runtime: PathBuf,
    ctx: SpecifierContext,
}

impl Fixture {
    fn new() -> Fixture {
        let t = tempfile::tempdir().unwrap();
        let units = t.path().join("units");
        let config = t.path().join("config");
        let runtime = t.path().join("run/user");
        std::fs::create_dir_all(&units).unwrap();
        let mut s = Settings::resolve(Scope::User, vec![units.clone()], None, None);
        s.runtime_dir = t.path().join("run");
        let ctx = crate::loader::Loader::new(&s).specifier_context().clone();
        Fixture {
            _t: t,
            units,
            config,
            runtime,
            ctx,
        }
    }

    fn installer(&self) -> Installer<'_> {
        Installer::with_dirs(
            vec![
                self.config.clone(),
                self.runtime.clone(),
                self.units.clone(),
            ],
            self.config.clone(),
            self.runtime.clone(),
            &self.ctx,
        )
    }

    fn unit(&self, name: &str, text: &str) -> PathBuf {
        let p = self.units.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

fn v(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn link_target(p: &Path) -> PathBuf {
    std::fs::read_link(p).unwrap()
}

#[test]
fn enable_disable_round_trip() {
    let f = Fixture::new();
    let a = f.unit(
        "a.service",
        "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=default.target\nRequiredBy=x.target\nAlias=b.service\n",
    );
    let i = f.installer();
    assert_eq!(i.state("a.service").unwrap(), Some("disabled"));
    let (carries, changes) = i.enable(&v(&["a.service"]), false, false).unwrap();
    assert!(carries);
    let kinds: Vec<_> = changes.iter().map(|c| (c.kind, c.path.clone())).collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(
        changes
            .iter()
            .all(|c| c.kind == "symlink" && c.source == a.display().to_string())
    );
    assert_eq!(
        link_target(&f.config.join("default.target.wants/a.service")),
        a
    );
    assert_eq!(
        link_target(&f.config.join("x.target.requires/a.service")),
        a
    );
    assert_eq!(link_target(&f.config.join("b.service")), a);
    assert_eq!(i.state("a.service").unwrap(), Some("enabled"));
    assert_eq!(i.state("b.service").unwrap(), Some("alias"));
    // Enabling again changes nothing.
    assert!(
        i.enable(&v(&["a.service"]), false, false)
            .unwrap()
            .1
            .is_empty()
    );
    let links = i.links("a.service", false).unwrap();
    assert_eq!(links.len(), 3, "{links:?}");
    let changes = i.disable(&v(&["a.service"]), false).unwrap();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert!(changes.iter().all(|c| c.kind == "unlink"));
    assert_eq!(i.state("a.service").unwrap(), Some("disabled"));
    assert!(!f.config.join("default.target.wants").exists());
    // Disabling what is disabled changes nothing; a name without a file is an error unless
    // something else was removed (systemd reports the first failure only then).
    assert!(i.disable(&v(&["a.service"]), false).unwrap().is_empty());
    assert_eq!(
        i.disable(&v(&["nosuch.service"]), false).unwrap_err(),
        InstallError::NotFound("nosuch.service".into())
    );
    i.enable(&v(&["a.service"]), false, false).unwrap();
    let changes = i
        .disable(&v(&["nosuch.service", "a.service"]), false)
        .unwrap();
    assert_eq!(changes.len(), 3, "{changes:?}");
    // Runtime enablement.
    i.enable(&v(&["a.service"]), true, false).unwrap();
    assert_eq!(i.state("a.service").unwrap(), Some("enabled-runtime"));
}

#[test]
fn static_indirect_masked_linked_and_missing() {
    let f = Fixture::new();
    f.unit("s.service", "[Service]\nExecStart=/bin/true\n");
    f.unit(
        "i.service",
        "[Service]\nExecStart=/bin/true\n[Install]\nAlso=s.service\n",
    );
    f.unit(
        "t@.service",
        "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=default.target\n",
    );
    let i = f.installer();
    assert_eq!(i.state("s.service").unwrap(), Some("static"));
    assert_eq!(i.state("i.service").unwrap(), Some("indirect"));
    assert_eq!(i.state("t@.service").unwrap(), Some("indirect"));
    assert_eq!(i.state("t@x.service").unwrap(), Some("disabled"));
    assert_eq!(i.state("nosuch.service").unwrap(), None);
    assert_eq!(
        i.enable(&v(&["nosuch.service"]), false, false).unwrap_err(),
        InstallError::NotFound("nosuch.service".into())
    );
    // Template instance enablement.
    let (_, ch) = i.enable(&v(&["t@x.service"]), false, false).unwrap();
    assert_eq!(ch.len(), 1);
    assert!(ch[0].path.ends_with("default.target.wants/t@x.service"));
    assert_eq!(i.state("t@x.service").unwrap(), Some("enabled"));

    // Mask, then unmask.
    let ch = i.mask(&v(&["s.service"]), false, false).unwrap();
    assert_eq!(ch[0].source, "/dev/null");
    assert_eq!(i.state("s.service").unwrap(), Some("masked"));
    assert_eq!(
        i.enable(&v(&["s.service"]), false, false).unwrap_err(),
        InstallError::Masked("s.service".into())
    );
    let ch = i.unmask(&v(&["s.service"]), false).unwrap();
    assert_eq!(ch[0].kind, "unlink");
    assert_eq!(i.state("s.service").unwrap(), Some("static"));
    assert!(i.unmask(&v(&["s.service"]), false).unwrap().is_empty());

    // Link a file from outside the search path.
    let outside = f._t.path().join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    let l = outside.join("l.service");
    std::fs::write(
        &l,
        "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=default.target\n",
    )
    .unwrap();
    let ch = i
        .link(&v(&[&l.display().to_string()]), false, false)
        .unwrap();
    assert_eq!(ch.len(), 1);
    assert_eq!(i.state("l.service").unwrap(), Some("linked"));
    i.enable(&v(&["l.service"]), false, false).unwrap();
    assert_eq!(i.state("l.service").unwrap(), Some("enabled"));
    i.disable(&v(&["l.service"]), false).unwrap();
    assert_eq!(
        i.state("l.service").unwrap(),
        None,
        "disable removes the link too"
    );

    // A different symlink in the way: error unless forced.
    f.unit(
        "c.service",
        "[Service]\nExecStart=/bin/true\n[Install]\nAlias=s.service\n",
    );
    std::fs::create_dir_all(&f.config).unwrap();
    std::os::unix::fs::symlink("/nowhere", f.config.join("s.service")).unwrap();
    assert!(matches!(
        i.enable(&v(&["c.service"]), false, false),
        Err(InstallError::Exists { .. })
    ));
    let (_, ch) = i.enable(&v(&["c.service"]), false, true).unwrap();
    assert_eq!(
        ch.iter().map(|c| c.kind).collect::<Vec<_>>(),
        ["unlink", "symlink"]
    );
}

#[test]
fn list_and_preset() {
    let f = Fixture::new();
    f.unit("s.service", "[Service]\nExecStart=/bin/true\n");
    f.unit(
        "e.service",
        "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=default.target\n",
    );
    let i = f.installer();
    let all = i.list(&[], &[]);
    assert_eq!(all.len(), 2, "{all:?}");
    let (_, ch) = i
        .preset(&v(&["e.service"]), "full", false, false, |_| true)
        .unwrap();
    assert_eq!(ch.len(), 1);
    assert_eq!(
        i.list(&v(&["enabled"]), &[]),
        vec![(
            f.units.join("e.service").display().to_string(),
            "enabled".to_owned()
        )]
    );
    assert_eq!(i.list(&[], &v(&["s*"])).len(), 1);
    let (_, ch) = i
        .preset(&v(&["e.service"]), "enable-only", false, false, |_| false)
        .unwrap();
    assert!(ch.is_empty());
    let (_, ch) = i
        .preset(&v(&["e.service"]), "full", false, false, |_| false)
        .unwrap();
    assert_eq!(ch[0].kind, "unlink");
}

#[test]
fn default_target_get_and_set() {
    let f = Fixture::new();
    let i = f.installer();
    assert_eq!(i.default_target().unwrap(), None);
    let default = f.unit("default.target", "[Unit]\nDescription=Default\n");
    assert_eq!(
        i.default_target().unwrap().as_deref(),
        Some("default.target")
    );
    let multi = f.unit("multi.target", "[Unit]\nDescription=Multi\n");
    f.unit("svc.service", "[Service]\nExecStart=/bin/true\n");

    // Only existing targets qualify.
    assert!(matches!(
        i.set_default("svc.service", true),
        Err(InstallError::InvalidName(_))
    ));
    assert!(matches!(
        i.set_default("nosuch.target", true),
        Err(InstallError::NotFound(_))
    ));

    let changes = i.set_default("multi.target", false).unwrap();
    let link = f.config.join("default.target");
    assert_eq!(
        changes,
        vec![InstallChange {
            kind: "symlink",
            path: link.display().to_string(),
            source: multi.display().to_string(),
        }]
    );
    assert_eq!(link_target(&link), multi);
    assert_eq!(i.default_target().unwrap().as_deref(), Some("multi.target"));
    // Setting it again changes nothing.
    assert!(i.set_default("multi.target", false).unwrap().is_empty());

    // Pointing it elsewhere needs `force` and replaces the link.
    let other = f.unit("other.target", "[Unit]\n");
    assert!(matches!(
        i.set_default("other.target", false),
        Err(InstallError::Exists { .. })
    ));
    let changes = i.set_default("other.target", true).unwrap();
    let kinds: Vec<_> = changes.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, ["unlink", "symlink"]);
    assert_eq!(link_target(&link), other);
    assert_eq!(i.default_target().unwrap().as_deref(), Some("other.target"));

    // A masked default.target is reported as such.
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    assert!(matches!(i.default_target(), Err(InstallError::Masked(_))));
    assert!(default.exists());
}
