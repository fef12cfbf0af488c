//! Transition paths of a system between two named states: the spacetime geodesic between them
//! (with its constraints and the system's energy landscape), annealed Langevin paths along it,
//! their statistics judged against the reference barrier, and for molecules continuous
//! all-atom movies: by back-mapping paths in the variables, or directly from walkers on all
//! atoms (Cartesian molecules). This is what `tps sample` computes; writing is `app`'s.

pub mod cartesian;

use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::geometry::geodesic::straight_line;
use crate::geometry::{Constraints, Geodesic, GeodesicConfig, GeodesicProblem, Landscape};
use crate::mm::align::kabsch_rmsd;
use crate::mm::backmap::backmap;
use crate::mm::cv::angle_distance;
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

/// Statistics of the paths.
#[derive(Debug, Clone, Serialize)]
pub struct PathStatistics {
    /// Highest energy along each path.
    pub max_energy: Vec<f64>,
    /// Mean of the per-path maxima.
    pub max_energy_mean: f64,
    /// Sample standard deviation of single paths' maxima (not of the mean).
    pub max_energy_std: f64,
    /// Median of the per-path maxima.
    pub max_energy_median: f64,
    /// Standard error of the mean over paths (annealed-Langevin noise only: one model, one
    /// geodesic).
    pub max_energy_sem: f64,
    /// Nearest named state to each path's end.
    pub end_states: Vec<String>,
    /// Share of the paths ending nearest to the target state.
    pub fraction_reaching_target: f64,
    /// Each path's closest approach to the reference saddle (data units).
    pub closest_to_saddle: Vec<f64>,
    /// `(mean per-path maximum − grid minimax bound) / kT`, when the bound exists.
    pub excess_over_minimax_kt: Option<f64>,
}

/// Mean and sample standard deviation.
#[derive(Debug, Clone, Serialize)]
pub struct MeanStd {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (of single values, not of the mean).
    pub std: f64,
}

impl MeanStd {
    /// Of `values`.
    pub fn of(values: &[f64]) -> Self {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = if values.len() > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        Self { mean, std }
    }
}

/// Walkers lag when the restraint centre moves more than this many restraint widths during
/// one of their relaxation times.
pub const MAX_LAG: f64 = 0.5;

/// The largest distance, in restraint widths `s·e^(−λ/2)`, that the restraint centre moves
/// during one relaxation time `2/(ds·e^λ/s²)` of a walker, over the geodesic.
fn walker_lag(
    potential: &dyn crate::potential::Potential,
    norm: &crate::denoiser::Normalisation,
    geodesic: &[Vec<f64>],
    config: &crate::paths::TransitionConfig,
) -> Option<f64> {
    let s = norm.scale;
    geodesic
        .windows(2)
        .map(|w| {
            let lambda = w[0][0].min(w[1][0]);
            let d = potential.displacement(&norm.centre(&w[0]), &norm.centre(&w[1]));
            let per_step =
                d.iter().map(|v| v * v).sum::<f64>().sqrt() / config.steps_per_point as f64;
            let relaxation = 2.0 * s * s / (config.step_size * lambda.exp());
            per_step * relaxation / (s * (-0.5 * lambda).exp())
        })
        .reduce(f64::max)
}

/// Paths crossing this many kT above the minimax bound are flagged.
pub const FLAG_EXCESS_KT: f64 = 2.0;

/// All-atom movies of a molecule's paths.
#[derive(Debug, Clone)]
pub struct AllAtom {
    /// Structures (nm) of every written path, frame by frame.
    pub frames: Vec<Vec<Vec<[f64; 3]>>>,
    /// Names of the columns of `rows`.
    pub header: Vec<String>,
    /// One row of numbers per structure (Langevin step first).
    pub rows: Vec<Vec<Vec<f64>>>,
}

