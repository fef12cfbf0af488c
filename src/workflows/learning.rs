//! What `tps train` computes for a system: for a molecule, its free-energy surface by
//! metadynamics and its relaxed potential-energy map; Boltzmann samples of the surface by
//! replica exchange; and the diffusion model trained on them. Nothing is written here: the
//! caller publishes model and surfaces together once everything succeeded.

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use crate::compute::{self, Backend, Precision};
use crate::data::replica_exchange;
use crate::data::{self, Weighted, effective_samples, normalised_exp};
use crate::error::{Error, Result};
use crate::model::file::{ModelMetadata, TiltRecord};
use crate::model::training;
use crate::molecule::simulation;
use crate::potential::{Potential, Tabulated, Tilted, WellTempered};
use crate::progress::Progress;
use crate::provenance::sha256;
use crate::reference::{FreeEnergySummary, free_energy_summary, metadynamics_surface};
use crate::system::presentation::SurfaceKind;
use crate::system::{MolecularSystem, SurfacePaths, System};

/// Training samples and what they cost.
struct TrainingSamples {
    points: Vec<Vec<f64>>,
    energy_evaluations: u64,
    swap_acceptance: Vec<f64>,
}

/// A molecule's surfaces, made by `tps train`.
pub struct Surfaces {
    /// Free-energy surface (kJ/mol) in the collective variables.
    pub free_energy: Tabulated,
    /// The surface as text, to be written, when `tps train` made it; none when it is the
    /// system's own file, read and never written back.
    pub free_energy_text: Option<String>,
    /// What it says about the states.
    pub summary: FreeEnergySummary,
    /// The relaxed potential-energy map as text (the file written).
    pub relaxed_map_text: String,
    /// The independent free-energy surface (its own metadynamics run) as text, if made.
    pub check_text: Option<String>,
    /// The molecule's surface files, where they are published.
    pub paths: SurfacePaths,
}

impl Surfaces {
    /// The files `tps train` publishes beside the model: `(path, bytes)` of each surface it
    /// made.
    pub fn files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let p = &self.paths;
        let mut files = Vec::new();
        if let Some(text) = &self.free_energy_text {
            files.push((p.free_energy.clone(), text.clone().into_bytes()));
        }
        files.push((
            p.relaxed_map.clone(),
            self.relaxed_map_text.clone().into_bytes(),
        ));
        if let Some(check) = &self.check_text {
            files.push((p.check_surface.clone(), check.clone().into_bytes()));
        }
        files
    }
}

/// A trained model ready to publish.
pub struct Learnt {
    /// The model file's bytes.
    pub model: Vec<u8>,
    /// Molecules: the surfaces the model was trained on.
    pub surfaces: Option<Surfaces>,
    /// What happened.
    pub report: LearnReport,
}

/// What `tps train` did.
#[derive(Debug, Clone, Serialize)]
pub struct LearnReport {
    /// Boltzmann samples drawn (or resampled from the data's weighted frames).
    pub samples: usize,
    /// Learning from data: the effective sample size of the weighted frames.
    pub effective_samples: Option<f64>,
    /// Learning a tilted ensemble from data: the frames' effective sample size with the
    /// Boltzmann weights instead (what the tilt's weights are to be set against).
    pub effective_samples_boltzmann: Option<f64>,
    /// Molecules whose frames are reweighted onto a surface (Cartesian molecules; data with a
    /// given surface): each state's weighted population in the frames, against the surface.
    pub populations: Vec<StatePopulation>,
    /// Learning from data without a surface: how well the frames determine the surface
    /// estimated from them.
    pub frames_estimate: Option<FramesEstimate>,
    /// Potential evaluations of the sampling.
    pub sampling_evaluations: u64,
    /// Swap acceptance between neighbouring temperatures.
    pub swap_acceptance: Vec<f64>,
    /// Wall time of the molecule's surfaces, s.
    pub surface_seconds: f64,
    /// Wall time of the sampling, s.
    pub sampling_seconds: f64,
    /// Wall time of the training, s.
    pub training_seconds: f64,
    /// Mean weighted loss of the last 100 steps.
    pub final_loss: f64,
    /// The ensemble the model learnt.
    pub ensemble: crate::model::training::Ensemble,
}

