//! A compact molecular-mechanics engine for small molecules in vacuum: AMBER topologies,
//! energies and forces, Langevin dynamics (with SHAKE/RATTLE), minimisation, dihedral
//! collective variables, well-tempered metadynamics, and the molecule's structures to and from
//! files.

pub mod align;
pub mod amber;
pub mod backmap;
pub mod chfl;
pub mod cmap;
pub mod cv;
pub mod dynamics;
pub mod forcefield;
pub mod implicit;
pub mod metadynamics;
pub mod minimise;
pub mod molecule;
pub mod neb;
pub mod prmtop;
pub mod simulation;
pub mod topology;

pub use cv::{DihedralRestraints, DihedralSpec, Dihedrals};
pub use dynamics::{Bias, Constraints, Langevin, MdConfig, State};
pub use forcefield::{Energies, ForceField, Term};
pub use metadynamics::MetadynamicsConfig;
pub use minimise::{Minimised, minimise};
pub use molecule::{ForceFieldPotential, Molecule, MoleculeConfig, Representation, Solvent};
pub use prmtop::Prmtop;
pub use topology::{AtomSpec, Topology};
