//! Each BaBA behaviour built by hand against one straight fence, plus tolerance bridging, crossing
//! rates, interval groups, parameter errors and the output tables.

use geo::{Coord, LineString, MultiLineString};
use kulan_core::{Barrier, BarrierAttrs, BarrierKind, FeatureId};
use kulan_crossings::output::{classes_table, events_table, features_table};
use kulan_crossings::{analyse, build_tracks, kind_classes, BabaParams, EventClass, Fix, Track};

const H: i64 = 3_600_000;

fn fence() -> Vec<Barrier> {
    let ls = LineString(vec![Coord { x: 0.0, y: -20_000.0 }, Coord { x: 0.0, y: 20_000.0 }]);
    let attrs = BarrierAttrs { kind: Some(BarrierKind::Fence), ..Default::default() };
    // A road far away that nobody meets.
    let road = LineString(vec![Coord { x: 90_000.0, y: 0.0 }, Coord { x: 90_000.0, y: 1.0 }]);
    let road_attrs = BarrierAttrs { kind: Some(BarrierKind::Road), ..Default::default() };
    vec![
        Barrier { id: FeatureId::Int(7), geometry: MultiLineString(vec![ls]), attrs },
        Barrier { id: FeatureId::Int(8), geometry: MultiLineString(vec![road]), attrs: road_attrs },
    ]
}

/// Fixes every 2 h from t = 0 through `xy`.
fn track(rows: &mut Vec<(String, Fix)>, id: &str, xy: &[(f64, f64)]) {
    for (i, &(x, y)) in xy.iter().enumerate() {
        rows.push((id.to_string(), Fix::new(i as i64 * 2 * H, x, y)));
    }
}

/// A tortuous walk far from the fence: `n` fixes around (x0, y0), deterministic.
fn wander(n: usize, x0: f64, y0: f64, seed: u64) -> Vec<(f64, f64)> {
    let mut s = seed;
    let mut next = || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 11) as f64) / ((1u64 << 53) as f64)
    };
    let (mut x, mut y) = (x0, y0);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let a = next() * std::f64::consts::TAU;
        let r = 200.0 + 400.0 * next();
        x += r * a.cos();
        y += r * a.sin();
        // stay in a box far from the fence
        x = x.clamp(x0 - 800.0, x0 + 800.0);
        y = y.clamp(y0 - 800.0, y0 + 800.0);
        out.push((x, y));
    }
    out
}

fn scenario_tracks() -> Vec<Track> {
    let mut rows = Vec::new();
    // Quick_Cross: straight across.
    track(&mut rows, "a_cross", &(0..9).map(|i| (-1950.0 + 500.0 * i as f64, 0.0)).collect::<Vec<_>>());
    // Bounce: up to the fence and back.
    track(&mut rows, "b_bounce", &[(-1000.0, 0.0), (-500.0, 0.0), (-60.0, 0.0), (-500.0, 10.0), (-1000.0, 10.0)]);
    // Trapped: 21 fixes (40 h) inside the buffer.
    let mut trapped = vec![(-1000.0, 0.0)];
    trapped.extend((0..21).map(|i| (-50.0 + (i % 2) as f64 * 10.0, i as f64 * 30.0)));
    trapped.push((-1000.0, 600.0));
    track(&mut rows, "c_trapped", &trapped);
    // unknown: the first fix is already inside and the animal leaves without crossing.
    track(&mut rows, "d_unknown", &[(-40.0, 0.0), (-500.0, 0.0), (-1000.0, 0.0)]);
    // Trace: tortuous background, then 10 h straight along the fence, then background again.
    let mut trace = wander(45, -3000.0, 0.0, 1);
    trace.push((-1500.0, 0.0));
    trace.extend((0..6).map(|i| (-50.0, i as f64 * 400.0)));
    trace.push((-1500.0, 2400.0));
    trace.extend(wander(45, -3000.0, 2400.0, 2));
    track(&mut rows, "e_trace", &trace);
    // Back_n_forth: tortuous background, then pacing to and fro along the fence, back to the start.
    let mut bnf = wander(45, -3000.0, 0.0, 3);
    bnf.push((-1500.0, 0.0));
    bnf.extend((0..7).map(|i| (-50.0, if i % 2 == 0 { 0.0 } else { 300.0 })));
    bnf.push((-1500.0, 0.0));
    bnf.extend(wander(45, -3000.0, 0.0, 4));
    track(&mut rows, "f_bnf", &bnf);
    // Gap: inside, outside, inside (bridged only with tolerance).
    track(&mut rows, "g_gap", &[(-1000.0, 0.0), (-50.0, 0.0), (-300.0, 0.0), (-50.0, 100.0), (-1000.0, 100.0)]);
    let (tracks, report) = build_tracks(rows, Some(30.0));
    assert!(report.notes.is_empty(), "{:?}", report.notes);
    tracks
}

