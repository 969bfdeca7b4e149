//! WKB: little-endian encoding of `geo` geometries (for GDAL and GeoPackage blobs), and decoding
//! of either byte order, ISO or extended Z/M codes, into 2-D `geo` geometries.

use geo::{Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};

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

/// Appends the WKB of `g` to `out`; lines, rectangles and triangles as line strings and polygons.
pub(crate) fn encode(g: &Geometry<f64>, out: &mut Vec<u8>) {
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
        Geometry::MultiLineString(m) => multi_line_string(out, m),
        Geometry::MultiPolygon(m) => multi_polygon(out, m),
        Geometry::GeometryCollection(c) => {
            header(out, 7);
            count(out, c.0.len());
            for g in &c.0 {
                encode(g, out);
            }
        }
        Geometry::Line(l) => line(out, &LineString::new(vec![l.start, l.end])),
        Geometry::Rect(r) => polygon(out, &r.to_polygon()),
        Geometry::Triangle(t) => polygon(out, &t.to_polygon()),
    }
}

pub(crate) fn multi_line_string(out: &mut Vec<u8>, m: &MultiLineString<f64>) {
    header(out, 5);
    count(out, m.0.len());
    for l in &m.0 {
        line(out, l);
    }
}

pub(crate) fn multi_polygon(out: &mut Vec<u8>, m: &MultiPolygon<f64>) {
    header(out, 6);
    count(out, m.0.len());
    for p in &m.0 {
        polygon(out, p);
    }
}

/// Why WKB could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// Truncated or malformed; the text says where.
    Corrupt(String),
    /// A well-formed geometry of a type `geo` has no equivalent for (curves, surfaces, TINs).
    Unsupported,
}

/// Decodes one WKB geometry, dropping Z and M. Trailing bytes are an error.
pub(crate) fn decode(bytes: &[u8]) -> Result<Geometry<f64>, DecodeError> {
    let mut r = Reader { bytes, pos: 0, little: true, dims: 2 };
    let g = r.geometry(0)?;
    if r.pos != bytes.len() {
        return Err(DecodeError::Corrupt(format!("{} bytes left over after the geometry", bytes.len() - r.pos)));
    }
    Ok(g)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    little: bool,
    /// Doubles per coordinate (2, 3 or 4).
    dims: usize,
}