/// Runs every stage for `system` with `seed` (the same seed gives the same model).
pub fn learn(
    system: &System,
    seed: u64,
    backend: Backend,
    progress: &dyn Progress,
) -> Result<Learnt> {
    let file = &system.file;
    system.require_training()?;
    let t0 = Instant::now();
    let MolecularData {
        surfaces,
        frames: mut external,
        cartesian_run,
        frames_estimate,
    } = molecular_data(system, seed, progress)?;
    let surface_seconds = t0.elapsed().as_secs_f64();
    let potential: &dyn Potential = match &surfaces {
        Some(s) => &s.free_energy,
        None => system.potential()?,
    };
    let surface_sha256 = match surfaces.as_ref().and_then(|s| s.free_energy_text.as_ref()) {
        Some(text) => Some(sha256(text.as_bytes())),
        None => system.surface_sha256()?,
    };

    let tilt = tilt_record(system, potential, surface_sha256.clone())?;
    let tilted = tilt
        .as_ref()
        .map(|t| Tilted::new(potential, t.well_tempered));
    let sampled: &dyn Potential = match &tilted {
        Some(t) => t,
        None => potential,
    };

    let t1 = Instant::now();
    let mut atom_variables = None;
    let populations = match (&cartesian_run, &surfaces) {
        (Some((m, run)), Some(s)) => {
            let w = cartesian_samples(system, m, run)?;
            let populations =
                state_populations(system, &w.variables, &w.weighted.weights, &s.free_energy);
            warn_on_populations(
                &populations,
                "the metadynamics run is too short for its weights; raise md.steps",
            );
            external = Some(w.weighted);
            atom_variables = Some(w.variables);
            populations
        }
        _ => given_surface_populations(system, external.as_ref(), surfaces.as_ref()),
    };
    let effective_samples_boltzmann = external.as_ref().map(|w| w.effective_samples);
    if let (Some(t), Some(w)) = (&tilt, &mut external) {
        reweight_to_tilt(w, atom_variables.as_deref(), &t.bias, system.kt());
    }
    let samples = training_samples(system, external.as_ref(), sampled, seed, progress);
    let sampling_seconds = t1.elapsed().as_secs_f64();
    tracing::info!(
        "{} samples, {} energy evaluations in {sampling_seconds:.1} s",
        samples.points.len(),
        samples.energy_evaluations
    );

    let t2 = Instant::now();
    let (model, final_loss) = trained_model(
        system,
        &samples,
        seed,
        backend,
        progress,
        surface_sha256,
        tilt,
    )?;
    let training_seconds = t2.elapsed().as_secs_f64();
    Ok(Learnt {
        model,
        surfaces,
        report: LearnReport {
            populations,
            frames_estimate,
            effective_samples: external.as_ref().map(|w| w.effective_samples),
            effective_samples_boltzmann: effective_samples_boltzmann
                .filter(|_| file.training.tilt_parameters().is_some()),
            samples: samples.points.len(),
            sampling_evaluations: samples.energy_evaluations,
            swap_acceptance: samples.swap_acceptance,
            surface_seconds,
            sampling_seconds,
            training_seconds,
            final_loss,
            ensemble: file.training.ensemble,
        },
    })
}

/// What a molecule's training stands on: its surfaces (from its own metadynamics, or from the
/// frames of `[data]`), those frames, the metadynamics run of a Cartesian molecule (its frames
/// are the data) and how well frames without a surface determine the one estimated from them.
struct MolecularData<'a> {
    surfaces: Option<Surfaces>,
    frames: Option<Weighted>,
    cartesian_run: Option<(&'a MolecularSystem, simulation::MdRun)>,
    frames_estimate: Option<FramesEstimate>,
}

/// The molecular data of `system` (nothing for a surface given in the file).
fn molecular_data<'a>(
    system: &'a System,
    seed: u64,
    progress: &dyn Progress,
) -> Result<MolecularData<'a>> {
    let Some(m) = &system.molecule else {
        return Ok(MolecularData {
            surfaces: None,
            frames: None,
            cartesian_run: None,
            frames_estimate: None,
        });
    };
    let frames = external_frames(system, m)?;
    let (mut surfaces, cartesian_run, frames_estimate) = match &frames {
        Some(w) => {
            let (s, estimate) = data_surfaces(system, m, w, progress)?;
            (s, None, estimate)
        }
        None => {
            let (s, run) = molecular_surfaces(system, m, seed, progress)?;
            (s, run.map(|r| (m, r)), None)
        }
    };
    surfaces.check_text = check_surface(system, m, seed, progress)?;
    Ok(MolecularData {
        surfaces: Some(surfaces),
        frames,
        cartesian_run,
        frames_estimate,
    })
}

