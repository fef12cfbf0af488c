//! Langevin thermostat, minimiser, collective variables and the metadynamics bias.

mod common;

use common::{aldp as load, fixture_frame as frame};
use tps_mm::cv::angle_difference;
use tps_mm::dynamics::Bias;
use tps_mm::metadynamics::MetadynamicsParams;
use tps_mm::{Dihedrals, Langevin, LangevinParams, State, minimise};

fn langevin(temperature: f64, friction: f64, timestep: f64) -> LangevinParams {
    LangevinParams {
        temperature,
        friction,
        timestep,
    }
}

#[test]
fn kinetic_temperature_averages_to_the_target() {
    let (top, ff) = load();
    let (x, _) = frame("minimum C7eq");
    let config = langevin(300.0, 5.0, 0.001);
    let mut integrator = Langevin::new(&config, &top.masses, 11);
    let mut state = State {
        positions: x,
        velocities: vec![[0.0; 3]; top.len()],
    };
    integrator.thermalise(&mut state);
    integrator.run(&ff, &mut state, 5_000, None);
    let blocks = 20;
    let mut means = Vec::new();
    for _ in 0..blocks {
        let mut sum = 0.0;
        for _ in 0..500 {
            integrator.run(&ff, &mut state, 10, None);
            sum += integrator.kinetic_temperature(&state);
        }
        means.push(sum / 500.0);
    }
    let mean = means.iter().sum::<f64>() / blocks as f64;
    let sem = (means.iter().map(|m| (m - mean).powi(2)).sum::<f64>()
        / (blocks * (blocks - 1)) as f64)
        .sqrt();
    assert!(
        (mean - 300.0).abs() < 4.0 * sem + 1.0,
        "<T> = {mean:.2} ± {sem:.2} K"
    );
    assert!(sem < 5.0, "block error {sem}");
}

