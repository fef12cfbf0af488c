//! The `[molecule]` section of a system file and the molecule it loads: AMBER topology and
//! force field, starting coordinates checked atom by atom against the topology, and the
//! collective variables the free-energy surface and the paths live in.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::chfl;
use super::cv::{DihedralSpec, Dihedrals};
use super::forcefield::ForceField;
use super::prmtop::Prmtop;
use super::topology::Topology;
use crate::error::{Error, Result};
use crate::toml_file::{Checks, anchor};

/// The `[molecule]` section (paths relative to the system file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoleculeConfig {
    /// AMBER topology.
    pub prmtop: PathBuf,
    /// Starting coordinates: PDB (or anything chemfiles reads), Å.
    pub coordinates: PathBuf,
    /// The collective variables: dihedrals by atoms (`"2:CA"`, `"ALA2:CA"` or 1-based
    /// serials). States and surfaces are in these variables, in this order.
    pub cv: Vec<DihedralSpec>,
    /// Where `tps train` stores the free-energy surface in the variables; default
    /// `models/<name>_fes.dat` next to the system file.
    #[serde(default)]
    pub free_energy: PathBuf,
    /// Where `tps train` stores an independent estimate of it (its own metadynamics run),
    /// which scores paths that the first one guided; default `<free_energy>_check.dat`.
    #[serde(default)]
    pub free_energy_check: Option<PathBuf>,
    /// What the diffusion model and the paths work on: the collective variables, or every
    /// atom's Cartesian coordinates (the variables then only name the states and report).
    #[serde(default)]
    pub representation: Coordinates,
    /// The solvent: `vacuum`, or `obc2` (generalized Born from the prmtop's radii).
    #[serde(default)]
    pub solvent: Solvent,
}

/// The molecule's environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Solvent {
    /// Vacuum, no cutoff.
    #[default]
    Vacuum,
    /// Implicit water: OBC2 generalized Born with the ACE surface term, as OpenMM builds it
    /// from a prmtop with `implicitSolvent=OBC2`.
    Obc2,
}

/// The coordinates the model learns and the paths move in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Coordinates {
    /// The collective variables (the paper's setting).
    #[default]
    Dihedrals,
    /// All atoms, superposed on heavy atoms onto a reference structure (3N numbers, nm).
    Cartesian,
}

impl MoleculeConfig {
    /// Anchors the paths to the system file `file`; the surface of a system named `name`
    /// defaults to `models/<name>_fes.dat`.
    pub fn anchored(mut self, file: &Path, name: &str) -> Self {
        if self.free_energy.as_os_str().is_empty() {
            self.free_energy = PathBuf::from("models").join(format!("{name}_fes.dat"));
        }
        for p in [
            &mut self.prmtop,
            &mut self.coordinates,
            &mut self.free_energy,
        ] {
            *p = anchor(file, p);
        }
        self.free_energy_check = self.free_energy_check.map(|p| anchor(file, &p));
        self
    }

    /// Checks what can be checked without reading the files.
    pub fn check(&self, c: &Checks) -> Result<()> {
        c.require(
            self.cv.len() == 2,
            "molecule.cv",
            &format!(
                "{} collective variable(s): the free-energy surface, its reference barriers and \
                 the plots of tps need exactly two",
                self.cv.len()
            ),
        )?;
        let mut names: Vec<&str> = self.cv.iter().map(|v| v.name.as_str()).collect();
        names.sort_unstable();
        c.require(
            names.windows(2).all(|w| w[0] != w[1]),
            "molecule.cv",
            "names must differ",
        )
    }

    /// Where the molecule's surfaces live: the files `tps train` writes, listed once here.
    pub fn surface_paths(&self) -> SurfacePaths {
        SurfacePaths {
            free_energy: self.free_energy.clone(),
            relaxed_map: self.beside_surface("relaxed"),
            check_surface: self
                .free_energy_check
                .clone()
                .unwrap_or_else(|| self.beside_surface("check")),
        }
    }

    fn beside_surface(&self, suffix: &str) -> PathBuf {
        let stem = self
            .free_energy
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        self.free_energy
            .with_file_name(format!("{stem}_{suffix}.dat"))
    }
}

