//! The species permeability model: per species and barrier class, a per-encounter crossing
//! probability `p`, read from TOML.
//!
//! See `models/default.toml` for the format, with comments; [`Model::default_model`] loads it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use kulan_core::{BarrierAttrs, BarrierKind, BarrierStatus};
use serde::Deserialize;

/// The model Kulan ships, built from the literature table `permeability_defaults.csv`.
pub const DEFAULT_MODEL_TOML: &str = include_str!("../models/default.toml");

/// A problem with a model file, naming the file and the class at fault.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
    #[error("{origin}: cannot read: {source}")]
    Io { origin: String, source: std::io::Error },
    #[error("unknown species '{given}'; the model knows: {known}")]
    UnknownSpecies { given: String, known: String },
}

/// Parameters of the p → resistance transform (see [`crate::transform`]).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResistanceParams {
    /// Resistance of open ground when no land-cover raster is given.
    #[serde(default = "one")]
    pub base: f64,
    /// Detour in metres that one failed crossing attempt costs.
    #[serde(default = "default_encounter_cost")]
    pub encounter_cost_m: f64,
}

fn one() -> f64 {
    1.0
}

fn default_encounter_cost() -> f64 {
    1000.0
}

impl Default for ResistanceParams {
    fn default() -> Self {
        ResistanceParams { base: 1.0, encounter_cost_m: 1000.0 }
    }
}

/// A species the model has values for.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SpeciesInfo {
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub scientific: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// A yes/no attribute condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriState {
    Yes,
    No,
    Unknown,
    YesOrUnknown,
    NoOrUnknown,
    Any,
}

impl TriState {
    fn matches(self, v: Option<bool>) -> bool {
        matches!(
            (self, v),
            (TriState::Any, _)
                | (TriState::Yes | TriState::YesOrUnknown, Some(true))
                | (TriState::No | TriState::NoOrUnknown, Some(false))
                | (TriState::Unknown | TriState::YesOrUnknown | TriState::NoOrUnknown, None)
        )
    }

    fn describe(self, name: &str) -> String {
        match self {
            TriState::Yes => name.to_string(),
            TriState::No => format!("not {name}"),
            TriState::Unknown => format!("{name} unknown"),
            TriState::YesOrUnknown => format!("{name} or unknown"),
            TriState::NoOrUnknown => format!("not {name} or unknown"),
            TriState::Any => String::new(),
        }
    }
}

impl<'de> Deserialize<'de> for TriState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            B(bool),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::B(true) => Ok(TriState::Yes),
            Raw::B(false) => Ok(TriState::No),
            Raw::S(s) => match s.trim().to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
                "yes" | "true" => Ok(TriState::Yes),
                "no" | "false" => Ok(TriState::No),
                "unknown" => Ok(TriState::Unknown),
                "yes_or_unknown" => Ok(TriState::YesOrUnknown),
                "no_or_unknown" => Ok(TriState::NoOrUnknown),
                "any" => Ok(TriState::Any),
                other => Err(serde::de::Error::custom(format!(
                    "'{other}' is not a yes/no condition; use true, false, \"unknown\", \"yes_or_unknown\", \"no_or_unknown\" or \"any\""
                ))),
            },
        }
    }
}

/// What a numeric condition does with a feature that lacks the attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownRule {
    /// Features without the value fail the condition.
    #[default]
    No,
    /// Features without the value pass.
    Match,
    /// Only features without the value pass.
    Only,
}

/// A numeric range condition: `min` and `max` inclusive, `below` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub below: Option<f64>,
    #[serde(default)]
    pub unknown: UnknownRule,
}

impl Range {
    fn matches(&self, v: Option<f64>) -> bool {
        match v {
            None => self.unknown != UnknownRule::No,
            Some(_) if self.unknown == UnknownRule::Only => false,
            Some(x) => {
                self.min.map_or(true, |m| x >= m) && self.max.map_or(true, |m| x <= m) && self.below.map_or(true, |b| x < b)
            }
        }
    }

