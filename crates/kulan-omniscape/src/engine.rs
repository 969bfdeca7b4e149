//! The moving window over the whole landscape: targets by block rows, one circuit per target,
//! and the accumulation of current maps in a fixed order.
//!
//! # Order of accumulation and tiles
//!
//! Targets come in *block rows* `k` (targets sharing a row). A block row's currents are summed
//! left to right into a [`BandPartial`]; a cell's final value is the sum of the band partials
//! that touch it, added in increasing `k`, starting from 0. That order depends neither on the
//! number of threads nor on how block rows are grouped into tiles ([`TileSpec`]), so every run
//! gives the same bytes. A tile's result ([`TilePartial`]) keeps, for the rows the previous tile
//! also touches, its band partials unsummed; [`Merger`] adds tiles in order and hands out rows
//! that no later tile can touch. Tiles may be solved anywhere (another process or machine) and
//! merged later, as long as they are merged in order.

use std::ops::Range;

use kulan_circuit::graph::Connectivity;
use rayon::prelude::*;

use crate::circuit::window_currents;
use crate::config::Comparison;
use crate::correction::Correction;
use crate::window::{apply_conditions, block_strength, window_sources, ConditionView, Dims, Window, WindowParams};
use crate::OmniscapeError;

/// Read access to the prepared cell layers, by global row and column. Implemented by the whole
/// landscape in memory and by bands of rows read from disk.
pub trait Cells: Sync {
    fn conductance(&self, row: usize, col: usize) -> f64;
    fn source(&self, row: usize, col: usize) -> f64;
    fn n_conditions(&self) -> usize;
    fn condition_present(&self, k: usize, row: usize, col: usize) -> f64;
    fn condition_future(&self, k: usize, row: usize, col: usize) -> f64;
    fn comparison(&self, k: usize) -> Comparison;
}

impl Cells for crate::setup::Landscape {
    fn conductance(&self, row: usize, col: usize) -> f64 {
        self.conductance[(row - self.row0) * self.cols + col]
    }
    fn source(&self, row: usize, col: usize) -> f64 {
        self.source[(row - self.row0) * self.cols + col]
    }
    fn n_conditions(&self) -> usize {
        self.conditions.len()
    }
    fn condition_present(&self, k: usize, row: usize, col: usize) -> f64 {
        self.conditions[k].present[(row - self.row0) * self.cols + col]
    }
    fn condition_future(&self, k: usize, row: usize, col: usize) -> f64 {
        self.conditions[k].future()[(row - self.row0) * self.cols + col]
    }
    fn comparison(&self, k: usize) -> Comparison {
        self.conditions[k].comparison
    }
}

impl<T: Cells + ?Sized> Cells for &T {
    fn conductance(&self, row: usize, col: usize) -> f64 {
        (**self).conductance(row, col)
    }
    fn source(&self, row: usize, col: usize) -> f64 {
        (**self).source(row, col)
    }
    fn n_conditions(&self) -> usize {
        (**self).n_conditions()
    }
    fn condition_present(&self, k: usize, row: usize, col: usize) -> f64 {
        (**self).condition_present(k, row, col)
    }
    fn condition_future(&self, k: usize, row: usize, col: usize) -> f64 {
        (**self).condition_future(k, row, col)
    }
    fn comparison(&self, k: usize) -> Comparison {
        (**self).comparison(k)
    }
}

impl<T: Cells + Send + ?Sized> Cells for std::sync::Arc<T> {
    fn conductance(&self, row: usize, col: usize) -> f64 {
        (**self).conductance(row, col)
    }
    fn source(&self, row: usize, col: usize) -> f64 {
        (**self).source(row, col)
    }
    fn n_conditions(&self) -> usize {
        (**self).n_conditions()
    }
    fn condition_present(&self, k: usize, row: usize, col: usize) -> f64 {
        (**self).condition_present(k, row, col)
    }
    fn condition_future(&self, k: usize, row: usize, col: usize) -> f64 {
        (**self).condition_future(k, row, col)
    }
    fn comparison(&self, k: usize) -> Comparison {
        (**self).comparison(k)
    }
}

