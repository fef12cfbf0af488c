//! Constraints on spacetime geodesics: penalties added to the curve energy. Each penalty is an
//! integral along the curve (a mean over its points or a line integral) times its weight times
//! `E_line`, the curve energy of the straight line between the endpoints: so a weight means the
//! same at any number of points, any data scale and any λ, and any of them can be combined.
//!
//! * low-variance (the paper's): keep λ above a floor, so every denoising distribution along
//!   the curve stays narrow;
//! * region-avoiding (the paper's): keep a KL distance from a forbidden spacetime point;
//! * energy-aware (beyond the paper): keep the annealed-Langevin restraint centre
//!   `c = m + s·z/α` on low energy of the system's own potential, where the training data are
//!   too thin to tell the geometry where the channel is.

use burn::tensor::activation::softplus;
use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::spacetime::{Parameters, Probes};
use super::spline::CurveGrid;
use crate::compute;
use crate::error::{Error, Result};
use crate::model::denoiser::{Denoiser, Normalisation};
use crate::potential::Potential;
use crate::schedule;

/// The constraints of a geodesic. In a file: a table with any of `low_variance`, `energy` and
/// `avoid`, or `"none"` for the paper's plain geodesic. The default, for transition paths, is
/// a sharp floor half a unit of λ below the endpoints and the energy-aware penalty at weight
/// 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Constraints {
    /// Keep λ above a floor.
    pub low_variance: Option<LowVariance>,
    /// Keep the restraint centres on low energy.
    pub energy: Option<EnergyAware>,
    /// Keep away from a spacetime point.
    pub avoid: Option<AvoidRegion>,
}

impl Default for Constraints {
    fn default() -> Self {
        Self {
            low_variance: Some(LowVariance {
                min_lambda: None,
                below_ends: Some(0.5),
                weight: 10.0,
                sharpness: 10.0,
            }),
            energy: Some(EnergyAware { weight: 1.0 }),
            avoid: None,
        }
    }
}

/// A table of constraints as a file holds it (missing ones are off).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConstraintTable {
    low_variance: Option<LowVariance>,
    energy: Option<EnergyAware>,
    avoid: Option<AvoidRegion>,
}

