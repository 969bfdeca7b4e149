//! End-to-end tests of `kulan fragment` on the worked examples of
//! `shared/peers/fragmentation/meff_test_oracle.json`, through small GeoJSON files.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

const X0: f64 = 500_000.0;
const Y0: f64 = 5_000_000.0;
const CRS: &str = r#""crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32648"}}"#;

/// km coordinates of the oracle → UTM metres.
fn xy(x: f64, y: f64) -> String {
    format!("[{}, {}]", X0 + x * 1000.0, Y0 + y * 1000.0)
}

fn line(pts: &[(f64, f64)], props: &str) -> String {
    let c: Vec<String> = pts.iter().map(|&(x, y)| xy(x, y)).collect();
    format!(r#"{{"type": "Feature", "properties": {{{props}}}, "geometry": {{"type": "LineString", "coordinates": [{}]}}}}"#, c.join(", "))
}

fn rect(b: (f64, f64, f64, f64), props: &str) -> String {
    let (x0, y0, x1, y1) = b;
    let c = [xy(x0, y0), xy(x1, y0), xy(x1, y1), xy(x0, y1), xy(x0, y0)];
    format!(r#"{{"type": "Feature", "properties": {{{props}}}, "geometry": {{"type": "Polygon", "coordinates": [[{}]]}}}}"#, c.join(", "))
}

fn write_fc(path: &Path, features: &[String]) {
    let text = format!(r#"{{"type": "FeatureCollection", {CRS}, "features": [{}]}}"#, features.join(",\n"));
    std::fs::write(path, text).unwrap();
}

fn kulan(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_kulan")).args(args).output().expect("run kulan");
    assert!(out.status.success(), "kulan {:?} failed:\n{}", args, String::from_utf8_lossy(&out.stderr));
}

/// meff.csv as a map range_id → column → value.
fn read_csv(path: &Path) -> HashMap<String, HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        &header[..7],
        ["range_id", "area_m2", "n_patches", "patch_area_sum_m2", "meff_m2", "n_barrier_parts", "meff_km2"]
    );
    lines
        .map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            (v[0].to_string(), header.iter().zip(&v).map(|(h, x)| (h.to_string(), x.to_string())).collect())
        })
        .collect()
}

fn val(row: &HashMap<String, String>, col: &str) -> f64 {
    row[col].parse().unwrap_or_else(|_| panic!("{col} = {:?}", row[col]))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1e-300)
}

