//! Little-endian WKB encoding of `geo` geometries, handed to GDAL in one call per feature
//! (much faster than building OGR geometries point by point).

use geo::{Coord, Geometry, LineString, Polygon};

fn header(out: &mut Vec<u8>, code: u32) {
    out.push(1);
    out.extend_from_slice(&code.to_le_bytes());
}

fn count(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn coords(out: &mut Vec<u8>, cs: &[Coord<f64>]) {
    count(out, cs.len());
    for c in cs {
        out.extend_from_slice(&c.x.to_le_bytes());
        out.extend_from_slice(&c.y.to_le_bytes());
    }
}

fn line(out: &mut Vec<u8>, l: &LineString<f64>) {
    header(out, 2);
    coords(out, &l.0);
}

fn polygon(out: &mut Vec<u8>, p: &Polygon<f64>) {
    header(out, 3);
    count(out, 1 + p.interiors().len());
    coords(out, &p.exterior().0);
    for r in p.interiors() {
        coords(out, &r.0);
    }
}

/// Appends the WKB of `g` to `out`. Returns false for types Kulan never writes (Rect, Triangle, Line).
pub(crate) fn encode(g: &Geometry<f64>, out: &mut Vec<u8>) -> bool {
    match g {
        Geometry::Point(p) => {
            header(out, 1);
            out.extend_from_slice(&p.x().to_le_bytes());
            out.extend_from_slice(&p.y().to_le_bytes());
        }
        Geometry::LineString(l) => line(out, l),
        Geometry::Polygon(p) => polygon(out, p),
        Geometry::MultiPoint(m) => {
            header(out, 4);
            count(out, m.0.len());
            for p in &m.0 {
                encode(&Geometry::Point(*p), out);
            }
        }
        Geometry::MultiLineString(m) => {
            header(out, 5);
            count(out, m.0.len());
            for l in &m.0 {
                line(out, l);
            }
        }
        Geometry::MultiPolygon(m) => {
            header(out, 6);
            count(out, m.0.len());
            for p in &m.0 {
                polygon(out, p);
            }
        }
        Geometry::GeometryCollection(c) => {
            header(out, 7);
            count(out, c.0.len());
            for g in &c.0 {
                if !encode(g, out) {
                    return false;
                }
            }
        }
        Geometry::Line(_) | Geometry::Rect(_) | Geometry::Triangle(_) => return false,
    }
    true
}
