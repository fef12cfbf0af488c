//! Atoms and residues of a molecule, and finding atoms by `residue:name` or serial number.

use crate::error::{Error, Result};

/// Element symbols by atomic number (up to argon: what small organic molecules hold).
const ELEMENTS: [&str; 19] = [
    "X", "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S",
    "Cl", "Ar",
];

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
        usize::try_from(self.atomic_numbers[i])
            .ok()
            .and_then(|z| ELEMENTS.get(z))
            .copied()
            .unwrap_or("X")
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
