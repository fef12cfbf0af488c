//! `tps energy`: per-frame force-field energies of a trajectory, by term, as CSV.

use std::fmt::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::mm::chfl;
use crate::systems::System;

/// CSV text (`frame,bond,angle,torsion,cmap,lj,coulomb,solvation,total`, kJ/mol) and
/// warnings about the trajectory.
pub fn run(system: &Path, trajectory: &Path) -> Result<(String, Vec<String>)> {
    let system = System::load(system)?;
    let m = system.molecule.as_ref().ok_or_else(|| {
        Error::Invalid(format!(
            "{}: `tps energy` needs a system with a [molecule]",
            system.path.display()
        ))
    })?;
    let m = &m.molecule;
    let structures = chfl::read(trajectory, &m.topology)?;
    let mut out = String::from("frame,bond,angle,torsion,cmap,lj,coulomb,solvation,total\n");
    let mut forces = vec![[0.0; 3]; m.topology.len()];
    for (k, x) in structures.frames.iter().enumerate() {
        let e = m.forcefield.compute(x, &mut forces);
        let _ = writeln!(
            out,
            "{k},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6}",
            e.bond,
            e.angle,
            e.torsion,
            e.cmap,
            e.lj,
            e.coulomb,
            e.solvation,
            e.total()
        );
    }
    Ok((out, structures.warnings))
}
