//! The `[barrier]` section of a system file, with defaults and checks.

use serde::Deserialize;

use crate::error::Result;
use crate::toml_file::Checks;

/// The `[barrier]` section: resolution of the reference minimum-energy path and bound.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BarrierConfig {
    /// Images along the string.
    pub images: usize,
    /// Grid points per axis for the minimax bound.
    pub grid: usize,
}

impl Default for BarrierConfig {
    fn default() -> Self {
        Self {
            images: 64,
            grid: 400,
        }
    }
}

impl BarrierConfig {
    /// Checks every value.
    pub fn check(&self, c: &Checks) -> Result<()> {
        c.at_least(self.images, 3, "barrier.images")?;
        c.at_least(self.grid, 8, "barrier.grid")?;
        // The minimax search keeps about 40 bytes a node.
        c.memory(40.0 * (self.grid as f64).powi(2), "barrier.grid")?;
        c.memory(1e3 * self.images as f64, "barrier.images")
    }
}
