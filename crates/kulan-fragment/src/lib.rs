//! # kulan-fragment
//!
//! Fragmentation of reporting units (species ranges, countries, grid cells) by linear barriers,
//! measured by the effective mesh size m_eff (Jaeger 2000) with the CUT and CBC procedures
//! (Moser et al. 2007).
//!
//! For each unit the selected barriers, the unit's boundary and the boundaries of excluded areas
//! are noded together ([`noding`]), the noded edges form a planar arrangement whose faces are
//! found by a half-edge walk ([`arrangement`]); dangling lines are pruned first, so a barrier end
//! that does not meet another line does not split anything. The faces inside the unit and outside
//! every excluded area are the patches.
//!
//! - CUT: m_eff = (1/A_t) Σ A_i², A_i the patch areas inside the unit.
//! - CBC: m_eff = (1/A_t) Σ A_i · A_i^cmpl, where A_i^cmpl is the area of the whole patch in the
//!   region (the union of all units), found by locating an interior point of each unit patch in
//!   the region's own arrangement. For units that tile the region, the area-weighted mean of the
//!   units' CBC values equals the region's value. For overlapping units (species ranges) the
//!   complete patch may reach into the other units, so m_eff^CBC can exceed the unit's area.
//! - `Options::clip_then_node` reproduces the shapely/GEOS peer (`peers.py meff`) bit for bit in
//!   topology; see `benches/README.md` for why it differs from the default exact noding.
//!
//! A_t always includes barrier and excluded area.

pub mod arrangement;
mod barrier_parts;
mod clip;
mod edge_grid;
pub mod fxhash;
pub mod pip;
mod union_find;
pub mod geom;
pub mod noding;
pub mod rules;

use geo::{LineString, MultiLineString, MultiPolygon, Polygon};
use kulan_core::{FeatureId, Range};
use rayon::prelude::*;
use rstar::{primitives::GeomWithData, primitives::Rectangle, RTree, AABB};

use arrangement::{Arrangement, PipIndex, Ring, UnitInput};
use geom::{ring_area2, KahanSum, Pt};
use noding::{Kind, Seg};

pub use rules::CutRules;

/// Which m_eff goes into the headline `meff_m2` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Procedure {
    #[default]
    Cbc,
    Cut,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub procedure: Procedure,
    /// Compute CBC (needs the region arrangement).
    pub cbc: bool,
    /// Patches smaller than this (m²) are dropped as slivers; they still count in A_t.
    pub min_patch_area_m2: f64,
    /// Reproduce the clip-then-node procedure of the shapely/GEOS peer: each barrier is first
    /// clipped to the unit with floating-point clip points, then noded with the unit boundary.
    /// A clip point that rounds to the inside of the boundary leaves the barrier end dangling
    /// a fraction of a nanometre short of the boundary, so that end does not cut. Only for
    /// comparisons with that peer; the default noding connects every crossing.
    pub clip_then_node: bool,
    /// Keep patch polygons for output.
    pub keep_patches: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { procedure: Procedure::Cbc, cbc: true, min_patch_area_m2: 0.0, clip_then_node: false, keep_patches: false }
    }
}

/// The result for one reporting unit.
#[derive(Debug, Clone)]
pub struct UnitResult {
    pub id: FeatureId,
    /// A_t, m².
    pub area_m2: f64,
    pub n_patches: usize,
    pub patch_area_sum_m2: f64,
    /// Σ A_i².
    pub sum_sq_m4: f64,
    pub meff_cut_m2: f64,
    pub meff_cbc_m2: Option<f64>,
    /// Parts of the cutting barriers inside the unit (split at self-crossings and the boundary).
    pub n_barrier_parts: usize,
}

impl UnitResult {
    pub fn meff_m2(&self, p: Procedure) -> f64 {
        match p {
            Procedure::Cut => self.meff_cut_m2,
            Procedure::Cbc => self.meff_cbc_m2.unwrap_or(self.meff_cut_m2),
        }
    }
    /// Degree of coherence C = Σ (A_i/A_t)² (CUT).
    pub fn coherence(&self) -> f64 {
        if self.area_m2 > 0.0 {
            self.sum_sq_m4 / (self.area_m2 * self.area_m2)
        } else {
            0.0
        }
    }
    /// Landscape division D = 1 − C.
    pub fn division(&self) -> f64 {
        1.0 - self.coherence()
    }
    /// Splitting index S = A_t² / Σ A_i².
    pub fn splitting_index(&self) -> f64 {
        if self.sum_sq_m4 > 0.0 {
            self.area_m2 * self.area_m2 / self.sum_sq_m4
        } else {
            f64::INFINITY
        }
    }
}

