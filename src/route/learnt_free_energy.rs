//! The model's own free energy in two dimensions, `F = −kT ln q̃ − V`: what the learned route
//! plans on in place of the energy, and what `tps train` compares with a surface the model
//! never saw.

use serde::Serialize;

use super::learned::ModelScore;
use crate::barrier::grid_minimax;
use crate::error::{Error, Result};
use crate::model::density::{DENSITY_STEPS, log_density};
use crate::potential::{Potential, Tabulated, log_sum_exp};
use crate::schedule;
use crate::system::{LoadedDenoiser, System};
use crate::walkers::BatchScore;

/// Nodes per axis of a learnt free energy.
pub const LEARNT_GRID: usize = 128;

/// Nodes per axis of the model's density, the learnt free energy's long-wavelength part.
const DENSITY_GRID: usize = 64;

/// `μ` of [`learnt_surface`]: shapes longer than `2π/√μ` ≈ 20 of its 128 nodes follow the
/// density. Alanine's tilted model, four training seeds, RMS against the independent surface:
/// μ = 0 (the score alone) 1.06–3.07 kJ/mol; 0.01: 0.81–1.16; 0.1: 0.75–0.80; 1: 0.82–0.84;
/// the density alone 0.89 on every seed.
const DENSITY_WEIGHT: f64 = 0.1;

/// The model's density is summed over its images across a periodic boundary within this many
/// smoothing widths `s·e^(−λ/2)` of it (beyond, an image adds less than e^(−18)).
const IMAGE_MARGIN_WIDTHS: f64 = 6.0;

/// A single step of the learnt free energy between neighbouring nodes is capped at this many
/// kT: where the data are empty the score is not to be trusted, and must not distort the
/// surface where they are.
const LEARNT_STEP_CAP_KT: f64 = 30.0;

/// The model's learnt free energy `F = −kT ln q̃ − V` on a `LEARNT_GRID²` grid over `domain`,
/// lowest node at 0. Two estimates, each where it is sound: the score at every node (`−kT`
/// times its trapezoid along each edge: the local shape, the force the walkers feel) and the
/// model's own density by its probability-flow ODE ([`density_surface`]: the weights of whole
/// basins, which the score fixes only through the thin data between them). `F` minimises
/// `Σ_edges (ΔF − Δ_score)² + μ Σ_nodes (F − F_density)²`: shapes shorter than
/// `2π/√μ` nodes follow the score, longer ones the density.
pub fn learnt_surface(
    model: &LoadedDenoiser,
    score: &dyn BatchScore,
    lambda: f64,
    domain: [[f64; 2]; 2],
    cell: &[Option<(f64, f64)>],
    kt: f64,
) -> Result<Tabulated> {
    let density = density_surface(model, lambda, domain, cell, kt)?;
    let n = LEARNT_GRID;
    let periodic = cell.iter().any(Option::is_some);
    let (step, nodes) = Tabulated::grid_nodes(domain, n, periodic);
    let points: Vec<Vec<f64>> = nodes.iter().map(|x| x.to_vec()).collect();
    let mut s = vec![vec![0.0; 2]; n * n];
    for (p, o) in points.chunks(1024).zip(s.chunks_mut(1024)) {
        score.score(p, o)?;
    }
    let mut edges = Vec::with_capacity(2 * n * n);
    for j in 0..n {
        for i in 0..n {
            let a = j * n + i;
            for (axis, (ii, jj)) in [(0, (i + 1, j)), (1, (i, j + 1))] {
                let (ii, jj) = match (periodic, ii < n && jj < n) {
                    (_, true) => (ii, jj),
                    (true, false) => (ii % n, jj % n),
                    (false, false) => continue,
                };
                let b = jj * n + ii;
                let cap = LEARNT_STEP_CAP_KT * kt;
                let diff = (-kt * step[axis] * 0.5 * (s[a][axis] + s[b][axis])).clamp(-cap, cap);
                edges.push((a, b, diff));
            }
        }
    }
    let mu = DENSITY_WEIGHT;
    // On a bounded axis the last node must not round past the density's grid.
    let inside = |p: &Vec<f64>| -> Vec<f64> {
        p.iter()
            .zip(&domain)
            .map(|(v, [lo, hi])| v.clamp(*lo, hi - 1e-9 * (hi - lo)))
            .collect()
    };
    let anchor: Vec<f64> = points.iter().map(|p| density.energy(&inside(p))).collect();
    if anchor.iter().any(|a| !a.is_finite()) {
        return Err(Error::NonFinite(
            "the model's density is not finite on its own grid".into(),
        ));
    }
    let mut rhs: Vec<f64> = anchor.iter().map(|a| mu * a).collect();
    for &(a, b, d) in &edges {
        rhs[b] += d;
        rhs[a] -= d;
    }
    let system = |u: &[f64], out: &mut [f64]| {
        out.iter_mut().zip(u).for_each(|(o, u)| *o = mu * u);
        for &(a, b, _) in &edges {
            let d = u[b] - u[a];
            out[b] += d;
            out[a] -= d;
        }
    };
    let values = conjugate_gradients(&system, &rhs, 20 * n);
    Ok(lowest_at_zero(values, domain, n, step, periodic))
}

