//! One evaluation of the plain geodesic's objective and gradient (exact divergence) for the paper's alanine
//! setting: D = 2, MLP 128 wide with 3 blocks, 10 spline nodes, N = 128 and N = 1024 points.

use criterion::{Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tps::compute::{self, Precision};
use tps::denoiser::MlpConfig;
use tps::geometry::{Constraints, GeodesicConfig, GeodesicProblem};

fn bench(c: &mut Criterion) {
    let device = compute::device(compute::bench_backend(), Precision::F32).unwrap();
    let mlp = MlpConfig::new(2)
        .init(&mut ChaCha8Rng::seed_from_u64(0), &device)
        .unwrap();
    let ad = device.autodiff();
    let mut group = c.benchmark_group("geodesic_step");
    for points in [128, 1024] {
        let config = GeodesicConfig {
            points,
            nodes: 10,
            constraints: Constraints::none(),
            ..GeodesicConfig::default()
        };
        let (start, end) = ([4.0, -1.0, 0.5], [4.0, 1.0, -0.5]);
        let mut problem = GeodesicProblem::new(&mlp, None, &start, &end, &config, 0, &ad).unwrap();
        let coefficients = vec![0.01; problem.size()];
        group.bench_function(format!("paper_mlp_N{points}"), |b| {
            b.iter(|| problem.evaluate(&coefficients).objective)
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
