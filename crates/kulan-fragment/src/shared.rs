//! The arrangement of all cutting lines and excluded-area rings of the study area, noded once and
//! shared by the reporting units.
//!
//! A shared face whose bounding box lies inside a unit, clear of the unit's boundary, is a patch
//! of that unit as it is (its dangles stay dangles, nothing else reaches into it). Only the rest —
//! the shared faces the unit boundary cuts or comes near — needs an arrangement of its own: the
//! unit's boundary noded with the shared edges of those faces ([`Arrangement::build_local`]).
//! Its faces that are unions of faces taken whole are left out. So every unit costs in proportion
//! to its boundary zone rather than to all the lines inside it, where overlapping units (species
//! ranges) would otherwise node the same lines again and again.

use crate::arrangement::{Arrangement, PipIndex, Ring, F_BARRIER, F_EXCL, F_EXCL_IN_FWD, F_EXCL_IN_REV};
use crate::barrier_parts::count_parts;
use crate::geom::Pt;
use crate::leaf_prune::{prune_leaves, Fate};
use crate::noding::{Kind, Seg};
use crate::union_find::UnionFind;

use rayon::prelude::*;

/// Where a shared face lies with respect to one unit.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    /// Its bounding box is inside the unit, clear of the boundary.
    Inside,
    /// Its bounding box is outside the unit, clear of the boundary.
    Outside,
    /// Anything else (and the unbounded face).
    Across,
}

/// A patch of a unit: a face of the unit's own arrangement or a shared face taken whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PatchFace {
    Own(u32),
    Shared(u32),
}

/// The faces of one unit.
pub(crate) struct UnitFaces {
    /// The unit's own arrangement: its boundary and the shared edges near it.
    pub own: Arrangement,
    /// Own faces that are unions of shared faces taken whole (not patches of `own`).
    own_is_inner: Vec<bool>,
    /// Patch areas and faces: own faces first, then shared faces by id.
    pub patches: Vec<(f64, PatchFace)>,
    pub n_barrier_parts: usize,
}

/// The shared arrangement with the bounding boxes of its faces and connected components.
pub(crate) struct Shared {
    pub arr: Arrangement,
    face_bbox: Vec<[f64; 4]>,
    /// The faces on the left of half-edges `2e` and `2e + 1` of each edge `e`.
    edge_faces: Vec<[u32; 2]>,
    /// Connected component of each vertex.
    comp: Vec<u32>,
    comp_bbox: Vec<[f64; 4]>,
}

fn is_patch(arr: &Arrangement, f: u32, min_area: f64) -> bool {
    let face = &arr.faces[f as usize];
    face.is_patch && face.area > 0.0 && face.area >= min_area
}

impl Shared {
    /// Nodes all barrier and exclusion segments together (`Seg::feature`: the barrier feature,
    /// resp. the exclusion ring).
    pub fn new(barrier_segs: Vec<Seg>, excl_segs: Vec<Seg>, excl_index: Option<&PipIndex>) -> Shared {
        let arr = Arrangement::build_whole(barrier_segs, excl_segs, excl_index);
        let face_bbox = arr
            .faces
            .iter()
            .map(|f| {
                let mut bb = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
                for p in arr.cycle_points(f.outer) {
                    bb = [bb[0].min(p[0]), bb[1].min(p[1]), bb[2].max(p[0]), bb[3].max(p[1])];
                }
                bb
            })
            .collect();
        let mut uf = UnionFind::new(arr.verts.len());
        for &(u, v) in &arr.edges {
            uf.union(u, v);
        }
        let mut dense = vec![u32::MAX; arr.verts.len()];
        let mut comp = vec![0u32; arr.verts.len()];
        let mut comp_bbox: Vec<[f64; 4]> = Vec::new();
        for (v, p) in arr.verts.iter().enumerate() {
            let r = uf.find(v as u32) as usize;
            if dense[r] == u32::MAX {
                dense[r] = comp_bbox.len() as u32;
                comp_bbox.push([f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY]);
            }
            let c = dense[r];
            comp[v] = c;
            let bb = &mut comp_bbox[c as usize];
            *bb = [bb[0].min(p[0]), bb[1].min(p[1]), bb[2].max(p[0]), bb[3].max(p[1])];
        }
        let left_face = |h: u32| {
            let c = arr.cycle_of[h as usize] as usize;
            match arr.face_of_cycle[c] {
                u32::MAX => arr.container[c],
                f => f,
            }
        };
        let edge_faces = (0..arr.edges.len() as u32).into_par_iter().map(|e| [left_face(2 * e), left_face(2 * e + 1)]).collect();
        Shared { arr, face_bbox, edge_faces, comp, comp_bbox }
    }