/// `values` on the `n × n` grid over `domain`, shifted so that the lowest node is 0.
fn lowest_at_zero(
    values: Vec<f64>,
    domain: [[f64; 2]; 2],
    n: usize,
    step: [f64; 2],
    periodic: bool,
) -> Tabulated {
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    Tabulated::grid(
        values.iter().map(|v| v - low).collect(),
        [n, n],
        [domain[0][0], domain[1][0]],
        step,
        periodic,
    )
}

/// `−kT ln q̃ − V` on a `DENSITY_GRID²` grid over `domain`, lowest node at 0: `q̃` the model's
/// own density at `lambda` by its probability-flow ODE ([`log_density`]: every noise level, so
/// basins are weighed against each other where the model knows them best, not by a path
/// through thin data), `V` the tilt it learnt under (if any). The data of a periodic axis lie
/// in one cell: the density there is the model's summed over its images across the boundary,
/// as the wrapped data's would be.
fn density_surface(
    model: &LoadedDenoiser,
    lambda: f64,
    domain: [[f64; 2]; 2],
    cell: &[Option<(f64, f64)>],
    kt: f64,
) -> Result<Tabulated> {
    let n = DENSITY_GRID;
    let wraps = cell.iter().any(Option::is_some);
    let (step, nodes) = Tabulated::grid_nodes(domain, n, wraps);
    let margin = IMAGE_MARGIN_WIDTHS * model.normalisation.scale * (-0.5 * lambda).exp();
    // Every node's images (itself first), as (node, point in data units).
    let mut images: Vec<(usize, Vec<f64>)> = Vec::with_capacity(2 * n * n);
    for (k, x) in nodes.iter().enumerate() {
        let shifts: [Vec<f64>; 2] = std::array::from_fn(|a| {
            let mut s = vec![0.0];
            if let Some(Some((low, period))) = cell.get(a) {
                if x[a] - low < margin {
                    s.push(*period);
                }
                if low + period - x[a] < margin {
                    s.push(-period);
                }
            }
            s
        });
        for dx in &shifts[0] {
            for dy in &shifts[1] {
                images.push((k, vec![x[0] + dx, x[1] + dy]));
            }
        }
    }
    let alpha = schedule::alpha(lambda);
    let noisy: Vec<Vec<f64>> = images
        .iter()
        .map(|(_, x)| {
            model
                .normalisation
                .to_model(x)
                .iter()
                .map(|z| alpha * z)
                .collect()
        })
        .collect();
    let log_q = log_density(
        model.denoiser.as_ref(),
        &model.device,
        &noisy,
        lambda,
        DENSITY_STEPS,
    )?;
    let mut terms: Vec<Vec<f64>> = vec![Vec::new(); n * n];
    for ((k, _), l) in images.iter().zip(log_q) {
        terms[*k].push(l);
    }
    let values: Vec<f64> = nodes
        .iter()
        .zip(&terms)
        .map(|(x, t)| {
            let bias = model.tilt.as_ref().map_or(0.0, |v| v.energy(x));
            -kt * log_sum_exp(t) - if bias.is_finite() { bias } else { 0.0 }
        })
        .collect();
    Ok(lowest_at_zero(values, domain, n, step, wraps))
}

