//! The diffusion model: the [`denoiser`]s (the trained network and exact ones), their
//! [`training`] on samples, trained models on disk ([`file`](mod@file)), and a model's own
//! [`density`].

pub mod denoiser;
pub mod density;
pub mod file;
pub mod training;