/// Frames from `[data]`, read and weighted (none without `[data]`; the system file's checks
/// keep `[data]` to molecules in their variables).
fn external_frames(system: &System, molecular: &MolecularSystem) -> Result<Option<Weighted>> {
    let Some(d) = &system.file.data else {
        return Ok(None);
    };
    let w = data::read(d, &molecular.molecule, system.kt())?;
    for warning in &w.warnings {
        tracing::warn!("{warning}");
    }
    tracing::info!(
        "{} frames from {} trajectories, {:.0} effective samples",
        w.points.len(),
        d.trajectories.len(),
        w.effective_samples
    );
    Ok(Some(w))
}

/// `frames` reweighted in place to the ensemble tilted by `bias` over their variables
/// (`variables` where the frames are atoms, else the frames themselves).
fn reweight_to_tilt(
    frames: &mut Weighted,
    variables: Option<&[Vec<f64>]>,
    bias: &Tabulated,
    kt: f64,
) {
    let boltzmann = frames.effective_samples;
    let weights = tilt_weights(
        &frames.weights,
        variables.unwrap_or(&frames.points),
        bias,
        kt,
    );
    frames.effective_samples = effective_samples(&weights);
    frames.weights = weights;
    tracing::info!(
        "frames reweighted to the tilted ensemble: {:.0} effective samples (the Boltzmann \
         weights': {boltzmann:.0})",
        frames.effective_samples,
    );
}

/// The network trained on `samples` with `seed`, encoded as a model file with its metadata
/// (surface hash and tilt as given), and its final loss (mean of the last 100 steps).
fn trained_model(
    system: &System,
    samples: &TrainingSamples,
    seed: u64,
    backend: Backend,
    progress: &dyn Progress,
    surface_sha256: Option<String>,
    tilt: Option<TiltRecord>,
) -> Result<(Vec<u8>, f64)> {
    let file = &system.file;
    let device = compute::device(backend, Precision::F32)?.autodiff();
    let architecture = system.model_config();
    progress.stage("training", file.training.steps as u64);
    let trained = training::train(
        &samples.points,
        &architecture,
        &file.training,
        seed,
        &device,
        |step, loss| {
            if step % 10 == 9 {
                progress.set(step as u64 + 1);
                progress.message(&format!("loss {loss:.4}"));
            }
        },
    )?;
    let h = &trained.loss_history;
    let final_loss = h.iter().rev().take(100).sum::<f64>() / h.len().min(100) as f64;
    let mut provenance = system.provenance(Some(seed));
    if let Some(d) = &file.data {
        for f in d.files() {
            provenance = provenance.with_input(f)?;
        }
    }
    let metadata = ModelMetadata {
        format: crate::model::file::FORMAT,
        system: file.name.clone(),
        kt: system.kt(),
        surface_sha256,
        architecture,
        normalisation: trained.normalisation.clone(),
        training: file.training.clone(),
        data_sha256: crate::model::file::data_hash(&samples.points),
        data_samples: samples.points.len(),
        sampling_evaluations: samples.energy_evaluations,
        loss_history: trained.loss_history.clone(),
        payload_sha256: String::new(),
        provenance,
        tilt,
    };
    let model = crate::model::file::encode(&metadata, &trained.mlp)?;
    Ok((model, final_loss))
}

/// Nodes per axis of a tilt's bias grid.
pub const TILT_GRID: usize = 192;

