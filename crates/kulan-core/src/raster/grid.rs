//! A georeferenced, north-up raster held in memory.

use std::fmt;

/// Where a north-up grid sits in its CRS: the top-left corner and the cell size.
///
/// Rows run from north to south, columns from west to east, as in GDAL and ESRI ASCII grids.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoTransform {
    /// x of the west edge of column 0.
    pub origin_x: f64,
    /// y of the north edge of row 0.
    pub origin_y: f64,
    /// Cell width (positive).
    pub cell_width: f64,
    /// Cell height (positive; rows go south).
    pub cell_height: f64,
}

impl GeoTransform {
    /// A transform with square cells whose lower-left grid corner is `(xll, yll)`.
    pub fn from_lower_left(xll: f64, yll: f64, cell: f64, rows: usize) -> Self {
        GeoTransform {
            origin_x: xll,
            origin_y: yll + cell * rows as f64,
            cell_width: cell,
            cell_height: cell,
        }
    }

    /// The GDAL six-number form `[x0, dx, 0, y0, 0, -dy]`.
    pub fn to_gdal(&self) -> [f64; 6] {
        [self.origin_x, self.cell_width, 0.0, self.origin_y, 0.0, -self.cell_height]
    }

    /// From GDAL's six numbers; `None` for rotated or south-up grids, which Kulan does not handle.
    pub fn from_gdal(gt: [f64; 6]) -> Option<Self> {
        if gt[2] != 0.0 || gt[4] != 0.0 || gt[1] <= 0.0 || gt[5] >= 0.0 {
            return None;
        }
        Some(GeoTransform { origin_x: gt[0], origin_y: gt[3], cell_width: gt[1], cell_height: -gt[5] })
    }

    /// Centre of cell `(row, col)`.
    pub fn cell_center(&self, row: usize, col: usize) -> (f64, f64) {
        (
            self.origin_x + (col as f64 + 0.5) * self.cell_width,
            self.origin_y - (row as f64 + 0.5) * self.cell_height,
        )
    }

    /// The cell containing `(x, y)` as fractional `(row, col)`; may lie outside the grid.
    pub fn to_cell_f(&self, x: f64, y: f64) -> (f64, f64) {
        ((self.origin_y - y) / self.cell_height, (x - self.origin_x) / self.cell_width)
    }

    /// True when two transforms describe the same lattice, within a small fraction of a cell.
    pub fn aligned_with(&self, other: &GeoTransform) -> bool {
        let tol = 1e-6 * self.cell_width.min(self.cell_height);
        (self.origin_x - other.origin_x).abs() <= tol
            && (self.origin_y - other.origin_y).abs() <= tol
            && (self.cell_width - other.cell_width).abs() <= tol
            && (self.cell_height - other.cell_height).abs() <= tol
    }
}

/// A row-major raster of `T` with its georeference, NoData value and CRS.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid<T> {
    pub rows: usize,
    pub cols: usize,
    pub transform: GeoTransform,
    /// The value that marks a cell as having no data, as written in the file.
    pub nodata: Option<f64>,
    /// The CRS as WKT (or any user string), when known.
    pub crs: Option<String>,
    pub data: Vec<T>,
}

/// Size or alignment mismatch between two grids.
#[derive(Debug, Clone, PartialEq)]
pub struct GridMismatch {
    pub what: &'static str,
    pub left: String,
    pub right: String,
}

impl fmt::Display for GridMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "grids differ in {}: {} vs {}", self.what, self.left, self.right)
    }
}

impl<T: Copy> Grid<T> {
    /// A grid of `rows × cols` cells all set to `fill`.
    pub fn filled(rows: usize, cols: usize, transform: GeoTransform, fill: T) -> Self {
        Grid { rows, cols, transform, nodata: None, crs: None, data: vec![fill; rows * cols] }
    }

    /// A grid with the same shape, transform and CRS as `self`, filled with `fill`.
    pub fn same_shape<U: Copy>(&self, fill: U) -> Grid<U> {
        Grid {
            rows: self.rows,
            cols: self.cols,
            transform: self.transform,
            nodata: None,
            crs: self.crs.clone(),
            data: vec![fill; self.rows * self.cols],
        }
    }

    #[inline]
    pub fn index(&self, row: usize, col: usize) -> usize {
        row * self.cols + col
    }

    #[inline]
    pub fn get(&self, row: usize, col: usize) -> T {
        self.data[row * self.cols + col]
    }

    #[inline]
    pub fn set(&mut self, row: usize, col: usize, value: T) {
        let i = self.index(row, col);
        self.data[i] = value;
    }

    /// Apply `f` to every cell, keeping shape and georeference.
    pub fn map<U: Copy>(&self, f: impl Fn(T) -> U) -> Grid<U> {
        Grid {
            rows: self.rows,
            cols: self.cols,
            transform: self.transform,
            nodata: self.nodata,
            crs: self.crs.clone(),
            data: self.data.iter().map(|&v| f(v)).collect(),
        }
    }

    /// Checks that `other` has the same size and lattice, so cells correspond one to one.
    pub fn check_aligned<U>(&self, other: &Grid<U>) -> Result<(), GridMismatch> {
        if self.rows != other.rows || self.cols != other.cols {
            return Err(GridMismatch {
                what: "size",
                left: format!("{} rows × {} cols", self.rows, self.cols),
                right: format!("{} rows × {} cols", other.rows, other.cols),
            });
        }
        if !self.transform.aligned_with(&other.transform) {
            return Err(GridMismatch {
                what: "georeference",
                left: format!("{:?}", self.transform),
                right: format!("{:?}", other.transform),
            });
        }
        Ok(())
    }
}

impl Grid<f64> {
    /// True when `v` is this grid's NoData value or not a finite number.
    #[inline]
    pub fn is_nodata(&self, v: f64) -> bool {
        !v.is_finite() || self.nodata.is_some_and(|nd| v == nd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gdal_transform_round_trips() {
        let t = GeoTransform::from_lower_left(100.0, 200.0, 10.0, 5);
        assert_eq!(t.origin_y, 250.0);
        assert_eq!(GeoTransform::from_gdal(t.to_gdal()), Some(t));
        assert_eq!(GeoTransform::from_gdal([0.0, 1.0, 0.1, 0.0, 0.0, -1.0]), None);
    }

    #[test]
    fn cell_centre_and_back() {
        let t = GeoTransform::from_lower_left(0.0, 0.0, 2.0, 3);
        assert_eq!(t.cell_center(0, 0), (1.0, 5.0));
        assert_eq!(t.to_cell_f(1.0, 5.0), (0.5, 0.5));
    }

    #[test]
    fn alignment_is_checked() {
        let t = GeoTransform::from_lower_left(0.0, 0.0, 1.0, 2);
        let a = Grid::filled(2, 2, t, 0.0f64);
        let b = Grid::filled(2, 3, t, 0.0f64);
        assert!(a.check_aligned(&b).is_err());
        let c = Grid::filled(2, 2, GeoTransform::from_lower_left(0.5, 0.0, 1.0, 2), 0u8);
        assert!(a.check_aligned(&c).is_err());
        assert!(a.check_aligned(&a.same_shape(1i32)).is_ok());
    }
}
