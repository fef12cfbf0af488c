//! The `tps` binary end to end on a tiny Müller–Brown configuration, and every bad-input case.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
path = "MODEL"
[training]
steps = 200
batch = 128
[geodesic]
points = 32
nodes = 4
steps = 300
[transition]
steps_per_point = 32
step_size = 5e-4
paths = 4
[barrier]
images = 48
grid = 200
"#;

struct Sandbox {
    dir: PathBuf,
}

impl Sandbox {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tps-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
    }

    fn system(&self, file: &str, text: &str, model: &str) -> PathBuf {
        let p = self.dir.join(file);
        let model = self.dir.join(model);
        std::fs::write(&p, text.replace("MODEL", model.to_str().unwrap())).unwrap();
        p
    }

    fn tps(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tps"))
            .args(args)
            .current_dir(&self.dir)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn ok(o: &Output) {
    assert!(o.status.success(), "failed: {}", stderr(o));
}

fn failed_with(o: &Output, needles: &[&str]) {
    assert!(!o.status.success(), "should have failed");
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(o);
    assert!(
        !e.contains("panicked") && !e.contains("RUST_BACKTRACE"),
        "{e}"
    );
    for n in needles {
        assert!(e.contains(n), "`{n}` not in: {e}");
    }
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn train_then_sample_gives_continuous_paths_from_a_to_b_with_readable_trajectories() {
    let sb = Sandbox::new("journey");
    let sys = sb.system("mb.toml", TINY, "m/mb_tiny.tpsmodel");
    let s = sys.to_str().unwrap();
    ok(&sb.tps(&["train", s, "--seed", "3"]));
    let model = sb.dir.join("m/mb_tiny.tpsmodel");
    let first = std::fs::read(&model).unwrap();
    ok(&sb.tps(&["train", s, "--seed", "3"]));
    assert_eq!(
        first,
        std::fs::read(&model).unwrap(),
        "same seed, same model"
    );

    ok(&sb.tps(&["sample", s, "--from", "A", "--to", "B", "--seed", "1"]));
    let out = sb.dir.join("out/mb_tiny/A-B");
    let summary = json(&out.join("summary.json"));
    let results = &summary["path_results"];
    assert_eq!(summary["paths"], 4);
    for k in 0..4 {
        assert_eq!(results["start_states"][k], "A");
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
    assert!((summary["reference"]["saddle_energy"].as_f64().unwrap() + 40.66).abs() < 0.05);
    let frames = 32 * 32 + 1;
    assert_eq!(summary["evaluations"]["langevin"], 4 * frames);

    // The DCD reads back through chemfiles with the XYZ's coordinates, starting exactly at A.
    let dcd = tps::output::trajectory::read_positions(&out.join("path_000.dcd")).unwrap();
    let xyz = tps::output::trajectory::read_positions(&out.join("path_000.xyz")).unwrap();
    assert_eq!(dcd.len(), frames as usize);
    assert_eq!(xyz.len(), frames as usize);
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
    let pdb = std::fs::read_to_string(out.join("topology.pdb")).unwrap();
    assert!(pdb.contains("ATOM") || pdb.contains("HETATM"));
    for f in [
        "geodesic.csv",
        "mep.csv",
        "surface.png",
        "energy_profile.png",
    ] {
        assert!(out.join(f).metadata().unwrap().len() > 100, "{f}");
    }
    // Same seed, same paths.
    ok(&sb.tps(&[
        "sample", s, "--from", "A", "--to", "B", "--seed", "1", "--out", "again",
    ]));
    let again = json(&sb.dir.join("again/mb_tiny/A-B/summary.json"));
    assert_eq!(again["path_results"]["max_energy"], results["max_energy"]);

    // A model trained for another system is refused.
    let other = sb.system(
        "other.toml",
        &TINY.replace("mb_tiny", "other"),
        "m/mb_tiny.tpsmodel",
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
    assert!(!sb.dir.join("out/other").join("A-B").exists());

    // So is a corrupt one, without partial output.
    let mut bytes = std::fs::read(&model).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0x10;
    std::fs::write(&model, bytes).unwrap();
    let o = sb.tps(&["sample", s, "--from", "B", "--to", "A"]);
    failed_with(&o, &["corrupt", "mb_tiny.tpsmodel"]);
    assert!(!sb.dir.join("out/mb_tiny/B-A").exists());
}

#[test]
fn bad_inputs_fail_cleanly_with_a_message_naming_the_problem() {
    let sb = Sandbox::new("bad");
    let sys = sb.system("mb.toml", TINY, "m/absent.tpsmodel");
    let s = sys.to_str().unwrap();
    let o = sb.tps(&["sample", s, "--from", "A", "--to", "Z"]);
    failed_with(&o, &["unknown state `Z`", "A, B, C"]);
    let o = sb.tps(&["sample", s, "--from", "A", "--to", "B"]);
    failed_with(&o, &["absent.tpsmodel", "tps train"]);
    assert!(
        !sb.dir.join("out/mb_tiny/A-B").exists(),
        "no partial output"
    );
    // An output root that cannot be a directory (it is a file).
    std::fs::write(sb.dir.join("blocked"), "").unwrap();
    let o = sb.tps(&["sample", s, "--from", "A", "--to", "B", "--out", "blocked"]);
    failed_with(&o, &["blocked"]);
    let o = sb.tps(&["train", "missing.toml"]);
    failed_with(&o, &["missing.toml"]);
    let bad = sb.system(
        "bad.toml",
        &TINY.replace("kT = 10.0", "kT = 10.0\ntemperature = 3"),
        "x",
    );
    let o = sb.tps(&["train", bad.to_str().unwrap()]);
    failed_with(&o, &["bad.toml", "temperature"]);
    let o = sb.tps(&["geodesic", s, "--start", "4,0.1", "--end", "4,0,0"]);
    failed_with(&o, &["--start", "λ followed by 2"]);
}

#[test]
fn barrier_command_finds_the_muller_brown_saddle() {
    let sb = Sandbox::new("barrier");
    let sys = sb.system("mb.toml", TINY, "m/x.tpsmodel");
    let o = sb.tps(&["barrier", sys.to_str().unwrap(), "--from", "A", "--to", "B"]);
    ok(&o);
    let r = json(&sb.dir.join("out/mb_tiny/barrier-A-B/barrier.json"));
    assert!((r["saddle_energy"].as_f64().unwrap() + 40.66).abs() < 0.01);
    assert!((r["saddle"][0].as_f64().unwrap() + 0.822).abs() < 2e-3);
    assert!((r["saddle"][1].as_f64().unwrap() - 0.624).abs() < 2e-3);
    assert!(String::from_utf8_lossy(&o.stdout).contains("-40.66"));
}

#[test]
fn gmm_geodesic_and_distance_commands_need_no_model() {
    let sb = Sandbox::new("gmm");
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/systems/gmm1d.toml"))
        .unwrap();
    let sys = sb.system("gmm1d.toml", &text, "unused");
    let s = sys.to_str().unwrap();
    let o = sb.tps(&["geodesic", s, "--start", "4,-2.5", "--end", "4,2.5"]);
    ok(&o);
    let r = json(&sb.dir.join("out/gmm1d/geodesic/geodesic.json"));
    let g = &r["geodesic"];
    assert!(g["length"].as_f64().unwrap() < 0.5 * g["straight_line_length"].as_f64().unwrap());
    assert!(g["lowest_lambda"].as_f64().unwrap() < 0.0);
    assert!(sb.dir.join("out/gmm1d/geodesic/geodesic.png").exists());
    let o = sb.tps(&["distance", s, "--a", "-2.5", "--b", "0.5"]);
    ok(&o);
    let d: f64 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    let o = sb.tps(&["distance", s, "--a", "0.5", "--b", "-2.5"]);
    let back: f64 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    assert!(d > 0.5 && (d - back).abs() < 1e-3 * d, "{d} vs {back}");
    let o = sb.tps(&["train", s]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("nothing to train"));
}

#[test]
fn help_explains_every_subcommand_and_option() {
    let sb = Sandbox::new("help");
    let top = String::from_utf8_lossy(&sb.tps(&["--help"]).stdout).to_string();
    for cmd in ["train", "sample", "barrier", "distance", "geodesic"] {
        assert!(top.contains(cmd), "{cmd} missing from --help");
        let h = String::from_utf8_lossy(&sb.tps(&[cmd, "--help"]).stdout).to_string();
        assert!(h.contains("System file"), "{cmd} --help: {h}");
    }
    let h = String::from_utf8_lossy(&sb.tps(&["sample", "--help"]).stdout).to_string();
    for opt in [
        "--from",
        "--to",
        "--paths",
        "--seed",
        "--low-variance",
        "--avoid",
        "--min-kl",
    ] {
        assert!(h.contains(opt), "sample --help lacks {opt}");
    }
}
