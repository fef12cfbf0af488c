//! CSV tables.

use std::fmt::Write;
use std::path::Path;

use crate::atomic;
use crate::error::Result;

/// Writes a CSV with a header row and numeric rows, atomically.
pub fn write_csv(path: &Path, header: &[String], rows: &[Vec<f64>]) -> Result<()> {
    write_labelled_csv(path, header, &[], rows)
}

/// Writes a CSV whose first column is a label per row (`labels` may be empty: none) and the
/// rest numbers, atomically.
pub fn write_labelled_csv(
    path: &Path,
    header: &[String],
    labels: &[String],
    rows: &[Vec<f64>],
) -> Result<()> {
    let mut s = header.join(",");
    s.push('\n');
    for (k, row) in rows.iter().enumerate() {
        let cells: Vec<String> = labels
            .get(k)
            .cloned()
            .into_iter()
            .chain(row.iter().map(|v| format!("{v}")))
            .collect();
        let _ = writeln!(s, "{}", cells.join(","));
    }
    atomic::write(path, s.as_bytes())
}

/// Column names `prefix1 … prefixD`.
pub fn coordinate_names(prefix: &str, dim: usize) -> Vec<String> {
    (1..=dim).map(|k| format!("{prefix}{k}")).collect()
}
