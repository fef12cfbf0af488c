//! `tps committor`: shoots unbiased trajectories from the frames of a finished run (its own
//! system and states) or from frames a user gives, and writes where they commit:
//! `committor.csv`, `committor.json`, `committor.png`. For a run, into `RUN/committor/`,
//! leaving what the run wrote alone.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::sample::Summary;
use super::write_json;
use crate::atomic::Staged;
use crate::error::{Error, Result};
use crate::output::{plot, table};
use crate::progress::Progress;
use crate::provenance::Provenance;
use crate::system::System;
use crate::workflows::committor::{Committor, Histogram, ShotJudge, ShotSettings};
use crate::workflows::transition::Shard;

/// Which frames of a run are shot from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Select {
    /// Each path's highest frame on the scoring surface: its candidate transition state.
    Top,
    /// Each path's frame nearest the scoring surface's saddle.
    Saddle,
    /// Every frame.
    All,
    /// Every K-th frame of each path (and its last).
    Every(usize),
}

impl Select {
    /// As written on the command line.
    fn name(self) -> String {
        match self {
            Select::Every(k) => format!("every:{k}"),
            s => serde_json::to_value(s)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        }
    }

    /// Parses `top`, `saddle`, `all` or `every:K`.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "top" => Ok(Self::Top),
            "saddle" => Ok(Self::Saddle),
            "all" => Ok(Self::All),
            _ => match text.strip_prefix("every:").map(str::parse::<usize>) {
                Some(Ok(k)) if k >= 1 => Ok(Self::Every(k)),
                _ => Err(Error::Invalid(format!(
                    "--select `{text}`: expected top, saddle, all or every:K (K ≥ 1)"
                ))),
            },
        }
    }
}

/// Where the frames come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A finished `tps sample` run's directory.
    Run(PathBuf),
    /// A user's frames for a system and two of its states.
    Frames {
        /// The system file.
        system: PathBuf,
        /// Start state.
        from: String,
        /// Target state.
        to: String,
        /// DCD/XYZ/PDB of the molecule, or a CSV of points with a header (2-D systems).
        file: PathBuf,
    },
}

/// Options of `tps committor`.
#[derive(Debug, Clone)]
pub struct CommittorOptions {
    /// Frames.
    pub source: Source,
    /// Which of a run's frames (a user's file: every frame).
    pub select: Option<Select>,
    /// Shots per frame, the cores' depth and the time limit.
    pub settings: ShotSettings,
    /// Seed of the shots.
    pub seed: u64,
    /// Root of the outputs of a user's frames.
    pub out_root: PathBuf,
    /// Only this part of the frames (`tps merge` puts the parts together).
    pub shard: Option<Shard>,
}

/// One frame shot from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FrameCommittor {
    /// Its path in the run (0 for a user's file).
    pub path: usize,
    /// Its frame in that path (or file).
    pub frame: usize,
    /// Its variables.
    pub variables: Vec<f64>,
    /// Its free energy (energy) on the scoring surface.
    pub score: f64,
    /// Where its shots committed.
    #[serde(flatten)]
    pub committor: Committor,
    /// Mean time to commit: ps for molecules, walker time for surfaces.
    #[serde(deserialize_with = "crate::output::json::nullable_f64")]
    pub mean_commit_time: f64,
}

/// Where `p_B` crosses ½ along a path (between two frames shot from).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Crossing {
    /// The path.
    pub path: usize,
    /// The last frame below ½ before the first at or above it (none: never crosses).
    pub after_frame: Option<usize>,
}

