//! # kulan-core
//!
//! The pure-Rust heart of Kulan: the barrier and range model, geometry checks and repair, the
//! barrier intersection engine and the raster grid type. Nothing here touches GDAL or PROJ; file
//! formats and coordinate transformations live in `kulan-io`.

pub mod geometry;
pub mod intersect;
pub mod model;
mod packed_rtree;
pub mod raster;

pub use model::{Barrier, BarrierAttrs, BarrierKind, BarrierStatus, FeatureId, Range};
