//! Queries on a finished arrangement: cycles, face boundaries as simple rings, interior points
//! and point location.

use super::{origin_of, Arrangement, Face};
use crate::edge_grid::EdgeGrid;
use crate::fxhash::FxMap;
use crate::geom::{ring_area2, Pt};

impl Arrangement {
    /// Half-edges of a cycle, in order.
    pub fn cycle_halfedges(&self, c: u32) -> Vec<u32> {
        let h0 = self.cycles[c as usize].0;
        let mut out = Vec::new();
        let mut h = h0;
        loop {
            out.push(h);
            h = self.next[h as usize];
            if h == h0 {
                break;
            }
        }
        out
    }

    /// Origin vertex of a half-edge.
    pub fn origin(&self, h: u32) -> u32 {
        origin_of(&self.edges, h)
    }

    /// The boundary of a face as simple rings: edges with the face on both sides (bridges to
    /// islands, cuts) are left out and rings that touch themselves at a vertex are split there.
    /// Returns counter-clockwise shells and clockwise holes.
    pub fn face_rings(&self, face: &Face) -> (Vec<Vec<Pt>>, Vec<Vec<Pt>>) {
        let cycles: Vec<u32> = std::iter::once(face.outer).chain(face.holes.iter().copied()).collect();
        let mut set: FxMap<u32, ()> = FxMap::default();
        for &c in &cycles {
            for h in self.cycle_halfedges(c) {
                set.insert(h, ());
            }
        }
        let (mut shells, mut holes) = (Vec::new(), Vec::new());
        let kept = |h: u32| !set.contains_key(&(h ^ 1));
        // Successor of a kept half-edge along the face, skipping excursions over two-sided edges.
        let succ = |h: u32| {
            let mut g = self.next[h as usize];
            let mut guard = 0usize;
            while !kept(g) && guard < self.next.len() {
                g = self.next[(g ^ 1) as usize];
                guard += 1;
            }
            g
        };
        let mut visited: FxMap<u32, ()> = FxMap::default();
        for &c in &cycles {
            for h0 in self.cycle_halfedges(c) {
                if !kept(h0) || visited.contains_key(&h0) {
                    continue;
                }
                // One closed walk; split where it passes a vertex twice.
                let mut stack: Vec<u32> = Vec::new();
                let mut pos: FxMap<u32, usize> = FxMap::default();
                let mut rings: Vec<Vec<u32>> = Vec::new();
                let mut h = h0;
                loop {
                    visited.insert(h, ());
                    let v = self.origin(h);
                    if let Some(&i) = pos.get(&v) {
                        let ring: Vec<u32> = stack.split_off(i);
                        for u in &ring {
                            pos.remove(u);
                        }
                        rings.push(ring);
                    }
                    pos.insert(v, stack.len());
                    stack.push(v);
                    h = succ(h);
                    if h == h0 || visited.contains_key(&h) {
                        break;
                    }
                }
                rings.push(stack);
                for ring in rings {
                    if ring.len() >= 3 {
                        let pts: Vec<Pt> = ring.iter().map(|&v| self.verts[v as usize]).collect();
                        let a = ring_area2(pts.iter().copied());
                        if a > 0.0 {
                            shells.push(pts);
                        } else if a < 0.0 {
                            holes.push(pts);
                        }
                    }
                }
            }
        }
        (shells, holes)
    }

    /// Vertices of a cycle.
    pub fn cycle_points(&self, c: u32) -> Vec<Pt> {
        let h0 = self.cycles[c as usize].0;
        let mut pts = Vec::new();
        let mut h = h0;
        loop {
            pts.push(self.verts[origin_of(&self.edges, h) as usize]);
            h = self.next[h as usize];
            if h == h0 {
                break;
            }
        }
        pts
    }

    /// A point strictly inside a face: the middle of the widest interior interval on a horizontal
    /// line that passes through no vertex (as GEOS's InteriorPointArea does).
    pub fn interior_point(&self, face: &Face) -> Option<Pt> {
        let outer = self.cycle_points(face.outer);
        let (mut ymin, mut ymax) = (f64::INFINITY, f64::NEG_INFINITY);
        for p in &outer {
            ymin = ymin.min(p[1]);
            ymax = ymax.max(p[1]);
        }
        let ymid = 0.5 * (ymin + ymax);
        let mut rings = vec![outer];
        for &h in &face.holes {
            rings.push(self.cycle_points(h));
        }
        let (mut below, mut above) = (ymin, ymax);
        for r in &rings {
            for p in r {
                if p[1] <= ymid && p[1] > below {
                    below = p[1];
                }
                if p[1] > ymid && p[1] < above {
                    above = p[1];
                }
            }
        }
        let y = 0.5 * (below + above);
        let mut xs = Vec::new();
        for r in &rings {
            for k in 0..r.len() {
                let (a, b) = (r[k], r[(k + 1) % r.len()]);
                if (a[1] > y) != (b[1] > y) {
                    xs.push(a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
                }
            }
        }
        xs.sort_by(f64::total_cmp);
        let mut best: Option<(f64, f64)> = None;
        for pair in xs.chunks_exact(2) {
            let w = pair[1] - pair[0];
            if best.map_or(true, |(bw, _)| w > bw) {
                best = Some((w, 0.5 * (pair[0] + pair[1])));
            }
        }
        best.map(|(_, x)| [x, y])
    }

    /// The face containing point `p` (not on an edge), `None` for the unbounded face.
    pub fn locate(&mut self, p: Pt) -> Option<u32> {
        if self.grid.is_none() {
            self.grid = Some(EdgeGrid::new(&self.verts, &self.edges));
        }
        self.locate_ref(p)
    }

    /// As [`locate`](Self::locate), after [`prepare_locate`](Self::prepare_locate).
    pub fn locate_ref(&self, p: Pt) -> Option<u32> {
        let grid = self.grid.as_ref().expect("prepare_locate first");
        let h = grid.left_hit(&self.verts, &self.edges, p, |_| true)?;
        let c = self.cycle_of[h as usize];
        let f = self.face_of_cycle[c as usize];
        if f != u32::MAX {
            Some(f)
        } else if self.container[c as usize] != u32::MAX {
            Some(self.container[c as usize])
        } else {
            None
        }
    }

    pub fn prepare_locate(&mut self) {
        if self.grid.is_none() {
            self.grid = Some(EdgeGrid::new(&self.verts, &self.edges));
        }
    }
}
