//! The exact denoiser of an isotropic Gaussian mixture: the reference every approximation is
//! tested against, and a system in its own right (no training needed).

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};

use super::Denoiser;
use crate::compute;
use crate::error::{Error, Result};
use crate::potential::log_sum_exp;
use crate::schedule;

/// `q(x_0) = Σ_k w_k N(c_k, s_k² I)` in `D` dimensions.
#[derive(Debug, Clone)]
pub struct GaussianMixture {
    means: Vec<Vec<f64>>,
    weights: Vec<f64>,
    stds: Vec<f64>,
    device: Device,
    means_t: Tensor<2>,
    log_weights_t: Tensor<2>,
    variances_t: Tensor<2>,
}

/// Per-component posterior quantities at a batch of spacetime points.
struct Posterior {
    /// Responsibilities `r_k(x)`, `[B, K]`.
    resp: Tensor<2>,
    /// `x − α c_k`, `[B, K, D]`.
    diff: Tensor<3>,
    /// Marginal variance of component k at λ: `α² s_k² + σ²`, `[B, K]`.
    var: Tensor<2>,
    /// Posterior gain `α s_k² / (α² s_k² + σ²)`, `[B, K]`.
    gain: Tensor<2>,
    /// Component posterior means `c_k + gain_k (x − α c_k)`, `[B, K, D]`.
    means: Tensor<3>,
    /// `σ²`, `[B, 1]`.
    sigma2: Tensor<2>,
}

impl GaussianMixture {
    /// Builds a mixture; weights are normalised, all components share the dimension.
    pub fn new(
        means: Vec<Vec<f64>>,
        weights: Vec<f64>,
        stds: Vec<f64>,
        device: &Device,
    ) -> Result<Self> {
        let k = means.len();
        if k == 0 || weights.len() != k || stds.len() != k {
            return Err(Error::Invalid(format!(
                "a Gaussian mixture needs as many weights and stds as means (got {k} means, {} weights, {} stds)",
                weights.len(),
                stds.len()
            )));
        }
        let d = means[0].len();
        if d == 0 || means.iter().any(|m| m.len() != d) {
            return Err(Error::Invalid(
                "all mixture means must have the same, non-zero dimension".into(),
            ));
        }
        if weights.iter().any(|&w| !(w > 0.0 && w.is_finite()))
            || stds.iter().any(|&s| !(s > 0.0 && s.is_finite()))
        {
            return Err(Error::Invalid(
                "mixture weights and stds must be positive and finite".into(),
            ));
        }
        let total: f64 = weights.iter().sum();
        let weights: Vec<f64> = weights.iter().map(|w| w / total).collect();
        let flat: Vec<f64> = means.iter().flatten().copied().collect();
        let log_w: Vec<f64> = weights.iter().map(|w| w.ln()).collect();
        let var: Vec<f64> = stds.iter().map(|s| s * s).collect();
        Ok(Self {
            means_t: compute::matrix(&flat, k, d, device),
            log_weights_t: compute::matrix(&log_w, 1, k, device),
            variances_t: compute::matrix(&var, 1, k, device),
            means,
            weights,
            stds,
            device: device.clone(),
        })
    }

    /// Component means.
    pub fn means(&self) -> &[Vec<f64>] {
        &self.means
    }

    /// Normalised component weights.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Component standard deviations.
    pub fn stds(&self) -> &[f64] {
        &self.stds
    }

    /// Device the mixture's constants live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Log-density of `x_t` at log-SNR λ: `Σ_k w_k N(x; α c_k, (α² s_k² + σ²) I)`.
    pub fn log_density_at(&self, x: &[f64], lambda: f64) -> f64 {
        self.log_marginal(x, schedule::alpha(lambda), schedule::sigma2(lambda))
    }

    fn log_marginal(&self, x: &[f64], alpha: f64, sigma2: f64) -> f64 {
        let d = x.len() as f64;
        let terms: Vec<f64> = (0..self.weights.len())
            .map(|k| {
                let var = alpha * alpha * self.stds[k] * self.stds[k] + sigma2;
                let sq: f64 = x
                    .iter()
                    .zip(&self.means[k])
                    .map(|(xi, ci)| (xi - alpha * ci).powi(2))
                    .sum();
                self.weights[k].ln()
                    - 0.5 * d * (2.0 * std::f64::consts::PI * var).ln()
                    - sq / (2.0 * var)
            })
            .collect();
        log_sum_exp(&terms)
    }

