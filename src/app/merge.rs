//! `tps merge`: the shards of one `tps sample` run (`--shard K/N`, each on its own job) put
//! back together into the directory one unsharded run writes — the same `paths.csv` byte for
//! byte, the same statistics number for number, the trajectories and the figures — after
//! checking that they are every part of one run, once.

use std::path::{Path, PathBuf};

use super::sample::{Summary, figures};
use super::write_json;
use crate::atomic::Staged;
use crate::error::{Error, Result};
use crate::representation::cartesian::CartesianSummary;
use crate::representation::variables::AllAtomSummary;
use crate::system::System;
use crate::workflows::transition::compare::Beside;
use crate::workflows::transition::{MeanStd, PathStatistics};

/// A shard read back.
struct Part {
    dir: PathBuf,
    summary: Summary,
}

fn read(dir: &Path) -> Result<Part> {
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let summary: Summary =
        serde_json::from_str(&text).map_err(|e| Error::parse(&path, e.to_string()))?;
    let Some(info) = &summary.shard else {
        return Err(Error::Invalid(format!(
            "{}: not a shard (written without --shard)",
            dir.display()
        )));
    };
    if info.first > info.end || info.end > info.total {
        return Err(Error::parse(
            &path,
            format!(
                "field `shard`: paths {}..{} of {} is not a part of a run",
                info.first, info.end, info.total
            ),
        ));
    }
    // Names that build paths are plain names: nothing a summary says can lead outside.
    for (field, name) in [
        ("system", &summary.system),
        ("from", &summary.from),
        ("to", &summary.to),
    ] {
        if !plain_name(name) {
            return Err(Error::parse(
                &path,
                format!("field `{field}`: `{name}` is not a plain name"),
            ));
        }
    }
    for name in &summary.files {
        if !plain_name(name) {
            return Err(Error::parse(
                &path,
                format!("field `files`: `{name}` is not a file name in the shard"),
            ));
        }
        if let Some(k) = path_number(name)
            && !(info.first..info.end).contains(&k)
        {
            return Err(Error::parse(
                &path,
                format!(
                    "field `files`: `{name}` is path {k}, outside the shard's paths {}..{}",
                    info.first, info.end
                ),
            ));
        }
    }
    let part = Part {
        dir: dir.to_path_buf(),
        summary,
    };
    check_rows(&part)?;
    check_trajectories(&part)?;
    Ok(part)
}

/// A name without separators or parent references.
fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// The path number of a trajectory file `path_NNN.ext`.
fn path_number(name: &str) -> Option<usize> {
    name.strip_prefix("path_")?.split_once('.')?.0.parse().ok()
}

/// Checks a part's `paths.csv` against its summary: one row per path of its range, numbered
/// as in the run, each with the maximum and closest approach the summary's statistics hold.
fn check_rows(part: &Part) -> Result<()> {
    let path = part.dir.join("paths.csv");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let info = part.summary.shard.as_ref().expect("checked on read");
    let stats = &part.summary.path_results;
    let rows: Vec<&str> = text.lines().skip(1).collect();
    let expected = info.end - info.first;
    if rows.len() != expected || stats.max_energy.len() != expected {
        return Err(Error::parse(
            &path,
            format!(
                "{} row(s) and {} path(s) in summary.json; the shard ran paths {}..{} ({expected})",
                rows.len(),
                stats.max_energy.len(),
                info.first,
                info.end
            ),
        ));
    }
    let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
    for (k, row) in rows.iter().enumerate() {
        let cells: Vec<f64> = row
            .split(',')
            .map(|c| c.trim().parse::<f64>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| Error::parse(&path, format!("row {}: `{row}` is not numbers", k + 1)))?;
        let agrees = cells.len() >= 3
            && cells[0] == (info.first + k) as f64
            && same(cells[1], stats.max_energy[k])
            && stats
                .closest_to_saddle
                .get(k)
                .is_none_or(|&c| same(cells[2], c));
        if !agrees {
            return Err(Error::parse(
                &path,
                format!(
                    "row {} (`{row}`) disagrees with summary.json's path {} (changed after the \
                     run?)",
                    k + 1,
                    info.first + k
                ),
            ));
        }
    }
    Ok(())
}

