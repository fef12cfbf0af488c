//! AMBER-style force field: harmonic bonds and angles, periodic proper and improper torsions,
//! Lennard-Jones and Coulomb between non-excluded pairs plus scaled 1-4 pairs, no cutoff.
//!
//! Units are OpenMM's: nm, kJ/mol, amu, ps, elementary charges. Energies follow AMBER's
//! conventions: `K (r − r₀)²`, `K (θ − θ₀)²`, `V (1 + cos(nφ − γ))`, `A/r¹² − B/r⁶`.

use super::cmap::{CmapGrid, CmapTerm};
use super::dihedral::{add_dihedral_force, dihedral_cos_sin};
use super::implicit::Obc2;
use super::vector::{add_to, dot, sub};

#[derive(Debug, Clone, Copy)]
/// A harmonic bond `K (r − r₀)²`.
pub struct Bond {
    /// First atom.
    pub i: usize,
    /// Second atom.
    pub j: usize,
    /// Force constant `K`, kJ/(mol nm²).
    pub k: f64,
    /// Rest length, nm.
    pub r0: f64,
    /// Whether one of the atoms is a hydrogen (for constraints).
    pub hydrogen: bool,
}

#[derive(Debug, Clone, Copy)]
/// A harmonic angle `K (θ − θ₀)²` at atom `j`.
pub struct Angle {
    /// First atom.
    pub i: usize,
    /// Second atom.
    pub j: usize,
    /// Third atom.
    pub k: usize,
    /// Force constant `K`, kJ/(mol rad²).
    pub force: f64,
    /// Rest angle, rad.
    pub theta0: f64,
}

#[derive(Debug, Clone, Copy)]
/// A periodic torsion `V (1 + cos(nφ − γ))`.
pub struct Torsion {
    /// The four atoms.
    pub atoms: [usize; 4],
    /// Barrier height `V`, kJ/mol.
    pub barrier: f64,
    /// Periodicity `n`.
    pub periodicity: f64,
    /// Phase `γ`, rad.
    pub phase: f64,
    /// Whether it is an improper torsion.
    pub improper: bool,
}

/// A non-bonded pair with its (possibly 1-4 scaled) parameters.
#[derive(Debug, Clone, Copy)]
pub struct Pair {
    /// First atom.
    pub i: usize,
    /// Second atom.
    pub j: usize,
    /// LJ `A` (kJ/mol nm¹²) and `B` (kJ/mol nm⁶).
    pub a: f64,
    /// LJ `B` (kJ/mol nm⁶).
    pub b: f64,
    /// `COULOMB · q_i q_j` (kJ nm/mol), scaled for 1-4 pairs.
    pub qq: f64,
}

/// The regular (unscaled, non-excluded) pairs of a large molecule, computed on the fly: a list
/// of every pair would grow with the square of the atoms.
#[derive(Debug, Clone)]
pub struct WidePairs {
    /// `√COULOMB · q` of every atom.
    pub charges: Vec<f64>,
    /// Lennard-Jones type of every atom.
    pub types: Vec<usize>,
    /// Number of types.
    pub ntypes: usize,
    /// `(A, B)` by type pair, `ntypes × ntypes`.
    pub table: Vec<(f64, f64)>,
    /// Partners `j > i` of every atom that are excluded (1-2, 1-3) or scaled (1-4), sorted.
    pub excluded: Vec<Vec<usize>>,
}

