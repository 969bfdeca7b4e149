//! Real Mongolian gazelle tracks (`shared/data/ctmm_gazelle`, anonymised: each animal centred on
//! its own mean, time from 0) against a synthetic fence cross laid through the centre: fix
//! intervals of 1 h, 5 h and 25 h with jitter and long gaps. Skips when `../shared` is absent.

mod common;

use geo::{Coord, LineString, MultiLineString};
use kulan_core::{Barrier, BarrierAttrs, BarrierKind, FeatureId};
use kulan_crossings::{
    analyse, build_tracks_coded, kind_classes, read_tracks_csv, BabaParams, EventClass, TimeKind, TrackColumns,
};

fn fences() -> Vec<Barrier> {
    let attrs = BarrierAttrs { kind: Some(BarrierKind::Fence), ..Default::default() };
    let line = |a: (f64, f64), b: (f64, f64)| {
        MultiLineString(vec![LineString(vec![Coord { x: a.0, y: a.1 }, Coord { x: b.0, y: b.1 }])])
    };
    vec![
        Barrier { id: FeatureId::Int(1), geometry: line((0.0, -500_000.0), (0.0, 500_000.0)), attrs: attrs.clone() },
        Barrier { id: FeatureId::Int(2), geometry: line((-500_000.0, 1_000.0), (500_000.0, 1_000.0)), attrs },
    ]
}

#[test]
fn gazelle_tracks_with_irregular_intervals() {
    let Some(shared) = common::shared_dir("gazelle tracks") else { return };
    let cols = TrackColumns { id: "id".into(), time: "t_s".into(), x: "x_m".into(), y: "y_m".into() };
    let csv = read_tracks_csv(&shared.join("data/ctmm_gazelle/gazelle_xyt.csv"), &cols).unwrap();
    assert_eq!(csv.time_kind, TimeKind::EpochSeconds);
    assert_eq!((csv.rows.len(), csv.skipped), (8111, 0));
    let (tracks, report) = build_tracks_coded(csv.names, csv.rows, Some(30.0));
    assert_eq!(tracks.len(), 36);
    assert_eq!(report.fixes, 8111 - report.duplicate_fixes - report.conflicting_duplicates);

    let barriers = fences();
    let (classes, fc) = kind_classes(&barriers);
    let d = 500.0;

    // BaBA proper refuses animals sampled at different intervals, and says what to do.
    let mut p = BabaParams::new(d);
    p.round_fixes = true;
    let e = analyse(&tracks, &barriers, &p, 0, &classes, &fc).unwrap_err().to_string();
    assert!(e.contains("not all sampled at the same interval") && e.contains("--group-by-interval"), "{e}");

    p.group_by_interval = true;
    let a = analyse(&tracks, &barriers, &p, 5, &classes, &fc).unwrap();
    assert_eq!(a.baba.group_intervals, [1.0, 5.0, 25.0]);
    let events = &a.baba.events;
    assert!(events.len() > 20, "only {} events", events.len());
    let near = |c: Coord<f64>| c.x.abs() <= d || (c.y - 1000.0).abs() <= d;
    for e in events {
        let t = &tracks[e.track];
        let first = t.fixes[e.members[0]];
        assert!(near(Coord { x: first.x, y: first.y }), "{}: first fix outside the buffer", e.burst_id);
        assert!(e.members.windows(2).all(|w| w[0] < w[1]));
        assert!(e.end >= e.start && e.duration_h >= 0.0);
        assert!(!e.barriers.is_empty());
        let iv = a.baba.intervals[e.track].unwrap();
        let b_time = p.fitted_to(iv).b_time;
        if e.duration_h <= b_time {
            match e.class {
                EventClass::QuickCross => assert!(e.cross > 0),
                EventClass::Bounce => assert!(e.cross == 0),
                EventClass::Unknown => assert!(e.cross == 0 && !e.crossing_known),
                other => panic!("{}: short event classed {other}", e.burst_id),
            }
        }
    }
    // Events of one animal do not overlap in time.
    for w in events.windows(2) {
        if w[0].track == w[1].track {
            assert!(w[0].end < w[1].start, "{} overlaps {}", w[0].burst_id, w[1].burst_id);
        }
    }
    let fence = a.classes.iter().find(|c| c.class.id == "fence").unwrap();
    assert!(fence.enc_events > 0 && fence.crossing_events > 0 && fence.crossing_events <= fence.enc_events);
    let n = |c: EventClass| events.iter().filter(|e| e.class == c).count();
    eprintln!(
        "gazelle: {} events (QC {}, Bounce {}, AM {}, BnF {}, Trace {}, Trapped {}, unknown {}); fence crossing rate {:.2}",
        events.len(),
        n(EventClass::QuickCross),
        n(EventClass::Bounce),
        n(EventClass::AverageMovement),
        n(EventClass::BackNForth),
        n(EventClass::Trace),
        n(EventClass::Trapped),
        n(EventClass::Unknown),
        fence.crossing_rate.unwrap()
    );
}
