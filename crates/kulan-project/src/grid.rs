//! Inputs on the analysis grid: reading rasters with a clear message, checking CRSs, and
//! burning id layers (cores, sources) onto a grid.

use std::path::Path;

use anyhow::{bail, Context};
use geo::{Coord, InteriorPoint};
use kulan_core::raster::Grid;
use kulan_corridors::Sources;
use kulan_io::vector::{read_layer, AttrValue, LayerRef, RawLayer};
use kulan_io::{read_raster, AnalysisCrs, Reprojector};
use kulan_permeability::{supercover_line, Lattice};

/// The NoData value of Kulan's float result rasters.
pub const NODATA: f64 = -9999.0;

/// True for file names GDAL should open as rasters rather than vector layers.
pub fn is_raster_path(path: &Path) -> bool {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    matches!(ext.as_str(), "tif" | "tiff" | "asc" | "img" | "vrt" | "nc" | "bil" | "flt" | "rst" | "sdat" | "grd")
}

/// Reads a raster with a clear message on failure.
pub fn read_grid(path: &Path, what: &str) -> anyhow::Result<Grid<f64>> {
    read_raster(path).with_context(|| format!("reading the {what} raster"))
}

/// Checks that a raster's CRS is the same as the reference grid's (when both declare one).
pub fn check_same_crs(reference: &Grid<f64>, ref_name: &str, other: Option<&str>, other_name: &str) -> anyhow::Result<()> {
    let (Some(a), Some(b)) = (reference.crs.as_deref(), other) else { return Ok(()) };
    let crs = AnalysisCrs::from_definition(a).with_context(|| format!("the CRS of {ref_name}"))?;
    let same = Reprojector::new(b, &crs, other_name).map(|r| r.is_identity()).unwrap_or(false);
    if !same {
        bail!(
            "{other_name} is in a different CRS from {ref_name}; reproject it onto the same grid first \
             (gdalwarp -t_srs/-te/-tr for rasters, ogr2ogr -t_srs for vectors)\n  {ref_name}: {}\n  {other_name}: {}",
            short_crs(a),
            short_crs(b)
        );
    }
    Ok(())
}

/// The first line of a WKT's name, for messages.
fn short_crs(wkt: &str) -> String {
    wkt.split('"').nth(1).map(str::to_string).unwrap_or_else(|| wkt.chars().take(80).collect())
}

/// The lattice of a grid.
pub fn lattice_of<T>(g: &Grid<T>) -> Lattice {
    Lattice { rows: g.rows, cols: g.cols, transform: g.transform }
}

/// Sources or cores: a raster of ids (> 0) on the reference grid, or a vector layer of points,
/// lines or polygons burned onto it with ids from `id_field` (default `id`, else the feature id).
/// Notes for the user (reprojection, features off the grid) are printed to stderr.
pub fn read_id_layer(
    spec: &str,
    reference: &Grid<f64>,
    ref_name: &str,
    id_field: Option<&str>,
    what: &str,
) -> anyhow::Result<Sources> {
    let mut notes = Vec::new();
    let sources = read_id_layer_noting(spec, reference, ref_name, id_field, what, &mut notes);
    for n in &notes {
        eprintln!("{n}");
    }
    sources
}

/// As [`read_id_layer`], with the notes collected in `notes` instead of printed.
pub fn read_id_layer_noting(
    spec: &str,
    reference: &Grid<f64>,
    ref_name: &str,
    id_field: Option<&str>,
    what: &str,
    notes: &mut Vec<String>,
) -> anyhow::Result<Sources> {
    let layer: LayerRef = spec.parse().map_err(|e: String| anyhow::anyhow!("--{what}: {e}"))?;
    if is_raster_path(&layer.path) {
        let ids = read_grid(&layer.path, what)?;
        reference.check_aligned(&ids).map_err(|m| {
            anyhow::anyhow!(
                "the {what} raster {} does not line up with {ref_name}: {m}. Resample it onto the same grid \
                 (gdalwarp -te xmin ymin xmax ymax -tr cell cell -r near)",
                layer.path.display()
            )
        })?;
        check_same_crs(reference, ref_name, ids.crs.as_deref(), &format!("the {what} raster"))?;
        return Ok(Sources::from_id_grid(&ids));
    }
    let raw = read_layer(&layer).with_context(|| format!("reading the {what} layer"))?;
    if raw.features.is_empty() {
        bail!("{}: the {what} layer has no features", raw.label());
    }
    let reproject = match (&raw.crs_wkt, &reference.crs) {
        (Some(src), Some(dst)) => {
            let crs = AnalysisCrs::from_definition(dst).with_context(|| format!("the CRS of {ref_name}"))?;
            let r = Reprojector::new(src, &crs, &raw.label())?;
            if !r.is_identity() {
                notes.push(format!("{}: reprojecting to the CRS of {ref_name}", raw.label()));
            }
            Some(r)
        }
        _ => None,
    };
    burn_id_layer(&raw, reference, id_field, what, reproject.as_ref(), notes)
}

