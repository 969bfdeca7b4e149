//! End-to-end tests of `kulan run`: the two sample projects from the checkout, the stage cache,
//! bad project files, a run that fails midway, and thread-count independence.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn kulan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kulan")).args(args).output().expect("kulan runs")
}

fn run_ok(project: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", project.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = kulan(&args);
    assert!(o.status.success(), "kulan run failed:\n{}", String::from_utf8_lossy(&o.stderr));
    o
}

/// `comparison.csv` keyed by (scenario, species, metric, subject) → (baseline, value).
fn comparison(out: &Path) -> BTreeMap<(String, String, String, String), (f64, f64)> {
    let text = std::fs::read_to_string(out.join("comparison.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), "scenario,species,metric,subject,unit,baseline,value,change,change_pct");
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let num = |s: &str| if s == "inf" { f64::INFINITY } else { s.parse::<f64>().unwrap() };
            ((f[0].into(), f[1].into(), f[2].into(), f[3].into()), (num(f[5]), num(f[6])))
        })
        .collect()
}

fn get(c: &BTreeMap<(String, String, String, String), (f64, f64)>, s: &str, sp: &str, m: &str, subj: &str) -> (f64, f64) {
    *c.get(&(s.into(), sp.into(), m.into(), subj.into())).unwrap_or_else(|| panic!("no {s} {sp} {m} {subj} in comparison.csv"))
}

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap()
}

const SCENARIO_FILES: [&str; 5] = ["pairs.csv", "totals.csv", "intersections.gpkg", "meff.csv", "patches.gpkg"];
const SPECIES_FILES: [&str; 7] = [
    "resistance.tif",
    "permeability.tif",
    "corridors/corridors.tif",
    "corridors/link_table.csv",
    "corridors/links.gpkg",
    "circuit_resistances.csv",
    "circuit_cum_curmap.tif",
];

fn assert_outputs(out: &Path, scenarios: &[&str], species: &[&str]) {
    assert_outputs_partial(out, scenarios, species);
    for f in ["comparison.csv", "run.json", "report.html"] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
}

/// The Gobi sample: opening the railway fence connects the eastern core (effective resistance
/// and corridor cost from infinite to finite) and raises m_eff; the planned road adds barrier km.
#[test]
fn gobi_sample_project_numbers() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("gobi");
    run_ok(&repo().join("data/gobi/project.toml"), &out, &["--quiet"]);
    assert_outputs(&out, &["baseline", "fence-openings", "planned-road"], &["khulan", "mongolian_gazelle"]);
    let c = comparison(&out);
    for sp in ["khulan", "mongolian_gazelle"] {
        for pair in ["1-3", "2-3"] {
            let (base, open) = get(&c, "fence-openings", sp, "effective_resistance", pair);
            assert!(base.is_infinite() && open.is_finite() && open > 0.0, "{sp} {pair}: {base} -> {open}");
            let (base, open) = get(&c, "fence-openings", sp, "corridor_cost", pair);
            assert!(base.is_infinite() && open.is_finite(), "{sp} {pair} corridor: {base} -> {open}");
        }
        // Cores 1 and 2 are on the same side: the openings cannot make them further apart.
        let (base, open) = get(&c, "fence-openings", sp, "effective_resistance", "1-2");
        assert!(open <= base * (1.0 + 1e-9) && base.is_finite(), "{sp} 1-2: {base} -> {open}");
    }
    for unit in ["1", "2"] {
        let (base, open) = get(&c, "fence-openings", "", "meff_km2", unit);
        assert!(open > base * 1.2, "m_eff of unit {unit}: {base} -> {open}");
        let (base, road) = get(&c, "planned-road", "", "meff_km2", unit);
        assert!(road <= base * (1.0 + 1e-12), "a new road cannot raise m_eff of unit {unit}: {base} -> {road}");
    }
    let (base, road) = get(&c, "planned-road", "", "barrier_km_in_range", "all ranges");
    assert!(road > base + 100.0, "planned road: {base} -> {road} km");
    // The openings do not change what lies in the ranges.
    let (base, open) = get(&c, "fence-openings", "", "barrier_km_in_range", "all ranges");
    assert_eq!(base, open);
    // Barrier km in range agrees with the scenario's own totals.csv.
    let totals = std::fs::read_to_string(out.join("planned-road/totals.csv")).unwrap();
    let sum: f64 = totals.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse::<f64>().unwrap()).sum();
    assert!((sum / 1000.0 - road).abs() < 1e-9 * road);
    let m = manifest(&out);
    assert_eq!(m["status"], "finished");
    assert_eq!(m["stages"].as_array().unwrap().len(), 3 * (2 + 2 * 3));
    assert!(m["inputs"].as_array().unwrap().iter().all(|i| i["sha256"].as_str().unwrap().len() == 64));
}

