//! Step 1 of the clip-then-node procedure of the shapely/GEOS peer (`Options::clip_then_node`).

use rayon::prelude::*;

use crate::barrier_parts::count_parts;
use crate::fxhash::{point_key, FxMap};
use crate::geom::Ring;
use crate::noding::{Kind, Seg};
use crate::pip::PipIndex;

/// The rings as boundary segments (interior on the left).
pub(crate) fn boundary_segs(rings: &[Ring]) -> Vec<Seg> {
    let mut segs = Vec::new();
    for (ri, r) in rings.iter().enumerate() {
        for k in 0..r.len() {
            let (a, b) = (r[k], r[(k + 1) % r.len()]);
            if a != b {
                segs.push(Seg { a, b, kind: Kind::Boundary, feature: ri as u32 });
            }
        }
    }
    segs
}

/// Step 1 of the clip-then-node procedure: every barrier feature noded with itself and the unit
/// boundary only; the pieces inside the unit, and the number of parts they form.
pub(crate) fn clip_step(rings: &[Ring], barrier_segs: &[Seg]) -> (Vec<Seg>, usize) {
    let mut segs: Vec<Seg> = Vec::with_capacity(barrier_segs.len() + 64);
    for (ri, r) in rings.iter().enumerate() {
        for k in 0..r.len() {
            let (a, b) = (r[k], r[(k + 1) % r.len()]);
            if a != b {
                segs.push(Seg { a, b, kind: Kind::Boundary, feature: ri as u32 });
            }
        }
    }
    let nb = segs.len();
    segs.extend_from_slice(barrier_segs);
    let noded = crate::noding::node_filtered(&segs, |a, b| {
        !(a.kind == Kind::Barrier && b.kind == Kind::Barrier && a.feature != b.feature)
    });
    let pip = PipIndex::new(rings);
    let pieces: Vec<Seg> = (nb..segs.len())
        .into_par_iter()
        .flat_map_iter(|k| {
            let s = segs[k];
            let mut pts = Vec::with_capacity(noded.splits[k].len() + 2);
            pts.push(s.a);
            pts.extend_from_slice(&noded.splits[k]);
            pts.push(s.b);
            let mut out = Vec::new();
            for w in pts.windows(2) {
                if w[0] != w[1] && pip.contains([0.5 * (w[0][0] + w[1][0]), 0.5 * (w[0][1] + w[1][1])]) {
                    out.push(Seg { a: w[0], b: w[1], kind: Kind::Barrier, feature: s.feature });
                }
            }
            out.into_iter()
        })
        .collect();
    let mut vmap: FxMap<(u64, u64), u32> = FxMap::default();
    let mut list: Vec<(u32, u32, u32, u32)> = Vec::with_capacity(pieces.len());
    for s in &pieces {
        let n = vmap.len() as u32;
        let u = *vmap.entry(point_key(s.a)).or_insert(n);
        let n = vmap.len() as u32;
        let v = *vmap.entry(point_key(s.b)).or_insert(n);
        list.push((s.feature, u.min(v), u.max(v), 0));
    }
    let parts = count_parts(&mut list, &[true]);
    (pieces, parts)
}
