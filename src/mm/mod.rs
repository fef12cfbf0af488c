//! A compact molecular-mechanics engine for small molecules in vacuum: AMBER topologies,
//! energies and forces.

pub mod forcefield;
pub mod prmtop;

pub use forcefield::{Energies, ForceField, Term, Topology};
pub use prmtop::Prmtop;
