//! A system's frames read from a file a user gives: structures of its molecule, or points of
//! its surface.

use std::path::Path;

use super::System;
use crate::error::{Error, Result};
use crate::molecule::chfl;

impl System {
    /// The frames of `file`: a molecule's structures (checked against its topology, nm,
    /// flattened), or a surface's points (a DCD of pseudo-atoms as `tps sample` writes, or a
    /// CSV with a header).
    pub fn read_frames(&self, file: &Path) -> Result<Vec<Vec<f64>>> {
        if let Some(m) = &self.molecule {
            let s = chfl::read(file, &m.molecule.topology)?;
            if let Some(w) = s.warnings.first() {
                return Err(Error::Invalid(w.clone()));
            }
            return Ok(s
                .frames
                .into_iter()
                .map(|f| f.into_iter().flatten().collect())
                .collect());
        }
        let dim = self.file.dim();
        let is_csv = file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let points: Vec<Vec<f64>> = if is_csv {
            let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
            text.lines()
                .skip(1)
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(k, l)| {
                    let v: Vec<f64> = l
                        .split(',')
                        .map(|c| c.trim().parse::<f64>())
                        .collect::<std::result::Result<_, _>>()
                        .map_err(|_| {
                            Error::parse(file, format!("line {}: `{l}` is not numbers", k + 2))
                        })?;
                    if v.len() != dim || v.iter().any(|x| !x.is_finite()) {
                        return Err(Error::parse(
                            file,
                            format!(
                                "line {}: {} number(s); expected {dim} finite",
                                k + 2,
                                v.len()
                            ),
                        ));
                    }
                    Ok(v)
                })
                .collect::<Result<_>>()?
        } else {
            crate::output::trajectory::read_positions(file)?
                .into_iter()
                .map(|p| p[..dim.min(p.len())].to_vec())
                .collect()
        };
        if points.is_empty() {
            return Err(Error::parse(file, "holds no frame"));
        }
        Ok(points)
    }
}
