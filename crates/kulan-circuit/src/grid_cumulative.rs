//! Cumulative current maps of many pairs on a raster whose every node is one cell: the same sums
//! as [`crate::cumulative::cumulative_pair_currents`], computed row by row over contiguous cells
//! so that each direction of link is one vectorizable loop.
//!
//! A cell's links point east, south, south-east and south-west ("forward"); its other four links
//! are the forward links of its west, north, north-west and north-east neighbours. A missing link
//! has conductance 0 and adds nothing.

use rayon::prelude::*;

use crate::engine::PairwiseSolver;
use crate::graph::RasterGraph;

/// Rows per parallel chunk: the chunk's rows of every focal potential stay in cache while all the
/// pairs pass over them.
const CHUNK_ROWS: usize = 8;

/// Forward link conductances per cell (row-major): east, south, south-east, south-west.
struct ForwardLinks {
    east: Vec<f64>,
    south: Vec<f64>,
    south_east: Vec<f64>,
    south_west: Vec<f64>,
    diagonals: bool,
}

/// The cumulative node currents of `pairs` (see [`crate::cumulative::cumulative_pair_currents`]
/// for the rule), one value per graph node; `None` when some node of `rg` spans several cells
/// (merged zero-resistance cells or focal regions), where the generic computation applies.
///
/// ```
/// use kulan_circuit::graph::{Connectivity, RasterGraph, RasterGraphSpec, Scheme};
/// use kulan_circuit::{cumulative::cumulative_pair_currents, grid_cumulative::cumulative_pair_currents_on_grid};
/// use kulan_circuit::{solver::DirectCholesky, PairwiseSolver};
/// let conductance: Vec<f64> = (0..30).map(|i| 1.0 + (i % 4) as f64).collect();
/// let rg = RasterGraph::build(RasterGraphSpec {
///     rows: 5, cols: 6, conductance: &conductance, connectivity: Connectivity::Eight,
///     scheme: Scheme::AverageConductance, regions: None,
/// }).unwrap();
/// let ps = PairwiseSolver::new(&rg.graph, &[0, 29], &DirectCholesky, None).unwrap();
/// let fast = cumulative_pair_currents_on_grid(&ps, &rg, &[(0, 29)]).unwrap();
/// let generic = cumulative_pair_currents(&ps, &[(0, 29)]);
/// assert!(fast.iter().zip(&generic).all(|(a, b)| (a - b).abs() < 1e-12));
/// ```
pub fn cumulative_pair_currents_on_grid(ps: &PairwiseSolver<'_>, rg: &RasterGraph, pairs: &[(usize, usize)]) -> Option<Vec<f64>> {
    let (rows, cols) = (rg.rows, rg.cols);
    let one_cell_per_node = rg.node_of_cell.iter().filter(|&&k| k >= 0).count() == rg.graph.n();
    if !one_cell_per_node || rows == 0 || cols == 0 {
        return None;
    }
    let links = forward_links(rg)?;
    // The focal nodes of the pairs, each with its potentials laid out over the cells (0 outside
    // its component), and every pair as two indices into them.
    let mut focal: Vec<usize> = Vec::new();
    let mut pair_ix: Vec<(usize, usize)> = Vec::new();
    for &(a, b) in pairs {
        if !ps.solved_pair(a, b) {
            continue;
        }
        let mut ix = |f: usize| match focal.iter().position(|&x| x == f) {
            Some(i) => i,
            None => {
                focal.push(f);
                focal.len() - 1
            }
        };
        pair_ix.push((ix(a), ix(b)));
    }
    let potentials: Vec<Vec<f64>> = focal
        .par_iter()
        .map(|&f| {
            let (c, unit) = (ps.comps.comp[f], ps.unit_potentials(f).expect("checked"));
            rg.node_of_cell
                .iter()
                .map(|&k| if k >= 0 && ps.comps.comp[k as usize] == c { unit[ps.comps.local[k as usize]] } else { 0.0 })
                .collect()
        })
        .collect();
    let grid = Grid { rows, cols, links: &links, potentials: &potentials };
    let thresholds: Vec<f64> = grid.largest_branch_currents(&pair_ix).iter().map(|m| 1e-8 * m).collect();
    let per_cell = grid.sums(&pair_ix, &thresholds);
    Some(rg.node_cell.iter().map(|&(r, c)| per_cell[r as usize * cols + c as usize]).collect())
}

