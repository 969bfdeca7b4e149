//! Times the cost-distance engine alone (no file I/O) on an ESRI ASCII resistance grid and id grid.
//!
//! `cargo run --release -p kulan-corridors --example costdist_timing -- RES.asc SOURCES.asc [REPEATS]`

use std::time::Instant;

use kulan_core::raster::asc::read_asc;
use kulan_corridors::{cost_distance, CostOptions, CostSurface, Sources};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: costdist_timing RES.asc SOURCES.asc [REPEATS]");
        std::process::exit(2);
    }
    let res = read_asc(args[1].as_ref()).expect("resistance");
    let src = read_asc(args[2].as_ref()).expect("sources");
    let repeats: usize = args.get(3).map_or(3, |s| s.parse().expect("repeats"));
    let t = Instant::now();
    let surface = CostSurface::from_resistance(&res).expect("valid resistance");
    let prep = t.elapsed().as_secs_f64();
    let sources = Sources::from_id_grid(&src);
    let mut best = f64::INFINITY;
    let mut best_cpu = f64::INFINITY;
    let mut reached = 0;
    for _ in 0..repeats {
        let (t, c) = (Instant::now(), cpu_seconds());
        let out = cost_distance(&surface, &sources, &CostOptions::default()).expect("runs");
        best = best.min(t.elapsed().as_secs_f64());
        best_cpu = best_cpu.min(cpu_seconds() - c);
        reached = out.reached;
    }
    println!(
        "{} x {}: prepare {prep:.3} s, cost distance best of {repeats}: {best:.3} s wall, {best_cpu:.3} s on CPU \
         ({reached} cells reached)",
        res.rows, res.cols
    );
}

/// Time this thread has spent on a CPU (Linux), so timings on a busy machine stay comparable.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse::<f64>().ok()))
        .map_or(f64::NAN, |ns| ns * 1e-9)
}
