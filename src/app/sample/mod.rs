//! `tps sample`: transition paths between two states, written under
//! `out/<system>/<from>-<to>/` with the reference they are judged against and the model-free
//! route beside them; with `--shard K/N`, one part of such a run (`tps merge` puts the parts
//! together), along a route planned once (`--geodesic DIR`).

pub mod figures;
pub mod files;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{ConstraintOptions, write_json};
use crate::atomic::Staged;
use crate::compute::Backend;
use crate::error::Result;
use crate::model::file::ModelMetadata;
use crate::progress::Progress;
use crate::provenance::Provenance;
use crate::reference::Reference;
use crate::representation::cartesian::CartesianSummary;
use crate::representation::variables::AllAtomSummary;
use crate::route::{RouteFile, RouteKind, RouteSummary};
use crate::system::{LoadedDenoiser, System, SystemFile};
use crate::workflows::transition::compare::{self, Beside};
use crate::workflows::transition::planned;
use crate::workflows::transition::{
    self, MeanStd, PathStatistics, Request, Sampled, Sampler, Shard,
};

/// Options of `tps sample` beyond the system file.
#[derive(Debug, Clone)]
pub struct SampleOptions {
    /// Start state.
    pub from: String,
    /// Target state.
    pub to: String,
    /// Overrides `transition.paths`.
    pub paths: Option<usize>,
    /// Overrides `transition.route`.
    pub route: Option<RouteKind>,
    /// Switches off the energy-aware geodesic's start along the minimum-energy path.
    pub no_mep_start: bool,
    /// Seed of every random choice.
    pub seed: u64,
    /// Geodesic constraints over the file's.
    pub constraints: ConstraintOptions,
    /// Root of the outputs (`out`).
    pub out_root: PathBuf,
    /// Trajectory files are written for at most this many paths.
    pub max_trajectories: usize,
    /// Device of the model work.
    pub backend: Backend,
    /// Only this part of the paths.
    pub shard: Option<Shard>,
    /// The directory of a route planned before (`tps geodesic --from --to`).
    pub geodesic: Option<PathBuf>,
}

/// Shows the route's planning: its step and, every tenth, its objective.
fn route_progress<'a>(
    progress: &'a dyn Progress,
    request: &Request,
    file: &SystemFile,
) -> impl FnMut(usize, f64) + 'a {
    progress.stage(
        &format!("{} route", request.route),
        file.geodesic.steps as u64,
    );
    move |step, objective| {
        progress.set(step as u64);
        if step % 10 == 0 {
            progress.message(&format!("objective {objective:.4}"));
        }
    }
}

impl ShardInfo {
    /// What `tps merge` needs of shard `shard` of a run of `total` paths.
    fn of(shard: Shard, total: usize, sampled: &Sampled, drawing: &figures::Drawing) -> Self {
        Self {
            shard,
            first: sampled.indices.start,
            end: sampled.indices.end,
            total,
            route_sha256: planned::points_sha256(&sampled.points),
            guide_max: sampled
                .paths
                .iter()
                .map(|p| p.guide_max.unwrap_or(f64::NAN))
                .collect(),
            drawing: drawing.clone(),
        }
    }
}

impl SampleOptions {
    /// Paths from `from` to `to` with the file's settings, seed 0, no trajectory files, under
    /// `out_root` on `backend`: the base the commands add their options to.
    pub fn between(from: String, to: String, out_root: PathBuf, backend: Backend) -> Self {
        Self {
            from,
            to,
            paths: None,
            route: None,
            no_mep_start: false,
            seed: 0,
            constraints: ConstraintOptions::default(),
            out_root,
            max_trajectories: 0,
            backend,
            shard: None,
            geodesic: None,
        }
    }

    /// The run these options ask for, on a system file.
    pub fn request(&self, file: &crate::system::SystemFile) -> Result<Request> {
        let route = self.route.unwrap_or(file.transition.route);
        Ok(Request {
            route,
            paths: self.paths,
            constraints: self.constraints.apply(&file.geodesic.constraints)?,
            mep_start: file.transition.mep_start && !self.no_mep_start,
            seed: self.seed,
            keep_frames: self.max_trajectories,
            shard: self.shard,
            planned: None,
        })
    }
}

