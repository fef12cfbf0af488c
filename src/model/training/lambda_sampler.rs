//! Adaptive importance sampling of the log-SNR during training.
//!
//! λ ∈ [λ_min, λ_max] is split into bins. Each bin keeps a running mean of the weighted loss it
//! produces; bins are drawn in proportion to it (mixed with a uniform share so none starves),
//! and each sample carries the importance weight `(1/bins) / p_bin` so that the objective stays
//! the uniform-λ objective in expectation while the gradient variance drops.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// Adaptive sampler over λ bins.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LambdaSampler {
    low: f64,
    high: f64,
    loss: Vec<f64>,
    uniform_share: f64,
    decay: f64,
}

impl LambdaSampler {
    /// `bins` equal bins over `[low, high]`.
    pub fn new(low: f64, high: f64, bins: usize) -> Self {
        assert!(high > low && bins >= 1, "λ range must be non-empty");
        Self {
            low,
            high,
            loss: vec![1.0; bins],
            uniform_share: 0.1,
            decay: 0.99,
        }
    }

    fn probabilities(&self) -> Vec<f64> {
        let total: f64 = self.loss.iter().sum();
        let n = self.loss.len() as f64;
        self.loss
            .iter()
            .map(|l| (1.0 - self.uniform_share) * l / total + self.uniform_share / n)
            .collect()
    }

    /// Draws `count` samples: `(λ, bin, importance weight)`.
    pub fn sample(&self, count: usize, rng: &mut impl Rng) -> Vec<(f64, usize, f64)> {
        let p = self.probabilities();
        let n = p.len();
        let width = (self.high - self.low) / n as f64;
        let mut cdf = Vec::with_capacity(n);
        let mut acc = 0.0;
        for pi in &p {
            acc += pi;
            cdf.push(acc);
        }
        (0..count)
            .map(|_| {
                let u: f64 = rng.random::<f64>() * acc;
                let bin = cdf.partition_point(|&c| c < u).min(n - 1);
                let lambda = self.low + width * (bin as f64 + rng.random::<f64>());
                (lambda, bin, 1.0 / (n as f64 * p[bin]))
            })
            .collect()
    }

    /// Feeds back the (unweighted by importance) losses of the last batch.
    pub fn update(&mut self, bins: &[usize], losses: &[f64]) {
        let mut sum = vec![0.0; self.loss.len()];
        let mut count = vec![0usize; self.loss.len()];
        for (&b, &l) in bins.iter().zip(losses) {
            if l.is_finite() {
                sum[b] += l;
                count[b] += 1;
            }
        }
        for b in 0..self.loss.len() {
            if count[b] > 0 {
                let mean = sum[b] / count[b] as f64;
                self.loss[b] = self.decay * self.loss[b] + (1.0 - self.decay) * mean.max(1e-12);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn importance_weights_keep_the_uniform_expectation() {
        let mut s = LambdaSampler::new(-12.0, 12.0, 8);
        // Skew the bins strongly, as training would.
        s.loss = vec![10.0, 5.0, 1.0, 0.5, 0.1, 0.1, 0.1, 0.1];
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let draws = s.sample(400_000, &mut rng);
        // E_p[w f(λ)] must equal the uniform mean of f; f(λ) = λ² has uniform mean 48.
        let est: f64 = draws.iter().map(|(l, _, w)| w * l * l).sum::<f64>() / draws.len() as f64;
        assert!((est - 48.0).abs() < 0.5, "importance-weighted mean {est}");
        assert!(draws.iter().all(|(l, _, _)| (-12.0..=12.0).contains(l)));
        // The high-loss bin is drawn far more often than a uniform sampler would.
        let first = draws.iter().filter(|d| d.1 == 0).count() as f64 / draws.len() as f64;
        assert!(first > 0.4, "share of the high-loss bin {first}");
    }
}
