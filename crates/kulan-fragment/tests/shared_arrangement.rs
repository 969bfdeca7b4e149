//! `fragment` nodes the lines once for the whole area and takes the shared faces that lie well
//! inside a unit as they are. These tests check it against an arrangement built for each unit on
//! its own from all the original segments (the direct definition), on a dense synthetic network
//! with closed loops (islands), trees, self-crossings, collinear overlaps, lines on unit borders,
//! excluded areas, and overlapping units with holes and several parts.

use geo::{LineString, MultiLineString, MultiPolygon, Polygon};
use kulan_core::{FeatureId, Range};
use kulan_fragment::arrangement::{Arrangement, PipIndex, UnitInput};
use kulan_fragment::noding::{Kind, Seg};
use kulan_fragment::{fragment, oriented_rings, square_grid, Options, Procedure};

/// A small deterministic generator (the same numbers on every platform).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64) / ((1u64 << 53) as f64)
    }
    fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.next()
    }
}

fn poly(pts: &[(f64, f64)], holes: &[&[(f64, f64)]]) -> Polygon<f64> {
    let ring = |p: &[(f64, f64)]| {
        let mut v = p.to_vec();
        v.push(p[0]);
        LineString::from(v)
    };
    Polygon::new(ring(pts), holes.iter().map(|h| ring(h)).collect())
}

fn square(x: f64, y: f64, s: f64) -> Vec<(f64, f64)> {
    vec![(x, y), (x + s, y), (x + s, y + s), (x, y + s)]
}

fn network(seed: u64) -> Vec<MultiLineString<f64>> {
    let mut r = Lcg(seed);
    let mut lines = Vec::new();
    // Random polylines (trees and crossings).
    for _ in 0..120 {
        let mut pts = vec![(r.range(0.0, 1000.0), r.range(0.0, 1000.0))];
        for _ in 0..r.range(1.0, 6.0) as usize {
            let last = pts[pts.len() - 1];
            pts.push((last.0 + r.range(-150.0, 150.0), last.1 + r.range(-150.0, 150.0)));
        }
        lines.push(MultiLineString(vec![LineString::from(pts)]));
    }
    // Closed loops: islands, some with a dangle and some nested.
    for k in 0..40 {
        let (x, y, s) = (r.range(0.0, 950.0), r.range(0.0, 950.0), r.range(5.0, 60.0));
        let mut sq = square(x, y, s);
        sq.push((x, y));
        if k % 3 == 0 {
            sq.push((x - 10.0, y - 10.0));
        }
        lines.push(MultiLineString(vec![LineString::from(sq)]));
        if k % 5 == 0 {
            let mut inner = square(x + s * 0.25, y + s * 0.25, s * 0.5);
            inner.push((x + s * 0.25, y + s * 0.25));
            lines.push(MultiLineString(vec![LineString::from(inner)]));
        }
    }
    // A self-crossing fence, collinear overlapping fences, a fence on a unit border.
    lines.push(MultiLineString(vec![LineString::from(vec![(100.0, 100.0), (300.0, 300.0), (300.0, 100.0), (100.0, 300.0)])]));
    lines.push(MultiLineString(vec![LineString::from(vec![(500.0, 50.0), (500.0, 400.0)])]));
    lines.push(MultiLineString(vec![LineString::from(vec![(500.0, 200.0), (500.0, 600.0)])]));
    lines.push(MultiLineString(vec![LineString::from(vec![(0.0, 500.0), (1000.0, 500.0)])]));
    lines
}

fn units() -> Vec<Range> {
    let u = |id: i64, polys: Vec<Polygon<f64>>| Range { id: FeatureId::Int(id), species: None, season: None, geometry: MultiPolygon(polys) };
    vec![
        u(1, vec![poly(&square(0.0, 0.0, 1000.0), &[])]),
        u(2, vec![poly(&[(50.0, 20.0), (700.0, 80.0), (640.0, 500.0), (300.0, 700.0), (20.0, 450.0)], &[&square(200.0, 200.0, 120.0)])]),
        u(3, vec![poly(&square(400.0, 500.0, 400.0), &[]), poly(&square(850.0, 850.0, 140.0), &[])]),
        u(4, vec![poly(&[(0.0, 500.0), (1000.0, 500.0), (1000.0, 1000.0), (0.0, 1000.0)], &[])]),
    ]
}

fn exclusions() -> Vec<MultiPolygon<f64>> {
    vec![MultiPolygon(vec![poly(&square(600.0, 600.0, 80.0), &[]), poly(&square(120.0, 700.0, 200.0), &[&square(170.0, 750.0, 50.0)])])]
}

fn segs(lines: &[MultiLineString<f64>]) -> Vec<Seg> {
    let mut out = Vec::new();
    for (f, mls) in lines.iter().enumerate() {
        for ls in &mls.0 {
            for w in ls.0.windows(2) {
                if w[0] != w[1] {
                    out.push(Seg { a: [w[0].x, w[0].y], b: [w[1].x, w[1].y], kind: Kind::Barrier, feature: f as u32 });
                }
            }
        }
    }
    out
}

