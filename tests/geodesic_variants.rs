//! Constrained geodesics, Hutchinson's divergence, Diffusion Edit Distance and divergence
//! handling, on exact mixture denoisers (f64).

use crate::common::{f64_autodiff, f64_device, rel};
use burn::tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tps::compute;
use tps::geometry::geodesic::straight_line;
use tps::geometry::spacetime::{self, Probes};
use tps::geometry::{
    AvoidRegion, Constraints, GeodesicConfig, GeodesicProblem, LowVariance, Optimiser,
    diffusion_edit_distance, geodesic, kl_from_point,
};
use tps::model::denoiser::{Denoiser, GaussianMixture};
use tps::{Error, schedule};

/// The paper's 1-D toy mixture.
fn toy() -> GaussianMixture {
    GaussianMixture::new(
        vec![vec![-2.5], vec![0.5], vec![2.5]],
        vec![0.275, 0.45, 0.275],
        vec![0.75; 3],
        &f64_device(),
    )
    .unwrap()
}

fn config(constraints: Constraints) -> GeodesicConfig {
    GeodesicConfig {
        points: 64,
        nodes: 8,
        steps: 4000,
        constraints,
        ..GeodesicConfig::default()
    }
}

fn min_lambda(points: &[Vec<f64>]) -> f64 {
    points.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min)
}

#[test]
fn low_variance_geodesic_stays_above_the_threshold_and_is_longer() {
    let gmm = toy();
    let dev = f64_autodiff();
    let (a, b) = ([4.0, -2.5], [4.0, 2.5]);
    let free = geodesic(&gmm, &a, &b, &config(Constraints::none()), 0, &dev).unwrap();
    let low = Constraints {
        low_variance: Some(LowVariance {
            min_lambda: Some(1.0),
            below_ends: None,
            weight: 1.0,
            sharpness: 1.0,
        }),
        ..Constraints::none()
    };
    let held = geodesic(&gmm, &a, &b, &config(low), 0, &dev).unwrap();
    let (_, straight) = straight_line(&gmm, &a, &b, &config(Constraints::none()), &dev);
    assert!(
        min_lambda(&free.points) < -2.0,
        "the free geodesic goes through noise"
    );
    assert!(
        min_lambda(&held.points) > 0.5,
        "constrained minimum λ {}",
        min_lambda(&held.points)
    );
    assert!(free.length < held.length && held.length < straight);
}

#[test]
fn region_avoiding_geodesic_keeps_its_kl_distance_from_the_forbidden_point() {
    let gmm = toy();
    let dev = f64_autodiff();
    let (a, b) = ([4.0, -2.5], [4.0, 2.5]);
    let base = config(Constraints::none());
    let free = geodesic(&gmm, &a, &b, &base, 0, &dev).unwrap();
    // Forbid the middle of the free geodesic.
    let star = free.points[free.points.len() / 2].clone();
    let kl_free = kl_from_point(&gmm, &star, &free.points, &base.divergence, &dev).unwrap();
    let min_free = kl_free.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(
        min_free < 0.05,
        "the free geodesic passes through θ*: {min_free}"
    );
    let min_kl = 2.0;
    let avoid = Constraints {
        avoid: Some(AvoidRegion {
            point: star.clone(),
            min_kl,
            weight: 1.0,
        }),
        ..Constraints::none()
    };
    let away = geodesic(&gmm, &a, &b, &config(avoid), 0, &dev).unwrap();
    let kl = kl_from_point(&gmm, &star, &away.points, &base.divergence, &dev).unwrap();
    let min_away = kl.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(min_away > 0.8 * min_kl, "closest KL to θ* is {min_away}");
    assert!(away.length > free.length);
}

#[test]
fn running_kl_matches_the_closed_form_for_a_gaussian() {
    // For N(0, I) data the posterior at (λ, x) is N(αx, σ² I) (unit data variance).
    let dev = f64_autodiff();
    let gmm =
        GaussianMixture::new(vec![vec![0.0, 0.0]], vec![1.0], vec![1.0], &f64_device()).unwrap();
    let star = [1.0, 0.3, -0.2];
    let curve: Vec<Vec<f64>> = (0..200)
        .map(|i| {
            let s = i as f64 / 199.0;
            vec![3.0 - 4.0 * s, -1.0 + 2.0 * s, 0.5 * s]
        })
        .collect();
    let kl = kl_from_point(
        &gmm,
        &star,
        &curve,
        &config(Constraints::none()).divergence,
        &dev,
    )
    .unwrap();
    let post = |p: &[f64]| {
        let (a, s2) = (schedule::alpha(p[0]), schedule::sigma2(p[0]));
        (vec![a * p[1], a * p[2]], s2)
    };
    let (m1, v1) = post(&star);
    for (i, p) in curve.iter().enumerate().step_by(20) {
        let (m2, v2) = post(p);
        let sq: f64 = m1.iter().zip(&m2).map(|(a, b)| (a - b).powi(2)).sum();
        let exact = 0.5 * (2.0 * v1 / v2 + sq / v2 - 2.0 + 2.0 * (v2 / v1).ln());
        assert!(
            (kl[i] - exact).abs() < 2e-3 * exact.max(1.0),
            "point {i}: {} vs {exact}",
            kl[i]
        );
    }
}

