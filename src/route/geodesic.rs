//! The spacetime geodesic between two states, with the system's energy landscape for the
//! energy-aware constraint and, where that constraint is on, a second start along the
//! reference minimum-energy path; and the two geodesic routes built on it.

use serde::{Deserialize, Serialize};

use super::{Context, Guidance, Plan, Route, RouteKind, RouteSummary, along_curve};
use crate::error::Result;
use crate::geometry::geodesic::straight_line;
use crate::geometry::{
    ChordParts, Clipping, Constraints, Geodesic, GeodesicConfig, GeodesicProblem, Landscape,
};
use crate::potential::{Counting, Potential};
use crate::representation::route_through;
use crate::system::{LoadedDenoiser, System};

/// Geodesic facts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GeodesicSummary {
    /// Curve energy (without penalties).
    pub energy: f64,
    /// Energy plus penalties: what was minimised.
    pub objective: f64,
    /// Curve length `Σ sqrt(chords)`.
    pub length: f64,
    /// Where chords were clipped at 0 (`chord`: tps; `parts`: the authors').
    pub clipping: Clipping,
    /// The chords' parts at the end: how many were negative (where the learnt model is
    /// inconsistent) and the energy under the authors' definition (parts clipped separately,
    /// `Σ` without `(N−1)/2`), for comparing with the paper's numbers.
    pub chord_parts: ChordParts,
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
    /// Which start gave the kept minimum: `straight line` or `minimum-energy path`.
    pub start: String,
    /// The second start along the minimum-energy path: used, not asked for, or why not.
    pub mep_start: String,
    /// Energy evaluations of the energy-aware constraint (every call).
    pub constraint_energy_evaluations: u64,
}

/// Why the second start along the minimum-energy path was not made.
#[derive(Debug, Clone)]
pub enum MepStart<'a> {
    /// Along this route (data units).
    Along(&'a [Vec<f64>]),
    /// Not made, for this reason.
    Not(String),
}

/// The geodesic between two spacetime points `(λ, z…)` in model units, with `landscape` (the
/// system's energy, or the model's learnt free energy) for the energy-aware constraint;
/// `constraints` in data units.
///
/// With the energy-aware constraint and a known route between the endpoints (the reference
/// minimum-energy path, data units), the optimisation also starts from the curve that follows
/// the route, and the lower of the two minima is kept: from the straight line alone a local
/// minimiser can stay on the wrong side of a ridge the straight line meets head-on.
/// `progress(iteration, objective)` follows the optimisation.
#[allow(clippy::too_many_arguments)]
pub fn geodesic(
    system: &System,
    loaded: &LoadedDenoiser,
    landscape: &dyn Potential,
    endpoints: (&[f64], &[f64]),
    constraints: &Constraints,
    mep: MepStart,
    seed: u64,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<(Vec<Vec<f64>>, GeodesicSummary)> {
    let (start, end) = endpoints;
    let norm = &loaded.normalisation;
    let config = GeodesicConfig {
        constraints: constraints.in_model_units(norm),
        ..system.file.geodesic.clone()
    };
    let potential = Counting::new(landscape);
    let terrain = Landscape {
        potential: &potential,
        kt: system.kt(),
        normalisation: norm,
    };
    let mut problem = GeodesicProblem::new(
        loaded.denoiser.as_ref(),
        Some(terrain),
        start,
        end,
        &config,
        seed,
        &loaded.device,
    )?;
    let mut g = problem.solve(&mut *progress)?;
    let mut from_mep = false;
    let mep_start = match mep {
        _ if config.constraints.energy.is_none() => {
            "not made: only the energy-aware geodesic starts from the minimum-energy path".into()
        }
        MepStart::Not(why) => why,
        MepStart::Along(route) => match route_in_model_space(
            landscape,
            loaded,
            route,
            (start, end),
            system.file.geodesic.points,
        ) {
            None => {
                let why = "rejected: the minimum-energy path does not join the states in the \
                           model's coordinates (it wraps around a periodic variable)";
                tracing::info!("geodesic start along the minimum-energy path {why}");
                why.into()
            }
            Some(r) => {
                let along = problem.solve_along(&r, &mut *progress)?;
                tracing::debug!(
                    "geodesic objective {:.4} from the straight line, {:.4} from the \
                     minimum-energy path",
                    g.objective,
                    along.objective
                );
                (g, from_mep) = lower_objective(g, along);
                "made".into()
            }
        },
    };
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
        clipping: config.clipping,
        chord_parts: g.parts,
        straight_line_energy: se,
        straight_line_length: sl,
        iterations: g.steps,
        evaluations: g.evaluations,
        converged: g.converged,
        lowest_lambda: lambdas.clone().fold(f64::INFINITY, f64::min),
        highest_lambda: lambdas.fold(f64::NEG_INFINITY, f64::max),
        constraints: constraints.clone(),
        restraint_width_at_ends: norm.scale * (-0.5 * start[0].min(end[0])).exp(),
        start: if from_mep {
            "minimum-energy path"
        } else {
            "straight line"
        }
        .into(),
        mep_start,
        constraint_energy_evaluations: potential.calls(),
    };
    Ok((g.points, summary))
}

