//! Which basin a point lies in: steepest descent (L-BFGS with a backtracking line search) on a
//! surface to its local minimum, compared with the minima that the named states descend to.
//! A path "reaches" its target when it ends in the target's basin, whatever state is nearest:
//! two states may share one basin, and a point near a state may lie over a ridge from it.

use serde::Serialize;

use crate::lbfgs::{Memory, dot};
use crate::potential::Potential;

/// The minima of the named states on one surface.
pub struct Basins<'a> {
    surface: &'a dyn Potential,
    /// Every state with the minimum it descends to.
    states: Vec<(String, Vec<f64>)>,
    /// Two minima closer than this are one basin.
    tolerance: f64,
}

/// Where a point ended up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BasinOf {
    /// The states whose basin it is (empty: none of the named basins).
    pub states: Vec<String>,
    /// The local minimum the point descends to.
    pub minimum: Vec<f64>,
}

impl BasinOf {
    /// The basin's name: its states joined by `/`, or `other`.
    pub fn name(&self) -> String {
        if self.states.is_empty() {
            "other".into()
        } else {
            self.states.join("/")
        }
    }
}

impl<'a> Basins<'a> {
    /// The basins of `states` on `surface`.
    pub fn new(surface: &'a dyn Potential, states: &[(String, Vec<f64>)]) -> Self {
        let states: Vec<(String, Vec<f64>)> = states
            .iter()
            .map(|(name, x)| (name.clone(), descend(surface, x)))
            .collect();
        // A quarter of the smallest distance between distinct minima (or of the largest one
        // if all coincide): far below any basin's size, far above the descent's precision.
        let distances: Vec<f64> = states
            .iter()
            .enumerate()
            .flat_map(|(i, a)| {
                states[i + 1..]
                    .iter()
                    .map(|b| distance(surface, &a.1, &b.1))
            })
            .collect();
        let largest = distances.iter().copied().fold(0.0, f64::max);
        let distinct = distances
            .iter()
            .copied()
            .filter(|d| *d > 1e-3 * largest)
            .fold(f64::INFINITY, f64::min);
        let tolerance = if distinct.is_finite() {
            0.25 * distinct
        } else {
            0.1 * largest.max(1e-6)
        };
        Self {
            surface,
            states,
            tolerance,
        }
    }

    /// The basin `x` descends into.
    pub fn of(&self, x: &[f64]) -> BasinOf {
        let minimum = descend(self.surface, x);
        let states = self
            .states
            .iter()
            .filter(|(_, m)| distance(self.surface, m, &minimum) < self.tolerance)
            .map(|(n, _)| n.clone())
            .collect();
        BasinOf { states, minimum }
    }

    /// The minimum state `name` descends to.
    pub fn minimum(&self, name: &str) -> Option<&[f64]> {
        self.states
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| m.as_slice())
    }
}

fn distance(surface: &dyn Potential, a: &[f64], b: &[f64]) -> f64 {
    surface
        .displacement(a, b)
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt()
}

/// The local minimum below `x` (periodic coordinates wrapped): L-BFGS with Armijo
/// backtracking, from a first step of 1e-3 of the coordinates' scale, no step longer than 1 %
/// of it (a quasi-Newton step on a flat stretch must not leap over a ridge into another
/// basin).
pub fn descend(surface: &dyn Potential, x: &[f64]) -> Vec<f64> {
    const ITERATIONS: usize = 2000;
    let n = x.len();
    let mut x = x.to_vec();
    let mut g = vec![0.0; n];
    let mut u = surface.energy_gradient(&x, &mut g);
    if !u.is_finite() {
        return x;
    }
    let scale = x.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let mut memory = Memory::new(8);
    for _ in 0..ITERATIONS {
        let norm = dot(&g, &g).sqrt();
        if norm == 0.0 {
            break;
        }
        let mut dir = memory.direction(&g, 1e-3 * scale / norm);
        if dot(&dir, &g) >= 0.0 {
            memory.clear();
            dir = g.iter().map(|v| -1e-3 * scale * v / norm).collect();
        }
        let length = dot(&dir, &dir).sqrt();
        if length > 0.01 * scale {
            dir.iter_mut().for_each(|d| *d *= 0.01 * scale / length);
        }
        let slope = dot(&dir, &g);
        let mut t = 1.0;
        let mut g_new = vec![0.0; n];
        let accepted = loop {
            let trial: Vec<f64> = x.iter().zip(&dir).map(|(a, d)| a + t * d).collect();
            let u_new = surface.energy_gradient(&trial, &mut g_new);
            if u_new.is_finite() && u_new <= u + 1e-4 * t * slope {
                break Some((trial, u_new));
            }
            t *= 0.5;
            if t < 1e-12 {
                break None;
            }
        };
        let Some((trial, u_new)) = accepted else {
            break;
        };
        let s: Vec<f64> = trial.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let step = dot(&s, &s).sqrt();
        if dot(&s, &y) > 1e-300 {
            memory.push(s, y);
        }
        let change = u - u_new;
        x = trial;
        g.clone_from(&g_new);
        u = u_new;
        if step < 1e-10 * scale || change.abs() < 1e-14 * u.abs().max(1.0) {
            break;
        }
    }
    surface.wrap(&mut x);
    x
}
