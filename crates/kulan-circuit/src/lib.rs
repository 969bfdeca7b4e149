//! # kulan-circuit
//!
//! Circuit-theory landscape connectivity, compatible with Circuitscape. Pure Rust.
//!
//! The engine is built from independent pieces:
//! - [`graph`]: conductance graphs, raster-to-graph assembly (4/8 neighbours, averaging schemes,
//!   short-circuit regions, zero-resistance merging), connected components;
//! - [`solver`]: the factor-once / solve-many [`solver::LinearSolver`] trait, with a direct sparse
//!   Cholesky ([`solver::DirectCholesky`]) and multigrid-preconditioned CG ([`amg::MultigridCg`]),
//!   and an automatic choice from problem size and free memory; [`splitchol`]: the direct solver
//!   on two cores (the halves of the top separator factored in parallel);
//! - [`gridmg`]: a memory-lean grid operator (conductances per link, no sparse matrix) with
//!   geometric multigrid, for rasters too large for the general solvers; [`gridsolve`]: advanced
//!   mode on it, cells as nodes;
//! - [`engine`]: per-component systems, pairwise resistances by superposition, advanced
//!   (sources/grounds) solves, node and branch currents;
//! - [`cumulative`]: cumulative current maps over many pairs, in parallel and thread-count
//!   independent; [`grid_cumulative`]: the same sums row by row on rasters of one cell per node;
//! - [`circuitscape`]: Circuitscape `.ini` runs (configuration, input readers, modes, output
//!   writers), built on the pieces above.

pub mod amg;
pub mod cg;
pub mod circuitscape;
pub mod cumulative;
pub mod engine;
pub mod graph;
pub mod grid_cumulative;
pub mod gridmg;
pub mod gridsolve;
pub mod solver;
pub mod splitchol;

pub use engine::{node_currents, solve_advanced, ComponentSystem, PairwiseSolver};
pub use graph::{Connectivity, Graph, RasterGraph, RasterGraphSpec, Scheme};
pub use solver::{LinearSolver, SolverKind};

/// Errors of the circuit engine.
#[derive(Debug, thiserror::Error)]
pub enum CircuitError {
    #[error("{0}")]
    Input(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("numerical problem: {0}")]
    Numerical(String),
    #[error("out of memory: {0}")]
    OutOfMemory(String),
}
