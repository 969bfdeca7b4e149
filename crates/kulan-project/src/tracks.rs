//! Reading GPS fixes for the barrier-crossing analysis (BaBA): a CSV (Movebank column names by
//! default) or any OGR point layer, with their CRS, brought into the analysis CRS, and the checks
//! that catch a wrong CRS before anything is computed. Shared by `kulan crossings` and `kulan run`.

use std::path::Path;

use anyhow::{bail, Context};
use geo::{Geometry, MultiPoint, Point};
use kulan_core::Barrier;
use kulan_crossings::{build_tracks_coded, kind_classes, read_tracks_csv, time, ClassInfo, Fix, Track, TrackColumns, TrackReport};
use kulan_permeability::Model;
use kulan_io::vector::{read_layer, AttrValue, LayerRef};
use kulan_io::{AnalysisCrs, Reprojector};

pub const MOVEBANK_X: &str = "location-long";
pub const MOVEBANK_Y: &str = "location-lat";

/// Where the fixes are and how to read them.
#[derive(Debug, Clone)]
pub struct TrackSource {
    pub tracks: LayerRef,
    pub id_col: String,
    pub time_col: String,
    /// CSV only: the coordinate columns.
    pub x_col: String,
    pub y_col: String,
    /// The CRS of the coordinates, when given.
    pub tracks_crs: Option<String>,
    /// For a CSV without Movebank's lon/lat columns and no `tracks_crs`: the analysis CRS.
    pub analysis_crs: Option<String>,
    /// For a layer that declares no CRS.
    pub assume_crs: Option<String>,
}

impl TrackSource {
    /// Movebank's column names for `tracks`.
    pub fn movebank(tracks: LayerRef) -> Self {
        TrackSource {
            tracks,
            id_col: "individual-local-identifier".into(),
            time_col: "timestamp".into(),
            x_col: MOVEBANK_X.into(),
            y_col: MOVEBANK_Y.into(),
            tracks_crs: None,
            analysis_crs: None,
            assume_crs: None,
        }
    }
}

/// The tracks of a project file.
pub fn track_source(lp: &crate::LoadedProject, t: &crate::project::Tracks) -> TrackSource {
    let mut s = TrackSource::movebank(LayerRef { path: lp.resolve(t.path.get_ref()), layer: t.layer.clone() });
    let set = |dst: &mut String, v: &Option<String>| {
        if let Some(v) = v {
            dst.clone_from(v);
        }
    };
    set(&mut s.id_col, &t.id_field);
    set(&mut s.time_col, &t.time_field);
    set(&mut s.x_col, &t.x_field);
    set(&mut s.y_col, &t.y_field);
    s.tracks_crs = t.crs.as_ref().map(|c| c.get_ref().clone());
    s.analysis_crs = Some(lp.project.study.crs.get_ref().clone());
    s.assume_crs = lp.project.study.assume_crs.as_ref().map(|c| c.get_ref().clone());
    s
}

/// Fixes as read: animal names, (animal, fix) rows in input order, their CRS, notes on skipped rows.
#[derive(Debug, Clone)]
pub struct TrackRows {
    pub names: Vec<String>,
    pub rows: Vec<(u32, Fix)>,
    pub crs: String,
    pub notes: Vec<String>,
}

/// Tracks in the analysis CRS, ready for BaBA.
#[derive(Debug, Clone)]
pub struct PreparedTracks {
    pub tracks: Vec<Track>,
    pub report: TrackReport,
    /// Notes from reading and reprojecting.
    pub notes: Vec<String>,
}

/// Reads, reprojects and builds the tracks; checks they overlap the barriers within `buffer_m`.
pub fn prepare_tracks(
    src: &TrackSource,
    crs: &AnalysisCrs,
    barriers: &[Barrier],
    buffer_m: f64,
    max_speed: Option<f64>,
) -> anyhow::Result<PreparedTracks> {
    let read = read_track_rows(src)?;
    prepare_rows(read, src, crs, barriers, buffer_m, max_speed)
}

