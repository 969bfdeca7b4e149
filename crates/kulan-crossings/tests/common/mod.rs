//! Shared helpers for the integration tests: locating `../shared`, reading GeoJSON barriers.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use geo::{Coord, LineString, MultiLineString};
use kulan_core::{Barrier, BarrierAttrs, FeatureId};

/// `<repo>/../shared` (or `$KULAN_SHARED`), or `None` with a message when it is not there.
pub fn shared_dir(what: &str) -> Option<PathBuf> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::var_os("KULAN_SHARED").map(PathBuf::from).unwrap_or_else(|| repo.join("../shared"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED {what}: {} not found (set KULAN_SHARED to the shared folder)", dir.display());
        None
    }
}

fn line(v: &[Vec<f64>]) -> LineString<f64> {
    LineString(v.iter().map(|p| Coord { x: p[0], y: p[1] }).collect())
}

/// Reads the (Multi)LineString features of a GeoJSON file as barriers, id from `id_field`.
pub fn read_geojson_barriers(path: &Path, id_field: &str) -> Vec<Barrier> {
    let text = std::fs::read_to_string(path).expect("read geojson");
    let gj: geojson::GeoJson = text.parse().expect("parse geojson");
    let geojson::GeoJson::FeatureCollection(fc) = gj else { panic!("not a FeatureCollection") };
    let mut out = Vec::new();
    for (i, f) in fc.features.into_iter().enumerate() {
        let id = f
            .properties
            .as_ref()
            .and_then(|p| p.get(id_field))
            .map(|v| {
                if let Some(n) = v.as_i64() {
                    FeatureId::Int(n)
                } else if let Some(x) = v.as_f64().filter(|x| x.fract() == 0.0) {
                    FeatureId::Int(x as i64)
                } else {
                    FeatureId::Text(v.to_string().trim_matches('"').to_string())
                }
            })
            .unwrap_or(FeatureId::Int(i as i64 + 1));
        let Some(g) = f.geometry else { continue };
        let ml = match g.value {
            geojson::Value::LineString(v) => MultiLineString(vec![line(&v)]),
            geojson::Value::MultiLineString(vv) => MultiLineString(vv.iter().map(|v| line(v)).collect()),
            _ => continue,
        };
        out.push(Barrier { id, geometry: ml, attrs: BarrierAttrs::default() });
    }
    out
}
