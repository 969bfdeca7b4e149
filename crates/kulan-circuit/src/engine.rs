//! The circuit problems: systems per connected component, pairwise solves from factor-once unit
//! potentials, advanced (sources and grounds) solves, and node and branch currents.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::graph::{Components, Graph};
use crate::solver::{LinearSolver, MatrixHints, SpdMatrix};
use crate::CircuitError;

const NONE: usize = usize::MAX;

/// The linear system of one connected component: its Laplacian plus finite ground conductances
/// on the diagonal, with the nodes held at 0 V removed, factored once.
pub struct ComponentSystem {
    /// Global ids of the component's nodes, sorted.
    pub nodes: Vec<usize>,
    /// Local index → row of the reduced system, or `usize::MAX` for nodes held at 0 V.
    reduced: Vec<usize>,
    factor: Option<Box<dyn crate::solver::Factorization>>,
}

impl ComponentSystem {
    /// Builds and factors the system of component `c`. `ground` gives finite ground conductances
    /// per global node; `fixed` marks nodes held at 0 V; `reference` is one more node held at 0 V.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        graph: &Graph,
        comps: &Components,
        c: usize,
        ground: Option<&[f64]>,
        fixed: Option<&(dyn Fn(usize) -> bool + Sync)>,
        reference: Option<usize>,
        solver: &dyn LinearSolver,
        coords: Option<&[(u32, u32)]>,
    ) -> Result<ComponentSystem, CircuitError> {
        let nodes = comps.members[c].clone();
        let is_fixed = |i: usize| fixed.is_some_and(|f| f(i)) || reference == Some(i);
        let mut reduced = vec![NONE; nodes.len()];
        let mut m = 0usize;
        for (k, &i) in nodes.iter().enumerate() {
            if !is_fixed(i) {
                reduced[k] = m;
                m += 1;
            }
        }
        let has_ground = ground.is_some_and(|g| nodes.iter().any(|&i| g[i] > 0.0));
        if m == nodes.len() && !has_ground {
            return Err(CircuitError::Input("component has no ground: the system is singular".into()));
        }
        // Reduced rows in parallel, in two passes (lengths, then entries in place): node `k` of
        // the component is row `reduced[k]`, and rows stay sorted because `reduced` grows with `k`.
        let kept: Vec<usize> = (0..nodes.len()).filter(|&k| reduced[k] != NONE).collect();
        let mut ptr = vec![0usize; m + 1];
        ptr[1..].par_iter_mut().zip(&kept).for_each(|(len, &k)| {
            *len = 1 + graph.neighbours(nodes[k]).filter(|&(j, _)| reduced[comps.local[j]] != NONE).count();
        });
        for r in 0..m {
            ptr[r + 1] += ptr[r];
        }
        let (mut idx, mut val) = (vec![0usize; ptr[m]], vec![0.0f64; ptr[m]]);
        let rows_idx = crate::graph::split_by(&mut idx, &ptr);
        let rows_val = crate::graph::split_by(&mut val, &ptr);
        rows_idx.into_par_iter().zip(rows_val).zip(&kept).enumerate().for_each(|(r, ((ri, rv), &k))| {
            let i = nodes[k];
            let mut diag = graph.degree(i) + ground.map_or(0.0, |g| g[i]);
            if !(diag > 0.0) {
                diag = 1.0; // a lone node: nothing flows, its potential stays 0
            }
            let mut q = 0;
            let mut placed = false;
            for (j, g) in graph.neighbours(i) {
                let rj = reduced[comps.local[j]];
                if rj == NONE {
                    continue;
                }
                if !placed && rj > r {
                    (ri[q], rv[q]) = (r, diag);
                    q += 1;
                    placed = true;
                }
                (ri[q], rv[q]) = (rj, -g);
                q += 1;
            }
            if !placed {
                (ri[q], rv[q]) = (r, diag);
            }
        });
        let red_coords: Option<Vec<(u32, u32)>> = coords.map(|cc| kept.iter().map(|&k| cc[nodes[k]]).collect());
        let a = SpdMatrix { n: m, ptr, idx, val };
        let factor = if m == 0 { None } else { Some(solver.factor(a, MatrixHints { grid_coords: red_coords.as_deref() })?) };
        Ok(ComponentSystem { nodes, reduced, factor })
    }

    /// Voltages (local order) for the given current injections (local order).
    pub fn solve(&self, injection: &[f64]) -> Result<Vec<f64>, CircuitError> {
        let Some(f) = &self.factor else { return Ok(vec![0.0; self.nodes.len()]) };
        let mut b = vec![0.0; f.n()];
        for (k, &r) in self.reduced.iter().enumerate() {
            if r != NONE {
                b[r] = injection[k];
            }
        }
        f.solve_in_place(&mut b)?;
        Ok(self.reduced.iter().map(|&r| if r == NONE { 0.0 } else { b[r] }).collect())
    }

    /// Voltages (local order) for 1 A injected at each of the given local nodes in turn, solved
    /// together (one blocked solve for a direct factorization).
    pub fn solve_unit_injections(&self, at: &[usize]) -> Result<Vec<Vec<f64>>, CircuitError> {
        let Some(f) = &self.factor else { return Ok(vec![vec![0.0; self.nodes.len()]; at.len()]) };
        let m = f.n();
        let mut b = vec![0.0; m * at.len()];
        for (col, &k) in b.chunks_mut(m.max(1)).zip(at) {
            if self.reduced[k] != NONE {
                col[self.reduced[k]] = 1.0;
            }
        }
        f.solve_many_in_place(&mut b, at.len())?;
        Ok((0..at.len())
            .into_par_iter()
            .map(|c| {
                let col = &b[c * m..(c + 1) * m];
                self.reduced.iter().map(|&r| if r == NONE { 0.0 } else { col[r] }).collect()
            })
            .collect())
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// Pairwise effective resistances and pair potentials, with one factorization per component and
/// one solve per distinct focal node (superposition gives every pair).
pub struct PairwiseSolver<'g> {
    pub graph: &'g Graph,
    pub comps: Components,
    systems: HashMap<usize, ComponentSystem>,
    /// Local potentials for 1 A injected at the node, the component's reference node grounded.
    unit: HashMap<usize, Vec<f64>>,
}

