//! Spacetime geodesics: minimise the discrete curve energy over the spline coefficients with
//! Adam, optionally with a low-variance or region-avoiding penalty.

use burn::tensor::activation::softplus;
use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::spacetime::{self, DivergenceConfig, Parameters, Probes};
use super::spline::CurveGrid;
use crate::compute;
use crate::denoiser::Denoiser;
use crate::error::{Error, Result};

/// An extra requirement on the curve, enforced by a penalty added to the energy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Constraint {
    /// Plain geodesic.
    None,
    /// Keep λ above `min_lambda` so every denoising distribution stays narrow:
    /// `weight · Σ_n softplus(min_lambda − λ_n)`.
    LowVariance {
        min_lambda: f64,
        #[serde(default = "default_penalty_weight")]
        weight: f64,
    },
    /// Keep `KL(p(·|θ*) ‖ p(·|γ(s)))` above `min_kl` for the forbidden point θ* = `point`
    /// (`(λ, x…)`): `weight · Σ_n softplus(min_kl − KL_n)`.
    AvoidRegion {
        point: Vec<f64>,
        min_kl: f64,
        #[serde(default = "default_penalty_weight")]
        weight: f64,
    },
}

/// Curves with at least this many points are evaluated in two halves on two threads.
const PARALLEL_MIN_POINTS: usize = 64;

fn default_penalty_weight() -> f64 {
    10.0
}

/// Settings of the geodesic optimisation (paper defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeodesicConfig {
    /// Curve sample points `N`.
    #[serde(default = "default_points")]
    pub points: usize,
    /// Spline nodes.
    #[serde(default = "default_nodes")]
    pub nodes: usize,
    /// Maximum Adam steps.
    #[serde(default = "default_steps")]
    pub steps: usize,
    /// Adam learning rate.
    #[serde(default = "default_learning_rate")]
    pub learning_rate: f64,
    /// Stop when the energy changed by less than this fraction over `window` steps.
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    /// Steps over which the relative energy change is measured.
    #[serde(default = "default_window")]
    pub window: usize,
    /// Exact or Hutchinson divergence.
    #[serde(default)]
    pub divergence: DivergenceConfig,
    /// Optional constraint.
    #[serde(default = "default_constraint")]
    pub constraint: Constraint,
}

fn default_points() -> usize {
    128
}
fn default_nodes() -> usize {
    10
}
fn default_steps() -> usize {
    10_000
}
fn default_learning_rate() -> f64 {
    0.1
}
fn default_tolerance() -> f64 {
    1e-5
}
fn default_window() -> usize {
    100
}
fn default_constraint() -> Constraint {
    Constraint::None
}

impl Default for GeodesicConfig {
    fn default() -> Self {
        Self {
            points: default_points(),
            nodes: default_nodes(),
            steps: default_steps(),
            learning_rate: default_learning_rate(),
            tolerance: default_tolerance(),
            window: default_window(),
            divergence: DivergenceConfig::default(),
            constraint: default_constraint(),
        }
    }
}

/// An optimised curve.
#[derive(Debug, Clone, Serialize)]
pub struct Geodesic {
    /// Points `(λ, x_1, …, x_D)` along the curve, `N` of them.
    pub points: Vec<Vec<f64>>,
    /// Spline coefficients, `nodes × (1 + D)` row-major.
    pub coefficients: Vec<f64>,
    /// Discrete energy `(N−1)/2 Σ Δη·Δμ` (without penalty).
    pub energy: f64,
    /// Discrete length `Σ sqrt(Δη·Δμ)`.
    pub length: f64,
    /// Energy plus penalty after every step.
    pub trace: Vec<f64>,
    /// Adam steps taken.
    pub steps: usize,
    /// Whether the stopping rule was met before the step limit.
    pub converged: bool,
}

