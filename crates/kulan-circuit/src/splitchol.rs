//! Sparse Cholesky on two cores: the two halves of the top nested-dissection separator are
//! factored independently, in parallel, and joined through the separator's Schur complement.
//!
//! With the separator `s` (one grid line) between the halves `1` and `2`, which no link joins,
//!
//! ```text
//!     | A11  0   A1s |        M1 = | A11 A1s |     M2 = | A22 A2s |
//! A = |  0  A22  A2s |             | As1 Ass |          | As2 Ass |
//!     | As1 As2  Ass |
//! ```
//!
//! `M1` and `M2` are principal submatrices of `A`, so they are positive definite and each has a
//! sparse Cholesky factor `L = [L_hh 0; L_sh L_ss]`; each is ordered with its half first (nested
//! dissection) and the separator last. `L_ss L_ssᵀ = S_h = Ass − As_h A_hh⁻¹ A_hs`, and the Schur
//! complement of the separator in `A` is `S = S1 + S2 − Ass` (dense, one grid line square). A
//! solve of `A x = b` takes one forward and one back substitution per half:
//!
//! 1. forward, `L y = [b_h; 0]` on each half (in parallel): the half's rows are
//!    `z_h = L_hh⁻¹ b_h`, the separator's `y_s = −L_ss⁻¹ L_sh z_h`, and
//!    `L_sh z_h = As_h A_hh⁻¹ b_h`;
//! 2. `x_s = S⁻¹ (b_s + L_ss1 y_s1 + L_ss2 y_s2)` (dense);
//! 3. back, `Lᵀ x = [z_h; L_ssᵀ x_s]` on each half (in parallel), which gives
//!    `x_h = A_hh⁻¹ (b_h − A_hs x_s)`.
//!
//! Everything runs in a fixed order on each half (`Par::Seq` inside), so results do not depend
//! on the thread count. Matrices without grid coordinates, small ones, or ones whose split is
//! not clean (a link across the separator) are factored whole by [`DirectCholesky`].

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt;
use faer::linalg::matmul::matmul;
use faer::sparse::linalg::cholesky::SymbolicCholeskyRaw;
use faer::{Accum, Mat, MatRef, Par};
use rayon::prelude::*;

use crate::solver::{
    nested_dissection, split_line, CholeskyFactor, DirectCholesky, Factorization, LinearSolver,
    MatrixHints, SolveStats, SpdMatrix,
};
use crate::CircuitError;

/// Sparse Cholesky with the two halves of the top separator factored in parallel; the direct
/// solver chosen by [`crate::solver::make_solver`].
///
/// ```
/// use kulan_circuit::solver::{LinearSolver, MatrixHints, SpdMatrix};
/// use kulan_circuit::splitchol::SplitCholesky;
/// // A 3×3 grid Laplacian (4 neighbours, unit links) with cell 0 grounded through 1 S.
/// let (rows, cols) = (3usize, 3usize);
/// let coords: Vec<(u32, u32)> = (0..9).map(|i| ((i / cols) as u32, (i % cols) as u32)).collect();
/// let (mut ptr, mut idx, mut val) = (vec![0], vec![], vec![]);
/// for i in 0..rows * cols {
///     let (r, c) = (i / cols, i % cols);
///     let mut nb = vec![];
///     if r > 0 { nb.push(i - cols) }
///     if c > 0 { nb.push(i - 1) }
///     if c + 1 < cols { nb.push(i + 1) }
///     if r + 1 < rows { nb.push(i + cols) }
///     let diag = nb.len() as f64 + if i == 0 { 1.0 } else { 0.0 };
///     let mut row: Vec<(usize, f64)> = nb.iter().map(|&j| (j, -1.0)).collect();
///     row.push((i, diag));
///     row.sort_by_key(|e| e.0);
///     for (j, v) in row { idx.push(j); val.push(v); }
///     ptr.push(idx.len());
/// }
/// let a = SpdMatrix { n: 9, ptr, idx, val };
/// let f = SplitCholesky { min_nodes: 0 }.factor(a, MatrixHints { grid_coords: Some(&coords) }).unwrap();
/// // 1 A into cell 8 returns through the ground at cell 0: cell 0 sits at 1 V.
/// let mut b = vec![0.0; 9];
/// b[8] = 1.0;
/// f.solve_in_place(&mut b).unwrap();
/// assert!((b[0] - 1.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SplitCholesky {
    /// Matrices with fewer unknowns are factored whole (the split does not pay off).
    pub min_nodes: usize,
}

