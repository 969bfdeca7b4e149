//! Cumulative current maps of many pairs, without a voltage or current vector per pair.
//!
//! For a pair `(a, b)` the potentials are `x_b − x_a` (unit injections, see
//! [`PairwiseSolver::unit_potentials`]); the constant shift that puts `a` at 0 V cancels in every
//! branch current. Nodes are processed in fixed blocks, in parallel; inside a block every pair is
//! visited in order, so each node's sum is formed in the same order whatever the thread count.
//! Each node reads all of its incident branches itself, so blocks never write to shared memory.

use rayon::prelude::*;

use crate::engine::PairwiseSolver;
use crate::graph::Graph;

/// Nodes per parallel block: the block's slices of the unit-potential vectors stay in cache
/// while every pair passes over them.
const BLOCK: usize = 4096;

/// Sum over `pairs` of the node currents (for each node the larger of its total inflow and total
/// outflow, branch currents below 1e-8 of the pair's largest ignored, as
/// [`crate::engine::node_currents`] does), for 1 A passed between the two nodes of each pair.
/// Returns one value per graph node; nodes outside every pair's component get 0. Pairs whose
/// nodes were not both solved by `ps`, or lie in different components, are skipped.
///
/// ```
/// use kulan_circuit::{cumulative::cumulative_pair_currents, solver::DirectCholesky, Graph, PairwiseSolver};
/// // 0 -1Ω- 1 -1Ω- 2: all of the 1 A between 0 and 2 passes through every node.
/// let g = Graph::from_edges(3, &[(0, 1, 1.0), (1, 2, 1.0)]).unwrap();
/// let ps = PairwiseSolver::new(&g, &[0, 2], &DirectCholesky, None).unwrap();
/// let cum = cumulative_pair_currents(&ps, &[(0, 2)]);
/// assert!(cum.iter().all(|c| (c - 1.0).abs() < 1e-12));
/// ```
pub fn cumulative_pair_currents(ps: &PairwiseSolver<'_>, pairs: &[(usize, usize)]) -> Vec<f64> {
    let graph = ps.graph;
    let mut cum = vec![0.0; graph.n()];
    let mut by_comp: Vec<(usize, Vec<(usize, usize)>)> = Vec::new();
    for &(a, b) in pairs {
        let c = ps.comps.comp[a];
        if !ps.solved_pair(a, b) {
            continue;
        }
        match by_comp.iter_mut().find(|(k, _)| *k == c) {
            Some((_, v)) => v.push((a, b)),
            None => by_comp.push((c, vec![(a, b)])),
        }
    }
    for (c, comp_pairs) in by_comp {
        let nodes = &ps.comps.members[c];
        let units: Vec<(&[f64], &[f64])> = comp_pairs
            .iter()
            .map(|&(a, b)| (ps.unit_potentials(a).expect("checked"), ps.unit_potentials(b).expect("checked")))
            .collect();
        let view = ComponentView { graph, nodes, local: &ps.comps.local, whole: nodes.len() == graph.n() };
        let sums = view.cumulative(&units);
        for (&i, s) in nodes.iter().zip(sums) {
            cum[i] += s;
        }
    }
    cum
}

/// A connected component seen in its local numbering.
struct ComponentView<'a> {
    graph: &'a Graph,
    nodes: &'a [usize],
    local: &'a [usize],
    /// The component is the whole graph, so local and global numbers coincide.
    whole: bool,
}