/// Targets per thread solved between two in-order additions into a block row's band: enough to
/// keep every thread busy to the end of the chunk, few enough to bound the maps held at once.
pub const TARGETS_PER_THREAD: usize = 64;

/// One target's corrected maps over its window (`None`: nothing flows).
struct TargetMaps {
    win: Window,
    current: Option<Vec<f64>>,
    flow: Option<Vec<f64>>,
}

/// Settings of the moving-window engine.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub window: WindowParams,
    pub connectivity: Connectivity,
    /// Also solve every window on a uniform landscape (flow potential).
    pub flow_potential: bool,
    /// Omniscape's block-artifact correction (only used when `block_size > 1`).
    pub correct_artifacts: bool,
}

/// The moving-window engine for one landscape size.
pub struct Engine {
    pub settings: EngineSettings,
    pub dims: Dims,
    correction: Option<Correction>,
}

/// Which block rows a tile solves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileSpec {
    pub block_rows: Range<usize>,
}

/// The summed currents of one block row over the rows its windows cover (all columns).
#[derive(Debug, Clone, PartialEq)]
pub struct BandPartial {
    pub block_row: usize,
    pub row0: usize,
    pub rows: usize,
    pub current: Vec<f64>,
    /// Flow potential, when asked for.
    pub flow: Option<Vec<f64>>,
}

/// A tile's contribution: rows `fold_rows` summed (no earlier tile touches them), and the band
/// partials restricted to the rows above `fold_rows.start`, which earlier tiles also touch.
#[derive(Debug, Clone, PartialEq)]
pub struct TilePartial {
    pub spec: TileSpec,
    pub fold_rows: Range<usize>,
    pub current: Vec<f64>,
    pub flow: Option<Vec<f64>>,
    pub pending: Vec<BandPartial>,
    /// Targets solved (with a positive strength).
    pub targets: usize,
}

impl Engine {
    /// Sets the engine up (computes the artifact correction when needed).
    ///
    /// ```
    /// use kulan_omniscape::engine::{Engine, EngineSettings};
    /// use kulan_omniscape::setup::Landscape;
    /// use kulan_omniscape::window::{Dims, WindowParams};
    /// let land = Landscape { row0: 0, rows: 9, cols: 9, conductance: vec![1.0; 81], source: vec![1.0; 81], conditions: vec![] };
    /// let settings = EngineSettings {
    ///     window: WindowParams { radius: 3, buffer: 0, block_size: 1 },
    ///     connectivity: kulan_circuit::Connectivity::Eight,
    ///     flow_potential: false,
    ///     correct_artifacts: true,
    /// };
    /// let engine = Engine::new(settings, Dims { rows: 9, cols: 9 }).unwrap();
    /// let maps = engine.run_in_memory(&land).unwrap();
    /// assert!(maps.current.iter().all(|c| *c > 0.0));
    /// ```
    pub fn new(settings: EngineSettings, dims: Dims) -> Result<Engine, OmniscapeError> {
        if dims.rows == 0 || dims.cols == 0 {
            return Err(OmniscapeError::Input("the landscape has no cells".into()));
        }
        let correction = if settings.correct_artifacts && settings.window.block_size > 1 {
            Some(Correction::compute(&settings.window, settings.connectivity, dims)?)
        } else {
            None
        };
        Ok(Engine { settings, dims, correction })
    }

    /// Number of block rows (targets rows).
    pub fn block_rows(&self) -> usize {
        self.dims.rows / self.settings.window.block_size
    }

    /// Number of targets per block row.
    pub fn block_cols(&self) -> usize {
        self.dims.cols / self.settings.window.block_size
    }

    /// Global row of the targets of block row `k`.
    pub fn target_row(&self, k: usize) -> usize {
        self.settings.window.block_radius() + k * self.settings.window.block_size
    }

    /// Rows touched by the windows of block row `k`.
    pub fn band_rows(&self, k: usize) -> Range<usize> {
        let y = self.target_row(k);
        let reach = self.settings.window.reach();
        y.saturating_sub(reach)..(y + reach + 1).min(self.dims.rows)
    }

