//! System files: TOML naming an energy surface (analytic, tabulated, a Gaussian mixture, or a
//! molecule's free-energy surface in its collective variables), a temperature, named states and
//! each stage's settings. Every stage owns its section and its defaults; this file composes
//! them, anchors every path to the file's directory and checks every value before any work.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::TransitionConfig;
use crate::barrier::BarrierConfig;
use crate::data::DataConfig;
use crate::data::SamplingConfig;
use crate::error::{Error, Result};
use crate::geometry::GeodesicConfig;
use crate::model::denoiser::{MlpConfig, Network};
use crate::model::training::TrainingConfig;
use crate::molecule::{MdConfig, MetadynamicsConfig, MoleculeConfig};
use crate::toml_file::{self, Checks, anchor};

/// Which energy surface (systems without a `[molecule]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PotentialSpec {
    /// The analytic Müller–Brown surface (no keys: a struct variant, so that unknown keys are
    /// refused rather than ignored).
    MullerBrown {},
    /// A 2-D grid of energies read from `file`.
    Tabulated {
        /// The grid file.
        file: PathBuf,
        #[serde(default)]
        /// Whether the grid wraps around.
        periodic: bool,
    },
    /// An isotropic Gaussian mixture in any dimension (exact denoiser, no training).
    GaussianMixture {
        /// Component means.
        means: Vec<Vec<f64>>,
        /// Component weights.
        weights: Vec<f64>,
        /// Component standard deviations.
        stds: Vec<f64>,
    },
}

/// The `[model]` section: the network (the dimension comes from the system) and where the
/// trained model lives.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSection {
    /// Which network.
    pub network: Network,
    /// Width of the hidden layers.
    pub hidden: usize,
    /// Residual blocks.
    pub blocks: usize,
    /// Size of each sinusoidal embedding.
    pub embedding: usize,
    /// Scale of the coordinates before embedding.
    pub input_scale: f64,
    /// Where the trained model lives; default `models/<name>.tpsmodel` next to the file.
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

/// A parsed and checked system file, every path anchored to its directory.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemFile {
    /// Short name used for model and output paths.
    pub name: String,
    /// The energy surface (not for molecules: theirs is the free-energy surface).
    pub potential: Option<PotentialSpec>,
    /// A molecule: its topology, coordinates and collective variables.
    pub molecule: Option<MoleculeConfig>,
    /// Molecules: Langevin dynamics (also sets kT).
    pub md: Option<MdConfig>,
    /// Molecules: well-tempered metadynamics on the collective variables.
    pub metadynamics: Option<MetadynamicsConfig>,
    /// Molecules: learn from simulations made elsewhere instead of metadynamics.
    pub data: Option<DataConfig>,
    /// Thermal energy in the potential's unit (give this or `beta`; molecules: from
    /// `md.temperature`).
    #[serde(rename = "kT")]
    pub kt: Option<f64>,
    /// Inverse thermal energy.
    pub beta: Option<f64>,
    /// Box `[[low, high], …]` per coordinate: for sampling starts, grids and plots
    /// (molecules: one period of every angle).
    pub domain: Option<Vec<[f64; 2]>>,
    /// Named metastable states, in the system's coordinates.
    pub states: BTreeMap<String, Vec<f64>>,
    #[serde(default)]
    /// Boltzmann sampling.
    pub sampling: SamplingConfig,
    #[serde(default)]
    /// The network and where its model lives.
    pub model: ModelSection,
    #[serde(default)]
    /// Training of the model.
    pub training: TrainingConfig,
    #[serde(default)]
    /// The geodesic and its constraints.
    pub geodesic: GeodesicConfig,
    #[serde(default)]
    /// Annealed Langevin paths.
    pub transition: TransitionConfig,
    #[serde(default)]
    /// The reference barrier's resolution.
    pub barrier: BarrierConfig,
}

impl SystemFile {
    /// Reads, anchors and checks a system file.
    pub fn load(path: &Path) -> Result<(Self, String)> {
        let (file, text): (SystemFile, String) = toml_file::load(path)?;
        let file = file.anchored(path);
        file.check(path)?;
        Ok((file, text))
    }

