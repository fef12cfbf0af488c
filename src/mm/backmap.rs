//! From (φ, ψ) back to atoms: restrained minimisation of the whole molecule to each target
//! (φ, ψ) in turn, starting from the previous structure so that a path becomes a continuous
//! all-atom movie; and heavy-atom RMSD after optimal superposition (Kabsch).

use nalgebra::{Matrix3, Vector3};

use super::cv::{Backbone, DihedralRestraints};
use super::forcefield::{ForceField, Topology};
use super::minimise::minimise;

/// Stiffness of the (φ, ψ) restraints, kJ/(mol rad²).
pub const RESTRAINT: f64 = 2000.0;

/// Structures following `angles`, each minimised under (φ, ψ) restraints from the previous one.
pub fn backmap(
    ff: &ForceField,
    cv: &Backbone,
    start: &[[f64; 3]],
    angles: &[(f64, f64)],
    iterations: usize,
) -> Vec<Vec<[f64; 3]>> {
    let mut x = start.to_vec();
    angles
        .iter()
        .map(|&(phi, psi)| {
            let mut r = DihedralRestraints::backbone(cv, phi, psi, RESTRAINT);
            x = minimise(ff, &x, 10.0, iterations, Some(&mut r)).positions;
            x.clone()
        })
        .collect()
}

/// The local minimum in the basin of (φ, ψ): restrained, then free minimisation.
pub fn basin_minimum(
    ff: &ForceField,
    cv: &Backbone,
    start: &[[f64; 3]],
    phi: f64,
    psi: f64,
) -> Vec<[f64; 3]> {
    let mut r = DihedralRestraints::backbone(cv, phi, psi, RESTRAINT);
    let held = minimise(ff, start, 1.0, 5000, Some(&mut r)).positions;
    minimise(ff, &held, 1e-2, 5000, None).positions
}

/// Indices of the non-hydrogen atoms.
pub fn heavy_atoms(top: &Topology) -> Vec<usize> {
    (0..top.len())
        .filter(|&i| top.atomic_numbers[i] != 1)
        .collect()
}

/// RMSD between `a` and `b` over `atoms` after optimal rotation and translation (nm).
pub fn kabsch_rmsd(a: &[[f64; 3]], b: &[[f64; 3]], atoms: &[usize]) -> f64 {
    let n = atoms.len() as f64;
    let centre = |x: &[[f64; 3]]| {
        atoms
            .iter()
            .fold(Vector3::zeros(), |c, &i| c + Vector3::from(x[i]))
            / n
    };
    let (ca, cb) = (centre(a), centre(b));
    let pa: Vec<Vector3<f64>> = atoms.iter().map(|&i| Vector3::from(a[i]) - ca).collect();
    let pb: Vec<Vector3<f64>> = atoms.iter().map(|&i| Vector3::from(b[i]) - cb).collect();
    let h: Matrix3<f64> = pa.iter().zip(&pb).map(|(p, q)| p * q.transpose()).sum();
    let svd = h.svd(true, true);
    let (u, vt) = (svd.u.expect("u"), svd.v_t.expect("v_t"));
    let d = (vt.transpose() * u.transpose()).determinant().signum();
    let fix = Matrix3::from_diagonal(&Vector3::new(1.0, 1.0, d));
    let rot = vt.transpose() * fix * u.transpose();
    let sq: f64 = pa
        .iter()
        .zip(&pb)
        .map(|(p, q)| (rot * p - q).norm_squared())
        .sum();
    (sq / n).sqrt()
}
