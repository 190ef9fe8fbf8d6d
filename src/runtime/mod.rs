//! The manager loop: owns the [`Manager`] (engine + loader + supervisor) and the façades'
//! connections, and moves data between them. One task, one thread of control: incoming D-Bus
//! calls, reaped children and timers are handled one at a time, and every reply is sent before
//! the signals its call caused — the ordering stock clients rely on. Turns that only drained
//! notify datagrams leave signals and garbage collection to the next idle turn (bounded by
//! `NOTIFY_DEFER_TURNS`), so a notification flood costs one batch of signals, not one per
//! datagram; the fd-store epoll instance is polled here too.

pub mod builtin;
pub mod manager;
pub mod reexec;

use std::process::ExitCode;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

pub use manager::Manager;

use crate::bus::systemd::{self, SystemdFacade};
use crate::bus::upstart::{self, UpstartFacade};
use crate::bus::{Bus, BusEvent};
use crate::engine::{ActiveState, JobType};
use crate::settings::{Scope, Settings};

/// Notify datagrams handled per loop turn before other events get a chance.
const NOTIFY_BUDGET: usize = 512;
/// Turns spent only on notify datagrams defer D-Bus signals and garbage collection to the
/// next idle moment (systemd sends its bus queue at idle priority, too), but never for more
/// than this many turns in a row: a sustained flood still lets clients see its changes.
const NOTIFY_DEFER_TURNS: u32 = 32;

/// The notify socket as a tokio-pollable fd. The caller must drop the result before `mgr`.
fn notify_async_fd(mgr: &Manager) -> Option<tokio::io::unix::AsyncFd<std::os::fd::RawFd>> {
    let fd = mgr.notify_fd()?;
    // SAFETY: the Manager owns the socket for its whole life and never replaces it; every
    // caller declares the AsyncFd after the Manager, so it is dropped (deregistered) first.
    let registered = unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE)
    };
    match registered {
        Ok(a) => Some(a),
        Err(e) => {
            tracing::warn!("cannot poll the notify socket: {e}");
            None
        }
    }
}

/// The fd-store epoll instance as a tokio-pollable fd (same ownership rule as
/// [`notify_async_fd`]).
fn fd_store_async_fd(mgr: &Manager) -> Option<tokio::io::unix::AsyncFd<std::os::fd::RawFd>> {
    let fd = mgr.fd_store_poll_fd()?;
    // SAFETY: the supervisor owns the epoll fd for the Manager's whole life; the AsyncFd is
    // declared after the Manager, so it is dropped (deregistered) first.
    let registered = unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE)
    };
    registered
        .inspect_err(|e| tracing::warn!("cannot poll the fd store: {e}"))
        .ok()
}

/// Wait until `fd` (the notify socket, the fd-store epoll) is readable; never resolves
/// without one.
async fn notify_readable(
    fd: Option<&tokio::io::unix::AsyncFd<std::os::fd::RawFd>>,
) -> Option<tokio::io::unix::AsyncFdReadyGuard<'_, std::os::fd::RawFd>> {
    match fd {
        Some(fd) => fd.readable().await.ok(),
        None => std::future::pending().await,
    }
}

/// Drain a readable notify socket (bounded), re-arming readiness only once it is empty.
/// Returns whether datagrams are still queued.
fn on_notify_readable(
    mgr: &mut Manager,
    guard: Option<tokio::io::unix::AsyncFdReadyGuard<'_, std::os::fd::RawFd>>,
) -> bool {
    let drained = mgr.drain_notify(NOTIFY_BUDGET);
    if drained && let Some(mut g) = guard {
        g.clear_ready();
    }
    !drained
}

/// The next readable socket unit; never resolves without a channel.
async fn recv_socket_event(
    rx: Option<&mut tokio::sync::mpsc::UnboundedReceiver<crate::engine::UnitId>>,
) -> Option<crate::engine::UnitId> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// How long a shutdown waits for units to stop before giving up on them.
const SHUTDOWN_BUDGET: Duration = Duration::from_secs(90);