    /// Parses, anchors and checks TOML text read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let file: SystemFile = toml_file::parse(text, path)?;
        let file = file.anchored(path);
        file.check(path)?;
        Ok(file)
    }

    fn anchored(mut self, path: &Path) -> Self {
        if let Some(PotentialSpec::Tabulated { file, .. }) = &mut self.potential {
            *file = anchor(path, file);
        }
        let name = self.name.clone();
        self.molecule = self.molecule.map(|m| m.anchored(path, &name));
        self.data = self.data.map(|d| d.anchored(path));
        let model = self
            .model
            .path
            .clone()
            .unwrap_or_else(|| PathBuf::from("models").join(format!("{}.tpsmodel", self.name)));
        self.model.path = Some(anchor(path, &model));
        self
    }

    fn check(&self, path: &Path) -> Result<()> {
        let c = Checks::new(path);
        c.require(
            !self.name.is_empty()
                && self
                    .name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-'),
            "name",
            "letters, digits, `_` or `-` only",
        )?;
        match (&self.molecule, &self.potential) {
            (Some(_), Some(_)) => {
                return Err(c.error(
                    "potential",
                    "a molecule's surface is its free energy: give [molecule] or [potential], \
                     not both",
                ));
            }
            (None, None) => {
                return Err(c.error("potential", "missing: give [potential] or [molecule]"));
            }
            _ => {}
        }
        self.check_temperature_and_domain(&c)?;
        self.check_mixture(&c)?;
        if let Some(m) = &self.metadynamics {
            super::engine_checks::metadynamics(m, &c)?;
        }
        if let Some(d) = &self.data {
            c.require(self.molecule.is_some(), "data", "[data] needs a [molecule]")?;
            c.require(
                !self.is_cartesian(),
                "data",
                "a Cartesian molecule learns from its own metadynamics; [data] serves the \
                 collective-variable representation",
            )?;
            d.check(&c)?;
        }
        self.check_states(&c)?;
        self.sampling.check(&c)?;
        self.training.check(&c)?;
        self.check_tilt(&c)?;
        self.geodesic.check(&c)?;
        self.transition.check(&c)?;
        self.barrier.check(&c)?;
        self.check_memory(&c)?;
        self.model_config(self.dim())
            .validate()
            .map_err(|e| c.error("model", e.to_string()))
    }

    /// A molecule takes its temperature from `[md]` and its domain from its angles; a surface
    /// needs `kT` or `beta` and a domain.
    fn check_temperature_and_domain(&self, c: &Checks) -> Result<()> {
        match &self.molecule {
            Some(m) => {
                m.check(c)?;
                let md = self.md();
                super::engine_checks::md(&md, c, "md")?;
                if let Some(kt) = self.kt {
                    c.require(
                        (kt - md.kt()).abs() <= 1e-6 * md.kt(),
                        "kT",
                        &format!(
                            "{kt} disagrees with md.temperature = {} K (kT = {:.6} kJ/mol); \
                             give only the temperature",
                            md.temperature,
                            md.kt()
                        ),
                    )?;
                }
                c.require(self.beta.is_none(), "beta", "molecules take md.temperature")?;
                c.require(
                    self.domain.is_none(),
                    "domain",
                    "a molecule's domain is one period of each angle; leave it out",
                )?;
            }
            None => {
                c.require(self.md.is_none(), "md", "[md] needs a [molecule]")?;
                c.require(
                    self.metadynamics.is_none(),
                    "metadynamics",
                    "[metadynamics] needs a [molecule]",
                )?;
                match (self.kt, self.beta) {
                    (Some(_), Some(_)) => {
                        return Err(c.error("kT", "give either kT or beta, not both"));
                    }
                    (None, None) => return Err(c.error("kT", "missing: give kT or beta")),
                    (Some(v), None) => c.positive(v, "kT")?,
                    (None, Some(v)) => c.positive(v, "beta")?,
                }
                let domain = self
                    .domain
                    .as_ref()
                    .ok_or_else(|| c.error("domain", "missing: one [low, high] per coordinate"))?;
                c.require(
                    domain.len() == self.dim(),
                    "domain",
                    &format!("expected {} [low, high] pairs", self.dim()),
                )?;
                c.require(
                    domain
                        .iter()
                        .all(|[lo, hi]| lo.is_finite() && hi.is_finite() && lo < hi),
                    "domain",
                    "each pair must be finite [low, high] with low < high",
                )?;
            }
        }
        Ok(())
    }

    /// A Gaussian mixture's means, weights and widths.
    fn check_mixture(&self, c: &Checks) -> Result<()> {
        if let Some(PotentialSpec::GaussianMixture {
            means,
            weights,
            stds,
        }) = &self.potential
        {
            let dim = means.first().map_or(0, Vec::len);
            c.require(
                dim > 0
                    && means
                        .iter()
                        .all(|m| m.len() == dim && m.iter().all(|v| v.is_finite())),
                "potential.means",
                "non-empty finite vectors of equal length",
            )?;
            let positive = |v: &[f64]| v.iter().all(|w| *w > 0.0 && w.is_finite());
            c.require(
                weights.len() == means.len() && positive(weights),
                "potential.weights",
                "one positive weight per mean",
            )?;
            c.require(
                stds.len() == means.len() && positive(stds),
                "potential.stds",
                "one positive std per mean",
            )?;
        }
        Ok(())
    }

    /// At least two named states, each inside the domain and apart from the others.
    fn check_states(&self, c: &Checks) -> Result<()> {
        c.require(
            self.states.len() >= 2,
            "states",
            "define at least two named states",
        )?;
        let domain = self.domain();
        for (name, x) in &self.states {
            c.require(
                x.len() == self.dim() && x.iter().all(|v| v.is_finite()),
                &format!("states.{name}"),
                &format!("expected {} finite coordinates", self.dim()),
            )?;
            c.require(
                x.iter()
                    .zip(&domain)
                    .all(|(v, [lo, hi])| *v >= *lo && *v <= *hi),
                &format!("states.{name}"),
                &if self.molecule.is_some() {
                    "angles must lie in one period, [−π, π] rad".to_string()
                } else {
                    format!("must lie inside the domain {domain:?}")
                },
            )?;
        }
        let names: Vec<&String> = self.states.keys().collect();
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                let (x, y) = (&self.states[*a], &self.states[*b]);
                let apart = x
                    .iter()
                    .zip(y)
                    .zip(&domain)
                    .any(|((p, q), [lo, hi])| (p - q).abs() > 1e-6 * (hi - lo));
                c.require(
                    apart,
                    &format!("states.{b}"),
                    &format!("is the same point as states.{a}: give distinct states"),
                )?;
            }
        }
        Ok(())
    }

    /// Refuses sizes whose memory would not fit: the geodesic's tensors (every point carries
    /// one tangent per dimension, or per probe, through every layer; the autodiff graph keeps
    /// about 24 copies) and the walkers' kept frames and profiles (in the variables; all-atom
    /// frames are kept every `backmap_every` steps).
    fn check_memory(&self, c: &Checks) -> Result<()> {
        // All-atom models have more coordinates than any exact trace takes: probes then.
        let dim = self.dim() as f64;
        let g = &self.geodesic;
        let tangents = if !self.is_cartesian() && self.dim() <= g.divergence.exact_max_dim {
            dim
        } else {
            g.divergence.probes as f64
        };
        let m = &self.model;
        let per_point = (1.0 + tangents) * (m.hidden as f64) * (m.blocks as f64 + 2.0) * 4.0 * 24.0;
        c.memory(g.points as f64 * per_point, "geodesic.points")?;
        let t = &self.transition;
        let frames = g.points as f64 * t.steps_per_point as f64 + 1.0;
        // Profiles of up to 64 paths and the frames of up to 16, 8 bytes a number.
        c.memory(
            frames * 8.0 * (64.0 + 16.0 * dim / t.backmap_every.max(1) as f64),
            "transition.steps_per_point",
        )
    }

    /// A tilt is a function of two variables (drawn by replica exchange on a 2-D surface;
    /// frames of a molecule, its own or from `[data]`, reweighted to it); not for a Gaussian
    /// mixture (no surface, nothing trained).
    fn check_tilt(&self, c: &Checks) -> Result<()> {
        if self.training.tilt_parameters().is_none() {
            return Ok(());
        }
        let why = if matches!(self.potential, Some(PotentialSpec::GaussianMixture { .. })) {
            Some("a Gaussian mixture has no surface to tilt (its denoiser is exact)")
        } else if self.dim() != 2 {
            Some("the tilt is tabulated on a 2-D surface (two collective variables)")
        } else {
            None
        };
        match why {
            Some(why) => Err(c.error("training.ensemble", why)),
            None => Ok(()),
        }
    }

    /// Steps of the independent metadynamics run that makes the check surface (its default,
    /// half the guiding run's, written here once); 0 without `[metadynamics]`.
    pub fn check_steps(&self) -> u64 {
        self.metadynamics
            .as_ref()
            .map_or(0, |m| m.check_steps.unwrap_or(self.md().steps / 2))
    }

    /// Force-field evaluations `tps train` spends on a molecule's training data: the guiding
    /// and the independent metadynamics runs, every walker (none for frames from `[data]`).
    pub fn force_field_training_evaluations(&self) -> u64 {
        if self.molecule.is_none() || self.metadynamics.is_none() || self.data.is_some() {
            return 0;
        }
        let md = self.md();
        (md.steps + self.check_steps()) * md.walkers as u64
    }

    /// Whether the model and paths work on all atoms' Cartesian coordinates.
    pub fn is_cartesian(&self) -> bool {
        self.molecule
            .as_ref()
            .is_some_and(|m| m.representation == crate::molecule::Coordinates::Cartesian)
    }

    /// The named states with their points, in name order.
    pub fn named_states(&self) -> Vec<(String, Vec<f64>)> {
        self.states
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Dimension of the states and of the surface: the molecule's collective variables, or the
    /// potential's (the data dimension, except for Cartesian molecules: see
    /// `System::data_dim`).
    pub fn dim(&self) -> usize {
        match (&self.molecule, &self.potential) {
            (Some(m), _) => m.cv.len(),
            (None, Some(PotentialSpec::GaussianMixture { means, .. })) => {
                means.first().map_or(0, Vec::len)
            }
            _ => 2,
        }
    }

    /// The `[md]` section (its defaults when absent).
    pub fn md(&self) -> MdConfig {
        self.md.clone().unwrap_or_default()
    }

    /// Thermal energy kT (kJ/mol for molecules).
    pub fn kt(&self) -> f64 {
        match (&self.molecule, self.kt, self.beta) {
            (Some(_), _, _) => self.md().kt(),
            (None, Some(kt), _) => kt,
            (None, None, Some(beta)) => 1.0 / beta,
            _ => unreachable!("checked: kT or beta"),
        }
    }

    /// The box of the coordinates.
    pub fn domain(&self) -> Vec<[f64; 2]> {
        match &self.domain {
            Some(d) => d.clone(),
            None => vec![[-std::f64::consts::PI, std::f64::consts::PI]; self.dim()],
        }
    }

    /// The network architecture for data of dimension `dim`.
    pub fn model_config(&self, dim: usize) -> MlpConfig {
        MlpConfig {
            dim,
            network: self.model.network,
            hidden: self.model.hidden,
            blocks: self.model.blocks,
            embedding: self.model.embedding,
            input_scale: self.model.input_scale,
        }
    }

    /// Where the trained model is stored (anchored to the file).
    pub fn model_path(&self) -> PathBuf {
        self.model.path.clone().expect("anchored on load")
    }

    /// Every file `tps train` writes: the model and, for a molecule, its surfaces.
    pub fn training_outputs(&self) -> Vec<PathBuf> {
        let mut out = vec![self.model_path()];
        if let Some(m) = &self.molecule {
            out.extend(m.surface_paths().all().map(Path::to_path_buf));
        }
        out
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

    /// Names of the coordinates (the molecule's variables, else `x1`, `x2`, …).
    pub fn coordinate_names(&self) -> Vec<String> {
        match &self.molecule {
            Some(m) => m.cv.iter().map(|v| v.name.clone()).collect(),
            None => (1..=self.dim()).map(|k| format!("x{k}")).collect(),
        }
    }
}