impl Default for SplitCholesky {
    fn default() -> Self {
        SplitCholesky { min_nodes: 20_000 }
    }
}

/// One half with the separator: its factor, the map from its rows to the whole matrix, and the
/// separator block `L_ss` of the factor (dense, lower triangle, separator order), for which
/// `L_ss L_ssᵀ = S_h = Ass − As_h A_hh⁻¹ A_hs`.
struct Half {
    factor: CholeskyFactor,
    /// Rows of the whole matrix that form the half (the separator follows them in the factor).
    rows: Vec<usize>,
    l_ss: Mat<f64>,
}

struct SplitFactor {
    n: usize,
    halves: [Half; 2],
    /// Rows of the whole matrix on the separator.
    sep: Vec<usize>,
    /// Cholesky factor of `S = S1 + S2 − Ass` (lower triangle).
    schur_factor: Mat<f64>,
}

impl LinearSolver for SplitCholesky {
    fn name(&self) -> &'static str {
        "direct (sparse Cholesky)"
    }

    fn factor(&self, a: SpdMatrix, hints: MatrixHints<'_>) -> Result<Box<dyn Factorization>, CircuitError> {
        let n = a.n;
        let Some(coords) = hints.grid_coords.filter(|c| c.len() == n && n >= self.min_nodes) else {
            return DirectCholesky.factor(a, hints);
        };
        let mut ids: Vec<usize> = (0..n).collect();
        let Some((mut lo, mut hi, mut sep)) = split_line(coords, &mut ids) else {
            return DirectCholesky.factor(a, hints);
        };
        drop(ids);
        if lo.is_empty() || hi.is_empty() || sep.is_empty() {
            return DirectCholesky.factor(a, hints);
        }
        // Which part each row is in: 0 and 1 the halves, 2 the separator.
        let mut part = vec![2u8; n];
        lo.iter().for_each(|&i| part[i] = 0);
        hi.iter().for_each(|&i| part[i] = 1);
        let crosses = (0..n).any(|i| (a.ptr[i]..a.ptr[i + 1]).any(|p| part[i] + part[a.idx[p]] == 1));
        if crosses {
            return DirectCholesky.factor(a, hints);
        }
        lo.sort_unstable();
        hi.sort_unstable();
        sep.sort_unstable();
        let ns = sep.len();
        let mut local = vec![usize::MAX; n];
        sep.iter().enumerate().for_each(|(k, &i)| local[i] = k);
        // Ass, kept aside so that the whole matrix can be freed before the factorizations.
        let a_ss: Vec<(usize, usize, f64)> = sep
            .iter()
            .enumerate()
            .flat_map(|(k, &i)| (a.ptr[i]..a.ptr[i + 1]).map(|p| (k, local[a.idx[p]], a.val[p])).filter(|e| e.1 != usize::MAX).collect::<Vec<_>>())
            .collect();
        drop(local);
        let (c1, c2) = rayon::join(|| half_lower_csc(&a, &lo, &sep), || half_lower_csc(&a, &hi, &sep));
        drop(a);
        let (h1, h2) = rayon::join(|| factor_half(c1, coords, lo, ns), || factor_half(c2, coords, hi, ns));
        let ((h1, s1), (h2, s2)) = (h1?, h2?);
        let halves = [h1, h2];
        // S = S1 + S2 − Ass.
        let mut s = s1 + s2;
        for (k, l, v) in a_ss {
            s[(k, l)] -= v;
        }
        let mut buf = MemBuffer::try_new(llt::factor::cholesky_in_place_scratch::<f64>(ns, Par::Seq, Default::default()))
            .map_err(|_| CircuitError::OutOfMemory("separator Cholesky workspace".into()))?;
        llt::factor::cholesky_in_place(s.as_mut(), Default::default(), Par::Seq, MemStack::new(&mut buf), Default::default())
            .map_err(|e| {
                CircuitError::Numerical(format!(
                    "Cholesky factorization of the separator failed ({e:?}): the conductances span too wide \
                     a range for double precision, or the system is singular"
                ))
            })?;
        Ok(Box::new(SplitFactor { n, halves, sep, schur_factor: s }))
    }
}

