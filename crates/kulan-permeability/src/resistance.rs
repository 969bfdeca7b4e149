//! Building a resistance grid for one species from barriers, crossings and land cover.

use std::collections::BTreeMap;

use geo::{Coord, Euclidean, Length};
use kulan_core::raster::Grid;
use kulan_core::{Barrier, BarrierStatus, FeatureId};

use crate::landcover::ClassTable;
use crate::model::{Class, CrossingAttrs, Model};
use crate::rasterize::{supercover_line, Lattice};
use crate::transform::barrier_resistance;
use crate::PermeabilityError;

/// The NoData value of the grids this module makes.
pub const NODATA: f64 = -9999.0;

/// A crossing structure or fence gap: a point or short line with a type and dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct Crossing {
    pub id: FeatureId,
    pub geometry: geo::Geometry<f64>,
    pub attrs: CrossingAttrs,
}

/// Everything that goes into one resistance grid.
#[derive(Debug, Clone)]
pub struct ResistanceInput<'a> {
    pub model: &'a Model,
    /// The species as the user gave it (name, alias or scientific name).
    pub species: &'a str,
    /// The grid to fill: from a template raster, the land-cover raster, or an extent and cell size.
    pub lattice: Lattice,
    pub crs: Option<String>,
    /// Cells of the template that are NoData stay NoData (e.g. outside a study-area mask).
    pub mask: Option<&'a Grid<f64>>,
    pub barriers: &'a [Barrier],
    pub crossings: &'a [Crossing],
    /// Land-cover codes on the same lattice, and what each code's base resistance is.
    pub landcover: Option<(&'a Grid<f64>, &'a ClassTable)>,
    /// Which barrier statuses to burn (default: existing only).
    pub statuses: &'a [BarrierStatus],
    /// Overrides the model's `encounter_cost_m`.
    pub encounter_cost_m: Option<f64>,
}

/// How often a class was used.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClassUse {
    pub id: String,
    pub name: String,
    pub p: f64,
    pub features: usize,
    pub length_m: f64,
}

/// One crossing and what it did.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossingUse {
    pub id: FeatureId,
    pub crossing_type: String,
    /// The class it matched, if any (unmatched crossings are ignored).
    pub class: Option<String>,
    pub p: Option<f64>,
    /// Barrier cells whose p it replaced.
    pub cells: usize,
}

/// What went into the grid.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResistanceReport {
    pub species: String,
    /// Per barrier class, in model order (classes that matched nothing included).
    pub classes: Vec<ClassUse>,
    /// Barriers left out because of their status.
    pub skipped_by_status: usize,
    pub crossings: Vec<CrossingUse>,
    /// Cells crossed by at least one barrier.
    pub barrier_cells: usize,
    /// Cells made impassable by p = 0 (not counting NoData from land cover or the mask).
    pub impassable_barrier_cells: usize,
    pub nodata_cells: usize,
    pub encounter_cost_m: f64,
}

/// A resistance grid and the per-cell barrier permeability it was built from.
#[derive(Debug, Clone)]
pub struct ResistanceOutput {
    /// Resistance per cell; NoData ([`NODATA`]) where impassable.
    pub resistance: Grid<f64>,
    /// The crossing probability of the least permeable barrier in each cell, after crossings;
    /// NoData where no barrier passes.
    pub permeability: Grid<f32>,
    pub report: ResistanceReport,
}

/// The barrier class and p of every barrier for a species, in input order.
pub fn classify_barriers<'m>(
    model: &'m Model,
    species_key: &str,
    barriers: &[Barrier],
) -> Result<Vec<(&'m Class, f64)>, PermeabilityError> {
    let mut out = Vec::with_capacity(barriers.len());
    let mut unmatched: Vec<&Barrier> = Vec::new();
    for b in barriers {
        match model.classify_barrier(&b.attrs) {
            Some(c) => out.push((c, c.p[species_key])),
            None => unmatched.push(b),
        }
    }
    if let Some(first) = unmatched.first() {
        return Err(PermeabilityError::Input(format!(
            "{} barrier(s) match no barrier class of {} (the first: id {}, kind {}); add a class for them, \
             e.g. a last [[barrier]] with no `when`, so that no barrier is silently left out",
            unmatched.len(),
            model.origin,
            first.id,
            first.kind()
        )));
    }
    Ok(out)
}

