//! Output tables: one row per event, per barrier feature, per barrier class. Typed cells, so the
//! same table can be written as CSV here or as a GeoPackage layer by the caller.

use std::io::Write;
use std::path::Path;

use kulan_core::Barrier;

use crate::baba::{Event, EventClass};
use crate::ranking::{ClassInfo, ClassSummary, FeatureSummary};
use crate::time::format_utc;
use crate::track::Track;
use crate::CrossingsError;

/// A cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// The type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Int,
    Real,
    Text,
}

/// Rows with named, typed columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<(String, ColType)>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    fn new(cols: &[(&str, ColType)]) -> Self {
        Table { columns: cols.iter().map(|(n, t)| (n.to_string(), *t)).collect(), rows: Vec::new() }
    }

    /// Writes the table as CSV (empty cell for null, `NaN` for an undefined number, reals with
    /// full precision).
    pub fn write_csv<W: Write>(&self, w: W) -> Result<(), CrossingsError> {
        let mut wr = csv::Writer::from_writer(w);
        let err = |e: csv::Error| CrossingsError::Write { path: "CSV".into(), message: e.to_string() };
        wr.write_record(self.columns.iter().map(|c| c.0.as_str())).map_err(err)?;
        for r in &self.rows {
            wr.write_record(r.iter().map(|v| match v {
                Value::Null => String::new(),
                Value::Int(i) => i.to_string(),
                Value::Real(x) if x.is_nan() => "NaN".to_string(),
                Value::Real(x) => format!("{x}"),
                Value::Text(s) => s.clone(),
            }))
            .map_err(err)?;
        }
        wr.flush().map_err(|e| CrossingsError::Write { path: "CSV".into(), message: e.to_string() })
    }

    /// Writes the table to a CSV file, atomically (temporary file, then rename).
    pub fn write_csv_file(&self, path: &Path) -> Result<(), CrossingsError> {
        let werr = |m: String| CrossingsError::Write { path: path.display().to_string(), message: m };
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = path.file_name().ok_or_else(|| werr("not a file name".into()))?.to_string_lossy().into_owned();
        let tmp = dir.join(format!(".tmp-{}-{name}", std::process::id()));
        let f = std::fs::File::create(&tmp).map_err(|e| werr(e.to_string()))?;
        let res = self.write_csv(std::io::BufWriter::new(f));
        if let Err(e) = res {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            werr(e.to_string())
        })
    }
}

fn opt(v: Option<f64>) -> Value {
    v.map_or(Value::Null, Value::Real)
}

fn ids(barriers: &[Barrier], fs: impl Iterator<Item = u32>) -> String {
    fs.map(|f| barriers[f as usize].id.to_string()).collect::<Vec<_>>().join(";")
}

/// One row per event. The point of each row is (`x`, `y`), the event's first fix.
pub fn events_table(events: &[Event], tracks: &[Track], barriers: &[Barrier]) -> Table {
    use ColType::*;
    let mut t = Table::new(&[
        ("animal", Text),
        ("burst_id", Text),
        ("start", Text),
        ("end", Text),
        ("duration_h", Real),
        ("n_fixes", Int),
        ("class", Text),
        ("cross", Int),
        ("str_i", Real),
        ("str_mean", Real),
        ("str_sd", Real),
        ("n_windows", Int),
        ("x", Real),
        ("y", Real),
        ("barrier_ids", Text),
        ("start_barrier_ids", Text),
        ("crossed_ids", Text),
        ("crossing_known", Int),
    ]);
    for e in events {
        t.rows.push(vec![
            Value::Text(tracks[e.track].animal.clone()),
            Value::Text(e.burst_id.clone()),
            Value::Text(format_utc(e.start)),
            Value::Text(format_utc(e.end)),
            Value::Real(e.duration_h),
            Value::Int(e.members.len() as i64),
            Value::Text(e.class.as_str().into()),
            Value::Int(e.cross as i64),
            opt(e.str_i),
            opt(e.str_mean),
            opt(e.str_sd),
            if e.str_mean.is_some() || e.n_windows > 0 { Value::Int(e.n_windows as i64) } else { Value::Null },
            Value::Real(e.x),
            Value::Real(e.y),
            Value::Text(ids(barriers, e.barriers.iter().copied())),
            Value::Text(ids(barriers, e.start_barriers.iter().copied())),
            Value::Text(ids(barriers, e.crossed.iter().map(|c| c.0))),
            Value::Int(e.crossing_known as i64),
        ]);
    }
    t
}

