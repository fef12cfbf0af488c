//! The denoiser networks, with forward-mode JVPs written by hand.
//!
//! Both embed every coordinate (times `input_scale`) and λ with sinusoidal features of
//! `embedding` sizes, `(sin(u ω_k), cos(u ω_k))`, and lift them with one linear layer to
//! `hidden` features; they differ after that:
//!
//! * `tps` (default): the lift has no activation; each of `blocks` residual blocks adds
//!   `W₂ GELU(W₁ h + b₁) + b₂`; the read-out is `W GELU(h) + b`, and the denoiser is a
//!   Gaussian skip `D(x, λ) = α x + σ F(x, λ)`. For data of unit variance (the trainer
//!   normalises) `α x` is the exact denoiser of `N(0, I)`, so the network learns only the
//!   correction, and `D → x` as λ → ∞ whatever `F` does. Frequencies `ω_k = 10⁻⁴ᵏᐟʰ`, `h` half
//!   the embedding.
//! * `authors`: the spacetime paper's published network: `h = GELU(W x_emb + b)`, blocks
//!   `h ← h + GELU(W h + b)` (one linear each), a linear read-out that is `D(x, λ)` itself (no
//!   skip), on raw data; frequencies `ω_k = 10⁻⁴ᵏᐟ⁽ʰ⁻¹⁾`.

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::Denoiser;
use super::gelu::gelu;
use crate::compute;
use crate::error::{Error, Result};
use crate::schedule;

/// Which network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// Two linears per residual block and a Gaussian skip (see the module documentation).
    #[default]
    Tps,
    /// The spacetime paper's network, for like-for-like reproductions.
    Authors,
}

/// Architecture of the denoiser network (stored with every trained model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    /// Data dimension.
    pub dim: usize,
    /// Which network.
    #[serde(default)]
    pub network: Network,
    /// Width of the hidden layers.
    pub hidden: usize,
    /// Number of residual blocks.
    pub blocks: usize,
    /// Size of each sinusoidal embedding (even).
    pub embedding: usize,
    /// Scale applied to coordinates before embedding (λ is embedded unscaled).
    pub input_scale: f64,
}

impl MlpConfig {
    /// The default `tps` network for data of dimension `dim`: the paper's sizes (width 128,
    /// 3 blocks, embeddings of 128, input scale 25).
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            network: Network::Tps,
            hidden: 128,
            blocks: 3,
            embedding: 128,
            input_scale: 25.0,
        }
    }

    /// The spacetime paper's own network at its sizes.
    pub fn authors(dim: usize) -> Self {
        Self {
            network: Network::Authors,
            ..Self::new(dim)
        }
    }

    /// Checks sizes.
    pub fn validate(&self) -> Result<()> {
        let bad =
            |field: &str, message: &str| Err(Error::Invalid(format!("model.{field}: {message}")));
        if self.dim == 0 {
            return bad("dim", "must be at least 1");
        }
        if self.hidden == 0 {
            return bad("hidden", "must be at least 1");
        }
        if self.embedding < 4 || !self.embedding.is_multiple_of(2) {
            return bad("embedding", "must be an even number of at least 4");
        }
        if !(self.input_scale > 0.0 && self.input_scale.is_finite()) {
            return bad("input_scale", "must be positive");
        }
        Ok(())
    }

    /// Frequencies `ω_k` of the sinusoidal embedding.
    fn frequencies(&self) -> Vec<f64> {
        let half = self.embedding / 2;
        let denominator = match self.network {
            Network::Tps => half,
            Network::Authors => half - 1,
        } as f64;
        (0..half)
            .map(|k| (-(1.0e4f64).ln() * k as f64 / denominator).exp())
            .collect()
    }

    /// Linear layers per residual block.
    fn layers_per_block(&self) -> usize {
        match self.network {
            Network::Tps => 2,
            Network::Authors => 1,
        }
    }

    /// A freshly initialised network (PyTorch's default uniform fan-in init; for `tps`, a
    /// zero read-out so that the untrained denoiser is the Gaussian one).
    pub fn init(&self, rng: &mut impl Rng, device: &Device) -> Result<Mlp> {
        self.validate()?;
        let shapes = self.parameter_shapes();
        let last = shapes.len() - 2;
        let params: Vec<Vec<f64>> = shapes
            .iter()
            .enumerate()
            .map(|(k, &(rows, cols))| {
                if k >= last && self.network == Network::Tps {
                    return vec![0.0; rows * cols];
                }
                // Weights and their biases share the weight's fan-in.
                let fan_in = if k % 2 == 0 { rows } else { shapes[k - 1].0 };
                let bound = 1.0 / (fan_in as f64).sqrt();
                (0..rows * cols)
                    .map(|_| rng.random_range(-bound..bound))
                    .collect()
            })
            .collect();
        Mlp::from_host(self.clone(), &params, device)
    }

    /// Shapes of the parameter tensors, in storage order: `(rows, cols)`, each weight followed
    /// by its bias (one row).
    pub fn parameter_shapes(&self) -> Vec<(usize, usize)> {
        let (d, h, e) = (self.dim, self.hidden, self.embedding);
        let mut shapes = vec![((d + 1) * e, h), (1, h)];
        for _ in 0..self.blocks * self.layers_per_block() {
            shapes.extend([(h, h), (1, h)]);
        }
        shapes.extend([(h, d), (1, d)]);
        shapes
    }
}

