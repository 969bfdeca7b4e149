//! Burning lines into a grid so that no 8-neighbour path can slip diagonally through them.
//!
//! GDAL's default line rule (and Bresenham) sets one cell per column or row, so a diagonal line
//! becomes a chain of cells that touch only at corners, and an animal (or a least-cost path) moving
//! to diagonal neighbours walks straight through it. Kulan burns every cell a line passes through
//! (the supercover, a grid traversal in the manner of Amanatides & Woo 1987). Consecutive cells
//! then always share an edge, and where the line passes exactly through a cell corner both cells
//! beside the corner are burned. A 4-connected chain of blocked cells cannot be crossed by
//! 8-connected moves.

use geo::{Coord, LineString};
use kulan_core::raster::GeoTransform;

/// The rows and columns of a grid and where it lies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lattice {
    pub rows: usize,
    pub cols: usize,
    pub transform: GeoTransform,
}

impl Lattice {
    /// Fractional `(col, row)` of a map coordinate (x grows with col, y shrinks with row).
    #[inline]
    fn cell_of(&self, c: Coord<f64>) -> (f64, f64) {
        let t = &self.transform;
        ((c.x - t.origin_x) / t.cell_width, (t.origin_y - c.y) / t.cell_height)
    }
}

/// Calls `visit(row, col)` for every grid cell the segment `a`–`b` passes through (cells outside
/// the grid are skipped). Cells may be visited more than once.
pub fn supercover_segment(lattice: &Lattice, a: Coord<f64>, b: Coord<f64>, visit: &mut impl FnMut(usize, usize)) {
    let (x0, y0) = lattice.cell_of(a);
    let (x1, y1) = lattice.cell_of(b);
    if !(x0.is_finite() && y0.is_finite() && x1.is_finite() && y1.is_finite()) {
        return;
    }
    // Clip to the grid (plus a one-cell margin) so far-away segments cost nothing.
    let (w, h) = (lattice.cols as f64, lattice.rows as f64);
    let Some((t0, t1)) = clip(x0, y0, x1, y1, -1.0, -1.0, w + 1.0, h + 1.0) else { return };
    let (dx, dy) = (x1 - x0, y1 - y0);
    let (sx0, sy0) = (x0 + t0 * dx, y0 + t0 * dy);
    let (sx1, sy1) = (x0 + t1 * dx, y0 + t1 * dy);
    traverse(sx0, sy0, sx1, sy1, &mut |c, r| {
        if c >= 0 && r >= 0 && (c as usize) < lattice.cols && (r as usize) < lattice.rows {
            visit(r as usize, c as usize);
        }
    });
}

/// Every cell of every segment of `line`.
pub fn supercover_line(lattice: &Lattice, line: &LineString<f64>, visit: &mut impl FnMut(usize, usize)) {
    if line.0.len() == 1 {
        supercover_segment(lattice, line.0[0], line.0[0], visit);
    }
    for seg in line.lines() {
        supercover_segment(lattice, seg.start, seg.end, visit);
    }
}

/// Liang–Barsky clipping of the segment to a box; the parameter range inside, if any.
#[allow(clippy::too_many_arguments)]
fn clip(x0: f64, y0: f64, x1: f64, y1: f64, xmin: f64, ymin: f64, xmax: f64, ymax: f64) -> Option<(f64, f64)> {
    let (dx, dy) = (x1 - x0, y1 - y0);
    let mut t0: f64 = 0.0;
    let mut t1: f64 = 1.0;
    for (p, q) in [(-dx, x0 - xmin), (dx, xmax - x0), (-dy, y0 - ymin), (dy, ymax - y0)] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 <= t1).then_some((t0, t1))
}

