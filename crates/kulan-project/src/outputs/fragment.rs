//! `fragment` outputs: `meff.csv`, `meff_delta.csv` and `patches.gpkg`, as `kulan fragment`
//! writes them.

use std::fmt::Write as _;
use std::path::Path;

use kulan_core::{FeatureId, Range};
use kulan_fragment::{seff_per_1000km2, Fragmentation, Procedure};
use kulan_io::vector::{AttrValue, FieldDef, FieldType, GeometryType, Row, VectorWriter};

use super::intersect::{csv_field, write_text};

/// Units by id, so every output lists them in the same order.
pub fn unit_order(units: &[Range]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&a, &b| units[a].id.cmp(&units[b].id));
    order
}


fn num(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v}"),
        _ => String::new(),
    }
}


/// `meff.csv`: the columns `peers.py compare` reads first, then the other measures.
pub fn write_csv(path: &Path, units: &[Range], fr: &Fragmentation, order: &[usize], p: Procedure) -> anyhow::Result<()> {
    let mut s = String::from(
        "range_id,area_m2,n_patches,patch_area_sum_m2,meff_m2,n_barrier_parts,meff_km2,\
         meff_cut_m2,meff_cbc_m2,seff_cut_per_1000km2,seff_cbc_per_1000km2,coherence,division,splitting_index\n",
    );
    for &i in order {
        let u = &fr.units[i];
        let meff = u.meff_m2(p);
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            csv_field(&units[i].id),
            num(Some(u.area_m2)),
            u.n_patches,
            num(Some(u.patch_area_sum_m2)),
            num(Some(meff)),
            u.n_barrier_parts,
            num(Some(meff / 1e6)),
            num(Some(u.meff_cut_m2)),
            num(u.meff_cbc_m2),
            num(Some(seff_per_1000km2(u.meff_cut_m2))),
            num(u.meff_cbc_m2.map(seff_per_1000km2)),
            num(Some(u.coherence())),
            num(Some(u.division())),
            num(Some(u.splitting_index())),
        );
    }
    write_text(path, &s)
}

pub fn write_delta_csv(
    path: &Path,
    units: &[Range],
    base: &Fragmentation,
    with: &Fragmentation,
    order: &[usize],
    p: Procedure,
) -> anyhow::Result<()> {
    let mut s = String::from(
        "range_id,area_m2,meff_base_m2,meff_with_delta_m2,change_m2,change_pct,n_patches_base,n_patches_with_delta,\
         meff_cut_change_m2,meff_cut_change_pct\n",
    );
    let pct = |a: f64, b: f64| if a > 0.0 { Some(100.0 * (b - a) / a) } else { None };
    for &i in order {
        let (a, b) = (&base.units[i], &with.units[i]);
        let (ma, mb) = (a.meff_m2(p), b.meff_m2(p));
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{}",
            csv_field(&units[i].id),
            num(Some(a.area_m2)),
            num(Some(ma)),
            num(Some(mb)),
            num(Some(mb - ma)),
            num(pct(ma, mb)),
            a.n_patches,
            b.n_patches,
            num(Some(b.meff_cut_m2 - a.meff_cut_m2)),
            num(pct(a.meff_cut_m2, b.meff_cut_m2)),
        );
    }
    write_text(path, &s)
}

pub fn write_patches(path: &Path, units: &[Range], layers: &[(&str, &Fragmentation)], crs_wkt: &str) -> anyhow::Result<()> {
    let all_int = units.iter().all(|u| matches!(u.id, FeatureId::Int(_)));
    let id_ty = if all_int { FieldType::Int } else { FieldType::Text };
    let id_val = |id: &FeatureId| match id {
        FeatureId::Int(n) if all_int => Some(AttrValue::Int(*n)),
        other => Some(AttrValue::Text(other.to_string())),
    };
    let fields = [
        FieldDef { name: "range_id".into(), ty: id_ty },
        FieldDef::new("patch", FieldType::Int),
        FieldDef::new("area_m2", FieldType::Real),
        FieldDef::new("complete_area_m2", FieldType::Real),
    ];
    let mut writer = VectorWriter::create(path)?;
    for (name, fr) in layers {
        let mut k = 0i64;
        let mut last = usize::MAX;
        let rows = fr.patches.iter().map(|p| -> Row {
            if p.unit != last {
                last = p.unit;
                k = 0;
            }
            k += 1;
            (
                p.polygon.clone().map(geo::Geometry::MultiPolygon),
                vec![
                    id_val(&units[p.unit].id),
                    Some(AttrValue::Int(k)),
                    Some(AttrValue::Real(p.area_m2)),
                    p.complete_area_m2.map(AttrValue::Real),
                ],
            )
        });
        writer.write_layer(name, GeometryType::MultiPolygon, Some(crs_wkt), &fields, rows)?;
    }
    writer.finish()?;
    Ok(())
}
