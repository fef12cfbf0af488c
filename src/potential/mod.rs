//! Energy surfaces: the `Potential` trait that sampling, barriers, geodesic constraints and
//! Langevin paths work on, and the analytic and tabulated surfaces `tps` ships.

pub mod counting;
pub mod mixture;
pub mod muller_brown;
pub mod tabulated;
pub mod tilted;

pub use counting::Counting;
pub use mixture::{MixturePotential, log_sum_exp};
pub use muller_brown::MullerBrown;
pub use tabulated::Tabulated;
pub use tilted::{Tilted, WellTempered};

/// A potential energy `U(x)` on `R^D` (or a torus), in the system's energy unit.
pub trait Potential: Send + Sync {
    /// Dimension `D`.
    fn dim(&self) -> usize;

    /// `U(x)`, writing `∇U(x)` into `grad`. Outside a bounded domain: `+∞`.
    fn energy_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64;

    /// `U(x)` alone.
    fn energy(&self, x: &[f64]) -> f64 {
        let mut g = vec![0.0; self.dim()];
        self.energy_gradient(x, &mut g)
    }

    /// Period of each coordinate, if it is periodic (`[low, low + period)`).
    fn periodic(&self) -> Vec<Option<(f64, f64)>> {
        vec![None; self.dim()]
    }

    /// Wraps periodic coordinates into their primary cell.
    fn wrap(&self, x: &mut [f64]) {
        for (v, p) in x.iter_mut().zip(self.periodic()) {
            if let Some((low, period)) = p {
                *v = low + (*v - low).rem_euclid(period);
            }
        }
    }

    /// Minimum-image displacement `b − a` for periodic coordinates.
    fn displacement(&self, a: &[f64], b: &[f64]) -> Vec<f64> {
        a.iter()
            .zip(b)
            .zip(self.periodic())
            .map(|((a, b), p)| match p {
                Some((_, period)) => {
                    let d = b - a;
                    d - period * (d / period).round()
                }
                None => b - a,
            })
            .collect()
    }
}
