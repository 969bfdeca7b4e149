//! A monotone radix heap for Dijkstra on non-negative `f64` keys.
//!
//! Non-negative finite `f64` values order the same way as their bit patterns read as `u64`, so
//! the heap works on the bits. Dijkstra only ever pushes keys at or above the last key popped,
//! which is all a radix heap needs; in exchange each element moves between buckets at most 64
//! times and usually once or twice, which beats a binary heap on large grids.

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

    /// Pushes `key` (a non-negative finite `f64`, not below the last key popped) with `value`.
    #[inline]
    pub(crate) fn push(&mut self, key: f64, value: u32) {
        let k = key.to_bits();
        debug_assert!(key >= 0.0 && k >= self.last, "radix heap keys must not decrease");
        self.buckets[bucket_of(k, self.last)].push((k, value));
        self.len += 1;
    }

    /// Pops an entry with the smallest key.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(f64, u32)> {
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
