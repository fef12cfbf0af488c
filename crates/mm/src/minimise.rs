//! Energy minimisation by L-BFGS with a backtracking (Armijo) line search.

use super::dynamics::Bias;
use super::forcefield::ForceField;
use crate::lbfgs::{Memory, dot};

/// Result of a minimisation.
#[derive(Debug, Clone)]
pub struct Minimised {
    /// Positions, nm.
    pub positions: Vec<[f64; 3]>,
    /// Force-field energy plus bias, kJ/mol.
    pub energy: f64,
    /// Largest remaining force component, kJ/(mol nm).
    pub max_force: f64,
    /// Iterations taken.
    pub iterations: usize,
}

fn objective(
    ff: &ForceField,
    x: &[[f64; 3]],
    f: &mut [[f64; 3]],
    bias: &mut Option<&mut dyn Bias>,
) -> f64 {
    let mut e = ff.compute(x, f).total();
    if let Some(b) = bias {
        e += b.apply(x, f);
    }
    e
}

/// Minimises from `start` until the largest force component is below `tolerance`
/// (kJ/(mol nm)) or `max_iterations` is reached.
pub fn minimise(
    ff: &ForceField,
    start: &[[f64; 3]],
    tolerance: f64,
    max_iterations: usize,
    mut bias: Option<&mut dyn Bias>,
) -> Minimised {
    const MEMORY: usize = 10;
    let n = start.len() * 3;
    let mut x: Vec<[f64; 3]> = start.to_vec();
    let mut f = vec![[0.0; 3]; start.len()];
    let mut e = objective(ff, &x, &mut f, &mut bias);
    let flat = |v: &[[f64; 3]]| -> Vec<f64> { v.iter().flatten().copied().collect() };
    let mut g: Vec<f64> = flat(&f).iter().map(|v| -v).collect();
    let mut memory = Memory::new(MEMORY);
    let mut iterations = 0;
    let max_force = |g: &[f64]| g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    while iterations < max_iterations && max_force(&g) > tolerance {
        iterations += 1;
        let mut dir = memory.direction(&g, 1e-4 / max_force(&g).max(1e-12));
        let mut slope = dot(&dir, &g);
        if slope >= 0.0 {
            dir = g.iter().map(|v| -v).collect();
            slope = dot(&dir, &g);
            memory.clear();
        }
        // Backtracking line search with the Armijo condition; cap steps at 0.02 nm per atom.
        let longest = dir.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut t = if longest > 0.02 { 0.02 / longest } else { 1.0 };
        let x_flat = flat(&x);
        let mut accepted = None;
        for _ in 0..40 {
            let trial: Vec<[f64; 3]> = (0..start.len())
                .map(|i| std::array::from_fn(|k| x_flat[3 * i + k] + t * dir[3 * i + k]))
                .collect();
            let mut ft = vec![[0.0; 3]; start.len()];
            let et = objective(ff, &trial, &mut ft, &mut bias);
            if et <= e + 1e-4 * t * slope {
                accepted = Some((trial, ft, et));
                break;
            }
            t *= 0.5;
        }
        let Some((xn, fnew, en)) = accepted else {
            break;
        };
        let gn: Vec<f64> = flat(&fnew).iter().map(|v| -v).collect();
        let s: Vec<f64> = flat(&xn).iter().zip(&x_flat).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        if dot(&s, &y) > 1e-12 {
            memory.push(s, y);
        }
        x = xn;
        g = gn;
        e = en;
        debug_assert_eq!(g.len(), n);
    }
    Minimised {
        max_force: max_force(&g),
        positions: x,
        energy: e,
        iterations,
    }
}
