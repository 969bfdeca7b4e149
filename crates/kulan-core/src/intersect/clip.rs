//! Clipping barrier lines to one range: the length inside, the clipped pieces, and how often
//! each line crosses the range boundary.
//!
//! A run of segments whose box meets no boundary edge lies wholly inside or outside, so one
//! point-in-polygon test settles it. Only segments near the boundary are split at their
//! intersections with it, and each piece between two intersections is classified by its
//! midpoint. Pieces lying along the boundary count as inside: the range is a closed set.

use geo::{Coord, LineString, MultiLineString};

use super::boundary::{orient, Boundary, Edge};
use super::index::{distance, BarrierIndex, SegmentRun};
use crate::packed_rtree::{intersects, segment_box, Bbox, Settle};

/// One barrier's share of one range.
#[derive(Debug, Clone, PartialEq)]
pub struct ClippedBarrier {
    /// Index of the barrier in the slice the index was built from.
    pub barrier: usize,
    /// Length inside the range (boundary included), in CRS units.
    pub length: f64,
    /// How many times the barrier passes between inside and outside.
    pub boundary_crossings: u32,
    /// The pieces inside, when asked for.
    pub geometry: Option<MultiLineString<f64>>,
}

/// Walks one line part piece by piece, keeping the inside pieces and counting state changes.
struct PartWalk {
    keep_geometry: bool,
    state: Option<bool>,
    length: f64,
    crossings: u32,
    current: Vec<Coord<f64>>,
    lines: Vec<LineString<f64>>,
}

impl PartWalk {
    fn new(keep_geometry: bool) -> Self {
        PartWalk { keep_geometry, state: None, length: 0.0, crossings: 0, current: Vec::new(), lines: Vec::new() }
    }

    fn set_state(&mut self, inside: bool) {
        if let Some(prev) = self.state {
            if prev != inside {
                self.crossings += 1;
            }
        }
        self.state = Some(inside);
        if !inside {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.current.len() >= 2 {
            self.lines.push(LineString::new(std::mem::take(&mut self.current)));
        }
        self.current.clear();
    }

    fn inside_piece(&mut self, from: Coord<f64>, to: Coord<f64>, length: f64) {
        self.set_state(true);
        self.length += length;
        if self.keep_geometry {
            if self.current.last() != Some(&from) {
                self.flush();
                self.current.push(from);
            }
            self.current.push(to);
        }
    }

    /// A segment that no boundary edge crosses, wholly on the side `inside`.
    fn whole_segment(&mut self, from: Coord<f64>, to: Coord<f64>, inside: bool) {
        if inside {
            self.inside_piece(from, to, distance(from, to));
        } else {
            self.set_state(false);
        }
    }

    /// A whole run inside; its vertices are only looked at when the geometry is kept.
    fn inside_run<'c>(&mut self, coords: impl FnOnce() -> &'c [Coord<f64>], length: f64) {
        self.set_state(true);
        self.length += length;
        if self.keep_geometry {
            let coords = coords();
            if self.current.last() != Some(&coords[0]) {
                self.flush();
                self.current.push(coords[0]);
            }
            self.current.extend_from_slice(&coords[1..]);
        }
    }
}

/// Where a segment p→q meets the boundary: parameters along it, and stretches lying on it.
struct SegmentHits {
    params: Vec<f64>,
    on_boundary: Vec<(f64, f64)>,
}

impl SegmentHits {
    fn new() -> Self {
        SegmentHits { params: Vec::new(), on_boundary: Vec::new() }
    }

    fn clear(&mut self) {
        self.params.clear();
        self.on_boundary.clear();
    }

