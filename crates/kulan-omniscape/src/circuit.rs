//! The circuit of one window: cells joined to their 4 or 8 neighbours with Circuitscape's
//! average-conductance links, the target held at 0 V, sources injected; solved with a sparse
//! Cholesky factorization whose symbolic analysis is shared by windows of the same shape.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::sparse::linalg::SupernodalThreshold;
use faer::sparse::linalg::cholesky::{factorize_symbolic_cholesky, CholeskySymbolicParams, LltRef, SymbolicCholesky, SymmetricOrdering};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par, Side};
use kulan_circuit::engine::node_currents;
use kulan_circuit::graph::{Connectivity, Graph, Scheme};
use kulan_circuit::solver::nested_dissection;

use crate::window::Window;
use crate::OmniscapeError;

const FORWARD4: &[(usize, isize, bool)] = &[(0, 1, false), (1, 0, false)];
const FORWARD8: &[(usize, isize, bool)] = &[(0, 1, false), (1, 0, false), (1, 1, true), (1, -1, true)];

/// A symbolic factorization and, for windows whose conductances are all alike (flow
/// potential), the numeric factor too.
struct CachedFactor {
    symbolic: SymbolicCholesky<usize>,
    uniform_values: Option<Vec<f64>>,
}

/// Per-thread cache of factorizations keyed by the window's node pattern.
#[derive(Default)]
struct FactorCache {
    entries: HashMap<Vec<u64>, Rc<RefCell<CachedFactor>>>,
}

const CACHE_LIMIT: usize = 64;

thread_local! {
    static CACHE: RefCell<FactorCache> = RefCell::new(FactorCache::default());
}

/// Node currents (Circuitscape's `max(inflow, outflow)`) of a window's circuit, per window cell;
/// `None` when the target's connected component holds no source (nothing flows).
///
/// `conductance` is per window cell (0: no node); `uniform` says every node's conductance is 1,
/// which lets windows of the same shape share the numeric factorization too.
pub fn window_currents(
    win: &Window,
    conductance: &[f64],
    sources: &[f64],
    connectivity: Connectivity,
    uniform: bool,
) -> Result<Option<Vec<f64>>, OmniscapeError> {
    let (rows, cols) = (win.rows, win.cols);
    let ground = win.target_row * cols + win.target_col;
    if !(conductance[ground] > 0.0) {
        return Ok(None);
    }
    let offs = if connectivity == Connectivity::Four { FORWARD4 } else { FORWARD8 };
    // The target's connected component, found by a flood fill over node cells.
    let mut in_comp = vec![false; rows * cols];
    let mut stack = vec![ground];
    in_comp[ground] = true;
    while let Some(c) = stack.pop() {
        let (i, j) = ((c / cols) as isize, (c % cols) as isize);
        for di in -1isize..=1 {
            for dj in -1isize..=1 {
                if (di == 0 && dj == 0) || (connectivity == Connectivity::Four && di != 0 && dj != 0) {
                    continue;
                }
                let (ni, nj) = (i + di, j + dj);
                if ni < 0 || nj < 0 || ni >= rows as isize || nj >= cols as isize {
                    continue;
                }
                let n = ni as usize * cols + nj as usize;
                if !in_comp[n] && conductance[n] > 0.0 {
                    in_comp[n] = true;
                    stack.push(n);
                }
            }
        }
    }
    // Nodes in row-major order, so that equal patterns give equal matrices.
    let mut node_of = vec![u32::MAX; rows * cols];
    let mut cells = Vec::new();
    let mut source_sum = 0.0;
    for c in 0..rows * cols {
        if in_comp[c] {
            node_of[c] = cells.len() as u32;
            cells.push(c);
            if c != ground {
                source_sum += sources[c];
            }
        }
    }
    if source_sum == 0.0 {
        return Ok(None);
    }
    let n = cells.len();
    let mut edges = Vec::with_capacity(n * offs.len());
    for (a, &c) in cells.iter().enumerate() {
        let (i, j) = (c / cols, c % cols);
        for &(di, dj, diag) in offs {
            let (ni, nj) = (i + di, j as isize + dj);
            if ni >= rows || nj < 0 || nj >= cols as isize {
                continue;
            }
            let m = ni * cols + nj as usize;
            if node_of[m] != u32::MAX {
                let g = Scheme::AverageConductance.link(conductance[c], conductance[m], diag);
                edges.push((a, node_of[m] as usize, g));
            }
        }
    }
    let graph = Graph::from_edges(n, &edges).map_err(|e| OmniscapeError::Numerical(e.to_string()))?;
    let g_node = node_of[ground] as usize;
    let mut voltages = vec![0.0; n];
    if n > 1 {
        let mut rhs: Vec<f64> = (0..n).filter(|&k| k != g_node).map(|k| sources[cells[k]]).collect();
        solve_grounded(&graph, g_node, win, &cells, &in_comp, uniform, &mut rhs)?;
        for (k, v) in (0..n).filter(|&k| k != g_node).zip(rhs) {
            voltages[k] = v;
        }
    }
    let ids: Vec<usize> = (0..n).collect();
    let cur = node_currents(&graph, &ids, &ids, &voltages, None);
    let mut out = vec![0.0; rows * cols];
    for (k, &c) in cells.iter().enumerate() {
        out[c] = cur[k];
    }
    Ok(Some(out))
}

