//! Least-cost corridors between core areas, as Linkage Mapper's *Linkage Pathways* builds them.
//!
//! For cores `a` and `b` on a resistance surface:
//!
//! - **CWD** (cost-weighted distance) `CWD_a`: accumulated cost from the nearest cell of core `a`
//!   to every cell ([`crate::cost_distance`] with `a`'s cells as sources).
//! - **LCD** (least-cost distance, `CW_Dist` in the link table): the cost of the cheapest path
//!   from `a` to `b`, the smallest `CWD_a` over `b`'s cells. The graph is symmetric (a move costs
//!   the same both ways), so it is also the smallest `CWD_a + CWD_b` over all cells.
//! - **LCP** (least-cost path): that path, traced back from `b`'s cheapest cell along `CWD_a`'s
//!   backlinks, as a line through cell centres.
//! - **NLCC** (normalised least-cost corridor): `CWD_a + CWD_b − LCD`. It is 0 on the least-cost
//!   path and says, for every other cell, how much more a path through that cell costs than the
//!   best one.
//! - The corridor **mosaic** is the smallest NLCC over all kept links; *truncated at width W* it
//!   keeps only cells within `W` of a least-cost path's cost, as Linkage Mapper's
//!   `corridors_truncated_at_W` does.
//!
//! Which pairs get a corridor: every pair whose least-cost path reaches the other core (or, with
//! [`Adjacency::Allocation`], only pairs whose cost-allocation zones touch, Linkage Mapper's
//! cost-weighted adjacency). A pair whose least-cost path runs through a third core is dropped, as
//! with Linkage Mapper's "drop corridors that intersect core areas": the two are connected through
//! that core, not directly. Links can further be limited by a maximum CWD or Euclidean distance.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use geo::{Coord, LineString};
use kulan_core::raster::Grid;
use rayon::prelude::*;

use crate::costdist::{place_sources, run_raw, unpad_map, Connectivity, CostSurface, Sources, BACKLINK_NONE, DIRS};
use crate::error::CostError;

/// Which core pairs are candidates for a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Adjacency {
    /// Every pair with a finite least-cost distance.
    #[default]
    All,
    /// Pairs whose cost-allocation zones share an edge or corner (Linkage Mapper's cost-weighted
    /// adjacency).
    Allocation,
}

/// Settings for [`corridors`].
#[derive(Debug, Clone, Default)]
pub struct CorridorOptions {
    pub connectivity: Connectivity,
    pub adjacency: Adjacency,
    /// Keep links whose least-cost path crosses a third core (Linkage Mapper drops them by default).
    pub keep_through_cores: bool,
    /// Drop links whose cost-weighted distance exceeds this.
    pub max_cwd: Option<f64>,
    /// Drop links whose Euclidean distance between the cores exceeds this (map units).
    pub max_euclidean: Option<f64>,
    /// Width at which to truncate the corridor mosaic (in cost units, like the NLCC).
    pub truncate_width: Option<f64>,
    /// Keep the per-core CWD grids in the result.
    pub keep_cwd: bool,
    /// Keep each corridor link's NLCC grid in the result.
    pub keep_link_corridors: bool,
    /// Drop core cells on NoData instead of failing.
    pub drop_cores_on_nodata: bool,
}

/// Why a candidate pair has no corridor (or that it has one).
#[derive(Debug, Clone, PartialEq)]
pub enum LinkStatus {
    /// A corridor is built for this link.
    Corridor,
    /// The least-cost path runs through the named core(s).
    ThroughCore(Vec<i64>),
    /// Cost allocation zones do not touch (with [`Adjacency::Allocation`]).
    NotAdjacent,
    /// No path: the cores are separated by impassable cells.
    Unreachable,
    /// CW_Dist above the maximum asked for.
    TooCostly,
    /// Euclidean distance above the maximum asked for.
    TooFar,
}

impl LinkStatus {
    /// The short text written into the link table's `Link_Info` column.
    pub fn info(&self) -> String {
        match self {
            LinkStatus::Corridor => "Core-Core corridor".into(),
            LinkStatus::ThroughCore(ids) => format!(
                "dropped: least-cost path crosses core {}",
                ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
            ),
            LinkStatus::NotAdjacent => "dropped: cost-allocation zones not adjacent".into(),
            LinkStatus::Unreachable => "dropped: no path (separated by impassable cells)".into(),
            LinkStatus::TooCostly => "dropped: CW_Dist above the maximum".into(),
            LinkStatus::TooFar => "dropped: Euc_Dist above the maximum".into(),
        }
    }

