//! Samples from simulations made elsewhere (OpenMM, GROMACS, PLUMED, or `tps md`): trajectories
//! of the system's molecule, reduced to its collective variables, weighted by a PLUMED COLVAR
//! bias for enhanced-sampling runs.
//!
//! A frame at bias `V` carries the weight `exp(V/kT)` (normalised): right for a static bias, or
//! for a well-tempered run when the bias is corrected by PLUMED's `c(t)` (the `metad.rbias`
//! column written with `CALC_RCT`; `tps md` writes it too). The plain `metad.bias` of a
//! well-tempered run is right only once the bias has converged. The effective sample size
//! `(Σw)²/Σw²` says how many independent frames the weights leave.

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::mm::{Molecule, chfl};
use crate::output::colvar::Colvar;
use crate::toml_file::{Checks, anchor};

/// The `[data]` section (paths relative to the system file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Trajectories of the molecule: DCD, XTC, TRR, NetCDF, multi-model PDB or XYZ, with the
    /// prmtop's atoms in its order.
    pub trajectories: Vec<PathBuf>,
    /// Use every `stride`-th frame.
    #[serde(default = "DataConfig::default_stride")]
    pub stride: usize,
    /// PLUMED COLVAR files, one per trajectory, a record per frame.
    #[serde(default)]
    pub colvar: Vec<PathBuf>,
    /// The COLVAR column holding the bias (kJ/mol) to reweight by.
    pub bias: Option<String>,
}

impl DataConfig {
    fn default_stride() -> usize {
        1
    }

    /// Anchors the paths to the system file `file`.
    pub fn anchored(mut self, file: &Path) -> Self {
        for p in self.trajectories.iter_mut().chain(self.colvar.iter_mut()) {
            *p = anchor(file, p);
        }
        self
    }

    /// Checks what can be checked without reading the files.
    pub fn check(&self, c: &Checks) -> Result<()> {
        c.require(
            !self.trajectories.is_empty(),
            "data.trajectories",
            "name at least one trajectory",
        )?;
        c.at_least(self.stride, 1, "data.stride")?;
        c.require(
            self.colvar.is_empty() || self.colvar.len() == self.trajectories.len(),
            "data.colvar",
            &format!(
                "one COLVAR per trajectory: {} for {} trajectories",
                self.colvar.len(),
                self.trajectories.len()
            ),
        )?;
        c.require(
            self.colvar.is_empty() == self.bias.is_none(),
            "data.bias",
            "give the COLVAR files and the name of their bias column together",
        )
    }

    /// Every file the data come from.
    pub fn files(&self) -> Vec<&PathBuf> {
        self.trajectories.iter().chain(&self.colvar).collect()
    }
}

/// Frames reduced to collective variables, with their weights.
#[derive(Debug, Clone)]
pub struct Weighted {
    /// The variables of every kept frame (rad, wrapped to [−π, π)).
    pub points: Vec<Vec<f64>>,
    /// Normalised weights (sum 1).
    pub weights: Vec<f64>,
    /// Effective sample size `(Σw)²/Σw²`.
    pub effective_samples: f64,
    /// Things to know about the data.
    pub warnings: Vec<String>,
}

/// Below this effective sample size the weighted data are too few to learn from reliably.
pub const SMALL_SAMPLE: f64 = 500.0;

