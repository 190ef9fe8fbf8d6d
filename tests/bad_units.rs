//! Acceptance: bad input gets a clear error and loses nothing.
//! - `unitd check FILE…` prints `file:line: message` diagnostics and exits non-zero on errors
//!   (plain process; runs without the D-Bus tools).
//! - Over D-Bus, broken units load as `bad-setting`/`error` with the reason shown by the stock
//!   `systemctl --user status`, while good units in the same daemon keep working and binary
//!   junk in the unit directory does not bring the daemon down.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const GOOD: &str = "\
[Unit]
Description=Good unit

[Service]
ExecStart=/bin/sleep infinity
";

/// Line 5 has an ExecStart that is neither absolute nor a bare file name: bad-setting.
const BAD_EXEC: &str = "\
[Unit]
Description=Relative ExecStart

[Service]
ExecStart=relative/path/to/binary
";

/// Two ExecStart= on a non-oneshot service (lines 3 and 4): bad-setting.
const TWO_EXECSTART: &str = "\
[Service]
Type=simple
ExecStart=/bin/sleep 1
ExecStart=/bin/sleep 2
";

/// Line 1 is an invalid section header (no inline comments): the unit fails to load.
const BAD_HEADER: &str = "\
[Service] # comment
ExecStart=/bin/sleep infinity
";

/// Unbalanced quote on line 2: bad-setting.
const UNBALANCED: &str = "\
[Service]
ExecStart=/bin/echo \"unterminated
";

/// Deterministic binary junk: NULs, invalid UTF-8, stray brackets, a 2 MiB line.
fn junk_bytes() -> Vec<u8> {
    let mut out = b"\xef\xbb\xbf[Serv\0ice]\n=\n[\n\xff\xfe=\xc3\x28\n".to_vec();
    let mut x: u32 = 0x2545_f491;
    for _ in 0..8192 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.push((x >> 24) as u8);
    }
    out.extend_from_slice(b"\nExecStart=");
    out.extend(std::iter::repeat_n(b'A', 2 * 1024 * 1024));
    out.extend_from_slice(b"\\\n\\\n[Service]\nExecStart=\0/bin/true\n");
    out
}

fn check(files: &[&Path]) -> Output {
    let mut cmd = Command::new(unitd_bin());
    cmd.arg("check")
        .args(files)
        .env_clear()
        .env("PATH", STD_PATH);
    run_with_timeout(&mut cmd, "unitd check", TIMEOUT)
}

fn write(dir: &TestDir, name: &str, text: &[u8]) -> PathBuf {
    let p = dir.units().join(name);
    std::fs::write(&p, text).expect("write unit file");
    p
}

/// `unitd check` must fail cleanly: a non-zero exit, not a panic (101) or a signal.
#[track_caller]
fn assert_clean_failure(out: &Output) {
    assert_ne!(
        out.code,
        0,
        "errors make check exit non-zero\n{}",
        out.dump()
    );
    assert!(
        out.code != 101 && out.code < 128,
        "check must not panic or die of a signal\n{}",
        out.dump()
    );
    assert!(!out.all().contains("panicked"), "{}", out.dump());
}

#[test]
fn check_accepts_a_good_unit() {
    let dir = TestDir::new();
    let good = write(&dir, "good.service", GOOD.as_bytes());
    let out = check(&[&good]);
    assert_eq!(out.code, 0, "{}", out.dump());
}

#[test]
fn check_reports_file_and_line_of_a_bad_exec_line() {
    let dir = TestDir::new();
    let bad = write(&dir, "bad.service", BAD_EXEC.as_bytes());
    let out = check(&[&bad]);
    assert_clean_failure(&out);
    let prefix = format!("{}:5: ", bad.display());
    assert!(
        out.all().lines().any(|l| l.starts_with(&prefix)),
        "a diagnostic line starts with {prefix:?}\n{}",
        out.dump()
    );
}

#[test]
fn check_reports_an_invalid_section_header_on_line_1() {
    let dir = TestDir::new();
    let bad = write(&dir, "header.service", BAD_HEADER.as_bytes());
    let out = check(&[&bad]);
    assert_clean_failure(&out);
    let prefix = format!("{}:1: ", bad.display());
    assert!(
        out.all().lines().any(|l| l.starts_with(&prefix)),
        "a diagnostic line starts with {prefix:?}\n{}",
        out.dump()
    );
}