/// How far a 2-D model's learnt free energy is from a surface it was not trained on, where it
/// matters: the cells below the highest pass between named states plus a margin.
#[derive(Debug, Clone, Serialize)]
pub struct LearntFidelity {
    /// The surface compared with.
    pub against: String,
    /// Root-mean-square difference after the best constant shift (surface units).
    pub rms: f64,
    /// Cells compared (of the learnt grid's).
    pub cells: usize,
    /// Their ceiling on the surface: the highest pass between the named states plus
    /// [`FIDELITY_MARGIN_KT`] kT (surface units above its minimum).
    pub ceiling: f64,
    /// The learnt free energy itself (lowest node 0).
    #[serde(skip)]
    pub learnt: Tabulated,
}

/// Cells up to this many kT above the highest pass between states are compared (2 kT ≈
/// 5 kJ/mol at 300 K).
pub const FIDELITY_MARGIN_KT: f64 = 2.0;

/// The learnt free energy of a trained 2-D system against its scoring surface (the
/// independent one, where it exists); `None` in other dimensions.
pub fn learnt_fidelity(system: &System, model: &LoadedDenoiser) -> Result<Option<LearntFidelity>> {
    let representation = system.representation()?;
    let Some((domain, _)) = representation.grid_domain() else {
        return Ok(None);
    };
    let surface = representation.potential()?;
    let periodic = Some(surface).filter(|p| p.periodic().iter().any(Option::is_some));
    let score = ModelScore::new(
        model.denoiser.as_ref(),
        &model.device,
        &model.normalisation,
        system.file.transition.lambda_max,
        periodic,
        None,
    );
    let score = match &model.tilt {
        Some(v) => score.untilted(v, system.kt(), None),
        None => score,
    };
    let learnt = learnt_surface(
        model,
        &score,
        system.file.transition.lambda_max,
        domain,
        &surface.periodic(),
        system.kt(),
    )?;
    let scoring = system.scoring_surface()?;
    let check = scoring.surface;
    let states = system.file.named_states();
    let n = system.file.barrier.grid;
    let mut pass = f64::NEG_INFINITY;
    for (i, (_, a)) in states.iter().enumerate() {
        for (_, b) in &states[i + 1..] {
            pass = pass.max(grid_minimax(check, &system.file.domain(), n, a, b)?.barrier);
        }
    }
    let (nx, ny) = learnt.shape();
    let values: Vec<(f64, f64)> = (0..ny)
        .flat_map(|j| (0..nx).map(move |i| (i, j)))
        .map(|(i, j)| (learnt.value(i, j), check.energy(&learnt.node(i, j))))
        .filter(|(_, c)| c.is_finite())
        .collect();
    let low = values.iter().map(|v| v.1).fold(f64::INFINITY, f64::min);
    let ceiling = pass + FIDELITY_MARGIN_KT * system.kt();
    let kept: Vec<f64> = values
        .iter()
        .filter(|(_, c)| *c <= ceiling)
        .map(|(l, c)| l - c)
        .collect();
    if kept.is_empty() {
        return Ok(None);
    }
    let shift = kept.iter().sum::<f64>() / kept.len() as f64;
    let rms = (kept.iter().map(|d| (d - shift).powi(2)).sum::<f64>() / kept.len() as f64).sqrt();
    Ok(Some(LearntFidelity {
        against: scoring.description.clone(),
        rms,
        cells: kept.len(),
        ceiling: ceiling - low,
        learnt,
    }))
}

/// Solves `A x = b` for a symmetric positive semi-definite `A` (given as a product) from 0.
fn conjugate_gradients(
    apply: &dyn Fn(&[f64], &mut [f64]),
    b: &[f64],
    iterations: usize,
) -> Vec<f64> {
    let dot = crate::lbfgs::dot;
    let mut x = vec![0.0; b.len()];
    let mut r = b.to_vec();
    let mut p = r.clone();
    let mut ap = vec![0.0; b.len()];
    let mut rr = dot(&r, &r);
    let stop = 1e-20 * rr.max(1e-300);
    for _ in 0..iterations {
        if rr <= stop {
            break;
        }
        apply(&p, &mut ap);
        let alpha = rr / dot(&p, &ap).max(1e-300);
        x.iter_mut().zip(&p).for_each(|(x, p)| *x += alpha * p);
        r.iter_mut().zip(&ap).for_each(|(r, a)| *r -= alpha * a);
        let next = dot(&r, &r);
        let beta = next / rr;
        rr = next;
        p.iter_mut().zip(&r).for_each(|(p, r)| *p = r + beta * *p);
    }
    x
}
