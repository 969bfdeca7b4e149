//! The project file: one TOML describing a study once — area, layers, species, analyses and
//! scenarios. Paths are relative to the project file.
//!
//! ```
//! let text = r#"
//! [study]
//! name = "demo"
//! crs = "EPSG:32648"
//! cell_m = 1000
//! [barriers.roads]
//! path = "roads.gpkg"
//! [[ranges]]
//! path = "ranges.gpkg"
//! [species]
//! names = ["khulan"]
//! [[scenarios]]
//! name = "baseline"
//! "#;
//! let project: kulan_project::Project = toml::from_str(text).unwrap();
//! assert_eq!(project.study.cell_m, 1000.0);
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use kulan_io::vector::{BarrierLayerSpec, RangeLayerSpec};
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The whole project file.
#[derive(Debug, Clone, Deserialize)]
pub struct Project {
    pub study: Study,
    /// Barrier layers by name (the names scenarios refer to).
    #[serde(default)]
    pub barriers: BTreeMap<String, Spanned<BarrierLayerSpec>>,
    #[serde(default)]
    pub ranges: Vec<Spanned<RangeLayerSpec>>,
    pub species: Species,
    pub cores: Option<Cores>,
    pub tracks: Option<Tracks>,
    #[serde(default)]
    pub analyses: Analyses,
    #[serde(default)]
    pub scenarios: Vec<Scenario>,
}

/// Study area, analysis CRS and grid.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Study {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Analysis CRS (EPSG code, PROJ string or WKT): projected, metres.
    pub crs: Spanned<String>,
    /// CRS of layers that declare none.
    pub assume_crs: Option<Spanned<String>>,
    /// Raster cell size in metres.
    pub cell_m: f64,
    /// Grid extent in the analysis CRS; default: the ranges' extent plus two cells.
    pub extent: Option<Spanned<[f64; 4]>>,
    /// `repair`, `skip` or `fail`.
    #[serde(default = "default_on_invalid")]
    pub on_invalid: Spanned<String>,
}

fn default_on_invalid() -> Spanned<String> {
    Spanned::new(0..0, "repair".into())
}

/// Species and the permeability model.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Species {
    pub names: Spanned<Vec<String>>,
    /// A permeability model TOML; default: Kulan's built-in model.
    pub model: Option<Spanned<PathBuf>>,
}

/// Core areas for corridors and circuit theory: polygons or points with whole-number ids.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Cores {
    pub path: Spanned<PathBuf>,
    pub layer: Option<String>,
    pub id_field: Option<String>,
}

/// GPS fixes for the barrier-crossing analysis (BaBA): a CSV (Movebank column names by default)
/// or any OGR point layer.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Tracks {
    pub path: Spanned<PathBuf>,
    pub layer: Option<String>,
    /// The animal id (default: Movebank's `individual-local-identifier`).
    pub id_field: Option<String>,
    /// The timestamp: ISO 8601 or epoch seconds (default: `timestamp`).
    pub time_field: Option<String>,
    /// CSV only: coordinate columns (default: Movebank's `location-long`, `location-lat`).
    pub x_field: Option<String>,
    pub y_field: Option<String>,
    /// CRS of the coordinates (default: the layer's own; EPSG:4326 for Movebank columns).
    pub crs: Option<Spanned<String>>,
}

/// Which analyses run, with their options. A missing table leaves the analysis out.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Analyses {
    pub intersect: Option<IntersectOptions>,
    pub fragment: Option<FragmentOptions>,
    pub resistance: Option<ResistanceOptions>,
    pub corridors: Option<CorridorOptions>,
    pub circuit: Option<CircuitOptions>,
    pub crossings: Option<CrossingsOptions>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct IntersectOptions {}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FragmentOptions {
    /// Reporting units: `ranges` (the range layers), a square grid `grid_km`, or `layer`: the
    /// polygons of `units_layer` (countries, provinces, management areas).
    #[serde(default = "default_units")]
    pub units: Spanned<String>,
    pub grid_km: Option<f64>,
    pub units_layer: Option<UnitsLayer>,
    /// `default`, `all`, or a rules TOML (see `kulan_fragment::rules`).
    #[serde(default = "default_cuts")]
    pub cuts: Spanned<String>,
    /// `cbc` or `cut`.
    #[serde(default = "default_procedure")]
    pub procedure: Spanned<String>,
    #[serde(default)]
    pub min_patch_area_m2: f64,
}

/// A polygon layer of reporting units, e.g. `{ path = "countries.gpkg", id_field = "NAME" }`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct UnitsLayer {
    pub path: Spanned<PathBuf>,
    pub layer: Option<String>,
    /// The field naming each unit (default: `id` when present, else the feature id).
    pub id_field: Option<String>,
}

