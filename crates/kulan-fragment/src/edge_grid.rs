//! A uniform grid over the edges of an arrangement, answering "which edge is hit first by a
//! horizontal ray going left from this point" (hole assignment, point location).

use crate::geom::{orient, Pt};

/// A uniform grid over the edges, for "first edge to the left of a point" queries.
pub(crate) struct EdgeGrid {
    x0: f64,
    y0: f64,
    cell: f64,
    nx: usize,
    ny: usize,
    start: Vec<u32>,
    /// Edge ids per cell, with [`HOME`] set in the cell holding the lower-left corner of the
    /// edge's envelope.
    items: Vec<u32>,
}

/// Flag on an item: the edge's home cell.
const HOME: u32 = 1 << 31;

impl EdgeGrid {
    pub(crate) fn new(verts: &[Pt], edges: &[(u32, u32)]) -> Self {
        let mut bb = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        for &(u, v) in edges {
            for p in [verts[u as usize], verts[v as usize]] {
                bb[0] = bb[0].min(p[0]);
                bb[1] = bb[1].min(p[1]);
                bb[2] = bb[2].max(p[0]);
                bb[3] = bb[3].max(p[1]);
            }
        }
        assert!(edges.len() < HOME as usize, "fewer than 2^31 edges");
        let n = edges.len().max(1);
        let w = (bb[2] - bb[0]).max(1e-9);
        let h = (bb[3] - bb[1]).max(1e-9);
        let cell = (w * h / n as f64).sqrt().max(w.max(h) / 4096.0).max(1e-9);
        let nx = (w / cell) as usize + 1;
        let ny = (h / cell) as usize + 1;
        let mut g = EdgeGrid { x0: bb[0], y0: bb[1], cell, nx, ny, start: vec![0; nx * ny + 1], items: Vec::new() };
        let mut counts = vec![0u32; nx * ny];
        for &(u, v) in edges {
            let (a, b) = (verts[u as usize], verts[v as usize]);
            let (cx0, cx1) = (g.cx(a[0].min(b[0])), g.cx(a[0].max(b[0])));
            let (cy0, cy1) = (g.cy(a[1].min(b[1])), g.cy(a[1].max(b[1])));
            for iy in cy0..=cy1 {
                for ix in cx0..=cx1 {
                    counts[iy * nx + ix] += 1;
                }
            }
        }
        for c in 0..nx * ny {
            g.start[c + 1] = g.start[c] + counts[c];
        }
        let mut fill: Vec<u32> = g.start[..nx * ny].to_vec();
        g.items = vec![0; g.start[nx * ny] as usize];
        for (e, &(u, v)) in edges.iter().enumerate() {
            let (a, b) = (verts[u as usize], verts[v as usize]);
            let (cx0, cx1) = (g.cx(a[0].min(b[0])), g.cx(a[0].max(b[0])));
            let (cy0, cy1) = (g.cy(a[1].min(b[1])), g.cy(a[1].max(b[1])));
            for iy in cy0..=cy1 {
                for ix in cx0..=cx1 {
                    let c = iy * nx + ix;
                    g.items[fill[c] as usize] = e as u32 | if ix == cx0 && iy == cy0 { HOME } else { 0 };
                    fill[c] += 1;
                }
            }
        }
        g
    }
    /// Calls `f` once for each edge whose envelope meets the box `bb`, in a fixed order.
    pub(crate) fn for_each_in(&self, verts: &[Pt], edges: &[(u32, u32)], bb: [f64; 4], mut f: impl FnMut(u32)) {
        let (x1, y1) = (self.x0 + self.cell * self.nx as f64, self.y0 + self.cell * self.ny as f64);
        if bb[2] < self.x0 || bb[3] < self.y0 || bb[0] > x1 || bb[1] > y1 {
            return;
        }
        let (ix0, ix1, iy0, iy1) = (self.cx(bb[0]), self.cx(bb[2]), self.cy(bb[1]), self.cy(bb[3]));
        for iy in iy0..=iy1 {
            for ix in ix0..=ix1 {
                let c = iy * self.nx + ix;
                let cell_items = &self.items[self.start[c] as usize..self.start[c + 1] as usize];
                if ix0 < ix && ix < ix1 && iy0 < iy && iy < iy1 {
                    // A cell strictly inside the box's cells: every edge listed meets the box
                    // (cx, cy are monotone), and the lower-left corner of its overlap with the
                    // box is that of its envelope, unless the envelope starts in an earlier cell.
                    for &item in cell_items {
                        if item & HOME != 0 {
                            f(item & !HOME);
                        }
                    }
                    continue;
                }
                for &item in cell_items {
                    let e = item & !HOME;
                    let (u, v) = edges[e as usize];
                    let (a, b) = (verts[u as usize], verts[v as usize]);
                    let env = [a[0].min(b[0]), a[1].min(b[1]), a[0].max(b[0]), a[1].max(b[1])];
                    if env[0] > bb[2] || env[2] < bb[0] || env[1] > bb[3] || env[3] < bb[1] {
                        continue;
                    }
                    // An edge sits in every cell its envelope covers: report it in the one
                    // holding the lower-left corner of its overlap with the box.
                    if self.cx(env[0].max(bb[0])) != ix || self.cy(env[1].max(bb[1])) != iy {
                        continue;
                    }
                    f(e);
                }
            }
        }
    }

