//! Reading a GeoPackage feature table straight through SQLite, several feature-id ranges at once,
//! each decoding its own geometry blobs.
//!
//! GDAL has already opened the layer (name, fields, CRS); only the rows come from here. Anything
//! this reader does not handle exactly as OGR would (views, curved geometries, date fields) makes
//! it step aside so the caller reads the layer through OGR instead.

use std::path::Path;

use rayon::prelude::*;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::blob::{self, BlobError};
use crate::error::IoError;
use crate::vector::read::{AttrValue, RawFeature};

/// Which table and columns to read.
pub(crate) struct TableColumns<'a> {
    pub table: &'a str,
    pub fid: &'a str,
    /// The geometry column, if the table has one.
    pub geometry: Option<&'a str>,
    pub fields: &'a [String],
}

/// Why the fast path did not produce the features.
pub(crate) enum Declined {
    /// The caller should read the layer through OGR.
    UseOgr,
    /// The file is damaged; the message names the feature.
    Error(IoError),
}

/// Features per parallel chunk, at least.
const MIN_CHUNK: i64 = 4096;

/// Every feature of the table, in feature-id order.
pub(crate) fn read_features(path: &Path, label: &str, cols: &TableColumns<'_>) -> Result<Vec<RawFeature>, Declined> {
    let conn = open(path)?;
    let (min, max): (Option<i64>, Option<i64>) = conn
        .query_row(&format!("SELECT MIN({0}), MAX({0}) FROM {1}", quote(cols.fid), quote(cols.table)), [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(|_| Declined::UseOgr)?;
    let (Some(min), Some(max)) = (min, max) else { return Ok(Vec::new()) };
    let threads = rayon::current_num_threads().max(1) as i64;
    let span = max.saturating_sub(min).saturating_add(1);
    let step = (span / (threads * 4)).max(MIN_CHUNK);
    let mut bounds = Vec::new();
    let mut lo = min;
    while lo <= max {
        let hi = lo.saturating_add(step);
        bounds.push((lo, hi));
        if hi == i64::MAX {
            break;
        }
        lo = hi;
    }
    drop(conn);
    let parts: Vec<Vec<RawFeature>> =
        bounds.into_par_iter().map(|(lo, hi)| read_chunk(path, label, cols, lo, hi)).collect::<Result<_, _>>()?;
    Ok(parts.into_iter().flatten().collect())
}

/// Whether `table` is a GeoPackage feature table whose geometry has the undefined geographic
/// (0) or cartesian (-1) system, i.e. no CRS at all. False for anything else, other formats included.
pub(crate) fn undefined_srs(path: &Path, table: &str) -> bool {
    let is_gpkg = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gpkg"));
    let Some(conn) = is_gpkg.then(|| open(path).ok()).flatten() else { return false };
    conn.query_row("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?1", [table], |r| r.get::<_, i64>(0))
        .is_ok_and(|id| id == 0 || id == -1)
}

fn open(path: &Path) -> Result<Connection, Declined> {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|_| Declined::UseOgr)
}

fn read_chunk(path: &Path, label: &str, cols: &TableColumns<'_>, lo: i64, hi: i64) -> Result<Vec<RawFeature>, Declined> {
    let conn = open(path)?;
    let mut select = vec![quote(cols.fid)];
    select.push(cols.geometry.map(quote).unwrap_or_else(|| "NULL".into()));
    select.extend(cols.fields.iter().map(|f| quote(f)));
    let fid = quote(cols.fid);
    let sql = format!(
        "SELECT {} FROM {} WHERE {fid} >= ?1 AND {fid} < ?2 ORDER BY {fid}",
        select.join(", "),
        quote(cols.table)
    );
    let mut stmt = conn.prepare(&sql).map_err(|_| Declined::UseOgr)?;
    let mut rows = stmt.query([lo, hi]).map_err(|_| Declined::UseOgr)?;
    let mut out = Vec::new();
    let corrupt = |fid: i64, why: String| {
        Declined::Error(IoError::Input(format!(
            "{label}: feature {fid}: the geometry is damaged ({why}); repair the file (e.g. ogr2ogr -skipfailures) or delete the feature"
        )))
    };
    while let Some(row) = rows.next().map_err(|e| Declined::Error(IoError::Input(format!("{label}: cannot read the table: {e}"))))? {
        let fid: i64 = row.get(0).map_err(|_| Declined::UseOgr)?;
        let geometry = match row.get_ref(1).map_err(|_| Declined::UseOgr)? {
            ValueRef::Null => None,
            ValueRef::Blob(b) => match blob::decode(b) {
                Ok(g) => g,
                Err(BlobError::Unsupported) => return Err(Declined::UseOgr),
                Err(BlobError::Corrupt(why)) => return Err(corrupt(fid, why)),
            },
            _ => return Err(corrupt(fid, "the geometry column holds a value that is not a blob".into())),
        };
        let values = (0..cols.fields.len())
            .map(|i| match row.get_ref(i + 2) {
                Ok(ValueRef::Integer(n)) => Some(AttrValue::Int(n)),
                Ok(ValueRef::Real(x)) => Some(AttrValue::Real(x)),
                Ok(ValueRef::Text(t)) => Some(AttrValue::Text(String::from_utf8_lossy(t).into_owned())),
                _ => None,
            })
            .collect();
        out.push(RawFeature { fid: fid as u64, geometry, values });
    }
    Ok(out)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
