//! Denoisers `D(x, λ) = E[x_0 | x_t = x, λ]` and their Jacobian-vector products.
//!
//! Everything is written as burn tensor operations so that a single reverse pass can
//! differentiate quantities that contain Jacobians (the divergence) with respect to the inputs:
//! burn has no gradient-of-gradient, so the JVP is forward mode by hand.

pub mod checkpoint;
pub mod gaussian_mixture;
pub mod gelu;
pub mod mlp;
pub mod normalisation;

use burn::tensor::Tensor;

pub use gaussian_mixture::GaussianMixture;
pub use mlp::{Mlp, MlpConfig, Network};
pub use normalisation::Normalisation;

/// A denoiser in `dim()` dimensions.
///
/// Shapes: `lambda` is `[B, 1]`, `x` is `[B, D]`; `tangents` stacks `P` batches of tangent
/// vectors as `[P·B, D]` (row `p·B + b` is tangent `p` at point `b`).
pub trait Denoiser: Send + Sync {
    /// Data dimension `D`.
    fn dim(&self) -> usize;

    /// `D(x, λ)`, shape `[B, D]`.
    fn denoise(&self, lambda: Tensor<2>, x: Tensor<2>) -> Tensor<2>;

    /// `D(x, λ)` and the Jacobian-vector products `∂D/∂x · v` for every tangent, `[P·B, D]`.
    fn denoise_jvp(
        &self,
        lambda: Tensor<2>,
        x: Tensor<2>,
        tangents: Tensor<2>,
    ) -> (Tensor<2>, Tensor<2>);
}
