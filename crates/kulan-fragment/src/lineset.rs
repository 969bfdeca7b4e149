//! Polylines of the cutting lines and excluded-area rings, with an R-tree over chunks of their
//! segments for picking the segments near one unit.

use geo::LineString;
use rstar::{primitives::GeomWithData, primitives::Rectangle, RTree, AABB};

use crate::geom::Pt;
use crate::noding::{Kind, Seg};
use crate::pip::PipIndex;

/// Polylines of the cutting lines and excluded-area rings, indexed by chunks of segments.
pub(crate) struct LineSet {
    pub(crate) lines: Vec<(Vec<Pt>, u32)>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, (u32, u32, u32)>>,
}

const CHUNK: usize = 32;

impl LineSet {
    pub(crate) fn new(lines: Vec<(Vec<Pt>, u32)>) -> Self {
        let mut items = Vec::new();
        for (li, (pts, _)) in lines.iter().enumerate() {
            let nseg = pts.len().saturating_sub(1);
            let mut s = 0;
            while s < nseg {
                let e = (s + CHUNK).min(nseg);
                let mut bb = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
                for p in &pts[s..=e] {
                    bb[0] = bb[0].min(p[0]);
                    bb[1] = bb[1].min(p[1]);
                    bb[2] = bb[2].max(p[0]);
                    bb[3] = bb[3].max(p[1]);
                }
                items.push(GeomWithData::new(Rectangle::from_corners([bb[0], bb[1]], [bb[2], bb[3]]), (li as u32, s as u32, e as u32)));
                s = e;
            }
        }
        LineSet { lines, tree: RTree::bulk_load(items) }
    }

    /// All segments, in order (`Seg::feature`: the feature of the line).
    pub(crate) fn all_segs(&self, kind: Kind) -> Vec<Seg> {
        let mut out = Vec::with_capacity(self.lines.iter().map(|(p, _)| p.len()).sum());
        for (pts, feature) in &self.lines {
            for w in pts.windows(2) {
                if w[0] != w[1] {
                    out.push(Seg { a: w[0], b: w[1], kind, feature: *feature });
                }
            }
        }
        out
    }

    /// Segments whose envelope meets `bb`, less chunks that lie wholly outside `within`.
    pub(crate) fn segs_in(&self, bb: [f64; 4], kind: Kind, within: Option<&PipIndex>) -> Vec<Seg> {
        let env = AABB::from_corners([bb[0], bb[1]], [bb[2], bb[3]]);
        let mut out = Vec::new();
        for it in self.tree.locate_in_envelope_intersecting(&env) {
            if let Some(pip) = within {
                let r = it.geom();
                let (lo, hi) = (r.lower(), r.upper());
                if pip.box_outside([lo[0], lo[1], hi[0], hi[1]]) {
                    continue;
                }
            }
            let (li, s, e) = it.data;
            let (pts, feature) = &self.lines[li as usize];
            for k in s as usize..e as usize {
                let (a, b) = (pts[k], pts[k + 1]);
                if a == b
                    || a[0].max(b[0]) < bb[0]
                    || a[0].min(b[0]) > bb[2]
                    || a[1].max(b[1]) < bb[1]
                    || a[1].min(b[1]) > bb[3]
                {
                    continue;
                }
                out.push(Seg { a, b, kind, feature: *feature });
            }
        }
        out
    }
}

pub(crate) fn ls_pts(ls: &LineString<f64>) -> Vec<Pt> {
    ls.0.iter().map(|c| [c.x, c.y]).collect()
}

