//! Systems: the file that composes everything, and a loaded system holding what the commands
//! need once: its energy surface, and for molecules the molecule itself, its free-energy and
//! relaxed potential-energy surfaces, and the energy minima of its states (computed on first
//! use, then kept).

mod engine_checks;
pub mod file;
mod frames;
pub mod model;
pub mod presentation;
mod relaxed;
mod route_kind;
pub mod surfaces;
mod transition;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use burn::tensor::Device;

pub use crate::molecule::load::SurfacePaths;
pub use file::{ModelSection, PotentialSpec, SystemFile};
pub use model::LoadedDenoiser;
pub use route_kind::RouteKind;
pub use transition::{MAX_PATHS, TransitionConfig};

use crate::error::{Error, Result};
use crate::model::denoiser::GaussianMixture;
use crate::molecule::Molecule;
use crate::molecule::backmap::basin_minimum;
use crate::potential::{MixturePotential, MullerBrown, Potential, Tabulated};
use surfaces::LazySurface;

/// A molecule with its surfaces (read on first use).
pub struct MolecularSystem {
    /// Topology, force field, starting structure, collective variables.
    pub molecule: Molecule,
    /// SHA-256 of the topology file: the origin its surfaces record.
    pub prmtop_sha256: String,
    free_energy: LazySurface,
    relaxed_map: LazySurface,
    check_surface: LazySurface,
    minima: Mutex<BTreeMap<String, Vec<[f64; 3]>>>,
}

impl MolecularSystem {
    /// The free-energy surface in the variables, if `tps train` (or the user) made it.
    pub fn free_energy(&self) -> Result<Option<&Tabulated>> {
        self.free_energy.get()
    }

    /// The relaxed potential-energy map `tps train` cached, if any.
    pub fn relaxed_map(&self) -> Result<Option<&Tabulated>> {
        self.relaxed_map.get()
    }

    /// The independent free-energy surface `tps train` made for scoring, if any.
    pub fn check_surface(&self) -> Result<Option<&Tabulated>> {
        self.check_surface.get()
    }

    /// Where its surfaces live: the files `tps train` publishes.
    pub fn surface_paths(&self) -> SurfacePaths {
        SurfacePaths {
            free_energy: self.free_energy.path().to_path_buf(),
            relaxed_map: self.relaxed_map.path().to_path_buf(),
            check_surface: self.check_surface.path().to_path_buf(),
        }
    }

    /// The surface files read so far, with the SHA-256 of what was read.
    fn read_surfaces(&self) -> impl Iterator<Item = (&Path, &str)> {
        [&self.free_energy, &self.relaxed_map, &self.check_surface]
            .into_iter()
            .filter_map(|s| s.sha256().map(|h| (s.path(), h)))
    }

    /// Cartesian molecules: the structure `x` superposed on heavy atoms onto the structure of
    /// `molecule.coordinates` and flattened: the model's coordinates. Training and sampling
    /// share it, so the model's frame is the same.
    pub fn cartesian(&self, x: &[[f64; 3]]) -> Vec<f64> {
        let m = &self.molecule;
        crate::molecule::align::flatten(&crate::molecule::align::align(
            x,
            &m.positions,
            &m.topology.heavy_atoms(),
        ))
    }

    /// The energy minimum of the basin of `state` (at `point` in the variables), minimised on
    /// first use and kept.
    pub fn minimum(&self, state: &str, point: &[f64]) -> Vec<[f64; 3]> {
        let mut minima = self.minima.lock().expect("not poisoned");
        minima
            .entry(state.to_string())
            .or_insert_with(|| {
                let m = &self.molecule;
                basin_minimum(&m.forcefield, &m.cv, &m.positions, point)
            })
            .clone()
    }
}

