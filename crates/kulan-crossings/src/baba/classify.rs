//! Classifying one encounter event: Bounce / Quick_Cross by the crossings of its extended path,
//! Trapped by duration, and Back_n_forth / Trace / Average_Movement by comparing its straightness
//! with the animal's own straightness around it.

use geo::Coord;

use super::{hours, mean_sd, r_round1, straightness, BabaParams, Event, EventClass};
use crate::index::BarrierIndex;
use crate::track::Track;

/// What [`classify`] needs of the whole run besides the event itself.
pub(super) struct Ctx<'a> {
    pub(super) tracks: &'a [Track],
    pub(super) coords: &'a [Vec<Coord<f64>>],
    pub(super) inside: &'a [Vec<bool>],
    pub(super) members_of: &'a [Vec<bool>],
    pub(super) index: &'a BarrierIndex,
    pub(super) p: &'a BabaParams,
    pub(super) interval: f64,
}

/// Classifies one event (BaBA's steps 3 and 4) and lists the barriers it met; the note, if
/// any, says where the result departs from what BaBA would do.
pub(super) fn classify(ctx: &Ctx, ti: usize, burst_id: String, members: Vec<usize>) -> (Event, Option<String>) {
    let p = ctx.p;
    let t = &ctx.tracks[ti];
    let fixes = &t.fixes;
    let coords = &ctx.coords[ti];
    let n = fixes.len();
    let (first, last) = (members[0], *members.last().expect("non-empty"));
    let (start, end) = (fixes[first].t, fixes[last].t);
    let duration_h = hours(end - start);
    let mem_pts: Vec<Coord<f64>> = members.iter().map(|&i| coords[i]).collect();
    let str_i = straightness(&mem_pts);
    let mut note = None;

    // Extended path: one fix before and one after.
    let lo = first.saturating_sub(1);
    let hi = (last + 1).min(n - 1);
    let ext_pts = &coords[lo..=hi];
    let crossed = if ext_pts.len() >= 2 { ctx.index.path_crossings(ext_pts) } else { Vec::new() };
    let ext_total: usize = crossed.iter().map(|c| c.1).sum();
    let both_neighbours = ext_pts.len() == members.len() + 2;

    let mut str_mean = None;
    let mut str_sd = None;
    let mut n_windows = 0;
    let cross;
    let class;
    if duration_h <= p.b_time {
        cross = ext_total;
        class = if cross == 0 && !both_neighbours {
            EventClass::Unknown
        } else if cross == 0 {
            EventClass::Bounce
        } else {
            EventClass::QuickCross
        };
    } else {
        cross = ctx.index.path_crossings(&mem_pts).iter().map(|c| c.1).sum();
        if duration_h > p.p_time {
            class = EventClass::Trapped;
        } else {
            let (vals, nan_windows) = straightness_around(ctx, ti, first, last, duration_h);
            n_windows = vals.len();
            let (m, sd) = mean_sd(&vals);
            str_mean = m;
            str_sd = sd;
            let enough = (vals.len() as f64) >= (p.w / ctx.interval + 1.0) / 4.0;
            class = match (enough, str_i, m, sd) {
                (true, Some(si), Some(m), Some(sd)) if si.is_finite() => {
                    let upper = m + p.sd_multiplier * sd;
                    let lower = m - p.sd_multiplier * sd;
                    if si < lower {
                        if cross <= p.max_cross {
                            EventClass::BackNForth
                        } else {
                            EventClass::Unknown
                        }
                    } else if si > upper {
                        if cross <= p.max_cross {
                            EventClass::Trace
                        } else {
                            EventClass::Unknown
                        }
                    } else {
                        EventClass::AverageMovement
                    }
                }
                (true, ..) => {
                    note = Some(format!(
                        "event {burst_id}: straightness undefined (the animal did not move); classed unknown"
                    ));
                    EventClass::Unknown
                }
                _ => EventClass::Unknown,
            };
            if nan_windows > 0 && note.is_none() {
                note = Some(format!(
                    "event {burst_id}: {nan_windows} straightness window(s) without movement were left out"
                ));
            }
        }
    }

    let mut start_barriers = Vec::new();
    ctx.index.features_within(coords[first], p.d, &mut start_barriers);
    let mut barriers: Vec<u32> = Vec::new();
    let mut buf = Vec::new();
    for &i in &members {
        if ctx.inside[ti][i] {
            ctx.index.features_within(coords[i], p.d, &mut buf);
            barriers.extend_from_slice(&buf);
        }
    }
    barriers.extend(crossed.iter().map(|c| c.0));
    barriers.sort_unstable();
    barriers.dedup();
    let crossing_known = ext_total > 0 || both_neighbours;
    (
        Event {
            track: ti,
            burst_id,
            members,
            start,
            end,
            duration_h,
            x: coords[first].x,
            y: coords[first].y,
            cross,
            str_i,
            str_mean,
            str_sd,
            n_windows,
            class,
            barriers,
            start_barriers,
            crossed,
            crossing_known,
        },
        note,
    )
}

/// The animal's own straightness in windows of `duration_h` hours within `w/2` hours either side
/// of the event (gap-free runs only), and how many windows had no movement (left out).
fn straightness_around(ctx: &Ctx, ti: usize, first: usize, last: usize, duration_h: f64) -> (Vec<f64>, usize) {
    let p = ctx.p;
    let fixes = &ctx.tracks[ti].fixes;
    let coords = &ctx.coords[ti];
    let half = p.w / 2.0 * 3600.0;
    let (ws, we) = (fixes[first].secs() - half, fixes[last].secs() + half);
    let excl = &ctx.members_of[ti];
    let i0 = fixes.partition_point(|f| f.secs() < ws);
    let i1 = fixes.partition_point(|f| f.secs() <= we);
    let sel: Vec<usize> = (i0..i1).filter(|&i| !(p.exclude_buffer && excl[i])).collect();
    // R's `from:to` takes floor(to - from + FLT_EPSILON) steps.
    let steps = (duration_h / ctx.interval + f32::EPSILON as f64).floor() as usize;
    let mut vals: Vec<f64> = Vec::new();
    let mut nan_windows = 0usize;
    let mut s0 = 0;
    while s0 < sel.len() {
        let mut s1 = s0 + 1;
        while s1 < sel.len() && r_round1(hours(fixes[sel[s1]].t - fixes[sel[s1 - 1]].t)) == ctx.interval {
            s1 += 1;
        }
        let sec = &sel[s0..s1];
        let (a, z) = (fixes[sec[0]].secs(), fixes[sec[sec.len() - 1]].secs());
        if (z - a) / 3600.0 >= duration_h {
            let thresh = z - duration_h * 3600.0;
            let k0 = sec.iter().position(|&i| fixes[i].secs() > thresh).unwrap_or(sec.len());
            for iii in 0..k0 {
                if iii + steps >= sec.len() {
                    break;
                }
                let w: Vec<Coord<f64>> = sec[iii..=iii + steps].iter().map(|&i| coords[i]).collect();
                match straightness(&w) {
                    Some(v) if v.is_finite() => vals.push(v),
                    _ => nan_windows += 1,
                }
            }
        }
        s0 = s1;
    }
    (vals, nan_windows)
}
