//! `tps compare`: every route between two states on the same seeds, paths and Langevin noise,
//! judged on one scoring surface, in one table (CSV, JSON) and one plot, with the reference
//! bounds beside them.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::sample::SampleOptions;
use super::write_json;
use crate::atomic::Staged;
use crate::error::{Error, Result};
use crate::output::plot::{self, Group};
use crate::output::table;
use crate::potential::Potential;
use crate::progress::Progress;
use crate::provenance::Provenance;
use crate::reference::Reference;
use crate::route::RouteKind;
use crate::system::System;
use crate::workflows::committor::{ShotJudge, ShotSettings};
use crate::workflows::transition::Sampler;
use crate::workflows::transition::compare::{self, RouteRow};

/// Options of `tps compare`: those of `tps sample` (its route ignored) with routes and seeds.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// States, paths, constraints, output root and device.
    pub sample: SampleOptions,
    /// The routes, in table order.
    pub routes: Vec<RouteKind>,
    /// The seeds (the Langevin noise and geodesic probes; one model).
    pub seeds: Vec<u64>,
    /// Other system files of the same surface and states (another model of it: e.g. one of
    /// the tilted ensemble) whose model-based routes join the table, on the same seeds.
    pub with: Vec<PathBuf>,
    /// Shoot from every path's top (`--committor`) with these settings.
    pub committor: Option<ShotSettings>,
}

/// `compare.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Name of the system.
    pub system: String,
    /// Start state.
    pub from: String,
    /// Target state.
    pub to: String,
    /// Unit of every energy here.
    pub energy_unit: String,
    /// Thermal energy.
    pub kt: f64,
    /// What the statistic is.
    pub statistic: String,
    /// The surface every maximum is judged on.
    pub scored_on: String,
    /// Whether it is exact or independent of the guiding surface.
    pub scoring_independent: bool,
    /// Paths per seed.
    pub paths: usize,
    /// What varies between seeds.
    pub spread: String,
    /// One row per route.
    pub routes: Vec<RouteRow>,
    /// The reference bounds on the scoring surface.
    pub reference: Reference,
    /// Command, configuration, seeds and inputs.
    pub provenance: Provenance,
    /// Wall time, s.
    pub wall_seconds: f64,
}

/// The most seeds one comparison runs (each a whole run per route).
const MAX_SEEDS: u64 = 10_000;

/// Parses `0-4` or `0,2,5` (or a mix: `0-2,7`).
pub fn parse_seeds(text: &str) -> Result<Vec<u64>> {
    let bad = || {
        Error::Invalid(format!(
            "--seeds: `{text}` is not a list of seeds (expected e.g. `0-4` or `0,1,7`)"
        ))
    };
    let mut seeds = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u64, u64) = (
                    a.trim().parse().map_err(|_| bad())?,
                    b.trim().parse().map_err(|_| bad())?,
                );
                if b < a {
                    return Err(Error::Invalid(format!(
                        "--seeds: the range `{part}` runs backwards (write the lower seed first)"
                    )));
                }
                if b - a >= MAX_SEEDS {
                    return Err(Error::Invalid(format!(
                        "--seeds: the range `{part}` names {} seeds; at most {MAX_SEEDS} are \
                         compared at once",
                        (b - a).saturating_add(1)
                    )));
                }
                seeds.extend(a..=b);
            }
            None => seeds.push(part.parse().map_err(|_| bad())?),
        }
    }
    let mut sorted = seeds.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if seeds.is_empty() || sorted.len() != seeds.len() {
        return Err(Error::Invalid(format!(
            "--seeds: `{text}` must name each seed once"
        )));
    }
    Ok(seeds)
}

/// Parses `geodesic,reference,…`.
pub fn parse_routes(text: &str) -> Result<Vec<RouteKind>> {
    let routes: Vec<RouteKind> = text
        .split(',')
        .map(|r| r.trim().parse().map_err(|e: Error| e.about("--routes")))
        .collect::<Result<_>>()?;
    let mut sorted = routes.clone();
    sorted.sort_by_key(|r| *r as u8);
    sorted.dedup();
    if routes.is_empty() || sorted.len() != routes.len() {
        return Err(Error::Invalid(format!(
            "--routes: `{text}` must name each route once"
        )));
    }
    Ok(routes)
}

