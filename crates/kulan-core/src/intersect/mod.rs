//! Barrier intersection.