    fn describe(&self, name: &str) -> String {
        if self.unknown == UnknownRule::Only {
            return format!("{name} unknown");
        }
        let mut parts = Vec::new();
        if let Some(m) = self.min {
            parts.push(format!("{name} >= {m}"));
        }
        if let Some(m) = self.max {
            parts.push(format!("{name} <= {m}"));
        }
        if let Some(b) = self.below {
            parts.push(format!("{name} < {b}"));
        }
        let mut s = parts.join(", ");
        if self.unknown == UnknownRule::Match {
            s.push_str(" (or unknown)");
        }
        s
    }
}

/// One value or a list of values.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn values(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![norm(s)],
            OneOrMany::Many(v) => v.iter().map(|s| norm(s)).collect(),
        }
    }
}

/// Lower-case, with spaces and hyphens as underscores: how names are compared.
pub fn norm(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace(['-', ' '], "_")
}

/// The conditions of a class; all given ones must hold.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    pub kind: Option<OneOrMany>,
    pub status: Option<OneOrMany>,
    pub fenced: Option<TriState>,
    pub barbed: Option<TriState>,
    pub electrified: Option<TriState>,
    pub tunnel_or_bridge: Option<TriState>,
    pub height_m: Option<Range>,
    pub bottom_wire_cm: Option<Range>,
    pub wire_count: Option<Range>,
    pub traffic_aadt: Option<Range>,
    pub tracks: Option<Range>,
    /// Crossings only: the structure's type.
    #[serde(rename = "type")]
    pub crossing_type: Option<OneOrMany>,
    /// Crossings only.
    pub width_m: Option<Range>,
}

impl When {
    /// True when every condition holds for a barrier.
    pub fn matches_barrier(&self, a: &BarrierAttrs) -> bool {
        let kind = a.kind.unwrap_or(BarrierKind::Other);
        self.kind.as_ref().map_or(true, |k| k.values().iter().any(|v| v == kind.as_str()))
            && self.status.as_ref().map_or(true, |s| s.values().iter().any(|v| v == a.status.as_str()))
            && self.fenced.map_or(true, |t| t.matches(a.fenced))
            && self.barbed.map_or(true, |t| t.matches(a.barbed))
            && self.electrified.map_or(true, |t| t.matches(a.electrified))
            && self.tunnel_or_bridge.map_or(true, |t| t.matches(a.tunnel_or_bridge))
            && self.height_m.map_or(true, |r| r.matches(a.height_m))
            && self.bottom_wire_cm.map_or(true, |r| r.matches(a.bottom_wire_cm))
            && self.wire_count.map_or(true, |r| r.matches(a.wire_count.map(f64::from)))
            && self.traffic_aadt.map_or(true, |r| r.matches(a.traffic_aadt))
            && self.tracks.map_or(true, |r| r.matches(a.tracks.map(f64::from)))
    }

    /// True when every condition holds for a crossing structure.
    pub fn matches_crossing(&self, c: &CrossingAttrs) -> bool {
        let t = norm(&c.crossing_type);
        self.crossing_type.as_ref().map_or(true, |k| k.values().contains(&t))
            && self.width_m.map_or(true, |r| r.matches(c.width_m))
            && self.height_m.map_or(true, |r| r.matches(c.height_m))
    }

    /// The conditions as a short readable text.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let list = |v: &OneOrMany| v.values().join("|");
        if let Some(k) = &self.kind {
            parts.push(list(k));
        }
        if let Some(t) = &self.crossing_type {
            parts.push(format!("type {}", list(t)));
        }
        if let Some(s) = &self.status {
            parts.push(format!("status {}", list(s)));
        }
        for (name, t) in [
            ("fenced", self.fenced),
            ("barbed", self.barbed),
            ("electrified", self.electrified),
            ("tunnel/bridge", self.tunnel_or_bridge),
        ] {
            if let Some(t) = t {
                parts.push(t.describe(name));
            }
        }
        for (name, r) in [
            ("height_m", self.height_m),
            ("bottom_wire_cm", self.bottom_wire_cm),
            ("wire_count", self.wire_count),
            ("AADT", self.traffic_aadt),
            ("tracks", self.tracks),
            ("width_m", self.width_m),
        ] {
            if let Some(r) = r {
                parts.push(r.describe(name));
            }
        }
        if parts.is_empty() {
            "anything".into()
        } else {
            parts.join(", ")
        }
    }
}

