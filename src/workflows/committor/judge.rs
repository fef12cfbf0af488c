//! A system's committor set-up, made once: its two states' cores on the scoring surface, the
//! unbiased dynamics that shoot (the force field for molecules, overdamped Langevin on the
//! surface otherwise) and the time limit; and the frame of a path it judges, the highest on
//! the scoring surface. `tps committor` and `tps compare --committor` both shoot through it.

use super::{
    BasinCores, Committor, MoleculeShooter, Shooter, SurfaceShooter, committors as shoot_all,
};
use crate::error::{Error, Result};
use crate::potential::Potential;
use crate::system::System;

/// Shots per frame unless asked otherwise.
pub const DEFAULT_SHOTS: usize = 200;
/// A state's core: its basin within this many kT of its minimum, unless asked otherwise.
pub const DEFAULT_CORE_KT: f64 = 2.0;
/// Longest shot of a molecule by default, ps.
pub const MOLECULE_MAX_PS: f64 = 2.0;
/// Longest shot on a surface by default, in steps of ds.
pub const SURFACE_MAX_STEPS: u64 = 200_000;
/// A molecule's variables are looked at every this many steps.
const CHECK_EVERY: u64 = 10;

/// How frames are shot: shots per frame, the cores' depth and the time limit.
#[derive(Debug, Clone, Copy)]
pub struct ShotSettings {
    /// Shots per frame.
    pub shots: usize,
    /// A state's core: its basin within this many kT of its minimum.
    pub core_kt: f64,
    /// Longest shot: ps for molecules, walker time (steps × ds) for surfaces; `None`: the
    /// defaults above.
    pub max_time: Option<f64>,
}

impl ShotSettings {
    /// Refuses settings that cannot give a committor, naming the flag.
    pub fn check(&self) -> Result<()> {
        if self.shots == 0 {
            return Err(Error::Invalid("--shots must be at least 1".into()));
        }
        if !(self.core_kt.is_finite() && self.core_kt > 0.0) {
            return Err(Error::Invalid(
                "--core must be a positive number of kT".into(),
            ));
        }
        if let Some(t) = self.max_time
            && !(t.is_finite() && t > 0.0)
        {
            return Err(Error::Invalid("--max-time must be positive".into()));
        }
        Ok(())
    }
}

/// A system's cores, dynamics and time limit between two of its states.
pub struct ShotJudge<'a> {
    system: &'a System,
    scoring: &'a dyn Potential,
    cores: BasinCores<'a>,
    shooter: Box<dyn Shooter + 'a>,
    settings: ShotSettings,
    /// Steps a shot may take.
    pub max_steps: u64,
    /// Time per step (ps, or walker time).
    pub time_per_step: f64,
    /// The dynamics, in words.
    pub dynamics: String,
    /// When a shot has committed, in words.
    pub cores_description: String,
}

impl<'a> ShotJudge<'a> {
    /// The judge of `system` between `from` and `to`.
    pub fn new(system: &'a System, from: &str, to: &str, settings: ShotSettings) -> Result<Self> {
        let scoring = system.scoring_surface()?;
        let kt = system.kt();
        let states = system.file.named_states();
        let cores = BasinCores::new(scoring.surface, &states, (from, to), settings.core_kt * kt);
        let cores_description = format!(
            "a shot has committed when it is in {from}'s or {to}'s basin (steepest descent on \
             {}) within {} kT of the basin's minimum",
            scoring.description, settings.core_kt
        );
        let md = system.file.md();
        let (shooter, max_steps, time_per_step, dynamics): (
            Box<dyn Shooter + 'a>,
            u64,
            f64,
            String,
        ) = match &system.molecule {
            Some(m) => {
                let t = settings.max_time.unwrap_or(MOLECULE_MAX_PS);
                let solvent = m.molecule.medium();
                let dynamics = format!(
                    "Langevin (BAOAB) under the force field{solvent}, {} K, friction {} /ps, \
                         step {} ps, velocities from Maxwell–Boltzmann; no bias",
                    md.temperature, md.friction, md.timestep
                );
                let steps = (t / md.timestep).ceil() as u64;
                let step = md.timestep;
                let shooter = MoleculeShooter {
                    molecule: &m.molecule,
                    md,
                    check_every: CHECK_EVERY,
                };
                (Box::new(shooter), steps, step, dynamics)
            }
            None => {
                let ds = system.file.transition.step_size;
                let steps = settings
                    .max_time
                    .map_or(SURFACE_MAX_STEPS, |t| (t / ds).ceil() as u64);
                let shooter = SurfaceShooter {
                    surface: system.potential()?,
                    kt,
                    step: ds,
                };
                let dynamics = format!(
                    "overdamped Langevin on the system's surface, x += −(ds/2)∇U/kT + √ds ξ, \
                         ds = {ds} (the walkers' step), kT = {kt}"
                );
                (Box::new(shooter), steps, ds, dynamics)
            }
        };
        Ok(Self {
            system,
            scoring: scoring.surface,
            cores,
            shooter,
            settings,
            max_steps,
            time_per_step,
            dynamics,
            cores_description,
        })
    }

    /// The settings it shoots with.
    pub fn settings(&self) -> ShotSettings {
        self.settings
    }

    /// Longest shot, in the time unit of the dynamics.
    pub fn max_time(&self) -> f64 {
        self.max_steps as f64 * self.time_per_step
    }

    /// Shoots from every frame of `starts` (flattened positions, nm, for molecules; points
    /// otherwise), numbered `first…` of the whole set, with `seed`.
    pub fn shoot(
        &self,
        starts: &[Vec<f64>],
        first: usize,
        seed: u64,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Vec<Committor> {
        shoot_all(
            self.shooter.as_ref(),
            &self.cores,
            starts,
            first,
            self.settings.shots,
            self.max_steps,
            seed,
            progress,
        )
    }

    /// The variables of a frame.
    pub fn variables(&self, x: &[f64]) -> Vec<f64> {
        self.system.frame_variables(x)
    }

    /// The scoring surface, which the cores and a frame's score are on.
    pub fn scoring(&self) -> &'a dyn Potential {
        self.scoring
    }

    /// Of a path's frames, the highest on the scoring surface: its candidate transition state.
    pub fn top(&self, frames: &[Vec<f64>]) -> Option<usize> {
        frames
            .iter()
            .map(|x| self.scoring.energy(&self.variables(x)))
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(k, _)| k)
    }
}
