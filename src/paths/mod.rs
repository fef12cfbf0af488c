//! Transition paths: annealed Langevin dynamics along a spacetime geodesic.
//!
//! At geodesic point θ = (λ, z_θ) (model space) the denoising distribution is Boltzmann with
//! `U_θ(x) = U(x)/kT + ‖α z(x) − z_θ‖² / (2σ²)`, `z(x) = (x − m)/s` the model's normalisation:
//! a harmonic restraint towards the centre `m + s z_θ/α` of stiffness `e^λ/s²` (data units).
//! Starting from state A, K Langevin steps `x ← x − ½ ds ∇U_θ(x) + sqrt(ds) ξ` at each of the N
//! points carry the walker to B. A frame is one such step: an annealing step, not a unit of
//! physical time.
//!
//! Paths are independent and run in parallel; each keeps its statistics (highest energy, its
//! end, its closest approach to a point of interest) and, for the first few, its frames.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::Serialize;

use crate::denoiser::Normalisation;
use crate::error::{Error, Result};
use crate::potential::Potential;
use crate::toml_file::Checks;

/// The `[transition]` section: annealed Langevin dynamics along the geodesic.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransitionConfig {
    /// Log-SNR of the geodesic's endpoints, in model units (the restraint's width in data
    /// units is `s·e^(−λ/2)`, `s` the model's normalisation scale).
    pub lambda_max: f64,
    /// Langevin steps K at each geodesic point.
    pub steps_per_point: usize,
    /// Langevin step size ds, squared data units (rad² for molecules in their variables, nm²
    /// on all atoms).
    pub step_size: f64,
    /// Independent paths.
    pub paths: usize,
    /// Molecules: write an all-atom structure every this many Langevin frames (back-mapped
    /// for paths in the variables).
    pub backmap_every: usize,
}

impl Default for TransitionConfig {
    fn default() -> Self {
        Self {
            lambda_max: 4.0,
            steps_per_point: 128,
            step_size: 4e-4,
            paths: 8,
            backmap_every: 64,
        }
    }
}

impl TransitionConfig {
    /// Checks every value.
    pub fn check(&self, c: &Checks) -> Result<()> {
        c.finite(self.lambda_max, "transition.lambda_max")?;
        c.positive(self.step_size, "transition.step_size")?;
        c.at_least(self.steps_per_point, 1, "transition.steps_per_point")?;
        c.at_least(self.paths, 1, "transition.paths")?;
        c.at_least(self.backmap_every, 1, "transition.backmap_every")
    }
}

/// Moves a restraint centre onto a walker before each step: all-atom walkers have the centre
/// superposed on them, so that the restraint never acts on rigid-body motion.
pub trait CentreFit: Sync {
    /// `centre` (data units) moved onto `walker`.
    fn fit(&self, centre: &[f64], walker: &[f64]) -> Vec<f64>;
}

/// Scores of a frame whose maxima along each path are recorded (e.g. the free energy of a
/// walker's collective variables, the strain of its bonds).
pub trait Observer: Sync {
    /// How many scores.
    fn count(&self) -> usize;
    /// The scores of `x`.
    fn observe(&self, x: &[f64], scores: &mut [f64]);
}

/// The restraint of one geodesic point `(λ, z…)`: the energy `½ k |x − c|²` (in kT) with
/// stiffness `k = e^λ/s²` and centre `c = m + s z/α`, moved onto the walker first if a fit is
/// given (then `c` depends on `x`, but for a least-squares fit over all coordinates the
/// gradient is still `k (x − c)`: the fit is optimal, so its own variation does not count).
pub struct Restraint<'a> {
    /// `e^λ/s²`, per squared data unit.
    pub stiffness: f64,
    /// The centre, data units.
    pub centre: Vec<f64>,
    fit: Option<&'a dyn CentreFit>,
}

impl<'a> Restraint<'a> {
    /// The restraint of geodesic point `theta` (model units).
    pub fn at(
        normalisation: &Normalisation,
        theta: &[f64],
        fit: Option<&'a dyn CentreFit>,
    ) -> Self {
        Self {
            stiffness: theta[0].exp() / normalisation.scale.powi(2),
            centre: normalisation.centre(theta),
            fit,
        }
    }

    /// The centre the walker at `x` is pulled towards.
    pub fn centre_for(&self, x: &[f64]) -> Vec<f64> {
        match self.fit {
            Some(f) => f.fit(&self.centre, x),
            None => self.centre.clone(),
        }
    }

