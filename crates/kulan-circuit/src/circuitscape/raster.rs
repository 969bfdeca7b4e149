//! Raster modes: pairwise, one-to-all, all-to-one, advanced.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use kulan_core::raster::Grid;
use rayon::prelude::*;

use super::config::CsConfig;
use super::io::{self, suffixed, GridReader, GridWriter, PairFilter};
use super::{RunOptions, RunSummary};
use crate::engine::{node_currents, PairwiseSolver};
use crate::graph::{Connectivity, RasterGraph, RasterGraphSpec, Scheme};
use crate::solver::{choose, make_solver, LinearSolver};
use crate::CircuitError;

mod advanced;
mod onetoall;
pub(crate) use advanced::resolve_conflicts;
use advanced::advanced;
use onetoall::one_all;

/// Inputs shared by the raster modes.
struct RasterInputs {
    habitat: Grid<f64>,
    /// Cell conductances (0 = no habitat; +∞ = zero resistance).
    cond: Vec<f64>,
    regions: Option<Vec<i64>>,
    /// Focal points `(id, row, col)` sorted by id (stable; column-major within an id).
    points: Vec<(i64, usize, usize)>,
    pairs: Option<PairFilter>,
    strengths: Option<HashMap<i64, f64>>,
    nodata: f64,
    connectivity: Connectivity,
    scheme: Scheme,
}

fn cell_nodata(g: &Grid<f64>, v: f64) -> bool {
    g.is_nodata(v) || v == -9999.0
}

fn read_aligned(reader: &dyn GridReader, path: &Path, hab: &Grid<f64>, what: &str) -> Result<Grid<f64>, CircuitError> {
    let g = reader.read(path)?;
    if g.rows != hab.rows || g.cols != hab.cols {
        return Err(CircuitError::Input(format!(
            "{}: {what} has {}×{} cells but the habitat map has {}×{}",
            path.display(),
            g.rows,
            g.cols,
            hab.rows,
            hab.cols
        )));
    }
    Ok(g)
}

/// Map coordinates to a cell, as Circuitscape does (ceil on the cell edges).
fn cell_of(hab: &Grid<f64>, x: f64, y: f64) -> Option<(usize, usize)> {
    let t = &hab.transform;
    let yll = t.origin_y - t.cell_height * hab.rows as f64;
    let row = (hab.rows as f64 - (y - yll) / t.cell_height).ceil() as i64 - 1;
    let col = ((x - t.origin_x) / t.cell_width).ceil() as i64 - 1;
    (row >= 0 && col >= 0 && row < hab.rows as i64 && col < hab.cols as i64).then_some((row as usize, col as usize))
}

/// Reads focal points from a raster (non-zero cells) or a text file (`id x y`).
fn read_points(reader: &dyn GridReader, path: &Path, hab: &Grid<f64>) -> Result<Vec<(i64, usize, usize)>, CircuitError> {
    let mut pts: Vec<(i64, usize, usize)> = Vec::new();
    if io::is_raster_file(path)? {
        let g = read_aligned(reader, path, hab, "the focal point map")?;
        for c in 0..g.cols {
            for r in 0..g.rows {
                let v = g.get(r, c);
                if !cell_nodata(&g, v) && v != 0.0 {
                    pts.push((v.round() as i64, r, c));
                }
            }
        }
    } else {
        let rows = io::number_rows(&io::read_text(path)?, path)?;
        for (k, r) in rows.iter().enumerate() {
            if r.len() < 3 {
                return Err(CircuitError::File { path: path.display().to_string(), message: format!("row {}: expected 'id x y'", k + 1) });
            }
            let (row, col) = cell_of(hab, r[1], r[2]).ok_or_else(|| {
                CircuitError::Input(format!(
                    "{}: focal node {} at ({}, {}) falls outside the habitat map",
                    path.display(),
                    r[0],
                    r[1],
                    r[2]
                ))
            })?;
            pts.push((r[0] as i64, row, col));
        }
    }
    pts.retain(|p| p.0 >= 0);
    pts.sort_by_key(|p| p.0); // stable
    Ok(pts)
}