/// The principal submatrix of `a` on `rows` followed by `sep` (both sorted): its lower triangle
/// (diagonal included) in CSC form with sorted rows, read straight from `a`'s rows (the matrix
/// is symmetric).
fn half_lower_csc(a: &SpdMatrix, rows: &[usize], sep: &[usize]) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
    let m = rows.len() + sep.len();
    let mut local = vec![usize::MAX; a.n];
    rows.iter().chain(sep).enumerate().for_each(|(k, &i)| local[i] = k);
    let mut col_ptr = Vec::with_capacity(m + 1);
    col_ptr.push(0);
    let (mut row_idx, mut vals) = (Vec::with_capacity(a.idx.len() / 4 + m), Vec::with_capacity(a.idx.len() / 4 + m));
    let mut col: Vec<(usize, f64)> = Vec::new();
    for (j, &i) in rows.iter().chain(sep).enumerate() {
        col.clear();
        col.extend((a.ptr[i]..a.ptr[i + 1]).filter_map(|p| {
            let l = local[a.idx[p]];
            (l != usize::MAX && l >= j).then_some((l, a.val[p]))
        }));
        col.sort_unstable_by_key(|e| e.0);
        row_idx.extend(col.iter().map(|e| e.0));
        vals.extend(col.iter().map(|e| e.1));
        col_ptr.push(row_idx.len());
    }
    (col_ptr, row_idx, vals)
}

/// Factors a half with the separator (`lower`: from [`half_lower_csc`]), ordered by nested
/// dissection on the half and the `ns` separator rows last; returns the half and its `S_h`.
fn factor_half(
    lower: (Vec<usize>, Vec<usize>, Vec<f64>),
    coords: &[(u32, u32)],
    rows: Vec<usize>,
    ns: usize,
) -> Result<(Half, Mat<f64>), CircuitError> {
    let nh = rows.len();
    let m = nh + ns;
    let (col_ptr, row_idx, vals) = lower;
    let half_coords: Vec<(u32, u32)> = rows.iter().map(|&i| coords[i]).collect();
    let (mut fwd, _) = nested_dissection(&half_coords);
    drop(half_coords);
    fwd.extend(nh..m);
    let mut inv = vec![0usize; m];
    fwd.iter().enumerate().for_each(|(new, &old)| inv[old] = new);
    let factor = CholeskyFactor::new(m, &col_ptr, &row_idx, &vals, Some(&(fwd, inv)), true)?;
    drop((col_ptr, row_idx, vals));
    // The solves read the separator's rows at the end of the factor's order.
    let keeps_separator_last = factor.symbolic().perm().map_or(true, |p| p.arrays().0[nh..].iter().copied().eq(nh..m));
    if !keeps_separator_last {
        return Err(CircuitError::Numerical("the split Cholesky lost the separator's place in the ordering".into()));
    }
    let l_ss = separator_block(&factor, nh, ns)?;
    let mut schur = Mat::<f64>::zeros(ns, ns);
    matmul(schur.as_mut(), Accum::Replace, l_ss.as_ref(), l_ss.transpose(), 1.0, Par::Seq);
    Ok((Half { factor, rows, l_ss }, schur))
}

