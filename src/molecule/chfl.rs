//! A molecule's structures to and from files (chemfiles, and the strict DCD reader), beside
//! the topology they must match: every read is checked against it (atom count, names and
//! elements where the file has them), and writers give viewers names, elements, residues and
//! bonds.

use std::path::Path;

use chemfiles::{Atom, Frame, Residue};

use super::topology::Topology;
use crate::error::{Error, Result};
use crate::output::trajectory::{ReadFrames, read_frames, write_frames};

/// Structures read from a file and checked against a topology, in nm.
#[derive(Debug, Clone)]
pub struct Structures {
    /// Positions of every frame, nm.
    pub frames: Vec<Vec<[f64; 3]>>,
    /// Things a chemist should know (non-finite coordinates, units that look like nm).
    pub warnings: Vec<String>,
    /// Atoms whose names differ from the topology's although their elements agree (another
    /// naming convention, e.g. OpenMM's PDB names `H1 H2 H3` for AMBER's `HH31 HH32 HH33`).
    pub renamed: Vec<String>,
    /// Time of every frame (ps), where the file records it.
    pub times_ps: Option<Vec<f64>>,
}

/// Reads every frame of `path` (Å in the file) as nm, checked against `topology`.
pub fn read(path: &Path, topology: &Topology) -> Result<Structures> {
    let read = read_frames(path)?;
    let renamed = check_atoms(path, &read, topology)?;
    if let Some(first) = renamed.first() {
        tracing::info!(
            "{}: {} atom names differ from the topology's by convention only (first: {first}); \
             their elements and order agree",
            path.display(),
            renamed.len()
        );
    }
    let mut warnings = Vec::new();
    if let Some(k) = read
        .frames
        .iter()
        .position(|f| f.iter().flatten().any(|v| !v.is_finite()))
    {
        warnings.push(format!(
            "{}: frame {k} has non-finite coordinates",
            path.display()
        ));
    }
    if let Some(d) = typical_neighbour_distance(&read.frames[0])
        && d < 0.4
    {
        warnings.push(format!(
            "{}: atoms sit {d:.3} apart on average from their nearest neighbour; the file looks \
             like it holds nm, but these formats hold Å",
            path.display()
        ));
    }
    Ok(Structures {
        times_ps: read.times_ps,
        frames: read
            .frames
            .into_iter()
            .map(|f| f.into_iter().map(|p| p.map(|c| 0.1 * c)).collect())
            .collect(),
        warnings,
        renamed,
    })
}

/// PDB names may put a leading digit last (`1HB` for `HB1`).
fn canonical_name(name: &str) -> String {
    let name = name.trim();
    match name.chars().next() {
        Some(c) if c.is_ascii_digit() && name.len() > 1 => format!("{}{c}", &name[1..]),
        _ => name.to_string(),
    }
}

/// A residue name with AMBER's protonation and disulfide variants folded into the PDB name.
fn canonical_residue(name: &str) -> &str {
    match name.trim() {
        "HIE" | "HID" | "HIP" | "HSD" | "HSE" | "HSP" => "HIS",
        "CYX" | "CYM" => "CYS",
        "ASH" => "ASP",
        "GLH" => "GLU",
        "LYN" => "LYS",
        other => other,
    }
}

/// The atom of `i`'s residue in the topology, other than `i`, that carries `name`: a heavy
/// atom's name found elsewhere means the file's atoms are in another order. (Hydrogens are
/// left out: conventions number them differently, `HB1 HB2` for `HB2 HB3`.)
fn named_elsewhere(topology: &Topology, i: usize, name: &str) -> Option<usize> {
    if topology.element(i) == "H" {
        return None;
    }
    let wanted = canonical_name(name);
    let residue = topology.residue_of[i];
    (0..topology.len()).find(|&j| {
        j != i
            && topology.residue_of[j] == residue
            && topology.element(j) != "H"
            && canonical_name(&topology.names[j]) == wanted
    })
}

