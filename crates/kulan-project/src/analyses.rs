//! Each analysis of a scenario as a stage: set-up from the scenario's inputs, the library call,
//! and the outputs written into the stage's folder with the names the individual commands use.

use std::path::Path;

use anyhow::{bail, Context};
use geo::{BoundingRect, MultiLineString, MultiPolygon};
use kulan_core::intersect::{intersect_ranges, BarrierIndex};
use kulan_core::raster::{GeoTransform, Grid};
use kulan_core::{BarrierStatus, Range};
use kulan_corridors::{corridors, Adjacency, Connectivity as CostConnectivity, CorridorOptions, CostSurface};
use kulan_fragment::{fragment, square_grid, CutRules, Options, Procedure};
use kulan_io::vector::Loaded;
use kulan_io::{write_raster, RasterWriteOptions};
use kulan_permeability::{build_resistance, Lattice, Model, ResistanceInput};

use crate::check::LoadedProject;
use crate::grid::{read_id_layer_noting, to_f32, NODATA};
use crate::outputs;
use crate::project::{CircuitOptions, CorridorOptions as CorridorSettings, CrossingsOptions as CrossingsSettings, FragmentOptions};
use crate::tracks::{barrier_classes, prepare_tracks, track_source};
use kulan_crossings::{analyse, BabaParams};
use crate::scenario::{load_units_layer, remove_gaps, ScenarioInputs};

fn as_loaded(s: &ScenarioInputs) -> Loaded {
    Loaded {
        barriers: s.barriers.clone(),
        ranges: s.ranges.clone(),
        crs: s.crs.clone(),
        reports: Vec::new(),
        barrier_layers: 1,
        range_layers: 1,
    }
}

/// `pairs.csv`, `totals.csv`, `intersections.gpkg`.
pub fn intersect_stage(s: &ScenarioInputs, dir: &Path) -> anyhow::Result<()> {
    let loaded = as_loaded(s);
    let index = BarrierIndex::new(&loaded.barriers);
    let results = intersect_ranges(&index, &loaded.ranges, true, || {});
    let order = outputs::intersect::range_order(&loaded);
    outputs::intersect::write_pairs_csv(&dir.join("pairs.csv"), &loaded, &results, &order)?;
    outputs::intersect::write_totals_csv(&dir.join("totals.csv"), &loaded, &results, &order)?;
    outputs::intersect::write_gpkg(&dir.join("intersections.gpkg"), &loaded, &results, &order)?;
    Ok(())
}

/// The fragmentation rules of a project.
pub fn cut_rules(lp: &LoadedProject, f: &FragmentOptions) -> anyhow::Result<CutRules> {
    Ok(match f.cuts.get_ref().as_str() {
        "default" => CutRules::default(),
        "all" => CutRules::all(),
        path => {
            let full = lp.resolve(Path::new(path));
            let text = std::fs::read_to_string(&full).with_context(|| format!("cannot read {}", full.display()))?;
            CutRules::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", full.display()))?
        }
    })
}

/// The reporting units of m_eff: the ranges, a square grid over the study extent, or the
/// polygons of `units_layer`.
pub fn fragment_units(lp: &LoadedProject, f: &FragmentOptions, s: &ScenarioInputs) -> anyhow::Result<Vec<Range>> {
    Ok(match f.units.get_ref().as_str() {
        "grid" => {
            let km = f.grid_km.unwrap_or(0.0);
            let [x0, y0, x1, y1] = study_extent(lp, s)?;
            square_grid([x0, y0, x1, y1], km * 1000.0)
        }
        "layer" => load_units_layer(lp, f.units_layer.as_ref().context("units = \"layer\" needs units_layer")?)?,
        _ => s.ranges.clone(),
    })
}

/// The barrier lines of a scenario with the fence openings that break cuts taken out.
fn opened_barriers(lp: &LoadedProject, s: &ScenarioInputs) -> Vec<kulan_core::Barrier> {
    let snap = lp.project.study.cell_m;
    s.barriers
        .iter()
        .map(|b| {
            let mut b = b.clone();
            if !s.gaps.is_empty() {
                b.geometry = remove_gaps(&b.geometry, &s.gaps, snap);
            }
            b
        })
        .filter(|b| !b.geometry.0.is_empty())
        .collect()
}

