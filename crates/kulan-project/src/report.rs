//! After the stages: the comparison table, `run.json` and `OUT/report.html` — summary, maps,
//! tables, the permeability model with its citations, the run's settings.

use std::path::Path;

use anyhow::Context;
use geo::{Centroid, MultiLineString, MultiPolygon};
use kulan_core::{BarrierKind, BarrierStatus, Range};
use kulan_io::vector::{read_layer, LayerRef};
use kulan_io::Reprojector;
use kulan_report::{Map, Page, Ramp, Rgba};

use crate::analyses::{fragment_units, project_model, study_extent};
use crate::check::LoadedProject;
use crate::compare::{collect_metrics, compare, read_csv, write_comparison_csv, Comparison};
use crate::manifest::{manifest, write_manifest};
use crate::run::{run_project_into, Progress, RunOptions, RunOutcome};
use crate::scenario::{load_scenario, ScenarioInputs};

/// Map width in pixels (the map area; the legend panel comes on top).
const MAP_WIDTH: u32 = 760;

/// Runs the project, then writes `comparison.csv`, `report.html` and `run.json` into `out`.
/// A failed run still writes `run.json`, with the error.
pub fn run_and_report(
    lp: &LoadedProject,
    out: &Path,
    options: &RunOptions,
    progress: &dyn Progress,
    flags: &[String],
) -> anyhow::Result<RunOutcome> {
    let mut outcome = RunOutcome { out: out.to_path_buf(), records: Vec::new(), inputs: Vec::new(), seconds: 0.0 };
    if let Err(e) = run_project_into(lp, out, options, progress, &mut outcome) {
        let m = manifest(lp, &outcome, flags, Some(&format!("{e:#}")));
        write_manifest(&out.join("run.json"), &m).ok();
        return Err(e);
    }
    let metrics = collect_metrics(lp, out)?;
    let baseline = lp.project.scenarios[0].name.get_ref().clone();
    let rows = compare(&metrics, &baseline);
    write_comparison_csv(&out.join("comparison.csv"), &rows)?;
    progress.message("writing report.html");
    let html = report_html(lp, out, &rows, &outcome)?;
    crate::outputs::intersect::write_text(&out.join("report.html"), &html)?;
    write_manifest(&out.join("run.json"), &manifest(lp, &outcome, flags, None))?;
    Ok(outcome)
}

fn kind_color(kind: BarrierKind) -> Rgba {
    match kind {
        BarrierKind::Fence => Rgba(120, 60, 160, 255),
        BarrierKind::BorderFence => Rgba(200, 20, 20, 255),
        BarrierKind::Railway => Rgba(20, 20, 20, 255),
        BarrierKind::Road => Rgba(230, 130, 0, 255),
        BarrierKind::Other => Rgba(100, 100, 100, 255),
    }
}

fn range_polys(s: &ScenarioInputs) -> Vec<&MultiPolygon<f64>> {
    s.ranges.iter().map(|r| &r.geometry).collect()
}

/// Barriers by kind (planned ones dashed) over the ranges, with crossings as points.
fn barrier_map(lp: &LoadedProject, s: &ScenarioInputs, extent: [f64; 4]) -> anyhow::Result<Vec<u8>> {
    let mut map = Map::new(&format!("Barriers by kind — {}", s.title), extent, MAP_WIDTH);
    map.polygons(&range_polys(s), Rgba(150, 200, 140, 110), Rgba(60, 120, 60, 255), 1.2);
    map.legend_swatch("species range", Rgba(150, 200, 140, 110));
    if !s.added.is_empty() {
        let added: Vec<MultiLineString<f64>> = s.added.iter().map(|&i| s.barriers[i].geometry.clone()).collect();
        map.lines(&added, Rgba(255, 220, 0, 200), 9.0);
        map.legend_line("added in this scenario", Rgba(255, 220, 0, 255));
    }
    for kind in BarrierKind::ALL {
        let (built, planned): (Vec<_>, Vec<_>) =
            s.barriers.iter().filter(|b| b.kind() == kind && b.attrs.status != BarrierStatus::Removed).partition(|b| b.attrs.status == BarrierStatus::Existing);
        let width = if kind == BarrierKind::Road { 1.8 } else { 2.4 };
        let lines = |v: &[&kulan_core::Barrier]| v.iter().map(|b| b.geometry.clone()).collect::<Vec<MultiLineString<f64>>>();
        map.lines(&lines(&built), kind_color(kind), width);
        map.lines_styled(&lines(&planned), kind_color(kind), width, true);
        if !built.is_empty() || !planned.is_empty() {
            map.legend_line(&kind.to_string().replace('_', " "), kind_color(kind));
        }
    }
    let pts: Vec<(f64, f64)> = s.crossings.iter().filter_map(|c| c.geometry.centroid()).map(|p| (p.x(), p.y())).collect();
    if !pts.is_empty() {
        map.points(&pts, Rgba(40, 140, 255, 255), 4.0);
        map.legend_swatch("crossing / opening", Rgba(40, 140, 255, 255));
    }
    map.note(&format!("CRS: {}; cell {} m", short(lp.project.study.crs.get_ref()), lp.project.study.cell_m));
    map.render().map_err(anyhow::Error::msg)
}

