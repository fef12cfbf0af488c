//! `tps sample`: geodesic between two states, annealed Langevin paths along it, the reference
//! barrier, and every output under `out/<system>/<from>-<to>/`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use plotters::style::RGBColor;
use serde::Serialize;
use tracing::info;

use super::barrier::{Reference, reference, write_mep};
use super::{
    LoadedDenoiser, Provenance, load_denoiser, progress, publish_dir, staging_dir, write_json,
};
use crate::error::{Error, Result};
use crate::geometry::geodesic::straight_line;
use crate::geometry::{Constraints, GeodesicConfig, GeodesicProblem, Landscape};
use crate::mm::Backbone;
use crate::mm::backmap::{backmap, basin_minimum, heavy_atoms, kabsch_rmsd};
use crate::mm::config::Molecule;
use crate::mm::cv::angle_difference;
use crate::output::trajectory::MoleculeTopology;
use crate::output::{plot, table, trajectory};
use crate::paths::{TransitionPath, annealed_langevin};
use crate::systems::System;

/// Options of `tps sample` beyond the system file.
#[derive(Debug, Clone)]
pub struct SampleOptions {
    pub from: String,
    pub to: String,
    /// Overrides `transition.paths`.
    pub paths: Option<usize>,
    pub seed: u64,
    /// Geodesic constraints over the file's.
    pub constraints: super::ConstraintOptions,
    /// Root of the outputs (`out`).
    pub out_root: PathBuf,
    /// Trajectory files are written for at most this many paths.
    pub max_trajectories: usize,
}

/// Geodesic facts for the summary.
#[derive(Debug, Clone, Serialize)]
pub struct GeodesicSummary {
    pub energy: f64,
    pub length: f64,
    pub straight_line_energy: f64,
    pub straight_line_length: f64,
    pub iterations: usize,
    pub evaluations: usize,
    pub converged: bool,
    pub lowest_lambda: f64,
    /// The constraints used (avoid point in data units).
    pub constraints: Constraints,
}

/// Per-path results.
#[derive(Debug, Clone, Serialize)]
pub struct PathSummary {
    pub max_energy: Vec<f64>,
    pub max_energy_mean: f64,
    pub max_energy_std: f64,
    /// Nearest named state to each path's first and last frame.
    pub start_states: Vec<String>,
    pub end_states: Vec<String>,
    pub fraction_reaching_target: f64,
}

/// All-atom view of the paths of a molecule.
#[derive(Debug, Clone, Serialize)]
pub struct MoleculeSummary {
    /// All-atom frames per path (every `transition.backmap_every`-th Langevin frame).
    pub backmapped_frames_per_path: usize,
    pub backmap_seconds: f64,
    /// Heavy-atom RMSD (nm, after superposition) of each path's last structure to the
    /// target basin's minimum.
    pub rmsd_to_target_nm: Vec<f64>,
    pub rmsd_to_target_mean_nm: f64,
    /// Share of paths whose last (φ, ψ) lies within 0.75 rad of the target state.
    pub fraction_within_0_75_rad: f64,
    /// Largest deviation (rad) between a back-mapped structure's (φ, ψ) and its path point.
    pub max_backmap_deviation_rad: f64,
}

/// Back-mapped paths ready to write.
pub struct Atomistic {
    topology: MoleculeTopology,
    frames: Vec<Vec<Vec<[f64; 3]>>>,
    /// `(step, φ path, ψ path, φ, ψ)` per back-mapped frame.
    rows: Vec<Vec<Vec<f64>>>,
    summary: MoleculeSummary,
}

/// One path's structures and its `(step, φ path, ψ path, φ, ψ)` rows.
type Movie = (Vec<Vec<[f64; 3]>>, Vec<Vec<f64>>);

