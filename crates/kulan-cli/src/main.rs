//! `kulan`: barrier and corridor analysis for migratory wildlife.
//!
//! A thin layer over the library crates: each subcommand parses its flags, calls the library and
//! reports. Every subcommand lives in its own file under `commands/`.

mod commands;
mod memory;
mod progress;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "kulan", version, about = "Barrier and corridor analysis for migratory wildlife")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a whole project (PROJECT.toml): every analysis of every scenario, the comparison table,
    /// run.json and a self-contained report.html.
    Run(commands::run::Args),
    /// Length of each barrier inside each range, crossings of range borders, density per range.
    Intersect(commands::intersect::Args),
    /// Species permeability models: show the classes and p per species, print the default.
    Model(commands::model::Args),
    /// A species' resistance raster from barriers, crossing structures and land cover.
    Resistance(commands::resistance::Args),
    /// Accumulated least cost from sources over a resistance raster (4 or 8 neighbours).
    Costdist(commands::costdist::Args),
    /// Least-cost corridors and paths between core areas, with the link table (Linkage Mapper's Linkage Pathways).
    Corridors(commands::corridors::Args),
    /// Effective mesh size (m_eff, CUT and CBC) per reporting unit, and the patch map.
    Fragment(commands::fragment::Args),
    /// Barrier behaviour from GPS telemetry (BaBA): encounter events, BaRanking, observed crossing rates.
    Crossings(Box<commands::crossings::Args>),
    /// Run a Circuitscape .ini file unchanged (same inputs, outputs, names and numbers).
    Circuitscape(commands::circuitscape::Args),
    /// Circuit-theory connectivity on Kulan rasters: pairwise resistances and current maps.
    Circuit(commands::circuit::Args),
    /// Omnidirectional connectivity (Omniscape's moving window): an Omniscape.jl .ini, or native flags.
    Omniscape(Box<commands::omniscape::Args>),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => commands::run::run(args),
        Command::Intersect(args) => commands::intersect::run(args),
        Command::Fragment(args) => commands::fragment::run(args),
        Command::Crossings(args) => commands::crossings::run(*args),
        Command::Circuitscape(args) => commands::circuitscape::run(args),
        Command::Circuit(args) => commands::circuit::run(args),
        Command::Omniscape(args) => commands::omniscape::run(*args),
        Command::Model(args) => commands::model::run(args),
        Command::Resistance(args) => commands::resistance::run(args),
        Command::Costdist(args) => commands::costdist::run(args),
        Command::Corridors(args) => commands::corridors::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
