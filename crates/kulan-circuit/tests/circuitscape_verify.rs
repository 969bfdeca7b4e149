//! End to end: every Circuitscape verification `.ini` in `../shared/peers/circuitscape` (see its
//! MANIFEST.md) is run through the same entry point as `kulan circuitscape`, and every output the
//! run produces is compared with Circuitscape's expected file at Circuitscape.jl's tolerances:
//! resistances within 1e-3, ASCII grids and network tables with a sum of squared differences
//! below 1e-6. Prints one line per case. Cases listed in `KNOWN_FAILURES` are reported but do not
//! fail the test (each with its reason); any other failure does.

use std::path::{Path, PathBuf};

use kulan_circuit::circuitscape::{run_config, AscReader, AscWriter, CsConfig, RunOptions};
use kulan_circuit::SolverKind;

/// Cases not yet matched, with the reason.
const KNOWN_FAILURES: &[(&str, &str)] = &[
];

fn test_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peers/circuitscape/test");
    p.is_dir().then_some(p)
}

fn inis(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            inis(&p, out);
        } else if p.extension().is_some_and(|e| e == "ini") {
            out.push(p);
        }
    }
}

fn numbers(text: &str, skip: usize) -> Vec<Vec<f64>> {
    text.lines()
        .skip(skip)
        .map(|l| l.split_whitespace().filter_map(|w| w.parse::<f64>().ok()).collect::<Vec<_>>())
        .filter(|r: &Vec<f64>| !r.is_empty())
        .collect()
}

fn compare(produced: &Path, expected: &Path) -> Result<(), String> {
    let a = std::fs::read_to_string(produced).map_err(|e| e.to_string())?;
    let b = std::fs::read_to_string(expected).map_err(|e| e.to_string())?;
    let name = produced.file_name().unwrap().to_string_lossy().to_string();
    if name.ends_with(".out") {
        let (x, y) = (numbers(&a, 0), numbers(&b, 0));
        if x.len() != y.len() || x.iter().zip(&y).any(|(p, q)| p.len() != q.len()) {
            return Err(format!("{name}: shape differs ({} vs {} rows)", x.len(), y.len()));
        }
        for (p, q) in x.iter().zip(&y) {
            for (u, v) in p.iter().zip(q) {
                if (u - v).abs() > 1e-3 {
                    return Err(format!("{name}: {u} vs expected {v}"));
                }
            }
        }
        Ok(())
    } else {
        let skip = if name.ends_with(".asc") { 6 } else { 0 };
        let (mut x, mut y) = (numbers(&a, skip), numbers(&b, skip));
        if name.ends_with(".txt") {
            let key = |r: &Vec<f64>| r.iter().map(|v| format!("{:020.6}", v)).collect::<Vec<_>>();
            x.sort_by_key(key);
            y.sort_by_key(key);
        }
        let (fx, fy): (Vec<f64>, Vec<f64>) = (x.concat(), y.concat());
        if fx.len() != fy.len() {
            return Err(format!("{name}: {} values vs {} expected", fx.len(), fy.len()));
        }
        let ssd: f64 = fx.iter().zip(&fy).map(|(u, v)| (u - v) * (u - v)).sum();
        if ssd < 1e-6 {
            Ok(())
        } else {
            Err(format!("{name}: sum of squared differences {ssd:e}"))
        }
    }
}

fn run_case(test: &Path, ini: &Path, opts: RunOptions) -> Result<(usize, String), String> {
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::os::unix::fs::symlink(test.join("input"), work.path().join("input")).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(ini).map_err(|e| e.to_string())?;
    let cfg = CsConfig::parse(&text, &ini.display().to_string(), ini.parent().unwrap().to_path_buf(), work.path().to_path_buf())
        .map_err(|e| e.to_string())?;
    let summary = run_config(&cfg, &AscReader, &AscWriter, opts).map_err(|e| e.to_string())?;
    let mut compared = 0;
    let mut saw_resistances = !summary.files.iter().any(|f| f.to_string_lossy().ends_with("_resistances.out"));
    for f in &summary.files {
        let expected = test.join("output_verify").join(f.file_name().unwrap());
        if !expected.is_file() {
            continue; // only files both sides have are compared, as upstream
        }
        compare(f, &expected)?;
        compared += 1;
        if f.to_string_lossy().ends_with("_resistances.out") {
            saw_resistances = true;
        }
    }
    if !saw_resistances {
        return Err("expected resistances file missing".into());
    }
    if compared == 0 {
        return Err("no output matched an expected file".into());
    }
    Ok((compared, summary.mode))
}