/// Rasterizes barriers and crossings and combines them with land cover into resistance.
pub fn build_resistance(input: &ResistanceInput) -> Result<ResistanceOutput, PermeabilityError> {
    let model = input.model;
    let species = model.species_key(input.species).map_err(|e| PermeabilityError::Input(e.to_string()))?;
    let lat = input.lattice;
    if lat.rows == 0 || lat.cols == 0 {
        return Err(PermeabilityError::Input("the grid has no cells".into()));
    }
    let n = lat.rows * lat.cols;
    let check = |g: &Grid<f64>, what: &str| -> Result<(), PermeabilityError> {
        let me: Grid<u8> = Grid { rows: lat.rows, cols: lat.cols, transform: lat.transform, nodata: None, crs: None, data: vec![] };
        me.check_aligned(g).map_err(|m| {
            PermeabilityError::Input(format!(
                "{what} does not line up with the output grid: {m}; resample it onto the template grid first (gdalwarp)"
            ))
        })
    };
    if let Some(mask) = input.mask {
        check(mask, "the template")?;
    }
    if let Some((lc, _)) = input.landcover {
        check(lc, "the land-cover raster")?;
    }
    let encounter = input.encounter_cost_m.unwrap_or(model.resistance.encounter_cost_m);
    if !(encounter >= 0.0 && encounter.is_finite()) {
        return Err(PermeabilityError::Input(format!("the encounter cost must be 0 or more metres, got {encounter}")));
    }
    let cell = (lat.transform.cell_width + lat.transform.cell_height) / 2.0;

    // Base resistance per cell (NaN = NoData).
    let mut base = vec![model.resistance.base; n];
    if let Some((lc, table)) = input.landcover {
        let mut missing: BTreeMap<i64, usize> = BTreeMap::new();
        for (b, &v) in base.iter_mut().zip(&lc.data) {
            if lc.is_nodata(v) {
                *b = f64::NAN;
                continue;
            }
            let code = v.round() as i64;
            match table.resistance.get(&code) {
                Some(Some(r)) => *b = *r,
                Some(None) => *b = f64::NAN,
                None => *missing.entry(code).or_default() += 1,
            }
        }
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().take(12).map(|(c, k)| format!("{c} ({k} cells)")).collect();
            return Err(PermeabilityError::Input(format!(
                "the land-cover raster has codes that {} does not list: {}{}; add them to the table",
                table.origin,
                list.join(", "),
                if missing.len() > 12 { ", ..." } else { "" }
            )));
        }
    }
    if let Some(mask) = input.mask {
        for (b, &v) in base.iter_mut().zip(&mask.data) {
            if mask.is_nodata(v) {
                *b = f64::NAN;
            }
        }
    }

    // Burn barriers: the least permeable barrier wins in each cell (NaN = no barrier).
    let classes = classify_barriers(model, &species, input.barriers)?;
    let mut uses: Vec<ClassUse> = model
        .barrier_classes
        .iter()
        .map(|c| ClassUse { id: c.id.clone(), name: c.name.clone(), p: c.p[&species], ..Default::default() })
        .collect();
    let index_of: BTreeMap<&str, usize> = model.barrier_classes.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let mut p_grid = vec![f32::NAN; n];
    let mut skipped = 0usize;
    for (b, (class, p)) in input.barriers.iter().zip(&classes) {
        if !input.statuses.contains(&b.attrs.status) {
            skipped += 1;
            continue;
        }
        let u = &mut uses[index_of[class.id.as_str()]];
        u.features += 1;
        u.length_m += Euclidean.length(&b.geometry);
        let p = *p as f32;
        for line in &b.geometry.0 {
            supercover_line(&lat, line, &mut |r, c| {
                let cellp = &mut p_grid[r * lat.cols + c];
                if cellp.is_nan() || p < *cellp {
                    *cellp = p;
                }
            });
        }
    }

    // Crossings replace the barrier's p in the barrier cells they touch.
    let mut crossing_uses = Vec::with_capacity(input.crossings.len());
    let mut overrides: Vec<(usize, f32)> = Vec::new();
    for x in input.crossings {
        let class = model.classify_crossing(&x.attrs);
        let p = class.map(|c| c.p[&species]);
        let mut cells = 0;
        if let Some(p) = p {
            let radius = x.attrs.width_m.map_or(0.0, |w| w / 2.0).max(cell / 2.0);
            for_cells_near(&lat, &x.geometry, radius, &mut |i| {
                if !p_grid[i].is_nan() {
                    overrides.push((i, p as f32));
                    cells += 1;
                }
            });
        }
        crossing_uses.push(CrossingUse {
            id: x.id.clone(),
            crossing_type: x.attrs.crossing_type.clone(),
            class: class.map(|c| c.id.clone()),
            p,
            cells,
        });
    }
    // Where crossings overlap, the most permeable one applies.
    let mut best: BTreeMap<usize, f32> = BTreeMap::new();
    for (i, p) in overrides {
        let e = best.entry(i).or_insert(p);
        if p > *e {
            *e = p;
        }
    }
    for (i, p) in best {
        p_grid[i] = p;
    }

    // Combine.
    let mut res = vec![NODATA; n];
    let (mut barrier_cells, mut impassable, mut nodata_cells) = (0, 0, 0);
    for i in 0..n {
        let b = base[i];
        let p = p_grid[i];
        if !p.is_nan() {
            barrier_cells += 1;
        }
        if b.is_nan() {
            nodata_cells += 1;
            continue;
        }
        let r = if p.is_nan() { b } else { barrier_resistance(b, p as f64, encounter, cell) };
        if r.is_finite() {
            res[i] = r;
        } else {
            impassable += 1;
            nodata_cells += 1;
        }
    }
    let resistance = Grid {
        rows: lat.rows,
        cols: lat.cols,
        transform: lat.transform,
        nodata: Some(NODATA),
        crs: input.crs.clone(),
        data: res,
    };
    let permeability = Grid {
        rows: lat.rows,
        cols: lat.cols,
        transform: lat.transform,
        nodata: Some(NODATA),
        crs: input.crs.clone(),
        data: p_grid.into_iter().map(|p| if p.is_nan() { NODATA as f32 } else { p }).collect(),
    };
    Ok(ResistanceOutput {
        resistance,
        permeability,
        report: ResistanceReport {
            species,
            classes: uses,
            skipped_by_status: skipped,
            crossings: crossing_uses,
            barrier_cells,
            impassable_barrier_cells: impassable,
            nodata_cells,
            encounter_cost_m: encounter,
        },
    })
}

