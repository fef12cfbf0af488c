//! Learning from simulations made elsewhere: trajectories written by OpenMM and MDAnalysis read
//! back with their tools' dihedrals, `tps md`'s own trajectories and PLUMED COLVARs read back as
//! the same samples and weights, and every broken input refused with its file named.

use std::path::{Path, PathBuf};

use crate::common::{ROOT, Sandbox, failed_with, json, ok, tiny_aldp};
use tps::data::{DataConfig, read};
use tps::molecule::cv::angle_difference;
use tps::potential::Potential;
use tps::system::System;

/// The tiny alanine dipeptide (a shorter run, four paths) with its surface at `fes` and the
/// `[data]` of `data` (TOML).
fn system(sb: &Sandbox, file: &str, fes: &str, data: &str) -> PathBuf {
    let edits = format!(
        "[molecule]\nfree_energy = \"{fes}\"\n[md]\nsteps = 40000\nreport_every = 500\n\
         [model]\npath = \"model.tpsmodel\"\n[transition]\npaths = 4\nbackmap_every = 16\n"
    );
    tiny_aldp(sb, file, "aldp_data", &[&edits, data], &[])
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
    // The README's GROMACS + PLUMED recipe: XTC frames with a COLVAR whose variables PLUMED
    // computed at full precision (here MDAnalysis's from the DCD): XTC's 0.001 nm rounding
    // moves the frames' dihedrals further than 0.01 rad, and that is not a mismatch.
    let n = phi.len();
    let worst = (0..n)
        .map(|i| angle_difference(w.points[n + i][0], phi[i].as_f64().unwrap()).abs())
        .fold(0.0, f64::max);
    assert!(worst > 0.01, "the XTC's rounding is {worst} rad here");
    let mut colvar = String::from("#! FIELDS time phi psi metad.bias\n");
    for i in 0..n {
        colvar += &format!(
            " {} {} {} {}\n",
            i + 1,
            phi[i].as_f64().unwrap(),
            psi[i].as_f64().unwrap(),
            0.1 * i as f64
        );
    }
    sb.write("xtc_colvar.dat", &colvar);
    let sys = system(
        &sb,
        "xtc.toml",
        "fes.dat",
        &format!(
            "[data]\ntrajectories = [\"{ROOT}/tests/fixtures/aldp_mdanalysis.xtc\"]\ncolvar = [\"xtc_colvar.dat\"]\nbias = \"metad.bias\"\n"
        ),
    );
    let (s, d) = loaded(&sys);
    let w = read(&d, &s.molecule.as_ref().unwrap().molecule, s.kt()).unwrap();
    assert_eq!(w.points.len(), n);
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
    samples_and_weights_are_those_of_the_run(&w, &out, s.kt());

    // Train on the data and sample: the given surface is kept, the model names its data.
    let before = std::fs::read(sb.path("given_fes.dat")).unwrap();
    ok(&sb.tps(&["train", sys.to_str().unwrap()]));
    assert_eq!(std::fs::read(sb.path("given_fes.dat")).unwrap(), before);
    let meta = tps::model::file::read_metadata(&sb.path("model.tpsmodel")).unwrap();
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

    // The same frames reweighted to the well-tempered ensemble of the given surface: each
    // frame's weight times exp(−V(φ, ψ)/kT) with the tilt the model records, and the
    // effective samples of both weightings reported.
    let text = std::fs::read_to_string(&sys).unwrap().replace(
        "[training]\n",
        "[training]\nensemble = \"well-tempered\"\nbias_factor = 6.0\n",
    );
    let tilted = sb.write("data_tilted.toml", &text);
    let out = sb.tps(&["train", tilted.to_str().unwrap()]);
    ok(&out);
    let line = crate::common::stdout(&out)
        .lines()
        .find(|l| l.contains("reweighted to the tilted ensemble"))
        .expect("the effective samples of both weightings are reported")
        .to_string();
    let numbers: Vec<f64> = line
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|t| t.parse().ok())
        .collect();
    let meta = tps::model::file::read_metadata(&sb.path("model.tpsmodel")).unwrap();
    let tilt = meta.tilt.expect("tilt recorded");
    assert_eq!(tilt.well_tempered.bias_factor, 6.0);
    let raw: Vec<f64> = w
        .weights
        .iter()
        .zip(&w.points)
        .map(|(w, p)| w * (-tilt.bias.energy(p) / s.kt()).exp())
        .collect();
    let sum: f64 = raw.iter().sum();
    let expected = sum * sum / raw.iter().map(|v| v * v).sum::<f64>();
    assert!(
        (numbers[0] - expected).abs() < 1.0 && (numbers[1] - w.effective_samples).abs() < 1.0,
        "{line}: expected {expected:.0} and {:.0}",
        w.effective_samples
    );
}