    /// Rows a tile reads (windows, target blocks).
    pub fn input_rows(&self, spec: &TileSpec) -> Range<usize> {
        if spec.block_rows.is_empty() {
            return 0..0;
        }
        let halo = self.settings.window.reach().max(self.settings.window.block_radius());
        let first = self.target_row(spec.block_rows.start);
        let last = self.target_row(spec.block_rows.end - 1);
        first.saturating_sub(halo)..(last + halo + 1).min(self.dims.rows)
    }

    /// The currents of one block row. Its targets are solved in parallel, a chunk at a time,
    /// and added left to right, so the sums do not depend on the number of threads.
    pub fn solve_block_row(&self, k: usize, cells: &dyn Cells) -> Result<(BandPartial, usize), OmniscapeError> {
        let p = &self.settings.window;
        let rows = self.band_rows(k);
        let cols = self.dims.cols;
        let mut band = BandPartial {
            block_row: k,
            row0: rows.start,
            rows: rows.len(),
            current: vec![0.0; rows.len() * cols],
            flow: self.settings.flow_potential.then(|| vec![0.0; rows.len() * cols]),
        };
        let ty = self.target_row(k);
        let targets: Vec<(usize, f64)> = (0..self.block_cols())
            .map(|j| p.block_radius() + j * p.block_size)
            .map(|tx| (tx, block_strength(ty, tx, p.block_radius(), self.dims, |r, c| cells.source(r, c))))
            .filter(|(_, strength)| *strength > 0.0)
            .collect();
        let chunk = rayon::current_num_threads() * TARGETS_PER_THREAD;
        for part in targets.chunks(chunk) {
            let maps: Vec<TargetMaps> =
                part.par_iter().map(|&(tx, strength)| self.solve_target(ty, tx, strength, cells)).collect::<Result<_, _>>()?;
            for m in maps {
                let add = |target: &mut [f64], map: &[f64]| {
                    for i in 0..m.win.rows {
                        let out = (m.win.row0 + i - band.row0) * cols + m.win.col0;
                        let row = &map[i * m.win.cols..(i + 1) * m.win.cols];
                        for (t, v) in target[out..out + m.win.cols].iter_mut().zip(row) {
                            *t += *v;
                        }
                    }
                };
                if let Some(c) = &m.current {
                    add(&mut band.current, c);
                }
                if let (Some(f), Some(acc)) = (&m.flow, band.flow.as_mut()) {
                    add(acc, f);
                }
            }
        }
        Ok((band, targets.len()))
    }

    /// The window of the target at `(ty, tx)` and the current each of its cells injects
    /// (Omniscape's source rules, conditional connectivity applied).
    fn target_sources(&self, ty: usize, tx: usize, strength: f64, cells: &dyn Cells) -> (Window, Vec<f64>) {
        let p = &self.settings.window;
        let win = Window::around(ty, tx, p.reach(), self.dims);
        let mut sources = window_sources(&win, p, self.dims, strength, |r, c| cells.source(r, c));
        if cells.n_conditions() > 0 {
            let present: Vec<Box<dyn Fn(usize, usize) -> f64 + '_>> =
                (0..cells.n_conditions()).map(|k| Box::new(move |r, c| cells.condition_present(k, r, c)) as Box<dyn Fn(usize, usize) -> f64>).collect();
            let future: Vec<Box<dyn Fn(usize, usize) -> f64 + '_>> =
                (0..cells.n_conditions()).map(|k| Box::new(move |r, c| cells.condition_future(k, r, c)) as Box<dyn Fn(usize, usize) -> f64>).collect();
            let views: Vec<ConditionView<'_>> = (0..cells.n_conditions())
                .map(|k| ConditionView { present: &*present[k], future: &*future[k], comparison: cells.comparison(k) })
                .collect();
            apply_conditions(&mut sources, &win, p.block_radius(), self.dims, &views);
        }
        (win, sources)
    }