/// Calls `f(cell index)` for every cell whose rectangle lies within `radius` of `geometry`.
fn for_cells_near(lat: &Lattice, geometry: &geo::Geometry<f64>, radius: f64, f: &mut impl FnMut(usize)) {
    use geo::BoundingRect;
    let Some(bb) = geometry.bounding_rect() else { return };
    let t = lat.transform;
    let col_of = |x: f64| ((x - t.origin_x) / t.cell_width).floor();
    let row_of = |y: f64| ((t.origin_y - y) / t.cell_height).floor();
    let c0 = col_of(bb.min().x - radius).max(0.0) as usize;
    let c1 = col_of(bb.max().x + radius).min(lat.cols as f64 - 1.0);
    let r0 = row_of(bb.max().y + radius).max(0.0) as usize;
    let r1 = row_of(bb.min().y - radius).min(lat.rows as f64 - 1.0);
    if c1 < 0.0 || r1 < 0.0 {
        return;
    }
    let (c1, r1) = (c1 as usize, r1 as usize);
    let segments = segments_of(geometry);
    for r in r0..=r1 {
        for c in c0..=c1 {
            let x0 = t.origin_x + c as f64 * t.cell_width;
            let y1 = t.origin_y - r as f64 * t.cell_height;
            let rect = (x0, y1 - t.cell_height, x0 + t.cell_width, y1);
            if segments.iter().any(|&(a, b)| segment_rect_distance(a, b, rect) <= radius) {
                f(r * lat.cols + c);
            }
        }
    }
}

