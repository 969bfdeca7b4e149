//! Naming a vector layer on the command line: `path` or `path:layer`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use gdal::vector::LayerAccess;
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};

use crate::error::IoError;

/// A vector layer: a file (or any OGR data source) and optionally a layer name within it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRef {
    pub path: PathBuf,
    pub layer: Option<String>,
}

impl LayerRef {
    pub fn new(path: impl Into<PathBuf>, layer: Option<&str>) -> Self {
        LayerRef { path: path.into(), layer: layer.map(str::to_string) }
    }

    /// Opens the data source read-only, with a message that says what to check when it fails.
    pub(crate) fn open(&self) -> Result<Dataset, IoError> {
        if !self.path.exists() {
            return Err(IoError::NotFound { path: self.path.display().to_string() });
        }
        let options = DatasetOptions { open_flags: GdalOpenFlags::GDAL_OF_VECTOR, ..Default::default() };
        Dataset::open_ex(&self.path, options).map_err(|e| {
            IoError::Input(format!(
                "{}: cannot open as a vector data source ({e}); Kulan reads any format GDAL/OGR reads \
                 (Shapefile, GeoPackage, GeoJSON, FlatGeobuf, CSV with WKT, KML, OSM PBF)",
                self.path.display()
            ))
        })
    }

    /// The layer's index in `ds`: the named one, or the only (or first line/polygon) layer.
    pub(crate) fn layer_index(&self, ds: &Dataset) -> Result<usize, IoError> {
        let names: Vec<String> = ds.layers().map(|l| l.name()).collect();
        if names.is_empty() {
            return Err(IoError::Input(format!("{}: has no vector layers", self.path.display())));
        }
        match &self.layer {
            Some(wanted) => names.iter().position(|n| n == wanted).ok_or_else(|| {
                IoError::Input(format!(
                    "{}: no layer named '{wanted}'; the layers are: {}",
                    self.path.display(),
                    names.join(", ")
                ))
            }),
            None => Ok(0),
        }
    }
}

impl FromStr for LayerRef {
    type Err = String;

    /// `file.gpkg:roads` names layer `roads`; a bare path takes the first layer. A colon that is
    /// part of an existing file's name (or a Windows drive letter) is not taken as a separator.
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("empty layer reference; give a file path, optionally followed by :LAYER".into());
        }
        if Path::new(s).exists() {
            return Ok(LayerRef::new(s, None));
        }
        match s.rfind(':') {
            Some(i) if i > 1 && i + 1 < s.len() => Ok(LayerRef::new(&s[..i], Some(&s[i + 1..]))),
            _ => Ok(LayerRef::new(s, None)),
        }
    }
}

impl fmt::Display for LayerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.layer {
            Some(l) => write!(f, "{}:{l}", self.path.display()),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_layer_after_last_colon() {
        let r: LayerRef = "data/gobi/barriers.gpkg:railways".parse().unwrap();
        assert_eq!(r.path, PathBuf::from("data/gobi/barriers.gpkg"));
        assert_eq!(r.layer.as_deref(), Some("railways"));
        let plain: LayerRef = "roads.shp".parse().unwrap();
        assert_eq!(plain.layer, None);
        let drive: LayerRef = "C:roads.shp".parse().unwrap();
        assert_eq!(drive.layer, None);
    }
}
