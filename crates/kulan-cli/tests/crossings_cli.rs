//! `kulan crossings` end to end: the BaBA mule deer oracle through the CLI (local times with
//! daylight-saving offsets), a Movebank lon/lat CSV reprojected onto a UTM fence, and bad input.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn kulan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kulan"))
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("kulan runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("KULAN_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.join("peers/baba").is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: {} not found", dir.display());
        None
    }
}

/// Header and rows of a CSV file without quoted commas (true of all files read here).
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let split = |l: &str| l.split(',').map(|f| f.trim_matches('"').to_string()).collect::<Vec<_>>();
    let mut lines = text.lines();
    let h = split(lines.next().unwrap_or_default());
    (h, lines.filter(|l| !l.is_empty()).map(split).collect())
}

fn col(h: &[String], name: &str) -> usize {
    h.iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn mule_deer_oracle_through_the_cli() {
    let Some(shared) = shared() else { return };
    let out = tempfile::tempdir().unwrap();
    let baba = shared.join("peers/baba");
    let (ok, log) = run(kulan().args(["crossings", "--tracks"]).arg(baba.join("muleDeer.csv")).arg("--barriers").arg(baba.join("fences_utm12n.geojson")).args([
        "--buffer", "90", "--id-col", "Animal.ID", "--time-col", "date_local_us_mountain", "--x-col", "x_utm12n",
        "--y-col", "y_utm12n", "--crs", "EPSG:32612", "--field", "id=FID_Fence0", "--kind", "fence", "--out",
    ]).arg(out.path()));
    assert!(ok, "{log}");
    assert!(log.contains("466 fixes within the buffer, 201 encounter events"), "{log}");
    assert!(log.contains("2 different UTC offsets"), "{log}");
    let (h, rows) = read_csv(&out.path().join("events.csv"));
    let (eh, exp) = read_csv(&baba.join("expected/muleDeer_d90_defaults_classification.csv"));
    let want: HashMap<&str, &str> = exp.iter().map(|r| (r[col(&eh, "burstID")].as_str(), r[col(&eh, "eventTYPE")].as_str())).collect();
    assert_eq!(rows.len(), exp.len());
    for r in &rows {
        assert_eq!(want.get(r[col(&h, "burst_id")].as_str()), Some(&r[col(&h, "class")].as_str()), "{r:?}");
    }
    let (bh, brows) = read_csv(&out.path().join("barriers.csv"));
    assert!(brows.iter().all(|r| r[col(&bh, "kind")] == "fence"));
    let (ch, crows) = read_csv(&out.path().join("classes.csv"));
    assert_eq!(crows.len(), 1);
    assert_eq!(crows[0][col(&ch, "class")], "fence");
    for f in ["events.gpkg", "barriers.gpkg"] {
        assert!(out.path().join(f).metadata().unwrap().len() > 0, "{f}");
    }
}

const FENCE: &str = r#"{"type": "FeatureCollection",
 "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32648"}},
 "features": [{"type": "Feature", "properties": {"id": 11, "kind": "fence"},
   "geometry": {"type": "LineString", "coordinates": [[500000, 4900000], [500000, 5100000]]}}]}"#;

fn movebank(dir: &Path, lon_lat: &[(f64, f64)], stamps: &[&str]) -> PathBuf {
    let mut s = String::from("event-id,timestamp,location-long,location-lat,individual-local-identifier\n");
    for (i, ((lon, lat), t)) in lon_lat.iter().zip(stamps).enumerate() {
        s += &format!("{i},{t},{lon},{lat},K1\n");
    }
    let p = dir.join("movebank.csv");
    std::fs::write(&p, s).unwrap();
    p
}

fn stamps(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("2020-01-01 {:02}:00:00.000", 2 * i)).collect()
}

#[test]
fn movebank_lonlat_is_reprojected_onto_a_utm_fence() {
    let dir = tempfile::tempdir().unwrap();
    let fence = dir.path().join("fence.geojson");
    std::fs::write(&fence, FENCE).unwrap();
    // Across the central meridian of UTM 48N (x = 500 000 m) at 45° N; the third fix is 39 m west.
    let pts = [(104.98, 45.0), (104.99, 45.0), (104.9995, 45.0), (105.01, 45.0), (105.02, 45.0)];
    let ts = stamps(5);
    let tracks = movebank(dir.path(), &pts, &ts.iter().map(String::as_str).collect::<Vec<_>>());
    let out = dir.path().join("out");
    let (ok, log) = run(kulan()
        .args(["crossings", "--tracks"])
        .arg(&tracks)
        .arg("--barriers")
        .arg(&fence)
        .args(["--buffer", "100", "--crs", "EPSG:32648", "--species", "khulan", "--out"])
        .arg(&out));
    assert!(ok, "{log}");
    assert!(log.contains("taken as UTC"), "{log}");
    let (h, rows) = read_csv(&out.join("events.csv"));
    assert_eq!(rows.len(), 1, "{log}");
    assert_eq!(rows[0][col(&h, "class")], "Quick_Cross");
    assert_eq!(rows[0][col(&h, "crossed_ids")], "11");
    // Classes come from the permeability model for khulan, with its p next to the observed rate.
    let (ch, crows) = read_csv(&out.join("classes.csv"));
    let used: Vec<&Vec<String>> = crows.iter().filter(|r| r[col(&ch, "enc_events")] != "0").collect();
    assert_eq!(used.len(), 1);
    assert_eq!(used[0][col(&ch, "crossing_rate")], "1");
    assert!(!used[0][col(&ch, "model_p")].is_empty());
}

