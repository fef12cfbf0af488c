//! The exact GELU `z Φ(z)` for training on the CPU: value and slope `Φ(z) + z φ(z)` in one
//! vectorised pass, the backward a single multiplication.
//!
//! burn's CPU backend evaluates GELU one element at a time through libm's scalar `erff`, and
//! its backward evaluates `erff` and `expf` again: a third of a training step of the paper's
//! network (BENCHMARKS, "Where the training step's time goes"). Here each element is computed
//! in f64 with fused multiply-adds and no library call, so the compiler vectorises the loop
//! (AVX-512 or AVX2 + FMA chosen at run time; elsewhere libm's `fma`, slower: FMA is exactly
//! rounded, so every path gives the same bits): `Φ(z) = ½ (1 + erf(z/√2))` from the Taylor
//! series of `erf` for `|z| < √2` and from Numerical Recipes' Chebyshev fit of `erfc` (relative
//! error below 1.2·10⁻⁷) beyond. Unlike `0.5 (1 + erf)` in f32 it keeps its relative accuracy in the
//! negative tail. Other backends and f64 tensors use burn's own GELU.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::ops::FloatTensorOps;
use burn::backend::{Autodiff, DType, Flex, TensorMetadata};
use burn::tensor::{Tensor, TensorData, activation};
use burn_flex::FlexTensor;
use rayon::prelude::*;
use tps_mm::numeric::{Isa, Width, exp};

