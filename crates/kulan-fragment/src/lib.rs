//! # kulan-fragment
//!
//! Fragmentation of reporting units (species ranges, countries, grid cells) by linear barriers,
//! measured by the effective mesh size m_eff (Jaeger 2000) with the CUT and CBC procedures
//! (Moser et al. 2007).
//!
//! The selected barriers and the boundaries of excluded areas are noded once for the whole study
//! area ([`noding`]) into one shared planar arrangement whose faces are found by a half-edge walk
//! ([`arrangement`]). A shared face that lies well inside a unit is one of its patches as it is;
//! near the unit's boundary the boundary is noded with the shared edges there and the faces of
//! that local arrangement are taken, after pruning dangling lines, so a barrier end that does not
//! meet another line does not split anything (`shared` module). The faces inside the unit and
//! outside every excluded area are the patches.
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
mod leaf_prune;
pub mod geom;
mod lineset;
pub mod noding;
mod numbering;
pub mod pip;
pub mod rules;
mod shared;
mod union_find;
mod units;

use geo::{LineString, MultiLineString, MultiPolygon, Polygon};
use kulan_core::{FeatureId, Range};

use arrangement::{Arrangement, PipIndex, Ring, UnitInput};
use geom::{ring_area2, KahanSum, Pt};
use lineset::{ls_pts, LineSet};
use noding::Kind;
use shared::{PatchFace, Shared};
use units::union_of;

pub use rules::CutRules;
pub use units::square_grid;

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
    /// Keep the patches (areas and polygons) in `Fragmentation::patches`; without it only the
    /// per-unit results are kept (a study area can have hundreds of millions of patches).
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
    /// Every patch, unit by unit; empty unless `Options::keep_patches`.
    pub patches: Vec<Patch>,
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
///
/// ```
/// use geo::{line_string, polygon, MultiLineString, MultiPolygon};
/// use kulan_core::{FeatureId, Range};
/// use kulan_fragment::{fragment, Options};
///
/// // A 10 x 10 unit cut in two by a road across it.
/// let unit = Range {
///     id: FeatureId::Int(1),
///     species: None,
///     season: None,
///     geometry: MultiPolygon(vec![polygon![(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0)]]),
/// };
/// let road = MultiLineString(vec![line_string![(x: 4.0, y: -1.0), (x: 4.0, y: 11.0)]]);
/// let fr = fragment(&[&road], &[], &[unit], &Options::default());
/// assert_eq!(fr.units[0].n_patches, 2);
/// assert_eq!(fr.units[0].meff_cut_m2, (40.0 * 40.0 + 60.0 * 60.0) / 100.0);
/// ```
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
    let region_rings = if opts.cbc && !units.is_empty() { Some(oriented_rings(&union_of(units))) } else { None };
    let min_area = opts.min_patch_area_m2;
    if opts.clip_then_node {
        // Each unit from the original segments, as the peer does.
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
        let region = region_rings.map(|rings| {
            let mut arr = build(&rings, false, false);
            arr.prepare_locate();
            arr
        });
        return run_units(units, opts, |rings| {
            let arr = build(rings, true, true);
            let patches = patch_faces(&arr, min_area)
                .into_iter()
                .map(|(a, f)| {
                    let cmpl = region.as_ref().map(|reg| {
                        match arr.interior_point(&arr.faces[f as usize]).and_then(|p| reg.locate_ref(p)) {
                            Some(rf) if patch_faces_has(reg, rf, min_area) => reg.faces[rf as usize].area.max(a),
                            _ => a,
                        }
                    });
                    (a, cmpl, opts.keep_patches.then(|| face_polygon(&arr, f)))
                })
                .collect();
            UnitPatches { patches, n_barrier_parts: arr.n_barrier_parts }
        });
    }

    // Default: the lines are noded once for the whole area, each unit handles its boundary zone.
    let stage = Stage::new();
    let shared = Shared::new(barriers.all_segs(Kind::Barrier), excl.all_segs(Kind::Exclusion), excl_pip.as_ref());
    drop(barriers);
    drop(excl);
    stage.done("shared arrangement");
    let region = region_rings.map(|rings| {
        let mut r = shared.unit(&rings, excl_pip.as_ref(), min_area);
        r.own.prepare_locate();
        r
    });
    stage.done("region");
    let out = run_units(units, opts, |rings| {
        let uf = shared.unit(rings, excl_pip.as_ref(), min_area);
        let patches = uf
            .patches
            .iter()
            .map(|&(a, pf)| {
                let cmpl = region.as_ref().map(|reg| match pf {
                    // A shared face taken whole lies off the unit's boundary: it is complete.
                    PatchFace::Shared(_) => a,
                    PatchFace::Own(f) => uf
                        .own
                        .interior_point(&uf.own.faces[f as usize])
                        .and_then(|p| shared.region_patch_area(reg, p, min_area))
                        .map_or(a, |c| c.max(a)),
                });
                let polygon = opts.keep_patches.then(|| match pf {
                    PatchFace::Own(f) => face_polygon(&uf.own, f),
                    PatchFace::Shared(g) => face_polygon(&shared.arr, g),
                });
                (a, cmpl, polygon)
            })
            .collect();
        UnitPatches { patches, n_barrier_parts: uf.n_barrier_parts }
    });
    stage.done("units");
    out
}

