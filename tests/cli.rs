//! The `tps` binary end to end on tiny 2-D configurations: the journey, the physical channel,
//! and bad input.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use crate::common::{
    ROOT, Sandbox, failed_with, json, learned_paths_calling_no_energy, ok, stdout,
};
use tps::compute::Backend;
use tps::geometry::{DivergenceConfig, kl_from_point};
use tps::system::System;

const TINY: &str = r#"
name = "mb_tiny"
kT = 10.0
domain = [[-1.7, 1.3], [-0.5, 2.2]]
[potential]
kind = "muller-brown"
[states]
A = [-0.558, 1.442]
B = [0.623, 0.028]
C = [-0.050, 0.467]
[sampling]
chains = 4
replicas = 6
steps = 3000
burn_in = 500
thin = 5
[model]
hidden = 32
blocks = 1
embedding = 16
input_scale = 4.0
path = "m/mb_tiny.tpsmodel"
[training]
steps = 200
batch = 128
[geodesic]
points = 32
nodes = 4
[transition]
steps_per_point = 32
step_size = 5e-4
paths = 4
[barrier]
images = 48
grid = 200
"#;

/// Files by name, with their bytes.
type Files = Vec<(String, Vec<u8>)>;

/// The files `tps train TINY --seed SEED` writes under `m/`, trained once per seed and test
/// binary.
fn tiny_model_files(seed: u64) -> Files {
    static MODELS: Mutex<BTreeMap<u64, Files>> = Mutex::new(BTreeMap::new());
    let mut models = MODELS.lock().unwrap_or_else(|e| e.into_inner());
    models
        .entry(seed)
        .or_insert_with(|| {
            let sb = Sandbox::new(&format!("tiny-model-{seed}"));
            let sys = sb.write("mb.toml", TINY);
            ok(&sb.tps(&["train", sys.to_str().unwrap(), "--seed", &seed.to_string()]));
            std::fs::read_dir(sb.path("m"))
                .unwrap()
                .flatten()
                .map(|e| {
                    let name = e.file_name().to_string_lossy().to_string();
                    (name, std::fs::read(e.path()).unwrap())
                })
                .collect()
        })
        .clone()
}

