//! Boltzmann sampling of a potential: replica exchange over a temperature ladder with
//! Metropolis-adjusted Langevin (MALA) moves, several independent ladders in parallel.
//!
//! MALA makes every move exact for its temperature (no discretisation bias), and exchanges with
//! hotter replicas carry the target replica across barriers, so every basin is populated with
//! its Boltzmann weight rather than by where walkers happened to start.

use std::sync::atomic::{AtomicU64, Ordering};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::section::SamplingConfig;
use crate::potential::Potential;

/// Samples of the target temperature with sampler diagnostics.
#[derive(Debug, Clone)]
pub struct Samples {
    /// Configurations (periodic coordinates wrapped).
    pub points: Vec<Vec<f64>>,
    /// Potential evaluations spent.
    pub energy_evaluations: u64,
    /// MALA acceptance per temperature (averaged over ladders).
    pub move_acceptance: Vec<f64>,
    /// Swap acceptance between neighbouring temperatures.
    pub swap_acceptance: Vec<f64>,
    /// The temperature ladder (kT values).
    pub temperatures: Vec<f64>,
}

struct Replica {
    x: Vec<f64>,
    u: f64,
    grad: Vec<f64>,
    step: f64,
    accepted: u64,
    tried: u64,
}

/// Draws Boltzmann samples of `potential` at `kt`, starting walkers uniformly in `domain`;
/// `progress(steps)` is called from the ladders every 1000 steps.
pub fn sample(
    potential: &dyn Potential,
    kt: f64,
    domain: &[[f64; 2]],
    config: &SamplingConfig,
    seed: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Samples {
    let r = config.replicas;
    let temperatures: Vec<f64> = (0..r)
        .map(|i| {
            let f = if r > 1 {
                i as f64 / (r - 1) as f64
            } else {
                0.0
            };
            kt * config.max_temperature.powf(f)
        })
        .collect();
    let evaluations = AtomicU64::new(0);
    let results: Vec<_> = (0..config.chains)
        .into_par_iter()
        .map(|chain| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(chain as u64 + 1);
            let out = run_ladder(potential, &temperatures, domain, config, &mut rng, progress);
            evaluations.fetch_add(out.3, Ordering::Relaxed);
            out
        })
        .collect();
    let mut points = Vec::new();
    let mut moves = vec![0.0; r];
    let mut swaps = vec![0.0; r.saturating_sub(1)];
    for (p, m, s, _) in &results {
        points.extend(p.iter().cloned());
        moves
            .iter_mut()
            .zip(m)
            .for_each(|(a, b)| *a += b / results.len() as f64);
        swaps
            .iter_mut()
            .zip(s)
            .for_each(|(a, b)| *a += b / results.len() as f64);
    }
    Samples {
        points,
        energy_evaluations: evaluations.into_inner(),
        move_acceptance: moves,
        swap_acceptance: swaps,
        temperatures,
    }
}

type LadderResult = (Vec<Vec<f64>>, Vec<f64>, Vec<f64>, u64);

impl Replica {
    /// A replica at a uniformly drawn point of `domain` where the energy is finite.
    fn random(
        potential: &dyn Potential,
        domain: &[[f64; 2]],
        step: f64,
        rng: &mut ChaCha8Rng,
        evaluations: &mut u64,
    ) -> Self {
        let mut grad = vec![0.0; potential.dim()];
        loop {
            let x: Vec<f64> = domain
                .iter()
                .map(|[lo, hi]| rng.random_range(*lo..*hi))
                .collect();
            let u = potential.energy_gradient(&x, &mut grad);
            *evaluations += 1;
            if u.is_finite() {
                return Self {
                    x,
                    u,
                    grad,
                    step,
                    accepted: 0,
                    tried: 0,
                };
            }
        }
    }

