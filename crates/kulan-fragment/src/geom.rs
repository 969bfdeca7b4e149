//! Exact predicates and the floating-point intersection point used for noding.

pub type Pt = [f64; 2];

/// Polygon rings as vertex lists without the closing vertex.
pub type Ring = Vec<Pt>;

/// Sign of the orientation of `c` relative to the directed line `a`→`b`: > 0 left, < 0 right,
/// 0 collinear. Exact (adaptive-precision arithmetic).
#[inline]
pub fn orient(a: Pt, b: Pt, c: Pt) -> i8 {
    // Fast filter first; fall back to the exact predicate near zero.
    let detl = (b[0] - a[0]) * (c[1] - a[1]);
    let detr = (b[1] - a[1]) * (c[0] - a[0]);
    let det = detl - detr;
    let bound = (detl.abs() + detr.abs()) * 3.3306690738754716e-16;
    if det > bound {
        return 1;
    }
    if -det > bound {
        return -1;
    }
    let o = robust::orient2d(
        robust::Coord { x: a[0], y: a[1] },
        robust::Coord { x: b[0], y: b[1] },
        robust::Coord { x: c[0], y: c[1] },
    );
    if o > 0.0 {
        1
    } else if o < 0.0 {
        -1
    } else {
        0
    }
}

/// Intersection point of the lines through p1-p2 and q1-q2, computed exactly as GEOS/JTS
/// (`Intersection::intersection`: homogeneous coordinates, conditioned on the midpoint of the
/// overlap of the two envelopes), with the same fall-back to the nearest endpoint when the result
/// leaves the segments' envelopes. Symmetric in the two segments and in their directions, so both
/// segments get a bit-identical node.
pub fn intersection_point(p1: Pt, p2: Pt, q1: Pt, q2: Pt) -> Pt {
    let min_x0 = p1[0].min(p2[0]);
    let min_y0 = p1[1].min(p2[1]);
    let max_x0 = p1[0].max(p2[0]);
    let max_y0 = p1[1].max(p2[1]);
    let min_x1 = q1[0].min(q2[0]);
    let min_y1 = q1[1].min(q2[1]);
    let max_x1 = q1[0].max(q2[0]);
    let max_y1 = q1[1].max(q2[1]);
    let int_min_x = if min_x0 > min_x1 { min_x0 } else { min_x1 };
    let int_max_x = if max_x0 < max_x1 { max_x0 } else { max_x1 };
    let int_min_y = if min_y0 > min_y1 { min_y0 } else { min_y1 };
    let int_max_y = if max_y0 < max_y1 { max_y0 } else { max_y1 };
    let midx = (int_min_x + int_max_x) / 2.0;
    let midy = (int_min_y + int_max_y) / 2.0;
    let p1x = p1[0] - midx;
    let p1y = p1[1] - midy;
    let p2x = p2[0] - midx;
    let p2y = p2[1] - midy;
    let q1x = q1[0] - midx;
    let q1y = q1[1] - midy;
    let q2x = q2[0] - midx;
    let q2y = q2[1] - midy;
    let px = p1y - p2y;
    let py = p2x - p1x;
    let pw = p1x * p2y - p2x * p1y;
    let qx = q1y - q2y;
    let qy = q2x - q1x;
    let qw = q1x * q2y - q2x * q1y;
    let x = py * qw - qy * pw;
    let y = qx * pw - px * qw;
    let w = px * qy - qx * py;
    let xi = x / w;
    let yi = y / w;
    let mut r = if xi.is_finite() && yi.is_finite() { [xi + midx, yi + midy] } else { nearest_endpoint(p1, p2, q1, q2) };
    let in_env = |a: Pt, b: Pt, r: Pt| {
        r[0] >= a[0].min(b[0]) && r[0] <= a[0].max(b[0]) && r[1] >= a[1].min(b[1]) && r[1] <= a[1].max(b[1])
    };
    if !(in_env(p1, p2, r) && in_env(q1, q2, r)) {
        r = nearest_endpoint(p1, p2, q1, q2);
    }
    r
}

fn seg_dist2(p: Pt, a: Pt, b: Pt) -> f64 {
    let dx = b[0] - a[0];
    let dy = b[1] - a[1];
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 { (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
    let ex = a[0] + t * dx - p[0];
    let ey = a[1] + t * dy - p[1];
    ex * ex + ey * ey
}

fn nearest_endpoint(p1: Pt, p2: Pt, q1: Pt, q2: Pt) -> Pt {
    let mut best = p1;
    let mut d = seg_dist2(p1, q1, q2);
    for (c, a, b) in [(p2, q1, q2), (q1, p1, p2), (q2, p1, p2)] {
        let dd = seg_dist2(c, a, b);
        if dd < d {
            d = dd;
            best = c;
        }
    }
    best
}

/// Twice the signed area of a closed ring given as a vertex sequence (first vertex not repeated),
/// accumulated relative to the first vertex for precision.
pub fn ring_area2(pts: impl Iterator<Item = Pt>) -> f64 {
    let mut it = pts;
    let Some(o) = it.next() else { return 0.0 };
    let Some(prev) = it.next() else { return 0.0 };
    let mut prev = [prev[0] - o[0], prev[1] - o[1]];
    let mut s = 0.0;
    let mut c = 0.0; // Neumaier compensation
    for p in it {
        let cur = [p[0] - o[0], p[1] - o[1]];
        let t = prev[0] * cur[1] - cur[0] * prev[1];
        let s2 = s + t;
        c += if s.abs() >= t.abs() { (s - s2) + t } else { (t - s2) + s };
        s = s2;
        prev = cur;
    }
    s + c
}

/// Neumaier-compensated sum.
#[derive(Default, Clone, Copy, Debug)]
pub struct KahanSum {
    s: f64,
    c: f64,
}

impl KahanSum {
    pub fn add(&mut self, x: f64) {
        let t = self.s + x;
        self.c += if self.s.abs() >= x.abs() { (self.s - t) + x } else { (x - t) + self.s };
        self.s = t;
    }
    pub fn value(&self) -> f64 {
        self.s + self.c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersection_is_symmetric() {
        let p1 = [300000.13, 4700000.57];
        let p2 = [300412.91, 4700333.01];
        let q1 = [300100.0, 4700400.0];
        let q2 = [300300.27, 4700001.5];
        let a = intersection_point(p1, p2, q1, q2);
        for (x1, x2, y1, y2) in [(q1, q2, p1, p2), (p2, p1, q1, q2), (q2, q1, p2, p1)] {
            assert_eq!(a, intersection_point(x1, x2, y1, y2));
        }
    }

    #[test]
    fn orientation_is_exact() {
        assert_eq!(orient([0.0, 0.0], [1.0, 1.0], [0.5, 0.5]), 0);
        assert_eq!(orient([0.0, 0.0], [1.0, 0.0], [0.5, 1e-300]), 1);
        assert_eq!(orient([0.0, 0.0], [1.0, 0.0], [0.5, -1e-300]), -1);
    }

    #[test]
    fn unit_square_area() {
        let a = ring_area2([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]].into_iter());
        assert_eq!(a, 2.0);
    }
}
