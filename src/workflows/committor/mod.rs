//! The committor: the probability `p_B` that unbiased dynamics started from a configuration
//! (with fresh thermal noise, and Maxwell–Boltzmann velocities for molecules) reaches the
//! target's core before the start's. A transition state has `p_B ≈ ½`; it needs no free-energy
//! surface to move, so it judges every route without circularity (Geissler, Dellago & Chandler
//! 1999; Bolhuis, Dellago & Chandler 2000).
//!
//! Shots are independent: shot `s` of frame `f` draws random stream `f·shots + s` of the seed,
//! so the numbers do not depend on the number of threads or on which frames are asked for
//! together.

mod judge;

pub use judge::{
    DEFAULT_CORE_KT, DEFAULT_SHOTS, MOLECULE_MAX_PS, SURFACE_MAX_STEPS, ShotJudge, ShotSettings,
};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::barrier::Basins;
use crate::molecule::{Langevin, MdConfig, Molecule, State};
use crate::potential::Potential;

/// Where a shot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The start state's core.
    From,
    /// The target state's core.
    To,
}

/// Decides when a trajectory has committed.
pub trait Commitment: Sync {
    /// The core holding the point `v` (the system's variables), if any.
    fn side(&self, v: &[f64]) -> Option<Side>;
}

/// A state's core is the part of its basin (steepest descent on the surface, the rule of a
/// path's reach) within `depth` of the basin's minimum: deep enough that a trajectory there
/// has committed, not just crossed the dividing surface.
pub struct BasinCores<'a> {
    surface: &'a dyn Potential,
    basins: Basins<'a>,
    names: [String; 2],
    ceilings: [f64; 2],
}

impl<'a> BasinCores<'a> {
    /// The cores of `from` and `to` among `states` on `surface`, `depth` above each minimum.
    pub fn new(
        surface: &'a dyn Potential,
        states: &[(String, Vec<f64>)],
        (from, to): (&str, &str),
        depth: f64,
    ) -> Self {
        let basins = Basins::new(surface, states);
        let ceiling = |name: &str| {
            basins
                .minimum(name)
                .map_or(f64::NEG_INFINITY, |m| surface.energy(m) + depth)
        };
        Self {
            ceilings: [ceiling(from), ceiling(to)],
            names: [from.to_string(), to.to_string()],
            surface,
            basins,
        }
    }
}

impl Commitment for BasinCores<'_> {
    fn side(&self, v: &[f64]) -> Option<Side> {
        let e = self.surface.energy(v);
        // The descent is the expensive part: only points low enough to be in a core need it.
        if !(e <= self.ceilings[0] || e <= self.ceilings[1]) {
            return None;
        }
        let basin = self.basins.of(v);
        [Side::From, Side::To]
            .into_iter()
            .zip(&self.names)
            .zip(&self.ceilings)
            .find(|((_, name), ceiling)| e <= **ceiling && basin.states.contains(name))
            .map(|((side, _), _)| side)
    }
}

/// Unbiased dynamics from a configuration until it commits or runs out of steps.
pub trait Shooter: Sync {
    /// One shot from `start` (flattened coordinates) with `rng`: where it committed, if it
    /// did within `max_steps`, and after how many steps.
    fn shoot(
        &self,
        start: &[f64],
        commitment: &dyn Commitment,
        max_steps: u64,
        rng: &mut ChaCha8Rng,
    ) -> (Option<Side>, u64);
}

/// Overdamped Langevin on a surface, as the walkers move without their restraint:
/// `x += −(ds/2)∇U/kT + √ds ξ`.
pub struct SurfaceShooter<'a> {
    /// The surface.
    pub surface: &'a dyn Potential,
    /// Thermal energy.
    pub kt: f64,
    /// Step `ds` (squared data units).
    pub step: f64,
}

impl Shooter for SurfaceShooter<'_> {
    fn shoot(
        &self,
        start: &[f64],
        commitment: &dyn Commitment,
        max_steps: u64,
        rng: &mut ChaCha8Rng,
    ) -> (Option<Side>, u64) {
        let mut x = start.to_vec();
        let mut g = vec![0.0; x.len()];
        let noise = self.step.sqrt();
        for step in 0..=max_steps {
            if let Some(side) = commitment.side(&x) {
                return (Some(side), step);
            }
            if step == max_steps {
                break;
            }
            self.surface.energy_gradient(&x, &mut g);
            for (x, g) in x.iter_mut().zip(&g) {
                let xi: f64 = rng.sample(StandardNormal);
                *x += -0.5 * self.step * g / self.kt + noise * xi;
            }
            self.surface.wrap(&mut x);
        }
        (None, max_steps)
    }
}

