//! Barriers indexed for clipping: an R-tree over whole barriers' boxes, and each barrier's
//! vertices grouped in short runs of segments with their own boxes and lengths.
//!
//! A range first asks the tree for the barriers near it. A barrier whose box lies wholly inside
//! or outside the range is settled at once; only the others are walked run by run, and only runs
//! near the boundary are looked at segment by segment.

use geo::Coord;
use rstar::{Envelope, RTree, RTreeObject, AABB};

use crate::model::{Barrier, BarrierKind};

/// How many consecutive segments share one run. Short enough that a run's box hugs the line,
/// long enough that the runs of 10 million vertices stay small.
const SEGMENTS_PER_RUN: usize = 32;

/// A run of consecutive segments of one part of one barrier.
#[derive(Debug, Clone)]
pub(crate) struct SegmentRun {
    pub part: u32,
    /// Index of the run's first vertex in the part; the run ends at vertex `last`.
    pub first: u32,
    pub last: u32,
    pub length: f64,
    pub envelope: AABB<[f64; 2]>,
}

/// One barrier's box in the tree.
#[derive(Debug, Clone)]
pub(crate) struct BarrierBox {
    pub barrier: u32,
    envelope: AABB<[f64; 2]>,
}

impl RTreeObject for BarrierBox {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// Barrier lines indexed for clipping against many ranges.
///
/// Build it once per run ([`BarrierIndex::new`] bulk-loads the tree) and clip every range
/// against it, from as many threads as you like.
pub struct BarrierIndex<'a> {
    pub(crate) barriers: &'a [Barrier],
    pub(crate) tree: RTree<BarrierBox>,
    /// Every barrier's runs, barrier after barrier, parts and vertices in order.
    pub(crate) runs: Vec<SegmentRun>,
    /// Barrier `i`'s runs are `runs[run_start[i]..run_start[i + 1]]`.
    pub(crate) run_start: Vec<u32>,
    /// Each barrier's whole length, summed as the clipping sums a barrier lying wholly inside
    /// (runs within a part, then parts), so that the shortcut gives the same bits.
    pub(crate) full_length: Vec<f64>,
    /// Each barrier's kind as its position in [`BarrierKind::ALL`], kept apart so the per-range
    /// totals need not touch the barriers themselves.
    pub(crate) kinds: Vec<u8>,
}

impl<'a> BarrierIndex<'a> {
    pub fn new(barriers: &'a [Barrier]) -> Self {
        let mut runs = Vec::new();
        let mut run_start = Vec::with_capacity(barriers.len() + 1);
        let mut full_length = Vec::with_capacity(barriers.len());
        let mut boxes = Vec::with_capacity(barriers.len());
        for (bi, barrier) in barriers.iter().enumerate() {
            run_start.push(runs.len() as u32);
            let mut total: Option<f64> = None;
            for (pi, part) in barrier.geometry.0.iter().enumerate() {
                let n = part.0.len();
                let mut first = 0;
                let mut part_length = 0.0;
                while first + 1 < n {
                    let last = (first + SEGMENTS_PER_RUN).min(n - 1);
                    let coords = &part.0[first..=last];
                    let length = run_length(coords);
                    part_length += length;
                    runs.push(SegmentRun {
                        part: pi as u32,
                        first: first as u32,
                        last: last as u32,
                        length,
                        envelope: envelope_of(coords),
                    });
                    first = last;
                }
                if part_length > 0.0 {
                    total = Some(total.map_or(part_length, |t| t + part_length));
                }
            }
            full_length.push(total.unwrap_or(0.0));
            let own = &runs[run_start[bi] as usize..];
            if let Some(envelope) = own.iter().map(|r| r.envelope).reduce(|a, b| a.merged(&b)) {
                boxes.push(BarrierBox { barrier: bi as u32, envelope });
            }
        }
        run_start.push(runs.len() as u32);
        let kinds = barriers
            .iter()
            .map(|b| BarrierKind::ALL.iter().position(|&k| k == b.kind()).expect("kind is listed in ALL") as u8)
            .collect();
        BarrierIndex { barriers, tree: RTree::bulk_load(boxes), runs, run_start, full_length, kinds }
    }

    /// The runs of barrier `b`.
    pub(crate) fn runs_of(&self, b: u32) -> &[SegmentRun] {
        &self.runs[self.run_start[b as usize] as usize..self.run_start[b as usize + 1] as usize]
    }

    /// The vertices of a run of barrier `b`.
    pub(crate) fn coords(&self, b: u32, run: &SegmentRun) -> &'a [Coord<f64>] {
        &self.barriers[b as usize].geometry.0[run.part as usize].0[run.first as usize..=run.last as usize]
    }
}

fn run_length(coords: &[Coord<f64>]) -> f64 {
    coords.windows(2).map(|w| distance(w[0], w[1])).sum()
}

/// Planar distance, computed as GEOS does so lengths agree with GEOS-based tools to the last bits.
#[inline]
pub(crate) fn distance(a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    (dx * dx + dy * dy).sqrt()
}

pub(crate) fn envelope_of(coords: &[Coord<f64>]) -> AABB<[f64; 2]> {
    let mut min = [f64::INFINITY; 2];
    let mut max = [f64::NEG_INFINITY; 2];
    for c in coords {
        min = [min[0].min(c.x), min[1].min(c.y)];
        max = [max[0].max(c.x), max[1].max(c.y)];
    }
    AABB::from_corners(min, max)
}
