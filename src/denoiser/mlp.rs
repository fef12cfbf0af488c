//! The paper's denoiser network: sinusoidal embeddings of every coordinate and of λ, a linear
//! lift, residual GELU blocks and a linear read-out, with a forward-mode JVP written by hand.
//!
//! The network predicts `x_0` through a Gaussian skip: `D(x, λ) = α x + σ F(x, λ)`. For data of
//! unit variance (the trainer normalises) `α x` is the exact denoiser of `N(0, I)`, so the network
//! only learns the correction, and `D → x` as λ → ∞ whatever `F` does.

use burn::module::{Module, Param};
use burn::tensor::activation::gelu;
use burn::tensor::{Device, Tensor};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::Denoiser;
use crate::compute;
use crate::error::{Error, Result};
use crate::schedule;

/// Architecture of the denoiser network (stored with every trained model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    /// Data dimension.
    pub dim: usize,
    /// Width of the hidden layers.
    #[serde(default = "default_hidden")]
    pub hidden: usize,
    /// Number of residual GELU blocks.
    #[serde(default = "default_blocks")]
    pub blocks: usize,
    /// Size of each sinusoidal embedding (even).
    #[serde(default = "default_embedding")]
    pub embedding: usize,
    /// Scale applied to coordinates before embedding.
    #[serde(default = "default_input_scale")]
    pub input_scale: f64,
}

fn default_hidden() -> usize {
    128
}
fn default_blocks() -> usize {
    3
}
fn default_embedding() -> usize {
    128
}
fn default_input_scale() -> f64 {
    25.0
}

impl MlpConfig {
    /// The paper's alanine-dipeptide sizes for data of dimension `dim`.
    pub fn paper(dim: usize) -> Self {
        Self {
            dim,
            hidden: default_hidden(),
            blocks: default_blocks(),
            embedding: default_embedding(),
            input_scale: default_input_scale(),
        }
    }

    /// Checks sizes; `context` names where the config came from.
    pub fn validate(&self) -> Result<()> {
        let bad =
            |field: &str, message: &str| Err(Error::Invalid(format!("model.{field}: {message}")));
        if self.dim == 0 {
            return bad("dim", "must be at least 1");
        }
        if self.hidden == 0 {
            return bad("hidden", "must be at least 1");
        }
        if self.embedding < 2 || !self.embedding.is_multiple_of(2) {
            return bad("embedding", "must be an even number of at least 2");
        }
        if !(self.input_scale > 0.0 && self.input_scale.is_finite()) {
            return bad("input_scale", "must be positive");
        }
        Ok(())
    }

    /// Frequencies `ω_k = exp(−ln(10⁴) k / half)` of the sinusoidal embedding.
    fn frequencies(&self) -> Vec<f64> {
        let half = self.embedding / 2;
        (0..half)
            .map(|k| (-(1.0e4f64).ln() * k as f64 / half as f64).exp())
            .collect()
    }

    /// A freshly initialised network (PyTorch's default uniform fan-in init; zero read-out so
    /// the untrained denoiser is the Gaussian one).
    pub fn init(&self, rng: &mut impl Rng, device: &Device) -> Result<Mlp> {
        self.validate()?;
        let (d, h, e) = (self.dim, self.hidden, self.embedding);
        let mut uniform = |rows: usize, cols: usize, fan_in: usize| -> Vec<f64> {
            let bound = 1.0 / (fan_in as f64).sqrt();
            (0..rows * cols)
                .map(|_| rng.random_range(-bound..bound))
                .collect()
        };
        let mut params = vec![
            uniform((d + 1) * e, h, (d + 1) * e),
            uniform(1, h, (d + 1) * e),
        ];
        for _ in 0..self.blocks {
            params.push(uniform(h, h, h));
            params.push(uniform(1, h, h));
            params.push(uniform(h, h, h));
            params.push(uniform(1, h, h));
        }
        params.push(vec![0.0; h * d]);
        params.push(vec![0.0; d]);
        Mlp::from_host(self.clone(), &params, device)
    }

    /// Shapes of the parameter tensors, in storage order: `(rows, cols)`; biases have one row.
    pub fn parameter_shapes(&self) -> Vec<(usize, usize)> {
        let (d, h, e) = (self.dim, self.hidden, self.embedding);
        let mut shapes = vec![((d + 1) * e, h), (1, h)];
        for _ in 0..self.blocks {
            shapes.extend([(h, h), (1, h), (h, h), (1, h)]);
        }
        shapes.extend([(h, d), (1, d)]);
        shapes
    }
}

