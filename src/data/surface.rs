//! A free-energy surface of two periodic variables from weighted frames alone, estimated so that
//! it keeps its barriers.
//!
//! Reweighting a kernel estimate by `exp(V/kT)` smooths the unbiased density, whose basins are
//! sharp: kernels carry basin weight onto the saddle, and barriers come out low (2.4 kJ/mol on
//! alanine dipeptide at 0.15 rad). Here the smoothing acts on what the run sampled instead, the
//! biased density `p_b`, which a metadynamics bias has flattened; the bias is added back as a
//! smooth function: `F(s) = −V̂(s) − kT ln p̂_b(s)`, with `V̂` the frames' bias regressed on the
//! variables (locally quadratic, so that the bias's own curvature is not smoothed away) and
//! `p̂_b` the kernel density of the frames, each weighted by `exp((V_i − V̂(s_i))/kT)`, what
//! the bias at its time differs from the regressed one (a well-tempered bias grows). Without a bias this is a plain kernel estimate. The kernel width
//! is chosen by the data (likelihood cross-validation), and the uncertainty is estimated by a
//! block bootstrap over the trajectories.

use std::f64::consts::{PI, TAU};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::Weighted;
use crate::molecule::cv::angle_distance;

/// Kernel width (rad) of the bias regression: a quadratic fit's error grows as its fourth
/// power, so it can be narrow and still smooth.
const REGRESSION_WIDTH: f64 = 0.1;
/// Fewer frames than this under the regression kernel are fitted by their mean: a quadratic
/// through a handful of frames extrapolates.
const FIT_FRAMES: f64 = 50.0;
/// Kernel widths (rad) of the biased density among which the data choose.
const BANDWIDTHS: [f64; 8] = [0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3];
/// Each trajectory is cut into this many contiguous blocks for the bootstrap (correlated
/// frames stay together).
const BLOCKS_PER_TRAJECTORY: usize = 5;
/// Seed of the bootstrap: the estimate and its uncertainty are functions of the data alone.
const BOOTSTRAP_SEED: u64 = 0x7470_7362;

/// A free-energy surface estimated from frames.
#[derive(Debug, Clone)]
pub struct FrameSurface {
    /// `−kT ln p` (kJ/mol, minimum 0, capped) on an `n × n` grid over `[−π, π)²`, first
    /// variable fastest.
    pub values: Vec<f64>,
    /// Grid points per variable.
    pub n: usize,
    /// Kernel width chosen by likelihood cross-validation (rad).
    pub bandwidth: f64,
}

