//! `run.json`: what a run read (with hashes), which Kulan, with which settings, and how long each
//! stage took — enough to reproduce it.

use std::path::Path;

use serde_json::{json, Value};

use crate::check::LoadedProject;
use crate::run::RunOutcome;

/// The manifest of a finished (or failed) run.
pub fn manifest(lp: &LoadedProject, outcome: &RunOutcome, flags: &[String], error: Option<&str>) -> Value {
    let p = &lp.project;
    let stages: Vec<Value> = outcome
        .records
        .iter()
        .map(|r| {
            json!({
                "stage": r.stage.label(),
                "analysis": r.stage.analysis,
                "scenario": r.stage.scenario,
                "species": r.stage.species,
                "key": r.key,
                "reused": r.reused,
                "seconds": (r.seconds * 1000.0).round() / 1000.0,
                "outputs": r.outputs.iter().map(|o| o.display().to_string()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let inputs: Vec<Value> = outcome
        .inputs
        .iter()
        .map(|(path, hash)| {
            let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            json!({ "path": path.display().to_string(), "sha256": hash, "bytes": bytes })
        })
        .collect();
    json!({
        "status": if error.is_some() { "failed" } else { "finished" },
        "error": error,
        "kulan_version": env!("CARGO_PKG_VERSION"),
        "gdal_version": gdal::version::version_info("RELEASE_NAME"),
        "project": {
            "file": lp.file.display().to_string(),
            "sha256": crate::cache::hash_text(&lp.text),
            "name": p.study.name,
        },
        "command_line": flags,
        "settings": {
            "crs": p.study.crs.get_ref(),
            "cell_m": p.study.cell_m,
            "extent": p.study.extent.as_ref().map(|e| *e.get_ref()),
            "on_invalid": p.study.on_invalid.get_ref(),
            "species": p.species.names.get_ref(),
            "model": p.species.model.as_ref().map(|m| m.get_ref().display().to_string()).unwrap_or_else(|| "built-in default".into()),
            "analyses": serde_json::to_value(&p.analyses).unwrap_or(Value::Null),
            "scenarios": p.scenarios.iter().map(|s| json!({"name": s.name.get_ref(), "title": s.title})).collect::<Vec<_>>(),
        },
        "inputs": inputs,
        "stages": stages,
        "stages_reused": outcome.records.iter().filter(|r| r.reused).count(),
        "stages_run": outcome.records.iter().filter(|r| !r.reused).count(),
        "seconds": (outcome.seconds * 1000.0).round() / 1000.0,
    })
}

/// Writes `run.json` atomically.
pub fn write_manifest(path: &Path, value: &Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)? + "\n";
    crate::outputs::intersect::write_text(path, &text)
}