impl<'de> Deserialize<'de> for Constraints {
    /// `"none"` or a table; a visitor rather than an untagged enum keeps the table's own
    /// errors (an unknown key is named).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Constraints;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"none\" or a table of low_variance, energy and avoid")
            }
            fn visit_str<E: serde::de::Error>(
                self,
                v: &str,
            ) -> std::result::Result<Constraints, E> {
                match v {
                    "none" => Ok(Constraints::none()),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<Constraints, A::Error> {
                let t = ConstraintTable::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )?;
                Ok(Constraints {
                    low_variance: t.low_variance,
                    energy: t.energy,
                    avoid: t.avoid,
                })
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl Constraints {
    /// The paper's plain geodesic.
    pub fn none() -> Self {
        Self {
            low_variance: None,
            energy: None,
            avoid: None,
        }
    }

    /// The same constraints with the avoid point mapped from data to model units.
    pub fn in_model_units(&self, normalisation: &Normalisation) -> Self {
        let mut c = self.clone();
        if let Some(a) = &mut c.avoid
            && let Some((lambda, x)) = a.point.split_first()
        {
            a.point = std::iter::once(*lambda)
                .chain(normalisation.to_model(x))
                .collect();
        }
        c
    }

    /// Whether no constraint is set.
    pub fn is_plain(&self) -> bool {
        *self == Self::none()
    }

    /// Checks that every set constraint has usable values; `field` prefixes error locations.
    pub fn validate(&self) -> std::result::Result<(), (String, String)> {
        let bad = |f: &str, m: &str| Err((f.to_string(), m.to_string()));
        let weight_ok = |w: f64| w.is_finite() && w >= 0.0;
        if let Some(c) = &self.low_variance {
            let floor_ok = match (c.min_lambda, c.below_ends) {
                (Some(v), None) => v.is_finite(),
                (None, Some(v)) => v.is_finite() && v >= 0.0,
                _ => false,
            };
            if !(floor_ok && weight_ok(c.weight) && c.sharpness > 0.0) {
                return bad(
                    "low_variance",
                    "give min_lambda (finite) or below_ends (≥ 0), a non-negative weight and a \
                     positive sharpness",
                );
            }
        }
        if let Some(c) = &self.energy
            && !weight_ok(c.weight)
        {
            return bad("energy", "weight must be finite and ≥ 0");
        }
        if let Some(c) = &self.avoid
            && !(c.point.iter().all(|v| v.is_finite())
                && c.min_kl.is_finite()
                && c.min_kl > 0.0
                && weight_ok(c.weight))
        {
            return bad(
                "avoid",
                "point must be finite, min_kl positive and weight non-negative",
            );
        }
        Ok(())
    }
}

/// `weight · E_line · mean_n softplus(k (floor − λ_n)) / k`, `k` the sharpness (the paper's
/// penalty has `k = 1`; a sharper one holds the floor without pushing λ above it). The floor
/// is `min_lambda` (model units), or `below_ends` under the lower endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LowVariance {
    /// Lowest log-SNR (model units) the curve should visit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_lambda: Option<f64>,
    /// Or: how far below the lower endpoint's λ the curve may go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below_ends: Option<f64>,
    #[serde(default = "LowVariance::default_weight")]
    /// Weight relative to the straight line's curve energy.
    pub weight: f64,
    #[serde(default = "LowVariance::default_sharpness")]
    /// Sharpness `k` of the softplus.
    pub sharpness: f64,
}

impl LowVariance {
    fn default_weight() -> f64 {
        10.0
    }
    fn default_sharpness() -> f64 {
        1.0
    }
}

/// `weight · E_line · mean_n softplus(min_kl − KL(p(·|θ*) ‖ p(·|γ_n)))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvoidRegion {
    /// The forbidden point `(λ, x…)`, data units for x.
    pub point: Vec<f64>,
    /// Smallest KL divergence allowed from it.
    pub min_kl: f64,
    #[serde(default = "LowVariance::default_weight")]
    /// Weight relative to the straight line's curve energy.
    pub weight: f64,
}

/// `weight · E_line · ln ∫ exp(U(c)/kT) ds`: the logarithm of the diffusive resistance of the
/// route taken by the restraint centres `c = m + s·z/α` (`ds` the model-space arc length along
/// the polygon of the centres, finely subdivided).
/// Minimising the resistance alone gives the path of highest flux for overdamped dynamics
/// (Berkowitz, Morgan, McCammon & Northrup, 1983); its logarithm is a soft maximum of `U/kT`
/// along the route, so the weight does not depend on the barrier's height. `E_line` is the
/// curve energy of the straight line between the endpoints, so the weight does not depend on
/// the data scale or λ either: at weight 1, a detour that doubles the curve energy is worth
/// one e-fold of resistance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergyAware {
    #[serde(default = "EnergyAware::default_weight")]
    /// Weight relative to the straight line's curve energy.
    pub weight: f64,
}

impl EnergyAware {
    fn default_weight() -> f64 {
        1.0
    }
}

/// What an energy-aware constraint needs of the system: its potential in data units, kT and
/// the model's map between data and model space.
#[derive(Clone, Copy)]
pub struct Landscape<'a> {
    /// The energy surface (data units).
    pub potential: &'a dyn Potential,
    /// Thermal energy kT.
    pub kt: f64,
    /// The model's map between data and model space.
    pub normalisation: &'a Normalisation,
}

/// Energies beyond this many kT above the endpoints are clipped (no further gradient), so a
/// curve through an infinite wall gives a finite, if flat, penalty.
const ENERGY_CAP_KT: f64 = 100.0;

/// The constraints prepared for one optimisation.
pub(crate) struct Penalties<'a> {
    /// The floor of λ, its weight and sharpness.
    low_variance: Option<(f64, f64, f64)>,
    /// `E_line`: every weight is relative to it.
    line_energy: f64,
    avoid: Option<RegionPenalty>,
    energy: Option<EnergyPenalty<'a>>,
    /// Total points of the curve (penalties are means over all of them).
    points: usize,
}

