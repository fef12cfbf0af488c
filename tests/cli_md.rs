//! `tps md` and `tps energy` end to end, and everything a molecule's input can get wrong.

use std::path::{Path, PathBuf};

use crate::common::{
    MD_ONLY, ROOT, Sandbox, aldp, failed_with, json, ok, stderr, stdout, tiny_aldp,
};
use tps::molecule::chfl;

/// The tiny alanine dipeptide for MD alone: a short unbiased run at 1 fs without constraints,
/// its `[md]` keys replaced by the `md` lines, then `extra` (TOML) on top.
fn system(sb: &Sandbox, md: &str, extra: &str) -> PathBuf {
    tiny_aldp(
        sb,
        "aldp.toml",
        "aldp_test",
        &[
            "[md]\ntimestep = 0.001\nsteps = 4000\nreport_every = 1000\n",
            &format!("[md]\n{md}\n"),
            extra,
        ],
        &MD_ONLY,
    )
}

fn bond_lengths(x: &[[f64; 3]], ff: &tps::molecule::ForceField) -> Vec<(f64, f64, bool)> {
    ff.bonds
        .iter()
        .map(|b| {
            let d = (0..3)
                .map(|k| (x[b.i][k] - x[b.j][k]).powi(2))
                .sum::<f64>()
                .sqrt();
            (d, b.r0, b.hydrogen)
        })
        .collect()
}

#[test]
fn md_writes_readable_trajectories_and_energy_reproduces_them() {
    let sb = Sandbox::new("md-run");
    let sys = system(&sb, "", "[metadynamics]\npace = 500\n");
    let s = sys.to_str().unwrap();
    ok(&sb.tps(&["md", s, "--seed", "4"]));
    let out = sb.path("out/aldp_test/md");
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
    let (top, ff) = aldp();
    let frames = chfl::read(&out.join("walker_000.dcd"), &top)
        .unwrap()
        .frames;
    assert_eq!(frames.len(), 4);
    for x in &frames {
        for (d, _, _) in bond_lengths(x, &ff) {
            assert!((0.09..0.16).contains(&d), "bond at {d} nm");
        }
    }
    // `tps energy` on the DCD matches the energies recorded during the run (DCD is float32).
    let o = sb.tps(&["energy", s, out.join("walker_000.dcd").to_str().unwrap()]);
    ok(&o);
    let totals: Vec<f64> = stdout(&o)
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(8).unwrap().parse().unwrap())
        .collect();
    let recorded = std::fs::read_to_string(out.join("energies.csv")).unwrap();
    let run_totals: Vec<f64> = recorded
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1).unwrap().parse::<f64>().unwrap() == 0.0)
        .map(|l| l.split(',').nth(9).unwrap().parse().unwrap())
        .collect();
    assert_eq!(totals.len(), run_totals.len());
    for (a, b) in totals.iter().zip(&run_totals) {
        assert!((a - b).abs() < 0.05, "{a} vs {b}");
    }
    let summary = json(&out.join("summary.json"));
    assert_eq!(summary["hills"], 16);
    assert_eq!(summary["provenance"]["seed"], 4);
    // 16 hills are too few to judge convergence, and the summary says so.
    assert!(summary["free_energy"]["converged"].is_null());
    assert!(stdout(&sb.tps(&["md", s, "--seed", "4"])).contains("not judged"));
}

#[test]
fn h_bond_constraints_take_effect_in_md() {
    let sb = Sandbox::new("md-shake");
    let sys = system(&sb, "constraints = \"h-bonds\"\ntimestep = 0.002", "");
    ok(&sb.tps(&["md", sys.to_str().unwrap()]));
    let (top, ff) = aldp();
    let frames = chfl::read(&sb.path("out/aldp_test/md/walker_001.dcd"), &top)
        .unwrap()
        .frames;
    for x in &frames {
        for (d, r0, hydrogen) in bond_lengths(x, &ff) {
            if hydrogen {
                // Rigid to the DCD's float32 precision (Å in the file).
                assert!((d - r0).abs() < 2e-6, "H bond {d} vs {r0}");
            }
        }
    }
}