/// The solution of one pair: 1 A enters at `b` and leaves at `a`; `a` is at 0 V.
pub struct PairSolution<'s> {
    pub component: usize,
    pub nodes: &'s [usize],
    /// Local voltages (order of `nodes`).
    pub voltages: Vec<f64>,
    pub resistance: f64,
}

impl<'g> PairwiseSolver<'g> {
    /// Factors every component holding at least two distinct focal nodes and solves one unit
    /// injection per focal node, in parallel.
    pub fn new(
        graph: &'g Graph,
        focal_nodes: &[usize],
        solver: &dyn LinearSolver,
        coords: Option<&[(u32, u32)]>,
    ) -> Result<PairwiseSolver<'g>, CircuitError> {
        let comps = graph.components();
        let mut by_comp: HashMap<usize, Vec<usize>> = HashMap::new();
        for &f in focal_nodes {
            let v = by_comp.entry(comps.comp[f]).or_default();
            if !v.contains(&f) {
                v.push(f);
            }
        }
        let mut systems = HashMap::new();
        let mut unit = HashMap::new();
        let mut comp_ids: Vec<usize> = by_comp.keys().copied().collect();
        comp_ids.sort_unstable();
        for c in comp_ids {
            let fs = &by_comp[&c];
            if fs.len() < 2 {
                continue;
            }
            let reference = fs[0];
            let sys = ComponentSystem::new(graph, &comps, c, None, None, Some(reference), solver, coords)?;
            let injections: Vec<usize> = fs[1..].iter().map(|&f| comps.local[f]).collect();
            let sols = sys.solve_unit_injections(&injections)?;
            unit.insert(reference, vec![0.0; sys.len()]);
            for (&f, s) in fs[1..].iter().zip(sols) {
                unit.insert(f, s);
            }
            systems.insert(c, sys);
        }
        Ok(PairwiseSolver { graph, comps, systems, unit })
    }

    /// Effective resistance between two nodes; `None` when they are not connected.
    pub fn resistance(&self, a: usize, b: usize) -> Option<f64> {
        if a == b {
            return Some(0.0);
        }
        if self.comps.comp[a] != self.comps.comp[b] {
            return None;
        }
        let (xa, xb) = (self.unit.get(&a)?, self.unit.get(&b)?);
        let (la, lb) = (self.comps.local[a], self.comps.local[b]);
        Some(xb[lb] - xb[la] - xa[lb] + xa[la])
    }

    /// Whether the pair `(a, b)` carries current: two distinct nodes of one component, both solved.
    pub fn solved_pair(&self, a: usize, b: usize) -> bool {
        a != b && self.comps.comp[a] == self.comps.comp[b] && self.unit.contains_key(&a) && self.unit.contains_key(&b)
    }

    /// Frees the factorizations. Every pair's resistance, voltages and currents come from the unit
    /// potentials, solved in [`PairwiseSolver::new`]; the factors are the largest part of the
    /// memory and are not needed again.
    pub fn release_factors(&mut self) {
        for sys in self.systems.values_mut() {
            sys.factor = None;
        }
    }

    /// Potentials (local order of the node's component) for 1 A injected at focal node `f`, with
    /// the component's reference focal node grounded; `None` for a node that was not solved.
    pub fn unit_potentials(&self, f: usize) -> Option<&[f64]> {
        self.unit.get(&f).map(|v| v.as_slice())
    }

    /// Voltages for 1 A entering at `b` and leaving at `a`, shifted so that `a` is at 0 V.
    pub fn pair(&self, a: usize, b: usize) -> Option<PairSolution<'_>> {
        if a == b || self.comps.comp[a] != self.comps.comp[b] {
            return None;
        }
        let c = self.comps.comp[a];
        let sys = self.systems.get(&c)?;
        let (xa, xb) = (self.unit.get(&a)?, self.unit.get(&b)?);
        let (la, lb) = (self.comps.local[a], self.comps.local[b]);
        let shift = xb[la] - xa[la];
        let voltages: Vec<f64> = xb.iter().zip(xa).map(|(p, q)| p - q - shift).collect();
        let resistance = voltages[lb];
        Some(PairSolution { component: c, nodes: &sys.nodes, voltages, resistance })
    }
}

