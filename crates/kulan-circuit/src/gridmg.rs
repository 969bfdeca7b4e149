//! Memory-lean iterative solver for raster grids: the system is kept as per-edge conductance
//! arrays on the grid (no sparse matrix, no index arrays), preconditioned by geometric multigrid.
//!
//! The matrix is `A = L + diag(ground)` over the *free* cells, where `L` is the Laplacian of the
//! links between free cells; links from a free cell to a cell held at 0 V are folded into that
//! cell's `ground`. Cells that are not free keep the value 0 in every vector.
//!
//! Multigrid: 2×2 cells aggregate into one coarse cell (piecewise-constant interpolation), and the
//! Galerkin coarse operator of such an aggregation is again a grid Laplacian with grounds, with
//! the same neighbourhood (coarse links sum the fine links that cross between blocks). Smoothing
//! is Gauss–Seidel inside bands of rows, even bands then odd bands (the reverse order after the
//! coarse correction, so the preconditioner is symmetric); bands are fixed, so results do not
//! depend on the thread count. The coarsest grid is solved by sparse Cholesky; W-cycles keep the
//! convergence of piecewise-constant aggregation from degrading with depth.
//!
//! Memory at 10⁸ cells with 4 neighbours: about 3 grid arrays of f64 for the fine operator, 1/3 of
//! that for all coarser levels together, and 6 vectors for CG and the cycle.

use rayon::prelude::*;

use crate::cg::preconditioned_cg;
use crate::solver::{DirectCholesky, Factorization, LinearSolver, MatrixHints, SolveStats, SpdMatrix};
use crate::CircuitError;

/// Rows per smoothing band.
const BAND: usize = 16;
/// Grids with at most this many cells are solved directly.
const COARSEST_CELLS: usize = 4096;

/// A grid Laplacian with grounds, stored as conductances per link direction (row-major, one
/// value per cell: the link from the cell to its east, south, south-east and south-west
/// neighbour; 0 where there is no link).
#[derive(Debug, Clone)]
pub struct GridOperator {
    pub rows: usize,
    pub cols: usize,
    pub east: Vec<f64>,
    pub south: Vec<f64>,
    /// Empty for 4 neighbours.
    pub south_east: Vec<f64>,
    /// Empty for 4 neighbours.
    pub south_west: Vec<f64>,
    /// Conductance to ground (0 V) of each cell; emptied by [`GridMultigrid::new`] once the
    /// coarser levels are built (the diagonal keeps it).
    pub ground: Vec<f64>,
    /// 1/diagonal for free cells, 0 for cells outside the system.
    inv_diag: Vec<f64>,
}

impl GridOperator {
    /// Builds the operator; a cell is free when it has a link or a ground (diagonal > 0).
    /// Links must be symmetric by construction (one value per undirected link) and non-negative.
    pub fn new(
        rows: usize,
        cols: usize,
        east: Vec<f64>,
        south: Vec<f64>,
        south_east: Vec<f64>,
        south_west: Vec<f64>,
        ground: Vec<f64>,
    ) -> Result<GridOperator, CircuitError> {
        let n = rows * cols;
        let eight = !south_east.is_empty();
        if east.len() != n || south.len() != n || ground.len() != n || (eight && (south_east.len() != n || south_west.len() != n)) {
            return Err(CircuitError::Input(format!("grid operator arrays do not match {rows}×{cols}")));
        }
        let mut op = GridOperator { rows, cols, east, south, south_east, south_west, ground, inv_diag: Vec::new() };
        op.inv_diag = (0..n)
            .into_par_iter()
            .with_min_len(4096)
            .map(|i| {
                let d = op.diagonal(i);
                if d > 0.0 {
                    1.0 / d
                } else {
                    0.0
                }
            })
            .collect();
        Ok(op)
    }

    pub fn n(&self) -> usize {
        self.rows * self.cols
    }