/// The forbidden point's expectation parameters and the KL from it to the curve's start.
struct RegionPenalty {
    mu_sq: f64,
    mu_lin: Tensor<2>,
    kl_start: f64,
    min_kl: f64,
    weight: f64,
}

struct EnergyPenalty<'a> {
    landscape: Landscape<'a>,
    /// Higher endpoint energy (the exponent's origin: values stay O(1) at the ends).
    reference: f64,
    /// `weight · E_line`.
    scale: f64,
}

/// A penalty's value and its gradient with respect to the curve points (row-major, host).
pub(crate) struct HostTerm {
    pub value: f64,
    pub gradient: Vec<f64>,
}

impl<'a> Penalties<'a> {
    /// Prepares `constraints` (avoid point already in model units) for a curve of `points`
    /// points from `start` to `end` (model units) whose straight line has curve energy
    /// `line_energy`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        constraints: &Constraints,
        denoiser: &dyn Denoiser,
        landscape: Option<Landscape<'a>>,
        endpoints: (&[f64], &[f64]),
        points: usize,
        line_energy: f64,
        divergence: &super::DivergenceConfig,
        device: &Device,
    ) -> Result<Self> {
        let (start, end) = endpoints;
        let avoid = match &constraints.avoid {
            None => None,
            Some(c) => Some(RegionPenalty::new(c, denoiser, start, divergence, device)?),
        };
        let energy = match (&constraints.energy, landscape) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(Error::Invalid(
                    "the energy-aware constraint needs the system's potential".into(),
                ));
            }
            (Some(c), Some(landscape)) => {
                let at = |p: &[f64]| {
                    landscape
                        .potential
                        .energy(&landscape.normalisation.centre(p))
                };
                let reference = at(start).max(at(end));
                if !reference.is_finite() {
                    return Err(Error::Invalid(
                        "the energy at a geodesic endpoint is not finite".into(),
                    ));
                }
                Some(EnergyPenalty {
                    landscape,
                    reference,
                    scale: c.weight * line_energy,
                })
            }
        };
        Ok(Self {
            low_variance: constraints.low_variance.as_ref().map(|c| {
                let floor = c
                    .min_lambda
                    .unwrap_or_else(|| start[0].min(end[0]) - c.below_ends.unwrap_or(0.0));
                (floor, c.weight, c.sharpness)
            }),
            line_energy,
            avoid,
            energy,
            points,
        })
    }

    /// Whether a penalty couples all points (the running KL), so the curve cannot be split.
    pub fn is_global(&self) -> bool {
        self.avoid.is_some()
    }

    /// The on-device penalties of `points` (the rows this part of the curve penalises).
    pub fn device_terms(&self, points: &Tensor<2>, params: &Parameters) -> Option<Tensor<1>> {
        let mut total: Option<Tensor<1>> = None;
        let mut add = |t: Tensor<1>| {
            total = Some(match total.take() {
                Some(s) => s + t,
                None => t,
            });
        };
        let per_point = self.line_energy / self.points as f64;
        if let Some((floor, weight, sharpness)) = self.low_variance {
            let n = points.dims()[0];
            let lambda = points.clone().slice([0..n, 0..1]);
            let below = lambda.neg().add_scalar(floor);
            add(softplus(below, sharpness)
                .sum()
                .mul_scalar(weight * per_point));
        }
        if let Some(r) = &self.avoid {
            let kl = kl_along(params, r.mu_sq, r.mu_lin.clone(), r.kl_start);
            let short = kl.neg().add_scalar(r.min_kl);
            add(softplus(short, 1.0).sum().mul_scalar(r.weight * per_point));
        }
        total
    }

    /// The host-computed penalties of the whole curve (row-major `(λ, z…)` points).
    pub fn host_terms(&self, points: &[f64], cols: usize) -> Option<HostTerm> {
        self.energy.as_ref().map(|e| e.terms(points, cols))
    }
}

/// Sub-intervals per curve segment of the resistance integral: a curve must not jump over a
/// thin wall between two of its points unseen.
const SUBDIVISIONS: usize = 8;

