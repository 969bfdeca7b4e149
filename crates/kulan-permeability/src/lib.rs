//! # kulan-permeability
//!
//! How passable barriers are to each species, and the resistance grids that movement models use.
//!
//! - [`Model`]: a TOML permeability model. Per species and barrier class (rules over a barrier's
//!   kind and attributes), a per-encounter crossing probability `p` in [0, 1], with each value's
//!   evidence, confidence and citation; classes for crossing structures and fence gaps, which
//!   override a barrier's `p` locally; land-cover classes with base resistances.
//!   [`Model::default_model`] is built from the literature table `models/permeability_defaults.csv`
//!   for khulan, Mongolian gazelle, goitered gazelle, saiga, argali and wild camel.
//! - [`barrier_resistance`]: how `p` becomes resistance (`p = 0` is impassable; see [`transform`]).
//! - [`build_resistance`]: burns barriers into a grid with no diagonal leaks (see [`rasterize`]),
//!   the least permeable barrier winning in each cell, applies crossings and land cover.
//!
//! Pure Rust on `kulan-core` types: files are read and written by `kulan-io` in the CLI.

pub mod landcover;
pub mod model;
pub mod rasterize;
pub mod resistance;
pub mod transform;

pub use landcover::ClassTable;
pub use model::{Class, CrossingAttrs, Model, ModelError, ResistanceParams, DEFAULT_MODEL_TOML};
pub use rasterize::{supercover_line, supercover_segment, Lattice};
pub use resistance::{
    build_resistance, classify_barriers, ClassUse, Crossing, CrossingUse, ResistanceInput, ResistanceOutput,
    ResistanceReport, NODATA,
};
pub use transform::barrier_resistance;

/// Errors building resistance grids: bad input, phrased for the person who has to fix it.
#[derive(Debug, thiserror::Error)]
pub enum PermeabilityError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("{0}")]
    Input(String),
}