/// As [`prepare_tracks`] for rows already read.
pub fn prepare_rows(
    read: TrackRows,
    src: &TrackSource,
    crs: &AnalysisCrs,
    barriers: &[Barrier],
    buffer_m: f64,
    max_speed: Option<f64>,
) -> anyhow::Result<PreparedTracks> {
    let TrackRows { names, rows, crs: src_crs, mut notes } = read;
    let reproject = Reprojector::new(&src_crs, crs, &format!("{} (tracks)", src.tracks))?;
    let rows = to_analysis_crs(rows, &reproject, &mut notes);
    let (tracks, report) = build_tracks_coded(names, rows, max_speed);
    if tracks.is_empty() {
        bail!("{}: no usable fix", src.tracks);
    }
    check_overlap(&tracks, barriers, buffer_m, &src_crs, &crs.definition)?;
    Ok(PreparedTracks { tracks, report, notes })
}

/// CSV files are read as tracks tables (not through OGR).
pub fn is_csv(path: &Path) -> bool {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    matches!(ext.as_str(), "csv" | "tsv" | "txt")
}

/// Reads the fixes with their CRS (as given or declared) and notes on what was skipped.
pub fn read_track_rows(args: &TrackSource) -> anyhow::Result<TrackRows> {
    if is_csv(&args.tracks.path) && args.tracks.layer.is_none() {
        let cols = TrackColumns {
            id: args.id_col.clone(),
            time: args.time_col.clone(),
            x: args.x_col.clone(),
            y: args.y_col.clone(),
        };
        let csv = read_tracks_csv(&args.tracks.path, &cols)?;
        let crs = match (&args.tracks_crs, &args.analysis_crs) {
            (Some(c), _) => c.clone(),
            _ if args.x_col == MOVEBANK_X && args.y_col == MOVEBANK_Y => "EPSG:4326".to_string(),
            (None, Some(c)) => c.clone(),
            (None, None) => bail!(
                "{}: in which CRS are the columns {} and {}? Give --tracks-crs, or tracks.crs in a project (e.g. EPSG:32612, or EPSG:4326 for lon/lat)",
                args.tracks,
                args.x_col,
                args.y_col
            ),
        };
        let mut notes = csv.notes;
        notes.extend(check_lonlat(&crs, csv.rows.iter().map(|r| (r.1.x, r.1.y)), &args.tracks)?);
        return Ok(TrackRows { names: csv.names, rows: csv.rows, crs, notes });
    }
    // Any OGR point layer.
    let layer = read_layer(&args.tracks)?;
    let id = layer.field_index(&args.id_col).with_context(|| {
        format!("{}: no field '{}' for the animal id; name it with --id-col, or tracks.id_field in a project (fields: {})", layer.label(), args.id_col, layer.fields.join(", "))
    })?;
    let tc = layer.field_index(&args.time_col).with_context(|| {
        format!("{}: no field '{}' for the time; name it with --time-col, or tracks.time_field in a project (fields: {})", layer.label(), args.time_col, layer.fields.join(", "))
    })?;
    let crs = args
        .tracks_crs
        .clone()
        .or_else(|| layer.crs_wkt.clone())
        .or_else(|| args.assume_crs.clone())
        .with_context(|| format!("{}: the layer declares no CRS; give the tracks' CRS", layer.label()))?;
    let mut names: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let mut rows = Vec::with_capacity(layer.features.len());
    let (mut skipped, mut examples) = (0usize, Vec::new());
    let (mut with_offset, mut without) = (0usize, 0usize);
    for f in &layer.features {
        let p = match &f.geometry {
            Some(Geometry::Point(p)) => Some(*p),
            Some(Geometry::MultiPoint(mp)) if mp.0.len() == 1 => Some(mp.0[0]),
            _ => None,
        };
        let animal = layer.value(f, id).map(AttrValue::as_text).filter(|s| !s.trim().is_empty());
        let stamp = layer.value(f, tc).map(|v| match v {
            AttrValue::Int(n) => time::parse(&n.to_string()),
            AttrValue::Real(x) => time::parse(&x.to_string()),
            AttrValue::Text(s) => time::parse(s),
        });
        match (p, animal, stamp) {
            (Some(p), Some(a), Some(Ok(st))) if p.x().is_finite() && p.y().is_finite() => {
                match st.zone {
                    time::Zone::Offset(_) => with_offset += 1,
                    time::Zone::Naive => without += 1,
                    time::Zone::Epoch => {}
                }
                let k = *index.entry(a.clone()).or_insert_with(|| {
                    names.push(a);
                    names.len() as u32 - 1
                });
                rows.push((k, Fix::new(st.millis, p.x(), p.y())));
            }
            (p, a, s) => {
                skipped += 1;
                if examples.len() < 5 {
                    let why = if p.is_none() {
                        "no point geometry".to_string()
                    } else if a.is_none() {
                        "no animal id".to_string()
                    } else {
                        match s {
                            Some(Err(e)) => e.0,
                            _ => "no timestamp".to_string(),
                        }
                    };
                    examples.push(format!("feature {}: {why}", f.fid));
                }
            }
        }
    }
    if with_offset > 0 && without > 0 {
        bail!(
            "{}: the time field mixes timestamps with a UTC offset ({with_offset}) and without one ({without}); write all of them in one form",
            layer.label()
        );
    }
    let mut notes = Vec::new();
    if skipped > 0 {
        notes.push(format!("{skipped} feature(s) skipped ({})", examples.join("; ")));
    }
    notes.extend(check_lonlat(&crs, rows.iter().map(|r| (r.1.x, r.1.y)), &args.tracks)?);
    Ok(TrackRows { names, rows, crs, notes })
}

