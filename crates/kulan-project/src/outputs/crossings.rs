//! `kulan crossings` outputs: `events.csv`/`.gpkg` (BaBA encounter events), `barriers.csv`/`.gpkg`
//! (BaRanking and crossing rates per feature) and `classes.csv` (per barrier class).

use std::path::Path;

use geo::{Geometry, Point};
use kulan_core::Barrier;
use kulan_crossings::output::{classes_table, events_table, features_table, ColType, Table, Value};
use kulan_crossings::{Analysis, ClassInfo, Track};
use kulan_io::vector::{AttrValue, FieldDef, FieldType, GeometryType, Row, VectorWriter};

/// The output names, in the order they are written.
pub const FILES: [&str; 5] = ["events.csv", "events.gpkg", "barriers.csv", "barriers.gpkg", "classes.csv"];

/// Writes the five files into `out`; the two families side by side.
pub fn write_all(
    out: &Path,
    analysis: &Analysis,
    tracks: &[Track],
    barriers: &[Barrier],
    classes: &[ClassInfo],
    feature_class: &[Option<usize>],
    crs_wkt: &str,
) -> anyhow::Result<()> {
    let (ev, fe) = rayon::join(
        || -> anyhow::Result<()> {
            let events = events_table(&analysis.baba.events, tracks, barriers);
            events.write_csv_file(&out.join("events.csv"))?;
            let points = analysis.baba.events.iter().map(|e| Some(Geometry::Point(Point::new(e.x, e.y))));
            write_gpkg(&out.join("events.gpkg"), "events", GeometryType::Point, crs_wkt, &events, points)
        },
        || -> anyhow::Result<()> {
            let features = features_table(&analysis.features, barriers, classes, feature_class);
            features.write_csv_file(&out.join("barriers.csv"))?;
            classes_table(&analysis.classes).write_csv_file(&out.join("classes.csv"))?;
            let lines = analysis.features.iter().map(|f| Some(Geometry::MultiLineString(barriers[f.feature].geometry.clone())));
            write_gpkg(&out.join("barriers.gpkg"), "barriers", GeometryType::MultiLineString, crs_wkt, &features, lines)
        },
    );
    ev?;
    fe
}

/// A table of `kulan_crossings::output` as a GeoPackage layer.
pub fn write_gpkg(
    path: &Path,
    layer: &str,
    gt: GeometryType,
    crs_wkt: &str,
    table: &Table,
    geoms: impl Iterator<Item = Option<Geometry<f64>>>,
) -> anyhow::Result<()> {
    let fields: Vec<FieldDef> = table
        .columns
        .iter()
        .map(|(n, t)| {
            FieldDef::new(
                n,
                match t {
                    ColType::Int => FieldType::Int,
                    ColType::Real => FieldType::Real,
                    ColType::Text => FieldType::Text,
                },
            )
        })
        .collect();
    let rows = table.rows.iter().zip(geoms).map(|(r, g)| -> Row {
        let vals = r
            .iter()
            .map(|v| match v {
                Value::Null => None,
                Value::Int(i) => Some(AttrValue::Int(*i)),
                Value::Real(x) => Some(AttrValue::Real(*x)),
                Value::Text(s) => Some(AttrValue::Text(s.clone())),
            })
            .collect();
        (g, vals)
    });
    let mut w = VectorWriter::create(path)?;
    w.write_layer(layer, gt, Some(crs_wkt), &fields, rows)?;
    w.finish()?;
    Ok(())
}
