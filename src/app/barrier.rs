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
    /// Molecules: the potential-energy barrier on the relaxed (adiabatic) (φ, ψ) map, above
    /// the relaxed start state, and the map's resolution.
    pub relaxed_potential_barrier: Option<f64>,
    pub relaxed_map_grid: Option<usize>,
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
        relaxed_potential_barrier: None,
        relaxed_map_grid: None,
        mep: mep.points,
        mep_energies: mep.energies,
    })
}

/// Relaxed-map barrier between two states of a molecule: `(barrier, grid, map as text)`.
fn relaxed_barrier(
    md: &Path,
    system: &System,
    from: &str,
    to: &str,
) -> Result<(f64, usize, String)> {
    use crate::mm::backmap::{basin_minimum, relaxed_map};
    use crate::systems::Tabulated;
    let (a, b) = (system.file.state(from)?, system.file.state(to)?);
    let mol = crate::mm::config::Molecule::load(md)?;
    let cv = crate::mm::Backbone::dipeptide(&mol.topology)?;
    let n = 36;
    info!("relaxed (φ, ψ) map: {n} × {n} restrained minimisations");
    let start = basin_minimum(&mol.forcefield, &cv, &mol.positions, a[0], a[1]);
    let map = relaxed_map(&mol.forcefield, &cv, &start, n);
    let text = table::angle_grid_text("phi psi relaxed_potential_energy_kJ_per_mol (tps)", &map, n);
    let surface = Tabulated::parse(&text, "relaxed map", true)?;
    let domain = [[-std::f64::consts::PI, std::f64::consts::PI]; 2];
    // Bicubic interpolation of the map, bounded on a fine grid, between the basin minima.
    let m = grid_minimax(&surface, &domain, 4 * n, a, b)?;
    let mut forces = vec![[0.0; 3]; mol.topology.len()];
    let e_start = mol.forcefield.compute(&start, &mut forces).total();
    Ok((m.barrier - e_start, n, text))
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
    let mut reference = reference(&system, from, to)?;
    let relaxed = match system.molecule_file() {
        Some(md) => Some(relaxed_barrier(md, &system, from, to)?),
        None => None,
    };
    if let Some((barrier, n, _)) = &relaxed {
        reference.relaxed_potential_barrier = Some(*barrier);
        reference.relaxed_map_grid = Some(*n);
    }
    let dir = out_root
        .join(&system.file.name)
        .join(format!("barrier-{from}-{to}"));
    let staging = super::staging_dir(&dir)?;
    write_mep(&staging.join("mep.csv"), &reference)?;
    if let Some((_, _, text)) = &relaxed {
        crate::atomic::write(&staging.join("relaxed_map.dat"), text.as_bytes())?;
    }
    write_json(&staging.join("barrier.json"), &reference)?;
    super::publish_dir(&staging, &dir)?;
    info!("reference written to {}", dir.display());
    Ok((reference, dir))
}