/// A barrier class or crossing class: a rule and its per-species p, with its evidence.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Class {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub when: When,
    /// Per-species crossing probability; empty when `same_as` is given.
    #[serde(default)]
    pub p: BTreeMap<String, f64>,
    /// Take p (and evidence, confidence, citation when not given) from another class.
    #[serde(default)]
    pub same_as: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub meaning: Option<String>,
    #[serde(default)]
    pub evidence: Option<String>,
    #[serde(default)]
    pub confidence: Option<String>,
    #[serde(default)]
    pub citation: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A land-cover class and its base resistance (per species, or one value for all).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LandcoverClass {
    pub code: i64,
    #[serde(default)]
    pub name: Option<String>,
    pub resistance: LandcoverResistance,
}

/// One resistance for every species, or a table per species. `"impassable"` (or a species
/// missing from the table with no `default`) makes the class NoData.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum LandcoverResistance {
    All(f64),
    Text(String),
    PerSpecies(BTreeMap<String, toml::Value>),
}

/// The attributes of a crossing structure or fence gap.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CrossingAttrs {
    /// `underpass`, `fence_gap`, `lowered_strands`, ... (compared lower-case, `-`/space as `_`).
    pub crossing_type: String,
    pub width_m: Option<f64>,
    pub height_m: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    format: Option<String>,
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    resistance: ResistanceParams,
    #[serde(default)]
    species: BTreeMap<String, SpeciesInfo>,
    #[serde(default)]
    barrier: Vec<Class>,
    #[serde(default)]
    crossing: Vec<Class>,
    #[serde(default)]
    landcover: Vec<LandcoverClass>,
}

/// A validated permeability model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub name: String,
    pub description: Option<String>,
    /// Where it came from (a path, or "built-in default").
    pub origin: String,
    pub resistance: ResistanceParams,
    pub species: BTreeMap<String, SpeciesInfo>,
    pub barrier_classes: Vec<Class>,
    pub crossing_classes: Vec<Class>,
    pub landcover: Vec<LandcoverClass>,
}

impl Model {
    /// The model Kulan ships (see [`DEFAULT_MODEL_TOML`]).
    pub fn default_model() -> Model {
        Model::from_toml_str(DEFAULT_MODEL_TOML, "built-in default model").expect("the built-in model is valid")
    }

