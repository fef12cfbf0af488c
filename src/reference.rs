//! What a system's transition paths are judged against: the minimum-energy path between two
//! states and its saddle (string method), the grid minimax bound on the highest energy any
//! path must cross, and for molecules the barrier on the relaxed (adiabatic) potential-energy
//! map; and the basins and barriers of a free-energy surface.

use std::f64::consts::{PI, TAU};

use serde::{Deserialize, Serialize};

use crate::barrier::{grid_minimax, minimum_energy_path};
use crate::error::{Error, Result};
use crate::potential::{Counting, Potential, Tabulated};
use crate::system::System;

/// The reference barrier between two states.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reference {
    /// Saddle point (highest point of the minimum-energy path).
    pub saddle: Vec<f64>,
    /// Energy at the saddle.
    pub saddle_energy: f64,
    /// Saddle energy minus the energy of the relaxed start state.
    pub barrier: f64,
    /// Energy of the relaxed start state.
    pub start_energy: f64,
    /// Energy of the relaxed end state.
    pub end_energy: f64,
    /// Grid minimax bound on the highest energy any path must cross (2-D systems).
    pub minimax: Option<f64>,
    /// Grid points per axis of that bound.
    pub minimax_grid: Option<usize>,
    /// Molecules: the potential-energy barrier (kJ/mol) on the relaxed map, above the energy
    /// minimum of the start state's basin.
    pub relaxed_potential_barrier: Option<f64>,
    /// Grid points per variable of that map.
    pub relaxed_map_grid: Option<usize>,
    /// Energy evaluations of the grid bound and the string method.
    pub evaluations: u64,
    /// The minimum-energy path.
    #[serde(skip, default)]
    pub mep: Vec<Vec<f64>>,
    /// Energies along it.
    #[serde(skip, default)]
    pub mep_energies: Vec<f64>,
}

/// The reference for states `from` → `to` of a loaded system on its surface; for molecules
/// the barrier on `relaxed` (a relaxed map), if given.
pub fn reference(
    system: &System,
    from: &str,
    to: &str,
    relaxed: Option<&Tabulated>,
) -> Result<Reference> {
    reference_on(system.surface()?, system, from, to, relaxed)
}

/// The reference for states `from` → `to` on `surface` (in the system's coordinates: its own
/// surface, or another estimate of it), every energy evaluation counted.
pub fn reference_on(
    surface: &dyn Potential,
    system: &System,
    from: &str,
    to: &str,
    relaxed: Option<&Tabulated>,
) -> Result<Reference> {
    let (a, b) = (system.file.state(from)?, system.file.state(to)?);
    if from == to {
        return Err(Error::Invalid(format!(
            "the start and target states are both `{from}`"
        )));
    }
    let cfg = &system.file.barrier;
    let counting = Counting::new(surface);
    let potential: &dyn Potential = &counting;
    let (mep, minimax) = mep_on(potential, &system.file.domain(), cfg, a, b)?;
    let relaxed_barrier = match relaxed {
        Some(map) => system.relaxed_barrier(map, from, a, b)?,
        None => None,
    };
    let relaxed_grid = relaxed
        .filter(|_| relaxed_barrier.is_some())
        .map(|m| m.shape().0);
    Ok(Reference {
        saddle: mep.saddle.clone(),
        saddle_energy: mep.saddle_energy,
        barrier: mep.barrier,
        start_energy: mep.energies[0],
        end_energy: *mep.energies.last().expect("non-empty"),
        minimax,
        minimax_grid: minimax.map(|_| cfg.grid),
        relaxed_potential_barrier: relaxed_barrier,
        relaxed_map_grid: relaxed_grid,
        evaluations: counting.calls(),
        mep: mep.points,
        mep_energies: mep.energies,
    })
}

