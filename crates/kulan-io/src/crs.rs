//! The analysis CRS and the PROJ transformations into it.
//!
//! Every layer is brought into one projected CRS in metres before any analysis, so lengths are
//! metres and areas square metres. Unless the user names one (`--crs EPSG:xxxx`), Kulan uses a
//! Lambert azimuthal equal-area projection centred on the data: areas are exact everywhere, and
//! for a study area 2,000 km across (1,000 km from the centre) the scale error of lengths stays
//! within about ±1.6 % (radial scale 1/cos(c/2) − 1 = 1.55 % at angular distance c = 9°, tangential
//! the inverse), which is smaller than the uncertainty of most barrier maps. Users who need exact
//! lengths in a national grid pass that grid's EPSG code.

use gdal::spatial_ref::SpatialRef;
use geo::{Coord, MapCoordsInPlace};
use proj::Proj;

use crate::error::IoError;

/// Where the analysis CRS comes from.
#[derive(Debug, Clone, Default)]
pub struct CrsOptions {
    /// The CRS to work in (`EPSG:32648`, a PROJ string or WKT); `None` picks an equal-area one.
    pub target: Option<String>,
    /// The CRS of layers that declare none; without it such layers are an error.
    pub assume: Option<String>,
}

/// The CRS all layers are transformed into.
#[derive(Debug, Clone)]
pub struct AnalysisCrs {
    /// As the user gave it, or the PROJ string Kulan chose.
    pub definition: String,
    /// The same CRS as WKT, for writing into output files.
    pub wkt: String,
}

impl AnalysisCrs {
    /// Parses a CRS definition (EPSG code, PROJ string or WKT) and checks it is projected.
    pub fn from_definition(definition: &str) -> Result<Self, IoError> {
        let srs = parse_srs(definition)?;
        if !srs.is_projected() {
            return Err(IoError::Crs(format!(
                "'{definition}' is not a projected CRS; Kulan measures in metres, so give a projected \
                 CRS such as a UTM zone (EPSG:326xx) or leave --crs out for an equal-area default"
            )));
        }
        let wkt = srs.to_wkt().map_err(|e| IoError::Crs(e.to_string()))?;
        Ok(AnalysisCrs { definition: definition.to_string(), wkt })
    }

    /// Lambert azimuthal equal-area centred on `(lon, lat)`, rounded to 0.01° so the same data
    /// always gets the same CRS.
    pub fn equal_area_at(lon: f64, lat: f64) -> Self {
        let round = |v: f64| (v * 100.0).round() / 100.0;
        let definition = format!(
            "+proj=laea +lat_0={} +lon_0={} +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs",
            round(lat),
            round(lon)
        );
        let wkt = parse_srs(&definition).and_then(|s| s.to_wkt().map_err(|e| IoError::Crs(e.to_string())));
        AnalysisCrs { wkt: wkt.unwrap_or_else(|_| definition.clone()), definition }
    }

    /// Picks the analysis CRS: the user's, or equal-area centred on the bounding boxes of
    /// `layers` (each given with its own CRS WKT).
    pub fn choose(options: &CrsOptions, layers: &[(Option<&str>, geo::Rect<f64>)]) -> Result<Self, IoError> {
        if let Some(def) = &options.target {
            return Self::from_definition(def);
        }
        let mut lon = (f64::INFINITY, f64::NEG_INFINITY);
        let mut lat = (f64::INFINITY, f64::NEG_INFINITY);
        for (wkt, rect) in layers {
            let src = wkt.map(str::to_string).or_else(|| options.assume.clone()).ok_or_else(|| {
                IoError::Crs("a layer has no CRS; pass --assume-crs EPSG:xxxx".into())
            })?;
            let to_geo = Proj::new_known_crs(&src, "EPSG:4326", None)
                .map_err(|e| IoError::Crs(format!("cannot transform from the layer's CRS to lon/lat: {e}")))?;
            for c in densified_outline(*rect) {
                if let Ok((x, y)) = to_geo.convert((c.x, c.y)) {
                    if x.is_finite() && y.is_finite() {
                        lon = (lon.0.min(x), lon.1.max(x));
                        lat = (lat.0.min(y), lat.1.max(y));
                    }
                }
            }
        }
        if !lon.0.is_finite() {
            return Err(IoError::Crs("no layer has coordinates that can be placed on the globe".into()));
        }
        Ok(Self::equal_area_at((lon.0 + lon.1) / 2.0, (lat.0 + lat.1) / 2.0))
    }
}

/// Points along the outline of `rect`, so a curved projected outline is bounded properly.
fn densified_outline(rect: geo::Rect<f64>) -> Vec<Coord<f64>> {
    let (min, max) = (rect.min(), rect.max());
    let n = 16;
    let mut pts = Vec::with_capacity(4 * n);
    for i in 0..n {
        let t = i as f64 / n as f64;
        let x = min.x + t * (max.x - min.x);
        let y = min.y + t * (max.y - min.y);
        pts.extend([
            Coord { x, y: min.y },
            Coord { x, y: max.y },
            Coord { x: min.x, y },
            Coord { x: max.x, y },
        ]);
    }
    pts.push(max);
    pts
}

