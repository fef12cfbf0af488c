//! From collective variables back to atoms: restrained minimisation of the whole molecule to
//! each target point in turn, starting from the previous structure so that a path becomes a
//! continuous all-atom movie; heavy-atom RMSD after optimal superposition (Kabsch); and the
//! relaxed (adiabatic) potential-energy map over two variables.

use super::cv::Dihedrals;
use super::forcefield::ForceField;
use super::minimise::minimise;

/// Stiffness of the collective-variable restraints, kJ/(mol rad²).
pub const RESTRAINT: f64 = 2000.0;

/// Structures following `targets`, each minimised under restraints from the previous one.
pub fn backmap(
    ff: &ForceField,
    cv: &Dihedrals,
    start: &[[f64; 3]],
    targets: &[Vec<f64>],
    iterations: usize,
) -> Vec<Vec<[f64; 3]>> {
    let mut x = start.to_vec();
    targets
        .iter()
        .map(|s| {
            let mut r = cv.restraints(s, RESTRAINT);
            x = minimise(ff, &x, 10.0, iterations, Some(&mut r)).positions;
            x.clone()
        })
        .collect()
}

/// The local minimum in the basin of the point `s`: restrained, then free minimisation.
pub fn basin_minimum(
    ff: &ForceField,
    cv: &Dihedrals,
    start: &[[f64; 3]],
    s: &[f64],
) -> Vec<[f64; 3]> {
    let mut r = cv.restraints(s, RESTRAINT);
    let held = minimise(ff, start, 1.0, 5000, Some(&mut r)).positions;
    minimise(ff, &held, 1e-2, 5000, None).positions
}

/// The adiabatic (relaxed) potential-energy map over two variables: at each of `n × n` grid
/// points `(−π + i h, −π + j h)` the molecule is minimised with both variables restrained
/// there, and the unrestrained force-field energy is recorded. Rows are relaxed in parallel,
/// each sweeping the first variable from the previous point's structure. Returns energies
/// (kJ/mol), first variable fastest; `progress` is called after each row.
pub fn relaxed_energies(
    ff: &ForceField,
    cv: &Dihedrals,
    start: &[[f64; 3]],
    n: usize,
    progress: &(dyn Fn() + Sync),
) -> Vec<f64> {
    use rayon::prelude::*;
    let h = std::f64::consts::TAU / n as f64;
    let angle = |k: usize| -std::f64::consts::PI + k as f64 * h;
    let relax = |from: &[[f64; 3]], s0: f64, s1: f64| {
        let mut r = cv.restraints(&[s0, s1], 20.0 * RESTRAINT);
        let y = minimise(ff, from, 1.0, 2000, Some(&mut r)).positions;
        let mut forces = vec![[0.0; 3]; y.len()];
        let e = ff.compute(&y, &mut forces).total();
        (y, e)
    };
    let mut cells: Vec<(Vec<[f64; 3]>, f64)> = (0..n)
        .into_par_iter()
        .flat_map_iter(|j| {
            let mut x = start.to_vec();
            let row: Vec<_> = (0..n)
                .map(|i| {
                    // From the neighbour's structure and from the start: a sweep can get stuck
                    // in a strained structure, so keep whichever relaxes lower.
                    let best = [x.clone(), start.to_vec()]
                        .iter()
                        .map(|from| relax(from, angle(i), angle(j)))
                        .min_by(|a, b| a.1.total_cmp(&b.1))
                        .expect("two candidates");
                    x = best.0.clone();
                    best
                })
                .collect();
            progress();
            row
        })
        .collect();
    // Repair cells left far above a neighbour by relaxing again from the neighbours' structures.
    for _ in 0..3 {
        let mut repaired = false;
        for j in 0..n {
            for i in 0..n {
                let neighbours = [
                    ((i + 1) % n, j),
                    ((i + n - 1) % n, j),
                    (i, (j + 1) % n),
                    (i, (j + n - 1) % n),
                ];
                let lowest = neighbours
                    .iter()
                    .map(|&(a, b)| cells[b * n + a].1)
                    .fold(f64::INFINITY, f64::min);
                if cells[j * n + i].1 <= lowest + 40.0 {
                    continue;
                }
                for &(a, b) in &neighbours {
                    let (y, e) = relax(&cells[b * n + a].0.clone(), angle(i), angle(j));
                    if e < cells[j * n + i].1 {
                        cells[j * n + i] = (y, e);
                        repaired = true;
                    }
                }
            }
        }
        if !repaired {
            break;
        }
    }
    cells.into_iter().map(|(_, e)| e).collect()
}
