//! Barrier intersection: how much of each barrier lies in each range, how often it crosses the
//! range's boundary, and each range's barrier density by kind.
//!
//! ```
//! use geo::{wkt, MultiLineString, MultiPolygon};
//! use kulan_core::intersect::{intersect_ranges, BarrierIndex};
//! use kulan_core::{Barrier, BarrierAttrs, Range};
//!
//! let fence = Barrier {
//!     id: 1.into(),
//!     geometry: MultiLineString::new(vec![wkt!(LINESTRING(-5. 5.,15. 5.))]),
//!     attrs: BarrierAttrs::default(),
//! };
//! let range = Range {
//!     id: 7.into(), species: None, season: None,
//!     geometry: MultiPolygon::new(vec![wkt!(POLYGON((0. 0.,10. 0.,10. 10.,0. 10.,0. 0.)))]),
//! };
//! let barriers = [fence];
//! let index = BarrierIndex::new(&barriers);
//! let result = &intersect_ranges(&index, &[range], false, || {})[0];
//! assert_eq!(result.pairs[0].length, 10.0);
//! assert_eq!(result.pairs[0].boundary_crossings, 2);
//! assert_eq!(result.summary.area, 100.0);
//! ```

mod boundary;
mod clip;
mod index;

use geo::Area;
use rayon::prelude::*;

pub use clip::ClippedBarrier;
pub use index::BarrierIndex;

use crate::model::Range;

/// Per-range totals.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSummary {
    /// Area of the range (holes excluded), CRS units squared.
    pub area: f64,
    /// Barrier length inside the range, all kinds.
    pub length: f64,
    /// Barriers with some length inside.
    pub n_barriers: usize,
    /// Length inside by kind, in the order of [`BarrierKind::ALL`].
    pub length_by_kind: [f64; 5],
}

impl RangeSummary {
    /// Barrier density in km per km², for metre-based CRSs.
    pub fn density_km_per_km2(&self) -> f64 {
        if self.area > 0.0 {
            (self.length / 1_000.0) / (self.area / 1_000_000.0)
        } else {
            0.0
        }
    }
}

/// Everything computed for one range.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeIntersection {
    /// Index of the range in the input slice.
    pub range: usize,
    /// The barriers with positive length inside, sorted by barrier index.
    pub pairs: Vec<ClippedBarrier>,
    pub summary: RangeSummary,
}

/// Clips all barriers in `index` to one range.
pub fn intersect_range(index: &BarrierIndex, range: &Range, keep_geometry: bool) -> (Vec<ClippedBarrier>, RangeSummary) {
    let boundary = boundary::Boundary::new(&range.geometry);
    let pairs = clip::clip_all(index, &boundary, keep_geometry);
    let mut length_by_kind = [0.0; 5];
    for p in &pairs {
        length_by_kind[index.kinds[p.barrier] as usize] += p.length;
    }
    let summary = RangeSummary {
        area: range.geometry.unsigned_area(),
        length: pairs.iter().map(|p| p.length).sum(),
        n_barriers: pairs.len(),
        length_by_kind,
    };
    (pairs, summary)
}

/// Clips all barriers to every range, ranges in parallel; results in range order, identical
/// whatever the number of threads. `on_range_done` is called once per finished range.
pub fn intersect_ranges(
    index: &BarrierIndex,
    ranges: &[Range],
    keep_geometry: bool,
    on_range_done: impl Fn() + Sync,
) -> Vec<RangeIntersection> {
    ranges
        .par_iter()
        .enumerate()
        .map(|(i, r)| {
            let (pairs, summary) = intersect_range(index, r, keep_geometry);
            on_range_done();
            RangeIntersection { range: i, pairs, summary }
        })
        .collect()
}

#[cfg(test)]
mod tests;