/// Result of an advanced-mode solve.
pub struct AdvancedSolution {
    /// Voltage of every node (0 in components that were not solved).
    pub voltages: Vec<f64>,
    /// Components that were solved.
    pub solved: Vec<usize>,
}

/// Solves `(L + diag(G_ground)) v = sources` with nodes whose ground conductance is +∞ held at
/// 0 V, component by component; a component is solved only when it has both a source and a
/// ground (Circuitscape's rule). `only` restricts the solve to one component.
pub fn solve_advanced(
    graph: &Graph,
    comps: &Components,
    sources: &[f64],
    grounds: &[f64],
    only: Option<usize>,
    solver: &dyn LinearSolver,
    coords: Option<&[(u32, u32)]>,
) -> Result<AdvancedSolution, CircuitError> {
    let mut voltages = vec![0.0; graph.n()];
    let mut solved = Vec::new();
    let finite: Vec<f64> = grounds.iter().map(|&g| if g.is_finite() { g } else { 0.0 }).collect();
    for (c, members) in comps.members.iter().enumerate() {
        if only.is_some_and(|o| o != c) {
            continue;
        }
        let s: f64 = members.iter().map(|&i| sources[i]).sum();
        let g: f64 = members.iter().map(|&i| grounds[i]).sum();
        if s == 0.0 || g == 0.0 {
            continue;
        }
        let fixed = |i: usize| grounds[i] == f64::INFINITY;
        let sys = ComponentSystem::new(graph, comps, c, Some(&finite), Some(&fixed), None, solver, coords)?;
        let inj: Vec<f64> = members.iter().map(|&i| sources[i]).collect();
        let v = sys.solve(&inj)?;
        for (k, &i) in members.iter().enumerate() {
            voltages[i] = v[k];
        }
        solved.push(c);
    }
    Ok(AdvancedSolution { voltages, solved })
}