fn class_of(a: &kulan_crossings::Analysis, tracks: &[Track], animal: &str) -> Vec<(EventClass, usize)> {
    a.baba.events.iter().filter(|e| tracks[e.track].animal == animal).map(|e| (e.class, e.cross)).collect()
}

#[test]
fn every_behaviour_is_recognised() {
    let tracks = scenario_tracks();
    let barriers = fence();
    let (classes, fc) = kind_classes(&barriers);
    let a = analyse(&tracks, &barriers, &BabaParams::new(100.0), 0, &classes, &fc).unwrap();
    assert_eq!(a.baba.interval, 2.0);
    assert_eq!(class_of(&a, &tracks, "a_cross"), [(EventClass::QuickCross, 1)]);
    assert_eq!(class_of(&a, &tracks, "b_bounce"), [(EventClass::Bounce, 0)]);
    assert_eq!(class_of(&a, &tracks, "c_trapped"), [(EventClass::Trapped, 0)]);
    assert_eq!(class_of(&a, &tracks, "d_unknown"), [(EventClass::Unknown, 0)]);
    assert_eq!(class_of(&a, &tracks, "e_trace"), [(EventClass::Trace, 0)]);
    assert_eq!(class_of(&a, &tracks, "f_bnf"), [(EventClass::BackNForth, 0)]);
    assert_eq!(class_of(&a, &tracks, "g_gap"), [(EventClass::Bounce, 0), (EventClass::Bounce, 0)]);
    let trace = a.baba.events.iter().find(|e| e.class == EventClass::Trace).unwrap();
    assert!(trace.n_windows >= 22 && trace.str_i == Some(1.0), "{trace:?}");
    assert!(trace.str_mean.unwrap() + trace.str_sd.unwrap() < 1.0);

    // Crossing rate: the unknown event is left out; one crossing among 7 known encounters.
    let fence_row = a.features.iter().find(|f| f.feature == 0).unwrap();
    assert_eq!((fence_row.enc_events, fence_row.crossing_events, fence_row.crossings), (7, 1, 1));
    assert_eq!(fence_row.total_enc, 8);
    assert_eq!(fence_row.unique_ind, 7);
    let fence_class = a.classes.iter().find(|c| c.class.id == "fence").unwrap();
    assert_eq!((fence_class.enc_events, fence_class.crossing_events, fence_class.animals), (7, 1, 6));
    assert!((fence_class.crossing_rate.unwrap() - 1.0 / 7.0).abs() < 1e-12);
    let road_class = a.classes.iter().find(|c| c.class.id == "road").unwrap();
    assert_eq!((road_class.enc_events, road_class.crossing_rate), (0, None));

    // Tables.
    let ev = events_table(&a.baba.events, &tracks, &barriers);
    assert_eq!(ev.rows.len(), 8);
    let mut buf = Vec::new();
    ev.write_csv(&mut buf).unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert!(text.starts_with("animal,burst_id,start,end,duration_h"), "{text}");
    assert!(
        text.contains("a_cross,a_cross_0,1970-01-01T08:00:00Z,1970-01-01T08:00:00Z,0,1,Quick_Cross,1,,,,,50,0,7,7,7,1"),
        "{text}"
    );
    let ft = features_table(&a.features, &barriers, &classes, &fc);
    assert_eq!(ft.rows.len(), 1);
    let ct = classes_table(&a.classes);
    assert_eq!(ct.rows.len(), 2);
}

