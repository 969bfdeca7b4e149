//! The R-tree over barrier segments, grouped in short runs so the tree stays small.

use geo::Coord;
use rstar::{RTree, RTreeObject, AABB};

use crate::model::Barrier;

/// How many consecutive segments share one R-tree entry. Short enough that a run's box hugs the
/// line, long enough that the tree for 10 million vertices stays a few hundred MB.
const SEGMENTS_PER_RUN: usize = 32;

/// A run of consecutive segments of one part of one barrier.
#[derive(Debug, Clone)]
pub(crate) struct SegmentRun {
    pub barrier: u32,
    pub part: u32,
    /// Index of the run's first vertex in the part; the run ends at vertex `last`.
    pub first: u32,
    pub last: u32,
    pub length: f64,
    envelope: AABB<[f64; 2]>,
}

impl RTreeObject for SegmentRun {
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
    pub(crate) tree: RTree<SegmentRun>,
}

impl<'a> BarrierIndex<'a> {
    pub fn new(barriers: &'a [Barrier]) -> Self {
        let mut runs = Vec::new();
        for (bi, barrier) in barriers.iter().enumerate() {
            for (pi, part) in barrier.geometry.0.iter().enumerate() {
                let n = part.0.len();
                let mut first = 0;
                while first + 1 < n {
                    let last = (first + SEGMENTS_PER_RUN).min(n - 1);
                    let coords = &part.0[first..=last];
                    runs.push(SegmentRun {
                        barrier: bi as u32,
                        part: pi as u32,
                        first: first as u32,
                        last: last as u32,
                        length: run_length(coords),
                        envelope: envelope_of(coords),
                    });
                    first = last;
                }
            }
        }
        BarrierIndex { barriers, tree: RTree::bulk_load(runs) }
    }

    /// The vertices of a run.
    pub(crate) fn coords(&self, run: &SegmentRun) -> &'a [Coord<f64>] {
        &self.barriers[run.barrier as usize].geometry.0[run.part as usize].0[run.first as usize..=run.last as usize]
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
