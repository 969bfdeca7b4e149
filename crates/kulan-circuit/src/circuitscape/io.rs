//! Circuitscape's input files (grids, point lists, pair lists, source strengths, graphs) and
//! output files (ASCII grids, resistance tables, network text files).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use kulan_core::raster::{asc, Grid};

use crate::CircuitError;

/// Reads rasters. The default reads ESRI ASCII grids, gzipped or not; the CLI adds GeoTIFF.
pub trait GridReader: Sync {
    fn read(&self, path: &Path) -> Result<Grid<f64>, CircuitError>;
}

/// Writes output rasters (the CLI may write GeoTIFF instead of ASCII grids).
pub trait GridWriter: Sync {
    /// File extension written (e.g. `asc`).
    fn extension(&self, compress: bool) -> String;
    fn write(&self, path: &Path, grid: &Grid<f64>, nodata: f64, compress: bool) -> Result<(), CircuitError>;
}

fn file_err(path: &Path, message: impl Into<String>) -> CircuitError {
    CircuitError::File { path: path.display().to_string(), message: message.into() }
}

/// Reads a text file, gunzipping it when it is gzip-compressed.
pub fn read_text(path: &Path) -> Result<String, CircuitError> {
    let bytes = std::fs::read(path).map_err(|e| file_err(path, e.to_string()))?;
    if bytes.len() > 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(bytes.as_slice())
            .read_to_string(&mut s)
            .map_err(|e| file_err(path, format!("cannot gunzip: {e}")))?;
        Ok(s)
    } else {
        String::from_utf8(bytes).map_err(|_| file_err(path, "not a text file"))
    }
}

/// Reads `.asc` and `.asc.gz` (for `.tif`, a same-named `.asc` twin when there is one).
#[derive(Debug, Clone, Copy, Default)]
pub struct AscReader;

impl GridReader for AscReader {
    fn read(&self, path: &Path) -> Result<Grid<f64>, CircuitError> {
        let shown = path.display().to_string();
        let lower = shown.to_ascii_lowercase();
        if lower.ends_with(".tif") || lower.ends_with(".tiff") || lower.ends_with(".tif.gz") {
            let base = lower.trim_end_matches(".gz").trim_end_matches(".tiff").trim_end_matches(".tif").len();
            let twin = PathBuf::from(format!("{}.asc", &shown[..base]));
            if twin.is_file() {
                return self.read(&twin);
            }
            return Err(file_err(path, "GeoTIFF input needs the GDAL-enabled reader (the kulan CLI)"));
        }
        let text = read_text(path)?;
        asc::parse_asc(text.as_bytes(), &shown).map_err(|e| CircuitError::Input(e.to_string()))
    }
}

/// Writes ASCII grids as Circuitscape does (values rounded to 8 decimals), always plain `.asc`:
/// Circuitscape.jl reads `compress_grids` but its `write_aagrid` ignores it, and upstream's
/// mgVerify7 (compress_grids = True) expects `mgVerify7_curmap.asc`. Same names, same files.
#[derive(Debug, Clone, Copy, Default)]
pub struct AscWriter;

impl GridWriter for AscWriter {
    fn extension(&self, _compress: bool) -> String {
        "asc".into()
    }

    fn write(&self, path: &Path, grid: &Grid<f64>, nodata: f64, _compress: bool) -> Result<(), CircuitError> {
        let mut s = String::with_capacity(grid.data.len() * 8 + 200);
        let t = &grid.transform;
        let yll = t.origin_y - t.cell_height * grid.rows as f64;
        s.push_str(&format!(
            "ncols         {}\nnrows         {}\nxllcorner     {}\nyllcorner     {}\ncellsize      {}\nNODATA_value  {}\n",
            grid.cols, grid.rows, t.origin_x, yll, t.cell_width, nodata
        ));
        for row in grid.data.chunks(grid.cols) {
            for (k, &v) in row.iter().enumerate() {
                if k > 0 {
                    s.push(' ');
                }
                if !v.is_finite() {
                    s.push_str(&format!("{nodata}"));
                } else {
                    let r = (v * 1e8).round() / 1e8;
                    s.push_str(&format!("{}", if r == 0.0 { 0.0 } else { r }));
                }
            }
            s.push('\n');
        }
        write_bytes(path, s.as_bytes(), false)
    }
}

/// Writes a file through a temporary name, gzipped when asked; creates the folder.
pub fn write_bytes(path: &Path, bytes: &[u8], compress: bool) -> Result<(), CircuitError> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|e| file_err(dir, e.to_string()))?;
        }
    }
    let tmp = PathBuf::from(format!("{}.tmp{}", path.display(), std::process::id()));
    let res = (|| -> std::io::Result<()> {
        let f = std::fs::File::create(&tmp)?;
        if compress {
            let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::default());
            gz.write_all(bytes)?;
            gz.finish()?;
        } else {
            let mut w = std::io::BufWriter::new(f);
            w.write_all(bytes)?;
            w.flush()?;
        }
        std::fs::rename(&tmp, path)
    })();
    res.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        file_err(path, e.to_string())
    })
}

/// Parses whitespace- (or comma-) separated numbers per line; blank lines are skipped.
pub fn number_rows(text: &str, path: &Path) -> Result<Vec<Vec<f64>>, CircuitError> {
    let mut rows = Vec::new();
    for (no, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect();
        if words.is_empty() {
            continue;
        }
        let mut row = Vec::with_capacity(words.len());
        for w in words {
            row.push(w.parse::<f64>().map_err(|_| file_err(path, format!("line {}: '{w}' is not a number", no + 1)))?);
        }
        rows.push(row);
    }
    Ok(rows)
}

