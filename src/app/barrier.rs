//! `tps barrier`: the reference minimum-energy path and barrier between two states.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tracing::info;

use super::write_json;
use crate::barrier::{grid_minimax, minimum_energy_path};
use crate::error::{Error, Result};
use crate::output::table;
use crate::systems::System;

/// The reference barrier between two states.
#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    /// Saddle point (highest point of the minimum-energy path).
    pub saddle: Vec<f64>,
    /// Energy at the saddle.
    pub saddle_energy: f64,
    /// Saddle energy minus the energy of the relaxed start state.
    pub barrier: f64,
    /// Energies of the relaxed end states.
    pub start_energy: f64,
    pub end_energy: f64,
    /// Grid minimax bound on the highest energy any path must cross (2-D systems).
    pub minimax: Option<f64>,
    /// Grid points per axis of that bound.
    pub minimax_grid: Option<usize>,
    /// The minimum-energy path.
    #[serde(skip)]
    pub mep: Vec<Vec<f64>>,
    #[serde(skip)]
    pub mep_energies: Vec<f64>,
}

/// Computes the reference for states `from` → `to` of a loaded system.
pub fn reference(system: &System, from: &str, to: &str) -> Result<Reference> {
    let (a, b) = (system.file.state(from)?, system.file.state(to)?);
    if from == to {
        return Err(Error::Invalid(format!("--from and --to are both `{from}`")));
    }
    let cfg = &system.file.barrier;
    let potential = system.potential.as_ref();
    let (initial, minimax) = if potential.dim() == 2 {
        let m = grid_minimax(potential, &system.file.domain, cfg.grid, a, b)?;
        let mut pts = m.points.clone();
        // Start and end exactly at the states (the grid path starts at the nearest nodes).
        pts.insert(0, a.to_vec());
        pts.push(b.to_vec());
        (pts, Some(m.barrier))
    } else {
        let d = potential.displacement(a, b);
        let n = 2 * cfg.images;
        let line = (0..n)
            .map(|i| {
                let t = i as f64 / (n - 1) as f64;
                a.iter().zip(&d).map(|(p, d)| p + t * d).collect()
            })
            .collect();
        (line, None)
    };
    let mep = minimum_energy_path(potential, &initial, cfg.images, 20_000)?;
    Ok(Reference {
        saddle: mep.saddle.clone(),
        saddle_energy: mep.saddle_energy,
        barrier: mep.barrier,
        start_energy: mep.energies[0],
        end_energy: *mep.energies.last().expect("non-empty"),
        minimax,
        minimax_grid: minimax.map(|_| cfg.grid),
        mep: mep.points,
        mep_energies: mep.energies,
    })
}

/// Writes the minimum-energy path as CSV (coordinates and energy).
pub fn write_mep(path: &Path, reference: &Reference) -> Result<()> {
    let dim = reference.saddle.len();
    let mut header = table::coordinate_names("x", dim);
    header.push("energy".into());
    let rows: Vec<Vec<f64>> = reference
        .mep
        .iter()
        .zip(&reference.mep_energies)
        .map(|(p, e)| p.iter().copied().chain([*e]).collect())
        .collect();
    table::write_csv(path, &header, &rows)
}

/// `tps barrier`: computes, prints and writes the reference under `out_root`.
pub fn run(path: &Path, from: &str, to: &str, out_root: &Path) -> Result<(Reference, PathBuf)> {
    let system = System::load(path)?;
    let reference = reference(&system, from, to)?;
    let dir = out_root
        .join(&system.file.name)
        .join(format!("barrier-{from}-{to}"));
    let staging = super::staging_dir(&dir)?;
    write_mep(&staging.join("mep.csv"), &reference)?;
    write_json(&staging.join("barrier.json"), &reference)?;
    super::publish_dir(&staging, &dir)?;
    info!("reference written to {}", dir.display());
    Ok((reference, dir))
}
