//! `tps`: transition paths from the spacetime geometry of diffusion models.
//!
//! The pipeline, one module each: noise [`schedule`] → [`denoiser`]s → [`training`] →
//! spacetime [`geometry`] (parameters, curves, geodesics, distances).

pub mod app;
pub mod atomic;
pub mod barrier;
pub mod compute;
pub mod denoiser;
pub mod error;
pub mod geometry;
pub mod model_file;
pub mod output;
pub mod paths;
pub mod sampling;
pub mod schedule;
pub mod systems;
pub mod training;

pub use error::{Error, Result};
