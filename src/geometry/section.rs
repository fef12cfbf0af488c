//! The `[geodesic]` section of a system file: the curve and its minimiser, with defaults and
//! checks; the geodesic itself takes it as plain parameters.

use serde::{Deserialize, Serialize};

use super::constraint::Constraints;
use super::optimiser::Optimiser;
use super::spacetime::{Clipping, DivergenceConfig};
use crate::error::Result;
use crate::toml_file::Checks;

/// Settings of the geodesic optimisation: the paper's curve (N = 128 points, 10 spline
/// nodes), minimised by L-BFGS; `optimiser = "adam"` with `learning_rate = 0.1`,
/// `tolerance = 1e-5` and `window = 100` is the paper's optimiser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeodesicConfig {
    /// Curve sample points `N`.
    pub points: usize,
    /// Spline nodes.
    pub nodes: usize,
    /// Minimiser of the curve energy.
    pub optimiser: Optimiser,
    /// Largest number of iterations.
    pub steps: usize,
    /// Adam's learning rate (unused by L-BFGS).
    pub learning_rate: f64,
    /// Stop when the objective fell by less than this fraction over `window` iterations.
    pub tolerance: f64,
    /// Iterations over which the relative change is measured.
    pub window: usize,
    /// L-BFGS: also start from where this many Adam steps lead, and keep the lower minimum
    /// (0: from the straight line only).
    pub warm_up: usize,
    /// Exact or Hutchinson divergence.
    pub divergence: DivergenceConfig,
    /// Where chords are clipped at 0: `"chord"` (whole chords) or `"parts"` (the authors').
    pub clipping: Clipping,
    /// Penalties added to the energy (see [`Constraints`]).
    pub constraints: Constraints,
}

impl Default for GeodesicConfig {
    fn default() -> Self {
        Self {
            points: 128,
            nodes: 10,
            optimiser: Optimiser::Lbfgs,
            steps: 10_000,
            learning_rate: 0.1,
            tolerance: 1e-6,
            window: 10,
            warm_up: 0,
            divergence: DivergenceConfig::default(),
            clipping: Clipping::default(),
            constraints: Constraints::default(),
        }
    }
}

impl GeodesicConfig {
    /// Checks every value.
    pub fn check(&self, c: &Checks) -> Result<()> {
        c.at_least(self.points, 3, "geodesic.points")?;
        c.at_least(self.nodes, 1, "geodesic.nodes")?;
        // A spline through more knots than the curve has chords is not determined by them.
        c.require(
            self.nodes + 2 <= self.points,
            "geodesic.nodes",
            &format!(
                "must be at most points − 2 = {} (got {}): more spline nodes than the curve \
                 has interior points leave the curve undetermined",
                self.points.saturating_sub(2),
                self.nodes
            ),
        )?;
        c.at_least(self.steps, 1, "geodesic.steps")?;
        c.at_least(self.window, 1, "geodesic.window")?;
        c.positive(self.learning_rate, "geodesic.learning_rate")?;
        c.non_negative(self.tolerance, "geodesic.tolerance")?;
        c.at_least(self.divergence.probes, 1, "geodesic.divergence.probes")?;
        self.constraints
            .validate()
            .map_err(|(f, m)| c.error(&format!("geodesic.constraints.{f}"), m))
    }
}