/// `committor.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommittorReport {
    /// Name of the system.
    pub system: String,
    /// The state whose core is A.
    pub from: String,
    /// The state whose core is B.
    pub to: String,
    /// The frames' origin.
    pub source: String,
    /// The names of the variables given for every frame.
    pub variables: Vec<String>,
    /// Which frames.
    pub select: String,
    /// Shots per frame.
    pub shots: usize,
    /// The dynamics shot with, in words.
    pub dynamics: String,
    /// When a shot has committed, in words.
    pub cores: String,
    /// Longest shot (ps for molecules; walker time for surfaces).
    pub max_time: f64,
    /// Every frame.
    pub frames: Vec<FrameCommittor>,
    /// Over the frames shot from (with `top` or `saddle`: each path's transition-state
    /// candidate).
    pub transition_states: Histogram,
    /// Along each path, where `p_B` crosses ½ (frames in path order).
    pub crossings: Vec<Crossing>,
    /// Shots that did not commit within the time limit (left out of every `p_B`).
    pub undecided: usize,
    /// Things to know.
    pub warnings: Vec<String>,
    /// A part of the frames (`--shard K/N`): which, and its frames `first..end` of `total`.
    pub shard: Option<CommittorShard>,
    /// Command, configuration, seed and inputs.
    pub provenance: Provenance,
    /// Wall time, s.
    pub wall_seconds: f64,
}

/// Which frames a shard of a committor run shot from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommittorShard {
    /// Which part of how many.
    pub shard: Shard,
    /// Its first frame among all picked.
    pub first: usize,
    /// One past its last.
    pub end: usize,
    /// Frames picked in the whole run.
    pub total: usize,
    /// Where the whole run's result goes.
    pub target: PathBuf,
}

/// Frames with their path and index.
struct CandidateFrames {
    system: System,
    from: String,
    to: String,
    source: String,
    target: PathBuf,
    /// `(path, frame, coordinates)`: flattened positions (nm) for molecules, points otherwise.
    frames: Vec<(usize, usize, Vec<f64>)>,
    saddle: Option<Vec<f64>>,
}

