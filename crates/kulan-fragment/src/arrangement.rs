//! The planar arrangement of one reporting unit: noded boundary, barrier and exclusion edges,
//! half-edges sorted around their vertices, face cycles, holes assigned to faces, and the
//! faces that are patches.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rayon::prelude::*;

use crate::geom::{orient, ring_area2, Pt};
use crate::noding::{node, Kind, Seg};

/// A cheap hasher for keys that are already well mixed (coordinate bits, ids).
#[derive(Default)]
pub struct FxHasher(u64);
impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(*b as u64);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64)
    }
}
pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

pub(crate) struct UnionFind(Vec<u32>);
impl UnionFind {
    pub fn new(n: usize) -> Self {
        UnionFind((0..n as u32).collect())
    }
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.0[x as usize] != x {
            let p = self.0[x as usize];
            self.0[x as usize] = self.0[p as usize];
            x = p;
        }
        x
    }
    pub fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.0[ra.max(rb) as usize] = ra.min(rb);
        }
    }
}

// Edge flags.
pub const F_BARRIER: u8 = 1;
pub const F_EXCL: u8 = 2;
pub const F_BOUND: u8 = 4;
/// Boundary edge with the unit's interior on the left of u→v.
pub const F_BOUND_IN_FWD: u8 = 8;
pub const F_BOUND_IN_REV: u8 = 16;
/// Exclusion edge with the excluded area on the left of u→v.
pub const F_EXCL_IN_FWD: u8 = 32;
pub const F_EXCL_IN_REV: u8 = 64;

fn key(p: Pt) -> (u64, u64) {
    // -0.0 and 0.0 are the same point.
    ((p[0] + 0.0).to_bits(), (p[1] + 0.0).to_bits())
}

/// Polygon rings as vertex lists without the closing vertex.
pub type Ring = Vec<Pt>;

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
        let nb = self.start.len() - 1;
        let band = |y: f64| (((y - self.y0) / self.band).max(0.0) as usize).min(nb - 1);
        for k in band(bb[1])..=band(bb[3]) {
            for &i in &self.items[self.start[k] as usize..self.start[k + 1] as usize] {
                let (a, b) = self.segs[i as usize];
                if a[0].max(b[0]) >= bb[0] && a[0].min(b[0]) <= bb[2] && a[1].max(b[1]) >= bb[1] && a[1].min(b[1]) <= bb[3] {
                    return false;
                }
            }
        }
        !self.contains([0.5 * (bb[0] + bb[2]), 0.5 * (bb[1] + bb[3])])
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

/// Input of one arrangement.
pub struct UnitInput<'a> {
    /// Unit rings, exterior rings counter-clockwise and holes clockwise (interior on the left).
    pub rings: &'a [Ring],
    /// Barrier polylines (already selected), with the barrier feature index of each.
    pub barrier_segs: Vec<Seg>,
    /// Exclusion rings oriented with the excluded area on the left.
    pub excl_segs: Vec<Seg>,
    /// Excluded areas, for point-in-polygon tests of faces bounded only by barriers.
    pub excl_index: Option<&'a PipIndex>,
    /// Emulate the clip-then-node peer: barrier ends whose floating-point clip point lies inside
    /// the unit do not reach the boundary.
    pub clip_then_node: bool,
    pub count_parts: bool,
}

/// A face of the arrangement.
#[derive(Debug, Clone)]
pub struct Face {
    /// The counter-clockwise outer cycle.
    pub outer: u32,
    /// Clockwise cycles of the components that lie inside the face.
    pub holes: Vec<u32>,
    pub area: f64,
    /// Inside the unit and not excluded.
    pub is_patch: bool,
}

pub struct Arrangement {
    pub verts: Vec<Pt>,
    /// Half-edge `2e` runs u→v of edge `e`, `2e+1` runs v→u.
    pub edges: Vec<(u32, u32)>,
    pub flags: Vec<u8>,
    pub next: Vec<u32>,
    pub cycle_of: Vec<u32>,
    /// First half-edge and twice the signed area of each cycle.
    pub cycles: Vec<(u32, f64)>,
    /// Face of each counter-clockwise cycle (u32::MAX for clockwise cycles).
    pub face_of_cycle: Vec<u32>,
    /// Face containing each clockwise cycle's component (u32::MAX = unbounded face).
    pub container: Vec<u32>,
    pub faces: Vec<Face>,
    pub n_barrier_parts: usize,
    grid: Option<EdgeGrid>,
}

