//! Reading and writing rasters (GeoTIFF through GDAL, ESRI ASCII grids in pure Rust).

use std::path::Path;

use gdal::raster::{Buffer, GdalType, RasterCreationOptions};
use gdal::{Dataset, DriverManager};
use kulan_core::raster::{asc, GeoTransform, Grid};

use crate::atomic::AtomicPath;
use crate::error::IoError;

/// How a raster is written.
#[derive(Debug, Clone)]
pub struct RasterWriteOptions {
    /// Deflate-compress GeoTIFFs (default true).
    pub compress: bool,
    /// Write a Cloud-Optimized GeoTIFF instead of a plain tiled one.
    pub cog: bool,
    /// The NoData value written into the file (and for cells whose value is not finite).
    pub nodata: f64,
}

impl Default for RasterWriteOptions {
    fn default() -> Self {
        RasterWriteOptions { compress: true, cog: false, nodata: -9999.0 }
    }
}

/// Reads band 1 of any GDAL raster (or an `.asc` file) as `f64` cells.
///
/// The grid keeps the file's NoData value; `Grid::is_nodata` tells NoData cells apart.
pub fn read_raster(path: &Path) -> Result<Grid<f64>, IoError> {
    read_raster_as::<f64>(path)
}

/// Reads band 1 of a raster as cells of type `T` (for id grids: `i32`).
pub fn read_raster_as<T: GdalType + Copy + Default>(path: &Path) -> Result<Grid<T>, IoError> {
    let ctx = |what: &str| format!("{}: {what}", path.display());
    if !path.exists() {
        return Err(IoError::NotFound { path: path.display().to_string() });
    }
    let ds = Dataset::open(path).map_err(|e| IoError::gdal(ctx("cannot open as a raster"), e))?;
    if ds.raster_count() == 0 {
        return Err(IoError::Input(ctx("has no raster band (is it a vector file?)")));
    }
    let band = ds.rasterband(1).map_err(|e| IoError::gdal(ctx("cannot read band 1"), e))?;
    let (cols, rows) = band.size();
    let gt = ds.geo_transform().unwrap_or([0.0, 1.0, 0.0, rows as f64, 0.0, -1.0]);
    let transform = GeoTransform::from_gdal(gt).ok_or_else(|| {
        IoError::Input(ctx("is rotated or south-up; warp it to a north-up grid first (gdalwarp)"))
    })?;
    let buffer: Buffer<T> =
        band.read_band_as::<T>().map_err(|e| IoError::gdal(ctx("cannot read cells"), e))?;
    let crs = ds.spatial_ref().ok().and_then(|s| s.to_wkt().ok()).filter(|w| !w.is_empty());
    let (_, data) = buffer.into_shape_and_vec();
    Ok(Grid { rows, cols, transform, nodata: band.no_data_value(), crs, data })
}

/// Writes `grid` to `path`: ESRI ASCII grid for `.asc`, otherwise a tiled GeoTIFF (COG when asked).
///
/// The file appears complete or not at all: it is written beside the target and renamed.
pub fn write_raster<T: GdalType + Copy + Into<f64>>(
    path: &Path,
    grid: &Grid<T>,
    options: &RasterWriteOptions,
) -> Result<(), IoError> {
    let target = AtomicPath::new(path)?;
    let is_asc = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("asc"));
    if is_asc {
        let as_f64 = grid.map(|v| v.into());
        let file = std::fs::File::create(target.temp())
            .map_err(|e| IoError::write(path, e.to_string()))?;
        asc::write_asc(file, &as_f64, options.nodata).map_err(|e| IoError::write(path, e.to_string()))?;
    } else {
        write_geotiff(target.temp(), grid, options).map_err(|e| IoError::write(path, e.to_string()))?;
    }
    target.commit()
}

