//! Systems: an energy surface, a temperature and named states, read from a TOML file.

pub mod config;

use std::path::{Path, PathBuf};

use burn::tensor::Device;

use crate::potential::{MixturePotential, MullerBrown, Potential, Tabulated};
pub use config::{PotentialSpec, SystemFile};

use crate::denoiser::GaussianMixture;
use crate::error::Result;

/// A loaded system: its file and the potential it describes.
pub struct System {
    /// The parsed system file.
    pub file: SystemFile,
    /// Where it was read from.
    pub path: PathBuf,
    /// The energy surface.
    pub potential: Box<dyn Potential>,
}

impl System {
    /// Reads a system file and builds its potential.
    pub fn load(path: &Path) -> Result<Self> {
        let file = SystemFile::load(path)?;
        Self::from_file(file, path)
    }

    /// Builds the potential of an already parsed file.
    pub fn from_file(file: SystemFile, path: &Path) -> Result<Self> {
        let potential: Box<dyn Potential> = match &file.potential {
            PotentialSpec::MullerBrown => Box::new(MullerBrown),
            PotentialSpec::Tabulated { file: f, periodic } => {
                Box::new(Tabulated::from_file(f, *periodic)?)
            }
            PotentialSpec::Molecule { fes, .. } => {
                if !fes.exists() {
                    return Err(crate::Error::Model {
                        path: fes.clone(),
                        message: format!(
                            "no free-energy surface yet; run `tps train {}` first",
                            path.display()
                        ),
                    });
                }
                Box::new(Tabulated::from_file(fes, true)?)
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
        Ok(Self {
            file,
            path: path.to_path_buf(),
            potential,
        })
    }

    /// Thermal energy.
    pub fn kt(&self) -> f64 {
        self.file.kt()
    }

    /// The molecular system file, for molecules.
    pub fn molecule_file(&self) -> Option<&Path> {
        self.molecule_files().map(|(md, _)| md)
    }

    /// The molecular system file and the free-energy surface file, for molecules.
    pub fn molecule_files(&self) -> Option<(&Path, &Path)> {
        match &self.file.potential {
            PotentialSpec::Molecule { md, fes } => Some((md, fes)),
            _ => None,
        }
    }

    /// Whether the system has an exact denoiser (Gaussian mixtures need no training).
    pub fn is_exact(&self) -> bool {
        matches!(self.file.potential, PotentialSpec::GaussianMixture { .. })
    }

    /// The exact denoiser, for systems that are Gaussian mixtures.
    pub fn exact_denoiser(&self, device: &Device) -> Option<Result<GaussianMixture>> {
        match &self.file.potential {
            PotentialSpec::GaussianMixture {
                means,
                weights,
                stds,
            } => Some(GaussianMixture::new(
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
                let d = self.potential.displacement(x, s);
                (name.as_str(), d.iter().map(|v| v * v).sum::<f64>().sqrt())
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("validated: at least one state")
    }
}
