//! The free-energy surface estimated from weighted frames alone, against a surface known in
//! closed form: frames drawn from a well-tempered biased ensemble (`p^(1/γ)`) of a two-basin
//! surface of two angles, weighted by their bias, must give back its basins and barrier.

use std::f64::consts::{PI, TAU};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tps::data::Weighted;
use tps::data::surface::{bootstrap, estimate};
use tps::potential::Tabulated;
use tps::reference::free_energy_summary;

const KT: f64 = 2.494;
const GRID: usize = 96;
const FRAMES: usize = 50_000;

/// A two-basin surface (kJ/mol) of two angles with smooth passes: basins at φ = ∓π/2, the second
/// 6 kJ/mol up, passes near φ = 0 and φ = π about 29 kJ/mol above the first.
fn free_energy(x: f64, y: f64) -> f64 {
    13.0 * (1.0 + (2.0 * x).cos()) + 3.0 * x.sin() + 6.0 * (1.0 - (y - 0.3).cos())
}

fn states() -> Vec<(String, Vec<f64>)> {
    vec![
        ("A".into(), vec![-PI / 2.0, 0.3]),
        ("B".into(), vec![PI / 2.0, 0.3]),
    ]
}

/// `count` frames from `exp(−(F + V)/kT)` with the well-tempered bias `V = −(1 − 1/γ) F`, in
/// `trajectories` consecutive runs, by inverse transform on a fine grid.
fn biased_frames(count: usize, gamma: f64, trajectories: usize, seed: u64) -> Weighted {
    let bias = |x: f64, y: f64| -(1.0 - 1.0 / gamma) * free_energy(x, y);
    let fine = 720;
    let step = TAU / fine as f64;
    let centre = |k: usize| -PI + (k as f64 + 0.5) * step;
    let mut cumulative = Vec::with_capacity(fine * fine);
    let mut total = 0.0;
    for j in 0..fine {
        for i in 0..fine {
            let (x, y) = (centre(i), centre(j));
            total += (-(free_energy(x, y) + bias(x, y)) / KT).exp();
            cumulative.push(total);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut points = Vec::new();
    let mut biases = Vec::new();
    for _ in 0..count {
        let u = rng.random::<f64>() * total;
        let cell = cumulative.partition_point(|c| *c < u);
        let x = centre(cell % fine) + (rng.random::<f64>() - 0.5) * step;
        let y = centre(cell / fine) + (rng.random::<f64>() - 0.5) * step;
        points.push(vec![x, y]);
        biases.push(bias(x, y));
    }
    let top = biases.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let raw: Vec<f64> = biases.iter().map(|b| ((b - top) / KT).exp()).collect();
    let sum: f64 = raw.iter().sum();
    let weights: Vec<f64> = raw.iter().map(|w| w / sum).collect();
    Weighted {
        effective_samples: 1.0 / weights.iter().map(|w| w * w).sum::<f64>(),
        points,
        weights,
        bias: biases,
        trajectory: (0..count).map(|i| i * trajectories / count).collect(),
        warnings: Vec::new(),
    }
}

fn exact() -> Tabulated {
    let step = TAU / GRID as f64;
    let values = (0..GRID * GRID)
        .map(|k| {
            free_energy(
                -PI + (k % GRID) as f64 * step,
                -PI + (k / GRID) as f64 * step,
            )
        })
        .collect::<Vec<_>>();
    let lowest = values.iter().copied().fold(f64::INFINITY, f64::min);
    Tabulated::periodic_angles(values.iter().map(|v| v - lowest).collect(), GRID)
}

/// The barrier's error and the bootstrap spread of one well-tempered data set.
fn barrier_error_and_spread(seed: u64) -> (f64, f64) {
    let barrier = |values: Vec<f64>| {
        free_energy_summary(&Tabulated::periodic_angles(values, GRID), None, &states())
            .unwrap()
            .barriers[0]
            .barrier
    };
    let truth = free_energy_summary(&exact(), None, &states()).unwrap();
    let frames = biased_frames(FRAMES, 6.0, 2, seed);
    let surface = estimate(&frames, GRID, KT, 20.0);
    let found = free_energy_summary(
        &Tabulated::periodic_angles(surface.values.clone(), GRID),
        None,
        &states(),
    )
    .unwrap();
    // B 6 kJ/mol above A within 0.5 kJ/mol.
    let gap = found.basins[1].free_energy - truth.basins[1].free_energy;
    assert!(gap.abs() < 0.5, "seed {seed}: ΔF off by {gap}");
    let replicas = bootstrap(&frames, &surface, KT, 20.0, 40);
    let barriers: Vec<f64> = replicas.into_iter().map(barrier).collect();
    let mean = barriers.iter().sum::<f64>() / barriers.len() as f64;
    let std = (barriers.iter().map(|b| (b - mean).powi(2)).sum::<f64>()
        / (barriers.len() - 1) as f64)
        .sqrt();
    (found.barriers[0].barrier - truth.barriers[0].barrier, std)
}

#[test]
fn frames_of_a_well_tempered_run_give_back_the_barrier_and_the_basins() {
    let truth = free_energy_summary(&exact(), None, &states()).unwrap();
    assert!((truth.barriers[0].barrier - 29.08).abs() < 0.1, "{truth:?}");
    // Six independent data sets of 50,000 frames: every barrier within 0.7 kJ/mol, on average
    // within 0.35, and the bootstrap spread neither nothing nor the whole barrier, of the size of
    // the errors. (The minimum over a noisy pass leans low: the errors average about −0.15.)
    let runs: Vec<(f64, f64)> = (11..17).map(barrier_error_and_spread).collect();
    for (error, spread) in &runs {
        assert!(error.abs() < 0.7, "barrier off by {error} ({runs:?})");
        assert!(*spread > 0.05 && *spread < 0.6, "bootstrap spread {spread}");
    }
    let mean_error = runs.iter().map(|r| r.0.abs()).sum::<f64>() / runs.len() as f64;
    let mean_spread = runs.iter().map(|r| r.1).sum::<f64>() / runs.len() as f64;
    assert!(mean_error < 0.35, "{runs:?}");
    assert!(
        mean_error < 2.0 * mean_spread,
        "errors beyond the spread: {runs:?}"
    );
}

#[test]
fn unbiased_frames_give_a_plain_kernel_estimate_that_keeps_the_basins() {
    // Without a bias, frames rarely visit the pass; the basins' difference is still right.
    let truth = free_energy_summary(&exact(), None, &states()).unwrap();
    let frames = biased_frames(20_000, 1.0, 1, 5);
    assert!(frames.bias.iter().all(|b| *b == 0.0));
    let surface = estimate(&frames, GRID, KT, 20.0);
    let found = free_energy_summary(
        &Tabulated::periodic_angles(surface.values, GRID),
        None,
        &states(),
    )
    .unwrap();
    let gap = found.basins[1].free_energy - truth.basins[1].free_energy;
    assert!(gap.abs() < 0.5, "ΔF off by {gap}");
}
