//! Pairwise circuit theory on Kulan rasters: effective resistance between every pair of focal
//! ids and the cumulative current map, over `kulan_circuit`'s engine. `kulan circuit` and the
//! project runner both call [`pairwise`].

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context};
use kulan_circuit::engine::PairwiseSolver;
use kulan_circuit::solver::{choose, make_solver};
use kulan_circuit::{Connectivity, RasterGraph, RasterGraphSpec, Scheme, SolverKind};
use kulan_core::raster::Grid;

/// How the grid becomes a circuit.
#[derive(Debug, Clone)]
pub struct PairwiseOptions {
    /// The habitat raster holds conductances rather than resistances.
    pub conductance: bool,
    pub connectivity: Connectivity,
    pub scheme: Scheme,
    /// Short-circuit all cells of each focal id into one node.
    pub regions: bool,
    pub current: bool,
    pub solver: SolverKind,
    pub tol: f64,
}

/// Effective resistances (−1 between disconnected ids) and the cumulative current map.
#[derive(Debug, Clone)]
pub struct PairwiseResult {
    pub ids: Vec<i64>,
    pub resistances: Vec<Vec<f64>>,
    /// Cumulative current per cell (NoData −9999 off the graph), when asked for.
    pub cumulative_current: Option<Grid<f32>>,
    /// Focal ids that lie only on NoData cells.
    pub missing: Vec<i64>,
    pub nodes: usize,
    pub edges: usize,
    pub pairs: usize,
    pub solver: String,
}

/// Solves every pair of focal ids of `focal` (cells > 0) on the resistance grid `res`.
pub fn pairwise(res: &Grid<f64>, focal: &Grid<f64>, opts: &PairwiseOptions) -> anyhow::Result<PairwiseResult> {
    res.check_aligned(focal).map_err(|e| anyhow::anyhow!("{e}")).context("the focal raster must be on the resistance raster's grid")?;
    let mut bad = 0usize;
    let cond: Vec<f64> = res
        .data
        .iter()
        .map(|&v| {
            if res.is_nodata(v) {
                0.0
            } else if v < 0.0 {
                bad += 1;
                0.0
            } else if opts.conductance {
                v
            } else if v == 0.0 {
                f64::INFINITY
            } else {
                1.0 / v
            }
        })
        .collect();
    if bad > 0 {
        bail!("the resistance raster has {bad} negative cells");
    }
    let ids_grid: Vec<i64> =
        focal.data.iter().map(|&v| if focal.is_nodata(v) || v <= 0.0 { 0 } else { v.round() as i64 }).collect();
    let mut ids: Vec<i64> = ids_grid.iter().copied().filter(|&v| v > 0).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() < 2 {
        bail!("fewer than two focal ids");
    }
    let rg = RasterGraph::build(RasterGraphSpec {
        rows: res.rows,
        cols: res.cols,
        conductance: &cond,
        connectivity: opts.connectivity,
        scheme: opts.scheme,
        regions: if opts.regions { Some(&ids_grid) } else { None },
    })?;
    // Node of each id: its first cell that is on the graph.
    let mut node_of_id = HashMap::new();
    for (c, &id) in ids_grid.iter().enumerate() {
        if id > 0 && rg.node_of_cell[c] >= 0 {
            node_of_id.entry(id).or_insert(rg.node_of_cell[c] as usize);
        }
    }
    let missing: Vec<i64> = ids.iter().copied().filter(|id| !node_of_id.contains_key(id)).collect();
    let n = rg.graph.n();
    let kind = choose(opts.solver, n, rg.graph.n_edges() * 2 + n, 1);
    let solver = make_solver(kind, opts.tol);
    let nodes: Vec<usize> = ids.iter().filter_map(|id| node_of_id.get(id).copied()).collect();
    let mut ps = PairwiseSolver::new(&rg.graph, &nodes, solver.as_ref(), Some(&rg.node_cell))?;
    ps.release_factors();
    let k = ids.len();
    let mut rmat = vec![vec![-1.0f64; k]; k];
    let mut pairs = Vec::new();
    for i in 0..k {
        rmat[i][i] = 0.0;
        for j in i + 1..k {
            let (Some(&a), Some(&b)) = (node_of_id.get(&ids[i]), node_of_id.get(&ids[j])) else { continue };
            if let Some(r) = ps.resistance(a, b) {
                rmat[i][j] = r;
                rmat[j][i] = r;
                if a != b {
                    pairs.push((a, b));
                }
            }
        }
    }
    let cumulative_current = if opts.current {
        let cum = kulan_circuit::grid_cumulative::cumulative_pair_currents_on_grid(&ps, &rg, &pairs)
            .unwrap_or_else(|| kulan_circuit::cumulative::cumulative_pair_currents(&ps, &pairs));
        let cells = rg.to_cells(&cum, f64::NAN);
        let mut g = res.map(|_| 0.0f32);
        for (o, v) in g.data.iter_mut().zip(cells) {
            *o = if v.is_finite() { v as f32 } else { -9999.0 };
        }
        g.nodata = Some(-9999.0);
        Some(g)
    } else {
        None
    };
    Ok(PairwiseResult {
        ids,
        resistances: rmat,
        cumulative_current,
        missing,
        nodes: n,
        edges: rg.graph.n_edges(),
        pairs: pairs.len(),
        solver: solver.name().to_string(),
    })
}

/// `PREFIX_resistances.csv`: the square matrix with a `focal_id` header row and column.
pub fn write_resistances_csv(path: &Path, r: &PairwiseResult) -> anyhow::Result<()> {
    let mut csv = String::from("focal_id");
    for id in &r.ids {
        csv.push_str(&format!(",{id}"));
    }
    csv.push('\n');
    for (i, id) in r.ids.iter().enumerate() {
        csv.push_str(&id.to_string());
        for v in &r.resistances[i] {
            csv.push_str(&format!(",{v}"));
        }
        csv.push('\n');
    }
    crate::outputs::intersect::write_text(path, &csv)
}
