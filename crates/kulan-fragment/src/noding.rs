//! Full noding of a set of segments: every pair of segments that meet is split at their common
//! points, so the result is a planar set of edges that meet only at their end points.
//!
//! Candidate pairs come from a uniform grid (each pair is tested in exactly one cell: the one
//! holding the lower-left corner of the overlap of the two envelopes), the cells are processed in
//! parallel. Intersection points are computed with [`intersection_point`], which is symmetric, so
//! both segments receive the same node.

use rayon::prelude::*;

use crate::geom::{intersection_point, orient, Pt};

/// Where a segment comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A cutting line (barrier).
    Barrier,
    /// The boundary of an excluded area; interior on the left of the segment.
    Exclusion,
    /// The boundary of the reporting unit; interior on the left of the segment.
    Boundary,
}

#[derive(Debug, Clone, Copy)]
pub struct Seg {
    pub a: Pt,
    pub b: Pt,
    pub kind: Kind,
    /// Barrier feature index (or ring index for boundaries and exclusions).
    pub feature: u32,
}

pub struct Noded {
    /// For each input segment, its interior split points sorted from `a` to `b` (no duplicates,
    /// neither end point).
    pub splits: Vec<Vec<Pt>>,
}

#[inline]
fn env(s: &Seg) -> [f64; 4] {
    [s.a[0].min(s.b[0]), s.a[1].min(s.b[1]), s.a[0].max(s.b[0]), s.a[1].max(s.b[1])]
}

/// `p` (collinear with `a`-`b`) lies strictly between `a` and `b`.
#[inline]
fn strictly_between(a: Pt, b: Pt, p: Pt) -> bool {
    if p == a || p == b {
        return false;
    }
    if (a[0] - b[0]).abs() >= (a[1] - b[1]).abs() {
        (a[0] < p[0] && p[0] < b[0]) || (b[0] < p[0] && p[0] < a[0])
    } else {
        (a[1] < p[1] && p[1] < b[1]) || (b[1] < p[1] && p[1] < a[1])
    }
}

#[inline]
fn in_env(a: Pt, b: Pt, p: Pt) -> bool {
    p[0] >= a[0].min(b[0]) && p[0] <= a[0].max(b[0]) && p[1] >= a[1].min(b[1]) && p[1] <= a[1].max(b[1])
}

/// Tests one pair and records the split points.
fn pair(segs: &[Seg], i: usize, j: usize, out: &mut Vec<(u32, Pt)>) {
    let (p1, p2) = (segs[i].a, segs[i].b);
    let (q1, q2) = (segs[j].a, segs[j].b);
    let pq1 = orient(p1, p2, q1);
    let pq2 = orient(p1, p2, q2);
    if (pq1 > 0 && pq2 > 0) || (pq1 < 0 && pq2 < 0) {
        return;
    }
    let qp1 = orient(q1, q2, p1);
    let qp2 = orient(q1, q2, p2);
    if (qp1 > 0 && qp2 > 0) || (qp1 < 0 && qp2 < 0) {
        return;
    }
    if pq1 == 0 && pq2 == 0 && qp1 == 0 && qp2 == 0 {
        // Collinear: each end point inside the other segment splits it.
        for q in [q1, q2] {
            if strictly_between(p1, p2, q) {
                out.push((i as u32, q));
            }
        }
        for p in [p1, p2] {
            if strictly_between(q1, q2, p) {
                out.push((j as u32, p));
            }
        }
        return;
    }
    if pq1 == 0 || pq2 == 0 || qp1 == 0 || qp2 == 0 {
        // An end point touches the other segment.
        if pq1 == 0 && in_env(p1, p2, q1) && q1 != p1 && q1 != p2 {
            out.push((i as u32, q1));
        }
        if pq2 == 0 && in_env(p1, p2, q2) && q2 != p1 && q2 != p2 {
            out.push((i as u32, q2));
        }
        if qp1 == 0 && in_env(q1, q2, p1) && p1 != q1 && p1 != q2 {
            out.push((j as u32, p1));
        }
        if qp2 == 0 && in_env(q1, q2, p2) && p2 != q1 && p2 != q2 {
            out.push((j as u32, p2));
        }
        return;
    }
    let x = intersection_point(p1, p2, q1, q2);
    if x != p1 && x != p2 {
        out.push((i as u32, x));
    }
    if x != q1 && x != q2 {
        out.push((j as u32, x));
    }
}

/// Nodes `segs` against each other.
pub fn node(segs: &[Seg]) -> Noded {
    node_filtered(segs, |_, _| true)
}