/// The last `ns` rows and columns of the factor's L (dense, lower triangle; the ordering puts
/// the separator there).
fn separator_block(f: &CholeskyFactor, nh: usize, ns: usize) -> Result<Mat<f64>, CircuitError> {
    let SymbolicCholeskyRaw::Supernodal(sym) = f.symbolic().raw() else {
        return Err(CircuitError::Numerical("the split Cholesky needs a supernodal factor".into()));
    };
    let llt = faer::sparse::linalg::cholesky::supernodal::SupernodalLltRef::<'_, usize, f64>::new(sym, f.values());
    let mut l = Mat::<f64>::zeros(ns, ns);
    let begin = sym.supernode_begin();
    let end = sym.supernode_end();
    for s in 0..sym.n_supernodes() {
        let (s0, s1) = (begin[s], end[s]);
        if s1 <= nh {
            continue;
        }
        let node = llt.supernode(s);
        let v = node.val();
        let pattern = node.pattern();
        for c in s0.max(nh)..s1 {
            let jc = c - s0;
            for r in c..s1 {
                l[(r - nh, c - nh)] = v[(r - s0, jc)];
            }
            for (q, &r) in pattern.iter().enumerate() {
                l[(r - nh, c - nh)] = v[(s1 - s0 + q, jc)];
            }
        }
    }
    Ok(l)
}

impl SplitFactor {
    /// Forward substitution on one half: `L y = [b_h; 0]` in the factor's order (`nh + ns` rows,
    /// `k` columns, column-major). The half's rows hold `z_h = L_hh⁻¹ b_h`; the separator's rows
    /// `y_s = −L_ss⁻¹ L_sh z_h`.
    fn forward(&self, h: usize, b: &[f64], k: usize) -> Result<Vec<f64>, CircuitError> {
        let half = &self.halves[h];
        let (nh, m) = (half.rows.len(), half.rows.len() + self.sep.len());
        let fwd = half.factor.symbolic().perm().map(|p| p.arrays().0);
        let mut x = vec![0.0; m * k];
        for c in 0..k {
            let (col, bc) = (&mut x[c * m..c * m + nh], &b[c * self.n..(c + 1) * self.n]);
            for (p, o) in col.iter_mut().enumerate() {
                *o = bc[half.rows[fwd.map_or(p, |f| f[p])]];
            }
        }
        half.factor.l_solve(&mut x, k, false)?;
        Ok(x)
    }

    /// Back substitution on one half once the separator's potentials `x_s` are known: with the
    /// separator's rows of `y` set to `L_ssᵀ x_s`, `Lᵀ x = y` gives the half's potentials (in the
    /// factor's order, as `y`).
    fn backward(&self, h: usize, mut y: Vec<f64>, xs: MatRef<'_, f64>) -> Result<Vec<f64>, CircuitError> {
        let half = &self.halves[h];
        let (nh, ns) = (half.rows.len(), self.sep.len());
        let (m, k) = (nh + ns, xs.ncols());
        let mut top = Mat::<f64>::zeros(ns, k);
        matmul(top.as_mut(), Accum::Replace, half.l_ss.transpose(), xs, 1.0, Par::Seq);
        for c in 0..k {
            for q in 0..ns {
                y[c * m + nh + q] = top[(q, c)];
            }
        }
        half.factor.l_solve(&mut y, k, true)?;
        Ok(y)
    }
}

impl Factorization for SplitFactor {
    fn n(&self) -> usize {
        self.n
    }

    fn solve_in_place(&self, rhs: &mut [f64]) -> Result<SolveStats, CircuitError> {
        self.solve_many_in_place(rhs, 1)?;
        Ok(SolveStats { iterations: 1, relative_residual: 0.0 })
    }

