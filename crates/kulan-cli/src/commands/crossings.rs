//! `kulan crossings`: barrier behaviour from GPS telemetry (BaBA), BaRanking, and observed
//! crossing rates per barrier feature and per barrier class next to the permeability model's p.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use geo::{Geometry, MultiPoint, Point};
use kulan_core::Barrier;
use kulan_crossings::output::{classes_table, events_table, features_table, ColType, Table, Value};
use kulan_crossings::{
    analyse, build_tracks_coded, kind_classes, read_tracks_csv, time, BabaParams, ClassInfo, EventClass, Fix,
    TrackColumns, TrackReport,
};
use kulan_io::vector::{read_layer, AttrValue, FieldDef, FieldType, GeometryType, LayerRef, Row, VectorWriter};
use kulan_io::Reprojector;
use kulan_permeability::Model;

use super::inputs::InputArgs;

const MOVEBANK_X: &str = "location-long";
const MOVEBANK_Y: &str = "location-lat";

#[derive(clap::Args)]
pub struct Args {
    /// GPS fixes: a CSV file (Movebank column names by default) or any OGR point layer (FILE[:LAYER]).
    #[arg(long, value_name = "FILE[:LAYER]")]
    pub tracks: LayerRef,
    /// Barrier layers (FILE or FILE:LAYER); repeat for several.
    #[arg(long, required = true, num_args = 1.., value_name = "FILE[:LAYER]")]
    pub barriers: Vec<LayerRef>,
    /// BaBA's d: a fix within this many metres of a barrier is an encounter.
    #[arg(long, value_name = "METRES")]
    pub buffer: f64,
    /// Output folder (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Longest short encounter (Bounce / Quick_Cross), hours.
    #[arg(long, default_value_t = 4.0, value_name = "H")]
    pub b_time: f64,
    /// Encounters longer than this are Trapped, hours.
    #[arg(long, default_value_t = 36.0, value_name = "H")]
    pub p_time: f64,
    /// Window around an event for the animal's usual straightness, hours.
    #[arg(long, default_value_t = 168.0, value_name = "H")]
    pub w: f64,
    /// Gaps inside an encounter up to this many hours are bridged.
    #[arg(long, default_value_t = 0.0, value_name = "H")]
    pub tolerance: f64,
    /// Crossings allowed in a Back_n_forth or Trace event.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub max_cross: usize,
    /// Width of the Average_Movement band in standard deviations.
    #[arg(long, default_value_t = 1.0, value_name = "K")]
    pub sd_multiplier: f64,
    /// Fix interval in hours (default: the most frequent interval, the same for all animals).
    #[arg(long, value_name = "H")]
    pub interval: Option<f64>,
    /// Leave in-buffer fixes out of the straightness windows.
    #[arg(long)]
    pub exclude_buffer: bool,
    /// Round fix intervals to whole hours when finding the most frequent one.
    #[arg(long)]
    pub round_fixes: bool,
    /// Run animals with different fix intervals as separate groups (b/p-time rounded up to
    /// multiples of each group's interval) instead of stopping.
    #[arg(long)]
    pub group_by_interval: bool,
    /// BaRanking: features with fewer encounters get no index.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub min_total_enc: usize,
    /// Tracks: column (or field) with the animal id.
    #[arg(long, default_value = "individual-local-identifier", value_name = "NAME")]
    pub id_col: String,
    /// Tracks: column with the timestamp (ISO 8601, with or without offset, or epoch seconds).
    #[arg(long, default_value = "timestamp", value_name = "NAME")]
    pub time_col: String,
    /// Tracks (CSV): column with x or longitude.
    #[arg(long, default_value = MOVEBANK_X, value_name = "NAME")]
    pub x_col: String,
    /// Tracks (CSV): column with y or latitude.
    #[arg(long, default_value = MOVEBANK_Y, value_name = "NAME")]
    pub y_col: String,
    /// CRS of the track coordinates. Default: the layer's own; for CSV EPSG:4326 with Movebank's
    /// lon/lat columns, otherwise the analysis CRS (--crs).
    #[arg(long, value_name = "CRS")]
    pub tracks_crs: Option<String>,
    /// Steps faster than this (m/s) are reported as impossible; 0 turns the check off.
    #[arg(long, default_value_t = 30.0, value_name = "M/S")]
    pub max_speed: f64,
    /// Species whose permeability model p is written next to the observed crossing rates;
    /// barriers are then grouped by the model's barrier classes (default: by kind).
    #[arg(long)]
    pub species: Option<String>,
    /// Permeability model (TOML); default: Kulan's literature model. Needs --species.
    #[arg(long, value_name = "TOML")]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let t0 = Instant::now();
    if !(args.buffer > 0.0 && args.buffer.is_finite()) {
        bail!("--buffer must be a positive number of metres, not {}", args.buffer);
    }
    let timings = std::env::var_os("KULAN_TIMINGS").is_some();
    let stage = |name: &str, since: Instant| {
        if timings {
            eprintln!("  [{name}: {:.2} s]", since.elapsed().as_secs_f64());
        }
    };
    // Barriers and tracks are read at the same time.
    let (loaded, tracks_read) = rayon::join(|| args.input.load(&args.barriers, &[]), || read_tracks(&args));
    let loaded = loaded?;
    if loaded.barriers.is_empty() {
        bail!("no barrier features were read; check the layer and --kind/--field mappings");
    }
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    stage("read barriers and tracks", t0);

