//! `tps`: transition paths from the spacetime geometry of diffusion models.
//!
//! The pipeline, one module each: noise [`schedule`] → [`denoiser`]s → [`training`] →
//! spacetime [`geometry`] (parameters, curves, geodesics, distances).

pub mod compute;
pub mod denoiser;
pub mod error;
pub mod geometry;
pub mod schedule;

pub use error::{Error, Result};