#[test]
fn unstable_dynamics_stop_with_a_clear_error_and_publish_nothing() {
    let sb = Sandbox::new("md-unstable");
    let sys = system(&sb, "timestep = 0.01", "");
    let o = sb.tps(&["md", sys.to_str().unwrap()]);
    failed_with(&o, &["unstable", "md.timestep", "h-bonds"]);
    assert!(!sb.path("out/aldp_test/md").exists());
    assert_eq!(
        std::fs::read_dir(sb.path("out/aldp_test")).unwrap().count(),
        0,
        "no staging directory left"
    );
    for (line, field) in [
        ("timestep = inf", "md.timestep"),
        ("temperature = inf", "md.temperature"),
        ("friction = inf", "md.friction"),
        ("timestep = 0.05", "md.timestep"),
    ] {
        let sys = system(&sb, line, "");
        failed_with(
            &sb.tps(&["md", sys.to_str().unwrap()]),
            &["aldp.toml", field],
        );
    }
}

#[test]
fn a_short_run_is_as_long_as_asked() {
    let sb = Sandbox::new("md-short");
    let sys = system(&sb, "", "");
    ok(&sb.tps(&["md", sys.to_str().unwrap(), "--steps", "500"]));
    let summary = json(&sb.path("out/aldp_test/md/summary.json"));
    assert_eq!(summary["steps_per_walker"], 500);
    let cv = std::fs::read_to_string(sb.path("out/aldp_test/md/cv.csv")).unwrap();
    assert_eq!(
        cv.lines().count(),
        1 + 2,
        "one record per walker at step 500"
    );
    assert!(cv.lines().nth(1).unwrap().starts_with("0.5,"), "{cv}");
}

/// The shipped PDB with the atoms of lines `a` and `b` (0-based atom indices) swapped.
fn swapped_pdb(a: usize, b: usize) -> String {
    let text = std::fs::read_to_string(format!("{ROOT}/systems/aldp/aldp.pdb")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let atoms: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("ATOM") || lines[i].starts_with("HETATM"))
        .collect();
    let (i, j) = (atoms[a], atoms[b]);
    // Swap the records' coordinates and identities but keep the serial numbers in order.
    let (li, lj) = (lines[i].clone(), lines[j].clone());
    lines[i] = format!("{}{}", &li[..11], &lj[11..]);
    lines[j] = format!("{}{}", &lj[..11], &li[11..]);
    lines.join("\n") + "\n"
}

#[test]
fn structures_in_another_atom_order_are_refused_with_the_atom_named() {
    let sb = Sandbox::new("md-order");
    let sys = system(&sb, "", "");
    let s = sys.to_str().unwrap();
    // Atoms 5 (C of ACE) and 7 (N of ALA) swapped: names and elements disagree with the prmtop.
    sb.write("swapped.pdb", &swapped_pdb(4, 6));
    let o = sb.tps(&["energy", s, "swapped.pdb"]);
    failed_with(&o, &["swapped.pdb", "atom 5", "ACE1:C"]);
    let text = std::fs::read_to_string(&sys)
        .unwrap()
        .replace(&format!("{ROOT}/systems/aldp/aldp.pdb"), "swapped.pdb");
    std::fs::write(&sys, text).unwrap();
    let o = sb.tps(&["md", s]);
    failed_with(&o, &["swapped.pdb", "atom 5"]);
    assert!(!sb.path("out/aldp_test/md").exists());
    // An XYZ in reversed order (element symbols only) is refused too.
    let sys = system(&sb, "", "");
    let (top, _) = aldp();
    let x = chfl::read(Path::new(&format!("{ROOT}/systems/aldp/aldp.pdb")), &top)
        .unwrap()
        .frames
        .remove(0);
    let mut xyz = format!("{}\nreversed\n", x.len());
    for i in (0..x.len()).rev() {
        xyz += &format!(
            "{} {} {} {}\n",
            top.element(i),
            10.0 * x[i][0],
            10.0 * x[i][1],
            10.0 * x[i][2]
        );
    }
    sb.write("reversed.xyz", &xyz);
    let o = sb.tps(&["energy", sys.to_str().unwrap(), "reversed.xyz"]);
    failed_with(&o, &["reversed.xyz", "atom 1"]);
    // Coordinates in nm where Å belong: computed, but with a warning.
    let mut nm = format!("{}\nnm\n", x.len());
    for (i, p) in x.iter().enumerate() {
        nm += &format!("{} {} {} {}\n", top.element(i), p[0], p[1], p[2]);
    }
    sb.write("nm.xyz", &nm);
    let o = sb.tps(&["energy", sys.to_str().unwrap(), "nm.xyz"]);
    ok(&o);
    assert!(stderr(&o).contains("nm"), "{}", stderr(&o));
}