/// The surface paths are scored on.
pub struct ScoringSurface<'a> {
    /// The surface, in the system's coordinates.
    pub surface: &'a dyn Potential,
    /// What it is, for reports.
    pub description: String,
    /// Whether it is exact or estimated independently of the surface that guides.
    pub independent: bool,
    /// Whether it is the very surface that guides (its reference is the guide's).
    pub guides: bool,
    /// The file it was read from, if any.
    pub file: Option<PathBuf>,
}

/// A loaded system.
pub struct System {
    /// The parsed file.
    pub file: SystemFile,
    /// Where it was read from.
    pub path: PathBuf,
    /// The file's text (for provenance).
    pub text: String,
    /// SHA-256 of the input files read at load and since (topology, coordinates, tabulated
    /// surface, model), by path; surfaces read on first use are added by [`System::provenance`].
    inputs: Mutex<BTreeMap<String, String>>,
    /// The energy surface of a system without a molecule (a molecule's is its free-energy
    /// surface, read on first use).
    potential: Option<Box<dyn Potential>>,
    /// Cartesian molecules: the force field on all atoms, which the walkers move on.
    cartesian_field: Option<Box<dyn Potential>>,
    /// Molecules: the molecule and its surfaces.
    pub molecule: Option<MolecularSystem>,
}

impl System {
    /// Reads a system file and loads what it names; a molecule's surfaces are loaded if they
    /// exist (`tps train` makes them).
    pub fn load(path: &Path) -> Result<Self> {
        let (file, text) = SystemFile::load(path)?;
        let mut inputs = BTreeMap::new();
        let mut record = |file: &Path| -> Result<String> {
            let hash = crate::provenance::sha256_file(file)?;
            inputs.insert(file.display().to_string(), hash.clone());
            Ok(hash)
        };
        let (potential, molecule): (Option<Box<dyn Potential>>, _) = match &file.molecule {
            Some(config) => {
                let molecule = Molecule::load(config, path)?;
                let prmtop_sha256 = record(&config.prmtop)?;
                record(&config.coordinates)?;
                let paths = config.surface_paths();
                let lazy = |p: PathBuf| LazySurface::new(p, &prmtop_sha256);
                (
                    None,
                    Some(MolecularSystem {
                        molecule,
                        free_energy: lazy(paths.free_energy),
                        relaxed_map: lazy(paths.relaxed_map),
                        check_surface: lazy(paths.check_surface),
                        prmtop_sha256,
                        minima: Mutex::new(BTreeMap::new()),
                    }),
                )
            }
            None => {
                let p: Box<dyn Potential> = match file.potential.as_ref().expect("checked") {
                    PotentialSpec::MullerBrown {} => Box::new(MullerBrown),
                    PotentialSpec::Tabulated { file: f, periodic } => {
                        let surface = Tabulated::from_file(f, *periodic)?;
                        record(f)?;
                        Box::new(surface)
                    }
                    PotentialSpec::GaussianMixture {
                        means,
                        weights,
                        stds,
                    } => Box::new(MixturePotential {
                        means: means.clone(),
                        weights: weights.clone(),
                        stds: stds.clone(),
                    }),
                };
                (Some(p), None)
            }
        };
        if let Some(p) = &potential
            && p.dim() != file.dim()
        {
            return Err(Error::config(
                path,
                "potential",
                format!(
                    "the surface has {} coordinates, the system {}",
                    p.dim(),
                    file.dim()
                ),
            ));
        }
        let cartesian_field = match (&molecule, file.is_cartesian()) {
            (Some(m), true) => Some(
                Box::new(crate::molecule::ForceFieldPotential::new(&m.molecule))
                    as Box<dyn Potential>,
            ),
            _ => None,
        };
        Ok(Self {
            file,
            path: path.to_path_buf(),
            text,
            inputs: Mutex::new(inputs),
            potential,
            cartesian_field,
            molecule,
        })
    }