/// The minimum-energy path from `a` to `b` on `potential` (string method, started on 2-D
/// surfaces from the grid minimax path over `domain`, else from the straight line) and the
/// grid minimax bound where there is one.
pub fn mep_on(
    potential: &dyn Potential,
    domain: &[[f64; 2]],
    cfg: &crate::barrier::BarrierConfig,
    a: &[f64],
    b: &[f64],
) -> Result<(crate::barrier::MinimumEnergyPath, Option<f64>)> {
    let (initial, minimax) = if potential.dim() == 2 {
        let m = grid_minimax(potential, domain, cfg.grid, a, b)?;
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
    Ok((
        minimum_energy_path(potential, &initial, cfg.images, 20_000)?,
        minimax,
    ))
}

/// A state's basin on a free-energy surface.
#[derive(Debug, Clone, Serialize)]
pub struct Basin {
    /// The state.
    pub state: String,
    /// The lowest grid point within 0.8 rad of the state.
    pub at: Vec<f64>,
    /// Free energy there, kJ/mol above the surface's minimum.
    pub free_energy: f64,
}

/// The lowest pass from one state to another.
#[derive(Debug, Clone, Serialize)]
pub struct PassBarrier {
    /// Start state.
    pub from: String,
    /// Target state.
    pub to: String,
    /// Highest free energy of the best path on the grid minus that of `from`'s basin.
    pub barrier: f64,
    /// Where that path is highest (rad, wrapped to [−π, π)).
    pub saddle: Vec<f64>,
}

/// What a free-energy surface says about the states, and whether it has settled.
#[derive(Debug, Clone, Serialize)]
pub struct FreeEnergySummary {
    /// The basin of every state.
    pub basins: Vec<Basin>,
    /// From every state to every other.
    pub barriers: Vec<PassBarrier>,
    /// Largest change of a basin free energy or barrier over the last quarter of the run
    /// (unknown for a surface read from a file or a run too short to judge).
    pub drift: Option<f64>,
    /// Whether that drift is below 1 kJ/mol; `None`: not judged.
    pub converged: Option<bool>,
}

/// Converged means no basin free energy or barrier moved by more than this over the last
/// quarter of the run (kJ/mol).
pub const CONVERGED_DRIFT: f64 = 1.0;

/// The surface of a metadynamics run and what it says about `states` (its drift judged against
/// the run's surface at three quarters, where there is one).
pub fn metadynamics_surface(
    grid: &crate::molecule::simulation::FreeEnergyGrid,
    states: &[(String, Vec<f64>)],
) -> Result<(Tabulated, FreeEnergySummary)> {
    let surface = Tabulated::periodic_angles(grid.values.clone(), grid.n);
    let earlier = grid
        .earlier
        .clone()
        .map(|e| Tabulated::periodic_angles(e, grid.n));
    let summary = free_energy_summary(&surface, earlier.as_ref(), states)?;
    Ok((surface, summary))
}

/// Basins and barriers (every ordered pair) of `surface` for `states`, and their drift from
/// `earlier` if given.
pub fn free_energy_summary(
    surface: &Tabulated,
    earlier: Option<&Tabulated>,
    states: &[(String, Vec<f64>)],
) -> Result<FreeEnergySummary> {
    let facts = |s: &Tabulated| -> Result<(Vec<Basin>, Vec<PassBarrier>)> {
        let basins: Vec<Basin> = states
            .iter()
            .map(|(name, x)| {
                let (at, f) = lowest_near(s, x, 0.8);
                Basin {
                    state: name.clone(),
                    at,
                    free_energy: f,
                }
            })
            .collect();
        let n = s.shape().0;
        let domain = [[-std::f64::consts::PI, std::f64::consts::PI]; 2];
        let mut barriers = Vec::new();
        for from in &basins {
            for to in basins.iter().filter(|b| b.state != from.state) {
                let path = grid_minimax(s, &domain, n, &from.at, &to.at)?;
                let top = path
                    .points
                    .iter()
                    .max_by(|a, b| s.energy(a).total_cmp(&s.energy(b)))
                    .expect("a path has points");
                barriers.push(PassBarrier {
                    from: from.state.clone(),
                    to: to.state.clone(),
                    barrier: path.barrier - from.free_energy,
                    saddle: top.iter().map(|x| (x + PI).rem_euclid(TAU) - PI).collect(),
                });
            }
        }
        Ok((basins, barriers))
    };
    let (basins, barriers) = facts(surface)?;
    let drift = match earlier {
        Some(e) => {
            let (b0, p0) = facts(e)?;
            Some(
                basins
                    .iter()
                    .zip(&b0)
                    .map(|(a, b)| (a.free_energy - b.free_energy).abs())
                    .chain(
                        barriers
                            .iter()
                            .zip(&p0)
                            .map(|(a, b)| (a.barrier - b.barrier).abs()),
                    )
                    .fold(0.0, f64::max),
            )
        }
        None => None,
    };
    Ok(FreeEnergySummary {
        basins,
        barriers,
        drift,
        converged: drift.map(|d| d <= CONVERGED_DRIFT),
    })
}

fn lowest_near(s: &Tabulated, centre: &[f64], radius: f64) -> (Vec<f64>, f64) {
    let (nx, ny) = s.shape();
    let mut best = (centre.to_vec(), f64::INFINITY);
    for j in 0..ny {
        for i in 0..nx {
            let node = s.node(i, j);
            let d = s.displacement(centre, &node);
            if d[0].hypot(d[1]) <= radius && s.value(i, j) < best.1 {
                best = (node.to_vec(), s.value(i, j));
            }
        }
    }
    best
}
