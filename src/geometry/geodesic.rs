//! Spacetime geodesics: minimise the discrete curve energy, plus the penalties of any
//! constraints, over the spline coefficients of the curve.

use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::constraint::{Landscape, Penalties};
use super::optimiser::{self, Evaluated, Optimiser, Settings};
use super::section::GeodesicConfig;
use super::spacetime::{self, ChordParts, Clipping, DivergenceConfig, Parameters, Probes};
use super::spline::CurveGrid;
use crate::compute;
use crate::error::{Error, Result};
use crate::model::denoiser::Denoiser;

/// Curves with at least this many points are evaluated in two halves on two threads.
const PARALLEL_MIN_POINTS: usize = 64;

/// The minimiser's settings of a `[geodesic]` section.
fn settings(config: &GeodesicConfig) -> Settings {
    Settings {
        optimiser: config.optimiser,
        iterations: config.steps,
        learning_rate: config.learning_rate,
        tolerance: config.tolerance,
        window: config.window,
        warm_up: config.warm_up,
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
    /// Energy plus penalties.
    pub objective: f64,
    /// Discrete length `Σ sqrt(Δη·Δμ)`.
    pub length: f64,
    /// The signs of the chords' parts at the end, and the authors' energy.
    pub parts: ChordParts,
    /// Objective after every iteration.
    pub trace: Vec<f64>,
    /// Iterations taken.
    pub steps: usize,
    /// Objective evaluations (line-search trials included).
    pub evaluations: usize,
    /// Whether the stopping rule was met before the iteration limit.
    pub converged: bool,
}

/// The objective became non-finite; the last finite curve is kept for inspection.
#[derive(Debug)]
pub struct Divergence {
    /// What happened and what to try.
    pub message: String,
    /// The last curve with a finite objective, if there was one.
    pub last: Option<Box<Geodesic>>,
}

impl From<Divergence> for Error {
    fn from(d: Divergence) -> Self {
        Error::NonFinite(d.message)
    }
}

/// A curve measured without optimisation.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// Discrete energy `(N−1)/2 Σ chords`, chords clipped as asked.
    pub energy: f64,
    /// Discrete length `Σ sqrt(chords)`.
    pub length: f64,
    /// The chords' parts and the authors' energy.
    pub parts: ChordParts,
}

/// Energy, length and chord parts of a curve given by its points, without optimisation.
pub fn measure(
    denoiser: &dyn Denoiser,
    points: Tensor<2>,
    divergence: &DivergenceConfig,
    clipping: Clipping,
    seed: u64,
) -> Measured {
    let [n, cols] = points.dims();
    let device = points.device();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let probes = Probes::for_config(divergence, n, cols - 1, &mut rng, &device);
    let params = Parameters::at(denoiser, points, &probes);
    let chords = params.chords(clipping);
    let host = compute::to_host(chords.clone());
    Measured {
        energy: compute::scalar(spacetime::energy(chords)),
        length: spacetime::length(&host),
        parts: params.chord_parts(),
    }
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
    let m = measure(
        denoiser,
        grid.evaluate(zero),
        &config.divergence,
        config.clipping,
        0,
    );
    (m.energy, m.length)
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
    penalties: Penalties<'a>,
    config: GeodesicConfig,
    device: Device,
    rng: ChaCha8Rng,
    /// L-BFGS needs a deterministic objective: Hutchinson probes drawn once and kept.
    fixed_probes: Option<(Probes, Probes)>,
    line_energy: f64,
}

