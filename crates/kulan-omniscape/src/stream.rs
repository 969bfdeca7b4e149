//! Runs within a memory budget: the landscape is read in row bands (target block rows plus the
//! window halo), solved tile by tile and written band by band, so grids larger than memory
//! stream from and to disk. The maps are the same, bit for bit, as an in-memory run's.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kulan_core::raster::Grid;

use crate::config::{OmniscapeConfig, Precision};
use crate::engine::{Engine, FinishedRows};
use crate::run::{cell_rules, engine_settings, finish_rows, output_dir, OutputDir, RunSummary, NODATA};
use crate::setup::{check_resistance, ConditionLayer, Landscape};
use crate::window::Dims;
use crate::OmniscapeError;

/// Reads rows of one raster.
pub trait RowSource {
    fn rows(&self) -> usize;
    fn cols(&self) -> usize;
    /// Rows `row0 .. row0 + n`.
    fn read_rows(&self, row0: usize, n: usize) -> Result<Grid<f64>, OmniscapeError>;
}

/// Writes rows of one output raster; the file appears on `finish`.
pub trait RowSink {
    fn write_rows(&mut self, row0: usize, cells: &[f64]) -> Result<(), OmniscapeError>;
    fn finish(self: Box<Self>) -> Result<(), OmniscapeError>;
}

/// Opens inputs and creates outputs by rows (the CLI does it through GDAL).
pub trait StreamIo {
    fn open(&self, path: &Path) -> Result<Box<dyn RowSource>, OmniscapeError>;
    /// Creates `path` with the georeference of `like` (whose data may be empty).
    fn create<'a>(&'a self, path: &Path, like: &Grid<f64>, precision: Precision) -> Result<Box<dyn RowSink + 'a>, OmniscapeError>;
    /// Size, georeference and CRS of a raster (data left empty).
    fn describe(&self, path: &Path) -> Result<Grid<f64>, OmniscapeError>;
}

/// Bytes a run needs with `g` block rows per tile (band partials, fold and merge buffers, input
/// band, output rows), plus a fixed allowance for the windows being solved and the I/O caches.
pub fn working_set(cfg: &OmniscapeConfig, cols: usize, g: usize) -> u64 {
    let reach = (cfg.radius + cfg.buffer) as u64;
    let halo = reach.max((cfg.block_size as u64 - 1) / 2);
    let bs = cfg.block_size as u64;
    let maps = if cfg.calc_flow_potential || cfg.calc_normalized_current { 2 } else { 1 };
    let (g, cols) = (g as u64, cols as u64);
    let row = cols * 8;
    let partials = g * (2 * reach + 1) * row * maps;
    let fold = 2 * (g * bs + 2 * reach) * row * maps;
    let input_rows = g * bs + 2 * halo;
    let input = input_rows * cols * (8 * 3 + 16 * cfg.conditions.len() as u64);
    let output = (g * bs + 2 * reach) * row * (maps + 2);
    // Per thread: the maps of a chunk of targets awaiting their in-order addition, and room for
    // the cached factorizations.
    let per_thread = crate::engine::TARGETS_PER_THREAD as u64 * maps + 64;
    let windows = rayon::current_num_threads() as u64 * per_thread * (2 * reach + 1).pow(2) * 8;
    partials + fold + input + output + windows + (64 << 20)
}

