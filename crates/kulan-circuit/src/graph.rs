//! Graph assembly: weighted undirected graphs (conductances), raster-to-graph conversion with
//! Circuitscape's neighbour and averaging rules, short-circuit regions, connected components.

use crate::CircuitError;

/// An undirected graph with positive conductances, stored as a symmetric CSR adjacency without
/// self-loops. Parallel edges are summed. Indices are 64-bit (`usize`).
#[derive(Debug, Clone, Default)]
pub struct Graph {
    n: usize,
    ptr: Vec<usize>,
    adj: Vec<usize>,
    w: Vec<f64>,
}

impl Graph {
    /// Builds a graph on `n` nodes from `(a, b, conductance)` edges. Self-loops and edges with
    /// conductance that is not strictly positive and finite are dropped; parallel edges add up.
    pub fn from_edges(n: usize, edges: &[(usize, usize, f64)]) -> Result<Graph, CircuitError> {
        let mut deg = vec![0usize; n + 1];
        for &(a, b, g) in edges {
            if a >= n || b >= n {
                return Err(CircuitError::Input(format!("edge ({a}, {b}) names a node beyond {n}")));
            }
            if a != b && g > 0.0 && g.is_finite() {
                deg[a + 1] += 1;
                deg[b + 1] += 1;
            }
        }
        for i in 0..n {
            deg[i + 1] += deg[i];
        }
        let mut fill = deg.clone();
        let m = deg[n];
        let mut adj = vec![0usize; m];
        let mut w = vec![0.0f64; m];
        for &(a, b, g) in edges {
            if a != b && g > 0.0 && g.is_finite() {
                adj[fill[a]] = b;
                w[fill[a]] = g;
                fill[a] += 1;
                adj[fill[b]] = a;
                w[fill[b]] = g;
                fill[b] += 1;
            }
        }
        Ok(Self::compact(n, deg, adj, w))
    }

    /// Sorts each row and merges duplicate neighbours.
    fn compact(n: usize, ptr: Vec<usize>, mut adj: Vec<usize>, mut w: Vec<f64>) -> Graph {
        let mut out_ptr = vec![0usize; n + 1];
        let mut k = 0usize;
        let mut buf: Vec<(usize, f64)> = Vec::new();
        for i in 0..n {
            let (s, e) = (ptr[i], ptr[i + 1]);
            buf.clear();
            buf.extend((s..e).map(|p| (adj[p], w[p])));
            buf.sort_unstable_by_key(|x| x.0);
            let mut last = usize::MAX;
            for &(j, g) in &buf {
                if j == last {
                    w[k - 1] += g;
                } else {
                    adj[k] = j;
                    w[k] = g;
                    k += 1;
                    last = j;
                }
            }
            out_ptr[i + 1] = k;
        }
        adj.truncate(k);
        w.truncate(k);
        adj.shrink_to_fit();
        w.shrink_to_fit();
        Graph { n, ptr: out_ptr, adj, w }
    }

    /// Number of nodes.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of (undirected) edges.
    pub fn n_edges(&self) -> usize {
        self.adj.len() / 2
    }

    /// Neighbours of `i` with the conductance of each connecting edge.
    #[inline]
    pub fn neighbours(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let (s, e) = (self.ptr[i], self.ptr[i + 1]);
        self.adj[s..e].iter().copied().zip(self.w[s..e].iter().copied())
    }

    /// Sum of the conductances at `i` (the Laplacian's diagonal).
    pub fn degree(&self, i: usize) -> f64 {
        self.w[self.ptr[i]..self.ptr[i + 1]].iter().sum()
    }

    /// Each edge once, as `(a, b, g)` with `a < b`.
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        (0..self.n).flat_map(move |i| self.neighbours(i).filter(move |&(j, _)| j > i).map(move |(j, g)| (i, j, g)))
    }

    /// Connected components: each is the sorted list of its nodes; components are ordered by their
    /// smallest node. Union-find over the links in node order, which keeps the walk local on
    /// rasters (neighbours have nearby numbers).
    pub fn components(&self) -> Components {
        let n = self.n;
        // The root of a set is its smallest node (`UnionFind::union` keeps the smaller root).
        let mut uf = UnionFind::new(n);
        for i in 0..n {
            for &j in &self.adj[self.ptr[i]..self.ptr[i + 1]] {
                if j < i {
                    uf.union(i, j);
                }
            }
        }
        let mut comp = vec![usize::MAX; n];
        let mut local = vec![0usize; n];
        let mut members: Vec<Vec<usize>> = Vec::new();
        for i in 0..n {
            let r = uf.find(i);
            // Roots come first in node order, so components are numbered by their smallest node.
            let c = if r == i {
                members.push(Vec::new());
                members.len() - 1
            } else {
                comp[r]
            };
            comp[i] = c;
            local[i] = members[c].len();
            members[c].push(i);
        }
        Components { comp, local, members }
    }
}

