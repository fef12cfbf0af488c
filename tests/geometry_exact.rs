//! The geometry against closed forms: Tweedie moments, chords as symmetrised KL, the spline,
//! gradients against finite differences, and the geodesic of a Gaussian against the
//! hyperbolic distance.

use crate::common::{f64_autodiff, f64_device, rel};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tps::compute;
use tps::geometry::spacetime::{self, Parameters, Probes};
use tps::geometry::{
    AvoidRegion, Constraints, CurveGrid, EnergyAware, GeodesicConfig, GeodesicProblem, Landscape,
    LowVariance, SplineBasis,
};
use tps::model::denoiser::Normalisation;
use tps::model::denoiser::{Denoiser, GaussianMixture, MlpConfig};
use tps::potential::MullerBrown;
use tps::schedule;

fn mixture(dim: usize, seed: u64) -> GaussianMixture {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let means = (0..3)
        .map(|_| (0..dim).map(|_| rng.random_range(-2.0..2.0)).collect())
        .collect();
    GaussianMixture::new(
        means,
        vec![0.5, 0.3, 0.2],
        vec![0.4, 0.7, 1.1],
        &f64_device(),
    )
    .unwrap()
}

#[test]
fn tweedie_second_moment_through_divergence_matches_closed_form() {
    let device = f64_device();
    for dim in [1, 2, 5] {
        let gmm = mixture(dim, dim as u64);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let lambdas = [-6.0, -2.0, -0.5, 0.0, 1.0, 3.0, 7.0];
        let b = lambdas.len() * 4;
        let lam: Vec<f64> = (0..b).map(|i| lambdas[i % lambdas.len()]).collect();
        let x: Vec<f64> = (0..b * dim).map(|_| rng.random_range(-3.0..3.0)).collect();
        let lam_t = compute::matrix(&lam, b, 1, &device);
        let x_t = compute::matrix(&x, b, dim, &device);
        let probes = Probes::exact(b, dim, &device);
        let (tweedie, mean) = spacetime::expectation(&gmm, lam_t.clone(), x_t.clone(), &probes);
        let closed = gmm.second_moment(lam_t.clone(), x_t.clone());
        let denoised = gmm.denoise(lam_t, x_t);
        let (tw, cl) = (compute::to_host(tweedie), compute::to_host(closed));
        for i in 0..b {
            assert!(
                rel(tw[i], cl[i]) < 1e-6,
                "D={dim} λ={} tweedie {} vs closed form {}",
                lam[i],
                tw[i],
                cl[i]
            );
        }
        let (m, d) = (compute::to_host(mean), compute::to_host(denoised));
        assert!(m.iter().zip(&d).all(|(a, b)| (a - b).abs() < 1e-12));
    }
}

#[test]
fn mixture_jvp_matches_finite_differences_of_the_denoiser() {
    let device = f64_device();
    let dim = 3;
    let gmm = mixture(dim, 11);
    let (lam, x) = (0.7, vec![0.3, -1.2, 0.8]);
    let v = vec![0.4, -0.9, 0.2];
    let lam_t = compute::matrix(&[lam], 1, 1, &device);
    let (_, jv) = gmm.denoise_jvp(
        lam_t.clone(),
        compute::matrix(&x, 1, dim, &device),
        compute::matrix(&v, 1, dim, &device),
    );
    let jv = compute::to_host(jv);
    let h = 1e-5;
    let at = |s: f64| {
        let xs: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a + s * b).collect();
        compute::to_host(gmm.denoise(lam_t.clone(), compute::matrix(&xs, 1, dim, &device)))
    };
    let (plus, minus) = (at(h), at(-h));
    for i in 0..dim {
        let fd = (plus[i] - minus[i]) / (2.0 * h);
        assert!(
            (fd - jv[i]).abs() < 1e-8,
            "component {i}: fd {fd} vs jvp {}",
            jv[i]
        );
    }
}

/// Posterior `N(m, v I)` of a single isotropic Gaussian `N(c, s² I)` at `(λ, x)`.
fn gaussian_posterior(c: &[f64], s: f64, lam: f64, x: &[f64]) -> (Vec<f64>, f64) {
    let (a, s2) = (schedule::alpha(lam), schedule::sigma2(lam));
    let var = a * a * s * s + s2;
    let gain = a * s * s / var;
    let m = c
        .iter()
        .zip(x)
        .map(|(ci, xi)| ci + gain * (xi - a * ci))
        .collect();
    (m, s * s * s2 / var)
}

