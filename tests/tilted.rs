//! Models of a flattened ensemble: on a double well whose pass holds almost none of the
//! Boltzmann mass, a model trained on the well-tempered ensemble gives the equilibrium score
//! (model's score + ∇V/kT) at the pass and in both wells, where the Boltzmann model cannot;
//! the tilt is recorded, checked against the system and refused where it cannot apply.

use crate::common::{Sandbox, failed_with, learned_paths_calling_no_energy, ok};
use tps::compute::Backend;
use tps::potential::{Potential, Tabulated};
use tps::route::learned::ModelScore;
use tps::system::System;
use tps::walkers::BatchScore;

/// `U = h (x² − 1)² + x/2 + k y²/2`: two wells near x = ±1 (the left one 1 kT lower), a pass
/// near the origin 8 kT above the wells, kT = 1.
#[derive(Clone)]
struct DoubleWell;

const H: f64 = 8.0;
const K: f64 = 6.0;

impl Potential for DoubleWell {
    fn dim(&self) -> usize {
        2
    }
    fn energy_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let (a, b) = (x[0], x[1]);
        grad[0] = 4.0 * H * a * (a * a - 1.0) + 0.5;
        grad[1] = K * b;
        H * (a * a - 1.0).powi(2) + 0.5 * a + 0.5 * K * b * b
    }
}

const DOMAIN: [[f64; 2]; 2] = [[-2.0, 2.0], [-1.6, 1.6]];

fn system(sb: &Sandbox, name: &str, training: &str) -> String {
    let grid = Tabulated::of(&DoubleWell, DOMAIN, 121, false);
    sb.write(
        "well.dat",
        &grid.to_plumed(["x", "y"], "energy", "double well"),
    );
    let text = format!(
        r#"name = "{name}"
kT = 1.0
domain = [[-2.0, 2.0], [-1.6, 1.6]]
[potential]
kind = "tabulated"
file = "well.dat"
[states]
L = [-1.0, 0.0]
R = [1.0, 0.0]
[sampling]
chains = 8
replicas = 6
max_temperature = 8.0
steps = 6000
burn_in = 500
thin = 5
[model]
hidden = 64
blocks = 2
embedding = 32
input_scale = 4.0
path = "{name}.tpsmodel"
[training]
steps = 1500
batch = 512
{training}
"#
    );
    sb.write(&format!("{name}.toml"), &text)
        .to_str()
        .unwrap()
        .to_string()
}

/// The equilibrium score of a trained system's model at `points`, λ = 4.
fn scores(path: &str, points: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let system = System::load(std::path::Path::new(path)).unwrap();
    let loaded = system.denoiser(Backend::Flex).unwrap();
    let score = ModelScore::new(
        loaded.denoiser.as_ref(),
        &loaded.device,
        &loaded.normalisation,
        4.0,
        None,
        None,
    );
    let score = match &loaded.tilt {
        Some(v) => score.untilted(v, system.kt(), None),
        None => score,
    };
    let mut out = vec![vec![0.0; 2]; points.len()];
    score.score(points, &mut out).unwrap();
    out
}