/// Connected components of a graph, with each node's component and its index inside it.
#[derive(Debug, Clone)]
pub struct Components {
    /// Component of each node.
    pub comp: Vec<usize>,
    /// Index of each node in its component's member list.
    pub local: Vec<usize>,
    /// Sorted node lists.
    pub members: Vec<Vec<usize>>,
}

/// 4 or 8 neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connectivity {
    Four,
    Eight,
}

/// How the conductance of the link between two cells is derived from the cells' values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// R_ab = (R_a + R_b)/2; diagonals √2·(R_a + R_b)/2 (Circuitscape `connect_using_avg_resistances`).
    AverageResistance,
    /// G_ab = (G_a + G_b)/2; diagonals (G_a + G_b)/(2√2) (Circuitscape's default).
    AverageConductance,
}

impl Scheme {
    /// Link conductance between cells of conductance `a` and `b` (either may be 0 or +∞).
    #[inline]
    pub fn link(self, a: f64, b: f64, diagonal: bool) -> f64 {
        match self {
            Scheme::AverageResistance => {
                let r = (1.0 / a + 1.0 / b) / 2.0;
                let r = if diagonal { r * std::f64::consts::SQRT_2 } else { r };
                1.0 / r
            }
            Scheme::AverageConductance => {
                let g = (a + b) / 2.0;
                if diagonal {
                    g / std::f64::consts::SQRT_2
                } else {
                    g
                }
            }
        }
    }
}

/// Everything needed to turn a raster into a graph.
#[derive(Debug, Clone, Copy)]
pub struct RasterGraphSpec<'a> {
    pub rows: usize,
    pub cols: usize,
    /// Cell conductances, row-major. Cells that are not `> 0` (0, negative, NaN) are not nodes;
    /// `+∞` (zero resistance) cells are merged with their zero-resistance neighbours (and, under
    /// average conductance, with every neighbour, since the link conductance is infinite).
    pub conductance: &'a [f64],
    pub connectivity: Connectivity,
    pub scheme: Scheme,
    /// Short-circuit regions, row-major: cells sharing a positive id become one node. Region cells
    /// without habitat join the node too (as Circuitscape does) when the region has some habitat.
    pub regions: Option<&'a [i64]>,
}

/// A graph built from a raster, with the node of every cell.
#[derive(Debug, Clone)]
pub struct RasterGraph {
    pub rows: usize,
    pub cols: usize,
    pub graph: Graph,
    /// Node of each cell (row-major), -1 where the cell is not part of the graph.
    pub node_of_cell: Vec<i64>,
    /// One representative cell `(row, col)` per node (used by grid orderings).
    pub node_cell: Vec<(u32, u32)>,
}

struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind { parent: (0..n).collect() }
    }
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi] = lo;
        }
    }
}

const FORWARD4: &[(isize, isize, bool)] = &[(0, 1, false), (1, 0, false)];
const FORWARD8: &[(isize, isize, bool)] = &[(0, 1, false), (1, 0, false), (1, 1, true), (1, -1, true)];
/// All neighbours in increasing cell (and so node) order: `(d_row, d_col, diagonal)`.
const SORTED8: &[(isize, isize, bool)] = &[
    (-1, -1, true),
    (-1, 0, false),
    (-1, 1, true),
    (0, -1, false),
    (0, 1, false),
    (1, -1, true),
    (1, 0, false),
    (1, 1, true),
];
const SORTED4: &[(isize, isize, bool)] = &[(-1, 0, false), (0, -1, false), (0, 1, false), (1, 0, false)];
const ALL8: &[(isize, isize, bool)] = &[
    (0, 1, false),
    (1, 0, false),
    (0, -1, false),
    (-1, 0, false),
    (1, 1, true),
    (1, -1, true),
    (-1, 1, true),
    (-1, -1, true),
];