    /// Records the contact of p→q with edge a→b, decided with exact orientation tests.
    fn add(&mut self, p: Coord<f64>, q: Coord<f64>, e: &Edge) {
        let (a, b) = (e.a, e.b);
        let o1 = orient(p, q, a);
        let o2 = orient(p, q, b);
        let d = Coord { x: q.x - p.x, y: q.y - p.y };
        let dd = d.x * d.x + d.y * d.y;
        let project = |c: Coord<f64>| ((c.x - p.x) * d.x + (c.y - p.y) * d.y) / dd;
        if o1 == 0.0 && o2 == 0.0 {
            let (ta, tb) = (project(a), project(b));
            let lo = ta.min(tb).max(0.0);
            let hi = ta.max(tb).min(1.0);
            if lo < hi {
                self.params.extend([lo, hi]);
                self.on_boundary.push((lo, hi));
            } else if lo == hi {
                self.params.push(lo);
            }
            return;
        }
        if (o1 > 0.0 && o2 > 0.0) || (o1 < 0.0 && o2 < 0.0) {
            return;
        }
        let o3 = orient(a, b, p);
        let o4 = orient(a, b, q);
        if (o3 > 0.0 && o4 > 0.0) || (o3 < 0.0 && o4 < 0.0) {
            return;
        }
        let t = if o3 == 0.0 {
            0.0
        } else if o4 == 0.0 {
            1.0
        } else if o1 == 0.0 {
            project(a)
        } else if o2 == 0.0 {
            project(b)
        } else {
            let ab = Coord { x: b.x - a.x, y: b.y - a.y };
            ((a.x - p.x) * ab.y - (a.y - p.y) * ab.x) / (d.x * ab.y - d.y * ab.x)
        };
        self.params.push(t.clamp(0.0, 1.0));
    }

    fn along_boundary(&self, t0: f64, t1: f64) -> bool {
        self.on_boundary.iter().any(|&(lo, hi)| lo <= t0 && t1 <= hi)
    }
}

fn point_at(p: Coord<f64>, q: Coord<f64>, t: f64) -> Coord<f64> {
    if t <= 0.0 {
        p
    } else if t >= 1.0 {
        q
    } else {
        Coord { x: p.x + t * (q.x - p.x), y: p.y + t * (q.y - p.y) }
    }
}

/// Clips every barrier near `boundary` to it. Results come sorted by barrier index.
///
/// Barriers are visited in the index's spatial order, so that neighbours in space are
/// neighbours in memory too; the results are sorted by barrier afterwards.
pub(crate) fn clip_all(index: &BarrierIndex, boundary: &Boundary, keep_geometry: bool) -> Vec<ClippedBarrier> {
    let mut out: Vec<ClippedBarrier> = Vec::new();
    let mut scratch = Scratch { edges: Vec::new(), near: Vec::new(), hits: SegmentHits::new() };
    // A group of barriers whose common box the mask settles is settled whole (the mask's answer
    // for a box holds for every box inside it).
    let bbox = boundary.bbox();
    let settle = |b: &Bbox| {
        if !intersects(b, &bbox) {
            return Settle::Skip;
        }
        match boundary.classify_box(b) {
            Some(false) => Settle::Skip,
            Some(true) => Settle::All,
            None => Settle::Open,
        }
    };
    index.tree.search(settle, |slot, settled| {
        if settled == Settle::All && !keep_geometry {
            // Wholly inside: the whole length, no crossings. The geometry, when wanted, is
            // gathered by the walk (every run of it is inside too).
            let length = index.slot_length[slot];
            if length > 0.0 {
                out.push(ClippedBarrier { barrier: index.slot_barrier[slot] as usize, length, boundary_crossings: 0, geometry: None });
            }
        } else {
            clip_slot(index, boundary, slot, keep_geometry, &mut scratch, &mut out);
        }
    });
    out.sort_unstable_by_key(|c| c.barrier);
    out
}

