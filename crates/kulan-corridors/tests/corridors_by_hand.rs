//! Corridors on small grids whose expected values are worked out by hand.

use kulan_core::raster::{GeoTransform, Grid};
use kulan_corridors::{corridors, Adjacency, CorridorOptions, CostSurface, LinkStatus, Sources};

fn grid(rows: usize, cols: usize, cell: f64, data: Vec<f64>) -> Grid<f64> {
    Grid { rows, cols, transform: GeoTransform::from_lower_left(0.0, 0.0, cell, rows), nodata: Some(-9999.0), crs: None, data }
}

/// Three one-cell cores in a row on uniform resistance 1, cell 10 m:
///
/// ```text
///  . . . . . . .
///  1 . . 2 . . 3
///  . . . . . . .
/// ```
/// 1–2 and 2–3 are 3 cells apart: CW_Dist = 3 × 10 = 30, path length 30, Euc_Dist 30.
/// The least-cost path 1–3 runs straight through core 2 (any detour costs more), so it is dropped.
#[test]
fn corridor_through_a_third_core_is_dropped() {
    let s = CostSurface::from_resistance(&grid(3, 7, 10.0, vec![1.0; 21])).unwrap();
    let cores = Sources { cells: vec![(1, 0, 1), (1, 3, 2), (1, 6, 3)] };
    let out = corridors(&s, &cores, &CorridorOptions { truncate_width: Some(10.0), ..Default::default() }).unwrap();
    assert_eq!(out.cores, vec![1, 2, 3]);
    assert_eq!(out.links.len(), 3);
    let l12 = &out.links[0];
    assert_eq!((l12.link_id, l12.from_core, l12.to_core), (1, 1, 2));
    assert_eq!(l12.cw_dist, 30.0);
    assert_eq!(l12.lcp_length, 30.0);
    assert_eq!(l12.euc_dist, 30.0);
    assert_eq!(l12.cwd_to_euc_ratio(), 1.0);
    assert_eq!(l12.cwd_to_path_ratio(), 1.0);
    assert_eq!(l12.path_cells, vec![(1, 0), (1, 1), (1, 2), (1, 3)]);
    assert!(l12.status.is_corridor());
    let l13 = &out.links[1];
    assert_eq!((l13.from_core, l13.to_core), (1, 3));
    assert_eq!(l13.cw_dist, 60.0);
    assert_eq!(l13.status, LinkStatus::ThroughCore(vec![2]));
    assert!(l13.status.info().contains("core 2"));
    assert!(out.links[2].status.is_corridor());
    // Allocation zones: 1 and 2 touch, 2 and 3 touch, 1 and 3 do not.
    assert!(l12.allocation_adjacent && !l13.allocation_adjacent);

    // NLCC of 1–2 at (0,1): CWD_1 = 10√2 (one diagonal), CWD_2 = 10(√2 + 1); minus LCD 30.
    let r2 = std::f64::consts::SQRT_2;
    let m = &out.mosaic;
    assert!((m.get(0, 1) - (10.0 * r2 + 10.0 * (r2 + 1.0) - 30.0)).abs() < 1e-9);
    // (0,0): CWD_1 = 10, CWD_2 = 10(√2 + 2), LCD 30 -> 10√2
    assert!((m.get(0, 0) - 10.0 * r2).abs() < 1e-9);
    let t = out.truncated.as_ref().unwrap();
    assert!((t.get(0, 1) - m.get(0, 1)).abs() < 1e-12); // 8.28 <= 10
    assert!(t.get(0, 0).is_infinite()); // 14.1 > 10
    // Every cell of the middle row lies on a least-cost path.
    for c in 0..7 {
        assert_eq!(m.get(1, c), 0.0);
    }
}