/// The adjacency of a raster whose every node is one cell, row by row in parallel. Node numbers
/// grow with cell numbers, so visiting the neighbours in cell order gives sorted rows, and a link
/// takes the same value from both ends (its earlier cell first), as [`Graph::from_edges`] gives.
fn grid_adjacency(spec: &RasterGraphSpec<'_>, node_of_cell: &[i64], n: usize) -> Graph {
    use rayon::prelude::*;
    let (rows, cols) = (spec.rows, spec.cols);
    let offs = if spec.connectivity == Connectivity::Four { SORTED4 } else { SORTED8 };
    // Pass 1: degrees. A row's nodes are consecutive, so each row writes its own slice.
    let first_node: Vec<usize> = {
        let mut v = Vec::with_capacity(rows + 1);
        v.push(0);
        for r in 0..rows {
            let here = node_of_cell[r * cols..(r + 1) * cols].iter().filter(|&&k| k >= 0).count();
            v.push(v[r] + here);
        }
        v
    };
    let mut ptr = vec![0usize; n + 1];
    split_by(&mut ptr[1..], &first_node).into_par_iter().enumerate().for_each(|(r, deg)| {
        row_links(spec, node_of_cell, offs, r, &mut |a, _, _| deg[a - first_node[r]] += 1);
    });
    for k in 0..n {
        ptr[k + 1] += ptr[k];
    }
    // Pass 2: the links, each row into its own range.
    let bounds: Vec<usize> = first_node.iter().map(|&k| ptr[k]).collect();
    let (mut adj, mut w) = (vec![0usize; ptr[n]], vec![0.0f64; ptr[n]]);
    split_by(&mut adj, &bounds).into_par_iter().zip(split_by(&mut w, &bounds)).enumerate().for_each(|(r, (adj, w))| {
        let mut k = 0;
        row_links(spec, node_of_cell, offs, r, &mut |_, b, link| {
            adj[k] = b;
            w[k] = link;
            k += 1;
        });
    });
    Graph { n, ptr, adj, w }
}

/// Calls `f(node, neighbour, link)` for the links of row `r`'s cells to the cells at `offs`, in
/// that order; links within one node are skipped.
#[inline(always)]
fn row_links<F: FnMut(usize, usize, f64)>(
    spec: &RasterGraphSpec<'_>,
    node_of_cell: &[i64],
    offs: &[(isize, isize, bool)],
    r: usize,
    f: &mut F,
) {
    let (rows, cols, g) = (spec.rows, spec.cols, spec.conductance);
    let clean = |v: f64| if v.is_nan() { 0.0 } else { v.max(0.0) };
    for c in 0..cols {
        let i = r * cols + c;
        let a = node_of_cell[i];
        if a < 0 {
            continue;
        }
        for &(dr, dc, diag) in offs {
            let (rr, cc) = (r as isize + dr, c as isize + dc);
            if rr < 0 || cc < 0 || rr >= rows as isize || cc >= cols as isize {
                continue;
            }
            let j = rr as usize * cols + cc as usize;
            let b = node_of_cell[j];
            if b < 0 || a == b {
                continue;
            }
            let link = spec.scheme.link(clean(g[i.min(j)]), clean(g[i.max(j)]), diag);
            if link > 0.0 && link.is_finite() {
                f(a as usize, b as usize, link);
            }
        }
    }
}

/// `v` cut at `bounds` (increasing, from 0 to at most `v.len()`) into `bounds.len() - 1` slices.
pub(crate) fn split_by<'a, T>(mut v: &'a mut [T], bounds: &[usize]) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(bounds.len().saturating_sub(1));
    for w in bounds.windows(2) {
        let (head, tail) = std::mem::take(&mut v).split_at_mut(w[1] - w[0]);
        out.push(head);
        v = tail;
    }
    out
}

