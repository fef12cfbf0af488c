//! The commands behind the CLI: each parses its options, calls the library, reports and
//! writes. No command calls another; the domain lives below.

pub mod barrier;
pub mod committor;
pub mod compare;
pub mod distance;
pub mod energy;
pub mod geodesic;
pub mod import;
pub mod md;
pub mod merge;
mod report;
pub mod sample;
pub mod train;

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::geometry::{AvoidRegion, Constraints, EnergyAware, LowVariance};
use crate::progress::Progress;
use crate::system::System;

/// Writes the reference minimum-energy path (its points in the variables `names`, then the
/// energy) as `mep.csv` in `dir`.
fn write_mep(dir: &Path, names: &[String], reference: &crate::reference::Reference) -> Result<()> {
    let mut header = names.to_vec();
    header.push("energy".into());
    let rows: Vec<Vec<f64>> = reference
        .mep
        .iter()
        .zip(&reference.mep_energies)
        .map(|(p, e)| p.iter().copied().chain([*e]).collect())
        .collect();
    crate::output::table::write_csv(&dir.join("mep.csv"), &header, &rows)
}

/// Geodesic constraints given on the command line, applied over the system file's.
#[derive(Debug, Clone, Default)]
pub struct ConstraintOptions {
    /// Start from no constraint (the paper's plain geodesic) instead of the file's.
    pub plain: bool,
    /// Low-variance floor on λ (model units).
    pub low_variance: Option<f64>,
    /// Energy-aware constraint with this weight.
    pub energy_weight: Option<f64>,
    /// Region-avoiding: the point `(λ, x…)` in data units and the smallest KL.
    pub avoid: Option<(Vec<f64>, f64)>,
    /// Weight of the low-variance and region-avoiding penalties given here.
    pub penalty_weight: f64,
    /// Sharpness of the low-variance penalty given here.
    pub sharpness: f64,
}

impl ConstraintOptions {
    /// Whether any constraint was given here.
    pub fn any(&self) -> bool {
        self.plain
            || self.low_variance.is_some()
            || self.energy_weight.is_some()
            || self.avoid.is_some()
    }

    /// The constraints to use: the file's (unless `plain`) with these on top, validated.
    pub fn apply(&self, file: &Constraints) -> Result<Constraints> {
        let mut c = if self.plain {
            Constraints::none()
        } else {
            file.clone()
        };
        if let Some(min_lambda) = self.low_variance {
            c.low_variance = Some(LowVariance {
                min_lambda: Some(min_lambda),
                below_ends: None,
                weight: self.penalty_weight,
                sharpness: self.sharpness,
            });
        }
        if let Some(weight) = self.energy_weight {
            c.energy = Some(EnergyAware { weight });
        }
        if let Some((point, min_kl)) = &self.avoid {
            c.avoid = Some(AvoidRegion {
                point: point.clone(),
                min_kl: *min_kl,
                weight: self.penalty_weight,
            });
        }
        c.validate()
            .map_err(|(f, m)| Error::Invalid(format!("constraint {f}: {m}")))?;
        Ok(c)
    }
}

/// Progress on stderr: a bar on a terminal; elsewhere a plain line when a stage starts and at
/// every quarter of it.
pub struct StderrProgress {
    terminal: bool,
    state: Mutex<Stage>,
}

#[derive(Default)]
struct Stage {
    bar: Option<ProgressBar>,
    name: String,
    total: u64,
    done: u64,
    quarter: u64,
    last_line: Option<std::time::Instant>,
}

/// Without a terminal, a long stage prints a line at least this often.
const QUIET_FOR_AT_MOST: Duration = Duration::from_secs(10);

impl StderrProgress {
    /// Progress on stderr (quiet: nothing).
    pub fn new(quiet: bool) -> Self {
        Self {
            terminal: !quiet && std::io::stderr().is_terminal(),
            state: Mutex::new(Stage {
                quarter: if quiet { u64::MAX } else { 0 },
                ..Stage::default()
            }),
        }
    }

    /// Ends the current stage's bar.
    pub fn finish(&self) {
        if let Ok(mut s) = self.state.lock()
            && let Some(bar) = s.bar.take()
        {
            bar.finish_and_clear();
        }
    }

