//! `kulan omniscape CONFIG.ini`: runs an Omniscape.jl configuration unchanged;
//! `kulan omniscape --resistance R.tif --radius CELLS ...`: the same engine over Kulan rasters.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use kulan_core::raster::Grid;
use kulan_io::RasterWriteOptions;
use kulan_omniscape::config::OmniscapeConfig;
use kulan_omniscape::config::read_config;
use kulan_omniscape::run::{self, OutputDir, RasterIo, NODATA};
use kulan_omniscape::stream::{run_streaming, RowSink, RowSource, StreamIo};
use kulan_omniscape::{OmniscapeError, Precision};

#[derive(clap::Args)]
pub struct Args {
    /// An Omniscape.jl .ini file. Paths in it are relative to the working directory, and the maps
    /// go to the folder `project_name` (or `project_name_1`, `_2`, ... when it exists), as
    /// Omniscape.jl does. Leave it out to use the flags below instead.
    #[arg(conflicts_with_all = ["resistance", "radius", "source", "out"])]
    pub config: Option<PathBuf>,
    /// Resistance raster (GeoTIFF or ASCII grid); NoData cells carry no current.
    #[arg(long, required_unless_present = "config")]
    pub resistance: Option<PathBuf>,
    /// Moving-window radius in cells.
    #[arg(long, required_unless_present = "config")]
    pub radius: Option<usize>,
    /// Target block size in cells (odd; an even size is rounded up with a warning).
    #[arg(long, default_value_t = 1)]
    pub block_size: usize,
    /// Cells beyond the radius that carry current but hold no sources.
    #[arg(long, default_value_t = 0)]
    pub buffer: usize,
    /// Source strength raster; without it, sources are 1/resistance (see --r-cutoff).
    #[arg(long)]
    pub source: Option<PathBuf>,
    /// With sources from resistance: only cells with resistance <= this are sources.
    #[arg(long, default_value_t = f64::INFINITY)]
    pub r_cutoff: f64,
    /// Source strengths below this are set to 0.
    #[arg(long, default_value_t = 0.0)]
    pub source_threshold: f64,
    /// The --resistance raster holds conductances.
    #[arg(long)]
    pub conductance: bool,
    /// Join cells to 4 neighbours instead of 8.
    #[arg(long)]
    pub four_neighbours: bool,
    /// Also write flow_potential (current on a uniform landscape).
    #[arg(long)]
    pub flow_potential: bool,
    /// Also write normalized_cum_currmap (current / flow potential).
    #[arg(long)]
    pub normalized: bool,
    /// Skip Omniscape's block-artifact correction.
    #[arg(long)]
    pub no_correct_artifacts: bool,
    /// Write float32 maps.
    #[arg(long)]
    pub single: bool,
    /// Write ASCII grids instead of GeoTIFF.
    #[arg(long)]
    pub asc: bool,
    /// Output folder (created when missing).
    #[arg(long, required_unless_present = "config")]
    pub out: Option<PathBuf>,
    /// Memory budget (e.g. 512M, 4G): read the landscape and write the maps in row bands whose
    /// working set fits, so grids larger than memory stream from and to disk. GeoTIFF output only.
    /// The maps are identical to an in-memory run's.
    #[arg(long, value_parser = parse_bytes)]
    pub max_memory: Option<u64>,
}

/// `512M`, `4G`, `800000K` or plain bytes.
fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        Some('T') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let v: f64 = num.trim().parse().map_err(|_| format!("'{s}' is not a size like 512M or 4G"))?;
    if !(v > 0.0) {
        return Err(format!("'{s}': the memory budget must be positive"));
    }
    Ok((v * mult as f64) as u64)
}

/// Reads any GDAL raster (ASCII grids included) and writes GeoTIFF or ASCII grids by extension.
pub struct GdalIo;

impl RasterIo for GdalIo {
    fn read(&self, path: &Path) -> Result<Grid<f64>, OmniscapeError> {
        kulan_io::read_raster(path).map_err(|e| OmniscapeError::File { path: path.display().to_string(), message: e.to_string() })
    }

    fn write(&self, path: &Path, grid: &Grid<f64>, precision: Precision) -> Result<(), OmniscapeError> {
        let opts = RasterWriteOptions { compress: true, cog: false, nodata: NODATA };
        let res = match precision {
            Precision::Double => kulan_io::write_raster(path, grid, &opts),
            Precision::Single => kulan_io::write_raster(path, &grid.map(|v| v as f32), &opts),
        };
        res.map_err(|e| OmniscapeError::File { path: path.display().to_string(), message: e.to_string() })
    }
}

struct GdalRows(kulan_io::rows::RowReader);

impl RowSource for GdalRows {
    fn rows(&self) -> usize {
        self.0.rows
    }
    fn cols(&self) -> usize {
        self.0.cols
    }
    fn read_rows(&self, row0: usize, n: usize) -> Result<Grid<f64>, OmniscapeError> {
        self.0.read_rows(row0, n).map_err(|e| OmniscapeError::Input(e.to_string()))
    }
}

enum GdalSink {
    F64(kulan_io::rows::RowWriter<f64>),
    F32(kulan_io::rows::RowWriter<f32>),
}

