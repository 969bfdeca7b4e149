//! Linear solvers for the symmetric positive definite systems of circuit theory.
//!
//! A [`LinearSolver`] factors (or sets up a preconditioner for) a matrix once; the returned
//! [`Factorization`] then solves any number of right-hand sides, from several threads at once.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::sparse::linalg::cholesky::{
    factorize_symbolic_cholesky, supernodal::SupernodalLltRef, SymbolicCholeskyRaw, CholeskySymbolicParams, LltRef, SymbolicCholesky, SymmetricOrdering,
};
use faer::sparse::linalg::SupernodalThreshold;
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par, Side};

use crate::CircuitError;

/// A symmetric matrix in CSR form with both triangles and the diagonal (row `i` equals column `i`).
#[derive(Debug, Clone, Default)]
pub struct SpdMatrix {
    pub n: usize,
    pub ptr: Vec<usize>,
    pub idx: Vec<usize>,
    pub val: Vec<f64>,
}

impl SpdMatrix {
    /// y = A x
    pub fn mul(&self, x: &[f64], y: &mut [f64]) {
        for i in 0..self.n {
            let mut s = 0.0;
            for p in self.ptr[i]..self.ptr[i + 1] {
                s += self.val[p] * x[self.idx[p]];
            }
            y[i] = s;
        }
    }

    /// The diagonal.
    pub fn diagonal(&self) -> Vec<f64> {
        (0..self.n)
            .map(|i| (self.ptr[i]..self.ptr[i + 1]).find(|&p| self.idx[p] == i).map_or(0.0, |p| self.val[p]))
            .collect()
    }
}

/// Statistics of one solve.
#[derive(Debug, Clone, Copy, Default)]
pub struct SolveStats {
    pub iterations: usize,
    pub relative_residual: f64,
}

/// A factored matrix (or a preconditioned iterative solver set up for it).
pub trait Factorization: Send + Sync {
    /// Dimension.
    fn n(&self) -> usize;
    /// Overwrites `rhs` with the solution of `A x = rhs`.
    fn solve_in_place(&self, rhs: &mut [f64]) -> Result<SolveStats, CircuitError>;

    /// Solves `ncols` right-hand sides stored one after another (column-major, `n` values each),
    /// in place. Columns are solved independently of each other and of the thread count, so the
    /// results are the same as `ncols` calls of [`Factorization::solve_in_place`] would give on
    /// any number of threads.
    fn solve_many_in_place(&self, rhs: &mut [f64], ncols: usize) -> Result<Vec<SolveStats>, CircuitError> {
        use rayon::prelude::*;
        let n = self.n();
        assert_eq!(rhs.len(), n * ncols, "right-hand sides must hold n × ncols values");
        if n == 0 {
            return Ok(vec![SolveStats::default(); ncols]);
        }
        rhs.par_chunks_mut(n).map(|col| self.solve_in_place(col)).collect()
    }
}

/// Optional hints that help a solver: node positions on a grid (for orderings and multigrid).
#[derive(Debug, Clone, Copy, Default)]
pub struct MatrixHints<'a> {
    /// `(row, col)` of each unknown, when the matrix comes from a raster.
    pub grid_coords: Option<&'a [(u32, u32)]>,
}

/// Something that prepares a matrix for repeated solves.
pub trait LinearSolver: Send + Sync {
    fn name(&self) -> &'static str;
    fn factor(&self, a: SpdMatrix, hints: MatrixHints<'_>) -> Result<Box<dyn Factorization>, CircuitError>;
}

/// Which solver to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SolverKind {
    /// Direct when its estimated memory fits, iterative otherwise.
    #[default]
    Auto,
    Direct,
    Iterative,
}

impl SolverKind {
    pub fn parse(s: &str) -> Option<SolverKind> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Some(SolverKind::Auto),
            "direct" | "cholmod" | "cholesky" => Some(SolverKind::Direct),
            "iterative" | "cg+amg" | "amg" | "cg" | "mg" => Some(SolverKind::Iterative),
            _ => None,
        }
    }
}

