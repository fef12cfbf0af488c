//! The commands behind the CLI, as library functions: each loads a system, runs a stage of the
//! pipeline and writes its outputs. `main.rs` only parses arguments and prints errors.

pub mod barrier;
pub mod distance;
pub mod energy;
pub mod geodesic;
pub mod md;
pub mod sample;
pub mod train;

use std::path::{Path, PathBuf};
use std::time::Duration;

use burn::tensor::Device;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::compute::{self, Backend, Precision};
use crate::denoiser::{Denoiser, Mlp, Normalisation};
use crate::error::{Error, Result};
use crate::geometry::{AvoidRegion, Constraints, EnergyAware, LowVariance};
use crate::model_file;
use crate::systems::System;

/// What made an output: recorded in every summary and model.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    /// `tps` version.
    pub tps_version: String,
    /// The command line.
    pub command: String,
    /// Seed of every random choice.
    pub seed: u64,
    /// The system file's path.
    pub system_file: String,
    /// The system file's full text.
    pub system_config: String,
}

impl Provenance {
    /// Records the current command line.
    pub fn new(system: &System, seed: u64) -> Self {
        Self {
            tps_version: env!("CARGO_PKG_VERSION").into(),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            seed,
            system_file: system.path.display().to_string(),
            system_config: std::fs::read_to_string(&system.path).unwrap_or_default(),
        }
    }
}

/// Geodesic constraints given on the command line, applied over the system file's.
#[derive(Debug, Clone, Default)]
pub struct ConstraintOptions {
    /// Start from no constraint (the paper's plain geodesic) instead of the file's.
    pub plain: bool,
    /// Low-variance floor on λ (model units).
    pub low_variance: Option<f64>,
    /// Energy-aware constraint with this weight.
    pub energy_weight: Option<f64>,
    /// Region-avoiding: the point `(λ, x…)` in data units and the smallest KL.
    pub avoid: Option<(Vec<f64>, f64)>,
    /// Weight of the low-variance and region-avoiding penalties given here.
    pub penalty_weight: f64,
    /// Sharpness of the low-variance penalty given here.
    pub sharpness: f64,
}

impl ConstraintOptions {
    /// The constraints to use: the file's (unless `plain`) with these on top, validated.
    pub fn apply(&self, file: &Constraints) -> Result<Constraints> {
        let mut c = if self.plain {
            Constraints::none()
        } else {
            file.clone()
        };
        if let Some(min_lambda) = self.low_variance {
            c.low_variance = Some(LowVariance {
                min_lambda,
                weight: self.penalty_weight,
                sharpness: self.sharpness,
            });
        }
        if let Some(weight) = self.energy_weight {
            c.energy = Some(EnergyAware { weight });
        }
        if let Some((point, min_kl)) = &self.avoid {
            c.avoid = Some(AvoidRegion {
                point: point.clone(),
                min_kl: *min_kl,
                weight: self.penalty_weight,
            });
        }
        c.validate()
            .map_err(|(f, m)| Error::Invalid(format!("constraint {f}: {m}")))?;
        Ok(c)
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{what:>10} [{{bar:32}}] {{pos}}/{{len}} {{msg}} ({{elapsed}}, eta {{eta}})"
        ))
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// The denoiser of a system with the normalisation it works in.
pub struct LoadedDenoiser {
    pub denoiser: Box<dyn Denoiser>,
    pub normalisation: Normalisation,
    /// Autodiff device for geodesics.
    pub device: Device,
    /// Model metadata when a trained model was loaded.
    pub metadata: Option<model_file::ModelMetadata>,
    /// Path of the trained model, if any.
    pub model_path: Option<PathBuf>,
}

/// Exact denoiser for Gaussian-mixture systems (f64), else the trained model (f32).
pub fn load_denoiser(system: &System) -> Result<LoadedDenoiser> {
    if system.is_exact() {
        let exact = system
            .exact_denoiser(&compute::device(Backend::Flex, Precision::F64)?)
            .expect("an exact system has an exact denoiser")?;
        let device = exact.device().clone().autodiff();
        return Ok(LoadedDenoiser {
            normalisation: Normalisation::identity(system.file.dim()),
            denoiser: Box::new(exact),
            device,
            metadata: None,
            model_path: None,
        });
    }
    let device = compute::device(Backend::Flex, Precision::F32)?;
    let path = system.file.model_path();
    let (meta, mlp): (_, Mlp) = model_file::load(&path, &device)?;
    meta.check_compatible(&path, &system.file.name, &system.file.model_config())?;
    Ok(LoadedDenoiser {
        normalisation: meta.normalisation.clone(),
        denoiser: Box::new(mlp),
        device: device.autodiff(),
        metadata: Some(meta),
        model_path: Some(path),
    })
}

/// Creates a fresh staging directory next to `target`; the caller renames it into place.
pub fn staging_dir(target: &Path) -> Result<PathBuf> {
    let parent = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    let staging = parent.join(format!(".{name}.partial{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
    }
    std::fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
    Ok(staging)
}

/// Replaces `target` by the finished `staging` directory.
pub fn publish_dir(staging: &Path, target: &Path) -> Result<()> {
    if target.exists() {
        std::fs::remove_dir_all(target).map_err(|e| Error::io(target, e))?;
    }
    std::fs::rename(staging, target).map_err(|e| Error::io(target, e))
}

/// Writes pretty JSON atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::Invalid(format!("cannot encode {}: {e}", path.display())))?;
    crate::atomic::write(path, text.as_bytes())
}

/// Parses `a,b,c` into numbers; `what` names the option in errors.
pub fn parse_point(text: &str, what: &str) -> Result<Vec<f64>> {
    text.split(',')
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "{what}: `{v}` is not a finite number (expected comma-separated numbers)"
                    ))
                })
        })
        .collect()
}
