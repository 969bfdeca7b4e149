//! Reporting units that are not read from a file: the square grid, and the union of all units
//! (the region for CBC).

use geo::{LineString, MultiPolygon, Polygon};
use kulan_core::{FeatureId, Range};

use crate::geom::KahanSum;

/// A square grid of `size` (CRS units) aligned on multiples of `size`, covering `bbox`
/// (`[xmin, ymin, xmax, ymax]`). Cell ids read `{size_km}kmE{x_km}N{y_km}` (lower-left corner in
/// km, as the EEA reference grid names its cells).
pub fn square_grid(bbox: [f64; 4], size: f64) -> Vec<Range> {
    assert!(size > 0.0);
    let ix0 = (bbox[0] / size).floor() as i64;
    let iy0 = (bbox[1] / size).floor() as i64;
    let mut ix1 = (bbox[2] / size).ceil() as i64;
    let mut iy1 = (bbox[3] / size).ceil() as i64;
    if ix1 <= ix0 {
        ix1 = ix0 + 1;
    }
    if iy1 <= iy0 {
        iy1 = iy0 + 1;
    }
    let km = size / 1000.0;
    let fmt = |v: f64| if v.fract() == 0.0 { format!("{}", v as i64) } else { format!("{v}") };
    let mut out = Vec::new();
    for iy in iy0..iy1 {
        for ix in ix0..ix1 {
            let (x0, y0) = (ix as f64 * size, iy as f64 * size);
            let (x1, y1) = ((ix + 1) as f64 * size, (iy + 1) as f64 * size);
            let poly = Polygon::new(LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]), vec![]);
            out.push(Range {
                id: FeatureId::Text(format!("{}kmE{}N{}", fmt(km), fmt(x0 / 1000.0), fmt(y0 / 1000.0))),
                species: None,
                season: None,
                geometry: MultiPolygon(vec![poly]),
            });
        }
    }
    out
}


/// The union of all units' polygons.
pub(crate) fn union_of(units: &[Range]) -> MultiPolygon<f64> {
    if units.len() == 1 {
        return units[0].geometry.clone();
    }
    // A set of axis-aligned squares from `square_grid` tiles its bounding box when complete.
    let polys: Vec<Polygon<f64>> = units.iter().flat_map(|u| u.geometry.0.iter().cloned()).collect();
    if let Some(bb) = tiling_box(&polys) {
        return MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(bb[0], bb[1]), (bb[2], bb[1]), (bb[2], bb[3]), (bb[0], bb[3]), (bb[0], bb[1])]),
            vec![],
        )]);
    }
    geo::unary_union(polys.iter())
}

/// When the polygons are non-overlapping axis-aligned rectangles that exactly fill their joint
/// bounding box, that box.
fn tiling_box(polys: &[Polygon<f64>]) -> Option<[f64; 4]> {
    let mut total = KahanSum::default();
    let mut bb = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    let mut rects = Vec::new();
    for p in polys {
        if !p.interiors().is_empty() {
            return None;
        }
        let pts: Vec<_> = p.exterior().0.iter().collect();
        if pts.len() != 5 {
            return None;
        }
        let xs: Vec<f64> = pts.iter().map(|c| c.x).collect();
        let ys: Vec<f64> = pts.iter().map(|c| c.y).collect();
        let (x0, x1) = (xs.iter().cloned().fold(f64::INFINITY, f64::min), xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max));
        let (y0, y1) = (ys.iter().cloned().fold(f64::INFINITY, f64::min), ys.iter().cloned().fold(f64::NEG_INFINITY, f64::max));
        if !pts.iter().all(|c| (c.x == x0 || c.x == x1) && (c.y == y0 || c.y == y1)) {
            return None;
        }
        total.add((x1 - x0) * (y1 - y0));
        bb = [bb[0].min(x0), bb[1].min(y0), bb[2].max(x1), bb[3].max(y1)];
        rects.push([x0, y0, x1, y1]);
    }
    // Non-overlap: sort and check pairwise within a sweep.
    rects.sort_by(|a, b| a[0].total_cmp(&b[0]));
    for i in 0..rects.len() {
        for j in i + 1..rects.len() {
            if rects[j][0] >= rects[i][2] {
                break;
            }
            let (a, b) = (rects[i], rects[j]);
            if a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3] {
                return None;
            }
        }
    }
    let boxa = (bb[2] - bb[0]) * (bb[3] - bb[1]);
    if (total.value() - boxa).abs() <= 1e-9 * boxa {
        Some(bb)
    } else {
        None
    }
}