#[test]
fn broken_trajectories_are_errors_not_crashes_or_half_reads() {
    let sb = Sandbox::new("md-dcd");
    let sys = system(&sb, "", "");
    let s = sys.to_str().unwrap();
    ok(&sb.tps(&["md", s, "--steps", "4000"]));
    let dcd = std::fs::read(sb.path("out/aldp_test/md/walker_000.dcd")).unwrap();
    // Header only (the first three records).
    let header = 4 + 84 + 4 + (4 + 4 + 80 * 2 + 4) + 12;
    let cut_header = sb.write("header.dcd", "");
    std::fs::write(&cut_header, &dcd[..header.min(dcd.len())]).unwrap();
    let o = sb.tps(&["energy", s, "header.dcd"]);
    failed_with(&o, &["header.dcd"]);
    // Cut in half.
    let half = sb.write("half.dcd", "");
    std::fs::write(&half, &dcd[..dcd.len() / 2]).unwrap();
    let o = sb.tps(&["energy", s, "half.dcd"]);
    failed_with(&o, &["half.dcd", "truncated"]);
    // The same file whole reads.
    let whole = sb.write("whole.dcd", "");
    std::fs::write(&whole, &dcd).unwrap();
    let o = sb.tps(&["energy", s, "whole.dcd"]);
    ok(&o);
    assert_eq!(stdout(&o).lines().count(), 1 + 4);
}

#[test]
fn a_dcd_without_unit_cell_from_mdanalysis_reads() {
    // tests/fixtures/make_mdanalysis_dcd.py: the shipped structure written by MDAnalysis with
    // no box (its unit-cell record holds zeros), and the energies OpenMM gives for it.
    let sb = Sandbox::new("md-mda");
    let sys = system(&sb, "", "");
    let fixture = format!("{ROOT}/tests/fixtures/aldp_mdanalysis.dcd");
    let o = sb.tps(&["energy", sys.to_str().unwrap(), &fixture]);
    ok(&o);
    let expected = json(Path::new(&format!(
        "{ROOT}/tests/fixtures/aldp_mdanalysis.json"
    )));
    let totals: Vec<f64> = stdout(&o)
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(8).unwrap().parse().unwrap())
        .collect();
    let want: Vec<f64> = expected["openmm_total_kj_per_mol"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(totals.len(), want.len());
    for (a, b) in totals.iter().zip(&want) {
        // float32 coordinates: agreement to a few 1e-3 kJ/mol.
        assert!((a - b).abs() < 0.05, "{a} vs OpenMM {b}");
    }
}

#[test]
fn multi_model_pdbs_of_mdanalysis_and_mdtraj_read_as_their_models() {
    // tests/fixtures/make_multimodel_pdbs.py: the five frames of aldp_mdanalysis.dcd as the
    // two libraries write multi-model PDBs (CONECT and END after the last model), with
    // OpenMM's energies of the coordinates the files hold.
    let sb = Sandbox::new("md-models");
    let sys = system(&sb, "", "");
    let expected = json(Path::new(&format!(
        "{ROOT}/tests/fixtures/aldp_models.json"
    )));
    for writer in ["mdanalysis", "mdtraj"] {
        let fixture = format!("{ROOT}/tests/fixtures/aldp_models_{writer}.pdb");
        let o = sb.tps(&["energy", sys.to_str().unwrap(), &fixture]);
        ok(&o);
        let totals: Vec<f64> = stdout(&o)
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(8).unwrap().parse().unwrap())
            .collect();
        let want: Vec<f64> = expected["openmm_total_kj_per_mol"][writer]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(totals.len(), want.len(), "{writer}");
        for (a, b) in totals.iter().zip(&want) {
            // tps prints six decimals.
            assert!((a - b).abs() < 1e-4, "{writer}: {a} vs OpenMM {b}");
        }
    }
}

