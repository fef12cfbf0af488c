//! CSV tables.

use std::fmt::Write;
use std::path::Path;

use crate::atomic;
use crate::error::Result;

/// Writes a CSV with a header row and numeric rows, atomically.
pub fn write_csv(path: &Path, header: &[String], rows: &[Vec<f64>]) -> Result<()> {
    let mut s = header.join(",");
    s.push('\n');
    for row in rows {
        let cells: Vec<String> = row.iter().map(|v| format!("{v}")).collect();
        let _ = writeln!(s, "{}", cells.join(","));
    }
    atomic::write(path, s.as_bytes())
}

/// Column names `prefix1 … prefixD`.
pub fn coordinate_names(prefix: &str, dim: usize) -> Vec<String> {
    (1..=dim).map(|k| format!("{prefix}{k}")).collect()
}

/// A periodic `n × n` grid over `[−π, π)²` as `phi psi value` lines (φ fastest) under a `#`
/// header: the text format tabulated surfaces are read from.
pub fn angle_grid_text(header: &str, values: &[f64], n: usize) -> String {
    let h = std::f64::consts::TAU / n as f64;
    let mut text = format!("# {header}\n");
    for j in 0..n {
        for i in 0..n {
            let (phi, psi) = (
                -std::f64::consts::PI + i as f64 * h,
                -std::f64::consts::PI + j as f64 * h,
            );
            let _ = writeln!(text, "{phi:.9} {psi:.9} {:.6}", values[j * n + i]);
        }
    }
    text
}
