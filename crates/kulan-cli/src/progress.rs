//! Progress bars that show on a terminal and stay silent when output is piped or logged.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps labelled `what`, hidden unless stderr is a terminal.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} {elapsed_precise} (eta {eta})")
            .expect("static template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// Wall-clock time per stage, printed to stderr when `KULAN_TIMINGS=1` is set (for benchmarks).
pub struct Stages {
    enabled: bool,
    last: std::time::Instant,
}

impl Stages {
    pub fn start() -> Self {
        Stages { enabled: std::env::var_os("KULAN_TIMINGS").is_some_and(|v| v != "0"), last: std::time::Instant::now() }
    }

    /// Ends the stage called `name`.
    pub fn done(&mut self, name: &str) {
        let now = std::time::Instant::now();
        if self.enabled {
            eprintln!("timing: {name}: {:.3} s", (now - self.last).as_secs_f64());
        }
        self.last = now;
    }
}