impl RasterGraph {
    /// Builds the graph of a raster.
    pub fn build(spec: RasterGraphSpec<'_>) -> Result<RasterGraph, CircuitError> {
        let (rows, cols) = (spec.rows, spec.cols);
        let ncell = rows * cols;
        if spec.conductance.len() != ncell {
            return Err(CircuitError::Input(format!(
                "conductance grid has {} cells, expected {rows}×{cols}",
                spec.conductance.len()
            )));
        }
        if let Some(r) = spec.regions {
            if r.len() != ncell {
                return Err(CircuitError::Input("region grid does not match the habitat grid".into()));
            }
        }
        let g = spec.conductance;
        let valid = |i: usize| g[i] > 0.0;
        let offs = if spec.connectivity == Connectivity::Four { FORWARD4 } else { FORWARD8 };
        let has_inf = g.iter().any(|v| *v == f64::INFINITY);
        let regions = spec.regions.filter(|r| r.iter().any(|&v| v > 0));

        let mut node_of_cell = vec![-1i64; ncell];
        let mut n = 0usize;
        if regions.is_none() && !has_inf {
            for i in 0..ncell {
                if valid(i) {
                    node_of_cell[i] = n as i64;
                    n += 1;
                }
            }
        } else {
            let mut uf = UnionFind::new(ncell);
            if let Some(reg) = regions {
                let mut first: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
                for (i, &v) in reg.iter().enumerate() {
                    if v > 0 {
                        match first.get(&v) {
                            Some(&f) => uf.union(f, i),
                            None => {
                                first.insert(v, i);
                            }
                        }
                    }
                }
            }
            if has_inf {
                for r in 0..rows {
                    for c in 0..cols {
                        let i = r * cols + c;
                        if g[i] != f64::INFINITY {
                            continue;
                        }
                        for &(dr, dc, diag) in ALL8 {
                            if diag && spec.connectivity == Connectivity::Four {
                                continue;
                            }
                            let (rr, cc) = (r as isize + dr, c as isize + dc);
                            if rr < 0 || cc < 0 || rr >= rows as isize || cc >= cols as isize {
                                continue;
                            }
                            let j = rr as usize * cols + cc as usize;
                            if valid(j) && spec.scheme.link(g[i], g[j], diag) == f64::INFINITY {
                                uf.union(i, j);
                            }
                        }
                    }
                }
            }
            // A set becomes a node when it holds at least one cell with habitat.
            let mut node_of_root = vec![-1i64; ncell];
            for i in 0..ncell {
                if valid(i) {
                    let r = uf.find(i);
                    node_of_root[r] = -2;
                }
            }
            for i in 0..ncell {
                let r = uf.find(i);
                if node_of_root[r] == -2 {
                    node_of_root[r] = n as i64;
                    n += 1;
                }
                if node_of_root[r] >= 0 {
                    node_of_cell[i] = node_of_root[r];
                }
            }
        }

        let mut node_cell = vec![(u32::MAX, u32::MAX); n];
        for i in 0..ncell {
            let k = node_of_cell[i];
            if k >= 0 && node_cell[k as usize].0 == u32::MAX {
                node_cell[k as usize] = ((i / cols) as u32, (i % cols) as u32);
            }
        }

        if regions.is_none() && !has_inf {
            let graph = grid_adjacency(&spec, &node_of_cell, n);
            return Ok(RasterGraph { rows, cols, graph, node_of_cell, node_cell });
        }
        // Merged cells: each link once through its forward direction; links between cells of one
        // node are dropped and parallel links between two nodes add up in `from_edges`.
        let mut edges: Vec<(usize, usize, f64)> = Vec::with_capacity(n * offs.len());
        for r in 0..rows {
            row_links(&spec, &node_of_cell, offs, r, &mut |a, b, link| edges.push((a, b, link)));
        }
        let graph = Graph::from_edges(n, &edges)?;
        Ok(RasterGraph { rows, cols, graph, node_of_cell, node_cell })
    }

    /// Spreads a per-node vector over the grid; cells without a node get `fill`.
    pub fn to_cells(&self, per_node: &[f64], fill: f64) -> Vec<f64> {
        self.node_of_cell.iter().map(|&k| if k >= 0 { per_node[k as usize] } else { fill }).collect()
    }

