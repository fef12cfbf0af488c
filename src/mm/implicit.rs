//! Implicit solvent: the generalized-Born model of Onufriev, Bashford & Case (OBC2, 2004) with
//! the ACE non-polar surface term, as OpenMM's `GBSAOBCForce` computes it for a prmtop read
//! with `implicitSolvent=OBC2`: radii and screening factors from the prmtop's `RADII` and
//! `SCREEN`, solute dielectric 1, solvent 78.5, no salt, no cutoff.
//!
//! Born radii come from the Hawkins–Cramer–Truhlar pair integrals, rescaled by OBC's tanh;
//! forces are the exact gradient (through the Born radii), in three O(N²) passes with no N²
//! storage.

use rayon::prelude::*;

use super::forcefield::COULOMB;

/// Radii are reduced by this (nm) before the pair integrals.
const OFFSET: f64 = 0.009;
/// OBC2's rescaling of the Born sum.
const ALPHA: f64 = 1.0;
const BETA: f64 = 0.8;
const GAMMA: f64 = 4.85;
/// Dielectric constants of the solute and the solvent (water).
const SOLUTE: f64 = 1.0;
const SOLVENT: f64 = 78.5;
/// ACE surface term: energy per area (kJ/(mol nm²)) and solvent probe radius (nm).
const SURFACE_ENERGY: f64 = 2.25936;
const PROBE: f64 = 0.14;
/// Atoms above this count run the pair passes on all threads.
const PARALLEL_ATOMS: usize = 256;

/// The OBC2 generalized-Born solvation of a molecule.
#[derive(Debug, Clone)]
pub struct Obc2 {
    charges: Vec<f64>,
    radii: Vec<f64>,
    /// `ρ − offset`.
    offset_radii: Vec<f64>,
    /// `screen · (ρ − offset)`.
    scaled_radii: Vec<f64>,
}

/// The Hawkins–Cramer–Truhlar integral of atom j's descreening sphere (scaled radius `s`) over
/// atom i's (offset radius `rho`) at distance `r`, and its derivative with respect to `r`.
fn hct(r: f64, rho: f64, s: f64) -> (f64, f64) {
    let upper = r + s;
    if rho >= upper {
        return (0.0, 0.0);
    }
    let (lower, dlower) = if rho > (r - s).abs() {
        (rho, 0.0)
    } else {
        ((r - s).abs(), (r - s).signum())
    };
    let (il, iu, ir) = (1.0 / lower, 1.0 / upper, 1.0 / r);
    let (il2, iu2) = (il * il, iu * iu);
    let ln = (lower * iu).ln();
    let s2 = s * s;
    let mut h = il - iu + 0.25 * r * (iu2 - il2) + 0.5 * ir * ln + 0.25 * s2 * ir * (il2 - iu2);
    let (dil, diu) = (-il2 * dlower, -iu2);
    let (dil2, diu2) = (2.0 * il * dil, 2.0 * iu * diu);
    let dln = dlower * il - iu;
    let mut dh = dil - diu + 0.25 * (iu2 - il2) + 0.25 * r * (diu2 - dil2) - 0.5 * ir * ir * ln
        + 0.5 * ir * dln
        - 0.25 * s2 * ir * ir * (il2 - iu2)
        + 0.25 * s2 * ir * (dil2 - diu2);
    // Atom i wholly inside j's sphere.
    if rho < s - r {
        h += 2.0 * (1.0 / rho - il);
        dh -= 2.0 * dil;
    }
    (h, dh)
}

