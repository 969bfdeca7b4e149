//! Resistance grids from barriers: no diagonal leaks, least permeable wins, crossings, land cover.

use geo::{Coord, LineString, MultiLineString, Point};
use kulan_core::raster::{GeoTransform, Grid};
use kulan_core::{Barrier, BarrierAttrs, BarrierKind, BarrierStatus, FeatureId};
use kulan_corridors::{cost_distance, Connectivity, CostOptions, CostSurface, Sources};
use kulan_permeability::{
    build_resistance, ClassTable, Crossing, CrossingAttrs, Lattice, Model, ResistanceInput, ResistanceOutput, NODATA,
};

const CELL: f64 = 100.0;
const N: usize = 60;

fn lattice() -> Lattice {
    Lattice { rows: N, cols: N, transform: GeoTransform::from_lower_left(0.0, 0.0, CELL, N) }
}

fn barrier(id: i64, kind: BarrierKind, coords: &[(f64, f64)], attrs: BarrierAttrs) -> Barrier {
    let line: LineString<f64> = coords.iter().map(|&(x, y)| Coord { x, y }).collect();
    Barrier { id: FeatureId::Int(id), geometry: MultiLineString(vec![line]), attrs: BarrierAttrs { kind: Some(kind), ..attrs } }
}

fn border_fence(id: i64, coords: &[(f64, f64)]) -> Barrier {
    barrier(id, BarrierKind::BorderFence, coords, BarrierAttrs::default())
}

fn input<'a>(model: &'a Model, barriers: &'a [Barrier], crossings: &'a [Crossing]) -> ResistanceInput<'a> {
    ResistanceInput {
        model,
        species: "khulan",
        lattice: lattice(),
        crs: None,
        mask: None,
        barriers,
        crossings,
        landcover: None,
        statuses: &[BarrierStatus::Existing],
        encounter_cost_m: None,
    }
}

fn cost_from_corner(out: &ResistanceOutput, connectivity: Connectivity) -> Grid<f64> {
    let s = CostSurface::from_resistance(&out.resistance).unwrap();
    let opts = CostOptions { connectivity, ..Default::default() };
    cost_distance(&s, &Sources { cells: vec![(0, 0, 1)] }, &opts).unwrap().cost
}

/// A closed ring at odd angles (a rotated, irregular polygon) through arbitrary cell positions.
fn ring() -> Vec<(f64, f64)> {
    let (cx, cy) = (3013.0, 2987.0);
    let mut pts: Vec<(f64, f64)> = (0..7)
        .map(|k| {
            let a = 0.3 + k as f64 * std::f64::consts::TAU / 7.0;
            let r = 1500.0 + 300.0 * (k as f64 * 1.7).sin();
            (cx + r * a.cos(), cy + r * a.sin())
        })
        .collect();
    pts.push(pts[0]);
    pts
}

#[test]
fn closed_fence_ring_with_p_zero_leaves_its_inside_unreachable_at_8_neighbours() {
    let model = Model::default_model();
    assert_eq!(model.classify_barrier(&border_fence(1, &[]).attrs).unwrap().p["khulan"], 0.0);
    let barriers = vec![border_fence(1, &ring())];
    let out = build_resistance(&input(&model, &barriers, &[])).unwrap();
    assert!(out.report.impassable_barrier_cells > 0);
    let cost = cost_from_corner(&out, Connectivity::Eight);
    // Centre of the ring (row, col of (3013, 2987)).
    let (r, c) = (N - 1 - (2987.0 / CELL) as usize, (3013.0 / CELL) as usize);
    assert!(cost.get(r, c).is_infinite(), "inside reached at cost {}", cost.get(r, c));
    assert!(cost.get(N - 1, N - 1).is_finite());
    // The same ring drawn as a 45° diamond through exact cell corners.
    let diamond = vec![border_fence(2, &[(3000.0, 1000.0), (5000.0, 3000.0), (3000.0, 5000.0), (1000.0, 3000.0), (3000.0, 1000.0)])];
    let out = build_resistance(&input(&model, &diamond, &[])).unwrap();
    let cost = cost_from_corner(&out, Connectivity::Eight);
    assert!(cost.get(30, 30).is_infinite());
    assert!(cost.get(59, 59).is_finite());
}