    fn update(&self, f: impl FnOnce(&mut Stage)) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        f(&mut s);
        let done = s.done.min(s.total);
        if let Some(bar) = &s.bar {
            bar.set_position(done);
        } else if s.quarter != u64::MAX && s.total > 0 {
            let quarter = done * 4 >= (s.quarter + 1) * s.total;
            let overdue = s
                .last_line
                .is_some_and(|t| t.elapsed() >= QUIET_FOR_AT_MOST);
            if quarter || overdue {
                s.quarter = done * 4 / s.total;
                s.last_line = Some(std::time::Instant::now());
                eprintln!(
                    "{}: {done}/{} ({:.0}%)",
                    s.name,
                    s.total,
                    100.0 * done as f64 / s.total as f64
                );
            }
        }
    }
}

impl Progress for StderrProgress {
    fn stage(&self, name: &str, total: u64) {
        self.finish();
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        let quiet = s.quarter == u64::MAX;
        *s = Stage {
            name: name.to_string(),
            total,
            quarter: if quiet { u64::MAX } else { 0 },
            last_line: Some(std::time::Instant::now()),
            ..Stage::default()
        };
        if quiet {
            return;
        }
        if self.terminal {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{name:>12} [{{bar:32}}] {{pos}}/{{len}} {{msg}} ({{elapsed}}, eta {{eta}})"
                ))
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            s.bar = Some(bar);
        } else {
            eprintln!("{name}: started ({total} steps)");
        }
    }

    fn add(&self, n: u64) {
        self.update(|s| s.done += n);
    }

    fn set(&self, done: u64) {
        self.update(|s| s.done = done);
    }

    fn message(&self, text: &str) {
        if let Ok(s) = self.state.lock()
            && let Some(bar) = &s.bar
        {
            bar.set_message(text.to_string());
        }
    }
}

/// Writes pretty JSON atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::Invalid(format!("cannot encode {}: {e}", path.display())))?;
    crate::atomic::write(path, text.as_bytes())
}

/// Parses `a,b,c` into numbers; `what` names the option in errors.
pub fn parse_point(text: &str, what: &str) -> Result<Vec<f64>> {
    text.split(',')
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "{what}: `{v}` is not a finite number (expected comma-separated numbers)"
                    ))
                })
        })
        .collect()
}

/// The system file a result was made with, as it names it, refused unless its text and its
/// inputs are the ones recorded (`whose`: the result, in messages).
pub fn recorded_system(provenance: &crate::provenance::Provenance, whose: &str) -> Result<System> {
    let recorded = &provenance.system_file;
    let path = Path::new(recorded);
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Invalid(format!(
            "{whose} were made with the system file `{recorded}` (as named from where they \
             ran), which cannot be read from here ({e}); run from that directory"
        ))
    })?;
    if text != provenance.system_config {
        return Err(Error::Invalid(format!(
            "{recorded} is not the system file {whose} were made with (its text differs from \
             the one recorded); run where they ran, with that file"
        )));
    }
    let system = System::load(path)?;
    let now = system.provenance(None).inputs;
    if let Some((input, _)) = now
        .iter()
        .find(|(k, v)| provenance.inputs.get(*k).is_some_and(|r| r != *v))
    {
        return Err(Error::Invalid(format!(
            "{input} has changed since {whose} were made (its SHA-256 differs from the one \
             recorded)"
        )));
    }
    Ok(system)
}

/// Checks a `--paths` override: at least 1, at most [`crate::system::MAX_PATHS`].
pub fn check_paths_flag(paths: Option<usize>) -> Result<()> {
    match paths {
        Some(0) => Err(crate::error::Error::Invalid(
            "--paths must be at least 1".into(),
        )),
        Some(p) if p > crate::system::MAX_PATHS => Err(crate::error::Error::Invalid(format!(
            "--paths {p} is more than {} (split a larger run with --shard K/N)",
            crate::system::MAX_PATHS
        ))),
        _ => Ok(()),
    }
}

/// Fails now, before any work, unless `from` and `to` are two different states of `file`.
pub fn check_states(file: &crate::system::SystemFile, from: &str, to: &str) -> Result<()> {
    file.state(from)?;
    file.state(to)?;
    if from == to {
        return Err(Error::Invalid(format!(
            "--from and --to are both `{from}`: give two different states"
        )));
    }
    Ok(())
}

/// Fails now, before any work, if `dir` cannot take new files.
pub fn check_writable(dir: &Path) -> Result<()> {
    if let Some(file) = dir.ancestors().find(|a| a.is_file()) {
        return Err(Error::Invalid(format!(
            "cannot write into {}: {} is a file, not a directory",
            dir.display(),
            file.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let probe = dir.join(format!(".tps-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| Error::io(dir, e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}