/// Checks that every trajectory a part lists is there and whole (DCDs read to their end).
fn check_trajectories(part: &Part) -> Result<()> {
    for name in part.summary.files.iter().filter(|n| n.starts_with("path_")) {
        let path = part.dir.join(name);
        if !path.is_file() {
            return Err(Error::Invalid(format!(
                "{}: listed in {} but missing",
                path.display(),
                part.dir.join("summary.json").display()
            )));
        }
        if name.ends_with(".dcd") {
            crate::output::dcd::read(&path)?;
        }
    }
    Ok(())
}

/// Refuses parts that are not every part of one run, exactly once.
fn check(parts: &mut [Part]) -> Result<()> {
    parts.sort_by_key(|p| p.summary.shard.as_ref().map_or(0, |s| s.shard.index));
    let first = &parts[0].summary;
    let info = first.shard.as_ref().expect("checked on read");
    let key = |s: &Summary| {
        let i = s.shard.as_ref().expect("checked on read");
        (
            s.system.clone(),
            s.from.clone(),
            s.to.clone(),
            s.route.route,
            s.provenance.seed,
            i.shard.count,
            i.total,
            i.route_sha256.clone(),
            s.provenance.inputs.clone(),
            s.scored_on.clone(),
        )
    };
    for p in parts.iter() {
        if key(&p.summary) != key(first) {
            return Err(Error::Invalid(format!(
                "{}: a shard of another run than {} (system, states, route, seed, shard count, \
                 paths, route points, model and surfaces must all be the same)",
                p.dir.display(),
                parts[0].dir.display()
            )));
        }
    }
    let indices: Vec<usize> = parts
        .iter()
        .map(|p| p.summary.shard.as_ref().expect("checked").shard.index)
        .collect();
    let dirs: Vec<&Path> = parts.iter().map(|p| p.dir.as_path()).collect();
    every_part_once(&indices, info.shard.count, &dirs)
}

