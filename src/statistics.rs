//! Statistics of a set of paths judged against the reference barrier, and the walkers' lag
//! behind their restraint.

use serde::{Deserialize, Serialize};

use crate::barrier::Basins;
use crate::reference::Reference;
use crate::walkers::TransitionPath;

/// Statistics of the paths.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PathStatistics {
    /// Highest energy along each path.
    pub max_energy: Vec<f64>,
    /// Mean of the per-path maxima.
    pub max_energy_mean: f64,
    /// Sample standard deviation of single paths' maxima (not of the mean).
    pub max_energy_std: f64,
    /// Median of the per-path maxima.
    pub max_energy_median: f64,
    /// Standard error of the mean over paths (annealed-Langevin noise only: one model, one
    /// geodesic).
    pub max_energy_sem: f64,
    /// The basin each path ends in (steepest descent on the scoring surface; states sharing
    /// a basin are joined by `/`, `other` for an unnamed one).
    pub end_states: Vec<String>,
    /// Share of the paths ending in the target's basin.
    pub fraction_reaching_target: f64,
    /// Each path's closest approach to the reference saddle (data units; NaN, written as
    /// null, where not recorded).
    #[serde(deserialize_with = "crate::output::json::nullable_f64s")]
    pub closest_to_saddle: Vec<f64>,
    /// `(mean per-path maximum − grid minimax bound) / kT`, when the bound exists.
    pub excess_over_minimax_kt: Option<f64>,
}

/// Mean and sample standard deviation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeanStd {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (of single values, not of the mean).
    pub std: f64,
}

impl MeanStd {
    /// Of `values`.
    pub fn of(values: &[f64]) -> Self {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = if values.len() > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        Self { mean, std }
    }
}

/// Walkers lag when the restraint centre moves more than this many restraint widths during
/// one of their relaxation times.
pub const MAX_LAG: f64 = 0.5;

/// The largest distance, in restraint widths `s·e^(−λ/2)`, that the restraint centre moves
/// during one relaxation time `2/(ds·e^λ/s²)` of a walker, over the geodesic.
pub fn walker_lag(
    potential: &dyn crate::potential::Potential,
    norm: &crate::model::denoiser::Normalisation,
    geodesic: &[Vec<f64>],
    walkers: &crate::walkers::WalkerParams,
) -> Option<f64> {
    let s = norm.scale;
    geodesic
        .windows(2)
        .map(|w| {
            let lambda = w[0][0].min(w[1][0]);
            let d = potential.displacement(&norm.centre(&w[0]), &norm.centre(&w[1]));
            let per_step =
                d.iter().map(|v| v * v).sum::<f64>().sqrt() / walkers.steps_per_point as f64;
            let relaxation = 2.0 * s * s / (walkers.step_size * lambda.exp());
            per_step * relaxation / (s * (-0.5 * lambda).exp())
        })
        .reduce(f64::max)
}

/// Paths crossing this many kT above the minimax bound are flagged.
pub const FLAG_EXCESS_KT: f64 = 2.0;

/// Statistics of judged paths (in the system's coordinates): reach is the basin each path
/// ends in (steepest descent on the scoring surface), the excess is over `bounds`' minimax.
pub fn statistics(
    paths: &[TransitionPath],
    basins: &Basins,
    to: &str,
    bounds: &Reference,
    kt: f64,
) -> PathStatistics {
    PathStatistics::from_parts(
        paths.iter().map(|p| p.max_energy).collect(),
        paths.iter().map(|p| basins.of(&p.last).name()).collect(),
        paths
            .iter()
            .map(|p| p.closest_approach.unwrap_or(f64::NAN))
            .collect(),
        to,
        bounds.minimax,
        kt,
    )
}

impl PathStatistics {
    /// From each path's maximum, end basin (states joined by `/`) and closest approach to the
    /// saddle, in path order: one run, or the parts of one run put back together.
    pub fn from_parts(
        maxima: Vec<f64>,
        end_states: Vec<String>,
        closest_to_saddle: Vec<f64>,
        to: &str,
        minimax: Option<f64>,
        kt: f64,
    ) -> Self {
        let n = maxima.len() as f64;
        let MeanStd { mean, std } = MeanStd::of(&maxima);
        let mut sorted = maxima.clone();
        sorted.sort_by(f64::total_cmp);
        let median = if sorted.len() % 2 == 1 {
            sorted[sorted.len() / 2]
        } else {
            0.5 * (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2])
        };
        let reached = end_states
            .iter()
            .filter(|b| b.split('/').any(|s| s == to))
            .count();
        Self {
            max_energy_mean: mean,
            max_energy_std: std,
            max_energy_median: median,
            max_energy_sem: std / n.sqrt(),
            fraction_reaching_target: reached as f64 / n,
            end_states,
            closest_to_saddle,
            excess_over_minimax_kt: minimax.map(|m| (mean - m) / kt),
            max_energy: maxima,
        }
    }
}