/// Energy evaluations spent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SummaryEvaluations {
    /// This run's: walkers, route and scoring.
    #[serde(flatten)]
    pub run: transition::Evaluations,
    /// What the training data cost, apart from this run.
    pub training_data: Option<TrainingData>,
    /// The reference bounds' (grid minimax and string method on the guiding surface).
    pub reference_bounds: u64,
}

/// The evaluations behind a model's training data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainingData {
    /// Of the surface, by the replica exchange that drew the samples (0 for frames).
    pub surface_evaluations: u64,
    /// Of the force field, by the metadynamics runs that made a molecule's surfaces (every
    /// walker; the guiding and the independent run).
    pub force_field_evaluations: u64,
}

/// Wall times in seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SummaryWallTimes {
    /// The stages of the computation.
    #[serde(flatten)]
    pub stages: transition::WallTimes,
    /// The references.
    pub reference: f64,
    /// The model-free route run beside.
    pub reference_route_beside: f64,
    /// Writing the outputs.
    pub outputs: f64,
    /// Everything.
    pub total: f64,
}

/// The annealed-Langevin restraint in data units, next to the paper's convention.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RestraintSummary {
    /// `e^λ_max / s²` per squared data unit: what every route's walkers feel at the ends.
    pub stiffness_at_ends: f64,
    /// `e^λ_max`: the paper's stiffness on unscaled data (`s = 1`).
    pub paper_stiffness_at_ends: f64,
    /// The model's data scale `s`.
    pub data_scale: f64,
    /// Width `s·e^(−λ_max/2)`, data units.
    pub width_at_ends: f64,
}

impl RestraintSummary {
    /// The restraint at `λ_max` on data of scale `s`.
    fn at_ends(lambda_max: f64, s: f64) -> Self {
        Self {
            stiffness_at_ends: lambda_max.exp() / (s * s),
            paper_stiffness_at_ends: lambda_max.exp(),
            data_scale: s,
            width_at_ends: s * (-0.5 * lambda_max).exp(),
        }
    }
}

/// `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Name of the system.
    pub system: String,
    /// Start state.
    pub from: String,
    /// Target state.
    pub to: String,
    /// Thermal energy kT.
    pub kt: f64,
    /// Unit of every energy here.
    pub energy_unit: String,
    /// Log-SNR of the route's ends (model units).
    pub lambda_max: f64,
    /// Paths run.
    pub paths: usize,
    /// Paths written as trajectory files (the first ones).
    pub trajectories_written: usize,
    /// What one trajectory frame is.
    pub frames: String,
    /// The model file used (none for exact denoisers).
    pub model: Option<String>,
    /// The ensemble the model learnt, and what it means for the routes.
    #[serde(default)]
    pub model_ensemble: Option<String>,
    /// The route: what the walkers follow and what moved them.
    pub route: RouteSummary,
    /// The surface every path maximum below is judged on.
    pub scored_on: String,
    /// Whether that surface is exact or independent of the one that guided.
    pub scoring_independent: bool,
    /// The restraint.
    pub restraint: RestraintSummary,
    /// Statistics of the paths on the scoring surface.
    pub path_results: PathStatistics,
    /// Per-path maxima on the guiding surface, when it is not the scoring one.
    pub on_guiding_surface: Option<MeanStd>,
    /// The reference barrier on the guiding surface.
    pub reference: Reference,
    /// The reference barrier on the scoring surface, when it is another.
    pub scoring_reference: Option<Reference>,
    /// The model-free route on the same seed and paths.
    pub reference_route_beside: Option<Beside>,
    /// Things that went wrong or look wrong.
    pub warnings: Vec<String>,
    /// Things to know.
    pub notes: Vec<String>,
    /// Energy evaluations spent.
    pub evaluations: SummaryEvaluations,
    /// Molecules in the variables: the back-mapped all-atom movies.
    pub molecule: Option<AllAtomSummary>,
    /// Cartesian molecules: the all-atom paths, judged in the field's metrics.
    pub all_atom_paths: Option<CartesianSummary>,
    /// Wall time, s.
    pub wall_seconds: SummaryWallTimes,
    /// Command, configuration, seed and inputs.
    pub provenance: Provenance,
    /// Files written, relative to the output directory.
    pub files: Vec<String>,
    /// A part of a run: which, its paths, and what every part must share.
    pub shard: Option<ShardInfo>,
}