    /// One Metropolis-adjusted Langevin step at inverse temperature `beta` (one energy call),
    /// its step size adapted while `adapting`; `scratch` holds the proposal and its gradient.
    fn mala_step(
        &mut self,
        potential: &dyn Potential,
        beta: f64,
        adapting: bool,
        (proposal, grad): (&mut [f64], &mut [f64]),
        rng: &mut ChaCha8Rng,
    ) {
        let h = self.step;
        for ((p, x), g) in proposal.iter_mut().zip(&self.x).zip(&self.grad) {
            let xi: f64 = rng.sample(StandardNormal);
            *p = x - h * beta * g + (2.0 * h).sqrt() * xi;
        }
        let u = potential.energy_gradient(proposal, grad);
        let mut accept = false;
        if u.is_finite() {
            // log q(x | y) − log q(y | x) for the Langevin proposal.
            let (mut fwd, mut bwd) = (0.0, 0.0);
            for k in 0..proposal.len() {
                fwd += (proposal[k] - self.x[k] + h * beta * self.grad[k]).powi(2);
                bwd += (self.x[k] - proposal[k] + h * beta * grad[k]).powi(2);
            }
            let log_ratio = -beta * (u - self.u) - (bwd - fwd) / (4.0 * h);
            accept = log_ratio >= 0.0 || rng.random::<f64>() < log_ratio.exp();
        }
        self.tried += 1;
        if accept {
            self.accepted += 1;
            self.x.copy_from_slice(proposal);
            self.u = u;
            self.grad.copy_from_slice(grad);
        }
        if adapting {
            // Robbins–Monro towards MALA's optimal acceptance of 0.574.
            let target: f64 = 0.574;
            self.step *= if accept {
                (0.05 * (1.0 - target)).exp()
            } else {
                (-0.05 * target).exp()
            };
        }
    }
}

/// Tries to swap the states of replicas `i` and `i + 1` (Metropolis on the two temperatures);
/// whether they swapped.
fn try_swap(
    replicas: &mut [Replica],
    temperatures: &[f64],
    i: usize,
    rng: &mut ChaCha8Rng,
) -> bool {
    let (bi, bj) = (1.0 / temperatures[i], 1.0 / temperatures[i + 1]);
    let log_a = (bi - bj) * (replicas[i].u - replicas[i + 1].u);
    if !(log_a >= 0.0 || rng.random::<f64>() < log_a.exp()) {
        return false;
    }
    let (lo, hi) = replicas.split_at_mut(i + 1);
    std::mem::swap(&mut lo[i].x, &mut hi[0].x);
    std::mem::swap(&mut lo[i].u, &mut hi[0].u);
    std::mem::swap(&mut lo[i].grad, &mut hi[0].grad);
    true
}

fn run_ladder(
    potential: &dyn Potential,
    temperatures: &[f64],
    domain: &[[f64; 2]],
    config: &SamplingConfig,
    rng: &mut ChaCha8Rng,
    progress: &(dyn Fn(u64) + Sync),
) -> LadderResult {
    let dim = potential.dim();
    let width = domain
        .iter()
        .map(|[lo, hi]| hi - lo)
        .fold(f64::INFINITY, f64::min);
    let mut evaluations = 0u64;
    let mut replicas: Vec<Replica> = temperatures
        .iter()
        .map(|_| {
            Replica::random(
                potential,
                domain,
                (0.01 * width).powi(2),
                rng,
                &mut evaluations,
            )
        })
        .collect();
    let (mut swap_ok, mut swap_try) = (
        vec![0u64; temperatures.len().saturating_sub(1)],
        vec![0u64; temperatures.len().saturating_sub(1)],
    );
    let mut kept = Vec::new();
    let total = config.burn_in + config.steps;
    let mut proposal = vec![0.0; dim];
    let mut grad = vec![0.0; dim];
    for step in 0..total {
        let adapting = step < config.burn_in;
        for (rep, &t) in replicas.iter_mut().zip(temperatures) {
            let scratch = (&mut proposal[..], &mut grad[..]);
            rep.mala_step(potential, 1.0 / t, adapting, scratch, rng);
            evaluations += 1;
        }
        if step % config.swap_every == 0 {
            let parity = (step / config.swap_every) % 2;
            for i in (parity..temperatures.len().saturating_sub(1)).step_by(2) {
                swap_try[i] += 1;
                swap_ok[i] += u64::from(try_swap(&mut replicas, temperatures, i, rng));
            }
        }
        if step == config.burn_in {
            replicas.iter_mut().for_each(|r| {
                r.accepted = 0;
                r.tried = 0;
            });
        }
        if !adapting && (step - config.burn_in).is_multiple_of(config.thin) {
            let mut x = replicas[0].x.clone();
            potential.wrap(&mut x);
            kept.push(x);
        }
        if step % 1000 == 999 {
            progress(1000);
        }
    }
    let moves = replicas
        .iter()
        .map(|r| r.accepted as f64 / r.tried.max(1) as f64)
        .collect();
    let swaps = swap_ok
        .iter()
        .zip(&swap_try)
        .map(|(a, t)| *a as f64 / (*t).max(1) as f64)
        .collect();
    (kept, moves, swaps, evaluations)
}
