//! Advanced mode (sources and grounds) on a raster whose cells are the nodes, solved by the
//! memory-lean [`crate::gridmg`] solver: no graph, no sparse matrix, no per-node index arrays
//! beyond one component label per cell. For rasters without short-circuit regions or
//! zero-resistance cells (those merge cells into one node and go through [`crate::graph`]).
//!
//! Results are those of [`crate::engine::solve_advanced`] and [`crate::engine::node_currents`]:
//! a connected component is solved when it holds a source and a ground; cells with an infinite
//! ground conductance are held at 0 V; node current = max(inflow, outflow) with ground currents,
//! branch currents below 1e-8 of the component's largest ignored.

use rayon::prelude::*;

use crate::gridmg::{GridMultigrid, GridOperator};
use crate::solver::SolveStats;
use crate::{CircuitError, Connectivity, Scheme};

const NO_LABEL: u32 = u32::MAX;

/// A raster conductance grid (row-major; cells that are not `> 0` and finite are not nodes).
#[derive(Debug, Clone, Copy)]
pub struct GridProblem<'a> {
    pub rows: usize,
    pub cols: usize,
    pub conductance: &'a [f64],
    pub connectivity: Connectivity,
    pub scheme: Scheme,
}

/// Result of [`solve_advanced_grid`].
#[derive(Debug, Clone)]
pub struct GridAdvancedSolution {
    /// Voltage per cell; 0 outside solved components.
    pub voltages: Vec<f64>,
    /// Component label per cell (`u32::MAX` for cells that are not nodes).
    pub labels: Vec<u32>,
    /// Whether each component was solved.
    pub solved: Vec<bool>,
    pub stats: SolveStats,
}

/// Offsets `(dr, dc, diagonal)` of the forward links: east, south, south-east, south-west.
const FORWARD: [(isize, isize, bool); 4] = [(0, 1, false), (1, 0, false), (1, 1, true), (1, -1, true)];

impl GridProblem<'_> {
    fn check(&self) -> Result<(), CircuitError> {
        if self.conductance.len() != self.rows * self.cols {
            return Err(CircuitError::Input(format!(
                "conductance grid has {} cells, expected {}×{}",
                self.conductance.len(),
                self.rows,
                self.cols
            )));
        }
        if self.conductance.contains(&f64::INFINITY) {
            return Err(CircuitError::Input("zero-resistance cells need the graph solver (cells are merged)".into()));
        }
        Ok(())
    }

    #[inline]
    fn is_node(&self, i: usize) -> bool {
        let g = self.conductance[i];
        g > 0.0 && g.is_finite()
    }

    fn directions(&self) -> &'static [(isize, isize, bool)] {
        if self.connectivity == Connectivity::Four {
            &FORWARD[..2]
        } else {
            &FORWARD
        }
    }

    /// Forward link of cell `i` in direction `d` as (neighbour, conductance).
    #[inline]
    fn link(&self, i: usize, d: (isize, isize, bool)) -> Option<(usize, f64)> {
        let (r, c) = ((i / self.cols) as isize, (i % self.cols) as isize);
        let (rr, cc) = (r + d.0, c + d.1);
        if rr < 0 || cc < 0 || rr >= self.rows as isize || cc >= self.cols as isize {
            return None;
        }
        let j = rr as usize * self.cols + cc as usize;
        if !self.is_node(i) || !self.is_node(j) {
            return None;
        }
        let g = self.scheme.link(self.conductance[i], self.conductance[j], d.2);
        (g > 0.0 && g.is_finite()).then_some((j, g))
    }

    /// Calls `f(j, g)` for every link of cell `i` (both directions).
    #[inline]
    fn for_links(&self, i: usize, mut f: impl FnMut(usize, f64)) {
        for &(dr, dc, diag) in self.directions() {
            if let Some((j, g)) = self.link(i, (dr, dc, diag)) {
                f(j, g);
            }
            let (r, c) = ((i / self.cols) as isize, (i % self.cols) as isize);
            let (rr, cc) = (r - dr, c - dc);
            if rr >= 0 && cc >= 0 && rr < self.rows as isize && cc < self.cols as isize {
                let j = rr as usize * self.cols + cc as usize;
                if let Some((_, g)) = self.link(j, (dr, dc, diag)) {
                    f(j, g);
                }
            }
        }
    }

    /// Connected components of the node cells; returns (label per cell, number of components).
    /// Labels are 32-bit (4 bytes per cell); more than 2³²−1 components is an error.
    pub fn components(&self) -> Result<(Vec<u32>, usize), CircuitError> {
        let n = self.rows * self.cols;
        let mut label = vec![NO_LABEL; n];
        let mut count = 0u32;
        let mut stack = Vec::new();
        for s in 0..n {
            if label[s] != NO_LABEL || !self.is_node(s) {
                continue;
            }
            if count == NO_LABEL {
                return Err(CircuitError::Input("the habitat grid has more than 2^32 - 1 separate components".into()));
            }
            label[s] = count;
            stack.push(s);
            while let Some(i) = stack.pop() {
                self.for_links(i, |j, _| {
                    if label[j] == NO_LABEL {
                        label[j] = count;
                        stack.push(j);
                    }
                });
            }
            count += 1;
        }
        Ok((label, count as usize))
    }
}

