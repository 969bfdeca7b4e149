//! Criterion bench of the barrier clipping engine on synthetic data shaped like the peer bench's
//! (random-walk barriers, star-shaped ranges with holes), generated here so it needs no files.
//!
//! `cargo bench -p kulan-core --bench intersect`

use criterion::{criterion_group, criterion_main, Criterion};
use geo::{Coord, LineString, MultiLineString, MultiPolygon, Polygon};
use kulan_core::intersect::{intersect_ranges, BarrierIndex};
use kulan_core::{Barrier, BarrierAttrs, FeatureId, Range};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn barriers(n: usize, rng: &mut Lcg) -> Vec<Barrier> {
    (0..n)
        .map(|i| {
            let mut p = Coord { x: rng.next() * 600_000.0, y: rng.next() * 600_000.0 };
            let mut heading = rng.next() * std::f64::consts::TAU;
            let coords = (0..30)
                .map(|_| {
                    heading += (rng.next() - 0.5) * 0.6;
                    p = Coord { x: p.x + 250.0 * heading.cos(), y: p.y + 250.0 * heading.sin() };
                    p
                })
                .collect();
            Barrier {
                id: FeatureId::Int(i as i64),
                geometry: MultiLineString::new(vec![LineString::new(coords)]),
                attrs: BarrierAttrs::default(),
            }
        })
        .collect()
}

fn ranges(n: usize, rng: &mut Lcg) -> Vec<Range> {
    (0..n)
        .map(|i| {
            let c = Coord { x: 100_000.0 + rng.next() * 400_000.0, y: 100_000.0 + rng.next() * 400_000.0 };
            let radius = 15_000.0 + rng.next() * 80_000.0;
            let star = |r: f64, k: usize, sign: f64| -> LineString<f64> {
                LineString::new(
                    (0..k)
                        .map(|j| {
                            let a = sign * j as f64 / k as f64 * std::f64::consts::TAU;
                            let rr = r * (0.8 + 0.2 * (5.0 * a).sin());
                            Coord { x: c.x + rr * a.cos(), y: c.y + rr * a.sin() }
                        })
                        .collect(),
                )
            };
            let poly = Polygon::new(star(radius, 2000, 1.0), vec![star(radius * 0.2, 300, -1.0)]);
            Range { id: FeatureId::Int(i as i64), species: None, season: None, geometry: MultiPolygon::new(vec![poly]) }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut rng = Lcg(7);
    let b = barriers(20_000, &mut rng);
    let r = ranges(40, &mut rng);
    c.bench_function("index 20k barriers (600k vertices)", |bench| bench.iter(|| BarrierIndex::new(&b)));
    let index = BarrierIndex::new(&b);
    c.bench_function("clip 20k barriers to 40 ranges, lengths only", |bench| {
        bench.iter(|| intersect_ranges(&index, &r, false, || {}))
    });
    c.bench_function("clip 20k barriers to 40 ranges, with geometry", |bench| {
        bench.iter(|| intersect_ranges(&index, &r, true, || {}))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
