//! A Gaussian mixture as a system: `U(x) = −log q(x)` in units of kT, sampled exactly and
//! denoised exactly (no training).

use super::Potential;

/// Host-side mixture density, used as a potential.
#[derive(Debug, Clone)]
pub struct MixturePotential {
    /// Component means.
    pub means: Vec<Vec<f64>>,
    /// Component weights.
    pub weights: Vec<f64>,
    /// Component standard deviations.
    pub stds: Vec<f64>,
}

impl MixturePotential {
    fn log_terms(&self, x: &[f64]) -> Vec<f64> {
        let d = x.len() as f64;
        let total: f64 = self.weights.iter().sum();
        self.means
            .iter()
            .zip(&self.weights)
            .zip(&self.stds)
            .map(|((m, w), s)| {
                let sq: f64 = x.iter().zip(m).map(|(a, b)| (a - b).powi(2)).sum();
                (w / total).ln()
                    - 0.5 * d * (2.0 * std::f64::consts::PI * s * s).ln()
                    - sq / (2.0 * s * s)
            })
            .collect()
    }
}

impl Potential for MixturePotential {
    fn dim(&self) -> usize {
        self.means[0].len()
    }

    fn energy_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let terms = self.log_terms(x);
        let lse = log_sum_exp(&terms);
        grad.iter_mut().for_each(|g| *g = 0.0);
        for ((t, m), s) in terms.iter().zip(&self.means).zip(&self.stds) {
            let r = (t - lse).exp();
            for ((g, xi), mi) in grad.iter_mut().zip(x).zip(m) {
                *g += r * (xi - mi) / (s * s);
            }
        }
        -lse
    }
}

pub use tps_mm::numeric::log_sum_exp;
