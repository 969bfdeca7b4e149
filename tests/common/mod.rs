//! Helpers for the end-to-end tests: run the `kulan` binary, write small fixtures, read CSVs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A `kulan` invocation about to run.
pub struct Run {
    cmd: Command,
}

/// The result of a finished run.
pub struct Finished {
    output: Output,
}

impl Finished {
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
}

impl Run {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.cmd.env(key, value);
        self
    }

    fn run(mut self) -> Output {
        self.cmd.output().expect("the kulan binary runs")
    }

    /// Runs and asserts success; returns the output for further checks.
    pub fn success(self) -> Finished {
        let out = self.run();
        assert!(out.status.success(), "kulan failed:\n{}", String::from_utf8_lossy(&out.stderr));
        Finished { output: out }
    }

    /// Runs and asserts a non-zero exit; returns stderr.
    pub fn failure(self) -> String {
        let out = self.run();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "kulan should have failed; stderr:\n{stderr}");
        assert!(!stderr.contains("panicked"), "kulan panicked:\n{stderr}");
        stderr
    }
}

/// `kulan ARGS...`, ready to run.
pub fn kulan(args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kulan"));
    cmd.args(args).env_remove("KULAN_TIMINGS");
    Run { cmd }
}

/// A temporary folder for one test's inputs and outputs.
pub struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        Fixture { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }

    /// Writes `text` to `name` and returns its path.
    pub fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write fixture");
        p.to_string_lossy().into_owned()
    }
}

fn crs_member(crs: Option<&str>) -> String {
    crs.map(|c| format!(r#""crs": {{"type": "name", "properties": {{"name": "{c}"}}}},"#)).unwrap_or_default()
}

/// A GeoJSON FeatureCollection of lines: (properties JSON, geometry type, coordinates JSON).
pub fn geojson_lines(crs: Option<&str>, features: &[(&str, &str, &str)]) -> String {
    let feats: Vec<String> = features
        .iter()
        .map(|(props, ty, coords)| {
            format!(r#"{{"type": "Feature", "properties": {props}, "geometry": {{"type": "{ty}", "coordinates": {coords}}}}}"#)
        })
        .collect();
    format!(r#"{{"type": "FeatureCollection", {} "features": [{}]}}"#, crs_member(crs), feats.join(","))
}

/// A GeoJSON FeatureCollection of polygons: (properties JSON, polygon coordinates JSON).
pub fn geojson_polygons(crs: Option<&str>, features: &[(&str, &str)]) -> String {
    let lines: Vec<(&str, &str, &str)> = features.iter().map(|(p, c)| (*p, "Polygon", *c)).collect();
    geojson_lines(crs, &lines)
}

/// The rows of a simple CSV (no quoted commas), header dropped.
pub fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().skip(1).map(|l| l.split(',').map(str::to_string).collect()).collect()
}

/// `../shared` beside the checkout, or `None` with a message when it is absent.
pub fn shared_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: {} not found (the peer data lives in ../shared beside the checkout)", p.display());
        None
    }
}

/// GPS fixes (`animal,t,x,y` CSV) every 2 h for 20 days, 2 km steps, of two animals near a
/// north–south fence at x = `x0`: "crosser" walks back and forth between 19.5 km west and
/// 20.5 km east of it along y = `y0`; "bouncer", 25 km north, walks from 28.5 km west up to
/// 500 m short of it and back. No fix lies on the line itself.
pub fn crosser_and_bouncer_fixes(x0: f64, y0: f64) -> String {
    let mut csv = String::from("animal,t,x,y\n");
    for i in 0..240i64 {
        let t = 1_700_000_000 + i * 7200;
        let k = i % 40;
        let off = if k < 20 { -19_500.0 + 2000.0 * k as f64 } else { 20_500.0 - 2000.0 * (k - 20) as f64 };
        csv.push_str(&format!("crosser,{t},{},{y0}\n", x0 + off));
        let k = i % 30;
        let off = if k < 15 { -28_500.0 + 2000.0 * k as f64 } else { -2_500.0 - 2000.0 * (k - 15) as f64 };
        csv.push_str(&format!("bouncer,{t},{},{}\n", x0 + off, y0 + 25_000.0));
    }
    csv
}
