//! The IUPAC dihedral angle of four atoms and its gradient: shared by the torsions, CMAP and
//! the collective variables.

use super::vector::{add_to, cross, dot, sub};

/// `cos φ` and `sin φ` of the IUPAC dihedral i-j-k-l (`None` if degenerate).
pub(crate) fn dihedral_cos_sin(x: &[[f64; 3]], [i, j, k, l]: [usize; 4]) -> Option<(f64, f64)> {
    let (r_ij, r_kj, r_kl) = (sub(x[i], x[j]), sub(x[k], x[j]), sub(x[k], x[l]));
    let (m, n) = (cross(r_ij, r_kj), cross(r_kj, r_kl));
    let mn = (dot(m, m) * dot(n, n)).sqrt();
    if mn < 1e-30 {
        return None;
    }
    // (m × n)·r̂_kj = |r_kj| (m · r_kl), whose sign is IUPAC's.
    Some((dot(m, n) / mn, dot(r_kj, r_kj).sqrt() * dot(m, r_kl) / mn))
}

/// IUPAC dihedral angle i-j-k-l in radians, (−π, π].
pub fn dihedral(x: &[[f64; 3]], [i, j, k, l]: [usize; 4]) -> f64 {
    let (r_ij, r_kj, r_kl) = (sub(x[i], x[j]), sub(x[k], x[j]), sub(x[k], x[l]));
    let (m, n) = (cross(r_ij, r_kj), cross(r_kj, r_kl));
    let sine = dot(cross(m, n), r_kj) / dot(r_kj, r_kj).sqrt();
    let angle = sine.atan2(dot(m, n));
    if dot(r_ij, n) < 0.0 {
        -angle.abs()
    } else {
        angle.abs()
    }
}

/// Adds `−dV/dφ · ∇φ` for a dihedral i-j-k-l to `f`, given `dv_dphi` (GROMACS' formulation).
pub fn add_dihedral_force(x: &[[f64; 3]], atoms: [usize; 4], dv_dphi: f64, f: &mut [[f64; 3]]) {
    let [i, j, k, l] = atoms;
    let (r_ij, r_kj, r_kl) = (sub(x[i], x[j]), sub(x[k], x[j]), sub(x[k], x[l]));
    let (m, n) = (cross(r_ij, r_kj), cross(r_kj, r_kl));
    let (m2, n2, kj2) = (dot(m, m), dot(n, n), dot(r_kj, r_kj));
    if m2 < 1e-30 || n2 < 1e-30 {
        return;
    }
    let kj = kj2.sqrt();
    let fi = -dv_dphi * kj / m2;
    let fl = dv_dphi * kj / n2;
    let f_i = [fi * m[0], fi * m[1], fi * m[2]];
    let f_l = [fl * n[0], fl * n[1], fl * n[2]];
    let p = dot(r_ij, r_kj) / kj2;
    let q = dot(r_kl, r_kj) / kj2;
    let s = [
        p * f_i[0] - q * f_l[0],
        p * f_i[1] - q * f_l[1],
        p * f_i[2] - q * f_l[2],
    ];
    add_to(&mut f[i], f_i, 1.0);
    add_to(&mut f[j], sub(f_i, s), -1.0);
    add_to(
        &mut f[k],
        [f_l[0] + s[0], f_l[1] + s[1], f_l[2] + s[2]],
        -1.0,
    );
    add_to(&mut f[l], f_l, 1.0);
}