#[test]
fn tolerance_bridges_gaps() {
    let tracks = scenario_tracks();
    let barriers = fence();
    let (classes, fc) = kind_classes(&barriers);
    let mut p = BabaParams::new(100.0);
    p.tolerance = 2.0;
    let a = analyse(&tracks, &barriers, &p, 0, &classes, &fc).unwrap();
    let gap: Vec<_> = a.baba.events.iter().filter(|e| tracks[e.track].animal == "g_gap").collect();
    assert_eq!(gap.len(), 1);
    assert_eq!(gap[0].members, [1, 2, 3]);
    assert_eq!((gap[0].burst_id.as_str(), gap[0].duration_h, gap[0].class), ("g_gap_0", 4.0, EventClass::Bounce));

    // b_time 2 h: the 4-h bridged event is compared with the animal's own movement (too few
    // windows on this short track → unknown).
    p.b_time = 2.0;
    let a = analyse(&tracks, &barriers, &p, 0, &classes, &fc).unwrap();
    let gap: Vec<_> = a.baba.events.iter().filter(|e| tracks[e.track].animal == "g_gap").collect();
    assert_eq!(gap[0].class, EventClass::Unknown);
}

#[test]
fn bad_parameters_are_reported() {
    let tracks = scenario_tracks();
    let barriers = fence();
    let (classes, fc) = kind_classes(&barriers);
    let mut p = BabaParams::new(100.0);
    p.b_time = 3.0;
    let e = analyse(&tracks, &barriers, &p, 0, &classes, &fc).unwrap_err().to_string();
    assert!(e.contains("whole multiple"), "{e}");
    let mut p = BabaParams::new(100.0);
    p.interval = Some(1.0);
    let e = analyse(&tracks, &barriers, &p, 0, &classes, &fc).unwrap_err().to_string();
    assert!(e.contains("smaller than the most frequent interval"), "{e}");
    let e = analyse(&tracks, &barriers, &BabaParams::new(-5.0), 0, &classes, &fc).unwrap_err().to_string();
    assert!(e.contains("positive"), "{e}");
}

#[test]
fn different_intervals_need_grouping() {
    let mut rows = Vec::new();
    track(&mut rows, "two", &(0..9).map(|i| (-1950.0 + 500.0 * i as f64, 0.0)).collect::<Vec<_>>());
    for i in 0..9 {
        rows.push(("five".to_string(), Fix::new(i * 5 * H, -1950.0 + 500.0 * i as f64, 50.0)));
    }
    let (tracks, _) = build_tracks(rows, None);
    let barriers = fence();
    let (classes, fc) = kind_classes(&barriers);
    let e = analyse(&tracks, &barriers, &BabaParams::new(100.0), 0, &classes, &fc).unwrap_err().to_string();
    assert!(e.contains("five 5 h") && e.contains("--group-by-interval"), "{e}");
    let mut p = BabaParams::new(100.0);
    p.group_by_interval = true;
    let a = analyse(&tracks, &barriers, &p, 0, &classes, &fc).unwrap();
    assert_eq!(a.baba.group_intervals, [2.0, 5.0]);
    assert!(
        a.baba.notes.iter().any(|n| n.contains("every 5 h") && n.contains("b-time 5 h, p-time 40 h")),
        "{:?}",
        a.baba.notes
    );
    assert!(a.baba.events.iter().all(|e| e.class == EventClass::QuickCross));
}

#[test]
fn unsorted_and_duplicate_fixes_are_repaired_and_reported() {
    let mut rows = Vec::new();
    track(&mut rows, "a", &(0..9).map(|i| (-1950.0 + 500.0 * i as f64, 0.0)).collect::<Vec<_>>());
    rows.reverse();
    let dup = rows[3].clone();
    rows.push(dup);
    let (tracks, report) = build_tracks(rows, Some(30.0));
    assert_eq!(report.unsorted_animals, ["a"]);
    assert_eq!(report.duplicate_fixes, 1);
    let barriers = fence();
    let (classes, fc) = kind_classes(&barriers);
    let a = analyse(&tracks, &barriers, &BabaParams::new(100.0), 0, &classes, &fc).unwrap();
    assert_eq!(a.baba.events.len(), 1);
    assert_eq!(a.baba.events[0].class, EventClass::QuickCross);
}
