//! Routes side by side: every route on the same seeds, paths and Langevin noise, judged on
//! the same scoring surface; and the model-free route beside a single run, so that every run
//! says what its model bought.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{MeanStd, PathStatistics, Request, Sampled, Sampler};
use crate::error::Result;
use crate::route::RouteKind;
use crate::workflows::committor::{Committor, Histogram, ShotJudge};

/// The model-free route run beside another, on the same seed and paths.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Beside {
    /// Always the reference route.
    pub route: RouteKind,
    /// Mean of its per-path maxima on the scoring surface.
    pub max_energy_mean: f64,
    /// Standard error of that mean.
    pub max_energy_sem: f64,
    /// Share of its paths ending in the target's basin.
    pub fraction_reaching_target: f64,
    /// Each of its paths' maxima, in path order.
    pub max_energy: Vec<f64>,
    /// The basin each of its paths ends in.
    pub end_states: Vec<String>,
    /// This run's mean minus the reference route's (negative: this run crossed lower).
    pub margin: f64,
    /// Standard error of the margin (the two means' errors combined).
    pub margin_sem: f64,
    /// The margin in words.
    pub verdict: String,
}

/// Runs the reference route beside `sampled` (made by `request`); `None` when `request` is
/// the reference route.
pub fn beside(sampler: &Sampler, request: &Request, sampled: &Sampled) -> Result<Option<Beside>> {
    if request.route == RouteKind::Reference {
        return Ok(None);
    }
    let baseline = sampler.run(
        &Request {
            route: RouteKind::Reference,
            keep_frames: 0,
            planned: None,
            ..request.clone()
        },
        &mut |_, _| {},
    )?;
    Ok(Some(Beside::of(
        request.route,
        &sampled.statistics,
        &baseline.statistics,
    )))
}

impl Beside {
    /// The model-free statistics `baseline` beside those of a run along `route`.
    pub fn of(route: RouteKind, run: &PathStatistics, baseline: &PathStatistics) -> Self {
        let margin = run.max_energy_mean - baseline.max_energy_mean;
        let margin_sem = run.max_energy_sem.hypot(baseline.max_energy_sem);
        Self {
            route: RouteKind::Reference,
            max_energy_mean: baseline.max_energy_mean,
            max_energy_sem: baseline.max_energy_sem,
            fraction_reaching_target: baseline.fraction_reaching_target,
            max_energy: baseline.max_energy.clone(),
            end_states: baseline.end_states.clone(),
            margin,
            margin_sem,
            verdict: verdict(route, margin, margin_sem),
        }
    }
}

/// A margin over the model-free route in words: beyond two standard errors it is a
/// difference, within them it is noise.
pub fn verdict(route: RouteKind, margin: f64, sem: f64) -> String {
    if margin > 2.0 * sem {
        format!(
            "the model-free reference route crosses lower than the {route} route by \
             {margin:.3} ± {sem:.3}: on this score the model does not help here"
        )
    } else if margin < -2.0 * sem {
        format!(
            "the {route} route crosses lower than the model-free reference route by {:.3} ± \
             {sem:.3}",
            -margin
        )
    } else {
        format!(
            "the {route} route and the model-free reference route cross within noise of each \
             other ({margin:+.3} ± {sem:.3})"
        )
    }
}

/// One route on one seed.
#[derive(Debug, Clone, Serialize)]
pub struct SeedRow {
    /// The seed (Langevin noise and geodesic probes).
    pub seed: u64,
    /// Mean of the per-path maxima on the scoring surface.
    pub max_energy_mean: f64,
    /// Spread of single paths.
    pub max_energy_std: f64,
    /// Standard error of the mean.
    pub max_energy_sem: f64,
    /// Share of paths ending in the target's basin.
    pub fraction_reaching_target: f64,
    /// Energy evaluations that guided the paths (walkers and route).
    pub guiding_evaluations: u64,
    /// Of which the route's (constraint, MEP, elastic band).
    pub route_evaluations: u64,
    /// Judging evaluations (not guidance).
    pub scoring_evaluations: u64,
    /// Wall time of the run (route and walkers), s.
    pub wall_seconds: f64,
}

/// One route over every seed.
#[derive(Debug, Clone, Serialize)]
pub struct RouteRow {
    /// The route.
    pub route: RouteKind,
    /// The system whose model it used, and the ensemble that model learnt.
    pub model: String,
    /// What it follows.
    pub follows: String,
    /// What moved its walkers.
    pub guided_by: String,
    /// Every seed.
    pub seeds: Vec<SeedRow>,
    /// Mean and spread of the per-seed means.
    pub seed_means: MeanStd,
    /// Standard error of their mean (spread over √seeds).
    pub seed_means_sem: f64,
    /// All single paths pooled.
    pub pooled: MeanStd,
    /// Share of all paths ending in the target's basin.
    pub fraction_reaching_target: f64,
    /// Paths per basin they end in.
    pub end_basins: BTreeMap<String, usize>,
    /// Every path's maximum, seed after seed.
    pub maxima: Vec<f64>,
    /// Mean guiding evaluations per seed.
    pub guiding_evaluations: f64,
    /// Mean wall time per seed, s.
    pub wall_seconds: f64,
    /// The committor of each path's top, when asked for.
    pub committor: Option<TopsCommittor>,
}

