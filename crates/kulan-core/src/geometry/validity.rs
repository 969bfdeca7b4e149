//! A fast validity screen for polygons with many thousands of vertices.
//!
//! geo's full validation compares every pair of edges, which takes seconds on a 5,000-vertex
//! range. Here the edges go into a packed R-tree in ring order, so only nearby pairs are compared. The screen is
//! conservative: it passes only polygons whose rings touch nowhere and whose parts and holes nest
//! properly; anything else (including valid rings that touch at a point) is handed to the full
//! check.

use geo::{Coord, LineString, MultiPolygon};
use robust::{orient2d, Coord as RCoord};

use crate::packed_rtree::{segment_box, PackedRTree};

struct RingEdge {
    ring: u32,
    index: u32,
    ring_len: u32,
    a: Coord<f64>,
    b: Coord<f64>,
}

fn orient(p: Coord<f64>, q: Coord<f64>, r: Coord<f64>) -> f64 {
    orient2d(RCoord { x: p.x, y: p.y }, RCoord { x: q.x, y: q.y }, RCoord { x: r.x, y: r.y })
}

fn within_box(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> bool {
    p.x >= a.x.min(b.x) && p.x <= a.x.max(b.x) && p.y >= a.y.min(b.y) && p.y <= a.y.max(b.y)
}

/// Whether two segments share any point (exact).
fn segments_touch(p: Coord<f64>, q: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> bool {
    let (o1, o2, o3, o4) = (orient(p, q, a), orient(p, q, b), orient(a, b, p), orient(a, b, q));
    if o1 * o2 < 0.0 && o3 * o4 < 0.0 {
        return true;
    }
    (o1 == 0.0 && within_box(p, q, a))
        || (o2 == 0.0 && within_box(p, q, b))
        || (o3 == 0.0 && within_box(a, b, p))
        || (o4 == 0.0 && within_box(a, b, q))
}

/// True when `mp` certainly is a valid multipolygon: closed rings that never touch each other
/// or themselves, holes inside their shells, parts outside each other.
pub fn is_clearly_valid(mp: &MultiPolygon<f64>) -> bool {
    let mut rings: Vec<&LineString<f64>> = Vec::new();
    for p in &mp.0 {
        rings.push(p.exterior());
        rings.extend(p.interiors());
    }
    let mut edges = Vec::new();
    for (ri, ring) in rings.iter().enumerate() {
        let n = ring.0.len();
        if n < 4 || ring.0[0] != ring.0[n - 1] {
            return false;
        }
        for i in 0..n - 1 {
            let (a, b) = (ring.0[i], ring.0[i + 1]);
            if a == b || !(a.x.is_finite() && a.y.is_finite()) {
                return false;
            }
            edges.push(RingEdge { ring: ri as u32, index: i as u32, ring_len: (n - 1) as u32, a, b });
        }
    }
    let tree = PackedRTree::new(edges.iter().map(|e| segment_box(e.a, e.b)).collect());
    let mut touching = false;
    for (i, e) in edges.iter().enumerate() {
        // Each pair once: touching is symmetric.
        tree.query(&segment_box(e.a, e.b), |j| {
            if j <= i || touching {
                return;
            }
            let o = &edges[j];
            let adjacent = o.ring == e.ring && (o.index == e.index + 1 || (e.index == 0 && o.index == e.ring_len - 1));
            if adjacent {
                // Neighbours share one vertex; they must not fold back onto each other.
                let (shared, far_e, far_o) = if o.index == e.index + 1 { (e.b, e.a, o.b) } else { (e.a, e.b, o.a) };
                if orient(shared, far_e, far_o) == 0.0
                    && (within_box(shared, far_e, far_o) || within_box(shared, far_o, far_e))
                {
                    touching = true;
                }
            } else if segments_touch(e.a, e.b, o.a, o.b) {
                touching = true;
            }
        });
        if touching {
            return false;
        }
    }
    // Rings never touch, so one vertex decides each containment question.
    for (pi, p) in mp.0.iter().enumerate() {
        let shell = p.exterior();
        if p.interiors().iter().any(|h| !ring_contains(shell, h.0[0])) {
            return false;
        }
        for (qi, q) in mp.0.iter().enumerate() {
            if pi != qi && ring_contains(q.exterior(), shell.0[0]) {
                let in_hole = q.interiors().iter().any(|h| ring_contains(h, shell.0[0]));
                if !in_hole {
                    return false;
                }
            }
        }
    }
    true
}

/// Even-odd point-in-ring test for a point known not to lie on the ring.
fn ring_contains(ring: &LineString<f64>, p: Coord<f64>) -> bool {
    let mut inside = false;
    for w in ring.0.windows(2) {
        let (lo, hi) = if w[0].y <= w[1].y { (w[0], w[1]) } else { (w[1], w[0]) };
        if lo.y <= p.y && p.y < hi.y && orient(lo, hi, p) > 0.0 {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{wkt, Validation};

    fn mp(p: geo::Polygon<f64>) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![p])
    }

    #[test]
    fn agrees_with_full_validation_on_typical_cases() {
        let cases: Vec<MultiPolygon<f64>> = vec![
            mp(wkt!(POLYGON((0. 0.,10. 0.,10. 10.,0. 10.,0. 0.),(4. 4.,6. 4.,6. 6.,4. 6.,4. 4.)))),
            mp(wkt!(POLYGON((0. 0.,10. 10.,10. 0.,0. 10.,0. 0.)))),
            mp(wkt!(POLYGON((0. 0.,10. 0.,10. 10.,0. 10.,0. 0.),(14. 4.,16. 4.,16. 6.,14. 6.,14. 4.)))),
            mp(wkt!(POLYGON((0. 0.,10. 0.,5. 0.,5. 5.,0. 0.)))),
            MultiPolygon::new(vec![
                wkt!(POLYGON((0. 0.,2. 0.,2. 2.,0. 2.,0. 0.))),
                wkt!(POLYGON((1. 1.,3. 1.,3. 3.,1. 3.,1. 1.))),
            ]),
            MultiPolygon::new(vec![
                wkt!(POLYGON((0. 0.,9. 0.,9. 9.,0. 9.,0. 0.),(2. 2.,7. 2.,7. 7.,2. 7.,2. 2.))),
                wkt!(POLYGON((3. 3.,6. 3.,6. 6.,3. 6.,3. 3.))),
            ]),
            MultiPolygon::new(vec![
                wkt!(POLYGON((0. 0.,9. 0.,9. 9.,0. 9.,0. 0.))),
                wkt!(POLYGON((3. 3.,6. 3.,6. 6.,3. 6.,3. 3.))),
            ]),
        ];
        for (i, c) in cases.iter().enumerate() {
            if is_clearly_valid(c) {
                assert!(c.is_valid(), "case {i} passed the screen but is invalid");
            }
        }
        assert!(is_clearly_valid(&cases[0]) && is_clearly_valid(&cases[5]));
        assert!(!is_clearly_valid(&cases[1]) && !is_clearly_valid(&cases[2]) && !is_clearly_valid(&cases[3]));
        assert!(!is_clearly_valid(&cases[4]) && !is_clearly_valid(&cases[6]));
    }
}
