//! Turning raw OGR features into Kulan barriers and ranges: field mapping, OSM tags, geometry
//! checks, reprojection, and a report of everything that was repaired or left out.

use std::collections::BTreeSet;

use kulan_core::geometry::{clean_lines, clean_polygons, Checked, OnInvalid, Problem};
use kulan_core::{Barrier, BarrierAttrs, BarrierKind, BarrierStatus, FeatureId, Range};
use rayon::prelude::*;

use super::read::{AttrValue, RawFeature, RawLayer};
use super::spec::{BarrierLayerSpec, RangeLayerSpec};
use crate::crs::Reprojector;
use crate::error::IoError;

/// What happened to the features of one layer.
#[derive(Debug, Clone, Default)]
pub struct LayerReport {
    pub layer: String,
    pub read: usize,
    pub kept: usize,
    /// Features whose geometry was repaired, with what was wrong.
    pub repaired: Vec<(FeatureId, Problem)>,
    /// Features left out because their geometry was unusable (or `--on-invalid skip`).
    pub skipped: Vec<(FeatureId, Problem)>,
    /// Features that are not barriers at all (OSM lines without a barrier, railway or highway tag).
    pub not_barriers: usize,
}

impl LayerReport {
    /// One line for the terminal, naming up to five ids per category.
    pub fn summary(&self) -> String {
        let ids = |v: &[(FeatureId, Problem)]| {
            let mut s: Vec<String> = v.iter().take(5).map(|(id, p)| format!("{id} ({p})")).collect();
            if v.len() > 5 {
                s.push(format!("and {} more", v.len() - 5));
            }
            s.join(", ")
        };
        let mut line = format!("{}: {} features read, {} used", self.layer, self.read, self.kept);
        if self.not_barriers > 0 {
            line += &format!(", {} not barriers (no barrier/railway/highway tag)", self.not_barriers);
        }
        if !self.repaired.is_empty() {
            line += &format!("; repaired {}: {}", self.repaired.len(), ids(&self.repaired));
        }
        if !self.skipped.is_empty() {
            line += &format!("; skipped {}: {}", self.skipped.len(), ids(&self.skipped));
        }
        line
    }
}

/// Looks fields up by our name, the user's mapping, or OSM's tags.
struct FieldLookup<'a> {
    layer: &'a RawLayer,
}

impl<'a> FieldLookup<'a> {
    /// The field index for `mapped` (must exist) or, when unmapped, for `default_name` (optional).
    fn resolve(&self, mapped: &Option<String>, default_name: &str) -> Result<Option<usize>, IoError> {
        match mapped {
            Some(name) => self.layer.field_index(name).map(Some).ok_or_else(|| {
                IoError::Input(format!(
                    "{}: no field named '{name}'; the fields are: {}",
                    self.layer.label(),
                    self.layer.fields.join(", ")
                ))
            }),
            None => Ok(self.layer.field_index(default_name)),
        }
    }
}

struct BarrierColumns {
    id: Option<usize>,
    kind: Option<usize>,
    height_m: Option<usize>,
    bottom_wire_cm: Option<usize>,
    wire_count: Option<usize>,
    barbed: Option<usize>,
    fenced: Option<usize>,
    traffic_aadt: Option<usize>,
    tracks: Option<usize>,
    electrified: Option<usize>,
    tunnel_or_bridge: Option<usize>,
    status: Option<usize>,
    name: Option<usize>,
    source: Option<usize>,
    osm_barrier: Option<usize>,
    osm_railway: Option<usize>,
    osm_highway: Option<usize>,
    osm_other_tags: Option<usize>,
}

impl BarrierColumns {
    fn resolve(layer: &RawLayer, spec: &BarrierLayerSpec) -> Result<Self, IoError> {
        let l = FieldLookup { layer };
        let f = &spec.fields;
        Ok(BarrierColumns {
            id: l.resolve(&f.id, "id")?,
            kind: l.resolve(&f.kind, "kind")?,
            height_m: l.resolve(&f.height_m, "height_m")?,
            bottom_wire_cm: l.resolve(&f.bottom_wire_cm, "bottom_wire_cm")?,
            wire_count: l.resolve(&f.wire_count, "wire_count")?,
            barbed: l.resolve(&f.barbed, "barbed")?,
            fenced: l.resolve(&f.fenced, "fenced")?,
            traffic_aadt: l.resolve(&f.traffic_aadt, "traffic_aadt")?,
            tracks: l.resolve(&f.tracks, "tracks")?,
            electrified: l.resolve(&f.electrified, "electrified")?,
            tunnel_or_bridge: l.resolve(&f.tunnel_or_bridge, "tunnel_or_bridge")?,
            status: l.resolve(&f.status, "status")?,
            name: l.resolve(&f.name, "name")?,
            source: l.resolve(&f.source, "source")?,
            osm_barrier: layer.field_index("barrier"),
            osm_railway: layer.field_index("railway"),
            osm_highway: layer.field_index("highway"),
            osm_other_tags: layer.field_index("other_tags"),
        })
    }

