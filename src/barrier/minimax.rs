//! Bottleneck (minimax) path on a regular grid: Dijkstra with the path's running maximum as
//! its cost, 8-connected, wrapping across periodic boundaries.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::error::{Error, Result};
use crate::potential::Potential;

/// The minimax path between two grid nodes.
#[derive(Debug, Clone)]
pub struct MinimaxPath {
    /// Highest energy along the best path: a lower bound for any continuous path's maximum
    /// up to the grid resolution.
    pub barrier: f64,
    /// Grid points along it (unwrapped, so consecutive points are neighbours).
    pub points: Vec<Vec<f64>>,
}

#[derive(PartialEq)]
struct Entry(f64, usize);
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

/// Minimax path from `a` to `b` on an `n × n` grid over `domain` (2-D potentials).
///
/// For a periodic potential the grid spans one period per axis and wraps.
pub fn grid_minimax(
    potential: &dyn Potential,
    domain: &[[f64; 2]],
    n: usize,
    a: &[f64],
    b: &[f64],
) -> Result<MinimaxPath> {
    if potential.dim() != 2 || domain.len() != 2 {
        return Err(Error::Invalid(
            "the grid minimax bound is implemented for 2-D systems".into(),
        ));
    }
    let grid = Grid::new(potential, domain, n);
    let energy: Vec<f64> = (0..n * n)
        .map(|idx| potential.energy(&grid.coord(idx)))
        .collect();
    let (start, goal) = (grid.nearest(a), grid.nearest(b));
    let mut best = vec![f64::INFINITY; n * n];
    let mut prev = vec![usize::MAX; n * n];
    let mut heap = BinaryHeap::new();
    best[start] = energy[start];
    heap.push(Entry(energy[start], start));
    while let Some(Entry(cost, idx)) = heap.pop() {
        if cost > best[idx] {
            continue;
        }
        if idx == goal {
            break;
        }
        for next in grid.neighbours(idx) {
            let c = cost.max(energy[next]);
            if c < best[next] {
                best[next] = c;
                prev[next] = idx;
                heap.push(Entry(c, next));
            }
        }
    }
    if !best[goal].is_finite() {
        return Err(Error::Invalid(
            "no finite-energy path between the states on the grid".into(),
        ));
    }
    let mut chain = vec![goal];
    while *chain.last().expect("non-empty") != start {
        chain.push(prev[*chain.last().expect("non-empty")]);
    }
    chain.reverse();
    // Unwrap so that consecutive points are adjacent.
    let mut points: Vec<Vec<f64>> = Vec::with_capacity(chain.len());
    for idx in chain {
        let c = grid.coord(idx).to_vec();
        let p = match points.last() {
            Some(last) => {
                let d = potential.displacement(last, &c);
                last.iter().zip(&d).map(|(l, d)| l + d).collect()
            }
            None => c,
        };
        points.push(p);
    }
    Ok(MinimaxPath {
        barrier: best[goal],
        points,
    })
}

/// An `n × n` grid over a 2-D domain, periodic along the potential's periodic axes (then `n`
/// nodes per period, the last one not repeating the first); node `idx = j n + i`.
struct Grid {
    /// Per axis: first node, spacing, whether it wraps.
    axes: [(f64, f64, bool); 2],
    n: usize,
}

impl Grid {
    fn new(potential: &dyn Potential, domain: &[[f64; 2]], n: usize) -> Self {
        let periodic = potential.periodic();
        let axes = std::array::from_fn(|k| match periodic[k] {
            Some((low, period)) => (low, period / n as f64, true),
            None => (
                domain[k][0],
                (domain[k][1] - domain[k][0]) / (n - 1) as f64,
                false,
            ),
        });
        Self { axes, n }
    }

    /// The coordinates of node `idx`.
    fn coord(&self, idx: usize) -> [f64; 2] {
        let (i, j) = (idx % self.n, idx / self.n);
        [
            self.axes[0].0 + i as f64 * self.axes[0].1,
            self.axes[1].0 + j as f64 * self.axes[1].1,
        ]
    }

    /// The node nearest `x` (wrapped along periodic axes, clamped along the others).
    fn nearest(&self, x: &[f64]) -> usize {
        let n = self.n;
        let mut ij = [0usize; 2];
        for k in 0..2 {
            let (low, h, wrap) = self.axes[k];
            let mut v = x[k];
            if wrap {
                let period = h * n as f64;
                v = low + (v - low).rem_euclid(period);
            }
            let s = ((v - low) / h).round() as isize;
            ij[k] = if wrap {
                s.rem_euclid(n as isize) as usize
            } else {
                s.clamp(0, n as isize - 1) as usize
            };
        }
        ij[1] * n + ij[0]
    }

    /// The (up to) eight nodes around node `idx`, in the order the search visits them.
    fn neighbours(&self, idx: usize) -> impl Iterator<Item = usize> + '_ {
        let n = self.n as isize;
        let (i, j) = ((idx % self.n) as isize, (idx / self.n) as isize);
        let step = move |v: isize, d: isize, wrap: bool| -> Option<usize> {
            let w = v + d;
            if wrap {
                Some(w.rem_euclid(n) as usize)
            } else {
                (0..n).contains(&w).then_some(w as usize)
            }
        };
        (-1..=1isize)
            .flat_map(|di| (-1..=1isize).map(move |dj| (di, dj)))
            .filter(|&d| d != (0, 0))
            .filter_map(move |(di, dj)| {
                let ni = step(i, di, self.axes[0].2)?;
                let nj = step(j, dj, self.axes[1].2)?;
                Some(nj * self.n + ni)
            })
    }
}