fn kl_isotropic(m1: &[f64], v1: f64, m2: &[f64], v2: f64) -> f64 {
    let d = m1.len() as f64;
    let sq: f64 = m1.iter().zip(m2).map(|(a, b)| (a - b).powi(2)).sum();
    0.5 * (d * v1 / v2 + sq / v2 - d + d * (v2 / v1).ln())
}

#[test]
fn every_chord_is_the_symmetrised_kl_between_gaussian_posteriors() {
    let device = f64_device();
    let (c, s) = (vec![0.5, -1.0], 0.8);
    let gmm = GaussianMixture::new(vec![c.clone()], vec![1.0], vec![s], &device).unwrap();
    // Pairs far apart and close together: the identity is exact, not only to second order.
    let pts = [
        [2.0, 0.1, 0.3],
        [-1.0, 1.5, -2.0],
        [0.5, 0.0, 0.0],
        [0.52, 0.01, -0.02],
        [5.0, 2.0, 1.0],
    ];
    let flat: Vec<f64> = pts.iter().flatten().copied().collect();
    let probes = Probes::exact(pts.len(), 2, &device);
    let params = Parameters::at(&gmm, compute::matrix(&flat, pts.len(), 3, &device), &probes);
    let chords = compute::to_host(params.chords(tps::geometry::Clipping::Chord));
    for n in 0..pts.len() - 1 {
        let (m1, v1) = gaussian_posterior(&c, s, pts[n][0], &pts[n][1..]);
        let (m2, v2) = gaussian_posterior(&c, s, pts[n + 1][0], &pts[n + 1][1..]);
        let jeffreys = kl_isotropic(&m1, v1, &m2, v2) + kl_isotropic(&m2, v2, &m1, v1);
        assert!(
            rel(chords[n], jeffreys) < 1e-9,
            "chord {n}: {} vs KL(p‖q)+KL(q‖p) = {jeffreys}",
            chords[n]
        );
    }
}

#[test]
fn spline_vanishes_at_the_ends_and_is_c2_at_every_knot() {
    for nodes in [1, 2, 5, 10] {
        let basis = SplineBasis::new(nodes);
        let [v0, _, a0] = basis.evaluate_piece(0, 0.0);
        let [v1, _, a1] = basis.evaluate_piece(nodes, 1.0);
        assert!(
            v0.iter().chain(&v1).all(|v| v.abs() < 1e-14),
            "ends must vanish"
        );
        assert!(a0.iter().chain(&a1).all(|v| v.abs() < 1e-9), "natural ends");
        for knot in 1..=nodes {
            let t = basis.knot(knot);
            let left = basis.evaluate_piece(knot - 1, t);
            let right = basis.evaluate_piece(knot, t);
            for order in 0..3 {
                for j in 0..nodes {
                    assert!(
                        (left[order][j] - right[order][j]).abs() < 1e-9,
                        "nodes={nodes} knot {knot} derivative {order} basis {j}"
                    );
                }
            }
            // Interpolation: basis j is 1 at its own knot and 0 at the others.
            for (j, value) in right[0].iter().enumerate() {
                let want = if j + 1 == knot { 1.0 } else { 0.0 };
                assert!((value - want).abs() < 1e-12);
            }
        }
    }
}

#[test]
fn curve_starts_and_ends_at_the_fixed_endpoints_whatever_the_coefficients() {
    let device = f64_device();
    let (a, b) = ([1.0, -0.5, 2.0], [3.0, 1.5, -1.0]);
    let grid = CurveGrid::new(&a, &b, 17, 4, &device);
    let c: Vec<f64> = (0..12).map(|i| (i as f64 * 0.7).sin()).collect();
    let pts = compute::to_host(grid.evaluate(compute::matrix(&c, 4, 3, &device)));
    assert!(pts[..3].iter().zip(&a).all(|(p, q)| (p - q).abs() < 1e-13));
    assert!(
        pts[pts.len() - 3..]
            .iter()
            .zip(&b)
            .all(|(p, q)| (p - q).abs() < 1e-13)
    );
}

