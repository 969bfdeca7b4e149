//! Species ranges: the areas whose fragmentation and connectivity Kulan reports on.

use geo::MultiPolygon;

use super::id::FeatureId;

/// A range polygon (or any reporting unit) in the analysis CRS.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    pub id: FeatureId,
    pub species: Option<String>,
    pub season: Option<String>,
    pub geometry: MultiPolygon<f64>,
}