/// A finished run's frames and system.
fn run_frames(dir: &Path) -> Result<CandidateFrames> {
    let path = dir.join("summary.json");
    if !path.is_file() {
        return Err(Error::Invalid(format!(
            "{} is not the output directory of a `tps sample` run (no summary.json in it); \
             give a run's directory, or a system file with --frames, --from and --to",
            dir.display()
        )));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let summary: Summary =
        serde_json::from_str(&text).map_err(|e| Error::parse(&path, e.to_string()))?;
    let system = super::recorded_system(
        &summary.provenance,
        &format!("the run in {}", dir.display()),
    )?;
    let mut files: Vec<(usize, PathBuf)> = summary
        .files
        .iter()
        .filter_map(|n| {
            let k = n
                .strip_prefix("path_")?
                .strip_suffix(".dcd")?
                .parse()
                .ok()?;
            Some((k, dir.join(n)))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::Invalid(format!(
            "{}: the run wrote no trajectory (path_NNN.dcd); run `tps sample` with \
             --max-trajectories above 0",
            dir.display()
        )));
    }
    let mut frames = Vec::new();
    for (k, file) in files {
        for (f, x) in system.read_frames(&file)?.into_iter().enumerate() {
            frames.push((k, f, x));
        }
    }
    let saddle = summary
        .scoring_reference
        .as_ref()
        .unwrap_or(&summary.reference)
        .saddle
        .clone();
    Ok(CandidateFrames {
        source: format!("the run in {}", dir.display()),
        target: dir.join("committor"),
        from: summary.from,
        to: summary.to,
        system,
        frames,
        saddle: Some(saddle),
    })
}

/// Runs `tps committor`; returns the report and the output directory.
pub fn run(
    options: &CommittorOptions,
    progress: &dyn Progress,
) -> Result<(CommittorReport, PathBuf)> {
    let t0 = Instant::now();
    options.settings.check()?;
    let frames = options.frames()?;
    let select = options.selection()?;
    let system = &frames.system;
    let judge = ShotJudge::new(system, &frames.from, &frames.to, options.settings)?;
    let surface = judge.scoring();
    let all = pick(&frames, select, system, surface);
    let range = options.shard.map_or(0..all.len(), |s| s.range(all.len()));
    if let Some(s) = options.shard.filter(|s| s.count > all.len()) {
        return Err(Error::Invalid(format!(
            "--shard {}/{}: more parts than the {} frames picked",
            s.index,
            s.count,
            all.len()
        )));
    }
    let picked = &all[range.clone()];
    let shard = options.shard.map(|s| CommittorShard {
        shard: s,
        first: range.start,
        end: range.end,
        total: all.len(),
        target: frames.target.clone(),
    });
    let staged = Staged::new(&shard_directory(&frames.target, options.shard))?;
    let starts: Vec<Vec<f64>> = picked.iter().map(|&k| frames.frames[k].2.clone()).collect();
    progress.stage("committor", starts.len() as u64);
    let results = judge.shoot(&starts, range.start, options.seed, &|n| progress.add(n));
    let rows: Vec<FrameCommittor> = picked
        .iter()
        .zip(results)
        .map(|(&k, c)| {
            let (path, frame, x) = &frames.frames[k];
            let v = judge.variables(x);
            FrameCommittor {
                path: *path,
                frame: *frame,
                score: surface.energy(&v),
                variables: v,
                mean_commit_time: c.mean_commit_steps * judge.time_per_step,
                committor: c,
            }
        })
        .collect();
    let undecided: usize = rows.iter().map(|r| r.committor.undecided).sum();
    let decided = rows.iter().filter(|r| r.committor.p_b.is_finite()).count();
    if decided == 0 && shard.is_none() {
        return Err(Error::Invalid(format!(
            "no shot of any frame committed to {} or {} within {:.4} ({} steps): the frames \
             are not between the two states, or --max-time is too short; nothing written",
            frames.from,
            frames.to,
            judge.max_time(),
            judge.max_steps
        )));
    }
    let report = CommittorReport {
        system: system.file.name.clone(),
        from: frames.from.clone(),
        to: frames.to.clone(),
        source: frames.source.clone(),
        variables: system.file.coordinate_names(),
        select: select.name(),
        shots: options.settings.shots,
        dynamics: judge.dynamics.clone(),
        cores: judge.cores_description.clone(),
        max_time: judge.max_time(),
        transition_states: Histogram::of(&[]),
        crossings: Vec::new(),
        undecided,
        frames: rows,
        warnings: Vec::new(),
        shard,
        provenance: system.provenance(Some(options.seed)),
        wall_seconds: t0.elapsed().as_secs_f64(),
    }
    .summarised();
    write(staged.path(), &report)?;
    Ok((report, staged.publish()?))
}

impl CommittorOptions {
    /// The frames to shoot from: a run's, or a file's for a system.
    fn frames(&self) -> Result<CandidateFrames> {
        let (system, from, to, file) = match &self.source {
            Source::Run(dir) => return run_frames(dir),
            Source::Frames {
                system,
                from,
                to,
                file,
            } => (system, from, to, file),
        };
        let system = System::load(system)?;
        super::check_states(&system.file, from, to)?;
        let frames = system
            .read_frames(file)?
            .into_iter()
            .enumerate()
            .map(|(f, x)| (0, f, x))
            .collect();
        Ok(CandidateFrames {
            source: file.display().to_string(),
            target: self
                .out_root
                .join(&system.file.name)
                .join(format!("committor-{from}-{to}")),
            from: from.clone(),
            to: to.clone(),
            system,
            frames,
            saddle: None,
        })
    }

    /// Which frames: `--select` of a run (its tops by default); all of a file's.
    fn selection(&self) -> Result<Select> {
        match (&self.source, self.select) {
            (Source::Frames { .. }, Some(s)) if s != Select::All => Err(Error::Invalid(
                "--select picks frames of a run's paths; a file given with --frames is shot \
                 from frame by frame"
                    .into(),
            )),
            (Source::Frames { .. }, _) => Ok(Select::All),
            (Source::Run(_), s) => Ok(s.unwrap_or(Select::Top)),
        }
    }
}

/// The output directory of a committor run, or of its shard.
fn shard_directory(target: &Path, shard: Option<Shard>) -> PathBuf {
    let Some(s) = shard else {
        return target.to_path_buf();
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    target.with_file_name(format!("{name}-shard-{}-of-{}", s.index, s.count))
}

impl CommittorReport {
    /// With the statistics of its frames: the histogram, the crossings, the undecided shots
    /// and what to say of them.
    fn summarised(mut self) -> Self {
        let shot: Vec<Committor> = self.frames.iter().map(|r| r.committor.clone()).collect();
        self.transition_states = Histogram::of(&shot);
        self.crossings = crossings(&self.frames);
        self.undecided = shot.iter().map(|c| c.undecided).sum();
        let decided = shot.iter().filter(|c| c.p_b.is_finite()).count();
        self.warnings.clear();
        if self.undecided > 0 {
            self.warnings.push(format!(
                "{} of {} shots committed to neither state within the time limit: they are \
                 left out of p_B and counted per frame (`undecided`); raise --max-time",
                self.undecided,
                self.frames.len() * self.shots
            ));
        }
        if decided < self.frames.len() {
            self.warnings.push(format!(
                "{} frame(s) have no committed shot and no p_B",
                self.frames.len() - decided
            ));
        }
        self
    }
}

/// Puts the shards of one committor run (`--shard K/N`) together into the directory the
/// unsharded run writes, after checking they are every part of it, once, and that each
/// holds the frames it says.
pub fn merge(dirs: &[PathBuf]) -> Result<(CommittorReport, PathBuf)> {
    let mut parts: Vec<(PathBuf, CommittorReport)> = dirs
        .iter()
        .map(|d| {
            let path = d.join("committor.json");
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            let r: CommittorReport =
                serde_json::from_str(&text).map_err(|e| Error::parse(&path, e.to_string()))?;
            match &r.shard {
                Some(s) if s.first <= s.end && s.end - s.first == r.frames.len() => {
                    Ok((d.clone(), r))
                }
                Some(_) => Err(Error::parse(&path, "its frames are not its shard's")),
                None => Err(Error::Invalid(format!(
                    "{}: not a shard (written without --shard)",
                    d.display()
                ))),
            }
        })
        .collect::<Result<_>>()?;
    parts.sort_by_key(|(_, r)| r.shard.as_ref().map_or(0, |s| s.shard.index));
    let key = |r: &CommittorReport| {
        let s = r.shard.as_ref().expect("checked");
        (
            (
                r.system.clone(),
                r.from.clone(),
                r.to.clone(),
                r.source.clone(),
                r.select.clone(),
            ),
            (
                r.shots,
                r.max_time.to_bits(),
                r.cores.clone(),
                r.provenance.seed,
            ),
            (
                r.provenance.inputs.clone(),
                s.shard.count,
                s.total,
                s.target.clone(),
            ),
        )
    };
    let first = key(&parts[0].1);
    let count = (first.2).1;
    for (dir, r) in &parts {
        if key(r) != first {
            return Err(Error::Invalid(format!(
                "{}: a shard of another committor run than {}",
                dir.display(),
                parts[0].0.display()
            )));
        }
    }
    let indices: Vec<usize> = parts
        .iter()
        .map(|(_, r)| r.shard.as_ref().expect("checked").shard.index)
        .collect();
    let given: Vec<&Path> = parts.iter().map(|(d, _)| d.as_path()).collect();
    super::merge::every_part_once(&indices, count, &given)?;
    let target = parts[0].1.shard.as_ref().expect("checked").target.clone();
    let staged = Staged::new(&target)?;
    let mut merged = parts[0].1.clone();
    merged.frames = parts.iter().flat_map(|(_, r)| r.frames.clone()).collect();
    merged.shard = None;
    merged.provenance.command = crate::provenance::command();
    merged.wall_seconds = parts.iter().map(|(_, r)| r.wall_seconds).sum();
    let merged = merged.summarised();
    write(staged.path(), &merged)?;
    Ok((merged, staged.publish()?))
}

/// The frames to shoot from (indices into `frames.frames`), path by path.
fn pick(
    frames: &CandidateFrames,
    select: Select,
    system: &System,
    surface: &dyn crate::potential::Potential,
) -> Vec<usize> {
    let mut by_path: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (k, (p, _, _)) in frames.frames.iter().enumerate() {
        by_path.entry(*p).or_default().push(k);
    }
    // Each frame's score and distance to the saddle once, not once per comparison.
    let energy = |k: usize| surface.energy(&system.frame_variables(&frames.frames[k].2));
    let from_saddle = |k: usize| {
        let saddle = frames.saddle.as_deref().unwrap_or(&[]);
        surface
            .displacement(&system.frame_variables(&frames.frames[k].2), saddle)
            .iter()
            .map(|v| v * v)
            .sum::<f64>()
    };
    by_path
        .values()
        .flat_map(|ks| -> Vec<usize> {
            match select {
                Select::All => ks.clone(),
                Select::Every(step) => ks
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % step == 0 || *i == ks.len() - 1)
                    .map(|(_, &k)| k)
                    .collect(),
                Select::Top => ks
                    .iter()
                    .map(|&k| (k, energy(k)))
                    .max_by(|a, b| a.1.total_cmp(&b.1))
                    .map(|(k, _)| k)
                    .into_iter()
                    .collect(),
                Select::Saddle => ks
                    .iter()
                    .map(|&k| (k, from_saddle(k)))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .map(|(k, _)| k)
                    .into_iter()
                    .collect(),
            }
        })
        .collect()
}

/// Where `p_B` first reaches ½ along each path's frames.
fn crossings(rows: &[FrameCommittor]) -> Vec<Crossing> {
    let mut paths: Vec<usize> = rows.iter().map(|r| r.path).collect();
    paths.dedup();
    paths
        .into_iter()
        .filter_map(|p| {
            let along: Vec<&FrameCommittor> = rows
                .iter()
                .filter(|r| r.path == p && r.committor.p_b.is_finite())
                .collect();
            (along.len() > 1).then(|| Crossing {
                path: p,
                after_frame: along
                    .windows(2)
                    .find(|w| w[0].committor.p_b < 0.5 && w[1].committor.p_b >= 0.5)
                    .map(|w| w[0].frame),
            })
        })
        .collect()
}

fn write(dir: &Path, report: &CommittorReport) -> Result<()> {
    let mut header: Vec<String> = vec!["path".into(), "frame".into()];
    header.extend(report.variables.iter().cloned());
    header.extend(
        [
            "score",
            "to",
            "from",
            "undecided",
            "p_b",
            "standard_error",
            "mean_commit_time",
        ]
        .map(String::from),
    );
    let rows: Vec<Vec<f64>> = report
        .frames
        .iter()
        .map(|r| {
            [r.path as f64, r.frame as f64]
                .into_iter()
                .chain(r.variables.iter().copied())
                .chain([
                    r.score,
                    r.committor.to as f64,
                    r.committor.from as f64,
                    r.committor.undecided as f64,
                    r.committor.p_b,
                    r.committor.standard_error,
                    r.mean_commit_time,
                ])
                .collect()
        })
        .collect();
    table::write_csv(&dir.join("committor.csv"), &header, &rows)?;
    write_json(&dir.join("committor.json"), report)?;
    let h = &report.transition_states;
    if h.frames > 0 && report.shard.is_none() {
        plot::histogram(
            &dir.join("committor.png"),
            &format!(
                "{}: {} → {}, p_B of {} frames × {} shots; {:.0}% in [0.3, 0.7]",
                report.system,
                report.from,
                report.to,
                h.frames,
                report.shots,
                100.0 * h.fraction_near_half
            ),
            &format!("p_B (reaching {} first)", report.to),
            (0.0, 1.0),
            &h.counts,
            &[0.5],
        )?;
    }
    Ok(())
}
