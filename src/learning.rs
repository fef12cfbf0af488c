//! What `tps train` computes for a system: for a molecule, its free-energy surface by
//! metadynamics and its relaxed potential-energy map; Boltzmann samples of the surface by
//! replica exchange; and the diffusion model trained on them. Nothing is written here: the
//! caller publishes model and surfaces together once everything succeeded.

use std::time::Instant;

use serde::Serialize;

use crate::compute::{self, Backend, Precision};
use crate::error::{Error, Result};
use crate::mm::simulation;
use crate::model_file::{self, ModelMetadata};
use crate::potential::{Potential, Tabulated};
use crate::progress::Progress;
use crate::provenance::sha256;
use crate::reference::{FreeEnergySummary, free_energy_summary, relaxed_map};
use crate::sampling;
use crate::systems::System;
use crate::training;

/// A molecule's surfaces, made by `tps train`.
pub struct Surfaces {
    /// Free-energy surface (kJ/mol) in the collective variables, and its text.
    pub free_energy: Tabulated,
    /// The surface as text (the file written).
    pub free_energy_text: String,
    /// What it says about the states.
    pub summary: FreeEnergySummary,
    /// Relaxed potential-energy map and its text.
    pub relaxed_map: Tabulated,
    /// The map as text (the file written).
    pub relaxed_map_text: String,
}

/// A trained model ready to publish.
pub struct Learnt {
    /// The model file's bytes.
    pub model: Vec<u8>,
    /// The model's header.
    pub metadata: ModelMetadata,
    /// Molecules: the surfaces the model was trained on.
    pub surfaces: Option<Surfaces>,
    /// What happened.
    pub report: LearnReport,
}

/// What `tps train` did.
#[derive(Debug, Clone, Serialize)]
pub struct LearnReport {
    /// Boltzmann samples drawn.
    pub samples: usize,
    /// Potential evaluations of the sampling.
    pub sampling_evaluations: u64,
    /// Swap acceptance between neighbouring temperatures.
    pub swap_acceptance: Vec<f64>,
    /// Wall time of the molecule's surfaces, s.
    pub surface_seconds: f64,
    /// Wall time of the sampling, s.
    pub sampling_seconds: f64,
    /// Wall time of the training, s.
    pub training_seconds: f64,
    /// Mean weighted loss of the last 100 steps.
    pub final_loss: f64,
}

