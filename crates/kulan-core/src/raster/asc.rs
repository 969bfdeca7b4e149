//! ESRI ASCII grids (`.asc`), the exchange format of Circuitscape and Omniscape.
//!
//! Read and written here in pure Rust so that the circuit engine and its tests need no GDAL.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use super::grid::{GeoTransform, Grid};

/// A problem reading an ASCII grid, with the line where it was found.
#[derive(Debug, thiserror::Error)]
pub enum AscError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: line {line}: {message}")]
    Format { path: String, line: usize, message: String },
}

/// Reads an ESRI ASCII grid into a `Grid<f64>`.
///
/// Header keys are matched case-insensitively and may come in any order; `xllcenter`/`yllcenter`
/// are converted to corners. NoData cells keep the file's NoData value.
///
/// ```
/// let text = "ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\nNODATA_value -9999\n1 -9999\n";
/// let g = kulan_core::raster::asc::parse_asc(text.as_bytes(), "mem.asc").unwrap();
/// assert_eq!((g.rows, g.cols), (1, 2));
/// assert!(g.is_nodata(g.get(0, 1)));
/// ```
pub fn read_asc(path: &Path) -> Result<Grid<f64>, AscError> {
    let file = std::fs::File::open(path)
        .map_err(|source| AscError::Io { path: path.display().to_string(), source })?;
    parse_asc(file, &path.display().to_string())
}

/// Parses an ASCII grid from any reader; `name` is used in error messages.
pub fn parse_asc(reader: impl Read, name: &str) -> Result<Grid<f64>, AscError> {
    let fmt_err = |line: usize, message: String| AscError::Format { path: name.to_string(), line, message };
    let mut reader = BufReader::new(reader);
    let mut header = AscHeader::default();
    let mut line = String::new();
    let mut line_no = 0usize;
    let mut first_data_line = None;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|source| AscError::Io { path: name.to_string(), source })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let mut words = line.split_whitespace();
        let Some(key) = words.next() else { continue };
        if key.parse::<f64>().is_ok() || key.eq_ignore_ascii_case("nan") {
            first_data_line = Some(line.clone());
            break;
        }
        let value = words
            .next()
            .ok_or_else(|| fmt_err(line_no, format!("header key '{key}' has no value")))?;
        let v: f64 = value
            .parse()
            .map_err(|_| fmt_err(line_no, format!("header value '{value}' for '{key}' is not a number")))?;
        header.set(&key.to_ascii_lowercase(), v).map_err(|m| fmt_err(line_no, m))?;
    }
    let (rows, cols, transform) = header.finish().map_err(|m| fmt_err(line_no, m))?;
    let mut data = Vec::with_capacity(rows * cols);
    let mut push_words = |text: &str, line_no: usize| -> Result<(), AscError> {
        for word in text.split_whitespace() {
            let v: f64 = word
                .parse()
                .map_err(|_| fmt_err(line_no, format!("cell value '{word}' is not a number")))?;
            data.push(v);
        }
        Ok(())
    };
    if let Some(first) = first_data_line {
        push_words(&first, line_no)?;
    }
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|source| AscError::Io { path: name.to_string(), source })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        push_words(&line, line_no)?;
    }
    if data.len() != rows * cols {
        return Err(fmt_err(
            line_no,
            format!("expected {} cells ({rows} rows × {cols} cols), found {}", rows * cols, data.len()),
        ));
    }
    Ok(Grid { rows, cols, transform, nodata: header.nodata, crs: None, data })
}

#[derive(Default)]
struct AscHeader {
    ncols: Option<f64>,
    nrows: Option<f64>,
    xll: Option<(f64, bool)>,
    yll: Option<(f64, bool)>,
    cellsize: Option<f64>,
    nodata: Option<f64>,
}

impl AscHeader {
    fn set(&mut self, key: &str, v: f64) -> Result<(), String> {
        match key {
            "ncols" => self.ncols = Some(v),
            "nrows" => self.nrows = Some(v),
            "xllcorner" => self.xll = Some((v, false)),
            "yllcorner" => self.yll = Some((v, false)),
            "xllcenter" => self.xll = Some((v, true)),
            "yllcenter" => self.yll = Some((v, true)),
            "cellsize" => self.cellsize = Some(v),
            "nodata_value" => self.nodata = Some(v),
            other => return Err(format!("unknown header key '{other}'")),
        }
        Ok(())
    }

