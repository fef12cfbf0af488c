//! Learning from simulations made elsewhere: trajectories written by OpenMM and MDAnalysis read
//! back with their tools' dihedrals, `tps md`'s own trajectories and PLUMED COLVARs read back as
//! the same samples and weights, and every broken input refused with its file named.

mod common;

use std::path::{Path, PathBuf};

use common::{ROOT, Sandbox, aldp_molecule, failed_with, json, ok};
use tps::data::{DataConfig, read};
use tps::mm::cv::angle_difference;
use tps::systems::System;

const TAIL: &str = r#"
[md]
temperature = 300.0
timestep = 0.002
constraints = "h-bonds"
steps = 40000
walkers = 2
report_every = 500
[metadynamics]
height = 2.0
pace = 250
[states]
C7eq = [-1.37, 0.98]
C7ax = [1.05, -0.72]
[sampling]
chains = 4
replicas = 6
steps = 3000
burn_in = 500
[model]
hidden = 32
blocks = 1
embedding = 16
input_scale = 4.0
path = "model.tpsmodel"
[training]
steps = 150
batch = 128
[geodesic]
points = 24
nodes = 4
[transition]
steps_per_point = 32
paths = 4
backmap_every = 16
"#;

fn system(sb: &Sandbox, file: &str, fes: &str, data: &str) -> PathBuf {
    sb.write(
        file,
        &format!("name = \"aldp_data\"\n{}{data}\n{TAIL}", aldp_molecule(fes)),
    )
}

fn loaded(path: &Path) -> (System, DataConfig) {
    let s = System::load(path).unwrap();
    let d = s.file.data.clone().unwrap();
    (s, d)
}