/// Underdamped Langevin of a molecule under its force field (its solvent included), the
/// system's temperature, friction, step and constraints; velocities drawn from
/// Maxwell–Boltzmann; commitment judged on its variables every `check_every` steps.
pub struct MoleculeShooter<'a> {
    /// The molecule.
    pub molecule: &'a Molecule,
    /// Its dynamics.
    pub md: MdConfig,
    /// Steps between looks at the variables.
    pub check_every: u64,
}

impl Shooter for MoleculeShooter<'_> {
    fn shoot(
        &self,
        start: &[f64],
        commitment: &dyn Commitment,
        max_steps: u64,
        rng: &mut ChaCha8Rng,
    ) -> (Option<Side>, u64) {
        let m = self.molecule;
        let mut state = State {
            positions: crate::molecule::align::unflatten(start),
            velocities: vec![[0.0; 3]; m.topology.len()],
        };
        let mut integrator = Langevin::for_molecule(
            &self.md.langevin(),
            self.md.constraints,
            &m.forcefield,
            &m.topology.masses,
            rng.random(),
        );
        integrator.thermalise(&mut state);
        let mut step = 0;
        loop {
            if let Some(side) = commitment.side(&m.cv.values(&state.positions)) {
                return (Some(side), step);
            }
            if step >= max_steps {
                return (None, step);
            }
            let n = self.check_every.min(max_steps - step);
            integrator.run(&m.forcefield, &mut state, n, None);
            step += n;
        }
    }
}

/// What the shots from one configuration did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Committor {
    /// Shots that reached the target's core first.
    pub to: usize,
    /// Shots that reached the start's core first.
    pub from: usize,
    /// Shots that reached neither within the time limit (left out of `p_B`, counted here).
    pub undecided: usize,
    /// `to / (to + from)`; NaN (null) when no shot committed.
    #[serde(deserialize_with = "crate::output::json::nullable_f64")]
    pub p_b: f64,
    /// Its binomial standard error `√(p(1 − p)/n)`.
    #[serde(deserialize_with = "crate::output::json::nullable_f64")]
    pub standard_error: f64,
    /// Mean steps to commit, over the shots that did.
    #[serde(deserialize_with = "crate::output::json::nullable_f64")]
    pub mean_commit_steps: f64,
}

/// `shots` shots from every configuration of `starts`, on all cores, seeded by `seed`; the
/// configurations are numbers `first…` of the whole set (a shard's draw the streams the whole
/// run would); `progress` is told of every finished configuration.
#[allow(clippy::too_many_arguments)]
pub fn committors(
    shooter: &dyn Shooter,
    commitment: &dyn Commitment,
    starts: &[Vec<f64>],
    first: usize,
    shots: usize,
    max_steps: u64,
    seed: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Committor> {
    let outcomes: Vec<(Option<Side>, u64)> = (0..starts.len() * shots)
        .into_par_iter()
        .map(|k| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream((first * shots + k) as u64);
            let out = shooter.shoot(&starts[k / shots], commitment, max_steps, &mut rng);
            if k % shots == shots - 1 {
                progress(1);
            }
            out
        })
        .collect();
    outcomes
        .chunks(shots)
        .map(|shots| {
            let count = |s: Side| shots.iter().filter(|o| o.0 == Some(s)).count();
            let (to, from) = (count(Side::To), count(Side::From));
            let n = to + from;
            let p = to as f64 / n as f64;
            let steps: Vec<f64> = shots
                .iter()
                .filter(|o| o.0.is_some())
                .map(|o| o.1 as f64)
                .collect();
            Committor {
                to,
                from,
                undecided: shots.len() - n,
                p_b: if n > 0 { p } else { f64::NAN },
                standard_error: if n > 0 {
                    (p * (1.0 - p) / n as f64).sqrt()
                } else {
                    f64::NAN
                },
                mean_commit_steps: if steps.is_empty() {
                    f64::NAN
                } else {
                    steps.iter().sum::<f64>() / steps.len() as f64
                },
            }
        })
        .collect()
}

/// How close to ½ a set of configurations' committors are: what says whether they are
/// transition states.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Histogram {
    /// Configurations with at least one committed shot.
    pub frames: usize,
    /// Counts of `p_B` in ten bins of width 0.1 from 0 to 1 (1 in the last).
    pub counts: [usize; 10],
    /// Share with `p_B` in [0.3, 0.7].
    #[serde(deserialize_with = "crate::output::json::nullable_f64")]
    pub fraction_near_half: f64,
    /// Mean `|p_B − ½|`.
    #[serde(deserialize_with = "crate::output::json::nullable_f64")]
    pub mean_distance_from_half: f64,
    /// Its standard error over the configurations.
    #[serde(deserialize_with = "crate::output::json::nullable_f64")]
    pub standard_error: f64,
}

