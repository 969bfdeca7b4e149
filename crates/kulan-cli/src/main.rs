//! `kulan`: barrier and corridor analysis for migratory wildlife.
//!
//! A thin layer over the library crates: each subcommand parses its flags, calls the library and
//! reports. Every subcommand lives in its own file under `commands/`.

mod commands;
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
    /// Length of each barrier inside each range, crossings of range borders, density per range.
    Intersect(commands::intersect::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Intersect(args) => commands::intersect::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
