//! `corridors` outputs: `link_table.csv` and `links.gpkg`, as `kulan corridors` writes them.

use std::fmt::Write as _;

use anyhow::Context;
use kulan_corridors::{CorridorResult, Link};
use kulan_io::vector::{AttrValue, FieldDef, FieldType, GeometryType, Row, VectorWriter};
use kulan_io::AtomicPath;

/// Linkage Mapper's link-table columns, plus whether the link got a corridor and why not.
const COLUMNS: [&str; 11] = [
    "Link_ID",
    "From_Core",
    "To_Core",
    "Euc_Dist",
    "CW_Dist",
    "LCP_Length",
    "cwd2Euc_R",
    "cwd2Path_R",
    "Alloc_Adj",
    "Corridor",
    "Link_Info",
];

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn values(l: &Link) -> Vec<Option<AttrValue>> {
    let reachable = l.cw_dist.is_finite();
    vec![
        Some(AttrValue::Int(l.link_id as i64)),
        Some(AttrValue::Int(l.from_core)),
        Some(AttrValue::Int(l.to_core)),
        finite(l.euc_dist).map(AttrValue::Real),
        finite(l.cw_dist).map(AttrValue::Real),
        reachable.then_some(AttrValue::Real(l.lcp_length)),
        finite(l.cwd_to_euc_ratio()).map(AttrValue::Real),
        finite(l.cwd_to_path_ratio()).map(AttrValue::Real),
        Some(AttrValue::Int(l.allocation_adjacent as i64)),
        Some(AttrValue::Int(l.status.is_corridor() as i64)),
        Some(AttrValue::Text(l.status.info())),
    ]
}

pub fn write_link_table_csv(path: &std::path::Path, result: &CorridorResult) -> anyhow::Result<()> {
    let mut text = COLUMNS.join(",");
    text.push('\n');
    for l in &result.links {
        let cells: Vec<String> = values(l)
            .into_iter()
            .map(|v| match v {
                None => String::new(),
                Some(AttrValue::Text(s)) => format!("\"{}\"", s.replace('"', "\"\"")),
                Some(v) => v.as_text(),
            })
            .collect();
        writeln!(text, "{}", cells.join(","))?;
    }
    let target = AtomicPath::new(path)?;
    std::fs::write(target.temp(), text).with_context(|| format!("writing {}", path.display()))?;
    target.commit()?;
    Ok(())
}

pub fn write_links_gpkg(path: &std::path::Path, result: &CorridorResult, crs: Option<&str>) -> anyhow::Result<()> {
    let fields: Vec<FieldDef> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let ty = match i {
                0..=2 | 8 | 9 => FieldType::Int,
                10 => FieldType::Text,
                _ => FieldType::Real,
            };
            FieldDef::new(n, ty)
        })
        .collect();
    let mut w = VectorWriter::create(path)?;
    let paths: Vec<Row> = result
        .links
        .iter()
        .filter(|l| l.path.0.len() >= 2)
        .map(|l| (Some(geo::Geometry::LineString(l.path.clone())), values(l)))
        .collect();
    w.write_layer("least_cost_paths", GeometryType::LineString, crs, &fields, paths)?;
    let table: Vec<Row> = result.links.iter().map(|l| (None, values(l))).collect();
    w.write_layer("link_table", GeometryType::None, None, &fields, table)?;
    w.finish()?;
    Ok(())
}
