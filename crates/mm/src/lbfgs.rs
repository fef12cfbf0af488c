//! The curvature memory of limited-memory BFGS and its two-loop recursion, shared by the
//! geodesic optimiser and the molecular minimiser.

use std::collections::VecDeque;

/// The last few steps `s` and gradient changes `y`.
#[derive(Debug, Clone)]
pub struct Memory {
    capacity: usize,
    pairs: VecDeque<(Vec<f64>, Vec<f64>)>,
}

impl Memory {
    /// Keeps at most `capacity` pairs.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            pairs: VecDeque::with_capacity(capacity),
        }
    }

    /// Whether no pair is kept.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Forgets every pair (a restart from the gradient direction).
    pub fn clear(&mut self) {
        self.pairs.clear();
    }

    /// Records a step and its gradient change (the caller checks their curvature `sᵀy > 0`).
    pub fn push(&mut self, s: Vec<f64>, y: Vec<f64>) {
        if self.pairs.len() == self.capacity {
            self.pairs.pop_front();
        }
        self.pairs.push_back((s, y));
    }

    /// The quasi-Newton direction `−H g`; the initial inverse Hessian is `sᵀy/yᵀy` of the last
    /// pair, or `first_scale` without one.
    pub fn direction(&self, g: &[f64], first_scale: f64) -> Vec<f64> {
        let mut q = g.to_vec();
        let mut alphas = Vec::with_capacity(self.pairs.len());
        for (s, y) in self.pairs.iter().rev() {
            let rho = 1.0 / dot(y, s);
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push((a, rho));
        }
        let gamma = match self.pairs.back() {
            Some((s, y)) => dot(s, y) / dot(y, y),
            None => first_scale,
        };
        q.iter_mut().for_each(|v| *v *= gamma);
        for ((s, y), (a, rho)) in self.pairs.iter().zip(alphas.into_iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        q.iter_mut().for_each(|v| *v = -*v);
        q
    }
}

/// Dot product.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
