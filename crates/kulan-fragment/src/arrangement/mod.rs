//! The planar arrangement of one reporting unit: noded boundary, barrier and exclusion edges
//! ([`build`]), half-edges sorted around their vertices, face cycles, holes assigned to faces and
//! the faces that are patches ([`faces`]), and queries on the result ([`query`]).

mod build;
mod faces;
mod query;

pub use crate::fxhash::{FxHasher, FxMap};
pub use crate::geom::Ring;
pub use crate::pip::PipIndex;

use crate::clip::{boundary_segs, clip_step};
use crate::edge_grid::EdgeGrid;
use crate::geom::Pt;
use crate::noding::Seg;

// Edge flags.
pub const F_BARRIER: u8 = 1;
pub const F_EXCL: u8 = 2;
pub const F_BOUND: u8 = 4;
/// Boundary edge with the unit's interior on the left of u→v.
pub const F_BOUND_IN_FWD: u8 = 8;
pub const F_BOUND_IN_REV: u8 = 16;
/// Exclusion edge with the excluded area on the left of u→v.
pub const F_EXCL_IN_FWD: u8 = 32;
pub const F_EXCL_IN_REV: u8 = 64;
/// Input of one arrangement.
pub struct UnitInput<'a> {
    /// Unit rings, exterior rings counter-clockwise and holes clockwise (interior on the left).
    pub rings: &'a [Ring],
    /// Barrier polylines (already selected), with the barrier feature index of each.
    pub barrier_segs: Vec<Seg>,
    /// Exclusion rings oriented with the excluded area on the left.
    pub excl_segs: Vec<Seg>,
    /// Excluded areas, for point-in-polygon tests of faces bounded only by barriers.
    pub excl_index: Option<&'a PipIndex>,
    /// Emulate the clip-then-node peer: barrier ends whose floating-point clip point lies inside
    /// the unit do not reach the boundary.
    pub clip_then_node: bool,
    pub count_parts: bool,
}

/// A face of the arrangement.
#[derive(Debug, Clone)]
pub struct Face {
    /// The counter-clockwise outer cycle.
    pub outer: u32,
    /// Clockwise cycles of the components that lie inside the face.
    pub holes: Vec<u32>,
    pub area: f64,
    /// Inside the unit and not excluded.
    pub is_patch: bool,
}

pub struct Arrangement {
    pub verts: Vec<Pt>,
    /// Half-edge `2e` runs u→v of edge `e`, `2e+1` runs v→u.
    pub edges: Vec<(u32, u32)>,
    pub flags: Vec<u8>,
    pub next: Vec<u32>,
    pub cycle_of: Vec<u32>,
    /// First half-edge and twice the signed area of each cycle.
    pub cycles: Vec<(u32, f64)>,
    /// Face of each counter-clockwise cycle (u32::MAX for clockwise cycles).
    pub face_of_cycle: Vec<u32>,
    /// Face containing each clockwise cycle's component (u32::MAX = unbounded face).
    pub container: Vec<u32>,
    pub faces: Vec<Face>,
    pub n_barrier_parts: usize,
    /// For each edge, the `feature` of a non-boundary segment it came from (`u32::MAX` for pure
    /// boundary edges). In a unit arrangement built against a shared one, the shared edge.
    pub(crate) source: Vec<u32>,
    /// Shared (whole-area) arrangement: the barrier features of each edge (CSR: the features of
    /// edge `e` are `features[feature_start[e]..feature_start[e + 1]]`).
    pub(crate) feature_start: Vec<u32>,
    pub(crate) features: Vec<u32>,
    /// Unit arrangement built against a shared one: the barrier pieces inside the unit as
    /// `(feature, vertex, vertex, 0)`, vertex ids of the shared arrangement where the piece ends
    /// at a shared vertex and `shared vertex count + own id` where it ends on the unit boundary.
    pub(crate) barrier_pieces: Vec<(u32, u32, u32, u32)>,
    grid: Option<EdgeGrid>,
}

/// What an arrangement is built for.
#[derive(Clone, Copy)]
pub(crate) enum Mode<'a> {
    /// One unit, from the original segments.
    Unit,
    /// The whole area, without a unit: every edge kept, dangles too, barrier features recorded.
    Whole,
    /// One unit, from the edges of the shared whole-area arrangement (`Seg::feature` = its edge).
    Local(&'a Arrangement),
}

