//! Reference barriers: the grid minimax bound (the lowest possible maximum energy along any
//! path on a grid) and the minimum-energy path by the string method, with its highest point
//! refined to the saddle by Newton's method.

pub mod basins;
pub mod minimax;
pub mod section;
pub mod string_method;

pub use basins::{BasinOf, Basins, descend};
pub use minimax::{MinimaxPath, grid_minimax};
pub use section::BarrierConfig;
pub use string_method::{MinimumEnergyPath, minimum_energy_path};
