//! Acceptance: Upstart job files are units of the one engine.
//! - `unitd check job.conf` reports `file:line: message` and exits 1 on errors (plain process).
//! - A job in `~/.config/upstart/` is the unit `<job>.service` for the stock
//!   `systemctl --user`: it starts real processes (pre-start script with the job env, then the
//!   main process), shows its description, and a broken job loads as bad-setting while the good one keeps working. A native `foo.service` wins over `foo.conf`.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

fn check(files: &[&std::path::Path]) -> Output {
    let mut cmd = Command::new(unitd_bin());
    cmd.arg("check").args(files);
    run_with_timeout(&mut cmd, "unitd check", Duration::from_secs(30))
}

#[test]
fn check_reports_job_file_errors_with_lines() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.conf");
    std::fs::write(
        &good,
        "description \"good\"\nstart on started nginx and deploy ENV=prod\nexec /bin/sleep 1\n",
    )
    .unwrap();
    let bad = dir.path().join("bad.conf");
    std::fs::write(
        &bad,
        "start on a or\nexec /bin/true\nfrobnicate\nscript\n  echo never ends\n",
    )
    .unwrap();
    let out = check(&[&good]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = check(&[&good, &bad]);
    let err = &out.stderr;
    assert_eq!(out.code, 1, "{err}");
    let b = bad.display();
    assert!(err.contains(&format!("{b}:1: Expected event")), "{err}");
    assert!(err.contains(&format!("{b}:3: Unknown stanza")), "{err}");
    assert!(err.contains(&format!("{b}:4: Unterminated block")), "{err}");
    assert!(!err.contains("good.conf"), "{err}");
}

const JOB: &str = "\
description \"Upstart sleeper\"
author \"tests\"
start on deploy ENV=prod
env GREETING=hello
pre-start script
  echo \"$UPSTART_JOB $GREETING\" > \"$HOME/pre-start.out\"
end script
exec /bin/sleep infinity
";

#[test]
fn job_is_a_systemd_unit() {
    let Some(m) = UserManager::start(&[]) else {
        return;
    };
    let jobs = m.dir.home().join(".config/upstart");
    std::fs::create_dir_all(&jobs).unwrap();
    std::fs::write(jobs.join("sleeper.conf"), JOB).unwrap();
    std::fs::write(jobs.join("broken.conf"), "exec /bin/true\nstart on and\n").unwrap();
    std::fs::write(jobs.join("native.conf"), "exec /bin/false\n").unwrap();
    m.write_unit(
        "native.service",
        "[Unit]\nDescription=Native wins\n[Service]\nExecStart=/bin/sleep infinity\n",
    );
    m.expect(0, &["daemon-reload"]);

    m.expect(0, &["start", "sleeper.service"]);
    let pid = m.main_pid("sleeper.service");
    assert_ne!(pid, 0);
    m.track(pid);
    assert_eq!(proc_cmdline(pid), ["/bin/sleep", "infinity"]);
    let pre = std::fs::read_to_string(m.dir.home().join("pre-start.out")).unwrap();
    assert_eq!(pre, "sleeper hello\n");
    let out = m.expect(0, &["status", "sleeper.service"]);
    m.check(
        out.stdout.contains("sleeper.service - Upstart sleeper"),
        "the description comes from the job",
        &out,
    );
    m.check(
        out.stdout.contains("sleeper.conf"),
        "the job file is the fragment",
        &out,
    );
    assert_eq!(m.show("sleeper.service", "ActiveState"), "active");

    assert_eq!(m.show("broken.service", "LoadState"), "bad-setting");
    let out = m.expect(3, &["status", "broken.service"]);
    m.check(
        out.stdout.contains("Loaded: bad-setting"),
        "a broken job loads as bad-setting",
        &out,
    );
    assert_eq!(m.show("native.service", "Description"), "Native wins");

    m.expect(0, &["stop", "sleeper.service"]);
    m.wait_gone(pid, "sleeper main process");
    assert_eq!(m.show("sleeper.service", "ActiveState"), "inactive");
}