/// Grid traversal in cell units from `(x0, y0)` to `(x1, y1)`: visits `(col, row)` of every cell
/// touched, as a 4-connected chain.
fn traverse(x0: f64, y0: f64, x1: f64, y1: f64, visit: &mut impl FnMut(i64, i64)) {
    let (mut cx, mut cy) = (x0.floor() as i64, y0.floor() as i64);
    let (ex, ey) = (x1.floor() as i64, y1.floor() as i64);
    let (dx, dy) = (x1 - x0, y1 - y0);
    let sx = if ex > cx { 1 } else { -1 };
    let sy = if ey > cy { 1 } else { -1 };
    let next_boundary = |c: i64, s: i64| if s > 0 { (c + 1) as f64 } else { c as f64 };
    let mut tmx = if dx != 0.0 { (next_boundary(cx, sx) - x0) / dx } else { f64::INFINITY };
    let mut tmy = if dy != 0.0 { (next_boundary(cy, sy) - y0) / dy } else { f64::INFINITY };
    let tdx = if dx != 0.0 { 1.0 / dx.abs() } else { f64::INFINITY };
    let tdy = if dy != 0.0 { 1.0 / dy.abs() } else { f64::INFINITY };
    visit(cx, cy);
    // Each step moves one column, one row, or (through a corner) both; the loop ends when the
    // end cell is reached, whatever rounding does to the crossing parameters.
    let eps = 1e-9;
    while cx != ex || cy != ey {
        let can_x = cx != ex;
        let can_y = cy != ey;
        if can_x && (!can_y || tmx < tmy - eps) {
            cx += sx;
            tmx += tdx;
        } else if can_y && (!can_x || tmy < tmx - eps) {
            cy += sy;
            tmy += tdy;
        } else {
            // Through a corner: burn both cells beside it so the chain stays 4-connected.
            visit(cx + sx, cy);
            visit(cx, cy + sy);
            cx += sx;
            cy += sy;
            tmx += tdx;
            tmy += tdy;
        }
        visit(cx, cy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn lattice(n: usize) -> Lattice {
        Lattice { rows: n, cols: n, transform: GeoTransform::from_lower_left(0.0, 0.0, 1.0, n) }
    }

    fn cells(l: &Lattice, a: (f64, f64), b: (f64, f64)) -> BTreeSet<(usize, usize)> {
        let mut s = BTreeSet::new();
        supercover_segment(l, Coord { x: a.0, y: a.1 }, Coord { x: b.0, y: b.1 }, &mut |r, c| {
            s.insert((r, c));
        });
        s
    }

    fn four_connected(s: &BTreeSet<(usize, usize)>) -> bool {
        // every cell reaches every other through edge neighbours
        let start = *s.iter().next().unwrap();
        let mut seen = BTreeSet::from([start]);
        let mut stack = vec![start];
        while let Some((r, c)) = stack.pop() {
            for (dr, dc) in [(0i64, 1i64), (1, 0), (0, -1), (-1, 0)] {
                let n = ((r as i64 + dr) as usize, (c as i64 + dc) as usize);
                if s.contains(&n) && seen.insert(n) {
                    stack.push(n);
                }
            }
        }
        seen.len() == s.len()
    }

    #[test]
    fn exact_diagonal_burns_both_cells_at_each_corner() {
        let l = lattice(4);
        // y = 4 - x through cell corners: rows/cols (0,0), (1,1), ... plus the side cells.
        let s = cells(&l, (0.0, 4.0), (4.0, 0.0));
        for k in 0..4 {
            assert!(s.contains(&(k, k)));
        }
        assert!(s.contains(&(0, 1)) && s.contains(&(1, 0)));
        assert!(four_connected(&s));
    }

    #[test]
    fn shallow_and_steep_lines_are_four_connected() {
        let l = lattice(50);
        for &(a, b) in &[
            ((0.3, 0.2), (49.7, 17.9)),
            ((3.1, 49.9), (7.7, 0.1)),
            ((25.5, 25.5), (25.5, 25.5)),
            ((10.0, 10.0), (40.0, 10.0)),
            ((-20.0, -5.0), (70.0, 60.0)),
        ] {
            let s = cells(&l, a, b);
            assert!(!s.is_empty());
            assert!(four_connected(&s), "{a:?}-{b:?}");
        }
    }

    #[test]
    fn segments_outside_are_skipped_and_cells_counted_once_per_crossing() {
        let l = lattice(10);
        assert!(cells(&l, (-5.0, -5.0), (-1.0, -3.0)).is_empty());
        let s = cells(&l, (0.5, 5.5), (9.5, 5.5));
        assert_eq!(s.len(), 10);
        assert!(s.iter().all(|&(r, _)| r == 4));
    }
}
