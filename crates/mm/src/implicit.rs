//! Implicit solvent: the generalized-Born model of Onufriev, Bashford & Case (OBC2, 2004) with
//! the ACE non-polar surface term, as OpenMM's `GBSAOBCForce` computes it for a prmtop read
//! with `implicitSolvent=OBC2`: radii and screening factors from the prmtop's `RADII` and
//! `SCREEN`, solute dielectric 1, solvent 78.5, no salt, no cutoff.
//!
//! Born radii come from the Hawkins–Cramer–Truhlar pair integrals, rescaled by OBC's tanh;
//! forces are the exact gradient (through the Born radii), in three O(N²) passes over each pair
//! once, partners eight at a time in vector lanes. Memory is linear in atoms, except that
//! molecules under 256 atoms keep each pair's two slopes between the passes.

use rayon::prelude::*;

use super::numeric::{self, Isa, Width};
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
/// Below this count (one block of pairs) the slopes of every pair integral are kept between the
/// passes (at most ≈ 0.5 MB) rather than computed twice; above, memory stays linear in atoms.
const KEEP_SLOPES_BELOW: usize = PARALLEL_ATOMS;
/// Partners handled together in the pair loops: one AVX-512 vector of doubles.
const LANES: usize = 8;

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

/// An atom as the pair integrals see it: its offset radius `rho`, `1/rho`, and the scaled
/// radius `s` of its descreening sphere.
#[derive(Clone, Copy)]
struct Sphere {
    rho: f64,
    inv_rho: f64,
    s: f64,
}

/// Where the integral of one atom's descreening sphere (scaled radius `s`) over the other's
/// (offset radius `rho`) runs at distance `r`: from `lower` (with `d lower/dr`) to `upper`.
#[derive(Clone, Copy)]
struct Bounds {
    lower: f64,
    dlower: f64,
    upper: f64,
}

impl Bounds {
    #[inline(always)]
    fn new(r: f64, rho: f64, s: f64) -> Self {
        let diff = r - s;
        let overlapping = rho > diff.abs();
        Self {
            lower: if overlapping { rho } else { diff.abs() },
            dlower: if overlapping {
                0.0
            } else {
                1.0f64.copysign(diff)
            },
            upper: r + s,
        }
    }
}

/// The Hawkins–Cramer–Truhlar integrals of a pair at distance `r`, both ways (b's sphere over
/// a, a's over b), each with its derivative with respect to `r`. Every case is computed and the
/// right one selected, so that a loop over partners vectorises; the five reciprocals share one
/// division and the two logarithms another (a division costs about ten multiplications). With
/// them, `1/r`.
#[inline(always)]
fn hct_pair(r: f64, a: Sphere, b: Sphere) -> ([(f64, f64); 2], f64) {
    let (ab, ba) = (Bounds::new(r, a.rho, b.s), Bounds::new(r, b.rho, a.s));
    let (p_ab, p_ba) = (ab.lower * ab.upper, ba.lower * ba.upper);
    let q = 1.0 / (r * p_ab * p_ba);
    let ir = p_ab * p_ba * q;
    let (rq_ab, rq_ba) = (r * q * p_ba, r * q * p_ab);
    let inverses = |w: Bounds, rq: f64| (w.upper * rq, w.lower * rq);
    let (il_ab, iu_ab) = inverses(ab, rq_ab);
    let (il_ba, iu_ba) = inverses(ba, rq_ba);
    let (k_ab, f_ab) = numeric::ln_reduce(ab.lower * iu_ab);
    let (k_ba, f_ba) = numeric::ln_reduce(ba.lower * iu_ba);
    let (t_ab, t_ba) = (2.0 + f_ab, 2.0 + f_ba);
    let q = 1.0 / (t_ab * t_ba);
    let ln_ab = numeric::ln_finish(k_ab, f_ab, f_ab * t_ba * q);
    let ln_ba = numeric::ln_finish(k_ba, f_ba, f_ba * t_ab * q);
    (
        [
            hct(r, ir, a, b.s, ab, il_ab, iu_ab, ln_ab),
            hct(r, ir, b, a.s, ba, il_ba, iu_ba, ln_ba),
        ],
        ir,
    )
}

