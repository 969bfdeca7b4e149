//! Disjoint sets over `0..n` with path halving; the smaller id becomes the root, so roots do
//! not depend on the order of the unions.

pub struct UnionFind(Vec<u32>);
impl UnionFind {
    pub fn new(n: usize) -> Self {
        UnionFind((0..n as u32).collect())
    }
    /// Back to `n` singletons, reusing the storage.
    pub fn reset(&mut self, n: usize) {
        self.0.clear();
        self.0.extend(0..n as u32);
    }
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.0[x as usize] != x {
            let p = self.0[x as usize];
            self.0[x as usize] = self.0[p as usize];
            x = p;
        }
        x
    }
    pub fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.0[ra.max(rb) as usize] = ra.min(rb);
        }
    }
}
