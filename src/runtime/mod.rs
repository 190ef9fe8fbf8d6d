//! The manager loop: owns the [`Manager`] (engine + loader + supervisor) and the façades'
//! connections, and moves data between them. One task, one thread of control: incoming D-Bus
//! calls, reaped children and timers are handled one at a time, and every reply is sent before
//! the signals its call caused — the ordering stock clients rely on. Turns that only drained
//! notify datagrams leave signals and garbage collection to the next idle turn (bounded by
//! `NOTIFY_DEFER_TURNS`), so a notification flood costs one batch of signals, not one per
//! datagram; the fd-store epoll instance is polled here too.
//!
//! The same loop runs `unitd serve` and `unitd init` ([`ServeOptions`]): init mode first
//! brings up the system bus from `dbus.service` (socket-activated by `dbus.socket`), connects
//! once it is active, then starts the boot target, and answers dbus-daemon's
//! `ActivationRequest`s ([`init`] has the signal rules). Every shutdown — SIGTERM/SIGINT,
//! `PowerOff()`/`Halt()`/`Reboot()`/`KExec()`/`Exit()`, a start of a shutdown target, or (for
//! `serve`) the loss of the bus — stops every unit within the budget, SIGKILLs what is left
//! and ends the loop with the exit status.

pub mod builtin;
pub mod init;
pub mod manager;
pub mod mounts;
pub mod reexec;
pub mod timers;

use std::process::ExitCode;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

pub use manager::{Manager, ShutdownAction};

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

/// How long a shutdown waits for units to stop before giving up on them (systemd's
/// `DefaultTimeoutStopSec=`; `--shutdown-timeout` changes it).
pub const SHUTDOWN_BUDGET: Duration = Duration::from_secs(90);

/// After the budget: how long to wait for SIGKILLed processes to be reaped before exiting.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// Exit status after the shutdown budget ran out and processes had to be killed.
const EXIT_BUDGET_EXHAUSTED: u8 = 1;

/// How [`serve_with`] runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Container init mode (`unitd init`): bring up the system bus from `dbus.service`
    /// before connecting to it, then start this unit (`default.target`). `None`: `serve`,
    /// which connects to the bus at once.
    pub boot_target: Option<String>,
    /// The shutdown budget.
    pub shutdown_timeout: Duration,
    /// `--exit-idle`: exit after this long without work (see [`is_idle`]); the manager
    /// environment survives into the next (bus-activated) instance. User scope only.
    pub exit_idle: Option<Duration>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            boot_target: None,
            shutdown_timeout: SHUTDOWN_BUDGET,
            exit_idle: None,
        }
    }
}

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

/// `unitd serve`: own `org.freedesktop.systemd1` and run the manager until SIGTERM/SIGINT or
/// until the bus goes away; then stop every unit and exit.
pub fn serve(settings: Settings) -> ExitCode {
    serve_with(settings, ServeOptions::default())
}

