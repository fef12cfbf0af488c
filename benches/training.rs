//! One training step at batch 1024: the paper's MLP (D = 2, 128 wide, 3 blocks) and the
//! all-atom mode's (D = 66, 256 wide, 3 blocks, embeddings of 16).

use criterion::{Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tps::compute::{self, Precision};
use tps::denoiser::MlpConfig;
use tps::training::{Trainer, TrainingConfig};

fn bench(c: &mut Criterion) {
    let device = compute::device(compute::bench_backend(), Precision::F32)
        .unwrap()
        .autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let data: Vec<Vec<f64>> = (0..10_000)
        .map(|_| vec![rng.random_range(-3.0..3.0), rng.random_range(-3.0..3.0)])
        .collect();
    let config = TrainingConfig::default();
    let mut trainer = Trainer::new(&data, &MlpConfig::new(2), &config, 0, &device).unwrap();
    c.bench_function("training_step/paper_mlp_batch1024", |b| {
        b.iter(|| trainer.step().unwrap())
    });
    let atoms: Vec<Vec<f64>> = (0..10_000)
        .map(|_| (0..66).map(|_| rng.random_range(-0.3..0.3)).collect())
        .collect();
    let mut all_atom = MlpConfig::new(66);
    all_atom.hidden = 256;
    all_atom.embedding = 16;
    let mut trainer = Trainer::new(&atoms, &all_atom, &config, 0, &device).unwrap();
    c.bench_function("training_step/all_atom_mlp_D66_batch1024", |b| {
        b.iter(|| trainer.step().unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