/// The tilt the system's `[training]` asks for, on `surface`: its parameters (the minimum
/// found on a grid over the domain) and its bias tabulated on that grid. The system file's
/// checks allow a tilt only on 2-D surfaces sampled by replica exchange.
fn tilt_record(
    system: &System,
    surface: &dyn Potential,
    surface_sha256: Option<String>,
) -> Result<Option<TiltRecord>> {
    let Some((bias_factor, cap)) = system.file.training.tilt_parameters() else {
        return Ok(None);
    };
    let d = system.file.domain();
    let domain = [d[0], d[1]];
    let periodic = surface.periodic().iter().any(Option::is_some);
    let grid = Tabulated::of(surface, domain, TILT_GRID, periodic);
    let minimum = grid
        .values()
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    if !minimum.is_finite() {
        return Err(Error::config(
            &system.path,
            "training.ensemble",
            "the surface has no finite value on its domain to tilt",
        ));
    }
    let well_tempered = WellTempered {
        bias_factor,
        cap,
        minimum,
    };
    Ok(Some(TiltRecord {
        definition: "V = −(1 − 1/γ)·min(F − F_min, cap), F_min the surface's minimum on its \
                     domain; the model learnt exp(−(F + V)/kT) and its equilibrium score is \
                     the model's plus ∇V/kT"
            .into(),
        well_tempered,
        surface_sha256,
        bias: well_tempered.tabulate(&grid),
    }))
}

/// The populations of the states in weighted frames against the surface given with them
/// (none when the surface was estimated from the same frames), with a warning where they
/// disagree.
fn given_surface_populations(
    system: &System,
    external: Option<&Weighted>,
    surfaces: Option<&Surfaces>,
) -> Vec<StatePopulation> {
    match (external, surfaces) {
        (Some(w), Some(s)) if s.free_energy_text.is_none() => {
            let populations = state_populations(system, &w.points, &w.weights, &s.free_energy);
            warn_on_populations(
                &populations,
                "the weights are not the given surface's: a well-tempered bias needs PLUMED's \
                 c(t) correction (metad.rbias, written with CALC_RCT), or the surface is of \
                 another run",
            );
            populations
        }
        _ => Vec::new(),
    }
}

/// The samples to train on: the weighted frames resampled, or replica-exchange samples of
/// `potential`.
fn training_samples(
    system: &System,
    external: Option<&Weighted>,
    potential: &dyn Potential,
    seed: u64,
    progress: &dyn Progress,
) -> TrainingSamples {
    match external {
        Some(w) => TrainingSamples {
            points: data::resample(w, w.points.len(), seed),
            energy_evaluations: 0,
            swap_acceptance: Vec::new(),
        },
        None => {
            let s = &system.file.sampling;
            progress.stage("sampling", (s.chains * (s.burn_in + s.steps)) as u64);
            let r = replica_exchange::sample(
                potential,
                system.kt(),
                &system.file.domain(),
                s,
                seed,
                &|n| progress.add(n),
            );
            TrainingSamples {
                points: r.points,
                energy_evaluations: r.energy_evaluations,
                swap_acceptance: r.swap_acceptance,
            }
        }
    }
}

/// Reweighted frames and the surface may disagree on a state's free energy by this much
/// (kJ/mol) before `tps train` warns.
pub const POPULATION_TOLERANCE: f64 = 1.0;

/// Warns for every state whose free energy from the frames and from the surface differ by more
/// than `POPULATION_TOLERANCE`, giving the likely `cause`.
fn warn_on_populations(populations: &[StatePopulation], cause: &str) {
    for p in populations {
        let gap = p.free_energy_from_frames - p.free_energy_from_surface;
        if gap.abs() > POPULATION_TOLERANCE {
            tracing::warn!(
                "the reweighted frames put {} {gap:+.2} kJ/mol away from the surface: {cause}",
                p.state
            );
        }
    }
}

/// A state's share of the weighted training frames of a molecule.
#[derive(Debug, Clone, Serialize)]
pub struct StatePopulation {
    /// The state.
    pub state: String,
    /// Weighted share of the frames nearest to it in the variables.
    pub population: f64,
    /// The surface's share of the same region.
    pub population_on_surface: f64,
    /// `−kT ln(p/p₀)` relative to the first state, from the frames (kJ/mol).
    pub free_energy_from_frames: f64,
    /// The same from the surface's populations (kJ/mol).
    pub free_energy_from_surface: f64,
}

/// Weighted all-atom frames of a Cartesian molecule.
struct CartesianSamples {
    weighted: Weighted,
    /// The variables of every frame (for the populations).
    variables: Vec<Vec<f64>>,
}

