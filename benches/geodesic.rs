//! One evaluation of the plain geodesic's objective and gradient: the paper's alanine setting
//! (D = 2, exact divergence, 10 spline nodes, N = 128 and 1024 points) with the paper's network
//! (`authors`, the reference for `benches/torch_reference.py`) and the `tps` network, and the all-atom mode's (D = 66, `systems/aldp_cartesian.toml`'s MLP 256 wide with
//! 3 blocks and embeddings of 16, Hutchinson's divergence with 4 probes, N = 128).

use criterion::{Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tps::compute::{self, Precision};
use tps::geometry::{Constraints, GeodesicConfig, GeodesicProblem};
use tps::model::denoiser::MlpConfig;

fn bench(c: &mut Criterion) {
    compute::keep_freed_memory(); // as `tps` does
    let device = compute::device(compute::bench_backend(), Precision::F32).unwrap();
    let ad = device.clone().autodiff();
    let mut group = c.benchmark_group("geodesic_step");
    for (name, points, architecture) in [
        ("authors_mlp", 128, MlpConfig::authors(2)),
        ("authors_mlp", 1024, MlpConfig::authors(2)),
        ("paper_mlp", 128, MlpConfig::new(2)),
        ("paper_mlp", 1024, MlpConfig::new(2)),
    ] {
        let mlp = architecture
            .init(&mut ChaCha8Rng::seed_from_u64(0), &device)
            .unwrap();
        let config = GeodesicConfig {
            points,
            nodes: 10,
            constraints: Constraints::none(),
            ..GeodesicConfig::default()
        };
        let (start, end) = ([4.0, -1.0, 0.5], [4.0, 1.0, -0.5]);
        let mut problem = GeodesicProblem::new(&mlp, None, &start, &end, &config, 0, &ad).unwrap();
        let coefficients = vec![0.01; problem.size()];
        group.bench_function(format!("{name}_N{points}"), |b| {
            b.iter(|| problem.evaluate(&coefficients).objective)
        });
    }
    let mut all_atom = MlpConfig::new(66);
    all_atom.hidden = 256;
    all_atom.embedding = 16;
    let mlp = all_atom
        .init(&mut ChaCha8Rng::seed_from_u64(0), &device)
        .unwrap();
    let config = GeodesicConfig {
        points: 128,
        nodes: 10,
        constraints: Constraints::none(),
        ..GeodesicConfig::default()
    };
    let start: Vec<f64> = std::iter::once(4.0)
        .chain((0..66).map(|i| 0.01 * i as f64))
        .collect();
    let end: Vec<f64> = std::iter::once(4.0)
        .chain((0..66).map(|i| -0.01 * i as f64))
        .collect();
    let mut problem = GeodesicProblem::new(&mlp, None, &start, &end, &config, 0, &ad).unwrap();
    let coefficients = vec![0.01; problem.size()];
    group.bench_function("all_atom_mlp_D66_N128", |b| {
        b.iter(|| problem.evaluate(&coefficients).objective)
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
