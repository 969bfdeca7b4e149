//! The worked examples of `meff_test_oracle.json` and the robustness cases of real fence data,
//! on in-memory geometry.

use approx::assert_relative_eq;
use geo::{LineString, MultiLineString, MultiPolygon, Polygon};
use kulan_core::{FeatureId, Range};
use kulan_fragment::{fragment, seff_per_1000km2, Options, Procedure};

const KM: f64 = 1000.0;

fn line(pts: &[(f64, f64)]) -> MultiLineString<f64> {
    MultiLineString(vec![LineString::from(pts.iter().map(|&(x, y)| (x * KM, y * KM)).collect::<Vec<_>>())])
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
    Polygon::new(
        LineString::from(vec![(x0 * KM, y0 * KM), (x1 * KM, y0 * KM), (x1 * KM, y1 * KM), (x0 * KM, y1 * KM), (x0 * KM, y0 * KM)]),
        vec![],
    )
}

fn unit(id: i64, polys: Vec<Polygon<f64>>) -> Range {
    Range { id: FeatureId::Int(id), species: None, season: None, geometry: MultiPolygon(polys) }
}

fn km2(m2: f64) -> f64 {
    m2 / 1e6
}

fn sorted_areas(fr: &kulan_fragment::Fragmentation, u: usize) -> Vec<f64> {
    let mut a: Vec<f64> = fr.patches.iter().filter(|p| p.unit == u).map(|p| km2(p.area_m2)).collect();
    a.sort_by(f64::total_cmp);
    a
}

fn run(lines: &[MultiLineString<f64>], excl: &[MultiPolygon<f64>], units: &[Range]) -> kulan_fragment::Fragmentation {
    let l: Vec<&MultiLineString<f64>> = lines.iter().collect();
    let e: Vec<&MultiPolygon<f64>> = excl.iter().collect();
    fragment(&l, &e, units, &Options { keep_patches: true, ..Options::default() })
}

#[test]
fn oracle_example_a_with_builtup_exclusion() {
    let lines = [line(&[(6., 0.), (6., 10.)]), line(&[(0., 5.), (6., 5.)])];
    let excl = [MultiPolygon(vec![rect(7., 7., 9., 9.)])];
    let units = [unit(1, vec![rect(0., 0., 10., 10.)])];
    let fr = run(&lines, &excl, &units);
    let u = &fr.units[0];
    assert_eq!(sorted_areas(&fr, 0), vec![30., 30., 36.]);
    assert_relative_eq!(km2(u.area_m2), 100.0);
    assert_relative_eq!(km2(u.sum_sq_m4 / 1e6), 3096.0, max_relative = 1e-12);
    assert_relative_eq!(km2(u.meff_cut_m2), 30.96, max_relative = 1e-12);
    assert_relative_eq!(u.coherence(), 0.3096, max_relative = 1e-12);
    assert_relative_eq!(u.division(), 0.6904, max_relative = 1e-12);
    assert_relative_eq!(u.splitting_index(), 3.229974160206718, max_relative = 1e-12);
    assert_relative_eq!(seff_per_1000km2(u.meff_cut_m2), 32.29974160206718, max_relative = 1e-12);
    // A single unit is its own region: CBC = CUT.
    assert_relative_eq!(u.meff_cbc_m2.unwrap(), u.meff_cut_m2, max_relative = 1e-12);

    let fr = run(&lines, &[], &units);
    assert_eq!(sorted_areas(&fr, 0), vec![30., 30., 40.]);
    assert_relative_eq!(km2(fr.units[0].meff_cut_m2), 34.0, max_relative = 1e-12);
    assert_relative_eq!(fr.units[0].splitting_index(), 2.9411764705882355, max_relative = 1e-12);
    assert_relative_eq!(seff_per_1000km2(fr.units[0].meff_cut_m2), 29.41176470588235, max_relative = 1e-12);
}

