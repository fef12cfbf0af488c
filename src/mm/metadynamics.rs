//! Well-tempered metadynamics on (φ, ψ) (Barducci, Bussi & Parrinello, 2008) with several
//! walkers sharing one bias: walkers run `pace` steps in parallel under the current bias, then
//! all deposit a hill. The bias lives on a periodic grid with its analytic derivatives.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::cv::{Backbone, angle_difference};
use super::dynamics::{BOLTZMANN, Bias, Langevin, LangevinConfig, State};
use super::forcefield::{ForceField, add_dihedral_force};

/// Metadynamics settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadynamicsConfig {
    /// Initial hill height, kJ/mol.
    #[serde(default = "d_height")]
    pub height: f64,
    /// Hill width, rad.
    #[serde(default = "d_width")]
    pub width: f64,
    /// Steps between hills.
    #[serde(default = "d_pace")]
    pub pace: u64,
    /// Bias factor γ = (T + ΔT)/T.
    #[serde(default = "d_bias_factor")]
    pub bias_factor: f64,
    /// Grid points per angle.
    #[serde(default = "d_grid")]
    pub grid: usize,
}

fn d_height() -> f64 {
    1.2
}
fn d_width() -> f64 {
    0.35
}
fn d_pace() -> u64 {
    500
}
fn d_bias_factor() -> f64 {
    6.0
}
fn d_grid() -> usize {
    96
}

impl Default for MetadynamicsConfig {
    fn default() -> Self {
        Self {
            height: d_height(),
            width: d_width(),
            pace: d_pace(),
            bias_factor: d_bias_factor(),
            grid: d_grid(),
        }
    }
}

/// The bias grid: value and derivatives at `(−π + i h, −π + j h)`.
#[derive(Debug, Clone)]
pub struct BiasGrid {
    n: usize,
    v: Vec<f64>,
    d_phi: Vec<f64>,
    d_psi: Vec<f64>,
}

impl BiasGrid {
    fn new(n: usize) -> Self {
        Self {
            n,
            v: vec![0.0; n * n],
            d_phi: vec![0.0; n * n],
            d_psi: vec![0.0; n * n],
        }
    }

    fn h(&self) -> f64 {
        std::f64::consts::TAU / self.n as f64
    }

    /// Bilinear interpolation of (V, ∂V/∂φ, ∂V/∂ψ).
    pub fn at(&self, phi: f64, psi: f64) -> (f64, f64, f64) {
        let n = self.n;
        let h = self.h();
        let u = (phi + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) / h;
        let w = (psi + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) / h;
        let (i0, j0) = (u.floor() as usize % n, w.floor() as usize % n);
        let (fu, fw) = (u - u.floor(), w - w.floor());
        let (i1, j1) = ((i0 + 1) % n, (j0 + 1) % n);
        let lerp = |g: &[f64]| {
            (1.0 - fu) * (1.0 - fw) * g[j0 * n + i0]
                + fu * (1.0 - fw) * g[j0 * n + i1]
                + (1.0 - fu) * fw * g[j1 * n + i0]
                + fu * fw * g[j1 * n + i1]
        };
        (lerp(&self.v), lerp(&self.d_phi), lerp(&self.d_psi))
    }

    fn deposit(&mut self, phi: f64, psi: f64, height: f64, width: f64) {
        let n = self.n;
        let h = self.h();
        let reach = ((4.0 * width / h).ceil() as isize).min(n as isize / 2);
        let ci = ((phi + std::f64::consts::PI) / h).round() as isize;
        let cj = ((psi + std::f64::consts::PI) / h).round() as isize;
        let w2 = width * width;
        for dj in -reach..=reach {
            for di in -reach..=reach {
                let (i, j) = (
                    (ci + di).rem_euclid(n as isize) as usize,
                    (cj + dj).rem_euclid(n as isize) as usize,
                );
                let gp = -std::f64::consts::PI + i as f64 * h;
                let gs = -std::f64::consts::PI + j as f64 * h;
                let (a, b) = (angle_difference(gp, phi), angle_difference(gs, psi));
                let g = height * (-(a * a + b * b) / (2.0 * w2)).exp();
                let k = j * n + i;
                self.v[k] += g;
                self.d_phi[k] += -g * a / w2;
                self.d_psi[k] += -g * b / w2;
            }
        }
    }
}