fn feature_id(raw: &RawLayer, values: &[Option<AttrValue>], fid: u64, idx: Option<usize>, what: &str) -> anyhow::Result<i64> {
    let Some(i) = idx else { return Ok(fid as i64) };
    let v = values.get(i).and_then(|v| v.as_ref());
    let id = v.and_then(|v| v.as_f64()).filter(|x| x.fract() == 0.0 && *x > 0.0);
    match id {
        Some(x) => Ok(x as i64),
        None => bail!(
            "{}: feature {fid} has {what} id {:?}; ids must be whole numbers greater than 0 (name another field with --id-field)",
            raw.label(),
            v.map(|v| v.as_text())
        ),
    }
}

fn burn_id_layer(
    raw: &RawLayer,
    reference: &Grid<f64>,
    id_field: Option<&str>,
    what: &str,
    reproject: Option<&Reprojector>,
    notes: &mut Vec<String>,
) -> anyhow::Result<Sources> {
    let idx = match id_field {
        Some(f) => Some(raw.field_index(f).with_context(|| {
            format!("{}: no field '{f}'; the fields are: {}", raw.label(), raw.fields.join(", "))
        })?),
        None => raw.field_index("id"),
    };
    let lat = lattice_of(reference);
    let mut owner: std::collections::HashMap<(usize, usize), i64> = std::collections::HashMap::new();
    let mut cells = Vec::new();
    let (mut outside, mut overlaps) = (0usize, 0usize);
    for f in &raw.features {
        let Some(mut g) = f.geometry.clone() else { continue };
        if let Some(r) = reproject {
            r.apply(&mut g);
        }
        let id = feature_id(raw, &f.values, f.fid, idx, what)?;
        let mut mine = Vec::new();
        burn_geometry(&lat, &g, &mut |r, c| mine.push((r, c)));
        if mine.is_empty() {
            outside += 1;
            continue;
        }
        for rc in mine {
            match owner.get(&rc) {
                Some(&other) if other != id => overlaps += 1,
                Some(_) => {}
                None => {
                    owner.insert(rc, id);
                    cells.push((rc.0, rc.1, id));
                }
            }
        }
    }
    if outside > 0 {
        notes.push(format!("{}: {outside} feature(s) lie outside the grid and were left out", raw.label()));
    }
    if overlaps > 0 {
        notes.push(format!("{}: {overlaps} cell(s) claimed by two {what} features kept the first feature's id", raw.label()));
    }
    Ok(Sources { cells })
}

/// Calls `f(row, col)` for the cells of a geometry: the cell holding each point, every cell a line
/// passes through, and the cells whose centre lies inside a polygon (at least one cell per polygon:
/// the one holding an interior point).
pub fn burn_geometry(lat: &Lattice, g: &geo::Geometry<f64>, f: &mut impl FnMut(usize, usize)) {
    use geo::Geometry as G;
    let t = lat.transform;
    let point = |c: Coord<f64>, f: &mut dyn FnMut(usize, usize)| {
        let (r, k) = t.to_cell_f(c.x, c.y);
        if r >= 0.0 && k >= 0.0 && (r as usize) < lat.rows && (k as usize) < lat.cols {
            f(r as usize, k as usize);
        }
    };
    match g {
        G::Point(p) => point(p.0, f),
        G::MultiPoint(mp) => mp.0.iter().for_each(|p| point(p.0, f)),
        G::Line(l) => kulan_permeability::supercover_segment(lat, l.start, l.end, f),
        G::LineString(ls) => supercover_line(lat, ls, f),
        G::MultiLineString(m) => m.0.iter().for_each(|ls| supercover_line(lat, ls, f)),
        G::Polygon(p) => fill_polygon(lat, p, f),
        G::MultiPolygon(m) => m.0.iter().for_each(|p| fill_polygon(lat, p, f)),
        G::Rect(r) => fill_polygon(lat, &r.to_polygon(), f),
        G::Triangle(t) => fill_polygon(lat, &t.to_polygon(), f),
        G::GeometryCollection(c) => c.0.iter().for_each(|g| burn_geometry(lat, g, f)),
    }
}

