//! # kulan-corridors
//!
//! Cost distance, least-cost paths and least-cost corridors on Kulan's in-memory grids, in pure
//! Rust. Raster files are read and written by `kulan-io`; this crate only sees [`Grid`]s.
//!
//! - [`cost_distance`]: multi-source accumulated cost with optional backlink and allocation
//!   rasters, the same graph and arithmetic as scikit-image `MCP_Geometric` and WhiteboxTools
//!   `CostDistance`.
//! - [`corridors`]: Linkage Mapper's *Linkage Pathways*: cost-weighted distance per core, least-cost
//!   distances and paths between cores, which pairs are adjacent, normalised least-cost corridors
//!   and their (truncated) mosaic, and the link table.
//!
//! [`Grid`]: kulan_core::raster::Grid

mod corridors;
mod costdist;
mod error;
mod heap;

pub use corridors::{corridors, trace_path, Adjacency, CorridorOptions, CorridorResult, Link, LinkStatus};
pub use costdist::{
    cost_distance, Connectivity, CostOptions, CostResult, CostSurface, Sources, BACKLINK_DIRECTIONS, BACKLINK_NONE,
};
pub use error::CostError;
