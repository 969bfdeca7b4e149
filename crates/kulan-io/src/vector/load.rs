//! Loading a study's barrier and range layers into one analysis CRS in one call.

use std::collections::HashSet;

use geo::BoundingRect;
use kulan_core::geometry::OnInvalid;
use kulan_core::{Barrier, FeatureId, Range};
use rayon::prelude::*;

use super::mapping::{barriers_from_layer, ranges_from_layer, LayerReport};
use super::read::{read_layer, RawLayer};
use super::spec::{BarrierLayerSpec, RangeLayerSpec};
use crate::crs::{AnalysisCrs, CrsOptions, Reprojector};
use crate::error::IoError;

/// How layers are brought into the analysis.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub crs: CrsOptions,
    pub on_invalid: OnInvalid,
}

/// Barriers and ranges in the analysis CRS, with what happened to each layer.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub barriers: Vec<Barrier>,
    pub ranges: Vec<Range>,
    pub crs: AnalysisCrs,
    /// One per layer read: barrier layers first, then range layers.
    pub reports: Vec<LayerReport>,
    /// How many barrier and range layers were given (their features may all have been skipped).
    pub barrier_layers: usize,
    pub range_layers: usize,
}

/// Reads every layer (in parallel), picks the analysis CRS, reprojects, checks and maps them.
///
/// With more than one barrier layer, barrier ids are qualified by their layer name
/// (`railways:12`), since ids from different files collide.
pub fn load_barriers_and_ranges(
    barrier_specs: &[BarrierLayerSpec],
    range_specs: &[RangeLayerSpec],
    options: &LoadOptions,
) -> Result<Loaded, IoError> {
    let refs: Vec<_> = barrier_specs
        .iter()
        .map(BarrierLayerSpec::layer_ref)
        .chain(range_specs.iter().map(RangeLayerSpec::layer_ref))
        .collect();
    let raw: Vec<RawLayer> = refs.par_iter().map(read_layer).collect::<Result<_, _>>()?;
    let mut extents = Vec::with_capacity(raw.len());
    for layer in &raw {
        if layer.features.is_empty() {
            return Err(IoError::Input(format!(
                "{}: the layer has no features; check the file and the layer name",
                layer.label()
            )));
        }
        if layer.crs_wkt.is_none() && options.crs.assume.is_none() {
            return Err(IoError::Crs(format!(
                "{}: the layer declares no CRS; add one to the file (e.g. a .prj) or pass --assume-crs EPSG:xxxx",
                layer.label()
            )));
        }
        if options.crs.target.is_some() {
            // The extent only matters when Kulan picks the CRS itself.
            if !layer.features.iter().any(|f| f.geometry.is_some()) {
                return Err(IoError::Input(format!("{}: no feature has a geometry", layer.label())));
            }
            continue;
        }
        let rect = layer
            .features
            .iter()
            .filter_map(|f| f.geometry.as_ref().and_then(|g| g.bounding_rect()))
            .filter(|r| [r.min().x, r.min().y, r.max().x, r.max().y].iter().all(|v| v.is_finite()))
            .reduce(|a, b| {
                geo::Rect::new(
                    geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                    geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
                )
            })
            .ok_or_else(|| IoError::Input(format!("{}: no feature has usable coordinates", layer.label())))?;
        extents.push((layer.crs_wkt.as_deref(), rect));
    }
    let crs = AnalysisCrs::choose(&options.crs, &extents)?;
    let source_crs = |layer: &RawLayer| -> String {
        layer.crs_wkt.clone().or_else(|| options.crs.assume.clone()).expect("checked above")
    };

    let (barrier_raw, range_raw) = raw.split_at(barrier_specs.len());
    let qualify = barrier_specs.len() > 1;
    let mut reports = Vec::new();
    let mut barriers = Vec::new();
    for (layer, spec) in barrier_raw.iter().zip(barrier_specs) {
        let reproject = Reprojector::new(&source_crs(layer), &crs, &layer.label())?;
        let (mut got, report) = barriers_from_layer(layer, spec, &reproject, options.on_invalid)?;
        check_unique(got.iter().map(|b| &b.id), layer)?;
        if qualify {
            for b in &mut got {
                b.id = FeatureId::Text(format!("{}:{}", layer.name, b.id));
            }
        }
        barriers.extend(got);
        reports.push(report);
    }
    let mut ranges = Vec::new();
    for (layer, spec) in range_raw.iter().zip(range_specs) {
        let reproject = Reprojector::new(&source_crs(layer), &crs, &layer.label())?;
        let (got, report) = ranges_from_layer(layer, spec, &reproject, options.on_invalid)?;
        ranges.extend(got);
        reports.push(report);
    }
    if range_specs.len() > 1 {
        check_unique(ranges.iter().map(|r| &r.id), &range_raw[0])?;
    }
    Ok(Loaded { barriers, ranges, crs, reports, barrier_layers: barrier_specs.len(), range_layers: range_specs.len() })
}

fn check_unique<'a>(ids: impl Iterator<Item = &'a FeatureId>, layer: &RawLayer) -> Result<(), IoError> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(IoError::Input(format!(
                "{}: the id {id} occurs more than once; ids must be unique (map another id field, e.g. --barrier-id FIELD)",
                layer.label()
            )));
        }
    }
    Ok(())
}
