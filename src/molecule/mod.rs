//! Molecular mechanics: the engine (`tps-mm`: AMBER topologies, force field, CMAP, OBC2,
//! dynamics, metadynamics, minimisation, alignment), re-exported here, and what `tps` builds
//! on it: a molecule from a system file, its structures to and from files (chemfiles), MD runs
//! with their records, back-mapping of variables to all atoms and the elastic band.

pub use tps_mm::{
    align, amber, cmap, cv, dynamics, forcefield, implicit, metadynamics, minimise, prmtop,
    topology,
};

pub mod backmap;
pub mod chfl;
pub mod neb;
pub mod section;
pub mod simulation;

pub use cv::{DihedralRestraints, DihedralSpec, Dihedrals};
pub use dynamics::{Bias, Constraints, Langevin, MdConfig, State};
pub use forcefield::{Energies, ForceField, Term};
pub use metadynamics::MetadynamicsConfig;
pub use minimise::Minimised;
pub use prmtop::Prmtop;
pub use section::{ForceFieldPotential, Molecule, MoleculeConfig, Representation, Solvent};
pub use topology::{AtomSpec, Topology};
