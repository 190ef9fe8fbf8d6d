//! Acceptance: `systemd-run --user -P` (`--pipe`) hands the client's own stdin, stdout and
//! stderr to the service (`Standard*FileDescriptor` properties, unix fds over the bus), waits
//! for it, and exits with its status; `-t` passes a pseudo-terminal; `--scope` over the private
//! socket.

mod common;

use common::*;

fn sh(m: &UserManager, script: &str) -> Output {
    m.systemctl_runner().run_other("sh", &["-c", script])
}

#[test]
fn pipe_connects_stdio_and_returns_the_status() {
    let Some(m) = UserManager::start_requiring(&[], &["systemd-run"]) else {
        return;
    };
    let out = sh(&m, "echo hi | systemd-run --user -P cat");
    m.check(
        out.code == 0 && out.stdout == "hi\n",
        "stdin piped through cat to stdout",
        &out,
    );

    let err = m.dir.path().join("err.txt");
    let out = sh(
        &m,
        &format!(
            "systemd-run --user -P --unit=piped /bin/sh -c 'echo out; echo err >&2; exit 4' \
             2>{err}; echo status=$?; cat {err}",
            err = err.display()
        ),
    );
    m.check(
        out.stdout.starts_with("out\nstatus=4\n") && out.stdout.contains("err\n"),
        "stdout, stderr and the exit status",
        &out,
    );
}

#[test]
fn tty_gives_the_service_a_terminal() {
    let Some(m) = UserManager::start_requiring(&[], &["systemd-run"]) else {
        return;
    };
    // -t allocates a pseudo-terminal in the client and passes its slave side.
    let out = sh(
        &m,
        "systemd-run --user -t /bin/sh -c 'test -t 0 && test -t 1 && echo tty-ok TERM=$TERM' \
         </dev/null",
    );
    m.check(
        out.code == 0 && out.stdout.contains("tty-ok TERM=dumb"),
        "the service runs on the client's pseudo-terminal",
        &out,
    );
}

#[test]
fn scope_over_the_private_socket() {
    let Some(m) = UserManager::start_requiring(&[], &["systemd-run"]) else {
        return;
    };
    // Without a session bus, systemd-run --user --scope talks to
    // $XDG_RUNTIME_DIR/systemd/private (peer-to-peer: unit/self is resolved from the caller's
    // SO_PEERCRED PID). (-P and --wait need a real bus in systemd-run itself.)
    let out = sh(
        &m,
        "unset DBUS_SESSION_BUS_ADDRESS; \
         systemd-run --user --scope /bin/sh -c 'echo scope-inv=$INVOCATION_ID'",
    );
    m.check(
        out.code == 0
            && out
                .stdout
                .lines()
                .any(|l| l.strip_prefix("scope-inv=").is_some_and(|v| v.len() == 32))
            && out.stderr.contains("Running scope as unit: run-r"),
        "systemd-run --scope over the private socket",
        &out,
    );
}