/// One residual block: `h + W₂ GELU(W₁ h + b₁) + b₂`.
#[derive(Module, Debug)]
pub struct ResidualBlock {
    w1: Param<Tensor<2>>,
    b1: Param<Tensor<1>>,
    w2: Param<Tensor<2>>,
    b2: Param<Tensor<1>>,
}

/// The denoiser network.
#[derive(Module, Debug)]
pub struct Mlp {
    w_in: Param<Tensor<2>>,
    b_in: Param<Tensor<1>>,
    blocks: Vec<ResidualBlock>,
    w_out: Param<Tensor<2>>,
    b_out: Param<Tensor<1>>,
    #[module(skip)]
    config: MlpConfig,
    #[module(skip)]
    frequencies: Vec<f64>,
}

fn param2(values: &[f64], rows: usize, cols: usize, device: &Device) -> Param<Tensor<2>> {
    Param::from_tensor(compute::matrix(values, rows, cols, device))
}

fn param1(values: &[f64], device: &Device) -> Param<Tensor<1>> {
    Param::from_tensor(compute::vector(values, device))
}

/// Exact GELU `z Φ(z)` (burn's fused op is used where no slope is needed) and its derivative `Φ(z) + z φ(z)` at once.
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

fn linear(h: Tensor<2>, w: &Param<Tensor<2>>, b: &Param<Tensor<1>>) -> Tensor<2> {
    h.matmul(w.val()) + b.val().unsqueeze_dim::<2>(0)
}

