//! Barriers indexed for clipping: a packed R-tree over whole barriers' boxes, and each barrier's
//! vertices grouped in short runs of segments with their own boxes and lengths.
//!
//! A range first asks the tree for the barriers near it. A barrier whose box lies wholly inside
//! or outside the range is settled at once; only the others are walked run by run, and only runs
//! near the boundary are looked at segment by segment.
//!
//! Barriers are stored in "slots" sorted along a Hilbert curve, with their vertices copied into
//! one flat array in slot order: the barriers a range meets then lie together in memory, so
//! walking them streams through the caches instead of chasing one pointer per barrier.

use geo::Coord;
use rayon::prelude::*;

use crate::model::{Barrier, BarrierKind};
use crate::packed_rtree::{hilbert_order, Bbox, PackedRTree};

/// How many consecutive segments share one run. Short enough that a run's box hugs the line,
/// long enough that the runs of 10 million vertices stay small.
const SEGMENTS_PER_RUN: usize = 32;

/// A run of consecutive segments of one part of one barrier.
#[derive(Debug, Clone)]
pub(crate) struct SegmentRun {
    /// Which part of its barrier the run belongs to.
    pub part: u32,
    /// The run's vertices are `coords[first..=last]` of the index.
    pub first: u32,
    pub last: u32,
    pub length: f64,
    pub envelope: Bbox,
}

/// Barrier lines indexed for clipping against many ranges.
///
/// Build it once per run ([`BarrierIndex::new`]) and clip every range against it, from as many
/// threads as you like. It keeps its own copy of the vertices (16 bytes each), laid out for the
/// clipping, so it does not borrow the barriers.
pub struct BarrierIndex {
    /// Tree over the slots' boxes; item `s` is slot `s`.
    pub(crate) tree: PackedRTree,
    /// The barrier (index into `barriers`) in each slot. Barriers without vertices have no slot.
    pub(crate) slot_barrier: Vec<u32>,
    /// Slot `s`'s runs are `runs[slot_runs[s]..slot_runs[s + 1]]`.
    slot_runs: Vec<u32>,
    /// Every slot's runs, slot after slot, parts and vertices in order.
    runs: Vec<SegmentRun>,
    /// All vertices, slot after slot.
    coords: Vec<Coord<f64>>,
    /// Each slot's whole length, summed as the clipping sums a barrier lying wholly inside
    /// (runs within a part, then parts), so that the shortcut gives the same bits.
    pub(crate) slot_length: Vec<f64>,
    /// Each barrier's kind as its position in [`BarrierKind::ALL`], kept apart so the per-range
    /// totals need not touch the barriers themselves.
    pub(crate) kinds: Vec<u8>,
}

impl BarrierIndex {
    pub fn new(barriers: &[Barrier]) -> Self {
        let boxes: Vec<(u32, Bbox)> = barriers
            .par_iter()
            .enumerate()
            .filter_map(|(bi, b)| {
                let coords = b.geometry.0.iter().filter(|part| part.0.len() >= 2).flat_map(|part| part.0.iter());
                envelope_of(coords).map(|env| (bi as u32, env))
            })
            .collect();
        let order = hilbert_order(&boxes.iter().map(|(_, env)| *env).collect::<Vec<_>>());
        let vertex_count: usize = barriers.iter().flat_map(|b| b.geometry.0.iter()).map(|p| p.0.len()).sum();
        assert!(vertex_count < u32::MAX as usize, "more than 4 billion barrier vertices");
        // Slots are laid out in chunks on all threads, then joined in order.
        let chunks: Vec<Slots> = order
            .par_chunks(SLOTS_PER_CHUNK)
            .map(|chunk| {
                let mut slots = Slots::default();
                for &k in chunk {
                    let (bi, env) = boxes[k as usize];
                    slots.push(bi, env, &barriers[bi as usize]);
                }
                slots
            })
            .collect();
        let mut all = Slots { coords: Vec::with_capacity(vertex_count), ..Slots::default() };
        for chunk in chunks {
            all.append(chunk);
        }
        all.run_start.push(all.runs.len() as u32);
        let kinds = barriers
            .iter()
            .map(|b| BarrierKind::ALL.iter().position(|&k| k == b.kind()).expect("kind is listed in ALL") as u8)
            .collect();
        BarrierIndex {
            tree: PackedRTree::new(all.boxes),
            slot_barrier: all.barrier,
            slot_runs: all.run_start,
            runs: all.runs,
            coords: all.coords,
            slot_length: all.length,
            kinds,
        }
    }

    /// The runs of slot `s`.
    #[inline]
    pub(crate) fn runs_of(&self, s: usize) -> &[SegmentRun] {
        &self.runs[self.slot_runs[s] as usize..self.slot_runs[s + 1] as usize]
    }

    /// The vertices of a run.
    #[inline]
    pub(crate) fn coords(&self, run: &SegmentRun) -> &[Coord<f64>] {
        &self.coords[run.first as usize..=run.last as usize]
    }
}

/// Slots laid out per parallel chunk.
const SLOTS_PER_CHUNK: usize = 4096;

/// Consecutive slots under construction; offsets are local until [`Slots::append`] shifts them.
#[derive(Default)]
struct Slots {
    barrier: Vec<u32>,
    boxes: Vec<Bbox>,
    run_start: Vec<u32>,
    runs: Vec<SegmentRun>,
    coords: Vec<Coord<f64>>,
    length: Vec<f64>,
}

impl Slots {
    fn push(&mut self, bi: u32, env: Bbox, barrier: &Barrier) {
        self.barrier.push(bi);
        self.boxes.push(env);
        self.run_start.push(self.runs.len() as u32);
        let mut total: Option<f64> = None;
        for (pi, part) in barrier.geometry.0.iter().enumerate() {
            let n = part.0.len();
            if n < 2 {
                continue;
            }
            let base = self.coords.len();
            self.coords.extend_from_slice(&part.0);
            let mut first = 0;
            let mut part_length = 0.0;
            while first + 1 < n {
                let last = (first + SEGMENTS_PER_RUN).min(n - 1);
                let run_coords = &part.0[first..=last];
                let length = run_length(run_coords);
                part_length += length;
                self.runs.push(SegmentRun {
                    part: pi as u32,
                    first: (base + first) as u32,
                    last: (base + last) as u32,
                    length,
                    envelope: envelope_of(run_coords.iter()).expect("a run has vertices"),
                });
                first = last;
            }
            if part_length > 0.0 {
                total = Some(total.map_or(part_length, |t| t + part_length));
            }
        }
        self.length.push(total.unwrap_or(0.0));
    }

    fn append(&mut self, other: Slots) {
        let (run_shift, coord_shift) = (self.runs.len() as u32, self.coords.len() as u32);
        self.barrier.extend(other.barrier);
        self.boxes.extend(other.boxes);
        self.run_start.extend(other.run_start.iter().map(|r| r + run_shift));
        self.runs.extend(other.runs.into_iter().map(|r| SegmentRun {
            first: r.first + coord_shift,
            last: r.last + coord_shift,
            ..r
        }));
        self.coords.extend(other.coords);
        self.length.extend(other.length);
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

/// The box around `coords`, `None` when there are none.
pub(crate) fn envelope_of<'c>(coords: impl Iterator<Item = &'c Coord<f64>>) -> Option<Bbox> {
    let mut env = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    let mut any = false;
    for c in coords {
        env = [env[0].min(c.x), env[1].min(c.y), env[2].max(c.x), env[3].max(c.y)];
        any = true;
    }
    any.then_some(env)
}
