//! `kulan circuit`: circuit-theory connectivity on Kulan rasters (pairwise mode), over the same
//! engine as `kulan circuitscape`.

use std::path::PathBuf;

use anyhow::{bail, Context};
use kulan_circuit::{Connectivity, Scheme};
use kulan_io::RasterWriteOptions;
use kulan_project::circuit::{pairwise, write_resistances_csv, PairwiseOptions};

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
    crate::memory::reuse_freed_memory();
    let t0 = std::time::Instant::now();
    let res = kulan_io::read_raster(&args.resistance)?;
    let focal = kulan_io::read_raster(&args.focal)?;
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
    let opts = PairwiseOptions {
        conductance: args.conductance,
        connectivity,
        scheme,
        regions: args.regions,
        current: !args.no_current,
        solver: kulan_circuit::circuitscape::RunOptions::default().solver.max_parse(&args.solver)?,
        tol: args.tol,
    };
    let r = pairwise(&res, &focal, &opts)
        .with_context(|| format!("{} with focal {}", args.resistance.display(), args.focal.display()))?;
    if !r.missing.is_empty() {
        eprintln!("warning: focal ids {:?} lie only on NoData cells; their resistances are -1", r.missing);
    }
    let csv_path = PathBuf::from(format!("{}_resistances.csv", args.out.display()));
    if let Some(d) = csv_path.parent() {
        if !d.as_os_str().is_empty() {
            std::fs::create_dir_all(d)?;
        }
    }
    write_resistances_csv(&csv_path, &r)?;
    if let Some(g) = &r.cumulative_current {
        let p = PathBuf::from(format!("{}_cum_curmap.tif", args.out.display()));
        kulan_io::write_raster(&p, g, &RasterWriteOptions { nodata: -9999.0, ..Default::default() })?;
    }
    eprintln!(
        "circuit: {} nodes, {} edges, {} focal ids, {} pairs, solver {}; total {:.2} s",
        r.nodes,
        r.edges,
        r.ids.len(),
        r.pairs,
        r.solver,
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
