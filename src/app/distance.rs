//! `tps distance`: Diffusion Edit Distance between two data points.

use std::path::Path;

use super::parse_point;
use crate::compute::Backend;
use crate::error::{Error, Result};
use crate::geometry::diffusion_edit_distance;
use crate::system::System;

/// DiffED between `a` and `b` (data coordinates, comma-separated) at `lambda_max` (default:
/// the system's `transition.lambda_max`). On periodic coordinates `b` is taken at its image
/// nearest to `a`.
pub fn run(
    path: &Path,
    a: &str,
    b: &str,
    lambda_max: Option<f64>,
    seed: u64,
    backend: Backend,
) -> Result<f64> {
    let system = System::load(path)?;
    system.require_variables("distance")?;
    let dim = system.file.dim();
    let (a, b) = (parse_point(a, "--a")?, parse_point(b, "--b")?);
    if a.len() != dim || b.len() != dim {
        return Err(Error::Invalid(format!(
            "--a and --b need {dim} coordinates for system `{}`",
            system.file.name
        )));
    }
    let b: Vec<f64> = match system.potential() {
        Ok(p) => a
            .iter()
            .zip(p.displacement(&a, &b))
            .map(|(x, d)| x + d)
            .collect(),
        Err(_) => b,
    };
    let loaded = system.denoiser(backend)?;
    let lm = lambda_max.unwrap_or(system.file.transition.lambda_max);
    let norm = &loaded.normalisation;
    let (d, _) = diffusion_edit_distance(
        loaded.denoiser.as_ref(),
        &norm.to_model(&a),
        &norm.to_model(&b),
        lm,
        &system.file.geodesic,
        seed,
        &loaded.device,
    )?;
    Ok(d)
}
