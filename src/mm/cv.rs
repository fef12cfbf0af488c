//! Collective variables: the backbone dihedrals (φ, ψ) with their gradients, and harmonic
//! restraints on them.

use super::dynamics::Bias;
use super::forcefield::{Topology, add_dihedral_force, dihedral};
use crate::error::{Error, Result};

/// Atoms of φ (C₋₁ N Cα C) and ψ (N Cα C N₊₁) of a dipeptide's central residue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backbone {
    pub phi: [usize; 4],
    pub psi: [usize; 4],
}

impl Backbone {
    /// φ and ψ of the second residue (ALA in ACE-ALA-NME).
    pub fn dipeptide(top: &Topology) -> Result<Self> {
        let res = |r: usize| top.residue_names.get(r).cloned().unwrap_or_default();
        let find = |r: usize, name: &str| {
            (0..top.len())
                .find(|&i| top.residue_of[i] == r && top.names[i] == name)
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "no atom {name} in residue {} ({}): φ/ψ need C of residue 1, N CA C of residue 2 and N of residue 3",
                        r + 1,
                        res(r)
                    ))
                })
        };
        let (c0, n1, ca, c1, n2) = (
            find(0, "C")?,
            find(1, "N")?,
            find(1, "CA")?,
            find(1, "C")?,
            find(2, "N")?,
        );
        Ok(Self {
            phi: [c0, n1, ca, c1],
            psi: [n1, ca, c1, n2],
        })
    }

    /// (φ, ψ) in radians.
    pub fn angles(&self, x: &[[f64; 3]]) -> (f64, f64) {
        (dihedral(x, self.phi), dihedral(x, self.psi))
    }
}

/// Difference `a − b` of two angles wrapped to (−π, π].
pub fn angle_difference(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(std::f64::consts::TAU);
    if d > std::f64::consts::PI {
        d - std::f64::consts::TAU
    } else {
        d
    }
}

/// Harmonic restraints `½ k (φ − φ₀)²` (periodic difference) on dihedrals.
#[derive(Debug, Clone)]
pub struct DihedralRestraints {
    /// `(atoms, target, k)`, k in kJ/(mol rad²).
    pub terms: Vec<([usize; 4], f64, f64)>,
}

impl DihedralRestraints {
    /// Restrains φ and ψ of `backbone` to `(phi, psi)` with stiffness `k`.
    pub fn backbone(backbone: &Backbone, phi: f64, psi: f64, k: f64) -> Self {
        Self {
            terms: vec![(backbone.phi, phi, k), (backbone.psi, psi, k)],
        }
    }
}

impl Bias for DihedralRestraints {
    fn apply(&mut self, x: &[[f64; 3]], f: &mut [[f64; 3]]) -> f64 {
        let mut e = 0.0;
        for &(atoms, target, k) in &self.terms {
            let d = angle_difference(dihedral(x, atoms), target);
            e += 0.5 * k * d * d;
            add_dihedral_force(x, atoms, k * d, f);
        }
        e
    }
}
