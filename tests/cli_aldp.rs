//! Alanine dipeptide end to end on a tiny budget: metadynamics FES → model → paths back-mapped
//! to atoms; the all-atom trajectories must be continuous, physical and agree with the CSV.

use std::path::{Path, PathBuf};
use std::process::Command;

fn write_system(dir: &Path) -> PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::write(
        dir.join("md.toml"),
        format!(
            r#"name = "aldp_tiny"
[molecule]
prmtop = "{root}/systems/aldp/aldp.prmtop"
coordinates = "{root}/systems/aldp/aldp.pdb"
[md]
temperature = 300.0
timestep = 0.002
constraints = "h-bonds"
steps = 100000
walkers = 2
report_every = 5000
[metadynamics]
height = 2.0
pace = 250
"#
        ),
    )
    .unwrap();
    let p = dir.join("aldp.toml");
    std::fs::write(
        &p,
        r#"name = "aldp_tiny"
kT = 2.494339
domain = [[-3.141592653589793, 3.141592653589793], [-3.141592653589793, 3.141592653589793]]
[potential]
kind = "molecule"
md = "md.toml"
fes = "fes.dat"
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
path = "aldp_tiny.tpsmodel"
[training]
steps = 150
batch = 128
[geodesic]
points = 24
nodes = 4
steps = 200
[transition]
steps_per_point = 32
paths = 2
backmap_every = 8
"#,
    )
    .unwrap();
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

fn dihedral(x: &[[f64; 3]], a: [usize; 4]) -> f64 {
    tps::mm::forcefield::dihedral(x, a)
}

#[test]
fn aldp_paths_are_continuous_physical_all_atom_movies() {
    let dir = std::env::temp_dir().join(format!("tps-aldp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sys = write_system(&dir);
    let s = sys.to_str().unwrap();
    let o = tps(&dir, &["sample", s, "--from", "C7eq", "--to", "C7ax"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("run `tps train"));
    let o = tps(&dir, &["train", s]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(dir.join("fes.dat").exists());
    let o = tps(&dir, &["sample", s, "--from", "C7eq", "--to", "C7ax"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.join("out/aldp_tiny/C7eq-C7ax");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    // The relaxed-map barrier depends on the force field only: ≈ 36.4 kJ/mol for this molecule.
    let relaxed = summary["reference"]["relaxed_potential_barrier"]
        .as_f64()
        .unwrap();
    assert!(
        (relaxed - 36.4).abs() < 1.5,
        "relaxed-map barrier {relaxed}"
    );
    let mol = &summary["molecule"];
    assert!(mol["max_backmap_deviation_rad"].as_f64().unwrap() < 0.1);
    // This tiny model's paths end in the C7ax basin, not necessarily at its minimum.
    assert_eq!(summary["path_results"]["end_states"][0], "C7ax");
    let rmsd = mol["rmsd_to_target_mean_nm"].as_f64().unwrap();
    assert!(rmsd > 0.0 && rmsd < 0.2, "heavy-atom RMSD {rmsd}");
    let mut within = 0;

    let p = tps::mm::Prmtop::read(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systems/aldp/aldp.prmtop"
    )))
    .unwrap();
    let (top, ff) = tps::mm::ForceField::from_prmtop(&p).unwrap();
    let cv = tps::mm::Backbone::dipeptide(&top).unwrap();
    for k in 0..2 {
        let frames =
            tps::output::trajectory::read_molecule_frames(&out.join(format!("path_{k:03}.dcd")))
                .unwrap();
        let csv = std::fs::read_to_string(out.join(format!("path_{k:03}.csv"))).unwrap();
        let rows: Vec<Vec<f64>> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
            .collect();
        assert_eq!(frames.len(), rows.len());
        let last = rows.last().unwrap();
        let d = tps::mm::cv::angle_difference(last[1], 1.05)
            .hypot(tps::mm::cv::angle_difference(last[2], -0.72));
        within += usize::from(d <= 0.75);
        assert_eq!(frames[0].len(), 22);
        for (x, row) in frames.iter().zip(&rows) {
            // The DCD's dihedrals are the CSV's (float32 coordinates).
            let (phi, psi) = (dihedral(x, cv.phi), dihedral(x, cv.psi));
            assert!(tps::mm::cv::angle_difference(phi, row[3]).abs() < 1e-3);
            assert!(tps::mm::cv::angle_difference(psi, row[4]).abs() < 1e-3);
            for b in &ff.bonds {
                let d: f64 = (0..3)
                    .map(|c| (x[b.i][c] - x[b.j][c]).powi(2))
                    .sum::<f64>()
                    .sqrt();
                assert!(
                    (d - b.r0).abs() < 0.01,
                    "bond {}-{}: {d} vs {}",
                    b.i,
                    b.j,
                    b.r0
                );
            }
        }
        // Continuous: after superposition, no atom moves more than 0.1 nm between frames.
        let all: Vec<usize> = (0..22).collect();
        for w in frames.windows(2) {
            let rmsd = tps::mm::backmap::kabsch_rmsd(&w[0], &w[1], &all);
            assert!(rmsd < 0.05, "jump of {rmsd} nm between frames");
        }
    }
    assert_eq!(
        mol["fraction_within_0_75_rad"].as_f64().unwrap(),
        within as f64 / 2.0
    );
    let pdb = std::fs::read_to_string(out.join("topology.pdb")).unwrap();
    assert!(pdb.contains("ALA") && pdb.contains("NME") && pdb.contains("CONECT"));
    let _ = std::fs::remove_dir_all(&dir);
}
