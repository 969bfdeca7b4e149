//! Reproduces the BaBA R package's outputs on its example data (`shared/peers/baba/`): every event
//! with its burst id, first fix, times, duration, class, crossing count and straightness
//! statistics, and BaRanking. Skips with a message when `../shared` is absent.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use kulan_core::Barrier;
use kulan_crossings::{
    build_tracks_coded, feature_summaries, read_tracks_csv, run_baba, time, BabaParams, BabaResult, BarrierIndex,
    EventClass, Track, TrackColumns,
};

fn cols() -> TrackColumns {
    TrackColumns { id: "Animal.ID".into(), time: "epoch_s".into(), x: "x_utm12n".into(), y: "y_utm12n".into() }
}

fn load_tracks(path: &Path) -> Vec<Track> {
    let csv = read_tracks_csv(path, &cols()).expect("read tracks");
    let (tracks, report) = build_tracks_coded(csv.names, csv.rows, None);
    assert!(report.unsorted_animals.is_empty() && report.duplicate_fixes == 0);
    tracks
}

fn na(s: &str) -> Option<f64> {
    if s == "NA" {
        None
    } else {
        Some(s.parse().unwrap_or_else(|_| panic!("number {s}")))
    }
}

struct Expected {
    animal: String,
    burst: String,
    easting: f64,
    northing: f64,
    start: i64,
    end: i64,
    duration: f64,
    cross: usize,
    str_i: Option<f64>,
    str_mean: Option<f64>,
    str_sd: Option<f64>,
    class: EventClass,
}

fn read_expected(path: &Path) -> Vec<Expected> {
    let mut rdr = csv::Reader::from_path(path).expect("expected csv");
    rdr.records()
        .map(|r| {
            let r = r.expect("row");
            Expected {
                animal: r[0].to_string(),
                burst: r[1].to_string(),
                easting: r[2].parse().unwrap(),
                northing: r[3].parse().unwrap(),
                start: time::parse(&r[4]).unwrap().millis,
                end: time::parse(&r[5]).unwrap().millis,
                duration: r[6].parse().unwrap(),
                cross: r[7].parse().unwrap(),
                str_i: na(&r[8]),
                str_mean: na(&r[9]),
                str_sd: na(&r[10]),
                class: EventClass::parse(&r[11]).unwrap_or_else(|| panic!("class {}", &r[11])),
            }
        })
        .collect()
}

/// Equal within 1e-9 relative; NaN (0/0 straightness) equals NA, as R's `write.csv` prints it.
fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a.filter(|v| !v.is_nan()), b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * (1.0 + y.abs()),
        _ => false,
    }
}

