//! Deterministic synthetic GPS fixes for the `kulan crossings` benchmark (never stored in the
//! repo): correlated random walks of ungulates over the bench area (EPSG:32648, x 300–900 km,
//! y 4700–5300 km), one fix every 2 h from 2020-01-01, with a little timing jitter.
//!
//! `cargo run --release -p kulan-crossings --example gen_fixes -- OUT.csv [N_FIXES] [FIXES_PER_ANIMAL]`
//!
//! Columns: id, time (ISO 8601 UTC), x, y.

use std::io::Write;

struct Pcg(u64);

impl Pcg {
    fn next_u32(&mut self) -> u32 {
        let old = self.0;
        self.0 = old.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }
    fn unit(&mut self) -> f64 {
        ((self.next_u32() as u64) << 21 ^ (self.next_u32() as u64)) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-300), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = args.get(1).expect("usage: gen_fixes OUT.csv [N_FIXES] [FIXES_PER_ANIMAL]");
    let n: usize = args.get(2).map_or(1_000_000, |s| s.parse().expect("N_FIXES"));
    let per: usize = args.get(3).map_or(5_000, |s| s.parse().expect("FIXES_PER_ANIMAL"));
    let f = std::fs::File::create(out).expect("create output");
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    writeln!(w, "id,time,x,y").unwrap();
    let mut rng = Pcg(0x4b55_4c41_4e00_0006);
    let t0: i64 = 1_577_836_800; // 2020-01-01T00:00:00Z
    let (x0, x1, y0, y1) = (300_000.0, 900_000.0, 4_700_000.0, 5_300_000.0);
    let mut written = 0usize;
    let mut animal = 0usize;
    while written < n {
        animal += 1;
        let m = per.min(n - written);
        let mut x = x0 + 20_000.0 + rng.unit() * (x1 - x0 - 40_000.0);
        let mut y = y0 + 20_000.0 + rng.unit() * (y1 - y0 - 40_000.0);
        let mut heading = rng.unit() * std::f64::consts::TAU;
        for i in 0..m {
            // Two-hourly steps: mostly short (grazing), sometimes long (travel).
            let travel = rng.unit() < 0.2;
            let step = if travel { 1_500.0 + 1_500.0 * rng.unit() } else { 150.0 + 450.0 * rng.unit() };
            heading += rng.normal() * if travel { 0.3 } else { 1.2 };
            x += step * heading.cos();
            y += step * heading.sin();
            // Reflect at the edge of the area.
            if x < x0 || x > x1 {
                heading = std::f64::consts::PI - heading;
                x = x.clamp(x0, x1);
            }
            if y < y0 || y > y1 {
                heading = -heading;
                y = y.clamp(y0, y1);
            }
            let jitter = (rng.unit() * 120.0) as i64 - 60; // ± 1 min
            let t = t0 + i as i64 * 7200 + jitter;
            let (days, sod) = (t.div_euclid(86_400), t.rem_euclid(86_400));
            let (yy, mm, dd) = civil(days);
            writeln!(
                w,
                "A{animal:04},{yy:04}-{mm:02}-{dd:02}T{:02}:{:02}:{:02}Z,{x:.1},{y:.1}",
                sod / 3600,
                (sod / 60) % 60,
                sod % 60
            )
            .unwrap();
        }
        written += m;
    }
    w.flush().unwrap();
    eprintln!("wrote {written} fixes of {animal} animals to {out}");
}

fn civil(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400;
    (if m <= 2 { y + 1 } else { y }, m, d)
}
