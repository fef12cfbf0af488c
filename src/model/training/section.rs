//! The `[training]` section of a system file: the paper's hyper-parameters by default, and the
//! ensemble the model learns (its tilt), with checks.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::toml_file::Checks;

/// The `[training]` section (the paper's hyper-parameters by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingConfig {
    /// Optimiser steps.
    pub steps: usize,
    /// Samples per step.
    pub batch: usize,
    /// AdamW learning rate.
    pub learning_rate: f64,
    /// How the learning rate falls over the steps.
    pub learning_rate_decay: LearningRateDecay,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Bins of the adaptive λ sampler.
    pub lambda_bins: usize,
    /// The ensemble the model learns: the Boltzmann distribution of the surface, or one
    /// flattened by a known tilt (the score is corrected back to Boltzmann where it is used).
    pub ensemble: Ensemble,
    /// Well-tempered ensemble: the bias factor `γ > 1` the surface is divided by.
    pub bias_factor: Option<f64>,
    /// Well-tempered ensemble: height above the surface's minimum (surface units) beyond
    /// which the surface is no longer flattened (none: flattened everywhere).
    pub tilt_cap: Option<f64>,
}

/// How the learning rate falls over training.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LearningRateDecay {
    /// Constant (the paper's).
    #[default]
    None,
    /// Half a cosine from the rate to 0 at the last step: the weights end on ever smaller
    /// steps, not on one full-size step of the last batch (measured on alanine's tilted model:
    /// learnt free energy 0.64 ± 0.04 kJ/mol RMS over five seeds against 0.78; why, not traced).
    Cosine,
}

/// Which distribution a model learns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ensemble {
    /// `exp(−F/kT)`: the basins, and the passes barely.
    #[default]
    Boltzmann,
    /// `exp(−(F + V)/kT)` with `V = −(1 − 1/γ)·min(F − F_min, cap)`: the passes populated.
    WellTempered,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            steps: 4000,
            batch: 1024,
            learning_rate: 1e-3,
            learning_rate_decay: LearningRateDecay::None,
            weight_decay: 1e-2,
            lambda_bins: 48,
            ensemble: Ensemble::Boltzmann,
            bias_factor: None,
            tilt_cap: None,
        }
    }
}

impl TrainingConfig {
    /// Checks every value.
    pub fn check(&self, c: &Checks) -> Result<()> {
        c.at_least(self.steps, 1, "training.steps")?;
        c.at_least(self.batch, 1, "training.batch")?;
        c.at_least(self.lambda_bins, 1, "training.lambda_bins")?;
        c.positive(self.learning_rate, "training.learning_rate")?;
        c.require(
            self.learning_rate <= 1.0,
            "training.learning_rate",
            "above 1 AdamW diverges",
        )?;
        c.non_negative(self.weight_decay, "training.weight_decay")?;
        match self.ensemble {
            Ensemble::Boltzmann => {
                for (given, field) in [
                    (self.bias_factor.is_some(), "training.bias_factor"),
                    (self.tilt_cap.is_some(), "training.tilt_cap"),
                ] {
                    c.require(
                        !given,
                        field,
                        "applies to ensemble = \"well-tempered\" only (the ensemble is \
                         \"boltzmann\")",
                    )?;
                }
                Ok(())
            }
            Ensemble::WellTempered => {
                let gamma = self.bias_factor.ok_or_else(|| {
                    c.error(
                        "training.bias_factor",
                        "ensemble = \"well-tempered\" needs a bias factor γ > 1 (e.g. 6)",
                    )
                })?;
                c.require(
                    gamma.is_finite() && gamma > 1.0,
                    "training.bias_factor",
                    &format!(
                        "must be finite and above 1 (got {})",
                        crate::toml_file::number(gamma)
                    ),
                )?;
                if let Some(cap) = self.tilt_cap {
                    c.positive(cap, "training.tilt_cap")?;
                }
                Ok(())
            }
        }
    }

    /// The learning rate of step `step` (from 0) of `steps`.
    pub fn learning_rate_at(&self, step: usize) -> f64 {
        match self.learning_rate_decay {
            LearningRateDecay::None => self.learning_rate,
            LearningRateDecay::Cosine => {
                let t = step as f64 / self.steps.max(1) as f64;
                0.5 * self.learning_rate * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }

    /// The ensemble in words: `boltzmann`, or `well-tempered γ = 6` (with its cap).
    pub fn ensemble_description(&self) -> String {
        match self.tilt_parameters() {
            None => "boltzmann".into(),
            Some((g, cap)) => format!(
                "well-tempered γ = {g}{}",
                cap.map_or(String::new(), |c| format!(", cap {c}"))
            ),
        }
    }

    /// The tilt's bias factor and cap, if this ensemble is tilted.
    pub fn tilt_parameters(&self) -> Option<(f64, Option<f64>)> {
        self.tilt(0.0).map(|t| (t.bias_factor, t.cap))
    }

    /// The well-tempered tilt of a surface whose minimum is `minimum`, if this ensemble has one.
    pub fn tilt(&self, minimum: f64) -> Option<crate::potential::WellTempered> {
        match (self.ensemble, self.bias_factor) {
            (Ensemble::WellTempered, Some(bias_factor)) => Some(crate::potential::WellTempered {
                bias_factor,
                cap: self.tilt_cap,
                minimum,
            }),
            _ => None,
        }
    }
}
