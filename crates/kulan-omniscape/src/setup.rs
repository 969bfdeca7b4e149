//! Problem set-up: from input rasters to the cell layers the moving window reads (conductance,
//! source strength, condition values), with Omniscape.jl's rules for reclassification, NoData,
//! source strengths from resistance (`r_cutoff`) and `source_threshold`.
//!
//! Every rule is cell-local, so a band of rows can be prepared on its own (see [`CellRules`]).

use std::collections::HashMap;

use kulan_core::raster::Grid;

use crate::OmniscapeError;

/// A resistance reclassification table: old value → new value, or NoData (`"missing"`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReclassTable {
    map: HashMap<u64, Option<f64>>,
}

impl ReclassTable {
    /// Parses the two-column text table Omniscape reads (`old new`, whitespace separated; `new`
    /// may be `missing`, quoted or not).
    ///
    /// ```
    /// let t = kulan_omniscape::setup::ReclassTable::parse("1 3\n5 \"missing\"\n", "t.txt").unwrap();
    /// assert_eq!(t.apply(1.0), Some(3.0));
    /// assert_eq!(t.apply(5.0), None);
    /// assert_eq!(t.apply(2.0), Some(2.0));
    /// ```
    pub fn parse(text: &str, name: &str) -> Result<ReclassTable, OmniscapeError> {
        let mut map = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.is_empty() {
                continue;
            }
            let bad = || OmniscapeError::Input(format!("{name}: line {}: expected `old_value new_value`, got '{line}'", i + 1));
            if words.len() != 2 {
                return Err(bad());
            }
            let old: f64 = words[0].parse().map_err(|_| bad())?;
            let new = match words[1].trim_matches('"').to_ascii_lowercase().as_str() {
                "missing" | "nodata" | "nan" => None,
                w => Some(w.parse::<f64>().map_err(|_| bad())?),
            };
            map.insert(old.to_bits(), new);
        }
        Ok(ReclassTable { map })
    }

    /// The new value of `v` (`None` for NoData); values not in the table are kept.
    pub fn apply(&self, v: f64) -> Option<f64> {
        match self.map.get(&v.to_bits()) {
            Some(new) => *new,
            None => Some(v),
        }
    }
}

/// The cell-local rules of the set-up.
#[derive(Debug, Clone, Default)]
pub struct CellRules {
    pub resistance_is_conductance: bool,
    pub source_from_resistance: bool,
    pub r_cutoff: f64,
    pub source_threshold: f64,
    pub reclass: Option<ReclassTable>,
}

impl CellRules {
    /// The (reclassified) resistance-file value of a cell, `None` for NoData.
    pub fn resistance_value(&self, raw: Option<f64>) -> Option<f64> {
        let v = raw?;
        match &self.reclass {
            Some(t) => t.apply(v),
            None => Some(v),
        }
    }

    /// Conductance of a cell from its resistance-file value (0 for NoData).
    pub fn conductance(&self, value: Option<f64>) -> f64 {
        match value {
            None => 0.0,
            Some(v) if self.resistance_is_conductance => v,
            Some(v) => 1.0 / v,
        }
    }

    /// Source strength of a cell: from the source file, or from the resistance (1/R, or the
    /// conductance itself) when `source_from_resistance`, zero below 1/`r_cutoff`; NoData is 0.
    pub fn source(&self, value: Option<f64>, source_file_value: Option<f64>) -> f64 {
        let s = if self.source_from_resistance {
            match value {
                None => 0.0,
                Some(v) => {
                    let s = if self.resistance_is_conductance { v } else { 1.0 / v };
                    if s < 1.0 / self.r_cutoff {
                        0.0
                    } else {
                        s
                    }
                }
            }
        } else {
            source_file_value.unwrap_or(0.0)
        };
        if s < self.source_threshold {
            0.0
        } else {
            s
        }
    }
}

/// A condition layer as the window reads it: present values at the sources, future values over
/// the target block (NaN is NoData).
#[derive(Debug, Clone)]
pub struct ConditionLayer {
    pub present: Vec<f64>,
    /// `None`: the future is the present.
    pub future: Option<Vec<f64>>,
    pub comparison: crate::config::Comparison,
}

impl ConditionLayer {
    pub fn future(&self) -> &[f64] {
        self.future.as_deref().unwrap_or(&self.present)
    }
}

