//! Reader for AMBER parameter/topology files (prmtop): `%FLAG` sections of fixed-width fields
//! described by their `%FORMAT`. Errors name the file, the line and the flag.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};

/// One `%FLAG` section: its fixed field width and its data lines (with 1-based line numbers).
struct Section {
    width: usize,
    lines: Vec<(usize, String)>,
    flag_line: usize,
}

/// A parsed prmtop: typed access to its sections.
pub struct Prmtop {
    source: String,
    sections: HashMap<String, Section>,
}

fn field_width(format: &str) -> Option<usize> {
    // e.g. (10I8), (5E16.8), (20a4), (1a80)
    let inner = format.trim().trim_start_matches('(').trim_end_matches(')');
    let pos = inner.find(|c: char| c.is_ascii_alphabetic())?;
    let rest = &inner[pos + 1..];
    let width = rest.split('.').next()?;
    width.parse().ok()
}

impl Prmtop {
    /// Reads a prmtop file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses prmtop text; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Self> {
        let mut sections: HashMap<String, Section> = HashMap::new();
        let mut current: Option<String> = None;
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            if let Some(flag) = line.strip_prefix("%FLAG") {
                let flag = flag.trim().to_string();
                sections.insert(
                    flag.clone(),
                    Section {
                        width: 0,
                        lines: Vec::new(),
                        flag_line: n,
                    },
                );
                current = Some(flag);
            } else if let Some(format) = line.strip_prefix("%FORMAT") {
                let flag = current.as_ref().ok_or_else(|| Error::Parse {
                    file: source.into(),
                    message: format!("line {n}: %FORMAT before any %FLAG"),
                })?;
                let width = field_width(format).ok_or_else(|| Error::Parse {
                    file: source.into(),
                    message: format!(
                        "line {n}, %FLAG {flag}: unreadable format `{}`",
                        format.trim()
                    ),
                })?;
                sections.get_mut(flag).expect("inserted").width = width;
            } else if line.starts_with('%') {
                continue; // %VERSION, %COMMENT
            } else if let Some(flag) = &current {
                sections
                    .get_mut(flag)
                    .expect("inserted")
                    .lines
                    .push((n, line.to_string()));
            }
        }
        if !sections.contains_key("POINTERS") {
            return Err(Error::Parse {
                file: source.into(),
                message: "not a prmtop: no %FLAG POINTERS".into(),
            });
        }
        Ok(Self {
            source: source.into(),
            sections,
        })
    }

    fn fields(&self, flag: &str) -> Result<Vec<(usize, String)>> {
        let s = self.sections.get(flag).ok_or_else(|| Error::Parse {
            file: self.source.clone(),
            message: format!("missing %FLAG {flag}"),
        })?;
        if s.width == 0 {
            return Err(Error::Parse {
                file: self.source.clone(),
                message: format!("line {}, %FLAG {flag}: no %FORMAT", s.flag_line),
            });
        }
        let mut out = Vec::new();
        for (n, line) in &s.lines {
            let chars: Vec<char> = line.chars().collect();
            for chunk in chars.chunks(s.width) {
                let f: String = chunk.iter().collect();
                if !f.trim().is_empty() {
                    out.push((*n, f));
                }
            }
        }
        Ok(out)
    }

    /// Integer fields of a section.
    pub fn ints(&self, flag: &str) -> Result<Vec<i64>> {
        self.fields(flag)?
            .into_iter()
            .map(|(n, f)| {
                f.trim().parse().map_err(|_| Error::Parse {
                    file: self.source.clone(),
                    message: format!("line {n}, %FLAG {flag}: `{}` is not an integer", f.trim()),
                })
            })
            .collect()
    }

    /// Floating-point fields of a section.
    pub fn floats(&self, flag: &str) -> Result<Vec<f64>> {
        self.fields(flag)?
            .into_iter()
            .map(|(n, f)| {
                f.trim().parse().map_err(|_| Error::Parse {
                    file: self.source.clone(),
                    message: format!("line {n}, %FLAG {flag}: `{}` is not a number", f.trim()),
                })
            })
            .collect()
    }

    /// String fields of a section (trimmed).
    pub fn strings(&self, flag: &str) -> Result<Vec<String>> {
        Ok(self
            .fields(flag)?
            .into_iter()
            .map(|(_, f)| f.trim().to_string())
            .collect())
    }

    /// Fails with a message naming `flag` unless `len` entries are present.
    pub fn expect_len<T>(&self, flag: &str, values: &[T], len: usize) -> Result<()> {
        if values.len() == len {
            Ok(())
        } else {
            Err(Error::Parse {
                file: self.source.clone(),
                message: format!(
                    "%FLAG {flag}: expected {len} entries, found {} (line {})",
                    values.len(),
                    self.sections.get(flag).map_or(0, |s| s.flag_line)
                ),
            })
        }
    }

    /// Whether the file has section `flag`.
    pub fn has(&self, flag: &str) -> bool {
        self.sections.contains_key(flag)
    }

    /// The file this came from.
    pub fn source(&self) -> &str {
        &self.source
    }
}