/// Install the tracing subscriber: stderr, filter from `UNITD_LOG` or `RUST_LOG` (default
/// `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("UNITD_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// A tokio sleep until the engine's next deadline (monotonic µs), or forever.
fn sleep_until_deadline(deadline: Option<u64>) -> tokio::time::Sleep {
    let wait = match deadline {
        Some(d) => Duration::from_micros(d.saturating_sub(manager::now().monotonic)),
        None => Duration::from_secs(3600),
    };
    tokio::time::sleep(wait)
}

/// How long an idle exit keeps answering calls that reached this instance before it released
/// its names.
const IDLE_DRAIN: Duration = Duration::from_millis(500);

/// `unitd serve`: own `org.freedesktop.systemd1` and run the manager until SIGTERM/SIGINT or
/// until the bus goes away; then stop every unit and exit.
pub fn serve(settings: Settings) -> ExitCode {
    serve_with(settings, None)
}

/// [`serve`], optionally exiting after `exit_idle` of idleness (see [`is_idle`]); the manager
/// environment survives into the next (bus-activated) instance.
pub fn serve_with(settings: Settings, exit_idle: Option<Duration>) -> ExitCode {
    init_logging();
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("unitd: cannot start the event loop: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A re-executed manager (daemon-reexec) restores the state its predecessor left.
    let (settings, restored) = match reexec::take_state_from_env() {
        Some(Ok(state)) => (state.settings.clone(), Some(state)),
        Some(Err(e)) => {
            tracing::error!("cannot restore the state after reexec, starting afresh: {e}");
            (settings, None)
        }
        None => (settings, None),
    };
    rt.block_on(async move {
        match serve_async(settings, exit_idle, restored).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("unitd: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Connect to the bus and own the name. After a reexec the bus may not have noticed yet that
/// the old image's connection is gone, so a taken name is retried for a while; otherwise a
/// taken name means another manager runs.
async fn connect_bus(settings: &Settings, restored: bool) -> Result<Bus, String> {
    let mut tries = if restored { 100 } else { 0 };
    loop {
        match Bus::connect(settings, systemd::BUS_NAME).await {
            Ok(bus) => return Ok(bus),
            Err(crate::bus::BusError::NameTaken(_)) if tries > 0 => {
                tries -= 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(crate::bus::BusError::NameTaken(name)) => {
                return Err(format!(
                    "{name} is already owned by another process on this bus; \
                     another manager is running, not starting a second one"
                ));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

async fn serve_async(
    mut settings: Settings,
    exit_idle: Option<Duration>,
    restored: Option<reexec::ManagerState>,
) -> Result<(), String> {
    // Pin the bus address (`--bus`, else `$DBUS_STARTER_ADDRESS`) so a re-executed manager
    // reconnects to the same bus.
    settings.bus_address =
        crate::bus::connection::bus_address(&settings, std::env::var("DBUS_STARTER_ADDRESS").ok());
    if settings.scope == Scope::User {
        ensure_own_runtime_dir(&settings.runtime_dir)?;
        // dbus-update-activation-environment and systemctl look for this directory.
        let dir = settings.runtime_dir.join("systemd");
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::warn!("cannot create {}: {e}", dir.display());
        }
    }
    let mut sigchld = signal(SignalKind::child()).map_err(|e| e.to_string())?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    // The name first: a second instance must fail before it touches anything a running
    // manager uses (the notify socket, the private socket). Calls that arrive as soon as the
    // name is owned wait in the bus's queue until the loop below answers them, by which time
    // every unit is loaded.
    let was_restored = restored.is_some();
    let mut bus = connect_bus(&settings, was_restored).await?;
    let mut mgr = match restored {
        Some(state) => match Manager::restore(state) {
            Ok(m) => {
                tracing::info!("restored the manager state after reexec");
                m
            }
            Err(e) => {
                // Keep serving rather than exit: running services stay our children, and
                // clients can still see and stop what is loaded.
                tracing::error!("cannot restore the state after reexec, starting afresh: {e}");
                Manager::new(settings.clone()).map_err(|e| format!("cannot start: {e}"))?
            }
        },
        None => Manager::new(settings.clone()).map_err(|e| format!("cannot start: {e}"))?,
    };
    if was_restored {
        // Children that exited while no SIGCHLD handler was installed.
        mgr.reap_children();
    }
    if settings.scope == Scope::System && settings.mark_booted {
        let marker = settings.runtime_dir.join("systemd/system");
        if let Err(e) = std::fs::create_dir_all(&marker) {
            tracing::warn!("cannot create {}: {e}", marker.display());
        }
    }
    // The private socket; never taken over from a live manager (the host's own systemd).
    let private = systemd::private_socket_path(&settings);
    if std::os::unix::net::UnixStream::connect(&private).is_ok() {
        tracing::warn!(
            "not serving {}: another manager answers there",
            private.display()
        );
    } else if let Err(e) = bus.listen_private(&private) {
        tracing::warn!("not serving {}: {e}", private.display());
    }
    restore_environment(&mut mgr);
    let mut facade = SystemdFacade::new();
    let mut upstart = UpstartFacade::new();
    if was_restored {
        // `Reloading(false)` and whatever changed while restoring.
        mgr.process();
        let changes = mgr.take_changes();
        let msgs = facade.signals(&mgr, &changes);
        bus.emit(&msgs);
    }
    if let Err(e) = bus.request_name(upstart::BUS_NAME).await {
        tracing::warn!("not serving {}: {e}", upstart::BUS_NAME);
    }
    if let Some(name) = &settings.upstart_p2p
        && let Err(e) = bus.listen_abstract(name)
    {
        tracing::warn!("not serving unix:abstract={name}: {e}");
    }
    tracing::info!(
        "unitd {} serving org.freedesktop.systemd1 ({} scope)",
        env!("CARGO_PKG_VERSION"),
        if settings.scope == Scope::User {
            "user"
        } else {
            "system"
        }
    );
    let mut stopping: Option<tokio::time::Instant> = None;
    // Once the bus is gone, its event stream is not polled again (it would return at once).
    let mut bus_lost = false;
    let notify_fd = notify_async_fd(&mgr);
    let fd_store_fd = fd_store_async_fd(&mgr);
    // Fairness: after a turn that left notify datagrams queued, the bus goes first once, so a
    // flood of notifications never starves D-Bus clients.
    let mut notify_backlog = false;
    // Notify-only turns since signals were last sent (see NOTIFY_DEFER_TURNS).
    let mut deferred_turns: u32 = 0;
    let mut socket_events = mgr.take_socket_events();
    // Processes adopted by scopes are not our children: their exit comes from pidfds.
    let adopted_exit = mgr.supervisor().adoption_wakeup();
    // --exit-idle: since when the manager has been idle (measured from the end of the last
    // call), and, once the names are released, until when queued calls are still answered.
    let mut idle_since = exit_idle
        .filter(|_| is_idle(&mgr, &facade, &upstart, &bus))
        .map(|_| tokio::time::Instant::now());
    let mut draining: Option<tokio::time::Instant> = None;
    let mut idle_exit = false;
    loop {
        let deadline = mgr.next_deadline();
        let idle_deadline = match (exit_idle, idle_since) {
            (Some(after), Some(since)) if draining.is_none() && stopping.is_none() => {
                Some(since + after)
            }
            _ => None,
        };
        let mut activity = false;
        let mut notify_turn = false;
        tokio::select! {
            biased;
            // Notifications before reaping (reap_children drains the socket first, too).
            guard = notify_readable(notify_fd.as_ref()), if !notify_backlog => {
                notify_backlog = on_notify_readable(&mut mgr, guard);
                notify_turn = true;
            }
            _ = sigchld.recv() => { notify_backlog = false; mgr.reap_children() }
            _ = adopted_exit.notified() => { notify_backlog = false; mgr.reap_children() }
            Some(unit) = recv_socket_event(socket_events.as_mut()) => {
                notify_backlog = false;
                mgr.socket_ready(unit);
            }
            event = bus.next_event(), if !bus_lost => { notify_backlog = false; match event {
                Some(BusEvent::Call(msg, ctx)) => {
                    activity = true;
                    let reply = if upstart::owns_message(&msg) {
                        upstart.handle_call(&mut mgr, &msg, &ctx)
                    } else {
                        facade.handle_call(&mut mgr, &msg, &ctx)
                    };
                    if let Some(reply) = reply {
                        bus.send(ctx.conn, reply);
                    }
                }
                Some(BusEvent::PeerGone { conn, name }) => {
                    facade.peer_gone(&mut mgr, conn, name.as_deref());
                }
                None => {
                    bus_lost = true;
                    tracing::info!("lost the bus connection; stopping all units");
                    if stopping.is_none() {
                        stopping = Some(tokio::time::Instant::now() + SHUTDOWN_BUDGET);
                        mgr.stop_all();
                    }
                }
            }},
            _ = sleep_until_deadline(deadline) => { notify_backlog = false; mgr.fire_timers() }
            _ = sleep_until_opt(idle_deadline) => {
                // New calls must activate a fresh instance, not reach one that is leaving;
                // calls already routed here are still answered while draining.
                tracing::info!("idle for {:?}: releasing the bus names", exit_idle.unwrap_or_default());
                bus.close_listeners();
                for name in [systemd::BUS_NAME, upstart::BUS_NAME] {
                    if let Err(e) = bus.release_name(name).await {
                        tracing::warn!("{e}");
                    }
                }
                draining = Some(tokio::time::Instant::now() + IDLE_DRAIN);
            }
            _ = sleep_until_opt(draining) => {
                idle_exit = true;
                break;
            }
            guard = notify_readable(fd_store_fd.as_ref()) => {
                notify_backlog = false;
                mgr.drop_hung_up_stored_fds();
                if let Some(mut g) = guard {
                    g.clear_ready();
                }
            }
            _ = std::future::ready(()), if notify_backlog => {
                notify_backlog = false;
                notify_turn = true;
            }
            _ = sigterm.recv() => {
                tracing::info!("SIGTERM: stopping all units");
                stopping.get_or_insert_with(|| tokio::time::Instant::now() + SHUTDOWN_BUDGET);
                mgr.stop_all();
            }
            _ = sigint.recv() => {
                tracing::info!("SIGINT: stopping all units");
                stopping.get_or_insert_with(|| tokio::time::Instant::now() + SHUTDOWN_BUDGET);
                mgr.stop_all();
            }
            // Idle (lowest priority): send what notify-only turns deferred.
            _ = std::future::ready(()), if deferred_turns > 0 => {}
        }
        mgr.process();
        if notify_turn && deferred_turns < NOTIFY_DEFER_TURNS {
            deferred_turns += 1;
            continue;
        }
        deferred_turns = 0;
        mgr.collect_garbage();
        let changes = mgr.take_changes();
        if !changes.is_empty() || facade.has_pending_signals() {
            let msgs = facade.signals(&mgr, &changes);
            bus.emit(&msgs);
            let msgs = upstart.signals(&mgr, &changes);
            for (conn, reply) in upstart.take_replies() {
                bus.send(conn, reply);
            }
            bus.emit(&msgs);
        }
        if exit_idle.is_some() && stopping.is_none() {
            if !is_idle(&mgr, &facade, &upstart, &bus) {
                idle_since = None;
                if draining.take().is_some() {
                    // A call that arrived while draining gave us work: serve on.
                    tracing::info!("busy again while leaving: taking the bus names back");
                    for name in [systemd::BUS_NAME, upstart::BUS_NAME] {
                        if let Err(e) = bus.request_name(name).await {
                            tracing::warn!("{e}");
                        }
                    }
                    if std::os::unix::net::UnixStream::connect(&private).is_err()
                        && let Err(e) = bus.listen_private(&private)
                    {
                        tracing::warn!("not serving {}: {e}", private.display());
                    }
                    if let Some(name) = &settings.upstart_p2p
                        && let Err(e) = bus.listen_abstract(name)
                    {
                        tracing::warn!("not serving unix:abstract={name}: {e}");
                    }
                }
            } else if idle_since.is_none() || activity {
                idle_since = Some(tokio::time::Instant::now());
            }
        }
        if mgr.reexec_pending(true) {
            if stopping.is_some() {
                tracing::warn!("not reexecuting: shutting down");
            } else {
                // Replies and signals of this turn go out first, then `Reloading(true)`; the
                // Reexecute call itself gets no reply (the client sees the disconnection, as
                // with systemd).
                mgr.announce_reexec();
                let changes = mgr.take_changes();
                let msgs = facade.signals(&mgr, &changes);
                bus.emit(&msgs);
                bus.flush(Duration::from_secs(1)).await;
                let e = reexec::reexecute(&mut mgr);
                tracing::error!("cannot reexecute, carrying on: {e}");
            }
        }
        if let Some(budget) = stopping {
            if !mgr.busy() {
                break;
            }
            if tokio::time::Instant::now() >= budget {
                tracing::warn!("shutdown budget exhausted; exiting with units still running");
                break;
            }
        }
    }
    if idle_exit {
        if let Err(e) = save_environment(&mgr) {
            tracing::warn!("cannot keep the manager environment for the next instance: {e}");
        }
        tracing::info!("idle: exiting; the next call activates a new instance");
    }
    bus.flush(Duration::from_secs(1)).await;
    Ok(())
}

/// The user manager's runtime directory holds its private and notify sockets: create it
/// 0700 when missing, and refuse one that is not a directory owned by us (a fallback under
/// /tmp could have been planted by another user).
fn ensure_own_runtime_dir(dir: &std::path::Path) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    if let Err(e) = std::fs::DirBuilder::new().mode(0o700).create(dir)
        && e.kind() != std::io::ErrorKind::AlreadyExists
    {
        return Err(format!("cannot create {}: {e}", dir.display()));
    }
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|e| format!("cannot inspect {}: {e}", dir.display()))?;
    let me = nix::unistd::geteuid().as_raw();
    if !meta.is_dir() {
        return Err(format!(
            "refusing runtime directory {}: not a directory",
            dir.display()
        ));
    }
    if meta.uid() != me {
        return Err(format!(
            "refusing runtime directory {}: owned by uid {}, not by us (uid {me})",
            dir.display(),
            meta.uid()
        ));
    }
    Ok(())
}

/// A tokio sleep until `at`, or forever.
async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Idle for `--exit-idle`: no job; no unit that holds work — processes, listening sockets,
/// timers — is active or failed (a failed unit keeps the manager, and the failure a user has
/// not looked at yet, around until `reset-failed`); targets, slices and devices do not count,
/// they own nothing and come back on demand. And no client holds a unit reference, no Upstart
/// call waits for its reply, no peer-to-peer client is connected.
fn is_idle(mgr: &Manager, facade: &SystemdFacade, upstart: &UpstartFacade, bus: &Bus) -> bool {
    let holds_work = |u: &crate::engine::Unit| {
        let name = u.name();
        !(name.ends_with(".target") || name.ends_with(".slice") || name.ends_with(".device"))
    };
    mgr.engine().jobs().next().is_none()
        && !mgr
            .engine()
            .units()
            .any(|u| holds_work(u) && u.active_state != ActiveState::Inactive)
        && !facade.has_refs()
        && !upstart.has_pending()
        && bus.p2p_connections() == 0
}

/// Where an idle exit leaves the manager environment for the next instance.
fn idle_environment_path(settings: &Settings) -> std::path::PathBuf {
    settings.state_dir.join("idle-environment")
}

/// This boot's id: state an idle exit leaves behind is only valid within the same boot.
fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// Record how the manager environment differs from the one this instance started with
/// (`SetEnvironment`/`UnsetEnvironment`): NUL-separated `boot=ID`, `+NAME=VALUE`, `-NAME`.
fn save_environment(mgr: &Manager) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let initial = mgr.initial_environment();
    let now = mgr.engine().environment();
    let name = |e: &str| e.split_once('=').map_or(e, |p| p.0).to_owned();
    let mut out = format!("boot={}\0", boot_id());
    for e in now.iter().filter(|e| !initial.contains(e)) {
        out.push_str(&format!("+{e}\0"));
    }
    let names_now: Vec<String> = now.iter().map(|e| name(e)).collect();
    for e in initial {
        let n = name(e);
        if !names_now.contains(&n) {
            out.push_str(&format!("-{n}\0"));
        }
    }
    let path = idle_environment_path(mgr.settings());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    std::io::Write::write_all(&mut f, out.as_bytes())?;
    std::fs::rename(&tmp, &path)
}

/// Apply (and consume) what the previous instance's idle exit recorded, if it was this boot.
fn restore_environment(mgr: &mut Manager) {
    let path = idle_environment_path(mgr.settings());
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    let _ = std::fs::remove_file(&path);
    let mut entries = text.split('\0').filter(|e| !e.is_empty());
    if entries.next() != Some(&format!("boot={}", boot_id())) {
        tracing::info!("ignoring {}: from another boot", path.display());
        return;
    }
    let (mut set, mut unset) = (Vec::new(), Vec::new());
    for e in entries {
        if let Some(v) = e.strip_prefix('+') {
            set.push(v.to_owned());
        } else if let Some(n) = e.strip_prefix('-') {
            unset.push(n.to_owned());
        }
    }
    tracing::info!(
        "restored the manager environment of the previous instance ({} set, {} unset)",
        set.len(),
        unset.len()
    );
    mgr.set_environment(&unset, &set);
}

/// `unitd run UNIT`: start one unit in the foreground with full supervision, without D-Bus.
/// Prints state changes to stderr; SIGINT/SIGTERM stop it. Exits 0 when the unit ends
/// `inactive`, 1 when it ends `failed` or cannot be started.
pub fn run_unit(settings: Settings, unit: &str) -> ExitCode {
    init_logging();
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("unitd: cannot start the event loop: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(run_unit_async(settings, unit))
}

async fn run_unit_async(settings: Settings, name: &str) -> ExitCode {
    let (Ok(mut sigchld), Ok(mut sigterm), Ok(mut sigint)) = (
        signal(SignalKind::child()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        eprintln!("unitd: cannot install signal handlers");
        return ExitCode::FAILURE;
    };
    let mut mgr = match Manager::new(settings) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("unitd: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = mgr.enqueue(name, JobType::Start, "replace") {
        eprintln!("Failed to start {name}: {}", e.message());
        return ExitCode::from(1);
    }
    mgr.process();
    let Some(id) = mgr.engine().lookup(name) else {
        return ExitCode::FAILURE;
    };
    let mut last = String::new();
    let mut tail = LogTail::new(crate::supervisor::logs::log_path(
        &mgr.settings().state_dir,
        name,
    ));
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let notify_fd = notify_async_fd(&mgr);
    loop {
        tail.print_new();
        let u = mgr.engine().unit(id);
        let now = format!("{} ({})", u.active_state.as_str(), u.sub_state());
        if now != last {
            eprintln!("unitd: {name}: {now}");
            last = now;
        }
        let done = u.active_state.is_inactive_or_failed() && mgr.engine().jobs().next().is_none();
        if done {
            // Give the log pumps a moment to drain what the last process wrote.
            tokio::time::sleep(Duration::from_millis(100)).await;
            tail.print_new();
            return if u.active_state == ActiveState::Failed {
                eprintln!("unitd: {name}: result {}", u.service.result.as_str());
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
        let deadline = mgr.next_deadline();
        tokio::select! {
            biased;
            guard = notify_readable(notify_fd.as_ref()) => {
                on_notify_readable(&mut mgr, guard);
            }
            _ = sigchld.recv() => mgr.reap_children(),
            _ = sleep_until_deadline(deadline) => mgr.fire_timers(),
            _ = tick.tick() => {}
            _ = sigterm.recv() => { let _ = mgr.enqueue(name, JobType::Stop, "replace"); }
            _ = sigint.recv() => { let _ = mgr.enqueue(name, JobType::Stop, "replace"); }
        }
        mgr.process();
        let _ = mgr.take_changes();
    }
}

/// Follows one unit's log file and prints new records to stdout (`unitd run`).
struct LogTail {
    path: std::path::PathBuf,
    offset: u64,
    partial: Vec<u8>,
}

impl LogTail {
    fn new(path: std::path::PathBuf) -> LogTail {
        // Only what the run produces: skip what is already there.
        let offset = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        LogTail {
            path,
            offset,
            partial: Vec::new(),
        }
    }

    fn print_new(&mut self) {
        use std::io::{Read, Seek, SeekFrom, Write};
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return;
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len < self.offset {
            // Rotated: start over in the new file.
            self.offset = 0;
            self.partial.clear();
        }
        if f.seek(SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        let mut buf = Vec::new();
        if f.read_to_end(&mut buf).is_err() {
            return;
        }
        self.offset += buf.len() as u64;
        self.partial.extend_from_slice(&buf);
        let mut out = Vec::new();
        while let Some(nl) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=nl).collect();
            if let Some(rec) = crate::supervisor::logs::parse_record(&line[..line.len() - 1]) {
                crate::supervisor::logs::display_record(&mut out, &rec);
            }
        }
        let _ = std::io::stdout().write_all(&out);
    }
}
