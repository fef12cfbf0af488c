//! `tps energy`: per-frame force-field energies of a trajectory, by term, as CSV.

use std::fmt::Write;
use std::path::Path;

use crate::error::Result;
use crate::molecule::{Term, chfl};
use crate::system::System;

/// CSV text (`frame,bond,angle,torsion,cmap,lj,coulomb,solvation,total`, kJ/mol) and
/// warnings about the trajectory.
pub fn run(system: &Path, trajectory: &Path) -> Result<(String, Vec<String>)> {
    let system = System::load(system)?;
    let m = &system.molecular("`tps energy`")?.molecule;
    let structures = chfl::read(trajectory, &m.topology)?;
    let names = Term::ALL.map(Term::name).join(",");
    let mut out = format!("frame,{names},total\n");
    let mut forces = vec![[0.0; 3]; m.topology.len()];
    for (k, x) in structures.frames.iter().enumerate() {
        let e = m.forcefield.compute(x, &mut forces);
        let _ = write!(out, "{k}");
        for v in e.by_term().into_iter().chain([e.total()]) {
            let _ = write!(out, ",{v:.6}");
        }
        out.push('\n');
    }
    Ok((out, structures.warnings))
}
