//! `kulan circuit`: circuit-theory connectivity on Kulan rasters (pairwise mode), over the same
//! engine as `kulan circuitscape`.

use std::path::PathBuf;

use anyhow::{bail, Context};
use kulan_circuit::engine::PairwiseSolver;
use kulan_circuit::solver::{choose, make_solver};
use kulan_circuit::{Connectivity, RasterGraph, RasterGraphSpec, Scheme};
use kulan_io::RasterWriteOptions;

#[derive(clap::Args)]
pub struct Args {
    /// Resistance raster (any GDAL format); NoData cells are not part of the landscape.
    #[arg(long)]
    pub resistance: PathBuf,
    /// Core/focal raster: cells with an id > 0 are focal nodes (Kulan core layers directly).
    #[arg(long)]
    pub focal: PathBuf,
    /// The habitat raster holds conductances rather than resistances.
    #[arg(long)]
    pub conductance: bool,
    /// 4 or 8 neighbours.
    #[arg(long, default_value_t = 8)]
    pub connect: u8,
    /// Connection scheme: avg-cond (Circuitscape's default) or avg-res.
    #[arg(long, default_value = "avg-cond")]
    pub scheme: String,
    /// Short-circuit all cells of each focal id into one node (focal regions).
    #[arg(long)]
    pub regions: bool,
    /// Output prefix: writes PREFIX_resistances.csv and PREFIX_cum_curmap.tif.
    #[arg(long)]
    pub out: PathBuf,
    /// Skip the cumulative current map.
    #[arg(long)]
    pub no_current: bool,
    /// Solver: auto, direct or iterative.
    #[arg(long, default_value = "auto")]
    pub solver: String,
    /// Relative residual for the iterative solver.
    #[arg(long, default_value_t = 1e-8)]
    pub tol: f64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let t0 = std::time::Instant::now();
    let res = kulan_io::read_raster(&args.resistance)?;
    let focal = kulan_io::read_raster(&args.focal)?;
    res.check_aligned(&focal).map_err(|e| anyhow::anyhow!("{e}")).context("the focal raster must be on the resistance raster's grid")?;
    let connectivity = match args.connect {
        4 => Connectivity::Four,
        8 => Connectivity::Eight,
        c => bail!("--connect must be 4 or 8, got {c}"),
    };
    let scheme = match args.scheme.as_str() {
        "avg-cond" => Scheme::AverageConductance,
        "avg-res" => Scheme::AverageResistance,
        s => bail!("--scheme must be avg-cond or avg-res, got '{s}'"),
    };
    let mut bad = 0usize;
    let cond: Vec<f64> = res
        .data
        .iter()
        .map(|&v| {
            if res.is_nodata(v) {
                0.0
            } else if v < 0.0 {
                bad += 1;
                0.0
            } else if args.conductance {
                v
            } else if v == 0.0 {
                f64::INFINITY
            } else {
                1.0 / v
            }
        })
        .collect();
    if bad > 0 {
        bail!("{}: {bad} cells are negative", args.resistance.display());
    }
    let ids_grid: Vec<i64> =
        focal.data.iter().map(|&v| if focal.is_nodata(v) || v <= 0.0 { 0 } else { v.round() as i64 }).collect();
    let mut ids: Vec<i64> = ids_grid.iter().copied().filter(|&v| v > 0).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() < 2 {
        bail!("{}: fewer than two focal ids", args.focal.display());
    }
    let t_load = t0.elapsed().as_secs_f64();
    let rg = RasterGraph::build(RasterGraphSpec {
        rows: res.rows,
        cols: res.cols,
        conductance: &cond,
        connectivity,
        scheme,
        regions: if args.regions { Some(&ids_grid) } else { None },
    })?;
    // Node of each id: its first cell that is on the graph.
    let mut node_of_id = std::collections::HashMap::new();
    for (c, &id) in ids_grid.iter().enumerate() {
        if id > 0 && rg.node_of_cell[c] >= 0 {
            node_of_id.entry(id).or_insert(rg.node_of_cell[c] as usize);
        }
    }
    let missing: Vec<i64> = ids.iter().copied().filter(|id| !node_of_id.contains_key(id)).collect();
    if !missing.is_empty() {
        eprintln!("warning: focal ids {missing:?} lie only on NoData cells; their resistances are -1");
    }
    let t1 = std::time::Instant::now();
    let n = rg.graph.n();
    let kind = choose(kulan_circuit::circuitscape::RunOptions::default().solver.max_parse(&args.solver)?, n, rg.graph.n_edges() * 2 + n, 1);
    let solver = make_solver(kind, args.tol);
    let nodes: Vec<usize> = ids.iter().filter_map(|id| node_of_id.get(id).copied()).collect();
    let ps = PairwiseSolver::new(&rg.graph, &nodes, solver.as_ref(), Some(&rg.node_cell))?;
    let t_solve = t1.elapsed().as_secs_f64();
    let k = ids.len();
    let mut rmat = vec![vec![-1.0f64; k]; k];
    let mut pairs = Vec::new();
    for i in 0..k {
        rmat[i][i] = 0.0;
        for j in i + 1..k {
            let (Some(&a), Some(&b)) = (node_of_id.get(&ids[i]), node_of_id.get(&ids[j])) else { continue };
            if let Some(r) = ps.resistance(a, b) {
                rmat[i][j] = r;
                rmat[j][i] = r;
                if a != b {
                    pairs.push((a, b));
                }
            }
        }
    }
    let mut csv = String::from("focal_id");
    for id in &ids {
        csv.push_str(&format!(",{id}"));
    }
    csv.push('\n');
    for (i, id) in ids.iter().enumerate() {
        csv.push_str(&id.to_string());
        for v in &rmat[i] {
            csv.push_str(&format!(",{v}"));
        }
        csv.push('\n');
    }
    let csv_path = PathBuf::from(format!("{}_resistances.csv", args.out.display()));
    if let Some(d) = csv_path.parent() {
        if !d.as_os_str().is_empty() {
            std::fs::create_dir_all(d)?;
        }
    }
    std::fs::write(&csv_path, csv).with_context(|| format!("writing {}", csv_path.display()))?;
    let t2 = std::time::Instant::now();
    if !args.no_current {
        let cum = kulan_circuit::cumulative::cumulative_pair_currents(&ps, &pairs);
        let cells = rg.to_cells(&cum, f64::NAN);
        let mut g = res.map(|_| 0.0f32);
        for (o, v) in g.data.iter_mut().zip(cells) {
            *o = if v.is_finite() { v as f32 } else { -9999.0 };
        }
        let p = PathBuf::from(format!("{}_cum_curmap.tif", args.out.display()));
        kulan_io::write_raster(&p, &g, &RasterWriteOptions { nodata: -9999.0, ..Default::default() })?;
    }
    eprintln!(
        "circuit: {} nodes, {} edges, {} focal ids, {} pairs, solver {}; load {:.2} s, factor+solve {:.2} s, currents {:.2} s, total {:.2} s",
        n,
        rg.graph.n_edges(),
        k,
        pairs.len(),
        solver.name(),
        t_load,
        t_solve,
        t2.elapsed().as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

trait ParseSolver {
    fn max_parse(self, s: &str) -> anyhow::Result<kulan_circuit::SolverKind>;
}
impl ParseSolver for kulan_circuit::SolverKind {
    fn max_parse(self, s: &str) -> anyhow::Result<kulan_circuit::SolverKind> {
        super::circuitscape::parse_solver(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kulan_core::raster::{GeoTransform, Grid};

    fn tif(path: &std::path::Path, rows: usize, cols: usize, f: impl Fn(usize, usize) -> f32) {
        let mut g = Grid::filled(rows, cols, GeoTransform::from_lower_left(0.0, 0.0, 30.0, rows), 0.0f32);
        for r in 0..rows {
            for c in 0..cols {
                g.set(r, c, f(r, c));
            }
        }
        g.nodata = Some(-9999.0);
        kulan_io::write_raster(path, &g, &RasterWriteOptions { nodata: -9999.0, ..Default::default() }).unwrap();
    }

    fn args(dir: &std::path::Path, out: &str, solver: &str) -> Args {
        Args {
            resistance: dir.join("res.tif"),
            focal: dir.join("focal.tif"),
            conductance: false,
            connect: 8,
            scheme: "avg-cond".into(),
            regions: false,
            out: dir.join(out),
            no_current: false,
            solver: solver.into(),
            tol: 1e-10,
        }
    }

    fn read(dir: &std::path::Path, out: &str) -> (String, Vec<f64>) {
        let csv = std::fs::read_to_string(dir.join(format!("{out}_resistances.csv"))).unwrap();
        (csv, kulan_io::read_raster(&dir.join(format!("{out}_cum_curmap.tif"))).unwrap().data)
    }

    /// A strip of four cells of resistance 2: three links of 2 Ω in series, and the whole
    /// 1 A passes every cell (node current = max(inflow, outflow)).
    #[test]
    fn strip_resistance_and_current() {
        let d = tempfile::tempdir().unwrap();
        tif(&d.path().join("res.tif"), 1, 4, |_, _| 2.0);
        tif(&d.path().join("focal.tif"), 1, 4, |_, c| [1.0, 0.0, 0.0, 2.0][c]);
        run(args(d.path(), "s", "auto")).unwrap();
        let (csv, cum) = read(d.path(), "s");
        let rows: Vec<Vec<f64>> = csv.lines().skip(1).map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect();
        assert!(csv.starts_with("focal_id,1,2\n") && rows.len() == 2, "{csv}");
        assert!((rows[0][2] - 6.0).abs() < 1e-9 && (rows[1][1] - 6.0).abs() < 1e-9 && rows[0][1] == 0.0, "{csv}");
        assert!(cum.iter().all(|&v| (v - 1.0).abs() < 1e-6), "{cum:?}");
    }

    /// Same files whatever the number of threads, and the iterative solver agrees with the direct.
    #[test]
    fn deterministic_across_thread_counts() {
        let d = tempfile::tempdir().unwrap();
        // Over 8192 nodes, so CG's dot products are split into blocks.
        let (rows, cols) = (100, 130);
        tif(&d.path().join("res.tif"), rows, cols, |r, c| {
            if (r * 7 + c * 3) % 29 == 0 {
                -9999.0
            } else {
                1.0 + ((r * 13 + c * 17) % 23) as f32
            }
        });
        let spots = [(2usize, 3usize, 1.0f32), (95, 125, 2.0), (50, 10, 3.0), (5, 120, 4.0)];
        tif(&d.path().join("focal.tif"), rows, cols, |r, c| spots.iter().find(|s| s.0 == r && s.1 == c).map_or(0.0, |s| s.2));
        let mut outs = Vec::new();
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let name = format!("t{threads}");
            pool.install(|| run(args(d.path(), &name, "iterative"))).unwrap();
            outs.push(read(d.path(), &name));
        }
        assert!(outs.iter().all(|o| o.0 == outs[0].0 && o.1 == outs[0].1), "outputs differ between thread counts");
        run(args(d.path(), "direct", "direct")).unwrap();
        let (_, direct) = read(d.path(), "direct");
        for (a, b) in direct.iter().zip(&outs[0].1) {
            assert!((a - b).abs() <= 1e-5 * a.abs().max(1e-3), "direct {a} vs iterative {b}");
        }
    }
}
