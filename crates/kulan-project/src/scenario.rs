//! A scenario's inputs: the baseline layers with its changes applied — barrier layers added or
//! removed, crossing structures placed — all in the study's CRS.

use std::path::PathBuf;

use anyhow::Context;
use geo::{Coord, Euclidean, Length, LineString, MultiLineString};
use kulan_core::geometry::OnInvalid;
use kulan_core::{Barrier, BarrierKind, BarrierStatus, FeatureId, Range};
use kulan_io::vector::{load_barriers_and_ranges, BarrierLayerSpec, LayerRef, LoadOptions, RangeLayerSpec};
use kulan_io::{AnalysisCrs, CrsOptions};
use kulan_permeability::{Crossing, CrossingAttrs};

use crate::check::LoadedProject;
use crate::inputs::read_crossings;
use crate::project::{Scenario, UnitsLayer};

/// A fence opening: over `width_m` around `at` the barrier does not cut the landscape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gap {
    pub at: Coord<f64>,
    pub width_m: f64,
}

/// Everything the analyses of one scenario read.
pub struct ScenarioInputs {
    pub name: String,
    pub title: String,
    pub crs: AnalysisCrs,
    pub barriers: Vec<Barrier>,
    pub ranges: Vec<Range>,
    pub crossings: Vec<Crossing>,
    pub gaps: Vec<Gap>,
    /// Indices into `barriers` of those the scenario adds.
    pub added: Vec<usize>,
    /// One line per layer read (features kept, repaired, skipped).
    pub layer_reports: Vec<String>,
}

/// The files a scenario reads (for the manifest and the stage cache).
pub fn scenario_files(lp: &LoadedProject, s: &Scenario) -> Vec<PathBuf> {
    let p = &lp.project;
    let mut files: Vec<PathBuf> = barrier_specs(lp, s).iter().map(|b| b.path.clone()).collect();
    files.extend(range_specs(lp).iter().map(|r| r.path.clone()));
    files.extend(s.crossings.iter().map(|c| lp.resolve(c.path.get_ref())));
    if let Some(m) = &p.species.model {
        files.push(lp.resolve(m.get_ref()));
    }
    files
}

fn barrier_specs(lp: &LoadedProject, s: &Scenario) -> Vec<BarrierLayerSpec> {
    let removed: Vec<&String> = s.remove_barriers.iter().map(|r| r.get_ref()).collect();
    let mut specs: Vec<BarrierLayerSpec> = lp
        .project
        .barriers
        .iter()
        .filter(|(name, _)| !removed.contains(name))
        .map(|(_, spec)| BarrierLayerSpec { path: lp.resolve(&spec.get_ref().path), ..spec.get_ref().clone() })
        .collect();
    specs.extend(s.add_barriers.iter().map(|spec| BarrierLayerSpec { path: lp.resolve(&spec.get_ref().path), ..spec.get_ref().clone() }));
    specs
}

fn range_specs(lp: &LoadedProject) -> Vec<RangeLayerSpec> {
    lp.project.ranges.iter().map(|r| RangeLayerSpec { path: lp.resolve(&r.get_ref().path), ..r.get_ref().clone() }).collect()
}

/// How the project's layers are read: into the study CRS, invalid geometry as the study says.
fn load_options(lp: &LoadedProject) -> anyhow::Result<LoadOptions> {
    let p = &lp.project;
    Ok(LoadOptions {
        crs: CrsOptions {
            target: Some(p.study.crs.get_ref().clone()),
            assume: p.study.assume_crs.as_ref().map(|a| a.get_ref().clone()),
        },
        on_invalid: p.study.on_invalid.get_ref().parse::<OnInvalid>().map_err(anyhow::Error::msg)?,
    })
}

/// Reads a polygon layer of reporting units into the study CRS (read as ranges: id, polygons).
pub fn load_units_layer(lp: &LoadedProject, u: &UnitsLayer) -> anyhow::Result<Vec<Range>> {
    let spec = RangeLayerSpec {
        path: lp.resolve(u.path.get_ref()),
        layer: u.layer.clone(),
        id_field: u.id_field.clone(),
        ..Default::default()
    };
    let loaded = load_barriers_and_ranges(&[], std::slice::from_ref(&spec), &load_options(lp)?)
        .with_context(|| format!("analyses.fragment.units_layer {}", spec.path.display()))?;
    Ok(loaded.ranges)
}

