//! `tps train`: a molecule's surfaces (metadynamics free energy, relaxed map), Boltzmann
//! samples and the diffusion model, published together only when everything succeeded.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tracing::info;

use super::check_writable;
use crate::atomic;
use crate::compute::Backend;
use crate::error::Result;
use crate::progress::Progress;
use crate::reference::FreeEnergySummary;
use crate::route::learnt_free_energy::{LearntFidelity, learnt_fidelity};
use crate::system::System;
use crate::workflows::learning::{self, LearnReport};

/// What `tps train` did.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// Where the model went.
    pub model: PathBuf,
    /// Molecules: where the surfaces went, and what the free-energy surface says.
    pub surfaces: Vec<PathBuf>,
    /// What the free-energy surface says.
    pub free_energy: Option<FreeEnergySummary>,
    /// What the learning stage did.
    pub learnt: LearnReport,
    /// 2-D systems: the learnt free energy against the scoring surface.
    pub learnt_free_energy: Option<LearntFidelity>,
    /// 2-D systems: where the learnt free energy was written (a PLUMED grid).
    pub learnt_free_energy_file: Option<PathBuf>,
}

/// Trains the system in `path` with `seed`; `None` for a Gaussian mixture, whose exact
/// denoiser needs no training.
pub fn run(
    path: &Path,
    seed: u64,
    backend: Backend,
    progress: &dyn Progress,
) -> Result<Option<TrainReport>> {
    let system = System::load(path)?;
    let file = &system.file;
    if system.is_exact() {
        return Ok(None);
    }
    // Fail now, not after the surfaces and samples, if the device is unusable or the results
    // cannot be written.
    crate::compute::device(backend, crate::compute::Precision::F32)?;
    let model_path = file.model_path();
    for t in &file.training_outputs() {
        check_writable(t.parent().unwrap_or(Path::new(".")))?;
        if t.exists() && !t.is_file() {
            return Err(crate::error::Error::Invalid(format!(
                "{} exists and is not a file; tps will not replace it",
                t.display()
            )));
        }
    }
    let learnt = learning::learn(&system, seed, backend, progress)?;
    // Publish together: the model names the surface it was trained on, so a mixed state after
    // a kill is refused by `tps sample` rather than used.
    let mut files = learnt
        .surfaces
        .as_ref()
        .map(|s| s.files())
        .unwrap_or_default();
    let written: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    files.push((model_path.clone(), learnt.model.clone()));
    atomic::write_together(&files)?;
    info!("model written to {}", model_path.display());
    // The system as published: its model and surfaces are the ones just written.
    let published = System::load(path)?;
    let learnt_free_energy = learnt_fidelity(&published, &published.denoiser(backend)?)?;
    // The model's own free energy beside it, readable by PLUMED's tools and by `tps` as a
    // tabulated surface.
    let learnt_free_energy_file = match &learnt_free_energy {
        Some(f) => {
            let stem = model_path
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            let path = model_path.with_file_name(format!("{stem}_learnt_fes.dat"));
            let names = file.coordinate_names();
            let text = f.learnt.to_plumed(
                [&names[0], &names[1]],
                "free_energy",
                &format!(
                    "the learnt free energy of {} (its score at λ = {} integrated, whole \
                     basins weighed by its density{}), lowest node 0",
                    model_path.display(),
                    file.transition.lambda_max,
                    if file.training.tilt_parameters().is_some() {
                        ", its tilt added back"
                    } else {
                        ""
                    }
                ),
            );
            atomic::write(&path, text.as_bytes())?;
            Some(path)
        }
        None => None,
    };
    Ok(Some(TrainReport {
        learnt_free_energy_file,
        model: model_path,
        surfaces: written,
        free_energy: learnt.surfaces.map(|s| s.summary),
        learnt: learnt.report,
        learnt_free_energy,
    }))
}