/// Runs a configuration in bands so that the working set stays under `budget` bytes;
/// `progress(block rows done, block rows)` is called after each tile.
pub fn run_streaming<'io>(
    cfg: &OmniscapeConfig,
    io: &'io dyn StreamIo,
    out: &OutputDir,
    ini: Option<&Path>,
    budget: u64,
    progress: &dyn Fn(usize, usize),
) -> Result<RunSummary, OmniscapeError> {
    let name = |p: &Path| p.display().to_string();
    let resistance = io.open(&cfg.resistance_file)?;
    let like = io.describe(&cfg.resistance_file)?;
    let dims = Dims { rows: resistance.rows(), cols: resistance.cols() };
    let mut inputs: Vec<(PathBuf, Box<dyn RowSource>)> = Vec::new();
    let mut paths: Vec<PathBuf> = Vec::new();
    if !cfg.source_from_resistance {
        paths.push(cfg.source_file.clone().ok_or_else(|| OmniscapeError::Input("no source_file given".into()))?);
    }
    for c in &cfg.conditions {
        paths.push(c.present.clone());
        if let Some(f) = &c.future {
            paths.push(f.clone());
        }
    }
    for p in paths {
        let src = io.open(&p)?;
        if src.rows() != dims.rows || src.cols() != dims.cols {
            return Err(OmniscapeError::Input(format!(
                "{}: {} rows × {} columns but the resistance has {} × {}; resample it onto the same grid",
                name(&p),
                src.rows(),
                src.cols(),
                dims.rows,
                dims.cols
            )));
        }
        inputs.push((p, src));
    }
    let rules = cell_rules(cfg)?;
    let engine = Engine::new(engine_settings(cfg), dims)?;
    let mut per_tile = 0;
    while per_tile < engine.block_rows().max(1) && working_set(cfg, dims.cols, per_tile + 1) <= budget {
        per_tile += 1;
    }
    if per_tile == 0 {
        return Err(OmniscapeError::Input(format!(
            "--max-memory {} MB is too small for one row of targets; this run needs at least {} MB",
            budget >> 20,
            working_set(cfg, dims.cols, 1).div_ceil(1 << 20)
        )));
    }
    let per_tile = per_tile.min(256);

    let read_band = |rows: Range<usize>| -> Result<Landscape, OmniscapeError> {
        let n = rows.len();
        let res = resistance.read_rows(rows.start, n)?;
        let mut it = inputs.iter();
        let source = if cfg.source_from_resistance { None } else { Some(it.next().unwrap().1.read_rows(rows.start, n)?) };
        let mut conditions = Vec::new();
        for c in &cfg.conditions {
            let present = Landscape::condition_values(&it.next().unwrap().1.read_rows(rows.start, n)?);
            let future = match &c.future {
                Some(_) => Some(Landscape::condition_values(&it.next().unwrap().1.read_rows(rows.start, n)?)),
                None => None,
            };
            conditions.push(ConditionLayer { present, future, comparison: c.comparison });
        }
        let checked = match &rules.reclass {
            Some(_) => {
                let mut g = res.clone();
                for (i, v) in g.data.iter_mut().enumerate() {
                    *v = rules.resistance_value(crate::setup::cell(&res, i)).unwrap_or(NODATA);
                }
                g.nodata = Some(NODATA);
                g
            }
            None => res.clone(),
        };
        check_resistance(&checked, &name(&cfg.resistance_file), rows.start)?;
        Ok(Landscape::from_grids(rows.start, &rules, &res, source.as_ref(), conditions))
    };

    let dir = output_dir(cfg, out);
    let created = !dir.exists();
    std::fs::create_dir_all(&dir).map_err(|e| OmniscapeError::File { path: name(&dir), message: format!("cannot create the output folder: {e}") })?;
    let result = (|| -> Result<RunSummary, OmniscapeError> {
        let ext = "tif";
        let mut summary = RunSummary { rows: dims.rows, cols: dims.cols, out_dir: dir.clone(), ..Default::default() };
        let mut sinks: Vec<(&str, Box<dyn RowSink + 'io>)> = Vec::new();
        let mut open = |n: &'static str, sinks: &mut Vec<(&str, Box<dyn RowSink + 'io>)>| -> Result<(), OmniscapeError> {
            let p = dir.join(format!("{n}.{ext}"));
            sinks.push((n, io.create(&p, &like, cfg.precision)?));
            summary.files.push(p);
            Ok(())
        };
        let write_reclass = cfg.write_reclassified_resistance && rules.reclass.is_some();
        if write_reclass {
            open("classified_resistance", &mut sinks)?;
        }
        if cfg.write_raw_currmap {
            open("cum_currmap", &mut sinks)?;
        }
        if cfg.calc_flow_potential {
            open("flow_potential", &mut sinks)?;
        }
        if cfg.calc_normalized_current {
            open("normalized_cum_currmap", &mut sinks)?;
        }
        let last_band: std::cell::RefCell<Option<Arc<Landscape>>> = Default::default();
        let targets = engine.run_tiles(
            per_tile,
            |rows| {
                let band = Arc::new(read_band(rows)?);
                *last_band.borrow_mut() = Some(band.clone());
                Ok(Box::new(band))
            },
            |done: FinishedRows| {
                if done.rows.is_empty() {
                    return Ok(());
                }
                progress(engine.block_rows().min((done.rows.end + engine.settings.window.reach()) / engine.settings.window.block_size), engine.block_rows());
                let last = last_band.borrow().clone();
                let band = match last {
                    Some(b) if b.row0 <= done.rows.start && done.rows.end <= b.row0 + b.rows => b,
                    _ => Arc::new(read_band(done.rows.clone())?),
                };
                let off = (done.rows.start - band.row0) * dims.cols;
                let conductance = &band.conductance[off..off + done.rows.len() * dims.cols];
                let row0 = done.rows.start;
                let n = done.rows.len();
                let products = finish_rows(cfg, done, conductance);
                for (kind, sink) in sinks.iter_mut() {
                    let data: Vec<f64> = match *kind {
                        "classified_resistance" => {
                            let res = resistance.read_rows(row0, n)?;
                            (0..res.data.len()).map(|i| rules.resistance_value(crate::setup::cell(&res, i)).unwrap_or(NODATA)).collect()
                        }
                        "cum_currmap" => products.current.clone(),
                        "flow_potential" => products.flow.clone().unwrap_or_default(),
                        _ => products.normalized.clone().unwrap_or_default(),
                    };
                    sink.write_rows(row0, &data)?;
                }
                Ok(())
            },
        )?;
        for (_, sink) in sinks {
            sink.finish()?;
        }
        summary.targets = targets;
        if targets == 0 {
            summary.warnings.push("no target has a positive source strength: every map is 0".into());
        }
        if let Some(ini) = ini {
            let to = dir.join("config.ini");
            std::fs::copy(ini, &to).map_err(|e| OmniscapeError::File { path: name(&to), message: e.to_string() })?;
            summary.files.push(to);
        }
        summary.notes.push(format!("streamed in tiles of {per_tile} target rows (working set ≈ {} MB)", working_set(cfg, dims.cols, per_tile) >> 20));
        Ok(summary)
    })();
    if result.is_err() && created {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}
