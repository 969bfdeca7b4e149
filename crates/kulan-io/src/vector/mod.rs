//! Vector layers: naming them, reading them through OGR, mapping users' fields onto Kulan's
//! model, and writing result layers.

mod gpkg;
mod load;
mod mapping;
mod read;
mod source;
mod spec;
mod wkb;
mod write;

pub use load::{load_barriers_and_ranges, LoadOptions, Loaded};
pub use mapping::{barriers_from_layer, ranges_from_layer, LayerReport};
pub use read::{read_layer, AttrValue, RawFeature, RawLayer};
pub use source::LayerRef;
pub use spec::{BarrierFields, BarrierLayerSpec, RangeLayerSpec};
pub use write::{FieldDef, FieldType, GeometryType, Row, RowGeometry, RowOf, VectorWriter};
