//! Langevin dynamics with the BAOAB splitting (Leimkuhler & Matthews), which samples
//! configurations with O(dt²) error and is the scheme of OpenMM's LangevinMiddleIntegrator.
//! Units: nm, ps, amu, kJ/mol, K.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use serde::{Deserialize, Serialize};

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
    /// Positions, nm.
    pub positions: Vec<[f64; 3]>,
    /// Velocities, nm/ps.
    pub velocities: Vec<[f64; 3]>,
}

/// Which bonds are rigid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RigidBonds {
    /// Every bond flexible (1 fs steps).
    #[default]
    None,
    /// Every bond to a hydrogen rigid, by SHAKE/RATTLE (2 fs steps).
    HBonds,
}

/// What Langevin dynamics needs to know: the bath and the step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LangevinParams {
    /// Kelvin.
    pub temperature: f64,
    /// Collision rate, 1/ps.
    pub friction: f64,
    /// Time step, ps.
    pub timestep: f64,
}

impl LangevinParams {
    /// Thermal energy k_B T, kJ/mol.
    pub fn kt(&self) -> f64 {
        BOLTZMANN * self.temperature
    }
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
    /// Rigid bonds `(i, j, length)`, enforced by SHAKE on positions and RATTLE on velocities.
    constraints: Vec<(usize, usize, f64)>,
    /// Kinetic energy of the last step's mid-step velocities (after its O step).
    mid_step_kinetic: Option<f64>,
}

/// Relative tolerance of the constraint solvers.
const CONSTRAINT_TOLERANCE: f64 = 1e-10;

impl Langevin {
    /// An integrator for atoms of `masses`, seeded, without constraints.
    pub fn new(params: &LangevinParams, masses: &[f64], seed: u64) -> Self {
        let kt = params.kt();
        let c1 = (-params.friction * params.timestep).exp();
        Self {
            dt: params.timestep,
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
            constraints: Vec::new(),
            mid_step_kinetic: None,
        }
    }

    /// The integrator for a molecule of force field `ff` with `constraints` on its bonds: the
    /// one place where they take effect.
    pub fn for_molecule(
        params: &LangevinParams,
        constraints: RigidBonds,
        ff: &ForceField,
        masses: &[f64],
        seed: u64,
    ) -> Self {
        let mut integrator = Self::new(params, masses, seed);
        if constraints == RigidBonds::HBonds {
            integrator.constraints = ff
                .bonds
                .iter()
                .filter(|b| b.hydrogen)
                .map(|b| (b.i, b.j, b.r0))
                .collect();
        }
        integrator
    }

    /// Number of rigid bonds.
    pub fn constraint_count(&self) -> usize {
        self.constraints.len()
    }

    /// SHAKE: moves `x` (just updated from `reference`) back onto the constraint surface.
    fn shake(&self, x: &mut [[f64; 3]], reference: &[[f64; 3]]) {
        for _ in 0..500 {
            let mut converged = true;
            for &(i, j, d) in &self.constraints {
                let r: [f64; 3] = std::array::from_fn(|k| x[i][k] - x[j][k]);
                let diff = r[0] * r[0] + r[1] * r[1] + r[2] * r[2] - d * d;
                if diff.abs() > CONSTRAINT_TOLERANCE * d * d {
                    converged = false;
                    let r_ref: [f64; 3] =
                        std::array::from_fn(|k| reference[i][k] - reference[j][k]);
                    let dot = r[0] * r_ref[0] + r[1] * r_ref[1] + r[2] * r_ref[2];
                    let g = diff / (2.0 * (self.inv_mass[i] + self.inv_mass[j]) * dot);
                    for k in 0..3 {
                        x[i][k] -= g * r_ref[k] * self.inv_mass[i];
                        x[j][k] += g * r_ref[k] * self.inv_mass[j];
                    }
                }
            }
            if converged {
                break;
            }
        }
    }