const MAX_DEPTH: usize = 8;

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| {
            DecodeError::Corrupt(format!("truncated at byte {} of {}", self.bytes.len(), self.pos.saturating_add(n)))
        })?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let little = self.little;
        let b: [u8; 4] = self.take(4)?.try_into().expect("4 bytes");
        Ok(if little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    }

    fn count(&mut self, min_bytes_each: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        // A count larger than the bytes left could hold is corruption, not a reason to allocate.
        if n.saturating_mul(min_bytes_each) > self.bytes.len() - self.pos {
            return Err(DecodeError::Corrupt(format!("a count of {n} items does not fit in the blob")));
        }
        Ok(n)
    }

    fn coords(&mut self) -> Result<Vec<Coord<f64>>, DecodeError> {
        let stride = 8 * self.dims;
        let n = self.count(stride)?;
        let (little, raw) = (self.little, self.take(n * stride)?);
        let f = |b: &[u8]| {
            let a: [u8; 8] = b.try_into().expect("8 bytes");
            if little { f64::from_le_bytes(a) } else { f64::from_be_bytes(a) }
        };
        Ok(raw.chunks_exact(stride).map(|c| Coord { x: f(&c[0..8]), y: f(&c[8..16]) }).collect())
    }

    /// Reads a geometry header; returns the 2-D type code (1..=7) and sets byte order and dims.
    fn header(&mut self) -> Result<u32, DecodeError> {
        self.little = match self.take(1)?[0] {
            0 => false,
            1 => true,
            b => return Err(DecodeError::Corrupt(format!("byte-order mark {b} at byte {}", self.pos - 1))),
        };
        let code = self.u32()?;
        let (z, m) = (code & 0x8000_0000 != 0, code & 0x4000_0000 != 0);
        if code & 0x2000_0000 != 0 {
            self.take(4)?; // EWKB SRID
        }
        let iso = code & 0x0fff_ffff;
        let (base, iso_z, iso_m) = match iso / 1000 {
            0 => (iso, false, false),
            1 => (iso % 1000, true, false),
            2 => (iso % 1000, false, true),
            3 => (iso % 1000, true, true),
            _ => return Err(DecodeError::Corrupt(format!("unknown geometry type code {code}"))),
        };
        self.dims = 2 + (z || iso_z) as usize + (m || iso_m) as usize;
        match base {
            1..=7 => Ok(base),
            8..=17 => Err(DecodeError::Unsupported),
            _ => Err(DecodeError::Corrupt(format!("unknown geometry type code {code}"))),
        }
    }

    fn expect(&mut self, wanted: u32, depth: usize) -> Result<Geometry<f64>, DecodeError> {
        let at = self.pos;
        let g = self.geometry(depth)?;
        let got = match g {
            Geometry::Point(_) => 1,
            Geometry::LineString(_) => 2,
            Geometry::Polygon(_) => 3,
            _ => 0,
        };
        if got != wanted {
            return Err(DecodeError::Corrupt(format!("a multi-geometry holds a part of the wrong type at byte {at}")));
        }
        Ok(g)
    }

    fn geometry(&mut self, depth: usize) -> Result<Geometry<f64>, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::Corrupt("geometry collections nested too deep".into()));
        }
        let min_part = 9;
        Ok(match self.header()? {
            1 => {
                let (little, dims) = (self.little, self.dims);
                let raw = self.take(8 * dims)?;
                let f = |b: &[u8]| {
                    let a: [u8; 8] = b.try_into().expect("8 bytes");
                    if little { f64::from_le_bytes(a) } else { f64::from_be_bytes(a) }
                };
                Geometry::Point(Point::new(f(&raw[0..8]), f(&raw[8..16])))
            }
            2 => Geometry::LineString(LineString::new(self.coords()?)),
            3 => Geometry::Polygon(self.polygon()?),
            4 => {
                let n = self.count(min_part)?;
                let mut pts = Vec::with_capacity(n);
                for _ in 0..n {
                    let Geometry::Point(p) = self.expect(1, depth + 1)? else { unreachable!() };
                    pts.push(p);
                }
                Geometry::MultiPoint(MultiPoint::new(pts))
            }
            5 => {
                let n = self.count(min_part)?;
                let mut lines = Vec::with_capacity(n);
                for _ in 0..n {
                    let Geometry::LineString(l) = self.expect(2, depth + 1)? else { unreachable!() };
                    lines.push(l);
                }
                Geometry::MultiLineString(MultiLineString::new(lines))
            }
            6 => {
                let n = self.count(min_part)?;
                let mut polys = Vec::with_capacity(n);
                for _ in 0..n {
                    let Geometry::Polygon(p) = self.expect(3, depth + 1)? else { unreachable!() };
                    polys.push(p);
                }
                Geometry::MultiPolygon(MultiPolygon::new(polys))
            }
            _ => {
                let n = self.count(min_part)?;
                let mut parts = Vec::with_capacity(n);
                for _ in 0..n {
                    parts.push(self.geometry(depth + 1)?);
                }
                Geometry::GeometryCollection(GeometryCollection::new_from(parts))
            }
        })
    }

    fn polygon(&mut self) -> Result<Polygon<f64>, DecodeError> {
        let n = self.count(4)?;
        let mut rings = Vec::with_capacity(n);
        for _ in 0..n {
            rings.push(LineString::new(self.coords()?));
        }
        let mut rings = rings.into_iter();
        let exterior = rings.next().unwrap_or_else(|| LineString::new(vec![]));
        Ok(Polygon::new(exterior, rings.collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::wkt;

    #[test]
    fn decodes_what_it_encodes_and_big_endian_z() {
        let g = Geometry::GeometryCollection(GeometryCollection::new_from(vec![
            Geometry::MultiPoint(wkt!(MULTIPOINT(1. 2.,3. 4.))),
            Geometry::MultiPolygon(wkt!(MULTIPOLYGON(((0. 0.,1. 0.,1. 1.,0. 0.))))),
        ]));
        let mut out = Vec::new();
        encode(&g, &mut out);
        assert_eq!(decode(&out).unwrap(), g);
        // Big-endian ISO LineString Z (1002) with two points: Z is dropped.
        let mut be = vec![0u8];
        be.extend_from_slice(&1002u32.to_be_bytes());
        be.extend_from_slice(&2u32.to_be_bytes());
        for v in [1.0f64, 2.0, 9.0, 3.0, 4.0, 9.0] {
            be.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(decode(&be).unwrap(), Geometry::LineString(wkt!(LINESTRING(1. 2.,3. 4.))));
    }

    #[test]
    fn rejects_huge_counts_and_curves() {
        let mut line = vec![1u8];
        line.extend_from_slice(&2u32.to_le_bytes());
        line.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode(&line), Err(DecodeError::Corrupt(_))));
        let mut curve = vec![1u8];
        curve.extend_from_slice(&8u32.to_le_bytes());
        assert_eq!(decode(&curve), Err(DecodeError::Unsupported));
    }
}
