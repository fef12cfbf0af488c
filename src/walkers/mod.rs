//! Transition paths: annealed Langevin dynamics along a sequence of restraint points.
//!
//! At point θ = (λ, z_θ) (model space) the denoising distribution is Boltzmann with
//! `U_θ(x) = U(x)/kT + ‖α z(x) − z_θ‖² / (2σ²)`, `z(x) = (x − m)/s` the model's normalisation:
//! a harmonic restraint towards the centre `m + s z_θ/α` of stiffness `e^λ/s²` (data units).
//! Starting from state A, K Langevin steps `x ← x − ½ ds ∇U_θ(x) + sqrt(ds) ξ` at each of the N
//! points carry the walker to B. A frame is one such step: an annealing step, not a unit of
//! physical time.
//!
//! What stands for `∇U/kT` is the [`Guide`]: the system's energy, or a learnt score (the
//! model alone, no energy called). What judges each frame is a [`Judge`], which need not be
//! what guided: a path is scored on a surface that did not produce it wherever one exists.
//!
//! Paths are independent; each keeps its statistics (highest judged energy, its end, its
//! closest approach to a point of interest) and, for the first few, its frames. Path `p` draws
//! its noise from stream `p` of the seed whatever the guide, so routes compared on one seed
//! feel the same noise.

mod walker;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::denoiser::Normalisation;
use crate::potential::Potential;

/// How the walkers move: K Langevin steps of size ds at each route point, and how many
/// independent paths.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WalkerParams {
    /// Langevin steps K at each route point.
    pub steps_per_point: usize,
    /// Langevin step size ds, squared data units.
    pub step_size: f64,
    /// Independent paths.
    pub paths: usize,
}

/// What stands for `∇U/kT` in the walkers' drift.
#[derive(Clone, Copy)]
pub enum Guide<'a> {
    /// The gradient of a potential (data units), divided by kT.
    Potential(&'a dyn Potential),
    /// A learnt score `∇ log q`, evaluated for every walker at once.
    Score(&'a dyn BatchScore),
}

/// A learnt score of the data distribution, `∇ log q(x)` in data units (so `−∇U/kT`), for a
/// batch of points: what a model stands in for when no energy is called.
pub trait BatchScore: Sync {
    /// The score at every row of `points`, written into `out` (same shape).
    fn score(&self, points: &[Vec<f64>], out: &mut [Vec<f64>]) -> Result<()>;
}

/// The energy that judges each frame (for the per-path maximum): a surface that need not be
/// the one that guided.
pub trait Judge: Sync {
    /// The judged energy of `x` (data coordinates).
    fn energy(&self, x: &[f64]) -> f64;
}

/// A potential judging frames in its own coordinates.
pub struct SurfaceJudge<'a>(pub &'a dyn Potential);

impl Judge for SurfaceJudge<'_> {
    fn energy(&self, x: &[f64]) -> f64 {
        self.0.energy(x)
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

/// The restraint of one route point `(λ, z…)`: the energy `½ k |x − c|²` (in kT) with
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
    /// The restraint of route point `theta` (model units).
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

/// A point whose closest approach each path records, and the space that measures distances
/// (minimum image on periodic coordinates).
#[derive(Clone, Copy)]
pub struct Near<'a> {
    /// The point (e.g. the reference saddle).
    pub point: &'a [f64],
    /// Distances are this potential's displacements.
    pub space: &'a dyn Potential,
}

/// What the walkers keep beyond their statistics, and what they do beyond the paper's
/// dynamics.
#[derive(Clone, Copy, Default)]
pub struct PathOptions<'a> {
    /// The first this many paths keep frames.
    pub frames: usize,
    /// Of those, every `stride`-th frame and the last (0 or 1: all).
    pub stride: usize,
    /// The first this many paths keep the judged energy of every frame.
    pub energies: usize,
    /// Judges every frame; `None`: the guide's own energy (a potential guide only).
    pub judge: Option<&'a dyn Judge>,
    /// Record each path's closest approach to this point.
    pub near: Option<Near<'a>>,
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
    /// The judged energy at every frame (empty unless kept).
    pub energies: Vec<f64>,
    /// Highest judged energy along the path.
    pub max_energy: f64,
    /// Frame at which it was reached.
    pub max_at: usize,
    /// Highest energy of the guiding potential, when a potential guided.
    pub guide_max: Option<f64>,
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

