//! Barrier Behaviour Analysis (Xu et al. 2021, J. Appl. Ecol. 58:690–698), following the R
//! package BaBA as described in `shared/peers/fragmentation/NOTES.md`.
//!
//! Where BaBA would stop with an R error or silently mix data, this implementation does the
//! evident intended thing and says so in [`BabaResult::notes`]; each case is listed on the item
//! that handles it.

use std::collections::HashMap;
use std::fmt;

use geo::Coord;
use rayon::prelude::*;

use crate::index::BarrierIndex;
use crate::time::Millis;
use crate::track::Track;
use crate::CrossingsError;

mod classify;
use classify::{classify, Ctx};

/// BaBA's parameters, in metres and hours. Defaults are BaBA's.
#[derive(Debug, Clone, PartialEq)]
pub struct BabaParams {
    /// Buffer distance around the barriers, metres (BaBA's `d`, no default).
    pub d: f64,
    /// Fix interval in hours; `None`: the most frequent interval, which must agree across animals.
    pub interval: Option<f64>,
    /// Longest duration (hours) of a short encounter (Bounce / Quick_Cross).
    pub b_time: f64,
    /// Shortest duration (hours) of a Trapped encounter: longer than this.
    pub p_time: f64,
    /// Width (hours) of the window around an event for the animal's usual straightness.
    pub w: f64,
    /// Gaps in an encounter up to this many hours are bridged.
    pub tolerance: f64,
    /// Crossings allowed in a Back_n_forth or Trace event.
    pub max_cross: usize,
    pub sd_multiplier: f64,
    /// Leave all in-buffer fixes out of the straightness windows.
    pub exclude_buffer: bool,
    /// Round fix intervals to whole hours when finding the most frequent one.
    pub round_fixes: bool,
    /// When animals differ in their most frequent interval (and `interval` is not given), run each
    /// group of animals with the same interval separately, `b_time` and `p_time` rounded up to
    /// whole multiples of that interval (an extension; BaBA stops instead).
    pub group_by_interval: bool,
}

impl BabaParams {
    /// BaBA's defaults with buffer distance `d`.
    pub fn new(d: f64) -> Self {
        BabaParams {
            d,
            interval: None,
            b_time: 4.0,
            p_time: 36.0,
            w: 168.0,
            tolerance: 0.0,
            max_cross: 0,
            sd_multiplier: 1.0,
            exclude_buffer: false,
            round_fixes: false,
            group_by_interval: false,
        }
    }

    /// These parameters for a group sampled every `interval` hours: `b_time` and `p_time` rounded
    /// up to whole multiples of it (`b_time` at least one interval, `p_time` at least `b_time`).
    pub fn fitted_to(&self, interval: f64) -> BabaParams {
        let up = |h: f64| {
            let k = h / interval;
            if is_whole(k) {
                k.round() * interval
            } else {
                k.ceil() * interval
            }
        };
        let b = up(self.b_time).max(interval);
        let p = up(self.p_time).max(b);
        BabaParams { b_time: b, p_time: p, interval: Some(interval), ..self.clone() }
    }
}

/// BaBA's behaviour classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventClass {
    QuickCross,
    Bounce,
    AverageMovement,
    BackNForth,
    Trace,
    Trapped,
    Unknown,
}

impl EventClass {
    /// In BaRanking's column order.
    pub const ALL: [EventClass; 7] = [
        EventClass::QuickCross,
        EventClass::Bounce,
        EventClass::AverageMovement,
        EventClass::BackNForth,
        EventClass::Trace,
        EventClass::Trapped,
        EventClass::Unknown,
    ];

