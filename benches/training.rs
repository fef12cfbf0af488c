//! One training step at batch 1024, fresh and after 300 steps (the GELU pre-activations grow as
//! a network trains): the paper's network (`authors`, D = 2, 128 wide, 3 one-linear blocks) —
//! the like-for-like reference for `benches/torch_reference.py` — the `tps` network at the
//! paper's sizes, and the all-atom mode's (D = 66, 256 wide, 3 blocks, embeddings of 16).
//! `scripts/bench-torch.sh` runs it at one thread and two next to PyTorch.

use criterion::{Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use tps::compute::{self, Precision};
use tps::model::denoiser::MlpConfig;
use tps::model::training::{Trainer, TrainingConfig};

fn bench(c: &mut Criterion) {
    compute::keep_freed_memory(); // as `tps` does
    let device = compute::device(compute::bench_backend(), Precision::F32)
        .unwrap()
        .autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let plane: Vec<Vec<f64>> = (0..10_000)
        .map(|_| {
            (0..2)
                .map(|_| 1.2 * rng.sample::<f64, _>(StandardNormal))
                .collect()
        })
        .collect();
    let atoms: Vec<Vec<f64>> = (0..10_000)
        .map(|_| (0..66).map(|_| rng.random_range(-0.3..0.3)).collect())
        .collect();
    let mut all_atom = MlpConfig::new(66);
    all_atom.hidden = 256;
    all_atom.embedding = 16;
    let config = TrainingConfig::default();
    let cases = [
        ("authors_mlp_batch1024", &plane, MlpConfig::authors(2)),
        ("tps_mlp_batch1024", &plane, MlpConfig::new(2)),
        ("all_atom_mlp_D66_batch1024", &atoms, all_atom),
    ];
    for (name, data, architecture) in cases {
        let mut trainer = Trainer::new(data, &architecture, &config, 0, &device).unwrap();
        c.bench_function(&format!("training_step/{name}/fresh"), |b| {
            b.iter(|| trainer.step().unwrap())
        });
        for _ in 0..300 {
            trainer.step().unwrap();
        }
        c.bench_function(&format!("training_step/{name}/trained"), |b| {
            b.iter(|| trainer.step().unwrap())
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
