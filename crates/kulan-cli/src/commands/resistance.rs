//! `kulan resistance`: a species' resistance grid from barriers, crossings and land cover.

use std::path::PathBuf;

use anyhow::{bail, Context};
use kulan_core::raster::GeoTransform;
use kulan_core::BarrierStatus;
use kulan_io::vector::LayerRef;
use kulan_io::{write_raster, AnalysisCrs, Reprojector};
use kulan_permeability::{build_resistance, ClassTable, Lattice, Model, ResistanceInput};

use super::gridio::{lattice_of, read_grid, WriteArgs, NODATA};
use super::inputs::InputArgs;

#[derive(clap::Args)]
pub struct Args {
    /// Permeability model (TOML); default: the built-in model (`kulan model default` prints it).
    #[arg(long, value_name = "TOML")]
    pub model: Option<PathBuf>,
    /// Species (name, alias or scientific name, as in the model).
    #[arg(long)]
    pub species: String,
    /// Barrier layers (FILE or FILE:LAYER); repeat for several.
    #[arg(long, required = true, num_args = 1.., value_name = "FILE[:LAYER]")]
    pub barriers: Vec<LayerRef>,
    /// Crossing structures and fence gaps: points or short lines with a `type` field (underpass,
    /// fence_gap, lowered_strands, ...) and optionally `width_m` and `height_m`.
    #[arg(long, num_args = 1.., value_name = "FILE[:LAYER]")]
    pub crossings: Vec<LayerRef>,
    /// Field holding the crossing type (default: type, crossing_type or kind).
    #[arg(long, value_name = "FIELD")]
    pub crossing_type_field: Option<String>,
    /// Land-cover raster (class codes) on the output grid; it is also the grid when no template
    /// or extent is given.
    #[arg(long, value_name = "RASTER", requires = "classes")]
    pub landcover: Option<PathBuf>,
    /// Land-cover class table (CSV: code, resistance or a column per species, optional name);
    /// `model` takes the model's [[landcover]] classes.
    #[arg(long, value_name = "CSV|model")]
    pub classes: Option<String>,
    /// Grid to fill: its extent, cell size and CRS. Its NoData cells stay NoData.
    #[arg(long, value_name = "RASTER", conflicts_with_all = ["extent", "cell"])]
    pub template: Option<PathBuf>,
    /// Grid extent XMIN,YMIN,XMAX,YMAX in the analysis CRS (with --cell; give --crs too).
    #[arg(long, value_name = "XMIN,YMIN,XMAX,YMAX", value_delimiter = ',', allow_hyphen_values = true, requires = "cell")]
    pub extent: Option<Vec<f64>>,
    /// Cell size in metres (with --extent).
    #[arg(long, value_name = "METRES", requires = "extent")]
    pub cell: Option<f64>,
    /// Resistance raster to write (.tif, or .asc for an ESRI ASCII grid); impassable cells are NoData.
    #[arg(long, value_name = "RASTER")]
    pub out: PathBuf,
    /// Also write the per-cell barrier crossing probability (NoData where no barrier passes).
    #[arg(long, value_name = "RASTER")]
    pub permeability_out: Option<PathBuf>,
    /// Burn planned barriers too (a scenario); removed barriers are never burned.
    #[arg(long)]
    pub include_planned: bool,
    /// Override the model's encounter cost (metres of detour per failed crossing attempt).
    #[arg(long, value_name = "METRES")]
    pub encounter_cost: Option<f64>,
    #[command(flatten)]
    pub write: WriteArgs,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(mut args: Args) -> anyhow::Result<()> {
    let model = match &args.model {
        Some(p) => Model::from_path(p)?,
        None => Model::default_model(),
    };
    let species = model.species_key(&args.species)?;

    // The grid: template, land cover, or extent + cell.
    let landcover = args.landcover.as_ref().map(|p| read_grid(p, "land-cover")).transpose()?;
    let template = args.template.as_ref().map(|p| read_grid(p, "template")).transpose()?;
    let (lattice, grid_crs, mask) = if let Some(t) = &template {
        if let Some(lc) = &landcover {
            t.check_aligned(lc).map_err(|m| {
                anyhow::anyhow!("the land-cover raster does not line up with the template: {m}; resample it onto the template (gdalwarp -r near)")
            })?;
            super::gridio::check_same_crs(t, "the template", lc.crs.as_deref(), "the land-cover raster")?;
        }
        (lattice_of(t), t.crs.clone(), template.as_ref())
    } else if let Some(lc) = &landcover {
        (lattice_of(lc), lc.crs.clone(), None)
    } else if let (Some(e), Some(cell)) = (&args.extent, args.cell) {
        let [xmin, ymin, xmax, ymax] = e[..] else {
            bail!("--extent takes four numbers, XMIN,YMIN,XMAX,YMAX; got {}", e.len());
        };
        if !(cell > 0.0 && xmax > xmin && ymax > ymin) {
            bail!("--extent must be XMIN,YMIN,XMAX,YMAX with XMAX > XMIN and YMAX > YMIN, and --cell positive");
        }
        let cols = ((xmax - xmin) / cell).ceil() as usize;
        let rows = ((ymax - ymin) / cell).ceil() as usize;
        let transform = GeoTransform { origin_x: xmin, origin_y: ymin + rows as f64 * cell, cell_width: cell, cell_height: cell };
        let crs = match &args.input.crs {
            Some(def) => Some(AnalysisCrs::from_definition(def)?.wkt),
            None => bail!("with --extent, name the CRS the extent is in with --crs (e.g. EPSG:32648)"),
        };
        (Lattice { rows, cols, transform }, crs, None)
    } else {
        bail!("say which grid to fill: --template RASTER, --landcover RASTER, or --extent XMIN,YMIN,XMAX,YMAX --cell METRES");
    };

    // Barriers go into the grid's CRS.
    if let Some(wkt) = &grid_crs {
        if let Some(user) = &args.input.crs {
            let grid = AnalysisCrs::from_definition(wkt)?;
            if !Reprojector::new(&AnalysisCrs::from_definition(user)?.wkt, &grid, "--crs")?.is_identity() {
                bail!("--crs {user} differs from the CRS of the grid; leave --crs out to work in the grid's CRS");
            }
        }
        args.input.crs = Some(wkt.clone());
    } else if args.input.crs.is_none() {
        bail!("the grid declares no CRS; name it with --crs EPSG:xxxx");
    }
    let loaded = args.input.load(&args.barriers, &[]).context("reading the barriers")?;
    let crossings = kulan_project::inputs::read_crossings(&args.crossings, &loaded.crs, args.crossing_type_field.as_deref())?;

    let table = match (args.classes.as_deref(), &landcover) {
        (Some("model"), Some(_)) => Some(ClassTable::from_model(&model, &species)?),
        (Some(path), Some(_)) => {
            let file = std::fs::File::open(path).with_context(|| format!("{path}: cannot open the class table"))?;
            let mut names = vec![species.clone()];
            names.extend(model.species[&species].aliases.iter().cloned());
            Some(ClassTable::from_csv(file, path, &names)?)
        }
        (Some(_), None) => bail!("--classes needs --landcover"),
        (None, _) => None,
    };
    let mut statuses = vec![BarrierStatus::Existing];
    if args.include_planned {
        statuses.push(BarrierStatus::Planned);
    }
    let input = ResistanceInput {
        model: &model,
        species: &species,
        lattice,
        crs: grid_crs.clone(),
        mask,
        barriers: &loaded.barriers,
        crossings: &crossings,
        landcover: landcover.as_ref().zip(table.as_ref()),
        statuses: &statuses,
        encounter_cost_m: args.encounter_cost,
    };
    let out = build_resistance(&input)?;
    write_raster(&args.out, &out.resistance, &args.write.options(NODATA))
        .with_context(|| format!("writing {}", args.out.display()))?;
    if let Some(p) = &args.permeability_out {
        write_raster(p, &out.permeability, &args.write.options(NODATA)).with_context(|| format!("writing {}", p.display()))?;
    }
    report(&out.report, lattice);
    Ok(())
}

fn report(r: &kulan_permeability::ResistanceReport, lat: Lattice) {
    eprintln!(
        "resistance for {}: {} × {} cells, {} crossed by barriers, {} made impassable (p = 0), {} NoData in all; encounter cost {} m",
        r.species, lat.rows, lat.cols, r.barrier_cells, r.impassable_barrier_cells, r.nodata_cells, r.encounter_cost_m
    );
    for c in r.classes.iter().filter(|c| c.features > 0) {
        eprintln!("  {:<5} {:<36} p = {:.2}  {:>6} features {:>10.1} km", c.id, c.name, c.p, c.features, c.length_m / 1000.0);
    }
    if r.skipped_by_status > 0 {
        eprintln!("  {} planned or removed barriers left out (--include-planned burns planned ones)", r.skipped_by_status);
    }
    let unmatched: Vec<String> =
        r.crossings.iter().filter(|c| c.class.is_none()).map(|c| format!("{} ({})", c.id, c.crossing_type)).collect();
    let off: Vec<String> =
        r.crossings.iter().filter(|c| c.class.is_some() && c.cells == 0).map(|c| c.id.to_string()).collect();
    let applied = r.crossings.iter().filter(|c| c.cells > 0).count();
    if !r.crossings.is_empty() {
        eprintln!("  crossings: {applied} applied");
    }
    if !unmatched.is_empty() {
        eprintln!("  crossings of a type the model has no class for, ignored: {}", unmatched.join(", "));
    }
    if !off.is_empty() {
        eprintln!("  crossings not on any barrier cell, no effect: {}", off.join(", "));
    }
}