/// The metadynamics frames superposed (heavy atoms) onto the structure of
/// `molecule.coordinates`, flattened, and weighted by `exp(rbias/kT)`.
fn cartesian_samples(
    system: &System,
    molecular: &MolecularSystem,
    run: &simulation::MdRun,
) -> Result<CartesianSamples> {
    let mut points = Vec::new();
    let mut variables = Vec::new();
    let mut bias = Vec::new();
    let mut trajectory = Vec::new();
    let kt = system.kt();
    for (w, frames) in run.frames.iter().enumerate() {
        let records: Vec<&simulation::CvRecord> = run.cv.iter().filter(|r| r.walker == w).collect();
        for (x, r) in frames.iter().zip(records) {
            points.push(molecular.cartesian(x));
            variables.push(r.values.clone());
            bias.push(r.rbias);
            trajectory.push(w);
        }
    }
    let weights = normalised_exp(&bias.iter().map(|b| b / kt).collect::<Vec<_>>());
    let effective_samples = effective_samples(&weights);
    tracing::info!(
        "{} all-atom frames, {effective_samples:.0} effective samples",
        points.len()
    );
    Ok(CartesianSamples {
        weighted: Weighted {
            points,
            weights,
            bias,
            trajectory,
            effective_samples,
            warnings: Vec::new(),
        },
        variables,
    })
}

/// Frames of the Boltzmann ensemble (normalised `weights`) reweighted to the ensemble tilted by
/// `bias` over their `variables`: each times `exp(−V(s)/kT)`. Frames outside the bias's grid
/// (where it is not known) get no weight.
pub fn tilt_weights(
    weights: &[f64],
    variables: &[Vec<f64>],
    bias: &Tabulated,
    kt: f64,
) -> Vec<f64> {
    let log: Vec<f64> = weights
        .iter()
        .zip(variables)
        .map(|(w, s)| {
            let v = bias.energy(s);
            if *w > 0.0 && v.is_finite() {
                w.ln() - v / kt
            } else {
                f64::NEG_INFINITY
            }
        })
        .collect();
    normalised_exp(&log)
}

/// Each state's weighted population (frames assigned to the nearest state in the variables)
/// against the surface's population of the same regions, `∝ Σ exp(−F/kT)` over its grid.
fn state_populations(
    system: &System,
    variables: &[Vec<f64>],
    weights: &[f64],
    surface: &Tabulated,
) -> Vec<StatePopulation> {
    let names: Vec<&String> = system.file.states.keys().collect();
    let nearest = |v: &[f64]| {
        names
            .iter()
            .enumerate()
            .map(|(k, n)| {
                (
                    k,
                    crate::molecule::cv::angle_distance(v, &system.file.states[*n]),
                )
            })
            .min_by(|x, y| x.1.total_cmp(&y.1))
            .map_or(0, |(k, _)| k)
    };
    let mut frames = vec![0.0; names.len()];
    for (v, w) in variables.iter().zip(weights) {
        frames[nearest(v)] += w;
    }
    let kt = system.kt();
    let mut grid = vec![0.0; names.len()];
    let (nx, ny) = surface.shape();
    for i in 0..nx {
        for j in 0..ny {
            grid[nearest(&surface.node(i, j))] += (-surface.value(i, j) / kt).exp();
        }
    }
    let total: f64 = grid.iter().sum();
    names
        .iter()
        .enumerate()
        .map(|(k, n)| StatePopulation {
            state: n.to_string(),
            population: frames[k],
            population_on_surface: grid[k] / total,
            free_energy_from_frames: -kt * (frames[k] / frames[0]).ln(),
            free_energy_from_surface: -kt * (grid[k] / grid[0]).ln(),
        })
        .collect()
}

