//! Well-tempered metadynamics on two dihedral collective variables (Barducci, Bussi &
//! Parrinello, 2008) with several walkers sharing one bias: walkers run `pace` steps in
//! parallel under the current bias, then all deposit a hill. The bias lives on a periodic grid
//! with its analytic derivatives.

use rayon::prelude::*;

use super::cv::{Dihedrals, angle_difference};
use super::dihedral::add_dihedral_force;
use super::dynamics::{BOLTZMANN, Bias, Langevin, State};
use super::forcefield::ForceField;

/// Well-tempered metadynamics' parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetadynamicsParams {
    /// Initial hill height, kJ/mol.
    pub height: f64,
    /// Hill width, rad.
    pub width: f64,
    /// Steps between hills.
    pub pace: u64,
    /// Bias factor γ = (T + ΔT)/T.
    pub bias_factor: f64,
    /// Grid points per angle.
    pub grid: usize,
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
    cv: &'a Dihedrals,
}

impl Bias for Biased<'_> {
    fn apply(&mut self, x: &[[f64; 3]], f: &mut [[f64; 3]]) -> f64 {
        let s = self.cv.values(x);
        let (v, d0, d1) = self.grid.at(s[0], s[1]);
        add_dihedral_force(x, self.cv.atoms[0], d0, f);
        add_dihedral_force(x, self.cv.atoms[1], d1, f);
        v
    }
}

/// A running well-tempered metadynamics: the shared bias and what was deposited.
pub struct Metadynamics {
    config: MetadynamicsParams,
    cv: Dihedrals,
    grid: BiasGrid,
    temperature: f64,
    delta_t: f64,
    /// Hills deposited.
    pub hills: usize,
}

impl Metadynamics {
    /// An empty bias on two collective variables for walkers at `temperature` (K).
    pub fn new(cv: Dihedrals, temperature: f64, config: &MetadynamicsParams) -> Self {
        assert_eq!(cv.len(), 2, "metadynamics runs on two collective variables");
        Self {
            config: *config,
            cv,
            grid: BiasGrid::new(config.grid),
            temperature,
            delta_t: (config.bias_factor - 1.0) * temperature,
            hills: 0,
        }
    }

    /// Every walker takes `steps` steps under the current bias, in parallel.
    pub fn advance(&self, ff: &ForceField, walkers: &mut [(Langevin, State)], steps: u64) {
        let grid = &self.grid;
        let cv = &self.cv;
        walkers.par_iter_mut().for_each(|(integrator, state)| {
            let mut bias = Biased { grid, cv };
            integrator.run(ff, state, steps, Some(&mut bias));
        });
    }

    /// Every walker deposits a hill of height `h₀ exp(−V(s)/(k ΔT))` at its position.
    pub fn deposit(&mut self, walkers: &[(Langevin, State)]) {
        for (_, state) in walkers {
            let s = self.cv.values(&state.positions);
            let (v, _, _) = self.grid.at(s[0], s[1]);
            let height = self.config.height * (-v / (BOLTZMANN * self.delta_t)).exp();
            self.grid.deposit(s[0], s[1], height, self.config.width);
            self.hills += 1;
        }
    }

    /// The offset `c(t)` that makes a well-tempered bias reweight correctly at any time
    /// (Tiwary & Parrinello, 2015): `(1/β) ln[Σ e^(γβV/(γ−1)) / Σ e^(βV/(γ−1))]` over the
    /// grid; a frame at bias `V` then weighs `e^(β(V − c))`.
    pub fn reweighting_offset(&self) -> f64 {
        let beta = 1.0 / (BOLTZMANN * self.temperature);
        let gamma = self.config.bias_factor;
        let lse = |f: f64| {
            let terms: Vec<f64> = self.grid.v.iter().map(|v| f * v).collect();
            crate::numeric::log_sum_exp(&terms)
        };
        (lse(gamma * beta / (gamma - 1.0)) - lse(beta / (gamma - 1.0))) / beta
    }

    /// Steps between hills.
    pub fn pace(&self) -> u64 {
        self.config.pace
    }

    /// Bias at a walker's configuration.
    pub fn bias_of(&self, x: &[[f64; 3]]) -> f64 {
        let s = self.cv.values(x);
        self.grid.at(s[0], s[1]).0
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
}
