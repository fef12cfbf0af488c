//! Routes: the methods a transition path follows. Each gives the walkers a sequence of
//! restraint points `(λ, z…)` and says what moves them besides the restraint:
//!
//! * [`RouteKind::Geodesic`] — the energy-aware spacetime geodesic (the default): the model's
//!   geometry with the system's energy in its objective;
//! * [`RouteKind::Plain`] — the paper's geodesic, model geometry alone;
//! * [`RouteKind::Reference`] — no model: the reference minimum-energy route (the MEP in
//!   the variables, an elastic band on all atoms) at `λ_max`;
//! * [`RouteKind::Learned`] — the model alone: its score stands in for the energy's force and
//!   the restraint follows a geodesic that never asks the energy.
//!
//! Every route uses the same restraint stiffness `e^λ/s²`, the same K, ds, paths and noise,
//! so that they can be put side by side.

pub mod geodesic;
pub mod learned;
pub mod learnt_free_energy;
mod reference;

use serde::{Deserialize, Serialize};

pub use geodesic::{GeodesicSummary, geodesic};
pub use learned::ModelScore;

use crate::error::{Error, Result};
use crate::geometry::Constraints;
use crate::model::denoiser::Normalisation;
use crate::potential::Potential;
use crate::reference::Reference;
use crate::representation::{ReferenceCurve, Representation};
use crate::system::{LoadedDenoiser, System};
use crate::walkers::BatchScore;

pub use crate::system::RouteKind;

/// The implementation of the route of `kind`.
pub fn implementation(kind: RouteKind) -> Box<dyn Route> {
    match kind {
        RouteKind::Geodesic => Box::new(geodesic::EnergyAwareGeodesic),
        RouteKind::Plain => Box::new(geodesic::Plain),
        RouteKind::Reference => Box::new(reference::ReferenceRoute),
        RouteKind::Learned => Box::new(learned::Learned),
    }
}

/// What a route may use.
pub struct Context<'a> {
    /// The system.
    pub system: &'a System,
    /// Its representation.
    pub representation: &'a dyn Representation,
    /// The trained (or exact) denoiser, if any.
    pub model: Option<&'a LoadedDenoiser>,
    /// The model's map between data and model space (every route's restraint stiffness).
    pub normalisation: &'a Normalisation,
    /// The reference on the guiding surface (its minimum-energy path).
    pub reference: &'a Reference,
    /// The model-free reference route, computed on first use.
    pub reference_route: &'a (dyn Fn() -> Result<ReferenceCurve> + Sync),
    /// The walkers' start and target, data units.
    pub endpoints: (&'a [f64], &'a [f64]),
    /// The geodesic's constraints (data units).
    pub constraints: &'a Constraints,
    /// Whether the energy-aware geodesic may also start from the minimum-energy path.
    pub mep_start: bool,
    /// λ of the endpoints (model units).
    pub lambda_max: f64,
    /// Route points.
    pub points: usize,
    /// Seed of the geodesic's probes.
    pub seed: u64,
}

impl<'a> Context<'a> {
    /// The model, or an error saying that `route` needs one.
    pub fn model(&self, route: RouteKind) -> Result<&'a LoadedDenoiser> {
        self.model.ok_or_else(|| Error::Model {
            path: self.system.file.model_path(),
            message: format!(
                "the {route} route needs a trained model; run `tps train {}` (or follow the \
                 reference route, which needs none)",
                self.system.path.display()
            ),
        })
    }

    /// The endpoints as spacetime points `(λ_max, z…)` in model units.
    pub fn spacetime_endpoints(&self) -> (Vec<f64>, Vec<f64>) {
        let at = |x: &[f64]| -> Vec<f64> {
            std::iter::once(self.lambda_max)
                .chain(self.normalisation.to_model(x))
                .collect()
        };
        (at(self.endpoints.0), at(self.endpoints.1))
    }
}

/// What moves the walkers besides the restraint.
pub enum Guidance<'a> {
    /// The system's energy (the representation's potential).
    Energy,
    /// A learnt score; the energy is never called.
    Score(Box<dyn BatchScore + 'a>),
}

