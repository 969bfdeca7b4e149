//! Faces of the noded edges: edges outside the unit and dangles are dropped, the half-edges
//! around each vertex are sorted counter-clockwise, `next` links them into cycles, and each
//! clockwise cycle (the outside of a component) is assigned to the face that contains it.

use std::cmp::Ordering;

use rayon::prelude::*;

use super::{origin_of, Arrangement, Face, F_BOUND, F_BOUND_IN_FWD, F_BOUND_IN_REV, F_EXCL, F_EXCL_IN_FWD, F_EXCL_IN_REV};
use crate::edge_grid::EdgeGrid;
use crate::fxhash::FxMap;
use crate::geom::{orient, ring_area2, Pt};
use crate::pip::PipIndex;
use crate::union_find::UnionFind;

/// Half-plane class of a direction, for angular sorting: 0 for angles in [0, π), 1 for [π, 2π).
#[inline]
fn half(d: Pt) -> u8 {
    if d[1] > 0.0 || (d[1] == 0.0 && d[0] > 0.0) {
        0
    } else {
        1
    }
}

/// The half-edges leaving each vertex (`2e` for edge `e` = (u, v) leaving u, `2e + 1` leaving v),
/// grouped by vertex: vertex `v`'s are `half_edges[start[v]..start[v + 1]]`, in edge order.
/// Only edges for which `use_edge` holds are listed.
fn incident_half_edges(nv: usize, edges: &[(u32, u32)], use_edge: impl Fn(usize) -> bool) -> (Vec<u32>, Vec<u32>) {
    let mut start = vec![0u32; nv + 1];
    for (e, &(u, v)) in edges.iter().enumerate() {
        if use_edge(e) {
            start[u as usize + 1] += 1;
            start[v as usize + 1] += 1;
        }
    }
    for v in 0..nv {
        start[v + 1] += start[v];
    }
    let mut fill: Vec<u32> = start[..nv].to_vec();
    let mut half_edges = vec![0u32; start[nv] as usize];
    for (e, &(u, v)) in edges.iter().enumerate() {
        if use_edge(e) {
            half_edges[fill[u as usize] as usize] = 2 * e as u32;
            fill[u as usize] += 1;
            half_edges[fill[v as usize] as usize] = 2 * e as u32 + 1;
            fill[v as usize] += 1;
        }
    }
    (start, half_edges)
}