/// The two slopes of [`hct_pair`] over `r`: what the forces through the Born radii need.
#[inline(always)]
fn slopes_over_r(r: f64, a: Sphere, b: Sphere) -> [f64; 2] {
    let ([(_, dh_ab), (_, dh_ba)], ir) = hct_pair(r, a, b);
    [dh_ab * ir, dh_ba * ir]
}

/// One way of [`hct_pair`], from the reciprocals `il = 1/lower`, `iu = 1/upper`, `ir = 1/r`
/// and `ln = ln(lower/upper)`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn hct(r: f64, ir: f64, a: Sphere, s: f64, w: Bounds, il: f64, iu: f64, ln: f64) -> (f64, f64) {
    let (il2, iu2) = (il * il, iu * iu);
    let s2 = s * s;
    let h = il - iu + 0.25 * r * (iu2 - il2) + 0.5 * ir * ln + 0.25 * s2 * ir * (il2 - iu2);
    let (dil, diu) = (-il2 * w.dlower, -iu2);
    let (dil2, diu2) = (2.0 * il * dil, 2.0 * iu * diu);
    let dln = w.dlower * il - iu;
    let dh = dil - diu + 0.25 * (iu2 - il2) + 0.25 * r * (diu2 - dil2) - 0.5 * ir * ir * ln
        + 0.5 * ir * dln
        - 0.25 * s2 * ir * ir * (il2 - iu2)
        + 0.25 * s2 * ir * (dil2 - diu2);
    // Atom a wholly inside the other's sphere.
    let inside = a.rho < s - r;
    let h = if inside {
        h + 2.0 * (a.inv_rho - il)
    } else {
        h
    };
    let dh = if inside { dh - 2.0 * dil } else { dh };
    // The other's sphere wholly inside a's: nothing to integrate.
    let outside = a.rho >= w.upper;
    (
        if outside { 0.0 } else { h },
        if outside { 0.0 } else { dh },
    )
}

/// The atoms as columns, padded past the last atom by a whole vector of partners that
/// contribute nothing (no charge, weight 0, far away), so the pair loops read contiguous,
/// whole vectors.
struct Columns {
    n: usize,
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    rho: Vec<f64>,
    inv_rho: Vec<f64>,
    s: Vec<f64>,
    charge: Vec<f64>,
    /// 1 for an atom, 0 for padding.
    weight: Vec<f64>,
    /// How many chunks of `LANES` partners the rows before atom i hold; the total at `n`.
    chunk_start: Vec<usize>,
    /// The instructions the pair loops run with.
    isa: Isa,
}

impl Columns {
    fn new(gb: &Obc2, x: &[[f64; 3]], isa: Isa) -> Self {
        let n = x.len();
        let far = 100.0 + x.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
        let column = |real: &dyn Fn(usize) -> f64, pad: f64| -> Vec<f64> {
            (0..n + LANES)
                .map(|i| if i < n { real(i) } else { pad })
                .collect()
        };
        Self {
            n,
            x: column(&|i| x[i][0], far),
            y: column(&|i| x[i][1], far),
            z: column(&|i| x[i][2], far),
            rho: column(&|i| gb.offset_radii[i], 0.1),
            inv_rho: column(&|i| 1.0 / gb.offset_radii[i], 10.0),
            s: column(&|i| gb.scaled_radii[i], 0.1),
            charge: column(&|i| gb.charges[i], 0.0),
            weight: column(&|_| 1.0, 0.0),
            chunk_start: (0..=n)
                .scan(0, |start, i| {
                    let here = *start;
                    *start += (n.saturating_sub(i + 1)).div_ceil(LANES);
                    Some(here)
                })
                .collect(),
            isa,
        }
    }

