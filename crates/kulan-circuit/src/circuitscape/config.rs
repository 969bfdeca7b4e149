//! Circuitscape `.ini` files: parsing, defaults, validation, path resolution.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::CircuitError;

/// Every option Circuitscape (4.x and .jl) reads or writes in its `.ini` files.
pub const KNOWN_OPTIONS: &[&str] = &[
    "data_type", "scenario", "habitat_file", "habitat_map_is_resistances", "point_file", "output_file",
    "solver", "connect_four_neighbors_only", "connect_using_avg_resistances", "use_polygons",
    "polygon_file", "use_mask", "mask_file", "use_included_pairs", "included_pairs_file",
    "use_variable_source_strengths", "variable_source_file", "source_file", "ground_file",
    "ground_file_is_resistances", "use_unit_currents", "use_direct_grounds", "remove_src_or_gnd",
    "write_cur_maps", "write_volt_maps", "write_cum_cur_map_only", "write_max_cur_maps",
    "set_null_currents_to_nodata", "set_null_voltages_to_nodata", "set_focal_node_currents_to_zero",
    "compress_grids", "log_transform_maps", "low_memory_mode", "print_timings", "print_rusages",
    "parallelize", "max_parallel", "preemptive_memory_release", "use_reclass_table", "reclass_file",
    "screenprint_log", "profiler_log_file", "log_level", "log_file", "use_64bit_indexing", "version",
    "precision", "cholmod_batch_size", "suppress_messages", "write_baseline_results", "num_threads",
    "use_shared_memory",
];

/// A parsed `.ini` with Circuitscape's defaults.
#[derive(Debug, Clone)]
pub struct CsConfig {
    values: HashMap<String, String>,
    /// Folder of the `.ini` (second place where relative input paths are looked for).
    pub ini_dir: PathBuf,
    /// Working directory: relative paths are resolved against it first, as Circuitscape does.
    pub cwd: PathBuf,
}

