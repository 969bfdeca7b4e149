//! A whole Omniscape run: read the inputs, set the problem up, run the engine, write the maps.

use std::path::{Path, PathBuf};

use kulan_circuit::graph::Connectivity;
use kulan_core::raster::Grid;

use crate::config::{read_config, OmniscapeConfig, Precision};
use crate::engine::{Engine, EngineSettings, Maps};
use crate::setup::{check_resistance, check_same_size, CellRules, ConditionLayer, Landscape, ReclassTable};
use crate::window::{Dims, WindowParams};
use crate::OmniscapeError;

/// NoData of every output map.
pub const NODATA: f64 = -9999.0;

/// Reads input rasters and writes output rasters (the CLI reads and writes GeoTIFF through GDAL;
/// [`AscIo`] handles ASCII grids in pure Rust).
pub trait RasterIo: Sync {
    fn read(&self, path: &Path) -> Result<Grid<f64>, OmniscapeError>;
    /// Writes `grid` (NoData −9999) to `path`, as float32 when `precision` is single.
    fn write(&self, path: &Path, grid: &Grid<f64>, precision: Precision) -> Result<(), OmniscapeError>;
}

/// ESRI ASCII grids only, in pure Rust.
pub struct AscIo;

impl RasterIo for AscIo {
    fn read(&self, path: &Path) -> Result<Grid<f64>, OmniscapeError> {
        kulan_core::raster::asc::read_asc(path).map_err(|e| OmniscapeError::File { path: path.display().to_string(), message: e.to_string() })
    }

    fn write(&self, path: &Path, grid: &Grid<f64>, precision: Precision) -> Result<(), OmniscapeError> {
        let err = |m: String| OmniscapeError::File { path: path.display().to_string(), message: m };
        let g = match precision {
            Precision::Single => grid.map(|v| v as f32 as f64),
            Precision::Double => grid.clone(),
        };
        let tmp = path.with_extension("asc.partial");
        let file = std::fs::File::create(&tmp).map_err(|e| err(e.to_string()))?;
        kulan_core::raster::asc::write_asc(file, &g, NODATA).map_err(|e| err(e.to_string()))?;
        std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))
    }
}

/// Where the maps go.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputDir {
    /// Omniscape's rule: the folder `project_name` in the working directory, or
    /// `project_name_1`, `_2`, … when it exists.
    Project,
    /// Exactly this folder (created when missing).
    Exact(PathBuf),
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub out_dir: PathBuf,
    pub files: Vec<PathBuf>,
    pub warnings: Vec<String>,
    pub targets: usize,
    pub rows: usize,
    pub cols: usize,
    /// Informational lines (how the run was tiled).
    pub notes: Vec<String>,
}

/// Runs an Omniscape.jl `.ini` file: paths in it are relative to the working directory, the
/// maps go to the `project_name` folder, and the `.ini` is copied there as `config.ini`.
/// Warnings are returned in the summary (and must be shown by the caller).
pub fn run_ini(path: &Path, io: &dyn RasterIo) -> Result<RunSummary, OmniscapeError> {
    let parsed = read_config(path)?;
    let mut summary = run_config(&parsed.config, io, &OutputDir::Project, Some(path))?;
    let mut warnings = parsed.warnings;
    warnings.append(&mut summary.warnings);
    summary.warnings = warnings;
    Ok(summary)
}

fn file_name(p: &Path) -> String {
    p.display().to_string()
}

/// The cell-local rules of a configuration, with its reclassification table read.
pub fn cell_rules(cfg: &OmniscapeConfig) -> Result<CellRules, OmniscapeError> {
    let reclass = match &cfg.reclass_table {
        Some(t) => {
            let text = std::fs::read_to_string(t)
                .map_err(|e| OmniscapeError::File { path: file_name(t), message: format!("cannot read the reclass table: {e}") })?;
            Some(ReclassTable::parse(&text, &file_name(t))?)
        }
        None => None,
    };
    Ok(CellRules {
        resistance_is_conductance: cfg.resistance_is_conductance,
        source_from_resistance: cfg.source_from_resistance,
        r_cutoff: cfg.r_cutoff,
        source_threshold: cfg.source_threshold,
        reclass,
    })
}

/// The engine settings of a configuration.
pub fn engine_settings(cfg: &OmniscapeConfig) -> EngineSettings {
    EngineSettings {
        window: WindowParams { radius: cfg.radius, buffer: cfg.buffer, block_size: cfg.block_size },
        connectivity: if cfg.four_neighbours { Connectivity::Four } else { Connectivity::Eight },
        flow_potential: cfg.calc_flow_potential || cfg.calc_normalized_current,
        correct_artifacts: cfg.correct_artifacts,
    }
}

