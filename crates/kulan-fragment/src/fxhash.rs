//! A cheap hasher for keys that are already well mixed (coordinate bits, vertex ids), and
//! the exact-coordinate key of a point.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::geom::Pt;

/// A cheap hasher for keys that are already well mixed (coordinate bits, ids).
#[derive(Default)]
pub struct FxHasher(u64);
impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(*b as u64);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64)
    }
}
pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Hash key of a point: the bits of its coordinates (-0.0 and 0.0 are the same point).
pub fn point_key(p: Pt) -> (u64, u64) {
    ((p[0] + 0.0).to_bits(), (p[1] + 0.0).to_bits())
}
