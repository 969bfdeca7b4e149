//! GeoPackage geometry blobs: a short header (magic, flags, SRS id, envelope) followed by WKB.

use geo::Geometry;

use super::super::wkb;
use super::super::write::RowGeometry;

/// Flags byte: little-endian, envelope `[minx, maxx, miny, maxy]`.
const FLAGS_LE_XY_ENVELOPE: u8 = 0b0000_0011;
/// Flags byte: little-endian, no envelope, empty geometry.
const FLAGS_LE_EMPTY: u8 = 0b0001_0001;

/// Appends the blob of `g` to `out` and returns its envelope `[minx, maxx, miny, maxy]`, or
/// `None` for an empty geometry.
pub(crate) fn encode(g: &impl RowGeometry, srs_id: i32, out: &mut Vec<u8>) -> Option<[f64; 4]> {
    let envelope = g.bounds();
    out.extend_from_slice(b"GP");
    out.push(0);
    out.push(if envelope.is_some() { FLAGS_LE_XY_ENVELOPE } else { FLAGS_LE_EMPTY });
    out.extend_from_slice(&srs_id.to_le_bytes());
    if let Some(env) = envelope {
        for v in env {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    g.write_wkb(out);
    envelope
}

/// What is wrong with a blob that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BlobError {
    /// Not a GeoPackage blob, or truncated; the text says which.
    Corrupt(String),
    /// A valid blob of a type Kulan reads through OGR instead (curves, TINs, extended blobs).
    Unsupported,
}

/// Decodes a blob into a 2-D `geo` geometry (Z and M dropped, as OGR's conversion does).
/// An empty geometry decodes to `None`.
pub(crate) fn decode(blob: &[u8]) -> Result<Option<Geometry<f64>>, BlobError> {
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return Err(BlobError::Corrupt("it does not start with the GeoPackage magic 'GP'".into()));
    }
    let flags = blob[3];
    if flags & 0b0010_0000 != 0 {
        return Err(BlobError::Unsupported);
    }
    let envelope_doubles = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 4,
        2 | 3 => 6,
        4 => 8,
        other => return Err(BlobError::Corrupt(format!("unknown envelope code {other}"))),
    };
    let start = 8 + 8 * envelope_doubles;
    if blob.len() < start {
        return Err(BlobError::Corrupt("the header is truncated".into()));
    }
    if flags & 0b0001_0000 != 0 {
        return Ok(None);
    }
    wkb::decode(&blob[start..]).map(Some).map_err(|e| match e {
        wkb::DecodeError::Unsupported => BlobError::Unsupported,
        wkb::DecodeError::Corrupt(why) => BlobError::Corrupt(why),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::wkt;

    #[test]
    fn round_trips_lines_and_polygons() {
        let geoms: Vec<Geometry<f64>> = vec![
            Geometry::MultiLineString(wkt!(MULTILINESTRING((0. 0.,1. 2.,3. -1.),(5. 5.,6. 6.)))),
            Geometry::MultiPolygon(wkt!(MULTIPOLYGON(((0. 0.,10. 0.,10. 10.,0. 0.),(1. 1.,2. 1.,2. 2.,1. 1.))))),
            Geometry::Point(wkt!(POINT(1.5 -2.5))),
            Geometry::LineString(wkt!(LINESTRING(0. 0.,1. 1.))),
        ];
        for g in geoms {
            let mut blob = Vec::new();
            let env = encode(&g, 32648, &mut blob).unwrap();
            let r = geo::BoundingRect::bounding_rect(&g).unwrap();
            assert_eq!(&blob[4..8], &32648i32.to_le_bytes());
            assert_eq!(env, [r.min().x, r.max().x, r.min().y, r.max().y]);
            assert_eq!(decode(&blob).unwrap(), Some(g));
        }
    }

    #[test]
    fn empty_geometry_has_the_empty_flag_and_decodes_to_none() {
        let g = Geometry::MultiLineString(geo::MultiLineString::<f64>::new(vec![]));
        let mut blob = Vec::new();
        assert_eq!(encode(&g, 0, &mut blob), None);
        assert_eq!(blob[3] & 0b0001_0000, 0b0001_0000);
        assert_eq!(decode(&blob).unwrap(), None);
    }

    #[test]
    fn corrupt_blobs_are_reported_not_misread() {
        let mut blob = Vec::new();
        encode(&Geometry::LineString(wkt!(LINESTRING(0. 0.,1. 1.,2. 0.))), 4326, &mut blob);
        assert!(matches!(decode(b"XX\0\x01\0\0\0\0"), Err(BlobError::Corrupt(_))));
        assert!(matches!(decode(&blob[..6]), Err(BlobError::Corrupt(_))));
        assert!(matches!(decode(&blob[..blob.len() - 3]), Err(BlobError::Corrupt(_))));
        let mut extended = blob.clone();
        extended[3] |= 0b0010_0000;
        assert_eq!(decode(&extended), Err(BlobError::Unsupported));
    }
}