impl RowSink for GdalSink {
    fn write_rows(&mut self, row0: usize, cells: &[f64]) -> Result<(), OmniscapeError> {
        let r = match self {
            GdalSink::F64(w) => w.write_rows(row0, cells.to_vec()),
            GdalSink::F32(w) => w.write_rows(row0, cells.iter().map(|&v| v as f32).collect()),
        };
        r.map_err(|e| OmniscapeError::Input(e.to_string()))
    }
    fn finish(self: Box<Self>) -> Result<(), OmniscapeError> {
        let r = match *self {
            GdalSink::F64(w) => w.finish(),
            GdalSink::F32(w) => w.finish(),
        };
        r.map_err(|e| OmniscapeError::Input(e.to_string()))
    }
}

impl StreamIo for GdalIo {
    fn open(&self, path: &Path) -> Result<Box<dyn RowSource>, OmniscapeError> {
        let r = kulan_io::rows::RowReader::open(path).map_err(|e| OmniscapeError::File { path: path.display().to_string(), message: e.to_string() })?;
        Ok(Box::new(GdalRows(r)))
    }
    fn describe(&self, path: &Path) -> Result<Grid<f64>, OmniscapeError> {
        let r = kulan_io::rows::RowReader::open(path).map_err(|e| OmniscapeError::File { path: path.display().to_string(), message: e.to_string() })?;
        Ok(Grid { rows: r.rows, cols: r.cols, transform: r.transform, nodata: r.nodata, crs: r.crs.clone(), data: Vec::new() })
    }
    fn create<'a>(&'a self, path: &Path, like: &Grid<f64>, precision: Precision) -> Result<Box<dyn RowSink + 'a>, OmniscapeError> {
        let err = |e: kulan_io::IoError| OmniscapeError::File { path: path.display().to_string(), message: e.to_string() };
        let crs = like.crs.as_deref();
        Ok(Box::new(match precision {
            Precision::Double => GdalSink::F64(kulan_io::rows::RowWriter::create(path, like.rows, like.cols, &like.transform, crs, NODATA).map_err(err)?),
            Precision::Single => GdalSink::F32(kulan_io::rows::RowWriter::create(path, like.rows, like.cols, &like.transform, crs, NODATA).map_err(err)?),
        }))
    }
}

fn native_config(args: &Args) -> anyhow::Result<(OmniscapeConfig, Vec<String>)> {
    let (Some(resistance), Some(radius), Some(out)) = (&args.resistance, args.radius, &args.out) else {
        bail!("give an Omniscape .ini file, or --resistance, --radius and --out");
    };
    if radius == 0 {
        bail!("--radius must be at least 1 cell");
    }
    let mut warnings = Vec::new();
    let mut block_size = args.block_size.max(1);
    if block_size % 2 == 0 {
        warnings.push(format!("block size {block_size} is even, but must be odd; using {}", block_size + 1));
        block_size += 1;
    }
    let cfg = OmniscapeConfig {
        resistance_file: resistance.clone(),
        resistance_is_conductance: args.conductance,
        source_file: args.source.clone(),
        source_from_resistance: args.source.is_none(),
        project_name: out.display().to_string(),
        radius,
        block_size,
        buffer: args.buffer,
        source_threshold: args.source_threshold,
        r_cutoff: args.r_cutoff,
        precision: if args.single { Precision::Single } else { Precision::Double },
        four_neighbours: args.four_neighbours,
        calc_flow_potential: args.flow_potential,
        calc_normalized_current: args.normalized,
        correct_artifacts: !args.no_correct_artifacts,
        write_raw_currmap: true,
        write_as_tif: !args.asc,
        mask_nodata: true,
        parallelize: true,
        reclass_table: None,
        write_reclassified_resistance: false,
        conditions: Vec::new(),
    };
    Ok((cfg, warnings))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let t0 = std::time::Instant::now();
    let (cfg, warnings, out) = match &args.config {
        Some(ini) => {
            let parsed = read_config(ini)?;
            (parsed.config, parsed.warnings, OutputDir::Project)
        }
        None => {
            let (cfg, warnings) = native_config(&args)?;
            (cfg, warnings, OutputDir::Exact(args.out.clone().unwrap_or_default()))
        }
    };
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let ini = args.config.as_deref();
    let what = || ini.map_or_else(|| "running omniscape".to_string(), |p| format!("running {}", p.display()));
    let summary = match args.max_memory {
        Some(budget) => {
            if !cfg.write_as_tif {
                bail!("--max-memory writes GeoTIFF maps; set write_as_tif = true");
            }
            // The working set allows 64 MB for I/O; GDAL's default cache could take ~1 GB.
            kulan_io::rows::limit_block_cache((64 << 20).min(budget / 4));
            let last = std::cell::Cell::new(std::time::Instant::now());
            let report = |done: usize, total: usize| {
                if last.get().elapsed().as_secs() >= 10 || done == total {
                    last.set(std::time::Instant::now());
                    eprintln!("omniscape: about {done} of {total} target rows done, {:.0} s", t0.elapsed().as_secs_f64());
                }
            };
            run_streaming(&cfg, &GdalIo, &out, ini, budget, &report).with_context(what)?
        }
        None => run::run_config(&cfg, &GdalIo, &out, ini).with_context(what)?,
    };
    for w in &summary.warnings {
        eprintln!("warning: {w}");
    }
    for n in &summary.notes {
        eprintln!("{n}");
    }
    eprintln!(
        "omniscape: {} × {} cells, {} targets, {} files written to {} in {:.2} s",
        summary.rows,
        summary.cols,
        summary.targets,
        summary.files.len(),
        summary.out_dir.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
