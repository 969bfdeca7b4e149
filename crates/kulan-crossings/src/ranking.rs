//! Per-barrier summaries: BaRanking (Xu et al. 2021) and observed crossing rates per feature and
//! per barrier class, the quantity a permeability model's per-encounter p predicts.

use std::collections::{BTreeMap, HashSet};

use kulan_core::{Barrier, BarrierKind};

use crate::baba::{Event, EventClass};

/// One barrier feature's row.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSummary {
    /// Index into the barrier slice.
    pub feature: usize,
    /// BaRanking counts: events whose first fix lies within `d` of the feature, per class
    /// (in [`EventClass::ALL`] order).
    pub by_class: [usize; 7],
    /// Distinct animals among those events.
    pub unique_ind: usize,
    /// Their number.
    pub total_enc: usize,
    /// BaRanking's index, min–max scaled over features with `total_enc >= min_total_enc`.
    pub index: Option<f64>,
    /// Events that encountered the feature: a fix of the event within `d`, or the extended path
    /// crossing it (the denominator of the crossing rate; events of unknown crossing status are
    /// left out).
    pub enc_events: usize,
    /// Of those, the events whose extended path (event plus one fix either side) crosses it.
    pub crossing_events: usize,
    /// Meeting points of those paths with the feature.
    pub crossings: usize,
    /// Animals among `enc_events`.
    pub enc_animals: usize,
    /// crossing_events / enc_events.
    pub crossing_rate: Option<f64>,
}

/// A barrier class: a permeability-model class (for one species) or a barrier kind.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassInfo {
    pub id: String,
    pub name: String,
    /// The model's per-encounter crossing probability for this class, when there is a model.
    pub model_p: Option<f64>,
}

/// Groups barriers by kind: the classes (kinds present) and each feature's class.
pub fn kind_classes(barriers: &[Barrier]) -> (Vec<ClassInfo>, Vec<Option<usize>>) {
    let kinds: Vec<BarrierKind> =
        BarrierKind::ALL.into_iter().filter(|k| barriers.iter().any(|b| b.kind() == *k)).collect();
    let classes = kinds.iter().map(|k| ClassInfo { id: k.as_str().into(), name: k.as_str().into(), model_p: None }).collect();
    let of = barriers.iter().map(|b| kinds.iter().position(|k| *k == b.kind())).collect();
    (classes, of)
}

/// One barrier class's row (pooled over its features; an event counts once per class).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassSummary {
    pub class: ClassInfo,
    pub features: usize,
    pub features_encountered: usize,
    /// Events that met a feature of the class, whose crossing status is known.
    pub enc_events: usize,
    /// Of those, events whose extended path crossed a feature of the class.
    pub crossing_events: usize,
    pub animals: usize,
    pub crossing_rate: Option<f64>,
    /// Wilson 95 % interval of the rate.
    pub rate_low: Option<f64>,
    pub rate_high: Option<f64>,
    /// Events per behaviour class (BaBA classes, [`EventClass::ALL`] order), all events that met
    /// the class, including those of unknown crossing status.
    pub by_class: [usize; 7],
}

fn class_slot(c: EventClass) -> usize {
    EventClass::ALL.iter().position(|&x| x == c).expect("known class")
}

/// Wilson score interval for k successes in n trials at z = 1.96.
pub fn wilson(k: usize, n: usize) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (k, n, z) = (k as f64, n as f64, 1.959963984540054);
    let ph = k / n;
    let den = 1.0 + z * z / n;
    let centre = (ph + z * z / (2.0 * n)) / den;
    let half = z * (ph * (1.0 - ph) / n + z * z / (4.0 * n * n)).sqrt() / den;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Per-feature table: BaRanking and crossing rates for every feature any event touched.