/// Available memory in bytes (Linux `MemAvailable`), if known.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Estimated peak bytes of a direct factorization of a grid-like matrix with `n` unknowns and
/// `nnz` stored entries (fill ~ n·log n with nested dissection; fitted to 0.9 GB at 10⁶ and
/// 15.8 GB at 1.6·10⁷ unknowns on 4-neighbour grids).
pub fn direct_memory_estimate(n: usize, nnz: usize) -> u64 {
    let nf = n.max(2) as f64;
    let density = (nnz as f64 / nf / 5.0).max(1.0);
    (45.0 * nf * nf.log2() * density + 40.0 * nnz as f64) as u64
}

/// Resolves `Auto`: direct when `concurrent` factorizations fit in 70 % of available memory.
pub fn choose(kind: SolverKind, n: usize, nnz: usize, concurrent: usize) -> SolverKind {
    match kind {
        SolverKind::Auto => {
            let avail = available_memory().unwrap_or(8 << 30) as f64 * 0.7;
            if (direct_memory_estimate(n, nnz) as f64) * concurrent.max(1) as f64 <= avail {
                SolverKind::Direct
            } else {
                SolverKind::Iterative
            }
        }
        k => k,
    }
}

/// A boxed solver of the given (resolved) kind; `tol` is the iterative solver's relative residual.
/// The direct solver factors the two halves of a grid's top separator on two cores
/// ([`crate::splitchol::SplitCholesky`]).
pub fn make_solver(kind: SolverKind, tol: f64) -> Box<dyn LinearSolver> {
    match kind {
        SolverKind::Iterative => Box::new(crate::amg::MultigridCg { tol, max_iter: 10_000 }),
        _ => Box::new(crate::splitchol::SplitCholesky::default()),
    }
}

/// Sparse Cholesky (faer, supernodal), with a nested-dissection ordering when grid coordinates
/// are known and AMD otherwise. Sequential inside: callers parallelize across right-hand sides.
#[derive(Debug, Clone, Copy, Default)]
pub struct DirectCholesky;

/// A sparse Cholesky factor with its ordering (faer's symbolic structure and numeric values).
pub(crate) struct CholeskyFactor {
    n: usize,
    symbolic: SymbolicCholesky<usize>,
    values: Vec<f64>,
}

impl CholeskyFactor {
    /// Factors the matrix whose lower triangle (diagonal included) is given in CSC form, with
    /// row indices sorted in each column, in the given ordering (`(forward, inverse)`,
    /// `forward[new] = old`) or AMD. `supernodal` forces faer's supernodal structure (faer
    /// picks simplicial or supernodal by itself otherwise). Sequential.
    pub(crate) fn new(
        n: usize,
        col_ptr: &[usize],
        row_idx: &[usize],
        vals: &[f64],
        ordering: Option<&(Vec<usize>, Vec<usize>)>,
        supernodal: bool,
    ) -> Result<CholeskyFactor, CircuitError> {
        let sym = SymbolicSparseColMatRef::new_checked(n, n, col_ptr, None, row_idx);
        let mut params = CholeskySymbolicParams::default();
        if supernodal {
            params.supernodal_flop_ratio_threshold = SupernodalThreshold::FORCE_SUPERNODAL;
        }
        let symbolic = match ordering {
            Some((fwd, inv)) => {
                let p = faer::perm::PermRef::<'_, usize>::new_checked(fwd, inv, n);
                factorize_symbolic_cholesky(sym, Side::Lower, SymmetricOrdering::Custom(p), params)
            }
            None => factorize_symbolic_cholesky(sym, Side::Lower, SymmetricOrdering::Amd, params),
        }
        .map_err(|e| CircuitError::OutOfMemory(format!("symbolic Cholesky: {e:?}")))?;
        let mut values = zeroed_values(symbolic.len_val())
            .ok_or_else(|| CircuitError::OutOfMemory(format!("Cholesky factor of {} values", symbolic.len_val())))?;
        let matref = SparseColMatRef::new(sym, vals);
        // Sequential: faer's threads inside the supernodes were no faster on these matrices
        // (measured again with the multi-RHS solves); parallelism comes from the solves and
        // from factoring independent halves ([`crate::splitchol`]).
        let par = Par::Seq;
        let mut buf = MemBuffer::try_new(symbolic.factorize_numeric_llt_scratch::<f64>(par, Default::default()))
            .map_err(|_| CircuitError::OutOfMemory("Cholesky workspace".into()))?;
        symbolic
            .factorize_numeric_llt::<f64>(
                &mut values,
                matref,
                Side::Lower,
                Default::default(),
                par,
                MemStack::new(&mut buf),
                Default::default(),
            )
            .map_err(|e| {
                CircuitError::Numerical(format!(
                    "Cholesky factorization failed ({e:?}): the conductances span too wide a range for \
                     double precision, or the system is singular"
                ))
            })?;
        Ok(CholeskyFactor { n, symbolic, values })
    }

