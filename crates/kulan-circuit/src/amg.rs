//! Iterative solver: conjugate gradients preconditioned by one V-cycle of smoothed-aggregation
//! algebraic multigrid (symmetric Gauss–Seidel smoothing, direct solve on the coarsest level).
//!
//! Aggregation works on any graph (networks as well as grids); on grids it coarsens by about
//! 3×3 per level, like geometric multigrid.

use rayon::prelude::*;

use crate::cg::preconditioned_cg;
use crate::solver::{DirectCholesky, Factorization, LinearSolver, MatrixHints, SolveStats, SpdMatrix};
use crate::CircuitError;

/// CG preconditioned by smoothed-aggregation multigrid.
#[derive(Debug, Clone, Copy)]
pub struct MultigridCg {
    /// Relative residual ‖b − Ax‖/‖b‖ at which CG stops.
    pub tol: f64,
    pub max_iter: usize,
}

impl Default for MultigridCg {
    fn default() -> Self {
        MultigridCg { tol: 1e-6, max_iter: 10_000 }
    }
}

#[derive(Debug, Clone, Default)]
struct Csr {
    nrows: usize,
    ncols: usize,
    ptr: Vec<usize>,
    idx: Vec<usize>,
    val: Vec<f64>,
}

impl Csr {
    fn mul(&self, x: &[f64], y: &mut [f64]) {
        y.par_iter_mut().enumerate().with_min_len(4096).for_each(|(i, yi)| {
            let mut s = 0.0;
            for p in self.ptr[i]..self.ptr[i + 1] {
                s += self.val[p] * x[self.idx[p]];
            }
            *yi = s;
        });
    }

    fn transpose(&self) -> Csr {
        let mut cnt = vec![0usize; self.ncols + 1];
        for &j in &self.idx {
            cnt[j + 1] += 1;
        }
        for j in 0..self.ncols {
            cnt[j + 1] += cnt[j];
        }
        let mut fill = cnt.clone();
        let mut idx = vec![0usize; self.idx.len()];
        let mut val = vec![0.0; self.idx.len()];
        for i in 0..self.nrows {
            for p in self.ptr[i]..self.ptr[i + 1] {
                let j = self.idx[p];
                idx[fill[j]] = i;
                val[fill[j]] = self.val[p];
                fill[j] += 1;
            }
        }
        Csr { nrows: self.ncols, ncols: self.nrows, ptr: cnt, idx, val }
    }

    fn matmul(&self, other: &Csr) -> Csr {
        let mut ptr = vec![0usize; self.nrows + 1];
        let (mut idx, mut val) = (Vec::new(), Vec::new());
        let mut acc = vec![0.0f64; other.ncols];
        let mut mark = vec![usize::MAX; other.ncols];
        let mut cols: Vec<usize> = Vec::new();
        for i in 0..self.nrows {
            cols.clear();
            for p in self.ptr[i]..self.ptr[i + 1] {
                let (k, a) = (self.idx[p], self.val[p]);
                for q in other.ptr[k]..other.ptr[k + 1] {
                    let j = other.idx[q];
                    if mark[j] != i {
                        mark[j] = i;
                        acc[j] = 0.0;
                        cols.push(j);
                    }
                    acc[j] += a * other.val[q];
                }
            }
            cols.sort_unstable();
            for &j in &cols {
                idx.push(j);
                val.push(acc[j]);
            }
            ptr[i + 1] = idx.len();
        }
        Csr { nrows: self.nrows, ncols: other.ncols, ptr, idx, val }
    }

    fn from_spd(a: &SpdMatrix) -> Csr {
        Csr { nrows: a.n, ncols: a.n, ptr: a.ptr.clone(), idx: a.idx.clone(), val: a.val.clone() }
    }
}

struct Level {
    a: SpdMatrix,
    inv_diag: Vec<f64>,
    p: Csr,
    r: Csr,
}

struct Hierarchy {
    levels: Vec<Level>,
    coarse: Box<dyn Factorization>,
    coarse_a: SpdMatrix,
}

const COARSE_SIZE: usize = 3000;
const THETA: f64 = 0.08;