impl WidePairs {
    /// Lennard-Jones and Coulomb energies of every regular pair, adding forces to `f`.
    fn energy_forces(&self, x: &[[f64; 3]], f: &mut [[f64; 3]], wl: f64, wc: f64) -> (f64, f64) {
        let n = self.charges.len();
        let (mut e_lj, mut e_c) = (0.0, 0.0);
        for i in 0..n {
            let mut skip = self.excluded[i].iter().peekable();
            let (qi, ti) = (self.charges[i], self.types[i] * self.ntypes);
            let mut fi = [0.0; 3];
            for j in i + 1..n {
                if skip.peek() == Some(&&j) {
                    skip.next();
                    continue;
                }
                let (a, b) = self.table[ti + self.types[j]];
                let d = sub(x[i], x[j]);
                let r2 = dot(d, d);
                let inv2 = 1.0 / r2;
                let inv6 = inv2 * inv2 * inv2;
                let el = wl * (a * inv6 * inv6 - b * inv6);
                let ec = wc * qi * self.charges[j] * inv2.sqrt();
                e_lj += el;
                e_c += ec;
                let s = (wl * (12.0 * a * inv6 * inv6 - 6.0 * b * inv6) + ec) * inv2;
                add_to(&mut fi, d, s);
                add_to(&mut f[j], d, -s);
            }
            add_to(&mut f[i], fi, 1.0);
        }
        (e_lj, e_c)
    }
}

/// Energy by term, kJ/mol.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Energies {
    /// Harmonic bonds.
    pub bond: f64,
    /// Harmonic angles.
    pub angle: f64,
    /// Proper and improper torsions.
    pub torsion: f64,
    /// CMAP corrections.
    pub cmap: f64,
    /// Lennard-Jones.
    pub lj: f64,
    /// Coulomb.
    pub coulomb: f64,
    /// Implicit solvent (generalized Born and surface term).
    pub solvation: f64,
}

impl Energies {
    /// The energy of one term.
    pub fn of(&self, term: Term) -> f64 {
        match term {
            Term::Bond => self.bond,
            Term::Angle => self.angle,
            Term::Torsion => self.torsion,
            Term::Cmap => self.cmap,
            Term::LennardJones => self.lj,
            Term::Coulomb => self.coulomb,
            Term::Solvation => self.solvation,
        }
    }

    /// Every term's energy in the order of [`Term::ALL`].
    pub fn by_term(&self) -> [f64; 7] {
        Term::ALL.map(|t| self.of(t))
    }

    /// Sum of all terms.
    pub fn total(&self) -> f64 {
        self.bond + self.angle + self.torsion + self.cmap + self.lj + self.coulomb + self.solvation
    }
}

/// Which terms to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    /// Harmonic bonds.
    Bond,
    /// Harmonic angles.
    Angle,
    /// Periodic torsions.
    Torsion,
    /// Lennard-Jones pairs.
    LennardJones,
    /// Coulomb pairs.
    Coulomb,
    /// CMAP corrections.
    Cmap,
    /// Implicit solvent.
    Solvation,
}

impl Term {
    /// Its name as a table's column.
    pub fn name(self) -> &'static str {
        match self {
            Term::Bond => "bond",
            Term::Angle => "angle",
            Term::Torsion => "torsion",
            Term::Cmap => "cmap",
            Term::LennardJones => "lj",
            Term::Coulomb => "coulomb",
            Term::Solvation => "solvation",
        }
    }

    /// Every term.
    pub const ALL: [Term; 7] = [
        Term::Bond,
        Term::Angle,
        Term::Torsion,
        Term::Cmap,
        Term::LennardJones,
        Term::Coulomb,
        Term::Solvation,
    ];
}

/// All torsion terms acting on one atom quadruple, evaluated from one geometry: integer
/// periodicities use `cos nφ`, `sin nφ` by recurrence from `cos φ`, `sin φ` (no trigonometric
/// calls); others fall back to the angle itself.
#[derive(Debug, Clone)]
struct TorsionGroup {
    atoms: [usize; 4],
    /// `(V, n, cos γ, sin γ)`.
    terms: Vec<(f64, f64, f64, f64)>,
}