#[test]
fn circuitscape_verification_suite() {
    let Some(test) = test_dir() else {
        eprintln!("skipping: ../shared/peers/circuitscape/test not found");
        return;
    };
    let mut list = Vec::new();
    inis(&test.join("input"), &mut list);
    let (mut pass, mut fail, mut known) = (0, 0, 0);
    let mut unexpected = Vec::new();
    for ini in &list {
        let rel = ini.strip_prefix(&test).unwrap().display().to_string();
        let known_reason = KNOWN_FAILURES.iter().find(|(k, _)| rel.ends_with(k)).map(|(_, r)| *r);
        match run_case(&test, ini, RunOptions::default()) {
            Ok((n, _)) => {
                pass += 1;
                println!("PASS {rel} ({n} files compared){}", if known_reason.is_some() { " [listed as known failure: remove it]" } else { "" });
                if known_reason.is_some() {
                    // Keeps KNOWN_FAILURES accurate: a fixed case must leave the list.
                    unexpected.push(format!("{rel} passes but is listed in KNOWN_FAILURES"));
                }
            }
            Err(e) => match known_reason {
                Some(r) => {
                    known += 1;
                    println!("KNOWN-FAIL {rel}: {e} (reason: {r})");
                }
                None => {
                    fail += 1;
                    println!("FAIL {rel}: {e}");
                    unexpected.push(rel);
                }
            },
        }
    }
    println!("circuitscape cases: {pass} passed, {fail} failed, {known} known failures, of {}", list.len());
    assert!(unexpected.is_empty(), "unexpected failures: {unexpected:?}");
}

/// The raster advanced-mode cases again with the iterative solver forced: plain grids take the
/// grid multigrid path (`gridsolve`), the others the graph engine with AMG.
#[test]
fn circuitscape_advanced_cases_with_the_iterative_solver() {
    let Some(test) = test_dir() else {
        eprintln!("skipping: ../shared/peers/circuitscape/test not found");
        return;
    };
    let mut list = Vec::new();
    inis(&test.join("input"), &mut list);
    let mut failures = Vec::new();
    let (mut ran, mut grid) = (0, 0);
    for ini in &list {
        let rel = ini.strip_prefix(&test).unwrap().display().to_string();
        let text = std::fs::read_to_string(ini).unwrap();
        let cfg = CsConfig::parse(&text, &rel, ini.parent().unwrap().to_path_buf(), ini.parent().unwrap().to_path_buf()).unwrap();
        if cfg.scenario() != "advanced" || cfg.get("data_type").eq_ignore_ascii_case("network") {
            continue;
        }
        if KNOWN_FAILURES.iter().any(|(k, _)| rel.ends_with(k)) {
            continue;
        }
        ran += 1;
        match run_case(&test, ini, RunOptions { solver: SolverKind::Iterative, tol: 1e-10 }) {
            Ok((n, mode)) => {
                grid += usize::from(mode.contains("grid multigrid"));
                println!("PASS {rel} ({n} files compared, {mode})");
            }
            Err(e) => {
                println!("FAIL {rel}: {e}");
                failures.push(rel);
            }
        }
    }
    println!("advanced raster cases with the iterative solver: {ran} run ({grid} on the grid path), {} failed", failures.len());
    assert!(ran > 0 && grid > 0, "no advanced raster case ran on the grid path");
    assert!(failures.is_empty(), "failures: {failures:?}");
}