/// Nodes `segs`, testing only the pairs `accept` lets through.
pub fn node_filtered(segs: &[Seg], accept: impl Fn(&Seg, &Seg) -> bool + Sync) -> Noded {
    let n = segs.len();
    let mut splits: Vec<Vec<Pt>> = vec![Vec::new(); n];
    if n < 2 {
        return Noded { splits };
    }
    let envs: Vec<[f64; 4]> = segs.iter().map(env).collect();
    let mut bb = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    let mut len_sum = 0.0;
    for e in &envs {
        bb[0] = bb[0].min(e[0]);
        bb[1] = bb[1].min(e[1]);
        bb[2] = bb[2].max(e[2]);
        bb[3] = bb[3].max(e[3]);
        len_sum += (e[2] - e[0]) + (e[3] - e[1]);
    }
    let w = (bb[2] - bb[0]).max(1e-9);
    let h = (bb[3] - bb[1]).max(1e-9);
    // Cell side: about one segment per cell, but not much smaller than a typical segment.
    let mut cell = (w * h / n as f64).sqrt().max(0.5 * len_sum / n as f64);
    let max_cells = (4 * n).max(16) as f64;
    if (w / cell).ceil() * (h / cell).ceil() > max_cells {
        cell = (w * h / max_cells).sqrt() * 1.01;
    }
    let nx = ((w / cell).floor() as usize + 1).max(1);
    let ny = ((h / cell).floor() as usize + 1).max(1);
    let cx = |x: f64| (((x - bb[0]) / cell) as usize).min(nx - 1);
    let cy = |y: f64| (((y - bb[1]) / cell) as usize).min(ny - 1);
    // CSR cell lists.
    let mut counts = vec![0u32; nx * ny + 1];
    for e in &envs {
        for iy in cy(e[1])..=cy(e[3]) {
            for ix in cx(e[0])..=cx(e[2]) {
                counts[iy * nx + ix] += 1;
            }
        }
    }
    // Cell lists in u32 offsets: about 4 cells per segment at most, far below 2^32 entries.
    let mut start = vec![0u32; nx * ny + 1];
    for c in 0..nx * ny {
        start[c + 1] = start[c].checked_add(counts[c]).expect("fewer than 2^32 cell entries");
    }
    drop(counts);
    let mut fill = start.clone();
    let mut items = vec![0u32; start[nx * ny] as usize];
    for (k, e) in envs.iter().enumerate() {
        for iy in cy(e[1])..=cy(e[3]) {
            for ix in cx(e[0])..=cx(e[2]) {
                let c = iy * nx + ix;
                items[fill[c] as usize] = k as u32;
                fill[c] += 1;
            }
        }
    }
    let chunk = 256usize;
    drop(fill);
    let results: Vec<Vec<(u32, Pt)>> = (0..(nx * ny).div_ceil(chunk))
        .into_par_iter()
        .map(|ch| {
            let mut out = Vec::new();
            for c in ch * chunk..((ch + 1) * chunk).min(nx * ny) {
                let list = &items[start[c] as usize..start[c + 1] as usize];
                if list.len() < 2 {
                    continue;
                }
                let (ix, iy) = (c % nx, c / nx);
                for (a, &i) in list.iter().enumerate() {
                    let ei = &envs[i as usize];
                    for &j in &list[a + 1..] {
                        let ej = &envs[j as usize];
                        if ei[0] > ej[2] || ej[0] > ei[2] || ei[1] > ej[3] || ej[1] > ei[3] {
                            continue;
                        }
                        // Test each pair once: in the cell of the overlap's lower-left corner.
                        if cx(ei[0].max(ej[0])) != ix || cy(ei[1].max(ej[1])) != iy {
                            continue;
                        }
                        let (i, j) = if i < j { (i, j) } else { (j, i) };
                        if !accept(&segs[i as usize], &segs[j as usize]) {
                            continue;
                        }
                        pair(segs, i as usize, j as usize, &mut out);
                    }
                }
            }
            out
        })
        .collect();
    for out in results {
        for (s, p) in out {
            splits[s as usize].push(p);
        }
    }
    splits.par_iter_mut().enumerate().for_each(|(k, sp)| {
        if sp.len() > 1 {
            let a = segs[k].a;
            let d = [segs[k].b[0] - a[0], segs[k].b[1] - a[1]];
            sp.sort_by(|p, q| {
                let tp = (p[0] - a[0]) * d[0] + (p[1] - a[1]) * d[1];
                let tq = (q[0] - a[0]) * d[0] + (q[1] - a[1]) * d[1];
                tp.total_cmp(&tq).then(p[0].total_cmp(&q[0])).then(p[1].total_cmp(&q[1]))
            });
            sp.dedup();
        }
    });
    Noded { splits }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(a: Pt, b: Pt) -> Seg {
        Seg { a, b, kind: Kind::Barrier, feature: 0 }
    }

    #[test]
    fn crossing_and_touching_and_collinear() {
        let segs = [
            s([0.0, 0.0], [2.0, 2.0]),
            s([0.0, 2.0], [2.0, 0.0]),
            s([1.0, 1.0], [1.0, 5.0]),   // touches at the crossing point
            s([1.0, 3.0], [1.0, 7.0]),   // collinear overlap with the previous
        ];
        let n = node(&segs);
        assert_eq!(n.splits[0], vec![[1.0, 1.0]]);
        assert_eq!(n.splits[1], vec![[1.0, 1.0]]);
        assert_eq!(n.splits[2], vec![[1.0, 3.0]]);
        assert_eq!(n.splits[3], vec![[1.0, 5.0]]);
    }
}
