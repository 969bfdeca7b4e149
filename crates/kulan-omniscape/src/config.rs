//! Omniscape.jl `.ini` files: parsing, defaults, validation and warnings.
//!
//! Omniscape reads every `key = value` line and ignores `[section]` headings, so keys may sit
//! under any heading; a later line wins over an earlier one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::OmniscapeError;

/// Keys Omniscape.jl understands; anything else draws a warning and is ignored.
const SUPPORTED: &[&str] = &[
    "resistance_file",
    "resistance_is_conductance",
    "resistance_file_is_conductance",
    "source_file",
    "project_name",
    "parallelize",
    "parallel_batch_size",
    "block_size",
    "radius",
    "buffer",
    "source_threshold",
    "source_from_resistance",
    "r_cutoff",
    "precision",
    "connect_four_neighbors_only",
    "solver",
    "calc_flow_potential",
    "calc_normalized_current",
    "correct_artifacts",
    "write_raw_currmap",
    "write_as_tif",
    "mask_nodata",
    "conditional",
    "n_conditions",
    "compare_to_future",
    "condition1_file",
    "condition2_file",
    "condition1_future_file",
    "condition2_future_file",
    "comparison1",
    "comparison2",
    "condition1_lower",
    "condition2_lower",
    "condition1_upper",
    "condition2_upper",
    "reclassify_resistance",
    "reclass_table",
    "write_reclassified_resistance",
    "allow_different_projections",
];

/// Output precision (`precision = single` writes float32 grids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    Single,
    #[default]
    Double,
}

/// How a source cell's condition is compared with the target's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Comparison {
    /// The source's value minus the target block's median lies in `[lower, upper]`.
    Within { lower: f64, upper: f64 },
    /// The source's value equals the target block's most frequent value.
    Equal,
}

/// One condition layer of conditional connectivity.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionSpec {
    /// Present-day layer: compared at the sources.
    pub present: PathBuf,
    /// Future layer: summarised over the target block (the present layer when absent).
    pub future: Option<PathBuf>,
    pub comparison: Comparison,
}

/// Everything an Omniscape run needs, with Omniscape.jl's defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct OmniscapeConfig {
    pub resistance_file: PathBuf,
    pub resistance_is_conductance: bool,
    pub source_file: Option<PathBuf>,
    pub source_from_resistance: bool,
    pub project_name: String,
    /// Moving-window radius in cells.
    pub radius: usize,
    /// Odd block size (even values are rounded up with a warning).
    pub block_size: usize,
    /// Extra cells of landscape around the window that carry current but hold no sources.
    pub buffer: usize,
    pub source_threshold: f64,
    pub r_cutoff: f64,
    pub precision: Precision,
    pub four_neighbours: bool,
    pub calc_flow_potential: bool,
    pub calc_normalized_current: bool,
    pub correct_artifacts: bool,
    pub write_raw_currmap: bool,
    pub write_as_tif: bool,
    pub mask_nodata: bool,
    pub parallelize: bool,
    pub reclass_table: Option<PathBuf>,
    pub write_reclassified_resistance: bool,
    /// Conditional connectivity: one or two conditions.
    pub conditions: Vec<ConditionSpec>,
}

/// A parsed configuration and the warnings it drew.
#[derive(Debug, Clone)]
pub struct ParsedConfig {
    pub config: OmniscapeConfig,
    pub warnings: Vec<String>,
}

/// Raw `key → value` pairs as Omniscape reads them.
pub fn parse_ini_text(text: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with('[') || line.trim().is_empty() {
            continue;
        }
        let (key, value) = match line.find('=') {
            Some(i) => (line[..i].trim(), line[i + 1..].trim()),
            None => ("", line.trim()),
        };
        map.insert(key.to_string(), value.to_string());
    }
    map
}

fn cfg_err(path: &Path, message: impl Into<String>) -> OmniscapeError {
    OmniscapeError::Config { path: path.display().to_string(), message: message.into() }
}

struct Keys<'a> {
    map: &'a BTreeMap<String, String>,
    path: &'a Path,
}

impl Keys<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn flag(&self, key: &str, default: bool) -> Result<bool, OmniscapeError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Ok(true),
                "false" | "no" | "0" => Ok(false),
                _ => Err(cfg_err(self.path, format!("{key} = {v}: expected true or false"))),
            },
        }
    }

    fn number(&self, key: &str, default: f64) -> Result<f64, OmniscapeError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => parse_number(v).ok_or_else(|| cfg_err(self.path, format!("{key} = {v}: expected a number"))),
        }
    }

    fn whole(&self, key: &str, default: usize) -> Result<usize, OmniscapeError> {
        let v = self.number(key, default as f64)?;
        if !(v >= 0.0) || !v.is_finite() {
            return Err(cfg_err(self.path, format!("{key} must be a whole number >= 0, got {v}")));
        }
        Ok(v.round() as usize)
    }

    fn file(&self, key: &str) -> Option<PathBuf> {
        self.get(key).filter(|v| !v.eq_ignore_ascii_case("none")).map(PathBuf::from)
    }
}