#[inline]
fn origin_of(edges: &[(u32, u32)], he: u32) -> u32 {
    let (u, v) = edges[(he >> 1) as usize];
    if he & 1 == 0 {
        u
    } else {
        v
    }
}

impl Arrangement {
    /// The point-location grid over the edges, once built (`prepare_locate`).
    pub(crate) fn edge_grid(&self) -> Option<&EdgeGrid> {
        self.grid.as_ref()
    }

    /// Barrier features of edge `e` (shared arrangement only).
    pub(crate) fn edge_features(&self, e: u32) -> &[u32] {
        match self.feature_start.get(e as usize + 1) {
            Some(&end) => &self.features[self.feature_start[e as usize] as usize..end as usize],
            None => &[],
        }
    }

    pub fn build(input: UnitInput<'_>) -> Arrangement {
        let UnitInput { rings, barrier_segs, excl_segs, excl_index, clip_then_node, count_parts } = input;
        if clip_then_node {
            // The peer's procedure: (1) each barrier is intersected with the unit on its own
            // (noded with itself and the boundary, floating-point clip points); (2) the clipped
            // parts and the boundary are noded together in one floating-point pass. GEOS checks
            // that pass and, when a rounded node made a new crossing, redoes it with a snapping
            // noder that joins the near-misses, i.e. the exact topology.
            let (clipped, parts) = clip_step(rings, &barrier_segs);
            let inner = Self::build_inner(rings, boundary_segs(rings), clipped, excl_segs.clone(), excl_index, Mode::Unit, false, true);
            let mut arr = match inner {
                Ok(arr) => arr,
                Err(_) => Self::build_exact(rings, barrier_segs, excl_segs, excl_index, Mode::Unit, false),
            };
            arr.n_barrier_parts = if count_parts { parts } else { 0 };
            return arr;
        }
        Self::build_exact(rings, barrier_segs, excl_segs, excl_index, Mode::Unit, count_parts)
    }

    /// The arrangement of all cutting lines and excluded-area rings of the study area, shared by
    /// the units: nothing is clipped or pruned.
    pub(crate) fn build_whole(barrier_segs: Vec<Seg>, excl_segs: Vec<Seg>, excl_index: Option<&PipIndex>) -> Arrangement {
        let mut arr = Self::build_exact(&[], barrier_segs, excl_segs, excl_index, Mode::Whole, false);
        arr.prepare_locate();
        arr
    }

    /// The arrangement of one unit from edges of the shared arrangement `shared` (each
    /// segment's `feature` is its shared edge); the barrier pieces inside are recorded for
    /// counting parts.
    pub(crate) fn build_local(
        rings: &[Ring],
        barrier_segs: Vec<Seg>,
        excl_segs: Vec<Seg>,
        excl_index: Option<&PipIndex>,
        shared: &Arrangement,
    ) -> Arrangement {
        Self::build_exact(rings, barrier_segs, excl_segs, excl_index, Mode::Local(shared), true)
    }

    /// Nodes, checks the noding and, where a rounded intersection point made a new crossing,
    /// nodes the noded edges again (a few rounds at most), then builds the faces.
    fn build_exact(
        rings: &[Ring],
        barrier_segs: Vec<Seg>,
        excl_segs: Vec<Seg>,
        excl_index: Option<&PipIndex>,
        mode: Mode<'_>,
        count_parts: bool,
    ) -> Arrangement {
        let mut input = (boundary_segs(rings), barrier_segs, excl_segs);
        // Parts are counted in the first round, on the pieces of the input segments.
        let mut parts: Option<(usize, Vec<(u32, u32, u32, u32)>)> = None;
        for round in 0..4 {
            let last = round == 3;
            match Self::build_inner(rings, input.0, input.1, input.2, excl_index, mode, count_parts && parts.is_none(), !last) {
                Ok(mut arr) => {
                    if let Some((n, pieces)) = parts {
                        arr.n_barrier_parts = n;
                        arr.barrier_pieces = pieces;
                    }
                    return arr;
                }
                Err((renode, n, pieces)) => {
                    parts.get_or_insert((n, pieces));
                    input = renode;
                }
            }
        }
        unreachable!("the last round does not validate")
    }

}
