//! Routes on exact references (f64): the model-free route is a drag along the minimum-energy
//! path, reproduced by hand; the elastic band finds a known saddle; routes on a mixture with an
//! exact denoiser run side by side on the same noise.

use std::path::Path;

use tps::geometry::Constraints;
use tps::molecule::neb::{NebConfig, nudged_elastic_band};
use tps::potential::{MixturePotential, MullerBrown, Potential};
use tps::route::RouteKind;
use tps::schedule;
use tps::system::{System, SystemFile};
use tps::walkers::{Dynamics, Guide, PathOptions, WalkerParams, annealed_langevin};
use tps::workflows::transition::{Request, Sampler};

/// Two equal Gaussians on the x axis: by symmetry the minimum-energy path is the straight
/// segment between the states.
const PAIR: &str = r#"
name = "pair"
kT = 1.0
domain = [[-3.0, 3.0], [-2.0, 2.0]]
[potential]
kind = "gaussian-mixture"
means = [[-1.0, 0.0], [1.0, 0.0]]
weights = [0.5, 0.5]
stds = [0.45, 0.45]
[states]
A = [-1.0, 0.0]
B = [1.0, 0.0]
[geodesic]
points = 24
[transition]
lambda_max = 3.0
steps_per_point = 16
step_size = 1e-3
paths = 4
[barrier]
grid = 101
images = 48
"#;

fn pair() -> System {
    let path = Path::new("pair.toml");
    let file = SystemFile::parse(PAIR, path).unwrap();
    let potential = MixturePotential {
        means: vec![vec![-1.0, 0.0], vec![1.0, 0.0]],
        weights: vec![0.5, 0.5],
        stds: vec![0.45, 0.45],
    };
    System::with_potential(file, path, Box::new(potential)).unwrap()
}

#[test]
fn the_reference_route_is_a_drag_along_the_straight_minimum_energy_path() {
    let system = pair();
    let loaded = system.denoiser(tps::compute::Backend::Flex).unwrap();
    let sampler = Sampler::new(&system, Some(&loaded), "A", "B").unwrap();
    let request = Request {
        route: RouteKind::Reference,
        paths: None,
        constraints: Constraints::default(),
        mep_start: true,
        seed: 5,
        keep_frames: 0,
        shard: None,
        planned: None,
    };
    let sampled = sampler.run(&request, &mut |_, _| {}).unwrap();
    assert_eq!(sampled.evaluations.route, sampler.reference().evaluations);
    assert!(sampled.route.reference_route.as_ref().unwrap().converged);

    // By hand: 24 centres evenly from A to B at λ = 3 (identity normalisation), the walkers
    // on the mixture's energy with the same seed.
    let alpha = schedule::alpha(3.0);
    let route: Vec<Vec<f64>> = (0..24)
        .map(|i| {
            let t = i as f64 / 23.0;
            vec![3.0, alpha * (-1.0 + 2.0 * t), 0.0]
        })
        .collect();
    for (p, q) in sampled.points.iter().zip(&route) {
        assert!(
            p.iter().zip(q).all(|(a, b)| (a - b).abs() < 1e-6),
            "{p:?} vs {q:?}"
        );
    }
    let config = WalkerParams {
        steps_per_point: 16,
        step_size: 1e-3,
        paths: 4,
    };
    let potential = system.surface().unwrap();
    let by_hand = annealed_langevin(
        &Dynamics {
            guide: Guide::Potential(potential),
            kt: 1.0,
            normalisation: &loaded.normalisation,
            route: &route,
            start: &[-1.0, 0.0],
        },
        &config,
        &PathOptions::default(),
        5,
    )
    .unwrap();
    for (a, b) in sampled.paths.iter().zip(&by_hand) {
        assert!((a.max_energy - b.max_energy).abs() < 1e-6);
        assert!(
            a.last
                .iter()
                .zip(&b.last)
                .all(|(x, y)| (x - y).abs() < 1e-6)
        );
    }
    // The drag crosses near the pass between the two wells, at x = 0.
    let saddle = potential.energy(&[0.0, 0.0]);
    assert!((sampler.reference().saddle_energy - saddle).abs() < 1e-6);
    assert_eq!(sampled.statistics.fraction_reaching_target, 1.0);
}

#[test]
fn every_route_runs_on_one_sampler_and_compare_rows_are_single_runs() {
    let system = pair();
    let loaded = system.denoiser(tps::compute::Backend::Flex).unwrap();
    let sampler = Sampler::new(&system, Some(&loaded), "A", "B").unwrap();
    let base = Request {
        route: RouteKind::Geodesic,
        paths: Some(6),
        constraints: Constraints::default(),
        mep_start: true,
        seed: 2,
        keep_frames: 0,
        shard: None,
        planned: None,
    };
    let rows = tps::workflows::transition::compare::compare(
        &sampler,
        &RouteKind::ALL,
        &[2, 3],
        &base,
        None,
        |_, _| {},
    )
    .unwrap();
    assert_eq!(rows.len(), 4);
    for r in &rows {
        assert_eq!(r.seeds.len(), 2);
        assert_eq!(r.maxima.len(), 12);
        // A row's seed is the run of that route and seed.
        let single = sampler
            .run(
                &Request {
                    route: r.route,
                    seed: 3,
                    ..base.clone()
                },
                &mut |_, _| {},
            )
            .unwrap();
        assert_eq!(
            r.seeds[1].max_energy_mean,
            single.statistics.max_energy_mean
        );
    }
    let learned = rows.iter().find(|r| r.route == RouteKind::Learned).unwrap();
    assert_eq!(learned.seeds[0].guiding_evaluations, 0, "the model alone");
    assert!(learned.seeds[0].scoring_evaluations > 0);
}

/// Müller–Brown in the plane with a stiff harmonic third coordinate: a potential on
/// "Cartesian" coordinates whose minimum-energy path and saddle are known.
struct Embedded;

impl Potential for Embedded {
    fn dim(&self) -> usize {
        3
    }

    fn energy_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let mut g = [0.0; 2];
        let u = MullerBrown.energy_gradient(&x[..2], &mut g);
        grad[0] = g[0];
        grad[1] = g[1];
        grad[2] = 200.0 * x[2];
        u + 100.0 * x[2] * x[2]
    }
}

#[test]
fn the_elastic_band_climbs_to_the_known_saddle_between_two_minima() {
    let a = [-0.558, 1.442, 0.3];
    let c = [-0.050, 0.467, -0.2];
    let band = nudged_elastic_band(
        &Embedded,
        &a,
        &c,
        &NebConfig {
            images: 16,
            spring: 200.0,
            tolerance: 0.05,
            max_iterations: 100_000,
            max_step: 0.01,
            max_move: 0.01,
        },
        false,
    )
    .unwrap();
    assert!(band.converged, "largest force {}", band.max_force);
    // The ends are not minima in z: the saddle S1 (−0.822, 0.624) at −40.66 is the band's top.
    assert!(
        (band.highest_energy - -40.665).abs() < 0.02,
        "{}",
        band.highest_energy
    );
    let top = band
        .energies
        .iter()
        .enumerate()
        .max_by(|x, y| x.1.total_cmp(y.1))
        .unwrap()
        .0;
    let s = &band.images[top];
    assert!((s[0] - -0.822).hypot(s[1] - 0.624) < 0.01, "{s:?}");
    assert!(s[2].abs() < 1e-3);
    assert!(band.evaluations >= band.iterations as u64 * 14);
}