/// Reads a scenario's layers into the study CRS and applies its changes.
pub fn load_scenario(lp: &LoadedProject, s: &Scenario) -> anyhow::Result<ScenarioInputs> {
    let p = &lp.project;
    let options = load_options(lp)?;
    let specs = barrier_specs(lp, s);
    let n_base = specs.len() - s.add_barriers.len();
    let mut loaded = load_barriers_and_ranges(&specs, &range_specs(lp), &options)
        .with_context(|| format!("scenario {}: reading its layers", s.name.get_ref()))?;
    // Barriers a scenario adds are built in it, whatever status their file gives.
    let mut seen = 0usize;
    let mut added = Vec::new();
    let counts: Vec<usize> = loaded.reports.iter().take(specs.len()).map(|r| r.kept).collect();
    for (layer, count) in counts.iter().enumerate() {
        if layer >= n_base {
            for b in &mut loaded.barriers[seen..seen + count] {
                if b.attrs.status == BarrierStatus::Planned {
                    b.attrs.status = BarrierStatus::Existing;
                }
            }
            added.extend(seen..seen + count);
        }
        seen += count;
    }
    let mut crossings = Vec::new();
    let mut gaps = Vec::new();
    for layer in &s.crossings {
        let lr = LayerRef { path: lp.resolve(layer.path.get_ref()), layer: layer.layer.clone() };
        let read = read_crossings(std::slice::from_ref(&lr), &loaded.crs, None)?;
        if layer.break_cuts {
            gaps.extend(read.iter().filter_map(|c| gap_of(c, p.study.cell_m)));
        }
        crossings.extend(read);
    }
    for along in &s.crossings_along {
        let kind: BarrierKind = along.kind.get_ref().parse().map_err(anyhow::Error::msg)?;
        let mut k = 0i64;
        for b in loaded.barriers.iter().filter(|b| b.kind() == kind) {
            for ls in &b.geometry.0 {
                for at in points_along(ls, along.spacing_m) {
                    k += 1;
                    let c = Crossing {
                        id: FeatureId::Text(format!("{}-{k}", along.crossing_type)),
                        geometry: geo::Geometry::Point(at.into()),
                        attrs: CrossingAttrs {
                            crossing_type: along.crossing_type.clone(),
                            width_m: along.width_m,
                            height_m: None,
                        },
                    };
                    if along.break_cuts {
                        gaps.extend(gap_of(&c, p.study.cell_m));
                    }
                    crossings.push(c);
                }
            }
        }
    }
    Ok(ScenarioInputs {
        name: s.name.get_ref().clone(),
        title: if s.title.is_empty() { s.name.get_ref().clone() } else { s.title.clone() },
        crs: loaded.crs,
        barriers: loaded.barriers,
        ranges: loaded.ranges,
        crossings,
        gaps,
        added,
        layer_reports: loaded.reports.iter().map(|r| r.summary()).collect(),
    })
}

/// A point crossing as a gap of its `width_m` (one cell when not given).
fn gap_of(c: &Crossing, cell_m: f64) -> Option<Gap> {
    use geo::Centroid;
    let at = c.geometry.centroid()?.0;
    Some(Gap { at, width_m: c.attrs.width_m.filter(|w| *w > 0.0).unwrap_or(cell_m) })
}

/// Points every `spacing` metres along a line, the first half a spacing from its start.
pub fn points_along(ls: &LineString<f64>, spacing: f64) -> Vec<Coord<f64>> {
    let mut out = Vec::new();
    let mut next = spacing / 2.0;
    let mut walked = 0.0;
    for seg in ls.lines() {
        let len = Euclidean.length(&seg);
        while len > 0.0 && next <= walked + len {
            let t = (next - walked) / len;
            out.push(Coord { x: seg.start.x + t * seg.dx(), y: seg.start.y + t * seg.dy() });
            next += spacing;
        }
        walked += len;
    }
    out
}

