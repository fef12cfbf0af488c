//! A molecule's surface files, read on first use: a command that never reads a surface (energy,
//! md) is never stopped by a corrupt one, and each file is read once however often it is asked
//! for. Files `tps train` makes record their origin (the SHA-256 of the topology they were
//! made from) and are refused for another molecule.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::{Error, Result};
use crate::potential::Tabulated;

/// The comment line that records a surface's origin.
pub const ORIGIN: &str = "# origin: prmtop sha256 ";

/// A periodic surface file in the variables, read on first use.
#[derive(Debug)]
pub struct LazySurface {
    path: PathBuf,
    /// The topology hash the file must record, if it records one.
    prmtop_sha256: String,
    cell: OnceLock<std::result::Result<Option<Read>, String>>,
}

/// A surface as read, with the SHA-256 of its file's text.
#[derive(Debug)]
struct Read {
    surface: Tabulated,
    sha256: String,
}

impl LazySurface {
    /// The surface at `path`, which must come from the topology with `prmtop_sha256`.
    pub fn new(path: PathBuf, prmtop_sha256: &str) -> Self {
        Self {
            path,
            prmtop_sha256: prmtop_sha256.to_string(),
            cell: OnceLock::new(),
        }
    }

    /// Where it lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The surface, `None` if the file does not exist (yet); an error if it cannot be read or
    /// was made for another molecule.
    pub fn get(&self) -> Result<Option<&Tabulated>> {
        self.cell
            .get_or_init(|| self.read().map_err(|e| e.to_string()))
            .as_ref()
            .map(|r| r.as_ref().map(|r| &r.surface))
            .map_err(|e| Error::Surface(e.clone()))
    }

    /// The SHA-256 of the file as read, if it has been read and exists.
    pub fn sha256(&self) -> Option<&str> {
        match self.cell.get() {
            Some(Ok(Some(r))) => Some(&r.sha256),
            _ => None,
        }
    }

    fn read(&self) -> Result<Option<Read>> {
        if !self.path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&self.path).map_err(|e| Error::io(&self.path, e))?;
        match text.lines().find_map(|l| l.strip_prefix(ORIGIN)) {
            Some(origin) if origin.trim() != self.prmtop_sha256 => {
                return Err(Error::Surface(format!(
                    "{}: made from another topology (prmtop sha256 {}, this molecule's is {}); \
                     rerun `tps train`",
                    self.path.display(),
                    origin.trim(),
                    self.prmtop_sha256
                )));
            }
            Some(_) => {}
            None => tracing::debug!("{} records no origin", self.path.display()),
        }
        Ok(Some(Read {
            surface: Tabulated::parse(&text, &self.path.display().to_string(), true)?,
            sha256: crate::provenance::sha256(text.as_bytes()),
        }))
    }
}
