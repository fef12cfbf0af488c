//! A potential that counts its evaluations: every energy call a method spends is reported
//! (the constraint of a geodesic, a string method, a grid bound), not only the walkers'.

use std::sync::atomic::{AtomicU64, Ordering};

use super::Potential;

/// `inner`, counting every evaluation.
pub struct Counting<'a> {
    inner: &'a dyn Potential,
    calls: AtomicU64,
}

impl<'a> Counting<'a> {
    /// Counts the evaluations of `inner` from zero.
    pub fn new(inner: &'a dyn Potential) -> Self {
        Self {
            inner,
            calls: AtomicU64::new(0),
        }
    }

    /// Evaluations so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}

impl Potential for Counting<'_> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn energy_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.energy_gradient(x, grad)
    }

    fn energy(&self, x: &[f64]) -> f64 {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.energy(x)
    }

    fn periodic(&self) -> Vec<Option<(f64, f64)>> {
        self.inner.periodic()
    }
}
