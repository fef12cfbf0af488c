//! The diffusion model: the [`denoiser`]s (the trained network and exact ones), their
//! [`training`] on samples, and trained models on disk ([`file`](mod@file)).

pub mod denoiser;
pub mod file;
pub mod training;
