//! The one way `tps` reads its TOML files: parse errors name the file and the offending key and
//! line; relative paths inside a file are anchored to that file's directory; checks of values
//! report the file, the dotted field and what was expected.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Reads `path` and parses it into `T`; returns the value and the file's text.
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<(T, String)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let value = parse(&text, path)?;
    Ok((value, text))
}

/// Parses TOML `text` read from `path`.
pub fn parse<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T> {
    toml::from_str(text).map_err(|e| Error::parse(path, shorten_lines(&e.to_string())))
}

/// `relative` anchored to the directory of `file` (absolute paths are kept).
pub fn anchor(file: &Path, relative: &Path) -> PathBuf {
    if relative.is_absolute() {
        return relative.to_path_buf();
    }
    match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.join(relative),
        _ => relative.to_path_buf(),
    }
}

/// The longest line of a quoted file kept in a message: a parser's error quotes the line it
/// failed on, and a line can be megabytes long.
const QUOTED_LINE: usize = 160;

/// `message` with every line cut to [`QUOTED_LINE`] characters.
fn shorten_lines(message: &str) -> String {
    message
        .lines()
        .map(|l| match l.char_indices().nth(QUOTED_LINE) {
            Some((cut, _)) => format!(
                "{} … ({} more characters)",
                &l[..cut],
                l[cut..].chars().count()
            ),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A number as a person reads it: plain where that is short, else in scientific notation
/// (`1e300`, not three hundred digits).
pub fn number(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || !v.is_finite() || (1e-4..1e9).contains(&a) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// The most working memory a setting may ask for, bytes: settings above it are refused before
/// any work rather than failing mid-run on an allocation.
pub const MEMORY_LIMIT: f64 = 8e9;

/// Checks values of one file; every failure names the file and the field.
pub struct Checks<'a> {
    file: &'a Path,
}

impl<'a> Checks<'a> {
    /// Checks of values read from `file`.
    pub fn new(file: &'a Path) -> Self {
        Self { file }
    }

    /// Fails with `message` at `field` unless `ok`.
    pub fn require(&self, ok: bool, field: &str, message: &str) -> Result<()> {
        if ok {
            Ok(())
        } else {
            Err(Error::config(self.file, field, message))
        }
    }

    /// A finite value above zero.
    pub fn positive(&self, value: f64, field: &str) -> Result<()> {
        self.require(
            value > 0.0 && value.is_finite(),
            field,
            &format!("must be positive and finite (got {})", number(value)),
        )
    }

    /// A finite value of at least zero.
    pub fn non_negative(&self, value: f64, field: &str) -> Result<()> {
        self.require(
            value >= 0.0 && value.is_finite(),
            field,
            &format!("must be finite and at least 0 (got {})", number(value)),
        )
    }

    /// A finite value.
    pub fn finite(&self, value: f64, field: &str) -> Result<()> {
        self.require(
            value.is_finite(),
            field,
            &format!("must be finite (got {})", number(value)),
        )
    }

    /// A count of at least `min`.
    pub fn at_least(&self, value: usize, min: usize, field: &str) -> Result<()> {
        self.require(
            value >= min,
            field,
            &format!("must be at least {min} (got {value})"),
        )
    }

    /// Refuses a setting whose working memory, `bytes`, exceeds [`MEMORY_LIMIT`].
    pub fn memory(&self, bytes: f64, field: &str) -> Result<()> {
        self.require(
            bytes <= MEMORY_LIMIT,
            field,
            &format!(
                "would need about {:.1} GB of memory (tps refuses settings above {:.0} GB); \
                 lower it",
                bytes / 1e9,
                MEMORY_LIMIT / 1e9
            ),
        )
    }

    /// An error at `field`, for checks that need their own logic.
    pub fn error(&self, field: &str, message: impl Into<String>) -> Error {
        Error::config(self.file, field, message)
    }
}

#[cfg(test)]
mod tests {
    use super::{number, shorten_lines};

    #[test]
    fn numbers_and_quoted_lines_stay_readable() {
        assert_eq!(number(1e300), "1e300");
        assert_eq!(number(-2.5e-9), "-2.5e-9");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(f64::NAN), "NaN");
        let long = format!("x = {}", "9".repeat(50_000_000 / 1000));
        let short = shorten_lines(&format!("error\n{long}\nend"));
        assert!(short.len() < 300, "{}", short.len());
        assert!(short.contains("more characters") && short.ends_with("end"));
    }
}
