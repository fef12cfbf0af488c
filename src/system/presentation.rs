//! How a system's numbers are shown: the unit of its energies, the labels of its coordinates
//! and one colour scale for its surface whatever pair of states is drawn.

use super::System;
use crate::error::{Error, Result};
use crate::output::plot::ColourScale;
use crate::potential::Tabulated;

/// What a surface file of a molecule holds.
#[derive(Debug, Clone, Copy)]
pub enum SurfaceKind {
    /// Free energy from metadynamics (kJ/mol).
    FreeEnergy,
    /// Relaxed potential energy from restrained minimisations (kJ/mol).
    RelaxedMap,
}

/// A surface is coloured from its minimum to this many kT above it.
pub const COLOUR_RANGE_KT: f64 = 20.0;

impl System {
    /// The unit of the system's energies (empty: the surface's own, unnamed unit).
    pub fn energy_unit(&self) -> &'static str {
        if self.molecule.is_some() {
            "kJ/mol"
        } else {
            ""
        }
    }

    /// What the surface's values are: a molecule's free energy, or a surface's energy.
    pub fn energy_name(&self) -> &'static str {
        if self.molecule.is_some() {
            "free energy"
        } else {
            "energy"
        }
    }

    /// What a map of paths is drawn on, for its title (a molecule's paths are drawn on the
    /// surface that scores them; a surface's on itself, which goes without saying).
    pub fn map_surface_note(&self) -> &'static str {
        if self.molecule.is_some() {
            " on the scoring free-energy surface"
        } else {
            ""
        }
    }

    /// The label of an axis in the surface's values, with their unit.
    pub fn energy_axis(&self) -> String {
        if self.molecule.is_some() {
            "free energy (kJ/mol)".to_string()
        } else {
            format!("energy (kT = {})", self.kt())
        }
    }

    /// Axis labels of the coordinates (with units for molecules).
    pub fn axis_labels(&self) -> Vec<String> {
        let names = self.file.coordinate_names();
        if self.molecule.is_some() {
            names.iter().map(|n| format!("{n} (rad)")).collect()
        } else {
            names
        }
    }

    /// The colour scale of the surface: from its minimum over the domain to
    /// [`COLOUR_RANGE_KT`] kT above it.
    pub fn colour_scale(&self) -> Result<ColourScale> {
        let potential = self.surface()?;
        let d = self.file.domain();
        let n = 100;
        let low = (0..n * n)
            .map(|k| {
                let (i, j) = ((k % n) as f64 + 0.5, (k / n) as f64 + 0.5);
                potential.energy(&[
                    d[0][0] + i / n as f64 * (d[0][1] - d[0][0]),
                    d[1][0] + j / n as f64 * (d[1][1] - d[1][0]),
                ])
            })
            .filter(|v| v.is_finite())
            .fold(f64::INFINITY, f64::min);
        if !low.is_finite() {
            return Err(Error::Invalid(
                "the surface has no finite value in its domain".into(),
            ));
        }
        Ok(ColourScale {
            low,
            high: low + COLOUR_RANGE_KT * self.kt(),
            label: if self.molecule.is_some() {
                "free energy (kJ/mol)".into()
            } else {
                format!("energy (kT = {})", self.kt())
            },
        })
    }

    /// A surface grid as the text of its file (PLUMED's grid format, named after the system's
    /// collective variables).
    pub fn surface_text(&self, grid: &Tabulated, surface: SurfaceKind) -> String {
        let names = self.file.coordinate_names();
        let (field, what) = match surface {
            SurfaceKind::FreeEnergy => (
                "file.free",
                "free energy in kJ/mol, well-tempered metadynamics",
            ),
            SurfaceKind::RelaxedMap => (
                "relaxed.energy",
                "relaxed potential energy in kJ/mol, restrained minimisation",
            ),
        };
        grid.to_plumed(
            [&names[0], &names[1]],
            field,
            &self.surface_comment(&format!("{what} (tps {})", env!("CARGO_PKG_VERSION"))),
        )
    }

    /// A surface file's comment: `what`, and for a molecule the origin line that ties the
    /// file to its topology.
    pub fn surface_comment(&self, what: &str) -> String {
        match &self.molecule {
            Some(m) => format!("{what}\n{}{}", super::surfaces::ORIGIN, m.prmtop_sha256),
            None => what.to_string(),
        }
    }
}