    fn finish(&self) -> Result<(usize, usize, GeoTransform), String> {
        let count = |v: Option<f64>, key: &str| -> Result<usize, String> {
            match v {
                Some(n) if n >= 1.0 && n.fract() == 0.0 => Ok(n as usize),
                Some(n) => Err(format!("'{key}' must be a positive whole number, got {n}")),
                None => Err(format!("header has no '{key}'")),
            }
        };
        let cols = count(self.ncols, "ncols")?;
        let rows = count(self.nrows, "nrows")?;
        let cell = self.cellsize.ok_or("header has no 'cellsize'")?;
        if !(cell > 0.0 && cell.is_finite()) {
            return Err(format!("'cellsize' must be positive, got {cell}"));
        }
        let corner = |v: Option<(f64, bool)>, key: &str| -> Result<f64, String> {
            match v {
                Some((c, true)) => Ok(c - cell / 2.0),
                Some((c, false)) => Ok(c),
                None => Err(format!("header has no '{key}corner' or '{key}center'")),
            }
        };
        let xll = corner(self.xll, "xll")?;
        let yll = corner(self.yll, "yll")?;
        Ok((rows, cols, GeoTransform::from_lower_left(xll, yll, cell, rows)))
    }
}

/// Writes `grid` as an ESRI ASCII grid. Cells for which `is_nodata` holds are written as `nodata`.
///
/// Values are written with Rust's shortest round-trip formatting, so reading back gives the same
/// `f64` bits. Cell sizes must be square; the caller writes to a temporary path and renames.
pub fn write_asc<W: Write>(out: W, grid: &Grid<f64>, nodata: f64) -> std::io::Result<()> {
    let mut w = BufWriter::new(out);
    let t = &grid.transform;
    let yll = t.origin_y - t.cell_height * grid.rows as f64;
    writeln!(w, "ncols         {}", grid.cols)?;
    writeln!(w, "nrows         {}", grid.rows)?;
    writeln!(w, "xllcorner     {}", t.origin_x)?;
    writeln!(w, "yllcorner     {}", yll)?;
    writeln!(w, "cellsize      {}", t.cell_width)?;
    writeln!(w, "NODATA_value  {}", nodata)?;
    for row in grid.data.chunks(grid.cols) {
        let mut first = true;
        for &v in row {
            if !first {
                w.write_all(b" ")?;
            }
            first = false;
            if grid.is_nodata(v) {
                write!(w, "{nodata}")?;
            } else {
                write!(w, "{v}")?;
            }
        }
        w.write_all(b"\n")?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_header_in_any_case_and_order() {
        let text = "NROWS 2\nncols 3\nyllcenter 0.5\nxllcenter 0.5\nCellSize 1\n1 2 3\n4 5 6\n";
        let g = parse_asc(text.as_bytes(), "t").unwrap();
        assert_eq!((g.rows, g.cols), (2, 3));
        assert_eq!(g.transform.origin_x, 0.0);
        assert_eq!(g.transform.origin_y, 2.0);
        assert_eq!(g.get(1, 2), 6.0);
        assert_eq!(g.nodata, None);
    }

    #[test]
    fn values_may_wrap_across_lines() {
        let text = "ncols 3\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1\n2 3\n";
        assert_eq!(parse_asc(text.as_bytes(), "t").unwrap().data, vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn wrong_cell_count_names_the_file() {
        let text = "ncols 3\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2 3\n";
        let e = parse_asc(text.as_bytes(), "bad.asc").unwrap_err().to_string();
        assert!(e.contains("bad.asc") && e.contains("expected 6 cells"), "{e}");
    }

    #[test]
    fn missing_header_and_bad_values_are_errors() {
        let no_cell = "ncols 1\nnrows 1\nxllcorner 0\nyllcorner 0\n1\n";
        assert!(parse_asc(no_cell.as_bytes(), "t").unwrap_err().to_string().contains("cellsize"));
        let bad = "ncols 1\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\nabc\n";
        assert!(parse_asc(bad.as_bytes(), "t").is_err());
    }

    #[test]
    fn write_then_read_is_bit_exact() {
        let t = GeoTransform::from_lower_left(10.0, 20.0, 0.5, 2);
        let mut g = Grid::filled(2, 2, t, 0.1f64 + 0.2);
        g.nodata = Some(-9999.0);
        g.set(1, 1, -9999.0);
        g.set(0, 1, f64::NAN);
        let mut buf = Vec::new();
        write_asc(&mut buf, &g, -9999.0).unwrap();
        let back = parse_asc(buf.as_slice(), "t").unwrap();
        assert_eq!(back.get(0, 0).to_bits(), (0.1f64 + 0.2).to_bits());
        assert_eq!(back.get(0, 1), -9999.0);
        assert_eq!(back.transform, t);
    }
}
