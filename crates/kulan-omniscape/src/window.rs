//! The moving window of one target: its extent, its source injections (Omniscape.jl's rules,
//! including conditional connectivity) and its conductance layers.

use crate::config::Comparison;

/// Size of the whole landscape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    pub rows: usize,
    pub cols: usize,
}

/// Moving-window settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowParams {
    /// Radius of the source disk, in cells.
    pub radius: usize,
    /// Cells beyond the radius that carry current but hold no sources.
    pub buffer: usize,
    /// Odd block size; targets are the centres of `block_size`² blocks.
    pub block_size: usize,
}

impl WindowParams {
    pub fn block_radius(&self) -> usize {
        (self.block_size - 1) / 2
    }

    /// Radius of the circuit (radius + buffer).
    pub fn reach(&self) -> usize {
        self.radius + self.buffer
    }
}

/// The rectangle of the landscape a target's circuit covers, clipped to the landscape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Global row and column of the window's first cell.
    pub row0: usize,
    pub col0: usize,
    pub rows: usize,
    pub cols: usize,
    /// The target (ground) cell inside the window.
    pub target_row: usize,
    pub target_col: usize,
}

impl Window {
    /// The window of the target at global `(row, col)`: `reach` cells each way, clipped.
    pub fn around(row: usize, col: usize, reach: usize, dims: Dims) -> Window {
        let row0 = row.saturating_sub(reach);
        let col0 = col.saturating_sub(reach);
        let row1 = (row + reach).min(dims.rows - 1);
        let col1 = (col + reach).min(dims.cols - 1);
        Window { row0, col0, rows: row1 - row0 + 1, cols: col1 - col0 + 1, target_row: row - row0, target_col: col - col0 }
    }

    pub fn len(&self) -> usize {
        self.rows * self.cols
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when the window cell `(i, j)` lies within `distance` of the target.
    #[inline]
    pub fn within(&self, i: usize, j: usize, distance: usize) -> bool {
        let di = i.abs_diff(self.target_row);
        let dj = j.abs_diff(self.target_col);
        di * di + dj * dj <= distance * distance
    }
}

/// Sum of the sources in the block centred on `(row, col)`: the target's strength.
pub fn block_strength(row: usize, col: usize, block_radius: usize, dims: Dims, source_at: impl Fn(usize, usize) -> f64) -> f64 {
    let mut s = 0.0;
    for r in row.saturating_sub(block_radius)..=(row + block_radius).min(dims.rows - 1) {
        for c in col.saturating_sub(block_radius)..=(col + block_radius).min(dims.cols - 1) {
            s += source_at(r, c);
        }
    }
    s
}

/// The current injected at each window cell for a target of `strength`: sources within `radius`
/// of the target, none in the target's block, scaled so that they sum to `strength`.
///
/// The block is cleared where Omniscape.jl clears it: `reach - block_radius ..= reach +
/// block_radius` in window coordinates (bounded by the landscape's size). Away from the edges this
/// is the target's block; where the window is clipped at the top or left edge Omniscape clears
/// cells off the target, and so does Kulan, to give the same maps.
pub fn window_sources(win: &Window, params: &WindowParams, dims: Dims, strength: f64, source_at: impl Fn(usize, usize) -> f64) -> Vec<f64> {
    let mut s = vec![0.0; win.len()];
    let r = params.radius;
    for i in 0..win.rows {
        for j in 0..win.cols {
            if win.within(i, j, r) {
                s[i * win.cols + j] = source_at(win.row0 + i, win.col0 + j);
            }
        }
    }
    let (reach, br) = (params.reach(), params.block_radius());
    let i1 = (reach + br).min(dims.rows - 1).min(win.rows - 1);
    let j1 = (reach + br).min(dims.cols - 1).min(win.cols - 1);
    for i in reach.saturating_sub(br)..=i1 {
        for j in reach.saturating_sub(br)..=j1 {
            s[i * win.cols + j] = 0.0;
        }
    }
    let total: f64 = s.iter().filter(|v| **v > 0.0).sum();
    for v in s.iter_mut() {
        if *v > 0.0 {
            *v = *v * strength / total;
        }
    }
    s
}

/// One condition as the window sees it: present values at sources, future values at the target.
pub struct ConditionView<'a> {
    pub present: &'a dyn Fn(usize, usize) -> f64,
    pub future: &'a dyn Fn(usize, usize) -> f64,
    pub comparison: Comparison,
}

