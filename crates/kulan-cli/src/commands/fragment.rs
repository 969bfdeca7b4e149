//! `kulan fragment`: effective mesh size (Jaeger 2000) per reporting unit, by the CUT and CBC
//! procedures (Moser et al. 2007), and the patch map.

use std::path::PathBuf;

use anyhow::{bail, Context};
use geo::{BoundingRect, MultiLineString, MultiPolygon};
use kulan_core::{Barrier, Range};
use kulan_fragment::{fragment, square_grid, CutRules, Fragmentation, Options, Procedure};
use kulan_io::vector::LayerRef;
use kulan_project::outputs::fragment::{unit_order, write_csv, write_delta_csv, write_patches};

use super::inputs::InputArgs;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProcedureArg {
    /// Cross-boundary connections: patches count with their whole area (additive over units).
    Cbc,
    /// Patches are cut at the unit border (CBC is not computed).
    Cut,
}

#[derive(clap::Args)]
pub struct Args {
    /// Barrier layers (FILE or FILE:LAYER); repeat for several.
    #[arg(long, required = true, num_args = 1.., value_name = "FILE[:LAYER]")]
    pub barriers: Vec<LayerRef>,
    /// Reporting units: species ranges, countries, any polygons.
    #[arg(long, value_name = "FILE[:LAYER]", required_unless_present = "grid", conflicts_with = "grid")]
    pub units: Option<LayerRef>,
    /// Report on a square grid of cells of this size (km) over the barriers' extent (or --extent),
    /// aligned on multiples of the size in the analysis CRS.
    #[arg(long, value_name = "SIZE_KM")]
    pub grid: Option<f64>,
    /// Grid extent in the analysis CRS: XMIN,YMIN,XMAX,YMAX.
    #[arg(long, value_name = "XMIN,YMIN,XMAX,YMAX", requires = "grid", value_delimiter = ',', num_args = 4)]
    pub extent: Option<Vec<f64>>,
    /// Output folder (created if missing): meff.csv and patches.gpkg.
    #[arg(long)]
    pub out: PathBuf,
    /// Which barriers cut: `default` (fences, border fences, fenced railways and roads, roads with
    /// AADT >= 1000, railways with >= 2 tracks or electrified; tunnels/bridges >= 1 km do not
    /// cut), `all`, or a TOML file of rules (see `kulan_fragment::rules`).
    #[arg(long, default_value = "default", value_name = "RULES")]
    pub cuts: String,
    /// Planned barriers cut too.
    #[arg(long)]
    pub include_planned: bool,
    /// Areas removed from the patches (settlements, lakes); they stay in each unit's total area.
    #[arg(long, num_args = 1.., value_name = "FILE[:LAYER]")]
    pub exclude: Vec<LayerRef>,
    /// Which m_eff fills the meff_m2/meff_km2 columns.
    #[arg(long, value_enum, default_value = "cbc")]
    pub procedure: ProcedureArg,
    /// Patches smaller than this many m² are dropped as slivers (they stay in the total area).
    #[arg(long, default_value_t = 0.0, value_name = "M2")]
    pub min_patch_area: f64,
    /// A proposed alignment (barrier layers added to the baseline; planned features count):
    /// writes meff_with_delta.csv and meff_delta.csv with the change per unit.
    #[arg(long, num_args = 1.., value_name = "FILE[:LAYER]")]
    pub delta: Vec<LayerRef>,
    /// Do not write patches.gpkg.
    #[arg(long)]
    pub no_patches: bool,
    /// Reproduce the shapely/GEOS peer (`peers.py meff`): barriers are clipped to each unit with
    /// floating-point clip points before noding, and an end whose clip point rounds to the inside
    /// of the border dangles and does not cut. For benchmark comparisons only.
    #[arg(long, hide_short_help = true)]
    pub clip_then_node: bool,
    #[command(flatten)]
    pub input: InputArgs,
}

