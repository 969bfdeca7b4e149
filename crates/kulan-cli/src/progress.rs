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
    last_cpu: f64,
}

impl Stages {
    pub fn start() -> Self {
        Stages {
            enabled: std::env::var_os("KULAN_TIMINGS").is_some_and(|v| v != "0"),
            last: std::time::Instant::now(),
            last_cpu: process_cpu_seconds(),
        }
    }

    /// Ends the stage called `name`.
    pub fn done(&mut self, name: &str) {
        let now = std::time::Instant::now();
        let cpu = process_cpu_seconds();
        if self.enabled {
            eprintln!("timing: {name}: {:.3} s wall, {:.2} s CPU", (now - self.last).as_secs_f64(), cpu - self.last_cpu);
        }
        self.last = now;
        self.last_cpu = cpu;
    }
}

/// User + system CPU time of the whole process so far (all threads), from /proc on Linux; 0
/// elsewhere. On a shared machine it says more about the work done than the wall clock.
fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the command name (which may hold spaces) start at state; utime and stime are 14 and 15.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else { return 0.0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Clock ticks are 100 per second on every Linux this runs on.
    (ticks(11) + ticks(12)) / 100.0
}
