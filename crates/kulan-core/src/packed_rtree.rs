//! A static R-tree packed into flat arrays, for boxes that come already in a spatially coherent
//! order (a ring's edges in ring order, or items sorted along a Hilbert curve).
//!
//! Each node covers `NODE_SIZE` consecutive entries of the level below, so the tree is nothing
//! but the item boxes followed by each level's unions. A query walks it depth first, children in
//! order, and therefore reports matching items in ascending index order: no pointers to chase,
//! no allocation per node, and neighbouring items sit next to each other in memory.

use geo::Coord;

/// Children per node.
const NODE_SIZE: usize = 16;

/// An axis-aligned box `[min_x, min_y, max_x, max_y]`.
pub(crate) type Bbox = [f64; 4];

/// The box of the segment a–b.
#[inline]
pub(crate) fn segment_box(a: Coord<f64>, b: Coord<f64>) -> Bbox {
    [a.x.min(b.x), a.y.min(b.y), a.x.max(b.x), a.y.max(b.y)]
}

#[inline]
pub(crate) fn intersects(a: &Bbox, b: &Bbox) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

/// A read-only R-tree over boxes kept in the order they were given: item `i` is the `i`-th box
/// passed to [`PackedRTree::new`], and [`PackedRTree::query`] reports items by that index.
#[derive(Debug, Clone)]
pub(crate) struct PackedRTree {
    /// The items' boxes, then each level's node boxes, up to the root.
    boxes: Vec<Bbox>,
    /// Where each level starts in `boxes`; the last entry is `boxes.len()`.
    level_starts: Vec<usize>,
}

impl PackedRTree {
    pub fn new(items: Vec<Bbox>) -> Self {
        let mut boxes = items;
        let mut level_starts = vec![0, boxes.len()];
        while level_starts[level_starts.len() - 1] - level_starts[level_starts.len() - 2] > 1 {
            let (lo, hi) = (level_starts[level_starts.len() - 2], level_starts[level_starts.len() - 1]);
            for start in (lo..hi).step_by(NODE_SIZE) {
                let merged = boxes[start..hi.min(start + NODE_SIZE)].iter().fold(
                    [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY],
                    |m, b| [m[0].min(b[0]), m[1].min(b[1]), m[2].max(b[2]), m[3].max(b[3])],
                );
                boxes.push(merged);
            }
            level_starts.push(boxes.len());
        }
        PackedRTree { boxes, level_starts }
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.level_starts[1]
    }

    /// Calls `visit` with every item whose box meets `query`, in ascending order.
    pub fn query(&self, query: &Bbox, mut visit: impl FnMut(usize)) {
        self.search(
            |b| if intersects(b, query) { Settle::Open } else { Settle::Skip },
            |i, _| visit(i),
        );
    }

    /// Walks the tree deciding node by node: `settle` looks at a node's (or item's) box and
    /// says whether to skip everything under it, to take everything under it as it is, or to
    /// look closer. `visit` gets each item not skipped, in ascending order, with
    /// [`Settle::All`] when a box around it was settled whole and [`Settle::Open`] otherwise.
    ///
    /// `settle` must be monotone: whatever it says of a box holds for every box inside it.
    pub fn search(&self, mut settle: impl FnMut(&Bbox) -> Settle, mut visit: impl FnMut(usize, Settle)) {
        let levels = self.level_starts.len() - 1;
        if self.len() == 0 {
            return;
        }
        // (level, index within the level) of the nodes still to open; at most NODE_SIZE per level.
        let mut stack: Vec<(usize, usize)> = Vec::with_capacity(levels * NODE_SIZE);
        stack.push((levels - 1, 0));
        while let Some((level, node)) = stack.pop() {
            match settle(&self.boxes[self.level_starts[level] + node]) {
                Settle::Skip => {}
                Settle::All => {
                    // A node at level L covers items node·16^L up to (node + 1)·16^L.
                    let span = NODE_SIZE.pow(level as u32);
                    for i in node * span..self.len().min((node + 1) * span) {
                        visit(i, Settle::All);
                    }
                }
                Settle::Open if level == 0 => visit(node, Settle::Open),
                Settle::Open => {
                    let (start, end) = (self.level_starts[level - 1], self.level_starts[level]);
                    let first = node * NODE_SIZE;
                    // Pushed in reverse so that the lowest child is opened first.
                    for child in (first..(end - start).min(first + NODE_SIZE)).rev() {
                        stack.push((level - 1, child));
                    }
                }
            }
        }
    }
}

/// What [`PackedRTree::search`] does with a box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settle {
    /// Nothing under it is wanted.
    Skip,
    /// Everything under it is wanted, without looking closer.
    All,
    /// Look at what is under it.
    Open,
}