#[test]
fn atoms_reordered_within_a_residue_or_in_another_residue_are_refused() {
    let sb = Sandbox::new("md-order");
    let sys = system(&sb, "", "");
    let s = sys.to_str().unwrap();
    let pdb = std::fs::read_to_string(format!("{ROOT}/systems/aldp/aldp.pdb")).unwrap();
    // ALA's CA and CB exchanged: the same elements in the same order, the wrong atoms.
    let swapped: String = pdb
        .lines()
        .map(|l| {
            if l.starts_with("ATOM") && &l[12..16] == " CA " {
                format!("{} CB {}", &l[..12], &l[16..])
            } else if l.starts_with("ATOM") && &l[12..16] == " CB " {
                format!("{} CA {}", &l[..12], &l[16..])
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    sb.write("swapped.pdb", &swapped);
    failed_with(
        &sb.tps(&["energy", s, "swapped.pdb"]),
        &["swapped.pdb", "atom 9 is `CB`", "ALA2:CA", "another order"],
    );
    // A remark in Latin-1 is no reason to refuse a structure.
    let mut latin1 = b"REMARK   1 caf\xe9 au lait\n".to_vec();
    latin1.extend(pdb.as_bytes());
    std::fs::write(sb.path("latin1.pdb"), latin1).unwrap();
    ok(&sb.tps(&["energy", s, "latin1.pdb"]));
    sb.write("glycine.pdb", &pdb.replace("ALA A   2", "GLY A   2"));
    failed_with(
        &sb.tps(&["energy", s, "glycine.pdb"]),
        &["glycine.pdb", "residue GLY", "ALA2"],
    );
}

#[test]
fn md_inputs_are_checked() {
    let sb = Sandbox::new("md-bad");
    let sys = system(&sb, "", "[metadynamics]\nheigth = 1.0\n");
    failed_with(
        &sb.tps(&["md", sys.to_str().unwrap()]),
        &["heigth", "aldp.toml"],
    );
    let sys = system(&sb, "", "");
    sb.write("one.xyz", "1\n\nC 0 0 0\n");
    failed_with(
        &sb.tps(&["energy", sys.to_str().unwrap(), "one.xyz"]),
        &["1 atoms", "22"],
    );
    let text = std::fs::read_to_string(&sys)
        .unwrap()
        .replace("aldp.prmtop", "missing.prmtop");
    std::fs::write(&sys, text).unwrap();
    failed_with(&sb.tps(&["md", sys.to_str().unwrap()]), &["missing.prmtop"]);
    assert!(!sb.path("out/aldp_test/md").exists());
    // A collective variable naming an atom the molecule does not have.
    let sys = system(&sb, "", "");
    let text = std::fs::read_to_string(&sys)
        .unwrap()
        .replace("\"2:CA\", \"2:C\"]", "\"2:CX\", \"2:C\"]");
    std::fs::write(&sys, text).unwrap();
    failed_with(
        &sb.tps(&["md", sys.to_str().unwrap()]),
        &["molecule.cv", "no atom CX"],
    );
}

#[test]
fn an_interrupt_or_a_kill_leaves_no_staging_directory_and_the_previous_result() {
    let sb = Sandbox::new("md-interrupt");
    let sys = system(&sb, "", "");
    let s = sys.to_str().unwrap();
    ok(&sb.tps(&["md", s, "--steps", "1000"]));
    let before = std::fs::read(sb.path("out/aldp_test/md/summary.json")).unwrap();
    let parent = sb.path("out/aldp_test");
    // Ctrl-C, and what `kill` and `timeout` send.
    for signal in ["-INT", "-TERM"] {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_tps"))
            .args(["md", s, "--steps", "100000000"])
            .current_dir(&sb.dir)
            .env("RUST_LOG", "warn")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until its staging directory exists, then signal it.
        for _ in 0..200 {
            if std::fs::read_dir(&parent).unwrap().count() > 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(130),
            "{signal}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
        let left: Vec<_> = std::fs::read_dir(&parent)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("md")],
            "{signal}: {left:?}"
        );
        assert_eq!(
            std::fs::read(sb.path("out/aldp_test/md/summary.json")).unwrap(),
            before
        );
    }
}
