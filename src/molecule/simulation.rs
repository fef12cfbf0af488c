//! Molecular dynamics runs: several Langevin walkers, plain or sharing a well-tempered
//! metadynamics bias, with frames, collective variables and energies recorded every
//! `report_every` steps, and a stop with a clear error as soon as the dynamics go unstable.

use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::dynamics::{Langevin, State};
use super::forcefield::Energies;
use super::load::Molecule;
use super::md_sections::{MdConfig, MetadynamicsConfig};
use super::metadynamics::Metadynamics;
use crate::error::{Error, Result};

/// A metadynamics run's convergence is judged (its surface at three quarters against its end)
/// only if this many hills were deposited by three quarters of it: fewer say nothing.
pub const MIN_HILLS_TO_JUDGE: usize = 200;

/// A walker whose kinetic temperature exceeds this multiple of the target has blown up.
const EXPLODED: f64 = 5.0;

/// Collective variables and bias of one walker at one report.
#[derive(Debug, Clone, Serialize)]
pub struct CvRecord {
    /// Simulated time, ps.
    pub time_ps: f64,
    /// Which walker.
    pub walker: usize,
    /// The variables, rad.
    pub values: Vec<f64>,
    /// Metadynamics bias, kJ/mol (0 without).
    pub bias: f64,
    /// The bias less the reweighting offset `c(t)`: a frame weighs `exp(rbias/kT)`.
    pub rbias: f64,
}

/// Energies of one walker at one report.
#[derive(Debug, Clone, Serialize)]
pub struct EnergyRecord {
    /// Simulated time, ps.
    pub time_ps: f64,
    /// Which walker.
    pub walker: usize,
    /// Force-field terms, kJ/mol.
    pub energies: Energies,
    /// Instantaneous kinetic temperature, K.
    pub kinetic_temperature: f64,
}