fn parse_number(v: &str) -> Option<f64> {
    match v.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        s => s.parse().ok(),
    }
}

/// Reads and validates an Omniscape.jl `.ini` file.
pub fn read_config(path: &Path) -> Result<ParsedConfig, OmniscapeError> {
    let text = std::fs::read_to_string(path).map_err(|e| cfg_err(path, format!("cannot read: {e}")))?;
    parse_config(&parse_ini_text(&text), path)
}

/// Validates raw `.ini` pairs (`path` names the file in messages).
///
/// ```
/// use kulan_omniscape::config::{parse_config, parse_ini_text};
/// let ini = "[Required]\nresistance_file = r.asc\nradius = 10\nproject_name = out\nblock_size = 4\nsource_from_resistance = true\n";
/// let parsed = parse_config(&parse_ini_text(ini), std::path::Path::new("a.ini")).unwrap();
/// assert_eq!(parsed.config.block_size, 5);
/// assert!(parsed.warnings[0].contains("even"));
/// ```
pub fn parse_config(map: &BTreeMap<String, String>, path: &Path) -> Result<ParsedConfig, OmniscapeError> {
    let k = Keys { map, path };
    let mut warnings = Vec::new();
    let missing: Vec<&str> =
        ["resistance_file", "radius", "project_name"].into_iter().filter(|key| k.get(key).is_none()).collect();
    if !missing.is_empty() {
        return Err(cfg_err(
            path,
            format!("required settings with no default are missing: {} (add them as `key = value` lines)", missing.join(", ")),
        ));
    }
    let unsupported: Vec<&str> =
        map.keys().map(String::as_str).filter(|key| !key.is_empty() && !SUPPORTED.contains(key)).collect();
    if !unsupported.is_empty() {
        warnings.push(format!("unsupported settings were ignored: {}", unsupported.join(", ")));
    }

    let radius = k.whole("radius", 0)?;
    if radius == 0 {
        return Err(cfg_err(path, "radius must be a whole number of cells >= 1"));
    }
    let mut block_size = k.whole("block_size", 1)?.max(1);
    if block_size % 2 == 0 {
        warnings.push(format!("block_size is even ({block_size}), but must be odd; using block_size = {}", block_size + 1));
        block_size += 1;
    }
    let solver = k.get("solver").unwrap_or("cg+amg");
    if solver != "cg+amg" && solver != "cholmod" {
        warnings.push(format!("unsupported solver '{solver}'; Omniscape would use cg+amg. Kulan solves every window with a sparse Cholesky factorization"));
    }
    let precision = match k.get("precision").map(|p| p.to_ascii_lowercase()) {
        None => Precision::Double,
        Some(p) if p == "single" => Precision::Single,
        Some(p) if p == "double" => Precision::Double,
        Some(p) => return Err(cfg_err(path, format!("precision = {p}: expected single or double"))),
    };

    let source_from_resistance = k.flag("source_from_resistance", false)?;
    let source_file = k.file("source_file");
    if !source_from_resistance && source_file.is_none() {
        return Err(cfg_err(
            path,
            "no source strengths: set source_file = <raster>, or source_from_resistance = true to derive them from the resistance",
        ));
    }

    let reclassify = k.flag("reclassify_resistance", false)?;
    let reclass_table = if reclassify {
        Some(k.file("reclass_table").ok_or_else(|| cfg_err(path, "reclassify_resistance = true needs reclass_table = <file>"))?)
    } else {
        None
    };

    let conditions = if k.flag("conditional", false)? { parse_conditions(&k)? } else { Vec::new() };

    let config = OmniscapeConfig {
        resistance_file: k.file("resistance_file").ok_or_else(|| cfg_err(path, "resistance_file is empty"))?,
        // `resistance_file_is_conductance` is the key of older Omniscape.jl versions.
        resistance_is_conductance: k.flag("resistance_is_conductance", false)? || k.flag("resistance_file_is_conductance", false)?,
        source_file,
        source_from_resistance,
        project_name: k.get("project_name").unwrap_or_default().to_string(),
        radius,
        block_size,
        buffer: k.whole("buffer", 0)?,
        source_threshold: k.number("source_threshold", 0.0)?,
        r_cutoff: k.number("r_cutoff", f64::INFINITY)?,
        precision,
        four_neighbours: k.flag("connect_four_neighbors_only", false)?,
        calc_flow_potential: k.flag("calc_flow_potential", false)?,
        calc_normalized_current: k.flag("calc_normalized_current", false)?,
        correct_artifacts: k.flag("correct_artifacts", true)?,
        write_raw_currmap: k.flag("write_raw_currmap", true)?,
        write_as_tif: k.flag("write_as_tif", true)?,
        mask_nodata: k.flag("mask_nodata", true)?,
        parallelize: k.flag("parallelize", true)?,
        reclass_table,
        write_reclassified_resistance: reclassify && k.flag("write_reclassified_resistance", false)?,
        conditions,
    };
    // Parsed for validation only: Kulan's parallel schedule does not depend on it.
    k.whole("parallel_batch_size", 10)?;
    Ok(ParsedConfig { config, warnings })
}