/// The free-energy surface by well-tempered metadynamics and the relaxed potential-energy map;
/// for a Cartesian molecule also the run's frames.
fn molecular_surfaces(
    system: &System,
    molecular: &MolecularSystem,
    seed: u64,
    progress: &dyn Progress,
) -> Result<(Surfaces, Option<simulation::MdRun>)> {
    let file = &system.file;
    let metad = file.metadynamics.as_ref().ok_or_else(|| {
        Error::config(
            &system.path,
            "metadynamics",
            "missing: tps train computes a molecule's free-energy surface by metadynamics",
        )
    })?;
    let md = file.md();
    progress.stage("metadynamics", md.steps);
    let cartesian = file.is_cartesian();
    let (run, grid) = metadynamics(molecular, &md, metad, md.steps, seed, cartesian, progress)?;
    let (free_energy, summary) = metadynamics_surface(&grid, &file.named_states())?;
    if let (Some(false), Some(drift)) = (summary.converged, summary.drift) {
        tracing::warn!(
            "the free-energy surface is not converged: basin free energies or barriers moved by \
             {drift:.2} kJ/mol over the last quarter of the run; raise md.steps"
        );
    }
    let free_energy_text = system.surface_text(&free_energy, SurfaceKind::FreeEnergy);
    let relaxed_map_text = relaxed_surface(system, molecular, progress);
    Ok((
        Surfaces {
            free_energy,
            free_energy_text: Some(free_energy_text),
            summary,
            relaxed_map_text,
            check_text: None,
            paths: molecular.surface_paths(),
        },
        cartesian.then_some(run),
    ))
}

/// A well-tempered metadynamics run of `steps` per walker (its frames kept when
/// `keep_frames`) and the free energy it deposited.
fn metadynamics(
    molecular: &MolecularSystem,
    md: &crate::molecule::MdConfig,
    metad: &crate::molecule::MetadynamicsConfig,
    steps: u64,
    seed: u64,
    keep_frames: bool,
    progress: &dyn Progress,
) -> Result<(simulation::MdRun, simulation::FreeEnergyGrid)> {
    let mut run = simulation::run(
        &molecular.molecule,
        md,
        Some(metad),
        steps,
        seed,
        keep_frames,
        |done, _| progress.set(done),
    )?;
    let grid = run
        .free_energy
        .take()
        .expect("metadynamics makes a surface");
    Ok((run, grid))
}

/// The relaxed potential-energy map of a molecule, from the first state's basin.
fn relaxed_surface(
    system: &System,
    molecular: &MolecularSystem,
    progress: &dyn Progress,
) -> String {
    let (first, at) = system
        .file
        .states
        .iter()
        .next()
        .expect("checked: two states");
    let grid = system.file.barrier.relaxed_grid;
    let relaxed = molecular.compute_relaxed_map(first, at, grid, progress);
    system.surface_text(&relaxed, SurfaceKind::RelaxedMap)
}

/// Grid points per variable of a free-energy surface estimated from data (PLUMED's and
/// OpenMM's usual 96 bins).
const DATA_GRID: usize = 96;
/// Free energies of that estimate are capped this many kT above its minimum (unvisited
/// regions).
const DATA_CAP_KT: f64 = 20.0;
/// Block-bootstrap replicas behind the uncertainty of that estimate.
const DATA_REPLICAS: usize = 100;
/// Frames within this distance (rad) of a basin or pass count towards its effective samples.
pub const REGION_RADIUS: f64 = 0.3;
/// Fewer effective samples than this near a basin or pass leave its free energy uncertain.
const FEW_NEAR: f64 = 20.0;

/// How well the frames determine the free-energy surface estimated from them.
#[derive(Debug, Clone, Serialize)]
pub struct FramesEstimate {
    /// Kernel width chosen by likelihood cross-validation (rad).
    pub bandwidth: f64,
    /// Block-bootstrap replicas (every trajectory cut into blocks, drawn with replacement).
    pub replicas: usize,
    /// Standard deviation over the replicas of each basin's free energy (kJ/mol), in the
    /// summary's order.
    pub basin_std: Vec<f64>,
    /// The same for each barrier.
    pub barrier_std: Vec<f64>,
    /// Effective samples of the weighted frames near each basin and pass.
    pub near: Vec<RegionSamples>,
}

/// Effective samples of the weighted frames within `REGION_RADIUS` of a point.
#[derive(Debug, Clone, Serialize)]
pub struct RegionSamples {
    /// A state's basin, or the pass `A → B`.
    pub region: String,
    /// The point (rad).
    pub at: Vec<f64>,
    /// `(Σw)²/Σw²` of the frames within reach.
    pub effective_samples: f64,
}

