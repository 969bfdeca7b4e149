//! Reading and checking a project file: every problem at once, each with file and line, before
//! any work starts.
//!
//! Three passes, each of which keeps going after a problem: unknown keys (walked over the parsed
//! document with its spans), each top-level section deserialized on its own (so a wrong type in
//! `[study]` does not hide one in `[[scenarios]]`), then what only the filesystem and PROJ can tell
//! (missing files, layers without a CRS, CRSs that do not parse, unknown species and options).

use std::fmt;
use std::ops::Range as Span;
use std::path::{Path, PathBuf};

use kulan_io::vector::{read_layer, LayerRef};
use kulan_io::AnalysisCrs;
use kulan_permeability::Model;
use serde::de::DeserializeOwned;

use crate::project::{known_keys, Project};

/// One problem in a project file.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based; 0 when the problem has no place in the file.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file.display(), self.message)
        }
    }
}

/// Every problem found in a project file.
#[derive(Debug, Clone)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} problem(s) in the project file:", self.0.len())?;
        for p in &self.0 {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// A checked project: its file, its folder (relative paths resolve against it) and its contents.
#[derive(Debug, Clone)]
pub struct LoadedProject {
    pub file: PathBuf,
    pub dir: PathBuf,
    pub text: String,
    pub project: Project,
}

impl LoadedProject {
    /// A path from the project file, resolved against the project's folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        self.dir.join(p)
    }

    /// The 1-based line of a byte offset.
    pub fn line_of(&self, span: &Span<usize>) -> usize {
        line_of(&self.text, span)
    }
}

fn line_of(text: &str, span: &Span<usize>) -> usize {
    if span.start == 0 && span.end == 0 {
        return 0;
    }
    text[..span.start.min(text.len())].matches('\n').count() + 1
}

struct Collector<'a> {
    file: &'a Path,
    text: &'a str,
    problems: Vec<Problem>,
    /// Byte ranges of unknown `key = value`s, blanked before the typed parse.
    unknown: Vec<Span<usize>>,
}

impl Collector<'_> {
    fn at(&mut self, span: Option<Span<usize>>, message: impl Into<String>) {
        let line = span.map_or(0, |s| line_of(self.text, &s));
        self.problems.push(Problem { file: self.file.to_path_buf(), line, message: message.into() });
    }
}