/// Reads the inputs and prepares the landscape; returns it with the resistance grid (for the
/// georeference and NoData mask) and the reclassified resistance when it is to be written.
pub fn load_landscape(cfg: &OmniscapeConfig, io: &dyn RasterIo) -> Result<(Landscape, Grid<f64>, Option<Grid<f64>>), OmniscapeError> {
    let res_name = file_name(&cfg.resistance_file);
    let resistance = io.read(&cfg.resistance_file)?;
    let rules = cell_rules(cfg)?;
    let reclassified = rules.reclass.as_ref().map(|_| {
        let mut g = resistance.map(|v| v);
        for (i, v) in g.data.iter_mut().enumerate() {
            *v = rules.resistance_value(crate::setup::cell(&resistance, i)).unwrap_or(NODATA);
        }
        g.nodata = Some(NODATA);
        g
    });
    check_resistance(reclassified.as_ref().unwrap_or(&resistance), &res_name, 0)?;
    let source = if cfg.source_from_resistance {
        None
    } else {
        let p = cfg.source_file.as_ref().ok_or_else(|| OmniscapeError::Input("no source_file given".into()))?;
        let g = io.read(p)?;
        check_same_size(&resistance, &g, "source strength raster", &file_name(p))?;
        Some(g)
    };
    let mut conditions = Vec::new();
    for c in &cfg.conditions {
        let present = io.read(&c.present)?;
        check_same_size(&resistance, &present, "condition raster", &file_name(&c.present))?;
        let future = match &c.future {
            Some(f) => {
                let g = io.read(f)?;
                check_same_size(&resistance, &g, "future condition raster", &file_name(f))?;
                Some(Landscape::condition_values(&g))
            }
            None => None,
        };
        conditions.push(ConditionLayer { present: Landscape::condition_values(&present), future, comparison: c.comparison });
    }
    let land = Landscape::from_grids(0, &rules, &resistance, source.as_ref(), conditions);
    Ok((land, resistance, reclassified))
}

/// Picks the output folder (Omniscape's `_1`, `_2`, … suffixes when the project folder exists).
pub fn output_dir(cfg: &OmniscapeConfig, out: &OutputDir) -> PathBuf {
    match out {
        OutputDir::Exact(p) => p.clone(),
        OutputDir::Project => {
            let base = PathBuf::from(&cfg.project_name);
            if !base.exists() {
                return base;
            }
            let mut n = 1;
            loop {
                let p = PathBuf::from(format!("{}_{n}", cfg.project_name));
                if !p.exists() {
                    return p;
                }
                n += 1;
            }
        }
    }
}

/// Runs a configuration (from an `.ini` or built by the native command).
pub fn run_config(
    cfg: &OmniscapeConfig,
    io: &dyn RasterIo,
    out: &OutputDir,
    ini: Option<&Path>,
) -> Result<RunSummary, OmniscapeError> {
    let (land, resistance, reclassified) = load_landscape(cfg, io)?;
    let dims = Dims { rows: land.rows, cols: land.cols };
    let engine = Engine::new(engine_settings(cfg), dims)?;
    let maps = engine.run_in_memory(&land)?;
    let mut summary = RunSummary { rows: dims.rows, cols: dims.cols, targets: maps.targets, ..Default::default() };
    if maps.targets == 0 {
        summary.warnings.push("no target has a positive source strength: every map is 0".into());
    }
    let products = finish_maps(cfg, maps, &land.conductance);
    let dir = output_dir(cfg, out);
    std::fs::create_dir_all(&dir)
        .map_err(|e| OmniscapeError::File { path: file_name(&dir), message: format!("cannot create the output folder: {e}") })?;
    if let Some(ini) = ini {
        let to = dir.join("config.ini");
        std::fs::copy(ini, &to).map_err(|e| OmniscapeError::File { path: file_name(&to), message: e.to_string() })?;
        summary.files.push(to);
    }
    let ext = if cfg.write_as_tif { "tif" } else { "asc" };
    let mut write = |name: &str, data: Vec<f64>| -> Result<(), OmniscapeError> {
        let mut g = resistance.same_shape(0.0);
        g.data = data;
        g.nodata = Some(NODATA);
        let p = dir.join(format!("{name}.{ext}"));
        io.write(&p, &g, cfg.precision)?;
        summary.files.push(p);
        Ok(())
    };
    if let Some(r) = reclassified.filter(|_| cfg.write_reclassified_resistance) {
        write("classified_resistance", r.data)?;
    }
    if cfg.write_raw_currmap {
        write("cum_currmap", products.current)?;
    }
    if let (true, Some(f)) = (cfg.calc_flow_potential, products.flow) {
        write("flow_potential", f)?;
    }
    if let Some(n) = products.normalized {
        write("normalized_cum_currmap", n)?;
    }
    summary.out_dir = dir;
    Ok(summary)
}

/// The output maps of a run.
pub struct Products {
    pub current: Vec<f64>,
    pub flow: Option<Vec<f64>>,
    pub normalized: Option<Vec<f64>>,
}

/// [`finish_maps`] for a band of finished rows.
pub fn finish_rows(cfg: &OmniscapeConfig, rows: crate::engine::FinishedRows, conductance: &[f64]) -> Products {
    finish_maps(cfg, Maps { current: rows.current, flow: rows.flow, targets: 0 }, conductance)
}