/// `kulan crossings`'s files in `crossings/`: BaBA on the project's tracks against the scenario's
/// barriers, fence openings taken out of the lines; classes are barrier kinds.
pub fn crossings_stage(lp: &LoadedProject, x: &CrossingsSettings, s: &ScenarioInputs, dir: &Path) -> anyhow::Result<()> {
    let t = lp.project.tracks.as_ref().context("analyses.crossings needs a [tracks] table")?;
    let barriers = opened_barriers(lp, s);
    if barriers.is_empty() {
        bail!("scenario {}: no barrier line is left for the crossing analysis", s.name);
    }
    let source = track_source(lp, t);
    let max_speed = (x.max_speed_ms > 0.0).then_some(x.max_speed_ms);
    let prepared = prepare_tracks(&source, &s.crs, &barriers, *x.buffer_m.get_ref(), max_speed)?;
    let (classes, feature_class, _) = barrier_classes(None, None, &barriers)?;
    let params = BabaParams {
        d: *x.buffer_m.get_ref(),
        interval: x.interval_h,
        b_time: x.b_time_h,
        p_time: x.p_time_h,
        w: x.w_h,
        tolerance: x.tolerance_h,
        max_cross: x.max_cross,
        sd_multiplier: x.sd_multiplier,
        exclude_buffer: false,
        round_fixes: false,
        group_by_interval: false,
    };
    let analysis = analyse(&prepared.tracks, &barriers, &params, x.min_total_enc, &classes, &feature_class)?;
    outputs::crossings::write_all(dir, &analysis, &prepared.tracks, &barriers, &classes, &feature_class, &s.crs.wkt)
}

/// `meff.csv` and `patches.gpkg`. Fence openings that break cuts are taken out of the lines.
pub fn fragment_stage(lp: &LoadedProject, f: &FragmentOptions, s: &ScenarioInputs, dir: &Path) -> anyhow::Result<()> {
    let rules = cut_rules(lp, f)?;
    let units = fragment_units(lp, f, s)?;
    if units.is_empty() {
        bail!("no reporting units");
    }
    let procedure = if f.procedure.get_ref() == "cut" { Procedure::Cut } else { Procedure::Cbc };
    let opts = Options {
        procedure,
        cbc: procedure == Procedure::Cbc,
        min_patch_area_m2: f.min_patch_area_m2,
        clip_then_node: false,
        keep_patches: true,
    };
    let snap = lp.project.study.cell_m;
    let lines: Vec<MultiLineString<f64>> = s
        .barriers
        .iter()
        .filter(|b| rules.cuts(b))
        .map(|b| if s.gaps.is_empty() { b.geometry.clone() } else { remove_gaps(&b.geometry, &s.gaps, snap) })
        .collect();
    let line_refs: Vec<&MultiLineString<f64>> = lines.iter().collect();
    let excl: Vec<&MultiPolygon<f64>> = Vec::new();
    let result = fragment(&line_refs, &excl, &units, &opts);
    let order = outputs::fragment::unit_order(&units);
    outputs::fragment::write_csv(&dir.join("meff.csv"), &units, &result, &order, procedure)?;
    outputs::fragment::write_patches(&dir.join("patches.gpkg"), &units, &[("patches", &result)], &s.crs.wkt)?;
    Ok(())
}

/// The study grid's extent: given, or the ranges' extent plus two cells, aligned on the cell size.
pub fn study_extent(lp: &LoadedProject, s: &ScenarioInputs) -> anyhow::Result<[f64; 4]> {
    if let Some(e) = &lp.project.study.extent {
        return Ok(*e.get_ref());
    }
    let cell = lp.project.study.cell_m;
    let rect = s
        .ranges
        .iter()
        .filter_map(|r| r.geometry.bounding_rect())
        .reduce(|a, b| {
            geo::Rect::new(
                geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
            )
        })
        .context("the ranges have no extent; give study.extent")?;
    let down = |v: f64| (v / cell).floor() * cell - 2.0 * cell;
    let up = |v: f64| (v / cell).ceil() * cell + 2.0 * cell;
    Ok([down(rect.min().x), down(rect.min().y), up(rect.max().x), up(rect.max().y)])
}

/// The study grid.
pub fn study_lattice(lp: &LoadedProject, s: &ScenarioInputs) -> anyhow::Result<Lattice> {
    let [x0, y0, x1, y1] = study_extent(lp, s)?;
    let cell = lp.project.study.cell_m;
    let cols = ((x1 - x0) / cell).ceil() as usize;
    let rows = ((y1 - y0) / cell).ceil() as usize;
    Ok(Lattice { rows, cols, transform: GeoTransform { origin_x: x0, origin_y: y0 + rows as f64 * cell, cell_width: cell, cell_height: cell } })
}

/// The project's permeability model.
pub fn project_model(lp: &LoadedProject) -> anyhow::Result<Model> {
    Ok(match &lp.project.species.model {
        Some(p) => Model::from_path(&lp.resolve(p.get_ref()))?,
        None => Model::default_model(),
    })
}

fn raster_options() -> RasterWriteOptions {
    RasterWriteOptions { compress: true, cog: false, nodata: NODATA }
}

