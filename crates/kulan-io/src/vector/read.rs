//! Reading any OGR layer into plain Rust: geometries as `geo` types and attributes by field name.

use gdal::vector::{FieldValue, LayerAccess};
use rayon::prelude::*;

use super::gpkg::read::{self as gpkg_read, Declined, TableColumns};
use super::source::LayerRef;
use crate::error::IoError;

/// An attribute value, simplified from OGR's field types.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Int(i64),
    Real(f64),
    Text(String),
}

impl AttrValue {
    /// The value as a number, when it is one or is text that reads as one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AttrValue::Int(n) => Some(*n as f64),
            AttrValue::Real(x) => Some(*x),
            AttrValue::Text(s) => s.trim().parse().ok(),
        }
    }

    /// The value as text, as a user would write it.
    pub fn as_text(&self) -> String {
        match self {
            AttrValue::Int(n) => n.to_string(),
            AttrValue::Real(x) => x.to_string(),
            AttrValue::Text(s) => s.clone(),
        }
    }

    /// Reads yes/no values: 1/0, true/false, yes/no, y/n.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            AttrValue::Int(n) => Some(*n != 0),
            AttrValue::Real(x) => Some(*x != 0.0),
            AttrValue::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "y" | "t" => Some(true),
                "0" | "false" | "no" | "n" | "f" => Some(false),
                _ => None,
            },
        }
    }
}

/// One feature as read: its OGR feature id, geometry (if any) and attribute values.
#[derive(Debug, Clone)]
pub struct RawFeature {
    pub fid: u64,
    pub geometry: Option<geo::Geometry<f64>>,
    /// Values in the order of `RawLayer::fields`; `None` for null or unset.
    pub values: Vec<Option<AttrValue>>,
}

/// A whole layer in its own CRS.
#[derive(Debug, Clone)]
pub struct RawLayer {
    pub source: LayerRef,
    /// The layer's name inside its data source.
    pub name: String,
    /// The layer's CRS as WKT, when it declares one.
    pub crs_wkt: Option<String>,
    pub fields: Vec<String>,
    pub features: Vec<RawFeature>,
}

impl RawLayer {
    /// Index of the field called `name` (case-insensitive).
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.eq_ignore_ascii_case(name))
    }

    /// The value of field `idx` in `feature`.
    pub fn value<'a>(&self, feature: &'a RawFeature, idx: usize) -> Option<&'a AttrValue> {
        feature.values.get(idx).and_then(|v| v.as_ref())
    }

    /// A readable name for messages: `file:layer`.
    pub fn label(&self) -> String {
        format!("{}:{}", self.source.path.display(), self.name)
    }
}

/// Reads every feature of a layer. Geometries GDAL cannot convert are kept as `None` and reported
/// by the caller's validation, so one broken feature does not hide the others.
///
/// GeoPackage tables are read straight through SQLite (several threads at once, each over its
/// own range of feature ids), other formats through OGR; features come back in feature-id order.
pub fn read_layer(source: &LayerRef) -> Result<RawLayer, IoError> {
    read_layer_with(source, true)
}

/// [`read_layer`], with the direct GeoPackage path allowed or not (tests compare the two).
pub(crate) fn read_layer_with(source: &LayerRef, gpkg_directly: bool) -> Result<RawLayer, IoError> {
    let ds = source.open()?;
    let idx = source.layer_index(&ds)?;
    let layer = ds.layer(idx).map_err(|e| IoError::gdal(format!("{source}: cannot open layer"), e))?;
    let name = layer.name();
    let crs_wkt = layer.spatial_ref().and_then(|s| s.to_wkt().ok()).filter(|w| !w.is_empty());
    let fields: Vec<String> = layer.defn().fields().map(|f| f.name()).collect();
    let label = format!("{}:{name}", source.path.display());
    // GDAL shows a GeoPackage's "undefined" systems (srs_id 0 and -1) as made-up CRSs.
    let crs_wkt = if gpkg_read::undefined_srs(&source.path, &name) { None } else { crs_wkt };
    let direct = if gpkg_directly { read_gpkg_directly(&ds, &layer, &source.path, &label, &fields) } else { Err(Declined::UseOgr) };
    match direct {
        Ok(features) => return Ok(RawLayer { source: source.clone(), name, crs_wkt, fields, features }),
        Err(Declined::Error(e)) => return Err(e),
        Err(Declined::UseOgr) => {}
    }
    let chunks = fid_chunks(&ds, &layer);
    drop(layer);
    let features = match chunks {
        Some(ranges) => {
            let parts: Vec<Vec<RawFeature>> = ranges
                .into_par_iter()
                .map(|(lo, hi)| -> Result<Vec<RawFeature>, IoError> {
                    let ds = source.open()?;
                    let mut layer = ds.layer(idx).map_err(|e| IoError::gdal(format!("{source}: cannot open layer"), e))?;
                    let fid_col = fid_column(&layer);
                    layer
                        .set_attribute_filter(&format!("\"{fid_col}\" >= {lo} AND \"{fid_col}\" < {hi}"))
                        .map_err(|e| IoError::gdal(format!("{source}: cannot filter by feature id"), e))?;
                    Ok(read_features(&mut layer, fields.len()))
                })
                .collect::<Result<_, _>>()?;
            parts.into_iter().flatten().collect()
        }
        None => {
            let mut layer = ds.layer(idx).map_err(|e| IoError::gdal(format!("{source}: cannot open layer"), e))?;
            read_features(&mut layer, fields.len())
        }
    };
    Ok(RawLayer { source: source.clone(), name, crs_wkt, fields, features })
}