    pub fn is_corridor(&self) -> bool {
        matches!(self, LinkStatus::Corridor)
    }
}

/// One row of the link table: a pair of cores and their least-cost connection.
#[derive(Debug, Clone)]
pub struct Link {
    /// 1-based, in order of (From_Core, To_Core).
    pub link_id: usize,
    pub from_core: i64,
    pub to_core: i64,
    /// Shortest distance between the two cores' cells (cell centre to cell centre), map units.
    pub euc_dist: f64,
    /// Least-cost distance (cost × map units); `+∞` when unreachable.
    pub cw_dist: f64,
    /// Length of the least-cost path along cell centres, map units (0 when unreachable).
    pub lcp_length: f64,
    /// Whether the two cores' cost-allocation zones touch.
    pub allocation_adjacent: bool,
    pub status: LinkStatus,
    /// The least-cost path as `(row, col)` cells from `from_core` to `to_core`.
    pub path_cells: Vec<(usize, usize)>,
    /// The least-cost path as a line through cell centres.
    pub path: LineString<f64>,
}

impl Link {
    /// CW_Dist / Euc_Dist (Linkage Mapper's `cwd2Euc_R`).
    pub fn cwd_to_euc_ratio(&self) -> f64 {
        self.cw_dist / self.euc_dist
    }

    /// CW_Dist / LCP_Length (Linkage Mapper's `cwd2Path_R`): the mean resistance along the path.
    pub fn cwd_to_path_ratio(&self) -> f64 {
        self.cw_dist / self.lcp_length
    }
}

/// Everything [`corridors`] computes.
#[derive(Debug, Clone)]
pub struct CorridorResult {
    /// Core ids, sorted.
    pub cores: Vec<i64>,
    /// Number of cells per core (after dropping cells on NoData, if asked).
    pub core_cells: Vec<usize>,
    pub links: Vec<Link>,
    /// Smallest NLCC over all corridor links; `+∞` where no corridor reaches.
    pub mosaic: Grid<f64>,
    /// The mosaic with cells above the truncation width set to `+∞`.
    pub truncated: Option<Grid<f64>>,
    /// Per-core CWD grids (same order as `cores`) when asked for.
    pub cwd: Vec<Grid<f64>>,
    /// Per-link NLCC grids `(link_id, grid)` when asked for.
    pub link_corridors: Vec<(usize, Grid<f64>)>,
    /// Cost allocation: the id of the core each cell is cheapest to reach from (0 = none).
    pub allocation: Grid<i64>,
}