    /// An upper bound of every cell's flow potential that holds for any exact solve: in a
    /// resistive circuit whose sources all drain to one ground, no node carries more than the
    /// current injected, so a cell's flow potential is at most the sum, over the windows that
    /// cover it, of the window's injected current times the cell's artifact-correction factor.
    /// Used to show that a peer's map is not the solution of the circuits it describes.
    pub fn flow_potential_bound(&self, cells: &dyn Cells) -> Vec<f64> {
        let p = &self.settings.window;
        let cols = self.dims.cols;
        let mut bound = vec![0.0; self.dims.rows * cols];
        for k in 0..self.block_rows() {
            let ty = self.target_row(k);
            for j in 0..self.block_cols() {
                let tx = p.block_radius() + j * p.block_size;
                let strength = block_strength(ty, tx, p.block_radius(), self.dims, |r, c| cells.source(r, c));
                if !(strength > 0.0) {
                    continue;
                }
                let (win, sources) = self.target_sources(ty, tx, strength, cells);
                let injected: f64 = sources.iter().filter(|s| **s > 0.0).sum();
                let factors = self.correction.as_ref().map(|c| c.for_window(&win, p.reach(), self.dims));
                for i in 0..win.rows {
                    for jj in 0..win.cols {
                        let f = factors.as_ref().map_or(1.0, |f| f[i * win.cols + jj]);
                        bound[(win.row0 + i) * cols + win.col0 + jj] += injected * f;
                    }
                }
            }
        }
        bound
    }

    /// One target's current (and flow potential) maps over its window, corrected for block
    /// artifacts.
    fn solve_target(&self, ty: usize, tx: usize, strength: f64, cells: &dyn Cells) -> Result<TargetMaps, OmniscapeError> {
        let reach = self.settings.window.reach();
        let (win, sources) = self.target_sources(ty, tx, strength, cells);
        let mut conductance = vec![0.0; win.len()];
        for i in 0..win.rows {
            for j in 0..win.cols {
                if win.within(i, j, reach) {
                    conductance[i * win.cols + j] = cells.conductance(win.row0 + i, win.col0 + j);
                }
            }
        }
        let conn = self.settings.connectivity;
        let mut current = window_currents(&win, &conductance, &sources, conn, false)?;
        let mut flow = if self.settings.flow_potential {
            conductance.fill(1.0);
            window_currents(&win, &conductance, &sources, conn, true)?
        } else {
            None
        };
        if let Some(c) = self.correction.as_ref() {
            let factors = c.for_window(&win, reach, self.dims);
            for map in [current.as_mut(), flow.as_mut()].into_iter().flatten() {
                for (v, f) in map.iter_mut().zip(&factors) {
                    *v *= *f;
                }
            }
        }
        Ok(TargetMaps { win, current, flow })
    }

    /// Solves a tile's block rows (each in parallel) and sums them in order.
    pub fn solve_tile(&self, spec: &TileSpec, cells: &dyn Cells) -> Result<TilePartial, OmniscapeError> {
        let bands: Vec<(BandPartial, usize)> = spec.block_rows.clone().map(|k| self.solve_block_row(k, cells)).collect::<Result<_, _>>()?;
        let cols = self.dims.cols;
        // Rows above `seam` are also touched by the previous block row (another tile).
        let seam = if spec.block_rows.start == 0 { 0 } else { self.band_rows(spec.block_rows.start - 1).end };
        let end = bands.iter().map(|(b, _)| b.row0 + b.rows).max().unwrap_or(seam).max(seam);
        let n = (end - seam) * cols;
        let mut current = vec![0.0; n];
        let mut flow = self.settings.flow_potential.then(|| vec![0.0; n]);
        let mut pending = Vec::new();
        let mut targets = 0;
        for (band, solved) in bands {
            targets += solved;
            let split = seam.clamp(band.row0, band.row0 + band.rows) - band.row0;
            let below = split * cols;
            let at = (band.row0 + split - seam) * cols;
            let tail = band.current.len() - below;
            for (a, b) in current[at..at + tail].iter_mut().zip(&band.current[below..]) {
                *a += *b;
            }
            if let (Some(acc), Some(f)) = (flow.as_mut(), band.flow.as_ref()) {
                for (a, b) in acc[at..at + tail].iter_mut().zip(&f[below..]) {
                    *a += *b;
                }
            }
            if split > 0 {
                pending.push(BandPartial {
                    block_row: band.block_row,
                    row0: band.row0,
                    rows: split,
                    current: band.current[..below].to_vec(),
                    flow: band.flow.as_ref().map(|f| f[..below].to_vec()),
                });
            }
        }
        Ok(TilePartial { spec: spec.clone(), fold_rows: seam..end, current, flow, pending, targets })
    }