/// The parameters of a molecule.
#[derive(Debug, Clone)]
pub struct ForceField {
    /// Bonds.
    pub bonds: Vec<Bond>,
    /// Angles.
    pub angles: Vec<Angle>,
    /// Torsions.
    pub torsions: Vec<Torsion>,
    /// Non-bonded pairs (scaled 1-4, and the regular ones of small molecules).
    pub pairs: Vec<Pair>,
    /// The regular pairs of large molecules, computed on the fly.
    pub wide: Option<WidePairs>,
    groups: Vec<TorsionGroup>,
    /// CMAP maps and the terms that read them.
    cmap_maps: Vec<CmapGrid>,
    cmap_terms: Vec<CmapTerm>,
    /// Implicit solvent, if any.
    solvation: Option<Obc2>,
}

fn group_torsions(torsions: &[Torsion]) -> Vec<TorsionGroup> {
    let mut groups: Vec<TorsionGroup> = Vec::new();
    for t in torsions {
        let term = (t.barrier, t.periodicity, t.phase.cos(), t.phase.sin());
        match groups.iter_mut().find(|g| g.atoms == t.atoms) {
            Some(g) => g.terms.push(term),
            None => groups.push(TorsionGroup {
                atoms: t.atoms,
                terms: vec![term],
            }),
        }
    }
    groups
}

impl ForceField {
    /// Parameters of the given terms (torsions grouped by atoms for evaluation).
    pub fn new(
        bonds: Vec<Bond>,
        angles: Vec<Angle>,
        torsions: Vec<Torsion>,
        pairs: Vec<Pair>,
        cmap: (Vec<CmapGrid>, Vec<CmapTerm>),
    ) -> Self {
        Self {
            bonds,
            angles,
            groups: group_torsions(&torsions),
            torsions,
            pairs,
            wide: None,
            cmap_maps: cmap.0,
            cmap_terms: cmap.1,
            solvation: None,
        }
    }

    /// Adds the regular pairs of a large molecule, computed on the fly.
    pub fn with_wide_pairs(self, wide: WidePairs) -> Self {
        Self {
            wide: Some(wide),
            ..self
        }
    }

    /// Adds implicit solvent.
    pub fn with_solvation(self, solvation: Obc2) -> Self {
        Self {
            solvation: Some(solvation),
            ..self
        }
    }

    /// Whether implicit solvent (OBC2) is part of the field.
    pub fn is_solvated(&self) -> bool {
        self.solvation.is_some()
    }

    /// Energy and forces of the selected terms; `forces` is overwritten with `−∇E`.
    pub fn compute_terms(
        &self,
        x: &[[f64; 3]],
        forces: &mut [[f64; 3]],
        terms: &[Term],
    ) -> Energies {
        forces.iter_mut().for_each(|f| *f = [0.0; 3]);
        let mut e = Energies::default();
        let has = |t: Term| terms.contains(&t);
        if has(Term::Bond) {
            e.bond = self.bond_terms(x, forces);
        }
        if has(Term::Angle) {
            e.angle = self.angle_terms(x, forces);
        }
        if has(Term::Torsion) {
            e.torsion = self.torsion_terms(x, forces);
        }
        if has(Term::Cmap) && !self.cmap_terms.is_empty() {
            e.cmap = super::cmap::energy_forces(&self.cmap_maps, &self.cmap_terms, x, forces);
        }
        if has(Term::Solvation)
            && let Some(s) = &self.solvation
        {
            e.solvation = s.energy_forces(x, forces);
        }
        let (lj, coul) = (has(Term::LennardJones), has(Term::Coulomb));
        if lj || coul {
            let (a, b) = self.nonbonded(x, forces, lj, coul);
            e.lj = a;
            e.coulomb = b;
        }
        e
    }

    /// All terms.
    pub fn compute(&self, x: &[[f64; 3]], forces: &mut [[f64; 3]]) -> Energies {
        self.compute_terms(x, forces, &Term::ALL)
    }

    fn bond_terms(&self, x: &[[f64; 3]], f: &mut [[f64; 3]]) -> f64 {
        let mut e = 0.0;
        for b in &self.bonds {
            let d = sub(x[b.i], x[b.j]);
            let r = dot(d, d).sqrt();
            let dr = r - b.r0;
            e += b.k * dr * dr;
            let s = -2.0 * b.k * dr / r;
            add_to(&mut f[b.i], d, s);
            add_to(&mut f[b.j], d, -s);
        }
        e
    }

