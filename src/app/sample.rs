//! `tps sample`: transition paths between two states, written under
//! `out/<system>/<from>-<to>/` with the reference they are judged against.

use std::path::{Path, PathBuf};
use std::time::Instant;

use plotters::style::RGBColor;
use serde::Serialize;

use super::{ConstraintOptions, write_json};
use crate::atomic::Staged;
use crate::compute::Backend;
use crate::error::Result;
use crate::output::plot::{self, Curve, Marker};
use crate::output::{table, trajectory};
use crate::progress::Progress;
use crate::provenance::Provenance;
use crate::reference::Reference;
use crate::representation::Kind;
use crate::representation::cartesian::CartesianSummary;
use crate::representation::variables::AllAtomSummary;
use crate::route::{RouteKind, RouteSummary};
use crate::systems::System;
use crate::transition::compare::{self, Beside};
use crate::transition::{self, MeanStd, PathStatistics, Request, Sampled, Sampler};

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
}

impl SampleOptions {
    /// The run these options ask for, on a system file.
    pub fn request(&self, file: &crate::systems::SystemFile) -> Result<Request> {
        let route = self.route.unwrap_or(file.transition.route);
        Ok(Request {
            route,
            paths: self.paths,
            constraints: self.constraints.apply(&file.geodesic.constraints)?,
            mep_start: file.transition.mep_start && !self.no_mep_start,
            seed: self.seed,
            keep_frames: self.max_trajectories,
        })
    }
}

/// Energy evaluations spent.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluations {
    /// This run's: walkers, route and scoring.
    #[serde(flatten)]
    pub run: transition::Evaluations,
    /// Potential evaluations spent on the training data.
    pub training_data: Option<u64>,
    /// The reference bounds' (grid minimax and string method on the guiding surface).
    pub reference_bounds: u64,
}

/// Wall times in seconds.
#[derive(Debug, Clone, Serialize)]
pub struct WallTimes {
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
#[derive(Debug, Clone, Serialize)]
pub struct Restraint {
    /// `e^λ_max / s²` per squared data unit: what every route's walkers feel at the ends.
    pub stiffness_at_ends: f64,
    /// `e^λ_max`: the paper's stiffness on unscaled data (`s = 1`).
    pub paper_stiffness_at_ends: f64,
    /// The model's data scale `s`.
    pub data_scale: f64,
    /// Width `s·e^(−λ_max/2)`, data units.
    pub width_at_ends: f64,
}

/// `summary.json`.
#[derive(Debug, Clone, Serialize)]
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
    /// The route: what the walkers follow and what moved them.
    pub route: RouteSummary,
    /// The surface every path maximum below is judged on.
    pub scored_on: String,
    /// Whether that surface is exact or independent of the one that guided.
    pub scoring_independent: bool,
    /// The restraint.
    pub restraint: Restraint,
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
    pub evaluations: Evaluations,
    /// Molecules in the variables: the back-mapped all-atom movies.
    pub molecule: Option<AllAtomSummary>,
    /// Cartesian molecules: the all-atom paths, judged in the field's metrics.
    pub all_atom_paths: Option<CartesianSummary>,
    /// Wall time, s.
    pub wall_seconds: WallTimes,
    /// Command, configuration, seed and inputs.
    pub provenance: Provenance,
    /// Files written, relative to the output directory.
    pub files: Vec<String>,
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
    if options.paths == Some(0) {
        return Err(crate::error::Error::Invalid(
            "--paths must be at least 1".into(),
        ));
    }
    let target = options
        .out_root
        .join(&file.name)
        .join(format!("{}-{}", options.from, options.to));
    system.potential()?;
    let loaded = system.denoiser(options.backend)?;
    // Fail early on an unwritable output directory, before any computation.
    let staged = Staged::new(&target)?;
    let sampler = Sampler::new(&system, Some(&loaded), &options.from, &options.to)?;
    progress.stage(
        &format!("{} route", request.route),
        file.geodesic.steps as u64,
    );
    let sampled = sampler.run(&request, &mut |step, objective| {
        progress.set(step as u64);
        if step % 10 == 0 {
            progress.message(&format!("objective {objective:.4}"));
        }
    })?;
    progress.stage("reference route beside", 0);
    let t_beside = Instant::now();
    let beside = compare::beside(&sampler, &request, &sampled)?;
    let beside_seconds = t_beside.elapsed().as_secs_f64();
    let t_outputs = Instant::now();
    let mut files = write_outputs(staged.path(), &system, &sampler, &sampled, options)?;
    let mut provenance = system.provenance(options.seed)?;
    if let Some(m) = &loaded.model_path {
        provenance = provenance.with_input(m)?;
    }
    if let Some(m) = &file.molecule {
        provenance = provenance.with_input(&m.free_energy)?;
        for extra in [m.relaxed_map(), m.check_surface()] {
            if extra.exists() {
                provenance = provenance.with_input(&extra)?;
            }
        }
    }
    let written = sampled
        .paths
        .iter()
        .filter(|p| !p.frames.is_empty())
        .count();
    let mut notes = Vec::new();
    if written < sampled.paths.len() {
        notes.push(format!(
            "trajectory files were written for {written} of {} paths (--max-trajectories)",
            sampled.paths.len()
        ));
    }
    let scoring = sampler.scoring();
    if !scoring.independent {
        notes.push(match sampler.representation().kind() {
            Kind::Cartesian => format!(
                "the paths are scored on {}, estimated from the run that gave the model its \
                 training data: not an independent estimate",
                scoring.description
            ),
            _ => format!(
                "the paths are scored on {}, which also guided them: the score is not \
                 independent",
                scoring.description
            ),
        });
    }
    if let Some(b) = &beside {
        notes.push(b.verdict.clone());
    }
    notes.push(
        "reach: a path reaches the target when it ends in the target's basin (steepest descent \
         on the scoring surface), whichever state is nearest"
            .into(),
    );
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
        route: sampled.route.clone(),
        scored_on: scoring.description.clone(),
        scoring_independent: scoring.independent,
        restraint: Restraint {
            stiffness_at_ends: lm.exp() / (s * s),
            paper_stiffness_at_ends: lm.exp(),
            data_scale: s,
            width_at_ends: s * (-0.5 * lm).exp(),
        },
        path_results: sampled.statistics.clone(),
        on_guiding_surface: sampled.on_guiding_surface.clone(),
        reference: sampler.reference().clone(),
        scoring_reference: (!std::ptr::eq(sampler.judged_reference(), sampler.reference()))
            .then(|| sampler.judged_reference().clone()),
        reference_route_beside: beside,
        warnings: sampled.warnings.clone(),
        notes,
        evaluations: Evaluations {
            run: sampled.evaluations.clone(),
            training_data: loaded.metadata.as_ref().map(|m| m.sampling_evaluations),
            reference_bounds: sampler.reference().evaluations,
        },
        molecule: sampled.backmap.clone(),
        all_atom_paths: sampled.cartesian.clone(),
        wall_seconds: WallTimes {
            stages: sampled.wall_seconds.clone(),
            reference: sampler.reference_seconds(),
            reference_route_beside: beside_seconds,
            outputs: t_outputs.elapsed().as_secs_f64(),
            total: t_total.elapsed().as_secs_f64(),
        },
        provenance,
        files,
    };
    write_json(&staged.path().join("summary.json"), &summary)?;
    Ok((summary, staged.publish()?))
}

