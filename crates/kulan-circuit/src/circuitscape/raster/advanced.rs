//! Advanced raster mode: source and ground maps (rasters or `value x y` text), solved on the
//! general graph engine or, for large plain grids with the iterative solver, on the memory-lean
//! grid multigrid path ([`crate::gridsolve`]).

use std::path::Path;

use kulan_core::raster::Grid;

use super::{cell_nodata, cell_of, io, load, read_aligned, solver_for, Outputs, RasterInputs};
use crate::circuitscape::{config::CsConfig, GridReader, GridWriter, RunOptions, RunSummary};
use crate::engine::{node_currents, solve_advanced};
use crate::gridsolve::{grid_node_currents, solve_advanced_grid, GridProblem};
use crate::solver::{choose, SolverKind};
use crate::{CircuitError, Connectivity};


/// Reads a source or ground file: a raster aligned with the habitat, or text `value x y`.
pub(super) fn read_cell_values(reader: &dyn GridReader, path: &Path, hab: &Grid<f64>, nodata_value: f64) -> Result<Vec<f64>, CircuitError> {
    if io::is_raster_file(path)? {
        let g = read_aligned(reader, path, hab, "the source/ground map")?;
        Ok(g.data.iter().map(|&v| if cell_nodata(&g, v) { nodata_value } else { v }).collect())
    } else {
        let rows = io::number_rows(&io::read_text(path)?, path)?;
        let mut out = vec![nodata_value; hab.rows * hab.cols];
        for (k, r) in rows.iter().enumerate() {
            if r.len() < 3 {
                return Err(CircuitError::File { path: path.display().to_string(), message: format!("row {}: expected 'value x y'", k + 1) });
            }
            let (row, col) = cell_of(hab, r[1], r[2])
                .ok_or_else(|| CircuitError::Input(format!("{}: row {} lies outside the habitat map", path.display(), k + 1)))?;
            out[row * hab.cols + col] = r[0];
        }
        Ok(out)
    }
}

/// Source and ground conflicts, resolved as Circuitscape does.
pub(crate) fn resolve_conflicts(sources: &mut [f64], grounds: &mut [f64], policy: &str) {
    for i in 0..sources.len() {
        if sources[i] != 0.0 && grounds[i] != 0.0 {
            match policy {
                "rmvsrc" => sources[i] = 0.0,
                "rmvgnd" => grounds[i] = 0.0,
                "rmvall" => {
                    sources[i] = 0.0;
                    grounds[i] = 0.0;
                }
                _ => {}
            }
        }
    }
    for i in 0..sources.len() {
        if grounds[i] == f64::INFINITY && sources[i] > 0.0 {
            grounds[i] = 0.0;
        }
    }
}

pub(super) fn advanced(cfg: &CsConfig, reader: &dyn GridReader, writer: &dyn GridWriter, opts: RunOptions) -> Result<RunSummary, CircuitError> {
    let mut inp = load(cfg, reader, false)?;
    let out = Outputs::new(cfg, writer, inp.nodata);
    let mut summary = RunSummary { mode: "raster advanced".into(), ..Default::default() };
    let (src_cells, gnd_cells) = cell_sources_grounds(cfg, reader, &inp)?;
    if let Some(tol) = grid_path_tolerance(&inp, opts) {
        // The habitat values are in `cond` now; only the grid's shape is needed from here on.
        inp.habitat.data = Vec::new();
        return advanced_on_grid(&inp, &out, src_cells, gnd_cells, cfg, tol, summary);
    }
    let rg = inp.graph(inp.regions.as_deref())?;
    let n = rg.graph.n();
    summary.nodes = n;
    let mut sources = vec![0.0; n];
    let mut grounds = vec![0.0; n];
    for c in 0..src_cells.len() {
        let k = rg.node_of_cell[c];
        if k >= 0 {
            sources[k as usize] += src_cells[c];
            grounds[k as usize] += gnd_cells[c];
        }
    }
    drop((src_cells, gnd_cells));
    resolve_conflicts(&mut sources, &mut grounds, &cfg.get("remove_src_or_gnd").to_ascii_lowercase());
    let comps = rg.graph.components();
    let solver = solver_for(opts, n, rg.graph.n_edges() * 2 + n);
    let sol = solve_advanced(&rg.graph, &comps, &sources, &grounds, None, solver.as_ref(), Some(&rg.node_cell))?;
    summary.solves = sol.solved.len();
    if sol.solved.is_empty() {
        summary.warnings.push("no connected component holds both a source and a ground: nothing was solved".into());
    }
    if out.write_volt {
        out.write(&inp, "voltmap", "", rg.to_cells(&sol.voltages, 0.0), out.null_volt, &mut summary.files)?;
    }
    if out.write_cur {
        let mut pernode = vec![0.0; n];
        let finite: Vec<f64> = grounds.iter().map(|&g| if g.is_finite() { g } else { 0.0 }).collect();
        for &c in &sol.solved {
            let nodes = &comps.members[c];
            let v: Vec<f64> = nodes.iter().map(|&k| sol.voltages[k]).collect();
            let cur = node_currents(&rg.graph, nodes, &comps.local, &v, Some(&finite));
            for (k, &x) in nodes.iter().enumerate() {
                pernode[x] = cur[k];
            }
        }
        out.write(&inp, "curmap", "", rg.to_cells(&pernode, 0.0), out.null_cur, &mut summary.files)?;
    }
    Ok(summary)
}

