//! Turning what users' files hold into geometry the algorithms can trust.
//!
//! Real barrier and range layers carry NaN coordinates, empty parts, repeated vertices, unclosed
//! or self-crossing rings. Each input geometry is checked here; the caller decides per run whether
//! problems are repaired, the feature skipped, or the run stopped ([`OnInvalid`]).

use std::fmt;
use std::str::FromStr;

use geo::{Area, Coord, Geometry, LineString, MakeValid, MultiLineString, MultiPolygon, Polygon, Validation};

/// What to do with a feature whose geometry is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnInvalid {
    /// Fix what can be fixed (drop bad coordinates and empty parts, rebuild bad polygons).
    #[default]
    Repair,
    /// Leave the feature out.
    Skip,
    /// Stop with an error naming the feature.
    Fail,
}

impl FromStr for OnInvalid {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "repair" => Ok(OnInvalid::Repair),
            "skip" => Ok(OnInvalid::Skip),
            "fail" => Ok(OnInvalid::Fail),
            other => Err(format!("'{other}': expected repair, skip or fail")),
        }
    }
}

/// Why a geometry was not usable as it stood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The feature has no geometry, or only empty parts.
    Empty,
    /// Some coordinates are NaN or infinite (often a failed reprojection).
    NonFiniteCoordinates,
    /// A part has fewer distinct points than its type needs.
    DegeneratePart,
    /// A polygon ring crosses itself or another ring, or parts overlap.
    InvalidPolygon(String),
    /// The geometry is of a type this layer cannot hold (e.g. points in a barrier layer).
    WrongType(&'static str),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Empty => f.write_str("empty geometry"),
            Problem::NonFiniteCoordinates => f.write_str("NaN or infinite coordinates"),
            Problem::DegeneratePart => f.write_str("a part with too few distinct points"),
            Problem::InvalidPolygon(why) => write!(f, "invalid polygon ({why})"),
            Problem::WrongType(t) => write!(f, "{t} geometry where lines or polygons were expected"),
        }
    }
}

/// A checked geometry and the problems found (and repaired) on the way.
#[derive(Debug, Clone)]
pub struct Checked<G> {
    pub geometry: G,
    pub problems: Vec<Problem>,
}

/// Checks a geometry to be used as a line barrier and repairs it.
///
/// Polygons are taken by their outlines (a fenced pasture is a closed fence). Non-finite
/// coordinates split a line, repeated vertices are dropped, and parts with fewer than two distinct
/// points vanish. Returns `Err` when nothing usable is left.
///
/// ```
/// use geo::{line_string, Geometry};
/// use kulan_core::geometry::clean_lines;
/// let g = Geometry::LineString(line_string![(x: 0., y: 0.), (x: 0., y: 0.), (x: f64::NAN, y: 1.), (x: 2., y: 0.), (x: 3., y: 0.)]);
/// let checked = clean_lines(&g).unwrap();
/// assert_eq!(checked.geometry.0.len(), 1); // the NaN split off a one-point part, which was dropped
/// assert!(!checked.problems.is_empty());
/// ```
pub fn clean_lines(geometry: &Geometry<f64>) -> Result<Checked<MultiLineString<f64>>, Problem> {
    let mut parts: Vec<&LineString<f64>> = Vec::new();
    let mut outlines: Vec<LineString<f64>> = Vec::new();
    collect_lines(geometry, &mut parts, &mut outlines)?;
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for part in parts.into_iter().chain(outlines.iter()) {
        let mut current: Vec<Coord<f64>> = Vec::with_capacity(part.0.len());
        for &c in &part.0 {
            if !(c.x.is_finite() && c.y.is_finite()) {
                push_problem(&mut problems, Problem::NonFiniteCoordinates);
                flush_line(&mut current, &mut out, &mut problems);
                continue;
            }
            if current.last() != Some(&c) {
                current.push(c);
            }
        }
        flush_line(&mut current, &mut out, &mut problems);
    }
    if out.is_empty() {
        return Err(problems.into_iter().next().unwrap_or(Problem::Empty));
    }
    Ok(Checked { geometry: MultiLineString::new(out), problems })
}

