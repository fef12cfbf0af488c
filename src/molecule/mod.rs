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
pub mod load;
pub mod md_sections;
pub mod neb;
pub mod simulation;

pub use cv::{DihedralRestraints, DihedralSpec, Dihedrals};
pub use dynamics::{Bias, Langevin, LangevinParams, RigidBonds, State};
pub use forcefield::{Energies, ForceField, Term};
pub use load::{Coordinates, ForceFieldPotential, Molecule, MoleculeConfig, Solvent};
pub use md_sections::{MdConfig, MetadynamicsConfig};
pub use metadynamics::MetadynamicsParams;
pub use minimise::Minimised;
pub use prmtop::Prmtop;
pub use topology::{AtomSpec, Topology};