/// Energy and length of a curve given by its points, without optimisation.
pub fn measure(
    denoiser: &dyn Denoiser,
    points: Tensor<2>,
    divergence: &DivergenceConfig,
    seed: u64,
) -> (f64, f64) {
    let [n, cols] = points.dims();
    let device = points.device();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let probes = Probes::for_config(divergence, n, cols - 1, &mut rng, &device);
    let chords = Parameters::at(denoiser, points, &probes).chords();
    let host = compute::to_host(chords.clone());
    (
        compute::scalar(spacetime::energy(chords)),
        spacetime::length(&host),
    )
}

/// Energy and length of the straight line between two spacetime points.
pub fn straight_line(
    denoiser: &dyn Denoiser,
    start: &[f64],
    end: &[f64],
    config: &GeodesicConfig,
    device: &Device,
) -> (f64, f64) {
    let grid = CurveGrid::new(start, end, config.points, config.nodes, device);
    let zero = Tensor::zeros([grid.nodes(), grid.columns()], device);
    measure(denoiser, grid.evaluate(zero), &config.divergence, 0)
}

/// The penalty terms of a constraint, prepared once per optimisation.
enum Penalty {
    None,
    LowVariance { min_lambda: f64, weight: f64 },
    AvoidRegion(Box<RegionPenalty>),
}

/// The forbidden point's expectation parameters and the KL from it to the curve's start.
struct RegionPenalty {
    mu_sq: f64,
    mu_lin: Tensor<2>,
    kl_start: f64,
    min_kl: f64,
    weight: f64,
}

impl Penalty {
    fn new(
        constraint: &Constraint,
        denoiser: &dyn Denoiser,
        start: &[f64],
        config: &GeodesicConfig,
        device: &Device,
    ) -> Result<Self> {
        Ok(match constraint {
            Constraint::None => Penalty::None,
            &Constraint::LowVariance { min_lambda, weight } => {
                Penalty::LowVariance { min_lambda, weight }
            }
            Constraint::AvoidRegion {
                point,
                min_kl,
                weight,
            } => {
                if point.len() != start.len() {
                    return Err(Error::Invalid(format!(
                        "forbidden point has {} coordinates, the curve has {} (λ first)",
                        point.len(),
                        start.len()
                    )));
                }
                let star = compute::matrix(point, 1, point.len(), device);
                let mut rng = ChaCha8Rng::seed_from_u64(0);
                let probes =
                    Probes::for_config(&config.divergence, 1, point.len() - 1, &mut rng, device);
                let p = Parameters::at(denoiser, star, &probes);
                let mu_sq = compute::scalar(p.mu_sq);
                // KL(θ* ‖ θ_start) by the same running integral along a fine straight line.
                let grid = CurveGrid::new(point, start, 512, 1, device);
                let line = grid.evaluate(Tensor::zeros([1, point.len()], device));
                let kl = running_kl(denoiser, line, mu_sq, p.mu_lin.clone(), 0.0, config);
                let kl_start = *compute::to_host(kl).last().expect("non-empty");
                Penalty::AvoidRegion(Box::new(RegionPenalty {
                    mu_sq,
                    mu_lin: p.mu_lin,
                    kl_start,
                    min_kl: *min_kl,
                    weight: *weight,
                }))
            }
        })
    }

    fn value(&self, points: &Tensor<2>, params: &Parameters) -> Option<Tensor<1>> {
        match self {
            Penalty::None => None,
            Penalty::LowVariance { min_lambda, weight } => {
                let n = points.dims()[0];
                let lambda = points.clone().slice([0..n, 0..1]);
                let below = lambda.neg().add_scalar(*min_lambda);
                Some(softplus(below, 1.0).sum().mul_scalar(*weight))
            }
            Penalty::AvoidRegion(r) => {
                let kl = kl_along(params, r.mu_sq, r.mu_lin.clone(), r.kl_start);
                let short = kl.neg().add_scalar(r.min_kl);
                Some(softplus(short, 1.0).sum().mul_scalar(r.weight))
            }
        }
    }
}

