//! All-atom movies of paths in the variables: each written path back-mapped by restrained
//! minimisation from the previous structure.

use rayon::prelude::*;
use serde::Serialize;

use super::Request;
use crate::error::Result;
use crate::mm::align::kabsch_rmsd;
use crate::mm::backmap::backmap;
use crate::mm::cv::angle_distance;
use crate::paths::TransitionPath;
use crate::systems::System;

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

/// One path's structures and its `(step, path point…, back-mapped point…)` rows.
type Movie = (Vec<Vec<[f64; 3]>>, Vec<Vec<f64>>);

/// Back-maps every written path to a continuous all-atom movie (restrained minimisation from
/// the previous structure, every `every`-th Langevin frame and the last).
pub(super) fn all_atom(
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