/// Sorted patch areas and barrier parts of `unit` from its own arrangement of all segments.
fn direct(lines: &[MultiLineString<f64>], excl: &[MultiPolygon<f64>], unit: &Range) -> (Vec<f64>, usize) {
    let rings = oriented_rings(&unit.geometry);
    let excl_rings: Vec<_> = excl.iter().flat_map(oriented_rings).collect();
    let excl_index = PipIndex::new(&excl_rings);
    let mut excl_segs = Vec::new();
    for (k, r) in excl_rings.iter().enumerate() {
        for i in 0..r.len() {
            excl_segs.push(Seg { a: r[i], b: r[(i + 1) % r.len()], kind: Kind::Exclusion, feature: k as u32 });
        }
    }
    let arr = Arrangement::build(UnitInput {
        rings: &rings,
        barrier_segs: segs(lines),
        excl_segs,
        excl_index: Some(&excl_index),
        clip_then_node: false,
        count_parts: true,
    });
    let mut areas: Vec<f64> = arr.faces.iter().filter(|f| f.is_patch && f.area > 0.0).map(|f| f.area).collect();
    areas.sort_by(f64::total_cmp);
    (areas, arr.n_barrier_parts)
}

#[test]
fn shared_arrangement_matches_each_unit_on_its_own() {
    for seed in [1, 2, 3] {
        let lines = network(seed);
        let excl = exclusions();
        let units = units();
        let l: Vec<&MultiLineString<f64>> = lines.iter().collect();
        let e: Vec<&MultiPolygon<f64>> = excl.iter().collect();
        let fr = fragment(&l, &e, &units, &Options { procedure: Procedure::Cut, cbc: false, keep_patches: true, ..Options::default() });
        for (ui, unit) in units.iter().enumerate() {
            let (want, parts) = direct(&lines, &excl, unit);
            let mut got: Vec<f64> = fr.patches.iter().filter(|p| p.unit == ui).map(|p| p.area_m2).collect();
            got.sort_by(f64::total_cmp);
            assert!(want.len() > 20, "seed {seed} unit {ui}: a dense case ({} patches)", want.len());
            assert_eq!(got.len(), want.len(), "seed {seed} unit {ui}: patch count");
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-9 * w.max(1.0), "seed {seed} unit {ui}: area {g} vs {w}");
            }
            assert_eq!(fr.units[ui].n_patches, want.len());
            assert_eq!(fr.units[ui].n_barrier_parts, parts, "seed {seed} unit {ui}: barrier parts");
        }
    }
}

#[test]
fn shared_arrangement_cbc_is_additive_on_a_grid() {
    let lines = network(7);
    let excl = exclusions();
    let l: Vec<&MultiLineString<f64>> = lines.iter().collect();
    let e: Vec<&MultiPolygon<f64>> = excl.iter().collect();
    let grid = square_grid([0.0, 0.0, 999.0, 999.0], 250.0);
    let region = vec![Range { id: FeatureId::Int(0), species: None, season: None, geometry: MultiPolygon(vec![poly(&square(0.0, 0.0, 1000.0), &[])]) }];
    let opts = Options::default();
    let cells = fragment(&l, &e, &grid, &opts);
    let whole = fragment(&l, &e, &region, &opts);
    let weighted: f64 = cells.units.iter().map(|u| u.area_m2 * u.meff_cbc_m2.unwrap()).sum();
    let total: f64 = cells.units.iter().map(|u| u.area_m2).sum();
    let want = whole.units[0].meff_cbc_m2.unwrap();
    assert!((weighted / total - want).abs() <= 1e-9 * want, "{} vs {want}", weighted / total);
    // The region on its own: CBC equals CUT.
    assert!((whole.units[0].meff_cut_m2 - want).abs() <= 1e-9 * want);
}

#[test]
fn same_result_on_one_and_two_threads() {
    let lines = network(11);
    let excl = exclusions();
    let units = units();
    let l: Vec<&MultiLineString<f64>> = lines.iter().collect();
    let e: Vec<&MultiPolygon<f64>> = excl.iter().collect();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| fragment(&l, &e, &units, &Options { keep_patches: true, ..Options::default() }))
    };
    let (a, b) = (run(1), run(2));
    for (x, y) in a.units.iter().zip(&b.units) {
        assert_eq!((x.n_patches, x.n_barrier_parts), (y.n_patches, y.n_barrier_parts));
        assert_eq!(x.meff_cut_m2.to_bits(), y.meff_cut_m2.to_bits());
        assert_eq!(x.meff_cbc_m2.map(f64::to_bits), y.meff_cbc_m2.map(f64::to_bits));
    }
    for (p, q) in a.patches.iter().zip(&b.patches) {
        assert_eq!(p.area_m2.to_bits(), q.area_m2.to_bits());
        assert_eq!(p.polygon, q.polygon);
    }
}