/// Runs `tps compare`; returns the comparison and the output directory.
pub fn run(
    path: &Path,
    options: &CompareOptions,
    progress: &dyn Progress,
) -> Result<(Comparison, PathBuf)> {
    let t0 = Instant::now();
    let o = &options.sample;
    let system = System::load(path)?;
    let file = &system.file;
    super::check_states(file, &o.from, &o.to)?;
    super::check_paths_flag(o.paths)?;
    if let Some(settings) = &options.committor {
        settings.check()?;
    }
    let request = o.request(file)?;
    let target = o
        .out_root
        .join(&file.name)
        .join(format!("compare-{}-{}", o.from, o.to));
    system.potential()?;
    let loaded = system.denoiser(o.backend)?;
    let others: Vec<System> = options
        .with
        .iter()
        .map(|p| same_surface(&system, p, o))
        .collect::<Result<_>>()?;
    let staged = Staged::new(&target)?;
    let sampler = Sampler::new(&system, Some(&loaded), &o.from, &o.to)?;
    let judge = judge_of(&system, options)?;
    let model_routes = options.routes.iter().filter(|r| r.needs_model()).count();
    let runs =
        ((options.routes.len() + options.with.len() * model_routes) * options.seeds.len()) as u64;
    progress.stage("compare", runs);
    let rows = compare::compare(
        &sampler,
        &options.routes,
        &options.seeds,
        &request,
        judge.as_ref(),
        |r, s| {
            progress.message(&format!("{r}, seed {s}"));
            progress.add(1);
        },
    )?;
    let mut rows = rows;
    for other in &others {
        rows.extend(other_rows(other, options, &request, progress)?);
    }
    let scoring = sampler.scoring();
    let provenance = system.provenance(Some(o.seed));
    let comparison = Comparison {
        system: file.name.clone(),
        from: o.from.clone(),
        to: o.to.clone(),
        energy_unit: system.energy_unit().into(),
        kt: system.kt(),
        statistic: "per-path maximum energy on the scoring surface".into(),
        scored_on: scoring.description.clone(),
        scoring_independent: scoring.independent,
        paths: o.paths.unwrap_or(file.transition.paths),
        spread: "seeds vary the Langevin noise (and Hutchinson probes) on one model; the \
                 model, its data and its surface are fixed"
            .into(),
        routes: rows,
        reference: sampler.judged_reference().clone(),
        provenance,
        wall_seconds: t0.elapsed().as_secs_f64(),
    };
    write(staged.path(), &comparison)?;
    Ok((comparison, staged.publish()?))
}

/// The system in `path`, refused unless it shares `system`'s surface, temperature and states.
fn same_surface(system: &System, path: &Path, o: &SampleOptions) -> Result<System> {
    let other = System::load(path)?;
    let same = |what: &str, equal: bool| -> Result<()> {
        if equal {
            Ok(())
        } else {
            Err(Error::Invalid(format!(
                "--with {}: its {what} differs from {}'s; compare models of one surface",
                path.display(),
                system.path.display()
            )))
        }
    };
    same(
        "temperature",
        (other.kt() - system.kt()).abs() <= 1e-12 * system.kt(),
    )?;
    same("domain", other.file.domain() == system.file.domain())?;
    same(
        "guiding surface",
        same_values(system.surface()?, other.surface()?, &system.file.domain()),
    )?;
    same(
        "scoring surface",
        same_values(
            system.scoring_surface()?.surface,
            other.scoring_surface()?.surface,
            &system.file.domain(),
        ),
    )?;
    for state in [&o.from, &o.to] {
        same(
            &format!("state {state}"),
            other.file.state(state).ok() == system.file.state(state).ok(),
        )?;
    }
    // Its model must be there and fit it, before any work.
    other.potential()?;
    other.denoiser(o.backend)?;
    Ok(other)
}

/// Whether two surfaces agree (to 1e-9) on a 64-point-per-axis grid over `domain`: the same
/// surface, whichever file holds it (two `tps train` runs write the same values under
/// different headers).
fn same_values(a: &dyn Potential, b: &dyn Potential, domain: &[[f64; 2]]) -> bool {
    let n: usize = 64;
    let mut x = vec![0.0; domain.len()];
    (0..n.pow(domain.len() as u32)).all(|k| {
        let mut k = k;
        for (v, d) in x.iter_mut().zip(domain) {
            *v = d[0] + (d[1] - d[0]) * ((k % n) as f64 + 0.5) / n as f64;
            k /= n;
        }
        let (u, w) = (a.energy(&x), b.energy(&x));
        u == w || (u - w).abs() <= 1e-9 * (1.0 + u.abs())
    })
}

/// The committor's judge of `system`'s routes, when `--committor` asks for one.
fn judge_of<'a>(system: &'a System, options: &CompareOptions) -> Result<Option<ShotJudge<'a>>> {
    let o = &options.sample;
    options
        .committor
        .map(|settings| ShotJudge::new(system, &o.from, &o.to, settings))
        .transpose()
}

