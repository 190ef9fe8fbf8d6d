//! Acceptance: `.mount` units (systemd.mount(5)) run by a root system-scope manager, driven by
//! the stock `systemctl`: a tmpfs mounted by the stock `mount` at a path inside the test
//! directory (the unit's name is that path, escaped as `systemd-escape --path` does), shown
//! `active (mounted)`, visible in the manager's mountinfo and gone after `systemctl stop`; a
//! mount point that is mounted already is taken as is; a mount that fails leaves the unit
//! `failed` with systemd's result; nested mount units mount outside-in and unmount
//! inside-out.
//!
//! Nothing is ever mounted in the host's mount namespace: the manager runs in its own
//! private mount namespace (`common::private_system`), and every mount happens inside it. The test reads the manager's mount table through
//! `/proc/PID/mountinfo`.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::private_system::PrivateSystemManager;
use common::*;

/// The shared private-namespace system manager, plus what these tests read.
struct Manager(PrivateSystemManager);

impl std::ops::Deref for Manager {
    type Target = PrivateSystemManager;
    fn deref(&self) -> &PrivateSystemManager {
        &self.0
    }
}

impl Manager {
    /// The manager (no units yet: they are named after paths in its test directory, written
    /// later and loaded with `daemon-reload`); `None` where the environment cannot run it.
    fn start() -> Option<Manager> {
        if !Path::new("/bin/mount").exists() {
            eprintln!("skipped: needs /bin/mount");
            return None;
        }
        PrivateSystemManager::start(&[]).map(Manager)
    }

    /// Whether `path` is a mount point in the manager's namespace.
    fn mounted(&self, path: &Path) -> bool {
        let text = fs::read_to_string(format!("/proc/{}/mountinfo", self.daemon.pid())).unwrap();
        mount_points(&text).iter().any(|p| Path::new(p) == path)
    }

    /// Write `units` and `daemon-reload`.
    fn load(&self, units: &[(&str, String)]) {
        for (name, text) in units {
            self.dir.write_unit(name, text);
        }
        let out = self.systemctl(&["daemon-reload"]);
        assert_eq!(out.code, 0, "{}", out.dump());
    }
}

/// Field 5 of each mountinfo line, `\040`-style escapes decoded.
fn mount_points(mountinfo: &str) -> Vec<String> {
    mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|f| {
            let mut out = String::new();
            let mut rest = f;
            while let Some(i) = rest.find('\\') {
                out.push_str(&rest[..i]);
                let code = rest
                    .get(i + 1..i + 4)
                    .and_then(|o| u8::from_str_radix(o, 8).ok());
                match code {
                    Some(c) => {
                        out.push(c as char);
                        rest = &rest[i + 4..];
                    }
                    None => {
                        out.push('\\');
                        rest = &rest[i + 1..];
                    }
                }
            }
            out.push_str(rest);
            out
        })
        .collect()
}

/// The mount unit name of `path`, as unitd computes it — and, where the stock tool is
/// installed, checked against `systemd-escape --path --suffix=mount`.
fn unit_name(path: &Path) -> String {
    let ours = format!(
        "{}.mount",
        unitd::spec::path_escape(&path.display().to_string())
    );
    if which("systemd-escape").is_some() {
        let out = run_with_timeout(
            Command::new("systemd-escape")
                .args(["--path", "--suffix=mount"])
                .arg(path),
            "systemd-escape",
            TIMEOUT,
        );
        assert_eq!(out.stdout.trim(), ours, "{}", out.dump());
    }
    ours
}

