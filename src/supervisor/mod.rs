//! Supervisor (placeholder).
pub mod logs;
