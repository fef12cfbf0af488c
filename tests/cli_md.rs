//! `tps md` and `tps energy` end to end.

use std::path::{Path, PathBuf};
use std::process::Command;

fn sandbox(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tps-md-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn system(dir: &Path, extra: &str) -> PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = format!(
        r#"name = "aldp_test"
[molecule]
prmtop = "{root}/systems/aldp/aldp.prmtop"
coordinates = "{root}/systems/aldp/aldp.pdb"
[md]
temperature = 300.0
timestep = 0.001
steps = 4000
walkers = 2
report_every = 1000
{extra}"#
    );
    let p = dir.join("aldp.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn tps(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tps"))
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn md_writes_readable_trajectories_and_energy_reproduces_them() {
    let dir = sandbox("run");
    let sys = system(&dir, "[metadynamics]\npace = 500\n");
    let o = tps(&dir, &["md", sys.to_str().unwrap(), "--seed", "4"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.join("out/aldp_test/md");
    for f in [
        "topology.pdb",
        "walker_000.dcd",
        "walker_001.dcd",
        "cv.csv",
        "energies.csv",
        "fes.dat",
        "fes.png",
        "summary.json",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let frames =
        tps::output::trajectory::read_molecule_frames(&out.join("walker_000.dcd")).unwrap();
    assert_eq!(frames.len(), 4);
    // Bond lengths stay physical (0.09–0.16 nm for every bond of the molecule).
    let p = tps::mm::Prmtop::read(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systems/aldp/aldp.prmtop"
    )))
    .unwrap();
    let (_, ff) = tps::mm::ForceField::from_prmtop(&p).unwrap();
    for x in &frames {
        for b in &ff.bonds {
            let d: f64 = (0..3)
                .map(|k| (x[b.i][k] - x[b.j][k]).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!((0.09..0.16).contains(&d), "bond {}-{} at {d} nm", b.i, b.j);
        }
    }
    // `tps energy` on the DCD matches the energies recorded during the run (DCD is float32).
    let o = tps(
        &dir,
        &[
            "energy",
            sys.to_str().unwrap(),
            out.join("walker_000.dcd").to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = String::from_utf8_lossy(&o.stdout).to_string();
    let totals: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(6).unwrap().parse().unwrap())
        .collect();
    let recorded = std::fs::read_to_string(out.join("energies.csv")).unwrap();
    let run_totals: Vec<f64> = recorded
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1).unwrap().parse::<f64>().unwrap() == 0.0)
        .map(|l| l.split(',').nth(7).unwrap().parse().unwrap())
        .collect();
    assert_eq!(totals.len(), run_totals.len());
    for (a, b) in totals.iter().zip(&run_totals) {
        assert!((a - b).abs() < 0.05, "{a} vs {b}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["free_energy"]["hills"], 16);
    assert_eq!(summary["provenance"]["seed"], 4);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn md_inputs_are_checked() {
    let dir = sandbox("bad");
    let sys = system(&dir, "[metadynamics]\nheigth = 1.0\n");
    let o = tps(&dir, &["md", sys.to_str().unwrap()]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && e.contains("heigth") && e.contains("aldp.toml"),
        "{e}"
    );
    let sys = system(&dir, "");
    std::fs::write(dir.join("one.xyz"), "1\n\nC 0 0 0\n").unwrap();
    let o = tps(&dir, &["energy", sys.to_str().unwrap(), "one.xyz"]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && e.contains("1 atoms") && e.contains("22"),
        "{e}"
    );
    let text = std::fs::read_to_string(&sys)
        .unwrap()
        .replace("aldp.prmtop", "missing.prmtop");
    std::fs::write(&sys, text).unwrap();
    let o = tps(&dir, &["md", sys.to_str().unwrap()]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && e.contains("missing.prmtop"), "{e}");
    assert!(!dir.join("out/aldp_test/md").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
