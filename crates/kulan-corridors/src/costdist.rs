//! Accumulated cost distance from many sources (multi-source Dijkstra on the raster graph).
//!
//! The graph is the one scikit-image's `MCP_Geometric`, WhiteboxTools `CostDistance`, ArcGIS
//! `CostDistance` and Linkage Mapper use: every passable cell is a node; a move between
//! neighbouring cells `a` and `b` costs `(r_a + r_b) / 2 × step`, where the step is the cell width
//! or height for a rook move and the diagonal of the cell for a bishop move (8 neighbours only).
//! Sources cost 0. NoData cells are impassable: nothing enters or leaves them.
//!
//! For square cells the sums are accumulated in cell units and multiplied by the cell size at the
//! end, in the same order of operations as `MCP_Geometric` followed by `× cellsize`, so results
//! agree with it to the last bit wherever the least-cost path is unique.

use kulan_core::raster::{GeoTransform, Grid};

use crate::error::CostError;
use crate::heap::{BucketQueue, MonotoneQueue, RadixHeap};

/// Which neighbours a move may go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Connectivity {
    /// Rook moves only (N, E, S, W).
    Four,
    /// Rook and bishop moves (the default, as in Linkage Mapper and ArcGIS).
    #[default]
    Eight,
}

impl Connectivity {
    /// From the number of neighbours, 4 or 8.
    pub fn from_neighbours(n: u32) -> Result<Self, CostError> {
        match n {
            4 => Ok(Connectivity::Four),
            8 => Ok(Connectivity::Eight),
            other => Err(CostError::Input(format!("neighbours must be 4 or 8, got {other}"))),
        }
    }
}

/// Backlink codes (as in ArcGIS): the direction from a cell to the next cell on its least-cost
/// path back to a source. 0 marks a source; [`BACKLINK_NONE`] marks unreachable or NoData cells.
pub const BACKLINK_DIRECTIONS: [&str; 9] = ["source", "E", "SE", "S", "SW", "W", "NW", "N", "NE"];
/// The backlink value of cells that were not reached.
pub const BACKLINK_NONE: u8 = 255;

/// `(drow, dcol)` for backlink codes 1..=8 (index 0 is code 1).
pub(crate) const DIRS: [(isize, isize); 8] =
    [(0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1)];

/// A validated resistance grid, ready for repeated cost-distance runs.
///
/// Cells are stored with a one-cell impassable border, so the inner loop needs no bounds checks.
#[derive(Debug, Clone)]
pub struct CostSurface {
    pub rows: usize,
    pub cols: usize,
    pub transform: GeoTransform,
    pub crs: Option<String>,
    /// Padded width, `cols + 2`.
    pub(crate) width: usize,
    /// Resistance per padded cell; `+∞` for impassable (NoData, border).
    pub(crate) res: Resistances,
    /// Half the step length for each direction of [`DIRS`], in the units of the accumulation.
    pub(crate) half_len: [f64; 8],
    /// Multiplies accumulated sums into map units (the cell size for square cells, else 1).
    pub(crate) scale: f64,
    /// Step lengths in map units: rook along a row, rook along a column, diagonal.
    pub(crate) step_m: (f64, f64, f64),
    /// Smallest and largest resistance of a passable cell.
    pub(crate) r_range: (f64, f64),
}