    /// RATTLE: removes velocity components along the rigid bonds.
    fn rattle(&self, x: &[[f64; 3]], v: &mut [[f64; 3]]) {
        for _ in 0..500 {
            let mut converged = true;
            for &(i, j, d) in &self.constraints {
                let r: [f64; 3] = std::array::from_fn(|k| x[i][k] - x[j][k]);
                let rv: f64 = (0..3).map(|k| r[k] * (v[i][k] - v[j][k])).sum();
                if rv.abs() > CONSTRAINT_TOLERANCE * d {
                    converged = false;
                    let g = rv / ((self.inv_mass[i] + self.inv_mass[j]) * d * d);
                    for k in 0..3 {
                        v[i][k] -= g * r[k] * self.inv_mass[i];
                        v[j][k] += g * r[k] * self.inv_mass[j];
                    }
                }
            }
            if converged {
                break;
            }
        }
    }

    /// Drift by `h`: unconstrained `x += h v`, or SHAKE then `v = Δx / h` and RATTLE.
    fn drift(&self, state: &mut State, h: f64) {
        if self.constraints.is_empty() {
            for (x, v) in state.positions.iter_mut().zip(&state.velocities) {
                for k in 0..3 {
                    x[k] += h * v[k];
                }
            }
            return;
        }
        let old = state.positions.clone();
        for (x, v) in state.positions.iter_mut().zip(&state.velocities) {
            for k in 0..3 {
                x[k] += h * v[k];
            }
        }
        self.shake(&mut state.positions, &old);
        for ((v, x), o) in state.velocities.iter_mut().zip(&state.positions).zip(&old) {
            for k in 0..3 {
                v[k] = (x[k] - o[k]) / h;
            }
        }
        self.rattle(&state.positions, &mut state.velocities);
    }

    fn kick(&self, state: &mut State, h: f64) {
        for ((v, f), im) in state
            .velocities
            .iter_mut()
            .zip(&self.forces)
            .zip(&self.inv_mass)
        {
            for k in 0..3 {
                v[k] += h * f[k] * im;
            }
        }
        if !self.constraints.is_empty() {
            self.rattle(&state.positions, &mut state.velocities);
        }
    }

    /// Maxwell–Boltzmann velocities at the integrator's temperature (constrained, if any).
    pub fn thermalise(&mut self, state: &mut State) {
        for (v, m) in state.velocities.iter_mut().zip(&self.masses) {
            let s = (self.kt / m).sqrt();
            *v = std::array::from_fn(|_| {
                let xi: f64 = StandardNormal.sample(&mut self.rng);
                s * xi
            });
        }
        if !self.constraints.is_empty() {
            let reference = state.positions.clone();
            self.shake(&mut state.positions, &reference);
            self.rattle(&state.positions, &mut state.velocities);
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
            self.kick(state, half);
            self.drift(state, half);
            for (v, s) in state.velocities.iter_mut().zip(&self.noise) {
                for c in v.iter_mut() {
                    let xi: f64 = StandardNormal.sample(&mut self.rng);
                    *c = self.c1 * *c + s * xi;
                }
            }
            if !self.constraints.is_empty() {
                self.rattle(&state.positions, &mut state.velocities);
            }
            self.mid_step_kinetic = Some(self.kinetic_energy(state));
            self.drift(state, half);
            self.refresh(ff, &state.positions, &mut bias);
            self.kick(state, half);
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

    fn kinetic_energy(&self, state: &State) -> f64 {
        state
            .velocities
            .iter()
            .zip(&self.masses)
            .map(|(v, m)| 0.5 * m * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]))
            .sum()
    }

    /// Instantaneous kinetic temperature over 3N − (rigid bonds) degrees of freedom, from the
    /// last step's mid-step velocities (after its O step, fresh from the thermostat): BAOAB's
    /// full-step velocities run cold by O(dt²). Measured on alanine dipeptide at 1 fs and
    /// 300 K, one trajectory of 2 × 1 ns, read both ways: full-step 294.8 ± 1.9 K, mid-step
    /// 301.2 ± 2.0 K. Before any step, from `state`.
    pub fn kinetic_temperature(&self, state: &State) -> f64 {
        let ke = self
            .mid_step_kinetic
            .unwrap_or_else(|| self.kinetic_energy(state));
        let dof = 3 * self.masses.len() - self.constraints.len();
        2.0 * ke / (dof as f64 * BOLTZMANN)
    }
}