/// A molecule's surfaces when it learns from data: the free-energy surface of its file if it
/// exists (a PLUMED grid from the user's run), else estimated from the weighted frames (with
/// its uncertainty); and the relaxed map.
fn data_surfaces(
    system: &System,
    molecular: &MolecularSystem,
    data: &Weighted,
    progress: &dyn Progress,
) -> Result<(Surfaces, Option<FramesEstimate>)> {
    let kt = system.kt();
    let states = system.file.named_states();
    let (free_energy, free_energy_text, summary, estimate) =
        if let Some(given) = molecular.free_energy()? {
            let summary = free_energy_summary(given, None, &states)?;
            (given.clone(), None, summary, None)
        } else {
            progress.stage("free energy from the frames", DATA_REPLICAS as u64);
            let surface = data::surface::estimate(data, DATA_GRID, kt, DATA_CAP_KT);
            let grid = Tabulated::periodic_angles(surface.values.clone(), DATA_GRID);
            // The same estimate from the first three quarters of each trajectory: its drift.
            let early = early_frames(data);
            let early = data::surface::estimate(&early, DATA_GRID, kt, DATA_CAP_KT);
            let early = Tabulated::periodic_angles(early.values, DATA_GRID);
            let summary = free_energy_summary(&grid, Some(&early), &states)?;
            let estimate = frames_estimate(data, &surface, &summary, &states, kt, progress)?;
            let text = system.surface_text(&grid, SurfaceKind::FreeEnergy);
            (grid, Some(text), summary, Some(estimate))
        };
    let relaxed_map_text = relaxed_surface(system, molecular, progress);
    let surfaces = Surfaces {
        free_energy,
        free_energy_text,
        summary,
        relaxed_map_text,
        check_text: None,
        paths: molecular.surface_paths(),
    };
    Ok((surfaces, estimate))
}

/// The first three quarters of every trajectory's frames, reweighted.
fn early_frames(data: &Weighted) -> Weighted {
    let keep: Vec<usize> = (0..data.points.len())
        .filter(|&i| {
            let t = data.trajectory[i];
            let first = data.trajectory.partition_point(|x| *x < t);
            let count = data.trajectory.partition_point(|x| *x <= t) - first;
            (i - first) < count * 3 / 4
        })
        .collect();
    let sum: f64 = keep.iter().map(|&i| data.weights[i]).sum();
    Weighted {
        points: keep.iter().map(|&i| data.points[i].clone()).collect(),
        weights: keep.iter().map(|&i| data.weights[i] / sum).collect(),
        bias: keep.iter().map(|&i| data.bias[i]).collect(),
        trajectory: keep.iter().map(|&i| data.trajectory[i]).collect(),
        effective_samples: 0.0,
        warnings: Vec::new(),
    }
}

/// The bootstrap spread of the basins and barriers of a surface estimated from `data`, and
/// the effective samples behind each; warns where they are few.
fn frames_estimate(
    data: &Weighted,
    surface: &data::surface::FrameSurface,
    summary: &FreeEnergySummary,
    states: &[(String, Vec<f64>)],
    kt: f64,
    progress: &dyn Progress,
) -> Result<FramesEstimate> {
    let mut basins = vec![Vec::new(); summary.basins.len()];
    let mut barriers = vec![Vec::new(); summary.barriers.len()];
    for values in data::surface::bootstrap(data, surface, kt, DATA_CAP_KT, DATA_REPLICAS) {
        let replica =
            free_energy_summary(&Tabulated::periodic_angles(values, surface.n), None, states)?;
        for (all, b) in basins.iter_mut().zip(&replica.basins) {
            all.push(b.free_energy);
        }
        for (all, b) in barriers.iter_mut().zip(&replica.barriers) {
            all.push(b.barrier);
        }
        progress.add(1);
    }
    let std = |v: &Vec<f64>| {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1).max(1) as f64).sqrt()
    };
    let near_basins = summary.basins.iter().map(|b| (b.state.clone(), &b.at));
    let near_passes = summary
        .barriers
        .iter()
        .filter(|p| p.from < p.to)
        .map(|p| (format!("{} → {}", p.from, p.to), &p.saddle));
    let near: Vec<RegionSamples> = near_basins
        .chain(near_passes)
        .map(|(region, at)| RegionSamples {
            effective_samples: data::surface::effective_samples_near(data, at, REGION_RADIUS),
            region,
            at: at.clone(),
        })
        .collect();
    for r in near.iter().filter(|r| r.effective_samples < FEW_NEAR) {
        tracing::warn!(
            "only {:.0} effective samples within {REGION_RADIUS} rad of {}: its free energy is \
             uncertain; sample it more",
            r.effective_samples,
            r.region
        );
    }
    Ok(FramesEstimate {
        bandwidth: surface.bandwidth,
        replicas: DATA_REPLICAS,
        basin_std: basins.iter().map(std).collect(),
        barrier_std: barriers.iter().map(std).collect(),
        near,
    })
}

