//! A force field from an AMBER topology (prmtop) as OpenMM's `AmberPrmtopFile` reads it:
//! elements from `ATOMIC_NUMBER` (else from masses and names), bonds, angles, proper and
//! improper torsions with per-dihedral 1-4 scaling (`SCEE`/`SCNB`), CMAP, Lennard-Jones and
//! Coulomb without cutoff, and the radii and screening factors of implicit solvent. Whatever
//! the file holds that `tps` does not compute (a periodic box, extra points, polarisability,
//! 10-12 hydrogen-bond terms, CHARMM-style terms) is refused with the flag named, never
//! silently dropped.

use std::collections::HashSet;

use super::cmap::{CmapGrid, CmapTerm};
use super::forcefield::{Angle, Bond, ForceField, Pair, Torsion, WidePairs};
use super::implicit::Obc2;
use super::prmtop::Prmtop;
use super::topology::{Topology, element_of_mass};
use super::units::COULOMB;
use crate::error::{Error, Result};

/// AMBER stores charges multiplied by this factor.
const AMBER_CHARGE: f64 = 18.2223;
const KCAL: f64 = 4.184;

/// Entries of `%FLAG POINTERS` that must be 0 (or absent) for a system this engine computes, and
/// why.
const UNSUPPORTED_POINTERS: [(usize, &str, &str); 5] = [
    (
        9,
        "NPARM",
        "a locally-enhanced-sampling (LES) topology; this engine computes plain topologies",
    ),
    (
        20,
        "IFPERT",
        "a perturbation (free-energy) topology; this engine computes plain topologies",
    ),
    (
        27,
        "IFBOX",
        "a periodic box (solvent in it): this engine computes molecules in vacuum or implicit \
         solvent; strip the solvent (e.g. ParmEd's `strip :WAT,Na+,Cl-` and `setbox` off)",
    ),
    (
        29,
        "IFCAP",
        "a solvent cap; this engine computes molecules in vacuum or implicit solvent",
    ),
    (
        30,
        "NUMEXTRA",
        "extra points (virtual sites, e.g. 4-site water); this engine does not compute them",
    ),
];

/// Sections that carry terms this engine does not compute.
const UNSUPPORTED_FLAGS: [(&str, &str); 4] = [
    ("IPOL", "polarisable force field"),
    (
        "CHARMM_UREY_BRADLEY",
        "CHARMM (chamber) topology with Urey–Bradley terms",
    ),
    ("LENNARD_JONES_CCOEF", "12-6-4 Lennard-Jones (ion) terms"),
    ("POLARIZABILITY", "polarisable force field"),
];

fn bad(p: &Prmtop, flag: &str, message: impl std::fmt::Display) -> Error {
    Error::Parse {
        file: p.source().into(),
        message: format!("%FLAG {flag}: {message}"),
    }
}

/// Refuses a topology holding terms this engine does not compute.
fn check_supported(p: &Prmtop, pointers: &[i64]) -> Result<()> {
    for (k, name, why) in UNSUPPORTED_POINTERS {
        if pointers.get(k).is_some_and(|&v| v > 0) {
            return Err(bad(
                p,
                "POINTERS",
                format!("{name} = {} marks {why}", pointers[k]),
            ));
        }
    }
    for (flag, what) in UNSUPPORTED_FLAGS {
        let used = match flag {
            "IPOL" => p.ints(flag).is_ok_and(|v| v.iter().any(|&x| x != 0)),
            _ => p.has(flag),
        };
        if used {
            return Err(bad(
                p,
                flag,
                format!("a {what}: this engine does not compute it"),
            ));
        }
    }
    Ok(())
}