fn check_gradient(
    denoiser: &dyn Denoiser,
    landscape: Option<Landscape>,
    start: &[f64],
    end: &[f64],
    constraints: Constraints,
) {
    // 24 points: one pass; 80 points: two halves on two threads.
    for points in [24, 80] {
        check_gradient_at(denoiser, landscape, start, end, constraints.clone(), points);
    }
}

fn check_gradient_at(
    denoiser: &dyn Denoiser,
    landscape: Option<Landscape>,
    start: &[f64],
    end: &[f64],
    constraints: Constraints,
    points: usize,
) {
    let device = f64_autodiff();
    let config = GeodesicConfig {
        points,
        nodes: 4,
        constraints,
        ..GeodesicConfig::default()
    };
    let mut problem =
        GeodesicProblem::new(denoiser, landscape, start, end, &config, 0, &device).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let c: Vec<f64> = (0..problem.size())
        .map(|_| rng.random_range(-0.5..0.5))
        .collect();
    let eval = problem.evaluate(&c);
    let h = 1e-6;
    for i in 0..c.len() {
        let mut cp = c.clone();
        cp[i] += h;
        let fp = problem.evaluate(&cp).objective;
        cp[i] -= 2.0 * h;
        let fm = problem.evaluate(&cp).objective;
        let fd = (fp - fm) / (2.0 * h);
        let scale = eval.gradient.iter().map(|g| g.abs()).fold(0.0, f64::max);
        assert!(
            (fd - eval.gradient[i]).abs() < 1e-6 * scale.max(1.0),
            "parameter {i}: finite difference {fd} vs autodiff {}",
            eval.gradient[i]
        );
    }
}

fn low_variance(min_lambda: f64, sharpness: f64) -> Option<LowVariance> {
    Some(LowVariance {
        min_lambda: Some(min_lambda),
        below_ends: None,
        weight: 3.0,
        sharpness,
    })
}

fn avoid() -> Option<AvoidRegion> {
    Some(AvoidRegion {
        point: vec![2.5, 0.0, 0.0],
        min_kl: 5.0,
        weight: 2.0,
    })
}

#[test]
fn energy_gradient_matches_finite_differences_for_the_mixture() {
    let gmm = mixture(2, 5);
    let (a, b) = ([3.0, -1.0, 0.5], [2.0, 1.0, -0.5]);
    check_gradient(&gmm, None, &a, &b, Constraints::none());
    for constraints in [
        Constraints {
            low_variance: low_variance(2.5, 1.0),
            ..Constraints::none()
        },
        Constraints {
            avoid: avoid(),
            ..Constraints::none()
        },
        // Combined, as the paper pairs them, with a sharp floor.
        Constraints {
            low_variance: low_variance(2.5, 10.0),
            avoid: avoid(),
            ..Constraints::none()
        },
    ] {
        check_gradient(&gmm, None, &a, &b, constraints);
    }
}

/// Müller–Brown seen through a normalisation that puts the states of the test curve in its
/// basins.
fn muller_brown_landscape(norm: &Normalisation) -> Landscape<'_> {
    Landscape {
        potential: &MullerBrown,
        kt: 10.0,
        normalisation: norm,
    }
}

#[test]
fn energy_aware_penalty_gradient_matches_finite_differences_alone_and_combined() {
    let gmm = mixture(2, 5);
    let norm = Normalisation {
        mean: vec![-0.2, 0.8],
        scale: 0.4,
    };
    let land = muller_brown_landscape(&norm);
    let (a, b) = ([3.0, -1.0, 1.5], [2.0, 2.0, -1.5]);
    let energy = Some(EnergyAware { weight: 0.7 });
    check_gradient(
        &gmm,
        Some(land),
        &a,
        &b,
        Constraints {
            energy: energy.clone(),
            ..Constraints::none()
        },
    );
    check_gradient(
        &gmm,
        Some(land),
        &a,
        &b,
        Constraints {
            low_variance: low_variance(2.5, 10.0),
            energy: energy.clone(),
            avoid: avoid(),
        },
    );
}

