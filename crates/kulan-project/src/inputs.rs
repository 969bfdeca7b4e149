//! Vector inputs the analyses share beyond barriers and ranges: crossing structures.

use anyhow::{bail, Context};
use kulan_core::FeatureId;
use kulan_io::vector::{read_layer, LayerRef};
use kulan_io::{AnalysisCrs, Reprojector};
use kulan_permeability::{Crossing, CrossingAttrs};

/// Reads crossing layers into the analysis CRS.
pub fn read_crossings(layers: &[LayerRef], crs: &AnalysisCrs, type_field: Option<&str>) -> anyhow::Result<Vec<Crossing>> {
    let mut out = Vec::new();
    for layer in layers {
        let raw = read_layer(layer).context("reading crossings")?;
        let label = raw.label();
        let reproject = match &raw.crs_wkt {
            Some(src) => Some(Reprojector::new(src, crs, &label)?),
            None => bail!("{label}: the layer declares no CRS"),
        };
        let field = |names: &[&str]| names.iter().find_map(|n| raw.field_index(n));
        let type_idx = match type_field {
            Some(f) => Some(raw.field_index(f).with_context(|| format!("{label}: no field '{f}'"))?),
            None => field(&["type", "crossing_type", "kind"]),
        }
        .with_context(|| format!("{label}: no crossing type field (type, crossing_type or kind); name it with --crossing-type-field"))?;
        let (w_idx, h_idx, id_idx) = (field(&["width_m", "width"]), field(&["height_m", "height"]), field(&["id"]));
        for f in &raw.features {
            let Some(mut g) = f.geometry.clone() else { continue };
            if let Some(r) = &reproject {
                r.apply(&mut g);
            }
            let num = |i: Option<usize>| i.and_then(|i| raw.value(f, i)).and_then(|v| v.as_f64());
            let crossing_type = raw.value(f, type_idx).map(|v| v.as_text()).unwrap_or_default();
            let id = id_idx.and_then(|i| raw.value(f, i)).map_or(FeatureId::Int(f.fid as i64), |v| FeatureId::parse(&v.as_text()));
            out.push(Crossing { id, geometry: g, attrs: CrossingAttrs { crossing_type, width_m: num(w_idx), height_m: num(h_idx) } });
        }
    }
    Ok(out)
}