/// Atoms and residues; elements from `ATOMIC_NUMBER`, or from masses (names decide where a
/// mass is ambiguous, e.g. repartitioned hydrogens).
fn topology(p: &Prmtop, n: usize, nres: usize) -> Result<Topology> {
    let names = p.strings("ATOM_NAME")?;
    p.expect_len("ATOM_NAME", &names, n)?;
    let charges: Vec<f64> = p
        .floats("CHARGE")?
        .iter()
        .map(|q| q / AMBER_CHARGE)
        .collect();
    p.expect_len("CHARGE", &charges, n)?;
    let masses = p.floats("MASS")?;
    p.expect_len("MASS", &masses, n)?;
    let atomic_numbers = if p.has("ATOMIC_NUMBER") {
        let z = p.ints("ATOMIC_NUMBER")?;
        p.expect_len("ATOMIC_NUMBER", &z, n)?;
        z
    } else {
        masses
            .iter()
            .zip(&names)
            .enumerate()
            .map(|(i, (m, name))| {
                element_of_mass(*m, name).ok_or_else(|| {
                    bad(
                        p,
                        "MASS",
                        format!(
                            "atom {} ({name}): no element has mass {m} and the file has no \
                             ATOMIC_NUMBER",
                            i + 1
                        ),
                    )
                })
            })
            .collect::<Result<_>>()?
    };
    let residue_names = p.strings("RESIDUE_LABEL")?;
    p.expect_len("RESIDUE_LABEL", &residue_names, nres)?;
    let res_ptr = p.ints("RESIDUE_POINTER")?;
    p.expect_len("RESIDUE_POINTER", &res_ptr, nres)?;
    let mut residue_of = vec![0; n];
    for (r, &start) in res_ptr.iter().enumerate() {
        let end = res_ptr.get(r + 1).map_or(n, |&e| e as usize - 1);
        for slot in residue_of.iter_mut().take(end).skip(start as usize - 1) {
            *slot = r;
        }
    }
    Ok(Topology {
        names,
        residue_of,
        residue_names,
        masses,
        atomic_numbers,
        charges,
    })
}

/// Reads atom indices (stored ×3) and parameter indices (1-based) of a prmtop.
struct Indices<'a> {
    p: &'a Prmtop,
    n: usize,
}

impl Indices<'_> {
    fn atom(&self, flag: &str, v: i64) -> Result<usize> {
        let a = (v.unsigned_abs() / 3) as usize;
        if v % 3 != 0 || a >= self.n {
            return Err(bad(self.p, flag, format!("atom index {v} out of range")));
        }
        Ok(a)
    }

    fn param(&self, flag: &str, list: &[f64], v: i64) -> Result<f64> {
        list.get((v as usize).wrapping_sub(1))
            .copied()
            .ok_or_else(|| bad(self.p, flag, format!("parameter index {v} out of range")))
    }

    fn records(&self, flag: &str, width: usize) -> Result<Vec<i64>> {
        let v = self.p.ints(flag)?;
        if v.len() % width != 0 {
            return Err(bad(
                self.p,
                flag,
                format!("length is not a multiple of {width}"),
            ));
        }
        Ok(v)
    }
}

fn bonds(ix: &Indices) -> Result<Vec<Bond>> {
    let p = ix.p;
    let (k, r0) = (
        p.floats("BOND_FORCE_CONSTANT")?,
        p.floats("BOND_EQUIL_VALUE")?,
    );
    let mut bonds = Vec::new();
    for (flag, hydrogen) in [
        ("BONDS_INC_HYDROGEN", true),
        ("BONDS_WITHOUT_HYDROGEN", false),
    ] {
        for c in ix.records(flag, 3)?.chunks(3) {
            bonds.push(Bond {
                i: ix.atom(flag, c[0])?,
                j: ix.atom(flag, c[1])?,
                k: ix.param(flag, &k, c[2])? * KCAL * 100.0,
                r0: ix.param(flag, &r0, c[2])? * 0.1,
                hydrogen,
            });
        }
    }
    Ok(bonds)
}

