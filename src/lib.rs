//! unitd: one daemon that is the init manager as far as D-Bus clients can tell.
//!
//! # Layout
//! - [`spec`]: engine-neutral unit descriptions (what to run); no parsing, no I/O.
//! - [`unit_file`]: systemd unit-file text → [`spec`] (pure: text in, spec + diagnostics out).
//! - [`job_file`]: Upstart job files → [`spec`] (pure, like [`unit_file`]).
//! - [`loader`]: the file-system side of loading: search paths, drop-ins, templates, aliases,
//!   masks, `.wants/` directories; calls [`unit_file`].
//! - [`conditions`]: `Condition*=`/`Assert*=` checks evaluated against the running system.
//! - [`install`]: the install verbs' file-system logic (enable/disable/mask/link symlinks,
//!   `UnitFileState`).
//! - [`engine`]: the deterministic unit/job state machine (time passed in, effects out).
//! - [`supervisor`]: the only place that forks, execs, reaps and kills; per-unit logs.
//! - [`runtime`]: the manager loop gluing engine, loader, supervisor and façades together.
//! - [`bus`]: D-Bus façades (the only modules that use zbus).
//! - [`deploy`]: `unitd install`/`uninstall` (binary, activation files, bus policy).
//! - [`cli`]: the `unitd` command line.

pub mod bus;
pub mod cli;
pub mod conditions;
pub mod demo;
pub mod deploy;
pub mod engine;
pub mod initctl;
pub mod install;
pub mod job_file;
pub mod loader;
pub mod runtime;
pub mod settings;
pub mod spec;
pub mod supervisor;
pub mod unit_file;