/// `GELU(z)`, differentiable: the fused kernel where a gradient will flow back through it (f32
/// on the CPU backend, tracked by autodiff: training), burn's elsewhere, so that sampling with a
/// trained model gives the same bits as before this kernel existed (the two agree within 2 ulp
/// for z ≥ −1; below, burn's loses digits).
pub fn gelu(z: Tensor<2>) -> Tensor<2> {
    if z.dtype() == DType::F32
        && let Ok(tensor) = z.clone().try_into_primitive::<Autodiff<Flex>>()
        && tensor.is_tracked()
    {
        let node = tensor.node();
        let (value, slope) = value_and_slope(tensor.primitive());
        let out = match Slope
            .prepare::<NoCheckpointing>([node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(slope, value),
            OpsKind::UnTracked(prep) => prep.finish(value),
        };
        return Tensor::from_primitive::<Autodiff<Flex>>(out);
    }
    activation::gelu(z)
}

/// The backward of [`gelu`]: the incoming gradient times the slope saved by the forward pass.
#[derive(Debug)]
struct Slope;

impl Backward<Flex, 1> for Slope {
    type State = FlexTensor;

    fn backward(self, ops: Ops<FlexTensor, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let slope = ops.state;
        unary::<Flex, _>(ops.parents, ops.node, grads, |grad| {
            Flex::float_mul(grad, slope)
        });
    }
}

/// Elements per task when the kernel runs on several threads (element-wise: same bits).
const CHUNK: usize = 1 << 14;

/// GELU and its slope of an f32 tensor, as two contiguous tensors of its shape.
fn value_and_slope(z: &FlexTensor) -> (FlexTensor, FlexTensor) {
    let z = z.to_contiguous();
    let x = z.as_slice::<f32>().expect("a contiguous f32 tensor");
    let mut value = vec![0.0f32; x.len()];
    let mut slope = vec![0.0f32; x.len()];
    x.par_chunks(CHUNK)
        .zip(value.par_chunks_mut(CHUNK))
        .zip(slope.par_chunks_mut(CHUNK))
        .for_each(|((x, v), s)| fill(x, v, s));
    let shape = z.shape();
    (
        FlexTensor::from_data(TensorData::new(value, shape.clone())),
        FlexTensor::from_data(TensorData::new(slope, shape)),
    )
}

/// Writes `GELU(x)` and its slope for every element, with the widest vectors the CPU has.
pub fn fill(x: &[f32], value: &mut [f32], slope: &mut [f32]) {
    fill_with(Isa::widest(), x, value, slope)
}

fn fill_with(isa: Isa, x: &[f32], value: &mut [f32], slope: &mut [f32]) {
    match isa.width() {
        // SAFETY: an `Isa` is made only by detecting what this CPU runs.
        #[cfg(target_arch = "x86_64")]
        Width::Avx512 => unsafe { fill_avx512(x, value, slope) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Width::Avx2Fma => unsafe { fill_avx2(x, value, slope) },
        _ => fill_portable(x, value, slope),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn fill_avx512(x: &[f32], value: &mut [f32], slope: &mut [f32]) {
    fill_portable(x, value, slope)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn fill_avx2(x: &[f32], value: &mut [f32], slope: &mut [f32]) {
    fill_portable(x, value, slope)
}

#[inline(always)]
fn fill_portable(x: &[f32], value: &mut [f32], slope: &mut [f32]) {
    for ((&x, v), s) in x.iter().zip(value.iter_mut()).zip(slope.iter_mut()) {
        let (gv, gs) = gelu_and_slope(x as f64);
        *v = gv as f32;
        *s = gs as f32;
    }
}

/// `(x Φ(x), Φ(x) + x φ(x))` without branches or library calls; the limits at ±∞, NaN kept.
#[inline(always)]
fn gelu_and_slope(x: f64) -> (f64, f64) {
    const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
    let z = x * std::f64::consts::FRAC_1_SQRT_2;
    let a = z.abs();
    // erf(z) = 2/√π Σₙ (−1)ⁿ z²ⁿ⁺¹ / (n! (2n + 1)), to n = 17 (below 10⁻¹⁶ for |z| < 1).
    let z2 = z * z;
    let mut series = 0.0;
    for c in INV_FACTORIAL_ODD.iter().rev() {
        series = z2.mul_add(series, *c);
    }
    let cdf_series = 0.5 + 0.5 * std::f64::consts::FRAC_2_SQRT_PI * z * series;
    // erfc(|z|) = t exp(−z² + P(t)), t = 1/(1 + |z|/2) (Numerical Recipes, § 6.2).
    let t = 1.0 / (1.0 + 0.5 * a);
    let mut p = 0.0;
    for c in NR_ERFC.iter().rev() {
        p = t.mul_add(p, *c);
    }
    let erfc = t * exp(p - z2);
    let cdf_fit = if x < 0.0 {
        0.5 * erfc
    } else {
        1.0 - 0.5 * erfc
    };
    let cdf = if a < 1.0 { cdf_series } else { cdf_fit };
    let pdf = FRAC_1_SQRT_2PI * exp(-z2);
    let value = if x == f64::INFINITY { x } else { x * cdf };
    let value = if x == f64::NEG_INFINITY { -0.0 } else { value };
    let slope = cdf + if x.is_infinite() { 0.0 } else { x * pdf };
    let slope = if x.is_nan() { x } else { slope };
    (value, slope)
}

/// `(−1)ⁿ / (n! (2n + 1))`, the Taylor coefficients of `erf` in `z²` without `2/√π`.
const INV_FACTORIAL_ODD: [f64; 18] = {
    let mut c = [0.0; 18];
    let mut factorial = 1.0;
    let mut n = 0;
    while n < 18 {
        if n > 0 {
            factorial *= n as f64;
        }
        let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
        c[n] = sign / (factorial * (2 * n + 1) as f64);
        n += 1;
    }
    c
};

/// Numerical Recipes' `erfcc` coefficients, lowest order first.
const NR_ERFC: [f64; 10] = [
    -1.265_512_23,
    1.000_023_68,
    0.374_091_96,
    0.096_784_18,
    -0.186_288_06,
    0.278_868_07,
    -1.135_203_98,
    1.488_515_87,
    -0.822_152_23,
    0.170_872_77,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// What the module promises: the AVX-512, AVX2 + FMA and plain paths give the same bits
    /// (every path this CPU has, on 2 M values across the range, tails, zeros and NaN).
    #[test]
    fn every_instruction_set_gives_the_same_bits() {
        let mut xs: Vec<f32> = (0..2_000_000)
            .map(|i| -30.0 + 60.0 * i as f32 / 2_000_000.0)
            .collect();
        xs.extend([
            0.0,
            -0.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1e-30,
            -1e-30,
        ]);
        let run = |isa: Isa| {
            let (mut v, mut s) = (vec![0.0f32; xs.len()], vec![0.0f32; xs.len()]);
            fill_with(isa, &xs, &mut v, &mut s);
            (v, s)
        };
        let plain = run(Isa::PORTABLE);
        let paths = Isa::available();
        for isa in paths {
            let name = format!("{:?}", isa.width());
            let (v, s) = run(isa);
            for k in 0..xs.len() {
                assert_eq!(
                    v[k].to_bits(),
                    plain.0[k].to_bits(),
                    "{name}: GELU({})",
                    xs[k]
                );
                assert_eq!(
                    s[k].to_bits(),
                    plain.1[k].to_bits(),
                    "{name}: slope({})",
                    xs[k]
                );
            }
        }
    }

    /// `x Φ(x)` and `Φ(x) + x φ(x)` from libm's double-precision `erfc`.
    fn reference(x: f64) -> (f64, f64) {
        let cdf = 0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2);
        let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        (x * cdf, cdf + x * pdf)
    }

    /// Distance in units in the last place of f32 between `got` and the f64 `want`.
    fn ulps(got: f32, want: f64) -> f64 {
        let rounded = want as f32;
        if got == rounded {
            return 0.0;
        }
        let ulp = (f32::from_bits(rounded.abs().to_bits() + 1) - rounded.abs()) as f64;
        ((got as f64 - want) / ulp).abs()
    }

    /// Every f32 in [−20, 20] at a stride of 61 bit patterns (≈ 34 million values): GELU within
    /// 2.5 ulp where it is not subnormal (the Chebyshev fit's 1.2·10⁻⁷), its slope within 1 ulp
    /// where `|slope| > 10⁻³` (near the slope's root at x ≈ −0.75 the bound is absolute: 10⁻¹⁰).
    /// burn's `0.5 x (1 + erff(x/√2))` for x ≥ −1 is printed beside for the record.
    #[test]
    fn value_and_slope_within_ulps_of_double_precision() {
        let mut worst = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        let mut xs = Vec::new();
        for bits in (0..0x41a0_0000u32).step_by(61) {
            let x = f32::from_bits(bits);
            xs.extend([x, -x]);
        }
        let mut value = vec![0.0; xs.len()];
        let mut slope = vec![0.0; xs.len()];
        fill(&xs, &mut value, &mut slope);
        for ((&x, &v), &s) in xs.iter().zip(&value).zip(&slope) {
            let (rv, rs) = reference(x as f64);
            if rv.abs() >= f32::MIN_POSITIVE as f64 {
                let u = ulps(v, rv);
                assert!(u <= 2.5, "GELU({x}) = {v}, reference {rv} ({u} ulp)");
                worst.0 = worst.0.max(u);
                let burn = 0.5 * x * (1.0 + libm::erff(x / std::f32::consts::SQRT_2));
                if x >= -1.0 {
                    worst.2 = worst.2.max(ulps(burn, rv));
                    worst.3 = worst.3.max(ulps(burn, v as f64));
                }
            } else {
                assert!((v as f64 - rv).abs() <= f32::MIN_POSITIVE as f64);
            }
            if rs.abs() > 1e-3 {
                let u = ulps(s, rs);
                assert!(u <= 1.0, "GELU'({x}) = {s}, reference {rs} ({u} ulp)");
                worst.1 = worst.1.max(u);
            } else {
                assert!(
                    (s as f64 - rs).abs() < 1e-10,
                    "GELU'({x}) = {s}, reference {rs}"
                );
            }
        }
        eprintln!(
            "worst: GELU {:.3} ulp, slope {:.3} ulp; burn's GELU for x ≥ −1 {:.3} ulp, {:.3} ulp \
             from this one",
            worst.0, worst.1, worst.2, worst.3
        );
    }

    #[test]
    fn limits_zero_and_nan() {
        let xs = [
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            -1e30,
            1e30,
        ];
        let mut value = [1.0f32; 7];
        let mut slope = [1.0f32; 7];
        fill(&xs, &mut value, &mut slope);
        assert_eq!(value[..2], [0.0, 0.0]);
        assert_eq!(slope[..2], [0.5, 0.5]);
        assert_eq!((value[2], slope[2]), (f32::INFINITY, 1.0));
        assert_eq!((value[3], slope[3]), (0.0, 0.0));
        assert!(value[4].is_nan() && slope[4].is_nan());
        assert_eq!((value[5], slope[5]), (0.0, 0.0));
        assert_eq!((value[6], slope[6]), (1e30, 1.0));
    }
}
