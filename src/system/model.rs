//! A system's denoiser: the exact one of a Gaussian mixture, or the trained model, checked to
//! have been trained for this system as it is now (name, temperature, surface, architecture).

use std::path::PathBuf;

use burn::tensor::Device;

use super::System;
use crate::compute::{self, Backend, Precision};
use crate::error::Result;
use crate::model::denoiser::{Denoiser, Mlp, Normalisation};
use crate::model::file::{Expected, ModelMetadata};
use crate::potential::Tabulated;
use crate::provenance::sha256_file;

/// The denoiser of a system with the normalisation it works in.
pub struct LoadedDenoiser {
    /// The denoiser.
    pub denoiser: Box<dyn Denoiser>,
    /// The model's map between data and model space.
    pub normalisation: Normalisation,
    /// Autodiff device for geodesics.
    pub device: Device,
    /// Model metadata when a trained model was loaded.
    pub metadata: Option<ModelMetadata>,
    /// Path of the trained model, if any.
    pub model_path: Option<PathBuf>,
    /// SHA-256 of the trained model's file, if any.
    pub model_sha256: Option<String>,
    /// A model of a flattened ensemble: the bias `V` it learnt under (data units); the
    /// equilibrium score is the model's plus `∇V/kT`.
    pub tilt: Option<Tabulated>,
}

impl System {
    /// SHA-256 of the file the system's energy surface comes from (a molecule's free-energy
    /// surface, a tabulated potential), if there is one.
    ///
    /// Read once: a molecule's surface is hashed as it is read, a tabulated potential at load.
    pub fn surface_sha256(&self) -> Result<Option<String>> {
        match (&self.molecule, &self.file.potential) {
            (Some(m), _) => {
                m.free_energy()?;
                match m.free_energy.sha256() {
                    Some(hash) => Ok(Some(hash.to_string())),
                    // No file: the error names it.
                    None => sha256_file(m.free_energy.path()).map(Some),
                }
            }
            (None, Some(super::PotentialSpec::Tabulated { file, .. })) => Ok(self.recorded(file)),
            _ => Ok(None),
        }
    }

    /// The exact denoiser for Gaussian mixtures (f64, CPU), else the trained model (f32) on
    /// `backend`.
    pub fn denoiser(&self, backend: Backend) -> Result<LoadedDenoiser> {
        if self.is_exact() {
            let exact = self
                .exact_denoiser(&compute::device(Backend::Flex, Precision::F64)?)
                .expect("an exact system has an exact denoiser")?;
            let device = exact.device().clone().autodiff();
            return Ok(LoadedDenoiser {
                normalisation: Normalisation::identity(self.file.dim()),
                denoiser: Box::new(exact),
                device,
                metadata: None,
                model_path: None,
                model_sha256: None,
                tilt: None,
            });
        }
        let device = compute::device(backend, Precision::F32)?;
        let path = self.file.model_path();
        let (meta, mlp): (_, Mlp) = crate::model::file::load(&path, &device)?;
        let model_sha256 = sha256_file(&path)?;
        self.record_input(&path, &model_sha256);
        let surface = self.surface_sha256()?;
        meta.check_compatible(
            &path,
            &Expected {
                system: &self.file.name,
                kt: self.kt(),
                surface_sha256: surface.as_deref(),
                architecture: &self.model_config(),
                tilt: self.file.training.tilt_parameters(),
            },
        )?;
        Ok(LoadedDenoiser {
            tilt: meta.tilt.as_ref().map(|t| t.bias.clone()),
            normalisation: meta.normalisation.clone(),
            denoiser: Box::new(mlp),
            device: device.autodiff(),
            metadata: Some(meta),
            model_path: Some(path),
            model_sha256: Some(model_sha256),
        })
    }
}
