//! Spacetime geometry of a diffusion model: parameters, curves, geodesics and distances.

pub mod distance;
pub mod geodesic;
pub mod spacetime;
pub mod spline;

pub use distance::diffusion_edit_distance;
pub use geodesic::{Constraint, Geodesic, GeodesicConfig, GeodesicProblem, geodesic};
pub use spacetime::{DivergenceConfig, Parameters, Probes};
pub use spline::{CurveGrid, SplineBasis};