#[test]
fn oracle_example_b_cut_cbc_and_additivity() {
    let lines = [line(&[(4., 0.), (4., 10.)]), line(&[(15., 0.), (15., 10.)])];
    let units = [unit(1, vec![rect(0., 0., 10., 10.)]), unit(2, vec![rect(10., 0., 20., 10.)])];
    let fr = run(&lines, &[], &units);
    let (u1, u2) = (&fr.units[0], &fr.units[1]);
    assert_eq!(sorted_areas(&fr, 0), vec![40., 60.]);
    assert_eq!(sorted_areas(&fr, 1), vec![50., 50.]);
    assert_relative_eq!(km2(u1.meff_cut_m2), 52.0, max_relative = 1e-12);
    assert_relative_eq!(km2(u2.meff_cut_m2), 50.0, max_relative = 1e-12);
    assert_relative_eq!(km2(u1.meff_cbc_m2.unwrap()), 82.0, max_relative = 1e-12);
    assert_relative_eq!(km2(u2.meff_cbc_m2.unwrap()), 80.0, max_relative = 1e-12);
    assert_relative_eq!(seff_per_1000km2(u1.meff_cbc_m2.unwrap()), 12.195121951219512, max_relative = 1e-12);
    assert_relative_eq!(seff_per_1000km2(u2.meff_cbc_m2.unwrap()), 12.5, max_relative = 1e-12);
    let whole = run(&lines, &[], &[unit(0, vec![rect(0., 0., 20., 10.)])]);
    assert_relative_eq!(km2(whole.units[0].meff_cut_m2), 81.0, max_relative = 1e-12);
    let mean = (u1.area_m2 * u1.meff_cbc_m2.unwrap() + u2.area_m2 * u2.meff_cbc_m2.unwrap()) / (u1.area_m2 + u2.area_m2);
    assert_relative_eq!(mean, whole.units[0].meff_cut_m2, max_relative = 1e-12);
    assert_eq!(u1.meff_m2(Procedure::Cut), u1.meff_cut_m2);
}

#[test]
fn dangling_ends_do_not_split() {
    // A fence that stops 1 m short of the boundary, and a spur off a crossing road.
    let lines = [line(&[(5., 0.), (5., 9.999)]), line(&[(0., 3.), (10., 3.)]), line(&[(2., 3.), (2., 8.)])];
    let fr = run(&lines, &[], &[unit(1, vec![rect(0., 0., 10., 10.)])]);
    assert_eq!(sorted_areas(&fr, 0).len(), 3);
    let a = sorted_areas(&fr, 0);
    assert_relative_eq!(a[0], 15.0, max_relative = 1e-12);
    assert_relative_eq!(a[1], 15.0, max_relative = 1e-12);
    assert_relative_eq!(a[2], 70.0, max_relative = 1e-12);
}

#[test]
fn self_crossing_fence_closes_a_loop() {
    // A figure-eight-like fence crossing itself once: the loop is a patch of 4 km², the rest 96.
    let lines = [line(&[(1., 1.), (5., 1.), (5., 5.), (3., 3.), (3., 0.5)])];
    let fr = run(&lines, &[], &[unit(1, vec![rect(0., 0., 10., 10.)])]);
    let a = sorted_areas(&fr, 0);
    assert_eq!(a.len(), 2);
    // Loop: (3,1),(5,1),(5,5),(3,3): trapezoid area 2*(4+2)/2 = 6.
    assert_relative_eq!(a[0], 6.0, max_relative = 1e-12);
    assert_relative_eq!(a[1], 94.0, max_relative = 1e-12);
    // The fence inside the unit is split at its own crossing into 3 parts.
    assert_eq!(fr.units[0].n_barrier_parts, 3);
}

#[test]
fn collinear_overlapping_fences_count_once() {
    // Two fences along the same line, overlapping, plus one duplicated exactly.
    let lines = [
        line(&[(0., 5.), (6., 5.)]),
        line(&[(4., 5.), (10., 5.)]),
        line(&[(4., 5.), (10., 5.)]),
        line(&[(3., 0.), (3., 5.), (3., 5.)]),
    ];
    let fr = run(&lines, &[], &[unit(1, vec![rect(0., 0., 10., 10.)])]);
    assert_eq!(sorted_areas(&fr, 0), vec![15., 35., 50.]);
}

#[test]
fn barrier_along_the_unit_boundary() {
    // A fence running exactly along the western and southern edges, and beyond, plus one
    // partly on the boundary and then inside.
    let lines = [line(&[(0., 12.), (0., 0.), (12., 0.)]), line(&[(-2., 10.), (4., 10.), (4., 0.)])];
    let fr = run(&lines, &[], &[unit(1, vec![rect(0., 0., 10., 10.)])]);
    assert_eq!(sorted_areas(&fr, 0), vec![40., 60.]);
    // Two units sharing an edge with a fence on it: CBC of each equals CUT.
    let lines = [line(&[(10., -1.), (10., 11.)])];
    let units = [unit(1, vec![rect(0., 0., 10., 10.)]), unit(2, vec![rect(10., 0., 20., 10.)])];
    let fr = run(&lines, &[], &units);
    for u in &fr.units {
        assert_relative_eq!(km2(u.meff_cut_m2), 100.0, max_relative = 1e-12);
        assert_relative_eq!(km2(u.meff_cbc_m2.unwrap()), 100.0, max_relative = 1e-12);
    }
}

