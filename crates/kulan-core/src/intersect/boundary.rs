//! A range's boundary indexed for fast point-in-polygon tests and segment clipping.

use geo::{Coord, MultiPolygon};
use robust::{orient2d, Coord as RCoord};

use crate::packed_rtree::{segment_box, Bbox, PackedRTree};

/// One edge of a range's boundary (any ring of any part).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Edge {
    pub a: Coord<f64>,
    pub b: Coord<f64>,
}

impl Edge {
    #[inline]
    pub fn envelope(&self) -> Bbox {
        segment_box(self.a, self.b)
    }
}

/// Sign of the turn p → q → r: positive left, negative right, zero collinear (exact).
#[inline]
pub(crate) fn orient(p: Coord<f64>, q: Coord<f64>, r: Coord<f64>) -> f64 {
    orient2d(RCoord { x: p.x, y: p.y }, RCoord { x: q.x, y: q.y }, RCoord { x: r.x, y: r.y })
}

/// The boundary of a (valid) multipolygon, with an R-tree over its edges and a coarse cell mask.
pub(crate) struct Boundary {
    /// Every ring's edges in ring order, which keeps neighbours together for the packed tree.
    edges: Vec<Edge>,
    tree: PackedRTree,
    min: Coord<f64>,
    max: Coord<f64>,
    mask: CellMask,
}

/// A coarse grid over the area's bounding box. Cells any edge may touch are marked as boundary;
/// every other cell lies wholly inside or wholly outside, and a box that covers only such cells
/// is settled without looking at a single edge.
struct CellMask {
    nx: usize,
    ny: usize,
    origin: Coord<f64>,
    cell: Coord<f64>,
    /// 0 outside, 1 inside, 2 boundary.
    state: Vec<u8>,
    /// Summed-area table of boundary cells, (nx + 1) × (ny + 1).
    boundary_sums: Vec<u32>,
}

const OUTSIDE: u8 = 0;
const INSIDE: u8 = 1;
const BOUNDARY: u8 = 2;

impl CellMask {
    fn new(edges: &[Edge], min: Coord<f64>, max: Coord<f64>, inside: impl Fn(Coord<f64>) -> bool) -> Self {
        let side = ((edges.len() as f64).sqrt() * 4.0).clamp(4.0, 1024.0) as usize;
        let (w, h) = ((max.x - min.x).max(f64::MIN_POSITIVE), (max.y - min.y).max(f64::MIN_POSITIVE));
        let (nx, ny) = (side, side);
        let cell = Coord { x: w / nx as f64, y: h / ny as f64 };
        let mut mask = CellMask { nx, ny, origin: min, cell, state: vec![OUTSIDE; nx * ny], boundary_sums: Vec::new() };
        for e in edges.iter() {
            let (i0, j0) = mask.cell_of(Coord { x: e.a.x.min(e.b.x), y: e.a.y.min(e.b.y) }, -1);
            let (i1, j1) = mask.cell_of(Coord { x: e.a.x.max(e.b.x), y: e.a.y.max(e.b.y) }, 1);
            for j in j0..=j1 {
                for i in i0..=i1 {
                    mask.state[j * nx + i] = BOUNDARY;
                }
            }
        }
        // Label each 4-connected region of non-boundary cells by testing one cell centre.
        let mut seen = vec![false; nx * ny];
        let mut stack = Vec::new();
        for start in 0..nx * ny {
            if seen[start] || mask.state[start] == BOUNDARY {
                continue;
            }
            let centre = Coord {
                x: min.x + ((start % nx) as f64 + 0.5) * cell.x,
                y: min.y + ((start / nx) as f64 + 0.5) * cell.y,
            };
            let value = if inside(centre) { INSIDE } else { OUTSIDE };
            stack.push(start);
            seen[start] = true;
            while let Some(k) = stack.pop() {
                mask.state[k] = value;
                let (i, j) = (k % nx, k / nx);
                let mut visit = |n: usize| {
                    if !seen[n] && mask.state[n] != BOUNDARY {
                        seen[n] = true;
                        stack.push(n);
                    }
                };
                if i > 0 { visit(k - 1); }
                if i + 1 < nx { visit(k + 1); }
                if j > 0 { visit(k - nx); }
                if j + 1 < ny { visit(k + nx); }
            }
        }
        let mut sums = vec![0u32; (nx + 1) * (ny + 1)];
        for j in 0..ny {
            for i in 0..nx {
                let b = (mask.state[j * nx + i] == BOUNDARY) as u32;
                sums[(j + 1) * (nx + 1) + i + 1] = b + sums[j * (nx + 1) + i + 1] + sums[(j + 1) * (nx + 1) + i] - sums[j * (nx + 1) + i];
            }
        }
        mask.boundary_sums = sums;
        mask
    }

