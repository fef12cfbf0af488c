//! System files: TOML describing the potential, temperature, named states and every stage's
//! settings, with defaults so that a short file works.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::denoiser::{MlpConfig, Network};
use crate::error::{Error, Result};
use crate::geometry::GeodesicConfig;
use crate::training::TrainingConfig;

/// Which energy surface.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PotentialSpec {
    /// The analytic Müller–Brown surface.
    MullerBrown,
    /// A 2-D grid of energies read from `file` (relative to the system file).
    Tabulated {
        file: PathBuf,
        #[serde(default)]
        periodic: bool,
    },
    /// A molecule in its backbone dihedrals (φ, ψ): `md` is its molecular system file (for
    /// `tps md`); `tps train` computes its free-energy surface by metadynamics and stores it at
    /// `fes`, on which paths are then sampled and back-mapped to atoms.
    Molecule { md: PathBuf, fes: PathBuf },
    /// An isotropic Gaussian mixture in any dimension (exact denoiser, no training).
    GaussianMixture {
        means: Vec<Vec<f64>>,
        weights: Vec<f64>,
        stds: Vec<f64>,
    },
}

/// Replica-exchange Boltzmann sampling (see `sampling`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplingConfig {
    /// Independent replica-exchange ladders run in parallel.
    #[serde(default = "d_chains")]
    pub chains: usize,
    /// Temperatures per ladder, geometric from kT to `max_temperature` × kT.
    #[serde(default = "d_replicas")]
    pub replicas: usize,
    /// Highest temperature as a multiple of kT.
    #[serde(default = "d_max_temperature")]
    pub max_temperature: f64,
    /// MALA steps per chain after burn-in.
    #[serde(default = "d_steps")]
    pub steps: usize,
    /// Steps discarded at the start (step sizes adapt during them).
    #[serde(default = "d_burn_in")]
    pub burn_in: usize,
    /// Keep every `thin`-th configuration of the target replica.
    #[serde(default = "d_thin")]
    pub thin: usize,
    /// Attempt neighbour swaps every this many steps.
    #[serde(default = "d_swap_every")]
    pub swap_every: usize,
}

fn d_chains() -> usize {
    16
}
fn d_replicas() -> usize {
    8
}
fn d_max_temperature() -> f64 {
    8.0
}
fn d_steps() -> usize {
    20_000
}
fn d_burn_in() -> usize {
    2_000
}
fn d_thin() -> usize {
    10
}
fn d_swap_every() -> usize {
    10
}

impl Default for SamplingConfig {
    fn default() -> Self {
        Self {
            chains: d_chains(),
            replicas: d_replicas(),
            max_temperature: d_max_temperature(),
            steps: d_steps(),
            burn_in: d_burn_in(),
            thin: d_thin(),
            swap_every: d_swap_every(),
        }
    }
}

/// The `[model]` section: the network (the dimension comes from the potential) and where the
/// trained model lives.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSection {
    pub network: Network,
    pub hidden: usize,
    pub blocks: usize,
    pub embedding: usize,
    pub input_scale: f64,
    /// Where the trained model lives; default `models/<name>.tpsmodel`.
    pub path: Option<PathBuf>,
}

impl Default for ModelSection {
    fn default() -> Self {
        let m = MlpConfig::new(1);
        Self {
            network: m.network,
            hidden: m.hidden,
            blocks: m.blocks,
            embedding: m.embedding,
            input_scale: m.input_scale,
            path: None,
        }
    }
}

/// Annealed Langevin dynamics along the geodesic.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionConfig {
    /// Log-SNR of the geodesic's endpoints.
    #[serde(default = "d_lambda_max")]
    pub lambda_max: f64,
    /// Langevin steps K at each geodesic point.
    #[serde(default = "d_steps_per_point")]
    pub steps_per_point: usize,
    /// Langevin step size ds (in squared model-space units).
    #[serde(default = "d_step_size")]
    pub step_size: f64,
    /// Independent paths.
    #[serde(default = "d_paths")]
    pub paths: usize,
    /// Molecules: back-map every this many Langevin frames to an all-atom structure.
    #[serde(default = "d_backmap_every")]
    pub backmap_every: usize,
}

