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

/// Result of a metadynamics run.
pub struct MetadynamicsRun {
    /// Free energy on the grid (kJ/mol, minimum 0), row-major with φ fastest.
    pub free_energy: Vec<f64>,
    /// Grid points per angle.
    pub grid: usize,
    /// `(time ps, walker, φ, ψ, bias)` every `pace` steps.
    pub cv_series: Vec<(f64, usize, f64, f64, f64)>,
    /// Hills deposited.
    pub hills: usize,
    /// Final walker states.
    pub states: Vec<State>,
}

/// Runs well-tempered metadynamics with the given walkers for `steps` steps each, at the
/// temperature and time step of `md`.
pub fn run(
    ff: &ForceField,
    cv: Backbone,
    walkers: &mut [(Langevin, State)],
    md: &LangevinConfig,
    config: &MetadynamicsConfig,
    steps: u64,
    mut progress: impl FnMut(u64),
) -> MetadynamicsRun {
    let (temperature, timestep) = (md.temperature, md.timestep);
    let mut grid = BiasGrid::new(config.grid);
    let delta_t = (config.bias_factor - 1.0) * temperature;
    let mut series = Vec::new();
    let mut hills = 0;
    let rounds = steps / config.pace;
    for round in 0..rounds {
        let g = &grid;
        walkers.par_iter_mut().for_each(|(integrator, state)| {
            let mut bias = Biased { grid: g, cv };
            integrator.run(ff, state, config.pace, Some(&mut bias));
        });
        for (w, (_, state)) in walkers.iter().enumerate() {
            let (phi, psi) = cv.angles(&state.positions);
            let (v, _, _) = grid.at(phi, psi);
            let height = config.height * (-v / (BOLTZMANN * delta_t)).exp();
            grid.deposit(phi, psi, height, config.width);
            hills += 1;
            let time = (round + 1) as f64 * config.pace as f64 * timestep;
            series.push((time, w, phi, psi, v));
        }
        progress((round + 1) * config.pace);
    }
    let scale = -(temperature + delta_t) / delta_t;
    let mut fes: Vec<f64> = grid.v.iter().map(|v| scale * v).collect();
    let min = fes.iter().copied().fold(f64::INFINITY, f64::min);
    fes.iter_mut().for_each(|f| *f -= min);
    MetadynamicsRun {
        free_energy: fes,
        grid: config.grid,
        cv_series: series,
        hills,
        states: walkers.iter().map(|(_, s)| s.clone()).collect(),
    }
}