    /// Records an input file read after loading, with its SHA-256.
    pub fn record_input(&self, file: &Path, sha256: &str) {
        self.inputs
            .lock()
            .expect("not poisoned")
            .insert(file.display().to_string(), sha256.to_string());
    }

    /// The SHA-256 recorded for `file`, if it was read.
    fn recorded(&self, file: &Path) -> Option<String> {
        let inputs = self.inputs.lock().expect("not poisoned");
        inputs.get(&file.display().to_string()).cloned()
    }

    /// A system of `file` (read from `path`, without a molecule) whose surface is `potential`
    /// instead of the one the file names: for programs that bring their own energy.
    pub fn with_potential(
        file: SystemFile,
        path: &Path,
        potential: Box<dyn Potential>,
    ) -> Result<Self> {
        if file.molecule.is_some() || potential.dim() != file.dim() {
            return Err(Error::config(
                path,
                "potential",
                format!(
                    "a custom surface replaces a [potential] of the same dimension ({}), not a \
                     molecule",
                    file.dim()
                ),
            ));
        }
        Ok(Self {
            text: String::new(),
            inputs: Mutex::new(BTreeMap::new()),
            path: path.to_path_buf(),
            file,
            potential: Some(potential),
            cartesian_field: None,
            molecule: None,
        })
    }

    /// What the walkers move on: the surface, or for Cartesian molecules the force field on
    /// all atoms.
    pub fn potential(&self) -> Result<&dyn Potential> {
        match &self.cartesian_field {
            Some(p) => Ok(p.as_ref()),
            None => self.surface(),
        }
    }

    /// Dimension of the model's data: the surface's, or `3N` for Cartesian molecules.
    pub fn data_dim(&self) -> usize {
        match &self.cartesian_field {
            Some(p) => p.dim(),
            None => self.file.dim(),
        }
    }

    /// The molecule, for commands that run its force field (`command` names them); a
    /// surface is refused.
    pub fn molecular(&self, command: &str) -> Result<&MolecularSystem> {
        self.molecule.as_ref().ok_or_else(|| {
            Error::Invalid(format!(
                "{}: {command} needs a system with a [molecule]",
                self.path.display()
            ))
        })
    }

    /// Refuses a system whose denoiser is exact (a Gaussian mixture): there is nothing to
    /// train.
    pub fn require_training(&self) -> Result<()> {
        if self.is_exact() {
            return Err(Error::Invalid(format!(
                "{}: a Gaussian mixture uses its exact denoiser; there is nothing to train",
                self.path.display()
            )));
        }
        Ok(())
    }

    /// The variables of a frame (flattened positions for a molecule, a point otherwise).
    pub fn frame_variables(&self, x: &[f64]) -> Vec<f64> {
        match &self.molecule {
            Some(m) => m.molecule.cv.values(&crate::molecule::align::unflatten(x)),
            None => x.to_vec(),
        }
    }

    /// Refuses Cartesian molecules for commands that take points in the variables.
    pub fn require_variables(&self, command: &str) -> Result<()> {
        if self.file.is_cartesian() {
            return Err(Error::config(
                &self.path,
                "molecule.representation",
                format!(
                    "`tps {command}` takes points in the variables; a Cartesian molecule's \
                     model lives on all atoms: use `tps sample` with named states"
                ),
            ));
        }
        Ok(())
    }

    /// The network architecture for this system's data.
    pub fn model_config(&self) -> crate::model::denoiser::MlpConfig {
        self.file.model_config(self.data_dim())
    }

    /// The energy surface in the system's coordinates (a molecule's variables), which states,
    /// reference barriers and plots live on; for a molecule without one yet, an error saying
    /// how to make it.
    pub fn surface(&self) -> Result<&dyn Potential> {
        if let Some(p) = &self.potential {
            return Ok(p.as_ref());
        }
        let m = self
            .molecule
            .as_ref()
            .expect("a system without a potential is a molecule");
        match m.free_energy()? {
            Some(fes) => Ok(fes),
            None => Err(Error::Surface(format!(
                "{}: no free-energy surface yet; run `tps train {}` first",
                m.free_energy.path().display(),
                self.path.display()
            ))),
        }
    }

