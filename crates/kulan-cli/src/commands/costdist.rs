//! `kulan costdist`: accumulated least cost from many sources over a resistance raster.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use kulan_corridors::{cost_distance, Connectivity, CostOptions, CostSurface, BACKLINK_NONE};
use kulan_io::write_raster;

use super::gridio::{read_grid, read_id_layer, write_f64, WriteArgs};

#[derive(clap::Args)]
pub struct Args {
    /// Resistance raster (GeoTIFF, ASCII grid, any GDAL raster). NoData cells are impassable;
    /// every other cell must be greater than 0.
    #[arg(long, value_name = "RASTER")]
    pub resistance: PathBuf,
    /// Sources: a raster of ids on the same grid (cells > 0 are sources), or a vector layer
    /// (FILE or FILE:LAYER) of points, lines or polygons burned onto the grid.
    #[arg(long, value_name = "RASTER|FILE[:LAYER]")]
    pub sources: String,
    /// Field with the source ids of a vector layer (default: `id` when present, else the feature id).
    #[arg(long, value_name = "FIELD")]
    pub id_field: Option<String>,
    /// Accumulated cost raster to write (.tif, or .asc for an ESRI ASCII grid); float32, NoData −9999
    /// where unreachable.
    #[arg(long, value_name = "RASTER")]
    pub out: PathBuf,
    /// Neighbours a move may go to: 4 (rook) or 8 (rook and diagonal).
    #[arg(long, default_value_t = 8, value_name = "4|8")]
    pub neighbours: u32,
    /// Also write the backlink raster: direction to the next cell towards the nearest source
    /// (0 source, 1 E, 2 SE, 3 S, 4 SW, 5 W, 6 NW, 7 N, 8 NE; 255 unreached), as in ArcGIS.
    #[arg(long, value_name = "RASTER")]
    pub backlink: Option<PathBuf>,
    /// Also write the allocation raster: the id of the source each cell is cheapest to reach from.
    #[arg(long, value_name = "RASTER")]
    pub allocation: Option<PathBuf>,
    /// Stop spreading beyond this accumulated cost; farther cells are NoData.
    #[arg(long, value_name = "COST")]
    pub max_cost: Option<f64>,
    /// Leave out source cells that lie on NoData instead of stopping with an error.
    #[arg(long)]
    pub drop_nodata_sources: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let resistance = read_grid(&args.resistance, "resistance")?;
    let name = format!("the resistance raster {}", args.resistance.display());
    let surface = CostSurface::from_resistance(&resistance).with_context(|| format!("{}", args.resistance.display()))?;
    let sources = read_id_layer(&args.sources, &resistance, &name, args.id_field.as_deref(), "sources")?;
    drop(resistance);
    let opts = CostOptions {
        connectivity: Connectivity::from_neighbours(args.neighbours)?,
        backlink: args.backlink.is_some(),
        allocation: args.allocation.is_some(),
        max_cost: args.max_cost,
        drop_sources_on_nodata: args.drop_nodata_sources,
    };
    let t1 = Instant::now();
    let result = cost_distance(&surface, &sources, &opts)?;
    let t_compute = t1.elapsed();
    let cells = surface.rows * surface.cols;
    drop(surface);
    write_f64(&args.out, &result.cost, &args.write)?;
    if let (Some(path), Some(b)) = (&args.backlink, &result.backlink) {
        write_raster(path, b, &args.write.options(BACKLINK_NONE as f64))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let (Some(path), Some(a)) = (&args.allocation, &result.allocation) {
        let a32 = a.map(|v| v as i32);
        write_raster(path, &a32, &args.write.options(0.0)).with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!(
        "costdist: {} source cells, {} of {} cells reached; compute {:.2} s, total {:.2} s",
        result.n_sources,
        result.reached,
        cells,
        t_compute.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