    /// Reads a model file.
    pub fn from_path(path: &Path) -> Result<Model, ModelError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io { origin: origin.clone(), source })?;
        Model::from_toml_str(&text, &origin)
    }

    /// Parses and validates a model; `origin` names it in messages.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Model, ModelError> {
        let invalid = |message: String| ModelError::Invalid { origin: origin.to_string(), message };
        let raw: RawModel = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if let Some(f) = &raw.format {
            if !f.starts_with("kulan-permeability/") {
                return Err(invalid(format!("format '{f}' is not a Kulan permeability model (expected kulan-permeability/1)")));
            }
        }
        let r = raw.resistance;
        if !(r.base > 0.0 && r.base.is_finite()) {
            return Err(invalid(format!("[resistance] base must be a positive number, got {}", r.base)));
        }
        if !(r.encounter_cost_m >= 0.0 && r.encounter_cost_m.is_finite()) {
            return Err(invalid(format!(
                "[resistance] encounter_cost_m must be zero or positive, got {}",
                r.encounter_cost_m
            )));
        }
        if raw.species.is_empty() {
            return Err(invalid("the model names no species; add [species.NAME] tables".into()));
        }
        let species: BTreeMap<String, SpeciesInfo> =
            raw.species.into_iter().map(|(k, v)| (norm(&k), v)).collect();
        let mut model = Model {
            name: raw.name.unwrap_or_else(|| origin.to_string()),
            description: raw.description,
            origin: origin.to_string(),
            resistance: r,
            species,
            barrier_classes: raw.barrier,
            crossing_classes: raw.crossing,
            landcover: raw.landcover,
        };
        for kind in ["barrier", "crossing"] {
            model.resolve_classes(kind).map_err(invalid)?;
        }
        model.check_landcover().map_err(invalid)?;
        Ok(model)
    }

    /// Fills `same_as` references and checks every class has a valid p for every species.
    fn resolve_classes(&mut self, kind: &str) -> Result<(), String> {
        let species: Vec<String> = self.species.keys().cloned().collect();
        let classes = if kind == "barrier" { &mut self.barrier_classes } else { &mut self.crossing_classes };
        let mut seen = std::collections::HashSet::new();
        for c in classes.iter() {
            if !seen.insert(c.id.clone()) {
                return Err(format!("two {kind} classes have the id '{}'", c.id));
            }
            if kind == "barrier" && (c.when.crossing_type.is_some() || c.when.width_m.is_some()) {
                return Err(format!("barrier class '{}': `type` and `width_m` are conditions for crossing classes", c.id));
            }
        }
        let snapshot = classes.clone();
        for c in classes.iter_mut() {
            if let Some(target) = &c.same_as {
                let t = snapshot
                    .iter()
                    .find(|o| &o.id == target)
                    .ok_or_else(|| format!("{kind} class '{}': same_as '{target}' names no {kind} class", c.id))?;
                if t.same_as.is_some() {
                    return Err(format!("{kind} class '{}': same_as '{target}', which itself uses same_as", c.id));
                }
                if !c.p.is_empty() {
                    return Err(format!("{kind} class '{}': give either p or same_as, not both", c.id));
                }
                c.p = t.p.clone();
                for (mine, theirs) in [
                    (&mut c.description, &t.description),
                    (&mut c.meaning, &t.meaning),
                    (&mut c.evidence, &t.evidence),
                    (&mut c.confidence, &t.confidence),
                    (&mut c.citation, &t.citation),
                ] {
                    if mine.is_none() {
                        mine.clone_from(theirs);
                    }
                }
            }
            c.p = std::mem::take(&mut c.p).into_iter().map(|(k, v)| (norm(&k), v)).collect();
            for (sp, &p) in &c.p {
                if !self.species.contains_key(sp) {
                    return Err(format!(
                        "{kind} class '{}': p for '{sp}', which is not among the model's species ({})",
                        c.id,
                        species.join(", ")
                    ));
                }
                if !(0.0..=1.0).contains(&p) {
                    return Err(format!(
                        "{kind} class '{}': p for {sp} is {p}; a crossing probability lies between 0 and 1",
                        c.id
                    ));
                }
            }
            if let Some(missing) = species.iter().find(|s| !c.p.contains_key(*s)) {
                return Err(format!("{kind} class '{}' has no p for species '{missing}'", c.id));
            }
        }
        Ok(())
    }

    fn check_landcover(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for lc in &self.landcover {
            if !seen.insert(lc.code) {
                return Err(format!("land-cover code {} is listed twice", lc.code));
            }
            for sp in self.species.keys() {
                self.landcover_resistance(lc, sp).map_err(|e| format!("land-cover code {}: {e}", lc.code))?;
            }
        }
        Ok(())
    }

    /// The base resistance of a land-cover class for a species; `None` when impassable.
    pub fn landcover_resistance(&self, lc: &LandcoverClass, species: &str) -> Result<Option<f64>, String> {
        let parse_value = |v: &toml::Value| -> Result<Option<f64>, String> {
            match v {
                toml::Value::Float(f) => check_resistance(*f),
                toml::Value::Integer(i) => check_resistance(*i as f64),
                toml::Value::String(s) => parse_resistance_text(s),
                other => Err(format!("resistance {other} is not a number or \"impassable\"")),
            }
        };
        match &lc.resistance {
            LandcoverResistance::All(v) => check_resistance(*v),
            LandcoverResistance::Text(s) => parse_resistance_text(s),
            LandcoverResistance::PerSpecies(map) => {
                let found = map.iter().find(|(k, _)| norm(k) == species).or_else(|| map.iter().find(|(k, _)| *k == "default"));
                match found {
                    Some((_, v)) => parse_value(v),
                    None => Err(format!("no resistance for {species} and no `default`")),
                }
            }
        }
    }

    /// Resolves a species name or alias (case-insensitive) to the model's key.
    pub fn species_key(&self, given: &str) -> Result<String, ModelError> {
        let n = norm(given);
        if self.species.contains_key(&n) {
            return Ok(n);
        }
        for (k, info) in &self.species {
            let sci = info.scientific.as_deref().map(norm);
            if info.aliases.iter().any(|a| norm(a) == n) || sci.as_deref() == Some(n.as_str()) {
                return Ok(k.clone());
            }
        }
        Err(ModelError::UnknownSpecies {
            given: given.to_string(),
            known: self.species.keys().cloned().collect::<Vec<_>>().join(", "),
        })
    }

    /// The first barrier class whose conditions hold for `attrs`.
    pub fn classify_barrier(&self, attrs: &BarrierAttrs) -> Option<&Class> {
        self.barrier_classes.iter().find(|c| c.when.matches_barrier(attrs))
    }

    /// The first crossing class whose conditions hold for `attrs`.
    pub fn classify_crossing(&self, attrs: &CrossingAttrs) -> Option<&Class> {
        self.crossing_classes.iter().find(|c| c.when.matches_crossing(attrs))
    }

    /// Statuses that are burned by default: barriers that stand today.
    pub fn default_statuses() -> Vec<BarrierStatus> {
        vec![BarrierStatus::Existing]
    }
}