/// `resistance.tif` and `permeability.tif` for one species.
pub fn resistance_stage(
    lp: &LoadedProject,
    encounter_cost_m: Option<f64>,
    species: &str,
    s: &ScenarioInputs,
    dir: &Path,
) -> anyhow::Result<()> {
    let model = project_model(lp)?;
    let key = model.species_key(species)?;
    let lattice = study_lattice(lp, s)?;
    let input = ResistanceInput {
        model: &model,
        species: &key,
        lattice,
        crs: Some(s.crs.wkt.clone()),
        mask: None,
        barriers: &s.barriers,
        crossings: &s.crossings,
        landcover: None,
        statuses: &[BarrierStatus::Existing],
        encounter_cost_m,
    };
    let out = build_resistance(&input)?;
    write_raster(&dir.join("resistance.tif"), &out.resistance, &raster_options()).context("writing resistance.tif")?;
    write_raster(&dir.join("permeability.tif"), &out.permeability, &raster_options()).context("writing permeability.tif")?;
    Ok(())
}

/// Cores burned onto a grid.
fn cores_on(lp: &LoadedProject, grid: &Grid<f64>) -> anyhow::Result<kulan_corridors::Sources> {
    let cores = lp.project.cores.as_ref().context("no [cores] table")?;
    let path = lp.resolve(cores.path.get_ref());
    let spec = match &cores.layer {
        Some(l) => format!("{}:{l}", path.display()),
        None => path.display().to_string(),
    };
    let mut notes = Vec::new();
    let sources = read_id_layer_noting(&spec, grid, "the study grid", cores.id_field.as_deref(), "cores", &mut notes)?;
    // Reprojection is expected (cores come in their own CRS); cores off the grid are not.
    if let Some(n) = notes.iter().find(|n| !n.contains("reprojecting")) {
        bail!("{n}; widen study.extent or move the cores");
    }
    Ok(sources)
}

/// Linkage Mapper's outputs in the stage folder: `corridors.tif`, `allocation.tif`,
/// `link_table.csv`, `links.gpkg` (and the truncated mosaic when asked).
pub fn corridors_stage(lp: &LoadedProject, c: &CorridorSettings, resistance_tif: &Path, dir: &Path) -> anyhow::Result<()> {
    let resistance = kulan_io::read_raster(resistance_tif)?;
    let surface = CostSurface::from_resistance(&resistance).with_context(|| resistance_tif.display().to_string())?;
    let cores = cores_on(lp, &resistance)?;
    let opts = CorridorOptions {
        connectivity: CostConnectivity::from_neighbours(*c.neighbours.get_ref())?,
        adjacency: Adjacency::All,
        keep_through_cores: false,
        max_cwd: None,
        max_euclidean: None,
        truncate_width: c.truncate,
        keep_cwd: false,
        keep_link_corridors: false,
        drop_cores_on_nodata: true,
    };
    let result = corridors(&surface, &cores, &opts)?;
    let w = |name: &str, g: &Grid<f64>| {
        write_raster(&dir.join(name), &to_f32(g), &raster_options()).with_context(|| format!("writing {name}"))
    };
    w("corridors.tif", &result.mosaic)?;
    if let (Some(width), Some(t)) = (c.truncate, &result.truncated) {
        w(&format!("corridors_truncated_at_{width}.tif"), t)?;
    }
    let alloc = result.allocation.map(|v| v as i32);
    write_raster(&dir.join("allocation.tif"), &alloc, &RasterWriteOptions { nodata: 0.0, ..raster_options() })?;
    outputs::corridors::write_link_table_csv(&dir.join("link_table.csv"), &result)?;
    outputs::corridors::write_links_gpkg(&dir.join("links.gpkg"), &result, resistance.crs.as_deref())?;
    Ok(())
}

/// `circuit_resistances.csv` and `circuit_cum_curmap.tif` (as `kulan circuit --out circuit`).
pub fn circuit_stage(lp: &LoadedProject, c: &CircuitOptions, resistance_tif: &Path, dir: &Path) -> anyhow::Result<()> {
    use kulan_circuit::{Connectivity, Scheme, SolverKind};
    let resistance = kulan_io::read_raster(resistance_tif)?;
    let cores = cores_on(lp, &resistance)?;
    let mut focal = resistance.map(|_| 0.0f64);
    focal.nodata = None;
    for &(r, col, id) in &cores.cells {
        focal.set(r, col, id as f64);
    }
    let opts = crate::circuit::PairwiseOptions {
        conductance: false,
        connectivity: if *c.neighbours.get_ref() == 4 { Connectivity::Four } else { Connectivity::Eight },
        scheme: if c.scheme.get_ref() == "avg-res" { Scheme::AverageResistance } else { Scheme::AverageConductance },
        regions: true,
        current: true,
        solver: SolverKind::Auto,
        tol: 1e-8,
    };
    let r = crate::circuit::pairwise(&resistance, &focal, &opts)?;
    crate::circuit::write_resistances_csv(&dir.join("circuit_resistances.csv"), &r)?;
    if let Some(g) = &r.cumulative_current {
        write_raster(&dir.join("circuit_cum_curmap.tif"), g, &raster_options())?;
    }
    Ok(())
}