fn distance(x: &[[f64; 3]], i: usize, j: usize) -> ([f64; 3], f64) {
    let d = [x[i][0] - x[j][0], x[i][1] - x[j][1], x[i][2] - x[j][2]];
    (d, (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt())
}

impl Obc2 {
    /// The model for atoms with `charges` (e), `radii` (nm) and screening factors `screen`.
    pub fn new(charges: &[f64], radii: &[f64], screen: &[f64]) -> Self {
        let offset_radii: Vec<f64> = radii.iter().map(|r| r - OFFSET).collect();
        Self {
            charges: charges.to_vec(),
            radii: radii.to_vec(),
            scaled_radii: offset_radii
                .iter()
                .zip(screen)
                .map(|(r, s)| r * s)
                .collect(),
            offset_radii,
        }
    }

    /// Runs `pass(i)` for every atom, on all threads for large molecules; each returns its
    /// own row.
    fn rows<T: Send>(&self, pass: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
        let n = self.radii.len();
        if n >= PARALLEL_ATOMS {
            (0..n).into_par_iter().map(pass).collect()
        } else {
            (0..n).map(pass).collect()
        }
    }

    /// Born radii and `dB/dI` (the derivative with respect to the pair-integral sum).
    fn born_radii(&self, x: &[[f64; 3]]) -> Vec<(f64, f64)> {
        let n = self.radii.len();
        self.rows(|i| {
            let rho = self.offset_radii[i];
            let sum: f64 = (0..n)
                .filter(|&j| j != i)
                .map(|j| hct(distance(x, i, j).1, rho, self.scaled_radii[j]).0)
                .sum();
            let psi = 0.5 * rho * sum;
            let t = (ALPHA * psi - BETA * psi * psi + GAMMA * psi * psi * psi).tanh();
            let born = 1.0 / (1.0 / rho - t / self.radii[i]);
            let dpsi = (1.0 - t * t) * (ALPHA - 2.0 * BETA * psi + 3.0 * GAMMA * psi * psi)
                / self.radii[i];
            (born, born * born * dpsi * 0.5 * rho)
        })
    }

    /// Solvation energy (kJ/mol), adding its forces to `f`.
    pub fn energy_forces(&self, x: &[[f64; 3]], f: &mut [[f64; 3]]) -> f64 {
        let n = self.radii.len();
        let born = self.born_radii(x);
        let p = -COULOMB * (1.0 / SOLUTE - 1.0 / SOLVENT);
        // Energy, direct forces and dE/dB_i, row by row over all partners j (each pair is
        // visited twice and counted half each time).
        let rows = self.rows(|i| {
            let (bi, qi) = (born[i].0, self.charges[i]);
            let surface = 4.0
                * std::f64::consts::PI
                * SURFACE_ENERGY
                * (self.radii[i] + PROBE).powi(2)
                * (self.radii[i] / bi).powi(6);
            let mut energy = 0.5 * p * qi * qi / bi + surface;
            let mut de_db = -0.5 * p * qi * qi / (bi * bi) - 6.0 * surface / bi;
            let mut force = [0.0; 3];
            for j in (0..n).filter(|&j| j != i) {
                let (d, r) = distance(x, i, j);
                let bj = born[j].0;
                let a = bi * bj;
                let dd = r * r / (4.0 * a);
                let ex = (-dd).exp();
                let f2 = r * r + a * ex;
                let fgb = f2.sqrt();
                let e = p * qi * self.charges[j] / fgb;
                energy += 0.5 * e;
                // dE/dA · B_j, the whole pair's derivative with respect to B_i.
                de_db += -e / f2 * ex * (1.0 + dd) * 0.5 * bj;
                let de_dr = -e / f2 * r * (1.0 - 0.25 * ex);
                for k in 0..3 {
                    force[k] -= de_dr * d[k] / r;
                }
            }
            (energy, de_db, force)
        });
        let energy: f64 = rows.iter().map(|r| r.0).sum();
        // Through the Born radii: dE/dr_ij = Σ over both atoms of dE/dB · dB/dI · dh/dr.
        let chain: Vec<f64> = rows.iter().zip(&born).map(|(r, b)| r.1 * b.1).collect();
        let through = self.rows(|i| {
            let rho = self.offset_radii[i];
            let mut force = [0.0; 3];
            for j in (0..n).filter(|&j| j != i) {
                let (d, r) = distance(x, i, j);
                let dh_ij = hct(r, rho, self.scaled_radii[j]).1;
                let dh_ji = hct(r, self.offset_radii[j], self.scaled_radii[i]).1;
                let de_dr = chain[i] * dh_ij + chain[j] * dh_ji;
                for k in 0..3 {
                    force[k] -= de_dr * d[k] / r;
                }
            }
            force
        });
        for (i, (row, extra)) in rows.iter().zip(&through).enumerate() {
            for k in 0..3 {
                f[i][k] += row.2[k] + extra[k];
            }
        }
        energy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pair_integral_derivative_is_its_slope_in_every_branch() {
        // Outside, overlapping, and i inside j's sphere.
        for (r, rho, s) in [
            (0.5, 0.15, 0.12),
            (0.2, 0.15, 0.12),
            (0.05, 0.06, 0.2),
            (0.3, 0.1, 0.35),
        ] {
            let (_, dh) = hct(r, rho, s);
            let d = 1e-7;
            let fd = (hct(r + d, rho, s).0 - hct(r - d, rho, s).0) / (2.0 * d);
            assert!(
                (dh - fd).abs() < 1e-5 * fd.abs().max(1.0),
                "{r}: {dh} vs {fd}"
            );
        }
    }

    #[test]
    fn forces_are_the_gradient_of_the_energy() {
        let x: Vec<[f64; 3]> = (0..7)
            .map(|i| {
                let t = i as f64;
                [0.13 * t, 0.07 * (1.3 * t).sin(), 0.09 * (0.7 * t).cos()]
            })
            .collect();
        let charges = [0.4, -0.3, 0.1, -0.5, 0.2, 0.25, -0.15];
        let radii = [0.155, 0.12, 0.17, 0.15, 0.12, 0.13, 0.18];
        let screen = [0.79, 0.85, 0.72, 0.79, 0.85, 0.85, 0.96];
        let gb = Obc2::new(&charges, &radii, &screen);
        let mut f = vec![[0.0; 3]; 7];
        gb.energy_forces(&x, &mut f);
        let d = 1e-6;
        for i in 0..7 {
            for k in 0..3 {
                let mut xp = x.clone();
                let mut xm = x.clone();
                xp[i][k] += d;
                xm[i][k] -= d;
                let mut g = vec![[0.0; 3]; 7];
                let fd =
                    -(gb.energy_forces(&xp, &mut g) - gb.energy_forces(&xm, &mut g)) / (2.0 * d);
                assert!(
                    (f[i][k] - fd).abs() < 1e-5 * fd.abs().max(1.0),
                    "{i},{k}: {} vs {fd}",
                    f[i][k]
                );
            }
        }
    }
}
