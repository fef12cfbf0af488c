//! CMAP: a correction to the energy tabulated over two consecutive backbone dihedrals (φ, ψ)
//! (AMBER ff19SB, CHARMM), interpolated as OpenMM does: periodic cubic splines give the
//! derivatives at the grid points, and bicubic patches join them (C¹ everywhere).
//!
//! A prmtop stores each map as `n × n` energies (kcal/mol) over `[−180°, 180°)`, φ the slow
//! index.

use std::f64::consts::{PI, TAU};

use super::dihedral::{add_dihedral_force, dihedral};

/// One map as bicubic patches: 16 coefficients per cell, `c[i + 4 j]` multiplying
/// `u^i v^j` with `u, v ∈ [0, 1)` the position inside the cell.
#[derive(Debug, Clone)]
pub struct CmapGrid {
    n: usize,
    patches: Vec<[f64; 16]>,
}

/// A CMAP term: the map and the five atoms whose dihedrals (1-2-3-4) and (2-3-4-5) it reads.
#[derive(Debug, Clone, Copy)]
pub struct CmapTerm {
    /// Index of its map.
    pub map: usize,
    /// The five atoms.
    pub atoms: [usize; 5],
}

/// Derivatives at the knots of the periodic cubic spline through `y` (uniform spacing `h`):
/// the second derivatives solve the cyclic tridiagonal system of the spline's continuity.
fn periodic_spline_slopes(y: &[f64], h: f64) -> Vec<f64> {
    let n = y.len();
    // (h/6) m[i−1] + (2h/3) m[i] + (h/6) m[i+1] = (y[i+1] − 2 y[i] + y[i−1]) / h, cyclically.
    let rhs: Vec<f64> = (0..n)
        .map(|i| (y[(i + 1) % n] - 2.0 * y[i] + y[(i + n - 1) % n]) / h)
        .collect();
    let m = solve_cyclic(h / 6.0, 2.0 * h / 3.0, h / 6.0, &rhs);
    (0..n)
        .map(|i| {
            let j = (i + 1) % n;
            (y[j] - y[i]) / h - h * (2.0 * m[i] + m[j]) / 6.0
        })
        .collect()
}

/// Solves the cyclic tridiagonal system with constant sub-, main and super-diagonal `a, b, c`.
fn solve_cyclic(a: f64, b: f64, c: f64, r: &[f64]) -> Vec<f64> {
    let n = r.len();
    // Sherman–Morrison: A = T + u vᵀ with T tridiagonal (corner terms folded in).
    let gamma = -b;
    let mut diag = vec![b; n];
    diag[0] = b - gamma;
    diag[n - 1] = b - a * c / gamma;
    let solve = |d: &[f64], rhs: &[f64]| -> Vec<f64> {
        let mut cp = vec![0.0; n];
        let mut dp = vec![0.0; n];
        cp[0] = c / d[0];
        dp[0] = rhs[0] / d[0];
        for i in 1..n {
            let m = d[i] - a * cp[i - 1];
            cp[i] = c / m;
            dp[i] = (rhs[i] - a * dp[i - 1]) / m;
        }
        let mut x = vec![0.0; n];
        x[n - 1] = dp[n - 1];
        for i in (0..n - 1).rev() {
            x[i] = dp[i] - cp[i] * x[i + 1];
        }
        x
    };
    let x = solve(&diag, r);
    let mut u = vec![0.0; n];
    u[0] = gamma;
    u[n - 1] = a;
    let z = solve(&diag, &u);
    let v0 = 1.0;
    let vn = c / gamma;
    let factor = (v0 * x[0] + vn * x[n - 1]) / (1.0 + v0 * z[0] + vn * z[n - 1]);
    x.iter().zip(&z).map(|(x, z)| x - factor * z).collect()
}

/// The bicubic coefficients of a unit cell from the value, the two slopes and the cross slope
/// (all in cell units) at its corners, counter-clockwise from (0, 0).
fn bicubic(f: [f64; 4], fu: [f64; 4], fv: [f64; 4], fuv: [f64; 4]) -> [f64; 16] {
    // Hermite basis along each axis: p(t) = Σ a_k t^k from p(0), p(1), p'(0), p'(1).
    let hermite = |p0: f64, p1: f64, d0: f64, d1: f64| {
        [
            p0,
            d0,
            3.0 * (p1 - p0) - 2.0 * d0 - d1,
            2.0 * (p0 - p1) + d0 + d1,
        ]
    };
    // Corner order: (0,0), (1,0), (1,1), (0,1).
    let at = |g: &[f64; 4], i: usize, j: usize| match (i, j) {
        (0, 0) => g[0],
        (1, 0) => g[1],
        (1, 1) => g[2],
        _ => g[3],
    };
    // Along u at v = 0 and v = 1 for values and v-slopes, then along v.
    let mut c = [0.0; 16];
    let value_rows: Vec<[f64; 4]> = (0..2)
        .map(|j| hermite(at(&f, 0, j), at(&f, 1, j), at(&fu, 0, j), at(&fu, 1, j)))
        .collect();
    let slope_rows: Vec<[f64; 4]> = (0..2)
        .map(|j| hermite(at(&fv, 0, j), at(&fv, 1, j), at(&fuv, 0, j), at(&fuv, 1, j)))
        .collect();
    for i in 0..4 {
        let b = hermite(
            value_rows[0][i],
            value_rows[1][i],
            slope_rows[0][i],
            slope_rows[1][i],
        );
        for j in 0..4 {
            c[i + 4 * j] = b[j];
        }
    }
    c
}