/// The estimate on an `n × n` grid at thermal energy `kt`, free energies capped `cap_kt` kT
/// above the minimum (regions the frames did not visit).
pub fn estimate(data: &Weighted, n: usize, kt: f64, cap_kt: f64) -> FrameSurface {
    let frames = BinnedFrames::new(data, n);
    let fit = frames.fit(&vec![1.0; data.points.len()], kt);
    let bandwidth = BANDWIDTHS
        .iter()
        .copied()
        .map(|h| {
            let score = fit.cross_validation(h);
            tracing::debug!("kernel width {h} rad: cross-validated log-likelihood {score:.5}");
            (h, score)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(BANDWIDTHS[0], |(h, _)| h);
    tracing::info!("kernel width {bandwidth} rad, chosen by cross-validation");
    FrameSurface {
        values: fit.surface(bandwidth, cap_kt),
        n,
        bandwidth,
    }
}

/// `replicas` surfaces from block-bootstrap resamples of the frames (each trajectory in
/// contiguous blocks, blocks drawn with replacement), at the kernel width of `surface`.
pub fn bootstrap(
    data: &Weighted,
    surface: &FrameSurface,
    kt: f64,
    cap_kt: f64,
    replicas: usize,
) -> Vec<Vec<f64>> {
    let frames = BinnedFrames::new(data, surface.n);
    let blocks = blocks(&data.trajectory);
    let mut rng = ChaCha8Rng::seed_from_u64(BOOTSTRAP_SEED);
    let resamples: Vec<Vec<f64>> = (0..replicas)
        .map(|_| {
            let mut counts = vec![0.0; data.points.len()];
            for _ in 0..blocks.len() {
                let (start, end) = blocks[rng.random_range(0..blocks.len())];
                for c in &mut counts[start..end] {
                    *c += 1.0;
                }
            }
            counts
        })
        .collect();
    resamples
        .par_iter()
        .map(|counts| frames.fit(counts, kt).surface(surface.bandwidth, cap_kt))
        .collect()
}

/// The frames' effective sample size `(Σw)²/Σw²` within `radius` (rad) of `at`.
pub fn effective_samples_near(data: &Weighted, at: &[f64], radius: f64) -> f64 {
    let (sum, squares) = data
        .points
        .iter()
        .zip(&data.weights)
        .filter(|(p, _)| angle_distance(p, at) <= radius)
        .fold((0.0, 0.0), |(s, q), (_, w)| (s + w, q + w * w));
    if squares > 0.0 {
        sum * sum / squares
    } else {
        0.0
    }
}

/// Index ranges of the bootstrap blocks: each trajectory's frames (consecutive in `trajectory`)
/// cut into contiguous blocks.
fn blocks(trajectory: &[usize]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < trajectory.len() {
        let end = start + trajectory[start..].partition_point(|t| *t == trajectory[start]);
        let len = end - start;
        let pieces = BLOCKS_PER_TRAJECTORY.min(len);
        for k in 0..pieces {
            out.push((start + k * len / pieces, start + (k + 1) * len / pieces));
        }
        start = end;
    }
    out
}

/// The frames binned on the grid, with their biases.
struct BinnedFrames {
    n: usize,
    /// Grid node nearest to each frame.
    bin: Vec<usize>,
    /// Each frame's bias (kJ/mol).
    bias: Vec<f64>,
}

impl BinnedFrames {
    fn new(data: &Weighted, n: usize) -> Self {
        let step = TAU / n as f64;
        let index = |x: f64| (((x + PI) / step).round() as isize).rem_euclid(n as isize) as usize;
        Self {
            n,
            bin: data
                .points
                .iter()
                .map(|p| index(p[1]) * n + index(p[0]))
                .collect(),
            bias: data.bias.clone(),
        }
    }

    /// Per-bin sums of `f(i)` over the frames, frame `i` counted `counts[i]` times.
    fn binned(&self, counts: &[f64], f: impl Fn(usize) -> f64) -> Vec<f64> {
        let mut out = vec![0.0; self.n * self.n];
        for (i, (&b, &c)) in self.bin.iter().zip(counts).enumerate() {
            if c > 0.0 {
                out[b] += c * f(i);
            }
        }
        out
    }

    /// The bias regressed on the frames counted `counts` times, and their residual weights.
    fn fit(&self, counts: &[f64], kt: f64) -> Fit<'_> {
        let regressed = self.regressed_bias(counts);
        let residual: Vec<f64> = (0..self.bin.len())
            .map(|i| self.bias[i] - regressed[self.bin[i]])
            .collect();
        let largest = residual
            .iter()
            .zip(counts)
            .filter(|(_, c)| **c > 0.0)
            .map(|(r, _)| *r)
            .fold(f64::NEG_INFINITY, f64::max);
        let weight: Vec<f64> = residual
            .iter()
            .zip(counts)
            .map(|(r, c)| c * ((r - largest) / kt).exp())
            .collect();
        let binned = self.binned(counts, |i| weight[i] / counts[i]);
        Fit {
            frames: self,
            regressed,
            total: binned.iter().sum(),
            binned,
            weight,
            kt,
        }
    }

    /// The frames' bias regressed on the grid (NaN far from every frame): a quadratic fitted
    /// around every node, kernel-weighted (`REGRESSION_WIDTH`); the kernel-weighted mean where
    /// the frames are too few or too one-sided for a quadratic.
    fn regressed_bias(&self, counts: &[f64]) -> Vec<f64> {
        let kernel = Kernel::new(REGRESSION_WIDTH, self.n);
        let number = self.binned(counts, |_| 1.0);
        let sum = self.binned(counts, |i| self.bias[i]);
        // Kernel moments Σ K uᵃ vᵇ of the frames (u, v: offsets in units of the width) and of
        // their bias; the fit's design matrix holds those of order ≤ 4.
        let exponents = [(0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2)];
        let mut moments = vec![Vec::new(); 25];
        for a in 0..=4 {
            for b in 0..=4 - a {
                moments[a * 5 + b] = kernel.moment(&number, a as i32, b as i32);
            }
        }
        let right: Vec<Vec<f64>> = exponents
            .iter()
            .map(|&(a, b)| kernel.moment(&sum, a, b))
            .collect();
        let top = moments[0].iter().copied().fold(0.0, f64::max);
        // Frames under the kernel, each counted by its kernel value relative to the peak.
        let within = 1.0 / kernel.centre();
        (0..self.n * self.n)
            .map(|g| {
                let m0 = moments[0][g];
                if m0 <= 1e-10 * top {
                    return f64::NAN;
                }
                let mean = right[0][g] / m0;
                if m0 * within < FIT_FRAMES {
                    return mean;
                }
                let design = nalgebra::SMatrix::<f64, 6, 6>::from_fn(|r, c| {
                    let a = (exponents[r].0 + exponents[c].0) as usize;
                    let b = (exponents[r].1 + exponents[c].1) as usize;
                    moments[a * 5 + b][g] / m0
                });
                let rhs = nalgebra::SVector::<f64, 6>::from_fn(|r, _| right[r][g] / m0);
                match design.cholesky() {
                    Some(c) if design.symmetric_eigenvalues().min() > 1e-6 => c.solve(&rhs)[0],
                    _ => mean,
                }
            })
            .collect()
    }
}

/// The frames with their regressed bias and residual weights: what is smoothed.
struct Fit<'a> {
    frames: &'a BinnedFrames,
    /// The regressed bias on the grid (kJ/mol; NaN far from every frame).
    regressed: Vec<f64>,
    /// Residual weight of every frame, times its count.
    weight: Vec<f64>,
    /// Those weights per bin, and their sum.
    binned: Vec<f64>,
    total: f64,
    kt: f64,
}

