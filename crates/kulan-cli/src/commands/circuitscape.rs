//! `kulan circuitscape CONFIG.ini`: runs a Circuitscape configuration unchanged.

use std::path::{Path, PathBuf};

use anyhow::Context;
use kulan_circuit::circuitscape::{self, AscWriter, GridReader, GridWriter, RunOptions};
use kulan_circuit::{CircuitError, SolverKind};
use kulan_core::raster::Grid;
use kulan_io::RasterWriteOptions;

#[derive(clap::Args)]
pub struct Args {
    /// The Circuitscape .ini file. Relative paths in it are resolved against the working
    /// directory (as Circuitscape does), then against the .ini's folder.
    pub config: PathBuf,
    /// Solver: auto (by size and free memory), direct (sparse Cholesky) or iterative (CG with
    /// multigrid). The .ini's own `solver` names Circuitscape's solvers and is not used.
    #[arg(long, default_value = "auto")]
    pub solver: String,
    /// Relative residual for the iterative solver.
    #[arg(long, default_value_t = 1e-8)]
    pub tol: f64,
    /// Write maps as GeoTIFF (.tif) instead of Circuitscape's ASCII grids.
    #[arg(long)]
    pub geotiff: bool,
}

/// Reads ASCII grids in pure Rust and everything else (GeoTIFF) through GDAL.
pub struct AnyReader;

impl GridReader for AnyReader {
    fn read(&self, path: &Path) -> Result<Grid<f64>, CircuitError> {
        let name = path.display().to_string().to_ascii_lowercase();
        if name.ends_with(".asc") || name.ends_with(".asc.gz") || name.ends_with(".txt") {
            return circuitscape::AscReader.read(path);
        }
        if name.ends_with(".gz") {
            // A gzipped GeoTIFF: let GDAL read it through /vsigzip/.
            let vsi = PathBuf::from(format!("/vsigzip/{}", path.display()));
            return kulan_io::read_raster(&vsi).map_err(|e| CircuitError::File { path: path.display().to_string(), message: e.to_string() });
        }
        kulan_io::read_raster(path).map_err(|e| CircuitError::File { path: path.display().to_string(), message: e.to_string() })
    }
}

/// Writes GeoTIFF through kulan-io.
pub struct TiffWriter;

impl GridWriter for TiffWriter {
    fn extension(&self, _compress: bool) -> String {
        "tif".into()
    }
    fn write(&self, path: &Path, grid: &Grid<f64>, nodata: f64, compress: bool) -> Result<(), CircuitError> {
        let g32 = grid.map(|v| if v.is_finite() { v as f32 } else { nodata as f32 });
        kulan_io::write_raster(path, &g32, &RasterWriteOptions { compress, cog: false, nodata })
            .map_err(|e| CircuitError::File { path: path.display().to_string(), message: e.to_string() })
    }
}

pub fn parse_solver(s: &str) -> anyhow::Result<SolverKind> {
    SolverKind::parse(s).with_context(|| format!("--solver must be auto, direct or iterative, got '{s}'"))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let opts = RunOptions { solver: parse_solver(&args.solver)?, tol: args.tol };
    let t0 = std::time::Instant::now();
    let writer: &dyn GridWriter = if args.geotiff { &TiffWriter } else { &AscWriter };
    let summary = circuitscape::run_ini(&args.config, &AnyReader, writer, opts)
        .with_context(|| format!("running {}", args.config.display()))?;
    for w in &summary.warnings {
        eprintln!("warning: {w}");
    }
    eprintln!(
        "{}: {} nodes, {} solves, {} files written in {:.2} s",
        summary.mode,
        summary.nodes,
        summary.solves,
        summary.files.len(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
