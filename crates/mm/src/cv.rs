//! Collective variables: dihedral angles named in the system file, with their gradients, and
//! harmonic restraints on them.

use serde::{Deserialize, Serialize};

use super::dihedral::{add_dihedral_force, dihedral};
use super::dynamics::Bias;
use super::topology::{AtomSpec, Topology};
use crate::error::{Error, Result};

/// A dihedral collective variable as a file names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DihedralSpec {
    /// Name used in reports and plots (`phi`, `psi`, …).
    pub name: String,
    /// The four atoms i-j-k-l (IUPAC sign convention).
    pub atoms: [AtomSpec; 4],
}

/// Dihedral collective variables resolved to atom indices, in radians on (−π, π].
#[derive(Debug, Clone, PartialEq)]
pub struct Dihedrals {
    /// Their names.
    pub names: Vec<String>,
    /// Their atoms (0-based).
    pub atoms: Vec<[usize; 4]>,
}

impl Dihedrals {
    /// Resolves `specs` in `topology`; errors name the variable and the atom.
    pub fn resolve(specs: &[DihedralSpec], topology: &Topology) -> Result<Self> {
        let mut atoms = Vec::with_capacity(specs.len());
        for s in specs {
            let mut quad = [0; 4];
            for (q, a) in quad.iter_mut().zip(&s.atoms) {
                *q = topology.find(a).map_err(|e| {
                    Error::Invalid(format!("collective variable `{}`: {e}", s.name))
                })?;
            }
            if (0..4).any(|i| (i + 1..4).any(|j| quad[i] == quad[j])) {
                return Err(Error::Invalid(format!(
                    "collective variable `{}`: the four atoms must differ",
                    s.name
                )));
            }
            atoms.push(quad);
        }
        Ok(Self {
            names: specs.iter().map(|s| s.name.clone()).collect(),
            atoms,
        })
    }

    /// The backbone φ (C₋₁ N Cα C) and ψ (N Cα C N₊₁) of the second residue: ACE-X-NME
    /// dipeptides.
    pub fn dipeptide_backbone(topology: &Topology) -> Result<Self> {
        let spec = |name: &str, atoms: [&str; 4]| DihedralSpec {
            name: name.into(),
            atoms: atoms.map(|a| AtomSpec::Named(a.into())),
        };
        Self::resolve(
            &[
                spec("phi", ["1:C", "2:N", "2:CA", "2:C"]),
                spec("psi", ["2:N", "2:CA", "2:C", "3:N"]),
            ],
            topology,
        )
    }

    /// Number of variables.
    pub fn len(&self) -> usize {
        self.atoms.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.atoms.is_empty()
    }

    /// Their values (rad) at `x`.
    pub fn values(&self, x: &[[f64; 3]]) -> Vec<f64> {
        self.atoms.iter().map(|&a| dihedral(x, a)).collect()
    }

    /// Adds `Σ_k c_k ∇ₓ s_k(x)` to `g`: the gradient in the atoms' coordinates of a function
    /// of the variables whose partial derivatives at `x` are `c` (the chain rule through each
    /// dihedral's Jacobian).
    pub fn chain(&self, x: &[[f64; 3]], c: &[f64], g: &mut [[f64; 3]]) {
        for (&atoms, &c) in self.atoms.iter().zip(c) {
            // `add_dihedral_force` adds `−(dV/dφ)∇φ`.
            add_dihedral_force(x, atoms, -c, g);
        }
    }

    /// Harmonic restraints of stiffness `k` (kJ/(mol rad²)) holding them at `targets`.
    pub fn restraints(&self, targets: &[f64], k: f64) -> DihedralRestraints {
        DihedralRestraints {
            terms: self
                .atoms
                .iter()
                .zip(targets)
                .map(|(&a, &t)| (a, t, k))
                .collect(),
        }
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

/// Distance between two points of dihedral angles (periodic in every coordinate).
pub fn angle_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| angle_difference(*x, *y).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Harmonic restraints `½ k (φ − φ₀)²` (periodic difference) on dihedrals.
#[derive(Debug, Clone)]
pub struct DihedralRestraints {
    /// `(atoms, target, k)`, k in kJ/(mol rad²).
    pub terms: Vec<([usize; 4], f64, f64)>,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The chain rule through the dihedrals against central differences of `f(s(x))`, with
    /// `f(φ, ψ) = sin φ cos ψ + ½ cos 2φ`.
    #[test]
    fn the_chain_through_the_dihedrals_matches_finite_differences() {
        let cv = Dihedrals {
            names: vec!["phi".into(), "psi".into()],
            atoms: vec![[0, 1, 2, 3], [1, 2, 3, 4]],
        };
        let f = |s: &[f64]| s[0].sin() * s[1].cos() + 0.5 * (2.0 * s[0]).cos();
        let df = |s: &[f64]| {
            [
                s[0].cos() * s[1].cos() - (2.0 * s[0]).sin(),
                -s[0].sin() * s[1].sin(),
            ]
        };
        let x = vec![
            [0.10, 0.02, -0.05],
            [0.21, 0.09, 0.01],
            [0.30, 0.01, 0.12],
            [0.43, 0.08, 0.15],
            [0.50, -0.04, 0.22],
        ];
        let mut g = vec![[0.0; 3]; x.len()];
        cv.chain(&x, &df(&cv.values(&x)), &mut g);
        let h = 1e-6;
        for a in 0..x.len() {
            for d in 0..3 {
                let mut up = x.clone();
                let mut down = x.clone();
                up[a][d] += h;
                down[a][d] -= h;
                let fd = (f(&cv.values(&up)) - f(&cv.values(&down))) / (2.0 * h);
                assert!(
                    (g[a][d] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                    "atom {a}, axis {d}: chain {} against differences {fd}",
                    g[a][d]
                );
            }
        }
    }
}
