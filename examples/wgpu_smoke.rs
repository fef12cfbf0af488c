//! GPU smoke test: the geodesic objective and its gradient for a seeded MLP on wgpu must match
//! the flex CPU backend (both f32). Run by `scripts/check-wgpu.sh` (needs `--features wgpu`).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tps::compute::{self, Backend, Precision};
use tps::denoiser::MlpConfig;
use tps::geometry::{GeodesicConfig, GeodesicProblem};

fn evaluate(backend: Backend) -> tps::Result<(f64, Vec<f64>)> {
    let device = compute::device(backend, Precision::F32)?;
    let config = MlpConfig {
        dim: 2,
        hidden: 64,
        blocks: 2,
        embedding: 32,
        input_scale: 4.0,
    };
    let mlp = config.init(&mut ChaCha8Rng::seed_from_u64(0), &device)?;
    let geo = GeodesicConfig {
        points: 64,
        nodes: 6,
        ..GeodesicConfig::default()
    };
    let ad = device.autodiff();
    let mut problem =
        GeodesicProblem::new(&mlp, &[3.0, -1.0, 0.5], &[3.0, 1.0, -0.5], &geo, 0, &ad)?;
    let c: Vec<f64> = (0..problem.size())
        .map(|i| 0.05 * (i as f64).sin())
        .collect();
    let e = problem.evaluate(&c);
    Ok((e.objective, e.gradient))
}

fn main() -> tps::Result<()> {
    let (cpu_e, cpu_g) = evaluate(Backend::Flex)?;
    let start = std::time::Instant::now();
    let (gpu_e, gpu_g) = evaluate(Backend::Wgpu)?;
    println!(
        "wgpu evaluation (with start-up): {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let scale = cpu_g.iter().map(|g| g.abs()).fold(0.0, f64::max);
    let worst = cpu_g
        .iter()
        .zip(&gpu_g)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!(
        "energy: flex {cpu_e:.6}, wgpu {gpu_e:.6}; max gradient difference {worst:.2e} (scale {scale:.2e})"
    );
    let ok = (cpu_e - gpu_e).abs() <= 1e-3 * cpu_e.abs() && worst <= 1e-2 * scale;
    if !ok {
        eprintln!("FAIL: wgpu and flex disagree");
        std::process::exit(1);
    }
    println!("OK: wgpu matches flex");
    Ok(())
}