impl CostSurface {
    /// Checks a resistance grid and prepares it.
    ///
    /// NoData cells (the grid's NoData value, NaN when NaN is the declared NoData, and `+∞`) are
    /// impassable. Any other cell must be a finite number greater than zero: zero or negative
    /// resistance would make cost distance meaningless (a zero-cost move lets paths wander
    /// anywhere for free), and a NaN that is not the declared NoData usually means a broken
    /// upstream calculation, so these are errors, not silently impassable.
    pub fn from_resistance(grid: &Grid<f64>) -> Result<Self, CostError> {
        if grid.rows == 0 || grid.cols == 0 {
            return Err(CostError::EmptyGrid);
        }
        let (rows, cols) = (grid.rows, grid.cols);
        let width = cols + 2;
        let nodata = grid.nodata;
        let nodata_is_nan = nodata.is_some_and(|v| v.is_nan());
        let impassable = |v: f64| nodata == Some(v) || v == f64::INFINITY || (v.is_nan() && nodata_is_nan);
        // First pass: check every cell, find the range, and whether f32 holds every value exactly.
        let mut bad: Option<(usize, f64)> = None;
        let mut n_bad = 0usize;
        let mut r_range = (f64::INFINITY, 0.0f64);
        let mut all_f32 = true;
        for (i, &v) in grid.data.iter().enumerate() {
            if impassable(v) {
                continue;
            }
            if v > 0.0 && v.is_finite() {
                r_range = (r_range.0.min(v), r_range.1.max(v));
                all_f32 &= (v as f32) as f64 == v;
            } else {
                n_bad += 1;
                bad.get_or_insert((i, v));
            }
        }
        if let Some((i, value)) = bad {
            let (row, col) = (i / cols, i % cols);
            let (x, y) = grid.transform.cell_center(row, col);
            let others = if n_bad > 1 { format!(" (and {} more such cells)", n_bad - 1) } else { String::new() };
            return Err(CostError::BadResistance { row, col, x, y, value, others });
        }
        // Second pass: the padded lattice, impassable cells and the border at +∞.
        fn padded<T: Copy>(grid: &Grid<f64>, width: usize, inf: T, f: impl Fn(f64) -> Option<T>) -> Vec<T> {
            let mut out = vec![inf; width * (grid.rows + 2)];
            for (r, src) in grid.data.chunks(grid.cols).enumerate() {
                let dst = &mut out[(r + 1) * width + 1..(r + 1) * width + 1 + grid.cols];
                for (d, &v) in dst.iter_mut().zip(src) {
                    if let Some(x) = f(v) {
                        *d = x;
                    }
                }
            }
            out
        }
        let res = if all_f32 {
            Resistances::F32(padded(grid, width, f32::INFINITY, |v| (!impassable(v)).then_some(v as f32)))
        } else {
            Resistances::F64(padded(grid, width, f64::INFINITY, |v| (!impassable(v)).then_some(v)))
        };
        let t = grid.transform;
        let square = (t.cell_width - t.cell_height).abs() <= 1e-9 * t.cell_width;
        let (lx, ly, ld, scale) = if square {
            (1.0, 1.0, std::f64::consts::SQRT_2, t.cell_width)
        } else {
            (t.cell_width, t.cell_height, t.cell_width.hypot(t.cell_height), 1.0)
        };
        let mut half_len = [0.0; 8];
        for (k, &(dr, dc)) in DIRS.iter().enumerate() {
            let len = match (dr != 0, dc != 0) {
                (true, true) => ld,
                (true, false) => ly,
                _ => lx,
            };
            half_len[k] = len * 0.5;
        }
        let step_m = (t.cell_width, t.cell_height, t.cell_width.hypot(t.cell_height));
        Ok(CostSurface { rows, cols, transform: t, crs: grid.crs.clone(), width, res, half_len, scale, step_m, r_range })
    }

    /// True when cell `(row, col)` can be entered.
    #[inline]
    pub fn is_passable(&self, row: usize, col: usize) -> bool {
        self.res.get(self.pad(row * self.cols + col)).is_finite()
    }

    /// Number of passable cells.
    pub fn passable_cells(&self) -> usize {
        (0..self.res.len()).filter(|&i| self.res.get(i).is_finite()).count()
    }

    /// The resistance of cell `(row, col)`, `+∞` when impassable.
    pub fn resistance(&self, row: usize, col: usize) -> f64 {
        self.res.get(self.pad(row * self.cols + col))
    }