/// A linear layer `h W + b`.
#[derive(Module, Debug)]
pub struct Dense {
    w: Param<Tensor<2>>,
    b: Param<Tensor<1>>,
}

impl Dense {
    fn forward(&self, h: Tensor<2>) -> Tensor<2> {
        h.matmul(self.w.val()) + self.b.val().unsqueeze_dim::<2>(0)
    }
}

/// The denoiser network.
#[derive(Module, Debug)]
pub struct Mlp {
    input: Dense,
    /// The residual blocks' layers, `layers_per_block` consecutive ones per block.
    hidden: Vec<Dense>,
    output: Dense,
    #[module(skip)]
    config: MlpConfig,
    #[module(skip)]
    frequencies: Vec<f64>,
}

/// Exact GELU `z Φ(z)` and its derivative `Φ(z) + z φ(z)` at once.
fn gelu_with_slope(z: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
    let cdf = (z.clone().mul_scalar(std::f64::consts::FRAC_1_SQRT_2).erf() + 1.0).mul_scalar(0.5);
    let pdf = z
        .clone()
        .powi_scalar(2)
        .mul_scalar(-0.5)
        .exp()
        .mul_scalar(1.0 / (2.0 * std::f64::consts::PI).sqrt());
    let value = z.clone() * cdf.clone();
    (value, cdf + z * pdf)
}

/// Multiplies `[P·B, H]` row-blocks by a `[B, H]` factor shared by all `P` blocks.
fn scale_rows(stacked: Tensor<2>, factor: Tensor<2>) -> Tensor<2> {
    let [b, h] = factor.dims();
    let p = stacked.dims()[0] / b;
    (stacked.reshape([p, b, h]) * factor.unsqueeze_dim::<3>(0)).reshape([p * b, h])
}

/// Intermediate values of a forward pass that the JVP reuses: the embedding angles' sine and
/// cosine and every activation's slope, in order.
struct Trace {
    sin: Tensor<3>,
    cos: Tensor<3>,
    slopes: Vec<Tensor<2>>,
}