    /// One forward and one back substitution per half (the halves in parallel), joined by a
    /// dense solve on the separator: with `L_sh z_h = −L_ss y_s` from the forward pass,
    /// `S x_s = b_s − Σ_h L_sh z_h = b_s + Σ_h L_ss y_s`.
    fn solve_many_in_place(&self, rhs: &mut [f64], k: usize) -> Result<Vec<SolveStats>, CircuitError> {
        let (n, ns) = (self.n, self.sep.len());
        assert_eq!(rhs.len(), n * k, "right-hand sides must hold n × ncols values");
        if k == 0 {
            return Ok(Vec::new());
        }
        let b: &[f64] = rhs;
        let (y1, y2) = rayon::join(|| self.forward(0, b, k), || self.forward(1, b, k));
        let (y1, y2) = (y1?, y2?);
        let mut xs = Mat::<f64>::from_fn(ns, k, |q, c| b[c * n + self.sep[q]]);
        for (h, y) in [(0, &y1), (1, &y2)] {
            let m = self.halves[h].rows.len() + ns;
            let nh = m - ns;
            let ys = MatRef::from_column_major_slice_with_stride(&y[nh..], ns, k, m);
            matmul(xs.as_mut(), Accum::Add, self.halves[h].l_ss.as_ref(), ys, 1.0, Par::Seq);
        }
        llt::solve::solve_in_place(self.schur_factor.as_ref(), xs.as_mut(), Par::Seq, MemStack::new(&mut []));
        let (x1, x2) = rayon::join(|| self.backward(0, y1, xs.as_ref()), || self.backward(1, y2, xs.as_ref()));
        let xh = [x1?, x2?];
        // Back to the whole matrix's order, one right-hand side per task.
        rhs.par_chunks_mut(n).enumerate().for_each(|(c, out)| {
            for (half, x) in self.halves.iter().zip(&xh) {
                let (nh, fwd) = (half.rows.len(), half.factor.symbolic().perm().map(|p| p.arrays().0));
                let m = nh + ns;
                for (p, v) in x[c * m..c * m + nh].iter().enumerate() {
                    out[half.rows[fwd.map_or(p, |f| f[p])]] = *v;
                }
            }
            for (q, &i) in self.sep.iter().enumerate() {
                out[i] = xs[(q, c)];
            }
        });
        Ok(vec![SolveStats { iterations: 1, relative_residual: 0.0 }; k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grid Laplacian with varied conductances, 4 or 8 neighbours, some cells missing, and a
    /// few cells grounded; returns the matrix and each unknown's (row, col).
    fn grid_system(rows: usize, cols: usize, eight: bool) -> (SpdMatrix, Vec<(u32, u32)>) {
        let cell_ok = |r: usize, c: usize| (r * 7 + c * 3) % 23 != 0;
        let mut id = vec![usize::MAX; rows * cols];
        let mut coords = Vec::new();
        for r in 0..rows {
            for c in 0..cols {
                if cell_ok(r, c) {
                    id[r * cols + c] = coords.len();
                    coords.push((r as u32, c as u32));
                }
            }
        }
        let g = |a: usize, b: usize| 0.1 + ((a * 31 + b * 17) % 13) as f64;
        let (mut ptr, mut idx, mut val) = (vec![0], vec![], vec![]);
        for (k, &(r, c)) in coords.iter().enumerate() {
            let (r, c) = (r as isize, c as isize);
            let mut row = Vec::new();
            let mut diag = if k % 997 == 5 { 0.5 } else { 0.0 };
            for dr in -1isize..=1 {
                for dc in -1isize..=1 {
                    let diagonal = dr != 0 && dc != 0;
                    if (dr == 0 && dc == 0) || (diagonal && !eight) {
                        continue;
                    }
                    let (rr, cc) = (r + dr, c + dc);
                    if rr < 0 || cc < 0 || rr >= rows as isize || cc >= cols as isize {
                        continue;
                    }
                    let j = id[rr as usize * cols + cc as usize];
                    if j == usize::MAX {
                        continue;
                    }
                    let w = g(k.min(j), k.max(j)) / if diagonal { 2f64.sqrt() } else { 1.0 };
                    diag += w;
                    row.push((j, -w));
                }
            }
            row.push((k, diag));
            row.sort_by_key(|e| e.0);
            idx.extend(row.iter().map(|e| e.0));
            val.extend(row.iter().map(|e| e.1));
            ptr.push(idx.len());
        }
        (SpdMatrix { n: coords.len(), ptr, idx, val }, coords)
    }

    fn rhs(n: usize, k: usize) -> Vec<f64> {
        (0..n * k).map(|i| if i % 211 == 7 { 1.0 + (i % 5) as f64 } else { 0.0 }).collect()
    }

    #[test]
    fn agrees_with_the_whole_factorization() {
        for eight in [false, true] {
            let (a, coords) = grid_system(70, 90, eight);
            let hints = MatrixHints { grid_coords: Some(&coords) };
            let whole = DirectCholesky.factor(a.clone(), hints).unwrap();
            let split = SplitCholesky { min_nodes: 0 }.factor(a.clone(), hints).unwrap();
            let k = 3;
            let (mut x, mut y) = (rhs(a.n, k), rhs(a.n, k));
            whole.solve_many_in_place(&mut x, k).unwrap();
            split.solve_many_in_place(&mut y, k).unwrap();
            let scale = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (p, q) in x.iter().zip(&y) {
                assert!((p - q).abs() <= 1e-10 * scale, "eight {eight}: {p} vs {q}");
            }
            // And the residual of the split solve is at rounding level.
            let mut ax = vec![0.0; a.n];
            a.mul(&y[..a.n], &mut ax);
            let b = rhs(a.n, 1);
            let err = ax.iter().zip(&b).fold(0.0f64, |m, (p, q)| m.max((p - q).abs()));
            assert!(err < 1e-9, "residual {err}");
        }
    }

    #[test]
    fn same_bits_on_one_and_two_threads() {
        let (a, coords) = grid_system(60, 50, true);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let f = SplitCholesky { min_nodes: 0 }.factor(a.clone(), MatrixHints { grid_coords: Some(&coords) }).unwrap();
                let mut x = rhs(a.n, 4);
                f.solve_many_in_place(&mut x, 4).unwrap();
                x
            })
        };
        assert_eq!(run(1), run(2));
    }