/// Solves the Laplacian with node `g_node` removed (held at 0 V) for `rhs`, in place.
fn solve_grounded(
    graph: &Graph,
    g_node: usize,
    win: &Window,
    cells: &[usize],
    pattern: &[bool],
    uniform: bool,
    rhs: &mut [f64],
) -> Result<(), OmniscapeError> {
    let n = graph.n();
    let m = n - 1;
    let red = |k: usize| if k > g_node { k - 1 } else { k };
    // Lower triangle, column by column: diagonal first, then the larger neighbours.
    let mut col_ptr = Vec::with_capacity(m + 1);
    let mut row_idx = Vec::with_capacity(graph.n_edges() + m);
    let mut vals = Vec::with_capacity(graph.n_edges() + m);
    col_ptr.push(0usize);
    for k in 0..n {
        if k == g_node {
            continue;
        }
        row_idx.push(red(k));
        vals.push(graph.degree(k));
        for (j, g) in graph.neighbours(k) {
            if j > k && j != g_node {
                row_idx.push(red(j));
                vals.push(-g);
            }
        }
        col_ptr.push(row_idx.len());
    }
    let sym = SymbolicSparseColMatRef::new_checked(m, m, &col_ptr, None, &row_idx);
    let key = pattern_key(win, pattern, graph.n_edges());
    let entry = CACHE.with(|cache| -> Result<Rc<RefCell<CachedFactor>>, OmniscapeError> {
        let mut cache = cache.borrow_mut();
        if let Some(e) = cache.entries.get(&key) {
            return Ok(e.clone());
        }
        let coords: Vec<(u32, u32)> = (0..n)
            .filter(|&k| k != g_node)
            .map(|k| ((cells[k] / win.cols) as u32, (cells[k] % win.cols) as u32))
            .collect();
        let symbolic = if m > 64 {
            let (fwd, inv) = nested_dissection(&coords);
            let p = faer::perm::PermRef::<'_, usize>::new_checked(&fwd, &inv, m);
            factorize_symbolic_cholesky(sym, Side::Lower, SymmetricOrdering::Custom(p), symbolic_params())
        } else {
            factorize_symbolic_cholesky(sym, Side::Lower, SymmetricOrdering::Amd, symbolic_params())
        }
        .map_err(|e| OmniscapeError::Numerical(format!("symbolic Cholesky: {e:?}")))?;
        if cache.entries.len() >= CACHE_LIMIT {
            cache.entries.clear();
        }
        let e = Rc::new(RefCell::new(CachedFactor { symbolic, uniform_values: None }));
        cache.entries.insert(key, e.clone());
        Ok(e)
    })?;
    let mut entry = entry.borrow_mut();
    let cached = if uniform { entry.uniform_values.take() } else { None };
    let values = match cached {
        Some(v) => v,
        None => {
            let symbolic = &entry.symbolic;
            let mut values = vec![0.0; symbolic.len_val()];
            let mut buf = MemBuffer::try_new(symbolic.factorize_numeric_llt_scratch::<f64>(Par::Seq, Default::default()))
                .map_err(|_| OmniscapeError::Numerical("out of memory for a window factorization".into()))?;
            symbolic
                .factorize_numeric_llt::<f64>(
                    &mut values,
                    SparseColMatRef::new(sym, &vals),
                    Side::Lower,
                    Default::default(),
                    Par::Seq,
                    MemStack::new(&mut buf),
                    Default::default(),
                )
                .map_err(|e| {
                    OmniscapeError::Numerical(format!(
                        "window Cholesky failed ({e:?}): conductances span too wide a range for double precision"
                    ))
                })?;
            values
        }
    };
    {
        let symbolic = &entry.symbolic;
        let llt = LltRef::<'_, usize, f64>::new(symbolic, &values);
        let mut buf = MemBuffer::try_new(symbolic.solve_in_place_scratch::<f64>(1, Par::Seq))
            .map_err(|_| OmniscapeError::Numerical("out of memory for a window solve".into()))?;
        llt.solve_in_place_with_conj(Conj::No, MatMut::from_column_major_slice_mut(rhs, m, 1), Par::Seq, MemStack::new(&mut buf));
    }
    if uniform {
        entry.uniform_values = Some(values);
    }
    Ok(())
}