/// The free-energy surface a metadynamics run estimates, at its end and at three quarters of
/// it (to judge convergence).
#[derive(Debug, Clone)]
pub struct FreeEnergyGrid {
    /// Grid points per variable; values at `(−π + i h, −π + j h)`, first variable fastest.
    pub n: usize,
    /// kJ/mol, minimum 0.
    pub values: Vec<f64>,
    /// The same at three quarters of the run, when enough hills had been deposited by then
    /// to judge convergence (see [`MIN_HILLS_TO_JUDGE`]).
    pub earlier: Option<Vec<f64>>,
    /// Hills deposited.
    pub hills: usize,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct MdRun {
    /// Frames of every walker (empty unless asked for), nm.
    pub frames: Vec<Vec<Vec<[f64; 3]>>>,
    /// Collective variables and bias at every report.
    pub cv: Vec<CvRecord>,
    /// Energies at every report.
    pub energies: Vec<EnergyRecord>,
    /// Steps each walker took.
    pub steps_per_walker: u64,
    /// Wall time, s.
    pub wall_seconds: f64,
    /// With metadynamics: the free-energy surface.
    pub free_energy: Option<FreeEnergyGrid>,
}

/// Runs `steps` steps of every walker from the molecule's starting structure.
///
/// `progress(done, total)` is called after every report. Fails as soon as a walker's energy
/// is not finite or its kinetic temperature exceeds five times the target.
pub fn run(
    molecule: &Molecule,
    md: &MdConfig,
    metadynamics: Option<&MetadynamicsConfig>,
    steps: u64,
    seed: u64,
    keep_frames: bool,
    mut progress: impl FnMut(u64, u64),
) -> Result<MdRun> {
    let ff = &molecule.forcefield;
    let strain = start_strain(molecule);
    let mut walkers = thermalised_walkers(molecule, md, seed);
    let mut meta =
        metadynamics.map(|c| Metadynamics::new(molecule.cv.clone(), md.temperature, &c.params()));
    let pace = meta.as_ref().map_or(u64::MAX, Metadynamics::pace);
    let mut out = MdRun {
        frames: vec![Vec::new(); walkers.len()],
        cv: Vec::new(),
        energies: Vec::new(),
        steps_per_walker: steps,
        wall_seconds: 0.0,
        free_energy: None,
    };
    let checkpoint = steps * 3 / 4;
    let mut earlier = None;
    let t0 = Instant::now();
    let mut done = 0u64;
    while done < steps {
        // Advance to the next hill, report or end, whichever comes first.
        let next_hill = (done / pace + 1).saturating_mul(pace);
        let next_report = (done / md.report_every + 1) * md.report_every;
        let next = next_hill.min(next_report).min(steps);
        match &meta {
            Some(m) => m.advance(ff, &mut walkers, next - done),
            None => walkers
                .par_iter_mut()
                .for_each(|(i, s)| i.run(ff, s, next - done, None)),
        }
        if let Some(m) = meta.as_mut()
            && next.is_multiple_of(pace)
        {
            m.deposit(&walkers);
        }
        if done < checkpoint
            && next >= checkpoint
            && let Some(m) = meta.as_ref().filter(|m| m.hills >= MIN_HILLS_TO_JUDGE)
        {
            earlier = Some(m.free_energy());
        }
        done = next;
        check_stable(&walkers, md, done, strain)?;
        if done.is_multiple_of(md.report_every) || done == steps {
            let time_ps = done as f64 * md.timestep;
            let offset = meta.as_ref().map_or(0.0, Metadynamics::reweighting_offset);
            for (w, (integrator, state)) in walkers.iter().enumerate() {
                if keep_frames {
                    out.frames[w].push(state.positions.clone());
                }
                out.energies.push(EnergyRecord {
                    time_ps,
                    walker: w,
                    energies: integrator.energies(),
                    kinetic_temperature: integrator.kinetic_temperature(state),
                });
                let bias = meta.as_ref().map_or(0.0, |m| m.bias_of(&state.positions));
                out.cv.push(CvRecord {
                    time_ps,
                    walker: w,
                    values: molecule.cv.values(&state.positions),
                    bias,
                    rbias: bias - offset,
                });
            }
            progress(done, steps);
        }
    }
    out.wall_seconds = t0.elapsed().as_secs_f64();
    out.free_energy = meta.map(|m| {
        let values = m.free_energy();
        FreeEnergyGrid {
            n: m.grid_size(),
            earlier,
            values,
            hills: m.hills,
        }
    });
    Ok(out)
}

/// `md.walkers` walkers at the molecule's structure, each with its own thermostat seed and
/// Maxwell–Boltzmann velocities.
fn thermalised_walkers(molecule: &Molecule, md: &MdConfig, seed: u64) -> Vec<(Langevin, State)> {
    (0..md.walkers)
        .map(|w| {
            let mut integrator = Langevin::for_molecule(
                &md.langevin(),
                md.constraints,
                &molecule.forcefield,
                &molecule.topology.masses,
                seed.wrapping_mul(1000).wrapping_add(w as u64),
            );
            let mut state = State {
                positions: molecule.positions.clone(),
                velocities: vec![[0.0; 3]; molecule.topology.len()],
            };
            integrator.thermalise(&mut state);
            (integrator, state)
        })
        .collect()
}

/// A start structure whose largest atomic force exceeds this (kJ/(mol nm)) is strained: atoms
/// overlap or a bond is far from its length (thermal structures stay below ~5,000).
const STRAINED: f64 = 1e5;

/// The largest force on an atom of the start structure and that atom.
fn start_strain(molecule: &Molecule) -> (f64, usize) {
    let mut forces = vec![[0.0; 3]; molecule.topology.len()];
    molecule
        .forcefield
        .compute(&molecule.positions, &mut forces);
    forces
        .iter()
        .map(|f| (f[0] * f[0] + f[1] * f[1] + f[2] * f[2]).sqrt())
        .enumerate()
        .map(|(i, f)| (if f.is_finite() { f } else { f64::INFINITY }, i))
        .fold((0.0, 0), |a, b| if b.0 > a.0 { b } else { a })
}

/// Stops an unstable run with the likely cause: a strained start structure, or a time step
/// too long for the fastest motions.
fn check_stable(
    walkers: &[(Langevin, State)],
    md: &MdConfig,
    step: u64,
    (strain, atom): (f64, usize),
) -> Result<()> {
    for (w, (integrator, state)) in walkers.iter().enumerate() {
        let e = integrator.energies().total();
        let t = integrator.kinetic_temperature(state);
        if !e.is_finite() || !t.is_finite() || t > EXPLODED * md.temperature {
            let cause = if strain > STRAINED {
                format!(
                    "the start structure is strained: atom {} feels a force of {strain:.3e} \
                     kJ/(mol nm) (overlapping atoms, or coordinates that do not match the \
                     topology); check or minimise molecule.coordinates",
                    atom + 1
                )
            } else {
                format!(
                    "reduce md.timestep ({} ps) or set md.constraints = \"h-bonds\"",
                    md.timestep
                )
            };
            return Err(Error::NonFinite(format!(
                "unstable dynamics at step {step} of walker {w}: potential energy {e:.4e} kJ/mol, \
                 kinetic temperature {t:.4e} K (target {} K); {cause}",
                md.temperature
            )));
        }
    }
    Ok(())
}
