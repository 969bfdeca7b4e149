//! Runs within a memory budget give the same maps, bit for bit, as in-memory runs, whatever the
//! tile size; a budget too small for one row of targets is a clear error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use kulan_core::raster::Grid;
use kulan_omniscape::config::read_config;
use kulan_omniscape::run::{run_config, AscIo, OutputDir, RasterIo};
use kulan_omniscape::stream::{run_streaming, working_set, RowSink, RowSource, StreamIo};
use kulan_omniscape::{OmniscapeConfig, OmniscapeError, Precision};

/// Rows served from whole ASCII grids; outputs collected in memory.
#[derive(Default)]
struct MemStream {
    written: Mutex<HashMap<PathBuf, Vec<f64>>>,
}

struct Rows(Grid<f64>);

impl RowSource for Rows {
    fn rows(&self) -> usize {
        self.0.rows
    }
    fn cols(&self) -> usize {
        self.0.cols
    }
    fn read_rows(&self, row0: usize, n: usize) -> Result<Grid<f64>, OmniscapeError> {
        let mut g = self.0.clone();
        g.rows = n;
        g.data = self.0.data[row0 * g.cols..(row0 + n) * g.cols].to_vec();
        Ok(g)
    }
}

struct Sink<'a> {
    path: PathBuf,
    data: Vec<f64>,
    cols: usize,
    store: &'a Mutex<HashMap<PathBuf, Vec<f64>>>,
}

impl RowSink for Sink<'_> {
    fn write_rows(&mut self, row0: usize, cells: &[f64]) -> Result<(), OmniscapeError> {
        self.data[row0 * self.cols..row0 * self.cols + cells.len()].copy_from_slice(cells);
        Ok(())
    }
    fn finish(self: Box<Self>) -> Result<(), OmniscapeError> {
        self.store.lock().unwrap().insert(self.path.clone(), self.data.clone());
        Ok(())
    }
}

impl StreamIo for MemStream {
    fn open(&self, path: &Path) -> Result<Box<dyn RowSource>, OmniscapeError> {
        Ok(Box::new(Rows(AscIo.read(path)?)))
    }
    fn describe(&self, path: &Path) -> Result<Grid<f64>, OmniscapeError> {
        let mut g = AscIo.read(path)?;
        g.data.clear();
        Ok(g)
    }
    fn create<'a>(&'a self, path: &Path, like: &Grid<f64>, _p: Precision) -> Result<Box<dyn RowSink + 'a>, OmniscapeError> {
        Ok(Box::new(Sink { path: path.to_path_buf(), data: vec![f64::NAN; like.rows * like.cols], cols: like.cols, store: &self.written }))
    }
}

fn peer_config(ini: &str) -> Option<OmniscapeConfig> {
    let test = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peers/omniscape/test");
    if !test.is_dir() {
        eprintln!("skipping: {} not found", test.display());
        return None;
    }
    let mut c = read_config(&test.join("input").join(ini)).unwrap().config;
    c.resistance_file = test.join(&c.resistance_file);
    c.source_file = c.source_file.map(|p| test.join(p));
    for cond in &mut c.conditions {
        cond.present = test.join(&cond.present);
        cond.future = cond.future.take().map(|f| test.join(f));
    }
    c.write_as_tif = false;
    c.write_raw_currmap = true;
    Some(c)
}

#[test]
fn every_tile_size_gives_the_in_memory_bits() {
    for ini in ["config.ini", "config4a.ini"] {
        let Some(cfg) = peer_config(ini) else { return };
        let out = tempfile::tempdir().unwrap();
        run_config(&cfg, &AscIo, &OutputDir::Exact(out.path().join("mem")), None).unwrap();
        for per_tile in [1, 2, 3, 10] {
            let io = MemStream::default();
            let budget = working_set(&cfg, 30, per_tile);
            let dir = out.path().join(format!("s{per_tile}"));
            let s = run_streaming(&cfg, &io, &OutputDir::Exact(dir.clone()), None, budget, &|_, _| {}).unwrap();
            assert!(s.notes[0].contains(&format!("tiles of {per_tile} target rows")), "{:?}", s.notes);
            let written = io.written.lock().unwrap();
            for name in ["cum_currmap", "flow_potential", "normalized_cum_currmap"] {
                let mem = AscIo.read(&out.path().join("mem").join(format!("{name}.asc"))).unwrap();
                let streamed = &written[&dir.join(format!("{name}.tif"))];
                // The ASCII grid keeps 17 significant digits: compare through the same text.
                for (a, b) in mem.data.iter().zip(streamed) {
                    assert_eq!(format!("{a:e}"), format!("{:e}", if *b == -9999.0 { -9999.0 } else { *b }), "{ini} {name} tile {per_tile}");
                }
            }
        }
    }
}

#[test]
fn a_budget_too_small_is_an_error_and_zero_resistance_leaves_no_folder() {
    let Some(cfg) = peer_config("config2.ini") else { return };
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("x");
    let e = run_streaming(&cfg, &MemStream::default(), &OutputDir::Exact(dir.clone()), None, 1 << 20, &|_, _| {}).unwrap_err().to_string();
    assert!(e.contains("too small") && e.contains("MB"), "{e}");
    let Some(bad) = peer_config("config7.ini") else { return };
    let e = run_streaming(&bad, &MemStream::default(), &OutputDir::Exact(dir.clone()), None, 1 << 30, &|_, _| {}).unwrap_err().to_string();
    assert!(e.contains("0 or negative"), "{e}");
    assert!(!dir.exists());
}
