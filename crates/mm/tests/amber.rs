//! AMBER topologies as users bring them (fixtures/make_amber_fixtures.py: ParmEd-written
//! prmtops) against OpenMM's Reference platform: per-term energies and total forces in vacuum,
//! with CMAP (ff19SB) and with OBC2 implicit solvent, on alanine dipeptide and a 2,333-atom
//! protein; and the forces of CMAP and OBC2 against finite differences.

mod common;

use std::path::PathBuf;

use tps_mm::{ForceField, Prmtop, Term};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(format!("{}/amber/{name}", common::fixtures()))
}

fn reference() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("amber_energies.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn load(prmtop: &str, solvent: &str) -> (tps_mm::Topology, ForceField) {
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
