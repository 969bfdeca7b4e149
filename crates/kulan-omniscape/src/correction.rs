//! Omniscape's block-artifact correction: with `block_size > 1` the current of a whole block is
//! injected at its centre; the correction array rescales each window's current map by the ratio
//! of "one target per cell" to "one target per block" currents on a uniform landscape.

use kulan_circuit::graph::Connectivity;

use crate::circuit::window_currents;
use crate::window::{window_sources, Dims, Window, WindowParams};
use crate::OmniscapeError;

/// The correction factors of a full window, `(2·reach + 1)²` cells, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    pub side: usize,
    pub factors: Vec<f64>,
}

impl Correction {
    /// Computes the correction for the window settings (uniform conductance, no conditions) on
    /// a landscape of size `landscape` (which bounds the cleared block, as in Omniscape).
    pub fn compute(params: &WindowParams, connectivity: Connectivity, landscape: Dims) -> Result<Correction, OmniscapeError> {
        let reach = params.reach();
        let side = 2 * reach + 1;
        let dims = Dims { rows: side, cols: side };
        let win = Window::around(reach, reach, reach, dims);
        let conductance: Vec<f64> =
            (0..side * side).map(|c| if win.within(c / side, c % side, reach) { 1.0 } else { 0.0 }).collect();
        let bs = params.block_size;
        let blocked = window_sources(&win, params, landscape, (bs * bs) as f64, |_, _| 1.0);
        let in_disk: Vec<bool> = (0..side * side).map(|c| win.within(c / side, c % side, params.radius)).collect();
        let n_sources = in_disk.iter().filter(|b| **b).count() as f64;
        let mut null_sources: Vec<f64> = in_disk.iter().map(|&b| if b { 1.0 / (n_sources - 1.0) } else { 0.0 }).collect();
        null_sources[reach * side + reach] = 0.0;
        let zero = || vec![0.0; side * side];
        let block_null = window_currents(&win, &conductance, &blocked, connectivity, true)?.unwrap_or_else(zero);
        let null = window_currents(&win, &conductance, &null_sources, connectivity, true)?.unwrap_or_else(zero);
        // One target per cell: the null map summed over every target position of the block.
        let br = params.block_radius() as isize;
        let mut factors = vec![1.0; side * side];
        for i in 0..side {
            for j in 0..side {
                let mut total = 0.0;
                for di in -br..=br {
                    for dj in -br..=br {
                        let (a, b) = (i as isize + di, j as isize + dj);
                        if a >= 0 && b >= 0 && (a as usize) < side && (b as usize) < side {
                            total += null[a as usize * side + b as usize];
                        }
                    }
                }
                // Omniscape's rule: 1 where the blocked map is 0, 1/blocked where the total is 0.
                let blocked_here = block_null[i * side + j];
                if blocked_here != 0.0 {
                    factors[i * side + j] = if total == 0.0 { 1.0 } else { total } / blocked_here;
                }
            }
        }
        Ok(Correction { side, factors })
    }

    /// The part of the correction that lines up with a window clipped at the landscape's edges,
    /// cut as Omniscape.jl cuts it.
    pub fn for_window(&self, win: &Window, reach: usize, dims: Dims) -> Vec<f64> {
        let (row0, col0) = (self.cut(win.row0 + win.target_row, win.rows, reach, dims.rows), self.cut(win.col0 + win.target_col, win.cols, reach, dims.cols));
        let mut out = Vec::with_capacity(win.len());
        for i in 0..win.rows {
            let base = (row0 + i) * self.side + col0;
            out.extend_from_slice(&self.factors[base..base + win.cols]);
        }
        out
    }

    /// First index of the cut along one axis for a target at `t` whose window spans `len` cells.
    fn cut(&self, t: usize, len: usize, reach: usize, extent: usize) -> usize {
        let mut upper = self.side;
        let mut lower = 0;
        if t + 1 > extent.saturating_sub(reach) {
            upper = len;
        }
        if t < reach {
            lower = upper - len;
        }
        lower
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_size_one_needs_no_correction_and_larger_blocks_do() {
        let p = WindowParams { radius: 4, buffer: 0, block_size: 3 };
        let c = Correction::compute(&p, Connectivity::Eight, Dims { rows: 30, cols: 30 }).unwrap();
        assert_eq!(c.side, 9);
        assert!(c.factors.iter().all(|f| f.is_finite() && *f > 0.0));
        assert!(c.factors.iter().any(|f| (f - 1.0).abs() > 1e-3));
    }

    #[test]
    fn cuts_follow_the_clipped_side() {
        let c = Correction { side: 5, factors: (0..25).map(|v| v as f64).collect() };
        let dims = Dims { rows: 10, cols: 10 };
        let w = Window::around(0, 5, 2, dims); // clipped at the top: last 3 rows
        let f = c.for_window(&w, 2, dims);
        assert_eq!(f[0], 10.0);
        let w = Window::around(9, 9, 2, dims); // clipped at the bottom and right: first rows and columns
        assert_eq!(c.for_window(&w, 2, dims)[0], 0.0);
    }
}