    /// Closed-form `E[‖x_0‖² | x, λ]`, `[B, 1]`: the reference for the Tweedie estimate.
    pub fn second_moment(&self, lambda: Tensor<2>, x: Tensor<2>) -> Tensor<2> {
        let d = self.dim() as f64;
        let post = self.posterior(lambda, x);
        let [b, k, _] = post.means.dims();
        let mean_sq = post.means.powi_scalar(2).sum_dim(2).reshape([b, k]);
        let post_var = self.variances_t.clone().mul(post.sigma2) / post.var;
        (post.resp * (mean_sq + post_var.mul_scalar(d))).sum_dim(1)
    }

    fn posterior(&self, lambda: Tensor<2>, x: Tensor<2>) -> Posterior {
        let [b, d] = x.dims();
        let k = self.weights.len();
        let (alpha, sigma) = schedule::alpha_sigma(lambda);
        let sigma2 = sigma.powi_scalar(2);
        let var = alpha.clone().powi_scalar(2).mul(self.variances_t.clone()) + sigma2.clone();
        let means = self.means_t.clone().unsqueeze_dim::<3>(0);
        let diff = x.unsqueeze_dim::<3>(1) - alpha.clone().unsqueeze_dim::<3>(2).mul(means.clone());
        let sq = diff.clone().powi_scalar(2).sum_dim(2).reshape([b, k]);
        let log_p = self.log_weights_t.clone()
            - var.clone().log().mul_scalar(0.5 * d as f64)
            - sq / var.clone().mul_scalar(2.0);
        let resp = softmax(log_p, 1);
        let gain = alpha.mul(self.variances_t.clone()) / var.clone();
        let post_means = means + gain.clone().unsqueeze_dim::<3>(2).mul(diff.clone());
        Posterior {
            resp,
            diff,
            var,
            gain,
            means: post_means,
            sigma2,
        }
    }
}

impl Denoiser for GaussianMixture {
    fn dim(&self) -> usize {
        self.means[0].len()
    }

    fn denoise(&self, lambda: Tensor<2>, x: Tensor<2>) -> Tensor<2> {
        let [b, d] = x.dims();
        let post = self.posterior(lambda, x);
        (post.resp.unsqueeze_dim::<3>(2) * post.means)
            .sum_dim(1)
            .reshape([b, d])
    }

    /// `J v = Σ_k r_k g_k v + Σ_k m_k (∇r_k · v)` with `∇r_k = r_k (∇log p_k − Σ_j r_j ∇log p_j)`
    /// and `∇log p_k = −(x − α c_k) / var_k`.
    fn denoise_jvp(
        &self,
        lambda: Tensor<2>,
        x: Tensor<2>,
        tangents: Tensor<2>,
    ) -> (Tensor<2>, Tensor<2>) {
        let [b, d] = x.dims();
        let p = tangents.dims()[0] / b;
        let post = self.posterior(lambda, x);
        let resp = post.resp.unsqueeze_dim::<3>(0); // [1, B, K]
        let v = tangents.reshape([p, b, 1, d]);
        let diff = post.diff.unsqueeze_dim::<4>(0); // [1, B, K, D]
        let var = post.var.unsqueeze_dim::<3>(0);
        let a = (diff * v.clone()).sum_dim(3).squeeze_dim::<3>(3).neg() / var; // [P, B, K]
        let a_mean = (resp.clone() * a.clone()).sum_dim(2);
        let dr = resp.clone() * (a - a_mean); // [P, B, K]
        let shrink = (resp.clone() * post.gain.unsqueeze_dim::<3>(0)).sum_dim(2); // [1, B, 1]
        let means = post.means.clone().unsqueeze_dim::<4>(0); // [1, B, K, D]
        let jv = shrink * v.reshape([p, b, d])
            + (dr.unsqueeze_dim::<4>(3) * means)
                .sum_dim(2)
                .reshape([p, b, d]);
        let denoised = (resp.squeeze_dim::<2>(0).unsqueeze_dim::<3>(2) * post.means)
            .sum_dim(1)
            .reshape([b, d]);
        (denoised, jv.reshape([p * b, d]))
    }
}
