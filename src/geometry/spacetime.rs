//! Spacetime points θ = (λ, x), their natural and expectation parameters, and the discrete
//! curve energy and length built from them.
//!
//! The denoising distribution `p(x_0 | x, λ)` is an exponential family with statistic
//! `(‖x_0‖², x_0)`: natural parameters `η = (−½ e^λ, (α/σ²) x)`, expectation parameters
//! `μ = (E‖x_0‖², E x_0)` with `E x_0 = D(x, λ)` and `E‖x_0‖² = (σ²/α) div D + ‖D‖²`.

use burn::tensor::{Device, Tensor};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::compute;
use crate::model::denoiser::Denoiser;
use crate::schedule;

/// How the divergence of the denoiser is computed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DivergenceConfig {
    /// Exact trace (one JVP per dimension) up to this dimension; Hutchinson above it.
    #[serde(default = "default_exact_max_dim")]
    pub exact_max_dim: usize,
    /// Rademacher probes per point for Hutchinson's estimator.
    #[serde(default = "default_probes")]
    pub probes: usize,
}

fn default_exact_max_dim() -> usize {
    16
}
fn default_probes() -> usize {
    4
}

impl Default for DivergenceConfig {
    fn default() -> Self {
        Self {
            exact_max_dim: default_exact_max_dim(),
            probes: default_probes(),
        }
    }
}

impl DivergenceConfig {
    /// Whether dimension `dim` gets the exact trace.
    pub fn is_exact(&self, dim: usize) -> bool {
        dim <= self.exact_max_dim
    }
}

/// Tangent vectors for the trace estimate `div D ≈ w Σ_p v_pᵀ J v_p`.
#[derive(Clone)]
pub struct Probes {
    tangents: Tensor<2>,
    count: usize,
    weight: f64,
}

impl Probes {
    /// The basis vectors `e_1 … e_D` at every one of `batch` points: the exact trace.
    pub fn exact(batch: usize, dim: usize, device: &Device) -> Self {
        let mut v = vec![0.0; dim * batch * dim];
        for p in 0..dim {
            for b in 0..batch {
                v[(p * batch + b) * dim + p] = 1.0;
            }
        }
        Self {
            tangents: compute::matrix(&v, dim * batch, dim, device),
            count: dim,
            weight: 1.0,
        }
    }

    /// `probes` random ±1 vectors per point: Hutchinson's unbiased estimate.
    pub fn rademacher(
        batch: usize,
        dim: usize,
        probes: usize,
        rng: &mut impl Rng,
        device: &Device,
    ) -> Self {
        let n = probes.max(1);
        let v: Vec<f64> = (0..n * batch * dim)
            .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
            .collect();
        Self {
            tangents: compute::matrix(&v, n * batch, dim, device),
            count: n,
            weight: 1.0 / n as f64,
        }
    }

    /// Exact or Hutchinson probes as `config` prescribes for dimension `dim`.
    pub fn for_config(
        config: &DivergenceConfig,
        batch: usize,
        dim: usize,
        rng: &mut impl Rng,
        device: &Device,
    ) -> Self {
        if config.is_exact(dim) {
            Self::exact(batch, dim, device)
        } else {
            Self::rademacher(batch, dim, config.probes, rng, device)
        }
    }
}

/// `D(x, λ)` and `div_x D(x, λ)` (`[B, D]`, `[B, 1]`).
pub fn denoise_with_divergence(
    denoiser: &dyn Denoiser,
    lambda: Tensor<2>,
    x: Tensor<2>,
    probes: &Probes,
) -> (Tensor<2>, Tensor<2>) {
    let [b, _] = x.dims();
    let (denoised, jv) = denoiser.denoise_jvp(lambda, x, probes.tangents.clone());
    let quad = (probes.tangents.clone() * jv)
        .sum_dim(1)
        .reshape([probes.count, b]);
    let div = quad.sum_dim(0).reshape([b, 1]).mul_scalar(probes.weight);
    (denoised, div)
}

/// Expectation parameters: `E‖x_0‖²` (`[B, 1]`) and `E x_0` (`[B, D]`).
pub fn expectation(
    denoiser: &dyn Denoiser,
    lambda: Tensor<2>,
    x: Tensor<2>,
    probes: &Probes,
) -> (Tensor<2>, Tensor<2>) {
    let (denoised, div) = denoise_with_divergence(denoiser, lambda.clone(), x, probes);
    let (alpha, sigma) = schedule::alpha_sigma(lambda);
    let second = sigma.powi_scalar(2) / alpha * div + denoised.clone().powi_scalar(2).sum_dim(1);
    (second, denoised)
}

/// Natural parameters: `−½ e^λ` (`[B, 1]`) and `(α/σ²) x` (`[B, D]`).
pub fn natural(lambda: Tensor<2>, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
    let (alpha, sigma) = schedule::alpha_sigma(lambda.clone());
    let eta_sq = lambda.exp().mul_scalar(-0.5);
    let eta_lin = alpha / sigma.powi_scalar(2) * x;
    (eta_sq, eta_lin)
}

