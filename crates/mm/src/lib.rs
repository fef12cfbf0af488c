#![warn(missing_docs)]
//! `tps-mm`: the molecular-mechanics engine of `tps`, usable by any program. It takes plain
//! values and config structs (serde-deserialisable, checked by whoever reads them) and knows
//! nothing of files other than AMBER topologies, of TOML, tensors or command lines.
//!
//! * [`prmtop`], [`topology`], [`amber`]: AMBER topologies read as OpenMM reads them, and the
//!   force field built from them;
//! * [`forcefield`], [`cmap`], [`implicit`]: energies and exact forces (bonded terms, CMAP,
//!   non-bonded pairs, OBC2 generalized Born);
//! * [`dynamics`]: BAOAB Langevin with SHAKE/RATTLE; [`cv`]: dihedral collective variables
//!   and restraints; [`metadynamics`]: well-tempered metadynamics on two dihedrals;
//! * [`minimise`] (L-BFGS, [`lbfgs`]), [`align`] (optimal superposition);
//! * [`error`], [`numeric`].

pub mod align;
pub mod amber;
pub mod cmap;
pub mod cv;
pub mod dynamics;
pub mod error;
pub mod forcefield;
pub mod implicit;
pub mod lbfgs;
pub mod metadynamics;
pub mod minimise;
pub mod numeric;
pub mod prmtop;
pub mod topology;

pub use cv::{DihedralRestraints, DihedralSpec, Dihedrals};
pub use dynamics::{Bias, Constraints, Langevin, MdConfig, State};
pub use error::{Error, Result};
pub use forcefield::{Energies, ForceField, Term};
pub use metadynamics::MetadynamicsConfig;
pub use minimise::{Minimised, minimise};
pub use prmtop::Prmtop;
pub use topology::{AtomSpec, Topology};