/// Clips the barrier in `slot` by walking it, appending its share (if any) to `out`.
fn clip_slot(
    index: &BarrierIndex,
    boundary: &Boundary,
    slot: usize,
    keep_geometry: bool,
    scratch: &mut Scratch,
    out: &mut Vec<ClippedBarrier>,
) {
    let barrier = index.slot_barrier[slot] as usize;
    let runs = index.runs_of(slot);
    let start = out.len();
    let mut i = 0;
    while i < runs.len() {
        let part = runs[i].part;
        let mut j = i;
        while j < runs.len() && runs[j].part == part {
            j += 1;
        }
        let walk = walk_part(index, boundary, &runs[i..j], keep_geometry, scratch);
        if walk.length > 0.0 {
            let mut lines = walk.lines;
            if let Some(last) = out[start..].last_mut() {
                last.length += walk.length;
                last.boundary_crossings += walk.crossings;
                if let Some(g) = last.geometry.as_mut() {
                    g.0.append(&mut lines);
                }
            } else {
                out.push(ClippedBarrier {
                    barrier,
                    length: walk.length,
                    boundary_crossings: walk.crossings,
                    geometry: keep_geometry.then(|| MultiLineString::new(lines)),
                });
            }
        }
        i = j;
    }
}

struct Scratch {
    edges: Vec<Edge>,
    near: Vec<Edge>,
    hits: SegmentHits,
}

/// Walks the runs of one part of a barrier, all of them, in order.
fn walk_part(
    index: &BarrierIndex,
    boundary: &Boundary,
    runs: &[SegmentRun],
    keep_geometry: bool,
    s: &mut Scratch,
) -> PartWalk {
    let mut walk = PartWalk::new(keep_geometry);
    for run in runs {
        // Most runs are settled by their box alone, without touching their vertices.
        let envelope = run.envelope;
        if let Some(inside) = boundary.classify_box(&envelope) {
            if inside {
                walk.inside_run(|| index.coords(run), run.length);
            } else {
                walk.set_state(false);
            }
            continue;
        }
        let coords = index.coords(run);
        boundary.edges_near(&envelope, &mut s.edges);
        if s.edges.is_empty() {
            if boundary.contains(coords[0]) {
                walk.inside_run(|| coords, run.length);
            } else {
                walk.set_state(false);
            }
            continue;
        }
        // The state carried in is that of the vertex shared with the previous run (or of a vertex
        // outside the range's box after a gap), so it holds for a first segment with no hits.
        let mut contiguous_state = walk.state;
        for w in coords.windows(2) {
            let (p, q) = (w[0], w[1]);
            let env = segment_box(p, q);
            // A segment in cells no edge touches has no hits, and the mask knows its side.
            if let Some(inside) = boundary.classify_box(&env) {
                walk.whole_segment(p, q, inside);
                contiguous_state = Some(inside);
                continue;
            }
            s.near.clear();
            s.near.extend(s.edges.iter().filter(|e| intersects(&env, &e.envelope())));
            s.hits.clear();
            for e in &s.near {
                s.hits.add(p, q, e);
            }
            if s.hits.params.is_empty() {
                let inside = contiguous_state.unwrap_or_else(|| boundary.contains(p));
                walk.whole_segment(p, q, inside);
                contiguous_state = Some(inside);
                continue;
            }
            s.hits.params.extend([0.0, 1.0]);
            s.hits.params.sort_unstable_by(f64::total_cmp);
            s.hits.params.dedup();
            for k in 0..s.hits.params.len() - 1 {
                let (t0, t1) = (s.hits.params[k], s.hits.params[k + 1]);
                let (a, b) = (point_at(p, q, t0), point_at(p, q, t1));
                if a == b {
                    continue;
                }
                let mid = Coord { x: (a.x + b.x) / 2.0, y: (a.y + b.y) / 2.0 };
                let inside = s.hits.along_boundary(t0, t1) || boundary.contains(mid);
                if inside {
                    walk.inside_piece(a, b, distance(a, b));
                } else {
                    walk.set_state(false);
                }
                contiguous_state = Some(inside);
            }
            // q may lie on the boundary; the next segment then has a hit at its start and
            // classifies its own pieces, so carrying the last piece's state is safe.
        }
    }
    walk.flush();
    walk
}