    pub(crate) fn symbolic(&self) -> &SymbolicCholesky<usize> {
        &self.symbolic
    }

    pub(crate) fn values(&self) -> &[f64] {
        &self.values
    }

    /// Solves the `k` columns of `block` (column-major, `n` rows) in one sequential blocked solve.
    pub(crate) fn solve_block(&self, block: &mut [f64], k: usize) -> Result<(), CircuitError> {
        let llt = LltRef::<'_, usize, f64>::new(&self.symbolic, &self.values);
        let mut buf = MemBuffer::try_new(self.symbolic.solve_in_place_scratch::<f64>(k, Par::Seq))
            .map_err(|_| CircuitError::OutOfMemory("Cholesky solve workspace".into()))?;
        let mat = MatMut::from_column_major_slice_mut(block, self.n, k);
        llt.solve_in_place_with_conj(Conj::No, mat, Par::Seq, MemStack::new(&mut buf));
        Ok(())
    }
}

/// `len` zeros, or `None` when the memory is not there. Zeroed memory comes from the system
/// untouched (the factorization writes every value), which spares a pass over the whole factor.
fn zeroed_values(len: usize) -> Option<Vec<f64>> {
    if len == 0 {
        return Some(Vec::new());
    }
    let layout = std::alloc::Layout::array::<f64>(len).ok()?;
    // SAFETY: `layout` has a non-zero size; a non-null pointer from `alloc_zeroed` holds `len`
    // f64 zeros (all bits zero) allocated by the global allocator with `Vec<f64>`'s layout.
    unsafe {
        let ptr = std::alloc::alloc_zeroed(layout) as *mut f64;
        (!ptr.is_null()).then(|| Vec::from_raw_parts(ptr, len, len))
    }
}

impl CholeskyFactor {
    /// Forward substitution `L y = b` alone, or back substitution `Lᵀ x = y` (`transpose`), on
    /// `k` columns (column-major) already in the factor's order. Needs a supernodal factor.
    pub(crate) fn l_solve(&self, block: &mut [f64], k: usize, transpose: bool) -> Result<(), CircuitError> {
        let SymbolicCholeskyRaw::Supernodal(sym) = self.symbolic.raw() else {
            return Err(CircuitError::Numerical("a separate forward or back substitution needs a supernodal factor".into()));
        };
        let llt = SupernodalLltRef::<'_, usize, f64>::new(sym, &self.values);
        let mut buf = MemBuffer::try_new(self.symbolic.solve_in_place_scratch::<f64>(k, Par::Seq))
            .map_err(|_| CircuitError::OutOfMemory("Cholesky solve workspace".into()))?;
        let mat = MatMut::from_column_major_slice_mut(block, self.n, k);
        if transpose {
            llt.l_transpose_solve_with_conj(Conj::No, mat, Par::Seq, MemStack::new(&mut buf));
        } else {
            llt.l_solve_with_conj(Conj::No, mat, Par::Seq, MemStack::new(&mut buf));
        }
        Ok(())
    }
}