/// Of the geodesics from the straight line and from the minimum-energy path, the one of lower
/// objective, with the two's steps and evaluations summed; and whether it is the second.
fn lower_objective(line: Geodesic, along: Geodesic) -> (Geodesic, bool) {
    let (steps, evaluations) = (
        line.steps + along.steps,
        line.evaluations + along.evaluations,
    );
    let from_mep = along.objective < line.objective;
    let chosen = if from_mep { along } else { line };
    (
        Geodesic {
            steps,
            evaluations,
            ..chosen
        },
        from_mep,
    )
}

/// `route` (data units) as the geodesic's points `(λ, z…)` whose restraint centres follow
/// it, λ linear between the endpoints'; `None` if the route does not join the endpoints
/// (e.g. it wraps around a periodic coordinate).
fn route_in_model_space(
    space: &dyn Potential,
    loaded: &LoadedDenoiser,
    route: &[Vec<f64>],
    (start, end): (&[f64], &[f64]),
    points: usize,
) -> Option<Vec<Vec<f64>>> {
    let norm = &loaded.normalisation;
    // The endpoints' data points (the geodesic's ends are `(λ, z)`, `z` the normalised state).
    let (a, b) = (norm.to_data(&start[1..]), norm.to_data(&end[1..]));
    // Not the minimum image: a route that wraps does not end at the endpoint itself.
    let far = |p: &[f64], q: &[f64]| {
        p.iter()
            .zip(q)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            .sqrt()
            > 1e-6 * norm.scale
    };
    if route.len() < 2 || far(&route[0], &a) || far(route.last()?, &b) {
        return None;
    }
    Some(along_curve(space, norm, route, (start[0], end[0]), points))
}

/// The energy-aware spacetime geodesic: the default route.
pub struct EnergyAwareGeodesic;

/// The paper's plain geodesic: no constraint.
pub struct Plain;

impl Route for EnergyAwareGeodesic {
    fn kind(&self) -> RouteKind {
        RouteKind::Geodesic
    }

    fn plan<'a>(
        &self,
        context: &Context<'a>,
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<Plan<'a>> {
        // The path joined to the states themselves: its ends are the relaxed minima, which
        // need not be the named points.
        let joined = if context.representation.mep_is_route() {
            route_through(
                context.representation.potential()?,
                &context.reference.mep,
                context.endpoints,
            )
        } else {
            Vec::new()
        };
        let mep = if !context.mep_start {
            MepStart::Not("not made: switched off (--no-mep-start)".into())
        } else if joined.is_empty() {
            MepStart::Not(
                "not made: the minimum-energy path lives in the variables, not in the model's \
                 coordinates"
                    .into(),
            )
        } else {
            MepStart::Along(&joined)
        };
        plan_geodesic(
            context,
            RouteKind::Geodesic,
            context.constraints,
            mep,
            progress,
        )
    }
}

impl Route for Plain {
    fn kind(&self) -> RouteKind {
        RouteKind::Plain
    }

    fn plan<'a>(
        &self,
        context: &Context<'a>,
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<Plan<'a>> {
        plan_geodesic(
            context,
            RouteKind::Plain,
            &Constraints::none(),
            MepStart::Not("not made: the plain geodesic has no constraint".into()),
            progress,
        )
    }
}

/// A geodesic route with `constraints`; the walkers feel the energy.
fn plan_geodesic<'a>(
    context: &Context<'a>,
    kind: RouteKind,
    constraints: &Constraints,
    mep: MepStart,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Plan<'a>> {
    let model = context.model(kind)?;
    let used_mep = matches!(mep, MepStart::Along(_));
    let (start, end) = context.spacetime_endpoints();
    let (points, summary) = geodesic(
        context.system,
        model,
        context.representation.potential()?,
        (&start, &end),
        constraints,
        mep,
        context.seed,
        progress,
    )?;
    let mep_evaluations = if used_mep && summary.mep_start == "made" {
        context.reference.evaluations
    } else {
        0
    };
    Ok(Plan {
        points,
        guidance: Guidance::Energy,
        summary: RouteSummary {
            route: kind,
            follows: if constraints.is_plain() {
                "the paper's plain spacetime geodesic of the model".into()
            } else {
                "the spacetime geodesic of the model with the energy in its objective \
                 (a restraint dragged along a low-resistance route shaped by the model)"
                    .into()
            },
            guided_by: context.representation.guide(),
            energy_evaluations: summary.constraint_energy_evaluations + mep_evaluations,
            geodesic: Some(summary),
            reference_route: None,
        },
    })
}
