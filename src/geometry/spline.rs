//! Curves in spacetime: the straight line between fixed endpoints plus a natural cubic spline
//! that vanishes at both ends.
//!
//! The spline interpolates free node values at `n` equally spaced interior knots, with value 0
//! and second derivative 0 at the ends, so it is C² and linear in the node values: its values at
//! the curve's `N` sample points are `B · C` for a fixed `[N, n]` basis matrix `B`. The curve is
//! then `line + B · C`, one matrix product per evaluation.

use burn::tensor::{Device, Tensor};

use crate::compute;

/// Natural cubic spline basis on `[0, 1]` with `nodes` interior knots and zero ends.
#[derive(Debug, Clone)]
pub struct SplineBasis {
    nodes: usize,
    /// Second derivatives at all knots (ends included) for each unit node vector:
    /// `moments[j][i]` is `M_i` of basis function `j`.
    moments: Vec<Vec<f64>>,
}

impl SplineBasis {
    /// A basis with `nodes ≥ 1` interior knots at `j / (nodes + 1)`.
    pub fn new(nodes: usize) -> Self {
        assert!(nodes >= 1, "a spline needs at least one node");
        let h = 1.0 / (nodes + 1) as f64;
        let moments = (0..nodes)
            .map(|j| {
                // Knot values: 0 at the ends, e_j inside.
                let mut y = vec![0.0; nodes + 2];
                y[j + 1] = 1.0;
                let rhs: Vec<f64> = (1..=nodes)
                    .map(|i| 6.0 / (h * h) * (y[i - 1] - 2.0 * y[i] + y[i + 1]))
                    .collect();
                let inner = solve_tridiagonal_1_4_1(&rhs);
                let mut m = vec![0.0; nodes + 2];
                m[1..=nodes].copy_from_slice(&inner);
                m
            })
            .collect();
        Self { nodes, moments }
    }

    /// Number of interior knots (free nodes).
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// Knot position `i` (0 and `nodes + 1` are the ends).
    pub fn knot(&self, i: usize) -> f64 {
        i as f64 / (self.nodes + 1) as f64
    }

    /// Value, first and second derivative of every basis function at `t`, evaluated with the
    /// cubic of interval `piece` (`t` may sit on either end of that interval).
    pub fn evaluate_piece(&self, piece: usize, t: f64) -> [Vec<f64>; 3] {
        let h = 1.0 / (self.nodes + 1) as f64;
        let (t0, t1) = (self.knot(piece), self.knot(piece + 1));
        let (a, b) = (t1 - t, t - t0);
        let mut out = [
            vec![0.0; self.nodes],
            vec![0.0; self.nodes],
            vec![0.0; self.nodes],
        ];
        for (j, moments) in self.moments.iter().enumerate() {
            let y0 = f64::from(u8::from(piece == j + 1));
            let y1 = f64::from(u8::from(piece + 1 == j + 1));
            let (m0, m1) = (moments[piece], moments[piece + 1]);
            let c0 = y0 - m0 * h * h / 6.0;
            let c1 = y1 - m1 * h * h / 6.0;
            out[0][j] =
                m0 * a.powi(3) / (6.0 * h) + m1 * b.powi(3) / (6.0 * h) + (c0 * a + c1 * b) / h;
            out[1][j] = -m0 * a * a / (2.0 * h) + m1 * b * b / (2.0 * h) + (c1 - c0) / h;
            out[2][j] = (m0 * a + m1 * b) / h;
        }
        out
    }

    /// Basis values at `t ∈ [0, 1]`.
    pub fn values(&self, t: f64) -> Vec<f64> {
        let piece = ((t * (self.nodes + 1) as f64).floor() as usize).min(self.nodes);
        let [v, _, _] = self.evaluate_piece(piece, t);
        v
    }
}

/// Solves a small symmetric positive-definite system by Cholesky factorisation.
fn solve_symmetric(a: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
    let n = b.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            l[i][j] = if i == j {
                (a[i][i] - s).max(1e-300).sqrt()
            } else {
                (a[i][j] - s) / l[j][j]
            };
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        y[i] = (b[i] - (0..i).map(|k| l[i][k] * y[k]).sum::<f64>()) / l[i][i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        x[i] = (y[i] - (i + 1..n).map(|k| l[k][i] * x[k]).sum::<f64>()) / l[i][i];
    }
    x
}

/// Solves the `n × n` system with 4 on the diagonal and 1 off it (Thomas algorithm).
fn solve_tridiagonal_1_4_1(rhs: &[f64]) -> Vec<f64> {
    let n = rhs.len();
    let mut c = vec![0.0; n];
    let mut d = vec![0.0; n];
    for i in 0..n {
        let denom = 4.0 - if i > 0 { c[i - 1] } else { 0.0 };
        c[i] = 1.0 / denom;
        d[i] = (rhs[i] - if i > 0 { d[i - 1] } else { 0.0 }) / denom;
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        x[i] = d[i] - if i + 1 < n { c[i] * x[i + 1] } else { 0.0 };
    }
    x
}

