//! Minimisers for the geodesic's spline coefficients (a few dozen numbers, so the updates run
//! on the host): L-BFGS with a backtracking line search for the deterministic objective, and
//! Adam, the paper's optimiser, for like-for-like reproductions.

use serde::{Deserialize, Serialize};

use crate::lbfgs::{Memory, dot};

/// Which minimiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimiser {
    /// Limited-memory BFGS with an Armijo backtracking line search.
    #[default]
    Lbfgs,
    /// Adam at a fixed learning rate (the paper's choice).
    Adam,
}

/// The stopping rule and step settings shared by both minimisers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub optimiser: Optimiser,
    /// Largest number of iterations.
    pub iterations: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Stop when the objective fell by less than this fraction over `window` iterations.
    pub tolerance: f64,
    pub window: usize,
    /// L-BFGS: Adam iterations of a second start (0: start from the straight line only).
    pub warm_up: usize,
}

/// What a minimiser needs of an evaluation.
pub(crate) trait Evaluated {
    fn value(&self) -> f64;
    fn gradient(&self) -> &[f64];
    fn is_finite(&self) -> bool {
        self.value().is_finite() && self.gradient().iter().all(|g| g.is_finite())
    }
}

/// A finished minimisation: the last accepted point and its evaluation.
pub(crate) struct Outcome<E> {
    pub x: Vec<f64>,
    pub eval: E,
    /// Objective after every iteration.
    pub trace: Vec<f64>,
    pub iterations: usize,
    /// Objective evaluations (line-search trials included).
    pub evaluations: usize,
    pub converged: bool,
}

/// The objective became non-finite at `iteration`; `last` is the last finite point.
pub(crate) struct NonFinite<E> {
    pub iteration: usize,
    pub last: Option<Outcome<E>>,
}

/// Minimises from `x0`, calling `progress(iteration, objective)` after every iteration.
pub(crate) fn minimise<E: Evaluated>(
    settings: &Settings,
    x0: Vec<f64>,
    f: impl FnMut(&[f64]) -> E,
    progress: impl FnMut(usize, f64),
) -> Result<Outcome<E>, NonFinite<E>> {
    let mut f = f;
    let mut progress = progress;
    match settings.optimiser {
        Optimiser::Adam => adam(settings, x0, f, progress),
        Optimiser::Lbfgs if settings.warm_up == 0 => lbfgs(settings, x0, f, progress),
        Optimiser::Lbfgs => {
            // The plain geodesic has several local minima: L-BFGS from the straight line and
            // from where a short run of Adam's noisy steps led, keeping the lower.
            let cold = lbfgs(settings, x0.clone(), &mut f, &mut progress)?;
            let explore = Settings {
                iterations: settings.warm_up,
                window: usize::MAX / 2,
                ..*settings
            };
            let warm = adam(&explore, x0, &mut f, &mut progress)?;
            let spent = cold.evaluations + warm.evaluations;
            let mut best = lbfgs(settings, warm.x, f, progress)?;
            best.iterations += warm.iterations;
            if cold.eval.value() < best.eval.value() {
                best = cold;
            }
            best.evaluations += spent;
            Ok(best)
        }
    }
}

/// Whether the objective fell by less than `tolerance` (relative) over the last `window`
/// iterations.
fn stalled(trace: &[f64], settings: &Settings) -> bool {
    let w = settings.window.max(1);
    trace.len() > w && {
        let (old, new) = (trace[trace.len() - 1 - w], trace[trace.len() - 1]);
        (old - new).abs() <= settings.tolerance * new.abs().max(1e-300)
    }
}

/// Curvature pairs kept by L-BFGS.
const MEMORY: usize = 10;
/// Armijo's sufficient-decrease constant.
const ARMIJO: f64 = 1e-4;
/// Halvings of the step before the line search gives up (the objective is then flat to
/// its floating-point noise along the search direction: a minimum for all purposes).
const BACKTRACKS: usize = 30;

