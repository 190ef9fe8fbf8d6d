//! D-Bus façades (placeholder).