/// Source currents and ground conductances per cell (0 where there is none), after the
/// unit-current, ground-as-resistance and direct-ground options.
fn cell_sources_grounds(cfg: &CsConfig, reader: &dyn GridReader, inp: &RasterInputs) -> Result<(Vec<f64>, Vec<f64>), CircuitError> {
    let mut src = read_cell_values(reader, &cfg.required_input("source_file")?, &inp.habitat, 0.0)?;
    let mut gnd = read_cell_values(reader, &cfg.required_input("ground_file")?, &inp.habitat, f64::NAN)?;
    let gnd_is_res = cfg.flag("ground_file_is_resistances");
    let unit = cfg.flag("use_unit_currents");
    let direct = cfg.flag("use_direct_grounds");
    for s in src.iter_mut() {
        *s = if *s != 0.0 && s.is_finite() { if unit { 1.0 } else { *s } } else { 0.0 };
    }
    for g in gnd.iter_mut() {
        let gc = if g.is_nan() {
            0.0
        } else if gnd_is_res {
            if *g == 0.0 { f64::INFINITY } else { 1.0 / *g }
        } else {
            *g
        };
        *g = if gc != 0.0 && direct { f64::INFINITY } else { gc };
    }
    Ok((src, gnd))
}

/// The relative residual for the grid multigrid path, when it applies: cells are the nodes (no
/// short-circuit regions, no zero-resistance cells) and the solver is, or resolves to, iterative.
fn grid_path_tolerance(inp: &RasterInputs, opts: RunOptions) -> Option<f64> {
    if inp.regions.is_some() || inp.cond.iter().any(|g| *g == f64::INFINITY) {
        return None;
    }
    let nodes = inp.cond.iter().filter(|g| **g > 0.0).count();
    let links = if inp.connectivity == Connectivity::Four { 2 } else { 4 };
    (choose(opts.solver, nodes, nodes * (2 * links + 1), 1) == SolverKind::Iterative).then_some(opts.tol.min(1e-6))
}

/// Advanced mode on the grid operator: per-cell sources and grounds, no graph.
fn advanced_on_grid(
    inp: &RasterInputs,
    out: &Outputs<'_>,
    mut sources: Vec<f64>,
    mut grounds: Vec<f64>,
    cfg: &CsConfig,
    tol: f64,
    mut summary: RunSummary,
) -> Result<RunSummary, CircuitError> {
    for (i, &g) in inp.cond.iter().enumerate() {
        if g == 0.0 {
            sources[i] = 0.0;
            grounds[i] = 0.0;
        }
    }
    resolve_conflicts(&mut sources, &mut grounds, &cfg.get("remove_src_or_gnd").to_ascii_lowercase());
    summary.mode = "raster advanced (grid multigrid)".into();
    summary.nodes = inp.cond.iter().filter(|g| **g > 0.0).count();
    let problem = GridProblem {
        rows: inp.habitat.rows,
        cols: inp.habitat.cols,
        conductance: &inp.cond,
        connectivity: inp.connectivity,
        scheme: inp.scheme,
    };
    let mut sol = solve_advanced_grid(&problem, sources, &grounds, tol)?;
    summary.mode = format!(
        "raster advanced (grid multigrid: {} CG iterations, relative residual {:.1e})",
        sol.stats.iterations, sol.stats.relative_residual
    );
    summary.solves = sol.solved.iter().filter(|s| **s).count();
    if summary.solves == 0 {
        summary.warnings.push("no connected component holds both a source and a ground: nothing was solved".into());
    }
    if out.write_cur {
        grounds.iter_mut().filter(|g| !g.is_finite()).for_each(|g| *g = 0.0);
        let cur = grid_node_currents(&problem, &sol, &grounds);
        drop(grounds);
        if out.write_volt {
            let v = std::mem::take(&mut sol.voltages);
            out.write(inp, "voltmap", "", v, out.null_volt, &mut summary.files)?;
        }
        drop(sol);
        out.write(inp, "curmap", "", cur, out.null_cur, &mut summary.files)?;
    } else if out.write_volt {
        out.write(inp, "voltmap", "", sol.voltages, out.null_volt, &mut summary.files)?;
    }
    Ok(summary)
}