/// Builds least-cost corridors between every pair of cores.
///
/// ```
/// use kulan_core::raster::{GeoTransform, Grid};
/// use kulan_corridors::{corridors, CorridorOptions, CostSurface, Sources};
/// let t = GeoTransform::from_lower_left(0.0, 0.0, 10.0, 1);
/// let r = Grid { rows: 1, cols: 4, transform: t, nodata: None, crs: None, data: vec![1.0; 4] };
/// let s = CostSurface::from_resistance(&r).unwrap();
/// let out = corridors(&s, &Sources { cells: vec![(0, 0, 1), (0, 3, 2)] }, &CorridorOptions::default()).unwrap();
/// assert_eq!(out.links[0].cw_dist, 30.0);
/// assert_eq!(out.mosaic.data, vec![0.0; 4]); // every cell lies on the least-cost path
/// ```
pub fn corridors(surface: &CostSurface, cores: &Sources, opts: &CorridorOptions) -> Result<CorridorResult, CostError> {
    let placed = place_sources(surface, cores, opts.drop_cores_on_nodata)?;
    let all_ids = cores.ids();
    let mut grouped: Vec<Vec<usize>> = vec![Vec::new(); all_ids.len()];
    for &(p, id) in &placed {
        grouped[all_ids.binary_search(&id).expect("listed")].push(p);
    }
    // Ids whose cells all fell on NoData (and were dropped) are left out.
    let (ids, by_core): (Vec<i64>, Vec<Vec<usize>>) =
        all_ids.into_iter().zip(grouped).filter(|(_, cells)| !cells.is_empty()).unzip();
    if ids.len() < 2 {
        return Err(CostError::Input(format!(
            "corridors need at least two cores, found {} (core ids: {:?})",
            ids.len(),
            ids
        )));
    }
    let n = ids.len();
    // Which core (index) each padded core cell belongs to.
    let mut core_of: HashMap<usize, usize> = HashMap::new();
    for (k, cells) in by_core.iter().enumerate() {
        for &p in cells {
            core_of.insert(p, k);
        }
    }

    // One CWD run per core, in parallel.
    let runs: Vec<_> = (0..n)
        .into_par_iter()
        .map(|k| {
            let seeds: Vec<(usize, u32)> = by_core[k].iter().map(|&p| (p, k as u32 + 1)).collect();
            run_raw(surface, &seeds, opts.connectivity, true, false, f64::INFINITY)
        })
        .collect();
    // One multi-source run for cost allocation (and allocation adjacency).
    let all_seeds: Vec<(usize, u32)> =
        by_core.iter().enumerate().flat_map(|(k, cells)| cells.iter().map(move |&p| (p, k as u32 + 1))).collect();
    let alloc_run = run_raw(surface, &all_seeds, opts.connectivity, false, true, f64::INFINITY);
    let adjacent = allocation_adjacency(surface, &alloc_run.alloc);

    let scale = surface.scale;
    let mut links = Vec::new();
    for a in 0..n {
        for b in a + 1..n {
            let dist_a = &runs[a].dist;
            // LCD: the cheapest cell of b as seen from a (the first such cell on ties).
            let (best, lcd_units) = by_core[b]
                .iter()
                .map(|&p| (p, dist_a[p]))
                .fold((usize::MAX, f64::INFINITY), |acc, x| if x.1 < acc.1 { x } else { acc });
            let allocation_adjacent = adjacent.contains(&(a as u32 + 1, b as u32 + 1));
            let mut link = Link {
                link_id: links.len() + 1,
                from_core: ids[a],
                to_core: ids[b],
                euc_dist: euclidean_between(surface, &by_core[a], &by_core[b]),
                cw_dist: lcd_units * scale,
                lcp_length: 0.0,
                allocation_adjacent,
                status: LinkStatus::Corridor,
                path_cells: Vec::new(),
                path: LineString::new(Vec::new()),
            };
            if !lcd_units.is_finite() {
                link.status = LinkStatus::Unreachable;
                links.push(link);
                continue;
            }
            let path = trace_padded(surface, &runs[a].back, best);
            let crossed: BTreeSet<i64> = path
                .iter()
                .filter_map(|p| core_of.get(p))
                .filter(|&&k| k != a && k != b)
                .map(|&k| ids[k])
                .collect();
            link.lcp_length = path_length(surface, &path);
            link.path_cells = path
                .iter()
                .map(|&p| {
                    let i = surface.unpad(p);
                    (i / surface.cols, i % surface.cols)
                })
                .collect();
            link.path = link
                .path_cells
                .iter()
                .map(|&(r, c)| {
                    let (x, y) = surface.transform.cell_center(r, c);
                    Coord { x, y }
                })
                .collect();
            link.status = if opts.adjacency == Adjacency::Allocation && !allocation_adjacent {
                LinkStatus::NotAdjacent
            } else if !crossed.is_empty() && !opts.keep_through_cores {
                LinkStatus::ThroughCore(crossed.into_iter().collect())
            } else if opts.max_cwd.is_some_and(|m| link.cw_dist > m) {
                LinkStatus::TooCostly
            } else if opts.max_euclidean.is_some_and(|m| link.euc_dist > m) {
                LinkStatus::TooFar
            } else {
                LinkStatus::Corridor
            };
            links.push(link);
        }
    }

    // NLCC per corridor link and their mosaic, on the padded lattice in accumulation units.
    let id_index: BTreeMap<i64, usize> = ids.iter().enumerate().map(|(k, &id)| (id, k)).collect();
    let nlcc_of = |l: &Link| -> Vec<f64> {
        let (a, b) = (id_index[&l.from_core], id_index[&l.to_core]);
        let lcd = l.cw_dist / scale;
        runs[a]
            .dist
            .iter()
            .zip(&runs[b].dist)
            .map(|(&da, &db)| {
                let s = da + db;
                if s.is_finite() {
                    (s - lcd).max(0.0)
                } else {
                    f64::INFINITY
                }
            })
            .collect()
    };
    let mut mosaic = vec![f64::INFINITY; surface.res.len()];
    let mut link_corridors = Vec::new();
    for l in links.iter().filter(|l| l.status.is_corridor()) {
        let nlcc = nlcc_of(l);
        for (m, &v) in mosaic.iter_mut().zip(&nlcc) {
            if v < *m {
                *m = v;
            }
        }
        if opts.keep_link_corridors {
            link_corridors.push((l.link_id, unpad_map(surface, &nlcc, f64::INFINITY, |v| v * scale)));
        }
    }
    let mosaic = unpad_map(surface, &mosaic, f64::INFINITY, |v| v * scale);
    let truncated = opts.truncate_width.map(|w| mosaic.map(|v| if v <= w { v } else { f64::INFINITY }));
    let cwd = if opts.keep_cwd {
        runs.iter().map(|r| unpad_map(surface, &r.dist, f64::INFINITY, |v| v * scale)).collect()
    } else {
        Vec::new()
    };
    let allocation = unpad_map(surface, &alloc_run.alloc, 0i64, |a| if a == 0 { 0 } else { ids[a as usize - 1] });
    Ok(CorridorResult {
        core_cells: by_core.iter().map(|c| c.len()).collect(),
        cores: ids,
        links,
        mosaic,
        truncated,
        cwd,
        link_corridors,
        allocation,
    })
}

