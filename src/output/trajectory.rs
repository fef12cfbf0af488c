//! Trajectories of low-dimensional points for molecular viewers, through chemfiles.
//!
//! A point `(x₁, …, x_D)` becomes ⌈D/3⌉ pseudo-atoms holding consecutive coordinate triples
//! (a 2-D point is one atom at `(x, y, 0)`), so VMD, MDAnalysis or mdtraj open the result.

use std::path::{Path, PathBuf};
use std::sync::Once;

use chemfiles::{Atom, Frame, Residue, Trajectory};

use crate::error::{Error, Result};

fn quiet() {
    static ONCE: Once = Once::new();
    // chemfiles prints format warnings (e.g. PDB templates) to stderr; tps reports its own.
    ONCE.call_once(|| chemfiles::set_warning_callback(|_| {}));
}

fn frame_of(point: &[f64]) -> Frame {
    let mut frame = Frame::new();
    let atoms = point.len().div_ceil(3).max(1);
    for a in 0..atoms {
        let mut pos = [0.0; 3];
        for (k, p) in pos.iter_mut().enumerate() {
            *p = point.get(3 * a + k).copied().unwrap_or(0.0);
        }
        frame.add_atom(&Atom::new("X"), pos, None);
    }
    let mut residue = Residue::new("PTH");
    for a in 0..atoms {
        residue.add_atom(a);
    }
    frame
        .add_residue(&residue)
        .expect("a fresh frame accepts a residue");
    frame
}

fn temporary(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp{}", std::process::id()))
}

/// Writes chemfiles frames to `path` in `format` through a temporary file renamed into place.
fn write_frames(
    path: &Path,
    format: &str,
    count: usize,
    mut frame: impl FnMut(usize) -> std::result::Result<Frame, chemfiles::Error>,
) -> Result<()> {
    quiet();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let tmp = temporary(path);
    let result = (|| -> std::result::Result<(), chemfiles::Error> {
        let mut trajectory = Trajectory::open_with_format(&tmp, 'w', format)?;
        for step in 0..count {
            let mut f = frame(step)?;
            f.set_step(step);
            trajectory.write(&f)?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, std::io::Error::other(e.to_string())));
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Writes `frames` to `path` in chemfiles `format` (`"DCD"`, `"XYZ"`, `"PDB"`), atomically.
pub fn write_points(path: &Path, format: &str, frames: &[Vec<f64>]) -> Result<()> {
    write_frames(path, format, frames.len(), |k| Ok(frame_of(&frames[k])))
}

/// Every frame's atom positions as the file stores them (Å for molecular formats).
fn read_frames(path: &Path) -> Result<Vec<Vec<[f64; 3]>>> {
    quiet();
    let to_err = |e: chemfiles::Error| Error::io(path, std::io::Error::other(e.to_string()));
    let mut trajectory = Trajectory::open(path, 'r').map_err(to_err)?;
    let n = trajectory.nsteps();
    let mut out = Vec::with_capacity(n);
    let mut frame = Frame::new();
    for _ in 0..n {
        trajectory.read(&mut frame).map_err(to_err)?;
        out.push(frame.positions().to_vec());
    }
    Ok(out)
}

/// Reads the positions of every frame (all atoms, flattened `x y z` per atom).
pub fn read_positions(path: &Path) -> Result<Vec<Vec<f64>>> {
    Ok(read_frames(path)?
        .into_iter()
        .map(|f| f.into_iter().flatten().collect())
        .collect())
}

/// A molecule's topology as chemfiles wants it (names, elements, residues, bonds), so that
/// viewers show a molecule rather than points.
pub struct MoleculeTopology {
    topology: chemfiles::Topology,
}

impl MoleculeTopology {
    /// Builds it from a force-field topology and its bonds.
    pub fn new(top: &crate::mm::Topology, bonds: &[(usize, usize)]) -> Self {
        const ELEMENTS: [&str; 19] = [
            "X", "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P",
            "S", "Cl", "Ar",
        ];
        let mut t = chemfiles::Topology::new();
        for i in 0..top.len() {
            let mut atom = Atom::new(top.names[i].as_str());
            let z = top.atomic_numbers[i].clamp(0, 18) as usize;
            atom.set_atomic_type(ELEMENTS[z]);
            atom.set_mass(top.masses[i]);
            atom.set_charge(top.charges[i]);
            t.add_atom(&atom);
        }
        for (r, name) in top.residue_names.iter().enumerate() {
            let mut residue = Residue::with_id(name.as_str(), r as i64 + 1);
            for i in (0..top.len()).filter(|&i| top.residue_of[i] == r) {
                residue.add_atom(i);
            }
            residue.set("is_standard_pdb", !matches!(name.as_str(), "ACE" | "NME"));
            t.add_residue(&residue).expect("residues are disjoint");
        }
        for &(i, j) in bonds {
            t.add_bond(i, j);
        }
        Self { topology: t }
    }

    /// Writes frames of positions (nm) to `path` in `format`, in Å as the formats expect.
    pub fn write(&self, path: &Path, format: &str, frames: &[Vec<[f64; 3]>]) -> Result<()> {
        write_frames(path, format, frames.len(), |k| {
            let x = &frames[k];
            let mut frame = Frame::new();
            frame.resize(x.len());
            frame.set_topology(&self.topology)?;
            for (p, xi) in frame.positions_mut().iter_mut().zip(x) {
                *p = [10.0 * xi[0], 10.0 * xi[1], 10.0 * xi[2]];
            }
            Ok(frame)
        })
    }
}

/// Reads every frame's positions in nm (chemfiles gives Å).
pub fn read_molecule_frames(path: &Path) -> Result<Vec<Vec<[f64; 3]>>> {
    Ok(read_frames(path)?
        .into_iter()
        .map(|f| f.into_iter().map(|p| p.map(|c| 0.1 * c)).collect())
        .collect())
}
