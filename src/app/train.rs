//! `tps train`: Boltzmann samples by replica exchange, then the diffusion model, saved under
//! `models/`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use tracing::info;

use super::{Provenance, progress};
use crate::compute::{self, Backend, Precision};
use crate::error::Result;
use crate::model_file::{self, ModelMetadata};
use crate::sampling;
use crate::systems::System;
use crate::training;

/// What `tps train` did.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// Where the model went (`None` for exact Gaussian-mixture systems).
    pub model: Option<PathBuf>,
    pub samples: usize,
    pub sampling_evaluations: u64,
    pub sampling_seconds: f64,
    pub training_seconds: f64,
    pub final_loss: f64,
    pub swap_acceptance: Vec<f64>,
}

/// Runs sampling and training for the system file at `path`.
pub fn run(path: &Path, seed: u64) -> Result<TrainReport> {
    let parsed = crate::systems::SystemFile::load(path)?;
    if let crate::systems::PotentialSpec::Molecule { md, fes } = &parsed.potential {
        // The surface the paths are sampled on: metadynamics free energy in (φ, ψ).
        info!(
            "computing the free-energy surface of {} by metadynamics",
            md.display()
        );
        let (report, dir) = super::md::run(md, None, seed, Path::new("out"))?;
        let text = std::fs::read(dir.join("fes.dat"))
            .map_err(|e| crate::Error::io(dir.join("fes.dat"), e))?;
        crate::atomic::write(fes, &text)?;
        // The relaxed potential-energy map, for the reference barrier in every summary.
        if let Some(first) = parsed.states.values().next() {
            let text = super::barrier::relaxed_map_text(md, first)?;
            crate::atomic::write(&super::barrier::relaxed_map_path(fes), text.as_bytes())?;
        }
        if let Some(f) = report.free_energy {
            info!(
                "free energy: C7ax {:.2} kJ/mol above C7eq, barrier {:.2} kJ/mol; surface written to {}",
                f.c7ax.2 - f.c7eq.2,
                f.barrier_c7eq_to_c7ax,
                fes.display()
            );
        }
    }
    let system = System::from_file(parsed, path)?;
    let file = &system.file;
    if system.is_exact() {
        info!(
            "{}: a Gaussian mixture uses its exact denoiser; nothing to train",
            file.name
        );
        return Ok(TrainReport {
            model: None,
            samples: 0,
            sampling_evaluations: 0,
            sampling_seconds: 0.0,
            training_seconds: 0.0,
            final_loss: 0.0,
            swap_acceptance: vec![],
        });
    }
    let provenance = Provenance::new(&system, seed);
    let model_path = file.model_path();
    // Fail now, not after training, if the model cannot be written.
    crate::atomic::write(&model_path.with_extension("probe"), b"")?;
    let _ = std::fs::remove_file(model_path.with_extension("probe"));

    let s = &file.sampling;
    info!(
        "sampling {} ladders × {} temperatures (kT {} … {}) for {} steps",
        s.chains,
        s.replicas,
        system.kt(),
        system.kt() * s.max_temperature,
        s.burn_in + s.steps
    );
    let t0 = Instant::now();
    let bar = progress((s.chains * (s.burn_in + s.steps)) as u64, "sampling");
    let samples = sampling::sample(
        system.potential.as_ref(),
        system.kt(),
        &file.domain,
        s,
        seed,
        Some(&bar),
    );
    bar.finish_and_clear();
    let sampling_seconds = t0.elapsed().as_secs_f64();
    info!(
        "{} samples, {} energy evaluations in {sampling_seconds:.1} s; swap acceptance {:?}",
        samples.points.len(),
        samples.energy_evaluations,
        samples
            .swap_acceptance
            .iter()
            .map(|a| (a * 100.0).round() / 100.0)
            .collect::<Vec<_>>()
    );

    let device = compute::device(Backend::Flex, Precision::F32)?.autodiff();
    let architecture = file.model_config();
    let t1 = Instant::now();
    let bar = progress(file.training.steps as u64, "training");
    let trained = training::train(
        &samples.points,
        &architecture,
        &file.training,
        seed,
        &device,
        Some(&bar),
    )?;
    bar.finish_and_clear();
    let training_seconds = t1.elapsed().as_secs_f64();
    let final_loss = trained.loss_history.iter().rev().take(100).sum::<f64>()
        / trained.loss_history.len().min(100) as f64;
    info!(
        "trained {} steps in {training_seconds:.1} s, final loss {final_loss:.4}",
        file.training.steps
    );

    let metadata = ModelMetadata {
        format: model_file::FORMAT,
        tps_version: provenance.tps_version.clone(),
        system: file.name.clone(),
        architecture,
        normalisation: trained.normalisation.clone(),
        training: file.training.clone(),
        data_sha256: model_file::data_hash(&samples.points),
        data_samples: samples.points.len(),
        seed,
        sampling_evaluations: samples.energy_evaluations,
        command: provenance.command,
        loss_history: trained.loss_history.clone(),
        payload_sha256: String::new(),
    };
    model_file::save(&model_path, &metadata, &trained.mlp)?;
    info!("model written to {}", model_path.display());
    Ok(TrainReport {
        model: Some(model_path),
        samples: samples.points.len(),
        sampling_evaluations: samples.energy_evaluations,
        sampling_seconds,
        training_seconds,
        final_loss,
        swap_acceptance: samples.swap_acceptance,
    })
}
