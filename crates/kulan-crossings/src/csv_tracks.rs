//! Reading tracks from CSV: Movebank column names by default, any columns by name.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use crate::time::{self, Zone};
use crate::track::Fix;
use crate::CrossingsError;

/// Which CSV columns hold what.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackColumns {
    pub id: String,
    pub time: String,
    pub x: String,
    pub y: String,
}

impl Default for TrackColumns {
    /// Movebank's names.
    fn default() -> Self {
        TrackColumns {
            id: "individual-local-identifier".into(),
            time: "timestamp".into(),
            x: "location-long".into(),
            y: "location-lat".into(),
        }
    }
}

/// Fixes as read, before grouping and sorting, with what was skipped.
#[derive(Debug, Clone, Default)]
pub struct CsvTracks {
    /// Animal ids; `rows` refer to them by index.
    pub names: Vec<String>,
    pub rows: Vec<(u32, Fix)>,
    /// Rows skipped for a missing or unreadable id, time or coordinate.
    pub skipped: usize,
    /// Line numbers (1-based, header = 1) of the first few skipped rows, with the reason.
    pub skipped_examples: Vec<String>,
    /// Distinct UTC offsets seen in the time column, in seconds (e.g. -25200 and -21600 across DST).
    pub offsets: Vec<i32>,
    /// How the time column was written.
    pub time_kind: TimeKind,
    pub notes: Vec<String>,
}

/// How the timestamps of a file were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeKind {
    #[default]
    None,
    /// Every value carries an offset or `Z`.
    WithOffset,
    /// No value carries an offset: taken as UTC (Movebank's convention).
    Naive,
    /// Numbers: seconds since the Unix epoch.
    EpochSeconds,
}

fn is_missing(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || t.eq_ignore_ascii_case("na") || t.eq_ignore_ascii_case("nan") || t.eq_ignore_ascii_case("null")
}

fn column(headers: &csv::StringRecord, name: &str, what: &str, flag: &str) -> Result<usize, CrossingsError> {
    headers.iter().position(|h| h.trim() == name).ok_or_else(|| {
        let have: Vec<&str> = headers.iter().collect();
        CrossingsError::Input(format!(
            "the tracks file has no column '{name}' for the {what}; name it with {flag} (columns: {})",
            have.join(", ")
        ))
    })
}