    /// The gradient of the restraint energy (in kT) at `x`.
    pub fn gradient(&self, x: &[f64], out: &mut [f64]) {
        let c = self.centre_for(x);
        for ((o, xi), ci) in out.iter_mut().zip(x).zip(&c) {
            *o = self.stiffness * (xi - ci);
        }
    }
}

/// What the walkers keep beyond their statistics, and what they do beyond the paper's
/// dynamics.
#[derive(Clone, Copy, Default)]
pub struct PathOptions<'a> {
    /// The first this many paths keep frames.
    pub frames: usize,
    /// Of those, every `stride`-th frame and the last (0 or 1: all).
    pub stride: usize,
    /// The first this many paths keep the energy of every frame.
    pub energies: usize,
    /// Record each path's closest approach to this point (e.g. the saddle).
    pub near: Option<&'a [f64]>,
    /// Scores whose maxima each path records.
    pub observer: Option<&'a dyn Observer>,
    /// Moves the restraint centre onto the walker before each step.
    pub fit: Option<&'a dyn CentreFit>,
    /// Every path keeps its frame at these steps (e.g. where the restraint is weakest).
    pub snapshots: &'a [usize],
}

/// One transition path in data coordinates.
#[derive(Debug, Clone, Serialize)]
pub struct TransitionPath {
    /// Every Langevin iterate, `N·K + 1` frames with the start (empty unless kept).
    pub frames: Vec<Vec<f64>>,
    /// `U(x)` at every frame (empty unless kept).
    pub energies: Vec<f64>,
    /// Highest `U` along the path.
    pub max_energy: f64,
    /// Frame at which it was reached.
    pub max_at: usize,
    /// The last frame.
    pub last: Vec<f64>,
    /// Smallest distance to [`PathOptions::near`] (minimum image).
    pub closest_approach: Option<f64>,
    /// Largest value of every score of [`PathOptions::observer`].
    pub observed_max: Vec<f64>,
    /// Index (Langevin step) of every kept frame.
    pub frame_steps: Vec<usize>,
    /// The frames at [`PathOptions::snapshots`].
    pub snapshots: Vec<Vec<f64>>,
    /// Frames (the start included).
    pub frame_count: usize,
}

/// Steps with `ds · stiffness` above this are refused: the Euler–Maruyama step of the
/// restraint alone is unstable at 2, and inaccurate well before.
pub const MAX_STEP_STIFFNESS: f64 = 1.0;

/// Checks that `ds` resolves the stiffest restraint along the geodesic.
pub fn check_step_size(
    normalisation: &Normalisation,
    geodesic: &[Vec<f64>],
    config: &TransitionConfig,
) -> Result<()> {
    let lambda = geodesic
        .iter()
        .map(|p| p[0])
        .fold(f64::NEG_INFINITY, f64::max);
    let stiffness = lambda.exp() / normalisation.scale.powi(2);
    if config.step_size * stiffness > MAX_STEP_STIFFNESS {
        return Err(Error::Invalid(format!(
            "transition.step_size = {} is too large for the restraint at λ = {lambda:.2} \
             (stiffness e^λ/s² = {stiffness:.4e} per squared data unit): the walkers would be \
             unstable; use step_size ≤ {:.3e} or a lower lambda_max",
            config.step_size,
            MAX_STEP_STIFFNESS / stiffness
        )));
    }
    Ok(())
}

/// Runs `config.paths` independent paths in parallel; path `p` uses stream `p` of `seed`.
///
/// Fails if the step size is too large for the restraints or any path's energy becomes
/// non-finite.
#[allow(clippy::too_many_arguments)]
pub fn annealed_langevin(
    potential: &dyn Potential,
    kt: f64,
    normalisation: &Normalisation,
    geodesic: &[Vec<f64>],
    start: &[f64],
    config: &TransitionConfig,
    options: &PathOptions,
    seed: u64,
) -> Result<Vec<TransitionPath>> {
    check_step_size(normalisation, geodesic, config)?;
    let paths: Vec<TransitionPath> = (0..config.paths)
        .into_par_iter()
        .map(|p| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(p as u64 + 1);
            let walker = Walker {
                potential,
                kt,
                norm: normalisation,
                config,
                keep_frames: p < options.frames,
                stride: options.stride.max(1),
                keep_energies: p < options.energies,
                options,
            };
            walker.run(geodesic, start, &mut rng)
        })
        .collect();
    if let Some((k, p)) = paths
        .iter()
        .enumerate()
        .find(|(_, p)| !p.max_energy.is_finite())
    {
        return Err(Error::NonFinite(format!(
            "annealed Langevin path {k} reached a non-finite energy (at frame {}): the walker \
             left the surface's finite region; reduce transition.step_size ({})",
            p.max_at, config.step_size
        )));
    }
    Ok(paths)
}