#[test]
fn hutchinson_divergence_is_unbiased_and_exact_is_used_in_low_dimension() {
    let dev = f64_device();
    let dim = 6;
    let means = vec![vec![1.0; dim], vec![-1.0; dim]];
    let gmm = GaussianMixture::new(means, vec![0.5, 0.5], vec![0.6, 0.9], &dev).unwrap();
    let x: Vec<f64> = (0..dim).map(|i| 0.3 * i as f64 - 0.7).collect();
    let lam = compute::matrix(&[0.5], 1, 1, &dev);
    let xt = compute::matrix(&x, 1, dim, &dev);
    let exact = spacetime::denoise_with_divergence(
        &gmm,
        lam.clone(),
        xt.clone(),
        &Probes::exact(1, dim, &dev),
    )
    .1;
    let exact = compute::scalar(exact);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let probes = Probes::rademacher(1, dim, 20_000, &mut rng, &dev);
    let estimate = compute::scalar(spacetime::denoise_with_divergence(&gmm, lam, xt, &probes).1);
    assert!(
        rel(estimate, exact) < 0.02,
        "Hutchinson {estimate} vs exact {exact}"
    );
    let cfg = tps::geometry::DivergenceConfig {
        exact_max_dim: 4,
        probes: 2,
    };
    assert!(cfg.is_exact(4) && !cfg.is_exact(5));
}

#[test]
fn diffusion_edit_distance_is_symmetric_zero_on_the_diagonal_and_grows_with_lambda() {
    let gmm = toy();
    let dev = f64_autodiff();
    let cfg = config(Constraints::none());
    let (ab, _) = diffusion_edit_distance(&gmm, &[-2.5], &[0.5], 4.0, &cfg, 0, &dev).unwrap();
    let (ba, _) = diffusion_edit_distance(&gmm, &[0.5], &[-2.5], 4.0, &cfg, 0, &dev).unwrap();
    let (aa, _) = diffusion_edit_distance(&gmm, &[0.5], &[0.5], 4.0, &cfg, 0, &dev).unwrap();
    let (ab6, _) = diffusion_edit_distance(&gmm, &[-2.5], &[0.5], 6.0, &cfg, 0, &dev).unwrap();
    assert!(rel(ab, ba) < 1e-3, "{ab} vs {ba}");
    assert!(aa.abs() < 1e-9);
    assert!(ab6 > ab);
    let inf = diffusion_edit_distance(&gmm, &[0.0], &[1.0], f64::INFINITY, &cfg, 0, &dev);
    assert!(matches!(inf, Err(Error::Invalid(m)) if m.contains("finite")));
}

/// A denoiser that is undefined (NaN) below λ = 0, to exercise divergence handling.
struct UndefinedBelowZero(GaussianMixture);

impl Denoiser for UndefinedBelowZero {
    fn dim(&self) -> usize {
        1
    }
    fn denoise(&self, lambda: Tensor<2>, x: Tensor<2>) -> Tensor<2> {
        self.0.denoise(lambda.clone(), x) + lambda.log().mul_scalar(0.0)
    }
    fn denoise_jvp(&self, l: Tensor<2>, x: Tensor<2>, v: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let (d, jv) = self.0.denoise_jvp(l.clone(), x, v);
        (d + l.log().mul_scalar(0.0), jv)
    }
}

#[test]
fn non_finite_energy_stops_adam_with_a_clear_error_and_l_bfgs_stays_where_it_is_finite() {
    let den = UndefinedBelowZero(toy());
    let dev = f64_autodiff();
    let adam = GeodesicConfig {
        optimiser: Optimiser::Adam,
        ..config(Constraints::none())
    };
    let mut problem =
        GeodesicProblem::new(&den, None, &[4.0, -2.5], &[4.0, 2.5], &adam, 0, &dev).unwrap();
    let err = problem.solve(|_, _| {}).unwrap_err();
    assert!(err.message.contains("non-finite"), "{}", err.message);
    let last = err.last.expect("a finite curve before the divergence");
    assert!(last.energy.is_finite() && last.steps > 0);
    assert!(
        min_lambda(&last.points) > 0.0,
        "the kept curve is the finite one"
    );
    assert!(matches!(
        Error::from(problem.solve(|_, _| {}).unwrap_err()),
        Error::NonFinite(_)
    ));
    // The line search rejects non-finite trials: L-BFGS finishes inside the finite region,
    // below the straight line's energy.
    let lbfgs = config(Constraints::none());
    let g = geodesic(&den, &[4.0, -2.5], &[4.0, 2.5], &lbfgs, 0, &dev).unwrap();
    let (straight, _) = straight_line(&toy(), &[4.0, -2.5], &[4.0, 2.5], &lbfgs, &dev);
    assert!(min_lambda(&g.points) > 0.0 && g.energy.is_finite());
    assert!(g.energy < 0.5 * straight, "{} vs {straight}", g.energy);
}
