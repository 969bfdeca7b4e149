//! `kulan model`: show a species permeability model, and the table a user's barriers resolve to.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use geo::Length as _;
use kulan_io::vector::LayerRef;
use kulan_permeability::{barrier_resistance, classify_barriers, Class, Model, DEFAULT_MODEL_TOML};

use super::inputs::InputArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand)]
pub enum Action {
    /// Print the classes of a model with p per species; with --barriers, the table your barriers
    /// resolve to (features and length per class).
    Show(Box<ShowArgs>),
    /// Print the built-in default model (TOML) to copy and edit.
    Default,
}

#[derive(clap::Args)]
pub struct ShowArgs {
    /// Model file (TOML); default: the built-in model from the literature table.
    #[arg(long, value_name = "TOML")]
    pub model: Option<PathBuf>,
    /// Show one species only (name, alias or scientific name).
    #[arg(long)]
    pub species: Option<String>,
    /// Barrier layers to classify (FILE or FILE:LAYER).
    #[arg(long, num_args = 1.., value_name = "FILE[:LAYER]")]
    pub barriers: Vec<LayerRef>,
    /// Cell size in metres: adds the resistance multiplier r/r0 of each class at that size.
    #[arg(long, value_name = "METRES")]
    pub cell: Option<f64>,
    /// Print the evidence, confidence and citation of every class.
    #[arg(long)]
    pub sources: bool,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.action {
        Action::Default => {
            print!("{DEFAULT_MODEL_TOML}");
            Ok(())
        }
        Action::Show(a) => show(*a),
    }
}

fn load_model(path: Option<&PathBuf>) -> anyhow::Result<Model> {
    match path {
        Some(p) => Ok(Model::from_path(p)?),
        None => Ok(Model::default_model()),
    }
}

fn show(args: ShowArgs) -> anyhow::Result<()> {
    let model = load_model(args.model.as_ref())?;
    let species: Vec<String> = match &args.species {
        Some(s) => vec![model.species_key(s)?],
        None => model.species.keys().cloned().collect(),
    };
    // Barrier use per class (features, km), when barriers are given.
    let mut usage: Option<Vec<(usize, f64)>> = None;
    if !args.barriers.is_empty() {
        let loaded = args.input.load(&args.barriers, &[]).context("reading the barriers")?;
        let classes = classify_barriers(&model, &species[0], &loaded.barriers)?;
        let mut u = vec![(0usize, 0.0f64); model.barrier_classes.len()];
        for (b, (class, _)) in loaded.barriers.iter().zip(&classes) {
            let k = model.barrier_classes.iter().position(|c| c.id == class.id).expect("from the model");
            u[k].0 += 1;
            u[k].1 += geo::Euclidean.length(&b.geometry) / 1000.0;
        }
        usage = Some(u);
    }
    let mut out = String::new();
    writeln!(out, "{} ({})", model.name, model.origin)?;
    let r = model.resistance;
    writeln!(
        out,
        "p -> resistance: r = r0 * (1 + {} m / cell * (1/p - 1)); p = 0 is impassable (NoData); base r0 = {}",
        r.encounter_cost_m, r.base
    )?;
    writeln!(out)?;
    table(&mut out, "barrier classes (first match wins)", &model.barrier_classes, &species, usage.as_deref(), args.cell, &model)?;
    writeln!(out)?;
    table(&mut out, "crossing structures and gaps (replace the barrier's p locally)", &model.crossing_classes, &species, None, args.cell, &model)?;
    if args.sources {
        writeln!(out)?;
        for c in model.barrier_classes.iter().chain(&model.crossing_classes) {
            writeln!(out, "{} {}", c.id, c.name)?;
            for (label, v) in [
                ("  description", &c.description),
                ("  evidence", &c.evidence),
                ("  confidence", &c.confidence),
                ("  citation", &c.citation),
                ("  note", &c.note),
            ] {
                if let Some(v) = v {
                    writeln!(out, "{label}: {v}")?;
                }
            }
        }
    }
    print!("{out}");
    Ok(())
}

fn table(
    out: &mut String,
    title: &str,
    classes: &[Class],
    species: &[String],
    usage: Option<&[(usize, f64)]>,
    cell: Option<f64>,
    model: &Model,
) -> std::fmt::Result {
    writeln!(out, "{title}:")?;
    let mut header = format!("{:<5} {:<36} {:<48}", "id", "class", "applies to");
    for s in species {
        write!(header, " {:>9}", truncate(s, 9))?;
    }
    if let Some(c) = cell {
        write!(header, " {:>12}", format!("r/r0 @{c}m"))?;
    }
    if usage.is_some() {
        write!(header, " {:>9} {:>10}", "features", "km")?;
    }
    write!(header, "  {:<12}", "confidence")?;
    writeln!(out, "{header}")?;
    for (k, c) in classes.iter().enumerate() {
        let mut line = format!("{:<5} {:<36} {:<48}", c.id, truncate(&c.name, 36), truncate(&c.when.describe(), 48));
        for s in species {
            write!(line, " {:>9.2}", c.p[s])?;
        }
        if let Some(cell) = cell {
            let r = barrier_resistance(1.0, c.p[&species[0]], model.resistance.encounter_cost_m, cell);
            let text = if r.is_finite() { format!("{r:.1}") } else { "impassable".into() };
            write!(line, " {text:>12}")?;
        }
        if let Some(u) = usage {
            write!(line, " {:>9} {:>10.1}", u[k].0, u[k].1)?;
        }
        write!(line, "  {}", truncate(c.confidence.as_deref().unwrap_or(""), 40))?;
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