struct Walker<'a> {
    potential: &'a dyn Potential,
    kt: f64,
    norm: &'a Normalisation,
    config: &'a TransitionConfig,
    keep_frames: bool,
    stride: usize,
    keep_energies: bool,
    options: &'a PathOptions<'a>,
}

impl Walker<'_> {
    fn run(&self, geodesic: &[Vec<f64>], start: &[f64], rng: &mut ChaCha8Rng) -> TransitionPath {
        let dim = start.len();
        let ds = self.config.step_size;
        let noise = ds.sqrt();
        let mut x = start.to_vec();
        let mut grad = vec![0.0; dim];
        let count = geodesic.len() * self.config.steps_per_point + 1;
        let mut path = TransitionPath {
            frames: Vec::new(),
            energies: Vec::with_capacity(if self.keep_energies { count } else { 0 }),
            max_energy: f64::NEG_INFINITY,
            max_at: 0,
            last: Vec::new(),
            closest_approach: self.options.near.map(|_| f64::INFINITY),
            observed_max: vec![f64::NEG_INFINITY; self.options.observer.map_or(0, |o| o.count())],
            frame_steps: Vec::new(),
            snapshots: Vec::new(),
            frame_count: 0,
        };
        let mut scores = path.observed_max.clone();
        // The gradient at the current iterate is kept from the previous step: one evaluation
        // each.
        let u = self.potential.energy_gradient(&x, &mut grad);
        let last_step = count - 1;
        self.record(&mut path, &x, u, &mut scores, last_step);
        let mut pull = vec![0.0; dim];
        for theta in geodesic {
            let restraint = Restraint::at(self.norm, theta, self.options.fit);
            for _ in 0..self.config.steps_per_point {
                restraint.gradient(&x, &mut pull);
                for k in 0..dim {
                    let force = grad[k] / self.kt + pull[k];
                    let xi: f64 = rng.sample(StandardNormal);
                    x[k] += -0.5 * ds * force + noise * xi;
                }
                let u = self.potential.energy_gradient(&x, &mut grad);
                self.record(&mut path, &x, u, &mut scores, last_step);
                if !u.is_finite() {
                    path.last = x;
                    return path;
                }
            }
        }
        path.last = x;
        path
    }

    fn record(
        &self,
        path: &mut TransitionPath,
        x: &[f64],
        u: f64,
        scores: &mut [f64],
        last_step: usize,
    ) {
        if let Some(o) = self.options.observer {
            o.observe(x, scores);
            for (m, s) in path.observed_max.iter_mut().zip(scores.iter()) {
                *m = m.max(*s);
            }
        }
        // A non-finite energy is kept as the maximum so that the caller sees it.
        if u > path.max_energy || !u.is_finite() {
            path.max_energy = u;
            path.max_at = path.frame_count;
        }
        if let (Some(near), Some(best)) = (self.options.near, path.closest_approach.as_mut()) {
            let d = self.potential.displacement(x, near);
            *best = best.min(d.iter().map(|v| v * v).sum::<f64>().sqrt());
        }
        let step = path.frame_count;
        if self.options.snapshots.contains(&step) {
            path.snapshots.push(x.to_vec());
        }
        if self.keep_frames && (step.is_multiple_of(self.stride) || step == last_step) {
            path.frames.push(x.to_vec());
            path.frame_steps.push(step);
        }
        if self.keep_energies {
            path.energies.push(u);
        }
        path.frame_count += 1;
    }
}

/// The restraint centre `m + s z/α` (data units) of every geodesic point `(λ, z…)`: what the
/// walkers follow.
pub fn restraint_centres(normalisation: &Normalisation, geodesic: &[Vec<f64>]) -> Vec<Vec<f64>> {
    geodesic.iter().map(|p| normalisation.centre(p)).collect()
}