/// Normalized current (current / flow potential, 0 where that is not a number) and the NoData
/// mask (cells without conductance) when `mask_nodata`.
pub fn finish_maps(cfg: &OmniscapeConfig, maps: Maps, conductance: &[f64]) -> Products {
    let normalized = match (&maps.flow, cfg.calc_normalized_current) {
        (Some(f), true) => Some(
            maps.current
                .iter()
                .zip(f)
                .map(|(c, f)| {
                    let v = c / f;
                    if v.is_nan() {
                        0.0
                    } else {
                        v
                    }
                })
                .collect::<Vec<f64>>(),
        ),
        _ => None,
    };
    let mut p = Products { current: maps.current, flow: maps.flow, normalized };
    if cfg.mask_nodata {
        for (i, &g) in conductance.iter().enumerate() {
            if !(g > 0.0) {
                p.current[i] = NODATA;
                if let Some(f) = p.flow.as_mut() {
                    f[i] = NODATA;
                }
                if let Some(n) = p.normalized.as_mut() {
                    n[i] = NODATA;
                }
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse_config, parse_ini_text};

    fn asc(dir: &Path, name: &str, rows: usize, cols: usize, f: impl Fn(usize, usize) -> &'static str) -> PathBuf {
        let mut t = format!("ncols {cols}\nnrows {rows}\nxllcorner 0\nyllcorner 0\ncellsize 1\nnodata_value -9999\n");
        for r in 0..rows {
            let row: Vec<&str> = (0..cols).map(|c| f(r, c)).collect();
            t.push_str(&row.join(" "));
            t.push('\n');
        }
        let p = dir.join(name);
        std::fs::write(&p, t).unwrap();
        p
    }

    fn cfg(dir: &Path, extra: &str) -> OmniscapeConfig {
        let ini = format!("resistance_file = {}/r.asc\nradius = 3\nproject_name = p\nwrite_as_tif = false\n{extra}", dir.display());
        parse_config(&parse_ini_text(&ini), Path::new("t.ini")).unwrap().config
    }

    #[test]
    fn bad_inputs_are_clear_errors() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        asc(dir, "r.asc", 8, 8, |r, c| if (r, c) == (2, 5) { "-1" } else { "1" });
        asc(dir, "s.asc", 7, 8, |_, _| "1");
        let out = OutputDir::Exact(dir.join("o"));
        let e = run_config(&cfg(dir, "source_from_resistance = true\n"), &AscIo, &out, None).unwrap_err().to_string();
        assert!(e.contains("row 2, column 5") && e.contains("0 or negative"), "{e}");
        asc(dir, "r.asc", 8, 8, |_, _| "1");
        let e = run_config(&cfg(dir, &format!("source_file = {}/s.asc\n", dir.display())), &AscIo, &out, None).unwrap_err().to_string();
        assert!(e.contains("7 rows × 8 columns") && e.contains("s.asc"), "{e}");
        let e = run_config(&cfg(dir, &format!("source_file = {}/missing.asc\n", dir.display())), &AscIo, &out, None).unwrap_err().to_string();
        assert!(e.contains("missing.asc"), "{e}");
        assert!(!dir.join("o").exists());
    }

    #[test]
    fn nodata_and_nan_cells_carry_no_current_and_are_masked() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        asc(dir, "r.asc", 9, 9, |r, c| match (r, c) {
            (4, 2) => "-9999",
            (4, 6) => "nan",
            _ => "1",
        });
        let out = OutputDir::Exact(dir.join("o"));
        let s = run_config(&cfg(dir, "source_from_resistance = true\nmask_nodata = true\n"), &AscIo, &out, None).unwrap();
        assert_eq!(s.targets, 81 - 2);
        let g = AscIo.read(&dir.join("o/cum_currmap.asc")).unwrap();
        assert!(g.is_nodata(g.get(4, 2)) && g.is_nodata(g.get(4, 6)));
        assert!(g.get(4, 4) > 0.0);
        let s = run_config(&cfg(dir, "source_from_resistance = true\nmask_nodata = false\n"), &AscIo, &OutputDir::Exact(dir.join("o2")), None).unwrap();
        assert_eq!(s.targets, 79);
        let g = AscIo.read(&dir.join("o2/cum_currmap.asc")).unwrap();
        assert_eq!(g.get(4, 2), 0.0);
    }

    #[test]
    fn project_folders_get_suffixes() {
        let d = tempfile::tempdir().unwrap();
        let mut c = cfg(d.path(), "source_from_resistance = true\n");
        c.project_name = d.path().join("proj").display().to_string();
        assert_eq!(output_dir(&c, &OutputDir::Project), d.path().join("proj"));
        std::fs::create_dir(d.path().join("proj")).unwrap();
        std::fs::create_dir(d.path().join("proj_1")).unwrap();
        assert_eq!(output_dir(&c, &OutputDir::Project), PathBuf::from(format!("{}_2", c.project_name)));
    }
}
