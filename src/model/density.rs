//! The model's own density, `log q_λ(x)`, by its probability-flow ODE.
//!
//! Integrating the score over space gives a free energy only up to paths through places the
//! data barely visit, and an error there shifts whole basins against each other (alanine's
//! tilted models: C7ax by 2–3 kJ/mol). The ODE instead carries each point down every noise
//! level to the Gaussian the schedule ends in, where the density is known, so the relative
//! weight of two basins rests on the noise levels at which they merge. In log-SNR time the
//! variance-preserving flow is `dx/dλ = ½ α (D(x, λ) − α x)`, and along it
//! `d log q/dλ = −∇·(dx/dλ) = −½ α (∇·D − α d)`.

use burn::tensor::Device;

use super::denoiser::Denoiser;
use crate::compute;
use crate::error::{Error, Result};
use crate::schedule::{self, LAMBDA_MIN};

/// Heun steps from a point's λ down to [`LAMBDA_MIN`]: a Gaussian mixture's closed form within
/// 6 × 10⁻³ (the same 24 steps evenly spaced in λ: 2.5 × 10⁻²).
pub const DENSITY_STEPS: usize = 24;

/// Rows per batch through the network (memory: the divergence carries `dim` tangents per row).
const CHUNK: usize = 4096;

/// `log q_λ(x)` of `denoiser` at every `x` (model space, noisy coordinates `x_λ = α x₀ + σ ε`),
/// up to the normal's constant `−(d/2) ln 2π`, which differences of it do not see.
///
/// At [`LAMBDA_MIN`] the noisy data are the standard normal up to `α² = 6 × 10⁻⁶` (the model's
/// data have unit spread); that is the only approximation besides the steps.
pub fn log_density(
    denoiser: &dyn Denoiser,
    device: &Device,
    x: &[Vec<f64>],
    lambda: f64,
    steps: usize,
) -> Result<Vec<f64>> {
    let dim = denoiser.dim();
    if let Some(row) = x.iter().find(|r| r.len() != dim) {
        return Err(Error::Invalid(format!(
            "a point of dimension {} for a model of dimension {dim}",
            row.len()
        )));
    }
    let mut out = Vec::with_capacity(x.len());
    for rows in x.chunks(CHUNK) {
        out.extend(chunk_log_density(denoiser, device, rows, lambda, steps)?);
    }
    if out.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFinite(
            "the model's density by its probability-flow ODE is not finite".into(),
        ));
    }
    Ok(out)
}

fn chunk_log_density(
    denoiser: &dyn Denoiser,
    device: &Device,
    rows: &[Vec<f64>],
    lambda: f64,
    steps: usize,
) -> Result<Vec<f64>> {
    let (n, dim) = (rows.len(), denoiser.dim());
    // Tangent p at every point is the unit vector e_p: the Jacobian's diagonal, exactly.
    let mut unit = vec![0.0; dim * n * dim];
    for p in 0..dim {
        for b in 0..n {
            unit[(p * n + b) * dim + p] = 1.0;
        }
    }
    let tangents = compute::matrix(&unit, dim * n, dim, device);
    let flow = |x: &[f64], l: f64| -> (Vec<f64>, Vec<f64>) {
        let a = schedule::alpha(l);
        let (d, jvp) = denoiser.denoise_jvp(
            compute::matrix(&vec![l; n], n, 1, device),
            compute::matrix(x, n, dim, device),
            tangents.clone(),
        );
        let (d, jvp) = (compute::to_host(d), compute::to_host(jvp));
        let velocity = (0..n * dim).map(|k| 0.5 * a * (d[k] - a * x[k])).collect();
        let divergence = (0..n)
            .map(|b| {
                let trace: f64 = (0..dim).map(|p| jvp[(p * n + b) * dim + p]).sum();
                0.5 * a * (trace - a * dim as f64)
            })
            .collect();
        (velocity, divergence)
    };
    let mut x: Vec<f64> = rows.iter().flatten().copied().collect();
    let mut integral = vec![0.0; n];
    let steps = steps.max(1);
    // Steps grow quadratically away from λ: below λ ≈ −4 the flow barely moves (α < 0.14).
    let at = |k: usize| lambda + (LAMBDA_MIN - lambda) * (k as f64 / steps as f64).powi(2);
    for k in 0..steps {
        let (l, h) = (at(k), at(k + 1) - at(k));
        let (v0, d0) = flow(&x, l);
        let guess: Vec<f64> = x.iter().zip(&v0).map(|(x, v)| x + h * v).collect();
        let (v1, d1) = flow(&guess, l + h);
        for (k, x) in x.iter_mut().enumerate() {
            *x += 0.5 * h * (v0[k] + v1[k]);
        }
        // ∫ from λ down to λ_min of ∇·v dλ = log q_λ − log q_λmin.
        for (b, i) in integral.iter_mut().enumerate() {
            *i += 0.5 * h * (d0[b] + d1[b]);
        }
    }
    Ok((0..n)
        .map(|b| {
            let r2: f64 = x[b * dim..(b + 1) * dim].iter().map(|v| v * v).sum();
            integral[b] - 0.5 * r2
        })
        .collect())
}