#[test]
fn bad_input_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let fence = dir.path().join("fence.geojson");
    std::fs::write(&fence, FENCE).unwrap();
    let base = |tracks: &Path, extra: &[&str]| {
        let mut c = kulan();
        c.args(["crossings", "--tracks"]).arg(tracks).arg("--barriers").arg(&fence).args(["--buffer", "100", "--out"]);
        c.arg(dir.path().join("out")).args(extra);
        run(&mut c)
    };
    // Projected metres in Movebank's lon/lat columns.
    let ts = stamps(3);
    let ts: Vec<&str> = ts.iter().map(String::as_str).collect();
    let t = movebank(dir.path(), &[(499_000.0, 5e6), (499_950.0, 5e6), (501_000.0, 5e6)], &ts);
    let (ok, log) = base(&t, &["--crs", "EPSG:32648"]);
    assert!(!ok && log.contains("not longitude/latitude"), "{log}");
    // Lon/lat read as UTM: far from the fence.
    let (ok, log) = base(&t, &["--crs", "EPSG:32648", "--tracks-crs", "EPSG:4326"]);
    assert!(!ok, "{log}");
    let t = movebank(dir.path(), &[(104.0, 45.0), (104.1, 45.0), (104.2, 45.0)], &ts);
    let (ok, log) = base(&t, &["--crs", "EPSG:32648", "--tracks-crs", "EPSG:32648"]);
    assert!(!ok && log.contains("do not overlap"), "{log}");
    // Mixed time zones.
    let t = movebank(dir.path(), &[(104.98, 45.0), (104.99, 45.0), (105.0, 45.0)], &["2020-01-01 00:00:00", "2020-01-01T02:00:00Z", "2020-01-01 04:00:00"]);
    let (ok, log) = base(&t, &["--crs", "EPSG:32648"]);
    assert!(!ok && log.contains("mixes timestamps"), "{log}");
    // Missing coordinates and a duplicate timestamp are reported, and the run goes on.
    std::fs::write(
        dir.path().join("gaps.csv"),
        "individual-local-identifier,timestamp,location-long,location-lat\nK1,2020-01-01 02:00:00,104.99,45\nK1,2020-01-01 00:00:00,104.98,45\nK1,2020-01-01 04:00:00,,\nK1,2020-01-01 04:00:00,104.9995,45\nK1,2020-01-01 04:00:00,104.9995,45\nK1,2020-01-01 06:00:00,105.01,45\n",
    )
    .unwrap();
    let (ok, log) = base(&dir.path().join("gaps.csv"), &["--crs", "EPSG:32648"]);
    assert!(ok, "{log}");
    assert!(log.contains("1 row(s) skipped") && log.contains("out of time order") && log.contains("repeat an earlier timestamp"), "{log}");
    // Animals at different intervals: BaBA's rule, with the way out named.
    std::fs::write(
        dir.path().join("mixed.csv"),
        "individual-local-identifier,timestamp,location-long,location-lat\nA,2020-01-01 00:00:00,104.98,45\nA,2020-01-01 02:00:00,104.99,45\nA,2020-01-01 04:00:00,105.01,45\nB,2020-01-01 00:00:00,104.98,45\nB,2020-01-01 05:00:00,104.99,45\nB,2020-01-01 10:00:00,105.01,45\n",
    )
    .unwrap();
    let (ok, log) = base(&dir.path().join("mixed.csv"), &["--crs", "EPSG:32648"]);
    assert!(!ok && log.contains("--group-by-interval"), "{log}");
    let (ok, log) = base(&dir.path().join("mixed.csv"), &["--crs", "EPSG:32648", "--group-by-interval"]);
    assert!(ok, "{log}");
}

#[test]
fn tracks_from_an_ogr_point_layer() {
    use kulan_io::vector::{AttrValue, FieldDef, FieldType, GeometryType, VectorWriter};
    let dir = tempfile::tempdir().unwrap();
    let fence = dir.path().join("fence.geojson");
    std::fs::write(&fence, FENCE).unwrap();
    let gpkg = dir.path().join("fixes.gpkg");
    let mut w = VectorWriter::create(&gpkg).unwrap();
    let xs = [498_000.0, 499_000.0, 499_950.0, 501_000.0, 502_000.0];
    let rows = xs.iter().enumerate().map(|(i, &x)| {
        let p = geo::Geometry::Point(geo::Point::new(x, 5_000_000.0));
        let t = format!("2020-01-01T{:02}:00:00+08:00", 2 * i);
        (Some(p), vec![Some(AttrValue::Text("G7".into())), Some(AttrValue::Text(t))])
    });
    let fields = [FieldDef::new("animal", FieldType::Text), FieldDef::new("when", FieldType::Text)];
    w.write_layer("fixes", GeometryType::Point, Some("EPSG:32648"), &fields, rows).unwrap();
    w.finish().unwrap();
    let out = dir.path().join("out");
    let (ok, log) = run(kulan()
        .args(["crossings", "--tracks"])
        .arg(format!("{}:fixes", gpkg.display()))
        .arg("--barriers")
        .arg(&fence)
        .args(["--buffer", "100", "--id-col", "animal", "--time-col", "when", "--crs", "EPSG:32648", "--out"])
        .arg(&out));
    assert!(ok, "{log}");
    let (h, rows) = read_csv(&out.join("events.csv"));
    assert_eq!(rows.len(), 1, "{log}");
    assert_eq!(rows[0][col(&h, "class")], "Quick_Cross");
    assert_eq!(rows[0][col(&h, "start")], "2019-12-31T20:00:00Z");
}
