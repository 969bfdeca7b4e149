//! One-to-all and all-to-one raster modes: one advanced solve per focal id, with that id as
//! the only source (one-to-all) or the only ground (all-to-one).

use std::collections::HashMap;
use std::path::PathBuf;

use rayon::prelude::*;

use super::{accumulate, component_cells, io, load, resolve_conflicts, solver_for, suffixed, unique_ids, write_cum_max, Outputs};
use crate::circuitscape::{config::CsConfig, GridReader, GridWriter, RunOptions, RunSummary};
use crate::engine::{node_currents, solve_advanced};
use crate::CircuitError;

pub(super) fn one_all(cfg: &CsConfig, reader: &dyn GridReader, writer: &dyn GridWriter, opts: RunOptions, one_to_all: bool) -> Result<RunSummary, CircuitError> {
    let inp = load(cfg, reader, true)?;
    let out = Outputs::new(cfg, writer, inp.nodata);
    let mut summary = RunSummary {
        mode: if one_to_all { "raster one-to-all".into() } else { "raster all-to-one".into() },
        ..Default::default()
    };
    let cols = inp.habitat.cols;
    let ncell = inp.cond.len();
    let mut point_map = vec![0i64; ncell];
    for p in &inp.points {
        point_map[p.1 * cols + p.2] = p.0;
    }
    let ids = unique_ids(&inp.points);
    let no_repeats = ids.len() == inp.points.len();
    // Short-circuit map: polygons combined with the focal regions.
    let newpoly: Vec<i64> = match &inp.regions {
        None => point_map.clone(),
        Some(poly) => {
            let mut np = poly.clone();
            if no_repeats {
                let k = poly.iter().copied().max().unwrap_or(0);
                for c in 0..ncell {
                    if point_map[c] != 0 && poly[c] == 0 {
                        np[c] = point_map[c] + k;
                    }
                }
            } else {
                let k = poly.iter().copied().max().unwrap_or(0).max(point_map.iter().copied().max().unwrap_or(0));
                for c in 0..ncell {
                    let v1 = point_map[c];
                    if v1 == 0 {
                        continue;
                    }
                    let v2 = np[c];
                    if v2 == 0 {
                        np[c] = k + v1;
                    } else if v1 != v2 {
                        for x in np.iter_mut() {
                            if *x == v2 {
                                *x = v1;
                            }
                        }
                    }
                }
            }
            np
        }
    };
    let rg = inp.graph(Some(&newpoly))?;
    summary.nodes = rg.graph.n();
    let comps = rg.graph.components();
    let solver = solver_for(opts, rg.graph.n(), rg.graph.n_edges() * 2 + rg.graph.n());
    let mut first_cell: HashMap<i64, usize> = HashMap::new();
    for p in &inp.points {
        first_cell.entry(p.0).or_insert(p.1 * cols + p.2);
    }
    let node_of = |cell: usize| -> Option<usize> {
        let k = rg.node_of_cell[cell];
        (k >= 0).then_some(k as usize)
    };

    let results: Vec<Result<(f64, Option<Vec<f64>>, Vec<PathBuf>), CircuitError>> = ids
        .par_iter()
        .enumerate()
        .map(|(i, &n)| {
            let mut files = Vec::new();
            let strength = inp.strengths.as_ref().and_then(|s| s.get(&n).copied()).unwrap_or(1.0);
            let mut sources = vec![0.0; rg.graph.n()];
            let mut grounds = vec![0.0; rg.graph.n()];
            let allowed = |other: i64| inp.pairs.as_ref().map_or(true, |f| f.allows(n, other));
            if one_to_all {
                if let Some(v) = node_of(first_cell[&n]) {
                    sources[v] += strength;
                }
                for (c, &id) in point_map.iter().enumerate() {
                    if id > 0 && id != n && allowed(id) {
                        if let Some(v) = node_of(c) {
                            grounds[v] = f64::INFINITY;
                        }
                    }
                }
                resolve_conflicts(&mut sources, &mut grounds, "rmvgnd");
            } else {
                // Every other focal id injects once, however many cells it covers (a focal
                // region is one node): Circuitscape's expected maps carry k−1 A into the ground
                // for k unit sources, also when ids repeat. Upstream's include/exclude list does
                // not remove sources here; it selects which ids inject their variable strength,
                // the others inject 1 A (allToOneVerify12: for ground 1, id 8 (included) injects
                // 0.8 A; for ground 2, id 8 (excluded) injects 1 A).
                let mut injected: Vec<(i64, usize)> = Vec::new();
                for (c, &id) in point_map.iter().enumerate() {
                    if id != 0 && id != n {
                        if let Some(v) = node_of(c) {
                            if !injected.contains(&(id, v)) {
                                injected.push((id, v));
                                let strength = if allowed(id) { inp.strengths.as_ref().and_then(|s| s.get(&id).copied()) } else { None };
                                sources[v] += strength.unwrap_or(1.0);
                            }
                        }
                    }
                    if id == n {
                        if let Some(v) = node_of(c) {
                            grounds[v] = f64::INFINITY;
                        }
                    }
                }
                resolve_conflicts(&mut sources, &mut grounds, "rmvsrc");
            }
            // The component solved: the one holding the i-th focal cell (Circuitscape's check node).
            let check = inp.points.get(i).and_then(|p| node_of(p.1 * cols + p.2));
            let (volt, solved) = match check {
                Some(cn) => {
                    let s = solve_advanced(&rg.graph, &comps, &sources, &grounds, Some(comps.comp[cn]), solver.as_ref(), Some(&rg.node_cell))?;
                    let solved = !s.solved.is_empty();
                    (s.voltages, solved)
                }
                None => (vec![0.0; rg.graph.n()], false),
            };
            let r = if !solved {
                -1.0
            } else if one_to_all {
                let v = node_of(first_cell[&n]).map_or(0.0, |k| volt[k]) / strength;
                if v.abs() < 1e-12 { -1.0 } else { v }
            } else {
                // All-to-one reports 0 when some *included* partner reaches the ground, -1
                // otherwise, even though excluded ids still inject (allToOneVerify12, id 4).
                let comp = check.map(|cn| comps.comp[cn]);
                let reached = point_map.iter().enumerate().any(|(c, &id)| {
                    id != 0 && id != n && allowed(id) && node_of(c).is_some_and(|v| Some(comps.comp[v]) == comp)
                });
                if reached { 0.0 } else { -1.0 }
            };
            let name = format!("_{n}");
            if out.write_volt {
                out.write(&inp, "voltmap", &name, rg.to_cells(&volt, 0.0), out.null_volt, &mut files)?;
            }
            let mut cells_out = None;
            if out.write_cur {
                let cells = if solved {
                    let c = comps.comp[check.expect("solved")];
                    let nodes = &comps.members[c];
                    let v: Vec<f64> = nodes.iter().map(|&k| volt[k]).collect();
                    let cur = node_currents(&rg.graph, nodes, &comps.local, &v, None);
                    component_cells(&rg, nodes, &cur)
                } else {
                    vec![0.0; ncell]
                };
                if !out.cum_only {
                    out.write(&inp, "curmap", &name, cells.clone(), out.null_cur, &mut files)?;
                }
                cells_out = Some(cells);
            }
            Ok((r, cells_out, files))
        })
        .collect();
    let mut cum = vec![0.0; ncell];
    let mut maxmap = vec![f64::NEG_INFINITY; ncell];
    let mut table = String::new();
    for (i, r) in results.into_iter().enumerate() {
        let (r, cells, files) = r?;
        summary.files.extend(files);
        summary.solves += 1;
        // A focal id reported as -1 still gets its own map, but stays out of the cumulative
        // and maximum maps (allToOneVerify12: the map of id 4 is not in the cumulative map).
        if let (Some(c), true) = (cells, r != -1.0) {
            accumulate(&mut cum, &mut maxmap, &c);
        }
        table.push_str(&format!("{} {}\n", ids[i], io::fmt_num(r)));
    }
    let rp = suffixed(&out.prefix, "_resistances.out");
    io::write_bytes(&rp, table.as_bytes(), false)?;
    summary.files.push(rp);
    write_cum_max(&inp, &out, cum, maxmap, &mut summary.files)?;
    Ok(summary)
}
