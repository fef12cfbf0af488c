//! Transition paths of a system between two named states: the spacetime geodesic between them
//! (with its constraints and the system's energy landscape), annealed Langevin paths along it,
//! their statistics judged against the reference barrier, and for molecules continuous
//! all-atom movies: by back-mapping paths in the variables, or directly from walkers on all
//! atoms (Cartesian molecules). This is what `tps sample` computes; writing is `app`'s.

mod backmap;
pub mod cartesian;
mod geodesic;
mod statistics;

use backmap::all_atom;
pub use backmap::{AllAtom, AllAtomSummary};
pub use geodesic::{GeodesicSummary, geodesic};
pub use statistics::{FLAG_EXCESS_KT, MAX_LAG, MeanStd, PathStatistics};
use statistics::{statistics, walker_lag};

use std::time::Instant;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::geometry::Constraints;
use crate::paths::{PathOptions, TransitionPath, annealed_langevin, restraint_centres};
use crate::reference::{Reference, reference};
use crate::systems::{LoadedDenoiser, System};

/// What to sample.
#[derive(Debug, Clone)]
pub struct Request {
    /// Start state.
    pub from: String,
    /// Target state.
    pub to: String,
    /// Overrides `transition.paths`.
    pub paths: Option<usize>,
    /// The geodesic's constraints (avoid point in data units).
    pub constraints: Constraints,
    /// Seed of every random choice.
    pub seed: u64,
    /// Paths whose every frame is kept (for trajectory files).
    pub keep_frames: usize,
}

/// Wall times in seconds.
#[derive(Debug, Clone, Serialize)]
pub struct WallTimes {
    /// Geodesic optimisation.
    pub geodesic: f64,
    /// Annealed Langevin paths.
    pub langevin: f64,
    /// Reference barrier.
    pub reference: f64,
    /// Back-mapping.
    pub backmap: f64,
}

/// Everything `tps sample` computes.
pub struct Sampled {
    /// Geodesic points `(λ, z…)`, model units.
    pub geodesic: Vec<Vec<f64>>,
    /// The restraint centres the walkers follow, data units.
    pub centres: Vec<Vec<f64>>,
    /// Geodesic facts.
    pub geodesic_summary: GeodesicSummary,
    /// Paths run.
    pub paths: Vec<TransitionPath>,
    /// Statistics of the paths.
    pub statistics: PathStatistics,
    /// The reference barrier.
    pub reference: Reference,
    /// Plain-language warnings (e.g. paths crossing higher than the lowest pass).
    pub warnings: Vec<String>,
    /// Molecules: the all-atom movies.
    pub all_atom: Option<AllAtom>,
    /// Molecules in the variables: facts of the back-mapping.
    pub backmap: Option<AllAtomSummary>,
    /// Cartesian molecules: the field's metrics of all-atom paths.
    pub cartesian: Option<cartesian::CartesianSummary>,
    /// Wall time, s.
    pub wall_seconds: WallTimes,
    /// Potential evaluations of the Langevin paths.
    pub langevin_evaluations: u64,
}