    fn is_osm(&self) -> bool {
        self.osm_barrier.is_some() || self.osm_railway.is_some() || self.osm_highway.is_some()
    }
}

/// The id of a feature: the id field's value, or the OGR feature id.
fn feature_id(layer: &RawLayer, f: &RawFeature, col: Option<usize>) -> FeatureId {
    match col.and_then(|c| layer.value(f, c)) {
        Some(AttrValue::Int(n)) => FeatureId::Int(*n),
        Some(AttrValue::Real(x)) if x.fract() == 0.0 && x.abs() < 9e15 => FeatureId::Int(*x as i64),
        Some(v) => FeatureId::parse(&v.as_text()),
        None => FeatureId::Int(f.fid as i64),
    }
}

/// Reads `key` from an OSM `other_tags` hstore string (`"k"=>"v","k2"=>"v2"`).
fn osm_tag(other_tags: &str, key: &str) -> Option<String> {
    let needle = format!("\"{key}\"=>\"");
    let start = other_tags.find(&needle)? + needle.len();
    let rest = &other_tags[start..];
    Some(rest[..rest.find('"')?].to_string())
}

fn osm_kind(barrier: Option<&str>, railway: Option<&str>, highway: Option<&str>) -> Option<BarrierKind> {
    if matches!(barrier, Some("fence" | "wall" | "wire_fence" | "city_wall")) {
        return Some(BarrierKind::Fence);
    }
    if matches!(railway, Some("rail" | "narrow_gauge" | "light_rail" | "preserved")) {
        return Some(BarrierKind::Railway);
    }
    highway.filter(|h| !h.is_empty()).map(|_| BarrierKind::Road)
}

fn number(layer: &RawLayer, f: &RawFeature, col: Option<usize>, id: &FeatureId) -> Result<Option<f64>, IoError> {
    let Some(v) = col.and_then(|c| layer.value(f, c)) else { return Ok(None) };
    if let AttrValue::Text(s) = v {
        if s.trim().is_empty() {
            return Ok(None);
        }
    }
    match v.as_f64() {
        Some(x) if x.is_finite() => Ok(Some(x)),
        _ => Err(IoError::Input(format!(
            "{}: feature {id}: field '{}' holds '{}', which is not a number; fix the value or map another field",
            layer.label(),
            layer.fields[col.unwrap()],
            v.as_text()
        ))),
    }
}

fn flag(layer: &RawLayer, f: &RawFeature, col: Option<usize>) -> Option<bool> {
    col.and_then(|c| layer.value(f, c)).and_then(AttrValue::as_bool)
}

fn text(layer: &RawLayer, f: &RawFeature, col: Option<usize>) -> Option<String> {
    col.and_then(|c| layer.value(f, c)).map(AttrValue::as_text).filter(|s| !s.is_empty())
}