/// What a shard is part of.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardInfo {
    /// Which part of how many.
    pub shard: Shard,
    /// Its paths: `first..end` of `total`.
    pub first: usize,
    /// One past its last path.
    pub end: usize,
    /// Paths of the whole run.
    pub total: usize,
    /// SHA-256 of the route's points: every part follows the same route.
    pub route_sha256: String,
    /// Each of its paths' maximum on the guiding surface (NaN where none).
    #[serde(deserialize_with = "crate::output::json::nullable_f64s")]
    pub guide_max: Vec<f64>,
    /// The figures' data of this part.
    pub drawing: figures::Drawing,
}

/// Runs `tps sample`; returns the summary and the output directory.
pub fn run(
    path: &Path,
    options: &SampleOptions,
    progress: &dyn Progress,
) -> Result<(Summary, PathBuf)> {
    let t_total = Instant::now();
    let system = System::load(path)?;
    let file = &system.file;
    super::check_states(file, &options.from, &options.to)?;
    let request = options.request(file)?;
    super::check_paths_flag(options.paths)?;
    let total = options.paths.unwrap_or(file.transition.paths);
    let target = options.run_directory(&file.name, total)?;
    let mut request = request;
    system.potential()?;
    let loaded = system.denoiser(options.backend)?;
    if let Some(dir) = &options.geodesic {
        let planned = options.planned(dir, &system, &loaded)?;
        request.route = planned.route.route;
        request.planned = Some(planned);
    }
    // Fail early on an unwritable output directory, before any computation.
    let staged = Staged::new(&target)?;
    let sampler = Sampler::new(&system, Some(&loaded), &options.from, &options.to)?;
    let sampled = sampler.run(&request, &mut route_progress(progress, &request, file))?;
    progress.stage("reference route beside", 0);
    let t_beside = Instant::now();
    let beside = compare::beside(&sampler, &request, &sampled)?;
    let beside_seconds = t_beside.elapsed().as_secs_f64();
    let t_outputs = Instant::now();
    let mut files = files::write(staged.path(), &system, &sampler, &sampled)?;
    let drawing = figures::Drawing::of(&sampler, &sampled);
    let shard = options
        .shard
        .map(|s| ShardInfo::of(s, total, &sampled, &drawing));
    if shard.is_none() {
        files.extend(draw(staged.path(), &system, &sampler, &sampled, &drawing)?);
    }
    let provenance = system.provenance(Some(options.seed));
    let written = sampled.paths.iter().filter(|p| !p.frames.is_empty());
    let written = written.count();
    let scoring = sampler.scoring();
    let notes = notes(written, sampled.paths.len(), &sampler, beside.as_ref());
    files.push("summary.json".into());
    let lm = file.transition.lambda_max;
    let s = loaded.normalisation.scale;
    let summary = Summary {
        system: file.name.clone(),
        from: options.from.clone(),
        to: options.to.clone(),
        kt: system.kt(),
        energy_unit: system.energy_unit().into(),
        lambda_max: lm,
        paths: sampled.paths.len(),
        trajectories_written: written,
        frames: sampler.representation().frames_note(&file.transition),
        model: loaded.model_path.as_ref().map(|p| p.display().to_string()),
        model_ensemble: loaded.metadata.as_ref().map(model_ensemble),
        route: sampled.route.clone(),
        scored_on: scoring.description.clone(),
        scoring_independent: scoring.independent,
        restraint: RestraintSummary::at_ends(lm, s),
        path_results: sampled.statistics.clone(),
        on_guiding_surface: sampled.on_guiding_surface.clone(),
        reference: sampler.reference().clone(),
        scoring_reference: (!std::ptr::eq(sampler.judged_reference(), sampler.reference()))
            .then(|| sampler.judged_reference().clone()),
        reference_route_beside: beside,
        warnings: sampled.warnings.clone(),
        notes,
        evaluations: SummaryEvaluations {
            run: sampled.evaluations.clone(),
            training_data: loaded.metadata.as_ref().map(|m| TrainingData {
                surface_evaluations: m.sampling_evaluations,
                force_field_evaluations: file.force_field_training_evaluations(),
            }),
            reference_bounds: sampler.reference().evaluations,
        },
        molecule: sampled.backmap.clone(),
        all_atom_paths: sampled.cartesian.clone(),
        wall_seconds: SummaryWallTimes {
            stages: sampled.wall_seconds.clone(),
            reference: sampler.reference_seconds(),
            reference_route_beside: beside_seconds,
            outputs: t_outputs.elapsed().as_secs_f64(),
            total: t_total.elapsed().as_secs_f64(),
        },
        provenance,
        files,
        shard,
    };
    write_json(&staged.path().join("summary.json"), &summary)?;
    Ok((summary, staged.publish()?))
}