fn angles(ix: &Indices) -> Result<Vec<Angle>> {
    let p = ix.p;
    let (k, t0) = (
        p.floats("ANGLE_FORCE_CONSTANT")?,
        p.floats("ANGLE_EQUIL_VALUE")?,
    );
    let mut angles = Vec::new();
    for flag in ["ANGLES_INC_HYDROGEN", "ANGLES_WITHOUT_HYDROGEN"] {
        for c in ix.records(flag, 4)?.chunks(4) {
            angles.push(Angle {
                i: ix.atom(flag, c[0])?,
                j: ix.atom(flag, c[1])?,
                k: ix.atom(flag, c[2])?,
                force: ix.param(flag, &k, c[3])? * KCAL,
                theta0: ix.param(flag, &t0, c[3])?,
            });
        }
    }
    Ok(angles)
}

/// Lennard-Jones `A`, `B` (kJ/mol nm¹², nm⁶) between atom types, refusing 10-12 terms.
struct LennardJones {
    ntypes: usize,
    types: Vec<usize>,
    table: Vec<(f64, f64)>,
}

impl LennardJones {
    fn read(p: &Prmtop, n: usize, ntypes: usize) -> Result<Self> {
        let types = p.ints("ATOM_TYPE_INDEX")?;
        p.expect_len("ATOM_TYPE_INDEX", &types, n)?;
        let (a, b) = (
            p.floats("LENNARD_JONES_ACOEF")?,
            p.floats("LENNARD_JONES_BCOEF")?,
        );
        let index = p.ints("NONBONDED_PARM_INDEX")?;
        p.expect_len("NONBONDED_PARM_INDEX", &index, ntypes * ntypes)?;
        let hbond = p.floats("HBOND_ACOEF").unwrap_or_default();
        let ix = Indices { p, n };
        let table = index
            .iter()
            .map(|&k| {
                if k > 0 {
                    Ok((
                        ix.param("LENNARD_JONES_ACOEF", &a, k)? * KCAL * 1e-12,
                        ix.param("LENNARD_JONES_BCOEF", &b, k)? * KCAL * 1e-6,
                    ))
                } else if hbond.get((-k) as usize - 1).is_some_and(|v| *v != 0.0) {
                    Err(bad(
                        p,
                        "HBOND_ACOEF",
                        "10-12 hydrogen-bond terms: this engine does not compute them",
                    ))
                } else {
                    Ok((0.0, 0.0))
                }
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            ntypes,
            types: types.iter().map(|&t| t as usize - 1).collect(),
            table,
        })
    }

    fn of(&self, i: usize, j: usize) -> (f64, f64) {
        self.table[self.ntypes * self.types[i] + self.types[j]]
    }
}

/// Torsions, the scaled 1-4 pairs they define, and those pairs' atoms (excluded from the
/// regular pairs).
type DihedralTerms = (Vec<Torsion>, Vec<Pair>, HashSet<(usize, usize)>);

/// Torsions and the scaled 1-4 pairs they define (each pair once, with the first dihedral's
/// `SCEE`/`SCNB`, as OpenMM does).
fn torsions(ix: &Indices, charges: &[f64], lj: &LennardJones) -> Result<DihedralTerms> {
    let p = ix.p;
    let (k, n, phase) = (
        p.floats("DIHEDRAL_FORCE_CONSTANT")?,
        p.floats("DIHEDRAL_PERIODICITY")?,
        p.floats("DIHEDRAL_PHASE")?,
    );
    let scee = p
        .floats("SCEE_SCALE_FACTOR")
        .unwrap_or_else(|_| vec![1.2; k.len()]);
    let scnb = p
        .floats("SCNB_SCALE_FACTOR")
        .unwrap_or_else(|_| vec![2.0; k.len()]);
    let (mut torsions, mut pairs, mut seen) = (Vec::new(), Vec::new(), HashSet::new());
    for flag in ["DIHEDRALS_INC_HYDROGEN", "DIHEDRALS_WITHOUT_HYDROGEN"] {
        for c in ix.records(flag, 5)?.chunks(5) {
            let atoms = [
                ix.atom(flag, c[0])?,
                ix.atom(flag, c[1])?,
                ix.atom(flag, c[2])?,
                ix.atom(flag, c[3])?,
            ];
            torsions.push(Torsion {
                atoms,
                barrier: ix.param(flag, &k, c[4])? * KCAL,
                periodicity: ix.param(flag, &n, c[4])?,
                phase: ix.param(flag, &phase, c[4])?,
                improper: c[3] < 0,
            });
            let (i, l) = (atoms[0].min(atoms[3]), atoms[0].max(atoms[3]));
            if c[2] >= 0 && c[3] >= 0 && seen.insert((i, l)) {
                let (a, b) = lj.of(i, l);
                let (ee, nb) = (ix.param(flag, &scee, c[4])?, ix.param(flag, &scnb, c[4])?);
                pairs.push(Pair {
                    i,
                    j: l,
                    a: a / nb,
                    b: b / nb,
                    qq: COULOMB * charges[i] * charges[l] / ee,
                });
            }
        }
    }
    Ok((torsions, pairs, seen))
}

