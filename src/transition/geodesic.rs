//! The spacetime geodesic between two states, with the system's energy landscape and, where
//! the constraint uses it, a second start along the reference minimum-energy path.

use serde::Serialize;

use crate::error::Result;
use crate::geometry::geodesic::straight_line;
use crate::geometry::{Constraints, Geodesic, GeodesicConfig, GeodesicProblem, Landscape};
use crate::systems::{LoadedDenoiser, System};

/// Geodesic facts.
#[derive(Debug, Clone, Serialize)]
pub struct GeodesicSummary {
    /// Curve energy (without penalties).
    pub energy: f64,
    /// Energy plus penalties: what was minimised.
    pub objective: f64,
    /// Curve length `Σ sqrt(chords)`.
    pub length: f64,
    /// Curve energy of the straight line between the endpoints.
    pub straight_line_energy: f64,
    /// Length of the straight line.
    pub straight_line_length: f64,
    /// Iterations of the minimiser.
    pub iterations: usize,
    /// Objective evaluations (line-search trials included).
    pub evaluations: usize,
    /// Whether the stopping rule was met before the iteration limit.
    pub converged: bool,
    /// Lowest λ along the curve.
    pub lowest_lambda: f64,
    /// Highest λ along the curve.
    pub highest_lambda: f64,
    /// The constraints used (avoid point in data units).
    pub constraints: Constraints,
    /// Width `s·e^(−λ/2)` of the annealed-Langevin restraint at the endpoints, data units.
    pub restraint_width_at_ends: f64,
}

/// The geodesic between two spacetime points `(λ, z…)` in model units, with the system's
/// energy landscape for the energy-aware constraint; `constraints` in data units.
///
/// With the energy-aware constraint and a known `route` between the endpoints (the reference
/// minimum-energy path, data units), the optimisation also starts from the curve that follows
/// the route, and the lower of the two minima is kept: from the straight line alone a local
/// minimiser can stay on the wrong side of a ridge the straight line meets head-on.
/// `progress(iteration, objective)` follows the optimisation.
pub fn geodesic(
    system: &System,
    loaded: &LoadedDenoiser,
    endpoints: (&[f64], &[f64]),
    constraints: &Constraints,
    route: Option<&[Vec<f64>]>,
    seed: u64,
    mut progress: impl FnMut(usize, f64),
) -> Result<(Vec<Vec<f64>>, GeodesicSummary)> {
    let (start, end) = endpoints;
    let norm = &loaded.normalisation;
    let config = GeodesicConfig {
        constraints: constraints.in_model_units(norm),
        ..system.file.geodesic.clone()
    };
    let landscape = Landscape {
        potential: system.potential()?,
        kt: system.kt(),
        normalisation: norm,
    };
    let mut problem = GeodesicProblem::new(
        loaded.denoiser.as_ref(),
        Some(landscape),
        start,
        end,
        &config,
        seed,
        &loaded.device,
    )?;
    let mut g = problem.solve(&mut progress)?;
    let route = route
        .filter(|_| config.constraints.energy.is_some())
        .and_then(|r| route_in_model_space(system, norm, r, start, end, config.points));
    if let Some(r) = route {
        let along = problem.solve_along(&r, &mut progress)?;
        tracing::info!(
            "geodesic objective {:.4} from the straight line, {:.4} from the minimum-energy path",
            g.objective,
            along.objective
        );
        if along.objective < g.objective {
            g = Geodesic {
                steps: g.steps + along.steps,
                evaluations: g.evaluations + along.evaluations,
                ..along
            };
        } else {
            g.steps += along.steps;
            g.evaluations += along.evaluations;
        }
    }
    let (se, sl) = straight_line(
        loaded.denoiser.as_ref(),
        start,
        end,
        &config,
        &loaded.device,
    );
    let lambdas = g.points.iter().map(|p| p[0]);
    let summary = GeodesicSummary {
        energy: g.energy,
        objective: g.objective,
        length: g.length,
        straight_line_energy: se,
        straight_line_length: sl,
        iterations: g.steps,
        evaluations: g.evaluations,
        converged: g.converged,
        lowest_lambda: lambdas.clone().fold(f64::INFINITY, f64::min),
        highest_lambda: lambdas.fold(f64::NEG_INFINITY, f64::max),
        constraints: constraints.clone(),
        restraint_width_at_ends: norm.scale * (-0.5 * start[0].min(end[0])).exp(),
    };
    Ok((g.points, summary))
}

/// `route` (data units) as `points` spacetime points `(λ, z…)` whose restraint centres follow
/// it, λ linear between the endpoints'; `None` if the route does not join the endpoints (e.g.
/// it wraps around a periodic coordinate).
fn route_in_model_space(
    system: &System,
    norm: &crate::denoiser::Normalisation,
    route: &[Vec<f64>],
    start: &[f64],
    end: &[f64],
    points: usize,
) -> Option<Vec<Vec<f64>>> {
    let potential = system.potential().ok()?;
    let (a, b) = (norm.centre(start), norm.centre(end));
    let far = |p: &[f64], q: &[f64]| {
        p.iter()
            .zip(q)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            .sqrt()
            > 0.5 * norm.scale
    };
    if route.len() < 2 || far(&route[0], &a) || far(route.last()?, &b) {
        return None;
    }
    // Cumulative arc length (minimum image between neighbours), then points at equal steps.
    let mut s = vec![0.0];
    for w in route.windows(2) {
        let d = potential.displacement(&w[0], &w[1]);
        s.push(s.last()? + d.iter().map(|v| v * v).sum::<f64>().sqrt());
    }
    let total = *s.last()?;
    let mut seg = 0;
    Some(
        (0..points)
            .map(|i| {
                let t = i as f64 / (points - 1) as f64;
                while seg + 2 < s.len() && s[seg + 1] < t * total {
                    seg += 1;
                }
                let f = ((t * total - s[seg]) / (s[seg + 1] - s[seg]).max(1e-300)).clamp(0.0, 1.0);
                let x: Vec<f64> = route[seg]
                    .iter()
                    .zip(&route[seg + 1])
                    .map(|(p, q)| p + f * (q - p))
                    .collect();
                let lambda = start[0] + t * (end[0] - start[0]);
                let alpha = crate::schedule::alpha(lambda);
                std::iter::once(lambda)
                    .chain(norm.to_model(&x).into_iter().map(|z| alpha * z))
                    .collect()
            })
            .collect(),
    )
}