/// Converts a raw layer into barriers in the analysis CRS.
pub fn barriers_from_layer(
    layer: &RawLayer,
    spec: &BarrierLayerSpec,
    reproject: &Reprojector,
    on_invalid: OnInvalid,
) -> Result<(Vec<Barrier>, LayerReport), IoError> {
    let cols = BarrierColumns::resolve(layer, spec)?;
    // Features with no kind information are 'other' in plain layers and not barriers in OSM
    // layers; a kind field holding values we cannot read is an error unless the user allows it.
    let keep_unknown = spec.keep_unknown_kind.unwrap_or(!cols.is_osm());
    let allow_unknown_values = spec.keep_unknown_kind == Some(true);
    let mut report = LayerReport { layer: layer.label(), read: layer.features.len(), ..Default::default() };
    let mut unknown_kinds = BTreeSet::new();
    let mut out = Vec::with_capacity(layer.features.len());
    let mut geometries = check_geometries(layer, reproject, clean_lines)?.into_iter();
    for f in &layer.features {
        let checked = geometries.next().expect("one per feature");
        let id = feature_id(layer, f, cols.id);
        let other_tags = text(layer, f, cols.osm_other_tags).unwrap_or_default();
        let tag = |col: Option<usize>, key: &str| text(layer, f, col).or_else(|| osm_tag(&other_tags, key));
        let kind = match (spec.kind, text(layer, f, cols.kind)) {
            (Some(k), _) => Some(k),
            (None, Some(value)) => {
                let mapped = spec.kind_values.iter().find(|(k, _)| k.eq_ignore_ascii_case(&value)).map(|(_, v)| *v);
                match mapped.or_else(|| value.parse().ok()) {
                    Some(k) => Some(k),
                    None if allow_unknown_values => Some(BarrierKind::Other),
                    None => {
                        unknown_kinds.insert(value);
                        continue;
                    }
                }
            }
            (None, None) => osm_kind(
                tag(cols.osm_barrier, "barrier").as_deref(),
                tag(cols.osm_railway, "railway").as_deref(),
                tag(cols.osm_highway, "highway").as_deref(),
            ),
        };
        let Some(kind) = kind.or(keep_unknown.then_some(BarrierKind::Other)) else {
            report.not_barriers += 1;
            continue;
        };
        let status = match (spec.status, text(layer, f, cols.status)) {
            (Some(s), _) => s,
            (None, Some(v)) => v.parse().map_err(|e| IoError::Input(format!("{}: feature {id}: {e}", layer.label())))?,
            (None, None) => BarrierStatus::Existing,
        };
        let attrs = BarrierAttrs {
            kind: Some(kind),
            height_m: number(layer, f, cols.height_m, &id)?,
            bottom_wire_cm: number(layer, f, cols.bottom_wire_cm, &id)?,
            wire_count: number(layer, f, cols.wire_count, &id)?.map(|x| x as u32),
            barbed: flag(layer, f, cols.barbed),
            fenced: flag(layer, f, cols.fenced),
            traffic_aadt: number(layer, f, cols.traffic_aadt, &id)?,
            tracks: number(layer, f, cols.tracks, &id)?
                .or_else(|| osm_tag(&other_tags, "tracks").and_then(|t| t.parse().ok()))
                .map(|x| x as u32),
            electrified: flag(layer, f, cols.electrified)
                .or_else(|| osm_tag(&other_tags, "electrified").map(|v| v != "no")),
            tunnel_or_bridge: flag(layer, f, cols.tunnel_or_bridge).or_else(|| {
                let yes = |k| osm_tag(&other_tags, k).is_some_and(|v| v != "no");
                (cols.is_osm() && (yes("tunnel") || yes("bridge"))).then_some(true)
            }),
            status,
            name: text(layer, f, cols.name),
            source: text(layer, f, cols.source).or_else(|| Some(layer.label())),
        };
        if let Some(geometry) = usable_geometry(checked, &id, on_invalid, &mut report, layer)? {
            out.push(Barrier { id, geometry, attrs });
        }
    }
    if !unknown_kinds.is_empty() {
        let list: Vec<String> = unknown_kinds.into_iter().take(10).map(|v| format!("'{v}'")).collect();
        return Err(IoError::Input(format!(
            "{}: the kind field holds values Kulan does not know: {}; map them with kind_values in a layer \
             spec (e.g. \"Rail line\" = \"railway\"), or pass --keep-unknown-kind to read them as 'other'",
            layer.label(),
            list.join(", ")
        )));
    }
    report.kept = out.len();
    Ok((out, report))
}

/// A feature's geometry reprojected and checked; `None` when it has no geometry.
type CheckedGeometry<G> = Option<Result<Checked<G>, Problem>>;

