//! Layer specifications: how a user's fields and values map onto Kulan's barrier and range model.
//!
//! Users' files never use our field names. A spec says which of their fields holds each of our
//! attributes and how their values translate; what it leaves out is filled by defaults: a field
//! that already has our name (`kind`, `height_m`, …), or the OSM tags GDAL's OSM driver exposes
//! (`barrier=fence|wall`, `railway=rail`, `highway=*`).
//!
//! In a TOML file:
//!
//! ```toml
//! [[barriers]]
//! path = "fences.shp"
//! kind = "fence"                 # every feature of this layer is a fence
//! [barriers.fields]
//! id = "FENCE_ID"
//! height_m = "HGT"
//! bottom_wire_cm = "LOWWIRE"
//!
//! [[barriers]]
//! path = "infrastructure.gpkg"
//! layer = "lines"
//! [barriers.fields]
//! kind = "TYPE"
//! traffic_aadt = "AADT"
//! [barriers.kind_values]
//! "Rail line" = "railway"
//! "Highway" = "road"
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use kulan_core::{BarrierKind, BarrierStatus};
use serde::Deserialize;

use super::source::LayerRef;

/// Which user field holds each barrier attribute. Every entry is optional.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BarrierFields {
    pub id: Option<String>,
    pub kind: Option<String>,
    pub height_m: Option<String>,
    pub bottom_wire_cm: Option<String>,
    pub wire_count: Option<String>,
    pub barbed: Option<String>,
    pub fenced: Option<String>,
    pub traffic_aadt: Option<String>,
    pub tracks: Option<String>,
    pub electrified: Option<String>,
    pub tunnel_or_bridge: Option<String>,
    pub status: Option<String>,
    pub name: Option<String>,
    pub source: Option<String>,
}

impl BarrierFields {
    /// Sets one mapping from `ours=theirs` as given on the command line.
    pub fn set(&mut self, ours: &str, theirs: &str) -> Result<(), String> {
        let slot = match ours {
            "id" => &mut self.id,
            "kind" => &mut self.kind,
            "height_m" => &mut self.height_m,
            "bottom_wire_cm" => &mut self.bottom_wire_cm,
            "wire_count" => &mut self.wire_count,
            "barbed" => &mut self.barbed,
            "fenced" => &mut self.fenced,
            "traffic_aadt" => &mut self.traffic_aadt,
            "tracks" => &mut self.tracks,
            "electrified" => &mut self.electrified,
            "tunnel_or_bridge" => &mut self.tunnel_or_bridge,
            "status" => &mut self.status,
            "name" => &mut self.name,
            "source" => &mut self.source,
            other => {
                return Err(format!(
                    "unknown barrier attribute '{other}'; known: id, kind, height_m, bottom_wire_cm, wire_count, \
                     barbed, fenced, traffic_aadt, tracks, electrified, tunnel_or_bridge, status, name, source"
                ))
            }
        };
        *slot = Some(theirs.to_string());
        Ok(())
    }
}

/// How to read one barrier layer.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BarrierLayerSpec {
    pub path: PathBuf,
    pub layer: Option<String>,
    /// The kind of every feature in the layer, when the layer holds one kind only.
    pub kind: Option<BarrierKind>,
    /// The status of every feature, e.g. `planned` for a proposed alignment.
    pub status: Option<BarrierStatus>,
    #[serde(default)]
    pub fields: BarrierFields,
    /// The user's values of the kind field and the kinds they mean (matched case-insensitively).
    #[serde(default)]
    pub kind_values: BTreeMap<String, BarrierKind>,
    /// Features whose kind cannot be told are read as `other` (true) or left out (false, the
    /// default for OSM layers, where most lines are not barriers).
    pub keep_unknown_kind: Option<bool>,
}

impl BarrierLayerSpec {
    /// A spec with nothing but the layer: defaults do the rest.
    pub fn for_layer(layer: &LayerRef) -> Self {
        BarrierLayerSpec { path: layer.path.clone(), layer: layer.layer.clone(), ..Default::default() }
    }

    pub fn layer_ref(&self) -> LayerRef {
        LayerRef { path: self.path.clone(), layer: self.layer.clone() }
    }
}

/// How to read one layer of ranges or reporting units.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RangeLayerSpec {
    pub path: PathBuf,
    pub layer: Option<String>,
    /// The field holding the range id (default: `id` when present, else the feature id).
    pub id_field: Option<String>,
    /// Default: `species` when present.
    pub species_field: Option<String>,
    /// Default: `season` when present.
    pub season_field: Option<String>,
}

impl RangeLayerSpec {
    pub fn for_layer(layer: &LayerRef) -> Self {
        RangeLayerSpec { path: layer.path.clone(), layer: layer.layer.clone(), ..Default::default() }
    }

    pub fn layer_ref(&self) -> LayerRef {
        LayerRef { path: self.path.clone(), layer: self.layer.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_spec_reads_fields_and_values() {
        let text = r#"
            path = "infra.gpkg"
            layer = "lines"
            status = "planned"
            [fields]
            kind = "TYPE"
            traffic_aadt = "AADT"
            [kind_values]
            "Rail line" = "railway"
            Highway = "road"
        "#;
        let spec: BarrierLayerSpec = toml::from_str(text).unwrap();
        assert_eq!(spec.fields.kind.as_deref(), Some("TYPE"));
        assert_eq!(spec.kind_values["Rail line"], BarrierKind::Railway);
        assert_eq!(spec.status, Some(BarrierStatus::Planned));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let e = toml::from_str::<BarrierLayerSpec>("path = 'a'\n[fields]\nheight = 'H'\n").unwrap_err();
        assert!(e.to_string().contains("height"), "{e}");
        let mut f = BarrierFields::default();
        assert!(f.set("aadt", "X").unwrap_err().contains("traffic_aadt"));
        f.set("traffic_aadt", "X").unwrap();
        assert_eq!(f.traffic_aadt.as_deref(), Some("X"));
    }
}