/// Effective mesh density: meshes per 1,000 km² for m_eff in m².
pub fn seff_per_1000km2(meff_m2: f64) -> f64 {
    if meff_m2 > 0.0 {
        1000.0 / (meff_m2 / 1e6)
    } else {
        f64::INFINITY
    }
}

/// One patch of one unit.
#[derive(Debug, Clone)]
pub struct Patch {
    /// Index into the units.
    pub unit: usize,
    pub area_m2: f64,
    pub complete_area_m2: Option<f64>,
    pub polygon: Option<MultiPolygon<f64>>,
}

#[derive(Debug, Clone, Default)]
pub struct Fragmentation {
    pub units: Vec<UnitResult>,
    pub patches: Vec<Patch>,
}

/// Polylines of the cutting lines and excluded-area rings, indexed by chunks of segments.
struct LineSet {
    lines: Vec<(Vec<Pt>, u32)>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, (u32, u32, u32)>>,
}

const CHUNK: usize = 32;

impl LineSet {
    fn new(lines: Vec<(Vec<Pt>, u32)>) -> Self {
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

    /// Segments whose envelope meets `bb`, less chunks that lie wholly outside `within`.
    fn segs_in(&self, bb: [f64; 4], kind: Kind, within: Option<&PipIndex>) -> Vec<Seg> {
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

fn ls_pts(ls: &LineString<f64>) -> Vec<Pt> {
    ls.0.iter().map(|c| [c.x, c.y]).collect()
}

/// Rings of a multipolygon, without closing vertices, exteriors counter-clockwise and holes
/// clockwise (so the polygon's interior is on the left of every ring).
pub fn oriented_rings(mp: &MultiPolygon<f64>) -> Vec<Ring> {
    let mut out = Vec::new();
    for poly in &mp.0 {
        for (k, ls) in std::iter::once(poly.exterior()).chain(poly.interiors().iter()).enumerate() {
            let mut r = ls_pts(ls);
            if r.len() > 1 && r.first() == r.last() {
                r.pop();
            }
            r.dedup();
            if r.len() < 3 {
                continue;
            }
            let a = ring_area2(r.iter().copied());
            if a == 0.0 {
                continue;
            }
            if (k == 0) != (a > 0.0) {
                r.reverse();
            }
            out.push(r);
        }
    }
    out
}

/// Area of a multipolygon (exteriors minus holes).
pub fn multipolygon_area(mp: &MultiPolygon<f64>) -> f64 {
    let mut s = KahanSum::default();
    for r in oriented_rings(mp) {
        s.add(0.5 * ring_area2(r.into_iter()));
    }
    s.value()
}

fn rings_bbox(rings: &[Ring]) -> [f64; 4] {
    let mut bb = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    for r in rings {
        for p in r {
            bb[0] = bb[0].min(p[0]);
            bb[1] = bb[1].min(p[1]);
            bb[2] = bb[2].max(p[0]);
            bb[3] = bb[3].max(p[1]);
        }
    }
    bb
}

/// A square grid of `size` (CRS units) aligned on multiples of `size`, covering `bbox`
/// (`[xmin, ymin, xmax, ymax]`). Cell ids read `{size_km}kmE{x_km}N{y_km}` (lower-left corner in
/// km, as the EEA reference grid names its cells).
pub fn square_grid(bbox: [f64; 4], size: f64) -> Vec<Range> {
    assert!(size > 0.0);
    let ix0 = (bbox[0] / size).floor() as i64;
    let iy0 = (bbox[1] / size).floor() as i64;
    let mut ix1 = (bbox[2] / size).ceil() as i64;
    let mut iy1 = (bbox[3] / size).ceil() as i64;
    if ix1 <= ix0 {
        ix1 = ix0 + 1;
    }
    if iy1 <= iy0 {
        iy1 = iy0 + 1;
    }
    let km = size / 1000.0;
    let fmt = |v: f64| if v.fract() == 0.0 { format!("{}", v as i64) } else { format!("{v}") };
    let mut out = Vec::new();
    for iy in iy0..iy1 {
        for ix in ix0..ix1 {
            let (x0, y0) = (ix as f64 * size, iy as f64 * size);
            let (x1, y1) = ((ix + 1) as f64 * size, (iy + 1) as f64 * size);
            let poly = Polygon::new(LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]), vec![]);
            out.push(Range {
                id: FeatureId::Text(format!("{}kmE{}N{}", fmt(km), fmt(x0 / 1000.0), fmt(y0 / 1000.0))),
                species: None,
                season: None,
                geometry: MultiPolygon(vec![poly]),
            });
        }
    }
    out
}

/// Patches of one arrangement: (area, face index).
fn patch_faces(arr: &Arrangement, min_area: f64) -> Vec<(f64, u32)> {
    arr.faces
        .iter()
        .enumerate()
        .filter(|(_, f)| f.is_patch && f.area > 0.0 && f.area >= min_area)
        .map(|(i, f)| (f.area, i as u32))
        .collect()
}

fn face_polygon(arr: &Arrangement, f: u32) -> MultiPolygon<f64> {
    let face = &arr.faces[f as usize];
    let (shells, holes) = arr.face_rings(face);
    let ls = |mut pts: Vec<Pt>| {
        pts.push(pts[0]);
        LineString::from(pts.into_iter().map(|p| (p[0], p[1])).collect::<Vec<_>>())
    };
    if shells.len() <= 1 {
        let shell = shells.into_iter().next().unwrap_or_default();
        if shell.is_empty() {
            return MultiPolygon(vec![]);
        }
        return MultiPolygon(vec![Polygon::new(ls(shell), holes.into_iter().map(ls).collect())]);
    }
    // Several shells (a face pinched at a vertex): each hole goes to the shell that contains it.
    let idx: Vec<PipIndex> = shells.iter().map(|r| PipIndex::new(std::slice::from_ref(r))).collect();
    let mut hs: Vec<Vec<LineString<f64>>> = vec![Vec::new(); shells.len()];
    for h in holes {
        let mid = [0.5 * (h[0][0] + h[1][0]), 0.5 * (h[0][1] + h[1][1])];
        let k = idx.iter().position(|ix| ix.contains(mid)).unwrap_or(0);
        hs[k].push(ls(h));
    }
    MultiPolygon(shells.into_iter().zip(hs).map(|(s, h)| Polygon::new(ls(s), h)).collect())
}

/// Runs the analysis: `lines` are the cutting barriers (already selected), `exclusions` the
/// areas removed from patches, `units` the reporting units.
pub fn fragment(
    lines: &[&MultiLineString<f64>],
    exclusions: &[&MultiPolygon<f64>],
    units: &[Range],
    opts: &Options,
) -> Fragmentation {
    let mut bl = Vec::new();
    for (fi, mls) in lines.iter().enumerate() {
        for ls in &mls.0 {
            let mut p = ls_pts(ls);
            p.dedup();
            if p.len() >= 2 {
                bl.push((p, fi as u32));
            }
        }
    }
    let barriers = LineSet::new(bl);
    let mut excl_rings: Vec<Ring> = Vec::new();
    for mp in exclusions {
        excl_rings.extend(oriented_rings(mp));
    }
    let excl_pip = if excl_rings.is_empty() { None } else { Some(PipIndex::new(&excl_rings)) };
    let excl = LineSet::new(
        excl_rings
            .iter()
            .enumerate()
            .map(|(k, r)| {
                let mut c = r.clone();
                c.push(r[0]);
                (c, k as u32)
            })
            .collect(),
    );

    let build = |rings: &[Ring], clip: bool, count: bool| -> Arrangement {
        let bb = rings_bbox(rings);
        let within = PipIndex::new(rings);
        Arrangement::build(UnitInput {
            rings,
            barrier_segs: barriers.segs_in(bb, Kind::Barrier, Some(&within)),
            excl_segs: if excl_rings.is_empty() { Vec::new() } else { excl.segs_in(bb, Kind::Exclusion, Some(&within)) },
            excl_index: excl_pip.as_ref(),
            clip_then_node: clip,
            count_parts: count,
        })
    };

    // The region for CBC: the union of all units.
    let region = if opts.cbc && !units.is_empty() {
        let region_mp = union_of(units);
        let rings = oriented_rings(&region_mp);
        let mut arr = build(&rings, false, false);
        arr.prepare_locate();
        Some(arr)
    } else {
        None
    };
    let region_patch: Vec<bool> = region
        .as_ref()
        .map(|r| r.faces.iter().map(|f| f.is_patch && f.area > 0.0 && f.area >= opts.min_patch_area_m2).collect())
        .unwrap_or_default();

    // Units run in parallel, a batch of as many as there are threads at a time: the stages inside a
    // unit are parallel too, and an idle thread waiting there would otherwise start yet another
    // unit, keeping many large arrangements in memory at once.
    let threads = rayon::current_num_threads().max(1);
    let run_unit = |(ui, unit): (usize, &Range)| {
            let rings = oriented_rings(&unit.geometry);
            let area = multipolygon_area(&unit.geometry);
            if rings.is_empty() {
                let r = UnitResult {
                    id: unit.id.clone(),
                    area_m2: area,
                    n_patches: 0,
                    patch_area_sum_m2: 0.0,
                    sum_sq_m4: 0.0,
                    meff_cut_m2: 0.0,
                    meff_cbc_m2: region.as_ref().map(|_| 0.0),
                    n_barrier_parts: 0,
                };
                return (r, Vec::new());
            }
            let arr = build(&rings, opts.clip_then_node, true);
            let pf = patch_faces(&arr, opts.min_patch_area_m2);
            let mut sum = KahanSum::default();
            let mut sq = KahanSum::default();
            let mut cbc = KahanSum::default();
            let mut patches = Vec::with_capacity(pf.len());
            for &(a, f) in &pf {
                sum.add(a);
                sq.add(a * a);
                let cmpl = region.as_ref().map(|reg| {
                    let face = &arr.faces[f as usize];
                    match arr.interior_point(face).and_then(|p| reg.locate_ref(p)) {
                        Some(rf) if region_patch[rf as usize] => reg.faces[rf as usize].area.max(a),
                        _ => a,
                    }
                });
                if let Some(c) = cmpl {
                    cbc.add(a * c);
                }
                patches.push(Patch {
                    unit: ui,
                    area_m2: a,
                    complete_area_m2: cmpl,
                    polygon: if opts.keep_patches { Some(face_polygon(&arr, f)) } else { None },
                });
            }
            let r = UnitResult {
                id: unit.id.clone(),
                area_m2: area,
                n_patches: pf.len(),
                patch_area_sum_m2: sum.value(),
                sum_sq_m4: sq.value(),
                meff_cut_m2: if area > 0.0 { sq.value() / area } else { 0.0 },
                meff_cbc_m2: region.as_ref().map(|_| if area > 0.0 { cbc.value() / area } else { 0.0 }),
                n_barrier_parts: arr.n_barrier_parts,
            };
            (r, patches)
        };
    let mut per_unit: Vec<(UnitResult, Vec<Patch>)> = Vec::with_capacity(units.len());
    for (b, batch) in units.chunks(threads).enumerate() {
        let got: Vec<(UnitResult, Vec<Patch>)> =
            batch.par_iter().enumerate().map(|(k, u)| run_unit((b * threads + k, u))).collect();
        per_unit.extend(got);
    }
    let mut out = Fragmentation::default();
    for (r, p) in per_unit {
        out.units.push(r);
        out.patches.extend(p);
    }
    out
}

/// The union of all units' polygons.
fn union_of(units: &[Range]) -> MultiPolygon<f64> {
    if units.len() == 1 {
        return units[0].geometry.clone();
    }
    // A set of axis-aligned squares from `square_grid` tiles its bounding box when complete.
    let polys: Vec<Polygon<f64>> = units.iter().flat_map(|u| u.geometry.0.iter().cloned()).collect();
    if let Some(bb) = tiling_box(&polys) {
        return MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(bb[0], bb[1]), (bb[2], bb[1]), (bb[2], bb[3]), (bb[0], bb[3]), (bb[0], bb[1])]),
            vec![],
        )]);
    }
    geo::unary_union(polys.iter())
}