fn collect_lines<'a>(
    g: &'a Geometry<f64>,
    parts: &mut Vec<&'a LineString<f64>>,
    outlines: &mut Vec<LineString<f64>>,
) -> Result<(), Problem> {
    match g {
        Geometry::LineString(l) => parts.push(l),
        Geometry::MultiLineString(m) => parts.extend(m.0.iter()),
        Geometry::Line(l) => outlines.push(LineString::new(vec![l.start, l.end])),
        Geometry::Polygon(p) => outlines.extend(polygon_rings(p)),
        Geometry::MultiPolygon(m) => outlines.extend(m.0.iter().flat_map(polygon_rings)),
        Geometry::Rect(r) => outlines.extend(polygon_rings(&r.to_polygon())),
        Geometry::Triangle(t) => outlines.extend(polygon_rings(&t.to_polygon())),
        Geometry::GeometryCollection(c) => {
            for member in c.iter() {
                collect_lines(member, parts, outlines)?;
            }
        }
        Geometry::Point(_) | Geometry::MultiPoint(_) => return Err(Problem::WrongType("point")),
    }
    Ok(())
}

fn polygon_rings(p: &Polygon<f64>) -> Vec<LineString<f64>> {
    std::iter::once(p.exterior().clone()).chain(p.interiors().iter().cloned()).collect()
}

fn flush_line(current: &mut Vec<Coord<f64>>, out: &mut Vec<LineString<f64>>, problems: &mut Vec<Problem>) {
    match current.len() {
        0 => {}
        1 => push_problem(problems, Problem::DegeneratePart),
        _ => out.push(LineString::new(std::mem::take(current))),
    }
    current.clear();
}

fn push_problem(problems: &mut Vec<Problem>, p: Problem) {
    if !problems.contains(&p) {
        problems.push(p);
    }
}

/// Checks a geometry to be used as an area (range, reporting unit) and repairs it.
///
/// Rings are closed, non-finite coordinates and repeated vertices dropped, rings with no area
/// removed, and polygons that are still invalid (self-crossing rings, overlapping parts, holes
/// outside their shell) are rebuilt with the odd-even rule of Ledoux et al. (2014).
pub fn clean_polygons(geometry: &Geometry<f64>) -> Result<Checked<MultiPolygon<f64>>, Problem> {
    let polygons: Vec<&Polygon<f64>> = match geometry {
        Geometry::Polygon(p) => vec![p],
        Geometry::MultiPolygon(m) => m.0.iter().collect(),
        Geometry::GeometryCollection(c) => c
            .iter()
            .filter_map(|g| match g {
                Geometry::Polygon(p) => Some(p),
                _ => None,
            })
            .collect(),
        Geometry::Point(_) | Geometry::MultiPoint(_) => return Err(Problem::WrongType("point")),
        Geometry::LineString(_) | Geometry::MultiLineString(_) | Geometry::Line(_) => {
            return Err(Problem::WrongType("line"))
        }
        Geometry::Rect(r) => return Ok(Checked { geometry: MultiPolygon::new(vec![r.to_polygon()]), problems: vec![] }),
        Geometry::Triangle(t) => {
            return Ok(Checked { geometry: MultiPolygon::new(vec![t.to_polygon()]), problems: vec![] })
        }
    };
    let mut problems = Vec::new();
    let mut kept = Vec::new();
    for p in polygons {
        let Some(exterior) = clean_ring(p.exterior(), &mut problems) else { continue };
        let interiors = p.interiors().iter().filter_map(|r| clean_ring(r, &mut problems)).collect();
        kept.push(Polygon::new(exterior, interiors));
    }
    if kept.is_empty() {
        return Err(problems.into_iter().next().unwrap_or(Problem::Empty));
    }
    let mut mp = MultiPolygon::new(kept);
    if super::validity::is_clearly_valid(&mp) {
        return Ok(Checked { geometry: mp, problems });
    }
    if let Some(first) = mp.validation_errors().into_iter().next() {
        push_problem(&mut problems, Problem::InvalidPolygon(first.to_string()));
        mp = mp.make_valid().map_err(|e| Problem::InvalidPolygon(format!("cannot be repaired: {e}")))?;
        if mp.0.is_empty() || mp.unsigned_area() == 0.0 {
            return Err(Problem::InvalidPolygon("nothing with area remains after repair".into()));
        }
    }
    Ok(Checked { geometry: mp, problems })
}

