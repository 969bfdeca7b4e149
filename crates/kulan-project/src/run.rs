//! Running a project: the stage graph per scenario, each stage taken from the cache when its key
//! is there, then the comparison table and the manifest.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

use crate::analyses;
use crate::cache::{hash_file, materialize, source_files, Cache, KeyBuilder};
use crate::check::LoadedProject;
use crate::project::Scenario;
use crate::scenario::{load_scenario, scenario_files, ScenarioInputs};

/// One unit of work: an analysis of one scenario (and species).
#[derive(Debug, Clone)]
pub struct Stage {
    /// `intersect`, `fragment`, `crossings`, `resistance`, `corridors` or `circuit`.
    pub analysis: &'static str,
    pub scenario: String,
    pub species: Option<String>,
    /// Where its outputs go, relative to the run's folder.
    pub folder: PathBuf,
}

impl Stage {
    /// `baseline/khulan/resistance`.
    pub fn label(&self) -> String {
        match &self.species {
            Some(sp) => format!("{}/{sp}/{}", self.scenario, self.analysis),
            None => format!("{}/{}", self.scenario, self.analysis),
        }
    }
}

/// What happened to a stage.
#[derive(Debug, Clone)]
pub struct StageRecord {
    pub stage: Stage,
    pub key: String,
    pub reused: bool,
    pub seconds: f64,
    pub outputs: Vec<PathBuf>,
}

/// Receives progress as the run goes.
pub trait Progress {
    fn planned(&self, _stages: &[Stage]) {}
    fn started(&self, _stage: &Stage) {}
    fn finished(&self, _record: &StageRecord) {}
    fn message(&self, _text: &str) {}
}

/// Progress that goes nowhere.
pub struct Silent;
impl Progress for Silent {}

/// How a run is done.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Ignore the cache: redo every stage.
    pub force: bool,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub out: PathBuf,
    pub records: Vec<StageRecord>,
    pub inputs: Vec<(PathBuf, String)>,
    pub seconds: f64,
}

/// The stages of every scenario, in the order they run.
pub fn plan(lp: &LoadedProject) -> Vec<Stage> {
    let p = &lp.project;
    let a = &p.analyses;
    let mut stages = Vec::new();
    for s in &p.scenarios {
        let name = s.name.get_ref().clone();
        let mut push = |analysis: &'static str, species: Option<&String>| {
            let mut folder = PathBuf::from(&name);
            if let Some(sp) = species {
                folder.push(sp);
            }
            if analysis == "corridors" || analysis == "crossings" {
                folder.push(analysis);
            }
            stages.push(Stage { analysis, scenario: name.clone(), species: species.cloned(), folder });
        };
        if a.intersect.is_some() {
            push("intersect", None);
        }
        if a.fragment.is_some() {
            push("fragment", None);
        }
        if a.crossings.is_some() {
            push("crossings", None);
        }
        for sp in p.species.names.get_ref() {
            if a.resistance.is_some() {
                push("resistance", Some(sp));
            }
            if a.corridors.is_some() {
                push("corridors", Some(sp));
            }
            if a.circuit.is_some() {
                push("circuit", Some(sp));
            }
        }
    }
    stages
}

/// Runs every stage of the project into `out`.
pub fn run_project(lp: &LoadedProject, out: &Path, options: &RunOptions, progress: &dyn Progress) -> anyhow::Result<RunOutcome> {
    let mut outcome = RunOutcome { out: out.to_path_buf(), records: Vec::new(), inputs: Vec::new(), seconds: 0.0 };
    run_project_into(lp, out, options, progress, &mut outcome)?;
    Ok(outcome)
}

/// As [`run_project`], filling `outcome` as stages finish, so a failed run still tells what it
/// read and which stages it finished.
pub fn run_project_into(
    lp: &LoadedProject,
    out: &Path,
    options: &RunOptions,
    progress: &dyn Progress,
    outcome: &mut RunOutcome,
) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let result = run_stages(lp, out, options, progress, outcome);
    outcome.seconds = t0.elapsed().as_secs_f64();
    result
}

