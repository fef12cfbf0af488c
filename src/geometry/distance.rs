//! Diffusion Edit Distance: the spacetime geodesic length between two data points seen at the
//! same, finite noise level λ_max (the distance to a Dirac, λ = ∞, is infinite).

use burn::tensor::Device;

use super::constraint::Constraints;
use super::geodesic::{Geodesic, geodesic};
use super::section::GeodesicConfig;
use crate::error::{Error, Result};
use crate::model::denoiser::Denoiser;

/// DiffED between `a` and `b` at log-SNR `lambda_max`, with the geodesic that realises it.
/// DiffED is the length of the plain geodesic: `config`'s constraints are not used.
pub fn diffusion_edit_distance(
    denoiser: &dyn Denoiser,
    a: &[f64],
    b: &[f64],
    lambda_max: f64,
    config: &GeodesicConfig,
    seed: u64,
    device: &Device,
) -> Result<(f64, Geodesic)> {
    if !lambda_max.is_finite() {
        return Err(Error::Invalid(
            "λ_max must be finite: the distance between Diracs is infinite".into(),
        ));
    }
    let start: Vec<f64> = std::iter::once(lambda_max)
        .chain(a.iter().copied())
        .collect();
    let end: Vec<f64> = std::iter::once(lambda_max)
        .chain(b.iter().copied())
        .collect();
    let plain = GeodesicConfig {
        constraints: Constraints::none(),
        ..config.clone()
    };
    let g = geodesic(denoiser, &start, &end, &plain, seed, device)?;
    Ok((g.length, g))
}