    /// The cell holding `p`, widened by `pad` cells (so rounding can never miss a cell), clamped.
    #[inline]
    fn cell_of(&self, p: Coord<f64>, pad: isize) -> (usize, usize) {
        let clamp = |v: f64, n: usize| -> usize { (floor_to_isize(v) + pad).clamp(0, n as isize - 1) as usize };
        (clamp((p.x - self.origin.x) / self.cell.x, self.nx), clamp((p.y - self.origin.y) / self.cell.y, self.ny))
    }

    /// A point at `p`'s height in the nearest cell of its row (east first, then west) that no
    /// edge comes near, and whether that cell is inside.
    fn settled_cell_in_row(&self, p: Coord<f64>) -> Option<(Coord<f64>, bool)> {
        let (i, j) = self.cell_of(p, 0);
        let row = &self.state[j * self.nx..(j + 1) * self.nx];
        let settled = |k: usize| (row[k] != BOUNDARY).then(|| {
            // The cell's centre column: a whole cell away from any edge, so rounding cannot matter.
            (Coord { x: self.origin.x + (k as f64 + 0.5) * self.cell.x, y: p.y }, row[k] == INSIDE)
        });
        (i + 1..self.nx).find_map(settled).or_else(|| (0..i).rev().find_map(settled))
    }

    /// Inside or outside for a box that meets no boundary cell; `None` when it might.
    #[inline]
    fn classify(&self, env: &Bbox) -> Option<bool> {
        let (i0, j0) = self.cell_of(Coord { x: env[0], y: env[1] }, -1);
        let (i1, j1) = self.cell_of(Coord { x: env[2], y: env[3] }, 1);
        let w = self.nx + 1;
        let count = self.boundary_sums[(j1 + 1) * w + i1 + 1] + self.boundary_sums[j0 * w + i0]
            - self.boundary_sums[j0 * w + i1 + 1]
            - self.boundary_sums[(j1 + 1) * w + i0];
        (count == 0).then(|| self.state[j0 * self.nx + i0] == INSIDE)
    }
}