/// `unitd serve` / `unitd init` with explicit [`ServeOptions`]. Exit status: 0 after every
/// unit stopped, 1 when the shutdown budget ran out (or the manager could not start).
pub fn serve_with(settings: Settings, opts: ServeOptions) -> ExitCode {
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
        match serve_async(settings, opts, restored).await {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("unitd: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// How long an idle exit keeps answering calls that reached this instance before it released
/// its names.
const IDLE_DRAIN: Duration = Duration::from_millis(500);

/// The unit that brings up the system bus in init mode.
const BUS_SERVICE: &str = "dbus.service";

/// Where init mode is in bringing up the system bus.
enum Boot {
    /// Connected (or running without a bus); nothing to do.
    Done,
    /// `dbus.service` is starting; connect once it is active, then start `target`.
    WaitingForBus { target: String },
    /// The bus connection was lost (dbus-daemon went away): connect again once `dbus.service`
    /// is active with another main process (restarted, or socket-activated by a client).
    Reconnect { lost: Option<u32> },
}

/// Connect to the message bus and claim the names (`org.freedesktop.systemd1`, then
/// `com.ubuntu.Upstart`). Calls arriving once a name is owned are already collected. After a
/// reexec (`retry_taken`) the bus may not have noticed yet that the old image's connection is
/// gone, so a taken name is retried for a while; otherwise a taken name means another manager
/// runs.
async fn connect_bus(bus: &mut Bus, settings: &Settings, retry_taken: bool) -> Result<(), String> {
    // `serve` pinned `--bus`/`$DBUS_STARTER_ADDRESS` into the settings; init mode starts the
    // bus itself and uses only `--bus` (never an activating bus's address).
    let mut owned = bus
        .connect_bus(
            settings.scope,
            settings.bus_address.as_deref(),
            systemd::BUS_NAME,
        )
        .await
        .map(drop);
    // The same connection asks again while the old image's name is being released.
    let mut tries = if retry_taken { 100 } else { 0 };
    while tries > 0 && matches!(owned, Err(crate::bus::BusError::NameTaken(_))) {
        tries -= 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
        owned = bus.request_name(systemd::BUS_NAME).await;
    }
    match owned {
        Ok(()) => {}
        Err(crate::bus::BusError::NameTaken(name)) => {
            return Err(format!(
                "{name} is already owned by another process on this bus; \
                 another manager is running, not starting a second one"
            ));
        }
        Err(e) => return Err(e.to_string()),
    }
    if let Err(e) = bus.request_name(upstart::BUS_NAME).await {
        tracing::warn!("not serving {}: {e}", upstart::BUS_NAME);
    }
    Ok(())
}

/// Queue the start of the boot target (init mode).
fn start_boot_target(mgr: &mut Manager, target: &str) {
    tracing::info!("starting {target}");
    if let Err(e) = mgr.enqueue(target, JobType::Start, "replace") {
        tracing::warn!("cannot start {target}: {}", e.message());
    }
    mgr.process();
}

/// The state of `dbus.service`: (active, inactive or failed without a job).
fn bus_service_state(mgr: &Manager) -> (bool, bool) {
    match mgr.engine().lookup(BUS_SERVICE) {
        Some(id) => {
            let u = mgr.engine().unit(id);
            (
                u.active_state == ActiveState::Active,
                u.active_state.is_inactive_or_failed() && u.job.is_none(),
            )
        }
        None => (false, true),
    }
}

/// The main process of `dbus.service` (the dbus-daemon the bus connection goes to).
fn bus_service_pid(mgr: &Manager) -> Option<u32> {
    let id = mgr.engine().lookup(BUS_SERVICE)?;
    mgr.engine().unit(id).service.main_pid
}

/// The error dbus-daemon hands the callers waiting for an activation whose start job failed
/// (the one it reports itself when a service it launched exits early).
const ACTIVATION_FAILED: &str = "org.freedesktop.DBus.Error.Spawn.ChildExited";

/// Activation start jobs that finished without success: tell dbus-daemon
/// (`ActivationFailure`), so the callers get an error now instead of at its activation timeout.
fn report_failed_activations(
    bus: &mut Bus,
    activations: &mut std::collections::HashMap<crate::engine::JobId, String>,
    changes: &[crate::engine::Change],
) {
    for c in changes {
        if let crate::engine::Change::JobRemoved {
            job,
            unit_name,
            result,
            ..
        } = c
            && let Some(requested) = activations.remove(job)
            && *result != crate::engine::JobResult::Done
        {
            let msg = format!(
                "Unit {unit_name} failed to start (job result: {}).",
                result.as_str()
            );
            tracing::warn!("bus activation of {requested}: {msg}");
            bus.activation_failure(&requested, ACTIVATION_FAILED, &msg);
        }
    }
}

/// Start a shutdown: stop every unit, set the budget.
fn begin_shutdown(
    mgr: &mut Manager,
    stopping: &mut Option<tokio::time::Instant>,
    budget: Duration,
    why: &str,
) {
    if stopping.is_none() {
        tracing::info!("{why}: stopping all units");
        *stopping = Some(tokio::time::Instant::now() + budget);
    }
    mgr.stop_all();
    mgr.cancel_non_stop_jobs();
}

async fn serve_async(
    mut settings: Settings,
    opts: ServeOptions,
    restored: Option<reexec::ManagerState>,
) -> Result<u8, String> {
    let init = opts.boot_target.is_some();
    let exit_idle = opts.exit_idle;
    if !init {
        // Pin the bus address (`--bus`, else `$DBUS_STARTER_ADDRESS`) so a re-executed
        // manager reconnects to the same bus.
        settings.bus_address = crate::bus::connection::bus_address(
            &settings,
            std::env::var("DBUS_STARTER_ADDRESS").ok(),
        );
    }
    if settings.scope == Scope::User {
        ensure_own_runtime_dir(&settings.runtime_dir)?;
        // dbus-update-activation-environment and systemctl look for this directory.
        let dir = settings.runtime_dir.join("systemd");
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::warn!("cannot create {}: {e}", dir.display());
        }
    }
    init::ignore_stray_signals();
    if init {
        init::take_init_name();
    }
    let sig = |k: SignalKind| signal(k).map_err(|e| format!("cannot handle signals: {e}"));
    let mut sigchld = sig(SignalKind::child())?;
    let mut sigterm = sig(SignalKind::terminate())?;
    let mut sigint = sig(SignalKind::interrupt())?;
    let mut sighup = sig(SignalKind::hangup())?;
    // systemd's SIGRTMIN+3/+4/+5: halt, power-off, reboot (what container runtimes send to a
    // systemd PID 1).
    let mut sig_halt = sig(SignalKind::from_raw(libc::SIGRTMIN() + 3))?;
    let mut sig_poweroff = sig(SignalKind::from_raw(libc::SIGRTMIN() + 4))?;
    let mut sig_reboot = sig(SignalKind::from_raw(libc::SIGRTMIN() + 5))?;
    let was_restored = restored.is_some();
    let mut bus = Bus::new();
    // The private socket first, so it answers as soon as the name is visible (clients that
    // saw the name may go straight to it); it is never taken over from a live manager (the
    // host's own systemd, or another instance that owns the name), and its calls wait in the
    // queue until the loop below answers them.
    let private = systemd::private_socket_path(&settings);
    if std::os::unix::net::UnixStream::connect(&private).is_ok() {
        tracing::warn!(
            "not serving {}: another manager answers there",
            private.display()
        );
    } else if let Err(e) = bus.listen_private(&private) {
        tracing::warn!("not serving {}: {e}", private.display());
    }
    if !init {
        // The name first: a second instance must fail before it touches anything a running
        // manager uses (the notify socket, the private socket). Calls that arrive as soon as
        // the name is owned wait in the bus's queue until the loop below answers them, by
        // which time every unit is loaded.
        connect_bus(&mut bus, &settings, was_restored).await?;
    }
    if settings.scope == Scope::System && settings.mark_booted {
        let marker = settings.runtime_dir.join("systemd/system");
        if let Err(e) = std::fs::create_dir_all(&marker) {
            tracing::warn!("cannot create {}: {e}", marker.display());
        }
    }
    if init && !was_restored {
        init::write_container_id(&settings.runtime_dir);
    }
    let bus_clients = restored
        .as_ref()
        .map(|s| s.bus_clients.clone())
        .unwrap_or_default();
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
    let mut boot = match &opts.boot_target {
        None => Boot::Done,
        // A re-executed init finds its bus running: connect to it at once.
        Some(_) if was_restored && bus_service_state(&mgr).0 => {
            match connect_bus(&mut bus, &settings, true).await {
                Ok(()) => tracing::info!("connected to the system bus again"),
                Err(e) => tracing::warn!("running without the system bus: {e}"),
            }
            Boot::Done
        }
        Some(target) => match mgr.enqueue(BUS_SERVICE, JobType::Start, "replace") {
            Ok(_) => {
                tracing::info!("starting {BUS_SERVICE} for the system bus");
                mgr.process();
                Boot::WaitingForBus {
                    target: target.clone(),
                }
            }
            Err(e) => {
                tracing::warn!(
                    "cannot start {BUS_SERVICE}: {}; running without a system bus",
                    e.message()
                );
                start_boot_target(&mut mgr, target);
                Boot::Done
            }
        },
    };
    restore_environment(&mut mgr);
    let mut facade = SystemdFacade::new();
    let mut upstart = UpstartFacade::new();
    if was_restored {
        restore_bus_clients(&mut facade, &mut mgr, &bus, bus_clients).await;
        // `Reloading(false)` and whatever changed while restoring.
        mgr.process();
        let changes = mgr.take_changes();
        let msgs = facade.signals(&mgr, &changes);
        bus.emit(&msgs);
    }
    if let Some(name) = &settings.upstart_p2p
        && let Err(e) = bus.listen_abstract(name)
    {
        tracing::warn!("not serving unix:abstract={name}: {e}");
    }
    tracing::info!(
        "unitd {} {} ({} scope{})",
        env!("CARGO_PKG_VERSION"),
        if init {
            "running as init"
        } else {
            "serving org.freedesktop.systemd1"
        },
        if settings.scope == Scope::User {
            "user"
        } else {
            "system"
        },
        if std::process::id() == 1 {
            ", PID 1"
        } else {
            ""
        }
    );
    let mut stopping: Option<tokio::time::Instant> = None;
    // Set once the budget ran out and the remaining processes were killed.
    let mut killed: Option<tokio::time::Instant> = None;
    let notify_fd = notify_async_fd(&mgr);
    let fd_store_fd = fd_store_async_fd(&mgr);
    // Fairness: after a turn that left notify datagrams queued, the bus goes first once, so a
    // flood of notifications never starves D-Bus clients.
    let mut notify_backlog = false;
    // Notify-only turns since signals were last sent (see NOTIFY_DEFER_TURNS).
    let mut deferred_turns: u32 = 0;
    let mut socket_events = mgr.take_socket_events();
    // The wall clock being set: calendar timers recompute, OnClockChange= timers trigger.
    let clock_watch = timers::ClockWatch::new();
    // `/etc/localtime` changing: the same, OnTimezoneChange= timers trigger.
    let tz_watch = timers::TimezoneWatch::new();
    // Processes adopted by scopes are not our children: their exit comes from pidfds.
    let adopted_exit = mgr.supervisor().adoption_wakeup();
    // Start jobs queued for dbus-daemon's ActivationRequest, with the unit name it asked for.
    let mut activations: std::collections::HashMap<crate::engine::JobId, String> =
        std::collections::HashMap::new();
    // --exit-idle: since when the manager has been idle (measured from the end of the last
    // call), and, once the names are released, until when queued calls are still answered.
    let mut idle_since = exit_idle
        .filter(|_| is_idle(&mgr, &facade, &upstart, &bus))
        .map(|_| tokio::time::Instant::now());
    let mut draining: Option<tokio::time::Instant> = None;
    let mut idle_exit = false;
    // Without a boot target and nothing queued, start-up is over before the first call.
    if matches!(boot, Boot::Done) {
        mgr.check_startup_finished();
    }
    loop {
        let deadline = match (mgr.next_deadline(), stopping, killed) {
            // Wake up for the shutdown budget (and the grace after it) as well.
            (d, Some(budget), k) => {
                let end = k.map_or(budget, |k| k + KILL_GRACE);
                let end_us = manager::now().monotonic
                    + end
                        .saturating_duration_since(tokio::time::Instant::now())
                        .as_micros() as u64;
                Some(d.map_or(end_us, |d| d.min(end_us)))
            }
            (d, None, _) => d,
        };
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
            // After the bus is lost the stream still carries the private socket's calls.
            event = bus.next_event() => { notify_backlog = false; match event {
                Some(BusEvent::Call(msg, ctx)) => {
                    activity = true;
                    let reply = if upstart::owns_message(&msg) {
                        upstart.set_bus_connected(bus.bus_conn().is_some());
                        upstart.handle_call(&mut mgr, &msg, &ctx)
                    } else {
                        facade.handle_call(&mut mgr, &msg, &ctx)
                    };
                    if let Some(reply) = reply {
                        bus.send(ctx.conn, reply);
                    }
                    // Upstart's NotifyDBusAddress: connect to the bus it names (only asked
                    // while connected to none).
                    if let Some(address) = upstart.take_bus_request() {
                        let mut s = settings.clone();
                        s.bus_address = Some(address);
                        match connect_bus(&mut bus, &s, false).await {
                            Ok(()) => {
                                tracing::info!("connected to the bus given by NotifyDBusAddress");
                                settings = s;
                            }
                            Err(e) => tracing::warn!("NotifyDBusAddress: cannot connect: {e}"),
                        }
                    }
                }
                Some(BusEvent::PeerGone { conn, name }) => {
                    facade.peer_gone(&mut mgr, conn, name.as_deref());
                }
                Some(BusEvent::NameOwner { name, owned }) => {
                    mgr.bus_name_owner(name, owned);
                }
                Some(BusEvent::ActivationRequest { unit }) => {
                    tracing::info!("bus activation of {unit}");
                    match mgr.enqueue(&unit, JobType::Start, "replace") {
                        Ok(job) => {
                            activations.insert(job, unit);
                        }
                        Err(e) => {
                            tracing::warn!("bus activation of {unit} failed: {}", e.message());
                            bus.activation_failure(&unit, e.dbus_name(), e.message());
                        }
                    }
                }
                None if init && stopping.is_none() => {
                    tracing::warn!(
                        "lost the system bus; connecting again once {BUS_SERVICE} is back"
                    );
                    boot = Boot::Reconnect { lost: bus_service_pid(&mgr) };
                }
                None => {
                    if stopping.is_none() {
                        begin_shutdown(
                            &mut mgr,
                            &mut stopping,
                            opts.shutdown_timeout,
                            "lost the bus connection",
                        );
                    }
                }
            }},
            _ = sleep_until_deadline(deadline) => { notify_backlog = false; mgr.fire_timers() }
            _ = timers::clock_changed(clock_watch.as_ref()) => {
                notify_backlog = false;
                mgr.clock_changed();
            }
            _ = timers::timezone_changed(tz_watch.as_ref()) => {
                notify_backlog = false;
                mgr.timezone_maybe_changed();
            }
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
                mgr.request_shutdown(ShutdownAction::Signal);
            }
            _ = sigint.recv() => {
                mgr.request_shutdown(ShutdownAction::Signal);
            }
            _ = sig_halt.recv() => mgr.request_shutdown(ShutdownAction::Halt),
            _ = sig_poweroff.recv() => mgr.request_shutdown(ShutdownAction::PowerOff),
            _ = sig_reboot.recv() => mgr.request_shutdown(ShutdownAction::Reboot),
            _ = sighup.recv() => {
                tracing::info!("SIGHUP: reloading unit files");
                facade.daemon_reload(&mut mgr);
            }
            // Idle (lowest priority): send what notify-only turns deferred.
            _ = std::future::ready(()), if deferred_turns > 0 => {}
        }
        let shutdown = if stopping.is_none() {
            mgr.shutdown_requested()
        } else {
            None
        };
        if shutdown.is_some() {
            // The reply to the call that asked for the shutdown goes out before the stop jobs
            // run: one of them stops the bus itself (dbus.service).
            bus.flush(Duration::from_secs(1)).await;
        }
        mgr.process();
        if let Some(action) = shutdown {
            let why = match action {
                ShutdownAction::Signal => "SIGTERM/SIGINT".to_owned(),
                a => format!("{} requested", a.as_str()),
            };
            begin_shutdown(&mut mgr, &mut stopping, opts.shutdown_timeout, &why);
        }
        match &mut boot {
            Boot::WaitingForBus { target } if stopping.is_none() => {
                let (active, down) = bus_service_state(&mgr);
                if active {
                    match connect_bus(&mut bus, &settings, false).await {
                        Ok(()) => tracing::info!("connected to the system bus"),
                        Err(e) => tracing::warn!("running without the system bus: {e}"),
                    }
                    let target = std::mem::take(target);
                    boot = Boot::Done;
                    start_boot_target(&mut mgr, &target);
                } else if down {
                    tracing::warn!("{BUS_SERVICE} did not start; running without a system bus");
                    let target = std::mem::take(target);
                    boot = Boot::Done;
                    start_boot_target(&mut mgr, &target);
                }
            }
            Boot::Reconnect { lost } if stopping.is_none() => {
                let (active, _) = bus_service_state(&mgr);
                let pid = bus_service_pid(&mgr);
                if active && pid.is_some() && pid != *lost {
                    match connect_bus(&mut bus, &settings, false).await {
                        Ok(()) => {
                            tracing::info!("connected to the system bus again");
                            boot = Boot::Done;
                        }
                        Err(e) => {
                            // Wait for yet another dbus-daemon.
                            tracing::warn!("cannot connect to the system bus: {e}");
                            *lost = pid;
                        }
                    }
                }
            }
            _ => {}
        }
        if notify_turn && deferred_turns < NOTIFY_DEFER_TURNS && stopping.is_none() {
            deferred_turns += 1;
            continue;
        }
        deferred_turns = 0;
        mgr.collect_garbage();
        // Start-up is over once the boot target is queued (init mode) and no job is left.
        if !matches!(boot, Boot::WaitingForBus { .. })
            && stopping.is_none()
            && mgr.check_startup_finished()
        {
            tracing::info!("startup finished");
            bus.emit(
                &facade
                    .startup_finished(&mgr)
                    .into_iter()
                    .collect::<Vec<_>>(),
            );
        }
        let changes = mgr.take_changes();
        if !activations.is_empty() {
            report_failed_activations(&mut bus, &mut activations, &changes);
        }
        if !changes.is_empty() || facade.has_pending_signals() {
            let msgs = facade.signals(&mgr, &changes);
            bus.emit(&msgs);
            let msgs = upstart.signals(&mgr, &changes);
            for (conn, reply) in upstart.take_replies() {
                bus.send(conn, reply);
            }
            bus.emit(&msgs);
        }
        // Upstart's EndSession: `session-end` finished; stop everything and exit.
        if upstart.take_end_session() && stopping.is_none() {
            mgr.request_shutdown(ShutdownAction::Exit);
            begin_shutdown(&mut mgr, &mut stopping, opts.shutdown_timeout, "EndSession");
            mgr.process();
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
                let clients = facade.export_clients(&mgr, bus.bus_conn());
                let e = reexec::reexecute(&mut mgr, clients);
                tracing::error!("cannot reexecute, carrying on: {e}");
            }
        }
        if let Some(budget) = stopping {
            if !mgr.busy_for_shutdown() {
                break;
            }
            let now = tokio::time::Instant::now();
            match killed {
                None if now >= budget => {
                    tracing::warn!("shutdown budget exhausted; killing what is left");
                    mgr.kill_remaining();
                    killed = Some(now);
                }
                Some(k) if now >= k + KILL_GRACE => {
                    tracing::warn!("exiting with units still running");
                    break;
                }
                _ => {}
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
    if killed.is_some() {
        return Ok(EXIT_BUDGET_EXHAUSTED);
    }
    tracing::info!("all units stopped; exiting");
    Ok(0)
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
/// Take over the bus clients' subscriptions and unit references the previous image handed
/// over, keeping only clients still on the bus (asked from the bus driver). Without a bus
/// connection (an init that has not reached its bus yet) they are dropped.
async fn restore_bus_clients(
    facade: &mut SystemdFacade,
    mgr: &mut Manager,
    bus: &Bus,
    clients: systemd::ClientState,
) {
    if clients == systemd::ClientState::default() {
        return;
    }
    let Some(conn) = bus.bus_conn() else {
        tracing::info!("no bus connection: dropping the previous image's bus clients");
        return;
    };
    let mut names: Vec<&String> = clients
        .subscribers
        .iter()
        .chain(clients.refs.iter().map(|(n, _)| n))
        .collect();
    names.sort();
    names.dedup();
    let mut alive = std::collections::HashSet::new();
    for name in names {
        if bus.name_has_owner(name).await == Some(true) {
            alive.insert(name.clone());
        }
    }
    let (n_subs, n_refs) = (clients.subscribers.len(), clients.refs.len());
    facade.import_clients(mgr, conn, clients, |n| alive.contains(n));
    tracing::info!(
        "kept {} of {n_subs} subscribers and the references of {} live bus clients ({n_refs} references handed over)",
        facade.n_subscribers(),
        alive.len()
    );
}

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