/// Refuses shards whose sorted `indices` are not `0..count` exactly once, naming the first
/// shard missing or given twice (`dirs`: what was given, for the message).
pub fn every_part_once(indices: &[usize], count: usize, dirs: &[&Path]) -> Result<()> {
    let given = || {
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (k, &index) in indices.iter().enumerate() {
        if index != k {
            let (why, which) = if index < k {
                ("twice", index)
            } else {
                ("missing", k)
            };
            return Err(Error::Invalid(format!(
                "shard {which} of {count} is {why} (given: {})",
                given()
            )));
        }
    }
    if indices.len() != count {
        return Err(Error::Invalid(format!(
            "shard {} of {count} is missing (given: {})",
            indices.len(),
            given()
        )));
    }
    Ok(())
}

/// The statistics of the whole run from its parts'.
fn statistics(parts: &[Part], reference_minimax: Option<f64>) -> PathStatistics {
    let first = &parts[0].summary;
    let cat_f = |f: &dyn Fn(&PathStatistics) -> &Vec<f64>| -> Vec<f64> {
        parts
            .iter()
            .flat_map(|p| f(&p.summary.path_results).iter().copied())
            .collect()
    };
    PathStatistics::from_parts(
        cat_f(&|s| &s.max_energy),
        parts
            .iter()
            .flat_map(|p| p.summary.path_results.end_states.iter().cloned())
            .collect(),
        cat_f(&|s| &s.closest_to_saddle),
        &first.to,
        reference_minimax,
        first.kt,
    )
}

/// Merges the shard directories `dirs` under `out_root/<system>/<from>-<to>/`.
pub fn run(dirs: &[PathBuf], out_root: &Path) -> Result<(Summary, PathBuf)> {
    if dirs.is_empty() {
        return Err(Error::Invalid(
            "tps merge: give the shard directories".into(),
        ));
    }
    let mut parts: Vec<Part> = dirs.iter().map(|d| read(d)).collect::<Result<_>>()?;
    check(&mut parts)?;
    let first = parts[0].summary.clone();
    let system = super::recorded_system(
        &first.provenance,
        &format!(
            "the shards ({})",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )?;
    let judged = first
        .scoring_reference
        .clone()
        .unwrap_or(first.reference.clone());
    let target = out_root
        .join(&first.system)
        .join(format!("{}-{}", first.from, first.to));
    let staged = Staged::new(&target)?;
    let path_results = statistics(&parts, judged.minimax);
    let beside = first.reference_route_beside.as_ref().map(|_| {
        let baseline = beside_statistics(&parts, &first, judged.minimax);
        Beside::of(first.route.route, &path_results, &baseline)
    });
    let files = copy_files(&parts, staged.path())?;
    let mut merged = Summary {
        paths: path_results.max_energy.len(),
        trajectories_written: parts.iter().map(|p| p.summary.trajectories_written).sum(),
        on_guiding_surface: first.on_guiding_surface.as_ref().map(|_| {
            MeanStd::of(
                &parts
                    .iter()
                    .filter_map(|p| p.summary.shard.as_ref())
                    .flat_map(|s| s.guide_max.iter().copied())
                    .collect::<Vec<_>>(),
            )
        }),
        path_results,
        reference_route_beside: beside,
        molecule: AllAtomSummary::merge(
            &parts
                .iter()
                .filter_map(|p| {
                    p.summary
                        .molecule
                        .clone()
                        .map(|m| (m, p.summary.path_results.max_energy.len()))
                })
                .collect::<Vec<_>>(),
        ),
        all_atom_paths: CartesianSummary::merge(
            &parts
                .iter()
                .filter_map(|p| p.summary.all_atom_paths.clone())
                .collect::<Vec<_>>(),
            &first.to,
        ),
        shard: None,
        files,
        ..first.clone()
    };
    // This command made the merged result; the stages' times are the shards' sums.
    merged.provenance.command = crate::provenance::command();
    add_shards_work(&mut merged, &parts);
    merged.notes = merged_notes(&first, &merged, parts.len());
    draw(staged.path(), &system, &parts, &merged, &judged)?;
    merged.files.extend(figure_names(&system));
    merged.files.push("summary.json".into());
    write_json(&staged.path().join("summary.json"), &merged)?;
    Ok((merged, staged.publish()?))
}

/// The model-free route's statistics over every shard's paths.
fn beside_statistics(parts: &[Part], first: &Summary, minimax: Option<f64>) -> PathStatistics {
    let besides = || {
        parts
            .iter()
            .flat_map(|p| p.summary.reference_route_beside.iter())
    };
    PathStatistics::from_parts(
        besides()
            .flat_map(|b| b.max_energy.iter().copied())
            .collect(),
        besides()
            .flat_map(|b| b.end_states.iter().cloned())
            .collect(),
        Vec::new(),
        &first.to,
        minimax,
        first.kt,
    )
}

/// The shards' wall times and energy calls, summed into the merged summary (the route was
/// planned once: the first shard's calls).
fn add_shards_work(merged: &mut Summary, parts: &[Part]) {
    let sum = |f: &dyn Fn(&Summary) -> f64| parts.iter().map(|p| f(&p.summary)).sum::<f64>();
    merged.wall_seconds.stages.langevin = sum(&|s| s.wall_seconds.stages.langevin);
    merged.wall_seconds.stages.backmap = sum(&|s| s.wall_seconds.stages.backmap);
    merged.wall_seconds.reference_route_beside = sum(&|s| s.wall_seconds.reference_route_beside);
    merged.wall_seconds.outputs = sum(&|s| s.wall_seconds.outputs);
    merged.wall_seconds.total = sum(&|s| s.wall_seconds.total);
    let calls = |f: &dyn Fn(&Summary) -> u64| parts.iter().map(|p| f(&p.summary)).sum::<u64>();
    merged.evaluations.run.walkers = calls(&|s| s.evaluations.run.walkers);
    merged.evaluations.run.route = parts[0].summary.route.energy_evaluations;
    merged.evaluations.run.scoring = calls(&|s| s.evaluations.run.scoring);
}

/// The first shard's notes with the merged verdict of the model-free route in place of its own.
fn merged_notes(first: &Summary, merged: &Summary, shards: usize) -> Vec<String> {
    let own_verdict = |n: &&String| {
        first
            .reference_route_beside
            .as_ref()
            .is_none_or(|b| &b.verdict != *n)
    };
    first
        .notes
        .iter()
        .filter(own_verdict)
        .cloned()
        .chain(
            merged
                .reference_route_beside
                .iter()
                .map(|b| b.verdict.clone()),
        )
        .chain(std::iter::once(format!(
            "merged from {shards} shards by `tps merge` (wall times: the shards' sums)"
        )))
        .collect()
}

fn figure_names(system: &System) -> Vec<String> {
    let mut names = Vec::new();
    if system.file.dim() == 2 {
        names.push("surface.png".into());
    }
    names.push("energy_profile.png".into());
    names
}

/// Copies every part's trajectories and the shared files, and joins `paths.csv`.
fn copy_files(parts: &[Part], dir: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    let mut paths_csv = String::new();
    for (k, p) in parts.iter().enumerate() {
        let text = std::fs::read_to_string(p.dir.join("paths.csv"))
            .map_err(|e| Error::io(p.dir.join("paths.csv"), e))?;
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        if k == 0 {
            paths_csv.push_str(header);
            paths_csv.push('\n');
        }
        for line in lines {
            paths_csv.push_str(line);
            paths_csv.push('\n');
        }
        for name in &p.summary.files {
            let shared = ["route.csv", "mep.csv", "topology.pdb"].contains(&name.as_str());
            if name.starts_with("path_") || (k == 0 && shared) {
                let from = p.dir.join(name);
                std::fs::copy(&from, dir.join(name)).map_err(|e| Error::io(&from, e))?;
                files.push(name.clone());
            }
        }
    }
    crate::atomic::write(&dir.join("paths.csv"), paths_csv.as_bytes())?;
    files.push("paths.csv".into());
    Ok(files)
}

/// The figures of the whole run from the parts' drawings.
fn draw(
    dir: &Path,
    system: &System,
    parts: &[Part],
    merged: &Summary,
    judged: &crate::reference::Reference,
) -> Result<()> {
    let drawing = figures::Drawing::join(
        parts
            .iter()
            .filter_map(|p| p.summary.shard.as_ref().map(|s| s.drawing.clone()))
            .collect(),
    );
    let mep: Vec<Vec<f64>> = read_mep(&parts[0].dir.join("mep.csv"))?;
    let scoring = system.scoring_surface()?;
    let route = merged.route.route.to_string();
    let context = figures::FigureContext {
        system,
        surface: scoring.surface,
        mep: &mep,
        reference: judged,
        title: (&merged.from, &merged.to, &route, merged.paths),
    };
    if system.file.dim() == 2 {
        figures::surface(&dir.join("surface.png"), &context, &drawing)?;
    }
    figures::profiles(&dir.join("energy_profile.png"), &context, &drawing)
}

/// The minimum-energy path's points from `mep.csv` (its last column is the energy).
fn read_mep(path: &Path) -> Result<Vec<Vec<f64>>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    text.lines()
        .skip(1)
        .map(|l| {
            let mut v: Vec<f64> = l
                .split(',')
                .map(|x| {
                    x.parse()
                        .map_err(|_| Error::parse(path, format!("`{x}` is not a number")))
                })
                .collect::<Result<_>>()?;
            v.pop();
            Ok(v)
        })
        .collect()
}