/// CMAP maps (kJ/mol) and terms, if the file has them.
fn cmap(ix: &Indices) -> Result<(Vec<CmapGrid>, Vec<CmapTerm>)> {
    let p = ix.p;
    let prefix = if p.has("CMAP_COUNT") {
        ""
    } else if p.has("CHARMM_CMAP_COUNT") {
        "CHARMM_"
    } else {
        return Ok((Vec::new(), Vec::new()));
    };
    let flag = |name: &str| format!("{prefix}{name}");
    let count = p.ints(&flag("CMAP_COUNT"))?;
    let (terms, maps) = match count[..] {
        [t, m, ..] if t >= 0 && m >= 0 => (t as usize, m as usize),
        _ => return Err(bad(p, &flag("CMAP_COUNT"), "expected two counts")),
    };
    let resolution = p.ints(&flag("CMAP_RESOLUTION"))?;
    p.expect_len(&flag("CMAP_RESOLUTION"), &resolution, maps)?;
    let grids = (0..maps)
        .map(|m| {
            let name = flag(&format!("CMAP_PARAMETER_{:02}", m + 1));
            let size = resolution[m] as usize;
            let values: Vec<f64> = p.floats(&name)?.iter().map(|v| v * KCAL).collect();
            p.expect_len(&name, &values, size * size)?;
            Ok(CmapGrid::new(size, &values))
        })
        .collect::<Result<Vec<_>>>()?;
    let index = p.ints(&flag("CMAP_INDEX"))?;
    p.expect_len(&flag("CMAP_INDEX"), &index, 6 * terms)?;
    let terms = index
        .chunks(6)
        .map(|c| {
            let atoms: [usize; 5] = std::array::from_fn(|k| (c[k] - 1) as usize);
            if c[..5].iter().any(|&a| a < 1 || a as usize > ix.n)
                || c[5] < 1
                || c[5] as usize > maps
            {
                return Err(bad(
                    p,
                    &flag("CMAP_INDEX"),
                    format!("entry {c:?} out of range"),
                ));
            }
            Ok(CmapTerm {
                map: c[5] as usize - 1,
                atoms,
            })
        })
        .collect::<Result<_>>()?;
    Ok((grids, terms))
}

/// Molecules above this many atoms compute their regular pairs on the fly rather than list
/// them (a list grows with the square of the atoms).
const LISTED_ATOMS: usize = 600;

