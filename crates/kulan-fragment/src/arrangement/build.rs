//! Noding a unit's boundary, barrier and exclusion segments into edges: vertices by exact
//! coordinates, edge flags (which kind of line, which side is inside), which edges lie inside
//! the unit, and the check that the floating-point nodes made no new crossing.

use rayon::prelude::*;

use super::{Arrangement, Mode, Ring, F_BARRIER, F_BOUND, F_BOUND_IN_FWD, F_BOUND_IN_REV, F_EXCL, F_EXCL_IN_FWD, F_EXCL_IN_REV};
use crate::barrier_parts;
use crate::fxhash::{point_key, FxMap};
use crate::numbering::{first_seen_ids, sharded_ids};
use crate::geom::Pt;
use crate::noding::{node, node_filtered, Kind, Seg};
use crate::pip::PipIndex;
use crate::union_find::UnionFind;

/// Boundary, barrier and exclusion segments to node again, the parts counted in the failed
/// round and, for a unit built against a shared arrangement, its barrier pieces.
type Renode = ((Vec<Seg>, Vec<Seg>, Vec<Seg>), usize, Vec<(u32, u32, u32, u32)>);

impl Arrangement {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn build_inner(
        rings: &[Ring],
        bound_segs: Vec<Seg>,
        barrier_segs: Vec<Seg>,
        excl_segs: Vec<Seg>,
        excl_index: Option<&PipIndex>,
        mode: Mode<'_>,
        count_parts: bool,
        validate: bool,
    ) -> Result<Arrangement, Renode> {
        let whole = matches!(mode, Mode::Whole);
        let mut segs: Vec<Seg> = bound_segs;
        segs.reserve(barrier_segs.len() + excl_segs.len());
        segs.extend(barrier_segs);
        segs.extend(excl_segs);
        let noded = node(&segs);

        // Vertices: the end points of the pieces, segment by segment (`a`, the splits, `b`).
        let mut seg_start: Vec<u32> = Vec::with_capacity(segs.len() + 1);
        let mut pts: Vec<Pt> = Vec::with_capacity(2 * segs.len() + noded.splits.iter().map(Vec::len).sum::<usize>());
        for (k, s) in segs.iter().enumerate() {
            seg_start.push(pts.len() as u32);
            pts.push(s.a);
            pts.extend_from_slice(&noded.splits[k]);
            pts.push(s.b);
        }
        seg_start.push(pts.len() as u32);
        let (pt_id, first_pt) = if whole {
            sharded_ids(&pts.par_iter().map(|&p| point_key(p)).collect::<Vec<_>>())
        } else {
            first_seen_ids(&pts.iter().map(|&p| point_key(p)).collect::<Vec<_>>())
        };
        let verts: Vec<Pt> = first_pt.iter().map(|&i| pts[i as usize]).collect();
        drop(first_pt);
        // Pieces (consecutive distinct vertices of a segment) and the edges they lie on.
        let mut pieces: Vec<(u32, u32)> = Vec::with_capacity(pts.len());
        let mut piece_of: Vec<(u32, bool)> = Vec::with_capacity(pts.len());
        for k in 0..segs.len() {
            let ids = &pt_id[seg_start[k] as usize..seg_start[k + 1] as usize];
            let mut prev = ids[0];
            for &v in &ids[1..] {
                if v != prev {
                    pieces.push((prev.min(v), prev.max(v)));
                    piece_of.push((k as u32, prev < v));
                }
                prev = v;
            }
        }
        let (piece_edge, first_piece) = if whole { sharded_ids(&pieces) } else { first_seen_ids(&pieces) };
        let edges: Vec<(u32, u32)> = first_piece.iter().map(|&i| pieces[i as usize]).collect();
        drop(first_piece);
        let mut flags: Vec<u8> = vec![0; edges.len()];
        let mut source: Vec<u32> = vec![u32::MAX; edges.len()];
        // (feature, u, v, edge) of barrier pieces: for counting parts and to node again.
        let mut bar_pieces: Vec<(u32, u32, u32, u32)> = Vec::new();
        for (i, &(u, w)) in pieces.iter().enumerate() {
            let (k, fwd) = piece_of[i];
            let s = &segs[k as usize];
            let e = piece_edge[i];
            let f = &mut flags[e as usize];
            if s.kind != Kind::Boundary {
                source[e as usize] = s.feature;
            }
            match s.kind {
                Kind::Barrier => {
                    *f |= F_BARRIER;
                    bar_pieces.push((s.feature, u, w, e));
                }
                Kind::Boundary => *f |= F_BOUND | if fwd { F_BOUND_IN_FWD } else { F_BOUND_IN_REV },
                Kind::Exclusion => *f |= F_EXCL | if fwd { F_EXCL_IN_FWD } else { F_EXCL_IN_REV },
            }
        }
        drop(pieces);
        drop(piece_of);
        drop(piece_edge);

        let keep = if whole { vec![true; edges.len()] } else { inside_edges(rings, &verts, &edges, &flags) };
        let (n_barrier_parts, unit_pieces) = match mode {
            Mode::Unit if count_parts => (barrier_parts::count_parts(&mut bar_pieces, &keep), Vec::new()),
            Mode::Local(shared) if count_parts => (0, shared_pieces(shared, &verts, &bar_pieces, &keep)),
            _ => (0, Vec::new()),
        };

        // Validity of the single noding pass: only edges ending at a computed node moved off their
        // input segment, so only pairs involving one of them can cross anew.
        let valid = !validate || {
            let mut computed = vec![false; verts.len()];
            for (k, s) in segs.iter().enumerate() {
                let splits = seg_start[k] as usize + 1..seg_start[k + 1] as usize - 1;
                for (p, &v) in pts[splits.clone()].iter().zip(&pt_id[splits]) {
                    if *p != s.a && *p != s.b {
                        computed[v as usize] = true;
                    }
                }
            }
            let check: Vec<Seg> = edges
                .iter()
                .map(|&(u, v)| Seg {
                    a: verts[u as usize],
                    b: verts[v as usize],
                    kind: Kind::Barrier,
                    feature: (computed[u as usize] || computed[v as usize]) as u32,
                })
                .collect();
            !node_filtered(&check, |a, b| a.feature == 1 || b.feature == 1)
                .splits
                .iter()
                .any(|s| !s.is_empty())
        };
        if !valid {
            // Hand the noded edges back for another round.
            let (mut b, mut r, mut x) = (Vec::new(), Vec::new(), Vec::new());
            for (e, &(u, v)) in edges.iter().enumerate() {
                let f = flags[e];
                let (pu, pv) = (verts[u as usize], verts[v as usize]);
                let feature = source[e];
                let seg = |fwd: bool, kind: Kind| {
                    if fwd {
                        Seg { a: pu, b: pv, kind, feature }
                    } else {
                        Seg { a: pv, b: pu, kind, feature }
                    }
                };
                if f & F_BOUND != 0 {
                    if f & F_BOUND_IN_FWD != 0 {
                        b.push(seg(true, Kind::Boundary));
                    }
                    if f & F_BOUND_IN_REV != 0 {
                        b.push(seg(false, Kind::Boundary));
                    }
                }
                if f & F_EXCL != 0 {
                    if f & F_EXCL_IN_FWD != 0 {
                        x.push(seg(true, Kind::Exclusion));
                    }
                    if f & F_EXCL_IN_REV != 0 {
                        x.push(seg(false, Kind::Exclusion));
                    }
                }
            }
            // One barrier segment per (edge, feature): the whole-area arrangement keeps them all.
            bar_pieces.sort_unstable_by_key(|p| (p.3, p.0));
            bar_pieces.dedup_by_key(|p| (p.3, p.0));
            for &(feature, u, v, _) in &bar_pieces {
                r.push(Seg { a: verts[u as usize], b: verts[v as usize], kind: Kind::Barrier, feature });
            }
            return Err(((b, r, x), n_barrier_parts, unit_pieces));
        }
        drop(segs);
        drop(pts);
        drop(pt_id);

        let mut arr = Arrangement::from_edges(verts, edges, flags, keep, source, !whole, excl_index);
        arr.n_barrier_parts = n_barrier_parts;
        arr.barrier_pieces = unit_pieces;
        if whole {
            // Nothing was pruned, so the edge ids are still those of the pieces.
            let mut ef: Vec<(u32, u32)> = bar_pieces.iter().map(|p| (p.3, p.0)).collect();
            ef.sort_unstable();
            ef.dedup();
            let mut start = vec![0u32; arr.edges.len() + 1];
            for &(e, _) in &ef {
                start[e as usize + 1] += 1;
            }
            for e in 0..arr.edges.len() {
                start[e + 1] += start[e];
            }
            arr.feature_start = start;
            arr.features = ef.into_iter().map(|(_, f)| f).collect();
        }
        Ok(arr)
    }
}

