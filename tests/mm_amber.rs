//! AMBER topologies as users bring them (tests/fixtures/make_amber_fixtures.py: ParmEd-written
//! prmtops, OpenMM's own PDB names, no ATOMIC_NUMBER, a periodic box) against OpenMM's
//! Reference platform: per-term energies and total forces in vacuum, with CMAP (ff19SB) and with
//! OBC2 implicit solvent, on alanine dipeptide and a 2,333-atom protein.

mod common;

use std::path::{Path, PathBuf};

use common::{ROOT, Sandbox, failed_with, ok, stdout};
use tps::mm::{ForceField, Prmtop, Term};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(format!("{ROOT}/tests/fixtures/amber/{name}"))
}

fn reference() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("amber_energies.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn load(prmtop: &str, solvent: &str) -> (tps::mm::Topology, ForceField) {
    let p = Prmtop::read(&fixture(prmtop)).unwrap();
    let (top, ff) = ForceField::from_prmtop(&p).unwrap();
    let ff = if solvent == "obc2" {
        ff.with_solvation(ForceField::obc2(&p, &top).unwrap())
    } else {
        ff
    };
    (top, ff)
}

fn vectors(v: &serde_json::Value) -> Vec<[f64; 3]> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| std::array::from_fn(|k| p[k].as_f64().unwrap()))
        .collect()
}

#[test]
fn energies_and_forces_match_openmm_in_vacuum_with_cmap_and_in_implicit_solvent() {
    let doc = reference();
    for (name, case) in doc["cases"].as_object().unwrap() {
        let (_, ff) = load(
            case["prmtop"].as_str().unwrap(),
            case["solvent"].as_str().unwrap(),
        );
        for (k, frame) in case["frames"].as_array().unwrap().iter().enumerate() {
            let x = vectors(&frame["positions"]);
            let mut f = vec![[0.0; 3]; x.len()];
            let e = ff.compute(&x, &mut f);
            let want = &frame["energy"];
            let terms = [
                ("bond", e.bond),
                ("angle", e.angle),
                ("torsion", e.torsion),
                ("cmap", e.cmap),
                ("nonbonded", e.lj + e.coulomb),
                ("solvation", e.solvation),
                ("total", e.total()),
            ];
            for (term, got) in terms {
                let w = want[term].as_f64().unwrap_or(0.0);
                let tolerance = 1e-6 * w.abs().max(1.0);
                assert!(
                    (got - w).abs() < tolerance,
                    "{name} frame {k} {term}: {got} vs OpenMM {w}"
                );
            }
            let reference = vectors(&frame["forces"]);
            let largest = reference
                .iter()
                .flatten()
                .fold(0.0f64, |m, v| m.max(v.abs()));
            for (i, (a, b)) in f.iter().zip(&reference).enumerate() {
                for c in 0..3 {
                    assert!(
                        (a[c] - b[c]).abs() < 1e-6 * largest,
                        "{name} frame {k} atom {i}: force {} vs OpenMM {} (largest {largest})",
                        a[c],
                        b[c]
                    );
                }
            }
        }
    }
}

#[test]
fn forces_with_cmap_and_implicit_solvent_are_the_gradient() {
    for (prmtop, solvent, term) in [
        ("aldp_ff19sb.prmtop", "vacuum", Term::Cmap),
        ("aldp_obc2.prmtop", "obc2", Term::Solvation),
    ] {
        let (_, ff) = load(prmtop, solvent);
        let doc = reference();
        let case = doc["cases"]
            .as_object()
            .unwrap()
            .values()
            .find(|c| c["prmtop"] == prmtop)
            .unwrap();
        let x = vectors(&case["frames"][3]["positions"]);
        let mut f = vec![[0.0; 3]; x.len()];
        let e = ff.compute_terms(&x, &mut f, &[term]);
        assert!(e.of(term).abs() > 1.0, "{prmtop}: the term is there");
        let d = 1e-6;
        for i in 0..x.len() {
            for c in 0..3 {
                let mut g = vec![[0.0; 3]; x.len()];
                let (mut xp, mut xm) = (x.clone(), x.clone());
                xp[i][c] += d;
                xm[i][c] -= d;
                let fd = -(ff.compute_terms(&xp, &mut g, &[term]).of(term)
                    - ff.compute_terms(&xm, &mut g, &[term]).of(term))
                    / (2.0 * d);
                assert!(
                    (f[i][c] - fd).abs() < 1e-4 * fd.abs().max(1.0),
                    "{prmtop} atom {i}: {} vs {fd}",
                    f[i][c]
                );
            }
        }
    }
}