    fn eight(&self) -> bool {
        !self.south_east.is_empty()
    }

    /// Whether the cell is part of the system.
    pub fn is_free(&self, i: usize) -> bool {
        self.inv_diag[i] > 0.0
    }

    /// Calls `f(j, g)` for every link of cell `i`.
    fn for_links(&self, i: usize, f: impl FnMut(usize, f64)) {
        self.for_links_at(i, i / self.cols, i % self.cols, f)
    }

    /// [`Self::for_links`] for cell `i` at row `r`, column `c` (no division in inner loops).
    #[inline(always)]
    fn for_links_at(&self, i: usize, r: usize, c: usize, mut f: impl FnMut(usize, f64)) {
        let cols = self.cols;
        if c + 1 < cols {
            f(i + 1, self.east[i]);
        }
        if c > 0 {
            f(i - 1, self.east[i - 1]);
        }
        if r + 1 < self.rows {
            f(i + cols, self.south[i]);
        }
        if r > 0 {
            f(i - cols, self.south[i - cols]);
        }
        if self.eight() {
            if r + 1 < self.rows && c + 1 < cols {
                f(i + cols + 1, self.south_east[i]);
            }
            if r > 0 && c > 0 {
                f(i - cols - 1, self.south_east[i - cols - 1]);
            }
            if r + 1 < self.rows && c > 0 {
                f(i + cols - 1, self.south_west[i]);
            }
            if r > 0 && c + 1 < cols {
                f(i - cols + 1, self.south_west[i - cols + 1]);
            }
        }
    }

    fn diagonal(&self, i: usize) -> f64 {
        let mut d = self.ground[i];
        self.for_links(i, |_, g| d += g);
        d
    }

    /// y = A x over free cells (y = 0 elsewhere). `x` must be 0 outside the system.
    pub fn mul(&self, x: &[f64], y: &mut [f64]) {
        y.par_chunks_mut(self.cols).enumerate().for_each(|(r, row)| {
            for (c, yi) in row.iter_mut().enumerate() {
                let i = r * self.cols + c;
                let inv = self.inv_diag[i];
                if inv == 0.0 {
                    *yi = 0.0;
                    continue;
                }
                let mut s = x[i] / inv;
                self.for_links_at(i, r, c, |j, g| s -= g * x[j]);
                *yi = s;
            }
        });
    }

    /// The Galerkin operator of the 2×2 aggregation.
    // `(c + 1) / 2` reads as "the block of cell c + 1", which is what it is, not a rounded-up half.
    #[allow(clippy::manual_div_ceil)]
    fn coarsen(&self) -> GridOperator {
        let (rc, cc) = (self.rows.div_ceil(2), self.cols.div_ceil(2));
        let nc = rc * cc;
        let eight = self.eight();
        let cols = self.cols;
        // Each coarse row gathers from two fine rows; coarse rows are independent, so they are
        // built in parallel and each sum is formed in a fixed order.
        let rows_out: Vec<[Vec<f64>; 5]> = (0..rc)
            .into_par_iter()
            .map(|cr| {
                let mut east = vec![0.0; cc];
                let mut south = vec![0.0; cc];
                let mut se = if eight { vec![0.0; cc] } else { Vec::new() };
                let mut sw = if eight { vec![0.0; cc] } else { Vec::new() };
                let mut ground = vec![0.0; cc];
                for r in 2 * cr..(2 * cr + 2).min(self.rows) {
                    for c in 0..cols {
                        let i = r * cols + c;
                        let cj = c / 2;
                        ground[cj] += self.ground[i];
                        if c + 1 < cols && (c + 1) / 2 != cj {
                            east[cj] += self.east[i];
                        }
                        if r + 1 < self.rows && (r + 1) / 2 != cr {
                            south[cj] += self.south[i];
                        }
                        if eight && r + 1 < self.rows {
                            if c + 1 < cols {
                                let g = self.south_east[i];
                                match ((r + 1) / 2 != cr, (c + 1) / 2 != cj) {
                                    (false, false) => {}
                                    (false, true) => east[cj] += g,
                                    (true, false) => south[cj] += g,
                                    (true, true) => se[cj] += g,
                                }
                            }
                            if c > 0 {
                                let g = self.south_west[i];
                                match ((r + 1) / 2 != cr, (c - 1) / 2 != cj) {
                                    (false, false) => {}
                                    (false, true) => east[cj - 1] += g,
                                    (true, false) => south[cj] += g,
                                    (true, true) => sw[cj] += g,
                                }
                            }
                        }
                    }
                }
                [east, south, se, sw, ground]
            })
            .collect();
        let mut parts: [Vec<f64>; 5] = Default::default();
        for (k, part) in parts.iter_mut().enumerate() {
            if (k == 2 || k == 3) && !eight {
                continue;
            }
            part.reserve_exact(nc);
            for row in &rows_out {
                part.extend_from_slice(&row[k]);
            }
        }
        drop(rows_out);
        let [east, south, se, sw, ground] = parts;
        GridOperator::new(rc, cc, east, south, se, sw, ground).expect("consistent coarse sizes")
    }