fn lbfgs<E: Evaluated>(
    settings: &Settings,
    mut x: Vec<f64>,
    mut f: impl FnMut(&[f64]) -> E,
    mut progress: impl FnMut(usize, f64),
) -> Result<Outcome<E>, NonFinite<E>> {
    let mut eval = f(&x);
    let mut evaluations = 1;
    if !eval.is_finite() {
        return Err(NonFinite {
            iteration: 0,
            last: None,
        });
    }
    let mut trace = vec![eval.value()];
    progress(0, eval.value());
    let mut memory = Memory::new(MEMORY);
    let mut iteration = 0;
    let outcome = |x, eval, trace, iterations, evaluations, converged| Outcome {
        x,
        eval,
        trace,
        iterations,
        evaluations,
        converged,
    };
    while iteration < settings.iterations {
        let g = eval.gradient().to_vec();
        // First step: a unit move of the largest coefficient.
        let first = 1.0 / g.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
        let mut d = memory.direction(&g, first);
        let mut slope = dot(&d, &g);
        if slope >= 0.0 {
            memory.clear();
            d = g.iter().map(|v| -v * first).collect();
            slope = dot(&d, &g);
        }
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..BACKTRACKS {
            let trial: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + t * b).collect();
            let e = f(&trial);
            evaluations += 1;
            if e.is_finite() && e.value() <= eval.value() + ARMIJO * t * slope {
                accepted = Some((trial, e));
                break;
            }
            t *= 0.5;
        }
        let Some((x_new, e_new)) = accepted else {
            if memory.is_empty() {
                // No decrease even along the gradient: converged to the objective's noise.
                return Ok(outcome(x, eval, trace, iteration, evaluations, true));
            }
            // The curvature model went stale: restart from the gradient direction.
            memory.clear();
            continue;
        };
        iteration += 1;
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = e_new
            .gradient()
            .iter()
            .zip(&g)
            .map(|(a, b)| a - b)
            .collect();
        if dot(&s, &y) > 1e-12 * dot(&s, &s).sqrt() * dot(&y, &y).sqrt() {
            memory.push(s, y);
        }
        x = x_new;
        eval = e_new;
        trace.push(eval.value());
        progress(iteration, eval.value());
        if stalled(&trace, settings) {
            return Ok(outcome(x, eval, trace, iteration, evaluations, true));
        }
    }
    Ok(outcome(x, eval, trace, iteration, evaluations, false))
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPSILON: f64 = 1e-8;

fn adam<E: Evaluated>(
    settings: &Settings,
    mut x: Vec<f64>,
    mut f: impl FnMut(&[f64]) -> E,
    mut progress: impl FnMut(usize, f64),
) -> Result<Outcome<E>, NonFinite<E>> {
    let n = x.len();
    let (mut m, mut v) = (vec![0.0; n], vec![0.0; n]);
    let mut trace = Vec::new();
    let mut last: Option<Outcome<E>> = None;
    for step in 0.. {
        let eval = f(&x);
        if !eval.is_finite() {
            return Err(NonFinite {
                iteration: step,
                last,
            });
        }
        trace.push(eval.value());
        progress(step, eval.value());
        let converged = stalled(&trace, settings);
        if converged || step >= settings.iterations {
            return Ok(Outcome {
                x,
                eval,
                trace,
                iterations: step,
                evaluations: step + 1,
                converged,
            });
        }
        let t = (step + 1) as i32;
        let (c1, c2) = (1.0 - BETA1.powi(t), 1.0 - BETA2.powi(t));
        let mut next = x.clone();
        for (i, g) in eval.gradient().iter().enumerate() {
            m[i] = BETA1 * m[i] + (1.0 - BETA1) * g;
            v[i] = BETA2 * v[i] + (1.0 - BETA2) * g * g;
            next[i] -= settings.learning_rate * (m[i] / c1) / ((v[i] / c2).sqrt() + EPSILON);
        }
        last = Some(Outcome {
            x: std::mem::replace(&mut x, next),
            eval,
            trace: trace.clone(),
            iterations: step,
            evaluations: step + 1,
            converged: false,
        });
    }
    unreachable!("the loop returns")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Quadratic(f64, Vec<f64>);
    impl Evaluated for Quadratic {
        fn value(&self) -> f64 {
            self.0
        }
        fn gradient(&self) -> &[f64] {
            &self.1
        }
    }

    /// An ill-conditioned quadratic `Σ c_i (x_i − 1)²`.
    fn quadratic(x: &[f64]) -> Quadratic {
        let c = [1.0, 10.0, 100.0, 1000.0];
        let v = x.iter().zip(c).map(|(x, c)| c * (x - 1.0).powi(2)).sum();
        Quadratic(
            v,
            x.iter().zip(c).map(|(x, c)| 2.0 * c * (x - 1.0)).collect(),
        )
    }

    fn settings(optimiser: Optimiser) -> Settings {
        Settings {
            optimiser,
            iterations: 20_000,
            learning_rate: 0.01,
            tolerance: 1e-12,
            window: 5,
            warm_up: 0,
        }
    }

    #[test]
    fn both_minimisers_find_the_minimum_of_an_ill_conditioned_quadratic() {
        for opt in [Optimiser::Lbfgs, Optimiser::Adam] {
            let out = minimise(&settings(opt), vec![0.0; 4], quadratic, |_, _| {})
                .ok()
                .unwrap();
            assert!(out.converged, "{opt:?}");
            for v in &out.x {
                assert!((v - 1.0).abs() < 1e-3, "{opt:?}: {:?}", out.x);
            }
            if opt == Optimiser::Lbfgs {
                assert!(out.iterations < 60, "L-BFGS took {}", out.iterations);
            }
        }
    }

    #[test]
    fn a_non_finite_objective_returns_the_last_finite_point() {
        let f = |x: &[f64]| {
            let q = quadratic(x);
            if x[0] > 0.5 {
                Quadratic(f64::NAN, q.1)
            } else {
                q
            }
        };
        let out = minimise(&settings(Optimiser::Adam), vec![0.0; 4], f, |_, _| {});
        let Err(e) = out else { panic!("must fail") };
        assert!(e.iteration > 0);
        assert!(e.last.unwrap().x[0] <= 0.5);
    }
}
