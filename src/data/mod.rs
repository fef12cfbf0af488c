//! What the model learns from: Boltzmann samples of a surface by [`replica_exchange`], and
//! samples from simulations made elsewhere (OpenMM, GROMACS, PLUMED, or `tps md`): trajectories
//! of the system's molecule, reduced to its collective variables, weighted by a PLUMED COLVAR
//! bias for enhanced-sampling runs.
//!
//! A frame at bias `V` carries the weight `exp(V/kT)` (normalised): right for a static bias, or
//! for a well-tempered run when the bias is corrected by PLUMED's `c(t)` (the `metad.rbias`
//! column written with `CALC_RCT`; `tps md` writes it too). The plain `metad.bias` of a
//! well-tempered run is right only once the bias has converged. The effective sample size
//! `(Σw)²/Σw²` says how many independent frames the weights leave.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::molecule::{Molecule, chfl};

mod records;
pub mod replica_exchange;
pub mod section;
pub mod surface;

pub use section::{DataConfig, SamplingConfig};

/// Frames reduced to collective variables, with their weights.
#[derive(Debug, Clone)]
pub struct Weighted {
    /// The variables of every kept frame (rad, wrapped to [−π, π)).
    pub points: Vec<Vec<f64>>,
    /// Normalised weights (sum 1).
    pub weights: Vec<f64>,
    /// The bias each frame was sampled under (kJ/mol; 0 without one).
    pub bias: Vec<f64>,
    /// The trajectory each frame comes from; a trajectory's frames are consecutive, in time.
    pub trajectory: Vec<usize>,
    /// Effective sample size `(Σw)²/Σw²`.
    pub effective_samples: f64,
    /// Things to know about the data.
    pub warnings: Vec<String>,
}

/// Below this effective sample size the weighted data are too few to learn from reliably.
pub const SMALL_SAMPLE: f64 = 500.0;
/// Below this effective fraction of the frames the weights are suspect: a well-tempered run
/// reweighted by its `c(t)`-corrected bias keeps about a quarter (24% for alanine dipeptide over
/// 2 × 10 ns), the same run by its uncorrected bias 7%.
pub const SMALL_EFFECTIVE_FRACTION: f64 = 0.15;

/// Reads the trajectories and COLVARs of `config` for `molecule` at thermal energy `kt`.
pub fn read(config: &DataConfig, molecule: &Molecule, kt: f64) -> Result<Weighted> {
    check_files_exist(config)?;
    let mut points = Vec::new();
    let mut biases = Vec::new();
    let mut trajectory = Vec::new();
    let mut warnings = Vec::new();
    for (k, path) in config.trajectories.iter().enumerate() {
        let structures = chfl::read(path, &molecule.topology)?;
        // Training data must be numbers: a frame that is not is refused here, by name.
        if let Some((f, atom)) = structures.frames.iter().enumerate().find_map(|(f, x)| {
            x.iter()
                .position(|p| p.iter().any(|v| !v.is_finite()))
                .map(|a| (f, a))
        }) {
            return Err(Error::Invalid(format!(
                "{}: frame {f} has a non-finite coordinate (atom {}); remove the frame or \
                 the trajectory from [data]",
                path.display(),
                atom + 1
            )));
        }
        warnings.extend(structures.warnings);
        let values: Vec<Vec<f64>> = structures
            .frames
            .iter()
            .map(|x| molecule.cv.values(x))
            .collect();
        let bias = match (config.colvar.get(k), &config.bias) {
            (Some(cv), Some(column)) => {
                let matched = records::bias_of(
                    cv,
                    column,
                    &values,
                    structures.times_ps.as_deref(),
                    molecule,
                    path,
                )?;
                if matched.dropped > 0 {
                    warnings.push(format!(
                        "{}: {} record(s) without a frame of {} (e.g. PLUMED's record at t = 0, or \
                         a finer COLVAR stride) were left out; the others matched the frames by time",
                        cv.display(),
                        matched.dropped,
                        path.display()
                    ));
                }
                Some(matched.bias)
            }
            _ => None,
        };
        for (i, v) in values.into_iter().enumerate().step_by(config.stride) {
            points.push(v.into_iter().map(wrap).collect());
            biases.push(bias.as_ref().map_or(0.0, |b| b[i]));
            trajectory.push(k);
        }
    }
    let log_weights: Vec<f64> = biases.iter().map(|b| b / kt).collect();
    let weights = normalised_exp(&log_weights);
    let effective_samples = effective_samples(&weights);
    let fraction = effective_samples / weights.len() as f64;
    if config.bias.is_some() && fraction < SMALL_EFFECTIVE_FRACTION {
        warnings.push(format!(
            "the weights leave {effective_samples:.0} effective samples of {} frames ({:.1}%): \
             weights this uneven usually mean a well-tempered bias without PLUMED's c(t) \
             correction (use metad.rbias, written with CALC_RCT) or a bias column other than \
             the one the run felt",
            weights.len(),
            100.0 * fraction
        ));
    } else if effective_samples < SMALL_SAMPLE {
        warnings.push(format!(
            "the weights leave {effective_samples:.0} effective samples of {} frames: too few \
             to learn the distribution reliably; run longer",
            weights.len()
        ));
    }
    Ok(Weighted {
        points,
        weights,
        bias: biases,
        trajectory,
        effective_samples,
        warnings,
    })
}

/// Files of a simulation not yet run: says which step makes them, not only that one is gone.
fn check_files_exist(config: &DataConfig) -> Result<()> {
    let fields = config
        .trajectories
        .iter()
        .map(|p| ("data.trajectories", p))
        .chain(config.colvar.iter().map(|p| ("data.colvar", p)));
    for (field, path) in fields {
        if !path.exists() {
            return Err(Error::Invalid(format!(
                "{field}: {} does not exist: run the simulation that writes it first (for \
                 the shipped systems/aldp_external.toml, `tps md systems/aldp.toml`), or point \
                 [data] at your own files",
                path.display()
            )));
        }
    }
    Ok(())
}

/// `exp(a_i)` normalised to sum 1 (the largest exponent taken out first).
pub fn normalised_exp(a: &[f64]) -> Vec<f64> {
    let top = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let raw: Vec<f64> = a.iter().map(|v| (v - top).exp()).collect();
    let sum: f64 = raw.iter().sum();
    raw.iter().map(|v| v / sum).collect()
}

/// Kish's effective sample size of normalised weights, `1/Σw²`.
pub fn effective_samples(weights: &[f64]) -> f64 {
    1.0 / weights.iter().map(|w| w * w).sum::<f64>()
}

/// `x` wrapped to [−π, π).
fn wrap(x: f64) -> f64 {
    (x + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) - std::f64::consts::PI
}

/// `count` samples drawn from the weighted points by systematic resampling (seeded): an
/// unweighted set with the weighted distribution.
pub fn resample(data: &Weighted, count: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let offset: f64 = rng.random::<f64>();
    let mut out = Vec::with_capacity(count);
    let mut cumulative = 0.0;
    let mut k = 0;
    for (p, w) in data.points.iter().zip(&data.weights) {
        cumulative += w * count as f64;
        while (k as f64 + offset) < cumulative && out.len() < count {
            out.push(p.clone());
            k += 1;
        }
    }
    out
}
