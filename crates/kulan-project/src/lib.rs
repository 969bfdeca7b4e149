//! Kulan projects: a study described once in TOML — layers, species, analyses, scenarios — run
//! as a graph of cached stages into one folder per scenario, with a comparison table and a
//! manifest.
//!
//! ```no_run
//! use kulan_project::{load_project, run_project, RunOptions, Silent};
//! let project = load_project("data/gobi/project.toml".as_ref(), true).map_err(|p| p.to_string())?;
//! let outcome = run_project(&project, "out/gobi".as_ref(), &RunOptions::default(), &Silent)?;
//! println!("{} stages in {:.1} s", outcome.records.len(), outcome.seconds);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod analyses;
pub mod cache;
pub mod check;
pub mod circuit;
pub mod compare;
pub mod grid;
pub mod inputs;
pub mod manifest;
pub mod outputs;
pub mod project;
pub mod report;
pub mod run;
pub mod scenario;
pub mod tracks;

pub use check::{load_project, LoadedProject, Problem, Problems};
pub use project::Project;
pub use run::{plan, run_project, Progress, RunOptions, RunOutcome, Silent, Stage, StageRecord};