#[test]
fn minimiser_finds_the_c7eq_c5_and_c7ax_minima() {
    let (top, ff) = load();
    let cv = Dihedrals::dipeptide_backbone(&top).unwrap();
    let mut rng = 12345u64;
    for label in ["minimum C7eq", "minimum C5", "minimum C7ax"] {
        let (x, e_ref) = frame(label);
        // Displace every atom by up to 0.01 nm (deterministic LCG), then minimise.
        let start: Vec<[f64; 3]> = x
            .iter()
            .map(|p| {
                std::array::from_fn(|k| {
                    rng = rng
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    p[k] + 0.02 * ((rng >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
                })
            })
            .collect();
        let m = minimise(&ff, &start, 1e-3, 5000, None);
        assert!(m.max_force < 1e-3, "{label}: max force {}", m.max_force);
        assert!(
            (m.energy - e_ref).abs() < 0.01,
            "{label}: {} vs OpenMM {e_ref}",
            m.energy
        );
        let (a, b) = (cv.values(&m.positions), cv.values(&x));
        assert!(
            angle_difference(a[0], b[0]).abs() < 0.02 && angle_difference(a[1], b[1]).abs() < 0.02,
            "{label}: {a:?} vs {b:?}"
        );
    }
    let (c7ax, _) = frame("minimum C7ax");
    let [phi, psi] = cv.values(&c7ax)[..] else {
        unreachable!()
    };
    assert!(
        phi > 0.5 && phi < 1.8 && psi < -0.3 && psi > -1.6,
        "C7ax at ({phi}, {psi})"
    );
}

fn check_bias_forces(bias: &mut dyn Bias, x0: &[[f64; 3]]) {
    let mut f = vec![[0.0; 3]; x0.len()];
    bias.apply(x0, &mut f);
    let h = 1e-6;
    let mut scratch = vec![[0.0; 3]; x0.len()];
    for i in 0..x0.len() {
        for k in 0..3 {
            let mut x = x0.to_vec();
            x[i][k] += h;
            let ep = bias.apply(&x, &mut scratch);
            x[i][k] -= 2.0 * h;
            let em = bias.apply(&x, &mut scratch);
            let fd = -(ep - em) / (2.0 * h);
            assert!(
                (fd - f[i][k]).abs() < 1e-4 * f[i][k].abs().max(1.0),
                "atom {i} axis {k}: {fd} vs {}",
                f[i][k]
            );
        }
    }
}

#[test]
fn restraints_pull_to_the_target_and_their_forces_are_gradients() {
    let (top, ff) = load();
    let cv = Dihedrals::dipeptide_backbone(&top).unwrap();
    let (x, _) = frame("minimum C7eq");
    let mut r = cv.restraints(&[1.0, -0.8], 500.0);
    check_bias_forces(&mut r, &x);
    // Restrained minimisation lands near the target (φ, ψ).
    let m = minimise(&ff, &x, 1e-2, 5000, Some(&mut r));
    let [phi, psi] = cv.values(&m.positions)[..] else {
        unreachable!()
    };
    assert!(
        angle_difference(phi, 1.0).abs() < 0.1 && angle_difference(psi, -0.8).abs() < 0.1,
        "({phi}, {psi})"
    );
}

#[test]
fn metadynamics_fills_the_start_basin_and_reports_a_free_energy_grid() {
    let (top, ff) = load();
    let cv = Dihedrals::dipeptide_backbone(&top).unwrap();
    let (x, _) = frame("minimum C7eq");
    let md = langevin(300.0, 1.0, 0.001);
    let config = MetadynamicsParams {
        height: 1.2,
        width: 0.35,
        pace: 200,
        bias_factor: 6.0,
        grid: 96,
    };
    let mut walkers: Vec<(Langevin, State)> = (0..2)
        .map(|w| {
            let mut integrator = Langevin::new(&md, &top.masses, w);
            let mut state = State {
                positions: x.clone(),
                velocities: vec![[0.0; 3]; top.len()],
            };
            integrator.thermalise(&mut state);
            (integrator, state)
        })
        .collect();
    let mut run = tps_mm::metadynamics::Metadynamics::new(cv, md.temperature, &config);
    for _ in 0..100 {
        run.advance(&ff, &mut walkers, config.pace);
        run.deposit(&walkers);
    }
    let free_energy = run.free_energy();
    assert_eq!(run.hills, 200);
    assert_eq!(free_energy.len(), 96 * 96);
    // The bias under the walkers grew well beyond one hill.
    let bias = run.bias_of(&walkers[0].1.positions);
    assert!(bias > 5.0, "bias grew to {bias}");
    // The free-energy estimate is lowest around the C7eq start, where the hills went.
    let n = run.grid_size();
    let h = std::f64::consts::TAU / n as f64;
    let (imin, _) = free_energy
        .iter()
        .enumerate()
        .fold(
            (0, f64::INFINITY),
            |(bi, bv), (i, &v)| if v < bv { (i, v) } else { (bi, bv) },
        );
    let (phi, psi) = (
        -std::f64::consts::PI + (imin % n) as f64 * h,
        -std::f64::consts::PI + (imin / n) as f64 * h,
    );
    assert!(
        phi < 0.0,
        "free-energy minimum at ({phi}, {psi}) should be on the φ < 0 side"
    );
}

/// Runs constrained dynamics at `dt` and returns the block mean and standard error of the
/// kinetic temperature, checking every rigid bond on the way.
fn constrained_temperature(dt: f64) -> (f64, f64) {
    let (top, ff) = load();
    let (x, _) = frame("minimum C7eq");
    let rigid: Vec<(usize, usize, f64)> = ff
        .bonds
        .iter()
        .filter(|b| b.hydrogen)
        .map(|b| (b.i, b.j, b.r0))
        .collect();
    assert_eq!(rigid.len(), 12);
    let config = langevin(300.0, 5.0, dt);
    let mut integrator =
        Langevin::for_molecule(&config, tps_mm::RigidBonds::HBonds, &ff, &top.masses, 3);
    assert_eq!(integrator.constraint_count(), rigid.len());
    let mut state = State {
        positions: x,
        velocities: vec![[0.0; 3]; top.len()],
    };
    integrator.thermalise(&mut state);
    integrator.run(&ff, &mut state, 2_000, None);
    let mut means = Vec::new();
    for _ in 0..20 {
        let mut sum = 0.0;
        for _ in 0..250 {
            integrator.run(&ff, &mut state, 10, None);
            sum += integrator.kinetic_temperature(&state);
            for &(i, j, d) in &rigid {
                let r: f64 = (0..3)
                    .map(|k| (state.positions[i][k] - state.positions[j][k]).powi(2))
                    .sum::<f64>()
                    .sqrt();
                assert!((r - d).abs() < 1e-8 * d, "bond {i}-{j}: {r} vs {d}");
            }
        }
        means.push(sum / 250.0);
    }
    let mean = means.iter().sum::<f64>() / means.len() as f64;
    let sem = (means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (20.0 * 19.0)).sqrt();
    (mean, sem)
}

#[test]
fn hydrogen_bond_constraints_hold_and_keep_the_temperature() {
    // 1 fs: the kinetic temperature over 3N − 12 degrees of freedom averages to the target.
    let (mean, sem) = constrained_temperature(0.001);
    assert!(
        (mean - 300.0).abs() < 4.0 * sem + 1.5,
        "<T> = {mean:.2} ± {sem:.2} K"
    );
    // 2 fs: the rigid bonds hold and the run stays stable; full-step BAOAB velocities read
    // a few per cent cold here (the stiff heavy-atom bonds have ω·dt ≈ 0.6).
    let (mean, _) = constrained_temperature(0.002);
    assert!((270.0..310.0).contains(&mean), "<T> = {mean:.2} K at 2 fs");
}
