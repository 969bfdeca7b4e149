//! Writing result layers (GeoPackage by default) that open in QGIS with their CRS.

use std::path::Path;

use gdal::spatial_ref::SpatialRef;
use gdal::vector::{Feature, FieldDefn, Geometry as OgrGeometry, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType};
use gdal::{Dataset, DriverManager};


use super::gpkg::write::GpkgWriter;
use super::read::AttrValue;
use crate::atomic::AtomicPath;
use crate::error::IoError;

/// The type of an output attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Int,
    Real,
    Text,
}

/// An output attribute: name and type.
#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub ty: FieldType,
}

impl FieldDef {
    pub fn new(name: &str, ty: FieldType) -> Self {
        FieldDef { name: name.to_string(), ty }
    }
}

/// The geometry type of an output layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeometryType {
    Point,
    LineString,
    MultiLineString,
    Polygon,
    MultiPolygon,
    /// A table without geometry.
    None,
}

impl GeometryType {
    fn ogr(self) -> OGRwkbGeometryType::Type {
        match self {
            GeometryType::Point => OGRwkbGeometryType::wkbPoint,
            GeometryType::LineString => OGRwkbGeometryType::wkbLineString,
            GeometryType::MultiLineString => OGRwkbGeometryType::wkbMultiLineString,
            GeometryType::Polygon => OGRwkbGeometryType::wkbPolygon,
            GeometryType::MultiPolygon => OGRwkbGeometryType::wkbMultiPolygon,
            GeometryType::None => OGRwkbGeometryType::wkbNone,
        }
    }
}

/// One output row: its geometry (if the layer has one) and its values in field order.
pub type Row = RowOf<geo::Geometry<f64>>;

/// A row with any kind of geometry, e.g. a borrowed `&MultiLineString` that need not be cloned.
pub type RowOf<G> = (Option<G>, Vec<Option<AttrValue>>);

/// A geometry that output layers can hold: it has a WKB encoding and a bounding box.
///
/// Implemented for `geo::Geometry`, `MultiLineString`, `MultiPolygon` and references to them.
pub trait RowGeometry: Sync {
    /// Appends the geometry's little-endian WKB to `out`.
    fn write_wkb(&self, out: &mut Vec<u8>);
    /// `[min_x, max_x, min_y, max_y]`, or `None` for an empty geometry.
    fn bounds(&self) -> Option<[f64; 4]>;
}

fn rect_bounds(r: Option<geo::Rect<f64>>) -> Option<[f64; 4]> {
    r.map(|r| [r.min().x, r.max().x, r.min().y, r.max().y])
}

impl RowGeometry for geo::Geometry<f64> {
    fn write_wkb(&self, out: &mut Vec<u8>) {
        super::wkb::encode(self, out)
    }
    fn bounds(&self) -> Option<[f64; 4]> {
        rect_bounds(geo::BoundingRect::bounding_rect(self))
    }
}

impl RowGeometry for geo::MultiLineString<f64> {
    fn write_wkb(&self, out: &mut Vec<u8>) {
        super::wkb::multi_line_string(out, self)
    }
    fn bounds(&self) -> Option<[f64; 4]> {
        rect_bounds(geo::BoundingRect::bounding_rect(self))
    }
}

impl RowGeometry for geo::MultiPolygon<f64> {
    fn write_wkb(&self, out: &mut Vec<u8>) {
        super::wkb::multi_polygon(out, self)
    }
    fn bounds(&self) -> Option<[f64; 4]> {
        rect_bounds(geo::BoundingRect::bounding_rect(self))
    }
}

impl<G: RowGeometry> RowGeometry for &G {
    fn write_wkb(&self, out: &mut Vec<u8>) {
        (**self).write_wkb(out)
    }
    fn bounds(&self) -> Option<[f64; 4]> {
        (**self).bounds()
    }
}

/// A vector file being written; it appears at its path only when [`VectorWriter::finish`] succeeds.
///
/// ```no_run
/// use kulan_io::vector::{FieldDef, FieldType, GeometryType, VectorWriter};
/// use kulan_io::vector::AttrValue;
/// let mut w = VectorWriter::create(std::path::Path::new("out.gpkg"))?;
/// let point = geo::Geometry::Point(geo::Point::new(1.0, 2.0));
/// w.write_layer("sites", GeometryType::Point, Some("EPSG:32648"), &[FieldDef::new("n", FieldType::Int)],
///     vec![(Some(point), vec![Some(AttrValue::Int(7))])])?;
/// w.finish()?;
/// # Ok::<(), kulan_io::IoError>(())
/// ```
pub struct VectorWriter {
    backend: Option<Backend>,
    target: AtomicPath,
    path: std::path::PathBuf,
}

/// GeoPackages are written through SQLite directly; other formats through OGR.
enum Backend {
    Gpkg(GpkgWriter),
    Ogr(Dataset),
}