/// One row per barrier feature that any event met, with its class and the class's model p.
pub fn features_table(
    features: &[FeatureSummary],
    barriers: &[Barrier],
    classes: &[ClassInfo],
    feature_class: &[Option<usize>],
) -> Table {
    use ColType::*;
    let mut cols: Vec<(&str, ColType)> = vec![("id", Text), ("kind", Text), ("class", Text), ("length_m", Real)];
    for c in EventClass::ALL {
        cols.push((c.as_str(), Int));
    }
    cols.extend([
        ("unique_ind", Int),
        ("total_enc", Int),
        ("index", Real),
        ("enc_events", Int),
        ("enc_animals", Int),
        ("crossing_events", Int),
        ("crossings", Int),
        ("crossing_rate", Real),
        ("model_p", Real),
    ]);
    let mut t = Table::new(&cols);
    for s in features {
        let b = &barriers[s.feature];
        let len: f64 = b
            .geometry
            .0
            .iter()
            .map(|l| l.0.windows(2).map(|w| (w[1].x - w[0].x).hypot(w[1].y - w[0].y)).sum::<f64>())
            .sum();
        let class = feature_class.get(s.feature).copied().flatten().map(|c| &classes[c]);
        let mut row = vec![
            Value::Text(b.id.to_string()),
            Value::Text(b.kind().as_str().into()),
            class.map_or(Value::Null, |c| Value::Text(c.id.clone())),
            Value::Real(len),
        ];
        row.extend(s.by_class.iter().map(|&n| Value::Int(n as i64)));
        row.extend([
            Value::Int(s.unique_ind as i64),
            Value::Int(s.total_enc as i64),
            opt(s.index),
            Value::Int(s.enc_events as i64),
            Value::Int(s.enc_animals as i64),
            Value::Int(s.crossing_events as i64),
            Value::Int(s.crossings as i64),
            opt(s.crossing_rate),
            opt(class.and_then(|c| c.model_p)),
        ]);
        t.rows.push(row);
    }
    t
}

/// One row per barrier class: observed crossing rate next to the model's p.
pub fn classes_table(classes: &[ClassSummary]) -> Table {
    use ColType::*;
    let mut cols: Vec<(&str, ColType)> = vec![
        ("class", Text),
        ("name", Text),
        ("features", Int),
        ("features_encountered", Int),
        ("enc_events", Int),
        ("animals", Int),
        ("crossing_events", Int),
        ("crossing_rate", Real),
        ("rate_low95", Real),
        ("rate_high95", Real),
        ("model_p", Real),
    ];
    for c in EventClass::ALL {
        cols.push((c.as_str(), Int));
    }
    let mut t = Table::new(&cols);
    for c in classes {
        let mut row = vec![
            Value::Text(c.class.id.clone()),
            Value::Text(c.class.name.clone()),
            Value::Int(c.features as i64),
            Value::Int(c.features_encountered as i64),
            Value::Int(c.enc_events as i64),
            Value::Int(c.animals as i64),
            Value::Int(c.crossing_events as i64),
            opt(c.crossing_rate),
            opt(c.rate_low),
            opt(c.rate_high),
            opt(c.class.model_p),
        ];
        row.extend(c.by_class.iter().map(|&n| Value::Int(n as i64)));
        t.rows.push(row);
    }
    t
}