    /// A molecule's relaxed potential-energy map, where `tps train` made it (`None` for a
    /// surface).
    pub fn relaxed_map(&self) -> Result<Option<&Tabulated>> {
        match &self.molecule {
            Some(m) => m.relaxed_map(),
            None => Ok(None),
        }
    }

    /// The surface paths are scored on, in the system's coordinates: an independent estimate
    /// where one exists (a molecule's second free-energy surface), else the system's own.
    pub fn scoring_surface(&self) -> Result<ScoringSurface<'_>> {
        let surface = self.surface()?;
        Ok(match (&self.molecule, &self.file.molecule) {
            (Some(m), Some(config)) => match m.check_surface()? {
                Some(check) => ScoringSurface {
                    surface: check,
                    description: format!(
                        "independent free-energy surface {} (its own metadynamics run)",
                        config.surface_paths().check_surface.display()
                    ),
                    independent: true,
                    guides: false,
                    file: Some(config.surface_paths().check_surface),
                },
                None => ScoringSurface {
                    surface,
                    description: format!(
                        "the free-energy surface {} (no independent surface {} yet: \
                         `tps train` makes it)",
                        config.free_energy.display(),
                        config.surface_paths().check_surface.display()
                    ),
                    independent: false,
                    guides: true,
                    file: Some(config.free_energy.clone()),
                },
            },
            _ => ScoringSurface {
                surface,
                description: match &self.file.potential {
                    Some(PotentialSpec::Tabulated { file, .. }) => format!(
                        "the tabulated surface {} itself (exact: the system is that surface)",
                        file.display()
                    ),
                    _ => "the analytic surface itself (exact)".into(),
                },
                independent: true,
                guides: true,
                file: None,
            },
        })
    }

    /// The provenance of a result computed from this system with `seed` (none for results
    /// without randomness): the command, the file's text as loaded and the SHA-256 of every
    /// input read so far.
    pub fn provenance(&self, seed: Option<u64>) -> crate::provenance::Provenance {
        let mut inputs = self.inputs.lock().expect("not poisoned").clone();
        if let Some(m) = &self.molecule {
            for (file, hash) in m.read_surfaces() {
                inputs.insert(file.display().to_string(), hash.to_string());
            }
        }
        crate::provenance::Provenance::new(&self.path, &self.text, seed, inputs)
    }

    /// Thermal energy.
    pub fn kt(&self) -> f64 {
        self.file.kt()
    }

    /// Whether the system has an exact denoiser (Gaussian mixtures need no training).
    pub fn is_exact(&self) -> bool {
        matches!(
            self.file.potential,
            Some(PotentialSpec::GaussianMixture { .. })
        )
    }

    /// The exact denoiser, for systems that are Gaussian mixtures.
    pub fn exact_denoiser(&self, device: &Device) -> Option<Result<GaussianMixture>> {
        match &self.file.potential {
            Some(PotentialSpec::GaussianMixture {
                means,
                weights,
                stds,
            }) => Some(GaussianMixture::new(
                means.clone(),
                weights.clone(),
                stds.clone(),
                device,
            )),
            _ => None,
        }
    }

    /// The named state nearest to `x` (minimum-image distance) and its distance.
    pub fn nearest_state(&self, x: &[f64]) -> (&str, f64) {
        self.file
            .states
            .iter()
            .map(|(name, s)| {
                let d = match &self.potential {
                    Some(p) => p
                        .displacement(x, s)
                        .iter()
                        .map(|v| v * v)
                        .sum::<f64>()
                        .sqrt(),
                    None => crate::molecule::cv::angle_distance(x, s),
                };
                (name.as_str(), d)
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("checked: at least two states")
    }
}
