//! Container init mode (`unitd init`): what the manager does differently as PID 1 — which
//! signals it must not die from, and the settings `init` implies. The boot sequence itself
//! (system bus from `dbus.service`, then `default.target`) and the shutdown run in the daemon
//! loop ([`super::serve_with`] with [`super::ServeOptions::boot_target`]).
//!
//! # Signals
//! The loop handles SIGCHLD (reaping — the supervisor reaps every child, orphans of other
//! processes included, since the manager is PID 1 or a child subreaper), SIGTERM and SIGINT
//! (stop everything and exit), SIGHUP (daemon-reload) and SIGRTMIN+3/+4/+5 (halt, power-off,
//! reboot: what container runtimes send a systemd PID 1). Every other signal whose default
//! action would end or stop the process is ignored here, so a stray `kill -USR1` or a terminal
//! signal never takes the manager (and with it the container) down. Faults (SIGSEGV, SIGBUS,
//! SIGILL, SIGFPE, SIGABRT) and SIGQUIT keep their default. Spawned processes start with every
//! disposition reset to the default (the supervisor's child set-up), so nothing ignored here
//! leaks into services.
//!
//! # Process name
//! As PID 1, the manager names itself `systemd` (`/proc/1/comm`, what `ps -o comm` shows; the
//! command line still reads `unitd init`): configuration tools decide which service manager
//! runs from that name — Ansible's `ansible_service_mgr` fact, and the roles that branch on it,
//! expect `systemd` where the systemd API is served.
//!
//! # Container
//! Inside a container, init mode writes the container manager's name to
//! `/run/systemd/container`, as systemd's PID 1 does: `$container` as the runtime set it for
//! PID 1 (`docker`, `podman`, `lxc`, `systemd-nspawn`, …), or, when the runtime set none, the
//! container detection's answer (its marker files, a private cgroup namespace). Units' own
//! `ConditionVirtualization=` (e.g. `!container` on `systemd-random-seed.service`),
//! `systemd-detect-virt` and other tools in the container read it there, since services do not
//! inherit PID 1's environment. Outside a container nothing is written.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The container manager's name for `/run/systemd/container` (module docs): `$container` as
/// the container runtime gave it to PID 1, else what container detection finds (`docker`,
/// `podman`, …), else `None` — not in a container.
fn container_id(
    env_container: Option<String>,
    detected: impl FnOnce() -> Option<String>,
) -> Option<String> {
    env_container.filter(|v| !v.is_empty()).or_else(detected)
}

/// Write `<runtime_dir>/systemd/container` (see the module docs); nothing outside a
/// container.
pub fn write_container_id(runtime_dir: &Path) {
    let Some(name) = container_id(std::env::var("container").ok(), || {
        crate::conditions::detect_container(Path::new("/"), std::process::id() == 1)
    }) else {
        return;
    };
    let dir = runtime_dir.join("systemd");
    let path = dir.join("container");
    let r = std::fs::create_dir_all(&dir).and_then(|()| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&path)?;
        f.write_all(format!("{name}\n").as_bytes())
    });
    if let Err(e) = r {
        tracing::warn!("cannot write {}: {e}", path.display());
    }
}

/// Signals ignored by the manager (see the module docs).
fn ignored_signals() -> Vec<libc::c_int> {
    let mut v = vec![
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGALRM,
        libc::SIGVTALRM,
        libc::SIGPROF,
        libc::SIGIO,
        libc::SIGPWR,
        libc::SIGXFSZ,
        libc::SIGTSTP,
        libc::SIGTTIN,
        libc::SIGTTOU,
        libc::SIGPIPE,
        libc::SIGSTKFLT,
    ];
    // Real-time signals, except SIGRTMIN+3/+4/+5, which the loop handles.
    for n in libc::SIGRTMIN()..=libc::SIGRTMAX() {
        if !(3..=5).contains(&(n - libc::SIGRTMIN())) {
            v.push(n);
        }
    }
    v
}

/// Ignore every signal the manager neither handles nor may die from (module docs). Called
/// before the loop installs its handlers.
pub fn ignore_stray_signals() {
    for sig in ignored_signals() {
        // SAFETY: sigaction with SIG_IGN and an empty mask; no handler code runs.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = libc::SIG_IGN;
            libc::sigemptyset(&mut sa.sa_mask);
            if libc::sigaction(sig, &sa, std::ptr::null_mut()) < 0 {
                tracing::debug!(
                    "cannot ignore signal {sig}: {}",
                    std::io::Error::last_os_error()
                );
            }
        }
    }
}

/// As PID 1, name the process `systemd` (see the module docs); elsewhere do nothing.
pub fn take_init_name() {
    if std::process::id() != 1 {
        return;
    }
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    let r = unsafe { libc::prctl(libc::PR_SET_NAME, c"systemd".as_ptr(), 0, 0, 0) };
    if r != 0 {
        tracing::warn!(
            "cannot name PID 1 systemd: {}",
            std::io::Error::last_os_error()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_id_prefers_the_runtimes_variable() {
        let detected = || Some("docker".to_owned());
        assert_eq!(
            container_id(Some("podman".into()), detected).as_deref(),
            Some("podman")
        );
        assert_eq!(
            container_id(Some(String::new()), detected).as_deref(),
            Some("docker")
        );
        assert_eq!(container_id(None, detected).as_deref(), Some("docker"));
        assert_eq!(container_id(None, || None), None);
    }

    #[test]
    fn handled_and_fatal_signals_are_not_ignored() {
        let ignored = ignored_signals();
        for sig in [
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGHUP,
            libc::SIGCHLD,
            libc::SIGKILL,
            libc::SIGSTOP,
            libc::SIGSEGV,
            libc::SIGQUIT,
            libc::SIGRTMIN() + 3,
            libc::SIGRTMIN() + 4,
            libc::SIGRTMIN() + 5,
        ] {
            assert!(!ignored.contains(&sig), "{sig} must not be ignored");
        }
        assert!(ignored.contains(&libc::SIGUSR1));
        assert!(ignored.contains(&libc::SIGRTMAX()));
    }
}
