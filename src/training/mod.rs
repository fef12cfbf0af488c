//! Training the denoiser: the paper's x₀ objective weighted by `sqrt(sigmoid(λ + 2))`, λ drawn
//! by an adaptive importance sampler over [−12, 12], AdamW, on normalised data.

pub mod lambda_sampler;

use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::Device;
use indicatif::ProgressBar;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::compute;
use crate::denoiser::{Denoiser, Mlp, MlpConfig, Network, Normalisation};
use crate::error::{Error, Result};
use crate::schedule::{self, LAMBDA_MAX, LAMBDA_MIN};
pub use lambda_sampler::LambdaSampler;

/// Training hyper-parameters (paper defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    /// Optimiser steps.
    #[serde(default = "default_steps")]
    pub steps: usize,
    /// Samples per step.
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// AdamW learning rate.
    #[serde(default = "default_learning_rate")]
    pub learning_rate: f64,
    /// AdamW decoupled weight decay.
    #[serde(default = "default_weight_decay")]
    pub weight_decay: f64,
    /// Bins of the adaptive λ sampler.
    #[serde(default = "default_lambda_bins")]
    pub lambda_bins: usize,
}

fn default_steps() -> usize {
    4000
}
fn default_batch() -> usize {
    1024
}
fn default_learning_rate() -> f64 {
    1e-3
}
fn default_weight_decay() -> f64 {
    1e-2
}
fn default_lambda_bins() -> usize {
    48
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            steps: default_steps(),
            batch: default_batch(),
            learning_rate: default_learning_rate(),
            weight_decay: default_weight_decay(),
            lambda_bins: default_lambda_bins(),
        }
    }
}

/// Loss weight `sqrt(sigmoid(λ + 2))` of the paper.
pub fn loss_weight(lambda: f64) -> f64 {
    schedule::alpha2(lambda + 2.0).sqrt()
}

/// A trained denoiser with the normalisation it expects and its loss history.
pub struct Trained {
    /// The network (on the device it was trained on, autodiff stripped).
    pub mlp: Mlp,
    /// Data ↔ model-space map.
    pub normalisation: Normalisation,
    /// Mean weighted loss of every step.
    pub loss_history: Vec<f64>,
}

/// Step-by-step trainer (the benchmarks time single steps).
pub struct Trainer {
    mlp: Option<Mlp>,
    optim: burn::optim::ModuleOptimizer,
    sampler: LambdaSampler,
    rng: ChaCha8Rng,
    data: Vec<Vec<f64>>,
    normalisation: Normalisation,
    config: TrainingConfig,
    device: Device,
    history: Vec<f64>,
}

impl Trainer {
    /// Prepares training of `architecture` on `data` (rows of dimension `architecture.dim`).
    ///
    /// `device` must have autodiff; the same seed gives the same network.
    pub fn new(
        data: &[Vec<f64>],
        architecture: &MlpConfig,
        config: &TrainingConfig,
        seed: u64,
        device: &Device,
    ) -> Result<Self> {
        let dim = architecture.dim;
        if data.len() < 2 {
            return Err(Error::Invalid("training needs at least two samples".into()));
        }
        if let Some(row) = data.iter().find(|r| r.len() != dim) {
            return Err(Error::Invalid(format!(
                "training sample of dimension {} for a model of dimension {dim}",
                row.len()
            )));
        }
        if config.batch == 0 || config.steps == 0 || config.lambda_bins == 0 {
            return Err(Error::Invalid(
                "training steps, batch and lambda_bins must be positive".into(),
            ));
        }
        if !device.is_autodiff() {
            return Err(Error::Device("training needs an autodiff device".into()));
        }
        // The authors' network works on raw data, as they trained it.
        let normalisation = match architecture.network {
            Network::Tps => Normalisation::fit(data)?,
            Network::Authors => Normalisation::identity(dim),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mlp = architecture.init(&mut rng, device)?;
        Ok(Self {
            mlp: Some(mlp),
            optim: AdamWConfig::new()
                .with_weight_decay(config.weight_decay as f32)
                .init(),
            sampler: LambdaSampler::new(LAMBDA_MIN, LAMBDA_MAX, config.lambda_bins),
            rng,
            data: data.iter().map(|x| normalisation.to_model(x)).collect(),
            normalisation,
            config: config.clone(),
            device: device.clone(),
            history: Vec::with_capacity(config.steps),
        })
    }

    /// One AdamW step on a fresh batch; returns the batch's weighted loss.
    pub fn step(&mut self) -> Result<f64> {
        let dim = self.normalisation.mean.len();
        let b = self.config.batch;
        let draws = self.sampler.sample(b, &mut self.rng);
        let mut x0 = Vec::with_capacity(b * dim);
        let mut xt = Vec::with_capacity(b * dim);
        let mut lam = Vec::with_capacity(b);
        let mut weight = Vec::with_capacity(b);
        for &(l, _, iw) in &draws {
            let row = &self.data[self.rng.random_range(0..self.data.len())];
            let (a, s) = (schedule::alpha(l), schedule::sigma(l));
            for &v in row {
                let eps: f64 = self.rng.sample(StandardNormal);
                x0.push(v);
                xt.push(a * v + s * eps);
            }
            lam.push(l);
            weight.push(loss_weight(l) * iw);
        }
        let device = &self.device;
        let mlp = self.mlp.take().expect("the network is always put back");
        let pred = mlp.denoise(
            compute::matrix(&lam, b, 1, device),
            compute::matrix(&xt, b, dim, device),
        );
        let per_sample = (pred - compute::matrix(&x0, b, dim, device))
            .powi_scalar(2)
            .sum_dim(1);
        let loss = (per_sample.clone() * compute::matrix(&weight, b, 1, device)).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &mlp);
        self.mlp = Some(self.optim.step(self.config.learning_rate, mlp, grads));

        let raw = compute::to_host(per_sample.inner());
        let bins: Vec<usize> = draws.iter().map(|d| d.1).collect();
        let scored: Vec<f64> = raw
            .iter()
            .zip(&draws)
            .map(|(r, d)| r * loss_weight(d.0))
            .collect();
        self.sampler.update(&bins, &scored);
        let value = compute::scalar(loss.inner());
        if !value.is_finite() {
            return Err(Error::NonFinite(format!(
                "training loss became non-finite at step {}; lower the learning rate",
                self.history.len()
            )));
        }
        self.history.push(value);
        Ok(value)
    }

    /// The trained network, without autodiff, with its normalisation and loss history.
    pub fn finish(self) -> Trained {
        Trained {
            mlp: self.mlp.expect("the network is always put back").valid(),
            normalisation: self.normalisation,
            loss_history: self.history,
        }
    }
}

/// Trains `architecture` on `data` for `config.steps` steps (see [`Trainer`]).
pub fn train(
    data: &[Vec<f64>],
    architecture: &MlpConfig,
    config: &TrainingConfig,
    seed: u64,
    device: &Device,
    progress: Option<&ProgressBar>,
) -> Result<Trained> {
    let mut trainer = Trainer::new(data, architecture, config, seed, device)?;
    for step in 0..config.steps {
        let loss = trainer.step()?;
        if let Some(bar) = progress {
            bar.inc(1);
            if step % 50 == 0 {
                bar.set_message(format!("loss {loss:.4}"));
            }
        }
    }
    Ok(trainer.finish())
}