/// Checks a file's residue names (where it has them) against the topology's.
fn check_residues(path: &Path, read: &ReadFrames, topology: &Topology) -> Result<()> {
    for (i, residue) in read.residues.iter().enumerate() {
        let expected = &topology.residue_names[topology.residue_of[i]];
        if !residue.trim().is_empty() && canonical_residue(residue) != canonical_residue(expected) {
            return Err(Error::Invalid(format!(
                "{}: atom {} `{}` is in residue {} in the file, but the topology has {} there: \
                 the file belongs to another molecule or its atoms are in another order",
                path.display(),
                i + 1,
                read.names[i],
                residue.trim(),
                topology.label(i)
            )));
        }
    }
    Ok(())
}

/// Checks the atoms of a file against the topology, by residue, element and order: the first
/// atom of another element, residue or heavy-atom name of the topology is named. Names that
/// differ while the elements agree are another naming convention (PDB against AMBER),
/// returned as `file name for topology label`.
fn check_atoms(path: &Path, read: &ReadFrames, topology: &Topology) -> Result<Vec<String>> {
    let n = read.names.len();
    if n != topology.len() {
        return Err(Error::Invalid(format!(
            "{}: {n} atoms, but the topology has {}",
            path.display(),
            topology.len()
        )));
    }
    check_residues(path, read, topology)?;
    let mut renamed = Vec::new();
    for i in 0..n {
        let (name, element) = (&read.names[i], &read.elements[i]);
        let same_name = canonical_name(name) == canonical_name(&topology.names[i]);
        let element_ok = if element.is_empty() {
            // No element in the file: the name's first letter stands for it.
            name.is_empty()
                || same_name
                || name
                    .trim()
                    .trim_start_matches(|c: char| c.is_ascii_digit())
                    .to_ascii_uppercase()
                    .starts_with(&topology.element(i).to_ascii_uppercase())
        } else {
            element.eq_ignore_ascii_case(topology.element(i))
                // XYZ files may carry atom names as species: then check those as names.
                || canonical_name(element) == canonical_name(&topology.names[i])
        };
        if element_ok && !name.is_empty() && !same_name && name != element {
            if let Some(j) = named_elsewhere(topology, i, name) {
                return Err(Error::Invalid(format!(
                    "{}: atom {} is `{}` in the file, but the topology has {} there and `{}` \
                     is its atom {} ({}): the atoms are in another order",
                    path.display(),
                    i + 1,
                    name.trim(),
                    topology.label(i),
                    name.trim(),
                    j + 1,
                    topology.label(j)
                )));
            }
            renamed.push(format!("{name} for {}", topology.label(i)));
        }
        if !element_ok {
            return Err(Error::Invalid(format!(
                "{}: atom {} is `{}` ({}) in the file, but the topology has {} ({}) there: \
                 the atoms are in another order or belong to another molecule",
                path.display(),
                i + 1,
                name,
                if element.is_empty() { "?" } else { element },
                topology.label(i),
                topology.element(i)
            )));
        }
    }
    Ok(renamed)
}

/// Median distance from an atom to its nearest neighbour (file units).
fn typical_neighbour_distance(x: &[[f64; 3]]) -> Option<f64> {
    if x.len() < 2 {
        return None;
    }
    let mut nearest: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, a)| {
            x.iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, b)| (0..3).map(|k| (a[k] - b[k]).powi(2)).sum::<f64>().sqrt())
                .fold(f64::INFINITY, f64::min)
        })
        .filter(|d| d.is_finite())
        .collect();
    if nearest.is_empty() {
        return None;
    }
    nearest.sort_by(f64::total_cmp);
    Some(nearest[nearest.len() / 2])
}

