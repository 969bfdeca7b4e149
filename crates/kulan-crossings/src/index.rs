//! A uniform grid over barrier segments, built for one buffer distance `d`: each segment is
//! registered in every cell its bounding box, grown by `d`, touches, so "is any barrier within
//! `d` of this point" looks at a single cell.

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::Coord;
use kulan_core::Barrier;
use rayon::prelude::*;

/// One straight piece of a barrier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seg {
    pub a: Coord<f64>,
    pub b: Coord<f64>,
    /// Index of the barrier feature in the slice the index was built from.
    pub feature: u32,
}

/// Distance from `p` to the segment `a`–`b`, computed the way GEOS does (so that "within d"
/// agrees with `st_is_within_distance`).
#[inline]
pub fn point_segment_distance(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    if a == b {
        return (p.x - a.x).hypot(p.y - a.y);
    }
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let r = ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2;
    if r <= 0.0 {
        return (p.x - a.x).hypot(p.y - a.y);
    }
    if r >= 1.0 {
        return (p.x - b.x).hypot(p.y - b.y);
    }
    let s = ((a.y - p.y) * dx - (a.x - p.x) * dy) / len2;
    s.abs() * len2.sqrt()
}

/// Where two segments meet: nothing, one point, or (collinear overlap) two points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Meet {
    None,
    Point(Coord<f64>),
    Overlap(Coord<f64>, Coord<f64>),
}

fn orient(p: Coord<f64>, q: Coord<f64>, r: Coord<f64>) -> i8 {
    match RobustKernel::orient2d(p, q, r) {
        Orientation::CounterClockwise => 1,
        Orientation::Clockwise => -1,
        Orientation::Collinear => 0,
    }
}