/// Added to the seed of the independent metadynamics run, so that its walkers never share a
/// noise stream with the main run's.
pub const CHECK_SEED_OFFSET: u64 = 1_000_003;

/// The independent free-energy surface that scores paths the first one guided: a second
/// well-tempered metadynamics run with its own seed and length (`metadynamics.check_steps`,
/// default half of `md.steps`), as text; `None` without `[metadynamics]` or with
/// `check_steps = 0`.
fn check_surface(
    system: &System,
    molecular: &MolecularSystem,
    seed: u64,
    progress: &dyn Progress,
) -> Result<Option<String>> {
    let Some(metad) = &system.file.metadynamics else {
        return Ok(None);
    };
    let md = system.file.md();
    let steps = system.file.check_steps();
    if steps == 0 {
        return Ok(None);
    }
    let check_seed = seed.wrapping_add(CHECK_SEED_OFFSET);
    progress.stage("independent metadynamics", steps);
    let (_, grid) = metadynamics(molecular, &md, metad, steps, check_seed, false, progress)?;
    let surface = Tabulated::periodic_angles(grid.values, grid.n);
    let names = system.file.coordinate_names();
    Ok(Some(surface.to_plumed(
        [&names[0], &names[1]],
        "file.free",
        &system.surface_comment(&format!(
            "independent free energy in kJ/mol for scoring paths: well-tempered metadynamics, \
             seed {check_seed}, {steps} steps per walker (tps {})",
            env!("CARGO_PKG_VERSION")
        )),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::WellTempered;

    /// `F = (x² − 1)² · 8 + y²` on a grid.
    struct Well;

    impl Potential for Well {
        fn dim(&self) -> usize {
            2
        }
        fn energy_gradient(&self, x: &[f64], g: &mut [f64]) -> f64 {
            g[0] = 32.0 * x[0] * (x[0] * x[0] - 1.0);
            g[1] = 2.0 * x[1];
            8.0 * (x[0] * x[0] - 1.0).powi(2) + x[1] * x[1]
        }
    }

    /// Boltzmann-weighted frames reweighted by the well-tempered tilt carry the weights of
    /// `exp(−F/(γ kT))` (at the grid's nodes, where the tabulated bias is exact); a frame off
    /// the grid gets none.
    #[test]
    fn frames_reweighted_to_the_tilt_carry_the_flattened_weights() {
        let kt = 0.7;
        let gamma = 5.0;
        let domain = [[-2.0, 2.0], [-2.0, 2.0]];
        let n = 41;
        let grid = Tabulated::of(&Well, domain, n, false);
        let well_tempered = WellTempered {
            bias_factor: gamma,
            cap: None,
            minimum: 0.0,
        };
        let bias = well_tempered.tabulate(&grid);
        let mut points: Vec<Vec<f64>> = (0..n * n)
            .step_by(7)
            .map(|k| grid.node(k % n, k / n).to_vec())
            .collect();
        points.push(vec![3.0, 0.0]);
        let boltzmann = normalised_exp(
            &points
                .iter()
                .map(|p| -Well.energy(p) / kt)
                .collect::<Vec<_>>(),
        );
        let tilted = tilt_weights(&boltzmann, &points, &bias, kt);
        let last = points.len() - 1;
        let expected = normalised_exp(
            &points[..last]
                .iter()
                .map(|p| -Well.energy(p) / (gamma * kt))
                .collect::<Vec<_>>(),
        );
        assert_eq!(tilted[last], 0.0, "off the grid: no weight");
        for (t, e) in tilted.iter().zip(&expected) {
            assert!(
                (t - e).abs() < 1e-9 * e.max(1e-300) + 1e-15,
                "{t} against {e}"
            );
        }
        assert!(effective_samples(&tilted) > 2.0 * effective_samples(&boltzmann));
    }
}