/// A discretised spacetime curve family with fixed endpoints: `N` points at `s = i/(N−1)`.
#[derive(Debug, Clone)]
pub struct CurveGrid {
    start: Vec<f64>,
    end: Vec<f64>,
    points: usize,
    basis: SplineBasis,
    line: Tensor<2>,
    basis_matrix: Tensor<2>,
    /// Host copies of the line and basis matrix (row-major), for host-side terms.
    line_host: Vec<f64>,
    basis_host: Vec<f64>,
}

impl CurveGrid {
    /// Curves from `start` to `end` (each `(λ, x_1, …, x_D)`), `points ≥ 2`, `nodes ≥ 1`.
    pub fn new(start: &[f64], end: &[f64], points: usize, nodes: usize, device: &Device) -> Self {
        assert_eq!(start.len(), end.len(), "endpoints of different dimension");
        assert!(points >= 2, "a curve needs at least two points");
        let cols = start.len();
        let basis = SplineBasis::new(nodes);
        let mut line = Vec::with_capacity(points * cols);
        let mut b = Vec::with_capacity(points * nodes);
        for i in 0..points {
            let s = i as f64 / (points - 1) as f64;
            line.extend(start.iter().zip(end).map(|(a, e)| a + s * (e - a)));
            b.extend(basis.values(s));
        }
        Self {
            start: start.to_vec(),
            end: end.to_vec(),
            points,
            line: compute::matrix(&line, points, cols, device),
            basis_matrix: compute::matrix(&b, points, nodes, device),
            basis,
            line_host: line,
            basis_host: b,
        }
    }

    /// Number of sample points `N`.
    pub fn points(&self) -> usize {
        self.points
    }

    /// Number of spline nodes.
    pub fn nodes(&self) -> usize {
        self.basis.nodes()
    }

    /// Columns per point: `1 + D`.
    pub fn columns(&self) -> usize {
        self.start.len()
    }

    /// The fixed endpoints.
    pub fn endpoints(&self) -> (&[f64], &[f64]) {
        (&self.start, &self.end)
    }

    /// The spline basis.
    pub fn basis(&self) -> &SplineBasis {
        &self.basis
    }

    /// Curve points `first..=last` (`[last − first + 1, 1 + D]`) for node coefficients.
    pub fn evaluate_rows(&self, coefficients: Tensor<2>, first: usize, last: usize) -> Tensor<2> {
        let cols = self.columns();
        let nodes = self.nodes();
        self.line.clone().slice([first..last + 1, 0..cols])
            + self
                .basis_matrix
                .clone()
                .slice([first..last + 1, 0..nodes])
                .matmul(coefficients)
    }

    /// Curve points `[N, 1 + D]` for node coefficients `[nodes, 1 + D]`.
    pub fn evaluate(&self, coefficients: Tensor<2>) -> Tensor<2> {
        self.line.clone() + self.basis_matrix.clone().matmul(coefficients)
    }

    /// The coefficients whose curve is closest (least squares over the `N` points) to
    /// `targets` (`N` points `(λ, x…)`): a start that follows a known route.
    pub fn fit(&self, targets: &[Vec<f64>]) -> Vec<f64> {
        let (cols, nodes, n) = (self.columns(), self.nodes(), self.points);
        assert_eq!(targets.len(), n, "one target per curve point");
        // Normal equations BᵀB C = Bᵀ (T − L), one right-hand side per column.
        let mut btb = vec![vec![0.0; nodes]; nodes];
        let mut rhs = vec![vec![0.0; cols]; nodes];
        for (k, b) in self.basis_host.chunks(nodes).enumerate() {
            for i in 0..nodes {
                for j in 0..nodes {
                    btb[i][j] += b[i] * b[j];
                }
                for c in 0..cols {
                    rhs[i][c] += b[i] * (targets[k][c] - self.line_host[k * cols + c]);
                }
            }
        }
        let mut out = vec![0.0; nodes * cols];
        for c in 0..cols {
            let column: Vec<f64> = rhs.iter().map(|r| r[c]).collect();
            for (j, v) in solve_symmetric(&btb, &column).into_iter().enumerate() {
                out[j * cols + c] = v;
            }
        }
        out
    }

    /// Pulls a gradient with respect to the curve points (row-major `N × (1 + D)`) back to the
    /// coefficients: `Bᵀ G`, as the curve is linear in them.
    pub fn pull_back(&self, gradient: &[f64]) -> Vec<f64> {
        let (cols, nodes) = (self.columns(), self.nodes());
        let mut out = vec![0.0; nodes * cols];
        for (g, b) in gradient.chunks(cols).zip(self.basis_host.chunks(nodes)) {
            for (j, bj) in b.iter().enumerate() {
                for (o, gk) in out[j * cols..(j + 1) * cols].iter_mut().zip(g) {
                    *o += bj * gk;
                }
            }
        }
        out
    }
}
