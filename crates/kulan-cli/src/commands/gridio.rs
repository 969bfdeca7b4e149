//! Shared pieces of the raster commands (`resistance`, `costdist`, `corridors`): reading id layers
//! (rasters or vectors) onto a grid, checking CRSs, and writing result rasters.

use std::path::{Path, PathBuf};

use anyhow::Context;
use kulan_core::raster::Grid;
use kulan_io::{write_raster, RasterWriteOptions};

/// How result rasters are written.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct WriteArgs {
    /// Write Cloud-Optimized GeoTIFFs.
    #[arg(long)]
    pub cog: bool,
    /// Write GeoTIFFs without compression (faster to write, larger on disk).
    #[arg(long)]
    pub no_compress: bool,
}

impl WriteArgs {
    pub fn options(&self, nodata: f64) -> RasterWriteOptions {
        RasterWriteOptions { compress: !self.no_compress, cog: self.cog, nodata }
    }
}

pub use kulan_project::grid::{check_same_crs, lattice_of, read_grid, read_id_layer, to_f32, NODATA};

/// Writes a float result raster (float32, NoData −9999).
pub fn write_f64(path: &Path, g: &Grid<f64>, w: &WriteArgs) -> anyhow::Result<()> {
    write_raster(path, &to_f32(g), &w.options(NODATA)).with_context(|| format!("writing {}", path.display()))
}

/// Makes the output folder if needed and returns a path inside it.
pub fn out_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the output folder {}", dir.display()))?;
    Ok(dir.to_path_buf())
}