fn run_stages(lp: &LoadedProject, out: &Path, options: &RunOptions, progress: &dyn Progress, outcome: &mut RunOutcome) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let cache = Cache::new(out);
    cache.clean_stale();
    let stages = plan(lp);
    progress.planned(&stages);

    // Hash every input once.
    let inputs = &mut outcome.inputs;
    let mut hash_of = |path: &Path| -> anyhow::Result<String> {
        let mut parts = Vec::new();
        for f in source_files(path) {
            match inputs.iter().find(|(p, _)| p == &f) {
                Some((_, h)) => parts.push(h.clone()),
                None => {
                    let h = hash_file(&f)?;
                    inputs.push((f.clone(), h.clone()));
                    parts.push(h);
                }
            }
        }
        Ok(parts.join("+"))
    };
    let mut scenario_hash = Vec::new();
    for s in &lp.project.scenarios {
        let mut h = Vec::new();
        for f in scenario_files(lp, s) {
            h.push(format!("{}={}", f.display(), hash_of(&f)?));
        }
        scenario_hash.push(h.join(";"));
    }
    let cores_hash = match &lp.project.cores {
        Some(c) => hash_of(&lp.resolve(c.path.get_ref()))?,
        None => String::new(),
    };
    let cuts_hash = match &lp.project.analyses.fragment {
        Some(f) if !matches!(f.cuts.get_ref().as_str(), "default" | "all") => hash_of(&lp.resolve(Path::new(f.cuts.get_ref())))?,
        _ => String::new(),
    };
    // The units layer's bytes go in the fragment key beside the rules file's.
    let cuts_hash = match lp.project.analyses.fragment.as_ref().and_then(|f| f.units_layer.as_ref()) {
        Some(u) => format!("{cuts_hash};units={}", hash_of(&lp.resolve(u.path.get_ref()))?),
        None => cuts_hash,
    };

    let tracks_hash = match (&lp.project.tracks, &lp.project.analyses.crossings) {
        (Some(t), Some(_)) => hash_of(&lp.resolve(t.path.get_ref()))?,
        _ => String::new(),
    };

    let previous = previous_outputs(out);
    let records = &mut outcome.records;
    let mut loaded: Option<(String, ScenarioInputs)> = None;
    for stage in &stages {
        let si = lp.project.scenarios.iter().position(|s| s.name.get_ref() == &stage.scenario).expect("planned");
        let scenario = &lp.project.scenarios[si];
        let key = stage_key(lp, stage, scenario, &scenario_hash[si], &cores_hash, &cuts_hash, &tracks_hash, records);
        progress.started(stage);
        let t = Instant::now();
        let (entry, reused) = match cache.finished(&key).filter(|_| !options.force) {
            Some(dir) => (dir, true),
            None => {
                let entry = run_stage(lp, stage, scenario, &key, &cache, &mut loaded, records, out)
                    .with_context(|| format!("stage {}", stage.label()))?;
                (entry, false)
            }
        };
        let outputs = materialize(&entry, &out.join(&stage.folder))
            .with_context(|| format!("stage {}: putting its outputs in place", stage.label()))?;
        // Files the same stage wrote last time and no longer writes (another option) go, so the
        // folder holds exactly this run's results.
        let now: Vec<PathBuf> = outputs.iter().map(|o| stage.folder.join(o)).collect();
        for old in previous.iter().filter(|(label, _)| *label == stage.label()).map(|(_, p)| p) {
            if !now.contains(old) {
                std::fs::remove_file(out.join(old)).ok();
            }
        }
        let record = StageRecord {
            stage: stage.clone(),
            key,
            reused,
            seconds: t.elapsed().as_secs_f64(),
            outputs: outputs.iter().map(|o| stage.folder.join(o)).collect(),
        };
        progress.finished(&record);
        records.push(record);
    }
    Ok(())
}

/// (stage label, output path) of the previous run in `out`, from its `run.json`.
fn previous_outputs(out: &Path) -> Vec<(String, PathBuf)> {
    let Ok(text) = std::fs::read_to_string(out.join("run.json")) else { return Vec::new() };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else { return Vec::new() };
    let mut v = Vec::new();
    for stage in json["stages"].as_array().into_iter().flatten() {
        let label = stage["stage"].as_str().unwrap_or_default().to_string();
        for o in stage["outputs"].as_array().into_iter().flatten().filter_map(|o| o.as_str()) {
            // Only paths inside the run folder: never follow `..` out of it.
            let p = PathBuf::from(o);
            if p.components().all(|c| matches!(c, std::path::Component::Normal(_))) {
                v.push((label.clone(), p));
            }
        }
    }
    v
}