    /// The free cells as a sparse matrix, with the cell index of each row.
    fn to_sparse(&self) -> (SpdMatrix, Vec<usize>) {
        let n = self.n();
        let mut row_of = vec![usize::MAX; n];
        let mut cells = Vec::new();
        for i in 0..n {
            if self.is_free(i) {
                row_of[i] = cells.len();
                cells.push(i);
            }
        }
        let (mut ptr, mut idx, mut val) = (vec![0usize], Vec::new(), Vec::new());
        let mut row: Vec<(usize, f64)> = Vec::new();
        for &i in &cells {
            row.clear();
            row.push((row_of[i], 1.0 / self.inv_diag[i]));
            self.for_links(i, |j, g| {
                if self.is_free(j) && g != 0.0 {
                    row.push((row_of[j], -g));
                }
            });
            row.sort_unstable_by_key(|e| e.0);
            for &(j, v) in &row {
                idx.push(j);
                val.push(v);
            }
            ptr.push(idx.len());
        }
        (SpdMatrix { n: cells.len(), ptr, idx, val }, cells)
    }

    /// One Gauss–Seidel pass over the bands of one parity (`forward` = increasing cell order).
    fn smooth_bands(&self, b: &[f64], x: &mut [f64], parity: usize, forward: bool) {
        let cols = self.cols;
        let band_len = BAND * cols;
        let nbands = self.rows.div_ceil(BAND);
        // Rows just outside each band, as they are before this pass (the other parity's bands do
        // not change during it).
        let halo: Vec<(Vec<f64>, Vec<f64>)> = (0..nbands)
            .map(|bnd| {
                if bnd % 2 != parity {
                    return (Vec::new(), Vec::new());
                }
                let r0 = bnd * BAND;
                let r1 = ((bnd + 1) * BAND).min(self.rows);
                let above = if r0 > 0 { x[(r0 - 1) * cols..r0 * cols].to_vec() } else { Vec::new() };
                let below = if r1 < self.rows { x[r1 * cols..(r1 + 1) * cols].to_vec() } else { Vec::new() };
                (above, below)
            })
            .collect();
        x.par_chunks_mut(band_len).enumerate().filter(|(bnd, _)| bnd % 2 == parity).for_each(|(bnd, xb)| {
            let start = bnd * band_len;
            let end = start + xb.len();
            let (above, below) = &halo[bnd];
            let value = |xb: &[f64], j: usize| {
                if j < start {
                    above[j + cols - start]
                } else if j >= end {
                    below[j - end]
                } else {
                    xb[j - start]
                }
            };
            let step_at = |i: usize, r: usize, c: usize, xb: &mut [f64]| {
                let inv = self.inv_diag[i];
                if inv == 0.0 {
                    return;
                }
                let mut s = b[i];
                self.for_links_at(i, r, c, |j, g| s += g * value(xb, j));
                xb[i - start] = s * inv;
            };
            let (r0, r1) = (start / cols, end / cols);
            if forward {
                for r in r0..r1 {
                    for c in 0..cols {
                        step_at(r * cols + c, r, c, xb);
                    }
                }
            } else {
                for r in (r0..r1).rev() {
                    for c in (0..cols).rev() {
                        step_at(r * cols + c, r, c, xb);
                    }
                }
            }
        });
    }
}