impl Factorization for CholeskyFactor {
    fn n(&self) -> usize {
        self.n
    }

    fn solve_in_place(&self, rhs: &mut [f64]) -> Result<SolveStats, CircuitError> {
        self.solve_block(rhs, 1)?;
        Ok(SolveStats { iterations: 1, relative_residual: 0.0 })
    }

    /// Blocked triangular solves: the factor is read once per block of columns rather than once
    /// per column. Blocks have a size set by `ncols` alone (not by the thread count), so the
    /// output does not depend on RAYON_NUM_THREADS.
    fn solve_many_in_place(&self, rhs: &mut [f64], ncols: usize) -> Result<Vec<SolveStats>, CircuitError> {
        use rayon::prelude::*;
        let n = self.n;
        assert_eq!(rhs.len(), n * ncols, "right-hand sides must hold n × ncols values");
        if ncols == 0 {
            return Ok(Vec::new());
        }
        let width = solve_block_width(ncols);
        rhs.par_chunks_mut(n * width).try_for_each(|block| self.solve_block(block, block.len() / n))?;
        Ok(vec![SolveStats { iterations: 1, relative_residual: 0.0 }; ncols])
    }
}

/// Columns per blocked solve: at least two blocks (two cores busy), at most 8 columns per block.
fn solve_block_width(ncols: usize) -> usize {
    let blocks = ncols.div_ceil(8).max(2).min(ncols);
    ncols.div_ceil(blocks)
}

/// The lower triangle (diagonal included) of a symmetric CSR matrix, in CSC form: column `j`
/// holds the entries of row `j` with index `>= j`, sorted as the rows are.
pub(crate) fn lower_csc(a: &SpdMatrix) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
    let n = a.n;
    let mut col_ptr = Vec::with_capacity(n + 1);
    col_ptr.push(0usize);
    let mut row_idx = Vec::with_capacity(a.idx.len() / 2 + n);
    let mut vals = Vec::with_capacity(a.idx.len() / 2 + n);
    for j in 0..n {
        for p in a.ptr[j]..a.ptr[j + 1] {
            if a.idx[p] >= j {
                row_idx.push(a.idx[p]);
                vals.push(a.val[p]);
            }
        }
        col_ptr.push(row_idx.len());
    }
    (col_ptr, row_idx, vals)
}

impl LinearSolver for DirectCholesky {
    fn name(&self) -> &'static str {
        "direct (sparse Cholesky)"
    }

    fn factor(&self, a: SpdMatrix, hints: MatrixHints<'_>) -> Result<Box<dyn Factorization>, CircuitError> {
        let n = a.n;
        if n == 0 {
            return Err(CircuitError::Input("empty system".into()));
        }
        let (col_ptr, row_idx, vals) = lower_csc(&a);
        drop(a);
        let perm = hints.grid_coords.filter(|c| c.len() == n && n > 64).map(nested_dissection);
        Ok(Box::new(CholeskyFactor::new(n, &col_ptr, &row_idx, &vals, perm.as_ref(), false)?))
    }
}

/// Geometric nested dissection on grid coordinates: split across the longer side of the bounding
/// box by one grid line (a separator for 4 and 8 neighbours), order both halves recursively, then
/// the separator. Returns (forward, inverse) with `forward[new] = old`.
pub fn nested_dissection(coords: &[(u32, u32)]) -> (Vec<usize>, Vec<usize>) {
    let n = coords.len();
    let mut order = Vec::with_capacity(n);
    let mut ids: Vec<usize> = (0..n).collect();
    nd_recurse(coords, &mut ids, &mut order);
    let mut inv = vec![0usize; n];
    for (new, &old) in order.iter().enumerate() {
        inv[old] = new;
    }
    (order, inv)
}

