//! Row-band raster access, for grids larger than memory: read any rows of a raster, write a
//! GeoTIFF band of rows at a time (the file appears complete on [`RowWriter::finish`] or not at
//! all).

use std::path::Path;

use gdal::raster::{Buffer, GdalType, RasterCreationOptions};
use gdal::{Dataset, DriverManager};
use kulan_core::raster::{GeoTransform, Grid};

use crate::atomic::AtomicPath;
use crate::error::IoError;

/// Caps GDAL's raster block cache at `bytes` for the rest of the process.
///
/// GDAL keeps up to 5 % of physical memory of raster blocks by default, which is more than a
/// whole row-streamed run may use under a memory budget; streamed access reads and writes each
/// block about once, so a small cache costs nothing.
pub fn limit_block_cache(bytes: u64) {
    // SAFETY: GDALSetCacheMax64 only stores the limit (and flushes blocks beyond it); it is safe
    // to call at any time, from any thread.
    unsafe { gdal_sys::GDALSetCacheMax64(bytes.min(i64::MAX as u64) as i64) };
}

/// Reads rows of band 1 on demand.
pub struct RowReader {
    ds: Dataset,
    label: String,
    pub rows: usize,
    pub cols: usize,
    pub transform: GeoTransform,
    pub nodata: Option<f64>,
    pub crs: Option<String>,
}

impl RowReader {
    /// Opens a raster and reads its size, georeference and NoData value.
    pub fn open(path: &Path) -> Result<RowReader, IoError> {
        let label = path.display().to_string();
        if !path.exists() {
            return Err(IoError::NotFound { path: label });
        }
        let ds = Dataset::open(path).map_err(|e| IoError::gdal(format!("{label}: cannot open as a raster"), e))?;
        if ds.raster_count() == 0 {
            return Err(IoError::Input(format!("{label}: has no raster band")));
        }
        let band = ds.rasterband(1).map_err(|e| IoError::gdal(format!("{label}: cannot read band 1"), e))?;
        let (cols, rows) = band.size();
        let nodata = band.no_data_value();
        let gt = ds.geo_transform().unwrap_or([0.0, 1.0, 0.0, rows as f64, 0.0, -1.0]);
        let transform = GeoTransform::from_gdal(gt)
            .ok_or_else(|| IoError::Input(format!("{label}: is rotated or south-up; warp it to a north-up grid first")))?;
        let crs = ds.spatial_ref().ok().and_then(|s| s.to_wkt().ok()).filter(|w| !w.is_empty());
        Ok(RowReader { ds, label, rows, cols, transform, nodata, crs })
    }

    /// Rows `row0 .. row0 + n` as a grid (its transform is the band's own).
    pub fn read_rows(&self, row0: usize, n: usize) -> Result<Grid<f64>, IoError> {
        if row0 + n > self.rows {
            return Err(IoError::Input(format!("{}: rows {row0}..{} beyond its {} rows", self.label, row0 + n, self.rows)));
        }
        let band = self.ds.rasterband(1).map_err(|e| IoError::gdal(format!("{}: band 1", self.label), e))?;
        let buf: Buffer<f64> = band
            .read_as::<f64>((0, row0 as isize), (self.cols, n), (self.cols, n), None)
            .map_err(|e| IoError::gdal(format!("{}: cannot read rows {row0}..{}", self.label, row0 + n), e))?;
        let (_, data) = buf.into_shape_and_vec();
        let mut transform = self.transform;
        transform.origin_y -= row0 as f64 * transform.cell_height;
        Ok(Grid { rows: n, cols: self.cols, transform, nodata: self.nodata, crs: self.crs.clone(), data })
    }
}

/// Writes a tiled, compressed GeoTIFF band by band.
pub struct RowWriter<T: GdalType + Copy> {
    ds: Dataset,
    target: AtomicPath,
    cols: usize,
    _cell: std::marker::PhantomData<T>,
}

impl<T: GdalType + Copy> RowWriter<T> {
    /// Creates the file (beside `path`, renamed on `finish`) with the georeference of `like`.
    pub fn create(path: &Path, rows: usize, cols: usize, transform: &GeoTransform, crs: Option<&str>, nodata: f64) -> Result<RowWriter<T>, IoError> {
        let target = AtomicPath::new(path)?;
        let err = |e| IoError::write(path, format!("{e}"));
        let gtiff = DriverManager::get_driver_by_name("GTiff").map_err(err)?;
        let opts = RasterCreationOptions::from_iter(["TILED=YES", "COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"]);
        let mut ds = gtiff.create_with_band_type_with_options::<T, _>(target.temp(), cols, rows, 1, &opts).map_err(err)?;
        ds.set_geo_transform(&transform.to_gdal()).map_err(err)?;
        if let Some(wkt) = crs {
            ds.set_projection(wkt).map_err(err)?;
        }
        ds.rasterband(1).and_then(|mut b| b.set_no_data_value(Some(nodata))).map_err(err)?;
        Ok(RowWriter { ds, target, cols, _cell: std::marker::PhantomData })
    }

    /// Writes whole rows starting at `row0`.
    pub fn write_rows(&mut self, row0: usize, cells: Vec<T>) -> Result<(), IoError> {
        let n = cells.len() / self.cols.max(1);
        let mut band = self.ds.rasterband(1).map_err(|e| IoError::write(self.target.temp(), e.to_string()))?;
        let mut buf = Buffer::new((self.cols, n), cells);
        band.write((0, row0 as isize), (self.cols, n), &mut buf).map_err(|e| IoError::write(self.target.temp(), e.to_string()))
    }

    /// Closes the file and moves it into place.
    pub fn finish(self) -> Result<(), IoError> {
        let RowWriter { ds, target, .. } = self;
        ds.close().map_err(|e| IoError::write(target.temp(), e.to_string()))?;
        target.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_cache_limit_is_what_gdal_then_uses() {
        limit_block_cache(48 << 20);
        assert_eq!(unsafe { gdal_sys::GDALGetCacheMax64() }, 48 << 20);
    }

    #[test]
    fn rows_round_trip_through_a_geotiff() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.tif");
        let t = GeoTransform::from_lower_left(0.0, 0.0, 1.0, 4);
        let mut w = RowWriter::<f64>::create(&p, 4, 3, &t, None, -9999.0).unwrap();
        w.write_rows(2, vec![7.0; 6]).unwrap();
        w.write_rows(0, (0..6).map(|v| v as f64).collect()).unwrap();
        assert!(!p.exists());
        w.finish().unwrap();
        let r = RowReader::open(&p).unwrap();
        let g = r.read_rows(1, 2).unwrap();
        assert_eq!(g.data, vec![3.0, 4.0, 5.0, 7.0, 7.0, 7.0]);
        assert_eq!(g.transform.origin_y, 3.0);
        assert!(r.read_rows(3, 2).is_err());
    }
}