/// Multigrid hierarchy over a [`GridOperator`].
pub struct GridMultigrid {
    levels: Vec<GridOperator>,
    coarse: Option<Box<dyn Factorization>>,
    coarse_cells: Vec<usize>,
    /// Coarse corrections per level (1 = V-cycle, 2 = W-cycle).
    pub cycles: usize,
}

impl GridMultigrid {
    /// Builds the hierarchy; takes ownership of the fine operator.
    pub fn new(fine: GridOperator) -> Result<GridMultigrid, CircuitError> {
        let mut levels = vec![fine];
        while levels.last().expect("one level").n() > COARSEST_CELLS && levels.len() < 40 {
            let next = levels.last().expect("one level").coarsen();
            levels.last_mut().expect("one level").ground = Vec::new();
            levels.push(next);
        }
        let (a, cells) = levels.last().expect("one level").to_sparse();
        let coarse = if a.n == 0 { None } else { Some(DirectCholesky.factor(a, MatrixHints::default())?) };
        Ok(GridMultigrid { levels, coarse, coarse_cells: cells, cycles: 2 })
    }

    pub fn fine(&self) -> &GridOperator {
        &self.levels[0]
    }

    /// Approximately solves `A x = b` (x overwritten; b must be 0 outside the system).
    pub fn cycle(&self, lvl: usize, b: &[f64], x: &mut [f64]) {
        let op = &self.levels[lvl];
        x.iter_mut().for_each(|v| *v = 0.0);
        if lvl + 1 == self.levels.len() {
            if let Some(f) = &self.coarse {
                let mut rhs: Vec<f64> = self.coarse_cells.iter().map(|&i| b[i]).collect();
                let _ = f.solve_in_place(&mut rhs);
                for (&i, v) in self.coarse_cells.iter().zip(rhs) {
                    x[i] = v;
                }
            }
            return;
        }
        op.smooth_bands(b, x, 0, true);
        op.smooth_bands(b, x, 1, true);
        let coarse = &self.levels[lvl + 1];
        let mut res = vec![0.0; op.n()];
        let mut bc = vec![0.0; coarse.n()];
        let mut xc = vec![0.0; coarse.n()];
        for _ in 0..self.cycles {
            op.mul(x, &mut res);
            res.par_iter_mut().zip(b.par_iter()).with_min_len(8192).for_each(|(r, bi)| *r = bi - *r);
            self.restrict(lvl, &res, &mut bc);
            self.cycle(lvl + 1, &bc, &mut xc);
            self.prolong_add(lvl, &xc, x);
        }
        drop((res, bc, xc));
        op.smooth_bands(b, x, 1, false);
        op.smooth_bands(b, x, 0, false);
    }

    /// bc[I] = Σ r[i] over the fine cells i of block I.
    fn restrict(&self, lvl: usize, r: &[f64], bc: &mut [f64]) {
        let (f, c) = (&self.levels[lvl], &self.levels[lvl + 1]);
        bc.par_chunks_mut(c.cols).enumerate().for_each(|(cr, row)| {
            row.iter_mut().for_each(|v| *v = 0.0);
            for fr in 2 * cr..(2 * cr + 2).min(f.rows) {
                for fc in 0..f.cols {
                    row[fc / 2] += r[fr * f.cols + fc];
                }
            }
        });
    }

