//! Spacetime geometry of a diffusion model: parameters, curves, geodesics and distances.

pub mod constraint;
pub mod distance;
pub mod geodesic;
pub mod optimiser;
pub mod section;
pub mod spacetime;
pub mod spline;

pub use constraint::{
    AvoidRegion, Constraints, EnergyAware, Landscape, LowVariance, kl_from_point,
};
pub use distance::diffusion_edit_distance;
pub use geodesic::{Divergence, Geodesic, GeodesicProblem, geodesic};
pub use optimiser::Optimiser;
pub use section::GeodesicConfig;
pub use spacetime::{ChordParts, Clipping, DivergenceConfig, Parameters, Probes};
pub use spline::{CurveGrid, SplineBasis};
