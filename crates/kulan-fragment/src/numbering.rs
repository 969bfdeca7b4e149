//! Numbering the distinct keys of a sequence (vertex coordinates, vertex pairs): equal keys get
//! one id, ids are dense from 0.
//!
//! Ids follow the order of first appearance, so that consecutive points of a line get nearby ids
//! (and nearby places in memory). [`first_seen_ids`] numbers with one hash map; for the millions
//! of points of a whole study area, [`sharded_ids`] splits the keys by hash into shards numbered
//! in parallel, then puts the ids in order of first appearance: the same ids.

use std::hash::{Hash, Hasher};

use rayon::prelude::*;

use crate::fxhash::{FxHasher, FxMap};

/// Ids of `keys` in order of first appearance, and the index of the first occurrence of each id.
pub(crate) fn first_seen_ids<K: Hash + Eq + Copy>(keys: &[K]) -> (Vec<u32>, Vec<u32>) {
    let mut map: FxMap<K, u32> = FxMap::default();
    map.reserve(keys.len());
    let mut firsts: Vec<u32> = Vec::new();
    let ids = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            *map.entry(*k).or_insert_with(|| {
                firsts.push(i as u32);
                (firsts.len() - 1) as u32
            })
        })
        .collect();
    (ids, firsts)
}

/// What [`first_seen_ids`] returns, computed in parallel.
pub(crate) fn sharded_ids<K: Hash + Eq + Copy + Send + Sync>(keys: &[K]) -> (Vec<u32>, Vec<u32>) {
    const SHARD_BITS: u32 = 6;
    // Shard by middle bits of the hash: the maps inside a shard use its low bits (bucket) and
    // top bits (tags), which stay spread out.
    let shard_of = |k: &K| {
        let mut h = FxHasher::default();
        k.hash(&mut h);
        ((h.finish() >> 40) & ((1 << SHARD_BITS) - 1)) as usize
    };
    let shard: Vec<u8> = keys.par_iter().map(|k| shard_of(k) as u8).collect();
    let mut lists: Vec<Vec<u32>> = vec![Vec::new(); 1 << SHARD_BITS];
    for (i, &s) in shard.iter().enumerate() {
        lists[s as usize].push(i as u32);
    }
    drop(shard);
    let numbered: Vec<(Vec<u32>, Vec<u32>)> = lists
        .par_iter()
        .map(|list| {
            let shard_keys: Vec<K> = list.iter().map(|&i| keys[i as usize]).collect();
            let (local, firsts) = first_seen_ids(&shard_keys);
            (local, firsts.into_iter().map(|j| list[j as usize]).collect())
        })
        .collect();
    let mut ids = vec![0u32; keys.len()];
    let mut firsts_all: Vec<u32> = Vec::new();
    for (list, (local, firsts)) in lists.iter().zip(numbered) {
        let offset = firsts_all.len() as u32;
        for (&i, &l) in list.iter().zip(&local) {
            ids[i as usize] = offset + l;
        }
        firsts_all.extend(firsts);
    }
    // Renumber in order of first appearance.
    let mut order: Vec<u32> = (0..firsts_all.len() as u32).collect();
    order.par_sort_unstable_by_key(|&j| firsts_all[j as usize]);
    let mut rank = vec![0u32; order.len()];
    for (r, &j) in order.iter().enumerate() {
        rank[j as usize] = r as u32;
    }
    ids.par_iter_mut().for_each(|id| *id = rank[*id as usize]);
    let firsts = order.into_iter().map(|j| firsts_all[j as usize]).collect();
    (ids, firsts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_share_an_id_both_ways() {
        let keys: Vec<(u32, u32)> = (0..5000u32).map(|i| (i % 737, i % 3)).collect();
        assert_eq!(first_seen_ids(&keys), sharded_ids(&keys));
        {
            let (ids, firsts) = first_seen_ids(&keys);
            assert_eq!(firsts.len(), 737 * 3);
            for (i, k) in keys.iter().enumerate() {
                assert_eq!(keys[firsts[ids[i] as usize] as usize], *k);
                assert!(firsts[ids[i] as usize] as usize <= i);
            }
        }
        assert_eq!(first_seen_ids(&keys).0[..4], [0, 1, 2, 3]);
    }
}