fn check_resistance(v: f64) -> Result<Option<f64>, String> {
    if v > 0.0 && v.is_finite() {
        Ok(Some(v))
    } else if v == f64::INFINITY {
        Ok(None)
    } else {
        Err(format!("resistance must be greater than 0 (or \"impassable\"), got {v}"))
    }
}

/// Reads a resistance written as text: a number, or `impassable` / `nodata` / `inf`.
pub fn parse_resistance_text(s: &str) -> Result<Option<f64>, String> {
    match norm(s).as_str() {
        "impassable" | "nodata" | "inf" | "infinity" | "barrier" => Ok(None),
        t => match t.parse::<f64>() {
            Ok(v) => check_resistance(v),
            Err(_) => Err(format!("'{s}' is not a resistance (a number greater than 0, or \"impassable\")")),
        },
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fence(bottom: Option<f64>, height: Option<f64>) -> BarrierAttrs {
        BarrierAttrs { kind: Some(BarrierKind::Fence), bottom_wire_cm: bottom, height_m: height, ..Default::default() }
    }

    #[test]
    fn default_model_loads_and_classifies() {
        let m = Model::default_model();
        assert_eq!(m.species.len(), 6);
        let id = |a: &BarrierAttrs| m.classify_barrier(a).map(|c| c.id.clone()).unwrap();
        let rail = |fenced| BarrierAttrs { kind: Some(BarrierKind::Railway), fenced, ..Default::default() };
        assert_eq!(id(&rail(Some(true))), "R1");
        assert_eq!(id(&rail(Some(false))), "R3");
        assert_eq!(id(&rail(None)), "R1*");
        assert_eq!(id(&fence(Some(45.0), Some(1.0))), "R7");
        assert_eq!(id(&fence(Some(45.0), None)), "R7");
        assert_eq!(id(&fence(Some(45.0), Some(1.5))), "R6");
        assert_eq!(id(&fence(Some(20.0), Some(1.0))), "R6");
        assert_eq!(id(&fence(None, None)), "R6");
        let road = |aadt| BarrierAttrs { kind: Some(BarrierKind::Road), traffic_aadt: aadt, ..Default::default() };
        assert_eq!(id(&road(Some(999.0))), "R8");
        assert_eq!(id(&road(Some(1000.0))), "R9");
        assert_eq!(id(&road(Some(4000.0))), "R10");
        assert_eq!(id(&road(Some(25000.0))), "R11");
        assert_eq!(id(&road(None)), "R8*");
        let fenced_road = BarrierAttrs { fenced: Some(true), ..road(Some(5000.0)) };
        assert_eq!(id(&fenced_road), "R12");
        let bridge = BarrierAttrs { tunnel_or_bridge: Some(true), ..rail(Some(true)) };
        assert_eq!(id(&bridge), "K0");
        assert_eq!(id(&BarrierAttrs { kind: Some(BarrierKind::BorderFence), ..Default::default() }), "R4");
        assert_eq!(id(&BarrierAttrs::default()), "K1");
        // same_as copies p and evidence
        let r1s = m.barrier_classes.iter().find(|c| c.id == "R1*").unwrap();
        assert_eq!(r1s.p["argali"], 0.05);
        assert!(r1s.citation.as_deref().unwrap().contains("Ito et al. 2013"));
    }

    #[test]
    fn crossings_classify_by_type_and_size() {
        let m = Model::default_model();
        let id = |t: &str, w, h| {
            m.classify_crossing(&CrossingAttrs { crossing_type: t.into(), width_m: w, height_m: h }).map(|c| c.id.clone())
        };
        assert_eq!(id("Fence gap", None, None).as_deref(), Some("R2"));
        assert_eq!(id("underpass", Some(15.0), Some(4.0)).as_deref(), Some("R13"));
        assert_eq!(id("underpass", None, None).as_deref(), Some("R13"));
        assert_eq!(id("underpass", Some(6.0), Some(4.0)).as_deref(), Some("K2"));
        assert_eq!(id("lowered-strands", None, None).as_deref(), Some("R5"));
        assert_eq!(id("helipad", None, None), None);
    }

    #[test]
    fn species_resolve_by_alias_and_scientific_name() {
        let m = Model::default_model();
        assert_eq!(m.species_key("Khulan").unwrap(), "khulan");
        assert_eq!(m.species_key("Equus hemionus").unwrap(), "khulan");
        assert_eq!(m.species_key("Procapra gutturosa").unwrap(), "mongolian_gazelle");
        assert_eq!(m.species_key("wild-camel").unwrap(), "wild_camel");
        let e = m.species_key("pronghorn").unwrap_err().to_string();
        assert!(e.contains("pronghorn") && e.contains("saiga"), "{e}");
    }

    #[test]
    fn invalid_models_say_what_is_wrong() {
        let base = "[species.a]\n[[barrier]]\nid = \"X\"\nname = \"x\"\n";
        let e = Model::from_toml_str(&format!("{base}p = {{ a = 1.5 }}\n"), "m.toml").unwrap_err().to_string();
        assert!(e.contains("m.toml") && e.contains("between 0 and 1"), "{e}");
        let e = Model::from_toml_str(&format!("{base}p = {{ b = 0.5 }}\n"), "m.toml").unwrap_err().to_string();
        assert!(e.contains("'b'"), "{e}");
        let e = Model::from_toml_str(&format!("{base}same_as = \"Y\"\n"), "m.toml").unwrap_err().to_string();
        assert!(e.contains("same_as 'Y'"), "{e}");
        let e = Model::from_toml_str(&format!("{base}p = {{ a = 0.5 }}\nwhen = {{ fenced = \"perhaps\" }}\n"), "m.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("perhaps"), "{e}");
        let e = Model::from_toml_str("[species.a]\n[resistance]\nbase = 0\n", "m.toml").unwrap_err().to_string();
        assert!(e.contains("base"), "{e}");
        assert!(Model::from_toml_str("", "m.toml").unwrap_err().to_string().contains("no species"));
    }

    #[test]
    fn landcover_classes_per_species_or_shared() {
        let text = r#"
            [species.a]
            [species.b]
            [[landcover]]
            code = 1
            resistance = 2.0
            [[landcover]]
            code = 2
            resistance = { a = 5, default = "impassable" }
        "#;
        let m = Model::from_toml_str(text, "t").unwrap();
        assert_eq!(m.landcover_resistance(&m.landcover[0], "b"), Ok(Some(2.0)));
        assert_eq!(m.landcover_resistance(&m.landcover[1], "a"), Ok(Some(5.0)));
        assert_eq!(m.landcover_resistance(&m.landcover[1], "b"), Ok(None));
        let bad = "[species.a]\n[[landcover]]\ncode = 1\nresistance = -1\n";
        assert!(Model::from_toml_str(bad, "t").unwrap_err().to_string().contains("greater than 0"));
    }
}
