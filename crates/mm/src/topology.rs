//! Atoms and residues of a molecule, and finding atoms by `residue:name` or serial number.

use crate::error::{Error, Result};

/// Element symbols and standard atomic masses (amu) by atomic number, up to krypton and
/// iodine: what biomolecules, ligands and their ions hold.
const ELEMENTS: [(&str, f64); 37] = [
    ("X", 0.0),
    ("H", 1.008),
    ("He", 4.0026),
    ("Li", 6.94),
    ("Be", 9.0122),
    ("B", 10.81),
    ("C", 12.011),
    ("N", 14.007),
    ("O", 15.999),
    ("F", 18.998),
    ("Ne", 20.180),
    ("Na", 22.990),
    ("Mg", 24.305),
    ("Al", 26.982),
    ("Si", 28.085),
    ("P", 30.974),
    ("S", 32.06),
    ("Cl", 35.45),
    ("Ar", 39.948),
    ("K", 39.098),
    ("Ca", 40.078),
    ("Sc", 44.956),
    ("Ti", 47.867),
    ("V", 50.942),
    ("Cr", 51.996),
    ("Mn", 54.938),
    ("Fe", 55.845),
    ("Co", 58.933),
    ("Ni", 58.693),
    ("Cu", 63.546),
    ("Zn", 65.38),
    ("Ga", 69.723),
    ("Ge", 72.630),
    ("As", 74.922),
    ("Se", 78.971),
    ("Br", 79.904),
    ("Kr", 83.798),
];

/// Iodine, beyond the table's run of numbers.
const IODINE: (i64, f64) = (53, 126.90);

/// The atomic number of an atom known by its mass and name, as OpenMM infers it for prmtops
/// without `ATOMIC_NUMBER`: the element of nearest standard mass within 0.5 amu; hydrogen for
/// a light atom named `H…` (hydrogen mass repartitioning moves up to ~3 amu onto hydrogens);
/// the name where two elements are that close (K/Ar, Co/Ni).
pub fn element_of_mass(mass: f64, name: &str) -> Option<i64> {
    let upper = name.trim().to_ascii_uppercase();
    if upper.starts_with('H') && mass < 4.5 {
        return Some(1);
    }
    let mut candidates: Vec<(i64, f64)> = ELEMENTS
        .iter()
        .enumerate()
        .skip(1)
        .map(|(z, (_, m))| (z as i64, (m - mass).abs()))
        .chain(std::iter::once((IODINE.0, (IODINE.1 - mass).abs())))
        .filter(|(_, d)| *d < 0.5)
        .collect();
    candidates.sort_by(|a, b| a.1.total_cmp(&b.1));
    match candidates.as_slice() {
        [] => None,
        [(z, _)] => Some(*z),
        [first, ..] => Some(
            candidates
                .iter()
                .find(|(z, _)| {
                    let symbol = symbol(*z).to_ascii_uppercase();
                    upper.starts_with(&symbol)
                })
                .unwrap_or(first)
                .0,
        ),
    }
}

/// The symbol of atomic number `z` (`X` if unknown).
fn symbol(z: i64) -> &'static str {
    if z == IODINE.0 {
        return "I";
    }
    usize::try_from(z)
        .ok()
        .and_then(|z| ELEMENTS.get(z))
        .map_or("X", |e| e.0)
}

/// Atoms and residues.
#[derive(Debug, Clone)]
pub struct Topology {
    /// Atom names (`CA`, `HB1`, …).
    pub names: Vec<String>,
    /// Residue names, in order.
    pub residue_names: Vec<String>,
    /// Residue index (0-based) of every atom.
    pub residue_of: Vec<usize>,
    /// Masses, amu.
    pub masses: Vec<f64>,
    /// Atomic numbers.
    pub atomic_numbers: Vec<i64>,
    /// Partial charges, e.
    pub charges: Vec<f64>,
}

impl Topology {
    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no atoms.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Element symbol of atom `i` (`X` if unknown).
    pub fn element(&self, i: usize) -> &'static str {
        symbol(self.atomic_numbers[i])
    }

    /// Indices of the non-hydrogen atoms.
    pub fn heavy_atoms(&self) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| self.atomic_numbers[i] != 1)
            .collect()
    }

    /// `ALA2:CA`-style label of atom `i` (residue name and 1-based number, atom name).
    pub fn label(&self, i: usize) -> String {
        let r = self.residue_of[i];
        format!("{}{}:{}", self.residue_names[r], r + 1, self.names[i])
    }

    /// Finds an atom by a specification: `"2:CA"` or `"ALA2:CA"` (1-based residue number,
    /// optionally with its name, and atom name), or a 1-based serial number as in PDB files
    /// and PLUMED.
    pub fn find(&self, spec: &AtomSpec) -> Result<usize> {
        match spec {
            AtomSpec::Serial(s) => {
                if *s >= 1 && *s <= self.len() {
                    Ok(s - 1)
                } else {
                    Err(Error::Invalid(format!(
                        "atom serial {s} is out of range 1–{}",
                        self.len()
                    )))
                }
            }
            AtomSpec::Named(text) => self.find_named(text),
        }
    }

    fn find_named(&self, text: &str) -> Result<usize> {
        let bad = |why: &str| {
            let residues: Vec<String> = self
                .residue_names
                .iter()
                .enumerate()
                .map(|(r, n)| format!("{n}{}", r + 1))
                .collect();
            Error::Invalid(format!(
                "atom `{text}`: {why} (expected RESIDUE:ATOM such as `2:CA` or `ALA2:CA`; \
                 residues are {})",
                residues.join(" ")
            ))
        };
        let (residue, name) = text.split_once(':').ok_or_else(|| bad("no `:`"))?;
        let digits = residue.trim_start_matches(|c: char| !c.is_ascii_digit());
        let prefix = &residue[..residue.len() - digits.len()];
        let number: usize = digits.parse().map_err(|_| bad("no residue number"))?;
        let r = number
            .checked_sub(1)
            .filter(|&r| r < self.residue_names.len())
            .ok_or_else(|| bad("no such residue number"))?;
        if !prefix.is_empty() && prefix != self.residue_names[r] {
            return Err(bad(&format!(
                "residue {number} is {}, not {prefix}",
                self.residue_names[r]
            )));
        }
        (0..self.len())
            .find(|&i| self.residue_of[i] == r && self.names[i] == name)
            .ok_or_else(|| bad(&format!("no atom {name} in residue {number}")))
    }
}

/// An atom in a configuration file: a 1-based serial number or `RESIDUE:ATOM`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum AtomSpec {
    /// 1-based serial number (as PDB files and PLUMED count).
    Serial(usize),
    /// `2:CA` or `ALA2:CA`.
    Named(String),
}

impl std::fmt::Display for AtomSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            AtomSpec::Serial(s) => write!(f, "{s}"),
            AtomSpec::Named(n) => f.write_str(n),
        }
    }
}