/// When the polygons are non-overlapping axis-aligned rectangles that exactly fill their joint
/// bounding box, that box.
fn tiling_box(polys: &[Polygon<f64>]) -> Option<[f64; 4]> {
    let mut total = KahanSum::default();
    let mut bb = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    let mut rects = Vec::new();
    for p in polys {
        if !p.interiors().is_empty() {
            return None;
        }
        let pts: Vec<_> = p.exterior().0.iter().collect();
        if pts.len() != 5 {
            return None;
        }
        let xs: Vec<f64> = pts.iter().map(|c| c.x).collect();
        let ys: Vec<f64> = pts.iter().map(|c| c.y).collect();
        let (x0, x1) = (xs.iter().cloned().fold(f64::INFINITY, f64::min), xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max));
        let (y0, y1) = (ys.iter().cloned().fold(f64::INFINITY, f64::min), ys.iter().cloned().fold(f64::NEG_INFINITY, f64::max));
        if !pts.iter().all(|c| (c.x == x0 || c.x == x1) && (c.y == y0 || c.y == y1)) {
            return None;
        }
        total.add((x1 - x0) * (y1 - y0));
        bb = [bb[0].min(x0), bb[1].min(y0), bb[2].max(x1), bb[3].max(y1)];
        rects.push([x0, y0, x1, y1]);
    }
    // Non-overlap: sort and check pairwise within a sweep.
    rects.sort_by(|a, b| a[0].total_cmp(&b[0]));
    for i in 0..rects.len() {
        for j in i + 1..rects.len() {
            if rects[j][0] >= rects[i][2] {
                break;
            }
            let (a, b) = (rects[i], rects[j]);
            if a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3] {
                return None;
            }
        }
    }
    let boxa = (bb[2] - bb[0]) * (bb[3] - bb[1]);
    if (total.value() - boxa).abs() <= 1e-9 * boxa {
        Some(bb)
    } else {
        None
    }
}
