//! Langevin dynamics with the BAOAB splitting (Leimkuhler & Matthews), which samples
//! configurations with O(dt²) error and is the scheme of OpenMM's LangevinMiddleIntegrator.
//! Units: nm, ps, amu, kJ/mol, K.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::forcefield::{Energies, ForceField};

/// Boltzmann's constant in kJ/(mol K) (OpenMM's value).
pub const BOLTZMANN: f64 = 1.380649e-23 * 6.02214076e23 / 1000.0;

/// An extra potential acting on the atoms (restraints, metadynamics bias).
pub trait Bias {
    /// Adds `−∇V` to `forces` and returns `V`.
    fn apply(&mut self, positions: &[[f64; 3]], forces: &mut [[f64; 3]]) -> f64;

    /// Called after every completed step (metadynamics deposits hills here).
    fn after_step(&mut self, _step: u64, _positions: &[[f64; 3]]) {}
}

/// Positions and velocities.
#[derive(Debug, Clone)]
pub struct State {
    pub positions: Vec<[f64; 3]>,
    pub velocities: Vec<[f64; 3]>,
}

/// Integrator settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct LangevinConfig {
    /// Kelvin.
    pub temperature: f64,
    /// Collision rate, 1/ps.
    #[serde(default = "default_friction")]
    pub friction: f64,
    /// Time step, ps.
    #[serde(default = "default_timestep")]
    pub timestep: f64,
}

fn default_friction() -> f64 {
    1.0
}
fn default_timestep() -> f64 {
    0.001
}

/// BAOAB Langevin integrator for one walker.
pub struct Langevin {
    dt: f64,
    c1: f64,
    inv_mass: Vec<f64>,
    noise: Vec<f64>,
    kt: f64,
    masses: Vec<f64>,
    forces: Vec<[f64; 3]>,
    rng: ChaCha8Rng,
    energies: Energies,
    bias_energy: f64,
    step: u64,
}

impl Langevin {
    /// An integrator for atoms of `masses`, seeded.
    pub fn new(config: &LangevinConfig, masses: &[f64], seed: u64) -> Self {
        let kt = BOLTZMANN * config.temperature;
        let c1 = (-config.friction * config.timestep).exp();
        Self {
            dt: config.timestep,
            c1,
            inv_mass: masses.iter().map(|m| 1.0 / m).collect(),
            noise: masses
                .iter()
                .map(|m| ((1.0 - c1 * c1) * kt / m).sqrt())
                .collect(),
            kt,
            masses: masses.to_vec(),
            forces: vec![[0.0; 3]; masses.len()],
            rng: ChaCha8Rng::seed_from_u64(seed),
            energies: Energies::default(),
            bias_energy: 0.0,
            step: 0,
        }
    }

    /// Maxwell–Boltzmann velocities at the integrator's temperature.
    pub fn thermalise(&mut self, state: &mut State) {
        for (v, m) in state.velocities.iter_mut().zip(&self.masses) {
            let s = (self.kt / m).sqrt();
            *v = std::array::from_fn(|_| {
                let xi: f64 = StandardNormal.sample(&mut self.rng);
                s * xi
            });
        }
    }

    fn refresh(&mut self, ff: &ForceField, x: &[[f64; 3]], bias: &mut Option<&mut dyn Bias>) {
        self.energies = ff.compute(x, &mut self.forces);
        self.bias_energy = match bias {
            Some(b) => b.apply(x, &mut self.forces),
            None => 0.0,
        };
    }

    /// Runs `steps` BAOAB steps.
    pub fn run(
        &mut self,
        ff: &ForceField,
        state: &mut State,
        steps: u64,
        mut bias: Option<&mut dyn Bias>,
    ) {
        if self.step == 0 {
            self.refresh(ff, &state.positions, &mut bias);
        }
        let half = 0.5 * self.dt;
        for _ in 0..steps {
            for (((v, x), f), im) in state
                .velocities
                .iter_mut()
                .zip(state.positions.iter_mut())
                .zip(&self.forces)
                .zip(&self.inv_mass)
            {
                for k in 0..3 {
                    v[k] += half * f[k] * im;
                    x[k] += half * v[k];
                }
            }
            for (v, s) in state.velocities.iter_mut().zip(&self.noise) {
                for c in v.iter_mut() {
                    let xi: f64 = StandardNormal.sample(&mut self.rng);
                    *c = self.c1 * *c + s * xi;
                }
            }
            for (x, v) in state.positions.iter_mut().zip(&state.velocities) {
                for k in 0..3 {
                    x[k] += half * v[k];
                }
            }
            self.refresh(ff, &state.positions, &mut bias);
            for ((v, f), im) in state
                .velocities
                .iter_mut()
                .zip(&self.forces)
                .zip(&self.inv_mass)
            {
                for k in 0..3 {
                    v[k] += half * f[k] * im;
                }
            }
            self.step += 1;
            if let Some(b) = bias.as_deref_mut() {
                b.after_step(self.step, &state.positions);
            }
        }
    }

    /// Force-field energies at the current positions.
    pub fn energies(&self) -> Energies {
        self.energies
    }

    /// Bias energy at the current positions.
    pub fn bias_energy(&self) -> f64 {
        self.bias_energy
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// Instantaneous kinetic temperature (3N degrees of freedom; nothing is removed).
    pub fn kinetic_temperature(&self, state: &State) -> f64 {
        let ke: f64 = state
            .velocities
            .iter()
            .zip(&self.masses)
            .map(|(v, m)| 0.5 * m * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]))
            .sum();
        2.0 * ke / (3.0 * self.masses.len() as f64 * BOLTZMANN)
    }
}
