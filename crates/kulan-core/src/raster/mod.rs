//! Rasters: the in-memory grid type shared by every raster analysis, and ASCII-grid I/O.

pub mod asc;
mod grid;

pub use grid::{GeoTransform, Grid, GridMismatch};