impl Mlp {
    /// Builds the network from host parameters in [`MlpConfig::parameter_shapes`] order.
    pub fn from_host(config: MlpConfig, params: &[Vec<f64>], device: &Device) -> Result<Self> {
        config.validate()?;
        let shapes = config.parameter_shapes();
        if params.len() != shapes.len()
            || params
                .iter()
                .zip(&shapes)
                .any(|(p, (r, c))| p.len() != r * c)
        {
            return Err(Error::Invalid(
                "network parameters do not match the architecture".into(),
            ));
        }
        let mut layers: Vec<Dense> = params
            .chunks(2)
            .zip(shapes.chunks(2))
            .map(|(p, s)| Dense {
                w: Param::from_tensor(compute::matrix(&p[0], s[0].0, s[0].1, device)),
                b: Param::from_tensor(compute::vector(&p[1], device)),
            })
            .collect();
        let output = layers.pop().expect("at least two layers");
        let input = layers.remove(0);
        Ok(Self {
            input,
            hidden: layers,
            output,
            frequencies: config.frequencies(),
            config,
        })
    }

    /// Parameters as host vectors in [`MlpConfig::parameter_shapes`] order.
    pub fn to_host(&self) -> Vec<Vec<f64>> {
        self.layers()
            .flat_map(|l| [compute::to_host(l.w.val()), compute::to_host(l.b.val())])
            .collect()
    }

    /// An independent copy (its own parameter ids, so its autodiff graph shares nothing with
    /// this network's and both can run backward passes at once).
    pub fn detached_copy(&self) -> Result<Self> {
        Self::from_host(
            self.config.clone(),
            &self.to_host(),
            &self.input.w.val().device(),
        )
    }

    fn layers(&self) -> impl Iterator<Item = &Dense> {
        std::iter::once(&self.input)
            .chain(&self.hidden)
            .chain(std::iter::once(&self.output))
    }

    /// Moves the gradients of `copy` (a [`Mlp::detached_copy`] of this network) from `from`
    /// into `into` under this network's parameters, adding to what is there.
    pub fn gather_gradients(
        &self,
        copy: &Mlp,
        from: &mut GradientsParams,
        into: &mut GradientsParams,
    ) {
        fn add<const D: usize>(
            mine: &Param<Tensor<D>>,
            theirs: &Param<Tensor<D>>,
            from: &mut GradientsParams,
            into: &mut GradientsParams,
        ) {
            if let Some(g) = from.remove::<D>(theirs.id) {
                let sum = match into.remove::<D>(mine.id) {
                    Some(h) => h + g,
                    None => g,
                };
                into.register(mine.id, sum);
            }
        }
        for (mine, theirs) in self.layers().zip(copy.layers()) {
            add(&mine.w, &theirs.w, from, into);
            add(&mine.b, &theirs.b, from, into);
        }
    }

    /// The architecture.
    pub fn config(&self) -> &MlpConfig {
        &self.config
    }

    fn frequencies(&self, device: &Device) -> Tensor<3> {
        let half = self.frequencies.len();
        compute::vector(&self.frequencies, device).reshape([1, 1, half])
    }

    /// Sinusoidal features of every column of `u` (`[B, C]` → `[B, C·E]`), and the angles'
    /// sine and cosine for the JVP.
    fn embed(&self, u: Tensor<2>) -> (Tensor<2>, Tensor<3>, Tensor<3>) {
        let [b, c] = u.dims();
        let angles = u.unsqueeze_dim::<3>(2) * self.frequencies(&self.input.w.val().device());
        let (sin, cos) = (angles.clone().sin(), angles.cos());
        let features =
            Tensor::cat(vec![sin.clone(), cos.clone()], 2).reshape([b, c * self.config.embedding]);
        (features, sin, cos)
    }