    // Tracks, in the analysis CRS.
    let (names, rows, src_crs, mut notes) = tracks_read?;
    let reproject = Reprojector::new(&src_crs, &loaded.crs, &format!("{} (tracks)", args.tracks))?;
    let rows = to_analysis_crs(rows, &reproject, &mut notes);
    let (tracks, report) =
        build_tracks_coded(names, rows, (args.max_speed > 0.0).then_some(args.max_speed));
    if tracks.is_empty() {
        bail!("{}: no usable fix", args.tracks);
    }
    check_overlap(&tracks, &loaded.barriers, args.buffer, &src_crs, &loaded.crs.definition)?;

    // Barrier classes: the permeability model's for a species, or barrier kinds.
    let (classes, feature_class, model_label) = barrier_classes(&args, &loaded.barriers)?;

    let params = BabaParams {
        d: args.buffer,
        interval: args.interval,
        b_time: args.b_time,
        p_time: args.p_time,
        w: args.w,
        tolerance: args.tolerance,
        max_cross: args.max_cross,
        sd_multiplier: args.sd_multiplier,
        exclude_buffer: args.exclude_buffer,
        round_fixes: args.round_fixes,
        group_by_interval: args.group_by_interval,
    };
    let t_read = t0.elapsed();
    stage("tracks prepared", t0);
    let t1 = Instant::now();
    let analysis = analyse(&tracks, &loaded.barriers, &params, args.min_total_enc, &classes, &feature_class)?;
    let t_run = t1.elapsed();
    stage("analysis", t1);

    // The two families of outputs are written side by side.
    let t2 = Instant::now();
    let wkt = loaded.crs.wkt.as_str();
    let out = &args.out;
    let (ev, fe) = rayon::join(
        || -> anyhow::Result<()> {
            let events = events_table(&analysis.baba.events, &tracks, &loaded.barriers);
            events.write_csv_file(&out.join("events.csv"))?;
            stage("events.csv", t2);
            let points = analysis.baba.events.iter().map(|e| Some(Geometry::Point(Point::new(e.x, e.y))));
            write_gpkg(&out.join("events.gpkg"), "events", GeometryType::Point, wkt, &events, points)?;
            stage("events.gpkg", t2);
            Ok(())
        },
        || -> anyhow::Result<()> {
            let features = features_table(&analysis.features, &loaded.barriers, &classes, &feature_class);
            features.write_csv_file(&out.join("barriers.csv"))?;
            classes_table(&analysis.classes).write_csv_file(&out.join("classes.csv"))?;
            stage("barriers.csv", t2);
            let lines = analysis
                .features
                .iter()
                .map(|f| Some(Geometry::MultiLineString(loaded.barriers[f.feature].geometry.clone())));
            write_gpkg(&out.join("barriers.gpkg"), "barriers", GeometryType::MultiLineString, wkt, &features, lines)?;
            stage("barriers.gpkg", t2);
            Ok(())
        },
    );
    ev?;
    fe?;
    stage("outputs written", t2);

