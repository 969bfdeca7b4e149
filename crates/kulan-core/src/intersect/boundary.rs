//! A range's boundary indexed for fast point-in-polygon tests and segment clipping.

use geo::{Coord, MultiPolygon};
use robust::{orient2d, Coord as RCoord};
use rstar::{RTree, RTreeObject, AABB};

/// One edge of a range's boundary (any ring of any part).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Edge {
    pub a: Coord<f64>,
    pub b: Coord<f64>,
}

impl RTreeObject for Edge {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners([self.a.x, self.a.y], [self.b.x, self.b.y])
    }
}

/// Sign of the turn p → q → r: positive left, negative right, zero collinear (exact).
#[inline]
pub(crate) fn orient(p: Coord<f64>, q: Coord<f64>, r: Coord<f64>) -> f64 {
    orient2d(RCoord { x: p.x, y: p.y }, RCoord { x: q.x, y: q.y }, RCoord { x: r.x, y: r.y })
}

/// The boundary of a (valid) multipolygon, with an R-tree over its edges.
pub(crate) struct Boundary {
    tree: RTree<Edge>,
    min: Coord<f64>,
    max: Coord<f64>,
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
        Boundary { tree: RTree::bulk_load(edges), min, max }
    }

    pub fn bbox(&self) -> AABB<[f64; 2]> {
        AABB::from_corners([self.min.x, self.min.y], [self.max.x, self.max.y])
    }

    /// Edges whose boxes meet `envelope`.
    pub fn edges_near(&self, envelope: &AABB<[f64; 2]>, out: &mut Vec<Edge>) {
        out.clear();
        out.extend(self.tree.locate_in_envelope_intersecting(envelope).copied());
    }

    /// True when `p` is inside the area or on its boundary.
    ///
    /// Casts a horizontal ray towards the nearer side of the bounding box and counts the edges it
    /// crosses, with the half-open rule so that a ray through a vertex counts once.
    pub fn contains(&self, p: Coord<f64>) -> bool {
        if p.x < self.min.x || p.x > self.max.x || p.y < self.min.y || p.y > self.max.y {
            return false;
        }
        let towards_east = self.max.x - p.x <= p.x - self.min.x;
        let ray = if towards_east {
            AABB::from_corners([p.x, p.y], [self.max.x, p.y])
        } else {
            AABB::from_corners([self.min.x, p.y], [p.x, p.y])
        };
        let mut inside = false;
        for e in self.tree.locate_in_envelope_intersecting(&ray) {
            let o = orient(e.a, e.b, p);
            if o == 0.0 && on_segment(e.a, e.b, p) {
                return true;
            }
            let (lo, hi) = if e.a.y <= e.b.y { (e.a, e.b) } else { (e.b, e.a) };
            if !(lo.y <= p.y && p.y < hi.y) {
                continue;
            }
            // p is left of the upward edge lo→hi exactly when the edge passes east of p.
            let east_of_p = orient(lo, hi, p) > 0.0;
            if east_of_p == towards_east {
                inside = !inside;
            }
        }
        inside
    }
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
    fn contains_in_a_concave_polygon_from_both_sides() {
        // A U shape: the notch is outside.
        let area = MultiPolygon::new(vec![wkt!(POLYGON((0. 0.,9. 0.,9. 9.,6. 9.,6. 3.,3. 3.,3. 9.,0. 9.,0. 0.)))]);
        let b = Boundary::new(&area);
        assert!(!b.contains(Coord { x: 4.5, y: 6.0 }));
        assert!(b.contains(Coord { x: 1.0, y: 6.0 }) && b.contains(Coord { x: 8.0, y: 6.0 }));
        assert!(b.contains(Coord { x: 4.5, y: 3.0 }), "notch floor is boundary");
    }
}
