//! All-atom (Cartesian) mode: the walkers' restraint against finite differences, and on a tiny
//! budget train → sample, with Hutchinson's divergence checked against the exact trace on the
//! trained 66-dimensional model, and paths that start in the first state and stay physical.

use crate::common::{
    Sandbox, aldp, all_atom_path, failed_with, fixture_frame, json, ok, stdout, tiny_aldp,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tps::compute::{self, Backend};
use tps::geometry::spacetime::{self, Probes};
use tps::model::denoiser::Normalisation;
use tps::molecule::align::{flatten, unflatten};
use tps::molecule::{Dihedrals, ForceFieldPotential, Molecule};
use tps::potential::Potential;
use tps::representation::cartesian::RigidFit;
use tps::system::System;
use tps::walkers::{CentreFit, Restraint};

fn molecule() -> Molecule {
    let (topology, forcefield) = aldp();
    let (positions, _) = fixture_frame("minimum C7eq");
    let cv = Dihedrals::dipeptide_backbone(&topology).unwrap();
    Molecule {
        topology,
        forcefield,
        positions,
        cv,
    }
}

/// A structure rotated about z by `angle` and shifted.
fn rotated(x: &[[f64; 3]], angle: f64, shift: [f64; 3]) -> Vec<[f64; 3]> {
    let (c, s) = (angle.cos(), angle.sin());
    x.iter()
        .map(|p| {
            [
                c * p[0] - s * p[1] + shift[0],
                s * p[0] + c * p[1] + shift[1],
                p[2] + shift[2],
            ]
        })
        .collect()
}

#[test]
fn walker_drift_is_the_gradient_of_force_field_plus_rotation_invariant_restraint() {
    let m = molecule();
    let potential = ForceFieldPotential::new(&m);
    let fit = RigidFit::new(&m);
    let kt = 2.494;
    // Walker: the C7eq frame, perturbed; centre: a different frame, turned and shifted away.
    let x: Vec<f64> = flatten(&m.positions)
        .iter()
        .enumerate()
        .map(|(i, v)| v + 0.004 * ((i as f64) * 1.7).sin())
        .collect();
    let (other, _) = fixture_frame("minimum C7ax");
    let theta: Vec<f64> = std::iter::once(3.0)
        .chain(flatten(&rotated(&other, 0.8, [0.3, -0.2, 0.1])))
        .collect();
    // Identity normalisation with scale 0.05 nm: k = e³/0.05², c = z/α.
    let norm = Normalisation {
        mean: vec![0.0; x.len()],
        scale: 0.05,
    };
    let theta: Vec<f64> = std::iter::once(theta[0])
        .chain(
            theta[1..]
                .iter()
                .map(|v| v * tps::schedule::alpha(3.0) / 0.05),
        )
        .collect();
    let restraint = Restraint::at(&norm, &theta, Some(&fit));
    let energy = |y: &[f64]| {
        let c = fit.fit(&restraint.centre, y);
        let r: f64 = y.iter().zip(&c).map(|(a, b)| (a - b).powi(2)).sum();
        potential.energy(y) / kt + 0.5 * restraint.stiffness * r
    };
    let mut grad_u = vec![0.0; x.len()];
    potential.energy_gradient(&x, &mut grad_u);
    let mut pull = vec![0.0; x.len()];
    restraint.gradient(&x, &mut pull);
    let h = 1e-6;
    let mut worst: f64 = 0.0;
    let mut scale: f64 = 0.0;
    for k in 0..x.len() {
        let (mut p, mut q) = (x.clone(), x.clone());
        p[k] += h;
        q[k] -= h;
        let fd = (energy(&p) - energy(&q)) / (2.0 * h);
        let analytic = grad_u[k] / kt + pull[k];
        worst = worst.max((fd - analytic).abs());
        scale = scale.max(analytic.abs());
    }
    assert!(
        worst < 1e-5 * scale,
        "drift vs finite differences: {worst} on a scale of {scale}"
    );
    // The restraint pulls on shape only: a rotated walker feels the same pull, rotated.
    let turned = flatten(&rotated(&unflatten(&x), -1.1, [0.0; 3]));
    let mut pull_turned = vec![0.0; x.len()];
    restraint.gradient(&turned, &mut pull_turned);
    let back = flatten(&rotated(&unflatten(&pull_turned), 1.1, [0.0; 3]));
    for (a, b) in back.iter().zip(&pull) {
        assert!((a - b).abs() < 1e-6 * scale, "{a} vs {b}");
    }
}

/// The tiny alanine dipeptide on all atoms (a longer run: its training frames are the model's),
/// with `edits` (TOML) on top.
fn all_atom_system(sb: &Sandbox, file: &str, name: &str, edits: &str) -> std::path::PathBuf {
    const CARTESIAN: &str = r#"
[molecule]
representation = "cartesian"
[md]
steps = 150000
report_every = 250
[model]
hidden = 48
embedding = 8
path = "tiny.tpsmodel"
[training]
steps = 200
batch = 256
[geodesic]
points = 16
[transition]
step_size = 1e-6
paths = 3
"#;
    tiny_aldp(sb, file, name, &[CARTESIAN, edits], &["sampling"])
}

#[test]
fn cartesian_train_and_sample_give_physical_all_atom_paths_from_the_first_state() {
    let sb = Sandbox::new("cartesian");
    let sys = all_atom_system(&sb, "cartesian.toml", "cartesian_tiny", "");
    let s = sys.to_str().unwrap();
    let o = sb.tps(&["train", s]);
    ok(&o);
    // Populations of the reweighted frames are reported next to the surface's.
    let out = stdout(&o);
    assert!(
        out.contains("training frames in C7eq") && out.contains("training frames in C7ax"),
        "{out}"
    );

    // The model is on all 66 coordinates; Hutchinson's estimate agrees with the exact trace
    // within its own standard error.
    let system = System::load(&sys).unwrap();
    let loaded = system.denoiser(Backend::Flex).unwrap();
    let dim = 66;
    let dev = loaded.device.clone();
    let x: Vec<f64> = (0..dim).map(|i| 0.4 * ((i as f64) * 0.9).sin()).collect();
    let lam = compute::matrix(&[1.0], 1, 1, &dev);
    let xt = compute::matrix(&x, 1, dim, &dev);
    let div = |p: &Probes| {
        compute::scalar(
            spacetime::denoise_with_divergence(
                loaded.denoiser.as_ref(),
                lam.clone(),
                xt.clone(),
                p,
            )
            .1,
        )
    };
    let exact = div(&Probes::exact(1, dim, &dev));
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let batches: Vec<f64> = (0..40)
        .map(|_| div(&Probes::rademacher(1, dim, 500, &mut rng, &dev)))
        .collect();
    let n = batches.len() as f64;
    let mean = batches.iter().sum::<f64>() / n;
    let se = (batches.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt();
    assert!(
        (mean - exact).abs() < 4.0 * se + 1e-4 * exact.abs(),
        "Hutchinson {mean} ± {se} vs exact {exact}"
    );
    assert!(se < 0.05 * exact.abs(), "estimate too noisy to test: {se}");

    // Commands that take points in the variables refuse a Cartesian molecule.
    failed_with(
        &sb.tps(&["geodesic", s, "--start", "4,0,0", "--end", "4,1,1"]),
        &["cartesian.toml", "molecule.representation", "tps sample"],
    );

    ok(&sb.tps(&["sample", s, "--from", "C7eq", "--to", "C7ax"]));
    let out = sb.path("out/cartesian_tiny/C7eq-C7ax");
    let summary = json(&out.join("summary.json"));
    let all = &summary["all_atom_paths"];
    assert!(summary["molecule"].is_null(), "no back-mapping");
    // The training data's cost: both metadynamics runs' force-field steps, every walker
    // (150,000 + the independent run's 75,000, × 2), and no surface sampling.
    let data = &summary["evaluations"]["training_data"];
    assert_eq!(data["force_field_evaluations"], 450_000);
    assert_eq!(data["surface_evaluations"], 0);
    // The tiny run's surfaces are too rough to descend on: the walkers' last structures are
    // checked against the target minimum instead.
    let rmsd = all["rmsd_to_target_mean_angstrom"].as_f64().unwrap();
    assert!(rmsd < 1.0, "last structures {rmsd} Å from the C7ax minimum");
    let f_max = all["free_energy_max_stats"]["mean"].as_f64().unwrap();
    let barrier = all["mfep_saddle_free_energy"].as_f64().unwrap();
    assert!(
        f_max >= barrier - 1.0,
        "paths below the pass: {f_max} vs {barrier}"
    );

    let (top, ff) = aldp();
    let cv = Dihedrals::dipeptide_backbone(&top).unwrap();
    let start = [-1.37, 0.98];
    for k in 0..3 {
        all_atom_path_is_physical(&out, k, &top, &ff, &cv, &start);
    }
    assert!(all["max_bond_stretch_angstrom"].as_f64().unwrap() < 0.25);
    assert!(all["min_bond_ratio"].as_f64().unwrap() > 0.85);
}

#[test]
fn a_tilted_all_atom_model_drives_the_walkers_alone() {
    let sb = Sandbox::new("cartesian-tilted");
    // A model of the tilted ensemble from metadynamics frames: their weights reweighted to it
    // (both effective sizes reported), the tilt recorded, and the model alone drives the
    // walkers with the tilt's gradient taken through the dihedrals, never calling the energy.
    // What is checked here does not need as long a run, nor the independent one.
    let tilted = all_atom_system(
        &sb,
        "tilted.toml",
        "cartesian_tilted",
        "[training]\nensemble = \"well-tempered\"\nbias_factor = 6.0\n\
         [model]\npath = \"tiny_tilted.tpsmodel\"\n[md]\nsteps = 50000\n\
         [metadynamics]\ncheck_steps = 0\n",
    );
    let t = tilted.to_str().unwrap();
    let o = sb.tps(&["train", t]);
    ok(&o);
    assert!(
        stdout(&o).contains("reweighted to the tilted ensemble"),
        "{}",
        stdout(&o)
    );
    let meta = tps::model::file::read_metadata(&sb.path("tiny_tilted.tpsmodel")).unwrap();
    assert_eq!(
        meta.tilt.expect("tilt recorded").well_tempered.bias_factor,
        6.0
    );
    ok(&sb.tps(&[
        "sample", t, "--from", "C7eq", "--to", "C7ax", "--route", "learned",
    ]));
    let summary = json(&sb.path("out/cartesian_tilted/C7eq-C7ax/summary.json"));
    let guided = summary["route"]["guided_by"].as_str().unwrap();
    assert!(guided.contains("∇V/kT"), "{guided}");
    assert_eq!(summary["evaluations"]["walkers"], 0);
    assert_eq!(summary["evaluations"]["route"], 0);
}

/// Path `k` under `out`: as many frames as CSV rows (16 points × 32 steps, every 8th and the
/// last), starting near `start`, the DCD's dihedrals those of the CSV, no bond stretched by a
/// third, and no atom jumping between frames.
fn all_atom_path_is_physical(
    out: &std::path::Path,
    k: usize,
    top: &tps::molecule::Topology,
    ff: &tps::molecule::ForceField,
    cv: &Dihedrals,
    start: &[f64],
) {
    let (frames, rows) = all_atom_path(out, k, top, cv, 1);
    // 16 points × 32 steps, every 8th step and the last.
    assert_eq!(rows.len(), 16 * 32 / 8 + 1);
    assert!(
        tps::molecule::cv::angle_distance(&rows[0][1..3], start) < 0.5,
        "path {k} starts at {:?}",
        &rows[0][1..3]
    );
    for x in &frames {
        for b in &ff.bonds {
            let d: f64 = (0..3)
                .map(|c| (x[b.i][c] - x[b.j][c]).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!(d < 1.3 * b.r0, "bond {}-{}: {d} vs {}", b.i, b.j, b.r0);
        }
    }
    // No atom jumps: 8 overdamped steps of ds = 1e-6 nm² move an atom by ~0.05 Å.
    for w in frames.windows(2) {
        for (p, q) in w[0].iter().zip(&w[1]) {
            let d: f64 = (0..3).map(|c| (p[c] - q[c]).powi(2)).sum::<f64>().sqrt();
            assert!(d < 0.05, "an atom jumped {d} nm between frames");
        }
    }
}