    /// The network's output: `F` for `tps`, `D` for `authors`; with the trace for the JVP if
    /// `traced` (else burn's fused GELU).
    fn network(&self, lambda: Tensor<2>, x: Tensor<2>, traced: bool) -> (Tensor<2>, Trace) {
        let (emb_x, sin, cos) = self.embed(x.mul_scalar(self.config.input_scale));
        let (emb_l, _, _) = self.embed(lambda);
        let mut slopes = Vec::new();
        let mut act = |z: Tensor<2>| {
            if traced {
                let (v, s) = gelu_with_slope(z);
                slopes.push(s);
                v
            } else {
                gelu(z)
            }
        };
        let lifted = self.input.forward(Tensor::cat(vec![emb_x, emb_l], 1));
        let out = match self.config.network {
            Network::Tps => {
                let mut h = lifted;
                for block in self.hidden.chunks(2) {
                    let a = act(block[0].forward(h.clone()));
                    h = h + block[1].forward(a);
                }
                self.output.forward(act(h))
            }
            Network::Authors => {
                let mut h = act(lifted);
                for layer in &self.hidden {
                    h = h.clone() + act(layer.forward(h));
                }
                self.output.forward(h)
            }
        };
        (out, Trace { sin, cos, slopes })
    }

    /// The network output's JVP `∂out/∂x · v` for stacked tangents `[P·B, D]`.
    fn network_jvp(&self, trace: Trace, tangents: Tensor<2>) -> Tensor<2> {
        let [b, d, _] = trace.sin.dims();
        let pb = tangents.dims()[0];
        let p = pb / b;
        let e = self.config.embedding;
        let device = tangents.device();
        // d/du [sin(uω), cos(uω)] = [cos(uω) ω, −sin(uω) ω], with u = scale · x; λ has no
        // tangent, so only the coordinates' rows of the lift matter.
        let dv = tangents
            .mul_scalar(self.config.input_scale)
            .reshape([p, b, d, 1])
            * self.frequencies(&device).unsqueeze_dim::<4>(0);
        let d_sin = dv.clone() * trace.cos.unsqueeze_dim::<4>(0);
        let d_cos = dv.neg() * trace.sin.unsqueeze_dim::<4>(0);
        let d_emb = Tensor::cat(vec![d_sin, d_cos], 3).reshape([pb, d * e]);
        let lift = d_emb.matmul(self.input.w.val().narrow(0, 0, d * e));
        let mut slopes = trace.slopes.into_iter();
        let mut next = || slopes.next().expect("one slope per activation");
        match self.config.network {
            Network::Tps => {
                let mut jh = lift;
                for block in self.hidden.chunks(2) {
                    let inner = scale_rows(jh.clone().matmul(block[0].w.val()), next());
                    jh = jh + inner.matmul(block[1].w.val());
                }
                scale_rows(jh, next()).matmul(self.output.w.val())
            }
            Network::Authors => {
                let mut jh = scale_rows(lift, next());
                for layer in &self.hidden {
                    jh = jh.clone() + scale_rows(jh.matmul(layer.w.val()), next());
                }
                jh.matmul(self.output.w.val())
            }
        }
    }
}

impl Denoiser for Mlp {
    fn dim(&self) -> usize {
        self.config.dim
    }

    fn denoise(&self, lambda: Tensor<2>, x: Tensor<2>) -> Tensor<2> {
        let (out, _) = self.network(lambda.clone(), x.clone(), false);
        match self.config.network {
            Network::Tps => {
                let (alpha, sigma) = schedule::alpha_sigma(lambda);
                alpha * x + sigma * out
            }
            Network::Authors => out,
        }
    }

    fn denoise_jvp(
        &self,
        lambda: Tensor<2>,
        x: Tensor<2>,
        tangents: Tensor<2>,
    ) -> (Tensor<2>, Tensor<2>) {
        let (out, trace) = self.network(lambda.clone(), x.clone(), true);
        let jout = self.network_jvp(trace, tangents.clone());
        match self.config.network {
            Network::Tps => {
                let (alpha, sigma) = schedule::alpha_sigma(lambda);
                let [b, d] = x.dims();
                let p = tangents.dims()[0] / b;
                let jv = tangents.reshape([p, b, d]) * alpha.clone().unsqueeze_dim::<3>(0)
                    + jout.reshape([p, b, d]) * sigma.clone().unsqueeze_dim::<3>(0);
                (alpha * x + sigma * out, jv.reshape([p * b, d]))
            }
            Network::Authors => (out, jout),
        }
    }
}
