//! The model-free route: walkers dragged along the reference minimum-energy route at `λ_max`
//! (the same restraint stiffness, K and ds as every other route), feeling the system's
//! energy. What any model-based route must beat.

use super::{
    Context, Guidance, Plan, ReferenceRouteSummary, Route, RouteKind, RouteSummary, along_curve,
};
use crate::error::Result;

/// No model: the reference route.
pub struct ReferenceRoute;

impl Route for ReferenceRoute {
    fn kind(&self) -> RouteKind {
        RouteKind::Reference
    }

    fn plan<'a>(
        &self,
        context: &Context<'a>,
        _progress: &mut dyn FnMut(usize, f64),
    ) -> Result<Plan<'a>> {
        let curve = (context.reference_route)()?;
        let space = context.representation.potential()?;
        let lambda = context.lambda_max;
        let points = along_curve(
            space,
            context.normalisation,
            &curve.points,
            (lambda, lambda),
            context.points,
        );
        Ok(Plan {
            points,
            guidance: Guidance::Energy,
            summary: RouteSummary {
                route: RouteKind::Reference,
                follows: format!(
                    "no model: {}, at λ = {lambda} (the same restraint as every route)",
                    curve.description
                ),
                guided_by: context.representation.guide(),
                geodesic: None,
                energy_evaluations: curve.evaluations,
                reference_route: Some(ReferenceRouteSummary {
                    description: curve.description,
                    highest_energy: curve.highest_energy,
                    converged: curve.converged,
                }),
            },
        })
    }
}
