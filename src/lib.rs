#![warn(missing_docs)]
//! `tps`: transition paths from the spacetime geometry of diffusion models.
//!
//! ```
//! use tps::compute::{self, Backend, Precision};
//! use tps::denoiser::GaussianMixture;
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
//! The pipeline, one module each: noise [`schedule`] → [`denoiser`]s → [`training`] →
//! spacetime [`geometry`] (parameters, curves, geodesics, distances).

pub mod app;
pub mod atomic;
pub mod barrier;
pub mod compute;
pub mod data;
pub mod denoiser;
pub mod error;
pub mod geometry;
pub mod lbfgs;
pub mod learning;
pub mod mm;
pub mod model_file;
pub mod output;
pub mod paths;
pub mod potential;
pub mod progress;
pub mod provenance;
pub mod reference;
pub mod representation;
pub mod route;
pub mod sampling;
pub mod schedule;
pub mod systems;
pub mod toml_file;
pub mod training;
pub mod transition;

pub use error::{Error, Result};