impl Fit<'_> {
    /// The biased density per bin (sum 1), smoothed at width `h`.
    fn density(&self, h: f64) -> Vec<f64> {
        Kernel::new(h, self.frames.n)
            .smooth(&self.binned)
            .into_iter()
            .map(|d| d / self.total)
            .collect()
    }

    /// The free energy at width `h`, up to a constant (infinite where no frame reaches).
    fn raw_surface(&self, h: f64) -> Vec<f64> {
        self.regressed
            .iter()
            .zip(self.density(h))
            .map(|(v, d)| {
                if v.is_finite() && d > 0.0 {
                    -v - self.kt * d.ln()
                } else {
                    f64::INFINITY
                }
            })
            .collect()
    }

    /// The free energy at width `h` with the kernel's leading error removed, minimum 0, capped
    /// at `cap_kt` kT. Smoothing shifts the estimate by `c(s) h²` to leading order (wells
    /// filled, passes lowered); the estimates at `h` and `√2 h` extrapolate it away
    /// (Richardson): `F ≈ 2F_h − F_√2h`.
    fn surface(&self, h: f64, cap_kt: f64) -> Vec<f64> {
        let narrow = self.raw_surface(h);
        let wide = self.raw_surface(std::f64::consts::SQRT_2 * h);
        let raw: Vec<f64> = narrow
            .iter()
            .zip(&wide)
            .map(|(a, b)| {
                if a.is_finite() && b.is_finite() {
                    2.0 * a - b
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        let lowest = raw.iter().copied().fold(f64::INFINITY, f64::min);
        let cap = cap_kt * self.kt;
        raw.iter().map(|f| (f - lowest).min(cap)).collect()
    }

    /// Leave-one-out log-likelihood of the residual-weighted frames under the biased density
    /// smoothed at width `h`: the width the data support.
    fn cross_validation(&self, h: f64) -> f64 {
        let density = self.density(h);
        let own = Kernel::new(h, self.frames.n).centre();
        self.frames
            .bin
            .iter()
            .zip(&self.weight)
            .filter(|(_, w)| **w > 0.0)
            .map(|(&b, &w)| {
                let u = w / self.total;
                let others = (density[b] - u * own) / (1.0 - u).max(f64::MIN_POSITIVE);
                u * others.max(1e-300).ln()
            })
            .sum()
    }
}

/// A periodic Gaussian kernel on the grid, normalised to sum 1 along each axis.
struct Kernel {
    n: usize,
    /// Grid spacing and kernel width (rad).
    step: f64,
    width: f64,
    taps: Vec<f64>,
}

impl Kernel {
    fn new(h: f64, n: usize) -> Self {
        let step = TAU / n as f64;
        let reach = ((4.0 * h / step).ceil() as usize).min(n / 2);
        let raw: Vec<f64> = (0..=2 * reach)
            .map(|k| {
                let d = (k as f64 - reach as f64) * step;
                (-d * d / (2.0 * h * h)).exp()
            })
            .collect();
        let sum: f64 = raw.iter().sum();
        Self {
            n,
            step,
            width: h,
            taps: raw.into_iter().map(|t| t / sum).collect(),
        }
    }

    /// `Σ K(Δ) (Δx/h)ᵃ (Δy/h)ᵇ field` at every node, Δ the offset of a bin from the node.
    fn moment(&self, field: &[f64], a: i32, b: i32) -> Vec<f64> {
        let reach = (self.taps.len() / 2) as f64;
        let scaled = |power: i32| -> Vec<f64> {
            self.taps
                .iter()
                .enumerate()
                .map(|(k, t)| t * ((k as f64 - reach) * self.step / self.width).powi(power))
                .collect()
        };
        self.convolve(&self.convolve(field, &scaled(a), true), &scaled(b), false)
    }

    /// The kernel's value at its own node (both axes).
    fn centre(&self) -> f64 {
        self.taps[self.taps.len() / 2].powi(2)
    }

    /// `field` (n × n, first index fastest) convolved along both axes, wrapping.
    fn smooth(&self, field: &[f64]) -> Vec<f64> {
        self.convolve(&self.convolve(field, &self.taps, true), &self.taps, false)
    }

    /// `field` convolved with `taps` (centred) along the first axis or the second, wrapping.
    fn convolve(&self, field: &[f64], taps: &[f64], along_first: bool) -> Vec<f64> {
        let n = self.n;
        let reach = (taps.len() / 2) as isize;
        let mut out = vec![0.0; n * n];
        for j in 0..n {
            for i in 0..n {
                let mut acc = 0.0;
                for (k, t) in taps.iter().enumerate() {
                    // The field at node + offset enters with the offset's power: Δ = +o.
                    let o = k as isize - reach;
                    let (a, b) = if along_first {
                        ((i as isize + o).rem_euclid(n as isize) as usize, j)
                    } else {
                        (i, (j as isize + o).rem_euclid(n as isize) as usize)
                    };
                    acc += t * field[b * n + a];
                }
                out[j * n + i] = acc;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_every_frame_once_within_trajectories() {
        let trajectory = [0, 0, 0, 0, 0, 0, 0, 1, 1, 2];
        let b = blocks(&trajectory);
        let covered: Vec<usize> = b.iter().flat_map(|(s, e)| *s..*e).collect();
        assert_eq!(covered, (0..trajectory.len()).collect::<Vec<_>>());
        assert!(b.iter().all(|(s, e)| trajectory[*s] == trajectory[e - 1]));
        assert_eq!(b.len(), 5 + 2 + 1);
    }

    #[test]
    fn the_kernel_preserves_mass_and_wraps() {
        let n = 24;
        let mut field = vec![0.0; n * n];
        field[0] = 1.0;
        let s = Kernel::new(0.3, n).smooth(&field);
        assert!((s.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // Symmetric across the periodic boundary.
        assert!((s[1] - s[n - 1]).abs() < 1e-15 && (s[n] - s[(n - 1) * n]).abs() < 1e-15);
    }
}
