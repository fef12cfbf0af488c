//! Transition paths: annealed Langevin dynamics along a spacetime geodesic.
//!
//! At geodesic point θ = (λ, z_θ) (model space) the denoising distribution is Boltzmann with
//! `U_θ(x) = U(x)/kT + ‖α z(x) − z_θ‖² / (2σ²)`, `z(x) = (x − m)/s` the model's normalisation:
//! a harmonic restraint towards `z_θ/α` of stiffness `e^λ`. Starting from state A, K Langevin
//! steps `x ← x − ½ ds ∇U_θ(x) + sqrt(ds) ξ` at each of the N points carry the walker to B.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::Serialize;

use crate::denoiser::Normalisation;
use crate::potential::Potential;
use crate::schedule;
use crate::systems::config::TransitionConfig;

/// One transition path in data coordinates.
#[derive(Debug, Clone, Serialize)]
pub struct TransitionPath {
    /// Every Langevin iterate, `N·K + 1` frames (the start included).
    pub frames: Vec<Vec<f64>>,
    /// `U(x)` at every frame.
    pub energies: Vec<f64>,
}

impl TransitionPath {
    /// Highest potential energy along the path.
    pub fn max_energy(&self) -> f64 {
        self.energies
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }
}

/// Runs `config.paths` independent paths in parallel; path `p` uses stream `p` of `seed`.
pub fn annealed_langevin(
    potential: &dyn Potential,
    kt: f64,
    normalisation: &Normalisation,
    geodesic: &[Vec<f64>],
    start: &[f64],
    config: &TransitionConfig,
    seed: u64,
) -> Vec<TransitionPath> {
    (0..config.paths)
        .into_par_iter()
        .map(|p| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(p as u64 + 1);
            one_path(
                potential,
                kt,
                normalisation,
                geodesic,
                start,
                config,
                &mut rng,
            )
        })
        .collect()
}

fn one_path(
    potential: &dyn Potential,
    kt: f64,
    norm: &Normalisation,
    geodesic: &[Vec<f64>],
    start: &[f64],
    config: &TransitionConfig,
    rng: &mut ChaCha8Rng,
) -> TransitionPath {
    let dim = start.len();
    let ds = config.step_size;
    let noise = ds.sqrt();
    let mut x = start.to_vec();
    let mut grad = vec![0.0; dim];
    let capacity = geodesic.len() * config.steps_per_point + 1;
    let mut frames = Vec::with_capacity(capacity);
    let mut energies = Vec::with_capacity(capacity);
    frames.push(x.clone());
    // The gradient at the current iterate is kept from the previous step: one evaluation each.
    energies.push(potential.energy_gradient(&x, &mut grad));
    for theta in geodesic {
        let lambda = theta[0];
        let (alpha, sigma2) = (schedule::alpha(lambda), schedule::sigma2(lambda));
        let z_theta = &theta[1..];
        for _ in 0..config.steps_per_point {
            for k in 0..dim {
                let z = (x[k] - norm.mean[k]) / norm.scale;
                let restraint = alpha * (alpha * z - z_theta[k]) / (sigma2 * norm.scale);
                let force = grad[k] / kt + restraint;
                let xi: f64 = rng.sample(StandardNormal);
                x[k] += -0.5 * ds * force + noise * xi;
            }
            energies.push(potential.energy_gradient(&x, &mut grad));
            frames.push(x.clone());
        }
    }
    TransitionPath { frames, energies }
}