impl Arrangement {
    /// The arrangement of the noded edges `edges` (vertex pairs, `u < v`) whose `keep` is set,
    /// dangles pruned when `prune`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn from_edges(
        verts: Vec<Pt>,
        edges: Vec<(u32, u32)>,
        flags: Vec<u8>,
        keep: Vec<bool>,
        source: Vec<u32>,
        prune: bool,
        excl_index: Option<&PipIndex>,
    ) -> Arrangement {
        // Keep the edges inside, then prune dangles.
        let nv = verts.len();
        let mut alive = keep;
        let (start, inc) = incident_half_edges(nv, &edges, |e| alive[e]);
        let mut deg: Vec<u32> = start.windows(2).map(|w| w[1] - w[0]).collect();
        let mut stack: Vec<u32> = if prune { (0..nv as u32).filter(|&v| deg[v as usize] == 1).collect() } else { Vec::new() };
        while let Some(v) = stack.pop() {
            if deg[v as usize] != 1 {
                continue;
            }
            for &he in &inc[start[v as usize] as usize..start[v as usize + 1] as usize] {
                let e = (he >> 1) as usize;
                if alive[e] {
                    alive[e] = false;
                    let (a, b) = edges[e];
                    let w = if a == v { b } else { a };
                    deg[v as usize] -= 1;
                    deg[w as usize] -= 1;
                    if deg[w as usize] == 1 {
                        stack.push(w);
                    }
                    break;
                }
            }
        }
        // Compact: surviving edges only.
        let mut new_edges = Vec::new();
        let mut new_flags = Vec::new();
        let mut new_source = Vec::new();
        for e in 0..edges.len() {
            if alive[e] {
                new_edges.push(edges[e]);
                new_flags.push(flags[e]);
                new_source.push(source[e]);
            }
        }
        let edges = new_edges;
        let flags = new_flags;
        let source = new_source;
        drop(alive);

        // Outgoing half-edges per vertex, sorted counter-clockwise.
        let (start, mut out) = incident_half_edges(nv, &edges, |_| true);
        let deg: Vec<u32> = start.windows(2).map(|w| w[1] - w[0]).collect();
        {
            // Sort each vertex's slice in parallel.
            let mut slices: Vec<&mut [u32]> = Vec::with_capacity(nv);
            let mut rest: &mut [u32] = &mut out;
            for v in 0..nv {
                let (a, b) = rest.split_at_mut(deg[v] as usize);
                slices.push(a);
                rest = b;
            }
            slices.par_iter_mut().enumerate().for_each(|(v, sl)| {
                if sl.len() > 2 {
                    let o = verts[v];
                    let dest = |he: u32| {
                        let (a, b) = edges[(he >> 1) as usize];
                        verts[if he & 1 == 0 { b } else { a } as usize]
                    };
                    sl.sort_by(|&h1, &h2| {
                        let p1 = dest(h1);
                        let p2 = dest(h2);
                        let d1 = [p1[0] - o[0], p1[1] - o[1]];
                        let d2 = [p2[0] - o[0], p2[1] - o[1]];
                        let (a, b) = (half(d1), half(d2));
                        if a != b {
                            return a.cmp(&b);
                        }
                        match orient(o, p1, p2) {
                            1 => Ordering::Less,
                            -1 => Ordering::Greater,
                            _ => Ordering::Equal,
                        }
                    });
                }
            });
        }
        // Position of each half-edge in its origin's list.
        let nhe = 2 * edges.len();
        let mut pos = vec![0u32; nhe];
        for v in 0..nv {
            for k in start[v]..start[v + 1] {
                pos[out[k as usize] as usize] = k - start[v];
            }
        }
        // next(h): at the head of h, the outgoing half-edge just clockwise of twin(h).
        let next: Vec<u32> = (0..nhe as u32)
            .into_par_iter()
            .map(|h| {
                let t = h ^ 1;
                let v = origin_of(&edges, t) as usize;
                let d = deg[v];
                let k = pos[t as usize];
                let k2 = if k == 0 { d - 1 } else { k - 1 };
                out[(start[v] + k2) as usize]
            })
            .collect();
        drop(pos);

        // Cycles.
        let mut cycle_of = vec![u32::MAX; nhe];
        let mut cycles: Vec<(u32, f64)> = Vec::new();
        for h0 in 0..nhe as u32 {
            if cycle_of[h0 as usize] != u32::MAX {
                continue;
            }
            let c = cycles.len() as u32;
            let mut h = h0;
            loop {
                cycle_of[h as usize] = c;
                h = next[h as usize];
                if h == h0 {
                    break;
                }
            }
            cycles.push((h0, 0.0));
        }
        cycles.par_iter_mut().for_each(|(h0, a2)| {
            let mut pts = Vec::new();
            let mut h = *h0;
            loop {
                pts.push(verts[origin_of(&edges, h) as usize]);
                h = next[h as usize];
                if h == *h0 {
                    break;
                }
            }
            *a2 = ring_area2(pts.into_iter());
        });

        let mut arr = Arrangement {
            verts,
            edges,
            flags,
            next,
            cycle_of,
            cycles,
            face_of_cycle: Vec::new(),
            container: Vec::new(),
            faces: Vec::new(),
            n_barrier_parts: 0,
            source,
            feature_start: Vec::new(),
            features: Vec::new(),
            barrier_pieces: Vec::new(),
            grid: None,
        };
        arr.assign_faces(excl_index);
        arr
    }

    fn assign_faces(&mut self, excl_index: Option<&PipIndex>) {
        let nc = self.cycles.len();
        let mut face_of_cycle = vec![u32::MAX; nc];
        let mut faces = Vec::new();
        for (c, &(_, a2)) in self.cycles.iter().enumerate() {
            if a2 > 0.0 {
                face_of_cycle[c] = faces.len() as u32;
                faces.push(Face { outer: c as u32, holes: Vec::new(), area: 0.5 * a2, is_patch: false });
            }
        }
        self.face_of_cycle = face_of_cycle;
        let mut container = vec![u32::MAX; nc];
        let cw: Vec<u32> = (0..nc as u32).filter(|&c| self.cycles[c as usize].1 <= 0.0).collect();
        if cw.len() > 1 {
            // Components, to exclude a cycle's own component from its ray.
            let mut uf = UnionFind::new(self.verts.len());
            for &(u, v) in &self.edges {
                uf.union(u, v);
            }
            let comp: Vec<u32> = (0..self.verts.len() as u32).map(|v| uf.find(v)).collect();
            let grid = EdgeGrid::new(&self.verts, &self.edges);
            let hits: Vec<Option<u32>> = cw
                .par_iter()
                .map(|&c| {
                    // Start from the component's leftmost vertex: nothing of the component lies
                    // further left, so the first edge hit bounds the face that contains it.
                    let h0 = self.cycles[c as usize].0;
                    let mut v = origin_of(&self.edges, h0);
                    let mut h = self.next[h0 as usize];
                    while h != h0 {
                        let w = origin_of(&self.edges, h);
                        let (pw, pv) = (self.verts[w as usize], self.verts[v as usize]);
                        if pw[0] < pv[0] || (pw[0] == pv[0] && pw[1] < pv[1]) {
                            v = w;
                        }
                        h = self.next[h as usize];
                    }
                    let own = comp[v as usize];
                    grid.left_hit(&self.verts, &self.edges, self.verts[v as usize], |e| comp[self.edges[e as usize].0 as usize] != own)
                })
                .collect();
            // Resolve: a hit on another component's outer cycle means "same container as it".
            let hit_of: FxMap<u32, Option<u32>> = cw.iter().copied().zip(hits).collect();
            for &c in &cw {
                let mut chain = vec![c];
                let mut cur = c;
                let f = loop {
                    match hit_of[&cur] {
                        None => break u32::MAX,
                        Some(h) => {
                            let hc = self.cycle_of[h as usize];
                            if self.face_of_cycle[hc as usize] != u32::MAX {
                                break self.face_of_cycle[hc as usize];
                            }
                            if container[hc as usize] != u32::MAX || chain.contains(&hc) {
                                break container[hc as usize];
                            }
                            chain.push(hc);
                            cur = hc;
                        }
                    }
                };
                for k in chain {
                    container[k as usize] = f;
                }
            }
            self.grid = Some(grid);
        }
        for &c in &cw {
            let f = container[c as usize];
            if f != u32::MAX {
                faces[f as usize].holes.push(c);
                faces[f as usize].area += 0.5 * self.cycles[c as usize].1;
            }
        }
        self.container = container;
        // Patches: faces inside the unit that are not excluded.
        let flags = &self.flags;
        let he_flag = |h: u32| -> (bool, bool) {
            let f = flags[(h >> 1) as usize];
            let fwd = h & 1 == 0;
            let ext = f & F_BOUND != 0 && f & if fwd { F_BOUND_IN_FWD } else { F_BOUND_IN_REV } == 0;
            let exc = f & F_EXCL != 0 && f & if fwd { F_EXCL_IN_FWD } else { F_EXCL_IN_REV } != 0;
            (ext, exc)
        };
        let results: Vec<bool> = faces
            .par_iter()
            .map(|face| {
                let mut outside = false;
                let mut excluded = false;
                let mut any_excl_edge = false;
                for (k, &c) in std::iter::once(&face.outer).chain(face.holes.iter()).enumerate() {
                    let h0 = self.cycles[c as usize].0;
                    let mut h = h0;
                    loop {
                        let (ext, exc) = he_flag(h);
                        if ext && k == 0 {
                            outside = true;
                        }
                        if exc {
                            excluded = true;
                        }
                        if flags[(h >> 1) as usize] & F_EXCL != 0 {
                            any_excl_edge = true;
                        }
                        h = self.next[h as usize];
                        if h == h0 {
                            break;
                        }
                    }
                }
                if outside {
                    return false;
                }
                if !excluded && !any_excl_edge {
                    if let Some(ix) = excl_index {
                        if let Some(p) = self.interior_point(face) {
                            excluded = ix.contains(p);
                        }
                    }
                }
                !excluded
            })
            .collect();
        for (f, r) in faces.iter_mut().zip(results) {
            f.is_patch = r;
        }
        self.faces = faces;
    }

}
