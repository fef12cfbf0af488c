//! The files of a run: its route, the minimum-energy path, a row per path and the
//! trajectories of the first paths. Path numbers are the paths' numbers in the whole run, so
//! that the shards of a run write the files of one unsharded run between them.

use std::path::Path;

use crate::error::Result;
use crate::output::{table, trajectory};
use crate::system::System;
use crate::workflows::transition::{Sampled, Sampler};

/// Writes `route.csv`, `mep.csv`, `paths.csv`, `topology.pdb` and the trajectories into
/// `dir`; returns the names written.
pub fn write(
    dir: &Path,
    system: &System,
    sampler: &Sampler,
    sampled: &Sampled,
) -> Result<Vec<String>> {
    let names = system.file.coordinate_names();
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
    super::super::write_mep(dir, &names, sampler.reference())?;
    files.push("mep.csv".into());
    table::write_csv(
        &dir.join("paths.csv"),
        &paths_header(&names),
        &path_rows(sampled),
    )?;
    files.push("paths.csv".into());
    files.extend(trajectories(dir, system, sampled)?);
    Ok(files)
}

/// The header of `paths.csv`.
pub fn paths_header(names: &[String]) -> Vec<String> {
    let mut header = ["path", "max_energy", "closest_to_saddle"]
        .map(String::from)
        .to_vec();
    header.extend(names.iter().map(|n| format!("end_{n}")));
    header
}

/// One row per path: its number in the run, its judged maximum, its closest approach to the
/// saddle and where it ended.
fn path_rows(sampled: &Sampled) -> Vec<Vec<f64>> {
    let stats = &sampled.statistics;
    (0..sampled.paths.len())
        .map(|k| {
            let end = &sampled.paths[k].last;
            [
                (sampled.indices.start + k) as f64,
                stats.max_energy[k],
                stats.closest_to_saddle[k],
            ]
            .into_iter()
            .chain(end.iter().copied())
            .collect()
        })
        .collect()
}

/// `topology.pdb` and `path_NNN.{dcd,xyz}` (and `path_NNN.csv` for molecules) of the paths
/// that kept their frames, numbered as in the whole run.
fn trajectories(dir: &Path, system: &System, sampled: &Sampled) -> Result<Vec<String>> {
    let mut files = Vec::new();
    let first = sampled.indices.start;
    match &sampled.all_atom {
        Some(all) => {
            let m = system.molecular("an all-atom movie")?;
            let writer = m.molecule.writer();
            let start = match all.frames.first() {
                Some(f) => f[..1].to_vec(),
                None => vec![m.molecule.positions.clone()],
            };
            writer.write(&dir.join("topology.pdb"), "PDB", &start)?;
            files.push("topology.pdb".into());
            for (k, (frames, rows)) in all.frames.iter().zip(&all.rows).enumerate() {
                let k = first + k;
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
        None => {
            let written: Vec<_> = sampled
                .paths
                .iter()
                .filter(|p| !p.frames.is_empty())
                .collect();
            if let Some(p) = written.first() {
                trajectory::write_points(&dir.join("topology.pdb"), "PDB", &p.frames[..1])?;
                files.push("topology.pdb".into());
            }
            for (k, p) in written.iter().enumerate() {
                let k = first + k;
                for ext in ["dcd", "xyz"] {
                    let name = format!("path_{k:03}.{ext}");
                    trajectory::write_points(&dir.join(&name), &ext.to_uppercase(), &p.frames)?;
                    files.push(name);
                }
            }
        }
    }
    Ok(files)
}