    fn sphere(&self, i: usize) -> Sphere {
        Sphere {
            rho: self.rho[i],
            inv_rho: self.inv_rho[i],
            s: self.s[i],
        }
    }

    /// The partners `j0..j0 + LANES` as spheres, read as whole vectors (an index per lane
    /// would be bounds-checked, and the loop would not vectorise).
    #[inline(always)]
    fn spheres(&self, j0: usize) -> [Sphere; LANES] {
        let (rho, inv_rho, s) = (
            lanes(&self.rho, j0),
            lanes(&self.inv_rho, j0),
            lanes(&self.s, j0),
        );
        std::array::from_fn(|l| Sphere {
            rho: rho[l],
            inv_rho: inv_rho[l],
            s: s[l],
        })
    }

    /// A per-atom vector as a column with `pad` after the atoms.
    fn padded(&self, values: impl Iterator<Item = f64>, pad: f64) -> Vec<f64> {
        let mut out: Vec<f64> = values.collect();
        out.resize(self.n + LANES, pad);
        out
    }

    /// Atom `i`'s offset from the partners `j0..j0 + LANES` and their distances squared.
    #[inline(always)]
    fn offsets(&self, i: usize, j0: usize) -> [[f64; LANES]; 4] {
        let (x, y, z) = (lanes(&self.x, j0), lanes(&self.y, j0), lanes(&self.z, j0));
        let mut out = [[0.0; LANES]; 4];
        for l in 0..LANES {
            let d = [self.x[i] - x[l], self.y[i] - y[l], self.z[i] - z[l]];
            out[0][l] = d[0];
            out[1][l] = d[1];
            out[2][l] = d[2];
            out[3][l] = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        }
        out
    }
}

/// `LANES` values of a column from `j0`.
#[inline(always)]
fn lanes(column: &[f64], j0: usize) -> &[f64; LANES] {
    column[j0..j0 + LANES].try_into().expect("padded column")
}

#[inline(always)]
fn lanes_mut(column: &mut [f64], j0: usize) -> &mut [f64; LANES] {
    (&mut column[j0..j0 + LANES])
        .try_into()
        .expect("padded column")
}

/// Lane partial sums added in a fixed order.
#[inline(always)]
fn total(l: [f64; LANES]) -> f64 {
    ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
}

/// One block's sums over its pairs: a per-atom value, forces (as columns) and the energy.
struct Sums {
    atom: Vec<f64>,
    force: [Vec<f64>; 3],
    energy: f64,
    /// Kept by the integrals' pass when asked: both slopes over `r` of every pair, two vectors
    /// per chunk of partners (see [`Columns::chunk_start`]).
    slopes: Vec<[f64; LANES]>,
}

impl Sums {
    fn new(len: usize, slope_chunks: usize) -> Self {
        Self {
            atom: vec![0.0; len],
            force: std::array::from_fn(|_| vec![0.0; len]),
            energy: 0.0,
            slopes: vec![[0.0; LANES]; 2 * slope_chunks],
        }
    }

    fn add(&mut self, other: Self) {
        add_into(&mut self.atom, &other.atom);
        for k in 0..3 {
            add_into(&mut self.force[k], &other.force[k]);
        }
        self.energy += other.energy;
    }
}

/// The Born radii and their inverses, as columns.
struct Born {
    radius: Vec<f64>,
    inverse: Vec<f64>,
}

/// One of the three passes over the pairs.
#[derive(Clone, Copy)]
enum Pass<'a> {
    /// Each atom's sum of pair integrals; with `keep_slopes`, the slopes kept too.
    Integrals { keep_slopes: bool },
    /// The pair energies, their direct forces and each atom's dE/dB, with the Born radii and
    /// the prefactor `−k_C (1/ε_in − 1/ε_out)`.
    Pairs { born: &'a Born, prefactor: f64 },
    /// Forces through the Born radii: `chain` = dE/dB · dB/dI per atom (a column), from the
    /// slopes kept by the integrals' pass if given (the same numbers), else computed again.
    ThroughBorn {
        chain: &'a [f64],
        slopes: Option<&'a [[f64; LANES]]>,
    },
}

