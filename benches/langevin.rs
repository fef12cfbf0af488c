//! Annealed Langevin dynamics: 8 paths × 128 geodesic points × 128 steps (the paper's alanine
//! setting), on Müller–Brown and on a tabulated periodic 89 × 89 surface (bicubic).

use criterion::{Criterion, criterion_group, criterion_main};
use tps::model::denoiser::Normalisation;
use tps::potential::{MullerBrown, Potential, Tabulated};
use tps::system::TransitionConfig;
use tps::walkers::{Dynamics, Guide, PathOptions, WalkerParams, annealed_langevin};

fn torus() -> Tabulated {
    let n = 89;
    let h = std::f64::consts::TAU / n as f64;
    let mut s = String::new();
    for j in 0..n {
        for i in 0..n {
            let (x, y) = (
                -std::f64::consts::PI + i as f64 * h,
                -std::f64::consts::PI + j as f64 * h,
            );
            s.push_str(&format!("{x} {y} {}\n", 10.0 * (x.cos() + (2.0 * y).sin())));
        }
    }
    Tabulated::parse(&s, "synthetic", true).unwrap()
}

fn bench(c: &mut Criterion) {
    let config = WalkerParams {
        paths: 8,
        steps_per_point: 128,
        ..TransitionConfig::default().walkers()
    };
    let geodesic: Vec<Vec<f64>> = (0..128)
        .map(|i| {
            let s = i as f64 / 127.0;
            vec![4.0 - 6.0 * s * (1.0 - s), -1.0 + 2.0 * s, 0.5 - s]
        })
        .collect();
    let norm = Normalisation::identity(2);
    let cases: [(&str, Box<dyn Potential>); 2] = [
        ("muller_brown", Box::new(MullerBrown)),
        ("tabulated_89x89", Box::new(torus())),
    ];
    let mut group = c.benchmark_group("annealed_langevin_8x128x128");
    for (name, potential) in cases {
        group.bench_function(name, |b| {
            b.iter(|| {
                let dynamics = Dynamics {
                    guide: Guide::Potential(potential.as_ref()),
                    kt: 1.0,
                    normalisation: &norm,
                    route: &geodesic,
                    start: &[-1.0, 0.5],
                };
                annealed_langevin(&dynamics, &config, &PathOptions::default(), 0).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
