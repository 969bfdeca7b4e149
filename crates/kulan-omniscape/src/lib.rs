//! # kulan-omniscape
//!
//! Omnidirectional connectivity: Omniscape's moving window of circuit solves (McRae et al. 2016;
//! Landau et al. 2021), built on [`kulan_circuit`]'s graphs and node currents. Pure Rust.
//!
//! - [`config`]: Omniscape.jl `.ini` files (defaults, validation, warnings);
//! - [`setup`]: from input rasters to cell layers (reclassification, sources, conditions);
//! - [`window`]: one target's window, its sources and conditional connectivity;
//! - [`circuit`]: one window's circuit, solved by sparse Cholesky with shared symbolic analyses;
//! - [`correction`]: the block-artifact correction;
//! - [`engine`]: all targets, accumulated in a thread- and tiling-independent order, by tiles;
//! - [`tile_io`]: tile partials as bytes, to solve tiles elsewhere and merge them in order;
//! - [`stream`]: runs within a memory budget, reading and writing row bands;
//! - [`run`]: a whole run from an `.ini` file or native settings, reading and writing through
//!   [`run::RasterIo`].

pub mod circuit;
pub mod config;
pub mod correction;
pub mod engine;
pub mod run;
pub mod setup;
pub mod stream;
pub mod tile_io;
pub mod window;

pub use config::{OmniscapeConfig, Precision};
pub use engine::{Engine, EngineSettings, TilePartial, TileSpec};

/// Errors of an Omniscape run.
#[derive(Debug, thiserror::Error)]
pub enum OmniscapeError {
    #[error("{path}: {message}")]
    Config { path: String, message: String },
    #[error("{0}")]
    Input(String),
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("numerical problem: {0}")]
    Numerical(String),
}
