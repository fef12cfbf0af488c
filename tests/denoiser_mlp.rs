//! The denoiser networks in f64: the hand-written JVP against central finite differences of
//! `denoise`, and the authors' network against the formula of their published code evaluated
//! independently on the host.

use crate::common::f64_device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tps::compute;
use tps::model::denoiser::{Denoiser, Mlp, MlpConfig, Network};

/// A small network of either kind with every parameter random (including the read-out, which
/// `tps` initialises to zero).
fn random_network(network: Network, seed: u64) -> Mlp {
    let config = MlpConfig {
        network,
        hidden: 12,
        blocks: 2,
        embedding: 8,
        input_scale: 3.0,
        ..MlpConfig::new(2)
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let params: Vec<Vec<f64>> = config
        .parameter_shapes()
        .iter()
        .map(|(r, c)| (0..r * c).map(|_| rng.random_range(-0.6..0.6)).collect())
        .collect();
    Mlp::from_host(config, &params, &f64_device()).unwrap()
}

fn denoise_host(mlp: &Mlp, lambda: f64, x: &[f64]) -> Vec<f64> {
    let dev = f64_device();
    compute::to_host(mlp.denoise(
        compute::matrix(&[lambda], 1, 1, &dev),
        compute::matrix(x, 1, x.len(), &dev),
    ))
}

#[test]
fn mlp_jvp_matches_central_finite_differences_of_denoise_at_every_noise_level() {
    let dev = f64_device();
    for network in [Network::Tps, Network::Authors] {
        let mlp = random_network(network, 7);
        for &lambda in &[-8.0, -2.0, 0.5, 3.0, 9.0] {
            let x = [0.3, -0.7];
            let tangents = [1.0, 0.0, 0.0, 1.0, 0.6, -0.8];
            let (_, jv) = mlp.denoise_jvp(
                compute::matrix(&[lambda], 1, 1, &dev),
                compute::matrix(&x, 1, 2, &dev),
                compute::matrix(&tangents, 3, 2, &dev),
            );
            let jv = compute::to_host(jv);
            let h = 1e-6;
            for (p, v) in tangents.chunks(2).enumerate() {
                let plus: Vec<f64> = x.iter().zip(v).map(|(a, b)| a + h * b).collect();
                let minus: Vec<f64> = x.iter().zip(v).map(|(a, b)| a - h * b).collect();
                let (dp, dm) = (
                    denoise_host(&mlp, lambda, &plus),
                    denoise_host(&mlp, lambda, &minus),
                );
                for k in 0..2 {
                    let fd = (dp[k] - dm[k]) / (2.0 * h);
                    let got = jv[p * 2 + k];
                    assert!(
                        (fd - got).abs() < 1e-7 * fd.abs().max(1.0),
                        "{network:?} λ = {lambda}, tangent {p}, output {k}: FD {fd} vs JVP {got}"
                    );
                }
            }
        }
    }
}

fn gelu(z: f64) -> f64 {
    // Φ(z) by the complementary error function's continued relation erf = 1 − erfc; a series
    // accurate to 1e-15 is enough here.
    0.5 * z * (1.0 + erf(z / std::f64::consts::SQRT_2))
}

/// erf by its Maclaurin series (|x| ≤ 3 here) — independent of burn's implementation.
fn erf(x: f64) -> f64 {
    let mut sum = 0.0;
    let mut term = x;
    for n in 0..200 {
        sum += term / (2 * n + 1) as f64;
        term *= -x * x / (n + 1) as f64;
    }
    2.0 / std::f64::consts::PI.sqrt() * sum
}

#[test]
fn authors_network_is_their_published_formula_without_a_skip() {
    let mlp = random_network(Network::Authors, 3);
    let params = mlp.to_host();
    let (h, e, half) = (12, 8, 4);
    let lin = |w: &[f64], b: &[f64], input: &[f64]| -> Vec<f64> {
        (0..b.len())
            .map(|j| {
                b[j] + input
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v * w[i * b.len() + j])
                    .sum::<f64>()
            })
            .collect()
    };
    for &(lambda, x) in &[(2.0, [0.4, -1.1]), (-5.0, [2.0, 0.3]), (7.5, [-0.2, 0.05])] {
        // Features: for each coordinate (× 3) then λ, sin(u f_k) for k < half, then cos.
        let mut features = Vec::with_capacity(3 * e);
        for u in [3.0 * x[0], 3.0 * x[1], lambda] {
            let f = |k: usize| (-(k as f64) * 1e4f64.ln() / (half - 1) as f64).exp();
            features.extend((0..half).map(|k| (u * f(k)).sin()));
            features.extend((0..half).map(|k| (u * f(k)).cos()));
        }
        let mut hid: Vec<f64> = lin(&params[0], &params[1], &features)
            .into_iter()
            .map(gelu)
            .collect();
        for block in params[2..params.len() - 2].chunks(2) {
            let pre = lin(&block[0], &block[1], &hid);
            hid = hid.iter().zip(pre).map(|(a, p)| a + gelu(p)).collect();
        }
        let n = params.len();
        let expected = lin(&params[n - 2], &params[n - 1], &hid);
        let got = denoise_host(&mlp, lambda, &x);
        assert_eq!(hid.len(), h);
        for k in 0..2 {
            assert!(
                (expected[k] - got[k]).abs() < 1e-12,
                "λ = {lambda}: formula {expected:?} vs network {got:?}"
            );
        }
    }
}

#[test]
fn tps_network_is_a_gaussian_skip_and_the_authors_is_not() {
    // With a zero read-out weight and bias b, `tps` gives α x + σ b and `authors` gives b.
    for network in [Network::Tps, Network::Authors] {
        let mlp = random_network(network, 5);
        let mut params = mlp.to_host();
        let n = params.len();
        params[n - 2].iter_mut().for_each(|v| *v = 0.0);
        params[n - 1] = vec![0.25, -0.5];
        let mlp = Mlp::from_host(mlp.config().clone(), &params, &f64_device()).unwrap();
        let (lambda, x) = (1.3, [0.8, -0.4]);
        let (a, s) = (tps::schedule::alpha(lambda), tps::schedule::sigma(lambda));
        let got = denoise_host(&mlp, lambda, &x);
        for k in 0..2 {
            let expected = match network {
                Network::Tps => a * x[k] + s * params[n - 1][k],
                Network::Authors => params[n - 1][k],
            };
            assert!((got[k] - expected).abs() < 1e-12, "{network:?}: {got:?}");
        }
    }
}
