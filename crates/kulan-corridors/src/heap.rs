//! Monotone priority queues for Dijkstra on non-negative `f64` keys.
//!
//! Dijkstra only ever pushes keys at or above the last key popped, which both queues here rely on.
//!
//! - [`BucketQueue`] (Dinitz 1978): buckets of width `Δ` no larger than the smallest edge cost.
//!   Every entry of the lowest non-empty bucket is final, whatever order the bucket is emptied in,
//!   because any path through another unsettled cell adds at least one edge (≥ `Δ`) to a cost that
//!   is already in that bucket or above. Push and pop are O(1). The buckets form a ring covering
//!   the largest edge cost, so it suits grids whose resistances span a modest range.
//! - [`RadixHeap`]: for any range. Non-negative finite `f64` values order the same way as their bit
//!   patterns read as `u64`; each element moves between buckets at most 64 times.
//!
//! Both give exactly the same costs: with non-negative edges, the final cost of a cell is the
//! smallest floating-point path sum over all paths into it (adding a fixed edge cost is monotone in
//! the rounded sum), whichever order cells are settled in.

/// What the Dijkstra loop needs from a queue.
pub(crate) trait MonotoneQueue {
    fn push(&mut self, key: f64, value: u32);
    fn pop(&mut self) -> Option<(f64, u32)>;
}

/// Dinitz's bucket queue: a ring of buckets of width `delta`.
pub(crate) struct BucketQueue {
    buckets: Vec<Vec<(f64, u32)>>,
    inv_delta: f64,
    /// Index (not wrapped) of the bucket being emptied.
    current: u64,
    len: usize,
}

impl BucketQueue {
    /// The most buckets the ring may have; beyond that the radix heap is used.
    pub(crate) const MAX_BUCKETS: usize = 1 << 16;

    /// A queue for edge costs in `[min_edge, max_edge]`, or `None` when the ring would be too long.
    pub(crate) fn for_edges(min_edge: f64, max_edge: f64) -> Option<Self> {
        if !(min_edge > 0.0 && max_edge.is_finite()) {
            return None;
        }
        // A hair below the smallest edge, so rounding never lets a settled bucket be improved.
        let delta = min_edge * (1.0 - 1e-9);
        let n = (max_edge / delta).ceil() + 2.0;
        if n > Self::MAX_BUCKETS as f64 {
            return None;
        }
        Some(BucketQueue { buckets: (0..n as usize).map(|_| Vec::new()).collect(), inv_delta: 1.0 / delta, current: 0, len: 0 })
    }
}

impl MonotoneQueue for BucketQueue {
    #[inline]
    fn push(&mut self, key: f64, value: u32) {
        // Never behind the bucket being emptied (a cost rounded onto its lower edge stays in it).
        let b = ((key * self.inv_delta) as u64).max(self.current);
        let n = self.buckets.len() as u64;
        debug_assert!(b - self.current < n, "edge longer than the ring");
        self.buckets[(b % n) as usize].push((key, value));
        self.len += 1;
    }

    #[inline]
    fn pop(&mut self) -> Option<(f64, u32)> {
        if self.len == 0 {
            return None;
        }
        let n = self.buckets.len() as u64;
        loop {
            if let Some(e) = self.buckets[(self.current % n) as usize].pop() {
                self.len -= 1;
                return Some(e);
            }
            self.current += 1;
        }
    }
}

pub(crate) struct RadixHeap {
    buckets: Vec<Vec<(u64, u32)>>,
    last: u64,
    len: usize,
}

#[inline]
fn bucket_of(key: u64, last: u64) -> usize {
    (64 - (key ^ last).leading_zeros()) as usize
}

impl RadixHeap {
    pub(crate) fn new() -> Self {
        RadixHeap { buckets: (0..65).map(|_| Vec::new()).collect(), last: 0, len: 0 }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

}

impl MonotoneQueue for RadixHeap {
    /// Pushes `key` (a non-negative finite `f64`, not below the last key popped) with `value`.
    #[inline]
    fn push(&mut self, key: f64, value: u32) {
        let k = key.to_bits();
        debug_assert!(key >= 0.0 && k >= self.last, "radix heap keys must not decrease");
        self.buckets[bucket_of(k, self.last)].push((k, value));
        self.len += 1;
    }

    /// Pops an entry with the smallest key.
    #[inline]
    fn pop(&mut self) -> Option<(f64, u32)> {
        if self.buckets[0].is_empty() {
            if self.len == 0 {
                return None;
            }
            let i = (1..65).find(|&i| !self.buckets[i].is_empty())?;
            let mut moving = std::mem::take(&mut self.buckets[i]);
            let new_last = moving.iter().map(|e| e.0).min().expect("bucket is not empty");
            self.last = new_last;
            for e in moving.drain(..) {
                self.buckets[bucket_of(e.0, new_last)].push(e);
            }
            // Give the (now empty) vector back so its capacity is reused.
            self.buckets[i] = moving;
        }
        let (k, v) = self.buckets[0].pop()?;
        self.len -= 1;
        Some((f64::from_bits(k), v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_queue_pops_by_bucket_and_refuses_long_rings() {
        let mut q = BucketQueue::for_edges(1.0, 10.0).unwrap();
        q.push(0.0, 0);
        assert_eq!(q.pop(), Some((0.0, 0)));
        q.push(3.5, 1);
        q.push(1.2, 2);
        q.push(1.7, 3);
        let mut order = vec![q.pop().unwrap().1, q.pop().unwrap().1];
        order.sort();
        assert_eq!(order, vec![2, 3]); // same bucket [1, 2): either order
        assert_eq!(q.pop().unwrap().1, 1);
        // 13 buckets: these wrap around the ring and still come out in bucket order.
        q.push(13.2, 4);
        q.push(12.5, 5);
        assert_eq!(q.pop().unwrap().1, 5);
        assert_eq!(q.pop().unwrap().1, 4);
        assert_eq!(q.pop(), None);
        assert!(BucketQueue::for_edges(1e-3, 1e3).is_none());
        assert!(BucketQueue::for_edges(0.0, 1.0).is_none());
    }

    #[test]
    fn pops_in_order_with_interleaved_pushes() {
        let mut h = RadixHeap::new();
        let mut state = 12345u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for i in 0..100 {
            h.push(next() * 10.0, i);
        }
        let mut last = 0.0;
        let mut popped = 0;
        while let Some((k, _)) = h.pop() {
            assert!(k >= last);
            last = k;
            popped += 1;
            if popped < 500 {
                h.push(last + next() * 3.0, popped);
            }
        }
        assert_eq!(popped, 100 + 499);
        assert_eq!(h.len(), 0);
    }

    #[test]
    fn zero_and_equal_keys() {
        let mut h = RadixHeap::new();
        h.push(0.0, 1);
        h.push(0.0, 2);
        h.push(1.5, 3);
        assert_eq!(h.pop().unwrap().0, 0.0);
        assert_eq!(h.pop().unwrap().0, 0.0);
        h.push(1.5, 4);
        assert_eq!(h.pop().unwrap().0, 1.5);
        assert_eq!(h.pop().unwrap().0, 1.5);
        assert!(h.pop().is_none());
    }
}