    /// BaBA's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EventClass::QuickCross => "Quick_Cross",
            EventClass::Bounce => "Bounce",
            EventClass::AverageMovement => "Average_Movement",
            EventClass::BackNForth => "Back_n_forth",
            EventClass::Trace => "Trace",
            EventClass::Trapped => "Trapped",
            EventClass::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<EventClass> {
        EventClass::ALL.into_iter().find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The behaviours BaRanking counts as the barrier holding the animal back.
    pub fn is_impermeable(self) -> bool {
        matches!(self, EventClass::Bounce | EventClass::BackNForth | EventClass::Trace | EventClass::Trapped)
    }
}

impl fmt::Display for EventClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One encounter event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Index of the track in the slice given to [`run_baba`].
    pub track: usize,
    /// BaBA's burst id: `<animal>_<cumulative gap excess>`.
    pub burst_id: String,
    /// Indices into the track's fixes: the in-buffer fixes and any gap fixes pulled in by
    /// `tolerance`. Ascending.
    pub members: Vec<usize>,
    pub start: Millis,
    pub end: Millis,
    pub duration_h: f64,
    /// Position of the first fix.
    pub x: f64,
    pub y: f64,
    /// Barrier intersection points on BaBA's path (short events: the event plus one fix either
    /// side; longer ones: the event's own fixes).
    pub cross: usize,
    /// Straightness of the event's path; `None` for a single fix (BaBA's NA). NaN when the
    /// animal did not move.
    pub str_i: Option<f64>,
    /// Mean and sample sd of the window straightness (events compared with the animal's own
    /// movement only).
    pub str_mean: Option<f64>,
    pub str_sd: Option<f64>,
    /// Number of straightness windows (compared events only).
    pub n_windows: usize,
    pub class: EventClass,
    /// Features within `d` of one of the event's in-buffer fixes, or crossed by its extended
    /// path (indices into the barrier slice). Sorted.
    pub barriers: Vec<u32>,
    /// Features within `d` of the first fix: BaRanking's association. Sorted.
    pub start_barriers: Vec<u32>,
    /// Per feature, meeting points of the extended path (the event plus one fix either side).
    pub crossed: Vec<(u32, usize)>,
    /// Whether it is known if the animal crossed: it did, or both neighbouring fixes exist.
    pub crossing_known: bool,
}

/// Everything BaBA yields.
#[derive(Debug, Clone, PartialEq)]
pub struct BabaResult {
    /// The interval used, hours (NaN when animals were run in groups of different intervals).
    pub interval: f64,
    /// The interval of each group run (one unless `group_by_interval` split the animals).
    pub group_intervals: Vec<f64>,
    /// Per track: the most frequent interval (hours), `None` with fewer than two fixes.
    pub intervals: Vec<Option<f64>>,
    /// Fixes within `d` of a barrier, per track.
    pub encounter_fixes: Vec<usize>,
    pub events: Vec<Event>,
    pub notes: Vec<String>,
}

/// R's `round(x, 1)` (R ≥ 4.0: the nearer of the two one-decimal candidates, ties to even).
pub fn r_round1(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let lo = (x * 10.0).floor();
    let hi = lo + 1.0;
    let (a, b) = (lo / 10.0, hi / 10.0);
    let (da, db) = ((x - a).abs(), (b - x).abs());
    if da < db {
        a
    } else if db < da {
        b
    } else if lo.rem_euclid(2.0) == 0.0 {
        a
    } else {
        b
    }
}

/// A number as R's `paste` writes it (up to 15 significant digits, no trailing zeros).
pub fn r_number(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let s = format!("{:.14e}", x);
    let v: f64 = s.parse().unwrap_or(x);
    let mut t = format!("{v}");
    if t.contains('.') && !t.contains('e') {
        while t.ends_with('0') {
            t.pop();
        }
        if t.ends_with('.') {
            t.pop();
        }
    }
    t
}

fn hours(ms: i64) -> f64 {
    (ms as f64 / 1000.0) / 3600.0
}

/// The most frequent fix interval of a track, in hours (ties: the smallest), as BaBA finds it.
pub fn modal_interval(track: &Track, round_fixes: bool) -> Option<f64> {
    if track.fixes.len() < 2 {
        return None;
    }
    let mut counts: HashMap<u64, (f64, usize)> = HashMap::new();
    for w in track.fixes.windows(2) {
        let mut h = hours(w[1].t - w[0].t);
        if round_fixes {
            h = h.round_ties_even();
        }
        counts.entry(h.to_bits()).or_insert((h, 0)).1 += 1;
    }
    counts
        .into_values()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.total_cmp(&a.0)))
        .map(|(h, _)| h)
}