fn load(cfg: &CsConfig, reader: &dyn GridReader, need_points: bool) -> Result<RasterInputs, CircuitError> {
    let hab_path = cfg.required_input("habitat_file")?;
    let habitat = reader.read(&hab_path)?;
    let is_res = cfg.flag("habitat_map_is_resistances");
    let mut negatives = 0usize;
    let mut cond: Vec<f64> = habitat
        .data
        .iter()
        .map(|&v| {
            if cell_nodata(&habitat, v) {
                0.0
            } else if v < 0.0 {
                negatives += 1;
                0.0
            } else if is_res {
                if v == 0.0 { f64::INFINITY } else { 1.0 / v }
            } else {
                v
            }
        })
        .collect();
    if negatives > 0 {
        return Err(CircuitError::Input(format!(
            "{}: {negatives} cells have negative values; resistances and conductances must be >= 0",
            hab_path.display()
        )));
    }
    if cfg.flag("use_mask") {
        let p = cfg.required_input("mask_file")?;
        let m = read_aligned(reader, &p, &habitat, "the mask")?;
        for (c, &mv) in cond.iter_mut().zip(&m.data) {
            if cell_nodata(&m, mv) || mv <= 0.0 {
                *c = 0.0;
            }
        }
        if cond.iter().all(|&c| c == 0.0) {
            return Err(CircuitError::Input(format!("{}: the mask removes every cell", p.display())));
        }
    }
    let regions = if cfg.flag("use_polygons") {
        let p = cfg.required_input("polygon_file")?;
        let g = read_aligned(reader, &p, &habitat, "the short-circuit region map")?;
        Some(g.data.iter().map(|&v| if cell_nodata(&g, v) || v < 0.0 { 0 } else { v.round() as i64 }).collect())
    } else {
        None
    };
    let (mut points, mut pairs, mut strengths) = (Vec::new(), None, None);
    if need_points {
        let p = cfg.required_input("point_file")?;
        points = read_points(reader, &p, &habitat)?;
        if cfg.flag("use_included_pairs") {
            let f = PairFilter::read(&cfg.required_input("included_pairs_file")?)?;
            points.retain(|p| f.ids.contains(&p.0));
            pairs = Some(f);
        }
        if unique_ids(&points).len() < 2 {
            return Err(CircuitError::Input(format!("{}: fewer than two valid focal nodes (ids) found", p.display())));
        }
        if cfg.flag("use_variable_source_strengths") {
            let sp = cfg.required_input("variable_source_file")?;
            let rows = io::number_rows(&io::read_text(&sp)?, &sp)?;
            strengths = Some(rows.iter().filter(|r| r.len() >= 2).map(|r| (r[0] as i64, r[1])).collect());
        }
    }
    let nodata = habitat.nodata.unwrap_or(-9999.0);
    let connectivity = if cfg.flag("connect_four_neighbors_only") { Connectivity::Four } else { Connectivity::Eight };
    let scheme = if cfg.flag("connect_using_avg_resistances") { Scheme::AverageResistance } else { Scheme::AverageConductance };
    Ok(RasterInputs { habitat, cond, regions, points, pairs, strengths, nodata, connectivity, scheme })
}

impl RasterInputs {
    fn graph(&self, regions: Option<&[i64]>) -> Result<RasterGraph, CircuitError> {
        RasterGraph::build(RasterGraphSpec {
            rows: self.habitat.rows,
            cols: self.habitat.cols,
            conductance: &self.cond,
            connectivity: self.connectivity,
            scheme: self.scheme,
            regions,
        })
    }

    fn grid(&self, data: Vec<f64>) -> Grid<f64> {
        let mut g = self.habitat.same_shape(0.0);
        g.data = data;
        g.nodata = Some(self.nodata);
        g
    }
}

struct Outputs<'a> {
    prefix: PathBuf,
    writer: &'a dyn GridWriter,
    compress: bool,
    nodata: f64,
    write_cur: bool,
    write_volt: bool,
    cum_only: bool,
    write_max: bool,
    null_cur: bool,
    null_volt: bool,
    log_maps: bool,
}

