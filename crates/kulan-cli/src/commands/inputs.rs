//! Flags shared by every command that reads barrier and range layers.

use std::path::PathBuf;

use anyhow::Context;
use kulan_core::geometry::OnInvalid;
use kulan_core::BarrierKind;
use kulan_io::vector::{load_barriers_and_ranges, BarrierLayerSpec, LayerRef, Loaded, LoadOptions, RangeLayerSpec};
use kulan_io::CrsOptions;
use serde::Deserialize;

/// How layers are read and brought into one CRS. Flatten into a command's arguments.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct InputArgs {
    /// Analysis CRS (EPSG:xxxx, PROJ string or WKT); default: equal-area centred on the data.
    #[arg(long)]
    pub crs: Option<String>,
    /// CRS of layers that declare none (otherwise such a layer is an error).
    #[arg(long, value_name = "CRS")]
    pub assume_crs: Option<String>,
    /// What to do with invalid geometries: repair, skip or fail. Always reported.
    #[arg(long, default_value = "repair", value_parser = parse_on_invalid)]
    pub on_invalid: OnInvalid,
    /// A TOML file of layer specs ([[barriers]] and [[ranges]] tables mapping your fields to ours).
    #[arg(long, value_name = "TOML")]
    pub layers: Option<PathBuf>,
    /// Kind of every feature in the --barriers layers (fence, border_fence, railway, road, other).
    #[arg(long)]
    pub kind: Option<BarrierKind>,
    /// Map one of our barrier attributes to a field of yours, e.g. --field traffic_aadt=AADT.
    #[arg(long = "field", value_name = "OURS=THEIRS")]
    pub fields: Vec<String>,
    /// Read features whose kind cannot be told as 'other' instead of leaving them out.
    #[arg(long)]
    pub keep_unknown_kind: bool,
    /// Field holding the range id (default: `id` when present, else the feature id).
    #[arg(long, value_name = "FIELD")]
    pub range_id: Option<String>,
    /// Field holding the species name (default: `species` when present).
    #[arg(long, value_name = "FIELD")]
    pub species_field: Option<String>,
    /// Field holding the season (default: `season` when present).
    #[arg(long, value_name = "FIELD")]
    pub season_field: Option<String>,
}

fn parse_on_invalid(s: &str) -> Result<OnInvalid, String> {
    s.parse()
}

/// The TOML layer file: any number of barrier and range layers.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LayerFile {
    #[serde(default)]
    barriers: Vec<BarrierLayerSpec>,
    #[serde(default)]
    ranges: Vec<RangeLayerSpec>,
}

impl InputArgs {
    /// Builds the layer specs from the command-line layers, these flags and the TOML file, then
    /// loads everything into the analysis CRS, printing a line per layer to stderr.
    pub fn load(&self, barriers: &[LayerRef], ranges: &[LayerRef]) -> anyhow::Result<Loaded> {
        let mut barrier_specs = Vec::new();
        for layer in barriers {
            let mut spec = BarrierLayerSpec::for_layer(layer);
            spec.kind = self.kind;
            if self.keep_unknown_kind {
                spec.keep_unknown_kind = Some(true);
            }
            for mapping in &self.fields {
                let (ours, theirs) = mapping
                    .split_once('=')
                    .with_context(|| format!("--field {mapping}: write it as OURS=THEIRS, e.g. traffic_aadt=AADT"))?;
                spec.fields.set(ours.trim(), theirs.trim()).map_err(|e| anyhow::anyhow!("--field {mapping}: {e}"))?;
            }
            barrier_specs.push(spec);
        }
        let mut range_specs: Vec<RangeLayerSpec> = ranges
            .iter()
            .map(|layer| RangeLayerSpec {
                id_field: self.range_id.clone(),
                species_field: self.species_field.clone(),
                season_field: self.season_field.clone(),
                ..RangeLayerSpec::for_layer(layer)
            })
            .collect();
        if let Some(path) = &self.layers {
            let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
            let mut file: LayerFile =
                toml::from_str(&text).with_context(|| format!("{}: not a valid layer file", path.display()))?;
            let base = path.parent().unwrap_or(std::path::Path::new(""));
            for s in &mut file.barriers {
                s.path = base.join(&s.path);
            }
            for s in &mut file.ranges {
                s.path = base.join(&s.path);
            }
            barrier_specs.extend(file.barriers);
            range_specs.extend(file.ranges);
        }
        let options = LoadOptions {
            crs: CrsOptions { target: self.crs.clone(), assume: self.assume_crs.clone() },
            on_invalid: self.on_invalid,
        };
        let loaded = load_barriers_and_ranges(&barrier_specs, &range_specs, &options)?;
        for report in &loaded.reports {
            eprintln!("{}", report.summary());
        }
        Ok(loaded)
    }
}