#[test]
fn a_tmpfs_mount_unit_mounts_shows_mounted_and_unmounts() {
    // The units are named after paths in the test directory: written once it exists, then
    // loaded with daemon-reload.
    let Some(m) = Manager::start() else {
        return;
    };
    let td = m.dir.path().to_path_buf();
    let data = td.join("mnt/data-1");
    let name = unit_name(&data);
    // A tmpfs mounted in the namespace before its unit starts.
    let pre = td.join("pre");
    fs::create_dir(&pre).unwrap();
    let pre_s = pre.display().to_string();
    let out = m.in_ns("mount", &["-t", "tmpfs", "-o", "size=1m", "tmpfs", &pre_s]);
    assert_eq!(out.code, 0, "{}", out.dump());
    let pre_name = unit_name(&pre);
    let bad_name = unit_name(&td.join("bad"));
    let wrong = "mnt-elsewhere.mount";
    m.load(&[
        (
            &name,
            "[Unit]\nDescription=Test tmpfs\n\n[Mount]\nWhat=tmpfs\nType=tmpfs\n\
             Options=size=2m,mode=0750,nofail\nDirectoryMode=0711\n"
                .into(),
        ),
        (
            &pre_name,
            format!("[Mount]\nWhat=tmpfs\nWhere={pre_s}\nType=tmpfs\n"),
        ),
        (
            &bad_name,
            "[Mount]\nWhat=/nonexistent/device\nType=ext4\n".into(),
        ),
        (wrong, "[Mount]\nWhat=tmpfs\nWhere=/mnt/other\n".into()),
    ]);

    // Start: the stock mount runs; the mount point is created with DirectoryMode=.
    assert!(!m.mounted(&data));
    let out = m.systemctl(&["start", &name]);
    assert_eq!(out.code, 0, "{}\n{}", out.dump(), m.log());
    assert!(
        m.mounted(&data),
        "not in the manager's mountinfo\n{}",
        m.log()
    );
    let status = m.systemctl(&["status", &name]);
    assert!(
        status.stdout.contains("Active: active (mounted)"),
        "{}",
        status.dump()
    );
    // The Where:/What: lines come from the Mount interface.
    assert!(
        status
            .stdout
            .contains(&format!("Where: {}", data.display())),
        "{}",
        status.dump()
    );
    assert!(status.stdout.contains("What: tmpfs"), "{}", status.dump());
    assert_eq!(m.show(&name, "ActiveState"), "active");
    assert_eq!(m.show(&name, "SubState"), "mounted");
    assert_eq!(m.show(&name, "Result"), "success");
    assert_eq!(m.show(&name, "Type"), "tmpfs");
    assert_eq!(m.show(&name, "DirectoryMode"), "0711");
    assert_eq!(m.show(&name, "ControlPID"), "0");
    let exec = m.show(&name, "ExecMount");
    assert!(
        exec.contains(&format!(
            "argv[]=/bin/mount tmpfs {} -t tmpfs -o size=2m,mode=0750 ;",
            data.display()
        )) && exec.contains("code=exited ; status=0 }"),
        "{exec}"
    );
    // The mount point was created with DirectoryMode=, its missing parent too (the mount
    // point itself is covered by the tmpfs now; its parent shows the mode).
    let parent_mode = fs::metadata(td.join("mnt")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&parent_mode.permissions()) & 0o7777,
        0o711
    );
    // The host never sees it.
    let host = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mount_points(&host).iter().any(|p| Path::new(p) == data));

    // Stop: the stock umount runs; the file system is gone.
    let out = m.systemctl(&["stop", &name]);
    assert_eq!(out.code, 0, "{}\n{}", out.dump(), m.log());
    assert!(!m.mounted(&data), "still mounted after stop\n{}", m.log());
    assert_eq!(m.show(&name, "ActiveState"), "inactive");
    assert_eq!(m.show(&name, "SubState"), "dead");

    // A mount point in place already is taken as mounted, and stop unmounts it.
    assert!(m.mounted(&pre));
    let out = m.systemctl(&["start", &pre_name]);
    assert_eq!(out.code, 0, "{}\n{}", out.dump(), m.log());
    assert_eq!(m.show(&pre_name, "SubState"), "mounted");
    assert_eq!(
        m.show(&pre_name, "ExecMount"),
        "",
        "mount must not have run"
    );
    let out = m.systemctl(&["stop", &pre_name]);
    assert_eq!(out.code, 0, "{}\n{}", out.dump(), m.log());
    assert!(!m.mounted(&pre));

    // mount fails: the unit is failed, the start job too.
    let out = m.systemctl(&["start", &bad_name]);
    assert_ne!(out.code, 0, "{}", out.dump());
    assert_eq!(m.show(&bad_name, "ActiveState"), "failed");
    assert_eq!(m.show(&bad_name, "SubState"), "failed");
    assert_eq!(m.show(&bad_name, "Result"), "exit-code");
    let out = m.systemctl(&["reset-failed", &bad_name]);
    assert_eq!(out.code, 0, "{}", out.dump());
    assert_eq!(m.show(&bad_name, "ActiveState"), "inactive");

    // Where= not matching the name: bad-setting, as systemd.
    assert_eq!(m.show(wrong, "LoadState"), "bad-setting");
}

/// Nested mount units: starting the inner one mounts the outer one first; stopping the outer
/// one unmounts the inner one first (it requires the outer and is ordered after it).
#[test]
fn nested_mount_units_mount_outside_in_and_unmount_inside_out() {
    let Some(m) = Manager::start() else {
        return;
    };
    let outer = m.dir.path().join("nest");
    let inner = outer.join("inner");
    let (outer_name, inner_name) = (unit_name(&outer), unit_name(&inner));
    let text = "[Mount]\nWhat=tmpfs\nType=tmpfs\nOptions=size=1m\n".to_string();
    m.load(&[(&outer_name, text.clone()), (&inner_name, text)]);
    // systemctl quotes names with backslashes in list properties: compare unquoted.
    let requires = m.show(&inner_name, "Requires").replace("\\\\", "\\");
    assert_eq!(requires.trim_matches('"'), outer_name);

    let out = m.systemctl(&["start", &inner_name]);
    assert_eq!(out.code, 0, "{}\n{}", out.dump(), m.log());
    assert!(m.mounted(&outer) && m.mounted(&inner), "{}", m.log());
    // The inner tmpfs is on top of the outer one (mounted second).
    let text = fs::read_to_string(format!("/proc/{}/mountinfo", m.daemon.pid())).unwrap();
    let points = mount_points(&text);
    let pos = |p: &Path| points.iter().position(|x| Path::new(x) == p).unwrap();
    assert!(pos(&outer) < pos(&inner), "{points:?}");

    let out = m.systemctl(&["stop", &outer_name]);
    assert_eq!(out.code, 0, "{}\n{}", out.dump(), m.log());
    assert!(!m.mounted(&outer) && !m.mounted(&inner), "{}", m.log());
    assert_eq!(m.show(&inner_name, "ActiveState"), "inactive");
    assert_eq!(m.show(&outer_name, "ActiveState"), "inactive");
}