/// Regular pairs: every pair not in the exclusion list (which holds 1-2, 1-3 and 1-4), as a
/// list for small molecules, else on the fly.
fn regular_pairs(
    ix: &Indices,
    charges: &[f64],
    lj: LennardJones,
    fourteen: &HashSet<(usize, usize)>,
) -> Result<(Vec<Pair>, Option<WidePairs>)> {
    let p = ix.p;
    let n = ix.n;
    let counts = p.ints("NUMBER_EXCLUDED_ATOMS")?;
    p.expect_len("NUMBER_EXCLUDED_ATOMS", &counts, n)?;
    let list = p.ints("EXCLUDED_ATOMS_LIST")?;
    let mut excluded = HashSet::new();
    let mut cursor = 0usize;
    for (i, &c) in counts.iter().enumerate() {
        for _ in 0..c {
            let j = *list.get(cursor).ok_or_else(|| {
                bad(
                    p,
                    "EXCLUDED_ATOMS_LIST",
                    "shorter than NUMBER_EXCLUDED_ATOMS says",
                )
            })?;
            cursor += 1;
            if j > 0 {
                excluded.insert((i, j as usize - 1));
            }
        }
    }
    if n > LISTED_ATOMS {
        let mut partners = vec![Vec::new(); n];
        for &(i, j) in excluded.iter().chain(fourteen) {
            let (a, b) = (i.min(j), i.max(j));
            partners[a].push(b);
        }
        for p in &mut partners {
            p.sort_unstable();
            p.dedup();
        }
        return Ok((
            Vec::new(),
            Some(WidePairs {
                charges: charges.iter().map(|q| COULOMB.sqrt() * q).collect(),
                types: lj.types,
                ntypes: lj.ntypes,
                table: lj.table,
                excluded: partners,
            }),
        ));
    }
    let mut pairs = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            if !excluded.contains(&(i, j)) && !fourteen.contains(&(i, j)) {
                let (a, b) = lj.of(i, j);
                pairs.push(Pair {
                    i,
                    j,
                    a,
                    b,
                    qq: COULOMB * charges[i] * charges[j],
                });
            }
        }
    }
    Ok((pairs, None))
}

impl ForceField {
    /// Builds topology and parameters from a prmtop (vacuum; see [`ForceField::obc2`]).
    pub fn from_prmtop(p: &Prmtop) -> Result<(Topology, Self)> {
        let pointers = p.ints("POINTERS")?;
        if pointers.len() < 12 {
            return Err(bad(p, "POINTERS", "fewer than 12 entries"));
        }
        check_supported(p, &pointers)?;
        let (n, ntypes, nres) = (
            pointers[0] as usize,
            pointers[1] as usize,
            pointers[11] as usize,
        );
        let topology = topology(p, n, nres)?;
        let ix = Indices { p, n };
        let lj = LennardJones::read(p, n, ntypes)?;
        let (torsions, mut pairs, fourteen) = torsions(&ix, &topology.charges, &lj)?;
        let (regular, wide) = regular_pairs(&ix, &topology.charges, lj, &fourteen)?;
        pairs.extend(regular);
        let ff = ForceField::new(bonds(&ix)?, angles(&ix)?, torsions, pairs, cmap(&ix)?);
        Ok((
            topology,
            match wide {
                Some(w) => ff.with_wide_pairs(w),
                None => ff,
            },
        ))
    }

    /// OBC2 implicit solvent from the prmtop's `RADII` and `SCREEN`, as OpenMM builds it with
    /// `implicitSolvent=OBC2`.
    pub fn obc2(p: &Prmtop, topology: &Topology) -> Result<Obc2> {
        let missing = |flag: &str| {
            bad(
                p,
                flag,
                "missing: implicit solvent needs the topology's GB radii and screening factors \
                 (LEaP writes them; `set default PBRadii mbondi2` before saveAmberParm, or \
                 ParmEd's `changeRadii mbondi2`)",
            )
        };
        let radii: Vec<f64> = p
            .floats("RADII")
            .map_err(|_| missing("RADII"))?
            .iter()
            .map(|r| 0.1 * r)
            .collect();
        let screen = p.floats("SCREEN").map_err(|_| missing("SCREEN"))?;
        p.expect_len("RADII", &radii, topology.len())?;
        p.expect_len("SCREEN", &screen, topology.len())?;
        if radii.iter().any(|r| *r <= 0.009) {
            return Err(bad(p, "RADII", "a radius at or below 0.09 Å"));
        }
        Ok(Obc2::new(&topology.charges, &radii, &screen))
    }
}
