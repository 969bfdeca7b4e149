//! `kulan intersect`: barrier length per range and barrier, boundary crossings, density per range.

use std::path::PathBuf;

use anyhow::Context;
use kulan_core::intersect::{intersect_ranges, BarrierIndex};
use kulan_io::vector::LayerRef;
use kulan_project::outputs::intersect::{range_order, write_gpkg, write_pairs_csv, write_totals_csv};

use super::inputs::InputArgs;
use crate::progress;

#[derive(clap::Args)]
pub struct Args {
    /// Barrier layers (FILE or FILE:LAYER); repeat for several. Optional with --layers.
    #[arg(long, required_unless_present = "layers", num_args = 1.., value_name = "FILE[:LAYER]")]
    pub barriers: Vec<LayerRef>,
    /// Range (or any reporting-unit) polygons. Optional with --layers.
    #[arg(long, required_unless_present = "layers", value_name = "FILE[:LAYER]")]
    pub ranges: Option<LayerRef>,
    /// Output folder (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Leave the clipped barrier geometry out of intersections.gpkg (faster for huge runs).
    #[arg(long)]
    pub no_geometry: bool,
    /// Which outputs to write: csv (pairs.csv, totals.csv), gpkg (intersections.gpkg), or both.
    /// A GeoPackage of millions of pairs takes minutes to write; continental runs may want csv only.
    #[arg(long, value_delimiter = ',', default_value = "csv,gpkg")]
    pub formats: Vec<OutputFormat>,
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Csv,
    Gpkg,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut stages = progress::Stages::start();
    let ranges: Vec<LayerRef> = args.ranges.iter().cloned().collect();
    let loaded = args.input.load(&args.barriers, &ranges)?;
    if loaded.barrier_layers == 0 || loaded.range_layers == 0 {
        anyhow::bail!("no barrier or no range layer was given; pass --barriers and --ranges, or list them in the --layers file");
    }
    stages.done("read layers");
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let index = BarrierIndex::new(&loaded.barriers);
    stages.done("index");
    let bar = progress::bar(loaded.ranges.len() as u64, "ranges");
    let want_gpkg = args.formats.contains(&OutputFormat::Gpkg);
    let results = intersect_ranges(&index, &loaded.ranges, want_gpkg && !args.no_geometry, || bar.inc(1));
    bar.finish_and_clear();
    stages.done("intersect");
    let order = range_order(&loaded);
    let mut written = Vec::new();
    if args.formats.contains(&OutputFormat::Csv) {
        write_pairs_csv(&args.out.join("pairs.csv"), &loaded, &results, &order)?;
        write_totals_csv(&args.out.join("totals.csv"), &loaded, &results, &order)?;
        stages.done("write csv");
        written.extend(["pairs.csv", "totals.csv"]);
    }
    if want_gpkg {
        write_gpkg(&args.out.join("intersections.gpkg"), &loaded, &results, &order)?;
        stages.done("write gpkg");
        written.push("intersections.gpkg");
    }
    let n_pairs: usize = results.iter().map(|r| r.pairs.len()).sum();
    eprintln!(
        "{} barriers × {} ranges: {} intersecting pairs; wrote {}/{{{}}} (CRS: {})",
        loaded.barriers.len(),
        loaded.ranges.len(),
        n_pairs,
        args.out.display(),
        written.join(","),
        loaded.crs.definition
    );
    Ok(())
}