impl Boundary {
    pub fn new(area: &MultiPolygon<f64>) -> Self {
        let mut edges = Vec::new();
        for poly in &area.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                edges.extend(ring.lines().filter(|l| l.start != l.end).map(|l| Edge { a: l.start, b: l.end }));
            }
        }
        let (mut min, mut max) = (Coord { x: f64::INFINITY, y: f64::INFINITY }, Coord { x: f64::NEG_INFINITY, y: f64::NEG_INFINITY });
        for e in &edges {
            min.x = min.x.min(e.a.x);
            min.y = min.y.min(e.a.y);
            max.x = max.x.max(e.a.x);
            max.y = max.y.max(e.a.y);
        }
        let tree = PackedRTree::new(edges.iter().map(Edge::envelope).collect());
        let mask = CellMask::new(&edges, min, max, |p| ray_cast(&edges, &tree, min, max, p));
        Boundary { edges, tree, min, max, mask }
    }

    /// Inside or outside for everything in `env`, when the coarse mask can tell without edges.
    #[inline]
    pub fn classify_box(&self, env: &Bbox) -> Option<bool> {
        if env[2] < self.min.x || env[0] > self.max.x || env[3] < self.min.y || env[1] > self.max.y {
            return Some(false);
        }
        self.mask.classify(env)
    }

    pub fn bbox(&self) -> Bbox {
        [self.min.x, self.min.y, self.max.x, self.max.y]
    }

    /// Edges whose boxes meet `envelope`.
    pub fn edges_near(&self, envelope: &Bbox, out: &mut Vec<Edge>) {
        out.clear();
        self.tree.query(envelope, |i| out.push(self.edges[i]));
    }

    /// True when `p` is inside the area or on its boundary.
    ///
    /// Near the boundary, walks from `p` along its cell row to the nearest cell no edge comes
    /// near, whose side the mask knows, and counts the edges crossed on the way (half-open rule,
    /// so that passing through a vertex counts once). Without such a cell, casts a ray to the
    /// nearer side of the bounding box instead.
    pub fn contains(&self, p: Coord<f64>) -> bool {
        if let Some(inside) = self.classify_box(&[p.x, p.y, p.x, p.y]) {
            return inside;
        }
        match self.mask.settled_cell_in_row(p) {
            Some((q, q_inside)) => walk_to(&self.edges, &self.tree, p, q, q_inside),
            None => ray_cast(&self.edges, &self.tree, self.min, self.max, p),
        }
    }
}

/// Whether `p` is inside or on the boundary, given a point `q` at the same height, off every
/// edge, that is inside exactly when `q_inside`: each edge crossed between them flips the side.
fn walk_to(edges: &[Edge], tree: &PackedRTree, p: Coord<f64>, q: Coord<f64>, q_inside: bool) -> bool {
    let (mut flips, mut on_boundary) = (false, false);
    tree.query(&segment_box(p, q), |i| {
        let e = &edges[i];
        let (lo, hi) = if e.a.y <= e.b.y { (e.a, e.b) } else { (e.b, e.a) };
        if orient(lo, hi, p) == 0.0 && on_segment(lo, hi, p) {
            on_boundary = true;
        }
        if !(lo.y <= p.y && p.y < hi.y) {
            return;
        }
        // The edge passes between p and q when they lie on opposite sides of it (q is never on it).
        let (o_p, o_q) = (orient(lo, hi, p), orient(lo, hi, q));
        if o_p != 0.0 && (o_p > 0.0) != (o_q > 0.0) {
            flips = !flips;
        }
    });
    on_boundary || (q_inside != flips)
}

/// `v.floor() as isize` without the call into libm (x86-64 without SSE4.1 has no rounding
/// instruction); the same value for every input.
#[inline]
fn floor_to_isize(v: f64) -> isize {
    let t = v as isize;
    if (t as f64) > v {
        t - 1
    } else {
        t
    }
}

/// Point in polygon (boundary included) by casting a ray to the nearer side of the box.
fn ray_cast(edges: &[Edge], tree: &PackedRTree, min: Coord<f64>, max: Coord<f64>, p: Coord<f64>) -> bool {
    if p.x < min.x || p.x > max.x || p.y < min.y || p.y > max.y {
        return false;
    }
    let towards_east = max.x - p.x <= p.x - min.x;
    let ray = if towards_east { [p.x, p.y, max.x, p.y] } else { [min.x, p.y, p.x, p.y] };
    let (mut inside, mut on_boundary) = (false, false);
    tree.query(&ray, |i| {
        let e = &edges[i];
        let o = orient(e.a, e.b, p);
        if o == 0.0 && on_segment(e.a, e.b, p) {
            on_boundary = true;
        }
        let (lo, hi) = if e.a.y <= e.b.y { (e.a, e.b) } else { (e.b, e.a) };
        if !(lo.y <= p.y && p.y < hi.y) {
            return;
        }
        // p is left of the upward edge lo→hi exactly when the edge passes east of p.
        let east_of_p = orient(lo, hi, p) > 0.0;
        if east_of_p == towards_east {
            inside = !inside;
        }
    });
    on_boundary || inside
}