/// Runs every stage for `system` with `seed` (the same seed gives the same model).
pub fn learn(
    system: &System,
    seed: u64,
    backend: Backend,
    progress: &dyn Progress,
) -> Result<Learnt> {
    let file = &system.file;
    if system.is_exact() {
        return Err(Error::Invalid(format!(
            "{}: a Gaussian mixture uses its exact denoiser; there is nothing to train",
            system.path.display()
        )));
    }
    let t0 = Instant::now();
    let surfaces = match &system.molecule {
        Some(_) => Some(molecular_surfaces(system, seed, progress)?),
        None => None,
    };
    let surface_seconds = t0.elapsed().as_secs_f64();
    let potential: &dyn Potential = match &surfaces {
        Some(s) => &s.free_energy,
        None => system.potential()?,
    };
    let surface_sha256 = match &surfaces {
        Some(s) => Some(sha256(s.free_energy_text.as_bytes())),
        None => system.surface_sha256()?,
    };

    let s = &file.sampling;
    progress.stage("sampling", (s.chains * (s.burn_in + s.steps)) as u64);
    let t1 = Instant::now();
    let samples = sampling::sample(potential, system.kt(), &file.domain(), s, seed, &|n| {
        progress.add(n)
    });
    let sampling_seconds = t1.elapsed().as_secs_f64();
    tracing::info!(
        "{} samples, {} energy evaluations in {sampling_seconds:.1} s",
        samples.points.len(),
        samples.energy_evaluations
    );

    let device = compute::device(backend, Precision::F32)?.autodiff();
    let architecture = file.model_config();
    let t2 = Instant::now();
    progress.stage("training", file.training.steps as u64);
    let trained = training::train(
        &samples.points,
        &architecture,
        &file.training,
        seed,
        &device,
        |step, loss| {
            if step % 10 == 9 {
                progress.set(step as u64 + 1);
                progress.message(&format!("loss {loss:.4}"));
            }
        },
    )?;
    let training_seconds = t2.elapsed().as_secs_f64();
    let h = &trained.loss_history;
    let final_loss = h.iter().rev().take(100).sum::<f64>() / h.len().min(100) as f64;
    let provenance = system.provenance(seed)?;
    let metadata = ModelMetadata {
        format: model_file::FORMAT,
        system: file.name.clone(),
        kt: system.kt(),
        surface_sha256,
        architecture,
        normalisation: trained.normalisation.clone(),
        training: file.training.clone(),
        data_sha256: model_file::data_hash(&samples.points),
        data_samples: samples.points.len(),
        sampling_evaluations: samples.energy_evaluations,
        loss_history: trained.loss_history.clone(),
        payload_sha256: String::new(),
        provenance,
    };
    let model = model_file::encode(&metadata, &trained.mlp)?;
    Ok(Learnt {
        model,
        metadata,
        surfaces,
        report: LearnReport {
            samples: samples.points.len(),
            sampling_evaluations: samples.energy_evaluations,
            swap_acceptance: samples.swap_acceptance,
            surface_seconds,
            sampling_seconds,
            training_seconds,
            final_loss,
        },
    })
}

/// The free-energy surface by well-tempered metadynamics and the relaxed potential-energy map.
fn molecular_surfaces(system: &System, seed: u64, progress: &dyn Progress) -> Result<Surfaces> {
    let file = &system.file;
    let molecular = system.molecule.as_ref().expect("a molecule");
    let metad = file.metadynamics.as_ref().ok_or_else(|| {
        Error::config(
            &system.path,
            "metadynamics",
            "missing: tps train computes a molecule's free-energy surface by metadynamics",
        )
    })?;
    let md = file.md();
    progress.stage("metadynamics", md.steps);
    let run = simulation::run(
        &molecular.molecule,
        &md,
        Some(metad),
        md.steps,
        seed,
        false,
        |done, _| progress.set(done),
    )?;
    let grid = run.free_energy.expect("metadynamics makes a surface");
    let free_energy = Tabulated::periodic_angles(grid.values, grid.n);
    let earlier = Tabulated::periodic_angles(grid.earlier, grid.n);
    let states: Vec<(String, Vec<f64>)> = file
        .states
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let summary = free_energy_summary(&free_energy, &earlier, &states)?;
    if !summary.converged {
        tracing::warn!(
            "the free-energy surface is not converged: basin free energies or barriers moved by \
             {:.2} kJ/mol over the last quarter of the run; raise md.steps",
            summary.drift
        );
    }
    let names = file.coordinate_names();
    let free_energy_text = free_energy.to_text(&format!(
        "{} {} free_energy_kJ_per_mol (well-tempered metadynamics, tps {})",
        names[0],
        names[1],
        env!("CARGO_PKG_VERSION")
    ));
    let (first, at) = file.states.iter().next().expect("checked: two states");
    progress.stage("relaxed map", crate::reference::RELAXED_MAP_GRID as u64);
    let relaxed = relaxed_map(molecular, first, at, &|| progress.add(1));
    let relaxed_map_text = relaxed.to_text(&format!(
        "{} {} relaxed_potential_energy_kJ_per_mol (tps {})",
        names[0],
        names[1],
        env!("CARGO_PKG_VERSION")
    ));
    Ok(Surfaces {
        free_energy,
        free_energy_text,
        summary,
        relaxed_map: relaxed,
        relaxed_map_text,
    })
}