/// `TINY` written into `sb` with its model trained with `seed` in place (as `tps train` would
/// leave it); returns the system file's path.
fn tiny(sb: &Sandbox, seed: u64) -> String {
    for (name, bytes) in tiny_model_files(seed) {
        let path = sb.path(&format!("m/{name}"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    sb.write("mb.toml", TINY).to_str().unwrap().to_string()
}

/// The Müller–Brown saddles: S1 between A and C, S2 between C and B.
const S1: [f64; 2] = [-0.822, 0.624];
const SADDLE_S1: f64 = -40.665;
const SADDLE_S2: f64 = -72.249;

#[test]
fn train_then_sample_gives_continuous_paths_from_a_to_b_with_readable_trajectories() {
    let sb = Sandbox::new("journey");
    let sys = sb.write("mb.toml", TINY);
    let s = sys.to_str().unwrap();
    ok(&sb.tps(&["train", s, "--seed", "3"]));
    let model = sb.path("m/mb_tiny.tpsmodel");
    let shared = tiny_model_files(3);
    let (_, first) = shared
        .iter()
        .find(|(name, _)| name == "mb_tiny.tpsmodel")
        .unwrap();
    let other = sb.path("shared.tpsmodel");
    std::fs::write(&other, first).unwrap();
    let (a, b) = (
        tps::model::file::read_metadata(&model).unwrap(),
        tps::model::file::read_metadata(&other).unwrap(),
    );
    // Same seed, same model, trained in another process and directory (only the provenance's
    // paths and times differ).
    assert_eq!(a.payload_sha256, b.payload_sha256);
    assert_eq!(a.data_sha256, b.data_sha256);
    assert_eq!(a.loss_history, b.loss_history);

    ok(&sb.tps(&["sample", s, "--from", "A", "--to", "B", "--seed", "1"]));
    let out = sb.path("out/mb_tiny/A-B");
    let summary = json(&out.join("summary.json"));
    let results = &summary["path_results"];
    assert_eq!(summary["paths"], 4);
    for k in 0..4 {
        assert_eq!(results["end_states"][k], "B");
    }
    assert_eq!(results["fraction_reaching_target"], 1.0);
    assert_eq!(summary["provenance"]["seed"], 1);
    assert!(
        summary["provenance"]["system_config"]
            .as_str()
            .unwrap()
            .contains("mb_tiny")
    );
    assert!(
        summary["frames"]
            .as_str()
            .unwrap()
            .contains("not a unit of physical time")
    );
    assert!((summary["reference"]["saddle_energy"].as_f64().unwrap() - SADDLE_S1).abs() < 0.05);
    let frames = 32 * 32 + 1;
    assert_eq!(summary["evaluations"]["walkers"], 4 * frames);
    assert_eq!(summary["trajectories_written"], 4);

    trajectories_read_back_continuous_from_a(&out, frames as usize);
    // Same seed, same paths.
    ok(&sb.tps(&[
        "sample", s, "--from", "A", "--to", "B", "--seed", "1", "--out", "again",
    ]));
    let again = json(&sb.path("again/mb_tiny/A-B/summary.json"));
    assert_eq!(again["path_results"]["max_energy"], results["max_energy"]);

    // Fewer trajectory files than paths is said.
    let o = sb.tps(&[
        "sample",
        s,
        "--from",
        "A",
        "--to",
        "B",
        "--paths",
        "6",
        "--max-trajectories",
        "2",
    ]);
    ok(&o);
    assert!(stdout(&o).contains("2 of 6 paths"), "{}", stdout(&o));
    assert!(!sb.path("out/mb_tiny/A-B/path_002.dcd").exists());

    models_of_another_system_or_corrupt_are_refused(&sb, s, &model);
}

/// The first path's DCD reads back (strict reader) equal to the XYZ, `frames` of them, from A
/// to near B without a jump; the topology and trajectory files are what viewers expect.
fn trajectories_read_back_continuous_from_a(out: &Path, frames: usize) {
    // The DCD reads back (strict reader) equal to the XYZ, starting exactly at A.
    let dcd = tps::output::trajectory::read_positions(&out.join("path_000.dcd")).unwrap();
    let xyz = tps::output::trajectory::read_positions(&out.join("path_000.xyz")).unwrap();
    assert_eq!(dcd.len(), frames);
    assert_eq!(xyz.len(), frames);
    for (a, b) in dcd.iter().zip(&xyz) {
        assert!(a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-4));
        assert_eq!(a[2], 0.0);
    }
    assert!((dcd[0][0] - -0.558).abs() < 1e-6 && (dcd[0][1] - 1.442).abs() < 1e-6);
    let last = dcd.last().unwrap();
    assert!(
        (last[0] - 0.623).hypot(last[1] - 0.028) < 0.3,
        "ends near B: {last:?}"
    );
    // Continuous: no frame-to-frame jump beyond a few noise amplitudes sqrt(ds).
    let biggest = dcd
        .windows(2)
        .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
        .fold(0.0, f64::max);
    assert!(biggest < 0.2, "largest step {biggest}");
    // Files a viewer reads without surprises: no zero unit cell, nothing executable.
    let pdb = std::fs::read_to_string(out.join("topology.pdb")).unwrap();
    assert!(pdb.contains("ATOM") || pdb.contains("HETATM"));
    assert!(!pdb.contains("CRYST1"), "{pdb}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out.join("path_000.dcd"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0, "DCD files are not executable");
    }
    for f in [
        "route.csv",
        "mep.csv",
        "paths.csv",
        "surface.png",
        "energy_profile.png",
    ] {
        assert!(out.join(f).metadata().unwrap().len() > 100, "{f}");
    }
}

/// `tps sample` on system file `s` refuses the model at `model` when it was trained for another
/// system or temperature, or is corrupt, leaving no output.
fn models_of_another_system_or_corrupt_are_refused(sb: &Sandbox, s: &str, model: &Path) {
    // A model trained for another system is refused.
    let other = sb.write(
        "other.toml",
        &TINY.replace("name = \"mb_tiny\"", "name = \"other\""),
    );
    let o = sb.tps(&[
        "sample",
        other.to_str().unwrap(),
        "--from",
        "A",
        "--to",
        "B",
    ]);
    failed_with(&o, &["trained for system `mb_tiny`", "mb_tiny.tpsmodel"]);
    assert!(!sb.path("out/other/A-B").exists());
    // So is one trained at another temperature.
    let hot = sb.write("hot.toml", &TINY.replace("kT = 10.0", "kT = 12.0"));
    let o = sb.tps(&["sample", hot.to_str().unwrap(), "--from", "A", "--to", "B"]);
    failed_with(&o, &["kT = 10", "kT = 12"]);

    // So is a corrupt one, without partial output.
    let mut bytes = std::fs::read(model).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0x10;
    std::fs::write(model, bytes).unwrap();
    let o = sb.tps(&["sample", s, "--from", "B", "--to", "A"]);
    failed_with(&o, &["corrupt", "mb_tiny.tpsmodel"]);
    assert!(!sb.path("out/mb_tiny/B-A").exists());
}

/// Runs 32 paths and returns the mean per-path maximum, the share passing within 0.15 of S1
/// and the summary.
fn channel(sb: &Sandbox, system: &str, from: &str, to: &str) -> (f64, f64, serde_json::Value) {
    let o = sb.tps(&[
        "sample", system, "--from", from, "--to", to, "--paths", "32", "--seed", "2",
    ]);
    ok(&o);
    let dir = sb.path(&format!("out/mb_tiny/{from}-{to}"));
    let summary = json(&dir.join("summary.json"));
    let p = &summary["path_results"];
    let near: Vec<f64> = p["closest_to_saddle"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let within = near.iter().filter(|d| **d < 0.15).count() as f64 / near.len() as f64;
    (p["max_energy_mean"].as_f64().unwrap(), within, summary)
}

#[test]
fn muller_brown_paths_cross_the_physical_saddles_within_a_kt_and_a_half() {
    let sb = Sandbox::new("channel");
    let sys = tiny(&sb, 3);
    let s = sys.as_str();
    let kt = 10.0;
    // A → B goes through S1 (the higher saddle) and C, not straight over the A–C ridge.
    let (max, within, summary) = channel(&sb, s, "A", "B");
    assert!(
        max <= SADDLE_S1 + 1.5 * kt,
        "A → B: mean per-path maximum {max}"
    );
    assert!(
        within >= 0.9,
        "A → B: {within} of the paths pass within 0.15 of S1"
    );
    assert!(
        summary["warnings"].as_array().unwrap().is_empty(),
        "{summary}"
    );
    let (max, _, _) = channel(&sb, s, "A", "C");
    assert!(max <= SADDLE_S1 + 1.5 * kt, "A → C: {max}");
    let (max, _, _) = channel(&sb, s, "C", "B");
    assert!(max <= SADDLE_S2 + 1.5 * kt, "C → B: {max}");
    // The paper's plain geodesic does not: the run is flagged, not passed off as fine.
    let o = sb.tps(&[
        "sample", s, "--from", "A", "--to", "B", "--paths", "16", "--plain",
    ]);
    ok(&o);
    let plain = json(&sb.path("out/mb_tiny/A-B/summary.json"));
    let excess = plain["path_results"]["excess_over_minimax_kt"]
        .as_f64()
        .unwrap();
    if excess > 2.0 {
        assert!(
            stdout(&o).contains("paths cross higher than the lowest pass"),
            "{}",
            stdout(&o)
        );
        assert!(!plain["warnings"].as_array().unwrap().is_empty());
    }
    let _ = S1;
}

/// A periodic surface where the straight route is wrong, as alanine dipeptide's can be: wells
/// of 10 kT at (∓1.5, 0), walls of 12 kT along x = 0 and x = ±π (blocking the direct line and
/// its periodic image) with a pass through each at y = 2.3, and a gentle rise away from y = 0.
fn detour_surface() -> String {
    let n = 90;
    let h = std::f64::consts::TAU / n as f64;
    let mut s = String::new();
    for j in 0..n {
        for i in 0..n {
            let (x, y) = (
                -std::f64::consts::PI + i as f64 * h,
                -std::f64::consts::PI + j as f64 * h,
            );
            let well = |cx: f64| -10.0 * (-((1.0 - (x - cx).cos()) + (1.0 - y.cos())) / 0.3).exp();
            let gap = 1.0 - (-(1.0 - (y - 2.3).cos()) / 0.4).exp();
            let wall = 12.0 * (-(1.0 - (2.0 * x).cos()) / 0.06).exp() * gap;
            let v = well(-1.5) + well(1.5) + wall + (1.0 - y.cos());
            s.push_str(&format!("{x} {y} {v}\n"));
        }
    }
    s
}

#[test]
fn an_alanine_like_surface_whose_straight_route_is_wrong_is_crossed_at_its_pass() {
    let sb = Sandbox::new("detour");
    sb.write("detour.dat", &detour_surface());
    let text = TINY
        .replace("name = \"mb_tiny\"", "name = \"detour\"")
        .replace("kT = 10.0", "kT = 1.0")
        .replace(
            "domain = [[-1.7, 1.3], [-0.5, 2.2]]",
            "domain = [[-3.141592653589793, 3.141592653589793], [-3.141592653589793, 3.141592653589793]]",
        )
        .replace(
            "kind = \"muller-brown\"",
            "kind = \"tabulated\"\nfile = \"detour.dat\"\nperiodic = true",
        )
        .replace(
            "A = [-0.558, 1.442]\nB = [0.623, 0.028]\nC = [-0.050, 0.467]",
            "A = [-1.5, 0.0]\nB = [1.5, 0.0]",
        )
        .replace("path = \"m/mb_tiny.tpsmodel\"", "path = \"m/detour.tpsmodel\"")
        // A narrow pass between deep wells: a stiffer restraint (λ = 6) that the walkers can
        // follow (ds · stiffness ≈ 0.5, several relaxation times per point), and a stronger
        // pull of the energy towards the pass.
        .replace(
            "step_size = 5e-4",
            "step_size = 2e-3\nlambda_max = 6.0\nsteps_per_point = 64",
        )
        .replace("steps_per_point = 32\n", "")
        .replace("nodes = 4", "nodes = 4\nconstraints = { energy = { weight = 10.0 }, low_variance = { below_ends = 0.5, weight = 10.0, sharpness = 10.0 } }");
    let sys = sb.write("detour.toml", &text);
    let s = sys.to_str().unwrap();
    ok(&sb.tps(&["train", s, "--seed", "1"]));
    let o = sb.tps(&["sample", s, "--from", "A", "--to", "B", "--paths", "32"]);
    ok(&o);
    let summary = json(&sb.path("out/detour/A-B/summary.json"));
    let r = &summary["reference"];
    let (saddle, minimax) = (
        r["saddle_energy"].as_f64().unwrap(),
        r["minimax"].as_f64().unwrap(),
    );
    let line = {
        // The highest point of the straight line between the states.
        let surface = tps::potential::Tabulated::parse(&detour_surface(), "detour", true).unwrap();
        use tps::potential::Potential;
        (0..=200)
            .map(|k| {
                let t = k as f64 / 200.0;
                surface.energy(&[-1.5 + 3.0 * t, 0.0])
            })
            .fold(f64::NEG_INFINITY, f64::max)
    };
    assert!(
        line > minimax + 4.0,
        "the straight route must be wrong: {line} vs pass {minimax}"
    );
    let max = summary["path_results"]["max_energy_mean"].as_f64().unwrap();
    assert!(
        max <= saddle + 1.5,
        "mean per-path maximum {max} vs saddle {saddle}"
    );
    assert_eq!(summary["path_results"]["fraction_reaching_target"], 1.0);
}

#[test]
fn bad_inputs_fail_cleanly_with_a_message_naming_the_problem() {
    let sb = Sandbox::new("bad");
    let sys = sb.write("mb.toml", &TINY.replace("m/mb_tiny", "m/absent"));
    let s = sys.to_str().unwrap();
    let o = sb.tps(&["sample", s, "--from", "A", "--to", "Z"]);
    failed_with(&o, &["unknown state `Z`", "A, B, C"]);
    let o = sb.tps(&["sample", s, "--from", "A", "--to", "B"]);
    failed_with(&o, &["absent.tpsmodel", "tps train"]);
    assert!(!sb.path("out/mb_tiny/A-B").exists(), "no partial output");
    // Routes: an unknown one is named; the model-free route still takes its restraint's
    // stiffness from a model, and says so; the learned route needs one.
    let o = sb.tps(&[
        "sample", s, "--from", "A", "--to", "B", "--route", "shortest",
    ]);
    failed_with(
        &o,
        &[
            "--route",
            "shortest",
            "geodesic, plain, reference or learned",
        ],
    );
    for route in ["reference", "learned"] {
        let o = sb.tps(&["sample", s, "--from", "A", "--to", "B", "--route", route]);
        failed_with(&o, &["absent.tpsmodel", "tps train"]);
    }
    let o = sb.tps(&["compare", s, "--from", "A", "--to", "B", "--seeds", "3-1"]);
    failed_with(&o, &["--seeds", "3-1"]);
    let o = sb.tps(&[
        "compare",
        s,
        "--from",
        "A",
        "--to",
        "B",
        "--routes",
        "plain,plain",
    ]);
    failed_with(&o, &["--routes", "once"]);
    assert!(!sb.path("out").exists(), "nothing written for bad routes");
    // An output root that cannot be a directory (it is a file).
    std::fs::write(sb.path("blocked"), "").unwrap();
    let o = sb.tps(&["barrier", s, "--from", "A", "--to", "B", "--out", "blocked"]);
    failed_with(&o, &["blocked"]);
    let o = sb.tps(&["train", "missing.toml"]);
    failed_with(&o, &["missing.toml"]);
    let o = sb.tps(&["geodesic", s, "--start", "4,0.1", "--end", "4,0,0"]);
    failed_with(&o, &["--start", "λ followed by 2"]);
    // A GPU asked of a build without one names the cargo feature that adds it.
    #[cfg(not(feature = "wgpu"))]
    {
        let o = sb.tps(&["train", s, "--device", "gpu"]);
        failed_with(&o, &["--device gpu", "--features wgpu"]);
        assert!(!sb.path("m").exists(), "nothing written for --device gpu");
    }
}

#[test]
fn values_that_cannot_be_right_are_refused_before_any_work() {
    let sb = Sandbox::new("bad-values");
    // Values that cannot be right are refused before any work, naming file and field.
    for (from, to, field) in [
        ("kT = 10.0", "kT = 10.0\ntemperature = 3", "temperature"),
        ("kT = 10.0", "kT = inf", "kT"),
        (
            "steps = 200",
            "steps = 200\nlearning_rate = -1",
            "training.learning_rate",
        ),
        ("step_size = 5e-4", "step_size = 0", "transition.step_size"),
        (
            "step_size = 5e-4",
            "step_size = nan",
            "transition.step_size",
        ),
        (
            "points = 32",
            "points = 32\nconstraints = \"paper\"",
            "constraints",
        ),
        (
            "points = 32",
            "points = 32\nconstraints = { energy = { weight = -1 } }",
            "geodesic.constraints.energy",
        ),
        (
            "nodes = 4",
            "nodes = 4\n[geodesic.constraints.low_variance]\nmin_lambda = 3\nweigth = 2",
            "weigth",
        ),
    ] {
        let bad = sb.write("bad.toml", &TINY.replace(from, to));
        let o = sb.tps(&["train", bad.to_str().unwrap()]);
        failed_with(&o, &["bad.toml", field]);
        assert!(!sb.path("m").exists(), "nothing written for {to}");
    }
    // A step size the restraint cannot take is refused with the largest that would do.
    ok(&sb.tps(&[
        "train",
        &sb.write("ok.toml", TINY).to_string_lossy(),
        "--seed",
        "1",
    ]));
    let big = sb.write(
        "big.toml",
        &TINY.replace("step_size = 5e-4", "step_size = 0.05"),
    );
    let o = sb.tps(&["sample", big.to_str().unwrap(), "--from", "A", "--to", "B"]);
    failed_with(&o, &["transition.step_size", "too large"]);
}

#[test]
fn compare_puts_every_route_side_by_side_and_its_rows_are_sample_runs() {
    let sb = Sandbox::new("compare");
    let sys = tiny(&sb, 2);
    let s = sys.as_str();
    let o = sb.tps(&[
        "compare", s, "--from", "A", "--to", "B", "--seeds", "1-2", "--paths", "3",
    ]);
    ok(&o);
    let c = json(&sb.path("out/mb_tiny/compare-A-B/compare.json"));
    let routes = c["routes"].as_array().unwrap();
    assert_eq!(
        routes
            .iter()
            .map(|r| r["route"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["geodesic", "plain", "reference", "learned"]
    );
    for f in ["compare.csv", "compare.png"] {
        assert!(
            sb.path("out/mb_tiny/compare-A-B")
                .join(f)
                .metadata()
                .unwrap()
                .len()
                > 100
        );
    }
    let csv = std::fs::read_to_string(sb.path("out/mb_tiny/compare-A-B/compare.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5);
    assert!(csv.lines().nth(3).unwrap().starts_with("reference,2,"));
    // Each row's seed 2 is `tps sample --route … --seed 2`, number for number.
    for r in routes {
        let route = r["route"].as_str().unwrap();
        ok(&sb.tps(&[
            "sample", s, "--from", "A", "--to", "B", "--paths", "3", "--seed", "2", "--route",
            route,
        ]));
        let summary = json(&sb.path("out/mb_tiny/A-B/summary.json"));
        assert_eq!(summary["route"]["route"], route);
        assert_eq!(
            r["seeds"][1]["max_energy_mean"], summary["path_results"]["max_energy_mean"],
            "{route}"
        );
        // Every run shows the model-free route beside it (the reference route itself not).
        let beside = &summary["reference_route_beside"];
        if route == "reference" {
            assert!(beside.is_null());
        } else {
            assert_eq!(
                beside["max_energy_mean"],
                routes[2]["seeds"][1]["max_energy_mean"]
            );
            assert!(
                beside["verdict"]
                    .as_str()
                    .unwrap()
                    .contains("reference route")
            );
        }
    }
    let learned = &routes[3];
    assert_eq!(learned["seeds"][0]["guiding_evaluations"], 0);
    assert!(
        learned["guided_by"]
            .as_str()
            .unwrap()
            .contains("never called")
    );
    // The energy-aware geodesic's second start can be switched off, and says which won.
    ok(&sb.tps(&[
        "sample",
        s,
        "--from",
        "A",
        "--to",
        "B",
        "--paths",
        "2",
        "--no-mep-start",
    ]));
    let g = &json(&sb.path("out/mb_tiny/A-B/summary.json"))["route"]["geodesic"];
    assert_eq!(g["start"], "straight line");
    assert!(g["mep_start"].as_str().unwrap().contains("switched off"));
}

#[test]
fn the_learned_route_never_calls_the_energy() {
    let b = [0.623, 0.028];
    let (paths, _) = learned_paths_calling_no_energy(
        &Path::new(ROOT).join("systems/muller_brown.toml"),
        tps::potential::MullerBrown,
        ("A", [-0.558, 1.442]),
        ("B", b),
        64,
        (3, 32),
    );
    for p in &paths {
        assert!(p.max_energy.is_finite() && p.guide_max.is_none());
        assert!(
            (p.last[0] - b[0]).hypot(p.last[1] - b[1]) < 0.3,
            "ends near B: {:?}",
            p.last
        );
    }
}

#[test]
fn shards_merged_are_the_unsharded_run_and_foreign_or_missing_shards_are_refused() {
    let sb = Sandbox::new("shards");
    let sys = tiny(&sb, 2);
    let s = sys.as_str();
    let common = ["--from", "A", "--to", "B", "--paths", "32", "--seed", "5"];
    let mut args = vec!["sample", s];
    args.extend(common);
    args.extend(["--out", "full"]);
    ok(&sb.tps(&args));
    // The scheduler's steps on this machine: the route once, 4 shards in parallel, the merge.
    let o = std::process::Command::new("bash")
        .arg(format!("{ROOT}/scripts/array-local.sh"))
        .args([s, "A", "B", "32", "4", "5", "array"])
        .env("TPS", env!("CARGO_BIN_EXE_tps"))
        .current_dir(&sb.dir)
        .output()
        .unwrap();
    ok(&o);
    let full = sb.path("full/mb_tiny/A-B");
    let merged = sb.path("array/mb_tiny/A-B");
    assert_eq!(
        std::fs::read(full.join("paths.csv")).unwrap(),
        std::fs::read(merged.join("paths.csv")).unwrap(),
        "paths.csv byte for byte"
    );
    let (a, b) = (
        json(&full.join("summary.json")),
        json(&merged.join("summary.json")),
    );
    for key in [
        "path_results",
        "reference_route_beside",
        "evaluations",
        "route",
    ] {
        assert_eq!(a[key], b[key], "{key}");
    }
    assert_eq!(b["paths"], 32);
    for f in [
        "path_000.dcd",
        "path_015.xyz",
        "surface.png",
        "energy_profile.png",
    ] {
        assert!(merged.join(f).exists(), "{f}");
    }
    // A missing shard, one given twice, and one of another run are named.
    let shard = |k: usize| format!("array/mb_tiny/A-B-shard-{k}-of-4");
    let o = sb.tps(&["merge", &shard(0), &shard(1), &shard(3), "--out", "m1"]);
    failed_with(&o, &["shard 2 of 4", "missing"]);
    let o = sb.tps(&[
        "merge",
        &shard(0),
        &shard(1),
        &shard(1),
        &shard(2),
        &shard(3),
        "--out",
        "m2",
    ]);
    failed_with(&o, &["shard 1 of 4", "twice"]);
    let mut other = vec!["sample", s, "--from", "A", "--to", "B", "--paths", "32"];
    other.extend(["--seed", "6", "--shard", "2/4", "--out", "other"]);
    ok(&sb.tps(&other));
    let o = sb.tps(&[
        "merge",
        &shard(0),
        &shard(1),
        "other/mb_tiny/A-B-shard-2-of-4",
        &shard(3),
    ]);
    failed_with(&o, &["A-B-shard-2-of-4", "another run"]);
    tampered_shards_are_refused(&sb, s);
    planned_routes_are_followed_as_planned(&sb, s);
    // A route planned for another model is refused where a shard would use it.
    tiny(&sb, 3);
    let mut again = vec!["sample", s];
    again.extend(common);
    again.extend([
        "--shard",
        "0/4",
        "--geodesic",
        "array/mb_tiny/route-A-B",
        "--out",
        "x",
    ]);
    failed_with(&sb.tps(&again), &["route.json", "another model"]);
    assert!(!sb.path("x").exists() && !sb.path("m1").exists() && !sb.path("m2").exists());
}

/// Copies the four shards of `array/` into `dir/`, applying `edit` to shard `k`'s files.
fn copy_shards(sb: &Sandbox, dir: &str, k: usize, edit: &dyn Fn(&Path)) -> Vec<String> {
    (0..4)
        .map(|j| {
            let from = sb.path(&format!("array/mb_tiny/A-B-shard-{j}-of-4"));
            let to = sb.path(&format!("{dir}/A-B-shard-{j}-of-4"));
            std::fs::create_dir_all(&to).unwrap();
            for e in std::fs::read_dir(&from).unwrap().flatten() {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
            if j == k {
                edit(&to);
            }
            to.to_str().unwrap().to_string()
        })
        .collect()
}

/// Rewrites a shard's summary.json through `edit`.
fn edit_summary(dir: &Path, edit: &dyn Fn(&mut serde_json::Value)) {
    let mut v = json(&dir.join("summary.json"));
    edit(&mut v);
    std::fs::write(dir.join("summary.json"), v.to_string()).unwrap();
}

/// `tps merge` checks each part against its own files and its system file.
fn tampered_shards_are_refused(sb: &Sandbox, system: &str) {
    let merge = |parts: Vec<String>, out: &str| {
        let mut args = vec!["merge".to_string()];
        args.extend(parts);
        args.extend(["--out".into(), out.into()]);
        sb.tps(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    // A number edited in a summary disagrees with the shard's own paths.csv.
    let parts = copy_shards(sb, "t1", 1, &|d| {
        edit_summary(d, &|v| v["path_results"]["max_energy"][0] = (-99.0).into())
    });
    failed_with(
        &merge(parts, "m3"),
        &["t1/A-B-shard-1-of-4/paths.csv", "row 1"],
    );
    // A row deleted from paths.csv.
    let parts = copy_shards(sb, "t2", 2, &|d| {
        let t = std::fs::read_to_string(d.join("paths.csv")).unwrap();
        let kept: Vec<&str> = t.lines().take(t.lines().count() - 1).collect();
        std::fs::write(d.join("paths.csv"), kept.join("\n") + "\n").unwrap();
    });
    failed_with(&merge(parts, "m4"), &["paths.csv", "row(s)", "16..24"]);
    // A truncated trajectory, and a deleted one.
    let parts = copy_shards(sb, "t3", 0, &|d| {
        let b = std::fs::read(d.join("path_000.dcd")).unwrap();
        std::fs::write(d.join("path_000.dcd"), &b[..b.len() - 10]).unwrap();
    });
    failed_with(&merge(parts, "m5"), &["path_000.dcd"]);
    let parts = copy_shards(sb, "t4", 0, &|d| {
        std::fs::remove_file(d.join("path_001.xyz")).unwrap()
    });
    failed_with(&merge(parts, "m6"), &["path_001.xyz", "missing"]);
    // Names that would lead outside --out, or to files of another shard.
    for (field, value) in [("system", "../../escaped"), ("to", "B/../..")] {
        let parts = copy_shards(sb, "t5", 0, &|d| {
            edit_summary(d, &|v| v[field] = value.into())
        });
        failed_with(&merge(parts, "m7"), &[field, "not a plain name"]);
    }
    let parts = copy_shards(sb, "t9", 1, &|d| {
        edit_summary(d, &|v| v["shard"]["first"] = 30.into())
    });
    failed_with(&merge(parts, "m11"), &["field `shard`", "30..16"]);
    let parts = copy_shards(sb, "t6", 3, &|d| {
        edit_summary(d, &|v| v["files"][0] = "../../../etc/passwd".into())
    });
    failed_with(&merge(parts, "m8"), &["files", "not a file name"]);
    // The system file is the one the shards ran with, read from where they ran.
    let parts = copy_shards(sb, "t7", 9, &|_| {});
    let original = std::fs::read_to_string(system).unwrap();
    std::fs::write(system, format!("{original}\n# edited\n")).unwrap();
    failed_with(
        &merge(parts.clone(), "m9"),
        &[system, "not the system file"],
    );
    std::fs::write(system, &original).unwrap();
    for p in &parts {
        edit_summary(Path::new(p), &|v| {
            v["provenance"]["system_file"] = "elsewhere/mb.toml".into()
        });
    }
    failed_with(
        &merge(parts, "m10"),
        &["elsewhere/mb.toml", "cannot be read from here"],
    );
    for out in [
        "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10", "escaped", "etc",
    ] {
        assert!(!sb.path(out).exists(), "{out} written");
    }
}

/// `--geodesic DIR` takes the route as planned: flags that would change it, another seed, and
/// a route file of the wrong shape are refused.
fn planned_routes_are_followed_as_planned(sb: &Sandbox, system: &str) {
    let route = "array/mb_tiny/route-A-B";
    let sample = |extra: &[&str]| {
        let mut args = vec![
            "sample",
            system,
            "--from",
            "A",
            "--to",
            "B",
            "--paths",
            "32",
            "--shard",
            "0/4",
            "--geodesic",
            route,
            "--out",
            "g",
        ];
        args.extend(extra);
        sb.tps(&args)
    };
    failed_with(
        &sample(&["--seed", "5", "--low-variance", "2"]),
        &["--geodesic", "--low-variance"],
    );
    failed_with(
        &sample(&["--seed", "5", "--no-mep-start"]),
        &["--no-mep-start"],
    );
    failed_with(&sample(&["--seed", "6"]), &["route.json", "seed 5"]);
    let file = sb.path(&format!("{route}/route.json"));
    let original = std::fs::read_to_string(&file).unwrap();
    for (points, needle) in [
        (vec![vec![4.0, 0.1]; 32], "point 0 holds 2 number(s)"),
        (vec![], "0 point(s)"),
    ] {
        let mut v: serde_json::Value = serde_json::from_str(&original).unwrap();
        v["points_sha256"] = tps::workflows::transition::planned::points_sha256(&points).into();
        v["points"] = serde_json::to_value(&points).unwrap();
        std::fs::write(&file, v.to_string()).unwrap();
        failed_with(&sample(&["--seed", "5"]), &["route.json", "points", needle]);
    }
    std::fs::write(&file, original).unwrap();
    assert!(!sb.path("g").exists());
}

#[test]
fn sample_avoid_takes_its_point_in_data_units() {
    let sb = Sandbox::new("avoid");
    let sys = tiny(&sb, 3);
    let s = sys.as_str();
    // Forbid the spacetime point at C (data units), which the plain-constrained curve visits.
    let point = [4.0, -0.05, 0.467];
    let arg = point.map(|v| v.to_string()).join(",");
    ok(&sb.tps(&[
        "sample",
        s,
        "--from",
        "A",
        "--to",
        "B",
        "--avoid",
        &arg,
        "--min-kl",
        "3",
        "--penalty-weight",
        "50",
    ]));
    let summary = json(&sb.path("out/mb_tiny/A-B/summary.json"));
    assert_eq!(
        summary["route"]["geodesic"]["constraints"]["avoid"]["point"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect::<Vec<_>>(),
        point.to_vec()
    );
    // The KL from the point (mapped to model units as the model sees it) stays away from 0
    // along the sampled geodesic.
    let system = System::load(Path::new(&sys)).unwrap();
    let loaded = system.denoiser(Backend::Flex).unwrap();
    let norm = &loaded.normalisation;
    let star: Vec<f64> = std::iter::once(point[0])
        .chain(norm.to_model(&point[1..]))
        .collect();
    let text = std::fs::read_to_string(sb.path("out/mb_tiny/A-B/route.csv")).unwrap();
    let curve: Vec<Vec<f64>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').take(3).map(|v| v.parse().unwrap()).collect())
        .collect();
    let kl = kl_from_point(
        loaded.denoiser.as_ref(),
        &star,
        &curve,
        &DivergenceConfig::default(),
        &loaded.device,
    )
    .unwrap();
    let closest = kl.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(closest > 1.0, "the geodesic comes within KL {closest} of C");
}

#[test]
fn barrier_command_finds_the_muller_brown_saddle() {
    let sb = Sandbox::new("barrier");
    let sys = sb.write("mb.toml", TINY);
    let o = sb.tps(&["barrier", sys.to_str().unwrap(), "--from", "A", "--to", "B"]);
    ok(&o);
    let r = &json(&sb.path("out/mb_tiny/barrier-A-B/barrier.json"))["reference"];
    assert!((r["saddle_energy"].as_f64().unwrap() - SADDLE_S1).abs() < 0.01);
    assert!((r["saddle"][0].as_f64().unwrap() - S1[0]).abs() < 2e-3);
    assert!((r["saddle"][1].as_f64().unwrap() - 0.6243).abs() < 2e-3);
    assert!(stdout(&o).contains("-40.66"));
}

#[test]
fn gmm_geodesic_and_distance_commands_need_no_model() {
    let sb = Sandbox::new("gmm");
    let text = std::fs::read_to_string(format!("{ROOT}/systems/gmm1d.toml")).unwrap();
    let sys = sb.write("gmm1d.toml", &text);
    let s = sys.to_str().unwrap();
    let o = sb.tps(&[
        "geodesic", s, "--start", "4,-2.5", "--end", "4,2.5", "--plain",
    ]);
    ok(&o);
    let r = json(&sb.path("out/gmm1d/geodesic/geodesic.json"));
    let g = &r["geodesic"];
    assert!(g["length"].as_f64().unwrap() < 0.5 * g["straight_line_length"].as_f64().unwrap());
    assert!(g["lowest_lambda"].as_f64().unwrap() < 0.0);
    assert!(sb.path("out/gmm1d/geodesic/geodesic.png").exists());
    let o = sb.tps(&["distance", s, "--a", "-2.5", "--b", "0.5"]);
    ok(&o);
    let d: f64 = stdout(&o).trim().parse().unwrap();
    let o = sb.tps(&["distance", s, "--a", "0.5", "--b", "-2.5"]);
    let back: f64 = stdout(&o).trim().parse().unwrap();
    assert!(d > 0.5 && (d - back).abs() < 1e-3 * d, "{d} vs {back}");
    let o = sb.tps(&["train", s]);
    ok(&o);
    assert!(stdout(&o).contains("nothing to train"));
}

#[test]
fn help_explains_every_subcommand_and_option() {
    let sb = Sandbox::new("help");
    let top = stdout(&sb.tps(&["--help"]));
    for cmd in [
        "train", "sample", "barrier", "distance", "geodesic", "md", "energy",
    ] {
        assert!(top.contains(cmd), "{cmd} missing from --help");
        let h = stdout(&sb.tps(&[cmd, "--help"]));
        assert!(h.contains("ystem file"), "{cmd} --help: {h}");
    }
    let h = stdout(&sb.tps(&["sample", "--help"]));
    for opt in [
        "--from",
        "--to",
        "--paths",
        "--seed",
        "--plain",
        "--low-variance",
        "--energy-weight",
        "--avoid",
        "--min-kl",
        "--device",
    ] {
        assert!(h.contains(opt), "sample --help lacks {opt}");
    }
    let _ = Path::new(ROOT);
}