/// Follows backlinks from padded cell `p` to a source; returns the cells from the source to `p`.
fn trace_padded(surface: &CostSurface, back: &[u8], p: usize) -> Vec<usize> {
    let w = surface.width as isize;
    let mut path = vec![p];
    let mut cur = p;
    loop {
        let code = back[cur];
        if code == 0 || code == BACKLINK_NONE || path.len() > back.len() {
            break;
        }
        let (dr, dc) = DIRS[code as usize - 1];
        cur = (cur as isize + dr * w + dc) as usize;
        path.push(cur);
    }
    path.reverse();
    path
}

/// Follows a backlink grid from `(row, col)` back to a source: the least-cost path, source first.
///
/// Returns an empty path when the cell was not reached.
pub fn trace_path(backlink: &Grid<u8>, row: usize, col: usize) -> Vec<(usize, usize)> {
    if backlink.get(row, col) == BACKLINK_NONE {
        return Vec::new();
    }
    let mut path = vec![(row, col)];
    let (mut r, mut c) = (row as isize, col as isize);
    loop {
        let code = backlink.get(r as usize, c as usize);
        if code == 0 || code == BACKLINK_NONE || path.len() > backlink.data.len() {
            break;
        }
        let (dr, dc) = DIRS[code as usize - 1];
        r += dr;
        c += dc;
        if r < 0 || c < 0 || r as usize >= backlink.rows || c as usize >= backlink.cols {
            break;
        }
        path.push((r as usize, c as usize));
    }
    path.reverse();
    path
}

fn path_length(surface: &CostSurface, path: &[usize]) -> f64 {
    let (lx, ly, ld) = surface.step_m;
    let wd = surface.width as isize;
    path.windows(2)
        .map(|w| {
            let d = w[1] as isize - w[0] as isize;
            if d == 1 || d == -1 {
                lx
            } else if d == wd || d == -wd {
                ly
            } else {
                ld
            }
        })
        .sum()
}

/// Shortest centre-to-centre distance between two sets of padded cells (their outlines suffice).
fn euclidean_between(surface: &CostSurface, a: &[usize], b: &[usize]) -> f64 {
    let outline = |cells: &[usize]| -> Vec<(f64, f64)> {
        let set: HashSet<usize> = cells.iter().copied().collect();
        let w = surface.width;
        cells
            .iter()
            .filter(|&&p| [p + 1, p - 1, p + w, p - w].iter().any(|q| !set.contains(q)))
            .map(|&p| surface.transform.cell_center(p / w - 1, p % w - 1))
            .collect()
    };
    let (oa, ob) = (outline(a), outline(b));
    let mut best = f64::INFINITY;
    for &(xa, ya) in &oa {
        for &(xb, yb) in &ob {
            best = best.min((xa - xb).hypot(ya - yb));
        }
    }
    best
}

/// Pairs of allocation labels `(lo, hi)` whose zones touch (8-neighbourhood).
fn allocation_adjacency(surface: &CostSurface, alloc: &[u32]) -> BTreeSet<(u32, u32)> {
    let w = surface.width;
    let mut pairs = BTreeSet::new();
    for r in 1..=surface.rows {
        for c in 1..=surface.cols {
            let p = r * w + c;
            let a = alloc[p];
            if a == 0 {
                continue;
            }
            // Look right, down-left, down and down-right; the other four are seen from the far side.
            for q in [p + 1, p + w - 1, p + w, p + w + 1] {
                let b = alloc[q];
                if b != 0 && b != a {
                    pairs.insert((a.min(b), a.max(b)));
                }
            }
        }
    }
    pairs
}