fn clean_ring(ring: &LineString<f64>, problems: &mut Vec<Problem>) -> Option<LineString<f64>> {
    let mut coords: Vec<Coord<f64>> = Vec::with_capacity(ring.0.len() + 1);
    for &c in &ring.0 {
        if !(c.x.is_finite() && c.y.is_finite()) {
            push_problem(problems, Problem::NonFiniteCoordinates);
            continue;
        }
        if coords.last() != Some(&c) {
            coords.push(c);
        }
    }
    if coords.len() > 1 && coords.first() == coords.last() {
        coords.pop();
    }
    let mut ring = LineString::new(coords);
    if ring.0.len() < 3 || all_collinear(&ring.0) {
        push_problem(problems, Problem::DegeneratePart);
        return None;
    }
    ring.close();
    Some(ring)
}

/// True when the points span no area at all (a bowtie has zero signed area but is not flat).
fn all_collinear(pts: &[Coord<f64>]) -> bool {
    let a = pts[0];
    let Some(&b) = pts.iter().find(|&&p| p != a) else { return true };
    pts.iter().all(|&c| (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x) == 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{line_string, polygon, wkt};

    #[test]
    fn lines_lose_repeats_and_nan_but_keep_their_parts() {
        let g: Geometry<f64> = wkt!(MULTILINESTRING((0. 0.,1. 0.,1. 0.,2. 0.),(5. 5.,6. 6.))).into();
        let c = clean_lines(&g).unwrap();
        assert_eq!(c.geometry.0[0].0.len(), 3);
        assert_eq!(c.geometry.0.len(), 2);
        assert!(c.problems.is_empty());
    }

    #[test]
    fn all_nan_line_is_an_error() {
        let g = Geometry::LineString(line_string![(x: f64::NAN, y: 0.), (x: f64::INFINITY, y: 1.)]);
        assert_eq!(clean_lines(&g).unwrap_err(), Problem::NonFiniteCoordinates);
        let empty = Geometry::MultiLineString(MultiLineString::<f64>::new(vec![]));
        assert_eq!(clean_lines(&empty).unwrap_err(), Problem::Empty);
    }

    #[test]
    fn points_are_the_wrong_type() {
        let g = Geometry::Point(geo::Point::new(1.0, 2.0));
        assert!(matches!(clean_lines(&g), Err(Problem::WrongType(_))));
        assert!(matches!(clean_polygons(&g), Err(Problem::WrongType(_))));
    }

    #[test]
    fn polygon_outline_becomes_a_closed_line() {
        let g: Geometry<f64> = polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.)].into();
        let c = clean_lines(&g).unwrap();
        assert_eq!(c.geometry.0[0].0.len(), 4);
    }

    #[test]
    fn bowtie_is_rebuilt_into_two_triangles() {
        let g: Geometry<f64> = wkt!(POLYGON((0. 0.,10. 10.,10. 0.,0. 10.,0. 0.))).into();
        let c = clean_polygons(&g).unwrap();
        assert!(matches!(c.problems[0], Problem::InvalidPolygon(_)));
        assert_eq!(c.geometry.0.len(), 2);
        assert!((c.geometry.unsigned_area() - 50.0).abs() < 1e-9);
    }

    #[test]
    fn unclosed_ring_and_zero_area_hole() {
        let shell = LineString::new(vec![
            Coord { x: 0.0, y: 0.0 },
            Coord { x: 4.0, y: 0.0 },
            Coord { x: 4.0, y: 4.0 },
            Coord { x: 0.0, y: 4.0 },
        ]);
        let flat_hole = line_string![(x: 1., y: 1.), (x: 2., y: 1.), (x: 3., y: 1.), (x: 1., y: 1.)];
        let g = Geometry::Polygon(Polygon::new(shell, vec![flat_hole]));
        let c = clean_polygons(&g).unwrap();
        assert_eq!(c.geometry.unsigned_area(), 16.0);
        assert_eq!(c.problems, vec![Problem::DegeneratePart]);
    }

    #[test]
    fn overlapping_parts_are_merged() {
        let g: Geometry<f64> = wkt!(MULTIPOLYGON(((0. 0.,2. 0.,2. 2.,0. 2.,0. 0.)),((1. 0.,3. 0.,3. 2.,1. 2.,1. 0.)))).into();
        let c = clean_polygons(&g).unwrap();
        assert!(!c.problems.is_empty());
        assert!(c.geometry.is_valid());
    }
}
