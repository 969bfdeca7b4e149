//! Dropping, before a unit's local arrangement is noded, the dangling ends that its pruning
//! would drop anyway: a chain of edges hanging from a vertex of degree one, as long as the unit
//! boundary comes nowhere near it (so noding with the boundary cannot add a vertex to it).
//!
//! The edges come from the shared arrangement, so they meet only at their end points; only the
//! boundary can split them. An edge whose envelope meets no boundary segment's envelope keeps
//! its two end points in the local arrangement, and a free end stays free: the local pruning
//! would remove it, and then the next edge of the chain, exactly as done here.

use crate::pip::PipIndex;

/// What becomes of a candidate edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    Keep,
    /// Dropped; whether it lies inside the unit.
    Drop { inside: bool },
}

/// The fate of each candidate edge: `ends[i]` are the (shared) vertex ids of edge `i`, `env(i)`
/// its envelope, `fixed(i)` edges never to drop, `inside(i)` whether a dropped edge lies inside
/// the unit (asked once per connected group of dropped edges: edges joined at a vertex off the
/// boundary lie on the same side). Leaves are dropped one at a time from every vertex of degree
/// one, while the dropped edge is clear of the boundary of `pip`.
pub(crate) fn prune_leaves(
    ends: &[(u32, u32)],
    env: impl Fn(usize) -> [f64; 4],
    fixed: impl Fn(usize) -> bool,
    inside: impl Fn(usize) -> bool,
    pip: &PipIndex,
) -> Vec<Fate> {
    let n = ends.len();
    let mut fate = vec![Fate::Keep; n];
    // Incidences sorted by vertex: the candidate edges at each vertex.
    let mut inc: Vec<(u32, u32)> = Vec::with_capacity(2 * n);
    for (i, &(u, v)) in ends.iter().enumerate() {
        inc.push((u, i as u32));
        inc.push((v, i as u32));
    }
    inc.sort_unstable();
    let mut verts: Vec<u32> = Vec::new();
    let mut start: Vec<u32> = Vec::new();
    for (k, &(v, _)) in inc.iter().enumerate() {
        if verts.last() != Some(&v) {
            verts.push(v);
            start.push(k as u32);
        }
    }
    start.push(inc.len() as u32);
    let mut deg: Vec<u32> = start.windows(2).map(|w| w[1] - w[0]).collect();
    // Side of each vertex reached by a dropped edge.
    let mut side: Vec<Option<bool>> = vec![None; verts.len()];
    let slot = |v: u32| verts.binary_search(&v).expect("an end of a candidate edge");
    let mut stack: Vec<usize> = (0..verts.len()).filter(|&k| deg[k] == 1).collect();
    while let Some(k) = stack.pop() {
        if deg[k] != 1 {
            continue;
        }
        let Some(i) = inc[start[k] as usize..start[k + 1] as usize].iter().map(|&(_, i)| i as usize).find(|&i| fate[i] == Fate::Keep) else {
            continue;
        };
        if fixed(i) || pip.meets_ring_envelope(env(i)) {
            continue;
        }
        deg[k] = 0;
        let (u, v) = ends[i];
        let other = slot(if verts[k] == u { v } else { u });
        let s = side[k].or(side[other]).unwrap_or_else(|| inside(i));
        side[k] = Some(s);
        side[other] = Some(s);
        fate[i] = Fate::Drop { inside: s };
        deg[other] -= 1;
        if deg[other] == 1 {
            stack.push(other);
        }
    }
    fate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_free_chains_but_not_what_the_boundary_reaches() {
        // Unit: the square [0, 10]². Vertices: 0 (2, 5), 1 (5, 5), 2 (8, 5), 3 (12, 5), 4 (5, 8).
        let pts: [[f64; 2]; 5] = [[2.0, 5.0], [5.0, 5.0], [8.0, 5.0], [12.0, 5.0], [5.0, 8.0]];
        let ends = [(0, 1), (1, 2), (2, 3), (1, 4)];
        let pip = PipIndex::new(&[vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]]]);
        let env = |i: usize| {
            let (a, b) = (pts[ends[i].0 as usize], pts[ends[i].1 as usize]);
            [a[0].min(b[0]), a[1].min(b[1]), a[0].max(b[0]), a[1].max(b[1])]
        };
        let inside = |i: usize| pip.contains(pts[ends[i].0 as usize]);
        let d = Fate::Drop { inside: true };
        // 2-3 crosses the boundary: it stays (the boundary splits it); the free ends 0-1 and 1-4
        // go, and then 1-2, which hangs from the boundary only.
        assert_eq!(prune_leaves(&ends, env, |_| false, inside, &pip), vec![d, d, Fate::Keep, d]);
        // A fixed edge is never dropped.
        assert_eq!(prune_leaves(&ends, env, |i| i == 0, inside, &pip), vec![Fate::Keep, Fate::Keep, Fate::Keep, d]);
        // Outside the unit: a free chain 3-5-6 beyond the boundary.
        let pts: [[f64; 2]; 3] = [[12.0, 5.0], [15.0, 5.0], [15.0, 9.0]];
        let ends = [(0, 1), (1, 2)];
        let env = |i: usize| {
            let (a, b) = (pts[ends[i].0 as usize], pts[ends[i].1 as usize]);
            [a[0].min(b[0]), a[1].min(b[1]), a[0].max(b[0]), a[1].max(b[1])]
        };
        let out = Fate::Drop { inside: false };
        assert_eq!(prune_leaves(&ends, env, |_| false, |i| pip.contains(pts[ends[i].0 as usize]), &pip), vec![out, out]);
    }
}