impl EnergyPenalty<'_> {
    /// `scale · ln R`, `R = ∫ exp(u) ds` with `u = (U(c) − U_ref)/kT` along the polygon of the
    /// restraint centres, each segment integrated by the trapezoid rule on [`SUBDIVISIONS`]
    /// sub-intervals, computed as a log-sum-exp; and its gradient.
    fn terms(&self, points: &[f64], cols: usize) -> HostTerm {
        let l = &self.landscape;
        let dim = cols - 1;
        let s = l.normalisation.scale;
        let n = points.len() / cols;
        let m = SUBDIVISIONS;
        let centres: Vec<Vec<f64>> = points
            .chunks(cols)
            .map(|p| l.normalisation.centre(p))
            .collect();
        let mut g = vec![0.0; dim];
        // Per segment: displacement (data units), length (model units), and at each sub-point
        // the exponent and its gradient (zero where clipped).
        let mut segments = Vec::with_capacity(n.saturating_sub(1));
        for w in centres.windows(2) {
            let disp = l.potential.displacement(&w[0], &w[1]);
            let len = disp.iter().map(|v| (v / s).powi(2)).sum::<f64>().sqrt();
            let subs: Vec<(f64, Vec<f64>)> = (0..=m)
                .map(|j| {
                    let f = j as f64 / m as f64;
                    let p: Vec<f64> = w[0].iter().zip(&disp).map(|(c, d)| c + f * d).collect();
                    let e = (l.potential.energy_gradient(&p, &mut g) - self.reference) / l.kt;
                    if e.is_finite() && e < ENERGY_CAP_KT {
                        (e, g.iter().map(|v| v / l.kt).collect())
                    } else {
                        (ENERGY_CAP_KT, vec![0.0; dim])
                    }
                })
                .collect();
            segments.push((disp, len, subs));
        }
        let trapezoid = |j: usize| if j == 0 || j == m { 0.5 } else { 1.0 };
        let top = segments
            .iter()
            .flat_map(|(_, _, subs)| subs.iter().map(|(u, _)| *u))
            .fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = segments
            .iter()
            .map(|(_, len, subs)| {
                len / m as f64
                    * subs
                        .iter()
                        .enumerate()
                        .map(|(j, (u, _))| trapezoid(j) * (u - top).exp())
                        .sum::<f64>()
            })
            .sum();
        if sum <= 0.0 || !sum.is_finite() {
            // A curve of zero length: no resistance to speak of, no gradient.
            return HostTerm {
                value: 0.0,
                gradient: vec![0.0; points.len()],
            };
        }
        let value = self.scale * (top + sum.ln());
        let mut grad_c = vec![vec![0.0; dim]; n];
        for (k, (disp, len, subs)) in segments.iter().enumerate() {
            let mut per_length = 0.0;
            for (j, (u, du)) in subs.iter().enumerate() {
                let weight = trapezoid(j) * (u - top).exp() / sum;
                per_length += weight / m as f64;
                // The exponent's share, split between the segment's ends by position.
                let share = len / m as f64 * weight;
                let f = j as f64 / m as f64;
                for i in 0..dim {
                    grad_c[k][i] += (1.0 - f) * share * du[i];
                    grad_c[k + 1][i] += f * share * du[i];
                }
            }
            if *len > 0.0 {
                for i in 0..dim {
                    let dl = per_length * disp[i] / (s * s * len);
                    grad_c[k + 1][i] += dl;
                    grad_c[k][i] -= dl;
                }
            }
        }
        // Chain rule to (λ, z): c = m + s z/α, ∂c/∂z = s/α, ∂c/∂λ = −(σ²/2)(c − m).
        let mut gradient = vec![0.0; points.len()];
        for (k, p) in points.chunks(cols).enumerate() {
            let alpha = schedule::alpha(p[0]);
            let half_sigma2 = 0.5 * schedule::sigma2(p[0]);
            let mut d_lambda = 0.0;
            for j in 0..dim {
                let gc = self.scale * grad_c[k][j];
                gradient[k * cols + 1 + j] = gc * s / alpha;
                d_lambda -= gc * half_sigma2 * s * p[1 + j] / alpha;
            }
            gradient[k * cols] = d_lambda;
        }
        HostTerm { value, gradient }
    }
}