#[test]
fn check_reports_unbalanced_quotes_and_duplicate_execstart() {
    let dir = TestDir::new();
    let unbalanced = write(&dir, "quote.service", UNBALANCED.as_bytes());
    let two = write(&dir, "two.service", TWO_EXECSTART.as_bytes());
    for (file, line) in [(&unbalanced, Some(2)), (&two, None)] {
        let out = check(&[file]);
        assert_clean_failure(&out);
        let prefix = match line {
            Some(n) => format!("{}:{n}: ", file.display()),
            // A service-level verdict may or may not name a line.
            None => format!("{}:", file.display()),
        };
        assert!(
            out.all().lines().any(|l| l.starts_with(&prefix)),
            "a diagnostic line starts with {prefix:?}\n{}",
            out.dump()
        );
    }
}

#[test]
fn check_of_several_files_names_only_the_bad_one() {
    let dir = TestDir::new();
    let good = write(&dir, "good.service", GOOD.as_bytes());
    let bad = write(&dir, "bad.service", BAD_EXEC.as_bytes());
    let out = check(&[&good, &bad]);
    assert_clean_failure(&out);
    let all = out.all();
    assert!(
        all.contains(&format!("{}:5: ", bad.display())),
        "{}",
        out.dump()
    );
    assert!(
        !all.contains(&format!("{}:", good.display())),
        "the good file has no diagnostics\n{}",
        out.dump()
    );
}

#[test]
fn check_survives_binary_junk_and_missing_files() {
    let dir = TestDir::new();
    let junk = write(&dir, "junk.service", &junk_bytes());
    let out = check(&[&junk]);
    assert_clean_failure(&out);
    assert!(
        out.all().contains(&format!("{}:", junk.display())),
        "diagnostics name the junk file\n{}",
        out.dump()
    );
    let missing = dir.units().join("missing.service");
    let out = check(&[&missing]);
    assert_clean_failure(&out);
    assert!(
        out.all().contains(&missing.display().to_string()),
        "the error names the missing file\n{}",
        out.dump()
    );
}

#[test]
fn bad_units_over_dbus_show_their_load_state_and_reason_while_good_units_start() {
    let Some(mut m) = UserManager::start(&[
        ("good.service", GOOD),
        ("bad.service", BAD_EXEC),
        ("two.service", TWO_EXECSTART),
        ("header.service", BAD_HEADER),
    ]) else {
        return;
    };
    write(&m.dir, "junk.service", &junk_bytes());

    assert_eq!(m.show("bad.service", "LoadState"), "bad-setting");
    assert_eq!(m.show("two.service", "LoadState"), "bad-setting");
    assert_eq!(m.show("header.service", "LoadState"), "error");
    let junk_state = m.show("junk.service", "LoadState");
    assert!(
        junk_state == "bad-setting" || junk_state == "error",
        "junk loads as bad-setting or error, got {junk_state:?}"
    );

    let out = m.expect(3, &["status", "bad.service"]);
    m.check(
        out.stdout.contains("Loaded: bad-setting (Reason: "),
        "status shows `Loaded: bad-setting (Reason: …)`",
        &out,
    );
    let out = m.expect(1, &["start", "bad.service"]);
    m.check(
        out.stderr
            .contains("Failed to start bad.service: Unit bad.service has a bad unit file setting."),
        "start of a bad-setting unit is refused with BadUnitSetting",
        &out,
    );
    let out = m.systemctl(&["start", "header.service"]);
    m.check(
        out.code != 0,
        "start of a unit that failed to load is refused",
        &out,
    );
    let out = m.systemctl(&["start", "junk.service"]);
    m.check(out.code != 0, "start of junk is refused", &out);

    // The same daemon still serves good units.
    m.expect(0, &["start", "good.service"]);
    let pid = m.main_pid("good.service");
    assert_ne!(pid, 0);
    assert_eq!(proc_cmdline(pid), ["/bin/sleep", "infinity"]);

    // Reloading with the junk still present keeps everything.
    m.expect(0, &["daemon-reload"]);
    assert_eq!(
        m.main_pid("good.service"),
        pid,
        "daemon-reload keeps the running service"
    );
    assert_eq!(m.show("bad.service", "LoadState"), "bad-setting");

    assert!(m.daemon_running(), "unitd is still running");
    assert!(
        !m.daemon_log().contains("panicked"),
        "no panic in the daemon log:\n{}",
        tail(&m.daemon_log(), 60)
    );
}

#[test]
fn a_fixed_unit_loads_after_daemon_reload() {
    let Some(m) = UserManager::start(&[("fixme.service", BAD_EXEC)]) else {
        return;
    };
    assert_eq!(m.show("fixme.service", "LoadState"), "bad-setting");
    m.write_unit("fixme.service", GOOD);
    m.expect(0, &["daemon-reload"]);
    assert_eq!(m.show("fixme.service", "LoadState"), "loaded");
    m.expect(0, &["start", "fixme.service"]);
    assert_ne!(m.main_pid("fixme.service"), 0);
}
