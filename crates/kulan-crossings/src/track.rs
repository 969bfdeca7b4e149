//! GPS tracks: fixes per animal, sorted and checked.

use std::collections::HashMap;

use crate::time::{format_utc, Millis};

/// One GPS fix in the analysis CRS (metres).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fix {
    pub t: Millis,
    pub x: f64,
    pub y: f64,
}

impl Fix {
    pub fn new(t: Millis, x: f64, y: f64) -> Self {
        Fix { t, x, y }
    }
    /// Seconds since the epoch as a float, the unit BaBA's time arithmetic works in.
    pub fn secs(&self) -> f64 {
        self.t as f64 / 1000.0
    }
}

/// The fixes of one animal, in time order, without duplicate timestamps.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    pub animal: String,
    pub fixes: Vec<Fix>,
}

/// What was found and done while preparing tracks. Every item is also a line in `notes`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackReport {
    pub animals: usize,
    pub fixes: usize,
    /// Animals whose fixes were not in time order in the input (they were sorted).
    pub unsorted_animals: Vec<String>,
    /// Exact repeats (same animal, time and position), dropped.
    pub duplicate_fixes: usize,
    /// Same animal and time at a different position: the first in input order is kept.
    pub conflicting_duplicates: usize,
    /// Steps faster than the speed limit (kept; listed so they can be checked).
    pub fast_steps: Vec<FastStep>,
    /// Human-readable lines: what was wrong and what was done.
    pub notes: Vec<String>,
}

/// A step between consecutive fixes faster than the limit.
#[derive(Debug, Clone, PartialEq)]
pub struct FastStep {
    pub animal: String,
    pub from: Millis,
    pub to: Millis,
    pub metres: f64,
    pub speed_ms: f64,
}

/// Groups fixes by animal, sorts them by time, drops duplicate timestamps and lists impossible
/// speeds. `rows` are (animal, fix) in input order. Animals come out in the order BaBA uses
/// (sorted by id); `max_speed_ms` of `None` skips the speed check.
pub fn build_tracks(rows: Vec<(String, Fix)>, max_speed_ms: Option<f64>) -> (Vec<Track>, TrackReport) {
    let mut names: Vec<String> = Vec::new();
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut coded = Vec::with_capacity(rows.len());
    for (a, f) in rows {
        let k = *index.entry(a).or_insert_with_key(|a| {
            names.push(a.clone());
            (names.len() - 1) as u32
        });
        coded.push((k, f));
    }
    build_tracks_coded(names, coded, max_speed_ms)
}

/// As [`build_tracks`], with animals given as indices into `names` (what the CSV reader yields).
pub fn build_tracks_coded(
    names: Vec<String>,
    rows: Vec<(u32, Fix)>,
    max_speed_ms: Option<f64>,
) -> (Vec<Track>, TrackReport) {
    let mut report = TrackReport::default();
    let mut per: Vec<Vec<Fix>> = vec![Vec::new(); names.len()];
    for (k, f) in rows {
        per[k as usize].push(f);
    }
    let mut order: Vec<(String, Vec<Fix>)> = names.into_iter().zip(per).filter(|(_, v)| !v.is_empty()).collect();
    order.sort_by(|a, b| a.0.cmp(&b.0));
    let mut tracks = Vec::with_capacity(order.len());
    for (a, mut fixes) in order {
        if fixes.windows(2).any(|w| w[1].t < w[0].t) {
            report.unsorted_animals.push(a.clone());
            fixes.sort_by_key(|f| f.t); // stable: duplicates keep input order
        }
        let before = fixes.len();
        let mut kept: Vec<Fix> = Vec::with_capacity(before);
        let mut conflicts = 0usize;
        for f in fixes {
            if let Some(last) = kept.last() {
                if last.t == f.t {
                    if last.x != f.x || last.y != f.y {
                        conflicts += 1;
                    }
                    continue;
                }
            }
            kept.push(f);
        }
        let dropped = before - kept.len();
        report.conflicting_duplicates += conflicts;
        report.duplicate_fixes += dropped - conflicts;
        if dropped > 0 {
            report.notes.push(format!(
                "animal {a}: {dropped} fix(es) repeat an earlier timestamp and were dropped \
                 ({conflicts} of them at a different position; the first fix in file order was kept)"
            ));
        }
        if let Some(limit) = max_speed_ms {
            for w in kept.windows(2) {
                let dt = (w[1].t - w[0].t) as f64 / 1000.0;
                let dist = (w[1].x - w[0].x).hypot(w[1].y - w[0].y);
                let v = dist / dt;
                if v > limit {
                    report.fast_steps.push(FastStep {
                        animal: a.clone(),
                        from: w[0].t,
                        to: w[1].t,
                        metres: dist,
                        speed_ms: v,
                    });
                }
            }
        }
        report.fixes += kept.len();
        tracks.push(Track { animal: a, fixes: kept });
    }
    report.animals = tracks.len();
    if !report.unsorted_animals.is_empty() {
        report.notes.push(format!(
            "{} animal(s) had fixes out of time order; they were sorted: {}",
            report.unsorted_animals.len(),
            abbreviate(&report.unsorted_animals, 5)
        ));
    }
    if let (Some(limit), false) = (max_speed_ms, report.fast_steps.is_empty()) {
        let worst = report.fast_steps.iter().max_by(|a, b| a.speed_ms.total_cmp(&b.speed_ms)).expect("non-empty");
        report.notes.push(format!(
            "{} step(s) faster than {:.1} m/s ({:.0} km/h) were kept but look impossible; the fastest: animal {} \
             from {} to {}, {:.0} m at {:.1} m/s. Check these fixes (or raise --max-speed)",
            report.fast_steps.len(),
            limit,
            limit * 3.6,
            worst.animal,
            format_utc(worst.from),
            format_utc(worst.to),
            worst.metres,
            worst.speed_ms
        ));
    }
    (tracks, report)
}

pub(crate) fn abbreviate(items: &[String], n: usize) -> String {
    if items.len() <= n {
        items.join(", ")
    } else {
        format!("{}, … ({} more)", items[..n].join(", "), items.len() - n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(t: i64, x: f64) -> Fix {
        Fix::new(t * 1000, x, 0.0)
    }

    #[test]
    fn sorts_dedups_and_flags_speed() {
        let rows = vec![
            ("b".to_string(), f(10, 0.0)),
            ("a".to_string(), f(20, 10.0)),
            ("a".to_string(), f(10, 0.0)),
            ("a".to_string(), f(20, 10.0)),
            ("a".to_string(), f(20, 99.0)),
            ("a".to_string(), f(30, 100_000.0)),
        ];
        let (tracks, rep) = build_tracks(rows, Some(50.0));
        assert_eq!(tracks.iter().map(|t| t.animal.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(tracks[0].fixes, vec![f(10, 0.0), f(20, 10.0), f(30, 100_000.0)]);
        assert_eq!(rep.unsorted_animals, ["a"]);
        assert_eq!((rep.duplicate_fixes, rep.conflicting_duplicates), (1, 1));
        assert_eq!(rep.fast_steps.len(), 1);
        assert_eq!(rep.fixes, 4);
        assert!(rep.notes.iter().any(|n| n.contains("faster than")));
    }
}