#[test]
fn example_a_builtup_exclusion() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_fc(
        &d.join("barriers.geojson"),
        &[
            line(&[(6., 0.), (6., 10.)], r#""id": 1, "kind": "road", "traffic_aadt": 5000"#),
            line(&[(0., 5.), (6., 5.)], r#""id": 2, "kind": "railway", "fenced": true"#),
            // A minor road: below the default AADT threshold, it does not cut.
            line(&[(0., 8.), (6., 8.)], r#""id": 3, "kind": "road", "traffic_aadt": 300"#),
        ],
    );
    write_fc(&d.join("unit.geojson"), &[rect((0., 0., 10., 10.), r#""id": 7"#)]);
    write_fc(&d.join("builtup.geojson"), &[rect((7., 7., 9., 9.), r#""id": 1"#)]);
    let out = d.join("out");
    let (b, u, e, o) = (
        d.join("barriers.geojson"),
        d.join("unit.geojson"),
        d.join("builtup.geojson"),
        out.to_str().unwrap().to_string(),
    );
    kulan(&[
        "fragment", "--barriers", b.to_str().unwrap(), "--units", u.to_str().unwrap(), "--exclude",
        e.to_str().unwrap(), "--out", &o, "--crs", "EPSG:32648",
    ]);
    let csv = read_csv(&out.join("meff.csv"));
    let r = &csv["7"];
    assert!(close(val(r, "area_m2"), 100e6));
    assert_eq!(r["n_patches"], "3");
    assert!(close(val(r, "patch_area_sum_m2"), 96e6));
    assert!(close(val(r, "meff_cut_m2"), 30.96e6), "{}", r["meff_cut_m2"]);
    assert!(close(val(r, "meff_km2"), 30.96));
    assert!(close(val(r, "coherence"), 0.3096));
    assert!(close(val(r, "division"), 0.6904));
    assert!(close(val(r, "splitting_index"), 3.229974160206718));
    assert!(close(val(r, "seff_cut_per_1000km2"), 32.29974160206718));
    assert!(out.join("patches.gpkg").exists());

    // Without the exclusion: 30, 30, 40.
    kulan(&[
        "fragment", "--barriers", b.to_str().unwrap(), "--units", u.to_str().unwrap(), "--out", &o, "--crs",
        "EPSG:32648", "--procedure", "cut",
    ]);
    let r = &read_csv(&out.join("meff.csv"))["7"];
    assert!(close(val(r, "meff_m2"), 34e6));
    assert!(close(val(r, "splitting_index"), 2.9411764705882355));
    assert!(close(val(r, "seff_cut_per_1000km2"), 29.41176470588235));
    assert_eq!(r["meff_cbc_m2"], "");
}

#[test]
fn example_b_cut_cbc_additivity_and_delta() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_fc(
        &d.join("barriers.geojson"),
        &[
            line(&[(4., 0.), (4., 10.)], r#""id": 1, "kind": "fence""#),
            line(&[(15., 0.), (15., 10.)], r#""id": 2, "kind": "fence""#),
        ],
    );
    write_fc(
        &d.join("units.geojson"),
        &[rect((0., 0., 10., 10.), r#""id": 1"#), rect((10., 0., 20., 10.), r#""id": 2"#)],
    );
    write_fc(&d.join("whole.geojson"), &[rect((0., 0., 20., 10.), r#""id": 0"#)]);
    // The proposal: a planned fenced railway along y = 5 from x = 0 to x = 15.
    write_fc(
        &d.join("proposal.geojson"),
        &[line(&[(0., 5.), (15., 5.)], r#""id": 9, "kind": "railway", "fenced": true, "status": "planned""#)],
    );
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    let out = p("out");
    kulan(&[
        "fragment", "--barriers", &p("barriers.geojson"), "--units", &p("units.geojson"), "--out", &out, "--crs",
        "EPSG:32648", "--delta", &p("proposal.geojson"),
    ]);
    let csv = read_csv(&d.join("out/meff.csv"));
    let (u1, u2) = (&csv["1"], &csv["2"]);
    assert!(close(val(u1, "meff_cut_m2"), 52e6));
    assert!(close(val(u2, "meff_cut_m2"), 50e6));
    assert!(close(val(u1, "meff_cbc_m2"), 82e6));
    assert!(close(val(u2, "meff_cbc_m2"), 80e6));
    assert!(close(val(u1, "meff_m2"), 82e6), "CBC is the default procedure");
    assert!(close(val(u1, "seff_cbc_per_1000km2"), 12.195121951219512));
    assert!(close(val(u2, "seff_cbc_per_1000km2"), 12.5));
    kulan(&["fragment", "--barriers", &p("barriers.geojson"), "--units", &p("whole.geojson"), "--out", &p("whole"), "--crs", "EPSG:32648"]);
    let whole = val(&read_csv(&d.join("whole/meff.csv"))["0"], "meff_m2");
    assert!(close(whole, 81e6));
    let mean = (100e6 * val(u1, "meff_cbc_m2") + 100e6 * val(u2, "meff_cbc_m2")) / 200e6;
    assert!(close(mean, whole), "CBC is additive");
    assert!(!close((100e6 * val(u1, "meff_cut_m2") + 100e6 * val(u2, "meff_cut_m2")) / 200e6, whole));

    // Delta: P1 becomes 20 + 20, P2 becomes 55 + 55 (30 + 30 of it in U1, 25 + 25 in U2).
    // U1: CBC = (20·20 + 20·20 + 30·55 + 30·55) / 100 = 41.
    // U2: CBC = (25·55 + 25·55 + 50·50) / 100 = 52.5; CUT = (25² + 25² + 50²) / 100 = 37.5.
    let delta = std::fs::read_to_string(d.join("out/meff_delta.csv")).unwrap();
    let mut lines = delta.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: HashMap<String, Vec<String>> = lines
        .map(|l| {
            let v: Vec<String> = l.split(',').map(str::to_string).collect();
            (v[0].clone(), v)
        })
        .collect();
    let col = |id: &str, name: &str| -> f64 { rows[id][header.iter().position(|h| *h == name).unwrap()].parse().unwrap() };
    assert!(close(col("1", "meff_base_m2"), 82e6));
    assert!(close(col("1", "meff_with_delta_m2"), 41e6), "{}", col("1", "meff_with_delta_m2"));
    assert!(close(col("1", "change_pct"), -50.0));
    assert!(close(col("2", "meff_with_delta_m2"), 52.5e6), "{}", col("2", "meff_with_delta_m2"));
    assert!(close(col("2", "meff_cut_change_m2"), -12.5e6));
}

#[test]
fn grid_units_and_all_cuts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_fc(
        &d.join("barriers.geojson"),
        &[
            line(&[(0., 0.), (20., 10.)], r#""id": 1, "kind": "road", "traffic_aadt": 10"#),
            line(&[(0., 10.), (20., 0.)], r#""id": 2, "kind": "fence""#),
        ],
    );
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    kulan(&[
        "fragment", "--barriers", &p("barriers.geojson"), "--grid", "5", "--out", &p("out"), "--crs", "EPSG:32648",
        "--cuts", "all", "--no-patches",
    ]);
    let csv = read_csv(&d.join("out/meff.csv"));
    assert_eq!(csv.len(), 8);
    let total: f64 = csv.values().map(|r| val(r, "area_m2")).sum();
    assert!(close(total, 200e6));
    // The whole grid cut by the two diagonals: 4 triangles of 50 km², m_eff = 50 km²; CBC is additive.
    let mean: f64 = csv.values().map(|r| val(r, "area_m2") * val(r, "meff_cbc_m2")).sum::<f64>() / total;
    assert!(close(mean, 50e6), "{mean}");
    assert!(csv.contains_key("5kmE500N5000"));
    assert!(!d.join("out/patches.gpkg").exists());
}