    /// A link across the separator (not a grid neighbourhood) makes the solver factor the
    /// matrix whole; the answer is still right.
    #[test]
    fn falls_back_when_a_link_crosses_the_separator() {
        // Chain 0-1-2-3-4 on one row, plus a link 0-4; node 0 grounded.
        let n = 5;
        let links = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 4)];
        let mut dense = vec![vec![0.0; n]; n];
        for &(i, j) in &links {
            dense[i][j] -= 1.0;
            dense[j][i] -= 1.0;
            dense[i][i] += 1.0;
            dense[j][j] += 1.0;
        }
        dense[0][0] += 1.0;
        let (mut ptr, mut idx, mut val) = (vec![0], vec![], vec![]);
        for row in &dense {
            for (j, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    idx.push(j);
                    val.push(v);
                }
            }
            ptr.push(idx.len());
        }
        let a = SpdMatrix { n, ptr, idx, val };
        let coords: Vec<(u32, u32)> = (0..n as u32).map(|c| (0, c)).collect();
        let f = SplitCholesky { min_nodes: 0 }.factor(a, MatrixHints { grid_coords: Some(&coords) }).unwrap();
        let mut b = vec![0.0, 0.0, 1.0, 0.0, 0.0];
        f.solve_in_place(&mut b).unwrap();
        // 1 A from node 2 to ground at node 0: two paths of 2 and 3 Ω in parallel (1.2 Ω), plus 1 Ω.
        assert!((b[2] - 2.2).abs() < 1e-12, "{b:?}");
    }
}