fn cut_rules(args: &Args) -> anyhow::Result<CutRules> {
    let mut rules = match args.cuts.as_str() {
        "default" => CutRules::default(),
        "all" => CutRules::all(),
        path => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--cuts {path}: not `default`, `all` or a readable TOML file"))?;
            CutRules::from_toml(&text).map_err(|e| anyhow::anyhow!("{path}: {e}"))?
        }
    };
    if args.include_planned {
        rules.include_planned = true;
    }
    Ok(rules)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let t0 = std::time::Instant::now();
    let rules = cut_rules(&args)?;
    let units_ref: Vec<LayerRef> = args.units.iter().cloned().collect();
    let loaded = args.input.load(&args.barriers, &units_ref)?;
    // Further layers are read into the CRS the first load chose.
    let mut fixed = args.input.clone();
    fixed.crs = Some(loaded.crs.definition.clone());
    let exclusions: Vec<Range> =
        if args.exclude.is_empty() { Vec::new() } else { fixed.load(&[], &args.exclude)?.ranges };
    let delta: Vec<Barrier> = if args.delta.is_empty() { Vec::new() } else { fixed.load(&args.delta, &[])?.barriers };

    let units: Vec<Range> = match args.grid {
        Some(km) => {
            if !(km > 0.0) {
                bail!("--grid {km}: the cell size must be positive (km)");
            }
            let bbox = match &args.extent {
                Some(e) => [e[0], e[1], e[2], e[3]],
                None => {
                    let rect = loaded
                        .barriers
                        .iter()
                        .chain(delta.iter())
                        .filter_map(|b| b.geometry.bounding_rect())
                        .reduce(|a, b| {
                            geo::Rect::new(
                                geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                                geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
                            )
                        })
                        .context("--grid: the barriers have no extent; give --extent")?;
                    [rect.min().x, rect.min().y, rect.max().x, rect.max().y]
                }
            };
            square_grid(bbox, km * 1000.0)
        }
        None => loaded.ranges.clone(),
    };
    if units.is_empty() {
        bail!("no reporting units");
    }
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;

    let procedure = match args.procedure {
        ProcedureArg::Cbc => Procedure::Cbc,
        ProcedureArg::Cut => Procedure::Cut,
    };
    let opts = Options {
        procedure,
        cbc: procedure == Procedure::Cbc,
        min_patch_area_m2: args.min_patch_area,
        clip_then_node: args.clip_then_node,
        keep_patches: !args.no_patches,
    };
    let excl: Vec<&MultiPolygon<f64>> = exclusions.iter().map(|r| &r.geometry).collect();
    let base_lines: Vec<&MultiLineString<f64>> =
        loaded.barriers.iter().filter(|b| rules.cuts(b)).map(|b| &b.geometry).collect();
    let t_load = t0.elapsed().as_secs_f64();
    let base = fragment(&base_lines, &excl, &units, &opts);
    let order = unit_order(&units);
    write_csv(&args.out.join("meff.csv"), &units, &base, &order, procedure)?;
    let mut gpkg_layers: Vec<(&str, &Fragmentation)> = vec![("patches", &base)];

    let scenario;
    if !delta.is_empty() {
        let delta_rules = CutRules { include_planned: true, ..rules.clone() };
        let mut lines = base_lines.clone();
        lines.extend(delta.iter().filter(|b| delta_rules.cuts(b)).map(|b| &b.geometry));
        scenario = fragment(&lines, &excl, &units, &opts);
        write_csv(&args.out.join("meff_with_delta.csv"), &units, &scenario, &order, procedure)?;
        write_delta_csv(&args.out.join("meff_delta.csv"), &units, &base, &scenario, &order, procedure)?;
        gpkg_layers.push(("patches_with_delta", &scenario));
    }
    if !args.no_patches {
        write_patches(&args.out.join("patches.gpkg"), &units, &gpkg_layers, &loaded.crs.wkt)?;
    }
    let n_patches: usize = base.units.iter().map(|u| u.n_patches).sum();
    eprintln!(
        "{} of {} barriers cut; {} units, {} patches (load {:.2} s, total {:.2} s); wrote {}",
        base_lines.len(),
        loaded.barriers.len(),
        units.len(),
        n_patches,
        t_load,
        t0.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}

