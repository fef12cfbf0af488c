//! Transition paths of a system between two named states along a route (see [`crate::route`]),
//! judged on a surface that did not guide them wherever one exists, next to the reference
//! barrier and to the model-free route. This is what `tps sample` and `tps compare` compute;
//! writing is `app`'s.
//!
//! A [`Sampler`] holds what every route and seed share (the representation, endpoints, the
//! references, the scoring surface and its basins); [`Sampler::run`] runs one route with one
//! seed.

pub mod compare;
pub mod planned;

pub use crate::statistics::{
    FLAG_EXCESS_KT, MAX_LAG, MeanStd, PathStatistics, statistics, walker_lag,
};

use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::barrier::Basins;
use crate::error::{Error, Result};
use crate::geometry::Constraints;
use crate::model::denoiser::Normalisation;
use crate::reference::{Reference, reference_on};
use crate::representation::{
    Finish, Finished, ReferenceCurve, Representation,
    cartesian::CartesianSummary,
    variables::{AllAtom, AllAtomSummary},
};
use crate::route::{Context, Guidance, Plan, RouteFile, RouteKind, RouteSummary};
use crate::system::{LoadedDenoiser, ScoringSurface, System, TransitionConfig};
use crate::walkers::{Dynamics, Guide, TransitionPath, annealed_langevin_paths, restraint_centres};

/// One run: a route, a seed, how many paths and which to keep.
#[derive(Debug, Clone)]
pub struct Request {
    /// The route.
    pub route: RouteKind,
    /// Overrides `transition.paths`.
    pub paths: Option<usize>,
    /// The geodesic's constraints (avoid point in data units).
    pub constraints: Constraints,
    /// Whether the energy-aware geodesic may also start from the minimum-energy path.
    pub mep_start: bool,
    /// Seed of the geodesic's probes and the Langevin noise.
    pub seed: u64,
    /// Paths whose frames are kept (for trajectory files).
    pub keep_frames: usize,
    /// Only this part of the paths (a shard of a run split across jobs).
    pub shard: Option<Shard>,
    /// A route planned before (its file), instead of planning one.
    pub planned: Option<RouteFile>,
}

/// Part `index` of `count` of a run's paths: a contiguous block, each path the one of that
/// index in the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which part, from 0.
    pub index: usize,
    /// How many parts.
    pub count: usize,
}

impl Shard {
    /// Parses `K/N` (K from 0 to N − 1).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            Error::Invalid(format!(
                "shard `{text}` is not K/N with 0 ≤ K < N (e.g. 0/4 for the first of four)"
            ))
        };
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }

    /// This part's paths among `paths`.
    pub fn range(&self, paths: usize) -> std::ops::Range<usize> {
        paths * self.index / self.count..paths * (self.index + 1) / self.count
    }
}

/// Wall times in seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WallTimes {
    /// The route (geodesic optimisation, elastic band).
    pub route: f64,
    /// Annealed Langevin paths.
    pub langevin: f64,
    /// Back-mapping and projection.
    pub backmap: f64,
}

/// Energy evaluations of one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evaluations {
    /// The walkers' (one per Langevin step; none when the model's score moves them).
    pub walkers: u64,
    /// The route's (energy-aware constraint, minimum-energy path, elastic band).
    pub route: u64,
    /// Judging frames on a surface that did not move the walkers (not guidance).
    pub scoring: u64,
}

impl Evaluations {
    /// Every energy evaluation that guided the paths.
    pub fn guiding(&self) -> u64 {
        self.walkers + self.route
    }
}

/// Everything one run computes.
pub struct Sampled {
    /// Which paths of the run these are (all of them unless sharded).
    pub indices: std::ops::Range<usize>,
    /// The route's plan, as a report.
    pub route: RouteSummary,
    /// Route points `(λ, z…)`, model units.
    pub points: Vec<Vec<f64>>,
    /// The restraint centres the walkers follow, data units.
    pub centres: Vec<Vec<f64>>,
    /// The paths, in the system's coordinates.
    pub paths: Vec<TransitionPath>,
    /// Their statistics on the scoring surface.
    pub statistics: PathStatistics,
    /// Per-path maxima on the guiding surface, when it is not the scoring one.
    pub on_guiding_surface: Option<MeanStd>,
    /// Plain-language warnings.
    pub warnings: Vec<String>,
    /// Molecules: the all-atom movies.
    pub all_atom: Option<AllAtom>,
    /// Molecules in the variables: facts of the back-mapping.
    pub backmap: Option<AllAtomSummary>,
    /// Cartesian molecules: the field's metrics of all-atom paths.
    pub cartesian: Option<CartesianSummary>,
    /// Wall time, s.
    pub wall_seconds: WallTimes,
    /// Energy evaluations.
    pub evaluations: Evaluations,
}

