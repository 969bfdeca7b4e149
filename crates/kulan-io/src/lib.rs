//! # kulan-io
//!
//! Kulan's edge to the outside world: GDAL/OGR vector layers, GDAL rasters, PROJ transformations
//! and the layer specifications that map users' fields onto Kulan's barrier model. Algorithms live
//! in `kulan-core` and never see a GDAL handle.

pub mod atomic;
pub mod crs;
pub mod error;
pub mod raster;
pub mod rows;
pub mod vector;

pub use atomic::AtomicPath;
pub use error::IoError;
pub use raster::{read_raster, read_raster_as, write_raster, RasterWriteOptions};
pub use crs::{AnalysisCrs, CrsOptions, Reprojector, ReprojectorRecipe};