fn is_lonlat(crs: &str) -> bool {
    let c = crs.trim().to_ascii_uppercase();
    matches!(c.as_str(), "EPSG:4326" | "WGS84" | "OGC:CRS84" | "+PROJ=LONGLAT +DATUM=WGS84 +NO_DEFS")
        || c.starts_with("GEOGCS")
        || c.starts_with("GEOGCRS")
}

/// Coordinates that cannot be longitude/latitude in a lon/lat CRS, or look like them in a
/// projected one, are a CRS mistake: say so before anything is computed.
/// Coordinates that only look like lon/lat give a warning note instead.
pub fn check_lonlat(crs: &str, xy: impl Iterator<Item = (f64, f64)>, tracks: &LayerRef) -> anyhow::Result<Option<String>> {
    let (mut minx, mut miny, mut maxx, mut maxy) = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for (x, y) in xy {
        minx = minx.min(x);
        maxx = maxx.max(x);
        miny = miny.min(y);
        maxy = maxy.max(y);
    }
    let fits_lonlat = minx >= -180.0 && maxx <= 360.0 && miny >= -90.0 && maxy <= 90.0;
    if is_lonlat(crs) && !fits_lonlat {
        bail!(
            "{tracks}: the coordinates (x {minx:.0}..{maxx:.0}, y {miny:.0}..{maxy:.0}) are not longitude/latitude, \
             but the tracks CRS is {crs}; give the right one, e.g. EPSG:32612 (--tracks-crs, or tracks.crs in a project)"
        );
    }
    if !is_lonlat(crs) && fits_lonlat && (maxx - minx) < 10.0 && (maxy - miny) < 10.0 {
        return Ok(Some(format!(
            "warning: {tracks}: the coordinates (x {minx}..{maxx}, y {miny}..{maxy}) look like longitude/latitude \
             but are read in {crs}; if they are lon/lat, give the tracks' CRS as EPSG:4326"
        )));
    }
    Ok(None)
}