fn write_geotiff<T: GdalType + Copy + Into<f64>>(
    path: &Path,
    grid: &Grid<T>,
    options: &RasterWriteOptions,
) -> Result<(), gdal::errors::GdalError> {
    let compress = if options.compress { "DEFLATE" } else { "NONE" };
    let build = |ds: &mut Dataset| -> Result<(), gdal::errors::GdalError> {
        ds.set_geo_transform(&grid.transform.to_gdal())?;
        if let Some(wkt) = &grid.crs {
            ds.set_projection(wkt)?;
        }
        let mut band = ds.rasterband(1)?;
        band.set_no_data_value(Some(options.nodata))?;
        // Strips of whole 256-row tiles, so writing never holds a second copy of the whole grid.
        let strip = ((1 << 22) / grid.cols.max(1) / 256).max(1) * 256;
        for row0 in (0..grid.rows).step_by(strip) {
            let rows = strip.min(grid.rows - row0);
            let cells = grid.data[row0 * grid.cols..(row0 + rows) * grid.cols].to_vec();
            let mut buf = Buffer::new((grid.cols, rows), cells);
            band.write((0, row0 as isize), (grid.cols, rows), &mut buf)?;
        }
        Ok(())
    };
    if options.cog {
        let mem = DriverManager::get_driver_by_name("MEM")?;
        let mut ds = mem.create_with_band_type::<T, _>("", grid.cols, grid.rows, 1)?;
        build(&mut ds)?;
        let cog = DriverManager::get_driver_by_name("COG")?;
        let opts = RasterCreationOptions::from_iter([format!("COMPRESS={compress}"), "NUM_THREADS=ALL_CPUS".into()]);
        ds.create_copy(&cog, path, &opts)?.close()
    } else {
        let gtiff = DriverManager::get_driver_by_name("GTiff")?;
        let mut opts = vec![
            "TILED=YES".to_string(),
            format!("COMPRESS={compress}"),
            "BIGTIFF=IF_SAFER".into(),
            "NUM_THREADS=ALL_CPUS".into(),
        ];
        if options.compress {
            opts.push("PREDICTOR=1".into());
        }
        let opts = RasterCreationOptions::from_iter(opts);
        let mut ds = gtiff.create_with_band_type_with_options::<T, _>(path, grid.cols, grid.rows, 1, &opts)?;
        build(&mut ds)?;
        ds.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Grid<f64> {
        let mut g = Grid::filled(3, 4, GeoTransform::from_lower_left(500.0, 1000.0, 30.0, 3), 1.5);
        g.set(2, 3, f64::NAN);
        g.set(0, 0, 0.1 + 0.2);
        g
    }

    #[test]
    fn geotiff_round_trip_keeps_values_nodata_and_georeference() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.tif");
        write_raster(&p, &sample(), &RasterWriteOptions::default()).unwrap();
        let back = read_raster(&p).unwrap();
        assert_eq!(back.transform, sample().transform);
        assert_eq!(back.nodata, Some(-9999.0));
        assert_eq!(back.get(0, 0), 0.1 + 0.2);
        assert!(back.is_nodata(back.get(2, 3)));
        assert!(!dir.path().read_dir().unwrap().any(|e| e.unwrap().file_name().to_string_lossy().contains(".tmp")));
    }

    #[test]
    fn grids_larger_than_one_strip_keep_every_row() {
        let (rows, cols) = (600, 8000);
        let t = GeoTransform::from_lower_left(0.0, 0.0, 1.0, rows);
        let mut g = Grid::filled(rows, cols, t, 0.0f32);
        for (i, v) in g.data.iter_mut().enumerate() {
            *v = (i / cols) as f32;
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.tif");
        write_raster(&p, &g, &RasterWriteOptions::default()).unwrap();
        let back = read_raster_as::<f32>(&p).unwrap();
        assert_eq!(back.data, g.data);
    }

    #[test]
    fn asc_and_cog_are_chosen_by_extension_and_option() {
        let dir = tempfile::tempdir().unwrap();
        let asc_path = dir.path().join("r.asc");
        write_raster(&asc_path, &sample(), &RasterWriteOptions::default()).unwrap();
        assert!(std::fs::read_to_string(&asc_path).unwrap().starts_with("ncols"));
        let cog = dir.path().join("c.tif");
        write_raster(&cog, &sample(), &RasterWriteOptions { cog: true, ..Default::default() }).unwrap();
        assert_eq!(read_raster(&cog).unwrap().get(1, 1), 1.5);
    }

    #[test]
    fn missing_and_non_raster_files_are_clear_errors() {
        let e = read_raster(Path::new("/nonexistent/x.tif")).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/x.tif"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("junk.tif");
        std::fs::write(&p, b"not a tiff").unwrap();
        assert!(read_raster(&p).unwrap_err().to_string().contains("junk.tif"));
    }
}
