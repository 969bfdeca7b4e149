//! `kulan run PROJECT.toml`: every analysis of every scenario of a project, the comparison table,
//! `run.json` and `report.html`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use kulan_project::{load_project, Progress, RunOptions, Stage, StageRecord};

#[derive(clap::Args)]
pub struct Args {
    /// The project file (TOML); relative paths in it resolve against its folder.
    pub project: PathBuf,
    /// Output folder (default: out/<project folder name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Check the project file (every problem at once, with file and line) and stop.
    #[arg(long)]
    pub check: bool,
    /// Print nothing but errors.
    #[arg(long, conflicts_with = "json")]
    pub quiet: bool,
    /// Log one JSON object per line on stderr instead of progress bars.
    #[arg(long)]
    pub json: bool,
    /// Redo every stage even when its result is cached.
    #[arg(long)]
    pub force: bool,
}

/// Bars on a terminal, JSON lines with --json, nothing with --quiet.
struct Reporter {
    mode: Mode,
    multi: MultiProgress,
    bars: Mutex<Vec<(String, ProgressBar)>>,
}

#[derive(PartialEq)]
enum Mode {
    Bars,
    Lines,
    Json,
    Quiet,
}

fn json_line(value: serde_json::Value) {
    eprintln!("{value}");
}

impl Progress for Reporter {
    fn planned(&self, stages: &[Stage]) {
        if self.mode == Mode::Json {
            json_line(serde_json::json!({"event": "plan", "stages": stages.iter().map(Stage::label).collect::<Vec<_>>()}));
        }
    }
    fn started(&self, stage: &Stage) {
        match self.mode {
            Mode::Bars => {
                let bar = self.multi.add(ProgressBar::new(1));
                bar.set_style(ProgressStyle::with_template("{spinner} {msg:<44} [{bar:20}] {elapsed}").expect("static").progress_chars("=> "));
                bar.set_message(stage.label());
                bar.enable_steady_tick(std::time::Duration::from_millis(120));
                self.bars.lock().expect("lock").push((stage.label(), bar));
            }
            Mode::Json => json_line(serde_json::json!({"event": "stage_started", "stage": stage.label()})),
            _ => {}
        }
    }
    fn finished(&self, r: &StageRecord) {
        let how = if r.reused { "reused" } else { "done" };
        match self.mode {
            Mode::Bars => {
                if let Some((_, bar)) = self.bars.lock().expect("lock").iter().find(|(l, _)| *l == r.stage.label()) {
                    bar.set_position(1);
                    bar.finish_with_message(format!("{} ({how}, {:.1} s)", r.stage.label(), r.seconds));
                }
            }
            Mode::Lines => eprintln!("{:<44} {how:>6} {:>7.2} s", r.stage.label(), r.seconds),
            Mode::Json => json_line(serde_json::json!({
                "event": "stage_finished", "stage": r.stage.label(), "reused": r.reused,
                "seconds": r.seconds, "key": r.key, "outputs": r.outputs,
            })),
            Mode::Quiet => {}
        }
    }
    fn message(&self, text: &str) {
        match self.mode {
            Mode::Json => json_line(serde_json::json!({"event": "message", "text": text})),
            Mode::Quiet => {}
            _ => eprintln!("{text}"),
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let lp = load_project(&args.project, true).map_err(|problems| anyhow::anyhow!("{problems}"))?;
    let mode = if args.quiet {
        Mode::Quiet
    } else if args.json {
        Mode::Json
    } else if std::io::stderr().is_terminal() {
        Mode::Bars
    } else {
        Mode::Lines
    };
    let reporter = Reporter { mode, multi: MultiProgress::new(), bars: Mutex::new(Vec::new()) };
    if args.check {
        let stages = kulan_project::plan(&lp);
        reporter.message(&format!("{}: no problems; {} stages would run", args.project.display(), stages.len()));
        return Ok(());
    }
    let out = match &args.out {
        Some(o) => o.clone(),
        None => {
            let name = lp.dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "project".into());
            PathBuf::from("out").join(name)
        }
    };
    let flags: Vec<String> = std::env::args().collect();
    let options = RunOptions { force: args.force };
    let outcome = kulan_project::report::run_and_report(&lp, &out, &options, &reporter, &flags)
        .with_context(|| format!("running {}", args.project.display()))?;
    let reused = outcome.records.iter().filter(|r| r.reused).count();
    reporter.message(&format!(
        "{} stages ({} run, {} reused from the cache) in {:.1} s; results in {}/ — open {}/report.html",
        outcome.records.len(),
        outcome.records.len() - reused,
        reused,
        outcome.seconds,
        out.display(),
        out.display()
    ));
    if reporter.mode == Mode::Json {
        json_line(serde_json::json!({"event": "finished", "stages": outcome.records.len(), "reused": reused, "seconds": outcome.seconds, "out": out}));
    }
    Ok(())
}