impl Histogram {
    /// Of the committors with a `p_B`.
    pub fn of(committors: &[Committor]) -> Self {
        let p: Vec<f64> = committors
            .iter()
            .map(|c| c.p_b)
            .filter(|p| p.is_finite())
            .collect();
        let mut counts = [0; 10];
        for v in &p {
            counts[((v * 10.0) as usize).min(9)] += 1;
        }
        let n = p.len() as f64;
        let d: Vec<f64> = p.iter().map(|v| (v - 0.5).abs()).collect();
        let mean = d.iter().sum::<f64>() / n;
        let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        Self {
            frames: p.len(),
            counts,
            fraction_near_half: p.iter().filter(|v| (0.3..=0.7).contains(*v)).count() as f64 / n,
            mean_distance_from_half: mean,
            standard_error: (var / n).sqrt(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `U = h (x² − 1)² + y²`, absorbing at `x ≤ a` (From) and `x ≥ b` (To).
    struct Well {
        h: f64,
    }

    impl Potential for Well {
        fn dim(&self) -> usize {
            2
        }
        fn energy_gradient(&self, x: &[f64], g: &mut [f64]) -> f64 {
            g[0] = 4.0 * self.h * x[0] * (x[0] * x[0] - 1.0);
            g[1] = 2.0 * x[1];
            self.h * (x[0] * x[0] - 1.0).powi(2) + x[1] * x[1]
        }
    }

    struct Planes(f64, f64);

    impl Commitment for Planes {
        fn side(&self, v: &[f64]) -> Option<Side> {
            if v[0] <= self.0 {
                Some(Side::From)
            } else if v[0] >= self.1 {
                Some(Side::To)
            } else {
                None
            }
        }
    }

    /// `∫ₐˣ e^{U/kT} / ∫ₐᵇ e^{U/kT}` by Simpson's rule.
    fn closed_form(h: f64, a: f64, b: f64, x: f64) -> f64 {
        let integral = |lo: f64, hi: f64| {
            let n = 2000;
            let step = (hi - lo) / n as f64;
            let f = |t: f64| (h * (t * t - 1.0).powi(2)).exp();
            (0..=n)
                .map(|k| {
                    let w = if k == 0 || k == n {
                        1.0
                    } else if k % 2 == 1 {
                        4.0
                    } else {
                        2.0
                    };
                    w * f(lo + k as f64 * step)
                })
                .sum::<f64>()
                * step
                / 3.0
        };
        integral(a, x) / integral(a, b)
    }

    #[test]
    fn the_committor_of_a_separable_surface_is_the_closed_form_and_symmetric_at_the_middle() {
        let well = Well { h: 2.0 };
        let shooter = SurfaceShooter {
            surface: &well,
            kt: 1.0,
            step: 2e-4,
        };
        let planes = Planes(-0.9, 0.9);
        let xs = [-0.4, -0.15, 0.0, 0.15, 0.4];
        let starts: Vec<Vec<f64>> = xs.iter().map(|&x| vec![x, 0.0]).collect();
        let c = committors(&shooter, &planes, &starts, 0, 400, 200_000, 7, &|_| {});
        let mut last = -1.0;
        for (x, c) in xs.iter().zip(&c) {
            assert_eq!(c.undecided, 0);
            let want = closed_form(2.0, -0.9, 0.9, *x);
            // Three binomial standard errors, plus the time step's bias at the absorbing
            // planes (about √ds/2 in x, a few hundredths in p_B).
            assert!(
                (c.p_b - want).abs() < 3.0 * c.standard_error + 0.03,
                "x = {x}: p_B {:.3} ± {:.3}, closed form {want:.3}",
                c.p_b,
                c.standard_error
            );
            assert!(c.p_b > last, "p_B grows along x");
            last = c.p_b;
        }
        assert!((c[2].p_b - 0.5).abs() < 3.0 * c[2].standard_error);
        // A shard of the frames draws the streams of the whole set.
        let part = committors(&shooter, &planes, &starts[3..], 3, 400, 200_000, 7, &|_| {});
        assert_eq!((part[0].to, part[1].to), (c[3].to, c[4].to));
        // Same seed, same numbers; another seed, others.
        let again = committors(&shooter, &planes, &starts[..1], 0, 400, 200_000, 7, &|_| {});
        assert_eq!(again[0].to, c[0].to);
        let other = committors(&shooter, &planes, &starts[..1], 0, 400, 200_000, 8, &|_| {});
        assert_ne!(other[0].to, c[0].to);
    }

    #[test]
    fn shots_that_never_commit_are_counted_apart() {
        let well = Well { h: 2.0 };
        let shooter = SurfaceShooter {
            surface: &well,
            kt: 1.0,
            step: 1e-4,
        };
        let c = committors(
            &shooter,
            &Planes(-0.9, 0.9),
            &[vec![0.0, 0.0]],
            0,
            10,
            5,
            1,
            &|_| {},
        );
        assert_eq!((c[0].to, c[0].from, c[0].undecided), (0, 0, 10));
        assert!(c[0].p_b.is_nan());
        let h = Histogram::of(&c);
        assert_eq!(h.frames, 0);
    }
}
