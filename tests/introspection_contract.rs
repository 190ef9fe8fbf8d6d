//! The D-Bus contract of the systemd façade.
//!
//! 1. `interfaces/<name>.xml` is exactly what the façade serves for `<name>` (the member tables
//!    the dispatcher uses). Regenerate after an intended change with
//!    `UNITD_BLESS=1 cargo test --test introspection_contract` and review the diff.
//! 2. Every method, signal and property the façade declares exists in systemd 252 with exactly
//!    that signature (and argument names, access and `EmitsChangedSignal` mode), per
//!    `tests/fixtures/systemd1-interfaces.json` (parsed from `man 5 org.freedesktop.systemd1`).
//! 3. Properties are declared in the man page's order, which is the order `GetAll` returns.

use std::path::PathBuf;

use serde_json::Value;
use unitd::bus::systemd::introspect::{InterfaceDesc, interface_xml, served_interfaces};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn reference() -> Value {
    let text = std::fs::read_to_string(repo().join("tests/fixtures/systemd1-interfaces.json"))
        .expect("fixture present");
    serde_json::from_str(&text).expect("fixture is JSON")
}

fn args(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .expect("argument list")
        .iter()
        .map(|a| {
            let a = a.as_array().expect("[signature, name]");
            (
                a[0].as_str().unwrap().to_owned(),
                a[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(s, n)| (s.to_string(), n.to_string()))
        .collect()
}

#[test]
fn interface_files_match_what_is_served() {
    let bless = std::env::var_os("UNITD_BLESS").is_some();
    let dir = repo().join("interfaces");
    let mut expected_files = Vec::new();
    for iface in served_interfaces() {
        let xml = interface_xml(iface.name).expect("served interface has XML");
        let file = dir.join(format!("{}.xml", iface.name));
        expected_files.push(file.file_name().unwrap().to_owned());
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&file, &xml).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{}: {e} (bless with UNITD_BLESS=1)", file.display()));
        if on_disk != xml {
            let line = on_disk
                .lines()
                .zip(xml.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| on_disk.lines().count().min(xml.lines().count()));
            panic!(
                "{} differs from what is served at line {}:\n  file:   {:?}\n  served: {:?}\n(bless with UNITD_BLESS=1)",
                file.display(),
                line + 1,
                on_disk.lines().nth(line),
                xml.lines().nth(line)
            );
        }
    }
    // No stale contract files for systemd interfaces that are no longer served (the Upstart
    // façade's files are its own contract).
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name();
        if !name
            .to_string_lossy()
            .starts_with("org.freedesktop.systemd1.")
        {
            continue;
        }
        assert!(
            expected_files.contains(&name),
            "interfaces/{} is not served",
            name.to_string_lossy()
        );
    }
}

fn check_interface(iface: &InterfaceDesc, reference: &Value) {
    let r = reference
        .get(iface.name)
        .unwrap_or_else(|| panic!("{} is not a systemd 252 interface", iface.name));

    for m in iface.methods {
        let rm = r["methods"]
            .get(m.name)
            .unwrap_or_else(|| panic!("{}.{} is not a systemd method", iface.name, m.name));
        assert_eq!(
            owned(m.inputs),
            args(&rm["in"]),
            "{}.{} inputs",
            iface.name,
            m.name
        );
        assert_eq!(
            owned(m.outputs),
            args(&rm["out"]),
            "{}.{} outputs",
            iface.name,
            m.name
        );
    }

    for s in iface.signals {
        let rs = r["signals"]
            .get(s.name)
            .unwrap_or_else(|| panic!("{}.{} is not a systemd signal", iface.name, s.name));
        assert_eq!(
            owned(s.args),
            args(rs),
            "{}.{} arguments",
            iface.name,
            s.name
        );
    }

    let order: Vec<&String> = r["properties"].as_object().unwrap().keys().collect();
    let mut last = None;
    for p in &iface.properties {
        let rp = r["properties"]
            .get(p.name)
            .unwrap_or_else(|| panic!("{}.{} is not a systemd property", iface.name, p.name));
        let rp = rp.as_array().unwrap();
        assert_eq!(
            p.sig,
            rp[0].as_str().unwrap(),
            "type of {}.{}",
            iface.name,
            p.name
        );
        assert_eq!(
            rp[1].as_str().unwrap(),
            "readonly",
            "{}.{} is writable in systemd; unitd serves it read-only",
            iface.name,
            p.name
        );
        assert_eq!(
            p.emits.as_str(),
            rp[2].as_str().unwrap(),
            "EmitsChangedSignal of {}.{}",
            iface.name,
            p.name
        );
        let pos = order.iter().position(|k| *k == p.name).unwrap();
        if let Some(prev) = last {
            assert!(
                pos > prev,
                "{}.{} is out of man-page order",
                iface.name,
                p.name
            );
        }
        last = Some(pos);
    }
}

#[test]
fn every_declared_member_has_systemds_signature_and_order() {
    let reference = reference();
    let served = served_interfaces();
    assert!(
        served
            .iter()
            .any(|i| i.name == "org.freedesktop.systemd1.Manager")
    );
    for iface in &served {
        check_interface(iface, &reference);
    }
}

#[test]
fn the_status_essentials_are_declared() {
    // What `systemctl status`/`start`/`list-units` need (systemd-clients.md §5.4, §6 tier 0).
    let served = served_interfaces();
    let find = |n: &str| served.iter().find(|i| i.name == n).unwrap();
    let unit = find("org.freedesktop.systemd1.Unit");
    for p in [
        "Id",
        "Description",
        "LoadState",
        "ActiveState",
        "SubState",
        "FragmentPath",
        "UnitFileState",
        "UnitFilePreset",
        "ActiveEnterTimestamp",
        "InactiveEnterTimestamp",
        "Job",
        "InvocationID",
        "NeedDaemonReload",
    ] {
        assert!(unit.properties.iter().any(|x| x.name == p), "Unit.{p}");
    }
    let manager = find("org.freedesktop.systemd1.Manager");
    for m in [
        "StartUnit",
        "StopUnit",
        "GetUnit",
        "ListUnitsByPatterns",
        "ListUnitsFiltered",
        "ListJobs",
        "Subscribe",
        "Reload",
    ] {
        assert!(manager.method(m).is_some(), "Manager.{m}");
    }
    assert!(manager.signals.iter().any(|s| s.name == "JobRemoved"));
}