/// The model-based routes of `other` (its model-free route would repeat the first system's
/// rows).
fn other_rows(
    other: &System,
    options: &CompareOptions,
    base: &crate::workflows::transition::Request,
    progress: &dyn Progress,
) -> Result<Vec<RouteRow>> {
    let o = &options.sample;
    let routes: Vec<RouteKind> = options
        .routes
        .iter()
        .copied()
        .filter(|r| r.needs_model())
        .collect();
    let loaded = other.denoiser(o.backend)?;
    let sampler = Sampler::new(other, Some(&loaded), &o.from, &o.to)?;
    let judge = judge_of(other, options)?;
    compare::compare(
        &sampler,
        &routes,
        &options.seeds,
        base,
        judge.as_ref(),
        |r, s| {
            progress.message(&format!("{r} ({}), seed {s}", other.file.name));
            progress.add(1);
        },
    )
}

impl Comparison {
    /// A row's label: its route, with the model's system where several are compared.
    pub fn label(&self, r: &RouteRow) -> String {
        let several = self.routes.iter().any(|x| x.model != self.routes[0].model);
        if several && r.route.needs_model() {
            format!("{} [{}]", r.route, r.model)
        } else {
            r.route.to_string()
        }
    }
}

fn write(dir: &Path, c: &Comparison) -> Result<()> {
    let header: Vec<String> = [
        "route",
        "seeds",
        "seed_mean",
        "seed_std",
        "seed_sem",
        "pooled_mean",
        "pooled_std",
        "reach",
        "guiding_evaluations",
        "wall_seconds",
        "tops_committor_distance_from_half",
        "tops_committor_distance_std",
        "tops_committor_distance_sem",
        "tops_committor_fraction_near_half",
    ]
    .map(String::from)
    .to_vec();
    let rows: Vec<Vec<f64>> = c
        .routes
        .iter()
        .map(|r| {
            vec![
                r.seeds.len() as f64,
                r.seed_means.mean,
                r.seed_means.std,
                r.seed_means_sem,
                r.pooled.mean,
                r.pooled.std,
                r.fraction_reaching_target,
                r.guiding_evaluations,
                r.wall_seconds,
                r.committor
                    .as_ref()
                    .map_or(f64::NAN, |c| c.seed_distances.mean),
                r.committor
                    .as_ref()
                    .map_or(f64::NAN, |c| c.seed_distances.std),
                r.committor
                    .as_ref()
                    .map_or(f64::NAN, |c| c.seed_distances_sem),
                r.committor
                    .as_ref()
                    .map_or(f64::NAN, |c| c.fraction_near_half),
            ]
        })
        .collect();
    let labels: Vec<String> = c.routes.iter().map(|r| c.label(r)).collect();
    table::write_labelled_csv(&dir.join("compare.csv"), &header, &labels, &rows)?;
    write_json(&dir.join("compare.json"), c)?;
    committor_figure(dir, c)?;
    let unit = &c.energy_unit;
    let references = super::sample::figures::reference_lines(&c.reference, unit);
    let groups: Vec<Group> = c
        .routes
        .iter()
        .map(|r| Group {
            label: c.label(r),
            values: r.maxima.clone(),
            mean: (
                r.pooled.mean,
                r.seed_means_sem
                    .max(r.pooled.std / (r.maxima.len() as f64).sqrt()),
            ),
        })
        .collect();
    plot::distributions(
        &dir.join("compare.png"),
        &format!(
            "{}: {} → {}, per-path maxima, {} seed(s) × {} paths",
            c.system,
            c.from,
            c.to,
            c.routes.first().map_or(0, |r| r.seeds.len()),
            c.paths
        ),
        &if unit.is_empty() {
            format!("highest energy on the scoring surface (kT = {})", c.kt)
        } else {
            format!("highest free energy on the scoring surface ({unit})")
        },
        &groups,
        &references,
    )
}

/// `compare_committor.png`: each route's pooled histogram of its tops' `p_B`, side by side.
fn committor_figure(dir: &Path, c: &Comparison) -> Result<()> {
    let rows: Vec<(String, &[usize])> = c
        .routes
        .iter()
        .filter_map(|r| Some((c.label(r), &r.committor.as_ref()?.pooled)))
        .filter(|(_, h)| h.frames > 0)
        .map(|(label, h)| (label, &h.counts[..]))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    plot::histograms(
        &dir.join("compare_committor.png"),
        &format!(
            "{}: {} → {}, committor of each path's top",
            c.system, c.from, c.to
        ),
        "p_B (shots reaching the target first)",
        (0.0, 1.0),
        &rows,
        &[0.5],
    )
}
