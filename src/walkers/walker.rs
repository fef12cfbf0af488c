//! One walker's state and bookkeeping, stepped alone (a potential guide: one evaluation per
//! step, paths in parallel) or with all others in lockstep (a learnt score: one model
//! evaluation per step for every walker).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::{BatchScore, Dynamics, PathOptions, Restraint, TransitionPath, WalkerParams};
use crate::error::Result;
use crate::potential::Potential;

/// A walker: its position, noise stream and record.
struct Walker<'a> {
    x: Vec<f64>,
    rng: ChaCha8Rng,
    path: TransitionPath,
    scores: Vec<f64>,
    keep_frames: bool,
    keep_energies: bool,
    stride: usize,
    last_step: usize,
    options: &'a PathOptions<'a>,
}

impl<'a> Walker<'a> {
    fn new(
        dynamics: &Dynamics,
        params: &WalkerParams,
        options: &'a PathOptions<'a>,
        seed: u64,
        p: usize,
    ) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(p as u64 + 1);
        let count = dynamics.route.len() * params.steps_per_point + 1;
        let keep_energies = p < options.energies;
        let observed = vec![f64::NEG_INFINITY; options.observer.map_or(0, |o| o.count())];
        Self {
            x: dynamics.start.to_vec(),
            rng,
            path: TransitionPath {
                frames: Vec::new(),
                energies: Vec::with_capacity(if keep_energies { count } else { 0 }),
                max_energy: f64::NEG_INFINITY,
                max_at: 0,
                guide_max: None,
                last: Vec::new(),
                closest_approach: options.near.map(|_| f64::INFINITY),
                observed_max: observed.clone(),
                frame_steps: Vec::new(),
                snapshots: Vec::new(),
                frame_count: 0,
            },
            scores: observed,
            keep_frames: p < options.frames,
            keep_energies,
            stride: options.stride.max(1),
            last_step: count - 1,
            options,
        }
    }

    /// One Euler–Maruyama step with `drift` (`∇U/kT` or `−score`) and the restraint's pull.
    fn step(&mut self, drift: &[f64], restraint: &Restraint, pull: &mut [f64], ds: f64) {
        restraint.gradient(&self.x, pull);
        let noise = ds.sqrt();
        for k in 0..self.x.len() {
            let force = drift[k] + pull[k];
            let xi: f64 = self.rng.sample(StandardNormal);
            self.x[k] += -0.5 * ds * force + noise * xi;
        }
    }

    /// Records the current frame: `guide` is the guiding potential's energy there (if a
    /// potential guided); the judged energy is the judge's, or else the guide's.
    fn record(&mut self, guide: Option<f64>) {
        let options = self.options;
        let x = &self.x;
        let path = &mut self.path;
        if let Some(u) = guide {
            path.guide_max = Some(path.guide_max.map_or(u, |m| m.max(u)));
        }
        let u = match options.judge {
            Some(j) => j.energy(x),
            None => guide.unwrap_or(f64::NAN),
        };
        if let Some(o) = options.observer {
            o.observe(x, &mut self.scores);
            for (m, s) in path.observed_max.iter_mut().zip(self.scores.iter()) {
                *m = m.max(*s);
            }
        }
        // A non-finite energy is kept as the maximum so that the caller sees it.
        if u > path.max_energy || !u.is_finite() {
            path.max_energy = u;
            path.max_at = path.frame_count;
        }
        if let (Some(near), Some(best)) = (options.near, path.closest_approach.as_mut()) {
            let d = near.space.displacement(x, near.point);
            *best = best.min(d.iter().map(|v| v * v).sum::<f64>().sqrt());
        }
        let step = path.frame_count;
        if options.snapshots.contains(&step) {
            path.snapshots.push(x.to_vec());
        }
        if self.keep_frames && (step.is_multiple_of(self.stride) || step == self.last_step) {
            path.frames.push(x.to_vec());
            path.frame_steps.push(step);
        }
        if self.keep_energies {
            path.energies.push(u);
        }
        path.frame_count += 1;
    }

    /// Whether the walker's energy or position went non-finite (it stops there).
    fn failed(&self) -> bool {
        !self.path.max_energy.is_finite() || self.x.iter().any(|v| !v.is_finite())
    }

    fn finish(mut self) -> TransitionPath {
        self.path.last = self.x;
        self.path
    }
}

/// Path `p` guided by a potential: one evaluation per step (the gradient at the current
/// iterate is kept from the previous step).
pub(super) fn run_one(
    potential: &dyn Potential,
    dynamics: &Dynamics,
    params: &WalkerParams,
    options: &PathOptions,
    seed: u64,
    p: usize,
) -> TransitionPath {
    let mut w = Walker::new(dynamics, params, options, seed, p);
    let dim = w.x.len();
    let (mut grad, mut pull) = (vec![0.0; dim], vec![0.0; dim]);
    let kt = dynamics.kt;
    let u = potential.energy_gradient(&w.x, &mut grad);
    w.record(Some(u));
    for theta in dynamics.route {
        let restraint = Restraint::at(dynamics.normalisation, theta, options.fit);
        for _ in 0..params.steps_per_point {
            grad.iter_mut().for_each(|g| *g /= kt);
            w.step(&grad, &restraint, &mut pull, params.step_size);
            let u = potential.energy_gradient(&w.x, &mut grad);
            w.record(Some(u));
            if !u.is_finite() || w.failed() {
                return w.finish();
            }
        }
    }
    w.finish()
}

/// Every path guided by a learnt score, stepped together: the score of all walkers is one
/// batch per step; each walker keeps its own noise stream, so the noise is that of a
/// potential-guided run with the same seed.
pub(super) fn run_together(
    score: &dyn BatchScore,
    dynamics: &Dynamics,
    params: &WalkerParams,
    options: &PathOptions,
    seed: u64,
    indices: std::ops::Range<usize>,
) -> Result<Vec<TransitionPath>> {
    let mut walkers: Vec<Walker> = indices
        .map(|p| Walker::new(dynamics, params, options, seed, p))
        .collect();
    let dim = dynamics.start.len();
    walkers.par_iter_mut().for_each(|w| w.record(None));
    let mut drift = vec![vec![0.0; dim]; walkers.len()];
    let mut positions = vec![Vec::new(); walkers.len()];
    for theta in dynamics.route {
        let restraint = Restraint::at(dynamics.normalisation, theta, options.fit);
        for _ in 0..params.steps_per_point {
            for (x, w) in positions.iter_mut().zip(&walkers) {
                x.clone_from(&w.x);
            }
            score.score(&positions, &mut drift)?;
            walkers
                .par_iter_mut()
                .zip(&mut drift)
                .filter(|(w, _)| !w.failed())
                .for_each(|(w, d)| {
                    d.iter_mut().for_each(|v| *v = -*v);
                    let mut pull = vec![0.0; dim];
                    w.step(d, &restraint, &mut pull, params.step_size);
                    w.record(None);
                });
            if walkers.iter().all(Walker::failed) {
                return Ok(walkers.into_iter().map(Walker::finish).collect());
            }
        }
    }
    Ok(walkers.into_iter().map(Walker::finish).collect())
}