/// How close to ½ the committors of a route's tops (each path's highest frame on the scoring
/// surface) are, seed by seed.
#[derive(Debug, Clone, Serialize)]
pub struct TopsCommittor {
    /// Shots per top.
    pub shots: usize,
    /// Each seed's tops.
    pub per_seed: Vec<Histogram>,
    /// Mean and spread of the per-seed means of `|p_B − ½|`.
    pub seed_distances: MeanStd,
    /// Standard error of their mean.
    pub seed_distances_sem: f64,
    /// Mean over seeds of the share of tops with `p_B` in [0.3, 0.7].
    pub fraction_near_half: f64,
    /// Every seed's tops pooled.
    pub pooled: Histogram,
    /// Shots that committed to neither core in time (left out of `p_B`).
    pub undecided: usize,
}

impl TopsCommittor {
    fn of(shots: usize, per_seed: Vec<Vec<Committor>>) -> Self {
        let histograms: Vec<Histogram> = per_seed.iter().map(|c| Histogram::of(c)).collect();
        let distances: Vec<f64> = histograms
            .iter()
            .map(|h| h.mean_distance_from_half)
            .collect();
        let seed_distances = MeanStd::of(&distances);
        let all: Vec<Committor> = per_seed.into_iter().flatten().collect();
        Self {
            shots,
            seed_distances_sem: seed_distances.std / (distances.len() as f64).sqrt(),
            seed_distances,
            fraction_near_half: histograms.iter().map(|h| h.fraction_near_half).sum::<f64>()
                / histograms.len() as f64,
            undecided: all.iter().map(|c| c.undecided).sum(),
            pooled: Histogram::of(&all),
            per_seed: histograms,
        }
    }
}

/// The committors of the tops of `sampled`'s paths (each path's highest frame on the scoring
/// surface, as its trajectory holds it), shot with `seed`.
fn tops_committor(judge: &ShotJudge, sampled: &Sampled, seed: u64) -> Vec<Committor> {
    let tops: Vec<Vec<f64>> = sampled
        .structures()
        .into_iter()
        .filter_map(|frames| judge.top(&frames).map(|k| frames[k].clone()))
        .collect();
    judge.shoot(&tops, 0, seed, &|_| {})
}

/// Runs every route of `routes` on every seed of `seeds` with `base` (route, seed and kept
/// frames replaced); with a `judge`, shoots from every path's top with the run's seed.
/// `progress(route, seed)` is called before each run.
pub fn compare(
    sampler: &Sampler,
    routes: &[RouteKind],
    seeds: &[u64],
    base: &Request,
    judge: Option<&ShotJudge>,
    mut progress: impl FnMut(RouteKind, u64),
) -> Result<Vec<RouteRow>> {
    routes
        .iter()
        .map(|&route| {
            let mut rows = Vec::new();
            let mut maxima = Vec::new();
            let mut end_basins = BTreeMap::new();
            let mut summary = None;
            let mut committors = Vec::new();
            for &seed in seeds {
                progress(route, seed);
                let request = Request {
                    route,
                    seed,
                    keep_frames: if judge.is_some() { usize::MAX } else { 0 },
                    planned: None,
                    ..base.clone()
                };
                let s = sampler.run(&request, &mut |_, _| {})?;
                if let Some(judge) = judge {
                    committors.push(tops_committor(judge, &s, seed));
                }
                rows.push(seed_row(seed, &s));
                maxima.extend(s.statistics.max_energy.iter().copied());
                for b in &s.statistics.end_states {
                    *end_basins.entry(b.clone()).or_insert(0) += 1;
                }
                summary.get_or_insert(s.route);
            }
            let summary = summary.expect("at least one seed");
            let means: Vec<f64> = rows.iter().map(|r| r.max_energy_mean).collect();
            let seed_means = MeanStd::of(&means);
            let reached: f64 =
                rows.iter().map(|r| r.fraction_reaching_target).sum::<f64>() / rows.len() as f64;
            let file = &sampler.system().file;
            Ok(RouteRow {
                route,
                model: format!("{} ({})", file.name, file.training.ensemble_description()),
                follows: summary.follows,
                guided_by: summary.guided_by,
                seed_means_sem: seed_means.std / (rows.len() as f64).sqrt(),
                seed_means,
                pooled: MeanStd::of(&maxima),
                fraction_reaching_target: reached,
                end_basins,
                guiding_evaluations: rows
                    .iter()
                    .map(|r| r.guiding_evaluations as f64)
                    .sum::<f64>()
                    / rows.len() as f64,
                wall_seconds: rows.iter().map(|r| r.wall_seconds).sum::<f64>() / rows.len() as f64,
                maxima,
                seeds: rows,
                committor: judge.map(|j| TopsCommittor::of(j.settings().shots, committors)),
            })
        })
        .collect()
}

fn seed_row(seed: u64, s: &Sampled) -> SeedRow {
    let st = &s.statistics;
    SeedRow {
        seed,
        max_energy_mean: st.max_energy_mean,
        max_energy_std: st.max_energy_std,
        max_energy_sem: st.max_energy_sem,
        fraction_reaching_target: st.fraction_reaching_target,
        guiding_evaluations: s.evaluations.guiding(),
        route_evaluations: s.evaluations.route,
        scoring_evaluations: s.evaluations.scoring,
        wall_seconds: s.wall_seconds.route + s.wall_seconds.langevin,
    }
}
