//! The model alone: the walkers' drift is the model's score at `λ_max` instead of the
//! energy's force, and the restraint follows a spacetime geodesic whose objective never asks
//! the energy. What a user with samples but no cheap energy would run.
//!
//! The denoiser of data seen at noise level λ gives the score of the data smoothed by the
//! noise (Tweedie): at `z_t = α z`, `∇_z log q̃(z) = e^λ (D(α z, λ) − z)` in model units, so
//! `∇_x log q̃ = e^λ (D − z)/s` in data units, with `q̃` the data smoothed by the restraint's
//! own width `s·e^(−λ/2)`. It stands in for `−∇U/kT`.

use burn::tensor::Device;

use super::geodesic::{MepStart, geodesic};
use super::learnt_free_energy::{LEARNT_GRID, learnt_surface};
use super::{Context, Guidance, Plan, Route, RouteKind, RouteSummary, along_curve};
use crate::compute;
use crate::error::{Error, Result};
use crate::geometry::Constraints;
use crate::model::denoiser::{Denoiser, Normalisation};
use crate::molecule::Dihedrals;
use crate::potential::Potential;
use crate::potential::Tabulated;
use crate::reference::mep_on;
use crate::representation::ModelFrame;
use crate::representation::route_through;
use crate::schedule;
use crate::walkers::{BatchScore, restraint_centres};

/// The model's score of the data at one noise level, for batches of walkers.
pub struct ModelScore<'a> {
    denoiser: &'a dyn Denoiser,
    device: Device,
    normalisation: &'a Normalisation,
    lambda: f64,
    /// Wraps periodic coordinates into the cell the model was trained on.
    periodic: Option<&'a dyn Potential>,
    /// Puts a walker into the model's frame (all-atom models).
    frame: Option<&'a dyn ModelFrame>,
    /// A model of a flattened ensemble: its bias `V` over the variables, kT, and the
    /// variables of an all-atom model (its data are atoms); `∇ₓV/kT` is added.
    tilt: Option<(&'a Tabulated, f64, Option<&'a Dihedrals>)>,
}

impl<'a> ModelScore<'a> {
    /// The score of `denoiser` at log-SNR `lambda` (model units).
    pub fn new(
        denoiser: &'a dyn Denoiser,
        device: &Device,
        normalisation: &'a Normalisation,
        lambda: f64,
        periodic: Option<&'a dyn Potential>,
        frame: Option<&'a dyn ModelFrame>,
    ) -> Self {
        Self {
            denoiser,
            device: device.clone(),
            normalisation,
            lambda,
            periodic,
            frame,
            tilt: None,
        }
    }

    /// The equilibrium score of a model that learnt under the bias `v` at thermal energy
    /// `kt`: the model's plus `∇V/kT` (exact, since `V` is known); for a model of atoms,
    /// `v` is a function of the variables `cv` and its gradient goes through their Jacobian.
    pub fn untilted(self, v: &'a Tabulated, kt: f64, cv: Option<&'a Dihedrals>) -> Self {
        Self {
            tilt: Some((v, kt, cv)),
            ..self
        }
    }
}

impl BatchScore for ModelScore<'_> {
    fn score(&self, points: &[Vec<f64>], out: &mut [Vec<f64>]) -> Result<()> {
        let rows = points.len();
        let dim = self.denoiser.dim();
        let alpha = schedule::alpha(self.lambda);
        let mut fits = Vec::with_capacity(rows);
        let mut z = Vec::with_capacity(rows * dim);
        for x in points {
            let mut x = match self.frame {
                Some(f) => {
                    let (moved, fit) = f.to_model(x);
                    fits.push(fit);
                    moved
                }
                None => x.clone(),
            };
            if let Some(p) = self.periodic {
                p.wrap(&mut x);
            }
            z.extend(self.normalisation.to_model(&x));
        }
        let input: Vec<f64> = z.iter().map(|v| alpha * v).collect();
        let lambda = compute::matrix(&vec![self.lambda; rows], rows, 1, &self.device);
        let x = compute::matrix(&input, rows, dim, &self.device);
        let denoised = compute::to_host(self.denoiser.denoise(lambda, x));
        let factor = self.lambda.exp() / self.normalisation.scale;
        for (r, o) in out.iter_mut().enumerate() {
            for k in 0..dim {
                o[k] = factor * (denoised[r * dim + k] - z[r * dim + k]);
            }
            if let Some(fit) = fits.get(r) {
                for c in o.chunks_mut(3) {
                    let v = fit.rotate_back([c[0], c[1], c[2]]);
                    c.copy_from_slice(&v);
                }
            }
            if let Some((v, kt, cv)) = self.tilt {
                add_tilt(v, kt, cv, &points[r], o);
            }
        }
        if out.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite(
                "the model's score is not finite at a walker's position".into(),
            ));
        }
        Ok(())
    }
}