/// Position of a point along a Hilbert curve filling a 2^16 × 2^16 grid.
pub(crate) fn hilbert_index(mut x: u32, mut y: u32) -> u64 {
    const SIDE: u32 = 1 << 16;
    let mut d: u64 = 0;
    let mut s = SIDE / 2;
    while s > 0 {
        let rx = u32::from(x & s > 0);
        let ry = u32::from(y & s > 0);
        d += u64::from(s) * u64::from(s) * u64::from((3 * rx) ^ ry);
        // Rotate the quadrant so the curve stays continuous.
        if ry == 0 {
            if rx == 1 {
                x = SIDE - 1 - x;
                y = SIDE - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    d
}

/// The order that sorts `boxes` along a Hilbert curve through their centres (ties by index).
pub(crate) fn hilbert_order(boxes: &[Bbox]) -> Vec<u32> {
    let extent = boxes.iter().fold([f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY], |m, b| {
        [m[0].min(b[0]), m[1].min(b[1]), m[2].max(b[2]), m[3].max(b[3])]
    });
    let scale = |v: f64, lo: f64, hi: f64| -> u32 {
        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
        (t * 65535.0).clamp(0.0, 65535.0) as u32
    };
    let mut keyed: Vec<(u64, u32)> = boxes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
            (hilbert_index(scale(cx, extent[0], extent[2]), scale(cy, extent[1], extent[3])), i as u32)
        })
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(boxes: &[Bbox], q: &Bbox) -> Vec<usize> {
        (0..boxes.len()).filter(|&i| intersects(&boxes[i], q)).collect()
    }

    /// A small deterministic generator, so the test needs no extra crate.
    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn query_finds_exactly_the_intersecting_boxes_in_order() {
        let mut seed = 7;
        for n in [0usize, 1, 2, 15, 16, 17, 255, 256, 257, 1000] {
            let boxes: Vec<Bbox> = (0..n)
                .map(|_| {
                    let (x, y) = (lcg(&mut seed) * 100.0, lcg(&mut seed) * 100.0);
                    [x, y, x + lcg(&mut seed) * 5.0, y + lcg(&mut seed) * 5.0]
                })
                .collect();
            let tree = PackedRTree::new(boxes.clone());
            assert_eq!(tree.len(), n);
            for _ in 0..50 {
                let (x, y) = (lcg(&mut seed) * 100.0, lcg(&mut seed) * 100.0);
                let q = [x, y, x + lcg(&mut seed) * 30.0, y + lcg(&mut seed) * 30.0];
                let mut got = Vec::new();
                tree.query(&q, |i| got.push(i));
                assert_eq!(got, brute(&boxes, &q), "n = {n}, query {q:?}");
            }
        }
    }

    #[test]
    fn search_settles_whole_nodes_like_item_by_item() {
        let mut seed = 11;
        let boxes: Vec<Bbox> = (0..5000)
            .map(|_| {
                let (x, y) = (lcg(&mut seed) * 100.0, lcg(&mut seed) * 100.0);
                [x, y, x + lcg(&mut seed), y + lcg(&mut seed)]
            })
            .collect();
        let tree = PackedRTree::new(boxes.clone());
        // Monotone: boxes wholly within [20, 60]² are taken, boxes missing [10, 70]² skipped.
        let settle = |b: &Bbox| {
            if b[0] >= 20.0 && b[1] >= 20.0 && b[2] <= 60.0 && b[3] <= 60.0 {
                Settle::All
            } else if !intersects(b, &[10.0, 10.0, 70.0, 70.0]) {
                Settle::Skip
            } else {
                Settle::Open
            }
        };
        let mut got = Vec::new();
        tree.search(settle, |i, s| got.push((i, s == Settle::All)));
        let want: Vec<(usize, bool)> =
            (0..boxes.len()).filter(|&i| settle(&boxes[i]) != Settle::Skip).map(|i| (i, settle(&boxes[i]) == Settle::All)).collect();
        let all: Vec<usize> = got.iter().filter(|g| g.1).map(|g| g.0).collect();
        assert!(all.len() > 100, "some items are taken whole");
        assert_eq!(got, want);
    }

    #[test]
    fn touching_boxes_and_points_count_as_intersecting() {
        let tree = PackedRTree::new(vec![[0., 0., 1., 1.], [1., 1., 2., 2.], [3., 3., 3., 3.]]);
        let mut got = Vec::new();
        tree.query(&[1., 1., 1., 1.], |i| got.push(i));
        tree.query(&[3., 3., 4., 4.], |i| got.push(i));
        assert_eq!(got, [0, 1, 2]);
    }

    #[test]
    fn hilbert_index_visits_neighbouring_cells_in_turn() {
        // Consecutive positions along the curve are always adjacent cells.
        let side = 1u32 << 16;
        let mut cells: Vec<(u64, u32, u32)> = Vec::new();
        for x in 0..8 {
            for y in 0..8 {
                cells.push((hilbert_index(x * (side / 8), y * (side / 8)), x, y));
            }
        }
        cells.sort_unstable();
        for w in cells.windows(2) {
            let (dx, dy) = (w[0].1.abs_diff(w[1].1), w[0].2.abs_diff(w[1].2));
            assert_eq!(dx + dy, 1, "{:?} -> {:?}", w[0], w[1]);
        }
        let order = hilbert_order(&[[10., 10., 11., 11.], [0., 0., 1., 1.], [0., 10., 1., 11.]]);
        assert_eq!(order.len(), 3);
    }
}