/// The weighted samples `w` read from the `tps md` run in `out`: its `cv.csv` rows, walker by
/// walker, and weights `exp(rbias/kT)` from its COLVARs, normalised.
fn samples_and_weights_are_those_of_the_run(w: &tps::data::Weighted, out: &Path, kt: f64) {
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
    let raw: Vec<f64> = rbias.iter().map(|b| ((b - top) / kt).exp()).collect();
    let sum: f64 = raw.iter().sum();
    for (a, b) in w.weights.iter().zip(&raw) {
        assert!((a - b / sum).abs() < 1e-12);
    }
    assert!(
        w.effective_samples < w.points.len() as f64,
        "a bias makes the weights unequal"
    );
}

/// `text` with every line but the header rewritten by `f` (fields as numbers).
fn rewrite(text: &str, mut f: impl FnMut(&[f64]) -> Vec<Vec<f64>>) -> String {
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for l in lines {
        let v: Vec<f64> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
        for row in f(&v) {
            let fields: Vec<String> = row.iter().map(|x| format!("{x:.9}")).collect();
            out += &format!(" {}\n", fields.join(" "));
        }
    }
    out
}

#[test]
fn colvars_as_plumed_writes_them_are_matched_to_the_frames_by_time() {
    let sb = Sandbox::new("data-plumed");
    let md = system(&sb, "md.toml", "fes.dat", "");
    ok(&sb.tps(&["md", md.to_str().unwrap(), "--steps", "5000"]));
    let out = "out/aldp_data/md";
    let colvar = std::fs::read_to_string(sb.path(&format!("{out}/colvar_000.dat"))).unwrap();
    let weights = |cv: &str| {
        let sys = system(
            &sb,
            "p.toml",
            "fes.dat",
            &format!(
                "[data]\ntrajectories = [\"{out}/walker_000.dcd\"]\ncolvar = [\"{cv}\"]\nbias = \"metad.rbias\"\n"
            ),
        );
        let (s, d) = loaded(&sys);
        read(&d, &s.molecule.as_ref().unwrap().molecule, s.kt())
    };
    let own = weights(&format!("{out}/colvar_000.dat")).unwrap();
    // PLUMED's record at step 0 (no frame is written there) is recognised and left out.
    let mut first = true;
    let with_zero = rewrite(&colvar, |v| {
        let mut rows = Vec::new();
        if std::mem::take(&mut first) {
            rows.push(vec![0.0, 0.1, 0.2, 0.0, 0.0]);
        }
        rows.push(v.to_vec());
        rows
    });
    sb.write("zero.dat", &with_zero);
    let w = weights("zero.dat").unwrap();
    assert_eq!(w.points, own.points);
    assert_eq!(w.weights, own.weights);
    assert!(
        w.warnings.iter().any(|m| m.contains("t = 0")),
        "{:?}",
        w.warnings
    );
    // A COLVAR written twice as often as the frames: the record at each frame's time is its.
    let finer = rewrite(&colvar, |v| {
        let mut half = v.to_vec();
        half[0] -= 0.5;
        half[4] += 7.0;
        vec![half, v.to_vec()]
    });
    sb.write("finer.dat", &finer);
    let w = weights("finer.dat").unwrap();
    assert_eq!(w.weights, own.weights);
    // A restart (PLUMED's RESTART, GROMACS's -append): the run wrote records to t = 8 ps,
    // was lost back to t = 5 ps and wrote them again. The records written first for 6–8 ps,
    // here with another bias, are the lost segment's and must not be used.
    let mut lines = colvar.lines();
    let header = lines.next().unwrap();
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect())
        .collect();
    let in_lost = |r: &Vec<f64>| r[0] > 5.0 + 1e-9 && r[0] <= 8.0 + 1e-9;
    let mut restarted = format!("{header}\n");
    let line = |r: &[f64]| {
        let cells: Vec<String> = r.iter().map(|x| format!("{x:.9}")).collect();
        format!(" {}\n", cells.join(" "))
    };
    for r in &rows {
        if (r[0] - 6.0).abs() < 1e-9 {
            for l in rows.iter().filter(|r| in_lost(r)) {
                let mut l = l.clone();
                l[4] += 7.0;
                restarted += &line(&l);
            }
        }
        restarted += &line(r);
    }
    assert_eq!(restarted.lines().count(), colvar.lines().count() + 3);
    sb.write("restart.dat", &restarted);
    let w = weights("restart.dat").unwrap();
    assert_eq!(w.weights, own.weights);
    // Variables in degrees are refused, not read as radians.
    let degrees = rewrite(&colvar, |v| {
        vec![vec![v[0], v[1].to_degrees(), v[2].to_degrees(), v[3], v[4]]]
    });
    sb.write("degrees.dat", &degrees);
    let e = weights("degrees.dat").unwrap_err().to_string();
    assert!(e.contains("degrees.dat") && e.contains("degrees"), "{e}");
}