#[test]
fn the_tilted_model_knows_the_pass_and_the_boltzmann_model_does_not() {
    let sb = Sandbox::new("tilted");
    let boltzmann = system(&sb, "plain", "");
    let tilted = system(
        &sb,
        "tilted",
        "ensemble = \"well-tempered\"\nbias_factor = 6.0",
    );
    ok(&sb.tps(&["train", &boltzmann, "--seed", "1"]));
    ok(&sb.tps(&["train", &tilted, "--seed", "1"]));
    // Along the pass's axis and in both wells.
    let points: Vec<Vec<f64>> = [-1.0, -0.4, -0.2, 0.0, 0.2, 0.4, 1.0]
        .iter()
        .map(|&x| vec![x, 0.0])
        .collect();
    let exact: Vec<f64> = points
        .iter()
        .map(|p| {
            let mut g = [0.0; 2];
            DoubleWell.energy_gradient(p, &mut g);
            -g[0]
        })
        .collect();
    let error = |s: &[Vec<f64>], range: std::ops::Range<usize>| {
        range
            .clone()
            .map(|k| (s[k][0] - exact[k]).abs())
            .sum::<f64>()
            / range.len() as f64
    };
    let (b, t) = (scores(&boltzmann, &points), scores(&tilted, &points));
    let pass = 1..6;
    let (b_pass, t_pass) = (error(&b, pass.clone()), error(&t, pass));
    // The pass's forces are up to 11 kT per unit: within 1.5 on average for the tilted model
    // (measured 0.9; the Boltzmann model's 7.9).
    assert!(
        t_pass < 1.5,
        "tilted model at the pass: mean |error| {t_pass:.2} ({t:?} against {exact:?})"
    );
    assert!(
        b_pass > 3.0 * t_pass,
        "the Boltzmann model ({b_pass:.2}) should be worse at the pass than the tilted one \
         ({t_pass:.2})"
    );
    // The learnt free energy is written beside the model: its barrier is the surface's.
    let learnt =
        Tabulated::from_file(&sb.path("tilted_learnt_fes.dat"), false).expect("written, readable");
    let barrier = learnt.energy(&[0.0, 0.0]) - learnt.energy(&[-1.0, 0.0]);
    let exact_barrier = DoubleWell.energy(&[0.0, 0.0]) - DoubleWell.energy(&[-1.0, 0.0]);
    assert!(
        (barrier - exact_barrier).abs() < 1.0,
        "learnt barrier {barrier:.2} against {exact_barrier:.2}"
    );
    // The wells' weights against each other (the right one 1 kT higher): what the model's
    // density fixes, and the score alone weighs only through the thin pass.
    let wells = learnt.energy(&[1.0, 0.0]) - learnt.energy(&[-1.0, 0.0]);
    let exact_wells = DoubleWell.energy(&[1.0, 0.0]) - DoubleWell.energy(&[-1.0, 0.0]);
    assert!(
        (wells - exact_wells).abs() < 0.3,
        "learnt wells {wells:.2} apart against {exact_wells:.2}"
    );
    // In the wells both are right: the correction does not spoil what the basins knew.
    for k in [0, 6] {
        assert!((t[k][0] - exact[k]).abs() < 2.0, "well {k}: {:?}", t[k]);
    }
    the_learned_route_on_a_tilted_model_never_calls_the_energy(&tilted);
    compare_puts_both_models_side_by_side(&sb, &boltzmann, &tilted);
}

fn the_learned_route_on_a_tilted_model_never_calls_the_energy(path: &str) {
    let (paths, tilted) = learned_paths_calling_no_energy(
        std::path::Path::new(path),
        DoubleWell,
        ("L", [-1.0, 0.0]),
        ("R", [1.0, 0.0]),
        32,
        (2, 16),
    );
    assert!(tilted);
    assert_eq!(paths.len(), 2);
    for p in &paths {
        assert!(p.last[0] > 0.5, "ends in R: {:?}", p.last);
    }
}

/// `tps compare --with`: the second model's model-based rows join the first's, each the same
/// as a `tps sample` run of its system; a system of another surface is refused.
fn compare_puts_both_models_side_by_side(sb: &Sandbox, boltzmann: &str, tilted: &str) {
    let o = sb.tps(&[
        "compare",
        boltzmann,
        "--from",
        "L",
        "--to",
        "R",
        "--seeds",
        "0-1",
        "--paths",
        "2",
        "--routes",
        "reference,learned",
        "--with",
        tilted,
    ]);
    ok(&o);
    let c = crate::common::json(&sb.path("out/plain/compare-L-R/compare.json"));
    let rows = c["routes"].as_array().unwrap();
    let models: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["route"].as_str().unwrap(), r["model"].as_str().unwrap()))
        .collect();
    assert_eq!(
        models,
        [
            ("reference", "plain (boltzmann)"),
            ("learned", "plain (boltzmann)"),
            ("learned", "tilted (well-tempered γ = 6)"),
        ]
    );
    let csv = std::fs::read_to_string(sb.path("out/plain/compare-L-R/compare.csv")).unwrap();
    assert!(
        csv.contains("\nlearned [tilted (well-tempered γ = 6)],2,"),
        "{csv}"
    );
    ok(&sb.tps(&[
        "sample", tilted, "--from", "L", "--to", "R", "--paths", "2", "--seed", "1", "--route",
        "learned",
    ]));
    let summary = crate::common::json(&sb.path("out/tilted/L-R/summary.json"));
    assert!(
        summary["model_ensemble"]
            .as_str()
            .unwrap()
            .starts_with("well-tempered (γ = 6)")
    );
    assert_eq!(
        rows[2]["seeds"][1]["max_energy_mean"],
        summary["path_results"]["max_energy_mean"]
    );
    // Another temperature is another surface's ensemble.
    let text = std::fs::read_to_string(tilted).unwrap();
    let hot = sb.write("hot.toml", &text.replace("kT = 1.0", "kT = 2.0"));
    failed_with(
        &sb.tps(&[
            "compare",
            boltzmann,
            "--from",
            "L",
            "--to",
            "R",
            "--seeds",
            "0",
            "--paths",
            "2",
            "--with",
            hot.to_str().unwrap(),
        ]),
        &["--with", "hot.toml", "temperature"],
    );
}

