//! `unitd logs` end to end: records written through the log store are printed by the real
//! binary (`-n`, `-f` across a rotation, missing unit). This binary never reaps on its own, so
//! it may wait for the `unitd` children it starts.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use unitd::supervisor::LogStore;

const TIMEOUT: Duration = Duration::from_secs(60);

fn unitd_logs(state: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_unitd"))
        .arg("logs")
        .arg("--state-dir")
        .arg(state)
        .args(args)
        .output()
        .unwrap()
}

/// Check `YYYY-MM-DD HH:MM:SS IDENT[PID]: text` and return `IDENT[PID]: text`.
fn strip_time(line: &str) -> &str {
    let b = line.as_bytes();
    assert!(b.len() > 20, "{line}");
    assert!(b[..4].iter().all(u8::is_ascii_digit), "{line}");
    assert_eq!(
        (b[4], b[7], b[10], b[13], b[16], b[19]),
        (b'-', b'-', b' ', b':', b':', b' '),
        "{line}"
    );
    &line[20..]
}

#[test]
fn logs_last_lines_and_missing_unit() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::new(dir.path(), 1 << 20);
    for i in 1..=5 {
        store.append("web.service", "web.service", 100 + i, &format!("line {i}"));
    }
    store.append("web.service", "unitd", 7, "Started web.service.");

    let out = unitd_logs(dir.path(), &["web.service", "-n", "2"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().map(strip_time).collect();
    assert_eq!(
        lines,
        vec!["web.service[105]: line 5", "unitd[7]: Started web.service."]
    );

    // No suffix means .service; no -n prints everything.
    let out = unitd_logs(dir.path(), &["web"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 6);

    let out = unitd_logs(dir.path(), &["nothing-here.service"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("No log for unit nothing-here.service")
    );
}

#[test]
fn logs_follow_across_rotation() {
    let dir = tempfile::tempdir().unwrap();
    // Small files: the 40 lines below rotate the file once or twice (each record is ~75
    // bytes), which the follower must survive however its polls fall.
    let store = LogStore::new(dir.path(), 1500);
    store.append("f.service", "f.service", 1, "before");
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_unitd"))
            .arg("logs")
            .arg("--state-dir")
            .arg(dir.path())
            .args(["f.service", "-f"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let first = rx.recv_timeout(TIMEOUT).expect("initial line");
    assert_eq!(strip_time(&first), "f.service[1]: before");
    for i in 0..40 {
        store.append(
            "f.service",
            "f.service",
            2,
            &format!("followed {i:02} ........................"),
        );
    }
    for i in 0..40 {
        let line = rx.recv_timeout(TIMEOUT).unwrap_or_else(|_| {
            panic!(
                "followed line {i}: {:?}",
                std::fs::read_dir(dir.path().join("logs"))
                    .unwrap()
                    .map(|e| e.unwrap().file_name())
                    .collect::<Vec<_>>()
            )
        });
        assert_eq!(
            strip_time(&line),
            format!("f.service[2]: followed {i:02} ........................")
        );
    }
}

/// Stops the `unitd logs -f` child we started, also when the test fails.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