#[test]
fn topologies_and_structures_from_other_tools_are_read_as_openmm_reads_them() {
    // Elements from masses when the prmtop has no ATOMIC_NUMBER.
    let (with, _) = load("aldp_obc2.prmtop", "vacuum");
    let (without, _) = load("aldp_no_atomic_number.prmtop", "vacuum");
    assert_eq!(with.atomic_numbers, without.atomic_numbers);
    // A PDB OpenMM wrote (its names for the caps' methyls) read against LEaP's names for
    // them: the same atoms in the same order, accepted, the renaming noted.
    let (leap, _) = load("aldp_leap_names.prmtop", "vacuum");
    let openmm = tps::mm::chfl::read(&fixture("aldp_openmm_names.pdb"), &leap).unwrap();
    assert_eq!(openmm.renamed.len(), 6, "{:?}", openmm.renamed);
    assert!(
        openmm.renamed[0].contains("H1 for ACE1:HH31"),
        "{:?}",
        openmm.renamed
    );
    let ours =
        tps::mm::chfl::read(Path::new(&format!("{ROOT}/systems/aldp/aldp.pdb")), &with).unwrap();
    for (a, b) in openmm.frames[0].iter().zip(&ours.frames[0]) {
        assert!((0..3).all(|k| (a[k] - b[k]).abs() < 1e-4));
    }
    // A periodic, solvated topology is refused with the flag named and the remedy.
    let p = Prmtop::read(&fixture("aldp_solvated.prmtop")).unwrap();
    let e = ForceField::from_prmtop(&p).unwrap_err().to_string();
    assert!(e.contains("IFBOX") && e.contains("strip"), "{e}");
}

#[test]
fn a_molecule_in_implicit_solvent_runs_through_every_command() {
    let sb = Sandbox::new("obc2");
    let system = |solvent: &str, prmtop: &str| {
        sb.write(
            "obc2.toml",
            &format!(
                r#"name = "aldp_obc2"
[molecule]
prmtop = "{}"
coordinates = "{}"
solvent = "{solvent}"
cv = [
    {{ name = "phi", atoms = ["1:C", "2:N", "2:CA", "2:C"] }},
    {{ name = "psi", atoms = ["2:N", "2:CA", "2:C", "3:N"] }},
]
[md]
steps = 2000
report_every = 500
[states]
C7eq = [-1.37, 0.98]
C7ax = [1.05, -0.72]
"#,
                fixture(prmtop).display(),
                fixture("aldp_openmm_names.pdb").display()
            ),
        )
    };
    // No free_energy given: `tps energy` does not need one.
    let s = system("obc2", "aldp_obc2.prmtop");
    let o = sb.tps(&[
        "energy",
        s.to_str().unwrap(),
        &format!("{ROOT}/systems/aldp/aldp.pdb"),
    ]);
    ok(&o);
    let row: Vec<f64> = stdout(&o)
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    // The solvation column: a polar peptide is stabilised by water by tens of kJ/mol.
    assert!(row[7] < -10.0, "solvation {}", row[7]);
    ok(&sb.tps(&["md", s.to_str().unwrap()]));
    // A topology without radii cannot be solvated: the file is named.
    let s = system("obc2", "aldp_ff19sb.prmtop");
    let text = std::fs::read_to_string(fixture("aldp_ff19sb.prmtop")).unwrap();
    let start = text.find("%FLAG RADII").unwrap();
    let end = text[start + 5..].find("%FLAG").unwrap() + start + 5;
    sb.write(
        "noradii.prmtop",
        &format!("{}{}", &text[..start], &text[end..]),
    );
    let noradii = std::fs::read_to_string(&s).unwrap().replace(
        &fixture("aldp_ff19sb.prmtop").display().to_string(),
        &sb.path("noradii.prmtop").display().to_string(),
    );
    std::fs::write(&s, noradii).unwrap();
    failed_with(
        &sb.tps(&["md", s.to_str().unwrap()]),
        &["noradii.prmtop", "RADII"],
    );
}
