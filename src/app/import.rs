//! `tps import`: the paper's network trained elsewhere (a PyTorch `state_dict` or a
//! safetensors file) as the system's model, so that its geodesics, paths and references come
//! from the same weights as the authors' code.

use std::path::{Path, PathBuf};

use crate::compute::{self, Backend, Precision};
use crate::error::Result;
use crate::model::denoiser::checkpoint::{read_pytorch, read_safetensors};
use crate::model::denoiser::{Mlp, Normalisation};
use crate::model::file::ModelMetadata;
use crate::model::training::TrainingConfig;
use crate::system::System;

/// The checkpoint's format.
#[derive(Debug, Clone)]
pub enum Checkpoint {
    /// A PyTorch `.pt`/`.pth` `state_dict`.
    Pytorch(PathBuf),
    /// A safetensors file.
    Safetensors(PathBuf),
}

impl Checkpoint {
    fn path(&self) -> &Path {
        match self {
            Checkpoint::Pytorch(p) | Checkpoint::Safetensors(p) => p,
        }
    }
}

/// Imports `checkpoint` as the model of the system in `path`; returns the model file written.
pub fn run(path: &Path, checkpoint: &Checkpoint) -> Result<PathBuf> {
    let system = System::load(path)?;
    let config = system.model_config();
    let file = checkpoint.path();
    let params = match checkpoint {
        Checkpoint::Pytorch(p) => read_pytorch(p, &config)?,
        Checkpoint::Safetensors(p) => read_safetensors(p, &config)?,
    };
    let device = compute::device(Backend::Flex, Precision::F32)?;
    let mlp = Mlp::from_host(config.clone(), &params, &device)?;
    let target = system.file.model_path();
    super::check_writable(target.parent().unwrap_or(Path::new(".")))?;
    let metadata = ModelMetadata {
        format: crate::model::file::FORMAT,
        system: system.file.name.clone(),
        kt: system.kt(),
        surface_sha256: system.surface_sha256()?,
        architecture: config,
        // The authors' network works on raw data.
        normalisation: Normalisation::identity(system.data_dim()),
        training: TrainingConfig::default(),
        data_sha256: String::new(),
        data_samples: 0,
        sampling_evaluations: 0,
        loss_history: Vec::new(),
        payload_sha256: String::new(),
        // The checkpoint's SHA-256 is the model's origin.
        provenance: system.provenance(None).with_input(file)?,
        tilt: None,
    };
    crate::model::file::save(&target, &metadata, &mlp)?;
    Ok(target)
}