fn d_backmap_every() -> usize {
    64
}

fn d_lambda_max() -> f64 {
    4.0
}
fn d_steps_per_point() -> usize {
    128
}
fn d_step_size() -> f64 {
    4e-4
}
fn d_paths() -> usize {
    8
}

impl Default for TransitionConfig {
    fn default() -> Self {
        Self {
            lambda_max: d_lambda_max(),
            steps_per_point: d_steps_per_point(),
            step_size: d_step_size(),
            paths: d_paths(),
            backmap_every: d_backmap_every(),
        }
    }
}

/// Reference minimum-energy path settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BarrierConfig {
    /// Images along the string.
    #[serde(default = "d_images")]
    pub images: usize,
    /// Grid points per axis for the minimax bound.
    #[serde(default = "d_grid")]
    pub grid: usize,
}

fn d_images() -> usize {
    64
}
fn d_grid() -> usize {
    400
}

impl Default for BarrierConfig {
    fn default() -> Self {
        Self {
            images: d_images(),
            grid: d_grid(),
        }
    }
}

/// A parsed system file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemFile {
    /// Short name used for model and output paths.
    pub name: String,
    /// The energy surface.
    pub potential: PotentialSpec,
    /// Thermal energy in the potential's unit (give this or `beta`).
    #[serde(rename = "kT")]
    pub kt: Option<f64>,
    /// Inverse thermal energy (give this or `kT`).
    pub beta: Option<f64>,
    /// Box `[[low, high], …]` per coordinate: for sampling starts, grids and plots.
    pub domain: Vec<[f64; 2]>,
    /// Named metastable states.
    pub states: BTreeMap<String, Vec<f64>>,
    #[serde(default)]
    pub sampling: SamplingConfig,
    #[serde(default)]
    pub model: ModelSection,
    #[serde(default)]
    pub training: TrainingConfig,
    #[serde(default)]
    pub geodesic: GeodesicConfig,
    #[serde(default)]
    pub transition: TransitionConfig,
    #[serde(default)]
    pub barrier: BarrierConfig,
}

/// A finite value above zero.
fn positive(v: f64) -> bool {
    v > 0.0 && v.is_finite()
}

fn invalid(file: &Path, field: &str, message: impl Into<String>) -> Error {
    Error::Config {
        file: file.display().to_string(),
        field: field.into(),
        message: message.into(),
    }
}