impl RegionPenalty {
    fn new(
        c: &AvoidRegion,
        denoiser: &dyn Denoiser,
        start: &[f64],
        divergence: &super::DivergenceConfig,
        device: &Device,
    ) -> Result<Self> {
        let point = &c.point;
        if point.len() != start.len() {
            return Err(Error::Invalid(format!(
                "forbidden point has {} coordinates, the curve has {} (λ first)",
                point.len(),
                start.len()
            )));
        }
        let star = compute::matrix(point, 1, point.len(), device);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let probes = Probes::for_config(divergence, 1, point.len() - 1, &mut rng, device);
        let p = Parameters::at(denoiser, star, &probes);
        let mu_sq = compute::scalar(p.mu_sq);
        // KL(θ* ‖ θ_start) by the same running integral along a fine straight line.
        let grid = CurveGrid::new(point, start, 512, 1, device);
        let line = grid.evaluate(Tensor::zeros([1, point.len()], device));
        let kl = running_kl(denoiser, line, mu_sq, p.mu_lin.clone(), 0.0, divergence);
        let kl_start = *compute::to_host(kl).last().expect("non-empty");
        Ok(Self {
            mu_sq,
            mu_lin: p.mu_lin,
            kl_start,
            min_kl: c.min_kl,
            weight: c.weight,
        })
    }
}

/// `KL(θ* ‖ γ_n)` at every curve point: `KL_0 + Σ_{m<n} Δη_m · (μ̄_m − μ*)`, with the
/// trapezoidal mean `μ̄_m` of the segment.
fn kl_along(params: &Parameters, mu_sq: f64, mu_lin: Tensor<2>, kl_start: f64) -> Tensor<1> {
    let n = params.eta_sq.dims()[0];
    let seg = |t: &Tensor<2>| {
        let cols = t.dims()[1];
        (
            t.clone().slice([1..n, 0..cols]) - t.clone().slice([0..n - 1, 0..cols]),
            (t.clone().slice([1..n, 0..cols]) + t.clone().slice([0..n - 1, 0..cols]))
                .mul_scalar(0.5),
        )
    };
    let (d_sq, _) = seg(&params.eta_sq);
    let (d_lin, _) = seg(&params.eta_lin);
    let (_, m_sq) = seg(&params.mu_sq);
    let (_, m_lin) = seg(&params.mu_lin);
    let steps = d_sq * m_sq.sub_scalar(mu_sq) + (d_lin * (m_lin - mu_lin)).sum_dim(1);
    let running = steps.reshape([n - 1]).cumsum(0).add_scalar(kl_start);
    let first = Tensor::<1>::from_data([kl_start], &running.device());
    Tensor::cat(vec![first, running], 0)
}

fn running_kl(
    denoiser: &dyn Denoiser,
    points: Tensor<2>,
    mu_sq: f64,
    mu_lin: Tensor<2>,
    kl_start: f64,
    divergence: &super::DivergenceConfig,
) -> Tensor<1> {
    let [n, cols] = points.dims();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let probes = Probes::for_config(divergence, n, cols - 1, &mut rng, &points.device());
    let params = Parameters::at(denoiser, points, &probes);
    kl_along(&params, mu_sq, mu_lin, kl_start)
}

/// KL divergence `KL(p(·|θ*) ‖ p(·|γ_n))` from a point to every point of a curve (model units).
pub fn kl_from_point(
    denoiser: &dyn Denoiser,
    point: &[f64],
    curve: &[Vec<f64>],
    divergence: &super::DivergenceConfig,
    device: &Device,
) -> Result<Vec<f64>> {
    let start = curve
        .first()
        .ok_or_else(|| Error::Invalid("empty curve".into()))?;
    let c = AvoidRegion {
        point: point.to_vec(),
        min_kl: 1.0,
        weight: 0.0,
    };
    let r = RegionPenalty::new(&c, denoiser, start, divergence, device)?;
    let flat: Vec<f64> = curve.iter().flatten().copied().collect();
    let points = compute::matrix(&flat, curve.len(), start.len(), device);
    Ok(compute::to_host(running_kl(
        denoiser, points, r.mu_sq, r.mu_lin, r.kl_start, divergence,
    )))
}
