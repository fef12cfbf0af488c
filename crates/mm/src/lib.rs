#![warn(missing_docs)]
//! `tps-mm`: the molecular-mechanics engine of `tps`, usable by any program. It takes plain
//! values and parameter structs (checked by whoever makes them: no input file of its own) and
//! knows nothing of files other than AMBER topologies, of TOML, tensors or command lines.
//!
//! * [`prmtop`], [`topology`], [`amber`]: AMBER topologies read as OpenMM reads them, and the
//!   force field built from them;
//! * [`forcefield`], [`cmap`], [`implicit`]: energies and exact forces (bonded terms, CMAP,
//!   non-bonded pairs, OBC2 generalized Born);
//! * [`dynamics`]: BAOAB Langevin with SHAKE/RATTLE; [`cv`]: dihedral collective variables
//!   and restraints; [`metadynamics`]: well-tempered metadynamics on two dihedrals;
//! * [`minimise`](mod@minimise) (L-BFGS, [`lbfgs`]), [`align`] (optimal superposition);
//! * [`error`], [`numeric`].
//!
//! ```
//! use tps_mm::{ForceField, Prmtop};
//!
//! // Alanine dipeptide's AMBER topology; its 22 atoms on a helix 0.15 nm apart.
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../systems/aldp/aldp.prmtop");
//! let prmtop = Prmtop::read(std::path::Path::new(path)).unwrap();
//! let (topology, field) = ForceField::from_prmtop(&prmtop).unwrap();
//! let x: Vec<[f64; 3]> = (0..topology.len())
//!     .map(|i| {
//!         let t = i as f64;
//!         [0.2 * (1.1 * t).cos(), 0.2 * (1.1 * t).sin(), 0.05 * t]
//!     })
//!     .collect();
//! let mut forces = vec![[0.0; 3]; topology.len()];
//! let energy = field.compute(&x, &mut forces).total();
//! assert!(energy.is_finite());
//! // No external field: the forces of an isolated molecule sum to zero.
//! let largest = forces.iter().flatten().fold(0.0f64, |m, f| m.max(f.abs()));
//! for k in 0..3 {
//!     let sum: f64 = forces.iter().map(|f| f[k]).sum();
//!     assert!(sum.abs() < 1e-9 * largest, "{sum}");
//! }
//! ```

pub mod align;
pub mod amber;
pub mod cmap;
pub mod cv;
pub mod dihedral;
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
pub mod units;
mod vector;

pub use cv::{DihedralRestraints, DihedralSpec, Dihedrals};
pub use dynamics::{Bias, Langevin, LangevinParams, RigidBonds, State};
pub use error::{Error, Result};
pub use forcefield::{Energies, ForceField, Term};
pub use metadynamics::MetadynamicsParams;
pub use minimise::{Minimised, minimise};
pub use prmtop::Prmtop;
pub use topology::{AtomSpec, Topology};