/// Node currents over a set of nodes (a component): for each node the larger of its total inflow
/// and total outflow, ground currents included. Branch currents below 1e-8 of the largest are
/// ignored, as in Circuitscape. `local` maps global ids to positions in `nodes`/`voltages`;
/// `ground` is indexed by global id.
pub fn node_currents(graph: &Graph, nodes: &[usize], local: &[usize], voltages: &[f64], ground: Option<&[f64]>) -> Vec<f64> {
    let mut maxcur = 0.0f64;
    for (k, &i) in nodes.iter().enumerate() {
        for (j, g) in graph.neighbours(i) {
            let l = local[j];
            if l > k {
                maxcur = maxcur.max((g * (voltages[k] - voltages[l])).abs());
            }
        }
    }
    let thr = 1e-8 * maxcur;
    let mut inflow = vec![0.0; nodes.len()];
    let mut outflow = vec![0.0; nodes.len()];
    for (k, &i) in nodes.iter().enumerate() {
        for (j, g) in graph.neighbours(i) {
            let l = local[j];
            if l > k {
                let cur = g * (voltages[k] - voltages[l]);
                if cur.abs() < thr {
                    continue;
                }
                if cur > 0.0 {
                    outflow[k] += cur;
                    inflow[l] += cur;
                } else {
                    inflow[k] -= cur;
                    outflow[l] -= cur;
                }
            }
        }
        if let Some(gr) = ground {
            let gc = gr[i];
            if gc > 0.0 && gc.is_finite() {
                let cur = gc * voltages[k];
                if cur > 0.0 {
                    outflow[k] += cur;
                } else {
                    inflow[k] -= cur;
                }
            }
        }
    }
    inflow.iter().zip(&outflow).map(|(a, b)| a.max(*b)).collect()
}

/// Branch currents `(a, b, |I|)` with `a < b` (global ids) over a set of nodes; currents at or
/// below `min_abs`, or below 1e-8 of the largest, are left out.
pub fn branch_currents(graph: &Graph, nodes: &[usize], local: &[usize], voltages: &[f64], min_abs: f64) -> Vec<(usize, usize, f64)> {
    let mut out = Vec::new();
    let mut maxcur = 0.0f64;
    for (k, &i) in nodes.iter().enumerate() {
        for (j, g) in graph.neighbours(i) {
            let l = local[j];
            if l > k {
                let cur = (g * (voltages[k] - voltages[l])).abs();
                maxcur = maxcur.max(cur);
                out.push((i, j, cur));
            }
        }
    }
    out.retain(|&(_, _, c)| c > min_abs && c >= 1e-8 * maxcur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solver::DirectCholesky;

    #[test]
    fn series_and_parallel_resistances() {
        // 0 -1Ω- 1 -1Ω- 2, plus 0 -2Ω- 2: R(0,2) = 2 || 2 = 1.
        let g = Graph::from_edges(3, &[(0, 1, 1.0), (1, 2, 1.0), (0, 2, 0.5)]).unwrap();
        let ps = PairwiseSolver::new(&g, &[0, 2, 1], &DirectCholesky, None).unwrap();
        assert!((ps.resistance(0, 2).unwrap() - 1.0).abs() < 1e-12);
        let sol = ps.pair(0, 2).unwrap();
        assert!(sol.voltages[0].abs() < 1e-12 && (sol.voltages[2] - 1.0).abs() < 1e-12);
        let nc = node_currents(&g, sol.nodes, &ps.comps.local, &sol.voltages, None);
        assert!((nc[0] - 1.0).abs() < 1e-12 && (nc[1] - 0.5).abs() < 1e-12);
    }

    /// Resistances and pair voltages come from the unit potentials alone, so they are the same
    /// once the factorizations are freed.
    #[test]
    fn pairs_survive_releasing_the_factors() {
        let g = Graph::from_edges(4, &[(0, 1, 1.0), (1, 2, 2.0), (2, 3, 0.5), (0, 3, 1.5)]).unwrap();
        let mut ps = PairwiseSolver::new(&g, &[0, 2, 3], &DirectCholesky, None).unwrap();
        let before: Vec<(f64, Vec<f64>)> =
            [(0, 2), (0, 3), (2, 3)].iter().map(|&(a, b)| (ps.resistance(a, b).unwrap(), ps.pair(a, b).unwrap().voltages)).collect();
        ps.release_factors();
        let after: Vec<(f64, Vec<f64>)> =
            [(0, 2), (0, 3), (2, 3)].iter().map(|&(a, b)| (ps.resistance(a, b).unwrap(), ps.pair(a, b).unwrap().voltages)).collect();
        assert_eq!(before, after);
        assert!(ps.solved_pair(0, 3) && !ps.solved_pair(0, 1) && !ps.solved_pair(2, 2));
    }
}