impl<'a> Outputs<'a> {
    fn new(cfg: &CsConfig, writer: &'a dyn GridWriter, nodata: f64) -> Self {
        let cum_only = cfg.flag("write_cum_cur_map_only");
        Outputs {
            prefix: cfg.output_prefix(),
            writer,
            compress: cfg.flag("compress_grids"),
            nodata,
            write_cur: cfg.flag("write_cur_maps") || cum_only,
            write_volt: cfg.flag("write_volt_maps"),
            cum_only,
            write_max: cfg.flag("write_max_cur_maps"),
            null_cur: cfg.flag("set_null_currents_to_nodata"),
            null_volt: cfg.flag("set_null_voltages_to_nodata"),
            log_maps: cfg.flag("log_transform_maps"),
        }
    }

    /// Writes one map; `null` sets cells without habitat to NoData.
    fn write(&self, inputs: &RasterInputs, kind: &str, name: &str, mut data: Vec<f64>, null: bool, files: &mut Vec<PathBuf>) -> Result<(), CircuitError> {
        if self.log_maps && kind != "voltmap" {
            for v in data.iter_mut() {
                *v = if *v > 0.0 { v.log10() } else { f64::NAN };
            }
        }
        if null {
            for (v, &c) in data.iter_mut().zip(&inputs.cond) {
                if c == 0.0 {
                    *v = f64::NAN;
                }
            }
        }
        let p = suffixed(&self.prefix, &format!("_{kind}{name}.{}", self.writer.extension(self.compress)));
        self.writer.write(&p, &inputs.grid(data), self.nodata, self.compress)?;
        files.push(p);
        Ok(())
    }
}

fn solver_for(opts: RunOptions, n: usize, nnz: usize) -> Box<dyn LinearSolver> {
    make_solver(choose(opts.solver, n, nnz, 1), opts.tol.min(1e-6))
}

pub fn run(cfg: &CsConfig, reader: &dyn GridReader, writer: &dyn GridWriter, opts: RunOptions) -> Result<RunSummary, CircuitError> {
    match cfg.scenario().as_str() {
        "pairwise" => pairwise(cfg, reader, writer, opts),
        "one-to-all" => one_all(cfg, reader, writer, opts, true),
        "all-to-one" => one_all(cfg, reader, writer, opts, false),
        _ => advanced(cfg, reader, writer, opts),
    }
}

fn unique_ids(points: &[(i64, usize, usize)]) -> Vec<i64> {
    let mut ids: Vec<i64> = points.iter().map(|p| p.0).collect();
    ids.dedup();
    ids
}

/// Cells holding `pernode` values for the nodes of one solved component (0 elsewhere).
fn component_cells(rg: &RasterGraph, nodes: &[usize], values: &[f64]) -> Vec<f64> {
    let mut pernode = vec![0.0; rg.graph.n()];
    for (k, &i) in nodes.iter().enumerate() {
        pernode[i] = values[k];
    }
    rg.to_cells(&pernode, 0.0)
}

fn accumulate(cum: &mut [f64], maxmap: &mut [f64], cells: &[f64]) {
    for ((c, m), &v) in cum.iter_mut().zip(maxmap.iter_mut()).zip(cells) {
        if v.is_finite() {
            *c += v;
        }
        let vv = if v.is_finite() { v } else { -9999.0 };
        if vv > *m {
            *m = vv;
        }
    }
}