/// The Ustyurt sample: lowering the bottom strands once per km lowers the effective resistance
/// and the corridor cost across the border fence; the fence still cuts, so m_eff stays.
#[test]
fn ustyurt_sample_project_numbers() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("ustyurt");
    run_ok(&repo().join("data/ustyurt/project.toml"), &out, &["--quiet"]);
    assert_outputs(&out, &["baseline", "lowered-strands"], &["saiga"]);
    let c = comparison(&out);
    let (base, low) = get(&c, "lowered-strands", "saiga", "effective_resistance", "1-2");
    assert!(base.is_finite() && low < 0.5 * base, "effective resistance {base} -> {low}");
    let (base, low) = get(&c, "lowered-strands", "saiga", "corridor_cost", "1-2");
    assert!(low < base, "corridor cost {base} -> {low}");
    let (base, low) = get(&c, "lowered-strands", "", "meff_km2", "1");
    assert_eq!(base, low);
    let text = std::fs::read_to_string(out.join("comparison.csv")).unwrap();
    let row = text.lines().find(|l| l.starts_with("lowered-strands,saiga,effective_resistance,1-2")).unwrap();
    let f: Vec<f64> = row.split(',').skip(5).map(|v| v.parse().unwrap()).collect();
    assert!((f[2] - (f[1] - f[0])).abs() < 1e-12 && (f[3] - 100.0 * (f[1] - f[0]) / f[0]).abs() < 1e-9, "{row}");
}

/// A second run reuses every stage and writes the same files; --force redoes them; a changed
/// option redoes only the stages that depend on it.
#[test]
fn second_run_reuses_finished_stages() {
    let d = tempfile::tempdir().unwrap();
    let project = d.path().join("ustyurt/project.toml");
    copy_dir(&repo().join("data/ustyurt"), &d.path().join("ustyurt"));
    let out = d.path().join("out");
    // --json: every line on stderr is a JSON object, also when stages really run.
    let o = run_ok(&project, &out, &["--json"]);
    let log = String::from_utf8_lossy(&o.stderr);
    let events: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect();
    assert_eq!(events.iter().filter(|e| e["event"] == "stage_finished" && e["reused"] == false).count(), 10);
    assert_eq!(events.last().unwrap()["event"], "finished");
    let first = std::fs::read(out.join("comparison.csv")).unwrap();
    assert_eq!(manifest(&out)["stages_reused"], 0);
    let o = run_ok(&project, &out, &["--json"]);
    let m = manifest(&out);
    assert_eq!(m["stages_run"], 0, "{m}");
    assert_eq!(m["stages_reused"], 10);
    assert_eq!(std::fs::read(out.join("comparison.csv")).unwrap(), first);
    let log = String::from_utf8_lossy(&o.stderr);
    let events: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).expect("JSON lines")).collect();
    assert!(events.iter().filter(|e| e["event"] == "stage_finished").all(|e| e["reused"] == true));
    run_ok(&project, &out, &["--quiet", "--force"]);
    assert_eq!(manifest(&out)["stages_reused"], 0);
    // Corridors without truncation → with it: only the two corridor stages run again.
    let text = std::fs::read_to_string(&project).unwrap().replace("[analyses.corridors]\n", "[analyses.corridors]\ntruncate = 20000\n");
    std::fs::write(&project, text).unwrap();
    run_ok(&project, &out, &["--quiet"]);
    let m = manifest(&out);
    let run: Vec<&str> = m["stages"].as_array().unwrap().iter().filter(|s| s["reused"] == false).map(|s| s["stage"].as_str().unwrap()).collect();
    assert_eq!(run, vec!["baseline/saiga/corridors", "lowered-strands/saiga/corridors"]);
    assert!(out.join("baseline/saiga/corridors/corridors_truncated_at_20000.tif").is_file());
    // And back: the truncated mosaic of the previous run does not linger.
    let text = std::fs::read_to_string(&project).unwrap().replace("truncate = 20000\n", "");
    std::fs::write(&project, text).unwrap();
    run_ok(&project, &out, &["--quiet"]);
    assert_eq!(manifest(&out)["stages_run"], 0, "the untruncated corridors are still in the cache");
    assert!(!out.join("baseline/saiga/corridors/corridors_truncated_at_20000.tif").exists());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Every problem at once, each with file and line, and nothing run.