pub fn to_analysis_crs(rows: Vec<(u32, Fix)>, reproject: &Reprojector, notes: &mut Vec<String>) -> Vec<(u32, Fix)> {
    if reproject.is_identity() {
        return rows;
    }
    let mut g = Geometry::MultiPoint(MultiPoint(rows.iter().map(|r| Point::new(r.1.x, r.1.y)).collect()));
    reproject.apply(&mut g);
    let Geometry::MultiPoint(mp) = g else { unreachable!("apply keeps the geometry type") };
    let mut out = Vec::with_capacity(rows.len());
    let mut lost = 0usize;
    for (r, p) in rows.into_iter().zip(mp.0) {
        if p.x().is_finite() && p.y().is_finite() {
            out.push((r.0, Fix::new(r.1.t, p.x(), p.y())));
        } else {
            lost += 1;
        }
    }
    if lost > 0 {
        notes.push(format!("{lost} fix(es) could not be transformed into the analysis CRS and were left out"));
    }
    out
}

/// Tracks and barriers far apart are almost always a CRS mistake.
pub fn check_overlap(tracks: &[kulan_crossings::Track], barriers: &[Barrier], d: f64, src: &str, analysis: &str) -> anyhow::Result<()> {
    use geo::BoundingRect;
    let bb = barriers.iter().filter_map(|b| b.geometry.bounding_rect()).fold(None::<geo::Rect<f64>>, |acc, r| {
        Some(match acc {
            None => r,
            Some(a) => geo::Rect::new(
                geo::coord! { x: a.min().x.min(r.min().x), y: a.min().y.min(r.min().y) },
                geo::coord! { x: a.max().x.max(r.max().x), y: a.max().y.max(r.max().y) },
            ),
        })
    });
    let Some(bb) = bb else { return Ok(()) };
    let (mut minx, mut miny, mut maxx, mut maxy) = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for f in tracks.iter().flat_map(|t| &t.fixes) {
        minx = minx.min(f.x);
        maxx = maxx.max(f.x);
        miny = miny.min(f.y);
        maxy = maxy.max(f.y);
    }
    let apart = maxx < bb.min().x - d || minx > bb.max().x + d || maxy < bb.min().y - d || miny > bb.max().y + d;
    if apart {
        bail!(
            "the tracks (x {minx:.0}..{maxx:.0}, y {miny:.0}..{maxy:.0}) and the barriers (x {:.0}..{:.0}, y {:.0}..{:.0}) \
             do not overlap in the analysis CRS ({analysis}); the tracks were read in {src}: check the tracks' CRS and the \
             barrier layer's CRS",
            bb.min().x,
            bb.max().x,
            bb.min().y,
            bb.max().y
        );
    }
    Ok(())
}


/// Barrier classes for the crossing rates: the permeability model's for a species (with its p),
/// or barrier kinds. Returns the classes, each barrier's class and a label for the summary.
pub fn barrier_classes(
    species: Option<&str>,
    model: Option<&Model>,
    barriers: &[Barrier],
) -> anyhow::Result<(Vec<ClassInfo>, Vec<Option<usize>>, String)> {
    let Some(species) = species else {
        let (c, f) = kind_classes(barriers);
        return Ok((c, f, "barrier kinds (no species, so no model p)".into()));
    };
    let default;
    let model = match model {
        Some(m) => m,
        None => {
            default = Model::default_model();
            &default
        }
    };
    let key = model.species_key(species)?;
    let classes: Vec<ClassInfo> = model
        .barrier_classes
        .iter()
        .map(|c| ClassInfo { id: c.id.clone(), name: c.name.clone(), model_p: c.p.get(&key).copied() })
        .collect();
    let fc = barriers
        .iter()
        .map(|b| model.classify_barrier(&b.attrs).and_then(|c| model.barrier_classes.iter().position(|x| x.id == c.id)))
        .collect();
    Ok((classes, fc, format!("permeability model '{}' for {key}", model.name)))
}
