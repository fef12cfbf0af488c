//! Alanine dipeptide end to end on a tiny budget: metadynamics FES → model → paths back-mapped
//! to atoms; the all-atom trajectories must be continuous, physical and agree with the CSV, and
//! the model must refuse a surface it was not trained on.

use crate::common::{Sandbox, aldp, all_atom_path, failed_with, json, ok, stderr, tiny_aldp};
use tps::molecule::Dihedrals;

fn system(sb: &Sandbox, training: &str) -> std::path::PathBuf {
    tiny_aldp(
        sb,
        "aldp.toml",
        "aldp_tiny",
        &[&format!("[training]\n{training}")],
        &[],
    )
}

#[test]
fn aldp_paths_are_continuous_physical_all_atom_movies() {
    let sb = Sandbox::new("aldp");
    let sys = system(&sb, "");
    let s = sys.to_str().unwrap();
    let o = sb.tps(&["sample", s, "--from", "C7eq", "--to", "C7ax"]);
    failed_with(&o, &["run `tps train"]);
    ok(&sb.tps(&["train", s]));
    assert!(sb.path("fes.dat").exists() && sb.path("fes_relaxed.dat").exists());
    // On the grid `[barrier] relaxed_grid` asks for.
    let map = tps::potential::Tabulated::from_file(&sb.path("fes_relaxed.dat"), true).unwrap();
    assert_eq!(map.shape(), (12, 12));
    assert!(
        !sb.path("out").exists(),
        "tps train writes nothing under out/"
    );
    // (a failed `tps sample` before it did not either: it stopped before staging anything)
    let o = sb.tps(&["sample", s, "--from", "C7eq", "--to", "C7ax"]);
    ok(&o);
    let out = sb.path("out/aldp_tiny/C7eq-C7ax");
    let summary = json(&out.join("summary.json"));
    summary_is_physical_and_scored_independently(&summary);

    let (top, ff) = aldp();
    let cv = Dihedrals::dipeptide_backbone(&top).unwrap();
    let within = (0..2)
        .filter(|&k| path_is_a_physical_movie(&out, k, &top, &ff, &cv))
        .count();
    assert_eq!(
        summary["molecule"]["fraction_within_0_75_rad"]
            .as_f64()
            .unwrap(),
        within as f64 / 2.0
    );
    let pdb = std::fs::read_to_string(out.join("topology.pdb")).unwrap();
    assert!(pdb.contains("ALA") && pdb.contains("NME") && pdb.contains("CONECT"));
    assert!(!pdb.contains("CRYST1"));

    // The same system file serves `tps energy`.
    let o = sb.tps(&["energy", s, out.join("path_000.dcd").to_str().unwrap()]);
    ok(&o);

    // No trajectories asked for: statistics and a topology, no movie.
    ok(&sb.tps(&[
        "sample",
        s,
        "--from",
        "C7eq",
        "--to",
        "C7ax",
        "--max-trajectories",
        "0",
        "--out",
        "none",
    ]));
    let bare = sb.path("none/aldp_tiny/C7eq-C7ax");
    assert_eq!(json(&bare.join("summary.json"))["trajectories_written"], 0);
    assert!(bare.join("topology.pdb").exists() && !bare.join("path_000.dcd").exists());

    // A training run that cannot succeed is refused before it touches the surface.
    let fes = std::fs::read(sb.path("fes.dat")).unwrap();
    let bad = system(&sb, "learning_rate = -1");
    failed_with(
        &sb.tps(&["train", bad.to_str().unwrap()]),
        &["training.learning_rate"],
    );
    assert_eq!(std::fs::read(sb.path("fes.dat")).unwrap(), fes);
    // A surface changed behind the model's back is refused.
    let good = system(&sb, "");
    let mut text = String::from_utf8(fes).unwrap();
    text = text.replacen(" 0.000000\n", " 0.500000\n", 1);
    std::fs::write(sb.path("fes.dat"), text).unwrap();
    let o = sb.tps(&[
        "sample",
        good.to_str().unwrap(),
        "--from",
        "C7eq",
        "--to",
        "C7ax",
    ]);
    failed_with(&o, &["another energy surface", "tps train"]);
    let _ = stderr(&o);
}

/// The summary of the tiny run: the relaxed-map barrier of the force field, every input hashed,
/// scored on the independent surface, and back-mapped structures near their targets.
fn summary_is_physical_and_scored_independently(summary: &serde_json::Value) {
    // The relaxed-map barrier depends on the force field only: ≈ 36.4 kJ/mol for this molecule.
    let relaxed = summary["reference"]["relaxed_potential_barrier"]
        .as_f64()
        .unwrap();
    assert!(
        (relaxed - 36.4).abs() < 1.5,
        "relaxed-map barrier {relaxed}"
    );
    assert_eq!(summary["energy_unit"], "kJ/mol");
    let inputs = summary["provenance"]["inputs"].as_object().unwrap();
    assert_eq!(
        inputs.len(),
        6,
        "prmtop, coordinates, model, surface, independent surface and relaxed map hashed: \
         {inputs:?}"
    );
    // Scored on the independent surface that `tps train` made with its own run.
    assert!(
        summary["scored_on"]
            .as_str()
            .unwrap()
            .contains("fes_check.dat"),
        "{}",
        summary["scored_on"]
    );
    assert_eq!(summary["scoring_independent"], true);
    assert!(summary["on_guiding_surface"]["mean"].as_f64().is_some());
    let mol = &summary["molecule"];
    assert!(mol["max_backmap_deviation_rad"].as_f64().unwrap() < 0.1);
    // A 0.2 ns surface is too rough to descend on for the basin: the ends are checked against
    // the state instead.
    assert_eq!(mol["fraction_within_0_75_rad"], 1.0);
    let rmsd = mol["rmsd_to_target_mean_angstrom"].as_f64().unwrap();
    assert!(rmsd > 0.0 && rmsd < 2.0, "heavy-atom RMSD {rmsd} Å");
}

/// Path `k` under `out`: elements named in the XYZ, the DCD's dihedrals those of the CSV, bonds
/// at their rigid lengths, and no jump between frames; whether it ends within 0.75 rad of C7ax.
fn path_is_a_physical_movie(
    out: &std::path::Path,
    k: usize,
    top: &tps::molecule::Topology,
    ff: &tps::molecule::ForceField,
    cv: &Dihedrals,
) -> bool {
    let (frames, rows) = all_atom_path(out, k, top, cv, 3);
    // The XYZ names elements (what MDAnalysis and mdtraj take as species).
    let xyz = std::fs::read_to_string(out.join(format!("path_{k:03}.xyz"))).unwrap();
    let species: Vec<&str> = xyz
        .lines()
        .skip(2)
        .take(22)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert!(
        species.iter().all(|s| ["H", "C", "N", "O"].contains(s)),
        "{species:?}"
    );
    let last = rows.last().unwrap();
    let within = tps::molecule::cv::angle_distance(&last[1..3], &[1.05, -0.72]) <= 0.75;
    for x in &frames {
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
    // Continuous: after superposition, no atom moves more than 0.05 nm between frames.
    let all: Vec<usize> = (0..22).collect();
    for w in frames.windows(2) {
        let rmsd = tps::molecule::align::kabsch_rmsd(&w[0], &w[1], &all);
        assert!(rmsd < 0.05, "jump of {rmsd} nm between frames");
    }
    within
}