    /// Runs every tile over an in-memory landscape and returns the whole maps.
    pub fn run_in_memory(&self, cells: &dyn Cells) -> Result<Maps, OmniscapeError> {
        let mut maps = Maps {
            current: Vec::with_capacity(self.dims.rows * self.dims.cols),
            flow: self.settings.flow_potential.then(Vec::new),
            targets: 0,
        };
        let step = (rayon::current_num_threads() * 4).max(8);
        let targets = self.run_tiles(step, |_| Ok(Box::new(cells)), |rows| {
            maps.extend(rows);
            Ok(())
        })?;
        maps.targets = targets;
        Ok(maps)
    }

    /// Solves the landscape tile by tile, `block_rows_per_tile` block rows at a time, in order:
    /// `cells_for(input rows)` gives each tile its cells, `emit` receives finished rows in order
    /// (every row exactly once). Returns the number of targets solved. The maps do not depend on
    /// `block_rows_per_tile`.
    pub fn run_tiles<'c>(
        &self,
        block_rows_per_tile: usize,
        mut cells_for: impl FnMut(Range<usize>) -> Result<Box<dyn Cells + 'c>, OmniscapeError>,
        mut emit: impl FnMut(FinishedRows) -> Result<(), OmniscapeError>,
    ) -> Result<usize, OmniscapeError> {
        let mut merger = Merger::new(self.dims.cols, self.settings.flow_potential);
        let mut targets = 0;
        let mut k = 0;
        while k < self.block_rows() {
            let spec = TileSpec { block_rows: k..(k + block_rows_per_tile.max(1)).min(self.block_rows()) };
            let cells = cells_for(self.input_rows(&spec))?;
            let tile = self.solve_tile(&spec, &*cells)?;
            drop(cells);
            targets += tile.targets;
            merger.push(tile)?;
            k = spec.block_rows.end;
            let done = if k < self.block_rows() { self.band_rows(k).start } else { self.dims.rows };
            emit(merger.take_rows(done))?;
        }
        let rest = merger.take_rows(self.dims.rows);
        if !rest.rows.is_empty() {
            emit(rest)?;
        }
        Ok(targets)
    }
}

/// Whole current maps.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Maps {
    pub current: Vec<f64>,
    pub flow: Option<Vec<f64>>,
    pub targets: usize,
}

impl Maps {
    fn extend(&mut self, rows: FinishedRows) {
        self.current.extend_from_slice(&rows.current);
        if let (Some(acc), Some(f)) = (self.flow.as_mut(), rows.flow) {
            acc.extend_from_slice(&f);
        }
    }
}

/// Complete rows handed out by the [`Merger`].
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedRows {
    pub rows: Range<usize>,
    pub current: Vec<f64>,
    pub flow: Option<Vec<f64>>,
}

/// Adds tiles in block-row order and hands out the rows no later tile can change.
#[derive(Debug)]
pub struct Merger {
    cols: usize,
    /// First row not yet handed out.
    start: usize,
    current: Vec<f64>,
    flow: Option<Vec<f64>>,
    next_block_row: usize,
}

impl Merger {
    pub fn new(cols: usize, flow: bool) -> Merger {
        Merger { cols, start: 0, current: Vec::new(), flow: flow.then(Vec::new), next_block_row: 0 }
    }

    fn grow(&mut self, end: usize) {
        let n = end.saturating_sub(self.start) * self.cols;
        if self.current.len() < n {
            self.current.resize(n, 0.0);
            if let Some(f) = self.flow.as_mut() {
                f.resize(n, 0.0);
            }
        }
    }