    /// The node at `(row, col)`, if any.
    pub fn node_at(&self, row: usize, col: usize) -> Option<usize> {
        let k = self.node_of_cell[row * self.cols + col];
        (k >= 0).then_some(k as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_follow_circuitscape() {
        let s2 = std::f64::consts::SQRT_2;
        assert!((Scheme::AverageResistance.link(1.0, 0.5, false) - 1.0 / 1.5).abs() < 1e-15);
        assert!((Scheme::AverageResistance.link(1.0, 0.5, true) - 1.0 / (1.5 * s2)).abs() < 1e-15);
        assert!((Scheme::AverageConductance.link(1.0, 0.5, true) - 0.75 / s2).abs() < 1e-15);
        assert_eq!(Scheme::AverageResistance.link(0.0, 1.0, false), 0.0);
    }

    #[test]
    fn regions_and_zero_resistance_merge_cells() {
        let g = [1.0, f64::INFINITY, f64::INFINITY, 1.0, 0.0, 1.0];
        let rg = RasterGraph::build(RasterGraphSpec {
            rows: 2,
            cols: 3,
            conductance: &g,
            connectivity: Connectivity::Four,
            scheme: Scheme::AverageResistance,
            regions: None,
        })
        .unwrap();
        assert_eq!(rg.graph.n(), 4);
        assert_eq!(rg.node_of_cell[1], rg.node_of_cell[2]);
        assert_eq!(rg.node_of_cell[4], -1);
        let reg = [0, 0, 0, 7, 0, 7];
        let rg = RasterGraph::build(RasterGraphSpec {
            rows: 2,
            cols: 3,
            conductance: &[1.0; 6],
            connectivity: Connectivity::Eight,
            scheme: Scheme::AverageConductance,
            regions: Some(&reg),
        })
        .unwrap();
        assert_eq!(rg.graph.n(), 5);
        assert_eq!(rg.node_of_cell[3], rg.node_of_cell[5]);
        assert_eq!(rg.graph.components().members.len(), 1);
    }

    /// Components by a plain breadth-first search, for comparison.
    fn components_by_search(g: &Graph) -> Vec<Vec<usize>> {
        let mut seen = vec![false; g.n()];
        let mut out = Vec::new();
        for s in 0..g.n() {
            if seen[s] {
                continue;
            }
            seen[s] = true;
            let mut nodes = vec![s];
            let mut k = 0;
            while k < nodes.len() {
                let i = nodes[k];
                k += 1;
                for (j, _) in g.neighbours(i) {
                    if !seen[j] {
                        seen[j] = true;
                        nodes.push(j);
                    }
                }
            }
            nodes.sort_unstable();
            out.push(nodes);
        }
        out
    }

    #[test]
    fn components_match_a_search_and_number_nodes_locally() {
        // Links chosen so that union order differs from node order: chains that meet late,
        // isolated nodes, and a component whose smallest node is linked last.
        let edges = [(9, 3, 1.0), (3, 7, 1.0), (0, 12, 1.0), (12, 5, 1.0), (5, 1, 1.0), (8, 2, 1.0), (11, 10, 1.0), (10, 8, 1.0)];
        let g = Graph::from_edges(14, &edges).unwrap();
        let c = g.components();
        assert_eq!(c.members, components_by_search(&g));
        for (k, m) in c.members.iter().enumerate() {
            for (l, &i) in m.iter().enumerate() {
                assert_eq!((c.comp[i], c.local[i]), (k, l));
            }
        }
    }

    /// The direct CSR of a raster without merged cells is the graph the edge list gives.
    #[test]
    fn grid_adjacency_equals_the_edge_list_graph() {
        let (rows, cols) = (9usize, 13usize);
        let g: Vec<f64> = (0..rows * cols).map(|i| if i % 7 == 3 { 0.0 } else if i % 11 == 5 { f64::NAN } else { 0.3 + (i % 5) as f64 }).collect();
        for connectivity in [Connectivity::Four, Connectivity::Eight] {
            for scheme in [Scheme::AverageConductance, Scheme::AverageResistance] {
                let spec = RasterGraphSpec { rows, cols, conductance: &g, connectivity, scheme, regions: None };
                let rg = RasterGraph::build(spec).unwrap();
                let offs = if connectivity == Connectivity::Four { FORWARD4 } else { FORWARD8 };
                let mut edges = Vec::new();
                for r in 0..rows {
                    row_links(&spec, &rg.node_of_cell, offs, r, &mut |a, b, link| edges.push((a, b, link)));
                }
                let expected = Graph::from_edges(rg.graph.n(), &edges).unwrap();
                assert_eq!((&rg.graph.ptr, &rg.graph.adj, &rg.graph.w), (&expected.ptr, &expected.adj, &expected.w), "{connectivity:?} {scheme:?}");
            }
        }
    }
}