/// Adds `∇ₓV/kT` at `x` to `out`: `V` over the variables, through the dihedrals' Jacobian
/// when `x` holds atoms. Outside a bounded grid the bias is not known: no correction there.
fn add_tilt(v: &Tabulated, kt: f64, cv: Option<&Dihedrals>, x: &[f64], out: &mut [f64]) {
    match cv {
        None => {
            let mut grad = vec![0.0; x.len()];
            if v.energy_gradient(x, &mut grad).is_finite() {
                out.iter_mut().zip(&grad).for_each(|(o, g)| *o += g / kt);
            }
        }
        Some(cv) => {
            let atoms = crate::molecule::align::unflatten(x);
            let s = cv.values(&atoms);
            let mut ds = vec![0.0; s.len()];
            if v.energy_gradient(&s, &mut ds).is_finite() {
                let mut g = vec![[0.0; 3]; atoms.len()];
                cv.chain(&atoms, &ds, &mut g);
                out.iter_mut()
                    .zip(g.iter().flatten())
                    .for_each(|(o, g)| *o += g / kt);
            }
        }
    }
}

/// The model's score at the route's λ_max, in the representation's frame and cell.
fn model_score<'a>(context: &Context<'a>) -> Result<ModelScore<'a>> {
    let model = context.model(RouteKind::Learned)?;
    let representation = context.representation;
    let periodic = representation
        .potential()
        .ok()
        .filter(|p| p.periodic().iter().any(Option::is_some));
    let score = ModelScore::new(
        model.denoiser.as_ref(),
        &model.device,
        &model.normalisation,
        context.lambda_max,
        periodic,
        representation.model_frame(),
    );
    Ok(match &model.tilt {
        Some(v) => score.untilted(
            v,
            context.system.kt(),
            representation.collective_variables(),
        ),
        None => score,
    })
}

/// The model alone.
pub struct Learned;

impl Route for Learned {
    fn kind(&self) -> RouteKind {
        RouteKind::Learned
    }

    fn guidance<'a>(&self, context: &Context<'a>) -> Result<Guidance<'a>> {
        Ok(Guidance::Score(Box::new(model_score(context)?)))
    }

    fn plan<'a>(
        &self,
        context: &Context<'a>,
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<Plan<'a>> {
        let model = context.model(RouteKind::Learned)?;
        let representation = context.representation;
        let score = model_score(context)?;
        // In two dimensions the model's own free energy takes the energy's place in the
        // geodesic's objective and in its start; in more, the geodesic goes without it.
        let learnt = match representation.grid_domain() {
            Some((domain, _)) => Some(learnt_surface(
                model,
                &score,
                context.lambda_max,
                domain,
                &representation.potential()?.periodic(),
                context.system.kt(),
            )?),
            None => None,
        };
        let (start, end) = context.spacetime_endpoints();
        // The learnt free energy's own minimum-energy path: a start of the geodesic and a
        // route of its own.
        let learnt_mep = learnt.as_ref().map(|surface| learnt_mep(context, surface));
        let (constraints, landscape, mep_route, how) = match &learnt {
            Some(surface) => {
                let mep = match &learnt_mep {
                    Some(m) if context.mep_start && context.constraints.energy.is_some() => {
                        m.clone()
                    }
                    _ => Err("not made: switched off, or no energy term".to_string()),
                };
                (
                    context.constraints.clone(),
                    surface as &dyn Potential,
                    mep,
                    format!(
                        "its learnt free energy (the score at λ = {} integrated on a {n} × {n} \
                         grid, whole basins weighed by the model's density) in place of the \
                         energy",
                        context.lambda_max,
                        n = LEARNT_GRID
                    ),
                )
            }
            None => (
                Constraints {
                    energy: None,
                    ..context.constraints.clone()
                },
                representation.potential()?,
                Err("not made: no learnt free energy in this many dimensions".to_string()),
                "no energy term (no learnt free energy in this many dimensions)".into(),
            ),
        };
        let mep = match &mep_route {
            Ok(r) => MepStart::Along(r),
            Err(why) => MepStart::Not(why.clone()),
        };
        let (points, summary) = geodesic(
            context.system,
            model,
            landscape,
            (&start, &end),
            &constraints,
            mep,
            context.seed,
            progress,
        )?;
        // Of the geodesic and the drag along the learnt free energy's minimum-energy path, the
        // walkers follow whichever route's restraint centres cross lower on that free energy:
        // a choice the model makes alone.
        let (points, route) = match (&learnt, learnt_mep) {
            (Some(surface), Some(Ok(mep))) => lower_route(context, surface, points, &mep, &how),
            _ => (points, format!("the spacetime geodesic with {how}")),
        };
        Ok(Plan {
            points,
            guidance: Guidance::Score(Box::new(score)),
            summary: RouteSummary {
                route: RouteKind::Learned,
                follows: format!(
                    "the model alone: {route}, the walkers driven by the model's score at λ = {}",
                    context.lambda_max
                ),
                guided_by: format!(
                    "the model's score at λ = {}{} (the system's energy is never called)",
                    context.lambda_max,
                    if model.tilt.is_some() {
                        " plus ∇V/kT of the tilt it learnt under (its tabulated bias)"
                    } else {
                        ""
                    }
                ),
                geodesic: Some(summary),
                reference_route: None,
                energy_evaluations: 0,
            },
        })
    }
}

