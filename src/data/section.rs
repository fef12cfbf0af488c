//! The `[data]` section (simulations made elsewhere) and the `[sampling]` section (replica
//! exchange on a surface) of a system file: what the model learns from, with defaults and checks.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::toml_file::{Checks, anchor};

/// The `[data]` section (paths relative to the system file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Trajectories of the molecule: DCD, XTC, TRR, NetCDF, multi-model PDB or XYZ, with the
    /// prmtop's atoms in its order.
    pub trajectories: Vec<PathBuf>,
    /// Use every `stride`-th frame.
    #[serde(default = "DataConfig::default_stride")]
    pub stride: usize,
    /// PLUMED COLVAR files, one per trajectory, a record per frame.
    #[serde(default)]
    pub colvar: Vec<PathBuf>,
    /// The COLVAR column holding the bias (kJ/mol) to reweight by.
    pub bias: Option<String>,
}

impl DataConfig {
    fn default_stride() -> usize {
        1
    }

    /// Anchors the paths to the system file `file`.
    pub fn anchored(mut self, file: &Path) -> Self {
        for p in self.trajectories.iter_mut().chain(self.colvar.iter_mut()) {
            *p = anchor(file, p);
        }
        self
    }

    /// Checks what can be checked without reading the files.
    pub fn check(&self, c: &Checks) -> Result<()> {
        c.require(
            !self.trajectories.is_empty(),
            "data.trajectories",
            "name at least one trajectory",
        )?;
        c.at_least(self.stride, 1, "data.stride")?;
        c.require(
            self.colvar.is_empty() || self.colvar.len() == self.trajectories.len(),
            "data.colvar",
            &format!(
                "one COLVAR per trajectory: {} for {} trajectories",
                self.colvar.len(),
                self.trajectories.len()
            ),
        )?;
        c.require(
            self.colvar.is_empty() == self.bias.is_none(),
            "data.bias",
            "give the COLVAR files and the name of their bias column together",
        )
    }

    /// Every file the data come from.
    pub fn files(&self) -> Vec<&PathBuf> {
        self.trajectories.iter().chain(&self.colvar).collect()
    }
}

/// The `[sampling]` section: replica exchange with MALA moves.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplingConfig {
    /// Independent replica-exchange ladders run in parallel.
    pub chains: usize,
    /// Temperatures per ladder, geometric from kT to `max_temperature` × kT.
    pub replicas: usize,
    /// Highest temperature as a multiple of kT.
    pub max_temperature: f64,
    /// MALA steps per chain after burn-in.
    pub steps: usize,
    /// Steps discarded at the start (step sizes adapt during them).
    pub burn_in: usize,
    /// Keep every `thin`-th configuration of the target replica.
    pub thin: usize,
    /// Attempt neighbour swaps every this many steps.
    pub swap_every: usize,
}

impl Default for SamplingConfig {
    fn default() -> Self {
        Self {
            chains: 16,
            replicas: 8,
            max_temperature: 8.0,
            steps: 20_000,
            burn_in: 2_000,
            thin: 10,
            swap_every: 10,
        }
    }
}

impl SamplingConfig {
    /// Checks every value.
    pub fn check(&self, c: &Checks) -> Result<()> {
        for (v, f) in [
            (self.chains, "chains"),
            (self.replicas, "replicas"),
            (self.steps, "steps"),
            (self.thin, "thin"),
            (self.swap_every, "swap_every"),
        ] {
            c.at_least(v, 1, &format!("sampling.{f}"))?;
        }
        c.require(
            self.max_temperature.is_finite() && self.max_temperature >= 1.0,
            "sampling.max_temperature",
            "must be finite and at least 1",
        )
    }
}