fn defaults() -> HashMap<String, String> {
    [
        ("data_type", "raster"),
        ("scenario", "pairwise"),
        ("habitat_map_is_resistances", "True"),
        ("connect_four_neighbors_only", "False"),
        ("connect_using_avg_resistances", "False"),
        ("ground_file_is_resistances", "True"),
        ("remove_src_or_gnd", "keepall"),
        ("solver", "cg+amg"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

impl CsConfig {
    /// Reads an `.ini` file. Unknown options are an error (a misspelt option would otherwise be
    /// silently ignored).
    pub fn read(path: &Path) -> Result<CsConfig, CircuitError> {
        let text = std::fs::read_to_string(path).map_err(|e| CircuitError::File {
            path: path.display().to_string(),
            message: format!("cannot read the configuration: {e}"),
        })?;
        let ini_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let cwd = std::env::current_dir().unwrap_or_default();
        Self::parse(&text, &path.display().to_string(), ini_dir, cwd)
    }

    /// Parses `.ini` text.
    pub fn parse(text: &str, name: &str, ini_dir: PathBuf, cwd: PathBuf) -> Result<CsConfig, CircuitError> {
        let mut values = defaults();
        for (no, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with(';') || line.starts_with('#') || line.starts_with('[') {
                continue;
            }
            let (k, v) = line.split_once('=').or_else(|| line.split_once(':')).ok_or_else(|| {
                CircuitError::Config(format!("{name}: line {}: expected 'key = value', got '{line}'", no + 1))
            })?;
            let key = k.trim().to_ascii_lowercase();
            if !KNOWN_OPTIONS.contains(&key.as_str()) {
                return Err(CircuitError::Config(format!(
                    "{name}: line {}: unknown option '{}' (not a Circuitscape option; check its spelling)",
                    no + 1,
                    k.trim()
                )));
            }
            values.insert(key, v.trim().to_string());
        }
        let cfg = CsConfig { values, ini_dir, cwd };
        cfg.validate(name)?;
        Ok(cfg)
    }

    fn validate(&self, name: &str) -> Result<(), CircuitError> {
        let dt = self.get("data_type").to_ascii_lowercase();
        if dt != "raster" && dt != "network" {
            return Err(CircuitError::Config(format!("{name}: data_type must be raster or network, got '{dt}'")));
        }
        let sc = self.scenario();
        if !["pairwise", "one-to-all", "all-to-one", "advanced"].contains(&sc.as_str()) {
            return Err(CircuitError::Config(format!(
                "{name}: scenario must be pairwise, one-to-all, all-to-one or advanced, got '{sc}'"
            )));
        }
        if dt == "network" && (sc == "one-to-all" || sc == "all-to-one") {
            return Err(CircuitError::Config(format!("{name}: network mode supports pairwise and advanced only")));
        }
        let pol = self.get("remove_src_or_gnd").to_ascii_lowercase();
        if sc == "advanced" && !["keepall", "rmvsrc", "rmvgnd", "rmvall"].contains(&pol.as_str()) {
            return Err(CircuitError::Config(format!(
                "{name}: remove_src_or_gnd must be keepall, rmvsrc, rmvgnd or rmvall, got '{pol}'"
            )));
        }
        for key in ["output_file", "habitat_file"] {
            if self.get(key).is_empty() {
                return Err(CircuitError::Config(format!("{name}: {key} is not set")));
            }
        }
        Ok(())
    }

    /// A value ("" when absent).
    pub fn get(&self, key: &str) -> &str {
        self.values.get(key).map(String::as_str).unwrap_or("")
    }

    /// Sets a value.
    pub fn set(&mut self, key: &str, value: &str) {
        self.values.insert(key.to_string(), value.to_string());
    }

    /// A boolean option: True/true/1/yes/on.
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key).to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on")
    }

    pub fn scenario(&self) -> String {
        self.get("scenario").to_ascii_lowercase().replace('_', "-")
    }

    pub fn is_network(&self) -> bool {
        self.get("data_type").eq_ignore_ascii_case("network")
    }

    /// An input file option resolved against the working directory first (as Circuitscape
    /// does), then the `.ini`'s folder. `None` when unset ("None", empty, "(Browse ...)").
    pub fn input_path(&self, key: &str) -> Result<Option<PathBuf>, CircuitError> {
        let v = self.get(key);
        if v.is_empty() || v.eq_ignore_ascii_case("none") || v.starts_with('(') || v.eq_ignore_ascii_case("false") {
            return Ok(None);
        }
        let p = PathBuf::from(v);
        let candidates: Vec<PathBuf> = if p.is_absolute() { vec![p.clone()] } else { vec![self.cwd.join(&p), self.ini_dir.join(&p)] };
        for c in &candidates {
            if c.is_file() {
                return Ok(Some(c.clone()));
            }
        }
        Err(CircuitError::File {
            path: v.to_string(),
            message: format!(
                "{key}: file not found (looked in {})",
                candidates.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(" and ")
            ),
        })
    }

    /// Like [`input_path`](Self::input_path) but an error when unset.
    pub fn required_input(&self, key: &str) -> Result<PathBuf, CircuitError> {
        self.input_path(key)?.ok_or_else(|| CircuitError::Config(format!("{key} must name a file for this mode")))
    }

    /// Output prefix: `output_file` up to `.out`, relative to the working directory.
    pub fn output_prefix(&self) -> PathBuf {
        let v = self.get("output_file");
        let stem = match v.find(".out") {
            Some(i) => &v[..i],
            None => v,
        };
        let p = PathBuf::from(stem);
        if p.is_absolute() { p } else { self.cwd.join(p) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections_comments_and_defaults() {
        let text = "[Habitat]\nhabitat_file = a.asc\n;point_file = x\n[Out]\noutput_file = out/x.out\nscenario = one-to-all\n";
        let c = CsConfig::parse(text, "t", PathBuf::new(), PathBuf::from("/w")).unwrap();
        assert_eq!(c.get("habitat_file"), "a.asc");
        assert!(c.flag("habitat_map_is_resistances"));
        assert_eq!(c.scenario(), "one-to-all");
        assert_eq!(c.output_prefix(), PathBuf::from("/w/out/x"));
    }

    #[test]
    fn unknown_option_is_an_error() {
        let e = CsConfig::parse("habitat_file = a\noutput_file = o.out\nhabitat_fiel = b\n", "t", PathBuf::new(), PathBuf::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("habitat_fiel"), "{e}");
    }
}