/// `KL(θ* ‖ γ_n)` at every curve point: `KL_0 + Σ_{m<n} Δη_m · (μ̄_m − μ*)`, with the
/// trapezoidal mean `μ̄_m` of the segment.
fn kl_along(params: &Parameters, mu_sq: f64, mu_lin: Tensor<2>, kl_start: f64) -> Tensor<1> {
    let n = params.eta_sq.dims()[0];
    let seg = |t: &Tensor<2>| {
        let cols = t.dims()[1];
        (
            t.clone().slice([1..n, 0..cols]) - t.clone().slice([0..n - 1, 0..cols]),
            (t.clone().slice([1..n, 0..cols]) + t.clone().slice([0..n - 1, 0..cols]))
                .mul_scalar(0.5),
        )
    };
    let (d_sq, _) = seg(&params.eta_sq);
    let (d_lin, _) = seg(&params.eta_lin);
    let (_, m_sq) = seg(&params.mu_sq);
    let (_, m_lin) = seg(&params.mu_lin);
    let steps = d_sq * m_sq.sub_scalar(mu_sq) + (d_lin * (m_lin - mu_lin)).sum_dim(1);
    let running = steps.reshape([n - 1]).cumsum(0).add_scalar(kl_start);
    let first = Tensor::<1>::from_data([kl_start], &running.device());
    Tensor::cat(vec![first, running], 0)
}

fn running_kl(
    denoiser: &dyn Denoiser,
    points: Tensor<2>,
    mu_sq: f64,
    mu_lin: Tensor<2>,
    kl_start: f64,
    config: &GeodesicConfig,
) -> Tensor<1> {
    let [n, cols] = points.dims();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let probes = Probes::for_config(&config.divergence, n, cols - 1, &mut rng, &points.device());
    let params = Parameters::at(denoiser, points, &probes);
    kl_along(&params, mu_sq, mu_lin, kl_start)
}

/// KL divergence `KL(p(·|θ*) ‖ p(·|γ_n))` from a point to every point of a curve.
pub fn kl_from_point(
    denoiser: &dyn Denoiser,
    point: &[f64],
    curve: &[Vec<f64>],
    config: &GeodesicConfig,
    device: &Device,
) -> Result<Vec<f64>> {
    let constraint = Constraint::AvoidRegion {
        point: point.to_vec(),
        min_kl: 0.0,
        weight: 0.0,
    };
    let start = curve
        .first()
        .ok_or_else(|| Error::Invalid("empty curve".into()))?;
    let Penalty::AvoidRegion(r) = Penalty::new(&constraint, denoiser, start, config, device)?
    else {
        unreachable!("an avoid-region constraint gives an avoid-region penalty")
    };
    let flat: Vec<f64> = curve.iter().flatten().copied().collect();
    let points = compute::matrix(&flat, curve.len(), start.len(), device);
    Ok(compute::to_host(running_kl(
        denoiser, points, r.mu_sq, r.mu_lin, r.kl_start, config,
    )))
}

/// Adam on a flat parameter vector (the spline coefficients are a few dozen numbers: the update
/// is cheaper on the host than as tensor operations).
struct Adam {
    lr: f64,
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Adam {
    const BETA1: f64 = 0.9;
    const BETA2: f64 = 0.999;
    const EPS: f64 = 1e-8;

    fn new(lr: f64, size: usize) -> Self {
        Self {
            lr,
            m: vec![0.0; size],
            v: vec![0.0; size],
            t: 0,
        }
    }

    fn step(&mut self, params: &mut [f64], grad: &[f64]) {
        self.t += 1;
        let c1 = 1.0 - Self::BETA1.powi(self.t);
        let c2 = 1.0 - Self::BETA2.powi(self.t);
        for i in 0..params.len() {
            self.m[i] = Self::BETA1 * self.m[i] + (1.0 - Self::BETA1) * grad[i];
            self.v[i] = Self::BETA2 * self.v[i] + (1.0 - Self::BETA2) * grad[i] * grad[i];
            params[i] -= self.lr * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + Self::EPS);
        }
    }
}