/// Turns every path into an all-atom movie by restrained minimisation, frame after frame.
fn backmap_paths(
    md: &Path,
    paths: &[TransitionPath],
    a: &[f64],
    b: &[f64],
    options: &SampleOptions,
    every: usize,
) -> Result<Atomistic> {
    use rayon::prelude::*;
    let mol = Molecule::load(md)?;
    let cv = Backbone::dipeptide(&mol.topology)?;
    let ff = &mol.forcefield;
    let start = basin_minimum(ff, &cv, &mol.positions, a[0], a[1]);
    let target = basin_minimum(ff, &cv, &mol.positions, b[0], b[1]);
    let heavy = heavy_atoms(&mol.topology);
    let shown = paths.len().min(options.max_trajectories);
    let results: Vec<Movie> = paths
        .par_iter()
        .enumerate()
        .map(|(k, p)| {
            let mut steps: Vec<usize> = (0..p.frames.len()).step_by(every).collect();
            if steps.last() != Some(&(p.frames.len() - 1)) {
                steps.push(p.frames.len() - 1);
            }
            // Paths beyond those written only need their last structure: back-map sparsely.
            if k >= shown {
                steps = steps
                    .into_iter()
                    .step_by(8)
                    .chain([p.frames.len() - 1])
                    .collect();
                steps.dedup();
            }
            let angles: Vec<(f64, f64)> = steps
                .iter()
                .map(|&s| (p.frames[s][0], p.frames[s][1]))
                .collect();
            let frames = backmap(ff, &cv, &start, &angles, 200);
            let rows = steps
                .iter()
                .zip(&angles)
                .zip(&frames)
                .map(|((&s, &(pp, ps)), x)| {
                    let (phi, psi) = cv.angles(x);
                    vec![s as f64, pp, ps, phi, psi]
                })
                .collect();
            (frames, rows)
        })
        .collect();
    let rmsd: Vec<f64> = results
        .iter()
        .map(|(f, _)| kabsch_rmsd(f.last().expect("frames"), &target, &heavy))
        .collect();
    let within = paths
        .iter()
        .filter(|p| {
            let last = p.frames.last().expect("frames");
            angle_difference(last[0], b[0]).hypot(angle_difference(last[1], b[1])) <= 0.75
        })
        .count();
    let deviation = results
        .iter()
        .flat_map(|(_, rows)| rows.iter())
        .map(|r| {
            angle_difference(r[3], r[1])
                .abs()
                .max(angle_difference(r[4], r[2]).abs())
        })
        .fold(0.0, f64::max);
    let (frames, rows): (Vec<_>, Vec<_>) = results.into_iter().unzip();
    Ok(Atomistic {
        topology: MoleculeTopology::new(&mol.topology, &mol.bonds()),
        summary: MoleculeSummary {
            backmapped_frames_per_path: rows[0].len(),
            backmap_seconds: 0.0,
            rmsd_to_target_mean_nm: rmsd.iter().sum::<f64>() / rmsd.len() as f64,
            rmsd_to_target_nm: rmsd,
            fraction_within_0_75_rad: within as f64 / paths.len() as f64,
            max_backmap_deviation_rad: deviation,
        },
        frames,
        rows,
    })
}

/// Energy evaluations spent.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluations {
    pub langevin: u64,
    pub training_data: Option<u64>,
}

/// Wall times in seconds.
#[derive(Debug, Clone, Serialize)]
pub struct WallTimes {
    pub geodesic: f64,
    pub langevin: f64,
    pub reference: f64,
    pub outputs: f64,
    pub total: f64,
}

