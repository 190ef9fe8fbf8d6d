//! Loader (placeholder).
pub mod check;
