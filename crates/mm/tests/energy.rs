//! The force field against OpenMM's Reference platform (fixtures/aldp_energies.json,
//! made by fixtures/make_aldp_energies.py) and against finite differences.

mod common;

use common::{aldp as load, fixture, positions};
use tps_mm::{AtomSpec, ForceField, Prmtop, Term};

#[test]
fn topology_is_alanine_dipeptide() {
    let (top, ff) = load();
    assert_eq!(top.len(), 22);
    assert_eq!(top.residue_names, ["ACE", "ALA", "NME"]);
    assert_eq!(ff.bonds.len(), 21);
    assert!((top.charges.iter().sum::<f64>()).abs() < 1e-6, "neutral");
    let named = |s: &str| top.find(&AtomSpec::Named(s.into()));
    assert_eq!(named("ALA2:CA").unwrap(), named("2:CA").unwrap());
    assert_eq!(top.names[named("3:N").unwrap()], "N");
    assert_eq!(top.find(&AtomSpec::Serial(1)).unwrap(), 0);
    let e = named("GLY2:CA").unwrap_err().to_string();
    assert!(
        e.contains("residue 2 is ALA") && e.contains("ACE1 ALA2 NME3"),
        "{e}"
    );
    assert!(top.find(&AtomSpec::Serial(23)).is_err());
}

#[test]
fn every_term_matches_openmm_on_105_conformations() {
    let (top, ff) = load();
    let doc = fixture();
    let frames = doc["frames"].as_array().unwrap();
    assert!(frames.len() >= 100);
    let terms = [
        ("bond", Term::Bond),
        ("angle", Term::Angle),
        ("torsion", Term::Torsion),
        ("lj", Term::LennardJones),
        ("coulomb", Term::Coulomb),
    ];
    let mut forces = vec![[0.0; 3]; top.len()];
    let mut worst = (0.0f64, String::new());
    for frame in frames {
        let x = positions(frame);
        for (name, term) in terms {
            let e = ff.compute_terms(&x, &mut forces, &[term]);
            let got = e.of(term);
            let want = frame["energy"][name].as_f64().unwrap();
            let rel = (got - want).abs() / want.abs().max(1e-3);
            if rel > worst.0 {
                worst = (rel, format!("{} {name}: {got} vs {want}", frame["label"]));
            }
            // Per-term forces: relative to the largest force of that term in the frame.
            let ref_f: Vec<Vec<f64>> = frame["forces"][name]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| {
                    v.as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c.as_f64().unwrap())
                        .collect()
                })
                .collect();
            let scale = ref_f
                .iter()
                .flatten()
                .fold(0.0f64, |m, v| m.max(v.abs()))
                .max(1e-3);
            for (a, b) in forces.iter().zip(&ref_f) {
                for k in 0..3 {
                    assert!(
                        (a[k] - b[k]).abs() < 1e-6 * scale,
                        "{} {name} force: {} vs {}",
                        frame["label"],
                        a[k],
                        b[k]
                    );
                }
            }
        }
        let total = ff.compute(&x, &mut forces).total();
        let want = frame["energy"]["total"].as_f64().unwrap();
        assert!(
            (total - want).abs() < 1e-6 * want.abs().max(1.0),
            "{}: total {total} vs {want}",
            frame["label"]
        );
    }
    assert!(
        worst.0 < 1e-6,
        "worst relative energy error {:.2e}: {}",
        worst.0,
        worst.1
    );
}

#[test]
fn forces_are_minus_the_gradient() {
    let (top, ff) = load();
    let doc = fixture();
    let x0 = positions(&doc["frames"][30]);
    let mut f = vec![[0.0; 3]; top.len()];
    ff.compute(&x0, &mut f);
    let h = 1e-6;
    let mut scratch = vec![[0.0; 3]; top.len()];
    for i in 0..top.len() {
        for k in 0..3 {
            let mut x = x0.clone();
            x[i][k] += h;
            let ep = ff.compute(&x, &mut scratch).total();
            x[i][k] -= 2.0 * h;
            let em = ff.compute(&x, &mut scratch).total();
            let fd = -(ep - em) / (2.0 * h);
            assert!(
                (fd - f[i][k]).abs() < 1e-4 * f[i][k].abs().max(10.0),
                "atom {i} axis {k}: {fd} vs {}",
                f[i][k]
            );
        }
    }
}

#[test]
fn malformed_prmtop_reports_line_and_flag() {
    let text =
        std::fs::read_to_string(format!("{}/systems/aldp/aldp.prmtop", common::root())).unwrap();
    let broken = text.replacen(
        "%FLAG MASS\n%FORMAT(5E16.8)\n  1.20107800E+01",
        "%FLAG MASS\n%FORMAT(5E16.8)\n  1.2O107800E+01",
        1,
    );
    assert_ne!(broken, text);
    let p = Prmtop::parse(&broken, "broken.prmtop").unwrap();
    let e = ForceField::from_prmtop(&p).unwrap_err().to_string();
    assert!(
        e.contains("broken.prmtop") && e.contains("MASS") && e.contains("line"),
        "{e}"
    );
    let e = Prmtop::parse("hello\n", "x.prmtop")
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("POINTERS"), "{e}");
}

#[test]
fn a_second_molecule_matches_openmm_too() {
    // Glycine dipeptide (systems/glycine, tests/fixtures/make_glycine_energies.py): the
    // minimum and 21 frames of 300-900 K dynamics.
    let p = Prmtop::read(std::path::Path::new(&format!(
        "{}/systems/glycine/glycine.prmtop",
        common::root()
    )))
    .unwrap();
    let (top, ff) = ForceField::from_prmtop(&p).unwrap();
    assert_eq!(top.len(), 19);
    assert_eq!(top.residue_names, ["ACE", "GLY", "NME"]);
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/glycine_energies.json",
        common::root()
    ))
    .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let frames = doc["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 22);
    let mut f = vec![[0.0; 3]; top.len()];
    for frame in frames {
        let x = positions(frame);
        let e = ff.compute(&x, &mut f).total();
        let want = frame["total"].as_f64().unwrap();
        assert!(
            (e - want).abs() < 1e-6 * want.abs().max(10.0),
            "{}: {e} vs OpenMM {want}",
            frame["label"]
        );
        let fo = frame["forces"].as_array().unwrap();
        let scale = fo
            .iter()
            .flat_map(|v| {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_f64().unwrap().abs())
            })
            .fold(0.0, f64::max);
        for (mine, theirs) in f.iter().zip(fo) {
            for k in 0..3 {
                let t = theirs[k].as_f64().unwrap();
                assert!(
                    (mine[k] - t).abs() < 1e-6 * scale,
                    "{}: force {} vs {t}",
                    frame["label"],
                    mine[k]
                );
            }
        }
    }
}