/// The line with the stretch of `width_m` around each gap within `snap_m` of it taken out.
///
/// ```
/// use geo::{line_string, MultiLineString};
/// use kulan_project::scenario::{remove_gaps, Gap};
/// let line = MultiLineString::new(vec![line_string![(x: 0.0, y: 0.0), (x: 100.0, y: 0.0)]]);
/// let cut = remove_gaps(&line, &[Gap { at: (50.0, 3.0).into(), width_m: 10.0 }], 5.0);
/// assert_eq!(cut.0.len(), 2);
/// assert!((cut.0[0].0.last().unwrap().x - 45.0).abs() < 1e-9);
/// assert!((cut.0[1].0[0].x - 55.0).abs() < 1e-9);
/// ```
pub fn remove_gaps(lines: &MultiLineString<f64>, gaps: &[Gap], snap_m: f64) -> MultiLineString<f64> {
    let mut out = Vec::new();
    for ls in &lines.0 {
        // Intervals of arc length to drop.
        let mut drop: Vec<(f64, f64)> = Vec::new();
        for g in gaps {
            if let Some((s, d)) = locate(ls, g.at) {
                if d <= snap_m {
                    drop.push((s - g.width_m / 2.0, s + g.width_m / 2.0));
                }
            }
        }
        if drop.is_empty() {
            out.push(ls.clone());
            continue;
        }
        drop.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total = Euclidean.length(ls);
        let mut keep = Vec::new();
        let mut from = 0.0;
        for (a, b) in drop {
            if a > from {
                keep.push((from, a.min(total)));
            }
            from = from.max(b);
        }
        if from < total {
            keep.push((from, total));
        }
        out.extend(keep.into_iter().filter(|(a, b)| b > a).map(|(a, b)| substring(ls, a, b)));
    }
    MultiLineString::new(out)
}

/// Arc length along the line of the point nearest `p`, and the distance to it.
fn locate(ls: &LineString<f64>, p: Coord<f64>) -> Option<(f64, f64)> {
    let mut best: Option<(f64, f64)> = None;
    let mut walked = 0.0;
    for seg in ls.lines() {
        let len2 = seg.dx() * seg.dx() + seg.dy() * seg.dy();
        let t = if len2 > 0.0 { (((p.x - seg.start.x) * seg.dx() + (p.y - seg.start.y) * seg.dy()) / len2).clamp(0.0, 1.0) } else { 0.0 };
        let q = Coord { x: seg.start.x + t * seg.dx(), y: seg.start.y + t * seg.dy() };
        let d = ((p.x - q.x).powi(2) + (p.y - q.y).powi(2)).sqrt();
        let len = len2.sqrt();
        if best.map_or(true, |b| d < b.1) {
            best = Some((walked + t * len, d));
        }
        walked += len;
    }
    best
}

/// The part of the line between arc lengths `a` and `b`.
fn substring(ls: &LineString<f64>, a: f64, b: f64) -> LineString<f64> {
    let mut pts = Vec::new();
    let mut walked = 0.0;
    for seg in ls.lines() {
        let len = Euclidean.length(&seg);
        let (s0, s1) = (walked, walked + len);
        if s1 >= a && s0 <= b && len > 0.0 {
            let at = |s: f64| {
                let t = ((s - s0) / len).clamp(0.0, 1.0);
                Coord { x: seg.start.x + t * seg.dx(), y: seg.start.y + t * seg.dy() }
            };
            if pts.is_empty() {
                pts.push(at(a.max(s0)));
            }
            pts.push(at(b.min(s1)));
        }
        walked = s1;
    }
    LineString::new(pts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::line_string;

    #[test]
    fn points_along_are_evenly_spaced_across_vertices() {
        let ls = line_string![(x: 0.0, y: 0.0), (x: 1500.0, y: 0.0), (x: 1500.0, y: 1500.0)];
        let pts = points_along(&ls, 1000.0);
        assert_eq!(pts, vec![Coord { x: 500.0, y: 0.0 }, Coord { x: 1500.0, y: 0.0 }, Coord { x: 1500.0, y: 1000.0 }]);
    }

    #[test]
    fn gaps_far_from_the_line_change_nothing_and_overlapping_gaps_merge() {
        let line = MultiLineString::new(vec![line_string![(x: 0.0, y: 0.0), (x: 100.0, y: 0.0), (x: 100.0, y: 100.0)]]);
        assert_eq!(remove_gaps(&line, &[Gap { at: (50.0, 50.0).into(), width_m: 10.0 }], 5.0), line);
        let gaps = [Gap { at: (98.0, 0.0).into(), width_m: 10.0 }, Gap { at: (100.0, 4.0).into(), width_m: 10.0 }];
        let cut = remove_gaps(&line, &gaps, 1.0);
        assert_eq!(cut.0.len(), 2);
        assert_eq!(cut.0[0].0.last().unwrap(), &Coord { x: 93.0, y: 0.0 });
        assert_eq!(cut.0[1].0[0], Coord { x: 100.0, y: 9.0 });
        let total: f64 = cut.0.iter().map(|l| Euclidean.length(l)).sum();
        assert!((total - 184.0).abs() < 1e-9, "{total}");
    }
}