fn between(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> bool {
    p.x >= a.x.min(b.x) && p.x <= a.x.max(b.x) && p.y >= a.y.min(b.y) && p.y <= a.y.max(b.y)
}

/// Intersection of segments p1–p2 and q1–q2 with exact orientation tests (GEOS's
/// `LineIntersector` logic: endpoints that touch are returned exactly).
pub fn segment_meet(p1: Coord<f64>, p2: Coord<f64>, q1: Coord<f64>, q2: Coord<f64>) -> Meet {
    if p1.x.max(p2.x) < q1.x.min(q2.x)
        || q1.x.max(q2.x) < p1.x.min(p2.x)
        || p1.y.max(p2.y) < q1.y.min(q2.y)
        || q1.y.max(q2.y) < p1.y.min(p2.y)
    {
        return Meet::None;
    }
    let pq1 = orient(p1, p2, q1);
    let pq2 = orient(p1, p2, q2);
    if pq1 * pq2 > 0 {
        return Meet::None;
    }
    let qp1 = orient(q1, q2, p1);
    let qp2 = orient(q1, q2, p2);
    if qp1 * qp2 > 0 {
        return Meet::None;
    }
    if pq1 == 0 && pq2 == 0 && qp1 == 0 && qp2 == 0 {
        // Collinear: the overlap, if any.
        let mut pts: Vec<Coord<f64>> = Vec::with_capacity(4);
        for (c, s0, s1) in [(q1, p1, p2), (q2, p1, p2), (p1, q1, q2), (p2, q1, q2)] {
            if between(s0, s1, c) && !pts.contains(&c) {
                pts.push(c);
            }
        }
        return match pts.len() {
            0 => Meet::None,
            1 => Meet::Point(pts[0]),
            _ => Meet::Overlap(pts[0], pts[1]),
        };
    }
    if pq1 == 0 || pq2 == 0 || qp1 == 0 || qp2 == 0 {
        let p = if p1 == q1 || p1 == q2 {
            p1
        } else if p2 == q1 || p2 == q2 {
            p2
        } else if pq1 == 0 {
            q1
        } else if pq2 == 0 {
            q2
        } else if qp1 == 0 {
            p1
        } else {
            p2
        };
        return Meet::Point(p);
    }
    // Proper crossing.
    let (dpx, dpy) = (p2.x - p1.x, p2.y - p1.y);
    let (dqx, dqy) = (q2.x - q1.x, q2.y - q1.y);
    let den = dpx * dqy - dpy * dqx;
    let t = ((q1.x - p1.x) * dqy - (q1.y - p1.y) * dqx) / den;
    let t = t.clamp(0.0, 1.0);
    Meet::Point(Coord { x: p1.x + t * dpx, y: p1.y + t * dpy })
}

/// The grid index.
#[derive(Debug, Clone)]
pub struct BarrierIndex {
    pub segs: Vec<Seg>,
    /// Feature count (length of the barrier slice).
    pub n_features: usize,
    reach: f64,
    x0: f64,
    y0: f64,
    cell: f64,
    nx: usize,
    ny: usize,
    start: Vec<u32>,
    items: Vec<u32>,
}

impl BarrierIndex {
    /// Indexes all segments of `barriers` for queries within `reach` metres.
    pub fn new(barriers: &[Barrier], reach: f64) -> Self {
        let mut segs = Vec::new();
        for (fi, b) in barriers.iter().enumerate() {
            for ls in &b.geometry.0 {
                let cs = &ls.0;
                if cs.len() == 1 {
                    segs.push(Seg { a: cs[0], b: cs[0], feature: fi as u32 });
                }
                for w in cs.windows(2) {
                    segs.push(Seg { a: w[0], b: w[1], feature: fi as u32 });
                }
            }
        }
        Self::from_segments(segs, barriers.len(), reach)
    }

    /// Indexes the given segments.
    pub fn from_segments(segs: Vec<Seg>, n_features: usize, reach: f64) -> Self {
        let reach = reach.max(0.0);
        let (mut minx, mut miny, mut maxx, mut maxy) = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
        let mut total_len = 0.0;
        for s in &segs {
            minx = minx.min(s.a.x.min(s.b.x));
            miny = miny.min(s.a.y.min(s.b.y));
            maxx = maxx.max(s.a.x.max(s.b.x));
            maxy = maxy.max(s.a.y.max(s.b.y));
            total_len += (s.b.x - s.a.x).hypot(s.b.y - s.a.y);
        }
        if segs.is_empty() {
            return BarrierIndex {
                segs,
                n_features,
                reach,
                x0: 0.0,
                y0: 0.0,
                cell: 1.0,
                nx: 1,
                ny: 1,
                start: vec![0, 0],
                items: vec![],
            };
        }
        let (x0, y0) = (minx - reach, miny - reach);
        let (w, h) = ((maxx + reach - x0).max(1e-9), (maxy + reach - y0).max(1e-9));
        let mean_len = total_len / segs.len() as f64;
        // Cells about twice the typical segment and at least the reach; at most ~4 M cells.
        let mut cell = (2.0 * mean_len).max(2.0 * reach).max(1e-6);
        let max_cells = 4.0e6_f64.min(8.0 * segs.len() as f64).max(1.0);
        if (w / cell) * (h / cell) > max_cells {
            cell = (w * h / max_cells).sqrt();
        }
        let nx = ((w / cell).floor() as usize + 1).max(1);
        let ny = ((h / cell).floor() as usize + 1).max(1);
        let range = |s: &Seg| {
            let cx0 = (((s.a.x.min(s.b.x) - reach - x0) / cell).floor().max(0.0) as usize).min(nx - 1);
            let cx1 = (((s.a.x.max(s.b.x) + reach - x0) / cell).floor().max(0.0) as usize).min(nx - 1);
            let cy0 = (((s.a.y.min(s.b.y) - reach - y0) / cell).floor().max(0.0) as usize).min(ny - 1);
            let cy1 = (((s.a.y.max(s.b.y) + reach - y0) / cell).floor().max(0.0) as usize).min(ny - 1);
            (cx0, cx1, cy0, cy1)
        };
        let mut counts = vec![0u32; nx * ny + 1];
        for s in &segs {
            let (cx0, cx1, cy0, cy1) = range(s);
            for cy in cy0..=cy1 {
                for cx in cx0..=cx1 {
                    counts[cy * nx + cx + 1] += 1;
                }
            }
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let mut fill = counts.clone();
        let mut items = vec![0u32; *counts.last().unwrap_or(&0) as usize];
        for (si, s) in segs.iter().enumerate() {
            let (cx0, cx1, cy0, cy1) = range(s);
            for cy in cy0..=cy1 {
                for cx in cx0..=cx1 {
                    let c = cy * nx + cx;
                    items[fill[c] as usize] = si as u32;
                    fill[c] += 1;
                }
            }
        }
        BarrierIndex { segs, n_features, reach, x0, y0, cell, nx, ny, start: counts, items }
    }

    /// The reach the index was built for.
    pub fn reach(&self) -> f64 {
        self.reach
    }

    #[inline]
    fn cell_of(&self, p: Coord<f64>) -> Option<usize> {
        let fx = (p.x - self.x0) / self.cell;
        let fy = (p.y - self.y0) / self.cell;
        if !(fx >= 0.0 && fy >= 0.0) {
            return None;
        }
        let (cx, cy) = (fx as usize, fy as usize);
        if cx >= self.nx || cy >= self.ny {
            return None;
        }
        Some(cy * self.nx + cx)
    }

    #[inline]
    fn cell_items(&self, c: usize) -> &[u32] {
        &self.items[self.start[c] as usize..self.start[c + 1] as usize]
    }

    /// True when some barrier segment lies within `d` (≤ the reach) of `p`.
    pub fn any_within(&self, p: Coord<f64>, d: f64) -> bool {
        debug_assert!(d <= self.reach);
        let Some(c) = self.cell_of(p) else { return false };
        self.cell_items(c).iter().any(|&si| {
            let s = &self.segs[si as usize];
            point_segment_distance(p, s.a, s.b) <= d
        })
    }

    /// The features with a segment within `d` (≤ the reach) of `p`, sorted, no repeats.
    pub fn features_within(&self, p: Coord<f64>, d: f64, out: &mut Vec<u32>) {
        out.clear();
        let Some(c) = self.cell_of(p) else { return };
        for &si in self.cell_items(c) {
            let s = &self.segs[si as usize];
            if point_segment_distance(p, s.a, s.b) <= d {
                out.push(s.feature);
            }
        }
        out.sort_unstable();
        out.dedup();
    }

    /// Flags, for every point, whether a barrier lies within `d` (in parallel).
    pub fn flag_within(&self, pts: &[Coord<f64>], d: f64) -> Vec<bool> {
        pts.par_iter().with_min_len(4096).map(|&p| self.any_within(p, d)).collect()
    }

    /// Candidate segments near the straight step p→q, sorted, no repeats.
    fn candidates(&self, p: Coord<f64>, q: Coord<f64>, out: &mut Vec<u32>) {
        out.clear();
        let len = (q.x - p.x).hypot(q.y - p.y);
        let n = ((len / (0.5 * self.cell)).ceil() as usize).max(1);
        let mut last_cells: (usize, usize, usize, usize) = (usize::MAX, 0, 0, 0);
        for k in 0..n {
            let t0 = k as f64 / n as f64;
            let t1 = (k + 1) as f64 / n as f64;
            let a = Coord { x: p.x + t0 * (q.x - p.x), y: p.y + t0 * (q.y - p.y) };
            let b = if k + 1 == n { q } else { Coord { x: p.x + t1 * (q.x - p.x), y: p.y + t1 * (q.y - p.y) } };
            let clampx = |v: f64| (((v - self.x0) / self.cell).floor().max(0.0) as usize).min(self.nx - 1);
            let clampy = |v: f64| (((v - self.y0) / self.cell).floor().max(0.0) as usize).min(self.ny - 1);
            // Grow by a hair so a meeting point on a cell edge is never missed.
            let eps = 1e-7 * self.cell;
            let (minx, maxx) = (a.x.min(b.x) - eps, a.x.max(b.x) + eps);
            let (miny, maxy) = (a.y.min(b.y) - eps, a.y.max(b.y) + eps);
            if maxx < self.x0
                || maxy < self.y0
                || minx > self.x0 + self.cell * self.nx as f64
                || miny > self.y0 + self.cell * self.ny as f64
            {
                continue;
            }
            let cells = (clampx(minx), clampx(maxx), clampy(miny), clampy(maxy));
            if cells == last_cells {
                continue;
            }
            last_cells = cells;
            for cy in cells.2..=cells.3 {
                for cx in cells.0..=cells.1 {
                    out.extend_from_slice(self.cell_items(cy * self.nx + cx));
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }

    /// Where the path (a polyline through `pts`) meets each barrier feature: per feature, the
    /// number of distinct meeting points, as GEOS's `st_intersection(path, feature)` cast to
    /// points would count them (a collinear overlap counts its two ends). Sorted by feature.
    pub fn path_crossings(&self, pts: &[Coord<f64>]) -> Vec<(u32, usize)> {
        let mut hits: Vec<(u32, Coord<f64>)> = Vec::new();
        let mut cand = Vec::new();
        for w in pts.windows(2) {
            let (p, q) = (w[0], w[1]);
            self.candidates(p, q, &mut cand);
            for &si in &cand {
                let s = &self.segs[si as usize];
                match segment_meet(p, q, s.a, s.b) {
                    Meet::None => {}
                    Meet::Point(c) => hits.push((s.feature, c)),
                    Meet::Overlap(c, e) => {
                        hits.push((s.feature, c));
                        hits.push((s.feature, e));
                    }
                }
            }
        }
        hits.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.x.total_cmp(&b.1.x)).then(a.1.y.total_cmp(&b.1.y)));
        let mut out: Vec<(u32, usize)> = Vec::new();
        let mut i = 0;
        while i < hits.len() {
            let f = hits[i].0;
            let mut distinct: Vec<Coord<f64>> = Vec::new();
            while i < hits.len() && hits[i].0 == f {
                let c = hits[i].1;
                let tol = 1e-9 * (1.0 + c.x.abs().max(c.y.abs()));
                if !distinct.iter().any(|d| (d.x - c.x).abs() <= tol && (d.y - c.y).abs() <= tol) {
                    distinct.push(c);
                }
                i += 1;
            }
            out.push((f, distinct.len()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::MultiLineString;
    use kulan_core::{BarrierAttrs, FeatureId};

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    fn fence(id: i64, pts: &[(f64, f64)]) -> Barrier {
        let ls: geo::LineString<f64> = pts.iter().map(|&(x, y)| c(x, y)).collect();
        Barrier { id: FeatureId::Int(id), geometry: MultiLineString(vec![ls]), attrs: BarrierAttrs::default() }
    }

    #[test]
    fn distances_match_geometry() {
        assert_eq!(point_segment_distance(c(5.0, 3.0), c(0.0, 0.0), c(10.0, 0.0)), 3.0);
        assert_eq!(point_segment_distance(c(-3.0, 4.0), c(0.0, 0.0), c(10.0, 0.0)), 5.0);
        assert_eq!(point_segment_distance(c(1.0, 1.0), c(0.0, 0.0), c(0.0, 0.0)), 2f64.sqrt());
    }

    #[test]
    fn meets() {
        assert_eq!(segment_meet(c(0., 0.), c(2., 2.), c(0., 2.), c(2., 0.)), Meet::Point(c(1., 1.)));
        assert_eq!(segment_meet(c(0., 0.), c(1., 1.), c(1., 1.), c(2., 0.)), Meet::Point(c(1., 1.)));
        assert_eq!(segment_meet(c(0., 0.), c(1., 0.), c(0., 1.), c(1., 1.)), Meet::None);
        assert_eq!(segment_meet(c(0., 0.), c(2., 0.), c(1., 0.), c(3., 0.)), Meet::Overlap(c(1., 0.), c(2., 0.)));
    }

    #[test]
    fn grid_queries() {
        let fences = vec![fence(1, &[(0.0, 0.0), (1000.0, 0.0)]), fence(2, &[(500.0, -500.0), (500.0, 500.0)])];
        let idx = BarrierIndex::new(&fences, 50.0);
        assert!(idx.any_within(c(200.0, 49.0), 50.0));
        assert!(idx.any_within(c(200.0, -50.0), 50.0));
        assert!(!idx.any_within(c(200.0, 50.5), 50.0));
        assert!(!idx.any_within(c(-1e6, 0.0), 50.0));
        let mut f = Vec::new();
        idx.features_within(c(520.0, 10.0), 50.0, &mut f);
        assert_eq!(f, [0, 1]);
        // A zigzag through both fences, crossing the first three times and touching the second
        // at its end.
        let path = [c(100.0, -100.0), c(200.0, 100.0), c(300.0, -100.0), c(500.0, 300.0)];
        assert_eq!(idx.path_crossings(&path), vec![(0, 3), (1, 1)]);
        // A long step over many cells.
        let long = [c(-10.0, 400.0), c(1200.0, -400.0)];
        assert_eq!(idx.path_crossings(&long), vec![(0, 1), (1, 1)]);
        // The same point reached twice counts once.
        let back = [c(250.0, -10.0), c(250.0, 10.0), c(250.0, -10.0)];
        assert_eq!(idx.path_crossings(&back), vec![(0, 1)]);
    }
}
