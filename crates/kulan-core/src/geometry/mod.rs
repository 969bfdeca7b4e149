//! Geometry checks.
