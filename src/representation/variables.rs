//! A molecule in its collective variables: the model learns the variables, the walkers move
//! on the free-energy surface, frames are judged on an independent surface where one exists,
//! and each written path is back-mapped to an all-atom movie by restrained minimisation from
//! the previous structure.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::surface::{Surface, surface_kit};
use super::{Finish, Finished, Kit, ReferenceCurve, Representation};
use crate::error::Result;
use crate::molecule::align::kabsch_rmsd;
use crate::molecule::backmap::backmap;
use crate::molecule::cv::angle_distance;
use crate::potential::Potential;
use crate::reference::Reference;
use crate::system::TransitionConfig;
use crate::system::{MolecularSystem, System};
use crate::walkers::TransitionPath;

/// A molecule's collective variables: its free-energy surface walked as a surface is (the
/// same endpoints, potential and reference route), with a molecule behind it.
pub struct Variables<'a> {
    system: &'a System,
    molecular: &'a MolecularSystem,
    surface: Surface<'a>,
}

impl<'a> Variables<'a> {
    /// The representation of a molecule in its variables.
    pub fn new(system: &'a System, molecular: &'a MolecularSystem) -> Result<Self> {
        Ok(Self {
            system,
            molecular,
            surface: Surface::new(system)?,
        })
    }
}

impl Representation for Variables<'_> {
    fn endpoints(&self, from: &str, to: &str) -> Result<(Vec<f64>, Vec<f64>)> {
        self.surface.endpoints(from, to)
    }

    fn potential(&self) -> Result<&dyn Potential> {
        self.surface.potential()
    }

    fn guide(&self) -> String {
        let path = self
            .system
            .file
            .molecule
            .as_ref()
            .map(|m| m.free_energy.display().to_string())
            .unwrap_or_default();
        format!("the free-energy surface {path}")
    }

    fn mep_is_route(&self) -> bool {
        self.surface.mep_is_route()
    }

    fn reference_route(
        &self,
        reference: &Reference,
        endpoints: (&[f64], &[f64]),
    ) -> Result<ReferenceCurve> {
        self.surface.reference_route(reference, endpoints)
    }

    fn kit<'a>(
        &'a self,
        _route: &[Vec<f64>],
        _config: &TransitionConfig,
        guided_by_energy: bool,
        saddle: &'a [f64],
    ) -> Result<Kit<'a>> {
        let check = self.molecular.check_surface()?.map(|c| c as &dyn Potential);
        Ok(surface_kit(
            self.surface.potential()?,
            check,
            guided_by_energy,
            saddle,
        ))
    }

    fn finish(&self, paths: Vec<TransitionPath>, finish: &Finish) -> Result<Finished> {
        let statistics = (finish.statistics)(&paths);
        let (movies, summary) = all_atom(
            self.system,
            self.molecular,
            &paths,
            finish.states,
            finish.config.backmap_every,
        )?;
        Ok(Finished {
            paths,
            statistics,
            all_atom: Some(movies),
            backmap: Some(summary),
            cartesian: None,
        })
    }

    fn grid_domain(&self) -> Option<([[f64; 2]; 2], bool)> {
        let pi = std::f64::consts::PI;
        Some(([[-pi, pi], [-pi, pi]], true))
    }

    fn data_names(&self) -> Vec<String> {
        self.surface.data_names()
    }

    fn variables_of(&self, x: &[f64]) -> Vec<f64> {
        self.surface.variables_of(x)
    }

    fn frames_note(&self, config: &TransitionConfig) -> String {
        format!(
            "each path frame is one annealed-Langevin step ({} per route point), not a unit \
             of physical time; all-atom structures are every {}-th step, back-mapped by \
             restrained minimisation",
            config.steps_per_point, config.backmap_every
        )
    }
}

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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Highest force-field energy (kJ/mol) of each written path's back-mapped structures: a
    /// score no surface in the variables produced.
    pub potential_energy_max: Vec<f64>,
    /// Energy minimum (kJ/mol) of the start basin, for comparison.
    pub start_minimum_energy: f64,
    /// Wall time of the back-mapping, s.
    pub backmap_seconds: f64,
}

impl AllAtomSummary {
    /// The summary of the parts of one run (each with its number of paths), in path order.
    pub fn merge(parts: &[(AllAtomSummary, usize)]) -> Option<Self> {
        let first = &parts.first()?.0;
        let rmsd: Vec<f64> = parts
            .iter()
            .flat_map(|(s, _)| s.rmsd_to_target_angstrom.iter().copied())
            .collect();
        let within: f64 = parts
            .iter()
            .map(|(s, n)| (s.fraction_within_0_75_rad * *n as f64).round())
            .sum();
        let paths: usize = parts.iter().map(|(_, n)| n).sum();
        Some(Self {
            structures_per_path: first.structures_per_path,
            rmsd_to_target_mean_angstrom: rmsd.iter().sum::<f64>() / rmsd.len().max(1) as f64,
            rmsd_to_target_angstrom: rmsd,
            fraction_within_0_75_rad: within / paths as f64,
            max_backmap_deviation_rad: parts
                .iter()
                .map(|(s, _)| s.max_backmap_deviation_rad)
                .fold(0.0, f64::max),
            potential_energy_max: parts
                .iter()
                .flat_map(|(s, _)| s.potential_energy_max.iter().copied())
                .collect(),
            start_minimum_energy: first.start_minimum_energy,
            backmap_seconds: parts.iter().map(|(s, _)| s.backmap_seconds).sum(),
        })
    }
}

/// One path's structures and its `(step, path point…, back-mapped point…)` rows.
type Movie = (Vec<Vec<[f64; 3]>>, Vec<Vec<f64>>);

/// Back-maps every written path to a continuous all-atom movie (restrained minimisation from
/// the previous structure, every `every`-th Langevin frame and the last).
fn all_atom(
    system: &System,
    molecular: &MolecularSystem,
    paths: &[TransitionPath],
    (from, to): (&str, &str),
    every: usize,
) -> Result<(AllAtom, AllAtomSummary)> {
    let m = &molecular.molecule;
    let (a, b) = (system.file.state(from)?, system.file.state(to)?);
    let start = molecular.minimum(from, a);
    let target = molecular.minimum(to, b);
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
                .map(|k| crate::molecule::cv::angle_difference(r[1 + d + k], r[1 + k]).abs())
                .fold(0.0, f64::max)
        })
        .fold(0.0, f64::max);
    let energy = |x: &[[f64; 3]]| {
        let mut forces = vec![[0.0; 3]; x.len()];
        m.forcefield.compute(x, &mut forces).total()
    };
    let potential_energy_max: Vec<f64> = results
        .iter()
        .map(|(f, _)| {
            f.iter()
                .map(|x| energy(x))
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect();
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
        potential_energy_max,
        start_minimum_energy: energy(&start),
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