/// `min_total_enc` as in BaRanking.
pub fn feature_summaries(events: &[Event], min_total_enc: usize) -> Vec<FeatureSummary> {
    let mut rows: BTreeMap<usize, (FeatureSummary, HashSet<usize>, HashSet<usize>)> = BTreeMap::new();
    let blank = |f: usize| {
        (
            FeatureSummary {
                feature: f,
                by_class: [0; 7],
                unique_ind: 0,
                total_enc: 0,
                index: None,
                enc_events: 0,
                crossing_events: 0,
                crossings: 0,
                enc_animals: 0,
                crossing_rate: None,
            },
            HashSet::new(),
            HashSet::new(),
        )
    };
    for e in events {
        for &f in &e.start_barriers {
            let r = rows.entry(f as usize).or_insert_with(|| blank(f as usize));
            r.0.by_class[class_slot(e.class)] += 1;
            r.0.total_enc += 1;
            r.1.insert(e.track);
        }
        if e.crossing_known {
            for &f in &e.barriers {
                let r = rows.entry(f as usize).or_insert_with(|| blank(f as usize));
                r.0.enc_events += 1;
                r.2.insert(e.track);
            }
            for &(f, k) in &e.crossed {
                let r = rows.entry(f as usize).or_insert_with(|| blank(f as usize));
                r.0.crossing_events += 1;
                r.0.crossings += k;
            }
        }
    }
    let mut out: Vec<FeatureSummary> = rows
        .into_values()
        .map(|(mut s, ids, enc_ids)| {
            s.unique_ind = ids.len();
            s.enc_animals = enc_ids.len();
            s.crossing_rate = (s.enc_events > 0).then(|| s.crossing_events as f64 / s.enc_events as f64);
            s
        })
        .collect();
    // BaRanking's index over features with enough encounters.
    let raw: Vec<Option<f64>> = out
        .iter()
        .map(|s| {
            (s.total_enc > 0 && s.total_enc >= min_total_enc).then(|| {
                let imp: usize = EventClass::ALL
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.is_impermeable())
                    .map(|(i, _)| s.by_class[i])
                    .sum();
                imp as f64 / s.total_enc as f64 * s.unique_ind as f64
            })
        })
        .collect();
    let lo = raw.iter().flatten().copied().fold(f64::INFINITY, f64::min);
    let hi = raw.iter().flatten().copied().fold(f64::NEG_INFINITY, f64::max);
    for (s, r) in out.iter_mut().zip(raw) {
        s.index = r.and_then(|v| (hi > lo).then(|| (v - lo) / (hi - lo)));
    }
    out
}

/// Per-class table, pooled: an event counts once for a class however many of its features it
/// met. `feature_class[f]` is feature f's index into `classes` (`None`: in no class).
pub fn class_summaries(events: &[Event], classes: &[ClassInfo], feature_class: &[Option<usize>]) -> Vec<ClassSummary> {
    let mut out = Vec::with_capacity(classes.len());
    for (ci, info) in classes.iter().enumerate() {
        let features = feature_class.iter().filter(|c| **c == Some(ci)).count();
        let is_class = |f: u32| feature_class.get(f as usize).copied().flatten() == Some(ci);
        let mut enc = 0;
        let mut crossed = 0;
        let mut animals = HashSet::new();
        let mut touched = HashSet::new();
        let mut by_class = [0usize; 7];
        for e in events {
            if !e.barriers.iter().any(|&f| is_class(f)) {
                continue;
            }
            touched.extend(e.barriers.iter().copied().filter(|&f| is_class(f)));
            by_class[class_slot(e.class)] += 1;
            if !e.crossing_known {
                continue;
            }
            enc += 1;
            animals.insert(e.track);
            if e.crossed.iter().any(|&(f, _)| is_class(f)) {
                crossed += 1;
            }
        }
        let w = wilson(crossed, enc);
        out.push(ClassSummary {
            class: info.clone(),
            features,
            features_encountered: touched.len(),
            enc_events: enc,
            crossing_events: crossed,
            animals: animals.len(),
            crossing_rate: (enc > 0).then(|| crossed as f64 / enc as f64),
            rate_low: w.map(|w| w.0),
            rate_high: w.map(|w| w.1),
            by_class,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval() {
        let (lo, hi) = wilson(233, 498).unwrap();
        assert!((lo - 0.4241).abs() < 1e-3 && (hi - 0.5117).abs() < 1e-3, "{lo} {hi}");
        assert_eq!(wilson(0, 0), None);
        assert_eq!(wilson(0, 10).unwrap().0, 0.0);
    }
}
