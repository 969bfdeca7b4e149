//! `intersect` outputs: `pairs.csv`, `totals.csv` and `intersections.gpkg`, as `kulan intersect`
//! writes them.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use kulan_core::intersect::{ClippedBarrier, RangeIntersection};
use kulan_core::{BarrierKind, FeatureId};
use kulan_io::vector::{AttrValue, FieldDef, FieldType, GeometryType, Loaded, RowOf, VectorWriter};
use kulan_io::AtomicPath;
use rayon::prelude::*;

use super::csv_writer::{push_f64, push_u64, write_ordered, PackedStrings};

/// Ranges by id, so every output lists them in the same order.
pub fn range_order(loaded: &Loaded) -> Vec<usize> {
    let mut order: Vec<usize> = (0..loaded.ranges.len()).collect();
    order.sort_by(|&a, &b| loaded.ranges[a].id.cmp(&loaded.ranges[b].id));
    order
}

/// Each barrier's place in id order, so that pairs sort by a number rather than by id.
struct BarrierRanks(Vec<u32>);

impl BarrierRanks {
    fn new(loaded: &Loaded) -> Self {
        let mut by_id: Vec<u32> = (0..loaded.barriers.len() as u32).collect();
        by_id.par_sort_by(|&a, &b| loaded.barriers[a as usize].id.cmp(&loaded.barriers[b as usize].id));
        let mut rank = vec![0u32; by_id.len()];
        for (r, &b) in by_id.iter().enumerate() {
            rank[b as usize] = r as u32;
        }
        BarrierRanks(rank)
    }

    /// The order that lists `pairs` by barrier id, or `None` when they already are (as when
    /// ids grow with the barriers' order in the file).
    fn order_if_unsorted(&self, pairs: &[ClippedBarrier]) -> Option<Vec<u32>> {
        if pairs.windows(2).all(|w| self.0[w[0].barrier] < self.0[w[1].barrier]) {
            return None;
        }
        let mut idx: Vec<u32> = (0..pairs.len() as u32).collect();
        idx.sort_unstable_by_key(|&i| self.0[pairs[i as usize].barrier]);
        Some(idx)
    }

    /// Pairs of one range, sorted by barrier id.
    fn sorted_pairs<'a>(&self, r: &'a RangeIntersection) -> Vec<&'a ClippedBarrier> {
        let mut pairs: Vec<_> = r.pairs.iter().collect();
        pairs.sort_unstable_by_key(|p| self.0[p.barrier]);
        pairs
    }
}

pub(crate) fn write_text(path: &Path, text: &str) -> anyhow::Result<()> {
    write_chunks(path, std::iter::once(text.to_string()))
}