fn write_outputs(
    dir: &Path,
    system: &System,
    sampler: &Sampler,
    sampled: &Sampled,
    options: &SampleOptions,
) -> Result<Vec<String>> {
    let file = &system.file;
    let names = file.coordinate_names();
    let data_names = sampler.representation().data_names();
    let mut files = Vec::new();
    // The route: λ, model-space coordinates, and the restraint centres the walkers follow.
    let mut header = vec!["lambda".to_string()];
    header.extend(data_names.iter().map(|n| format!("z_{n}")));
    header.extend(data_names.iter().map(|n| format!("centre_{n}")));
    let rows: Vec<Vec<f64>> = sampled
        .points
        .iter()
        .zip(&sampled.centres)
        .map(|(p, c)| p.iter().chain(c).copied().collect())
        .collect();
    table::write_csv(&dir.join("route.csv"), &header, &rows)?;
    files.push("route.csv".into());
    let reference = sampler.reference();
    let mut header = names.clone();
    header.push("energy".into());
    let rows: Vec<Vec<f64>> = reference
        .mep
        .iter()
        .zip(&reference.mep_energies)
        .map(|(p, e)| p.iter().copied().chain([*e]).collect())
        .collect();
    table::write_csv(&dir.join("mep.csv"), &header, &rows)?;
    files.push("mep.csv".into());
    // One row per path: its statistics.
    let stats = &sampled.statistics;
    let rows: Vec<Vec<f64>> = (0..sampled.paths.len())
        .map(|k| {
            let end = &sampled.paths[k].last;
            [k as f64, stats.max_energy[k], stats.closest_to_saddle[k]]
                .into_iter()
                .chain(end.iter().copied())
                .collect()
        })
        .collect();
    let mut header = ["path", "max_energy", "closest_to_saddle"]
        .map(String::from)
        .to_vec();
    header.extend(names.iter().map(|n| format!("end_{n}")));
    table::write_csv(&dir.join("paths.csv"), &header, &rows)?;
    files.push("paths.csv".into());

    match (&sampled.all_atom, &system.molecule) {
        (Some(all), Some(m)) => {
            let writer = m.molecule.writer();
            let first = match all.frames.first() {
                Some(f) => f[..1].to_vec(),
                None => vec![m.molecule.positions.clone()],
            };
            writer.write(&dir.join("topology.pdb"), "PDB", &first)?;
            files.push("topology.pdb".into());
            for (k, (frames, rows)) in all.frames.iter().zip(&all.rows).enumerate() {
                for ext in ["dcd", "xyz"] {
                    let name = format!("path_{k:03}.{ext}");
                    writer.write(&dir.join(&name), &ext.to_uppercase(), frames)?;
                    files.push(name);
                }
                let name = format!("path_{k:03}.csv");
                table::write_csv(&dir.join(&name), &all.header, rows)?;
                files.push(name);
            }
        }
        _ => {
            let written: Vec<_> = sampled
                .paths
                .iter()
                .filter(|p| !p.frames.is_empty())
                .collect();
            if let Some(first) = written.first() {
                trajectory::write_points(&dir.join("topology.pdb"), "PDB", &first.frames[..1])?;
                files.push("topology.pdb".into());
            }
            for (k, p) in written.iter().enumerate() {
                for ext in ["dcd", "xyz"] {
                    let name = format!("path_{k:03}.{ext}");
                    trajectory::write_points(&dir.join(&name), &ext.to_uppercase(), &p.frames)?;
                    files.push(name);
                }
            }
        }
    }
    if file.dim() == 2 {
        surface_plot(&dir.join("surface.png"), system, sampler, sampled, options)?;
        files.push("surface.png".into());
    }
    profile_plot(&dir.join("energy_profile.png"), system, sampler, sampled)?;
    files.push("energy_profile.png".into());
    Ok(files)
}