/// The geometry as segments (points as zero-length segments; polygons by their rings).
fn segments_of(g: &geo::Geometry<f64>) -> Vec<(Coord<f64>, Coord<f64>)> {
    use geo::CoordsIter;
    let mut out = Vec::new();
    let mut line = |ls: &geo::LineString<f64>| {
        if ls.0.len() == 1 {
            out.push((ls.0[0], ls.0[0]));
        }
        out.extend(ls.lines().map(|l| (l.start, l.end)));
    };
    match g {
        geo::Geometry::Point(p) => out.push((p.0, p.0)),
        geo::Geometry::MultiPoint(mp) => out.extend(mp.0.iter().map(|p| (p.0, p.0))),
        geo::Geometry::Line(l) => out.push((l.start, l.end)),
        geo::Geometry::LineString(ls) => line(ls),
        geo::Geometry::MultiLineString(m) => m.0.iter().for_each(line),
        other => {
            // Polygons and collections: use every vertex pair of their outlines.
            let coords: Vec<Coord<f64>> = other.coords_iter().collect();
            out.extend(coords.windows(2).map(|w| (w[0], w[1])));
            if coords.len() == 1 {
                out.push((coords[0], coords[0]));
            }
        }
    }
    out
}

/// Distance from segment `a`–`b` to the rectangle `(xmin, ymin, xmax, ymax)` (0 when they meet).
fn segment_rect_distance(a: Coord<f64>, b: Coord<f64>, rect: (f64, f64, f64, f64)) -> f64 {
    let (xmin, ymin, xmax, ymax) = rect;
    let inside = |p: Coord<f64>| p.x >= xmin && p.x <= xmax && p.y >= ymin && p.y <= ymax;
    if inside(a) || inside(b) {
        return 0.0;
    }
    let corners = [
        Coord { x: xmin, y: ymin },
        Coord { x: xmax, y: ymin },
        Coord { x: xmax, y: ymax },
        Coord { x: xmin, y: ymax },
    ];
    let edges = [(corners[0], corners[1]), (corners[1], corners[2]), (corners[2], corners[3]), (corners[3], corners[0])];
    if a != b && edges.iter().any(|&(p, q)| segments_intersect(a, b, p, q)) {
        return 0.0;
    }
    let point_rect = |p: Coord<f64>| {
        let dx = (xmin - p.x).max(0.0).max(p.x - xmax);
        let dy = (ymin - p.y).max(0.0).max(p.y - ymax);
        dx.hypot(dy)
    };
    let mut d = point_rect(a).min(point_rect(b));
    for c in corners {
        d = d.min(point_segment_distance(c, a, b));
    }
    d
}

fn point_segment_distance(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 { (((p.x - a.x) * dx + (p.y - a.y) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
    (p.x - (a.x + t * dx)).hypot(p.y - (a.y + t * dy))
}

fn segments_intersect(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, d: Coord<f64>) -> bool {
    let orient = |p: Coord<f64>, q: Coord<f64>, r: Coord<f64>| (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x);
    let on = |p: Coord<f64>, q: Coord<f64>, r: Coord<f64>| {
        r.x >= p.x.min(q.x) && r.x <= p.x.max(q.x) && r.y >= p.y.min(q.y) && r.y <= p.y.max(q.y)
    };
    let (d1, d2) = (orient(c, d, a), orient(c, d, b));
    let (d3, d4) = (orient(a, b, c), orient(a, b, d));
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0)) && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0)) {
        return true;
    }
    (d1 == 0.0 && on(c, d, a)) || (d2 == 0.0 && on(c, d, b)) || (d3 == 0.0 && on(a, b, c)) || (d4 == 0.0 && on(a, b, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_rect_distances() {
        let r = (0.0, 0.0, 1.0, 1.0);
        let c = |x, y| Coord { x, y };
        assert_eq!(segment_rect_distance(c(0.5, 0.5), c(0.5, 0.5), r), 0.0);
        assert_eq!(segment_rect_distance(c(2.0, 0.5), c(2.0, 0.5), r), 1.0);
        assert_eq!(segment_rect_distance(c(-1.0, 0.5), c(2.0, 0.5), r), 0.0); // passes through
        assert!((segment_rect_distance(c(2.0, 2.0), c(2.0, 2.0), r) - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(segment_rect_distance(c(-1.0, 3.0), c(3.0, 3.0), r), 2.0);
    }
}
