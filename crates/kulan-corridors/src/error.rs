//! Errors from cost-distance and corridor analyses, phrased for the person who has to fix the input.

use kulan_core::raster::GridMismatch;

#[derive(Debug, thiserror::Error)]
pub enum CostError {
    /// A resistance cell that is neither NoData nor a positive number.
    #[error(
        "resistance must be greater than 0 in every cell that is not NoData: cell (row {row}, col {col}) \
         at ({x:.3}, {y:.3}) is {value}{others}. Set impassable cells to NoData, and give open ground a \
         small positive resistance such as 1"
    )]
    BadResistance { row: usize, col: usize, x: f64, y: f64, value: f64, others: String },
    #[error("the resistance grid is empty (0 rows or 0 columns)")]
    EmptyGrid,
    #[error("no source cells: {0}")]
    NoSources(String),
    #[error(
        "{count} source cell(s) lie on NoData (impassable) resistance, the first at (row {row}, col {col}) \
         ({x:.3}, {y:.3}) with id {id}. Move the sources onto passable cells, or fill the NoData there"
    )]
    SourceOnNoData { count: usize, row: usize, col: usize, x: f64, y: f64, id: i64 },
    #[error("{what} does not line up with the resistance grid: {mismatch}. Resample it onto the resistance grid first (e.g. gdalwarp -te/-tr or `kulan resistance --template`)")]
    Misaligned { what: String, mismatch: GridMismatch },
    #[error("{0}")]
    Input(String),
}