    eprint!(
        "{}",
        summary(&args, &tracks, &report, &notes, &analysis, &loaded.barriers, &model_label, &loaded.crs.definition)
    );
    eprintln!(
        "wrote {}/{{events,barriers}}.{{csv,gpkg}} and classes.csv in {:.2} s (reading {:.2} s, analysis {:.2} s)",
        args.out.display(),
        t0.elapsed().as_secs_f64(),
        t_read.as_secs_f64(),
        t_run.as_secs_f64()
    );
    Ok(())
}

type TrackRows = (Vec<String>, Vec<(u32, Fix)>, String, Vec<String>);

fn is_csv(path: &Path) -> bool {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    matches!(ext.as_str(), "csv" | "tsv" | "txt")
}

/// Reads the fixes with their CRS (as given or declared) and notes on what was skipped.
fn read_tracks(args: &Args) -> anyhow::Result<TrackRows> {
    if is_csv(&args.tracks.path) && args.tracks.layer.is_none() {
        let cols = TrackColumns {
            id: args.id_col.clone(),
            time: args.time_col.clone(),
            x: args.x_col.clone(),
            y: args.y_col.clone(),
        };
        let csv = read_tracks_csv(&args.tracks.path, &cols)?;
        let crs = match (&args.tracks_crs, &args.input.crs) {
            (Some(c), _) => c.clone(),
            _ if args.x_col == MOVEBANK_X && args.y_col == MOVEBANK_Y => "EPSG:4326".to_string(),
            (None, Some(c)) => c.clone(),
            (None, None) => bail!(
                "{}: in which CRS are the columns {} and {}? Give --tracks-crs (e.g. EPSG:32612, or EPSG:4326 for lon/lat)",
                args.tracks,
                args.x_col,
                args.y_col
            ),
        };
        check_lonlat(&crs, csv.rows.iter().map(|r| (r.1.x, r.1.y)), &args.tracks)?;
        return Ok((csv.names, csv.rows, crs, csv.notes));
    }
    // Any OGR point layer.
    let layer = read_layer(&args.tracks)?;
    let id = layer.field_index(&args.id_col).with_context(|| {
        format!("{}: no field '{}' for the animal id; name it with --id-col (fields: {})", layer.label(), args.id_col, layer.fields.join(", "))
    })?;
    let tc = layer.field_index(&args.time_col).with_context(|| {
        format!("{}: no field '{}' for the time; name it with --time-col (fields: {})", layer.label(), args.time_col, layer.fields.join(", "))
    })?;
    let crs = args
        .tracks_crs
        .clone()
        .or_else(|| layer.crs_wkt.clone())
        .or_else(|| args.input.assume_crs.clone())
        .with_context(|| format!("{}: the layer declares no CRS; pass --tracks-crs", layer.label()))?;
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
    check_lonlat(&crs, rows.iter().map(|r| (r.1.x, r.1.y)), &args.tracks)?;
    Ok((names, rows, crs, notes))
}

fn is_lonlat(crs: &str) -> bool {
    let c = crs.trim().to_ascii_uppercase();
    matches!(c.as_str(), "EPSG:4326" | "WGS84" | "OGC:CRS84" | "+PROJ=LONGLAT +DATUM=WGS84 +NO_DEFS")
        || c.starts_with("GEOGCS")
        || c.starts_with("GEOGCRS")
}

/// Coordinates that cannot be longitude/latitude in a lon/lat CRS, or look like them in a
/// projected one, are a CRS mistake: say so before anything is computed.
fn check_lonlat(crs: &str, xy: impl Iterator<Item = (f64, f64)>, tracks: &LayerRef) -> anyhow::Result<()> {
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
             but the tracks CRS is {crs}; give the right one with --tracks-crs (e.g. EPSG:32612)"
        );
    }
    if !is_lonlat(crs) && fits_lonlat && (maxx - minx) < 10.0 && (maxy - miny) < 10.0 {
        eprintln!(
            "warning: {tracks}: the coordinates (x {minx}..{maxx}, y {miny}..{maxy}) look like longitude/latitude \
             but are read in {crs}; if they are lon/lat, pass --tracks-crs EPSG:4326"
        );
    }
    Ok(())
}