impl Sampled {
    /// Every kept path's frames as its trajectory holds them: a molecule's structures
    /// (flattened, nm; back-mapped ones in the variables), a surface's points.
    pub fn structures(&self) -> Vec<Vec<Vec<f64>>> {
        match &self.all_atom {
            Some(all) => all
                .frames
                .iter()
                .map(|path| path.iter().map(|f| f.concat()).collect())
                .collect(),
            None => self
                .paths
                .iter()
                .filter(|p| !p.frames.is_empty())
                .map(|p| p.frames.clone())
                .collect(),
        }
    }
}

/// What every route and seed between two states share.
pub struct Sampler<'a> {
    system: &'a System,
    representation: Box<dyn Representation + 'a>,
    model: Option<&'a LoadedDenoiser>,
    normalisation: Normalisation,
    states: (String, String),
    endpoints: (Vec<f64>, Vec<f64>),
    reference: Reference,
    scoring: ScoringSurface<'a>,
    scoring_reference: Option<Reference>,
    basins: Basins<'a>,
    reference_route: Mutex<Option<ReferenceCurve>>,
    reference_seconds: f64,
}

impl<'a> Sampler<'a> {
    /// Prepares transitions `from` → `to`: endpoints, the reference on the guiding surface
    /// (and on the scoring one), the basins. `model` gives every route its restraint
    /// stiffness `e^λ/s²`.
    pub fn new(
        system: &'a System,
        model: Option<&'a LoadedDenoiser>,
        from: &str,
        to: &str,
    ) -> Result<Self> {
        let file = &system.file;
        file.state(from)?;
        file.state(to)?;
        if from == to {
            return Err(Error::Invalid(format!(
                "the start and target states are both `{from}`"
            )));
        }
        let normalisation = model
            .map(|m| m.normalisation.clone())
            .ok_or_else(|| Error::Model {
                path: file.model_path(),
                message: format!(
                    "every route takes its restraint's stiffness e^λ/s² from the trained \
                     model's data scale s; run `tps train {}` first",
                    system.path.display()
                ),
            })?;
        let representation = system.representation()?;
        let endpoints = representation.endpoints(from, to)?;
        let t = Instant::now();
        let relaxed = system.relaxed_map()?;
        let reference = reference_on(system.surface()?, system, from, to, relaxed)?;
        let scoring = system.scoring_surface()?;
        let scoring_reference = if !scoring.guides {
            Some(reference_on(scoring.surface, system, from, to, relaxed)?)
        } else {
            None
        };
        let states = file.named_states();
        let basins = Basins::new(scoring.surface, &states);
        Ok(Self {
            system,
            representation,
            model,
            normalisation,
            states: (from.to_string(), to.to_string()),
            endpoints,
            reference,
            scoring,
            scoring_reference,
            basins,
            reference_route: Mutex::new(None),
            reference_seconds: t.elapsed().as_secs_f64(),
        })
    }