/// Solves `(L + diag(G_ground)) v = sources` on the grid, cells with `grounds = +∞` held at
/// 0 V, with CG preconditioned by grid multigrid to relative residual `tol`. The `sources`
/// buffer becomes the voltages (one grid-sized vector less at 10⁸ cells).
pub fn solve_advanced_grid(
    p: &GridProblem<'_>,
    sources: Vec<f64>,
    grounds: &[f64],
    tol: f64,
) -> Result<GridAdvancedSolution, CircuitError> {
    p.check()?;
    let n = p.rows * p.cols;
    if sources.len() != n || grounds.len() != n {
        return Err(CircuitError::Input("source and ground grids must match the habitat grid".into()));
    }
    let (labels, ncomp) = p.components()?;
    let (mut s_sum, mut g_sum) = (vec![0.0f64; ncomp], vec![0.0f64; ncomp]);
    for i in 0..n {
        let l = labels[i];
        if l != NO_LABEL {
            s_sum[l as usize] += sources[i];
            g_sum[l as usize] += grounds[i];
        }
    }
    let solved: Vec<bool> = s_sum.iter().zip(&g_sum).map(|(s, g)| *s != 0.0 && *g != 0.0).collect();
    drop((s_sum, g_sum));
    let free = |i: usize| labels[i] != NO_LABEL && solved[labels[i] as usize] && grounds[i] != f64::INFINITY;
    let eight = p.connectivity == Connectivity::Eight;
    let dirs = p.directions();
    // Links between free cells, per direction; links to cells held at 0 V become grounds.
    let mut arrays: Vec<Vec<f64>> = dirs
        .iter()
        .map(|&d| {
            (0..n)
                .into_par_iter()
                .with_min_len(4096)
                .map(|i| match p.link(i, d) {
                    Some((j, g)) if free(i) && free(j) => g,
                    _ => 0.0,
                })
                .collect()
        })
        .collect();
    let ground: Vec<f64> = (0..n)
        .into_par_iter()
        .with_min_len(4096)
        .map(|i| {
            if !free(i) {
                return 0.0;
            }
            let mut g = if grounds[i].is_finite() && grounds[i] > 0.0 { grounds[i] } else { 0.0 };
            p.for_links(i, |j, c| {
                if grounds[j] == f64::INFINITY {
                    g += c;
                }
            });
            g
        })
        .collect();
    let (se, sw) = if eight { (arrays.remove(2), arrays.remove(2)) } else { (Vec::new(), Vec::new()) };
    let south = arrays.remove(1);
    let east = arrays.remove(0);
    let op = GridOperator::new(p.rows, p.cols, east, south, se, sw, ground)?;
    let mg = GridMultigrid::new(op)?;
    let mut v = sources;
    v.par_iter_mut().enumerate().with_min_len(4096).for_each(|(i, s)| {
        if !free(i) {
            *s = 0.0;
        }
    });
    let stats = mg.solve(&mut v, tol, 2000)?;
    Ok(GridAdvancedSolution { voltages: v, labels, solved, stats })
}

