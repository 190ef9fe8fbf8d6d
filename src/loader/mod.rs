//! Loader (placeholder).