#[test]
fn a_fence_gap_on_the_ring_opens_it() {
    let model = Model::default_model();
    let pts = ring();
    let barriers = vec![border_fence(1, &pts)];
    // A gap at a point halfway along a slanted side.
    let gap = Point::new((pts[2].0 + pts[3].0) / 2.0, (pts[2].1 + pts[3].1) / 2.0);
    let crossings = vec![Crossing {
        id: FeatureId::Int(9),
        geometry: gap.into(),
        attrs: CrossingAttrs { crossing_type: "fence_gap".into(), width_m: None, height_m: None },
    }];
    let out = build_resistance(&input(&model, &barriers, &crossings)).unwrap();
    let used = &out.report.crossings[0];
    assert_eq!(used.class.as_deref(), Some("R2"));
    assert!(used.cells >= 1);
    let cost = cost_from_corner(&out, Connectivity::Eight);
    let (r, c) = (N - 1 - (2987.0 / CELL) as usize, (3013.0 / CELL) as usize);
    assert!(cost.get(r, c).is_finite(), "the gap does not let animals in");
    // A crossing type the model does not know is reported and ignored.
    let unknown = vec![Crossing { attrs: CrossingAttrs { crossing_type: "helipad".into(), ..Default::default() }, ..crossings[0].clone() }];
    let out = build_resistance(&input(&model, &barriers, &unknown)).unwrap();
    assert_eq!(out.report.crossings[0].class, None);
    assert!(cost_from_corner(&out, Connectivity::Eight).get(r, c).is_infinite());
}

#[test]
fn least_permeable_barrier_wins_and_p_becomes_resistance() {
    let model = Model::default_model();
    let road = barrier(1, BarrierKind::Road, &[(0.0, 3050.0), (6000.0, 3050.0)], BarrierAttrs { traffic_aadt: Some(2000.0), ..Default::default() });
    let fence = barrier(2, BarrierKind::Fence, &[(3050.0, 0.0), (3050.0, 6000.0)], BarrierAttrs { bottom_wire_cm: Some(10.0), ..Default::default() });
    let planned = BarrierAttrs { status: BarrierStatus::Planned, ..Default::default() };
    let rail = barrier(3, BarrierKind::Railway, &[(0.0, 1050.0), (6000.0, 1050.0)], BarrierAttrs { fenced: Some(true), ..planned });
    let barriers = vec![road, fence, rail];
    let out = build_resistance(&input(&model, &barriers, &[])).unwrap();
    // p_khulan: road R9 0.6, fence R6 0.2; the crossing cell gets 0.2.
    let (row_road, col_fence) = (N - 1 - 30, 30);
    assert_eq!(out.permeability.get(row_road, 5), 0.6);
    assert_eq!(out.permeability.get(5, col_fence), 0.2);
    assert_eq!(out.permeability.get(row_road, col_fence), 0.2);
    // r = 1 · (1 + 1000/100 · (1/p − 1))
    assert!((out.resistance.get(row_road, 5) - (1.0 + 10.0 * (1.0 / 0.6 - 1.0))).abs() < 1e-6);
    assert!((out.resistance.get(5, col_fence) - 41.0).abs() < 1e-5);
    assert_eq!(out.resistance.get(0, 0), 1.0);
    assert_eq!(out.permeability.get(0, 0), NODATA as f32);
    // The planned railway is left out unless asked for.
    assert_eq!(out.report.skipped_by_status, 1);
    assert_eq!(out.resistance.get(N - 1 - 10, 5), 1.0);
    let both = [BarrierStatus::Existing, BarrierStatus::Planned];
    let out = build_resistance(&ResistanceInput { statuses: &both, ..input(&model, &barriers, &[]) }).unwrap();
    assert_eq!(out.resistance.get(N - 1 - 10, 5), NODATA);
    let r9 = out.report.classes.iter().find(|c| c.id == "R9").unwrap();
    assert_eq!(r9.features, 1);
    assert!((r9.length_m - 6000.0).abs() < 1e-9);
    // A larger encounter cost makes barriers costlier.
    let out = build_resistance(&ResistanceInput { encounter_cost_m: Some(2000.0), ..input(&model, &barriers, &[]) }).unwrap();
    assert!((out.resistance.get(5, col_fence) - 81.0).abs() < 1e-4);
}