/// Reads and checks `path`. With `deep`, also opens every layer (CRS and fields) — what
/// `kulan run --check` does.
pub fn load_project(path: &Path, deep: bool) -> Result<LoadedProject, Problems> {
    let file = path.to_path_buf();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Problems(vec![Problem { file: file.clone(), line: 0, message: format!("cannot read the project file: {e}") }])
    })?;
    let mut c = Collector { file: path, text: &text, problems: Vec::new(), unknown: Vec::new() };
    let doc = match text.parse::<toml_edit::ImDocument<String>>() {
        Ok(d) => d,
        Err(e) => {
            c.at(e.span(), format!("not valid TOML: {}", e.message()));
            return Err(Problems(c.problems));
        }
    };
    walk_keys(&mut c, doc.as_table(), &mut Vec::new());
    let sections = ["study", "barriers", "ranges", "species", "cores", "tracks", "analyses", "scenarios"];
    // Unknown keys are reported; blanking them (newlines kept, so lines stay) lets the rest be
    // checked in the same pass.
    let mut known_text = text.clone().into_bytes();
    for span in &c.unknown {
        for b in &mut known_text[span.clone()] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    let known_text = String::from_utf8(known_text).unwrap_or_else(|_| text.clone());
    let n_unknown = c.problems.len();
    c.text = &known_text;
    for name in sections {
        section_problem(&mut c, name);
    }
    if c.problems.len() > n_unknown {
        c.problems.sort_by_key(|p| if p.line == 0 { usize::MAX } else { p.line });
        return Err(Problems(c.problems));
    }
    let project: Project = match toml::from_str(&known_text) {
        Ok(p) => p,
        Err(e) => {
            c.at(e.span(), e.message().to_string());
            return Err(Problems(c.problems));
        }
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let loaded = LoadedProject { file, dir, text: text.clone(), project };
    semantic_checks(&mut c, &loaded, deep);
    // In file order; problems without a line last.
    c.problems.sort_by_key(|p| if p.line == 0 { usize::MAX } else { p.line });
    if c.problems.is_empty() {
        Ok(loaded)
    } else {
        Err(Problems(c.problems))
    }
}

/// Reports keys the schema does not know, with the keys it does.
fn walk_keys(c: &mut Collector, table: &dyn toml_edit::TableLike, path: &mut Vec<String>) {
    let owned = path.clone();
    let p: Vec<&str> = owned.iter().map(String::as_str).collect();
    let known = known_keys(&p);
    for (key, item) in table.iter() {
        if let Some(known) = known {
            if !known.contains(&key) {
                let span = table.key(key).and_then(|k| k.span());
                if let (Some(k), Some(v)) = (&span, item.span()) {
                    c.unknown.push(k.start..v.end.max(k.end));
                }
                let place = if p.is_empty() { "at the top level".to_string() } else { format!("in [{}]", p.join(".")) };
                let hint = if known.is_empty() { "it takes no options".to_string() } else { format!("known: {}", known.join(", ")) };
                c.at(span, format!("unknown field '{key}' {place}; {hint}"));
                continue;
            }
        }
        path.push(key.to_string());
        match item {
            toml_edit::Item::Table(t) => walk_keys(c, t, path),
            toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => walk_keys(c, t, path),
            toml_edit::Item::ArrayOfTables(a) => a.iter().for_each(|t| walk_keys(c, t, path)),
            toml_edit::Item::Value(toml_edit::Value::Array(a)) => {
                for v in a.iter() {
                    if let toml_edit::Value::InlineTable(t) = v {
                        walk_keys(c, t, path);
                    }
                }
            }
            _ => {}
        }
        path.pop();
    }
}

/// Deserializes one top-level section on its own and reports its first type error.
fn section_problem(c: &mut Collector, name: &str) {
    fn one<T: DeserializeOwned>(c: &mut Collector, name: &str) {
        let isolated = isolate_section(c.text, name);
        if let Err(e) = toml::from_str::<std::collections::BTreeMap<String, T>>(&isolated) {
            // Unknown fields are reported by the key walk, with the list of known ones.
            if !e.message().contains("unknown field") {
                c.at(e.span(), format!("[{name}]: {}", e.message().trim()));
            }
        }
    }
    use crate::project as p;
    match name {
        "study" => one::<p::Study>(c, name),
        "barriers" => one::<std::collections::BTreeMap<String, kulan_io::vector::BarrierLayerSpec>>(c, name),
        "ranges" => one::<Vec<kulan_io::vector::RangeLayerSpec>>(c, name),
        "species" => one::<p::Species>(c, name),
        "cores" => one::<p::Cores>(c, name),
        "tracks" => one::<p::Tracks>(c, name),
        "analyses" => one::<p::Analyses>(c, name),
        "scenarios" => one::<Vec<p::Scenario>>(c, name),
        _ => {}
    }
    if name == "study" || name == "species" {
        if let Ok(t) = toml::from_str::<toml::Table>(c.text) {
            if !t.contains_key(name) {
                c.at(None, format!("missing the [{name}] table"));
            }
        }
    }
}

/// The text with every line outside top-level section `name` blanked (newlines kept), so the
/// section deserializes alone with its own line numbers.
fn isolate_section(text: &str, name: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut current: Option<String> = None;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with('[') {
            let body = t.trim_start_matches('[').trim_start();
            let end = body.find(|ch: char| ch == '.' || ch == ']' || ch.is_whitespace()).unwrap_or(body.len());
            current = Some(body[..end].trim_matches('"').to_string());
        }
        let key = match &current {
            Some(k) => k.clone(),
            None => t.split(|ch: char| ch == '=' || ch == '.' || ch.is_whitespace()).next().unwrap_or("").to_string(),
        };
        if key == name {
            out.push_str(line);
        } else if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

fn semantic_checks(c: &mut Collector, lp: &LoadedProject, deep: bool) {
    let p = &lp.project;
    let text = lp.text.as_str();
    // Study.
    let crs = match AnalysisCrs::from_definition(p.study.crs.get_ref()) {
        Ok(crs) => Some(crs),
        Err(e) => {
            c.at(Some(p.study.crs.span()), format!("study.crs: {e}"));
            None
        }
    };
    // Layers without a CRS may be in any CRS (often WGS 84), as long as it reaches study.crs.
    if let (Some(a), Some(target)) = (&p.study.assume_crs, &crs) {
        if let Err(e) = kulan_io::Reprojector::new(a.get_ref(), target, "study.assume_crs") {
            c.at(Some(a.span()), format!("study.assume_crs: {e}"));
        }
    }
    if !(p.study.cell_m > 0.0 && p.study.cell_m.is_finite()) {
        c.at(field_span(text, "cell_m"), format!("study.cell_m must be a positive number of metres, got {}", p.study.cell_m));
    }
    if let Some(e) = &p.study.extent {
        let [x0, y0, x1, y1] = *e.get_ref();
        if !(x1 > x0 && y1 > y0) {
            c.at(Some(e.span()), "study.extent must be [XMIN, YMIN, XMAX, YMAX] with XMAX > XMIN and YMAX > YMIN");
        }
    }
    if p.study.on_invalid.get_ref().parse::<kulan_core::geometry::OnInvalid>().is_err() {
        c.at(Some(p.study.on_invalid.span()), format!("study.on_invalid '{}': use repair, skip or fail", p.study.on_invalid.get_ref()));
    }
    // Layers.
    let assume = p.study.assume_crs.as_ref().map(|a| a.get_ref().clone());
    let check_layer = |c: &mut Collector, span: Span<usize>, path: &Path, layer: &Option<String>, what: &str| {
        let full = lp.resolve(path);
        if !full.exists() {
            c.at(Some(span), format!("{what} {}: no such file (paths are relative to the project file)", full.display()));
            return;
        }
        if !deep {
            return;
        }
        let layer_ref = LayerRef { path: full.clone(), layer: layer.clone() };
        match read_layer(&layer_ref) {
            Ok(raw) => {
                if raw.features.is_empty() {
                    c.at(Some(span.clone()), format!("{what} {}: the layer has no features", raw.label()));
                }
                match (&raw.crs_wkt, &assume, &crs) {
                    (None, None, _) => c.at(
                        Some(span.clone()),
                        format!("{what} {}: the layer declares no CRS; give study.assume_crs or fix the file", raw.label()),
                    ),
                    (Some(src), _, Some(target)) => {
                        if let Err(e) = kulan_io::Reprojector::new(src, target, &raw.label()) {
                            c.at(Some(span.clone()), format!("{what} {}: cannot be brought into study.crs: {e}", raw.label()));
                        }
                    }
                    _ => {}
                }
            }
            Err(e) => c.at(Some(span), format!("{what}: {e}")),
        }
    };
    if p.barriers.is_empty() {
        c.at(None, "no barrier layers: add a [barriers.NAME] table with a path");
    }
    for (name, spec) in &p.barriers {
        check_layer(c, spec.span(), &spec.get_ref().path, &spec.get_ref().layer, &format!("barriers.{name}:"));
    }
    if p.ranges.is_empty() {
        c.at(None, "no range layers: add a [[ranges]] table with a path");
    }
    for spec in &p.ranges {
        check_layer(c, spec.span(), &spec.get_ref().path, &spec.get_ref().layer, "ranges:");
    }
    if let Some(cores) = &p.cores {
        check_layer(c, cores.path.span(), cores.path.get_ref(), &cores.layer, "cores:");
    }
    if let Some(t) = &p.tracks {
        let full = lp.resolve(t.path.get_ref());
        if crate::tracks::is_csv(&full) && t.layer.is_none() {
            // A CSV's header is checked against the named columns; OGR would see no CRS in it.
            match std::fs::read_to_string(&full) {
                Ok(text) => {
                    let header: Vec<&str> = text.lines().next().unwrap_or_default().split(',').map(|h| h.trim().trim_matches('"')).collect();
                    let source = crate::tracks::track_source(lp, t);
                    for (key, col) in [("id_field", &source.id_col), ("time_field", &source.time_col), ("x_field", &source.x_col), ("y_field", &source.y_col)] {
                        if !header.contains(&col.as_str()) {
                            c.at(Some(t.path.span()), format!("tracks {}: no column '{col}' (tracks.{key}); columns: {}", full.display(), header.join(", ")));
                        }
                    }
                }
                Err(_) => c.at(Some(t.path.span()), format!("tracks {}: no such file (paths are relative to the project file)", full.display())),
            }
        } else {
            check_layer(c, t.path.span(), t.path.get_ref(), &t.layer, "tracks:");
        }
        if let Some(crs) = &t.crs {
            if let Err(e) = kulan_io::Reprojector::new(crs.get_ref(), &kulan_io::AnalysisCrs::equal_area_at(0.0, 0.0), "tracks.crs") {
                c.at(Some(crs.span()), format!("tracks.crs '{}': {e}", crs.get_ref()));
            }
        }
    }
    // Species and the model.
    let model = match &p.species.model {
        Some(m) => match Model::from_path(&lp.resolve(m.get_ref())) {
            Ok(model) => Some(model),
            Err(e) => {
                c.at(Some(m.span()), format!("species.model: {e}"));
                None
            }
        },
        None => Some(Model::default_model()),
    };
    if p.species.names.get_ref().is_empty() {
        c.at(Some(p.species.names.span()), "species.names is empty; name at least one species of the model");
    }
    if let Some(model) = &model {
        for s in p.species.names.get_ref() {
            if let Err(e) = model.species_key(s) {
                c.at(Some(p.species.names.span()), format!("species '{s}': {e}"));
            }
        }
    }
    // Analyses.
    let a = &p.analyses;
    if let Some(f) = &a.fragment {
        match f.units.get_ref().as_str() {
            "ranges" => {}
            "grid" if f.grid_km.is_some_and(|k| k > 0.0) => {}
            "grid" => c.at(Some(f.units.span()), "analyses.fragment: units = \"grid\" needs grid_km > 0"),
            "layer" => match &f.units_layer {
                Some(u) => check_layer(c, u.path.span(), u.path.get_ref(), &u.layer, "analyses.fragment.units_layer:"),
                None => c.at(
                    Some(f.units.span()),
                    "analyses.fragment: units = \"layer\" needs units_layer = { path = \"units.gpkg\", id_field = \"NAME\" }",
                ),
            },
            other => c.at(Some(f.units.span()), format!("analyses.fragment.units '{other}': use \"ranges\", \"grid\" or \"layer\"")),
        }
        if let (Some(u), false) = (&f.units_layer, f.units.get_ref() == "layer") {
            c.at(Some(u.path.span()), "analyses.fragment.units_layer is given but units is not \"layer\"; set units = \"layer\" or drop it");
        }
        if !matches!(f.procedure.get_ref().as_str(), "cbc" | "cut") {
            c.at(Some(f.procedure.span()), format!("analyses.fragment.procedure '{}': use \"cbc\" or \"cut\"", f.procedure.get_ref()));
        }
        let cuts = f.cuts.get_ref().as_str();
        if cuts != "default" && cuts != "all" {
            let full = lp.resolve(Path::new(cuts));
            match std::fs::read_to_string(&full) {
                Ok(t) => {
                    if let Err(e) = kulan_fragment::CutRules::from_toml(&t) {
                        c.at(Some(f.cuts.span()), format!("analyses.fragment.cuts {}: {e}", full.display()));
                    }
                }
                Err(_) => c.at(Some(f.cuts.span()), format!("analyses.fragment.cuts '{cuts}': not default, all or a readable rules file")),
            }
        }
    }
    for (what, n) in [("corridors", a.corridors.as_ref().map(|c| &c.neighbours)), ("circuit", a.circuit.as_ref().map(|c| &c.neighbours))] {
        if let Some(n) = n {
            if !matches!(n.get_ref(), 4 | 8) {
                c.at(Some(n.span()), format!("analyses.{what}.neighbours = {}: use 4 or 8", n.get_ref()));
            }
        }
    }
    if let Some(ci) = &a.circuit {
        if !matches!(ci.scheme.get_ref().as_str(), "avg-cond" | "avg-res") {
            c.at(Some(ci.scheme.span()), format!("analyses.circuit.scheme '{}': use avg-cond or avg-res", ci.scheme.get_ref()));
        }
    }
    if (a.corridors.is_some() || a.circuit.is_some()) && a.resistance.is_none() {
        c.at(None, "analyses.corridors and analyses.circuit run on the resistance surface: add [analyses.resistance]");
    }
    if (a.corridors.is_some() || a.circuit.is_some()) && p.cores.is_none() {
        c.at(None, "analyses.corridors and analyses.circuit need core areas: add a [cores] table");
    }
    if let Some(x) = &a.crossings {
        if p.tracks.is_none() {
            c.at(field_span(text, "[analyses.crossings]"), "analyses.crossings needs GPS fixes: add a [tracks] table with a path");
        }
        if !(*x.buffer_m.get_ref() > 0.0 && x.buffer_m.get_ref().is_finite()) {
            c.at(Some(x.buffer_m.span()), format!("analyses.crossings.buffer_m = {}: give a positive number of metres", x.buffer_m.get_ref()));
        }
        let hours = [("b_time_h", x.b_time_h), ("p_time_h", x.p_time_h), ("w_h", x.w_h), ("sd_multiplier", x.sd_multiplier)];
        for (key, v) in hours.into_iter().chain(x.interval_h.map(|v| ("interval_h", v))) {
            if !(v > 0.0 && v.is_finite()) {
                c.at(field_span(text, key).or_else(|| field_span(text, "[analyses.crossings]")), format!("analyses.crossings.{key} = {v}: must be positive"));
            }
        }
        if x.tolerance_h < 0.0 || x.max_speed_ms < 0.0 {
            c.at(field_span(text, "[analyses.crossings]"), "analyses.crossings: tolerance_h and max_speed_ms cannot be negative");
        }
        if x.b_time_h >= x.p_time_h {
            c.at(field_span(text, "[analyses.crossings]"), "analyses.crossings: b_time_h must be shorter than p_time_h");
        }
    }
    // Scenarios.
    if p.scenarios.is_empty() {
        c.at(None, "no scenarios: add at least [[scenarios]] name = \"baseline\"");
    }
    let mut seen = std::collections::BTreeSet::new();
    for s in &p.scenarios {
        let name = s.name.get_ref();
        if name.is_empty() || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
            c.at(Some(s.name.span()), format!("scenario name '{name}': use letters, digits, '-' and '_' (it names a folder)"));
        }
        if !seen.insert(name.clone()) {
            c.at(Some(s.name.span()), format!("scenario '{name}' is defined twice"));
        }
        for r in &s.remove_barriers {
            if !p.barriers.contains_key(r.get_ref()) {
                let known: Vec<&str> = p.barriers.keys().map(String::as_str).collect();
                c.at(Some(r.span()), format!("remove_barriers: no barrier layer '{}' (layers: {})", r.get_ref(), known.join(", ")));
            }
        }
        for spec in &s.add_barriers {
            check_layer(c, spec.span(), &spec.get_ref().path, &spec.get_ref().layer, &format!("scenario {name}: add_barriers"));
        }
        for cr in &s.crossings {
            check_layer(c, cr.path.span(), cr.path.get_ref(), &cr.layer, &format!("scenario {name}: crossings"));
        }
        for along in &s.crossings_along {
            if along.kind.get_ref().parse::<kulan_core::BarrierKind>().is_err() {
                c.at(Some(along.kind.span()), format!("crossings_along.kind '{}': use fence, border_fence, railway, road or other", along.kind.get_ref()));
            }
            if !(along.spacing_m > 0.0) {
                c.at(Some(along.kind.span()), "crossings_along.spacing_m must be positive");
            }
        }
    }
}

/// The span of the first `key =` in the text, for values that carry no span of their own.
fn field_span(text: &str, key: &str) -> Option<Span<usize>> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with(key) && (key.starts_with('[') || t[key.len()..].trim_start().starts_with('=')) {
            return Some(offset..offset + line.len());
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_is_isolated_with_its_lines_in_place() {
        let text = "[study]\nname = 1\n[[scenarios]]\nname = \"a\"\n[study.extra]\nx = 2\n";
        let iso = isolate_section(text, "study");
        assert_eq!(iso, "[study]\nname = 1\n\n\n[study.extra]\nx = 2\n");
        assert_eq!(iso.lines().count(), text.lines().count());
        assert_eq!(isolate_section(text, "scenarios"), "\n\n[[scenarios]]\nname = \"a\"\n\n\n");
    }

    #[test]
    fn unknown_keys_are_found_at_any_depth_with_their_lines() {
        let text = "[study]\nname = \"x\"\n[barriers.a]\npath = \"a.gpkg\"\n[barriers.a.fields]\nhieght_m = \"H\"\n[[scenarios]]\nname = \"b\"\ncrossings = [{ path = \"c.gpkg\", breaks = true }]\n";
        let doc: toml_edit::ImDocument<String> = text.parse().unwrap();
        let mut c = Collector { file: Path::new("p.toml"), text, problems: Vec::new(), unknown: Vec::new() };
        walk_keys(&mut c, doc.as_table(), &mut Vec::new());
        let got: Vec<(usize, bool)> = c.problems.iter().map(|p| (p.line, p.message.contains("unknown field"))).collect();
        assert_eq!(got, vec![(6, true), (9, true)], "{:?}", c.problems);
        assert!(c.problems[0].message.contains("height_m"), "the known keys are listed");
        assert_eq!(c.unknown.len(), 2);
    }

    #[test]
    fn problems_print_as_file_line_message() {
        let p = Problem { file: "a/p.toml".into(), line: 3, message: "bad".into() };
        assert_eq!(p.to_string(), "a/p.toml:3: bad");
        let p = Problem { file: "a/p.toml".into(), line: 0, message: "no scenarios".into() };
        assert_eq!(p.to_string(), "a/p.toml: no scenarios");
    }
}