/// Atom `i` with its partners `j > i`, with the instructions `c.isa`.
fn visit(pass: Pass, c: &Columns, i: usize, sums: &mut Sums) {
    match c.isa.width() {
        // SAFETY: an `Isa` is made only by detecting what this CPU runs.
        #[cfg(target_arch = "x86_64")]
        Width::Avx512 => unsafe { visit_avx512(pass, c, i, sums) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Width::Avx2Fma => unsafe { visit_avx2(pass, c, i, sums) },
        _ => visit_portable(pass, c, i, sums),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn visit_avx512(pass: Pass, c: &Columns, i: usize, sums: &mut Sums) {
    visit_portable(pass, c, i, sums)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn visit_avx2(pass: Pass, c: &Columns, i: usize, sums: &mut Sums) {
    visit_portable(pass, c, i, sums)
}

#[inline(always)]
fn visit_portable(pass: Pass, c: &Columns, i: usize, sums: &mut Sums) {
    match pass {
        Pass::Integrals { keep_slopes: false } => integrals::<false>(c, i, sums),
        Pass::Integrals { keep_slopes: true } => integrals::<true>(c, i, sums),
        Pass::Pairs { born, prefactor } => pairs(c, born, prefactor, i, sums),
        Pass::ThroughBorn { chain, slopes } => through_born(c, chain, slopes, i, sums),
    }
}

#[inline(always)]
fn integrals<const KEEP_SLOPES: bool>(c: &Columns, i: usize, sums: &mut Sums) {
    let a = c.sphere(i);
    let mut own = [0.0; LANES];
    for (m, j0) in (i + 1..c.n).step_by(LANES).enumerate() {
        let [_, _, _, r2] = c.offsets(i, j0);
        let (w, b) = (lanes(&c.weight, j0), c.spheres(j0));
        let (mut mine, mut their) = ([0.0; LANES], [0.0; LANES]);
        let (mut slope_ab, mut slope_ba) = ([0.0; LANES], [0.0; LANES]);
        for l in 0..LANES {
            let ([(h_ab, dh_ab), (h_ba, dh_ba)], ir) = hct_pair(r2[l].sqrt(), a, b[l]);
            mine[l] = w[l] * h_ab;
            their[l] = h_ba;
            (slope_ab[l], slope_ba[l]) = (dh_ab * ir, dh_ba * ir);
        }
        if KEEP_SLOPES {
            let k = 2 * (c.chunk_start[i] + m);
            sums.slopes[k] = slope_ab;
            sums.slopes[k + 1] = slope_ba;
        }
        let theirs = lanes_mut(&mut sums.atom, j0);
        for l in 0..LANES {
            own[l] += mine[l];
            theirs[l] += their[l];
        }
    }
    sums.atom[i] += total(own);
}

#[inline(always)]
fn pairs(c: &Columns, born: &Born, prefactor: f64, i: usize, sums: &mut Sums) {
    let (bi, inv_bi, pq_i) = (born.radius[i], born.inverse[i], prefactor * c.charge[i]);
    let (mut energy, mut own) = ([0.0; LANES], [0.0; LANES]);
    let mut own_force = [[0.0; LANES]; 3];
    for j0 in (i + 1..c.n).step_by(LANES) {
        let [dx, dy, dz, r2] = c.offsets(i, j0);
        let (bj, inv_bj) = (lanes(&born.radius, j0), lanes(&born.inverse, j0));
        let qj = lanes(&c.charge, j0);
        let (mut e, mut de_da, mut g) = ([0.0; LANES], [0.0; LANES], [0.0; LANES]);
        for l in 0..LANES {
            let a = bi * bj[l];
            let dd = 0.25 * r2[l] * inv_bi * inv_bj[l];
            let ex = numeric::exp(-dd);
            let f2 = r2[l] + a * ex;
            // 1/√f² and 1/f² from one division.
            let inv_f = 1.0 / f2.sqrt();
            e[l] = pq_i * qj[l] * inv_f;
            let e_over_f2 = e[l] * inv_f * inv_f;
            // dE/dA, times B_j for B_i and B_i for B_j.
            de_da[l] = -0.5 * e_over_f2 * ex * (1.0 + dd);
            // dE/dr / r.
            g[l] = -e_over_f2 * (1.0 - 0.25 * ex);
        }
        let theirs = lanes_mut(&mut sums.atom, j0);
        for l in 0..LANES {
            energy[l] += e[l];
            own[l] += de_da[l] * bj[l];
            theirs[l] += de_da[l] * bi;
        }
        for (k, d) in [dx, dy, dz].iter().enumerate() {
            let theirs = lanes_mut(&mut sums.force[k], j0);
            for l in 0..LANES {
                own_force[k][l] -= g[l] * d[l];
                theirs[l] += g[l] * d[l];
            }
        }
    }
    sums.energy += total(energy);
    sums.atom[i] += total(own);
    for (column, own) in sums.force.iter_mut().zip(own_force) {
        column[i] += total(own);
    }
}

#[inline(always)]
fn through_born(
    c: &Columns,
    chain: &[f64],
    slopes: Option<&[[f64; LANES]]>,
    i: usize,
    sums: &mut Sums,
) {
    let (a, chain_i) = (c.sphere(i), chain[i]);
    let mut own_force = [[0.0; LANES]; 3];
    for (m, j0) in (i + 1..c.n).step_by(LANES).enumerate() {
        let [dx, dy, dz, r2] = c.offsets(i, j0);
        let (w, chain_j) = (lanes(&c.weight, j0), lanes(chain, j0));
        let mut g = [0.0; LANES];
        if let Some(slopes) = slopes {
            let k = 2 * (c.chunk_start[i] + m);
            let (ab, ba) = (&slopes[k], &slopes[k + 1]);
            for l in 0..LANES {
                g[l] = w[l] * (chain_i * ab[l] + chain_j[l] * ba[l]);
            }
        } else {
            let b = c.spheres(j0);
            for l in 0..LANES {
                let [ab, ba] = slopes_over_r(r2[l].sqrt(), a, b[l]);
                g[l] = w[l] * (chain_i * ab + chain_j[l] * ba);
            }
        }
        for (k, d) in [dx, dy, dz].iter().enumerate() {
            let theirs = lanes_mut(&mut sums.force[k], j0);
            for l in 0..LANES {
                own_force[k][l] -= g[l] * d[l];
                theirs[l] += g[l] * d[l];
            }
        }
    }
    for (column, own) in sums.force.iter_mut().zip(own_force) {
        column[i] += total(own);
    }
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

    /// One pass over every pair `i < j`, each visited once. The atoms are cut into fixed
    /// blocks of about equal pair counts, each with its own sums (on all threads for large
    /// molecules), added in block order: the same numbers on any number of threads.
    fn over_pairs(&self, c: &Columns, pass: Pass) -> Sums {
        let run = |block: &std::ops::Range<usize>| {
            let kept = matches!(pass, Pass::Integrals { keep_slopes: true });
            let mut sums = Sums::new(c.n + LANES, if kept { c.chunk_start[c.n] } else { 0 });
            for i in block.clone() {
                visit(pass, c, i, &mut sums);
            }
            sums
        };
        let parts: Vec<Sums> = if c.n >= PARALLEL_ATOMS {
            blocks(c.n).par_iter().map(run).collect()
        } else {
            vec![run(&(0..c.n))]
        };
        let mut parts = parts.into_iter();
        let mut total = parts.next().expect("at least one block");
        for part in parts {
            total.add(part);
        }
        total
    }

    /// Born radii and `dB/dI` (the derivative with respect to the pair-integral sum), and the
    /// pairs' slopes if kept.
    fn born_radii(&self, c: &Columns, keep_slopes: bool) -> (Vec<(f64, f64)>, Vec<[f64; LANES]>) {
        let Sums { atom, slopes, .. } = self.over_pairs(c, Pass::Integrals { keep_slopes });
        let born = atom[..c.n]
            .iter()
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
            .collect();
        (born, slopes)
    }

    /// Solvation energy (kJ/mol), adding its forces to `f`.
    pub fn energy_forces(&self, x: &[[f64; 3]], f: &mut [[f64; 3]]) -> f64 {
        self.solvation(x, f, x.len() < KEEP_SLOPES_BELOW, Isa::widest())
    }

    fn solvation(&self, x: &[[f64; 3]], f: &mut [[f64; 3]], keep_slopes: bool, isa: Isa) -> f64 {
        let n = self.radii.len();
        let c = Columns::new(self, x, isa);
        debug_assert!(
            !keep_slopes || n < PARALLEL_ATOMS,
            "slopes kept in one block only"
        );
        let (born, slopes) = self.born_radii(&c, keep_slopes);
        let prefactor = -COULOMB * (1.0 / SOLUTE - 1.0 / SOLVENT);
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
            energy += 0.5 * prefactor * qi * qi / bi + surface;
            de_db[i] = -0.5 * prefactor * qi * qi / (bi * bi) - 6.0 * surface / bi;
        }
        // Pairs: energy, direct forces and each pair's dE/dB of both atoms.
        let born_columns = Born {
            radius: c.padded(born.iter().map(|b| b.0), 1.0),
            inverse: c.padded(born.iter().map(|b| 1.0 / b.0), 1.0),
        };
        let pairs = self.over_pairs(
            &c,
            Pass::Pairs {
                born: &born_columns,
                prefactor,
            },
        );
        energy += pairs.energy;
        add_into(&mut de_db, &pairs.atom[..n]);
        // Through the Born radii: dE/dr_ij = Σ over both atoms of dE/dB · dB/dI · dh/dr.
        let chain = c.padded(de_db.iter().zip(&born).map(|(d, b)| d * b.1), 0.0);
        let slopes = keep_slopes.then_some(&slopes[..]);
        let through = self.over_pairs(
            &c,
            Pass::ThroughBorn {
                chain: &chain,
                slopes,
            },
        );
        for (i, fi) in f.iter_mut().enumerate() {
            for (k, fik) in fi.iter_mut().enumerate() {
                *fik += pairs.force[k][i] + through.force[k][i];
            }
        }
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

fn add_into(total: &mut [f64], part: &[f64]) {
    for (t, p) in total.iter_mut().zip(part) {
        *t += p;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The integral as written in the papers: branches, one division per reciprocal, std's `ln`.
    fn hct_reference(r: f64, rho: f64, s: f64) -> f64 {
        if rho >= r + s {
            return 0.0;
        }
        let lower = if rho > (r - s).abs() {
            rho
        } else {
            (r - s).abs()
        };
        let upper = r + s;
        let (il, iu) = (1.0 / lower, 1.0 / upper);
        let h = il - iu
            + 0.25 * r * (iu * iu - il * il)
            + 0.5 / r * (lower / upper).ln()
            + 0.25 * s * s / r * (il * il - iu * iu);
        if rho < s - r {
            h + 2.0 * (1.0 / rho - il)
        } else {
            h
        }
    }

    fn sphere(rho: f64, s: f64) -> Sphere {
        Sphere {
            rho,
            inv_rho: 1.0 / rho,
            s,
        }
    }

    #[test]
    fn the_pair_integrals_are_the_formula_and_their_derivatives_its_slope_in_every_branch() {
        // Apart, overlapping, one inside the other's sphere, one's sphere inside the other.
        for (r, a, b) in [
            (0.5, (0.15, 0.12), (0.11, 0.09)),
            (0.2, (0.15, 0.12), (0.14, 0.1)),
            (0.05, (0.06, 0.2), (0.2, 0.05)),
            (0.3, (0.1, 0.35), (0.35, 0.1)),
            (0.02, (0.3, 0.01), (0.1, 0.25)),
            (2.5, (0.18, 0.15), (0.12, 0.1)),
        ] {
            let (a, b) = (sphere(a.0, a.1), sphere(b.0, b.1));
            let h = |r: f64| hct_pair(r, a, b).0;
            let want = [hct_reference(r, a.rho, b.s), hct_reference(r, b.rho, a.s)];
            let d = 1e-7;
            for (way, want) in want.into_iter().enumerate() {
                let (value, slope) = h(r)[way];
                assert!(
                    (value - want).abs() <= 1e-13 * want.abs().max(1.0),
                    "{r} {way}: {value} vs {want}"
                );
                let fd = (h(r + d)[way].0 - h(r - d)[way].0) / (2.0 * d);
                assert!(
                    (slope - fd).abs() < 1e-5 * fd.abs().max(1.0),
                    "{r} {way}: {slope} vs {fd}"
                );
            }
        }
    }

    /// `n` charged atoms of varied radii along a coil 0.05 nm a step: every geometric case of
    /// the pair integrals occurs.
    fn coil(n: usize) -> (Obc2, Vec<[f64; 3]>) {
        let x = (0..n)
            .map(|i| {
                let t = i as f64;
                [0.05 * t, 0.8 * (0.3 * t).sin(), 0.7 * (0.2 * t).cos()]
            })
            .collect();
        let charges: Vec<f64> = (0..n).map(|i| 0.5 * (0.9 * i as f64).sin()).collect();
        let radii: Vec<f64> = (0..n).map(|i| 0.12 + 0.01 * (i % 7) as f64).collect();
        let screen: Vec<f64> = (0..n).map(|i| 0.72 + 0.05 * (i % 3) as f64).collect();
        (Obc2::new(&charges, &radii, &screen), x)
    }

    #[test]
    fn kept_slopes_give_the_same_bits_as_slopes_computed_again() {
        // 37 atoms: rows of every length modulo the lanes.
        let n = 37;
        let (gb, x) = coil(n);
        let (mut kept, mut again) = (vec![[0.0; 3]; n], vec![[0.0; 3]; n]);
        let e_kept = gb.solvation(&x, &mut kept, true, Isa::widest());
        let e_again = gb.solvation(&x, &mut again, false, Isa::widest());
        assert_eq!(e_kept.to_bits(), e_again.to_bits());
        assert!(kept.iter().flatten().any(|v| v.abs() > 1.0));
        for (a, b) in kept.iter().flatten().zip(again.iter().flatten()) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }

    #[test]
    fn every_instruction_set_gives_the_same_bits() {
        // 300 atoms: the pairs split into blocks over threads, the slopes computed twice.
        let n = 300;
        let (gb, x) = coil(n);
        let run = |isa| {
            let mut f = vec![[0.0; 3]; n];
            let e = gb.solvation(&x, &mut f, false, isa);
            (e, f)
        };
        let (e0, f0) = run(Isa::PORTABLE);
        assert!(e0.is_finite() && f0.iter().flatten().any(|v| v.abs() > 1.0));
        let available = Isa::available();
        eprintln!("instruction sets here: {available:?}");
        for isa in available {
            let (e, f) = run(isa);
            assert_eq!(e.to_bits(), e0.to_bits(), "{isa:?}");
            for (a, b) in f.iter().flatten().zip(f0.iter().flatten()) {
                assert_eq!(a.to_bits(), b.to_bits(), "{isa:?}");
            }
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
