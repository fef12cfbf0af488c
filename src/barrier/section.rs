//! The `[barrier]` section of a system file, with defaults and checks.

use serde::Deserialize;

use crate::error::Result;
use crate::toml_file::Checks;

/// The `[barrier]` section: resolution of the reference minimum-energy path and bound, and of
/// a molecule's relaxed potential-energy map.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BarrierConfig {
    /// Images along the string.
    pub images: usize,
    /// Grid points per axis for the minimax bound.
    pub grid: usize,
    /// Grid points per variable of a molecule's relaxed map (`tps train`, `tps barrier`): a
    /// restrained minimisation at each of `relaxed_grid²` points, 10° apart by default.
    pub relaxed_grid: usize,
}

impl Default for BarrierConfig {
    fn default() -> Self {
        Self {
            images: 64,
            grid: 400,
            relaxed_grid: 36,
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
        c.memory(1e3 * self.images as f64, "barrier.images")?;
        c.at_least(self.relaxed_grid, 8, "barrier.relaxed_grid")?;
        c.require(
            self.relaxed_grid <= 360,
            "barrier.relaxed_grid",
            "at most 360 (one point per degree; each is a minimisation of the molecule)",
        )
    }
}