fn short(s: &str) -> String {
    if s.len() > 60 {
        format!("{}…", &s[..60])
    } else {
        s.to_string()
    }
}

/// m_eff per reporting unit, coloured from 0 to the largest unit area.
fn meff_map(s: &ScenarioInputs, units: &[Range], dir: &Path, extent: [f64; 4]) -> anyhow::Result<Option<Vec<u8>>> {
    let path = dir.join("meff.csv");
    if !path.exists() {
        return Ok(None);
    }
    let rows = read_csv(&path)?;
    let by_id: std::collections::BTreeMap<String, (f64, f64)> = rows
        .iter()
        .map(|r| {
            let get = |k: &str| r.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
            (r["range_id"].clone(), (get("meff_km2"), get("area_m2") / 1e6))
        })
        .collect();
    // CBC m_eff may exceed a unit's area (patches continue across its border): the ramp runs
    // to whichever is larger.
    let max = by_id.values().map(|v| v.0.max(v.1)).filter(|v| v.is_finite()).fold(0.0, f64::max).max(1e-9);
    let mut map = Map::new(&format!("Effective mesh size per unit — {}", s.title), extent, MAP_WIDTH);
    let polys: Vec<&MultiPolygon<f64>> = units.iter().map(|u| &u.geometry).collect();
    let fills: Vec<Rgba> = units
        .iter()
        .map(|r| by_id.get(&r.id.to_string()).map_or(Rgba(200, 200, 200, 160), |v| {
            let c = Ramp::RedGreen.at(v.0 / max);
            Rgba(c.0, c.1, c.2, 190)
        }))
        .collect();
    map.polygons_each(&polys, &fills, Rgba(40, 40, 40, 255), 1.0);
    for r in units {
        if let (Some(c), Some(v)) = (r.geometry.centroid(), by_id.get(&r.id.to_string())) {
            map.label(c.x(), c.y(), &format!("{}: {:.0} km²", r.id, v.0));
        }
    }
    map.lines(&s.barriers.iter().map(|b| b.geometry.clone()).collect::<Vec<_>>(), Rgba(20, 20, 20, 200), 1.2);
    map.legend_ramp("m_eff (km²)", Ramp::RedGreen, "0 (cut up)", &format!("{max:.0}"));
    map.legend_line("barrier", Rgba(20, 20, 20, 200));
    map.note("m_eff: the area an animal placed at random can reach without crossing a cutting barrier (Jaeger 2000; CBC, Moser et al. 2007)");
    Ok(Some(map.render().map_err(anyhow::Error::msg)?))
}

