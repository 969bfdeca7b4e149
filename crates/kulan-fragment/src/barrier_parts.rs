//! Counting the parts of each barrier inside a unit, as an overlay intersection of the barrier
//! with the unit would return them.

use crate::fxhash::FxMap;
use crate::union_find::UnionFind;

/// Counts the maximal chains of each barrier's pieces inside the unit (what an overlay
/// intersection of the barrier with the unit returns as parts).
pub(crate) fn count_parts(pieces: &mut [(u32, u32, u32, u32)], keep: &[bool]) -> usize {
    pieces.sort_unstable();
    let mut total = 0usize;
    let mut i = 0;
    while i < pieces.len() {
        let f = pieces[i].0;
        let mut j = i;
        while j < pieces.len() && pieces[j].0 == f {
            j += 1;
        }
        let mut es: Vec<(u32, u32)> = pieces[i..j].iter().filter(|p| keep[p.3 as usize]).map(|p| (p.1, p.2)).collect();
        es.dedup();
        if !es.is_empty() {
            let mut local: FxMap<u32, u32> = FxMap::default();
            for &(u, v) in &es {
                let n = local.len() as u32;
                local.entry(u).or_insert(n);
                let n = local.len() as u32;
                local.entry(v).or_insert(n);
            }
            let n = local.len();
            let mut deg = vec![0u32; n];
            let mut uf = UnionFind::new(n);
            for &(u, v) in &es {
                let (a, b) = (local[&u], local[&v]);
                deg[a as usize] += 1;
                deg[b as usize] += 1;
                uf.union(a, b);
            }
            let mut comp_ends: FxMap<u32, usize> = FxMap::default();
            for k in 0..n as u32 {
                let r = uf.find(k);
                let e = comp_ends.entry(r).or_insert(0);
                if deg[k as usize] != 2 {
                    *e += deg[k as usize] as usize;
                }
            }
            for (_, ends) in comp_ends {
                total += if ends == 0 { 1 } else { ends / 2 };
            }
        }
        i = j;
    }
    total
}