impl<'a> GeodesicProblem<'a> {
    /// Sets up the problem; `device` must have autodiff enabled. `landscape` is needed by the
    /// energy-aware constraint only; the avoid point must be in model units.
    pub fn new(
        denoiser: &'a dyn Denoiser,
        landscape: Option<Landscape<'a>>,
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
        let line_energy = if !config.constraints.is_plain() {
            straight_line(denoiser, start, end, config, device).0
        } else {
            0.0
        };
        let penalties = Penalties::new(
            &config.constraints,
            denoiser,
            landscape,
            (start, end),
            config.points,
            line_energy,
            &config.divergence,
            device,
        )?;
        Ok(Self {
            denoiser,
            grid: CurveGrid::new(start, end, config.points, config.nodes, device),
            penalties,
            config: config.clone(),
            device: device.clone(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            fixed_probes: None,
            line_energy,
        })
    }

    /// Probes for the whole curve, or for its two halves (`m` the middle point).
    fn probes(&mut self, halves: Option<usize>) -> (Probes, Probes) {
        if let Some(p) = &self.fixed_probes {
            return p.clone();
        }
        let (n, dim) = (self.grid.points(), self.grid.columns() - 1);
        let cfg = self.config.divergence;
        let (a, b) = match halves {
            Some(m) => (m + 1, n - m),
            None => (n, 1),
        };
        let p = (
            Probes::for_config(&cfg, a, dim, &mut self.rng, &self.device),
            Probes::for_config(&cfg, b, dim, &mut self.rng, &self.device),
        );
        if self.config.optimiser == Optimiser::Lbfgs {
            self.fixed_probes = Some(p.clone());
        }
        p
    }

    /// `E_line`, the straight line's curve energy that every penalty weight is relative to
    /// (0 for the plain geodesic).
    pub fn line_energy(&self) -> f64 {
        self.line_energy
    }

    /// Number of free parameters.
    pub fn size(&self) -> usize {
        self.grid.nodes() * self.grid.columns()
    }

    /// Objective, energy and gradient at `coefficients`.
    ///
    /// Without a region-avoiding constraint the curve is cut in two halves (sharing the middle
    /// point) whose parameters, chords and gradients are computed on two threads: every term
    /// but the running KL is a sum over points, chords or segments. The split does not depend
    /// on the number of threads, so results are the same on any machine.
    pub fn evaluate(&mut self, coefficients: &[f64]) -> Evaluation {
        let mut eval = self.evaluate_device(coefficients);
        let cols = self.grid.columns();
        if let Some(term) = self.penalties.host_terms(&eval.points, cols) {
            eval.objective += term.value;
            for (g, h) in eval
                .gradient
                .iter_mut()
                .zip(self.grid.pull_back(&term.gradient))
            {
                *g += h;
            }
        }
        eval
    }

    /// The terms computed on the device: energy, chords and the tensor penalties.
    fn evaluate_device(&mut self, coefficients: &[f64]) -> Evaluation {
        let n = self.grid.points();
        let dim = self.grid.columns() - 1;
        let split = n >= PARALLEL_MIN_POINTS && !self.penalties.is_global();
        if !split {
            let (probes, _) = self.probes(None);
            return self.evaluate_rows(coefficients, 0, n - 1, &probes, true);
        }
        let m = n / 2;
        let (p1, p2) = self.probes(Some(m));
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
        let chords = params.chords(self.config.clipping);
        let segments = (self.grid.points() - 1) as f64;
        let energy = chords.clone().sum().mul_scalar(0.5 * segments);
        let rows = last - first + usize::from(penalise_last);
        let penalised = points.clone().slice([0..rows, 0..cols]);
        let objective = match self.penalties.device_terms(&penalised, &params) {
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

    /// Minimises from the straight line until the stopping rule or the iteration limit.
    ///
    /// `progress` is called after every iteration with its number and the objective.
    pub fn solve(
        &mut self,
        progress: impl FnMut(usize, f64),
    ) -> std::result::Result<Geodesic, Divergence> {
        let x0 = vec![0.0; self.size()];
        self.solve_from(x0, progress)
    }

    /// Minimises from the curve closest to `route` (`N` points `(λ, z…)`, model units).
    pub fn solve_along(
        &mut self,
        route: &[Vec<f64>],
        progress: impl FnMut(usize, f64),
    ) -> std::result::Result<Geodesic, Divergence> {
        let x0 = self.grid.fit(route);
        self.solve_from(x0, progress)
    }

    fn solve_from(
        &mut self,
        x0: Vec<f64>,
        progress: impl FnMut(usize, f64),
    ) -> std::result::Result<Geodesic, Divergence> {
        let settings = settings(&self.config);
        match optimiser::minimise(&settings, x0, |c| self.evaluate(c), progress) {
            Ok(out) => Ok(self.finish(out)),
            Err(failure) => Err(Divergence {
                message: format!(
                    "geodesic energy became non-finite at iteration {}; \
                     try endpoints at a lower λ or a smaller learning rate",
                    failure.iteration
                ),
                last: failure.last.map(|l| Box::new(self.finish(l))),
            }),
        }
    }

    fn finish(&self, out: optimiser::Outcome<Evaluation>) -> Geodesic {
        let cols = self.grid.columns();
        let n = out.eval.points.len() / cols;
        let final_points = compute::matrix(&out.eval.points, n, cols, &self.device);
        let parts = measure(
            self.denoiser,
            final_points,
            &self.config.divergence,
            self.config.clipping,
            0,
        )
        .parts;
        Geodesic {
            points: out.eval.points.chunks(cols).map(<[f64]>::to_vec).collect(),
            coefficients: out.x,
            energy: out.eval.energy,
            objective: out.eval.objective,
            length: spacetime::length(&out.eval.chords),
            parts,
            trace: out.trace,
            steps: out.iterations,
            evaluations: out.evaluations,
            converged: out.converged,
        }
    }
}

impl Evaluated for Evaluation {
    fn value(&self) -> f64 {
        self.objective
    }
    fn gradient(&self) -> &[f64] {
        &self.gradient
    }
}

/// Convenience: the geodesic between `start` and `end` (`(λ, x…)` each) without an
/// energy-aware constraint.
pub fn geodesic(
    denoiser: &dyn Denoiser,
    start: &[f64],
    end: &[f64],
    config: &GeodesicConfig,
    seed: u64,
    device: &Device,
) -> Result<Geodesic> {
    Ok(GeodesicProblem::new(denoiser, None, start, end, config, seed, device)?.solve(|_, _| {})?)
}