/// A loaded molecule: topology, force field, starting positions (nm), collective variables.
#[derive(Debug, Clone)]
pub struct Molecule {
    /// Atoms and residues.
    pub topology: Topology,
    /// Its parameters.
    pub forcefield: ForceField,
    /// Starting positions, nm.
    pub positions: Vec<[f64; 3]>,
    /// The collective variables.
    pub cv: Dihedrals,
}

impl Molecule {
    /// Where the molecule is, in words: " in vacuum" or " with OBC2 implicit water".
    pub fn medium(&self) -> &'static str {
        if self.forcefield.is_solvated() {
            " with OBC2 implicit water"
        } else {
            " in vacuum"
        }
    }

    /// Reads the prmtop and the coordinates (checked against it) and resolves the variables.
    pub fn load(config: &MoleculeConfig, file: &Path) -> Result<Self> {
        let prmtop = Prmtop::read(&config.prmtop)?;
        let (topology, mut forcefield) = ForceField::from_prmtop(&prmtop).map_err(|e| match e {
            // A solvated system's own trajectories can still be learnt from.
            tps_mm::Error::Parse { file, message } if message.contains("IFBOX") => Error::Parse {
                file,
                message: format!(
                    "{message}; or learn from the trajectories of the engine that ran it with \
                     [data]"
                ),
            },
            e => e.into(),
        })?;
        if config.solvent == Solvent::Obc2 {
            forcefield = forcefield.with_solvation(ForceField::obc2(&prmtop, &topology)?);
        }
        let structures = chfl::read(&config.coordinates, &topology)?;
        if let Some(w) = structures.warnings.first() {
            return Err(Error::config(file, "molecule.coordinates", w.clone()));
        }
        let positions = structures
            .frames
            .into_iter()
            .next()
            .ok_or_else(|| Error::config(file, "molecule.coordinates", "holds no frame"))?;
        let cv = Dihedrals::resolve(&config.cv, &topology)
            .map_err(|e| Error::config(file, "molecule.cv", e.to_string()))?;
        Ok(Self {
            topology,
            forcefield,
            positions,
            cv,
        })
    }

    /// Bonded atom pairs (for topology output).
    pub fn bonds(&self) -> Vec<(usize, usize)> {
        self.forcefield.bonds.iter().map(|b| (b.i, b.j)).collect()
    }

    /// Chemfiles writers for this molecule.
    pub fn writer(&self) -> chfl::Writer {
        chfl::Writer::new(&self.topology, &self.bonds())
    }
}

/// A molecule's force field as a potential on its flattened Cartesian coordinates (`3N`
/// numbers, nm; energies in kJ/mol): what all-atom walkers move on.
pub struct ForceFieldPotential {
    forcefield: ForceField,
    atoms: usize,
}

impl ForceFieldPotential {
    /// The potential of `molecule`'s force field.
    pub fn new(molecule: &Molecule) -> Self {
        Self {
            forcefield: molecule.forcefield.clone(),
            atoms: molecule.topology.len(),
        }
    }
}

impl crate::potential::Potential for ForceFieldPotential {
    fn dim(&self) -> usize {
        3 * self.atoms
    }

    fn energy_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let positions = super::align::unflatten(x);
        let mut forces = vec![[0.0; 3]; self.atoms];
        let e = self.forcefield.compute(&positions, &mut forces).total();
        for (g, f) in grad.iter_mut().zip(forces.iter().flatten()) {
            *g = -f;
        }
        e
    }
}

/// The files of a molecule's surfaces.
#[derive(Debug, Clone)]
pub struct SurfacePaths {
    /// The free-energy surface that guides.
    pub free_energy: PathBuf,
    /// The relaxed potential-energy map `tps train` caches next to it.
    pub relaxed_map: PathBuf,
    /// The independent free-energy surface that scores.
    pub check_surface: PathBuf,
}

impl SurfacePaths {
    /// The three files, guiding surface first.
    pub fn all(&self) -> [&Path; 3] {
        [&self.free_energy, &self.relaxed_map, &self.check_surface]
    }
}