/// The prepared landscape, or a band of its rows: everything the moving window reads, row-major.
#[derive(Debug, Clone)]
pub struct Landscape {
    /// Global row of the first row held (0 for a whole landscape).
    pub row0: usize,
    /// Rows held.
    pub rows: usize,
    pub cols: usize,
    /// Cell conductance; 0 where the resistance is NoData (no node).
    pub conductance: Vec<f64>,
    /// Source strength (0: no source).
    pub source: Vec<f64>,
    pub conditions: Vec<ConditionLayer>,
}

/// A grid cell's value, `None` for NoData (the file's value, NaN or ±∞).
pub fn cell(g: &Grid<f64>, i: usize) -> Option<f64> {
    let v = g.data[i];
    (!g.is_nodata(v)).then_some(v)
}

/// Fails on the first resistance (or conductance) cell that is zero or negative.
pub fn check_resistance(g: &Grid<f64>, name: &str, row0: usize) -> Result<(), OmniscapeError> {
    if let Some(i) = (0..g.data.len()).find(|&i| cell(g, i).is_some_and(|v| v <= 0.0)) {
        return Err(OmniscapeError::Input(format!(
            "{name}: the resistance (or conductance) surface contains 0 or negative values (first at row {}, column {}: {}); \
             every cell must be > 0 or NoData",
            row0 + i / g.cols,
            i % g.cols,
            g.data[i]
        )));
    }
    Ok(())
}

/// Checks that a layer has the resistance grid's size.
pub fn check_same_size(reference: &Grid<f64>, other: &Grid<f64>, what: &str, name: &str) -> Result<(), OmniscapeError> {
    if reference.rows != other.rows || reference.cols != other.cols {
        return Err(OmniscapeError::Input(format!(
            "{name}: the {what} has {} rows × {} columns but the resistance has {} × {}; resample it onto the same grid",
            other.rows, other.cols, reference.rows, reference.cols
        )));
    }
    Ok(())
}

impl Landscape {
    /// Prepares the landscape (or the band starting at global row `row0`) from grids of the same
    /// size.
    pub fn from_grids(
        row0: usize,
        rules: &CellRules,
        resistance: &Grid<f64>,
        source: Option<&Grid<f64>>,
        conditions: Vec<ConditionLayer>,
    ) -> Landscape {
        let n = resistance.data.len();
        let mut conductance = Vec::with_capacity(n);
        let mut src = Vec::with_capacity(n);
        for i in 0..n {
            let v = rules.resistance_value(cell(resistance, i));
            conductance.push(rules.conductance(v));
            src.push(rules.source(v, source.and_then(|s| cell(s, i))));
        }
        Landscape { row0, rows: resistance.rows, cols: resistance.cols, conductance, source: src, conditions }
    }

    /// Values of a condition grid with NoData as NaN.
    pub fn condition_values(g: &Grid<f64>) -> Vec<f64> {
        (0..g.data.len()).map(|i| cell(g, i).unwrap_or(f64::NAN)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_from_resistance_respect_the_cutoff_and_threshold() {
        let rules = CellRules { source_from_resistance: true, r_cutoff: 0.25, ..Default::default() };
        assert_eq!(rules.source(Some(0.2), None), 5.0);
        assert_eq!(rules.source(Some(0.5), None), 0.0);
        assert_eq!(rules.source(None, None), 0.0);
        let rules = CellRules { source_threshold: 0.2, r_cutoff: f64::INFINITY, ..Default::default() };
        assert_eq!(rules.source(Some(1.0), Some(0.1)), 0.0);
        assert_eq!(rules.source(Some(1.0), Some(0.3)), 0.3);
        assert_eq!(rules.source(Some(1.0), None), 0.0);
    }

    #[test]
    fn zero_resistance_is_an_error_naming_the_cell() {
        let mut g = Grid::filled(2, 2, kulan_core::raster::GeoTransform::from_lower_left(0.0, 0.0, 1.0, 2), 1.0);
        g.data[3] = 0.0;
        let e = check_resistance(&g, "r.asc", 0).unwrap_err().to_string();
        assert!(e.contains("row 1, column 1") && e.contains("0 or negative"), "{e}");
        g.nodata = Some(0.0);
        assert!(check_resistance(&g, "r.asc", 0).is_ok());
    }

    #[test]
    fn bad_reclass_lines_are_errors() {
        assert!(ReclassTable::parse("1 2 3\n", "t").is_err());
        assert!(ReclassTable::parse("a 2\n", "t").is_err());
    }
}