#[test]
fn land_cover_sets_the_base_and_nodata_is_kept() {
    let model = Model::default_model();
    let t = lattice().transform;
    let mut lc = Grid::filled(N, N, t, 1.0f64);
    lc.nodata = Some(255.0);
    for c in 0..N {
        lc.set(10, c, 2.0);
    }
    lc.set(0, 0, 255.0);
    lc.set(0, 1, 3.0);
    let table = ClassTable::from_csv("code,resistance\n1,1\n2,4\n3,impassable\n".as_bytes(), "t.csv", &["khulan".into()]).unwrap();
    let fence = vec![barrier(1, BarrierKind::Fence, &[(0.0, (N - 1 - 10) as f64 * CELL + 50.0), (6000.0, (N - 1 - 10) as f64 * CELL + 50.0)], BarrierAttrs::default())];
    let out = build_resistance(&ResistanceInput { landcover: Some((&lc, &table)), ..input(&model, &fence, &[]) }).unwrap();
    assert_eq!(out.resistance.get(0, 0), NODATA);
    assert_eq!(out.resistance.get(0, 1), NODATA);
    assert_eq!(out.resistance.get(5, 5), 1.0);
    // fence over land cover 2 (r0 = 4), p = 0.2: 4 · (1 + 10 · 4) = 164
    assert!((out.resistance.get(10, 7) - 164.0).abs() < 1e-4, "{}", out.resistance.get(10, 7));
    // Codes missing from the table are an error that lists them.
    lc.set(3, 3, 7.0);
    let e = build_resistance(&ResistanceInput { landcover: Some((&lc, &table)), ..input(&model, &fence, &[]) }).unwrap_err();
    assert!(e.to_string().contains("7 (1 cells)"), "{e}");
    // A land-cover grid on another lattice is refused.
    let shifted = Grid::filled(N, N, GeoTransform::from_lower_left(50.0, 0.0, CELL, N), 1.0f64);
    let e = build_resistance(&ResistanceInput { landcover: Some((&shifted, &table)), ..input(&model, &fence, &[]) }).unwrap_err();
    assert!(e.to_string().contains("does not line up"), "{e}");
    // The template's NoData cells stay NoData.
    let mut mask = Grid::filled(N, N, t, 0.0f64);
    mask.nodata = Some(-1.0);
    mask.set(5, 5, -1.0);
    let out = build_resistance(&ResistanceInput { mask: Some(&mask), ..input(&model, &fence, &[]) }).unwrap();
    assert_eq!(out.resistance.get(5, 5), NODATA);
    assert_eq!(out.resistance.get(5, 6), 1.0);
}

#[test]
fn barriers_no_class_matches_are_an_error() {
    let model = Model::from_toml_str(
        "[species.khulan]\n[[barrier]]\nid = \"F\"\nname = \"fence\"\nwhen = { kind = \"fence\" }\np = { khulan = 0.3 }\n",
        "mine.toml",
    )
    .unwrap();
    let barriers = vec![barrier(5, BarrierKind::Road, &[(0.0, 0.0), (100.0, 100.0)], BarrierAttrs::default())];
    let e = build_resistance(&input(&model, &barriers, &[])).unwrap_err().to_string();
    assert!(e.contains("mine.toml") && e.contains("id 5") && e.contains("road"), "{e}");
    let e = build_resistance(&ResistanceInput { species: "saiga", ..input(&model, &[], &[]) }).unwrap_err().to_string();
    assert!(e.contains("saiga") && e.contains("khulan"), "{e}");
}