/// Reads each node's links into the four forward directions; `None` if a link joins cells that
/// are not neighbours on the grid.
fn forward_links(rg: &RasterGraph) -> Option<ForwardLinks> {
    let (rows, cols) = (rg.rows, rg.cols);
    let mut links = ForwardLinks {
        east: vec![0.0; rows * cols],
        south: vec![0.0; rows * cols],
        south_east: vec![0.0; rows * cols],
        south_west: vec![0.0; rows * cols],
        diagonals: false,
    };
    for (k, &(r, c)) in rg.node_cell.iter().enumerate() {
        let cell = r as usize * cols + c as usize;
        for (j, g) in rg.graph.neighbours(k) {
            let (rj, cj) = rg.node_cell[j];
            match (rj as i64 - r as i64, cj as i64 - c as i64) {
                (0, 1) => links.east[cell] = g,
                (1, 0) => links.south[cell] = g,
                (1, 1) => links.south_east[cell] = g,
                (1, -1) => links.south_west[cell] = g,
                (0, -1) | (-1, -1..=1) => {}
                _ => return None,
            }
            links.diagonals |= rj != r && cj != c;
        }
    }
    Some(links)
}

struct Grid<'a> {
    rows: usize,
    cols: usize,
    links: &'a ForwardLinks,
    potentials: &'a [Vec<f64>],
}

impl Grid<'_> {
    #[inline(always)]
    fn row<'v>(&self, v: &'v [f64], r: usize) -> &'v [f64] {
        &v[r * self.cols..(r + 1) * self.cols]
    }

    /// `x_b − x_a` on row `r`.
    #[inline(always)]
    fn difference(&self, (a, b): (usize, usize), r: usize, out: &mut [f64]) {
        let (xa, xb) = (self.row(&self.potentials[a], r), self.row(&self.potentials[b], r));
        for ((o, p), q) in out.iter_mut().zip(xb).zip(xa) {
            *o = p - q;
        }
    }

    /// The largest branch current of each pair (each link once, through its forward direction).
    fn largest_branch_currents(&self, pairs: &[(usize, usize)]) -> Vec<f64> {
        (0..self.rows.div_ceil(CHUNK_ROWS))
            .into_par_iter()
            .map(|chunk| {
                #[cfg(target_arch = "x86_64")]
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2, checked just above.
                    return unsafe { self.chunk_maxima_avx2(chunk, pairs) };
                }
                self.chunk_maxima(chunk, pairs)
            })
            .reduce(|| vec![0.0; pairs.len()], |a, b| a.iter().zip(&b).map(|(p, q)| p.max(*q)).collect())
    }

    /// [`Self::chunk_maxima`] compiled for AVX2 (no FMA, so the same bits as without).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn chunk_maxima_avx2(&self, chunk: usize, pairs: &[(usize, usize)]) -> Vec<f64> {
        self.chunk_maxima(chunk, pairs)
    }

    #[inline(always)]
    fn chunk_maxima(&self, chunk: usize, pairs: &[(usize, usize)]) -> Vec<f64> {
        let cols = self.cols;
        let mut here = vec![0.0; cols];
        let mut below = vec![0.0; cols];
        let rows = chunk * CHUNK_ROWS..((chunk + 1) * CHUNK_ROWS).min(self.rows);
        pairs
            .iter()
            .map(|&p| {
                let mut mx = 0.0f64;
                for r in rows.clone() {
                    self.difference(p, r, &mut here);
                    mx = mx.max(largest(self.row(&self.links.east, r), &here[..cols - 1], &here[1..]));
                    if r + 1 < self.rows {
                        self.difference(p, r + 1, &mut below);
                        mx = mx.max(largest(self.row(&self.links.south, r), &here, &below));
                        if self.links.diagonals {
                            let se = &self.row(&self.links.south_east, r)[..cols - 1];
                            mx = mx.max(largest(se, &here[..cols - 1], &below[1..]));
                            let sw = &self.row(&self.links.south_west, r)[1..];
                            mx = mx.max(largest(sw, &here[1..], &below[..cols - 1]));
                        }
                    }
                }
                mx
            })
            .collect()
    }

    /// Per-cell sums over the pairs, in pair order, of the larger of each cell's inflow and
    /// outflow.
    fn sums(&self, pairs: &[(usize, usize)], thresholds: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.rows * self.cols];
        out.par_chunks_mut(CHUNK_ROWS * self.cols).enumerate().for_each(|(chunk, acc)| {
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2, checked just above.
                return unsafe { self.chunk_sums_avx2(chunk, acc, pairs, thresholds) };
            }
            self.chunk_sums(chunk, acc, pairs, thresholds)
        });
        out
    }

    /// [`Self::chunk_sums`] compiled for AVX2 (no FMA, so the same bits as without).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn chunk_sums_avx2(&self, chunk: usize, acc: &mut [f64], pairs: &[(usize, usize)], thresholds: &[f64]) {
        self.chunk_sums(chunk, acc, pairs, thresholds)
    }

    /// The sums of one chunk of rows (`acc` holds its cells).
    #[inline(always)]
    fn chunk_sums(&self, chunk: usize, acc: &mut [f64], pairs: &[(usize, usize)], thresholds: &[f64]) {
        let cols = self.cols;
        let mut d = [vec![0.0; cols], vec![0.0; cols], vec![0.0; cols]];
        let (mut inflow, mut outflow) = (vec![0.0; cols], vec![0.0; cols]);
        let r0 = chunk * CHUNK_ROWS;
        for (&p, &thr) in pairs.iter().zip(thresholds) {
            for (i, acc_row) in acc.chunks_mut(cols).enumerate() {
                let r = r0 + i;
                let (above, here, below) = {
                    let [a, h, b] = &mut d;
                    if r > 0 {
                        self.difference(p, r - 1, a);
                    }
                    self.difference(p, r, h);
                    if r + 1 < self.rows {
                        self.difference(p, r + 1, b);
                    }
                    (&*a, &*h, &*b)
                };
                inflow.fill(0.0);
                outflow.fill(0.0);
                let mut flow = Flow { thr, inflow: &mut inflow, outflow: &mut outflow };
                let links = self.links;
                let east = self.row(&links.east, r);
                flow.add(0..cols - 1, &east[..cols - 1], &here[..cols - 1], &here[1..]);
                flow.add(1..cols, &east[..cols - 1], &here[1..], &here[..cols - 1]);
                if r + 1 < self.rows {
                    flow.add(0..cols, self.row(&links.south, r), here, below);
                }
                if r > 0 {
                    flow.add(0..cols, self.row(&links.south, r - 1), here, above);
                }
                if links.diagonals {
                    if r + 1 < self.rows {
                        flow.add(0..cols - 1, &self.row(&links.south_east, r)[..cols - 1], &here[..cols - 1], &below[1..]);
                        flow.add(1..cols, &self.row(&links.south_west, r)[1..], &here[1..], &below[..cols - 1]);
                    }
                    if r > 0 {
                        flow.add(1..cols, &self.row(&links.south_east, r - 1)[..cols - 1], &here[1..], &above[..cols - 1]);
                        flow.add(0..cols - 1, &self.row(&links.south_west, r - 1)[1..], &here[..cols - 1], &above[1..]);
                    }
                }
                for ((a, i), o) in acc_row.iter_mut().zip(&inflow).zip(&outflow) {
                    *a += i.max(*o);
                }
            }
        }
    }
}