#[test]
fn colvars_that_are_not_the_frames_are_refused_with_the_file_named() {
    let sb = Sandbox::new("data-colvars");
    let out = short_md_run(&sb);
    let colvar = std::fs::read_to_string(sb.path(&format!("{out}/colvar_000.dat"))).unwrap();
    // A COLVAR with a record fewer than the trajectory's frames.
    let mut lines: Vec<&str> = colvar.lines().collect();
    lines.pop();
    sb.write("short.dat", &(lines.join("\n") + "\n"));
    train_refused(
        &sb,
        "a.toml",
        "fes.dat",
        &colvar_data(&format!("{out}/walker_000.dcd"), "short.dat"),
        &[
            "short.dat",
            "cannot be matched",
            "no record at t = 10.000 ps (frame 9)",
        ],
    );
    // A COLVAR of the other walker: its variables are not this trajectory's.
    train_refused(
        &sb,
        "b.toml",
        "fes.dat",
        &colvar_data(
            &format!("{out}/walker_000.dcd"),
            &format!("{out}/colvar_001.dat"),
        ),
        &["colvar_001.dat", "not the frames"],
    );
    // A column that is not there.
    train_refused(
        &sb,
        "c.toml",
        "fes.dat",
        &colvar_data(
            &format!("{out}/walker_000.dcd"),
            &format!("{out}/colvar_000.dat"),
        )
        .replace("metad.rbias", "opes.bias"),
        &["opes.bias", "metad.rbias"],
    );
}

#[test]
fn broken_external_inputs_are_refused_with_the_file_named() {
    let sb = Sandbox::new("data-bad");
    let out = short_md_run(&sb);
    // A trajectory of another molecule.
    train_refused(
        &sb,
        "d.toml",
        "fes.dat",
        &format!("[data]\ntrajectories = [\"{ROOT}/systems/glycine/glycine.pdb\"]\n"),
        &["glycine.pdb", "19 atoms"],
    );
    // Frames for a Cartesian molecule, which learns from its own metadynamics: refused when
    // the file is read, by every command, naming the file and the field.
    let sys = system(
        &sb,
        "e.toml",
        "fes.dat",
        &format!(
            "[molecule]\nrepresentation = \"cartesian\"\n{}",
            colvar_data(
                &format!("{out}/walker_000.dcd"),
                &format!("{out}/colvar_000.dat")
            )
        ),
    );
    for command in ["train", "sample"] {
        let mut args = vec![command, sys.to_str().unwrap()];
        if command == "sample" {
            args.extend(["--from", "C7eq", "--to", "C7ax"]);
        }
        failed_with(
            &sb.tps(&args),
            &[
                "e.toml",
                "data",
                "a Cartesian molecule learns from its own metadynamics",
            ],
        );
    }
    // A trajectory not yet simulated: the step that makes it is named.
    train_refused(
        &sb,
        "m.toml",
        "fes.dat",
        "[data]\ntrajectories = [\"not_yet.dcd\"]\n",
        &[
            "data.trajectories",
            "not_yet.dcd",
            "does not exist",
            "tps md",
        ],
    );
    // A frame whose coordinate is not a number is named with its file and frame, at once
    // (a DCD holds NaN as it is; text formats are refused by chemfiles while reading).
    let (s, _) = loaded(&system(
        &sb,
        "w.toml",
        "fes.dat",
        &format!("[data]\ntrajectories = [\"{out}/walker_000.dcd\"]\n"),
    ));
    let molecule = &s.molecule.as_ref().unwrap().molecule;
    let mut frames = vec![molecule.positions.clone(); 3];
    frames[2][4][0] = f64::NAN;
    molecule
        .writer()
        .write(&sb.path("nan.dcd"), "DCD", &frames)
        .unwrap();
    train_refused(
        &sb,
        "n.toml",
        "fes.dat",
        "[data]\ntrajectories = [\"nan.dcd\"]\n",
        &["nan.dcd", "frame 2", "atom 5", "non-finite"],
    );
    // A PLUMED grid with a missing point.
    let fes = std::fs::read_to_string(sb.path(&format!("{out}/fes.dat"))).unwrap();
    let holed: Vec<&str> = fes
        .lines()
        .filter(|l| !l.starts_with("-3.141592654 -3.141592654"))
        .collect();
    sb.write("holed_fes.dat", &(holed.join("\n") + "\n"));
    train_refused(
        &sb,
        "e.toml",
        "holed_fes.dat",
        &format!("[data]\ntrajectories = [\"{out}/walker_000.dcd\"]\n"),
        &["holed_fes.dat", "missing"],
    );
    assert!(!sb.path("model.tpsmodel").exists(), "nothing published");
}