    /// The face on the left of half-edge `h` (`u32::MAX`: the unbounded face).
    fn left_face(&self, h: u32) -> u32 {
        self.edge_faces[(h >> 1) as usize][(h & 1) as usize]
    }

    /// The faces of the unit with `rings` (exteriors counter-clockwise, holes clockwise).
    pub fn unit(&self, rings: &[Ring], excl_index: Option<&PipIndex>, min_area: f64) -> UnitFaces {
        let arr = &self.arr;
        let pip = PipIndex::new(rings);
        // Side of each shared face met so far; the faces taken whole in the order met.
        let mut side: Vec<Option<Side>> = vec![None; arr.faces.len()];
        let mut inner: Vec<u32> = Vec::new();
        let mut side_of = |g: u32| -> Side {
            if g == u32::MAX {
                return Side::Across;
            }
            *side[g as usize].get_or_insert_with(|| {
                let bb = self.face_bbox[g as usize];
                if pip.box_inside(bb) {
                    inner.push(g);
                    Side::Inside
                } else if pip.box_outside(bb) {
                    Side::Outside
                } else {
                    Side::Across
                }
            })
        };
        // Components whose bounding box lies inside the unit, off its boundary: their edges with
        // the same face on both sides (dangles, bridges) can cut nothing in the unit.
        let mut comp_inside: Vec<Option<bool>> = vec![None; self.comp_bbox.len()];
        let mut comp_is_inside = |c: u32| *comp_inside[c as usize].get_or_insert_with(|| pip.box_inside(self.comp_bbox[c as usize]));
        // Shared edges for the local arrangement, in the order met.
        let (mut cand, mut inner_pieces) = (Vec::new(), Vec::new());
        let grid = arr.edge_grid().expect("the shared arrangement is prepared for location");
        grid.for_each_in(&arr.verts, &arr.edges, pip.bbox, |e| {
            let [fl, fr] = self.edge_faces[e as usize];
            let (l, r) = (side_of(fl), side_of(fr));
            let (u, v) = arr.edges[e as usize];
            if (l == Side::Inside && r == Side::Inside) || (fl == fr && comp_is_inside(self.comp[u as usize])) {
                if arr.flags[e as usize] & F_BARRIER != 0 {
                    for &f in arr.edge_features(e) {
                        inner_pieces.push((f, u, v, 0));
                    }
                }
                return;
            }
            if l == Side::Outside && r == Side::Outside {
                return;
            }
            cand.push(e);
        });
        let ends: Vec<(u32, u32)> = cand.iter().map(|&e| arr.edges[e as usize]).collect();
        let env = |i: usize| {
            let (a, b) = (arr.verts[ends[i].0 as usize], arr.verts[ends[i].1 as usize]);
            [a[0].min(b[0]), a[1].min(b[1]), a[0].max(b[0]), a[1].max(b[1])]
        };
        let mid = |i: usize| {
            let (a, b) = (arr.verts[ends[i].0 as usize], arr.verts[ends[i].1 as usize]);
            [0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1])]
        };
        let fate = prune_leaves(&ends, env, |i| arr.flags[cand[i] as usize] & F_EXCL != 0, |i| pip.contains(mid(i)), &pip);
        let (mut bsegs, mut xsegs) = (Vec::new(), Vec::new());
        for (i, &e) in cand.iter().enumerate() {
            let flags = arr.flags[e as usize];
            let (u, v) = ends[i];
            let (pu, pv) = (arr.verts[u as usize], arr.verts[v as usize]);
            if let Fate::Drop { inside } = fate[i] {
                // A dangling end clear of the boundary: wholly inside or outside the unit.
                if inside && flags & F_BARRIER != 0 {
                    for &f in arr.edge_features(e) {
                        inner_pieces.push((f, u, v, 0));
                    }
                }
                continue;
            }
            if flags & F_BARRIER != 0 {
                bsegs.push(Seg { a: pu, b: pv, kind: Kind::Barrier, feature: e });
            }
            if flags & F_EXCL != 0 {
                if flags & F_EXCL_IN_FWD != 0 {
                    xsegs.push(Seg { a: pu, b: pv, kind: Kind::Exclusion, feature: e });
                }
                if flags & F_EXCL_IN_REV != 0 {
                    xsegs.push(Seg { a: pv, b: pu, kind: Kind::Exclusion, feature: e });
                }
            }
        }
        inner.sort_unstable();
        let inside = |g: u32| g != u32::MAX && side[g as usize] == Some(Side::Inside);

        let mut own = Arrangement::build_local(rings, bsegs, xsegs, excl_index, arr);
        let own_is_inner: Vec<bool> = (0..own.faces.len() as u32).map(|f| self.own_face_is_inner(&own, f, &inside)).collect();
        let mut patches: Vec<(f64, PatchFace)> = (0..own.faces.len() as u32)
            .filter(|&f| !own_is_inner[f as usize] && is_patch(&own, f, min_area))
            .map(|f| (own.faces[f as usize].area, PatchFace::Own(f)))
            .collect();
        patches.extend(inner.iter().filter(|&&g| is_patch(arr, g, min_area)).map(|&g| (arr.faces[g as usize].area, PatchFace::Shared(g))));

        inner_pieces.append(&mut own.barrier_pieces);
        let n_barrier_parts = count_parts(&mut inner_pieces, &[true]);
        UnitFaces { own, own_is_inner, patches, n_barrier_parts }
    }

    /// Whether own face `f` lies in a shared face taken whole: the shared face on the same side
    /// of any shared edge along it tells.
    fn own_face_is_inner(&self, own: &Arrangement, f: u32, inside: &impl Fn(u32) -> bool) -> bool {
        let face = &own.faces[f as usize];
        for c in std::iter::once(face.outer).chain(face.holes.iter().copied()) {
            for h in own.cycle_halfedges(c) {
                let se = own.source[(h >> 1) as usize];
                if se == u32::MAX {
                    continue;
                }
                let o: Pt = own.verts[own.origin(h) as usize];
                let d: Pt = own.verts[own.origin(h ^ 1) as usize];
                let (su, sv) = self.arr.edges[se as usize];
                let (a, b) = (self.arr.verts[su as usize], self.arr.verts[sv as usize]);
                let dot = (d[0] - o[0]) * (b[0] - a[0]) + (d[1] - o[1]) * (b[1] - a[1]);
                let sh = if dot > 0.0 { 2 * se } else { 2 * se + 1 };
                return inside(self.left_face(sh));
            }
        }
        false
    }

    /// Area of the patch of `region` (a unit covering all units) that contains point `p`, if
    /// `p` lies in a patch.
    pub fn region_patch_area(&self, region: &UnitFaces, p: Pt, min_area: f64) -> Option<f64> {
        let rf = region.own.locate_ref(p)?;
        if region.own_is_inner[rf as usize] {
            let g = self.arr.locate_ref(p)?;
            is_patch(&self.arr, g, min_area).then(|| self.arr.faces[g as usize].area)
        } else {
            is_patch(&region.own, rf, min_area).then(|| region.own.faces[rf as usize].area)
        }
    }
}