/// A wall with one gap forces the corridor through it.
///
/// ```text
///  col: 0 1 2 3 4
///  r0   1 . # . .
///  r1   . . # . .
///  r2   . . . . 2     (gap at (2,2))
///  r3   . . # . .
/// ```
/// Uniform resistance 2, cell 1. Best path 1 (0,0) -> 2 (2,4): (0,0)→(1,1)→(2,2)→(2,3)→(2,4)
/// = 2√2 + 2√2 + 2 + 2 = 4√2 + 4 (diagonals cost (2+2)/2·√2 = 2√2, straights 2).
#[test]
fn corridor_goes_through_the_gap() {
    let nd = -9999.0;
    #[rustfmt::skip]
    let r = vec![
        2., 2., nd, 2., 2.,
        2., 2., nd, 2., 2.,
        2., 2., 2., 2., 2.,
        2., 2., nd, 2., 2.,
    ];
    let s = CostSurface::from_resistance(&grid(4, 5, 1.0, r)).unwrap();
    let cores = Sources { cells: vec![(0, 0, 10), (2, 4, 20)] };
    let opts = CorridorOptions { keep_cwd: true, keep_link_corridors: true, ..Default::default() };
    let out = corridors(&s, &cores, &opts).unwrap();
    let l = &out.links[0];
    let r2 = std::f64::consts::SQRT_2;
    assert!((l.cw_dist - (4.0 * r2 + 4.0)).abs() < 1e-12, "{}", l.cw_dist);
    assert!((l.lcp_length - (2.0 * r2 + 2.0)).abs() < 1e-12);
    assert_eq!(l.path_cells, vec![(0, 0), (1, 1), (2, 2), (2, 3), (2, 4)]);
    assert!((l.euc_dist - 20f64.sqrt()).abs() < 1e-12); // (0,0) to (2,4)
    assert!((l.cwd_to_path_ratio() - 2.0).abs() < 1e-12); // mean resistance 2 along the path
    // The gap cell is on the path; NoData cells have no corridor.
    assert_eq!(out.mosaic.get(2, 2), 0.0);
    assert!(out.mosaic.get(0, 2).is_infinite());
    // CWD from core 10 at the far core equals CW_Dist; the one link's NLCC is the mosaic.
    assert!((out.cwd[0].get(2, 4) - l.cw_dist).abs() < 1e-12);
    assert_eq!(out.link_corridors[0].1.data, out.mosaic.data);
    // NLCC at (3,1): CWD_10 = 2·(2√2) + ... worked out: from (0,0) down 3 rows = 3 diagonal-free steps
    // (0,0)->(1,0)->(2,0)->(3,1)? cheaper: (0,0)->(1,1)->(2,1)->(3,1) = 2√2 + 2 + 2 = 2√2 + 4;
    // CWD_20 from (2,4): (2,3) 2, (2,2) 4, (3,1) diagonal 4 + 2√2; sum − LCD = 4√2 + 8 − 4√2 − 4 = 4.
    assert!((out.mosaic.get(3, 1) - 4.0).abs() < 1e-9, "{}", out.mosaic.get(3, 1));
    // Path geometry runs through cell centres (x = col + 0.5, y = 4 - row - 0.5).
    let first = l.path.0[0];
    assert_eq!((first.x, first.y), (0.5, 3.5));
}

#[test]
fn separated_cores_are_unreachable_and_allocation_adjacency_filters() {
    let nd = -9999.0;
    // Column 2 is a full wall: core 1 cannot reach core 2.
    let mut r = vec![1.0; 15];
    for row in 0..3 {
        r[row * 5 + 2] = nd;
    }
    let s = CostSurface::from_resistance(&grid(3, 5, 1.0, r)).unwrap();
    let out = corridors(&s, &Sources { cells: vec![(1, 0, 1), (1, 4, 2)] }, &CorridorOptions::default()).unwrap();
    assert_eq!(out.links[0].status, LinkStatus::Unreachable);
    assert!(out.links[0].cw_dist.is_infinite());
    assert!(out.mosaic.data.iter().all(|v| v.is_infinite()));

    // Four cores on a line: with allocation adjacency, 1–3 is not even a candidate.
    let s = CostSurface::from_resistance(&grid(1, 10, 1.0, vec![1.0; 10])).unwrap();
    let cores = Sources { cells: vec![(0, 0, 1), (0, 3, 2), (0, 6, 3), (0, 9, 4)] };
    let opts = CorridorOptions { adjacency: Adjacency::Allocation, ..Default::default() };
    let out = corridors(&s, &cores, &opts).unwrap();
    let kept: Vec<(i64, i64)> =
        out.links.iter().filter(|l| l.status.is_corridor()).map(|l| (l.from_core, l.to_core)).collect();
    assert_eq!(kept, vec![(1, 2), (2, 3), (3, 4)]);
    assert_eq!(out.links[1].status, LinkStatus::NotAdjacent);
    assert_eq!(out.allocation.data, vec![1, 1, 2, 2, 2, 3, 3, 3, 4, 4]);
}

#[test]
fn limits_on_cost_and_distance_and_too_few_cores() {
    let s = CostSurface::from_resistance(&grid(1, 10, 1.0, vec![1.0; 10])).unwrap();
    let cores = Sources { cells: vec![(0, 0, 1), (0, 9, 2)] };
    let out = corridors(&s, &cores, &CorridorOptions { max_cwd: Some(5.0), ..Default::default() }).unwrap();
    assert_eq!(out.links[0].status, LinkStatus::TooCostly);
    let out = corridors(&s, &cores, &CorridorOptions { max_euclidean: Some(5.0), ..Default::default() }).unwrap();
    assert_eq!(out.links[0].status, LinkStatus::TooFar);
    let e = corridors(&s, &Sources { cells: vec![(0, 0, 1), (0, 1, 1)] }, &CorridorOptions::default()).unwrap_err();
    assert!(e.to_string().contains("at least two cores"), "{e}");
}

#[test]
fn same_result_with_one_or_two_threads() {
    let mut state = 7u64;
    let data: Vec<f64> = (0..40 * 30)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            1.0 + (state >> 40) as f64 / (1u64 << 24) as f64 * 9.0
        })
        .collect();
    let s = CostSurface::from_resistance(&grid(30, 40, 5.0, data)).unwrap();
    let cores = Sources { cells: vec![(2, 2, 1), (27, 5, 2), (15, 37, 3), (3, 30, 4)] };
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| corridors(&s, &cores, &CorridorOptions::default()).unwrap())
    };
    let (a, b) = (run(1), run(2));
    assert_eq!(a.mosaic.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), b.mosaic.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
    assert_eq!(a.links.len(), b.links.len());
    for (x, y) in a.links.iter().zip(&b.links) {
        assert_eq!((x.cw_dist.to_bits(), &x.path_cells, &x.status), (y.cw_dist.to_bits(), &y.path_cells, &y.status));
    }
}