#[test]
fn penalties_are_integrals_whose_value_does_not_depend_on_the_number_of_points() {
    let gmm = mixture(2, 5);
    let norm = Normalisation {
        mean: vec![-0.2, 0.8],
        scale: 0.4,
    };
    let land = muller_brown_landscape(&norm);
    let (a, b) = ([3.0, -1.0, 1.5], [2.0, 2.0, -1.5]);
    let device = f64_autodiff();
    let coefficients: Vec<f64> = (0..12).map(|k| 0.3 * ((k as f64) * 1.7).sin()).collect();
    for constraints in [
        Constraints {
            low_variance: low_variance(2.8, 1.0),
            ..Constraints::none()
        },
        Constraints {
            energy: Some(EnergyAware { weight: 1.0 }),
            ..Constraints::none()
        },
    ] {
        let penalty = |points: usize| {
            let config = GeodesicConfig {
                points,
                nodes: 4,
                constraints: constraints.clone(),
                ..GeodesicConfig::default()
            };
            let mut p =
                GeodesicProblem::new(&gmm, Some(land), &a, &b, &config, 0, &device).unwrap();
            let e = p.evaluate(&coefficients);
            // Penalties are relative to the straight line's energy, which is N-independent too.
            (e.objective - e.energy) / p.line_energy()
        };
        let (coarse, fine) = (penalty(200), penalty(800));
        assert!(coarse > 1e-3, "{constraints:?}: penalty {coarse}");
        assert!(
            rel(coarse, fine) < 0.01,
            "{constraints:?}: {coarse} at N = 200, {fine} at N = 800"
        );
    }
}

#[test]
fn energy_gradient_matches_finite_differences_for_a_small_mlp() {
    let config = MlpConfig {
        hidden: 16,
        blocks: 2,
        embedding: 8,
        input_scale: 2.0,
        ..MlpConfig::new(2)
    };
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mlp = config.init(&mut rng, &f64_device()).unwrap();
    // Randomise the zero-initialised read-out so the network is not the Gaussian skip alone.
    let mut params = mlp.to_host();
    let n = params.len();
    for p in &mut params[n - 2..] {
        p.iter_mut().for_each(|v| *v = rng.random_range(-0.5..0.5));
    }
    let mlp = tps::model::denoiser::Mlp::from_host(config, &params, &f64_device()).unwrap();
    check_gradient(
        &mlp,
        None,
        &[2.0, -1.0, 0.5],
        &[1.0, 1.0, -0.5],
        Constraints::none(),
    );
}

/// Fisher-Rao distance between `N(m1, v1 I)` and `N(m2, v2 I)` in `d` dimensions: hyperbolic.
fn isotropic_gaussian_distance(m1: &[f64], v1: f64, m2: &[f64], v2: f64) -> f64 {
    let d = m1.len() as f64;
    let k = (2.0 * d).sqrt();
    let (u1, u2) = (k * v1.sqrt(), k * v2.sqrt());
    let sq: f64 = m1.iter().zip(m2).map(|(a, b)| (a - b).powi(2)).sum();
    k * (1.0 + (sq + (u1 - u2).powi(2)) / (2.0 * u1 * u2)).acosh()
}

#[test]
fn geodesic_of_a_gaussian_has_the_hyperbolic_length() {
    let device = f64_autodiff();
    let gmm =
        GaussianMixture::new(vec![vec![0.0, 0.0]], vec![1.0], vec![1.0], &f64_device()).unwrap();
    let (start, end) = ([3.0, -1.0, 0.0], [3.0, 1.0, 0.0]);
    let config = GeodesicConfig {
        points: 128,
        nodes: 10,
        steps: 3000,
        constraints: Constraints::none(),
        ..GeodesicConfig::default()
    };
    let g = tps::geometry::geodesic(&gmm, &start, &end, &config, 0, &device).unwrap();
    let (m1, v1) = gaussian_posterior(&[0.0, 0.0], 1.0, start[0], &start[1..]);
    let (m2, v2) = gaussian_posterior(&[0.0, 0.0], 1.0, end[0], &end[1..]);
    let exact = isotropic_gaussian_distance(&m1, v1, &m2, v2);
    let (straight_energy, straight) =
        tps::geometry::geodesic::straight_line(&gmm, &start, &end, &config, &device);
    assert!(g.converged, "stopping rule not met in {} steps", g.steps);
    assert!(
        rel(g.length, exact) < 1e-3,
        "geodesic {} vs hyperbolic {exact}",
        g.length
    );
    assert!(
        straight > 1.2 * exact,
        "straight line {straight} should be much longer"
    );
    // A constant-speed curve has E = L²/2 (energy normalised by the parameter interval).
    assert!(rel(g.energy, 0.5 * g.length * g.length) < 1e-2);
    assert!(straight_energy > g.energy);
}