#[test]
fn an_openmm_metadynamics_run_as_the_recipe_writes_it_is_read_and_weighted() {
    let sb = Sandbox::new("data-openmm");
    let run = format!("{ROOT}/tests/fixtures/openmm_metad");
    let data = |bias: &str, colvar: &str| {
        let sys = system(
            &sb,
            &format!("{bias}.toml"),
            &format!("{run}/fes.dat"),
            &format!(
                "[data]\ntrajectories = [\"{run}/trajectory.dcd\"]\ncolvar = [\"{colvar}\"]\nbias = \"{bias}\"\n"
            ),
        );
        let (s, d) = loaded(&sys);
        (
            read(&d, &s.molecule.as_ref().unwrap().molecule, s.kt()),
            s.kt(),
        )
    };
    let colvar_path = PathBuf::from(format!("{run}/colvar.dat"));
    let colvar = tps::output::colvar::Colvar::read(&colvar_path).unwrap();
    let column = |name: &str| colvar.column(name, &colvar_path).unwrap();
    let (time, phi, psi, rbias) = (
        column("time"),
        column("phi"),
        column("psi"),
        column("metad.rbias"),
    );
    // 401 records from t = 0 every 0.25 ps; 200 frames every 0.5 ps from 0.5 ps.
    assert_eq!(time.len(), 401);
    let (w, kt) = data("metad.rbias", &colvar_path.to_string_lossy());
    let w = w.unwrap();
    assert_eq!(w.points.len(), 200);
    assert!(
        w.warnings
            .iter()
            .any(|m| m.contains("201 record(s) without a frame")),
        "{:?}",
        w.warnings
    );
    // Each frame gets the record at its time: OpenMM's variables, and exp(rbias/kT).
    let at: Vec<usize> = (0..200).map(|k| 2 * (k + 1)).collect();
    for (p, &r) in w.points.iter().zip(&at) {
        assert!((time[r] - 0.5 * (r / 2) as f64).abs() < 1e-9);
        assert!(angle_difference(p[0], phi[r]).abs() < 1e-4, "record {r}");
        assert!(angle_difference(p[1], psi[r]).abs() < 1e-4, "record {r}");
    }
    let raw: Vec<f64> = at.iter().map(|&r| (rbias[r] / kt).exp()).collect();
    let sum: f64 = raw.iter().sum();
    for (a, b) in w.weights.iter().zip(&raw) {
        assert!((a - b / sum).abs() < 1e-12);
    }
    // 100 ps leave few effective samples (said), but not the lopsided weights of a missing c(t).
    assert!(
        w.warnings
            .iter()
            .any(|m| m.contains("effective samples") && m.contains("too few"))
            && !w.warnings.iter().any(|m| m.contains("c(t)")),
        "{:?}",
        w.warnings
    );
    // The bias as felt, without c(t): weights this uneven are flagged.
    let (w, _) = data("metad.bias", &colvar_path.to_string_lossy());
    let w = w.unwrap();
    assert!(
        w.warnings
            .iter()
            .any(|m| m.contains("effective samples") && m.contains("c(t)")),
        "{:?} (effective {})",
        w.warnings,
        w.effective_samples
    );
    // The same records in degrees are refused, the unit named.
    let text = std::fs::read_to_string(&colvar_path).unwrap();
    let degrees = rewrite(&text, |v| {
        vec![vec![v[0], v[1].to_degrees(), v[2].to_degrees(), v[3], v[4]]]
    });
    let path = sb.write("degrees.dat", &degrees);
    let e = data("metad.rbias", &path.to_string_lossy())
        .0
        .unwrap_err()
        .to_string();
    assert!(e.contains("degrees.dat") && e.contains("degrees"), "{e}");
}

/// `tps train` on the tiny molecule written as `file` (surface `fes`, `[data]` of `data`)
/// fails with every needle in its message.
fn train_refused(sb: &Sandbox, file: &str, fes: &str, data: &str, needles: &[&str]) {
    let sys = system(sb, file, fes, data);
    failed_with(&sb.tps(&["train", sys.to_str().unwrap()]), needles);
}

/// A 5,000-step `tps md` run of the tiny molecule in `sb`; returns its output folder.
fn short_md_run(sb: &Sandbox) -> &'static str {
    let md = system(sb, "md.toml", "fes.dat", "");
    ok(&sb.tps(&["md", md.to_str().unwrap(), "--steps", "5000"]));
    "out/aldp_data/md"
}

/// A `[data]` section of one trajectory and its COLVAR, reweighted by `metad.rbias`.
fn colvar_data(trajectory: &str, colvar: &str) -> String {
    format!(
        "[data]\ntrajectories = [\"{trajectory}\"]\ncolvar = [\"{colvar}\"]\nbias = \"metad.rbias\"\n"
    )
}