#[inline]
fn origin_of(edges: &[(u32, u32)], he: u32) -> u32 {
    let (u, v) = edges[(he >> 1) as usize];
    if he & 1 == 0 {
        u
    } else {
        v
    }
}

/// Half-plane class of a direction, for angular sorting: 0 for angles in [0, π), 1 for [π, 2π).
#[inline]
fn half(d: Pt) -> u8 {
    if d[1] > 0.0 || (d[1] == 0.0 && d[0] > 0.0) {
        0
    } else {
        1
    }
}

impl Arrangement {
    pub fn build(input: UnitInput<'_>) -> Arrangement {
        let UnitInput { rings, barrier_segs, excl_segs, excl_index, clip_then_node, count_parts } = input;
        if clip_then_node {
            // The peer's procedure: (1) each barrier is intersected with the unit on its own
            // (noded with itself and the boundary, floating-point clip points); (2) the clipped
            // parts and the boundary are noded together in one floating-point pass. GEOS checks
            // that pass and, when a rounded node made a new crossing, redoes it with a snapping
            // noder that joins the near-misses, i.e. the exact topology.
            let (clipped, parts) = clip_step(rings, &barrier_segs);
            let mut arr = match Self::build_inner(rings, boundary_segs(rings), clipped, excl_segs.clone(), excl_index, false, true) {
                Ok(arr) => arr,
                Err(_) => Self::build_exact(rings, barrier_segs, excl_segs, excl_index, false),
            };
            arr.n_barrier_parts = if count_parts { parts } else { 0 };
            return arr;
        }
        Self::build_exact(rings, barrier_segs, excl_segs, excl_index, count_parts)
    }

    /// Nodes, checks the noding and, where a rounded intersection point made a new crossing,
    /// nodes the noded edges again (a few rounds at most), then builds the faces.
    fn build_exact(
        rings: &[Ring],
        barrier_segs: Vec<Seg>,
        excl_segs: Vec<Seg>,
        excl_index: Option<&PipIndex>,
        count_parts: bool,
    ) -> Arrangement {
        let mut input = (boundary_segs(rings), barrier_segs, excl_segs);
        let mut parts = None;
        for round in 0..4 {
            let last = round == 3;
            match Self::build_inner(rings, input.0, input.1, input.2, excl_index, count_parts && parts.is_none(), !last) {
                Ok(mut arr) => {
                    if let Some(p) = parts {
                        arr.n_barrier_parts = p;
                    }
                    return arr;
                }
                Err((renode, p)) => {
                    parts.get_or_insert(p);
                    input = renode;
                }
            }
        }
        unreachable!("the last round does not validate")
    }