impl ComponentView<'_> {
    #[inline]
    fn global_of(&self, k: usize) -> usize {
        if self.whole {
            k
        } else {
            self.nodes[k]
        }
    }

    #[inline]
    fn local_of(&self, j: usize) -> usize {
        if self.whole {
            j
        } else {
            self.local[j]
        }
    }

    /// Per-node cumulative currents (local order) for pairs given as `(x_a, x_b)` unit potentials.
    fn cumulative(&self, units: &[(&[f64], &[f64])]) -> Vec<f64> {
        let m = self.nodes.len();
        // Largest branch current of each pair (max is exact in any order).
        let maxima: Vec<f64> = (0..m.div_ceil(BLOCK))
            .into_par_iter()
            .map(|blk| {
                let range = blk * BLOCK..((blk + 1) * BLOCK).min(m);
                units
                    .iter()
                    .map(|&(xa, xb)| {
                        let mut mx = 0.0f64;
                        for k in range.clone() {
                            let dk = xb[k] - xa[k];
                            for (j, g) in self.graph.neighbours(self.global_of(k)) {
                                let l = self.local_of(j);
                                if l > k {
                                    mx = mx.max((g * (dk - (xb[l] - xa[l]))).abs());
                                }
                            }
                        }
                        mx
                    })
                    .collect::<Vec<f64>>()
            })
            .reduce(|| vec![0.0; units.len()], |a, b| a.iter().zip(&b).map(|(p, q)| p.max(*q)).collect());
        let thresholds: Vec<f64> = maxima.iter().map(|m| 1e-8 * m).collect();
        let mut out = vec![0.0; m];
        out.par_chunks_mut(BLOCK).enumerate().for_each(|(blk, chunk)| {
            let start = blk * BLOCK;
            for (&(xa, xb), &thr) in units.iter().zip(&thresholds) {
                for (off, acc) in chunk.iter_mut().enumerate() {
                    let k = start + off;
                    let dk = xb[k] - xa[k];
                    let (mut inflow, mut outflow) = (0.0f64, 0.0f64);
                    for (j, g) in self.graph.neighbours(self.global_of(k)) {
                        let l = self.local_of(j);
                        let cur = g * (dk - (xb[l] - xa[l]));
                        // Branch-free: the sign of a branch current is unpredictable, and the
                        // zeros added here leave the sums unchanged.
                        let cur = if cur.abs() < thr { 0.0 } else { cur };
                        outflow += cur.max(0.0);
                        inflow += (-cur).max(0.0);
                    }
                    *acc += inflow.max(outflow);
                }
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::node_currents;
    use crate::solver::DirectCholesky;

    /// Agrees with the per-pair node currents on a grid with two components.
    #[test]
    fn matches_per_pair_node_currents() {
        let (rows, cols) = (40usize, 150usize);
        let mut edges = Vec::new();
        for r in 0..rows {
            for c in 0..cols {
                let i = r * cols + c;
                let g = 1.0 + ((r * 7 + c * 13) % 11) as f64;
                if c + 1 < cols && c != 70 {
                    edges.push((i, i + 1, g));
                }
                if r + 1 < rows {
                    edges.push((i, i + cols, 0.5 * g));
                }
            }
        }
        let g = Graph::from_edges(rows * cols, &edges).unwrap();
        let focal = [3, 2 * cols + 60, 30 * cols + 5, 10 * cols + 100, 39 * cols + 149];
        let ps = PairwiseSolver::new(&g, &focal, &DirectCholesky, None).unwrap();
        let mut pairs = Vec::new();
        for i in 0..focal.len() {
            for j in i + 1..focal.len() {
                pairs.push((focal[i], focal[j]));
            }
        }
        let cum = cumulative_pair_currents(&ps, &pairs);
        let mut expect = vec![0.0; g.n()];
        let mut solved = 0;
        for &(a, b) in &pairs {
            let Some(sol) = ps.pair(a, b) else { continue };
            solved += 1;
            let cur = node_currents(&g, sol.nodes, &ps.comps.local, &sol.voltages, None);
            for (&i, c) in sol.nodes.iter().zip(cur) {
                expect[i] += c;
            }
        }
        assert_eq!(solved, 4, "3 pairs on the left part, 1 on the right");
        let scale = expect.iter().cloned().fold(0.0, f64::max);
        for (k, (x, y)) in cum.iter().zip(&expect).enumerate() {
            assert!((x - y).abs() <= 1e-9 * scale, "node {k}: {x} vs {y}");
        }
        assert!(cum.iter().filter(|&&v| v > 0.0).count() > rows * cols / 2);
    }
}
