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
    let relaxed = match system.molecule_files() {
        Some((md, fes)) => match std::fs::read_to_string(relaxed_map_path(fes)) {
            Ok(text) => Some(barrier_on_relaxed_map(md, &text, a, b)?),
            Err(_) => None,
        },
        None => None,
    };
    Ok(Reference {
        saddle: mep.saddle.clone(),
        saddle_energy: mep.saddle_energy,
        barrier: mep.barrier,
        start_energy: mep.energies[0],
        end_energy: *mep.energies.last().expect("non-empty"),
        minimax,
        minimax_grid: minimax.map(|_| cfg.grid),
        relaxed_potential_barrier: relaxed.map(|r| r.0),
        relaxed_map_grid: relaxed.map(|r| r.1),
        mep: mep.points,
        mep_energies: mep.energies,
    })
}

/// Where `tps train` caches the relaxed map next to a molecule's free-energy surface.
pub fn relaxed_map_path(fes: &Path) -> PathBuf {
    let stem = fes
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    fes.with_file_name(format!("{stem}_relaxed.dat"))
}

/// The relaxed (adiabatic) (φ, ψ) potential-energy map of a molecule as grid text, relaxed
/// from the minimum in the basin of `near`.
pub fn relaxed_map_text(md: &Path, near: &[f64]) -> Result<String> {
    use crate::mm::backmap::{basin_minimum, relaxed_map};
    let mol = crate::mm::config::Molecule::load(md)?;
    let cv = crate::mm::Backbone::dipeptide(&mol.topology)?;
    let n = 36;
    info!("relaxed (φ, ψ) map: {n} × {n} restrained minimisations");
    let start = basin_minimum(&mol.forcefield, &cv, &mol.positions, near[0], near[1]);
    let map = relaxed_map(&mol.forcefield, &cv, &start, n);
    Ok(table::angle_grid_text(
        "phi psi relaxed_potential_energy_kJ_per_mol (tps)",
        &map,
        n,
    ))
}

/// Barrier from `a` to `b` on a relaxed map: the grid minimax of its interpolant minus the
/// energy of the minimum in `a`'s basin. Returns `(barrier, grid points per angle)`.
fn barrier_on_relaxed_map(md: &Path, text: &str, a: &[f64], b: &[f64]) -> Result<(f64, usize)> {
    use crate::mm::backmap::basin_minimum;
    use crate::potential::Tabulated;
    let mol = crate::mm::config::Molecule::load(md)?;
    let cv = crate::mm::Backbone::dipeptide(&mol.topology)?;
    let surface = Tabulated::parse(text, "relaxed map", true)?;
    let n = surface.shape().0;
    let domain = [[-std::f64::consts::PI, std::f64::consts::PI]; 2];
    let m = grid_minimax(&surface, &domain, 4 * n, a, b)?;
    let start = basin_minimum(&mol.forcefield, &cv, &mol.positions, a[0], a[1]);
    let mut forces = vec![[0.0; 3]; mol.topology.len()];
    let e_start = mol.forcefield.compute(&start, &mut forces).total();
    Ok((m.barrier - e_start, n))
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
    // `tps barrier` recomputes the relaxed map rather than trusting a cached one.
    let relaxed = match system.molecule_files() {
        Some((md, _)) => {
            let text = relaxed_map_text(md, system.file.state(from)?)?;
            let (barrier, n) = barrier_on_relaxed_map(
                md,
                &text,
                system.file.state(from)?,
                system.file.state(to)?,
            )?;
            reference.relaxed_potential_barrier = Some(barrier);
            reference.relaxed_map_grid = Some(n);
            Some(text)
        }
        None => None,
    };
    let dir = out_root
        .join(&system.file.name)
        .join(format!("barrier-{from}-{to}"));
    let staging = super::staging_dir(&dir)?;
    write_mep(&staging.join("mep.csv"), &reference)?;
    if let Some(text) = &relaxed {
        crate::atomic::write(&staging.join("relaxed_map.dat"), text.as_bytes())?;
    }
    write_json(&staging.join("barrier.json"), &reference)?;
    super::publish_dir(&staging, &dir)?;
    info!("reference written to {}", dir.display());
    Ok((reference, dir))
}
