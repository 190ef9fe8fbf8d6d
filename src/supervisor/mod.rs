//! Supervisor (placeholder).