/// Writes text chunks in order to `path`, atomically.
pub(crate) fn write_chunks(path: &Path, chunks: impl IntoIterator<Item = String>) -> anyhow::Result<()> {
    let target = AtomicPath::new(path)?;
    let file = std::fs::File::create(target.temp()).with_context(|| format!("cannot write {}", path.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    for chunk in chunks {
        w.write_all(chunk.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    }
    w.flush().with_context(|| format!("cannot write {}", path.display()))?;
    drop(w);
    target.commit()?;
    Ok(())
}

/// Quotes a CSV field when it needs it.
pub(crate) fn csv_field(id: &FeatureId) -> String {
    let s = id.to_string();
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Rows of `pairs.csv` formatted as one task, at most.
const ROWS_PER_TASK: usize = 16_384;

/// A slice of one range's rows of `pairs.csv`.
struct PairRows<'a> {
    /// The range's id and a comma.
    range_id: String,
    /// The range's pairs, and the order (by barrier id) they are listed in when it is not theirs.
    pairs: &'a [ClippedBarrier],
    sorted: Option<&'a [u32]>,
    rows: std::ops::Range<usize>,
}

pub fn write_pairs_csv(path: &Path, loaded: &Loaded, results: &[RangeIntersection], order: &[usize]) -> anyhow::Result<()> {
    let ranks = BarrierRanks::new(loaded);
    // Ids are formatted once, not once per pair.
    let barrier_ids = PackedStrings::new(loaded.barriers.iter().map(|b| csv_field(&b.id)));
    let kinds: Vec<String> = BarrierKind::ALL.iter().map(|k| format!(",{k},")).collect();
    let kind_of: Vec<u8> =
        loaded.barriers.iter().map(|b| BarrierKind::ALL.iter().position(|&k| k == b.kind()).unwrap_or(0) as u8).collect();
    let sorted: Vec<Option<Vec<u32>>> = order.par_iter().map(|&ri| ranks.order_if_unsorted(&results[ri].pairs)).collect();
    let mut tasks = Vec::new();
    for (&ri, sorted) in order.iter().zip(&sorted) {
        let n = results[ri].pairs.len();
        for lo in (0..n).step_by(ROWS_PER_TASK) {
            tasks.push(PairRows {
                range_id: format!("{},", csv_field(&loaded.ranges[ri].id)),
                pairs: &results[ri].pairs,
                sorted: sorted.as_deref(),
                rows: lo..n.min(lo + ROWS_PER_TASK),
            });
        }
    }
    write_ordered(path, "range_id,barrier_id,length_m,kind,boundary_crossings\n", &tasks, |t, out| {
        out.reserve(t.rows.len() * (t.range_id.len() + 40));
        for row in t.rows.clone() {
            let p = &t.pairs[t.sorted.map_or(row, |s| s[row] as usize)];
            out.extend_from_slice(t.range_id.as_bytes());
            out.extend_from_slice(barrier_ids.get(p.barrier));
            out.push(b',');
            push_f64(out, p.length);
            out.extend_from_slice(kinds[kind_of[p.barrier] as usize].as_bytes());
            push_u64(out, p.boundary_crossings.into());
            out.push(b'\n');
        }
    })
}

pub fn write_totals_csv(path: &Path, loaded: &Loaded, results: &[RangeIntersection], order: &[usize]) -> anyhow::Result<()> {
    let mut out = String::from("range_id,length_m,n_barriers,area_m2,density_km_per_km2");
    for k in BarrierKind::ALL {
        write!(out, ",length_{k}_m")?;
    }
    out.push('\n');
    for &ri in order {
        let s = &results[ri].summary;
        write!(out, "{},{},{},{},{}", csv_field(&loaded.ranges[ri].id), s.length, s.n_barriers, s.area, s.density_km_per_km2())?;
        for l in s.length_by_kind {
            write!(out, ",{l}")?;
        }
        out.push('\n');
    }
    write_text(path, &out)
}

fn id_value(id: &FeatureId) -> Option<AttrValue> {
    Some(match id {
        FeatureId::Int(n) => AttrValue::Int(*n),
        FeatureId::Text(s) => AttrValue::Text(s.clone()),
    })
}

fn id_field_type<'a>(mut ids: impl Iterator<Item = &'a FeatureId>) -> FieldType {
    if ids.all(|id| matches!(id, FeatureId::Int(_))) {
        FieldType::Int
    } else {
        FieldType::Text
    }
}

/// Above this many pairs the `pairs` layer is written without an R-tree, which would cost
/// more than the rest of the run (QGIS can add one: Layer Properties › Source › Create Spatial Index).
const SPATIAL_INDEX_LIMIT: usize = 50_000;

pub fn write_gpkg(path: &Path, loaded: &Loaded, results: &[RangeIntersection], order: &[usize]) -> anyhow::Result<()> {
    let range_id_type = id_field_type(loaded.ranges.iter().map(|r| &r.id));
    let barrier_id_type = id_field_type(loaded.barriers.iter().map(|b| &b.id));
    let as_type = |id: &FeatureId, ty: FieldType| match ty {
        FieldType::Text => Some(AttrValue::Text(id.to_string())),
        _ => id_value(id),
    };
    let ranks = BarrierRanks::new(loaded);
    let mut writer = VectorWriter::create(path)?;
    let pair_fields = [
        FieldDef { name: "range_id".into(), ty: range_id_type },
        FieldDef { name: "barrier_id".into(), ty: barrier_id_type },
        FieldDef::new("kind", FieldType::Text),
        FieldDef::new("length_m", FieldType::Real),
        FieldDef::new("boundary_crossings", FieldType::Int),
    ];
    let pair_rows = order.iter().flat_map(|&ri| {
        let range_id = &loaded.ranges[ri].id;
        ranks.sorted_pairs(&results[ri]).into_iter().map(move |p| -> RowOf<&geo::MultiLineString> {
            let b = &loaded.barriers[p.barrier];
            (
                p.geometry.as_ref(),
                vec![
                    as_type(range_id, range_id_type),
                    as_type(&b.id, barrier_id_type),
                    Some(AttrValue::Text(b.kind().to_string())),
                    Some(AttrValue::Real(p.length)),
                    Some(AttrValue::Int(p.boundary_crossings as i64)),
                ],
            )
        })
    });
    let n_pairs: usize = results.iter().map(|r| r.pairs.len()).sum();
    writer.write_layer_with(
        "pairs",
        GeometryType::MultiLineString,
        Some(&loaded.crs.wkt),
        &pair_fields,
        pair_rows,
        n_pairs < SPATIAL_INDEX_LIMIT,
    )?;

    let mut range_fields = vec![
        FieldDef { name: "range_id".into(), ty: range_id_type },
        FieldDef::new("species", FieldType::Text),
        FieldDef::new("season", FieldType::Text),
        FieldDef::new("area_m2", FieldType::Real),
        FieldDef::new("length_m", FieldType::Real),
        FieldDef::new("n_barriers", FieldType::Int),
        FieldDef::new("density_km_per_km2", FieldType::Real),
    ];
    range_fields.extend(BarrierKind::ALL.iter().map(|k| FieldDef { name: format!("length_{k}_m"), ty: FieldType::Real }));
    let range_rows = order.iter().map(|&ri| -> RowOf<&geo::MultiPolygon> {
        let range = &loaded.ranges[ri];
        let s = &results[ri].summary;
        let mut values = vec![
            as_type(&range.id, range_id_type),
            range.species.clone().map(AttrValue::Text),
            range.season.clone().map(AttrValue::Text),
            Some(AttrValue::Real(s.area)),
            Some(AttrValue::Real(s.length)),
            Some(AttrValue::Int(s.n_barriers as i64)),
            Some(AttrValue::Real(s.density_km_per_km2())),
        ];
        values.extend(s.length_by_kind.iter().map(|&l| Some(AttrValue::Real(l))));
        (Some(&range.geometry), values)
    });
    writer.write_layer("ranges", GeometryType::MultiPolygon, Some(&loaded.crs.wkt), &range_fields, range_rows)?;
    writer.finish()?;
    Ok(())
}
