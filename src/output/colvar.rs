//! PLUMED COLVAR files: a `#! FIELDS name …` header naming the columns, then one row of numbers
//! per record (further `#!` lines, such as `SET`, and `#` comments are skipped). Errors name the
//! file and the line.

use std::fmt::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// The columns of a COLVAR file.
#[derive(Debug, Clone, PartialEq)]
pub struct Colvar {
    /// Column names, in order.
    pub fields: Vec<String>,
    /// One row per record.
    pub rows: Vec<Vec<f64>>,
}

impl Colvar {
    /// Reads a COLVAR file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Parses COLVAR text read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let mut fields: Option<Vec<String>> = None;
        let mut rows = Vec::new();
        for (k, line) in text.lines().enumerate() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("#! FIELDS") {
                if fields.is_some() {
                    // PLUMED repeats the header on a restart: the columns must be the same.
                    let again: Vec<String> = rest.split_whitespace().map(String::from).collect();
                    if Some(&again) != fields.as_ref() {
                        return Err(Error::parse(
                            path,
                            format!("line {}: the FIELDS header changes mid-file", k + 1),
                        ));
                    }
                } else {
                    fields = Some(rest.split_whitespace().map(String::from).collect());
                }
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some(names) = &fields else {
                return Err(Error::parse(
                    path,
                    format!("line {}: data before the `#! FIELDS` header", k + 1),
                ));
            };
            let row: Vec<f64> = line
                .split_whitespace()
                .map(|v| match v.parse::<f64>() {
                    Ok(x) if x.is_finite() => Ok(x),
                    Ok(_) => Err(Error::parse(
                        path,
                        format!("line {}: `{v}` is not a finite number", k + 1),
                    )),
                    Err(_) => Err(Error::parse(
                        path,
                        format!("line {}: `{v}` is not a number", k + 1),
                    )),
                })
                .collect::<Result<_>>()?;
            if row.len() != names.len() {
                return Err(Error::parse(
                    path,
                    format!(
                        "line {}: {} values for {} fields ({})",
                        k + 1,
                        row.len(),
                        names.len(),
                        names.join(" ")
                    ),
                ));
            }
            rows.push(row);
        }
        let fields = fields.ok_or_else(|| Error::parse(path, "no `#! FIELDS` header"))?;
        Ok(Self { fields, rows })
    }

    /// The values of column `name`, or an error listing the columns (`path` names the file).
    pub fn column(&self, name: &str, path: &Path) -> Result<Vec<f64>> {
        let k = self.fields.iter().position(|f| f == name).ok_or_else(|| {
            Error::parse(
                path,
                format!(
                    "no column `{name}`; the FIELDS are {}",
                    self.fields.join(" ")
                ),
            )
        })?;
        Ok(self.rows.iter().map(|r| r[k]).collect())
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut text = format!("#! FIELDS {}\n", self.fields.join(" "));
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|v| format!("{v:.9}")).collect();
            let _ = writeln!(text, " {}", cells.join(" "));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colvar_reads_its_header_and_names_bad_lines() {
        let p = Path::new("COLVAR");
        let c = Colvar::parse(
            "#! FIELDS time phi psi metad.bias\n#! SET min_phi -pi\n 0 1 2 3\n 1 1.5 2.5 3.5\n",
            p,
        )
        .unwrap();
        assert_eq!(c.column("psi", p).unwrap(), vec![2.0, 2.5]);
        assert_eq!(Colvar::parse(&c.to_text(), p).unwrap(), c);
        let e = c.column("rbias", p).unwrap_err().to_string();
        assert!(e.contains("time phi psi metad.bias"), "{e}");
        let e = Colvar::parse("#! FIELDS a b\n1 2\n3\n", p)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3") && e.contains("1 values for 2 fields"),
            "{e}"
        );
        let e = Colvar::parse("1 2\n", p).unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
    }
}