/// `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub system: String,
    pub from: String,
    pub to: String,
    pub kt: f64,
    pub lambda_max: f64,
    pub paths: usize,
    pub model: Option<String>,
    pub geodesic: GeodesicSummary,
    pub path_results: PathSummary,
    pub reference: Reference,
    pub evaluations: Evaluations,
    /// Molecules: back-mapping and structural metrics.
    pub molecule: Option<MoleculeSummary>,
    pub wall_seconds: WallTimes,
    pub provenance: Provenance,
    /// Files written, relative to the output directory.
    pub files: Vec<String>,
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// The optimised geodesic in model space, with its summary; `config`'s constraints are in
/// data units (the avoid point) and mapped here.
pub fn solve_geodesic(
    loaded: &LoadedDenoiser,
    system: &System,
    start: &[f64],
    end: &[f64],
    config: &GeodesicConfig,
    seed: u64,
) -> Result<(Vec<Vec<f64>>, GeodesicSummary)> {
    let landscape = Landscape {
        potential: system.potential.as_ref(),
        kt: system.kt(),
        normalisation: &loaded.normalisation,
    };
    let model_config = GeodesicConfig {
        constraints: config.constraints.in_model_units(&loaded.normalisation),
        ..config.clone()
    };
    let config = &model_config;
    let mut problem = GeodesicProblem::new(
        loaded.denoiser.as_ref(),
        Some(landscape),
        start,
        end,
        config,
        seed,
        &loaded.device,
    )?;
    let bar = progress(config.steps as u64, "geodesic");
    let result = problem.solve(|step, objective| {
        bar.set_position(step as u64);
        if step % 50 == 0 {
            bar.set_message(format!("energy {objective:.4}"));
        }
    });
    bar.finish_and_clear();
    let g = result?;
    let (se, sl) = straight_line(loaded.denoiser.as_ref(), start, end, config, &loaded.device);
    info!(
        "geodesic: energy {:.4} (straight line {se:.4}), length {:.4} (straight {sl:.4}), {} Adam steps{}",
        g.energy,
        g.length,
        g.steps,
        if g.converged {
            ""
        } else {
            " (step limit reached)"
        }
    );
    let summary = GeodesicSummary {
        energy: g.energy,
        length: g.length,
        straight_line_energy: se,
        straight_line_length: sl,
        iterations: g.steps,
        evaluations: g.evaluations,
        converged: g.converged,
        lowest_lambda: g.points.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min),
        constraints: config.constraints.clone(),
    };
    Ok((g.points, summary))
}

