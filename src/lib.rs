#![warn(missing_docs)]
//! `tps`: transition paths from the spacetime geometry of diffusion models.
//!
//! ```
//! use tps::compute::{self, Backend, Precision};
//! use tps::model::denoiser::GaussianMixture;
//! use tps::geometry::{GeodesicConfig, diffusion_edit_distance};
//!
//! // The exact denoiser of a two-mode mixture and the Diffusion Edit Distance between its
//! // modes seen at log-SNR 4: the geodesic is far shorter than the straight line.
//! let device = compute::device(Backend::Flex, Precision::F64).unwrap();
//! let gmm = GaussianMixture::new(vec![vec![-2.0], vec![2.0]], vec![0.5, 0.5], vec![0.5, 0.5], &device).unwrap();
//! let config = GeodesicConfig { points: 48, nodes: 6, steps: 2000, ..GeodesicConfig::default() };
//! let ad = device.clone().autodiff();
//! let (d, geodesic) = diffusion_edit_distance(&gmm, &[-2.0], &[2.0], 4.0, &config, 0, &ad).unwrap();
//! let (_, straight) = tps::geometry::geodesic::straight_line(&gmm, &[4.0, -2.0], &[4.0, 2.0], &config, &ad);
//! assert!(d < 0.5 * straight);
//! assert!(geodesic.points.iter().any(|p| p[0] < 0.0), "it passes through noise");
//! ```
//!
//! The layers, lowest first; a module uses only modules of its own or earlier layers, and
//! [`app`] (the commands) is used by nothing but the binary:
//!
//! 0. the molecular-mechanics engine, a crate of its own (`tps-mm`, `crates/mm`: AMBER
//!    topologies, force field, CMAP, OBC2, dynamics, metadynamics, minimisation, alignment,
//!    [`lbfgs`]); it cannot import `tps`, so no arrow points up from it;
//! 1. foundations: [`error`], [`compute`] (devices, host ↔ tensor), [`progress`],
//!    [`provenance`], [`atomic`] (outputs never half-written), [`toml_file`],
//!    [`output`] (neutral file formats);
//! 2. energies: [`potential`] (the `Potential` trait, analytic and tabulated surfaces),
//!    [`molecule`] (the engine re-exported, and a molecule from a system file, its structures
//!    to and from files, MD runs with their records, back-mapping, the elastic band);
//! 3. what the model learns from: [`data`] (replica exchange; simulations made elsewhere);
//! 4. the diffusion model: [`schedule`] (noise in log-SNR), [`model`] (denoisers, training,
//!    model files);
//! 5. geometry and dynamics: [`geometry`] (spacetime parameters, curves, geodesics,
//!    distances), [`barrier`] (grid minimax, string method), [`walkers`] (annealed Langevin,
//!    plain parameters);
//! 6. [`system`]: the system file (every section, the `[transition]` settings and the route
//!    kind among them) and a loaded system (surfaces, molecule, relaxed map, model);
//! 7. on a system: [`reference`](mod@reference) (what paths are judged against),
//!    [`statistics`](mod@statistics) (paths judged against it), [`representation`]
//!    (surface, variables, Cartesian), [`route`] (geodesic, plain, reference, learned);
//! 8. [`workflows`]: what a command computes, start to finish — learning (`tps train`),
//!    transition (paths between two states by every route, scored), committor (the judge of
//!    transition states);
//! 9. [`app`]: the commands.

pub mod app;
pub mod atomic;
pub mod barrier;
pub mod compute;
pub mod data;
pub mod error;
pub mod geometry;
pub mod model;
pub mod molecule;
pub mod output;
pub mod potential;
pub mod progress;
pub mod provenance;
pub mod reference;
pub mod representation;
pub mod route;
pub mod schedule;
pub mod statistics;
pub mod system;
pub mod toml_file;
pub mod walkers;
pub mod workflows;

pub use error::{Error, Result};
pub use tps_mm::lbfgs;