impl VectorWriter {
    /// Starts a file; the format follows the extension (`.gpkg`, `.geojson`, `.fgb`).
    /// GeoPackages are written straight through SQLite (much faster for large layers), the
    /// other formats through OGR.
    pub fn create(path: &Path) -> Result<Self, IoError> {
        let target = AtomicPath::new(path)?;
        let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        let driver_name = match ext.as_str() {
            "gpkg" => {
                let writer = GpkgWriter::create(target.temp(), path)?;
                return Ok(VectorWriter { backend: Some(Backend::Gpkg(writer)), target, path: path.to_path_buf() });
            }
            "geojson" | "json" => "GeoJSON",
            "fgb" => "FlatGeobuf",
            other => {
                return Err(IoError::write(
                    path,
                    format!("unknown vector format '.{other}'; use .gpkg, .geojson or .fgb"),
                ))
            }
        };
        let driver = DriverManager::get_driver_by_name(driver_name).map_err(|e| IoError::write(path, e.to_string()))?;
        let dataset = driver.create_vector_only(target.temp()).map_err(|e| IoError::write(path, e.to_string()))?;
        Ok(VectorWriter { backend: Some(Backend::Ogr(dataset)), target, path: path.to_path_buf() })
    }

    /// Writes a whole layer in one transaction, with a spatial index.
    pub fn write_layer<G: RowGeometry, I: IntoIterator<Item = RowOf<G>>>(
        &mut self,
        name: &str,
        geometry_type: GeometryType,
        crs: Option<&str>,
        fields: &[FieldDef],
        rows: I,
    ) -> Result<(), IoError> {
        self.write_layer_with(name, geometry_type, crs, fields, rows, true)
    }

    /// As [`VectorWriter::write_layer`]; `spatial_index = false` skips the GeoPackage R-tree,
    /// which for layers of hundreds of thousands of features costs more than writing them. QGIS
    /// opens such layers all the same.
    pub fn write_layer_with<G: RowGeometry, I: IntoIterator<Item = RowOf<G>>>(
        &mut self,
        name: &str,
        geometry_type: GeometryType,
        crs: Option<&str>,
        fields: &[FieldDef],
        rows: I,
        spatial_index: bool,
    ) -> Result<(), IoError> {
        let path = self.path.clone();
        let target = match self.backend.as_mut().expect("open until finish") {
            Backend::Gpkg(w) => return w.write_layer(name, geometry_type, crs, fields, rows, spatial_index),
            Backend::Ogr(ds) => ds,
        };
        let err = |e: gdal::errors::GdalError| IoError::write(&path, format!("layer '{name}': {e}"));
        let srs = crs.map(SpatialRef::from_definition).transpose().map_err(err)?;
        // One transaction per layer (emulated where the format has none) keeps GeoPackage writes fast.
        let in_txn = unsafe { gdal_sys::GDALDatasetStartTransaction(target.c_dataset(), 1) }
            == gdal_sys::OGRErr::OGRERR_NONE;
        let options = LayerOptions {
            name,
            srs: srs.as_ref(),
            ty: geometry_type.ogr(),
            options: Some(if spatial_index { &["SPATIAL_INDEX=YES"] } else { &["SPATIAL_INDEX=NO"] }),
        };
        let layer = target.create_layer(options).map_err(err)?;
        for f in fields {
            let ty = match f.ty {
                FieldType::Int => OGRFieldType::OFTInteger64,
                FieldType::Real => OGRFieldType::OFTReal,
                FieldType::Text => OGRFieldType::OFTString,
            };
            FieldDefn::new(&f.name, ty).map_err(err)?.add_to_layer(&layer).map_err(err)?;
        }
        let defn = layer.defn();
        let mut wkb = Vec::new();
        for (geometry, values) in rows {
            let mut feature = Feature::new(defn).map_err(err)?;
            if let Some(g) = geometry {
                wkb.clear();
                g.write_wkb(&mut wkb);
                feature.set_geometry(OgrGeometry::from_wkb(&wkb).map_err(err)?).map_err(err)?;
            }
            for (i, v) in values.iter().enumerate() {
                match v {
                    Some(AttrValue::Int(n)) => feature.set_field_integer64(i, *n),
                    Some(AttrValue::Real(x)) if x.is_finite() => feature.set_field_double(i, *x),
                    Some(AttrValue::Real(_)) | None => feature.set_field_null(i),
                    Some(AttrValue::Text(s)) => feature.set_field_string(i, s),
                }
                .map_err(err)?;
            }
            feature.create(&layer).map_err(err)?;
        }
        drop(layer);
        if in_txn && unsafe { gdal_sys::GDALDatasetCommitTransaction(target.c_dataset()) } != gdal_sys::OGRErr::OGRERR_NONE {
            return Err(IoError::write(&path, format!("layer '{name}': the transaction could not be committed")));
        }
        Ok(())
    }

    /// Closes the file and moves it into place.
    pub fn finish(mut self) -> Result<(), IoError> {
        match self.backend.take() {
            Some(Backend::Gpkg(w)) => w.finish()?,
            Some(Backend::Ogr(ds)) => ds.close().map(drop).map_err(|e| IoError::write(&self.path, e.to_string()))?,
            None => {}
        }
        self.target.commit()
    }
}