#[test]
fn slivers_are_dropped_with_a_minimum_area() {
    // Two nearly parallel fences 1 m apart make a 10 km × 1 m sliver (0.01 km²).
    let lines = [line(&[(0., 5.), (10., 5.)]), line(&[(0., 5.001), (10., 5.001)])];
    let units = [unit(1, vec![rect(0., 0., 10., 10.)])];
    let l: Vec<_> = lines.iter().collect();
    let all = fragment(&l, &[], &units, &Options::default());
    assert_eq!(all.units[0].n_patches, 3);
    let opts = Options { min_patch_area_m2: 20_000.0, ..Options::default() };
    let fr = fragment(&l, &[], &units, &opts);
    assert_eq!(fr.units[0].n_patches, 2);
    assert_relative_eq!(fr.units[0].area_m2, 100e6, max_relative = 1e-12);
}

#[test]
fn ranges_with_holes_and_several_parts() {
    // Part 1: 10×10 with a 2×2 hole (lake) at (4,4); a fence x=5 crosses the hole.
    // Part 2: a separate 5×5 square, uncut.
    let mut p1 = rect(0., 0., 10., 10.);
    p1.interiors_push(rect(4., 4., 6., 6.).exterior().clone());
    let units = [unit(1, vec![p1, rect(20., 0., 25., 5.)])];
    let lines = [line(&[(5., -1.), (5., 11.)])];
    let fr = run(&lines, &[], &units);
    assert_eq!(sorted_areas(&fr, 0), vec![25., 48., 48.]);
    assert_relative_eq!(km2(fr.units[0].area_m2), 121.0, max_relative = 1e-12);
    // A fence loop around the hole (an island of barrier inside the range).
    let lines = [line(&[(3., 3.), (7., 3.), (7., 7.), (3., 7.), (3., 3.)])];
    let fr = run(&lines, &[], &units);
    assert_eq!(sorted_areas(&fr, 0), vec![12., 25., 84.]);
    // A closed paddock not touching anything else, inside the range: a hole in the big patch.
    let lines = [line(&[(1., 1.), (2., 1.), (2., 2.), (1., 2.), (1., 1.)])];
    let fr = run(&lines, &[], &units);
    assert_eq!(sorted_areas(&fr, 0), vec![1., 25., 95.]);
}

#[test]
fn grid_cbc_is_additive() {
    let lines = [
        line(&[(0.5, 3.2), (9.7, 4.1), (19.5, 2.0)]),
        line(&[(7.3, -1.0), (7.9, 11.0)]),
        line(&[(13.1, 0.0), (12.2, 5.5), (18.0, 9.9)]),
        line(&[(2.0, 6.0), (4.0, 6.0), (4.0, 8.0), (2.0, 8.0), (2.0, 6.0)]),
    ];
    let grid = kulan_fragment::square_grid([0.0, 0.0, 19_999.0, 9_999.0], 5_000.0);
    assert_eq!(grid.len(), 8);
    let fr = run(&lines, &[], &grid);
    let whole = run(&lines, &[], &[unit(0, vec![rect(0., 0., 20., 10.)])]);
    let tot: f64 = fr.units.iter().map(|u| u.area_m2).sum();
    let mean: f64 = fr.units.iter().map(|u| u.area_m2 * u.meff_cbc_m2.unwrap()).sum::<f64>() / tot;
    assert_relative_eq!(mean, whole.units[0].meff_cut_m2, max_relative = 1e-12);
    assert_eq!(&fr.units[0].id.to_string(), "5kmE0N0");
}

#[test]
fn patch_polygons_are_simple_with_bridges_and_pinches() {
    use geo::{Area, Validation};
    // A paddock joined to the unit border by a fence (a bridge: same patch on both sides), and a
    // second paddock touching the first at one corner.
    let lines = [
        line(&[(4., 4.), (6., 4.), (6., 6.), (4., 6.), (4., 4.)]),
        line(&[(6., 5.), (10., 5.)]),
        line(&[(6., 6.), (7., 6.), (7., 7.), (6., 7.), (6., 6.)]),
    ];
    let fr = run(&lines, &[], &[unit(1, vec![rect(0., 0., 10., 10.)])]);
    assert_eq!(sorted_areas(&fr, 0), vec![1., 4., 95.]);
    for p in &fr.patches {
        let poly = p.polygon.as_ref().unwrap();
        assert!(poly.is_valid(), "{poly:?}");
        assert_relative_eq!(poly.unsigned_area(), p.area_m2, max_relative = 1e-12);
    }
    let big = fr.patches.iter().find(|p| p.area_m2 > 90e6).unwrap().polygon.as_ref().unwrap();
    assert_eq!(big.0.len(), 1);
    assert_eq!(big.0[0].interiors().len(), 2);
}