    /// Padded index of an unpadded cell index.
    #[inline]
    pub(crate) fn pad(&self, i: usize) -> usize {
        let (r, c) = (i / self.cols, i % self.cols);
        (r + 1) * self.width + c + 1
    }

    /// Unpadded cell index of a padded index (which must be an inner cell).
    #[inline]
    pub(crate) fn unpad(&self, p: usize) -> usize {
        let (r, c) = (p / self.width, p % self.width);
        (r - 1) * self.cols + (c - 1)
    }

    /// Checks that another grid (sources, cores, a template) lies on the same lattice.
    pub fn check_aligned<T>(&self, other: &Grid<T>, what: &str) -> Result<(), CostError> {
        let me: Grid<u8> =
            Grid { rows: self.rows, cols: self.cols, transform: self.transform, nodata: None, crs: None, data: Vec::new() };
        me.check_aligned(other).map_err(|mismatch| CostError::Misaligned { what: what.to_string(), mismatch })
    }
}

/// Cell resistances, as `f32` when every value is exactly an `f32` (as in float32 rasters): half
/// the memory traffic in the Dijkstra loop, and exactly the same `f64` arithmetic.
#[derive(Debug, Clone)]
pub(crate) enum Resistances {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl Resistances {
    #[inline]
    pub(crate) fn get(&self, i: usize) -> f64 {
        match self {
            Resistances::F32(v) => v[i] as f64,
            Resistances::F64(v) => v[i],
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Resistances::F32(v) => v.len(),
            Resistances::F64(v) => v.len(),
        }
    }
}

/// A cell resistance type the Dijkstra loop reads (widened to `f64` exactly).
pub(crate) trait CellValue: Copy {
    fn wide(self) -> f64;
}

impl CellValue for f32 {
    #[inline]
    fn wide(self) -> f64 {
        self as f64
    }
}

impl CellValue for f64 {
    #[inline]
    fn wide(self) -> f64 {
        self
    }
}

/// Source cells with their ids (ids matter for the allocation raster).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sources {
    /// `(row, col, id)`.
    pub cells: Vec<(usize, usize, i64)>,
}