impl CmapGrid {
    /// The map of `n × n` energies (kJ/mol) with φ the slow index, both from −π.
    pub fn new(n: usize, energies: &[f64]) -> Self {
        let h = TAU / n as f64;
        let e = |i: usize, j: usize| energies[(i % n) * n + (j % n)];
        // Slopes along φ (for each ψ column), along ψ (for each φ row), and the cross slope.
        let mut d_phi = vec![0.0; n * n];
        let mut d_psi = vec![0.0; n * n];
        for j in 0..n {
            let column: Vec<f64> = (0..n).map(|i| e(i, j)).collect();
            for (i, s) in periodic_spline_slopes(&column, h).into_iter().enumerate() {
                d_phi[i * n + j] = s;
            }
        }
        for i in 0..n {
            let row: Vec<f64> = (0..n).map(|j| e(i, j)).collect();
            for (j, s) in periodic_spline_slopes(&row, h).into_iter().enumerate() {
                d_psi[i * n + j] = s;
            }
        }
        let mut d_cross = vec![0.0; n * n];
        for i in 0..n {
            let row: Vec<f64> = (0..n).map(|j| d_phi[i * n + j]).collect();
            for (j, s) in periodic_spline_slopes(&row, h).into_iter().enumerate() {
                d_cross[i * n + j] = s;
            }
        }
        let g = |v: &[f64], i: usize, j: usize| v[(i % n) * n + (j % n)];
        let patches = (0..n * n)
            .map(|cell| {
                let (i, j) = (cell / n, cell % n);
                let corners = |v: &[f64], scale: f64| {
                    [
                        scale * g(v, i, j),
                        scale * g(v, i + 1, j),
                        scale * g(v, i + 1, j + 1),
                        scale * g(v, i, j + 1),
                    ]
                };
                bicubic(
                    corners(energies, 1.0),
                    corners(&d_phi, h),
                    corners(&d_psi, h),
                    corners(&d_cross, h * h),
                )
            })
            .collect();
        Self { n, patches }
    }

    /// Energy and its derivatives with respect to φ and ψ (rad).
    pub fn at(&self, phi: f64, psi: f64) -> (f64, f64, f64) {
        let n = self.n;
        let h = TAU / n as f64;
        let cell = |a: f64| {
            let u = (a + PI).rem_euclid(TAU) / h;
            let k = (u.floor() as usize).min(n - 1);
            (k, u - k as f64)
        };
        let ((i, u), (j, v)) = (cell(phi), cell(psi));
        let c = &self.patches[i * n + j];
        let (mut e, mut du, mut dv) = (0.0, 0.0, 0.0);
        for a in (0..4).rev() {
            // Horner along v for each power of u.
            let (mut p, mut dp) = (0.0, 0.0);
            for b in (0..4).rev() {
                dp = dp * v + p;
                p = p * v + c[a + 4 * b];
            }
            du = du * u + e;
            e = e * u + p;
            dv = dv * u + dp;
        }
        (e, du / h, dv / h)
    }
}

/// The energy of every CMAP term, adding its forces to `f`.
pub fn energy_forces(
    maps: &[CmapGrid],
    terms: &[CmapTerm],
    x: &[[f64; 3]],
    f: &mut [[f64; 3]],
) -> f64 {
    let mut energy = 0.0;
    for t in terms {
        let [a, b, c, d, e] = t.atoms;
        let (phi, psi) = (dihedral(x, [a, b, c, d]), dihedral(x, [b, c, d, e]));
        let (u, du_dphi, du_dpsi) = maps[t.map].at(phi, psi);
        energy += u;
        add_dihedral_force(x, [a, b, c, d], du_dphi, f);
        add_dihedral_force(x, [b, c, d, e], du_dpsi, f);
    }
    energy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interpolant_passes_through_the_grid_and_its_slopes_are_its_derivatives() {
        let n = 24;
        let f = |p: f64, s: f64| (p).sin() * (2.0 * s).cos() + 0.3 * (p - s).cos();
        let h = TAU / n as f64;
        let energies: Vec<f64> = (0..n * n)
            .map(|k| f(-PI + (k / n) as f64 * h, -PI + (k % n) as f64 * h))
            .collect();
        let map = CmapGrid::new(n, &energies);
        for k in [0, 5, 77, 300, 575] {
            let (p, s) = (-PI + (k / n) as f64 * h, -PI + (k % n) as f64 * h);
            assert!((map.at(p, s).0 - energies[k]).abs() < 1e-12);
        }
        // Off the grid: close to the smooth function, and the slopes are derivatives.
        for (p, s) in [(0.3, -1.2), (2.9, 3.1), (-3.0, 0.01)] {
            let (e, dp, ds) = map.at(p, s);
            assert!((e - f(p, s)).abs() < 2e-3, "{e} vs {}", f(p, s));
            let d = 1e-6;
            let fd_p = (map.at(p + d, s).0 - map.at(p - d, s).0) / (2.0 * d);
            let fd_s = (map.at(p, s + d).0 - map.at(p, s - d).0) / (2.0 * d);
            assert!((dp - fd_p).abs() < 1e-6 && (ds - fd_s).abs() < 1e-6);
        }
        // Periodic: the same value a period apart.
        assert!((map.at(-3.1, 1.0).0 - map.at(-3.1 + TAU, 1.0).0).abs() < 1e-12);
    }
}