/// Largest `|g (d_here − d_there)|` over a row segment.
#[inline(always)]
fn largest(g: &[f64], here: &[f64], there: &[f64]) -> f64 {
    // Four running maxima, so that the loop vectorizes (a maximum is the same in any order).
    let mut lanes = [0.0f64; 4];
    let (gc, hc, tc) = (g.chunks_exact(4), here.chunks_exact(4), there.chunks_exact(4));
    let tail = gc.remainder().iter().zip(hc.remainder()).zip(tc.remainder());
    for ((g, h), t) in gc.zip(hc).zip(tc) {
        for l in 0..4 {
            lanes[l] = lanes[l].max((g[l] * (h[l] - t[l])).abs());
        }
    }
    let head = lanes.iter().fold(0.0f64, |m, v| m.max(*v));
    tail.fold(head, |m, ((g, h), t)| m.max((g * (h - t)).abs()))
}

/// One pair's inflow and outflow on a row, with branch currents below `thr` ignored.
struct Flow<'a> {
    thr: f64,
    inflow: &'a mut [f64],
    outflow: &'a mut [f64],
}

impl Flow<'_> {
    /// Adds the currents `g (d_here − d_there)` of one direction of link to the cells `cells`.
    #[inline(always)]
    fn add(&mut self, cells: std::ops::Range<usize>, g: &[f64], here: &[f64], there: &[f64]) {
        let (inflow, outflow) = (&mut self.inflow[cells.clone()], &mut self.outflow[cells]);
        let thr = self.thr;
        for ((((i, o), g), h), t) in inflow.iter_mut().zip(outflow.iter_mut()).zip(g).zip(here).zip(there) {
            let cur = g * (h - t);
            // Branch-free: the sign of a branch current is unpredictable.
            let cur = if cur.abs() < thr { 0.0 } else { cur };
            *o += cur.max(0.0);
            *i += (-cur).max(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cumulative::cumulative_pair_currents;
    use crate::graph::{Connectivity, RasterGraphSpec, Scheme};
    use crate::solver::DirectCholesky;

    /// The grid computation agrees with the generic one on grids with NoData holes, two
    /// components, both connectivities and both schemes, and on rows of one cell.
    #[test]
    fn agrees_with_the_generic_sums() {
        for (rows, cols) in [(23usize, 31usize), (17, 1), (1, 19)] {
            for connectivity in [Connectivity::Four, Connectivity::Eight] {
                for scheme in [Scheme::AverageConductance, Scheme::AverageResistance] {
                    let conductance: Vec<f64> = (0..rows * cols)
                        .map(|i| {
                            let (r, c) = (i / cols, i % cols);
                            if (r * 5 + c * 3) % 17 == 0 || (cols > 10 && c == 12) {
                                0.0
                            } else {
                                0.2 + ((r * 7 + c * 11) % 9) as f64
                            }
                        })
                        .collect();
                    let rg = RasterGraph::build(RasterGraphSpec {
                        rows,
                        cols,
                        conductance: &conductance,
                        connectivity,
                        scheme,
                        regions: None,
                    })
                    .unwrap();
                    let n = rg.graph.n();
                    let focal: Vec<usize> = [1, n / 3, n / 2, n - 2, 2 * n / 3].into_iter().collect();
                    let ps = PairwiseSolver::new(&rg.graph, &focal, &DirectCholesky, Some(&rg.node_cell)).unwrap();
                    let mut pairs = Vec::new();
                    for i in 0..focal.len() {
                        for j in i + 1..focal.len() {
                            pairs.push((focal[i], focal[j]));
                        }
                    }
                    let fast = cumulative_pair_currents_on_grid(&ps, &rg, &pairs).unwrap();
                    let generic = cumulative_pair_currents(&ps, &pairs);
                    let scale = generic.iter().fold(0.0f64, |m, v| m.max(*v));
                    assert!(scale > 0.0);
                    for (k, (a, b)) in fast.iter().zip(&generic).enumerate() {
                        assert!((a - b).abs() <= 1e-9 * scale, "{rows}×{cols} {connectivity:?} {scheme:?} node {k}: {a} vs {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn declines_rasters_with_merged_cells() {
        let conductance = vec![1.0, f64::INFINITY, f64::INFINITY, 1.0, 1.0, 1.0];
        let rg = RasterGraph::build(RasterGraphSpec {
            rows: 2,
            cols: 3,
            conductance: &conductance,
            connectivity: Connectivity::Four,
            scheme: Scheme::AverageResistance,
            regions: None,
        })
        .unwrap();
        let n = rg.graph.n();
        assert!(n < 6, "the two zero-resistance cells are one node");
        let ps = PairwiseSolver::new(&rg.graph, &[0, n - 1], &DirectCholesky, None).unwrap();
        assert!(cumulative_pair_currents_on_grid(&ps, &rg, &[(0, n - 1)]).is_none());
    }

    #[test]
    fn same_bits_on_one_and_two_threads() {
        let (rows, cols) = (40usize, 37usize);
        let conductance: Vec<f64> = (0..rows * cols).map(|i| 0.5 + (i * 13 % 7) as f64).collect();
        let rg = RasterGraph::build(RasterGraphSpec {
            rows,
            cols,
            conductance: &conductance,
            connectivity: Connectivity::Eight,
            scheme: Scheme::AverageConductance,
            regions: None,
        })
        .unwrap();
        let focal = [3usize, 700, 1400];
        let ps = PairwiseSolver::new(&rg.graph, &focal, &DirectCholesky, None).unwrap();
        let pairs = [(3, 700), (3, 1400), (700, 1400)];
        let run = |t: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
                .install(|| cumulative_pair_currents_on_grid(&ps, &rg, &pairs).unwrap())
        };
        assert_eq!(run(1), run(2));
    }
}