    fn angle_terms(&self, x: &[[f64; 3]], f: &mut [[f64; 3]]) -> f64 {
        let mut e = 0.0;
        for a in &self.angles {
            let (u, v) = (sub(x[a.i], x[a.j]), sub(x[a.k], x[a.j]));
            let (uu, vv, uv) = (dot(u, u), dot(v, v), dot(u, v));
            let (ru, rv) = (uu.sqrt(), vv.sqrt());
            let cos = (uv / (ru * rv)).clamp(-1.0, 1.0);
            let theta = cos.acos();
            let dt = theta - a.theta0;
            e += a.force * dt * dt;
            let sin = (1.0 - cos * cos).sqrt().max(1e-12);
            // dθ/dx_i = −(v/(|u||v|) − cos u/|u|²)/sin θ; F = −dV/dθ dθ/dx.
            let c = 2.0 * a.force * dt / sin;
            let fi: [f64; 3] = std::array::from_fn(|k| c * (v[k] / (ru * rv) - cos * u[k] / uu));
            let fk: [f64; 3] = std::array::from_fn(|k| c * (u[k] / (ru * rv) - cos * v[k] / vv));
            add_to(&mut f[a.i], fi, 1.0);
            add_to(&mut f[a.k], fk, 1.0);
            add_to(
                &mut f[a.j],
                [fi[0] + fk[0], fi[1] + fk[1], fi[2] + fk[2]],
                -1.0,
            );
        }
        e
    }

    fn torsion_terms(&self, x: &[[f64; 3]], f: &mut [[f64; 3]]) -> f64 {
        let mut e = 0.0;
        for g in &self.groups {
            let Some((c, s)) = dihedral_cos_sin(x, g.atoms) else {
                continue;
            };
            let mut dv = 0.0;
            for &(v, n, cg, sg) in &g.terms {
                // cos(nφ − γ) = cos nφ cos γ + sin nφ sin γ.
                let (cn, sn) = if n.fract() == 0.0 && (1.0..=8.0).contains(&n) {
                    let (mut cn, mut sn) = (c, s);
                    for _ in 1..n as usize {
                        (cn, sn) = (cn * c - sn * s, sn * c + cn * s);
                    }
                    (cn, sn)
                } else {
                    let phi = s.atan2(c);
                    ((n * phi).cos(), (n * phi).sin())
                };
                e += v * (1.0 + cn * cg + sn * sg);
                dv -= v * n * (sn * cg - cn * sg);
            }
            add_dihedral_force(x, g.atoms, dv, f);
        }
        e
    }

    fn nonbonded(&self, x: &[[f64; 3]], f: &mut [[f64; 3]], lj: bool, coulomb: bool) -> (f64, f64) {
        let (mut e_lj, mut e_c) = (0.0, 0.0);
        let (wl, wc) = (f64::from(u8::from(lj)), f64::from(u8::from(coulomb)));
        for p in &self.pairs {
            let d = sub(x[p.i], x[p.j]);
            let r2 = dot(d, d);
            let inv2 = 1.0 / r2;
            let inv6 = inv2 * inv2 * inv2;
            let inv1 = inv2.sqrt();
            let el = wl * (p.a * inv6 * inv6 - p.b * inv6);
            let ec = wc * p.qq * inv1;
            e_lj += el;
            e_c += ec;
            // −dE/dr / r for both terms.
            let s = (wl * (12.0 * p.a * inv6 * inv6 - 6.0 * p.b * inv6) + ec) * inv2;
            add_to(&mut f[p.i], d, s);
            add_to(&mut f[p.j], d, -s);
        }
        if let Some(w) = &self.wide {
            let (a, b) = w.energy_forces(x, f, wl, wc);
            e_lj += a;
            e_c += b;
        }
        (e_lj, e_c)
    }
}