/// Node currents per cell of the solved components (0 elsewhere): the larger of total inflow and
/// total outflow, ground currents through finite `grounds` included.
pub fn grid_node_currents(p: &GridProblem<'_>, sol: &GridAdvancedSolution, grounds: &[f64]) -> Vec<f64> {
    let n = p.rows * p.cols;
    let v = &sol.voltages;
    let active = |i: usize| sol.labels[i] != NO_LABEL && sol.solved[sol.labels[i] as usize];
    let mut comp_max = vec![0.0f64; sol.solved.len()];
    for i in 0..n {
        if !active(i) {
            continue;
        }
        let m = &mut comp_max[sol.labels[i] as usize];
        for &d in p.directions() {
            if let Some((j, g)) = p.link(i, d) {
                *m = m.max((g * (v[i] - v[j])).abs());
            }
        }
    }
    (0..n)
        .into_par_iter()
        .with_min_len(4096)
        .map(|i| {
            if !active(i) {
                return 0.0;
            }
            let thr = 1e-8 * comp_max[sol.labels[i] as usize];
            let (mut inflow, mut outflow) = (0.0f64, 0.0f64);
            p.for_links(i, |j, g| {
                let cur = g * (v[i] - v[j]);
                if cur.abs() >= thr {
                    if cur > 0.0 {
                        outflow += cur;
                    } else {
                        inflow -= cur;
                    }
                }
            });
            let gc = grounds[i];
            if gc > 0.0 && gc.is_finite() {
                let cur = gc * v[i];
                if cur > 0.0 {
                    outflow += cur;
                } else {
                    inflow -= cur;
                }
            }
            inflow.max(outflow)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{node_currents, solve_advanced};
    use crate::solver::DirectCholesky;
    use crate::{RasterGraph, RasterGraphSpec};

    /// Same voltages and currents as the graph engine, with two components (one without a
    /// ground), NoData cells, a direct ground and a resistive ground.
    #[test]
    fn agrees_with_the_graph_engine() {
        for connectivity in [Connectivity::Four, Connectivity::Eight] {
            let (rows, cols) = (60usize, 90usize);
            let cond: Vec<f64> = (0..rows * cols)
                .map(|i| {
                    let (r, c) = (i / cols, i % cols);
                    if c == 45 || (r * 7 + c * 3) % 31 == 0 {
                        0.0
                    } else {
                        0.5 + ((r * 13 + c * 17) % 19) as f64
                    }
                })
                .collect();
            let mut src = vec![0.0; rows * cols];
            let mut gnd = vec![0.0; rows * cols];
            src[10 * cols + 10] = 2.0;
            src[50 * cols + 70] = 1.0;
            gnd[55 * cols + 5] = f64::INFINITY;
            gnd[5 * cols + 40] = 0.7;
            for (i, s) in src.iter_mut().enumerate() {
                if cond[i] == 0.0 {
                    *s = 0.0;
                }
            }
            let p = GridProblem { rows, cols, conductance: &cond, connectivity, scheme: Scheme::AverageConductance };
            let sol = solve_advanced_grid(&p, src.clone(), &gnd, 1e-11).unwrap();
            assert_eq!(sol.solved.iter().filter(|s| **s).count(), 1);
            let cur = grid_node_currents(&p, &sol, &gnd);

            let rg = RasterGraph::build(RasterGraphSpec {
                rows,
                cols,
                conductance: &cond,
                connectivity,
                scheme: Scheme::AverageConductance,
                regions: None,
            })
            .unwrap();
            let nn = rg.graph.n();
            let (mut s2, mut g2) = (vec![0.0; nn], vec![0.0; nn]);
            for i in 0..rows * cols {
                if let Some(k) = rg.node_at(i / cols, i % cols) {
                    s2[k] = src[i];
                    g2[k] = gnd[i];
                }
            }
            let comps = rg.graph.components();
            let reference = solve_advanced(&rg.graph, &comps, &s2, &g2, None, &DirectCholesky, None).unwrap();
            let finite: Vec<f64> = g2.iter().map(|g| if g.is_finite() { *g } else { 0.0 }).collect();
            let mut ref_cur = vec![0.0; nn];
            for &c in &reference.solved {
                let nodes = &comps.members[c];
                let v: Vec<f64> = nodes.iter().map(|&k| reference.voltages[k]).collect();
                for (k, x) in nodes.iter().zip(node_currents(&rg.graph, nodes, &comps.local, &v, Some(&finite))) {
                    ref_cur[*k] = x;
                }
            }
            let vmax = reference.voltages.iter().cloned().fold(0.0, f64::max);
            let cmax = ref_cur.iter().cloned().fold(0.0, f64::max);
            for i in 0..rows * cols {
                let (a, b, ca, cb) = match rg.node_at(i / cols, i % cols) {
                    Some(k) => (sol.voltages[i], reference.voltages[k], cur[i], ref_cur[k]),
                    None => (sol.voltages[i], 0.0, cur[i], 0.0),
                };
                assert!((a - b).abs() <= 1e-8 * vmax, "{connectivity:?} cell {i}: voltage {a} vs {b}");
                assert!((ca - cb).abs() <= 1e-7 * cmax, "{connectivity:?} cell {i}: current {ca} vs {cb}");
            }
        }
    }

    /// Bit-identical voltages and currents on 1, 2 and 3 threads (bands and dot-product blocks
    /// are fixed; the grid is taller than one band and longer than one dot-product block).
    #[test]
    fn independent_of_the_thread_count() {
        let (rows, cols) = (150usize, 170usize);
        let cond: Vec<f64> = (0..rows * cols).map(|i| if i % 97 == 3 { 0.0 } else { 1.0 + (i * 7919 % 101) as f64 }).collect();
        let mut src = vec![0.0; rows * cols];
        let mut gnd = vec![0.0; rows * cols];
        src[20 * cols + 30] = 1.0;
        gnd[140 * cols + 160] = 0.5;
        let p = GridProblem { rows, cols, conductance: &cond, connectivity: Connectivity::Eight, scheme: Scheme::AverageResistance };
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let sol = solve_advanced_grid(&p, src.clone(), &gnd, 1e-8).unwrap();
                let cur = grid_node_currents(&p, &sol, &gnd);
                (sol.voltages, cur)
            })
        };
        let one = run(1);
        assert!(one.0.iter().any(|v| *v != 0.0));
        for threads in [2, 3] {
            let other = run(threads);
            assert!(one.0 == other.0 && one.1 == other.1, "outputs differ with {threads} threads");
        }
    }

    /// Zero-resistance cells (merged nodes) and mismatched grids are refused with a message.
    #[test]
    fn refuses_merged_cells_and_mismatched_grids() {
        let cond = [1.0, f64::INFINITY, 1.0, 1.0];
        let p = GridProblem { rows: 2, cols: 2, conductance: &cond, connectivity: Connectivity::Four, scheme: Scheme::AverageConductance };
        let e = solve_advanced_grid(&p, vec![1.0, 0.0, 0.0, 0.0], &[0.0, 0.0, 0.0, 1.0], 1e-8).unwrap_err();
        assert!(e.to_string().contains("zero-resistance"), "{e}");
        let cond = [1.0; 4];
        let p = GridProblem { conductance: &cond, ..p };
        let e = solve_advanced_grid(&p, vec![1.0; 3], &[0.0; 4], 1e-8).unwrap_err();
        assert!(e.to_string().contains("must match"), "{e}");
        // No ground anywhere: nothing is solved, voltages stay 0.
        let sol = solve_advanced_grid(&p, vec![1.0, 0.0, 0.0, 0.0], &[0.0; 4], 1e-8).unwrap();
        assert!(sol.solved.iter().all(|s| !s) && sol.voltages.iter().all(|v| *v == 0.0));
    }
}