/// The features of a GeoPackage layer read through SQLite, when OGR would give exactly the same.
fn read_gpkg_directly(
    ds: &gdal::Dataset,
    layer: &gdal::vector::Layer<'_>,
    path: &std::path::Path,
    label: &str,
    fields: &[String],
) -> Result<Vec<RawFeature>, Declined> {
    use gdal::vector::OGRFieldType::{OFTInteger, OFTInteger64, OFTReal, OFTString};
    if ds.driver().short_name() != "GPKG" || fid_column(layer).is_empty() {
        return Err(Declined::UseOgr);
    }
    // Dates, times and binary fields keep OGR's own conversion.
    if layer.defn().fields().any(|f| ![OFTInteger, OFTInteger64, OFTReal, OFTString].contains(&f.field_type())) {
        return Err(Declined::UseOgr);
    }
    // SAFETY: the layer handle is valid for the borrow; GDAL returns a string it owns.
    let geometry_ptr = unsafe { gdal_sys::OGR_L_GetGeometryColumn(layer.c_layer()) };
    let geometry = if geometry_ptr.is_null() {
        String::new()
    } else {
        unsafe { std::ffi::CStr::from_ptr(geometry_ptr) }.to_string_lossy().into_owned()
    };
    let fid = fid_column(layer);
    let table = layer.name();
    let cols = TableColumns { table: &table, fid: &fid, geometry: Some(geometry.as_str()).filter(|g| !g.is_empty()), fields };
    gpkg_read::read_features(path, label, &cols)
}

/// Feature-id ranges for a parallel read: only for GeoPackages (whose ids are an indexed integer
/// key) with enough features to be worth it.
fn fid_chunks(ds: &gdal::Dataset, layer: &gdal::vector::Layer<'_>) -> Option<Vec<(i64, i64)>> {
    const MIN_FEATURES: u64 = 20_000;
    if ds.driver().short_name() != "GPKG" || fid_column(layer).is_empty() {
        return None;
    }
    let count = layer.try_feature_count()?;
    if count < MIN_FEATURES {
        return None;
    }
    let fid_col = fid_column(layer);
    let sql = format!("SELECT MIN(\"{fid_col}\"), MAX(\"{fid_col}\") FROM \"{}\"", layer.name());
    let mut result = ds.execute_sql(&sql, None, gdal::vector::sql::Dialect::DEFAULT).ok()??;
    let row = result.features().next()?;
    let (min, max) = (row.field_as_integer64(0).ok()??, row.field_as_integer64(1).ok()??);
    let threads = rayon::current_num_threads().max(1) as i64;
    let step = ((max - min + 1) / (threads * 4)).max(1);
    Some((min..=max).step_by(step as usize).map(|lo| (lo, (lo + step).min(max + 1))).collect())
}

fn fid_column(layer: &gdal::vector::Layer<'_>) -> String {
    // SAFETY: the layer handle is valid for the borrow; GDAL returns a string it owns.
    let ptr = unsafe { gdal_sys::OGR_L_GetFIDColumn(layer.c_layer()) };
    if ptr.is_null() {
        return String::new();
    }
    unsafe { std::ffi::CStr::from_ptr(ptr) }.to_string_lossy().into_owned()
}

fn read_features(layer: &mut gdal::vector::Layer<'_>, n_fields: usize) -> Vec<RawFeature> {
    // Some drivers (OSM) cannot count features up front and report -1.
    let mut features = Vec::with_capacity(layer.try_feature_count().unwrap_or(0).min(10_000_000) as usize);
    for feature in layer.features() {
        let fid = feature.fid().unwrap_or(features.len() as u64);
        let geometry = feature
            .geometry()
            .filter(|g| g.has_gdal_ptr())
            .and_then(|g| geo::Geometry::try_from(g).ok());
        let values = (0..n_fields).map(|i| feature.field(i).ok().flatten().and_then(simplify)).collect();
        features.push(RawFeature { fid, geometry, values });
    }
    features
}

fn simplify(v: FieldValue) -> Option<AttrValue> {
    Some(match v {
        FieldValue::IntegerValue(n) => AttrValue::Int(n as i64),
        FieldValue::Integer64Value(n) => AttrValue::Int(n),
        FieldValue::RealValue(x) => AttrValue::Real(x),
        FieldValue::StringValue(s) => AttrValue::Text(s),
        FieldValue::DateValue(d) => AttrValue::Text(format!("{d:?}")),
        FieldValue::DateTimeValue(d) => AttrValue::Text(format!("{d:?}")),
        _ => return None,
    })
}