/// Paths drawn on the surface.
const DRAWN: usize = 16;

fn surface_plot(
    path: &Path,
    system: &System,
    sampler: &Sampler,
    sampled: &Sampled,
    options: &SampleOptions,
) -> Result<()> {
    let potential = sampler.scoring().surface;
    let d = system.file.domain();
    let shown: Vec<_> = sampled
        .paths
        .iter()
        .filter(|p| !p.frames.is_empty())
        .take(DRAWN)
        .collect();
    let mut curves: Vec<Curve> = shown
        .iter()
        .enumerate()
        .map(|(k, p)| Curve {
            label: if k == 0 {
                "transition paths".into()
            } else {
                String::new()
            },
            color: RGBColor(255, 255, 255),
            points: p
                .frames
                .iter()
                .step_by(if sampler.representation().kind() == Kind::Cartesian {
                    1
                } else {
                    8
                })
                .map(|f| [f[0], f[1]])
                .collect(),
            width: 1,
            dashed: false,
        })
        .collect();
    let r = sampler.reference();
    curves.push(Curve {
        label: "minimum-energy path".into(),
        color: RGBColor(20, 20, 20),
        points: r.mep.iter().map(|p| [p[0], p[1]]).collect(),
        width: 3,
        dashed: false,
    });
    curves.push(Curve {
        label: format!("restraint centres ({} route)", sampled.route.route),
        color: RGBColor(230, 40, 40),
        points: sampled
            .centres
            .iter()
            .map(|c| {
                let v = sampler.representation().variables_of(c);
                [v[0], v[1]]
            })
            .collect(),
        width: 3,
        dashed: true,
    });
    let mut markers: Vec<Marker> = system
        .file
        .states
        .iter()
        .map(|(name, x)| Marker {
            label: name.clone(),
            at: [x[0], x[1]],
            color: RGBColor(255, 255, 255),
        })
        .collect();
    markers.push(Marker {
        label: "saddle".into(),
        at: [r.saddle[0], r.saddle[1]],
        color: RGBColor(20, 20, 20),
    });
    let a = system.axis_labels();
    plot::map_with_curves(
        path,
        &format!(
            "{}: {} → {}, {} of {} paths{}",
            system.file.name,
            options.from,
            options.to,
            shown.len(),
            sampled.paths.len(),
            if system.molecule.is_some() {
                " on the free-energy surface"
            } else {
                ""
            }
        ),
        (&a[0], &a[1]),
        d[0],
        d[1],
        &|x, y| potential.energy(&[x, y]),
        &system.colour_scale()?,
        &curves,
        &markers,
    )
}

fn profile_plot(path: &Path, system: &System, sampler: &Sampler, sampled: &Sampled) -> Result<()> {
    let profiles: Vec<Vec<f64>> = sampled
        .paths
        .iter()
        .filter(|p| !p.energies.is_empty())
        .map(|p| p.energies.clone())
        .collect();
    let r = sampler.judged_reference();
    let unit = system.energy_unit();
    let mut refs = vec![plot::Reference {
        label: format!("MEP saddle {:.2} {unit}", r.saddle_energy)
            .trim_end()
            .into(),
        value: r.saddle_energy,
        color: RGBColor(20, 20, 20),
        dashed: false,
    }];
    if let Some(m) = r.minimax {
        refs.push(plot::Reference {
            label: format!("grid minimax bound {m:.2} {unit}")
                .trim_end()
                .into(),
            value: m,
            color: RGBColor(200, 40, 40),
            dashed: true,
        });
    }
    let what = if system.molecule.is_some() {
        "free energy"
    } else {
        "energy"
    };
    plot::energy_profiles(
        path,
        &format!(
            "{what} along {} of {} paths",
            profiles.len(),
            sampled.paths.len()
        ),
        &if system.molecule.is_some() {
            "free energy (kJ/mol)".to_string()
        } else {
            format!("energy (kT = {})", system.kt())
        },
        &profiles,
        &refs,
    )
}