fn parse_conditions(k: &Keys<'_>) -> Result<Vec<ConditionSpec>, OmniscapeError> {
    let n = k.number("n_conditions", 1.0)?;
    if n != 1.0 && n != 2.0 {
        return Err(cfg_err(k.path, format!("n_conditions = {n}: only 1 or 2 conditions are supported")));
    }
    let future = k.get("compare_to_future").unwrap_or("none").to_ascii_lowercase();
    let (f1, f2) = match future.as_str() {
        "none" => (false, false),
        "1" => (true, false),
        "2" => (false, true),
        "both" => (true, true),
        other => {
            return Err(cfg_err(k.path, format!("compare_to_future = {other}: expected none, 1, 2 or both")));
        }
    };
    let mut out = Vec::new();
    for (i, use_future) in [(1, f1), (2, f2)].into_iter().take(n as usize) {
        let present = k
            .file(&format!("condition{i}_file"))
            .ok_or_else(|| cfg_err(k.path, format!("conditional = true needs condition{i}_file")))?;
        let future = if use_future {
            Some(k.file(&format!("condition{i}_future_file")).ok_or_else(|| {
                cfg_err(k.path, format!("compare_to_future = {future} needs condition{i}_future_file"))
            })?)
        } else {
            None
        };
        let cmp = k.get(&format!("comparison{i}")).unwrap_or("within").to_ascii_lowercase();
        let comparison = match cmp.as_str() {
            "within" => Comparison::Within {
                lower: k.number(&format!("condition{i}_lower"), 0.0)?,
                upper: k.number(&format!("condition{i}_upper"), 0.0)?,
            },
            "equal" | "equals" => Comparison::Equal,
            other => {
                return Err(cfg_err(k.path, format!("comparison{i} = {other}: expected within or equal")));
            }
        };
        out.push(ConditionSpec { present, future, comparison });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ParsedConfig, OmniscapeError> {
        parse_config(&parse_ini_text(text), Path::new("t.ini"))
    }

    const BASE: &str = "resistance_file = r.asc\nradius = 5\nproject_name = p\nsource_file = s.asc\n";

    #[test]
    fn defaults_follow_omniscape() {
        let c = parse(BASE).unwrap().config;
        assert_eq!((c.block_size, c.buffer), (1, 0));
        assert!(c.r_cutoff.is_infinite() && c.correct_artifacts && c.mask_nodata && c.write_as_tif);
        assert!(!c.calc_flow_potential && c.conditions.is_empty());
    }

    #[test]
    fn later_lines_win_and_headings_are_ignored() {
        let c = parse(&format!("{BASE}[x]\nradius = 7\n")).unwrap().config;
        assert_eq!(c.radius, 7);
    }

    #[test]
    fn bad_values_are_errors() {
        for bad in ["n_conditions = 3", "compare_to_future = foo", "comparison1 = foo"] {
            let t = format!("{BASE}conditional = true\ncondition1_file = c.asc\n{bad}\n");
            assert!(parse(&t).is_err(), "{bad}");
        }
        assert!(parse("resistance_file = r.asc\n").unwrap_err().to_string().contains("radius, project_name"));
        assert!(parse("resistance_file = r.asc\nradius = 3\nproject_name = p\n").is_err());
        assert!(parse(&format!("{BASE}radius = x\n")).is_err());
    }

    #[test]
    fn warnings_for_unknown_keys_and_solvers() {
        let p = parse(&format!("{BASE}foo = 1\nsolver = magic\n")).unwrap();
        assert_eq!(p.warnings.len(), 2);
    }
}