/// Objective value and gradient with respect to the spline coefficients.
pub struct Evaluation {
    /// Energy plus penalty.
    pub objective: f64,
    /// Energy alone.
    pub energy: f64,
    /// `∂ objective / ∂ coefficients`, row-major `nodes × (1 + D)`.
    pub gradient: Vec<f64>,
    /// Chords of the curve.
    pub chords: Vec<f64>,
    /// Curve points, row-major `N × (1 + D)`.
    pub points: Vec<f64>,
}

/// The geodesic problem between two fixed spacetime points.
pub struct GeodesicProblem<'a> {
    denoiser: &'a dyn Denoiser,
    grid: CurveGrid,
    penalty: Penalty,
    config: GeodesicConfig,
    device: Device,
    rng: ChaCha8Rng,
}

impl<'a> GeodesicProblem<'a> {
    /// Sets up the problem; `device` must have autodiff enabled.
    pub fn new(
        denoiser: &'a dyn Denoiser,
        start: &[f64],
        end: &[f64],
        config: &GeodesicConfig,
        seed: u64,
        device: &Device,
    ) -> Result<Self> {
        let d = denoiser.dim();
        if start.len() != d + 1 || end.len() != d + 1 {
            return Err(Error::Invalid(format!(
                "spacetime points need 1 + {d} coordinates (λ then x), got {} and {}",
                start.len(),
                end.len()
            )));
        }
        if start.iter().chain(end).any(|v| !v.is_finite()) {
            return Err(Error::Invalid("spacetime endpoints must be finite".into()));
        }
        if config.points < 3 || config.nodes < 1 {
            return Err(Error::Invalid(
                "a geodesic needs at least 3 points and 1 spline node".into(),
            ));
        }
        if !device.is_autodiff() {
            return Err(Error::Device(
                "geodesic optimisation needs an autodiff device".into(),
            ));
        }
        let penalty = Penalty::new(&config.constraint, denoiser, start, config, device)?;
        Ok(Self {
            denoiser,
            grid: CurveGrid::new(start, end, config.points, config.nodes, device),
            penalty,
            config: config.clone(),
            device: device.clone(),
            rng: ChaCha8Rng::seed_from_u64(seed),
        })
    }

    /// Number of free parameters.
    pub fn size(&self) -> usize {
        self.grid.nodes() * self.grid.columns()
    }

    /// Objective, energy and gradient at `coefficients`.
    ///
    /// Without a region-avoiding constraint the curve is cut in two halves (sharing the middle
    /// point) whose parameters, chords and gradients are computed on two threads: every term
    /// but the running KL is a sum over points or chords. The split does not depend on the
    /// number of threads, so results are the same on any machine.
    pub fn evaluate(&mut self, coefficients: &[f64]) -> Evaluation {
        let n = self.grid.points();
        let dim = self.grid.columns() - 1;
        let split = n >= PARALLEL_MIN_POINTS && !matches!(self.penalty, Penalty::AvoidRegion(_));
        if !split {
            let probes =
                Probes::for_config(&self.config.divergence, n, dim, &mut self.rng, &self.device);
            return self.evaluate_rows(coefficients, 0, n - 1, &probes, true);
        }
        let m = n / 2;
        let cfg = self.config.divergence;
        let p1 = Probes::for_config(&cfg, m + 1, dim, &mut self.rng, &self.device);
        let p2 = Probes::for_config(&cfg, n - m, dim, &mut self.rng, &self.device);
        let this = &*self;
        let (a, b) = rayon::join(
            || this.evaluate_rows(coefficients, 0, m, &p1, false),
            || this.evaluate_rows(coefficients, m, n - 1, &p2, true),
        );
        let cols = dim + 1;
        let mut points = a.points;
        points.truncate(m * cols);
        points.extend(b.points);
        let mut chords = a.chords;
        chords.extend(b.chords);
        Evaluation {
            objective: a.objective + b.objective,
            energy: a.energy + b.energy,
            gradient: a
                .gradient
                .iter()
                .zip(&b.gradient)
                .map(|(x, y)| x + y)
                .collect(),
            chords,
            points,
        }
    }