/// Which edges lie inside the unit (boundary edges count as inside): non-boundary edges
/// connected through vertices off the boundary share the answer, one point-in-polygon test per
/// group.
fn inside_edges(rings: &[Ring], verts: &[Pt], edges: &[(u32, u32)], flags: &[u8]) -> Vec<bool> {
    let nv = verts.len();
    let mut on_bound = vec![false; nv];
    for (e, &(u, v)) in edges.iter().enumerate() {
        if flags[e] & F_BOUND != 0 {
            on_bound[u as usize] = true;
            on_bound[v as usize] = true;
        }
    }
    let mut uf = UnionFind::new(nv);
    for (e, &(u, v)) in edges.iter().enumerate() {
        if flags[e] & F_BOUND == 0 && !on_bound[u as usize] && !on_bound[v as usize] {
            uf.union(u, v);
        }
    }
    let pip = PipIndex::new(rings);
    // group root -> (representative edge, its squared length)
    let mut rep: FxMap<u32, (u32, f64)> = FxMap::default();
    let mut group_of = vec![u32::MAX; edges.len()];
    for (e, &(u, v)) in edges.iter().enumerate() {
        if flags[e] & F_BOUND != 0 {
            continue;
        }
        let g = if !on_bound[u as usize] {
            uf.find(u)
        } else if !on_bound[v as usize] {
            uf.find(v)
        } else {
            nv as u32 + e as u32 // a chord between two boundary vertices: its own group
        };
        group_of[e] = g;
        let (a, b) = (verts[u as usize], verts[v as usize]);
        let l = (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
        let r = rep.entry(g).or_insert((e as u32, -1.0));
        if l > r.1 {
            *r = (e as u32, l);
        }
    }
    let reps: Vec<(u32, u32)> = rep.iter().map(|(&g, &(e, _))| (g, e)).collect();
    let inside_group: FxMap<u32, bool> = reps
        .par_iter()
        .map(|&(g, e)| {
            let (u, v) = edges[e as usize];
            let (a, b) = (verts[u as usize], verts[v as usize]);
            (g, pip.contains([0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1])]))
        })
        .collect();
    (0..edges.len()).map(|e| flags[e] & F_BOUND != 0 || inside_group[&group_of[e]]).collect()

}

/// The barrier pieces of a unit built against `shared` that lie inside the unit, once per
/// barrier feature of their shared edge, with vertex ids of the shared arrangement where a
/// piece ends at a shared vertex (see `Arrangement::barrier_pieces`).
fn shared_pieces(
    shared: &Arrangement,
    verts: &[Pt],
    bar_pieces: &[(u32, u32, u32, u32)],
    keep: &[bool],
) -> Vec<(u32, u32, u32, u32)> {
    let nvs = shared.verts.len() as u32;
    let mut out = Vec::with_capacity(bar_pieces.len());
    for &(se, u, w, e) in bar_pieces {
        if !keep[e as usize] {
            continue;
        }
        let (su, sv) = shared.edges[se as usize];
        let id = |v: u32| {
            let p = verts[v as usize];
            if p == shared.verts[su as usize] {
                su
            } else if p == shared.verts[sv as usize] {
                sv
            } else {
                nvs + v
            }
        };
        let (a, b) = (id(u), id(w));
        let (a, b) = (a.min(b), a.max(b));
        for &f in shared.edge_features(se) {
            out.push((f, a, b, 0));
        }
    }
    out
}