/// The learnt free energy's own minimum-energy path between the endpoints, as a route; why
/// not, if the string method fails on it.
fn learnt_mep(
    context: &Context,
    surface: &Tabulated,
) -> std::result::Result<Vec<Vec<f64>>, String> {
    let (a, b) = context.endpoints;
    let file = &context.system.file;
    match mep_on(surface, &file.domain(), &file.barrier, a, b) {
        Ok((mep, _)) => {
            tracing::info!(
                "learnt free energy: minimum-energy path saddle at {:?}, {:.3} above its start",
                mep.saddle,
                mep.barrier
            );
            Ok(route_through(surface, &mep.points, (a, b)))
        }
        Err(e) => Err(format!(
            "not made: the string method on the learnt free energy failed ({e})"
        )),
    }
}

/// Of the geodesic (`points`, planned with `how`) and the drag along the learnt free energy's
/// minimum-energy path, the route whose restraint centres cross lower on that free energy —
/// a choice the model makes alone — and its description.
fn lower_route(
    context: &Context,
    surface: &Tabulated,
    points: Vec<Vec<f64>>,
    mep: &[Vec<f64>],
    how: &str,
) -> (Vec<Vec<f64>>, String) {
    let lambda = context.lambda_max;
    let along = along_curve(
        surface,
        context.normalisation,
        mep,
        (lambda, lambda),
        context.points,
    );
    let highest = |route: &[Vec<f64>]| {
        restraint_centres(context.normalisation, route)
            .iter()
            .map(|c| surface.energy(c))
            .fold(f64::NEG_INFINITY, f64::max)
    };
    let (g, m) = (highest(&points), highest(&along));
    if m < g {
        let why = format!(
            "the learnt free energy's minimum-energy path at λ = {lambda} (its centres cross \
             {m:.3} on that surface, the geodesic's {g:.3})"
        );
        (along, why)
    } else {
        let why = format!(
            "the spacetime geodesic with {how} (its centres cross {g:.3} on the learnt free \
             energy, its minimum-energy path's {m:.3})"
        );
        (points, why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A smooth periodic surface over (φ, ψ) to tabulate.
    struct Waves;

    impl Potential for Waves {
        fn dim(&self) -> usize {
            2
        }
        fn energy_gradient(&self, x: &[f64], g: &mut [f64]) -> f64 {
            g[0] = 3.0 * x[0].cos() * x[1].cos() - 2.0 * (2.0 * x[0]).sin();
            g[1] = -3.0 * x[0].sin() * x[1].sin();
            3.0 * x[0].sin() * x[1].cos() + (2.0 * x[0]).cos()
        }
        fn periodic(&self) -> Vec<Option<(f64, f64)>> {
            vec![Some((-std::f64::consts::PI, std::f64::consts::PI)); 2]
        }
    }

    /// The all-atom tilt `∇ₓV(s(x))/kT` against central differences of the tabulated bias at
    /// the atoms' dihedrals.
    #[test]
    fn an_all_atom_tilt_gradient_matches_finite_differences() {
        let pi = std::f64::consts::PI;
        let v = Tabulated::of(&Waves, [[-pi, pi], [-pi, pi]], 96, true);
        let cv = Dihedrals {
            names: vec!["phi".into(), "psi".into()],
            atoms: vec![[0, 1, 2, 3], [1, 2, 3, 4]],
        };
        let x = [
            0.10, 0.02, -0.05, 0.21, 0.09, 0.01, 0.30, 0.01, 0.12, 0.43, 0.08, 0.15, 0.50, -0.04,
            0.22,
        ];
        let kt = 2.5;
        let mut out = vec![0.0; x.len()];
        add_tilt(&v, kt, Some(&cv), &x, &mut out);
        let bias = |x: &[f64]| {
            let atoms = crate::molecule::align::unflatten(x);
            v.energy(&cv.values(&atoms))
        };
        let h = 1e-6;
        let mut moved = 0;
        for k in 0..x.len() {
            let (mut up, mut down) = (x, x);
            up[k] += h;
            down[k] -= h;
            let fd = (bias(&up) - bias(&down)) / (2.0 * h) / kt;
            assert!(
                (out[k] - fd).abs() < 1e-5 * (1.0 + fd.abs()),
                "coordinate {k}: {} against differences {fd}",
                out[k]
            );
            moved += usize::from(fd.abs() > 1e-3);
        }
        assert!(moved >= 6, "the tilt moves the dihedrals' atoms");
    }
}