/// Samples transition paths; `progress(iteration, objective)` follows the geodesic's
/// optimisation.
pub fn sample(
    system: &System,
    loaded: &LoadedDenoiser,
    request: &Request,
    mut progress: impl FnMut(usize, f64),
) -> Result<Sampled> {
    let file = &system.file;
    let (a, b) = (
        file.state(&request.from)?.to_vec(),
        file.state(&request.to)?.to_vec(),
    );
    if request.from == request.to {
        return Err(Error::Invalid(format!(
            "--from and --to are both `{}`",
            request.from
        )));
    }
    let potential = system.potential()?;
    let norm = &loaded.normalisation;
    let lm = file.transition.lambda_max;
    let cartesian = file.is_cartesian();
    // Walkers start in the state; Cartesian ones at its energy minimum in the model's frame.
    let (x_a, x_b) = match &system.molecule {
        Some(m) if cartesian => (
            system.cartesian(&m.minimum(&request.from, &a)),
            system.cartesian(&m.minimum(&request.to, &b)),
        ),
        _ => (a.clone(), b.clone()),
    };
    let start: Vec<f64> = std::iter::once(lm).chain(norm.to_model(&x_a)).collect();
    let end: Vec<f64> = std::iter::once(lm).chain(norm.to_model(&x_b)).collect();
    let t1 = Instant::now();
    let reference = reference(
        system,
        &request.from,
        &request.to,
        system
            .molecule
            .as_ref()
            .and_then(|m| m.relaxed_map.as_ref()),
    )?;
    let t_reference = t1.elapsed().as_secs_f64();
    let t0 = Instant::now();
    // The minimum-energy path lives in the variables: no route for Cartesian geodesics.
    let route = (!cartesian).then_some(reference.mep.as_slice());
    let (points, geodesic_summary) = geodesic(
        system,
        loaded,
        (&start, &end),
        &request.constraints,
        route,
        request.seed,
        &mut progress,
    )?;
    let t_geodesic = t0.elapsed().as_secs_f64();

    let mut transition = file.transition.clone();
    if let Some(p) = request.paths {
        if p == 0 {
            return Err(Error::Invalid("--paths must be at least 1".into()));
        }
        transition.paths = p;
    }
    let t2 = Instant::now();
    let molecule = system.molecule.as_ref().map(|m| &m.molecule);
    let fit = molecule.map(cartesian::RigidFit::new);
    let scores = match molecule {
        Some(m) if cartesian => Some(cartesian::FrameScores::new(
            m,
            system.surface()?,
            &reference.saddle,
        )),
        _ => None,
    };
    let weak = cartesian
        .then(|| cartesian::weak_restraint_point(&points))
        .flatten();
    let snapshots: Vec<usize> = weak
        .map(|(i, _)| i * transition.steps_per_point)
        .into_iter()
        .collect();
    let options = if cartesian {
        PathOptions {
            frames: request.keep_frames.min(transition.paths),
            stride: transition.backmap_every,
            energies: 0,
            near: None,
            observer: scores.as_ref().map(|o| o as &dyn crate::paths::Observer),
            fit: fit.as_ref().map(|f| f as &dyn crate::paths::CentreFit),
            snapshots: &snapshots,
        }
    } else {
        PathOptions {
            frames: request.keep_frames.min(transition.paths),
            energies: transition.paths.min(PROFILES),
            near: Some(&reference.saddle),
            ..PathOptions::default()
        }
    };
    let paths = annealed_langevin(
        potential,
        system.kt(),
        norm,
        &points,
        &x_a,
        &transition,
        &options,
        request.seed,
    )?;
    let t_langevin = t2.elapsed().as_secs_f64();

    let t3 = Instant::now();
    let judge = |p: &[TransitionPath]| statistics(system, p, &request.to, &reference);
    let (paths, statistics, all_atom, backmap, cartesian_summary) = match &system.molecule {
        Some(_) if cartesian => {
            let context = cartesian::Context {
                system,
                reference: &reference,
                states: (&request.from, &request.to),
                weak,
                stride: transition.backmap_every,
                seed: request.seed,
            };
            let (projected, stats, movies, summary) = cartesian::project(&context, &paths, judge)?;
            (projected, stats, Some(movies), None, Some(summary))
        }
        Some(_) => {
            let stats = judge(&paths);
            let (movies, summary) = all_atom(system, &paths, request, transition.backmap_every)?;
            (paths, stats, Some(movies), Some(summary), None)
        }
        None => {
            let stats = judge(&paths);
            (paths, stats, None, None, None)
        }
    };
    let t_backmap = t3.elapsed().as_secs_f64();
    let backmap = backmap.map(|b| AllAtomSummary {
        backmap_seconds: t_backmap,
        ..b
    });

    let mut warnings = Vec::new();
    if let Some(lag) = walker_lag(potential, norm, &points, &transition)
        && lag > MAX_LAG
    {
        warnings.push(format!(
            "the walkers lag behind their restraint: during one relaxation time the centre \
             moves {lag:.2} restraint widths; raise transition.steps_per_point or step_size"
        ));
    }
    if let Some(excess) = statistics.excess_over_minimax_kt
        && excess > FLAG_EXCESS_KT
    {
        warnings.push(format!(
            "paths cross higher than the lowest pass: the mean per-path maximum {:.3} is {:.1} kT \
             above the grid minimax bound {:.3}; see the README on energy-aware geodesics",
            statistics.max_energy_mean,
            excess,
            reference.minimax.unwrap_or(f64::NAN)
        ));
    }
    if statistics.fraction_reaching_target < 1.0 {
        warnings.push(format!(
            "only {:.0}% of the paths end nearest to {}",
            100.0 * statistics.fraction_reaching_target,
            request.to
        ));
    }
    if let Some(c) = &cartesian_summary
        && (c.max_bond_stretch_angstrom > MAX_BOND_STRETCH_ANGSTROM
            || c.min_bond_ratio < MIN_BOND_RATIO)
    {
        warnings.push(format!(
            "bonds strained beyond physical: longest stretch {:.3} Å, shortest bond {:.2} of \
             its rest length; lower transition.step_size",
            c.max_bond_stretch_angstrom, c.min_bond_ratio
        ));
    }

    Ok(Sampled {
        centres: restraint_centres(norm, &points),
        geodesic: points,
        geodesic_summary,
        langevin_evaluations: paths.iter().map(|p| p.frame_count as u64).sum(),
        paths,
        statistics,
        reference,
        warnings,
        all_atom,
        backmap,
        cartesian: cartesian_summary,
        wall_seconds: WallTimes {
            geodesic: t_geodesic,
            langevin: t_langevin,
            reference: t_reference,
            backmap: t_backmap,
        },
    })
}

/// All-atom paths with a bond stretched beyond this (Å) or compressed below this share of
/// its rest length are flagged.
pub const MAX_BOND_STRETCH_ANGSTROM: f64 = 0.25;
/// See [`MAX_BOND_STRETCH_ANGSTROM`].
pub const MIN_BOND_RATIO: f64 = 0.85;

/// Paths whose energy profiles are kept (for the profile plot).
pub const PROFILES: usize = 64;
