//! `kulan crossings`: barrier behaviour from GPS telemetry (BaBA), BaRanking, and observed
//! crossing rates per barrier feature and per barrier class next to the permeability model's p.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use kulan_core::Barrier;
use kulan_crossings::{analyse, BabaParams, EventClass, TrackReport};
use kulan_io::vector::LayerRef;
use kulan_permeability::Model;
use kulan_project::outputs::crossings::write_all;
use kulan_project::tracks::{barrier_classes, prepare_rows, read_track_rows, TrackSource, MOVEBANK_X, MOVEBANK_Y};

use super::inputs::InputArgs;

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

impl Args {
    fn track_source(&self) -> TrackSource {
        TrackSource {
            tracks: self.tracks.clone(),
            id_col: self.id_col.clone(),
            time_col: self.time_col.clone(),
            x_col: self.x_col.clone(),
            y_col: self.y_col.clone(),
            tracks_crs: self.tracks_crs.clone(),
            analysis_crs: self.input.crs.clone(),
            assume_crs: self.input.assume_crs.clone(),
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let t0 = Instant::now();
    if !(args.buffer > 0.0 && args.buffer.is_finite()) {
        bail!("--buffer must be a positive number of metres, not {}", args.buffer);
    }
    if args.model.is_some() && args.species.is_none() {
        bail!("--model needs --species: the model's p is per species");
    }
    let source = args.track_source();
    // Barriers and tracks are read at the same time.
    let (loaded, tracks_read) = rayon::join(|| args.input.load(&args.barriers, &[]), || read_track_rows(&source));
    let loaded = loaded?;
    if loaded.barriers.is_empty() {
        bail!("no barrier features were read; check the layer and --kind/--field mappings");
    }
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let max_speed = (args.max_speed > 0.0).then_some(args.max_speed);
    let prepared = prepare_rows(tracks_read?, &source, &loaded.crs, &loaded.barriers, args.buffer, max_speed)?;
    for n in prepared.notes.iter().filter(|n| n.starts_with("warning: ")) {
        eprintln!("{n}");
    }
    let model = args.model.as_deref().map(Model::from_path).transpose()?;
    let (classes, feature_class, model_label) = barrier_classes(args.species.as_deref(), model.as_ref(), &loaded.barriers)?;
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
    let t1 = Instant::now();
    let analysis = analyse(&prepared.tracks, &loaded.barriers, &params, args.min_total_enc, &classes, &feature_class)?;
    let t_run = t1.elapsed();
    write_all(&args.out, &analysis, &prepared.tracks, &loaded.barriers, &classes, &feature_class, &loaded.crs.wkt)?;
    let notes: Vec<String> = prepared.notes.into_iter().filter(|n| !n.starts_with("warning: ")).collect();
    eprint!(
        "{}",
        summary(&args, &prepared.tracks, &prepared.report, &notes, &analysis, &loaded.barriers, &model_label, &loaded.crs.definition)
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