    /// Adds the next tile (tiles must come in block-row order, without gaps).
    pub fn push(&mut self, tile: TilePartial) -> Result<(), OmniscapeError> {
        if tile.spec.block_rows.start != self.next_block_row {
            return Err(OmniscapeError::Input(format!(
                "tile of block rows {:?} merged out of order (expected block row {})",
                tile.spec.block_rows, self.next_block_row
            )));
        }
        self.next_block_row = tile.spec.block_rows.end;
        let cols = self.cols;
        for band in &tile.pending {
            if band.row0 < self.start {
                return Err(OmniscapeError::Input("tile rows were already handed out".into()));
            }
            self.grow(band.row0 + band.rows);
            let at = (band.row0 - self.start) * cols;
            for (a, b) in self.current[at..at + band.current.len()].iter_mut().zip(&band.current) {
                *a += *b;
            }
            if let (Some(acc), Some(f)) = (self.flow.as_mut(), band.flow.as_ref()) {
                for (a, b) in acc[at..at + f.len()].iter_mut().zip(f) {
                    *a += *b;
                }
            }
        }
        if !tile.fold_rows.is_empty() {
            self.grow(tile.fold_rows.end);
            let at = (tile.fold_rows.start - self.start) * cols;
            for (a, b) in self.current[at..at + tile.current.len()].iter_mut().zip(&tile.current) {
                *a += *b;
            }
            if let (Some(acc), Some(f)) = (self.flow.as_mut(), tile.flow.as_ref()) {
                for (a, b) in acc[at..at + f.len()].iter_mut().zip(f) {
                    *a += *b;
                }
            }
        }
        Ok(())
    }

    /// Hands out rows `start..end` (rows never touched are 0).
    pub fn take_rows(&mut self, end: usize) -> FinishedRows {
        let end = end.max(self.start);
        self.grow(end);
        let n = (end - self.start) * self.cols;
        let current: Vec<f64> = self.current.drain(..n).collect();
        let flow = self.flow.as_mut().map(|f| f.drain(..n).collect());
        let rows = self.start..end;
        self.start = end;
        FinishedRows { rows, current, flow }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::Landscape;

    fn landscape(rows: usize, cols: usize) -> Landscape {
        let n = rows * cols;
        // A rough landscape with a hole, deterministic.
        let conductance: Vec<f64> = (0..n)
            .map(|i| if (i / cols).abs_diff(rows / 2) < 2 && (i % cols).abs_diff(cols / 3) < 3 { 0.0 } else { 1.0 / (1.0 + ((i * 7919) % 97) as f64) })
            .collect();
        let source: Vec<f64> = (0..n).map(|i| ((i * 104729) % 13) as f64 / 13.0).collect();
        Landscape { row0: 0, rows, cols, conductance, source, conditions: vec![] }
    }

    #[test]
    fn maps_do_not_depend_on_the_tiling() {
        let land = landscape(37, 23);
        let settings = EngineSettings {
            window: WindowParams { radius: 4, buffer: 1, block_size: 3 },
            connectivity: Connectivity::Eight,
            flow_potential: true,
            correct_artifacts: true,
        };
        let engine = Engine::new(settings, Dims { rows: 37, cols: 23 }).unwrap();
        let mut results = Vec::new();
        for per_tile in [1, 2, 5, 100] {
            let mut cur = Vec::new();
            let mut flow = Vec::new();
            let mut next = 0;
            engine
                .run_tiles(per_tile, |_| Ok(Box::new(&land)), |rows| {
                    assert_eq!(rows.rows.start, next);
                    next = rows.rows.end;
                    cur.extend(rows.current);
                    flow.extend(rows.flow.unwrap());
                    Ok(())
                })
                .unwrap();
            assert_eq!(cur.len(), 37 * 23);
            let bits: Vec<u64> = cur.iter().chain(&flow).map(|v| v.to_bits()).collect();
            results.push(bits);
        }
        assert!(results.iter().all(|r| *r == results[0]));
        assert!(results[0].iter().any(|&b| f64::from_bits(b) > 0.0));
    }

    #[test]
    fn tiles_must_be_merged_in_order() {
        let land = landscape(20, 20);
        let settings = EngineSettings {
            window: WindowParams { radius: 3, buffer: 0, block_size: 1 },
            connectivity: Connectivity::Four,
            flow_potential: false,
            correct_artifacts: false,
        };
        let engine = Engine::new(settings, Dims { rows: 20, cols: 20 }).unwrap();
        let tile = engine.solve_tile(&TileSpec { block_rows: 5..8 }, &land).unwrap();
        let mut merger = Merger::new(20, false);
        assert!(merger.push(tile).is_err());
    }
}