fn write_cum_max(inp: &RasterInputs, out: &Outputs<'_>, cum: Vec<f64>, maxmap: Vec<f64>, files: &mut Vec<PathBuf>) -> Result<(), CircuitError> {
    if out.write_cur {
        // set_null_currents_to_nodata applies to the cumulative map too (sgVerify14).
        out.write(inp, "cum_curmap", "", cum, out.null_cur, files)?;
    }
    if out.write_max {
        let m: Vec<f64> = maxmap
            .iter()
            .map(|&v| if v == f64::NEG_INFINITY { 0.0 } else if v == -9999.0 { f64::NAN } else { v })
            .collect();
        out.write(inp, "max_curmap", "", m, false, files)?;
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Pairwise

/// Writes the maps of one pair; returns its current map (for cumulative and maximum maps).
fn pair_maps(
    inp: &RasterInputs,
    out: &Outputs<'_>,
    rg: &RasterGraph,
    nodes: &[usize],
    local: &[usize],
    v: &[f64],
    name: &str,
    files: &mut Vec<PathBuf>,
) -> Result<Option<Vec<f64>>, CircuitError> {
    if out.write_volt {
        out.write(inp, "voltmap", name, component_cells(rg, nodes, v), out.null_volt, files)?;
    }
    if !out.write_cur {
        return Ok(None);
    }
    let cur = node_currents(&rg.graph, nodes, local, v, None);
    let mut cells = component_cells(rg, nodes, &cur);
    if out.null_cur {
        for (c, &g) in cells.iter_mut().zip(&inp.cond) {
            if g == 0.0 {
                *c = f64::NAN;
            }
        }
    }
    if !out.cum_only {
        out.write(inp, "curmap", name, cells.clone(), false, files)?;
    }
    Ok(Some(cells))
}

/// Maps of a pair whose two focal nodes are one node (same short-circuit region): no current
/// flows and no voltage builds up, so Circuitscape writes all-zero maps (sgVerify11_*_1_4.asc).
fn same_node_maps(inp: &RasterInputs, out: &Outputs<'_>, name: &str, files: &mut Vec<PathBuf>) -> Result<(), CircuitError> {
    let zeros = vec![0.0; inp.cond.len()];
    if out.write_volt {
        out.write(inp, "voltmap", name, zeros.clone(), out.null_volt, files)?;
    }
    if out.write_cur && !out.cum_only {
        out.write(inp, "curmap", name, zeros, out.null_cur, files)?;
    }
    Ok(())
}

fn pairwise(cfg: &CsConfig, reader: &dyn GridReader, writer: &dyn GridWriter, opts: RunOptions) -> Result<RunSummary, CircuitError> {
    let inp = load(cfg, reader, true)?;
    let out = Outputs::new(cfg, writer, inp.nodata);
    let mut summary = RunSummary { mode: "raster pairwise".into(), ..Default::default() };
    let ids = unique_ids(&inp.points);
    let has_regions = ids.len() != inp.points.len();
    let k = ids.len();
    let mut res = vec![vec![-1.0; k]; k];
    let ncell = inp.cond.len();
    let mut cum = vec![0.0; ncell];
    let mut maxmap = vec![f64::NEG_INFINITY; ncell];

    if !has_regions {
        let rg = inp.graph(inp.regions.as_deref())?;
        summary.nodes = rg.graph.n();
        let focal: Vec<Option<usize>> = inp.points.iter().map(|p| rg.node_at(p.1, p.2)).collect();
        let distinct: Vec<usize> = focal.iter().flatten().copied().collect();
        let solver = solver_for(opts, rg.graph.n(), rg.graph.n_edges() * 2 + rg.graph.n());
        let ps = PairwiseSolver::new(&rg.graph, &distinct, solver.as_ref(), Some(&rg.node_cell))?;
        let mut todo = Vec::new();
        for i in 0..k {
            for j in i + 1..k {
                if inp.pairs.as_ref().is_some_and(|f| !f.allows(ids[i], ids[j])) {
                    continue;
                }
                let (Some(a), Some(b)) = (focal[i], focal[j]) else { continue };
                if a == b {
                    res[i][j] = 0.0;
                    res[j][i] = 0.0;
                    same_node_maps(&inp, &out, &format!("_{}_{}", ids[i], ids[j]), &mut summary.files)?;
                    continue;
                }
                if let Some(r) = ps.resistance(a, b) {
                    res[i][j] = r;
                    res[j][i] = r;
                    todo.push((i, j, a, b));
                }
            }
        }
        summary.solves = distinct.len();
        if out.write_cur || out.write_volt {
            let results: Vec<Result<(Option<Vec<f64>>, Vec<PathBuf>), CircuitError>> = todo
                .par_iter()
                .map(|&(i, j, a, b)| {
                    let sol = ps.pair(a, b).expect("connected pair");
                    let mut files = Vec::new();
                    let name = format!("_{}_{}", ids[i], ids[j]);
                    let cells = pair_maps(&inp, &out, &rg, sol.nodes, &ps.comps.local, &sol.voltages, &name, &mut files)?;
                    Ok((cells, files))
                })
                .collect();
            for r in results {
                let (cells, files) = r?;
                summary.files.extend(files);
                if let Some(c) = cells {
                    accumulate(&mut cum, &mut maxmap, &c);
                }
            }
        }
    } else {
        // Focal regions: each pair is solved on its own graph where only its two regions are
        // short-circuited (Circuitscape's rule); included pairs do not apply here, as there.
        for i in 0..k {
            for j in i + 1..k {
                let newpoly = pair_polymap(&inp, ids[i], ids[j]);
                let rg = inp.graph(Some(&newpoly))?;
                summary.nodes = summary.nodes.max(rg.graph.n());
                let first = |id: i64| inp.points.iter().find(|p| p.0 == id).and_then(|p| rg.node_at(p.1, p.2));
                let (Some(a), Some(b)) = (first(ids[i]), first(ids[j])) else { continue };
                if a == b {
                    // Both regions lie in one short-circuit polygon: no resistance between them.
                    res[i][j] = 0.0;
                    res[j][i] = 0.0;
                    same_node_maps(&inp, &out, &format!("_{}_{}", ids[i], ids[j]), &mut summary.files)?;
                    continue;
                }
                let solver = solver_for(opts, rg.graph.n(), rg.graph.n_edges() * 2 + rg.graph.n());
                let ps = PairwiseSolver::new(&rg.graph, &[a, b], solver.as_ref(), Some(&rg.node_cell))?;
                summary.solves += 1;
                let Some(r) = ps.resistance(a, b) else { continue };
                res[i][j] = r;
                res[j][i] = r;
                if out.write_cur || out.write_volt {
                    let sol = ps.pair(a, b).expect("connected pair");
                    let name = format!("_{}_{}", ids[i], ids[j]);
                    if let Some(c) = pair_maps(&inp, &out, &rg, sol.nodes, &ps.comps.local, &sol.voltages, &name, &mut summary.files)? {
                        accumulate(&mut cum, &mut maxmap, &c);
                    }
                }
            }
        }
    }
    for (i, row) in res.iter_mut().enumerate() {
        row[i] = 0.0;
    }
    io::write_resistances(&out.prefix, &ids, &res, true)?;
    summary.files.push(suffixed(&out.prefix, "_resistances.out"));
    write_cum_max(&inp, &out, cum, maxmap, &mut summary.files)?;
    Ok(summary)
}

/// The short-circuit map for one pair when focal points are regions: the user's polygons plus
/// the two focal regions (a focal region touching polygons absorbs them).
fn pair_polymap(inp: &RasterInputs, id1: i64, id2: i64) -> Vec<i64> {
    let cols = inp.habitat.cols;
    let base: Vec<i64> = inp.regions.clone().unwrap_or_else(|| vec![0; inp.cond.len()]);
    let mut newpoly = base.clone();
    let mut k = base.iter().copied().max().unwrap_or(0).max(0);
    for id in [id1, id2] {
        let cells: Vec<usize> = inp.points.iter().filter(|p| p.0 == id).map(|p| p.1 * cols + p.2).collect();
        if cells.len() == 1 && inp.regions.is_some() {
            continue;
        }
        let mut touched: Vec<i64> = cells.iter().map(|&c| base[c]).filter(|&v| v != 0).collect();
        touched.sort_unstable();
        touched.dedup();
        k += 1;
        for &c in &cells {
            newpoly[c] = k;
        }
        if !touched.is_empty() {
            for (c, v) in newpoly.iter_mut().enumerate() {
                if touched.contains(&base[c]) {
                    *v = k;
                }
            }
        }
    }
    newpoly
}
