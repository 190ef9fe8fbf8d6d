//! Acceptance: which unit a process belongs to. `GetUnitByPID` (what `systemctl --user status
//! PID` calls) finds a unit from any of its processes, not only the main one, and
//! `/org/freedesktop/systemd1/unit/self` resolves to the calling process's unit (the bus asks
//! the driver for the caller's PID).

mod common;

use common::*;

#[test]
fn status_by_pid_and_unit_self() {
    let dir_probe = TestDir::new();
    let child_pid_file = dir_probe.path().join("child.pid");
    let self_file = dir_probe.path().join("self.txt");
    let unit = format!(
        "[Service]\nExecStart=/bin/sh -c 'sleep 1000 & echo $! > {child}; \
         busctl --user get-property org.freedesktop.systemd1 \
         /org/freedesktop/systemd1/unit/self org.freedesktop.systemd1.Unit Id > {me}.tmp \
         && mv {me}.tmp {me}; wait'\n",
        child = child_pid_file.display(),
        me = self_file.display()
    );
    let Some(m) = UserManager::start(&[("forky.service", unit.as_str())]) else {
        return;
    };
    if which("busctl").is_none() {
        eprintln!("skipped: busctl not installed");
        return;
    }
    m.expect(0, &["start", "forky.service"]);
    let main = m.main_pid("forky.service");
    let child: u32 = wait_for_value("child pid written", TIMEOUT, || {
        read_lossy(&child_pid_file).trim().parse().ok()
    });
    m.track(child);
    assert_ne!(child, main);
    // A process that is neither main nor control PID still belongs to the unit.
    let out = m.expect(0, &["status", &child.to_string()]);
    m.check(
        out.stdout.starts_with("● forky.service"),
        "status PID shows the unit of a child process",
        &out,
    );
    // The unit's own process asked for /unit/self.
    let text = wait_for_value("unit/self answered", TIMEOUT, || {
        let t = read_lossy(&self_file);
        (!t.is_empty()).then_some(t)
    });
    assert_eq!(text.trim(), "s \"forky.service\"");
    // A PID of no unit: systemd's error and exit code.
    let out = m.systemctl(&["status", &std::process::id().to_string()]);
    m.check(
        out.code != 0 && out.stderr.contains("PID") && out.stderr.contains("does not belong"),
        "status of a foreign PID",
        &out,
    );
    m.expect(0, &["stop", "forky.service"]);
    m.wait_gone(child, "child stopped with the unit");
}