#[test]
fn bad_project_file_reports_every_problem_with_its_line() {
    let d = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("data/ustyurt"), d.path());
    let project = d.path().join("bad.toml");
    let text = r#"[study]
name = "bad"
crs = "EPSG:999999"
cell_m = 1000
colour = "red"

[barriers.fence]
path = "no_such_file.geojson"

[[ranges]]
path = "ranges.geojson"

[species]
names = ["saiga", "unicorn"]

[cores]
path = "cores.geojson"

[analyses.circuit]
neighbours = 6

[analyses.resistance]

[[scenarios]]
name = "baseline"

[[scenarios]]
name = "baseline"
remove_barriers = ["roads"]
add_stuff = 1
"#;
    std::fs::write(&project, text).unwrap();
    let out = d.path().join("out");
    let o = kulan(&["run", project.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let name = project.display().to_string();
    for (line, what) in [
        (5, "unknown field 'colour'"),
        (30, "unknown field 'add_stuff'"),
        (3, "EPSG:999999"),
        (7, "no_such_file.geojson"),
        (14, "unicorn"),
        (20, "neighbours = 6"),
        (28, "defined twice"),
        (29, "no barrier layer 'roads'"),
    ] {
        let needle = format!("{name}:{line}: ");
        assert!(err.lines().any(|l| l.contains(&needle) && l.contains(what)), "expected '{needle}…{what}' in:\n{err}");
    }
    assert!(!out.exists(), "nothing may be written for a bad project");
    // A wrong type is reported with its line too, alongside a problem in another section.
    let typed = text.replace("cell_m = 1000", "cell_m = \"big\"").replace("add_stuff = 1\n", "");
    std::fs::write(&project, typed).unwrap();
    let o = kulan(&["run", project.to_str().unwrap(), "--check"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains(&format!("{name}:4: [study]")), "{err}");
    assert!(err.contains(&format!("{name}:5: unknown field 'colour'")), "{err}");
    // Not TOML at all: the syntax error with its line.
    std::fs::write(&project, "[study]\nname = \"x\n").unwrap();
    let err = String::from_utf8_lossy(&kulan(&["run", project.to_str().unwrap(), "--check"]).stderr).to_string();
    assert!(err.contains(&format!("{name}:2: not valid TOML")), "{err}");
}

/// `--check` on the samples: no problems, nothing written.
#[test]
fn samples_pass_the_check() {
    for p in ["data/gobi/project.toml", "data/ustyurt/project.toml"] {
        let o = kulan(&["run", repo().join(p).to_str().unwrap(), "--check", "--out", "/nonexistent/never"]);
        assert!(o.status.success(), "{p}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stderr).contains("no problems"));
    }
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().unwrap().is_dir() {
                out.extend(all_files(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

/// A scenario whose layer is broken fails the run after the baseline's stages finished: those
/// stay (files whole, cache entries kept), nothing half-written is left, run.json says why, and
/// once the layer is fixed the next run resumes without redoing the baseline.
#[test]
fn failure_midway_keeps_finished_stages_and_resumes() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("p");
    copy_dir(&repo().join("data/ustyurt"), &dir);
    let project = dir.join("project.toml");
    let mut text = std::fs::read_to_string(&project).unwrap();
    text.push_str("\n[[scenarios]]\nname = \"new-fence\"\nadd_barriers = [{ path = \"new_fence.geojson\", kind = \"fence\" }]\n");
    // Invalid geometries stop the run (on_invalid = "fail"); only reading the layer shows it.
    std::fs::write(&project, text.replace("cell_m = 4000", "cell_m = 4000\non_invalid = \"fail\"")).unwrap();
    std::fs::write(
        dir.join("new_fence.geojson"),
        r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"features":[{"type":"Feature","properties":{"id":1},"geometry":{"type":"LineString","coordinates":[[56.5,43.0],[56.5,43.0]]}}]}"#,
    )
    .unwrap();
    let out = d.path().join("out");
    let o = kulan(&["run", project.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("new-fence") && err.contains("new_fence.geojson"), "{err}");
    let m = manifest(&out);
    assert_eq!(m["status"], "failed");
    assert!(m["error"].as_str().unwrap().contains("new_fence.geojson"));
    let finished: Vec<&str> = m["stages"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    assert_eq!(finished.len(), 10, "{finished:?}");
    assert!(finished.iter().all(|s| !s.starts_with("new-fence")));
    // The two finished scenarios are whole.
    assert_outputs_partial(&out, &["baseline", "lowered-strands"], &["saiga"]);
    let files = all_files(&out);
    assert!(files.iter().all(|f| !f.to_string_lossy().contains(".tmp-") && !f.to_string_lossy().contains("kulan-tmp")), "{files:?}");
    assert!(!out.join("new-fence").exists());
    assert!(!out.join("report.html").exists() && !out.join("comparison.csv").exists());
    let before = std::fs::read(out.join("baseline/saiga/circuit_resistances.csv")).unwrap();
    // Fix the layer: the run resumes, reusing the ten finished stages.
    std::fs::write(
        dir.join("new_fence.geojson"),
        r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"features":[{"type":"Feature","properties":{"id":1},"geometry":{"type":"LineString","coordinates":[[56.5,43.0],[56.5,46.0]]}}]}"#,
    )
    .unwrap();
    run_ok(&project, &out, &["--quiet"]);
    let m = manifest(&out);
    assert_eq!(m["stages_reused"], 10, "{m}");
    assert_eq!(m["stages_run"], 5);
    assert_eq!(std::fs::read(out.join("baseline/saiga/circuit_resistances.csv")).unwrap(), before);
    let c = comparison(&out);
    let (base, fenced) = get(&c, "new-fence", "", "barrier_km_in_range", "all ranges");
    assert!(fenced > base + 100.0, "{base} -> {fenced}");
}

fn assert_outputs_partial(out: &Path, scenarios: &[&str], species: &[&str]) {
    for s in scenarios {
        for f in SCENARIO_FILES {
            assert!(out.join(s).join(f).is_file(), "missing {s}/{f}");
        }
        for sp in species {
            for f in SPECIES_FILES {
                assert!(out.join(s).join(sp).join(f).is_file(), "missing {s}/{sp}/{f}");
            }
        }
    }
}

/// Same bytes whatever the number of threads.
#[test]
fn outputs_do_not_depend_on_the_thread_count() {
    let d = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for threads in ["1", "2"] {
        let out = d.path().join(format!("t{threads}"));
        let o = Command::new(env!("CARGO_BIN_EXE_kulan"))
            .args(["run", repo().join("data/ustyurt/project.toml").to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(o.status.success());
        runs.push(out);
    }
    for f in ["comparison.csv", "baseline/pairs.csv", "baseline/totals.csv", "baseline/meff.csv"]
        .into_iter()
        .map(String::from)
        .chain(SPECIES_FILES.iter().filter(|f| !f.ends_with(".gpkg")).map(|f| format!("lowered-strands/saiga/{f}")))
    {
        assert_eq!(std::fs::read(runs[0].join(&f)).unwrap(), std::fs::read(runs[1].join(&f)).unwrap(), "{f} differs");
    }
}

/// Layers that declare no CRS (without study.assume_crs) and empty layers are reported by the
/// check, with the line of the table that names them, before any work.
#[test]
fn layers_without_crs_or_features_are_reported_by_the_check() {
    let d = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("data/ustyurt"), d.path());
    // A CSV with WKT geometry carries no CRS.
    std::fs::write(d.path().join("fence.csv"), "id,kind,WKT\n1,fence,\"LINESTRING (56.5 43, 56.5 46)\"\n").unwrap();
    std::fs::write(d.path().join("empty.geojson"), r#"{"type":"FeatureCollection","features":[]}"#).unwrap();
    let text = std::fs::read_to_string(d.path().join("project.toml"))
        .unwrap()
        .replace("[barriers.border_fence]\npath = \"barriers.geojson\"\n", "[barriers.border_fence]\npath = \"barriers.geojson\"\n\n[barriers.csv_fence]\npath = \"fence.csv\"\n\n[barriers.nothing]\npath = \"empty.geojson\"\n");
    let project = d.path().join("project.toml");
    std::fs::write(&project, &text).unwrap();
    let line_of = |needle: &str| text.lines().position(|l| l == needle).unwrap() + 1;
    let o = kulan(&["run", project.to_str().unwrap(), "--check"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let name = project.display().to_string();
    let csv_line = line_of("[barriers.csv_fence]").max(line_of("path = \"fence.csv\"") - 1);
    assert!(
        err.lines().any(|l| l.contains("declares no CRS") && (l.contains(&format!("{name}:{csv_line}:")) || l.contains(&format!("{name}:{}:", csv_line + 1)))),
        "{err}"
    );
    assert!(err.contains("empty.geojson") && err.contains("no features"), "{err}");
    // With study.assume_crs the CSV is read as WGS 84 and only the empty layer remains a problem.
    std::fs::write(&project, text.replace("cell_m = 4000", "cell_m = 4000\nassume_crs = \"EPSG:4326\"")).unwrap();
    let err = String::from_utf8_lossy(&kulan(&["run", project.to_str().unwrap(), "--check"]).stderr).to_string();
    assert!(!err.contains("declares no CRS") && err.contains("no features") && !err.contains("assume_crs"), "{err}");
    // A geographic study CRS is refused: Kulan measures in metres.
    std::fs::write(&project, text.replace("+proj=laea +lat_0=44.5 +lon_0=57 +datum=WGS84 +units=m +no_defs", "EPSG:4326")).unwrap();
    let err = String::from_utf8_lossy(&kulan(&["run", project.to_str().unwrap(), "--check"]).stderr).to_string();
    let crs_line = text.lines().position(|l| l.starts_with("crs = ")).unwrap() + 1;
    assert!(err.contains(&format!("{name}:{crs_line}: study.crs")) && err.contains("not a projected CRS"), "{err}");
}

/// `units = "layer"`: m_eff per polygon of a reporting-unit layer (here two "countries" in WGS 84,
/// read into the study CRS). The range layer given as units reproduces `units = "ranges"` exactly;
/// the check names a missing table or file with its line.
#[test]
fn fragment_reports_per_polygon_of_a_units_layer() {
    let d = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("data/ustyurt"), d.path());
    let box_ = |name: &str, x0: f64, x1: f64| {
        format!(
            r#"{{"type":"Feature","properties":{{"NAME":"{name}"}},"geometry":{{"type":"Polygon","coordinates":[[[{x0},42],[{x1},42],[{x1},47],[{x0},47],[{x0},42]]]}}}}"#
        )
    };
    std::fs::write(
        d.path().join("countries.geojson"),
        format!(r#"{{"type":"FeatureCollection","features":[{},{}]}}"#, box_("West", 54.5, 57.0), box_("East", 57.0, 59.5)),
    )
    .unwrap();
    let text = std::fs::read_to_string(d.path().join("project.toml")).unwrap();
    let analyses = "[analyses.intersect]\n\n[analyses.fragment]\n\n[analyses.resistance]\n\n[analyses.corridors]\n\n[analyses.circuit]\n";
    assert!(text.contains(analyses));
    let project = d.path().join("project.toml");
    let with = |fragment: &str| {
        std::fs::write(&project, text.replace(analyses, &format!("[analyses.fragment]\n{fragment}\n"))).unwrap();
    };
    with("");
    let by_range = d.path().join("by-range");
    run_ok(&project, &by_range, &["--quiet"]);
    with("units = \"layer\"\nunits_layer = { path = \"ranges.geojson\", id_field = \"id\" }");
    let by_layer = d.path().join("by-layer");
    run_ok(&project, &by_layer, &["--quiet"]);
    for s in ["baseline", "lowered-strands"] {
        let a = std::fs::read_to_string(by_range.join(s).join("meff.csv")).unwrap();
        assert_eq!(a, std::fs::read_to_string(by_layer.join(s).join("meff.csv")).unwrap());
    }
    with("units = \"layer\"\nunits_layer = { path = \"countries.geojson\", id_field = \"NAME\" }");
    let by_country = d.path().join("by-country");
    run_ok(&project, &by_country, &["--quiet"]);
    let c = comparison(&by_country);
    let (_, west) = get(&c, "baseline", "", "meff_km2", "West");
    let (_, east) = get(&c, "baseline", "", "meff_km2", "East");
    // Each box is 2.5° × 5° (about 198 km × 555 km, 110,000 km²). The fence does not close, so
    // the complete (CBC) patch spans both boxes: m_eff is at most their joint area.
    for m in [west, east] {
        assert!(m > 1000.0 && m < 225_000.0, "m_eff {west} {east}");
    }
    // A changed units layer redoes the fragment stage.
    let again = std::fs::read_to_string(d.path().join("countries.geojson")).unwrap().replace("59.5", "59.0");
    std::fs::write(d.path().join("countries.geojson"), again).unwrap();
    run_ok(&project, &by_country, &["--quiet"]);
    let redone = manifest(&by_country)["stages"].as_array().unwrap().iter().filter(|s| s["reused"] == false).count();
    assert_eq!(redone, 2, "{}", manifest(&by_country));
    // The check: units = "layer" without its table, a missing file, a table without units = "layer".
    let name = project.display().to_string();
    for (fragment, needle) in [
        ("units = \"layer\"", "needs units_layer"),
        ("units = \"layer\"\nunits_layer = { path = \"nowhere.gpkg\" }", "nowhere.gpkg: no such file"),
        ("units_layer = { path = \"countries.geojson\" }", "units is not \"layer\""),
    ] {
        with(fragment);
        let written = std::fs::read_to_string(&project).unwrap();
        let line = written.lines().position(|l| l == fragment.lines().last().unwrap()).unwrap() + 1;
        let o = kulan(&["run", project.to_str().unwrap(), "--check"]);
        assert!(!o.status.success(), "{fragment}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.lines().any(|l| l.contains(&format!("{name}:{line}:")) && l.contains(needle)), "{fragment}\n{err}");
    }
}

/// `[analyses.crossings]`: BaBA per scenario on tracks written here (UTM 48N). One animal walks
/// back and forth across a fence (Quick_Cross), one comes up to it and turns back (Bounce). With
/// the fence opened where the first one crosses, its crossings are no encounters any more.
#[test]
fn crossings_stage_classifies_tracks_per_scenario() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let crs = r#""crs":{"type":"name","properties":{"name":"EPSG:32648"}}"#;
    let (x0, y0) = (500_000.0, 5_000_000.0);
    let collection = |features: &str| format!(r#"{{"type":"FeatureCollection",{crs},"features":[{features}]}}"#);
    std::fs::write(
        dir.join("fence.geojson"),
        collection(&format!(
            r#"{{"type":"Feature","properties":{{"id":1,"kind":"fence","height_m":1.5,"bottom_wire_cm":10,"barbed":true}},"geometry":{{"type":"LineString","coordinates":[[{x0},{}],[{x0},{}]]}}}}"#,
            y0 - 40_000.0,
            y0 + 40_000.0
        )),
    )
    .unwrap();
    let (a, b) = (x0 - 50_000.0, x0 + 50_000.0);
    std::fs::write(
        dir.join("range.geojson"),
        collection(&format!(
            r#"{{"type":"Feature","properties":{{"id":1,"species":"khulan"}},"geometry":{{"type":"Polygon","coordinates":[[[{a},{}],[{b},{}],[{b},{}],[{a},{}],[{a},{}]]]}}}}"#,
            y0 - 50_000.0,
            y0 - 50_000.0,
            y0 + 50_000.0,
            y0 + 50_000.0,
            y0 - 50_000.0
        )),
    )
    .unwrap();
    std::fs::write(
        dir.join("opening.geojson"),
        collection(&format!(r#"{{"type":"Feature","properties":{{"id":1,"type":"fence_gap","width_m":6000}},"geometry":{{"type":"Point","coordinates":[{x0},{y0}]}}}}"#)),
    )
    .unwrap();
    std::fs::write(dir.join("fixes.csv"), common::crosser_and_bouncer_fixes(x0, y0)).unwrap();
    let project = dir.join("project.toml");
    let text = r#"[study]
name = "fence and tracks"
crs = "EPSG:32648"
cell_m = 1000

[barriers.fence]
path = "fence.geojson"

[[ranges]]
path = "range.geojson"

[species]
names = ["khulan"]

[tracks]
path = "fixes.csv"
id_field = "animal"
time_field = "t"
x_field = "x"
y_field = "y"
crs = "EPSG:32648"

[analyses.crossings]
buffer_m = 1000

[[scenarios]]
name = "baseline"

[[scenarios]]
name = "opened"
crossings = [{ path = "opening.geojson", break_cuts = true }]
"#;
    std::fs::write(&project, text).unwrap();
    let out = dir.join("out");
    run_ok(&project, &out, &["--quiet"]);
    for s in ["baseline", "opened"] {
        for f in ["events.csv", "events.gpkg", "barriers.csv", "barriers.gpkg", "classes.csv"] {
            assert!(out.join(s).join("crossings").join(f).is_file(), "missing {s}/crossings/{f}");
        }
    }
    let c = comparison(&out);
    let (base_cross, open_cross) = get(&c, "opened", "", "baba_events", "Quick_Cross");
    let (base_bounce, open_bounce) = get(&c, "opened", "", "baba_events", "Bounce");
    // The crosser crosses 12 times in 240 fixes (twice per 40); the bouncer turns back 8 times.
    assert!(base_cross >= 10.0 && open_cross == 0.0, "Quick_Cross {base_cross} -> {open_cross}");
    assert!(base_bounce >= 6.0 && open_bounce == base_bounce, "Bounce {base_bounce} -> {open_bounce}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Barrier-crossing behaviour") && html.contains("Quick_Cross"));
    // Cached: a second run reuses both crossing stages; changed tracks redo them.
    run_ok(&project, &out, &["--quiet"]);
    assert_eq!(manifest(&out)["stages_reused"], 2);
    let fixes = std::fs::read_to_string(dir.join("fixes.csv")).unwrap();
    std::fs::write(dir.join("fixes.csv"), fixes.replacen("crosser,", "crosser2,", 1)).unwrap();
    run_ok(&project, &out, &["--quiet"]);
    assert_eq!(manifest(&out)["stages_reused"], 0);
    // The check: a missing column and a bad buffer, each with its line.
    let bad = text.replace("time_field = \"t\"", "time_field = \"when\"").replace("buffer_m = 1000", "buffer_m = -5");
    std::fs::write(&project, &bad).unwrap();
    let o = kulan(&["run", project.to_str().unwrap(), "--check"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let name = project.display().to_string();
    let line = |needle: &str| bad.lines().position(|l| l == needle).unwrap() + 1;
    assert!(err.lines().any(|l| l.contains(&format!("{name}:{}:", line("path = \"fixes.csv\""))) && l.contains("no column 'when'")), "{err}");
    assert!(err.lines().any(|l| l.contains(&format!("{name}:{}:", line("buffer_m = -5"))) && l.contains("buffer_m")), "{err}");
}