/// A raster map of a stage output, with the cores outlined.
#[allow(clippy::too_many_arguments)]
fn raster_map(
    title: &str,
    tif: &Path,
    ramp: Ramp,
    log: bool,
    upper_quantile: f64,
    legend: &str,
    cores: &[MultiPolygon<f64>],
    s: &ScenarioInputs,
    extent: [f64; 4],
) -> anyhow::Result<Option<Vec<u8>>> {
    if !tif.exists() {
        return Ok(None);
    }
    let grid = kulan_io::read_raster(tif)?;
    let vals: Vec<f64> = grid.data.iter().copied().filter(|v| v.is_finite() && !grid.is_nodata(*v) && (!log || *v > 0.0)).collect();
    let (lo, hi) = if vals.is_empty() {
        (0.0, 1.0)
    } else {
        let mut sorted = vals.clone();
        sorted.sort_by(f64::total_cmp);
        // An upper quantile below 1 keeps one hot cell from washing the map out.
        let hi = sorted[((sorted.len() - 1) as f64 * upper_quantile) as usize];
        (sorted[0], if hi > sorted[0] { hi } else { sorted[sorted.len() - 1] })
    };
    let mut map = Map::new(title, extent, MAP_WIDTH);
    map.raster(&grid, ramp, lo, hi, log);
    map.polygons(&range_polys(s), Rgba(0, 0, 0, 0), Rgba(60, 120, 60, 255), 1.0);
    let core_refs: Vec<&MultiPolygon<f64>> = cores.iter().collect();
    map.polygons(&core_refs, Rgba(255, 255, 255, 90), Rgba(0, 90, 200, 255), 2.0);
    for (i, c) in cores.iter().enumerate() {
        if let Some(p) = c.centroid() {
            map.label(p.x(), p.y(), &format!("core {}", i + 1));
        }
    }
    map.legend_ramp(legend, ramp, &fmt_num(lo), &fmt_num(hi));
    map.legend_swatch("no data / impassable", Rgba(250, 250, 245, 255));
    map.legend_line("core area", Rgba(0, 90, 200, 255));
    map.legend_line("range outline", Rgba(60, 120, 60, 255));
    Ok(Some(map.render().map_err(anyhow::Error::msg)?))
}

/// The study grid widened to show the whole ranges.
fn vector_extent(s: &ScenarioInputs, grid: [f64; 4]) -> [f64; 4] {
    use geo::BoundingRect;
    let mut e = grid;
    for r in s.ranges.iter().filter_map(|r| r.geometry.bounding_rect()) {
        e = [e[0].min(r.min().x), e[1].min(r.min().y), e[2].max(r.max().x), e[3].max(r.max().y)];
    }
    let pad = 0.03 * (e[2] - e[0]).max(e[3] - e[1]);
    if e == grid {
        e
    } else {
        [e[0] - pad, e[1] - pad, e[2] + pad, e[3] + pad]
    }
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 1e5 || (v != 0.0 && v.abs() < 1e-2) {
        format!("{v:.2e}")
    } else {
        format!("{v:.2}")
    }
}

/// The cores as polygons in the study CRS (points get a small square so they show).
fn read_cores(lp: &LoadedProject, s: &ScenarioInputs) -> anyhow::Result<Vec<MultiPolygon<f64>>> {
    let Some(c) = &lp.project.cores else { return Ok(Vec::new()) };
    let raw = read_layer(&LayerRef { path: lp.resolve(c.path.get_ref()), layer: c.layer.clone() })?;
    let reproject = raw.crs_wkt.as_ref().map(|w| Reprojector::new(w, &s.crs, &raw.label())).transpose()?;
    let half = lp.project.study.cell_m;
    let mut out = Vec::new();
    for f in &raw.features {
        let Some(mut g) = f.geometry.clone() else { continue };
        if let Some(r) = &reproject {
            r.apply(&mut g);
        }
        match g {
            geo::Geometry::Polygon(p) => out.push(MultiPolygon::new(vec![p])),
            geo::Geometry::MultiPolygon(mp) => out.push(mp),
            other => {
                if let Some(p) = other.centroid() {
                    let r = geo::Rect::new((p.x() - half, p.y() - half), (p.x() + half, p.y() + half));
                    out.push(MultiPolygon::new(vec![r.to_polygon()]));
                }
            }
        }
    }
    Ok(out)
}