/// Conditional connectivity: clears the sources whose condition does not match the target's
/// (median of the future values over the target block for `within`, most frequent value for
/// `equal`). NoData conditions never clear a source.
pub fn apply_conditions(
    sources: &mut [f64],
    win: &Window,
    block_radius: usize,
    dims: Dims,
    conditions: &[ConditionView<'_>],
) {
    let (trow, tcol) = (win.row0 + win.target_row, win.col0 + win.target_col);
    for cond in conditions {
        // Julia arrays are column-major: gather the block column by column (it matters for
        // ties in the mode).
        let mut block = Vec::new();
        for c in tcol.saturating_sub(block_radius)..=(tcol + block_radius).min(dims.cols - 1) {
            for r in trow.saturating_sub(block_radius)..=(trow + block_radius).min(dims.rows - 1) {
                let v = (cond.future)(r, c);
                if !v.is_nan() {
                    block.push(v);
                }
            }
        }
        match cond.comparison {
            Comparison::Within { lower, upper } => {
                let target = median(&mut block);
                for i in 0..win.rows {
                    for j in 0..win.cols {
                        let d = (cond.present)(win.row0 + i, win.col0 + j) - target;
                        if d > upper || d < lower {
                            sources[i * win.cols + j] = 0.0;
                        }
                    }
                }
            }
            Comparison::Equal => {
                let Some(target) = mode(&block) else { continue };
                for i in 0..win.rows {
                    for j in 0..win.cols {
                        let p = (cond.present)(win.row0 + i, win.col0 + j);
                        if !p.is_nan() && p != target {
                            sources[i * win.cols + j] = 0.0;
                        }
                    }
                }
            }
        }
    }
}

/// Median (mean of the two middle values for an even count); NaN when empty.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Most frequent value. Ties go to the value that reached the top count first while scanning
/// (StatsBase's `mode`, which Omniscape.jl uses); `None` when empty.
pub fn mode(values: &[f64]) -> Option<f64> {
    let mut counts: Vec<(f64, usize)> = Vec::new();
    let mut best: Option<(f64, usize)> = None;
    for &v in values {
        let c = match counts.iter_mut().find(|(x, _)| *x == v) {
            Some(e) => {
                e.1 += 1;
                e.1
            }
            None => {
                counts.push((v, 1));
                1
            }
        };
        if best.map_or(true, |(_, m)| c > m) {
            best = Some((v, c));
        }
    }
    best.map(|(v, _)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIMS: Dims = Dims { rows: 30, cols: 30 };

    #[test]
    fn windows_clip_at_the_edges() {
        let w = Window::around(2, 29, 7, DIMS);
        assert_eq!((w.row0, w.rows, w.target_row), (0, 10, 2));
        assert_eq!((w.col0, w.cols, w.target_col), (22, 8, 7));
    }

    #[test]
    fn sources_sum_to_the_target_strength_and_skip_the_block() {
        let p = WindowParams { radius: 5, buffer: 2, block_size: 3 };
        let w = Window::around(15, 15, p.reach(), DIMS);
        let s = window_sources(&w, &p, DIMS, 9.0, |_, _| 1.0);
        assert!((s.iter().sum::<f64>() - 9.0).abs() < 1e-12);
        assert_eq!(s[w.target_row * w.cols + w.target_col + 1], 0.0);
        assert_eq!(s[0], 0.0); // a buffer corner
        // disk of radius 5 holds 81 cells, minus the 3×3 block
        assert_eq!(s.iter().filter(|v| **v > 0.0).count(), 72);
    }

    #[test]
    fn median_and_mode() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&mut []).is_nan());
        assert_eq!(mode(&[2.0, 5.0, 5.0, 2.0, 7.0]), Some(5.0));
        assert_eq!(mode(&[3.0, 1.0]), Some(3.0));
        assert_eq!(mode(&[]), None);
    }
}