    /// The terms of points `first..=last` (their chords, and the penalty of every point but
    /// `last` unless `penalise_last`), with their gradient.
    fn evaluate_rows(
        &self,
        coefficients: &[f64],
        first: usize,
        last: usize,
        probes: &Probes,
        penalise_last: bool,
    ) -> Evaluation {
        let (nodes, cols) = (self.grid.nodes(), self.grid.columns());
        let c = compute::matrix(coefficients, nodes, cols, &self.device).require_grad();
        let points = self.grid.evaluate_rows(c.clone(), first, last);
        let params = Parameters::at(self.denoiser, points.clone(), probes);
        let chords = params.chords();
        let segments = (self.grid.points() - 1) as f64;
        let energy = chords.clone().sum().mul_scalar(0.5 * segments);
        let rows = last - first + usize::from(penalise_last);
        let penalised = points.clone().slice([0..rows, 0..cols]);
        let objective = match self.penalty.value(&penalised, &params) {
            Some(p) => energy.clone() + p,
            None => energy.clone(),
        };
        let grads = objective.backward();
        let gradient = c
            .grad(&grads)
            .map(compute::to_host)
            .unwrap_or_else(|| vec![0.0; nodes * cols]);
        Evaluation {
            objective: compute::scalar(objective.inner()),
            energy: compute::scalar(energy.inner()),
            gradient,
            chords: compute::to_host(chords.inner()),
            points: compute::to_host(points.inner()),
        }
    }

    /// Runs Adam from the straight line until the stopping rule or the step limit.
    ///
    /// `progress` is called after every step with the step number and the objective.
    pub fn solve(&mut self, mut progress: impl FnMut(usize, f64)) -> Result<Geodesic> {
        let mut coefficients = vec![0.0; self.size()];
        let mut adam = Adam::new(self.config.learning_rate, coefficients.len());
        let mut trace = Vec::new();
        let mut last: Option<(Vec<f64>, Evaluation)> = None;
        let mut step = 0;
        loop {
            let eval = self.evaluate(&coefficients);
            let finite = eval.objective.is_finite() && eval.gradient.iter().all(|g| g.is_finite());
            if !finite {
                let message = format!(
                    "geodesic energy became non-finite at Adam step {step}; \
                     try a smaller learning rate or endpoints at a lower λ"
                );
                return match last {
                    Some((c, e)) => Err(Error::Diverged {
                        message,
                        last: Box::new(self.finish(c, e, trace, step, false)),
                    }),
                    None => Err(Error::NonFinite(message)),
                };
            }
            trace.push(eval.objective);
            progress(step, eval.objective);
            let w = self.config.window;
            let converged = trace.len() > w && {
                let old = trace[trace.len() - 1 - w];
                (old - eval.objective).abs() <= self.config.tolerance * eval.objective.abs()
            };
            if converged || step == self.config.steps {
                return Ok(self.finish(coefficients, eval, trace, step, converged));
            }
            let mut next = coefficients.clone();
            adam.step(&mut next, &eval.gradient);
            last = Some((std::mem::replace(&mut coefficients, next), eval));
            step += 1;
        }
    }

    fn finish(
        &self,
        coefficients: Vec<f64>,
        eval: Evaluation,
        trace: Vec<f64>,
        steps: usize,
        converged: bool,
    ) -> Geodesic {
        let cols = self.grid.columns();
        Geodesic {
            points: eval.points.chunks(cols).map(<[f64]>::to_vec).collect(),
            coefficients,
            energy: eval.energy,
            length: spacetime::length(&eval.chords),
            trace,
            steps,
            converged,
        }
    }
}

/// Convenience: the geodesic between `start` and `end` (`(λ, x…)` each).
pub fn geodesic(
    denoiser: &dyn Denoiser,
    start: &[f64],
    end: &[f64],
    config: &GeodesicConfig,
    seed: u64,
    device: &Device,
) -> Result<Geodesic> {
    GeodesicProblem::new(denoiser, start, end, config, seed, device)?.solve(|_, _| {})
}
