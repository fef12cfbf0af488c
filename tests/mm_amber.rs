//! AMBER topologies as users bring them (the engine's fixtures, crates/mm/tests/fixtures/amber:
//! OpenMM's own PDB names, no ATOMIC_NUMBER, a periodic box) read through the application, and
//! a molecule in implicit solvent through every command. Their energies against OpenMM are the
//! engine's tests (crates/mm/tests/amber.rs).

use std::path::{Path, PathBuf};

use crate::common::{ROOT, Sandbox, failed_with, fixtures, ok, stdout};
use tps::molecule::{ForceField, Prmtop};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(format!("{}/amber/{name}", fixtures()))
}

/// The topology of an engine fixture's prmtop.
fn topology(prmtop: &str) -> tps::molecule::Topology {
    let p = Prmtop::read(&fixture(prmtop)).unwrap();
    ForceField::from_prmtop(&p).unwrap().0
}

#[test]
fn topologies_and_structures_from_other_tools_are_read_as_openmm_reads_them() {
    // Elements from masses when the prmtop has no ATOMIC_NUMBER.
    let with = topology("aldp_obc2.prmtop");
    let without = topology("aldp_no_atomic_number.prmtop");
    assert_eq!(with.atomic_numbers, without.atomic_numbers);
    // A PDB OpenMM wrote (its names for the caps' methyls) read against LEaP's names for
    // them: the same atoms in the same order, accepted, the renaming noted.
    let leap = topology("aldp_leap_names.prmtop");
    let openmm = tps::molecule::chfl::read(&fixture("aldp_openmm_names.pdb"), &leap).unwrap();
    assert_eq!(openmm.renamed.len(), 6, "{:?}", openmm.renamed);
    assert!(
        openmm.renamed[0].contains("H1 for ACE1:HH31"),
        "{:?}",
        openmm.renamed
    );
    let ours =
        tps::molecule::chfl::read(Path::new(&format!("{ROOT}/systems/aldp/aldp.pdb")), &with)
            .unwrap();
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
