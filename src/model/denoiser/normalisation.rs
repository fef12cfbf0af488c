//! Map between data coordinates and the model's normalised space.
//!
//! Each coordinate is centred on its mean and all are divided by one common scale (the RMS of
//! the centred data), so the model sees unit-variance data while the geometry stays isotropic:
//! a Gaussian restraint in model space is a Gaussian restraint in data space.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `z = (x − mean) / scale`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    /// Mean of every coordinate.
    pub mean: Vec<f64>,
    /// One common scale (RMS spread of the centred data).
    pub scale: f64,
}

impl Normalisation {
    /// Fits mean and common scale to samples.
    pub fn fit(data: &[Vec<f64>]) -> Result<Self> {
        let n = data.len() as f64;
        let dim = data.first().map_or(0, Vec::len);
        let mut mean = vec![0.0; dim];
        for row in data {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v / n;
            }
        }
        let var: f64 = data
            .iter()
            .flat_map(|row| row.iter().zip(&mean).map(|(v, m)| (v - m).powi(2)))
            .sum::<f64>()
            / (n * dim as f64);
        let scale = var.sqrt();
        if !(scale > 0.0 && scale.is_finite()) {
            return Err(Error::Invalid(
                "training data have zero or non-finite spread".into(),
            ));
        }
        Ok(Self { mean, scale })
    }

    /// Identity map in `dim` dimensions.
    pub fn identity(dim: usize) -> Self {
        Self {
            mean: vec![0.0; dim],
            scale: 1.0,
        }
    }

    /// Data → model space.
    pub fn to_model(&self, x: &[f64]) -> Vec<f64> {
        x.iter()
            .zip(&self.mean)
            .map(|(v, m)| (v - m) / self.scale)
            .collect()
    }

    /// The restraint centre `m + s z/α(λ)` in data space of the spacetime point `(λ, z…)`
    /// (model units): where annealed Langevin dynamics at that point pulls its walker.
    pub fn centre(&self, point: &[f64]) -> Vec<f64> {
        let alpha = crate::schedule::alpha(point[0]);
        point[1..]
            .iter()
            .zip(&self.mean)
            .map(|(z, m)| m + self.scale * z / alpha)
            .collect()
    }

    /// Model → data space.
    pub fn to_data(&self, z: &[f64]) -> Vec<f64> {
        z.iter()
            .zip(&self.mean)
            .map(|(v, m)| m + v * self.scale)
            .collect()
    }
}