impl SampleOptions {
    /// The run's output directory under `out_root` (its shard's, for a shard of `total` paths).
    fn run_directory(&self, system: &str, total: usize) -> Result<PathBuf> {
        if let Some(s) = self.shard.filter(|s| s.count > total) {
            return Err(crate::error::Error::Invalid(format!(
                "--shard {}/{}: {} parts of {total} paths would leave some parts empty; use at \
                 most {total} parts",
                s.index, s.count, s.count
            )));
        }
        let name = match self.shard {
            Some(s) => format!("{}-{}-shard-{}-of-{}", self.from, self.to, s.index, s.count),
            None => format!("{}-{}", self.from, self.to),
        };
        Ok(self.out_root.join(system).join(name))
    }

    /// The route planned before into `dir` (`--geodesic`), checked against this run.
    fn planned(&self, dir: &Path, system: &System, loaded: &LoadedDenoiser) -> Result<RouteFile> {
        if self.constraints.any() || self.no_mep_start {
            return Err(crate::error::Error::Invalid(format!(
                "--geodesic {} follows the route as it was planned; give --plain, \
                 --low-variance, --energy-weight, --avoid and --no-mep-start to `tps geodesic` \
                 when planning it, not here",
                dir.display()
            )));
        }
        planned::read(
            dir,
            system,
            loaded,
            (&self.from, &self.to),
            self.route,
            self.seed,
        )
    }
}

/// What the model learnt, in words for the summary.
fn model_ensemble(metadata: &ModelMetadata) -> String {
    match &metadata.tilt {
        None => "boltzmann: the model learnt the surface's Boltzmann samples".into(),
        Some(t) => format!(
            "well-tempered (γ = {}{}): the model learnt the flattened ensemble; the geodesic \
             routes live in its spacetime, and the learned route adds the tilt's ∇V/kT back to \
             its score",
            t.well_tempered.bias_factor,
            t.well_tempered
                .cap
                .map_or(String::new(), |c| format!(", cap {c}"))
        ),
    }
}

/// What a reader of the summary should know: trajectories left out, a score that is not
/// independent, the model-free route's verdict, and what "reach" means.
fn notes(written: usize, paths: usize, sampler: &Sampler, beside: Option<&Beside>) -> Vec<String> {
    let mut notes = Vec::new();
    if written < paths {
        notes.push(format!(
            "trajectory files were written for {written} of {} paths (--max-trajectories)",
            paths
        ));
    }
    let scoring = sampler.scoring();
    if !scoring.independent {
        notes.push(
            sampler
                .representation()
                .dependent_score_note(&scoring.description),
        );
    }
    if let Some(b) = beside {
        notes.push(b.verdict.clone());
    }
    notes.push(
        "reach: a path reaches the target when it ends in the target's basin (steepest descent \
         on the scoring surface), whichever state is nearest"
            .into(),
    );
    notes
}

/// The figures of a whole run.
fn draw(
    dir: &Path,
    system: &System,
    sampler: &Sampler,
    sampled: &Sampled,
    drawing: &figures::Drawing,
) -> Result<Vec<String>> {
    let route = sampled.route.route.to_string();
    let (from, to) = sampler.states();
    let context = figures::FigureContext {
        system,
        surface: sampler.scoring().surface,
        mep: &sampler.reference().mep,
        reference: sampler.judged_reference(),
        title: (from, to, &route, sampled.paths.len()),
    };
    let mut files = Vec::new();
    if system.file.dim() == 2 {
        figures::surface(&dir.join("surface.png"), &context, drawing)?;
        files.push("surface.png".into());
    }
    figures::profiles(&dir.join("energy_profile.png"), &context, drawing)?;
    files.push("energy_profile.png".into());
    Ok(files)
}
