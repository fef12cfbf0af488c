//! Molecular system files (TOML) for `tps md` and `tps energy`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::dynamics::{Langevin, LangevinConfig};
use super::forcefield::{ForceField, Topology};
use super::metadynamics::MetadynamicsConfig;
use super::prmtop::Prmtop;
use crate::error::{Error, Result};

/// Where the molecule comes from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoleculeSection {
    /// AMBER topology (relative to the system file).
    pub prmtop: PathBuf,
    /// Starting coordinates: PDB (or anything chemfiles reads), relative to the system file.
    pub coordinates: PathBuf,
}

/// Molecular dynamics run settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MdSection {
    /// Kelvin.
    pub temperature: f64,
    /// Collision rate, 1/ps.
    #[serde(default = "d_friction")]
    pub friction: f64,
    /// Time step, ps (1 fs without constraints, 2 fs with `constraints = "h-bonds"`).
    #[serde(default = "d_timestep")]
    pub timestep: f64,
    /// `"none"` or `"h-bonds"` (every bond to a hydrogen rigid: SHAKE/RATTLE).
    #[serde(default)]
    pub constraints: Constraints,
    /// Steps per walker.
    #[serde(default = "d_steps")]
    pub steps: u64,
    /// Independent walkers (run in parallel; they share the metadynamics bias).
    #[serde(default = "d_walkers")]
    pub walkers: usize,
    /// Steps between trajectory frames and CV records.
    #[serde(default = "d_report")]
    pub report_every: u64,
}

fn d_friction() -> f64 {
    1.0
}
fn d_timestep() -> f64 {
    0.001
}
fn d_steps() -> u64 {
    100_000
}
fn d_walkers() -> usize {
    2
}
fn d_report() -> u64 {
    500
}

/// Which bonds are rigid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Constraints {
    #[default]
    None,
    HBonds,
}

impl MdSection {
    /// The integrator settings.
    pub fn langevin(&self) -> LangevinConfig {
        LangevinConfig {
            temperature: self.temperature,
            friction: self.friction,
            timestep: self.timestep,
        }
    }
}

/// A molecular system file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MolecularSystemFile {
    pub name: String,
    pub molecule: MoleculeSection,
    pub md: MdSection,
    /// Present: well-tempered metadynamics on the backbone (φ, ψ).
    pub metadynamics: Option<MetadynamicsConfig>,
}

/// A loaded molecule: topology, force field, starting positions (nm).
pub struct Molecule {
    pub file: MolecularSystemFile,
    pub path: PathBuf,
    pub topology: Topology,
    pub forcefield: ForceField,
    pub positions: Vec<[f64; 3]>,
}

impl Molecule {
    /// Reads the system file, its prmtop and its coordinates.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut file: MolecularSystemFile = toml::from_str(&text).map_err(|e| Error::Parse {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut file.molecule.prmtop, &mut file.molecule.coordinates] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        let bad = |field: &str, message: &str| Error::Config {
            file: path.display().to_string(),
            field: field.into(),
            message: message.into(),
        };
        let md = &file.md;
        if !(md.temperature > 0.0 && md.timestep > 0.0 && md.friction >= 0.0) {
            return Err(bad(
                "md",
                "temperature and timestep must be positive, friction non-negative",
            ));
        }
        if md.walkers == 0 || md.report_every == 0 {
            return Err(bad("md", "walkers and report_every must be positive"));
        }
        if let Some(m) = &file.metadynamics
            && !(m.height > 0.0
                && m.width > 0.0
                && m.pace > 0
                && m.bias_factor > 1.0
                && m.grid >= 8)
        {
            return Err(bad(
                "metadynamics",
                "height, width, pace > 0, bias_factor > 1, grid ≥ 8",
            ));
        }
        let prmtop = Prmtop::read(&file.molecule.prmtop)?;
        let (topology, forcefield) = ForceField::from_prmtop(&prmtop)?;
        let frames = crate::output::trajectory::read_molecule_frames(&file.molecule.coordinates)?;
        let positions = frames
            .into_iter()
            .next()
            .ok_or_else(|| bad("molecule.coordinates", "the coordinate file holds no frame"))?;
        if positions.len() != topology.len() {
            return Err(bad(
                "molecule.coordinates",
                &format!(
                    "{} atoms, but the prmtop has {}",
                    positions.len(),
                    topology.len()
                ),
            ));
        }
        Ok(Self {
            file,
            path: path.to_path_buf(),
            topology,
            forcefield,
            positions,
        })
    }

    /// A seeded integrator for this molecule with the file's settings and constraints.
    pub fn integrator(&self, seed: u64) -> Langevin {
        let integrator = Langevin::new(&self.file.md.langevin(), &self.topology.masses, seed);
        match self.file.md.constraints {
            Constraints::None => integrator,
            Constraints::HBonds => integrator.with_constraints(
                self.forcefield
                    .bonds
                    .iter()
                    .filter(|b| b.hydrogen)
                    .map(|b| (b.i, b.j, b.r0))
                    .collect(),
            ),
        }
    }

    /// Bonded atom pairs (for topology output).
    pub fn bonds(&self) -> Vec<(usize, usize)> {
        self.forcefield.bonds.iter().map(|b| (b.i, b.j)).collect()
    }
}
