//! `tps energy`: per-frame force-field energies of a trajectory, by term, as CSV.

use std::fmt::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::mm::config::Molecule;
use crate::output::trajectory::read_molecule_frames;

/// CSV text: `frame,bond,angle,torsion,lj,coulomb,total` in kJ/mol.
pub fn run(system: &Path, trajectory: &Path) -> Result<String> {
    let mol = Molecule::load(system)?;
    let frames = read_molecule_frames(trajectory)?;
    let mut out = String::from("frame,bond,angle,torsion,lj,coulomb,total\n");
    let mut forces = vec![[0.0; 3]; mol.topology.len()];
    for (k, x) in frames.iter().enumerate() {
        if x.len() != mol.topology.len() {
            return Err(Error::Invalid(format!(
                "{}: frame {k} has {} atoms, the molecule has {}",
                trajectory.display(),
                x.len(),
                mol.topology.len()
            )));
        }
        let e = mol.forcefield.compute(x, &mut forces);
        let _ = writeln!(
            out,
            "{k},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6}",
            e.bond,
            e.angle,
            e.torsion,
            e.lj,
            e.coulomb,
            e.total()
        );
    }
    Ok(out)
}