fn is_whole(x: f64) -> bool {
    (x - x.round()).abs() <= 1e-9 * x.abs().max(1.0)
}

fn straightness(pts: &[Coord<f64>]) -> Option<f64> {
    if pts.len() < 2 {
        return None;
    }
    let (a, b) = (pts[0], pts[pts.len() - 1]);
    let euc = (b.x - a.x).hypot(b.y - a.y);
    let path: f64 = pts.windows(2).map(|w| (w[1].x - w[0].x).hypot(w[1].y - w[0].y)).sum();
    Some(euc / path)
}

/// Mean and sample sd the way R computes them (two passes with a correction term).
fn mean_sd(v: &[f64]) -> (Option<f64>, Option<f64>) {
    let n = v.len();
    if n == 0 {
        return (None, None);
    }
    let nf = n as f64;
    let s = v.iter().sum::<f64>() / nf;
    let m = s + v.iter().map(|x| x - s).sum::<f64>() / nf;
    if n < 2 {
        return (Some(m), None);
    }
    let ss: f64 = v.iter().map(|x| (x - m) * (x - m)).sum();
    (Some(m), Some((ss / (nf - 1.0)).sqrt()))
}

/// Runs BaBA on `tracks` (sorted, no duplicate times: see [`crate::build_tracks`]) against the
/// barriers behind `index`, which must have been built with a reach of at least `params.d`.
pub fn run_baba(tracks: &[Track], index: &BarrierIndex, params: &BabaParams) -> Result<BabaResult, CrossingsError> {
    let p = params;
    if !(p.d > 0.0 && p.d.is_finite()) {
        return Err(CrossingsError::Input(format!("the buffer distance must be a positive number of metres, not {}", p.d)));
    }
    if index.reach() < p.d {
        return Err(CrossingsError::Input("the barrier index was built for a smaller distance than the buffer".into()));
    }
    for (name, v) in [("b-time", p.b_time), ("p-time", p.p_time), ("w", p.w), ("tolerance", p.tolerance), ("sd-multiplier", p.sd_multiplier)] {
        if !(v >= 0.0 && v.is_finite()) {
            return Err(CrossingsError::Input(format!("--{name} must be a non-negative number, not {v}")));
        }
    }
    let mut notes = Vec::new();
    let intervals: Vec<Option<f64>> = tracks.par_iter().map(|t| modal_interval(t, p.round_fixes)).collect();
    for (t, iv) in tracks.iter().zip(&intervals) {
        if iv.is_none() {
            notes.push(format!("animal {} has a single fix and cannot form a path; it only counts as encounters", t.animal));
        }
    }
    let mut groups: Vec<(f64, Vec<usize>, BabaParams)> = Vec::new();
    let mut distinct: Vec<f64> = intervals.iter().flatten().copied().collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    match p.interval {
        None if distinct.is_empty() => {
            return Err(CrossingsError::Input("no animal has two fixes: no fix interval can be found".into()))
        }
        None if distinct.len() == 1 => groups.push((distinct[0], (0..tracks.len()).collect(), p.clone())),
        None if p.group_by_interval => {
            for &iv in &distinct {
                let mut which: Vec<usize> = (0..tracks.len()).filter(|&i| intervals[i] == Some(iv)).collect();
                if groups.is_empty() {
                    // Single-fix animals go with the first group (they only count as encounters).
                    which.extend((0..tracks.len()).filter(|&i| intervals[i].is_none()));
                    which.sort_unstable();
                }
                let fp = p.fitted_to(iv);
                notes.push(format!(
                    "{} animal(s) sampled every {} h run as one group with b-time {} h, p-time {} h, w {} h",
                    which.len(),
                    r_number(iv),
                    r_number(fp.b_time),
                    r_number(fp.p_time),
                    r_number(fp.w)
                ));
                groups.push((iv, which, fp));
            }
        }
        None => {
            let per: Vec<String> = tracks
                .iter()
                .zip(&intervals)
                .filter_map(|(t, i)| i.map(|i| format!("{} {} h", t.animal, r_number(i))))
                .take(12)
                .collect();
            return Err(CrossingsError::Input(format!(
                "the animals were not all sampled at the same interval ({}{}). Run animals with different \
                 intervals separately, give --interval H (at least the largest), try --round-fixes, or use \
                 --group-by-interval",
                per.join(", "),
                if tracks.len() > 12 { ", …" } else { "" }
            )));
        }
        Some(iv) => {
            if !(iv > 0.0 && iv.is_finite()) {
                return Err(CrossingsError::Input(format!("--interval must be a positive number of hours, not {iv}")));
            }
            let coarser: Vec<String> = tracks
                .iter()
                .zip(&intervals)
                .filter(|(_, i)| i.is_some_and(|i| i > iv))
                .map(|(t, i)| format!("{} {} h", t.animal, r_number(i.unwrap_or_default())))
                .take(8)
                .collect();
            if !coarser.is_empty() {
                return Err(CrossingsError::Input(format!(
                    "--interval {} h is smaller than the most frequent interval of some animals ({}); it must be at least that",
                    r_number(iv),
                    coarser.join(", ")
                )));
            }
            groups.push((iv, (0..tracks.len()).collect(), p.clone()));
        }
    }
    for (interval, _, gp) in &groups {
        check_multiples(*interval, gp)?;
    }

    // Encounter fixes.
    let coords: Vec<Vec<Coord<f64>>> =
        tracks.iter().map(|t| t.fixes.iter().map(|f| Coord { x: f.x, y: f.y }).collect()).collect();
    let inside: Vec<Vec<bool>> = coords.iter().map(|c| index.flag_within(c, p.d)).collect();
    let encounter_fixes: Vec<usize> = inside.iter().map(|v| v.iter().filter(|&&b| b).count()).collect();

    let mut group_of = vec![0usize; tracks.len()];
    for (g, (_, which, _)) in groups.iter().enumerate() {
        for &i in which {
            group_of[i] = g;
        }
    }
    // Events per animal.
    let per_animal: Vec<(Vec<Burst>, Vec<String>)> = tracks
        .par_iter()
        .enumerate()
        .map(|(ti, t)| build_events(t, &inside[ti], groups[group_of[ti]].0, groups[group_of[ti]].2.tolerance))
        .collect();
    let mut drafts: Vec<(usize, String, Vec<usize>)> = Vec::new();
    let mut members_of: Vec<Vec<bool>> = Vec::with_capacity(tracks.len());
    for (ti, (evs, n)) in per_animal.into_iter().enumerate() {
        notes.extend(n);
        let mut m = vec![false; tracks[ti].fixes.len()];
        for (_, mem) in &evs {
            for &i in mem {
                m[i] = true;
            }
        }
        members_of.push(m);
        if evs.is_empty() {
            notes.push(format!("animal {} has no fix within {} m of a barrier", tracks[ti].animal, r_number(p.d)));
        }
        for (label, mem) in evs {
            drafts.push((ti, label, mem));
        }
    }
    let ctxs: Vec<Ctx> = groups
        .iter()
        .map(|(iv, _, gp)| Ctx { tracks, coords: &coords, inside: &inside, members_of: &members_of, index, p: gp, interval: *iv })
        .collect();
    let classified: Vec<(Event, Option<String>)> =
        drafts.into_par_iter().map(|(ti, label, mem)| classify(&ctxs[group_of[ti]], ti, label, mem)).collect();
    let mut events = Vec::with_capacity(classified.len());
    let mut nan_notes = 0usize;
    for (e, n) in classified {
        if n.is_some() {
            nan_notes += 1;
            if nan_notes <= 5 {
                notes.extend(n);
            }
        }
        events.push(e);
    }
    if nan_notes > 5 {
        notes.push(format!("… and {} more events with undefined straightness", nan_notes - 5));
    }
    let interval = if groups.len() == 1 { groups[0].0 } else { f64::NAN };
    let group_intervals = groups.iter().map(|g| g.0).collect();
    Ok(BabaResult { interval, group_intervals, intervals, encounter_fixes, events, notes })
}