/// Scan-line fill of cells whose centre lies inside the polygon (holes excluded, even-odd rule).
fn fill_polygon(lat: &Lattice, poly: &geo::Polygon<f64>, f: &mut impl FnMut(usize, usize)) {
    use geo::BoundingRect;
    let t = lat.transform;
    let Some(bb) = poly.bounding_rect() else { return };
    let rings: Vec<&geo::LineString<f64>> = std::iter::once(poly.exterior()).chain(poly.interiors()).collect();
    let r0 = ((t.origin_y - bb.max().y) / t.cell_height - 0.5).ceil().max(0.0) as usize;
    let r1 = ((t.origin_y - bb.min().y) / t.cell_height - 0.5).floor().min(lat.rows as f64 - 1.0);
    let mut any = false;
    if r1 >= 0.0 {
        let mut xs = Vec::new();
        for r in r0..=(r1 as usize) {
            let y = t.origin_y - (r as f64 + 0.5) * t.cell_height;
            xs.clear();
            for ring in &rings {
                for seg in ring.lines() {
                    let (a, b) = (seg.start, seg.end);
                    if (a.y <= y && y < b.y) || (b.y <= y && y < a.y) {
                        xs.push(a.x + (y - a.y) / (b.y - a.y) * (b.x - a.x));
                    }
                }
            }
            xs.sort_by(|a, b| a.total_cmp(b));
            for pair in xs.chunks(2) {
                if pair.len() < 2 {
                    break;
                }
                // Cells whose centre x lies in [pair[0], pair[1]).
                let c0 = ((pair[0] - t.origin_x) / t.cell_width - 0.5).ceil().max(0.0);
                let c1 = ((pair[1] - t.origin_x) / t.cell_width - 0.5).ceil().min(lat.cols as f64);
                let mut c = c0 as usize;
                while (c as f64) < c1 {
                    f(r, c);
                    any = true;
                    c += 1;
                }
            }
        }
    }
    if !any {
        if let Some(p) = poly.interior_point() {
            let (r, c) = t.to_cell_f(p.x(), p.y());
            if r >= 0.0 && c >= 0.0 && (r as usize) < lat.rows && (c as usize) < lat.cols {
                f(r as usize, c as usize);
            }
        }
    }
}

/// A float grid as float32 with `+∞`/NaN written as NoData.
pub fn to_f32(g: &Grid<f64>) -> Grid<f32> {
    let mut out = g.map(|v| if v.is_finite() { v as f32 } else { NODATA as f32 });
    out.nodata = Some(NODATA);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kulan_core::raster::GeoTransform;

    #[test]
    fn polygons_fill_cells_by_centre_and_small_ones_get_one_cell() {
        let lat = Lattice { rows: 10, cols: 10, transform: GeoTransform::from_lower_left(0.0, 0.0, 1.0, 10) };
        let square = geo::Rect::new(Coord { x: 2.0, y: 2.0 }, Coord { x: 5.0, y: 4.0 }).to_polygon();
        let mut cells = Vec::new();
        burn_geometry(&lat, &square.into(), &mut |r, c| cells.push((r, c)));
        cells.sort();
        // x centres 2.5, 3.5, 4.5; y centres 2.5, 3.5 -> rows 7 and 6
        assert_eq!(cells, vec![(6, 2), (6, 3), (6, 4), (7, 2), (7, 3), (7, 4)]);
        let tiny = geo::Rect::new(Coord { x: 7.1, y: 7.1 }, Coord { x: 7.2, y: 7.2 }).to_polygon();
        let mut cells = Vec::new();
        burn_geometry(&lat, &tiny.into(), &mut |r, c| cells.push((r, c)));
        assert_eq!(cells, vec![(2, 7)]);
    }
}
