//! Unit-file parser (placeholder).
