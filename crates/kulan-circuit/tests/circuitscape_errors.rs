//! Error paths and edge cases of the `.ini` runner: missing files and unknown options give
//! errors that name the file or option; a focal point on NoData, zero resistances and
//! resistances spanning 1e-3..1e9 give documented, checked results (never a panic).

use std::path::Path;

use kulan_circuit::circuitscape::{run_config, AscReader, AscWriter, CsConfig, RunOptions};
use kulan_circuit::SolverKind;

fn asc(dir: &Path, name: &str, rows: &[&[f64]]) {
    let mut s = format!(
        "ncols {}\nnrows {}\nxllcorner 0\nyllcorner 0\ncellsize 1\nNODATA_value -9999\n",
        rows[0].len(),
        rows.len()
    );
    for r in rows {
        s.push_str(&r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" "));
        s.push('\n');
    }
    std::fs::write(dir.join(name), s).unwrap();
}

/// A pairwise `.ini` over `habitat.asc` and `points.txt` in `dir`, plus `extra` lines.
fn ini(extra: &str) -> String {
    format!(
        "[Circuitscape mode]\ndata_type = raster\nscenario = pairwise\n\
         [Habitat raster or graph]\nhabitat_file = habitat.asc\nhabitat_map_is_resistances = True\n\
         [Connection scheme for raster habitat data]\nconnect_four_neighbors_only = True\n\
         connect_using_avg_resistances = True\n\
         [Options for pairwise and one-to-all and all-to-one modes]\npoint_file = points.txt\n\
         [Output options]\noutput_file = out.out\nwrite_cur_maps = False\n{extra}"
    )
}

fn run(dir: &Path, text: &str, solver: SolverKind) -> Result<Vec<Vec<f64>>, String> {
    let cfg = CsConfig::parse(text, "test.ini", dir.to_path_buf(), dir.to_path_buf()).map_err(|e| e.to_string())?;
    run_config(&cfg, &AscReader, &AscWriter, RunOptions { solver, tol: 1e-10 }).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(dir.join("out_resistances.out")).unwrap();
    Ok(text.lines().map(|l| l.split_whitespace().map(|w| w.parse().unwrap()).collect()).collect())
}

#[test]
fn missing_input_file_is_named() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("points.txt"), "1 0.5 0.5\n2 2.5 0.5\n").unwrap();
    let e = run(d.path(), &ini(""), SolverKind::Auto).unwrap_err();
    assert!(e.contains("habitat.asc"), "{e}");
}

#[test]
fn unknown_option_is_named() {
    let d = tempfile::tempdir().unwrap();
    let e = run(d.path(), &ini("write_cur_mpas = True\n"), SolverKind::Auto).unwrap_err();
    assert!(e.contains("write_cur_mpas") && e.contains("unknown option"), "{e}");
}

#[test]
fn focal_point_on_nodata_gets_minus_one() {
    let d = tempfile::tempdir().unwrap();
    asc(d.path(), "habitat.asc", &[&[1.0, 1.0, 1.0, -9999.0]]);
    // Ids 1 and 2 on habitat, id 3 on the NoData cell.
    std::fs::write(d.path().join("points.txt"), "1 0.5 0.5\n2 2.5 0.5\n3 3.5 0.5\n").unwrap();
    let m = run(d.path(), &ini(""), SolverKind::Auto).unwrap();
    assert_eq!(m[0], vec![0.0, 1.0, 2.0, 3.0]);
    assert!((m[1][2] - 2.0).abs() < 1e-9, "{m:?}"); // two unit links in series
    assert_eq!(m[1][3], -1.0);
    assert_eq!(m[2][3], -1.0);
    assert_eq!(m[3][1], -1.0);
}

#[test]
fn zero_resistance_cells_are_short_circuits() {
    // Links (avg resistance): (1+0)/2, (0+0)/2 = short, (0+1)/2 → 1 Ω; with polygons the same.
    let d = tempfile::tempdir().unwrap();
    asc(d.path(), "habitat.asc", &[&[1.0, 0.0, 0.0, 1.0]]);
    std::fs::write(d.path().join("points.txt"), "1 0.5 0.5\n2 3.5 0.5\n").unwrap();
    let m = run(d.path(), &ini(""), SolverKind::Auto).unwrap();
    assert!((m[1][2] - 1.0).abs() < 1e-12, "{m:?}");
    // Two focal points on one zero-resistance run: no resistance between them.
    std::fs::write(d.path().join("points.txt"), "1 1.5 0.5\n2 2.5 0.5\n").unwrap();
    let m = run(d.path(), &ini(""), SolverKind::Auto).unwrap();
    assert_eq!(m[1][2], 0.0, "{m:?}");
}

/// Resistances from 1e-3 to 1e9 in one strip: the series sum is exact, and both solvers reach it
/// to 1e-7 relative (condition number ~1e12, so a few digits of the 16 are lost; measured 1e-9).
#[test]
fn ill_conditioned_strip_matches_series_sum() {
    let r: Vec<f64> = (0..40).map(|i| 10f64.powi((i * 7) % 13 - 3)).collect();
    let expected: f64 = r.windows(2).map(|w| (w[0] + w[1]) / 2.0).sum();
    let d = tempfile::tempdir().unwrap();
    asc(d.path(), "habitat.asc", &[&r]);
    std::fs::write(d.path().join("points.txt"), "1 0.5 0.5\n2 39.5 0.5\n").unwrap();
    for solver in [SolverKind::Direct, SolverKind::Iterative] {
        let m = run(d.path(), &ini(""), solver).unwrap();
        assert!(((m[1][2] - expected) / expected).abs() < 1e-7, "{solver:?}: {} vs {expected}", m[1][2]);
    }
}

/// A 2-D grid with resistances over 12 decades: direct and iterative solvers agree.
#[test]
fn ill_conditioned_grid_solvers_agree() {
    let n = 24;
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| 10f64.powi(((i * 5 + j * 3) % 13) as i32 - 3)).collect())
        .collect();
    let refs: Vec<&[f64]> = rows.iter().map(|r| r.as_slice()).collect();
    let d = tempfile::tempdir().unwrap();
    asc(d.path(), "habitat.asc", &refs);
    std::fs::write(d.path().join("points.txt"), "1 0.5 0.5\n2 23.5 23.5\n3 12.5 3.5\n").unwrap();
    let a = run(d.path(), &ini(""), SolverKind::Direct).unwrap();
    let b = run(d.path(), &ini(""), SolverKind::Iterative).unwrap();
    for i in 1..4 {
        for j in 1..4 {
            let (x, y) = (a[i][j], b[i][j]);
            assert!(x.is_finite() && x >= 0.0, "{a:?}");
            assert!((x - y).abs() <= 1e-6 * x.abs().max(1e-300), "direct {x} vs iterative {y}");
        }
    }
    assert!(a[1][2] > 0.0);
}
