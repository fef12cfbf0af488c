//! The model's density by its probability-flow ODE against a Gaussian mixture's closed form.

use crate::common::f64_device;
use tps::model::denoiser::GaussianMixture;
use tps::model::density::{DENSITY_STEPS, log_density};
use tps::schedule;

/// An unequal three-component mixture: the log-density at each component's centre and between
/// them, at two noise levels, within 8 × 10⁻³ of the closed form (steps
/// even in λ miss by 2.5 × 10⁻²) (the normal's constant added
/// back). The basins' relative weights are what integrating the score across space cannot
/// give where the data are thin; here they come out exactly.
#[test]
fn a_gaussian_mixtures_log_density_is_its_closed_form() {
    let device = f64_device();
    let gm = GaussianMixture::new(
        vec![vec![-1.2, 0.3], vec![0.9, 0.8], vec![0.4, -1.1]],
        vec![0.6, 0.3, 0.1],
        vec![0.35, 0.25, 0.4],
        &device,
    )
    .unwrap();
    let normal = -(2.0 * std::f64::consts::PI).ln();
    for lambda in [2.0, 5.0] {
        let a = schedule::alpha(lambda);
        let points: Vec<Vec<f64>> = [[-1.2, 0.3], [0.9, 0.8], [0.4, -1.1], [-0.2, 0.5]]
            .iter()
            .map(|p| p.iter().map(|v| a * v).collect())
            .collect();
        let ode = log_density(&gm, &device, &points, lambda, DENSITY_STEPS).unwrap();
        for (k, p) in points.iter().enumerate() {
            let (got, want) = (ode[k] + normal, gm.log_density_at(p, lambda));
            assert!(
                (got - want).abs() < 8e-3,
                "λ = {lambda}, point {k}: log q {got:.5} against {want:.5}"
            );
        }
    }
}

/// A point of the wrong dimension is refused, not read past.
#[test]
fn a_point_of_the_wrong_dimension_is_refused() {
    let device = f64_device();
    let gm = GaussianMixture::new(vec![vec![0.0, 0.0]], vec![1.0], vec![1.0], &device).unwrap();
    let err = log_density(&gm, &device, &[vec![0.0; 3]], 4.0, 4).unwrap_err();
    assert!(err.to_string().contains("dimension 3"), "{err}");
}
