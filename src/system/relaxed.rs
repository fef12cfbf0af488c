//! A molecule's relaxed (adiabatic) potential-energy map over its two variables, and the
//! barrier read off it: the potential-energy reference beside the free-energy one.

use super::{MolecularSystem, System};
use crate::barrier::grid_minimax;
use crate::error::Result;
use crate::molecule::backmap::relaxed_energies;
use crate::potential::Tabulated;
use crate::progress::Progress;

impl MolecularSystem {
    /// The relaxed map on a `grid²` grid, relaxed from the energy minimum of `state`'s basin
    /// (at `at`); one progress stage, a step per row.
    pub fn compute_relaxed_map(
        &self,
        state: &str,
        at: &[f64],
        grid: usize,
        progress: &dyn Progress,
    ) -> Tabulated {
        progress.stage("relaxed map", grid as u64);
        let m = &self.molecule;
        let start = self.minimum(state, at);
        let values = relaxed_energies(&m.forcefield, &m.cv, &start, grid, &|| progress.add(1));
        Tabulated::periodic_angles(values, grid)
    }

    /// Barrier from `a` to `b` on a relaxed map: the grid minimax of its interpolant minus the
    /// energy of the minimum in `from`'s basin (at `a`).
    pub fn barrier_on_relaxed_map(
        &self,
        map: &Tabulated,
        from: &str,
        a: &[f64],
        b: &[f64],
    ) -> Result<f64> {
        let n = map.shape().0;
        let domain = [[-std::f64::consts::PI, std::f64::consts::PI]; 2];
        let m = grid_minimax(map, &domain, 4 * n, a, b)?;
        let start = self.minimum(from, a);
        let mut forces = vec![[0.0; 3]; start.len()];
        let e_start = self
            .molecule
            .forcefield
            .compute(&start, &mut forces)
            .total();
        Ok(m.barrier - e_start)
    }
}

impl System {
    /// A molecule's relaxed map computed afresh from `state`'s basin (`None` for a surface,
    /// which has no potential energy beneath it).
    pub fn compute_relaxed_map(
        &self,
        state: &str,
        progress: &dyn Progress,
    ) -> Result<Option<Tabulated>> {
        let at = self.file.state(state)?;
        Ok(self
            .molecule
            .as_ref()
            .map(|m| m.compute_relaxed_map(state, at, self.file.barrier.relaxed_grid, progress)))
    }

    /// The barrier from `from` (at `a`) to `b` on a molecule's relaxed map (`None` for a
    /// surface).
    pub fn relaxed_barrier(
        &self,
        map: &Tabulated,
        from: &str,
        a: &[f64],
        b: &[f64],
    ) -> Result<Option<f64>> {
        self.molecule
            .as_ref()
            .map(|m| m.barrier_on_relaxed_map(map, from, a, b))
            .transpose()
    }
}
