//! The `[md]` and `[metadynamics]` sections of a system file: what the engine's dynamics and
//! metadynamics take (plain parameters), and how long and how many walkers `tps` runs.

use serde::{Deserialize, Serialize};

use super::{LangevinParams, MetadynamicsParams, RigidBonds};

/// The `[md]` section: Langevin dynamics of a molecule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MdConfig {
    /// Kelvin.
    pub temperature: f64,
    /// Collision rate, 1/ps.
    pub friction: f64,
    /// Time step, ps (1 fs without constraints, 2 fs with `constraints = "h-bonds"`).
    pub timestep: f64,
    /// Rigid bonds.
    pub constraints: RigidBonds,
    /// Steps per walker.
    pub steps: u64,
    /// Independent walkers (run in parallel; they share a metadynamics bias).
    pub walkers: usize,
    /// Steps between trajectory frames and CV records.
    pub report_every: u64,
}

impl Default for MdConfig {
    fn default() -> Self {
        Self {
            temperature: 300.0,
            friction: 1.0,
            timestep: 0.001,
            constraints: RigidBonds::None,
            steps: 100_000,
            walkers: 2,
            report_every: 500,
        }
    }
}

impl MdConfig {
    /// Thermal energy k_B T, kJ/mol.
    pub fn kt(&self) -> f64 {
        self.langevin().kt()
    }

    /// The integrator's parameters.
    pub fn langevin(&self) -> LangevinParams {
        LangevinParams {
            temperature: self.temperature,
            friction: self.friction,
            timestep: self.timestep,
        }
    }
}

/// The `[metadynamics]` section.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetadynamicsConfig {
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
    /// Steps per walker of the independent run `tps train` makes for scoring (its own seed);
    /// default half of `md.steps`, 0 for none.
    pub check_steps: Option<u64>,
}

impl Default for MetadynamicsConfig {
    fn default() -> Self {
        Self {
            height: 1.2,
            width: 0.35,
            pace: 500,
            bias_factor: 6.0,
            grid: 96,
            check_steps: None,
        }
    }
}

impl MetadynamicsConfig {
    /// The bias's parameters.
    pub fn params(&self) -> MetadynamicsParams {
        MetadynamicsParams {
            height: self.height,
            width: self.width,
            pace: self.pace,
            bias_factor: self.bias_factor,
            grid: self.grid,
        }
    }
}
