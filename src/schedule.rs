//! Variance-preserving noise schedule in log-SNR time.
//!
//! `x_t = α x_0 + σ ε` with `α² + σ² = 1` and `λ = log(α²/σ²)`, so `α² = sigmoid(λ)` and
//! `σ² = sigmoid(−λ)`. Large λ is almost clean data, small λ almost pure noise.

use burn::tensor::Tensor;

/// Smallest and largest log-SNR the models are trained on (the paper's range).
pub const LAMBDA_MIN: f64 = -12.0;
/// See [`LAMBDA_MIN`].
pub const LAMBDA_MAX: f64 = 12.0;

/// The logistic function, computed without overflow.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `α²(λ) = sigmoid(λ)`.
pub fn alpha2(lambda: f64) -> f64 {
    sigmoid(lambda)
}

/// `σ²(λ) = sigmoid(−λ)`.
pub fn sigma2(lambda: f64) -> f64 {
    alpha2(-lambda)
}

/// `α(λ)`.
pub fn alpha(lambda: f64) -> f64 {
    alpha2(lambda).sqrt()
}

/// `σ(λ)`.
pub fn sigma(lambda: f64) -> f64 {
    sigma2(lambda).sqrt()
}

/// Element-wise `(α, σ)` for a tensor of log-SNRs.
pub fn alpha_sigma<const D: usize>(lambda: Tensor<D>) -> (Tensor<D>, Tensor<D>) {
    use burn::tensor::activation::sigmoid;
    let alpha = sigmoid(lambda.clone()).sqrt();
    let sigma = sigmoid(lambda.neg()).sqrt();
    (alpha, sigma)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variance_is_preserved_and_log_snr_round_trips() {
        for &l in &[-30.0, -12.0, -1.5, 0.0, 0.3, 4.0, 12.0, 30.0] {
            let (a2, s2) = (alpha2(l), sigma2(l));
            assert!((a2 + s2 - 1.0).abs() < 1e-15, "λ={l}");
            if l.abs() < 20.0 {
                assert!(((a2 / s2).ln() - l).abs() < 1e-9, "λ={l}");
            }
        }
        assert_eq!(alpha2(0.0), 0.5);
    }
}