/// Runs BaBA and compares every event with the oracle; returns the run for further checks.
fn check(shared: &Path, species: &str, d: f64, max_cross: usize, expected: &str, barriers: &[Barrier]) -> BabaResult {
    let tracks = load_tracks(&shared.join(format!("peers/baba/{species}.csv")));
    let index = BarrierIndex::new(barriers, d);
    let mut p = BabaParams::new(d);
    p.max_cross = max_cross;
    let res = run_baba(&tracks, &index, &p).expect("BaBA run");
    assert_eq!(res.interval, 2.0);
    let exp = read_expected(&shared.join("peers/baba/expected").join(expected));
    let got: HashMap<&str, &kulan_crossings::Event> = res.events.iter().map(|e| (e.burst_id.as_str(), e)).collect();
    let mut problems = Vec::new();
    for x in &exp {
        let Some(e) = got.get(x.burst.as_str()) else {
            problems.push(format!("{}: missing", x.burst));
            continue;
        };
        let animal = &tracks[e.track].animal;
        let mut bad = Vec::new();
        if animal != &x.animal {
            bad.push(format!("animal {animal} vs {}", x.animal));
        }
        if (e.x, e.y) != (x.easting, x.northing) {
            bad.push(format!("first fix ({}, {}) vs ({}, {})", e.x, e.y, x.easting, x.northing));
        }
        if (e.start, e.end) != (x.start, x.end) {
            bad.push(format!(
                "times {}..{} vs {}..{}",
                time::format_utc(e.start),
                time::format_utc(e.end),
                time::format_utc(x.start),
                time::format_utc(x.end)
            ));
        }
        if e.duration_h != x.duration {
            bad.push(format!("duration {} vs {}", e.duration_h, x.duration));
        }
        if e.cross != x.cross {
            bad.push(format!("cross {} vs {}", e.cross, x.cross));
        }
        if !close(e.str_i, x.str_i) || !close(e.str_mean, x.str_mean) || !close(e.str_sd, x.str_sd) {
            bad.push(format!(
                "straightness {:?}/{:?}/{:?} vs {:?}/{:?}/{:?}",
                e.str_i, e.str_mean, e.str_sd, x.str_i, x.str_mean, x.str_sd
            ));
        }
        if e.class != x.class {
            bad.push(format!("class {} vs {}", e.class, x.class));
        }
        if !bad.is_empty() {
            problems.push(format!("{}: {}", x.burst, bad.join("; ")));
        }
    }
    let known: HashSet<&str> = exp.iter().map(|x| x.burst.as_str()).collect();
    for e in &res.events {
        if !known.contains(e.burst_id.as_str()) {
            problems.push(format!("{}: extra event", e.burst_id));
        }
    }
    // The oracle lists events in BaBA's order: by animal, then by time.
    let order: Vec<&str> = res.events.iter().map(|e| e.burst_id.as_str()).collect();
    let exp_order: Vec<&str> = exp.iter().map(|x| x.burst.as_str()).collect();
    if problems.is_empty() && order != exp_order {
        problems.push("events are in a different order".into());
    }
    assert!(
        problems.is_empty(),
        "{species} d={d} max_cross={max_cross}: {} of {} events differ:\n{}",
        problems.len(),
        exp.len(),
        problems.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
    res
}

fn fences(shared: &Path) -> Vec<Barrier> {
    common::read_geojson_barriers(&shared.join("peers/baba/fences_utm12n.geojson"), "FID_Fence0")
}

#[test]
fn pronghorn_d110_max_cross_4_and_baranking() {
    let Some(shared) = common::shared_dir("BaBA pronghorn max_cross 4") else { return };
    let barriers = fences(&shared);
    assert_eq!(barriers.len(), 1673);
    let res = check(&shared, "pronghorn", 110.0, 4, "pronghorn_d110_maxcross4_classification.csv", &barriers);
    assert_eq!(res.encounter_fixes.iter().sum::<usize>(), 966);

    // BaRanking with min_total_enc = 5: every feature with an encounter, its counts and index.
    let feats = feature_summaries(&res.events, 5);
    let mut rdr =
        csv::Reader::from_path(shared.join("peers/baba/expected/pronghorn_d110_maxcross4_BaRanking_minenc5.csv")).unwrap();
    let exp: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let by_id: HashMap<String, &kulan_crossings::FeatureSummary> =
        feats.iter().filter(|f| f.total_enc > 0).map(|f| (barriers[f.feature].id.to_string(), f)).collect();
    assert_eq!(by_id.len(), exp.len(), "features with encounters");
    for r in &exp {
        let f = by_id.get(&r[0]).unwrap_or_else(|| panic!("feature {} missing", &r[0]));
        let counts: Vec<usize> = (2..9).map(|i| r[i].parse().unwrap()).collect();
        assert_eq!(f.by_class.to_vec(), counts, "feature {} class counts", &r[0]);
        assert_eq!(f.unique_ind, r[9].parse::<usize>().unwrap(), "feature {} animals", &r[0]);
        assert_eq!(f.total_enc, r[10].parse::<usize>().unwrap(), "feature {} total", &r[0]);
        assert!(close(f.index, na(&r[11])), "feature {} index {:?} vs {}", &r[0], f.index, &r[11]);
    }
}

#[test]
fn pronghorn_d110_default_max_cross() {
    let Some(shared) = common::shared_dir("BaBA pronghorn max_cross 0") else { return };
    let barriers = fences(&shared);
    let res = check(&shared, "pronghorn", 110.0, 0, "pronghorn_d110_maxcross0_classification.csv", &barriers);
    let n = |c: EventClass| res.events.iter().filter(|e| e.class == c).count();
    assert_eq!((n(EventClass::BackNForth), n(EventClass::Trace), n(EventClass::Unknown)), (6, 7, 12));
}

#[test]
fn mule_deer_d90_defaults() {
    let Some(shared) = common::shared_dir("BaBA mule deer") else { return };
    let barriers = fences(&shared);
    let res = check(&shared, "muleDeer", 90.0, 0, "muleDeer_d90_defaults_classification.csv", &barriers);
    assert_eq!(res.encounter_fixes.iter().sum::<usize>(), 466);
}