impl Sources {
    /// Every cell with a value greater than 0 is a source, with that value as its id.
    pub fn from_id_grid<T: Copy + Into<f64>>(grid: &Grid<T>) -> Self {
        let mut cells = Vec::new();
        for r in 0..grid.rows {
            for c in 0..grid.cols {
                let v: f64 = grid.get(r, c).into();
                if v > 0.0 && v.is_finite() && grid.nodata != Some(v) {
                    cells.push((r, c, v as i64));
                }
            }
        }
        Sources { cells }
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Distinct ids, sorted.
    pub fn ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.cells.iter().map(|c| c.2).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// What to compute besides the accumulated cost.
#[derive(Debug, Clone, Copy, Default)]
pub struct CostOptions {
    pub connectivity: Connectivity,
    /// Also return the backlink raster (direction to the next cell towards the source).
    pub backlink: bool,
    /// Also return the allocation raster (id of the source each cell is cheapest to reach from).
    pub allocation: bool,
    /// Stop spreading beyond this accumulated cost (map units); farther cells stay unreached.
    pub max_cost: Option<f64>,
    /// Drop sources on NoData instead of failing (the default is to fail).
    pub drop_sources_on_nodata: bool,
}

/// The result of a cost-distance run.
#[derive(Debug, Clone)]
pub struct CostResult {
    /// Accumulated cost in map units (cost × metres); `+∞` where unreachable or NoData.
    pub cost: Grid<f64>,
    /// Backlink codes (see [`BACKLINK_DIRECTIONS`]); [`BACKLINK_NONE`] where unreached.
    pub backlink: Option<Grid<u8>>,
    /// The id of the nearest source (by cost); 0 where unreached.
    pub allocation: Option<Grid<i64>>,
    /// Number of cells reached (sources included).
    pub reached: usize,
    /// Number of source cells used.
    pub n_sources: usize,
}

/// The raw output of one Dijkstra run, on the padded lattice, in accumulation units.
pub(crate) struct RawRun {
    pub dist: Vec<f64>,
    /// Padded; backlink codes (0 = source, 1..=8 direction, 255 = none). Empty when not asked for.
    pub back: Vec<u8>,
    /// Padded; allocation label (index + 1 into the caller's id list, 0 = none). Empty when not asked for.
    pub alloc: Vec<u32>,
    pub reached: usize,
}

/// Validates sources against the surface and returns `(padded index, id)` pairs.
pub(crate) fn place_sources(
    surface: &CostSurface,
    sources: &Sources,
    drop_on_nodata: bool,
) -> Result<Vec<(usize, i64)>, CostError> {
    if sources.is_empty() {
        return Err(CostError::NoSources("the sources have no cell with a value greater than 0 inside the grid".into()));
    }
    let mut placed = Vec::with_capacity(sources.len());
    let mut on_nodata = 0usize;
    let mut first = None;
    for &(r, c, id) in &sources.cells {
        if r >= surface.rows || c >= surface.cols {
            return Err(CostError::Input(format!(
                "source cell (row {r}, col {c}) lies outside the {} × {} grid",
                surface.rows, surface.cols
            )));
        }
        if surface.is_passable(r, c) {
            placed.push((surface.pad(r * surface.cols + c), id));
        } else {
            on_nodata += 1;
            first.get_or_insert((r, c, id));
        }
    }
    if on_nodata > 0 && !drop_on_nodata {
        let (row, col, id) = first.expect("counted");
        let (x, y) = surface.transform.cell_center(row, col);
        return Err(CostError::SourceOnNoData { count: on_nodata, row, col, x, y, id });
    }
    if placed.is_empty() {
        return Err(CostError::NoSources(format!("all {on_nodata} source cells lie on NoData (impassable) resistance")));
    }
    Ok(placed)
}

/// Multi-source Dijkstra. Each seed carries its allocation label; `max_units` is the cut-off in
/// accumulation units. Uses the bucket queue when the resistances span a modest range, else the
/// radix heap; the costs are the same either way.
pub(crate) fn run_raw(
    surface: &CostSurface,
    seeds: &[(usize, u32)],
    connectivity: Connectivity,
    want_back: bool,
    want_alloc: bool,
    max_units: f64,
) -> RawRun {
    // Rook moves first so that, on ties, backlinks prefer straight moves.
    let order: &[usize] = match connectivity {
        Connectivity::Four => &[0, 2, 4, 6],
        Connectivity::Eight => &[0, 2, 4, 6, 1, 3, 5, 7],
    };
    let hl = order.iter().map(|&k| surface.half_len[k]);
    let (hmin, hmax) = hl.fold((f64::INFINITY, 0.0f64), |(a, b), h| (a.min(h), b.max(h)));
    let (rmin, rmax) = surface.r_range;
    let bq = BucketQueue::for_edges(2.0 * hmin * rmin, 2.0 * hmax * rmax);
    let mut run = match (&surface.res, bq) {
        (Resistances::F32(r), Some(q)) => dijkstra(surface, r, seeds, order, want_back, want_alloc, max_units, q),
        (Resistances::F64(r), Some(q)) => dijkstra(surface, r, seeds, order, want_back, want_alloc, max_units, q),
        (Resistances::F32(r), None) => {
            dijkstra(surface, r, seeds, order, want_back, want_alloc, max_units, RadixHeap::new())
        }
        (Resistances::F64(r), None) => {
            dijkstra(surface, r, seeds, order, want_back, want_alloc, max_units, RadixHeap::new())
        }
    };
    if max_units.is_finite() {
        // Cells reached beyond the cut-off are left as not reached.
        for j in 0..run.dist.len() {
            if run.dist[j] > max_units && run.dist[j].is_finite() {
                run.dist[j] = f64::INFINITY;
                if want_back {
                    run.back[j] = BACKLINK_NONE;
                }
                if want_alloc {
                    run.alloc[j] = 0;
                }
            }
        }
    }
    run
}

#[allow(clippy::too_many_arguments)]
fn dijkstra<Q: MonotoneQueue, R: CellValue>(
    surface: &CostSurface,
    res: &[R],
    seeds: &[(usize, u32)],
    order: &[usize],
    want_back: bool,
    want_alloc: bool,
    max_units: f64,
    mut queue: Q,
) -> RawRun {
    let n = res.len();
    let mut dist = vec![f64::INFINITY; n];
    let mut back = if want_back { vec![BACKLINK_NONE; n] } else { Vec::new() };
    let mut alloc = if want_alloc { vec![0u32; n] } else { Vec::new() };
    let w = surface.width as isize;
    let mut offs = [0isize; 8];
    for (k, &(dr, dc)) in DIRS.iter().enumerate() {
        offs[k] = dr * w + dc;
    }
    let hl = surface.half_len;
    for &(p, label) in seeds {
        if dist[p] != 0.0 {
            dist[p] = 0.0;
            queue.push(0.0, p as u32);
        }
        if want_back {
            back[p] = 0;
        }
        if want_alloc && alloc[p] == 0 {
            alloc[p] = label;
        }
    }
    while let Some((key, idx)) = queue.pop() {
        let i = idx as usize;
        // Stale entry: the cell was pushed again with a lower cost (keys per cell only decrease).
        if key != dist[i] || key > max_units {
            continue;
        }
        let ra = res[i].wide();
        for &k in order {
            let j = (i as isize + offs[k]) as usize;
            // Impassable neighbours have r = +∞, so their candidate cost is +∞ and never wins.
            let nd = key + hl[k] * (ra + res[j].wide());
            if nd < dist[j] {
                dist[j] = nd;
                queue.push(nd, j as u32);
                if want_back {
                    // The way back from j is the opposite of the move k that reached it.
                    back[j] = ((k + 4) % 8) as u8 + 1;
                }
                if want_alloc {
                    alloc[j] = alloc[i];
                }
            }
        }
    }
    let reached = dist.iter().filter(|d| d.is_finite() && **d <= max_units).count();
    RawRun { dist, back, alloc, reached }
}

/// Accumulated cost distance from `sources` over `surface`.
///
/// ```
/// use kulan_core::raster::{GeoTransform, Grid};
/// use kulan_corridors::{cost_distance, CostOptions, CostSurface, Sources};
/// let t = GeoTransform::from_lower_left(0.0, 0.0, 10.0, 1);
/// let r = Grid { rows: 1, cols: 3, transform: t, nodata: None, crs: None, data: vec![1.0, 3.0, 1.0] };
/// let s = CostSurface::from_resistance(&r).unwrap();
/// let out = cost_distance(&s, &Sources { cells: vec![(0, 0, 1)] }, &CostOptions::default()).unwrap();
/// assert_eq!(out.cost.data, vec![0.0, 20.0, 40.0]); // (1+3)/2·10, then + (3+1)/2·10
/// ```
pub fn cost_distance(surface: &CostSurface, sources: &Sources, opts: &CostOptions) -> Result<CostResult, CostError> {
    let placed = place_sources(surface, sources, opts.drop_sources_on_nodata)?;
    let ids = sources.ids();
    let seeds: Vec<(usize, u32)> =
        placed.iter().map(|&(p, id)| (p, ids.binary_search(&id).expect("id listed") as u32 + 1)).collect();
    let max_units = opts.max_cost.map_or(f64::INFINITY, |m| m / surface.scale);
    let raw = run_raw(surface, &seeds, opts.connectivity, opts.backlink, opts.allocation, max_units);
    let cost = unpad_map(surface, &raw.dist, f64::INFINITY, |d| d * surface.scale);
    let backlink = opts.backlink.then(|| unpad_map(surface, &raw.back, BACKLINK_NONE, |b| b));
    let allocation = opts
        .allocation
        .then(|| unpad_map(surface, &raw.alloc, 0i64, |a| if a == 0 { 0 } else { ids[a as usize - 1] }));
    Ok(CostResult { cost, backlink, allocation, reached: raw.reached, n_sources: placed.len() })
}

/// Copies the inner cells of a padded vector into a grid, mapping each value.
pub(crate) fn unpad_map<T: Copy, U: Copy>(surface: &CostSurface, padded: &[T], fill: U, f: impl Fn(T) -> U) -> Grid<U> {
    let mut data = vec![fill; surface.rows * surface.cols];
    for (r, out) in data.chunks_mut(surface.cols).enumerate() {
        let start = (r + 1) * surface.width + 1;
        for (o, &v) in out.iter_mut().zip(&padded[start..start + surface.cols]) {
            *o = f(v);
        }
    }
    Grid { rows: surface.rows, cols: surface.cols, transform: surface.transform, nodata: None, crs: surface.crs.clone(), data }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(rows: usize, cols: usize, cell: f64, data: Vec<f64>) -> Grid<f64> {
        Grid { rows, cols, transform: GeoTransform::from_lower_left(0.0, 0.0, cell, rows), nodata: Some(-9999.0), crs: None, data }
    }

    #[test]
    fn uniform_grid_gives_octile_distances() {
        let s = CostSurface::from_resistance(&grid(5, 5, 2.0, vec![1.0; 25])).unwrap();
        let out = cost_distance(&s, &Sources { cells: vec![(2, 2, 1)] }, &CostOptions::default()).unwrap();
        let c = |r, k| out.cost.get(r, k);
        assert_eq!(c(2, 2), 0.0);
        assert_eq!(c(2, 4), 4.0);
        assert_eq!(c(0, 0), 2.0 * 2.0 * std::f64::consts::SQRT_2);
        // knight's move: one diagonal + one straight
        assert!((c(0, 3) - 2.0 * (1.0 + std::f64::consts::SQRT_2)).abs() < 1e-12);
        let four = cost_distance(
            &s,
            &Sources { cells: vec![(2, 2, 1)] },
            &CostOptions { connectivity: Connectivity::Four, ..Default::default() },
        )
        .unwrap();
        assert_eq!(four.cost.get(0, 0), 8.0);
    }

    #[test]
    fn hand_computed_heterogeneous_grid() {
        // 3 × 3, cell 1, source top-left.
        // r = 1 2 1
        //     4 8 1
        //     1 1 1
        let s = CostSurface::from_resistance(&grid(3, 3, 1.0, vec![1., 2., 1., 4., 8., 1., 1., 1., 1.])).unwrap();
        let opts = CostOptions { backlink: true, allocation: true, ..Default::default() };
        let out = cost_distance(&s, &Sources { cells: vec![(0, 0, 7)] }, &opts).unwrap();
        let h = std::f64::consts::SQRT_2 / 2.0;
        // (0,1): (1+2)/2 = 1.5; (0,2): 1.5 + 1.5 = 3; (1,0): 2.5; (2,0): 2.5 + 2.5 = 5
        assert_eq!(out.cost.get(0, 1), 1.5);
        assert_eq!(out.cost.get(0, 2), 3.0);
        assert_eq!(out.cost.get(1, 0), 2.5);
        assert_eq!(out.cost.get(2, 0), 5.0);
        // (1,2): from (0,2) 3 + 1 = 4, from (0,1) diagonally 1.5 + √2/2·3 = 3.62 -> 3.62
        assert!((out.cost.get(1, 2) - (1.5 + h * 3.0)).abs() < 1e-12);
        // (1,1): from (0,0) diagonally √2/2·9 = 6.36, from (0,1) 1.5 + 5 = 6.5 -> 6.36
        assert!((out.cost.get(1, 1) - h * 9.0).abs() < 1e-12);
        // (2,2): from (1,2) 3.62 + 1 = 4.62
        assert!((out.cost.get(2, 2) - (1.5 + h * 3.0 + 1.0)).abs() < 1e-12);
        // (2,1): from (2,2) 5.62, from (2,0) 6, from (1,2) diagonally 3.62 + √2 = 5.03
        assert!((out.cost.get(2, 1) - (1.5 + h * 3.0 + 2.0 * h)).abs() < 1e-12);
        let b = out.backlink.unwrap();
        assert_eq!(b.get(0, 0), 0);
        assert_eq!(BACKLINK_DIRECTIONS[b.get(0, 2) as usize], "W");
        assert_eq!(BACKLINK_DIRECTIONS[b.get(1, 2) as usize], "NW");
        assert_eq!(BACKLINK_DIRECTIONS[b.get(2, 1) as usize], "NE");
        assert!(out.allocation.unwrap().data.iter().all(|&a| a == 7));
    }

    #[test]
    fn nodata_is_impassable_and_unreached_is_infinite() {
        let nd = -9999.0;
        // a wall of NoData in column 1
        let s = CostSurface::from_resistance(&grid(3, 3, 1.0, vec![1., nd, 1., 1., nd, 1., 1., nd, 1.])).unwrap();
        let out = cost_distance(&s, &Sources { cells: vec![(1, 0, 1)] }, &CostOptions::default()).unwrap();
        assert!(out.cost.get(1, 2).is_infinite());
        assert!(out.cost.get(0, 1).is_infinite());
        assert_eq!(out.cost.get(0, 0), 1.0);
        assert_eq!(out.reached, 3);
    }

    #[test]
    fn bad_resistance_is_a_clear_error() {
        let e = CostSurface::from_resistance(&grid(1, 3, 1.0, vec![1.0, 0.0, -2.0])).unwrap_err().to_string();
        assert!(e.contains("row 0, col 1") && e.contains("and 1 more"), "{e}");
        let e = CostSurface::from_resistance(&grid(1, 2, 1.0, vec![1.0, f64::NAN])).unwrap_err().to_string();
        assert!(e.contains("NaN"), "{e}");
        // NaN is fine when it is the declared NoData
        let mut g = grid(1, 2, 1.0, vec![1.0, f64::NAN]);
        g.nodata = Some(f64::NAN);
        assert!(!CostSurface::from_resistance(&g).unwrap().is_passable(0, 1));
        let empty = grid(0, 0, 1.0, vec![]);
        assert!(matches!(CostSurface::from_resistance(&empty), Err(CostError::EmptyGrid)));
    }

    #[test]
    fn sources_on_nodata_are_an_error_unless_dropped() {
        let s = CostSurface::from_resistance(&grid(1, 3, 1.0, vec![1.0, -9999.0, 1.0])).unwrap();
        let src = Sources { cells: vec![(0, 0, 1), (0, 1, 2)] };
        let e = cost_distance(&s, &src, &CostOptions::default()).unwrap_err().to_string();
        assert!(e.contains("1 source cell(s)") && e.contains("id 2"), "{e}");
        let ok = cost_distance(&s, &src, &CostOptions { drop_sources_on_nodata: true, ..Default::default() }).unwrap();
        assert_eq!(ok.n_sources, 1);
        let e = cost_distance(&s, &Sources::default(), &CostOptions::default()).unwrap_err().to_string();
        assert!(e.contains("no source"), "{e}");
    }

    #[test]
    fn max_cost_stops_spreading() {
        let s = CostSurface::from_resistance(&grid(1, 5, 10.0, vec![1.0; 5])).unwrap();
        let opts = CostOptions { max_cost: Some(25.0), backlink: true, ..Default::default() };
        let out = cost_distance(&s, &Sources { cells: vec![(0, 0, 1)] }, &opts).unwrap();
        assert_eq!(&out.cost.data[..3], &[0.0, 10.0, 20.0]);
        assert!(out.cost.data[3].is_infinite() && out.cost.data[4].is_infinite());
        assert_eq!(out.backlink.unwrap().data[3], BACKLINK_NONE);
    }

    #[test]
    fn rectangular_cells_use_their_own_steps() {
        let mut g = grid(2, 2, 1.0, vec![1.0; 4]);
        g.transform.cell_width = 3.0;
        g.transform.cell_height = 4.0;
        let s = CostSurface::from_resistance(&g).unwrap();
        let out = cost_distance(&s, &Sources { cells: vec![(0, 0, 1)] }, &CostOptions::default()).unwrap();
        assert_eq!(out.cost.data, vec![0.0, 3.0, 4.0, 5.0]);
    }

    #[test]
    fn bucket_queue_and_radix_heap_give_identical_costs() {
        let mut state = 99u64;
        let mut rnd = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let data: Vec<f64> = (0..50 * 60).map(|_| if rnd() < 0.05 { -9999.0 } else { 1.0 + 200.0 * rnd() * rnd() }).collect();
        let s = CostSurface::from_resistance(&grid(50, 60, 30.0, data)).unwrap();
        let seeds = [(s.pad(0), 1u32), (s.pad(50 * 60 - 1), 2), (s.pad(25 * 60 + 30), 3)];
        let order = [0, 2, 4, 6, 1, 3, 5, 7];
        let (rmin, rmax) = s.r_range;
        let q = BucketQueue::for_edges(rmin, std::f64::consts::SQRT_2 * rmax).expect("modest range");
        let Resistances::F64(r) = &s.res else { panic!("random f64 values are not all f32") };
        let a = dijkstra(&s, r, &seeds, &order, false, true, f64::INFINITY, q);
        let b = dijkstra(&s, r, &seeds, &order, false, true, f64::INFINITY, RadixHeap::new());
        let r32: Vec<f32> = r.iter().map(|&x| x as f32).collect();
        let c = dijkstra(&s, &r32, &seeds, &order, false, true, f64::INFINITY, RadixHeap::new());
        // (f32 storage only ever holds exact values; here it rounds them, so only close.)
        assert!(c.dist.iter().zip(&b.dist).all(|(x, y)| (x - y).abs() <= 1e-5 * y.abs() || x == y));
        assert!(a.dist.iter().zip(&b.dist).all(|(x, y)| x.to_bits() == y.to_bits()));
        assert_eq!(a.reached, b.reached);
        // A range too wide for the ring falls back to the radix heap with the same costs.
        let wide = grid(1, 4, 1.0, vec![1e-3, 1e3, 1e-3, 1.0]);
        let out = cost_distance(
            &CostSurface::from_resistance(&wide).unwrap(),
            &Sources { cells: vec![(0, 0, 1)] },
            &CostOptions::default(),
        )
        .unwrap();
        assert_eq!(out.cost.data, vec![0.0, 500.0005, 1000.001, 1000.001 + 0.5005]);
    }

    #[test]
    fn two_sources_allocate_by_cost() {
        let s = CostSurface::from_resistance(&grid(1, 6, 1.0, vec![1.0; 6])).unwrap();
        let opts = CostOptions { allocation: true, ..Default::default() };
        let out = cost_distance(&s, &Sources { cells: vec![(0, 0, 3), (0, 5, 9)] }, &opts).unwrap();
        assert_eq!(out.allocation.unwrap().data, vec![3, 3, 3, 9, 9, 9]);
        assert_eq!(out.cost.data, vec![0.0, 1.0, 2.0, 2.0, 1.0, 0.0]);
    }
}
