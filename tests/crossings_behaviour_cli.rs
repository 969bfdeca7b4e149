//! End-to-end tests of `kulan crossings`: the output files users' scripts read, the event
//! classes on tracks built to cross and to bounce, thread independence and bad input.

mod common;

use common::{crosser_and_bouncer_fixes, geojson_lines, kulan, read_csv, Fixture};

/// A 80 km north–south fence at x = 500 km (UTM 48N) and two animals with fixes every 2 h for
/// 20 days: "crosser" walks back and forth across the fence, "bouncer" walks up to 500 m short
/// of it and turns back. No fix lies on the line itself.
fn fence_and_tracks(f: &Fixture) -> (String, String) {
    let (x0, y0) = (500_000.0, 5_000_000.0);
    let fence = f.write(
        "fence.geojson",
        &geojson_lines(
            Some("EPSG:32648"),
            &[(
                r#"{"id": 1, "kind": "fence"}"#,
                "LineString",
                &format!("[[{x0}, {}], [{x0}, {}]]", y0 - 40_000.0, y0 + 40_000.0),
            )],
        ),
    );
    (fence, f.write("fixes.csv", &crosser_and_bouncer_fixes(x0, y0)))
}

fn crossings_args<'a>(fence: &'a str, fixes: &'a str, out: &'a str, buffer: &'a str) -> Vec<&'a str> {
    vec![
        "crossings", "--tracks", fixes, "--barriers", fence, "--buffer", buffer, "--out", out, "--id-col", "animal",
        "--time-col", "t", "--x-col", "x", "--y-col", "y", "--tracks-crs", "EPSG:32648", "--crs", "EPSG:32648",
    ]
}

#[test]
fn crossing_and_bouncing_animals_are_told_apart() {
    let f = Fixture::new();
    let (fence, fixes) = fence_and_tracks(&f);
    let out = f.path("out");
    kulan(&crossings_args(&fence, &fixes, &out, "1000")).success();
    for name in ["events.csv", "events.gpkg", "barriers.csv", "classes.csv", "barriers.gpkg"] {
        assert!(std::path::Path::new(&out).join(name).is_file(), "{name} was not written");
    }
    let header = std::fs::read_to_string(format!("{out}/events.csv")).unwrap();
    let header: Vec<&str> = header.lines().next().unwrap().split(',').collect();
    let animal = header.iter().position(|h| *h == "animal").expect("an animal column");
    let class = header.iter().position(|h| *h == "class").expect("a class column");
    let rows = read_csv(std::path::Path::new(&format!("{out}/events.csv")));
    let classes_of = |who: &str| -> Vec<String> {
        rows.iter().filter(|r| r[animal] == who).map(|r| r[class].clone()).collect()
    };
    let crosser = classes_of("crosser");
    let bouncer = classes_of("bouncer");
    assert!(crosser.iter().filter(|c| *c == "Quick_Cross").count() >= 10, "crosser: {crosser:?}");
    assert!(!bouncer.is_empty() && bouncer.iter().all(|c| c != "Quick_Cross"), "bouncer: {bouncer:?}");
    assert!(bouncer.iter().any(|c| c == "Bounce"), "bouncer: {bouncer:?}");
}

#[test]
fn outputs_do_not_depend_on_the_thread_count() {
    let f = Fixture::new();
    let (fence, fixes) = fence_and_tracks(&f);
    let (one, two) = (f.path("one"), f.path("two"));
    kulan(&crossings_args(&fence, &fixes, &one, "1000")).env("RAYON_NUM_THREADS", "1").success();
    kulan(&crossings_args(&fence, &fixes, &two, "1000")).env("RAYON_NUM_THREADS", "2").success();
    for name in ["events.csv", "events.gpkg", "barriers.csv", "classes.csv", "barriers.gpkg"] {
        let a = std::fs::read(format!("{one}/{name}")).unwrap();
        let b = std::fs::read(format!("{two}/{name}")).unwrap();
        assert!(a == b, "{name} differs between 1 and 2 threads");
    }
}

#[test]
fn bad_buffer_and_missing_columns_are_refused_without_output() {
    let f = Fixture::new();
    let (fence, fixes) = fence_and_tracks(&f);
    let out = f.path("bad");
    let err = kulan(&crossings_args(&fence, &fixes, &out, "0")).failure();
    assert!(err.contains("--buffer"), "{err}");
    let mut args = crossings_args(&fence, &fixes, &out, "1000");
    let t = args.iter().position(|a| *a == "t").unwrap();
    args[t] = "when";
    let err = kulan(&args).failure();
    assert!(err.contains("when"), "the error should name the missing column: {err}");
    assert!(!std::path::Path::new(&out).join("events.csv").exists());
}
