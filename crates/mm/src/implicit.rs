//! Implicit solvent: the generalized-Born model of Onufriev, Bashford & Case (OBC2, 2004) with
//! the ACE non-polar surface term, as OpenMM's `GBSAOBCForce` computes it for a prmtop read
//! with `implicitSolvent=OBC2`: radii and screening factors from the prmtop's `RADII` and
//! `SCREEN`, solute dielectric 1, solvent 78.5, no salt, no cutoff.
//!
//! Born radii come from the Hawkins–Cramer–Truhlar pair integrals, rescaled by OBC's tanh;
//! forces are the exact gradient (through the Born radii), in three O(N²) passes over each pair
//! once, with no N² storage.

use rayon::prelude::*;

use super::units::COULOMB;

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

    /// Visits every pair `i < j` once: `visit(i, acc)` handles atom `i` with its partners
    /// `j > i`, accumulating into `acc`. The atoms are cut into fixed blocks of about equal
    /// pair counts, each with its own accumulator from `init` (on all threads for large
    /// molecules), summed by `merge` in block order: the same numbers on any number of
    /// threads.
    fn over_pairs<A: Send>(
        &self,
        init: impl Fn() -> A + Sync + Send,
        visit: impl Fn(usize, &mut A) + Sync + Send,
        merge: impl Fn(&mut A, A),
    ) -> A {
        let n = self.radii.len();
        let run = |block: &std::ops::Range<usize>| {
            let mut acc = init();
            for i in block.clone() {
                visit(i, &mut acc);
            }
            acc
        };
        let parts: Vec<A> = if n >= PARALLEL_ATOMS {
            blocks(n).par_iter().map(run).collect()
        } else {
            vec![run(&(0..n))]
        };
        let mut parts = parts.into_iter();
        let mut total = parts.next().expect("at least one block");
        for part in parts {
            merge(&mut total, part);
        }
        total
    }

    /// Born radii and `dB/dI` (the derivative with respect to the pair-integral sum).
    fn born_radii(&self, x: &[[f64; 3]]) -> Vec<(f64, f64)> {
        let n = self.radii.len();
        let sums = self.over_pairs(
            || vec![0.0; n],
            |i, sums| {
                let (rho_i, s_i) = (self.offset_radii[i], self.scaled_radii[i]);
                for j in i + 1..n {
                    let r = distance(x, i, j).1;
                    sums[i] += hct(r, rho_i, self.scaled_radii[j]).0;
                    sums[j] += hct(r, self.offset_radii[j], s_i).0;
                }
            },
            |total, part| add_into(total, part),
        );
        sums.iter()
            .enumerate()
            .map(|(i, sum)| {
                let rho = self.offset_radii[i];
                let psi = 0.5 * rho * sum;
                let t = (ALPHA * psi - BETA * psi * psi + GAMMA * psi * psi * psi).tanh();
                let born = 1.0 / (1.0 / rho - t / self.radii[i]);
                let dpsi = (1.0 - t * t) * (ALPHA - 2.0 * BETA * psi + 3.0 * GAMMA * psi * psi)
                    / self.radii[i];
                (born, born * born * dpsi * 0.5 * rho)
            })
            .collect()
    }

    /// Solvation energy (kJ/mol), adding its forces to `f`.
    pub fn energy_forces(&self, x: &[[f64; 3]], f: &mut [[f64; 3]]) -> f64 {
        let n = self.radii.len();
        let born = self.born_radii(x);
        let p = -COULOMB * (1.0 / SOLUTE - 1.0 / SOLVENT);
        // Each atom's own term (Born self-energy and surface) and its dE/dB.
        let mut energy = 0.0;
        let mut de_db = vec![0.0; n];
        for i in 0..n {
            let (bi, qi) = (born[i].0, self.charges[i]);
            let surface = 4.0
                * std::f64::consts::PI
                * SURFACE_ENERGY
                * (self.radii[i] + PROBE).powi(2)
                * (self.radii[i] / bi).powi(6);
            energy += 0.5 * p * qi * qi / bi + surface;
            de_db[i] = -0.5 * p * qi * qi / (bi * bi) - 6.0 * surface / bi;
        }
        // Pairs: energy, direct forces and each pair's dE/dB of both atoms.
        let (pair_energy, pair_de_db, direct) = self.over_pairs(
            || (0.0, vec![0.0; n], vec![[0.0; 3]; n]),
            |i, (energy, de_db, force)| {
                let (bi, qi) = (born[i].0, self.charges[i]);
                for j in i + 1..n {
                    let (d, r) = distance(x, i, j);
                    let bj = born[j].0;
                    let a = bi * bj;
                    let dd = r * r / (4.0 * a);
                    let ex = (-dd).exp();
                    let f2 = r * r + a * ex;
                    let e = p * qi * self.charges[j] / f2.sqrt();
                    *energy += e;
                    // dE/dA, times B_j for B_i and B_i for B_j.
                    let de_da = -0.5 * e / f2 * ex * (1.0 + dd);
                    de_db[i] += de_da * bj;
                    de_db[j] += de_da * bi;
                    let de_dr = -e / f2 * r * (1.0 - 0.25 * ex);
                    for k in 0..3 {
                        let fk = de_dr * d[k] / r;
                        force[i][k] -= fk;
                        force[j][k] += fk;
                    }
                }
            },
            |total, part| {
                total.0 += part.0;
                add_into(&mut total.1, part.1);
                add_forces(&mut total.2, part.2);
            },
        );
        energy += pair_energy;
        add_into(&mut de_db, pair_de_db);
        // Through the Born radii: dE/dr_ij = Σ over both atoms of dE/dB · dB/dI · dh/dr.
        let chain: Vec<f64> = de_db.iter().zip(&born).map(|(d, b)| d * b.1).collect();
        let through = self.over_pairs(
            || vec![[0.0; 3]; n],
            |i, force| {
                let (rho_i, s_i) = (self.offset_radii[i], self.scaled_radii[i]);
                for j in i + 1..n {
                    let (d, r) = distance(x, i, j);
                    let dh_ij = hct(r, rho_i, self.scaled_radii[j]).1;
                    let dh_ji = hct(r, self.offset_radii[j], s_i).1;
                    let de_dr = chain[i] * dh_ij + chain[j] * dh_ji;
                    for k in 0..3 {
                        let fk = de_dr * d[k] / r;
                        force[i][k] -= fk;
                        force[j][k] += fk;
                    }
                }
            },
            |total, part| add_forces(total, part),
        );
        add_forces(f, direct);
        add_forces(f, through);
        energy
    }
}

/// Blocks of atoms `i` whose pairs `j > i` are about equally many, a fixed number of them.
fn blocks(n: usize) -> Vec<std::ops::Range<usize>> {
    const BLOCKS: usize = 32;
    let total = n * n.saturating_sub(1) / 2;
    let mut out = Vec::with_capacity(BLOCKS);
    let (mut start, mut done) = (0, 0);
    for i in 0..n {
        done += n - 1 - i;
        if done * BLOCKS >= total * (out.len() + 1) || i + 1 == n {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    out
}

fn add_into(total: &mut [f64], part: Vec<f64>) {
    for (t, p) in total.iter_mut().zip(part) {
        *t += p;
    }
}

fn add_forces(total: &mut [[f64; 3]], part: Vec<[f64; 3]>) {
    for (t, p) in total.iter_mut().zip(part) {
        for k in 0..3 {
            t[k] += p[k];
        }
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
