//! The simplified string method (E, Ren & Vanden-Eijnden, 2007): images descend the gradient
//! and are redistributed at equal arc length until the string is a minimum-energy path; the
//! highest image is then refined to the saddle point by Newton's method.

use crate::error::{Error, Result};
use crate::potential::Potential;

/// A minimum-energy path and its saddle.
#[derive(Debug, Clone)]
pub struct MinimumEnergyPath {
    /// Images from the relaxed start to the relaxed end.
    pub points: Vec<Vec<f64>>,
    /// Energy of every image.
    pub energies: Vec<f64>,
    /// The refined saddle point (the highest point of the path).
    pub saddle: Vec<f64>,
    /// Energy at the saddle.
    pub saddle_energy: f64,
    /// `saddle_energy − energy of the first image`.
    pub barrier: f64,
    /// String iterations performed.
    pub iterations: usize,
}

fn arc_length_resample(potential: &dyn Potential, points: &[Vec<f64>], m: usize) -> Vec<Vec<f64>> {
    let mut s = vec![0.0];
    for w in points.windows(2) {
        let d = potential.displacement(&w[0], &w[1]);
        s.push(s.last().expect("non-empty") + d.iter().map(|v| v * v).sum::<f64>().sqrt());
    }
    let total = *s.last().expect("non-empty");
    let mut out = Vec::with_capacity(m);
    let mut seg = 0;
    for i in 0..m {
        let target = total * i as f64 / (m - 1) as f64;
        while seg + 2 < s.len() && s[seg + 1] < target {
            seg += 1;
        }
        let len = (s[seg + 1] - s[seg]).max(1e-300);
        let t = ((target - s[seg]) / len).clamp(0.0, 1.0);
        let d = potential.displacement(&points[seg], &points[seg + 1]);
        out.push(points[seg].iter().zip(&d).map(|(p, d)| p + t * d).collect());
    }
    out
}

fn gradient(potential: &dyn Potential, x: &[f64]) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; x.len()];
    let u = potential.energy_gradient(x, &mut g);
    (u, g)
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        let (top, rest) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (offset, row) in rest.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            row.iter_mut()
                .zip(pivot_row)
                .skip(col)
                .for_each(|(r, p)| *r -= f * p);
            b[col + 1 + offset] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| a[i][k] * x[k]).sum();
        x[i] = (b[i] - s) / a[i][i];
    }
    Some(x)
}

/// Newton's method on `∇U = 0` from `x`, with a finite-difference Hessian.
fn newton_stationary(potential: &dyn Potential, x: &[f64], length: f64) -> Vec<f64> {
    let mut x = x.to_vec();
    let h = 1e-6 * length.max(1e-12);
    for _ in 0..50 {
        let (_, g) = gradient(potential, &x);
        let hess: Vec<Vec<f64>> = (0..x.len())
            .map(|i| {
                let mut xp = x.clone();
                let mut xm = x.clone();
                xp[i] += h;
                xm[i] -= h;
                let (gp, gm) = (gradient(potential, &xp).1, gradient(potential, &xm).1);
                gp.iter()
                    .zip(&gm)
                    .map(|(a, b)| (a - b) / (2.0 * h))
                    .collect()
            })
            .collect();
        let Some(dx) = solve(hess, g.iter().map(|v| -v).collect()) else {
            break;
        };
        // Keep the step local: Newton must stay near the string's top.
        let norm = dx.iter().map(|v| v * v).sum::<f64>().sqrt();
        let scale = if norm > 0.05 * length {
            0.05 * length / norm
        } else {
            1.0
        };
        x.iter_mut().zip(&dx).for_each(|(a, d)| *a += scale * d);
        if norm < 1e-12 * length.max(1.0) {
            break;
        }
    }
    x
}

/// Minimum-energy path from `initial` (a rough path, e.g. the grid minimax one) with `images`
/// images.
pub fn minimum_energy_path(
    potential: &dyn Potential,
    initial: &[Vec<f64>],
    images: usize,
    max_iterations: usize,
) -> Result<MinimumEnergyPath> {
    if initial.len() < 2 || images < 3 {
        return Err(Error::Invalid(
            "a string needs two endpoints and three images".into(),
        ));
    }
    let mut string = arc_length_resample(potential, initial, images);
    let mut iterations = 0;
    for it in 0..max_iterations {
        iterations = it + 1;
        let grads: Vec<(f64, Vec<f64>)> = string.iter().map(|x| gradient(potential, x)).collect();
        if grads.iter().any(|(u, _)| !u.is_finite()) {
            return Err(Error::NonFinite(
                "the string left the finite-energy region".into(),
            ));
        }
        let spacing = {
            let d = potential.displacement(&string[0], &string[1]);
            d.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12)
        };
        let gmax = grads
            .iter()
            .map(|(_, g)| g.iter().map(|v| v * v).sum::<f64>().sqrt())
            .fold(0.0, f64::max)
            .max(1e-300);
        let dt = 0.1 * spacing / gmax;
        let mut moved = 0.0f64;
        for (x, (_, g)) in string.iter_mut().zip(&grads) {
            for (xi, gi) in x.iter_mut().zip(g) {
                *xi -= dt * gi;
                moved = moved.max((dt * gi).abs());
            }
        }
        string = arc_length_resample(potential, &string, images);
        if moved < 1e-7 * spacing {
            break;
        }
    }
    let energies: Vec<f64> = string.iter().map(|x| potential.energy(x)).collect();
    let top = energies
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .expect("non-empty");
    let length: f64 = string
        .windows(2)
        .map(|w| {
            potential
                .displacement(&w[0], &w[1])
                .iter()
                .map(|v| v * v)
                .sum::<f64>()
                .sqrt()
        })
        .sum();
    let saddle = if top == 0 || top + 1 == string.len() {
        string[top].clone()
    } else {
        newton_stationary(potential, &string[top], length)
    };
    let mut saddle_energy = potential.energy(&saddle);
    // Newton may land on another stationary point if the string is coarse: keep the image then.
    let near = potential
        .displacement(&saddle, &string[top])
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt()
        < 2.0 * length / images as f64;
    let saddle = if near && saddle_energy.is_finite() {
        saddle
    } else {
        saddle_energy = energies[top];
        string[top].clone()
    };
    Ok(MinimumEnergyPath {
        barrier: saddle_energy - energies[0],
        points: string,
        energies,
        saddle,
        saddle_energy,
        iterations,
    })
}
