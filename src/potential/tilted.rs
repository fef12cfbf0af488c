//! A surface flattened by a known tilt, `U + V(U)`: what a model must learn to know the pass.
//!
//! The well-tempered tilt `V = −(1 − 1/γ)·min(U − U_min, cap)` turns `exp(−U/kT)` into
//! `exp(−U/(γ kT))` below `cap` (the ensemble well-tempered metadynamics converges to), so the
//! pass holds `γ` times more of the samples' log-weight; above the cap it is the surface again,
//! shifted. Because `V` is known, the equilibrium score is recovered exactly from the tilted
//! one: `∇ log p = ∇ log p_b + ∇V/kT`.

use serde::{Deserialize, Serialize};

use super::{Potential, Tabulated};

/// The tilt's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WellTempered {
    /// Bias factor `γ > 1`: below the cap, the surface is divided by it.
    pub bias_factor: f64,
    /// Height above the surface's minimum (surface units) beyond which the tilt stays
    /// constant, if any.
    pub cap: Option<f64>,
    /// The surface's minimum over its domain.
    pub minimum: f64,
}

impl WellTempered {
    /// `V(U)`.
    pub fn bias(&self, u: f64) -> f64 {
        -(1.0 - 1.0 / self.bias_factor) * (u - self.minimum).min(self.cap.unwrap_or(f64::INFINITY))
    }

    /// `dV/dU`.
    pub fn slope(&self, u: f64) -> f64 {
        if self.cap.is_none_or(|cap| u - self.minimum < cap) {
            -(1.0 - 1.0 / self.bias_factor)
        } else {
            0.0
        }
    }

    /// `V` on the nodes of `grid` (a tabulation of the surface): the bias as metadynamics
    /// stores it, evaluated later without the surface.
    pub fn tabulate(&self, surface: &Tabulated) -> Tabulated {
        surface.map(|u| self.bias(u))
    }
}

/// `inner + V(inner)`.
pub struct Tilted<'a> {
    inner: &'a dyn Potential,
    tilt: WellTempered,
}

impl<'a> Tilted<'a> {
    /// `inner` tilted by `tilt`.
    pub fn new(inner: &'a dyn Potential, tilt: WellTempered) -> Self {
        Self { inner, tilt }
    }
}

impl Potential for Tilted<'_> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn energy_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let u = self.inner.energy_gradient(x, grad);
        if !u.is_finite() {
            return u;
        }
        let scale = 1.0 + self.tilt.slope(u);
        grad.iter_mut().for_each(|g| *g *= scale);
        u + self.tilt.bias(u)
    }

    fn periodic(&self) -> Vec<Option<(f64, f64)>> {
        self.inner.periodic()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::MullerBrown;

    #[test]
    fn the_tilt_divides_the_surface_below_its_cap_with_a_consistent_gradient() {
        let tilt = WellTempered {
            bias_factor: 4.0,
            cap: Some(50.0),
            minimum: -146.7,
        };
        let mb = MullerBrown;
        let t = Tilted::new(&mb, tilt);
        let x = [-0.5, 1.4];
        let u = mb.energy(&x);
        assert!(u - tilt.minimum < 50.0);
        let want = tilt.minimum + (u - tilt.minimum) / 4.0;
        assert!((t.energy(&x) - want).abs() < 1e-9);
        let mut g = [0.0; 2];
        t.energy_gradient(&x, &mut g);
        for k in 0..2 {
            let h = 1e-6;
            let mut a = x;
            let mut b = x;
            a[k] -= h;
            b[k] += h;
            let fd = (t.energy(&b) - t.energy(&a)) / (2.0 * h);
            assert!(
                (g[k] - fd).abs() < 1e-5 * (1.0 + fd.abs()),
                "{k}: {} vs {fd}",
                g[k]
            );
        }
        // Above the cap: the surface shifted down by (1 − 1/γ)·cap, its gradient unchanged.
        let far = [1.2, 2.0];
        let u = mb.energy(&far);
        assert!(u - tilt.minimum > 50.0);
        assert!((t.energy(&far) - (u - 0.75 * 50.0)).abs() < 1e-9);
    }
}