    /// The system.
    pub fn system(&self) -> &'a System {
        self.system
    }

    /// The start and target states.
    pub fn states(&self) -> (&str, &str) {
        (&self.states.0, &self.states.1)
    }

    /// The reference on the surface that guides the walkers.
    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    /// The reference on the surface paths are judged on.
    pub fn judged_reference(&self) -> &Reference {
        self.scoring_reference.as_ref().unwrap_or(&self.reference)
    }

    /// The surface paths are judged on.
    pub fn scoring(&self) -> &ScoringSurface<'a> {
        &self.scoring
    }

    /// The representation.
    pub fn representation(&self) -> &dyn Representation {
        self.representation.as_ref()
    }

    /// Wall time of the references, s.
    pub fn reference_seconds(&self) -> f64 {
        self.reference_seconds
    }

    /// The model-free reference route, computed once.
    fn reference_curve(&self) -> Result<ReferenceCurve> {
        let mut cached = self.reference_route.lock().expect("not poisoned");
        if let Some(c) = cached.as_ref() {
            return Ok(c.clone());
        }
        let curve = self
            .representation
            .reference_route(&self.reference, (&self.endpoints.0, &self.endpoints.1))?;
        *cached = Some(curve.clone());
        Ok(curve)
    }

    /// The transition settings of `request`.
    fn config(&self, request: &Request) -> Result<TransitionConfig> {
        let mut config = self.system.file.transition.clone();
        if let Some(p) = request.paths {
            if p == 0 {
                return Err(Error::Invalid(
                    "the number of paths must be at least 1".into(),
                ));
            }
            config.paths = p;
        }
        Ok(config)
    }

    /// The route context of `request`.
    fn context<'s>(
        &'s self,
        request: &'s Request,
        reference_curve: &'s (dyn Fn() -> Result<ReferenceCurve> + Sync),
    ) -> Context<'s>
    where
        'a: 's,
    {
        Context {
            system: self.system,
            representation: self.representation.as_ref(),
            model: self.model,
            normalisation: &self.normalisation,
            reference: &self.reference,
            reference_route: reference_curve,
            endpoints: (&self.endpoints.0, &self.endpoints.1),
            constraints: &request.constraints,
            mep_start: request.mep_start,
            lambda_max: self.system.file.transition.lambda_max,
            points: self.system.file.geodesic.points,
            seed: request.seed,
        }
    }

    /// Plans `request`'s route alone: its points and its report.
    pub fn plan(
        &self,
        request: &Request,
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<(Vec<Vec<f64>>, RouteSummary)> {
        let reference_curve = || self.reference_curve();
        let context = self.context(request, &reference_curve);
        let plan = crate::route::implementation(request.route).plan(&context, progress)?;
        Ok((plan.points, plan.summary))
    }

    /// Runs `request`; `progress(iteration, objective)` follows the route's optimisation.
    pub fn run(&self, request: &Request, progress: &mut dyn FnMut(usize, f64)) -> Result<Sampled> {
        let config = self.config(request)?;
        let t0 = Instant::now();
        let reference_curve = || self.reference_curve();
        let plan = self.route_to_follow(request, &reference_curve, progress)?;
        let route_seconds = t0.elapsed().as_secs_f64();
        let indices = match request.shard {
            Some(s) => s.range(config.paths),
            None => 0..config.paths,
        };

        let t1 = Instant::now();
        let guided_by_energy = matches!(plan.guidance, Guidance::Energy);
        let kit = self.representation.kit(
            &plan.points,
            &config,
            guided_by_energy,
            &self.reference.saddle,
        )?;
        let options = kit.options(request.keep_frames.min(config.paths));
        let dynamics = self.dynamics(&plan)?;
        let paths = annealed_langevin_paths(
            &dynamics,
            &config.walkers(),
            &options,
            request.seed,
            indices.clone(),
        )?;
        let langevin_seconds = t1.elapsed().as_secs_f64();
        let frames: u64 = paths.iter().map(|p| p.frame_count as u64).sum();
        let evaluations = Evaluations {
            walkers: if guided_by_energy { frames } else { 0 },
            // A route planned before was paid for once, by `tps geodesic`.
            route: plan.summary.energy_evaluations * u64::from(request.planned.is_none()),
            scoring: if kit.judge.is_some() { frames } else { 0 },
        };
        let on_guiding_surface = (guided_by_energy && kit.judge.is_some()).then(|| {
            let maxima: Vec<f64> = paths
                .iter()
                .map(|p| p.guide_max.unwrap_or(f64::NAN))
                .collect();
            MeanStd::of(&maxima)
        });

        let t2 = Instant::now();
        let judged = self.judged_reference();
        let kt = self.system.kt();
        let to = self.states.1.as_str();
        let judge = |p: &[TransitionPath]| statistics(p, &self.basins, to, judged, kt);
        let Finished {
            paths,
            statistics,
            all_atom,
            backmap,
            cartesian,
        } = self.representation.finish(
            paths,
            &Finish {
                states: (&self.states.0, &self.states.1),
                reference: &self.reference,
                basins: &self.basins,
                route: &plan.points,
                config: &config,
                seed: request.seed,
                statistics: &judge,
            },
        )?;
        let backmap_seconds = t2.elapsed().as_secs_f64();
        let warnings = self.warnings(
            &plan.points,
            &config,
            &statistics,
            cartesian.as_ref(),
            guided_by_energy,
        );
        Ok(Sampled {
            indices,
            centres: restraint_centres(&self.normalisation, &plan.points),
            points: plan.points,
            route: plan.summary,
            paths,
            statistics,
            on_guiding_surface,
            warnings,
            all_atom,
            backmap: backmap.map(|b| AllAtomSummary {
                backmap_seconds,
                ..b
            }),
            cartesian,
            wall_seconds: WallTimes {
                route: route_seconds,
                langevin: langevin_seconds,
                backmap: backmap_seconds,
            },
            evaluations,
        })
    }

    /// The walkers' dynamics along `plan`'s route, moved by its guidance.
    fn dynamics<'p>(&'p self, plan: &'p Plan) -> Result<Dynamics<'p>> {
        let guide = match &plan.guidance {
            Guidance::Energy => Guide::Potential(self.representation.potential()?),
            Guidance::Score(s) => Guide::Score(s.as_ref()),
        };
        Ok(Dynamics {
            guide,
            kt: self.system.kt(),
            normalisation: &self.normalisation,
            route: &plan.points,
            start: &self.endpoints.0,
        })
    }

    /// The route the walkers follow: planned now, or read from the request's planned route
    /// (then only its guidance is made).
    fn route_to_follow<'s>(
        &'s self,
        request: &'s Request,
        reference_curve: &'s (dyn Fn() -> Result<ReferenceCurve> + Sync),
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<Plan<'s>> {
        let context = self.context(request, reference_curve);
        let route = crate::route::implementation(request.route);
        match &request.planned {
            Some(file) => Ok(Plan {
                points: file.points.clone(),
                guidance: route.guidance(&context)?,
                summary: file.route.clone(),
            }),
            None => route.plan(&context, progress),
        }
    }

    fn warnings(
        &self,
        points: &[Vec<f64>],
        config: &TransitionConfig,
        statistics: &PathStatistics,
        cartesian: Option<&CartesianSummary>,
        guided_by_energy: bool,
    ) -> Vec<String> {
        let mut warnings = Vec::new();
        if let Ok(potential) = self.representation.potential()
            && let Some(lag) = walker_lag(potential, &self.normalisation, points, &config.walkers())
            && lag > MAX_LAG
        {
            warnings.push(format!(
                "the walkers lag behind their restraint: during one relaxation time the centre \
                 moves {lag:.2} restraint widths; raise transition.steps_per_point or step_size"
            ));
        }
        let judged = self.judged_reference();
        if let Some(excess) = statistics.excess_over_minimax_kt
            && excess > FLAG_EXCESS_KT
        {
            warnings.push(format!(
                "paths cross higher than the lowest pass: the mean per-path maximum {:.3} is \
                 {:.1} kT above the grid minimax bound {:.3}; see the README on routes",
                statistics.max_energy_mean,
                excess,
                judged.minimax.unwrap_or(f64::NAN)
            ));
        }
        if statistics.fraction_reaching_target < 1.0 {
            warnings.push(format!(
                "only {:.0}% of the paths end in the basin of {}",
                100.0 * statistics.fraction_reaching_target,
                self.states.1
            ));
        }
        if let Some(c) = cartesian
            && (c.max_bond_stretch_angstrom > MAX_BOND_STRETCH_ANGSTROM
                || c.min_bond_ratio < MIN_BOND_RATIO)
        {
            // Walkers that feel the force field are strained by too long a step; walkers
            // driven by the model's score, by a score that does not hold the bonds.
            let advice = if guided_by_energy {
                "lower transition.step_size"
            } else {
                "the model's score does not hold the bonds where these walkers went: train it \
                 longer or on more frames, or use a route whose walkers feel the force field"
            };
            warnings.push(format!(
                "bonds strained beyond physical: longest stretch {:.3} Å, shortest bond {:.2} \
                 of its rest length; {advice}",
                c.max_bond_stretch_angstrom, c.min_bond_ratio
            ));
        }
        warnings
    }
}

/// All-atom paths with a bond stretched beyond this (Å) or compressed below this share of
/// its rest length are flagged.
pub const MAX_BOND_STRETCH_ANGSTROM: f64 = 0.25;
/// See [`MAX_BOND_STRETCH_ANGSTROM`].
pub const MIN_BOND_RATIO: f64 = 0.85;