pub(crate) fn parse_srs(definition: &str) -> Result<SpatialRef, IoError> {
    SpatialRef::from_definition(definition)
        .map_err(|e| IoError::Crs(format!("'{definition}' is not a CRS GDAL/PROJ knows ({e})")))
}

/// Transforms geometries from one layer's CRS into the analysis CRS, or leaves them alone when
/// the two are the same CRS.
pub struct Reprojector {
    proj: Option<Proj>,
    /// Source and target definitions, to make more transformers for other threads.
    definitions: Option<(String, String)>,
}

/// The source and target CRS of a [`Reprojector`]; it can be sent to other threads.
#[derive(Debug, Clone)]
pub struct ReprojectorRecipe {
    definitions: Option<(String, String)>,
}

impl ReprojectorRecipe {
    /// A new transformer from source to target.
    pub fn build(&self) -> Result<Reprojector, IoError> {
        let Some((source, target)) = &self.definitions else { return Ok(Reprojector { proj: None, definitions: None }) };
        let proj = Proj::new_known_crs(source, target, None)
            .map_err(|e| IoError::Crs(format!("cannot set up the transformation again: {e}")))?;
        Ok(Reprojector { proj: Some(proj), definitions: self.definitions.clone() })
    }
}

impl Reprojector {
    /// `source_wkt` is the layer's CRS; `label` names the layer in error messages.
    pub fn new(source_wkt: &str, target: &AnalysisCrs, label: &str) -> Result<Self, IoError> {
        let same = match (parse_srs(source_wkt), parse_srs(&target.wkt)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same {
            return Ok(Reprojector { proj: None, definitions: None });
        }
        let proj = Proj::new_known_crs(source_wkt, &target.wkt, None).map_err(|e| {
            IoError::Crs(format!("{label}: cannot transform from its CRS to the analysis CRS: {e}"))
        })?;
        Ok(Reprojector { proj: Some(proj), definitions: Some((source_wkt.to_string(), target.wkt.clone())) })
    }

    /// What this transformer is made of, to make one per thread (PROJ objects cannot be shared).
    pub fn recipe(&self) -> ReprojectorRecipe {
        ReprojectorRecipe { definitions: self.definitions.clone() }
    }

    /// True when no transformation is needed.
    pub fn is_identity(&self) -> bool {
        self.proj.is_none()
    }

    /// The geometry in the analysis CRS: borrowed when no transformation is needed.
    pub fn transformed<'g>(&self, geometry: Option<&'g geo::Geometry<f64>>) -> Option<std::borrow::Cow<'g, geo::Geometry<f64>>> {
        let g = geometry?;
        if self.is_identity() {
            return Some(std::borrow::Cow::Borrowed(g));
        }
        let mut owned = g.clone();
        self.apply(&mut owned);
        Some(std::borrow::Cow::Owned(owned))
    }

    /// Transforms `geometry` in place. Coordinates PROJ cannot transform become NaN, which the
    /// validation step then reports with the feature id.
    pub fn apply(&self, geometry: &mut geo::Geometry<f64>) {
        let Some(proj) = &self.proj else { return };
        geometry.map_coords_in_place(|c| match proj.convert((c.x, c.y)) {
            Ok((x, y)) => Coord { x, y },
            Err(_) => Coord { x: f64::NAN, y: f64::NAN },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{coord, Rect};

    #[test]
    fn geographic_target_is_refused() {
        let e = AnalysisCrs::from_definition("EPSG:4326").unwrap_err().to_string();
        assert!(e.contains("not a projected CRS"), "{e}");
        assert!(AnalysisCrs::from_definition("EPSG:99999999").is_err());
    }

    #[test]
    fn default_is_equal_area_centred_on_the_data() {
        let rect = Rect::new(coord! { x: 100.0, y: 42.0 }, coord! { x: 112.0, y: 50.0 });
        let crs = AnalysisCrs::choose(&CrsOptions::default(), &[(Some("EPSG:4326"), rect)]).unwrap();
        assert!(crs.definition.contains("+proj=laea +lat_0=46 +lon_0=106"), "{}", crs.definition);
    }

    #[test]
    fn layer_without_crs_needs_assume() {
        let rect = Rect::new(coord! { x: 0.0, y: 0.0 }, coord! { x: 1.0, y: 1.0 });
        assert!(AnalysisCrs::choose(&CrsOptions::default(), &[(None, rect)]).is_err());
        let opts = CrsOptions { target: None, assume: Some("EPSG:4326".into()) };
        assert!(AnalysisCrs::choose(&opts, &[(None, rect)]).is_ok());
    }

    #[test]
    fn same_crs_is_not_transformed_and_lonlat_is() {
        let utm = AnalysisCrs::from_definition("EPSG:32648").unwrap();
        assert!(Reprojector::new(&utm.wkt, &utm, "t").unwrap().is_identity());
        let r = Reprojector::new("EPSG:4326", &utm, "t").unwrap();
        let mut g = geo::Geometry::Point(geo::Point::new(105.0, 0.0));
        r.apply(&mut g);
        let geo::Geometry::Point(p) = g else { panic!() };
        assert!((p.x() - 500_000.0).abs() < 1e-6 && p.y().abs() < 1e-6, "{p:?}");
    }
}