/// Every feature's geometry reprojected and checked by `clean`, features in parallel.
fn check_geometries<G: Send>(
    layer: &RawLayer,
    reproject: &Reprojector,
    clean: impl Fn(&geo::Geometry<f64>) -> Result<Checked<G>, Problem> + Sync,
) -> Result<Vec<CheckedGeometry<G>>, IoError> {
    if reproject.is_identity() {
        return Ok(layer.features.par_iter().map(|f| f.geometry.as_ref().map(&clean)).collect());
    }
    // PROJ transformers cannot be shared, so each worker makes its own.
    let recipe = reproject.recipe();
    layer
        .features
        .par_iter()
        .with_min_len(256)
        .map_init(
            || recipe.build().ok(),
            |own, f| {
                let own = own.as_ref().ok_or_else(|| IoError::Crs(format!("{}: cannot set up the transformation", layer.label())))?;
                Ok(own.transformed(f.geometry.as_ref()).map(|g| clean(&g)))
            },
        )
        .collect()
}

/// The feature's checked geometry, or `None` when it is left out; repairs and omissions go into
/// the report, and `--on-invalid fail` turns them into an error.
fn usable_geometry<G>(
    checked: CheckedGeometry<G>,
    id: &FeatureId,
    on_invalid: OnInvalid,
    report: &mut LayerReport,
    layer: &RawLayer,
) -> Result<Option<G>, IoError> {
    let Some(checked) = checked else {
        record(report, on_invalid, id.clone(), Problem::Empty, layer)?;
        return Ok(None);
    };
    match checked {
        Ok(checked) => match (checked.problems.into_iter().next(), on_invalid) {
            (None, _) => Ok(Some(checked.geometry)),
            (Some(p), OnInvalid::Repair) => {
                report.repaired.push((id.clone(), p));
                Ok(Some(checked.geometry))
            }
            (Some(p), _) => record(report, on_invalid, id.clone(), p, layer).map(|_| None),
        },
        Err(p) => record(report, on_invalid, id.clone(), p, layer).map(|_| None),
    }
}

/// Notes an unusable feature: skipped (repair/skip) or an error (fail).
fn record(report: &mut LayerReport, on_invalid: OnInvalid, id: FeatureId, p: Problem, layer: &RawLayer) -> Result<(), IoError> {
    if on_invalid == OnInvalid::Fail {
        return Err(IoError::Input(format!(
            "{}: feature {id}: {p}; fix it, or run with --on-invalid repair (or skip)",
            layer.label()
        )));
    }
    report.skipped.push((id, p));
    Ok(())
}

/// Converts a raw polygon layer into ranges (or reporting units) in the analysis CRS.
pub fn ranges_from_layer(
    layer: &RawLayer,
    spec: &RangeLayerSpec,
    reproject: &Reprojector,
    on_invalid: OnInvalid,
) -> Result<(Vec<Range>, LayerReport), IoError> {
    let l = FieldLookup { layer };
    let id_col = l.resolve(&spec.id_field, "id")?;
    let species_col = l.resolve(&spec.species_field, "species")?;
    let season_col = l.resolve(&spec.season_field, "season")?;
    let mut report = LayerReport { layer: layer.label(), read: layer.features.len(), ..Default::default() };
    let mut out = Vec::with_capacity(layer.features.len());
    let mut seen = std::collections::HashSet::new();
    let mut geometries = check_geometries(layer, reproject, clean_polygons)?.into_iter();
    for f in &layer.features {
        let checked = geometries.next().expect("one per feature");
        let id = feature_id(layer, f, id_col);
        if !seen.insert(id.clone()) {
            return Err(IoError::Input(format!(
                "{}: the range id {id} occurs more than once; ids must be unique (choose another id field)",
                layer.label()
            )));
        }
        if let Some(geometry) = usable_geometry(checked, &id, on_invalid, &mut report, layer)? {
            out.push(Range {
                id,
                species: text(layer, f, species_col),
                season: text(layer, f, season_col),
                geometry,
            });
        }
    }
    report.kept = out.len();
    Ok((out, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osm_tags_are_read_from_hstore() {
        let tags = r#""electrified"=>"contact_line","tracks"=>"2","name:en"=>"x""#;
        assert_eq!(osm_tag(tags, "tracks").as_deref(), Some("2"));
        assert_eq!(osm_tag(tags, "bridge"), None);
        assert_eq!(osm_kind(Some("wall"), None, None), Some(BarrierKind::Fence));
        assert_eq!(osm_kind(None, Some("rail"), None), Some(BarrierKind::Railway));
        assert_eq!(osm_kind(None, Some("platform"), None), None);
        assert_eq!(osm_kind(None, None, Some("primary")), Some(BarrierKind::Road));
    }
}