/// A molecule's topology as chemfiles wants it (names, elements, residues, bonds), so that
/// viewers show a molecule rather than points.
pub struct Writer {
    /// Atom names, for PDB and DCD.
    named: chemfiles::Topology,
    /// Element symbols as names, for XYZ (whose species readers take as elements).
    elemental: chemfiles::Topology,
    /// Bonded pairs, written as `CONECT` records of every atom (chemfiles writes them for
    /// HETATM atoms only).
    bonds: Vec<(usize, usize)>,
}

impl Writer {
    /// Builds both chemfiles topologies from a force-field topology and its bonds.
    pub fn new(top: &Topology, bonds: &[(usize, usize)]) -> Self {
        let build = |name_of: &dyn Fn(usize) -> String| {
            let mut t = chemfiles::Topology::new();
            for i in 0..top.len() {
                let mut atom = Atom::new(name_of(i).as_str());
                atom.set_atomic_type(top.element(i));
                atom.set_mass(top.masses[i]);
                atom.set_charge(top.charges[i]);
                t.add_atom(&atom);
            }
            for (r, name) in top.residue_names.iter().enumerate() {
                let mut residue = Residue::with_id(name.as_str(), r as i64 + 1);
                for i in (0..top.len()).filter(|&i| top.residue_of[i] == r) {
                    residue.add_atom(i);
                }
                residue.set("is_standard_pdb", is_standard_residue(name));
                t.add_residue(&residue).expect("residues are disjoint");
            }
            for &(i, j) in bonds {
                t.add_bond(i, j);
            }
            t
        };
        Self {
            named: build(&|i| top.names[i].clone()),
            elemental: build(&|i| top.element(i).to_string()),
            bonds: bonds.to_vec(),
        }
    }

    /// Writes frames of positions (nm) to `path` in `format` (`PDB`, `DCD`, `XYZ`), in Å.
    pub fn write(&self, path: &Path, format: &str, frames: &[Vec<[f64; 3]>]) -> Result<()> {
        let topology = if format == "XYZ" {
            &self.elemental
        } else {
            &self.named
        };
        write_frames(path, format, frames.len(), |k| {
            let x = &frames[k];
            let mut frame = Frame::new();
            frame.resize(x.len());
            frame.set_topology(topology)?;
            for (p, xi) in frame.positions_mut().iter_mut().zip(x) {
                *p = [10.0 * xi[0], 10.0 * xi[1], 10.0 * xi[2]];
            }
            Ok(frame)
        })?;
        if format == "PDB" {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            crate::atomic::write(path, with_bonds(&text, &self.bonds).as_bytes())?;
        }
        Ok(())
    }
}

/// PDB text with its `CONECT` records replaced by every bond of every atom (serials 1-based,
/// at most four partners a record), before the final `END`.
fn with_bonds(text: &str, bonds: &[(usize, usize)]) -> String {
    use std::fmt::Write;
    let atoms = bonds.iter().map(|&(i, j)| i.max(j) + 1).max().unwrap_or(0);
    let mut partners = vec![Vec::new(); atoms];
    for &(i, j) in bonds {
        partners[i].push(j);
        partners[j].push(i);
    }
    let mut records = String::new();
    for (i, p) in partners.iter_mut().enumerate() {
        p.sort_unstable();
        for chunk in p.chunks(4) {
            let _ = write!(records, "CONECT{:>5}", i + 1);
            for j in chunk {
                let _ = write!(records, "{:>5}", j + 1);
            }
            records.push('\n');
        }
    }
    let mut out = String::new();
    let mut placed = false;
    for line in text.lines().filter(|l| !l.starts_with("CONECT")) {
        if line.trim() == "END" && !placed {
            out.push_str(&records);
            placed = true;
        }
        out.push_str(line);
        out.push('\n');
    }
    if !placed {
        out.push_str(&records);
    }
    out
}

/// Residues PDB readers know (caps such as ACE and NME are written as HETATM).
fn is_standard_residue(name: &str) -> bool {
    const STANDARD: [&str; 20] = [
        "ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU", "LYS", "MET",
        "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL",
    ];
    STANDARD.contains(&name)
}
