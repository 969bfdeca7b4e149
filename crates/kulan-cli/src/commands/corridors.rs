//! `kulan corridors`: least-cost corridors and paths between core areas (Linkage Mapper's
//! Linkage Pathways).

use std::path::PathBuf;

use anyhow::Context;
use kulan_corridors::{corridors, Adjacency, Connectivity, CorridorOptions, CostSurface};
use kulan_io::write_raster;
use kulan_project::outputs::corridors::{write_link_table_csv, write_links_gpkg};

use super::gridio::{out_dir, read_grid, read_id_layer, write_f64, WriteArgs};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AdjacencyArg {
    /// Every pair of cores whose least-cost path does not cross a third core.
    All,
    /// Only pairs whose cost-allocation zones touch (Linkage Mapper's cost-weighted adjacency).
    Allocation,
}

#[derive(clap::Args)]
pub struct Args {
    /// Resistance raster; NoData cells are impassable, every other cell must be greater than 0.
    #[arg(long, value_name = "RASTER")]
    pub resistance: PathBuf,
    /// Core areas: polygons or points (FILE or FILE:LAYER) with whole-number ids, or a raster of
    /// core ids (> 0) on the resistance grid.
    #[arg(long, value_name = "FILE[:LAYER]|RASTER")]
    pub cores: String,
    /// Field with the core ids (default: `id` when present, else the feature id).
    #[arg(long, value_name = "FIELD")]
    pub id_field: Option<String>,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Truncate the corridor mosaic at this width (cost units, like the NLCC), as Linkage
    /// Mapper's corridors_truncated_at_W.
    #[arg(long, value_name = "COST")]
    pub truncate: Option<f64>,
    /// Which core pairs may be linked.
    #[arg(long, value_enum, default_value = "all")]
    pub adjacency: AdjacencyArg,
    /// Keep links whose least-cost path crosses a third core (dropped by default, as in Linkage Mapper).
    #[arg(long)]
    pub keep_through_cores: bool,
    /// Drop links whose cost-weighted distance (CW_Dist) is above this.
    #[arg(long, value_name = "COST")]
    pub max_cwd: Option<f64>,
    /// Drop links whose Euclidean distance between the cores is above this (metres).
    #[arg(long, value_name = "METRES")]
    pub max_euclidean: Option<f64>,
    /// Neighbours a move may go to: 4 or 8.
    #[arg(long, default_value_t = 8, value_name = "4|8")]
    pub neighbours: u32,
    /// Also write the cost-weighted distance from each core (cwd_<id>.tif).
    #[arg(long)]
    pub write_cwd: bool,
    /// Also write each link's normalised corridor (nlcc_<from>_<to>.tif).
    #[arg(long)]
    pub write_link_corridors: bool,
    /// Leave out core cells that lie on NoData instead of stopping with an error.
    #[arg(long)]
    pub drop_nodata_cores: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let dir = out_dir(&args.out)?;
    let resistance = read_grid(&args.resistance, "resistance")?;
    let name = format!("the resistance raster {}", args.resistance.display());
    let surface = CostSurface::from_resistance(&resistance).with_context(|| args.resistance.display().to_string())?;
    let cores = read_id_layer(&args.cores, &resistance, &name, args.id_field.as_deref(), "cores")?;
    let crs = resistance.crs.clone();
    drop(resistance);
    let opts = CorridorOptions {
        connectivity: Connectivity::from_neighbours(args.neighbours)?,
        adjacency: match args.adjacency {
            AdjacencyArg::All => Adjacency::All,
            AdjacencyArg::Allocation => Adjacency::Allocation,
        },
        keep_through_cores: args.keep_through_cores,
        max_cwd: args.max_cwd,
        max_euclidean: args.max_euclidean,
        truncate_width: args.truncate,
        keep_cwd: args.write_cwd,
        keep_link_corridors: args.write_link_corridors,
        drop_cores_on_nodata: args.drop_nodata_cores,
    };
    let result = corridors(&surface, &cores, &opts)?;

    write_f64(&dir.join("corridors.tif"), &result.mosaic, &args.write)?;
    if let (Some(w), Some(t)) = (args.truncate, &result.truncated) {
        write_f64(&dir.join(format!("corridors_truncated_at_{}.tif", fmt_width(w))), t, &args.write)?;
    }
    let alloc = result.allocation.map(|v| v as i32);
    write_raster(&dir.join("allocation.tif"), &alloc, &args.write.options(0.0)).context("writing allocation.tif")?;
    for (id, g) in result.cores.iter().zip(&result.cwd) {
        write_f64(&dir.join(format!("cwd_{id}.tif")), g, &args.write)?;
    }
    for (link_id, g) in &result.link_corridors {
        let l = &result.links[link_id - 1];
        write_f64(&dir.join(format!("nlcc_{}_{}.tif", l.from_core, l.to_core)), g, &args.write)?;
    }
    write_link_table_csv(&dir.join("link_table.csv"), &result)?;
    write_links_gpkg(&dir.join("links.gpkg"), &result, crs.as_deref())?;

    let kept = result.links.iter().filter(|l| l.status.is_corridor()).count();
    eprintln!("corridors: {} cores, {} pairs, {kept} corridors; written to {}", result.cores.len(), result.links.len(), dir.display());
    for l in &result.links {
        eprintln!(
            "  link {:>3}: {} - {}  CW_Dist {:>14}  LCP_Length {:>10.0} m  {}",
            l.link_id,
            l.from_core,
            l.to_core,
            if l.cw_dist.is_finite() { format!("{:.1}", l.cw_dist) } else { "unreachable".into() },
            l.lcp_length,
            l.status.info()
        );
    }
    Ok(())
}

fn fmt_width(w: f64) -> String {
    if w.fract() == 0.0 {
        format!("{}", w as i64)
    } else {
        format!("{w}")
    }
}