    fn cx(&self, x: f64) -> usize {
        (((x - self.x0) / self.cell).max(0.0) as usize).min(self.nx - 1)
    }
    fn cy(&self, y: f64) -> usize {
        (((y - self.y0) / self.cell).max(0.0) as usize).min(self.ny - 1)
    }

    /// The half-edge nearest to the left of `p` on a horizontal ray just above `p`, oriented so
    /// that `p` lies on its left. Only edges passing `accept`.
    pub(crate) fn left_hit(&self, verts: &[Pt], edges: &[(u32, u32)], p: Pt, accept: impl Fn(u32) -> bool) -> Option<u32> {
        if p[1] < self.y0 || p[1] > self.y0 + self.cell * self.ny as f64 || p[0] < self.x0 {
            return None;
        }
        let iy = self.cy(p[1]);
        let mut best: Option<(f64, u32)> = None;
        let mut ix = self.cx(p[0]) as isize;
        while ix >= 0 {
            let c = iy * self.nx + ix as usize;
            for &item in &self.items[self.start[c] as usize..self.start[c + 1] as usize] {
                let e = item & !HOME;
                let (u, v) = edges[e as usize];
                let (a, b) = (verts[u as usize], verts[v as usize]);
                let (lo, hi) = if a[1] <= b[1] { (a, b) } else { (b, a) };
                // The edge spans the ray at y = p.y + ε.
                if !(lo[1] <= p[1] && p[1] < hi[1]) {
                    continue;
                }
                // p strictly right of the upward edge.
                if orient(lo, hi, p) >= 0 {
                    continue;
                }
                if !accept(e) {
                    continue;
                }
                let x = if lo[1] == p[1] { lo[0] } else { lo[0] + (p[1] - lo[1]) * (hi[0] - lo[0]) / (hi[1] - lo[1]) };
                let better = match best {
                    None => true,
                    Some((bx, be)) => {
                        if x > bx {
                            true
                        } else if x < bx {
                            false
                        } else {
                            // Tie (shared vertex): the one further clockwise is nearer above.
                            let (bu, bv) = edges[be as usize];
                            let (ba, bb) = (verts[bu as usize], verts[bv as usize]);
                            let (blo, bhi) = if ba[1] <= bb[1] { (ba, bb) } else { (bb, ba) };
                            if blo == lo { orient(lo, bhi, hi) < 0 } else { orient(blo, bhi, hi) < 0 }
                        }
                    }
                };
                if better {
                    best = Some((x, e));
                }
            }
            if let Some((bx, _)) = best {
                if bx >= self.x0 + self.cell * ix as f64 {
                    break;
                }
            }
            ix -= 1;
        }
        best.map(|(_, e)| {
            let (u, v) = edges[e as usize];
            // p is on the left of the downward half-edge.
            if verts[v as usize][1] < verts[u as usize][1] {
                2 * e
            } else {
                2 * e + 1
            }
        })
    }
}