/// For a collinear `p`, whether it lies within the segment a–b.
#[inline]
pub(crate) fn on_segment(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> bool {
    p.x >= a.x.min(b.x) && p.x <= a.x.max(b.x) && p.y >= a.y.min(b.y) && p.y <= a.y.max(b.y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::wkt;

    #[test]
    fn contains_with_holes_vertices_and_boundary() {
        let area = MultiPolygon::new(vec![wkt!(POLYGON((0. 0.,10. 0.,10. 10.,0. 10.,0. 0.),(4. 4.,6. 4.,6. 6.,4. 6.,4. 4.)))]);
        let b = Boundary::new(&area);
        let c = |x, y| b.contains(Coord { x, y });
        assert!(c(1.0, 1.0));
        assert!(!c(5.0, 5.0), "inside the hole");
        assert!(c(4.0, 5.0), "on the hole's edge");
        assert!(c(0.0, 0.0) && c(10.0, 5.0), "boundary counts as inside");
        assert!(!c(11.0, 5.0) && !c(-1.0, 4.0));
        assert!(c(2.0, 4.0) && c(8.0, 4.0), "ray through the hole's vertices");
        assert!(c(9.0, 6.0) && c(1.0, 6.0));
    }

    #[test]
    fn walking_to_a_settled_cell_agrees_with_the_full_ray() {
        // A wiggly star with a hole, sampled densely around its edges and on its vertices.
        let n = 400;
        let ring = |r0: f64, amp: f64, k: f64, rev: bool| {
            let mut pts: Vec<Coord<f64>> = (0..n)
                .map(|i| {
                    let t = i as f64 / n as f64 * std::f64::consts::TAU;
                    let r = r0 * (1.0 + amp * (k * t).sin());
                    Coord { x: (r * t.cos() * 100.0).round() / 100.0, y: (r * t.sin() * 100.0).round() / 100.0 }
                })
                .collect();
            if rev {
                pts.reverse();
            }
            pts.push(pts[0]);
            geo::LineString::new(pts)
        };
        let area = MultiPolygon::new(vec![geo::Polygon::new(ring(100.0, 0.2, 7.0, false), vec![ring(30.0, 0.1, 3.0, true)])]);
        let b = Boundary::new(&area);
        let mut checked = 0;
        for e in b.edges.clone() {
            for t in [0.0, 0.25, 0.5] {
                let on = Coord { x: e.a.x + t * (e.b.x - e.a.x), y: e.a.y + t * (e.b.y - e.a.y) };
                for (dx, dy) in [(0.0, 0.0), (0.3, 0.0), (-0.3, 0.1), (0.0, -0.7), (1.5, 1.5), (-2.0, 0.5)] {
                    let p = Coord { x: on.x + dx, y: on.y + dy };
                    assert_eq!(b.contains(p), ray_cast(&b.edges, &b.tree, b.min, b.max, p), "at {p:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 4000);
    }

    #[test]
    fn contains_in_a_concave_polygon_from_both_sides() {
        // A U shape: the notch is outside.
        let area = MultiPolygon::new(vec![wkt!(POLYGON((0. 0.,9. 0.,9. 9.,6. 9.,6. 3.,3. 3.,3. 9.,0. 9.,0. 0.)))]);
        let b = Boundary::new(&area);
        assert!(!b.contains(Coord { x: 4.5, y: 6.0 }));
        assert!(b.contains(Coord { x: 1.0, y: 6.0 }) && b.contains(Coord { x: 8.0, y: 6.0 }));
        assert!(b.contains(Coord { x: 4.5, y: 3.0 }), "notch floor is boundary");
    }
}