impl SystemFile {
    /// Reads and validates a system file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Parses and validates TOML text; `path` names it in errors and anchors relative files.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let mut file: SystemFile = toml::from_str(text).map_err(|e| Error::Parse {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        match &mut file.potential {
            PotentialSpec::Tabulated { file: f, .. } if f.is_relative() => {
                *f = base.join(&*f);
            }
            PotentialSpec::Molecule { md, fes } => {
                for f in [md, fes] {
                    if f.is_relative() {
                        *f = base.join(&*f);
                    }
                }
            }
            _ => {}
        }
        file.validate(path)?;
        Ok(file)
    }

    fn validate(&self, path: &Path) -> Result<()> {
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(invalid(path, "name", "letters, digits, `_` or `-` only"));
        }
        match (self.kt, self.beta) {
            (Some(_), Some(_)) => {
                return Err(invalid(path, "kT", "give either kT or beta, not both"));
            }
            (None, None) => return Err(invalid(path, "kT", "missing: give kT or beta")),
            (Some(v), None) | (None, Some(v)) if !positive(v) => {
                let field = if self.kt.is_some() { "kT" } else { "beta" };
                return Err(invalid(path, field, "must be positive and finite"));
            }
            _ => {}
        }
        let dim = self.dim();
        if let PotentialSpec::GaussianMixture {
            means,
            weights,
            stds,
        } = &self.potential
        {
            if means.is_empty() || means.iter().any(|m| m.len() != dim || m.is_empty()) {
                return Err(invalid(
                    path,
                    "potential.means",
                    "non-empty vectors of equal length",
                ));
            }
            if weights.len() != means.len() || weights.iter().any(|w| !positive(*w)) {
                return Err(invalid(
                    path,
                    "potential.weights",
                    "one positive weight per mean",
                ));
            }
            if stds.len() != means.len() || stds.iter().any(|s| !positive(*s)) {
                return Err(invalid(path, "potential.stds", "one positive std per mean"));
            }
        }
        if self.domain.len() != dim {
            return Err(invalid(
                path,
                "domain",
                format!("expected {dim} [low, high] pairs"),
            ));
        }
        if self.domain.iter().any(|[lo, hi]| !positive(hi - lo)) {
            return Err(invalid(
                path,
                "domain",
                "each pair must be [low, high] with low < high",
            ));
        }
        if self.states.is_empty() {
            return Err(invalid(path, "states", "define at least two named states"));
        }
        for (name, x) in &self.states {
            if x.len() != dim || x.iter().any(|v| !v.is_finite()) {
                return Err(invalid(
                    path,
                    &format!("states.{name}"),
                    format!("expected {dim} finite coordinates"),
                ));
            }
        }
        let s = &self.sampling;
        if s.chains == 0 || s.replicas == 0 || s.steps == 0 || s.thin == 0 || s.swap_every == 0 {
            return Err(invalid(
                path,
                "sampling",
                "chains, replicas, steps, thin and swap_every must be positive",
            ));
        }
        if !(s.max_temperature.is_finite() && s.max_temperature >= 1.0) {
            return Err(invalid(
                path,
                "sampling.max_temperature",
                "must be at least 1",
            ));
        }
        let t = &self.transition;
        if t.steps_per_point == 0 || t.paths == 0 || t.backmap_every == 0 || !positive(t.step_size)
        {
            return Err(invalid(
                path,
                "transition",
                "steps_per_point, paths and step_size must be positive",
            ));
        }
        if !t.lambda_max.is_finite() {
            return Err(invalid(path, "transition.lambda_max", "must be finite"));
        }
        if self.geodesic.points < 3 || self.geodesic.nodes == 0 {
            return Err(invalid(path, "geodesic", "points ≥ 3 and nodes ≥ 1"));
        }
        if self.barrier.images < 3 || self.barrier.grid < 8 {
            return Err(invalid(path, "barrier", "images ≥ 3 and grid ≥ 8"));
        }
        self.model_config()
            .validate()
            .map_err(|e| invalid(path, "model", e.to_string()))?;
        Ok(())
    }

    /// Data dimension implied by the potential.
    pub fn dim(&self) -> usize {
        match &self.potential {
            PotentialSpec::MullerBrown
            | PotentialSpec::Tabulated { .. }
            | PotentialSpec::Molecule { .. } => 2,
            PotentialSpec::GaussianMixture { means, .. } => means.first().map_or(0, Vec::len),
        }
    }

    /// Thermal energy kT.
    pub fn kt(&self) -> f64 {
        self.kt
            .unwrap_or_else(|| 1.0 / self.beta.expect("validated"))
    }

    /// The network architecture.
    pub fn model_config(&self) -> MlpConfig {
        MlpConfig {
            dim: self.dim(),
            network: self.model.network,
            hidden: self.model.hidden,
            blocks: self.model.blocks,
            embedding: self.model.embedding,
            input_scale: self.model.input_scale,
        }
    }

    /// Where the trained model is stored.
    pub fn model_path(&self) -> PathBuf {
        self.model
            .path
            .clone()
            .unwrap_or_else(|| PathBuf::from("models").join(format!("{}.tpsmodel", self.name)))
    }

    /// Coordinates of a named state, or an error listing the known ones.
    pub fn state(&self, name: &str) -> Result<&[f64]> {
        self.states.get(name).map(Vec::as_slice).ok_or_else(|| {
            Error::Invalid(format!(
                "unknown state `{name}`; this system defines: {}",
                self.states.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })
    }
}