/// Checks that `ds` resolves the stiffest restraint along the route.
pub fn check_step_size(
    normalisation: &Normalisation,
    route: &[Vec<f64>],
    params: &WalkerParams,
) -> Result<()> {
    let lambda = route.iter().map(|p| p[0]).fold(f64::NEG_INFINITY, f64::max);
    let stiffness = lambda.exp() / normalisation.scale.powi(2);
    if params.step_size * stiffness > MAX_STEP_STIFFNESS {
        return Err(Error::Invalid(format!(
            "transition.step_size = {} is too large for the restraint at λ = {lambda:.2} \
             (stiffness e^λ/s² = {stiffness:.4e} per squared data unit): the walkers would be \
             unstable; use step_size ≤ {:.3e} or a lower lambda_max",
            params.step_size,
            MAX_STEP_STIFFNESS / stiffness
        )));
    }
    Ok(())
}

/// The dynamics shared by every path: the guide, kT, the model's map and the route.
#[derive(Clone, Copy)]
pub struct Dynamics<'a> {
    /// What stands for `∇U/kT`.
    pub guide: Guide<'a>,
    /// Thermal energy (divides a potential guide's gradient).
    pub kt: f64,
    /// The model's map between data and model space (the restraint's stiffness and centres).
    pub normalisation: &'a Normalisation,
    /// The route's points `(λ, z…)`, model units.
    pub route: &'a [Vec<f64>],
    /// The walkers' start (data units).
    pub start: &'a [f64],
}

/// Runs `params.paths` independent paths; path `p` uses stream `p` of `seed`. A potential
/// guide runs the paths in parallel; a learnt score steps them together, evaluating the
/// model once per step for all of them.
///
/// Fails if the step size is too large for the restraints, if the options need the guide's
/// energy and the guide has none, or if any path's energy becomes non-finite.
pub fn annealed_langevin(
    dynamics: &Dynamics,
    params: &WalkerParams,
    options: &PathOptions,
    seed: u64,
) -> Result<Vec<TransitionPath>> {
    annealed_langevin_paths(dynamics, params, options, seed, 0..params.paths)
}

/// Runs only the paths `indices` of a run of `params.paths`: each is the path of that index in
/// the whole run (its noise stream, its kept frames and profile), so that runs split into
/// parts give the same paths.
pub fn annealed_langevin_paths(
    dynamics: &Dynamics,
    params: &WalkerParams,
    options: &PathOptions,
    seed: u64,
    indices: std::ops::Range<usize>,
) -> Result<Vec<TransitionPath>> {
    check_step_size(dynamics.normalisation, dynamics.route, params)?;
    let paths = match dynamics.guide {
        Guide::Potential(potential) => indices
            .clone()
            .into_par_iter()
            .map(|p| walker::run_one(potential, dynamics, params, options, seed, p))
            .collect(),
        Guide::Score(score) => {
            if options.judge.is_none() {
                return Err(Error::Invalid(
                    "a learnt score has no energy: paths guided by it need a surface to be \
                     judged on"
                        .into(),
                ));
            }
            walker::run_together(score, dynamics, params, options, seed, indices.clone())?
        }
    };
    if let Some((k, p)) = paths
        .iter()
        .enumerate()
        .find(|(_, p)| !p.max_energy.is_finite() || p.last.iter().any(|v| !v.is_finite()))
    {
        let k = k + indices.start;
        return Err(Error::NonFinite(format!(
            "annealed Langevin path {k} reached a non-finite energy (at frame {}): the walker \
             left the surface's finite region; reduce transition.step_size ({})",
            p.max_at, params.step_size
        )));
    }
    Ok(paths)
}

/// The restraint centre `m + s z/α` (data units) of every route point `(λ, z…)`: what the
/// walkers follow.
pub fn restraint_centres(normalisation: &Normalisation, route: &[Vec<f64>]) -> Vec<Vec<f64>> {
    route.iter().map(|p| normalisation.centre(p)).collect()
}