fn aggregate(a: &SpdMatrix) -> (Vec<usize>, usize) {
    let n = a.n;
    let diag = a.diagonal();
    let strong = |i: usize, p: usize| {
        let j = a.idx[p];
        j != i && a.val[p].abs() >= THETA * (diag[i] * diag[j]).abs().sqrt()
    };
    const NONE: usize = usize::MAX;
    let mut agg = vec![NONE; n];
    let mut na = 0usize;
    for i in 0..n {
        if agg[i] != NONE {
            continue;
        }
        let free = (a.ptr[i]..a.ptr[i + 1]).all(|p| !strong(i, p) || agg[a.idx[p]] == NONE);
        let has = (a.ptr[i]..a.ptr[i + 1]).any(|p| strong(i, p));
        if free && has {
            agg[i] = na;
            for p in a.ptr[i]..a.ptr[i + 1] {
                if strong(i, p) {
                    agg[a.idx[p]] = na;
                }
            }
            na += 1;
        }
    }
    let snapshot = agg.clone();
    for i in 0..n {
        if agg[i] != NONE {
            continue;
        }
        let mut best = (0.0f64, NONE);
        for p in a.ptr[i]..a.ptr[i + 1] {
            let j = a.idx[p];
            if j != i && snapshot[j] != NONE && a.val[p].abs() > best.0 {
                best = (a.val[p].abs(), snapshot[j]);
            }
        }
        if best.1 != NONE {
            agg[i] = best.1;
        }
    }
    for i in 0..n {
        if agg[i] != NONE {
            continue;
        }
        agg[i] = na;
        for p in a.ptr[i]..a.ptr[i + 1] {
            let j = a.idx[p];
            if agg[j] == NONE {
                agg[j] = na;
            }
        }
        na += 1;
    }
    (agg, na)
}

fn spectral_radius_dinv_a(a: &SpdMatrix, inv_diag: &[f64]) -> f64 {
    let n = a.n;
    let mut x: Vec<f64> = (0..n).map(|i| 1.0 + ((i * 7919) % 13) as f64 / 13.0).collect();
    let mut y = vec![0.0; n];
    let mut lambda = 2.0;
    for _ in 0..15 {
        a.mul(&x, &mut y);
        for i in 0..n {
            y[i] *= inv_diag[i];
        }
        let ny = y.iter().map(|v| v * v).sum::<f64>().sqrt();
        let nx = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        if nx == 0.0 || ny == 0.0 {
            break;
        }
        lambda = ny / nx;
        for i in 0..n {
            x[i] = y[i] / ny;
        }
    }
    lambda * 1.05
}

fn build_hierarchy(a0: SpdMatrix) -> Result<Hierarchy, CircuitError> {
    let mut levels = Vec::new();
    let mut a = a0;
    while a.n > COARSE_SIZE && levels.len() < 30 {
        let diag = a.diagonal();
        if diag.iter().any(|&d| !(d > 0.0)) {
            return Err(CircuitError::Numerical("matrix has a non-positive diagonal".into()));
        }
        let inv_diag: Vec<f64> = diag.iter().map(|d| 1.0 / d).collect();
        let (agg, na) = aggregate(&a);
        if na as f64 > 0.8 * a.n as f64 {
            break;
        }
        let omega = (4.0 / 3.0) / spectral_radius_dinv_a(&a, &inv_diag);
        let t = Csr { nrows: a.n, ncols: na, ptr: (0..=a.n).collect(), idx: agg, val: vec![1.0; a.n] };
        let mut s = Csr::from_spd(&a);
        for i in 0..s.nrows {
            for p in s.ptr[i]..s.ptr[i + 1] {
                let j = s.idx[p];
                s.val[p] = if j == i { 1.0 - omega * inv_diag[i] * s.val[p] } else { -omega * inv_diag[i] * s.val[p] };
            }
        }
        let p = s.matmul(&t);
        drop(s);
        let r = p.transpose();
        let ap = Csr::from_spd(&a).matmul(&p);
        let ac = r.matmul(&ap);
        drop(ap);
        let coarse = SpdMatrix { n: ac.nrows, ptr: ac.ptr, idx: ac.idx, val: ac.val };
        levels.push(Level { a, inv_diag, p, r });
        a = coarse;
    }
    let coarse = DirectCholesky.factor(a.clone(), MatrixHints::default())?;
    Ok(Hierarchy { levels, coarse, coarse_a: a })
}

fn sgs_sweep(a: &SpdMatrix, inv_diag: &[f64], b: &[f64], x: &mut [f64], forward: bool) {
    let mut step = |i: usize| {
        let mut s = b[i];
        for p in a.ptr[i]..a.ptr[i + 1] {
            let j = a.idx[p];
            if j != i {
                s -= a.val[p] * x[j];
            }
        }
        x[i] = s * inv_diag[i];
    };
    if forward {
        (0..a.n).for_each(&mut step);
    } else {
        (0..a.n).rev().for_each(&mut step);
    }
}

