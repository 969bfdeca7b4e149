//! `kulan costdist`, `kulan resistance`, `kulan corridors` and `kulan model` end to end, on small
//! files written here, plus agreement with the scikit-image peer when the bench data is present.

use std::path::{Path, PathBuf};
use std::process::Command;

use kulan_core::raster::{GeoTransform, Grid};
use kulan_io::{read_raster, write_raster, RasterWriteOptions};

fn kulan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kulan"))
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("kulan runs");
    assert!(out.status.success(), "kulan failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn run_err(cmd: &mut Command) -> String {
    let out = cmd.output().expect("kulan runs");
    assert!(!out.status.success(), "kulan should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const UTM48: &str = "EPSG:32648";

fn utm_wkt() -> String {
    kulan_io::AnalysisCrs::from_definition(UTM48).unwrap().wkt
}

fn write_grid(dir: &Path, name: &str, rows: usize, cols: usize, cell: f64, data: Vec<f64>) -> PathBuf {
    let g = Grid {
        rows,
        cols,
        transform: GeoTransform::from_lower_left(500_000.0, 5_000_000.0, cell, rows),
        nodata: Some(-9999.0),
        crs: Some(utm_wkt()),
        data,
    };
    let p = dir.join(name);
    write_raster(&p, &g, &RasterWriteOptions::default()).unwrap();
    p
}

#[test]
fn costdist_writes_costs_backlinks_and_allocation() {
    let dir = tempfile::tempdir().unwrap();
    // 1 × 4 row of resistance 1, 3, 1, NoData; cell 10 m; source id 5 at the left end.
    let res = write_grid(dir.path(), "r.tif", 1, 4, 10.0, vec![1.0, 3.0, 1.0, -9999.0]);
    let src = write_grid(dir.path(), "s.tif", 1, 4, 10.0, vec![5.0, 0.0, 0.0, 0.0]);
    let out = dir.path().join("c.tif");
    let (back, alloc) = (dir.path().join("b.tif"), dir.path().join("a.tif"));
    run_ok(kulan().args(["costdist", "--resistance"]).arg(&res).arg("--sources").arg(&src).arg("--out").arg(&out)
        .arg("--backlink").arg(&back).arg("--allocation").arg(&alloc));
    let c = read_raster(&out).unwrap();
    assert_eq!(&c.data[..3], &[0.0, 20.0, 40.0]);
    assert!(c.is_nodata(c.data[3]));
    let b = read_raster(&back).unwrap();
    assert_eq!(&b.data[..3], &[0.0, 5.0, 5.0]); // source, then W, W
    let a = read_raster(&alloc).unwrap();
    assert_eq!(&a.data[..3], &[5.0, 5.0, 5.0]);
    // ESRI ASCII output by extension.
    let asc = dir.path().join("c.asc");
    run_ok(kulan().args(["costdist", "--neighbours", "4", "--resistance"]).arg(&res).arg("--sources").arg(&src).arg("--out").arg(&asc));
    assert!(std::fs::read_to_string(&asc).unwrap().starts_with("ncols"));
}

#[test]
fn costdist_bad_inputs_are_clear_errors_and_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let src = write_grid(dir.path(), "s.tif", 1, 3, 10.0, vec![1.0, 0.0, 0.0]);
    let out = dir.path().join("c.tif");
    let zero = write_grid(dir.path(), "zero.tif", 1, 3, 10.0, vec![1.0, 0.0, 1.0]);
    let e = run_err(kulan().args(["costdist", "--resistance"]).arg(&zero).arg("--sources").arg(&src).arg("--out").arg(&out));
    assert!(e.contains("greater than 0") && e.contains("row 0, col 1"), "{e}");
    let nan = write_grid(dir.path(), "nan.tif", 1, 3, 10.0, vec![1.0, f64::NAN, 1.0]);
    let e = run_err(kulan().args(["costdist", "--resistance"]).arg(&nan).arg("--sources").arg(&src).arg("--out").arg(&out));
    assert!(e.contains("NaN"), "{e}");
    let on_nodata = write_grid(dir.path(), "nd.tif", 1, 3, 10.0, vec![-9999.0, 1.0, 1.0]);
    let e = run_err(kulan().args(["costdist", "--resistance"]).arg(&on_nodata).arg("--sources").arg(&src).arg("--out").arg(&out));
    assert!(e.contains("lie on NoData"), "{e}");
    let ok = write_grid(dir.path(), "ok.tif", 1, 3, 10.0, vec![1.0; 3]);
    let wide = write_grid(dir.path(), "wide.tif", 1, 4, 10.0, vec![1.0, 0.0, 0.0, 0.0]);
    let e = run_err(kulan().args(["costdist", "--resistance"]).arg(&ok).arg("--sources").arg(&wide).arg("--out").arg(&out));
    assert!(e.contains("does not line up") && e.contains("size"), "{e}");
    // Same lattice, other CRS.
    let mut g = read_raster(&src).unwrap();
    g.crs = Some(kulan_io::AnalysisCrs::from_definition("EPSG:32647").unwrap().wkt);
    let other = dir.path().join("other_crs.tif");
    write_raster(&other, &g, &RasterWriteOptions::default()).unwrap();
    let e = run_err(kulan().args(["costdist", "--resistance"]).arg(&ok).arg("--sources").arg(&other).arg("--out").arg(&out));
    assert!(e.contains("different CRS"), "{e}");
    assert!(!out.exists());
}

/// A GeoJSON layer in UTM 48N (legacy `crs` member, which GDAL reads).
fn geojson(dir: &Path, name: &str, features: &[String]) -> PathBuf {
    let text = format!(
        r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"urn:ogc:def:crs:EPSG::32648"}}}},"features":[{}]}}"#,
        features.join(",")
    );
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn resistance_then_corridors_with_a_fence_ring() {
    let dir = tempfile::tempdir().unwrap();
    // 40 × 40 cells of 100 m from (500000, 5000000); a border-fence ring around the centre and
    // a railway gap (fence_gap crossing) on its east side; two cores inside and outside.
    let (x0, y0) = (500_000.0, 5_000_000.0);
    let ring = [(1200.0, 1300.0), (2900.0, 1150.0), (2750.0, 2800.0), (1100.0, 2700.0), (1200.0, 1300.0)];
    let coords: Vec<String> = ring.iter().map(|(x, y)| format!("[{},{}]", x0 + x, y0 + y)).collect();
    let fence = format!(
        r#"{{"type":"Feature","properties":{{"id":1,"kind":"border_fence"}},"geometry":{{"type":"LineString","coordinates":[{}]}}}}"#,
        coords.join(",")
    );
    let barriers = geojson(dir.path(), "barriers.geojson", &[fence]);
    let template = write_grid(dir.path(), "template.tif", 40, 40, 100.0, vec![1.0; 1600]);
    let res = dir.path().join("res.tif");
    let log = run_ok(kulan().args(["resistance", "--species", "Equus hemionus", "--barriers"]).arg(&barriers)
        .arg("--template").arg(&template).arg("--out").arg(&res));
    assert!(log.contains("R4") && log.contains("border_fence_security"), "{log}");
    let cores = geojson(
        dir.path(),
        "cores.geojson",
        &[
            format!(r#"{{"type":"Feature","properties":{{"id":1}},"geometry":{{"type":"Point","coordinates":[{},{}]}}}}"#, x0 + 2000.0, y0 + 2000.0),
            format!(r#"{{"type":"Feature","properties":{{"id":2}},"geometry":{{"type":"Point","coordinates":[{},{}]}}}}"#, x0 + 350.0, y0 + 350.0),
        ],
    );
    let out_dir = dir.path().join("corr");
    let log = run_ok(kulan().args(["corridors", "--resistance"]).arg(&res).arg("--cores").arg(&cores).arg("--out").arg(&out_dir));
    assert!(log.contains("unreachable"), "{log}");
    let table = std::fs::read_to_string(out_dir.join("link_table.csv")).unwrap();
    assert!(table.starts_with("Link_ID,From_Core,To_Core,Euc_Dist,CW_Dist,LCP_Length,cwd2Euc_R,cwd2Path_R"), "{table}");
    assert!(table.contains("no path"), "{table}");

    // A fence gap on the east side opens the ring: the link appears with a path.
    let gap = format!(
        r#"{{"type":"Feature","properties":{{"id":7,"type":"fence_gap"}},"geometry":{{"type":"Point","coordinates":[{},{}]}}}}"#,
        x0 + 2825.0,
        y0 + 1975.0
    );
    let crossings = geojson(dir.path(), "gaps.geojson", &[gap]);
    let log = run_ok(kulan().args(["resistance", "--species", "khulan", "--barriers"]).arg(&barriers)
        .arg("--crossings").arg(&crossings).arg("--template").arg(&template).arg("--out").arg(&res));
    assert!(log.contains("crossings: 1 applied"), "{log}");
    run_ok(kulan().args(["corridors", "--truncate", "5000", "--resistance"]).arg(&res).arg("--cores").arg(&cores).arg("--out").arg(&out_dir));
    let table = std::fs::read_to_string(out_dir.join("link_table.csv")).unwrap();
    assert!(table.contains("Core-Core corridor"), "{table}");
    assert!(out_dir.join("corridors_truncated_at_5000.tif").exists());
    assert!(out_dir.join("links.gpkg").exists());
    let mosaic = read_raster(&out_dir.join("corridors.tif")).unwrap();
    assert_eq!(mosaic.data.iter().filter(|&&v| v == 0.0).count() > 10, true);
}

#[test]
fn model_show_and_default_print_the_table() {
    let out = run_ok(kulan().args(["model", "show", "--species", "saiga", "--cell", "250"]));
    assert!(out.contains("R4") && out.contains("impassable") && out.contains("saiga"), "{out}");
    let toml = run_ok(kulan().args(["model", "default"]));
    assert!(toml.contains("[species.khulan]") && toml.contains("Ito et al. 2013"));
    let e = run_err(kulan().args(["model", "show", "--species", "pronghorn"]));
    assert!(e.contains("unknown species"), "{e}");
}

/// `kulan costdist` against the scikit-image MCP_Geometric peer (`peers.py costdist`), when the
/// bench data and the peer's outputs are in $KULAN_BENCH_DIR (default /tmp/kulan-bench).
#[test]
fn costdist_matches_the_skimage_peer_when_bench_data_is_present() {
    let bench = PathBuf::from(std::env::var("KULAN_BENCH_DIR").unwrap_or_else(|_| "/tmp/kulan-bench".into()));
    let dir = tempfile::tempdir().unwrap();
    let mut compared = 0;
    for n in [1000, 2000] {
        for sources in ["regions", "points"] {
            let res = bench.join(format!("data/resistance_{n}.tif"));
            let src = bench.join(format!("data/cores_{sources}_{n}.tif"));
            let peer = bench.join(format!("out/costdist/skimage-mcp_{n}_{sources}_8conn.tif"));
            if !(res.exists() && src.exists() && peer.exists()) {
                eprintln!("skipping {n} {sources}: {} or the peer output not found (run gen.py and peers.py costdist)", res.display());
                continue;
            }
            let out = dir.path().join(format!("kulan_{n}_{sources}.tif"));
            run_ok(kulan().args(["costdist", "--resistance"]).arg(&res).arg("--sources").arg(&src).arg("--out").arg(&out));
            let (a, b) = (read_raster(&out).unwrap(), read_raster(&peer).unwrap());
            assert_eq!(a.data.len(), b.data.len());
            let mut worst = 0.0f64;
            for (&x, &y) in a.data.iter().zip(&b.data) {
                assert_eq!(a.is_nodata(x), b.is_nodata(y), "NoData differs ({n}, {sources})");
                if !a.is_nodata(x) {
                    worst = worst.max((x - y).abs() / y.abs().max(f64::MIN_POSITIVE));
                }
            }
            assert!(worst <= 1e-6, "{n} {sources}: max relative difference {worst}");
            compared += 1;
        }
    }
    eprintln!("compared {compared} peer outputs");
}

#[test]
fn resistance_from_land_cover_classes_and_an_extent() {
    let dir = tempfile::tempdir().unwrap();
    // Land cover 2 × 3: codes 1 (steppe), 2 (desert), 9 (lake); a road along the top row.
    let lc = write_grid(dir.path(), "lc.tif", 2, 3, 100.0, vec![1.0, 2.0, 9.0, 1.0, 1.0, 2.0]);
    let classes = dir.path().join("classes.csv");
    std::fs::write(&classes, "code,name,resistance,khulan\n1,steppe,5,1\n2,desert,5,2\n9,lake,5,impassable\n").unwrap();
    let (x0, y0) = (500_000.0, 5_000_000.0);
    let road = format!(
        r#"{{"type":"Feature","properties":{{"id":1,"kind":"road","traffic_aadt":2000}},"geometry":{{"type":"LineString","coordinates":[[{},{}],[{},{}]]}}}}"#,
        x0 - 50.0,
        y0 + 150.0,
        x0 + 350.0,
        y0 + 150.0
    );
    let barriers = geojson(dir.path(), "road.geojson", &[road]);
    let out = dir.path().join("r.asc");
    run_ok(kulan().args(["resistance", "--species", "kulan", "--barriers"]).arg(&barriers).arg("--landcover").arg(&lc)
        .arg("--classes").arg(&classes).arg("--out").arg(&out));
    let r = read_raster(&out).unwrap();
    // Top row: road R9 p = 0.6 over r0 = 1, 2; cell 100 m: r = r0 (1 + 10 (1/0.6 - 1)) = 7.67 r0; lake NoData.
    let f = 1.0 + 10.0 * (1.0 / 0.6 - 1.0);
    // (GDAL reads ASCII grids as float32.)
    assert!((r.data[0] - f).abs() < 1e-5 && (r.data[1] - 2.0 * f).abs() < 1e-5, "{:?}", r.data);
    assert!(r.is_nodata(r.data[2]));
    assert_eq!(&r.data[3..], &[1.0, 1.0, 2.0]);
    // A land-cover code missing from the table is an error naming it.
    let lc_bad = write_grid(dir.path(), "lc_bad.tif", 2, 3, 100.0, vec![1.0, 3.0, 9.0, 1.0, 1.0, 2.0]);
    let e = run_err(kulan().args(["resistance", "--species", "khulan", "--barriers"]).arg(&barriers).arg("--landcover").arg(&lc_bad)
        .arg("--classes").arg(&classes).arg("--out").arg(&out));
    assert!(e.contains("3 (1 cells)"), "{e}");
    // An extent and cell size instead of a template (negative coordinates allowed).
    let out2 = dir.path().join("r2.tif");
    run_ok(kulan().args(["resistance", "--species", "khulan", "--crs", UTM48, "--cell", "100", "--extent"])
        .arg(format!("{},{},{},{}", x0 - 400.0, y0, x0 + 400.0, y0 + 200.0)).arg("--barriers").arg(&barriers).arg("--out").arg(&out2));
    let r2 = read_raster(&out2).unwrap();
    assert_eq!((r2.rows, r2.cols), (2, 8));
    assert!((r2.get(0, 4) - f).abs() < 1e-6 && r2.get(1, 4) == 1.0);
    // Neither template, land cover nor extent: a clear error.
    let e = run_err(kulan().args(["resistance", "--species", "khulan", "--barriers"]).arg(&barriers).arg("--out").arg(&out2));
    assert!(e.contains("say which grid to fill"), "{e}");
}
