//! Running Circuitscape `.ini` files: the set-up of each mode on top of the engine, and the
//! output files with Circuitscape's names and formats.

pub mod config;
pub mod io;
mod network;
mod raster;

use std::path::Path;

pub use config::CsConfig;
pub use io::{AscReader, AscWriter, GridReader, GridWriter};

use crate::solver::SolverKind;
use crate::CircuitError;

/// How a run is carried out (independent of the `.ini`).
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Solver; `Auto` picks by size and free memory. The `.ini`'s `solver` names Circuitscape's
    /// two solvers, which give the same answers, and is not used.
    pub solver: SolverKind,
    /// Relative residual for the iterative solver.
    pub tol: f64,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { solver: SolverKind::Auto, tol: 1e-8 }
    }
}

/// What a run produced.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub mode: String,
    pub nodes: usize,
    pub solves: usize,
    pub files: Vec<std::path::PathBuf>,
    pub warnings: Vec<String>,
}

/// Runs a Circuitscape `.ini` file.
pub fn run_ini(ini: &Path, reader: &dyn GridReader, writer: &dyn GridWriter, opts: RunOptions) -> Result<RunSummary, CircuitError> {
    let cfg = CsConfig::read(ini)?;
    run_config(&cfg, reader, writer, opts)
}

/// Runs a parsed configuration.
pub fn run_config(cfg: &CsConfig, reader: &dyn GridReader, writer: &dyn GridWriter, opts: RunOptions) -> Result<RunSummary, CircuitError> {
    if cfg.is_network() {
        network::run(cfg, opts)
    } else {
        raster::run(cfg, reader, writer, opts)
    }
}