    /// x[i] += xc[block of i] on free fine cells.
    fn prolong_add(&self, lvl: usize, xc: &[f64], x: &mut [f64]) {
        let (f, c) = (&self.levels[lvl], &self.levels[lvl + 1]);
        x.par_chunks_mut(f.cols).enumerate().for_each(|(fr, row)| {
            for (fc, v) in row.iter_mut().enumerate() {
                if f.inv_diag[fr * f.cols + fc] > 0.0 {
                    *v += xc[(fr / 2) * c.cols + fc / 2];
                }
            }
        });
    }

    /// Solves `A x = rhs` in place by CG preconditioned with one cycle per iteration.
    pub fn solve(&self, rhs: &mut [f64], tol: f64, max_iter: usize) -> Result<SolveStats, CircuitError> {
        let fine = self.fine();
        for (i, v) in rhs.iter_mut().enumerate() {
            if !fine.is_free(i) {
                *v = 0.0;
            }
        }
        preconditioned_cg(rhs, |x, y| fine.mul(x, y), |r, z| self.cycle(0, r, z), tol, max_iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A high-contrast grid with a hole, a fixed cell and grounds, against the direct solver.
    fn check(eight: bool) {
        let (rows, cols) = (97usize, 131usize);
        let n = rows * cols;
        let cond = |i: usize| 1e3f64.powf(((i * 2654435761) % 1000) as f64 / 1000.0 - 0.5);
        let hole = |i: usize| {
            let (r, c) = (i / cols, i % cols);
            (30..40).contains(&r) && (20..90).contains(&c)
        };
        let link = |i: usize, j: usize, diag: bool| {
            if hole(i) || hole(j) {
                0.0
            } else {
                (cond(i) + cond(j)) / if diag { 2.0 * 2f64.sqrt() } else { 2.0 }
            }
        };
        let (mut e, mut s, mut se, mut sw) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        for i in 0..n {
            let (r, c) = (i / cols, i % cols);
            if c + 1 < cols {
                e[i] = link(i, i + 1, false);
            }
            if r + 1 < rows {
                s[i] = link(i, i + cols, false);
                if eight && c + 1 < cols {
                    se[i] = link(i, i + cols + 1, true);
                }
                if eight && c > 0 {
                    sw[i] = link(i, i + cols - 1, true);
                }
            }
        }
        if !eight {
            se.clear();
            sw.clear();
        }
        let mut ground = vec![0.0; n];
        ground[5 * cols + 7] = 0.3;
        ground[90 * cols + 120] = 2.0;
        let op = GridOperator::new(rows, cols, e, s, se, sw, ground).unwrap();
        let mut b = vec![0.0; n];
        b[60 * cols + 60] = 1.0;
        b[10 * cols + 100] = 0.5;
        let (a, cells) = op.to_sparse();
        let mut xd: Vec<f64> = cells.iter().map(|&i| b[i]).collect();
        DirectCholesky.factor(a, MatrixHints::default()).unwrap().solve_in_place(&mut xd).unwrap();
        let mg = GridMultigrid::new(op).unwrap();
        assert!(mg.levels.len() >= 2);
        let mut xi = b.clone();
        let st = mg.solve(&mut xi, 1e-10, 300).unwrap();
        assert!(st.iterations < 60, "{} iterations", st.iterations);
        let scale = xd.iter().map(|v| v.abs()).fold(0.0, f64::max);
        for (&i, v) in cells.iter().zip(&xd) {
            assert!((xi[i] - v).abs() <= 1e-7 * scale, "cell {i}: {} vs {v}", xi[i]);
        }
        for i in 0..n {
            if hole(i) {
                assert_eq!(xi[i], 0.0);
            }
        }
    }

    #[test]
    fn matches_direct_with_four_neighbours() {
        check(false);
    }

    #[test]
    fn matches_direct_with_eight_neighbours() {
        check(true);
    }
}