#[test]
fn a_tilt_is_recorded_checked_and_refused_where_it_cannot_apply() {
    let sb = Sandbox::new("tilt-checks");
    let tilted = system(
        &sb,
        "tilted",
        "ensemble = \"well-tempered\"\nbias_factor = 4.0\ntilt_cap = 20.0",
    );
    let text = std::fs::read_to_string(&tilted).unwrap();
    std::fs::write(&tilted, text.replace("steps = 1500", "steps = 50")).unwrap();
    ok(&sb.tps(&["train", &tilted, "--seed", "2"]));
    let meta = tps::model::file::read_metadata(&sb.path("tilted.tpsmodel")).unwrap();
    let record = meta.tilt.expect("a tilted model records its tilt");
    assert_eq!(record.well_tempered.bias_factor, 4.0);
    assert_eq!(record.well_tempered.cap, Some(20.0));
    assert!(record.surface_sha256.is_some());
    // The bias is V = −(1 − 1/γ)·min(U − U_min, cap) on its grid.
    let v = &record.bias;
    let min = record.well_tempered.minimum;
    for x in [[-1.0, 0.0], [0.0, 0.0], [1.5, 1.0]] {
        let u = DoubleWell.energy(&x);
        let want = -0.75 * (u - min).min(20.0);
        assert!(
            (v.energy(&x) - want).abs() < 0.05,
            "{x:?}: {} vs {want}",
            v.energy(&x)
        );
    }
    // Sampling with another ensemble than the model's is refused, naming both.
    let text = std::fs::read_to_string(&tilted).unwrap();
    std::fs::write(
        &tilted,
        text.replace("bias_factor = 4.0", "bias_factor = 5.0"),
    )
    .unwrap();
    failed_with(
        &sb.tps(&["sample", &tilted, "--from", "L", "--to", "R"]),
        &["tilted.tpsmodel", "γ = 4", "γ = 5", "retrain"],
    );
    // Bad settings, each named.
    for (setting, needles) in [
        (
            "ensemble = \"well-tempered\"",
            vec!["training.bias_factor", "γ > 1"],
        ),
        (
            "ensemble = \"well-tempered\"\nbias_factor = 1.0",
            vec!["training.bias_factor", "above 1"],
        ),
        (
            "ensemble = \"well-tempered\"\nbias_factor = nan",
            vec!["training.bias_factor", "NaN"],
        ),
        (
            "ensemble = \"well-tempered\"\nbias_factor = 3.0\ntilt_cap = -1.0",
            vec!["training.tilt_cap", "positive"],
        ),
        (
            "bias_factor = 3.0",
            vec!["training.bias_factor", "boltzmann"],
        ),
        ("ensemble = \"flat\"", vec!["ensemble", "well-tempered"]),
        (
            "learning_rate_decay = \"linear\"",
            vec!["learning_rate_decay", "cosine"],
        ),
    ] {
        let bad = system(&sb, "bad", setting);
        failed_with(&sb.tps(&["train", &bad]), &needles);
    }
    assert!(!sb.path("bad.tpsmodel").exists());
    // A tilt needs a surface: a Gaussian mixture has none to tilt (and nothing to train).
    let gmm =
        std::fs::read_to_string(format!("{}/systems/gmm1d.toml", crate::common::ROOT)).unwrap();
    let gmm = sb.write(
        "gmm.toml",
        &format!("{gmm}\n[training]\nensemble = \"well-tempered\"\nbias_factor = 3.0\n"),
    );
    failed_with(
        &sb.tps(&[
            "geodesic",
            gmm.to_str().unwrap(),
            "--start",
            "4,-2.5",
            "--end",
            "4,2.5",
        ]),
        &["gmm.toml", "training.ensemble", "no surface to tilt"],
    );
}