/// Supernodal factorization: for windows of a few thousand cells it is about a quarter faster
/// than the simplicial one faer would pick.
fn symbolic_params() -> CholeskySymbolicParams<'static> {
    CholeskySymbolicParams { supernodal_flop_ratio_threshold: SupernodalThreshold::FORCE_SUPERNODAL, ..Default::default() }
}

/// The window's shape, target position and node pattern, packed.
/// The edge count tells 4- from 8-neighbour graphs of the same cells.
fn pattern_key(win: &Window, pattern: &[bool], n_edges: usize) -> Vec<u64> {
    let mut key = vec![win.rows as u64, win.cols as u64, win.target_row as u64, win.target_col as u64, n_edges as u64];
    for chunk in pattern.chunks(64) {
        key.push(chunk.iter().enumerate().fold(0u64, |acc, (b, &on)| acc | ((on as u64) << b)));
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::Dims;

    #[test]
    fn a_chain_carries_the_injected_current() {
        // 1×5 window, target at the left end, 1 A injected at the right end.
        let win = Window::around(0, 0, 4, Dims { rows: 1, cols: 5 });
        let mut s = vec![0.0; 5];
        s[4] = 1.0;
        let cur = window_currents(&win, &[1.0; 5], &s, Connectivity::Four, false).unwrap().unwrap();
        for c in cur {
            assert!((c - 1.0).abs() < 1e-12, "{c}");
        }
        // No source in the target's component: nothing flows.
        let g = [1.0, 1.0, 0.0, 1.0, 1.0];
        assert!(window_currents(&win, &g, &s, Connectivity::Four, false).unwrap().is_none());
    }

    #[test]
    fn cached_factors_give_the_same_answer() {
        let win = Window::around(5, 5, 5, Dims { rows: 11, cols: 11 });
        let mut s = vec![0.0; 121];
        s[3] = 2.0;
        s[100] = 1.0;
        let a = window_currents(&win, &[1.0; 121], &s, Connectivity::Eight, true).unwrap().unwrap();
        let b = window_currents(&win, &[1.0; 121], &s, Connectivity::Eight, true).unwrap().unwrap();
        let c = window_currents(&win, &[1.0; 121], &s, Connectivity::Eight, false).unwrap().unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        let at_target = a[win.target_row * 11 + win.target_col];
        assert!((at_target - 3.0).abs() < 1e-9, "{at_target}");
    }
}