/// Multiplies `[P·B, H]` row-blocks by a `[B, H]` factor shared by all `P` blocks.
fn scale_rows(stacked: Tensor<2>, factor: Tensor<2>) -> Tensor<2> {
    let [b, h] = factor.dims();
    let p = stacked.dims()[0] / b;
    (stacked.reshape([p, b, h]) * factor.unsqueeze_dim::<3>(0)).reshape([p * b, h])
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
        let mut it = params.iter().zip(&shapes);
        let mut next2 = || {
            let (p, &(r, c)) = it.next().expect("length checked");
            (p, r, c)
        };
        let (p, r, c) = next2();
        let w_in = param2(p, r, c, device);
        let (p, _, _) = next2();
        let b_in = param1(p, device);
        let mut blocks = Vec::with_capacity(config.blocks);
        for _ in 0..config.blocks {
            let (p, r, c) = next2();
            let w1 = param2(p, r, c, device);
            let (p, _, _) = next2();
            let b1 = param1(p, device);
            let (p, r, c) = next2();
            let w2 = param2(p, r, c, device);
            let (p, _, _) = next2();
            let b2 = param1(p, device);
            blocks.push(ResidualBlock { w1, b1, w2, b2 });
        }
        let (p, r, c) = next2();
        let w_out = param2(p, r, c, device);
        let (p, _, _) = next2();
        let b_out = param1(p, device);
        Ok(Self {
            w_in,
            b_in,
            blocks,
            w_out,
            b_out,
            frequencies: config.frequencies(),
            config,
        })
    }

    /// Parameters as host vectors in [`MlpConfig::parameter_shapes`] order.
    pub fn to_host(&self) -> Vec<Vec<f64>> {
        let mut out = vec![
            compute::to_host(self.w_in.val()),
            compute::to_host(self.b_in.val()),
        ];
        for block in &self.blocks {
            out.push(compute::to_host(block.w1.val()));
            out.push(compute::to_host(block.b1.val()));
            out.push(compute::to_host(block.w2.val()));
            out.push(compute::to_host(block.b2.val()));
        }
        out.push(compute::to_host(self.w_out.val()));
        out.push(compute::to_host(self.b_out.val()));
        out
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
        let angles = u.unsqueeze_dim::<3>(2) * self.frequencies(&self.w_in.val().device());
        let (sin, cos) = (angles.clone().sin(), angles.cos());
        let features =
            Tensor::cat(vec![sin.clone(), cos.clone()], 2).reshape([b, c * self.config.embedding]);
        (features, sin, cos)
    }

    /// The network's correction `F(x, λ)` alone (training and sampling).
    fn correction(&self, lambda: Tensor<2>, x: Tensor<2>) -> Tensor<2> {
        let (emb_x, _, _) = self.embed(x.mul_scalar(self.config.input_scale));
        let (emb_l, _, _) = self.embed(lambda);
        let mut h = linear(Tensor::cat(vec![emb_x, emb_l], 1), &self.w_in, &self.b_in);
        for block in &self.blocks {
            let act = gelu(linear(h.clone(), &block.w1, &block.b1));
            h = h + linear(act, &block.w2, &block.b2);
        }
        linear(gelu(h), &self.w_out, &self.b_out)
    }

    /// `F(x, λ)` with the activation slopes and embedding angles that the JVP reuses.
    fn correction_traced(&self, lambda: Tensor<2>, x: Tensor<2>) -> (Tensor<2>, Trace) {
        let (emb_x, sin, cos) = self.embed(x.mul_scalar(self.config.input_scale));
        let (emb_l, _, _) = self.embed(lambda);
        let mut h = linear(Tensor::cat(vec![emb_x, emb_l], 1), &self.w_in, &self.b_in);
        let mut slopes = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            let (act, slope) = gelu_with_slope(linear(h.clone(), &block.w1, &block.b1));
            slopes.push(slope);
            h = h + linear(act, &block.w2, &block.b2);
        }
        let (act, out_slope) = gelu_with_slope(h);
        let f = linear(act, &self.w_out, &self.b_out);
        let trace = Trace {
            sin,
            cos,
            slopes,
            out_slope,
        };
        (f, trace)
    }

    /// `∂F/∂x · v` for stacked tangents `[P·B, D]`.
    fn correction_jvp(&self, trace: Trace, tangents: Tensor<2>) -> Tensor<2> {
        let [b, d, half] = trace.sin.dims();
        let pb = tangents.dims()[0];
        let p = pb / b;
        let e = self.config.embedding;
        let device = tangents.device();
        // d/du [sin(uω), cos(uω)] = [cos(uω) ω, −sin(uω) ω], with u = scale · x.
        let dv = tangents
            .mul_scalar(self.config.input_scale)
            .reshape([p, b, d, 1])
            * self.frequencies(&device).unsqueeze_dim::<4>(0);
        let d_sin = dv.clone() * trace.cos.unsqueeze_dim::<4>(0);
        let d_cos = dv.neg() * trace.sin.unsqueeze_dim::<4>(0);
        let d_emb = Tensor::cat(vec![d_sin, d_cos], 3).reshape([pb, d * e]);
        debug_assert_eq!(2 * half, e);
        let w_in_x = self.w_in.val().narrow(0, 0, d * e);
        let mut jh = d_emb.matmul(w_in_x);
        for (block, slope) in self.blocks.iter().zip(trace.slopes) {
            let inner = scale_rows(jh.clone().matmul(block.w1.val()), slope);
            jh = jh + inner.matmul(block.w2.val());
        }
        scale_rows(jh, trace.out_slope).matmul(self.w_out.val())
    }
}

/// Intermediate values of a forward pass that the JVP reuses.
struct Trace {
    sin: Tensor<3>,
    cos: Tensor<3>,
    slopes: Vec<Tensor<2>>,
    out_slope: Tensor<2>,
}

impl Denoiser for Mlp {
    fn dim(&self) -> usize {
        self.config.dim
    }

    fn denoise(&self, lambda: Tensor<2>, x: Tensor<2>) -> Tensor<2> {
        let (alpha, sigma) = schedule::alpha_sigma(lambda.clone());
        let f = self.correction(lambda, x.clone());
        alpha * x + sigma * f
    }

    fn denoise_jvp(
        &self,
        lambda: Tensor<2>,
        x: Tensor<2>,
        tangents: Tensor<2>,
    ) -> (Tensor<2>, Tensor<2>) {
        let (alpha, sigma) = schedule::alpha_sigma(lambda.clone());
        let (f, trace) = self.correction_traced(lambda, x.clone());
        let jf = self.correction_jvp(trace, tangents.clone());
        let [b, d] = x.dims();
        let p = tangents.dims()[0] / b;
        let jv = tangents.reshape([p, b, d]) * alpha.clone().unsqueeze_dim::<3>(0)
            + jf.reshape([p, b, d]) * sigma.clone().unsqueeze_dim::<3>(0);
        (alpha * x + sigma * f, jv.reshape([p * b, d]))
    }
}