#[test]
fn trajectories_from_openmm_and_mdanalysis_read_back_with_their_dihedrals() {
    let sb = Sandbox::new("data-tools");
    let sys = system(
        &sb,
        "aldp.toml",
        "fes.dat",
        &format!(
            "[data]\ntrajectories = [\"{ROOT}/tests/fixtures/aldp_openmm.dcd\", \"{ROOT}/tests/fixtures/aldp_mdanalysis.xtc\"]\n"
        ),
    );
    let (s, d) = loaded(&sys);
    let w = read(&d, &s.molecule.as_ref().unwrap().molecule, s.kt()).unwrap();
    let fixture = json(Path::new(&format!(
        "{ROOT}/tests/fixtures/aldp_external.json"
    )));
    let (phi, psi) = (
        fixture["phi"].as_array().unwrap(),
        fixture["psi"].as_array().unwrap(),
    );
    assert_eq!(w.points.len(), 2 * phi.len());
    for (k, p) in w.points.iter().enumerate() {
        let i = k % phi.len();
        // DCD holds float32 Å; XTC 0.001 nm.
        let tol = if k < phi.len() { 1e-4 } else { 0.02 };
        assert!(
            angle_difference(p[0], phi[i].as_f64().unwrap()).abs() < tol,
            "frame {k} φ"
        );
        assert!(
            angle_difference(p[1], psi[i].as_f64().unwrap()).abs() < tol,
            "frame {k} ψ"
        );
    }
    assert!((w.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!(
        (w.effective_samples - w.points.len() as f64).abs() < 1e-6,
        "unbiased: equal weights"
    );
}

#[test]
fn tps_md_output_read_back_gives_the_same_samples_and_weights_and_trains() {
    let sb = Sandbox::new("data-roundtrip");
    let md = system(&sb, "md.toml", "fes.dat", "");
    ok(&sb.tps(&["md", md.to_str().unwrap(), "--seed", "3"]));
    let out = sb.path("out/aldp_data/md");
    // The surface tps md wrote, in PLUMED's grid format, serves as the given surface.
    std::fs::copy(out.join("fes.dat"), sb.path("given_fes.dat")).unwrap();
    let data = "[data]\ntrajectories = [\"out/aldp_data/md/walker_000.dcd\", \"out/aldp_data/md/walker_001.dcd\"]\ncolvar = [\"out/aldp_data/md/colvar_000.dat\", \"out/aldp_data/md/colvar_001.dat\"]\nbias = \"metad.rbias\"\n";
    let sys = system(&sb, "data.toml", "given_fes.dat", data);
    let (s, d) = loaded(&sys);
    let w = read(&d, &s.molecule.as_ref().unwrap().molecule, s.kt()).unwrap();
    // cv.csv: time, walker, phi, psi, bias; its rows per walker in the trajectories' order.
    let csv = std::fs::read_to_string(out.join("cv.csv")).unwrap();
    let rows: Vec<Vec<f64>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    let ordered: Vec<&Vec<f64>> = (0..2)
        .flat_map(|walker| rows.iter().filter(move |r| r[1] == walker as f64))
        .collect();
    assert_eq!(w.points.len(), ordered.len());
    for (p, r) in w.points.iter().zip(&ordered) {
        assert!(
            angle_difference(p[0], r[2]).abs() < 1e-4 && angle_difference(p[1], r[3]).abs() < 1e-4
        );
    }
    // Weights exp(rbias/kT) from the COLVARs, normalised.
    let mut rbias = Vec::new();
    for walker in 0..2 {
        let c = tps::output::colvar::Colvar::read(&out.join(format!("colvar_{walker:03}.dat")))
            .unwrap();
        rbias.extend(c.column("metad.rbias", Path::new("colvar")).unwrap());
    }
    let top = rbias.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let raw: Vec<f64> = rbias.iter().map(|b| ((b - top) / s.kt()).exp()).collect();
    let sum: f64 = raw.iter().sum();
    for (a, b) in w.weights.iter().zip(&raw) {
        assert!((a - b / sum).abs() < 1e-12);
    }
    assert!(
        w.effective_samples < w.points.len() as f64,
        "a bias makes the weights unequal"
    );

    // Train on the data and sample: the given surface is kept, the model names its data.
    let before = std::fs::read(sb.path("given_fes.dat")).unwrap();
    ok(&sb.tps(&["train", sys.to_str().unwrap()]));
    assert_eq!(std::fs::read(sb.path("given_fes.dat")).unwrap(), before);
    let meta = tps::model_file::read_metadata(&sb.path("model.tpsmodel")).unwrap();
    assert!(
        meta.provenance
            .inputs
            .keys()
            .any(|k| k.ends_with("walker_001.dcd"))
            && meta
                .provenance
                .inputs
                .keys()
                .any(|k| k.ends_with("colvar_001.dat"))
    );
    ok(&sb.tps(&[
        "sample",
        sys.to_str().unwrap(),
        "--from",
        "C7eq",
        "--to",
        "C7ax",
    ]));
    let summary = json(&sb.path("out/aldp_data/C7eq-C7ax/summary.json"));
    // A 5,000-step surface is too rough to descend on for the basin: the paths' ends are
    // checked against the state instead.
    assert_eq!(summary["molecule"]["fraction_within_0_75_rad"], 1.0);
}

#[test]
fn broken_external_inputs_are_refused_with_the_file_named() {
    let sb = Sandbox::new("data-bad");
    let md = system(&sb, "md.toml", "fes.dat", "");
    ok(&sb.tps(&["md", md.to_str().unwrap(), "--steps", "5000"]));
    let out = "out/aldp_data/md";
    let colvar = std::fs::read_to_string(sb.path(&format!("{out}/colvar_000.dat"))).unwrap();
    // A COLVAR with a record fewer than the trajectory's frames.
    let mut lines: Vec<&str> = colvar.lines().collect();
    lines.pop();
    sb.write("short.dat", &(lines.join("\n") + "\n"));
    let data = |traj: &str, cv: &str| {
        format!(
            "[data]\ntrajectories = [\"{traj}\"]\ncolvar = [\"{cv}\"]\nbias = \"metad.rbias\"\n"
        )
    };
    let sys = system(
        &sb,
        "a.toml",
        "fes.dat",
        &data(&format!("{out}/walker_000.dcd"), "short.dat"),
    );
    failed_with(
        &sb.tps(&["train", sys.to_str().unwrap()]),
        &["short.dat", "times do not match"],
    );
    // A COLVAR of the other walker: its variables are not this trajectory's.
    let sys = system(
        &sb,
        "b.toml",
        "fes.dat",
        &data(
            &format!("{out}/walker_000.dcd"),
            &format!("{out}/colvar_001.dat"),
        ),
    );
    failed_with(
        &sb.tps(&["train", sys.to_str().unwrap()]),
        &["colvar_001.dat", "not the frames"],
    );
    // A column that is not there.
    let sys = system(
        &sb,
        "c.toml",
        "fes.dat",
        &data(
            &format!("{out}/walker_000.dcd"),
            &format!("{out}/colvar_000.dat"),
        )
        .replace("metad.rbias", "opes.bias"),
    );
    failed_with(
        &sb.tps(&["train", sys.to_str().unwrap()]),
        &["opes.bias", "metad.rbias"],
    );
    // A trajectory of another molecule.
    let sys = system(
        &sb,
        "d.toml",
        "fes.dat",
        &format!("[data]\ntrajectories = [\"{ROOT}/systems/glycine/glycine.pdb\"]\n"),
    );
    failed_with(
        &sb.tps(&["train", sys.to_str().unwrap()]),
        &["glycine.pdb", "19 atoms"],
    );
    // A PLUMED grid with a missing point.
    let fes = std::fs::read_to_string(sb.path(&format!("{out}/fes.dat"))).unwrap();
    let holed: Vec<&str> = fes
        .lines()
        .filter(|l| !l.starts_with("-3.141592654 -3.141592654"))
        .collect();
    sb.write("holed_fes.dat", &(holed.join("\n") + "\n"));
    let sys = system(
        &sb,
        "e.toml",
        "holed_fes.dat",
        &format!("[data]\ntrajectories = [\"{out}/walker_000.dcd\"]\n"),
    );
    failed_with(
        &sb.tps(&["train", sys.to_str().unwrap()]),
        &["holed_fes.dat", "missing"],
    );
    assert!(!sb.path("model.tpsmodel").exists(), "nothing published");
}