/// A read-only view of the bias acting on one walker.
struct Biased<'a> {
    grid: &'a BiasGrid,
    cv: Backbone,
}

impl Bias for Biased<'_> {
    fn apply(&mut self, x: &[[f64; 3]], f: &mut [[f64; 3]]) -> f64 {
        let (phi, psi) = self.cv.angles(x);
        let (v, dp, ds) = self.grid.at(phi, psi);
        add_dihedral_force(x, self.cv.phi, dp, f);
        add_dihedral_force(x, self.cv.psi, ds, f);
        v
    }
}

/// A running well-tempered metadynamics: the shared bias and what was deposited.
pub struct Metadynamics {
    config: MetadynamicsConfig,
    cv: Backbone,
    grid: BiasGrid,
    temperature: f64,
    timestep: f64,
    delta_t: f64,
    rounds: u64,
    /// `(time ps, walker, φ, ψ, bias)` at every deposition.
    pub cv_series: Vec<(f64, usize, f64, f64, f64)>,
    /// Hills deposited.
    pub hills: usize,
}

impl Metadynamics {
    /// An empty bias for walkers at the temperature and time step of `md`.
    pub fn new(cv: Backbone, md: &LangevinConfig, config: &MetadynamicsConfig) -> Self {
        Self {
            config: *config,
            cv,
            grid: BiasGrid::new(config.grid),
            temperature: md.temperature,
            timestep: md.timestep,
            delta_t: (config.bias_factor - 1.0) * md.temperature,
            rounds: 0,
            cv_series: Vec::new(),
            hills: 0,
        }
    }

    /// Runs `rounds` rounds: every walker takes `pace` steps under the current bias (in
    /// parallel), then each deposits a hill of height `h₀ exp(−V(s)/(k ΔT))`.
    pub fn advance(&mut self, ff: &ForceField, walkers: &mut [(Langevin, State)], rounds: u64) {
        let (cv, pace) = (self.cv, self.config.pace);
        for _ in 0..rounds {
            let grid = &self.grid;
            walkers.par_iter_mut().for_each(|(integrator, state)| {
                let mut bias = Biased { grid, cv };
                integrator.run(ff, state, pace, Some(&mut bias));
            });
            self.rounds += 1;
            let time = self.rounds as f64 * pace as f64 * self.timestep;
            for (w, (_, state)) in walkers.iter().enumerate() {
                let (phi, psi) = cv.angles(&state.positions);
                let (v, _, _) = self.grid.at(phi, psi);
                let height = self.config.height * (-v / (BOLTZMANN * self.delta_t)).exp();
                self.grid.deposit(phi, psi, height, self.config.width);
                self.hills += 1;
                self.cv_series.push((time, w, phi, psi, v));
            }
        }
    }

    /// Free energy `−(T + ΔT)/ΔT · V` on the grid (kJ/mol, minimum 0), φ fastest.
    pub fn free_energy(&self) -> Vec<f64> {
        let scale = -(self.temperature + self.delta_t) / self.delta_t;
        let mut fes: Vec<f64> = self.grid.v.iter().map(|v| scale * v).collect();
        let min = fes.iter().copied().fold(f64::INFINITY, f64::min);
        fes.iter_mut().for_each(|f| *f -= min);
        fes
    }

    /// Grid points per angle.
    pub fn grid_size(&self) -> usize {
        self.grid.n
    }

    /// Bias (V, ∂V/∂φ, ∂V/∂ψ) at a point.
    pub fn bias_at(&self, phi: f64, psi: f64) -> (f64, f64, f64) {
        self.grid.at(phi, psi)
    }
}
