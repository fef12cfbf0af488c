//! Optimal superposition (Kabsch): the rotation and translation that best fit one structure
//! onto another over chosen atoms (heavy atoms, so that fast hydrogen motion does not turn the
//! frame), the RMSD after it, and structures moved by it.

use nalgebra::{Matrix3, Vector3};

/// A rigid motion `x ↦ R (x − from) + to`.
#[derive(Debug, Clone, Copy)]
pub struct Superposition {
    rotation: Matrix3<f64>,
    from: Vector3<f64>,
    to: Vector3<f64>,
}

impl Superposition {
    /// The motion that best fits `moving` onto `target` over `atoms` (least squares).
    pub fn fit(moving: &[[f64; 3]], target: &[[f64; 3]], atoms: &[usize]) -> Self {
        let n = atoms.len() as f64;
        let centre = |x: &[[f64; 3]]| {
            atoms
                .iter()
                .fold(Vector3::zeros(), |c, &i| c + Vector3::from(x[i]))
                / n
        };
        let (from, to) = (centre(moving), centre(target));
        let h: Matrix3<f64> = atoms
            .iter()
            .map(|&i| {
                (Vector3::from(moving[i]) - from) * (Vector3::from(target[i]) - to).transpose()
            })
            .sum();
        let svd = h.svd(true, true);
        let (u, vt) = (svd.u.expect("u"), svd.v_t.expect("v_t"));
        let d = (vt.transpose() * u.transpose()).determinant().signum();
        let fix = Matrix3::from_diagonal(&Vector3::new(1.0, 1.0, d));
        Self {
            rotation: vt.transpose() * fix * u.transpose(),
            from,
            to,
        }
    }

    /// A point moved.
    pub fn apply(&self, p: [f64; 3]) -> [f64; 3] {
        let q = self.rotation * (Vector3::from(p) - self.from) + self.to;
        [q[0], q[1], q[2]]
    }

    /// A vector turned back by the inverse rotation.
    pub fn rotate_back(&self, v: [f64; 3]) -> [f64; 3] {
        let q = self.rotation.transpose() * Vector3::from(v);
        [q[0], q[1], q[2]]
    }

    /// A structure moved.
    pub fn apply_all(&self, x: &[[f64; 3]]) -> Vec<[f64; 3]> {
        x.iter().map(|p| self.apply(*p)).collect()
    }
}

/// `moving` superposed onto `target` over `atoms`.
pub fn align(moving: &[[f64; 3]], target: &[[f64; 3]], atoms: &[usize]) -> Vec<[f64; 3]> {
    Superposition::fit(moving, target, atoms).apply_all(moving)
}

/// RMSD between `a` and `b` over `atoms` after optimal rotation and translation (nm).
pub fn kabsch_rmsd(a: &[[f64; 3]], b: &[[f64; 3]], atoms: &[usize]) -> f64 {
    let moved = align(a, b, atoms);
    let sq: f64 = atoms
        .iter()
        .map(|&i| (0..3).map(|k| (moved[i][k] - b[i][k]).powi(2)).sum::<f64>())
        .sum();
    (sq / atoms.len() as f64).sqrt()
}

/// Structures as flat `3N` vectors (the Cartesian representation of a model) and back.
pub fn flatten(x: &[[f64; 3]]) -> Vec<f64> {
    x.iter().flatten().copied().collect()
}

/// A flat `3N` vector as a structure.
pub fn unflatten(v: &[f64]) -> Vec<[f64; 3]> {
    v.chunks(3).map(|c| [c[0], c[1], c[2]]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn structure() -> Vec<[f64; 3]> {
        (0..7)
            .map(|i| {
                let t = i as f64;
                [
                    0.1 * t.sin() + 0.03 * t,
                    0.2 * (1.3 * t).cos(),
                    0.05 * t * t - 0.1,
                ]
            })
            .collect()
    }

    #[test]
    fn a_rotated_and_shifted_copy_aligns_back_exactly() {
        let x = structure();
        let (c, s) = (0.7f64.cos(), 0.7f64.sin());
        let (c2, s2) = (1.9f64.cos(), 1.9f64.sin());
        let moved: Vec<[f64; 3]> = x
            .iter()
            .map(|p| {
                let r = [c * p[0] - s * p[1], s * p[0] + c * p[1], p[2]];
                let r = [r[0], c2 * r[1] - s2 * r[2], s2 * r[1] + c2 * r[2]];
                [r[0] + 1.0, r[1] - 2.0, r[2] + 0.5]
            })
            .collect();
        let all: Vec<usize> = (0..x.len()).collect();
        let back = align(&moved, &x, &all);
        for (p, q) in back.iter().zip(&x) {
            for k in 0..3 {
                assert!((p[k] - q[k]).abs() < 1e-12, "{p:?} vs {q:?}");
            }
        }
        assert!(kabsch_rmsd(&moved, &x, &all) < 1e-12);
        // A mirror image is not a rotation: it does not align.
        let mirror: Vec<[f64; 3]> = x.iter().map(|p| [-p[0], p[1], p[2]]).collect();
        assert!(kabsch_rmsd(&mirror, &x, &all) > 1e-3);
    }
}
