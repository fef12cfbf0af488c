//! The `[transition]` section: the route the walkers follow and how they move along it.

use crate::error::Result;
use crate::toml_file::Checks;
use crate::walkers::WalkerParams;

use super::RouteKind;

/// The `[transition]` section: annealed Langevin dynamics along the route.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransitionConfig {
    /// Log-SNR of the geodesic's endpoints, in model units (the restraint's width in data
    /// units is `s·e^(−λ/2)`, `s` the model's normalisation scale).
    pub lambda_max: f64,
    /// Langevin steps K at each route point.
    pub steps_per_point: usize,
    /// Langevin step size ds, squared data units (rad² for molecules in their variables, nm²
    /// on all atoms).
    pub step_size: f64,
    /// Independent paths.
    pub paths: usize,
    /// Molecules: write an all-atom structure every this many Langevin frames (back-mapped
    /// for paths in the variables).
    pub backmap_every: usize,
    /// The route the walkers follow (`geodesic`, `plain`, `reference` or `learned`).
    pub route: RouteKind,
    /// The energy-aware geodesic also starts from the reference minimum-energy path.
    pub mep_start: bool,
}

impl Default for TransitionConfig {
    fn default() -> Self {
        Self {
            lambda_max: 4.0,
            steps_per_point: 128,
            step_size: 4e-4,
            paths: 8,
            backmap_every: 64,
            route: RouteKind::default(),
            mep_start: true,
        }
    }
}

/// The most paths one run may ask for: each keeps its statistics in memory, and a count
/// beyond this is a typo rather than a plan (split a larger job with `--shard`).
pub const MAX_PATHS: usize = 1_000_000;

impl TransitionConfig {
    /// Checks every value.
    pub fn check(&self, c: &Checks) -> Result<()> {
        c.finite(self.lambda_max, "transition.lambda_max")?;
        c.positive(self.step_size, "transition.step_size")?;
        c.at_least(self.steps_per_point, 1, "transition.steps_per_point")?;
        c.at_least(self.paths, 1, "transition.paths")?;
        c.require(
            self.paths <= MAX_PATHS,
            "transition.paths",
            &format!("must be at most {MAX_PATHS} (got {})", self.paths),
        )?;
        c.at_least(self.backmap_every, 1, "transition.backmap_every")
    }
}

impl TransitionConfig {
    /// The walkers' own parameters.
    pub fn walkers(&self) -> WalkerParams {
        WalkerParams {
            steps_per_point: self.steps_per_point,
            step_size: self.step_size,
            paths: self.paths,
        }
    }
}