#[allow(clippy::too_many_arguments)]
fn stage_key(
    lp: &LoadedProject,
    stage: &Stage,
    scenario: &Scenario,
    scenario_hash: &str,
    cores_hash: &str,
    cuts_hash: &str,
    tracks_hash: &str,
    done: &[StageRecord],
) -> String {
    let p = &lp.project;
    let a = &p.analyses;
    let study = format!(
        "crs={};assume={:?};cell={};extent={:?};on_invalid={}",
        p.study.crs.get_ref(),
        p.study.assume_crs.as_ref().map(|s| s.get_ref()),
        p.study.cell_m,
        p.study.extent.as_ref().map(|e| *e.get_ref()),
        p.study.on_invalid.get_ref()
    );
    let changes = format!(
        "remove={:?};add={:?};crossings={:?};along={:?}",
        scenario.remove_barriers.iter().map(|r| r.get_ref()).collect::<Vec<_>>(),
        scenario.add_barriers.iter().map(|b| b.get_ref()).collect::<Vec<_>>(),
        scenario.crossings.iter().map(|c| (c.path.get_ref(), &c.layer, c.break_cuts)).collect::<Vec<_>>(),
        scenario.crossings_along.iter().map(|c| (c.kind.get_ref(), c.spacing_m, &c.crossing_type, c.width_m, c.break_cuts)).collect::<Vec<_>>(),
    );
    let layers = format!(
        "barriers={:?};ranges={:?}",
        p.barriers.iter().map(|(n, b)| (n, b.get_ref())).collect::<Vec<_>>(),
        p.ranges.iter().map(|r| r.get_ref()).collect::<Vec<_>>()
    );
    let upstream = |analysis: &str| {
        done.iter()
            .find(|r| r.stage.analysis == analysis && r.stage.scenario == stage.scenario && r.stage.species == stage.species)
            .map(|r| r.key.clone())
            .unwrap_or_default()
    };
    let base = KeyBuilder::new(stage.analysis).with("species", stage.species.clone().unwrap_or_default());
    match stage.analysis {
        "intersect" => base.with("inputs", scenario_hash).with("study", &study).with("layers", &layers).with("changes", &changes),
        "fragment" => base
            .with("inputs", scenario_hash)
            .with("study", &study)
            .with("layers", &layers)
            .with("changes", &changes)
            .with("options", format!("{:?}", a.fragment.as_ref().map(|f| (f.units.get_ref(), f.grid_km, f.units_layer.as_ref().map(|u| (u.path.get_ref(), &u.layer, &u.id_field)), f.cuts.get_ref(), f.procedure.get_ref(), f.min_patch_area_m2))))
            .with("cuts", cuts_hash),
        "crossings" => base
            .with("inputs", scenario_hash)
            .with("study", &study)
            .with("layers", &layers)
            .with("changes", &changes)
            .with("tracks", tracks_hash)
            .with("tracks_spec", format!("{:?}", p.tracks))
            .with("options", format!("{:?}", a.crossings)),
        "resistance" => base
            .with("inputs", scenario_hash)
            .with("study", &study)
            .with("layers", &layers)
            .with("changes", &changes)
            .with("options", format!("{:?}", a.resistance.as_ref().map(|r| r.encounter_cost_m))),
        "corridors" => base
            .with("resistance", upstream("resistance"))
            .with("cores", cores_hash)
            .with("cores_spec", format!("{:?}", p.cores.as_ref().map(|c| (&c.layer, &c.id_field))))
            .with("options", format!("{:?}", a.corridors.as_ref().map(|c| (c.truncate, c.neighbours.get_ref())))),
        _ => base
            .with("resistance", upstream("resistance"))
            .with("cores", cores_hash)
            .with("cores_spec", format!("{:?}", p.cores.as_ref().map(|c| (&c.layer, &c.id_field))))
            .with("options", format!("{:?}", a.circuit.as_ref().map(|c| (c.neighbours.get_ref(), c.scheme.get_ref())))),
    }
    .key()
}

#[allow(clippy::too_many_arguments)]
fn run_stage(
    lp: &LoadedProject,
    stage: &Stage,
    scenario: &Scenario,
    key: &str,
    cache: &Cache,
    loaded: &mut Option<(String, ScenarioInputs)>,
    done: &[StageRecord],
    out: &Path,
) -> anyhow::Result<PathBuf> {
    let a = &lp.project.analyses;
    let needs_inputs = matches!(stage.analysis, "intersect" | "fragment" | "resistance" | "crossings");
    if needs_inputs && loaded.as_ref().map_or(true, |(n, _)| n != &stage.scenario) {
        *loaded = Some((stage.scenario.clone(), load_scenario(lp, scenario)?));
    }
    let resistance_tif = || -> anyhow::Result<PathBuf> {
        let r = done
            .iter()
            .find(|r| r.stage.analysis == "resistance" && r.stage.scenario == stage.scenario && r.stage.species == stage.species)
            .context("the resistance stage did not run")?;
        Ok(out.join(&r.stage.folder).join("resistance.tif"))
    };
    cache.run(key, |dir| {
        let inputs = loaded.as_ref().map(|(_, s)| s);
        match stage.analysis {
            "intersect" => analyses::intersect_stage(inputs.expect("loaded"), dir),
            "fragment" => analyses::fragment_stage(lp, a.fragment.as_ref().expect("planned"), inputs.expect("loaded"), dir),
            "resistance" => analyses::resistance_stage(
                lp,
                a.resistance.as_ref().and_then(|r| r.encounter_cost_m),
                stage.species.as_deref().expect("species"),
                inputs.expect("loaded"),
                dir,
            ),
            "crossings" => analyses::crossings_stage(lp, a.crossings.as_ref().expect("planned"), inputs.expect("loaded"), dir),
            "corridors" => analyses::corridors_stage(lp, a.corridors.as_ref().expect("planned"), &resistance_tif()?, dir),
            "circuit" => analyses::circuit_stage(lp, a.circuit.as_ref().expect("planned"), &resistance_tif()?, dir),
            other => anyhow::bail!("unknown analysis {other}"),
        }
    })
}
