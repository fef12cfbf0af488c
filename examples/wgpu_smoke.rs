//! GPU check: wgpu against the flex CPU backend (both f32) on the three things a user runs on
//! the device — the geodesic objective and its gradient, a short training run's loss curve,
//! and `tps sample` on a tiny Müller–Brown system (model trained on each device, geodesic on
//! each device, paths on the CPU). Run by `scripts/check-wgpu.sh` (needs `--features wgpu`).

use std::path::Path;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tps::app::{self, ConstraintOptions};
use tps::compute::{self, Backend, Precision};
use tps::geometry::{Constraints, GeodesicConfig, GeodesicProblem};
use tps::model::denoiser::MlpConfig;
use tps::model::training::{TrainingConfig, train};
use tps::progress::Silent;

fn geodesic(backend: Backend) -> tps::Result<(f64, Vec<f64>)> {
    let device = compute::device(backend, Precision::F32)?;
    let config = MlpConfig {
        hidden: 64,
        blocks: 2,
        embedding: 32,
        input_scale: 4.0,
        ..MlpConfig::new(2)
    };
    let mlp = config.init(&mut ChaCha8Rng::seed_from_u64(0), &device)?;
    let geo = GeodesicConfig {
        points: 64,
        nodes: 6,
        constraints: Constraints::none(),
        ..GeodesicConfig::default()
    };
    let ad = device.autodiff();
    let (start, end) = ([3.0, -1.0, 0.5], [3.0, 1.0, -0.5]);
    let mut problem = GeodesicProblem::new(&mlp, None, &start, &end, &geo, 0, &ad)?;
    let c: Vec<f64> = (0..problem.size())
        .map(|i| 0.05 * (i as f64).sin())
        .collect();
    let e = problem.evaluate(&c);
    Ok((e.objective, e.gradient))
}

fn losses(backend: Backend) -> tps::Result<Vec<f64>> {
    let device = compute::device(backend, Precision::F32)?.autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let data: Vec<Vec<f64>> = (0..4000)
        .map(|k| {
            use rand::Rng;
            let c = if k % 2 == 0 { -1.5 } else { 1.5 };
            vec![
                c + 0.3 * rng.random::<f64>(),
                -c + 0.3 * rng.random::<f64>(),
            ]
        })
        .collect();
    let config = TrainingConfig {
        steps: 200,
        batch: 256,
        ..TrainingConfig::default()
    };
    let arch = MlpConfig {
        hidden: 64,
        blocks: 2,
        embedding: 32,
        input_scale: 4.0,
        ..MlpConfig::new(2)
    };
    Ok(train(&data, &arch, &config, 3, &device, |_, _| {})?.loss_history)
}

const TINY: &str = r#"
name = "mb_gpu"
kT = 10.0
domain = [[-1.7, 1.3], [-0.5, 2.2]]
[potential]
kind = "muller-brown"
[states]
A = [-0.558, 1.442]
B = [0.623, 0.028]
[sampling]
chains = 4
replicas = 6
steps = 3000
burn_in = 500
thin = 5
[model]
hidden = 32
blocks = 1
embedding = 16
input_scale = 4.0
path = "MODEL"
[training]
steps = 300
batch = 128
[geodesic]
points = 32
nodes = 4
[transition]
steps_per_point = 32
step_size = 5e-4
paths = 32
"#;

fn sample(dir: &Path, train_on: Backend, geodesic_on: Backend) -> tps::Result<(f64, f64)> {
    let model = dir.join(format!("{train_on:?}.tpsmodel"));
    let system = dir.join(format!("{train_on:?}.toml"));
    std::fs::write(&system, TINY.replace("MODEL", &model.display().to_string()))
        .map_err(|e| tps::Error::io(&system, e))?;
    if !model.exists() {
        app::train::run(&system, 3, train_on, &Silent)?;
    }
    let options = app::sample::SampleOptions {
        from: "A".into(),
        to: "B".into(),
        paths: None,
        route: None,
        no_mep_start: false,
        seed: 1,
        constraints: ConstraintOptions {
            penalty_weight: 10.0,
            sharpness: 1.0,
            ..ConstraintOptions::default()
        },
        out_root: dir.join(format!("out-{train_on:?}-{geodesic_on:?}")),
        max_trajectories: 0,
        backend: geodesic_on,
        shard: None,
        geodesic: None,
    };
    let (s, _) = app::sample::run(&system, &options, &Silent)?;
    let p = &s.path_results;
    Ok((p.max_energy_mean, p.max_energy_sem))
}

fn main() {
    // Errors read as the CLI's do.
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> tps::Result<()> {
    let mut ok = true;
    let (cpu_e, cpu_g) = geodesic(Backend::Flex)?;
    let start = std::time::Instant::now();
    let (gpu_e, gpu_g) = geodesic(Backend::Wgpu)?;
    println!(
        "wgpu start-up and first evaluation: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let scale = cpu_g.iter().map(|g| g.abs()).fold(0.0, f64::max);
    let worst = cpu_g
        .iter()
        .zip(&gpu_g)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!(
        "geodesic energy: flex {cpu_e:.6}, wgpu {gpu_e:.6}; max gradient difference {worst:.2e} (scale {scale:.2e})"
    );
    ok &= (cpu_e - gpu_e).abs() <= 1e-3 * cpu_e.abs() && worst <= 1e-2 * scale;

    let (lc, lg) = (losses(Backend::Flex)?, losses(Backend::Wgpu)?);
    let first = (lc[0] - lg[0]).abs() / lc[0];
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (end_c, end_g) = (mean(&lc[150..]), mean(&lg[150..]));
    println!(
        "training loss: first step flex {:.6} wgpu {:.6} (rel. diff {first:.1e}); last 50 steps flex {end_c:.4} wgpu {end_g:.4}",
        lc[0], lg[0]
    );
    ok &= first < 1e-3 && (end_c - end_g).abs() < 0.15 * end_c;

    let dir = std::env::temp_dir().join(format!("tps-wgpu-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| tps::Error::io(&dir, e))?;
    let reference = sample(&dir, Backend::Flex, Backend::Flex)?;
    for (train_on, geodesic_on) in [
        (Backend::Wgpu, Backend::Wgpu),
        (Backend::Flex, Backend::Wgpu),
        (Backend::Wgpu, Backend::Flex),
    ] {
        let (m, sem) = sample(&dir, train_on, geodesic_on)?;
        let spread = 3.0 * (sem.powi(2) + reference.1.powi(2)).sqrt();
        println!(
            "sample A → B (model {train_on:?}, geodesic {geodesic_on:?}): per-path maximum {m:.3} ± {sem:.3} vs CPU {:.3} ± {:.3}",
            reference.0, reference.1
        );
        ok &= (m - reference.0).abs() <= spread.max(1.0);
    }
    let _ = std::fs::remove_dir_all(&dir);
    if !ok {
        eprintln!("FAIL: wgpu and flex disagree");
        std::process::exit(1);
    }
    println!("OK: wgpu matches flex");
    Ok(())
}
