//! Point-in-polygon tests against many rings at once: ring segments bucketed in horizontal
//! bands, even-odd rule with exact orientation tests.

use crate::geom::{orient, Pt, Ring};

/// Point-in-polygon index over a set of rings (even-odd rule), with exact orientation tests.
pub struct PipIndex {
    segs: Vec<(Pt, Pt)>,
    y0: f64,
    band: f64,
    start: Vec<u32>,
    items: Vec<u32>,
    pub bbox: [f64; 4],
}

impl PipIndex {
    pub fn new(rings: &[Ring]) -> Self {
        let mut segs = Vec::new();
        for r in rings {
            for k in 0..r.len() {
                let a = r[k];
                let b = r[(k + 1) % r.len()];
                if a != b {
                    segs.push((a, b));
                }
            }
        }
        let mut bbox = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        for (a, b) in &segs {
            for p in [a, b] {
                bbox[0] = bbox[0].min(p[0]);
                bbox[1] = bbox[1].min(p[1]);
                bbox[2] = bbox[2].max(p[0]);
                bbox[3] = bbox[3].max(p[1]);
            }
        }
        let nb = (segs.len() / 2).clamp(1, 1 << 16);
        let y0 = bbox[1];
        let band = ((bbox[3] - bbox[1]) / nb as f64).max(1e-9);
        let bi = |y: f64| (((y - y0) / band).max(0.0) as usize).min(nb - 1);
        let mut counts = vec![0u32; nb + 1];
        for (a, b) in &segs {
            for k in bi(a[1].min(b[1]))..=bi(a[1].max(b[1])) {
                counts[k] += 1;
            }
        }
        let mut start = vec![0u32; nb + 1];
        for k in 0..nb {
            start[k + 1] = start[k] + counts[k];
        }
        let mut fill: Vec<u32> = start.clone();
        let mut items = vec![0u32; start[nb] as usize];
        for (i, (a, b)) in segs.iter().enumerate() {
            for k in bi(a[1].min(b[1]))..=bi(a[1].max(b[1])) {
                items[fill[k] as usize] = i as u32;
                fill[k] += 1;
            }
        }
        PipIndex { segs, y0, band, start, items, bbox }
    }

    /// Whether the box `bb` (`[xmin, ymin, xmax, ymax]`) lies wholly outside the rings: no ring
    /// segment's envelope meets it and its centre is outside.
    pub fn box_outside(&self, bb: [f64; 4]) -> bool {
        if self.segs.is_empty() || bb[2] < self.bbox[0] || bb[0] > self.bbox[2] || bb[3] < self.bbox[1] || bb[1] > self.bbox[3] {
            return true;
        }
        !self.meets_ring_envelope(bb) && !self.contains([0.5 * (bb[0] + bb[2]), 0.5 * (bb[1] + bb[3])])
    }

    /// Whether the box `bb` lies wholly inside the rings, off their boundary: no ring segment's
    /// envelope meets it and its centre is inside.
    pub fn box_inside(&self, bb: [f64; 4]) -> bool {
        if self.segs.is_empty() || bb[0] < self.bbox[0] || bb[2] > self.bbox[2] || bb[1] < self.bbox[1] || bb[3] > self.bbox[3] {
            return false;
        }
        !self.meets_ring_envelope(bb) && self.contains([0.5 * (bb[0] + bb[2]), 0.5 * (bb[1] + bb[3])])
    }

    /// Whether the envelope of some ring segment meets the box `bb` (touching counts).
    pub(crate) fn meets_ring_envelope(&self, bb: [f64; 4]) -> bool {
        let nb = self.start.len() - 1;
        let band = |y: f64| (((y - self.y0) / self.band).max(0.0) as usize).min(nb - 1);
        for k in band(bb[1])..=band(bb[3]) {
            for &i in &self.items[self.start[k] as usize..self.start[k + 1] as usize] {
                let (a, b) = self.segs[i as usize];
                if a[0].max(b[0]) >= bb[0] && a[0].min(b[0]) <= bb[2] && a[1].max(b[1]) >= bb[1] && a[1].min(b[1]) <= bb[3] {
                    return true;
                }
            }
        }
        false
    }

    /// Whether `p` is inside (points exactly on the boundary count as inside).
    pub fn contains(&self, p: Pt) -> bool {
        if self.segs.is_empty() || p[0] < self.bbox[0] || p[0] > self.bbox[2] || p[1] < self.bbox[1] || p[1] > self.bbox[3] {
            return false;
        }
        let nb = self.start.len() - 1;
        let k = (((p[1] - self.y0) / self.band).max(0.0) as usize).min(nb - 1);
        let mut inside = false;
        for &i in &self.items[self.start[k] as usize..self.start[k + 1] as usize] {
            let (a, b) = self.segs[i as usize];
            if (a[1] > p[1]) != (b[1] > p[1]) {
                let o = orient(a, b, p);
                if o == 0 {
                    return true;
                }
                // Crossing to the right of p.
                if (o > 0) == (b[1] > a[1]) {
                    inside = !inside;
                }
            } else if a[1] == p[1] && b[1] == p[1] && p[0] >= a[0].min(b[0]) && p[0] <= a[0].max(b[0]) {
                return true;
            }
        }
        inside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_inside_outside_and_across() {
        // A 10 x 10 square with a 2 x 2 hole in the middle.
        let rings = vec![
            vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]],
            vec![[4.0, 4.0], [4.0, 6.0], [6.0, 6.0], [6.0, 4.0]],
        ];
        let pip = PipIndex::new(&rings);
        assert!(pip.box_inside([1.0, 1.0, 3.0, 3.0]));
        assert!(!pip.box_outside([1.0, 1.0, 3.0, 3.0]));
        assert!(pip.box_outside([4.5, 4.5, 5.5, 5.5]), "inside the hole");
        assert!(!pip.box_inside([4.5, 4.5, 5.5, 5.5]));
        assert!(pip.box_outside([11.0, 1.0, 12.0, 2.0]));
        for across in [[3.0, 3.0, 5.0, 5.0], [9.0, 1.0, 11.0, 2.0], [1.0, 0.0, 2.0, 1.0]] {
            assert!(!pip.box_inside(across) && !pip.box_outside(across), "{across:?}");
        }
        assert!(pip.contains([0.0, 5.0]) && pip.contains([4.0, 5.0]) && !pip.contains([5.0, 5.0]));
    }
}