fn nd_recurse(coords: &[(u32, u32)], ids: &mut [usize], order: &mut Vec<usize>) {
    if ids.len() <= 96 {
        ids.sort_unstable_by_key(|&i| coords[i]);
        order.extend_from_slice(ids);
        return;
    }
    match split_line(coords, ids) {
        Some((mut lo, mut hi, sep)) => {
            nd_recurse(coords, &mut lo, order);
            nd_recurse(coords, &mut hi, order);
            order.extend_from_slice(&sep);
        }
        None => {
            ids.sort_unstable_by_key(|&i| coords[i]);
            order.extend_from_slice(ids);
        }
    }
}

/// One nested-dissection step: the grid line through the median across the longer side of the
/// bounding box of `ids` (reordered in place) separates the nodes before it (`lo`) from those
/// after it (`hi`); with 4 or 8 neighbours no link joins `lo` and `hi`. Returns `(lo, hi, sep)`,
/// `sep` sorted by coordinates, or `None` when the nodes do not span two grid lines.
pub(crate) fn split_line(coords: &[(u32, u32)], ids: &mut [usize]) -> Option<(Vec<usize>, Vec<usize>, Vec<usize>)> {
    if ids.is_empty() {
        return None;
    }
    let (mut r0, mut r1, mut c0, mut c1) = (u32::MAX, 0u32, u32::MAX, 0u32);
    for &i in ids.iter() {
        let (r, c) = coords[i];
        r0 = r0.min(r);
        r1 = r1.max(r);
        c0 = c0.min(c);
        c1 = c1.max(c);
    }
    if r1 == r0 && c1 == c0 {
        return None;
    }
    let by_row = (r1 - r0) >= (c1 - c0);
    let key = |i: usize| if by_row { coords[i].0 } else { coords[i].1 };
    let mid_pos = ids.len() / 2;
    ids.select_nth_unstable_by_key(mid_pos, |&i| key(i));
    let m = key(ids[mid_pos]);
    let (mut lo, mut hi, mut sep) = (Vec::new(), Vec::new(), Vec::new());
    for &i in ids.iter() {
        match key(i).cmp(&m) {
            std::cmp::Ordering::Less => lo.push(i),
            std::cmp::Ordering::Greater => hi.push(i),
            std::cmp::Ordering::Equal => sep.push(i),
        }
    }
    if lo.is_empty() && hi.is_empty() {
        return None;
    }
    sep.sort_unstable_by_key(|&i| coords[i]);
    Some((lo, hi, sep))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain_grounded(n: usize) -> SpdMatrix {
        let (mut ptr, mut idx, mut val) = (vec![0], vec![], vec![]);
        for i in 0..n {
            let mut row = vec![];
            let mut d = if i == 0 { 1.0 } else { 0.0 };
            if i > 0 {
                row.push((i - 1, -1.0));
                d += 1.0;
            }
            if i + 1 < n {
                row.push((i + 1, -1.0));
                d += 1.0;
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
    fn direct_solves_a_chain_with_both_orderings() {
        let a = chain_grounded(300);
        let coords: Vec<(u32, u32)> = (0..300).map(|i| (0, i as u32)).collect();
        for hints in [MatrixHints::default(), MatrixHints { grid_coords: Some(&coords) }] {
            let f = DirectCholesky.factor(a.clone(), hints).unwrap();
            let mut b = vec![0.0; 300];
            b[299] = 1.0;
            f.solve_in_place(&mut b).unwrap();
            assert!((b[299] - 300.0).abs() < 1e-9, "{}", b[299]);
        }
    }

    #[test]
    fn nested_dissection_is_a_permutation() {
        let coords: Vec<(u32, u32)> = (0..50 * 40).map(|i| ((i / 40) as u32, (i % 40) as u32)).collect();
        let (f, inv) = nested_dissection(&coords);
        let mut seen = vec![false; coords.len()];
        for &o in &f {
            assert!(!seen[o]);
            seen[o] = true;
        }
        for (k, &o) in f.iter().enumerate() {
            assert_eq!(inv[o], k);
        }
    }
}