fn check_multiples(interval: f64, p: &BabaParams) -> Result<(), CrossingsError> {
    let b = p.b_time / interval;
    if b < 1.0 {
        return Err(CrossingsError::Input(format!(
            "the fix interval ({} h) is longer than --b-time ({} h); --b-time must be at least one interval",
            r_number(interval),
            r_number(p.b_time)
        )));
    }
    if !is_whole(b) {
        return Err(CrossingsError::Input(format!(
            "--b-time ({} h) must be a whole multiple of the fix interval ({} h)",
            r_number(p.b_time),
            r_number(interval)
        )));
    }
    if !is_whole(p.p_time / interval) {
        return Err(CrossingsError::Input(format!(
            "--p-time ({} h) must be a whole multiple of the fix interval ({} h)",
            r_number(p.p_time),
            r_number(interval)
        )));
    }
    Ok(())
}

/// A burst label and its member fix indices.
type Burst = (String, Vec<usize>);

/// Groups a track's in-buffer fixes into events.
fn build_events(t: &Track, inside: &[bool], interval: f64, tolerance: f64) -> (Vec<Burst>, Vec<String>) {
    let enc: Vec<usize> = (0..inside.len()).filter(|&i| inside[i]).collect();
    let mut notes = Vec::new();
    if enc.is_empty() {
        return (Vec::new(), notes);
    }
    let mut td2: Vec<f64> = Vec::with_capacity(enc.len());
    td2.push(0.0);
    for j in 1..enc.len() {
        td2.push(r_round1(hours(t.fixes[enc[j]].t - t.fixes[enc[j - 1]].t) - interval));
    }
    // (fix index, gap excess) in time order, with bridged gap fixes pulled in.
    let mut rows: Vec<(usize, f64)> = Vec::with_capacity(enc.len());
    for j in 0..enc.len() {
        let mut g = td2[j];
        if j > 0 && g >= interval && g <= tolerance {
            rows.extend((enc[j - 1] + 1..enc[j]).map(|i| (i, 0.0)));
            g = 0.0;
        }
        rows.push((enc[j], g));
    }
    let mut out: Vec<Burst> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut cum = 0.0f64;
    for (i, g) in rows {
        cum += g;
        if g != 0.0 || out.is_empty() {
            let mut label = format!("{}_{}", t.animal, r_number(cum));
            let k = seen.entry(label.clone()).or_insert(0);
            *k += 1;
            if *k > 1 {
                // BaBA would merge the two bursts into one event; they are kept apart here.
                notes.push(format!(
                    "animal {}: burst id {label} repeats (fix intervals shorter than the interval); \
                     the later event is named {label}#{k}",
                    t.animal
                ));
                label = format!("{label}#{k}");
            }
            out.push((label, vec![i]));
        } else {
            out.last_mut().expect("non-empty").1.push(i);
        }
    }
    (out, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_rounding_and_numbers() {
        assert_eq!(r_round1(0.04999999999999982), 0.0);
        assert_eq!(r_round1(2.0), 2.0);
        assert_eq!(r_round1(-0.26), -0.3);
        assert_eq!(r_round1(0.25), 0.2);
        assert_eq!(r_number(14.0), "14");
        assert_eq!(r_number(14.299999999999999), "14.3");
        assert_eq!(r_number(-2.5), "-2.5");
        assert_eq!(r_number(0.0), "0");
    }

    #[test]
    fn mean_sd_like_r() {
        let (m, s) = mean_sd(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m, Some(2.5));
        assert!((s.unwrap() - 1.2909944487358056).abs() < 1e-15);
        assert_eq!(mean_sd(&[1.0]), (Some(1.0), None));
    }

    #[test]
    fn params_fit_an_interval() {
        let p = BabaParams::new(100.0).fitted_to(5.0);
        assert_eq!((p.b_time, p.p_time, p.interval), (5.0, 40.0, Some(5.0)));
        let p = BabaParams::new(100.0).fitted_to(25.0);
        assert_eq!((p.b_time, p.p_time), (25.0, 50.0));
        let p = BabaParams::new(100.0).fitted_to(2.0);
        assert_eq!((p.b_time, p.p_time), (4.0, 36.0));
    }
}