fn default_units() -> Spanned<String> {
    Spanned::new(0..0, "ranges".into())
}
fn default_cuts() -> Spanned<String> {
    Spanned::new(0..0, "default".into())
}
fn default_procedure() -> Spanned<String> {
    Spanned::new(0..0, "cbc".into())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ResistanceOptions {
    /// Metres of detour per failed crossing attempt (default: the model's).
    pub encounter_cost_m: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CorridorOptions {
    /// Truncate the corridor mosaic at this cost width.
    pub truncate: Option<f64>,
    #[serde(default = "eight")]
    pub neighbours: Spanned<u32>,
}

fn eight() -> Spanned<u32> {
    Spanned::new(0..0, 8)
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CircuitOptions {
    #[serde(default = "eight")]
    pub neighbours: Spanned<u32>,
    /// `avg-cond` or `avg-res`.
    #[serde(default = "default_scheme")]
    pub scheme: Spanned<String>,
}

fn default_scheme() -> Spanned<String> {
    Spanned::new(0..0, "avg-cond".into())
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CrossingsOptions {
    /// BaBA's d: a fix within this many metres of a barrier is an encounter.
    pub buffer_m: Spanned<f64>,
    /// Longest short encounter (Bounce / Quick_Cross), hours.
    #[serde(default = "default_b_time")]
    pub b_time_h: f64,
    /// Encounters longer than this are Trapped, hours.
    #[serde(default = "default_p_time")]
    pub p_time_h: f64,
    /// Window around an event for the animal's usual straightness, hours.
    #[serde(default = "default_w")]
    pub w_h: f64,
    /// Gaps inside an encounter up to this many hours are bridged.
    #[serde(default)]
    pub tolerance_h: f64,
    /// Crossings allowed in a Back_n_forth or Trace event.
    #[serde(default)]
    pub max_cross: usize,
    #[serde(default = "default_sd")]
    pub sd_multiplier: f64,
    /// Fix interval in hours (default: the most frequent one).
    pub interval_h: Option<f64>,
    /// BaRanking: features with fewer encounters get no index.
    #[serde(default)]
    pub min_total_enc: usize,
    /// Steps faster than this are reported as impossible; 0 turns the check off.
    #[serde(default = "default_max_speed")]
    pub max_speed_ms: f64,
}

fn default_b_time() -> f64 {
    4.0
}
fn default_p_time() -> f64 {
    36.0
}
fn default_w() -> f64 {
    168.0
}
fn default_sd() -> f64 {
    1.0
}
fn default_max_speed() -> f64 {
    30.0
}

/// A named variant of the study. The first scenario is the baseline the others are compared with.
#[derive(Debug, Clone, Deserialize)]
pub struct Scenario {
    pub name: Spanned<String>,
    #[serde(default)]
    pub title: String,
    /// Barrier layers added (their planned features count as built).
    #[serde(default)]
    pub add_barriers: Vec<Spanned<BarrierLayerSpec>>,
    /// Names of `[barriers.NAME]` layers left out.
    #[serde(default)]
    pub remove_barriers: Vec<Spanned<String>>,
    /// Crossing structures and fence openings (points with a `type` field and `width_m`).
    #[serde(default)]
    pub crossings: Vec<CrossingLayer>,
    /// Crossing structures placed at a regular spacing along barriers of one kind.
    #[serde(default)]
    pub crossings_along: Vec<CrossingsAlong>,
}

/// A layer of crossing structures.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CrossingLayer {
    pub path: Spanned<PathBuf>,
    pub layer: Option<String>,
    /// The openings remove the barrier over their width from the fragmentation geometry
    /// (a fence gap); false for structures that leave the barrier standing (lowered strands).
    #[serde(default)]
    pub break_cuts: bool,
}

/// A crossing every `spacing_m` along each barrier of `kind`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CrossingsAlong {
    pub kind: Spanned<String>,
    pub spacing_m: f64,
    /// The crossing type the permeability model classifies (e.g. `lowered_strands`).
    #[serde(rename = "type")]
    pub crossing_type: String,
    pub width_m: Option<f64>,
    #[serde(default)]
    pub break_cuts: bool,
}

/// Keys each table may hold, for the unknown-field check (`None` = any key: a map of names).
pub(crate) fn known_keys(path: &[&str]) -> Option<&'static [&'static str]> {
    const BARRIER: &[&str] = &["path", "layer", "kind", "status", "fields", "kind_values", "keep_unknown_kind"];
    const FIELDS: &[&str] = &[
        "id", "kind", "height_m", "bottom_wire_cm", "wire_count", "barbed", "fenced", "traffic_aadt", "tracks",
        "electrified", "tunnel_or_bridge", "status", "name", "source",
    ];
    Some(match path {
        [] => &["study", "barriers", "ranges", "species", "cores", "tracks", "analyses", "scenarios"],
        ["study"] => &["name", "description", "crs", "assume_crs", "cell_m", "extent", "on_invalid"],
        ["barriers"] => return None,
        ["barriers", _] | ["scenarios", "add_barriers"] => BARRIER,
        ["barriers", _, "fields"] | ["scenarios", "add_barriers", "fields"] => FIELDS,
        ["barriers", _, "kind_values"] | ["scenarios", "add_barriers", "kind_values"] => return None,
        ["ranges"] => &["path", "layer", "id_field", "species_field", "season_field"],
        ["species"] => &["names", "model"],
        ["cores"] => &["path", "layer", "id_field"],
        ["tracks"] => &["path", "layer", "id_field", "time_field", "x_field", "y_field", "crs"],
        ["analyses"] => &["intersect", "fragment", "resistance", "corridors", "circuit", "crossings"],
        ["analyses", "intersect"] => &[],
        ["analyses", "crossings"] => &[
            "buffer_m", "b_time_h", "p_time_h", "w_h", "tolerance_h", "max_cross", "sd_multiplier", "interval_h",
            "min_total_enc", "max_speed_ms",
        ],
        ["analyses", "fragment"] => &["units", "grid_km", "units_layer", "cuts", "procedure", "min_patch_area_m2"],
        ["analyses", "fragment", "units_layer"] => &["path", "layer", "id_field"],
        ["analyses", "resistance"] => &["encounter_cost_m"],
        ["analyses", "corridors"] => &["truncate", "neighbours"],
        ["analyses", "circuit"] => &["neighbours", "scheme"],
        ["scenarios"] => &["name", "title", "add_barriers", "remove_barriers", "crossings", "crossings_along"],
        ["scenarios", "crossings"] => &["path", "layer", "break_cuts"],
        ["scenarios", "crossings_along"] => &["kind", "spacing_m", "type", "width_m", "break_cuts"],
        _ => return None,
    })
}