/// Where a chord `Δη·Δμ` is clipped at 0. It is ≥ 0 as a whole in theory; on a learnt model
/// its parts need not be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Clipping {
    /// The whole chord (tps).
    #[default]
    Chord,
    /// The time part `Δη₀Δμ₀` and each coordinate's space part `Δη_iΔμ_i` separately, as the
    /// authors' molecular code does (`mol_utils.energy_from_mu_eta`).
    Parts,
}

/// How a curve's chords split into parts: what a learnt model's inconsistency looks like, and
/// the energy under the authors' definition.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChordParts {
    /// Chords of the curve.
    pub chords: usize,
    /// Chords whose time part `Δη₀Δμ₀` is negative.
    pub negative_time_parts: usize,
    /// Chords whose space part `Σ_i Δη_iΔμ_i` is negative.
    pub negative_space_parts: usize,
    /// Chords whose whole `Δη·Δμ` is negative.
    pub negative_chords: usize,
    /// `Σ_n [relu(time part) + Σ_i relu(Δη_iΔμ_i)]`: the authors' energy, parts clipped
    /// separately and without tps's `(N−1)/2`.
    pub authors_energy: f64,
}

/// Natural and expectation parameters of a batch of spacetime points.
pub struct Parameters {
    /// Natural parameter `−½ e^λ`, `[N, 1]`.
    pub eta_sq: Tensor<2>,
    /// Natural parameter `(α/σ²) x`, `[N, D]`.
    pub eta_lin: Tensor<2>,
    /// Expectation parameter `E‖x_0‖²`, `[N, 1]`.
    pub mu_sq: Tensor<2>,
    /// Expectation parameter `E x_0 = D(x, λ)`, `[N, D]`.
    pub mu_lin: Tensor<2>,
}

impl Parameters {
    /// Evaluates both parameterisations at `points` (`[N, 1 + D]`, column 0 is λ).
    pub fn at(denoiser: &dyn Denoiser, points: Tensor<2>, probes: &Probes) -> Self {
        let [n, cols] = points.dims();
        let lambda = points.clone().slice([0..n, 0..1]);
        let x = points.slice([0..n, 1..cols]);
        let (eta_sq, eta_lin) = natural(lambda.clone(), x.clone());
        let (mu_sq, mu_lin) = expectation(denoiser, lambda, x, probes);
        Self {
            eta_sq,
            eta_lin,
            mu_sq,
            mu_lin,
        }
    }

    /// The time parts `[N − 1, 1]` and the space parts per coordinate `[N − 1, D]` of the
    /// chords.
    fn parts(&self) -> (Tensor<2>, Tensor<2>) {
        let n = self.eta_sq.dims()[0];
        let diff = |t: &Tensor<2>| {
            let cols = t.dims()[1];
            t.clone().slice([1..n, 0..cols]) - t.clone().slice([0..n - 1, 0..cols])
        };
        (
            diff(&self.eta_sq) * diff(&self.mu_sq),
            diff(&self.eta_lin) * diff(&self.mu_lin),
        )
    }

    /// `Δη_n · Δμ_n` between consecutive points, clipped at 0 as `clipping` says: `[N − 1]`.
    ///
    /// Each chord is exactly `KL(p_n ‖ p_{n+1}) + KL(p_{n+1} ‖ p_n)`.
    pub fn chords(&self, clipping: Clipping) -> Tensor<1> {
        let n = self.eta_sq.dims()[0];
        let (time, space) = self.parts();
        match clipping {
            Clipping::Chord => (time + space.sum_dim(1)).clamp_min(0.0).reshape([n - 1]),
            Clipping::Parts => {
                (time.clamp_min(0.0) + space.clamp_min(0.0).sum_dim(1)).reshape([n - 1])
            }
        }
    }

    /// The signs of the chords' parts and the authors' energy (host values).
    pub fn chord_parts(&self) -> ChordParts {
        let (time, space) = self.parts();
        let d = space.dims()[1];
        let time = compute::to_host(time);
        let space = compute::to_host(space);
        let mut out = ChordParts {
            chords: time.len(),
            negative_time_parts: 0,
            negative_space_parts: 0,
            negative_chords: 0,
            authors_energy: 0.0,
        };
        for (t, x) in time.iter().zip(space.chunks(d)) {
            let sum: f64 = x.iter().sum();
            out.negative_time_parts += usize::from(*t < 0.0);
            out.negative_space_parts += usize::from(sum < 0.0);
            out.negative_chords += usize::from(t + sum < 0.0);
            out.authors_energy += t.max(0.0) + x.iter().map(|v| v.max(0.0)).sum::<f64>();
        }
        out
    }
}

/// Discrete curve energy `(N−1)/2 Σ chords`.
pub fn energy(chords: Tensor<1>) -> Tensor<1> {
    let segments = chords.dims()[0];
    chords.sum().mul_scalar(0.5 * segments as f64)
}

/// Discrete curve length `Σ sqrt(chords)` (host values; not differentiated).
pub fn length(chords: &[f64]) -> f64 {
    chords.iter().map(|c| c.max(0.0).sqrt()).sum()
}