impl Hierarchy {
    /// One symmetric V-cycle from a zero initial guess: x ≈ A⁻¹ b.
    fn vcycle(&self, lvl: usize, b: &[f64], x: &mut [f64]) {
        if lvl == self.levels.len() {
            x.copy_from_slice(b);
            let _ = self.coarse.solve_in_place(x);
            return;
        }
        let l = &self.levels[lvl];
        x.iter_mut().for_each(|v| *v = 0.0);
        sgs_sweep(&l.a, &l.inv_diag, b, x, true);
        let mut res = vec![0.0; l.a.n];
        l.a.mul(x, &mut res);
        res.par_iter_mut().zip(b.par_iter()).with_min_len(4096).for_each(|(r, bi)| *r = bi - *r);
        let mut bc = vec![0.0; l.r.nrows];
        l.r.mul(&res, &mut bc);
        let mut xc = vec![0.0; l.r.nrows];
        self.vcycle(lvl + 1, &bc, &mut xc);
        l.p.mul(&xc, &mut res);
        x.par_iter_mut().zip(res.par_iter()).with_min_len(4096).for_each(|(xi, c)| *xi += c);
        sgs_sweep(&l.a, &l.inv_diag, b, x, false);
    }

    fn fine(&self) -> &SpdMatrix {
        self.levels.first().map(|l| &l.a).unwrap_or(&self.coarse_a)
    }
}

struct MultigridFactor {
    h: Hierarchy,
    tol: f64,
    max_iter: usize,
}

impl Factorization for MultigridFactor {
    fn n(&self) -> usize {
        self.h.fine().n
    }

    fn solve_in_place(&self, rhs: &mut [f64]) -> Result<SolveStats, CircuitError> {
        let a = self.h.fine();
        preconditioned_cg(rhs, |x, y| a.mul(x, y), |r, z| self.h.vcycle(0, r, z), self.tol, self.max_iter)
    }
}

impl LinearSolver for MultigridCg {
    fn name(&self) -> &'static str {
        "iterative (CG + smoothed-aggregation multigrid)"
    }

    fn factor(&self, a: SpdMatrix, _hints: MatrixHints<'_>) -> Result<Box<dyn Factorization>, CircuitError> {
        let h = build_hierarchy(a)?;
        Ok(Box::new(MultigridFactor { h, tol: self.tol, max_iter: self.max_iter }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 5-point Laplacian on an m×m grid with high-contrast conductances, corner grounded.
    fn grid_system(m: usize, contrast: f64) -> SpdMatrix {
        let n = m * m;
        let cond = |i: usize| contrast.powf((i.wrapping_mul(2654435761) % 1000) as f64 / 1000.0);
        let (mut ptr, mut idx, mut val) = (vec![0], vec![], vec![]);
        for i in 0..n {
            let (r, c) = (i / m, i % m);
            let mut nb = vec![];
            if r > 0 {
                nb.push(i - m);
            }
            if c > 0 {
                nb.push(i - 1);
            }
            if c + 1 < m {
                nb.push(i + 1);
            }
            if r + 1 < m {
                nb.push(i + m);
            }
            let mut d = if i == 0 { 1.0 } else { 0.0 };
            let mut row: Vec<(usize, f64)> = vec![];
            for j in nb {
                let g = 2.0 / (1.0 / cond(i) + 1.0 / cond(j));
                d += g;
                row.push((j, -g));
            }
            row.push((i, d));
            row.sort_by_key(|x| x.0);
            for (j, v) in row {
                idx.push(j);
                val.push(v);
            }
            ptr.push(idx.len());
        }
        SpdMatrix { n, ptr, idx, val }
    }

    #[test]
    fn multigrid_cg_matches_direct_on_a_high_contrast_grid() {
        let a = grid_system(120, 1e4);
        let mut b = vec![0.0; a.n];
        b[a.n - 1] = 1.0;
        b[a.n / 2] = -0.5;
        let mut xd = b.clone();
        DirectCholesky.factor(a.clone(), MatrixHints::default()).unwrap().solve_in_place(&mut xd).unwrap();
        let mut xi = b.clone();
        let st = MultigridCg { tol: 1e-10, max_iter: 500 }
            .factor(a, MatrixHints::default())
            .unwrap()
            .solve_in_place(&mut xi)
            .unwrap();
        assert!(st.iterations < 80, "{} iterations", st.iterations);
        let err = xd.iter().zip(&xi).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        let scale = xd.iter().map(|v| v.abs()).fold(0.0, f64::max);
        assert!(err <= 1e-7 * scale, "err {err} scale {scale}");
    }
}