/// Structural facts of back-mapped movies.
#[derive(Debug, Clone, Serialize)]
pub struct AllAtomSummary {
    /// Structures per written path (every `transition.backmap_every`-th Langevin frame).
    pub structures_per_path: usize,
    /// Heavy-atom RMSD (Å, after superposition) of each written path's last structure to the
    /// energy minimum of the target basin.
    pub rmsd_to_target_angstrom: Vec<f64>,
    /// Mean of those RMSDs, Å.
    pub rmsd_to_target_mean_angstrom: f64,
    /// Share of all paths whose last point lies within 0.75 rad of the target state.
    pub fraction_within_0_75_rad: f64,
    /// Largest deviation (rad) between a back-mapped structure's variables and its path point.
    pub max_backmap_deviation_rad: f64,
    /// Wall time of the back-mapping, s.
    pub backmap_seconds: f64,
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

fn statistics(
    system: &System,
    paths: &[TransitionPath],
    to: &str,
    reference: &Reference,
) -> PathStatistics {
    let maxima: Vec<f64> = paths.iter().map(|p| p.max_energy).collect();
    let n = maxima.len() as f64;
    let MeanStd { mean, std } = MeanStd::of(&maxima);
    let mut sorted = maxima.clone();
    sorted.sort_by(f64::total_cmp);
    let median = if sorted.len() % 2 == 1 {
        sorted[sorted.len() / 2]
    } else {
        0.5 * (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2])
    };
    let end_states: Vec<String> = paths
        .iter()
        .map(|p| system.nearest_state(&p.last).0.to_string())
        .collect();
    let reached = end_states.iter().filter(|s| *s == to).count();
    PathStatistics {
        max_energy_mean: mean,
        max_energy_std: std,
        max_energy_median: median,
        max_energy_sem: std / n.sqrt(),
        fraction_reaching_target: reached as f64 / n,
        end_states,
        closest_to_saddle: paths
            .iter()
            .map(|p| p.closest_approach.unwrap_or(f64::NAN))
            .collect(),
        excess_over_minimax_kt: reference.minimax.map(|m| (mean - m) / system.kt()),
        max_energy: maxima,
    }
}

/// One path's structures and its `(step, path point…, back-mapped point…)` rows.
type Movie = (Vec<Vec<[f64; 3]>>, Vec<Vec<f64>>);

/// Back-maps every written path to a continuous all-atom movie (restrained minimisation from
/// the previous structure, every `every`-th Langevin frame and the last).
fn all_atom(
    system: &System,
    paths: &[TransitionPath],
    request: &Request,
    every: usize,
) -> Result<(AllAtom, AllAtomSummary)> {
    let molecular = system.molecule.as_ref().expect("a molecule");
    let m = &molecular.molecule;
    let (a, b) = (
        system.file.state(&request.from)?,
        system.file.state(&request.to)?,
    );
    let start = molecular.minimum(&request.from, a);
    let target = molecular.minimum(&request.to, b);
    let heavy = m.topology.heavy_atoms();
    let written: Vec<&TransitionPath> = paths.iter().filter(|p| !p.frames.is_empty()).collect();
    let results: Vec<Movie> = written
        .par_iter()
        .map(|p| {
            let mut steps: Vec<usize> = (0..p.frames.len()).step_by(every).collect();
            if steps.last() != Some(&(p.frames.len() - 1)) {
                steps.push(p.frames.len() - 1);
            }
            let targets: Vec<Vec<f64>> = steps.iter().map(|&s| p.frames[s].clone()).collect();
            let frames = backmap(&m.forcefield, &m.cv, &start, &targets, 200);
            let rows = steps
                .iter()
                .zip(&targets)
                .zip(&frames)
                .map(|((&s, t), x)| {
                    std::iter::once(s as f64)
                        .chain(t.iter().copied())
                        .chain(m.cv.values(x))
                        .collect()
                })
                .collect();
            (frames, rows)
        })
        .collect();
    let rmsd: Vec<f64> = results
        .iter()
        .map(|(f, _)| 10.0 * kabsch_rmsd(f.last().expect("frames"), &target, &heavy))
        .collect();
    let within = paths
        .iter()
        .filter(|p| angle_distance(&p.last, b) <= 0.75)
        .count();
    let d = m.cv.len();
    let deviation = results
        .iter()
        .flat_map(|(_, rows)| rows.iter())
        .map(|r| {
            (0..d)
                .map(|k| crate::mm::cv::angle_difference(r[1 + d + k], r[1 + k]).abs())
                .fold(0.0, f64::max)
        })
        .fold(0.0, f64::max);
    let (frames, rows): (Vec<_>, Vec<_>) = results.into_iter().unzip();
    let names = system.file.coordinate_names();
    let mut header = vec!["langevin_step".to_string()];
    header.extend(names.iter().map(|n| format!("{n}_path")));
    header.extend(names.iter().cloned());
    let summary = AllAtomSummary {
        structures_per_path: rows.first().map_or(0, Vec::len),
        rmsd_to_target_mean_angstrom: rmsd.iter().sum::<f64>() / rmsd.len().max(1) as f64,
        rmsd_to_target_angstrom: rmsd,
        fraction_within_0_75_rad: within as f64 / paths.len() as f64,
        max_backmap_deviation_rad: deviation,
        backmap_seconds: 0.0,
    };
    Ok((
        AllAtom {
            frames,
            header,
            rows,
        },
        summary,
    ))
}