fn cell(v: f64) -> String {
    if v.is_infinite() {
        "disconnected".into()
    } else if v.is_nan() {
        String::new()
    } else if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// BaBA encounter events by class, one row per scenario (from each `crossings/events.csv`).
fn crossings_table(page: &mut Page, rows: &[Comparison], p: &crate::Project) {
    if p.analyses.crossings.is_none() {
        return;
    }
    let mut subjects: Vec<String> = kulan_crossings::EventClass::ALL.iter().map(|c| c.as_str().to_string()).collect();
    subjects.push("all encounters".into());
    let table: Vec<Vec<String>> = p
        .scenarios
        .iter()
        .map(|s| {
            let mut row = vec![s.name.get_ref().clone()];
            for subject in &subjects {
                let v = rows
                    .iter()
                    .find(|r| r.metric.scenario == *s.name.get_ref() && r.metric.metric == "baba_events" && r.metric.subject == *subject);
                row.push(v.map_or_else(|| "-".into(), |r| format!("{:.0}", r.metric.value)));
            }
            row
        })
        .collect();
    page.subheading("Barrier-crossing behaviour from the GPS tracks (BaBA, Xu et al. 2021)");
    let mut header = vec!["scenario"];
    header.extend(subjects.iter().map(String::as_str));
    page.table(&header, &table);
}

fn report_html(lp: &LoadedProject, out: &Path, rows: &[Comparison], outcome: &RunOutcome) -> anyhow::Result<String> {
    let p = &lp.project;
    let mut page = Page::new(&p.study.name);
    if !p.study.description.is_empty() {
        page.paragraph(&p.study.description);
    }
    // Summary.
    page.heading("Summary");
    let baseline = p.scenarios[0].name.get_ref();
    page.paragraph(&format!(
        "{} scenario(s) compared with the baseline '{}', for {}. Analyses: {}. Changes are each scenario minus the baseline; \
         'disconnected' means no path or no current can pass between the two cores.",
        p.scenarios.len(),
        baseline,
        p.species.names.get_ref().join(", "),
        crate::run::plan(lp).iter().map(|s| s.analysis).collect::<std::collections::BTreeSet<_>>().into_iter().collect::<Vec<_>>().join(", ")
    ));
    let scen_rows: Vec<Vec<String>> = p
        .scenarios
        .iter()
        .map(|s| vec![s.name.get_ref().clone(), if s.title.is_empty() { s.name.get_ref().clone() } else { s.title.clone() }])
        .collect();
    page.table(&["scenario", "what it is"], &scen_rows);
    for s in p.scenarios.iter().skip(1) {
        let name = s.name.get_ref();
        page.subheading(&format!("{}: {}", name, if s.title.is_empty() { name } else { &s.title }));
        page.list(&findings(rows, name));
    }
    let headline: Vec<Vec<String>> = rows
        .iter()
        .filter(|r| r.metric.scenario != *baseline)
        .filter(|r| r.metric.metric != "barrier_km_in_range" || r.metric.subject == "all ranges")
        .filter(|r| r.metric.metric != "baba_events")
        .map(|r| comparison_row(r))
        .collect();
    page.table(&["scenario", "species", "measure", "between / in", "unit", "baseline", "scenario value", "change", "change %"], &headline);
    crossings_table(&mut page, rows, p);

    // Maps.
    let model = project_model(lp)?;
    for s in &p.scenarios {
        let inputs = load_scenario(lp, s).context("reading the layers for the maps")?;
        let raster_extent = study_extent(lp, &inputs)?;
        let extent = vector_extent(&inputs, raster_extent);
        let dir = out.join(s.name.get_ref());
        page.heading(&format!("Maps — {}", inputs.title));
        page.figure(&barrier_map(lp, &inputs, extent)?, "barrier map", "Barriers by kind over the species ranges; dashed: planned; blue points: crossing structures and openings.");
        let units = match &p.analyses.fragment {
            Some(f) => fragment_units(lp, f, &inputs)?,
            None => Vec::new(),
        };
        if let Some(png) = meff_map(&inputs, &units, &dir, extent)? {
            page.figure(&png, "m_eff map", "Effective mesh size per reporting unit (meff.csv), with the barriers.");
        }
        let cores = read_cores(lp, &inputs)?;
        for sp in p.species.names.get_ref() {
            let sd = dir.join(sp);
            let items = [
                ("resistance.tif", Ramp::Viridis, true, 1.0, "resistance (log)", "Resistance surface (resistance.tif); impassable cells (p = 0) are left blank."),
                ("corridors/corridors.tif", Ramp::Viridis, false, 1.0, "corridor cost above the best path", "Least-cost corridors between cores (corridors/corridors.tif, the normalised mosaic; dark = on or near a least-cost path)."),
                ("circuit_cum_curmap.tif", Ramp::Heat, true, 0.99, "current (log)", "Cumulative current between all core pairs (circuit_cum_curmap.tif): where movement concentrates."),
            ];
            for (file, ramp, log, q, legend, caption) in items {
                let title = format!("{} — {sp} — {}", legend.split(" (").next().unwrap_or(legend), inputs.title);
                if let Some(png) = raster_map(&title, &sd.join(file), ramp, log, q, legend, &cores, &inputs, raster_extent)? {
                    page.figure(&png, &format!("{file} {sp}"), caption);
                }
            }
        }
    }

    // Tables.
    page.heading("All numbers");
    page.paragraph("Also in comparison.csv; each scenario's own files are in its folder with the names the individual commands write.");
    page.table(
        &["scenario", "species", "measure", "between / in", "unit", "baseline", "scenario value", "change", "change %"],
        &rows.iter().map(comparison_row).collect::<Vec<_>>(),
    );

    // The model.
    page.heading("Permeability model");
    page.paragraph(&format!(
        "{} ({}). p is the probability that an animal meeting the barrier crosses it; resistance r = base × (1 + cell/encounter cost × (1/p − 1)); p = 0 is impassable.",
        model.name, model.origin
    ));
    let species_keys: Vec<String> = p.species.names.get_ref().iter().filter_map(|s| model.species_key(s).ok()).collect();
    let mut header = vec!["class", "name"];
    header.extend(species_keys.iter().map(String::as_str));
    header.extend(["confidence", "citation"]);
    let class_rows: Vec<Vec<String>> = model
        .barrier_classes
        .iter()
        .chain(&model.crossing_classes)
        .map(|c| {
            let mut row = vec![c.id.clone(), c.name.clone()];
            row.extend(species_keys.iter().map(|k| c.p.get(k).map_or("—".into(), |v| format!("{v:.2}"))));
            row.push(c.confidence.clone().unwrap_or_default());
            row.push(c.citation.clone().unwrap_or_else(|| c.same_as.as_ref().map(|s| format!("as {s}")).unwrap_or_default()));
            row
        })
        .collect();
    page.table(&header, &class_rows);

    // Settings.
    page.heading("Run settings");
    let reused = outcome.records.iter().filter(|r| r.reused).count();
    page.paragraph(&format!(
        "Kulan {}; {} stages ({} reused from the cache); {:.1} s. Inputs with their SHA-256 are listed in run.json.",
        env!("CARGO_PKG_VERSION"),
        outcome.records.len(),
        reused,
        outcome.seconds
    ));
    page.table(
        &["input", "sha256"],
        &outcome.inputs.iter().map(|(path, h)| vec![path.display().to_string(), h[..16].to_string()]).collect::<Vec<_>>(),
    );
    page.subheading(&format!("Project file ({})", lp.file.display()));
    page.pre(&lp.text);
    Ok(page.finish())
}

/// The changes worth a sentence: connections made or lost, and numbers that moved by more than
/// 0.5 %.
fn findings(rows: &[Comparison], scenario: &str) -> Vec<String> {
    let mut out = Vec::new();
    for r in rows.iter().filter(|r| r.metric.scenario == scenario) {
        let m = &r.metric;
        let who = if m.species.is_empty() { String::new() } else { format!("{}: ", m.species) };
        let what = match m.metric.as_str() {
            "barrier_km_in_range" if m.subject == "all ranges" => "barrier length inside the ranges".to_string(),
            "barrier_km_in_range" => continue,
            "meff_km2" => format!("effective mesh size of unit {}", m.subject),
            "baba_events" => format!("BaBA {} events", m.subject),
            "effective_resistance" => format!("effective resistance between cores {}", m.subject.replace('-', " and ")),
            "corridor_cost" => format!("least-cost corridor cost between cores {}", m.subject.replace('-', " and ")),
            other => other.to_string(),
        };
        match (r.baseline.is_finite(), m.value.is_finite()) {
            (false, true) => out.push(format!("{who}cores {} become connected ({what}: {})", m.subject.replace('-', " and "), cell(m.value))),
            (true, false) => out.push(format!("{who}cores {} are cut off from each other", m.subject.replace('-', " and "))),
            (true, true) if r.change_pct.is_some_and(|p| p.abs() >= 0.5) => out.push(format!(
                "{who}{what}: {} → {} {} ({:+.1} %)",
                cell(r.baseline),
                cell(m.value),
                m.unit,
                r.change_pct.unwrap_or(0.0)
            )),
            _ => {}
        }
    }
    if out.is_empty() {
        out.push("no change of 0.5 % or more in any measure".into());
    }
    out
}

fn comparison_row(r: &Comparison) -> Vec<String> {
    let m = &r.metric;
    vec![
        m.scenario.clone(),
        m.species.clone(),
        m.metric.replace('_', " "),
        m.subject.clone(),
        m.unit.clone(),
        cell(r.baseline),
        cell(m.value),
        r.change.map_or_else(|| if r.baseline.is_infinite() != m.value.is_infinite() { if m.value.is_infinite() { "disconnected".into() } else { "connected".into() } } else { String::new() }, |c| format!("{:+.3}", c)),
        r.change_pct.map_or(String::new(), |c| format!("{c:+.1}%")),
    ]
}