/// True when a file is a raster (by name, or by an ASCII-grid header).
pub fn is_raster_file(path: &Path) -> Result<bool, CircuitError> {
    let name = path.display().to_string().to_ascii_lowercase();
    if name.ends_with(".tif") || name.ends_with(".tiff") || name.ends_with(".tif.gz") {
        return Ok(true);
    }
    let text = read_text(path)?;
    let first = text.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
    Ok(first == "ncols" || first == "nrows")
}

/// Which pairs to solve, from an included-pairs file.
#[derive(Debug, Clone)]
pub struct PairFilter {
    /// Focal ids the file mentions; other focal points are dropped.
    pub ids: Vec<i64>,
    include: bool,
    /// Marks between ids (by position in `ids`).
    marks: Vec<Vec<bool>>,
}

impl PairFilter {
    /// True when the pair of ids is to be solved.
    pub fn allows(&self, a: i64, b: i64) -> bool {
        let (Some(i), Some(j)) = (self.ids.iter().position(|&x| x == a), self.ids.iter().position(|&x| x == b)) else {
            return false;
        };
        let marked = self.marks[i][j] || self.marks[j][i];
        if self.include { marked } else { !marked }
    }

    /// Reads the matrix format (`min`/`max` lines, header row, rows; values above max count as 0,
    /// a pair is included when its value is >= min) or the list format (`mode include|exclude`,
    /// then `i j` rows).
    pub fn read(path: &Path) -> Result<PairFilter, CircuitError> {
        let text = read_text(path)?;
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let first = lines.next().ok_or_else(|| file_err(path, "empty included-pairs file"))?;
        let key = first.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
        if key == "min" {
            let num = |l: Option<&str>, what: &str| -> Result<f64, CircuitError> {
                l.and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|w| w.parse().ok())
                    .ok_or_else(|| file_err(path, format!("expected a '{what} value' line")))
            };
            let minv = num(Some(first), "min")?;
            let maxv = num(lines.next(), "max")?;
            let rest = lines.collect::<Vec<_>>().join("\n");
            let rows = number_rows(&rest, path)?;
            if rows.is_empty() {
                return Err(file_err(path, "included-pairs matrix has no header row"));
            }
            let ids: Vec<i64> = rows[0].iter().skip(1).map(|&v| v as i64).collect();
            let k = ids.len();
            let mut marks = vec![vec![false; k]; k];
            for (i, row) in rows.iter().skip(1).take(k).enumerate() {
                for j in 0..k {
                    let v = row.get(j + 1).copied().unwrap_or(0.0);
                    let v = if v > maxv { 0.0 } else { v };
                    marks[i][j] = v >= minv;
                }
            }
            Ok(PairFilter { ids, include: true, marks })
        } else if key == "mode" {
            let mode = first.split_whitespace().nth(1).unwrap_or("").to_ascii_lowercase();
            let include = match mode.as_str() {
                "include" => true,
                "exclude" => false,
                m => return Err(file_err(path, format!("mode must be include or exclude, got '{m}'"))),
            };
            let rest = lines.collect::<Vec<_>>().join("\n");
            let rows = number_rows(&rest, path)?;
            let mut ids: Vec<i64> = rows.iter().flat_map(|r| r.iter().take(2).map(|&v| v as i64)).filter(|&v| v != 0).collect();
            ids.sort_unstable();
            ids.dedup();
            let k = ids.len();
            let mut marks = vec![vec![false; k]; k];
            for r in &rows {
                if r.len() < 2 {
                    return Err(file_err(path, "each pair line needs two ids"));
                }
                let (a, b) = (r[0] as i64, r[1] as i64);
                if let (Some(i), Some(j)) = (ids.iter().position(|&x| x == a), ids.iter().position(|&x| x == b)) {
                    marks[i][j] = true;
                    marks[j][i] = true;
                }
            }
            Ok(PairFilter { ids, include, marks })
        } else {
            Err(file_err(path, "included-pairs file must start with 'min' (matrix format) or 'mode' (list format)"))
        }
    }
}

/// Formats a number for the text tables (integers without decimals, else shortest round-trip).
pub fn fmt_num(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Writes the square resistance matrix (`<prefix>_resistances.out`) and the 3-column table.
pub fn write_resistances(prefix: &Path, ids: &[i64], r: &[Vec<f64>], three_col: bool) -> Result<(), CircuitError> {
    let mut s = String::from("0");
    for id in ids {
        s.push_str(&format!(" {id}"));
    }
    s.push('\n');
    for (i, id) in ids.iter().enumerate() {
        s.push_str(&id.to_string());
        for v in &r[i] {
            s.push(' ');
            s.push_str(&fmt_num(*v));
        }
        s.push('\n');
    }
    write_bytes(&suffixed(prefix, "_resistances.out"), s.as_bytes(), false)?;
    if three_col {
        let mut t = String::new();
        for i in 0..ids.len() {
            for j in i + 1..ids.len() {
                t.push_str(&format!("{} {} {}\n", ids[i], ids[j], fmt_num(r[j][i])));
            }
        }
        write_bytes(&suffixed(prefix, "_resistances_3columns.out"), t.as_bytes(), false)?;
    }
    Ok(())
}

/// `prefix` + `suffix` as a path.
pub fn suffixed(prefix: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{}", prefix.display(), suffix))
}
