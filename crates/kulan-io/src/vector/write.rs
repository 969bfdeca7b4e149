//! Writing result layers (GeoPackage by default) that open in QGIS with their CRS.

use std::path::Path;

use gdal::spatial_ref::SpatialRef;
use gdal::vector::{Feature, FieldDefn, Geometry as OgrGeometry, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType, ToGdal};
use gdal::{Dataset, DriverManager};


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
pub type Row = (Option<geo::Geometry<f64>>, Vec<Option<AttrValue>>);

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
    dataset: Option<Dataset>,
    target: AtomicPath,
    path: std::path::PathBuf,
}

impl VectorWriter {
    /// Starts a file; the format follows the extension (`.gpkg`, `.geojson`, `.fgb`).
    pub fn create(path: &Path) -> Result<Self, IoError> {
        let target = AtomicPath::new(path)?;
        let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        let driver_name = match ext.as_str() {
            "gpkg" => "GPKG",
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
        // The file is a temporary until it is complete and renamed, so SQLite need not sync it.
        gdal::config::set_config_option("OGR_SQLITE_SYNCHRONOUS", "OFF").ok();
        // GeoPackages record a last-change time; a fixed one makes equal results equal files.
        gdal::config::set_config_option("OGR_CURRENT_DATE", "2000-01-01T00:00:00.000Z").ok();
        let dataset = driver.create_vector_only(target.temp()).map_err(|e| IoError::write(path, e.to_string()))?;
        Ok(VectorWriter { dataset: Some(dataset), target, path: path.to_path_buf() })
    }

    /// Writes a whole layer in one transaction, with a spatial index.
    pub fn write_layer<I: IntoIterator<Item = Row>>(
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
    pub fn write_layer_with<I: IntoIterator<Item = Row>>(
        &mut self,
        name: &str,
        geometry_type: GeometryType,
        crs: Option<&str>,
        fields: &[FieldDef],
        rows: I,
        spatial_index: bool,
    ) -> Result<(), IoError> {
        let path = self.path.clone();
        let err = |e: gdal::errors::GdalError| IoError::write(&path, format!("layer '{name}': {e}"));
        let srs = crs.map(SpatialRef::from_definition).transpose().map_err(err)?;
        let target = self.dataset.as_mut().expect("dataset open until finish");
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
                let ogr = if super::wkb::encode(&g, &mut wkb) {
                    OgrGeometry::from_wkb(&wkb).map_err(err)?
                } else {
                    g.to_gdal().map_err(err)?
                };
                feature.set_geometry(ogr).map_err(err)?;
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
        if let Some(ds) = self.dataset.take() {
            ds.close().map_err(|e| IoError::write(&self.path, e.to_string()))?;
        }
        self.target.commit()
    }
}
