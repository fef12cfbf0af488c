//! Training the denoiser: the paper's x₀ objective weighted by `sqrt(sigmoid(λ + 2))`, λ drawn
//! by an adaptive importance sampler over [−12, 12], AdamW, on normalised data.

pub mod lambda_sampler;
pub mod section;

use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use crate::compute;
use crate::error::{Error, Result};
use crate::model::denoiser::{Denoiser, Mlp, MlpConfig, Network, Normalisation};
use crate::schedule::{self, LAMBDA_MAX, LAMBDA_MIN};
pub use lambda_sampler::LambdaSampler;
pub use section::{Ensemble, LearningRateDecay, TrainingConfig};

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
        let mlp = self.mlp.take().expect("the network is always put back");
        let (grads, raw, value) = self.gradients(&mlp, &lam, &xt, &x0, &weight)?;
        let rate = self.config.learning_rate_at(self.history.len());
        self.mlp = Some(self.optim.step(rate, mlp, grads));

        let bins: Vec<usize> = draws.iter().map(|d| d.1).collect();
        let scored: Vec<f64> = raw
            .iter()
            .zip(&draws)
            .map(|(r, d)| r * loss_weight(d.0))
            .collect();
        self.sampler.update(&bins, &scored);
        if !value.is_finite() {
            return Err(Error::NonFinite(format!(
                "training loss became non-finite at step {}; lower the learning rate",
                self.history.len()
            )));
        }
        self.history.push(value);
        Ok(value)
    }

    /// The batch's gradients, the unweighted per-sample losses and the mean weighted loss,
    /// computed in [`SHARDS`] consecutive shards at once, each on its own copy of the network
    /// (burn cannot run two backward passes over the same parameters at once), and summed:
    /// the same numbers on any number of threads.
    fn gradients(
        &self,
        mlp: &Mlp,
        lambda: &[f64],
        xt: &[f64],
        x0: &[f64],
        weight: &[f64],
    ) -> Result<(GradientsParams, Vec<f64>, f64)> {
        let (n, dim) = (lambda.len(), self.normalisation.mean.len());
        let size = n.div_ceil(SHARDS);
        // The first shard runs on the network itself, the others on copies.
        let copies = (1..n.div_ceil(size))
            .map(|_| mlp.detached_copy())
            .collect::<Result<Vec<_>>>()?;
        let networks: Vec<&Mlp> = std::iter::once(mlp).chain(&copies).collect();
        let shards: Vec<_> = networks
            .par_iter()
            .enumerate()
            .map(|(k, network)| {
                let rows = k * size..((k + 1) * size).min(n);
                let values = rows.start * dim..rows.end * dim;
                Batch {
                    lambda: &lambda[rows.clone()],
                    xt: &xt[values.clone()],
                    x0: &x0[values],
                    weight: &weight[rows],
                    dim,
                    total: n,
                    device: &self.device,
                }
                .gradients(network)
            })
            .collect();
        let mut shards = shards.into_iter();
        let (mut grads, mut raw, mut value) = shards.next().expect("at least one shard");
        for (copy, (mut g, r, v)) in copies.iter().zip(shards) {
            mlp.gather_gradients(copy, &mut g, &mut grads);
            raw.extend(r);
            value += v;
        }
        Ok((grads, raw, value))
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

/// Shards of a training batch computed at once (on two cores, both busy).
const SHARDS: usize = 2;

/// A shard of a training batch on the host.
struct Batch<'a> {
    lambda: &'a [f64],
    xt: &'a [f64],
    x0: &'a [f64],
    weight: &'a [f64],
    dim: usize,
    /// Samples in the whole batch, whose mean loss is the objective.
    total: usize,
    device: &'a Device,
}

impl Batch<'_> {
    /// Gradients of this shard's part of the batch's mean weighted loss, the unweighted
    /// per-sample losses and that part of the loss.
    fn gradients(&self, mlp: &Mlp) -> (GradientsParams, Vec<f64>, f64) {
        let (n, d) = (self.lambda.len(), self.dim);
        let pred = mlp.denoise(
            compute::matrix(self.lambda, n, 1, self.device),
            compute::matrix(self.xt, n, d, self.device),
        );
        let per_sample = (pred - compute::matrix(self.x0, n, d, self.device))
            .powi_scalar(2)
            .sum_dim(1);
        let loss = (per_sample.clone() * compute::matrix(self.weight, n, 1, self.device))
            .sum()
            .div_scalar(self.total as f64);
        let value = compute::scalar(loss.clone().inner());
        let grads = GradientsParams::from_grads(loss.backward(), mlp);
        (grads, compute::to_host(per_sample.inner()), value)
    }
}

/// A run whose loss ends at more than this multiple of its start has diverged.
const DIVERGED: f64 = 10.0;

/// Trains `architecture` on `data` for `config.steps` steps (see [`Trainer`]);
/// `progress(step, loss)` is called after every step.
///
/// Fails if the loss becomes non-finite, or if it ends at ten times where it started or more:
/// a diverged run must never replace a model (the untrained `tps` network is the Gaussian
/// denoiser, so a trained one ends near or below its start; single-batch losses are noisy,
/// hence the wide margin).
pub fn train(
    data: &[Vec<f64>],
    architecture: &MlpConfig,
    config: &TrainingConfig,
    seed: u64,
    device: &Device,
    mut progress: impl FnMut(usize, f64),
) -> Result<Trained> {
    let mut trainer = Trainer::new(data, architecture, config, seed, device)?;
    for step in 0..config.steps {
        let loss = trainer.step()?;
        progress(step, loss);
    }
    let trained = trainer.finish();
    let h = &trained.loss_history;
    let window = (h.len() / 10).clamp(1, 100);
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    // The first step's loss is the untrained network's; later early steps may already spike.
    let (first, last) = (h[0], mean(&h[h.len() - window..]));
    if h.len() >= 20 && last > DIVERGED * first {
        return Err(Error::NonFinite(format!(
            "training diverged: the loss rose from {first:.4} to {last:.4}; lower \
             training.learning_rate ({})",
            config.learning_rate
        )));
    }
    Ok(trained)
}