/// Runs `tps sample` and returns its summary and output directory.
pub fn run(path: &Path, options: &SampleOptions) -> Result<(Summary, PathBuf)> {
    let t_total = Instant::now();
    let system = System::load(path)?;
    let file = &system.file;
    let (a, b) = (
        file.state(&options.from)?.to_vec(),
        file.state(&options.to)?.to_vec(),
    );
    if options.from == options.to {
        return Err(Error::Invalid(format!(
            "--from and --to are both `{}`",
            options.from
        )));
    }
    let target = options
        .out_root
        .join(&file.name)
        .join(format!("{}-{}", options.from, options.to));
    // Fail early on an unwritable output directory, before any computation.
    let staging = staging_dir(&target)?;
    let result = (|| {
        let loaded = load_denoiser(&system)?;
        let mut geo_config = file.geodesic.clone();
        geo_config.constraints = options.constraints.apply(&geo_config.constraints)?;
        let lm = file.transition.lambda_max;
        let norm = &loaded.normalisation;
        let start: Vec<f64> = std::iter::once(lm).chain(norm.to_model(&a)).collect();
        let end: Vec<f64> = std::iter::once(lm).chain(norm.to_model(&b)).collect();

        let t0 = Instant::now();
        let (geodesic, geo_summary) =
            solve_geodesic(&loaded, &system, &start, &end, &geo_config, options.seed)?;
        let t_geodesic = t0.elapsed().as_secs_f64();

        let mut transition = file.transition.clone();
        if let Some(p) = options.paths {
            transition.paths = p;
        }
        if transition.paths == 0 {
            return Err(Error::Invalid("--paths must be at least 1".into()));
        }
        let t1 = Instant::now();
        let paths = annealed_langevin(
            system.potential.as_ref(),
            system.kt(),
            norm,
            &geodesic,
            &a,
            &transition,
            options.seed,
        );
        let t_langevin = t1.elapsed().as_secs_f64();
        info!(
            "{} paths × {} frames in {t_langevin:.2} s",
            paths.len(),
            paths[0].frames.len()
        );

        let t2 = Instant::now();
        let reference = reference(&system, &options.from, &options.to)?;
        let t_reference = t2.elapsed().as_secs_f64();

        let t3 = Instant::now();
        let t_backmap = Instant::now();
        let atomistic = match system.molecule_file() {
            Some(md) => Some(backmap_paths(
                md,
                &paths,
                &a,
                &b,
                options,
                transition.backmap_every,
            )?),
            None => None,
        };
        let t_backmap = t_backmap.elapsed().as_secs_f64();
        let mut files = write_outputs(
            &staging,
            &Outputs {
                system: &system,
                geodesic: &geodesic,
                norm,
                paths: &paths,
                reference: &reference,
                options,
                atomistic: atomistic.as_ref(),
            },
        )?;
        let maxima: Vec<f64> = paths.iter().map(TransitionPath::max_energy).collect();
        let (mean, std) = mean_std(&maxima);
        let state_of = |x: &[f64]| system.nearest_state(x).0.to_string();
        let end_states: Vec<String> = paths
            .iter()
            .map(|p| state_of(p.frames.last().expect("frames")))
            .collect();
        let reached = end_states.iter().filter(|s| **s == options.to).count();
        let summary = Summary {
            system: file.name.clone(),
            from: options.from.clone(),
            to: options.to.clone(),
            kt: system.kt(),
            lambda_max: lm,
            paths: paths.len(),
            model: loaded.model_path.as_ref().map(|p| p.display().to_string()),
            geodesic: geo_summary,
            path_results: PathSummary {
                max_energy_mean: mean,
                max_energy_std: std,
                start_states: paths.iter().map(|p| state_of(&p.frames[0])).collect(),
                fraction_reaching_target: reached as f64 / paths.len() as f64,
                end_states,
                max_energy: maxima,
            },
            reference,
            evaluations: Evaluations {
                langevin: paths.iter().map(|p| p.frames.len() as u64).sum(),
                training_data: loaded.metadata.as_ref().map(|m| m.sampling_evaluations),
            },
            molecule: atomistic.map(|a| MoleculeSummary {
                backmap_seconds: t_backmap,
                ..a.summary
            }),
            wall_seconds: WallTimes {
                geodesic: t_geodesic,
                langevin: t_langevin,
                reference: t_reference,
                outputs: t3.elapsed().as_secs_f64(),
                total: t_total.elapsed().as_secs_f64(),
            },
            provenance: Provenance::new(&system, options.seed),
            files: vec![],
        };
        files.push("summary.json".into());
        let summary = Summary { files, ..summary };
        write_json(&staging.join("summary.json"), &summary)?;
        Ok(summary)
    })();
    match result {
        Ok(summary) => {
            publish_dir(&staging, &target)?;
            Ok((summary, target))
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

/// Everything `tps sample` writes.
struct Outputs<'a> {
    system: &'a System,
    geodesic: &'a [Vec<f64>],
    norm: &'a crate::denoiser::Normalisation,
    paths: &'a [TransitionPath],
    reference: &'a Reference,
    options: &'a SampleOptions,
    atomistic: Option<&'a Atomistic>,
}

fn write_outputs(dir: &Path, out: &Outputs) -> Result<Vec<String>> {
    let Outputs {
        system,
        geodesic,
        norm,
        paths,
        reference,
        options,
        atomistic,
    } = *out;
    let dim = system.file.dim();
    let mut files = Vec::new();
    // Geodesic: λ, model-space coordinates and their data-space image.
    let mut header = vec!["lambda".to_string()];
    header.extend(table::coordinate_names("z", dim));
    header.extend(table::coordinate_names("x", dim));
    let rows: Vec<Vec<f64>> = geodesic
        .iter()
        .map(|p| {
            let x = norm.to_data(&p[1..]);
            p.iter().copied().chain(x).collect()
        })
        .collect();
    table::write_csv(&dir.join("geodesic.csv"), &header, &rows)?;
    files.push("geodesic.csv".into());
    write_mep(&dir.join("mep.csv"), reference)?;
    files.push("mep.csv".into());

    let shown = paths.len().min(options.max_trajectories);
    match atomistic {
        Some(all) => {
            all.topology
                .write(&dir.join("topology.pdb"), "PDB", &all.frames[0][..1])?;
            files.push("topology.pdb".into());
            for (k, (frames, rows)) in all.frames.iter().zip(&all.rows).take(shown).enumerate() {
                for ext in ["dcd", "xyz"] {
                    let name = format!("path_{k:03}.{ext}");
                    all.topology
                        .write(&dir.join(&name), &ext.to_uppercase(), frames)?;
                    files.push(name);
                }
                let name = format!("path_{k:03}.csv");
                let header = ["step", "phi_path", "psi_path", "phi", "psi"].map(String::from);
                table::write_csv(&dir.join(&name), &header, rows)?;
                files.push(name);
            }
        }
        None => {
            trajectory::write_points(&dir.join("topology.pdb"), "PDB", &paths[0].frames[..1])?;
            files.push("topology.pdb".into());
            for (k, p) in paths.iter().take(shown).enumerate() {
                for ext in ["dcd", "xyz"] {
                    let name = format!("path_{k:03}.{ext}");
                    trajectory::write_points(&dir.join(&name), &ext.to_uppercase(), &p.frames)?;
                    files.push(name);
                }
            }
        }
    }
    if dim == 2 {
        let d = &system.file.domain;
        let potential = system.potential.as_ref();
        let span = (reference.saddle_energy - reference.start_energy)
            .abs()
            .max(1e-9)
            * 1.6;
        let mut curves: Vec<plot::Curve> = paths
            .iter()
            .take(16)
            .enumerate()
            .map(|(k, p)| plot::Curve {
                label: if k == 0 {
                    "transition paths".into()
                } else {
                    String::new()
                },
                color: RGBColor(255, 255, 255),
                points: p.frames.iter().step_by(8).map(|f| [f[0], f[1]]).collect(),
                width: 1,
            })
            .collect();
        curves.push(plot::Curve {
            label: "minimum-energy path".into(),
            color: RGBColor(20, 20, 20),
            points: reference.mep.iter().map(|p| [p[0], p[1]]).collect(),
            width: 3,
        });
        curves.push(plot::Curve {
            label: "geodesic (x part)".into(),
            color: RGBColor(230, 40, 40),
            points: rows.iter().map(|r| [r[1 + dim], r[2 + dim]]).collect(),
            width: 3,
        });
        plot::map_with_curves(
            &dir.join("surface.png"),
            &format!("{}: {} → {}", system.file.name, options.from, options.to),
            if atomistic.is_some() {
                ("φ (rad)", "ψ (rad)")
            } else {
                ("x1", "x2")
            },
            d[0],
            d[1],
            &|x, y| potential.energy(&[x, y]),
            span,
            &curves,
        )?;
        files.push("surface.png".into());
    }
    let mut refs = vec![(
        format!("saddle {:.2}", reference.saddle_energy),
        reference.saddle_energy,
        RGBColor(20, 20, 20),
    )];
    if let Some(m) = reference.minimax {
        refs.push((format!("grid minimax {m:.2}"), m, RGBColor(200, 40, 40)));
    }
    let profiles: Vec<Vec<f64>> = paths.iter().take(64).map(|p| p.energies.clone()).collect();
    plot::energy_profiles(
        &dir.join("energy_profile.png"),
        &format!("energy along {} paths", profiles.len()),
        if atomistic.is_some() {
            "free energy (kJ/mol)"
        } else {
            "potential energy"
        },
        &profiles,
        &refs,
    )?;
    files.push("energy_profile.png".into());
    Ok(files)
}