fn to_analysis_crs(rows: Vec<(u32, Fix)>, reproject: &Reprojector, notes: &mut Vec<String>) -> Vec<(u32, Fix)> {
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
fn check_overlap(tracks: &[kulan_crossings::Track], barriers: &[Barrier], d: f64, src: &str, analysis: &str) -> anyhow::Result<()> {
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
             do not overlap in the analysis CRS ({analysis}); the tracks were read in {src}: check --tracks-crs and the \
             barrier layer's CRS",
            bb.min().x,
            bb.max().x,
            bb.min().y,
            bb.max().y
        );
    }
    Ok(())
}

fn barrier_classes(args: &Args, barriers: &[Barrier]) -> anyhow::Result<(Vec<ClassInfo>, Vec<Option<usize>>, String)> {
    let Some(species) = &args.species else {
        if args.model.is_some() {
            bail!("--model needs --species: the model's p is per species");
        }
        let (c, f) = kind_classes(barriers);
        return Ok((c, f, "barrier kinds (no --species, so no model p)".into()));
    };
    let model = match &args.model {
        Some(path) => Model::from_path(path)?,
        None => Model::default_model(),
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

fn write_gpkg(
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

#[allow(clippy::too_many_arguments)]
fn summary(
    args: &Args,
    tracks: &[kulan_crossings::Track],
    report: &TrackReport,
    read_notes: &[String],
    a: &kulan_crossings::Analysis,
    barriers: &[Barrier],
    model_label: &str,
    crs: &str,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "tracks: {} animals, {} fixes (CRS {crs})", report.animals, report.fixes);
    for n in read_notes.iter().chain(&report.notes).chain(&a.baba.notes) {
        let _ = writeln!(s, "  note: {n}");
    }
    let interval = if a.baba.group_intervals.len() == 1 {
        format!("{} h", kulan_crossings::baba::r_number(a.baba.interval))
    } else {
        let v: Vec<String> = a.baba.group_intervals.iter().map(|i| format!("{} h", kulan_crossings::baba::r_number(*i))).collect();
        format!("{} (groups)", v.join(", "))
    };
    let enc: usize = a.baba.encounter_fixes.iter().sum();
    let _ = writeln!(
        s,
        "BaBA d = {} m, interval {interval}: {enc} fixes within the buffer, {} encounter events",
        args.buffer,
        a.baba.events.len()
    );
    let counts: Vec<String> = EventClass::ALL
        .iter()
        .map(|c| format!("{} {}", c.as_str(), a.baba.events.iter().filter(|e| e.class == *c).count()))
        .collect();
    let _ = writeln!(s, "  {}", counts.join(", "));
    let animals_with_events = {
        let mut v: Vec<usize> = a.baba.events.iter().map(|e| e.track).collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    };
    let _ = writeln!(s, "  {animals_with_events} of {} animals met a barrier", tracks.len());
    let mut ranked: Vec<_> = a.features.iter().filter(|f| f.index.is_some()).collect();
    ranked.sort_by(|x, y| y.index.partial_cmp(&x.index).unwrap_or(std::cmp::Ordering::Equal).then(y.total_enc.cmp(&x.total_enc)));
    let _ = writeln!(
        s,
        "BaRanking (min_total_enc {}): {} features met, {} ranked; most impermeable:",
        args.min_total_enc,
        a.features.iter().filter(|f| f.total_enc > 0).count(),
        ranked.len()
    );
    for f in ranked.iter().take(5) {
        let _ = writeln!(
            s,
            "  {} ({}): index {:.3}, {} encounters by {} animal(s)",
            barriers[f.feature].id,
            barriers[f.feature].kind(),
            f.index.unwrap_or(f64::NAN),
            f.total_enc,
            f.unique_ind
        );
    }
    let _ = writeln!(s, "observed crossing rate per encounter by class ({model_label}):");
    for c in a.classes.iter().filter(|c| c.features > 0) {
        let rate = match (c.crossing_rate, c.rate_low, c.rate_high) {
            (Some(r), Some(l), Some(h)) => format!("{:.3} [{:.3}, {:.3}]", r, l, h),
            _ => "-".into(),
        };
        let p = c.class.model_p.map_or("-".into(), |p| format!("{p:.2}"));
        let _ = writeln!(
            s,
            "  {:<40} {:>5} crossing / {:>5} encounters = {rate:<24} model p {p}",
            format!("{} {}", c.class.id, c.class.name).chars().take(40).collect::<String>(),
            c.crossing_events,
            c.enc_events
        );
    }
    s
}