/// A route's plan: its points and what guides the walkers along them.
pub struct Plan<'a> {
    /// Restraint points `(λ, z…)`, model units.
    pub points: Vec<Vec<f64>>,
    /// What moves the walkers.
    pub guidance: Guidance<'a>,
    /// What was done.
    pub summary: RouteSummary,
}

/// What a route did, for reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RouteSummary {
    /// Which route.
    pub route: RouteKind,
    /// What the walkers follow, in words.
    pub follows: String,
    /// What moves the walkers besides the restraint.
    pub guided_by: String,
    /// The geodesic, for model routes.
    pub geodesic: Option<GeodesicSummary>,
    /// The reference route, for the model-free one.
    pub reference_route: Option<ReferenceRouteSummary>,
    /// Energy evaluations spent on the route (constraint, string method, elastic band); the
    /// walkers' are counted apart.
    pub energy_evaluations: u64,
}

/// The model-free route's facts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReferenceRouteSummary {
    /// What it is.
    pub description: String,
    /// Its highest energy on the surface it was computed on.
    pub highest_energy: f64,
    /// Whether its method converged.
    pub converged: bool,
}

/// A method that transition paths follow.
pub trait Route: Sync {
    /// Which one.
    fn kind(&self) -> RouteKind;

    /// Its plan between the context's endpoints; `progress(iteration, objective)` follows
    /// any optimisation.
    fn plan<'a>(
        &self,
        context: &Context<'a>,
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<Plan<'a>>;

    /// What moves the walkers along this route when its points were planned before (a route
    /// file shared by the shards of one run).
    fn guidance<'a>(&self, _context: &Context<'a>) -> Result<Guidance<'a>> {
        Ok(Guidance::Energy)
    }
}

/// A route planned once and written (`tps geodesic --from A --to B`), for the shards of one
/// run to share: its points, its report and what it was planned from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RouteFile {
    /// The system's name.
    pub system: String,
    /// Start state.
    pub from: String,
    /// Target state.
    pub to: String,
    /// What was done.
    pub route: RouteSummary,
    /// The route's points `(λ, z…)`, model units.
    pub points: Vec<Vec<f64>>,
    /// Seed of the geodesic's probes.
    pub seed: u64,
    /// SHA-256 of the model file it was planned with (none for exact denoisers).
    pub model_sha256: Option<String>,
    /// SHA-256 of the system's surface file, if any.
    pub surface_sha256: Option<String>,
    /// The `[geodesic]` and `[transition]` settings it was planned with, as TOML values.
    pub settings: String,
    /// SHA-256 of the points: what the shards of one run share.
    pub points_sha256: String,
}

/// `curve` (data units) as `points` spacetime points `(λ, z…)` at equal arc length (minimum
/// image on `space`), λ linear from `lambdas.0` to `lambdas.1`: restraint centres on the
/// curve.
pub fn along_curve(
    space: &dyn Potential,
    normalisation: &Normalisation,
    curve: &[Vec<f64>],
    lambdas: (f64, f64),
    points: usize,
) -> Vec<Vec<f64>> {
    let mut s = vec![0.0];
    for w in curve.windows(2) {
        let d = space.displacement(&w[0], &w[1]);
        s.push(s[s.len() - 1] + d.iter().map(|v| v * v).sum::<f64>().sqrt());
    }
    let total = s[s.len() - 1];
    let mut seg = 0;
    (0..points)
        .map(|i| {
            let t = i as f64 / (points - 1) as f64;
            while seg + 2 < s.len() && s[seg + 1] < t * total {
                seg += 1;
            }
            let x: Vec<f64> = if curve.len() == 1 {
                curve[0].clone()
            } else {
                let f = ((t * total - s[seg]) / (s[seg + 1] - s[seg]).max(1e-300)).clamp(0.0, 1.0);
                let d = space.displacement(&curve[seg], &curve[seg + 1]);
                curve[seg].iter().zip(&d).map(|(p, q)| p + f * q).collect()
            };
            let lambda = lambdas.0 + t * (lambdas.1 - lambdas.0);
            let alpha = crate::schedule::alpha(lambda);
            std::iter::once(lambda)
                .chain(normalisation.to_model(&x).into_iter().map(|z| alpha * z))
                .collect()
        })
        .collect()
}
