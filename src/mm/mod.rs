//! A compact molecular-mechanics engine for small molecules in vacuum: AMBER topologies,
//! energies and forces, Langevin dynamics, minimisation, backbone dihedrals and
//! well-tempered metadynamics.

pub mod backmap;
pub mod config;
pub mod cv;
pub mod dynamics;
pub mod forcefield;
pub mod metadynamics;
pub mod minimise;
pub mod prmtop;

pub use cv::{Backbone, DihedralRestraints};
pub use dynamics::{Bias, Langevin, LangevinConfig, State};
pub use forcefield::{Energies, ForceField, Term, Topology};
pub use minimise::{Minimised, minimise};
pub use prmtop::Prmtop;