/// Reads the trajectories and COLVARs of `config` for `molecule` at thermal energy `kt`.
pub fn read(config: &DataConfig, molecule: &Molecule, kt: f64) -> Result<Weighted> {
    let mut points = Vec::new();
    let mut log_weights = Vec::new();
    let mut warnings = Vec::new();
    for (k, path) in config.trajectories.iter().enumerate() {
        let structures = chfl::read(path, &molecule.topology)?;
        warnings.extend(structures.warnings);
        let values: Vec<Vec<f64>> = structures
            .frames
            .iter()
            .map(|x| molecule.cv.values(x))
            .collect();
        let bias = match (config.colvar.get(k), &config.bias) {
            (Some(cv), Some(column)) => Some(bias_of(cv, column, &values, molecule, path)?),
            _ => None,
        };
        for (i, v) in values.into_iter().enumerate().step_by(config.stride) {
            points.push(v.into_iter().map(wrap).collect());
            log_weights.push(bias.as_ref().map_or(0.0, |b| b[i] / kt));
        }
    }
    let top = log_weights
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let raw: Vec<f64> = log_weights.iter().map(|l| (l - top).exp()).collect();
    let sum: f64 = raw.iter().sum();
    let weights: Vec<f64> = raw.iter().map(|w| w / sum).collect();
    let effective_samples = 1.0 / weights.iter().map(|w| w * w).sum::<f64>();
    if effective_samples < SMALL_SAMPLE.min(0.1 * weights.len() as f64) || effective_samples < 50.0
    {
        warnings.push(format!(
            "the weights leave {effective_samples:.0} effective samples of {} frames: too few \
             to learn the distribution reliably; run longer or check the bias column",
            weights.len()
        ));
    }
    Ok(Weighted {
        points,
        weights,
        effective_samples,
        warnings,
    })
}

/// `x` wrapped to [−π, π).
fn wrap(x: f64) -> f64 {
    (x + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) - std::f64::consts::PI
}

/// The bias of every frame from a COLVAR whose records are the trajectory's frames; where the
/// COLVAR also holds the variables (by name), they must be the frames' to 0.01 rad.
fn bias_of(
    colvar: &Path,
    column: &str,
    values: &[Vec<f64>],
    molecule: &Molecule,
    trajectory: &Path,
) -> Result<Vec<f64>> {
    let c = Colvar::read(colvar)?;
    if c.rows.len() != values.len() {
        return Err(Error::Invalid(format!(
            "{}: {} records, but {} has {} frames: their times do not match (write both at \
             the same stride)",
            colvar.display(),
            c.rows.len(),
            trajectory.display(),
            values.len()
        )));
    }
    for (k, name) in molecule.cv.names.iter().enumerate() {
        let Ok(recorded) = c.column(name, colvar) else {
            continue;
        };
        if let Some((i, (r, v))) = recorded
            .iter()
            .zip(values)
            .enumerate()
            .find(|(_, (r, v))| crate::mm::cv::angle_difference(**r, v[k]).abs() > 0.01)
        {
            return Err(Error::Invalid(format!(
                "{}: record {} has {name} = {r:.4}, but frame {i} of {} has {:.4}: the records \
                 are not the frames",
                colvar.display(),
                i + 1,
                trajectory.display(),
                v[k]
            )));
        }
    }
    c.column(column, colvar)
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

/// A free-energy surface `−kT ln p` (kJ/mol, minimum 0) of two periodic variables from weighted
/// points: a Gaussian kernel estimate of width `width` (rad) on an `n × n` grid over
/// `[−π, π)²`, the density floored at `e^(−max_kt)` of its peak so that unvisited regions get
/// a high but finite free energy.
pub fn free_energy_estimate(
    data: &Weighted,
    n: usize,
    width: f64,
    kt: f64,
    max_kt: f64,
) -> Vec<f64> {
    let h = std::f64::consts::TAU / n as f64;
    let mut density = vec![0.0; n * n];
    let reach = (4.0 * width / h).ceil() as isize;
    for (p, w) in data.points.iter().zip(&data.weights) {
        let (ci, cj) = (
            ((p[0] + std::f64::consts::PI) / h).round() as isize,
            ((p[1] + std::f64::consts::PI) / h).round() as isize,
        );
        for dj in -reach..=reach {
            for di in -reach..=reach {
                let (i, j) = (
                    (ci + di).rem_euclid(n as isize),
                    (cj + dj).rem_euclid(n as isize),
                );
                let node = [
                    -std::f64::consts::PI + i as f64 * h,
                    -std::f64::consts::PI + j as f64 * h,
                ];
                let d2: f64 = (0..2)
                    .map(|k| crate::mm::cv::angle_difference(node[k], p[k]).powi(2))
                    .sum();
                density[j as usize * n + i as usize] += w * (-d2 / (2.0 * width * width)).exp();
            }
        }
    }
    let peak = density.iter().copied().fold(0.0, f64::max);
    let floor = peak * (-max_kt).exp();
    density
        .iter()
        .map(|d| -kt * (d.max(floor) / peak).ln())
        .collect()
}