    #[allow(clippy::type_complexity)]
    fn build_inner(
        rings: &[Ring],
        bound_segs: Vec<Seg>,
        barrier_segs: Vec<Seg>,
        excl_segs: Vec<Seg>,
        excl_index: Option<&PipIndex>,
        count_parts: bool,
        validate: bool,
    ) -> Result<Arrangement, ((Vec<Seg>, Vec<Seg>, Vec<Seg>), usize)> {
        let mut segs: Vec<Seg> = bound_segs;
        segs.reserve(barrier_segs.len() + excl_segs.len());
        segs.extend(barrier_segs);
        segs.extend(excl_segs);
        let noded = node(&segs);

        // Vertices and raw edges.
        let mut vmap: FxMap<(u64, u64), u32> = FxMap::default();
        vmap.reserve(segs.len() * 2);
        let mut verts: Vec<Pt> = Vec::with_capacity(segs.len() * 2);
        let mut vid = |p: Pt, verts: &mut Vec<Pt>| -> u32 {
            *vmap.entry(key(p)).or_insert_with(|| {
                verts.push(p);
                (verts.len() - 1) as u32
            })
        };
        let mut emap: FxMap<(u32, u32), u32> = FxMap::default();
        emap.reserve(segs.len() * 2);
        let mut edges: Vec<(u32, u32)> = Vec::with_capacity(segs.len() * 2);
        let mut flags: Vec<u8> = Vec::with_capacity(segs.len() * 2);
        // (feature, edge) of barrier pieces, for counting parts.
        let mut bar_pieces: Vec<(u32, u32, u32, u32)> = Vec::new();
        // Consecutive segments of a polyline share a vertex: reuse its id without hashing.
        let mut last_b: Option<(Pt, u32)> = None;
        for (k, s) in segs.iter().enumerate() {
            let mut prev = match last_b {
                Some((p, id)) if p == s.a => id,
                _ => vid(s.a, &mut verts),
            };
            let pts = noded.splits[k].iter().copied().chain(std::iter::once(s.b));
            for p in pts {
                let v = vid(p, &mut verts);
                last_b = Some((p, v));
                if v == prev {
                    continue;
                }
                let (u, w, fwd) = if prev < v { (prev, v, true) } else { (v, prev, false) };
                let e = *emap.entry((u, w)).or_insert_with(|| {
                    edges.push((u, w));
                    flags.push(0);
                    (edges.len() - 1) as u32
                });
                let f = &mut flags[e as usize];
                match s.kind {
                    Kind::Barrier => {
                        *f |= F_BARRIER;
                        if count_parts {
                            bar_pieces.push((s.feature, u, w, e));
                        }
                    }
                    Kind::Boundary => *f |= F_BOUND | if fwd { F_BOUND_IN_FWD } else { F_BOUND_IN_REV },
                    Kind::Exclusion => *f |= F_EXCL | if fwd { F_EXCL_IN_FWD } else { F_EXCL_IN_REV },
                }
                prev = v;
            }
        }
        let nv = verts.len();

        // Which non-boundary edges lie inside the unit: groups connected through vertices off the
        // boundary share the answer; one point-in-polygon test per group.
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
        let keep: Vec<bool> = (0..edges.len())
            .map(|e| flags[e] & F_BOUND != 0 || inside_group[&group_of[e]])
            .collect();

        let n_barrier_parts = if count_parts { count_parts_fn(&mut bar_pieces, &keep) } else { 0 };

        // Validity of the single noding pass: only edges ending at a computed node moved off their
        // input segment, so only pairs involving one of them can cross anew.
        let valid = !validate || {
            let mut computed = vec![false; verts.len()];
            for (k, s) in segs.iter().enumerate() {
                for p in &noded.splits[k] {
                    if *p != s.a && *p != s.b {
                        if let Some(&v) = vmap.get(&key(*p)) {
                            computed[v as usize] = true;
                        }
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
            !crate::noding::node_filtered(&check, |a, b| a.feature == 1 || b.feature == 1)
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
                let seg = |fwd: bool, kind: Kind| if fwd { Seg { a: pu, b: pv, kind, feature: 0 } } else { Seg { a: pv, b: pu, kind, feature: 0 } };
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
                if f & F_BARRIER != 0 {
                    r.push(seg(true, Kind::Barrier));
                }
            }
            return Err(((b, r, x), n_barrier_parts));
        }
        drop(segs);
        drop(vmap);
        drop(emap);

        // Keep the edges inside, then prune dangles.
        let nv = verts.len();
        let mut alive = keep;
        let mut deg = vec![0u32; nv];
        for (e, &(u, v)) in edges.iter().enumerate() {
            if alive[e] {
                deg[u as usize] += 1;
                deg[v as usize] += 1;
            }
        }
        // Incident-edge lists (CSR) for pruning and sorting.
        let mut start = vec![0u32; nv + 1];
        for v in 0..nv {
            start[v + 1] = start[v] + deg[v];
        }
        let mut fill: Vec<u32> = start[..nv].to_vec();
        let mut inc = vec![0u32; start[nv] as usize];
        for (e, &(u, v)) in edges.iter().enumerate() {
            if alive[e] {
                inc[fill[u as usize] as usize] = 2 * e as u32;
                fill[u as usize] += 1;
                inc[fill[v as usize] as usize] = 2 * e as u32 + 1;
                fill[v as usize] += 1;
            }
        }
        let mut stack: Vec<u32> = (0..nv as u32).filter(|&v| deg[v as usize] == 1).collect();
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
        for e in 0..edges.len() {
            if alive[e] {
                new_edges.push(edges[e]);
                new_flags.push(flags[e]);
            }
        }
        let edges = new_edges;
        let flags = new_flags;
        drop(alive);

        // Outgoing half-edges per vertex, sorted counter-clockwise.
        let mut deg = vec![0u32; nv];
        for &(u, v) in &edges {
            deg[u as usize] += 1;
            deg[v as usize] += 1;
        }
        let mut start = vec![0u32; nv + 1];
        for v in 0..nv {
            start[v + 1] = start[v] + deg[v];
        }
        let mut fill: Vec<u32> = start[..nv].to_vec();
        let mut out = vec![0u32; start[nv] as usize];
        for (e, &(u, v)) in edges.iter().enumerate() {
            out[fill[u as usize] as usize] = 2 * e as u32;
            fill[u as usize] += 1;
            out[fill[v as usize] as usize] = 2 * e as u32 + 1;
            fill[v as usize] += 1;
        }
        drop(fill);
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
            n_barrier_parts,
            grid: None,
        };
        arr.assign_faces(excl_index);
        Ok(arr)
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

/// The rings as boundary segments (interior on the left).
fn boundary_segs(rings: &[Ring]) -> Vec<Seg> {
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
fn clip_step(rings: &[Ring], barrier_segs: &[Seg]) -> (Vec<Seg>, usize) {
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
        let u = *vmap.entry(key(s.a)).or_insert(n);
        let n = vmap.len() as u32;
        let v = *vmap.entry(key(s.b)).or_insert(n);
        list.push((s.feature, u.min(v), u.max(v), 0));
    }
    let parts = count_parts_fn(&mut list, &[true]);
    (pieces, parts)
}

/// Counts the maximal chains of each barrier's pieces inside the unit (what an overlay
/// intersection of the barrier with the unit returns as parts).
fn count_parts_fn(pieces: &mut [(u32, u32, u32, u32)], keep: &[bool]) -> usize {
    pieces.sort_unstable();
    let mut total = 0usize;
    let mut i = 0;
    while i < pieces.len() {
        let f = pieces[i].0;
        let mut j = i;
        while j < pieces.len() && pieces[j].0 == f {
            j += 1;
        }
        let mut es: Vec<(u32, u32)> = pieces[i..j].iter().filter(|p| keep[p.3 as usize]).map(|p| (p.1, p.2)).collect();
        es.dedup();
        if !es.is_empty() {
            let mut local: FxMap<u32, u32> = FxMap::default();
            for &(u, v) in &es {
                let n = local.len() as u32;
                local.entry(u).or_insert(n);
                let n = local.len() as u32;
                local.entry(v).or_insert(n);
            }
            let n = local.len();
            let mut deg = vec![0u32; n];
            let mut uf = UnionFind::new(n);
            for &(u, v) in &es {
                let (a, b) = (local[&u], local[&v]);
                deg[a as usize] += 1;
                deg[b as usize] += 1;
                uf.union(a, b);
            }
            let mut comp_ends: FxMap<u32, usize> = FxMap::default();
            for k in 0..n as u32 {
                let r = uf.find(k);
                let e = comp_ends.entry(r).or_insert(0);
                if deg[k as usize] != 2 {
                    *e += deg[k as usize] as usize;
                }
            }
            for (_, ends) in comp_ends {
                total += if ends == 0 { 1 } else { ends / 2 };
            }
        }
        i = j;
    }
    total
}

/// A uniform grid over the edges, for "first edge to the left of a point" queries.
struct EdgeGrid {
    x0: f64,
    y0: f64,
    cell: f64,
    nx: usize,
    ny: usize,
    start: Vec<u32>,
    items: Vec<u32>,
}

impl EdgeGrid {
    fn new(verts: &[Pt], edges: &[(u32, u32)]) -> Self {
        let mut bb = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        for &(u, v) in edges {
            for p in [verts[u as usize], verts[v as usize]] {
                bb[0] = bb[0].min(p[0]);
                bb[1] = bb[1].min(p[1]);
                bb[2] = bb[2].max(p[0]);
                bb[3] = bb[3].max(p[1]);
            }
        }
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
                    g.items[fill[c] as usize] = e as u32;
                    fill[c] += 1;
                }
            }
        }
        g
    }
    fn cx(&self, x: f64) -> usize {
        (((x - self.x0) / self.cell).max(0.0) as usize).min(self.nx - 1)
    }
    fn cy(&self, y: f64) -> usize {
        (((y - self.y0) / self.cell).max(0.0) as usize).min(self.ny - 1)
    }

    /// The half-edge nearest to the left of `p` on a horizontal ray just above `p`, oriented so
    /// that `p` lies on its left. Only edges passing `accept`.
    fn left_hit(&self, verts: &[Pt], edges: &[(u32, u32)], p: Pt, accept: impl Fn(u32) -> bool) -> Option<u32> {
        if p[1] < self.y0 || p[1] > self.y0 + self.cell * self.ny as f64 || p[0] < self.x0 {
            return None;
        }
        let iy = self.cy(p[1]);
        let mut best: Option<(f64, u32)> = None;
        let mut ix = self.cx(p[0]) as isize;
        while ix >= 0 {
            let c = iy * self.nx + ix as usize;
            for &e in &self.items[self.start[c] as usize..self.start[c + 1] as usize] {
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