/// Reads a tracks CSV file (comma, semicolon or tab separated: sniffed from the header line).
pub fn read_tracks_csv(path: &Path, cols: &TrackColumns) -> Result<CsvTracks, CrossingsError> {
    let mut f = std::fs::File::open(path)
        .map_err(|e| CrossingsError::Input(format!("{}: cannot open the tracks file: {e}", path.display())))?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).map_err(|e| CrossingsError::Input(format!("{}: {e}", path.display())))?;
    read_tracks_csv_bytes(&bytes, cols).map_err(|e| match e {
        CrossingsError::Input(m) => CrossingsError::Input(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// As [`read_tracks_csv`], from memory.
pub fn read_tracks_csv_bytes(bytes: &[u8], cols: &TrackColumns) -> Result<CsvTracks, CrossingsError> {
    let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let count = |c: u8| first_line.iter().filter(|&&b| b == c).count();
    let delim = [b',', b';', b'\t'].into_iter().max_by_key(|&c| count(c)).unwrap_or(b',');
    let mut rdr = csv::ReaderBuilder::new().delimiter(delim).flexible(true).from_reader(bytes);
    let headers = rdr.headers().map_err(|e| CrossingsError::Input(format!("cannot read the header line: {e}")))?.clone();
    let ci = column(&headers, &cols.id, "animal id", "--id-col")?;
    let ct = column(&headers, &cols.time, "timestamp", "--time-col")?;
    let cx = column(&headers, &cols.x, "x coordinate (or longitude)", "--x-col")?;
    let cy = column(&headers, &cols.y, "y coordinate (or latitude)", "--y-col")?;

    let mut out = CsvTracks::default();
    let mut ids: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut rec = csv::ByteRecord::new();
    let mut line = 1usize;
    let (mut n_offset, mut n_naive, mut n_epoch) = (0usize, 0usize, 0usize);
    let mut first_of = [None::<(usize, String)>, None, None];
    let skip = |out: &mut CsvTracks, line: usize, why: String| {
        out.skipped += 1;
        if out.skipped_examples.len() < 5 {
            out.skipped_examples.push(format!("line {line}: {why}"));
        }
    };
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(CrossingsError::Input(format!("CSV error after line {line}: {e}"))),
        }
        line += 1;
        let get = |i: usize| std::str::from_utf8(rec.get(i).unwrap_or_default()).unwrap_or("");
        let id = get(ci).trim();
        if is_missing(id) {
            skip(&mut out, line, "no animal id".into());
            continue;
        }
        let (xs, ys, ts) = (get(cx), get(cy), get(ct));
        if is_missing(xs) || is_missing(ys) {
            skip(&mut out, line, "missing coordinate".into());
            continue;
        }
        let (x, y) = match (xs.trim().parse::<f64>(), ys.trim().parse::<f64>()) {
            (Ok(x), Ok(y)) if x.is_finite() && y.is_finite() => (x, y),
            _ => {
                skip(&mut out, line, format!("coordinates '{xs}', '{ys}' are not numbers"));
                continue;
            }
        };
        if is_missing(ts) {
            skip(&mut out, line, "missing timestamp".into());
            continue;
        }
        let st = match time::parse(ts) {
            Ok(s) => s,
            Err(e) => {
                skip(&mut out, line, e.0);
                continue;
            }
        };
        let k = match st.zone {
            Zone::Offset(o) => {
                if !out.offsets.contains(&o) {
                    out.offsets.push(o);
                }
                n_offset += 1;
                0
            }
            Zone::Naive => {
                n_naive += 1;
                1
            }
            Zone::Epoch => {
                n_epoch += 1;
                2
            }
        };
        if first_of[k].is_none() {
            first_of[k] = Some((line, ts.to_string()));
        }
        let idx = match ids.get(id.as_bytes()) {
            Some(&k) => k,
            None => {
                let k = out.names.len() as u32;
                out.names.push(id.to_string());
                ids.insert(id.as_bytes().to_vec(), k);
                k
            }
        };
        out.rows.push((idx, Fix::new(st.millis, x, y)));
    }
    let kinds = [n_offset > 0, n_naive > 0, n_epoch > 0].iter().filter(|&&b| b).count();
    if kinds > 1 {
        let ex: Vec<String> = first_of.iter().flatten().map(|(l, s)| format!("line {l}: '{s}'")).collect();
        return Err(CrossingsError::Input(format!(
            "the time column '{}' mixes timestamps with a UTC offset, without one, and/or plain numbers \
             ({n_offset} with offset, {n_naive} without, {n_epoch} numeric; e.g. {}). Their instants cannot be \
             compared safely: write all of them in one form (best: UTC with 'Z' or an explicit offset)",
            cols.time,
            ex.join(", ")
        )));
    }
    out.time_kind = if n_offset > 0 {
        TimeKind::WithOffset
    } else if n_naive > 0 {
        TimeKind::Naive
    } else if n_epoch > 0 {
        TimeKind::EpochSeconds
    } else {
        TimeKind::None
    };
    out.offsets.sort();
    if out.offsets.len() > 1 {
        let o: Vec<String> = out.offsets.iter().map(|&s| fmt_offset(s)).collect();
        out.notes.push(format!(
            "timestamps carry {} different UTC offsets ({}), e.g. across daylight saving; all were converted to UTC",
            o.len(),
            o.join(", ")
        ));
    }
    if out.time_kind == TimeKind::Naive {
        out.notes.push("timestamps have no UTC offset and were taken as UTC (Movebank's convention)".into());
    }
    if out.skipped > 0 {
        out.notes.push(format!(
            "{} row(s) skipped for a missing or unreadable id, time or coordinate ({})",
            out.skipped,
            out.skipped_examples.join("; ")
        ));
    }
    if out.rows.is_empty() {
        return Err(CrossingsError::Input("the tracks file holds no usable fix".into()));
    }
    Ok(out)
}

fn fmt_offset(s: i32) -> String {
    let sign = if s < 0 { '-' } else { '+' };
    let a = s.abs();
    format!("{sign}{:02}:{:02}", a / 3600, (a / 60) % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> TrackColumns {
        TrackColumns { id: "id".into(), time: "t".into(), x: "x".into(), y: "y".into() }
    }

    #[test]
    fn reads_and_skips_bad_rows() {
        let csv = "id,t,x,y\na,2014-01-01T00:00:00Z,1,2\na,2014-01-01T02:00:00-07:00,NA,2\n,2014-01-01T00:00:00Z,1,2\nb,2014-07-01T00:00:00-06:00,3,4\nb,,3,4\n";
        let r = read_tracks_csv_bytes(csv.as_bytes(), &cols()).unwrap();
        assert_eq!(r.rows.len(), 2);
        assert_eq!(r.names, ["a", "b"]);
        assert_eq!(r.skipped, 3);
        assert_eq!(r.offsets, [-21600, 0]);
        assert!(r.notes.iter().any(|n| n.contains("different UTC offsets")));
    }

    #[test]
    fn mixed_zones_are_an_error() {
        let csv = "id;t;x;y\na;2014-01-01T00:00:00Z;1;2\na;2014-01-01 02:00:00;1;2\n";
        let e = read_tracks_csv_bytes(csv.as_bytes(), &cols()).unwrap_err().to_string();
        assert!(e.contains("mixes timestamps"), "{e}");
    }

    #[test]
    fn missing_column_names_the_flag() {
        let e = read_tracks_csv_bytes(b"id,time,x,y\n", &cols()).unwrap_err().to_string();
        assert!(e.contains("--time-col") && e.contains("id, time, x, y"), "{e}");
    }
}
