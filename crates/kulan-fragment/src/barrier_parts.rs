//! Counting the parts of each barrier inside a unit, as an overlay intersection of the barrier
//! with the unit would return them.

use crate::union_find::UnionFind;

/// Counts the maximal chains of each barrier's pieces inside the unit (what an overlay
/// intersection of the barrier with the unit returns as parts).
pub(crate) fn count_parts(pieces: &mut [(u32, u32, u32, u32)], keep: &[bool]) -> usize {
    pieces.sort_unstable();
    let mut total = 0usize;
    // Buffers reused from feature to feature: its pieces, its vertices (sorted, so a vertex's
    // local id is its rank), their degrees and components, and the chain ends per component.
    let mut es: Vec<(u32, u32)> = Vec::new();
    let mut vs: Vec<u32> = Vec::new();
    let mut deg: Vec<u32> = Vec::new();
    let mut ends: Vec<usize> = Vec::new();
    let mut uf = UnionFind::new(0);
    let mut i = 0;
    while i < pieces.len() {
        let f = pieces[i].0;
        let mut j = i;
        while j < pieces.len() && pieces[j].0 == f {
            j += 1;
        }
        es.clear();
        es.extend(pieces[i..j].iter().filter(|p| keep[p.3 as usize]).map(|p| (p.1, p.2)));
        es.dedup();
        i = j;
        if es.len() == 1 {
            total += 1;
            continue;
        }
        if es.is_empty() {
            continue;
        }
        vs.clear();
        vs.extend(es.iter().flat_map(|&(u, v)| [u, v]));
        vs.sort_unstable();
        vs.dedup();
        let n = vs.len();
        let local = |v: u32| vs.binary_search(&v).expect("a piece end") as u32;
        deg.clear();
        deg.resize(n, 0);
        uf.reset(n);
        for &(u, v) in &es {
            let (a, b) = (local(u), local(v));
            deg[a as usize] += 1;
            deg[b as usize] += 1;
            uf.union(a, b);
        }
        // A component is a chain of pieces between vertices of degree other than two, or a loop.
        ends.clear();
        ends.resize(n, 0);
        for k in 0..n as u32 {
            if deg[k as usize] != 2 {
                let r = uf.find(k) as usize;
                ends[r] += deg[k as usize] as usize;
            }
        }
        for k in 0..n as u32 {
            if uf.find(k) == k {
                total += if ends[k as usize] == 0 { 1 } else { ends[k as usize] / 2 };
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_loops_and_junctions() {
        // Feature 0: a path 1-2-3 (one part) and a loop 4-5-6 (one part). Feature 1: a star at 10
        // with three arms (three parts) and a piece dropped by `keep`. Feature 2: one piece.
        let mut pieces = vec![
            (0, 1, 2, 0),
            (0, 2, 3, 0),
            (0, 4, 5, 0),
            (0, 5, 6, 0),
            (0, 4, 6, 0),
            (1, 10, 11, 0),
            (1, 10, 12, 0),
            (1, 10, 13, 0),
            (1, 13, 14, 1),
            (2, 7, 8, 0),
        ];
        assert_eq!(count_parts(&mut pieces, &[true, false]), 6);
        assert_eq!(count_parts(&mut pieces, &[true, true]), 6, "the dropped piece extends an arm");
    }
}