/// Stage timings on stderr when `KULAN_TIMINGS` is set (benchmarks).
struct Stage(Option<std::cell::Cell<std::time::Instant>>);

impl Stage {
    fn new() -> Self {
        Stage(std::env::var_os("KULAN_TIMINGS").filter(|v| v != "0").map(|_| std::cell::Cell::new(std::time::Instant::now())))
    }
    fn done(&self, what: &str) {
        if let Some(t) = &self.0 {
            eprintln!("fragment: {what} {:.2} s", t.get().elapsed().as_secs_f64());
            t.set(std::time::Instant::now());
        }
    }
}

fn patch_faces_has(arr: &Arrangement, f: u32, min_area: f64) -> bool {
    let face = &arr.faces[f as usize];
    face.is_patch && face.area > 0.0 && face.area >= min_area
}

/// The patches of one unit: area, complete area (CBC) and polygon of each.
struct UnitPatches {
    #[allow(clippy::type_complexity)]
    patches: Vec<(f64, Option<f64>, Option<MultiPolygon<f64>>)>,
    n_barrier_parts: usize,
}

/// Runs `patches_of` on every unit's rings and sums up.
fn run_units(units: &[Range], opts: &Options, patches_of: impl Fn(&[Ring]) -> UnitPatches + Sync) -> Fragmentation {
    // Units run in parallel on as many loops as there are threads, each taking the next unit when
    // done with one: the stages inside a unit are parallel too, and with a plain parallel iterator
    // a thread waiting there would start yet another unit, keeping many large arrangements in
    // memory at once. Results go to the unit's own slot, so the order of completion does not
    // matter.
    let threads = rayon::current_num_threads().max(1);
    let run_unit = |(ui, unit): (usize, &Range)| {
        let rings = oriented_rings(&unit.geometry);
        let area = multipolygon_area(&unit.geometry);
        let up = if rings.is_empty() { UnitPatches { patches: Vec::new(), n_barrier_parts: 0 } } else { patches_of(&rings) };
        let mut sum = KahanSum::default();
        let mut sq = KahanSum::default();
        let mut cbc = KahanSum::default();
        let n_patches = up.patches.len();
        let mut patches = Vec::with_capacity(if opts.keep_patches { n_patches } else { 0 });
        for (a, cmpl, polygon) in up.patches {
            sum.add(a);
            sq.add(a * a);
            if let Some(c) = cmpl {
                cbc.add(a * c);
            }
            if opts.keep_patches {
                patches.push(Patch { unit: ui, area_m2: a, complete_area_m2: cmpl, polygon });
            }
        }
        let r = UnitResult {
            id: unit.id.clone(),
            area_m2: area,
            n_patches,
            patch_area_sum_m2: sum.value(),
            sum_sq_m4: sq.value(),
            meff_cut_m2: if area > 0.0 { sq.value() / area } else { 0.0 },
            meff_cbc_m2: opts.cbc.then(|| if area > 0.0 { cbc.value() / area } else { 0.0 }),
            n_barrier_parts: up.n_barrier_parts,
        };
        (r, patches)
    };
    // Largest first (by bounding box), so that no big unit is left running alone at the end.
    let mut order: Vec<usize> = (0..units.len()).collect();
    let size = |u: &Range| geo::BoundingRect::bounding_rect(&u.geometry).map_or(0.0, |r| r.width() * r.height());
    let sizes: Vec<f64> = units.iter().map(size).collect();
    order.sort_by(|&a, &b| sizes[b].total_cmp(&sizes[a]).then(a.cmp(&b)));
    let slots: Vec<std::sync::OnceLock<(UnitResult, Vec<Patch>)>> = (0..units.len()).map(|_| std::sync::OnceLock::new()).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    rayon::scope(|s| {
        for _ in 0..threads {
            s.spawn(|_| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&ui) = order.get(k) else { break };
                let _ = slots[ui].set(run_unit((ui, &units[ui])));
            });
        }
    });
    let mut out = Fragmentation::default();
    for slot in slots {
        let (r, p) = slot.into_inner().expect("every unit ran");
        out.units.push(r);
        out.patches.extend(p);
    }
    out
}
