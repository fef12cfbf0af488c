//! The Müller–Brown surface: four anisotropic Gaussians, three minima and two saddles.

use super::Potential;

const A: [f64; 4] = [-200.0, -100.0, -170.0, 15.0];
const AA: [f64; 4] = [-1.0, -1.0, -6.5, 0.7];
const B: [f64; 4] = [0.0, 0.0, 11.0, 0.6];
const C: [f64; 4] = [-10.0, -10.0, -6.5, 0.7];
const X0: [f64; 4] = [1.0, 0.0, -0.5, -1.0];
const Y0: [f64; 4] = [0.0, 0.5, 1.5, 1.0];

/// `V(x, y) = Σ_k A_k exp(a_k (x−x0_k)² + b_k (x−x0_k)(y−y0_k) + c_k (y−y0_k)²)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct MullerBrown;

impl Potential for MullerBrown {
    fn dim(&self) -> usize {
        2
    }

    fn energy_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let (mut v, mut gx, mut gy) = (0.0, 0.0, 0.0);
        for k in 0..4 {
            let (dx, dy) = (x[0] - X0[k], x[1] - Y0[k]);
            let e = A[k] * (AA[k] * dx * dx + B[k] * dx * dy + C[k] * dy * dy).exp();
            v += e;
            gx += e * (2.0 * AA[k] * dx + B[k] * dy);
            gy += e * (B[k] * dx + 2.0 * C[k] * dy);
        }
        grad[0] = gx;
        grad[1] = gy;
        v
    }
}
