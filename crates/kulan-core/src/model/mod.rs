//! What Kulan reasons about: barriers, ranges and their identifiers.

mod barrier;
mod id;
mod range;

pub use barrier::{Barrier, BarrierAttrs, BarrierKind, BarrierStatus};
pub use id::FeatureId;
pub use range::Range;
