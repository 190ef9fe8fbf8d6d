//! The manager loop: owns the [`Engine`], the [`Loader`](crate::loader), the
//! [`Supervisor`](crate::supervisor) and the façades' connections, and moves data between them.
//! One task, one thread of control: incoming D-Bus calls, reaped children, timers and (later)
//! the notify socket are handled one at a time, so replies always precede the signals they cause.

pub mod manager;

pub use manager::Manager;
